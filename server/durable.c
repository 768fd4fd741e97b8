/*
 * durable: the daemon's state directory, its log and its snapshots.
 *
 * Contract with the rest of the server:
 *   - every committed change reaches durable_mutation (store callback) or
 *     durable_quota, and is appended to the log buffer with the next seq;
 *   - every reply and event is tagged, when queued, with durable_tail():
 *     the last record it may depend on. conn_flush holds it until
 *     durable_done() has reached that seq. So no client observes a change
 *     a crash could lose, whatever the sync mode;
 *   - durable_commit runs in the before-sleep hook: all records of the
 *     iteration go out at once (copied into the mapped segment with
 *     --sync=write, the default, and then done; one write(2) with
 *     --sync=always, after which a thread runs one fdatasync for whatever
 *     was written meanwhile (group commit) while the loop goes on
 *     reading, and reports through an eventfd: durable-bg.c);
 *   - durable_check is asked before a request may change anything: while
 *     the log cannot take more (full disk, failing writes) the change is
 *     refused with ENOSPC/EIO before it is applied, and reads go on.
 *
 * Start: lock the directory, set a previous boot's state aside, rebuild
 * the store (snap_recover), open a new log segment after the last record.
 * Snapshots are written by a forked child when the log has grown; the log
 * is pruned once the older of the two kept snapshots covers it, by a
 * thread (durable-bg.c): removing a full segment takes tens of ms on a
 * file system that discards freed blocks.
 */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "server/durable-int.h"
#include "snapshot/snapshot.h"
#include "wal/wal.h"

const char *
durable_sync_name(enum durable_sync s)
{
	switch (s) {
	case DURABLE_SYNC_NONE:
		return "none";
	case DURABLE_SYNC_WRITE:
		return "write";
	case DURABLE_SYNC_ALWAYS:
		return "always";
	}
	return "?";
}

int
durable_sync_parse(const char *s, enum durable_sync *out)
{
	if (strcmp(s, "none") == 0)
		*out = DURABLE_SYNC_NONE;
	else if (strcmp(s, "write") == 0)
		*out = DURABLE_SYNC_WRITE;
	else if (strcmp(s, "always") == 0)
		*out = DURABLE_SYNC_ALWAYS;
	else
		return -EINVAL;
	return 0;
}

/* ---- state directory: lock and boot id --------------------------------- */

static int
durable_mkdirs(const char *dir)
{
	char *p = xstrdup(dir);
	int rc = 0;

	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			rc = -errno;
		*s = '/';
	}
	if (rc == 0 && mkdir(p, 0700) < 0 && errno != EEXIST)
		rc = -errno;
	free(p);
	return rc;
}

static char *
durable_read_line(const char *path)
{
	char buf[128];
	FILE *f = fopen(path, "re");
	char *nl;

	if (f == NULL)
		return NULL;
	if (fgets(buf, sizeof(buf), f) == NULL) {
		fclose(f);
		return xstrdup("");
	}
	fclose(f);
	nl = strchr(buf, '\n');
	if (nl)
		*nl = '\0';
	return xstrdup(buf);
}

/* Whether dir holds state (log segments or snapshots). */
static bool
durable_has_state(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	bool found = false;
	uint64_t seq;

	while (d && !found && (de = readdir(d)) != NULL)
		found = parse_seq_name(de->d_name, "wal-", ".log", &seq) ||
			parse_seq_name(de->d_name, "snap-", ".lxs", &seq);
	if (d)
		closedir(d);
	return found;
}

