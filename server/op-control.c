/*
 * op-control: CONTROL (alias DEBUG), "cmd\0[arg\0...]", privileged.
 *
 * Text replies are NUL-terminated; output formats follow cxenstored's so
 * that xenstore-control prints the same thing:
 *   quota        "Quota settings:\n" + "%-17s: %8u %s\n" per quota
 *   quota <dom>  "Domain N:\n" + "%-17s: %8u (quota %8u)\n" per counter
 *   help         "%-15s %s\n" per command
 * An unknown command or bad arguments: EINVAL (xenstore-control then shows
 * the help text).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/server-int.h"

#define OP_CONTROL_MAX_ARGS 8
#define OP_CONTROL_REPORT_MAX 3800	/* of a check report in the reply */

struct op_control_cmd {
	const char *name;
	const char *usage;
	int (*fn)(struct op_req *r, int argc, const char **argv);
};

static const char *const op_quota_desc[STORE_QUOTA_COUNT] = {
	[STORE_QUOTA_NODES] = "Nodes per domain",
	[STORE_QUOTA_WATCHES] = "Watches per domain",
	[STORE_QUOTA_TRANSACTIONS] = "Transactions per domain",
	[STORE_QUOTA_TXN_NODES] = "Max. number of accessed nodes per "
				  "transaction",
	[STORE_QUOTA_NODE_SIZE] = "Max. size of a node",
	[STORE_QUOTA_NODE_PERMS] = "Max. number of permissions per node",
	[STORE_QUOTA_PATH_MAX] = "Max. length of a node path",
	[STORE_QUOTA_OUTSTANDING] = "Outstanding requests per domain",
	[STORE_QUOTA_MEMORY] = "Total Xenstore memory per domain",
};

static int
op_control_check(struct op_req *r, int argc, const char **argv)
{
	struct buf report = { 0 };
	unsigned int n;

	if (argc != 0)
		return -EINVAL;
	n = store_check(r->srv->store, &report);
	if (n == 0) {
		op_reply_str(r, "OK");
	} else {
		log_warn("control: check found %u problem(s)", n);
		buf_printf(&r->reply, "%u problem(s):\n", n);
		/* The whole report is in the daemon log; the reply must fit. */
		log_warn("%.*s", (int)report.len, report.data);
		if (report.len > OP_CONTROL_REPORT_MAX) {
			buf_add(&r->reply, report.data, OP_CONTROL_REPORT_MAX);
			buf_printf(&r->reply, "...\n");
		} else {
			buf_add(&r->reply, report.data, report.len);
		}
		buf_add(&r->reply, "", 1);
	}
	buf_free(&report);
	return 0;
}

static int
op_control_log(struct op_req *r, int argc, const char **argv)
{
	const struct server_config *cfg = &r->srv->cfg;
	const char *path = log_access_path();
	int rc;

	if (argc == 0) {
		buf_printf(&r->reply, "access log: %s (%s)\n",
			   path ? path : cfg->access_log ? cfg->access_log
							 : "none",
			   log_access_enabled() ? "on" : "off");
		buf_add(&r->reply, "", 1);
		return 0;
	}
	if (argc != 1)
		return -EINVAL;
	if (strcmp(argv[0], "off") == 0) {
		log_access_close();
	} else if (strcmp(argv[0], "on") == 0) {
		if (cfg->access_log == NULL)
			return -EINVAL;
		rc = log_access_open(cfg->access_log, cfg->access_log_size,
				     cfg->access_log_keep);
		if (rc < 0)
			return rc;
	} else {
		return -EINVAL;
	}
	op_reply_str(r, "OK");
	return 0;
}

static int
op_control_logfile(struct op_req *r, int argc, const char **argv)
{
	struct server_config *cfg = &r->srv->cfg;
	int rc;

	if (argc != 1 || argv[0][0] == '\0')
		return -EINVAL;
	rc = log_access_open(argv[0], cfg->access_log_size,
			     cfg->access_log_keep);
	if (rc < 0)
		return rc;
	free((char *)cfg->access_log);
	cfg->access_log = xstrdup(argv[0]);
	op_reply_str(r, "OK");
	return 0;
}

