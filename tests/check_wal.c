/*
 * Unit tests of wal/: framing, group writes, rotation, scanning, torn-tail
 * and corruption handling, injected write failures, and the record codecs
 * (a store rebuilt from its own mutation records equals the original).
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/common.h"
#include "store/store.h"
#include "tests/tst-util.h"
#include "wal/wal.h"
#include "wal/wal.pb-c.h"

static char tdir[64];

static void
wal_setup(void)
{
	tst_mkdtemp(tdir, "lxs-wal");
}

static void
wal_teardown(void)
{
	tst_rmtree(tdir);
}

/* Records seen by a scan: seq and payload, checked against "rec-<seq>". */
struct seen {
	uint64_t n;
	uint64_t seqs[4096];
	bool payload_ok;
};

static int
seen_frame(void *arg, const struct wal_frame *f)
{
	struct seen *s = arg;
	char want[32];

	snprintf(want, sizeof(want), "rec-%llu", (unsigned long long)f->seq);
	if (f->len != strlen(want) || memcmp(f->payload, want, f->len) != 0 ||
	    f->type != WAL_REC_MUTATION || f->time_ns == 0)
		s->payload_ok = false;
	if (s->n < 4096)
		s->seqs[s->n] = f->seq;
	s->n++;
	return 0;
}

static void
append_recs(struct wal *w, uint64_t count)
{
	for (uint64_t i = 0; i < count; i++) {
		char p[32];
		uint64_t seq = wal_next_seq(w);

		snprintf(p, sizeof(p), "rec-%llu", (unsigned long long)seq);
		ck_assert_uint_eq(wal_append(w, WAL_REC_MUTATION, p,
					     (uint32_t)strlen(p)), seq);
	}
}

static struct wal *
open_wal(uint64_t seg_bytes, uint64_t next, const struct wal_io *io)
{
	struct wal_config cfg = { .dir = tdir, .segment_bytes = seg_bytes, .io = io };
	struct wal *w = NULL;

	ck_assert_int_eq(wal_open(&cfg, next, &w), 0);
	return w;
}

static unsigned int
count_segments(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	unsigned int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL)
		n += strncmp(de->d_name, "wal-", 4) == 0;
	closedir(d);
	return n;
}

static off_t
file_size(const char *path)
{
	struct stat st;

	ck_assert_int_eq(stat(path, &st), 0);
	return st.st_size;
}

START_TEST(test_wal_crc32c_known_vector)
{
	ck_assert_uint_eq(crc32c("123456789", 9), 0xE3069283u);
	ck_assert_uint_eq(crc32c_update(crc32c("1234", 4), "56789", 5),
			  0xE3069283u);
	ck_assert_uint_eq(crc32c("", 0), 0);
}
END_TEST

/* Bit by bit, straight from the definition. */
static uint32_t
crc32c_reference(const unsigned char *p, size_t n)
{
	uint32_t c = 0xffffffffu;

	while (n--) {
		c ^= *p++;
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ ((c & 1) ? 0x82F63B78u : 0);
	}
	return ~c;
}

START_TEST(test_wal_crc32c_paths_agree)
{
	unsigned char buf[1031];

	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)(i * 131 + 7);
	/* Every alignment and length class of both implementations. */
	for (size_t off = 0; off < 9; off++)
		for (size_t len = 0; len + off <= sizeof(buf); len += 37) {
			uint32_t want = crc32c_reference(buf + off, len);

			ck_assert_uint_eq(crc32c(buf + off, len), want);
			ck_assert_uint_eq(crc32c_portable(0, buf + off, len), want);
		}
}
END_TEST

START_TEST(test_wal_roundtrip_in_order)
{
	struct wal *w = open_wal(0, 1, NULL);
	struct wal_scan sc;
	struct seen s = { .payload_ok = true };

	append_recs(w, 10);
	ck_assert(wal_has_pending(w));
	ck_assert_int_eq(wal_write(w), 0);
	ck_assert(!wal_has_pending(w));
	ck_assert_uint_eq(wal_written_seq(w), 10);
	append_recs(w, 5);
	ck_assert_int_eq(wal_write(w), 0);
	ck_assert_int_eq(wal_sync(w), 0);
	wal_close(w);

	ck_assert_int_eq(wal_scan(tdir, 0, seen_frame, &s, &sc), 0);
	ck_assert_int_eq(sc.damage, WAL_CLEAN);
	ck_assert_uint_eq(s.n, 15);
	ck_assert(s.payload_ok);
	for (uint64_t i = 0; i < 15; i++)
		ck_assert_uint_eq(s.seqs[i], i + 1);
	ck_assert_uint_eq(sc.first_seq, 1);
	ck_assert_uint_eq(sc.last_seq, 15);
	wal_scan_release(&sc);
}
END_TEST

/*
 * Following a growing log: each scan from the previous end reads exactly
 * the records added since, across a rotation; a position whose segment is
 * not in the log or is cut falls back to a whole scan, never repeating or
 * skipping a record.
 */
START_TEST(test_wal_scan_from_reads_on)
{
	struct wal *w = open_wal(600, 1, NULL);
	struct wal_scan sc;
	struct wal_pos pos;
	struct seen s = { .payload_ok = true };
	char *first = NULL;

	append_recs(w, 4);
	ck_assert_int_eq(wal_write(w), 0);
	first = xstrdup(wal_segment_path(w));
	ck_assert_int_eq(wal_scan(tdir, 0, seen_frame, &s, &sc), 0);
	ck_assert_uint_eq(s.n, 4);
	pos = sc.end;
	ck_assert_uint_eq(pos.seq, 4);
	ck_assert_uint_eq(pos.seg_first, 1);
	ck_assert_uint_eq(pos.off, (uint64_t)file_size(first));
	wal_scan_release(&sc);

	/* Nothing new: nothing read, the position stays. */
	s.n = 0;
	ck_assert_int_eq(wal_scan_from(tdir, &pos, 0, seen_frame, &s, &sc), 0);
	ck_assert_uint_eq(s.n, 0);
	ck_assert_int_eq(sc.damage, WAL_CLEAN);
	ck_assert_mem_eq(&sc.end, &pos, sizeof(pos));
	wal_scan_release(&sc);

	/* 40 more, over several rotations (600-byte segments). */
	for (int i = 0; i < 40; i++) {
		append_recs(w, 1);
		ck_assert_int_eq(wal_write(w), 0);
	}
	ck_assert_uint_gt(count_segments(tdir), 2);
	ck_assert_int_eq(wal_scan_from(tdir, &pos, 0, seen_frame, &s, &sc), 0);
	ck_assert_int_eq(sc.damage, WAL_CLEAN);
	ck_assert_uint_eq(s.n, 40);
	ck_assert(s.payload_ok);
	for (uint64_t i = 0; i < 40; i++)
		ck_assert_uint_eq(s.seqs[i], i + 5);
	ck_assert_uint_eq(sc.end.seq, 44);
	pos = sc.end;
	wal_scan_release(&sc);

	/* A position in a segment that is not there: a whole scan after
	 * its seq. */
	append_recs(w, 2);
	ck_assert_int_eq(wal_write(w), 0);
	{
		struct wal_pos gone = { .seq = 4, .seg_first = 2, .off = 99 };

		s.n = 0;
		ck_assert_int_eq(wal_scan_from(tdir, &gone, 0, seen_frame, &s,
					       &sc), 0);
		ck_assert_uint_eq(s.n, 42);
		ck_assert_uint_eq(s.seqs[0], 5);
		ck_assert_uint_eq(sc.end.seq, 46);
		wal_scan_release(&sc);
	}
	/* A position past the end of its segment (the segment was cut). */
	{
		struct wal_pos cut = pos;

		cut.off += 1u << 20;
		s.n = 0;
		ck_assert_int_eq(wal_scan_from(tdir, &cut, 0, seen_frame, &s,
					       &sc), 0);
		ck_assert_uint_eq(s.n, 2);
		ck_assert_uint_eq(s.seqs[0], 45);
		wal_scan_release(&sc);
	}
	free(first);
	wal_close(w);
}
END_TEST

/*
 * Live update: a second writer goes on in the first one's segment, and
 * rotates without syncing.
 */
