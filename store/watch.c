/*
 * Watches: registration per connection, matching, and the event queue.
 *
 * Watches are indexed by absolute path, so a change at P looks up P and each
 * of its ancestors: the cost is the depth of P, not the number of watches.
 * Matching (protocol text, WATCH): a change at P reaches a watch on W when P
 * is W or below W, and the extra levels do not exceed the watch's depth. A
 * removed subtree also reaches every watch on a removed descendant, with the
 * watch's own path as event path. An event is delivered to an unprivileged
 * watcher only if it can read the node (before or after the change) or its
 * parent.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "store/store-int.h"

static bool
watch_permitted(const struct store_conn *c, const struct perm_set *ps)
{
	const struct store_caller *who = &c->caller;

	if (who->priv)
		return true;
	if (perm_for(who, ps->perms, ps->nperms) & STORE_PERM_READ)
		return true;
	if (ps->nold && (perm_for(who, ps->old, ps->nold) & STORE_PERM_READ))
		return true;
	return ps->nparent &&
	       (perm_for(who, ps->parent, ps->nparent) & STORE_PERM_READ);
}

static void
evq_push(struct store *s, struct store_conn *c, const char *path,
	 const char *token)
{
	struct pend_event *e;

	if (s->replaying)
		return;
	if (s->nevq == s->capevq) {
		s->capevq = s->capevq ? s->capevq * 2 : 8;
		s->evq = xrealloc(s->evq, s->capevq * sizeof(*s->evq));
	}
	e = &s->evq[s->nevq++];
	e->ctx = c->ctx;
	e->path = s->evq_arena.len;
	buf_add_str0(&s->evq_arena, path);
	e->token = s->evq_arena.len;
	buf_add_str0(&s->evq_arena, token);
}

/*
 * A request that changes one node fires each watch at most once. Only a
 * record of several ops (a transaction changing a node twice) can queue
 * the same (connection, path, token) twice: then duplicates are dropped
 * through a set keyed by all three, in one pass.
 */
static void
evq_mark_duplicates(struct store *s, bool *dup)
{
	const char *a = s->evq_arena.data;
	struct buf keys = { 0 };
	struct hmap seen;
	size_t *off = xmalloc(s->nevq * sizeof(*off));

	for (uint32_t i = 0; i < s->nevq; i++) {
		const struct pend_event *e = &s->evq[i];

		off[i] = keys.len;
		buf_printf(&keys, "%p|%s|%s", e->ctx, a + e->path, a + e->token);
		buf_add(&keys, "", 1);
	}
	hmap_init(&seen);
	for (uint32_t i = 0; i < s->nevq; i++) {
		const char *k = keys.data + off[i];

		dup[i] = hmap_get(&seen, k) != NULL;
		if (!dup[i])
			hmap_put(&seen, k, (void *)k);
	}
	hmap_free(&seen);
	buf_free(&keys);
	free(off);
}

void
evq_flush_events(struct store *s, bool may_repeat)
{
	const char *a = s->evq_arena.data;
	bool *dup = NULL;

	if (may_repeat && s->nevq > 1) {
		dup = xcalloc(s->nevq, sizeof(*dup));
		evq_mark_duplicates(s, dup);
	}
	for (uint32_t i = 0; i < s->nevq; i++) {
		struct pend_event *e = &s->evq[i];

		if (s->cb.watch_event && !(dup && dup[i]))
			s->cb.watch_event(e->ctx, a + e->path, a + e->token);
	}
	free(dup);
	s->nevq = 0;
	buf_reset(&s->evq_arena);
}

void
evq_flush(struct store *s)
{
	evq_flush_events(s, false);
}

static const char *
watch_epath(const struct watch *w, const char *path)
{
	if (w->relative && strlen(path) > w->conn->homelen)
		return path + w->conn->homelen + 1;
	return path;
}

/* Queues events for the watches on prefix, extra levels above path. */
static void
watch_fire_at(struct store *s, const char *prefix, const char *path,
	      uint32_t extra, const struct perm_set *ps)
{
	for (struct watch *w = hmap_get(&s->watches, prefix); w;
	     w = w->next_path) {
		if (w->depth >= 0 && extra > (uint32_t)w->depth)
			continue;
		if (watch_permitted(w->conn, ps))
			evq_push(s, w->conn, watch_epath(w, path), w->token);
	}
}

void
watch_fire_change(struct store *s, const char *path,
		  const struct perm_set *ps)
{
	uint32_t depth, pdepth = 0;
	size_t len;
	char *pfx;

	if (s->watches.n == 0)
		return;
	if (path[0] == '@') {
		watch_fire_at(s, path, path, 0, ps);
		return;
	}
	depth = path_depth(path);
	watch_fire_at(s, "/", path, depth, ps);
	len = strlen(path);
	if (len == 1)
		return;
	pfx = xstrdup(path);
	for (size_t i = 2; i <= len; i++) {
		if (i < len && path[i] != '/')
			continue;
		pfx[i] = '\0';
		watch_fire_at(s, pfx, path, depth - ++pdepth, ps);
		pfx[i] = path[i];
	}
	free(pfx);
}

