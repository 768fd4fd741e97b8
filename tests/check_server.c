/*
 * Unit tests of server/ parts that need no socket: the framing of incoming
 * messages, the argument rules, the request table, the event loop, and
 * whole connections driven through an in-memory transport (struct
 * conn_ops), which exercises ordering, throttling and the hard limit the
 * same way a socket or a ring would.
 */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "liveupdate/liveupdate.h"
#include "server/server-int.h"

/* ---- helpers -------------------------------------------------------------- */

static void
tst_msg(struct buf *b, uint32_t type, uint32_t req, uint32_t tx,
	const void *payload, uint32_t len)
{
	struct xsd_sockmsg h = { type, req, tx, len };

	buf_add(b, &h, sizeof(h));
	buf_add(b, payload, len);
}

/* An in-memory transport: input is a byte string, output is collected. */
struct mem_tp {
	struct buf in;
	size_t in_off;
	size_t chunk;		/* bytes per read; 0 = as asked */
	struct buf out;
	bool writable;
	bool eof;
	bool closed;
	bool want_rd, want_wr;
};

static int
mem_read(struct conn *c, void *buf, size_t len, size_t *done)
{
	struct mem_tp *t = c->tp;
	size_t n = t->in.len - t->in_off;

	if (n == 0 && t->eof)
		return -EPIPE;
	if (n > len)
		n = len;
	if (t->chunk && n > t->chunk)
		n = t->chunk;
	memcpy(buf, t->in.data + t->in_off, n);
	t->in_off += n;
	*done = n;
	return 0;
}

static int
mem_write(struct conn *c, const void *buf, size_t len, size_t *done)
{
	struct mem_tp *t = c->tp;

	*done = 0;
	if (!t->writable)
		return 0;
	buf_add(&t->out, buf, len);
	*done = len;
	return 0;
}

static bool
mem_can_read(struct conn *c)
{
	struct mem_tp *t = c->tp;

	return t->in_off < t->in.len || t->eof;
}

static bool
mem_can_write(struct conn *c)
{
	return ((struct mem_tp *)c->tp)->writable;
}

static void
mem_want(struct conn *c, bool rd, bool wr)
{
	struct mem_tp *t = c->tp;

	t->want_rd = rd;
	t->want_wr = wr;
}

static void
mem_close(struct conn *c)
{
	struct mem_tp *t = c->tp;

	t->closed = true;
	buf_free(&t->in);
	buf_free(&t->out);
}

static const struct conn_ops mem_ops = {
	.read = mem_read,
	.write = mem_write,
	.can_read = mem_can_read,
	.can_write = mem_can_write,
	.want = mem_want,
	.close = mem_close,
};

static const struct store_caller tst_dom0 = { 0, LXS_DOMID_INVALID, true };

static void
tst_event(void *conn_ctx, const char *path, const char *token)
{
	conn_event(conn_ctx, path, token);
}

static const struct store_cb tst_cb = { .watch_event = tst_event };

static struct server *
tst_server(void)
{
	struct server *srv = xcalloc(1, sizeof(*srv));

	TAILQ_INIT(&srv->conns);
	TAILQ_INIT(&srv->busy);
	srv->store = store_new(&tst_cb, srv, 0);
	srv->sigfd = -1;
	return srv;
}

static struct conn *
tst_conn(struct server *srv, struct mem_tp *t, unsigned int flags)
{
	memset(t, 0, sizeof(*t));
	t->writable = true;
	return conn_new(srv, &mem_ops, t, flags, &tst_dom0);
}

/* Splits the collected output into messages; returns how many. */
static unsigned int
tst_replies(const struct buf *out, struct xsd_sockmsg *hdrs,
	    const char **payloads, unsigned int max)
{
	size_t off = 0;
	unsigned int n = 0;

	while (off + LXS_HDR_SIZE <= out->len) {
		struct xsd_sockmsg h;

		memcpy(&h, out->data + off, sizeof(h));
		ck_assert_uint_le(off + LXS_HDR_SIZE + h.len, out->len);
		if (n < max) {
			hdrs[n] = h;
			payloads[n] = out->data + off + LXS_HDR_SIZE;
		}
		n++;
		off += LXS_HDR_SIZE + h.len;
	}
	ck_assert_uint_eq(off, out->len);
	return n;
}

