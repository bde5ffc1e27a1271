/* test_template.c — number formatting of alert templates against the outputs Go and Prometheus
 * produce (expected strings from Prometheus's template tests and Go's fmt). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <string.h>
#include <cmocka.h>

#include "lagwatch/template.h"

typedef int (*fmt_fn)(double, struct lw_buf *);

/* Format each value with fn followed by ':' and compare with the whole expected string, as
 * Prometheus's tests write `{{ range . }}{{ humanize . }}:{{ end }}`. */
static void check_all(fmt_fn fn, const double *vals, size_t n, const char *want)
{
    struct lw_buf b;
    lw_buf_init(&b, 4096);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(fn(vals[i], &b), 0);
        assert_int_equal(lw_buf_addc(&b, ':'), 0);
    }
    assert_string_equal(lw_buf_str(&b), want);
    lw_buf_cleanup(&b);
}

#define CHECK(fn, want, ...)                                        \
    do {                                                            \
        const double vals_[] = {__VA_ARGS__};                       \
        check_all(fn, vals_, sizeof vals_ / sizeof vals_[0], want); \
    } while (0)

static void test_humanize_uses_si_prefixes_with_four_digits(void **state)
{
    (void)state;
    CHECK(template_humanize, "0:1:1.235M:120m:", 0.0, 1.0, 1234567.0, .12);
    CHECK(template_humanize, "1.234k:12.35k:123.5k:100u:-1.5k:", 1234, 12345, 123456, 0.0001,
          -1500);
    CHECK(template_humanize, "NaN:+Inf:-Inf:", NAN, INFINITY, -INFINITY);
}

static void test_humanize1024_uses_binary_prefixes(void **state)
{
    (void)state;
    CHECK(template_humanize1024, "0:1:1Mi:0.12:", 0.0, 1.0, 1048576.0, .12);
    CHECK(template_humanize1024, "1ki:1.5Gi:1000:", 1024, 1.5 * 1024 * 1024 * 1024, 1000);
}

static void test_humanize_duration_as_prometheus(void **state)
{
    (void)state;
    CHECK(template_humanize_duration,
          "0s:1s:1m 0s:1h 0m 0s:1d 0h 0m 0s:1d 1h 0m 0s:-2d 3h 4m 5s:14m 59s:", 0, 1, 60, 3600,
          86400, 86400 + 3600, -(86400 * 2 + 3600 * 3 + 60 * 4 + 5), 899.99);
    CHECK(template_humanize_duration, "100ms:100us:123.5ms:1m 0s:1m 0s:1.234s:12.35s:", .1, .0001,
          .12345, 60.1, 60.5, 1.2345, 12.345);
    CHECK(template_humanize_duration, "NaN:+Inf:", NAN, INFINITY);
}

static void test_humanize_percentage(void **state)
{
    (void)state;
    CHECK(template_humanize_percentage, "0%:12.35%:123.5%:1235%:", 0, 0.1234567, 1.23456, 12.3456);
}

static void test_humanize_timestamp_in_go_time_string_form(void **state)
{
    (void)state;
    CHECK(template_humanize_timestamp, "2015-06-23 13:19:44.128 +0000 UTC:", 1435065584.128);
    CHECK(template_humanize_timestamp,
          "1970-01-01 00:00:00 +0000 UTC:1970-01-01 00:00:01.5 +0000 UTC:", 0, 1.5);
    CHECK(template_humanize_timestamp, "NaN:+Inf:", NAN, INFINITY);
}

static void test_float_v_is_go_shortest_with_exponent_rule(void **state)
{
    (void)state;
    CHECK(template_fmt_float_v, "1:0.1:1.234567e+06:123456:1e-05:0.0001:1.5:100:1e+21:", 1, 0.1,
          1234567, 123456, 1e-5, 0.0001, 1.5, 100, 1e21);
    CHECK(template_fmt_float_v, "0.30000000000000004:-2.5:0:-0:NaN:+Inf:-Inf:1e+06:", 0.1 + 0.2,
          -2.5, 0.0, -0.0, NAN, INFINITY, -INFINITY, 1e6);
    CHECK(template_fmt_float_v, "5e-324:1.7976931348623157e+308:", 5e-324, 1.7976931348623157e308);
}

static int fmt_g4(double v, struct lw_buf *b)
{
    return template_fmt_float_g(v, 4, b);
}

static void test_float_g_matches_go_spellings(void **state)
{
    (void)state;
    CHECK(fmt_g4, "1e+05:123:1000:1.234:NaN:-Inf:", 100000, 123, 1000, 1.2345, NAN, -INFINITY);
}

static void test_buffer_limit_is_reported(void **state)
{
    (void)state;
    struct lw_buf b;
    lw_buf_init(&b, 4);
    assert_int_equal(template_humanize_timestamp(1435065584.128, &b), -1);
    lw_buf_cleanup(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_humanize_uses_si_prefixes_with_four_digits),
        cmocka_unit_test(test_humanize1024_uses_binary_prefixes),
        cmocka_unit_test(test_humanize_duration_as_prometheus),
        cmocka_unit_test(test_humanize_percentage),
        cmocka_unit_test(test_humanize_timestamp_in_go_time_string_form),
        cmocka_unit_test(test_float_v_is_go_shortest_with_exponent_rule),
        cmocka_unit_test(test_float_g_matches_go_spellings),
        cmocka_unit_test(test_buffer_limit_is_reported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
