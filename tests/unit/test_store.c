/* test_store.c — the sample store: Prometheus's append rules (out of order, duplicates), stale
 * markers as bit patterns, left-open ranges, retention, the series limit, selection by matchers
 * and memory accounting. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lagwatch/store.h"

static struct store *new_store(int64_t retention_ms, size_t max_series)
{
    struct store_options o = {.retention_ms = retention_ms, .max_series = max_series};
    struct store *s = store_new(&o);
    assert_non_null(s);
    return s;
}

/* A label set from "name", "value", ... pairs ended by NULL. */
static void mk(struct lw_labels *ls, ...)
{
    lw_labels_init(ls);
    va_list ap;
    va_start(ap, ls);
    for (;;) {
        const char *n = va_arg(ap, const char *);
        if (n == NULL)
            break;
        const char *v = va_arg(ap, const char *);
        assert_int_equal(lw_labels_set(ls, n, v), 0);
    }
    va_end(ap);
}

static int append(struct store *s, const struct lw_labels *ls, int64_t t, double v)
{
    struct lw_err err = {0};
    return store_append(s, ls, t, v, &err);
}

static const struct store_series *only_series(struct store *s, const char *name)
{
    struct lw_matcher m;
    struct lw_err err = {0};
    assert_int_equal(lw_matcher_init(&m, LW_MATCH_EQ, "__name__", name, &err), 0);
    const struct store_series **v = NULL;
    size_t n = 0;
    assert_int_equal(store_select(s, &m, 1, &v, &n, &err), 0);
    lw_matcher_cleanup(&m);
    assert_int_equal(n, 1);
    const struct store_series *ser = v[0];
    free((void *)v);
    return ser;
}

static void test_stale_marker_is_the_exact_bit_pattern(void **state)
{
    (void)state;
    double st = store_stale_nan();
    uint64_t bits;
    memcpy(&bits, &st, sizeof bits);
    assert_true(bits == 0x7ff0000000000002ULL);
    assert_true(isnan(st));
    assert_true(store_is_stale_nan(st));
    assert_false(store_is_stale_nan(NAN));
    assert_false(store_is_stale_nan(0.0));
    assert_false(store_is_stale_nan(INFINITY));
}

static void test_new_refuses_non_positive_retention(void **state)
{
    (void)state;
    struct store_options o = {.retention_ms = 0};
    assert_null(store_new(&o));
    o.retention_ms = -5;
    assert_null(store_new(&o));
    assert_null(store_new(NULL));
    store_free(NULL);
}

static void test_append_keeps_samples_in_time_order(void **state)
{
    (void)state;
    struct store *s = new_store(3600000, 0);
    struct lw_labels ls;
    mk(&ls, "__name__", "up", "job", "jmx", NULL);
    for (int i = 0; i < 100; i++)
        assert_int_equal(append(s, &ls, 1000 * i, i), 0);
    const struct store_series *ser = only_series(s, "up");
    const struct store_sample *smp;
    size_t n = store_series_range(ser, -1, 99000, &smp);
    assert_int_equal(n, 100);
    for (size_t i = 0; i < n; i++) {
        assert_true(smp[i].t_ms == (int64_t)(1000 * i));
        assert_true(smp[i].v == (double)i);
    }
    assert_true(store_series_last(ser)->t_ms == 99000);
    assert_int_equal(store_series_count(s), 1);
    assert_int_equal(store_sample_count(s), 100);
    lw_labels_cleanup(&ls);
    store_free(s);
}

static void test_older_sample_is_refused_as_out_of_order(void **state)
{
    (void)state;
    struct store *s = new_store(3600000, 0);
    struct lw_labels ls;
    mk(&ls, "__name__", "x", NULL);
    assert_int_equal(append(s, &ls, 2000, 1), 0);
    struct lw_err err = {0};
    assert_int_equal(store_append(s, &ls, 1000, 5, &err), STORE_ERR_OUT_OF_ORDER);
    assert_non_null(strstr(err.msg, "out of order"));
    const struct store_sample *smp;
    assert_int_equal(store_series_range(only_series(s, "x"), 0, 10000, &smp), 1);
    assert_true(smp[0].v == 1);
    lw_labels_cleanup(&ls);
    store_free(s);
}

