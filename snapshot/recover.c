/*
 * Recovery: the one way state is rebuilt from the state directory, used by
 * the daemon at start, by live update, and read-only by the inspect tool.
 *
 * The newest snapshot that loads is the base; a snapshot that does not is
 * set aside and the previous one tried (its log segments are still there:
 * the log is pruned only up to the older of the two kept snapshots). The
 * log records after the base's seq are then replayed. A record that fails
 * to apply is treated like a corrupt one: the state stops just before it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "snapshot/snapshot.h"

struct replay {
	struct store *s;
	struct wal_domtab *doms;
	uint64_t upto;
};

static int
replay_frame(void *arg, const struct wal_frame *f)
{
	struct replay *rp = arg;

	if (f->seq > rp->upto)
		return WAL_SCAN_STOP;
	/* Damage (an unknown type included): the state stops before it,
	 * and the rest of the log is kept aside, loudly. */
	return wal_apply_frame(rp->s, rp->doms, f);
}

int
snap_follow(const char *dir, struct store *s, struct wal_domtab *doms,
	    const struct wal_pos *from, uint64_t upto, struct wal_scan *out)
{
	struct replay rp = { .s = s, .doms = doms, .upto = upto };

	return wal_scan_from(dir, from, from->seq, replay_frame, &rp, out);
}

/* Moves a rejected snapshot aside (repair) so a later one cannot collide. */
static void
snap_set_aside(struct snap_recovery *r, const char *dir, const char *path)
{
	const char *base = strrchr(path, '/');
	char *dst;

	if (r->moved_to == NULL)
		r->moved_to = make_damaged_dir(dir);
	dst = xasprintf("%s/%s", r->moved_to, base ? base + 1 : path);
	if (rename(path, dst) == 0) {
		fsync_dir(r->moved_to);
		fsync_dir(dir);
	}
	free(dst);
}

/*
 * The newest snapshot up to upto that loads (or an empty store); its
 * domain table goes into r->domains.
 */
static struct store *
snap_base(const char *dir, snap_store_fn new_store, void *arg, uint64_t upto,
	  bool repair, struct snap_recovery *r, uint64_t *base)
{
	struct snap_info *snaps = NULL;
	struct store *found = NULL;
	uint32_t n = 0;

	*base = 0;
	if (snap_list(dir, &snaps, &n) < 0)
		n = 0;
	for (uint32_t i = 0; i < n && found == NULL; i++) {
		struct store *s;
		char *why = NULL;

		if (snaps[i].seq > upto)
			continue;
		s = new_store(arg);
		snap_info_release(&r->used);
		r->domains = wal_domtab_new();
		if (snap_load_domains(snaps[i].path, s, r->domains, &r->used,
				      &why) == 0) {
			found = s;
			*base = r->used.seq;
			break;
		}
		store_free(s);
		wal_domtab_free(r->domains);
		r->domains = NULL;
		if (r->rejected++ == 0)
			r->rejected_why = xasprintf("%s: %s", snaps[i].path,
						    why ? why : "unreadable");
		free(why);
		if (repair)
			snap_set_aside(r, dir, snaps[i].path);
	}
	snap_list_free(snaps, n);
	if (r->domains == NULL)
		r->domains = wal_domtab_new();
	return found ? found : new_store(arg);
}

int
snap_recover(const char *dir, snap_store_fn new_store, void *arg,
	     uint64_t upto, bool repair, struct store **out,
	     struct snap_recovery *r)
{
	struct replay rp = { .upto = upto };
	uint64_t t0 = mono_ns(), base = 0;
	int rc;

	memset(r, 0, sizeof(*r));
	if (access(dir, R_OK | X_OK) < 0)
		return -errno;
	rp.s = snap_base(dir, new_store, arg, upto, repair, r, &base);
	rp.doms = r->domains;
	if (repair)
		rc = wal_recover(dir, base, replay_frame, &rp, &r->wal);
	else
		rc = wal_scan(dir, base, replay_frame, &rp, &r->wal.scan);
	if (rc < 0) {
		store_free(rp.s);
		snap_recovery_release(r);
		return rc;
	}
	r->records = r->wal.scan.records;
	r->last_seq = base;
	if (r->wal.scan.records && r->wal.scan.last_seq > base)
		r->last_seq = r->wal.scan.last_seq < upto ?
				      r->wal.scan.last_seq : upto;
	r->duration_ns = mono_ns() - t0;
	*out = rp.s;
	return 0;
}

void
snap_recovery_release(struct snap_recovery *r)
{
	snap_info_release(&r->used);
	free(r->rejected_why);
	free(r->moved_to);
	wal_recovery_release(&r->wal);
	wal_domtab_free(r->domains);
	memset(r, 0, sizeof(*r));
}
