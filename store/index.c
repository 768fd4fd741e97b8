/*
 * The path index: every node below "/" by its full path, which the node
 * does not store. A bucket is a chain through the nodes' hnext, walked
 * comparing paths component by component from the end (node_matches).
 * Nodes keep no hash (4 bytes each): growing walks the tree from "/",
 * building each path from its parent's, to rehash it, and removal is
 * handed the hash. The table doubles when it holds more than two nodes
 * per bucket: 4 to 8 bytes per node, plus hnext.
 *
 * Each link (bucket head or hnext) is a node pointer with 3 bits of that
 * node's hash in its low bits, which are free (nodes are 8-aligned): a
 * lookup skips 7 in 8 of the wrong nodes in a chain without touching
 * them, so it usually reads the bucket and the node it wants, no more.
 */
#include <string.h>

#include "store/store-int.h"

uint32_t
nindex_hash(const char *path, size_t len)
{
	return (uint32_t)hmap_hash(path, len);
}

#define NINDEX_TAGS	((uintptr_t)7)
/* The tag bits are free: every node is 8-aligned (slab.c, or malloc). */
_Static_assert(SLAB_GRAIN % 8 == 0, "slab classes keep nodes 8-aligned");

static uintptr_t
nindex_link(struct node *n, uint32_t hash)
{
	return (uintptr_t)n | ((hash >> 29) & NINDEX_TAGS);
}

static struct node *
nindex_node(uintptr_t link)
{
	return (struct node *)(link & ~NINDEX_TAGS);
}

struct node *
nindex_get(const struct nindex *x, const char *path, size_t len)
{
	uint32_t h;

	if (x->buckets == NULL)
		return NULL;
	h = nindex_hash(path, len);
	for (uintptr_t l = x->buckets[h & x->mask]; l;
	     l = nindex_node(l)->hnext)
		if ((l & NINDEX_TAGS) == ((h >> 29) & NINDEX_TAGS) &&
		    node_matches(nindex_node(l), path, len))
			return nindex_node(l);
	return NULL;
}

/* Chains the nodes below p into b; path holds p's path (len bytes). */
static void
nindex_rehash(uintptr_t *b, uint32_t mask, const struct node *p, char *path,
	      size_t len)
{
	for (struct node *k = node_kid_first(p); k; k = node_kid_next(p, k)) {
		size_t klen = node_path_child(path, len, k);
		uint32_t h = nindex_hash(path, klen);

		k->hnext = b[h & mask];
		b[h & mask] = nindex_link(k, h);
		nindex_rehash(b, mask, k, path, klen);
		path[len] = '\0';
	}
}

void
nindex_reserve(struct nindex *x, const struct node *root)
{
	uint32_t cap;
	char path[NODE_PATH_SIZE];

	if (x->buckets && x->n + 1 <= 2ull * (x->mask + 1))
		return;
	cap = x->buckets ? (x->mask + 1) * 2 : 64;
	free(x->buckets);
	x->buckets = xcalloc(cap, sizeof(*x->buckets));
	x->mask = cap - 1;
	nindex_rehash(x->buckets, x->mask, root, path, node_path(root, path));
}

void
nindex_add(struct nindex *x, struct node *n, uint32_t hash)
{
	n->hnext = x->buckets[hash & x->mask];
	x->buckets[hash & x->mask] = nindex_link(n, hash);
	x->n++;
}

void
nindex_del(struct nindex *x, struct node *n, uint32_t hash)
{
	uintptr_t *pp = &x->buckets[hash & x->mask];

	while (nindex_node(*pp) != n)
		pp = &nindex_node(*pp)->hnext;
	*pp = n->hnext;
	n->hnext = 0;
	x->n--;
}

void
nindex_free(struct nindex *x)
{
	free(x->buckets);
	memset(x, 0, sizeof(*x));
}
