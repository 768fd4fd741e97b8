/*
 * The path index: every node below "/" by its full path, which the node
 * does not store. A bucket is a chain through the nodes' hnext; a node
 * keeps 32 bits of its path's hash, so a chain is walked comparing
 * hashes first and paths (component by component from the end,
 * node_matches) only on a hash match, and growing rehashes without
 * rebuilding any path. The table doubles when it holds more nodes than
 * buckets: 8 to 16 bytes per node, plus the node's hnext and hash.
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
	uint32_t h;

	if (x->buckets == NULL)
		return NULL;
	h = nindex_hash(path, len);
	for (struct node *n = x->buckets[h & x->mask]; n; n = n->hnext)
		if (n->hash == h && node_matches(n, path, len))
			return n;
	return NULL;
}

static void
nindex_grow(struct nindex *x)
{
	uint32_t cap = x->buckets ? (x->mask + 1) * 2 : 64;
	struct node **b = xcalloc(cap, sizeof(*b));

	for (uint32_t i = 0; x->buckets && i <= x->mask; i++) {
		struct node *n = x->buckets[i], *next;

		for (; n; n = next) {
			next = n->hnext;
			n->hnext = b[n->hash & (cap - 1)];
			b[n->hash & (cap - 1)] = n;
		}
	}
	free(x->buckets);
	x->buckets = b;
	x->mask = cap - 1;
}

void
nindex_add(struct nindex *x, struct node *n)
{
	if (x->buckets == NULL || x->n + 1 > x->mask + 1)
		nindex_grow(x);
	n->hnext = x->buckets[n->hash & x->mask];
	x->buckets[n->hash & x->mask] = n;
	x->n++;
}

void
nindex_del(struct nindex *x, struct node *n)
{
	struct node **pp = &x->buckets[n->hash & x->mask];

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
