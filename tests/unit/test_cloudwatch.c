/* test_cloudwatch.c — GetMetricData: the request body, the answer's parsing (ids back to
 * queries, NextToken, StatusCode, Messages, both timestamp forms), cloudwatch_exporter names,
 * the cost arithmetic, period-aligned windows, and the fetcher against the scripted server:
 * batching into ceil(n/500) calls, NextToken pages, de-duplication across cycles, failed results
 * and "no datapoints" reported per query. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lagwatch/aws.h"
#include "lagwatch/cloudwatch.h"
#include "lagwatch/creds.h"
#include "lagwatch/http.h"
#include "lagwatch/sched.h"
#include "rawsrv.h"

static const struct cw_dimension dims[] = {{"DBClusterIdentifier", "orders"}, {"Role", "WRITER"}};

static struct cw_query lag_query(void)
{
    struct cw_query q = {.namespace_ = "AWS/RDS",
                         .metric = "AuroraBinlogReplicaLag",
                         .dims = dims,
                         .n_dims = 2,
                         .stat = "Maximum",
                         .period_s = 60};
    return q;
}

static void test_request_carries_ids_metric_window_and_token(void **state)
{
    (void)state;
    struct cw_query q[2] = {lag_query(), lag_query()};
    q[1].metric = "BinLogDiskUsage";
    q[1].n_dims = 1;
    size_t ids[2] = {7, 12};
    struct lw_buf b;
    lw_buf_init(&b, 1 << 20);
    struct lw_err err = {0};
    assert_int_equal(cw_build_request(q, ids, 2, 1000, 2000, "tok", &b, &err), 0);
    json_error_t je;
    json_t *root = json_loads(lw_buf_str(&b), 0, &je);
    assert_non_null(root);
    json_t *qs = json_object_get(root, "MetricDataQueries");
    assert_int_equal(json_array_size(qs), 2);
    json_t *q0 = json_array_get(qs, 0);
    assert_string_equal(json_string_value(json_object_get(q0, "Id")), "q7");
    json_t *ms = json_object_get(q0, "MetricStat");
    assert_string_equal(json_string_value(json_object_get(ms, "Stat")), "Maximum");
    assert_int_equal(json_integer_value(json_object_get(ms, "Period")), 60);
    json_t *m = json_object_get(ms, "Metric");
    assert_string_equal(json_string_value(json_object_get(m, "Namespace")), "AWS/RDS");
    assert_int_equal(json_array_size(json_object_get(m, "Dimensions")), 2);
    assert_string_equal(json_string_value(json_object_get(json_array_get(qs, 1), "Id")), "q12");
    assert_int_equal(json_integer_value(json_object_get(root, "StartTime")), 1000);
    assert_int_equal(json_integer_value(json_object_get(root, "EndTime")), 2000);
    assert_string_equal(json_string_value(json_object_get(root, "NextToken")), "tok");
    json_decref(root);
    lw_buf_cleanup(&b);
}

static void test_request_refuses_more_than_500_queries(void **state)
{
    (void)state;
    static struct cw_query many[501];
    for (size_t i = 0; i < 501; i++)
        many[i] = lag_query();
    struct lw_buf b;
    lw_buf_init(&b, 1 << 24);
    struct lw_err err = {0};
    assert_int_equal(cw_build_request(many, NULL, 501, 0, 60, NULL, &b, &err), -1);
    assert_int_equal(cw_build_request(many, NULL, 500, 0, 60, NULL, &b, &err), 0);
    lw_buf_cleanup(&b);
}

static void test_response_maps_ids_back_and_reads_both_time_forms(void **state)
{
    (void)state;
    const char *body =
        "{\"MetricDataResults\":["
        "{\"Id\":\"q1\",\"Label\":\"x\",\"StatusCode\":\"Complete\",\"Timestamps\":[1700000000,"
        "1700000060.5],\"Values\":[1.5,-1]},"
        "{\"Id\":\"q0\",\"StatusCode\":\"PartialData\",\"Timestamps\":[\"2023-11-14T22:13:20Z\"],"
        "\"Values\":[3],\"Messages\":[{\"Code\":\"MaxDatapointsExceeded\",\"Value\":\"more\"}]}],"
        "\"NextToken\":\"abc\",\"Messages\":[{\"Code\":\"Warn\",\"Value\":\"top\"}]}";
    struct cw_response r;
    struct lw_err err = {0};
    assert_int_equal(cw_parse_response(body, strlen(body), 2, &r, &err), 0);
    assert_int_equal(r.n_results, 2);
    assert_int_equal(r.results[0].query, 1);
    assert_int_equal(r.results[0].n, 2);
    assert_int_equal(r.results[0].t_ms[0], 1700000000000LL);
    assert_int_equal(r.results[0].t_ms[1], 1700000060500LL);
    assert_true(r.results[0].values[1] == -1.0);
    assert_int_equal(r.results[1].query, 0);
    assert_string_equal(r.results[1].status_code, "PartialData");
    assert_int_equal(r.results[1].t_ms[0], 1700000000000LL);
    assert_string_equal(r.results[1].message, "MaxDatapointsExceeded: more");
    assert_string_equal(r.next_token, "abc");
    assert_string_equal(r.messages, "Warn: top");
    cw_response_cleanup(&r);
}

static void test_malformed_answers_are_errors_not_crashes(void **state)
{
    (void)state;
    const char *bad[] = {
        "",
        "{",
        "[]",
        "{\"MetricDataResults\":{}}",
        "{\"MetricDataResults\":[{\"Id\":\"q5\"}]}", /* id beyond the queries */
        "{\"MetricDataResults\":[{\"Id\":\"x1\"}]}", /* not one of ours */
        "{\"MetricDataResults\":[{\"Id\":\"q0\",\"Timestamps\":[1],\"Values\":[]}]}",
        "{\"MetricDataResults\":[{\"Id\":\"q0\",\"Timestamps\":[\"yesterday\"],\"Values\":[1]}]}",
        "{\"MetricDataResults\":[{\"Id\":\"q0\",\"Timestamps\":[1],\"Values\":[\"1\"]}]}",
        "{\"MetricDataResults\":[],\"NextToken\":5}",
        "{\"MetricDataResults\":[{\"Id\":\"q0\",\"Timestamps\":[1],\"Values\":[1]}]",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        struct cw_response r;
        struct lw_err err = {0};
        assert_int_equal(cw_parse_response(bad[i], strlen(bad[i]), 2, &r, &err), -1);
        assert_true(err.msg[0] != '\0');
    }
}

