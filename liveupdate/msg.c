/*
 * struct lu_state and its protobuf encoding (liveupdate.proto, through
 * protobuf-c's generated code: the handover is written once per update,
 * not on a hot path).
 *
 * Descriptors travel beside the message (chan.c); the message names them
 * by index into that list. A decoder of version N reads any message of
 * version <= N: every field added after version 1 is optional with a
 * default meaning "as version 1 did".
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "liveupdate/lu-int.h"

void
lu_state_init(struct lu_state *st)
{
	memset(st, 0, sizeof(*st));
	st->version = LU_VERSION;
	st->fd_rw = st->fd_ro = st->fd_lock = st->fd_evtchn = -1;
	st->fd_token = -1;
}

static void
lu_close(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void
lu_state_release(struct lu_state *st)
{
	for (uint32_t i = 0; i < st->nconns; i++) {
		struct lu_conn *c = &st->conns[i];

		lu_close(&c->fd);
		free(c->partial_in);
		for (uint32_t j = 0; j < c->nout; j++)
			free(c->out[j].data);
		free(c->out);
		for (uint32_t j = 0; j < c->nwatches; j++) {
			free(c->watches[j].wpath);
			free(c->watches[j].token);
		}
		free(c->watches);
		for (uint32_t j = 0; j < c->ntxns; j++)
			lu_txn_release(&c->txns[j]);
		free(c->txns);
	}
	free(st->conns);
	free(st->domains);
	free(st->wal_segment);
	lu_close(&st->fd_evtchn);
	lu_close(&st->fd_token);
	free(st->access_log);
	lu_close(&st->fd_rw);
	lu_close(&st->fd_ro);
	lu_close(&st->fd_lock);
	lu_state_init(st);
}

struct lu_conn *
lu_state_add_conn(struct lu_state *st)
{
	struct lu_conn *c;

	st->conns = xrealloc(st->conns, (st->nconns + 1) * sizeof(*c));
	c = &st->conns[st->nconns++];
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->caller.target = LXS_DOMID_INVALID;
	return c;
}

void
lu_state_add_domain(struct lu_state *st, const struct lu_domain *d)
{
	st->domains = xrealloc(st->domains,
			       (st->ndomains + 1) * sizeof(*st->domains));
	st->domains[st->ndomains++] = *d;
}

void
lu_conn_add_out(struct lu_conn *c, const void *data, uint32_t len,
		bool reply)
{
	struct lu_out *o;

	c->out = xrealloc(c->out, (c->nout + 1) * sizeof(*o));
	o = &c->out[c->nout++];
	o->data = xmalloc(len ? len : 1);
	memcpy(o->data, data, len);
	o->len = len;
	o->reply = reply;
}

void
lu_conn_add_watch(struct lu_conn *c, const char *wpath, const char *token,
		  int depth)
{
	struct lu_watch *w;

	c->watches = xrealloc(c->watches, (c->nwatches + 1) * sizeof(*w));
	w = &c->watches[c->nwatches++];
	w->wpath = xstrdup(wpath);
	w->token = xstrdup(token);
	w->depth = depth;
}

/* ---- encoding ------------------------------------------------------------ */

static uint32_t
lu_fd_index(int fd, int **fds, uint32_t *nfds)
{
	*fds = xrealloc(*fds, (*nfds + 1) * sizeof(int));
	(*fds)[*nfds] = fd;
	return (*nfds)++;
}

static void
lu_encode_conn(const struct lu_conn *c, Lxslu__Conn *m, int **fds,
	       uint32_t *nfds)
{
	lxslu__conn__init(m);
	m->id = c->id;
	m->fd = c->ring || c->early ? 0 : lu_fd_index(c->fd, fds, nfds);
	m->has_early = c->early;
	m->early = c->early;
	m->has_ring_domid = c->ring;
	m->ring_domid = c->ring_domid;
	m->has_readonly = c->readonly;
	m->readonly = c->readonly;
	m->has_features = true;
	m->features = c->features;
	m->has_domid = true;
	m->domid = c->caller.domid;
	m->has_target = true;
	m->target = c->caller.target;
	m->has_priv = true;
	m->priv = c->caller.priv;
	if (c->partial_len) {
		m->has_partial_in = true;
		m->partial_in.data = c->partial_in;
		m->partial_in.len = c->partial_len;
	}
	m->n_out = c->nout;
	m->out = xcalloc(c->nout ? c->nout : 1, sizeof(*m->out));
	for (uint32_t i = 0; i < c->nout; i++) {
		Lxslu__Out *o = xmalloc(sizeof(*o));

		lxslu__out__init(o);
		o->data.data = c->out[i].data;
		o->data.len = c->out[i].len;
		o->has_reply = c->out[i].reply;
		o->reply = c->out[i].reply;
		m->out[i] = o;
	}
	m->n_watches = c->nwatches;
	m->watches = xcalloc(c->nwatches ? c->nwatches : 1,
			     sizeof(*m->watches));
	for (uint32_t i = 0; i < c->nwatches; i++) {
		Lxslu__Watch *w = xmalloc(sizeof(*w));

		lxslu__watch__init(w);
		w->wpath = c->watches[i].wpath;
		w->token = c->watches[i].token;
		w->has_depth = c->watches[i].depth >= 0;
		w->depth = c->watches[i].depth;
		m->watches[i] = w;
	}
	lu_encode_txns(c, m);
}

