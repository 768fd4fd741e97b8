/*
 * lu-adopt: the new daemon's side of a live update.
 *
 *   1. load the state directory read-only (no lock: the old daemon holds
 *      it and goes on writing), then follow the log until a pass finds
 *      little new; if the old daemon offers it (LU_LOADED_ENV: it started
 *      this binary at -f), check the store, say LOADED and wait for GO
 *      (the -s), then follow the log again; if it offers it (LU_EARLY_ENV), ask for
 *      the socket connections (EARLY) and set them up (store connection,
 *      epoll registration) while it still serves; say READY;
 *   2. receive the handover, replay the log up to its final seq (exactly:
 *      a shorter log means another directory or lost records: refused);
 *   3. adopt listeners, the guest domains (rings mapped again, the event
 *      channel reopened from its fd), connections (partial input, queued
 *      output, watches, open transactions rebound to this process's
 *      generations, features), the access log setting, and last the state
 *      directory (lock, new log segment); queue the OK of the live-update
 *      request;
 *   4. claim the release token and serve, the ACK 20 ms later (without a
 *      token: ACK, then wait for the old daemon's close). Until then
 *      nothing was sent to a client and nothing written, so a NAK (or
 *      dying) leaves the old daemon's state untouched.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "liveupdate/liveupdate.h"
#include "server/server-int.h"

/* Follow passes before READY; a pass applying fewer records ends it. */
#define LU_FOLLOW_PASSES	20
#define LU_FOLLOW_QUIET		256
/*
 * How much lower the priority of loading is (see lu_nice_down): about a
 * quarter of a CPU against a busy process at the old priority, so that a
 * busy dom0 does not starve the load past the -t timeout.
 */
#define LU_LOAD_NICE		5
/* How long after serving the ACK and the rest wait (see lu_release). */
#define LU_AFTER_MS		20

/*
 * CLOCK_MONOTONIC marks of one handover, for the timing log line and the
 * pause that status reports: from when the old daemon stopped reading
 * requests (it says when; else from READY) until this daemon serves.
 */
struct lu_marks {
	uint64_t ready;		/* READY sent */
	uint64_t paused;	/* the old daemon stopped reading requests */
	uint64_t received;	/* the message read and decoded */
	uint64_t caught_up;	/* the log replayed up to final_seq */
	uint64_t domains;	/* listeners and domains adopted */
	uint64_t conns;		/* connections adopted */
	uint64_t logged;	/* the state directory taken over */
	uint64_t released;	/* the token claimed, or ACK and the close */
	uint64_t serving;	/* ready to enter the loop */
};

static struct store *
lu_adopt_store(void *arg)
{
	return server_store_new(arg);
}

/*
 * The handed-over state of a connection, onto c: watches, open
 * transactions, partial input and queued output.
 */
static void
lu_adopt_conn_state(struct conn *c, const struct lu_conn *lc)
{
	size_t used;
	int rc;

	c->id = lc->id;
	c->features = lc->features;
	/* Oldest first, so that the list is the old daemon's again. */
	for (uint32_t j = lc->nwatches; j-- > 0;) {
		const struct lu_watch *w = &lc->watches[j];

		rc = store_watch(c->sc, w->wpath, w->token, w->depth);
		if (rc < 0)
			log_warn("live update: conn %u: watch %s: %s", c->id,
				 w->wpath, strerror(-rc));
	}
	for (uint32_t j = 0; j < lc->ntxns; j++) {
		rc = store_txn_import(c->sc, &lc->txns[j]);
		if (rc == 0)
			conn_txn_add(c, lc->txns[j].id);
		else
			log_warn("live update: conn %u: transaction %u: %s",
				 c->id, lc->txns[j].id, strerror(-rc));
	}
	store_conn_set_next_txid(c->sc, lc->next_txid);
	/* A socket reads the bytes again through its read-ahead (they may
	 * hold several messages); a ring's are one message's start. */
	if (lc->partial_len && !lc->ring)
		sock_conn_preload(c, lc->partial_in, lc->partial_len);
	else if (lc->partial_len)
		(void)frame_in_feed(&c->in, lc->partial_in, lc->partial_len,
				    &used);
	for (uint32_t j = 0; j < lc->nout; j++)
		conn_queue_raw(c, lc->out[j].data, lc->out[j].len,
			       lc->out[j].reply);
}