START_TEST(test_wal_adopt_continues_the_segment)
{
	struct wal_config cfg = { .dir = tdir };
	struct wal *w = open_wal(0, 1, NULL), *w2 = NULL;
	struct wal_scan sc;
	struct seen s = { .payload_ok = true };
	char *path;

	append_recs(w, 7);
	ck_assert_int_eq(wal_write(w), 0);
	path = xstrdup(wal_segment_path(w));
	ck_assert_int_eq(wal_adopt(&cfg, "/nonexistent/wal", 7, NULL, &w2), -ENOENT);
	ck_assert_int_eq(wal_adopt(&cfg, "/dev/null", 7, NULL, &w2), -EINVAL);
	ck_assert_int_eq(wal_adopt(&cfg, path, 7, NULL, &w2), 0);
	ck_assert_str_eq(wal_segment_path(w2), path);
	ck_assert_uint_eq(wal_next_seq(w2), 8);
	ck_assert_uint_eq(wal_written_seq(w2), 7);
	wal_close(w);
	append_recs(w2, 4);
	ck_assert_int_eq(wal_write(w2), 0);
	/* A light rotation (no sync) still makes a valid next segment. */
	append_recs(w2, 1);
	ck_assert_int_eq(wal_rotate_light(w2), -EBUSY);
	ck_assert_int_eq(wal_write(w2), 0);
	ck_assert_int_eq(wal_rotate_light(w2), 0);
	ck_assert_str_ne(wal_segment_path(w2), path);
	append_recs(w2, 2);
	ck_assert_int_eq(wal_write(w2), 0);
	wal_close(w2);
	ck_assert_int_eq(wal_scan(tdir, 0, seen_frame, &s, &sc), 0);
	ck_assert_int_eq(sc.damage, WAL_CLEAN);
	ck_assert_uint_eq(sc.segments, 2);
	ck_assert_uint_eq(s.n, 14);
	ck_assert(s.payload_ok);
	ck_assert_uint_eq(sc.last_seq, 14);
	wal_scan_release(&sc);
	free(path);
}
END_TEST

START_TEST(test_wal_unwritten_records_are_not_in_the_file)
{
	struct wal *w = open_wal(0, 1, NULL);
	struct wal_scan sc;
	struct seen s = { .payload_ok = true };

	append_recs(w, 3);
	ck_assert_int_eq(wal_write(w), 0);
	append_recs(w, 2);	/* buffered only: a crash now loses them */
	wal_close(w);
	ck_assert_int_eq(wal_scan(tdir, 0, seen_frame, &s, &sc), 0);
	ck_assert_uint_eq(s.n, 3);
	ck_assert_int_eq(sc.damage, WAL_CLEAN);
	wal_scan_release(&sc);
}
END_TEST

START_TEST(test_wal_rotation_and_after_seq)
{
	struct wal *w = open_wal(200, 1, NULL);
	struct wal_scan sc;
	struct seen s = { .payload_ok = true };

	for (int i = 0; i < 40; i++) {
		append_recs(w, 1);
		ck_assert_int_eq(wal_write(w), 0);
	}
	wal_close(w);
	ck_assert_uint_gt(count_segments(tdir), 3);
	ck_assert_int_eq(wal_scan(tdir, 25, seen_frame, &s, &sc), 0);
	ck_assert_int_eq(sc.damage, WAL_CLEAN);
	ck_assert_uint_eq(s.n, 15);
	ck_assert_uint_eq(s.seqs[0], 26);
	ck_assert_uint_eq(sc.last_seq, 40);
	ck_assert(s.payload_ok);
	wal_scan_release(&sc);
}
END_TEST

START_TEST(test_wal_replay_truncates_torn_tail)
{
	struct wal *w = open_wal(0, 1, NULL);
	struct wal_recovery r;
	struct wal_scan sc;
	struct seen s = { .payload_ok = true };
	char *seg;
	off_t size;

	append_recs(w, 5);
	ck_assert_int_eq(wal_write(w), 0);
	seg = xstrdup(wal_segment_path(w));
	wal_close(w);
	size = file_size(seg);
	ck_assert_int_eq(truncate(seg, size - 7), 0);	/* half a frame */

	ck_assert_int_eq(wal_recover(tdir, 0, seen_frame, &s, &r), 0);
	ck_assert_int_eq(r.scan.damage, WAL_TORN_TAIL);
	ck_assert(r.truncated);
	ck_assert_uint_eq(r.scan.last_seq, 4);
	ck_assert_uint_eq(s.n, 4);
	ck_assert_int_lt(file_size(seg), size - 7);
	wal_recovery_release(&r);

	/* The log goes on after the last good record. */
	w = open_wal(0, 5, NULL);
	append_recs(w, 2);
	ck_assert_int_eq(wal_write(w), 0);
	wal_close(w);
	s.n = 0;
	ck_assert_int_eq(wal_scan(tdir, 0, seen_frame, &s, &sc), 0);
	ck_assert_int_eq(sc.damage, WAL_CLEAN);
	ck_assert_uint_eq(s.n, 6);
	ck_assert_uint_eq(sc.last_seq, 6);
	ck_assert(s.payload_ok);
	wal_scan_release(&sc);
	free(seg);
}
END_TEST

/* Writes n bytes of p at off of path (the file grows as needed). */
static void
put_bytes(const char *path, off_t off, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pwrite(fd, p, n, off), (ssize_t)n);
	close(fd);
}

/*
 * Space written ahead of the records (zeros to the end of a segment, as
 * --sync=always prepares segments) is the segment's end, in the newest
 * segment and before it; anything but zeros there is still a torn tail
 * or damage, and zeros with a valid frame after them are damage.
 */
