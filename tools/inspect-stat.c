/*
 * stat: what a state holds and which files it comes from.
 *
 * Everything about the nodes is gathered in one pass over the walk, with
 * memory bounded by the depth of the tree and the number of domains, so a
 * state streamed from a large snapshot is never built: per-domain counts
 * (by owner, perms[0]), the deepest node, and the ten largest values and
 * directories. Directory sizes come from the pre-order: the directories
 * still open are the ancestors of the last node, kept on a stack as
 * prefix lengths of its path; a directory is complete, and ranked, when
 * the walk leaves it.
 *
 * Watches, connections and transactions live only in a running daemon's
 * memory; the files do not record them.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "tools/inspect.h"

#define INSPECT_TOP	10

struct stat_rank {
	uint64_t size;
	char *path;
};

struct stat_dom {
	uint32_t domid;
	uint64_t nodes;
	uint64_t bytes;
};

struct stat_open_dir {
	size_t len;			/* its path: a prefix of ctx->prev */
	uint32_t depth;
	uint64_t kids;
};

struct stat_ctx {
	uint64_t nodes;
	uint64_t specials;
	uint64_t bytes;
	uint32_t max_depth;
	char *deepest;
	struct stat_dom *doms;		/* by domid */
	uint32_t ndoms;
	uint32_t capdoms;
	struct stat_rank big[INSPECT_TOP];
	uint32_t nbig;
	struct stat_rank dirs[INSPECT_TOP];
	uint32_t ndirs;
	struct stat_open_dir *stack;
	uint32_t nstack;
	uint32_t capstack;
	struct buf prev;		/* the last tree node's path, NUL-ended */
};

/* Keeps the INSPECT_TOP largest; the first seen wins a tie. */
static void
inspect_stat_rank(struct stat_rank *top, uint32_t *n, uint64_t size,
		  const char *path, size_t len)
{
	uint32_t i;

	if (*n == INSPECT_TOP && size <= top[INSPECT_TOP - 1].size)
		return;
	if (*n == INSPECT_TOP)
		free(top[--*n].path);
	for (i = *n; i > 0 && top[i - 1].size < size; i--)
		top[i] = top[i - 1];
	top[i].size = size;
	top[i].path = xstrndup(path, len);
	(*n)++;
}

static struct stat_dom *
inspect_stat_dom(struct stat_ctx *c, uint32_t domid)
{
	uint32_t lo = 0, hi = c->ndoms;

	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (c->doms[mid].domid < domid)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < c->ndoms && c->doms[lo].domid == domid)
		return &c->doms[lo];
	if (c->ndoms == c->capdoms) {
		c->capdoms = c->capdoms ? c->capdoms * 2 : 16;
		c->doms = xrealloc(c->doms, c->capdoms * sizeof(*c->doms));
	}
	memmove(&c->doms[lo + 1], &c->doms[lo],
		(c->ndoms - lo) * sizeof(*c->doms));
	memset(&c->doms[lo], 0, sizeof(*c->doms));
	c->doms[lo].domid = domid;
	c->ndoms++;
	return &c->doms[lo];
}

/* Closes the open directories at depth >= depth. */
static void
inspect_stat_close_dirs(struct stat_ctx *c, uint32_t depth)
{
	while (c->nstack && c->stack[c->nstack - 1].depth >= depth) {
		const struct stat_open_dir *d = &c->stack[--c->nstack];

		if (d->kids)
			inspect_stat_rank(c->dirs, &c->ndirs, d->kids,
					  c->prev.data, d->len);
	}
}

static int
inspect_stat_node(void *arg, const char *path, const void *value,
		  uint32_t len, const struct store_perm *perms,
		  uint32_t nperms)
{
	struct stat_ctx *c = arg;
	struct stat_dom *d;
	uint32_t depth = 0;
	size_t plen;

	(void)value;
	c->nodes++;
	c->bytes += len;
	d = inspect_stat_dom(c, nperms ? perms[0].domid : 0);
	d->nodes++;
	d->bytes += len;
	inspect_stat_rank(c->big, &c->nbig, len, path, strlen(path));
	if (path[0] != '/') {
		c->specials++;
		return 0;
	}
	for (const char *p = path + 1; *p; p++)
		depth += *p == '/';
	if (path[1] != '\0')
		depth++;
	if (depth > c->max_depth || c->deepest == NULL) {
		c->max_depth = depth;
		free(c->deepest);
		c->deepest = xstrdup(path);
	}
	inspect_stat_close_dirs(c, depth);
	if (c->nstack)
		c->stack[c->nstack - 1].kids++;
	if (c->nstack == c->capstack) {
		c->capstack = c->capstack ? c->capstack * 2 : 64;
		c->stack = xrealloc(c->stack, c->capstack * sizeof(*c->stack));
	}
	plen = strlen(path);
	c->stack[c->nstack].len = plen;
	c->stack[c->nstack].depth = depth;
	c->stack[c->nstack++].kids = 0;
	buf_reset(&c->prev);
	buf_add(&c->prev, path, plen + 1);
	return 0;
}

