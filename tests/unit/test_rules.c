/* test_rules.c — rule files and rule groups: what the loader refuses (and where it says so),
 * group evaluation in order with recording rules feeding later rules, ALERTS and their stale
 * markers, no_data policies, group limits, rule health, state save/restore and carry-over. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lagwatch/promql.h"
#include "lagwatch/rules.h"
#include "lagwatch/store.h"

#define S 1000LL
#define M (60 * S)

static struct rule_set *load_ok(const char *yaml, const struct rule_load_options *o)
{
    struct rule_set *rs = NULL;
    struct lw_err err = {0};
    int rc = rule_set_load_buf(yaml, strlen(yaml), "r.yml", o, &rs, &err);
    if (rc != 0)
        fail_msg("load failed: %d:%d: %s", err.line, err.col, err.msg);
    return rs;
}

/* col 0: the column is not checked (yamldoc's own duration messages place it). */
static void expect_load_error(const char *yaml, int line, int col, const char *msg)
{
    struct rule_set *rs = NULL;
    struct lw_err err = {0};
    assert_int_equal(rule_set_load_buf(yaml, strlen(yaml), "r.yml", NULL, &rs, &err), -1);
    assert_null(rs);
    if (err.line != line || (col != 0 && err.col != col) || strstr(err.msg, msg) == NULL)
        fail_msg("for\n%s\nwant %d:%d '%s', got %d:%d '%s'", yaml, line, col, msg, err.line,
                 err.col, err.msg);
    assert_string_equal(err.file, "r.yml");
}

static struct store *new_store(void)
{
    struct store_options so = {.retention_ms = 24 * 60 * M};
    struct store *st = store_new(&so);
    assert_non_null(st);
    return st;
}

static void put(struct store *st, const char *name, const char *pipeline, int64_t t, double v)
{
    struct lw_labels ls;
    lw_labels_init(&ls);
    assert_int_equal(lw_labels_set(&ls, "__name__", name), 0);
    assert_int_equal(lw_labels_set(&ls, "pipeline", pipeline), 0);
    struct lw_err err = {0};
    assert_int_equal(store_append(st, &ls, t, v, &err), 0);
    lw_labels_cleanup(&ls);
}

/* Number of samples `q` returns at t. */
static size_t query_n(struct store *st, const char *q, int64_t t, double *first)
{
    struct promql_expr *e = NULL;
    struct lw_err err = {0};
    assert_int_equal(promql_parse(q, strlen(q), &e, &err), 0);
    struct promql_value v = {0};
    assert_int_equal(promql_eval_instant(e, st, t, NULL, &v, &err), 0);
    size_t n = v.type == PROMQL_VECTOR ? v.n_vec : 1;
    if (first && n)
        *first = v.type == PROMQL_VECTOR ? v.vec[0].v : v.scalar;
    promql_value_cleanup(&v);
    promql_expr_free(e);
    return n;
}

static enum alert_state state_of(const struct rule *r)
{
    const struct alert_rule *a = rule_alert(r);
    if (alert_rule_count(a) == 0)
        return ALERT_INACTIVE;
    return alert_rule_at(a, 0)->state;
}

static void eval_all(struct rule_set *rs, struct store *st, int64_t t, int want_failed)
{
    struct lw_err err = {0};
    for (size_t i = 0; i < rule_set_group_count(rs); i++)
        assert_int_equal(rule_group_eval(rule_set_group(rs, i), st, t, &err), want_failed);
}

