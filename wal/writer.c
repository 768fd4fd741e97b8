/*
 * The log writer. Invariants:
 *   - w->size is the end of the last complete frame in the current segment;
 *     a failed write is cut back to it, so a segment never keeps a partial
 *     frame from a running daemon;
 *   - records are buffered in w->pend in sequence order and leave it only
 *     when wal_write handed all of them to the kernel;
 *   - a segment made from the spare, or reserved for mapping (prezero !=
 *     0), is zeros from w->size to prezero, its file's size; records are
 *     written over them, with write(2) at the file position (kept at
 *     w->size) or, with map, copied through w->win.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wal/wal-int.h"

struct wal {
	char *dir;
	const struct wal_io *io;
	uint64_t segment_bytes;
	int fd;
	char *path;
	uint32_t salt;
	uint64_t size;
	uint64_t reserved;	/* bytes of the segment reserved on disk */
	bool no_reserve;	/* the file system cannot reserve space */
	uint64_t next_seq;
	uint64_t written_seq;
	struct buf pend;
	bool light;		/* this rotation: no sync, no reservation */
	bool no_sync;		/* wal_config.no_sync */
	bool use_spare;		/* wal_config.use_spare */
	bool map;		/* wal_config.map */
	struct wal_window win;
	uint64_t prezero;	/* zeros up to here, 0: appended to */
	uint64_t spares_used;
};

/* Room past the rotation size, so the group that fills a segment fits. */
#define WAL_MAP_SLACK	(1u << 20)

static ssize_t
wal_libc_write(int fd, const void *buf, size_t len)
{
	return write(fd, buf, len);
}

const struct wal_io wal_io_libc = {
	.write = wal_libc_write,
	.fdatasync = fdatasync,
	.ftruncate = ftruncate,
};

static uint32_t
wal_random_salt(void)
{
	uint32_t salt;

	if (getrandom(&salt, sizeof(salt), 0) != sizeof(salt)) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		salt = (uint32_t)ts.tv_nsec ^ (uint32_t)getpid();
	}
	return salt;
}

