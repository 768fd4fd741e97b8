/*
 * Path rules: allowed characters, canonical form, relative paths, special
 * "@" paths and the two length limits (3072 absolute for everyone, path-max
 * below the caller's home for unprivileged callers).
 */
#include <stdlib.h>

#include "tests/check_store.h"

/* Resolves path for who; returns the result or NULL, *rc gets the code. */
static char *
resolve(const struct store_caller *who, const char *path, bool special,
	int *rc)
{
	char *out = NULL;

	*rc = store_path_resolve(fx.s, who, path, special, &out);
	if (*rc != 0)
		ck_assert_ptr_null(out);
	return out;
}

/* prefix + n bytes of 50-byte components "ccc.../ccc...". Caller frees. */
static char *
long_path(const char *prefix, size_t n)
{
	char *s = tst_str_rep(prefix, 'c', n);
	size_t plen = strlen(prefix);

	for (size_t i = 0; i < n; i++)
		if ((i + 1) % 51 == 0 && i != n - 1)
			s[plen + i] = '/';
	return s;
}

#define ck_resolves(who, path, special, want) do {			\
	int r_;								\
	char *o_ = resolve((who), (path), (special), &r_);		\
	ck_assert_msg(r_ == 0, "resolve \"%s\": %d", (path), r_);	\
	ck_assert_str_eq(o_, (want));					\
	free(o_);							\
} while (0)

#define ck_invalid(who, path, special) do {				\
	int r_;								\
	char *o_ = resolve((who), (path), (special), &r_);		\
	ck_assert_msg(r_ == -EINVAL, "resolve \"%s\": got %d, want -EINVAL", \
		      (path), r_);					\
	free(o_);							\
} while (0)

START_TEST(test_store_path_absolute_ok)
{
	ck_resolves(&tst_priv, "/", false, "/");
	ck_resolves(&tst_priv, "/a", false, "/a");
	ck_resolves(&tst_priv, "/a/b/c", false, "/a/b/c");
	ck_resolves(&tst_dom5, "/tool/xenstored", false, "/tool/xenstored");
}
END_TEST

START_TEST(test_store_path_allowed_chars)
{
	ck_resolves(&tst_priv,
		    "/ABCDEFGHIJKLMNOPQRSTUVWXYZ/abcdefghijklmnopqrstuvwxyz",
		    false,
		    "/ABCDEFGHIJKLMNOPQRSTUVWXYZ/abcdefghijklmnopqrstuvwxyz");
	ck_resolves(&tst_priv, "/0123456789/-_@", false, "/0123456789/-_@");
	ck_resolves(&tst_priv, "/a@b/c-d/e_f", false, "/a@b/c-d/e_f");
}
END_TEST

START_TEST(test_store_path_rejects_bad_chars)
{
	static const char *const bad[] = {
		"/a b", "/a.b", "/a:b", "/a*", "/a\\b", "/a\tb", "/a\nb",
		"/a+b", "/a~", "/a%20", "/\xc3\xa9", "/a\x7f", "/a,b", "/..",
	};

	for (size_t i = 0; i < LXS_ARRAY_SIZE(bad); i++) {
		ck_invalid(&tst_priv, bad[i], false);
		ck_invalid(&tst_priv, bad[i], true);
	}
}
END_TEST

START_TEST(test_store_path_rejects_bad_shape)
{
	ck_invalid(&tst_priv, "", false);
	ck_invalid(&tst_priv, "", true);
	ck_invalid(&tst_priv, "/a/", false);
	ck_invalid(&tst_priv, "/a/b/", false);
	ck_invalid(&tst_priv, "//", false);
	ck_invalid(&tst_priv, "//a", false);
	ck_invalid(&tst_priv, "/a//b", false);
	ck_invalid(&tst_dom5, "a/", false);
	ck_invalid(&tst_dom5, "a//b", false);
}
END_TEST

START_TEST(test_store_path_relative_under_home)
{
	ck_resolves(&tst_dom5, "foo", false, "/local/domain/5/foo");
	ck_resolves(&tst_dom5, "foo/bar", false, "/local/domain/5/foo/bar");
	ck_resolves(&tst_dom6, "foo", false, "/local/domain/6/foo");
	ck_resolves(&tst_priv, "x", false, "/local/domain/0/x");
	/* The target does not change where relative paths go. */
	{
		const struct store_caller t = { 7, 5, false };

		ck_resolves(&t, "x", false, "/local/domain/7/x");
	}
}
END_TEST

START_TEST(test_store_path_special_only_when_allowed)
{
	ck_resolves(&tst_priv, "@introduceDomain", true, "@introduceDomain");
	ck_resolves(&tst_priv, "@releaseDomain", true, "@releaseDomain");
	ck_resolves(&tst_dom5, "@releaseDomain/5", true, "@releaseDomain/5");
	ck_invalid(&tst_priv, "@introduceDomain", false);
	ck_invalid(&tst_priv, "@releaseDomain", false);
	ck_invalid(&tst_dom5, "@releaseDomain", false);
}
END_TEST

