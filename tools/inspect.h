/*
 * lxenstore-inspect: what its command files share.
 *
 * One run is one struct inspect: the global options, the source of the
 * state (a state directory, or FILE... operands linked into a private
 * directory so that the libraries see a state directory), and the exit
 * status so far. Every reading goes through the daemon's own code:
 * snap_recover (never with repair), snap_verify, wal_scan. Nothing under
 * the source is opened for writing, locked or created; import is the only
 * command that writes, and only into an empty directory.
 *
 * Files:
 *   inspect-main.c    options, the command table, at, state
 *   inspect.c         messages, times, points, progress
 *   inspect-source.c  the source: files, log survey, rebuilding a state,
 *                     streaming its nodes
 *   inspect-tap.c     decoding hooks on the libraries (see inspect_tap_*)
 *   inspect-ls.c      ls, read, perms
 *   inspect-stat.c    stat
 *   inspect-verify.c  verify
 *   inspect-log.c     log
 *   inspect-diff.c    diff, and reading a running daemon
 *   inspect-json.c    export --json, import --json
 */
#ifndef LXS_INSPECT_H
#define LXS_INSPECT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/common.h"
#include "snapshot/snapshot.h"
#include "store/store.h"
#include "wal/wal.h"

#define INSPECT_PROG		"lxenstore-inspect"
/* lxenstored's own default (server/server.h). */
#define INSPECT_DEFAULT_DIR	"/var/lib/lxenstored"

/* Exit statuses; lxenstore-inspect(1), EXIT STATUS. */
/* How often reading a live daemon's directory is repeated when the
 * daemon changed it underneath. */
#define INSPECT_LIVE_TRIES	25

#define INSPECT_EXIT_OK		0
#define INSPECT_EXIT_FAIL	1	/* unreadable or damaged input, no such node */
#define INSPECT_EXIT_USAGE	2	/* bad command line, unsupported input */
#define INSPECT_VERIFY_TORN	1
#define INSPECT_VERIFY_CORRUPT	2
#define INSPECT_VERIFY_ERROR	3	/* nothing could be verified */

/* "No limit" for a sequence number. */
#define INSPECT_SEQ_ALL		UINT64_MAX

/* A log segment as the survey found it. */
struct inspect_seg {
	char *path;			/* in src->dir */
	uint64_t first_seq;		/* from its name */
	uint64_t bytes;			/* file size */
	uint64_t records;		/* valid records read */
	uint64_t lo, hi;		/* their seq range (records != 0) */
	uint64_t t_lo, t_hi;		/* their times, ns */
};

/* One place where reading stopped. */
struct inspect_damage {
	enum wal_damage kind;		/* WAL_TORN_TAIL or WAL_CORRUPT */
	char *file;			/* as the user named it */
	uint64_t offset;
	uint64_t after_seq;		/* last valid record before it */
	char *why;
};

/*
 * What the log holds: every segment, read through wal_scan from the first
 * one. With INSPECT_SURVEY_ALL, reading restarts after each damaged segment
 * so that every checksum is looked at; otherwise it stops at the first
 * damage.
 */
struct inspect_survey {
	struct inspect_seg *segs;	/* by first_seq */
	uint32_t nsegs;
	uint64_t log_lo;		/* first seq the log starts at (0: no log) */
	uint64_t last_seq;		/* last record of the unbroken run from log_lo */
	uint64_t records;		/* in that run */
	struct inspect_damage *dmg;
	uint32_t ndmg;
	uint64_t unknown_types;		/* records of a type this version lacks */
	uint64_t unknown_seq;		/* the first of them */
	uint32_t unknown_type;
};

/* The files a run reads. */
struct inspect_src {
	char *dir;			/* the state directory (or private links) */
	char *label;			/* how messages name the source */
	bool linked;			/* dir is ours: removed by inspect_src_close */
	char **link_from;		/* FILE operands, as given */
	char **link_to;			/* ... and their links in dir */
	uint32_t nlinks;
	uint32_t nsnap_files, nseg_files;
	char **bad_file;		/* FILE operands that cannot be used */
	char **bad_why;
	uint32_t nbad;
	pid_t daemon;			/* a daemon holds the directory lock; 0: none */
};

