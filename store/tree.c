/*
 * The tree proper: lookup, the two physical changes (put a node, delete a
 * subtree), accounting of nodes to their owners, and the pending mutation
 * record. Permission and quota checks happen before these are called.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store/store-int.h"

uint64_t
node_cost(size_t pathlen, uint32_t len, uint32_t nperms)
{
	return 64 + pathlen + len + 8ull * nperms;
}

/* Length of n's full path, without building it. */
static size_t
node_path_len(const struct node *n)
{
	size_t len = 0;

	if (n->parent == NULL)
		return n->namelen ? n->namelen : 1;
	for (; n->parent; n = n->parent)
		len += 1u + n->namelen;
	return len;
}

static uint64_t
node_cost_of(const struct node *n)
{
	return node_cost(node_path_len(n), n->len, n->nperms);
}

static uint32_t
node_owner(const struct node *n)
{
	return node_perms(n)[0].domid;
}

struct node *
tree_lookup(const struct store *s, const char *path)
{
	size_t len;

	if (path[0] != '/') {
		for (size_t i = 0; i < LXS_ARRAY_SIZE(s->specials); i++)
			if (s->specials[i] &&
			    strcmp(s->specials[i]->name, path) == 0)
				return s->specials[i];
		return NULL;
	}
	if (path[1] == '\0')
		return s->root;
	len = strlen(path);
	return nindex_get(&s->nodes, path, len);
}

struct node *
tree_node_new(struct store *s, const char *path, struct node *parent,
	      const struct store_perm *perms, uint32_t nperms,
	      const void *value, uint32_t len)
{
	size_t plen = strlen(path);
	const char *name = parent ? strrchr(path, '/') + 1 :
			   (strcmp(path, "/") == 0 ? path + 1 : path);
	struct node *n = node_new(&s->slab, name, plen - (size_t)(name - path),
				  perms,
				  nperms, value, len);

	gen48_set(n->gen, ++s->gen);
	memcpy(n->pgen, n->gen, sizeof(n->pgen));
	memcpy(n->cgen, n->gen, sizeof(n->cgen));
	if (parent) {
		nindex_reserve(&s->nodes, s->root);
		nindex_add(&s->nodes, n, nindex_hash(path, plen));
		node_kid_append(parent, n);
		kidcache_drop(s, parent);
		gen48_set(parent->cgen, ++s->gen);
	} else if (n->namelen == 0) {
		s->root = n;
	} else {
		s->specials[path[1] == 'i' ? 0 : 1] = n;
	}
	s->nnodes++;
	s->value_bytes += len;
	dom_charge(s, node_owner(n), 1, (int64_t)node_cost_of(n));
	return n;
}

/*
 * Frees n and everything below it; n's links are not touched. path holds
 * n's path (len bytes) in a NODE_PATH_SIZE buffer, for the index.
 * Tearing down the whole store, the index, the accounting and the cache
 * go with it, so the nodes need not be taken out of them.
 */
static void
node_free_subtree(struct store *s, struct node *n, char *path, size_t len)
{
	struct node *k = node_kid_first(n), *next;

	for (; k; k = next) {
		next = node_kid_next(n, k);
		node_free_subtree(s, k, path, node_path_child(path, len, k));
		path[len] = '\0';
	}
	if (!s->tearing_down) {
		dom_charge(s, node_owner(n), -1, -(int64_t)node_cost_of(n));
		s->nnodes--;
		s->value_bytes -= n->len;
		if (n->parent)
			nindex_del(&s->nodes, n, nindex_hash(path, len));
		kidcache_drop(s, n);
	}
	node_free(&s->slab, n);
}

void
tree_op_copy(struct store_op *dst, const struct store_op *src)
{
	dst->kind = src->kind;
	dst->path = xstrdup(src->path);
	dst->len = src->len;
	dst->value = src->kind == STORE_OP_PUT ? xmemdup(src->value, src->len)
					       : NULL;
	dst->nperms = src->kind == STORE_OP_PUT ? src->nperms : 0;
	dst->perms = src->kind == STORE_OP_PUT ?
			     perms_dup(src->perms, src->nperms) : NULL;
	dst->quiet = src->quiet;
}

void
tree_op_release(struct store_op *op)
{
	free((void *)op->path);
	free((void *)op->value);
	free((void *)op->perms);
	memset(op, 0, sizeof(*op));
}

/*
 * The pending record lives in one arena reused from request to request: a
 * change costs no allocation here. While ops are appended the arena may
 * move, so ops hold offsets; store_emit turns them into pointers.
 */
void
store_pend_op(struct store *s, const struct store_op *op)
{
	struct buf *a = &s->pend_arena;
	struct store_op *d;

	if (s->npend == s->cappend) {
		s->cappend = s->cappend ? s->cappend * 2 : 8;
		s->pend = xrealloc(s->pend, s->cappend * sizeof(*s->pend));
	}
	d = &s->pend[s->npend++];
	*d = *op;
	d->path = (const char *)(uintptr_t)a->len;
	buf_add_str0(a, op->path);
	if (op->kind != STORE_OP_PUT) {
		d->value = NULL;
		d->perms = NULL;
		d->len = d->nperms = 0;
		return;
	}
	d->value = (const void *)(uintptr_t)a->len;
	buf_add(a, op->value, op->len);
	/* Perms are read as structs: align them. */
	while (a->len % _Alignof(struct store_perm))
		buf_add(a, "", 1);
	d->perms = (const struct store_perm *)(uintptr_t)a->len;
	buf_add(a, op->perms, op->nperms * sizeof(*op->perms));
}

void
store_discard_pending(struct store *s)
{
	s->npend = 0;
	buf_reset(&s->pend_arena);
}