static void
lu_encode_conn_free(Lxslu__Conn *m)
{
	for (size_t i = 0; i < m->n_out; i++)
		free(m->out[i]);
	free(m->out);
	for (size_t i = 0; i < m->n_watches; i++)
		free(m->watches[i]);
	free(m->watches);
	lu_encode_txns_free(m);
}

void
lu_encode(const struct lu_state *st, uint8_t **out, size_t *len, int **fds,
	  uint32_t *nfds)
{
	Lxslu__Handover m = LXSLU__HANDOVER__INIT;
	Lxslu__Reply reply = LXSLU__REPLY__INIT;
	Lxslu__Conn *conns = xcalloc(st->nconns ? st->nconns : 1,
				     sizeof(*conns));
	Lxslu__Conn **pconns = xcalloc(st->nconns ? st->nconns : 1,
				       sizeof(*pconns));

	*fds = NULL;
	*nfds = 0;
	m.version = st->version;
	m.final_seq = st->final_seq;
	if (st->fd_rw >= 0) {
		m.has_fd_rw = true;
		m.fd_rw = lu_fd_index(st->fd_rw, fds, nfds);
	}
	if (st->fd_ro >= 0) {
		m.has_fd_ro = true;
		m.fd_ro = lu_fd_index(st->fd_ro, fds, nfds);
	}
	if (st->fd_lock >= 0) {
		m.has_fd_lock = true;
		m.fd_lock = lu_fd_index(st->fd_lock, fds, nfds);
	}
	m.has_next_conn_id = true;
	m.next_conn_id = st->next_conn_id;
	m.access_log = st->access_log;
	m.has_access_log_on = true;
	m.access_log_on = st->access_log_on;
	if (st->has_reply) {
		reply.conn = st->reply_conn;
		reply.req_id = st->reply_req_id;
		reply.tx_id = st->reply_tx_id;
		m.reply = &reply;
	}
	for (uint32_t i = 0; i < st->nconns; i++) {
		lu_encode_conn(&st->conns[i], &conns[i], fds, nfds);
		pconns[i] = &conns[i];
	}
	m.n_conns = st->nconns;
	m.conns = pconns;
	if (st->fd_evtchn >= 0) {
		m.has_fd_evtchn = true;
		m.fd_evtchn = lu_fd_index(st->fd_evtchn, fds, nfds);
	}
	lu_encode_domains(st, &m);
	m.wal_segment = st->wal_segment;
	if (st->fd_token >= 0) {
		m.has_fd_token = true;
		m.fd_token = lu_fd_index(st->fd_token, fds, nfds);
	}
	m.has_pause_start_ns = st->pause_start_ns != 0;
	m.pause_start_ns = st->pause_start_ns;
	*len = lxslu__handover__get_packed_size(&m);
	*out = xmalloc(*len ? *len : 1);
	lxslu__handover__pack(&m, *out);
	for (uint32_t i = 0; i < st->nconns; i++)
		lu_encode_conn_free(&conns[i]);
	free(conns);
	free(pconns);
	lu_encode_domains_free(&m);
}

/* ---- decoding ------------------------------------------------------------ */

/* Takes fds[idx] (-1 if absent or taken already: a message may not name
 * one descriptor twice). */
static int
lu_take_fd(int *fds, uint32_t nfds, uint32_t idx, int *out)
{
	if (fds == NULL) {
		*out = -1;
		return 0;
	}
	if (idx >= nfds || fds[idx] < 0)
		return -EINVAL;
	*out = fds[idx];
	fds[idx] = -1;
	return 0;
}