struct inspect {
	const char *state_dir;		/* --state-dir, or NULL */
	char **files;			/* FILE... operands */
	int nfiles;
	bool tty_err;			/* progress bars on stderr */
	bool keep_bad;			/* verify: unusable FILEs are findings */
	struct inspect_src *src;	/* opened on first use */
	int status;			/* exit status so far (damage seen) */
};

/* A state rebuilt (or about to be streamed) from a source. */
struct inspect_state {
	struct store *store;		/* NULL while streaming from snap */
	char *snap;			/* the snapshot streamed, when store is NULL */
	struct store *meta;		/* streaming: receives the snapshot's quotas */
	uint64_t seq;			/* last record included */
	struct snap_info base;		/* snapshot used (path NULL: none) */
	uint64_t replayed;		/* log records on top of it */
	/* The guest domains and their ring watches (owned; streaming: filled
	 * by each walk). */
	struct wal_domtab *domains;
};

/* --- inspect-main.c -------------------------------------------------------- */

/* Prints the usage line of cmd (NULL: all) on stderr; returns INSPECT_EXIT_USAGE. */
int inspect_usage(const char *cmd);

/* --- inspect.c ----------------------------------------------------------- */

/* "lxenstore-inspect: " + message on stderr; flushes stdout first. */
void inspect_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "lxenstore-inspect: note: " + message. */
void inspect_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* UTC ISO 8601 with microseconds: "2025-01-02T03:04:05.123456Z". */
#define INSPECT_TIME_LEN	32
void inspect_time_format(uint64_t ns, char out[INSPECT_TIME_LEN]);
/*
 * Parses YYYY-MM-DD[THH:MM[:SS[.frac]]][Z|+HH:MM|-HH:MM] (UTC unless an
 * offset is given; a blank may replace the T) or @SECONDS[.frac].
 * Returns 0 or -EINVAL.
 */
int inspect_time_parse(const char *s, uint64_t *ns);

/* A point of the state: "latest", a sequence number, or a time. */
struct inspect_point {
	enum { INSPECT_AT_LATEST, INSPECT_AT_SEQ, INSPECT_AT_TIME } kind;
	uint64_t value;
};
/* Digits are a seq, anything else must be a time. 0 or -EINVAL. */
int inspect_point_parse(const char *s, struct inspect_point *p);

/*
 * Progress on stderr, only when it is a terminal (in->tty_err): a bar when
 * total is known, else a counter. add may be called very often; the line
 * is redrawn at most ten times a second. end erases it.
 */
void inspect_progress_begin(const struct inspect *in, const char *what,
			    uint64_t total);
void inspect_progress_add(uint64_t n);
void inspect_progress_end(void);

/* Writes stdout out; 0, or INSPECT_EXIT_FAIL with a message. */
int inspect_flush_stdout(void);
/* Appends the whole of path ("-": standard input) to out: 0 or -errno. */
int inspect_read_all(const char *path, struct buf *out);

/* --- inspect-source.c ------------------------------------------------------- */

/*
 * Opens the source of in (--state-dir, FILE..., or the default directory)
 * once; later calls return the same. Returns 0 or -errno after a message.
 */
int inspect_src_get(struct inspect *in, struct inspect_src **out);
/* Removes the private link directory, if any. NULL is a no-op. */
void inspect_src_close(struct inspect_src *src);
/* The name the user gave for a file of src->dir (borrowed). */
const char *inspect_src_name(const struct inspect_src *src, const char *path);

/* inspect_survey_log flags. */
#define INSPECT_SURVEY_ALL	1u	/* go on after a damaged segment */
#define INSPECT_SURVEY_DECODE	2u	/* check that every payload decodes */

/* Reads the log of src; free with inspect_survey_release. */
int inspect_survey_log(struct inspect_src *src, unsigned int flags,
		       struct inspect_survey *out);
