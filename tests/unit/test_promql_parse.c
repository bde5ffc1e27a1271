/* test_promql_parse.c — the PromQL parser: precedence as Prometheus prints it back, type checks
 * and refusals with Prometheus's wording and the column, and the subset boundary. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "lagwatch/promql.h"

/* Parse src and return its canonical text (static buffer), failing the test on error. */
static const char *canon(const char *src)
{
    static char out[4096];
    struct promql_expr *e = NULL;
    struct lw_err err = {0};
    if (promql_parse(src, strlen(src), &e, &err) != 0)
        fail_msg("parse %s: %d:%d: %s", src, err.line, err.col, err.msg);
    struct lw_buf b;
    lw_buf_init(&b, sizeof out - 1);
    assert_int_equal(promql_format_expr(e, &b), 0);
    snprintf(out, sizeof out, "%s", lw_buf_str(&b));
    lw_buf_cleanup(&b);
    promql_expr_free(e);
    return out;
}

/* Parse src expecting failure; return the error. */
static struct lw_err refuse(const char *src)
{
    struct promql_expr *e = NULL;
    struct lw_err err = {0};
    if (promql_parse(src, strlen(src), &e, &err) == 0) {
        promql_expr_free(e);
        fail_msg("parse of %s succeeded", src);
    }
    assert_null(e);
    return err;
}

static void test_prints_back_canonical_form(void **state)
{
    (void)state;
    assert_string_equal(canon("up"), "up");
    assert_string_equal(canon("up{job='a',instance=~\"x.*\"}"), "up{instance=~\"x.*\",job=\"a\"}");
    assert_string_equal(canon("rate(x[5m])"), "rate(x[5m])");
    assert_string_equal(canon("rate(x[90s] offset 1h30m)"), "rate(x[1m30s] offset 1h30m)");
    assert_string_equal(canon("sum(rate(x[5m])) by (job)"), "sum by (job) (rate(x[5m]))");
    assert_string_equal(canon("topk without(a) (3, x)"), "topk without (a) (3, x)");
    assert_string_equal(canon("a + on(b) group_left(c) d"), "a + on (b) group_left (c) d");
    assert_string_equal(canon("a > bool ignoring(b) d"), "a > bool ignoring (b) d");
    assert_string_equal(canon("{__name__=\"up\"}"), "{__name__=\"up\"}");
    assert_string_equal(canon("{\"a.b\", c=\"d\"}"), "{\"a.b\",c=\"d\"}");
    assert_string_equal(canon("1e3 + 0x10 + .5 + Inf"), "1000 + 16 + 0.5 + +Inf");
    assert_string_equal(canon("1e21 + 0.0001 + 0.00001"), "1e+21 + 0.0001 + 1e-05");
    assert_string_equal(canon("x[5m:]"), "x[5m:]");
    assert_string_equal(canon("x[1h:5m] offset -5m"), "x[1h:5m] offset -5m");
    assert_string_equal(canon("x @ 100 offset 5m"), "x @ 100.000 offset 5m");
    assert_string_equal(canon("x @ start()"), "x @ start()");
    assert_string_equal(canon("label_join(x, \"d\", \",\", \"a\", \"b\")"),
                        "label_join(x, \"d\", \",\", \"a\", \"b\")");
    assert_string_equal(canon("\"a\\nb\""), "\"a\\nb\"");
    assert_string_equal(canon("`raw\\n`"), "\"raw\\\\n\"");
    assert_string_equal(canon("job:up:sum # comment"), "job:up:sum");
}

static void test_precedence_and_associativity(void **state)
{
    (void)state;
    /* The tree's shape shows through parentheses-free printing only via evaluation order, so
     * check with explicit parentheses that both spellings give the same canonical text. */
    assert_string_equal(canon("1 + 2 * 3"), "1 + 2 * 3");
    assert_string_equal(canon("-2 ^ 2"), "-2 ^ 2");
    assert_string_equal(canon("-x ^ 2"), "-x ^ 2");
    assert_string_equal(canon("a or b and c unless d"), "a or b and c unless d");
    assert_string_equal(canon("2 ^ 3 ^ 2"), "2 ^ 3 ^ 2");
}

