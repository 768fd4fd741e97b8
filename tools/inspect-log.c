/*
 * log: the mutation records, one line per operation.
 *
 *   SEQ TIME DOMAIN OP PATH SIZE
 *
 * TIME is when the record was appended (UTC), DOMAIN the domain whose
 * request made the change, OP is PUT (the complete new state of one node)
 * or DEL (a node and its subtree); a transaction is one record, so its
 * operations share a SEQ. SIZE is the value's length in bytes, "-" for
 * DEL. A QUOTA record shows the quota's name as PATH ("memory-soft" for
 * the soft memory quota) and its new value as SIZE; its DOMAIN is the
 * domain the quota is set for, "-" for the global value. A domain record
 * shows the domain as DOMAIN and, as OP PATH SIZE:
 *   DOMAIN introduced|configured gfn=G,port=P,features=F,target=T|-
 *                                        (INTRODUCE, RESUME, SET_TARGET,
 *                                        SET_FEATURE: the new record)
 *   RELEASE - -
 *   WATCH PATH TOKEN[,depth=N]          (a guest ring's watch)
 *   UNWATCH PATH TOKEN
 *   RESET-WATCHES - -
 *   RING-REPLY req_end=N SIZE           (the reply to a ring request that
 *                                        changed something, SIZE bytes)
 *   RING-PARTIAL req_end=N SIZE         (the first SIZE bytes of a message
 *                                        read in part, up to position N)
 *   RING-OUT rsp_end=N SIZE             (a message longer than the ring
 *                                        going out in pieces, up to
 *                                        response position N)
 *   RING-RESET - -                      (its ring's indices went to 0)
 * Records are decoded by the code replay uses (inspect-tap.c, wal/).
 *
 * --path PREFIX keeps operations on PREFIX or below it, and deletions of
 * an ancestor of PREFIX (they remove it too).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "tools/inspect.h"

/* The first seq of the segment at path, from its name. */
static bool
inspect_log_seg_first(const char *path, uint64_t *seq)
{
	const char *base = path ? strrchr(path, '/') : NULL;

	return base && parse_seq_name(base + 1, "wal-", ".log", seq);
}

struct log_ctx {
	const char *prefix;		/* NULL: every path */
	size_t prefixlen;
	bool by_domain;
	uint32_t domain;
	uint64_t from, to;
	uint64_t since, until;
	/* The record being printed. */
	uint64_t seq;
	char when[INSPECT_TIME_LEN];
};

/* path is below (or is) prefix, component-wise. */
static bool
inspect_log_under(const char *path, const char *prefix, size_t plen)
{
	if (strncmp(path, prefix, plen) != 0)
		return false;
	return (plen == 1 && prefix[0] == '/') || path[plen] == '/' ||
	       path[plen] == '\0';
}

static bool
inspect_log_wanted(const struct log_ctx *c, const struct store_op *op)
{
	if (c->prefix == NULL)
		return true;
	if (inspect_log_under(op->path, c->prefix, c->prefixlen))
		return true;
	return op->kind == STORE_OP_DEL &&
	       inspect_log_under(c->prefix, op->path, strlen(op->path));
}

static int
inspect_log_ops(void *arg, const struct store_mutation *m)
{
	struct log_ctx *c = arg;

	if (c->by_domain && m->domid != c->domain)
		return 0;
	for (uint32_t i = 0; i < m->nops; i++) {
		const struct store_op *op = &m->ops[i];

		if (!inspect_log_wanted(c, op))
			continue;
		if (op->kind == STORE_OP_PUT)
			printf("%" PRIu64 " %s %u PUT %s %u\n", c->seq, c->when,
			       m->domid, op->path, op->len);
		else
			printf("%" PRIu64 " %s %u DEL %s -\n", c->seq, c->when,
			       m->domid, op->path);
	}
	return 0;
}

static int
inspect_log_quota(struct log_ctx *c, const struct wal_frame *f)
{
	struct wal_quota q;
	void *mem = NULL;

	if (inspect_tap_quota(f->payload, f->len, &q, &mem) < 0)
		return -EBADMSG;
	if (c->prefix == NULL &&
	    (!c->by_domain || (!q.global && q.domid == c->domain))) {
		if (q.global)
			printf("%" PRIu64 " %s - QUOTA %s%s %u\n", c->seq,
			       c->when, q.name, q.soft ? "-soft" : "", q.value);
		else
			printf("%" PRIu64 " %s %u QUOTA %s%s %u\n", c->seq,
			       c->when, q.domid, q.name, q.soft ? "-soft" : "",
			       q.value);
	}
	inspect_tap_quota_free(mem);
	return 0;
}