static void test_loads_groups_rules_and_their_fields(void **state)
{
    (void)state;
    struct rule_set *rs = load_ok("groups:\n"
                                  "  - name: debezium\n"
                                  "    interval: 15s\n"
                                  "    limit: 10\n"
                                  "    rules:\n"
                                  "      - record: pipeline:lag_ms:max\n"
                                  "        expr: max by (pipeline) (lag)\n"
                                  "        labels: {source: debezium}\n"
                                  "      - alert: HighLag\n"
                                  "        expr: pipeline:lag_ms:max > 60000\n"
                                  "        for: 5m\n"
                                  "        keep_firing_for: 1m\n"
                                  "        labels: {severity: page}\n"
                                  "        annotations: {summary: 'lag is {{ $value }}'}\n"
                                  "  - name: empty\n",
                                  NULL);
    assert_int_equal(rule_set_group_count(rs), 2);
    assert_int_equal(rule_set_rule_count(rs), 2);
    const struct rule_group *g = rule_set_group(rs, 0);
    assert_string_equal(rule_group_name(g), "debezium");
    assert_string_equal(rule_group_file(g), "r.yml");
    assert_int_equal(rule_group_interval_ms(g, 30 * S), 15 * S);
    assert_int_equal(rule_group_interval_ms(rule_set_group(rs, 1), 30 * S), 30 * S);
    assert_int_equal(rule_group_limit(g), 10);
    const struct rule *rec = rule_group_rule(g, 0), *al = rule_group_rule(g, 1);
    assert_int_equal(rule_kind(rec), RULE_RECORDING);
    assert_null(rule_alert(rec));
    assert_string_equal(rule_name(rec), "pipeline:lag_ms:max");
    assert_string_equal(lw_labels_get(rule_labels(rec), "source"), "debezium");
    assert_int_equal(rule_kind(al), RULE_ALERTING);
    assert_int_equal(rule_for_ms(al), 5 * M);
    assert_int_equal(rule_keep_firing_for_ms(al), 1 * M);
    assert_string_equal(rule_expr_text(al), "pipeline:lag_ms:max > 60000");
    char *canon = rule_expr_canonical(rec);
    assert_string_equal(canon, "max by (pipeline) (lag)");
    free(canon);
    assert_string_equal(lw_labels_get(rule_annotations(al), "summary"), "lag is {{ $value }}");
    assert_int_equal(rule_line(al), 9);
    assert_int_equal(rule_health(al), RULE_HEALTH_UNKNOWN);
    assert_int_equal(rule_no_data(al), ALERT_NO_DATA_OK);
    assert_ptr_equal(rule_set_find_group(rs, NULL, "empty"), rule_set_group(rs, 1));
    assert_null(rule_set_find_group(rs, "other.yml", "empty"));
    rule_set_free(rs);
}

static void test_empty_files_have_no_groups(void **state)
{
    (void)state;
    struct rule_set *rs = load_ok("", NULL);
    assert_int_equal(rule_set_group_count(rs), 0);
    rule_set_free(rs);
    rs = load_ok("groups:\n", NULL);
    assert_int_equal(rule_set_group_count(rs), 0);
    rule_set_free(rs);
}

static void test_load_errors_say_where(void **state)
{
    (void)state;
    expect_load_error("group:\n  - name: g\n", 1, 1,
                      "unknown key 'group' (did you mean 'groups'?)");
    expect_load_error("groups:\n  - name: g\n    intervall: 1m\n", 3, 5,
                      "unknown key 'intervall' (did you mean 'interval'?)");
    expect_load_error("groups:\n  - name: g\n    query_offset: 1m\n", 3, 19, "query_offset");
    expect_load_error("groups:\n  - name: g\n  - name: h\n  - name: g\n", 4, 11,
                      "group name 'g' is repeated in the same file (first at line 2)");
    expect_load_error("groups:\n  - interval: 1m\n", 2, 5, "group name must not be empty");
    expect_load_error("groups:\n  - name: g\n    interval: 5x\n", 3, 16, "duration");
    expect_load_error("groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up\n"
                      "        for: 1hh\n",
                      6, 0, "duration");
    expect_load_error("groups:\n  - name: g\n    rules:\n      - expr: up\n", 4, 9,
                      "one of 'record' or 'alert' must be set");
    expect_load_error("groups:\n  - name: g\n    rules:\n      - alert: A\n        record: a\n"
                      "        expr: up\n",
                      5, 17, "only one of 'record' and 'alert' must be set");
    expect_load_error("groups:\n  - name: g\n    rules:\n      - alert: A\n", 4, 9,
                      "field 'expr' must be set");
    expect_load_error("groups:\n  - name: g\n    rules:\n      - record: 'a b'\n        expr: up\n",
                      4, 17, "invalid recording rule name: 'a b'");
    expect_load_error("groups:\n  - name: g\n    rules:\n      - record: a\n        expr: up\n"
                      "        for: 5m\n",
                      6, 14, "invalid field 'for' in recording rule");
    expect_load_error("groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up\n"
                      "        labels: {__name__: x}\n",
                      6, 18, "invalid label name: '__name__'");
    expect_load_error("groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up\n"
                      "        annotations: {2x: y}\n",
                      6, 23, "invalid annotation name: '2x'");
    /* expression errors point inside the expression */
    expect_load_error("groups:\n  - name: g\n    rules:\n      - alert: A\n"
                      "        expr: sum(rate(x[5m]) +\n",
                      5, 32, "expr: unexpected end of input");
    expect_load_error("groups:\n  - name: g\n    rules:\n      - alert: A\n"
                      "        expr: \"up == \" \n",
                      5, 0, "expr:");
    expect_load_error(
        "groups:\n  - name: g\n    rules:\n      - alert: A\n"
        "        expr: |\n          up\n            == 1 +  histogram_quantile(0.9, x)\n",
        7, 21, "unsupported: function: histogram_quantile");
    expect_load_error("groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up[5m]\n",
                      5, 15, "not a range vector");
    expect_load_error("groups:\n  - name: g\n    rules: {}\n", 3, 12, "rules must be a list");
    expect_load_error("groups:\n  - name: g\n    limit: -1\n", 3, 12, "limit must not be negative");
    expect_load_error("- a\n", 1, 1, "a rule file must be a mapping");
}

