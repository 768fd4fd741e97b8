/*
 * The compact node layout (store/node.c, index.c, kidcache.c): values and
 * perms that move between the node's own allocation and a separate block,
 * names stored without their parents' paths, the circular child list, the
 * index that matches paths from the end, and the bounded listing cache.
 * Each scenario ends with store_check, which rebuilds every path.
 */
#include <stdio.h>
#include <stdlib.h>

#include "store/store-int.h"
#include "tests/check_store.h"

static void
ck_clean(struct store *s)
{
	struct buf report = { 0 };

	buf_add(&report, "", 1);
	report.len = 0;
	ck_assert_msg(store_check(s, &report) == 0, "store_check: %s",
		      report.data);
	buf_free(&report);
}

static void
ck_value(struct store_conn *c, const char *path, const void *want,
	 uint32_t wlen)
{
	const void *v;
	uint32_t len;

	ck_rc(store_read(c, 0, path, &v, &len), 0);
	ck_assert_uint_eq(len, wlen);
	ck_assert(memcmp(v, want, wlen) == 0);
}

/* A value of len bytes that differs at every position and per seed. */
static char *
pattern(uint32_t len, unsigned int seed)
{
	char *v = xmalloc(len ? len : 1);

	for (uint32_t i = 0; i < len; i++)
		v[i] = (char)((i * 7 + seed * 13) & 0xff);
	return v;
}

START_TEST(test_store_layout_value_grows_and_shrinks)
{
	static const uint32_t lens[] = {
		0, 1, 7, 8, 9, 24, 100, 4096, 4000, 50, 3, 0, 2000, 2100, 10,
	};

	ck_rc(tst_write(fx.p, 0, "/x", ""), 0);
	ck_rc(tst_set_perms(fx.p, 0, "/x", "n5,r6"), 0);
	for (size_t i = 0; i < LXS_ARRAY_SIZE(lens); i++) {
		char *v = pattern(lens[i], (unsigned int)i);

		ck_rc(store_write(fx.p, 0, "/x", v, lens[i]), 0);
		ck_value(fx.d5, "/x", v, lens[i]);
		ck_perms(fx.p, 0, "/x", "n5,r6");
		ck_clean(fx.s);
		free(v);
	}
}
END_TEST

START_TEST(test_store_layout_perms_change_keeps_value)
{
	static const uint32_t counts[] = { 1, 5, 60, 2, 1, 33, 1 };
	static const uint32_t lens[] = { 0, 30, 3000 };

	for (size_t l = 0; l < LXS_ARRAY_SIZE(lens); l++) {
		char *v = pattern(lens[l], (unsigned int)l);

		ck_rc(store_write(fx.p, 0, "/n", v, lens[l]), 0);
		for (size_t i = 0; i < LXS_ARRAY_SIZE(counts); i++) {
			struct buf want = { 0 };
			char *got = NULL;

			buf_printf(&want, "b7");
			for (uint32_t k = 1; k < counts[i]; k++)
				buf_printf(&want, ",r%u", 100 + k);
			buf_add(&want, "", 1);
			ck_rc(tst_set_perms(fx.p, 0, "/n", want.data), 0);
			ck_value(fx.p, "/n", v, lens[l]);
			ck_rc(tst_perms(fx.p, 0, "/n", &got), 0);
			ck_assert_str_eq(got, want.data);
			ck_clean(fx.s);
			free(got);
			buf_free(&want);
		}
		free(v);
	}
}
END_TEST

START_TEST(test_store_layout_long_names)
{
	char *name = tst_str_rep("", 'n', 2000);
	char *path, *deep, *parent;
	const void *pv;
	uint32_t len;

	path = xasprintf("/long/%s", name);
	ck_rc(tst_write(fx.p, 0, path, "v1"), 0);
	ck_read(fx.p, 0, path, "v1");
	ck_dir(fx.p, 0, "/long", name);
	/* A path right at the limit, built of many short components. */
	{
		struct buf b = { 0 };

		buf_printf(&b, "/deep");
		while (b.len + 4 <= STORE_ABS_PATH_MAX)
			buf_printf(&b, "/abc");
		while (b.len < STORE_ABS_PATH_MAX)
			buf_printf(&b, "z");
		buf_add(&b, "", 1);
		deep = xstrdup(b.data);
		buf_free(&b);
	}
	ck_assert_uint_eq(strlen(deep), STORE_ABS_PATH_MAX);
	ck_rc(tst_write(fx.p, 0, deep, "bottom"), 0);
	ck_read(fx.p, 0, deep, "bottom");
	ck_clean(fx.s);
	parent = xstrndup(deep, (size_t)(strrchr(deep, '/') - deep));
	ck_rc(store_read(fx.p, 0, parent, &pv, &len), 0);
	ck_rc(store_rm(fx.p, 0, parent), 0);
	ck_rc(store_read(fx.p, 0, deep, &pv, &len), -ENOENT);
	ck_rc(store_rm(fx.p, 0, path), 0);
	ck_dir(fx.p, 0, "/long", "");
	ck_clean(fx.s);
	free(parent);
	free(deep);
	free(path);
	free(name);
}
END_TEST