static int
inspect_log_domain(void *arg, const struct wal_domain_change *ch)
{
	struct log_ctx *c = arg;
	const struct wal_domain *d = ch->dom;

	if (c->by_domain && ch->domid != c->domain)
		return 0;
	switch (ch->kind) {
	case WAL_DOMAIN_SET:
		if (c->prefix)
			return 0;
		printf("%" PRIu64 " %s %u DOMAIN %s gfn=%" PRIu64 ",port=%u,"
		       "features=%u,target=", c->seq, c->when, ch->domid,
		       d->introduced ? "introduced" : "configured", d->gfn,
		       d->remote_port, d->features);
		if (d->target == LXS_DOMID_INVALID)
			printf("-\n");
		else
			printf("%u\n", d->target);
		return 0;
	case WAL_DOMAIN_WATCH:
	case WAL_DOMAIN_UNWATCH:
		if (c->prefix && !inspect_log_under(ch->path, c->prefix,
						    c->prefixlen))
			return 0;
		printf("%" PRIu64 " %s %u %s %s %s", c->seq, c->when,
		       ch->domid, ch->kind == WAL_DOMAIN_WATCH ? "WATCH" :
		       "UNWATCH", ch->path, ch->token);
		if (ch->kind == WAL_DOMAIN_WATCH && ch->depth >= 0)
			printf(",depth=%d", ch->depth);
		putchar('\n');
		return 0;
	case WAL_DOMAIN_RING_REPLY:
	case WAL_DOMAIN_RING_PARTIAL:
		if (c->prefix == NULL)
			printf("%" PRIu64 " %s %u %s req_end=%u %u\n", c->seq,
			       c->when, ch->domid,
			       ch->kind == WAL_DOMAIN_RING_REPLY ? "RING-REPLY" :
			       "RING-PARTIAL", ch->req_end,
			       ch->kind == WAL_DOMAIN_RING_REPLY ? ch->reply_len :
			       ch->partial_len);
		return 0;
	case WAL_DOMAIN_RING_OUT:
		if (c->prefix == NULL)
			printf("%" PRIu64 " %s %u RING-OUT rsp_end=%u %u\n",
			       c->seq, c->when, ch->domid, ch->rsp_end,
			       ch->reply_len);
		return 0;
	default:
		if (c->prefix == NULL)
			printf("%" PRIu64 " %s %u %s - -\n", c->seq, c->when,
			       ch->domid, ch->kind == WAL_DOMAIN_RELEASE ?
			       "RELEASE" : ch->kind == WAL_DOMAIN_RING_RESET ?
			       "RING-RESET" : "RESET-WATCHES");
		return 0;
	}
}

static int
inspect_log_frame(void *arg, const struct wal_frame *f)
{
	struct log_ctx *c = arg;

	if (f->seq > c->to)
		return WAL_SCAN_STOP;
	inspect_progress_add(1);
	if (f->seq < c->from || f->time_ns < c->since || f->time_ns > c->until)
		return 0;
	c->seq = f->seq;
	inspect_time_format(f->time_ns, c->when);
	switch (f->type) {
	case WAL_REC_MUTATION:
		return wal_decode_mutation(f->payload, f->len, inspect_log_ops,
					    c) < 0 ? -EBADMSG : 0;
	case WAL_REC_QUOTA:
		return inspect_log_quota(c, f);
	case WAL_REC_DOMAIN:
		return wal_decode_domain_change(f->payload, f->len,
						inspect_log_domain, c) < 0 ?
		       -EBADMSG : 0;
	default:
		if (c->prefix == NULL && !c->by_domain)
			printf("%" PRIu64 " %s - TYPE-%u - %u\n", c->seq,
			       c->when, f->type, f->len);
		return 0;
	}
}

static int
inspect_log_seq_opt(const char *opt, const char *arg, uint64_t *out)
{
	unsigned long v;

	if (parse_uint(arg, ULONG_MAX, &v) < 0) {
		inspect_error("%s %s: not a sequence number", opt, arg);
		return -EINVAL;
	}
	*out = v;
	return 0;
}

static int
inspect_log_time_opt(const char *opt, const char *arg, uint64_t *out)
{
	if (inspect_time_parse(arg, out) < 0) {
		inspect_error("%s %s: not a time (YYYY-MM-DDTHH:MM:SS[.frac]Z "
			      "or @SECONDS)", opt, arg);
		return -EINVAL;
	}
	return 0;
}

