/*
 * Mutation records: one per committed change, with the physical operations
 * the write-ahead log needs; none for reads or failed requests; events after
 * their record; and store_apply replays them into an identical tree.
 */
#include <stdio.h>
#include <stdlib.h>

#include "tests/check_store.h"

static const struct tst_mutation *
only_mutation(void)
{
	ck_assert_msg(tst_log.nmuts == 1, "want 1 mutation, got %u",
		      tst_log.nmuts);
	return &tst_log.muts[0];
}

static char *
perms_str(const struct tst_op *o)
{
	struct buf b = { 0 };

	for (uint32_t i = 0; i < o->nperms; i++) {
		if (i)
			buf_add(&b, ",", 1);
		store_perm_format(&o->perms[i], &b);
	}
	buf_add(&b, "", 1);
	return b.data;
}

static void
ck_put(const struct tst_op *o, const char *path, const char *value,
       const char *perms, bool quiet)
{
	char *ps;

	ck_assert_int_eq(o->kind, STORE_OP_PUT);
	ck_assert_str_eq(o->path, path);
	ck_assert_uint_eq(o->len, strlen(value));
	ck_assert_str_eq(o->value, value);
	ck_assert_uint_ge(o->nperms, 1);
	ps = perms_str(o);
	ck_assert_str_eq(ps, perms);
	free(ps);
	ck_assert_msg(o->quiet == quiet, "%s: quiet %d, want %d", path,
		      o->quiet, quiet);
}

static void
ck_del(const struct tst_op *o, const char *path)
{
	ck_assert_int_eq(o->kind, STORE_OP_DEL);
	ck_assert_str_eq(o->path, path);
}

START_TEST(test_store_mutation_write_existing)
{
	const struct tst_mutation *m;

	ck_rc(tst_write(fx.d5, 0, "/local/domain/5/x", "1"), 0);
	tst_log_clear();
	ck_rc(tst_write(fx.d5, 0, "x", "22"), 0);
	m = only_mutation();
	ck_assert_str_eq(m->store, "A");
	ck_assert_uint_eq(m->domid, 5);
	ck_assert_uint_eq(m->nops, 1);
	ck_put(&m->ops[0], "/local/domain/5/x", "22", "n5", false);
}
END_TEST

START_TEST(test_store_mutation_write_binary)
{
	static const char bin[] = { 'a', 0, 'b', (char)0xff };
	const struct tst_mutation *m;

	ck_rc(store_write(fx.p, 0, "/bin", bin, sizeof(bin)), 0);
	m = only_mutation();
	ck_assert_uint_eq(m->nops, 1);
	ck_assert_uint_eq(m->ops[0].len, sizeof(bin));
	ck_assert(memcmp(m->ops[0].value, bin, sizeof(bin)) == 0);
}
END_TEST

START_TEST(test_store_mutation_write_implicit_parents)
{
	const struct tst_mutation *m;

	ck_rc(tst_write(fx.d5, 0, "/local/domain/5/a/b/c", "leaf"), 0);
	m = only_mutation();
	ck_assert_uint_eq(m->domid, 5);
	ck_assert_uint_eq(m->nops, 3);
	ck_put(&m->ops[0], "/local/domain/5/a", "", "n5", true);
	ck_put(&m->ops[1], "/local/domain/5/a/b", "", "n5", true);
	ck_put(&m->ops[2], "/local/domain/5/a/b/c", "leaf", "n5", false);
}
END_TEST

START_TEST(test_store_mutation_mkdir)
{
	const struct tst_mutation *m;

	ck_rc(store_mkdir(fx.p, 0, "/m/n"), 0);
	m = only_mutation();
	ck_assert_uint_eq(m->domid, 0);
	ck_assert_uint_eq(m->nops, 2);
	ck_put(&m->ops[0], "/m", "", "n0", true);
	ck_put(&m->ops[1], "/m/n", "", "n0", false);
	tst_log_clear();
	ck_rc(store_mkdir(fx.p, 0, "/m/n"), 0);
	ck_assert_uint_eq(tst_log.nmuts, 0);
}
END_TEST

