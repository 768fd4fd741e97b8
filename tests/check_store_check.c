/*
 * store_check: a consistent store reports no problem, before and after
 * every kind of change, and its accounting agrees with a recount.
 */
#include <stdio.h>
#include <stdlib.h>

#include "tests/check_store.h"

#define ck_store_clean(s) do {						\
	struct buf r_ = { 0 };						\
	unsigned int n_ = store_check((s), &r_);			\
	buf_add(&r_, "", 1);						\
	ck_assert_msg(n_ == 0, "store_check: %u problems:\n%s", n_,	\
		      r_.data);						\
	ck_assert_msg(r_.len == 1, "clean store, report: %s", r_.data);	\
	buf_free(&r_);							\
} while (0)

/* Nodes owned by domid, counted by walking the tree. */
static uint32_t
count_owned(struct store_conn *c, const char *path, uint32_t domid)
{
	struct buf b = { 0 };
	char *perms;
	uint32_t n = 0;
	unsigned long owner;

	ck_rc(tst_perms(c, 0, path, &perms), 0);
	owner = strtoul(perms + 1, NULL, 10);
	if (owner == domid)
		n++;
	free(perms);
	ck_rc(store_directory(c, 0, path, &b), 0);
	for (size_t off = 0; off < b.len; off += strlen(b.data + off) + 1) {
		char *child = strcmp(path, "/") == 0
			? xasprintf("/%s", b.data + off)
			: xasprintf("%s/%s", path, b.data + off);

		n += count_owned(c, child, domid);
		free(child);
	}
	buf_free(&b);
	return n;
}

/* Nodes and value bytes below path, counted by walking the tree. */
static void
count_all(struct store_conn *c, const char *path, uint64_t *nodes,
	  uint64_t *bytes)
{
	struct buf b = { 0 };
	const void *v;
	uint32_t len;

	ck_rc(store_read(c, 0, path, &v, &len), 0);
	(*nodes)++;
	*bytes += len;
	ck_rc(store_directory(c, 0, path, &b), 0);
	for (size_t off = 0; off < b.len; off += strlen(b.data + off) + 1) {
		char *child = strcmp(path, "/") == 0
			? xasprintf("/%s", b.data + off)
			: xasprintf("%s/%s", path, b.data + off);

		count_all(c, child, nodes, bytes);
		free(child);
	}
	buf_free(&b);
}

START_TEST(test_store_check_fresh_store_clean)
{
	struct store *s = tst_store_new("fresh");

	ck_store_clean(s);
	store_free(s);
	ck_store_clean(fx.s);
}
END_TEST

START_TEST(test_store_check_clean_after_changes)
{
	struct store_conn *o = tst_conn(fx.s, &tst_priv, "o");
	uint32_t t;

	ck_rc(tst_write(fx.p, 0, "/a/b/c/d", "v"), 0);
	ck_store_clean(fx.s);
	ck_rc(tst_write(fx.d5, 0, "x/y", "v"), 0);
	ck_rc(store_mkdir(fx.d6, 0, "z"), 0);
	ck_rc(tst_set_perms(fx.p, 0, "/local/domain/5/x", "n6"), 0);
	ck_store_clean(fx.s);
	ck_rc(store_rm(fx.p, 0, "/a/b"), 0);
	ck_store_clean(fx.s);
	ck_rc(store_txn_start(fx.d5, &t), 0);
	ck_rc(tst_write(fx.d5, t, "txn/a", "1"), 0);
	ck_rc(store_rm(fx.d5, t, "x/y"), 0);
	ck_store_clean(fx.s);
	ck_rc(store_txn_end(fx.d5, t, true), 0);
	ck_store_clean(fx.s);
	ck_rc(store_txn_start(fx.p, &t), 0);
	ck_rc(tst_write(fx.p, t, "/a", "1"), 0);
	ck_rc(tst_write(o, 0, "/a", "2"), 0);
	ck_rc(store_txn_end(fx.p, t, true), -EAGAIN);
	ck_store_clean(fx.s);
	ck_rc(store_watch(fx.d5, "/", "t", -1), 0);
	store_domain_gone(fx.s, 5, false);
	ck_store_clean(fx.s);
	store_domain_gone(fx.s, 6, true);
	ck_store_clean(fx.s);
}
END_TEST

START_TEST(test_store_check_accounting_matches_tree)
{
	struct store_stats st;
	struct store_usage u;
	uint64_t nodes = 0, bytes = 0;

	ck_rc(tst_write(fx.d5, 0, "a/b", "12345"), 0);
	ck_rc(tst_write(fx.p, 0, "/local/domain/5/c", "678"), 0);
	ck_rc(tst_write(fx.d6, 0, "q", "9"), 0);
	ck_rc(tst_set_perms(fx.p, 0, "/local/domain/6/q", "n5"), 0);
	ck_rc(store_rm(fx.d5, 0, "a/b"), 0);
	count_all(fx.p, "/", &nodes, &bytes);
	store_stats(fx.s, &st);
	/* The tree plus the two special nodes, if the store counts them. */
	ck_assert_msg(st.nodes == nodes || st.nodes == nodes + 2,
		      "stats.nodes %llu, tree %llu",
		      (unsigned long long)st.nodes,
		      (unsigned long long)nodes);
	ck_assert_uint_eq(st.bytes, bytes);
	for (uint32_t d = 5; d <= 6; d++) {
		store_usage(fx.s, d, &u);
		ck_assert_uint_eq(u.nodes, count_owned(fx.p, "/", d));
	}
	ck_store_clean(fx.s);
}
END_TEST

Suite *
store_check_suite(void)
{
	Suite *s = suite_create("store_check");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, tst_setup, tst_teardown);
	tcase_add_test(tc, test_store_check_fresh_store_clean);
	tcase_add_test(tc, test_store_check_clean_after_changes);
	tcase_add_test(tc, test_store_check_accounting_matches_tree);
	suite_add_tcase(s, tc);
	return s;
}