START_TEST(test_wal_zero_tail_ends_a_segment)
{
	struct wal *w = open_wal(0, 1, NULL);
	struct wal_recovery r;
	struct wal_scan sc;
	struct seen s = { .payload_ok = true };
	char *seg1, *seg2, *copy, *cmd;
	off_t end1, end2;
	static const unsigned char junk[5] = { 9, 0, 0, 0, 1 };

	append_recs(w, 5);
	ck_assert_int_eq(wal_write(w), 0);
	seg1 = xstrdup(wal_segment_path(w));
	end1 = file_size(seg1);
	ck_assert_int_eq(truncate(seg1, end1 + (3 << 20)), 0);
	ck_assert_int_eq(wal_rotate(w), 0);
	append_recs(w, 3);
	ck_assert_int_eq(wal_write(w), 0);
	seg2 = xstrdup(wal_segment_path(w));
	wal_close(w);
	end2 = file_size(seg2);
	ck_assert_int_eq(truncate(seg2, end2 + 70000), 0);

	ck_assert_int_eq(wal_scan(tdir, 0, seen_frame, &s, &sc), 0);
	ck_assert_int_eq(sc.damage, WAL_CLEAN);
	ck_assert_uint_eq(s.n, 8);
	ck_assert(s.payload_ok);
	ck_assert_uint_eq(sc.end.seq, 8);
	ck_assert_uint_eq(sc.end.off, (uint64_t)end2);
	wal_scan_release(&sc);

	/* Following from the first segment's zeros into the second. */
	{
		struct wal_pos p = { .seq = 5, .seg_first = 1, .off = (uint64_t)end1 };

		s.n = 0;
		ck_assert_int_eq(wal_scan_from(tdir, &p, 0, seen_frame, &s, &sc), 0);
		ck_assert_uint_eq(s.n, 3);
		ck_assert_uint_eq(s.seqs[0], 6);
		ck_assert_uint_eq(sc.end.off, (uint64_t)end2);
		wal_scan_release(&sc);
	}

	/* Anything but zeros far into the newest segment's hole after the
	 * records (past the first chunk read, where the file has no data):
	 * not its end. Zeros there again: the end. */
	ck_assert_int_eq(truncate(seg2, end2 + (3 << 20)), 0);
	put_bytes(seg2, end2 + (2 << 20) + 7, junk, 1);
	s.n = 0;
	ck_assert_int_eq(wal_scan(tdir, 0, seen_frame, &s, &sc), 0);
	ck_assert_int_eq(sc.damage, WAL_TORN_TAIL);
	ck_assert_uint_eq(s.n, 8);
	wal_scan_release(&sc);
	ck_assert_int_eq(truncate(seg2, end2 + 70000), 0);
	s.n = 0;
	ck_assert_int_eq(wal_scan(tdir, 0, seen_frame, &s, &sc), 0);
	ck_assert_int_eq(sc.damage, WAL_CLEAN);
	ck_assert_uint_eq(s.n, 8);
	wal_scan_release(&sc);

	/* A frame's first bytes before the zeros: a torn tail, cut off. */
	copy = xasprintf("%s.orig", seg2);
	cmd = xasprintf("cp %s %s", seg2, copy);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	put_bytes(seg2, end2, junk, sizeof(junk));
	s.n = 0;
	ck_assert_int_eq(wal_recover(tdir, 0, seen_frame, &s, &r), 0);
	ck_assert_int_eq(r.scan.damage, WAL_TORN_TAIL);
	ck_assert_uint_eq(r.scan.bad_offset, (uint64_t)end2);
	ck_assert_uint_eq(s.n, 8);
	ck_assert_int_eq(file_size(seg2), end2);
	wal_recovery_release(&r);

	/* Zeros, then a valid frame: what the zeros hide is lost: damage. */
	{
		unsigned char frame[40];
		int fd = open(copy, O_RDONLY | O_CLOEXEC);

		ck_assert_int_ge(fd, 0);
		ck_assert_int_eq(pread(fd, frame, 33, end2 - 33), 33);
		close(fd);
		cmd = xasprintf("cp %s %s", copy, seg2);
		ck_assert_int_eq(system(cmd), 0);
		free(cmd);
		put_bytes(seg2, end2 + 4096, frame, 33);
	}
	s.n = 0;
	ck_assert_int_eq(wal_scan(tdir, 0, seen_frame, &s, &sc), 0);
	ck_assert_int_eq(sc.damage, WAL_CORRUPT);
	ck_assert_uint_eq(s.n, 8);
	wal_scan_release(&sc);

	/* A newest segment whose header was never written: a torn tail. */
	cmd = xasprintf("cp %s %s", copy, seg2);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	{
		char *empty = xasprintf("%s/wal-%016x.log", tdir, 9);
		int fd = open(empty, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);

		ck_assert_int_ge(fd, 0);
		ck_assert_int_eq(ftruncate(fd, 1 << 20), 0);
		close(fd);
		s.n = 0;
		ck_assert_int_eq(wal_scan(tdir, 0, seen_frame, &s, &sc), 0);
		ck_assert_int_eq(sc.damage, WAL_TORN_TAIL);
		ck_assert_uint_eq(s.n, 8);
		wal_scan_release(&sc);
		free(empty);
	}
	unlink(copy);
	free(copy);
	free(seg1);
	free(seg2);
}
END_TEST

/*
 * A host crash may keep any prefix of what was written after the last
 * sync: cut the file at every byte of the last three frames and check that
 * recovery keeps exactly the complete frames, then goes on after them.
 */
START_TEST(test_wal_every_torn_prefix_recovers)
{
	struct wal *w = open_wal(0, 1, NULL);
	char *seg, *copy;
	off_t full, start;
	char *cmd;

	append_recs(w, 8);
	ck_assert_int_eq(wal_write(w), 0);
	seg = xstrdup(wal_segment_path(w));
	wal_close(w);
	full = file_size(seg);
	copy = xasprintf("%s.orig", seg);
	cmd = xasprintf("cp %s %s", seg, copy);
	ck_assert_int_eq(system(cmd), 0);
	free(cmd);
	/* Each frame here is 24 + len("rec-N") + 4 bytes: 33 for N < 10. */
	start = full - 3 * 33;
	for (off_t cut = start; cut <= full; cut++) {
		struct wal_recovery r;
		struct seen s = { .payload_ok = true };
		uint64_t whole = 5 + (uint64_t)(cut - start) / 33;

		cmd = xasprintf("cp %s %s && truncate -s %lld %s", copy, seg,
				(long long)cut, seg);
		ck_assert_int_eq(system(cmd), 0);
		free(cmd);
		ck_assert_int_eq(wal_recover(tdir, 0, seen_frame, &s, &r), 0);
		ck_assert_uint_eq(s.n, whole);
		ck_assert(s.payload_ok);
		ck_assert_int_eq(r.scan.damage,
				 (cut - start) % 33 ? WAL_TORN_TAIL : WAL_CLEAN);
		ck_assert_int_eq(file_size(seg), start + (off_t)(whole - 5) * 33);
		wal_recovery_release(&r);
	}
	unlink(copy);
	free(copy);
	free(seg);
}
END_TEST

START_TEST(test_wal_corrupt_middle_moves_damage_aside)
{
	struct wal *w = open_wal(150, 1, NULL);
	struct wal_recovery r;
	struct wal_scan sc;
	struct seen s = { .payload_ok = true };
	char *first;
	unsigned int before;

	first = NULL;
	for (int i = 0; i < 30; i++) {
		append_recs(w, 1);
		ck_assert_int_eq(wal_write(w), 0);
		if (i == 0)
			first = xstrdup(wal_segment_path(w));
	}
	wal_close(w);
	before = count_segments(tdir);
	ck_assert_uint_gt(before, 2);
	/* Damage the payload of the second frame of the first segment. */
	tst_flip_byte(first, 32 + 24 + 5 + 4 + 24 + 1, 0x5a);

	ck_assert_int_eq(wal_recover(tdir, 0, seen_frame, &s, &r), 0);
	ck_assert_int_eq(r.scan.damage, WAL_CORRUPT);
	ck_assert_str_eq(r.scan.bad_file, first);
	ck_assert_uint_eq(r.scan.last_seq, 1);
	ck_assert_uint_eq(s.n, 1);
	ck_assert_ptr_nonnull(r.moved_to);
	/* The damaged segment's copy and every later segment are kept. */
	ck_assert_uint_eq(count_segments(r.moved_to), before);
	ck_assert_uint_eq(count_segments(tdir), 1);
	wal_recovery_release(&r);

	s.n = 0;
	ck_assert_int_eq(wal_scan(tdir, 0, seen_frame, &s, &sc), 0);
	ck_assert_int_eq(sc.damage, WAL_CLEAN);
	ck_assert_uint_eq(s.n, 1);
	wal_scan_release(&sc);
	free(first);
}
END_TEST

START_TEST(test_wal_corrupt_last_segment_with_valid_data_after)
{
	struct wal *w = open_wal(0, 1, NULL);
	struct wal_scan sc;
	struct seen s = { .payload_ok = true };
	char *seg;

	append_recs(w, 6);
	ck_assert_int_eq(wal_write(w), 0);
	seg = xstrdup(wal_segment_path(w));
	wal_close(w);
	tst_flip_byte(seg, 32 + 24 + 2, 0x5a);	/* first frame's payload */
	ck_assert_int_eq(wal_scan(tdir, 0, seen_frame, &s, &sc), 0);
	ck_assert_int_eq(sc.damage, WAL_CORRUPT);
	ck_assert_uint_eq(sc.bad_offset, 32);
	ck_assert_uint_eq(s.n, 0);
	ck_assert_ptr_nonnull(sc.why);
	wal_scan_release(&sc);
	free(seg);
}
END_TEST

START_TEST(test_wal_missing_records_are_corruption)
{
	struct wal *w = open_wal(0, 10, NULL);
	struct wal_scan sc;

	append_recs(w, 2);
	ck_assert_int_eq(wal_write(w), 0);
	wal_close(w);
	/* Nothing covers 1..9: a snapshot at 0 cannot be completed. */
	ck_assert_int_eq(wal_scan(tdir, 0, NULL, NULL, &sc), 0);
	ck_assert_int_eq(sc.damage, WAL_CORRUPT);
	wal_scan_release(&sc);
	/* A snapshot at 9 can. */
	ck_assert_int_eq(wal_scan(tdir, 9, NULL, NULL, &sc), 0);
	ck_assert_int_eq(sc.damage, WAL_CLEAN);
	ck_assert_uint_eq(sc.records, 2);
	wal_scan_release(&sc);
}
END_TEST

/* Failure injection: the Nth write is cut short, then fails. */
static int fail_countdown;
static int fail_errno;