START_TEST(test_store_mutation_rm)
{
	const struct tst_mutation *m;

	ck_rc(tst_write(fx.p, 0, "/r/a/b", "v"), 0);
	tst_log_clear();
	ck_rc(store_rm(fx.p, 0, "/r/a"), 0);
	m = only_mutation();
	ck_assert_uint_eq(m->nops, 1);
	ck_del(&m->ops[0], "/r/a");
}
END_TEST

START_TEST(test_store_mutation_set_perms)
{
	const struct tst_mutation *m;

	ck_rc(tst_write(fx.d5, 0, "/local/domain/5/x", "val"), 0);
	tst_log_clear();
	ck_rc(tst_set_perms(fx.d5, 0, "/local/domain/5/x", "n5,r6"), 0);
	m = only_mutation();
	ck_assert_uint_eq(m->domid, 5);
	ck_assert_uint_eq(m->nops, 1);
	ck_put(&m->ops[0], "/local/domain/5/x", "val", "n5,r6", false);
}
END_TEST

START_TEST(test_store_mutation_none_for_reads_and_failures)
{
	const void *v;
	uint32_t len, t;
	struct buf b = { 0 };
	struct store_conn *o = tst_conn(fx.s, &tst_priv, "o");

	ck_rc(store_read(fx.p, 0, "/tool/xenstored", &v, &len), 0);
	ck_rc(store_directory(fx.p, 0, "/", &b), 0);
	ck_rc(store_directory_part(fx.p, 0, "/", 0, 4096, &b), 0);
	ck_rc(store_get_perms(fx.p, 0, "/", &b), 0);
	ck_rc(store_watch(fx.p, "/", "t", -1), 0);
	ck_rc(store_unwatch(fx.p, "/", "t"), 0);
	ck_rc(tst_write(fx.d6, 0, "/local/domain/5/x", "v"), -EACCES);
	ck_rc(tst_write(fx.p, 0, "/x/", "v"), -EINVAL);
	ck_rc(store_rm(fx.p, 0, "/nope/x"), -ENOENT);
	ck_rc(store_rm(fx.p, 0, "/"), -EINVAL);
	ck_rc(tst_set_perms(fx.d5, 0, "/local/domain/5", "n6"), -EPERM);
	ck_rc(store_mkdir(fx.d6, 0, "/local/domain/5/y"), -EACCES);
	ck_rc(store_txn_start(fx.p, &t), 0);
	ck_rc(tst_write(fx.p, t, "/in/txn", "v"), 0);
	ck_rc(store_txn_end(fx.p, t, false), 0);
	ck_rc(store_txn_start(fx.p, &t), 0);
	ck_rc(tst_write(fx.p, t, "/c", "v"), 0);
	store_fire_special(fx.s, "@introduceDomain", 5);
	ck_assert_uint_eq(tst_log.nmuts, 0);
	ck_rc(tst_write(o, 0, "/c", "o"), 0);
	tst_log_clear();
	ck_rc(store_txn_end(fx.p, t, true), -EAGAIN);
	ck_assert_uint_eq(tst_log.nmuts, 0);
	buf_free(&b);
}
END_TEST

/* The last op of m on path, or NULL. */
static const struct tst_op *
last_op(const struct tst_mutation *m, const char *path)
{
	const struct tst_op *o = NULL;

	for (uint32_t i = 0; i < m->nops; i++)
		if (strcmp(m->ops[i].path, path) == 0)
			o = &m->ops[i];
	return o;
}