/* ---- frame ---------------------------------------------------------------- */

START_TEST(test_server_frame_byte_by_byte)
{
	struct frame_in f;
	struct buf b = { 0 };
	enum frame_status st = FRAME_MORE;
	size_t used;

	tst_msg(&b, XS_WRITE, 7, 3, "/a\0xyz", 6);
	frame_in_reset(&f);
	for (size_t i = 0; i < b.len; i++) {
		ck_assert_int_eq(st, FRAME_MORE);
		st = frame_in_feed(&f, b.data + i, 1, &used);
		ck_assert_uint_eq(used, 1);
	}
	ck_assert_int_eq(st, FRAME_DONE);
	ck_assert_uint_eq(f.hdr.type, XS_WRITE);
	ck_assert_uint_eq(f.hdr.req_id, 7);
	ck_assert_uint_eq(f.hdr.tx_id, 3);
	ck_assert_uint_eq(f.hdr.len, 6);
	ck_assert_mem_eq(f.payload, "/a\0xyz", 6);
	ck_assert_int_eq(f.payload[6], '\0');
	buf_free(&b);
}
END_TEST

/* Every prefix of a message comes back out as it went in, and feeds back. */
START_TEST(test_server_frame_copy_gives_the_bytes_taken)
{
	struct frame_in f, g;
	struct buf b = { 0 };
	char out[64];
	size_t used;

	tst_msg(&b, XS_WRITE, 7, 3, "/a\0xyz", 6);
	for (size_t n = 0; n <= b.len; n++) {
		frame_in_reset(&f);
		(void)frame_in_feed(&f, b.data, n, &used);
		ck_assert_uint_eq(frame_in_copy(&f, out), n);
		ck_assert_mem_eq(out, b.data, n);
		frame_in_reset(&g);
		(void)frame_in_feed(&g, out, n, &used);
		ck_assert_uint_eq(g.got, n);
	}
	buf_free(&b);
}
END_TEST

START_TEST(test_server_frame_stops_at_message_end)
{
	struct frame_in f;
	struct buf b = { 0 };
	size_t used, first;

	tst_msg(&b, XS_READ, 1, 0, "/a", 3);
	first = b.len;
	tst_msg(&b, XS_RM, 2, 0, "/b", 3);
	tst_msg(&b, XS_TRANSACTION_START, 3, 0, "", 0);
	frame_in_reset(&f);
	ck_assert_int_eq(frame_in_feed(&f, b.data, b.len, &used), FRAME_DONE);
	ck_assert_uint_eq(used, first);
	ck_assert_str_eq(f.payload, "/a");
	frame_in_reset(&f);
	ck_assert_int_eq(frame_in_feed(&f, b.data + first, b.len - first,
				       &used), FRAME_DONE);
	ck_assert_uint_eq(f.hdr.req_id, 2);
	first += used;
	frame_in_reset(&f);
	/* A zero-length payload completes with its header. */
	ck_assert_int_eq(frame_in_feed(&f, b.data + first, b.len - first,
				       &used), FRAME_DONE);
	ck_assert_uint_eq(used, LXS_HDR_SIZE);
	ck_assert_uint_eq(f.hdr.type, XS_TRANSACTION_START);
	buf_free(&b);
}
END_TEST

START_TEST(test_server_frame_oversize_header)
{
	struct xsd_sockmsg h = { XS_WRITE, 1, 0, XENSTORE_PAYLOAD_MAX + 1 };
	char data[sizeof(h) + 32] = { 0 };
	struct frame_in f;
	size_t used;

	memcpy(data, &h, sizeof(h));
	frame_in_reset(&f);
	/* Reported as soon as the header is in; no payload byte is taken. */
	ck_assert_int_eq(frame_in_feed(&f, data, sizeof(data), &used),
			 FRAME_TOO_BIG);
	ck_assert_uint_eq(used, LXS_HDR_SIZE);

	h.len = UINT32_MAX;
	memcpy(data, &h, sizeof(h));
	frame_in_reset(&f);
	ck_assert_int_eq(frame_in_feed(&f, data, 15, &used), FRAME_MORE);
	ck_assert_int_eq(frame_in_feed(&f, data + 15, 1, &used),
			 FRAME_TOO_BIG);
}
END_TEST

