/*
 * server-int: what the files of server/ share and nobody else sees.
 *
 * Layout of one loop iteration (loop.c drives it, server.c defines the hook):
 *
 *   epoll_wait -> fd callbacks: read whole messages, dispatch each one;
 *                 handlers only QUEUE replies and watch events
 *              -> due timers
 *   before-sleep hook:
 *      1. guest rings: reconnect requests, then input read and dispatched
 *         like a socket's (domain.c, ring.c); sockets' read-ahead input
 *         that epoll will not report again (sock.c)
 *      2. durability barrier: the log records of this iteration are
 *         written (durable.c)
 *      3. flush the output queues of every connection, each message only
 *         once the log records it may depend on are durable
 *      4. free connections marked dead
 *      5. notify the event channel of every ring that moved
 *
 * No byte leaves the daemon from a handler, and none before the records
 * it depends on, so nothing a client observes can be lost by a crash.
 */
#ifndef LXS_SERVER_INT_H
#define LXS_SERVER_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include "common/common.h"
#include "store/store.h"
#include "server/server.h"

/* ---- loop.c: epoll, timers, before-sleep ------------------------------- */

struct loop;

#define LOOP_READ	1u
#define LOOP_WRITE	2u

/* mask: LOOP_READ/LOOP_WRITE that fired; hang-up and errors report both. */
typedef void loop_fd_fn(struct loop *l, int fd, unsigned int mask, void *arg);
typedef void loop_timer_fn(struct loop *l, uint64_t id, void *arg);
typedef void loop_hook_fn(struct loop *l, void *arg);

/* Caller frees with loop_free. Returns NULL (errno set) if epoll fails. */
struct loop *loop_new(void);
/* Does not close the registered fds. NULL is a no-op. */
void loop_free(struct loop *l);
/* Registers fd (not owned) with interest mask. Returns 0 or -errno. */
int loop_add_fd(struct loop *l, int fd, unsigned int mask, loop_fd_fn *fn,
		void *arg);
/* Changes the interest of a registered fd. Returns 0 or -errno. */
int loop_set_fd(struct loop *l, int fd, unsigned int mask);
/* Unregisters fd; pending events of this iteration are not delivered. */
void loop_del_fd(struct loop *l, int fd);
/* One-shot timer after ms milliseconds; returns its id (never 0). */
uint64_t loop_add_timer(struct loop *l, uint64_t ms, loop_timer_fn *fn,
			void *arg);
/* Cancels a timer; unknown or fired ids are ignored. */
void loop_del_timer(struct loop *l, uint64_t id);
/* Sets the hook run before every wait (NULL: none). */
void loop_set_before_sleep(struct loop *l, loop_hook_fn *fn, void *arg);
/*
 * The next wait returns at once: work is left that no fd will announce
 * (ring input beyond one batch). Callable from the hook.
 */
void loop_wake(struct loop *l);
/* CLOCK_MONOTONIC ms read when the last wait returned: a clock for
 * per-request counters that costs nothing per request. */
uint64_t loop_time_ms(const struct loop *l);
/*
 * Runs the hook, waits at most max_ms (-1: until an event or a timer), and
 * delivers what is ready. Returns 0, or -errno if epoll_wait failed.
 */
int loop_run_once(struct loop *l, int max_ms);

/* ---- frame.c: incoming message framing -------------------------------- */

/*
 * Wire message: a 16-byte header in native byte order, then len payload
 * bytes (len <= XENSTORE_PAYLOAD_MAX, 4096).
 *
 *   0        4        8        12       16
 *   | type   | req_id | tx_id  | len    | payload ...
 */
_Static_assert(sizeof(struct xsd_sockmsg) == 16, "wire header is 16 bytes");

enum frame_status {
	FRAME_MORE,	/* need more bytes */
	FRAME_DONE,	/* hdr and payload hold one whole message */
	FRAME_TOO_BIG,	/* the header's len exceeds XENSTORE_PAYLOAD_MAX */
};

struct frame_in {
	struct xsd_sockmsg hdr;
	uint32_t got;		/* header + payload bytes received */
	/* One spare byte so that the payload is always NUL-terminated. */
	char payload[XENSTORE_PAYLOAD_MAX + 1];
};

void frame_in_reset(struct frame_in *f);
/* Where the next bytes go and how many the current message still needs. */
void *frame_in_space(struct frame_in *f, size_t *len);
/* Accounts n bytes written at frame_in_space(). */
enum frame_status frame_in_commit(struct frame_in *f, size_t n);
/*
 * Copies from data as far as the end of the current message; *used gets the
 * bytes taken. After FRAME_DONE the caller consumes the message and resets.
 */
enum frame_status frame_in_feed(struct frame_in *f, const void *data,
				size_t len, size_t *used);
/*
 * Copies the f->got bytes taken so far, as they came (header, then
 * payload), to dst, which has room for them: what frame_in_feed takes
 * back. Returns f->got.
 */
uint32_t frame_in_copy(const struct frame_in *f, void *dst);

/* ---- conn.c: one client connection over some transport ---------------- */

struct conn;
struct server;

/*
 * A transport: a unix socket (sock.c) or a guest's shared-memory ring
 * (ring.c); dispatch sees only struct conn.
 *   read/write: move up to len bytes; *done = 0 means "not now". -errno on
 *               failure (the connection is then dropped); the peer closing
 *               is -EPIPE.
 *   can_read/can_write: whether read/write may make progress now.
 *   want: which directions the connection waits for (a socket updates its
 *         epoll interest; a ring, polled every iteration, ignores it).
 *         conn_drop calls want(c, false, false) with c->dead set.
 *   close: release the transport; called once, from conn_free.
 */