START_TEST(test_store_layout_remove_children_any_position)
{
	static const char *const kids[] = { "a", "b", "c", "d", "e" };

	for (size_t i = 0; i < LXS_ARRAY_SIZE(kids); i++) {
		char *p = xasprintf("/d/%s", kids[i]);

		ck_rc(tst_write(fx.p, 0, p, kids[i]), 0);
		free(p);
	}
	ck_dir(fx.p, 0, "/d", "a,b,c,d,e");
	ck_rc(store_rm(fx.p, 0, "/d/c"), 0);
	ck_dir(fx.p, 0, "/d", "a,b,d,e");
	ck_rc(store_rm(fx.p, 0, "/d/a"), 0);
	ck_dir(fx.p, 0, "/d", "b,d,e");
	ck_rc(store_rm(fx.p, 0, "/d/e"), 0);
	ck_dir(fx.p, 0, "/d", "b,d");
	ck_rc(tst_write(fx.p, 0, "/d/a", "again"), 0);
	ck_dir(fx.p, 0, "/d", "b,d,a");
	ck_clean(fx.s);
	ck_rc(store_rm(fx.p, 0, "/d/d"), 0);
	ck_rc(store_rm(fx.p, 0, "/d/b"), 0);
	ck_rc(store_rm(fx.p, 0, "/d/a"), 0);
	ck_dir(fx.p, 0, "/d", "");
	ck_rc(tst_write(fx.p, 0, "/d/z", ""), 0);
	ck_dir(fx.p, 0, "/d", "z");
	ck_read(fx.p, 0, "/d/z", "");
	ck_clean(fx.s);
}
END_TEST

/* Same characters, different components: only the exact split matches. */
START_TEST(test_store_layout_lookup_by_components)
{
	char *v;

	ck_rc(tst_write(fx.p, 0, "/ab/c", "1"), 0);
	ck_rc(tst_write(fx.p, 0, "/a/bc", "2"), 0);
	ck_rc(tst_write(fx.p, 0, "/a/b/c", "3"), 0);
	ck_read(fx.p, 0, "/ab/c", "1");
	ck_read(fx.p, 0, "/a/bc", "2");
	ck_read(fx.p, 0, "/a/b/c", "3");
	ck_rc(tst_read(fx.p, 0, "/abc", &v), -ENOENT);
	ck_rc(tst_read(fx.p, 0, "/a/b/c/", &v), -EINVAL);
	ck_rc(tst_read(fx.p, 0, "/b/c", &v), -ENOENT);
	ck_rc(tst_read(fx.p, 0, "/c", &v), -ENOENT);
	ck_dir(fx.p, 0, "/a", "bc,b");
	ck_clean(fx.s);
}
END_TEST

/* More listed nodes than cache slots: every listing stays current. */
START_TEST(test_store_layout_listing_cache_follows_changes)
{
	enum { NDIRS = 3000 };
	char path[64];

	for (unsigned int d = 0; d < NDIRS; d++)
		for (unsigned int k = 0; k < 3; k++) {
			snprintf(path, sizeof(path), "/c/d%u/k%u", d, k);
			ck_rc(tst_write(fx.p, 0, path, "v"), 0);
		}
	for (unsigned int round = 0; round < 2; round++)
		for (unsigned int d = 0; d < NDIRS; d++) {
			snprintf(path, sizeof(path), "/c/d%u",
				 (d * 7 + round) % NDIRS);
			ck_dir(fx.p, 0, path, "k0,k1,k2");
		}
	ck_clean(fx.s);
	for (unsigned int d = 0; d < NDIRS; d += 2) {
		snprintf(path, sizeof(path), "/c/d%u/k1", d);
		ck_rc(store_rm(fx.p, 0, path), 0);
		snprintf(path, sizeof(path), "/c/d%u/k9", d);
		ck_rc(tst_write(fx.p, 0, path, "v"), 0);
	}
	ck_clean(fx.s);
	for (unsigned int d = 0; d < NDIRS; d++) {
		snprintf(path, sizeof(path), "/c/d%u", d);
		ck_dir(fx.p, 0, path, d % 2 ? "k0,k1,k2" : "k0,k2,k9");
	}
	ck_rc(store_rm(fx.p, 0, "/c"), 0);
	ck_clean(fx.s);
}
END_TEST