START_TEST(test_server_frame_max_payload)
{
	static char payload[XENSTORE_PAYLOAD_MAX];
	struct buf b = { 0 };
	struct frame_in f;
	size_t used;

	memset(payload, 'x', sizeof(payload));
	tst_msg(&b, XS_WRITE, 1, 0, payload, sizeof(payload));
	frame_in_reset(&f);
	ck_assert_int_eq(frame_in_feed(&f, b.data, b.len, &used), FRAME_DONE);
	ck_assert_uint_eq(used, b.len);
	ck_assert_int_eq(f.payload[XENSTORE_PAYLOAD_MAX], '\0');
	buf_free(&b);
}
END_TEST

/* ---- argument rules and the table ---------------------------------------- */

static int
tst_args(const char *payload, uint32_t len, unsigned int min,
	 unsigned int max)
{
	const char *argv[4];
	struct op_req r = { .payload = payload, .len = len };

	return op_args(&r, min, max, argv);
}

START_TEST(test_server_args_rules)
{
	ck_assert_int_eq(tst_args("/a", 3, 1, 1), 1);
	ck_assert_int_eq(tst_args("/a", 2, 1, 1), -EINVAL);	/* no NUL */
	ck_assert_int_eq(tst_args("/a\0\0", 4, 1, 1), -EINVAL);	/* 2 strings */
	ck_assert_int_eq(tst_args("", 0, 1, 1), -EINVAL);
	ck_assert_int_eq(tst_args("", 1, 1, 1), 1);		/* "" */
	ck_assert_int_eq(tst_args("a\0b\0", 4, 2, 3), 2);
	ck_assert_int_eq(tst_args("a\0b\0c\0", 6, 2, 3), 3);
	ck_assert_int_eq(tst_args("a\0b\0c\0d\0", 8, 2, 3), -EINVAL);
	ck_assert_int_eq(tst_args("a\0b", 3, 1, 3), -EINVAL);	/* tail */
}
END_TEST

START_TEST(test_server_args_domid)
{
	uint32_t d;

	ck_assert_int_eq(op_parse_domid("0", &d), 0);
	ck_assert_uint_eq(d, 0);
	ck_assert_int_eq(op_parse_domid("65535", &d), 0);
	ck_assert_uint_eq(d, 65535);
	ck_assert_int_eq(op_parse_domid("65536", &d), -EINVAL);
	ck_assert_int_eq(op_parse_domid("-1", &d), -EINVAL);
	ck_assert_int_eq(op_parse_domid(" 1", &d), -EINVAL);
	ck_assert_int_eq(op_parse_domid("0x1", &d), -EINVAL);
	ck_assert_int_eq(op_parse_domid("", &d), -EINVAL);
}
END_TEST

START_TEST(test_server_table_types)
{
	static const uint32_t refused[] = {
		XS_WATCH_EVENT, XS_ERROR, 20, LXS_TYPE_COUNT, XS_INVALID,
		UINT32_MAX,
	};
	static const uint32_t mutating[] = {
		XS_WRITE, XS_MKDIR, XS_RM, XS_SET_PERMS, XS_INTRODUCE,
		XS_RELEASE, XS_RESUME, XS_SET_TARGET, XS_SET_FEATURE,
		XS_SET_QUOTA, XS_CONTROL,
	};
	unsigned int nmut = 0;

	for (size_t i = 0; i < LXS_ARRAY_SIZE(refused); i++)
		ck_assert_ptr_null(dispatch_lookup(refused[i]));
	for (size_t i = 0; i < LXS_ARRAY_SIZE(mutating); i++)
		ck_assert(dispatch_lookup(mutating[i])->flags & OP_MUTATES);
	for (uint32_t t = 0; t < LXS_TYPE_COUNT; t++) {
		const struct op_entry *op = dispatch_lookup(t);

		if (op == NULL)
			continue;
		ck_assert_str_eq(op->name, wire_type_name(t));
		if (op->flags & OP_MUTATES)
			nmut++;
	}
	/* Nothing else is refused on the read-only socket. */
	ck_assert_uint_eq(nmut, LXS_ARRAY_SIZE(mutating));
}
END_TEST