struct conn_ops {
	int (*read)(struct conn *c, void *buf, size_t len, size_t *done);
	int (*write)(struct conn *c, const void *buf, size_t len, size_t *done);
	bool (*can_read)(struct conn *c);
	bool (*can_write)(struct conn *c);
	void (*want)(struct conn *c, bool rd, bool wr);
	void (*close)(struct conn *c);
	/* Optional (NULL for sockets). request: a whole message was read,
	 * before dispatch; true if the transport answered it itself (a ring
	 * replaying a logged reply after a restart). handled: after dispatch;
	 * tail is durable_tail() before it, so a change is tail advancing.
	 * replied: a reply has been written completely. */
	bool (*request)(struct conn *c, const struct xsd_sockmsg *hdr);
	void (*handled)(struct conn *c, uint64_t tail);
	void (*replied)(struct conn *c);
	/* Optional: input already taken from the peer but not yet read by
	 * conn (a socket's read-ahead); the before-sleep hook then reads on,
	 * since no readiness event will come for it. */
	bool (*pending)(struct conn *c);
	/* Optional (NULL: any): how many bytes write takes now. Several
	 * messages go into one write only as far as they fit, so that a
	 * transport that keeps messages whole (a ring) is never offered a
	 * cut between two of them. */
	size_t (*room)(struct conn *c);
};

/*
 * Output bounds per connection. Soft: while more than this is queued, the
 * connection's input is not read (a client must read its replies to send
 * more requests), so replies alone never exceed soft + one reply. Hard: a
 * socket client whose queue watch events push past this is dropped (it is
 * not reading; without a bound a writer elsewhere makes us grow forever).
 */
#define CONN_OUT_SOFT	(64u * 1024)
#define CONN_OUT_HARD	(4u * 1024 * 1024)
#define CONN_DROP_LOG_NS (10ull * 1000000000)
/* Bytes of queued messages gathered into one write (conn_flush); a ring's
 * writes gather at most XENSTORE_RING_SIZE. */
#define CONN_WRITE_BATCH (64u * 1024)

#define CONN_READONLY	1u	/* mutations get EACCES */
#define CONN_DROP_ON_OVERFLOW 2u /* drop at CONN_OUT_HARD (sockets) */
#define CONN_RING	4u	/* a guest's shared-memory ring */

/* Why input is paused (conn_pause_reason); logged and counted by stats.c. */
enum conn_pause {
	CONN_PAUSE_NONE,
	CONN_PAUSE_OUTPUT,	/* more than CONN_OUT_SOFT queued */
	CONN_PAUSE_OUTSTANDING,	/* the domain's outstanding quota */
	CONN_PAUSE_MEMORY,	/* queued output reaches the memory quota */
	CONN_PAUSE_COUNT
};

/* Message queued for output: header and payload, contiguous. */
struct conn_out {
	STAILQ_ENTRY(conn_out) link;
	uint64_t seq;		/* last log record it may depend on */
	uint32_t len;
	uint32_t off;		/* bytes already written */
	bool reply;		/* answers a request (not a watch event) */
	char data[];
};

struct conn {
	TAILQ_ENTRY(conn) link;
	/* On srv->busy: it may have input read ahead, output or be dead. */
	TAILQ_ENTRY(conn) busy_link;
	bool busy;
	struct server *srv;
	const struct conn_ops *ops;
	void *tp;			/* transport state, owned by ops */
	uint32_t id;			/* for logs */
	unsigned int flags;		/* CONN_* */
	bool dead;			/* freed at the end of the iteration */
	bool want_rd, want_wr;		/* last interest given to ops->want */
	bool wr_blocked;		/* the transport took less than offered */
	struct store_conn *sc;
	uint32_t features;		/* XENSTORE_SERVER_FEATURE_* it has */
	struct frame_in in;
	STAILQ_HEAD(, conn_out) out;
	size_t out_bytes;		/* sum of unwritten bytes in out */
	uint32_t nreplies;		/* replies in out: requests outstanding */
	/* The reply queued by the request being dispatched (or NULL). */
	struct conn_out *last_reply;
	/* Serves a guest's ring again after a daemon restart: a header
	 * tx_id it does not know is a transaction the crash lost (EAGAIN). */
	bool restored;
	/* A request is waiting for its reply (live update): not read. */
	bool held;
	/* Open transaction ids: a header tx_id must name one of them. */
	uint32_t *txns;
	uint32_t ntxns, txns_cap;
	/* Watch events not queued for an unprivileged client over its
	 * bound (conn_event), in all and since the last log line; lost:
	 * its watches fire again once its queue is empty (conn_flush). */
	bool events_lost;
	uint64_t events_dropped, events_dropped_unlogged;
	uint64_t events_dropped_logged_ns;
	struct stats_dom *st;		/* its domain's counters, or NULL */
};

/*
 * Creates a connection with the given caller identity and registers it with
 * the server; tp is handed to ops (ops->close releases it). Its features
 * are SERVER_SOCKET_FEATURES until the creator says otherwise. Freed by
 * conn_free, normally through conn_drop and the before-sleep reaper.
 */
struct conn *conn_new(struct server *srv, const struct conn_ops *ops,
		      void *tp, unsigned int flags,
		      const struct store_caller *caller);
