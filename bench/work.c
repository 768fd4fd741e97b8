/*
 * work: xsbench's workloads.
 *
 * Each workload is a setup (blocking, before the clock starts) and a small
 * state machine per connection driven by replies and watch events. Every
 * workload first makes sure the prefilled keys exist, so the tree holds at
 * least -n keys whatever runs, and the "nodes" column is always true.
 *
 * The tree (100 keys per directory keeps every directory listing small):
 *
 *   /bench/n/d<i/100>/k<i%100>   prefilled keys, i < -n; read/write/mixed
 *                                pick one uniformly at random
 *   /bench/n-count               how many keys are there (so a second run
 *                                on the same daemon does not refill)
 *   /bench/dir/<0..999>          the directory that "dir" lists; names of
 *                                at most 3 digits keep the reply (3,890
 *                                bytes) under the 4,096-byte payload limit
 *   /bench/t/<client>/x          one per client: uncontended transactions
 *   /bench/tc/x                  every client's: contended transactions
 *   /bench/cr/<client>/<n>       created and removed
 *   /bench/watch, /bench/watch/n watched, and written by the watch writer
 *
 * What one "op" is: one request for read, write, mixed, dir and crrm (a
 * create or a remove); one committed transaction (start, read, write,
 * commit, plus any retries) for txn and txn-contended; one event received
 * by one watcher for watch; one connect + read + close for churn.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/xsbench.h"

#define WORK_PATH_MAX	128
#define WORK_WATCH_PATH	"/bench/watch"
#define WORK_WATCH_NODE	"/bench/watch/n"
#define WORK_TXC_PATH	"/bench/tc/x"

enum work_tx_state {
	TX_START,
	TX_READ,
	TX_WRITE,
	TX_END,
	TX_ABORT,
};

void
work_key_path(uint64_t i, void *arg, char *out, size_t size)
{
	snprintf(out, size, "/bench/n/d%llu/k%llu",
		 (unsigned long long)(i / 100), (unsigned long long)(i % 100));
}

static void
work_dir_path(uint64_t i, void *arg, char *out, size_t size)
{
	snprintf(out, size, "/bench/dir/%llu", (unsigned long long)i);
}

static void
work_txn_path(uint64_t i, void *arg, char *out, size_t size)
{
	snprintf(out, size, "/bench/t/%llu/x", (unsigned long long)i);
}

/* The count stored at marker (0 if absent); -errno on other errors. */
static int
work_read_count(int fd, const char *marker, uint64_t *count)
{
	char buf[32];
	int rc;

	*count = 0;
	rc = client_call(fd, XS_READ, marker, NULL, 0, buf, sizeof(buf));
	if (rc == -ENOENT)
		return 0;
	if (rc < 0)
		return rc;
	*count = strtoull(buf, NULL, 10);
	return 0;
}

/* Makes sure entries [0, want) made by path_of exist, counted in marker. */
static int
work_ensure(struct bench *b, int fd, const char *marker, uint64_t want,
	    void (*path_of)(uint64_t, void *, char *, size_t))
{
	uint64_t have;
	char num[32];
	int rc;

	rc = work_read_count(fd, marker, &have);
	if (rc < 0 || have >= want)
		return rc;
	rc = client_write_many(fd, have, want - have, path_of, NULL,
			       b->value_size);
	if (rc < 0)
		return rc;
	snprintf(num, sizeof(num), "%llu", (unsigned long long)want);
	return client_call(fd, XS_WRITE, marker, num, strlen(num), NULL, 0);
}

int
work_prefill(struct bench *b, int fd)
{
	return work_ensure(b, fd, "/bench/n-count", b->nodes, work_key_path);
}

/* --- one request per op --------------------------------------------------- */

static void
work_simple_start(struct client *c)
{
	for (unsigned int i = 0; i < c->b->depth; i++)
		c->b->work->issue(c);
}