static ssize_t
flaky_write(int fd, const void *buf, size_t len)
{
	if (fail_countdown > 0 && --fail_countdown == 0) {
		if (len > 10 && write(fd, buf, 10) != 10)
			return -1;
		errno = fail_errno;
		return -1;
	}
	return write(fd, buf, len);
}

static const struct wal_io flaky_io = {
	.write = flaky_write,
	.fdatasync = fdatasync,
	.ftruncate = ftruncate,
};

/* Counts fdatasync calls. */
static int syncs;

static int
counting_fdatasync(int fd)
{
	syncs++;
	return fdatasync(fd);
}

static const struct wal_io counting_io = {
	.write = write,
	.fdatasync = counting_fdatasync,
	.ftruncate = ftruncate,
};

/*
 * --sync=always writes over a spare segment of zeros: new segments take
 * it (header first, so no segment is ever without one), records go over
 * the zeros, a failed write is written again at the same place, and a
 * second writer (live update) finds where the records end, with or
 * without being told.
 */
START_TEST(test_wal_spare_segment)
{
	struct wal_config cfg = {
		.dir = tdir, .segment_bytes = 1 << 20, .use_spare = true,
		.io = &flaky_io,
	};
	struct wal_scan sc;
	struct seen s = { .payload_ok = true };
	struct wal *w = NULL, *w2 = NULL;
	char *spare = xasprintf("%s/" WAL_SPARE_NAME, tdir), *seg;
	struct wal_pos end;

	/* No spare: appended to, as always. */
	ck_assert_int_eq(wal_open(&cfg, 1, &w), 0);
	ck_assert(!wal_prezeroed(w));
	append_recs(w, 3);
	ck_assert_int_eq(wal_write(w), 0);

	ck_assert_int_eq(wal_spare_prepare(tdir, (1 << 20) + 4096), 0);
	ck_assert_int_eq(file_size(spare), (1 << 20) + 4096);
	ck_assert_int_eq(wal_spare_prepare(tdir, 4096), 0);	/* kept */
	ck_assert_int_eq(file_size(spare), (1 << 20) + 4096);
	ck_assert_int_eq(wal_rotate(w), 0);
	ck_assert(wal_prezeroed(w));
	ck_assert_uint_eq(wal_spares_used(w), 1);
	ck_assert_int_eq(access(spare, F_OK), -1);
	seg = xstrdup(wal_segment_path(w));
	ck_assert_int_eq(file_size(seg), (1 << 20) + 4096);

	append_recs(w, 4);
	ck_assert_int_eq(wal_write(w), 0);
	fail_countdown = 1;
	fail_errno = EIO;
	append_recs(w, 2);
	ck_assert_int_eq(wal_write(w), -EIO);
	ck_assert_int_eq(wal_write(w), 0);
	ck_assert_int_eq(file_size(seg), (1 << 20) + 4096);

	ck_assert_int_eq(wal_scan(tdir, 0, seen_frame, &s, &sc), 0);
	ck_assert_int_eq(sc.damage, WAL_CLEAN);
	ck_assert_uint_eq(s.n, 9);
	ck_assert(s.payload_ok);
	ck_assert_uint_eq(sc.end.off, wal_segment_size(w));
	end = sc.end;
	wal_scan_release(&sc);
	wal_close(w);
	ck_assert_int_eq(file_size(seg), (1 << 20) + 4096);

	/* A second writer, told where the records end, then not told. */
	ck_assert_int_eq(wal_adopt(&cfg, seg, 9, &end, &w2), 0);
	ck_assert(wal_prezeroed(w2));
	ck_assert_uint_eq(wal_segment_size(w2), end.off);
	append_recs(w2, 2);
	ck_assert_int_eq(wal_write(w2), 0);
	wal_close(w2);
	ck_assert_int_eq(wal_adopt(&cfg, seg, 11, NULL, &w2), 0);
	ck_assert_uint_gt(wal_segment_size(w2), end.off);
	append_recs(w2, 1);
	ck_assert_int_eq(wal_write(w2), 0);
	ck_assert_int_eq(wal_adopt(&cfg, seg, 30, NULL, &w), -EINVAL);
	wal_close(w2);
	ck_assert_int_eq(file_size(seg), (1 << 20) + 4096);

	s.n = 0;
	ck_assert_int_eq(wal_scan(tdir, 0, seen_frame, &s, &sc), 0);
	ck_assert_int_eq(sc.damage, WAL_CLEAN);
	ck_assert_uint_eq(s.n, 12);
	ck_assert(s.payload_ok);
	wal_scan_release(&sc);
	free(seg);
	free(spare);
}
END_TEST

/*
 * --sync=write copies records into a mapping of reserved space: across
 * many 256 KiB windows and a rotation everything reads back, a second
 * writer (live update) maps on from where the records end, and a group
 * too big for the reserved space goes out with write(2).
 */
START_TEST(test_wal_mapped_segments)
{
	struct wal_config cfg = {
		.dir = tdir, .segment_bytes = 6u << 20, .map = true,
		.no_sync = true,
	};
	struct wal_scan sc;
	struct seen s = { .payload_ok = true };
	struct wal *w = NULL;
	char *first;
	uint64_t n = 0;

	ck_assert_int_eq(wal_open(&cfg, 1, &w), 0);
	ck_assert(wal_prezeroed(w));
	first = xstrdup(wal_segment_path(w));
	ck_assert_int_eq(file_size(first), (6 << 20) + (1 << 20));
	while (count_segments(tdir) < 2) {
		append_recs(w, 1000);
		ck_assert_int_eq(wal_write(w), 0);
		n += 1000;
	}
	append_recs(w, 10);
	ck_assert_int_eq(wal_write(w), 0);
	n += 10;
	/* Reserved space is not a spare. */
	ck_assert(wal_prezeroed(w));
	ck_assert_uint_eq(wal_spares_used(w), 0);
	wal_close(w);
	ck_assert_int_eq(file_size(first), (6 << 20) + (1 << 20));

	ck_assert_int_eq(wal_scan(tdir, 0, seen_frame, &s, &sc), 0);
	ck_assert_int_eq(sc.damage, WAL_CLEAN);
	ck_assert_uint_eq(s.n, n);
	ck_assert(s.payload_ok);
	wal_scan_release(&sc);

	/* The first segment does not end at n; the newest one does. */
	ck_assert_int_eq(wal_adopt(&cfg, first, n, NULL, &w), -EINVAL);
	{
		char line[256], *cmd = xasprintf("ls %s/wal-*.log | tail -1",
						 tdir);
		FILE *f = popen(cmd, "r");

		ck_assert_ptr_nonnull(f);
		ck_assert_ptr_nonnull(fgets(line, sizeof(line), f));
		pclose(f);
		free(cmd);
		line[strcspn(line, "\n")] = 0;
		ck_assert_int_eq(wal_adopt(&cfg, line, n, NULL, &w), 0);
	}
	ck_assert(wal_prezeroed(w));
	/* More than what is left of the reserved space, in one group. */
	for (int i = 0; i < 300; i++)
		append_recs(w, 1000);
	ck_assert_int_eq(wal_write(w), 0);
	n += 300000;
	append_recs(w, 5);
	ck_assert_int_eq(wal_write(w), 0);
	n += 5;
	wal_close(w);
	s.n = 0;
	ck_assert_int_eq(wal_scan(tdir, 0, seen_frame, &s, &sc), 0);
	ck_assert_int_eq(sc.damage, WAL_CLEAN);
	ck_assert_uint_eq(s.n, n);
	ck_assert(s.payload_ok);
	wal_scan_release(&sc);
	free(first);
}
END_TEST

/* --sync=write: rotating (a full segment, a snapshot) never syncs; with
 * syncing allowed it syncs the old segment and the new header. */
