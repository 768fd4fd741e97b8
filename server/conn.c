/*
 * conn: one client connection, independent of its transport.
 *
 * Owns the input framing state, the output queue and the store_conn of the
 * client. Invariants:
 *   - replies leave in request order: requests are handled one at a time
 *     and every reply or event is appended to one FIFO;
 *   - nothing is written from a handler: conn_flush runs from the
 *     before-sleep hook, after the durability barrier, and sends a message
 *     only once the log records it may depend on are durable;
 *   - a dead connection gets no more input, output or events, and is freed
 *     by the reaper, never while a store call may still reference it;
 *   - memory per connection is bounded: the input side by one message
 *     (struct frame_in), the output side by CONN_OUT_SOFT for replies and
 *     CONN_OUT_HARD for watch events (see server-int.h);
 *   - an unprivileged client (a guest ring) is not read while it has as
 *     many requests unanswered as its domain's outstanding quota, or while
 *     output queued for it brings its domain's store memory to the memory
 *     quota. Its requests and replies are never dropped: it only waits.
 *     Watch events, which others' changes cause, cannot wait: those that
 *     would take it over CONN_OUT_HARD or its memory quota are dropped
 *     (conn_event), and once it has read its queue each of its watches
 *     fires once (conn_flush), so nothing it waits for is lost.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/server-int.h"

/* Messages handled per input callback before yielding to other clients. */
#define CONN_INPUT_BATCH 64

struct conn *
conn_new(struct server *srv, const struct conn_ops *ops, void *tp,
	 unsigned int flags, const struct store_caller *caller)
{
	struct conn *c = xcalloc(1, sizeof(*c));

	c->srv = srv;
	c->ops = ops;
	c->tp = tp;
	c->flags = flags;
	c->features = SERVER_SOCKET_FEATURES;
	c->id = ++srv->next_conn_id;
	frame_in_reset(&c->in);
	STAILQ_INIT(&c->out);
	c->sc = store_conn_new(srv->store, caller, c);
	c->st = stats_dom_ref(srv->stats, caller->domid);
	TAILQ_INSERT_TAIL(&srv->conns, c, link);
	srv->nconns++;
	c->want_rd = true;
	conn_mark_busy(c);
	return c;
}

void
conn_mark_busy(struct conn *c)
{
	if (!c->busy) {
		c->busy = true;
		TAILQ_INSERT_TAIL(&c->srv->busy, c, busy_link);
	}
}

static void
conn_out_clear(struct conn *c)
{
	struct conn_out *o;

	while ((o = STAILQ_FIRST(&c->out)) != NULL) {
		STAILQ_REMOVE_HEAD(&c->out, link);
		free(o);
	}
	c->out_bytes = 0;
	c->nreplies = 0;
	c->last_reply = NULL;
}

void
conn_free(struct conn *c)
{
	if (c == NULL)
		return;
	lu_conn_gone(c);
	TAILQ_REMOVE(&c->srv->conns, c, link);
	if (c->busy)
		TAILQ_REMOVE(&c->srv->busy, c, busy_link);
	c->srv->nconns--;
	store_conn_free(c->sc);
	stats_dom_unref(c->srv->stats, c->st);
	conn_out_clear(c);
	free(c->txns);
	c->ops->close(c);
	free(c);
}

void
conn_drop(struct conn *c, const char *reason)
{
	if (c->dead)
		return;
	if (reason)
		log_info("conn %u: dropped: %s", c->id, reason);
	c->dead = true;
	conn_mark_busy(c);
	conn_out_clear(c);
	c->want_rd = c->want_wr = false;
	c->ops->want(c, false, false);
}

bool
conn_input_paused(const struct conn *c)
{
	return c->held || conn_pause_reason(c) != CONN_PAUSE_NONE;
}

/*
 * Bytes an unprivileged client may still have queued before its domain's
 * store memory plus its queued output reaches the memory quota (0 when
 * there); UINT64_MAX without a memory quota.
 */
static uint64_t
conn_memory_room(const struct conn *c, uint32_t domid)
{
	struct store_usage use;
	uint32_t q;

	if (store_quota_get(c->srv->store, domid, STORE_QUOTA_MEMORY, false,
			    &q) != 0 || q == 0)
		return UINT64_MAX;
	store_usage(c->srv->store, domid, &use);
	return use.memory + c->out_bytes >= q ? 0 :
	       q - use.memory - c->out_bytes;
}