static void test_names_follow_cloudwatch_exporter(void **state)
{
    (void)state;
    char out[256];
    assert_int_equal(
        cw_metric_name("AWS/RDS", "AuroraBinlogReplicaLag", "Maximum", out, sizeof out), 0);
    assert_string_equal(out, "aws_rds_aurora_binlog_replica_lag_maximum");
    assert_int_equal(cw_metric_name("AWS/RDS", "BinLogDiskUsage", "Maximum", out, sizeof out), 0);
    assert_string_equal(out, "aws_rds_bin_log_disk_usage_maximum");
    assert_int_equal(cw_metric_name("AWS/RDS", "SumBinaryLogSize", "Maximum", out, sizeof out), 0);
    assert_string_equal(out, "aws_rds_sum_binary_log_size_maximum");
    assert_int_equal(cw_label_name("DBClusterIdentifier", out, sizeof out), 0);
    assert_string_equal(out, "dbcluster_identifier");
    char tiny[8];
    assert_int_equal(cw_label_name("DBClusterIdentifier", tiny, sizeof tiny), -1);
}

static void test_monthly_cost_is_a_cent_per_thousand_metrics(void **state)
{
    (void)state;
    /* 3 metrics every 60 s for 30 days = 129,600 metrics = $1.296. */
    assert_true(cw_monthly_cost_usd(3, 60) > 1.2959 && cw_monthly_cost_usd(3, 60) < 1.2961);
    assert_true(cw_monthly_cost_usd(600, 300) > 51.83 && cw_monthly_cost_usd(600, 300) < 51.85);
    assert_true(cw_monthly_cost_usd(3, 0) == 0);
}

static void test_windows_are_period_aligned_and_cover_the_late_window(void **state)
{
    (void)state;
    int64_t s, e;
    /* First cycle: the lookback, ending at the last complete period. */
    cw_window(1000030, 60, -1, 180, 900, &s, &e);
    assert_int_equal(e, 1000020);
    assert_int_equal(s, 999120);
    /* Caught up: only the late window (3 periods) is asked for again. */
    cw_window(1000030, 60, 999900, 180, 900, &s, &e);
    assert_int_equal(s, 999840);
    /* Behind: from the period after the last sample. */
    cw_window(1000030, 60, 999600, 180, 900, &s, &e);
    assert_int_equal(s, 999660);
    /* Far behind: never further back than the lookback. */
    cw_window(1000030, 60, 100, 180, 900, &s, &e);
    assert_int_equal(s, 999120);
    assert_int_equal(s % 60, 0);
}

