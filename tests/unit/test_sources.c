/* test_sources.c — the sources' pure parts: Debezium naming translation, exporter pages shared by
 * pipelines (keep filter, pipeline assignment, health series, all-or-nothing), Kafka Connect
 * status parsing and series (FAILED task with trace, 404), Prometheus API answers. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lagwatch/expfmt.h"
#include "lagwatch/source.h"
#include "lagwatch/source_exporter.h"
#include "lagwatch/source_kafka_connect.h"
#include "lagwatch/source_prometheus.h"

/* A sink that prints "metric{labels} value @t" lines and records begin/end. */
struct rec {
    struct lw_buf out;
    int begins, ends, oks;
};

static int rec_append(void *ud, const struct lw_labels *ls, int64_t t_ms, double v,
                      struct lw_err *err)
{
    (void)err;
    struct rec *r = ud;
    char num[40];
    (void)lw_labels_format_metric(ls, &r->out);
    (void)lw_buf_addf(&r->out, " %s @%lld\n", expfmt_format_value(v, num, sizeof num),
                      (long long)t_ms);
    return 0;
}

static void rec_begin(void *ud, const char *scope, int64_t t)
{
    (void)scope;
    (void)t;
    ((struct rec *)ud)->begins++;
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
    lw_buf_init(&r->out, 1u << 20);
    struct source_sink s = {r, rec_begin, rec_append, rec_end};
    return s;
}

static bool has_line(const struct rec *r, const char *line)
{
    char want[1024];
    snprintf(want, sizeof want, "%s\n", line);
    const char *out = lw_buf_str(&r->out);
    const char *p = strstr(out, want);
    return p && (p == out || p[-1] == '\n');
}

#define assert_line(r, l)                                                    \
    do {                                                                     \
        if (!has_line((r), (l)))                                             \
            fail_msg("missing line %s in:\n%s", (l), lw_buf_str(&(r)->out)); \
    } while (0)
#define assert_no(r, s)                                                    \
    do {                                                                   \
        if (strstr(lw_buf_str(&(r)->out), (s)))                            \
            fail_msg("unexpected %s in:\n%s", (s), lw_buf_str(&(r)->out)); \
    } while (0)

static void set(struct lw_labels *ls, const char *n, const char *v)
{
    assert_int_equal(lw_labels_set(ls, n, v), 0);
}

/* ---- translation ---- */

static void test_ruleless_debezium_naming_becomes_canonical(void **state)
{
    (void)state;
    struct lw_labels in, out;
    lw_labels_init(&in);
    set(&in, "__name__", "debezium_mysql_connector_metrics_millisecondsbehindsource");
    set(&in, "context", "streaming");
    set(&in, "server", "orders");
    bool tr;
    assert_int_equal(source_debezium_canonical(&in, &out, &tr), 0);
    assert_true(tr);
    struct lw_buf b;
    lw_buf_init(&b, 4096);
    assert_int_equal(lw_labels_format_metric(&out, &b), 0);
    assert_string_equal(lw_buf_str(&b), "debezium_metrics_MilliSecondsBehindSource{context="
                                        "\"streaming\",name=\"orders\",plugin=\"mysql\"}");
    lw_buf_cleanup(&b);
    lw_labels_cleanup(&out);
    lw_labels_cleanup(&in);
}

static void test_translation_keeps_other_labels_and_handles_other_plugins(void **state)
{
    (void)state;
    struct lw_labels in, out;
    bool tr;
    lw_labels_init(&in);
    set(&in, "__name__", "debezium_sql_server_connector_metrics_RowsScanned");
    set(&in, "context", "snapshot");
    set(&in, "server", "inv");
    set(&in, "task", "0");
    set(&in, "key", "dbo.customers");
    assert_int_equal(source_debezium_canonical(&in, &out, &tr), 0);
    assert_true(tr);
    assert_string_equal(lw_labels_get(&out, "__name__"), "debezium_metrics_RowsScanned");
    assert_string_equal(lw_labels_get(&out, "plugin"), "sql_server");
    assert_string_equal(lw_labels_get(&out, "name"), "inv");
    assert_string_equal(lw_labels_get(&out, "table"), "dbo.customers");
    assert_string_equal(lw_labels_get(&out, "task"), "0");
    assert_null(lw_labels_get(&out, "server"));
    assert_null(lw_labels_get(&out, "key"));
    lw_labels_cleanup(&out);
    lw_labels_cleanup(&in);
}