START_TEST(test_store_path_special_ops)
{
	const void *v;
	uint32_t len;
	struct buf b = { 0 };

	/* Only WATCH, UNWATCH, GET_PERMS and SET_PERMS take "@" paths. */
	ck_rc(store_read(fx.p, 0, "@introduceDomain", &v, &len), -EINVAL);
	ck_rc(tst_write(fx.p, 0, "@introduceDomain", "x"), -EINVAL);
	ck_rc(store_mkdir(fx.p, 0, "@releaseDomain"), -EINVAL);
	ck_rc(store_rm(fx.p, 0, "@releaseDomain"), -EINVAL);
	ck_rc(store_directory(fx.p, 0, "@releaseDomain", &b), -EINVAL);
	ck_rc(store_directory_part(fx.p, 0, "@releaseDomain", 0, 4096, &b),
	      -EINVAL);
	ck_rc(store_get_perms(fx.p, 0, "@introduceDomain", &b), 0);
	ck_rc(tst_set_perms(fx.p, 0, "@introduceDomain", "n0,r5"), 0);
	ck_rc(store_watch(fx.p, "@introduceDomain", "t", -1), 0);
	ck_rc(store_unwatch(fx.p, "@introduceDomain", "t"), 0);
	buf_free(&b);
}
END_TEST

START_TEST(test_store_path_ops_reject_invalid)
{
	const void *v;
	uint32_t len;
	struct buf b = { 0 };
	uint32_t before = tst_log.nmuts;

	ck_rc(tst_write(fx.p, 0, "/a/", "x"), -EINVAL);
	ck_rc(tst_write(fx.p, 0, "/a b", "x"), -EINVAL);
	ck_rc(tst_write(fx.p, 0, "", "x"), -EINVAL);
	ck_rc(store_read(fx.p, 0, "//", &v, &len), -EINVAL);
	ck_rc(store_mkdir(fx.p, 0, "/x//y"), -EINVAL);
	ck_rc(store_rm(fx.p, 0, "/a.b"), -EINVAL);
	ck_rc(store_directory(fx.p, 0, "/a/", &b), -EINVAL);
	ck_rc(store_get_perms(fx.p, 0, "/a/", &b), -EINVAL);
	ck_rc(tst_set_perms(fx.p, 0, "/a/", "n0"), -EINVAL);
	ck_rc(store_watch(fx.p, "/a/", "t", -1), -EINVAL);
	ck_rc(store_watch(fx.p, "", "t", -1), -EINVAL);
	ck_assert_uint_eq(tst_log.nmuts, before);
	buf_free(&b);
}
END_TEST

