/*
 * Nodes: the initial tree, READ/WRITE with binary values, implicit parents,
 * MKDIR, recursive RM, DIRECTORY in insertion order, DIRECTORY_PART chunks
 * and the statistics.
 */
#include <stdio.h>
#include <stdlib.h>

#include "tests/check_store.h"

START_TEST(test_store_nodes_initial_tree)
{
	struct store *s = tst_store_new("fresh");
	struct store_conn *c = store_conn_new(s, &tst_priv, (void *)"c");
	char *v;
	struct buf report = { 0 };

	ck_dir(c, 0, "/", "tool");
	ck_dir(c, 0, "/tool", "xenstored");
	ck_dir(c, 0, "/tool/xenstored", "");
	ck_read(c, 0, "/", "");
	ck_read(c, 0, "/tool", "");
	ck_read(c, 0, "/tool/xenstored", "");
	ck_perms(c, 0, "@introduceDomain", "n0");
	ck_perms(c, 0, "@releaseDomain", "n0,r32757");
	ck_rc(tst_read(c, 0, "/local", &v), -ENOENT);
	ck_assert_uint_eq(store_check(s, &report), 0);
	store_conn_free(c);
	store_free(s);
	buf_free(&report);
}
END_TEST

START_TEST(test_store_nodes_store_new_priv_domid)
{
	struct store *s = store_new(NULL, NULL, 3);
	const struct store_caller p3 = { 3, LXS_DOMID_INVALID, true };
	struct store_conn *c = store_conn_new(s, &p3, (void *)"c");

	ck_perms(c, 0, "/", "n3");
	ck_perms(c, 0, "/tool/xenstored", "n3");
	ck_perms(c, 0, "@releaseDomain", "n3,r32757");
	/* No callbacks: changes still work. */
	ck_rc(tst_write(c, 0, "/a", "v"), 0);
	ck_read(c, 0, "/a", "v");
	store_conn_free(c);
	store_free(s);
}
END_TEST

START_TEST(test_store_nodes_read_missing)
{
	char *v;

	ck_rc(tst_read(fx.p, 0, "/nope", &v), -ENOENT);
	ck_assert_ptr_null(v);
	ck_rc(tst_read(fx.p, 0, "/nope/deeper", &v), -ENOENT);
	ck_rc(tst_read(fx.p, 0, "/tool/xenstored/x", &v), -ENOENT);
}
END_TEST

START_TEST(test_store_nodes_write_read_exact_bytes)
{
	static const unsigned char bin[] = {
		0x00, 'a', 0x00, 0xff, 0x80, '\n', 0x00, 0x7f, 0x00,
	};
	const void *v;
	uint32_t len;

	ck_rc(store_write(fx.p, 0, "/bin", bin, sizeof(bin)), 0);
	ck_rc(store_read(fx.p, 0, "/bin", &v, &len), 0);
	ck_assert_uint_eq(len, sizeof(bin));
	ck_assert(memcmp(v, bin, sizeof(bin)) == 0);
	/* Shorter value replaces it entirely. */
	ck_rc(store_write(fx.p, 0, "/bin", "xy", 2), 0);
	ck_rc(store_read(fx.p, 0, "/bin", &v, &len), 0);
	ck_assert_uint_eq(len, 2);
	ck_assert(memcmp(v, "xy", 2) == 0);
	/* Empty value. */
	ck_rc(store_write(fx.p, 0, "/bin", "", 0), 0);
	ck_rc(store_read(fx.p, 0, "/bin", &v, &len), 0);
	ck_assert_uint_eq(len, 0);
}
END_TEST

START_TEST(test_store_nodes_write_large_value)
{
	char *big = tst_str_rep("", 'q', 4000);
	const void *v;
	uint32_t len;

	ck_rc(tst_write(fx.p, 0, "/big", big), 0);
	ck_rc(store_read(fx.p, 0, "/big", &v, &len), 0);
	ck_assert_uint_eq(len, 4000);
	ck_assert(memcmp(v, big, 4000) == 0);
	free(big);
}
END_TEST