/* ---- loop ----------------------------------------------------------------- */

static int tst_fired;

static void
tst_on_timer(struct loop *l, uint64_t id, void *arg)
{
	tst_fired += *(int *)arg;
}

static void
tst_on_fd(struct loop *l, int fd, unsigned int mask, void *arg)
{
	char c;

	if (mask & LOOP_READ && read(fd, &c, 1) == 1)
		tst_fired += 100;
}

static void
tst_on_hook(struct loop *l, void *arg)
{
	tst_fired += 1000;
}

START_TEST(test_server_loop_timers_fds_hook)
{
	struct loop *l = loop_new();
	int one = 1, ten = 10, p[2];
	uint64_t t;

	ck_assert_ptr_nonnull(l);
	ck_assert_int_eq(pipe(p), 0);
	loop_set_before_sleep(l, tst_on_hook, NULL);
	loop_add_timer(l, 0, tst_on_timer, &one);
	t = loop_add_timer(l, 0, tst_on_timer, &ten);
	loop_del_timer(l, t);
	ck_assert_int_eq(loop_add_fd(l, p[0], LOOP_READ, tst_on_fd, NULL), 0);
	ck_assert_int_eq(loop_add_fd(l, p[0], LOOP_READ, tst_on_fd, NULL),
			 -EEXIST);
	ck_assert_int_eq(write(p[1], "x", 1), 1);
	tst_fired = 0;
	ck_assert_int_eq(loop_run_once(l, 1000), 0);
	ck_assert_int_eq(tst_fired, 1101);

	/* Interest off: the byte stays unread; deleted: no callback. */
	ck_assert_int_eq(write(p[1], "y", 1), 1);
	ck_assert_int_eq(loop_set_fd(l, p[0], 0), 0);
	tst_fired = 0;
	ck_assert_int_eq(loop_run_once(l, 0), 0);
	ck_assert_int_eq(tst_fired, 1000);
	ck_assert_int_eq(loop_set_fd(l, p[0], LOOP_READ), 0);
	loop_del_fd(l, p[0]);
	ck_assert_int_eq(loop_run_once(l, 0), 0);
	ck_assert_int_eq(tst_fired, 2000);
	loop_free(l);
	close(p[0]);
	close(p[1]);
}
END_TEST

/* ---- connections over the memory transport --------------------------------- */

START_TEST(test_server_conn_replies_in_order)
{
	struct server *srv = tst_server();
	struct xsd_sockmsg h[8];
	const char *p[8];
	struct mem_tp t;
	struct conn *c = tst_conn(srv, &t, 0);

	tst_msg(&t.in, XS_WRITE, 11, 0, "/a\0v1", 5);
	tst_msg(&t.in, XS_READ, 12, 0, "/a", 3);
	tst_msg(&t.in, XS_READ, 13, 0, "/nope", 6);
	tst_msg(&t.in, XS_READ, 14, 0, "/a", 2);	/* no NUL */
	tst_msg(&t.in, XS_WATCH_EVENT, 15, 0, "/a\0t\0", 5);
	tst_msg(&t.in, XS_READ, 16, 77, "/a", 3);	/* unknown tx */
	t.chunk = 1;			/* the transport hands out 1 byte */
	while (t.in_off < t.in.len && !c->dead)
		conn_handle_input(c);
	/* Queued, not written, until the flush. */
	ck_assert_uint_eq(t.out.len, 0);
	conn_flush(c);
	ck_assert_uint_eq(tst_replies(&t.out, h, p, 8), 6);
	ck_assert_uint_eq(h[0].type, XS_WRITE);
	ck_assert_mem_eq(p[0], "OK", 3);
	ck_assert_uint_eq(h[1].type, XS_READ);
	ck_assert_uint_eq(h[1].len, 2);
	ck_assert_mem_eq(p[1], "v1", 2);
	ck_assert_uint_eq(h[2].type, XS_ERROR);
	ck_assert_mem_eq(p[2], "ENOENT", 7);
	ck_assert_mem_eq(p[3], "EINVAL", 7);
	ck_assert_mem_eq(p[4], "ENOSYS", 7);
	ck_assert_mem_eq(p[5], "ENOENT", 7);
	ck_assert_uint_eq(h[5].tx_id, 77);
	for (int i = 0; i < 6; i++)
		ck_assert_uint_eq(h[i].req_id, 11u + (unsigned int)i);
	ck_assert(!c->dead);
	conn_free(c);
	store_free(srv->store);
	free(srv);
}
END_TEST