static int
wal_write_all(const struct wal_io *io, int fd, const void *p, size_t len)
{
	const char *c = p;

	while (len) {
		ssize_t n = io->write(fd, c, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		c += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Closes the current segment: its records are synced, and the space
 * reserved beyond them is given back (a closed segment never grows).
 */
static void
wal_segment_close(struct wal *w)
{
	/* Zeros after the records end a segment as well; giving back the
	 * blocks of a spare costs tens of ms (online discard). */
	wal_window_drop(&w->win);
	if (!w->prezero)
		(void)w->io->ftruncate(w->fd, (off_t)w->size);
	if (!w->light && !w->no_sync)
		(void)w->io->fdatasync(w->fd);
	close(w->fd);
	w->fd = -1;
}

/* Reserves the current segment up to at least size + bytes. */
static int
wal_reserve_space(struct wal *w, uint64_t bytes)
{
	uint64_t want = w->size + bytes;

	if (w->no_reserve || want <= w->reserved || want <= w->prezero)
		return 0;
	if (want < w->segment_bytes)
		want = w->segment_bytes;
	if (fallocate(w->fd, FALLOC_FL_KEEP_SIZE, 0, (off_t)want) < 0) {
		if (errno == EOPNOTSUPP || errno == ENOSYS) {
			w->no_reserve = true;
			return 0;
		}
		return -errno;
	}
	w->reserved = want;
	return 0;
}

/*
 * Makes the spare the segment at path: its header is written and synced
 * first, so that no segment file ever exists without one. Returns the
 * open file positioned after the header, with *size its size, or -1 (no
 * spare, or it failed: the caller creates the segment as usual).
 */
static int
wal_take_spare(struct wal *w, const char *path,
	       const unsigned char hdr[WAL_HDR_SIZE], uint64_t *size)
{
	char *spare = xasprintf("%s/" WAL_SPARE_NAME, w->dir);
	struct stat st;
	int fd = open(spare, O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		goto out;
	if (fstat(fd, &st) < 0 || (uint64_t)st.st_size <= WAL_HDR_SIZE ||
	    pwrite(fd, hdr, WAL_HDR_SIZE, 0) != WAL_HDR_SIZE ||
	    (!w->no_sync && w->io->fdatasync(fd) < 0) ||
	    lseek(fd, WAL_HDR_SIZE, SEEK_SET) < 0 ||
	    rename(spare, path) < 0) {
		close(fd);
		fd = -1;
		goto out;
	}
	*size = (uint64_t)st.st_size;
out:
	free(spare);
	return fd;
}

int
wal_spare_prepare(const char *dir, uint64_t bytes)
{
	char *spare = xasprintf("%s/" WAL_SPARE_NAME, dir);
	char *tmp = xasprintf("%s.tmp", spare);
	static const unsigned char zeros[65536];
	struct stat st;
	uint64_t done = 0;
	int fd = -1, rc = 0;

	if (stat(spare, &st) == 0 && (uint64_t)st.st_size >= bytes)
		goto out;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = -errno;
		goto out;
	}
	while (rc == 0 && done < bytes) {
		size_t n = bytes - done < sizeof(zeros) ?
			   (size_t)(bytes - done) : sizeof(zeros);

		rc = write_all(fd, zeros, n);
		done += n;
	}
	if (rc == 0 && fdatasync(fd) < 0)
		rc = -errno;
	if (rc == 0 && rename(tmp, spare) < 0)
		rc = -errno;
out:
	if (fd >= 0)
		close(fd);
	if (rc < 0)
		unlink(tmp);
	free(tmp);
	free(spare);
	return rc;
}

/* Creates the segment starting at w->next_seq and makes it current. */
static int
wal_segment_new(struct wal *w)
{
	struct wal_seg_hdr h = { WAL_VERSION, wal_random_salt(), w->next_seq };
	unsigned char hdr[WAL_HDR_SIZE];
	char *name = wal_seg_name(w->next_seq);
	char *path = xasprintf("%s/%s", w->dir, name);
	uint64_t prezero = 0;
	bool spare;
	int fd, rc = 0;

	free(name);
	wal_seg_hdr_encode(&h, hdr);
	fd = w->use_spare ? wal_take_spare(w, path, hdr, &prezero) : -1;
	spare = fd >= 0;
	if (spare)
		goto created;
	/* A file of this name can only hold no valid record: recovery would
	 * otherwise have moved next_seq past it. */
	fd = open(path, (w->map ? O_RDWR : O_WRONLY | O_APPEND) | O_CREAT |
		  O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = -errno;
		goto fail;
	}
	rc = wal_write_all(w->io, fd, hdr, sizeof(hdr));
	if (rc == 0 && w->map &&
	    fallocate(fd, 0, 0, (off_t)(w->segment_bytes + WAL_MAP_SLACK)) == 0)
		prezero = w->segment_bytes + WAL_MAP_SLACK;
created:
	if (rc == 0 && !w->light && !w->no_sync && w->io->fdatasync(fd) < 0)
		rc = -errno;
	if (rc == 0 && !w->light && !w->no_sync)
		rc = fsync_dir(w->dir);
	if (rc < 0) {
		close(fd);
		unlink(path);
		goto fail;
	}
	/* The old segment's records must be durable before they stop being
	 * the newest: an fdatasync by another thread targets only the new
	 * file from now on. */
	if (w->fd >= 0)
		wal_segment_close(w);
	free(w->path);
	w->fd = fd;
	w->path = path;
	w->salt = h.salt;
	w->size = WAL_HDR_SIZE;
	w->reserved = WAL_HDR_SIZE;
	w->prezero = prezero;
	w->spares_used += spare;
	/* Reserve the blocks so appends do not meet a full disk mid-frame;
	 * a failure here is met again by wal_reserve (which a light
	 * rotation leaves it to). */
	if (!w->light)
		(void)wal_reserve_space(w, w->segment_bytes);
	return 0;
fail:
	free(path);
	return rc;
}

int
wal_open(const struct wal_config *cfg, uint64_t next_seq, struct wal **out)
{
	struct wal *w = xcalloc(1, sizeof(*w));
	int rc;

	w->dir = xstrdup(cfg->dir);
	w->io = cfg->io ? cfg->io : &wal_io_libc;
	w->segment_bytes = cfg->segment_bytes ? cfg->segment_bytes : 64u << 20;
	w->no_sync = cfg->no_sync;
	w->use_spare = cfg->use_spare;
	w->map = cfg->map;
	w->fd = -1;
	w->next_seq = next_seq ? next_seq : 1;
	w->written_seq = w->next_seq - 1;
	rc = wal_segment_new(w);
	if (rc < 0) {
		wal_close(w);
		return rc;
	}
	*out = w;
	return 0;
}

static int
wal_adopt_stop(void *arg, const struct wal_frame *f)
{
	return f->seq > *(const uint64_t *)arg ? WAL_SCAN_STOP : 0;
}

/*
 * Where record last_seq ends in the segment starting at first (header h):
 * from end when it says, else by reading the segment.
 */
static int
wal_adopt_end(const char *dir, uint64_t first, uint64_t last_seq,
	      const struct wal_pos *end, uint64_t *off)
{
	struct wal_pos from = { first - 1, first, WAL_HDR_SIZE };
	struct wal_scan sc;
	int rc;

	if (first == last_seq + 1) {
		*off = WAL_HDR_SIZE;
		return 0;
	}
	if (end && end->seg_first == first && end->seq == last_seq) {
		*off = end->off;
		return 0;
	}
	rc = wal_scan_from(dir, &from, 0, wal_adopt_stop, &last_seq, &sc);
	if (rc == 0 && (sc.end.seg_first != first || sc.end.seq != last_seq))
		rc = -EINVAL;
	*off = sc.end.off;
	wal_scan_release(&sc);
	return rc;
}

int
wal_adopt(const struct wal_config *cfg, const char *path, uint64_t last_seq,
	  const struct wal_pos *end, struct wal **out)
{
	unsigned char hdr[WAL_HDR_SIZE];
	struct wal_seg_hdr h;
	struct stat st;
	struct wal *w;
	uint64_t off = 0;
	int rfd, rc = 0;

	rfd = open(path, O_RDONLY | O_CLOEXEC);
	if (rfd < 0)
		return -errno;
	if (pread(rfd, hdr, sizeof(hdr), 0) != (ssize_t)sizeof(hdr) ||
	    wal_seg_hdr_decode(hdr, &h) < 0 || h.first_seq > last_seq + 1)
		rc = -EINVAL;
	close(rfd);
	if (rc == 0)
		rc = wal_adopt_end(cfg->dir, h.first_seq, last_seq, end, &off);
	if (rc < 0)
		return rc;
	w = xcalloc(1, sizeof(*w));
	w->dir = xstrdup(cfg->dir);
	w->io = cfg->io ? cfg->io : &wal_io_libc;
	w->segment_bytes = cfg->segment_bytes ? cfg->segment_bytes : 64u << 20;
	w->no_sync = cfg->no_sync;
	w->use_spare = cfg->use_spare;
	w->map = cfg->map;
	w->fd = open(path, O_RDWR | O_CLOEXEC);
	if (w->fd < 0 || fstat(w->fd, &st) < 0) {
		rc = -errno;
		wal_close(w);
		return rc;
	}
	/* Past the records: zeros (the segment was a spare), or nothing. */
	if ((uint64_t)st.st_size < off ||
	    lseek(w->fd, (off_t)off, SEEK_SET) < 0) {
		rc = (uint64_t)st.st_size < off ? -EINVAL : -errno;
		wal_close(w);
		return rc;
	}
	w->path = xstrdup(path);
	w->salt = h.salt;
	w->size = off;
	w->reserved = off;
	w->prezero = (uint64_t)st.st_size > off ? (uint64_t)st.st_size : 0;
	w->next_seq = last_seq + 1;
	w->written_seq = last_seq;
	*out = w;
	return 0;
}

void
wal_close(struct wal *w)
{
	if (w == NULL)
		return;
	if (w->fd >= 0)
		wal_segment_close(w);
	buf_free(&w->pend);
	free(w->path);
	free(w->dir);
	free(w);
}

uint64_t
wal_append(struct wal *w, uint16_t type, const void *payload, uint32_t len)
{
	unsigned char *f;
	uint64_t seq = w->next_seq++;

	f = (unsigned char *)buf_reserve(&w->pend, WAL_FRAME_HDR + (size_t)len +
						   WAL_FRAME_TRAILER);
	wal_frame_hdr_encode(f, len, type, seq, real_ns());
	if (len)
		memcpy(f + WAL_FRAME_HDR, payload, len);
	le32_put(f + WAL_FRAME_HDR + len, wal_frame_crc(w->salt, f, len));
	w->pend.len += WAL_FRAME_HDR + (size_t)len + WAL_FRAME_TRAILER;
	return seq;
}

bool
wal_has_pending(const struct wal *w)
{
	return w->pend.len != 0;
}

uint64_t
wal_pending_bytes(const struct wal *w)
{
	return w->pend.len;
}

uint64_t
wal_written_seq(const struct wal *w)
{
	return w->written_seq;
}

uint64_t
wal_next_seq(const struct wal *w)
{
	return w->next_seq;
}

uint64_t
wal_segment_size(const struct wal *w)
{
	return w->size;
}

const char *
wal_segment_path(const struct wal *w)
{
	return w->path;
}

bool
wal_prezeroed(const struct wal *w)
{
	return w->prezero != 0;
}

uint64_t
wal_spares_used(const struct wal *w)
{
	return w->spares_used;
}

int
wal_write(struct wal *w)
{
	int rc;

	if (w->pend.len == 0)
		return 0;
	if (w->map && w->size + w->pend.len <= w->prezero) {
		rc = wal_window_copy(&w->win, w->fd, w->size, w->pend.data,
				     w->pend.len, w->prezero);
		if (rc < 0)
			return rc;
		goto written;
	}
	if (w->map && w->prezero &&
	    lseek(w->fd, (off_t)w->size, SEEK_SET) < 0)
		return -errno;
	rc = wal_write_all(w->io, w->fd, w->pend.data, w->pend.len);
	if (rc < 0) {
		/* Cut off what part of the group reached the file: the frames
		 * stay buffered and go out whole on the next attempt. Over
		 * zeros, that attempt writes them over the same bytes: only
		 * what went past the zeros is cut. */
		if (w->prezero) {
			uint64_t keep = w->size > w->prezero ? w->size :
							       w->prezero;

			if ((w->size + w->pend.len > w->prezero &&
			     w->io->ftruncate(w->fd, (off_t)keep) < 0) ||
			    lseek(w->fd, (off_t)w->size, SEEK_SET) < 0)
				rc = rc == -ENOSPC ? rc : -errno;
		} else if (w->io->ftruncate(w->fd, (off_t)w->size) < 0 ||
			   lseek(w->fd, (off_t)w->size, SEEK_SET) < 0) {
			rc = rc == -ENOSPC ? rc : -errno;
		}
		return rc;
	}
written:
	w->size += w->pend.len;
	w->written_seq = w->next_seq - 1;
	buf_reset(&w->pend);
	/* Rotate only with nothing pending: frames are sealed with the salt
	 * of the segment they were appended for. A failed rotation keeps
	 * appending to the current segment. */
	if (w->size >= w->segment_bytes)
		(void)wal_segment_new(w);
	return 0;
}

int
wal_reserve(struct wal *w, uint64_t bytes)
{
	int rc;

	bytes += w->pend.len;
	if (w->size + bytes > w->segment_bytes && w->pend.len == 0 &&
	    w->size > WAL_HDR_SIZE) {
		rc = wal_segment_new(w);
		if (rc < 0)
			return rc;
	}
	return wal_reserve_space(w, bytes);
}

int
wal_rotate(struct wal *w)
{
	if (w->pend.len)
		return -EBUSY;
	return wal_segment_new(w);
}

int
wal_rotate_light(struct wal *w)
{
	int rc;

	if (w->pend.len)
		return -EBUSY;
	w->light = true;
	rc = wal_segment_new(w);
	w->light = false;
	return rc;
}

int
wal_dup_fd(const struct wal *w)
{
	int fd = fcntl(w->fd, F_DUPFD_CLOEXEC, 0);

	return fd < 0 ? -errno : fd;
}

int
wal_sync(struct wal *w)
{
	if (w->io->fdatasync(w->fd) < 0)
		return -errno;
	return 0;
}
