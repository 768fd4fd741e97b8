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
 *         like a socket's (domain.c, ring.c)
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

#define CONN_READONLY	1u	/* mutations get EACCES */
#define CONN_DROP_ON_OVERFLOW 2u /* drop at CONN_OUT_HARD (sockets) */

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
	struct server *srv;
	const struct conn_ops *ops;
	void *tp;			/* transport state, owned by ops */
	uint32_t id;			/* for logs */
	unsigned int flags;		/* CONN_* */
	bool dead;			/* freed at the end of the iteration */
	bool want_rd, want_wr;		/* last interest given to ops->want */
	struct store_conn *sc;
	uint32_t features;		/* XENSTORE_SERVER_FEATURE_* it has */
	struct frame_in in;
	STAILQ_HEAD(, conn_out) out;
	size_t out_bytes;		/* sum of unwritten bytes in out */
	uint32_t nreplies;		/* replies in out: requests outstanding */
	/* A request is waiting for its reply (live update): not read. */
	bool held;
	/* Open transaction ids: a header tx_id must name one of them. */
	uint32_t *txns;
	uint32_t ntxns, txns_cap;
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
 * Marks c dead and discards its output; freed before the next wait. reason
 * is logged; NULL for an orderly close by the peer.
 */
void conn_drop(struct conn *c, const char *reason);
/* The transport has input: read and dispatch while allowed. */
void conn_handle_input(struct conn *c);
/* Writes queued output as far as the transport takes it; updates interest. */
void conn_flush(struct conn *c);
/*
 * Whether input is paused: too much output is queued, or (unprivileged
 * callers) the domain's outstanding quota is reached, or queued output
 * brings its memory to the memory quota. Nothing is dropped: reading
 * resumes once the client has read its replies.
 */
bool conn_input_paused(const struct conn *c);
/*
 * Queues a reply with the request's req_id and tx_id. A payload over
 * XENSTORE_PAYLOAD_MAX is replaced by an E2BIG error.
 */
void conn_reply(struct conn *c, const struct xsd_sockmsg *req, uint32_t type,
		const void *payload, size_t len);
/*
 * Live update: queues bytes handed over from the old daemon (messages or
 * the rest of one), durable already.
 */
void conn_queue_raw(struct conn *c, const void *data, uint32_t len,
		    bool reply);
/* Queues XS_ERROR "E...\0" for a positive errno (unknown ones as EINVAL). */
void conn_error(struct conn *c, const struct xsd_sockmsg *req, int err);
/* Queues a WATCH_EVENT "path\0token\0"; enforces CONN_OUT_HARD. */
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

/* The domain record for domid, or NULL. */
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

/* ---- ring.c: the ring transport ----------------------------------------- */

/*
 * Resets d's ring (indices 0, error cleared, server_features written,
 * connection CONNECTED) and gives d a new connection; the old one, if any,
 * loses its watches, transactions and queued output at once. The guest is
 * notified at the end of the iteration.
 */
void ring_connect(struct domain *d);
/*
 * Live update: a connection over d's ring as it is (indices, pending
 * bytes and flags untouched); the caller fills in the handed-over state.
 */
struct conn *ring_adopt(struct domain *d);
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
 * lock_fd holds (owned from now on) with the log written up to seq,
 * appending to segment (the old daemon's current one), or starting a new
 * segment after seq when it is NULL. Sets srv->dur. Returns 0 or -errno.
 */
int durable_adopt(struct server *srv, const struct durable_config *cfg,
		  int lock_fd, uint64_t seq, const char *segment);
/* The current log segment's path (borrowed), NULL without a log. */
const char *durable_segment(const struct durable *d);
/* SIGCHLD: collects a snapshot child, prunes on success. */
void durable_child_exited(struct durable *d);
/* Appends "name: value" lines for CONTROL status. */
void durable_status(const struct durable *d, struct buf *out);

/* ---- server.c: the daemon state ---------------------------------------- */

struct server {
	struct loop *loop;
	struct store *store;
	struct server_config cfg;	/* strings owned (copied) */
	struct sock_listener *rw, *ro;
	TAILQ_HEAD(, conn) conns;
	uint32_t next_conn_id;
	uint32_t nconns;
	int sigfd;
	bool quit;
	struct durable *dur;
	struct domains *doms;		/* NULL: no rings (unit tests) */
	struct lu_session *lu;		/* live update in progress, or NULL */
	uint64_t mutations_total;
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
void lu_export(struct server *srv, struct lu_state *st);
void lu_export_release(struct lu_state *st);
/* SIGCHLD: collects the session's child. */
void lu_child_exited(struct server *srv);
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
