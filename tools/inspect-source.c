/*
 * The source of a run, what its log holds, and the states rebuilt from it.
 *
 * A source is a state directory, or FILE... operands. Snapshots and log
 * segments given one by one are linked into a private directory under
 * $TMPDIR with their canonical names (snap-<seq>.lxs, wal-<seq>.log), so
 * that snap_recover and wal_scan read them exactly as they read a state
 * directory; messages name the files as the user gave them.
 *
 * Reading is safe while lxenstored runs: the libraries open everything
 * read-only and change nothing without repair. The daemon's lock is looked
 * up in /proc/locks, never taken: even a shared lock held for an instant
 * could make a starting daemon refuse the directory. A segment the daemon
 * is appending to may end in a half-written record, and files may be
 * pruned while they are read, so a survey of a live directory is retried
 * on a torn tail or a vanished file.
 *
 * A state is rebuilt with snap_recover (repair false). The newest state,
 * when no log record follows the newest snapshot and the caller needs no
 * random access, is streamed from that snapshot instead (inspect-tap.c).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "tools/inspect.h"

/* The first eight bytes of each kind of file (docs/formats/). */
#define INSPECT_MAGIC_SNAP	"LXS-SNAP"
#define INSPECT_MAGIC_WAL	"LXS-WAL\n"
#define INSPECT_MAGIC_LEN	8

struct store *
inspect_store_new(void *arg)
{
	(void)arg;
	return store_new(NULL, NULL, 0);
}

/* --- the source -------------------------------------------------------------- */

/* The pid holding an flock on <dir>/lock, per /proc/locks; 0 if none. */
static pid_t
inspect_src_daemon(const char *dir)
{
	char *path = xasprintf("%s/lock", dir);
	char line[256];
	struct stat st;
	pid_t pid = 0;
	FILE *f = NULL;

	if (stat(path, &st) == 0)
		f = fopen("/proc/locks", "re");
	while (f && pid == 0 && fgets(line, sizeof(line), f)) {
		char type[16], mode[16], access[16];
		unsigned int maj, min;
		unsigned long ino;
		int p;

		/* Waiters are listed as "N: -> FLOCK ..." and do not parse. */
		if (sscanf(line, "%*d: %15s %15s %15s %d %x:%x:%lu", type, mode,
			   access, &p, &maj, &min, &ino) != 7)
			continue;
		if (strcmp(type, "FLOCK") == 0 && ino == st.st_ino &&
		    maj == major(st.st_dev) && min == minor(st.st_dev))
			pid = p;
	}
	if (f)
		fclose(f);
	free(path);
	return pid;
}

static bool
inspect_dir_has_state(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	bool found = false;
	uint64_t seq;

	while (d && !found && (de = readdir(d)) != NULL)
		found = parse_seq_name(de->d_name, "wal-", ".log", &seq) ||
			parse_seq_name(de->d_name, "snap-", ".lxs", &seq);
	if (d)
		closedir(d);
	return found;
}

static int
inspect_src_open_dir(struct inspect *in, struct inspect_src *src)
{
	const char *dir = in->state_dir ? in->state_dir : INSPECT_DEFAULT_DIR;
	struct stat st;

	if (stat(dir, &st) < 0) {
		int rc = -errno;

		inspect_error("%s: %s", dir, strerror(errno));
		return rc;
	}
	if (!S_ISDIR(st.st_mode)) {
		inspect_error("%s: not a directory (give files without "
			      "--state-dir)", dir);
		return -ENOTDIR;
	}
	if (!inspect_dir_has_state(dir)) {
		inspect_error("%s: no snapshot or log segment here "
			      "(not a state directory?)", dir);
		return -ENOENT;
	}
	src->dir = xstrdup(dir);
	src->label = xstrdup(dir);
	src->daemon = inspect_src_daemon(dir);
	return 0;
}

/*
 * The kind and seq of a FILE operand: from its name, else its magic. A
 * file whose content says it is neither gets *bad, the reason.
 */
