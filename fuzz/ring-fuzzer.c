/*
 * ring-fuzzer: a guest's ring page whose indices and contents the input
 * controls, against the server's own ring code. Nothing of the server is
 * replaced but Xen: domain_introduce maps the page and binds the event
 * channel through the small in-memory Xen below, ring.c moves the bytes,
 * conn.c frames and dispatches them, and the steps of the before-sleep
 * hook (server_before_sleep) run one at a time, with the guest acting
 * between any two of them, as it may on a real machine.
 *
 * The page sits between two PROT_NONE pages, so an access outside it
 * faults; accesses inside it but outside what the server may touch are
 * found by comparing the page before and after every server step.
 *
 * Each input: domain 1 is introduced (its home /local/domain/1 exists,
 * /fz/big holds RG_BIG_LEN bytes it may read), the actions run, then the
 * guest and the server drain the ring, and domain 1 is released.
 *
 * Input: a sequence of actions. Byte a: op = a & 15, arg = a >> 4.
 * Guest:
 *   0  queue a request (not yet in the ring): key (1) % 8, and by arg & 7:
 *      0 WRITE k<key> with a value: len (2) % 4093, bytes; 1 READ k<key>;
 *      2 READ /fz/big; 3 RM k<key>; 4 WATCH k<key> (arg & 8: d<key & 3>)
 *      token w<key>; 5 UNWATCH the same; 6 DIRECTORY of its home;
 *      7 READ d<key & 3>
 *   1  queue raw bytes: n (1), bytes
 *   2  queue a header: type (1), len (4), then len payload bytes if len
 *      < 256, else n (1) and n bytes: half messages, oversized lengths
 *   3  write up to n (2) queued bytes into req[] and publish req_prod
 *   4  read up to n (2) bytes of rsp[] and publish rsp_cons
 *   5  req_prod := true req_prod + d (4): a lie (behind, or more than
 *      1024 ahead of req_cons) or, within the free space, a send of the
 *      stale bytes there
 *   6  rsp_cons := true rsp_cons + d (4): forward within what is
 *      available is a read; anything else a lie
 *   7  put the true req_prod and rsp_cons back
 *   8  connection := RECONNECT (then waits for the server's reset)
 *   9  scribble: offset (2) % 4096, n (1), bytes anywhere on the page
 * Server and toolstack:
 *   10 the next (arg % 5) + 1 steps of the loop iteration: poll (reconnect
 *      requests, input), log barrier, flush output, reap dropped
 *      connections, settle req_cons and notify
 *   11 finish the iteration, then one whole server_before_sleep
 *   12 a watch event for the guest: path length (2) % 4000, token
 *      length (1), through conn_event (others' changes, any size)
 *   13 INTRODUCE domain 1 again (the toolstack's reset)
 *   14 dom0 writes d<arg & 3> (fires the guest's watches): length (2)
 *   15 domain 1's outstanding quota := (1) (0: none): pauses its input
 *
 * Invariants, beyond no crash, leak or UB:
 *   - a server step changes nothing but rsp[] in [rsp_prod before,
 *     rsp_prod after) mod 1024, req_cons, rsp_prod, server_features (bits
 *     only added), connection and error; a reset only the indices, error
 *     and connection;
 *   - rsp_prod moves only while rsp_prod - rsp_cons <= 1024 and at most
 *     to rsp_cons + 1024 (rsp_cons as it was during the step); req_cons
 *     only forward, and never past a req_prod the server could have read;
 *   - error is set by the server only with a lie on the page (RINGIDX) or
 *     an oversized header sent (PROTO); a read while req_prod is more than
 *     1024 ahead, or a write while rsp_prod is, sets RINGIDX; once error
 *     is set, the server leaves the page alone until a reset;
 *   - connection = RECONNECT is answered at the next poll: indices and
 *     error 0, connection 0; so is a new INTRODUCE;
 *   - a step that moved an index is followed by a notification at the end
 *     of its iteration;
 *   - what the guest sent is framed by an independent reference, and each
 *     whole message gets exactly one reply, in order, echoing req_id and
 *     tx_id, typed as the request or ERROR; READ of k<key> returns what the
 *     guest's last answered WRITE put there, READ of /fz/big its bytes
 *     (replies longer than the ring); injected events arrive in order, at
 *     most once, unchanged; after the drain every whole request is
 *     answered.
 * A guest that scribbles what it does not own (req_cons, rsp_prod, the
 * bytes the server has not read or it has not read yet) voids the
 * stream and index checks until the next reset; the page and error checks
 * stay.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>
#include <xenevtchn.h>
#include <xengnttab.h>

#include "fuzz/fuzz-util.h"
#include "server/server-int.h"

#define RG_DOMID	1u
#define RG_PORT		7u	/* the guest's end of its event channel */
#define RG_LOCAL	5u	/* ours */
#define RG_PAGE		4096u
#define RG_RING		XENSTORE_RING_SIZE
#define RG_KEYS		8
#define RG_BIG_LEN	4000u
/* Iterations in a row in which nothing moves: the drain is stuck. */
#define RG_STUCK_ROUNDS	8

/* ---- a Xen in memory: one guest, one page, one event channel ---------- */

struct xenevtchn_handle {
	int fd;			/* an eventfd the loop can poll */
	bool bound;
};

struct xengntdev_handle {
	int mapped;
};

static struct xenevtchn_handle rg_xce = { .fd = -1 };
static struct xengntdev_handle rg_xgt;
static unsigned char *rg_map;	/* guard page, the ring page, guard page */
static struct xenstore_domain_interface *rg_page;
static uint64_t rg_notifies;

xenevtchn_handle *
xenevtchn_open(struct xentoollog_logger *logger, unsigned int flags)
{
	rg_xce.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	FZ_ASSERT(rg_xce.fd >= 0, "eventfd");
	return &rg_xce;
}

int
xenevtchn_close(xenevtchn_handle *xce)
{
	close(xce->fd);
	xce->fd = -1;
	return 0;
}