/*
 * The before-sleep pass looks only at busy connections: one joins the
 * list when it is given work (input, output, death) and leaves it once
 * the pass finds it with none; a dead one is reaped from it.
 */
START_TEST(test_server_busy_list)
{
	struct server *srv = tst_server();
	struct mem_tp t1, t2;
	struct conn *a = tst_conn(srv, &t1, 0), *b = tst_conn(srv, &t2, 0);
	struct xsd_sockmsg h[2];
	const char *p[2];

	ck_assert(a->busy && b->busy);
	server_before_sleep(NULL, srv);
	ck_assert(!a->busy && !b->busy);
	ck_assert(TAILQ_EMPTY(&srv->busy));

	/* A request: a joins while handling it; its reply leaves in the
	 * pass, which then lets it go. b, idle, is never looked at. */
	tst_msg(&t1.in, XS_WRITE, 1, 0, "/a\0v", 4);
	conn_handle_input(a);
	ck_assert(a->busy && !b->busy);
	ck_assert_uint_eq(t1.out.len, 0);
	server_before_sleep(NULL, srv);
	ck_assert_uint_eq(tst_replies(&t1.out, h, p, 2), 1);
	ck_assert_uint_eq(h[0].req_id, 1);
	ck_assert(!a->busy && !b->busy);

	/* Output queued from elsewhere (a watch event) makes b busy. */
	conn_event(b, "/a", "tok");
	ck_assert(b->busy);
	server_before_sleep(NULL, srv);
	ck_assert_uint_eq(tst_replies(&t2.out, h, p, 2), 1);
	ck_assert_uint_eq(h[0].type, XS_WATCH_EVENT);
	ck_assert(!b->busy);

	/* Dropped: reaped by the pass (and b with it, from the list). */
	conn_drop(a, "test");
	ck_assert(a->busy);
	server_before_sleep(NULL, srv);
	ck_assert_uint_eq(srv->nconns, 1);
	ck_assert(TAILQ_EMPTY(&srv->busy));
	conn_drop(b, NULL);
	conn_free(b);
	ck_assert(TAILQ_EMPTY(&srv->busy));
	store_free(srv->store);
	free(srv);
}
END_TEST

START_TEST(test_server_conn_readonly_refuses_mutations)
{
	struct server *srv = tst_server();
	struct xsd_sockmsg h[4];
	const char *p[4];
	struct mem_tp t;
	struct conn *c = tst_conn(srv, &t, CONN_READONLY);

	tst_msg(&t.in, XS_WRITE, 1, 0, "/a\0v", 4);
	tst_msg(&t.in, XS_READ, 2, 0, "/tool", 6);
	tst_msg(&t.in, XS_CONTROL, 3, 0, "check", 6);
	conn_handle_input(c);
	conn_flush(c);
	ck_assert_uint_eq(tst_replies(&t.out, h, p, 4), 3);
	ck_assert_mem_eq(p[0], "EACCES", 7);
	ck_assert_uint_eq(h[1].type, XS_READ);
	ck_assert_mem_eq(p[2], "EACCES", 7);
	conn_free(c);
	store_free(srv->store);
	free(srv);
}
END_TEST

START_TEST(test_server_conn_oversize_drops_only_it)
{
	struct server *srv = tst_server();
	struct mem_tp ta, tb;
	struct conn *a = tst_conn(srv, &ta, CONN_DROP_ON_OVERFLOW);
	struct conn *b = tst_conn(srv, &tb, CONN_DROP_ON_OVERFLOW);
	struct xsd_sockmsg big = { XS_WRITE, 1, 0, XENSTORE_PAYLOAD_MAX + 1 };

	buf_add(&ta.in, &big, sizeof(big));
	buf_add(&ta.in, "/x", 3);
	conn_handle_input(a);
	ck_assert(a->dead);
	ck_assert_uint_eq(ta.in_off, LXS_HDR_SIZE);
	tst_msg(&tb.in, XS_READ, 2, 0, "/tool", 6);
	conn_handle_input(b);
	conn_flush(b);
	ck_assert(!b->dead);
	ck_assert_uint_gt(tb.out.len, 0);
	conn_free(a);
	ck_assert(ta.closed);
	conn_free(b);
	store_free(srv->store);
	free(srv);
}
END_TEST