static int
inspect_src_classify(const char *file, bool *snap, uint64_t *seq,
		     bool *named, char **bad)
{
	const char *base = strrchr(file, '/');
	char magic[INSPECT_MAGIC_LEN];
	ssize_t n;
	int fd;

	base = base ? base + 1 : file;
	*named = true;
	if (parse_seq_name(base, "snap-", ".lxs", seq)) {
		*snap = true;
		return 0;
	}
	if (parse_seq_name(base, "wal-", ".log", seq)) {
		*snap = false;
		return 0;
	}
	*named = false;
	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int rc = -errno;

		inspect_error("%s: %s", file, strerror(errno));
		return rc;
	}
	n = read(fd, magic, sizeof(magic));
	close(fd);
	if (n == (ssize_t)sizeof(magic) &&
	    memcmp(magic, INSPECT_MAGIC_SNAP, INSPECT_MAGIC_LEN) == 0)
		*snap = true;
	else if (n == (ssize_t)sizeof(magic) &&
		 memcmp(magic, INSPECT_MAGIC_WAL, INSPECT_MAGIC_LEN) == 0)
		*bad = xstrdup("a log segment must keep its name "
			       "wal-<first seq, 16 hex digits>.log");
	else
		*bad = xstrdup("not a snapshot or a log segment of lxenstored");
	return 0;
}

/* Keeps a FILE operand that cannot be used, for verify to report. */
static void
inspect_src_bad(struct inspect_src *src, const char *file, char *why)
{
	src->bad_file[src->nbad] = xstrdup(file);
	src->bad_why[src->nbad++] = why;
}

static int
inspect_src_link(struct inspect_src *src, const char *file, const char *name)
{
	char *target = realpath(file, NULL);
	char *to = xasprintf("%s/%s", src->dir, name);
	int rc = 0;

	if (target == NULL || symlink(target, to) < 0) {
		rc = -errno;
		if (errno == EEXIST)
			inspect_error("%s: another file given is also %s", file,
				      name);
		else
			inspect_error("%s: %s", file, strerror(errno));
		free(to);
	} else {
		src->link_from[src->nlinks] = xstrdup(file);
		src->link_to[src->nlinks++] = to;
	}
	free(target);
	return rc;
}

/*
 * The private link directory, for the signal handler: an interrupted run
 * must not leave it behind in $TMPDIR. unlink and rmdir are safe in a
 * handler; a link being made as the signal comes may be missed.
 */
static const struct inspect_src *inspect_linked;

static void
inspect_src_on_signal(int sig)
{
	const struct inspect_src *src = inspect_linked;

	if (src) {
		for (uint32_t i = 0; i < src->nlinks; i++)
			unlink(src->link_to[i]);
		rmdir(src->dir);
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

static void
inspect_src_guard(const struct inspect_src *src)
{
	struct sigaction sa = { .sa_handler = inspect_src_on_signal };
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGPIPE };

	inspect_linked = src;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < LXS_ARRAY_SIZE(sigs); i++)
		sigaction(sigs[i], &sa, NULL);
}

static int
inspect_src_open_files(struct inspect *in, struct inspect_src *src)
{
	const char *tmp = getenv("TMPDIR");

	src->dir = xasprintf("%s/lxenstore-inspect.XXXXXX",
			     tmp && *tmp ? tmp : "/tmp");
	if (mkdtemp(src->dir) == NULL) {
		int rc = -errno;

		inspect_error("%s: %s", src->dir, strerror(errno));
		free(src->dir);
		src->dir = NULL;
		return rc;
	}
	src->linked = true;
	src->label = xstrdup(in->nfiles == 1 ? in->files[0] : "the files given");
	src->link_from = xcalloc((size_t)in->nfiles, sizeof(char *));
	src->link_to = xcalloc((size_t)in->nfiles, sizeof(char *));
	src->bad_file = xcalloc((size_t)in->nfiles, sizeof(char *));
	src->bad_why = xcalloc((size_t)in->nfiles, sizeof(char *));
	inspect_src_guard(src);
	for (int i = 0; i < in->nfiles; i++) {
		const char *file = in->files[i];
		struct stat st;
		bool snap, named;
		uint64_t seq;
		char *name, *why = NULL;
		int rc;

		if (stat(file, &st) < 0) {
			rc = -errno;
			inspect_error("%s: %s", file, strerror(errno));
			return rc;
		}
		if (!S_ISREG(st.st_mode)) {
			inspect_error("%s: not a regular file%s", file,
				      S_ISDIR(st.st_mode) ?
				      " (use --state-dir for a directory)" : "");
			return -EINVAL;
		}
		rc = inspect_src_classify(file, &snap, &seq, &named, &why);
		if (rc < 0)
			return rc;
		if (why == NULL && snap && !named) {
			struct snap_info info = { 0 };

			/* Its name does not say its seq; its header does. */
			if (snap_verify(file, &info, &why) < 0 && why == NULL)
				why = xstrdup("unreadable");
			seq = info.seq;
			snap_info_release(&info);
		}
		if (why) {
			inspect_src_bad(src, file, why);
			continue;
		}
		if (snap) {
			name = xasprintf("snap-%016" PRIx64 ".lxs", seq);
			src->nsnap_files++;
		} else {
			name = xasprintf("wal-%016" PRIx64 ".log", seq);
			src->nseg_files++;
		}
		rc = inspect_src_link(src, file, name);
		free(name);
		if (rc < 0)
			return rc;
	}
	return 0;
}

