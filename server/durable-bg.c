/*
 * The durability layer's threads beside the event loop (durable.c owns
 * the state they share, struct durable in durable-int.h, guarded by mu):
 *   - --sync=always: one fdatasync at a time for whatever the loop wrote
 *     meanwhile (group commit), reported back through an eventfd;
 *   - --sync=always: the spare segment of zeros the next segment takes
 *     (wal_spare_prepare), written ahead so the loop never waits for it;
 *   - every mode: pruning after a snapshot, since removing a full
 *     segment's blocks takes tens of ms.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "server/durable-int.h"
#include "snapshot/snapshot.h"
#include "wal/wal.h"

/* ---- the fdatasync thread (--sync=always) ------------------------------ */

static void *
durable_sync_main(void *arg)
{
	struct durable *d = arg;
	uint64_t one = 1;

	pthread_mutex_lock(&d->mu);
	for (;;) {
		int fd, rc;
		uint64_t seq;

		while (!d->quit && d->req_fd < 0)
			pthread_cond_wait(&d->cv, &d->mu);
		if (d->quit)
			break;
		fd = d->req_fd;
		seq = d->req_seq;
		d->req_fd = -1;
		pthread_mutex_unlock(&d->mu);
		rc = fdatasync(fd) < 0 ? -errno : 0;
		close(fd);
		pthread_mutex_lock(&d->mu);
		if (rc == 0 && seq > d->synced)
			d->synced = seq;
		else if (rc < 0)
			d->sync_err = rc;
		if (write(d->efd, &one, sizeof(one)) < 0) {
			/* The counter cannot overflow in practice; the loop
			 * also polls on its retry timer. */
		}
	}
	pthread_mutex_unlock(&d->mu);
	return NULL;
}

static void
durable_on_synced(struct loop *l, int fd, unsigned int mask, void *arg)
{
	struct durable *d = arg;
	uint64_t n;
	int err;

	if (read(fd, &n, sizeof(n)) < 0) {
		/* Spurious wake-up: nothing to collect. */
	}
	pthread_mutex_lock(&d->mu);
	if (d->synced > d->done)
		d->done = d->synced;
	err = d->sync_err;
	d->sync_err = 0;
	pthread_mutex_unlock(&d->mu);
	if (err) {
		/* The records are in the page cache but perhaps not on disk:
		 * hold their replies, refuse changes, and sync again on the
		 * next pass (durable_commit re-posts from d->done). */
		if (d->sync_failed == 0)
			log_err("durable: fdatasync: %s", strerror(-err));
		d->sync_failed = err;
		d->posted = d->done;
		if (d->retry_timer == 0)
			d->retry_timer = loop_add_timer(d->srv->loop,
				DURABLE_RETRY_MS, durable_retry, d);
	} else if (d->sync_failed && d->done == d->posted) {
		log_info("durable: fdatasync succeeds again");
		d->sync_failed = 0;
	}
}

void
durable_post_sync(struct durable *d, uint64_t seq)
{
	int fd = wal_dup_fd(d->wal);

	if (fd < 0) {
		log_err("durable: dup: %s", strerror(-fd));
		d->failed = fd;
		return;
	}
	pthread_mutex_lock(&d->mu);
	if (d->req_fd >= 0)
		close(d->req_fd);
	d->req_fd = fd;
	d->req_seq = seq;
	pthread_cond_signal(&d->cv);
	pthread_mutex_unlock(&d->mu);
	d->posted = seq;
}

int
durable_start_thread(struct durable *d)
{
	int rc;

	d->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (d->efd < 0)
		return -errno;
	rc = loop_add_fd(d->srv->loop, d->efd, LOOP_READ, durable_on_synced, d);
	if (rc < 0)
		return rc;
	rc = -pthread_create(&d->thread, NULL, durable_sync_main, d);
	if (rc == 0)
		d->thread_on = true;
	return rc;
}

/* ---- the spare segment (--sync=always) ------------------------------------ */

/*
 * An fdatasync after appending commits the file's new size and extents
 * through the journal; over blocks already written it flushes the data
 * alone, about a third faster here (docs/BENCHMARKS.md). So segments are
 * written ahead full of zeros by this thread, never by the loop.
 */
