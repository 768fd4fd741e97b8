/*
 * request-fuzzer: whole requests through the server, from several clients
 * at once, over an in-memory transport (struct conn_ops, the way
 * tests/check_server.c drives connections).
 *
 * Clients ("slots"), re-created after they are dropped or closed:
 *   0  socket:    privileged dom0, dropped on event overflow
 *   1  socket_ro: privileged, read-only
 *   2  guest 1:   unprivileged domain 1, owns /local/domain/1
 *   3  guest 2:   unprivileged domain 2 with SET_TARGET 1
 *   4  guest 3:   unprivileged domain 3
 *   5  guest 1 again, a second connection of the same domain
 * Each input starts from a small host-like tree (rq_seed_tree).
 *
 * Input: a sequence of actions. Byte a: slot = (a & 7) (6, 7: slots 0, 2),
 * kind = a >> 3:
 *   0..15   one message: type (1) mod 32, tx (1: below 200 none, else
 *           tx - 200), len (2) mod 4097, payload
 *   16..19  raw bytes: n (1), then n bytes of the stream as they are
 *   20..21  a header with any len (4), payload bytes taken from the input
 *           up to that len: messages left half-sent, oversized lengths
 *   22      the client stops or starts reading its replies
 *   23      end of a loop iteration: flush outputs, reap dropped clients
 *   24      the client closes its connection
 *   25, 26  @introduceDomain / @releaseDomain fire for a domid (1)
 *   27      domain 4 + (1) % 8 is gone (store_domain_gone; bit 7: keep)
 *   28      the client's target changes (SET_TARGET as a guest sees it)
 *   29..31  one message in the slot's newest transaction
 * The bytes "logfile" and "memreport\0<arg>" are defused on the way in:
 * those CONTROL commands would write files.
 *
 * Invariants, checked after every action or at the end:
 *   - store_check() finds nothing;
 *   - every committed change, as its log record (wal_encode_mutation),
 *     replays into a shadow store (wal_apply_mutation) without error, and
 *     the shadow ends up with the same tree;
 *   - every client's output is whole, well-formed messages (len <= 4096):
 *     one reply per request, in request order, echoing req_id and tx_id,
 *     typed as the request or ERROR with a known error name; watch events
 *     carry two strings;
 *   - a client is dropped only after an oversized header, or (sockets)
 *     for event overflow; every client's queue stays within
 *     CONN_OUT_HARD plus one request's output;
 *   - when everyone reads again, every whole request gets its reply.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "fuzz/fuzz-util.h"
#include "server/server-int.h"
#include "wal/wal.h"

#define RQ_SLOTS	6
#define RQ_MAX_STEPS	64	/* handle_input rounds per action */

/* An in-memory transport. */
struct rq_tp {
	struct buf in;
	size_t in_off;
	struct buf out;
	bool writable;
	bool eof;
	bool closed;
};

/* What a slot's client sent, framed independently of frame.c. */
struct rq_expect {
	uint32_t type, req_id, tx_id;
};

struct rq_slot {
	struct conn *c;
	struct rq_tp *tp;
	struct store_caller caller;
	unsigned int flags;
	/* Reference framing of the input stream. */
	unsigned char hdr[LXS_HDR_SIZE];
	uint32_t hdr_got;
	uint32_t payload_left;
	bool too_big;			/* an oversized header was sent */
	struct rq_expect *exp;
	size_t nexp, capexp, exp_head;
	/* Output parsing. */
	size_t out_off;
	uint32_t txids[16];		/* ids from TRANSACTION_START replies */
	unsigned int ntx;
	/* Last bytes sent, to defuse commands split across chunks. */
	char tail[12];
	size_t ntail;
	uint32_t next_req;
};

static struct server rq_srv;
static struct rq_slot rq_slots[RQ_SLOTS];
static struct store *rq_shadow;
static struct buf rq_enc;
/* LXS_FUZZ_TRACE=1: every message a client receives, on stderr. */
static bool rq_trace;

/* ---- transport ----------------------------------------------------------- */

static int
rq_read(struct conn *c, void *buf, size_t len, size_t *done)
{
	struct rq_tp *t = c->tp;
	size_t n = t->in.len - t->in_off;

	if (n == 0 && t->eof)
		return -EPIPE;
	if (n > len)
		n = len;
	memcpy(buf, t->in.data + t->in_off, n);
	t->in_off += n;
	*done = n;
	if (t->in_off == t->in.len) {
		buf_reset(&t->in);
		t->in_off = 0;
	}
	return 0;
}