static void
inspect_stat_release(struct stat_ctx *c)
{
	for (uint32_t i = 0; i < c->nbig; i++)
		free(c->big[i].path);
	for (uint32_t i = 0; i < c->ndirs; i++)
		free(c->dirs[i].path);
	free(c->deepest);
	free(c->doms);
	free(c->stack);
	buf_free(&c->prev);
}

/* --- printing ---------------------------------------------------------------- */

static const char *
inspect_base(const char *path)
{
	const char *b = strrchr(path, '/');

	return b ? b + 1 : path;
}

struct stat_quota_line {
	const struct store *s;
	struct buf b;
};

static void
inspect_stat_quotas_of(void *arg, uint32_t domid)
{
	struct stat_quota_line *q = arg;
	size_t start = q->b.len;
	uint32_t v;

	for (int i = 0; i < STORE_QUOTA_COUNT; i++)
		if (store_quota_get_own(q->s, domid, (enum store_quota)i, false,
					&v) == 0)
			buf_printf(&q->b, " %s=%u",
				   store_quota_name((enum store_quota)i), v);
	if (store_quota_get_own(q->s, domid, STORE_QUOTA_MEMORY, true, &v) == 0)
		buf_printf(&q->b, " memory-soft=%u", v);
	if (q->b.len == start)
		return;
	buf_add(&q->b, "", 1);
	if (domid == STORE_DOMID_GLOBAL)
		printf("  global:%s\n", q->b.data + start);
	else
		printf("  domain %u:%s\n", domid, q->b.data + start);
	q->b.len = start;
}

static void
inspect_stat_print_nodes(const struct stat_ctx *c, const struct store *qs)
{
	struct stat_quota_line q = { .s = qs };

	printf("nodes:        %" PRIu64 " (%" PRIu64 " special)\n", c->nodes,
	       c->specials);
	printf("value bytes:  %" PRIu64 "\n", c->bytes);
	printf("max depth:    %u  %s\n", c->max_depth,
	       c->deepest ? c->deepest : "-");
	printf("per domain (owner of the node):\n");
	printf("  %10s %12s %14s\n", "domid", "nodes", "value bytes");
	for (uint32_t i = 0; i < c->ndoms; i++)
		printf("  %10u %12" PRIu64 " %14" PRIu64 "\n",
		       c->doms[i].domid, c->doms[i].nodes, c->doms[i].bytes);
	printf("largest values (bytes):\n");
	for (uint32_t i = 0; i < c->nbig; i++)
		printf("  %12" PRIu64 "  %s\n", c->big[i].size, c->big[i].path);
	printf("largest directories (children):\n");
	for (uint32_t i = 0; i < c->ndirs; i++)
		printf("  %12" PRIu64 "  %s\n", c->dirs[i].size,
		       c->dirs[i].path);
	printf("quotas set:\n");
	inspect_stat_quotas_of(&q, STORE_DOMID_GLOBAL);
	store_foreach_domain(qs, inspect_stat_quotas_of, &q);
	buf_free(&q.b);
}

/* The domain table: what a restarted daemon serves again. */
static void
inspect_stat_print_domains(const struct wal_domtab *t)
{
	printf("domains:      %u\n", wal_domtab_count(t));
	for (uint32_t i = 0; i < wal_domtab_count(t); i++) {
		const struct wal_domain *d = wal_domtab_at(t, i);

		printf("  %u %s gfn=%" PRIu64 " port=%u features=%u target=",
		       d->domid, d->introduced ? "introduced" : "configured",
		       d->gfn, d->remote_port, d->features);
		if (d->target == LXS_DOMID_INVALID)
			printf("-");
		else
			printf("%u", d->target);
		printf(" watches=%u\n", d->nwatches);
		for (uint32_t j = 0; j < d->nwatches; j++) {
			printf("    watch %s %s", d->watches[j].path,
			       d->watches[j].token);
			if (d->watches[j].depth >= 0)
				printf(" depth=%d", d->watches[j].depth);
			putchar('\n');
		}
	}
}