START_TEST(test_wal_no_sync_rotations_do_not_sync)
{
	struct wal_config cfg = {
		.dir = tdir, .segment_bytes = 64, .io = &counting_io,
		.no_sync = true,
	};
	struct wal_scan sc;
	struct seen s = { .payload_ok = true };
	struct wal *w = NULL;

	ck_assert_int_eq(wal_open(&cfg, 1, &w), 0);
	syncs = 0;
	for (int i = 0; i < 5; i++) {
		append_recs(w, 3);
		ck_assert_int_eq(wal_write(w), 0);
	}
	ck_assert_int_eq(wal_rotate(w), 0);
	ck_assert_int_eq(syncs, 0);
	ck_assert_uint_gt(count_segments(tdir), 5);
	wal_close(w);
	ck_assert_int_eq(wal_scan(tdir, 0, seen_frame, &s, &sc), 0);
	ck_assert_uint_eq(sc.records, 15);
	ck_assert(sc.damage == WAL_CLEAN);
	wal_scan_release(&sc);
	cfg.no_sync = false;
	ck_assert_int_eq(wal_open(&cfg, 16, &w), 0);
	syncs = 0;
	append_recs(w, 3);
	ck_assert_int_eq(wal_write(w), 0);
	ck_assert_int_eq(wal_rotate(w), 0);
	ck_assert_int_ge(syncs, 2);
	wal_close(w);
}
END_TEST

START_TEST(test_wal_failed_write_keeps_records_and_file_clean)
{
	struct wal *w;
	struct wal_scan sc;
	struct seen s = { .payload_ok = true };
	uint64_t size;

	fail_countdown = 0;
	w = open_wal(0, 1, &flaky_io);
	append_recs(w, 3);
	ck_assert_int_eq(wal_write(w), 0);
	size = wal_segment_size(w);
	append_recs(w, 4);
	fail_errno = ENOSPC;
	fail_countdown = 1;
	ck_assert_int_eq(wal_write(w), -ENOSPC);
	ck_assert(wal_has_pending(w));
	ck_assert_uint_eq(wal_written_seq(w), 3);
	ck_assert_int_eq(file_size(wal_segment_path(w)), (off_t)size);
	/* The disk has room again: the same records go out once. */
	ck_assert_int_eq(wal_write(w), 0);
	ck_assert_uint_eq(wal_written_seq(w), 7);
	wal_close(w);
	ck_assert_int_eq(wal_scan(tdir, 0, seen_frame, &s, &sc), 0);
	ck_assert_int_eq(sc.damage, WAL_CLEAN);
	ck_assert_uint_eq(s.n, 7);
	ck_assert(s.payload_ok);
	wal_scan_release(&sc);
}
END_TEST

START_TEST(test_wal_remove_covered_keeps_uncovered)
{
	struct wal *w = open_wal(150, 1, NULL);
	struct wal_scan sc;

	for (int i = 0; i < 20; i++) {
		append_recs(w, 1);
		ck_assert_int_eq(wal_write(w), 0);
	}
	ck_assert_int_eq(wal_remove_covered(tdir, 12, w), 0);
	wal_close(w);
	ck_assert_int_eq(wal_scan(tdir, 12, NULL, NULL, &sc), 0);
	ck_assert_int_eq(sc.damage, WAL_CLEAN);
	ck_assert_uint_eq(sc.records, 8);
	ck_assert_uint_le(sc.first_seq, 13);
	wal_scan_release(&sc);
	/* Nothing before 12 is needed, and it is gone. */
	ck_assert_int_eq(wal_scan(tdir, 0, NULL, NULL, &sc), 0);
	ck_assert_int_eq(sc.damage, WAL_CORRUPT);
	wal_scan_release(&sc);
}
END_TEST

/* Codec: every mutation of store A, encoded and applied to store B. */
static struct store *replica;

static void
to_replica(void *ctx, const struct store_mutation *m)
{
	struct buf b = { 0 };

	wal_encode_mutation(m, &b);
	ck_assert_int_eq(wal_apply_mutation(replica, b.data, (uint32_t)b.len),
			 0);
	buf_free(&b);
}

START_TEST(test_wal_mutation_codec_rebuilds_store)
{
	struct store_cb cb = { .mutation = to_replica };
	struct store *a = store_new(&cb, NULL, 0);
	struct store_caller priv = { 0, LXS_DOMID_INVALID, true };
	struct store_caller g = { 3, LXS_DOMID_INVALID, false };
	struct store_conn *c, *gc;
	struct store_perm perms[2] = { { 3, 0 }, { 0, STORE_PERM_READ } };
	struct buf db = { 0 };
	uint32_t tx;

	replica = store_new(NULL, NULL, 0);
	c = store_conn_new(a, &priv, NULL);
	gc = store_conn_new(a, &g, NULL);
	ck_assert_int_eq(store_write(c, 0, "/local/domain/3/x", "1", 1), 0);
	ck_assert_int_eq(store_set_perms(c, 0, "/local/domain/3", perms, 2), 0);
	ck_assert_int_eq(store_write(gc, 0, "data/bin", "a\0b", 3), 0);
	ck_assert_int_eq(store_mkdir(c, 0, "/vm/u1/d"), 0);
	ck_assert_int_eq(store_txn_start(c, &tx), 0);
	ck_assert_int_eq(store_write(c, tx, "/vm/u1/name", "guest", 5), 0);
	ck_assert_int_eq(store_rm(c, tx, "/vm/u1/d"), 0);
	ck_assert_int_eq(store_txn_end(c, tx, true), 0);
	ck_assert_int_eq(store_rm(c, 0, "/local/domain/3/x"), 0);
	ck_assert(tst_tree_equal(a, replica));
	tst_tree_dump(replica, &db);
	ck_assert_ptr_nonnull(memmem(db.data, db.len, "bin=a\0b|n3,", 11));
	ck_assert_ptr_nonnull(memmem(db.data, db.len, "/vm/u1/name=guest", 17));
	ck_assert_ptr_null(memmem(db.data, db.len, "/vm/u1/d=", 9));
	store_conn_free(gc);
	store_conn_free(c);
	store_free(a);
	store_free(replica);
	buf_free(&db);
}
END_TEST

/* The reference: protobuf-c's own packer on the same mutation. */
static void
pack_reference(const struct store_mutation *m, struct buf *out)
{
	Lxs__Mutation msg = LXS__MUTATION__INIT;
	Lxs__Op ops[8], *opp[8];
	Lxs__Perm perms[32], *permp[32];
	uint32_t k = 0;
	size_t size;

	msg.domid = m->domid;
	msg.n_ops = m->nops;
	msg.ops = opp;
	for (uint32_t i = 0; i < m->nops; i++) {
		const struct store_op *op = &m->ops[i];

		lxs__op__init(&ops[i]);
		opp[i] = &ops[i];
		ops[i].kind = op->kind == STORE_OP_PUT ? LXS__OP__KIND__PUT
						       : LXS__OP__KIND__DEL;
		ops[i].path = (char *)op->path;
		if (op->kind != STORE_OP_PUT)
			continue;
		ops[i].has_value = true;
		ops[i].value.data = (uint8_t *)op->value;
		ops[i].value.len = op->len;
		ops[i].has_quiet = op->quiet;
		ops[i].quiet = op->quiet;
		ops[i].n_perms = op->nperms;
		ops[i].perms = &permp[k];
		for (uint32_t j = 0; j < op->nperms; j++, k++) {
			lxs__perm__init(&perms[k]);
			perms[k].domid = op->perms[j].domid;
			perms[k].bits = op->perms[j].bits;
			permp[k] = &perms[k];
		}
	}
	size = lxs__mutation__get_packed_size(&msg);
	lxs__mutation__pack(&msg, (uint8_t *)buf_reserve(out, size));
	out->len += size;
}

START_TEST(test_wal_mutation_encoding_matches_protobuf_c)
{
	static char big[5000];
	struct store_perm p1[] = { { 0, 0 } };
	struct store_perm p3[] = { { 300, 3 }, { 0, 1 }, { 70000, 2 } };
	struct store_op ops[] = {
		{ .kind = STORE_OP_PUT, .path = "/a", .value = "", .len = 0,
		  .perms = p1, .nperms = 1, .quiet = true },
		{ .kind = STORE_OP_PUT, .path = "/a/b", .value = "x\0y",
		  .len = 3, .perms = p3, .nperms = 3 },
		{ .kind = STORE_OP_DEL, .path = "/gone/with/the/wind" },
		{ .kind = STORE_OP_PUT, .path = "@releaseDomain", .value = big,
		  .len = sizeof(big), .perms = p3, .nperms = 2 },
	};
	uint32_t domids[] = { 0, 127, 128, 32767, 65535, 4000000000u };

	memset(big, 'q', sizeof(big));
	for (size_t d = 0; d < LXS_ARRAY_SIZE(domids); d++)
		for (uint32_t n = 0; n <= LXS_ARRAY_SIZE(ops); n++) {
			struct store_mutation m = { domids[d], n, ops };
			struct buf ours = { 0 }, ref = { 0 };

			buf_add(&ours, "pre", 3);	/* appends, not overwrites */
			wal_encode_mutation(&m, &ours);
			pack_reference(&m, &ref);
			ck_assert_uint_eq(ours.len, ref.len + 3);
			ck_assert_int_eq(memcmp(ours.data + 3, ref.data, ref.len), 0);
			buf_free(&ours);
			buf_free(&ref);
		}
}
END_TEST

