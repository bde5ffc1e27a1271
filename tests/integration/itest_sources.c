/*
 * itest_sources.c — the exporter and Kafka Connect sources against the loopback stand-ins of
 * cdc_standins.py and a real Prometheus scraping them (started by sources_test.sh, URLs in
 * JMX_URL, CONNECT_URL and PROM_URL): one scrape
 * serves two pipelines, both Debezium naming styles end up canonical, Accept and gzip are
 * negotiated, a task restart makes the connector's series vanish and come back at -1, a FAILED
 * task and an unknown connector are reported, and an unreachable target is up=0.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "lagwatch/expfmt.h"
#include "lagwatch/http.h"
#include "lagwatch/source_fetch.h"

static struct http_client *client;
static const char *jmx_url, *connect_url, *prom_url;

struct rec {
    struct lw_buf out;
    int ends, oks;
};

static int rec_append(void *ud, const struct lw_labels *ls, int64_t t_ms, double v,
                      struct lw_err *err)
{
    (void)err;
    (void)t_ms;
    struct rec *r = ud;
    char num[40];
    (void)lw_labels_format_metric(ls, &r->out);
    (void)lw_buf_addf(&r->out, " %s\n", expfmt_format_value(v, num, sizeof num));
    return 0;
}

static void rec_end(void *ud, const char *scope, bool ok, int64_t t)
{
    (void)scope;
    (void)t;
    struct rec *r = ud;
    r->ends++;
    r->oks += ok;
}

static struct source_sink rec_sink(struct rec *r)
{
    memset(r, 0, sizeof *r);
    lw_buf_init(&r->out, 1u << 22);
    struct source_sink s = {r, NULL, rec_append, rec_end};
    return s;
}

static bool has(const struct rec *r, const char *s)
{
    return strstr(lw_buf_str(&r->out), s) != NULL;
}

#define assert_has(r, s)                                                \
    do {                                                                \
        if (!has((r), (s)))                                             \
            fail_msg("missing %s in:\n%s", (s), lw_buf_str(&(r)->out)); \
    } while (0)
#define assert_hasnt(r, s)                                                 \
    do {                                                                   \
        if (has((r), (s)))                                                 \
            fail_msg("unexpected %s in:\n%s", (s), lw_buf_str(&(r)->out)); \
    } while (0)

static char *url_of(const char *base, const char *path)
{
    static char buf[512];
    snprintf(buf, sizeof buf, "%s%s", base, path);
    return buf;
}

/* GET/POST on a stand-in's control endpoint; returns the body (static) or fails the test. */
static const char *control(const char *method, const char *base, const char *path)
{
    static char body[8192];
    struct http_request req;
    memset(&req, 0, sizeof req);
    req.method = method;
    req.url = url_of(base, path);
    if (strcmp(method, "POST") == 0) {
        req.body = "x";
        req.body_len = 1;
    }
    struct http_response resp;
    struct lw_err err;
    assert_int_equal(http_fetch_sync(client, &req, &resp, &err), 0);
    assert_int_equal(resp.status, 200);
    snprintf(body, sizeof body, "%s", resp.body);
    http_response_cleanup(&resp);
    return body;
}

static void two_pipelines(struct source_exporter_set *es, const char *path, bool om)
{
    struct lw_err err;
    source_exporter_set_init(es);
    char url[512];
    snprintf(url, sizeof url, "%s%s", jmx_url, path);
    struct source_pipeline orders = {"orders", "orders", "orders-mysql", {NULL, 0, 0}};
    struct source_pipeline billing = {"billing", "billing", "billing-mysql", {NULL, 0, 0}};
    assert_int_equal(source_exporter_add(es, url, &orders, NULL, om, &err), 0);
    assert_int_equal(source_exporter_add(es, url, &billing, NULL, om, &err), 0);
    assert_int_equal(es->n, 1);
}

static int scrape(struct source_exporter_set *es, struct rec *r, struct lw_err *err)
{
    struct source_sink sink = rec_sink(r);
    return source_exporter_fetch(client, &es->targets[0], &sink, 1000, err);
}