static void test_same_timestamp_same_value_is_ignored(void **state)
{
    (void)state;
    /* CloudWatch re-publishing a minute with the same datapoint must not be an error. */
    struct store *s = new_store(3600000, 0);
    struct lw_labels ls;
    mk(&ls, "__name__", "x", NULL);
    assert_int_equal(append(s, &ls, 60000, 7.5), 0);
    assert_int_equal(append(s, &ls, 60000, 7.5), 0);
    assert_int_equal(store_sample_count(s), 1);
    lw_labels_cleanup(&ls);
    store_free(s);
}

static void test_same_timestamp_other_value_is_a_duplicate_error(void **state)
{
    (void)state;
    struct store *s = new_store(3600000, 0);
    struct lw_labels ls;
    mk(&ls, "__name__", "x", NULL);
    assert_int_equal(append(s, &ls, 60000, 7.5), 0);
    struct lw_err err = {0};
    assert_int_equal(store_append(s, &ls, 60000, 8, &err), STORE_ERR_DUPLICATE);
    assert_non_null(strstr(err.msg, "duplicate"));
    /* A stale marker is a different value from a real one at the same timestamp, and an ordinary
     * NaN differs from a stale marker: values are compared by bits, as the TSDB does. */
    assert_int_equal(append(s, &ls, 60000, store_stale_nan()), STORE_ERR_DUPLICATE);
    assert_int_equal(append(s, &ls, 61000, NAN), 0);
    assert_int_equal(append(s, &ls, 61000, NAN), 0);
    assert_int_equal(append(s, &ls, 61000, store_stale_nan()), STORE_ERR_DUPLICATE);
    const struct store_sample *smp;
    assert_int_equal(store_series_range(only_series(s, "x"), 0, 100000, &smp), 2);
    assert_true(smp[0].v == 7.5);
    assert_true(isnan(smp[1].v) && !store_is_stale_nan(smp[1].v));
    lw_labels_cleanup(&ls);
    store_free(s);
}

static void test_range_is_left_open_and_right_closed(void **state)
{
    (void)state;
    struct store *s = new_store(3600000, 0);
    struct lw_labels ls;
    mk(&ls, "__name__", "x", NULL);
    for (int i = 0; i <= 10; i++)
        assert_int_equal(append(s, &ls, 10000 * i, i), 0);
    const struct store_series *ser = only_series(s, "x");
    const struct store_sample *smp;
    /* (30s, 60s]: 40, 50, 60 — the sample at 30s is outside, as in Prometheus 3. */
    size_t n = store_series_range(ser, 30000, 60000, &smp);
    assert_int_equal(n, 3);
    assert_true(smp[0].t_ms == 40000 && smp[2].t_ms == 60000);
    assert_int_equal(store_series_range(ser, 29999, 30000, &smp), 1);
    assert_int_equal(store_series_range(ser, 30000, 39999, &smp), 0);
    assert_null(smp);
    assert_int_equal(store_series_range(ser, 100000, 200000, &smp), 0);
    assert_int_equal(store_series_range(ser, -200000, -1, &smp), 0);
    assert_int_equal(store_series_range(ser, 50000, 50000, &smp), 0);
    lw_labels_cleanup(&ls);
    store_free(s);
}

static void test_stale_markers_are_kept_as_samples(void **state)
{
    (void)state;
    struct store *s = new_store(3600000, 0);
    struct lw_labels ls;
    mk(&ls, "__name__", "debezium_metrics_MilliSecondsBehindSource", "name", "orders", NULL);
    assert_int_equal(append(s, &ls, 15000, 120), 0);
    assert_int_equal(append(s, &ls, 30000, store_stale_nan()), 0);
    /* The task restarts: the series comes back with -1. */
    assert_int_equal(append(s, &ls, 45000, -1), 0);
    const struct store_sample *smp;
    size_t n = store_series_range(only_series(s, "debezium_metrics_MilliSecondsBehindSource"), 0,
                                  45000, &smp);
    assert_int_equal(n, 3);
    assert_true(store_is_stale_nan(smp[1].v));
    assert_true(smp[2].v == -1);
    lw_labels_cleanup(&ls);
    store_free(s);
}