static void test_quoted_expression_error_column(void **state)
{
    (void)state;
    const char *y = "groups:\n  - name: g\n    rules:\n      - alert: A\n"
                    "        expr: \"up == @\"\n";
    struct rule_set *rs = NULL;
    struct lw_err err = {0};
    assert_int_equal(rule_set_load_buf(y, strlen(y), "r.yml", NULL, &rs, &err), -1);
    assert_int_equal(err.line, 5);
    assert_int_equal(err.col, 22); /* the '@' inside the quotes */
}

static int fail_templates_with_x(void *ud, const char *tmpl, struct lw_err *err)
{
    (void)ud;
    const char *x = strstr(tmpl, "{{ x");
    if (x == NULL)
        return 0;
    return lw_err_set(err, 1, (int)(x - tmpl) + 1, "function \"x\" not defined");
}

static void test_template_errors_via_hook(void **state)
{
    (void)state;
    struct rule_load_options o = {.check_template = fail_templates_with_x};
    const char *y = "groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up\n"
                    "        annotations:\n          summary: 'lag {{ x }}'\n";
    struct rule_set *rs = NULL;
    struct lw_err err = {0};
    assert_int_equal(rule_set_load_buf(y, strlen(y), "r.yml", &o, &rs, &err), -1);
    assert_int_equal(err.line, 7);
    assert_int_equal(err.col, 25); /* the "{{ x" inside the quotes */
    assert_non_null(strstr(err.msg, "annotation 'summary': template: function \"x\" not defined"));
    /* recording rule labels are not templates */
    y = "groups:\n  - name: g\n    rules:\n      - record: a\n        expr: up\n"
        "        labels: {x: '{{ x }}'}\n";
    rs = load_ok(y, &o);
    rule_set_free(rs);
}

static void test_recording_rules_feed_later_rules_in_order(void **state)
{
    (void)state;
    struct rule_set *rs = load_ok("groups:\n"
                                  "  - name: g\n"
                                  "    rules:\n"
                                  "      - record: lag:max\n"
                                  "        expr: max by (pipeline) (lag)\n"
                                  "        labels: {source: rec}\n"
                                  "      - alert: HighLag\n"
                                  "        expr: lag:max > 60\n"
                                  "        for: 1m\n"
                                  "        labels: {severity: page}\n",
                                  NULL);
    struct store *st = new_store();
    for (int64_t t = 0; t <= 3 * M; t += 30 * S)
        put(st, "lag", "orders", t, 100);
    const struct rule *al = rule_group_rule(rule_set_group(rs, 0), 1);
    eval_all(rs, st, 0, 0);
    assert_int_equal(state_of(al), ALERT_PENDING);
    double v = 0;
    assert_int_equal(query_n(st, "lag:max{source=\"rec\",pipeline=\"orders\"}", 0, &v), 1);
    assert_true(v == 100);
    eval_all(rs, st, 30 * S, 0);
    assert_int_equal(state_of(al), ALERT_PENDING);
    eval_all(rs, st, 60 * S, 0);
    assert_int_equal(state_of(al), ALERT_FIRING);
    assert_int_equal(rule_health(al), RULE_HEALTH_OK);
    assert_int_equal(rule_last_eval_ms(al), 60 * S);
    const struct alert *a = alert_rule_at(rule_alert(al), 0);
    assert_string_equal(lw_labels_get(&a->labels, "alertname"), "HighLag");
    assert_string_equal(lw_labels_get(&a->labels, "source"), "rec");
    assert_string_equal(lw_labels_get(&a->labels, "severity"), "page");
    assert_null(lw_labels_get(&a->labels, "__name__"));
    assert_int_equal(
        query_n(st, "ALERTS{alertname=\"HighLag\",alertstate=\"firing\"}", 60 * S, NULL), 1);
    assert_int_equal(query_n(st, "ALERTS_FOR_STATE{alertname=\"HighLag\"}", 60 * S, &v), 1);
    assert_true(v == 0);
    store_free(st);
    rule_set_free(rs);
}