START_TEST(test_server_conn_input_paused_by_output)
{
	static char value[4000];
	struct server *srv = tst_server();
	struct mem_tp t;
	struct conn *c = tst_conn(srv, &t, CONN_DROP_ON_OVERFLOW);
	struct buf w = { 0 };
	size_t before;

	memset(value, 'v', sizeof(value));
	buf_add(&w, "/big", 5);
	buf_add(&w, value, sizeof(value));
	tst_msg(&t.in, XS_WRITE, 1, 0, w.data, (uint32_t)w.len);
	for (int i = 0; i < 1000; i++)
		tst_msg(&t.in, XS_READ, 2, 0, "/big", 5);
	t.writable = false;		/* the client reads nothing */
	for (int i = 0; i < 100; i++)
		conn_handle_input(c);
	ck_assert(conn_input_paused(c));
	ck_assert(!t.want_rd);
	ck_assert_uint_le(c->out_bytes, CONN_OUT_SOFT + LXS_HDR_SIZE + 4096);
	ck_assert_uint_lt(t.in_off, t.in.len);
	before = t.in_off;
	/* The client reads: input resumes. */
	t.writable = true;
	conn_flush(c);
	ck_assert(t.want_rd);
	conn_handle_input(c);
	ck_assert_uint_gt(t.in_off, before);
	ck_assert(!c->dead);
	buf_free(&w);
	conn_free(c);
	store_free(srv->store);
	free(srv);
}
END_TEST

/*
 * c (on transport t) watches /w with a token of TST_LONG_TOKEN - 1 't's
 * (written to token), then stops reading its output.
 */
#define TST_LONG_TOKEN 2000
static void
tst_watch_long_token(struct conn *c, struct mem_tp *t, char *token)
{
	struct buf w = { 0 };

	memset(token, 't', TST_LONG_TOKEN - 1);
	token[TST_LONG_TOKEN - 1] = '\0';
	buf_add(&w, "/w", 3);
	buf_add(&w, token, TST_LONG_TOKEN);
	tst_msg(&t->in, XS_WATCH, 1, 0, w.data, (uint32_t)w.len);
	conn_handle_input(c);
	t->writable = false;
	buf_free(&w);
}

START_TEST(test_server_conn_event_overflow_drops)
{
	struct server *srv = tst_server();
	struct mem_tp tw, tr;
	struct conn *watcher = tst_conn(srv, &tw, CONN_DROP_ON_OVERFLOW);
	struct conn *writer = tst_conn(srv, &tr, CONN_DROP_ON_OVERFLOW);
	char token[TST_LONG_TOKEN];
	int i;

	tst_watch_long_token(watcher, &tw, token);
	for (i = 0; i < 10000 && !watcher->dead; i++) {
		buf_reset(&tr.in);
		tr.in_off = 0;
		tst_msg(&tr.in, XS_WRITE, 2, 0, "/w\0x", 4);
		conn_handle_input(writer);
		conn_flush(writer);
		buf_reset(&tr.out);
		ck_assert_uint_le(watcher->out_bytes, CONN_OUT_HARD);
	}
	ck_assert(watcher->dead);
	ck_assert_uint_eq(watcher->out_bytes, 0);
	ck_assert_int_gt(i, (int)(CONN_OUT_HARD / (2 * sizeof(token))));
	ck_assert(!writer->dead);
	conn_free(watcher);
	conn_free(writer);
	store_free(srv->store);
	free(srv);
}
END_TEST

/*
 * A guest that does not read while dom0 fires its watch: events beyond its
 * memory quota are dropped (its queue stays bounded, XSA-326) and, once it
 * has read everything, its watch fires once on its own path.
 */