void
watch_fire_removed(struct store *s, const char *path,
		   const struct perm_set *ps)
{
	for (struct watch *w = hmap_get(&s->watches, path); w;
	     w = w->next_path)
		if (watch_permitted(w->conn, ps))
			evq_push(s, w->conn, w->wpath, w->token);
}

static uint64_t
watch_cost(const struct watch *w)
{
	return 32 + strlen(w->abs) + strlen(w->token);
}

static void
watch_index_remove(struct store *s, struct watch *w)
{
	struct watch *head = hmap_get(&s->watches, w->abs);
	struct watch **pp;

	if (head == w) {
		if (w->next_path)
			hmap_put(&s->watches, w->next_path->abs, w->next_path);
		else
			hmap_del(&s->watches, w->abs);
		return;
	}
	for (pp = &head->next_path; *pp; pp = &(*pp)->next_path)
		if (*pp == w) {
			*pp = w->next_path;
			return;
		}
}

static void
watch_free(struct store_conn *c, struct watch *w)
{
	struct store *s = c->s;
	struct dom *d;

	watch_index_remove(s, w);
	s->nwatches--;
	d = dom_get(s, c->caller.domid, true);
	d->use.watches--;
	d->use.memory -= watch_cost(w);
	free(w->abs);
	free(w->wpath);
	free(w->token);
	free(w);
}

int
store_watch(struct store_conn *c, const char *wpath, const char *token,
	    int depth)
{
	struct store *s = c->s;
	struct dom *d;
	struct watch *w;
	char *abs;
	int rc;

	rc = store_path_resolve(s, &c->caller, wpath, true, &abs);
	if (rc < 0)
		return rc;
	for (w = c->watches; w; w = w->next_conn)
		if (strcmp(w->abs, abs) == 0 && strcmp(w->token, token) == 0) {
			free(abs);
			return -EEXIST;
		}
	d = dom_get(s, c->caller.domid, true);
	if (quota_over(s, &c->caller, STORE_QUOTA_WATCHES,
		       (uint64_t)d->use.watches + 1)) {
		free(abs);
		return -ENOSPC;
	}
	w = xcalloc(1, sizeof(*w));
	w->conn = c;
	w->abs = abs;
	w->wpath = xstrdup(wpath);
	w->token = xstrdup(token);
	w->depth = depth;
	w->relative = wpath[0] != '/' && wpath[0] != '@';
	w->next_conn = c->watches;
	c->watches = w;
	w->next_path = hmap_get(&s->watches, abs);
	hmap_put(&s->watches, w->abs, w);
	s->nwatches++;
	d->use.watches++;
	d->use.memory += watch_cost(w);
	return 0;
}

int
store_unwatch(struct store_conn *c, const char *wpath, const char *token)
{
	struct watch **pp;
	char *abs;
	int rc;

	rc = store_path_resolve(c->s, &c->caller, wpath, true, &abs);
	if (rc < 0)
		return rc;
	for (pp = &c->watches; *pp; pp = &(*pp)->next_conn) {
		struct watch *w = *pp;

		if (strcmp(w->abs, abs) == 0 && strcmp(w->token, token) == 0) {
			*pp = w->next_conn;
			watch_free(c, w);
			free(abs);
			return 0;
		}
	}
	free(abs);
	return -ENOENT;
}

void
store_watch_fire_all(struct store_conn *c)
{
	for (struct watch *w = c->watches; w; w = w->next_conn)
		if (c->s->cb.watch_event)
			c->s->cb.watch_event(c->ctx, w->wpath, w->token);
}

void
store_conn_foreach_watch(const struct store_conn *c,
			 void (*fn)(void *arg, const char *wpath,
				    const char *token, int depth),
			 void *arg)
{
	for (const struct watch *w = c->watches; w; w = w->next_conn)
		fn(arg, w->wpath, w->token, w->depth);
}

void
watch_drop_conn(struct store_conn *c)
{
	while (c->watches) {
		struct watch *w = c->watches;

		c->watches = w->next_conn;
		watch_free(c, w);
	}
}

void
store_fire_special_forms(struct store *s, const char *name, uint32_t domid,
			 unsigned int forms)
{
	struct node *n = tree_lookup(s, name);
	struct perm_set ps = { 0 };
	char *sub = xasprintf("%s/%u", name, domid);

	if (n) {
		ps.perms = node_perms(n);
		ps.nperms = n->nperms;
	}
	for (struct watch *w = hmap_get(&s->watches, name); w;
	     w = w->next_path) {
		if (!watch_permitted(w->conn, &ps))
			continue;
		if (forms & STORE_SPECIAL_PLAIN)
			evq_push(s, w->conn, name, w->token);
		if ((forms & STORE_SPECIAL_DOMID) && w->depth >= 1)
			evq_push(s, w->conn, sub, w->token);
	}
	for (struct watch *w = hmap_get(&s->watches, sub);
	     w && (forms & STORE_SPECIAL_DOMID); w = w->next_path)
		if (watch_permitted(w->conn, &ps))
			evq_push(s, w->conn, sub, w->token);
	free(sub);
	evq_flush(s);
}

void
store_fire_special(struct store *s, const char *name, uint32_t domid)
{
	store_fire_special_forms(s, name, domid,
				 STORE_SPECIAL_PLAIN | STORE_SPECIAL_DOMID);
}