static int
rq_write(struct conn *c, const void *buf, size_t len, size_t *done)
{
	struct rq_tp *t = c->tp;

	*done = 0;
	if (!t->writable)
		return 0;
	buf_add(&t->out, buf, len);
	*done = len;
	return 0;
}

static bool
rq_can_read(struct conn *c)
{
	struct rq_tp *t = c->tp;

	return t->in_off < t->in.len || t->eof;
}

static bool
rq_can_write(struct conn *c)
{
	return ((struct rq_tp *)c->tp)->writable;
}

static void
rq_want(struct conn *c, bool rd, bool wr)
{
}

static void
rq_close(struct conn *c)
{
	((struct rq_tp *)c->tp)->closed = true;
}

static const struct conn_ops rq_ops = {
	.read = rq_read,
	.write = rq_write,
	.can_read = rq_can_read,
	.can_write = rq_can_write,
	.want = rq_want,
	.close = rq_close,
};

/* ---- store callbacks: events to connections, records to the shadow ---- */

static void
rq_on_event(void *conn_ctx, const char *path, const char *token)
{
	conn_event(conn_ctx, path, token);
}

static void
rq_on_mutation(void *ctx, const struct store_mutation *m)
{
	int rc;

	durable_mutation(rq_srv.dur, m);
	buf_reset(&rq_enc);
	wal_encode_mutation(m, &rq_enc);
	rc = wal_apply_mutation(rq_shadow, rq_enc.data, (uint32_t)rq_enc.len);
	FZ_ASSERT(rc == 0, "a committed change (%u ops, first %s) does not "
		  "replay: %d", m->nops, m->nops ? m->ops[0].path : "-", rc);
}

static const struct store_cb rq_cb = {
	.watch_event = rq_on_event, .mutation = rq_on_mutation,
};

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fz_server_init(&rq_srv, "lxs-request-fuzzer");
	rq_trace = getenv("LXS_FUZZ_TRACE") != NULL;
	return 0;
}

/* ---- slots ---------------------------------------------------------------- */

static void
rq_slot_open(unsigned int i)
{
	static const struct {
		struct store_caller caller;
		unsigned int flags;
	} kinds[RQ_SLOTS] = {
		{ { 0, LXS_DOMID_INVALID, true }, CONN_DROP_ON_OVERFLOW },
		{ { 0, LXS_DOMID_INVALID, true },
		  CONN_READONLY | CONN_DROP_ON_OVERFLOW },
		{ { 1, LXS_DOMID_INVALID, false }, 0 },
		{ { 2, 1, false }, 0 },
		{ { 3, LXS_DOMID_INVALID, false }, 0 },
		{ { 1, LXS_DOMID_INVALID, false }, 0 },
	};
	struct rq_slot *s = &rq_slots[i];

	memset(s, 0, sizeof(*s));
	s->caller = kinds[i].caller;
	s->flags = kinds[i].flags;
	s->tp = xcalloc(1, sizeof(*s->tp));
	s->tp->writable = true;
	s->c = conn_new(&rq_srv, &rq_ops, s->tp, s->flags, &s->caller);
	s->next_req = 1;
}

static void
rq_slot_free(struct rq_slot *s)
{
	if (s->c)
		conn_free(s->c);
	if (s->tp) {
		buf_free(&s->tp->in);
		buf_free(&s->tp->out);
		free(s->tp);
	}
	free(s->exp);
	memset(s, 0, sizeof(*s));
}

/* ---- the reference framing of what a client sends ------------------------ */

static void
rq_expect_push(struct rq_slot *s, const struct xsd_sockmsg *h)
{
	if (s->nexp == s->capexp) {
		s->capexp = s->capexp ? 2 * s->capexp : 16;
		s->exp = xrealloc(s->exp, s->capexp * sizeof(*s->exp));
	}
	s->exp[s->nexp].type = h->type;
	s->exp[s->nexp].req_id = h->req_id;
	s->exp[s->nexp].tx_id = h->tx_id;
	s->nexp++;
}

