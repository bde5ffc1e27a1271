/* test_promqltest.c — the PromQL test-script runner's own rules: Prometheus's float tolerance,
 * malformed scripts reported with line and column, and which cases are skipped (never passed). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "lagwatch/promqltest.h"

static int run(const char *script, struct promqltest_result *res, struct lw_err *err)
{
    struct lw_buf report;
    lw_buf_init(&report, 1 << 20);
    memset(res, 0, sizeof *res);
    memset(err, 0, sizeof *err);
    int rc = promqltest_run("t.test", script, strlen(script), true, res, &report, err);
    lw_buf_cleanup(&report);
    return rc;
}

static void malformed(const char *script, int line, int col, const char *part)
{
    struct promqltest_result res;
    struct lw_err err;
    assert_int_equal(run(script, &res, &err), -1);
    assert_string_equal(err.file, "t.test");
    if (err.line != line || err.col != col || strstr(err.msg, part) == NULL)
        fail_msg("%s\n-> %d:%d %s; want %d:%d %s", script, err.line, err.col, err.msg, line, col,
                 part);
}

static void test_almost_equal_is_prometheus_tolerance(void **state)
{
    (void)state;
    assert_true(promqltest_almost_equal(NAN, NAN));
    assert_true(promqltest_almost_equal(INFINITY, INFINITY));
    assert_false(promqltest_almost_equal(INFINITY, -INFINITY));
    assert_true(promqltest_almost_equal(1.0, 1.0 + 1e-7));
    assert_false(promqltest_almost_equal(1.0, 1.00001));
    assert_false(promqltest_almost_equal(0.0, 1e-300));
    assert_true(promqltest_almost_equal(0.0, 1e-320)); /* below min normal * 1e-6 */
    assert_false(promqltest_almost_equal(NAN, 1.0));
}

static void test_malformed_scripts_name_line_and_column(void **state)
{
    (void)state;
    malformed("frobnicate\n", 1, 1, "invalid command");
    malformed("load\n  m 1\n", 1, 5, "invalid load command");
    malformed("load 1m\n  m 1 zz\n", 2, 7, "expected a number");
    malformed("\n\neval instant at 1x m\n", 3, 17, "invalid timestamp");
    malformed("eval instant 1m m\n", 1, 14, "invalid evaluation command");
    malformed("eval instant at 1m\n", 1, 19, "expected a query");
    malformed("eval_ordered range from 0 to 1m step 1m m\n", 1, 14, "invalid evaluation");
    malformed("eval range from 2m to 1m step 1m m\n", 1, 1, "end timestamp is before start");
    malformed("eval instant at 0 m\n  m 1 2\n", 2, 3, "multiple values in instant");
    malformed("eval instant at 0 m\n  expect fail\n  expect fail msg: x\n", 3, 3,
              "multiple expect fail");
    malformed("eval instant at 0 m\n  expect sometimes\n", 2, 10, "invalid expect");
    malformed("eval instant at 0 m\n  expect string Foo\n", 2, 17, "quoted");
}

static void test_annotation_and_histogram_cases_are_skipped(void **state)
{
    (void)state;
    struct promqltest_result res;
    struct lw_err err;
    const char *script = "load 1m\n"
                         "  m{job=\"a\"} 1 2\n"
                         "  h {{schema:0 sum:1 count:1}}\n"
                         "\n"
                         "eval instant at 1m m\n"
                         "  expect info\n"
                         "  m{job=\"a\"} 2\n"
                         "\n"
                         "eval_warn instant at 1m m\n"
                         "  m{job=\"a\"} 2\n"
                         "\n"
                         "eval instant at 1m h\n"
                         "  h {{schema:0 sum:1 count:1}}\n"
                         "\n"
                         "# A selector without a metric name could select h.\n"
                         "eval instant at 1m {job=\"a\"}\n"
                         "  m{job=\"a\"} 2\n";
    assert_int_equal(run(script, &res, &err), 0);
    assert_int_equal(res.passed, 0);
    assert_int_equal(res.failed, 0);
    assert_int_equal(res.skipped, 4);
    assert_int_equal(res.n_kinds, 2);
    assert_string_equal(res.kinds[0].name, "annotations");
    assert_int_equal(res.kinds[0].n, 2);
    assert_string_equal(res.kinds[1].name, "native histogram");
    assert_int_equal(res.kinds[1].n, 2);
}

static void test_clear_forgets_histogram_series(void **state)
{
    (void)state;
    struct promqltest_result res;
    struct lw_err err;
    /* After clear the nameless selector can no longer meet histogram data: it is judged (and
     * fails, since the store is empty and a value is expected). */
    const char *script = "load 1m\n"
                         "  h {{schema:0 sum:1 count:1}}\n"
                         "\n"
                         "clear\n"
                         "\n"
                         "eval instant at 1m {job=\"a\"}\n"
                         "  m{job=\"a\"} 2\n";
    assert_int_equal(run(script, &res, &err), 0);
    assert_int_equal(res.skipped, 0);
    assert_int_equal(res.failed, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_almost_equal_is_prometheus_tolerance),
        cmocka_unit_test(test_malformed_scripts_name_line_and_column),
        cmocka_unit_test(test_annotation_and_histogram_cases_are_skipped),
        cmocka_unit_test(test_clear_forgets_histogram_series),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