static void test_gc_drops_samples_older_than_retention(void **state)
{
    (void)state;
    struct store *s = new_store(60000, 0);
    struct lw_labels ls;
    mk(&ls, "__name__", "x", NULL);
    for (int i = 0; i < 20; i++)
        assert_int_equal(append(s, &ls, 10000 * i, i), 0);
    store_gc(s, 190000); /* keep t >= 130000 */
    const struct store_sample *smp;
    const struct store_series *ser = only_series(s, "x");
    size_t n = store_series_range(ser, INT64_MIN, INT64_MAX, &smp);
    assert_int_equal(n, 7);
    assert_true(smp[0].t_ms == 130000);
    assert_true(smp[6].t_ms == 190000);
    /* Appends after gc keep order and contiguity across the slide to the front. */
    for (int i = 20; i < 60; i++) {
        assert_int_equal(append(s, &ls, 10000 * i, i), 0);
        store_gc(s, 10000 * i);
        n = store_series_range(only_series(s, "x"), INT64_MIN, INT64_MAX, &smp);
        assert_int_equal(n, 7);
        for (size_t k = 0; k < n; k++)
            assert_true(smp[k].t_ms == 10000 * (i - 6 + (int64_t)k));
    }
    lw_labels_cleanup(&ls);
    store_free(s);
}

static void test_gc_drops_series_left_empty(void **state)
{
    (void)state;
    struct store *s = new_store(60000, 0);
    struct lw_labels a, b;
    mk(&a, "__name__", "x", "i", "1", NULL);
    mk(&b, "__name__", "x", "i", "2", NULL);
    assert_int_equal(append(s, &a, 0, 1), 0);
    assert_int_equal(append(s, &b, 100000, 1), 0);
    assert_int_equal(store_series_count(s), 2);
    size_t before = store_bytes(s);
    store_gc(s, 120000);
    assert_int_equal(store_series_count(s), 1);
    assert_true(store_bytes(s) < before);
    assert_string_equal(lw_labels_get(store_series_labels(only_series(s, "x")), "i"), "2");
    store_gc(s, 1000000);
    assert_int_equal(store_series_count(s), 0);
    /* The series can come back after being dropped. */
    assert_int_equal(append(s, &a, 2000000, 1), 0);
    assert_int_equal(store_series_count(s), 1);
    lw_labels_cleanup(&a);
    lw_labels_cleanup(&b);
    store_free(s);
}

static void test_gc_near_the_smallest_time_does_not_overflow(void **state)
{
    (void)state;
    struct store *s = new_store(INT64_MAX, 0);
    struct lw_labels ls;
    mk(&ls, "__name__", "x", NULL);
    assert_int_equal(append(s, &ls, INT64_MIN + 5, 1), 0);
    store_gc(s, INT64_MIN + 10);
    store_gc(s, 0);
    assert_int_equal(store_sample_count(s), 1);
    lw_labels_cleanup(&ls);
    store_free(s);
}

static void test_series_limit_refuses_new_series_only(void **state)
{
    (void)state;
    struct store *s = new_store(3600000, 2);
    struct lw_labels a, b, c;
    mk(&a, "__name__", "x", "i", "1", NULL);
    mk(&b, "__name__", "x", "i", "2", NULL);
    mk(&c, "__name__", "x", "i", "3", NULL);
    assert_int_equal(append(s, &a, 1000, 1), 0);
    assert_int_equal(append(s, &b, 1000, 1), 0);
    struct lw_err err = {0};
    assert_int_equal(store_append(s, &c, 1000, 1, &err), STORE_ERR_SERIES_LIMIT);
    assert_non_null(strstr(err.msg, "series limit"));
    /* Existing series still take samples. */
    assert_int_equal(append(s, &a, 2000, 2), 0);
    assert_int_equal(store_series_count(s), 2);
    lw_labels_cleanup(&a);
    lw_labels_cleanup(&b);
    lw_labels_cleanup(&c);
    store_free(s);
}

static void test_empty_label_set_is_refused(void **state)
{
    (void)state;
    struct store *s = new_store(3600000, 0);
    struct lw_labels ls;
    lw_labels_init(&ls);
    assert_int_equal(append(s, &ls, 1000, 1), STORE_ERR_BAD_LABELS);
    assert_int_equal(store_series_count(s), 0);
    store_free(s);
}

static void test_append_copies_the_labels(void **state)
{
    (void)state;
    struct store *s = new_store(3600000, 0);
    struct lw_labels ls;
    mk(&ls, "__name__", "x", "job", "a", NULL);
    assert_int_equal(append(s, &ls, 1000, 1), 0);
    assert_int_equal(lw_labels_set(&ls, "job", "changed"), 0);
    const struct lw_labels *held = store_series_labels(only_series(s, "x"));
    assert_string_equal(lw_labels_get(held, "job"), "a");
    assert_string_equal(lw_labels_get(held, "__name__"), "x");
    lw_labels_cleanup(&ls);
    store_free(s);
}

