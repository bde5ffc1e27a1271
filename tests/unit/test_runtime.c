/* test_runtime.c — the agent runtime (runtime.h) on loopback servers: pipelines sharing an
 * exporter share one scrape, a failed source reports its error and up=0, a job still in flight
 * is skipped rather than stacked, every source gets a scheduler job with a stable name, and
 * freeing a runtime (or the client) with requests in flight is safe. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lagwatch/config.h"
#include "lagwatch/expfmt.h"
#include "lagwatch/http.h"
#include "lagwatch/runtime.h"
#include "lagwatch/sched.h"
#include "rawsrv.h"

static const char page[] =
    "# TYPE debezium_metrics_MilliSecondsBehindSource gauge\n"
    "debezium_metrics_MilliSecondsBehindSource{context=\"streaming\",name=\"orders\","
    "plugin=\"mysql\"} 1500\n"
    "debezium_metrics_MilliSecondsBehindSource{context=\"streaming\",name=\"billing\","
    "plugin=\"mysql\"} 250\n";

static const char kc_status[] =
    "{\"name\":\"orders-mysql\",\"connector\":{\"state\":\"RUNNING\",\"worker_id\":\"w:8083\"},"
    "\"tasks\":[{\"id\":0,\"state\":\"RUNNING\",\"worker_id\":\"w:8083\"}],\"type\":\"source\"}";

struct rec {
    struct lw_buf out;
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

struct fixture {
    struct ts_rawsrv *exporter, *connect;
    struct config *cfg;
    struct http_client *http;
    struct rec rec;
    struct runtime *rt;
};

/* A config with pipelines orders and billing on one exporter; orders also has Kafka Connect. */
static void setup_with(struct fixture *f, const struct ts_canned *exp, const struct ts_canned *kc)
{
    memset(f, 0, sizeof *f);
    f->exporter = ts_rawsrv_start(exp, 1);
    f->connect = ts_rawsrv_start(kc, 1);
    assert_non_null(f->exporter);
    assert_non_null(f->connect);
    char yaml[2048], eu[128], ku[128];
    ts_rawsrv_url(f->exporter, "/metrics", eu, sizeof eu);
    ts_rawsrv_url(f->connect, "", ku, sizeof ku);
    snprintf(yaml, sizeof yaml,
             "global: {scrape_interval: 1s, scrape_timeout: 1s}\n"
             "pipelines:\n"
             "  - name: orders\n"
             "    debezium: {exporter: %s, server: orders}\n"
             "    kafka_connect: {url: %s, connector: orders-mysql}\n"
             "  - name: billing\n"
             "    labels: {team: payments}\n"
             "    debezium: {exporter: %s, server: billing}\n",
             eu, ku, eu);
    struct lw_err err = {0};
    if (config_parse_buf(yaml, strlen(yaml), "t.yml", NULL, &f->cfg, &err) != 0)
        fail_msg("config: %d:%d: %s", err.line, err.col, err.msg);
    f->http = http_client_new(NULL, &err);
    assert_non_null(f->http);
    lw_buf_init(&f->rec.out, 1u << 20);
    struct runtime_options ro = {.http = f->http, .sink = {&f->rec, NULL, rec_append, NULL}};
    assert_int_equal(runtime_new(f->cfg, &ro, &f->rt, &err), 0);
}

static void teardown(struct fixture *f)
{
    runtime_free(f->rt);
    http_client_free(f->http);
    config_free(f->cfg);
    lw_buf_cleanup(&f->rec.out);
    ts_rawsrv_stop(f->exporter);
    ts_rawsrv_stop(f->connect);
}

static const struct runtime_source_health *find(const struct runtime *rt, const char *name,
                                                const char *pipeline)
{
    for (size_t i = 0; i < runtime_source_count(rt); i++) {
        const struct runtime_source_health *h = runtime_source_at(rt, i);
        if (strcmp(h->name, name) == 0 && h->pipeline && strcmp(h->pipeline, pipeline) == 0)
            return h;
    }
    return NULL;
}

