/* test_views.c — /api/v1/alerts and /api/v1/rules byte for byte in Prometheus's shapes, Go's
 * number and string spellings, "suppressed by" (failover hold, silence, inhibit rule), and the
 * status page: lags per pipeline, sources, alerts with what suppresses them, all escaped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lagwatch/config.h"
#include "lagwatch/failover.h"
#include "lagwatch/rules.h"
#include "lagwatch/runtime.h"
#include "lagwatch/store.h"
#include "lagwatch/suppress.h"
#include "lagwatch/views.h"

#define T0 1764340200000LL /* 2025-11-28T14:30:00Z */

static const char RULES[] = "groups:\n"
                            "  - name: cdc\n"
                            "    interval: 30s\n"
                            "    rules:\n"
                            "      - record: pipeline:lag:max\n"
                            "        expr: max by (pipeline) (lag)\n"
                            "      - alert: HighLag\n"
                            "        expr: lag > 10\n"
                            "        for: 1m\n"
                            "        labels: {severity: page}\n"
                            "        annotations: {summary: 'lag is high <b>&'}\n"
                            "      - alert: Quiet\n"
                            "        expr: lag > 1000\n";

static const char CONFIG[] =
    "global: {evaluation_interval: 30s}\n"
    "pipelines:\n"
    "  - name: orders\n"
    "    aurora: {cluster: orders-aurora, region: us-east-1}\n"
    "    debezium: {exporter: 'http://connect:8080/metrics', server: orders}\n"
    "  - name: users\n"
    "    debezium: {exporter: 'http://connect:8080/metrics', server: users}\n"
    "route: {receiver: oncall}\n"
    "receivers: [{name: oncall}]\n"
    "inhibit_rules:\n"
    "  - source_matchers: ['alertname=\"HighLag\"', 'pipeline=\"orders\"']\n"
    "    target_matchers: ['alertname=\"Quiet\"']\n"
    "    equal: [pipeline]\n";

struct fx {
    struct rule_set *rs;
    struct store *st;
    struct config *cfg;
};

static void add(struct store *st, const char *name, const char *pipeline, int64_t t, double v)
{
    struct lw_labels ls;
    struct lw_err err = {0};
    lw_labels_init(&ls);
    assert_int_equal(lw_labels_set(&ls, "__name__", name), 0);
    assert_int_equal(lw_labels_set(&ls, "pipeline", pipeline), 0);
    assert_int_equal(store_append(st, &ls, t, v, &err), 0);
    lw_labels_cleanup(&ls);
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    struct lw_err err = {0};
    assert_int_equal(rule_set_load_buf(RULES, strlen(RULES), "cdc.rules.yml", NULL, &f->rs, &err),
                     0);
    assert_int_equal(config_parse_buf(CONFIG, strlen(CONFIG), "lagwatch.yml", NULL, &f->cfg, &err),
                     0);
    struct store_options so = {.retention_ms = 3600 * 1000};
    f->st = store_new(&so);
    /* orders lags from the start, users from the third evaluation on */
    for (int i = 0; i <= 2; i++) {
        int64_t t = T0 + i * 30000;
        add(f->st, "lag", "orders", t, 20);
        if (i == 2)
            add(f->st, "lag", "users", t, 15);
        struct rule_group *g = rule_set_group(f->rs, 0);
        assert_int_equal(rule_group_eval(g, f->st, t, &err), 0);
    }
    add(f->st, "aws_rds_aurora_binlog_replica_lag_maximum", "orders", T0, 90);
    add(f->st, "debezium_metrics_MilliSecondsBehindSource", "orders", T0 + 60000, 1500);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    rule_set_free(f->rs);
    store_free(f->st);
    config_free(f->cfg);
    free(f);
    return 0;
}

static char *render(int (*fn)(const struct views_context *, struct lw_buf *),
                    const struct views_context *c)
{
    struct lw_buf b;
    lw_buf_init(&b, 1 << 20);
    assert_int_equal(fn(c, &b), 0);
    return lw_buf_take(&b);
}

