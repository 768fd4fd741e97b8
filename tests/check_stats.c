/*
 * Unit tests of server/stats.c: the per-second rings and their windows,
 * error replies by type, per-domain counters and their lifetime, the
 * rate-limited log of refusals and throttles, the live-update field.
 * Time is given explicitly (ms of a monotonic clock), so nothing here
 * depends on how fast the machine is.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "server/server-int.h"

/* stderr goes to a file, so log lines can be counted. */
static char tst_logpath[] = "/tmp/check_stats.XXXXXX";

static void
tst_log_capture(void)
{
	int fd = mkstemp(tst_logpath);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_ge(dup2(fd, STDERR_FILENO), 0);
	close(fd);
	log_open("check_stats", true);
}

/* Lines of the captured log containing needle. */
static unsigned int
tst_log_count(const char *needle)
{
	char line[512];
	unsigned int n = 0;
	FILE *f;

	fflush(stderr);
	f = fopen(tst_logpath, "r");
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f))
		n += strstr(line, needle) != NULL;
	fclose(f);
	return n;
}

static void
tst_log_release(void)
{
	unlink(tst_logpath);
}

static unsigned int
err_index(int err)
{
	for (unsigned int i = 0; i < STATS_NERR; i++)
		if (stats_err_errno(i) == err)
			return i;
	ck_abort_msg("errno %d not counted on its own", err);
	return 0;
}

START_TEST(test_stats_window_last_minute)
{
	struct stats *st = stats_new(1000000, 1);
	struct stats_window w;

	/* 10 requests in each of 100 seconds. */
	for (uint64_t s = 0; s < 100; s++)
		for (int i = 0; i < 10; i++)
			stats_count(st, NULL, 1000000 + s * 1000 + 10 * i, 0);
	stats_window(st, NULL, 1000000 + 99 * 1000 + 500, &w);
	ck_assert_uint_eq(w.seconds, STATS_WINDOW);
	ck_assert_uint_eq(w.requests, 10 * STATS_WINDOW);
	ck_assert_uint_eq(w.errors, 0);

	/* Idle for 30 s: half the window is left. */
	stats_window(st, NULL, 1000000 + 129 * 1000, &w);
	ck_assert_uint_eq(w.requests, 10 * 30);
	/* Idle for longer than the ring: nothing, although slots still hold
	 * seconds from the last lap. */
	stats_window(st, NULL, 1000000 + 99 * 1000 + STATS_SLOTS * 1000, &w);
	ck_assert_uint_eq(w.requests, 0);
	/* A slot reused a lap later counts from zero. */
	stats_count(st, NULL, 1000000 + 99 * 1000 + STATS_SLOTS * 1000, 0);
	stats_window(st, NULL, 1000000 + 99 * 1000 + STATS_SLOTS * 1000, &w);
	ck_assert_uint_eq(w.requests, 1);

	struct stats_summary sum;

	stats_summary(st, &sum);
	ck_assert_uint_eq(sum.requests, 1001);
	stats_free(st);
}
END_TEST

START_TEST(test_stats_window_young_daemon)
{
	struct stats *st = stats_new(5000, 1);
	struct stats_window w;

	stats_count(st, NULL, 5000, 0);
	stats_count(st, NULL, 7200, 0);
	stats_window(st, NULL, 7200, &w);
	/* Up 2.2 s: seconds 5, 6 and 7 seen. */
	ck_assert_uint_eq(w.seconds, 3);
	ck_assert_uint_eq(w.requests, 2);
	stats_free(st);
}
END_TEST

START_TEST(test_stats_errors_by_type)
{
	struct stats *st = stats_new(0, 1);
	struct stats_dom *d = stats_dom_ref(st, 7);
	struct stats_window w, dw;
	struct stats_summary sum;

	stats_count(st, d, 100, -ENOENT);
	stats_count(st, d, 200, -ENOENT);
	stats_count(st, d, 300, -EAGAIN);
	stats_count(st, NULL, 400, -EACCES);
	stats_count(st, NULL, 500, -ENOTTY);	/* not a wire error */
	stats_count(st, d, 600, 0);
	stats_window(st, NULL, 900, &w);
	ck_assert_uint_eq(w.requests, 6);
	ck_assert_uint_eq(w.errors, 5);
	ck_assert_uint_eq(w.err[err_index(ENOENT)], 2);
	ck_assert_uint_eq(w.err[err_index(EAGAIN)], 1);
	ck_assert_uint_eq(w.err[err_index(EACCES)], 1);
	ck_assert_uint_eq(w.err[0], 1);
	ck_assert_uint_eq(w.eagain, 1);
	stats_summary(st, &sum);
	ck_assert_uint_eq(sum.err[err_index(ENOENT)], 2);

	stats_window(st, d, 900, &dw);
	ck_assert_uint_eq(dw.requests, 4);
	ck_assert_uint_eq(dw.errors, 3);
	ck_assert_uint_eq(dw.eagain, 1);
	ck_assert_uint_eq(d->requests, 4);
	ck_assert_uint_eq(d->eagain, 1);
	stats_dom_unref(st, d);
	stats_free(st);
}
END_TEST

