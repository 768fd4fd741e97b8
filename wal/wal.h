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
#define WAL_REC_DOMAIN		3	/* lxs.DomainChange */

struct wal_pos;

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
	/* The log is only ever as durable as the page cache (--sync=write
	 * or none): rotations skip their fdatasync and directory sync, which
	 * would stall the loop flushing a segment's worth of dirty pages. */
	bool no_sync;
	/* New segments take the spare file (wal_spare_prepare) when there
	 * is one: written over rather than appended to, so an fdatasync
	 * flushes data only, with no file size or extent to commit. */
	bool use_spare;
	/* Records are copied into a shared mapping of space reserved for
	 * the segment (fallocate) rather than written with write(2): for a
	 * log that is never synced (--sync=write), it saves a system call
	 * per group commit. Without fallocate, or with no room for it,
	 * segments are written as usual. */
	bool map;
};

/* The spare segment's file name in the state directory. */
#define WAL_SPARE_NAME		"wal-spare"

/*
 * Makes <dir>/wal-spare a file of bytes zeros on disk (written and
 * fdatasync'ed, under a temporary name first), unless one is there
 * already. Blocking (it writes bytes); meant for a thread of its own. It
 * only touches its two file names, so it may run beside a writer on the
 * same directory. 0 or -errno (ENOSPC: no spare; segments are then
 * appended to as without one).
 */
int wal_spare_prepare(const char *dir, uint64_t bytes);

/*
 * Starts a new segment whose first record will be next_seq. The directory
 * must exist. Caller frees with wal_close.
 */
int wal_open(const struct wal_config *cfg, uint64_t next_seq,
	     struct wal **out);
/*
 * Live update: goes on writing the segment at path, written by another
 * process up to and including record last_seq, with nothing pending (so
 * no new segment, no sync: the file is as durable as that writer left
 * it). end (may be NULL) is where a scan found last_seq to end; in any
 * other segment, or without it, the segment is read to find its end (a
 * segment may continue in zeros). -EINVAL if path does not start a
 * segment at or before last_seq + 1, or does not hold last_seq.
 */
int wal_adopt(const struct wal_config *cfg, const char *path,
	      uint64_t last_seq, const struct wal_pos *end,
	      struct wal **out);
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
/*
 * Whether the current segment is written over zeros (a spare), and how
 * many spares this writer has taken so far.
 */
bool wal_prezeroed(const struct wal *w);
uint64_t wal_spares_used(const struct wal *w);
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

/*
 * A place in the log: just after record seq, which ends at byte off of the
 * segment whose first record is seg_first. All zero: before the first
 * record.
 */