static void
rq_track(struct rq_slot *s, const unsigned char *p, size_t n)
{
	while (n && !s->too_big) {
		struct xsd_sockmsg h;

		if (s->hdr_got < LXS_HDR_SIZE) {
			size_t k = LXS_HDR_SIZE - s->hdr_got;

			if (k > n)
				k = n;
			memcpy(s->hdr + s->hdr_got, p, k);
			s->hdr_got += (uint32_t)k;
			p += k;
			n -= k;
			if (s->hdr_got < LXS_HDR_SIZE)
				return;
			memcpy(&h, s->hdr, sizeof(h));
			if (h.len > XENSTORE_PAYLOAD_MAX) {
				s->too_big = true;
				return;
			}
			s->payload_left = h.len;
		}
		if (s->payload_left) {
			size_t k = n < s->payload_left ? n : s->payload_left;

			s->payload_left -= (uint32_t)k;
			p += k;
			n -= k;
		}
		/* A whole message: the server owes it a reply. */
		if (s->payload_left == 0) {
			memcpy(&h, s->hdr, sizeof(h));
			rq_expect_push(s, &h);
			s->hdr_got = 0;
		}
	}
}

/*
 * CONTROL logfile and memreport <file> write files: break every
 * occurrence of those bytes in the stream, also across chunks, before
 * they go in ("logfile" loses its last letter; an argument after
 * "memreport\0" becomes empty, so the report is only answered).
 */
static void
rq_defuse(struct rq_slot *s, unsigned char *p, size_t n)
{
	static const char lf[] = "logfile", mr[] = "memreport";
	const size_t lfl = sizeof(lf) - 1, mrl = sizeof(mr) - 1;
	size_t hn = s->ntail + n, keep;
	char *h = xmalloc(hn);

	memcpy(h, s->tail, s->ntail);
	memcpy(h + s->ntail, p, n);
	for (size_t i = s->ntail; i < hn; i++) {
		if (i + 1 >= lfl && memcmp(h + i + 1 - lfl, lf, lfl) == 0)
			h[i] = 'X';
		if (i >= mrl + 1 && h[i] != '\0' && h[i - 1] == '\0' &&
		    memcmp(h + i - 1 - mrl, mr, mrl) == 0)
			h[i] = '\0';
	}
	memcpy(p, h + s->ntail, n);
	keep = hn < sizeof(s->tail) ? hn : sizeof(s->tail);
	memcpy(s->tail, h + hn - keep, keep);
	s->ntail = keep;
	free(h);
}

static void
rq_send(struct rq_slot *s, unsigned char *p, size_t n)
{
	if (n == 0 || s->c->dead || s->tp->eof)
		return;
	rq_defuse(s, p, n);
	buf_add(&s->tp->in, p, n);
	rq_track(s, p, n);
}

/* ---- output checks --------------------------------------------------------- */

static void
rq_trace_msg(unsigned int slot, const struct xsd_sockmsg *h, const char *p)
{
	const char *name = wire_type_name(h->type);

	fprintf(stderr, "slot %u <- %s r%u t%u ", slot, name ? name : "?",
		h->req_id, h->tx_id);
	for (uint32_t i = 0; i < h->len && i < 120; i++)
		fputc(p[i] == '\0' ? '|' : (p[i] < 32 || p[i] > 126) ? '.' : p[i],
		      stderr);
	fputc('\n', stderr);
}

static void
rq_check_output(struct rq_slot *s, unsigned int slot)
{
	struct buf *out = &s->tp->out;

	while (out->len - s->out_off >= LXS_HDR_SIZE) {
		struct xsd_sockmsg h;
		const char *p;

		memcpy(&h, out->data + s->out_off, sizeof(h));
		FZ_ASSERT(h.len <= XENSTORE_PAYLOAD_MAX,
			  "slot %u: message of %u bytes sent", slot, h.len);
		if (out->len - s->out_off - LXS_HDR_SIZE < h.len)
			break;
		p = out->data + s->out_off + LXS_HDR_SIZE;
		if (rq_trace)
			rq_trace_msg(slot, &h, p);
		if (h.type == XS_WATCH_EVENT) {
			uint32_t tail;

			FZ_ASSERT(h.req_id == 0 && h.tx_id == 0 &&
				  wire_split(p, h.len, NULL, 0, &tail) == 2 &&
				  tail == 0, "slot %u: malformed event", slot);
		} else {
			const struct rq_expect *e;

			FZ_ASSERT(s->exp_head < s->nexp,
				  "slot %u: reply type %u without a request",
				  slot, h.type);
			e = &s->exp[s->exp_head++];
			FZ_ASSERT(h.req_id == e->req_id && h.tx_id == e->tx_id,
				  "slot %u: reply r%u t%u to request r%u t%u",
				  slot, h.req_id, h.tx_id, e->req_id, e->tx_id);
			FZ_ASSERT(h.type == e->type || h.type == XS_ERROR,
				  "slot %u: reply type %u to request type %u",
				  slot, h.type, e->type);
			if (h.type == XS_ERROR) {
				FZ_ASSERT(h.len >= 2 && p[h.len - 1] == '\0' &&
					  memchr(p, '\0', h.len) == p + h.len - 1 &&
					  wire_error_value(p) != 0,
					  "slot %u: bad error reply", slot);
			} else if (h.type == XS_TRANSACTION_START) {
				unsigned long id;

				FZ_ASSERT(h.len >= 2 && p[h.len - 1] == '\0' &&
					  parse_uint(p, UINT32_MAX, &id) == 0 &&
					  id != 0, "slot %u: bad transaction id",
					  slot);
				s->txids[s->ntx++ % LXS_ARRAY_SIZE(s->txids)] =
					(uint32_t)id;
			}
		}
		s->out_off += LXS_HDR_SIZE + h.len;
	}
	if (s->out_off == out->len) {
		buf_reset(out);
		s->out_off = 0;
	}
}

