/*
 * server: the daemon state and the end of each loop iteration.
 *
 * Owns the loop, the store, the two listeners, the domains (domain.c) and
 * the connection list.
 * The store reports to us through struct store_cb:
 *   - watch_event: queued on the watcher's connection (conn_event);
 *   - mutation:    one committed change, appended to the log (durable.c);
 *                  the before-sleep hook writes the iteration's records
 *                  before any output is flushed.
 * Signals arrive through a signalfd: SIGTERM/SIGINT end server_run, SIGHUP
 * reopens the access log.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "server/server-int.h"

char *
server_socket_path(const char *rundir)
{
	const char *env;

	if (rundir)
		return xasprintf("%s/socket", rundir);
	env = getenv("XENSTORED_PATH");
	if (env && *env)
		return xstrdup(env);
	env = getenv("XENSTORED_RUNDIR");
	if (env && *env)
		return xasprintf("%s/socket", env);
	return xstrdup(SERVER_DEFAULT_RUNDIR "/socket");
}

static void
server_on_watch_event(void *conn_ctx, const char *path, const char *token)
{
	conn_event(conn_ctx, path, token);
}

/* The write-ahead log's input. Must not fail and must not block. */
static void
server_on_mutation(void *ctx, const struct store_mutation *m)
{
	struct server *srv = ctx;

	srv->mutations_total++;
	durable_mutation(srv->dur, m);
}

static void
server_on_quota_refused(void *ctx, uint32_t domid, enum store_quota q,
			uint64_t value, uint32_t limit)
{
	stats_quota_refused(ctx, domid, q, value, limit);
}

struct store *
server_store_new(struct server *srv)
{
	static const struct store_cb cb = {
		.watch_event = server_on_watch_event,
		.mutation = server_on_mutation,
		.quota_refused = server_on_quota_refused,
	};

	return store_new(&cb, srv, 0);
}

int
server_set_quota(struct server *srv, uint32_t domid, int q, bool soft,
		 uint32_t value)
{
	uint32_t old;
	int rc;

	if (store_quota_get_own(srv->store, domid, (enum store_quota)q, soft,
				&old) == 0 && old == value)
		return 0;
	rc = durable_check(srv->dur);
	if (rc == 0)
		rc = store_quota_set(srv->store, domid, (enum store_quota)q,
				     soft, value);
	if (rc == 0)
		durable_quota(srv->dur, domid, q, soft, value);
	return rc;
}

/* Whether the transport holds input it read ahead and nobody handled. */
static bool
conn_read_ahead(struct conn *c)
{
	return c->ops->pending && c->ops->pending(c);
}

void
server_before_sleep(struct loop *l, void *arg)
{
	struct server *srv = arg;
	struct conn *c, *next;

	lu_poll(srv);
	domains_poll(srv);
	TAILQ_FOREACH(c, &srv->busy, busy_link)
		if (!c->dead && conn_read_ahead(c))
			conn_handle_input(c);
	durable_commit(srv->dur);
	TAILQ_FOREACH(c, &srv->busy, busy_link) {
		if (!c->dead && c->out_bytes)
			conn_flush(c);
		/* Read-ahead input that may go on now: another iteration at
		 * once, not a wait for an event that will not come. */
		if (!c->dead && conn_read_ahead(c) && !conn_input_paused(c))
			loop_wake(l);
	}
	for (c = TAILQ_FIRST(&srv->busy); c != NULL; c = next) {
		next = TAILQ_NEXT(c, busy_link);
		if (c->dead) {
			conn_free(c);
		} else if (c->out_bytes == 0 && !conn_read_ahead(c)) {
			TAILQ_REMOVE(&srv->busy, c, busy_link);
			c->busy = false;
		}
	}
	domains_kick(srv);
}

static void
server_on_signal(struct loop *l, int fd, unsigned int mask, void *arg)
{
	struct server *srv = arg;
	struct signalfd_siginfo si;

	while (read(fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGTERM:
		case SIGINT:
			log_info("signal %u: shutting down", si.ssi_signo);
			srv->quit = true;
			break;
		case SIGHUP:
			log_access_reopen();
			break;
		case SIGCHLD:
			durable_child_exited(srv->dur);
			lu_child_exited(srv);
			break;
		}
	}
}

static int
server_signals(struct server *srv)
{
	sigset_t set;
	int rc;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	srv->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (srv->sigfd < 0) {
		rc = -errno;
		log_err("server: signalfd: %s", strerror(-rc));
		return rc;
	}
	return loop_add_fd(srv->loop, srv->sigfd, LOOP_READ, server_on_signal,
			   srv);
}

