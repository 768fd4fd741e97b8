/*
 * snapshot: the whole store in one compressed, checksummed file.
 *
 * A snapshot covers the log up to a sequence number: loading it and then
 * replaying the records after that number rebuilds the state. Files are
 * written to a temporary name, synced, renamed to snap-<seq>.lxs and the
 * directory synced, so a crash leaves either the old set or the new one.
 * Layout in snapshot/write.c and docs/formats/snapshot.md.
 *
 * Errors are 0 or -errno; a file that is not a valid snapshot is -EINVAL
 * with the reason in *why where the call has one.
 */
#ifndef LXS_SNAPSHOT_H
#define LXS_SNAPSHOT_H

#include <stdint.h>
#include <sys/types.h>

#include "common/common.h"
#include "store/store.h"
#include "wal/wal.h"

struct snap_info {
	uint64_t seq;		/* last log record the snapshot includes */
	uint64_t time_ns;	/* when it was taken */
	uint64_t nodes;
	uint64_t domains;	/* records of the domain table */
	bool has_domains;	/* false: written before domain records */
	uint64_t file_bytes;
	uint64_t raw_bytes;	/* uncompressed stream */
	char *path;		/* owned; snap_info_release frees */
};

void snap_info_release(struct snap_info *i);

/*
 * Writes a snapshot of s and the domain table doms (borrowed; NULL: no
 * domains) covering seq into dir and installs it atomically. *out (may be
 * NULL) describes the installed file.
 */
int snap_write(const struct store *s, const struct wal_domtab *doms,
	       uint64_t seq, const char *dir, struct snap_info *out);

/*
 * Starts snap_write in a child process, which shares the store as it is
 * now (copy-on-write) while the caller goes on changing it. *child is the
 * pid to wait for: exit status 0 means the snapshot is installed.
 */
int snap_write_background(const struct store *s,
			  const struct wal_domtab *doms, uint64_t seq,
			  const char *dir, pid_t *child);

/*
 * Checks magic, version and checksums, then loads every node and the quotas
 * into s, which must be fresh from store_new. On failure s is half-built:
 * the caller discards it. *why (may be NULL) gets a one-line reason, freed
 * by the caller.
 */
int snap_load(const char *path, struct store *s, struct snap_info *out,
	      char **why);
/* snap_load, and the domain table into doms (empty, from wal_domtab_new). */
int snap_load_domains(const char *path, struct store *s,
		      struct wal_domtab *doms, struct snap_info *out,
		      char **why);

/*
 * Like snap_load, but each node goes to fn (in pre-order, borrowed for the
 * call) instead of into a store; the quotas go into meta and the domain
 * records into doms (an empty table) when they are not NULL. Returns 0,
 * -errno (with *why), or fn's value if fn stopped the scan by returning
 * non-zero.
 */
int snap_scan(const char *path, store_walk_fn fn, void *arg,
	      struct store *meta, struct wal_domtab *doms,
	      struct snap_info *out, char **why);

/* Checks a snapshot completely without building a store. */
int snap_verify(const char *path, struct snap_info *out, char **why);

/* The snapshots of dir, newest first. Free with snap_list_free. */
int snap_list(const char *dir, struct snap_info **out, uint32_t *n);
void snap_list_free(struct snap_info *v, uint32_t n);

/*
 * Keeps the newest keep snapshots (and removes leftover temporary files);
 * *oldest_kept gets the seq of the oldest kept one (0 if none), the point
 * up to which the log is no longer needed.
 */
int snap_prune(const char *dir, uint32_t keep, uint64_t *oldest_kept);

/* --- recovery: snapshot + log ------------------------------------------ */

struct snap_recovery {
	struct snap_info used;		/* path NULL: no snapshot was used */
	uint32_t rejected;		/* snapshots that did not load */
	char *rejected_why;		/* the newest one's reason */
	char *moved_to;			/* where rejected snapshots went */
	struct wal_recovery wal;
	uint64_t last_seq;		/* last record in the rebuilt state */
	uint64_t records;		/* log records replayed */
	uint64_t duration_ns;
	/* The domain table: the snapshot's, then the log's changes. Owned;
	 * a caller may take it (and set this to NULL). */
	struct wal_domtab *domains;
};

/* Makes a fresh store (with the caller's callbacks) for recovery. */
typedef struct store *(*snap_store_fn)(void *arg);

/*
 * Rebuilds the state kept in dir: the newest snapshot that loads, then the
 * log records after it, up to and including upto (UINT64_MAX: all). With
 * repair (the daemon), a torn log tail is cut off and damaged log segments
 * and rejected snapshots are moved into a damaged-<time>/ directory, so
 * that the log can go on after last_seq; without it (inspection), nothing
 * on disk changes. *out gets the store (caller frees). Returns 0 (damage,
 * including a record of a type this version does not know, is described in
 * *r, never a refusal) or -errno for an I/O error.
 */
int snap_recover(const char *dir, snap_store_fn new_store, void *arg,
		 uint64_t upto, bool repair, struct store **out,
		 struct snap_recovery *r);
void snap_recovery_release(struct snap_recovery *r);
/*
 * Applies to s (domain records: to doms) the log records of dir after
 * from->seq, up to and including upto, read-only, as snap_recover replays
 * them (a record that does not apply is damage in *out), reading on from
 * from (wal_scan_from). out->end is where the next call goes on. Free
 * *out with wal_scan_release.
 */
int snap_follow(const char *dir, struct store *s, struct wal_domtab *doms,
		const struct wal_pos *from, uint64_t upto,
		struct wal_scan *out);

#endif
