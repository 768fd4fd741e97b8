/*
 * op-status: CONTROL status, what an administrator asks a running daemon.
 *
 * Wire form (each word one NUL-terminated argument; "--x" is taken as "x",
 * so `xenstore-control status --domain 5` works through any client that
 * passes its arguments on, Xen's included):
 *
 *   status [json] [domain <domid> | top [<count>]]
 *
 * Plain "status" is the daemon as a whole, as "name: value" lines (the
 * durability lines keep the names they always had: sync, state-dir,
 * log-seq, log-segment, log-state, snapshot, recovery, recovery-damage,
 * previous-boot-state). "domain" is one domain, "top" the busiest domains
 * by requests over the last minute (at most STATUS_TOP_MAX). "json" gives
 * the same figures as one JSON object; the field names are a contract,
 * documented in docs/STATUS.md.
 *
 * A reply must fit the 4096-byte payload: paths are shortened to
 * STATUS_PATH_SHOWN bytes and top lists at most STATUS_TOP_MAX domains.
 * Costs: plain status and top read counters only (top also sorts the
 * domains); domain walks the whole tree once for the largest nodes the
 * domain owns (O(nodes in the store)).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "server/server-int.h"

#define STATUS_TOP_DEFAULT	10u
#define STATUS_TOP_MAX		20u
#define STATUS_PATH_SHOWN	160u
/* Room for the JSON of top's domains, leaving some for what closes it. */
#define STATUS_JSON_BUDGET	(XENSTORE_PAYLOAD_MAX - 64u)

/* ---- JSON output ----------------------------------------------------------- */

/* Appends to b; comma says whether the next member needs one. */
struct jw {
	struct buf *b;
	bool comma;
};

static void
jw_key(struct jw *w, const char *key)
{
	if (w->comma)
		buf_add(w->b, ",", 1);
	w->comma = true;
	if (key)
		buf_printf(w->b, "\"%s\":", key);
}

static void
jw_open(struct jw *w, const char *key, char brace)
{
	jw_key(w, key);
	buf_add(w->b, &brace, 1);
	w->comma = false;
}

static void
jw_close(struct jw *w, char brace)
{
	buf_add(w->b, &brace, 1);
	w->comma = true;
}

static void
jw_u64(struct jw *w, const char *key, uint64_t v)
{
	jw_key(w, key);
	buf_printf(w->b, "%" PRIu64, v);
}

static void
jw_rate(struct jw *w, const char *key, uint64_t n, uint32_t seconds)
{
	jw_key(w, key);
	buf_printf(w->b, "%.2f", (double)n / (seconds ? seconds : 1));
}

static void
jw_bool(struct jw *w, const char *key, bool v)
{
	jw_key(w, key);
	buf_printf(w->b, "%s", v ? "true" : "false");
}

/* s NULL is null. Control characters and quotes are escaped. */
static void
jw_str(struct jw *w, const char *key, const char *s)
{
	jw_key(w, key);
	if (s == NULL) {
		buf_printf(w->b, "null");
		return;
	}
	buf_add(w->b, "\"", 1);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			buf_printf(w->b, "\\%c", ch);
		else if (ch < 0x20)
			buf_printf(w->b, "\\u%04x", ch);
		else
			buf_add(w->b, s, 1);
	}
	buf_add(w->b, "\"", 1);
}

/* ISO 8601 UTC of a CLOCK_REALTIME ns value; 0 is "never" (JSON null). */
static const char *
status_time(uint64_t ns, char *out, size_t size)
{
	time_t t = (time_t)(ns / 1000000000u);
	struct tm tm;

	if (ns == 0 || gmtime_r(&t, &tm) == NULL)
		return NULL;
	strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return out;
}

static void
jw_time(struct jw *w, const char *key, uint64_t ns)
{
	char tbuf[32];

	jw_str(w, key, status_time(ns, tbuf, sizeof(tbuf)));
}

/* ---- what is reported ---------------------------------------------------- */

struct status_args {
	bool json;
	enum { STATUS_ALL, STATUS_DOMAIN, STATUS_TOP } what;
	uint32_t domid;
	uint32_t top;
};

