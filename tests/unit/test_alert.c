/* test_alert.c — Prometheus's alert state machine: for, pending dropped after one missed
 * evaluation, keep_firing_for, resolved retention, label rules, no_data policies, restore. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lagwatch/alert.h"

#define S 1000LL
#define M (60 * S)

static struct lw_labels sample_labels;

static int setup(void **state)
{
    (void)state;
    lw_labels_init(&sample_labels);
    assert_int_equal(
        lw_labels_set(&sample_labels, "__name__", "debezium_metrics_MilliSecondsBehindSource"), 0);
    assert_int_equal(lw_labels_set(&sample_labels, "pipeline", "orders"), 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    lw_labels_cleanup(&sample_labels);
    return 0;
}

static struct alert_rule *rule(int64_t for_ms, int64_t keep_ms, enum alert_no_data nd)
{
    struct lw_labels labels;
    lw_labels_init(&labels);
    assert_int_equal(lw_labels_set(&labels, "severity", "page"), 0);
    struct alert_rule_spec spec = {.name = "DebeziumHighBinlogLag",
                                   .for_ms = for_ms,
                                   .keep_firing_for_ms = keep_ms,
                                   .labels = &labels,
                                   .no_data = nd};
    struct alert_rule *r = alert_rule_new(&spec);
    lw_labels_cleanup(&labels);
    assert_non_null(r);
    return r;
}

static void eval(struct alert_rule *r, bool present, int64_t t)
{
    struct alert_sample s = {.labels = &sample_labels, .value = 93000};
    struct lw_err err = {0};
    assert_int_equal(alert_rule_eval(r, &s, present ? 1 : 0, false, t, &err), 0);
}

static enum alert_state state_of(const struct alert_rule *r)
{
    return alert_rule_count(r) ? alert_rule_at(r, 0)->state : (enum alert_state) - 1;
}

static void test_pending_then_firing_after_for(void **state)
{
    (void)state;
    struct alert_rule *r = rule(5 * M, 0, ALERT_NO_DATA_OK);
    eval(r, true, 0);
    assert_int_equal(state_of(r), ALERT_PENDING);
    const struct alert *a = alert_rule_at(r, 0);
    assert_null(lw_labels_get(&a->labels, "__name__"));
    assert_string_equal(lw_labels_get(&a->labels, "alertname"), "DebeziumHighBinlogLag");
    assert_string_equal(lw_labels_get(&a->labels, "severity"), "page");
    eval(r, true, 4 * M + 59 * S);
    assert_int_equal(state_of(r), ALERT_PENDING);
    eval(r, true, 5 * M);
    assert_int_equal(state_of(r), ALERT_FIRING);
    assert_int_equal(alert_rule_at(r, 0)->fired_at_ms, 5 * M);
    assert_int_equal(alert_rule_at(r, 0)->active_at_ms, 0);
    alert_rule_free(r);
}

static void test_pending_alert_dropped_after_one_missed_evaluation(void **state)
{
    (void)state;
    struct alert_rule *r = rule(5 * M, 0, ALERT_NO_DATA_OK);
    eval(r, true, 0);
    eval(r, false, 30 * S);
    assert_int_equal(alert_rule_count(r), 0);
    eval(r, true, 60 * S); /* starts over */
    assert_int_equal(alert_rule_at(r, 0)->active_at_ms, 60 * S);
    alert_rule_free(r);
}

static void test_resolved_alert_retained_fifteen_minutes(void **state)
{
    (void)state;
    struct alert_rule *r = rule(0, 0, ALERT_NO_DATA_OK);
    eval(r, true, 0);
    assert_int_equal(state_of(r), ALERT_FIRING);
    eval(r, false, M);
    assert_int_equal(state_of(r), ALERT_INACTIVE);
    assert_int_equal(alert_rule_at(r, 0)->resolved_at_ms, M);
    eval(r, false, M + 15 * M);
    assert_int_equal(alert_rule_count(r), 1);
    eval(r, false, M + 15 * M + 1);
    assert_int_equal(alert_rule_count(r), 0);
    alert_rule_free(r);
}

static void test_keep_firing_for_holds_a_firing_alert(void **state)
{
    (void)state;
    struct alert_rule *r = rule(0, 2 * M, ALERT_NO_DATA_OK);
    eval(r, true, 0);
    eval(r, false, M);
    assert_int_equal(state_of(r), ALERT_FIRING);
    eval(r, true, 2 * M); /* back: the keep-firing clock resets */
    eval(r, false, 3 * M);
    eval(r, false, 4 * M + 59 * S);
    assert_int_equal(state_of(r), ALERT_FIRING);
    eval(r, false, 5 * M);
    assert_int_equal(state_of(r), ALERT_INACTIVE);
    alert_rule_free(r);
}