/* ---- the fetcher against the scripted server ----------------------------------------------*/

struct fx {
    struct ts_rawsrv *srv;
    struct http_client *http;
    struct creds_provider *creds;
    struct aws_client *aws;
    struct cw_fetcher *f;
    char url[128];
};

static void fx_start(struct fx *x, const struct ts_canned *script, size_t n)
{
    x->srv = ts_rawsrv_start(script, n);
    struct lw_err err = {0};
    x->http = http_client_new(NULL, &err);
    x->creds = creds_static_new("AKIDEXAMPLE", "secret", NULL);
    struct aws_client_options ao = {.http = x->http, .creds = x->creds, .base_delay_ms = 5};
    x->aws = aws_client_new(&ao, &err);
    struct cw_fetcher_options fo = {.aws = x->aws,
                                    .endpoint = ts_rawsrv_url(x->srv, "/", x->url, sizeof x->url),
                                    .region = "eu-west-1"};
    x->f = cw_fetcher_new(&fo, &err);
    assert_non_null(x->f);
}

static void fx_stop(struct fx *x)
{
    aws_client_free(x->aws);
    cw_fetcher_free(x->f);
    http_client_free(x->http);
    creds_provider_free(x->creds);
    ts_rawsrv_stop(x->srv);
}

struct collected {
    int samples;
    int64_t last_t_ms;
    double last_v;
    int cycles;
    struct cw_cycle_report rep;
};

static int collect(void *ud, const struct lw_labels *ls, int64_t t_ms, double v, struct lw_err *err)
{
    (void)ls;
    (void)err;
    struct collected *c = ud;
    c->samples++;
    c->last_t_ms = t_ms;
    c->last_v = v;
    return 0;
}

static void cycle_done(void *ud, const struct cw_cycle_report *r)
{
    struct collected *c = ud;
    c->cycles++;
    c->rep = *r;
    c->rep.first_error = NULL;
}

static void run_cycle(struct fx *x, struct collected *c, int64_t now_s)
{
    struct source_sink sink = {.ud = c, .append = collect};
    struct lw_err err = {0};
    int before = c->cycles;
    assert_int_equal(cw_fetcher_start(x->f, now_s, &sink, cycle_done, c, &err), 0);
    int64_t end = lw_mono_ms() + 10000;
    while (c->cycles == before && lw_mono_ms() < end)
        assert_int_equal(http_client_poll(x->http, 50), 0);
    assert_int_equal(c->cycles, before + 1);
}

static void add_queries(struct fx *x, size_t n)
{
    struct lw_err err = {0};
    for (size_t i = 0; i < n; i++) {
        struct cw_query q = lag_query();
        assert_int_equal(cw_fetcher_add(x->f, &q, NULL, &err), (int)i);
    }
}

static void test_1200_queries_take_three_calls(void **state)
{
    (void)state;
    struct ts_canned ok = {.status = 200,
                           .body = "{\"MetricDataResults\":[{\"Id\":\"q0\",\"StatusCode\":"
                                   "\"Complete\",\"Timestamps\":[1700000000],\"Values\":[4]}]}",
                           .content_length = -1};
    struct fx x = {0};
    fx_start(&x, &ok, 1);
    add_queries(&x, 1200);
    struct collected c = {0};
    run_cycle(&x, &c, 1700000100);
    assert_int_equal(c.rep.calls, 3);
    assert_int_equal(c.rep.metrics_requested, 1200);
    assert_int_equal(c.rep.failed_calls, 0);
    assert_int_equal(ts_rawsrv_nrequests(x.srv), 3);
    /* Each call names its own queries: the second starts at q500. */
    int has_q500 = 0;
    for (size_t i = 0; i < 3; i++)
        has_q500 += strstr(ts_rawsrv_request(x.srv, i), "\"Id\":\"q500\"") != NULL;
    assert_int_equal(has_q500, 1);
    assert_int_equal(c.samples, 1); /* q0 answered (three times), delivered once */
    assert_int_equal(c.last_t_ms, 1700000000000LL);
    const struct cw_query_status *s0 = cw_fetcher_status(x.f, 0);
    assert_int_equal(s0->state, CW_QUERY_OK);
    const struct cw_query_status *s1 = cw_fetcher_status(x.f, 1);
    assert_int_equal(s1->state, CW_QUERY_NO_DATA);
    assert_non_null(strstr(s1->message, "no datapoints for AuroraBinlogReplicaLag Maximum"));
    fx_stop(&x);
}