static int
status_parse(int argc, const char **argv, struct status_args *a)
{
	unsigned long v;

	memset(a, 0, sizeof(*a));
	a->top = STATUS_TOP_DEFAULT;
	for (int i = 0; i < argc; i++) {
		const char *w = argv[i];

		if (strncmp(w, "--", 2) == 0)
			w += 2;
		if (strcmp(w, "json") == 0) {
			a->json = true;
		} else if (strcmp(w, "domain") == 0 && a->what == STATUS_ALL &&
			   i + 1 < argc) {
			if (op_parse_domid(argv[++i], &a->domid) < 0)
				return -EINVAL;
			a->what = STATUS_DOMAIN;
		} else if (strcmp(w, "top") == 0 && a->what == STATUS_ALL) {
			a->what = STATUS_TOP;
			if (i + 1 < argc && parse_uint(argv[i + 1],
					STATUS_TOP_MAX, &v) == 0 && v > 0) {
				a->top = (uint32_t)v;
				i++;
			}
		} else {
			return -EINVAL;
		}
	}
	return 0;
}

/* One domain's figures. */
struct status_dom {
	uint32_t domid;
	struct store_usage use;
	uint32_t quota[STORE_QUOTA_COUNT];
	const struct stats_dom *st;	/* NULL: no connection ever counted */
	struct stats_window win;
	uint32_t conns, rings;
	enum conn_pause paused;		/* of the first paused connection */
	uint64_t refused;		/* all quotas, since start */
};

static void
status_dom_fill(struct server *srv, uint64_t now, uint32_t domid,
		struct status_dom *sd)
{
	struct conn *c;

	memset(sd, 0, sizeof(*sd));
	sd->domid = domid;
	store_usage(srv->store, domid, &sd->use);
	for (int q = 0; q < STORE_QUOTA_COUNT; q++)
		store_quota_get(srv->store, domid, q, false, &sd->quota[q]);
	sd->st = stats_dom_find(srv->stats, domid);
	if (sd->st) {
		stats_window(srv->stats, sd->st, now, &sd->win);
		for (int q = 0; q < STORE_QUOTA_COUNT; q++)
			sd->refused += sd->st->refused[q];
	} else {
		stats_window(srv->stats, NULL, now, &sd->win);
		sd->win = (struct stats_window){ .seconds = sd->win.seconds };
	}
	TAILQ_FOREACH(c, &srv->conns, link) {
		if (c->dead || store_conn_caller(c->sc)->domid != domid)
			continue;
		sd->conns++;
		sd->rings += (c->flags & CONN_RING) != 0;
		if (sd->paused == CONN_PAUSE_NONE)
			sd->paused = conn_pause_reason(c);
	}
}

/* The largest nodes a domain owns, by value size: one walk of the tree. */
struct status_walk {
	uint32_t domid;
	uint64_t visited;
	uint64_t owned;
	uint64_t value_bytes;
	uint32_t n;
	struct {
		uint32_t len;
		char *path;
	} top[STATS_LARGEST];
};

static int
status_walk_node(void *arg, const char *path, const void *value, uint32_t len,
		 const struct store_perm *perms, uint32_t nperms)
{
	struct status_walk *w = arg;
	uint32_t i;

	w->visited++;
	if (nperms == 0 || perms[0].domid != w->domid)
		return 0;
	w->owned++;
	w->value_bytes += len;
	if (w->n == STATS_LARGEST && len <= w->top[w->n - 1].len)
		return 0;
	if (w->n == STATS_LARGEST)
		free(w->top[--w->n].path);
	for (i = w->n; i > 0 && w->top[i - 1].len < len; i--)
		w->top[i] = w->top[i - 1];
	w->top[i].len = len;
	w->top[i].path = xstrdup(path);
	w->n++;
	return 0;
}

/* ---- the daemon as a whole ------------------------------------------------ */

struct status_all {
	uint64_t now, uptime_ms;
	struct store_stats store;
	uint32_t sockets, rings;
	struct stats_window win;
	struct durable_info dur;
	struct stats_summary sum;
	uint32_t throttled;		/* domains paused now */
};