int
inspect_cmd_log(struct inspect *in, const struct inspect_point *at,
		int argc, char **argv)
{
	enum { OPT_PATH = 256, OPT_DOMAIN, OPT_FROM, OPT_TO, OPT_SINCE,
	       OPT_UNTIL };
	static const struct option opts[] = {
		{ "path", required_argument, NULL, OPT_PATH },
		{ "domain", required_argument, NULL, OPT_DOMAIN },
		{ "from", required_argument, NULL, OPT_FROM },
		{ "to", required_argument, NULL, OPT_TO },
		{ "since", required_argument, NULL, OPT_SINCE },
		{ "until", required_argument, NULL, OPT_UNTIL },
		{ NULL, 0, NULL, 0 },
	};
	struct log_ctx c = { .to = UINT64_MAX, .until = UINT64_MAX };
	struct inspect_src *src;
	struct wal_scan scan = { 0 };
	unsigned long v;
	uint64_t lo, after, first;
	int opt, rc = 0;

	(void)at;
	optind = 0;
	while (rc == 0 &&
	       (opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (opt) {
		case OPT_PATH:
			c.prefix = optarg;
			c.prefixlen = strlen(optarg);
			if (optarg[0] != '/' && optarg[0] != '@') {
				inspect_error("--path %s: not an absolute path",
					      optarg);
				rc = -EINVAL;
			}
			break;
		case OPT_DOMAIN:
			rc = parse_uint(optarg, UINT32_MAX, &v);
			if (rc < 0)
				inspect_error("--domain %s: not a domain id",
					      optarg);
			c.by_domain = true;
			c.domain = (uint32_t)v;
			break;
		case OPT_FROM:
			rc = inspect_log_seq_opt("--from", optarg, &c.from);
			break;
		case OPT_TO:
			rc = inspect_log_seq_opt("--to", optarg, &c.to);
			break;
		case OPT_SINCE:
			rc = inspect_log_time_opt("--since", optarg, &c.since);
			break;
		case OPT_UNTIL:
			rc = inspect_log_time_opt("--until", optarg, &c.until);
			break;
		default:
			return inspect_usage("log");
		}
	}
	if (rc < 0)
		return INSPECT_EXIT_USAGE;
	if (optind != argc)
		return inspect_usage("log");
	if (inspect_src_get(in, &src) < 0)
		return INSPECT_EXIT_FAIL;
	rc = inspect_log_start(src, &lo);
	if (rc == 0 && lo == 0) {
		inspect_note("%s: no log segment", src->label);
		return in->status;
	}
	/* Start at --from, but never before the log does (not a gap). */
	after = lo - 1;
	if (c.from > lo)
		after = c.from - 1;
	inspect_progress_begin(in, "reading the log: records", 0);
	if (rc == 0)
		rc = wal_scan(src->dir, after, inspect_log_frame, &c, &scan);
	/* A running daemon may prune segments (a snapshot covers them) while
	 * we read: the next segment then starts after a gap, at its offset
	 * 0. The log now starts there: read on from it. */
	for (int i = 0; rc == 0 && src->daemon && i < INSPECT_LIVE_TRIES &&
	     scan.damage == WAL_CORRUPT && scan.bad_offset == 0 &&
	     inspect_log_seg_first(scan.bad_file, &first) &&
	     first > after + 1; i++) {
		after = first - 1;
		wal_scan_release(&scan);
		rc = wal_scan(src->dir, after, inspect_log_frame, &c, &scan);
	}
	inspect_progress_end();
	if (rc < 0) {
		inspect_error("%s: reading the log: %s", src->label,
			      strerror(-rc));
		wal_scan_release(&scan);
		return INSPECT_EXIT_FAIL;
	}
	if (scan.damage == WAL_TORN_TAIL) {
		inspect_note("%s: offset %" PRIu64 ": torn tail (%s)%s",
			     inspect_src_name(src, scan.bad_file),
			     scan.bad_offset, scan.why,
			     src->daemon ? ", probably a write in progress" : "");
	} else if (scan.damage == WAL_CORRUPT) {
		inspect_error("%s: offset %" PRIu64 ": %s; the records after "
			      "it are not shown",
			      inspect_src_name(src, scan.bad_file),
			      scan.bad_offset, scan.why);
		in->status = INSPECT_EXIT_FAIL;
	}
	wal_scan_release(&scan);
	return in->status;
}
