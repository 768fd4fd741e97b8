/*
 * Reading the log back. Stops at the first record that is incomplete, fails
 * its checksum, or breaks sequence continuity. That bad record is a torn
 * tail when it is in the newest segment and no valid frame follows it in
 * that segment; anything else is corruption: valid data may lie beyond it.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wal/wal-int.h"

/*
 * Reads a segment: its header into hdr, and the bytes from offset from to
 * the end into *data (*size of them). Segments are bounded by the
 * rotation size. -ERANGE if the file is shorter than from.
 */
static int
wal_read_file(const char *path, uint64_t from, unsigned char *hdr,
	      size_t *hdr_len, unsigned char **data, size_t *size)
{
	struct stat st;
	unsigned char *p;
	size_t got = 0, want;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		rc = -errno;
		goto out;
	}
	if ((uint64_t)st.st_size < from) {
		rc = -ERANGE;
		goto out;
	}
	n = pread(fd, hdr, WAL_HDR_SIZE, 0);
	*hdr_len = n > 0 ? (size_t)n : 0;
	want = (size_t)((uint64_t)st.st_size - from);
	p = xmalloc(want + 1);
	while (got < want) {
		n = pread(fd, p + got, want - got, (off_t)(from + got));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	*data = p;
	*size = got;
out:
	close(fd);
	return rc;
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

/* Is there any valid frame after a bad one at off? */
static bool
wal_valid_after(const unsigned char *d, size_t size, size_t off,
		uint32_t salt)
{
	for (size_t o = off + 1; o + WAL_FRAME_HDR + WAL_FRAME_TRAILER <= size;
	     o++)
		if (wal_frame_check(d, size, o, salt))
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
		unsigned char *d = NULL;
		size_t hlen = 0, size = 0, off = 0;
		uint64_t base = resume ? resume : WAL_HDR_SIZE;

		/* Segments wholly before after_seq need not be read. */
		if (!last && segs[i + 1].first_seq <= after_seq + 1 &&
		    expect == 0)
			continue;
		rc = wal_read_file(segs[i].path, base, hdr, &hlen, &d, &size);
		if (rc == -ERANGE && resume) {
			/* The segment was cut since pos was taken (a new
			 * daemon's recovery): read the log afresh. */
			wal_seg_list_free(segs, nsegs);
			return wal_scan_from(dir, NULL, after_seq, fn, arg, out);
		}
		if (rc < 0)
			break;
		if (hlen < WAL_HDR_SIZE || wal_seg_hdr_decode(hdr, &h) < 0 ||
		    h.first_seq != segs[i].first_seq) {
			bool torn = last && hlen + size <= WAL_HDR_SIZE;

			wal_scan_bad(out, torn ? WAL_TORN_TAIL : WAL_CORRUPT,
				     segs[i].path, 0,
				     xstrdup("bad segment header"));
			free(d);
			break;
		}
		if (expect == 0 && h.first_seq > after_seq + 1) {
			wal_scan_bad(out, WAL_CORRUPT, segs[i].path, 0,
				     xasprintf("records %" PRIu64 "..%" PRIu64
					       " are missing",
					       after_seq + 1, h.first_seq - 1));
			free(d);
			break;
		}
		if (expect != 0 && !resume && h.first_seq != expect) {
			wal_scan_bad(out, WAL_CORRUPT, segs[i].path, 0,
				     xasprintf("segment starts at %" PRIu64
					       ", expected %" PRIu64,
					       h.first_seq, expect));
			free(d);
			break;
		}
		if (!resume)
			expect = h.first_seq;
		while (off < size) {
			size_t fl = wal_frame_check(d, size, off, h.salt);
			struct wal_frame f;

			if (fl && le64_get(d + off + 8) != expect)
				fl = 0;
			if (fl == 0) {
				bool torn = last &&
					    !wal_valid_after(d, size, off, h.salt);

				wal_scan_bad(out, torn ? WAL_TORN_TAIL : WAL_CORRUPT,
					     segs[i].path, base + off,
					     xasprintf("bad record after seq %" PRIu64,
						       expect - 1));
				break;
			}
			f.len = le32_get(d + off);
			f.type = (uint16_t)(d[off + 4] | (d[off + 5] << 8));
			f.seq = expect;
			f.time_ns = le64_get(d + off + 16);
			f.payload = d + off + WAL_FRAME_HDR;
			if (f.seq > after_seq) {
				rc = fn ? fn(arg, &f) : 0;
				if (rc == WAL_SCAN_STOP) {
					rc = 0;
					free(d);
					goto out;
				}
				if (rc == -EBADMSG) {
					rc = 0;
					wal_scan_bad(out, WAL_CORRUPT, segs[i].path,
						     base + off,
						     xasprintf("record %" PRIu64
							       " does not apply",
							       f.seq));
					break;
				}
				if (rc < 0) {
					free(d);
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
		free(d);
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