static void test_api_alerts_matches_prometheus_byte_for_byte(void **state)
{
    struct fx *f = *state;
    struct views_context c = {.cfg = f->cfg, .rules = f->rs, .now_ms = T0 + 60000};
    char *s = render(views_api_alerts, &c);
    assert_string_equal(
        s, "{\"status\":\"success\",\"data\":{\"alerts\":["
           "{\"labels\":{\"alertname\":\"HighLag\",\"pipeline\":\"orders\",\"severity\":\"page\"},"
           "\"annotations\":{\"summary\":\"lag is high \\u003cb\\u003e\\u0026\"},"
           "\"state\":\"firing\",\"activeAt\":\"2025-11-28T14:30:00Z\",\"value\":\"2e+01\"},"
           "{\"labels\":{\"alertname\":\"HighLag\",\"pipeline\":\"users\",\"severity\":\"page\"},"
           "\"annotations\":{\"summary\":\"lag is high \\u003cb\\u003e\\u0026\"},"
           "\"state\":\"pending\",\"activeAt\":\"2025-11-28T14:31:00Z\",\"value\":\"1.5e+01\"}"
           "]}}");
    free(s);
}

static void test_api_alerts_with_no_rules_is_an_empty_list(void **state)
{
    (void)state;
    struct views_context c = {.now_ms = T0};
    char *s = render(views_api_alerts, &c);
    assert_string_equal(s, "{\"status\":\"success\",\"data\":{\"alerts\":[]}}");
    free(s);
}

static int rules_all(const struct views_context *c, struct lw_buf *b)
{
    return views_api_rules(c, NULL, b);
}

static void test_api_rules_shapes_of_alerting_and_recording_rules(void **state)
{
    struct fx *f = *state;
    struct views_context c = {.cfg = f->cfg, .rules = f->rs, .now_ms = T0 + 60000};
    char *s = render(rules_all, &c);
    /* durations and times vary with the machine: check the fixed parts in order */
    const char *want[] = {
        "{\"status\":\"success\",\"data\":{\"groups\":[{\"name\":\"cdc\",\"file\":\"cdc.rules."
        "yml\","
        "\"rules\":[{\"name\":\"pipeline:lag:max\",\"query\":\"max by (pipeline) (lag)\","
        "\"health\":\"ok\",\"evaluationTime\":",
        ",\"lastEvaluation\":\"2025-11-28T14:31:00Z\",\"type\":\"recording\"},"
        "{\"state\":\"firing\",\"name\":\"HighLag\",\"query\":\"lag \\u003e 10\",\"duration\":60,"
        "\"keepFiringFor\":0,\"labels\":{\"severity\":\"page\"},"
        "\"annotations\":{\"summary\":\"lag is high \\u003cb\\u003e\\u0026\"},\"alerts\":[{",
        "\"health\":\"ok\",\"evaluationTime\":",
        ",\"type\":\"alerting\"},{\"state\":\"inactive\",\"name\":\"Quiet\",\"query\":\"lag "
        "\\u003e 1000\","
        "\"duration\":0,\"keepFiringFor\":0,\"labels\":{},\"annotations\":{},\"alerts\":[],"
        "\"health\":\"ok\",\"evaluationTime\":",
        "],\"interval\":30,\"limit\":0,\"evaluationTime\":",
        ",\"lastEvaluation\":\"2025-11-28T14:31:00Z\"}]}}"};
    const char *p = s;
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const char *hit = strstr(p, want[i]);
        if (!hit)
            fail_msg("missing %s\nin %s", want[i], s);
        p = hit + strlen(want[i]);
    }
    assert_string_equal(p, "");
    free(s);
}

static void test_api_rules_type_filter_and_bad_type(void **state)
{
    struct fx *f = *state;
    struct views_context c = {.cfg = f->cfg, .rules = f->rs, .now_ms = T0};
    struct lw_buf b;
    lw_buf_init(&b, 1 << 20);
    assert_int_equal(views_api_rules(&c, "record", &b), 0);
    assert_non_null(strstr(b.data, "pipeline:lag:max"));
    assert_null(strstr(b.data, "HighLag"));
    lw_buf_reset(&b);
    assert_int_equal(views_api_rules(&c, "alert", &b), 0);
    assert_null(strstr(b.data, "pipeline:lag:max"));
    assert_non_null(strstr(b.data, "HighLag"));
    lw_buf_reset(&b);
    assert_int_equal(views_api_rules(&c, "bogus", &b), 1);
    assert_string_equal(b.data, "{\"status\":\"error\",\"errorType\":\"bad_data\",\"error\":"
                                "\"invalid parameter \\\"type\\\": not supported value "
                                "\\\"bogus\\\"\"}");
    lw_buf_cleanup(&b);
}