static void test_resolved_alert_series_go_stale_at_once(void **state)
{
    (void)state;
    struct rule_set *rs = load_ok("groups:\n  - name: g\n    rules:\n"
                                  "      - alert: Down\n        expr: up == 0\n",
                                  NULL);
    struct store *st = new_store();
    put(st, "up", "orders", 0, 0);
    put(st, "up", "orders", 30 * S, 1);
    eval_all(rs, st, 0, 0);
    assert_int_equal(query_n(st, "ALERTS", 0, NULL), 1);
    eval_all(rs, st, 30 * S, 0);
    /* without the stale marker the firing series would linger for the 5m lookback */
    assert_int_equal(query_n(st, "ALERTS", 30 * S, NULL), 0);
    assert_int_equal(query_n(st, "ALERTS", 60 * S, NULL), 0);
    store_free(st);
    rule_set_free(rs);
}

static enum alert_no_data keep_state_for_down(void *ud, const char *alert)
{
    (void)ud;
    return strcmp(alert, "Down") == 0 ? ALERT_NO_DATA_KEEP_STATE : ALERT_NO_DATA_OK;
}

static void test_no_data_policy_from_the_lookup(void **state)
{
    (void)state;
    struct rule_load_options o = {.no_data = keep_state_for_down};
    struct rule_set *rs = load_ok("groups:\n  - name: g\n    rules:\n"
                                  "      - alert: Down\n        expr: up == 0\n"
                                  "      - alert: Other\n        expr: up == 0\n",
                                  &o);
    const struct rule *down = rule_group_rule(rule_set_group(rs, 0), 0),
                      *other = rule_group_rule(rule_set_group(rs, 0), 1);
    assert_int_equal(rule_no_data(down), ALERT_NO_DATA_KEEP_STATE);
    struct store *st = new_store();
    put(st, "up", "orders", 0, 0);
    put(st, "up", "orders", 30 * S, store_stale_nan()); /* the series vanished */
    eval_all(rs, st, 0, 0);
    assert_int_equal(state_of(down), ALERT_FIRING);
    assert_int_equal(state_of(other), ALERT_FIRING);
    eval_all(rs, st, 30 * S, 0);
    assert_int_equal(state_of(down), ALERT_FIRING); /* no data: state kept */
    assert_int_equal(state_of(other), ALERT_INACTIVE);
    /* data again, condition false: resolves */
    put(st, "up", "orders", 60 * S, 1);
    eval_all(rs, st, 60 * S, 0);
    assert_int_equal(state_of(down), ALERT_INACTIVE);
    store_free(st);
    rule_set_free(rs);
}