static long scrape_count(void)
{
    json_t *j = json_loads(control("GET", jmx_url, "/-/last-request"), 0, NULL);
    assert_non_null(j);
    long n = (long)json_integer_value(json_object_get(j, "count"));
    json_decref(j);
    return n;
}

static void test_one_scrape_serves_two_pipelines_with_negotiation_and_gzip(void **state)
{
    (void)state;
    struct source_exporter_set es;
    two_pipelines(&es, "/metrics", false);
    struct rec r;
    struct lw_err err;
    long before = scrape_count();
    assert_int_equal(scrape(&es, &r, &err), 0);
    assert_int_equal(scrape_count(), before + 1); /* once, not once per pipeline */
    json_t *j = json_loads(control("GET", jmx_url, "/-/last-request"), 0, NULL);
    const char *accept = json_string_value(json_object_get(j, "accept"));
    const char *enc = json_string_value(json_object_get(j, "accept-encoding"));
    assert_non_null(accept);
    assert_non_null(strstr(accept, "text/plain;version=0.0.4"));
    assert_null(strstr(accept, "openmetrics"));
    assert_non_null(enc);
    assert_non_null(strstr(enc, "gzip"));
    assert_true(json_is_true(json_object_get(j, "gzipped")));
    json_decref(j);
    assert_has(&r, "debezium_metrics_MilliSecondsBehindSource{context=\"streaming\",instance=");
    assert_has(&r, "name=\"orders\",pipeline=\"orders\",plugin=\"mysql\"} 1500\n");
    assert_has(&r, "name=\"billing\",pipeline=\"billing\",plugin=\"mysql\"} 250\n");
    assert_has(&r, "debezium_metrics_SnapshotCompleted{context=\"snapshot\"");
    assert_has(&r, "debezium_metrics_ChangesApplied{context=\"schema-history\"");
    assert_has(&r, "kafka_connect_connector_task_metrics_running_ratio{connector=\"orders-mysql\"");
    assert_hasnt(&r, "kafka_producer");
    assert_has(&r, "pipeline=\"orders\",source=\"debezium\"} 1\n");
    assert_has(&r, "pipeline=\"billing\",source=\"debezium\"} 1\n");
    assert_int_equal(r.oks, 1);
    lw_buf_cleanup(&r.out);
    source_exporter_set_cleanup(&es);
}

static void test_ruleless_page_and_openmetrics_end_up_canonical(void **state)
{
    (void)state;
    struct source_exporter_set es;
    two_pipelines(&es, "/metrics/ruleless", true);
    struct rec r;
    struct lw_err err;
    assert_int_equal(scrape(&es, &r, &err), 0);
    json_t *j = json_loads(control("GET", jmx_url, "/-/last-request"), 0, NULL);
    assert_non_null(
        strstr(json_string_value(json_object_get(j, "accept")), "application/openmetrics-text"));
    assert_true(json_is_true(json_object_get(j, "openmetrics")));
    json_decref(j);
    assert_has(&r, "name=\"orders\",pipeline=\"orders\",plugin=\"mysql\"} 1500\n");
    assert_has(&r, "debezium_metrics_IsGtidModeEnabled{context=\"streaming\"");
    assert_hasnt(&r, "debezium_mysql_connector_metrics");
    lw_buf_cleanup(&r.out);
    source_exporter_set_cleanup(&es);
}

