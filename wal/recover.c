/*
 * Repairing the log after a scan, so that it holds exactly what was
 * replayed: a torn tail is cut off; a corrupt segment and every segment
 * after it are moved, never deleted, into <dir>/damaged-<time>/ for
 * lxenstore-inspect, and the daemon goes on from the last good record.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "wal/wal-int.h"

static int
wal_cut_tail(const char *file, uint64_t off)
{
	int fd, rc = 0;

	if (off < WAL_HDR_SIZE)
		return unlink(file) < 0 ? -errno : 0;
	fd = open(file, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)off) < 0 || fsync(fd) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

static int
wal_copy_file(const char *src, const char *dst)
{
	char block[65536];
	int in = open(src, O_RDONLY | O_CLOEXEC), out = -1, rc = 0;
	ssize_t n;

	if (in < 0)
		return -errno;
	out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (out < 0) {
		rc = -errno;
		goto done;
	}
	while ((n = read(in, block, sizeof(block))) > 0)
		if (write(out, block, (size_t)n) != n) {
			rc = errno ? -errno : -EIO;
			goto done;
		}
	if (n < 0 || fsync(out) < 0)
		rc = -errno;
done:
	if (out >= 0)
		close(out);
	close(in);
	return rc;
}

/*
 * Keeps a copy of the damaged segment and moves every later one into a new
 * directory; the damaged segment itself is cut at the bad record, so the
 * good records before it stay in the log that was just replayed.
 */
static int
wal_move_aside(const char *dir, const char *bad, uint64_t bad_off,
	       char **moved_to)
{
	struct wal_seg *segs;
	uint32_t n;
	bool moving = false;
	char *to;
	int rc = wal_seg_list(dir, &segs, &n);

	if (rc < 0)
		return rc;
	to = make_damaged_dir(dir);
	for (uint32_t i = 0; i < n && rc == 0; i++) {
		const char *base = strrchr(segs[i].path, '/') + 1;
		bool first = !moving && strcmp(segs[i].path, bad) == 0;
		char *dst;

		moving |= first;
		if (!moving)
			continue;
		dst = xasprintf("%s/%s", to, base);
		if (first && bad_off >= WAL_HDR_SIZE) {
			rc = wal_copy_file(segs[i].path, dst);
			if (rc == 0)
				rc = wal_cut_tail(segs[i].path, bad_off);
		} else if (rename(segs[i].path, dst) < 0) {
			rc = -errno;
		}
		free(dst);
	}
	if (rc == 0)
		rc = fsync_dir(to);
	if (rc == 0)
		rc = fsync_dir(dir);
	wal_seg_list_free(segs, n);
	*moved_to = to;
	return rc;
}

/*
 * A daemon that died left space reserved beyond the end of its segments:
 * truncating a file to its own length gives it back.
 */
static void
wal_release_reserve(const char *dir)
{
	struct wal_seg *segs;
	uint32_t n;
	struct stat st;

	if (wal_seg_list(dir, &segs, &n) < 0)
		return;
	for (uint32_t i = 0; i < n; i++)
		if (stat(segs[i].path, &st) == 0 &&
		    (uint64_t)st.st_blocks * 512 > (uint64_t)st.st_size + 65536)
			(void)truncate(segs[i].path, st.st_size);
	wal_seg_list_free(segs, n);
}

int
wal_recover(const char *dir, uint64_t after_seq, wal_frame_fn fn, void *arg,
	    struct wal_recovery *out)
{
	int rc;

	memset(out, 0, sizeof(*out));
	rc = wal_scan(dir, after_seq, fn, arg, &out->scan);
	if (rc < 0)
		return rc;
	switch (out->scan.damage) {
	case WAL_CLEAN:
		wal_release_reserve(dir);
		break;
	case WAL_TORN_TAIL:
		rc = wal_cut_tail(out->scan.bad_file, out->scan.bad_offset);
		if (rc == 0)
			rc = fsync_dir(dir);
		out->truncated = rc == 0;
		break;
	case WAL_CORRUPT:
		rc = wal_move_aside(dir, out->scan.bad_file,
				    out->scan.bad_offset, &out->moved_to);
		break;
	}
	return rc;
}

void
wal_recovery_release(struct wal_recovery *r)
{
	wal_scan_release(&r->scan);
	free(r->moved_to);
	memset(r, 0, sizeof(*r));
}

int
wal_remove_covered(const char *dir, uint64_t upto, const struct wal *w)
{
	struct wal_seg *segs;
	uint32_t n;
	int rc = wal_seg_list(dir, &segs, &n);

	if (rc < 0)
		return rc;
	/* Segment i holds seqs first_seq(i) .. first_seq(i+1) - 1. */
	for (uint32_t i = 0; i + 1 < n; i++) {
		if (segs[i + 1].first_seq > upto + 1)
			break;
		if (w && strcmp(segs[i].path, wal_segment_path(w)) == 0)
			continue;
		if (unlink(segs[i].path) < 0 && errno != ENOENT)
			rc = -errno;
	}
	/* No directory sync: a removal lost to a host crash leaves a
	 * segment that a snapshot covers, which recovery skips and the next
	 * pruning removes again; syncing here would stall the loop. */
	wal_seg_list_free(segs, n);
	return rc;
}