static void check_json_float(double v, const char *want)
{
    struct lw_buf b;
    lw_buf_init(&b, 128);
    assert_int_equal(views_json_float(&b, v), 0);
    assert_string_equal(b.data, want);
    lw_buf_cleanup(&b);
}

static void check_go_e(double v, const char *want)
{
    struct lw_buf b;
    lw_buf_init(&b, 128);
    assert_int_equal(views_go_float_e(&b, v), 0);
    assert_string_equal(b.data, want);
    lw_buf_cleanup(&b);
}

static void test_numbers_as_go_writes_them(void **state)
{
    (void)state;
    check_json_float(300, "300");
    check_json_float(0.5, "0.5");
    check_json_float(12.5, "12.5");
    check_json_float(0.000312, "0.000312");
    check_json_float(-2.25, "-2.25");
    check_json_float(0, "0");
    check_json_float(1e-7, "1e-7");
    check_json_float(1.5e21, "1.5e+21");
    check_json_float(123456789012, "123456789012");
    check_json_float(0.1, "0.1");
    check_go_e(1, "1e+00");
    check_go_e(20, "2e+01");
    check_go_e(15, "1.5e+01");
    check_go_e(-0.001, "-1e-03");
    check_go_e(1e100, "1e+100");
    check_go_e(0.1 + 0.2, "3.0000000000000004e-01");
    check_go_e(0.0 / 0.0, "NaN");
    check_go_e(1.0 / 0.0, "+Inf");
}

static void test_strings_as_go_escapes_them(void **state)
{
    (void)state;
    struct lw_buf b;
    lw_buf_init(&b, 256);
    assert_int_equal(views_json_string(&b, "a\"b\\c\n\t\x01<>&\xE2\x80\xA8 \xC3\xA9 \xFF"), 0);
    assert_string_equal(
        b.data, "\"a\\\"b\\\\c\\n\\t\\u0001\\u003c\\u003e\\u0026\\u2028 \xC3\xA9 \\ufffd\"");
    lw_buf_cleanup(&b);
}

static void test_suppressed_by_failover_silence_and_inhibit(void **state)
{
    struct fx *f = *state;
    int64_t now = T0 + 60000;
    struct failover *fo = failover_new(10 * 60 * 1000);
    assert_int_equal(failover_manual(fo, "orders-aurora", true, "alice", now - 1000), 1);
    struct silences sil;
    silences_init(&sil);
    struct lw_err err = {0};
    const char *m[] = {"pipeline=\"orders\""};
    assert_int_equal(
        silences_add(&sil, "s-1", m, 1, now - 1000, now + 3600 * 1000, "bob", "maintenance", &err),
        0);
    struct views_context c = {
        .cfg = f->cfg, .rules = f->rs, .failover = fo, .silences = &sil, .now_ms = now};
    struct lw_labels ls;
    lw_labels_init(&ls);
    assert_int_equal(lw_labels_set(&ls, "alertname", "Quiet"), 0);
    assert_int_equal(lw_labels_set(&ls, "pipeline", "orders"), 0);
    struct views_suppression s[VIEWS_MAX_SUPPRESSIONS];
    size_t n = views_suppressed_by(&c, &ls, s, VIEWS_MAX_SUPPRESSIONS);
    assert_int_equal(n, 3);
    assert_string_equal(s[0].reason, "failover:orders-aurora");
    assert_int_equal(s[0].kind, VIEWS_SUPPRESSED_FAILOVER);
    assert_string_equal(s[1].reason, "silence:s-1");
    assert_non_null(strstr(s[1].detail, "bob"));
    assert_non_null(strstr(s[1].detail, "maintenance"));
    assert_string_equal(s[2].reason, "inhibit:HighLag");
    assert_non_null(strstr(s[2].detail, "pipeline=\"orders\""));
    /* users has no Aurora cluster, no silence, and the inhibit rule needs pipeline=orders */
    assert_int_equal(lw_labels_set(&ls, "pipeline", "users"), 0);
    assert_int_equal(views_suppressed_by(&c, &ls, s, VIEWS_MAX_SUPPRESSIONS), 0);
    lw_labels_cleanup(&ls);
    silences_cleanup(&sil);
    failover_free(fo);
}

