/*
 * Transactions: a private view over the tree, a log of physical ops, and
 * the generations the view depends on.
 *
 * The first access to a path copies the node's state (or its absence) into
 * an entry with the node's gen and pgen at that moment. Reading or writing
 * the value makes the gen binding, relying on existence or permissions
 * only (a parent checked while creating a child) makes the pgen binding;
 * DIRECTORY binds the cgen of the listed node; RM binds gen and cgen of the
 * whole removed subtree. A
 * path with no entry is read from the tree unless an ancestor's entry hides
 * it (removed, or created fresh inside the transaction).
 *
 * Commit: if any recorded gen/cgen differs from the tree's now, EAGAIN.
 * Otherwise every node the ops touch is as the transaction saw it, so
 * replaying the op log on the tree yields the transaction's view.
 *
 * Worked example: T writes /a/b (absent: gen 0 binding; parent /a checked
 * for write permission: pgen 5 binding). Meanwhile another client creates
 * /a/c (/a's cgen moves) and writes a value into /a (/a's gen moves, its
 * pgen does not): T commits. Had T read /a's value, or had the other
 * client changed /a's permissions, T would get EAGAIN.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store/store-int.h"

#define TE_GEN	1u	/* gen_seen must still hold at commit */
#define TE_CGEN	2u	/* cgen_seen must still hold at commit */
#define TE_PGEN	4u	/* pgen_seen must still hold at commit */

struct tent {
	char *path;
	uint32_t flags;
	uint64_t gen_seen;	/* when the view was taken, 0: absent */
	uint64_t pgen_seen;
	uint64_t cgen_seen;
	bool seen;		/* gen_seen/pgen_seen come from the tree */
	bool exists;
	bool fresh;		/* created inside the transaction */
	char *value;
	uint32_t len;
	struct store_perm *perms;
	uint32_t nperms;
};

struct txn {
	uint32_t id;
	struct store_conn *c;
	struct txn *next;
	struct hmap ents;
	struct tent **all;	/* entries in order of first access */
	uint32_t nall;
	uint32_t capall;
	struct store_op *ops;
	uint32_t nops;
	uint32_t capops;
	bool hides;		/* some entry is removed or fresh */
	int failed;		/* sticky error, e.g. -ENOSPC */
	bool doomed;		/* imported after a conflict: EAGAIN */
	int32_t node_delta;	/* nodes gained by the caller's domain */
};

static int txn_check_deps(const struct txn *t);

static void
tent_set(struct tent *e, bool exists, const void *value, uint32_t len,
	 const struct store_perm *perms, uint32_t nperms)
{
	/* value and perms may be e's own: copy before freeing. */
	char *nvalue = exists ? xmemdup(value, len) : NULL;
	struct store_perm *nperm = exists ? perms_dup(perms, nperms) : NULL;

	free(e->value);
	free(e->perms);
	e->exists = exists;
	e->value = nvalue;
	e->len = exists ? len : 0;
	e->perms = nperm;
	e->nperms = exists ? nperms : 0;
}

static void
tent_set_node(struct tent *e, const struct node *n)
{
	if (n)
		tent_set(e, true, node_value(n), n->len, node_perms(n),
			 n->nperms);
	else
		tent_set(e, false, NULL, 0, NULL, 0);
}

int
txn_fail(struct txn *t)
{
	if (!t->failed)
		t->failed = -ENOSPC;
	return t->failed;
}

/* A new, empty entry for path. */
static struct tent *
tent_add(struct txn *t, const char *path)
{
	struct tent *e = xcalloc(1, sizeof(*e));

	e->path = xstrdup(path);
	hmap_put(&t->ents, e->path, e);
	if (t->nall == t->capall) {
		t->capall = t->capall ? t->capall * 2 : 8;
		t->all = xrealloc(t->all, t->capall * sizeof(*t->all));
	}
	t->all[t->nall++] = e;
	return e;
}