START_TEST(test_server_conn_guest_events_bounded)
{
	static const struct store_caller dom5 = { 5, LXS_DOMID_INVALID, false };
	struct server *srv = tst_server();
	struct mem_tp tg, tw;
	struct conn *guest, *writer = tst_conn(srv, &tw, CONN_DROP_ON_OVERFLOW);
	char token[TST_LONG_TOKEN];
	struct xsd_sockmsg h[2];
	const char *p[2];
	uint32_t quota;
	size_t off = 0, last = 0;
	unsigned int events = 0;
	int i;

	memset(&tg, 0, sizeof(tg));
	tg.writable = true;
	guest = conn_new(srv, &mem_ops, &tg, 0, &dom5);
	tst_msg(&tw.in, XS_WRITE, 1, 0, "/w\0x", 4);
	tst_msg(&tw.in, XS_SET_PERMS, 2, 0, "/w\0r0", 6);
	conn_handle_input(writer);
	conn_flush(writer);
	tst_watch_long_token(guest, &tg, token);
	ck_assert_int_eq(store_quota_get(srv->store, 5, STORE_QUOTA_MEMORY,
					 false, &quota), 0);
	for (i = 0; i < 3000; i++) {
		buf_reset(&tw.in);
		tw.in_off = 0;
		tst_msg(&tw.in, XS_WRITE, 3, 0, "/w\0y", 4);
		conn_handle_input(writer);
		conn_flush(writer);
		conn_flush(guest);
		buf_reset(&tw.out);
		ck_assert_uint_le(guest->out_bytes, quota);
	}
	ck_assert(!guest->dead);
	ck_assert_uint_gt(guest->events_dropped, 0);
	ck_assert(guest->events_lost);
	/* It reads again: what was queued, then its watch once more. */
	tg.writable = true;
	conn_flush(guest);
	ck_assert_uint_eq(guest->out_bytes, 0);
	ck_assert(!guest->events_lost);
	while (off + LXS_HDR_SIZE <= tg.out.len) {
		memcpy(h, tg.out.data + off, sizeof(h[0]));
		last = off;
		off += LXS_HDR_SIZE + h[0].len;
		events += h[0].type == XS_WATCH_EVENT;
	}
	ck_assert_uint_eq(off, tg.out.len);
	/* The reply to WATCH, the initial event, the kept ones, the catch-up. */
	ck_assert_uint_eq(events + guest->events_dropped, 3000 + 2);
	ck_assert_uint_eq(tst_replies(&tg.out, h, p, 1), events + 1);
	memcpy(h, tg.out.data + last, sizeof(h[0]));
	ck_assert_uint_eq(h[0].type, XS_WATCH_EVENT);
	ck_assert_mem_eq(tg.out.data + last + LXS_HDR_SIZE, "/w", 3);
	ck_assert_str_eq(tg.out.data + last + LXS_HDR_SIZE + 3, token);
	conn_free(guest);
	conn_free(writer);
	store_free(srv->store);
	free(srv);
}
END_TEST

START_TEST(test_server_conn_reply_too_big)
{
	struct server *srv = tst_server();
	struct xsd_sockmsg req = { XS_READ, 9, 0, 0 }, h[2];
	const char *p[2];
	static char big[XENSTORE_PAYLOAD_MAX + 1];
	struct mem_tp t;
	struct conn *c = tst_conn(srv, &t, 0);

	conn_reply(c, &req, XS_READ, big, sizeof(big));
	conn_reply(c, &req, XS_READ, big, sizeof(big) - 1);
	conn_flush(c);
	ck_assert_uint_eq(tst_replies(&t.out, h, p, 2), 2);
	ck_assert_uint_eq(h[0].type, XS_ERROR);
	ck_assert_uint_eq(h[0].req_id, 9);
	ck_assert_mem_eq(p[0], "E2BIG", 6);
	ck_assert_uint_eq(h[1].len, XENSTORE_PAYLOAD_MAX);
	conn_free(c);
	store_free(srv->store);
	free(srv);
}
END_TEST

/* ---- live update: connections set up before the pause ---------------------- */