static int
server_apply_quotas(struct server *srv, const struct server_config *cfg)
{
	for (unsigned int i = 0; i < cfg->nquotas; i++) {
		const struct server_quota_opt *q = &cfg->quotas[i];
		int rc;

		rc = server_set_quota(srv, STORE_DOMID_GLOBAL, q->quota,
				      q->soft, q->value);
		if (rc < 0) {
			log_err("server: quota %s%s=%u: %s",
				q->soft ? "soft-" : "",
				store_quota_name(q->quota), q->value,
				strerror(-rc));
			return rc;
		}
	}
	return 0;
}

struct server *
server_alloc(const struct server_config *cfg, int *rc)
{
	struct server *srv = xcalloc(1, sizeof(*srv));

	TAILQ_INIT(&srv->conns);
	TAILQ_INIT(&srv->busy);
	srv->sigfd = -1;
	srv->cfg = *cfg;
	srv->cfg.sock_path = xstrdup(cfg->sock_path);
	srv->cfg.access_log = cfg->access_log ? xstrdup(cfg->access_log)
					      : NULL;
	srv->cfg.quotas = NULL;
	srv->cfg.nquotas = 0;
	srv->cfg.xsd_kva = cfg->xsd_kva ? xstrdup(cfg->xsd_kva) : NULL;
	srv->cfg.xsd_port = cfg->xsd_port ? xstrdup(cfg->xsd_port) : NULL;
	srv->loop = loop_new();
	if (srv->loop == NULL) {
		*rc = -errno;
		log_err("server: epoll: %s", strerror(-*rc));
		server_free(srv);
		return NULL;
	}
	loop_set_before_sleep(srv->loop, server_before_sleep, srv);
	srv->stats = stats_new(loop_time_ms(srv->loop), real_ns());
	/* Signals first: a snapshot child may exit at any time after this. */
	*rc = server_signals(srv);
	if (*rc < 0) {
		server_free(srv);
		return NULL;
	}
	return srv;
}

int
server_finish(struct server *srv, const struct server_config *cfg,
	      bool access_log)
{
	int rc;

	rc = server_apply_quotas(srv, cfg);
	if (rc < 0)
		return rc;
	/* A live update may have adopted the domains already. */
	rc = srv->doms ? 0 : domains_open(srv);
	if (rc < 0)
		return rc;
	if (access_log && srv->cfg.access_log)
		rc = log_access_open(srv->cfg.access_log,
				     srv->cfg.access_log_size,
				     srv->cfg.access_log_keep);
	return rc;
}

int
server_new(const struct server_config *cfg, struct server **out)
{
	struct server *srv;
	char *ro_path;
	int rc;

	srv = server_alloc(cfg, &rc);
	if (srv == NULL)
		return rc;
	/*
	 * The sockets before the state: a second daemon is refused before it
	 * spends time on recovery, and clients that connect meanwhile simply
	 * wait for their first reply.
	 */
	rc = sock_listen(srv, srv->cfg.sock_path, false, &srv->rw);
	if (rc < 0)
		goto fail;
	ro_path = xasprintf("%s%s", srv->cfg.sock_path, SERVER_RO_SUFFIX);
	rc = sock_listen(srv, ro_path, true, &srv->ro);
	free(ro_path);
	if (rc < 0)
		goto fail;
	rc = durable_open(srv, &cfg->durable, &srv->store);
	if (rc < 0)
		goto fail;
	rc = server_finish(srv, cfg, true);
	if (rc < 0)
		goto fail;
	*out = srv;
	return 0;
fail:
	server_free(srv);
	return rc;
}

void
server_free(struct server *srv)
{
	struct conn *c;

	if (srv == NULL)
		return;
	lu_adopt_after(srv);
	while ((c = TAILQ_FIRST(&srv->conns)) != NULL)
		conn_free(c);
	domains_close(srv);
	sock_listener_free(srv->rw);
	sock_listener_free(srv->ro);
	if (srv->sigfd >= 0) {
		loop_del_fd(srv->loop, srv->sigfd);
		close(srv->sigfd);
	}
	/* Everything logged is written before the store goes. */
	durable_close(srv->dur);
	if (srv->store)
		store_free(srv->store);
	loop_free(srv->loop);
	stats_free(srv->stats);
	log_access_close();
	free((char *)srv->cfg.sock_path);
	free((char *)srv->cfg.access_log);
	free((char *)srv->cfg.xsd_kva);
	free((char *)srv->cfg.xsd_port);
	free(srv);
}

int
server_run(struct server *srv)
{
	while (!srv->quit) {
		int rc = loop_run_once(srv->loop, -1);

		if (rc < 0) {
			log_err("server: epoll_wait: %s", strerror(-rc));
			return rc;
		}
	}
	/* Replies already queued still go out. */
	server_before_sleep(srv->loop, srv);
	return 0;
}