/* Releases everything including the transport. NULL is a no-op. */
void conn_free(struct conn *c);
/*
 * Puts c on srv->busy, for the before-sleep pass to read what it has read
 * ahead, flush its output and reap it if dead; the pass takes it off once
 * it has none of these. Called by whatever may give it any of them.
 */
void conn_mark_busy(struct conn *c);
/*
 * Marks c dead and discards its output; freed before the next wait. reason
 * is logged; NULL for an orderly close by the peer.
 */
void conn_drop(struct conn *c, const char *reason);
/* The transport has input: read and dispatch while allowed. */
void conn_handle_input(struct conn *c);
/*
 * Writes queued output as far as the transport takes it (what the log has
 * made durable); fires the client's watches once if events were dropped
 * and its queue is now empty (conn_event); updates interest.
 */
void conn_flush(struct conn *c);
/*
 * Whether input is paused: too much output is queued, or (unprivileged
 * callers) the domain's outstanding quota is reached, or queued output
 * brings its memory to the memory quota. Nothing is dropped: reading
 * resumes once the client has read its replies.
 */
bool conn_input_paused(const struct conn *c);
/* The same test, saying which bound holds input back. */
enum conn_pause conn_pause_reason(const struct conn *c);
/*
 * Queues a reply with the request's req_id and tx_id. A payload over
 * XENSTORE_PAYLOAD_MAX is replaced by an E2BIG error.
 */
void conn_reply(struct conn *c, const struct xsd_sockmsg *req, uint32_t type,
		const void *payload, size_t len);
/* Queues a complete message (header + payload, copied) as a reply. */
void conn_reply_raw(struct conn *c, const void *msg, uint32_t len);
/*
 * Live update: queues bytes handed over from the old daemon (messages or
 * the rest of one), durable already.
 */
void conn_queue_raw(struct conn *c, const void *data, uint32_t len,
		    bool reply);
/* Queues XS_ERROR "E...\0" for a positive errno (unknown ones as EINVAL). */
void conn_error(struct conn *c, const struct xsd_sockmsg *req, int err);
/*
 * Queues a WATCH_EVENT "path\0token\0". Bounds (XSA-326): a socket client
 * (CONN_DROP_ON_OVERFLOW) is dropped when its queue would pass
 * CONN_OUT_HARD; for an unprivileged client (a guest) the event is dropped
 * instead, when its queue would pass CONN_OUT_HARD or bring its domain's
 * memory (store memory + queued output) over the memory quota, as
 * cxenstored charges events to that quota. Drops are counted and logged at
 * most every CONN_DROP_LOG_NS per connection; once the client has read its
 * whole queue, each of its watches fires once (store_watch_fire_all).
 */
void conn_event(struct conn *c, const char *path, const char *token);
/* The held request got its reply: reading resumes. */
void conn_unhold(struct conn *c);
/* Transaction ids this connection holds open. */
bool conn_txn_is_open(const struct conn *c, uint32_t id);
void conn_txn_add(struct conn *c, uint32_t id);
void conn_txn_del(struct conn *c, uint32_t id);
void conn_txn_clear(struct conn *c);

/* ---- sock.c: unix socket listeners and socket transport --------------- */

struct sock_listener;

/*
 * Binds and listens on path (mode 0600, parent created), after removing a
 * stale socket; -EADDRINUSE if a live daemon answers. Accepted connections
 * are privileged dom0 clients, read-only if ro. Caller frees with
 * sock_listener_free (which unlinks path).
 */
int sock_listen(struct server *srv, const char *path, bool ro,
		struct sock_listener **out);
void sock_listener_free(struct sock_listener *sl);
/* The listening descriptor (borrowed). */
int sock_listener_fd(const struct sock_listener *sl);
/*
 * Live update: a listener from a descriptor already bound to path and
 * listening; owned (and path unlinked by sock_listener_free) on success,
 * left to the caller on failure. Returns 0 or -errno.
 */
int sock_listener_adopt(struct server *srv, int fd, const char *path,
			bool ro, struct sock_listener **out);
/* The socket of a socket connection (borrowed), -1 for other transports. */
int sock_conn_fd(const struct conn *c);
/* Live update: a connection over an accepted socket fd (owned from now on). */
struct conn *sock_conn_adopt(struct server *srv, int fd, unsigned int flags,
			     const struct store_caller *caller);
/* Input read ahead from c's socket and not taken yet (borrowed). */
void sock_conn_pending(const struct conn *c, const void **data,
		       uint32_t *len);
/* Live update: data (copied) is read before anything from the socket. */
void sock_conn_preload(struct conn *c, const void *data, uint32_t len);

/* ---- dispatch.c: request table --------------------------------------- */

/* One request being handled; reply is the handler's scratch and answer. */
struct op_req {
	struct conn *c;
	struct server *srv;
	const struct xsd_sockmsg *hdr;
	const char *payload;		/* NUL after the last byte */
	uint32_t len;
	struct buf reply;		/* sent as the reply on success */
	bool replied;			/* handler queued its reply itself */
};

#define OP_PRIV		1u	/* privileged callers only (EACCES) */
#define OP_MUTATES	2u	/* refused on the read-only socket (EACCES) */
#define OP_ANY_TX	4u	/* header tx_id is not looked up */
#define OP_LOGGED	8u	/* a change logged at once (durable_check) */

/* Returns 0 with the answer in r->reply (or r->replied), or -errno. */
typedef int op_fn(struct op_req *r);

struct op_entry {
	const char *name;
	op_fn *handler;
	unsigned int flags;
};