/* New entry for path, or NULL (and the transaction failed) over quota. */
static struct tent *
tent_new(struct txn *t, const char *path)
{
	struct store *s = t->c->s;

	if (quota_over(s, &t->c->caller, STORE_QUOTA_TXN_NODES,
		       (uint64_t)t->nall + 1)) {
		txn_fail(t);
		return NULL;
	}
	return tent_add(t, path);
}

/* True if an ancestor's entry hides the tree below it. */
static bool
txn_hidden(const struct txn *t, const char *path)
{
	char *p = xstrdup(path);
	bool hidden = false;

	while (strcmp(p, "/") != 0 && p[0] == '/') {
		struct tent *e;

		p[path_parent_len(p)] = '\0';
		e = hmap_get(&t->ents, p);
		if (e && (!e->exists || e->fresh)) {
			hidden = true;
			break;
		}
	}
	free(p);
	return hidden;
}

/* The entry for path, created from the tree on first access. */
static struct tent *
txn_entry(struct txn *t, const char *path)
{
	struct tent *e = hmap_get(&t->ents, path);
	struct node *n;

	if (e)
		return e;
	if (t->hides && path[0] == '/' && txn_hidden(t, path)) {
		e = tent_new(t, path);
		return e;
	}
	e = tent_new(t, path);
	if (e == NULL)
		return NULL;
	n = tree_lookup(t->c->s, path);
	e->seen = true;
	e->gen_seen = n ? gen48_get(n->gen) : 0;
	e->pgen_seen = n ? gen48_get(n->pgen) : 0;
	tent_set_node(e, n);
	return e;
}

int
txn_get(struct txn *t, const char *path, struct nview *v, bool meta)
{
	struct tent *e;

	if (t->failed)
		return t->failed;
	e = txn_entry(t, path);
	if (e == NULL)
		return t->failed;
	if (e->seen)
		e->flags |= meta ? TE_PGEN : TE_GEN;
	v->exists = e->exists;
	v->value = e->value;
	v->len = e->len;
	v->perms = e->perms;
	v->nperms = e->nperms;
	return 0;
}

static void
txn_log(struct txn *t, const struct store_op *op)
{
	if (t->nops == t->capops) {
		t->capops = t->capops ? t->capops * 2 : 8;
		t->ops = xrealloc(t->ops, t->capops * sizeof(*t->ops));
	}
	tree_op_copy(&t->ops[t->nops++], op);
}

static int
txn_owned(const struct txn *t, const struct tent *e)
{
	return e->exists && e->perms[0].domid == t->c->caller.domid;
}

int
txn_put(struct txn *t, const char *path, const void *value, uint32_t len,
	const struct store_perm *perms, uint32_t nperms, bool quiet)
{
	struct store_op op = {
		.kind = STORE_OP_PUT, .path = path, .value = value,
		.len = len, .perms = perms, .nperms = nperms, .quiet = quiet,
	};
	struct tent *e = txn_entry(t, path);

	if (e == NULL)
		return t->failed;
	if (e->seen)
		e->flags |= TE_GEN;
	t->node_delta -= txn_owned(t, e);
	if (!e->exists) {
		e->fresh = true;
		t->hides = true;
	}
	/* Log first: value and perms may be e's own buffers. */
	txn_log(t, &op);
	tent_set(e, true, value, len, perms, nperms);
	t->node_delta += txn_owned(t, e);
	return 0;
}

static void
tent_remove(struct txn *t, struct tent *e)
{
	t->node_delta -= txn_owned(t, e);
	tent_set(e, false, NULL, 0, NULL, 0);
	e->fresh = false;
}

/*
 * Records gen and cgen of n's subtree and removes it from the view. path
 * holds n's path (len bytes) in a NODE_PATH_SIZE buffer.
 */
