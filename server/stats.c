/*
 * stats: the counters behind CONTROL status, and the rate-limited log of
 * quota refusals and throttled domains.
 *
 * Cost per request (stats_count): one slot index, a compare, increments;
 * an error reply adds a scan of STATS_NERR errnos. No allocation, no
 * clock read: the time is the loop's last wake-up (loop_time_ms), so a
 * request is counted in the second its wait returned.
 *
 * Slots: slot i of a ring holds second sec where sec % STATS_SLOTS == i; a
 * slot holding an older second is zeroed before it counts again. A window
 * sums the slots whose second lies in (now - STATS_WINDOW, now]; slots
 * left over from earlier seconds drop out by their sec, never by clearing.
 *
 * Domains: a struct stats_dom lives while connections of the domain hold a
 * reference (conn.c takes one per connection), so a released domain takes
 * its counters with it; dom0's stay for the daemon's life, as socket
 * clients come and go.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server/server-int.h"

/* The errnos of the wire protocol, each counted on its own; index 0 is
 * every other value. */
static const int stats_errnos[STATS_NERR] = {
	0, EINVAL, EACCES, EEXIST, EISDIR, ENOENT, ENOMEM, ENOSPC, EIO,
	ENOTEMPTY, ENOSYS, EROFS, EBUSY, EAGAIN, EISCONN, E2BIG, EPERM,
};

struct stats {
	uint64_t start_ms;
	uint64_t start_real_ns;
	uint64_t requests;
	uint64_t err_total[STATS_NERR];
	struct stats_gslot ring[STATS_SLOTS];
	struct stats_dom **doms;	/* sorted by domid */
	uint32_t ndoms, capdoms;
	uint64_t lu_count, lu_real_ns, lu_pause_ns;
};

struct stats *
stats_new(uint64_t now_ms, uint64_t real_ns)
{
	struct stats *st = xcalloc(1, sizeof(*st));

	st->start_ms = now_ms;
	st->start_real_ns = real_ns;
	/* Second 0 must not look like a slot already in use. */
	for (unsigned int i = 0; i < STATS_SLOTS; i++)
		st->ring[i].sec = UINT32_MAX;
	return st;
}

void
stats_free(struct stats *st)
{
	if (st == NULL)
		return;
	for (uint32_t i = 0; i < st->ndoms; i++)
		free(st->doms[i]);
	free(st->doms);
	free(st);
}

static int
stats_dom_cmp(const void *pa, const void *pb)
{
	const struct stats_dom *x = *(struct stats_dom *const *)pa;
	const struct stats_dom *y = *(struct stats_dom *const *)pb;

	return x->domid < y->domid ? -1 : x->domid > y->domid;
}

/* The slot of domid in st->doms, or NULL. Only on connection and status
 * paths: never per request. */
static struct stats_dom **
stats_dom_slot(const struct stats *st, uint32_t domid)
{
	struct stats_dom key = { .domid = domid }, *pkey = &key;

	if (st == NULL || st->ndoms == 0)
		return NULL;
	return bsearch(&pkey, st->doms, st->ndoms, sizeof(*st->doms),
		       stats_dom_cmp);
}

struct stats_dom *
stats_dom_find(const struct stats *st, uint32_t domid)
{
	struct stats_dom **p = stats_dom_slot(st, domid);

	return p ? *p : NULL;
}

struct stats_dom *
stats_dom_ref(struct stats *st, uint32_t domid)
{
	struct stats_dom *d;

	if (st == NULL)
		return NULL;
	d = stats_dom_find(st, domid);
	if (d) {
		d->refs++;
		return d;
	}
	if (st->ndoms == st->capdoms) {
		st->capdoms = st->capdoms ? st->capdoms * 2 : 8;
		st->doms = xrealloc(st->doms,
				    st->capdoms * sizeof(*st->doms));
	}
	d = xcalloc(1, sizeof(*d));
	d->domid = domid;
	d->refs = 1;
	for (unsigned int k = 0; k < STATS_SLOTS; k++)
		d->ring[k].sec = UINT32_MAX;
	st->doms[st->ndoms++] = d;
	qsort(st->doms, st->ndoms, sizeof(*st->doms), stats_dom_cmp);
	return d;
}

void
stats_dom_unref(struct stats *st, struct stats_dom *d)
{
	struct stats_dom **p;

	if (st == NULL || d == NULL || --d->refs != 0 || d->domid == 0)
		return;
	p = stats_dom_slot(st, d->domid);
	if (p == NULL)
		return;
	st->ndoms--;
	memmove(p, p + 1, (size_t)(st->doms + st->ndoms - p) * sizeof(*p));
	free(d);
}

