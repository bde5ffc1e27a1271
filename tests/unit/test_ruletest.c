/* test_ruletest.c — the promtool-format rule test runner: value spelling as promtool prints it,
 * rule files through the callback, passing and failing groups, promtool's event order (samples
 * after the last evaluation are never loaded) and malformed files refused with positions. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lagwatch/ruletest.h"

static const char *rules_yaml = "groups:\n"
                                "  - name: g\n"
                                "    rules:\n"
                                "      - alert: Down\n"
                                "        expr: up == 0\n"
                                "        for: 1m\n"
                                "        labels: {severity: page}\n";

static int one_rule_file(void *ud, const char *test_file, const char *entry,
                         struct ruletest_file **files, size_t *n, struct lw_err *err)
{
    (void)ud;
    (void)test_file;
    if (strcmp(entry, "r.yml") != 0)
        return lw_err_set(err, 0, 0, "no such file %s", entry);
    struct ruletest_file *nf = realloc(*files, (*n + 1) * sizeof(*nf));
    assert_non_null(nf);
    *files = nf;
    nf[*n].name = strdup("r.yml");
    nf[*n].buf = strdup(rules_yaml);
    nf[*n].len = strlen(rules_yaml);
    (*n)++;
    return 0;
}

static int run(const char *yaml, struct lw_buf *report, struct ruletest_result *res,
               struct lw_err *err)
{
    struct ruletest_options o = {.rules = one_rule_file};
    memset(res, 0, sizeof(*res));
    lw_buf_init(report, 1 << 20);
    return ruletest_run(yaml, strlen(yaml), "t.yml", &o, report, res, err);
}

static void expect_float(double v, const char *want)
{
    struct lw_buf b;
    lw_buf_init(&b, 128);
    assert_int_equal(ruletest_fmt_float(v, &b), 0);
    assert_string_equal(lw_buf_str(&b), want);
    lw_buf_cleanup(&b);
}

static void test_values_are_spelled_as_go_prints_them(void **state)
{
    (void)state;
    expect_float(1, "1E+00");
    expect_float(0, "0E+00");
    expect_float(0.5, "5E-01");
    expect_float(1234.5, "1.2345E+03");
    expect_float(1.0 / 6, "1.6666666666666666E-01");
    expect_float(-2.5e-300, "-2.5E-300");
    expect_float(INFINITY, "+Inf");
    expect_float(-INFINITY, "-Inf");
    expect_float(NAN, "NaN");
}

static void test_passing_file(void **state)
{
    (void)state;
    struct lw_buf report;
    struct ruletest_result res;
    struct lw_err err = {0};
    assert_int_equal(run("rule_files: [r.yml]\n"
                         "tests:\n"
                         "  - interval: 1m\n"
                         "    input_series:\n"
                         "      - {series: 'up{job=\"a\"}', values: '1 0 0 0'}\n"
                         "    alert_rule_test:\n"
                         "      - {eval_time: 1m, alertname: Down}\n"
                         "      - eval_time: 2m\n"
                         "        alertname: Down\n"
                         "        exp_alerts: [{exp_labels: {job: a, severity: page}}]\n"
                         "    promql_expr_test:\n"
                         "      - expr: ALERTS_FOR_STATE\n"
                         "        eval_time: 3m\n"
                         "        exp_samples:\n"
                         "          - labels: 'ALERTS_FOR_STATE{alertname=\"Down\", job=\"a\", "
                         "severity=\"page\"}'\n"
                         "            value: 60\n",
                         &report, &res, &err),
                     0);
    assert_string_equal(lw_buf_str(&report), "");
    assert_int_equal(res.groups, 1);
    assert_int_equal(res.cases, 3);
    assert_int_equal(res.failed_cases, 0);
    lw_buf_cleanup(&report);
}

static void test_failures_are_reported_like_promtool(void **state)
{
    (void)state;
    struct lw_buf report;
    struct ruletest_result res;
    struct lw_err err = {0};
    /* the sample at 90s is never loaded: evaluations happen at 0 and 1m only */
    assert_int_equal(
        run("rule_files: [r.yml]\n"
            "tests:\n"
            "  - name: late\n"
            "    interval: 30s\n"
            "    input_series:\n"
            "      - {series: 'x', values: '1 2 3 4'}\n"
            "    alert_rule_test:\n"
            "      - eval_time: 1m\n"
            "        alertname: Down\n"
            "        exp_alerts: [{exp_labels: {a: b}, exp_annotations: {s: t}}]\n"
            "    promql_expr_test:\n"
            "      - {expr: x, eval_time: 90s, exp_samples: [{labels: x, value: 4}]}\n",
            &report, &res, &err),
        0);
    assert_int_equal(res.failed_cases, 2);
    assert_int_equal(res.failed_groups, 1);
    assert_string_equal(lw_buf_str(&report), "    name: late,\n"
                                             "    alertname: Down, time: 1m, \n"
                                             "        exp:[\n"
                                             "            0:\n"
                                             "              Labels:{a=\"b\", alertname=\"Down\"}\n"
                                             "              Annotations:{s=\"t\"}\n"
                                             "            ], \n"
                                             "        got:[]\n"
                                             "    expr: \"x\", time: 1m30s,\n"
                                             "        exp: {__name__=\"x\"} 4E+00\n"
                                             "        got: {__name__=\"x\"} 3E+00\n");
    lw_buf_cleanup(&report);
}

static void test_malformed_files_are_errors_with_positions(void **state)
{
    (void)state;
    struct lw_buf report;
    struct ruletest_result res;
    struct lw_err err = {0};
    assert_int_equal(run("rule_files: [r.yml]\ntestz: []\n", &report, &res, &err), -1);
    assert_int_equal(err.line, 2);
    assert_non_null(strstr(err.msg, "did you mean 'tests'"));
    lw_buf_cleanup(&report);
    assert_int_equal(run("tests:\n  - input_series:\n      - {series: 'x', values: '1 2x'}\n",
                         &report, &res, &err),
                     -1);
    assert_int_equal(err.line, 3);
    assert_non_null(strstr(err.msg, "values"));
    lw_buf_cleanup(&report);
    assert_int_equal(
        run("rule_files: [missing.yml]\ntests:\n  - interval: 1m\n", &report, &res, &err), -1);
    assert_non_null(strstr(err.msg, "no such file missing.yml"));
    lw_buf_cleanup(&report);
    assert_int_equal(
        run("rule_files: [r.yml]\ngroup_eval_order: [nope]\ntests:\n  - interval: 1m\n", &report,
            &res, &err),
        -1);
    assert_non_null(strstr(err.msg, "group name 'nope' in group_eval_order not found"));
    lw_buf_cleanup(&report);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_values_are_spelled_as_go_prints_them),
        cmocka_unit_test(test_passing_file),
        cmocka_unit_test(test_failures_are_reported_like_promtool),
        cmocka_unit_test(test_malformed_files_are_errors_with_positions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