/* Decoding: what was encoded comes back, field for field. */
struct dec_check {
	const struct store_mutation *want;
	int calls;
};

static int
dec_compare(void *arg, const struct store_mutation *m)
{
	struct dec_check *dc = arg;
	const struct store_mutation *w = dc->want;

	dc->calls++;
	ck_assert_uint_eq(m->domid, w->domid);
	ck_assert_uint_eq(m->nops, w->nops);
	for (uint32_t i = 0; i < m->nops; i++) {
		const struct store_op *a = &m->ops[i], *b = &w->ops[i];

		ck_assert_int_eq(a->kind, b->kind);
		ck_assert_str_eq(a->path, b->path);
		if (a->kind != STORE_OP_PUT)
			continue;
		ck_assert_uint_eq(a->len, b->len);
		ck_assert_int_eq(memcmp(a->value, b->value, a->len), 0);
		ck_assert_uint_eq(a->nperms, b->nperms);
		for (uint32_t j = 0; j < a->nperms; j++) {
			ck_assert_uint_eq(a->perms[j].domid, b->perms[j].domid);
			ck_assert_uint_eq(a->perms[j].bits, b->perms[j].bits);
		}
		ck_assert(a->quiet == b->quiet);
	}
	return 0;
}

START_TEST(test_wal_mutation_decode_roundtrip)
{
	struct store_perm p3[] = { { 300, 3 }, { 0, 1 }, { 70000, 2 } };
	struct store_op ops[] = {
		{ .kind = STORE_OP_PUT, .path = "/a", .value = "", .len = 0,
		  .perms = p3, .nperms = 1, .quiet = true },
		{ .kind = STORE_OP_DEL, .path = "/b/c" },
		{ .kind = STORE_OP_PUT, .path = "/a/b", .value = "x\0y",
		  .len = 3, .perms = p3, .nperms = 3 },
	};
	struct store_mutation m = { 70000, 3, ops };
	struct dec_check dc = { &m, 0 };
	struct buf b = { 0 };

	pack_reference(&m, &b);
	ck_assert_int_eq(wal_decode_mutation(b.data, (uint32_t)b.len,
					     dec_compare, &dc), 0);
	ck_assert_int_eq(dc.calls, 1);
	buf_free(&b);
}
END_TEST

/*
 * Any valid protobuf encoding decodes: fields out of order and unknown
 * fields (a newer writer's) are fine. Built by hand:
 *   Mutation { unknown 9: varint 5; ops: Op { perms: Perm { bits 2,
 *   domid 7, unknown 3: "zz" }, path "/q", unknown 6: fixed32,
 *   kind PUT, value "v" }; domid 4 }
 */
START_TEST(test_wal_mutation_decode_any_field_order)
{
	static const uint8_t perm[] = { 0x10, 0x02, 0x08, 0x07, 0x1a, 0x02,
					'z', 'z' };
	uint8_t op[64], msg[96];
	size_t no = 0, nm = 0;
	struct store_perm want_perm = { 7, 2 };
	struct store_op want_op = { .kind = STORE_OP_PUT, .path = "/q",
				    .value = "v", .len = 1,
				    .perms = &want_perm, .nperms = 1 };
	struct store_mutation want = { 4, 1, &want_op };
	struct dec_check dc = { &want, 0 };

	op[no++] = 0x22;
	op[no++] = sizeof(perm);
	memcpy(op + no, perm, sizeof(perm));
	no += sizeof(perm);
	op[no++] = 0x12;
	op[no++] = 2;
	op[no++] = '/';
	op[no++] = 'q';
	op[no++] = 0x35;			/* field 6, fixed32 */
	memcpy(op + no, "\1\2\3\4", 4);
	no += 4;
	op[no++] = 0x08;
	op[no++] = 0x00;
	op[no++] = 0x1a;
	op[no++] = 1;
	op[no++] = 'v';
	msg[nm++] = 0x48;			/* field 9, varint */
	msg[nm++] = 0x05;
	msg[nm++] = 0x12;
	msg[nm++] = (uint8_t)no;
	memcpy(msg + nm, op, no);
	nm += no;
	msg[nm++] = 0x08;
	msg[nm++] = 0x04;
	ck_assert_int_eq(wal_decode_mutation(msg, (uint32_t)nm, dec_compare,
					     &dc), 0);
	ck_assert_int_eq(dc.calls, 1);
	/* Every truncation is refused cleanly (ASan watches the reads). */
	for (size_t cut = 0; cut < nm; cut++) {
		int rc = wal_decode_mutation(msg, (uint32_t)cut, dec_compare,
					     &dc);

		ck_assert(rc == -EINVAL || rc == 0);
	}
}
END_TEST

START_TEST(test_wal_mutation_decode_rejects_garbage)
{
	struct store *s = store_new(NULL, NULL, 0);
	static const unsigned char junk[] = { 0x0a, 0xff, 0xff, 0x01, 0x00 };
	struct store_mutation m = { 0 };
	struct store_op op = { .kind = STORE_OP_PUT, .path = "/a//b",
			       .value = "", .len = 0 };
	struct store_perm p = { 0, 0 };
	struct buf b = { 0 };

	ck_assert_int_eq(wal_apply_mutation(s, junk, sizeof(junk)), -EINVAL);
	/* Well-formed protobuf, but a path no client could have written. */
	op.perms = &p;
	op.nperms = 1;
	m.nops = 1;
	m.ops = &op;
	wal_encode_mutation(&m, &b);
	ck_assert_int_eq(wal_apply_mutation(s, b.data, (uint32_t)b.len),
			 -EINVAL);
	buf_free(&b);
	store_free(s);
}
END_TEST

START_TEST(test_wal_quota_codec)
{
	struct store *s = store_new(NULL, NULL, 0);
	struct wal_quota q = { .global = false, .domid = 4, .name = "nodes",
			       .value = 77 };
	struct buf b = { 0 };
	uint32_t v;

	wal_encode_quota(&q, &b);
	ck_assert_int_eq(wal_apply_quota(s, b.data, (uint32_t)b.len), 0);
	ck_assert_int_eq(store_quota_get(s, 4, STORE_QUOTA_NODES, false, &v), 0);
	ck_assert_uint_eq(v, 77);
	ck_assert_int_eq(store_quota_get(s, STORE_DOMID_GLOBAL,
					 STORE_QUOTA_NODES, false, &v), 0);
	ck_assert_uint_eq(v, 1000);
	buf_reset(&b);
	q.name = "no-such-quota";
	wal_encode_quota(&q, &b);
	ck_assert_int_eq(wal_apply_quota(s, b.data, (uint32_t)b.len), -EINVAL);
	buf_free(&b);
	store_free(s);
}
END_TEST

/* ---- domain records ------------------------------------------------------- */

static void
dom_log(struct wal_domtab *t, struct buf *log_, const struct wal_domain_change *ch)
{
	struct buf b = { 0 };

	/* Through the codec: what replay sees. */
	wal_encode_domain_change(ch, &b);
	ck_assert_int_eq(wal_domtab_apply(t, b.data, (uint32_t)b.len), 0);
	if (log_)
		buf_add(log_, b.data, b.len);
	buf_free(&b);
}

static struct wal_domain
dom_rec(uint32_t domid, bool introduced)
{
	struct wal_domain d = {
		.domid = domid, .introduced = introduced, .gfn = 0x1234567890ull,
		.remote_port = 7, .features = 5, .target = LXS_DOMID_INVALID,
	};

	return d;
}

