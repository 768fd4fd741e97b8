/*
 * The path index: every node below "/" by its full path, which the node
 * does not store. A bucket is a chain through the nodes' hnext, walked
 * comparing paths component by component from the end (node_matches): a
 * wrong node nearly always differs in its last component, the first
 * compared. Nodes keep no hash (4 bytes each): growing rebuilds each path
 * to rehash it, and removal is handed the hash. The table doubles when it
 * holds more nodes than buckets: 8 to 16 bytes per node, plus hnext.
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

static void
nindex_grow(struct nindex *x)
{
	uint32_t cap = x->buckets ? (x->mask + 1) * 2 : 64;
	struct node **b = xcalloc(cap, sizeof(*b));
	char path[NODE_PATH_SIZE];

	for (uint32_t i = 0; x->buckets && i <= x->mask; i++) {
		struct node *n = x->buckets[i], *next;

		for (; n; n = next) {
			uint32_t h = nindex_hash(path, node_path(n, path));

			next = n->hnext;
			n->hnext = b[h & (cap - 1)];
			b[h & (cap - 1)] = n;
		}
	}
	free(x->buckets);
	x->buckets = b;
	x->mask = cap - 1;
}

void
nindex_add(struct nindex *x, struct node *n, uint32_t hash)
{
	if (x->buckets == NULL || x->n + 1 > x->mask + 1)
		nindex_grow(x);
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