static int
txn_del_base(struct txn *t, const struct node *n, char *path, size_t len)
{
	struct tent *e = hmap_get(&t->ents, path);

	if (e == NULL) {
		e = tent_new(t, path);
		if (e == NULL)
			return t->failed;
		e->seen = true;
		e->gen_seen = gen48_get(n->gen);
		e->pgen_seen = gen48_get(n->pgen);
		tent_set_node(e, n);
	}
	if (e->seen)
		e->flags |= TE_GEN;
	if (!(e->flags & TE_CGEN)) {
		e->flags |= TE_CGEN;
		e->cgen_seen = gen48_get(n->cgen);
	}
	for (struct node *k = node_kid_first(n); k; k = node_kid_next(n, k)) {
		if (txn_del_base(t, k, path, node_path_child(path, len, k)) < 0)
			return t->failed;
		path[len] = '\0';
	}
	return 0;
}

int
txn_del(struct txn *t, const char *path)
{
	struct store_op op = { .kind = STORE_OP_DEL, .path = path };
	struct tent *e = txn_entry(t, path);

	if (e == NULL)
		return t->failed;
	if (!e->fresh && !(t->hides && txn_hidden(t, path))) {
		struct node *n = tree_lookup(t->c->s, path);
		char buf[NODE_PATH_SIZE];

		if (n && txn_del_base(t, n, buf, node_path(n, buf)) < 0)
			return t->failed;
	}
	for (uint32_t i = 0; i < t->nall; i++)
		if (t->all[i]->exists && path_is_under(t->all[i]->path, path))
			tent_remove(t, t->all[i]);
	t->hides = true;
	txn_log(t, &op);
	return 0;
}

static bool
path_is_child(const char *child, const char *parent, size_t plen)
{
	const char *rest;

	if (plen == 1) {
		rest = child + 1;
	} else {
		if (strncmp(child, parent, plen) != 0 || child[plen] != '/')
			return false;
		rest = child + plen + 1;
	}
	return child[0] == '/' && rest[0] != '\0' && strchr(rest, '/') == NULL;
}

int
txn_children(struct txn *t, const char *path, struct buf *out, uint64_t *gen)
{
	struct tent *e = hmap_get(&t->ents, path);
	size_t plen = strlen(path);
	struct node *n = NULL;
	char kpath[NODE_PATH_SIZE];

	if (e == NULL || !e->exists)
		return -ENOENT;
	*gen = 0;
	if (!e->fresh)
		n = tree_lookup(t->c->s, path);
	if (n) {
		if (!(e->flags & TE_CGEN)) {
			e->flags |= TE_CGEN;
			e->cgen_seen = gen48_get(n->cgen);
		}
		*gen = e->cgen_seen;
		memcpy(kpath, path, plen);
		for (struct node *kn = node_kid_first(n); kn;
		     kn = node_kid_next(n, kn)) {
			struct tent *k;

			node_path_child(kpath, plen, kn);
			k = hmap_get(&t->ents, kpath);
			if (k == NULL || k->exists)
				buf_add(out, kn->name, kn->namelen + 1u);
		}
	}
	for (uint32_t i = 0; i < t->nall; i++) {
		struct tent *k = t->all[i];
		struct node *kn;

		if (!k->exists || !k->fresh || !path_is_child(k->path, path, plen))
			continue;
		kn = n ? tree_lookup(t->c->s, k->path) : NULL;
		if (kn && kn->parent == n)
			continue;
		buf_add_str0(out, strrchr(k->path, '/') + 1);
	}
	return 0;
}

int32_t
txn_node_delta(const struct txn *t)
{
	return t->node_delta;
}

struct txn *
txn_find(struct store_conn *c, uint32_t id)
{
	for (struct txn *t = c->txns; t; t = t->next)
		if (t->id == id)
			return t;
	return NULL;
}