/*
 * One handed-over connection: over its domain's ring, the one set up
 * under its id with EARLY, or over its socket (fd taken from lc).
 */
static int
lu_adopt_conn(struct server *srv, struct lu_conn *lc, struct lu_early *e,
	      struct conn **out, char **why)
{
	struct domain *d;
	struct conn *c;

	if (lc->ring) {
		d = domain_find(srv, lc->ring_domid);
		if (d == NULL || !d->introduced) {
			*why = xasprintf("the ring of domain %u is not handed "
					 "over", lc->ring_domid);
			return -ENOENT;
		}
		c = ring_adopt(d, d->adopt_rd_cons);
	} else if (lc->early) {
		c = lu_early_take(e, lc->id);
		if (c == NULL) {
			*why = xasprintf("connection %u was not sent ahead",
					 lc->id);
			return -ENOENT;
		}
	} else {
		c = sock_conn_adopt(srv, lc->fd, CONN_DROP_ON_OVERFLOW |
				    (lc->readonly ? CONN_READONLY : 0u),
				    &lc->caller);
		lc->fd = -1;
	}
	lu_adopt_conn_state(c, lc);
	*out = c;
	return 0;
}

/* The connection list in the old daemon's order (EARLY ones came first). */
static void
lu_adopt_order(struct server *srv, struct conn **order, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		TAILQ_REMOVE(&srv->conns, order[i], link);
		TAILQ_INSERT_TAIL(&srv->conns, order[i], link);
	}
}

/* The two listeners (taken from st). */
static int
lu_adopt_listeners(struct server *srv, struct lu_state *st, char **why)
{
	char *ro_path;
	int rc;

	rc = sock_listener_adopt(srv, st->fd_rw, srv->cfg.sock_path, false,
				 &srv->rw);
	if (rc == 0)
		st->fd_rw = -1;
	ro_path = xasprintf("%s%s", srv->cfg.sock_path, SERVER_RO_SUFFIX);
	if (rc == 0)
		rc = sock_listener_adopt(srv, st->fd_ro, ro_path, true,
					 &srv->ro);
	free(ro_path);
	if (rc < 0) {
		*why = xasprintf("listeners: %s", strerror(-rc));
		return rc;
	}
	st->fd_ro = -1;
	return 0;
}

/*
 * Every connection of st, in the old daemon's order; the EARLY ones that
 * the handover does not name are closed.
 */
static int
lu_adopt_conns(struct server *srv, struct lu_state *st, struct lu_early *e,
	       char **why)
{
	struct conn **order;
	int rc;

	order = xcalloc(st->nconns ? st->nconns : 1, sizeof(*order));
	for (uint32_t i = 0; i < st->nconns; i++) {
		rc = lu_adopt_conn(srv, &st->conns[i], e, &order[i], why);
		if (rc < 0) {
			free(order);
			return rc;
		}
	}
	lu_early_free(e);
	lu_adopt_order(srv, order, st->nconns);
	free(order);
	srv->next_conn_id = st->next_conn_id;
	return 0;
}

/* Queues the OK of the live-update request on the connection that sent it. */
static void
lu_adopt_reply(struct server *srv, const struct lu_state *st)
{
	struct xsd_sockmsg req = { 0 };
	struct conn *c;

	if (!st->has_reply)
		return;
	req.type = XS_CONTROL;
	req.req_id = st->reply_req_id;
	req.tx_id = st->reply_tx_id;
	TAILQ_FOREACH(c, &srv->conns, link)
		if (c->id == st->reply_conn)
			conn_reply(c, &req, XS_CONTROL, "OK", 3);
}

