/*
 * Reading the log back. Stops at the first record that is incomplete, fails
 * its checksum, or breaks sequence continuity. That bad record is a torn
 * tail when it is in the newest segment and no valid frame follows it in
 * that segment; anything else is corruption: valid data may lie beyond it.
 *
 * A segment may end in zeros: space written ahead of the records
 * (--sync=always prepares segments that way, so that an fdatasync has no
 * file size to commit). A bad frame with nothing but zeros from it to the
 * end of the file is the segment's end, not damage; the next segment must
 * go on with the next seq as always.
 *
 * Segments are read on demand, a chunk at a time, so that following a log
 * (wal_scan_from) costs what was written since, not the file's size.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "wal/wal-int.h"

#define WAL_READ_CHUNK	(1u << 20)
/*
 * Reads again of the newest segment from a bad frame with valid frames
 * after it, 1 ms apart, before calling it damage: a daemon writing the
 * segment meanwhile may have been copying that frame while it was read
 * (over zeros, a reader can see a later frame before an earlier one is
 * whole).
 */
#define WAL_LIVE_REREADS	3

/* Bytes [base, base + len) of a segment, read on demand up to its size. */
struct seg_in {
	int fd;
	uint64_t file_size;
	uint64_t base;
	unsigned char *buf;
	size_t len, cap;
};

/*
 * Opens a segment to read from offset from, and reads its header into
 * hdr (*hlen bytes of it). -ERANGE if the file is shorter than a from
 * past the header.
 */
static int
seg_open(struct seg_in *in, const char *path, uint64_t from,
	 unsigned char hdr[WAL_HDR_SIZE], size_t *hlen)
{
	struct stat st;
	ssize_t n;

	memset(in, 0, sizeof(*in));
	in->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (in->fd < 0)
		return -errno;
	if (fstat(in->fd, &st) < 0 ||
	    ((uint64_t)st.st_size < from && from > WAL_HDR_SIZE)) {
		int rc = (uint64_t)st.st_size < from ? -ERANGE : -errno;

		close(in->fd);
		in->fd = -1;
		return rc;
	}
	/* A file shorter than its header reads as just that. */
	in->file_size = (uint64_t)st.st_size < from ? from :
						       (uint64_t)st.st_size;
	in->base = from;
	n = pread(in->fd, hdr, WAL_HDR_SIZE, 0);
	*hlen = n > 0 ? (size_t)n : 0;
	return 0;
}

/*
 * Makes the first n bytes from base available in in->buf, reading whole
 * chunks; returns how many are (fewer only at the end of the file or on a
 * read error, which reads as the end).
 */
static size_t
seg_need(struct seg_in *in, size_t n)
{
	uint64_t left = in->file_size - in->base;
	size_t want;

	if (n <= in->len)
		return in->len;
	if (n > left)
		n = (size_t)left;
	want = n - in->len < WAL_READ_CHUNK ? in->len + WAL_READ_CHUNK : n;
	if (want > left)
		want = (size_t)left;
	if (want > in->cap) {
		in->cap = want;
		in->buf = xrealloc(in->buf, in->cap + 1);
	}
	while (in->len < want) {
		ssize_t r = pread(in->fd, in->buf + in->len, want - in->len,
				  (off_t)(in->base + in->len));

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		in->len += (size_t)r;
	}
	return in->len;
}

/* Forgets what was read from offset off (from base) on: it is read again. */
static void
seg_forget(struct seg_in *in, size_t off)
{
	if (off < in->len)
		in->len = off;
}

static void
seg_close(struct seg_in *in)
{
	if (in->fd >= 0)
		close(in->fd);
	free(in->buf);
	in->buf = NULL;
	in->fd = -1;
}

static bool
all_zero(const unsigned char *p, size_t n)
{
	return n == 0 || (p[0] == 0 && memcmp(p, p + 1, n - 1) == 0);
}

