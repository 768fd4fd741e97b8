/*
 * ring: the transport of a guest's connection, over the page it shares
 * with us (struct xenstore_domain_interface, xen/io/xs_wire.h; described
 * in docs/formats/connections.md):
 *
 *   0        1024     2048   2052   2056   2060   2064      2068    2072
 *   | req[]  | rsp[]  | req  | req  | rsp  | rsp  | server_ | conn- | error |
 *   | guest->| ->guest| cons | prod | cons | prod | features| ection|       |
 *
 * The guest produces req[] and consumes rsp[]; we consume req[] and
 * produce rsp[]. Byte x of a stream is at x mod 1024; the indices are
 * free-running 32-bit counters. Rules:
 *   - the page is the only state: no index is cached here, and every
 *     operation reads each index once into a local and checks
 *     prod - cons <= 1024 (unsigned arithmetic) before copying a byte. The
 *     guest may change the page at any moment, so nothing read from it is
 *     used twice;
 *   - consuming: indices, acquire barrier, copy, full barrier, publish the
 *     new cons. Producing: indices, full barrier, copy, release barrier,
 *     publish the new prod;
 *   - bad indices (RINGIDX) or a message over 4096 bytes (PROTO): the
 *     error field is set (if the ERROR feature is offered) and the
 *     connection is dropped with its watches, transactions and queued
 *     output. The domain stays introduced and its ring ignored, until the
 *     guest asks for a reconnect or the toolstack introduces it again;
 *   - every operation that moves bytes marks the domain for one
 *     notification at the end of the iteration (domains_kick).
 * Connections are dispatched exactly like sockets (conn.c); a ring is
 * polled once per loop iteration (domains_poll) instead of waiting for
 * readiness, so want() only serves to notice conn.c giving up on a guest.
 */
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/server-int.h"
#include "wal/wal.h"

_Static_assert(offsetof(struct xenstore_domain_interface, req) == 0,
	       "ring: req at 0");
_Static_assert(offsetof(struct xenstore_domain_interface, rsp) == 1024,
	       "ring: rsp at 1024");
_Static_assert(offsetof(struct xenstore_domain_interface, req_cons) == 2048,
	       "ring: req_cons at 2048");
_Static_assert(offsetof(struct xenstore_domain_interface, rsp_prod) == 2060,
	       "ring: rsp_prod at 2060");
_Static_assert(offsetof(struct xenstore_domain_interface,
			server_features) == 2064, "ring: features at 2064");
_Static_assert(offsetof(struct xenstore_domain_interface, connection) ==
	       2068, "ring: connection at 2068");
_Static_assert(offsetof(struct xenstore_domain_interface, error) == 2072,
	       "ring: error at 2072");
_Static_assert(XENSTORE_RING_SIZE == 1024, "ring: 1024-byte rings");

/*
 * After a restart: a logged reply owed to a request still after req_cons
 * (a copy). Sent when the request is read again, instead of executing it;
 * delivered: it reached the ring before the crash (its rsp_end is at or
 * before the page's rsp_prod, or the rest of it is queued), so the request
 * is passed over without a reply.
 */
struct ring_owed {
	struct wal_reply r;
	bool delivered;
};

/*
 * The transport state of one connection. req_cons is published only past
 * a request whose reply is in rsp[], so that a crash leaves every request
 * without its reply in the ring to be read again (docs/formats/
 * connections.md, "The ring page"): rd_cons is where we read, pub what we
 * last published, and pend the ends of the requests whose replies are not
 * in rsp[] yet.
 */
struct ring_tp {
	struct domain *dom;	/* NULL once detached: every op does nothing */
	uint32_t rd_cons;
	uint32_t pub;
	uint32_t *pend;		/* oldest first */
	uint32_t npend, cappend;
	struct ring_owed *replay;	/* oldest first */
	uint32_t nreplay;
	bool crash_before_reply;	/* test hooks armed (domain.c) */
	bool crash_after_reply;		/* ... for the request ending at: */
	uint32_t crash_after_end;
	/* A message longer than the ring going out in pieces: its bytes not
	 * written yet (0: none); its RING_OUT record, written before the
	 * first piece, is out_seq. */
	uint32_t out_left;
	bool out_logged;
	uint64_t out_seq;
	/* The partial message logged: its first partial_len bytes, up to
	 * partial_end, the last of them in record partial_seq: req_cons may
	 * pass them once that record is durable. */
	bool partial_logged;
	uint32_t partial_end;
	uint32_t partial_len;
	uint64_t partial_seq;
};

