/*
 * lu-export: the old daemon's state that is not on disk, as a struct
 * lu_state: listeners, the state directory's lock, every connection
 * (socket or guest ring) with its partial input, unsent output, watches
 * and open transactions, and the domains with the event channel fd. The
 * descriptors are borrowed: they stay open here until the process exits,
 * so the old daemon can resume if the new one refuses.
 *
 * Before the pause (EARLY), the socket connections alone (id, fd, caller)
 * go ahead, so that the new daemon sets them up while this one serves;
 * the handover then names them "early", without their descriptors.
 */
#include <string.h>

#include "liveupdate/liveupdate.h"
#include "server/server-int.h"

static void
lu_export_watch(void *arg, const char *wpath, const char *token, int depth)
{
	lu_conn_add_watch(arg, wpath, token, depth);
}

static void
lu_export_txn(void *arg, const struct store_txn_state *t)
{
	lu_conn_add_txn(arg, t);
}

static void
lu_export_conn(struct conn *c, struct lu_conn *lc)
{
	const struct conn_out *o;
	uint32_t ahead_len;
	const void *ahead;

	lc->id = c->id;
	lc->fd = sock_conn_fd(c);
	lc->ring = ring_conn_domid(c, &lc->ring_domid);
	lc->readonly = (c->flags & CONN_READONLY) != 0;
	lc->features = c->features;
	lc->caller = *store_conn_caller(c->sc);
	/* The message read in part, then (sockets) what was read ahead of
	 * it: the new daemon reads these bytes before the socket's. */
	ahead_len = 0;
	if (lc->fd >= 0)
		sock_conn_pending(c, &ahead, &ahead_len);
	if (c->in.got || ahead_len) {
		lc->partial_len = c->in.got + ahead_len;
		lc->partial_in = xmalloc(lc->partial_len);
		frame_in_copy(&c->in, lc->partial_in);
		if (ahead_len)
			memcpy((char *)lc->partial_in + c->in.got, ahead,
			       ahead_len);
	}
	STAILQ_FOREACH(o, &c->out, link)
		lu_conn_add_out(lc, o->data + o->off, o->len - o->off,
				o->reply);
	store_conn_foreach_watch(c->sc, lu_export_watch, lc);
	store_conn_foreach_txn(c->sc, lu_export_txn, lc);
	lc->next_txid = store_conn_next_txid(c->sc);
}

void
lu_export_early(struct server *srv, struct lu_state *st, uint32_t *max_id)
{
	struct conn *c;

	TAILQ_FOREACH(c, &srv->conns, link) {
		struct lu_conn *lc;

		if (c->dead || sock_conn_fd(c) < 0)
			continue;
		lc = lu_state_add_conn(st);
		lc->id = c->id;
		lc->fd = sock_conn_fd(c);
		lc->readonly = (c->flags & CONN_READONLY) != 0;
		lc->caller = *store_conn_caller(c->sc);
	}
	/* Ids only grow: every connection up to here was in this list,
	 * unless it was dead, and a dead one never comes back. */
	*max_id = srv->next_conn_id;
}

void
lu_export(struct server *srv, struct lu_state *st, uint32_t early_max_id)
{
	struct conn *c;

	st->fd_rw = sock_listener_fd(srv->rw);
	st->fd_ro = sock_listener_fd(srv->ro);
	st->fd_lock = durable_lock_fd(srv->dur);
	if (durable_segment(srv->dur))
		st->wal_segment = xstrdup(durable_segment(srv->dur));
	st->next_conn_id = srv->next_conn_id;
	if (srv->cfg.access_log)
		st->access_log = xstrdup(srv->cfg.access_log);
	st->access_log_on = log_access_enabled();
	TAILQ_FOREACH(c, &srv->conns, link) {
		struct lu_conn *lc;

		if (c->dead)
			continue;
		lc = lu_state_add_conn(st);
		lu_export_conn(c, lc);
		lc->early = lc->fd >= 0 && lc->id <= early_max_id;
	}
	domains_export(srv, st);
}

/* Borrowed descriptors are not the state's to close. */
void
lu_export_release(struct lu_state *st)
{
	st->fd_rw = st->fd_ro = st->fd_lock = st->fd_evtchn = -1;
	st->fd_token = -1;
	for (uint32_t i = 0; i < st->nconns; i++)
		st->conns[i].fd = -1;
	lu_state_release(st);
}