/* The old daemon's side of EARLY, in a child: connections ids[] on fds. */
static void
tst_early_old(int ch, const uint32_t *ids, int (*k)[2], int n)
{
	struct lu_state st;
	uint64_t seq;
	enum lu_said said;
	char *why;

	lu_state_init(&st);
	for (int i = 0; i < n; i++) {
		struct lu_conn *lc = lu_state_add_conn(&st);

		lc->id = ids[i];
		lc->fd = k[i][0];
		lc->caller = tst_dom0;
	}
	if (lu_recv_ready(ch, &seq, &said, &why) < 0 ||
	    said != LU_SAID_EARLY || seq != 5 ||
	    lu_send_state(ch, &st) < 0)
		_exit(1);
	_exit(0);
}

START_TEST(test_server_lu_early_closes_unnamed)
{
	static const uint32_t ids[3] = { 7, 3, 9 };
	struct server *srv = tst_server();
	struct lu_early e = { 0 };
	struct conn *c;
	int ch[2], k[3][2], status;
	char *why = NULL, x;
	pid_t pid;

	srv->loop = loop_new();
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, ch), 0);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, k[i]), 0);
	pid = fork();
	if (pid == 0)
		tst_early_old(ch[0], ids, k, 3);
	close(ch[0]);
	/* The daemon's ends now live in the child, and come back over ch. */
	for (int i = 0; i < 3; i++)
		close(k[i][0]);
	ck_assert_int_eq(lu_early_adopt(srv, ch[1], 5, &e, &why), 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_uint_eq(e.n, 3);
	ck_assert_uint_eq(srv->nconns, 3);
	c = lu_early_take(&e, 7);
	ck_assert_ptr_nonnull(c);
	ck_assert_uint_eq(c->id, 7);
	ck_assert_ptr_null(lu_early_take(&e, 7));
	ck_assert_ptr_null(lu_early_take(&e, 8));
	ck_assert_ptr_nonnull(lu_early_take(&e, 9));
	/* 3 was not named by the handover: gone meanwhile, closed now. */
	lu_early_free(&e);
	ck_assert_uint_eq(srv->nconns, 2);
	ck_assert_int_eq(recv(k[1][1], &x, 1, MSG_DONTWAIT), 0);
	ck_assert_int_eq(recv(k[0][1], &x, 1, MSG_DONTWAIT), -1);
	ck_assert_int_eq(errno, EAGAIN);
	ck_assert_int_eq(recv(k[2][1], &x, 1, MSG_DONTWAIT), -1);
	while ((c = TAILQ_FIRST(&srv->conns)) != NULL)
		conn_free(c);
	ck_assert_int_eq(recv(k[0][1], &x, 1, MSG_DONTWAIT), 0);
	for (int i = 0; i < 3; i++)
		close(k[i][1]);
	close(ch[1]);
	loop_free(srv->loop);
	store_free(srv->store);
	free(srv);
}
END_TEST

static Suite *
server_suite(void)
{
	Suite *s = suite_create("server");
	TCase *core = tcase_create("core");
	TCase *limits = tcase_create("limits");

	tcase_add_test(core, test_server_frame_byte_by_byte);
	tcase_add_test(core, test_server_frame_stops_at_message_end);
	tcase_add_test(core, test_server_frame_copy_gives_the_bytes_taken);
	tcase_add_test(core, test_server_args_rules);
	tcase_add_test(core, test_server_args_domid);
	tcase_add_test(core, test_server_table_types);
	tcase_add_test(core, test_server_loop_timers_fds_hook);
	tcase_add_test(core, test_server_conn_replies_in_order);
	tcase_add_test(core, test_server_busy_list);
	tcase_add_test(core, test_server_conn_readonly_refuses_mutations);
	tcase_add_test(core, test_server_lu_early_closes_unnamed);
	suite_add_tcase(s, core);

	tcase_add_test(limits, test_server_frame_oversize_header);
	tcase_add_test(limits, test_server_frame_max_payload);
	tcase_add_test(limits, test_server_conn_oversize_drops_only_it);
	tcase_add_test(limits, test_server_conn_input_paused_by_output);
	tcase_add_test(limits, test_server_conn_event_overflow_drops);
	tcase_add_test(limits, test_server_conn_guest_events_bounded);
	tcase_add_test(limits, test_server_conn_reply_too_big);
	tcase_set_timeout(limits, 60);
	suite_add_tcase(s, limits);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(server_suite());
	int failed;

	log_open("check_server", true);
	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