/* Handles one whole message: checks, handler, then reply or error. */
void dispatch_message(struct conn *c, const struct xsd_sockmsg *hdr,
		      const char *payload);
/* The entry for a type, or NULL if the type is unknown or client-illegal. */
const struct op_entry *dispatch_lookup(uint32_t type);

/*
 * Argument rules. op_args: the payload is min..max NUL-terminated strings
 * and nothing after the last NUL; argv (room for max) points into it.
 * Returns the count or -EINVAL.
 */
int op_args(const struct op_req *r, unsigned int min, unsigned int max,
	    const char **argv);
/* Queues r->reply now (before e.g. a watch event). */
void op_reply_now(struct op_req *r);
void op_reply_str(struct op_req *r, const char *s);	/* s with its NUL */
/* Strict decimal domid 0..65535, or -EINVAL. */
int op_parse_domid(const char *s, uint32_t *out);
/* Whether the store has usage or quota overrides for domid. */
bool op_domain_known(struct server *srv, uint32_t domid);

int op_read(struct op_req *r);
int op_write(struct op_req *r);
int op_mkdir(struct op_req *r);
int op_rm(struct op_req *r);
int op_directory(struct op_req *r);
int op_directory_part(struct op_req *r);
int op_get_perms(struct op_req *r);
int op_set_perms(struct op_req *r);
int op_watch(struct op_req *r);
int op_unwatch(struct op_req *r);
int op_reset_watches(struct op_req *r);
int op_transaction_start(struct op_req *r);
int op_transaction_end(struct op_req *r);
int op_get_domain_path(struct op_req *r);
int op_is_domain_introduced(struct op_req *r);
int op_introduce(struct op_req *r);
int op_release(struct op_req *r);
int op_resume(struct op_req *r);
int op_set_target(struct op_req *r);
int op_get_feature(struct op_req *r);
int op_set_feature(struct op_req *r);
int op_get_quota(struct op_req *r);
int op_set_quota(struct op_req *r);
int op_control(struct op_req *r);

/* Features of socket (dom0) connections: WATCHDEPTH | ERROR. */
#define SERVER_SOCKET_FEATURES \
	(XENSTORE_SERVER_FEATURE_WATCHDEPTH | XENSTORE_SERVER_FEATURE_ERROR)
/* Features a guest ring offers by default: RECONNECTION too. */
#define SERVER_RING_FEATURES \
	(SERVER_SOCKET_FEATURES | XENSTORE_SERVER_FEATURE_RECONNECTION)
/* Every feature bit the server implements (SET_FEATURE accepts these). */
#define SERVER_KNOWN_FEATURES SERVER_RING_FEATURES

/* ---- domain.c: guest domains, event channels, grant mappings ----------- */

struct domains;

/*
 * One domain the daemon knows: introduced (its ring mapped, its event
 * channel bound), or only configured by SET_FEATURE before INTRODUCE.
 * Owns the mapping and the local port; its connection (conn, which
 * points back through the ring transport) is replaced on every reset and
 * is NULL while the ring is ignored after a guest's protocol error.
 */
struct domain {
	TAILQ_ENTRY(domain) link;
	struct server *srv;
	uint32_t domid;
	uint32_t target;		/* SET_TARGET, or LXS_DOMID_INVALID */
	uint32_t features;		/* offered in server_features */
	bool introduced;
	bool priv;			/* dom0's kernel ring (xsd_kva) */
	bool shutdown;			/* cleared by RESUME */
	bool kick;			/* notify before the next wait */
	uint64_t gfn;			/* as INTRODUCE gave it */
	uint32_t remote_port;		/* the guest's end */
	uint32_t local_port;		/* ours, from bind_interdomain */
	struct xenstore_domain_interface *intf;
	struct conn *conn;
	uint32_t error;			/* last XENSTORE_ERROR_* set, 0 */
	uint64_t resets;		/* reconnects and re-INTRODUCEs */
	uint32_t adopt_rd_cons;		/* live update: read so far */
	/* Xen's handle (UUID) of the domain behind domid, all zero while
	 * unknown: another one at the same domid is another domain. */
	uint8_t handle[16];
};

/*
 * Opens the event channel and grant table interfaces and dom0's kernel
 * ring (cfg->xsd_kva/xsd_port) if they exist. Without Xen (no /dev/xen,
 * no fake) this succeeds with rings disabled: INTRODUCE then answers
 * ENOSYS. Sets srv->doms. Returns 0 or -errno (logged).
 */
int domains_open(struct server *srv);
/* Unbinds and unmaps everything. Connections must be freed first. */
void domains_close(struct server *srv);
/* Before-sleep, first step: reconnect requests and ring input. */
void domains_poll(struct server *srv);
/* Before-sleep, last step: notifications; wakes the loop if input is left. */
void domains_kick(struct server *srv);

/* The domain record for domid (borrowed, owned by srv->doms), or NULL. */
struct domain *domain_find(struct server *srv, uint32_t domid);
/* INTRODUCE: maps, binds and connects, or resets a known domain. */
int domain_introduce(struct server *srv, uint32_t domid, uint64_t gfn,
		     uint32_t port);