static void test_next_token_pages_are_followed_and_samples_deduplicated(void **state)
{
    (void)state;
    struct ts_canned pages[] = {
        {.status = 200,
         .body = "{\"MetricDataResults\":[{\"Id\":\"q0\",\"StatusCode\":\"PartialData\","
                 "\"Timestamps\":[1700000000],\"Values\":[1]}],\"NextToken\":\"page2\"}",
         .content_length = -1},
        {.status = 200,
         .body = "{\"MetricDataResults\":[{\"Id\":\"q0\",\"StatusCode\":\"Complete\","
                 "\"Timestamps\":[1700000060],\"Values\":[2]}]}",
         .content_length = -1},
        /* next cycle: the late window brings the old point again plus a new one */
        {.status = 200,
         .body = "{\"MetricDataResults\":[{\"Id\":\"q0\",\"StatusCode\":\"Complete\","
                 "\"Timestamps\":[1700000000,1700000060,1700000120],\"Values\":[1,2,3]}]}",
         .content_length = -1},
    };
    struct fx x = {0};
    fx_start(&x, pages, 3);
    add_queries(&x, 1);
    struct collected c = {0};
    run_cycle(&x, &c, 1700000200);
    assert_int_equal(c.rep.calls, 2);
    assert_int_equal(c.samples, 2);
    assert_non_null(strstr(ts_rawsrv_request(x.srv, 1), "\"NextToken\":\"page2\""));
    run_cycle(&x, &c, 1700000260);
    assert_int_equal(c.samples, 3); /* only 1700000120 was new */
    assert_true(c.last_v == 3);
    assert_int_equal(cw_fetcher_status(x.f, 0)->new_samples, 1);
    assert_int_equal(cw_fetcher_status(x.f, 0)->last_sample_ms, 1700000120000LL);
    fx_stop(&x);
}

static void test_failed_result_and_failed_call_are_reported_per_query(void **state)
{
    (void)state;
    struct ts_canned script[] = {
        {.status = 200,
         .body = "{\"MetricDataResults\":[{\"Id\":\"q0\",\"StatusCode\":\"Forbidden\","
                 "\"Messages\":[{\"Code\":\"Forbidden\",\"Value\":\"no access\"}]}]}",
         .content_length = -1},
        {.status = 200, .body = "{\"MetricDataResults\":[{\"Id\":", .content_length = -1},
    };
    struct fx x = {0};
    fx_start(&x, script, 2);
    add_queries(&x, 1);
    struct collected c = {0};
    run_cycle(&x, &c, 1700000200);
    assert_int_equal(cw_fetcher_status(x.f, 0)->state, CW_QUERY_FAILED);
    assert_non_null(strstr(cw_fetcher_status(x.f, 0)->message, "no access"));
    run_cycle(&x, &c, 1700000260); /* malformed JSON */
    assert_int_equal(c.rep.failed_calls, 1);
    assert_int_equal(cw_fetcher_status(x.f, 0)->state, CW_QUERY_FAILED);
    assert_non_null(strstr(cw_fetcher_status(x.f, 0)->message, "not JSON"));
    fx_stop(&x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_request_carries_ids_metric_window_and_token),
        cmocka_unit_test(test_request_refuses_more_than_500_queries),
        cmocka_unit_test(test_response_maps_ids_back_and_reads_both_time_forms),
        cmocka_unit_test(test_malformed_answers_are_errors_not_crashes),
        cmocka_unit_test(test_names_follow_cloudwatch_exporter),
        cmocka_unit_test(test_monthly_cost_is_a_cent_per_thousand_metrics),
        cmocka_unit_test(test_windows_are_period_aligned_and_cover_the_late_window),
        cmocka_unit_test(test_1200_queries_take_three_calls),
        cmocka_unit_test(test_next_token_pages_are_followed_and_samples_deduplicated),
        cmocka_unit_test(test_failed_result_and_failed_call_are_reported_per_query),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
