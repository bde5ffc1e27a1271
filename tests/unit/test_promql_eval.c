/* test_promql_eval.c — PromQL evaluation against the sample store: lookback and staleness,
 * left-open ranges, rate extrapolation, vector matching and its errors, delayed __name__
 * removal, absent(), label_replace(), range queries. Prometheus's own scripts (promql-test)
 * cover the breadth; these pin the behaviours rules depend on most. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "lagwatch/promql.h"
#include "lagwatch/store.h"

#define MIN_MS 60000

static struct store *st;

static int setup(void **state)
{
    (void)state;
    struct store_options o = {.retention_ms = INT64_MAX / 4};
    st = store_new(&o);
    return st ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    store_free(st);
    return 0;
}

/* Append v at t to the series "name{k=v,...}" given as name then label pairs, NULL-ended. */
static void add(int64_t t, double v, const char *name, ...)
{
    struct lw_labels ls;
    lw_labels_init(&ls);
    assert_int_equal(lw_labels_set(&ls, "__name__", name), 0);
    va_list ap;
    va_start(ap, name);
    const char *k;
    while ((k = va_arg(ap, const char *)) != NULL)
        assert_int_equal(lw_labels_set(&ls, k, va_arg(ap, const char *)), 0);
    va_end(ap);
    struct lw_err err = {0};
    assert_int_equal(store_append(st, &ls, t, v, &err), 0);
    lw_labels_cleanup(&ls);
}

static int eval_at(const char *q, int64_t t, struct promql_value *v, struct lw_err *err)
{
    struct promql_expr *e;
    if (promql_parse(q, strlen(q), &e, err) != 0)
        fail_msg("parse %s: %s", q, err->msg);
    int rc = promql_eval_instant(e, st, t, NULL, v, err);
    promql_expr_free(e);
    return rc;
}

/* Evaluate q at t expecting a vector; returns it formatted "labels=value;..." in result order. */
static const char *vec(const char *q, int64_t t)
{
    static char out[4096];
    struct promql_value v;
    struct lw_err err = {0};
    if (eval_at(q, t, &v, &err) != 0)
        fail_msg("eval %s: %s", q, err.msg);
    assert_int_equal(v.type, PROMQL_VECTOR);
    struct lw_buf b;
    lw_buf_init(&b, sizeof out - 1);
    for (size_t i = 0; i < v.n_vec; i++) {
        lw_labels_format(&v.vec[i].labels, &b);
        lw_buf_addf(&b, "=%g;", v.vec[i].v);
    }
    snprintf(out, sizeof out, "%s", lw_buf_str(&b));
    lw_buf_cleanup(&b);
    promql_value_cleanup(&v);
    return out;
}

static const char *eval_error(const char *q, int64_t t)
{
    static struct lw_err err;
    struct promql_value v;
    memset(&err, 0, sizeof err);
    if (eval_at(q, t, &v, &err) == 0) {
        promql_value_cleanup(&v);
        fail_msg("eval %s succeeded", q);
    }
    return err.msg;
}

static void test_lookback_is_five_minutes_and_left_open(void **state)
{
    (void)state;
    add(0, 1, "lb", NULL);
    assert_string_equal(vec("lb", 0), "{__name__=\"lb\"}=1;");
    assert_string_equal(vec("lb", 5 * MIN_MS - 1), "{__name__=\"lb\"}=1;");
    assert_string_equal(vec("lb", 5 * MIN_MS), ""); /* (t-5m, t] excludes the sample at t-5m */
}

static void test_stale_marker_ends_a_series(void **state)
{
    (void)state;
    add(0, 1, "stale_m", NULL);
    add(MIN_MS, store_stale_nan(), "stale_m", NULL);
    assert_string_equal(vec("stale_m", 30000), "{__name__=\"stale_m\"}=1;");
    assert_string_equal(vec("stale_m", MIN_MS), "");
    assert_string_equal(vec("count_over_time(stale_m[5m])", 2 * MIN_MS), "{}=1;");
}

static void test_rate_extrapolates_as_prometheus(void **state)
{
    (void)state;
    for (int i = 0; i <= 10; i++)
        add(i * MIN_MS, i * 60.0, "ctr_total", "job", "a", NULL);
    /* 1/s, samples cover the whole left-open 5m window up to its edge. */
    assert_string_equal(vec("rate(ctr_total[5m])", 10 * MIN_MS), "{job=\"a\"}=1;");
    assert_string_equal(vec("increase(ctr_total[5m])", 10 * MIN_MS), "{job=\"a\"}=300;");
    assert_string_equal(vec("irate(ctr_total[5m])", 10 * MIN_MS), "{job=\"a\"}=1;");
    assert_string_equal(vec("deriv(ctr_total[5m])", 10 * MIN_MS), "{job=\"a\"}=1;");
    assert_string_equal(vec("predict_linear(ctr_total[5m], 60)", 10 * MIN_MS), "{job=\"a\"}=660;");
}