/*
 * Whether the segment holds only zeros from off (from base) to its end (a
 * read error reads as the end, as in seg_need). The end of the records is
 * met at every scan, and the rest of a segment prepared ahead is most of
 * its size: what in->buf does not hold is read a chunk at a time into a
 * buffer of its own, not kept, and skipped where the file system says
 * there is no data (SEEK_DATA: a segment reserved with fallocate reads as
 * zeros there). Reading the rest in one piece took a buffer of the
 * segment's size: the read-only load of 100,000 nodes (the new daemon of
 * a live update) peaked at 79 MB instead of 22 MB.
 */
static bool
seg_zero_from(struct seg_in *in, size_t off)
{
	unsigned char *chunk;
	uint64_t at;
	bool zero = true;

	if (off < in->len && !all_zero(in->buf + off, in->len - off))
		return false;
	at = in->base + (off > in->len ? off : in->len);
	if (at >= in->file_size)
		return true;
	chunk = xmalloc(WAL_READ_CHUNK);
	while (zero && at < in->file_size) {
		off_t data = lseek(in->fd, (off_t)at, SEEK_DATA), hole;
		uint64_t left;
		ssize_t r;

		/* No data from here: zeros. Other errors (no SEEK_DATA
		 * support): read on from at. */
		if (data < 0 && errno == ENXIO)
			break;
		if (data > (off_t)at)
			at = (uint64_t)data;
		if (at >= in->file_size)
			break;
		/* Up to where the data ends, not into the hole after it. */
		hole = lseek(in->fd, (off_t)at, SEEK_HOLE);
		left = hole > (off_t)at && (uint64_t)hole < in->file_size ?
		       (uint64_t)hole - at : in->file_size - at;
		r = pread(in->fd, chunk, left < WAL_READ_CHUNK ?
			  (size_t)left : WAL_READ_CHUNK, (off_t)at);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		zero = all_zero(chunk, (size_t)r);
		at += (uint64_t)r;
	}
	free(chunk);
	return zero;
}

/* Checks the frame at off; returns its total size, or 0 if it is bad. */
static size_t
wal_frame_check(const unsigned char *d, size_t size, size_t off,
		uint32_t salt)
{
	uint32_t len;

	if (size - off < WAL_FRAME_HDR + WAL_FRAME_TRAILER)
		return 0;
	len = le32_get(d + off);
	if (len > WAL_REC_MAX ||
	    size - off - WAL_FRAME_HDR - WAL_FRAME_TRAILER < len)
		return 0;
	if (le32_get(d + off + WAL_FRAME_HDR + len) !=
	    wal_frame_crc(salt, d + off, len))
		return 0;
	return WAL_FRAME_HDR + (size_t)len + WAL_FRAME_TRAILER;
}

/*
 * Is there any valid frame after a bad one at off? A frame ends in its
 * checksum, so none can start past the last non-zero byte: trailing
 * zeros (space written ahead) are not searched.
 */
static bool
wal_valid_after(const unsigned char *d, size_t size, size_t off,
		uint32_t salt)
{
	size_t end = size;

	while (end - off >= 4096 && all_zero(d + end - 4096, 4096))
		end -= 4096;
	while (end > off && d[end - 1] == 0)
		end--;
	end = end + WAL_FRAME_TRAILER < size ? end + WAL_FRAME_TRAILER : size;
	for (size_t o = off + 1; o + WAL_FRAME_HDR + WAL_FRAME_TRAILER <= end;
	     o++)
		if (wal_frame_check(d, end, o, salt))
			return true;
	return false;
}

static void
wal_scan_bad(struct wal_scan *out, enum wal_damage dmg, const char *file,
	     uint64_t off, char *why)
{
	out->damage = dmg;
	out->bad_file = xstrdup(file);
	out->bad_offset = off;
	out->why = why;
}

void
wal_scan_release(struct wal_scan *s)
{
	free(s->bad_file);
	free(s->why);
	memset(s, 0, sizeof(*s));
}

/*
 * The segment index where a scan from pos starts, or -1 (pos is not in
 * the log any more: read from the start).
 */
static int
wal_scan_start(const struct wal_seg *segs, uint32_t n,
	       const struct wal_pos *pos)
{
	if (pos == NULL || pos->seg_first == 0)
		return -1;
	for (uint32_t i = 0; i < n; i++)
		if (segs[i].first_seq == pos->seg_first)
			return (int)i;
	return -1;
}

