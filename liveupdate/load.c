/*
 * Loading the state directory while the old daemon still writes it.
 *
 * The snapshot and the log are opened read-only (snap_recover without
 * repair, wal_scan), so the two processes never hold a second copy of the
 * tree on disk and the new one changes nothing until it has been handed
 * the lock. The segment the old daemon appends to may end in a record
 * half written: that is a torn tail here, not damage, and the next pass
 * reads on from the last whole record. Anything else the reader cannot
 * apply (corruption, a record type this binary does not know) refuses the
 * update: the old daemon then carries on.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include "liveupdate/liveupdate.h"

/* Snapshot pruned by the old daemon between listing and reading: retry. */
#define LU_LOAD_TRIES	5

/*
 * Where to read on after seq, given where a scan ended: the scan's end if
 * it is just after seq, else the start of the log (the next scan then
 * skips up to seq: correct, only slower).
 */
static void
lu_pos_set(struct wal_pos *pos, uint64_t seq, const struct wal_pos *end)
{
	if (end->seg_first && end->seq == seq) {
		*pos = *end;
	} else {
		memset(pos, 0, sizeof(*pos));
		pos->seq = seq;
	}
}

int
lu_load(const char *dir, snap_store_fn new_store, void *arg,
	struct store **out, struct wal_domtab **doms, struct wal_pos *pos,
	char **why)
{
	struct snap_recovery rec;
	struct store *s = NULL;
	int rc;

	*why = NULL;
	for (int i = 1;; i++) {
		rc = snap_recover(dir, new_store, arg, UINT64_MAX, false, &s,
				  &rec);
		if (rc != -ENOENT || i == LU_LOAD_TRIES)
			break;
		usleep(10000 * (useconds_t)i);
	}
	if (rc < 0) {
		*why = xasprintf("loading %s: %s", dir, strerror(-rc));
		return rc;
	}
	if (rec.rejected || rec.wal.scan.damage == WAL_CORRUPT) {
		*why = xasprintf("%s is damaged: %s", dir,
				 rec.rejected ? rec.rejected_why :
				 rec.wal.scan.why ? rec.wal.scan.why : "?");
		snap_recovery_release(&rec);
		store_free(s);
		return -EBADMSG;
	}
	lu_pos_set(pos, rec.last_seq, &rec.wal.scan.end);
	*out = s;
	*doms = rec.domains;
	rec.domains = NULL;
	snap_recovery_release(&rec);
	return 0;
}

int
lu_follow(const char *dir, struct store *s, struct wal_domtab *doms,
	  struct wal_pos *pos, uint64_t upto, uint64_t *applied, char **why)
{
	struct wal_scan sc;
	int rc;

	*why = NULL;
	if (applied)
		*applied = 0;
	if (pos->seq >= upto)
		return 0;
	rc = snap_follow(dir, s, doms, pos, upto, &sc);
	if (rc < 0) {
		*why = xasprintf("reading the log of %s: %s", dir,
				 strerror(-rc));
		wal_scan_release(&sc);
		return rc;
	}
	lu_pos_set(pos, sc.records ? sc.last_seq : pos->seq, &sc.end);
	if (applied)
		*applied = sc.records;
	if (sc.damage == WAL_CORRUPT) {
		*why = xasprintf("log record after %" PRIu64 ": %s", pos->seq,
				 sc.why ? sc.why : "cannot be applied");
		rc = -EBADMSG;
	}
	wal_scan_release(&sc);
	return rc;
}
