/*
 * wal internals: the on-disk layout (see wal/segment.c for the diagram).
 */
#ifndef LXS_WAL_INT_H
#define LXS_WAL_INT_H

#include "wal/wal.h"

#define WAL_MAGIC		"LXS-WAL\n"
#define WAL_VERSION		1u
#define WAL_HDR_SIZE		32u
#define WAL_FRAME_HDR		24u
#define WAL_FRAME_TRAILER	4u

struct wal_seg_hdr {
	uint32_t version;
	uint32_t salt;
	uint64_t first_seq;
};

/* Segment file name for its first sequence number; caller frees. */
char *wal_seg_name(uint64_t first_seq);
/* Parses "wal-<16 hex>.log"; returns false for other names. */
bool wal_seg_parse_name(const char *name, uint64_t *first_seq);
void wal_seg_hdr_encode(const struct wal_seg_hdr *h,
			unsigned char out[WAL_HDR_SIZE]);
/* Returns 0 or -EINVAL (bad magic, version or checksum). */
int wal_seg_hdr_decode(const unsigned char in[WAL_HDR_SIZE],
		       struct wal_seg_hdr *h);

/* Frame header fields, little-endian. */
void wal_frame_hdr_encode(unsigned char out[WAL_FRAME_HDR], uint32_t len,
			  uint16_t type, uint64_t seq, uint64_t time_ns);
uint32_t wal_frame_crc(uint32_t salt, const unsigned char *frame,
		       uint32_t len);

/* A mapped window of a segment being written (wal/window.c). */
struct wal_window {
	unsigned char *base;		/* NULL: none mapped */
	uint64_t off;			/* file offset of base */
	size_t len;
};
/*
 * Copies len bytes of p to offset at of fd through the window, moving it
 * as needed. limit: the end of the space reserved for the file, which
 * the copy must not pass (-ERANGE). 0 or -errno (the window could not be
 * mapped; nothing was copied past the bytes already in place).
 */
int wal_window_copy(struct wal_window *win, int fd, uint64_t at,
		    const void *p, size_t len, uint64_t limit);
void wal_window_drop(struct wal_window *win);

/* Sorted list of the segments of dir (first seq and path). */
struct wal_seg {
	uint64_t first_seq;
	char *path;
};
int wal_seg_list(const char *dir, struct wal_seg **out, uint32_t *n);
void wal_seg_list_free(struct wal_seg *v, uint32_t n);

#endif