/*
 * The size of the frame at off if it is whole, checks and carries seq
 * expect; else 0. Reads as much of the segment as that takes.
 */
static size_t
wal_frame_at(struct seg_in *in, size_t off, uint32_t salt, uint64_t expect)
{
	size_t size = seg_need(in, off + WAL_FRAME_HDR), fl;

	if (size - off < WAL_FRAME_HDR || le32_get(in->buf + off) > WAL_REC_MAX)
		return 0;
	size = seg_need(in, off + WAL_FRAME_HDR + le32_get(in->buf + off) +
			WAL_FRAME_TRAILER);
	fl = wal_frame_check(in->buf, size, off, salt);
	return fl && le64_get(in->buf + off + 8) == expect ? fl : 0;
}

enum wal_bad {
	WAL_BAD_END,		/* zeros to the end of the file: its end */
	WAL_BAD_AGAIN,		/* read it again: a writer may be copying it */
	WAL_BAD_TORN,
	WAL_BAD_CORRUPT,
};

/* What a bad frame at off of a whole read of a segment is. */
static enum wal_bad
wal_bad_frame(struct seg_in *in, size_t off, uint32_t salt, bool last,
	      int *rereads)
{
	size_t size;

	if (seg_zero_from(in, off))
		return WAL_BAD_END;
	if (!last)
		return WAL_BAD_CORRUPT;
	size = seg_need(in, SIZE_MAX);
	if (!wal_valid_after(in->buf, size, off, salt))
		return WAL_BAD_TORN;
	if ((*rereads)++ < WAL_LIVE_REREADS) {
		struct timespec ms = { 0, 1000000 };

		nanosleep(&ms, NULL);
		seg_forget(in, off);
		return WAL_BAD_AGAIN;
	}
	return WAL_BAD_CORRUPT;
}

/*
 * Checks a segment's header against its name and the records expected
 * (expect: the next seq, 0 before the first segment read; resume: read on
 * in it); on damage, says so in out and returns false.
 */
static bool
wal_seg_header_ok(const struct wal_seg *seg, bool last,
		  const unsigned char *hdr, size_t hlen, uint64_t file_size,
		  uint64_t expect, bool resume, uint64_t after_seq,
		  struct wal_seg_hdr *h, struct wal_scan *out)
{
	if (hlen < WAL_HDR_SIZE || wal_seg_hdr_decode(hdr, h) < 0 ||
	    h->first_seq != seg->first_seq) {
		/* Torn: a header never written, or never completed. */
		bool torn = last && (file_size <= WAL_HDR_SIZE ||
				     all_zero(hdr, hlen));

		wal_scan_bad(out, torn ? WAL_TORN_TAIL : WAL_CORRUPT,
			     seg->path, 0, xstrdup("bad segment header"));
		return false;
	}
	if (expect == 0 && h->first_seq > after_seq + 1) {
		wal_scan_bad(out, WAL_CORRUPT, seg->path, 0,
			     xasprintf("records %" PRIu64 "..%" PRIu64
				       " are missing",
				       after_seq + 1, h->first_seq - 1));
		return false;
	}
	if (expect != 0 && !resume && h->first_seq != expect) {
		wal_scan_bad(out, WAL_CORRUPT, seg->path, 0,
			     xasprintf("segment starts at %" PRIu64
				       ", expected %" PRIu64,
				       h->first_seq, expect));
		return false;
	}
	return true;
}