static void test_task_restart_series_vanish_then_come_back_at_minus_one(void **state)
{
    (void)state;
    struct source_exporter_set es;
    two_pipelines(&es, "/metrics", false);
    struct rec r;
    struct lw_err err;
    const char *orders_lag = "debezium_metrics_MilliSecondsBehindSource{context=\"streaming\","
                             "instance=";
    (void)orders_lag;
    control("POST", jmx_url, "/-/restart?connector=orders");
    assert_int_equal(scrape(&es, &r, &err), 0);
    assert_hasnt(&r, "pipeline=\"orders\",plugin=\"mysql\"");
    assert_has(&r, "name=\"billing\",pipeline=\"billing\",plugin=\"mysql\"} 250\n");
    assert_has(&r, "pipeline=\"orders\",source=\"debezium\"} 1\n"); /* the target is up */
    lw_buf_cleanup(&r.out);

    assert_int_equal(scrape(&es, &r, &err), 0);
    assert_has(&r, "debezium_metrics_MilliSecondsBehindSource{context=\"streaming\",instance=");
    assert_has(&r, "name=\"orders\",pipeline=\"orders\",plugin=\"mysql\"} -1\n");
    lw_buf_cleanup(&r.out);

    control("POST", jmx_url, "/-/event?connector=orders&lag_ms=900");
    assert_int_equal(scrape(&es, &r, &err), 0);
    assert_has(&r, "name=\"orders\",pipeline=\"orders\",plugin=\"mysql\"} 900\n");
    lw_buf_cleanup(&r.out);
    control("POST", jmx_url, "/-/event?connector=orders&lag_ms=1500");
    source_exporter_set_cleanup(&es);
}

static void test_unreachable_exporter_is_down(void **state)
{
    (void)state;
    struct source_exporter_set es;
    struct lw_err err;
    source_exporter_set_init(&es);
    struct source_pipeline p = {"orders", "orders", NULL, {NULL, 0, 0}};
    /* port 9 (discard) on loopback: nothing listens there in the test environment */
    assert_int_equal(source_exporter_add(&es, "http://127.0.0.1:9/metrics", &p, NULL, false, &err),
                     0);
    es.targets[0].timeout_ms = 2000;
    struct rec r;
    struct source_sink sink = rec_sink(&r);
    assert_int_equal(source_exporter_fetch(client, &es.targets[0], &sink, 5, &err), -1);
    assert_has(&r, "up{instance=\"127.0.0.1:9\",pipeline=\"orders\",source=\"debezium\"} 0\n");
    assert_int_equal(r.ends, 1);
    assert_int_equal(r.oks, 0);
    lw_buf_cleanup(&r.out);
    source_exporter_set_cleanup(&es);
}

static void test_kafka_connect_failed_task_and_unknown_connector(void **state)
{
    (void)state;
    struct rec r;
    struct source_sink sink = rec_sink(&r);
    struct lw_err err;
    struct source_kc_status st;
    assert_int_equal(
        source_kc_fetch(client, connect_url, "orders-mysql", "orders", NULL, &sink, 7, &st, &err),
        0);
    assert_has(&r, "kafka_connect_connector_state{connector=\"orders-mysql\",pipeline=\"orders\","
                   "state=\"RUNNING\"} 1\n");
    assert_has(&r, "kafka_connect_task_state{connector=\"orders-mysql\",pipeline=\"orders\",state="
                   "\"FAILED\",task=\"0\"} 1\n");
    assert_has(&r, "kafka_connect_task_state{connector=\"orders-mysql\",pipeline=\"orders\",state="
                   "\"RUNNING\",task=\"1\"} 1\n");
    assert_has(&r, "kafka_connect_task_trace_info{connector=\"orders-mysql\",pipeline=\"orders\","
                   "task=\"0\",trace=\"org.apache.kafka.connect.errors.ConnectException: An "
                   "exception occurred");
    assert_has(&r, "up{pipeline=\"orders\",source=\"kafka_connect\"} 1\n");
    assert_non_null(st.tasks[0].trace);
    assert_null(strstr(st.tasks[0].trace, "Caused by")); /* beyond the first lines */
    source_kc_status_cleanup(&st);
    lw_buf_cleanup(&r.out);

    sink = rec_sink(&r);
    assert_int_equal(source_kc_fetch(client, connect_url, "nope", "x", NULL, &sink, 8, NULL, &err),
                     -1);
    assert_non_null(strstr(err.msg, "connector nope not found"));
    assert_non_null(strstr(err.msg, "(404): No status found for connector nope"));
    assert_has(&r, "up{pipeline=\"x\",source=\"kafka_connect\"} 0\n");
    lw_buf_cleanup(&r.out);
}