struct stats_dom *const *
stats_doms(const struct stats *st, uint32_t *n)
{
	*n = st ? st->ndoms : 0;
	return st ? st->doms : NULL;
}

static unsigned int
stats_err_index(int err)
{
	for (unsigned int i = 1; i < STATS_NERR; i++)
		if (stats_errnos[i] == err)
			return i;
	return 0;
}

int
stats_err_errno(unsigned int i)
{
	return i < STATS_NERR ? stats_errnos[i] : 0;
}

void
stats_count(struct stats *st, struct stats_dom *d, uint64_t now_ms, int rc)
{
	uint32_t sec = (uint32_t)(now_ms / 1000);
	struct stats_gslot *g = &st->ring[sec % STATS_SLOTS];
	unsigned int e;

	if (g->sec != sec) {
		memset(g, 0, sizeof(*g));
		g->sec = sec;
	}
	g->requests++;
	st->requests++;
	if (rc < 0) {
		e = stats_err_index(-rc);
		g->err[e]++;
		st->err_total[e]++;
	}
	if (d == NULL)
		return;
	struct stats_slot *s = &d->ring[sec % STATS_SLOTS];

	if (s->sec != sec) {
		memset(s, 0, sizeof(*s));
		s->sec = sec;
	}
	s->requests++;
	d->requests++;
	if (rc < 0) {
		s->errors++;
		d->errors++;
	}
	if (rc == -EAGAIN) {
		s->eagain++;
		d->eagain++;
	}
}

/* Whether slot second sec is in the window ending at now. */
static bool
stats_in_window(uint32_t sec, uint32_t now)
{
	return sec != UINT32_MAX && sec <= now && now - sec < STATS_WINDOW;
}

void
stats_window(const struct stats *st, const struct stats_dom *d,
	     uint64_t now_ms, struct stats_window *out)
{
	uint32_t now = (uint32_t)(now_ms / 1000);
	uint64_t up = now_ms >= st->start_ms ? now_ms - st->start_ms : 0;

	memset(out, 0, sizeof(*out));
	/* A daemon up for less than a minute divides by what it has seen. */
	out->seconds = up / 1000 + 1 < STATS_WINDOW ?
		       (uint32_t)(up / 1000 + 1) : STATS_WINDOW;
	for (unsigned int i = 0; i < STATS_SLOTS; i++) {
		if (d) {
			const struct stats_slot *s = &d->ring[i];

			if (!stats_in_window(s->sec, now))
				continue;
			out->requests += s->requests;
			out->errors += s->errors;
			out->eagain += s->eagain;
			continue;
		}
		const struct stats_gslot *g = &st->ring[i];

		if (!stats_in_window(g->sec, now))
			continue;
		out->requests += g->requests;
		for (unsigned int e = 0; e < STATS_NERR; e++) {
			out->err[e] += g->err[e];
			out->errors += g->err[e];
		}
		out->eagain += g->err[stats_err_index(EAGAIN)];
	}
}

void
stats_summary(const struct stats *st, struct stats_summary *out)
{
	out->start_ms = st->start_ms;
	out->start_real_ns = st->start_real_ns;
	out->requests = st->requests;
	memcpy(out->err, st->err_total, sizeof(out->err));
	out->lu_count = st->lu_count;
	out->lu_real_ns = st->lu_real_ns;
	out->lu_pause_ns = st->lu_pause_ns;
}

const char *
stats_pause_name(enum conn_pause why)
{
	switch (why) {
	case CONN_PAUSE_NONE:
		return "no";
	case CONN_PAUSE_OUTPUT:
		return "output";
	case CONN_PAUSE_OUTSTANDING:
		return "outstanding";
	case CONN_PAUSE_MEMORY:
		return "memory";
	case CONN_PAUSE_COUNT:
		break;
	}
	return "?";
}

/* The suffix of a log line after skipped lines, "" for none. */
static const char *
stats_log_skipped(uint64_t skipped, char *buf, size_t size)
{
	if (skipped == 0)
		return "";
	snprintf(buf, size, " (%" PRIu64 " more not logged in the last %u s)",
		 skipped, STATS_LOG_INTERVAL_MS / 1000);
	return buf;
}

/*
 * Whether event k of d may be logged now; *skipped gets how many were not
 * since the last line. Without counters (d NULL) everything is logged.
 */