void
inspect_src_close(struct inspect_src *src)
{
	if (src == NULL)
		return;
	if (inspect_linked == src)
		inspect_linked = NULL;
	for (uint32_t i = 0; i < src->nlinks; i++) {
		unlink(src->link_to[i]);
		free(src->link_to[i]);
		free(src->link_from[i]);
	}
	if (src->linked && src->dir)
		rmdir(src->dir);
	for (uint32_t i = 0; i < src->nbad; i++) {
		free(src->bad_file[i]);
		free(src->bad_why[i]);
	}
	free(src->bad_file);
	free(src->bad_why);
	free(src->link_to);
	free(src->link_from);
	free(src->dir);
	free(src->label);
	free(src);
}

int
inspect_src_get(struct inspect *in, struct inspect_src **out)
{
	struct inspect_src *src;
	int rc;

	if (in->src == NULL) {
		src = xcalloc(1, sizeof(*src));
		if (in->nfiles)
			rc = inspect_src_open_files(in, src);
		else
			rc = inspect_src_open_dir(in, src);
		/* Only verify reports unusable files; nothing else can go on. */
		for (uint32_t i = 0; rc == 0 && !in->keep_bad && i < src->nbad;
		     i++) {
			inspect_error("%s: %s", src->bad_file[i], src->bad_why[i]);
			rc = -EINVAL;
		}
		if (rc < 0) {
			inspect_src_close(src);
			return rc;
		}
		in->src = src;
	}
	*out = in->src;
	return 0;
}

const char *
inspect_src_name(const struct inspect_src *src, const char *path)
{
	for (uint32_t i = 0; i < src->nlinks; i++)
		if (strcmp(src->link_to[i], path) == 0)
			return src->link_from[i];
	return path;
}

/* --- the log survey -------------------------------------------------------------- */

static int
inspect_seg_cmp(const void *a, const void *b)
{
	const struct inspect_seg *x = a, *y = b;

	return x->first_seq < y->first_seq ? -1 : x->first_seq > y->first_seq;
}

/* The segments of dir by first seq, with their sizes. */
static int
inspect_survey_list(const char *dir, struct inspect_survey *sv)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	uint32_t cap = 0;

	if (d == NULL)
		return -errno;
	while ((de = readdir(d)) != NULL) {
		struct stat st;
		uint64_t seq;
		char *path;

		if (!parse_seq_name(de->d_name, "wal-", ".log", &seq))
			continue;
		path = xasprintf("%s/%s", dir, de->d_name);
		/* Pruned since readdir: not part of the log any more. */
		if (stat(path, &st) < 0) {
			free(path);
			continue;
		}
		if (sv->nsegs == cap) {
			cap = cap ? cap * 2 : 8;
			sv->segs = xrealloc(sv->segs, cap * sizeof(*sv->segs));
		}
		memset(&sv->segs[sv->nsegs], 0, sizeof(sv->segs[0]));
		sv->segs[sv->nsegs].path = path;
		sv->segs[sv->nsegs].first_seq = seq;
		sv->segs[sv->nsegs++].bytes = (uint64_t)st.st_size;
	}
	closedir(d);
	if (sv->nsegs)
		qsort(sv->segs, sv->nsegs, sizeof(*sv->segs), inspect_seg_cmp);
	return 0;
}

struct survey_ctx {
	struct inspect_survey *sv;
	uint32_t cur;			/* segment of the last record */
	bool decode;			/* check that every payload decodes */
	uint64_t bad_seq;
	char *bad_why;			/* why record bad_seq was refused */
};