/* RELEASE: -EINVAL for domain 0, -ENOENT if not introduced. */
int domain_release(struct server *srv, uint32_t domid);
/* RESUME: the same errors as RELEASE. */
int domain_resume(struct server *srv, uint32_t domid);
/* SET_TARGET: both introduced (or the target 0), else -ENOENT. */
int domain_set_target(struct server *srv, uint32_t domid, uint32_t tdomid);
/* GET/SET_FEATURE of a given domain. */
int domain_get_features(struct server *srv, uint32_t domid, uint32_t *out);
int domain_set_features(struct server *srv, uint32_t domid, uint32_t bits);
/* IS_DOMAIN_INTRODUCED: 0 and DOMID_SELF always are. */
bool domain_is_introduced(struct server *srv, uint32_t domid);

/*
 * The log's (and live update's) view of a domain: a plain struct wal_domain
 * (wal/wal.h) without watches and handles. export fills *out; import sets
 * d's identity fields from w (not its mapping, port binding or
 * connection).
 */
struct wal_domain;
void domain_export(const struct domain *d, struct wal_domain *out);
void domain_import(struct domain *d, const struct wal_domain *w);
/*
 * Logs a WATCH (add) or UNWATCH of c if c is a ring connection (a
 * guest's or dom0's kernel's); nothing for sockets. Strings borrowed.
 */
void domain_log_watch(struct conn *c, bool add, const char *path,
		      const char *token, int depth);
/* d's connection lost its watches: logged if the table has any. */
void domain_log_watches_gone(struct domain *d);
/* d's ring was reset: logged if the table has replies for it. */
void domain_log_ring_reset(struct domain *d);
/*
 * Logs, for d's ring (bytes borrowed): REPLY, the reply to the request
 * that ended at request position end, which will end at response
 * position rsp_end in the ring; PARTIAL, the first len bytes of a message
 * read in part, which end at end; PARTIAL_MORE, len more bytes of that
 * message, up to end; OUT, a message longer than the ring about to go
 * out in pieces, ending at rsp_end (end: its request's, for a reply; 0
 * for a watch event).
 */
enum ring_log { RING_LOG_REPLY, RING_LOG_PARTIAL, RING_LOG_PARTIAL_MORE,
	RING_LOG_OUT };
void domain_log_ring(struct domain *d, enum ring_log what, uint32_t end,
		     const void *bytes, uint32_t len, uint32_t rsp_end);
/*
 * The crash hooks (tests only), each armed by its environment variable
 * =N and true for its N-th occasion since start, when the daemon then
 * kills itself: BEFORE_REPLY (LXS_TEST_CRASH_BEFORE_RING_REPLY), right
 * before a logged ring reply is written into the ring; AFTER_REPLY
 * (LXS_TEST_CRASH_AFTER_RING_REPLY), right after it is in the ring, before
 * req_cons moves past its request; MID_MESSAGE
 * (LXS_TEST_CRASH_MID_RING_MESSAGE), right after the first piece of a
 * message longer than the ring.
 */
enum ring_crash { RING_CRASH_BEFORE_REPLY, RING_CRASH_AFTER_REPLY,
	RING_CRASH_MID_MESSAGE, RING_CRASH_COUNT };
bool domain_test_crash_point(struct server *srv, enum ring_crash which);

/* ---- xenctrl.c: what the hypervisor says about a domain ----------------- */

#define XENCTRL_HANDLE_SIZE	16

struct xenctrl;

/* One domain as libxenctrl reports it. */
struct xenctrl_dominfo {
	bool exists;			/* false: no domain with this id */
	bool dying;			/* being destroyed */
	bool shutdown;			/* shut down, crashed or suspended */
	uint8_t handle[XENCTRL_HANDLE_SIZE];
};

/*
 * Opens libxenctrl, whose messages are silenced; NULL (logged once, as
 * "domain death is not detected") when it cannot be. Free with
 * xenctrl_close (NULL is a no-op).
 */
struct xenctrl *xenctrl_open(void);
void xenctrl_close(struct xenctrl *x);
/*
 * Fills *out for domid (exists false when Xen has no such domain).
 * Returns 0, or -errno when Xen cannot be asked (logged once until a call
 * succeeds again).
 */
int xenctrl_dominfo(struct xenctrl *x, uint32_t domid,
		    struct xenctrl_dominfo *out);

/* ---- ring.c: the ring transport ----------------------------------------- */

/*
 * Resets d's ring (indices 0, error cleared, server_features written,
 * connection CONNECTED) and gives d a new connection; the old one, if any,
 * loses its watches, transactions and queued output at once. The guest is
 * notified at the end of the iteration.
 */
void ring_connect(struct domain *d);
/*
 * After a daemon restart: a connection for d's ring as the guest left it
 * (indices, partial messages in the ring and connection field untouched;
 * server_features offered again), also set as d->conn (borrowed: the
 * server owns it; w is read, not kept). A ring whose error field is set
 * stays ignored: NULL. The guest is notified at the end of the iteration.
 */
struct wal_domain;
struct conn *ring_attach(struct domain *d, const struct wal_domain *w);
/*
 * Before-sleep, last step: publishes req_cons up to everything read when
 * every reply is in rsp[] (catches up on requests without a reply), and
 * past a partial message once its bytes are durable in the log.
 */
void ring_settle(struct domain *d);
/* The domain c serves if c is an attached ring connection, else NULL. */
struct domain *ring_conn_domain(const struct conn *c);
/*
 * Live update: a connection for d's ring in the new daemon, the guest's
 * indices untouched; rd_cons is how far the old daemon had read (ahead of
 * the published req_cons while replies wait in the handed-over queue).
 * Also set as d->conn (borrowed: the server owns it). The caller fills in
 * the rest of the handed-over state.
 */