START_TEST(test_store_mutation_txn_one_record)
{
	static const char *const paths[] = {
		"/local/domain/5/a", "/local/domain/5/old",
		"/local/domain/5/b", "/local/domain/5/b/c",
		"/local/domain/5/p",
	};
	const struct tst_mutation *m;
	const struct tst_op *o;
	uint32_t t;

	ck_rc(tst_write(fx.d5, 0, "/local/domain/5/old", "o"), 0);
	ck_rc(tst_write(fx.d5, 0, "/local/domain/5/p", "p"), 0);
	tst_log_clear();
	ck_rc(store_txn_start(fx.d5, &t), 0);
	ck_rc(tst_write(fx.d5, t, "/local/domain/5/a", "1"), 0);
	ck_rc(tst_write(fx.d5, t, "/local/domain/5/a", "2"), 0);
	ck_rc(store_rm(fx.d5, t, "/local/domain/5/old"), 0);
	ck_rc(tst_write(fx.d5, t, "/local/domain/5/b/c", "3"), 0);
	ck_rc(tst_set_perms(fx.d5, t, "/local/domain/5/p", "n5,r6"), 0);
	ck_assert_uint_eq(tst_log.nmuts, 0);
	ck_rc(store_txn_end(fx.d5, t, true), 0);
	m = only_mutation();
	ck_assert_uint_eq(m->domid, 5);
	/* Only the touched nodes appear; each ends in its final state. */
	for (uint32_t i = 0; i < m->nops; i++) {
		bool known = false;

		for (size_t j = 0; j < LXS_ARRAY_SIZE(paths); j++)
			known |= strcmp(m->ops[i].path, paths[j]) == 0;
		ck_assert_msg(known, "unexpected op on %s", m->ops[i].path);
	}
	ck_assert_ptr_nonnull(o = last_op(m, "/local/domain/5/a"));
	ck_put(o, o->path, "2", "n5", false);
	ck_assert_ptr_nonnull(o = last_op(m, "/local/domain/5/old"));
	ck_del(o, o->path);
	ck_assert_ptr_nonnull(o = last_op(m, "/local/domain/5/b"));
	ck_put(o, o->path, "", "n5", true);
	ck_assert_ptr_nonnull(o = last_op(m, "/local/domain/5/b/c"));
	ck_put(o, o->path, "3", "n5", false);
	ck_assert_ptr_nonnull(o = last_op(m, "/local/domain/5/p"));
	ck_put(o, o->path, "p", "n5,r6", false);
	/* A parent is put before its child. */
	for (uint32_t i = 0; i < m->nops; i++) {
		if (strcmp(m->ops[i].path, "/local/domain/5/b/c") == 0)
			ck_abort_msg("b/c is put before b");
		if (strcmp(m->ops[i].path, "/local/domain/5/b") == 0)
			break;
	}
}
END_TEST

START_TEST(test_store_mutation_txn_replay_order)
{
	struct store *b = tst_store_new("B");
	struct tst_log copy;
	uint32_t t;
	char *da, *db;

	tst_teardown();
	tst_setup_recording();
	/* Remove and re-create inside one transaction: order matters. */
	ck_rc(tst_write(fx.p, 0, "/q/old/child", "x"), 0);
	ck_rc(store_txn_start(fx.p, &t), 0);
	ck_rc(store_rm(fx.p, t, "/q/old"), 0);
	ck_rc(tst_write(fx.p, t, "/q/old/new", "y"), 0);
	ck_rc(store_rm(fx.p, t, "/q"), 0);
	ck_rc(tst_write(fx.p, t, "/q/again", "z"), 0);
	ck_rc(store_txn_end(fx.p, t, true), 0);
	ck_dir(fx.p, 0, "/q", "again");
	copy = tst_log;
	memset(&tst_log, 0, sizeof(tst_log));
	for (unsigned int i = 0; i < copy.nmuts; i++)
		ck_rc(tst_apply(b, &copy.muts[i]), 0);
	da = tst_dump(fx.s);
	db = tst_dump(b);
	ck_assert_str_eq(da, db);
	ck_assert_ptr_null(strstr(db, "/q/old"));
	free(da);
	free(db);
	tst_log_clear();
	tst_log = copy;
	store_free(b);
}
END_TEST