static void test_pipelines_sharing_an_exporter_share_one_scrape(void **state)
{
    (void)state;
    struct ts_canned exp = {200, "Content-Type: text/plain; version=0.0.4\r\n", page, 0, -1, 0, 0};
    struct ts_canned kc = {200, "Content-Type: application/json\r\n", kc_status, 0, -1, 0, 0};
    struct fixture f;
    setup_with(&f, &exp, &kc);
    assert_int_equal(runtime_source_count(f.rt), 3); /* debezium x2 (one target), kafka_connect */
    assert_false(runtime_all_ran(f.rt));
    struct lw_err err = {0};
    assert_int_equal(runtime_run_once(f.rt, 10000, &err), 0);
    assert_true(runtime_all_ran(f.rt));
    assert_int_equal(ts_rawsrv_nrequests(f.exporter), 1);
    assert_int_equal(ts_rawsrv_nrequests(f.connect), 1);
    const char *out = lw_buf_str(&f.rec.out);
    assert_non_null(strstr(out, "name=\"orders\",pipeline=\"orders\""));
    assert_non_null(strstr(out, "name=\"billing\",pipeline=\"billing\""));
    assert_non_null(strstr(out, "team=\"payments\""));
    assert_non_null(strstr(out, "kafka_connect_connector_state{connector=\"orders-mysql\""));
    const struct runtime_source_health *h = find(f.rt, "debezium", "billing");
    assert_non_null(h);
    assert_true(h->up && h->has_run);
    assert_int_equal(h->runs, 1);
    assert_string_equal(h->last_error, "");
    assert_non_null(strstr(h->target, "/metrics"));
    struct runtime_cloudwatch_stats cws;
    runtime_cloudwatch_stats(f.rt, &cws);
    assert_int_equal(cws.metrics_per_cycle, 0);
    teardown(&f);
}

static void test_failed_source_reports_its_error_and_up_zero(void **state)
{
    (void)state;
    struct ts_canned exp = {503, NULL, "overloaded", 0, -1, 0, 0};
    struct ts_canned kc = {404,
                           "Content-Type: application/json\r\n",
                           "{\"error_code\":404,\"message\":\"No status found\"}",
                           0,
                           -1,
                           0,
                           0};
    struct fixture f;
    setup_with(&f, &exp, &kc);
    struct lw_err err = {0};
    assert_int_equal(runtime_run_once(f.rt, 10000, &err), 3);
    const struct runtime_source_health *h = find(f.rt, "debezium", "orders");
    assert_false(h->up);
    assert_true(h->has_run);
    assert_non_null(strstr(h->last_error, "503"));
    h = find(f.rt, "kafka_connect", "orders");
    assert_false(h->up);
    assert_non_null(strstr(h->last_error, "orders-mysql"));
    assert_non_null(strstr(h->last_error, "404"));
    const char *out = lw_buf_str(&f.rec.out);
    assert_non_null(strstr(out, "up{instance="));
    assert_non_null(strstr(out, "source=\"debezium\"} 0\n"));
    assert_null(strstr(out, "debezium_metrics_"));
    teardown(&f);
}

static void test_job_in_flight_is_skipped_not_stacked(void **state)
{
    (void)state;
    struct ts_canned exp = {200, NULL, page, 0, -1, 600, 0}; /* within the 1s timeout */
    struct ts_canned kc = {200, "Content-Type: application/json\r\n", kc_status, 0, -1, 0, 0};
    struct fixture f;
    setup_with(&f, &exp, &kc);
    struct sched s;
    sched_init(&s);
    int64_t now = lw_mono_ms();
    assert_int_equal(runtime_schedule(f.rt, &s, now), 0);
    assert_int_equal(s.n, 2); /* one exporter target, one Kafka Connect status */
    size_t exp_job = strstr(s.jobs[0].name, "source/debezium/") ? 0 : 1;
    assert_non_null(strstr(s.jobs[exp_job].name, "source/debezium/http://127.0.0.1:"));
    assert_int_equal(s.jobs[exp_job].interval_ms, 1000);
    s.jobs[exp_job].fn(s.jobs[exp_job].ud, now);
    s.jobs[exp_job].fn(s.jobs[exp_job].ud, now + 1000); /* still waiting for the first answer */
    assert_int_equal(runtime_in_flight(f.rt), 1);
    int64_t end = lw_mono_ms() + 10000;
    while (runtime_in_flight(f.rt) > 0 && lw_mono_ms() < end)
        assert_int_equal(http_client_poll(f.http, 100), 0);
    assert_int_equal(ts_rawsrv_nrequests(f.exporter), 1);
    assert_true(find(f.rt, "debezium", "orders")->up);
    sched_cleanup(&s);
    teardown(&f);
}

static void test_free_with_requests_in_flight_is_safe(void **state)
{
    (void)state;
    struct ts_canned exp = {200, NULL, page, 0, -1, 0, 1}; /* never answers */
    struct ts_canned kc = {200, NULL, kc_status, 0, -1, 0, 1};
    struct fixture f;
    setup_with(&f, &exp, &kc);
    struct lw_err err = {0};
    assert_int_equal(runtime_run_once(f.rt, 300, &err), -1);
    assert_non_null(strstr(err.msg, "did not answer"));
    assert_int_equal(runtime_in_flight(f.rt), 2);
    assert_false(runtime_all_ran(f.rt));
    runtime_free(f.rt); /* orphans the two requests */
    f.rt = NULL;
    size_t before = f.rec.out.len;
    http_client_free(f.http); /* their callbacks run now, into nothing */
    f.http = NULL;
    assert_int_equal(f.rec.out.len, before);
    teardown(&f);
}