static void
status_all_fill(struct server *srv, struct status_all *a)
{
	struct conn *c;

	memset(a, 0, sizeof(*a));
	stats_summary(srv->stats, &a->sum);
	a->now = loop_time_ms(srv->loop);
	a->uptime_ms = a->now - a->sum.start_ms;
	store_stats(srv->store, &a->store);
	TAILQ_FOREACH(c, &srv->conns, link) {
		if (c->dead)
			continue;
		if (c->flags & CONN_RING)
			a->rings++;
		else
			a->sockets++;
		a->throttled += !store_conn_caller(c->sc)->priv &&
				conn_pause_reason(c) != CONN_PAUSE_NONE;
	}
	stats_window(srv->stats, NULL, a->now, &a->win);
	durable_info(srv->dur, &a->dur);
}

static void
status_rate(struct buf *b, const char *name, uint64_t n, uint32_t seconds,
	    uint64_t total)
{
	buf_printf(b, "%s: %.2f/s over the last %u s (%" PRIu64 "), %" PRIu64
		   " since start\n", name, (double)n / (seconds ? seconds : 1),
		   seconds, n, total);
}

static void
status_all_text(struct server *srv, const struct status_all *a, struct buf *b)
{
	const uint64_t *tot = a->sum.err;
	char tbuf[32];
	const char *t;

	buf_printf(b, "version: lxenstored %s\n", PACKAGE_VERSION);
	buf_printf(b, "uptime: %" PRIu64 " s, since %s\n", a->uptime_ms / 1000,
		   status_time(a->sum.start_real_ns, tbuf, sizeof(tbuf)));
	buf_printf(b, "nodes: %" PRIu64 "\n", a->store.nodes);
	buf_printf(b, "bytes: %" PRIu64 "\n", a->store.bytes);
	buf_printf(b, "connections: %u sockets, %u rings\n", a->sockets,
		   a->rings);
	buf_printf(b, "watches: %" PRIu64 "\n", a->store.watches);
	buf_printf(b, "transactions: %" PRIu64 "\n", a->store.transactions);
	status_rate(b, "requests", a->win.requests, a->win.seconds,
		    a->sum.requests);
	buf_printf(b, "errors: %" PRIu64 " over the last %u s", a->win.errors,
		   a->win.seconds);
	for (unsigned int e = 0; e < STATS_NERR; e++) {
		const char *name = wire_error_name(stats_err_errno(e));

		if (a->win.err[e] || tot[e])
			buf_printf(b, ", %s %" PRIu64 " (%" PRIu64 " since "
				   "start)", name ? name : "other",
				   a->win.err[e], tot[e]);
	}
	buf_printf(b, "\nthrottled-domains: %u\n", a->throttled);
	durable_status(srv->dur, b);
	if (a->dur.logging) {
		t = status_time(a->dur.snap_time_ns, tbuf, sizeof(tbuf));
		buf_printf(b, "snapshot-time: %s\n", t ? t : "never");
		buf_printf(b, "log-written: %" PRIu64 " bytes since start\n",
			   a->dur.bytes_written);
		buf_printf(b, "recovery-time: %s\n",
			   status_time(a->sum.start_real_ns, tbuf,
				       sizeof(tbuf)));
	}
	if (a->sum.lu_count == 0)
		buf_printf(b, "live-update: never\n");
	else
		buf_printf(b, "live-update: %s, pause %.1f ms, %" PRIu64
			   " since start\n",
			   status_time(a->sum.lu_real_ns, tbuf, sizeof(tbuf)),
			   (double)a->sum.lu_pause_ns / 1e6, a->sum.lu_count);
}

