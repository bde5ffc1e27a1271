/* test_source_store.c — sources feeding the real sample store through the staleness-tracking
 * sink: a series that vanishes from a successful scrape, or every series of a failed one, gets a
 * stale marker at that scrape's time; up stays a plain value; repeats are refused, not fatal. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lagwatch/source_exporter.h"
#include "lagwatch/source_store.h"
#include "lagwatch/store.h"

static const char *both =
    "debezium_metrics_MilliSecondsBehindSource{context=\"streaming\",name=\"orders\",plugin="
    "\"mysql\",} 1500.0\n"
    "debezium_metrics_MilliSecondsBehindSource{context=\"streaming\",name=\"billing\",plugin="
    "\"mysql\",} 250.0\n";
static const char *billing_only =
    "debezium_metrics_MilliSecondsBehindSource{context=\"streaming\",name=\"billing\",plugin="
    "\"mysql\",} 260.0\n";
static const char *orders_back =
    "debezium_metrics_MilliSecondsBehindSource{context=\"streaming\",name=\"orders\",plugin="
    "\"mysql\",} -1.0\n"
    "debezium_metrics_MilliSecondsBehindSource{context=\"streaming\",name=\"billing\",plugin="
    "\"mysql\",} 270.0\n";

/* The newest sample of the one series matching name=pipeline for metric. */
static const struct store_sample *last_of(struct store *st, const char *metric,
                                          const char *pipeline)
{
    struct lw_matcher m[2];
    struct lw_err err;
    assert_int_equal(lw_matcher_init(&m[0], LW_MATCH_EQ, "__name__", metric, &err), 0);
    assert_int_equal(lw_matcher_init(&m[1], LW_MATCH_EQ, "pipeline", pipeline, &err), 0);
    const struct store_series **ser = NULL;
    size_t n = 0;
    assert_int_equal(store_select(st, m, 2, &ser, &n, &err), 0);
    lw_matcher_cleanup(&m[0]);
    lw_matcher_cleanup(&m[1]);
    assert_int_equal(n, 1);
    const struct store_sample *s = store_series_last(ser[0]);
    free(ser);
    return s;
}

static void scrape(struct source_exporter_target *t, struct source_sink *sink, int status,
                   const char *page, int64_t now)
{
    struct source_exporter_response r = {status, NULL, NULL, page, strlen(page), 0.01};
    struct lw_err err;
    int rc = source_exporter_process(t, &r, now, sink, &err);
    assert_int_equal(rc, status == 200 ? 0 : -1);
}

static void test_vanished_and_failed_series_get_stale_markers(void **state)
{
    (void)state;
    struct store_options o = {3600 * 1000, 0};
    struct store *st = store_new(&o);
    assert_non_null(st);
    struct source_store_sink ss;
    source_store_sink_init(&ss, st);
    struct source_sink sink = source_store_sink(&ss);
    struct source_exporter_set es;
    struct lw_err err;
    source_exporter_set_init(&es);
    struct source_pipeline a = {"orders", "orders", NULL, {NULL, 0, 0}};
    struct source_pipeline b = {"billing", "billing", NULL, {NULL, 0, 0}};
    assert_int_equal(source_exporter_add(&es, "http://x:1/metrics", &a, NULL, false, &err), 0);
    assert_int_equal(source_exporter_add(&es, "http://x:1/metrics", &b, NULL, false, &err), 0);
    struct source_exporter_target *t = &es.targets[0];
    const char *lag = "debezium_metrics_MilliSecondsBehindSource";

    scrape(t, &sink, 200, both, 1000);
    assert_true(last_of(st, lag, "orders")->v == 1500);
    assert_true(last_of(st, lag, "billing")->v == 250);

    /* task restart: orders' series vanish from a good scrape */
    scrape(t, &sink, 200, billing_only, 2000);
    const struct store_sample *s = last_of(st, lag, "orders");
    assert_true(s->t_ms == 2000 && store_is_stale_nan(s->v));
    assert_true(last_of(st, lag, "billing")->v == 260);
    assert_true(last_of(st, "up", "orders")->v == 1);
    assert_int_equal(ss.stale_marked, 1);

    /* they come back at -1 */
    scrape(t, &sink, 200, orders_back, 3000);
    s = last_of(st, lag, "orders");
    assert_true(s->t_ms == 3000 && s->v == -1);

    /* the exporter fails: everything but up/scrape_duration_seconds goes stale */
    scrape(t, &sink, 503, "", 4000);
    assert_true(store_is_stale_nan(last_of(st, lag, "orders")->v));
    assert_true(store_is_stale_nan(last_of(st, lag, "billing")->v));
    s = last_of(st, "up", "billing");
    assert_true(s->t_ms == 4000 && s->v == 0);
    assert_false(store_is_stale_nan(last_of(st, "scrape_duration_seconds", "orders")->v));

    /* the same answer twice at one time: refused duplicates are counted, not fatal */
    scrape(t, &sink, 200, both, 5000);
    size_t before = ss.refused;
    struct source_exporter_response r = {200, NULL, NULL, billing_only, strlen(billing_only), 0.01};
    assert_int_equal(source_exporter_process(t, &r, 5000, &sink, &err), 0);
    assert_true(ss.refused > before);

    source_exporter_set_cleanup(&es);
    source_store_sink_cleanup(&ss);
    store_free(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vanished_and_failed_series_get_stale_markers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
