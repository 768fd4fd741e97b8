/*
 * Segment files: naming, header and frame layout. All integers are
 * little-endian.
 *
 * A segment is <state-dir>/wal-<first seq, 16 hex digits>.log:
 *
 *   0      8  magic "LXS-WAL\n"
 *   8      4  version (1)
 *   12     4  salt: random per segment
 *   16     8  first_seq: sequence number of the first record
 *   24     4  reserved, 0
 *   28     4  CRC32C of bytes 0..27
 *   32        frames, back to back
 *
 * A frame:
 *
 *   0      4  len: payload bytes (at most WAL_REC_MAX)
 *   4      2  type: WAL_REC_*
 *   6      2  flags, 0
 *   8      8  seq: previous frame's seq + 1 (the first is first_seq)
 *   16     8  time: nanoseconds since the epoch (CLOCK_REALTIME)
 *   24   len  payload: a protobuf-c message chosen by type (wal/wal.proto)
 *   24+len 4  CRC32C of salt (4 bytes, LE) followed by bytes 0..24+len-1
 *
 * The salt makes a frame left over from an older file at the same place
 * fail its checksum. The segment's length is its last complete frame's end.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "wal/wal-int.h"

_Static_assert(sizeof(WAL_MAGIC) - 1 == 8, "magic is 8 bytes");

char *
wal_seg_name(uint64_t first_seq)
{
	return xasprintf("wal-%016" PRIx64 ".log", first_seq);
}

bool
wal_seg_parse_name(const char *name, uint64_t *first_seq)
{
	return parse_seq_name(name, "wal-", ".log", first_seq);
}

void
wal_seg_hdr_encode(const struct wal_seg_hdr *h, unsigned char out[WAL_HDR_SIZE])
{
	memset(out, 0, WAL_HDR_SIZE);
	memcpy(out, WAL_MAGIC, 8);
	le32_put(out + 8, h->version);
	le32_put(out + 12, h->salt);
	le64_put(out + 16, h->first_seq);
	le32_put(out + 28, crc32c(out, 28));
}

int
wal_seg_hdr_decode(const unsigned char in[WAL_HDR_SIZE], struct wal_seg_hdr *h)
{
	if (memcmp(in, WAL_MAGIC, 8) != 0)
		return -EINVAL;
	if (le32_get(in + 28) != crc32c(in, 28))
		return -EINVAL;
	h->version = le32_get(in + 8);
	h->salt = le32_get(in + 12);
	h->first_seq = le64_get(in + 16);
	if (h->version != WAL_VERSION)
		return -EINVAL;
	return 0;
}

void
wal_frame_hdr_encode(unsigned char out[WAL_FRAME_HDR], uint32_t len,
		     uint16_t type, uint64_t seq, uint64_t time_ns)
{
	le32_put(out, len);
	out[4] = (unsigned char)type;
	out[5] = (unsigned char)(type >> 8);
	out[6] = out[7] = 0;
	le64_put(out + 8, seq);
	le64_put(out + 16, time_ns);
}

uint32_t
wal_frame_crc(uint32_t salt, const unsigned char *frame, uint32_t len)
{
	unsigned char s[4];

	le32_put(s, salt);
	return crc32c_update(crc32c(s, 4), frame, WAL_FRAME_HDR + (size_t)len);
}

static int
wal_seg_cmp(const void *a, const void *b)
{
	const struct wal_seg *x = a, *y = b;

	return x->first_seq < y->first_seq ? -1 : x->first_seq > y->first_seq;
}

int
wal_seg_list(const char *dir, struct wal_seg **out, uint32_t *n)
{
	struct wal_seg *v = NULL;
	uint32_t nv = 0, cap = 0;
	struct dirent *de;
	DIR *d = opendir(dir);

	if (d == NULL)
		return -errno;
	while ((de = readdir(d)) != NULL) {
		uint64_t seq;

		if (!wal_seg_parse_name(de->d_name, &seq))
			continue;
		if (nv == cap) {
			cap = cap ? cap * 2 : 8;
			v = xrealloc(v, cap * sizeof(*v));
		}
		v[nv].first_seq = seq;
		v[nv].path = xasprintf("%s/%s", dir, de->d_name);
		nv++;
	}
	closedir(d);
	if (nv)
		qsort(v, nv, sizeof(*v), wal_seg_cmp);
	*out = v;
	*n = nv;
	return 0;
}

void
wal_seg_list_free(struct wal_seg *v, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		free(v[i].path);
	free(v);
}