/* ---- shared memory access ------------------------------------------------ */

static inline uint32_t
ring_load(const uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static inline void
ring_store(uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

static inline void
ring_barrier_acquire(void)
{
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
}

static inline void
ring_barrier_release(void)
{
	__atomic_thread_fence(__ATOMIC_RELEASE);
}

static inline void
ring_barrier_full(void)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

static struct domain *
ring_dom(const struct conn *c)
{
	const struct ring_tp *tp = c->tp;

	return tp->dom;
}

/*
 * With nothing read ahead of req_cons, the page's req_cons is the truth:
 * a guest may move all four indices of an empty ring (as after a long
 * life); a guest that moves it otherwise only confuses itself.
 */
static void
ring_resync(struct domain *d, struct ring_tp *tp)
{
	uint32_t pc;

	if (tp->rd_cons != tp->pub || tp->npend != 0)
		return;
	pc = ring_load(&d->intf->req_cons);
	if (pc != tp->pub)
		tp->rd_cons = tp->pub = pc;
}

/* Stores req_cons: the guest may reuse everything before pos. */
static void
ring_publish(struct domain *d, struct ring_tp *tp, uint32_t pos)
{
	ring_barrier_full();
	ring_store(&d->intf->req_cons, pos);
	tp->pub = pos;
	d->kick = true;
}

/* Sets the error field, logs, and returns -EPROTO for the caller. */
static int
ring_fail(struct domain *d, uint32_t err, const char *what)
{
	if (d->features & XENSTORE_SERVER_FEATURE_ERROR)
		ring_store(&d->intf->error, err);
	d->error = err;
	log_warn("domain %u: %s; ring ignored (error %u)", d->domid, what, err);
	return -EPROTO;
}

static int
ring_fail_indices(struct domain *d, const char *which, uint32_t cons,
		  uint32_t prod)
{
	char what[96];

	snprintf(what, sizeof(what), "bad %s indices cons %u prod %u", which,
		 cons, prod);
	return ring_fail(d, XENSTORE_ERROR_RINGIDX, what);
}

/* ---- conn_ops ------------------------------------------------------------- */

static int
ring_read(struct conn *c, void *buf, size_t len, size_t *done)
{
	struct ring_tp *tp = c->tp;
	struct domain *d = tp->dom;
	struct xenstore_domain_interface *intf;
	uint32_t cons, prod, avail, off, first, n;

	*done = 0;
	if (d == NULL)
		return 0;
	intf = d->intf;
	ring_resync(d, tp);
	cons = tp->rd_cons;
	prod = ring_load(&intf->req_prod);
	ring_barrier_acquire();
	avail = prod - cons;
	if (prod - tp->pub > XENSTORE_RING_SIZE || avail > prod - tp->pub)
		return ring_fail_indices(d, "request", tp->pub, prod);
	n = len < avail ? (uint32_t)len : avail;
	if (n == 0)
		return 0;
	off = MASK_XENSTORE_IDX(cons);
	first = XENSTORE_RING_SIZE - off;
	if (first > n)
		first = n;
	memcpy(buf, intf->req + off, first);
	memcpy((char *)buf + first, intf->req, n - first);
	tp->rd_cons = cons + n;
	*done = n;
	return 0;
}

/*
 * The message in buf (len bytes, longer than the ring) is about to leave
 * in pieces from response position prod: true once its RING_OUT record is
 * durable. The first call appends it and wakes the loop for the log write
 * and another flush.
 */
static bool
ring_out_logged(struct domain *d, struct ring_tp *tp, const void *buf,
		uint32_t len, uint32_t prod)
{
	struct xsd_sockmsg hdr;
	uint32_t req_end = 0;

	if (tp->out_logged)
		return durable_done(d->srv->dur) >= tp->out_seq;
	memcpy(&hdr, buf, sizeof(hdr));
	/* Replies leave in request order: this one answers pend[0]. */
	if (hdr.type != XS_WATCH_EVENT && tp->npend)
		req_end = tp->pend[0];
	domain_log_ring(d, RING_LOG_OUT, req_end, buf, len, prod + len);
	tp->out_logged = true;
	tp->out_seq = durable_tail(d->srv->dur);
	loop_wake(d->srv->loop);
	return false;
}

static int
ring_write(struct conn *c, const void *buf, size_t len, size_t *done)
{
	struct ring_tp *tp = c->tp;
	struct domain *d = tp->dom;
	struct xenstore_domain_interface *intf;
	uint32_t cons, prod, used, off, first, n;
	bool started;

	*done = 0;
	if (d == NULL)
		return 0;
	if (tp->crash_before_reply) {
		log_err("domain %u: LXS_TEST_CRASH_BEFORE_RING_REPLY: killed "
			"with a logged reply not yet in the ring", d->domid);
		raise(SIGKILL);
	}
	intf = d->intf;
	cons = ring_load(&intf->rsp_cons);
	prod = ring_load(&intf->rsp_prod);
	ring_barrier_full();
	used = prod - cons;
	if (used > XENSTORE_RING_SIZE)
		return ring_fail_indices(d, "response", cons, prod);
	n = XENSTORE_RING_SIZE - used;
	/* What fits in the ring goes in whole (a message, or several: conn.c
	 * offers no more than ring_room): a daemon killed half-way through a
	 * message would leave the guest's stream misframed. */
	if (len <= XENSTORE_RING_SIZE && n < len)
		return 0;
	/* A longer message goes in pieces once it is logged whole, so that
	 * a restarted daemon can send what a crash cut of it. */
	started = tp->out_left == 0 && len > XENSTORE_RING_SIZE;
	if (started && !ring_out_logged(d, tp, buf, (uint32_t)len, prod))
		return 0;
	if (n > len)
		n = (uint32_t)len;
	if (n == 0)
		return 0;
	off = MASK_XENSTORE_IDX(prod);
	first = XENSTORE_RING_SIZE - off;
	if (first > n)
		first = n;
	memcpy(intf->rsp + off, buf, first);
	memcpy(intf->rsp, (const char *)buf + first, n - first);
	ring_barrier_release();
	ring_store(&intf->rsp_prod, prod + n);
	d->kick = true;
	*done = n;
	if (tp->out_left)
		tp->out_left -= n < tp->out_left ? n : tp->out_left;
	else if (started)
		tp->out_left = (uint32_t)len - n;
	if (tp->out_left == 0)
		tp->out_logged = false;
	else if (started &&
		 domain_test_crash_point(d->srv, RING_CRASH_MID_MESSAGE)) {
		log_err("domain %u: LXS_TEST_CRASH_MID_RING_MESSAGE: killed "
			"with %u of %zu bytes in the ring", d->domid, n, len);
		raise(SIGKILL);
	}
	return 0;
}

/* How many bytes ring_write takes now (whole messages: conn.c). */
static size_t
ring_room(struct conn *c)
{
	struct domain *d = ring_dom(c);
	uint32_t used;

	if (d == NULL)
		return 0;
	used = ring_load(&d->intf->rsp_prod) - ring_load(&d->intf->rsp_cons);
	return used > XENSTORE_RING_SIZE ? 0 : XENSTORE_RING_SIZE - used;
}

/* Bad indices count as "ready": the next read or write reports them. */
static bool
ring_can_read(struct conn *c)
{
	struct ring_tp *tp = c->tp;

	if (tp->dom == NULL)
		return false;
	ring_resync(tp->dom, tp);
	return ring_load(&tp->dom->intf->req_prod) != tp->rd_cons;
}

static bool
ring_can_write(struct conn *c)
{
	struct domain *d = ring_dom(c);

	return d && ring_load(&d->intf->rsp_prod) -
		    ring_load(&d->intf->rsp_cons) != XENSTORE_RING_SIZE;
}

/*
 * Rings are polled, so interest does not matter. But conn.c drops a
 * connection through here: if it is still attached (ring_disconnect
 * detaches first) and no error is set yet (bad indices set theirs before
 * failing), conn.c gave up on the guest's framing, i.e. a message over
 * 4096 bytes: tell the guest.
 */
static void
ring_want(struct conn *c, bool rd, bool wr)
{
	struct domain *d = ring_dom(c);

	if (c->dead && d && d->error == XENSTORE_ERROR_NONE)
		(void)ring_fail(d, XENSTORE_ERROR_PROTO,
				"message longer than 4096 bytes");
	/* Dropped by conn.c while attached: its watches go with it. */
	if (c->dead && d)
		domain_log_watches_gone(d);
}

static void
ring_replay_drop(struct ring_tp *tp, uint32_t n)
{
	if (n == 0)
		return;
	for (uint32_t i = 0; i < n; i++)
		free(tp->replay[i].r.data);
	memmove(tp->replay, tp->replay + n,
		(tp->nreplay - n) * sizeof(*tp->replay));
	tp->nreplay -= n;
}

static void
ring_close(struct conn *c)
{
	struct ring_tp *tp = c->tp;

	if (tp->dom && tp->dom->conn == c)
		tp->dom->conn = NULL;
	ring_replay_drop(tp, tp->nreplay);
	free(tp->replay);
	free(tp->pend);
	free(tp);
}

/*
 * A whole request has been read: remember where it ends, and after a
 * restart answer it with its logged reply if it was executed already.
 */
static bool
ring_request(struct conn *c, const struct xsd_sockmsg *hdr)
{
	struct ring_tp *tp = c->tp;
	struct xsd_sockmsg logged;
	uint32_t passed = 0;

	if (tp->npend == tp->cappend) {
		tp->cappend = tp->cappend ? tp->cappend * 2 : 16;
		tp->pend = xrealloc(tp->pend, tp->cappend * sizeof(*tp->pend));
	}
	tp->pend[tp->npend++] = tp->rd_cons;
	if (tp->nreplay == 0)
		return false;
	while (passed < tp->nreplay &&
	       (int32_t)(tp->rd_cons - tp->replay[passed].r.req_end) > 0)
		passed++;
	ring_replay_drop(tp, passed);
	if (tp->nreplay == 0 || tp->replay[0].r.req_end != tp->rd_cons)
		return false;
	memcpy(&logged, tp->replay[0].r.data, sizeof(logged));
	if (logged.req_id != hdr->req_id || logged.tx_id != hdr->tx_id) {
		log_warn("domain %u: the request ending at %u is not the one "
			 "logged there (req_id %u, logged %u): executed",
			 tp->dom->domid, tp->rd_cons, hdr->req_id,
			 logged.req_id);
		ring_replay_drop(tp, 1);
		return false;
	}
	if (tp->replay[0].delivered) {
		/* No reply will pass it: req_cons catches up in ring_settle
		 * (or with the next reply). */
		log_info("domain %u: request %u was answered in the ring "
			 "before the restart: passed over", tp->dom->domid,
			 hdr->req_id);
		tp->npend--;
	} else {
		log_info("domain %u: request %u was executed before the "
			 "restart: its logged reply is sent", tp->dom->domid,
			 hdr->req_id);
		conn_reply_raw(c, tp->replay[0].r.data, tp->replay[0].r.len);
	}
	ring_replay_drop(tp, 1);
	return true;
}

/* A request that changed something: its reply goes into the log too. */
static void
ring_handled(struct conn *c, uint64_t tail)
{
	struct ring_tp *tp = c->tp;
	struct domain *d = tp->dom;
	struct conn_out *o = c->last_reply;

	const struct conn_out *q;
	size_t after = 0;

	if (d == NULL || o == NULL ||
	    durable_tail(d->srv->dur) == tail)
		return;
	/* Where the reply will end in the ring: everything queued goes out
	 * in order, so after what is queued up to it (the initial event of
	 * a WATCH follows it). */
	for (q = STAILQ_NEXT(o, link); q; q = STAILQ_NEXT(q, link))
		after += q->len - q->off;
	domain_log_ring(d, RING_LOG_REPLY, tp->rd_cons, o->data, o->len,
			ring_load(&d->intf->rsp_prod) +
			(uint32_t)(c->out_bytes - after));
	o->seq = durable_tail(d->srv->dur);
	if (domain_test_crash_point(d->srv, RING_CRASH_BEFORE_REPLY))
		tp->crash_before_reply = true;
	if (domain_test_crash_point(d->srv, RING_CRASH_AFTER_REPLY)) {
		tp->crash_after_reply = true;
		tp->crash_after_end = tp->rd_cons;
	}
}

/* The oldest unanswered request has its reply in rsp[]: publish it. */
static void
ring_replied(struct conn *c)
{
	struct ring_tp *tp = c->tp;

	if (tp->dom == NULL || tp->npend == 0)
		return;
	if (tp->crash_after_reply && tp->pend[0] == tp->crash_after_end) {
		log_err("domain %u: LXS_TEST_CRASH_AFTER_RING_REPLY: killed "
			"with a logged reply in the ring, req_cons not past "
			"its request", tp->dom->domid);
		raise(SIGKILL);
	}
	if ((int32_t)(tp->pend[0] - tp->pub) > 0)
		ring_publish(tp->dom, tp, tp->pend[0]);
	memmove(tp->pend, tp->pend + 1, --tp->npend * sizeof(*tp->pend));
}

static const struct conn_ops ring_conn_ops = {
	.read = ring_read,
	.write = ring_write,
	.can_read = ring_can_read,
	.can_write = ring_can_write,
	.want = ring_want,
	.close = ring_close,
	.request = ring_request,
	.handled = ring_handled,
	.replied = ring_replied,
	.room = ring_room,
};

/* ---- connection life -------------------------------------------------------- */

void
ring_disconnect(struct domain *d, const char *why)
{
	struct conn *c = d->conn;
	struct ring_tp *tp;

	if (c == NULL)
		return;
	d->conn = NULL;
	tp = c->tp;
	tp->dom = NULL;
	/* Now, not when the reaper frees it: a new connection of the same
	 * domain must not find its quotas used by the old one. */
	store_reset_watches(c->sc);
	conn_txn_clear(c);
	conn_drop(c, why);
	domain_log_watches_gone(d);
}

/* A new connection serving d's ring from its current indices. */
static struct conn *
ring_new_conn(struct domain *d)
{
	const struct store_caller who = {
		d->domid, d->target, d->priv,
	};
	struct ring_tp *tp = xcalloc(1, sizeof(*tp));

	tp->dom = d;
	d->conn = conn_new(d->srv, &ring_conn_ops, tp, CONN_RING, &who);
	d->conn->features = d->features;
	return d->conn;
}

void
ring_connect(struct domain *d)
{
	struct xenstore_domain_interface *intf = d->intf;

	ring_disconnect(d, NULL);
	domain_log_ring_reset(d);
	ring_store(&intf->req_cons, 0);
	ring_store(&intf->req_prod, 0);
	ring_store(&intf->rsp_cons, 0);
	ring_store(&intf->rsp_prod, 0);
	ring_store(&intf->error, XENSTORE_ERROR_NONE);
	/* Never cleared once offered (ring protocol), and offered before any
	 * byte moves. */
	ring_store(&intf->server_features,
		   ring_load(&intf->server_features) | d->features);
	ring_barrier_release();
	ring_store(&intf->connection, XENSTORE_CONNECTED);
	d->error = XENSTORE_ERROR_NONE;
	d->kick = true;
	(void)ring_new_conn(d);
}

static bool
ring_out_is_reply(const struct wal_reply *m)
{
	struct xsd_sockmsg hdr;

	memcpy(&hdr, m->data, sizeof(hdr));
	return hdr.type != XS_WATCH_EVENT;
}

static bool
ring_owed_has(const struct ring_tp *tp, uint32_t req_end)
{
	for (uint32_t i = 0; i < tp->nreplay; i++)
		if (tp->replay[i].r.req_end == req_end)
			return true;
	return false;
}

/* Adds m, a reply already in the ring, in req_end order. */
static void
ring_owed_add_delivered(struct ring_tp *tp, const struct wal_reply *m)
{
	uint32_t at = 0;

	while (at < tp->nreplay &&
	       (int32_t)(m->req_end - tp->replay[at].r.req_end) > 0)
		at++;
	tp->replay = xrealloc(tp->replay,
			      (tp->nreplay + 1) * sizeof(*tp->replay));
	memmove(tp->replay + at + 1, tp->replay + at,
		(tp->nreplay - at) * sizeof(*tp->replay));
	tp->nreplay++;
	tp->replay[at].r = *m;
	tp->replay[at].r.data = xmalloc(m->len);
	memcpy(tp->replay[at].r.data, m->data, m->len);
	tp->replay[at].delivered = true;
}

/*
 * After a restart: if the message that was going out in pieces (out,
 * logged whole with where it ends) is cut at the page's rsp_prod, its
 * rest is queued first, so that the guest's stream goes on where it
 * stopped. Returns out if it was cut, else NULL.
 */
static const struct wal_reply *
ring_complete_cut(struct domain *d, struct ring_tp *tp,
		  const struct wal_reply *out, uint32_t rsp)
{
	uint32_t start, sent;

	if (out == NULL)
		return NULL;
	start = out->rsp_end - out->len;
	sent = rsp - start;
	if ((int32_t)sent <= 0 || sent >= out->len)
		return NULL;
	conn_queue_raw(d->conn, out->data + sent, out->len - sent, false);
	/* The rest continues a message: no RING_OUT of its own. */
	tp->out_left = out->len - sent;
	log_info("domain %u: a message cut by the crash after %u of %u bytes "
		 "is completed from the log", d->domid, sent, out->len);
	return out;
}

struct conn *
ring_attach(struct domain *d, const struct wal_domain *w)
{
	const struct wal_reply *replies = w->replies, *cut;
	uint32_t n = w->nreplies;
	struct xenstore_domain_interface *intf = d->intf;
	uint32_t err = ring_load(&intf->error);
	struct ring_tp *tp;
	uint32_t pub, rsp;

	/* Ignored before the restart: ignored still, until a reset. */
	if (err != XENSTORE_ERROR_NONE) {
		d->error = err;
		return NULL;
	}
	ring_store(&intf->server_features,
		   ring_load(&intf->server_features) | d->features);
	d->error = XENSTORE_ERROR_NONE;
	d->kick = true;
	ring_new_conn(d);
	tp = d->conn->tp;
	pub = ring_load(&intf->req_cons);
	tp->rd_cons = tp->pub = pub;
	rsp = ring_load(&intf->rsp_prod);
	cut = ring_complete_cut(d, tp, w->out, rsp);
	/* Only replies to requests not yet behind req_cons can be owed. */
	tp->replay = xcalloc(n ? n : 1, sizeof(*tp->replay));
	for (uint32_t i = 0; i < n; i++) {
		int32_t ahead = (int32_t)(replies[i].req_end - pub);
		struct ring_owed *o;

		if (ahead <= 0 || ahead > (int32_t)XENSTORE_RING_SIZE)
			continue;
		o = &tp->replay[tp->nreplay++];
		o->r = replies[i];
		o->r.data = xmalloc(o->r.len);
		memcpy(o->r.data, replies[i].data, o->r.len);
		/* In the ring whole, or cut and its rest queued. */
		o->delivered = replies[i].has_rsp_end &&
			       ((int32_t)(rsp - replies[i].rsp_end) >= 0 ||
				(cut && cut->rsp_end == replies[i].rsp_end));
	}
	/* A reply cut that was not logged as a change (a read's): its
	 * request is passed over too. */
	if (cut && ring_out_is_reply(cut) && !ring_owed_has(tp, cut->req_end))
		ring_owed_add_delivered(tp, cut);
	/* A message consumed in part, up to exactly where req_cons is: its
	 * first bytes are no longer in the ring, but in the log. */
	if (w->partial && w->partial_end == pub) {
		size_t used;

		if (frame_in_feed(&d->conn->in, w->partial, w->partial_len,
				  &used) != FRAME_MORE || used != w->partial_len)
			frame_in_reset(&d->conn->in);
		else
			log_info("domain %u: %u bytes of a partly read message "
				 "restored", d->domid, w->partial_len);
	}
	return d->conn;
}

/*
 * Logs the bytes of the message c has read in part (header, then payload)
 * that are not logged yet, so that req_cons may move past them. Only new
 * bytes: a guest trickling a message costs the log its size, not more.
 */
static void
ring_log_partial(struct domain *d, struct conn *c, struct ring_tp *tp)
{
	const struct frame_in *f = &c->in;
	bool more = tp->partial_logged &&
		    tp->partial_end - tp->partial_len == tp->rd_cons - f->got &&
		    tp->partial_len < f->got;
	uint32_t from = more ? tp->partial_len : 0;
	unsigned char *bytes = xmalloc(f->got);

	frame_in_copy(f, bytes);
	domain_log_ring(d, more ? RING_LOG_PARTIAL_MORE : RING_LOG_PARTIAL,
			tp->rd_cons, bytes + from, f->got - from, 0);
	free(bytes);
	tp->partial_logged = true;
	tp->partial_end = tp->rd_cons;
	tp->partial_len = f->got;
	tp->partial_seq = durable_tail(d->srv->dur);
	/* Another iteration writes the record, then publishes. */
	loop_wake(d->srv->loop);
}

void
ring_settle(struct domain *d)
{
	struct conn *c = d->conn;
	struct ring_tp *tp;

	if (c == NULL || c->dead)
		return;
	tp = c->tp;
	/* Every request read so far is answered in rsp[]. */
	if (c->nreplies != 0 || tp->rd_cons == tp->pub)
		return;
	/* A partial message (the guest may need the room to finish it): its
	 * bytes go into the log first. */
	if (c->in.got != 0) {
		if (!tp->partial_logged || tp->partial_end != tp->rd_cons) {
			ring_log_partial(d, c, tp);
			return;
		}
		if (durable_done(d->srv->dur) < tp->partial_seq)
			return;
	}
	ring_publish(d, tp, tp->rd_cons);
	tp->npend = 0;
}

struct domain *
ring_conn_domain(const struct conn *c)
{
	return c->ops == &ring_conn_ops ? ring_dom(c) : NULL;
}

/*
 * Live update: a connection for d's ring (mapped again by the caller) in
 * the new daemon. The guest's req_cons is where the old daemon published;
 * rd_cons is how far it had read (the requests in between are answered by
 * the handed-over output queue and must not be read again).
 */
struct conn *
ring_adopt(struct domain *d, uint32_t rd_cons)
{
	struct ring_tp *tp;

	ring_new_conn(d);
	tp = d->conn->tp;
	tp->pub = ring_load(&d->intf->req_cons);
	tp->rd_cons = rd_cons;
	/* Whatever the guest sent during the handover is read now. */
	d->kick = true;
	return d->conn;
}

uint32_t
ring_read_pos(const struct domain *d)
{
	const struct ring_tp *tp = d->conn ? d->conn->tp : NULL;

	return tp ? tp->rd_cons : ring_load(&d->intf->req_cons);
}

bool
ring_conn_domid(const struct conn *c, uint32_t *domid)
{
	const struct ring_tp *tp = c->tp;

	if (c->ops != &ring_conn_ops || tp->dom == NULL)
		return false;
	*domid = tp->dom->domid;
	return true;
}

bool
ring_wants_reconnect(const struct domain *d)
{
	return d->intf != NULL &&
	       (d->features & XENSTORE_SERVER_FEATURE_RECONNECTION) &&
	       ring_load(&d->intf->connection) == XENSTORE_RECONNECT;
}