START_TEST(test_store_mutation_events_after_record)
{
	uint32_t t;

	ck_rc(store_watch(fx.p, "/", "t", -1), 0);
	ck_rc(tst_write(fx.p, 0, "/e/a", "v"), 0);
	ck_assert_uint_eq(tst_log.nmuts, 1);
	ck_assert_uint_eq(tst_log.nevents, 1);
	ck_assert_uint_lt(tst_log.muts[0].seq, tst_log.events[0].seq);
	tst_log_clear();
	ck_rc(store_txn_start(fx.p, &t), 0);
	ck_rc(tst_write(fx.p, t, "/e/b", "v"), 0);
	ck_rc(tst_write(fx.p, t, "/e/c", "v"), 0);
	ck_rc(store_txn_end(fx.p, t, true), 0);
	ck_assert_uint_eq(tst_log.nmuts, 1);
	ck_assert_uint_eq(tst_log.nevents, 2);
	for (unsigned int i = 0; i < tst_log.nevents; i++)
		ck_assert_uint_lt(tst_log.muts[0].seq, tst_log.events[i].seq);
	tst_log_clear();
	ck_rc(store_rm(fx.p, 0, "/e"), 0);
	ck_assert_uint_eq(tst_log.nmuts, 1);
	ck_assert_uint_eq(tst_log.nevents, 1);
	ck_assert_uint_lt(tst_log.muts[0].seq, tst_log.events[0].seq);
	tst_log_clear();
	ck_rc(tst_set_perms(fx.p, 0, "/tool", "n0,r5"), 0);
	ck_assert_uint_eq(tst_log.nmuts, 1);
	ck_assert_uint_eq(tst_log.nevents, 1);
	ck_assert_uint_lt(tst_log.muts[0].seq, tst_log.events[0].seq);
}
END_TEST

/* A workload touching every kind of change, from several callers. */
static void
workload(void)
{
	static const char bin[] = { 0, 1, 2, (char)0xfe, 0 };
	struct store_conn *o = tst_conn(fx.s, &tst_priv, "o");
	const void *v;
	uint32_t t, len;

	ck_rc(tst_write(fx.p, 0, "/a/b/c", "abc"), 0);
	ck_rc(store_write(fx.p, 0, "/bin", bin, sizeof(bin)), 0);
	ck_rc(tst_write(fx.p, 0, "/empty", ""), 0);
	ck_rc(store_mkdir(fx.p, 0, "/dir/sub"), 0);
	ck_rc(tst_write(fx.p, 0, "/order/z", "1"), 0);
	ck_rc(tst_write(fx.p, 0, "/order/a", "2"), 0);
	ck_rc(tst_write(fx.p, 0, "/order/m", "3"), 0);
	ck_rc(store_rm(fx.p, 0, "/order/a"), 0);
	ck_rc(tst_write(fx.p, 0, "/order/a", "4"), 0);
	ck_rc(tst_write(fx.d5, 0, "mine/x", "five"), 0);
	ck_rc(tst_set_perms(fx.d5, 0, "mine", "n5,r6,b32757"), 0);
	ck_rc(tst_write(fx.d6, 0, "/local/domain/6/y", "six"), 0);
	ck_rc(tst_set_perms(fx.p, 0, "/a/b", "r0,w5"), 0);
	ck_rc(tst_write(fx.d5, 0, "/a/b/by5", "x"), 0);
	ck_rc(tst_set_perms(fx.p, 0, "@introduceDomain", "n0,r5"), 0);
	ck_rc(tst_write(fx.p, 0, "/a/b/c", "abc2"), 0);
	ck_rc(store_rm(fx.p, 0, "/dir"), 0);
	ck_rc(store_rm(fx.p, 0, "/empty/missing"), 0);
	/* A committed transaction, an aborted one and a conflicting one. */
	ck_rc(store_txn_start(fx.d5, &t), 0);
	ck_rc(tst_write(fx.d5, t, "txn/1", "t1"), 0);
	ck_rc(tst_write(fx.d5, t, "txn/2", "t2"), 0);
	ck_rc(store_rm(fx.d5, t, "mine/x"), 0);
	ck_rc(store_txn_end(fx.d5, t, true), 0);
	ck_rc(store_txn_start(fx.p, &t), 0);
	ck_rc(tst_write(fx.p, t, "/aborted", "no"), 0);
	ck_rc(store_txn_end(fx.p, t, false), 0);
	ck_rc(store_txn_start(fx.p, &t), 0);
	ck_rc(store_read(fx.p, t, "/bin", &v, &len), 0);
	ck_assert_uint_eq(len, sizeof(bin));
	ck_rc(tst_write(fx.p, t, "/conflicted", "no"), 0);
	ck_rc(tst_write(o, 0, "/bin", "changed"), 0);
	ck_rc(store_txn_end(fx.p, t, true), -EAGAIN);
	ck_rc(store_txn_start(fx.p, &t), 0);
	ck_rc(tst_write(fx.p, t, "/txn2/deep/er", "d"), 0);
	ck_rc(tst_set_perms(fx.p, t, "/txn2", "n6"), 0);
	ck_rc(store_txn_end(fx.p, t, true), 0);
	store_domain_gone(fx.s, 6, false);
}

