/*
 * durable internals: the state shared by durable.c (the log, snapshots,
 * the state directory) and durable-bg.c (its threads).
 */
#ifndef LXS_DURABLE_INT_H
#define LXS_DURABLE_INT_H

#include <pthread.h>

#include "server/server-int.h"
#include "snapshot/snapshot.h"
#include "wal/wal.h"

#define DURABLE_RETRY_MS	200
/* A spare is this much longer than a segment, so the group write that
 * fills a segment stays within its zeros. */
#define DURABLE_SPARE_SLACK	(1u << 20)
/* Spares the writer failed to take before giving up on them. */
#define DURABLE_SPARE_TRIES	3
/* How often, at most, a refused change is logged. */
#define DURABLE_LOG_EVERY_NS	(10ull * 1000000000u)

struct durable {
	struct server *srv;
	struct durable_config cfg;	/* strings owned */
	int lock_fd;
	struct wal *wal;		/* NULL with --sync=none */
	uint64_t tail;			/* last seq appended */
	uint64_t done;			/* last seq durable per the policy */
	int failed;			/* last write error, 0 when healthy */
	int sync_failed;		/* last fdatasync error, likewise */
	uint64_t retry_timer;
	uint64_t last_refusal_log;
	struct buf enc;

	/* --sync=always: the fdatasync thread. */
	pthread_t thread;
	bool thread_on;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int req_fd;			/* dup of the segment to sync, or -1 */
	uint64_t req_seq;
	uint64_t posted;		/* highest seq handed to the thread */
	uint64_t synced;		/* highest seq the thread synced */
	int sync_err;
	bool quit;
	int efd;

	/* --sync=always: the thread writing the next segment's zeros. */
	pthread_t spare_thread;
	bool spare_on;
	pthread_cond_t spare_cv;
	bool spare_want;		/* under mu: make a spare */
	bool spare_ready;		/* under mu: one is there */
	int spare_err;			/* under mu: the last attempt's */
	uint64_t spares_seen;		/* wal_spares_used when last asked */
	unsigned int spare_misses;

	/* Snapshots. */
	pid_t child;
	uint64_t child_seq;
	uint64_t child_start;
	uint64_t snap_seq;		/* newest installed snapshot */
	uint64_t snap_time;		/* CLOCK_REALTIME ns of it */
	uint64_t snap_duration;
	uint64_t snap_failures;
	uint64_t snap_last_try;		/* CLOCK_MONOTONIC ns */
	uint64_t log_bytes_at_snap;	/* bytes written when it was taken */
	uint64_t bytes_written;

	struct snap_recovery rec;
	char *boot_moved_to;
	/* The domain table as the log has it; snapshots write it. */
	struct wal_domtab *doms;
	bool hold;			/* live update: no snapshot, no prune */
	pthread_t prune_thread;
	bool prune_on;			/* prune_thread to be joined */
	bool prune_running;		/* under mu: it has not finished */
};

/* durable.c: the retry timer's callback (a failed write or sync). */
void durable_retry(struct loop *l, uint64_t id, void *arg);

/* durable-bg.c: the fdatasync thread and its eventfd (0 or -errno). */
int durable_start_thread(struct durable *d);
/* Hands seq (and everything written before it) to the fdatasync thread. */
void durable_post_sync(struct durable *d, uint64_t seq);
/* The spare thread (0 or -errno), and what the loop does about spares
 * after each write. */
int durable_start_spare(struct durable *d);
void durable_spare_tick(struct durable *d);
/* Pruning after a snapshot, in a thread (inline if none can start). */
void durable_prune_start(struct durable *d);
/* Whether pruning still runs (joins it once it is done); waiting for it. */
bool durable_prune_busy(struct durable *d);
void durable_prune_wait(struct durable *d);
/* Stops and joins every thread, closes the eventfd. */
void durable_threads_stop(struct durable *d);

#endif