static int
lu_adopt_state(struct server *srv, const struct server_config *cfg,
	       struct lu_state *st, struct wal_domtab **doms,
	       struct lu_early *e, struct lu_marks *mk,
	       const struct wal_pos *end, char **why)
{
	int rc;

	if (st->fd_rw < 0 || st->fd_ro < 0 || st->fd_lock < 0) {
		*why = xstrdup("the handover lacks a listener or the lock");
		return -EINVAL;
	}
	rc = lu_adopt_listeners(srv, st, why);
	if (rc < 0)
		return rc;
	if (st->fd_evtchn >= 0) {
		rc = domains_adopt(srv, st);
		if (rc < 0) {
			*why = xasprintf("guest domains: %s", strerror(-rc));
			return rc;
		}
	}
	mk->domains = mono_ns();
	rc = lu_adopt_conns(srv, st, e, why);
	if (rc < 0)
		return rc;
	mk->conns = mono_ns();
	lu_adopt_reply(srv, st);
	if (st->access_log) {
		free((char *)srv->cfg.access_log);
		srv->cfg.access_log = st->access_log;
		st->access_log = NULL;
	}
	if (st->access_log_on && srv->cfg.access_log)
		(void)log_access_open(srv->cfg.access_log,
				      srv->cfg.access_log_size,
				      srv->cfg.access_log_keep);
	/* Last: this may create the next log segment. */
	rc = durable_adopt(srv, &cfg->durable, st->fd_lock, *doms,
			   st->final_seq, st->wal_segment, end);
	*doms = NULL;
	st->fd_lock = -1;
	mk->logged = mono_ns();
	if (rc < 0)
		*why = xasprintf("the state directory: %s", strerror(-rc));
	return rc;
}

/*
 * Keeps the handover message as dir/LU_SAVED_STATE for lxenstore-inspect
 * (`state FILE`): best effort, no sync (it describes what was handed
 * over, it is never read back by the daemon).
 */
static void
lu_save_handover(const char *dir, const struct buf *raw)
{
	char *tmp = xasprintf("%s/%s.tmp", dir, LU_SAVED_STATE);
	char *path = xasprintf("%s/%s", dir, LU_SAVED_STATE);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	bool ok = fd >= 0 && write_all(fd, raw->data, raw->len) == 0;
	int err = errno;

	if (fd >= 0)
		close(fd);
	if (!ok || rename(tmp, path) < 0) {
		log_warn("live update: keeping the handover in %s: %s", path,
			 strerror(ok ? errno : err));
		unlink(tmp);
	}
	free(tmp);
	free(path);
}

void
lu_adopt_after(struct server *srv)
{
	int rc;

	if (srv->lu_after_timer)
		loop_del_timer(srv->loop, srv->lu_after_timer);
	srv->lu_after_timer = 0;
	if (srv->lu_ack_owed) {
		rc = lu_send_result(srv->lu_ack_fd, NULL);
		if (rc < 0)
			log_warn("live update: ACK: %s (the old daemon exits "
				 "on its timeout)", strerror(-rc));
		close(srv->lu_ack_fd);
		srv->lu_ack_owed = false;
	}
	if (srv->lu_saved.len && srv->dur && durable_dir(srv->dur))
		lu_save_handover(durable_dir(srv->dur), &srv->lu_saved);
	buf_free(&srv->lu_saved);
}

static void
lu_adopt_on_after(struct loop *l, uint64_t id, void *arg)
{
	struct server *srv = arg;

	srv->lu_after_timer = 0;
	lu_adopt_after(srv);
}

static int
lu_adopt_refuse(int fd, const char *why, int rc)
{
	log_err("live update: %s", why);
	(void)lu_send_result(fd, why);
	return rc < 0 ? rc : -EINVAL;
}

/*
 * Loading takes a CPU while the old daemon serves on: on a small dom0
 * its clients wait longer meanwhile. So it runs LU_LOAD_NICE lower, and
 * gets its priority back before it asks for anything (EARLY, READY).
 * Only if it can get it back: a lower nice value needs CAP_SYS_NICE (or
 * RLIMIT_NICE), and a daemon left at a low priority would be worse than
 * the contention. *saved: the value to go back to; false if left as it
 * was.
 */
