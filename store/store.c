/*
 * The store object: creation with the initial nodes, connections, replay of
 * mutation records, domain cleanup and statistics.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "store/store-int.h"

struct store *
store_new(const struct store_cb *cb, void *cb_ctx, uint32_t priv_domid)
{
	struct store *s = xcalloc(1, sizeof(*s));
	struct store_perm priv = { priv_domid, STORE_PERM_NONE };
	struct store_perm release[2] = {
		{ priv_domid, STORE_PERM_NONE },
		{ LXS_DOMID_ANY, STORE_PERM_READ },
	};
	struct node *tool;

	if (cb)
		s->cb = *cb;
	s->cb_ctx = cb_ctx;
	s->priv_domid = priv_domid;
	s->kidcache = xcalloc(KIDCACHE_SLOTS, sizeof(*s->kidcache));
	hmap_init(&s->watches);
	quota_init(s);
	tree_node_new(s, "/", NULL, &priv, 1, NULL, 0);
	tool = tree_node_new(s, "/tool", s->root, &priv, 1, NULL, 0);
	tree_node_new(s, "/tool/xenstored", tool, &priv, 1, NULL, 0);
	tree_node_new(s, "@introduceDomain", NULL, &priv, 1, NULL, 0);
	/* Every domain may watch for releases (its own backends need it). */
	tree_node_new(s, "@releaseDomain", NULL, release, 2, NULL, 0);
	return s;
}

void
store_free(struct store *s)
{
	if (s == NULL)
		return;
	while (s->conns)
		store_conn_free(s->conns);
	s->tearing_down = true;
	tree_free_all(s);
	slab_free_all(&s->slab);
	nindex_free(&s->nodes);
	kidcache_free(s);
	hmap_free(&s->watches);
	store_discard_pending(s);
	free(s->pend);
	buf_free(&s->pend_arena);
	evq_flush(s);
	free(s->evq);
	buf_free(&s->evq_arena);
	quota_free(s);
	free(s);
}

static void
conn_set_home(struct store_conn *c)
{
	free(c->home);
	c->home = xasprintf("/local/domain/%u", c->caller.domid);
	c->homelen = strlen(c->home);
}

struct store_conn *
store_conn_new(struct store *s, const struct store_caller *caller,
	       void *conn_ctx)
{
	struct store_conn *c = xcalloc(1, sizeof(*c));

	c->s = s;
	c->caller = *caller;
	c->ctx = conn_ctx;
	conn_set_home(c);
	c->next = s->conns;
	if (s->conns)
		s->conns->prev = c;
	s->conns = c;
	return c;
}

void
store_conn_free(struct store_conn *c)
{
	if (c == NULL)
		return;
	txn_drop_all(c);
	watch_drop_conn(c);
	if (c->prev)
		c->prev->next = c->next;
	else
		c->s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	free(c->home);
	free(c);
}

void
store_conn_set_caller(struct store_conn *c, const struct store_caller *caller)
{
	c->caller = *caller;
	conn_set_home(c);
}

const struct store_caller *
store_conn_caller(const struct store_conn *c)
{
	return &c->caller;
}

uint32_t
store_conn_ntransactions(const struct store_conn *c)
{
	return c->ntxns;
}

void
store_reset_watches(struct store_conn *c)
{
	watch_drop_conn(c);
	txn_drop_all(c);
}

/*
 * Whether path exists after ops[0..upto) of a record: the latest earlier
 * op that decides it (a PUT of it, a DEL of it or of an ancestor) wins,
 * else the tree.
 */
static bool
apply_exists(const struct store *s, const struct store_op *ops, uint32_t upto,
	     const char *path)
{
	for (uint32_t j = upto; j-- > 0;) {
		if (ops[j].kind == STORE_OP_PUT && strcmp(ops[j].path, path) == 0)
			return true;
		if (ops[j].kind == STORE_OP_DEL && path_is_under(path, ops[j].path))
			return false;
	}
	return tree_lookup(s, path) != NULL;
}

/* Checks that every op of m applies, so that m applies whole or not at all. */
static int
apply_check(const struct store *s, const struct store_mutation *m)
{
	char parent[STORE_ABS_PATH_MAX + 1];

	for (uint32_t i = 0; i < m->nops; i++) {
		const struct store_op *op = &m->ops[i];
		size_t plen;

		if (op->path == NULL || !path_valid_abs(op->path))
			return -EINVAL;
		if (op->kind == STORE_OP_DEL) {
			if (op->path[0] != '/' || strcmp(op->path, "/") == 0 ||
			    !apply_exists(s, m->ops, i, op->path))
				return -EINVAL;
			continue;
		}
		if (op->kind != STORE_OP_PUT || op->nperms == 0)
			return -EINVAL;
		if (apply_exists(s, m->ops, i, op->path))
			continue;
		/* A new node: a path under an existing parent ("@" names and
		 * "/" always exist). */
		if (op->path[0] != '/')
			return -EINVAL;
		plen = path_parent_len(op->path);
		memcpy(parent, op->path, plen);
		parent[plen] = '\0';
		if (!apply_exists(s, m->ops, i, parent))
			return -EINVAL;
	}
	return 0;
}