START_TEST(test_store_mutation_replay_same_tree)
{
	struct store *b = tst_store_new("B");
	struct tst_log copy;
	char *da, *db;
	struct store_usage ua, ub;
	struct buf report = { 0 };

	/* Record from the start, fixture included. */
	tst_teardown();
	tst_setup_recording();
	workload();
	copy = tst_log;
	memset(&tst_log, 0, sizeof(tst_log));
	for (unsigned int i = 0; i < copy.nmuts; i++) {
		ck_assert_str_eq(copy.muts[i].store, "A");
		ck_rc(tst_apply(b, &copy.muts[i]), 0);
	}
	/* Replay is silent. */
	ck_assert_uint_eq(tst_log.nmuts, 0);
	ck_assert_uint_eq(tst_log.nevents, 0);
	da = tst_dump(fx.s);
	db = tst_dump(b);
	ck_assert_str_eq(da, db);
	for (uint32_t d = 0; d < 8; d++) {
		store_usage(fx.s, d, &ua);
		store_usage(b, d, &ub);
		ck_assert_msg(ua.nodes == ub.nodes, "dom%u nodes %u vs %u", d,
			      ua.nodes, ub.nodes);
	}
	ck_assert_uint_eq(store_check(b, &report), 0);
	free(da);
	free(db);
	tst_log_clear();
	tst_log = copy;
	store_free(b);
}
END_TEST

START_TEST(test_store_mutation_apply_is_silent)
{
	struct store *b = tst_store_new("B");
	struct store_conn *w = store_conn_new(b, &tst_priv, (void *)"w");
	struct store_perm perm = { 0, STORE_PERM_NONE };
	struct store_op ops[2] = {
		{ STORE_OP_PUT, "/s", "", 0, &perm, 1, true },
		{ STORE_OP_PUT, "/s/t", "val", 3, &perm, 1, false },
	};
	struct store_mutation m = { 0, 2, ops };
	struct store_op del = { STORE_OP_DEL, "/s", NULL, 0, NULL, 0, false };
	struct store_mutation md = { 0, 1, &del };

	ck_rc(store_watch(w, "/", "t", -1), 0);
	ck_rc(store_apply(b, &m), 0);
	ck_read(w, 0, "/s/t", "val");
	ck_perms(w, 0, "/s/t", "n0");
	ck_rc(store_apply(b, &md), 0);
	ck_dir(w, 0, "/", "tool");
	ck_assert_uint_eq(tst_log.nevents, 0);
	ck_assert_uint_eq(tst_log.nmuts, 0);
	store_conn_free(w);
	store_free(b);
}
END_TEST