static void
inspect_stat_print_files(const struct inspect_src *src,
			 const struct inspect_state *st,
			 const struct inspect_survey *sv,
			 const struct snap_info *snaps, uint32_t nsnaps)
{
	char t0[INSPECT_TIME_LEN], t1[INSPECT_TIME_LEN];

	printf("snapshots:\n");
	if (nsnaps == 0)
		printf("  none\n");
	for (uint32_t i = 0; i < nsnaps; i++) {
		struct stat sst;
		bool used = st->base.path &&
			    strcmp(inspect_base(st->base.path),
				   inspect_base(snaps[i].path)) == 0;

		printf("  %s  seq %" PRIu64, inspect_src_name(src, snaps[i].path),
		       snaps[i].seq);
		if (stat(snaps[i].path, &sst) == 0)
			printf("  %lld bytes", (long long)sst.st_size);
		if (used) {
			inspect_time_format(st->base.time_ns, t0);
			printf("  taken %s  %" PRIu64 " nodes  (base of this "
			       "state)", t0, st->base.nodes);
		}
		putchar('\n');
	}
	printf("log:\n");
	if (sv->nsegs == 0)
		printf("  none\n");
	for (uint32_t i = 0; i < sv->nsegs; i++) {
		const struct inspect_seg *g = &sv->segs[i];

		printf("  %s  %" PRIu64 " bytes", inspect_src_name(src, g->path),
		       g->bytes);
		if (g->records) {
			inspect_time_format(g->t_lo, t0);
			inspect_time_format(g->t_hi, t1);
			printf("  seq %" PRIu64 "..%" PRIu64 "  %" PRIu64
			       " records  %s .. %s", g->lo, g->hi, g->records,
			       t0, t1);
		} else {
			printf("  no records (starts at seq %" PRIu64 ")",
			       g->first_seq);
		}
		putchar('\n');
	}
	if (sv->nsegs && sv->records)
		printf("  unbroken from seq %" PRIu64 " to %" PRIu64 "\n",
		       sv->log_lo, sv->last_seq);
	for (uint32_t i = 0; i < sv->ndmg; i++)
		printf("  %s at %s offset %" PRIu64 " (%s)\n",
		       sv->dmg[i].kind == WAL_TORN_TAIL ? "torn tail" : "CORRUPT",
		       sv->dmg[i].file, sv->dmg[i].offset, sv->dmg[i].why);
}

int
inspect_cmd_stat(struct inspect *in, const struct inspect_point *at,
		 int argc, char **argv)
{
	struct stat_ctx c = { 0 };
	struct inspect_state *st = NULL;
	struct inspect_survey sv = { 0 };
	struct inspect_src *src = NULL;
	struct snap_info *snaps = NULL;
	uint32_t nsnaps = 0;
	int rc;

	(void)argv;
	if (argc != 1)
		return inspect_usage("stat");
	rc = inspect_state_open_at(in, at, false, &st);
	if (rc == 0)
		rc = inspect_state_walk(in, st, inspect_stat_node, &c);
	inspect_stat_close_dirs(&c, 0);
	if (rc == 0)
		rc = inspect_src_get(in, &src);
	if (rc == 0)
		rc = inspect_survey_log(src, INSPECT_SURVEY_ALL, &sv);
	if (rc == 0 && snap_list(src->dir, &snaps, &nsnaps) < 0)
		nsnaps = 0;
	if (rc == 0) {
		printf("source:       %s", src->label);
		if (src->daemon)
			printf("  (lxenstored pid %d is running)", (int)src->daemon);
		printf("\nstate:        seq %" PRIu64, st->seq);
		if (st->base.path) {
			printf(" = snapshot seq %" PRIu64 " + %" PRIu64
			       " log records", st->base.seq, st->replayed);
		} else {
			printf(" = %" PRIu64 " log records from the start",
			       st->replayed);
		}
		putchar('\n');
		inspect_stat_print_nodes(&c, inspect_state_quotas(st));
		inspect_stat_print_files(src, st, &sv, snaps, nsnaps);
		inspect_stat_print_domains(st->domains);
		printf("watches:      not recorded for socket clients (held by "
		       "the running daemon only); guest rings' under domains\n");
		printf("connections:  not recorded (held by the running "
		       "daemon only)\n");
		printf("transactions: not recorded (held by the running "
		       "daemon only)\n");
	}
	snap_list_free(snaps, nsnaps);
	inspect_survey_release(&sv);
	inspect_stat_release(&c);
	inspect_state_free(st);
	return rc < 0 ? INSPECT_EXIT_FAIL : in->status;
}