static bool
lu_nice_down(int *saved)
{
	int cur;

	errno = 0;
	cur = getpriority(PRIO_PROCESS, 0);
	if (errno != 0 || setpriority(PRIO_PROCESS, 0, cur - 1) < 0)
		return false;
	if (setpriority(PRIO_PROCESS, 0, cur + LU_LOAD_NICE) < 0) {
		(void)setpriority(PRIO_PROCESS, 0, cur);
		return false;
	}
	*saved = cur;
	return true;
}

/* Follows the log until a pass finds little new. */
static int
lu_catch_up(struct server *srv, const char *dir, struct wal_domtab *doms,
	    struct wal_pos *pos, char **why)
{
	uint64_t n;
	int rc = 0;

	for (int i = 0; rc == 0 && i < LU_FOLLOW_PASSES; i++) {
		rc = lu_follow(dir, srv->store, doms, pos, UINT64_MAX, &n,
			       why);
		if (n < LU_FOLLOW_QUIET)
			break;
	}
	return rc;
}

/*
 * Started at -f (LU_LOADED_ENV): the check the old daemon answers -f
 * with, which an older daemon got from a separate dry run. Then no
 * limit on the wait: the old daemon kills this process if -s does not
 * come, and a closed channel (it is gone) ends the wait.
 */
static int
lu_adopt_wait_go(struct server *srv, int fd, const char *dir,
		 struct wal_domtab *doms, struct wal_pos *pos, char **why)
{
	struct buf report = { 0 };
	unsigned int bad;
	int rc;

	bad = store_check(srv->store, &report);
	if (bad) {
		*why = xasprintf("the state of %s has %u problem(s): %.*s",
				 dir, bad, (int)(report.len > 512 ? 512 :
						 report.len), report.data);
		buf_free(&report);
		return -EBADMSG;
	}
	buf_free(&report);
	rc = lu_send_loaded(fd, pos->seq);
	if (rc == 0) {
		log_info("live update: loaded %s up to seq %" PRIu64
			 ", checked; waiting for -s", dir, pos->seq);
		rc = lu_recv_go(fd);
	}
	if (rc < 0) {
		*why = xasprintf("waiting for -s: %s", rc == -EPIPE ?
				 "the old daemon closed the channel" :
				 strerror(-rc));
		return rc;
	}
	return lu_catch_up(srv, dir, doms, pos, why);
}

/*
 * Loads and follows the log until caught up (then, with wait_go, waits
 * for GO and catches up again); pos->seq is the last applied.
 */
static int
lu_adopt_load(struct server *srv, int fd, bool wait_go, const char *dir,
	      struct wal_domtab **doms, struct wal_pos *pos, char **why)
{
	int rc, nice_was;
	bool niced = lu_nice_down(&nice_was);

	rc = lu_load(dir, lu_adopt_store, srv, &srv->store, doms, pos, why);
	if (rc == 0)
		rc = lu_catch_up(srv, dir, *doms, pos, why);
	if (rc == 0 && wait_go)
		rc = lu_adopt_wait_go(srv, fd, dir, *doms, pos, why);
	if (niced && setpriority(PRIO_PROCESS, 0, nice_was) < 0)
		log_warn("live update: back to nice %d: %s", nice_was,
			 strerror(errno));
	if (niced)
		log_info("live update: loaded at nice %d, serving at %d",
			 nice_was + LU_LOAD_NICE, nice_was);
	return rc;
}

/*
 * The old daemon lets go. With the token, the claim decides at once; the
 * ACK, on which the old daemon wakes up and exits, waits LU_AFTER_MS
 * (the channel kept in srv, see lu_adopt_after), so that its wake-up and
 * exit do not take the CPU from the clients that waited through the
 * pause. Without the token (an old daemon from before EARLY): ACK now
 * and wait for its close, for which it must wake up first. Takes fd.
 */