static void test_vector_matching_and_many_to_many_error(void **state)
{
    (void)state;
    add(0, 10, "lag", "pipeline", "p1", "src", "aurora", NULL);
    add(0, 5, "lag2", "pipeline", "p1", "src", "debezium", NULL);
    add(0, 7, "lag2", "pipeline", "p1", "src", "kafka", NULL);
    assert_string_equal(
        vec("lag + on(pipeline) group_right lag2", 0),
        "{pipeline=\"p1\", src=\"debezium\"}=15;{pipeline=\"p1\", src=\"kafka\"}=17;");
    assert_string_equal(eval_error("lag + on(pipeline) lag2", 0),
                        "found duplicate series for the match group {pipeline=\"p1\"} on the right "
                        "hand-side of the operation: [{__name__=\"lag2\", pipeline=\"p1\", "
                        "src=\"debezium\"}, {__name__=\"lag2\", pipeline=\"p1\", src=\"kafka\"}];"
                        "many-to-many matching not allowed: matching labels must be unique on one "
                        "side");
    assert_string_equal(
        vec("lag2 > bool 6", 0),
        "{pipeline=\"p1\", src=\"debezium\"}=0;{pipeline=\"p1\", src=\"kafka\"}=1;");
    assert_string_equal(vec("lag2 > 6", 0),
                        "{__name__=\"lag2\", pipeline=\"p1\", src=\"kafka\"}=7;");
}

static void test_name_removal_is_delayed_until_the_end(void **state)
{
    (void)state;
    add(0, 1, "nm_a", "env", "x", NULL);
    assert_string_equal(vec("label_replace(-nm_a, \"n\", \"$1\", \"__name__\", \"(.*)\")", 0),
                        "{env=\"x\", n=\"nm_a\"}=-1;");
    assert_string_equal(
        vec("label_replace(-nm_a, \"__name__\", \"neg_$1\", \"__name__\", \"(.*)\")", 0),
        "{__name__=\"neg_nm_a\", env=\"x\"}=-1;");
    add(0, 2, "nm_b", "env", "x", NULL);
    assert_string_equal(eval_error("abs({__name__=~\"nm_a|nm_b\"})", 0),
                        "vector cannot contain metrics with the same labelset");
}

static void test_absent_takes_labels_from_equality_matchers(void **state)
{
    (void)state;
    assert_string_equal(vec("absent(nope{job=\"j\", inst=~\"x\"})", 0), "{job=\"j\"}=1;");
    assert_string_equal(vec("absent_over_time(nope{job=\"j\"}[5m])", 0), "{job=\"j\"}=1;");
    add(0, 1, "yes", NULL);
    assert_string_equal(vec("absent(yes)", 0), "");
}

static void test_aggregations_and_sort(void **state)
{
    (void)state;
    add(0, 1, "ag", "g", "a", "i", "1", NULL);
    add(0, 3, "ag", "g", "a", "i", "2", NULL);
    add(0, NAN, "ag", "g", "b", "i", "3", NULL);
    assert_string_equal(vec("sum by (g) (ag)", 0), "{g=\"a\"}=4;{g=\"b\"}=nan;");
    assert_string_equal(vec("max without (i) (ag)", 0), "{g=\"a\"}=3;{g=\"b\"}=nan;");
    assert_string_equal(vec("topk(1, ag)", 0), "{__name__=\"ag\", g=\"a\", i=\"2\"}=3;");
    assert_string_equal(vec("quantile(0.5, ag{g=\"a\"})", 0), "{}=2;");
    assert_string_equal(
        vec("sort_desc(ag)", 0),
        "{__name__=\"ag\", g=\"a\", i=\"2\"}=3;{__name__=\"ag\", g=\"a\", i=\"1\"}=1;"
        "{__name__=\"ag\", g=\"b\", i=\"3\"}=nan;");
}

static void test_range_query_joins_steps_into_series(void **state)
{
    (void)state;
    add(0, 1, "rq", NULL);
    add(MIN_MS, 2, "rq", NULL);
    struct promql_expr *e;
    struct lw_err err = {0};
    const char *q = "rq * 2";
    assert_int_equal(promql_parse(q, strlen(q), &e, &err), 0);
    struct promql_value v;
    assert_int_equal(promql_eval_range(e, st, 0, 10 * MIN_MS, MIN_MS, NULL, &v, &err), 0);
    assert_int_equal(v.type, PROMQL_MATRIX);
    assert_int_equal(v.n_mat, 1);
    assert_int_equal(v.mat[0].labels.n, 0);
    assert_int_equal(v.mat[0].n, 6); /* 0..5m; the sample at 1m is outside the lookback at 6m */
    assert_true(v.mat[0].samples[0].v == 2 && v.mat[0].samples[5].v == 4);
    promql_value_cleanup(&v);
    promql_expr_free(e);
}

static void test_scalar_and_string_results(void **state)
{
    (void)state;
    struct promql_value v;
    struct lw_err err = {0};
    assert_int_equal(eval_at("time() + 1", 120000, &v, &err), 0);
    assert_int_equal(v.type, PROMQL_SCALAR);
    assert_true(v.scalar == 121);
    promql_value_cleanup(&v);
    assert_int_equal(eval_at("\"hello\"", 0, &v, &err), 0);
    assert_int_equal(v.type, PROMQL_STRING);
    assert_string_equal(v.string, "hello");
    promql_value_cleanup(&v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_lookback_is_five_minutes_and_left_open, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_stale_marker_ends_a_series, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rate_extrapolates_as_prometheus, setup, teardown),
        cmocka_unit_test_setup_teardown(test_vector_matching_and_many_to_many_error, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_name_removal_is_delayed_until_the_end, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_absent_takes_labels_from_equality_matchers, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_aggregations_and_sort, setup, teardown),
        cmocka_unit_test_setup_teardown(test_range_query_joins_steps_into_series, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scalar_and_string_results, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
