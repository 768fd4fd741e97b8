/*
 * verify: every checksum, sequence continuity, and the link between the
 * snapshots and the log.
 *
 * Snapshots are checked with snap_verify (header and data checksums, then
 * every record decoded), one thread each, while the main thread reads the
 * log: wal_scan checks each frame's checksum and sequence number and that
 * each segment starts where the previous one ended; after a damaged
 * segment, reading starts again at the next one so that no checksum is
 * left unread. Every payload is decoded as replay would decode it.
 *
 * Linkage: the newest snapshot that loads must be followed by the log
 * without a gap (the log starts at or before its seq + 1), and with no
 * snapshot the log must start at seq 1. An older snapshot the log does not
 * continue is only noted: the daemon would not need it.
 *
 * Exit status: 0 clean, 1 torn tail (the last record of the newest segment
 * is incomplete, as after a crash; lxenstored cuts it off), 2 corrupt
 * (anything else), 3 nothing could be verified.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "tools/inspect.h"

/* Where a snapshot's compressed data starts (docs/formats/snapshot.md). */
#define INSPECT_SNAP_DATA_OFF	56u
#define INSPECT_SNAP_AT_END	UINT64_MAX

struct verify_snap {
	pthread_t thread;
	bool started;
	const char *path;
	int rc;
	struct snap_info info;
	char *why;
};

struct verify_ctx {
	struct inspect *in;
	struct inspect_src *src;
	bool corrupt;
	bool torn;
};

static void *
inspect_verify_snap_main(void *arg)
{
	struct verify_snap *v = arg;

	v->rc = snap_verify(v->path, &v->info, &v->why);
	return NULL;
}

/*
 * Where in the file a snap_verify reason points: the header for header
 * problems, the end for a short file, else the compressed data, which one
 * checksum covers as a whole.
 */
static uint64_t
inspect_snap_offset(const char *path, const char *why)
{
	static const struct {
		const char *prefix;
		uint64_t offset;
	} where[] = {
		{ "file too short", INSPECT_SNAP_AT_END },
		{ "file has ", INSPECT_SNAP_AT_END },
		{ "bad header", 0 },
		{ "not a snapshot", 0 },
		{ "a log segment", 0 },
		{ "unknown version", 8 },
	};
	struct stat st;

	for (size_t i = 0; why && i < LXS_ARRAY_SIZE(where); i++) {
		if (strncmp(why, where[i].prefix, strlen(where[i].prefix)) != 0)
			continue;
		if (where[i].offset != INSPECT_SNAP_AT_END)
			return where[i].offset;
		return stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
	}
	return INSPECT_SNAP_DATA_OFF;
}

static void
inspect_verify_snaps_report(struct verify_ctx *c, struct verify_snap *v,
			    uint32_t n)
{
	char when[INSPECT_TIME_LEN];

	for (uint32_t i = 0; i < n; i++) {
		const char *name = inspect_src_name(c->src, v[i].path);

		if (v[i].rc == 0) {
			inspect_time_format(v[i].info.time_ns, when);
			printf("%s: ok: seq %" PRIu64 ", %" PRIu64 " nodes, "
			       "taken %s\n", name, v[i].info.seq,
			       v[i].info.nodes, when);
		} else if (v[i].rc == -ENOENT && c->src->daemon) {
			printf("%s: removed by lxenstored while being read\n",
			       name);
		} else {
			inspect_error("%s: offset %" PRIu64 ": %s", name,
				      inspect_snap_offset(v[i].path, v[i].why),
				      v[i].why ? v[i].why : strerror(-v[i].rc));
			c->corrupt = true;
		}
	}
}

/* FILE operands that are no snapshot or segment that can be read. */
static void
inspect_verify_bad_files(struct verify_ctx *c)
{
	for (uint32_t i = 0; i < c->src->nbad; i++) {
		inspect_error("%s: offset %" PRIu64 ": %s", c->src->bad_file[i],
			      inspect_snap_offset(c->src->bad_file[i],
						  c->src->bad_why[i]),
			      c->src->bad_why[i]);
		c->corrupt = true;
	}
}