static void
txn_free(struct txn *t)
{
	struct store_conn *c = t->c;
	struct dom *d = dom_get(c->s, c->caller.domid, true);

	for (uint32_t i = 0; i < t->nall; i++) {
		free(t->all[i]->path);
		free(t->all[i]->value);
		free(t->all[i]->perms);
		free(t->all[i]);
	}
	for (uint32_t i = 0; i < t->nops; i++)
		tree_op_release(&t->ops[i]);
	free(t->all);
	free(t->ops);
	hmap_free(&t->ents);
	d->use.transactions--;
	c->ntxns--;
	c->s->ntxns--;
	free(t);
}

static void
txn_unlink(struct txn *t)
{
	struct txn **pp;

	for (pp = &t->c->txns; *pp; pp = &(*pp)->next)
		if (*pp == t) {
			*pp = t->next;
			return;
		}
}

void
txn_drop_all(struct store_conn *c)
{
	while (c->txns) {
		struct txn *t = c->txns;

		c->txns = t->next;
		txn_free(t);
	}
}

static struct txn *
txn_new(struct store_conn *c, uint32_t id)
{
	struct dom *d = dom_get(c->s, c->caller.domid, true);
	struct txn *t = xcalloc(1, sizeof(*t));

	t->id = id;
	t->c = c;
	hmap_init(&t->ents);
	t->next = c->txns;
	c->txns = t;
	c->ntxns++;
	c->s->ntxns++;
	d->use.transactions++;
	return t;
}

int
store_txn_start(struct store_conn *c, uint32_t *id)
{
	struct store *s = c->s;
	struct dom *d = dom_get(s, c->caller.domid, true);

	if (quota_over(s, &c->caller, STORE_QUOTA_TRANSACTIONS,
		       (uint64_t)d->use.transactions + 1))
		return -ENOSPC;
	do {
		c->next_txid++;
	} while (c->next_txid == 0 || txn_find(c, c->next_txid));
	*id = txn_new(c, c->next_txid)->id;
	return 0;
}

/* ---- export and import (live update) --------------------------------- */

static uint32_t
tent_deps(const struct tent *e)
{
	return ((e->flags & TE_GEN) ? STORE_TXN_DEP_GEN : 0u) |
	       ((e->flags & TE_CGEN) ? STORE_TXN_DEP_CGEN : 0u) |
	       ((e->flags & TE_PGEN) ? STORE_TXN_DEP_PGEN : 0u);
}

void
store_conn_foreach_txn(const struct store_conn *c,
		       void (*fn)(void *arg, const struct store_txn_state *t),
		       void *arg)
{
	for (const struct txn *t = c->txns; t; t = t->next) {
		struct store_txn_state st = {
			.id = t->id,
			.doomed = t->doomed || txn_check_deps(t) < 0,
			.failed = t->failed,
			.node_delta = t->node_delta,
			.nents = t->nall,
			.ops = t->ops,
			.nops = t->nops,
		};

		st.ents = xcalloc(t->nall ? t->nall : 1, sizeof(*st.ents));
		for (uint32_t i = 0; i < t->nall; i++) {
			const struct tent *e = t->all[i];

			st.ents[i] = (struct store_txn_ent){
				.path = e->path, .deps = tent_deps(e),
				.seen = e->seen, .exists = e->exists,
				.fresh = e->fresh, .value = e->value,
				.len = e->len, .perms = e->perms,
				.nperms = e->nperms,
			};
		}
		fn(arg, &st);
		free(st.ents);
	}
}