enum conn_pause
conn_pause_reason(const struct conn *c)
{
	const struct store_caller *who;
	uint32_t q;

	if (c->out_bytes > CONN_OUT_SOFT)
		return CONN_PAUSE_OUTPUT;
	who = store_conn_caller(c->sc);
	if (who->priv)
		return CONN_PAUSE_NONE;
	if (store_quota_get(c->srv->store, who->domid,
			    STORE_QUOTA_OUTSTANDING, false, &q) == 0 &&
	    q != 0 && c->nreplies >= q)
		return CONN_PAUSE_OUTSTANDING;
	/* Only output pushes it over: a domain at its quota through its
	 * nodes alone must still be read, or it could never remove any. */
	if (c->out_bytes != 0 && conn_memory_room(c, who->domid) == 0)
		return CONN_PAUSE_MEMORY;
	return CONN_PAUSE_NONE;
}

static void
conn_update_want(struct conn *c)
{
	enum conn_pause why;
	bool rd, wr;

	if (c->dead)
		return;
	why = conn_pause_reason(c);
	rd = !c->held && why == CONN_PAUSE_NONE;
	if (c->want_rd && why != CONN_PAUSE_NONE)
		stats_conn_paused(c, why);
	/* Only a full transport needs EPOLLOUT: everything else is written
	 * by the before-sleep hook, and output waiting for the log is woken
	 * by the log's progress. */
	wr = c->wr_blocked && !STAILQ_EMPTY(&c->out);
	if (rd == c->want_rd && wr == c->want_wr)
		return;
	c->want_rd = rd;
	c->want_wr = wr;
	c->ops->want(c, rd, wr);
}

/* One whole request, with the transport's hooks around it. */
static void
conn_dispatch(struct conn *c)
{
	uint64_t tail = durable_tail(c->srv->dur);

	if (c->ops->request && c->ops->request(c, &c->in.hdr))
		return;
	c->last_reply = NULL;
	dispatch_message(c, &c->in.hdr, c->in.payload);
	if (c->ops->handled && !c->dead)
		c->ops->handled(c, tail);
}

void
conn_unhold(struct conn *c)
{
	c->held = false;
	conn_update_want(c);
}

void
conn_handle_input(struct conn *c)
{
	conn_mark_busy(c);
	for (int handled = 0; handled < CONN_INPUT_BATCH;) {
		enum frame_status st;
		size_t want, got;
		void *dst;
		int rc;

		if (c->dead || conn_input_paused(c) || !c->ops->can_read(c))
			break;
		dst = frame_in_space(&c->in, &want);
		rc = c->ops->read(c, dst, want, &got);
		if (rc == -EPIPE) {
			conn_drop(c, NULL);
			return;
		}
		if (rc < 0) {
			conn_drop(c, strerror(-rc));
			return;
		}
		if (got == 0)
			break;
		st = frame_in_commit(&c->in, got);
		if (st == FRAME_TOO_BIG) {
			char why[64];

			snprintf(why, sizeof(why), "message length %u > %u",
				 c->in.hdr.len, XENSTORE_PAYLOAD_MAX);
			conn_drop(c, why);
			return;
		}
		if (st == FRAME_MORE)
			continue;
		conn_dispatch(c);
		frame_in_reset(&c->in);
		handled++;
	}
	conn_update_want(c);
}

/* Takes n written bytes off the front of c's queue. */
static void
conn_out_consume(struct conn *c, size_t n)
{
	struct conn_out *o;

	while (n > 0 && (o = STAILQ_FIRST(&c->out)) != NULL) {
		size_t take = o->len - o->off;
		bool was_reply;

		if (take > n)
			take = n;
		o->off += (uint32_t)take;
		c->out_bytes -= take;
		n -= take;
		if (o->off < o->len)
			break;
		STAILQ_REMOVE_HEAD(&c->out, link);
		if (o == c->last_reply)
			c->last_reply = NULL;
		was_reply = o->reply;
		if (was_reply)
			c->nreplies--;
		free(o);
		if (was_reply && c->ops->replied)
			c->ops->replied(c);
	}
}

/* Scratch for conn_write_batch: the daemon is single-threaded. */
static char conn_wbuf[CONN_WRITE_BATCH];

/*
 * The most bytes one write may gather. A ring takes a write of at most its
 * size whole or not at all, and one longer than that in pieces cut
 * anywhere: a longer batch would put a message that fits in the ring
 * into it in pieces, which a daemon killed in between leaves misframed
 * (ring.c).
 */