START_TEST(test_store_nodes_write_creates_parents)
{
	ck_rc(tst_write(fx.p, 0, "/a/b/c", "leaf"), 0);
	ck_read(fx.p, 0, "/a", "");
	ck_read(fx.p, 0, "/a/b", "");
	ck_read(fx.p, 0, "/a/b/c", "leaf");
	ck_dir(fx.p, 0, "/", "tool,local,a");
	ck_dir(fx.p, 0, "/a", "b");
	ck_dir(fx.p, 0, "/a/b", "c");
	ck_dir(fx.p, 0, "/a/b/c", "");
	/* Writing below a node with a value keeps the value. */
	ck_rc(tst_write(fx.p, 0, "/a/b", "mid"), 0);
	ck_rc(tst_write(fx.p, 0, "/a/b/d", "d"), 0);
	ck_read(fx.p, 0, "/a/b", "mid");
	ck_dir(fx.p, 0, "/a/b", "c,d");
}
END_TEST

START_TEST(test_store_nodes_relative_paths)
{
	ck_rc(tst_write(fx.d5, 0, "rel/x", "v"), 0);
	ck_read(fx.p, 0, "/local/domain/5/rel/x", "v");
	ck_read(fx.d5, 0, "rel/x", "v");
	ck_dir(fx.d5, 0, "rel", "x");
	ck_rc(store_rm(fx.d5, 0, "rel"), 0);
	ck_dir(fx.p, 0, "/local/domain/5", "");
}
END_TEST

START_TEST(test_store_nodes_mkdir)
{
	ck_rc(store_mkdir(fx.p, 0, "/m/n/o"), 0);
	ck_read(fx.p, 0, "/m", "");
	ck_read(fx.p, 0, "/m/n/o", "");
	ck_dir(fx.p, 0, "/m/n", "o");
	/* Existing node: OK, value and children untouched. */
	ck_rc(tst_write(fx.p, 0, "/m/n", "keep"), 0);
	ck_rc(store_mkdir(fx.p, 0, "/m/n"), 0);
	ck_read(fx.p, 0, "/m/n", "keep");
	ck_dir(fx.p, 0, "/m/n", "o");
	ck_rc(store_mkdir(fx.p, 0, "/"), 0);
}
END_TEST

START_TEST(test_store_nodes_rm_recursive)
{
	char *v;

	ck_rc(tst_write(fx.p, 0, "/r/a/b/c", "1"), 0);
	ck_rc(tst_write(fx.p, 0, "/r/a/d", "2"), 0);
	ck_rc(tst_write(fx.p, 0, "/r/e", "3"), 0);
	ck_rc(store_rm(fx.p, 0, "/r/a"), 0);
	ck_rc(tst_read(fx.p, 0, "/r/a", &v), -ENOENT);
	ck_rc(tst_read(fx.p, 0, "/r/a/b", &v), -ENOENT);
	ck_rc(tst_read(fx.p, 0, "/r/a/b/c", &v), -ENOENT);
	ck_rc(tst_read(fx.p, 0, "/r/a/d", &v), -ENOENT);
	ck_rc(tst_dir(fx.p, 0, "/r/a", &v), -ENOENT);
	ck_dir(fx.p, 0, "/r", "e");
	ck_read(fx.p, 0, "/r/e", "3");
	/* Recreating gives an empty node, not the old subtree. */
	ck_rc(store_mkdir(fx.p, 0, "/r/a"), 0);
	ck_dir(fx.p, 0, "/r/a", "");
}
END_TEST

START_TEST(test_store_nodes_rm_missing)
{
	uint32_t nmuts;

	ck_rc(tst_write(fx.p, 0, "/r", "x"), 0);
	nmuts = tst_log.nmuts;
	ck_rc(store_rm(fx.p, 0, "/r/missing"), 0);
	ck_rc(store_rm(fx.p, 0, "/r/missing/deeper"), -ENOENT);
	ck_rc(store_rm(fx.p, 0, "/nope/x"), -ENOENT);
	ck_assert_uint_eq(tst_log.nmuts, nmuts);
	ck_read(fx.p, 0, "/r", "x");
}
END_TEST

