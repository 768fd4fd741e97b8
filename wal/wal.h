/*
 * wal: the append-only mutation log.
 *
 * Records are framed with their length, type, sequence number, time and a
 * CRC32C salted per segment (format in wal/segment.c and
 * docs/formats/wal.md). Appending only buffers; wal_write hands everything
 * buffered to the kernel with one write(2) (group commit), and wal_sync
 * adds fdatasync for the --sync=always policy. Recovery reads the segments
 * back in sequence order, stops at the first bad record, truncates a torn
 * tail and moves damaged segments aside.
 *
 * Errors are 0 or -errno; every failure is also logged by the caller.
 */
#ifndef LXS_WAL_H
#define LXS_WAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/common.h"
#include "store/store.h"

struct wal;

/* Record types (the frame's type field). */
#define WAL_REC_MUTATION	1	/* lxs.Mutation */
#define WAL_REC_QUOTA		2	/* lxs.QuotaChange */

/* Largest payload a frame may carry; larger lengths are corruption. */
#define WAL_REC_MAX		(256u << 20)

/*
 * System calls used by the log, replaceable by tests to inject failures
 * (short writes, ENOSPC, EIO) and crashes.
 */
struct wal_io {
	ssize_t (*write)(int fd, const void *buf, size_t len);
	int (*fdatasync)(int fd);
	int (*ftruncate)(int fd, off_t len);
};

/* The default: the C library's calls. */
extern const struct wal_io wal_io_libc;

struct wal_config {
	const char *dir;		/* the state directory */
	uint64_t segment_bytes;		/* rotate past this size */
	const struct wal_io *io;	/* NULL: wal_io_libc */
};

/*
 * Starts a new segment whose first record will be next_seq. The directory
 * must exist. Caller frees with wal_close.
 */
int wal_open(const struct wal_config *cfg, uint64_t next_seq,
	     struct wal **out);
/*
 * Live update: goes on appending to the segment at path, written by
 * another process up to and including record last_seq, with nothing
 * pending (so no new segment, no sync: the file is as durable as that
 * writer left it). -EINVAL if path does not start a segment at or before
 * last_seq + 1.
 */
int wal_adopt(const struct wal_config *cfg, const char *path,
	      uint64_t last_seq, struct wal **out);
void wal_close(struct wal *w);

/*
 * Buffers one record; returns its sequence number. payload is copied. Never
 * fails: the buffer is memory, the error comes with wal_write.
 */
uint64_t wal_append(struct wal *w, uint16_t type, const void *payload,
		    uint32_t len);
/* Records appended but not yet written, and their size in bytes. */
bool wal_has_pending(const struct wal *w);
uint64_t wal_pending_bytes(const struct wal *w);
/* Last sequence number handed to the kernel by a successful wal_write. */
uint64_t wal_written_seq(const struct wal *w);
/* Next sequence number wal_append will assign. */
uint64_t wal_next_seq(const struct wal *w);

/*
 * Writes every buffered record with one write(2) (retrying short writes).
 * On failure the segment is truncated back to its last complete record and
 * the records stay buffered for the next attempt. Rotates to a new segment
 * when the current one has grown past segment_bytes.
 */
int wal_write(struct wal *w);
/* fdatasync of the current segment. */
int wal_sync(struct wal *w);
/*
 * A duplicate of the current segment's descriptor, for an fdatasync made
 * by another thread; the caller closes it. Records written before the call
 * are in that file or in an older segment, which rotation already synced.
 */
int wal_dup_fd(const struct wal *w);
/*
 * Makes sure the next bytes records can be written into space reserved on
 * disk (fallocate), rotating to a new segment if the current one is full.
 * -ENOSPC when the file system has no room: the caller refuses the
 * mutation before it changes anything. File systems that cannot reserve
 * space always succeed.
 */
int wal_reserve(struct wal *w, uint64_t bytes);
/*
 * Closes the current segment (after an fdatasync) and starts a new one at
 * the next sequence number; nothing may be pending. A snapshot taken at
 * wal_written_seq then covers whole segments.
 */
int wal_rotate(struct wal *w);
/*
 * The same without any fdatasync, directory sync or space reservation
 * (wal_reserve makes the reservation before the next record): for a
 * writer whose policy does not sync (--sync=write), so that rotating does
 * not wait for the disk while clients wait (live update).
 */