static int
inspect_survey_accept(void *arg, const struct store_mutation *m)
{
	(void)arg;
	(void)m;
	return 0;
}

static int
inspect_survey_refuse(struct survey_ctx *c, uint64_t seq, char *why)
{
	free(c->bad_why);
	c->bad_seq = seq;
	c->bad_why = why;
	return -EBADMSG;
}

static int
inspect_survey_domain(void *arg, const struct wal_domain_change *ch)
{
	return 0;
}

static int
inspect_survey_frame(void *arg, const struct wal_frame *f)
{
	struct survey_ctx *c = arg;
	struct inspect_survey *sv = c->sv;
	struct inspect_seg *g;
	struct wal_quota q;
	void *qmem;

	while (c->cur + 1 < sv->nsegs && f->seq >= sv->segs[c->cur + 1].first_seq)
		c->cur++;
	if (f->type != WAL_REC_MUTATION && f->type != WAL_REC_QUOTA &&
	    f->type != WAL_REC_DOMAIN) {
		if (sv->unknown_types++ == 0) {
			sv->unknown_seq = f->seq;
			sv->unknown_type = f->type;
		}
		if (c->decode)
			return inspect_survey_refuse(c, f->seq,
				xasprintf("record %" PRIu64 " has unknown type %u "
					  "(written by a newer lxenstored?)",
					  f->seq, f->type));
	} else if (c->decode && f->type == WAL_REC_MUTATION) {
		if (wal_decode_mutation(f->payload, f->len,
					 inspect_survey_accept, NULL) < 0)
			return inspect_survey_refuse(c, f->seq,
				xasprintf("record %" PRIu64 " does not decode",
					  f->seq));
	} else if (c->decode && f->type == WAL_REC_DOMAIN) {
		if (wal_decode_domain_change(f->payload, f->len,
					     inspect_survey_domain, NULL) < 0)
			return inspect_survey_refuse(c, f->seq,
				xasprintf("record %" PRIu64 " is not a domain "
					  "change", f->seq));
	} else if (c->decode) {
		if (inspect_tap_quota(f->payload, f->len, &q, &qmem) < 0 ||
		    store_quota_lookup(q.name) < 0) {
			inspect_tap_quota_free(qmem);
			return inspect_survey_refuse(c, f->seq,
				xasprintf("record %" PRIu64 " is not a known "
					  "quota change", f->seq));
		}
		inspect_tap_quota_free(qmem);
	}
	inspect_progress_add(1);
	g = &sv->segs[c->cur];
	if (g->records++ == 0) {
		g->lo = f->seq;
		g->t_lo = f->time_ns;
	}
	g->hi = f->seq;
	g->t_hi = f->time_ns;
	return 0;
}

static void
inspect_survey_damage(struct inspect_survey *sv, const struct inspect_src *src,
		      struct wal_scan *scan, struct survey_ctx *c)
{
	struct inspect_damage *d;

	sv->dmg = xrealloc(sv->dmg, (sv->ndmg + 1) * sizeof(*sv->dmg));
	d = &sv->dmg[sv->ndmg++];
	d->kind = scan->damage;
	d->file = xstrdup(inspect_src_name(src, scan->bad_file));
	d->offset = scan->bad_offset;
	d->after_seq = scan->last_seq;
	if (c->bad_why && c->bad_seq == scan->last_seq + 1) {
		d->why = c->bad_why;
		c->bad_why = NULL;
	} else {
		d->why = scan->why ? xstrdup(scan->why) : xstrdup("bad record");
	}
}

static int
inspect_survey_once(const struct inspect_src *src, unsigned int flags,
		    struct inspect_survey *sv)
{
	struct survey_ctx c = {
		.sv = sv,
		.decode = flags & INSPECT_SURVEY_DECODE,
	};
	bool all = flags & INSPECT_SURVEY_ALL;
	uint64_t after;
	bool first = true;
	int rc;