static size_t select_count(struct store *s, const struct lw_matcher *ms, size_t n)
{
    const struct store_series **v = NULL;
    size_t nv = 99;
    struct lw_err err = {0};
    assert_int_equal(store_select(s, ms, n, &v, &nv, &err), 0);
    for (size_t i = 0; i < nv; i++)
        assert_true(lw_matchers_match(ms, n, store_series_labels(v[i])));
    free((void *)v);
    return nv;
}

static void test_select_applies_every_matcher(void **state)
{
    (void)state;
    struct store *s = new_store(3600000, 0);
    char name[32], ctx[32];
    for (int i = 0; i < 300; i++) {
        struct lw_labels ls;
        snprintf(name, sizeof name, "m%d", i % 3);
        snprintf(ctx, sizeof ctx, "%s", i % 2 ? "streaming" : "snapshot");
        char idx[16];
        snprintf(idx, sizeof idx, "%d", i);
        mk(&ls, "__name__", name, "context", ctx, "i", idx, NULL);
        assert_int_equal(append(s, &ls, 1000, i), 0);
        lw_labels_cleanup(&ls);
    }
    struct lw_labels nameless;
    mk(&nameless, "job", "x", NULL);
    assert_int_equal(append(s, &nameless, 1000, 1), 0);
    lw_labels_cleanup(&nameless);

    struct lw_err err = {0};
    struct lw_matcher m[3];
    assert_int_equal(lw_matcher_init(&m[0], LW_MATCH_EQ, "__name__", "m1", &err), 0);
    assert_int_equal(lw_matcher_init(&m[1], LW_MATCH_EQ, "context", "streaming", &err), 0);
    assert_int_equal(lw_matcher_init(&m[2], LW_MATCH_RE, "i", "1.*", &err), 0);
    assert_int_equal(select_count(s, m, 1), 100);
    assert_int_equal(select_count(s, m, 2), 50);
    assert_int_equal(select_count(s, &m[1], 1), 150);
    /* Without a __name__ equality every series is examined, the nameless one too. */
    assert_int_equal(select_count(s, NULL, 0), 301);
    size_t n_re = select_count(s, &m[2], 1);
    assert_int_equal(n_re, 1 + 10 + 100); /* 1, 10-19, 100-199 */
    lw_matcher_cleanup(&m[0]);
    assert_int_equal(lw_matcher_init(&m[0], LW_MATCH_EQ, "__name__", "nope", &err), 0);
    assert_int_equal(select_count(s, m, 1), 0);
    lw_matcher_cleanup(&m[0]);
    assert_int_equal(lw_matcher_init(&m[0], LW_MATCH_NE, "__name__", "m0", &err), 0);
    assert_int_equal(select_count(s, m, 1), 201);
    lw_matcher_cleanup(&m[0]);
    /* __name__="" selects series without a name, as an absent label equals "". */
    assert_int_equal(lw_matcher_init(&m[0], LW_MATCH_EQ, "__name__", "", &err), 0);
    assert_int_equal(select_count(s, m, 1), 1);
    for (int i = 0; i < 3; i++)
        lw_matcher_cleanup(&m[i]);
    store_free(s);
}

static void test_select_after_gc_removes_from_the_name_index(void **state)
{
    (void)state;
    struct store *s = new_store(10000, 0);
    char idx[16];
    for (int i = 0; i < 50; i++) {
        struct lw_labels ls;
        snprintf(idx, sizeof idx, "%d", i);
        mk(&ls, "__name__", "x", "i", idx, NULL);
        /* Even series get an old sample only, odd series a fresh one. */
        assert_int_equal(append(s, &ls, i % 2 ? 100000 : 1000, 1), 0);
        lw_labels_cleanup(&ls);
    }
    store_gc(s, 100000);
    struct lw_err err = {0};
    struct lw_matcher m;
    assert_int_equal(lw_matcher_init(&m, LW_MATCH_EQ, "__name__", "x", &err), 0);
    const struct store_series **v = NULL;
    size_t n = 0;
    assert_int_equal(store_select(s, &m, 1, &v, &n, &err), 0);
    assert_int_equal(n, 25);
    for (size_t i = 0; i < n; i++) {
        const char *iv = lw_labels_get(store_series_labels(v[i]), "i");
        assert_true((iv[strlen(iv) - 1] - '0') % 2 == 1);
    }
    free((void *)v);
    lw_matcher_cleanup(&m);
    store_free(s);
}