static void test_canonical_and_unknown_names_are_left_alone(void **state)
{
    (void)state;
    const char *names[] = {"debezium_metrics_MilliSecondsBehindSource",
                           "debezium_mysql_connector_metrics_secondsbehindmaster",
                           "debezium_mysql_connector_metrics_", "kafka_connect_worker_metrics_x",
                           "debezium__connector_metrics_connected"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        struct lw_labels in, out;
        bool tr = true;
        lw_labels_init(&in);
        set(&in, "__name__", names[i]);
        set(&in, "server", "s");
        assert_int_equal(source_debezium_canonical(&in, &out, &tr), 0);
        assert_false(tr);
        assert_true(lw_labels_equal(&in, &out));
        lw_labels_cleanup(&out);
        lw_labels_cleanup(&in);
    }
    assert_string_equal(source_debezium_attribute("isgtidmodeenabled", 17), "IsGtidModeEnabled");
    assert_null(source_debezium_attribute("SecondsBehindMaster", 19));
}

/* ---- exporter pages ---- */

/* Two connectors, both naming styles, Kafka Connect task metrics and client metrics. */
static const char page[] =
    "# HELP debezium_metrics_MilliSecondsBehindSource lag\n"
    "# TYPE debezium_metrics_MilliSecondsBehindSource gauge\n"
    "debezium_metrics_MilliSecondsBehindSource{context=\"streaming\",name=\"orders\",plugin="
    "\"mysql\",} "
    "1500.0\n"
    "debezium_metrics_MilliSecondsBehindSource{context=\"streaming\",name=\"billing\",plugin="
    "\"mysql\",} -1.0\n"
    "debezium_metrics_MilliSecondsBehindSource{context=\"streaming\",name=\"unknown\",plugin="
    "\"mysql\",} 7.0\n"
    "# TYPE debezium_mysql_connector_metrics_connected untyped\n"
    "debezium_mysql_connector_metrics_connected{context=\"streaming\",server=\"billing\",} 1.0\n"
    "debezium_mysql_connector_metrics_snapshotrunning{context=\"snapshot\",server=\"orders\",} "
    "0.0\n"
    "debezium_mysql_connector_metrics_someday{context=\"streaming\",server=\"orders\",} 4.0\n"
    "kafka_connect_connector_task_metrics_status{connector=\"orders-mysql\",task=\"0\",} 1.0\n"
    "kafka_connect_connector_task_metrics_status{connector=\"other\",task=\"0\",} 1.0\n"
    "kafka_connect_worker_metrics_task_count 3.0\n"
    "kafka_consumer_fetch_manager_metrics_records_lag{client_id=\"c\",} 12.0\n";

static void make_set(struct source_exporter_set *es, const char *keep)
{
    struct lw_err err;
    source_exporter_set_init(es);
    struct source_pipeline p = {"orders", "orders", "orders-mysql", {NULL, 0, 0}};
    lw_labels_init(&p.labels);
    set(&p.labels, "team", "data");
    assert_int_equal(
        source_exporter_add(es, "http://user:pw@connect-1:8080/metrics", &p, keep, false, &err), 0);
    lw_labels_cleanup(&p.labels);
    struct source_pipeline q = {"billing", "billing", NULL, {NULL, 0, 0}};
    assert_int_equal(
        source_exporter_add(es, "http://user:pw@connect-1:8080/metrics", &q, keep, false, &err), 0);
}

