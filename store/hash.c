/*
 * String-keyed hash map with open addressing and linear probing; deletion
 * shifts the following cluster back, so there are no tombstones. The load
 * factor stays at or below 1/2.
 */
#include <string.h>

#include "store/store-int.h"

static uint64_t
hmap_hash(const char *key)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (; *key; key++) {
		h ^= (unsigned char)*key;
		h *= 0x100000001b3ull;
	}
	return h ^ (h >> 29);
}

void
hmap_init(struct hmap *m)
{
	m->slots = NULL;
	m->cap = 0;
	m->n = 0;
}

void
hmap_free(struct hmap *m)
{
	free(m->slots);
	hmap_init(m);
}

static struct hmap_slot *
hmap_find(const struct hmap *m, const char *key, uint64_t h)
{
	size_t mask = m->cap - 1;

	for (size_t i = h & mask;; i = (i + 1) & mask) {
		struct hmap_slot *sl = &m->slots[i];

		if (sl->key == NULL)
			return sl;
		if (sl->hash == h && strcmp(sl->key, key) == 0)
			return sl;
	}
}

static void
hmap_grow(struct hmap *m)
{
	struct hmap old = *m;

	m->cap = old.cap ? old.cap * 2 : 16;
	m->slots = xcalloc(m->cap, sizeof(*m->slots));
	for (size_t i = 0; i < old.cap; i++)
		if (old.slots[i].key)
			*hmap_find(m, old.slots[i].key, old.slots[i].hash) =
				old.slots[i];
	free(old.slots);
}

void *
hmap_get(const struct hmap *m, const char *key)
{
	if (m->n == 0)
		return NULL;
	return hmap_find(m, key, hmap_hash(key))->val;
}

void
hmap_put(struct hmap *m, const char *key, void *val)
{
	uint64_t h = hmap_hash(key);
	struct hmap_slot *sl;

	if ((m->n + 1) * 2 > m->cap)
		hmap_grow(m);
	sl = hmap_find(m, key, h);
	if (sl->key == NULL)
		m->n++;
	sl->key = key;
	sl->val = val;
	sl->hash = h;
}

void *
hmap_del(struct hmap *m, const char *key)
{
	size_t mask, i, j;
	struct hmap_slot *sl;
	void *val;

	if (m->n == 0)
		return NULL;
	sl = hmap_find(m, key, hmap_hash(key));
	if (sl->key == NULL)
		return NULL;
	val = sl->val;
	mask = m->cap - 1;
	i = (size_t)(sl - m->slots);
	/* Backward-shift: move later cluster members into the hole when their
	 * home slot does not lie cyclically in (i, j]. */
	for (j = (i + 1) & mask; m->slots[j].key; j = (j + 1) & mask) {
		size_t home = m->slots[j].hash & mask;

		if (i <= j ? (home <= i || home > j) : (home <= i && home > j)) {
			m->slots[i] = m->slots[j];
			i = j;
		}
	}
	m->slots[i].key = NULL;
	m->slots[i].val = NULL;
	m->n--;
	return val;
}
