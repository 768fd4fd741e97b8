/*
 * Decoding hooks: inspect reads records through the daemon's own decoders.
 * A snapshot's nodes are streamed with snap_scan (after every check
 * snap_load makes, without building a store); quota records are decoded
 * with wal_decode_quota.
 */
#include <errno.h>
#include <string.h>

#include "tools/inspect.h"

struct tap_snap {
	store_walk_fn fn;
	void *arg;
	uint64_t nodes;
	int stop;			/* fn's non-zero return */
};

static int
inspect_tap_node(void *arg, const char *path, const void *value,
		 uint32_t len, const struct store_perm *perms, uint32_t nperms)
{
	struct tap_snap *t = arg;

	t->stop = t->fn(t->arg, path, value, len, perms, nperms);
	if (t->stop != 0)
		return t->stop;
	t->nodes++;
	if (t->nodes % 1024 == 0)
		inspect_progress_add(1024);
	return 0;
}

int
inspect_tap_snapshot(const char *path, store_walk_fn fn, void *arg,
		     struct store *meta, struct wal_domtab *doms,
		     struct snap_info *info, uint64_t *nodes, int *stop,
		     char **why)
{
	struct tap_snap t = { .fn = fn, .arg = arg };
	int rc;

	rc = snap_scan(path, inspect_tap_node, &t, meta, doms, info, why);
	*nodes = t.nodes;
	*stop = t.stop;
	if (t.stop != 0)
		rc = 0;
	return rc;
}

int
inspect_tap_quota(const void *payload, uint32_t len, struct wal_quota *q,
		  void **storage)
{
	char *name = xmalloc(64);

	if (wal_decode_quota(payload, len, q, name, 64) < 0) {
		free(name);
		return -EINVAL;
	}
	*storage = name;
	return 0;
}

void
inspect_tap_quota_free(void *storage)
{
	free(storage);
}
