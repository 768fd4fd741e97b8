/*
 * store_check: verifies the invariants the rest of store/ relies on. Run by
 * CONTROL check and by the tests after every scenario.
 *   - every node reachable from "/" is found by its path, which its
 *     parents rebuild, under the hash the index keeps; its name is one
 *     component; its parent links to it; a cached listing of its
 *     children is current;
 *   - the index holds exactly the reachable nodes but "/", plus the
 *     three unindexed nodes makes the node count;
 *   - per-domain node counts match the owners in the tree;
 *   - every node has at least one permission entry.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "store/store-int.h"

struct check {
	const struct store *s;
	struct buf *report;
	unsigned int problems;
	uint64_t seen;
	uint32_t *domids;
	uint32_t *counts;
	uint32_t ndom;
};

static void
check_fail(struct check *ck, const char *what, const char *path)
{
	ck->problems++;
	buf_printf(ck->report, "%s: %s\n", what, path);
}

static void
check_count_owner(struct check *ck, uint32_t domid)
{
	for (uint32_t i = 0; i < ck->ndom; i++)
		if (ck->domids[i] == domid) {
			ck->counts[i]++;
			return;
		}
	ck->domids = xrealloc(ck->domids, (ck->ndom + 1) * sizeof(uint32_t));
	ck->counts = xrealloc(ck->counts, (ck->ndom + 1) * sizeof(uint32_t));
	ck->domids[ck->ndom] = domid;
	ck->counts[ck->ndom++] = 1;
}

/* A cached listing (kidcache.c) is the children's names, in order. */
static void
check_kidnames(struct check *ck, const struct node *n, const char *path)
{
	uint32_t len, off = 0;
	const char *names = kidcache_peek(ck->s, n, &len);

	if (names == NULL)
		return;
	for (struct node *k = node_kid_first(n); k; k = node_kid_next(n, k)) {
		if (off + k->namelen + 1u > len ||
		    memcmp(names + off, k->name, k->namelen + 1u) != 0) {
			check_fail(ck, "stale list of children's names", path);
			return;
		}
		off += k->namelen + 1u;
	}
	if (off != len)
		check_fail(ck, "stale list of children's names", path);
}

/* path holds n's path (len bytes) in a NODE_PATH_SIZE buffer. */
static void
check_node(struct check *ck, const struct node *n, char *path, size_t len)
{
	uint32_t nkids = 0;

	ck->seen++;
	if (tree_lookup(ck->s, path) != n)
		check_fail(ck, "not indexed", path);
	if (n->parent && !node_matches(n, path, len))
		check_fail(ck, "path does not match parent", path);
	if (n->parent && (strlen(n->name) != n->namelen || n->namelen == 0 ||
			  strchr(n->name, '/') != NULL))
		check_fail(ck, "bad name", path);
	if (n->nperms == 0) {
		check_fail(ck, "no permissions", path);
		return;
	}
	check_count_owner(ck, node_perms(n)[0].domid);
	check_kidnames(ck, n, path);
	for (struct node *k = node_kid_first(n); k; k = node_kid_next(n, k)) {
		if (++nkids > ck->s->nnodes) {
			check_fail(ck, "child list does not end", path);
			break;
		}
		if (k->parent != n)
			check_fail(ck, "wrong parent link", k->name);
		if (len + 1u + k->namelen > STORE_ABS_PATH_MAX) {
			check_fail(ck, "path too long", path);
			continue;
		}
		check_node(ck, k, path, node_path_child(path, len, k));
		path[len] = '\0';
	}
}

unsigned int
store_check(const struct store *s, struct buf *report)
{
	struct check ck = { .s = s, .report = report };
	const char *specials[] = { "@introduceDomain", "@releaseDomain" };
	char path[NODE_PATH_SIZE];

	check_node(&ck, s->root, path, node_path(s->root, path));
	for (size_t i = 0; i < LXS_ARRAY_SIZE(specials); i++) {
		const struct node *n = s->specials[i];

		if (n == NULL || strcmp(n->name, specials[i]) != 0)
			check_fail(&ck, "missing special node", specials[i]);
		else
			check_node(&ck, n, path, node_path(n, path));
	}
	/* The index holds all but "/" and the two special nodes. */
	if (ck.seen != s->nodes.n + 3u || ck.seen != s->nnodes) {
		ck.problems++;
		buf_printf(report,
			   "node count: %" PRIu64 " reachable, %" PRIu32
			   " indexed, %" PRIu64 " counted\n",
			   ck.seen, s->nodes.n + 3u, s->nnodes);
	}
	for (uint32_t i = 0; i < s->ndoms; i++) {
		uint32_t want = 0;

		for (uint32_t j = 0; j < ck.ndom; j++)
			if (ck.domids[j] == s->doms[i]->domid)
				want = ck.counts[j];
		if (s->doms[i]->use.nodes != want) {
			ck.problems++;
			buf_printf(report,
				   "domain %u: %u nodes counted, %u owned\n",
				   s->doms[i]->domid, s->doms[i]->use.nodes,
				   want);
		}
	}
	free(ck.domids);
	free(ck.counts);
	return ck.problems;
}
