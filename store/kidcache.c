/*
 * Listings of children, cached for the nodes listed lately. Slot i holds
 * the listing of one node whose pointer hashes to i; a listing of another
 * node that hashes there replaces it. Every change to a child list, and
 * freeing a node, drops that node's listing (tree.c), so a cached listing
 * is always current (store_check verifies it).
 *
 * Listing format: each child's name with its NUL, in child order.
 */
#include <stdlib.h>
#include <string.h>

#include "store/store-int.h"

static struct kidcache_slot *
kidcache_slot(const struct store *s, const struct node *n)
{
	uint64_t h = (uint64_t)(uintptr_t)n * 0x9E3779B97F4A7C15ull;

	return &s->kidcache[(h >> 40) & (KIDCACHE_SLOTS - 1)];
}

const char *
kidcache_get(struct store *s, const struct node *n, uint32_t *len)
{
	struct kidcache_slot *sl = kidcache_slot(s, n);
	uint32_t total = 0, off = 0;

	if (sl->node != n) {
		for (struct node *k = node_kid_first(n); k;
		     k = node_kid_next(n, k))
			total += k->namelen + 1u;
		free(sl->names);
		sl->names = xmalloc(total ? total : 1);
		for (struct node *k = node_kid_first(n); k;
		     k = node_kid_next(n, k)) {
			memcpy(sl->names + off, k->name, k->namelen + 1u);
			off += k->namelen + 1u;
		}
		sl->node = n;
		sl->len = total;
	}
	*len = sl->len;
	return sl->names;
}

const char *
kidcache_peek(const struct store *s, const struct node *n, uint32_t *len)
{
	const struct kidcache_slot *sl = kidcache_slot(s, n);

	if (sl->node != n)
		return NULL;
	*len = sl->len;
	return sl->names;
}

void
kidcache_drop(struct store *s, const struct node *n)
{
	struct kidcache_slot *sl = kidcache_slot(s, n);

	if (sl->node != n)
		return;
	free(sl->names);
	sl->names = NULL;
	sl->node = NULL;
	sl->len = 0;
}

void
kidcache_free(struct store *s)
{
	for (uint32_t i = 0; s->kidcache && i < KIDCACHE_SLOTS; i++)
		free(s->kidcache[i].names);
	free(s->kidcache);
	s->kidcache = NULL;
}