/* Drives one slot's input as far as it goes now. */
static void
rq_pump(struct rq_slot *s)
{
	for (int i = 0; i < RQ_MAX_STEPS && !s->c->dead; i++) {
		size_t left = s->tp->in.len - s->tp->in_off;

		if (!rq_can_read(s->c) || conn_input_paused(s->c))
			break;
		conn_handle_input(s->c);
		if (s->tp->in.len - s->tp->in_off == left && !s->tp->eof)
			break;
	}
}

/* The end of a loop iteration: what server.c's before-sleep hook does. */
static void
rq_iteration_end(void)
{
	for (unsigned int i = 0; i < RQ_SLOTS; i++) {
		struct rq_slot *s = &rq_slots[i];

		if (s->c == NULL)
			continue;
		if (!s->c->dead && s->c->out_bytes)
			conn_flush(s->c);
		rq_check_output(s, i);
		/*
		 * Every client's queue is bounded (XSA-326): a socket client
		 * is dropped at CONN_OUT_HARD, events beyond it (or beyond its
		 * memory quota) are not queued for a guest. Privileged
		 * non-socket clients (dom0's kernel ring) are trusted.
		 */
		if ((s->c->flags & CONN_DROP_ON_OVERFLOW) ||
		    !store_conn_caller(s->c->sc)->priv)
			FZ_ASSERT(s->c->out_bytes <= CONN_OUT_HARD +
				  2 * (LXS_HDR_SIZE + XENSTORE_PAYLOAD_MAX),
				  "slot %u: %zu bytes queued", i,
				  s->c->out_bytes);
		if (s->c->dead) {
			/* Dropped: after an oversized header, at EOF, or a
			 * socket client not reading its events. */
			FZ_ASSERT(s->too_big || s->tp->eof ||
				  (s->flags & CONN_DROP_ON_OVERFLOW),
				  "slot %u dropped for no reason", i);
			rq_slot_free(s);
			rq_slot_open(i);
		}
	}
}

/* ---- the initial tree ------------------------------------------------------ */

static void
rq_seed_tree(struct store *st)
{
	static const struct store_caller dom0 = { 0, LXS_DOMID_INVALID, true };
	static const struct {
		const char *path;
		const char *perms;
	} nodes[] = {
		{ "/local/domain/0", "n0" },
		{ "/local/domain/1", "n1,r3" },
		{ "/local/domain/1/device/vif/0/state", "n1,r0" },
		{ "/local/domain/2", "n2" },
		{ "/local/domain/3", "n3" },
		{ "/local/domain/0/backend/vif/1/0/state", "n0,r1" },
		{ "/vm/guest1", "r0,w1" },
	};
	struct store_conn *c = store_conn_new(st, &dom0, NULL);

	for (size_t i = 0; i < LXS_ARRAY_SIZE(nodes); i++) {
		struct store_perm perms[4];
		char *copy = xstrdup(nodes[i].perms), *save = NULL;
		uint32_t n = 0;

		for (char *t = strtok_r(copy, ",", &save); t && n < 4;
		     t = strtok_r(NULL, ",", &save))
			FZ_ASSERT(store_perm_parse(t, &perms[n++]) == 0, "perm");
		FZ_ASSERT(store_write(c, 0, nodes[i].path, "4", 1) == 0, "seed");
		FZ_ASSERT(store_set_perms(c, 0, nodes[i].path, perms, n) == 0,
			  "seed perms");
		free(copy);
	}
	store_conn_free(c);
}

/* ---- actions ---------------------------------------------------------------- */