static int
lu_release(struct server *srv, int fd, struct lu_token *token)
{
	int rc;

	if (token == NULL) {
		rc = lu_send_result(fd, NULL);
		if (rc == 0)
			rc = lu_wait_release(fd);
		close(fd);
		return rc;
	}
	if (lu_token_claim(token, LU_TOKEN_NEW) != LU_TOKEN_NEW) {
		close(fd);
		return -ETIMEDOUT;
	}
	srv->lu_ack_owed = true;
	srv->lu_ack_fd = fd;
	return 0;
}

/*
 * EARLY: the socket connections set up ahead, then what the old daemon
 * logged meanwhile, so that little is left for the pause.
 */
static int
lu_adopt_early(struct server *srv, int fd, const char *dir,
	       struct wal_domtab *doms, struct wal_pos *pos,
	       struct lu_early *early, char **why)
{
	uint64_t t = mono_ns();
	int rc;

	rc = lu_early_adopt(srv, fd, pos->seq, early, why);
	if (rc == 0)
		rc = lu_follow(dir, srv->store, doms, pos, UINT64_MAX, NULL,
			       why);
	if (rc < 0)
		return rc;
	log_info("live update: %u connection(s) set up ahead in %" PRIu64
		 " us", early->n, (mono_ns() - t) / 1000);
	return 0;
}

/*
 * READY, the handover into st (its bytes into raw), and the log replayed
 * up to exactly its final seq; the marks of the pause up to there.
 */
static int
lu_adopt_handover(struct server *srv, int fd, const char *dir,
		  struct lu_state *st, struct buf *raw,
		  struct wal_domtab *doms, struct wal_pos *pos,
		  struct lu_marks *mk, char **why)
{
	int rc;

	mk->ready = mono_ns();
	rc = lu_send_ready(fd, pos->seq);
	if (rc == 0)
		rc = lu_recv_state(fd, st, raw, why);
	if (rc < 0) {
		if (*why == NULL)
			*why = xasprintf("the old daemon: %s", strerror(-rc));
		return rc;
	}
	mk->received = mono_ns();
	/* An old daemon that does not say when it paused: from READY. */
	mk->paused = st->pause_start_ns >= mk->ready &&
		     st->pause_start_ns <= mk->received ? st->pause_start_ns :
		     mk->ready;
	rc = lu_follow(dir, srv->store, doms, pos, st->final_seq, NULL, why);
	mk->caught_up = mono_ns();
	if (rc == 0 && pos->seq != st->final_seq) {
		*why = xasprintf("the log of %s ends at seq %" PRIu64 ", the "
				 "old daemon wrote up to %" PRIu64, dir,
				 pos->seq, st->final_seq);
		rc = -ESTALE;
	}
	return rc;
}

/* The timing line of a handover: the pause, step by step. */
static void
lu_marks_log(const struct lu_marks *mk, uint64_t seq, uint32_t nconns)
{
	log_info("live update: serving from seq %" PRIu64 " with %u "
		 "connection(s); pause %" PRIu64 " us (READY was %" PRIu64
		 " us before it): message %" PRIu64 ", catch-up %" PRIu64
		 ", domains %" PRIu64 ", connections %" PRIu64 ", log %"
		 PRIu64 ", answer %" PRIu64 ", finish %" PRIu64, seq,
		 nconns, (mk->serving - mk->paused) / 1000,
		 (mk->paused - mk->ready) / 1000,
		 (mk->received - mk->paused) / 1000,
		 (mk->caught_up - mk->received) / 1000,
		 (mk->domains - mk->caught_up) / 1000,
		 (mk->conns - mk->domains) / 1000,
		 (mk->logged - mk->conns) / 1000,
		 (mk->released - mk->logged) / 1000,
		 (mk->serving - mk->released) / 1000);
}

int
server_live_update(const struct server_config *cfg, int fd,
		   struct server **out)
{
	const char *dir = cfg->durable.state_dir;
	struct server *srv;
	struct lu_state st;
	struct wal_domtab *doms = NULL;
	struct buf raw = { 0 };
	struct lu_marks mk = { 0 };
	struct lu_early early = { 0 };
	const char *offer = getenv(LU_EARLY_ENV);
	bool ask_early = offer && strcmp(offer, "1") == 0;
	bool wait_go;
	struct wal_pos pos = { 0 };
	char *why = NULL;
	int rc;