START_TEST(test_wal_domain_change_codec_builds_table)
{
	struct wal_domtab *t = wal_domtab_new();
	struct wal_domain d5 = dom_rec(5, true), d9 = dom_rec(9, false);
	struct wal_domain_change ch = { .kind = WAL_DOMAIN_SET, .domid = 5,
					.dom = &d5, .depth = -1 };
	const struct wal_domain *got;

	dom_log(t, NULL, &ch);
	ch.domid = 9;
	ch.dom = &d9;
	dom_log(t, NULL, &ch);
	ch = (struct wal_domain_change){ .kind = WAL_DOMAIN_WATCH, .domid = 5,
					 .path = "data", .token = "tok",
					 .depth = -1 };
	dom_log(t, NULL, &ch);
	ch.path = "/abs";
	ch.token = "t2";
	ch.depth = 2;
	dom_log(t, NULL, &ch);
	/* SET keeps the watches: SET_TARGET after the guest watched. */
	d5.target = 9;
	d5.shutdown = true;
	memset(d5.handle, 0xab, sizeof(d5.handle));
	ch = (struct wal_domain_change){ .kind = WAL_DOMAIN_SET, .domid = 5,
					 .dom = &d5 };
	dom_log(t, NULL, &ch);

	ck_assert_uint_eq(wal_domtab_count(t), 2);
	ck_assert_uint_eq(wal_domtab_at(t, 0)->domid, 5);
	ck_assert_uint_eq(wal_domtab_at(t, 1)->domid, 9);
	got = wal_domtab_find(t, 5);
	ck_assert(got->introduced);
	ck_assert_uint_eq(got->gfn, 0x1234567890ull);
	ck_assert_uint_eq(got->remote_port, 7);
	ck_assert_uint_eq(got->features, 5);
	ck_assert_uint_eq(got->target, 9);
	ck_assert(got->shutdown);
	ck_assert_mem_eq(got->handle, d5.handle, sizeof(got->handle));
	ck_assert_uint_eq(got->nwatches, 2);
	ck_assert_str_eq(got->watches[0].path, "data");
	ck_assert_int_eq(got->watches[0].depth, -1);
	ck_assert_str_eq(got->watches[1].token, "t2");
	ck_assert_int_eq(got->watches[1].depth, 2);
	got = wal_domtab_find(t, 9);
	ck_assert(!got->introduced);
	ck_assert_uint_eq(got->target, LXS_DOMID_INVALID);
	for (size_t i = 0; i < sizeof(got->handle); i++)
		ck_assert_uint_eq(got->handle[i], 0);

	ch = (struct wal_domain_change){ .kind = WAL_DOMAIN_UNWATCH, .domid = 5,
					 .path = "data", .token = "tok" };
	dom_log(t, NULL, &ch);
	ck_assert_uint_eq(wal_domtab_find(t, 5)->nwatches, 1);
	ck_assert_str_eq(wal_domtab_find(t, 5)->watches[0].path, "/abs");
	ch = (struct wal_domain_change){ .kind = WAL_DOMAIN_RESET_WATCHES,
					 .domid = 5 };
	dom_log(t, NULL, &ch);
	ck_assert_uint_eq(wal_domtab_find(t, 5)->nwatches, 0);
	ch.kind = WAL_DOMAIN_RELEASE;
	dom_log(t, NULL, &ch);
	ck_assert_ptr_null(wal_domtab_find(t, 5));
	ck_assert_uint_eq(wal_domtab_count(t), 1);
	wal_domtab_free(t);
}
END_TEST

/* What does not apply, and what does not decode, is -EINVAL. */
START_TEST(test_wal_domain_change_rejects)
{
	struct wal_domtab *t = wal_domtab_new();
	struct wal_domain d5 = dom_rec(5, true), d6 = dom_rec(6, true);
	struct wal_domain_change set = { .kind = WAL_DOMAIN_SET, .domid = 5,
					 .dom = &d5 };
	struct wal_domain_change w = { .kind = WAL_DOMAIN_WATCH, .domid = 5,
				       .path = "p", .token = "t", .depth = -1 };
	static const unsigned char junk[] = { 0x08, 0x00, 0x10 };
	static const unsigned char bad_kind[] = { 0x08, 0x09, 0x10, 0x05 };
	/* kind WATCH, domid 5, no watch. */
	static const unsigned char no_watch[] = { 0x08, 0x02, 0x10, 0x05 };
	/* kind SET, domid 5, no domain. */
	static const unsigned char no_dom[] = { 0x08, 0x00, 0x10, 0x05 };
	struct buf b = { 0 };

	/* Anything but SET needs a known domain. */
	ck_assert_int_eq(wal_domtab_change(t, &w), -EINVAL);
	w.kind = WAL_DOMAIN_RELEASE;
	ck_assert_int_eq(wal_domtab_change(t, &w), -EINVAL);
	ck_assert_int_eq(wal_domtab_change(t, &set), 0);
	w.kind = WAL_DOMAIN_WATCH;
	ck_assert_int_eq(wal_domtab_change(t, &w), 0);
	ck_assert_int_eq(wal_domtab_change(t, &w), -EINVAL);
	w.kind = WAL_DOMAIN_UNWATCH;
	w.token = "other";
	ck_assert_int_eq(wal_domtab_change(t, &w), -EINVAL);
	/* A SET whose record names another domain. */
	set.dom = &d6;
	ck_assert_int_eq(wal_domtab_change(t, &set), -EINVAL);

	ck_assert_int_eq(wal_domtab_apply(t, junk, sizeof(junk)), -EINVAL);
	ck_assert_int_eq(wal_domtab_apply(t, bad_kind, sizeof(bad_kind)),
			 -EINVAL);
	ck_assert_int_eq(wal_domtab_apply(t, no_watch, sizeof(no_watch)),
			 -EINVAL);
	ck_assert_int_eq(wal_domtab_apply(t, no_dom, sizeof(no_dom)), -EINVAL);
	/* Every proper prefix of a valid record: refused or harmless, never
	 * a crash; the table still holds exactly domain 5 and its watch. */
	w = (struct wal_domain_change){ .kind = WAL_DOMAIN_WATCH, .domid = 5,
					.path = "/some/path", .token = "tk",
					.depth = 3 };
	wal_encode_domain_change(&w, &b);
	for (size_t n = 0; n < b.len; n++)
		(void)wal_domtab_apply(t, b.data, (uint32_t)n);
	ck_assert_uint_eq(wal_domtab_count(t), 1);
	ck_assert_uint_eq(wal_domtab_find(t, 5)->nwatches, 1);
	buf_free(&b);
	wal_domtab_free(t);
}
END_TEST

/* The snapshot's form: one lxs.Domain with its watches. */
START_TEST(test_wal_domain_record_roundtrip)
{
	struct wal_domtab *t = wal_domtab_new();
	struct wal_domain d = dom_rec(77, true), back;
	struct wal_domain_change ch = { .kind = WAL_DOMAIN_SET, .domid = 77,
					.dom = &d };
	struct buf b = { 0 };

	d.target = 3;
	ck_assert_int_eq(wal_domtab_change(t, &ch), 0);
	ch = (struct wal_domain_change){ .kind = WAL_DOMAIN_WATCH, .domid = 77,
					 .path = "a", .token = "1", .depth = -1 };
	ck_assert_int_eq(wal_domtab_change(t, &ch), 0);
	ch.path = "b";
	ch.depth = 0;
	ck_assert_int_eq(wal_domtab_change(t, &ch), 0);
	wal_encode_domain(wal_domtab_find(t, 77), &b);
	ck_assert_int_eq(wal_decode_domain(b.data, (uint32_t)b.len, &back), 0);
	ck_assert_uint_eq(back.domid, 77);
	ck_assert(back.introduced);
	ck_assert_uint_eq(back.gfn, d.gfn);
	ck_assert_uint_eq(back.remote_port, 7);
	ck_assert_uint_eq(back.features, 5);
	ck_assert_uint_eq(back.target, 3);
	ck_assert_uint_eq(back.nwatches, 2);
	ck_assert_str_eq(back.watches[1].path, "b");
	ck_assert_int_eq(back.watches[1].depth, 0);
	ck_assert_int_eq(back.watches[0].depth, -1);
	/* Into a second table; twice is refused. */
	wal_domtab_free(t);
	t = wal_domtab_new();
	ck_assert_int_eq(wal_domtab_put(t, &back), 0);
	ck_assert_int_eq(wal_domtab_put(t, &back), -EEXIST);
	ck_assert_uint_eq(wal_domtab_find(t, 77)->nwatches, 2);
	wal_domain_release(&back);
	/* A record without its required domid. */
	ck_assert_int_eq(wal_decode_domain("\x10\x01", 2, &back), -EINVAL);
	buf_free(&b);
	wal_domtab_free(t);
}
END_TEST