/* Moves everything but the lock into <dir>/prev-boot-<time>/. */
static int
durable_set_aside(struct durable *d, const char *why)
{
	const char *dir = d->cfg.state_dir;
	char stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	struct dirent *de;
	DIR *dd;
	char *to;
	int rc = 0;

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	to = xasprintf("%s/prev-boot-%s", dir, stamp);
	if (mkdir(to, 0700) < 0 && errno != EEXIST) {
		rc = -errno;
		log_err("durable: mkdir %s: %s", to, strerror(-rc));
		free(to);
		return rc;
	}
	dd = opendir(dir);
	while (dd && (de = readdir(dd)) != NULL) {
		char *src, *dst;

		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0 ||
		    strcmp(de->d_name, "lock") == 0 ||
		    strncmp(de->d_name, "prev-boot-", 10) == 0)
			continue;
		src = xasprintf("%s/%s", dir, de->d_name);
		dst = xasprintf("%s/%s", to, de->d_name);
		if (rename(src, dst) < 0 && rc == 0)
			rc = -errno;
		free(src);
		free(dst);
	}
	if (dd)
		closedir(dd);
	fsync_dir(to);
	fsync_dir(dir);
	if (rc < 0) {
		log_err("durable: setting aside the state in %s: %s", dir,
			strerror(-rc));
		free(to);
		return rc;
	}
	log_warn("durable: %s: the store of that boot was moved to %s; "
		 "starting with an empty store", why, to);
	d->boot_moved_to = to;
	return 0;
}

static int
durable_write_boot_id(const char *dir, const char *id)
{
	char *tmp = xasprintf("%s/boot-id.tmp", dir);
	char *path = xasprintf("%s/boot-id", dir);
	int fd, rc = 0;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || dprintf(fd, "%s\n", id) < 0 || fsync(fd) < 0)
		rc = -errno;
	if (fd >= 0)
		close(fd);
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	if (rc == 0)
		rc = fsync_dir(dir);
	free(tmp);
	free(path);
	return rc;
}

/*
 * A reboot kills every guest, and domain ids are reused: a store from
 * another boot describes domains that no longer exist. It is kept, not
 * used.
 */
static int
durable_check_boot(struct durable *d)
{
	const char *dir = d->cfg.state_dir;
	char *path = xasprintf("%s/boot-id", dir);
	char *now = durable_read_line(d->cfg.boot_id_file);
	char *then = durable_read_line(path);
	int rc = 0;

	free(path);
	if (now == NULL || now[0] == '\0') {
		rc = -errno ? -errno : -EINVAL;
		log_err("durable: cannot read the boot id from %s",
			d->cfg.boot_id_file);
		goto out;
	}
	if (then && strcmp(then, now) != 0) {
		char *why = xasprintf("state of boot %s, this is boot %s",
				      then, now);

		rc = durable_set_aside(d, why);
		free(why);
	} else if (then == NULL && durable_has_state(dir)) {
		rc = durable_set_aside(d, "state without a boot id");
	}
	if (rc == 0 && (then == NULL || strcmp(then, now) != 0))
		rc = durable_write_boot_id(dir, now);
out:
	free(now);
	free(then);
	return rc;
}

static int
durable_lock(struct durable *d)
{
	char *path = xasprintf("%s/lock", d->cfg.state_dir);
	int rc = 0;

	d->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (d->lock_fd < 0)
		rc = -errno;
	else if (flock(d->lock_fd, LOCK_EX | LOCK_NB) < 0)
		rc = errno == EWOULDBLOCK ? -EBUSY : -errno;
	if (rc == -EBUSY)
		log_err("durable: state directory %s is in use by another "
			"lxenstored", d->cfg.state_dir);
	else if (rc < 0)
		log_err("durable: %s: %s", path, strerror(-rc));
	free(path);
	return rc;
}

/* ---- open and close ------------------------------------------------------ */

static struct store *
durable_new_store(void *arg)
{
	return server_store_new(arg);
}

