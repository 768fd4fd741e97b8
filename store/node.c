/*
 * One node in one allocation. Memory per node is what issue 8 measures, so
 * the layout is compact (docs/BENCHMARKS.md, "Memory"):
 *
 *   struct node (60 bytes) | name, NUL | pad to 4 | data region
 *
 * The node keeps its last path component only; full paths are rebuilt
 * from the parents (node_path) and the path index compares them
 * component by component from the end (node_matches). The data region is
 * the permissions (8 bytes each, owner first) followed by the value:
 *
 *   inline:   perms[nperms] | value[len]        (fits the allocation)
 *   NODE_EXT: pointer to one malloc'd block holding the same layout
 *
 * The region is at least 8 bytes, so the pointer always fits, and its
 * capacity is what the slab gave (slab_cap): a rewrite of the same size or
 * smaller stays in place and costs no allocation. A node never
 * moves, so the pointers to it (parent, siblings, index) stay valid.
 *
 * Generations are 48 bits wide (three 16-bit words each, to avoid
 * padding): at a million changes a second they wrap after 8.9 years, and
 * they are only ever compared for equality (txn.c, DIRECTORY_PART).
 */
#include <malloc.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "store/store-int.h"

#define NODE_EXT	1u	/* the region holds a pointer to the data */

/* Where the data region starts in a node whose name has namelen bytes. */
static size_t
node_region_off_for(size_t namelen)
{
	return (offsetof(struct node, name) + namelen + 1 + 3) & ~(size_t)3;
}

static size_t
node_region_off(const struct node *n)
{
	return node_region_off_for(n->namelen);
}

static char *
node_region(const struct node *n)
{
	return (char *)n + node_region_off(n);
}

/* Where the perms and value live now. */
static char *
node_data(const struct node *n)
{
	char *ext;

	if (!(n->flags & NODE_EXT))
		return node_region(n);
	memcpy(&ext, node_region(n), sizeof(ext));
	return ext;
}

const struct store_perm *
node_perms(const struct node *n)
{
	return (const struct store_perm *)(void *)node_data(n);
}

const char *
node_value(const struct node *n)
{
	return node_data(n) + n->nperms * sizeof(struct store_perm);
}

uint64_t
gen48_get(const uint16_t g[3])
{
	return (uint64_t)g[0] | (uint64_t)g[1] << 16 | (uint64_t)g[2] << 32;
}

void
gen48_set(uint16_t g[3], uint64_t v)
{
	g[0] = (uint16_t)v;
	g[1] = (uint16_t)(v >> 16);
	g[2] = (uint16_t)(v >> 32);
}

struct node *
node_new(struct slab *sl, const char *name, size_t namelen,
	 const struct store_perm *perms, uint32_t nperms, const void *value,
	 uint32_t len)
{
	size_t off = node_region_off_for(namelen);
	size_t need = nperms * sizeof(*perms) + len;
	uint8_t cls;
	struct node *n = slab_alloc(sl, off + (need < sizeof(char *) ?
					       sizeof(char *) : need), &cls);

	memset(n, 0, offsetof(struct node, name));
	n->sclass = cls;
	n->namelen = (uint16_t)namelen;
	memcpy(n->name, name, namelen);
	n->name[namelen] = '\0';
	n->nperms = (uint16_t)nperms;
	n->len = len;
	memcpy(node_region(n), perms, nperms * sizeof(*perms));
	if (len)
		memcpy(node_region(n) + nperms * sizeof(*perms), value, len);
	return n;
}

void
node_free(struct slab *sl, struct node *n)
{
	if (n == NULL)
		return;
	if (n->flags & NODE_EXT)
		free(node_data(n));
	slab_free(sl, n, n->sclass);
}

/*
 * value and perms may each be the node's own, where they are now (a write
 * keeps the perms, a perms change keeps the value, store_domain_gone
 * both). The value goes first, with memmove: in place it may slide over
 * the old perms, which are then no longer a source. The perms then go to
 * the front: they are either already there (same count, own) or come
 * from elsewhere.
 */
void
node_set_data(struct node *n, const struct store_perm *perms, uint32_t nperms,
	      const void *value, uint32_t len)
{
	char *cur = node_data(n), *dst;
	size_t plen = nperms * sizeof(*perms), need = plen + len;
	size_t cap = slab_cap(n, n->sclass) - node_region_off(n);
	bool ext = n->flags & NODE_EXT;

	if (need <= cap)
		dst = node_region(n);
	else if (ext && need <= malloc_usable_size(cur) &&
		 malloc_usable_size(cur) <= 2 * need + 64)
		dst = cur;
	else
		dst = xmalloc(need);
	if (len)
		memmove(dst + plen, value, len);
	if ((const void *)perms != dst)
		memmove(dst, perms, plen);
	if (dst != node_region(n)) {
		memcpy(node_region(n), &dst, sizeof(dst));
		n->flags |= NODE_EXT;
	} else {
		n->flags &= (uint8_t)~NODE_EXT;
	}
	n->nperms = (uint16_t)nperms;
	n->len = len;
	if (ext && dst != cur)
		free(cur);
}

struct node *
node_kid_first(const struct node *p)
{
	return p->kids ? p->kids->sib : NULL;
}

struct node *
node_kid_next(const struct node *p, const struct node *k)
{
	return k == p->kids ? NULL : k->sib;
}

void
node_kid_append(struct node *p, struct node *k)
{
	k->parent = p;
	if (p->kids) {
		k->sib = p->kids->sib;
		p->kids->sib = k;
	} else {
		k->sib = k;
	}
	p->kids = k;
}

void
node_kid_remove(struct node *p, struct node *k)
{
	struct node *prev = p->kids;

	while (prev->sib != k)
		prev = prev->sib;
	if (prev == k)
		p->kids = NULL;
	else if (p->kids == k)
		p->kids = prev;
	prev->sib = k->sib;
	k->sib = NULL;
}

size_t
node_path(const struct node *n, char *buf)
{
	size_t len = 0, pos;

	if (n->parent == NULL && n->namelen == 0) {
		memcpy(buf, "/", 2);
		return 1;
	}
	if (n->parent == NULL) {
		memcpy(buf, n->name, n->namelen + 1u);
		return n->namelen;
	}
	for (const struct node *a = n; a->parent; a = a->parent)
		len += 1u + a->namelen;
	buf[len] = '\0';
	pos = len;
	for (const struct node *a = n; a->parent; a = a->parent) {
		pos -= a->namelen;
		memcpy(buf + pos, a->name, a->namelen);
		buf[--pos] = '/';
	}
	return len;
}

size_t
node_path_child(char *path, size_t len, const struct node *k)
{
	if (len == 1)
		len = 0;
	path[len] = '/';
	memcpy(path + len + 1, k->name, k->namelen + 1u);
	return len + 1 + k->namelen;
}

bool
node_matches(const struct node *n, const char *path, size_t len)
{
	for (; n->parent; n = n->parent) {
		if (len < n->namelen + 1u ||
		    memcmp(path + len - n->namelen, n->name, n->namelen) != 0 ||
		    path[len - n->namelen - 1] != '/')
			return false;
		len -= n->namelen + 1u;
	}
	/* The top is "/" (named ""): nothing may be left of the path. */
	return n->namelen == 0 && len == 0;
}
