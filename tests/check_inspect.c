/*
 * Unit tests of lxenstore-inspect's shared helpers (tools/inspect.c): the
 * times it prints and the times and points it accepts. The commands are
 * tested end to end against the daemon by tests/e2e/inspect-*.sh.
 */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "tools/inspect.h"

#define NS	1000000000ull
/* 2025-01-02T03:04:05Z */
#define T0	1735787045ull

static uint64_t
parse_ok(const char *s)
{
	uint64_t ns = 0;

	ck_assert_msg(inspect_time_parse(s, &ns) == 0, "refused %s", s);
	return ns;
}

START_TEST(test_inspect_time_parse_forms)
{
	ck_assert_uint_eq(parse_ok("2025-01-02T03:04:05Z"), T0 * NS);
	ck_assert_uint_eq(parse_ok("2025-01-02T03:04:05"), T0 * NS);
	ck_assert_uint_eq(parse_ok("2025-01-02 03:04:05"), T0 * NS);
	ck_assert_uint_eq(parse_ok("2025-01-02T03:04:05.25Z"),
			  T0 * NS + 250000000u);
	ck_assert_uint_eq(parse_ok("2025-01-02T03:04:05.123456789Z"),
			  T0 * NS + 123456789u);
	ck_assert_uint_eq(parse_ok("2025-01-02T03:04Z"), (T0 - 5) * NS);
	ck_assert_uint_eq(parse_ok("2025-01-02"), (T0 - 3 * 3600 - 245) * NS);
	ck_assert_uint_eq(parse_ok("2025-01-02T04:04:05+01:00"), T0 * NS);
	ck_assert_uint_eq(parse_ok("2025-01-02T02:34:05-0030"), T0 * NS);
	ck_assert_uint_eq(parse_ok("@1735787045"), T0 * NS);
	ck_assert_uint_eq(parse_ok("@1735787045.5"), T0 * NS + 500000000u);
	ck_assert_uint_eq(parse_ok("1970-01-01T00:00:00Z"), 0);
}
END_TEST

START_TEST(test_inspect_time_format_round_trip)
{
	static const uint64_t times[] = {
		0, T0 * NS, T0 * NS + 123456000u, 4102444799ull * NS,
	};
	char out[INSPECT_TIME_LEN];

	inspect_time_format(T0 * NS + 123456789u, out);
	ck_assert_str_eq(out, "2025-01-02T03:04:05.123456Z");
	for (size_t i = 0; i < LXS_ARRAY_SIZE(times); i++) {
		inspect_time_format(times[i], out);
		ck_assert_uint_eq(parse_ok(out), times[i]);
	}
}
END_TEST

START_TEST(test_inspect_time_parse_rejects)
{
	static const char *const bad[] = {
		"", "2025", "2025-1-2", "2025-13-01", "2025-01-32",
		"2025-01-02T24:00", "2025-01-02T03:60", "2025-01-02T03",
		"2025-01-02X", "2025-01-02T03:04:05Zjunk", "2025-01-02T03:04+1",
		"1969-12-31T23:59:59Z", "1970-01-01T00:00:00+01:00", "@",
		"@abc", "@1.5x", "@9999999999999", "yesterday", "42",
	};
	uint64_t ns;

	for (size_t i = 0; i < LXS_ARRAY_SIZE(bad); i++)
		ck_assert_msg(inspect_time_parse(bad[i], &ns) == -EINVAL,
			      "accepted \"%s\"", bad[i]);
}
END_TEST

START_TEST(test_inspect_point_parse_kinds)
{
	struct inspect_point p;

	ck_assert_int_eq(inspect_point_parse("42", &p), 0);
	ck_assert_int_eq(p.kind, INSPECT_AT_SEQ);
	ck_assert_uint_eq(p.value, 42);
	ck_assert_int_eq(inspect_point_parse("0", &p), 0);
	ck_assert_int_eq(p.kind, INSPECT_AT_SEQ);
	ck_assert_int_eq(inspect_point_parse("latest", &p), 0);
	ck_assert_int_eq(p.kind, INSPECT_AT_LATEST);
	ck_assert_int_eq(inspect_point_parse("2025-01-02T03:04:05Z", &p), 0);
	ck_assert_int_eq(p.kind, INSPECT_AT_TIME);
	ck_assert_uint_eq(p.value, T0 * NS);
	ck_assert_int_eq(inspect_point_parse("@1735787045", &p), 0);
	ck_assert_int_eq(p.kind, INSPECT_AT_TIME);
}
END_TEST

START_TEST(test_inspect_point_parse_rejects)
{
	struct inspect_point p;

	ck_assert_int_eq(inspect_point_parse("4x", &p), -EINVAL);
	ck_assert_int_eq(inspect_point_parse("", &p), -EINVAL);
	ck_assert_int_eq(inspect_point_parse("-1", &p), -EINVAL);
	ck_assert_int_eq(inspect_point_parse("99999999999999999999999", &p),
			 -EINVAL);
	ck_assert_int_eq(inspect_point_parse("Latest", &p), -EINVAL);
}
END_TEST

static Suite *
inspect_suite(void)
{
	Suite *s = suite_create("inspect");
	TCase *core = tcase_create("core");
	TCase *limits = tcase_create("limits");

	tcase_add_test(core, test_inspect_time_parse_forms);
	tcase_add_test(core, test_inspect_time_format_round_trip);
	tcase_add_test(core, test_inspect_point_parse_kinds);
	tcase_add_test(limits, test_inspect_time_parse_rejects);
	tcase_add_test(limits, test_inspect_point_parse_rejects);
	suite_add_tcase(s, core);
	suite_add_tcase(s, limits);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(inspect_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? 1 : 0;
}