START_TEST(test_store_nodes_rm_root_invalid)
{
	ck_rc(store_rm(fx.p, 0, "/"), -EINVAL);
	ck_dir(fx.p, 0, "/", "tool,local");
}
END_TEST

START_TEST(test_store_nodes_directory_insertion_order)
{
	ck_rc(tst_write(fx.p, 0, "/d/zeta", ""), 0);
	ck_rc(tst_write(fx.p, 0, "/d/alpha", ""), 0);
	ck_rc(tst_write(fx.p, 0, "/d/mid", ""), 0);
	ck_rc(store_mkdir(fx.p, 0, "/d/Beta"), 0);
	ck_dir(fx.p, 0, "/d", "zeta,alpha,mid,Beta");
	/* Overwriting keeps the place; re-creating goes to the end. */
	ck_rc(tst_write(fx.p, 0, "/d/alpha", "x"), 0);
	ck_dir(fx.p, 0, "/d", "zeta,alpha,mid,Beta");
	ck_rc(store_rm(fx.p, 0, "/d/alpha"), 0);
	ck_dir(fx.p, 0, "/d", "zeta,mid,Beta");
	ck_rc(tst_write(fx.p, 0, "/d/alpha", ""), 0);
	ck_dir(fx.p, 0, "/d", "zeta,mid,Beta,alpha");
}
END_TEST

START_TEST(test_store_nodes_directory_raw_format)
{
	struct buf b = { 0 };

	ck_rc(tst_write(fx.p, 0, "/d/a", ""), 0);
	ck_rc(tst_write(fx.p, 0, "/d/bc", ""), 0);
	buf_add(&b, "X", 1);
	ck_rc(store_directory(fx.p, 0, "/d", &b), 0);
	ck_assert_uint_eq(b.len, 1 + 5);
	ck_assert(memcmp(b.data, "Xa\0bc\0", 6) == 0);
	buf_reset(&b);
	ck_rc(store_directory(fx.p, 0, "/d/a", &b), 0);
	ck_assert_uint_eq(b.len, 0);
	ck_rc(store_directory(fx.p, 0, "/missing", &b), -ENOENT);
	buf_free(&b);
}
END_TEST

/*
 * Parses one DIRECTORY_PART reply: returns the generation string, appends
 * the names (NUL-terminated) to names, sets *names_len to their bytes and
 * *last when the end-of-list NUL is present.
 */
static char *
dir_part_parse(const struct buf *b, struct buf *names, size_t *names_len,
	       bool *last)
{
	size_t genlen, off;
	char *gen;

	ck_assert_uint_gt(b->len, 0);
	genlen = strnlen(b->data, b->len);
	ck_assert_msg(genlen < b->len, "generation not NUL-terminated");
	ck_assert_msg(genlen > 0, "empty generation");
	for (size_t i = 0; i < genlen; i++)
		ck_assert_msg(b->data[i] >= '0' && b->data[i] <= '9',
			      "generation not decimal");
	gen = xstrndup(b->data, genlen);
	*last = false;
	*names_len = 0;
	for (off = genlen + 1; off < b->len;) {
		size_t n = strnlen(b->data + off, b->len - off);

		ck_assert_msg(off + n < b->len, "name not NUL-terminated");
		if (n == 0) {
			ck_assert_msg(off + 1 == b->len,
				      "bytes after the end-of-list NUL");
			*last = true;
			break;
		}
		buf_add(names, b->data + off, n + 1);
		*names_len += n + 1;
		off += n + 1;
	}
	return gen;
}

