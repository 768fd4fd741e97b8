/*
 * Watches: matching (exact, below, depth), relative watch paths, events of
 * RM, implicit parents, MKDIR, SET_PERMS and transactions, registration
 * errors, permission filtering, special events and teardown.
 */
#include <stdio.h>
#include <stdlib.h>

#include "tests/check_store.h"

START_TEST(test_store_watch_exact_and_below)
{
	ck_rc(store_watch(fx.p, "/w", "tok", -1), 0);
	ck_events(0);
	ck_rc(tst_write(fx.p, 0, "/w", "v"), 0);
	ck_events(1);
	ck_event("p", "/w", "tok");
	tst_log_clear();
	ck_rc(tst_write(fx.p, 0, "/w/a/b", "v"), 0);
	ck_events(1);
	ck_event("p", "/w/a/b", "tok");
}
END_TEST

START_TEST(test_store_watch_prefix_is_not_below)
{
	ck_rc(store_watch(fx.p, "/w", "tok", -1), 0);
	ck_rc(tst_write(fx.p, 0, "/wx", "v"), 0);
	ck_rc(tst_write(fx.p, 0, "/wx/y", "v"), 0);
	ck_rc(tst_write(fx.p, 0, "/x/w", "v"), 0);
	ck_events(0);
}
END_TEST

START_TEST(test_store_watch_root_sees_all)
{
	ck_rc(store_watch(fx.p, "/", "all", -1), 0);
	ck_rc(tst_write(fx.p, 0, "/a", "v"), 0);
	ck_rc(tst_write(fx.d5, 0, "/local/domain/5/x", "v"), 0);
	ck_events(2);
	ck_event("p", "/a", "all");
	ck_event("p", "/local/domain/5/x", "all");
}
END_TEST

START_TEST(test_store_watch_depth)
{
	ck_rc(store_watch(fx.p, "/w", "d0", 0), 0);
	ck_rc(store_watch(fx.p, "/w", "d1", 1), 0);
	ck_rc(store_watch(fx.p, "/w", "d2", 2), 0);
	ck_rc(store_watch(fx.p, "/w", "inf", -1), 0);
	ck_rc(tst_write(fx.p, 0, "/w", "v"), 0);
	ck_events(4);
	tst_log_clear();
	ck_rc(tst_write(fx.p, 0, "/w/a", "v"), 0);
	ck_events(3);
	ck_assert_uint_eq(tst_count_events("p", "/w/a", "d0"), 0);
	tst_log_clear();
	ck_rc(tst_write(fx.p, 0, "/w/a/b", "v"), 0);
	ck_events(2);
	ck_event("p", "/w/a/b", "d2");
	ck_event("p", "/w/a/b", "inf");
	tst_log_clear();
	ck_rc(tst_write(fx.p, 0, "/w/a/b/c", "v"), 0);
	ck_events(1);
	ck_event("p", "/w/a/b/c", "inf");
}
END_TEST

START_TEST(test_store_watch_depth_of_root)
{
	ck_rc(store_watch(fx.p, "/", "d1", 1), 0);
	ck_rc(tst_write(fx.p, 0, "/a", "v"), 0);
	ck_rc(tst_write(fx.p, 0, "/a/b", "v"), 0);
	ck_events(1);
	ck_event("p", "/a", "d1");
}
END_TEST

START_TEST(test_store_watch_relative_path)
{
	ck_rc(store_watch(fx.d5, "rel", "t", -1), 0);
	ck_rc(tst_write(fx.d5, 0, "rel", "v"), 0);
	ck_rc(tst_write(fx.p, 0, "/local/domain/5/rel/x", "v"), 0);
	ck_events(2);
	ck_event("d5", "rel", "t");
	ck_event("d5", "rel/x", "t");
	/* Same for a relative watch by the privileged caller. */
	tst_log_clear();
	ck_rc(store_watch(fx.p, "home", "t", -1), 0);
	ck_rc(tst_write(fx.p, 0, "/local/domain/0/home/y", "v"), 0);
	ck_events(1);
	ck_event("p", "home/y", "t");
	/* An absolute watch on the same node gets absolute paths. */
	tst_log_clear();
	ck_rc(store_watch(fx.d5, "/local/domain/5/rel", "abs", -1), 0);
	ck_rc(tst_write(fx.d5, 0, "rel/z", "v"), 0);
	ck_events(2);
	ck_event("d5", "rel/z", "t");
	ck_event("d5", "/local/domain/5/rel/z", "abs");
}
END_TEST