static int
lu_decode_conn(const Lxslu__Conn *m, int *fds, uint32_t nfds,
	       struct lu_state *st)
{
	struct lu_conn *c = lu_state_add_conn(st);

	c->id = m->id;
	c->ring = m->has_ring_domid;
	c->ring_domid = m->ring_domid;
	c->early = m->early && !c->ring;
	if (!c->ring && !c->early && lu_take_fd(fds, nfds, m->fd, &c->fd) < 0)
		return -EINVAL;
	c->readonly = m->readonly;
	c->features = m->features;
	c->caller.domid = m->domid;
	c->caller.target = m->target;
	c->caller.priv = m->priv;
	if (m->has_partial_in && m->partial_in.len) {
		c->partial_in = xmalloc(m->partial_in.len);
		memcpy(c->partial_in, m->partial_in.data, m->partial_in.len);
		c->partial_len = (uint32_t)m->partial_in.len;
	}
	for (size_t i = 0; i < m->n_out; i++)
		lu_conn_add_out(c, m->out[i]->data.data,
				(uint32_t)m->out[i]->data.len,
				m->out[i]->reply);
	for (size_t i = 0; i < m->n_watches; i++)
		lu_conn_add_watch(c, m->watches[i]->wpath,
				  m->watches[i]->token,
				  m->watches[i]->depth < 0 ? -1 :
				  m->watches[i]->depth);
	return lu_decode_txns(m, c);
}

/* fds NULL: a saved message (lu_decode_saved), every fd -1. */
static int
lu_decode_any(const uint8_t *data, size_t len, int *fds, uint32_t nfds,
	      struct lu_state *st, char **why)
{
	Lxslu__Handover *m;
	int rc = 0;

	*why = NULL;
	lu_state_init(st);
	m = lxslu__handover__unpack(NULL, len, data);
	if (m == NULL) {
		*why = xstrdup("the handover message does not decode");
		return -EINVAL;
	}
	if (m->version > LU_VERSION || m->version == 0) {
		*why = xasprintf("handover version %u, this binary reads up to "
				 "%u", m->version, LU_VERSION);
		rc = -EINVAL;
		goto out;
	}
	st->version = m->version;
	st->final_seq = m->final_seq;
	if ((m->has_fd_rw && lu_take_fd(fds, nfds, m->fd_rw, &st->fd_rw)) ||
	    (m->has_fd_ro && lu_take_fd(fds, nfds, m->fd_ro, &st->fd_ro)) ||
	    (m->has_fd_lock &&
	     lu_take_fd(fds, nfds, m->fd_lock, &st->fd_lock)))
		rc = -EINVAL;
	st->next_conn_id = m->next_conn_id;
	st->access_log = m->access_log ? xstrdup(m->access_log) : NULL;
	st->wal_segment = m->wal_segment ? xstrdup(m->wal_segment) : NULL;
	st->pause_start_ns = m->has_pause_start_ns ? m->pause_start_ns : 0;
	st->access_log_on = m->access_log_on;
	if (m->reply) {
		st->has_reply = true;
		st->reply_conn = m->reply->conn;
		st->reply_req_id = m->reply->req_id;
		st->reply_tx_id = m->reply->tx_id;
	}
	for (size_t i = 0; rc == 0 && i < m->n_conns; i++)
		rc = lu_decode_conn(m->conns[i], fds, nfds, st);
	if (rc == 0 && m->has_fd_evtchn)
		rc = lu_take_fd(fds, nfds, m->fd_evtchn, &st->fd_evtchn);
	if (rc == 0 && m->has_fd_token)
		rc = lu_take_fd(fds, nfds, m->fd_token, &st->fd_token);
	if (rc == 0)
		lu_decode_domains(m, st);
	if (rc < 0)
		*why = xstrdup("the handover names a descriptor it did not "
			       "pass, or holds a change without permissions");
out:
	if (rc < 0)
		lu_state_release(st);
	lxslu__handover__free_unpacked(m, NULL);
	return rc;
}

int
lu_decode(const uint8_t *data, size_t len, int *fds, uint32_t nfds,
	  struct lu_state *st, char **why)
{
	static int none[1] = { -1 };

	return lu_decode_any(data, len, fds ? fds : none, fds ? nfds : 0, st,
			     why);
}

int
lu_decode_saved(const uint8_t *data, size_t len, struct lu_state *st,
		char **why)
{
	return lu_decode_any(data, len, NULL, 0, st, why);
}
