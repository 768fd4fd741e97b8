/*
 * Per-domain accounting and quotas. Names and defaults are cxenstored's. A
 * quota value N allows N (the N+1-th is refused); 0 means unlimited.
 * Privileged callers are never limited. A domain's own value (SET_QUOTA with
 * a domid) overrides the global one.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "store/store-int.h"

static const struct {
	const char *name;
	uint32_t def;
} quota_table[STORE_QUOTA_COUNT] = {
	[STORE_QUOTA_NODES] = { "nodes", 1000 },
	[STORE_QUOTA_WATCHES] = { "watches", 128 },
	[STORE_QUOTA_TRANSACTIONS] = { "transactions", 10 },
	[STORE_QUOTA_TXN_NODES] = { "transaction-nodes", 1024 },
	[STORE_QUOTA_NODE_SIZE] = { "node-size", 2048 },
	[STORE_QUOTA_NODE_PERMS] = { "node-permissions", 5 },
	[STORE_QUOTA_PATH_MAX] = { "path-max", 2048 },
	[STORE_QUOTA_OUTSTANDING] = { "outstanding", 20 },
	[STORE_QUOTA_MEMORY] = { "memory", 2621440 },
};

#define QUOTA_SOFT_MEMORY_DEFAULT 2097152u

const char *
store_quota_name(enum store_quota q)
{
	if ((unsigned int)q >= STORE_QUOTA_COUNT)
		return NULL;
	return quota_table[q].name;
}

int
store_quota_lookup(const char *name)
{
	for (int i = 0; i < STORE_QUOTA_COUNT; i++)
		if (strcmp(quota_table[i].name, name) == 0)
			return i;
	return -EINVAL;
}

void
quota_init(struct store *s)
{
	for (int i = 0; i < STORE_QUOTA_COUNT; i++)
		s->quota[i] = quota_table[i].def;
	s->soft_memory = QUOTA_SOFT_MEMORY_DEFAULT;
}

void
quota_free(struct store *s)
{
	for (uint32_t i = 0; i < s->ndoms; i++)
		free(s->doms[i]);
	free(s->doms);
	s->doms = NULL;
	s->ndoms = s->capdoms = 0;
}

static uint32_t
dom_index(const struct store *s, uint32_t domid, bool *found)
{
	uint32_t lo = 0, hi = s->ndoms;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (s->doms[mid]->domid < domid)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = lo < s->ndoms && s->doms[lo]->domid == domid;
	return lo;
}

const struct dom *
dom_find(const struct store *s, uint32_t domid)
{
	bool found;
	uint32_t i = dom_index(s, domid, &found);

	return found ? s->doms[i] : NULL;
}

struct dom *
dom_get(struct store *s, uint32_t domid, bool create)
{
	bool found;
	uint32_t i = dom_index(s, domid, &found);
	struct dom *d;

	if (found)
		return s->doms[i];
	if (!create)
		return NULL;
	if (s->ndoms == s->capdoms) {
		s->capdoms = s->capdoms ? s->capdoms * 2 : 8;
		s->doms = xrealloc(s->doms, s->capdoms * sizeof(*s->doms));
	}
	memmove(&s->doms[i + 1], &s->doms[i],
		(s->ndoms - i) * sizeof(*s->doms));
	d = xcalloc(1, sizeof(*d));
	d->domid = domid;
	s->doms[i] = d;
	s->ndoms++;
	return d;
}

uint32_t
quota_eff(const struct store *s, uint32_t domid, enum store_quota q)
{
	const struct dom *d = dom_find(s, domid);

	if (d && d->has_quota[q])
		return d->quota[q];
	return s->quota[q];
}

bool
quota_over(const struct store *s, const struct store_caller *who,
	   enum store_quota q, uint64_t value)
{
	uint32_t max;

	if (who->priv)
		return false;
	max = quota_eff(s, who->domid, q);
	if (max == 0 || value <= max)
		return false;
	quota_refuse(s, who->domid, q, value, max);
	return true;
}

void
quota_refuse(const struct store *s, uint32_t domid, enum store_quota q,
	     uint64_t value, uint32_t limit)
{
	if (s->cb.quota_refused && !s->replaying)
		s->cb.quota_refused(s->cb_ctx, domid, q, value, limit);
}

void
dom_charge(struct store *s, uint32_t domid, int nodes, int64_t bytes)
{
	struct dom *d = dom_get(s, domid, true);

	d->use.nodes = (uint32_t)((int64_t)d->use.nodes + nodes);
	d->use.memory = (uint64_t)((int64_t)d->use.memory + bytes);
}

int
store_quota_get(const struct store *s, uint32_t domid, enum store_quota q,
		bool soft, uint32_t *value)
{
	const struct dom *d = NULL;

	if ((unsigned int)q >= STORE_QUOTA_COUNT)
		return -EINVAL;
	if (soft && q != STORE_QUOTA_MEMORY)
		return -EINVAL;
	if (domid != STORE_DOMID_GLOBAL)
		d = dom_find(s, domid);
	if (soft)
		*value = d && d->has_soft_memory ? d->soft_memory :
						   s->soft_memory;
	else
		*value = d && d->has_quota[q] ? d->quota[q] : s->quota[q];
	return 0;
}

int
store_quota_get_own(const struct store *s, uint32_t domid, enum store_quota q,
		    bool soft, uint32_t *value)
{
	const struct dom *d;

	if ((unsigned int)q >= STORE_QUOTA_COUNT ||
	    (soft && q != STORE_QUOTA_MEMORY))
		return -EINVAL;
	if (domid == STORE_DOMID_GLOBAL) {
		*value = soft ? s->soft_memory : s->quota[q];
		return 0;
	}
	d = dom_find(s, domid);
	if (d == NULL || !(soft ? d->has_soft_memory : d->has_quota[q]))
		return -ENOENT;
	*value = soft ? d->soft_memory : d->quota[q];
	return 0;
}

int
store_quota_set(struct store *s, uint32_t domid, enum store_quota q,
		bool soft, uint32_t value)
{
	struct dom *d;

	if ((unsigned int)q >= STORE_QUOTA_COUNT || value == UINT32_MAX)
		return -EINVAL;
	if (soft && q != STORE_QUOTA_MEMORY)
		return -EINVAL;
	if (domid == STORE_DOMID_GLOBAL) {
		if (soft)
			s->soft_memory = value;
		else
			s->quota[q] = value;
		return 0;
	}
	d = dom_get(s, domid, true);
	if (soft) {
		d->soft_memory = value;
		d->has_soft_memory = true;
	} else {
		d->quota[q] = value;
		d->has_quota[q] = true;
	}
	return 0;
}

void
store_usage(const struct store *s, uint32_t domid, struct store_usage *out)
{
	const struct dom *d = dom_find(s, domid);

	if (d)
		*out = d->use;
	else
		memset(out, 0, sizeof(*out));
}

void
store_foreach_domain(const struct store *s,
		     void (*fn)(void *arg, uint32_t domid), void *arg)
{
	for (uint32_t i = 0; i < s->ndoms; i++)
		fn(arg, s->doms[i]->domid);
}