static void
inspect_verify_log_report(struct verify_ctx *c, const struct inspect_survey *sv)
{
	for (uint32_t i = 0; i < sv->nsegs; i++) {
		const struct inspect_seg *g = &sv->segs[i];
		const char *name = inspect_src_name(c->src, g->path);
		const struct inspect_damage *d = NULL;

		for (uint32_t k = 0; k < sv->ndmg; k++)
			if (strcmp(sv->dmg[k].file, name) == 0)
				d = &sv->dmg[k];
		printf("%s: %s: ", name, d ? (d->kind == WAL_TORN_TAIL ?
					      "torn tail" : "CORRUPT") : "ok");
		if (g->records)
			printf("seq %" PRIu64 "..%" PRIu64 ", %" PRIu64
			       " records", g->lo, g->hi, g->records);
		else
			printf("no records (starts at seq %" PRIu64 ")",
			       g->first_seq);
		printf(", %" PRIu64 " bytes\n", g->bytes);
	}
	for (uint32_t k = 0; k < sv->ndmg; k++) {
		const struct inspect_damage *d = &sv->dmg[k];

		if (d->kind == WAL_TORN_TAIL) {
			inspect_error("%s: offset %" PRIu64 ": torn tail: %s%s",
				      d->file, d->offset, d->why,
				      c->src->daemon ? " (lxenstored is running: "
						       "maybe a write in progress)" :
						       "");
			c->torn = true;
		} else {
			inspect_error("%s: offset %" PRIu64 ": %s", d->file,
				      d->offset, d->why);
			c->corrupt = true;
		}
	}
}

static void
inspect_verify_linkage(struct verify_ctx *c, const struct inspect_survey *sv,
		       const struct verify_snap *v, uint32_t n)
{
	const struct verify_snap *newest = NULL;
	bool checked = !c->src->linked ||
		       (c->src->nsnap_files && c->src->nseg_files);

	for (uint32_t i = 0; i < n && newest == NULL; i++)
		if (v[i].rc == 0)
			newest = &v[i];
	if (c->src->linked && c->src->nsnap_files + c->src->nseg_files == 0)
		return;
	if (!checked) {
		printf("linkage: not checked (only %s given)\n",
		       c->src->nsnap_files ? "snapshots" : "log segments");
		return;
	}
	if (newest && sv->nsegs && sv->log_lo > newest->info.seq + 1) {
		inspect_error("%s: records %" PRIu64 "..%" PRIu64 " are missing "
			      "between this snapshot and the log",
			      inspect_src_name(c->src, newest->path),
			      newest->info.seq + 1, sv->log_lo - 1);
		c->corrupt = true;
	} else if (newest) {
		printf("linkage: ok: the log continues snapshot seq %" PRIu64,
		       newest->info.seq);
		if (sv->records && sv->last_seq > newest->info.seq)
			printf(" up to seq %" PRIu64, sv->last_seq);
		else
			printf(" (no record after it)");
		putchar('\n');
	} else if (sv->nsegs && sv->log_lo != 1) {
		inspect_error("%s: no snapshot loads and the log starts at seq "
			      "%" PRIu64 ": records 1..%" PRIu64 " are missing",
			      c->src->label, sv->log_lo, sv->log_lo - 1);
		c->corrupt = true;
	} else if (sv->nsegs == 0) {
		inspect_error("%s: no snapshot loads and there is no log",
			      c->src->label);
		c->corrupt = true;
	} else {
		printf("linkage: ok: no snapshot; the log starts at seq 1\n");
	}
	for (const struct verify_snap *s = newest ? newest + 1 : NULL;
	     s && s < v + n; s++)
		if (s->rc == 0 && sv->nsegs && sv->log_lo > s->info.seq + 1)
			printf("note: %s cannot serve as a fallback: the log "
			       "after it starts at seq %" PRIu64 "\n",
			       inspect_src_name(c->src, s->path), sv->log_lo);
}