static void test_shared_exporter_is_one_target_and_samples_go_to_their_pipeline(void **state)
{
    (void)state;
    struct source_exporter_set es;
    make_set(&es, NULL);
    assert_int_equal(es.n, 1);
    struct source_exporter_target *t = &es.targets[0];
    assert_int_equal(t->n_pipelines, 2);
    assert_string_equal(t->instance, "connect-1:8080"); /* no credentials in labels */
    struct rec r;
    struct source_sink sink = rec_sink(&r);
    struct source_exporter_response resp = {200,  NULL,         "text/plain; version=0.0.4",
                                            page, strlen(page), 0.25};
    struct lw_err err;
    assert_int_equal(source_exporter_process(t, &resp, 1000, &sink, &err), 0);
    assert_line(&r, "debezium_metrics_MilliSecondsBehindSource{context=\"streaming\",instance="
                    "\"connect-1:8080\",name=\"orders\",pipeline=\"orders\",plugin=\"mysql\","
                    "team=\"data\"} 1500 @1000");
    assert_line(&r, "debezium_metrics_MilliSecondsBehindSource{context=\"streaming\",instance="
                    "\"connect-1:8080\",name=\"billing\",pipeline=\"billing\",plugin=\"mysql\"} -1 "
                    "@1000");
    /* rule-less naming translated */
    assert_line(&r, "debezium_metrics_Connected{context=\"streaming\",instance=\"connect-1:8080\","
                    "name=\"billing\",pipeline=\"billing\",plugin=\"mysql\"} 1 @1000");
    assert_line(&r, "debezium_metrics_SnapshotRunning{context=\"snapshot\",instance=\"connect-1:"
                    "8080\",name=\"orders\",pipeline=\"orders\",plugin=\"mysql\",team=\"data\"} 0 "
                    "@1000");
    assert_line(&r, "kafka_connect_connector_task_metrics_status{connector=\"orders-mysql\","
                    "instance=\"connect-1:8080\",pipeline=\"orders\",task=\"0\",team=\"data\"} 1 "
                    "@1000");
    assert_line(&r, "kafka_connect_worker_metrics_task_count{instance=\"connect-1:8080\"} 3 @1000");
    /* an attribute the translation does not know keeps its name and still finds its pipeline */
    assert_line(&r, "debezium_mysql_connector_metrics_someday{context=\"streaming\",instance="
                    "\"connect-1:8080\",pipeline=\"orders\",server=\"orders\",team=\"data\"} 4 "
                    "@1000");
    assert_no(&r, "unknown");
    assert_no(&r, "connector=\"other\"");
    assert_no(&r, "kafka_consumer");
    assert_no(&r, "debezium_mysql_connector_metrics_connected");
    assert_line(&r, "up{instance=\"connect-1:8080\",pipeline=\"orders\",source=\"debezium\","
                    "team=\"data\"} 1 @1000");
    assert_line(&r, "up{instance=\"connect-1:8080\",pipeline=\"billing\",source=\"debezium\"} 1 "
                    "@1000");
    assert_line(&r, "scrape_duration_seconds{instance=\"connect-1:8080\",pipeline=\"billing\","
                    "source=\"debezium\"} 0.25 @1000");
    assert_int_equal(r.begins, 1);
    assert_int_equal(r.oks, 1);
    assert_true(t->last_ok);
    assert_int_equal(t->last_samples, 7);
    lw_buf_cleanup(&r.out);
    source_exporter_set_cleanup(&es);
}

static void test_keep_regex_selects_series(void **state)
{
    (void)state;
    struct source_exporter_set es;
    make_set(&es, "debezium_metrics_Connected|kafka_consumer_.*");
    struct rec r;
    struct source_sink sink = rec_sink(&r);
    struct source_exporter_response resp = {200, NULL, NULL, page, strlen(page), 0.1};
    struct lw_err err;
    assert_int_equal(source_exporter_process(&es.targets[0], &resp, 5, &sink, &err), 0);
    assert_line(&r, "debezium_metrics_Connected{context=\"streaming\",instance=\"connect-1:8080\","
                    "name=\"billing\",pipeline=\"billing\",plugin=\"mysql\"} 1 @5");
    assert_line(&r, "kafka_consumer_fetch_manager_metrics_records_lag{client_id=\"c\",instance="
                    "\"connect-1:8080\"} 12 @5");
    assert_no(&r, "MilliSecondsBehindSource");
    lw_buf_cleanup(&r.out);
    source_exporter_set_cleanup(&es);

    struct lw_err e2;
    source_exporter_set_init(&es);
    struct source_pipeline p = {"x", "x", NULL, {NULL, 0, 0}};
    assert_int_equal(source_exporter_add(&es, "http://h/metrics", &p, "a(?=b)", false, &e2), -1);
    assert_non_null(strstr(e2.msg, "lookaround"));
    source_exporter_set_cleanup(&es);
}