static void
work_simple_reply(struct client *c, const struct xsd_sockmsg *h,
		  const char *p, uint64_t lat_ns)
{
	struct bench *b = c->b;

	if (h->type == XS_ERROR)
		bench_error(b, "%s: client %u: %s", b->work->name, c->idx, p);
	else
		bench_op_done(b, lat_ns);
	if (!b->stopping)
		b->work->issue(c);
}

static void
work_read_issue(struct client *c)
{
	char path[WORK_PATH_MAX];

	work_key_path(bench_rand(c, c->b->nodes), NULL, path, sizeof(path));
	client_send(c, XS_READ, 0, path, NULL, 0);
}

static void
work_write_issue(struct client *c)
{
	char path[WORK_PATH_MAX];

	work_key_path(bench_rand(c, c->b->nodes), NULL, path, sizeof(path));
	client_send(c, XS_WRITE, 0, path, bench_value(c->b),
		    c->b->value_size);
}

static void
work_mixed_issue(struct client *c)
{
	if (bench_rand(c, 10) == 0)
		work_write_issue(c);
	else
		work_read_issue(c);
}

static int
work_dir_setup(struct bench *b, int fd)
{
	int rc = work_prefill(b, fd);

	if (rc == 0)
		rc = work_ensure(b, fd, "/bench/dir-count", b->dir_size,
				 work_dir_path);
	return rc;
}

static void
work_dir_issue(struct client *c)
{
	client_send(c, XS_DIRECTORY, 0, "/bench/dir", NULL, 0);
}

/* Even seq: create node seq/2; odd: remove it. In order per connection,
 * so with -p the creates and removes still pair up. */
static void
work_crrm_issue(struct client *c)
{
	char path[WORK_PATH_MAX];

	snprintf(path, sizeof(path), "/bench/cr/%u/%llu", c->idx,
		 (unsigned long long)(c->seq / 2));
	if (c->seq++ % 2 == 0)
		client_send(c, XS_WRITE, 0, path, bench_value(c->b),
			    c->b->value_size);
	else
		client_send(c, XS_RM, 0, path, NULL, 0);
}

static int
work_crrm_setup(struct bench *b, int fd)
{
	int rc = work_prefill(b, fd);

	/* Leftovers of an earlier run that was cut short. */
	if (rc == 0)
		rc = client_call(fd, XS_RM, "/bench/cr", NULL, 0, NULL, 0);
	return rc == -ENOENT ? 0 : rc;
}

/* --- transactions: start, read, write, commit; EAGAIN retries ----------- */

static int
work_txn_setup(struct bench *b, int fd)
{
	int rc = work_prefill(b, fd);

	if (rc == 0)
		rc = client_write_many(fd, 0, b->nclients, work_txn_path,
				       NULL, b->value_size);
	return rc;
}

static int
work_txc_setup(struct bench *b, int fd)
{
	int rc = work_prefill(b, fd);

	if (rc == 0)
		rc = client_call(fd, XS_WRITE, WORK_TXC_PATH, "0", 1, NULL, 0);
	return rc;
}

static void
work_txn_path_of(const struct client *c, char *path, size_t size)
{
	if (c->b->work->setup == work_txc_setup)
		snprintf(path, size, "%s", WORK_TXC_PATH);
	else
		work_txn_path(c->idx, NULL, path, size);
}

static void
work_txn_begin(struct client *c)
{
	if (c->b->stopping)
		return;
	/* A retry keeps the time of the first attempt: the op's latency is
	 * until it commits. */
	if (c->op_t0 == 0)
		c->op_t0 = mono_ns();
	c->state = TX_START;
	client_send(c, XS_TRANSACTION_START, 0, "", NULL, 0);
}

static void
work_txn_start(struct client *c)
{
	c->op_t0 = 0;
	work_txn_begin(c);
}