void
store_emit(struct store *s, uint32_t domid)
{
	uint32_t loud = 0;

	/* Only ops that fire events can repeat one (quiet parents do not). */
	for (uint32_t i = 0; i < s->npend && loud < 2; i++)
		loud += !s->pend[i].quiet;
	if (s->npend) {
		char *base = s->pend_arena.data;
		struct store_mutation m = {
			.domid = domid,
			.nops = s->npend,
			.ops = s->pend,
		};

		for (uint32_t i = 0; i < s->npend; i++) {
			struct store_op *op = &s->pend[i];

			op->path = base + (uintptr_t)op->path;
			if (op->kind != STORE_OP_PUT)
				continue;
			op->value = base + (uintptr_t)op->value;
			op->perms = (const struct store_perm *)
				(base + (uintptr_t)op->perms);
		}
		if (s->cb.mutation)
			s->cb.mutation(s->cb_ctx, &m);
		store_discard_pending(s);
	}
	evq_flush_events(s, loud > 1);
}

int
tree_put(struct store *s, const char *path, const void *value, uint32_t len,
	 const struct store_perm *perms, uint32_t nperms, bool quiet)
{
	struct node *n = tree_lookup(s, path);
	struct node *p = NULL;
	struct store_perm *old = NULL;
	uint32_t nold = 0;
	bool existed = n != NULL;

	if (nperms == 0 || nperms > UINT16_MAX)
		return -EINVAL;
	if (n == NULL) {
		char ppath[STORE_ABS_PATH_MAX + 1];
		size_t plen = path_parent_len(path);

		if (path[0] != '/' || strcmp(path, "/") == 0 ||
		    plen > STORE_ABS_PATH_MAX)
			return -EINVAL;
		memcpy(ppath, path, plen);
		ppath[plen] = '\0';
		p = tree_lookup(s, ppath);
		if (p == NULL)
			return -ENOENT;
	}
	/* Record before changing anything: value and perms may be n's own. */
	if (!s->replaying) {
		struct store_op op = {
			.kind = STORE_OP_PUT, .path = path, .value = value,
			.len = len, .perms = perms, .nperms = nperms,
			.quiet = quiet,
		};

		store_pend_op(s, &op);
	}
	if (n) {
		bool same = n->nperms == nperms &&
			    memcmp(node_perms(n), perms,
				   nperms * sizeof(*perms)) == 0;

		/* Watches compare the old perms with the new ones. */
		if (!same && !s->replaying && !quiet) {
			old = perms_dup(node_perms(n), n->nperms);
			nold = n->nperms;
		}
		dom_charge(s, node_owner(n), -1, -(int64_t)node_cost_of(n));
		s->value_bytes -= n->len;
		node_set_data(n, perms, nperms, value, len);
		s->value_bytes += len;
		gen48_set(n->gen, ++s->gen);
		if (!same)
			memcpy(n->pgen, n->gen, sizeof(n->pgen));
		dom_charge(s, node_owner(n), 1, (int64_t)node_cost_of(n));
	} else {
		n = tree_node_new(s, path, p, perms, nperms, value, len);
	}

	if (!s->replaying && !quiet) {
		struct perm_set ps = {
			.perms = node_perms(n), .nperms = n->nperms,
		};

		/* Unchanged perms were not copied: the old are the new. */
		if (existed) {
			ps.old = old ? old : ps.perms;
			ps.nold = old ? nold : ps.nperms;
		}
		if (n->parent) {
			ps.parent = node_perms(n->parent);
			ps.nparent = n->parent->nperms;
		}
		watch_fire_change(s, path, &ps);
	}
	free(old);
	return 0;
}

/* Events for everything below n; path is n's, in a NODE_PATH_SIZE buffer. */
static void
tree_fire_removed(struct store *s, struct node *n, char *path, size_t len)
{
	for (struct node *k = node_kid_first(n); k; k = node_kid_next(n, k)) {
		struct perm_set ps = {
			.perms = node_perms(k), .nperms = k->nperms,
			.parent = node_perms(n), .nparent = n->nperms,
		};
		size_t klen = node_path_child(path, len, k);

		tree_fire_removed(s, k, path, klen);
		path[klen] = '\0';
		watch_fire_removed(s, path, &ps);
	}
	path[len] = '\0';
}

int
tree_del(struct store *s, const char *path, bool quiet)
{
	struct node *n = tree_lookup(s, path);
	size_t plen = strlen(path);
	char buf[NODE_PATH_SIZE];
	struct node *p;

	if (n == NULL)
		return -ENOENT;
	p = n->parent;
	if (p == NULL)
		return -EINVAL;
	memcpy(buf, path, plen + 1);
	if (!s->replaying) {
		struct store_op op = { .kind = STORE_OP_DEL, .path = path };

		store_pend_op(s, &op);
		if (!quiet) {
			struct perm_set ps = {
				.perms = node_perms(n), .nperms = n->nperms,
				.parent = node_perms(p), .nparent = p->nperms,
			};

			tree_fire_removed(s, n, buf, plen);
			watch_fire_change(s, path, &ps);
		}
	}
	node_kid_remove(p, n);
	kidcache_drop(s, p);
	gen48_set(p->cgen, ++s->gen);
	node_free_subtree(s, n, buf, plen);
	return 0;
}

void
tree_free_all(struct store *s)
{
	char path[NODE_PATH_SIZE];

	for (size_t i = 0; i < LXS_ARRAY_SIZE(s->specials); i++) {
		if (s->specials[i])
			node_free_subtree(s, s->specials[i], path,
					  node_path(s->specials[i], path));
		s->specials[i] = NULL;
	}
	if (s->root)
		node_free_subtree(s, s->root, path, node_path(s->root, path));
	s->root = NULL;
}