int
xenevtchn_fd(xenevtchn_handle *xce)
{
	return xce->fd;
}

int
xenevtchn_notify(xenevtchn_handle *xce, evtchn_port_t port)
{
	FZ_ASSERT(xce->bound && port == RG_LOCAL, "notify on port %u", port);
	rg_notifies++;
	return 0;
}

xenevtchn_port_or_error_t
xenevtchn_bind_interdomain(xenevtchn_handle *xce, uint32_t domid,
			   evtchn_port_t remote_port)
{
	if (domid != RG_DOMID || remote_port != RG_PORT || xce->bound) {
		errno = EINVAL;
		return -1;
	}
	xce->bound = true;
	return RG_LOCAL;
}

int
xenevtchn_unbind(xenevtchn_handle *xce, evtchn_port_t port)
{
	FZ_ASSERT(xce->bound && port == RG_LOCAL, "unbind port %u", port);
	xce->bound = false;
	return 0;
}

/* Notifications from the guest are not needed: rings are polled. */
xenevtchn_port_or_error_t
xenevtchn_pending(xenevtchn_handle *xce)
{
	errno = EAGAIN;
	return -1;
}

int
xenevtchn_unmask(xenevtchn_handle *xce, evtchn_port_t port)
{
	return 0;
}

xengnttab_handle *
xengnttab_open(struct xentoollog_logger *logger, unsigned open_flags)
{
	return &rg_xgt;
}

int
xengnttab_close(xengnttab_handle *xgt)
{
	return 0;
}

void *
xengnttab_map_grant_ref(xengnttab_handle *xgt, uint32_t domid, uint32_t ref,
			int prot)
{
	if (domid != RG_DOMID || ref != GNTTAB_RESERVED_XENSTORE ||
	    xgt->mapped) {
		errno = ENOENT;
		return NULL;
	}
	xgt->mapped++;
	return rg_page;
}

int
xengnttab_unmap(xengnttab_handle *xgt, void *start_address, uint32_t count)
{
	FZ_ASSERT(start_address == rg_page && count == 1 && xgt->mapped == 1,
		  "unmap of something not mapped");
	xgt->mapped--;
	return 0;
}

/* ---- the model guest ------------------------------------------------------- */

enum rg_op { RG_OP_NONE, RG_OP_WRITE, RG_OP_READ, RG_OP_READ_BIG, RG_OP_RM };

/* A request the guest queued, known by where it starts in its queue. */
struct rg_req {
	uint64_t at;		/* index in the queued stream */
	enum rg_op op;
	int key;
	unsigned char *value;	/* RG_OP_WRITE */
	uint32_t vlen;
};

/* A whole message the reference framing saw: it is owed one reply. */
struct rg_expect {
	uint32_t type, req_id, tx_id;
	struct rg_req req;	/* op RG_OP_NONE: not one of the guest's own */
};

struct rg_guest {
	/* Producer: queued bytes, and what is in req[] (true req_prod). */
	struct buf out;
	size_t out_off;
	uint64_t out_base;	/* queue index of out.data[0] */
	uint32_t prod;
	struct rg_req *reqs;	/* queued, oldest first */
	size_t nreqs, capreqs, reqs_head;
	/* Reference framing of what went into req[]. */
	unsigned char hdr[LXS_HDR_SIZE];
	uint32_t hdr_got, left;
	bool too_big;		/* an oversized header was sent */
	int64_t msg_at;		/* queue index of the message's first byte */
	uint32_t msg_pos;	/* bytes of it framed */
	bool msg_queued;	/* every byte so far straight from the queue */
	struct rg_expect *exp;
	size_t nexp, capexp, exp_head;
	/* Consumer: true rsp_cons, bytes read but not a whole message. */
	uint32_t cons;
	struct buf in;
	/* The server's side of rsp[]: where its messages end. */
	unsigned char out_hdr[LXS_HDR_SIZE];
	uint32_t out_hdr_got, out_left;
	/* Its nodes k0..k7, as far as it knows them. */
	bool known[RG_KEYS], present[RG_KEYS];
	unsigned char *val[RG_KEYS];
	uint32_t vlen[RG_KEYS];
	uint32_t next_req;
	/* Injected events: sent so far, and the last one received. */
	uint32_t inj_sent, inj_seen, inj_base;
	uint32_t *inj_plen, *inj_tlen;
	bool junk_watch;	/* a WATCH not of its own: any token */
	bool reconnecting;
	bool tainted;		/* it scribbled what it does not own */
	bool ignored;		/* the server set error: until a reset */
	uint32_t reach;		/* furthest req_prod the server saw, past req_cons */
	bool moved;		/* an index moved since the last notification step */
};

static struct server rg_srv;
static struct rg_guest g;
static struct store_conn *rg_dom0;
static unsigned int rg_phase;	/* the next step of the loop iteration */
/* LXS_FUZZ_TRACE=1: every message the guest receives, on stderr. */
static bool rg_trace;

static const char *const rg_key_names[RG_KEYS] = {
	"k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7",
};