/* A failed step: EAGAIN is a conflict to retry, anything else an error. */
static void
work_txn_failed(struct client *c, const char *err)
{
	if (strcmp(err, "EAGAIN") == 0) {
		bench_retry(c->b);
	} else {
		bench_error(c->b, "%s: client %u: step %d: %s",
			    c->b->work->name, c->idx, c->state, err);
		c->op_t0 = 0;
	}
}

static void
work_txn_reply(struct client *c, const struct xsd_sockmsg *h, const char *p,
	       uint64_t lat_ns)
{
	bool failed = h->type == XS_ERROR;
	char path[WORK_PATH_MAX];

	work_txn_path_of(c, path, sizeof(path));
	switch (c->state) {
	case TX_START:
		if (failed) {
			work_txn_failed(c, p);
			work_txn_begin(c);
			return;
		}
		c->tx = (uint32_t)strtoul(p, NULL, 10);
		c->state = TX_READ;
		client_send(c, XS_READ, c->tx, path, NULL, 0);
		return;
	case TX_READ:
	case TX_WRITE:
		if (failed) {
			work_txn_failed(c, p);
			c->state = TX_ABORT;
			client_send(c, XS_TRANSACTION_END, c->tx, "F", NULL, 0);
			return;
		}
		if (c->state == TX_READ) {
			c->state = TX_WRITE;
			client_send(c, XS_WRITE, c->tx, path,
				    bench_value(c->b), c->b->value_size);
		} else {
			c->state = TX_END;
			client_send(c, XS_TRANSACTION_END, c->tx, "T", NULL, 0);
		}
		return;
	case TX_END:
		if (failed) {
			work_txn_failed(c, p);
		} else {
			bench_op_done(c->b, mono_ns() - c->op_t0);
			c->op_t0 = 0;
		}
		work_txn_begin(c);
		return;
	case TX_ABORT:
		work_txn_begin(c);
		return;
	}
}

/* --- watch fan-out: client 0 writes, clients 1..N watch -----------------
 *
 * Round k is the writer's k-th write; it is done when every watcher has
 * its event. Each watcher's events come in the order of the writes, so a
 * watcher's j-th event belongs to round j, and rounds complete in order.
 * The writer keeps at most -p rounds open. The event that a daemon fires
 * when a watch is set names the watched path itself, not the written
 * node, and is skipped.
 */

static int
work_watch_setup(struct bench *b, int fd)
{
	int rc = work_prefill(b, fd);

	if (rc == 0)
		rc = client_call(fd, XS_WRITE, WORK_WATCH_NODE, "0", 1, NULL, 0);
	return rc;
}

static void
work_watch_issue(struct bench *b)
{
	struct client *w = &b->clients[0];

	if (!b->w_armed || w->fd < 0)
		return;
	while (!b->stopping && b->w_sent - b->w_done < b->depth) {
		unsigned int slot = b->w_sent % CLIENT_MAX_DEPTH;

		b->w_left[slot] = b->w_watchers;
		b->w_ns[slot] = mono_ns();
		b->w_sent++;
		client_send(w, XS_WRITE, 0, WORK_WATCH_NODE, bench_value(b),
			    b->value_size);
	}
	client_flush(w);
}

static void
work_watch_start(struct client *c)
{
	char token[16];

	if (c->idx == 0)
		return;
	snprintf(token, sizeof(token), "w%u", c->idx);
	client_send(c, XS_WATCH, 0, WORK_WATCH_PATH, token, strlen(token) + 1);
}

static void
work_watch_reply(struct client *c, const struct xsd_sockmsg *h,
		 const char *p, uint64_t lat_ns)
{
	struct bench *b = c->b;

	if (h->type == XS_ERROR) {
		bench_error(b, "watch: client %u: %s", c->idx, p);
		return;
	}
	if (c->idx != 0 && ++b->w_watchers == b->nconns - 1) {
		b->w_armed = true;
		work_watch_issue(b);
	}
}