static void test_prometheus_source_sends_its_credentials_and_labels_the_pipeline(void **state)
{
    (void)state;
    static const char answer[] =
        "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{\"metric\":"
        "{\"__name__\":\"debezium_metrics_MilliSecondsBehindSource\",\"name\":\"orders\"},"
        "\"value\":[1700000000.5,\"1500\"]}]}}";
    struct ts_canned ok = {200, "Content-Type: application/json\r\n", answer, 0, -1, 0, 0};
    struct ts_canned kc = {200, "Content-Type: application/json\r\n", kc_status, 0, -1, 0, 0};
    struct ts_rawsrv *basic = ts_rawsrv_start(&ok, 1), *bearer = ts_rawsrv_start(&ok, 1);
    struct ts_rawsrv *connect = ts_rawsrv_start(&kc, 1);
    assert_non_null(basic);
    assert_non_null(bearer);
    assert_non_null(connect);
    char yaml[2048], bu[128], tu[128], ku[128];
    ts_rawsrv_url(basic, "", bu, sizeof bu);
    ts_rawsrv_url(bearer, "", tu, sizeof tu);
    ts_rawsrv_url(connect, "", ku, sizeof ku);
    snprintf(yaml, sizeof yaml,
             "pipelines:\n"
             "  - name: orders\n"
             "    labels: {team: data}\n"
             "    kafka_connect: {url: %s, connector: orders-mysql}\n"
             "prometheus_sources:\n"
             "  - name: site-prom\n"
             "    url: %s\n"
             "    queries: ['debezium_metrics_MilliSecondsBehindSource']\n"
             "    pipeline: orders\n"
             "    basic_auth: {username: user, password: pass}\n"
             "  - name: other-prom\n"
             "    url: %s\n"
             "    queries: ['up', 'vector(1)']\n"
             "    bearer_token: s3cr3t\n",
             ku, bu, tu);
    struct lw_err err = {0};
    struct config *cfg = NULL;
    if (config_parse_buf(yaml, strlen(yaml), "t.yml", NULL, &cfg, &err) != 0)
        fail_msg("config: %d:%d: %s", err.line, err.col, err.msg);
    struct http_client *http = http_client_new(NULL, &err);
    struct rec rec;
    lw_buf_init(&rec.out, 1u << 20);
    struct runtime_options ro = {.http = http, .sink = {&rec, NULL, rec_append, NULL}};
    struct runtime *rt = NULL;
    assert_int_equal(runtime_new(cfg, &ro, &rt, &err), 0);
    assert_int_equal(runtime_source_count(rt), 3);
    assert_int_equal(runtime_run_once(rt, 10000, &err), 0);
    assert_int_equal(ts_rawsrv_nrequests(basic), 1);
    assert_int_equal(ts_rawsrv_nrequests(bearer), 2); /* both queries of the source */
    assert_non_null(strstr(ts_rawsrv_request(basic, 0), "Authorization: Basic dXNlcjpwYXNz\r\n"));
    assert_non_null(strstr(ts_rawsrv_request(bearer, 0), "Authorization: Bearer s3cr3t\r\n"));
    assert_non_null(strstr(ts_rawsrv_request(basic, 0), "GET /api/v1/query?query="));
    const char *out = lw_buf_str(&rec.out);
    assert_non_null(strstr(out, "debezium_metrics_MilliSecondsBehindSource{name=\"orders\","
                                "pipeline=\"orders\",team=\"data\"} 1500"));
    const struct runtime_source_health *h = find(rt, "prometheus", "orders");
    assert_non_null(h);
    assert_true(h->up);
    assert_null(strstr(h->target, "pass"));
    runtime_free(rt);
    http_client_free(http);
    config_free(cfg);
    lw_buf_cleanup(&rec.out);
    ts_rawsrv_stop(basic);
    ts_rawsrv_stop(bearer);
    ts_rawsrv_stop(connect);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pipelines_sharing_an_exporter_share_one_scrape),
        cmocka_unit_test(test_failed_source_reports_its_error_and_up_zero),
        cmocka_unit_test(test_job_in_flight_is_skipped_not_stacked),
        cmocka_unit_test(test_free_with_requests_in_flight_is_safe),
        cmocka_unit_test(test_prometheus_source_sends_its_credentials_and_labels_the_pipeline),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