/* Leftovers the daemon keeps for an administrator. */
static void
inspect_verify_leftovers(const struct inspect_src *src)
{
	DIR *d;
	struct dirent *de;

	if (src->linked || (d = opendir(src->dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);

		if (strncmp(de->d_name, "damaged-", 8) == 0)
			printf("note: %s/%s: files lxenstored set aside after "
			       "earlier damage\n", src->dir, de->d_name);
		else if (strncmp(de->d_name, "prev-boot-", 10) == 0)
			printf("note: %s/%s: the state of an earlier boot\n",
			       src->dir, de->d_name);
		else if (len > 4 && strcmp(de->d_name + len - 4, ".tmp") == 0)
			printf("note: %s/%s: an unfinished temporary file\n",
			       src->dir, de->d_name);
	}
	closedir(d);
}

int
inspect_cmd_verify(struct inspect *in, const struct inspect_point *at,
		   int argc, char **argv)
{
	struct verify_ctx c = { .in = in };
	struct inspect_survey sv = { 0 };
	struct snap_info *snaps = NULL;
	struct verify_snap *v;
	uint32_t nsnaps = 0;
	int rc;

	(void)at;
	(void)argv;
	if (argc != 1) {
		inspect_usage("verify");
		return INSPECT_VERIFY_ERROR;
	}
	in->keep_bad = true;
	if (inspect_src_get(in, &c.src) < 0)
		return INSPECT_VERIFY_ERROR;
	rc = snap_list(c.src->dir, &snaps, &nsnaps);
	if (rc < 0) {
		inspect_error("%s: %s", c.src->label, strerror(-rc));
		return INSPECT_VERIFY_ERROR;
	}
	v = xcalloc(nsnaps ? nsnaps : 1, sizeof(*v));
	/* crc32c sets up its tables on first use: not from two threads. */
	(void)crc32c("", 0);
	for (uint32_t i = 0; i < nsnaps; i++) {
		v[i].path = snaps[i].path;
		v[i].started = pthread_create(&v[i].thread, NULL,
					      inspect_verify_snap_main,
					      &v[i]) == 0;
		if (!v[i].started)
			inspect_verify_snap_main(&v[i]);
	}
	inspect_progress_begin(in, "verifying the log: records", 0);
	rc = inspect_survey_log(c.src, INSPECT_SURVEY_ALL |
				INSPECT_SURVEY_DECODE, &sv);
	inspect_progress_begin(in, "verifying snapshots", nsnaps);
	for (uint32_t i = 0; i < nsnaps; i++) {
		if (v[i].started)
			pthread_join(v[i].thread, NULL);
		inspect_progress_add(1);
	}
	inspect_progress_end();
	if (rc == 0) {
		inspect_verify_bad_files(&c);
		inspect_verify_snaps_report(&c, v, nsnaps);
		inspect_verify_log_report(&c, &sv);
		inspect_verify_linkage(&c, &sv, v, nsnaps);
		inspect_verify_leftovers(c.src);
		printf("verify: %s\n", c.corrupt ? "CORRUPT" :
				       c.torn ? "torn tail" : "clean");
	}
	for (uint32_t i = 0; i < nsnaps; i++) {
		snap_info_release(&v[i].info);
		free(v[i].why);
	}
	free(v);
	snap_list_free(snaps, nsnaps);
	inspect_survey_release(&sv);
	if (rc < 0)
		return INSPECT_VERIFY_ERROR;
	if (inspect_flush_stdout() != INSPECT_EXIT_OK)
		return INSPECT_VERIFY_ERROR;
	return c.corrupt ? INSPECT_VERIFY_CORRUPT :
	       c.torn ? INSPECT_VERIFY_TORN : 0;
}