static void test_same_labelset_after_alert_labels_is_an_error(void **state)
{
    (void)state;
    struct alert_rule *r = rule(0, 0, ALERT_NO_DATA_OK);
    struct lw_labels other;
    assert_int_equal(lw_labels_copy(&other, &sample_labels), 0);
    assert_int_equal(lw_labels_set(&other, "__name__", "another_metric"), 0);
    struct alert_sample v[2] = {{&sample_labels, 1}, {&other, 2}};
    struct lw_err err = {0};
    assert_int_equal(alert_rule_eval(r, v, 2, false, 0, &err), -1);
    assert_non_null(strstr(err.msg, "same labelset"));
    assert_int_equal(alert_rule_count(r), 0);
    lw_labels_cleanup(&other);
    alert_rule_free(r);
}

static void test_no_data_policies(void **state)
{
    (void)state;
    struct lw_err err = {0};
    struct alert_rule *keep = rule(5 * M, 0, ALERT_NO_DATA_KEEP_STATE);
    eval(keep, true, 0);
    assert_int_equal(alert_rule_eval(keep, NULL, 0, true, M, &err), 0);
    assert_int_equal(state_of(keep), ALERT_PENDING); /* not dropped by a scrape gap */
    eval(keep, true, 5 * M);
    assert_int_equal(state_of(keep), ALERT_FIRING); /* for measured from the first activeAt */
    alert_rule_free(keep);
    struct alert_rule *ok = rule(5 * M, 0, ALERT_NO_DATA_OK);
    eval(ok, true, 0);
    assert_int_equal(alert_rule_eval(ok, NULL, 0, true, M, &err), 0);
    assert_int_equal(alert_rule_count(ok), 0);
    alert_rule_free(ok);
    struct alert_rule *alerting = rule(0, 0, ALERT_NO_DATA_ALERTING);
    assert_int_equal(alert_rule_eval(alerting, NULL, 0, true, 0, &err), 0);
    assert_int_equal(state_of(alerting), ALERT_FIRING);
    assert_string_equal(lw_labels_get(&alert_rule_at(alerting, 0)->labels, "lagwatch_no_data"),
                        "true");
    alert_rule_free(alerting);
}

static void test_alerts_series_and_restore(void **state)
{
    (void)state;
    struct alert_rule *r = rule(5 * M, 0, ALERT_NO_DATA_OK);
    eval(r, true, 120 * S);
    struct lw_labels ls[4];
    double vals[4];
    size_t n = alert_rule_series(r, ls, vals, 4);
    assert_int_equal(n, 2);
    assert_string_equal(lw_labels_get(&ls[0], "__name__"), "ALERTS");
    assert_string_equal(lw_labels_get(&ls[0], "alertstate"), "pending");
    assert_string_equal(lw_labels_get(&ls[1], "__name__"), "ALERTS_FOR_STATE");
    assert_true(vals[1] == 120.0);
    for (size_t i = 0; i < n; i++)
        lw_labels_cleanup(&ls[i]);
    char *saved = alert_rule_save(r);
    alert_rule_free(r);
    /* restart: the `for` clock continues from the saved activeAt */
    r = rule(5 * M, 0, ALERT_NO_DATA_OK);
    struct lw_err err = {0};
    assert_int_equal(alert_rule_restore(r, saved, strlen(saved), &err), 0);
    eval(r, true, 5 * M + 120 * S);
    assert_int_equal(state_of(r), ALERT_FIRING);
    free(saved);
    assert_int_equal(alert_rule_restore(r, "{\"version\":1,\"alerts\":[{}]}", 27, &err), -1);
    assert_non_null(strstr(err.msg, "entry 0"));
    assert_int_equal(state_of(r), ALERT_FIRING); /* unchanged on a bad document */
    alert_rule_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pending_then_firing_after_for),
        cmocka_unit_test(test_pending_alert_dropped_after_one_missed_evaluation),
        cmocka_unit_test(test_resolved_alert_retained_fifteen_minutes),
        cmocka_unit_test(test_keep_firing_for_holds_a_firing_alert),
        cmocka_unit_test(test_same_labelset_after_alert_labels_is_an_error),
        cmocka_unit_test(test_no_data_policies),
        cmocka_unit_test(test_alerts_series_and_restore),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