static void
status_all_json(struct server *srv, const struct status_all *a, struct jw *w)
{
	const struct durable_info *d = &a->dur;
	const uint64_t *tot = a->sum.err;

	jw_str(w, "version", PACKAGE_VERSION);
	jw_u64(w, "uptime_s", a->uptime_ms / 1000);
	jw_time(w, "start_time", a->sum.start_real_ns);
	jw_u64(w, "nodes", a->store.nodes);
	jw_u64(w, "bytes", a->store.bytes);
	jw_open(w, "connections", '{');
	jw_u64(w, "sockets", a->sockets);
	jw_u64(w, "rings", a->rings);
	jw_close(w, '}');
	jw_u64(w, "watches", a->store.watches);
	jw_u64(w, "transactions", a->store.transactions);
	jw_open(w, "requests", '{');
	jw_u64(w, "window_s", a->win.seconds);
	jw_u64(w, "last_window", a->win.requests);
	jw_rate(w, "per_s", a->win.requests, a->win.seconds);
	jw_u64(w, "total", a->sum.requests);
	jw_close(w, '}');
	jw_open(w, "errors", '{');
	for (unsigned int e = 0; e < STATS_NERR; e++) {
		const char *name = wire_error_name(stats_err_errno(e));

		if (a->win.err[e] == 0 && tot[e] == 0)
			continue;
		jw_open(w, name ? name : "other", '{');
		jw_u64(w, "last_window", a->win.err[e]);
		jw_u64(w, "total", tot[e]);
		jw_close(w, '}');
	}
	jw_close(w, '}');
	jw_u64(w, "throttled_domains", a->throttled);
	jw_open(w, "durable", '{');
	jw_str(w, "sync", durable_sync_name(d->sync));
	jw_str(w, "state_dir", d->state_dir);
	jw_u64(w, "log_seq", d->tail);
	jw_u64(w, "log_durable_seq", d->done);
	jw_str(w, "log_segment", d->segment);
	jw_u64(w, "log_segment_bytes", d->segment_bytes);
	jw_u64(w, "log_written_bytes", d->bytes_written);
	jw_str(w, "log_error", d->error ? wire_error_name(-d->error) : NULL);
	jw_u64(w, "snapshot_seq", d->snap_seq);
	jw_time(w, "snapshot_time", d->snap_time_ns);
	jw_u64(w, "snapshot_duration_ms", d->snap_duration_ns / 1000000);
	jw_bool(w, "snapshot_writing", d->snap_writing);
	jw_u64(w, "snapshot_failures", d->snap_failures);
	jw_close(w, '}');
	jw_open(w, "recovery", '{');
	jw_time(w, "time", d->logging ? a->sum.start_real_ns : 0);
	jw_u64(w, "duration_ms", d->rec_duration_ns / 1000000);
	jw_u64(w, "snapshot_seq", d->rec_snap_seq);
	jw_u64(w, "records_replayed", d->rec_records);
	jw_u64(w, "last_seq", d->rec_last_seq);
	jw_bool(w, "torn_tail_cut", d->rec_torn_tail);
	jw_str(w, "damaged_log_moved_to", d->rec_log_moved_to);
	jw_u64(w, "snapshots_rejected", d->rec_snap_rejected);
	jw_str(w, "rejected_snapshots_moved_to", d->rec_snap_moved_to);
	jw_str(w, "previous_boot_moved_to", d->boot_moved_to);
	jw_close(w, '}');
	jw_open(w, "live_update", '{');
	jw_u64(w, "count", a->sum.lu_count);
	jw_time(w, "time", a->sum.lu_real_ns);
	if (a->sum.lu_count) {
		jw_u64(w, "pause_ms", a->sum.lu_pause_ns / 1000000);
		jw_u64(w, "pause_us", a->sum.lu_pause_ns / 1000);
	} else {
		jw_str(w, "pause_ms", NULL);
		jw_str(w, "pause_us", NULL);
	}
	jw_close(w, '}');
}

/* ---- one domain ------------------------------------------------------------ */

static const char *
status_short_path(const char *path, char *out, size_t size, bool *cut)
{
	*cut = strlen(path) > STATUS_PATH_SHOWN;
	if (!*cut)
		return path;
	snprintf(out, size, "%.*s...", (int)STATUS_PATH_SHOWN, path);
	return out;
}