START_TEST(test_store_watch_rm_subtree)
{
	ck_rc(tst_write(fx.p, 0, "/r/a/b/c", "v"), 0);
	ck_rc(store_watch(fx.p, "/", "root", -1), 0);
	ck_rc(store_watch(fx.p, "/r", "anc", -1), 0);
	ck_rc(store_watch(fx.p, "/r", "anc0", 0), 0);
	ck_rc(store_watch(fx.p, "/r", "anc1", 1), 0);
	ck_rc(store_watch(fx.p, "/r/a", "self", -1), 0);
	ck_rc(store_watch(fx.p, "/r/a", "self0", 0), 0);
	ck_rc(store_watch(fx.p, "/r/a/b", "below", -1), 0);
	ck_rc(store_watch(fx.p, "/r/a/b/c", "leaf", 0), 0);
	ck_rc(store_watch(fx.p, "/r/a/zz", "never", -1), 0);
	ck_rc(store_watch(fx.p, "/r/other", "other", -1), 0);
	ck_rc(store_rm(fx.p, 0, "/r/a"), 0);
	ck_event("p", "/r/a", "root");
	ck_event("p", "/r/a", "anc");
	ck_event("p", "/r/a", "anc1");
	ck_event("p", "/r/a", "self");
	ck_event("p", "/r/a", "self0");
	ck_event("p", "/r/a/b", "below");
	ck_event("p", "/r/a/b/c", "leaf");
	ck_events(7);
}
END_TEST

START_TEST(test_store_watch_rm_missing_no_event)
{
	ck_rc(tst_write(fx.p, 0, "/r", "v"), 0);
	ck_rc(store_watch(fx.p, "/r", "t", -1), 0);
	ck_rc(store_rm(fx.p, 0, "/r/missing"), 0);
	ck_rc(store_rm(fx.p, 0, "/r/missing/x"), -ENOENT);
	ck_events(0);
}
END_TEST

START_TEST(test_store_watch_implicit_parents_quiet)
{
	ck_rc(tst_write(fx.p, 0, "/p", ""), 0);
	ck_rc(store_watch(fx.p, "/p", "anc", -1), 0);
	ck_rc(store_watch(fx.p, "/p/a", "mid", -1), 0);
	ck_rc(store_watch(fx.p, "/p/a", "mid0", 0), 0);
	ck_rc(store_watch(fx.p, "/p/a/b", "mid1", 1), 0);
	ck_rc(tst_write(fx.p, 0, "/p/a/b/c", "v"), 0);
	ck_event("p", "/p/a/b/c", "anc");
	ck_event("p", "/p/a/b/c", "mid");
	ck_event("p", "/p/a/b/c", "mid1");
	ck_events(3);
}
END_TEST

START_TEST(test_store_watch_mkdir)
{
	ck_rc(store_watch(fx.p, "/m", "t", -1), 0);
	ck_rc(store_mkdir(fx.p, 0, "/m/a/b"), 0);
	ck_events(1);
	ck_event("p", "/m/a/b", "t");
	tst_log_clear();
	ck_rc(store_mkdir(fx.p, 0, "/m/a/b"), 0);
	ck_rc(store_mkdir(fx.p, 0, "/m/a"), 0);
	ck_events(0);
}
END_TEST

START_TEST(test_store_watch_unchanged_write_fires)
{
	ck_rc(tst_write(fx.p, 0, "/u", "same"), 0);
	ck_rc(store_watch(fx.p, "/u", "t", -1), 0);
	ck_rc(tst_write(fx.p, 0, "/u", "same"), 0);
	ck_events(1);
	ck_event("p", "/u", "t");
}
END_TEST

START_TEST(test_store_watch_set_perms_fires)
{
	ck_rc(tst_write(fx.p, 0, "/sp", "v"), 0);
	ck_rc(store_watch(fx.p, "/sp", "t", -1), 0);
	ck_rc(tst_set_perms(fx.p, 0, "/sp", "n0,r5"), 0);
	ck_events(1);
	ck_event("p", "/sp", "t");
}
END_TEST