int
store_txn_import(struct store_conn *c, const struct store_txn_state *st)
{
	struct txn *t;

	if (st->id == 0 || txn_find(c, st->id))
		return -EEXIST;
	for (uint32_t i = 0; i < st->nents; i++)
		if (st->ents[i].path[0] != '/' && st->ents[i].path[0] != '@')
			return -EINVAL;
	t = txn_new(c, st->id);
	t->doomed = st->doomed;
	t->failed = st->failed;
	t->node_delta = st->node_delta;
	for (uint32_t i = 0; i < st->nents; i++) {
		const struct store_txn_ent *se = &st->ents[i];
		struct tent *e = tent_add(t, se->path);
		const struct node *n = tree_lookup(c->s, se->path);

		e->flags = ((se->deps & STORE_TXN_DEP_GEN) ? TE_GEN : 0u) |
			   ((se->deps & STORE_TXN_DEP_CGEN) ? TE_CGEN : 0u) |
			   ((se->deps & STORE_TXN_DEP_PGEN) ? TE_PGEN : 0u);
		e->seen = se->seen;
		e->fresh = se->fresh;
		if (se->seen) {
			e->gen_seen = n ? gen48_get(n->gen) : 0;
			e->pgen_seen = n ? gen48_get(n->pgen) : 0;
			e->cgen_seen = n ? gen48_get(n->cgen) : 0;
		}
		tent_set(e, se->exists, se->value, se->len, se->perms,
			 se->nperms);
		if (!se->exists || se->fresh)
			t->hides = true;
	}
	for (uint32_t i = 0; i < st->nops; i++)
		txn_log(t, &st->ops[i]);
	return 0;
}

uint32_t
store_conn_next_txid(const struct store_conn *c)
{
	return c->next_txid;
}

void
store_conn_set_next_txid(struct store_conn *c, uint32_t id)
{
	c->next_txid = id;
}

int
store_txn_changes(const struct store_conn *c, uint32_t id, uint32_t *nops)
{
	for (const struct txn *t = c->txns; t; t = t->next)
		if (t->id == id) {
			*nops = t->nops;
			return 0;
		}
	return -ENOENT;
}

/* -EAGAIN if a generation the transaction depends on has moved. */
static int
txn_check_deps(const struct txn *t)
{
	const struct store *s = t->c->s;

	for (uint32_t i = 0; i < t->nall; i++) {
		const struct tent *e = t->all[i];
		const struct node *n;

		if (!(e->flags & (TE_GEN | TE_PGEN | TE_CGEN)))
			continue;
		n = tree_lookup(s, e->path);
		if ((e->flags & TE_GEN) && (n ? gen48_get(n->gen) : 0) != e->gen_seen)
			return -EAGAIN;
		if ((e->flags & TE_PGEN) && (n ? gen48_get(n->pgen) : 0) != e->pgen_seen)
			return -EAGAIN;
		if ((e->flags & TE_CGEN) && (!n || gen48_get(n->cgen) != e->cgen_seen))
			return -EAGAIN;
	}
	return 0;
}

static int
txn_check(const struct txn *t)
{
	const struct store *s = t->c->s;

	if (txn_check_deps(t) < 0)
		return -EAGAIN;
	if (t->node_delta > 0) {
		struct store_usage u;

		store_usage(s, t->c->caller.domid, &u);
		if (quota_over(s, &t->c->caller, STORE_QUOTA_NODES,
			       (uint64_t)u.nodes + (uint64_t)t->node_delta))
			return -ENOSPC;
	}
	return 0;
}

int
store_txn_end(struct store_conn *c, uint32_t id, bool commit)
{
	struct store *s = c->s;
	struct txn *t = txn_find(c, id);
	int rc = 0;

	if (t == NULL)
		return -ENOENT;
	txn_unlink(t);
	if (commit)
		rc = t->failed ? t->failed : t->doomed ? -EAGAIN : txn_check(t);
	if (commit && rc == 0) {
		for (uint32_t i = 0; i < t->nops && rc == 0; i++) {
			const struct store_op *op = &t->ops[i];

			if (op->kind == STORE_OP_PUT)
				rc = tree_put(s, op->path, op->value, op->len,
					      op->perms, op->nperms, op->quiet);
			else
				rc = tree_del(s, op->path, false);
		}
		/* The checks above make a failure here a broken invariant;
		 * whatever was applied is still reported. */
		store_emit(s, c->caller.domid);
		if (rc < 0)
			rc = -EIO;
	}
	txn_free(t);
	return rc;
}