static void test_limit_and_errors_set_health(void **state)
{
    (void)state;
    struct rule_set *rs = load_ok("groups:\n  - name: g\n    limit: 1\n    rules:\n"
                                  "      - alert: Down\n        expr: up == 0\n"
                                  "      - record: r\n        expr: up\n"
                                  "      - record: dup\n        expr: up\n"
                                  "        labels: {pipeline: x}\n",
                                  NULL);
    struct store *st = new_store();
    put(st, "up", "a", 0, 0);
    put(st, "up", "b", 0, 0);
    struct lw_err err = {0};
    struct rule_group *g = rule_set_group(rs, 0);
    assert_int_equal(rule_group_eval(g, st, 0, &err), 3);
    const struct rule *down = rule_group_rule(g, 0), *rec = rule_group_rule(g, 1),
                      *dup = rule_group_rule(g, 2);
    assert_int_equal(rule_health(down), RULE_HEALTH_ERR);
    assert_string_equal(rule_last_error(down), "exceeded limit of 1 with 2 alerts");
    assert_int_equal(alert_rule_count(rule_alert(down)), 0);
    assert_string_equal(rule_last_error(rec), "exceeded limit of 1 with 2 series");
    assert_non_null(strstr(rule_last_error(dup), "same labelset after applying rule labels"));
    assert_int_equal(query_n(st, "ALERTS", 0, NULL), 0);
    assert_int_equal(query_n(st, "r", 0, NULL), 0);
    assert_string_equal(rule_health_str(rule_health(down)), "err");
    store_free(st);
    rule_set_free(rs);
}

static void test_save_restore_and_carry_over(void **state)
{
    (void)state;
    const char *y = "groups:\n  - name: g\n    rules:\n"
                    "      - alert: Down\n        expr: up == 0\n        for: 10m\n"
                    "      - alert: Changed\n        expr: up == 0\n        for: 10m\n";
    struct rule_set *rs = load_ok(y, NULL);
    struct store *st = new_store();
    put(st, "up", "orders", 0, 0);
    put(st, "up", "orders", 4 * M, 0);
    eval_all(rs, st, 0, 0);
    char *saved = rule_set_save(rs);
    assert_non_null(saved);

    struct rule_set *again = load_ok(y, NULL);
    struct lw_err err = {0};
    assert_int_equal(rule_set_restore(again, saved, strlen(saved), &err), 0);
    const struct rule *down = rule_group_rule(rule_set_group(again, 0), 0);
    assert_int_equal(state_of(down), ALERT_PENDING);
    assert_int_equal(alert_rule_at(rule_alert(down), 0)->active_at_ms, 0);
    assert_int_equal(rule_set_restore(again, "{\"version\":9,\"rules\":[]}", 24, &err), -1);
    assert_int_equal(rule_set_restore(again, "{", 1, &err), -1);

    /* reload: the unchanged rule keeps its state, the changed one starts over */
    const char *y2 = "groups:\n  - name: g\n    rules:\n"
                     "      - alert: Down\n        expr: up == 0\n        for: 10m\n"
                     "      - alert: Changed\n        expr: up != 1\n        for: 10m\n";
    struct rule_set *fresh = load_ok(y2, NULL);
    assert_int_equal(rule_set_carry_over(fresh, rs, &err), 0);
    assert_int_equal(state_of(rule_group_rule(rule_set_group(fresh, 0), 0)), ALERT_PENDING);
    assert_int_equal(state_of(rule_group_rule(rule_set_group(fresh, 0), 1)), ALERT_INACTIVE);
    /* the carried-over rule remembers its ALERTS series, so they go stale when it resolves */
    put(st, "up", "orders", 5 * M, 1);
    eval_all(fresh, st, 5 * M, 0);
    assert_int_equal(query_n(st, "ALERTS", 5 * M, NULL), 0);
    free(saved);
    store_free(st);
    rule_set_free(rs);
    rule_set_free(again);
    rule_set_free(fresh);
}

static void test_valid_names(void **state)
{
    (void)state;
    assert_true(rule_valid_metric_name("job:up:sum"));
    assert_false(rule_valid_metric_name("1x"));
    assert_false(rule_valid_metric_name(""));
    assert_true(rule_valid_label_name("_a1"));
    assert_false(rule_valid_label_name("a:b"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loads_groups_rules_and_their_fields),
        cmocka_unit_test(test_empty_files_have_no_groups),
        cmocka_unit_test(test_load_errors_say_where),
        cmocka_unit_test(test_quoted_expression_error_column),
        cmocka_unit_test(test_template_errors_via_hook),
        cmocka_unit_test(test_recording_rules_feed_later_rules_in_order),
        cmocka_unit_test(test_resolved_alert_series_go_stale_at_once),
        cmocka_unit_test(test_no_data_policy_from_the_lookup),
        cmocka_unit_test(test_limit_and_errors_set_health),
        cmocka_unit_test(test_save_restore_and_carry_over),
        cmocka_unit_test(test_valid_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