static bool
stats_log_due(struct stats_dom *d, unsigned int k, uint64_t now_ms,
	      uint64_t *skipped)
{
	*skipped = 0;
	if (d == NULL)
		return true;
	if (d->logged_ms[k] != 0 &&
	    now_ms - d->logged_ms[k] < STATS_LOG_INTERVAL_MS) {
		d->unlogged[k]++;
		return false;
	}
	*skipped = d->unlogged[k];
	d->unlogged[k] = 0;
	/* 0 means "never logged": a clock at 0 ms still rate-limits. */
	d->logged_ms[k] = now_ms ? now_ms : 1;
	return true;
}

void
stats_refusal(struct stats *st, struct stats_dom *d, uint32_t domid,
	      uint64_t now_ms, enum store_quota q, uint64_t value,
	      uint32_t limit)
{
	uint64_t skipped;
	char more[80];

	if (d) {
		d->refused[q]++;
		d->refused_value[q] = value;
		d->refused_limit[q] = limit;
	}
	if (!stats_log_due(d, q, now_ms, &skipped))
		return;
	log_warn("domain %u: quota %s refused: %" PRIu64 " > %u%s", domid,
		 store_quota_name(q), value, limit,
		 stats_log_skipped(skipped, more, sizeof(more)));
}

void
stats_throttle(struct stats *st, struct stats_dom *d, uint32_t domid,
	       uint64_t now_ms, enum conn_pause why, uint64_t value,
	       uint64_t limit)
{
	static const char *const what[CONN_PAUSE_COUNT] = {
		[CONN_PAUSE_OUTPUT] = "bytes of output queued, bound",
		[CONN_PAUSE_OUTSTANDING] = "requests unanswered, quota",
		[CONN_PAUSE_MEMORY] = "bytes of memory with output, quota",
	};
	uint64_t skipped;
	char more[80];

	if ((unsigned int)why >= CONN_PAUSE_COUNT || why == CONN_PAUSE_NONE)
		return;
	if (d)
		d->throttled[why]++;
	if (!stats_log_due(d, STORE_QUOTA_COUNT + why, now_ms, &skipped))
		return;
	log_warn("domain %u: input throttled by %s: %" PRIu64 " %s %" PRIu64
		 "%s", domid, stats_pause_name(why), value, what[why], limit,
		 stats_log_skipped(skipped, more, sizeof(more)));
}

void
stats_note_live_update(struct stats *st, uint64_t real_ns, uint64_t pause_ns)
{
	if (st == NULL)
		return;
	st->lu_count++;
	st->lu_real_ns = real_ns;
	st->lu_pause_ns = pause_ns;
}

/* ---- hooks ---------------------------------------------------------------- */

static uint64_t
stats_now(const struct server *srv)
{
	return srv->loop ? loop_time_ms(srv->loop) : 0;
}

void
stats_request(struct conn *c, int rc)
{
	struct server *srv = c->srv;

	if (srv->stats)
		stats_count(srv->stats, c->st, stats_now(srv), rc);
}

void
stats_conn_paused(struct conn *c, enum conn_pause why)
{
	const struct store_caller *who = store_conn_caller(c->sc);
	struct server *srv = c->srv;
	uint64_t value = 0, limit = 0;
	struct store_usage use;
	uint32_t q = 0;

	/* A dom0 client that reads slowly is not a domain misbehaving. */
	if (srv->stats == NULL || who->priv)
		return;
	switch (why) {
	case CONN_PAUSE_OUTPUT:
		value = c->out_bytes;
		limit = CONN_OUT_SOFT;
		break;
	case CONN_PAUSE_OUTSTANDING:
		store_quota_get(srv->store, who->domid,
				STORE_QUOTA_OUTSTANDING, false, &q);
		value = c->nreplies;
		limit = q;
		break;
	case CONN_PAUSE_MEMORY:
		store_quota_get(srv->store, who->domid, STORE_QUOTA_MEMORY,
				false, &q);
		store_usage(srv->store, who->domid, &use);
		value = use.memory + c->out_bytes;
		limit = q;
		break;
	default:
		return;
	}
	stats_throttle(srv->stats, c->st, who->domid, stats_now(srv), why,
		       value, limit);
}

void
stats_quota_refused(struct server *srv, uint32_t domid, enum store_quota q,
		    uint64_t value, uint32_t limit)
{
	if (srv->stats == NULL)
		return;
	stats_refusal(srv->stats, stats_dom_find(srv->stats, domid), domid,
		      stats_now(srv), q, value, limit);
}