static size_t
conn_batch_max(struct conn *c)
{
	size_t max = (c->flags & CONN_RING) ? XENSTORE_RING_SIZE :
					      CONN_WRITE_BATCH;

	/* And no more than the transport takes now: what follows the first
	 * message goes only as far as it fits whole. */
	if (c->ops->room && c->ops->room(c) < max)
		max = c->ops->room(c);
	return max;
}

/*
 * One write of the front of the queue: the first message's unsent part
 * alone, or, when more durable messages follow, as many as fit in
 * conn_batch_max() copied into conn_wbuf (one system call for a burst of
 * replies or events instead of one per message).
 * Sets *len to the bytes offered; returns the transport's result.
 */
static int
conn_write_batch(struct conn *c, uint64_t done, size_t *len, size_t *n)
{
	struct conn_out *o = STAILQ_FIRST(&c->out), *next = STAILQ_NEXT(o, link);
	size_t used, max = conn_batch_max(c);
	char *b = conn_wbuf;

	if (next == NULL || next->seq > done ||
	    (size_t)(o->len - o->off) + next->len > max) {
		*len = o->len - o->off;
		return c->ops->write(c, o->data + o->off, *len, n);
	}
	used = o->len - o->off;
	memcpy(b, o->data + o->off, used);
	for (o = next; o && o->seq <= done && used + o->len <= max;
	     o = STAILQ_NEXT(o, link)) {
		memcpy(b + used, o->data, o->len);
		used += o->len;
	}
	*len = used;
	return c->ops->write(c, b, used, n);
}

/*
 * Writes what the log has made durable, as far as the transport takes it.
 * A transport that takes less than offered is full: c->wr_blocked asks the
 * loop for writability (conn_update_want); otherwise the before-sleep hook
 * flushes again and no EPOLLOUT toggling is needed.
 */
static void
conn_write_out(struct conn *c)
{
	struct conn_out *o;
	uint64_t done = durable_done(c->srv->dur);

	c->wr_blocked = false;
	while (!c->dead && (o = STAILQ_FIRST(&c->out)) != NULL &&
	       o->seq <= done) {
		size_t len, n;
		int rc;

		if (!c->ops->can_write(c)) {
			c->wr_blocked = true;
			break;
		}
		rc = conn_write_batch(c, done, &len, &n);
		if (rc < 0) {
			conn_drop(c, rc == -EPIPE ? NULL : strerror(-rc));
			return;
		}
		conn_out_consume(c, n);
		if (n < len) {
			c->wr_blocked = true;
			break;
		}
	}
}

void
conn_flush(struct conn *c)
{
	conn_write_out(c);
	/* Events were dropped (conn_event) and the client has now read
	 * everything: its watches fire once so that it reads again what
	 * they cover, and no frontend/backend handshake is left waiting on
	 * a lost event. */
	if (c->events_lost && !c->dead && STAILQ_EMPTY(&c->out)) {
		c->events_lost = false;
		store_watch_fire_all(c->sc);
		conn_write_out(c);
	}
	conn_update_want(c);
}

static void
conn_queue(struct conn *c, uint32_t type, uint32_t req_id, uint32_t tx_id,
	   const void *p1, size_t l1, const void *p2, size_t l2, bool reply)
{
	struct xsd_sockmsg hdr = {
		.type = type, .req_id = req_id, .tx_id = tx_id,
		.len = (uint32_t)(l1 + l2),
	};
	struct conn_out *o;

	o = xmalloc(sizeof(*o) + LXS_HDR_SIZE + l1 + l2);
	o->len = LXS_HDR_SIZE + (uint32_t)(l1 + l2);
	o->off = 0;
	o->reply = reply;
	c->nreplies += reply;
	o->seq = durable_tail(c->srv->dur);
	memcpy(o->data, &hdr, LXS_HDR_SIZE);
	if (l1)
		memcpy(o->data + LXS_HDR_SIZE, p1, l1);
	if (l2)
		memcpy(o->data + LXS_HDR_SIZE + l1, p2, l2);
	STAILQ_INSERT_TAIL(&c->out, o, link);
	c->out_bytes += o->len;
	conn_mark_busy(c);
	if (reply)
		c->last_reply = o;
	if (log_access_enabled())
		log_access_msg(c->id, "OUT", &hdr, o->data + LXS_HDR_SIZE);
}

void
conn_reply_raw(struct conn *c, const void *msg, uint32_t len)
{
	struct xsd_sockmsg hdr;

	if (c->dead || len < LXS_HDR_SIZE)
		return;
	memcpy(&hdr, msg, LXS_HDR_SIZE);
	conn_queue(c, hdr.type, hdr.req_id, hdr.tx_id,
		   (const char *)msg + LXS_HDR_SIZE, len - LXS_HDR_SIZE, NULL,
		   0, true);
}