static void test_failed_scrape_appends_nothing_and_reports_down(void **state)
{
    (void)state;
    struct source_exporter_set es;
    make_set(&es, NULL);
    struct source_exporter_target *t = &es.targets[0];
    struct rec r;
    struct source_sink sink = rec_sink(&r);
    static const char bad[] = "debezium_metrics_Connected{name=\"orders\"} 1\n"
                              "debezium_metrics_Connected{name=\"orders\" 1\n";
    struct source_exporter_response resp = {200, NULL, NULL, bad, strlen(bad), 0.1};
    struct lw_err err;
    assert_int_equal(source_exporter_process(t, &resp, 7, &sink, &err), -1);
    assert_non_null(strstr(err.msg, "2:42: expected ',' or '}'"));
    assert_null(strstr(err.msg, "pw")); /* credentials never in errors */
    assert_non_null(strstr(err.msg, "scrape http://connect-1:8080/metrics: text format: "));
    assert_int_equal(err.line, 2);
    assert_no(&r, "debezium_metrics_Connected");
    assert_line(&r, "up{instance=\"connect-1:8080\",pipeline=\"orders\",source=\"debezium\","
                    "team=\"data\"} 0 @7");
    assert_int_equal(r.ends, 1);
    assert_int_equal(r.oks, 0);
    assert_false(t->last_ok);
    lw_buf_cleanup(&r.out);

    sink = rec_sink(&r);
    struct source_exporter_response down = {503, NULL, NULL, "", 0, 0.1};
    assert_int_equal(source_exporter_process(t, &down, 8, &sink, &err), -1);
    assert_non_null(strstr(err.msg, "HTTP status 503"));
    assert_line(&r,
                "up{instance=\"connect-1:8080\",pipeline=\"billing\",source=\"debezium\"} 0 @8");
    lw_buf_cleanup(&r.out);

    sink = rec_sink(&r);
    struct source_exporter_response refused = {0, "Connection refused", NULL, "", 0, 0.0};
    assert_int_equal(source_exporter_process(t, &refused, 9, &sink, &err), -1);
    assert_non_null(strstr(err.msg, "Connection refused"));
    lw_buf_cleanup(&r.out);
    source_exporter_set_cleanup(&es);
}

static void test_openmetrics_answer_is_parsed_as_openmetrics(void **state)
{
    (void)state;
    struct source_exporter_set es;
    make_set(&es, NULL);
    static const char om[] = "# TYPE debezium_metrics_Connected gauge\n"
                             "debezium_metrics_Connected{name=\"orders\"} 1 1700000000.5\n# EOF\n";
    struct rec r;
    struct source_sink sink = rec_sink(&r);
    struct source_exporter_response resp = {
        200, NULL,       "application/openmetrics-text; version=1.0.0; charset=utf-8",
        om,  strlen(om), 0.1};
    struct lw_err err;
    assert_int_equal(source_exporter_process(&es.targets[0], &resp, 1, &sink, &err), 0);
    assert_line(&r, "debezium_metrics_Connected{instance=\"connect-1:8080\",name=\"orders\","
                    "pipeline=\"orders\",team=\"data\"} 1 @1700000000500");
    lw_buf_cleanup(&r.out);
    /* the same page announced as 0.0.4 fails: "# EOF" is a comment but seconds are not ms */
    source_exporter_set_cleanup(&es);
}

/* ---- Kafka Connect ---- */

static const char kc_failed[] =
    "{\"name\":\"orders-mysql\",\"connector\":{\"state\":\"RUNNING\",\"worker_id\":\"10.0.0.5:"
    "8083\"},"
    "\"tasks\":[{\"id\":0,\"state\":\"FAILED\",\"worker_id\":\"10.0.0.5:8083\",\"trace\":"
    "\"org.apache.kafka.connect.errors.ConnectException: An exception occurred in the change event "
    "producer. This connector will be stopped.\\n\\tat "
    "io.debezium.pipeline.ErrorHandler.setProducerThrowable(ErrorHandler.java:50)\\n"
    "\\tat a.b(C.java:1)\\n\\tat a.b(C.java:2)\\n\\tat a.b(C.java:3)\\n\\tat a.b(C.java:4)\\n"
    "Caused by: com.github.shyiko.mysql.binlog.network.ServerException: Could not find first log "
    "file name in binary log index file\"},"
    "{\"id\":1,\"state\":\"RUNNING\",\"worker_id\":\"10.0.0.6:8083\"}],\"type\":\"source\"}";