static void
durable_log_recovery(struct durable *d)
{
	const struct snap_recovery *r = &d->rec;
	const struct wal_scan *sc = &r->wal.scan;

	log_info("durable: recovered from %s (seq %" PRIu64 ") and %" PRIu64
		 " log records, up to seq %" PRIu64 ", in %" PRIu64 " ms",
		 r->used.path ? r->used.path : "no snapshot", r->used.seq,
		 r->records, r->last_seq, r->duration_ns / 1000000);
	if (r->rejected)
		log_err("durable: %u snapshot(s) did not load (%s)%s%s",
			r->rejected, r->rejected_why,
			r->moved_to ? "; moved to " : "",
			r->moved_to ? r->moved_to : "");
	if (sc->damage == WAL_TORN_TAIL)
		log_warn("durable: torn log tail cut off at %s offset %" PRIu64
			 " (%s)", sc->bad_file, sc->bad_offset,
			 sc->why ? sc->why : "");
	if (sc->damage == WAL_CORRUPT)
		log_err("durable: DAMAGED LOG at %s offset %" PRIu64
			": %s; the store goes up to seq %" PRIu64
			"; the damaged files were moved to %s", sc->bad_file,
			sc->bad_offset, sc->why ? sc->why : "",
			r->last_seq, r->wal.moved_to ? r->wal.moved_to : "?");
}

static struct durable *
durable_new(struct server *srv, const struct durable_config *cfg)
{
	struct durable *d = xcalloc(1, sizeof(*d));

	d->srv = srv;
	d->cfg = *cfg;
	d->cfg.state_dir = xstrdup(cfg->state_dir);
	d->cfg.boot_id_file = xstrdup(cfg->boot_id_file);
	d->lock_fd = -1;
	d->req_fd = -1;
	d->efd = -1;
	pthread_mutex_init(&d->mu, NULL);
	pthread_cond_init(&d->cv, NULL);
	pthread_cond_init(&d->spare_cv, NULL);
	srv->dur = d;
	return d;
}

/*
 * The log after seq: a new segment, or (live update) the old daemon's
 * segment continued; and the sync thread for --sync=always.
 */
static int
durable_start_log(struct durable *d, uint64_t seq, const char *segment,
		  const struct wal_pos *end)
{
	struct wal_config wc = { 0 };
	int rc;

	d->tail = d->done = d->posted = d->synced = seq;
	wc.dir = d->cfg.state_dir;
	wc.segment_bytes = d->cfg.segment_bytes;
	wc.no_sync = d->cfg.sync != DURABLE_SYNC_ALWAYS;
	wc.use_spare = d->cfg.sync == DURABLE_SYNC_ALWAYS;
	wc.map = d->cfg.sync == DURABLE_SYNC_WRITE;
	if (segment)
		rc = wal_adopt(&wc, segment, seq, end, &d->wal);
	else
		rc = wal_open(&wc, seq + 1, &d->wal);
	if (rc < 0) {
		log_err("durable: opening the log in %s: %s",
			d->cfg.state_dir, strerror(-rc));
		return rc;
	}
	if (d->cfg.sync == DURABLE_SYNC_ALWAYS) {
		rc = durable_start_thread(d);
		if (rc == 0)
			rc = durable_start_spare(d);
		if (rc < 0) {
			log_err("durable: sync thread: %s", strerror(-rc));
			return rc;
		}
	}
	d->snap_last_try = mono_ns();
	return 0;
}

int
durable_open(struct server *srv, const struct durable_config *cfg,
	     struct store **out)
{
	struct durable *d = durable_new(srv, cfg);
	struct store *s = NULL;
	int rc;