int wal_rotate_light(struct wal *w);
/* Bytes in the current segment, and its file name (borrowed). */
uint64_t wal_segment_size(const struct wal *w);
const char *wal_segment_path(const struct wal *w);

/* --- reading ------------------------------------------------------------ */

struct wal_frame {
	uint16_t type;
	uint64_t seq;
	uint64_t time_ns;
	const void *payload;		/* borrowed for the callback */
	uint32_t len;
};

/*
 * Return 0 to go on; WAL_SCAN_STOP to end the scan there (the record is
 * not counted); -EBADMSG to treat the record as corrupt (it is valid on
 * disk but cannot be applied); any other -errno stops the scan with that
 * error.
 */
typedef int (*wal_frame_fn)(void *arg, const struct wal_frame *f);
#define WAL_SCAN_STOP	1

enum wal_damage {
	WAL_CLEAN,		/* every record valid up to the end */
	WAL_TORN_TAIL,		/* an incomplete record at the very end */
	WAL_CORRUPT,		/* a bad record with valid data after it */
};

struct wal_scan {
	enum wal_damage damage;
	uint64_t first_seq;		/* first record seen (0: none) */
	uint64_t last_seq;		/* last valid record (0: none) */
	uint64_t records;		/* valid records passed to fn */
	uint32_t segments;
	char *bad_file;			/* where the damage starts, or NULL */
	uint64_t bad_offset;
	char *why;			/* one line, or NULL when clean */
};

/*
 * Reads the segments of dir in order and calls fn for each valid record
 * with seq > after_seq, checking sequence continuity. Stops at the first
 * bad record and says in *out what and where (out is freed with
 * wal_scan_release). Opens everything read-only and changes nothing.
 * Returns 0 (damage included) or -errno for an I/O error or fn's error.
 */
int wal_scan(const char *dir, uint64_t after_seq, wal_frame_fn fn, void *arg,
	     struct wal_scan *out);
void wal_scan_release(struct wal_scan *s);

struct wal_recovery {
	struct wal_scan scan;
	bool truncated;			/* a torn tail was cut off */
	char *moved_to;			/* directory damaged segments went to */
};

/*
 * wal_scan, then repair: truncate a torn tail (and fsync), or move the
 * damaged segment and every later one into <dir>/damaged-<time>/. After
 * this the log holds exactly the records passed to fn. Free *out with
 * wal_recovery_release.
 */
int wal_recover(const char *dir, uint64_t after_seq, wal_frame_fn fn,
		void *arg, struct wal_recovery *out);
void wal_recovery_release(struct wal_recovery *r);

/*
 * Removes the segments whose records all have seq <= upto (a snapshot
 * covers them). The current segment of w, if given, is never removed.
 */
int wal_remove_covered(const char *dir, uint64_t upto, const struct wal *w);

/* --- record payloads ------------------------------------------------------ */

/* Encodes a store mutation record into out (appends). */
void wal_encode_mutation(const struct store_mutation *m, struct buf *out);

/*
 * Decodes a WAL_REC_MUTATION payload and calls fn with it (borrowed for
 * the call). Returns fn's result, or -EINVAL for a payload that is not a
 * valid lxs.Mutation.
 */
int wal_decode_mutation(const void *payload, uint32_t len,
			int (*fn)(void *arg, const struct store_mutation *m),
			void *arg);

/*
 * Decodes a WAL_REC_MUTATION payload and applies it to s. Returns 0, or
 * -EINVAL for a payload that does not decode or does not apply.
 */
int wal_apply_mutation(struct store *s, const void *payload, uint32_t len);

struct wal_quota {
	bool global;
	uint32_t domid;
	const char *name;
	uint32_t value;
	bool soft;
};

void wal_encode_quota(const struct wal_quota *q, struct buf *out);
/*
 * Decodes a WAL_REC_QUOTA payload into *q; q->name points to name (room
 * for name_size bytes). Returns 0 or -EINVAL.
 */
int wal_decode_quota(const void *payload, uint32_t len, struct wal_quota *q,
		     char *name, size_t name_size);

/* Decodes one lxs.Perm message (shared by the snapshot reader). */
int wal_decode_perm(const uint8_t *p, size_t len, struct store_perm *out);
/* Decodes and applies a WAL_REC_QUOTA payload. */
int wal_apply_quota(struct store *s, const void *payload, uint32_t len);

#endif
