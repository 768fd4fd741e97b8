/*
 * Unit tests of snapshot/: a written snapshot loads back into an equal
 * store (nodes, binary values, perms, child order, specials, quotas), in
 * the foreground and from a background child; damaged files are refused
 * with a reason; pruning keeps the newest files and reports the log point;
 * the domain table goes through snapshots and the log, and a snapshot of a
 * writer without domain records still loads.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/common.h"
#include "snapshot/snapshot.h"
#include "store/store.h"
#include "tests/tst-util.h"

static char tdir[64];
static const struct store_caller priv = { 0, LXS_DOMID_INVALID, true };

static void
snap_setup(void)
{
	tst_mkdtemp(tdir, "lxs-snap");
}

static void
snap_teardown(void)
{
	tst_rmtree(tdir);
}

/* A store with some of everything a snapshot must carry. */
static struct store *
sample_store(unsigned int extra)
{
	struct store *s = store_new(NULL, NULL, 0);
	struct store_conn *c = store_conn_new(s, &priv, NULL);
	struct store_perm p[3] = { { 4, 0 }, { 0, STORE_PERM_READ },
				   { 7, STORE_PERM_BOTH } };

	ck_assert_int_eq(store_write(c, 0, "/local/domain/4/name", "vm4", 3), 0);
	ck_assert_int_eq(store_set_perms(c, 0, "/local/domain/4", p, 3), 0);
	ck_assert_int_eq(store_write(c, 0, "/bin", "\0\1\2\0", 4), 0);
	/* Insertion order, not sorted order, must survive. */
	ck_assert_int_eq(store_mkdir(c, 0, "/order/zz"), 0);
	ck_assert_int_eq(store_mkdir(c, 0, "/order/aa"), 0);
	ck_assert_int_eq(store_mkdir(c, 0, "/order/mm"), 0);
	ck_assert_int_eq(store_set_perms(c, 0, "@releaseDomain", p, 2), 0);
	ck_assert_int_eq(store_quota_set(s, STORE_DOMID_GLOBAL,
					 STORE_QUOTA_WATCHES, false, 99), 0);
	ck_assert_int_eq(store_quota_set(s, 4, STORE_QUOTA_NODES, false, 12), 0);
	ck_assert_int_eq(store_quota_set(s, 4, STORE_QUOTA_MEMORY, true, 4096),
			 0);
	for (unsigned int i = 0; i < extra; i++) {
		char path[64], val[32];

		snprintf(path, sizeof(path), "/bulk/d%u/n%u", i % 97, i);
		snprintf(val, sizeof(val), "value-%u", i);
		ck_assert_int_eq(store_write(c, 0, path, val,
					     (uint32_t)strlen(val)), 0);
	}
	store_conn_free(c);
	return s;
}

START_TEST(test_snapshot_roundtrip_equal)
{
	struct store *a = sample_store(3000), *b = store_new(NULL, NULL, 0);
	struct snap_info wi = { 0 }, li = { 0 };
	uint32_t v;
	char *why = NULL;

	ck_assert_int_eq(snap_write(a, NULL, 42, tdir, &wi), 0);
	ck_assert_uint_eq(wi.seq, 42);
	ck_assert_uint_gt(wi.nodes, 3000);
	ck_assert_uint_lt(wi.file_bytes, wi.raw_bytes);
	ck_assert_int_eq(snap_load(wi.path, b, &li, &why), 0);
	ck_assert_ptr_null(why);
	ck_assert_uint_eq(li.seq, 42);
	ck_assert_uint_eq(li.nodes, wi.nodes);
	ck_assert(tst_tree_equal(a, b));
	ck_assert_int_eq(store_quota_get_own(b, 4, STORE_QUOTA_MEMORY, true, &v),
			 0);
	ck_assert_uint_eq(v, 4096);
	snap_info_release(&wi);
	snap_info_release(&li);
	store_free(a);
	store_free(b);
}
END_TEST