START_TEST(test_store_watch_failed_requests_silent)
{
	ck_rc(store_watch(fx.p, "/", "t", -1), 0);
	ck_rc(tst_write(fx.d6, 0, "/local/domain/5/x", "v"), -EACCES);
	ck_rc(store_rm(fx.p, 0, "/nope/x"), -ENOENT);
	ck_rc(tst_set_perms(fx.d6, 0, "/local/domain/5", "n5,r6"), -EACCES);
	ck_rc(tst_write(fx.p, 0, "/bad/", "v"), -EINVAL);
	ck_events(0);
}
END_TEST

START_TEST(test_store_watch_txn_fires_at_commit)
{
	uint32_t t;

	ck_rc(store_watch(fx.p, "/t", "t", -1), 0);
	ck_rc(tst_write(fx.p, 0, "/t/old", "o"), 0);
	tst_log_clear();
	ck_rc(store_txn_start(fx.p, &t), 0);
	ck_rc(tst_write(fx.p, t, "/t/a", "1"), 0);
	ck_rc(tst_write(fx.p, t, "/t/a", "2"), 0);
	ck_rc(store_rm(fx.p, t, "/t/old"), 0);
	ck_rc(tst_write(fx.p, t, "/t/b/c", "3"), 0);
	ck_events(0);
	ck_rc(store_txn_end(fx.p, t, true), 0);
	ck_event("p", "/t/a", "t");
	ck_event("p", "/t/old", "t");
	ck_event("p", "/t/b/c", "t");
	ck_events(3);
}
END_TEST

START_TEST(test_store_watch_txn_abort_silent)
{
	uint32_t t;
	struct store_conn *o = tst_conn(fx.s, &tst_priv, "o");

	ck_rc(store_watch(fx.p, "/t", "t", -1), 0);
	ck_rc(store_txn_start(fx.p, &t), 0);
	ck_rc(tst_write(fx.p, t, "/t/a", "1"), 0);
	ck_rc(store_txn_end(fx.p, t, false), 0);
	ck_events(0);
	/* A failed commit is silent too. */
	ck_rc(store_txn_start(fx.p, &t), 0);
	ck_rc(tst_write(fx.p, t, "/t/b", "1"), 0);
	ck_rc(tst_write(o, 0, "/t/b", "o"), 0);
	tst_log_clear();
	ck_rc(store_txn_end(fx.p, t, true), -EAGAIN);
	ck_events(0);
}
END_TEST

START_TEST(test_store_watch_duplicate_and_unwatch)
{
	struct store_conn *o = tst_conn(fx.s, &tst_priv, "o");

	ck_rc(store_watch(fx.p, "/w", "tok", -1), 0);
	ck_rc(store_watch(fx.p, "/w", "tok", -1), -EEXIST);
	ck_rc(store_watch(fx.p, "/w", "tok", 0), -EEXIST);
	ck_rc(store_watch(fx.p, "/w", "tok2", -1), 0);
	ck_rc(store_watch(fx.p, "/w2", "tok", -1), 0);
	ck_rc(store_watch(o, "/w", "tok", -1), 0);
	ck_rc(tst_write(fx.p, 0, "/w", "v"), 0);
	ck_events(3);
	ck_rc(store_unwatch(fx.p, "/w", "nope"), -ENOENT);
	ck_rc(store_unwatch(fx.p, "/nope", "tok"), -ENOENT);
	ck_rc(store_unwatch(fx.p, "/w", "tok"), 0);
	ck_rc(store_unwatch(fx.p, "/w", "tok"), -ENOENT);
	tst_log_clear();
	ck_rc(tst_write(fx.p, 0, "/w", "v"), 0);
	ck_events(2);
	ck_event("p", "/w", "tok2");
	ck_event("o", "/w", "tok");
	/* Re-adding after unwatch works. */
	ck_rc(store_watch(fx.p, "/w", "tok", -1), 0);
}
END_TEST

