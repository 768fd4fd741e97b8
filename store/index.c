/*
 * The path index: every node below "/" by its full path, which the node
 * does not store. A bucket is a chain through the nodes' hnext, walked
 * comparing paths component by component from the end (node_matches): a
 * wrong node nearly always differs in its last component, the first
 * compared. Nodes keep no hash (4 bytes each): growing walks the tree from
 * "/", building each path from its parent's, to rehash it, and removal is
 * handed the hash. The table doubles when it holds more nodes than
 * buckets: 8 to 16 bytes per node, plus hnext.
 */
#include <string.h>

#include "store/store-int.h"

uint32_t
nindex_hash(const char *path, size_t len)
{
	return (uint32_t)hmap_hash(path, len);
}

struct node *
nindex_get(const struct nindex *x, const char *path, size_t len)
{
	if (x->buckets == NULL)
		return NULL;
	for (struct node *n = x->buckets[nindex_hash(path, len) & x->mask]; n;
	     n = n->hnext)
		if (node_matches(n, path, len))
			return n;
	return NULL;
}

/* Chains the nodes below p into b; path holds p's path (len bytes). */
static void
nindex_rehash(struct node **b, uint32_t mask, const struct node *p,
	      char *path, size_t len)
{
	for (struct node *k = node_kid_first(p); k; k = node_kid_next(p, k)) {
		size_t klen = node_path_child(path, len, k);
		uint32_t h = nindex_hash(path, klen) & mask;

		k->hnext = b[h];
		b[h] = k;
		nindex_rehash(b, mask, k, path, klen);
		path[len] = '\0';
	}
}

void
nindex_reserve(struct nindex *x, const struct node *root)
{
	uint32_t cap;
	char path[NODE_PATH_SIZE];

	if (x->buckets && x->n + 1 <= x->mask + 1)
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
	x->buckets[hash & x->mask] = n;
	x->n++;
}

void
nindex_del(struct nindex *x, struct node *n, uint32_t hash)
{
	struct node **pp = &x->buckets[hash & x->mask];

	while (*pp != n)
		pp = &(*pp)->hnext;
	*pp = n->hnext;
	n->hnext = NULL;
	x->n--;
}

void
nindex_free(struct nindex *x)
{
	free(x->buckets);
	memset(x, 0, sizeof(*x));
}