static void test_kafka_connect_status_with_a_failed_task(void **state)
{
    (void)state;
    struct source_kc_status st;
    struct lw_err err;
    assert_int_equal(source_kc_parse_status(kc_failed, strlen(kc_failed), &st, &err), 0);
    assert_string_equal(st.name, "orders-mysql");
    assert_string_equal(st.state, "RUNNING");
    assert_string_equal(st.type, "source");
    assert_int_equal(st.n_tasks, 2);
    assert_string_equal(st.tasks[0].state, "FAILED");
    /* first LW_MAX_TRACE_LINES lines, indentation trimmed */
    assert_string_equal(
        st.tasks[0].trace,
        "org.apache.kafka.connect.errors.ConnectException: An exception occurred in "
        "the change event producer. This connector will be stopped.\n"
        "at io.debezium.pipeline.ErrorHandler.setProducerThrowable(ErrorHandler.java:"
        "50)\nat a.b(C.java:1)\nat a.b(C.java:2)\nat a.b(C.java:3)");
    assert_null(st.tasks[1].trace);
    source_kc_status_cleanup(&st);

    struct rec r;
    struct source_sink sink = rec_sink(&r);
    struct lw_labels base;
    lw_labels_init(&base);
    set(&base, "team", "data");
    struct source_kc_response resp = {200, NULL, kc_failed, strlen(kc_failed), 0.05};
    assert_int_equal(source_kc_process("http://kc:8083/connectors/orders-mysql/status",
                                       "orders-mysql", "orders", &base, &resp, 42, &sink, NULL,
                                       &err),
                     0);
    assert_line(&r, "kafka_connect_connector_state{connector=\"orders-mysql\",pipeline=\"orders\","
                    "state=\"RUNNING\",team=\"data\"} 1 @42");
    assert_line(&r, "kafka_connect_task_state{connector=\"orders-mysql\",pipeline=\"orders\","
                    "state=\"FAILED\",task=\"0\",team=\"data\"} 1 @42");
    assert_line(&r, "kafka_connect_task_state{connector=\"orders-mysql\",pipeline=\"orders\","
                    "state=\"RUNNING\",task=\"1\",team=\"data\"} 1 @42");
    assert_non_null(strstr(lw_buf_str(&r.out),
                           "kafka_connect_task_trace_info{connector=\"orders-"
                           "mysql\",pipeline=\"orders\",task=\"0\",team=\"data\","
                           "trace=\"org.apache.kafka.connect.errors."));
    assert_no(&r, "connector_trace_info");
    assert_line(&r, "up{pipeline=\"orders\",source=\"kafka_connect\",team=\"data\"} 1 @42");
    lw_buf_cleanup(&r.out);
    lw_labels_cleanup(&base);
}

static void test_kafka_connect_unknown_connector_is_reported_as_such(void **state)
{
    (void)state;
    static const char body[] = "{\"error_code\":404,\"message\":\"No status found for connector "
                               "nope\"}";
    struct rec r;
    struct source_sink sink = rec_sink(&r);
    struct source_kc_response resp = {404, NULL, body, strlen(body), 0.01};
    struct lw_err err;
    assert_int_equal(source_kc_process("http://kc:8083/connectors/nope/status", "nope", "p", NULL,
                                       &resp, 1, &sink, NULL, &err),
                     -1);
    assert_string_equal(err.msg, "Kafka Connect: connector nope not found on "
                                 "http://kc:8083/connectors/nope/status (404): No status found for "
                                 "connector nope");
    assert_line(&r, "up{pipeline=\"p\",source=\"kafka_connect\"} 0 @1");
    assert_no(&r, "kafka_connect_connector_state");
    lw_buf_cleanup(&r.out);
}

static void test_kafka_connect_bad_answers_fail_clearly(void **state)
{
    (void)state;
    struct source_kc_status st;
    struct lw_err err;
    assert_int_equal(source_kc_parse_status("{\"name\":\"x\",", 12, &st, &err), -1);
    assert_non_null(strstr(err.msg, "bad JSON"));
    assert_int_equal(err.line, 1);
    const char *no_state = "{\"name\":\"x\",\"connector\":{},\"tasks\":[]}";
    assert_int_equal(source_kc_parse_status(no_state, strlen(no_state), &st, &err), -1);
    assert_string_equal(err.msg, "Kafka Connect status: connector has no \"state\"");
    const char *bad_task =
        "{\"name\":\"x\",\"connector\":{\"state\":\"RUNNING\"},\"tasks\":[{\"id\":\"0\"}]}";
    assert_int_equal(source_kc_parse_status(bad_task, strlen(bad_task), &st, &err), -1);
    assert_non_null(strstr(err.msg, "tasks[0] has no integer \"id\""));
}

static void test_urls_are_escaped(void **state)
{
    (void)state;
    char *u = source_kc_status_url("http://kc:8083/", "orders mysql/1");
    assert_string_equal(u, "http://kc:8083/connectors/orders%20mysql%2F1/status");
    free(u);
    u = source_prom_query_url("http://prom:9090", "debezium_metrics_Connected{name=\"a\"}");
    assert_string_equal(u, "http://prom:9090/api/v1/query?query=debezium_metrics_Connected%7Bname%"
                           "3D%22a%22%7D");
    free(u);
    u = source_kc_trace_head("");
    assert_null(u);
}

