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

static uint64_t
node_cost_of(const struct node *n)
{
	return node_cost(strlen(n->path), n->len, n->nperms);
}

struct node *
tree_lookup(const struct store *s, const char *path)
{
	return hmap_get(&s->nodes, path);
}

const char *
node_kidnames(struct node *n, uint32_t *len)
{
	uint32_t total = 0, off = sizeof(total);

	if (n->kidnames == NULL) {
		for (uint32_t i = 0; i < n->nkids; i++)
			total += (uint32_t)strlen(n->kids[i]->name) + 1;
		n->kidnames = xmalloc(sizeof(total) + total);
		memcpy(n->kidnames, &total, sizeof(total));
		for (uint32_t i = 0; i < n->nkids; i++) {
			size_t l = strlen(n->kids[i]->name) + 1;

			memcpy(n->kidnames + off, n->kids[i]->name, l);
			off += (uint32_t)l;
		}
	}
	memcpy(len, n->kidnames, sizeof(*len));
	return n->kidnames + sizeof(*len);
}

static void
node_kidnames_drop(struct node *n)
{
	free(n->kidnames);
	n->kidnames = NULL;
}

static void
node_kid_add(struct node *p, struct node *kid)
{
	node_kidnames_drop(p);
	if (p->nkids == p->capkids) {
		p->capkids = p->capkids ? p->capkids * 2 : 4;
		p->kids = xrealloc(p->kids, p->capkids * sizeof(*p->kids));
	}
	p->kids[p->nkids++] = kid;
}

static void
node_kid_remove(struct node *p, struct node *kid)
{
	node_kidnames_drop(p);
	for (uint32_t i = 0; i < p->nkids; i++) {
		if (p->kids[i] != kid)
			continue;
		memmove(&p->kids[i], &p->kids[i + 1],
			(p->nkids - i - 1) * sizeof(*p->kids));
		p->nkids--;
		return;
	}
}

struct node *
tree_node_new(struct store *s, const char *path, struct node *parent,
	      const struct store_perm *perms, uint32_t nperms)
{
	size_t plen = strlen(path) + 1;
	struct node *n = xcalloc(1, sizeof(*n) + plen);
	const char *slash;

	memcpy(n->pathbuf, path, plen);
	n->path = n->pathbuf;
	slash = strrchr(n->path, '/');
	n->name = slash ? slash + 1 : n->path;
	n->parent = parent;
	n->perms = perms_dup(perms, nperms);
	n->nperms = nperms;
	n->value = NULL;
	n->gen = n->pgen = n->cgen = ++s->gen;
	hmap_put(&s->nodes, n->path, n);
	if (parent) {
		node_kid_add(parent, n);
		parent->cgen = ++s->gen;
	}
	s->nnodes++;
	dom_charge(s, perms[0].domid, 1, (int64_t)node_cost_of(n));
	return n;
}

static void
node_free_one(struct store *s, struct node *n)
{
	/* Tearing down the whole store: the index and the accounting go
	 * with it, so each node need not be taken out of them. */
	if (!s->tearing_down) {
		dom_charge(s, n->perms[0].domid, -1,
			   -(int64_t)node_cost_of(n));
		s->nnodes--;
		s->value_bytes -= n->len;
		hmap_del(&s->nodes, n->path);
	}
	free(n->kids);
	free(n->kidnames);
	free(n->value);
	free(n->perms);
	free(n);
}

static void
node_free_subtree(struct store *s, struct node *n)
{
	for (uint32_t i = 0; i < n->nkids; i++)
		node_free_subtree(s, n->kids[i]);
	n->nkids = 0;
	node_free_one(s, n);
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
	char *nvalue;

	if (nperms == 0)
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
	nvalue = len ? xmemdup(value, len) : NULL;
	if (n) {
		dom_charge(s, n->perms[0].domid, -1, -(int64_t)node_cost_of(n));
		old = n->perms;
		nold = n->nperms;
		n->perms = perms_dup(perms, nperms);
		n->nperms = nperms;
		n->gen = ++s->gen;
		if (nold != nperms ||
		    memcmp(old, perms, nperms * sizeof(*perms)) != 0)
			n->pgen = n->gen;
		dom_charge(s, n->perms[0].domid, 1, (int64_t)node_cost_of(n));
	} else {
		n = tree_node_new(s, path, p, perms, nperms);
	}
	/* The value is charged on its own so a replacement accounts right. */
	dom_charge(s, n->perms[0].domid, 0, -(int64_t)n->len);
	s->value_bytes -= n->len;
	free(n->value);
	n->value = nvalue;
	n->len = len;
	s->value_bytes += len;
	dom_charge(s, n->perms[0].domid, 0, (int64_t)len);

	if (!s->replaying && !quiet) {
		struct perm_set ps = {
			.perms = n->perms, .nperms = n->nperms,
			.old = old, .nold = nold,
		};

		if (n->parent) {
			ps.parent = n->parent->perms;
			ps.nparent = n->parent->nperms;
		}
		watch_fire_change(s, n->path, &ps);
	}
	free(old);
	return 0;
}

static void
tree_fire_removed(struct store *s, struct node *n)
{
	for (uint32_t i = 0; i < n->nkids; i++) {
		struct node *k = n->kids[i];
		struct perm_set ps = {
			.perms = k->perms, .nperms = k->nperms,
			.parent = n->perms, .nparent = n->nperms,
		};

		tree_fire_removed(s, k);
		watch_fire_removed(s, k->path, &ps);
	}
}

int
tree_del(struct store *s, const char *path, bool quiet)
{
	struct node *n = tree_lookup(s, path);
	struct node *p;

	if (n == NULL)
		return -ENOENT;
	p = n->parent;
	if (p == NULL)
		return -EINVAL;
	if (!s->replaying) {
		struct store_op op = { .kind = STORE_OP_DEL, .path = path };

		store_pend_op(s, &op);
		if (!quiet) {
			struct perm_set ps = {
				.perms = n->perms, .nperms = n->nperms,
				.parent = p->perms, .nparent = p->nperms,
			};

			tree_fire_removed(s, n);
			watch_fire_change(s, path, &ps);
		}
	}
	node_kid_remove(p, n);
	p->cgen = ++s->gen;
	node_free_subtree(s, n);
	return 0;
}

void
tree_free_all(struct store *s)
{
	struct node *specials[2] = {
		tree_lookup(s, "@introduceDomain"),
		tree_lookup(s, "@releaseDomain"),
	};

	for (size_t i = 0; i < LXS_ARRAY_SIZE(specials); i++)
		if (specials[i])
			node_free_subtree(s, specials[i]);
	if (s->root)
		node_free_subtree(s, s->root);
	s->root = NULL;
}