static void
status_dom_text(const struct status_dom *sd, const struct status_walk *wk,
		struct buf *b)
{
	static const enum store_quota used[] = {
		STORE_QUOTA_NODES, STORE_QUOTA_MEMORY, STORE_QUOTA_WATCHES,
		STORE_QUOTA_TRANSACTIONS,
	};
	const uint64_t val[] = {
		sd->use.nodes, sd->use.memory, sd->use.watches,
		sd->use.transactions,
	};
	const struct stats_dom *st = sd->st;
	char pbuf[STATUS_PATH_SHOWN + 4];
	bool cut, any = false;

	buf_printf(b, "domain: %u\n", sd->domid);
	buf_printf(b, "connections: %u (%u rings)\n", sd->conns, sd->rings);
	for (size_t i = 0; i < LXS_ARRAY_SIZE(used); i++)
		buf_printf(b, "%s: %" PRIu64 " (quota %u)\n",
			   store_quota_name(used[i]), val[i],
			   sd->quota[used[i]]);
	status_rate(b, "requests", sd->win.requests, sd->win.seconds,
		    st ? st->requests : 0);
	status_rate(b, "eagain", sd->win.eagain, sd->win.seconds,
		    st ? st->eagain : 0);
	status_rate(b, "errors", sd->win.errors, sd->win.seconds,
		    st ? st->errors : 0);
	buf_printf(b, "refused:");
	for (int q = 0; st && q < STORE_QUOTA_COUNT; q++) {
		if (st->refused[q] == 0)
			continue;
		buf_printf(b, "%s %s %" PRIu64 " (last %" PRIu64 " > %u)",
			   any ? "," : "", store_quota_name(q), st->refused[q],
			   st->refused_value[q], st->refused_limit[q]);
		any = true;
	}
	buf_printf(b, "%s\nthrottled: %s\nthrottle-events:", any ? "" : " none",
		   stats_pause_name(sd->paused));
	any = false;
	for (int k = CONN_PAUSE_OUTPUT; st && k < CONN_PAUSE_COUNT; k++) {
		if (st->throttled[k] == 0)
			continue;
		buf_printf(b, "%s %s %" PRIu64, any ? "," : "",
			   stats_pause_name(k), st->throttled[k]);
		any = true;
	}
	buf_printf(b, "%s\nowned: %" PRIu64 " nodes, %" PRIu64 " value bytes "
		   "(walked %" PRIu64 " nodes)\n", any ? "" : " none", wk->owned,
		   wk->value_bytes, wk->visited);
	for (uint32_t i = 0; i < wk->n; i++)
		buf_printf(b, "largest: %u %s\n", wk->top[i].len,
			   status_short_path(wk->top[i].path, pbuf,
					     sizeof(pbuf), &cut));
}

/* The members every domain object has (domain and top). */
static void
status_dom_json_common(const struct status_dom *sd, struct jw *w)
{
	jw_u64(w, "domid", sd->domid);
	jw_u64(w, "nodes", sd->use.nodes);
	jw_u64(w, "memory", sd->use.memory);
	jw_u64(w, "watches", sd->use.watches);
	jw_u64(w, "transactions", sd->use.transactions);
	jw_rate(w, "requests_per_s", sd->win.requests, sd->win.seconds);
	jw_rate(w, "eagain_per_s", sd->win.eagain, sd->win.seconds);
	jw_u64(w, "refused_total", sd->refused);
	jw_str(w, "throttled", sd->paused == CONN_PAUSE_NONE ? NULL :
			       stats_pause_name(sd->paused));
}

static void
status_dom_json(const struct status_dom *sd, const struct status_walk *wk,
		struct jw *w)
{
	const struct stats_dom *st = sd->st;
	char pbuf[STATUS_PATH_SHOWN + 4];
	const char *p;
	bool cut;