static void
op_control_memreport_build(struct server *srv, struct buf *out)
{
	struct store_stats st;
	struct conn *c;
	size_t queued = 0;

	store_stats(srv->store, &st);
	buf_printf(out, "store: %llu nodes, %llu value bytes, %llu watches, "
		   "%llu transactions, generation %llu\n",
		   (unsigned long long)st.nodes, (unsigned long long)st.bytes,
		   (unsigned long long)st.watches,
		   (unsigned long long)st.transactions,
		   (unsigned long long)st.generation);
	buf_printf(out, "connections: %u\n", srv->nconns);
	TAILQ_FOREACH(c, &srv->conns, link) {
		queued += c->out_bytes;
		if (c->out_bytes)
			buf_printf(out, "  conn %u: %zu bytes queued\n",
				   c->id, c->out_bytes);
	}
	buf_printf(out, "output queued: %zu bytes\n", queued);
	buf_printf(out, "mutations committed: %llu\n",
		   (unsigned long long)srv->mutations_total);
}

/*
 * To the named file, else to the access log, else (unlike cxenstored,
 * which fails with no trace file) as the reply itself.
 */
static int
op_control_memreport(struct op_req *r, int argc, const char **argv)
{
	struct buf rep = { 0 };
	int rc = 0;

	if (argc > 1)
		return -EINVAL;
	op_control_memreport_build(r->srv, &rep);
	if (argc == 1) {
		FILE *f = fopen(argv[0], "we");

		if (f == NULL) {
			rc = -errno;
			log_warn("control: memreport: %s: %s", argv[0],
				 strerror(errno));
			goto out;
		}
		fwrite(rep.data, 1, rep.len, f);
		if (fclose(f) != 0)
			rc = -EIO;
		op_reply_str(r, "OK");
	} else if (log_access_enabled()) {
		log_access_line("memreport:\n%.*s", (int)rep.len, rep.data);
		op_reply_str(r, "OK");
	} else {
		buf_add(&r->reply, rep.data, rep.len);
		buf_add(&r->reply, "", 1);
	}
out:
	buf_free(&rep);
	return rc;
}

static int
op_control_print(struct op_req *r, int argc, const char **argv)
{
	if (argc != 1)
		return -EINVAL;
	if (log_access_enabled())
		log_access_line("control: %s", argv[0]);
	else
		log_info("control: %s", argv[0]);
	op_reply_str(r, "OK");
	return 0;
}

static void
op_control_quota_settings(struct op_req *r, bool soft)
{
	uint32_t v;

	buf_printf(&r->reply, "Quota settings:\n");
	for (int q = 0; q < STORE_QUOTA_COUNT; q++) {
		const char *name = store_quota_name(q);

		if (name == NULL || store_quota_get(r->srv->store,
				STORE_DOMID_GLOBAL, q, soft, &v) < 0)
			continue;
		buf_printf(&r->reply, "%-17s: %8u %s%s\n", name, v,
			   op_quota_desc[q] ? op_quota_desc[q] : "",
			   q != STORE_QUOTA_MEMORY ? "" :
			   soft ? " (warning level)" : " (error level)");
	}
	buf_add(&r->reply, "", 1);
}

static void
op_control_quota_line(struct op_req *r, uint32_t domid, enum store_quota q,
		      uint64_t val)
{
	uint32_t max = 0;

	store_quota_get(r->srv->store, domid, q, false, &max);
	buf_printf(&r->reply, "%-17s: %8llu (quota %8u)\n",
		   store_quota_name(q), (unsigned long long)val, max);
}