	memset(sv, 0, sizeof(*sv));
	rc = inspect_survey_list(src->dir, sv);
	if (rc < 0 || sv->nsegs == 0)
		return rc;
	sv->log_lo = sv->segs[0].first_seq;
	after = sv->log_lo ? sv->log_lo - 1 : 0;
	for (;;) {
		struct wal_scan scan;
		int32_t k = -1;

		rc = wal_scan(src->dir, after, inspect_survey_frame, &c, &scan);
		if (rc < 0) {
			wal_scan_release(&scan);
			break;
		}
		if (first) {
			sv->last_seq = scan.records ? scan.last_seq : 0;
			sv->records = scan.records;
			first = false;
		}
		if (scan.damage == WAL_CLEAN) {
			wal_scan_release(&scan);
			break;
		}
		inspect_survey_damage(sv, src, &scan, &c);
		for (uint32_t i = 0; i < sv->nsegs; i++)
			if (strcmp(sv->segs[i].path, scan.bad_file) == 0)
				k = (int32_t)i;
		wal_scan_release(&scan);
		/* Go on with the next segment, to check every checksum. */
		if (!all || k < 0 || (uint32_t)k + 1 >= sv->nsegs)
			break;
		c.cur = (uint32_t)k + 1;
		after = sv->segs[c.cur].first_seq - 1;
	}
	free(c.bad_why);
	return rc;
}

int
inspect_log_start(const struct inspect_src *src, uint64_t *first_seq)
{
	struct inspect_survey sv = { 0 };
	int rc = inspect_survey_list(src->dir, &sv);

	*first_seq = rc == 0 && sv.nsegs ? sv.segs[0].first_seq : 0;
	inspect_survey_release(&sv);
	return rc;
}

void
inspect_survey_release(struct inspect_survey *sv)
{
	for (uint32_t i = 0; i < sv->nsegs; i++)
		free(sv->segs[i].path);
	for (uint32_t i = 0; i < sv->ndmg; i++) {
		free(sv->dmg[i].file);
		free(sv->dmg[i].why);
	}
	free(sv->segs);
	free(sv->dmg);
	memset(sv, 0, sizeof(*sv));
}

int
inspect_survey_log(struct inspect_src *src, unsigned int flags,
		   struct inspect_survey *out)
{
	int rc;

	for (int i = 1;; i++) {
		bool damaged;

		rc = inspect_survey_once(src, flags, out);
		damaged = rc == 0 && out->ndmg;
		if (!src->daemon || i == INSPECT_LIVE_TRIES ||
		    (rc != -ENOENT && !damaged))
			break;
		/* The daemon may be writing that record, or pruning segments
		 * between our listing and our reading (records then look
		 * missing): real damage is still there on the next try. A
		 * busy machine needs more than a few tries. */
		inspect_survey_release(out);
		usleep(10000 * (useconds_t)i);
	}
	if (rc < 0) {
		inspect_error("%s: reading the log: %s", src->label,
			      strerror(-rc));
		inspect_survey_release(out);
	}
	return rc;
}

/* --- states ---------------------------------------------------------------------- */

static void
inspect_note_torn(const struct inspect_src *src, const char *file,
		  uint64_t offset, const char *why)
{
	inspect_note("%s: offset %" PRIu64 ": torn tail (%s)%s; ignored, as "
		     "lxenstored does", inspect_src_name(src, file), offset, why,
		     src->daemon ? ", probably a write in progress" : "");
}

/*
 * Damage the survey found that the rebuilt state (rec, NULL when streamed)
 * did not run into: in a part of the log a snapshot covers, or after upto.
 */
static void
inspect_report_survey(const struct inspect_src *src,
		      const struct inspect_survey *sv,
		      const struct wal_scan *sc, uint64_t upto)
{
	for (uint32_t i = 0; sv && i < sv->ndmg; i++) {
		const struct inspect_damage *d = &sv->dmg[i];

		if (d->after_seq >= upto ||
		    (sc && sc->damage != WAL_CLEAN && sc->bad_offset == d->offset &&
		     strcmp(inspect_src_name(src, sc->bad_file), d->file) == 0))
			continue;
		if (d->kind == WAL_TORN_TAIL)
			inspect_note_torn(src, d->file, d->offset, d->why);
		else
			inspect_note("%s: offset %" PRIu64 ": %s (a part of the "
				     "log this state does not need; see verify)",
				     d->file, d->offset, d->why);
	}
}

/* "<link path>: reason" -> "<file as given>: reason". */
static char *
inspect_src_rename(const struct inspect_src *src, const char *msg)
{
	for (uint32_t i = 0; i < src->nlinks; i++) {
		size_t n = strlen(src->link_to[i]);

		if (strncmp(msg, src->link_to[i], n) == 0 && msg[n] == ':')
			return xasprintf("%s%s", src->link_from[i], msg + n);
	}
	return xstrdup(msg);
}