static void *
durable_spare_main(void *arg)
{
	struct durable *d = arg;

	pthread_mutex_lock(&d->mu);
	for (;;) {
		int rc;

		while (!d->quit && !d->spare_want)
			pthread_cond_wait(&d->spare_cv, &d->mu);
		if (d->quit)
			break;
		d->spare_want = false;
		pthread_mutex_unlock(&d->mu);
		rc = wal_spare_prepare(d->cfg.state_dir,
				       d->cfg.segment_bytes + DURABLE_SPARE_SLACK);
		pthread_mutex_lock(&d->mu);
		d->spare_ready = rc == 0;
		d->spare_err = rc;
	}
	pthread_mutex_unlock(&d->mu);
	return NULL;
}

static void
durable_want_spare(struct durable *d)
{
	pthread_mutex_lock(&d->mu);
	d->spare_ready = false;
	d->spare_want = true;
	pthread_cond_signal(&d->spare_cv);
	pthread_mutex_unlock(&d->mu);
}

/*
 * After a write, with nothing pending: asks for a new spare once the
 * writer took one, and moves to the spare when the segment being written
 * is an appended one (after a start or when a spare was missing).
 */
void
durable_spare_tick(struct durable *d)
{
	bool ready;
	int err;

	if (!d->spare_on || d->hold || wal_has_pending(d->wal))
		return;
	if (wal_spares_used(d->wal) != d->spares_seen) {
		d->spares_seen = wal_spares_used(d->wal);
		durable_want_spare(d);
		return;
	}
	if (wal_prezeroed(d->wal) || d->spare_misses >= DURABLE_SPARE_TRIES)
		return;
	pthread_mutex_lock(&d->mu);
	ready = d->spare_ready;
	err = d->spare_err;
	d->spare_err = 0;
	pthread_mutex_unlock(&d->mu);
	if (err)
		log_warn("durable: preparing a spare log segment: %s",
			 strerror(-err));
	if (!ready)
		return;
	(void)wal_rotate(d->wal);
	if (wal_spares_used(d->wal) == d->spares_seen) {
		d->spare_misses++;
		durable_want_spare(d);
	}
}

int
durable_start_spare(struct durable *d)
{
	int rc = -pthread_create(&d->spare_thread, NULL, durable_spare_main, d);

	if (rc == 0) {
		d->spare_on = true;
		d->spares_seen = wal_spares_used(d->wal);
		durable_want_spare(d);
	}
	return rc;
}

/* ---- pruning ---------------------------------------------------------------- */

/*
 * Keeps two snapshots and the log from the older one on. Runs beside the
 * loop: the segment being written is the newest, which is never removed
 * (wal_remove_covered keeps the last one it lists).
 */
static void *
durable_prune_main(void *arg)
{
	struct durable *d = arg;
	uint64_t oldest;
	int rc;

	rc = snap_prune(d->cfg.state_dir, 2, &oldest);
	if (rc == 0 && oldest)
		rc = wal_remove_covered(d->cfg.state_dir, oldest, NULL);
	if (rc < 0)
		log_warn("durable: pruning %s: %s", d->cfg.state_dir,
			 strerror(-rc));
	pthread_mutex_lock(&d->mu);
	d->prune_running = false;
	pthread_mutex_unlock(&d->mu);
	return NULL;
}

/* Whether the pruning thread still runs; joins it once it is done. */
bool
durable_prune_busy(struct durable *d)
{
	bool busy;

	if (!d->prune_on)
		return false;
	pthread_mutex_lock(&d->mu);
	busy = d->prune_running;
	pthread_mutex_unlock(&d->mu);
	if (!busy) {
		pthread_join(d->prune_thread, NULL);
		d->prune_on = false;
	}
	return busy;
}

void
durable_prune_wait(struct durable *d)
{
	if (d->prune_on)
		pthread_join(d->prune_thread, NULL);
	d->prune_on = false;
}

void
durable_prune_start(struct durable *d)
{
	d->prune_running = true;
	d->prune_on = pthread_create(&d->prune_thread, NULL,
				     durable_prune_main, d) == 0;
	if (!d->prune_on)
		durable_prune_main(d);
}

/* ---- stopping ----------------------------------------------------------------- */

void
durable_threads_stop(struct durable *d)
{
	pthread_mutex_lock(&d->mu);
	d->quit = true;
	pthread_cond_signal(&d->cv);
	pthread_cond_signal(&d->spare_cv);
	pthread_mutex_unlock(&d->mu);
	if (d->thread_on)
		pthread_join(d->thread, NULL);
	if (d->spare_on)
		pthread_join(d->spare_thread, NULL);
	durable_prune_wait(d);
	if (d->req_fd >= 0)
		close(d->req_fd);
	if (d->efd >= 0) {
		loop_del_fd(d->srv->loop, d->efd);
		close(d->efd);
	}
}