static void test_status_page_shows_lags_sources_alerts_and_escapes(void **state)
{
    struct fx *f = *state;
    int64_t now = T0 + 60000;
    struct failover *fo = failover_new(10 * 60 * 1000);
    assert_int_equal(failover_manual(fo, "orders-aurora", true, "alice", now - 1000), 1);
    struct runtime_source_health h[2] = {{.name = "debezium",
                                          .pipeline = "orders",
                                          .target = "http://connect:8080/metrics",
                                          .up = true,
                                          .has_run = true,
                                          .last_run_ms = now},
                                         {.name = "kafka_connect",
                                          .pipeline = "users",
                                          .target = "http://connect:8083",
                                          .up = false,
                                          .has_run = true,
                                          .last_run_ms = now,
                                          .last_error = "connection refused <script>"}};
    const struct runtime_source_health *hp[] = {&h[0], &h[1]};
    struct views_context c = {.cfg = f->cfg,
                              .rules = f->rs,
                              .store = f->st,
                              .sources = hp,
                              .n_sources = 2,
                              .failover = fo,
                              .now_ms = now,
                              .version = "0.1.0"};
    char *s = render(views_status_page, &c);
    assert_non_null(strstr(s, "<!DOCTYPE html>"));
    assert_null(strstr(s, "<script"));
    assert_null(strstr(s, "src="));
    assert_null(strstr(s, "stylesheet"));
    /* orders: Aurora 90 s, Debezium 1.5 s, held by the failover, its one source up */
    assert_non_null(strstr(s, "<tr><td>orders</td><td>orders-aurora</td><td>1m 30s</td>"
                              "<td>1.5s</td><td class=\"warn\">held</td>"
                              "<td class=\"ok\">1/1 up</td></tr>"));
    assert_non_null(strstr(s, "<tr><td>users</td><td>-</td><td class=\"nodata\">no data</td>"
                              "<td class=\"nodata\">no data</td><td>-</td>"
                              "<td class=\"bad\">0/1 up</td></tr>"));
    assert_non_null(strstr(s, "connection refused &lt;script&gt;"));
    assert_non_null(strstr(s, "lag is high &lt;b&gt;&amp;"));
    assert_non_null(strstr(s, ">failover:orders-aurora</span>"));
    assert_non_null(strstr(s, "<tr class=\"firing\"><td>HighLag</td><td>firing</td>"));
    assert_non_null(strstr(s, "<tr class=\"pending\"><td>HighLag</td><td>pending</td>"));
    assert_non_null(strstr(s, "<td>orders-aurora</td><td>in progress</td>"));
    free(s);
    failover_free(fo);
}

static void test_status_page_with_nothing_loaded(void **state)
{
    (void)state;
    struct views_context c = {.now_ms = T0};
    char *s = render(views_status_page, &c);
    assert_non_null(strstr(s, "No alert is pending or firing."));
    assert_non_null(strstr(s, "</html>"));
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_api_alerts_matches_prometheus_byte_for_byte, setup,
                                        teardown),
        cmocka_unit_test(test_api_alerts_with_no_rules_is_an_empty_list),
        cmocka_unit_test_setup_teardown(test_api_rules_shapes_of_alerting_and_recording_rules,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_api_rules_type_filter_and_bad_type, setup, teardown),
        cmocka_unit_test(test_numbers_as_go_writes_them),
        cmocka_unit_test(test_strings_as_go_escapes_them),
        cmocka_unit_test_setup_teardown(test_suppressed_by_failover_silence_and_inhibit, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_status_page_shows_lags_sources_alerts_and_escapes,
                                        setup, teardown),
        cmocka_unit_test(test_status_page_with_nothing_loaded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