START_TEST(test_snapshot_background_child_installs_file)
{
	struct store *a = sample_store(100), *b = store_new(NULL, NULL, 0);
	struct store_conn *c = store_conn_new(a, &priv, NULL);
	struct snap_info *v;
	uint32_t n;
	pid_t pid;
	int status;

	ck_assert_int_eq(snap_write_background(a, NULL, 7, tdir, &pid), 0);
	/* The parent goes on changing its store; the child saw it before. */
	ck_assert_int_eq(store_write(c, 0, "/after", "x", 1), 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_int_eq(snap_list(tdir, &v, &n), 0);
	ck_assert_uint_eq(n, 1);
	ck_assert_uint_eq(v[0].seq, 7);
	ck_assert_int_eq(snap_load(v[0].path, b, NULL, NULL), 0);
	ck_assert(!tst_tree_equal(a, b));
	ck_assert_int_eq(store_rm(c, 0, "/after"), 0);
	ck_assert(tst_tree_equal(a, b));
	snap_list_free(v, n);
	store_conn_free(c);
	store_free(a);
	store_free(b);
}
END_TEST

static void
expect_refused(const char *path, const char *reason)
{
	struct store *b = store_new(NULL, NULL, 0);
	char *why = NULL;

	ck_assert_int_eq(snap_load(path, b, NULL, &why), -EINVAL);
	ck_assert_ptr_nonnull(why);
	ck_assert_msg(strstr(why, reason) != NULL, "why: %s", why);
	free(why);
	ck_assert_int_eq(snap_verify(path, NULL, &why), -EINVAL);
	free(why);
	store_free(b);
}

START_TEST(test_snapshot_refuses_damaged_files)
{
	struct store *a = sample_store(500);
	struct snap_info wi = { 0 };
	struct stat st;

	ck_assert_int_eq(snap_write(a, NULL, 1, tdir, &wi), 0);
	ck_assert_int_eq(stat(wi.path, &st), 0);
	tst_flip_byte(wi.path, st.st_size / 2, 0x21);
	expect_refused(wi.path, "checksum");
	tst_flip_byte(wi.path, st.st_size / 2, 0x21);
	ck_assert_int_eq(snap_verify(wi.path, NULL, NULL), 0);

	tst_flip_byte(wi.path, 20, 0x21);			/* header: seq */
	expect_refused(wi.path, "header");
	tst_flip_byte(wi.path, 20, 0x21);

	ck_assert_int_eq(truncate(wi.path, st.st_size - 1), 0);
	expect_refused(wi.path, "data bytes");
	ck_assert_int_eq(truncate(wi.path, 10), 0);
	expect_refused(wi.path, "too short");
	snap_info_release(&wi);
	store_free(a);
}
END_TEST

START_TEST(test_snapshot_missing_file_is_enoent)
{
	struct store *b = store_new(NULL, NULL, 0);
	char *p = xasprintf("%s/snap-0000000000000001.lxs", tdir);
	char *why = NULL;

	ck_assert_int_eq(snap_load(p, b, NULL, &why), -ENOENT);
	free(why);
	free(p);
	store_free(b);
}
END_TEST

START_TEST(test_snapshot_prune_keeps_newest)
{
	struct store *a = sample_store(0);
	struct snap_info *v;
	uint64_t oldest;
	uint32_t n;
	char *tmp = xasprintf("%s/snap-0000000000000009.lxs.tmp", tdir);
	FILE *f;

	for (uint64_t seq = 3; seq <= 30; seq += 9)
		ck_assert_int_eq(snap_write(a, NULL, seq, tdir, NULL), 0);
	f = fopen(tmp, "w");
	ck_assert_ptr_nonnull(f);
	fclose(f);
	ck_assert_int_eq(snap_prune(tdir, 2, &oldest), 0);
	ck_assert_uint_eq(oldest, 21);
	ck_assert_int_eq(snap_list(tdir, &v, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(v[0].seq, 30);
	ck_assert_uint_eq(v[1].seq, 21);
	ck_assert_int_eq(access(tmp, F_OK), -1);
	snap_list_free(v, n);
	free(tmp);
	store_free(a);
}
END_TEST

static struct store *
fresh_store(void *arg)
{
	return store_new(NULL, NULL, 0);
}

/* Appends a WRITE of path=value as a mutation record. */
static void
log_write(struct wal *w, const char *path, const char *value)
{
	struct store_perm p = { 0, 0 };
	struct store_op op = { .kind = STORE_OP_PUT, .path = path,
			       .value = value, .len = (uint32_t)strlen(value),
			       .perms = &p, .nperms = 1 };
	struct store_mutation m = { 0, 1, &op };
	struct buf b = { 0 };

	wal_encode_mutation(&m, &b);
	wal_append(w, WAL_REC_MUTATION, b.data, (uint32_t)b.len);
	buf_free(&b);
}

/*
 * A record of a type this version does not know (a newer daemon's log):
 * recovery keeps everything before it, sets the rest aside, and starts.
 */
START_TEST(test_snapshot_recover_unknown_record_type)
{
	struct wal_config cfg = { .dir = tdir };
	struct snap_recovery r;
	struct store *s = NULL;
	struct wal *w;
	const void *v;
	uint32_t len;
	struct store_conn *c;

	ck_assert_int_eq(wal_open(&cfg, 1, &w), 0);
	log_write(w, "/before", "1");
	wal_append(w, 99, "future", 6);
	log_write(w, "/after", "2");
	ck_assert_int_eq(wal_write(w), 0);
	wal_close(w);
	ck_assert_int_eq(snap_recover(tdir, fresh_store, NULL, UINT64_MAX, true,
				      &s, &r), 0);
	ck_assert_int_eq(r.wal.scan.damage, WAL_CORRUPT);
	ck_assert_uint_eq(r.last_seq, 1);
	ck_assert_ptr_nonnull(r.wal.moved_to);
	c = store_conn_new(s, &priv, NULL);
	ck_assert_int_eq(store_read(c, 0, "/before", &v, &len), 0);
	ck_assert_int_eq(store_read(c, 0, "/after", &v, &len), -ENOENT);
	store_conn_free(c);
	store_free(s);
	snap_recovery_release(&r);
}
END_TEST

/* Recovery up to a point, read-only: what the inspect tool uses. */
START_TEST(test_snapshot_recover_upto_changes_nothing)
{
	struct wal_config cfg = { .dir = tdir };
	struct snap_recovery r;
	struct store *s = NULL;
	struct store_conn *c;
	struct wal *w;
	const void *v;
	uint32_t len;
	struct wal_scan sc;

	ck_assert_int_eq(wal_open(&cfg, 1, &w), 0);
	log_write(w, "/k", "1");
	log_write(w, "/k", "2");
	log_write(w, "/k", "3");
	ck_assert_int_eq(wal_write(w), 0);
	wal_close(w);
	ck_assert_int_eq(snap_recover(tdir, fresh_store, NULL, 2, false, &s, &r),
			 0);
	ck_assert_uint_eq(r.last_seq, 2);
	c = store_conn_new(s, &priv, NULL);
	ck_assert_int_eq(store_read(c, 0, "/k", &v, &len), 0);
	ck_assert_int_eq(memcmp(v, "2", 1), 0);
	store_conn_free(c);
	store_free(s);
	snap_recovery_release(&r);
	ck_assert_int_eq(wal_scan(tdir, 0, NULL, NULL, &sc), 0);
	ck_assert_uint_eq(sc.records, 3);
	wal_scan_release(&sc);
}
END_TEST

/* Appends a domain change record. */
static void
log_domain(struct wal *w, const struct wal_domain_change *ch)
{
	struct buf b = { 0 };

	wal_encode_domain_change(ch, &b);
	wal_append(w, WAL_REC_DOMAIN, b.data, (uint32_t)b.len);
	buf_free(&b);
}

static struct wal_domtab *
sample_domains(void)
{
	struct wal_domtab *t = wal_domtab_new();
	struct wal_domain d = { .domid = 4, .introduced = true, .gfn = 99,
				.remote_port = 3, .features = 7,
				.target = LXS_DOMID_INVALID };
	struct wal_domain_change ch = { .kind = WAL_DOMAIN_SET, .domid = 4,
					.dom = &d };

	ck_assert_int_eq(wal_domtab_change(t, &ch), 0);
	d.domid = ch.domid = 12;
	d.introduced = false;
	d.features = 2;
	ck_assert_int_eq(wal_domtab_change(t, &ch), 0);
	ch = (struct wal_domain_change){ .kind = WAL_DOMAIN_WATCH, .domid = 4,
					 .path = "device", .token = "be",
					 .depth = 1 };
	ck_assert_int_eq(wal_domtab_change(t, &ch), 0);
	ch.path = "@releaseDomain";
	ch.depth = -1;
	ck_assert_int_eq(wal_domtab_change(t, &ch), 0);
	return t;
}

/* The domain table with its watches goes through a snapshot unchanged. */
START_TEST(test_snapshot_domains_roundtrip)
{
	struct store *a = sample_store(10), *b = store_new(NULL, NULL, 0);
	struct wal_domtab *t = sample_domains(), *back = wal_domtab_new();
	const struct wal_domain *d;
	struct snap_info wi = { 0 }, li = { 0 };
	char *why = NULL;

	ck_assert_int_eq(snap_write(a, t, 5, tdir, &wi), 0);
	ck_assert_uint_eq(wi.domains, 2);
	ck_assert_int_eq(snap_load_domains(wi.path, b, back, &li, &why), 0);
	ck_assert(li.has_domains);
	ck_assert_uint_eq(li.domains, 2);
	ck_assert_uint_eq(wal_domtab_count(back), 2);
	d = wal_domtab_find(back, 4);
	ck_assert(d->introduced);
	ck_assert_uint_eq(d->gfn, 99);
	ck_assert_uint_eq(d->remote_port, 3);
	ck_assert_uint_eq(d->nwatches, 2);
	ck_assert_str_eq(d->watches[0].path, "device");
	ck_assert_int_eq(d->watches[0].depth, 1);
	ck_assert_str_eq(d->watches[1].token, "be");
	ck_assert(!wal_domtab_find(back, 12)->introduced);
	ck_assert_uint_eq(wal_domtab_find(back, 12)->features, 2);
	snap_info_release(&li);
	ck_assert_int_eq(snap_verify(wi.path, &li, NULL), 0);
	snap_info_release(&wi);
	snap_info_release(&li);
	wal_domtab_free(t);
	wal_domtab_free(back);
	store_free(a);
	store_free(b);
}
END_TEST

/*
 * A snapshot of a writer that knew no domains (no DOMAINS record) loads,
 * with an empty table; recovery then adds the log's domain records.
 */
START_TEST(test_snapshot_recover_domains_old_snapshot_and_log)
{
	struct wal_config cfg = { .dir = tdir };
	struct store *a = sample_store(0), *s = NULL;
	struct wal_domain d = { .domid = 8, .introduced = true, .gfn = 1,
				.remote_port = 2, .features = 7,
				.target = LXS_DOMID_INVALID };
	struct wal_domain_change ch = { .kind = WAL_DOMAIN_SET, .domid = 8,
					.dom = &d };
	struct snap_info li = { 0 };
	struct snap_recovery r;
	struct wal *w;

	ck_assert_int_eq(snap_write(a, NULL, 1, tdir, NULL), 0);
	ck_assert_int_eq(wal_open(&cfg, 1, &w), 0);
	log_write(w, "/x", "1");
	log_domain(w, &ch);
	ch = (struct wal_domain_change){ .kind = WAL_DOMAIN_WATCH, .domid = 8,
					 .path = "p", .token = "t", .depth = -1 };
	log_domain(w, &ch);
	ck_assert_int_eq(wal_write(w), 0);
	wal_close(w);
	ck_assert_int_eq(snap_recover(tdir, fresh_store, NULL, UINT64_MAX, true,
				      &s, &r), 0);
	ck_assert_int_eq(r.wal.scan.damage, WAL_CLEAN);
	ck_assert_uint_eq(r.last_seq, 3);
	ck_assert_uint_eq(r.records, 2);
	ck_assert_uint_eq(wal_domtab_count(r.domains), 1);
	ck_assert_uint_eq(wal_domtab_find(r.domains, 8)->nwatches, 1);
	ck_assert_ptr_nonnull(r.used.path);
	ck_assert_int_eq(snap_verify(r.used.path, &li, NULL), 0);
	ck_assert(!li.has_domains);
	snap_info_release(&li);
	store_free(s);
	snap_recovery_release(&r);
	store_free(a);
}
END_TEST

/* A domain record that does not apply stops recovery before it. */
START_TEST(test_snapshot_recover_bad_domain_record_is_damage)
{
	struct wal_config cfg = { .dir = tdir };
	struct wal_domain_change ch = { .kind = WAL_DOMAIN_RELEASE,
					.domid = 8 };
	struct snap_recovery r;
	struct store *s = NULL;
	struct wal *w;

	ck_assert_int_eq(wal_open(&cfg, 1, &w), 0);
	log_write(w, "/x", "1");
	log_domain(w, &ch);
	log_write(w, "/y", "2");
	ck_assert_int_eq(wal_write(w), 0);
	wal_close(w);
	ck_assert_int_eq(snap_recover(tdir, fresh_store, NULL, UINT64_MAX, true,
				      &s, &r), 0);
	ck_assert_int_eq(r.wal.scan.damage, WAL_CORRUPT);
	ck_assert_uint_eq(r.last_seq, 1);
	store_free(s);
	snap_recovery_release(&r);
}
END_TEST

static Suite *
snapshot_suite(void)
{
	Suite *s = suite_create("snapshot");
	TCase *core = tcase_create("core");
	TCase *crash = tcase_create("crash");

	tcase_add_checked_fixture(core, snap_setup, snap_teardown);
	tcase_add_checked_fixture(crash, snap_setup, snap_teardown);
	tcase_set_timeout(core, 30);
	tcase_add_test(core, test_snapshot_roundtrip_equal);
	tcase_add_test(core, test_snapshot_background_child_installs_file);
	tcase_add_test(core, test_snapshot_prune_keeps_newest);
	tcase_add_test(crash, test_snapshot_refuses_damaged_files);
	tcase_add_test(crash, test_snapshot_missing_file_is_enoent);
	tcase_add_test(crash, test_snapshot_recover_unknown_record_type);
	tcase_add_test(core, test_snapshot_recover_upto_changes_nothing);
	tcase_add_test(core, test_snapshot_domains_roundtrip);
	tcase_add_test(core, test_snapshot_recover_domains_old_snapshot_and_log);
	tcase_add_test(crash, test_snapshot_recover_bad_domain_record_is_damage);
	suite_add_tcase(s, core);
	suite_add_tcase(s, crash);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(snapshot_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