START_TEST(test_store_watch_unwatch_relative)
{
	ck_rc(store_watch(fx.d5, "rel", "t", -1), 0);
	ck_rc(store_unwatch(fx.d5, "rel", "t"), 0);
	ck_rc(tst_write(fx.d5, 0, "rel", "v"), 0);
	ck_events(0);
}
END_TEST

START_TEST(test_store_watch_needs_no_node_or_perms)
{
	/* Watching a missing node, or one without read access, is allowed. */
	ck_rc(store_watch(fx.d6, "/local/domain/5/nothing/yet", "t", -1), 0);
	ck_rc(store_watch(fx.d6, "/tool", "t", -1), 0);
	ck_rc(store_watch(fx.p, "/not/there", "t", -1), 0);
	ck_rc(tst_write(fx.p, 0, "/not/there", "v"), 0);
	ck_event("p", "/not/there", "t");
}
END_TEST

START_TEST(test_store_watch_perm_filtered)
{
	ck_rc(store_watch(fx.d6, "/local/domain/5", "six", -1), 0);
	ck_rc(store_watch(fx.d5, "/local/domain/5", "five", -1), 0);
	ck_rc(tst_write(fx.p, 0, "/local/domain/5/x", "v"), 0);
	ck_events(1);
	ck_event("d5", "/local/domain/5/x", "five");
	/* Readable parent: domain 6 gets the event for its child. */
	ck_rc(tst_set_perms(fx.p, 0, "/local/domain/5", "n5,r6"), 0);
	tst_log_clear();
	ck_rc(tst_write(fx.p, 0, "/local/domain/5/x", "w"), 0);
	ck_perms(fx.p, 0, "/local/domain/5/x", "n5");
	ck_event("d6", "/local/domain/5/x", "six");
	ck_events(2);
	/* Neither the node nor its parent readable: nothing. */
	tst_log_clear();
	ck_rc(tst_write(fx.p, 0, "/local/domain/5/x/y", "w"), 0);
	ck_events(1);
	ck_event("d5", "/local/domain/5/x/y", "five");
	/* Readable node under an unreadable parent. */
	ck_rc(tst_set_perms(fx.p, 0, "/local/domain/5/x/y", "n5,r6"), 0);
	tst_log_clear();
	ck_rc(tst_write(fx.p, 0, "/local/domain/5/x/y", "z"), 0);
	ck_event("d6", "/local/domain/5/x/y", "six");
	ck_events(2);
}
END_TEST

START_TEST(test_store_watch_priv_sees_everything)
{
	ck_rc(store_watch(fx.p, "/local/domain/5", "t", -1), 0);
	ck_rc(tst_write(fx.d5, 0, "/local/domain/5/private", "v"), 0);
	ck_event("p", "/local/domain/5/private", "t");
}
END_TEST

/*
 * As in cxenstored (MATCH_NODEPTH): a watch on the special name gets
 * name/<domid> only when it was given a depth of at least 1; without a
 * depth (-1) or with depth 0 it gets the plain name only.
 */
START_TEST(test_store_watch_special_events)
{
	ck_rc(store_watch(fx.p, "@introduceDomain", "nodepth", -1), 0);
	ck_rc(store_watch(fx.p, "@introduceDomain", "top", 0), 0);
	ck_rc(store_watch(fx.p, "@introduceDomain", "d1", 1), 0);
	ck_rc(store_watch(fx.p, "@introduceDomain/5", "five", -1), 0);
	ck_rc(store_watch(fx.p, "@introduceDomain/6", "six", -1), 0);
	ck_rc(store_watch(fx.p, "@releaseDomain", "rel", 2), 0);
	store_fire_special(fx.s, "@introduceDomain", 5);
	ck_event("p", "@introduceDomain", "nodepth");
	ck_event("p", "@introduceDomain", "top");
	ck_event("p", "@introduceDomain", "d1");
	ck_event("p", "@introduceDomain/5", "d1");
	ck_event("p", "@introduceDomain/5", "five");
	ck_events(5);
	tst_log_clear();
	store_fire_special(fx.s, "@releaseDomain", 6);
	ck_event("p", "@releaseDomain", "rel");
	ck_event("p", "@releaseDomain/6", "rel");
	ck_events(2);
	/* Writes never reach special watches, nor "/" watches specials. */
	tst_log_clear();
	ck_rc(store_watch(fx.p, "/", "root", -1), 0);
	ck_rc(tst_write(fx.p, 0, "/x", "v"), 0);
	ck_events(1);
	ck_event("p", "/x", "root");
	tst_log_clear();
	store_fire_special(fx.s, "@releaseDomain", 7);
	ck_assert_uint_eq(tst_count_events(NULL, NULL, "root"), 0);
	ck_assert_uint_eq(tst_log.nmuts, 0);
}
END_TEST

