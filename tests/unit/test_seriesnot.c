/* test_seriesnot.c — the expanding series notation of PromQL test scripts and promtool unit
 * tests: every item form, Prometheus's step-by-step addition, labels with PromQL strings, and
 * errors with their column. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "lagwatch/limits.h"
#include "lagwatch/seriesnot.h"
#include "lagwatch/store.h"

static void expand(const char *s, struct seriesnot_values *vals)
{
    struct lw_err err = {0};
    seriesnot_values_init(vals);
    int rc = seriesnot_parse_values(s, strlen(s), vals, &err);
    if (rc != 0)
        fail_msg("%s: col %d: %s", s, err.col, err.msg);
}

static void expect_error(const char *s, int col, const char *msg_part)
{
    struct seriesnot_values vals;
    struct lw_err err = {0};
    seriesnot_values_init(&vals);
    assert_int_equal(seriesnot_parse_values(s, strlen(s), &vals, &err), -1);
    if (err.col != col || strstr(err.msg, msg_part) == NULL)
        fail_msg("%s: got col %d \"%s\", want col %d \"%s\"", s, err.col, err.msg, col, msg_part);
    seriesnot_values_cleanup(&vals);
}

static void test_plain_values_and_specials(void **state)
{
    (void)state;
    struct seriesnot_values v;
    expand("1 -2.5 1e3 +4 Inf -Inf NaN nan 1E-2", &v);
    assert_int_equal(v.n, 9);
    assert_true(v.v[0].v == 1 && v.v[1].v == -2.5 && v.v[2].v == 1000 && v.v[3].v == 4);
    assert_true(isinf(v.v[4].v) && v.v[4].v > 0);
    assert_true(isinf(v.v[5].v) && v.v[5].v < 0);
    assert_true(isnan(v.v[6].v) && !store_is_stale_nan(v.v[6].v));
    assert_true(isnan(v.v[7].v));
    assert_true(v.v[8].v == 0.01);
    for (size_t i = 0; i < v.n; i++)
        assert_false(v.v[i].omitted);
    seriesnot_values_cleanup(&v);
}

static void test_a_plus_b_times_n_gives_n_plus_one_values(void **state)
{
    (void)state;
    struct seriesnot_values v;
    expand("1+2x3", &v);
    assert_int_equal(v.n, 4);
    assert_true(v.v[0].v == 1 && v.v[1].v == 3 && v.v[2].v == 5 && v.v[3].v == 7);
    seriesnot_values_cleanup(&v);
    expand("5-1x2 -1-1x1", &v);
    assert_int_equal(v.n, 5);
    assert_true(v.v[0].v == 5 && v.v[1].v == 4 && v.v[2].v == 3);
    assert_true(v.v[3].v == -1 && v.v[4].v == -2);
    seriesnot_values_cleanup(&v);
}

static void test_addition_is_step_by_step_as_prometheus(void **state)
{
    (void)state;
    /* 0.1 added ten times is not 1.0 exactly; multiplying would give 1.0. */
    struct seriesnot_values v;
    expand("0+0.1x10", &v);
    double acc = 0;
    for (int i = 0; i < 10; i++)
        acc += 0.1;
    assert_true(memcmp(&v.v[10].v, &acc, sizeof acc) == 0);
    assert_true(v.v[10].v != 1.0);
    seriesnot_values_cleanup(&v);
}

static void test_a_times_n_repeats(void **state)
{
    (void)state;
    struct seriesnot_values v;
    expand("7x2 Infx1 0x3", &v);
    /* 0x3 is zero repeated, never hexadecimal: the notation does not take hex. */
    assert_int_equal(v.n, 3 + 2 + 4);
    assert_true(v.v[0].v == 7 && v.v[2].v == 7);
    assert_true(isinf(v.v[3].v) && isinf(v.v[4].v));
    assert_true(v.v[8].v == 0);
    seriesnot_values_cleanup(&v);
}

static void test_blanks_and_stale(void **state)
{
    (void)state;
    struct seriesnot_values v;
    expand("1 _ _x3 stale 2 _x0", &v);
    assert_int_equal(v.n, 7);
    assert_false(v.v[0].omitted);
    for (int i = 1; i <= 4; i++)
        assert_true(v.v[i].omitted);
    assert_true(store_is_stale_nan(v.v[5].v) && !v.v[5].omitted);
    assert_true(v.v[6].v == 2);
    seriesnot_values_cleanup(&v);
}

static void test_errors_name_the_column(void **state)
{
    (void)state;
    expect_error("1 2 abc", 5, "expected a number");
    expect_error("1+2", 4, "repeat count");
    expect_error("1+2x", 5, "repeat count after 'x'");
    expect_error("1 2x3y", 6, "unexpected");
    expect_error("_y", 2, "'x'");
    expect_error("stalex2", 6, "after 'stale'");
    expect_error("1 {{schema:1 sum:3 count:22 buckets:[5 10 7]}}", 3,
                 "unsupported: native histogram:");
    expect_error("1e999", 1, "out of range");
    expect_error("1x99999999999999999999", 2, "too large");
}