START_TEST(test_store_path_absolute_max)
{
	char *ok = tst_str_rep("/", 'a', STORE_ABS_PATH_MAX - 1);
	char *over = tst_str_rep("/", 'a', STORE_ABS_PATH_MAX);
	int rc;
	char *o;

	ck_assert_uint_eq(strlen(ok), 3072);
	o = resolve(&tst_priv, ok, false, &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_str_eq(o, ok);
	free(o);
	ck_invalid(&tst_priv, over, false);
	/* With path-max unlimited, an unprivileged caller meets it too. */
	ck_rc(store_quota_set(fx.s, 5, STORE_QUOTA_PATH_MAX, false, 0), 0);
	o = resolve(&tst_dom5, ok, false, &rc);
	ck_assert_int_eq(rc, 0);
	free(o);
	ck_invalid(&tst_dom5, over, false);
	/* The store accepts such a path for real. */
	ck_rc(tst_write(fx.p, 0, ok, "v"), 0);
	ck_read(fx.p, 0, ok, "v");
	ck_rc(tst_write(fx.p, 0, over, "v"), -EINVAL);
	free(ok);
	free(over);
}
END_TEST

START_TEST(test_store_path_relative_counts_absolute_length)
{
	/* "/local/domain/0/" is 16 bytes. */
	char *ok = tst_str_rep("", 'a', STORE_ABS_PATH_MAX - 16);
	char *over = tst_str_rep("", 'a', STORE_ABS_PATH_MAX - 15);
	int rc;
	char *o;

	o = resolve(&tst_priv, ok, false, &rc);
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_eq(strlen(o), STORE_ABS_PATH_MAX);
	free(o);
	ck_invalid(&tst_priv, over, false);
	free(ok);
	free(over);
}
END_TEST

/*
 * As in cxenstored: below /local/domain/<N>/ (any N) only the part after
 * that prefix counts; any other path counts whole.
 */
START_TEST(test_store_path_max_below_home)
{
	char *ok = long_path("/local/domain/5/", 2048);
	char *over = long_path("/local/domain/5/", 2049);
	char *rel_ok = long_path("", 2048);
	char *rel_over = long_path("", 2049);
	char *deep = tst_str_rep("/local/domain/5/x/", 'e', 2046);
	char *deep_over = tst_str_rep("/local/domain/5/x/", 'e', 2047);
	char *out_ok = long_path("/", 2047);
	char *out_over = long_path("/", 2048);
	int rc;
	char *o;

	o = resolve(&tst_dom5, ok, false, &rc);
	ck_assert_int_eq(rc, 0);
	free(o);
	ck_invalid(&tst_dom5, over, false);
	o = resolve(&tst_dom5, rel_ok, false, &rc);
	ck_assert_int_eq(rc, 0);
	free(o);
	ck_invalid(&tst_dom5, rel_over, false);
	o = resolve(&tst_dom5, deep, false, &rc);
	ck_assert_int_eq(rc, 0);
	free(o);
	ck_invalid(&tst_dom5, deep_over, false);
	/* Another domain's home is measured the same way. */
	o = resolve(&tst_dom6, ok, false, &rc);
	ck_assert_int_eq(rc, 0);
	free(o);
	ck_invalid(&tst_dom6, over, false);
	/* Outside /local/domain/<N>/ the whole path counts. */
	o = resolve(&tst_dom5, out_ok, false, &rc);
	ck_assert_int_eq(rc, 0);
	free(o);
	ck_invalid(&tst_dom5, out_over, false);
	/* Privileged callers are exempt. */
	o = resolve(&tst_priv, over, false, &rc);
	ck_assert_int_eq(rc, 0);
	free(o);
	o = resolve(&tst_priv, out_over, false, &rc);
	ck_assert_int_eq(rc, 0);
	free(o);
	/* And the requests agree with store_path_resolve. */
	ck_rc(tst_write(fx.d5, 0, ok, ""), 0);
	ck_read(fx.d5, 0, ok, "");
	ck_rc(tst_write(fx.d5, 0, over, ""), -EINVAL);
	ck_rc(tst_write(fx.d5, 0, rel_over, ""), -EINVAL);
	free(ok);
	free(over);
	free(rel_ok);
	free(rel_over);
	free(deep);
	free(deep_over);
	free(out_ok);
	free(out_over);
}
END_TEST

START_TEST(test_store_path_max_follows_quota)
{
	char *ok = tst_str_rep("/local/domain/5/", 'c', 100);
	char *over = tst_str_rep("/local/domain/5/", 'c', 101);
	char *big = tst_str_rep("/local/domain/5/", 'c', 3000);
	char *over6 = tst_str_rep("/local/domain/6/", 'c', 101);
	int rc;
	char *o;

	ck_rc(store_quota_set(fx.s, 5, STORE_QUOTA_PATH_MAX, false, 100), 0);
	o = resolve(&tst_dom5, ok, false, &rc);
	ck_assert_int_eq(rc, 0);
	free(o);
	ck_invalid(&tst_dom5, over, false);
	/* Domain 6 keeps the global 2048. */
	o = resolve(&tst_dom6, over6, false, &rc);
	ck_assert_int_eq(rc, 0);
	free(o);
	/* 0 means unlimited: only the absolute limit remains. */
	ck_rc(store_quota_set(fx.s, 5, STORE_QUOTA_PATH_MAX, false, 0), 0);
	o = resolve(&tst_dom5, big, false, &rc);
	ck_assert_int_eq(rc, 0);
	free(o);
	free(ok);
	free(over);
	free(big);
	free(over6);
}
END_TEST

Suite *
store_paths_suite(void)
{
	Suite *s = suite_create("store_paths");
	TCase *tc = tcase_create("core");
	TCase *tl = tcase_create("limits");

	tcase_add_checked_fixture(tc, tst_setup, tst_teardown);
	tcase_add_test(tc, test_store_path_absolute_ok);
	tcase_add_test(tc, test_store_path_allowed_chars);
	tcase_add_test(tc, test_store_path_rejects_bad_chars);
	tcase_add_test(tc, test_store_path_rejects_bad_shape);
	tcase_add_test(tc, test_store_path_relative_under_home);
	tcase_add_test(tc, test_store_path_special_only_when_allowed);
	tcase_add_test(tc, test_store_path_special_ops);
	tcase_add_test(tc, test_store_path_ops_reject_invalid);
	suite_add_tcase(s, tc);

	tcase_add_checked_fixture(tl, tst_setup, tst_teardown);
	tcase_add_test(tl, test_store_path_absolute_max);
	tcase_add_test(tl, test_store_path_relative_counts_absolute_length);
	tcase_add_test(tl, test_store_path_max_below_home);
	tcase_add_test(tl, test_store_path_max_follows_quota);
	suite_add_tcase(s, tl);
	return s;
}