START_TEST(test_store_nodes_directory_part_whole)
{
	struct buf b = { 0 }, names = { 0 }, full = { 0 };
	size_t nlen;
	bool last;
	char *gen;

	ck_rc(tst_write(fx.p, 0, "/d/one", ""), 0);
	ck_rc(tst_write(fx.p, 0, "/d/two", ""), 0);
	ck_rc(tst_write(fx.p, 0, "/d/three", ""), 0);
	ck_rc(store_directory(fx.p, 0, "/d", &full), 0);
	ck_rc(store_directory_part(fx.p, 0, "/d", 0, 4096, &b), 0);
	gen = dir_part_parse(&b, &names, &nlen, &last);
	ck_assert(last);
	ck_assert_uint_eq(names.len, full.len);
	ck_assert(memcmp(names.data, full.data, full.len) == 0);
	ck_assert_uint_eq(b.len, strlen(gen) + 1 + full.len + 1);
	free(gen);
	buf_free(&b);
	buf_free(&names);
	buf_free(&full);
}
END_TEST

START_TEST(test_store_nodes_directory_part_chunks)
{
	struct buf full = { 0 }, names = { 0 };
	char *gen0 = NULL;
	uint32_t off = 0;
	unsigned int parts = 0;
	bool last = false;
	const uint32_t max = 64;

	for (int i = 0; i < 30; i++) {
		char *p = xasprintf("/d/child%02d", i);

		ck_rc(tst_write(fx.p, 0, p, ""), 0);
		free(p);
	}
	ck_rc(store_directory(fx.p, 0, "/d", &full), 0);
	ck_assert_uint_eq(full.len, 30 * 8);
	while (!last) {
		struct buf b = { 0 };
		size_t nlen;
		char *gen;

		ck_assert_uint_lt(parts, 100);
		ck_rc(store_directory_part(fx.p, 0, "/d", off, max, &b), 0);
		gen = dir_part_parse(&b, &names, &nlen, &last);
		if (!gen0)
			gen0 = xstrdup(gen);
		ck_assert_str_eq(gen, gen0);
		ck_assert_msg(b.len <= max + (last ? 1 : 0),
			      "part of %zu bytes for max %u", b.len, max);
		ck_assert_msg(nlen > 0 || last, "no progress at %u", off);
		if (!last) {
			/* The next name would not have fitted. */
			size_t next = strlen(full.data + off + nlen) + 1;

			ck_assert_msg(b.len + next >= max,
				      "part at %u stops early", off);
		}
		off += nlen;
		parts++;
		free(gen);
		buf_free(&b);
	}
	ck_assert_uint_gt(parts, 3);
	ck_assert_uint_eq(off, full.len);
	ck_assert_uint_eq(names.len, full.len);
	ck_assert(memcmp(names.data, full.data, full.len) == 0);
	free(gen0);
	buf_free(&full);
	buf_free(&names);
}
END_TEST

START_TEST(test_store_nodes_directory_part_past_end)
{
	struct buf b = { 0 }, names = { 0 };
	size_t nlen;
	bool last;
	char *gen;

	ck_rc(tst_write(fx.p, 0, "/d/ab", ""), 0);
	ck_rc(tst_write(fx.p, 0, "/d/cd", ""), 0);
	/* Offset at the end of the list: empty list, end marker. */
	ck_rc(store_directory_part(fx.p, 0, "/d", 6, 4096, &b), 0);
	gen = dir_part_parse(&b, &names, &nlen, &last);
	ck_assert(last);
	ck_assert_uint_eq(nlen, 0);
	ck_assert_uint_eq(b.len, strlen(gen) + 2);
	free(gen);
	buf_reset(&b);
	ck_rc(store_directory_part(fx.p, 0, "/d", 1000, 4096, &b), 0);
	gen = dir_part_parse(&b, &names, &nlen, &last);
	ck_assert(last);
	ck_assert_uint_eq(nlen, 0);
	free(gen);
	buf_reset(&b);
	/* From the second name. */
	ck_rc(store_directory_part(fx.p, 0, "/d", 3, 4096, &b), 0);
	gen = dir_part_parse(&b, &names, &nlen, &last);
	ck_assert(last);
	ck_assert_uint_eq(nlen, 3);
	ck_assert(memcmp(names.data, "cd", 3) == 0);
	free(gen);
	buf_reset(&b);
	/* Leaf and missing node. */
	ck_rc(store_directory_part(fx.p, 0, "/d/ab", 0, 4096, &b), 0);
	ck_assert_uint_eq(b.len, strnlen(b.data, b.len) + 2);
	ck_rc(store_directory_part(fx.p, 0, "/nope", 0, 4096, &b), -ENOENT);
	buf_free(&b);
	buf_free(&names);
}
END_TEST