/* ---- Prometheus API ---- */

static void test_prometheus_vector_and_matrix_answers(void **state)
{
    (void)state;
    static const char vec[] =
        "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":["
        "{\"metric\":{\"__name__\":\"debezium_metrics_MilliSecondsBehindSource\",\"name\":"
        "\"orders\"},"
        "\"value\":[1700000000.123,\"1500\"]},"
        "{\"metric\":{\"__name__\":\"x\"},\"value\":[1700000000,\"NaN\"]}]}}";
    struct rec r;
    struct source_sink sink = rec_sink(&r);
    struct lw_err err;
    assert_int_equal(source_prom_parse(vec, strlen(vec), "orders", NULL, &sink, &err), 2);
    assert_line(&r,
                "debezium_metrics_MilliSecondsBehindSource{name=\"orders\",pipeline=\"orders\"} "
                "1500 @1700000000123");
    assert_line(&r, "x{pipeline=\"orders\"} NaN @1700000000000");
    lw_buf_cleanup(&r.out);

    static const char mat[] =
        "{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\",\"result\":"
        "[{\"metric\":{\"__name__\":\"y\"},\"values\":[[1,\"1\"],[2,\"+Inf\"]]}]}}";
    sink = rec_sink(&r);
    assert_int_equal(source_prom_parse(mat, strlen(mat), NULL, NULL, &sink, &err), 2);
    assert_line(&r, "y 1 @1000");
    assert_line(&r, "y +Inf @2000");
    lw_buf_cleanup(&r.out);
}

static void test_prometheus_errors_and_scalars_are_refused(void **state)
{
    (void)state;
    struct rec r;
    struct source_sink sink = rec_sink(&r);
    struct lw_err err;
    static const char bad[] =
        "{\"status\":\"error\",\"errorType\":\"bad_data\",\"error\":\"invalid "
        "parameter \\\"query\\\": 1:5: parse error\"}";
    struct source_prom_response resp = {400, NULL, bad, strlen(bad), 0.01};
    assert_int_equal(
        source_prom_process("http://p/api/v1/query?query=x", "o", NULL, &resp, 3, &sink, &err), -1);
    assert_string_equal(err.msg, "Prometheus query failed: bad_data: invalid parameter \"query\": "
                                 "1:5: parse error");
    assert_line(&r, "up{pipeline=\"o\",source=\"prometheus\"} 0 @3");
    lw_buf_cleanup(&r.out);

    static const char sc[] =
        "{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\",\"result\":"
        "[1,\"2\"]}}";
    sink = rec_sink(&r);
    assert_int_equal(source_prom_parse(sc, strlen(sc), NULL, NULL, &sink, &err), -1);
    assert_non_null(strstr(err.msg, "resultType scalar"));
    static const char half[] =
        "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":"
        "[{\"metric\":{},\"value\":[1,\"2\"]},{\"metric\":{},\"value\":[1,\"x\"]}]}}";
    assert_int_equal(source_prom_parse(half, strlen(half), NULL, NULL, &sink, &err), -1);
    assert_non_null(strstr(err.msg, "result[1]"));
    assert_int_equal(r.out.len, 0); /* all or nothing */
    lw_buf_cleanup(&r.out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ruleless_debezium_naming_becomes_canonical),
        cmocka_unit_test(test_translation_keeps_other_labels_and_handles_other_plugins),
        cmocka_unit_test(test_canonical_and_unknown_names_are_left_alone),
        cmocka_unit_test(test_shared_exporter_is_one_target_and_samples_go_to_their_pipeline),
        cmocka_unit_test(test_keep_regex_selects_series),
        cmocka_unit_test(test_failed_scrape_appends_nothing_and_reports_down),
        cmocka_unit_test(test_openmetrics_answer_is_parsed_as_openmetrics),
        cmocka_unit_test(test_kafka_connect_status_with_a_failed_task),
        cmocka_unit_test(test_kafka_connect_unknown_connector_is_reported_as_such),
        cmocka_unit_test(test_kafka_connect_bad_answers_fail_clearly),
        cmocka_unit_test(test_urls_are_escaped),
        cmocka_unit_test(test_prometheus_vector_and_matrix_answers),
        cmocka_unit_test(test_prometheus_errors_and_scalars_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
