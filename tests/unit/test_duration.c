/* test_duration.c — Prometheus duration syntax: what parses, what is refused and where. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "lagwatch/duration.h"

static int64_t parse_ok(const char *s)
{
    int64_t ms = -42;
    struct lw_err err = {0};
    assert_int_equal(duration_parse(s, strlen(s), &ms, &err), 0);
    return ms;
}

static void test_parses_single_and_compound_units(void **state)
{
    (void)state;
    assert_int_equal(parse_ok("0"), 0);
    assert_int_equal(parse_ok("500ms"), 500);
    assert_int_equal(parse_ok("15s"), 15000);
    assert_int_equal(parse_ok("5m"), 300000);
    assert_int_equal(parse_ok("1h30m"), 5400000);
    assert_int_equal(parse_ok("1d"), 86400000);
    assert_int_equal(parse_ok("2w"), 14LL * 86400000);
    assert_int_equal(parse_ok("1y"), 365LL * 86400000);
    assert_int_equal(parse_ok("1m30s500ms"), 90500);
}

static void test_refuses_bad_durations_with_column(void **state)
{
    (void)state;
    const struct {
        const char *in;
        int col;
    } cases[] = {{"", 1},    {"5", 2},   {"m", 1},    {"30m1h", 5}, {"1h1h", 4},
                 {"5 m", 2}, {"-5m", 1}, {"1.5h", 2}, {"5mm", 3},   {"99999999999999999999s", 1}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int64_t ms = 7;
        struct lw_err err = {0};
        assert_int_equal(duration_parse(cases[i].in, strlen(cases[i].in), &ms, &err), -1);
        assert_int_equal(ms, 7);
        assert_int_equal(err.col, cases[i].col);
        assert_true(err.msg[0] != '\0');
    }
}

static void test_formats_like_prometheus(void **state)
{
    (void)state;
    char buf[32];
    assert_string_equal(duration_format(0, buf, sizeof buf), "0s");
    assert_string_equal(duration_format(5400000, buf, sizeof buf), "1h30m");
    assert_string_equal(duration_format(90LL * 86400000, buf, sizeof buf), "90d");
    assert_string_equal(duration_format(14LL * 86400000, buf, sizeof buf), "2w");
    assert_string_equal(duration_format(90500, buf, sizeof buf), "1m30s500ms");
    assert_string_equal(duration_format(-60000, buf, sizeof buf), "-1m");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parses_single_and_compound_units),
        cmocka_unit_test(test_refuses_bad_durations_with_column),
        cmocka_unit_test(test_formats_like_prometheus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