START_TEST(test_store_mutation_apply_rejects_orphan)
{
	struct store *b = tst_store_new("B");
	struct store_perm perm = { 0, STORE_PERM_NONE };
	struct store_op op = { STORE_OP_PUT, "/no/parent", "v", 1, &perm, 1,
			       false };
	struct store_mutation m = { 0, 1, &op };
	struct store_op bad = { STORE_OP_PUT, "/bad/", "v", 1, &perm, 1,
				false };
	struct store_mutation mb = { 0, 1, &bad };
	char *before = tst_dump(b), *after;
	struct buf report = { 0 };

	ck_assert_int_lt(store_apply(b, &m), 0);
	ck_assert_int_lt(store_apply(b, &mb), 0);
	after = tst_dump(b);
	ck_assert_str_eq(before, after);
	ck_assert_uint_eq(store_check(b, &report), 0);
	free(before);
	free(after);
	store_free(b);
}
END_TEST

START_TEST(test_store_mutation_domain_gone_recorded)
{
	struct store *b = tst_store_new("B");
	struct tst_log copy;
	char *da, *db;

	tst_teardown();
	tst_setup_recording();
	ck_rc(tst_write(fx.d5, 0, "/local/domain/5/a", "v"), 0);
	ck_rc(tst_write(fx.p, 0, "/acl", "v"), 0);
	ck_rc(tst_set_perms(fx.p, 0, "/acl", "n0,r5,r6"), 0);
	store_domain_gone(fx.s, 5, false);
	ck_rc(tst_write(fx.d6, 0, "/local/domain/6/k", "v"), 0);
	store_domain_gone(fx.s, 6, true);
	copy = tst_log;
	memset(&tst_log, 0, sizeof(tst_log));
	for (unsigned int i = 0; i < copy.nmuts; i++)
		ck_rc(tst_apply(b, &copy.muts[i]), 0);
	da = tst_dump(fx.s);
	db = tst_dump(b);
	ck_assert_str_eq(da, db);
	free(da);
	free(db);
	tst_log_clear();
	tst_log = copy;
	store_free(b);
}
END_TEST

Suite *
store_mutation_suite(void)
{
	Suite *s = suite_create("store_mutation");
	TCase *tc = tcase_create("core");
	TCase *tr = tcase_create("replay");

	tcase_add_checked_fixture(tc, tst_setup, tst_teardown);
	tcase_add_test(tc, test_store_mutation_write_existing);
	tcase_add_test(tc, test_store_mutation_write_binary);
	tcase_add_test(tc, test_store_mutation_write_implicit_parents);
	tcase_add_test(tc, test_store_mutation_mkdir);
	tcase_add_test(tc, test_store_mutation_rm);
	tcase_add_test(tc, test_store_mutation_set_perms);
	tcase_add_test(tc, test_store_mutation_none_for_reads_and_failures);
	tcase_add_test(tc, test_store_mutation_txn_one_record);
	tcase_add_test(tc, test_store_mutation_events_after_record);
	suite_add_tcase(s, tc);

	tcase_add_checked_fixture(tr, tst_setup, tst_teardown);
	tcase_add_test(tr, test_store_mutation_txn_replay_order);
	tcase_add_test(tr, test_store_mutation_replay_same_tree);
	tcase_add_test(tr, test_store_mutation_apply_is_silent);
	tcase_add_test(tr, test_store_mutation_apply_rejects_orphan);
	tcase_add_test(tr, test_store_mutation_domain_gone_recorded);
	suite_add_tcase(s, tr);
	return s;
}