static void test_refuses_with_prometheus_messages_and_columns(void **state)
{
    (void)state;
    struct lw_err e = refuse("sum(x[5m])");
    assert_string_equal(e.msg,
                        "expected type instant vector in aggregation expression, got range vector");
    assert_int_equal(e.col, 5);

    e = refuse("rate(x)");
    assert_string_equal(
        e.msg, "expected type range vector in call to function \"rate\", got instant vector");
    assert_int_equal(e.col, 6);

    e = refuse("1 > 2");
    assert_string_equal(e.msg, "comparisons between scalars must use BOOL modifier");
    assert_int_equal(e.col, 3);

    e = refuse("x and 1");
    assert_string_equal(e.msg, "set operator \"and\" not allowed in binary scalar expression");

    e = refuse("{a=~\".*\"}");
    assert_string_equal(e.msg, "vector selector must contain at least one non-empty matcher");
    assert_int_equal(e.col, 1);

    e = refuse("foo{a=\"b\"");
    assert_int_equal(e.col, 10);

    e = refuse("x +");
    assert_string_equal(e.msg, "unexpected end of input, expected expression");
    assert_int_equal(e.col, 4);

    e = refuse("nosuch(x)");
    assert_string_equal(e.msg, "unknown function with name \"nosuch\"");

    e = refuse("x\n  + $");
    assert_int_equal(e.line, 2);
    assert_int_equal(e.col, 5);

    e = refuse("(x + 1)[5m]");
    assert_string_equal(e.msg, "ranges only allowed for vector selectors");

    e = refuse("x[5m] offset 1m offset 2m");
    assert_string_equal(e.msg, "offset may not be set multiple times");

    e = refuse("clamp(x, 1)");
    assert_string_equal(e.msg, "expected 3 argument(s) in call to \"clamp\", got 2");

    e = refuse("1 + 2 ) ");
    assert_int_equal(e.col, 7);
    e = refuse("\"unterminated");
    assert_string_equal(e.msg, "unterminated quoted string");
    e = refuse("x{a=~\"(\"}");
    assert_int_equal(e.col, 3);
}

static void test_refuses_outside_the_subset_as_unsupported(void **state)
{
    (void)state;
    struct lw_err e = refuse("histogram_quantile(0.9, rate(x[5m]))");
    assert_string_equal(e.msg, "unsupported: function: histogram_quantile");
    assert_int_equal(e.col, 1);

    e = refuse("1 + count_values(\"v\", x)");
    assert_string_equal(e.msg, "unsupported: aggregation: count_values");
    assert_int_equal(e.col, 5);

    e = refuse("x + group(y)");
    assert_string_equal(e.msg, "unsupported: aggregation: group");
    assert_int_equal(e.col, 5);
}

static void test_deep_nesting_is_refused_not_a_crash(void **state)
{
    (void)state;
    char src[5000];
    memset(src, '(', 2000);
    src[2000] = '1';
    memset(src + 2001, ')', 2000);
    src[4001] = '\0';
    struct lw_err e = refuse(src);
    assert_non_null(strstr(e.msg, "nested too deeply"));
}

static void test_types(void **state)
{
    (void)state;
    const struct {
        const char *src;
        enum promql_type t;
    } cases[] = {{"1", PROMQL_SCALAR},        {"x", PROMQL_VECTOR},
                 {"x[5m]", PROMQL_MATRIX},    {"\"s\"", PROMQL_STRING},
                 {"time()", PROMQL_SCALAR},   {"x + 1", PROMQL_VECTOR},
                 {"1 + 1", PROMQL_SCALAR},    {"scalar(x)", PROMQL_SCALAR},
                 {"x[5m:1m]", PROMQL_MATRIX}, {"(x)", PROMQL_VECTOR}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct promql_expr *e = NULL;
        struct lw_err err = {0};
        assert_int_equal(promql_parse(cases[i].src, strlen(cases[i].src), &e, &err), 0);
        assert_int_equal(promql_expr_type(e), cases[i].t);
        promql_expr_free(e);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prints_back_canonical_form),
        cmocka_unit_test(test_precedence_and_associativity),
        cmocka_unit_test(test_refuses_with_prometheus_messages_and_columns),
        cmocka_unit_test(test_refuses_outside_the_subset_as_unsupported),
        cmocka_unit_test(test_deep_nesting_is_refused_not_a_crash),
        cmocka_unit_test(test_types),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