struct conn *ring_adopt(struct domain *d, uint32_t rd_cons);
/* How far d's ring has been read (live update export). */
uint32_t ring_read_pos(const struct domain *d);
/* Whether c is a ring connection, and of which domain. */
bool ring_conn_domid(const struct conn *c, uint32_t *domid);
/* Drops d's connection (its watches and transactions at once), if any. */
void ring_disconnect(struct domain *d, const char *why);
/* The guest set connection = RECONNECT and the feature is offered. */
bool ring_wants_reconnect(const struct domain *d);

/* ---- durable.c: state directory, log and snapshots --------------------- */

struct durable;

/*
 * Locks the state directory, sets aside a previous boot's state, rebuilds
 * the store (newest snapshot + log) and opens the log; with --sync=none
 * only makes an empty store. Sets srv->dur (freed by durable_close even on
 * failure). Logs every failure and every damage found.
 */
int durable_open(struct server *srv, const struct durable_config *cfg,
		 struct store **out);
void durable_close(struct durable *d);
/* Appends one record (store callback / SET_QUOTA). Never fails. */
void durable_mutation(struct durable *d, const struct store_mutation *m);
void durable_quota(struct durable *d, uint32_t domid, int q, bool soft,
		   uint32_t value);
/*
 * Appends a WAL_REC_DOMAIN record and applies it to the live domain table
 * (what snapshots write); ch may borrow from that table. A change that
 * does not apply to the table is a bug: logged, not appended. Never fails
 * otherwise.
 */
struct wal_domain_change;
void durable_domain(struct durable *d, const struct wal_domain_change *ch);
/* The live domain table (borrowed; NULL without durable state). */
struct wal_domtab;
struct wal_pos;
const struct wal_domtab *durable_domains(const struct durable *d);
/* 0 if a change may be made now, else -ENOSPC or -EIO (logged). */
int durable_check(struct durable *d);
/* Before-sleep: write this iteration's records; may start a snapshot. */
void durable_commit(struct durable *d);
/* Seq of the last record appended / made durable under the policy. */
uint64_t durable_tail(const struct durable *d);
uint64_t durable_done(const struct durable *d);
/* CONTROL snapshot: starts one now (-EBUSY while one is written). */
int durable_snapshot_now(struct durable *d);
/*
 * Live update, old daemon: writes (and with --sync=always syncs) every
 * record appended; *seq gets the last one. -errno if the log fails.
 */
int durable_flush(struct durable *d, uint64_t *seq);
/* While held, no snapshot starts and the log is not pruned. */
void durable_hold(struct durable *d, bool hold);
/* The state directory, NULL with --sync=none. The lock fd, or -1. */
const char *durable_dir(const struct durable *d);
int durable_lock_fd(const struct durable *d);
/*
 * Live update, new daemon: takes over the state directory whose lock
 * lock_fd holds (owned from now on) with the log written up to seq and
 * the domain table doms as the log has it (owned; NULL: empty),
 * appending to segment (the old daemon's current one; end, which may be
 * NULL, is where the new daemon's last read of the log ended), or
 * starting a new segment after seq when it is NULL. Sets srv->dur.
 * Returns 0 or -errno.
 */
int durable_adopt(struct server *srv, const struct durable_config *cfg,
		  int lock_fd, struct wal_domtab *doms, uint64_t seq,
		  const char *segment, const struct wal_pos *end);
/* The current log segment's path (borrowed), NULL without a log. */
const char *durable_segment(const struct durable *d);
/* SIGCHLD: collects a snapshot child, prunes on success. */
void durable_child_exited(struct durable *d);
/* Appends "name: value" lines for CONTROL status. */
void durable_status(const struct durable *d, struct buf *out);

/* The figures behind durable_status, for CONTROL status (stats, JSON). */
struct durable_info {
	enum durable_sync sync;
	bool logging;			/* false with --sync=none */
	const char *state_dir;		/* borrowed, like every string here */
	uint64_t tail, done;		/* seqs appended / durable */
	const char *segment;		/* current log segment */
	uint64_t segment_bytes;
	uint64_t bytes_written;		/* log bytes written since start */
	int error;			/* last write or sync error, 0 ok */
	uint64_t snap_seq;		/* newest installed snapshot, 0 none */
	uint64_t snap_time_ns;		/* CLOCK_REALTIME of it, 0 none */
	uint64_t snap_duration_ns;	/* of the last one this daemon wrote */
	bool snap_writing;
	uint64_t snap_failures;
	uint64_t rec_snap_seq;		/* recovery started from this seq */
	uint64_t rec_records;		/* log records replayed */
	uint64_t rec_last_seq;
	uint64_t rec_duration_ns;
	bool rec_torn_tail;		/* a torn tail was cut */
	const char *rec_log_moved_to;	/* damaged log segments, or NULL */
	uint32_t rec_snap_rejected;	/* snapshots that did not load */
	const char *rec_snap_moved_to;	/* where they went, or NULL */
	const char *boot_moved_to;	/* a previous boot's state, or NULL */
};
/* Fills *out; d NULL (unit tests) gives sync none and zeros. */
void durable_info(const struct durable *d, struct durable_info *out);

/* ---- server.c: the daemon state ---------------------------------------- */