static void test_many_series_survive_rehashing(void **state)
{
    (void)state;
    struct store *s = new_store(3600000, 0);
    char idx[16];
    for (int i = 0; i < 5000; i++) {
        struct lw_labels ls;
        snprintf(idx, sizeof idx, "%d", i);
        mk(&ls, "__name__", i % 2 ? "a" : "b", "i", idx, NULL);
        assert_int_equal(append(s, &ls, 1000, i), 0);
        assert_int_equal(append(s, &ls, 2000, i), 0);
        lw_labels_cleanup(&ls);
    }
    assert_int_equal(store_series_count(s), 5000);
    assert_int_equal(store_sample_count(s), 10000);
    for (int i = 0; i < 5000; i += 7) {
        struct lw_labels ls;
        snprintf(idx, sizeof idx, "%d", i);
        mk(&ls, "__name__", i % 2 ? "a" : "b", "i", idx, NULL);
        /* The same series is found again: a third sample, no new series. */
        assert_int_equal(append(s, &ls, 3000, i), 0);
        lw_labels_cleanup(&ls);
    }
    assert_int_equal(store_series_count(s), 5000);
    store_clear(s);
    assert_int_equal(store_series_count(s), 0);
    assert_int_equal(store_sample_count(s), 0);
    store_free(s);
}

static void test_bytes_grow_with_samples_and_series(void **state)
{
    (void)state;
    struct store *s = new_store(3600000, 0);
    size_t empty = store_bytes(s);
    assert_true(empty > 0);
    struct lw_labels ls;
    mk(&ls, "__name__", "x", "job", "jmx", NULL);
    assert_int_equal(append(s, &ls, 1000, 1), 0);
    size_t one = store_bytes(s);
    assert_true(one >= empty + 16 + sizeof(struct store_sample));
    for (int i = 2; i < 1000; i++)
        assert_int_equal(append(s, &ls, 1000 * i, i), 0);
    size_t many = store_bytes(s);
    /* Bytes per sample stays near the 16 a sample takes (doubling leaves at most 2x). */
    assert_true(many - one >= 998 * sizeof(struct store_sample));
    assert_true(many - one <= 2 * 1000 * sizeof(struct store_sample));
    store_gc(s, 1000000 + 3600000 - 10000); /* keeps the last 10 samples */
    assert_int_equal(store_sample_count(s), 10);
    assert_true(store_bytes(s) < many);
    lw_labels_cleanup(&ls);
    store_free(s);
}

static void test_set_retention_applies_at_the_next_gc(void **state)
{
    (void)state;
    struct store *s = new_store(60000, 0);
    struct lw_labels ls;
    mk(&ls, "__name__", "m", NULL);
    for (int64_t t = 10000; t <= 100000; t += 10000)
        assert_int_equal(append(s, &ls, t, 1), 0);
    assert_int_equal(store_set_retention(s, 0), -1); /* refused, unchanged */
    assert_int_equal(store_retention_ms(s), 60000);
    assert_int_equal(store_set_retention(s, 30000), 0);
    assert_int_equal(store_retention_ms(s), 30000);
    assert_int_equal(store_sample_count(s), 10);
    store_gc(s, 100000); /* keeps t >= 70000 */
    assert_int_equal(store_sample_count(s), 4);
    lw_labels_cleanup(&ls);
    store_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stale_marker_is_the_exact_bit_pattern),
        cmocka_unit_test(test_new_refuses_non_positive_retention),
        cmocka_unit_test(test_set_retention_applies_at_the_next_gc),
        cmocka_unit_test(test_append_keeps_samples_in_time_order),
        cmocka_unit_test(test_older_sample_is_refused_as_out_of_order),
        cmocka_unit_test(test_same_timestamp_same_value_is_ignored),
        cmocka_unit_test(test_same_timestamp_other_value_is_a_duplicate_error),
        cmocka_unit_test(test_range_is_left_open_and_right_closed),
        cmocka_unit_test(test_stale_markers_are_kept_as_samples),
        cmocka_unit_test(test_gc_drops_samples_older_than_retention),
        cmocka_unit_test(test_gc_drops_series_left_empty),
        cmocka_unit_test(test_gc_near_the_smallest_time_does_not_overflow),
        cmocka_unit_test(test_series_limit_refuses_new_series_only),
        cmocka_unit_test(test_empty_label_set_is_refused),
        cmocka_unit_test(test_append_copies_the_labels),
        cmocka_unit_test(test_select_applies_every_matcher),
        cmocka_unit_test(test_select_after_gc_removes_from_the_name_index),
        cmocka_unit_test(test_many_series_survive_rehashing),
        cmocka_unit_test(test_bytes_grow_with_samples_and_series),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