static void
work_watch_event(struct client *c, const char *p, uint32_t len)
{
	struct bench *b = c->b;
	unsigned int slot;

	if (strcmp(p, WORK_WATCH_PATH) == 0)
		return;
	if (c->idx == 0 || c->got >= b->w_sent) {
		bench_error(b, "watch: client %u: event %s without a write",
			    c->idx, p);
		return;
	}
	slot = c->got++ % CLIENT_MAX_DEPTH;
	bench_op_done(b, mono_ns() - b->w_ns[slot]);
	if (--b->w_left[slot] == 0) {
		b->w_done++;
		work_watch_issue(b);
	}
}

static uint64_t
work_watch_pending(const struct bench *b)
{
	return b->w_sent - b->w_done;
}

/* --- connect churn: connect, read one key, close ------------------------- */

static void
work_churn_start(struct client *c)
{
	c->op_t0 = mono_ns();
	client_send(c, XS_READ, 0, "/bench/n/d0/k0", NULL, 0);
}

static void
work_churn_reply(struct client *c, const struct xsd_sockmsg *h,
		 const char *p, uint64_t lat_ns)
{
	struct bench *b = c->b;
	int rc;

	if (h->type == XS_ERROR)
		bench_error(b, "churn: client %u: %s", c->idx, p);
	else
		bench_op_done(b, mono_ns() - c->op_t0);
	client_close(c);
	if (b->stopping)
		return;
	c->op_t0 = mono_ns();
	rc = client_connect(c);
	if (rc < 0) {
		bench_error(b, "churn: client %u: connect: %s", c->idx,
			    strerror(-rc));
		return;
	}
	client_send(c, XS_READ, 0, "/bench/n/d0/k0", NULL, 0);
}

/* --- the table ------------------------------------------------------------ */

static const struct work work_table[] = {
	{ "read", "read a random prefilled key", 0,
	  work_prefill, work_simple_start, work_read_issue,
	  work_simple_reply, NULL, NULL },
	{ "write", "write a random prefilled key", 0,
	  work_prefill, work_simple_start, work_write_issue,
	  work_simple_reply, NULL, NULL },
	{ "mixed", "90% read, 10% write, random prefilled keys", 0,
	  work_prefill, work_simple_start, work_mixed_issue,
	  work_simple_reply, NULL, NULL },
	{ "crrm", "create a node, then remove it (op: one request)", 0,
	  work_crrm_setup, work_simple_start, work_crrm_issue,
	  work_simple_reply, NULL, NULL },
	{ "dir", "list a directory of --dir-size children", 0,
	  work_dir_setup, work_simple_start, work_dir_issue,
	  work_simple_reply, NULL, NULL },
	{ "txn", "transaction: read+write own node, commit (op: commit)",
	  WORK_FIXED_DEPTH,
	  work_txn_setup, work_txn_start, NULL, work_txn_reply, NULL, NULL },
	{ "txn-contended",
	  "transaction on one node shared by all (op: commit; EAGAIN "
	  "retried, counted)", WORK_FIXED_DEPTH,
	  work_txc_setup, work_txn_start, NULL, work_txn_reply, NULL, NULL },
	{ "watch", "1 writer, -c watchers on its node (op: event received; "
	  "-p: rounds in flight)", WORK_EXTRA_CONN,
	  work_watch_setup, work_watch_start, NULL, work_watch_reply,
	  work_watch_event, work_watch_pending },
	{ "churn", "connect, read one key, close (op: all three)",
	  WORK_FIXED_DEPTH,
	  work_prefill, work_churn_start, NULL, work_churn_reply, NULL, NULL },
};

const struct work *
work_find(const char *name)
{
	for (size_t i = 0; i < LXS_ARRAY_SIZE(work_table); i++)
		if (strcmp(work_table[i].name, name) == 0)
			return &work_table[i];
	return NULL;
}

void
work_list(FILE *f)
{
	for (size_t i = 0; i < LXS_ARRAY_SIZE(work_table); i++)
		fprintf(f, "  %-14s %s\n", work_table[i].name,
			work_table[i].what);
}