static int
inspect_state_rebuild(struct inspect *in, struct inspect_src *src,
		      const struct inspect_survey *sv, uint64_t upto,
		      struct inspect_state *st)
{
	struct snap_recovery rec;
	const struct wal_scan *sc = &rec.wal.scan;
	struct store *s = NULL;
	int rc;

	for (int i = 1;; i++) {
		inspect_progress_begin(in, "rebuilding the state: nodes", 0);
		rc = snap_recover(src->dir, inspect_store_new, NULL, upto, false,
				  &s, &rec);
		inspect_progress_end();
		/* A segment or snapshot pruned by the daemon between listing
		 * and reading: missing, or a snapshot that no longer loads, or
		 * records that seem to skip. Real damage is still there on the
		 * next try. */
		if (!src->daemon || i == INSPECT_LIVE_TRIES ||
		    (rc != -ENOENT &&
		     (rc < 0 || (!rec.rejected && sc->damage != WAL_CORRUPT))))
			break;
		if (rc == 0) {
			store_free(s);
			s = NULL;
			snap_recovery_release(&rec);
		}
		usleep(10000 * (useconds_t)i);
	}
	if (rc < 0) {
		inspect_error("%s: %s", src->label, strerror(-rc));
		return rc;
	}
	if (rec.rejected) {
		char *why = inspect_src_rename(src, rec.rejected_why);

		inspect_error("%s", why);
		free(why);
		if (rec.rejected > 1)
			inspect_error("%s: %u snapshots do not load", src->label,
				      rec.rejected);
		in->status = INSPECT_EXIT_FAIL;
		if (rec.used.path)
			inspect_note("using %s and the log after it instead",
				     inspect_src_name(src, rec.used.path));
	}
	if (upto != INSPECT_SEQ_ALL && rec.last_seq != upto) {
		if (sc->damage != WAL_CLEAN && rec.last_seq < upto)
			inspect_error("%s: the state at seq %" PRIu64 " cannot "
				      "be rebuilt: %s: %s", src->label, upto,
				      inspect_src_name(src, sc->bad_file),
				      sc->why);
		else
			inspect_error("%s: the state at seq %" PRIu64 " cannot "
				      "be rebuilt: the last record kept is seq "
				      "%" PRIu64, src->label, upto, rec.last_seq);
		rc = -ENOENT;
	} else if ((rec.rejected && src->linked) ||
		   (rec.used.path == NULL && rec.records == 0 &&
		    (rec.rejected || sc->damage == WAL_CORRUPT))) {
		if (sc->damage == WAL_CORRUPT)
			inspect_error("%s: %s",
				      inspect_src_name(src, sc->bad_file),
				      sc->why);
		inspect_error("%s: nothing to rebuild the state from",
			      src->label);
		rc = -EINVAL;
	}
	if (rc == 0 && sc->damage == WAL_TORN_TAIL) {
		inspect_note_torn(src, sc->bad_file, sc->bad_offset, sc->why);
	} else if (rc == 0 && sc->damage == WAL_CORRUPT) {
		char *why = sv && sv->unknown_types &&
			    sv->unknown_seq == sc->last_seq + 1 ?
			    xasprintf("record %" PRIu64 " has unknown type %u "
				      "(written by a newer lxenstored?)",
				      sv->unknown_seq, sv->unknown_type) :
			    xstrdup(sc->why);

		inspect_error("%s: offset %" PRIu64 ": %s; log records after "
			      "seq %" PRIu64 " are not used",
			      inspect_src_name(src, sc->bad_file),
			      sc->bad_offset, why, sc->last_seq);
		free(why);
		in->status = INSPECT_EXIT_FAIL;
	}
	if (rc == 0)
		inspect_report_survey(src, sv, sc, upto);
	if (rc < 0) {
		store_free(s);
		snap_recovery_release(&rec);
		return rc;
	}
	st->store = s;
	st->seq = rec.last_seq;
	st->base = rec.used;
	memset(&rec.used, 0, sizeof(rec.used));
	st->replayed = rec.records;
	st->domains = rec.domains;
	rec.domains = NULL;
	snap_recovery_release(&rec);
	return 0;
}

