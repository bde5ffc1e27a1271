/*
 * ruletest.h — promtool's rule unit tests (`promtool test rules`, Prometheus 2.42's format):
 * rule_files, evaluation_interval, group_eval_order and tests of input_series (expanding
 * notation, `_`, `stale`), alert_rule_test (eval_time, alertname, exp_alerts with exp_labels /
 * exp_annotations), promql_expr_test (expr, eval_time, exp_samples), external_labels,
 * external_url, name.
 *
 * Semantics follow promtool, so both reach the same verdict on the same file: for each test
 * group the rules are loaded afresh, every group is evaluated at 0, evaluation_interval, ... up
 * to the largest eval_time of the group (the groups' own intervals are ignored, as promtool
 * does), input samples are loaded up to each evaluation time only (a sample after the last
 * evaluation is never seen), an alert test at eval_time compares the firing alerts of the
 * evaluation at or just before it, and promql tests run after the last evaluation. Values are
 * compared exactly (2.42 has no fuzzy compare). Failures are worded as promtool words them.
 *
 * Pure: rule files are handed in by a callback (the agent reads and globs them).
 */
#ifndef LAGWATCH_RULETEST_H
#define LAGWATCH_RULETEST_H

#include <stddef.h>

#include "lagwatch/buf.h"
#include "lagwatch/error.h"
#include "lagwatch/labels.h"
#include "lagwatch/rules.h"

/* One rule file the callback found; name and buf are heap blocks the runner frees. */
struct ruletest_file {
    char *name;
    char *buf;
    size_t len;
};

/* Append the rule files an entry of rule_files names (as written; relative to the directory of
 * test_file) to *files / *n (a heap array the runner frees, realloc'd by the callee). Returns 0,
 * or -1 with err (unreadable file). A glob that matches nothing adds nothing. */
typedef int (*ruletest_rules_fn)(void *ud, const char *test_file, const char *entry,
                                 struct ruletest_file **files, size_t *n, struct lw_err *err);

/* Templating for one test group: its external labels and URL (as $externalLabels and
 * $externalURL) — the runner fills rule_load_options' template hooks from this. */
typedef void (*ruletest_template_fn)(void *ud, const struct lw_labels *external_labels,
                                     const char *external_url, struct rule_load_options *o);

struct ruletest_options {
    ruletest_rules_fn rules;
    void *rules_ud;
    ruletest_template_fn templates; /* NULL: labels and annotations stay as written */
    void *templates_ud;
};

struct ruletest_result {
    size_t groups;        /* test groups run */
    size_t failed_groups; /* test groups with at least one failure */
    size_t cases, failed_cases;
};

/*
 * Run the test file buf[0..len) named filename. Failures are appended to report in promtool's
 * words ("    alertname: X, time: 5m, \n        exp:[...], \n        got:[...]\n"), counted in
 * *res. Returns 0 when the file could be run (res says whether tests failed), or -1 with err
 * (file:line:col) when the file is malformed or its rule files do not load.
 */
LW_MUST_CHECK int ruletest_run(const char *buf, size_t len, const char *filename,
                               const struct ruletest_options *o, struct lw_buf *report,
                               struct ruletest_result *res, struct lw_err *err);

/* Append v as Go's strconv.FormatFloat(v, 'E', -1, 64) ("1E+00", "1.2345E+03", "NaN",
 * "+Inf"), the way promtool prints sample values. */
int ruletest_fmt_float(double v, struct lw_buf *out);

#endif