/* One form at a time: a shutdown's per-domain event, a scan's plain one. */
START_TEST(test_store_watch_special_forms_apart)
{
	ck_rc(store_watch(fx.p, "@releaseDomain", "nodepth", -1), 0);
	ck_rc(store_watch(fx.p, "@releaseDomain", "d1", 1), 0);
	ck_rc(store_watch(fx.p, "@releaseDomain/5", "five", -1), 0);
	store_fire_special_forms(fx.s, "@releaseDomain", 5,
				 STORE_SPECIAL_DOMID);
	ck_event("p", "@releaseDomain/5", "d1");
	ck_event("p", "@releaseDomain/5", "five");
	ck_events(2);
	tst_log_clear();
	store_fire_special_forms(fx.s, "@releaseDomain", 5,
				 STORE_SPECIAL_PLAIN);
	ck_event("p", "@releaseDomain", "nodepth");
	ck_event("p", "@releaseDomain", "d1");
	ck_events(2);
}
END_TEST

/* Special events are filtered through the special node's perms. */
START_TEST(test_store_watch_special_perm_filtered)
{
	ck_rc(store_watch(fx.d5, "@releaseDomain", "rel", -1), 0);
	ck_rc(store_watch(fx.d5, "@introduceDomain", "intro", -1), 0);
	ck_rc(store_watch(fx.d6, "@introduceDomain/6", "intro6", -1), 0);
	store_fire_special(fx.s, "@releaseDomain", 9);
	ck_events(1);
	ck_event("d5", "@releaseDomain", "rel");
	tst_log_clear();
	store_fire_special(fx.s, "@introduceDomain", 6);
	ck_events(0);
	ck_rc(tst_set_perms(fx.p, 0, "@introduceDomain", "n0,r5,r6"), 0);
	tst_log_clear();
	store_fire_special(fx.s, "@introduceDomain", 6);
	ck_event("d5", "@introduceDomain", "intro");
	ck_event("d6", "@introduceDomain/6", "intro6");
	ck_events(2);
}
END_TEST

START_TEST(test_store_watch_reset_drops_all)
{
	ck_rc(store_watch(fx.p, "/w", "a", -1), 0);
	ck_rc(store_watch(fx.p, "/", "b", -1), 0);
	ck_rc(store_watch(fx.p, "@releaseDomain", "c", -1), 0);
	store_reset_watches(fx.p);
	ck_rc(tst_write(fx.p, 0, "/w", "v"), 0);
	store_fire_special(fx.s, "@releaseDomain", 5);
	ck_events(0);
	/* The same watches may be added again. */
	ck_rc(store_watch(fx.p, "/w", "a", -1), 0);
	ck_rc(tst_write(fx.p, 0, "/w", "v"), 0);
	ck_events(1);
}
END_TEST

START_TEST(test_store_watch_conn_free_drops_all)
{
	struct store_conn *o = tst_conn(fx.s, &tst_priv, "o");
	struct store_stats st;

	ck_rc(store_watch(o, "/w", "a", -1), 0);
	ck_rc(store_watch(o, "@introduceDomain", "b", -1), 0);
	tst_conn_free(o);
	ck_rc(tst_write(fx.p, 0, "/w", "v"), 0);
	store_fire_special(fx.s, "@introduceDomain", 5);
	ck_events(0);
	store_stats(fx.s, &st);
	ck_assert_uint_eq(st.watches, 0);
}
END_TEST