static uint32_t
rg_load(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static void
rg_store(uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

static struct domain *
rg_dom(void)
{
	return domain_find(&rg_srv, RG_DOMID);
}

static struct conn *
rg_conn(void)
{
	struct domain *d = rg_dom();

	return d && d->conn && !d->conn->dead ? d->conn : NULL;
}

/* ---- the guest: sending ---------------------------------------------------- */

static void
rg_forget_key(int key)
{
	g.known[key] = false;
}

static void
rg_forget_keys(void)
{
	for (int k = 0; k < RG_KEYS; k++)
		rg_forget_key(k);
}

static bool
rg_type_mutates(uint32_t type)
{
	return type == XS_WRITE || type == XS_MKDIR || type == XS_RM ||
	       type == XS_SET_PERMS || type == XS_TRANSACTION_END;
}

/* The oldest queued request starting at queue index at, or NULL. */
static struct rg_req *
rg_req_at(int64_t at)
{
	while (g.reqs_head < g.nreqs && (int64_t)g.reqs[g.reqs_head].at < at) {
		free(g.reqs[g.reqs_head].value);
		g.reqs_head++;
	}
	if (at < 0 || g.reqs_head == g.nreqs ||
	    (int64_t)g.reqs[g.reqs_head].at != at)
		return NULL;
	return &g.reqs[g.reqs_head++];
}

static void
rg_expect_push(void)
{
	struct rg_expect *e;
	struct xsd_sockmsg h;
	struct rg_req *r;

	memcpy(&h, g.hdr, sizeof(h));
	if (g.nexp == g.capexp) {
		g.capexp = g.capexp ? 2 * g.capexp : 16;
		g.exp = xrealloc(g.exp, g.capexp * sizeof(*g.exp));
	}
	e = &g.exp[g.nexp++];
	memset(e, 0, sizeof(*e));
	e->type = h.type;
	e->req_id = h.req_id;
	e->tx_id = h.tx_id;
	/* The guest's own request only if it arrived exactly as queued. */
	r = g.msg_queued ? rg_req_at(g.msg_at) : NULL;
	if (r) {
		e->req = *r;
		r->value = NULL;
	} else if (h.type == XS_WATCH) {
		g.junk_watch = true;
	}
}

/*
 * Frames n bytes that went into req[]; at is the queue index of the
 * first, or -1 for bytes that were not queued (stale ring contents).
 */
static void
rg_frame(const unsigned char *p, size_t n, int64_t at)
{
	for (size_t i = 0; i < n && !g.too_big; i++) {
		int64_t here = at < 0 ? -1 : at + (int64_t)i;

		if (g.hdr_got == 0) {
			g.msg_at = here;
			g.msg_pos = 0;
			g.msg_queued = here >= 0;
		} else if (here < 0 || here != g.msg_at + g.msg_pos) {
			g.msg_queued = false;
		}
		g.msg_pos++;
		if (g.hdr_got < LXS_HDR_SIZE) {
			struct xsd_sockmsg h;

			g.hdr[g.hdr_got++] = p[i];
			if (g.hdr_got < LXS_HDR_SIZE)
				continue;
			memcpy(&h, g.hdr, sizeof(h));
			if (h.len > XENSTORE_PAYLOAD_MAX) {
				g.too_big = true;
				return;
			}
			g.left = h.len;
		} else {
			g.left--;
		}
		if (g.left == 0) {
			rg_expect_push();
			g.hdr_got = 0;
		}
	}
}

static void
rg_queue(const void *p, size_t n)
{
	if (n)
		buf_add(&g.out, p, n);
}

static uint64_t
rg_queue_index(void)
{
	return g.out_base + g.out.len;
}

static void
rg_queue_msg(uint32_t type, const void *p1, size_t l1, const void *p2,
	     size_t l2, const struct rg_req *req)
{
	struct xsd_sockmsg h = {
		.type = type, .req_id = g.next_req++,
		.len = (uint32_t)(l1 + l2),
	};

	if (req) {
		if (g.nreqs == g.capreqs) {
			g.capreqs = g.capreqs ? 2 * g.capreqs : 16;
			g.reqs = xrealloc(g.reqs, g.capreqs * sizeof(*g.reqs));
		}
		g.reqs[g.nreqs] = *req;
		g.reqs[g.nreqs++].at = rg_queue_index();
	}
	rg_queue(&h, sizeof(h));
	rg_queue(p1, l1);
	rg_queue(p2, l2);
}

static void
rg_queue_request(struct fz_in *in, unsigned int arg)
{
	int key = fz_u8(in) % RG_KEYS;
	const char *kn = rg_key_names[key];
	char path[32], tok[8];
	struct rg_req r = { .key = key };
	const uint8_t *v;
	size_t got;

	snprintf(path, sizeof(path), "%s", kn);
	snprintf(tok, sizeof(tok), "w%d", key);
	switch (arg & 7) {
	case 0:
		v = fz_take(in, fz_u16(in) % (XENSTORE_PAYLOAD_MAX - 3), &got);
		r.op = RG_OP_WRITE;
		r.vlen = (uint32_t)got;
		r.value = xmalloc(got ? got : 1);
		memcpy(r.value, v, got);
		rg_queue_msg(XS_WRITE, kn, strlen(kn) + 1, v, got, &r);
		break;
	case 1:
		r.op = RG_OP_READ;
		rg_queue_msg(XS_READ, kn, strlen(kn) + 1, NULL, 0, &r);
		break;
	case 2:
		r.op = RG_OP_READ_BIG;
		rg_queue_msg(XS_READ, "/fz/big", 8, NULL, 0, &r);
		break;
	case 3:
		r.op = RG_OP_RM;
		rg_queue_msg(XS_RM, kn, strlen(kn) + 1, NULL, 0, &r);
		break;
	case 4:
	case 5:
		if (arg & 8)
			snprintf(path, sizeof(path), "d%d", key & 3);
		rg_queue_msg((arg & 7) == 4 ? XS_WATCH : XS_UNWATCH, path,
			     strlen(path) + 1, tok, strlen(tok) + 1, &r);
		break;
	case 6:
		rg_queue_msg(XS_DIRECTORY, "/local/domain/1", 16, NULL, 0, &r);
		break;
	default:
		snprintf(path, sizeof(path), "d%d", key & 3);
		rg_queue_msg(XS_READ, path, strlen(path) + 1, NULL, 0, &r);
		break;
	}
}

static void
rg_queue_header(struct fz_in *in)
{
	struct xsd_sockmsg h = { .req_id = g.next_req++ };
	const uint8_t *p;
	size_t got;

	h.type = fz_u8(in);
	h.len = fz_u32(in);
	p = fz_take(in, h.len < 256 ? h.len : fz_u8(in), &got);
	rg_queue(&h, sizeof(h));
	rg_queue(p, got);
}

/* Room in req[] as the guest sees it; 0 if the page makes no sense. */
static uint32_t
rg_req_room(void)
{
	uint32_t used = g.prod - rg_load(&rg_page->req_cons);

	return used > RG_RING ? 0 : RG_RING - used;
}

/* The guest's write: queued bytes into req[], then req_prod. */
static void
rg_guest_write(uint32_t want)
{
	uint32_t room = rg_req_room(), n = 0;
	size_t queued = g.out.len - g.out_off;
	uint64_t at = g.out_base + g.out_off;

	if (!g.tainted)
		FZ_ASSERT(g.prod - rg_load(&rg_page->req_cons) <= RG_RING,
			  "req_cons %u is past req_prod %u",
			  rg_load(&rg_page->req_cons), g.prod);
	if (want > room)
		want = room;
	if (want > queued)
		want = (uint32_t)queued;
	if (want == 0)
		return;
	for (; n < want; n++)
		rg_page->req[MASK_XENSTORE_IDX(g.prod + n)] =
			(char)g.out.data[g.out_off + n];
	rg_frame((const unsigned char *)g.out.data + g.out_off, n,
		 (int64_t)at);
	g.out_off += n;
	if (g.out_off == g.out.len) {
		g.out_base += g.out.len;
		buf_reset(&g.out);
		g.out_off = 0;
	}
	g.prod += n;
	__atomic_thread_fence(__ATOMIC_RELEASE);
	rg_store(&rg_page->req_prod, g.prod);
}

/* req_prod moved forward within the room: the stale bytes there are sent. */
static void
rg_guest_send_stale(uint32_t n)
{
	unsigned char stale[RG_RING];

	for (uint32_t i = 0; i < n; i++)
		stale[i] = (unsigned char)
			   rg_page->req[MASK_XENSTORE_IDX(g.prod + i)];
	rg_frame(stale, n, -1);
	g.prod += n;
	rg_store(&rg_page->req_prod, g.prod);
}

static void
rg_guest_req_prod(uint32_t d)
{
	if (d != 0 && d <= rg_req_room() && !g.tainted)
		rg_guest_send_stale(d);
	else
		rg_store(&rg_page->req_prod, g.prod + d);
}

/* ---- the guest: receiving ---------------------------------------------------- */

static bool
rg_big_value(const char *p, uint32_t len)
{
	if (len != RG_BIG_LEN)
		return false;
	for (uint32_t i = 0; i < len; i++)
		if (p[i] != (char)('a' + i % 26))
			return false;
	return true;
}

static void
rg_check_reply_model(const struct rg_expect *e, const struct xsd_sockmsg *h,
		     const char *p)
{
	int k = e->req.key;

	switch (e->req.op) {
	case RG_OP_WRITE:
		if (h->type == XS_ERROR)
			break;
		free(g.val[k]);
		g.val[k] = e->req.value;
		g.vlen[k] = e->req.vlen;
		g.known[k] = g.present[k] = true;
		return;
	case RG_OP_RM:
		if (h->type != XS_ERROR)
			g.known[k] = true, g.present[k] = false;
		break;
	case RG_OP_READ:
		if (!g.known[k])
			break;
		if (!g.present[k]) {
			FZ_ASSERT(h->type == XS_ERROR &&
				  strcmp(p, "ENOENT") == 0,
				  "READ %s: a reply to a node that is not there",
				  rg_key_names[k]);
			break;
		}
		FZ_ASSERT(h->type == XS_READ && h->len == g.vlen[k] &&
			  memcmp(p, g.val[k], h->len) == 0,
			  "READ %s: %u bytes back, %u written", rg_key_names[k],
			  h->len, g.vlen[k]);
		break;
	case RG_OP_READ_BIG:
		FZ_ASSERT(h->type == XS_READ && rg_big_value(p, h->len),
			  "READ /fz/big: type %u, %u bytes", h->type, h->len);
		break;
	case RG_OP_NONE:
		/* Run after the replies before it, before those after it. */
		if (rg_type_mutates(e->type))
			rg_forget_keys();
		break;
	}
	free(e->req.value);
}

static void
rg_check_event(const char *p, uint32_t len)
{
	const char *path = p, *tok;
	uint32_t tail, seq, plen, tlen;
	char want[16];

	FZ_ASSERT(wire_split(p, len, NULL, 0, &tail) == 2 && tail == 0,
		  "malformed watch event");
	tok = p + strlen(p) + 1;
	if (tok[0] != '\x01' || g.junk_watch)
		return;
	seq = (uint32_t)strtoul(tok + 1, NULL, 10);
	FZ_ASSERT(seq > g.inj_seen && seq > g.inj_base && seq <= g.inj_sent,
		  "event %u after event %u (%u sent)", seq, g.inj_seen,
		  g.inj_sent);
	g.inj_seen = seq;
	plen = g.inj_plen[seq - 1];
	tlen = g.inj_tlen[seq - 1];
	snprintf(want, sizeof(want), "\001%u:", seq);
	FZ_ASSERT(strlen(path) == plen && strncmp(path, "/fz/", 4) == 0 &&
		  strspn(path + 4, "p") == plen - 4 && strlen(tok) == tlen &&
		  strncmp(tok, want, strlen(want)) == 0 &&
		  strspn(tok + strlen(want), "t") == tlen - strlen(want),
		  "event %u changed on the way", seq);
}

static void
rg_check_message(const struct xsd_sockmsg *h, const char *p)
{
	const struct rg_expect *e;

	if (rg_trace)
		fprintf(stderr, "guest <- %s r%u t%u, %u bytes\n",
			wire_type_name(h->type) ? wire_type_name(h->type) : "?",
			h->req_id, h->tx_id, h->len);
	if (h->type == XS_WATCH_EVENT && h->req_id == 0) {
		rg_check_event(p, h->len);
		return;
	}
	FZ_ASSERT(g.exp_head < g.nexp, "reply type %u r%u without a request",
		  h->type, h->req_id);
	e = &g.exp[g.exp_head++];
	FZ_ASSERT(h->req_id == e->req_id && h->tx_id == e->tx_id,
		  "reply r%u t%u to request r%u t%u", h->req_id, h->tx_id,
		  e->req_id, e->tx_id);
	FZ_ASSERT(h->type == e->type || h->type == XS_ERROR,
		  "reply type %u to request type %u", h->type, e->type);
	if (h->type == XS_ERROR)
		FZ_ASSERT(h->len >= 2 && memchr(p, '\0', h->len) ==
			  p + h->len - 1 && wire_error_value(p) != 0,
			  "bad error reply");
	rg_check_reply_model(e, h, p);
}

static void
rg_parse_input(void)
{
	size_t off = 0;

	while (g.in.len - off >= LXS_HDR_SIZE) {
		struct xsd_sockmsg h;
		char *p;

		memcpy(&h, g.in.data + off, sizeof(h));
		FZ_ASSERT(h.len <= XENSTORE_PAYLOAD_MAX,
			  "message of %u bytes received", h.len);
		if (g.in.len - off - LXS_HDR_SIZE < h.len)
			break;
		/* NUL-terminated for the checks. */
		p = xmalloc(h.len + 1);
		memcpy(p, g.in.data + off + LXS_HDR_SIZE, h.len);
		p[h.len] = '\0';
		rg_check_message(&h, p);
		free(p);
		off += LXS_HDR_SIZE + h.len;
	}
	if (off == 0)
		return;
	memmove(g.in.data, g.in.data + off, g.in.len - off);
	g.in.len -= off;
}

/* The guest's read: up to want bytes of rsp[], then rsp_cons. */
static void
rg_guest_read(uint32_t want)
{
	uint32_t prod = rg_load(&rg_page->rsp_prod), avail = prod - g.cons;
	char bytes[RG_RING];

	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	if (avail > RG_RING) {
		FZ_ASSERT(g.tainted, "rsp_prod %u is %u ahead of rsp_cons %u",
			  prod, avail, g.cons);
		return;
	}
	if (want > avail)
		want = avail;
	for (uint32_t i = 0; i < want; i++)
		bytes[i] = rg_page->rsp[MASK_XENSTORE_IDX(g.cons + i)];
	g.cons += want;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	rg_store(&rg_page->rsp_cons, g.cons);
	if (g.tainted || want == 0)
		return;
	buf_add(&g.in, bytes, want);
	rg_parse_input();
}

static void
rg_guest_rsp_cons(uint32_t d)
{
	uint32_t avail = rg_load(&rg_page->rsp_prod) - g.cons;

	if (d != 0 && d <= avail && avail <= RG_RING)
		rg_guest_read(d);
	else
		rg_store(&rg_page->rsp_cons, g.cons + d);
}

/*
 * Scribbling what the server owns, or bytes of either stream in flight,
 * voids the guest's own stream; free space of either array does not.
 */
static void
rg_guest_scribble(uint32_t off, const uint8_t *p, size_t n)
{
	bool harmless = true;

	for (size_t i = 0; i < n && off + i < RG_PAGE; i++) {
		uint32_t o = (uint32_t)(off + i);

		if (o < RG_RING)
			harmless &= MASK_XENSTORE_IDX(o - g.prod) < rg_req_room();
		else if (o < 2 * RG_RING)
			harmless &= MASK_XENSTORE_IDX(o - RG_RING - g.cons) >=
				    rg_load(&rg_page->rsp_prod) - g.cons;
		else
			harmless = false;
		((unsigned char *)rg_page)[o] = p[i];
	}
	if (!harmless)
		g.tainted = true;
}

/* The connection was reset: a fresh guest driver, the same nodes. */
static void
rg_guest_reset(void)
{
	/* Unanswered requests may have run or not. */
	for (size_t i = g.exp_head; i < g.nexp; i++) {
		const struct rg_expect *e = &g.exp[i];

		if (e->req.op == RG_OP_WRITE || e->req.op == RG_OP_RM)
			rg_forget_key(e->req.key);
		else if (e->req.op == RG_OP_NONE && rg_type_mutates(e->type))
			rg_forget_keys();
		free(e->req.value);
	}
	g.nexp = g.exp_head = 0;
	for (size_t i = g.reqs_head; i < g.nreqs; i++)
		free(g.reqs[i].value);
	g.nreqs = g.reqs_head = 0;
	g.out_base += g.out.len;
	buf_reset(&g.out);
	g.out_off = 0;
	buf_reset(&g.in);
	g.prod = g.cons = 0;
	g.hdr_got = g.left = 0;
	g.out_hdr_got = g.out_left = 0;
	g.too_big = g.junk_watch = g.reconnecting = false;
	g.tainted = g.ignored = false;
	g.inj_base = g.inj_seen = g.inj_sent;
	g.reach = 0;
}

static void
rg_guest_free(void)
{
	rg_guest_reset();
	for (int k = 0; k < RG_KEYS; k++)
		free(g.val[k]);
	free(g.exp);
	free(g.reqs);
	free(g.inj_plen);
	free(g.inj_tlen);
	buf_free(&g.out);
	buf_free(&g.in);
	memset(&g, 0, sizeof(g));
}

/* ---- the server's steps and what they may do to the page -------------------- */

enum { RG_POLL, RG_COMMIT, RG_FLUSH, RG_REAP, RG_KICK, RG_NPHASES };

static void
rg_reap(void)
{
	struct conn *c, *next;

	for (c = TAILQ_FIRST(&rg_srv.conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, link);
		if (c->dead)
			conn_free(c);
	}
}

/* One step of server_before_sleep, in its order (sockets have none). */
static void
rg_phase_run(unsigned int p)
{
	struct conn *c;

	switch (p) {
	case RG_POLL:
		lu_poll(&rg_srv);
		domains_poll(&rg_srv);
		break;
	case RG_COMMIT:
		durable_commit(rg_srv.dur);
		break;
	case RG_FLUSH:
		TAILQ_FOREACH(c, &rg_srv.conns, link)
			if (!c->dead && c->out_bytes)
				conn_flush(c);
		break;
	case RG_REAP:
		rg_reap();
		break;
	default:
		domains_kick(&rg_srv);
		break;
	}
}

static bool
rg_lying(void)
{
	return rg_load(&rg_page->req_prod) != g.prod ||
	       rg_load(&rg_page->rsp_cons) != g.cons;
}

/* What a step found on the page, and what it must then have done. */
struct rg_before {
	unsigned char page[RG_PAGE];
	uint32_t req_cons, req_prod, rsp_cons, rsp_prod, error, connection;
	uint32_t features;
	bool lying, ignored, tainted;
	bool must_fail_read, must_fail_write;
	uint64_t notifies;
};

static void
rg_before(struct rg_before *b, bool polls, bool flushes)
{
	const struct xenstore_domain_interface *pg = rg_page;
	struct conn *c = rg_conn();

	memcpy(b->page, rg_page, RG_PAGE);
	b->req_cons = pg->req_cons;
	b->req_prod = pg->req_prod;
	b->rsp_cons = pg->rsp_cons;
	b->rsp_prod = pg->rsp_prod;
	b->error = pg->error;
	b->connection = pg->connection;
	b->features = pg->server_features;
	b->lying = rg_lying();
	b->ignored = g.ignored;
	b->tainted = g.tainted;
	b->notifies = rg_notifies;
	/* What the server reads in this step is what is there now. */
	if (polls && b->req_prod - b->req_cons <= RG_RING &&
	    b->req_prod - b->req_cons > g.reach)
		g.reach = b->req_prod - b->req_cons;
	b->must_fail_read = polls && c && !conn_input_paused(c) &&
			    b->connection != XENSTORE_RECONNECT &&
			    !g.tainted &&
			    b->req_prod - b->req_cons > RG_RING;
	b->must_fail_write = flushes && !polls && c &&
			     !STAILQ_EMPTY(&c->out) &&
			     b->rsp_prod - b->rsp_cons > RG_RING;
}

/* A reset: indices, error and connection 0, the arrays untouched. */
static void
rg_check_reset(const struct rg_before *b, const char *by)
{
	const struct xenstore_domain_interface *pg = rg_page;

	FZ_ASSERT(pg->req_cons == 0 && pg->req_prod == 0 &&
		  pg->rsp_cons == 0 && pg->rsp_prod == 0 &&
		  pg->error == XENSTORE_ERROR_NONE &&
		  pg->connection == XENSTORE_CONNECTED,
		  "%s: the ring is not reset", by);
	FZ_ASSERT(memcmp(b->page, rg_page, 2 * RG_RING) == 0,
		  "%s: the arrays changed", by);
	FZ_ASSERT((pg->server_features & b->features) == b->features,
		  "%s: server_features lost bits", by);
	rg_guest_reset();
}

/*
 * Frames what the server wrote into rsp[] in one step: a message that fits
 * in the ring must be there whole (a daemon killed half-way would leave
 * the guest's stream misframed); only a longer one goes in pieces.
 */
static void
rg_check_whole(uint32_t from, uint32_t n)
{
	uint32_t total = 0;

	for (uint32_t i = 0; i < n; i++) {
		if (g.out_hdr_got < LXS_HDR_SIZE) {
			struct xsd_sockmsg h;

			g.out_hdr[g.out_hdr_got++] =
				(unsigned char)rg_page->rsp[MASK_XENSTORE_IDX(from + i)];
			if (g.out_hdr_got < LXS_HDR_SIZE)
				continue;
			memcpy(&h, g.out_hdr, sizeof(h));
			g.out_left = h.len;
		} else {
			g.out_left--;
		}
		if (g.out_left == 0)
			g.out_hdr_got = 0;
	}
	/* Half a header: only a message longer than the ring splits it. */
	if (g.out_hdr_got == LXS_HDR_SIZE) {
		struct xsd_sockmsg h;

		memcpy(&h, g.out_hdr, sizeof(h));
		total = LXS_HDR_SIZE + h.len;
		FZ_ASSERT(total > RG_RING, "a message of %u bytes left in pieces",
			  total);
	}
}

static void
rg_check_rsp(const struct rg_before *b)
{
	const struct xenstore_domain_interface *pg = rg_page;
	uint32_t wrote = pg->rsp_prod - b->rsp_prod;

	if (wrote != 0) {
		FZ_ASSERT(b->rsp_prod - b->rsp_cons <= RG_RING,
			  "rsp_prod moved from %u with rsp_cons at %u",
			  b->rsp_prod, b->rsp_cons);
		FZ_ASSERT(pg->rsp_prod - b->rsp_cons <= RG_RING,
			  "rsp_prod %u more than a ring ahead of rsp_cons %u",
			  pg->rsp_prod, b->rsp_cons);
		FZ_ASSERT(pg->rsp_prod - b->rsp_cons >=
			  b->rsp_prod - b->rsp_cons,
			  "rsp_prod moved back from %u to %u", b->rsp_prod,
			  pg->rsp_prod);
		g.moved = true;
		if (!b->tainted)
			rg_check_whole(b->rsp_prod, wrote);
	}
	for (uint32_t i = 0; i < RG_RING; i++) {
		uint32_t pos = MASK_XENSTORE_IDX(i - b->rsp_prod);

		if (pos >= wrote)
			FZ_ASSERT(pg->rsp[i] == (char)b->page[RG_RING + i],
				  "rsp[%u] written outside [%u, %u)", i,
				  b->rsp_prod, pg->rsp_prod);
	}
}

static void
rg_check_req_cons(const struct rg_before *b)
{
	uint32_t moved = rg_page->req_cons - b->req_cons;

	if (moved == 0)
		return;
	g.moved = true;
	if (b->tainted)
		return;
	FZ_ASSERT(moved <= g.reach,
		  "req_cons moved by %u, past any req_prod read (%u ahead)",
		  moved, g.reach);
	g.reach -= moved;
}

static void
rg_check_error(const struct rg_before *b)
{
	const struct xenstore_domain_interface *pg = rg_page;
	struct domain *d = rg_dom();

	if (b->must_fail_read || b->must_fail_write)
		FZ_ASSERT(pg->error == XENSTORE_ERROR_RINGIDX,
			  "bad indices (req %u/%u, rsp %u/%u) but error %u",
			  b->req_cons, b->req_prod, b->rsp_cons, b->rsp_prod,
			  pg->error);
	if (pg->error == b->error)
		return;
	g.ignored = true;
	if (b->tainted)
		return;
	FZ_ASSERT(b->error == XENSTORE_ERROR_NONE && d &&
		  pg->error == d->error, "error %u -> %u", b->error,
		  pg->error);
	if (pg->error == XENSTORE_ERROR_RINGIDX)
		FZ_ASSERT(b->lying, "RINGIDX with the true indices on the page");
	else
		FZ_ASSERT(pg->error == XENSTORE_ERROR_PROTO && g.too_big,
			  "error %u without an oversized header", pg->error);
}

static void
rg_after(const struct rg_before *b, bool polls, bool kicks)
{
	const struct xenstore_domain_interface *pg = rg_page;

	if (polls && b->connection == XENSTORE_RECONNECT) {
		rg_check_reset(b, "RECONNECT");
		return;
	}
	FZ_ASSERT(memcmp(b->page, rg_page, RG_RING) == 0,
		  "the server wrote to req[]");
	FZ_ASSERT(memcmp(b->page + 2076, (char *)rg_page + 2076,
			 RG_PAGE - 2076) == 0, "the server wrote past error");
	FZ_ASSERT(pg->req_prod == b->req_prod && pg->rsp_cons == b->rsp_cons &&
		  pg->connection == b->connection,
		  "the server changed a guest's field");
	FZ_ASSERT((pg->server_features & b->features) == b->features,
		  "server_features lost bits");
	rg_check_rsp(b);
	rg_check_req_cons(b);
	if (b->ignored)
		FZ_ASSERT(pg->req_cons == b->req_cons &&
			  pg->rsp_prod == b->rsp_prod,
			  "the server used a ring it set error on");
	rg_check_error(b);
	if (kicks) {
		if (g.moved)
			FZ_ASSERT(rg_notifies > b->notifies,
				  "indices moved, no notification");
		g.moved = false;
	}
}

static void
rg_steps(unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		struct rg_before b;
		unsigned int p = rg_phase;

		rg_before(&b, p == RG_POLL, p == RG_FLUSH);
		rg_phase_run(p);
		rg_after(&b, p == RG_POLL, p == RG_KICK);
		rg_phase = (p + 1) % RG_NPHASES;
	}
}

static void
rg_iteration(void)
{
	struct rg_before b;

	rg_steps((RG_NPHASES - rg_phase) % RG_NPHASES);
	rg_before(&b, true, true);
	server_before_sleep(rg_srv.loop, &rg_srv);
	rg_after(&b, true, true);
}

static void
rg_introduce(void)
{
	struct rg_before b;

	rg_before(&b, false, false);
	FZ_ASSERT(domain_introduce(&rg_srv, RG_DOMID, 0x1234, RG_PORT) == 0,
		  "INTRODUCE");
	rg_check_reset(&b, "INTRODUCE");
}

/* ---- the rest of the world ----------------------------------------------------- */

static void
rg_inject_event(struct fz_in *in)
{
	uint32_t plen = 4 + fz_u16(in) % 4000, tlen, n;
	struct conn *c = rg_conn();
	char *path, tok[256];

	tlen = fz_u8(in);
	if (c == NULL)
		return;
	n = ++g.inj_sent;
	g.inj_plen = xrealloc(g.inj_plen, n * sizeof(*g.inj_plen));
	g.inj_tlen = xrealloc(g.inj_tlen, n * sizeof(*g.inj_tlen));
	snprintf(tok, sizeof(tok), "\001%u:", n);
	if (tlen < strlen(tok))
		tlen = (uint32_t)strlen(tok);
	memset(tok + strlen(tok), 't', tlen - strlen(tok));
	tok[tlen] = '\0';
	path = xmalloc(plen + 1);
	memcpy(path, "/fz/", 4);
	memset(path + 4, 'p', plen - 4);
	path[plen] = '\0';
	g.inj_plen[n - 1] = plen;
	g.inj_tlen[n - 1] = tlen;
	conn_event(c, path, tok);
	free(path);
}

static void
rg_dom0_write(unsigned int which, uint32_t len)
{
	char path[32], *v = xmalloc(len + 1);

	snprintf(path, sizeof(path), "/local/domain/1/d%u", which);
	memset(v, 'v', len);
	(void)store_write(rg_dom0, 0, path, v, len);
	free(v);
}

static void
rg_action(struct fz_in *in)
{
	uint8_t a = fz_u8(in);
	unsigned int op = a & 15, arg = a >> 4;
	/* A guest waiting for its reset does not touch the ring. */
	bool waits = g.reconnecting && op >= 3 && op <= 9;
	const uint8_t *p;
	size_t got;
	uint32_t v;

	switch (op) {
	case 0:
		rg_queue_request(in, arg);
		break;
	case 1:
		p = fz_take(in, fz_u8(in), &got);
		rg_queue(p, got);
		break;
	case 2:
		rg_queue_header(in);
		break;
	case 3:
		v = fz_u16(in);
		if (!waits)
			rg_guest_write(v);
		break;
	case 4:
		v = fz_u16(in);
		if (!waits)
			rg_guest_read(v);
		break;
	case 5:
		v = fz_u32(in);
		if (!waits)
			rg_guest_req_prod(v);
		break;
	case 6:
		v = fz_u32(in);
		if (!waits)
			rg_guest_rsp_cons(v);
		break;
	case 7:
		if (!waits && !g.tainted) {
			rg_store(&rg_page->req_prod, g.prod);
			rg_store(&rg_page->rsp_cons, g.cons);
		}
		break;
	case 8:
		if (!waits) {
			rg_store(&rg_page->connection, XENSTORE_RECONNECT);
			g.reconnecting = true;
		}
		break;
	case 9:
		v = fz_u16(in) % RG_PAGE;
		p = fz_take(in, fz_u8(in), &got);
		if (!waits)
			rg_guest_scribble(v, p, got);
		break;
	case 10:
		rg_steps(arg % RG_NPHASES + 1);
		break;
	case 11:
		rg_iteration();
		break;
	case 12:
		rg_inject_event(in);
		break;
	case 13:
		rg_steps((RG_NPHASES - rg_phase) % RG_NPHASES);
		rg_introduce();
		break;
	case 14:
		rg_dom0_write(arg & 3, fz_u16(in) % (XENSTORE_PAYLOAD_MAX + 1));
		break;
	default:
		(void)store_quota_set(rg_srv.store, RG_DOMID,
				      STORE_QUOTA_OUTSTANDING, false, fz_u8(in));
		break;
	}
}

/*
 * The guest sends what it has queued and reads everything, the server
 * runs, until nothing moves; a guest that lied tells the truth first.
 */
static void
rg_drain(void)
{
	int stuck = 0;

	while (stuck < RG_STUCK_ROUNDS) {
		struct conn *c = rg_conn();
		uint32_t cons, prod;
		bool idle, waited;

		if (!g.reconnecting) {
			if (!g.tainted) {
				rg_store(&rg_page->req_prod, g.prod);
				rg_store(&rg_page->rsp_cons, g.cons);
			}
			rg_guest_write(UINT32_MAX);
			rg_guest_read(UINT32_MAX);
		}
		idle = !g.reconnecting && g.out_off == g.out.len &&
		       rg_load(&rg_page->req_cons) == g.prod &&
		       rg_load(&rg_page->rsp_prod) == g.cons &&
		       (c == NULL || STAILQ_EMPTY(&c->out));
		if (idle || g.ignored || g.tainted)
			break;
		cons = rg_load(&rg_page->req_cons);
		prod = rg_load(&rg_page->rsp_prod);
		waited = g.reconnecting;
		rg_iteration();
		if (cons != rg_load(&rg_page->req_cons) ||
		    prod != rg_load(&rg_page->rsp_prod) ||
		    waited != g.reconnecting)
			stuck = 0;
		else
			stuck++;
	}
	if (g.ignored || g.tainted || g.too_big)
		return;
	FZ_ASSERT(stuck < RG_STUCK_ROUNDS, "the ring never drains");
	FZ_ASSERT(g.exp_head == g.nexp, "%zu request(s) never answered",
		  g.nexp - g.exp_head);
}

/* ---- set-up ------------------------------------------------------------------- */

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fz_server_init(&rg_srv, "lxs-ring-fuzzer");
	rg_trace = getenv("LXS_FUZZ_TRACE") != NULL;
	rg_srv.cfg.xsd_kva = "/nonexistent/xsd_kva";
	rg_srv.cfg.xsd_port = "/nonexistent/xsd_port";
	rg_srv.loop = loop_new();
	FZ_ASSERT(rg_srv.loop != NULL, "loop_new");
	rg_map = mmap(NULL, 3 * RG_PAGE, PROT_NONE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	FZ_ASSERT(rg_map != MAP_FAILED, "mmap");
	FZ_ASSERT(mprotect(rg_map + RG_PAGE, RG_PAGE,
			   PROT_READ | PROT_WRITE) == 0, "mprotect");
	rg_page = (struct xenstore_domain_interface *)(rg_map + RG_PAGE);
	FZ_ASSERT(domains_open(&rg_srv) == 0, "domains_open");
	return 0;
}

/* dom0's part: the guest's home and a node it may read. */
static void
rg_seed_tree(void)
{
	static const struct store_caller dom0 = { 0, LXS_DOMID_INVALID, true };
	struct store_perm home = { 0 }, big[2] = { { 0 } };
	char *v = xmalloc(RG_BIG_LEN);

	rg_srv.store = server_store_new(&rg_srv);
	rg_dom0 = store_conn_new(rg_srv.store, &dom0, NULL);
	for (uint32_t i = 0; i < RG_BIG_LEN; i++)
		v[i] = (char)('a' + i % 26);
	FZ_ASSERT(store_perm_parse("n1", &home) == 0 &&
		  store_perm_parse("n0", &big[0]) == 0 &&
		  store_perm_parse("r1", &big[1]) == 0, "perms");
	FZ_ASSERT(store_write(rg_dom0, 0, "/local/domain/1", "", 0) == 0 &&
		  store_set_perms(rg_dom0, 0, "/local/domain/1", &home, 1) == 0 &&
		  store_write(rg_dom0, 0, "/fz/big", v, RG_BIG_LEN) == 0 &&
		  store_set_perms(rg_dom0, 0, "/fz/big", big, 2) == 0, "seed");
	free(v);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };

	rg_seed_tree();
	memset(rg_page, 0, RG_PAGE);
	rg_phase = RG_POLL;
	for (int k = 0; k < RG_KEYS; k++)
		g.known[k] = true;
	g.next_req = 1;
	rg_introduce();
	while (in.n)
		rg_action(&in);
	rg_steps((RG_NPHASES - rg_phase) % RG_NPHASES);
	rg_drain();

	FZ_ASSERT(domain_release(&rg_srv, RG_DOMID) == 0, "RELEASE");
	rg_reap();
	FZ_ASSERT(TAILQ_EMPTY(&rg_srv.conns) && rg_xgt.mapped == 0 &&
		  !rg_xce.bound, "RELEASE left the ring in use");
	fz_store_check(rg_srv.store, "at the end");
	store_conn_free(rg_dom0);
	store_free(rg_srv.store);
	rg_srv.store = NULL;
	rg_guest_free();
	return 0;
}