int
inspect_state_open(struct inspect *in, uint64_t upto, bool want_store,
		   struct inspect_state **out)
{
	struct inspect_state *st;
	struct inspect_survey sv;
	struct inspect_src *src;
	struct snap_info *snaps = NULL;
	uint32_t nsnaps = 0;
	bool corrupt = false;
	int rc;

	rc = inspect_src_get(in, &src);
	if (rc < 0)
		return rc;
	rc = inspect_survey_log(src, 0, &sv);
	if (rc < 0)
		return rc;
	rc = snap_list(src->dir, &snaps, &nsnaps);
	if (rc < 0) {
		inspect_error("%s: %s", src->label, strerror(-rc));
		inspect_survey_release(&sv);
		return rc;
	}
	/* The daemon stops before a record it cannot apply, as at damage. */
	corrupt = sv.unknown_types != 0;
	for (uint32_t i = 0; i < sv.ndmg; i++)
		corrupt |= sv.dmg[i].kind == WAL_CORRUPT;
	st = xcalloc(1, sizeof(*st));
	/*
	 * The newest snapshot is the whole state when no record follows it.
	 * After corruption, what follows is unknown: recover as the daemon
	 * would.
	 */
	if (!want_store && upto == INSPECT_SEQ_ALL && nsnaps > 0 && !corrupt &&
	    (sv.records == 0 || sv.last_seq <= snaps[0].seq)) {
		st->snap = xstrdup(snaps[0].path);
		st->seq = snaps[0].seq;
		st->meta = inspect_store_new(NULL);
		inspect_report_survey(src, &sv, NULL, upto);
	} else {
		rc = inspect_state_rebuild(in, src, &sv, upto, st);
	}
	snap_list_free(snaps, nsnaps);
	inspect_survey_release(&sv);
	if (rc < 0) {
		inspect_state_free(st);
		return rc;
	}
	*out = st;
	return 0;
}

int
inspect_state_open_at(struct inspect *in, const struct inspect_point *p,
		      bool want_store, struct inspect_state **out)
{
	uint64_t seq;
	int rc;

	switch (p->kind) {
	case INSPECT_AT_SEQ:
		return inspect_state_open(in, p->value, want_store, out);
	case INSPECT_AT_TIME:
		rc = inspect_time_to_seq(in, p->value, &seq);
		if (rc < 0)
			return rc;
		return inspect_state_open(in, seq, want_store, out);
	case INSPECT_AT_LATEST:
		break;
	}
	return inspect_state_open(in, INSPECT_SEQ_ALL, want_store, out);
}

int
inspect_state_open_file(struct inspect *in, const char *path,
			struct inspect_state **out)
{
	struct inspect_state *st = xcalloc(1, sizeof(*st));
	char *why = NULL;
	int rc;

	st->store = inspect_store_new(NULL);
	inspect_progress_begin(in, "loading the snapshot: nodes", 0);
	st->domains = wal_domtab_new();
	rc = snap_load_domains(path, st->store, st->domains, &st->base, &why);
	inspect_progress_end();
	if (rc < 0) {
		inspect_error("%s: %s", path, why ? why : strerror(-rc));
		free(why);
		inspect_state_free(st);
		return rc;
	}
	st->seq = st->base.seq;
	*out = st;
	return 0;
}

void
inspect_state_free(struct inspect_state *st)
{
	if (st == NULL)
		return;
	store_free(st->store);
	store_free(st->meta);
	free(st->snap);
	snap_info_release(&st->base);
	wal_domtab_free(st->domains);
	free(st);
}

const struct store *
inspect_state_quotas(const struct inspect_state *st)
{
	return st->store ? st->store : st->meta;
}

struct walk_counted {
	store_walk_fn fn;
	void *arg;
};

static int
inspect_walk_counted(void *arg, const char *path, const void *value,
		     uint32_t len, const struct store_perm *perms,
		     uint32_t nperms)
{
	struct walk_counted *w = arg;

	inspect_progress_add(1);
	return w->fn(w->arg, path, value, len, perms, nperms);
}

static int
inspect_state_walk_store(struct inspect *in, struct inspect_state *st,
			 store_walk_fn fn, void *arg)
{
	struct walk_counted w = { .fn = fn, .arg = arg };
	struct store_stats ss;
	int rc;

	store_stats(st->store, &ss);
	inspect_progress_begin(in, "reading", ss.nodes);
	rc = store_walk(st->store, inspect_walk_counted, &w);
	inspect_progress_end();
	return rc;
}