START_TEST(test_store_watch_quota_default)
{
	struct store_usage u;
	uint32_t q;

	ck_rc(store_quota_get(fx.s, STORE_DOMID_GLOBAL, STORE_QUOTA_WATCHES,
			      false, &q), 0);
	ck_assert_uint_eq(q, 128);
	for (int i = 0; i < 128; i++) {
		char *p = xasprintf("/local/domain/5/w%d", i);

		ck_rc(store_watch(fx.d5, p, "t", -1), 0);
		free(p);
	}
	ck_rc(store_watch(fx.d5, "/local/domain/5/w128", "t", -1), -ENOSPC);
	store_usage(fx.s, 5, &u);
	ck_assert_uint_eq(u.watches, 128);
	ck_rc(store_unwatch(fx.d5, "/local/domain/5/w7", "t"), 0);
	ck_rc(store_watch(fx.d5, "/local/domain/5/w128", "t", -1), 0);
	ck_rc(store_watch(fx.d5, "/local/domain/5/w129", "t", -1), -ENOSPC);
	/* Another domain, and priv, are not affected. */
	ck_rc(store_watch(fx.d6, "/x", "t", -1), 0);
	for (int i = 0; i < 200; i++) {
		char *p = xasprintf("/w%d", i);

		ck_rc(store_watch(fx.p, p, "t", -1), 0);
		free(p);
	}
	store_reset_watches(fx.d5);
	store_usage(fx.s, 5, &u);
	ck_assert_uint_eq(u.watches, 0);
}
END_TEST

START_TEST(test_store_watch_invalid)
{
	struct store_stats st;

	ck_rc(store_watch(fx.p, "/w/", "t", -1), -EINVAL);
	ck_rc(store_watch(fx.p, "/w w", "t", -1), -EINVAL);
	ck_rc(store_unwatch(fx.p, "/w/", "t"), -EINVAL);
	ck_rc(store_watch(fx.p, "", "t", -1), -EINVAL);
	ck_rc(store_watch(fx.d5, "a//b", "t", -1), -EINVAL);
	store_stats(fx.s, &st);
	ck_assert_uint_eq(st.watches, 0);
}
END_TEST

Suite *
store_watch_suite(void)
{
	Suite *s = suite_create("store_watch");
	TCase *tc = tcase_create("core");
	TCase *tl = tcase_create("limits");

	tcase_add_checked_fixture(tc, tst_setup, tst_teardown);
	tcase_add_test(tc, test_store_watch_exact_and_below);
	tcase_add_test(tc, test_store_watch_prefix_is_not_below);
	tcase_add_test(tc, test_store_watch_root_sees_all);
	tcase_add_test(tc, test_store_watch_depth);
	tcase_add_test(tc, test_store_watch_depth_of_root);
	tcase_add_test(tc, test_store_watch_relative_path);
	tcase_add_test(tc, test_store_watch_rm_subtree);
	tcase_add_test(tc, test_store_watch_rm_missing_no_event);
	tcase_add_test(tc, test_store_watch_implicit_parents_quiet);
	tcase_add_test(tc, test_store_watch_mkdir);
	tcase_add_test(tc, test_store_watch_unchanged_write_fires);
	tcase_add_test(tc, test_store_watch_set_perms_fires);
	tcase_add_test(tc, test_store_watch_failed_requests_silent);
	tcase_add_test(tc, test_store_watch_txn_fires_at_commit);
	tcase_add_test(tc, test_store_watch_txn_abort_silent);
	tcase_add_test(tc, test_store_watch_duplicate_and_unwatch);
	tcase_add_test(tc, test_store_watch_unwatch_relative);
	tcase_add_test(tc, test_store_watch_needs_no_node_or_perms);
	tcase_add_test(tc, test_store_watch_perm_filtered);
	tcase_add_test(tc, test_store_watch_priv_sees_everything);
	tcase_add_test(tc, test_store_watch_special_events);
	tcase_add_test(tc, test_store_watch_special_perm_filtered);
	tcase_add_test(tc, test_store_watch_special_forms_apart);
	tcase_add_test(tc, test_store_watch_reset_drops_all);
	tcase_add_test(tc, test_store_watch_conn_free_drops_all);
	tcase_add_test(tc, test_store_watch_invalid);
	suite_add_tcase(s, tc);

	tcase_add_checked_fixture(tl, tst_setup, tst_teardown);
	tcase_add_test(tl, test_store_watch_quota_default);
	suite_add_tcase(s, tl);
	return s;
}