struct wal_pos {
	uint64_t seq;
	uint64_t seg_first;
	uint64_t off;
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
	struct wal_pos end;		/* after the last valid record read */
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
/*
 * The same, reading on from pos (a previous scan's out->end) instead of
 * from the start of the segment holding after_seq, so that following a
 * growing log costs what was added, not the segment's size. A pos that is
 * not in the log any more (its segment removed or cut) falls back to a
 * whole scan after max(after_seq, pos->seq). NULL: wal_scan.
 */
int wal_scan_from(const char *dir, const struct wal_pos *pos,
		  uint64_t after_seq, wal_frame_fn fn, void *arg,
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

/* --- domain records (wal/domain.c) ----------------------------------------- */

/* A watch of a guest's ring connection. Strings owned by the record. */
struct wal_watch {
	char *path;			/* as the guest gave it */
	char *token;
	int depth;			/* < 0: unlimited */
};

/*
 * The reply to a ring request that changed something (data owned). Kept
 * until a later one is WAL_RING_WINDOW bytes of requests further: the
 * daemon publishes req_cons only past requests whose reply is in the
 * ring, and a guest never gets more than one ring (1024 bytes) ahead of
 * req_cons, so an older request is behind req_cons for sure.
 */
struct wal_reply {
	uint32_t req_end;		/* req_cons just after the request */
	uint32_t len;
	uint8_t *data;			/* header + payload, as sent */
	bool has_rsp_end;		/* false: logged by an older daemon */
	uint32_t rsp_end;		/* rsp_prod just after it in the ring */
};

#define WAL_RING_WINDOW		1024u

/* Frees the first k of the *n replies in v and moves the rest down. */
void wal_replies_drop(struct wal_reply *v, uint32_t *n, uint32_t k);

/*
 * One guest domain as a restarted daemon (or live update) needs it to
 * serve the guest's ring again: plain data, no handles. dom0's kernel ring
 * is domid 0 (gfn 0, remote_port its xsd_port; its page is found again
 * from xsd_kva at every start). The daemon converts its
 * struct domain to and from this (server/domain.c, domain_export and
 * domain_import); the log, the snapshots and the inspect tool see only
 * this.
 */
struct wal_domain {
	uint32_t domid;
	bool introduced;		/* false: only SET_FEATURE so far */
	uint64_t gfn;
	uint32_t remote_port;
	uint32_t features;
	uint32_t target;		/* LXS_DOMID_INVALID: none */
	bool shutdown;
	uint8_t handle[16];		/* Xen's UUID of it; zero: unknown */
	uint32_t nwatches;
	struct wal_watch *watches;	/* owned */
	uint32_t nreplies;
	struct wal_reply *replies;	/* owned; oldest first */
	/* The last message consumed in part: its first partial_len bytes,
	 * ending at request position partial_end (partial NULL: none). */
	uint8_t *partial;		/* owned */
	uint32_t partial_len;
	uint32_t partial_end;
	/* The last message longer than the ring that went out in pieces
	 * (RING_OUT; NULL: none), with its rsp_end; a reply (its header's
	 * type is not WATCH_EVENT) has its request's req_end. Owned. */
	struct wal_reply *out;
};

/* Frees the watches, replies and partial message of d (not d itself). */
void wal_domain_release(struct wal_domain *d);

enum wal_domain_kind {
	WAL_DOMAIN_SET = 0,		/* dom is the new record; watches kept */
	WAL_DOMAIN_RELEASE = 1,
	WAL_DOMAIN_WATCH = 2,		/* path, token, depth */
	WAL_DOMAIN_UNWATCH = 3,		/* path, token */
	WAL_DOMAIN_RESET_WATCHES = 4,
	WAL_DOMAIN_RING_REPLY = 5,	/* req_end, reply, reply_len */
	WAL_DOMAIN_RING_RESET = 6,	/* the ring's indices went to 0 */
	WAL_DOMAIN_RING_PARTIAL = 7,	/* req_end, partial, partial_len */
	WAL_DOMAIN_RING_OUT = 8,	/* req_end, reply, reply_len, rsp_end */
};

/* One WAL_REC_DOMAIN record. Everything borrowed. */
struct wal_domain_change {
	enum wal_domain_kind kind;
	uint32_t domid;
	const struct wal_domain *dom;	/* SET (its watches are ignored) */
	const char *path, *token;	/* WATCH, UNWATCH */
	int depth;			/* WATCH; < 0 unlimited */
	uint32_t req_end;		/* RING_REPLY, RING_PARTIAL */
	const void *reply;		/* RING_REPLY, RING_OUT */
	uint32_t reply_len;
	bool has_rsp_end;		/* RING_REPLY (RING_OUT: always) */
	uint32_t rsp_end;
	const void *partial;		/* RING_PARTIAL: bytes read */
	uint32_t partial_len;
	bool partial_more;		/* they continue the recorded ones */
};

const char *wal_domain_kind_name(enum wal_domain_kind k);
void wal_encode_domain_change(const struct wal_domain_change *ch,
			      struct buf *out);
/*
 * Decodes a WAL_REC_DOMAIN payload and calls fn with it (borrowed for the
 * call). Returns fn's result, or -EINVAL for a payload that is not a valid
 * lxs.DomainChange (a required field missing, an unknown kind, a SET
 * without its domain or a WATCH without its watch).
 */
int wal_decode_domain_change(const void *payload, uint32_t len,
			     int (*fn)(void *arg,
				       const struct wal_domain_change *ch),
			     void *arg);
/* One lxs.Domain with its watches (the snapshot's form); appends. */
void wal_encode_domain(const struct wal_domain *d, struct buf *out);
/* Decodes an lxs.Domain into *out (release with wal_domain_release). */
int wal_decode_domain(const void *payload, uint32_t len,
		      struct wal_domain *out);

/*
 * The domain table: what replay rebuilds from snapshots and WAL_REC_DOMAIN
 * records, and what the daemon keeps live (durable.c) with the same
 * changes. Sorted by domid. Caller frees with wal_domtab_free.
 */
struct wal_domtab;

struct wal_domtab *wal_domtab_new(void);
void wal_domtab_free(struct wal_domtab *t);	/* NULL is a no-op */
uint32_t wal_domtab_count(const struct wal_domtab *t);
/* The i-th record in domid order, or NULL; borrowed until a change. */
const struct wal_domain *wal_domtab_at(const struct wal_domtab *t,
				       uint32_t i);
const struct wal_domain *wal_domtab_find(const struct wal_domtab *t,
					 uint32_t domid);
/* Adds a copy of d with its watches (snapshot load); -EEXIST if known. */
int wal_domtab_put(struct wal_domtab *t, const struct wal_domain *d);
/*
 * Applies one change. -EINVAL if it does not apply: anything but SET for
 * an unknown domain, a WATCH that exists or an UNWATCH that does not, a
 * RING_REPLY shorter than a message header, an empty RING_PARTIAL. SET
 * keeps the watches, replies and partial message; RING_REPLY drops the
 * replies WAL_RING_WINDOW bytes or more behind it; RING_PARTIAL replaces
 * the partial message, or with partial_more appends to it (-EINVAL unless
 * the recorded bytes end where these start); RING_OUT replaces the message
 * going out in pieces; RING_RESET drops replies, partial message and that
 * message.
 */
int wal_domtab_change(struct wal_domtab *t,
		      const struct wal_domain_change *ch);
/* Decodes and applies a WAL_REC_DOMAIN payload; 0 or -EINVAL. */
int wal_domtab_apply(struct wal_domtab *t, const void *payload,
		     uint32_t len);
/*
 * Applies one frame as recovery replays the log: a mutation or quota
 * record to s, a domain record to doms. 0, or -EBADMSG for a record that
 * does not apply or whose type this version does not know (written by a
 * newer daemon: skipping it would drop data silently, so it is damage).
 */
int wal_apply_frame(struct store *s, struct wal_domtab *doms,
		    const struct wal_frame *f);

#endif