	status_dom_json_common(sd, w);
	jw_u64(w, "connections", sd->conns);
	jw_u64(w, "rings", sd->rings);
	jw_open(w, "quota", '{');
	for (int q = 0; q < STORE_QUOTA_COUNT; q++)
		jw_u64(w, store_quota_name(q), sd->quota[q]);
	jw_close(w, '}');
	jw_u64(w, "window_s", sd->win.seconds);
	jw_u64(w, "requests_last_window", sd->win.requests);
	jw_u64(w, "requests_total", st ? st->requests : 0);
	jw_u64(w, "eagain_last_window", sd->win.eagain);
	jw_u64(w, "eagain_total", st ? st->eagain : 0);
	jw_u64(w, "errors_last_window", sd->win.errors);
	jw_u64(w, "errors_total", st ? st->errors : 0);
	jw_open(w, "refused", '{');
	for (int q = 0; st && q < STORE_QUOTA_COUNT; q++) {
		if (st->refused[q] == 0)
			continue;
		jw_open(w, store_quota_name(q), '{');
		jw_u64(w, "count", st->refused[q]);
		jw_u64(w, "last_value", st->refused_value[q]);
		jw_u64(w, "last_limit", st->refused_limit[q]);
		jw_close(w, '}');
	}
	jw_close(w, '}');
	jw_open(w, "throttle_events", '{');
	for (int k = CONN_PAUSE_OUTPUT; k < CONN_PAUSE_COUNT; k++)
		jw_u64(w, stats_pause_name(k), st ? st->throttled[k] : 0);
	jw_close(w, '}');
	jw_u64(w, "owned_nodes", wk->owned);
	jw_u64(w, "owned_value_bytes", wk->value_bytes);
	jw_u64(w, "walked_nodes", wk->visited);
	jw_open(w, "largest", '[');
	for (uint32_t i = 0; i < wk->n; i++) {
		jw_open(w, NULL, '{');
		p = status_short_path(wk->top[i].path, pbuf, sizeof(pbuf),
				      &cut);
		jw_str(w, "path", p);
		jw_bool(w, "path_cut", cut);
		jw_u64(w, "bytes", wk->top[i].len);
		jw_close(w, '}');
	}
	jw_close(w, ']');
}

/*
 * A domain worth reporting: introduced, or with a connection, or still
 * owning something in the store. A released domain keeps only its quota
 * overrides in the store: it is gone (ENOENT).
 */
static bool
status_dom_exists(struct server *srv, uint32_t domid)
{
	const struct domain *d = domain_find(srv, domid);
	struct store_usage u;

	if (domid == 0 || (d && d->introduced) ||
	    stats_dom_find(srv->stats, domid) != NULL)
		return true;
	store_usage(srv->store, domid, &u);
	return u.nodes || u.watches || u.transactions;
}

static int
status_domain(struct server *srv, const struct status_args *a, struct buf *b)
{
	struct status_walk wk = { .domid = a->domid };
	struct status_dom sd;
	struct jw w = { b, false };

	if (!status_dom_exists(srv, a->domid))
		return -ENOENT;
	status_dom_fill(srv, loop_time_ms(srv->loop), a->domid, &sd);
	store_walk(srv->store, status_walk_node, &wk);
	if (a->json) {
		jw_open(&w, NULL, '{');
		status_dom_json(&sd, &wk, &w);
		jw_close(&w, '}');
	} else {
		status_dom_text(&sd, &wk, b);
	}
	for (uint32_t i = 0; i < wk.n; i++)
		free(wk.top[i].path);
	return 0;
}

/* ---- top ------------------------------------------------------------------- */

struct status_ids {
	uint32_t *v;
	uint32_t n, cap;
};

static void
status_ids_add(void *arg, uint32_t domid)
{
	struct status_ids *ids = arg;

	if (ids->n == ids->cap) {
		ids->cap = ids->cap ? ids->cap * 2 : 16;
		ids->v = xrealloc(ids->v, ids->cap * sizeof(*ids->v));
	}
	ids->v[ids->n++] = domid;
}

/* Busiest first: requests over the window, then memory, then domid. */
static int
status_top_cmp(const void *pa, const void *pb)
{
	const struct status_dom *x = pa, *y = pb;

	if (x->win.requests != y->win.requests)
		return x->win.requests > y->win.requests ? -1 : 1;
	if (x->use.memory != y->use.memory)
		return x->use.memory > y->use.memory ? -1 : 1;
	return x->domid < y->domid ? -1 : x->domid > y->domid;
}

static int
status_id_cmp(const void *pa, const void *pb)
{
	uint32_t x = *(const uint32_t *)pa, y = *(const uint32_t *)pb;

	return x < y ? -1 : x > y;
}