START_TEST(test_stats_dom_lifetime)
{
	struct stats *st = stats_new(0, 1);
	struct stats_dom *a, *b, *z;
	uint32_t n;

	a = stats_dom_ref(st, 9);
	b = stats_dom_ref(st, 3);
	ck_assert_ptr_eq(stats_dom_ref(st, 9), a);
	z = stats_dom_ref(st, 0);
	ck_assert_ptr_eq(stats_dom_find(st, 3), b);
	struct stats_dom *const *all = stats_doms(st, &n);

	ck_assert_uint_eq(n, 3);
	ck_assert_uint_eq(all[0]->domid, 0);
	ck_assert_uint_eq(all[1]->domid, 3);
	ck_assert_uint_eq(all[2]->domid, 9);
	/* Two connections of domain 9: it stays until both are gone. */
	stats_dom_unref(st, a);
	ck_assert_ptr_eq(stats_dom_find(st, 9), a);
	stats_dom_unref(st, a);
	ck_assert_ptr_null(stats_dom_find(st, 9));
	stats_dom_unref(st, b);
	ck_assert_ptr_null(stats_dom_find(st, 3));
	/* dom0's counters outlive its socket clients. */
	stats_dom_unref(st, z);
	ck_assert_ptr_eq(stats_dom_find(st, 0), z);
	stats_doms(st, &n);
	ck_assert_uint_eq(n, 1);
	stats_free(st);
}
END_TEST

START_TEST(test_stats_refusals_logged_once_per_interval)
{
	struct stats *st = stats_new(0, 1);
	struct stats_dom *d = stats_dom_ref(st, 12);

	tst_log_capture();
	stats_refusal(st, d, 12, 1000, STORE_QUOTA_NODES, 1001, 1000);
	stats_refusal(st, d, 12, 2000, STORE_QUOTA_NODES, 1002, 1000);
	stats_refusal(st, d, 12, 3000, STORE_QUOTA_NODES, 1003, 1000);
	/* Another quota of the same domain has its own interval. */
	stats_refusal(st, d, 12, 3000, STORE_QUOTA_WATCHES, 129, 128);
	ck_assert_uint_eq(d->refused[STORE_QUOTA_NODES], 3);
	ck_assert_uint_eq(d->refused_value[STORE_QUOTA_NODES], 1003);
	ck_assert_uint_eq(d->refused_limit[STORE_QUOTA_NODES], 1000);
	ck_assert_uint_eq(tst_log_count("domain 12: quota nodes refused: "
					"1001 > 1000\n"), 1);
	ck_assert_uint_eq(tst_log_count("quota nodes refused"), 1);
	ck_assert_uint_eq(tst_log_count("domain 12: quota watches refused: "
					"129 > 128"), 1);
	/* The interval over, the next line says what was left out. */
	stats_refusal(st, d, 12, 1000 + STATS_LOG_INTERVAL_MS, STORE_QUOTA_NODES,
		      1004, 1000);
	ck_assert_uint_eq(tst_log_count("quota nodes refused: 1004 > 1000 "
					"(2 more not logged"), 1);
	ck_assert_uint_eq(d->refused[STORE_QUOTA_NODES], 4);

	stats_throttle(st, d, 12, 5000, CONN_PAUSE_OUTSTANDING, 20, 20);
	stats_throttle(st, d, 12, 6000, CONN_PAUSE_OUTSTANDING, 20, 20);
	stats_throttle(st, d, 12, 6000, CONN_PAUSE_MEMORY, 7000, 6000);
	ck_assert_uint_eq(d->throttled[CONN_PAUSE_OUTSTANDING], 2);
	ck_assert_uint_eq(d->throttled[CONN_PAUSE_MEMORY], 1);
	ck_assert_uint_eq(tst_log_count("domain 12: input throttled by "
					"outstanding: 20 requests"), 1);
	ck_assert_uint_eq(tst_log_count("domain 12: input throttled by "
					"memory: 7000 bytes"), 1);
	stats_dom_unref(st, d);
	stats_free(st);
	tst_log_release();
}
END_TEST

START_TEST(test_stats_live_update_field)
{
	struct stats *st = stats_new(0, 1);
	struct stats_summary sum;

	stats_summary(st, &sum);
	ck_assert_uint_eq(sum.lu_count, 0);
	stats_note_live_update(st, 1234567890000000000ull, 3000000);
	stats_note_live_update(st, 1234567899000000000ull, 4000000);
	stats_summary(st, &sum);
	ck_assert_uint_eq(sum.lu_count, 2);
	ck_assert_uint_eq(sum.lu_real_ns, 1234567899000000000ull);
	ck_assert_uint_eq(sum.lu_pause_ns, 4000000);
	stats_note_live_update(NULL, 1, 1);
	stats_free(st);
}
END_TEST

static Suite *
stats_suite(void)
{
	Suite *s = suite_create("stats");
	TCase *core = tcase_create("core");
	TCase *limits = tcase_create("limits");

	tcase_add_test(core, test_stats_window_last_minute);
	tcase_add_test(core, test_stats_window_young_daemon);
	tcase_add_test(core, test_stats_errors_by_type);
	tcase_add_test(core, test_stats_dom_lifetime);
	tcase_add_test(core, test_stats_live_update_field);
	suite_add_tcase(s, core);
	tcase_add_test(limits, test_stats_refusals_logged_once_per_interval);
	suite_add_tcase(s, limits);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(stats_suite());
	int failed;

	srunner_set_fork_status(sr, CK_FORK);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