/*
 * Replies to ring requests: kept while a later one is less than a ring
 * (WAL_RING_WINDOW bytes of requests) ahead, across the 2^32 wrap; kept by
 * SET, dropped by RING_RESET; one shorter than a header is refused. The
 * partial message likewise (the newest one only, continued by records of
 * its next bytes; an empty one or a gap refused).
 */
START_TEST(test_wal_domain_ring_replies)
{
	struct wal_domtab *t = wal_domtab_new(), *back = wal_domtab_new();
	struct wal_domain d = dom_rec(3, true), got;
	struct wal_domain_change ch = { .kind = WAL_DOMAIN_SET, .domid = 3,
					.dom = &d };
	unsigned char msg[20] = { 0 };
	const struct wal_domain *w;
	struct buf b = { 0 };

	dom_log(t, NULL, &ch);
	ch = (struct wal_domain_change){ .kind = WAL_DOMAIN_RING_REPLY,
					 .domid = 3, .reply = msg,
					 .reply_len = sizeof(msg) };
	ch.req_end = 0xfffffff0u;
	msg[4] = 1;
	dom_log(t, NULL, &ch);
	ch.req_end = 0x100u;		/* wrapped: 0x110 bytes later */
	msg[4] = 2;
	dom_log(t, NULL, &ch);
	ch.req_end = 0x3f0u;		/* 0x400 after the first: it goes */
	msg[4] = 3;
	dom_log(t, NULL, &ch);
	w = wal_domtab_find(t, 3);
	ck_assert_uint_eq(w->nreplies, 2);
	ck_assert_uint_eq(w->replies[0].req_end, 0x100u);
	ck_assert_uint_eq(w->replies[0].data[4], 2);
	ck_assert_uint_eq(w->replies[1].len, sizeof(msg));
	/* A partial message: the newest replaces the older. */
	ch = (struct wal_domain_change){ .kind = WAL_DOMAIN_RING_PARTIAL,
					 .domid = 3, .req_end = 0x400u,
					 .partial = "abc", .partial_len = 3 };
	dom_log(t, NULL, &ch);
	ch.req_end = 0x408u;
	ch.partial = "abcdefgh";
	ch.partial_len = 8;
	dom_log(t, NULL, &ch);
	/* More bytes of it, through the codec; a gap is refused. */
	ch.req_end = 0x40au;
	ch.partial = "ij";
	ch.partial_len = 2;
	ch.partial_more = true;
	dom_log(t, NULL, &ch);
	ch.req_end = 0x40fu;
	ck_assert_int_eq(wal_domtab_change(t, &ch), -EINVAL);
	ch.partial_more = false;
	ch.partial_len = 0;
	ck_assert_int_eq(wal_domtab_change(t, &ch), -EINVAL);
	/* SET (SET_TARGET, say) keeps them; the snapshot form carries them. */
	ch = (struct wal_domain_change){ .kind = WAL_DOMAIN_SET, .domid = 3,
					 .dom = &d };
	dom_log(t, NULL, &ch);
	ck_assert_uint_eq(wal_domtab_find(t, 3)->nreplies, 2);
	ck_assert_uint_eq(wal_domtab_find(t, 3)->partial_len, 10);
	wal_encode_domain(wal_domtab_find(t, 3), &b);
	ck_assert_int_eq(wal_decode_domain(b.data, (uint32_t)b.len, &got), 0);
	ck_assert_uint_eq(got.nreplies, 2);
	ck_assert_uint_eq(got.replies[1].req_end, 0x3f0u);
	ck_assert_uint_eq(got.replies[1].data[4], 3);
	ck_assert_uint_eq(got.partial_end, 0x40au);
	ck_assert_uint_eq(got.partial_len, 10);
	ck_assert_int_eq(memcmp(got.partial, "abcdefghij", 10), 0);
	ck_assert_int_eq(wal_domtab_put(back, &got), 0);
	ck_assert_uint_eq(wal_domtab_find(back, 3)->nreplies, 2);
	ck_assert_int_eq(memcmp(wal_domtab_find(back, 3)->partial, "abcd", 4),
			 0);
	wal_domain_release(&got);
	ch = (struct wal_domain_change){ .kind = WAL_DOMAIN_RING_RESET,
					 .domid = 3 };
	dom_log(t, NULL, &ch);
	ck_assert_uint_eq(wal_domtab_find(t, 3)->nreplies, 0);
	ck_assert_ptr_null(wal_domtab_find(t, 3)->partial);
	ch = (struct wal_domain_change){ .kind = WAL_DOMAIN_RING_REPLY,
					 .domid = 3, .reply = msg,
					 .reply_len = 15 };
	ck_assert_int_eq(wal_domtab_change(t, &ch), -EINVAL);
	buf_free(&b);
	wal_domtab_free(t);
	wal_domtab_free(back);
}
END_TEST

static Suite *
wal_suite(void)
{
	Suite *s = suite_create("wal");
	TCase *core = tcase_create("core");
	TCase *crash = tcase_create("crash");
	TCase *codec = tcase_create("codec");

	tcase_add_checked_fixture(core, wal_setup, wal_teardown);
	tcase_add_checked_fixture(crash, wal_setup, wal_teardown);
	/* File I/O and child processes: a loaded machine takes seconds. */
	tcase_set_timeout(core, 60);
	tcase_set_timeout(crash, 60);
	tcase_add_test(core, test_wal_crc32c_known_vector);
	tcase_add_test(core, test_wal_crc32c_paths_agree);
	tcase_add_test(core, test_wal_roundtrip_in_order);
	tcase_add_test(core, test_wal_adopt_continues_the_segment);
	tcase_add_test(core, test_wal_scan_from_reads_on);
	tcase_add_test(core, test_wal_spare_segment);
	tcase_add_test(core, test_wal_mapped_segments);
	tcase_add_test(core, test_wal_no_sync_rotations_do_not_sync);
	tcase_add_test(core, test_wal_unwritten_records_are_not_in_the_file);
	tcase_add_test(core, test_wal_rotation_and_after_seq);
	tcase_add_test(core, test_wal_remove_covered_keeps_uncovered);
	tcase_add_test(crash, test_wal_replay_truncates_torn_tail);
	tcase_add_test(crash, test_wal_zero_tail_ends_a_segment);
	tcase_add_test(crash, test_wal_every_torn_prefix_recovers);
	tcase_add_test(crash, test_wal_corrupt_middle_moves_damage_aside);
	tcase_add_test(crash, test_wal_corrupt_last_segment_with_valid_data_after);
	tcase_add_test(crash, test_wal_missing_records_are_corruption);
	tcase_add_test(crash, test_wal_failed_write_keeps_records_and_file_clean);
	tcase_add_test(codec, test_wal_mutation_codec_rebuilds_store);
	tcase_add_test(codec, test_wal_mutation_decode_rejects_garbage);
	tcase_add_test(codec, test_wal_mutation_encoding_matches_protobuf_c);
	tcase_add_test(codec, test_wal_mutation_decode_roundtrip);
	tcase_add_test(codec, test_wal_mutation_decode_any_field_order);
	tcase_add_test(codec, test_wal_quota_codec);
	tcase_add_test(codec, test_wal_domain_change_codec_builds_table);
	tcase_add_test(codec, test_wal_domain_change_rejects);
	tcase_add_test(codec, test_wal_domain_record_roundtrip);
	tcase_add_test(codec, test_wal_domain_ring_replies);
	suite_add_tcase(s, core);
	suite_add_tcase(s, crash);
	suite_add_tcase(s, codec);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(wal_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