	offer = getenv(LU_LOADED_ENV);
	wait_go = offer && strcmp(offer, "1") == 0;
	/* Not for this daemon's own children (its next update says anew). */
	unsetenv(LU_EARLY_ENV);
	unsetenv(LU_LOADED_ENV);
	srv = server_alloc(cfg, &rc);
	if (srv == NULL)
		return lu_adopt_refuse(fd, "cannot set up the event loop", rc);
	lu_state_init(&st);
	rc = lu_adopt_load(srv, fd, wait_go, dir, &doms, &pos, &why);
	if (rc < 0)
		goto refuse;
	log_info("live update: loaded %s up to seq %" PRIu64, dir, pos.seq);
	if (ask_early) {
		rc = lu_adopt_early(srv, fd, dir, doms, &pos, &early, &why);
		if (rc < 0)
			goto refuse;
	}
	rc = lu_adopt_handover(srv, fd, dir, &st, &raw, doms, &pos, &mk,
			       &why);
	if (rc == 0)
		rc = lu_adopt_state(srv, cfg, &st, &doms, &early, &mk, &pos,
				    &why);
	if (rc < 0)
		goto refuse;
	rc = lu_release(srv, fd, early.token);
	lu_token_free(early.token);
	if (rc < 0) {
		/* The old daemon gave up waiting and resumed: not ours. */
		log_err("live update: answering the old daemon: %s",
			strerror(-rc));
		_exit(1);
	}
	mk.released = mono_ns();
	rc = server_finish(srv, cfg, false);
	if (rc < 0) {
		lu_state_release(&st);
		wal_domtab_free(doms);
		buf_free(&raw);
		server_free(srv);
		return rc;
	}
	mk.serving = mono_ns();
	stats_note_live_update(srv->stats, real_ns(), mk.serving - mk.paused);
	lu_marks_log(&mk, pos.seq, srv->nconns);
	/* Not needed to serve: after the pause. */
	lu_state_release(&st);
	wal_domtab_free(doms);
	srv->lu_saved = raw;
	srv->lu_after_timer = loop_add_timer(srv->loop, LU_AFTER_MS,
					     lu_adopt_on_after, srv);
	*out = srv;
	return 0;
refuse:
	rc = lu_adopt_refuse(fd, why ? why : strerror(-rc), rc);
	free(why);
	close(fd);
	/* Nothing of the handed-over state may be closed in a way the old
	 * daemon would notice: plain close of our duplicates only. */
	lu_state_release(&st);
	_exit(1);
	return rc;
}

static void
lu_check_event(void *ctx, const char *path, const char *token)
{
}

static void
lu_check_mutation(void *ctx, const struct store_mutation *m)
{
}

static struct store *
lu_check_store(void *arg)
{
	static const struct store_cb cb = {
		.watch_event = lu_check_event,
		.mutation = lu_check_mutation,
	};

	return store_new(&cb, NULL, 0);
}

int
server_live_update_check(const struct server_config *cfg)
{
	const char *dir = cfg->durable.state_dir;
	struct buf report = { 0 };
	struct store_stats stats;
	struct wal_domtab *doms = NULL;
	struct store *s = NULL;
	struct wal_pos pos = { 0 };
	char *why = NULL;
	unsigned int bad;
	int rc;

	rc = lu_load(dir, lu_check_store, NULL, &s, &doms, &pos, &why);
	if (rc < 0) {
		fprintf(stderr, "%s\n", why);
		free(why);
		return rc;
	}
	bad = store_check(s, &report);
	store_stats(s, &stats);
	if (bad) {
		fprintf(stderr, "the state of %s has %u problem(s): %.*s\n",
			dir, bad, (int)(report.len > 512 ? 512 : report.len),
			report.data);
		rc = -EBADMSG;
	} else {
		printf("lxenstored: %s loads: %llu nodes up to seq %" PRIu64
		       "\n", dir, (unsigned long long)stats.nodes, pos.seq);
	}
	buf_free(&report);
	store_free(s);
	wal_domtab_free(doms);
	return rc;
}