int
store_apply(struct store *s, const struct store_mutation *m)
{
	int rc = apply_check(s, m);

	if (rc < 0)
		return rc;
	s->replaying = true;
	for (uint32_t i = 0; i < m->nops && rc == 0; i++) {
		const struct store_op *op = &m->ops[i];

		if (op->kind == STORE_OP_PUT)
			rc = tree_put(s, op->path, op->value, op->len,
				      op->perms, op->nperms, true);
		else
			rc = tree_del(s, op->path, true);
	}
	s->replaying = false;
	/* apply_check made failure impossible; report it if it happens. */
	return rc < 0 ? -EIO : 0;
}

int
store_load(struct store *s, const struct store_mutation *m)
{
	int rc = 0;

	s->replaying = true;
	for (uint32_t i = 0; i < m->nops && rc == 0; i++) {
		const struct store_op *op = &m->ops[i];

		if (op->path == NULL || !path_valid_abs(op->path))
			rc = -EINVAL;
		else if (op->kind == STORE_OP_PUT)
			rc = tree_put(s, op->path, op->value, op->len,
				      op->perms, op->nperms, true);
		else if (op->kind == STORE_OP_DEL && op->path[0] == '/' &&
			 strcmp(op->path, "/") != 0)
			rc = tree_del(s, op->path, true);
		else
			rc = -EINVAL;
	}
	s->replaying = false;
	return rc < 0 ? -EINVAL : 0;
}

/* Collects the topmost nodes owned by domid (their subtrees go with them). */
static void
gone_collect(struct node *n, uint32_t domid, bool keep, struct node ***v,
	     uint32_t *nv, uint32_t *cap)
{
	const struct store_perm *perms = node_perms(n);
	bool owned = n->parent && perms[0].domid == domid;
	bool acl = false;

	for (uint32_t i = 1; i < n->nperms; i++)
		acl |= perms[i].domid == domid;
	if (owned || acl) {
		if (*nv == *cap) {
			*cap = *cap ? *cap * 2 : 16;
			*v = xrealloc(*v, *cap * sizeof(**v));
		}
		(*v)[(*nv)++] = n;
		if (owned && !keep)
			return;
	}
	for (struct node *k = node_kid_first(n); k; k = node_kid_next(n, k))
		gone_collect(k, domid, keep, v, nv, cap);
}

/* Rewrites n's perms without domid's ACL entries (and owner if keep). */
static void
gone_fix_perms(struct store *s, struct node *n, const char *path,
	       uint32_t domid)
{
	const struct store_perm *perms = node_perms(n);
	struct store_perm *p = xmalloc(n->nperms * sizeof(*p));
	uint32_t np = 0;

	p[np] = perms[0];
	if (p[np].domid == domid)
		p[np].domid = s->priv_domid;
	np++;
	for (uint32_t i = 1; i < n->nperms; i++)
		if (perms[i].domid != domid)
			p[np++] = perms[i];
	tree_put(s, path, node_value(n), n->len, p, np, true);
	free(p);
}

void
store_domain_gone(struct store *s, uint32_t domid, bool keep)
{
	struct node **v = NULL;
	uint32_t nv = 0, cap = 0;
	char path[NODE_PATH_SIZE];

	if (domid == s->priv_domid)
		return;
	gone_collect(s->root, domid, keep, &v, &nv, &cap);
	for (size_t i = 0; i < LXS_ARRAY_SIZE(s->specials); i++) {
		struct node *n = s->specials[i];

		for (uint32_t j = 1; n && j < n->nperms; j++)
			if (node_perms(n)[j].domid == domid) {
				gone_collect(n, domid, true, &v, &nv, &cap);
				break;
			}
	}
	/* Deepest first, so removing a subtree never frees a later entry. */
	for (uint32_t i = nv; i-- > 0;) {
		struct node *n = v[i];

		node_path(n, path);
		if (n->parent && node_perms(n)[0].domid == domid && !keep)
			tree_del(s, path, true);
		else
			gone_fix_perms(s, n, path, domid);
	}
	free(v);
	store_emit(s, s->priv_domid);
}

void
store_stats(const struct store *s, struct store_stats *out)
{
	out->nodes = s->nnodes;
	out->bytes = s->value_bytes;
	out->watches = s->nwatches;
	out->transactions = s->ntxns;
	out->generation = s->gen;
}

/* path holds n's path (len bytes) in a NODE_PATH_SIZE buffer. */
static int
walk_node(const struct node *n, char *path, size_t len, store_walk_fn fn,
	  void *arg)
{
	int rc = fn(arg, path, node_value(n), n->len, node_perms(n),
		    n->nperms);

	for (const struct node *k = node_kid_first(n); rc == 0 && k;
	     k = node_kid_next(n, k)) {
		rc = walk_node(k, path, node_path_child(path, len, k), fn, arg);
		path[len] = '\0';
	}
	return rc;
}

int
store_walk(const struct store *s, store_walk_fn fn, void *arg)
{
	char path[NODE_PATH_SIZE];
	int rc = walk_node(s->root, path, node_path(s->root, path), fn, arg);

	for (size_t i = 0; rc == 0 && i < LXS_ARRAY_SIZE(s->specials); i++) {
		const struct node *n = s->specials[i];

		if (n)
			rc = walk_node(n, path, node_path(n, path), fn, arg);
	}
	return rc;
}