START_TEST(test_store_nodes_directory_part_generation_changes)
{
	struct buf b = { 0 }, names = { 0 };
	size_t nlen;
	bool last;
	char *g1, *g2, *g3;

	ck_rc(tst_write(fx.p, 0, "/d/a", ""), 0);
	ck_rc(store_directory_part(fx.p, 0, "/d", 0, 4096, &b), 0);
	g1 = dir_part_parse(&b, &names, &nlen, &last);
	buf_reset(&b);
	ck_rc(tst_write(fx.p, 0, "/d/b", ""), 0);
	ck_rc(store_directory_part(fx.p, 0, "/d", 0, 4096, &b), 0);
	g2 = dir_part_parse(&b, &names, &nlen, &last);
	ck_assert_str_ne(g1, g2);
	buf_reset(&b);
	ck_rc(store_rm(fx.p, 0, "/d/a"), 0);
	ck_rc(store_directory_part(fx.p, 0, "/d", 0, 4096, &b), 0);
	g3 = dir_part_parse(&b, &names, &nlen, &last);
	ck_assert_str_ne(g2, g3);
	ck_assert_str_ne(g1, g3);
	free(g1);
	free(g2);
	free(g3);
	buf_free(&b);
	buf_free(&names);
}
END_TEST

START_TEST(test_store_nodes_directory_part_needs_read)
{
	struct buf b = { 0 };

	ck_rc(tst_write(fx.d5, 0, "/local/domain/5/d/a", ""), 0);
	ck_rc(store_directory_part(fx.d6, 0, "/local/domain/5/d", 0, 4096,
				   &b), -EACCES);
	ck_rc(store_directory_part(fx.d5, 0, "/local/domain/5/d", 0, 4096,
				   &b), 0);
	buf_free(&b);
}
END_TEST

START_TEST(test_store_nodes_stats_track_changes)
{
	struct store_stats a, b;

	store_stats(fx.s, &a);
	ck_rc(tst_write(fx.p, 0, "/s/t", "12345"), 0);
	store_stats(fx.s, &b);
	ck_assert_uint_eq(b.nodes, a.nodes + 2);
	ck_assert_uint_eq(b.bytes, a.bytes + 5);
	ck_assert_uint_gt(b.generation, a.generation);
	ck_rc(tst_write(fx.p, 0, "/s/t", "12"), 0);
	store_stats(fx.s, &b);
	ck_assert_uint_eq(b.bytes, a.bytes + 2);
	ck_rc(store_rm(fx.p, 0, "/s"), 0);
	store_stats(fx.s, &b);
	ck_assert_uint_eq(b.nodes, a.nodes);
	ck_assert_uint_eq(b.bytes, a.bytes);
	ck_rc(store_watch(fx.p, "/s", "t", -1), 0);
	store_stats(fx.s, &b);
	ck_assert_uint_eq(b.watches, a.watches + 1);
}
END_TEST

START_TEST(test_store_nodes_read_pointer_stable_across_reads)
{
	const void *v1, *v2;
	uint32_t l1, l2;

	ck_rc(tst_write(fx.p, 0, "/x", "first"), 0);
	ck_rc(tst_write(fx.p, 0, "/y", "second"), 0);
	ck_rc(store_read(fx.p, 0, "/x", &v1, &l1), 0);
	ck_rc(store_read(fx.p, 0, "/y", &v2, &l2), 0);
	ck_assert_uint_eq(l1, 5);
	ck_assert(memcmp(v1, "first", 5) == 0);
	ck_assert_uint_eq(l2, 6);
	ck_assert(memcmp(v2, "second", 6) == 0);
}
END_TEST

