/*
 * String-keyed hash map with open addressing and linear probing; deletion
 * shifts the following cluster back, so there are no tombstones. The load
 * factor stays at or below 1/2.
 */
#include <string.h>
#include <sys/random.h>

#include "store/store-int.h"

/*
 * Keys are paths, often long and sharing prefixes: hash 8 bytes a step.
 * The seed is random per process so that a guest cannot precompute paths
 * that collide (linear probing would turn them into long scans).
 */
static uint64_t hmap_seed;

uint64_t
hmap_hash(const char *key, size_t n)
{
	uint64_t h, w = 0;

	if (hmap_seed == 0 &&
	    getrandom(&hmap_seed, sizeof(hmap_seed), GRND_NONBLOCK) !=
		    (ssize_t)sizeof(hmap_seed))
		hmap_seed = (uint64_t)(uintptr_t)&hmap_seed ^ 0x2545F4914F6CDD1Dull;
	h = hmap_seed ^ (n * 0x9E3779B97F4A7C15ull);
	for (; n >= 8; n -= 8, key += 8) {
		memcpy(&w, key, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	w = 0;
	memcpy(&w, key, n);
	h = (h ^ w) * 0xc4ceb9fe1a85ec53ull;
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
	return hmap_find(m, key, hmap_hash(key, strlen(key)))->val;
}

void
hmap_put(struct hmap *m, const char *key, void *val)
{
	uint64_t h = hmap_hash(key, strlen(key));
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
	sl = hmap_find(m, key, hmap_hash(key, strlen(key)));
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