void inspect_survey_release(struct inspect_survey *sv);
/* The first seq of the oldest segment of src (0: no log). */
int inspect_log_start(const struct inspect_src *src, uint64_t *first_seq);

/*
 * The state as it was after record upto (INSPECT_SEQ_ALL: the newest).
 * With want_store false, the newest state may be left to be streamed from
 * its snapshot (no log record after it), which is much faster for a large
 * store than building it. Damage that changes the state is reported and
 * sets in->status. Free with inspect_state_free.
 */
int inspect_state_open(struct inspect *in, uint64_t upto, bool want_store,
		       struct inspect_state **out);
/* As inspect_state_open, for a point (seq or time) of the source. */
int inspect_state_open_at(struct inspect *in, const struct inspect_point *p,
			  bool want_store, struct inspect_state **out);
/* A state from one snapshot file, whatever the source. */
int inspect_state_open_file(struct inspect *in, const char *path,
			    struct inspect_state **out);
void inspect_state_free(struct inspect_state *st);
/*
 * Calls fn for every node in pre-order, then the special nodes, as
 * store_walk does. Stops with fn's return when it is not 0.
 */
int inspect_state_walk(struct inspect *in, struct inspect_state *st,
		       store_walk_fn fn, void *arg);
/* The store quotas live in (the streamed snapshot's META, or the store). */
const struct store *inspect_state_quotas(const struct inspect_state *st);
/* Maps a time to the last record appended at or before it. */
int inspect_time_to_seq(struct inspect *in, uint64_t t, uint64_t *seq);

/* A fresh store with no callbacks, as recovery builds them. */
struct store *inspect_store_new(void *arg);

/* --- inspect-tap.c ---------------------------------------------------------- */

/*
 * Streams the nodes of a snapshot file to fn in file order (pre-order,
 * then the special nodes) without building a store, after the same checks
 * as snap_load. Quotas go into meta (a fresh store), domain records into
 * doms (an empty table, or NULL). *nodes counts the
 * nodes handed out; *stop gets fn's return if it was not 0, which ends
 * the stream. Returns as snap_load (0 when fn stopped it).
 */
int inspect_tap_snapshot(const char *path, store_walk_fn fn, void *arg,
			 struct store *meta, struct wal_domtab *doms,
			 struct snap_info *info, uint64_t *nodes, int *stop,
			 char **why);
/* Decodes a WAL_REC_QUOTA payload; *q's name points into *storage. */
int inspect_tap_quota(const void *payload, uint32_t len, struct wal_quota *q,
		      void **storage);
void inspect_tap_quota_free(void *storage);

/* --- commands ------------------------------------------------------------- */

/*
 * Each command parses its own options (argv[0] is its name), then opens
 * what it reads. at is the point given to `at` (INSPECT_AT_LATEST
 * otherwise). Returns the exit status.
 */
int inspect_cmd_state(struct inspect *in, const struct inspect_point *at,
		      int argc, char **argv);
int inspect_cmd_ls(struct inspect *in, const struct inspect_point *at,
		   int argc, char **argv);
int inspect_cmd_read(struct inspect *in, const struct inspect_point *at,
		     int argc, char **argv);
int inspect_cmd_perms(struct inspect *in, const struct inspect_point *at,
		      int argc, char **argv);
int inspect_cmd_stat(struct inspect *in, const struct inspect_point *at,
		     int argc, char **argv);
int inspect_cmd_export(struct inspect *in, const struct inspect_point *at,
		       int argc, char **argv);
int inspect_cmd_verify(struct inspect *in, const struct inspect_point *at,
		       int argc, char **argv);
int inspect_cmd_log(struct inspect *in, const struct inspect_point *at,
		    int argc, char **argv);
int inspect_cmd_diff(struct inspect *in, const struct inspect_point *at,
		     int argc, char **argv);
int inspect_cmd_import(struct inspect *in, const struct inspect_point *at,
		       int argc, char **argv);

/* Formats perms as "n0,r5" (sep ",") or "n0 r5" into out (appends, NUL-less). */
void inspect_perms_format(const struct store_perm *p, uint32_t n,
			  const char *sep, struct buf *out);

#endif