static int
walk_collect(void *arg, const char *path, const void *value, uint32_t len,
	     const struct store_perm *perms, uint32_t nperms)
{
	struct buf *b = arg;

	buf_printf(b, "%s=", path);
	buf_add(b, value, len);
	buf_add(b, "[", 1);
	for (uint32_t i = 0; i < nperms; i++) {
		if (i)
			buf_add(b, ",", 1);
		store_perm_format(&perms[i], b);
	}
	buf_add(b, "]\n", 2);
	return 0;
}

START_TEST(test_store_nodes_walk_preorder)
{
	struct buf b = { 0 };

	ck_rc(tst_write(fx.p, 0, "/w/z", "1"), 0);
	ck_rc(tst_write(fx.p, 0, "/w/a/b", "2"), 0);
	ck_rc(tst_write(fx.p, 0, "/w/m", "3"), 0);
	ck_rc(tst_set_perms(fx.p, 0, "/w/m", "n0,r5"), 0);
	ck_rc(store_walk(fx.s, walk_collect, &b), 0);
	buf_add(&b, "", 1);
	ck_assert_str_eq(b.data,
			 "/=[n0]\n"
			 "/tool=[n0]\n"
			 "/tool/xenstored=[n0]\n"
			 "/local=[n0]\n"
			 "/local/domain=[n0]\n"
			 "/local/domain/5=[n5]\n"
			 "/local/domain/6=[n6]\n"
			 "/w=[n0]\n"
			 "/w/z=1[n0]\n"
			 "/w/a=[n0]\n"
			 "/w/a/b=2[n0]\n"
			 "/w/m=3[n0,r5]\n"
			 "@introduceDomain=[n0]\n"
			 "@releaseDomain=[n0,r32757]\n");
	buf_free(&b);
}
END_TEST

static int
walk_stop(void *arg, const char *path, const void *value, uint32_t len,
	  const struct store_perm *perms, uint32_t nperms)
{
	unsigned int *n = arg;

	return ++*n == 3 ? 42 : 0;
}

START_TEST(test_store_nodes_walk_stops)
{
	unsigned int n = 0;

	ck_rc(store_walk(fx.s, walk_stop, &n), 42);
	ck_assert_uint_eq(n, 3);
}
END_TEST

Suite *
store_nodes_suite(void)
{
	Suite *s = suite_create("store_nodes");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, tst_setup, tst_teardown);
	tcase_add_test(tc, test_store_nodes_initial_tree);
	tcase_add_test(tc, test_store_nodes_store_new_priv_domid);
	tcase_add_test(tc, test_store_nodes_read_missing);
	tcase_add_test(tc, test_store_nodes_write_read_exact_bytes);
	tcase_add_test(tc, test_store_nodes_write_large_value);
	tcase_add_test(tc, test_store_nodes_write_creates_parents);
	tcase_add_test(tc, test_store_nodes_relative_paths);
	tcase_add_test(tc, test_store_nodes_mkdir);
	tcase_add_test(tc, test_store_nodes_rm_recursive);
	tcase_add_test(tc, test_store_nodes_rm_missing);
	tcase_add_test(tc, test_store_nodes_rm_root_invalid);
	tcase_add_test(tc, test_store_nodes_directory_insertion_order);
	tcase_add_test(tc, test_store_nodes_directory_raw_format);
	tcase_add_test(tc, test_store_nodes_directory_part_whole);
	tcase_add_test(tc, test_store_nodes_directory_part_chunks);
	tcase_add_test(tc, test_store_nodes_directory_part_past_end);
	tcase_add_test(tc, test_store_nodes_directory_part_generation_changes);
	tcase_add_test(tc, test_store_nodes_directory_part_needs_read);
	tcase_add_test(tc, test_store_nodes_stats_track_changes);
	tcase_add_test(tc, test_store_nodes_read_pointer_stable_across_reads);
	tcase_add_test(tc, test_store_nodes_walk_preorder);
	tcase_add_test(tc, test_store_nodes_walk_stops);
	suite_add_tcase(s, tc);
	return s;
}