int
wal_scan_from(const char *dir, const struct wal_pos *pos, uint64_t after_seq,
	      wal_frame_fn fn, void *arg, struct wal_scan *out)
{
	struct wal_seg *segs;
	uint32_t nsegs, i = 0;
	uint64_t expect = 0, resume = 0;
	int start, rc;

	memset(out, 0, sizeof(*out));
	rc = wal_seg_list(dir, &segs, &nsegs);
	if (rc < 0)
		return rc;
	out->segments = nsegs;
	if (pos && after_seq < pos->seq)
		after_seq = pos->seq;
	start = wal_scan_start(segs, nsegs, pos);
	if (start >= 0) {
		i = (uint32_t)start;
		expect = pos->seq + 1;
		resume = pos->off;
		out->end = *pos;
	}
	for (; i < nsegs && out->damage == WAL_CLEAN; i++, resume = 0) {
		bool last = i + 1 == nsegs;
		struct wal_seg_hdr h;
		unsigned char hdr[WAL_HDR_SIZE];
		struct seg_in in;
		size_t hlen = 0, off = 0;
		uint64_t base = resume ? resume : WAL_HDR_SIZE;
		int rereads = 0;

		/* Segments wholly before after_seq need not be read. */
		if (!last && segs[i + 1].first_seq <= after_seq + 1 &&
		    expect == 0)
			continue;
		rc = seg_open(&in, segs[i].path, base, hdr, &hlen);
		if (rc == -ERANGE && resume) {
			/* The segment was cut since pos was taken (a new
			 * daemon's recovery): read the log afresh. */
			wal_seg_list_free(segs, nsegs);
			return wal_scan_from(dir, NULL, after_seq, fn, arg, out);
		}
		if (rc == -ENOENT) {
			/* Pruned by a running daemon since the listing: as
			 * if it had not been listed (a gap, if it mattered). */
			rc = 0;
			continue;
		}
		if (rc < 0)
			break;
		if (!wal_seg_header_ok(&segs[i], last, hdr, hlen, in.file_size,
				       expect, resume != 0, after_seq, &h, out)) {
			seg_close(&in);
			break;
		}
		if (!resume)
			expect = h.first_seq;
		/* A segment before the last ends where the next one starts:
		 * what follows its records (zeros, most likely: reserved or
		 * spare space, megabytes of it) holds none of the log. */
		while (seg_need(&in, off + 1) > off &&
		       (last || expect != segs[i + 1].first_seq)) {
			size_t fl = wal_frame_at(&in, off, h.salt, expect);
			struct wal_frame f;

			if (fl == 0) {
				enum wal_bad bad;

				/* Following a log being written: its end is
				 * whatever is not whole yet. */
				if (pos && last) {
					out->damage = WAL_TORN_TAIL;
					break;
				}
				bad = wal_bad_frame(&in, off, h.salt, last,
						    &rereads);
				if (bad == WAL_BAD_AGAIN)
					continue;
				if (bad != WAL_BAD_END)
					wal_scan_bad(out, bad == WAL_BAD_TORN ?
						     WAL_TORN_TAIL : WAL_CORRUPT,
						     segs[i].path, base + off,
						     xasprintf("bad record after seq %"
							       PRIu64, expect - 1));
				break;
			}
			f.len = le32_get(in.buf + off);
			f.type = (uint16_t)(in.buf[off + 4] | (in.buf[off + 5] << 8));
			f.seq = expect;
			f.time_ns = le64_get(in.buf + off + 16);
			f.payload = in.buf + off + WAL_FRAME_HDR;
			if (f.seq > after_seq) {
				rc = fn ? fn(arg, &f) : 0;
				if (rc == -EBADMSG) {
					wal_scan_bad(out, WAL_CORRUPT, segs[i].path,
						     base + off,
						     xasprintf("record %" PRIu64
							       " does not apply",
							       f.seq));
					rc = 0;
					break;
				}
				if (rc != 0) {
					seg_close(&in);
					rc = rc == WAL_SCAN_STOP ? 0 : rc;
					goto out;
				}
				if (out->first_seq == 0)
					out->first_seq = f.seq;
				out->records++;
			}
			out->last_seq = f.seq;
			expect++;
			off += fl;
			out->end.seq = f.seq;
			out->end.seg_first = h.first_seq;
			out->end.off = base + off;
		}
		seg_close(&in);
	}
out:
	wal_seg_list_free(segs, nsegs);
	return rc;
}

int
wal_scan(const char *dir, uint64_t after_seq, wal_frame_fn fn, void *arg,
	 struct wal_scan *out)
{
	return wal_scan_from(dir, NULL, after_seq, fn, arg, out);
}