static int
op_control_quota_domain(struct op_req *r, const char *arg)
{
	struct store_usage u;
	uint32_t domid;

	if (op_parse_domid(arg, &domid) < 0)
		return -EINVAL;
	if (!op_domain_known(r->srv, domid))
		return -ENOENT;
	store_usage(r->srv->store, domid, &u);
	buf_printf(&r->reply, "Domain %u:\n", domid);
	op_control_quota_line(r, domid, STORE_QUOTA_NODES, u.nodes);
	op_control_quota_line(r, domid, STORE_QUOTA_WATCHES, u.watches);
	op_control_quota_line(r, domid, STORE_QUOTA_TRANSACTIONS,
			      u.transactions);
	op_control_quota_line(r, domid, STORE_QUOTA_MEMORY, u.memory);
	buf_add(&r->reply, "", 1);
	return 0;
}

static int
op_control_quota_common(struct op_req *r, int argc, const char **argv,
			bool soft)
{
	unsigned long v;
	int q, rc;

	if (argc == 0) {
		op_control_quota_settings(r, soft);
		return 0;
	}
	if (argc == 3 && strcmp(argv[0], "set") == 0) {
		q = store_quota_lookup(argv[1]);
		if (q < 0 || parse_uint(argv[2], UINT32_MAX - 1, &v) < 0 ||
		    v == 0)
			return -EINVAL;
		rc = server_set_quota(r->srv, STORE_DOMID_GLOBAL, q, soft,
				      (uint32_t)v);
		if (rc < 0)
			return rc;
		op_reply_str(r, "OK");
		return 0;
	}
	if (argc == 1 && !soft)
		return op_control_quota_domain(r, argv[0]);
	return -EINVAL;
}

static int
op_control_quota(struct op_req *r, int argc, const char **argv)
{
	return op_control_quota_common(r, argc, argv, false);
}

static int
op_control_quota_soft(struct op_req *r, int argc, const char **argv)
{
	return op_control_quota_common(r, argc, argv, true);
}

/* Writes a snapshot now, in the background; "status" shows when it is in. */
static int
op_control_snapshot(struct op_req *r, int argc, const char **argv)
{
	int rc;

	if (argc != 0)
		return -EINVAL;
	rc = durable_snapshot_now(r->srv->dur);
	if (rc == 0)
		op_reply_str(r, "OK");
	return rc;
}

static int op_control_help(struct op_req *r, int argc, const char **argv);

static const struct op_control_cmd op_control_cmds[] = {
	{ "check", "", op_control_check },
	{ "log", "[on|off]", op_control_log },
	{ "logfile", "<file>", op_control_logfile },
	{ "memreport", "[<file>]", op_control_memreport },
	{ "live-update", "-f <file>|-c <cmdline>|-s [-t <s>] [-F]|-a",
	  op_control_live_update },
	{ "print", "<string>", op_control_print },
	{ "quota", "[set <name> <val>|<domid>]", op_control_quota },
	{ "quota-soft", "[set <name> <val>]", op_control_quota_soft },
	{ "snapshot", "", op_control_snapshot },
	{ "status", "[json] [domain <domid>|top [<n>]]", op_control_status },
	{ "help", "", op_control_help },
};

static int
op_control_help(struct op_req *r, int argc, const char **argv)
{
	if (argc != 0)
		return -EINVAL;
	for (size_t i = 0; i < LXS_ARRAY_SIZE(op_control_cmds); i++)
		buf_printf(&r->reply, "%-15s %s\n", op_control_cmds[i].name,
			   op_control_cmds[i].usage);
	buf_add(&r->reply, "", 1);
	return 0;
}

int
op_control(struct op_req *r)
{
	const char *argv[OP_CONTROL_MAX_ARGS];
	int n;

	n = op_args(r, 1, OP_CONTROL_MAX_ARGS, argv);
	if (n < 0)
		return n;
	for (size_t i = 0; i < LXS_ARRAY_SIZE(op_control_cmds); i++)
		if (strcmp(argv[0], op_control_cmds[i].name) == 0)
			return op_control_cmds[i].fn(r, n - 1, argv + 1);
	return -EINVAL;
}
