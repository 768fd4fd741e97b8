/*
 * lu-early: the new daemon's socket connections set up before the pause
 * (EARLY). It asks for them once loaded, while the old daemon serves on,
 * and sets each one up (store connection, epoll registration) under the
 * old daemon's id; the handover then names each by id (lu_early_take).
 * Those it does not name were closed meanwhile: lu_early_free closes
 * them, so their clients see the end of the connection.
 */
#include <errno.h>
#include <stdlib.h>

#include "liveupdate/liveupdate.h"
#include "server/server-int.h"

static int
lu_early_cmp(const void *a, const void *b)
{
	const struct lu_early_conn *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

int
lu_early_adopt(struct server *srv, int fd, uint64_t seq, struct lu_early *e,
	       char **why)
{
	struct lu_state st;
	int rc;

	lu_state_init(&st);
	rc = lu_send_early(fd, seq);
	if (rc == 0)
		rc = lu_recv_state(fd, &st, NULL, why);
	if (rc < 0)
		return rc;
	e->v = xcalloc(st.nconns ? st.nconns : 1, sizeof(*e->v));
	for (uint32_t i = 0; i < st.nconns; i++) {
		struct lu_conn *lc = &st.conns[i];
		struct conn *c;

		if (lc->ring || lc->fd < 0)
			continue;
		c = sock_conn_adopt(srv, lc->fd, CONN_DROP_ON_OVERFLOW |
				    (lc->readonly ? CONN_READONLY : 0u),
				    &lc->caller);
		lc->fd = -1;
		c->id = lc->id;
		e->v[e->n++] = (struct lu_early_conn){ lc->id, c };
	}
	qsort(e->v, e->n, sizeof(*e->v), lu_early_cmp);
	if (st.fd_token >= 0 && lu_token_open(st.fd_token, &e->token) < 0)
		log_warn("live update: the release token does not map: "
			 "waiting for the old daemon to let go instead");
	lu_state_release(&st);
	return 0;
}

struct conn *
lu_early_take(struct lu_early *e, uint32_t id)
{
	struct lu_early_conn key = { .id = id }, *found;
	struct conn *c;

	found = e->n ? bsearch(&key, e->v, e->n, sizeof(*e->v),
			       lu_early_cmp) : NULL;
	if (found == NULL)
		return NULL;
	c = found->c;
	found->c = NULL;
	return c;
}

void
lu_early_free(struct lu_early *e)
{
	for (uint32_t i = 0; i < e->n; i++)
		if (e->v[i].c)
			conn_free(e->v[i].c);
	free(e->v);
	e->v = NULL;
	e->n = 0;
}