void
conn_queue_raw(struct conn *c, const void *data, uint32_t len, bool reply)
{
	struct conn_out *o = xmalloc(sizeof(*o) + len);

	o->len = len;
	o->off = 0;
	o->reply = reply;
	o->seq = 0;
	memcpy(o->data, data, len);
	c->nreplies += reply;
	STAILQ_INSERT_TAIL(&c->out, o, link);
	c->out_bytes += len;
	conn_mark_busy(c);
}

void
conn_error(struct conn *c, const struct xsd_sockmsg *req, int err)
{
	const char *name = wire_error_name(err);

	if (c->dead)
		return;
	if (name == NULL)
		name = "EINVAL";
	conn_queue(c, XS_ERROR, req->req_id, req->tx_id, name,
		   strlen(name) + 1, NULL, 0, true);
}

void
conn_reply(struct conn *c, const struct xsd_sockmsg *req, uint32_t type,
	   const void *payload, size_t len)
{
	if (c->dead)
		return;
	if (len > XENSTORE_PAYLOAD_MAX) {
		conn_error(c, req, E2BIG);
		return;
	}
	conn_queue(c, type, req->req_id, req->tx_id, payload, len, NULL, 0,
		   true);
}

/*
 * Whether an event of len bytes may be queued for c: always for privileged
 * clients (sockets have their own bound above; dom0's kernel is trusted).
 */
static bool
conn_event_fits(const struct conn *c, size_t len)
{
	const struct store_caller *who = store_conn_caller(c->sc);

	if (who->priv)
		return true;
	return c->out_bytes + len <= CONN_OUT_HARD &&
	       conn_memory_room(c, who->domid) >= len;
}

static void
conn_event_dropped(struct conn *c, const char *path)
{
	uint64_t now = mono_ns();

	c->events_lost = true;
	c->events_dropped++;
	c->events_dropped_unlogged++;
	if (c->events_dropped_logged_ns != 0 &&
	    now - c->events_dropped_logged_ns < CONN_DROP_LOG_NS)
		return;
	log_warn("conn %u (domain %u): not reading: %" PRIu64 " watch "
		 "event(s) dropped over its memory quota (latest for %.64s; "
		 "%" PRIu64 " in all); its watches fire again once it has "
		 "read its queue", c->id,
		 store_conn_caller(c->sc)->domid, c->events_dropped_unlogged,
		 path, c->events_dropped);
	c->events_dropped_unlogged = 0;
	c->events_dropped_logged_ns = now;
}

void
conn_event(struct conn *c, const char *path, const char *token)
{
	size_t lp = strlen(path) + 1, lt = strlen(token) + 1;

	if (c->dead)
		return;
	/* Like cxenstored: an event that cannot be framed is not sent. */
	if (lp + lt > XENSTORE_PAYLOAD_MAX) {
		log_warn("conn %u: watch event for %.64s too long, dropped",
			 c->id, path);
		return;
	}
	if ((c->flags & CONN_DROP_ON_OVERFLOW) &&
	    c->out_bytes + LXS_HDR_SIZE + lp + lt > CONN_OUT_HARD) {
		conn_drop(c, "not reading: watch events queued beyond "
			  "the hard limit");
		return;
	}
	if (!conn_event_fits(c, LXS_HDR_SIZE + lp + lt)) {
		conn_event_dropped(c, path);
		return;
	}
	conn_queue(c, XS_WATCH_EVENT, 0, 0, path, lp, token, lt, false);
}

bool
conn_txn_is_open(const struct conn *c, uint32_t id)
{
	for (uint32_t i = 0; i < c->ntxns; i++)
		if (c->txns[i] == id)
			return true;
	return false;
}

void
conn_txn_add(struct conn *c, uint32_t id)
{
	if (c->ntxns == c->txns_cap) {
		c->txns_cap = c->txns_cap ? c->txns_cap * 2 : 4;
		c->txns = xrealloc(c->txns, c->txns_cap * sizeof(*c->txns));
	}
	c->txns[c->ntxns++] = id;
}

void
conn_txn_del(struct conn *c, uint32_t id)
{
	for (uint32_t i = 0; i < c->ntxns; i++) {
		if (c->txns[i] == id) {
			c->txns[i] = c->txns[--c->ntxns];
			return;
		}
	}
}

void
conn_txn_clear(struct conn *c)
{
	c->ntxns = 0;
}