	if (cfg->sync == DURABLE_SYNC_NONE) {
		log_warn("durable: --sync=none: nothing is persisted, a crash "
			 "loses the whole store");
		d->doms = wal_domtab_new();
		*out = server_store_new(srv);
		return 0;
	}
	rc = durable_mkdirs(d->cfg.state_dir);
	if (rc < 0) {
		log_err("durable: mkdir %s: %s", d->cfg.state_dir,
			strerror(-rc));
		return rc;
	}
	rc = durable_lock(d);
	if (rc == 0)
		rc = durable_check_boot(d);
	if (rc < 0)
		return rc;
	rc = snap_recover(d->cfg.state_dir, durable_new_store, srv, UINT64_MAX,
			  true, &s, &d->rec);
	if (rc < 0) {
		log_err("durable: recovery from %s failed: %s",
			d->cfg.state_dir, strerror(-rc));
		return rc;
	}
	durable_log_recovery(d);
	d->doms = d->rec.domains;
	d->rec.domains = NULL;
	d->snap_seq = d->rec.used.seq;
	d->snap_time = d->rec.used.time_ns;
	rc = durable_start_log(d, d->rec.last_seq, NULL, NULL);
	if (rc < 0) {
		store_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

int
durable_adopt(struct server *srv, const struct durable_config *cfg,
	      int lock_fd, struct wal_domtab *doms, uint64_t seq,
	      const char *segment, const struct wal_pos *end)
{
	struct durable *d = durable_new(srv, cfg);
	struct snap_info *snaps = NULL;
	uint32_t nsnaps = 0;

	d->lock_fd = lock_fd;
	d->doms = doms ? doms : wal_domtab_new();
	if (snap_list(d->cfg.state_dir, &snaps, &nsnaps) == 0 && nsnaps) {
		d->snap_seq = snaps[0].seq;
		d->snap_time = snaps[0].time_ns;
	}
	snap_list_free(snaps, nsnaps);
	/* The old daemon's segment: no new file, no sync in the pause. */
	return durable_start_log(d, seq, segment, end);
}

const char *
durable_segment(const struct durable *d)
{
	return d->wal ? wal_segment_path(d->wal) : NULL;
}

int
durable_flush(struct durable *d, uint64_t *seq)
{
	int rc = 0;

	if (d->wal == NULL)
		return -ENOSYS;
	if (wal_has_pending(d->wal))
		rc = wal_write(d->wal);
	if (rc == 0 && d->cfg.sync == DURABLE_SYNC_ALWAYS)
		rc = wal_sync(d->wal);
	if (rc < 0)
		return rc;
	*seq = wal_written_seq(d->wal);
	return 0;
}

void
durable_hold(struct durable *d, bool hold)
{
	d->hold = hold;
	/* The new daemon must find every file it lists. */
	if (hold)
		durable_prune_wait(d);
	/* A fresh segment: the new daemon's last catch-up reads only what
	 * was written since it started. Without --sync=always nothing is
	 * synced for it: syncing a segment's worth of dirty pages would keep
	 * every client waiting (tens of ms). With it, the segment is synced
	 * already and the full rotation is cheap. */
	if (!hold || d->wal == NULL ||
	    (wal_has_pending(d->wal) && wal_write(d->wal) < 0))
		return;
	if (d->cfg.sync == DURABLE_SYNC_ALWAYS)
		(void)wal_rotate(d->wal);
	else
		(void)wal_rotate_light(d->wal);
}

const char *
durable_dir(const struct durable *d)
{
	return d->wal ? d->cfg.state_dir : NULL;
}

int
durable_lock_fd(const struct durable *d)
{
	return d->lock_fd;
}

void
durable_close(struct durable *d)
{
	if (d == NULL)
		return;
	durable_threads_stop(d);
	if (d->wal) {
		/* A clean stop leaves everything on disk. */
		(void)wal_write(d->wal);
		(void)wal_sync(d->wal);
		wal_close(d->wal);
	}
	if (d->child > 0)
		waitpid(d->child, NULL, 0);
	if (d->retry_timer)
		loop_del_timer(d->srv->loop, d->retry_timer);
	if (d->lock_fd >= 0)
		close(d->lock_fd);
	snap_recovery_release(&d->rec);
	wal_domtab_free(d->doms);
	buf_free(&d->enc);
	pthread_mutex_destroy(&d->mu);
	pthread_cond_destroy(&d->cv);
	pthread_cond_destroy(&d->spare_cv);
	free(d->boot_moved_to);
	free((char *)d->cfg.state_dir);
	free((char *)d->cfg.boot_id_file);
	d->srv->dur = NULL;
	free(d);
}

/* ---- records ------------------------------------------------------------ */

static void
durable_append(struct durable *d, uint16_t type)
{
	if (d->wal == NULL) {
		d->tail++;
		d->done = d->tail;
		return;
	}
	d->tail = wal_append(d->wal, type, d->enc.data, (uint32_t)d->enc.len);
}

void
durable_mutation(struct durable *d, const struct store_mutation *m)
{
	buf_reset(&d->enc);
	if (d->wal)
		wal_encode_mutation(m, &d->enc);
	durable_append(d, WAL_REC_MUTATION);
}

void
durable_quota(struct durable *d, uint32_t domid, int q, bool soft,
	      uint32_t value)
{
	struct wal_quota wq = {
		.global = domid == STORE_DOMID_GLOBAL,
		.domid = domid,
		.name = store_quota_name((enum store_quota)q),
		.value = value,
		.soft = soft,
	};

	buf_reset(&d->enc);
	if (d->wal)
		wal_encode_quota(&wq, &d->enc);
	durable_append(d, WAL_REC_QUOTA);
}

void
durable_domain(struct durable *d, const struct wal_domain_change *ch)
{
	int rc;

	if (d == NULL)
		return;
	/* Encoded first: ch may borrow strings of the table it changes. */
	buf_reset(&d->enc);
	if (d->wal)
		wal_encode_domain_change(ch, &d->enc);
	/* The live table takes the change exactly as replay will. */
	rc = wal_domtab_change(d->doms, ch);
	if (rc < 0) {
		log_err("durable: domain %u: %s does not apply to the domain "
			"table (%s); not logged", ch->domid,
			wal_domain_kind_name(ch->kind), strerror(-rc));
		return;
	}
	durable_append(d, WAL_REC_DOMAIN);
}

const struct wal_domtab *
durable_domains(const struct durable *d)
{
	return d ? d->doms : NULL;
}

uint64_t
durable_tail(const struct durable *d)
{
	return d ? d->tail : 0;
}

uint64_t
durable_done(const struct durable *d)
{
	return d ? d->done : 0;
}

int
durable_check(struct durable *d)
{
	uint64_t reserve;
	int rc;

	if (d == NULL || d->wal == NULL)
		return 0;
	rc = d->failed ? d->failed : d->sync_failed;
	if (rc == 0) {
		reserve = d->cfg.segment_bytes / 4;
		if (reserve > (1u << 20))
			reserve = 1u << 20;
		rc = wal_reserve(d->wal, reserve);
	}
	if (rc < 0 && mono_ns() - d->last_refusal_log > DURABLE_LOG_EVERY_NS) {
		d->last_refusal_log = mono_ns();
		log_err("durable: the log in %s cannot take changes (%s): "
			"refusing them, reads go on", d->cfg.state_dir,
			strerror(-rc));
	}
	if (rc == -ENOSPC || rc == -EDQUOT)
		return -ENOSPC;
	return rc < 0 ? -EIO : 0;
}

void
durable_retry(struct loop *l, uint64_t id, void *arg)
{
	struct durable *d = arg;

	/* The before-sleep hook that follows retries the write. */
	d->retry_timer = 0;
}

/* ---- snapshots ------------------------------------------------------------ */

static int
durable_snapshot_start(struct durable *d)
{
	uint64_t seq = wal_written_seq(d->wal);
	int rc;

	if (d->child > 0 || d->hold)
		return -EBUSY;
	if (wal_has_pending(d->wal))
		return -EAGAIN;
	/* Pruning removes snapshot temporary files (a crashed writer's):
	 * never beside a snapshot being written. */
	if (durable_prune_busy(d))
		return -EBUSY;
	d->snap_last_try = mono_ns();
	/* Records after seq go to a new segment, so the snapshot covers
	 * whole segments. */
	rc = wal_rotate(d->wal);
	if (rc == 0)
		rc = snap_write_background(d->srv->store, d->doms, seq,
					   d->cfg.state_dir, &d->child);
	if (rc < 0) {
		log_err("durable: starting a snapshot: %s", strerror(-rc));
		d->snap_failures++;
		return rc;
	}
	d->child_seq = seq;
	d->child_start = mono_ns();
	d->log_bytes_at_snap = d->bytes_written;
	return 0;
}

int
durable_snapshot_now(struct durable *d)
{
	if (d == NULL || d->wal == NULL)
		return -ENOSYS;
	if (wal_has_pending(d->wal) && wal_write(d->wal) < 0)
		return -EIO;
	durable_prune_wait(d);
	return durable_snapshot_start(d);
}

static void
durable_maybe_snapshot(struct durable *d)
{
	uint64_t records = wal_written_seq(d->wal) - d->snap_seq;
	uint64_t bytes = d->bytes_written - d->log_bytes_at_snap;
	uint64_t now = mono_ns();
	bool due;

	if (d->child > 0 || records == 0)
		return;
	/* After a failure, wait a while before the next attempt. */
	if (d->snap_failures &&
	    now - d->snap_last_try < 10ull * 1000000000u)
		return;
	due = (d->cfg.snap_records && records >= d->cfg.snap_records) ||
	      (d->cfg.snap_bytes && bytes >= d->cfg.snap_bytes) ||
	      (d->cfg.snap_seconds &&
	       now - d->snap_last_try >= d->cfg.snap_seconds * 1000000000u);
	if (due)
		(void)durable_snapshot_start(d);
}

void
durable_child_exited(struct durable *d)
{
	int status;

	if (d == NULL || d->child <= 0)
		return;
	if (waitpid(d->child, &status, WNOHANG) != d->child)
		return;
	d->child = 0;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		d->snap_failures++;
		log_err("durable: snapshot at seq %" PRIu64 " failed (status "
			"%d); the log is kept", d->child_seq, status);
		return;
	}
	d->snap_failures = 0;
	d->snap_seq = d->child_seq;
	d->snap_time = real_ns();
	d->snap_duration = mono_ns() - d->child_start;
	log_info("durable: snapshot at seq %" PRIu64 " written in %" PRIu64
		 " ms", d->snap_seq, d->snap_duration / 1000000);
	/* A new daemon may be reading the files being loaded. */
	if (d->hold)
		return;
	/* Still removing what the previous snapshot covered: the next
	 * snapshot's pruning removes this one's as well. */
	if (!durable_prune_busy(d))
		durable_prune_start(d);
}

/* ---- the barrier ---------------------------------------------------------- */

void
durable_commit(struct durable *d)
{
	uint64_t pending;
	int rc;

	if (d == NULL || d->wal == NULL)
		return;
	if (wal_has_pending(d->wal)) {
		pending = wal_pending_bytes(d->wal);
		rc = wal_write(d->wal);
		if (rc < 0) {
			if (d->failed == 0)
				log_err("durable: writing the log: %s; replies "
					"are held until it succeeds",
					strerror(-rc));
			d->failed = rc;
			if (d->retry_timer == 0)
				d->retry_timer = loop_add_timer(d->srv->loop,
					DURABLE_RETRY_MS, durable_retry, d);
			return;
		}
		if (d->failed)
			log_info("durable: the log takes records again");
		d->failed = 0;
		d->bytes_written += pending;
	}
	if (d->cfg.sync == DURABLE_SYNC_WRITE)
		d->done = wal_written_seq(d->wal);
	else if (wal_written_seq(d->wal) > d->posted)
		durable_post_sync(d, wal_written_seq(d->wal));
	durable_spare_tick(d);
	durable_maybe_snapshot(d);
}

void
durable_status(const struct durable *d, struct buf *out)
{
	const struct snap_recovery *r;

	if (d == NULL)
		return;
	buf_printf(out, "sync: %s\n", durable_sync_name(d->cfg.sync));
	if (d->wal == NULL)
		return;
	r = &d->rec;
	buf_printf(out, "state-dir: %s\n", d->cfg.state_dir);
	buf_printf(out, "log-seq: %" PRIu64 " appended, %" PRIu64
		   " durable\n", d->tail, d->done);
	buf_printf(out, "log-segment: %s (%" PRIu64 " bytes)\n",
		   wal_segment_path(d->wal), wal_segment_size(d->wal));
	buf_printf(out, "log-state: %s\n",
		   d->failed ? strerror(-d->failed) :
		   d->sync_failed ? strerror(-d->sync_failed) : "ok");
	buf_printf(out, "snapshot: seq %" PRIu64 ", %" PRIu64 " ms, %s\n",
		   d->snap_seq, d->snap_duration / 1000000,
		   d->child > 0 ? "writing a new one" : "idle");
	buf_printf(out, "recovery: snapshot seq %" PRIu64 " + %" PRIu64
		   " records = seq %" PRIu64 " in %" PRIu64 " ms\n",
		   r->used.seq, r->records, r->last_seq,
		   r->duration_ns / 1000000);
	if (r->wal.scan.damage == WAL_TORN_TAIL)
		buf_printf(out, "recovery-damage: torn tail cut at %s:%" PRIu64
			   "\n", r->wal.scan.bad_file, r->wal.scan.bad_offset);
	if (r->wal.scan.damage == WAL_CORRUPT)
		buf_printf(out, "recovery-damage: DAMAGED LOG at %s:%" PRIu64
			   " (%s), moved to %s\n", r->wal.scan.bad_file,
			   r->wal.scan.bad_offset,
			   r->wal.scan.why ? r->wal.scan.why : "",
			   r->wal.moved_to ? r->wal.moved_to : "?");
	if (r->rejected)
		buf_printf(out, "recovery-damage: %u snapshot(s) rejected (%s)%s%s\n",
			   r->rejected, r->rejected_why,
			   r->moved_to ? ", moved to " : "",
			   r->moved_to ? r->moved_to : "");
	if (d->boot_moved_to)
		buf_printf(out, "previous-boot-state: %s\n", d->boot_moved_to);
}

void
durable_info(const struct durable *d, struct durable_info *out)
{
	const struct snap_recovery *r;

	memset(out, 0, sizeof(*out));
	out->sync = DURABLE_SYNC_NONE;
	if (d == NULL)
		return;
	out->sync = d->cfg.sync;
	if (d->wal == NULL)
		return;
	r = &d->rec;
	out->logging = true;
	out->state_dir = d->cfg.state_dir;
	out->tail = d->tail;
	out->done = d->done;
	out->segment = wal_segment_path(d->wal);
	out->segment_bytes = wal_segment_size(d->wal);
	out->bytes_written = d->bytes_written;
	out->error = d->failed ? d->failed : d->sync_failed;
	out->snap_seq = d->snap_seq;
	out->snap_time_ns = d->snap_seq ? d->snap_time : 0;
	out->snap_duration_ns = d->snap_duration;
	out->snap_writing = d->child > 0;
	out->snap_failures = d->snap_failures;
	out->rec_snap_seq = r->used.seq;
	out->rec_records = r->records;
	out->rec_last_seq = r->last_seq;
	out->rec_duration_ns = r->duration_ns;
	out->rec_torn_tail = r->wal.scan.damage == WAL_TORN_TAIL;
	if (r->wal.scan.damage == WAL_CORRUPT)
		out->rec_log_moved_to = r->wal.moved_to;
	out->rec_snap_rejected = r->rejected;
	out->rec_snap_moved_to = r->moved_to;
	out->boot_moved_to = d->boot_moved_to;
}