static void test_prometheus_api_answers_become_series(void **state)
{
    (void)state;
    struct rec r;
    struct source_sink sink = rec_sink(&r);
    struct lw_err err;
    int rc = source_prom_fetch(client, prom_url,
                               "debezium_metrics_MilliSecondsBehindSource{name=\"billing\"}",
                               "billing", NULL, &sink, 9, &err);
    if (rc != 0)
        fail_msg("%s", err.msg);
    assert_has(&r, "debezium_metrics_MilliSecondsBehindSource{context=\"streaming\",instance="
                   "\"127.0.0.1:");
    assert_has(&r, "job=\"connect\",name=\"billing\",pipeline=\"billing\",plugin=\"mysql\"} 250\n");
    assert_has(&r, "up{pipeline=\"billing\",source=\"prometheus\"} 1\n");
    lw_buf_cleanup(&r.out);

    sink = rec_sink(&r);
    assert_int_equal(source_prom_fetch(client, prom_url, "sum(", "billing", NULL, &sink, 9, &err),
                     -1);
    assert_non_null(strstr(err.msg, "Prometheus query failed: bad_data"));
    assert_has(&r, "up{pipeline=\"billing\",source=\"prometheus\"} 0\n");
    lw_buf_cleanup(&r.out);
}

static void test_submitted_fetches_run_concurrently_from_the_poll_loop(void **state)
{
    (void)state;
    struct source_exporter_set es;
    two_pipelines(&es, "/metrics", false);
    struct rec r;
    struct source_sink sink = rec_sink(&r);
    struct lw_err err;
    assert_int_equal(source_exporter_submit(client, &es.targets[0], &sink, 11, &err), 0);
    assert_int_equal(
        source_kc_submit(client, connect_url, "billing-mysql", "billing", NULL, &sink, 11, &err),
        0);
    assert_int_equal(source_prom_submit(client, prom_url, "up", "billing", NULL, &sink, 11, &err),
                     0);
    assert_int_equal(r.ends, 0); /* nothing runs inside submit */
    for (int i = 0; i < 200 && http_client_pending(client) > 0; i++)
        assert_int_equal(http_client_poll(client, 100), 0);
    assert_int_equal(http_client_pending(client), 0);
    assert_int_equal(r.ends, 3);
    assert_int_equal(r.oks, 3);
    assert_has(&r, "name=\"billing\",pipeline=\"billing\",plugin=\"mysql\"} 250\n");
    assert_has(&r,
               "kafka_connect_task_state{connector=\"billing-mysql\",pipeline=\"billing\",state="
               "\"RUNNING\",task=\"0\"} 1\n");
    assert_has(&r, "up{instance=\"127.0.0.1:");
    assert_has(&r, "up{pipeline=\"billing\",source=\"prometheus\"} 1\n");
    assert_has(&r, "up{pipeline=\"billing\",source=\"kafka_connect\"} 1\n");
    lw_buf_cleanup(&r.out);
    source_exporter_set_cleanup(&es);
}

int main(void)
{
    jmx_url = getenv("JMX_URL");
    connect_url = getenv("CONNECT_URL");
    prom_url = getenv("PROM_URL");
    if (!jmx_url || !connect_url || !prom_url) {
        fprintf(stderr, "itest_sources: JMX_URL, CONNECT_URL and PROM_URL must be set (run "
                        "sources_test.sh)\n");
        return 1;
    }
    struct lw_err err;
    client = http_client_new(NULL, &err);
    if (!client) {
        fprintf(stderr, "http: %s\n", err.msg);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_scrape_serves_two_pipelines_with_negotiation_and_gzip),
        cmocka_unit_test(test_ruleless_page_and_openmetrics_end_up_canonical),
        cmocka_unit_test(test_task_restart_series_vanish_then_come_back_at_minus_one),
        cmocka_unit_test(test_unreachable_exporter_is_down),
        cmocka_unit_test(test_kafka_connect_failed_task_and_unknown_connector),
        cmocka_unit_test(test_prometheus_api_answers_become_series),
        cmocka_unit_test(test_submitted_fetches_run_concurrently_from_the_poll_loop),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    http_client_free(client);
    return rc;
}