static int
status_top(struct server *srv, const struct status_args *a, struct buf *b)
{
	struct status_ids ids = { 0 };
	struct stats_dom *const *sds;
	struct status_dom *all;
	struct jw w = { b, false };
	uint64_t now = loop_time_ms(srv->loop);
	uint32_t n, uniq = 0, shown;

	store_foreach_domain(srv->store, status_ids_add, &ids);
	sds = stats_doms(srv->stats, &n);
	for (uint32_t i = 0; i < n; i++)
		status_ids_add(&ids, sds[i]->domid);
	if (ids.n)
		qsort(ids.v, ids.n, sizeof(*ids.v), status_id_cmp);
	all = xcalloc(ids.n ? ids.n : 1, sizeof(*all));
	for (uint32_t i = 0; i < ids.n; i++)
		if ((i == 0 || ids.v[i] != ids.v[i - 1]) &&
		    status_dom_exists(srv, ids.v[i]))
			status_dom_fill(srv, now, ids.v[i], &all[uniq++]);
	qsort(all, uniq, sizeof(*all), status_top_cmp);
	shown = uniq < a->top ? uniq : a->top;
	if (a->json) {
		jw_open(&w, NULL, '{');
		jw_u64(&w, "domains", uniq);
		jw_u64(&w, "window_s", shown ? all[0].win.seconds : 0);
		jw_open(&w, "top", '[');
		for (uint32_t i = 0; i < shown; i++) {
			size_t before = b->len;
			bool comma = w.comma;

			jw_open(&w, NULL, '{');
			status_dom_json_common(&all[i], &w);
			jw_close(&w, '}');
			/* Huge counters could overflow the payload: fewer. */
			if (b->len > STATUS_JSON_BUDGET) {
				b->len = before;
				w.comma = comma;
				shown = i;
				break;
			}
		}
		jw_close(&w, ']');
		jw_u64(&w, "shown", shown);
		jw_close(&w, '}');
	} else {
		buf_printf(b, "%u domains, the %u busiest:\n", uniq, shown);
		buf_printf(b, "%5s %7s %9s %7s %4s %9s %8s %7s %s\n", "domid",
			   "nodes", "memory", "watches", "txns", "req/s",
			   "eagain/s", "refused", "throttled");
		for (uint32_t i = 0; i < shown; i++) {
			const struct status_dom *sd = &all[i];
			double secs = sd->win.seconds ? sd->win.seconds : 1;

			buf_printf(b, "%5u %7u %9" PRIu64 " %7u %4u %9.2f "
				   "%8.2f %7" PRIu64 " %s\n", sd->domid,
				   sd->use.nodes, sd->use.memory,
				   sd->use.watches, sd->use.transactions,
				   (double)sd->win.requests / secs,
				   (double)sd->win.eagain / secs, sd->refused,
				   stats_pause_name(sd->paused));
		}
	}
	free(all);
	free(ids.v);
	return 0;
}

/* ---- the command ----------------------------------------------------------- */

int
op_control_status(struct op_req *r, int argc, const char **argv)
{
	struct status_args a;
	struct status_all all;
	struct jw w = { &r->reply, false };
	int rc;

	rc = status_parse(argc, argv, &a);
	if (rc < 0)
		return rc;
	/* Servers built without counters (unit tests, fuzzers). */
	if (r->srv->stats == NULL || r->srv->loop == NULL)
		return -ENOSYS;
	if (a.what == STATUS_DOMAIN)
		rc = status_domain(r->srv, &a, &r->reply);
	else if (a.what == STATUS_TOP)
		rc = status_top(r->srv, &a, &r->reply);
	else if (a.json) {
		status_all_fill(r->srv, &all);
		jw_open(&w, NULL, '{');
		status_all_json(r->srv, &all, &w);
		jw_close(&w, '}');
	} else {
		status_all_fill(r->srv, &all);
		status_all_text(r->srv, &all, &r->reply);
	}
	if (rc == 0)
		buf_add(&r->reply, "", 1);
	return rc;
}