START_TEST(test_store_layout_txn_sees_inplace_rewrite)
{
	uint32_t t;
	char *v;

	ck_rc(tst_write(fx.p, 0, "/t/x", "12345678"), 0);
	ck_rc(store_txn_start(fx.p, &t), 0);
	ck_rc(tst_read(fx.p, t, "/t/x", &v), 0);
	ck_assert_str_eq(v, "12345678");
	free(v);
	/* Same size: rewritten in place, still a new generation. */
	ck_rc(tst_write(fx.p, 0, "/t/x", "87654321"), 0);
	ck_rc(tst_write(fx.p, t, "/t/y", "new"), 0);
	ck_rc(store_txn_end(fx.p, t, true), -EAGAIN);
	ck_rc(tst_read(fx.p, 0, "/t/y", &v), -ENOENT);
	/* A removal of a subtree with long names inside a transaction. */
	{
		char *name = tst_str_rep("", 'q', 1000);
		char *p = xasprintf("/t/%s/%s", name, name);

		ck_rc(tst_write(fx.p, 0, p, "deep"), 0);
		ck_rc(store_txn_start(fx.p, &t), 0);
		ck_rc(store_rm(fx.p, t, "/t"), 0);
		ck_rc(tst_read(fx.p, t, p, &v), -ENOENT);
		ck_read(fx.p, 0, p, "deep");
		ck_rc(store_txn_end(fx.p, t, true), 0);
		ck_rc(tst_read(fx.p, 0, p, &v), -ENOENT);
		free(p);
		free(name);
	}
	ck_clean(fx.s);
}
END_TEST

/* The perms rewrite reads the value from the node it rewrites. */
START_TEST(test_store_layout_domain_gone_keeps_values)
{
	static const uint32_t lens[] = { 0, 5, 40, 3000 };
	char path[32];

	for (size_t i = 0; i < LXS_ARRAY_SIZE(lens); i++) {
		char *v = pattern(lens[i], (unsigned int)i);

		snprintf(path, sizeof(path), "/g/n%zu", i);
		ck_rc(store_write(fx.p, 0, path, v, lens[i]), 0);
		ck_rc(tst_set_perms(fx.p, 0, path, "n0,r5,b6,w5,r9"), 0);
		free(v);
	}
	store_domain_gone(fx.s, 5, false);
	for (size_t i = 0; i < LXS_ARRAY_SIZE(lens); i++) {
		char *v = pattern(lens[i], (unsigned int)i);

		snprintf(path, sizeof(path), "/g/n%zu", i);
		ck_value(fx.p, path, v, lens[i]);
		ck_perms(fx.p, 0, path, "n0,b6,r9");
		free(v);
	}
	ck_clean(fx.s);
}
END_TEST

/* Objects of every class and beyond: disjoint, reused by class. */
START_TEST(test_store_layout_slab_classes)
{
	enum { N = 600 };
	struct slab sl = { 0 };
	char *p[N];
	uint8_t cls[N];
	size_t size[N];

	for (int i = 0; i < N; i++) {
		size[i] = (size_t)(i * 7) % (SLAB_MAX + 200) + 1;
		p[i] = slab_alloc(&sl, size[i], &cls[i]);
		ck_assert_uint_eq((uintptr_t)p[i] % 8, 0);
		ck_assert_uint_ge(slab_cap(p[i], cls[i]), size[i]);
		ck_assert_uint_eq(cls[i] == 0, size[i] > SLAB_MAX);
		memset(p[i], i & 0xff, size[i]);
	}
	for (int i = 0; i < N; i++)
		for (size_t k = 0; k < size[i]; k++)
			ck_assert_uint_eq((unsigned char)p[i][k],
					  (unsigned int)(i & 0xff));
	/* A freed object is the next one of its class. */
	for (int i = 0; i < N; i += 2) {
		char *again;
		uint8_t c;

		slab_free(&sl, p[i], cls[i]);
		if (cls[i] == 0)
			continue;
		again = slab_alloc(&sl, (size_t)cls[i] * SLAB_GRAIN, &c);
		ck_assert_ptr_eq(again, p[i]);
		ck_assert_uint_eq(c, cls[i]);
		memset(again, i & 0xff, size[i]);
	}
	for (int i = 0; i < N; i++) {
		if (i % 2 == 0 && cls[i] == 0)
			continue;
		for (size_t k = 0; k < size[i]; k++)
			ck_assert_uint_eq((unsigned char)p[i][k],
					  (unsigned int)(i & 0xff));
		if (cls[i] == 0)
			slab_free(&sl, p[i], 0);
	}
	slab_free_all(&sl);
	ck_assert_ptr_null(sl.blocks);
}
END_TEST

Suite *
store_layout_suite(void)
{
	Suite *s = suite_create("store_layout");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, tst_setup, tst_teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_store_layout_value_grows_and_shrinks);
	tcase_add_test(tc, test_store_layout_perms_change_keeps_value);
	tcase_add_test(tc, test_store_layout_long_names);
	tcase_add_test(tc, test_store_layout_remove_children_any_position);
	tcase_add_test(tc, test_store_layout_lookup_by_components);
	tcase_add_test(tc, test_store_layout_listing_cache_follows_changes);
	tcase_add_test(tc, test_store_layout_txn_sees_inplace_rewrite);
	tcase_add_test(tc, test_store_layout_domain_gone_keeps_values);
	tcase_add_test(tc, test_store_layout_slab_classes);
	suite_add_tcase(s, tc);
	return s;
}
