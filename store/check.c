/*
 * store_check: verifies the invariants the rest of store/ relies on. Run by
 * CONTROL check and by the tests after every scenario.
 *   - every node reachable from "/" is in the index under its own path,
 *     its path is its parent's path plus its name, its parent links to it;
 *   - the index holds exactly the reachable nodes plus the two specials;
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

/* A built listing (node_kidnames) is the children's names, in order. */
static void
check_kidnames(struct check *ck, const struct node *n)
{
	uint32_t len, off = 0;
	const char *names = n->kidnames + sizeof(len);

	memcpy(&len, n->kidnames, sizeof(len));
	for (uint32_t i = 0; i < n->nkids; i++) {
		size_t l = strlen(n->kids[i]->name) + 1;

		if (off + l > len || memcmp(names + off, n->kids[i]->name, l)) {
			check_fail(ck, "stale list of children's names", n->path);
			return;
		}
		off += (uint32_t)l;
	}
	if (off != len)
		check_fail(ck, "stale list of children's names", n->path);
}

static void
check_node(struct check *ck, const struct node *n)
{
	ck->seen++;
	if (tree_lookup(ck->s, n->path) != n)
		check_fail(ck, "not indexed", n->path);
	if (n->nperms == 0) {
		check_fail(ck, "no permissions", n->path);
		return;
	}
	check_count_owner(ck, n->perms[0].domid);
	if (n->kidnames)
		check_kidnames(ck, n);
	for (uint32_t i = 0; i < n->nkids; i++) {
		const struct node *k = n->kids[i];
		size_t plen = strlen(n->path);
		bool root = plen == 1;

		if (k->parent != n)
			check_fail(ck, "wrong parent link", k->path);
		if ((root ? strncmp(k->path, "/", 1) :
			    strncmp(k->path, n->path, plen)) != 0 ||
		    k->path[root ? 0 : plen] != '/' ||
		    strcmp(k->path + (root ? 1 : plen + 1), k->name) != 0)
			check_fail(ck, "path does not match parent", k->path);
		check_node(ck, k);
	}
}

unsigned int
store_check(const struct store *s, struct buf *report)
{
	struct check ck = { .s = s, .report = report };
	const char *specials[] = { "@introduceDomain", "@releaseDomain" };

	check_node(&ck, s->root);
	for (size_t i = 0; i < LXS_ARRAY_SIZE(specials); i++) {
		const struct node *n = tree_lookup(s, specials[i]);

		if (n == NULL)
			check_fail(&ck, "missing special node", specials[i]);
		else
			check_node(&ck, n);
	}
	if (ck.seen != s->nodes.n || ck.seen != s->nnodes) {
		ck.problems++;
		buf_printf(report,
			   "node count: %" PRIu64 " reachable, %zu indexed, "
			   "%" PRIu64 " counted\n",
			   ck.seen, s->nodes.n, s->nnodes);
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