struct server {
	struct loop *loop;
	struct store *store;
	struct server_config cfg;	/* strings owned (copied) */
	struct sock_listener *rw, *ro;
	TAILQ_HEAD(, conn) conns;
	/* The connections the before-sleep pass looks at (conn_mark_busy):
	 * with hundreds connected and a few active, a pass costs what is
	 * active, not what is connected. */
	TAILQ_HEAD(, conn) busy;
	uint32_t next_conn_id;
	uint32_t nconns;
	int sigfd;
	bool quit;
	struct durable *dur;
	struct domains *doms;		/* NULL: no rings (unit tests) */
	struct lu_session *lu;		/* live update in progress, or NULL */
	/* Adopted by a live update, left for after the pause (lu_adopt_after):
	 * the ACK still owed on lu_ack_fd, the handover message to keep. */
	bool lu_ack_owed;
	int lu_ack_fd;
	struct buf lu_saved;
	uint64_t lu_after_timer;
	uint64_t mutations_total;
	struct stats *stats;		/* NULL: not counted (unit tests) */
};

/* A new store reporting to srv (the recovery factory). */
struct store *server_store_new(struct server *srv);
/*
 * The parts of server_new before and after the state: loop and signals
 * (NULL with *rc on failure); quotas, Xen interfaces and (if access_log)
 * the access log of the configuration. Used by the live update too.
 */
struct server *server_alloc(const struct server_config *cfg, int *rc);
int server_finish(struct server *srv, const struct server_config *cfg,
		  bool access_log);
/* The before-sleep hook: rings, log barrier, output, reaper, kicks. */
void server_before_sleep(struct loop *l, void *arg);

/* ---- op-liveupdate.c, lu-export.c: the old daemon's side --------------- */

struct lu_session;
struct lu_state;

/* CONTROL live-update -f/-c/-s/-a (see op-liveupdate.c). */
int op_control_live_update(struct op_req *r, int argc, const char **argv);
/* The connection that owns the session is going away: it ends. */
void lu_conn_gone(struct conn *c);
/* Before-sleep: hands over once the new daemon is ready. */
void lu_poll(struct server *srv);
/*
 * lu-export.c: the state of srv that is not on disk, with borrowed fds
 * (st from lu_state_init; free with lu_export_release, which closes none).
 */
void lu_export(struct server *srv, struct lu_state *st,
	       uint32_t early_max_id);
/*
 * EARLY: the live socket connections (id, fd, readonly, caller) into st
 * (from lu_state_init; free with lu_export_release); *max_id gets the
 * last id given out, so lu_export marks those up to it as early.
 */
void lu_export_early(struct server *srv, struct lu_state *st,
		     uint32_t *max_id);
void lu_export_release(struct lu_state *st);
/* SIGCHLD: collects the session's child. */
void lu_child_exited(struct server *srv);
/* ---- lu-early.c: the new daemon's connections set up before the pause -- */

struct lu_token;

struct lu_early_conn {
	uint32_t id;
	struct conn *c;			/* NULL once the handover named it */
};

/* Zero-initialized: none. */
struct lu_early {
	struct lu_early_conn *v;	/* sorted by id */
	uint32_t n;
	struct lu_token *token;		/* NULL: wait for the old one's close */
};

/*
 * Sends EARLY <seq> on the channel fd, receives the socket connections
 * and sets each one up in srv (in srv->conns, under its id) into e, with
 * the release token if one came. -errno with *why (caller frees) when the
 * channel or the message fails.
 */
int lu_early_adopt(struct server *srv, int fd, uint64_t seq,
		   struct lu_early *e, char **why);
/* The connection set up under id (NULL if none); it leaves e. */
struct conn *lu_early_take(struct lu_early *e, uint32_t id);
/* Frees (closes) the connections no one took, and e's array, not the
 * token. */
void lu_early_free(struct lu_early *e);

/*
 * lu-adopt.c: what a live update leaves for after the pause: sends the
 * ACK still owed to the old daemon (which exits on it) and keeps the
 * handover message in the state directory; nothing if nothing is left.
 */
void lu_adopt_after(struct server *srv);
/*
 * Live update (domain.c). Export: the event channel fd (borrowed) and a
 * record per domain into st. Adopt: reopens the event channel from
 * st->fd_evtchn (taken), opens the grant tables, maps every introduced
 * domain's ring again (by grant, dom0's from --xsd-kva) without touching
 * it, and sets srv->doms; ring connections are then made by the caller
 * (ring_adopt). -errno if a ring cannot be mapped: the update is refused.
 */
void domains_export(struct server *srv, struct lu_state *st);
int domains_adopt(struct server *srv, struct lu_state *st);
/* Sets a quota and logs it. Returns 0 or -errno (-EINVAL, log refusal). */
int server_set_quota(struct server *srv, uint32_t domid, int q, bool soft,
		     uint32_t value);

/* ---- hugepages.c ---------------------------------------------------------- */

/*
 * At the very start of main: with LXS_HUGE_PAGES=1, executes the daemon
 * again with glibc's malloc on transparent huge pages (a shorter fork for
 * snapshots), unless GLIBC_TUNABLES already sets it or THP is off.
 * Returns only when it does not (or the exec failed, said on stderr).
 */
void hugepages_reexec(char **argv);
/* ---- stats.c: the counters behind CONTROL status ---------------------- */

/*
 * Per second, over a ring of STATS_SLOTS one-second slots: a slot is
 * reused (zeroed) when its second comes round again, so counting is an
 * index and an increment, with no allocation and no clock read (the
 * loop's wake-up time). Figures "over the last minute" sum the slots of
 * the STATS_WINDOW seconds up to now.
 */
#define STATS_WINDOW	60u
#define STATS_SLOTS	64u
/* A quota refusal or a throttle of a domain is logged at most once per
 * (domain, quota) per interval; the next line says how many were not. */