static void test_expansion_is_bounded(void **state)
{
    (void)state;
    char big[64];
    snprintf(big, sizeof big, "1x%u", LW_MAX_SERIESNOT_VALUES);
    expect_error(big, 1, "more than");
}

static void test_series_line_with_labels(void **state)
{
    (void)state;
    struct lw_labels ls;
    struct seriesnot_values v;
    struct lw_err err = {0};
    lw_labels_init(&ls);
    seriesnot_values_init(&v);
    const char *line = "http_requests{job=\"api server\", instance='0',group=`can\\ary`,} 0+10x2";
    assert_int_equal(seriesnot_parse_line(line, strlen(line), &ls, &v, &err), 0);
    assert_string_equal(lw_labels_get(&ls, "__name__"), "http_requests");
    assert_string_equal(lw_labels_get(&ls, "job"), "api server");
    assert_string_equal(lw_labels_get(&ls, "instance"), "0");
    assert_string_equal(lw_labels_get(&ls, "group"), "can\\ary"); /* raw string: no escapes */
    assert_int_equal(v.n, 3);
    lw_labels_cleanup(&ls);
    seriesnot_values_cleanup(&v);
}

static void test_labels_forms(void **state)
{
    (void)state;
    struct lw_labels ls;
    struct lw_err err = {0};
    size_t used;
    lw_labels_init(&ls);
    const char *a = "{}";
    assert_int_equal(seriesnot_parse_labels(a, strlen(a), &ls, &used, &err), 0);
    assert_int_equal(ls.n, 0);
    assert_int_equal(used, 2);
    const char *b = "{__name__=\"x:y\", a=\"\\n\\\"\\u00e9\\x41\"}";
    assert_int_equal(seriesnot_parse_labels(b, strlen(b), &ls, &used, &err), 0);
    assert_string_equal(lw_labels_get(&ls, "__name__"), "x:y");
    assert_string_equal(lw_labels_get(&ls, "a"), "\n\"\xc3\xa9"
                                                 "A");
    lw_labels_cleanup(&ls);
    lw_labels_init(&ls);
    const char *c = "{\"metric.with.dots\", \"label.x\"=\"1\"} 1";
    assert_int_equal(seriesnot_parse_labels(c, strlen(c), &ls, &used, &err), 0);
    assert_string_equal(lw_labels_get(&ls, "__name__"), "metric.with.dots");
    assert_string_equal(lw_labels_get(&ls, "label.x"), "1");
    assert_int_equal(c[used], ' ');
    lw_labels_cleanup(&ls);
}

static void labels_error(const char *s, int col, const char *part)
{
    struct lw_labels ls;
    struct lw_err err = {0};
    size_t used;
    lw_labels_init(&ls);
    assert_int_equal(seriesnot_parse_labels(s, strlen(s), &ls, &used, &err), -1);
    if (err.col != col || strstr(err.msg, part) == NULL)
        fail_msg("%s: got col %d \"%s\", want col %d \"%s\"", s, err.col, err.msg, col, part);
    lw_labels_cleanup(&ls);
}

static void test_label_errors_name_the_column(void **state)
{
    (void)state;
    labels_error("x{a=\"1\"", 8, "expected ',' or '}'");
    labels_error("x{a=1}", 5, "quoted label value");
    labels_error("x{a=\"1}", 5, "unterminated");
    labels_error("x{a!=\"1\"}", 4, "expected '='");
    labels_error("x{a=\"\\q\"}", 6, "invalid escape");
    labels_error("x{a=\"1\",a=\"2\"}", 9, "given twice");
    labels_error("9x", 1, "metric name or '{'");
}

static void test_line_errors_are_relative_to_the_line(void **state)
{
    (void)state;
    struct lw_labels ls;
    struct seriesnot_values v;
    struct lw_err err = {0};
    lw_labels_init(&ls);
    seriesnot_values_init(&v);
    const char *line = "up{job=\"a\"} 1 2 oops";
    assert_int_equal(seriesnot_parse_line(line, strlen(line), &ls, &v, &err), -1);
    assert_int_equal(err.col, 17);
    lw_labels_cleanup(&ls);
    seriesnot_values_cleanup(&v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_values_and_specials),
        cmocka_unit_test(test_a_plus_b_times_n_gives_n_plus_one_values),
        cmocka_unit_test(test_addition_is_step_by_step_as_prometheus),
        cmocka_unit_test(test_a_times_n_repeats),
        cmocka_unit_test(test_blanks_and_stale),
        cmocka_unit_test(test_errors_name_the_column),
        cmocka_unit_test(test_expansion_is_bounded),
        cmocka_unit_test(test_series_line_with_labels),
        cmocka_unit_test(test_labels_forms),
        cmocka_unit_test(test_label_errors_name_the_column),
        cmocka_unit_test(test_line_errors_are_relative_to_the_line),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