static void
rq_message(struct rq_slot *s, struct fz_in *in, bool in_txn, bool any_len)
{
	struct xsd_sockmsg h = { 0 };
	struct buf b = { 0 };
	const uint8_t *p;
	size_t got, want;
	uint8_t tx;

	h.type = fz_u8(in) % 32;
	tx = fz_u8(in);
	if (in_txn && s->ntx)
		h.tx_id = s->txids[(s->ntx - 1) % LXS_ARRAY_SIZE(s->txids)];
	else
		h.tx_id = tx < 200 ? 0 : tx - 200;	/* mostly none */
	h.req_id = s->next_req++;
	if (any_len) {
		h.len = fz_u32(in);
		want = h.len < 4200 ? h.len : 64;
	} else {
		want = fz_u16(in) % (XENSTORE_PAYLOAD_MAX + 1);
	}
	p = fz_take(in, want, &got);
	if (!any_len)
		h.len = (uint32_t)got;
	buf_add(&b, &h, sizeof(h));
	buf_add(&b, p, got);
	rq_send(s, (unsigned char *)b.data, b.len);
	buf_free(&b);
}

static void
rq_action(struct fz_in *in)
{
	static const unsigned int slot_of[8] = { 0, 1, 2, 3, 4, 5, 0, 2 };
	uint8_t a = fz_u8(in);
	unsigned int slot = slot_of[a & 7], kind = a >> 3;
	struct rq_slot *s = &rq_slots[slot];

	if (kind < 16) {
		rq_message(s, in, false, false);
	} else if (kind < 20) {
		unsigned char copy[256];
		size_t got;
		const uint8_t *p = fz_take(in, fz_u8(in), &got);

		memcpy(copy, p, got);
		rq_send(s, copy, got);
	} else if (kind < 22) {
		rq_message(s, in, false, true);
	} else if (kind == 22) {
		s->tp->writable = !s->tp->writable;
	} else if (kind == 23) {
		rq_iteration_end();
	} else if (kind == 24) {
		s->tp->eof = true;
	} else if (kind == 25 || kind == 26) {
		store_fire_special(rq_srv.store, kind == 25 ? "@introduceDomain"
							   : "@releaseDomain",
				   fz_u8(in));
	} else if (kind == 27) {
		uint8_t d = fz_u8(in);

		/* Domains 4..11 have no connection that could still use them. */
		store_domain_gone(rq_srv.store, 4 + (d & 7), (d & 0x80) != 0);
	} else if (kind == 28) {
		uint8_t t = fz_u8(in);

		if (!s->caller.priv) {
			s->caller.target = t % 5 == 4 ? LXS_DOMID_INVALID : t % 5;
			store_conn_set_caller(s->c->sc, &s->caller);
		}
	} else {
		rq_message(s, in, true, false);
	}
	for (unsigned int i = 0; i < RQ_SLOTS; i++)
		rq_pump(&rq_slots[i]);
	fz_store_check(rq_srv.store, "after an action");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	int round;

	rq_shadow = store_new(NULL, NULL, 0);
	rq_srv.store = store_new(&rq_cb, &rq_srv, 0);
	rq_seed_tree(rq_srv.store);
	for (unsigned int i = 0; i < RQ_SLOTS; i++)
		rq_slot_open(i);

	while (in.n)
		rq_action(&in);

	/* Everyone reads again: every whole request must be answered. */
	for (unsigned int i = 0; i < RQ_SLOTS; i++)
		rq_slots[i].tp->writable = true;
	for (round = 0; round < 10000; round++) {
		bool busy = false;

		rq_iteration_end();
		for (unsigned int i = 0; i < RQ_SLOTS; i++) {
			struct rq_slot *s = &rq_slots[i];

			rq_pump(s);
			busy |= s->tp->in_off < s->tp->in.len || s->c->out_bytes;
		}
		if (!busy)
			break;
	}
	rq_iteration_end();
	for (unsigned int i = 0; i < RQ_SLOTS; i++) {
		struct rq_slot *s = &rq_slots[i];

		FZ_ASSERT(s->exp_head == s->nexp,
			  "slot %u: %zu request(s) never answered", i,
			  s->nexp - s->exp_head);
	}
	fz_store_check(rq_srv.store, "at the end");
	fz_store_same(rq_srv.store, rq_shadow, "live store vs replayed records");

	for (unsigned int i = 0; i < RQ_SLOTS; i++)
		rq_slot_free(&rq_slots[i]);
	store_free(rq_srv.store);
	rq_srv.store = NULL;
	store_free(rq_shadow);
	buf_free(&rq_enc);
	return 0;
}