#define STATS_LOG_INTERVAL_MS	60000u
/* Largest nodes shown for a domain. */
#define STATS_LARGEST	5u

struct stats;

struct stats_slot {
	uint32_t sec;
	uint32_t requests;
	uint32_t errors;
	uint32_t eagain;
};

/* Error replies are counted per wire error name; anything else is other. */
#define STATS_NERR	17u

struct stats_gslot {
	uint32_t sec;
	uint32_t requests;
	uint32_t err[STATS_NERR];
};

/* Counters of one domain, kept while it has a connection (dom0: always). */
struct stats_dom {
	uint32_t domid;
	uint32_t refs;				/* connections */
	uint64_t requests, errors, eagain;	/* since start */
	struct stats_slot ring[STATS_SLOTS];
	uint64_t refused[STORE_QUOTA_COUNT];
	uint64_t refused_value[STORE_QUOTA_COUNT];	/* the last one */
	uint32_t refused_limit[STORE_QUOTA_COUNT];
	uint64_t throttled[CONN_PAUSE_COUNT];
	/* Rate limit of the log: refusals by quota, then throttles. */
	uint64_t logged_ms[STORE_QUOTA_COUNT + CONN_PAUSE_COUNT];
	uint64_t unlogged[STORE_QUOTA_COUNT + CONN_PAUSE_COUNT];
};

/* Sums over the window ending at now_ms. */
struct stats_window {
	uint64_t requests, errors, eagain;
	uint64_t err[STATS_NERR];
	uint32_t seconds;		/* the window's length, <= 60 */
};

/* now_ms: CLOCK_MONOTONIC ms; real_ns: CLOCK_REALTIME. Caller frees. */
struct stats *stats_new(uint64_t now_ms, uint64_t real_ns);
void stats_free(struct stats *st);
/* The domain's counters, created on first use; one ref per call. */
struct stats_dom *stats_dom_ref(struct stats *st, uint32_t domid);
/* Drops a ref; the counters go with the last one (except dom0's). */
void stats_dom_unref(struct stats *st, struct stats_dom *d);
/* The counters of domid, or NULL. Borrowed. */
struct stats_dom *stats_dom_find(const struct stats *st, uint32_t domid);
/* Every domain with counters, in domid order. Borrowed array. */
struct stats_dom *const *stats_doms(const struct stats *st, uint32_t *n);

/* One request answered: rc is the handler's 0 or -errno. d may be NULL. */
void stats_count(struct stats *st, struct stats_dom *d, uint64_t now_ms,
		 int rc);
/*
 * Refusal of quota q (value above limit) / input of d's connection paused
 * for why (value against limit): counted, and logged when the interval
 * allows. d may be NULL (logged, not counted).
 */
void stats_refusal(struct stats *st, struct stats_dom *d, uint32_t domid,
		   uint64_t now_ms, enum store_quota q, uint64_t value,
		   uint32_t limit);
void stats_throttle(struct stats *st, struct stats_dom *d, uint32_t domid,
		    uint64_t now_ms, enum conn_pause why, uint64_t value,
		    uint64_t limit);
/* Window sums: global (d NULL) or one domain's. */
void stats_window(const struct stats *st, const struct stats_dom *d,
		  uint64_t now_ms, struct stats_window *out);
/* The errno counted in err[i], 0 for "other". */
int stats_err_errno(unsigned int i);
/* The figures since start. */
struct stats_summary {
	uint64_t start_ms, start_real_ns;
	uint64_t requests;
	uint64_t err[STATS_NERR];	/* error replies per index */
	uint64_t lu_count;		/* live updates; 0: never */
	uint64_t lu_real_ns, lu_pause_ns;	/* of the last one */
};
void stats_summary(const struct stats *st, struct stats_summary *out);
/* "no", "output", "outstanding", "memory". */
const char *stats_pause_name(enum conn_pause why);

/*
 * Live update (another part of the daemon) reports each handover here:
 * when the new binary took over and how long clients were paused.
 */
void stats_note_live_update(struct stats *st, uint64_t real_ns,
			    uint64_t pause_ns);

/* Hooks of the server: dispatch.c, conn.c, server.c call these. */
void stats_request(struct conn *c, int rc);
void stats_conn_paused(struct conn *c, enum conn_pause why);
void stats_quota_refused(struct server *srv, uint32_t domid,
			 enum store_quota q, uint64_t value, uint32_t limit);

/* ---- op-status.c: CONTROL status ---------------------------------------- */

int op_control_status(struct op_req *r, int argc, const char **argv);

/* ---- log.c: daemon log and access log --------------------------------- */

/* Daemon messages: stderr if foreground, else syslog(LOG_DAEMON). */
void log_open(const char *ident, bool foreground);
void log_close(void);
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Access log: one line per message in or out, rotated when it grows past
 * max_size (FILE -> FILE.1 -> ... -> FILE.keep). path NULL closes it. The
 * path is copied. Returns 0 or -errno (logged).
 */
int log_access_open(const char *path, uint64_t max_size, unsigned int keep);
/* Reopens the file (SIGHUP, after external rotation). */
int log_access_reopen(void);
void log_access_close(void);
bool log_access_enabled(void);
/* Current file name, or NULL. Borrowed. */
const char *log_access_path(void);
/* dir is "IN" or "OUT"; the payload is shown with NULs as spaces. */
void log_access_msg(uint32_t conn_id, const char *dir,
		    const struct xsd_sockmsg *hdr, const void *payload);
void log_access_line(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

#endif
