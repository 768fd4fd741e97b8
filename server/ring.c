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
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/server-int.h"

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

/* The transport state of one connection. */
struct ring_tp {
	struct domain *dom;	/* NULL once detached: every op does nothing */
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
	struct domain *d = ring_dom(c);
	struct xenstore_domain_interface *intf;
	uint32_t cons, prod, avail, off, first, n;

	*done = 0;
	if (d == NULL)
		return 0;
	intf = d->intf;
	cons = ring_load(&intf->req_cons);
	prod = ring_load(&intf->req_prod);
	ring_barrier_acquire();
	avail = prod - cons;
	if (avail > XENSTORE_RING_SIZE)
		return ring_fail_indices(d, "request", cons, prod);
	n = len < avail ? (uint32_t)len : avail;
	if (n == 0)
		return 0;
	off = MASK_XENSTORE_IDX(cons);
	first = XENSTORE_RING_SIZE - off;
	if (first > n)
		first = n;
	memcpy(buf, intf->req + off, first);
	memcpy((char *)buf + first, intf->req, n - first);
	ring_barrier_full();
	ring_store(&intf->req_cons, cons + n);
	d->kick = true;
	*done = n;
	return 0;
}

static int
ring_write(struct conn *c, const void *buf, size_t len, size_t *done)
{
	struct domain *d = ring_dom(c);
	struct xenstore_domain_interface *intf;
	uint32_t cons, prod, used, off, first, n;

	*done = 0;
	if (d == NULL)
		return 0;
	intf = d->intf;
	cons = ring_load(&intf->rsp_cons);
	prod = ring_load(&intf->rsp_prod);
	ring_barrier_full();
	used = prod - cons;
	if (used > XENSTORE_RING_SIZE)
		return ring_fail_indices(d, "response", cons, prod);
	n = XENSTORE_RING_SIZE - used;
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
	return 0;
}

/* Bad indices count as "ready": the next read or write reports them. */
static bool
ring_can_read(struct conn *c)
{
	struct domain *d = ring_dom(c);

	return d && ring_load(&d->intf->req_prod) !=
		    ring_load(&d->intf->req_cons);
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
}

static void
ring_close(struct conn *c)
{
	struct ring_tp *tp = c->tp;

	if (tp->dom && tp->dom->conn == c)
		tp->dom->conn = NULL;
	free(tp);
}

static const struct conn_ops ring_conn_ops = {
	.read = ring_read,
	.write = ring_write,
	.can_read = ring_can_read,
	.can_write = ring_can_write,
	.want = ring_want,
	.close = ring_close,
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
}

void
ring_connect(struct domain *d)
{
	struct xenstore_domain_interface *intf = d->intf;

	ring_disconnect(d, NULL);
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
	ring_adopt(d);
}

struct conn *
ring_adopt(struct domain *d)
{
	const struct store_caller who = {
		d->domid, d->target, d->priv,
	};
	struct ring_tp *tp = xmalloc(sizeof(*tp));

	tp->dom = d;
	d->conn = conn_new(d->srv, &ring_conn_ops, tp, 0, &who);
	d->conn->features = d->features;
	/* Whatever the guest sent during the handover is read now. */
	d->kick = true;
	return d->conn;
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