int
inspect_state_walk(struct inspect *in, struct inspect_state *st,
		   store_walk_fn fn, void *arg)
{
	struct inspect_src *src = in->src;
	uint64_t nodes = 0;
	char *why = NULL;
	int stop = 0, rc;

	if (st->store)
		return inspect_state_walk_store(in, st, fn, arg);
	/* A walk before this one filled it in. */
	snap_info_release(&st->base);
	inspect_progress_begin(in, "reading the snapshot: nodes", 0);
	wal_domtab_free(st->domains);
	st->domains = wal_domtab_new();
	rc = inspect_tap_snapshot(st->snap, fn, arg, st->meta, st->domains,
				  &st->base, &nodes, &stop, &why);
	inspect_progress_end();
	if (stop != 0) {
		free(why);
		return stop;
	}
	if (rc == 0) {
		st->seq = st->base.seq;
		return 0;
	}
	if (nodes == 0 && src) {
		/*
		 * It failed its checks before a single node went out: rebuild
		 * as the daemon would, from an older snapshot and the log.
		 */
		free(why);
		free(st->snap);
		st->snap = NULL;
		store_free(st->meta);
		st->meta = NULL;
		rc = inspect_state_rebuild(in, src, NULL, INSPECT_SEQ_ALL, st);
		if (rc < 0)
			return rc;
		return inspect_state_walk_store(in, st, fn, arg);
	}
	inspect_error("%s: %s", src ? inspect_src_name(src, st->snap) : st->snap,
		      why ? why : strerror(-rc));
	free(why);
	in->status = INSPECT_EXIT_FAIL;
	return rc;
}

/* --- times ------------------------------------------------------------------------- */

struct time_ctx {
	uint64_t t;
	uint64_t seq;
	bool found;
};

static int
inspect_time_frame(void *arg, const struct wal_frame *f)
{
	struct time_ctx *c = arg;

	if (f->time_ns <= c->t) {
		c->seq = f->seq;
		c->found = true;
	}
	return 0;
}

int
inspect_time_to_seq(struct inspect *in, uint64_t t, uint64_t *seq)
{
	struct time_ctx c = { .t = t };
	struct inspect_survey sv = { 0 };
	struct inspect_src *src;
	struct snap_info *snaps = NULL;
	struct wal_scan scan;
	char when[INSPECT_TIME_LEN];
	uint32_t nsnaps = 0;
	int rc;

	rc = inspect_src_get(in, &src);
	if (rc < 0)
		return rc;
	rc = inspect_survey_list(src->dir, &sv);
	if (rc == 0 && sv.nsegs) {
		rc = wal_scan(src->dir, sv.segs[0].first_seq - 1,
			      inspect_time_frame, &c, &scan);
		wal_scan_release(&scan);
	}
	if (rc == 0 && c.found) {
		*seq = c.seq;
		goto out;
	}
	/*
	 * No record kept is that old. A snapshot taken by then holds the
	 * state at t exactly: every later record is younger than t.
	 */
	if (rc == 0)
		rc = snap_list(src->dir, &snaps, &nsnaps);
	inspect_progress_begin(in, "reading snapshot times", nsnaps);
	for (uint32_t i = 0; rc == 0 && i < nsnaps && !c.found; i++) {
		struct snap_info info = { 0 };

		if (snap_verify(snaps[i].path, &info, NULL) == 0 &&
		    info.time_ns <= t) {
			c.seq = info.seq;
			c.found = true;
		}
		snap_info_release(&info);
		inspect_progress_add(1);
	}
	inspect_progress_end();
	if (rc == 0 && !c.found && sv.nsegs && sv.log_lo == 1) {
		/* The log goes back to the very first record. */
		c.seq = 0;
		c.found = true;
	}
	if (rc < 0) {
		inspect_error("%s: %s", src->label, strerror(-rc));
	} else if (!c.found) {
		inspect_time_format(t, when);
		inspect_error("%s: %s is before the oldest state kept",
			      src->label, when);
		rc = -ENOENT;
	}
	*seq = c.seq;
out:
	snap_list_free(snaps, nsnaps);
	inspect_survey_release(&sv);
	return rc;
}
