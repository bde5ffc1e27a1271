/* test_config.c — the config file: defaults, every section, interpolation, *_file secrets,
 * file:line:col errors with "did you mean", cross-references, rule_files globs and --print. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "lagwatch/config.h"
#include "lagwatch/creds.h"
#include "testsupport.h"

static const char *fake_env(const char *name, void *ctx)
{
    (void)ctx;
    if (strcmp(name, "PD_ROUTING_KEY") == 0)
        return "pd-secret-123";
    if (strcmp(name, "AWS_REGION") == 0)
        return "eu-central-1";
    return NULL;
}

static const struct config_options opts = {.env = fake_env};

static struct config *parse_ok(const char *text)
{
    struct config *cfg = NULL;
    struct lw_err err = {0};
    if (config_parse_buf(text, strlen(text), "/etc/lagwatch/c.yml", &opts, &cfg, &err) != 0)
        fail_msg("config failed: %d:%d: %s", err.line, err.col, err.msg);
    return cfg;
}

static struct lw_err parse_fail(const char *text)
{
    struct config *cfg = (struct config *)0x1;
    struct lw_err err = {0};
    assert_int_equal(config_parse_buf(text, strlen(text), "c.yml", &opts, &cfg, &err), -1);
    assert_ptr_equal(cfg, (struct config *)0x1);
    assert_string_equal(err.file, "c.yml");
    assert_true(err.msg[0] != '\0');
    return err;
}

static void test_empty_config_gets_every_default(void **state)
{
    (void)state;
    struct config *cfg = parse_ok("");
    assert_int_equal(cfg->global.scrape_interval_ms, 15000);
    assert_int_equal(cfg->global.scrape_timeout_ms, 10000);
    assert_int_equal(cfg->global.evaluation_interval_ms, 30000);
    assert_int_equal(cfg->global.notification_max_age_ms, 24LL * 3600 * 1000);
    assert_string_equal(cfg->global.state_dir, "/var/lib/lagwatch");
    assert_string_equal(cfg->global.listen, "127.0.0.1:9741");
    assert_string_equal(cfg->global.external_url, "http://127.0.0.1:9741");
    assert_string_equal(cfg->dir, "/etc/lagwatch");
    assert_true(cfg->failover_hold_enabled);
    assert_int_equal(cfg->failover_hold_ms, 600000);
    assert_int_equal(cfg->n_pipelines, 0);
    assert_null(cfg->route);
    config_free(cfg);
}

static void test_scrape_timeout_defaults_to_interval_when_shorter(void **state)
{
    (void)state;
    struct config *cfg = parse_ok("global: {scrape_interval: 2s}\n");
    assert_int_equal(cfg->global.scrape_timeout_ms, 2000);
    config_free(cfg);
    struct lw_err err = parse_fail("global: {scrape_interval: 2s, scrape_timeout: 5s}\n");
    assert_non_null(strstr(err.msg, "scrape_timeout must not be longer"));
}

static void test_example_config_parses_with_all_sections(void **state)
{
    (void)state;
    char path[4096];
    snprintf(path, sizeof path, "%s/packaging/lagwatch.example.yml", LAGWATCH_SOURCE_DIR);
    struct config *cfg = NULL;
    struct lw_err err = {0};
    if (config_load_file(path, &opts, &cfg, &err) != 0)
        fail_msg("%s:%d:%d: %s", err.file, err.line, err.col, err.msg);
    assert_string_equal(cfg->aws.region, "eu-central-1");
    assert_int_equal(cfg->n_pipelines, 2);
    const struct config_pipeline *p = config_pipeline_find(cfg, "orders");
    assert_non_null(p);
    assert_string_equal(lw_labels_get(&p->labels, "team"), "data-platform");
    assert_string_equal(p->aurora->cluster, "orders-aurora");
    assert_int_equal(p->aurora->interval_ms, 60000);
    assert_int_equal(p->aurora->n_metrics, 3);
    assert_string_equal(p->debezium->server, "orders");
    assert_int_equal(p->debezium->n_exporters, 1);
    assert_string_equal(p->kafka_connect->connector, "orders-mysql");
    const struct config_pipeline *q = config_pipeline_find(cfg, "payments");
    assert_int_equal(q->debezium->n_exporters, 2);
    assert_null(q->kafka_connect);
    assert_null(config_pipeline_find(cfg, "nope"));
    assert_int_equal(config_rule_option_find(cfg, "DebeziumHighBinlogLag")->no_data,
                     CONFIG_NO_DATA_KEEP_STATE);
    assert_non_null(cfg->route);
    assert_int_equal(cfg->receivers->n, 1);
    const struct yamldoc_node *pd = yamldoc_map_get(cfg->receivers->items[0], "pagerduty_configs");
    assert_string_equal(yamldoc_map_get(pd->items[0], "routing_key")->scalar, "pd-secret-123");
    /* The notify module decoded route and receivers as part of the load. */
    assert_non_null(cfg->notify.route);
    assert_int_equal(cfg->notify.receivers.n, 1);
    config_free(cfg);
}

static void test_aurora_defaults(void **state)
{
    (void)state;
    struct config *cfg = parse_ok("pipelines:\n  - name: a\n    aurora: {cluster: c1}\n");
    const struct config_aurora *a = cfg->pipelines[0].aurora;
    assert_int_equal(a->interval_ms, 60000);
    assert_int_equal(a->period_ms, 60000);
    assert_true(a->failover_detection);
    assert_int_equal(a->n_metrics, 3);
    assert_string_equal(a->metrics[0], "AuroraBinlogReplicaLag");
    assert_string_equal(a->metrics[2], "SumBinaryLogSize");
    assert_null(a->region);
    config_free(cfg);
}

static void test_unknown_key_says_where_and_suggests(void **state)
{
    (void)state;
    struct lw_err err = parse_fail("global:\n  scrape_intervall: 15s\n");
    assert_int_equal(err.line, 2);
    assert_int_equal(err.col, 3);
    assert_string_equal(err.msg,
                        "unknown key 'scrape_intervall' (did you mean 'scrape_interval'?)");
    err = parse_fail("pipelines:\n  - name: a\n    debezium: {exporter: http://x:1/m, sever: a}\n");
    assert_int_equal(err.line, 3);
    assert_non_null(strstr(err.msg, "did you mean 'server'"));
    err = parse_fail("pipeline: []\n");
    assert_non_null(strstr(err.msg, "did you mean 'pipelines'"));
}

static void test_bad_duration_points_inside_value(void **state)
{
    (void)state;
    struct lw_err err = parse_fail("global:\n  evaluation_interval: 30x\n");
    assert_int_equal(err.line, 2);
    assert_int_equal(err.col, 26);
    assert_non_null(strstr(err.msg, "invalid duration '30x'"));
    err = parse_fail("global: {evaluation_interval: 0}\n");
    assert_non_null(strstr(err.msg, "greater than zero"));
}

static void test_value_errors(void **state)
{
    (void)state;
    const struct {
        const char *text;
        const char *msg;
        int line;
    } cases[] = {
        {"global: {listen: localhost}\n", "listen must be host:port", 1},
        {"global: {listen: 'x:70000'}\n", "listen must be host:port", 1},
        {"global:\n  external_url: ftp://x\n", "http:// or https://", 2},
        {"global:\n  external_labels: {9bad: x}\n", "invalid label name '9bad'", 2},
        {"aws: {endpoints: {cloudwatch: 'localhost:5000'}}\n", "http:// or https://", 1},
        {"pipelines:\n  - name: a\n", "has no source", 2},
        {"pipelines:\n  - name: 'a b'\n    aurora: {cluster: c}\n", "may only hold", 2},
        {"pipelines:\n  - aurora: {cluster: c}\n", "pipeline needs 'name'", 2},
        {"pipelines:\n  - name: a\n    aurora: {cluster: c}\n  - name: a\n    aurora: {cluster: "
         "d}\n",
         "duplicate pipeline name 'a' (first at line 2)", 4},
        {"pipelines:\n  - name: a\n    aurora: {cluster: c, period: 45s}\n", "multiple of 60s", 3},
        {"pipelines:\n  - name: a\n    aurora: {cluster: c, failover_detection: maybe}\n",
         "expected true or false", 3},
        {"pipelines:\n  - name: a\n    labels: {pipeline: x}\n    aurora: {cluster: c}\n",
         "must not set 'pipeline'", 3},
        {"pipelines:\n  - name: a\n    debezium: {exporter: http://x:1/m, server: s, keep: "
         "'a(?=b)'}\n",
         "invalid keep regexp", 3},
        {"pipelines:\n  - name: a\n    kafka_connect: {url: http://x:1}\n",
         "kafka_connect needs 'connector'", 3},
        {"pipelines: {a: 1}\n", "'pipelines' must be a list", 1},
        {"rule_options:\n  - alert: A\n    no_data: alertng\n", "did you mean 'alerting'", 3},
        {"prometheus_sources:\n  - {name: p, url: http://p:9090, queries: [up], pipeline: "
         "nope}\n",
         "no pipeline named 'nope'", 2},
        {"prometheus_sources:\n  - {name: p, url: http://p:9090}\n", "needs at least one query", 2},
        {"route: {receiver: oncal}\nreceivers:\n  - name: oncall\n",
         "unknown receiver 'oncal' (did you mean 'oncall'?)", 1},
        {"route:\n  receiver: a\n  routes:\n    - receiver: b\nreceivers: [{name: a}]\n",
         "unknown receiver 'b'", 4},
        {"route: {group_by: [a]}\nreceivers: [{name: a}]\n", "top-level route needs", 1},
        {"receivers: [{name: a}, {name: a}]\nroute: {receiver: a}\n", "duplicate receiver", 1},
        {"- a\n", "the config must be a mapping", 1},
        {"route: {receiver: r}\nreceivers:\n  - name: r\n    slack_configs:\n      - api_urll: "
         "http://x\n",
         "unknown key 'api_urll' (did you mean 'api_url'?)", 5},
        {"time_intervals: []\nmute_time_intervals: []\n", "not also under", 2},
        {"global:\n  state_dir: ${NOT_SET}\n", "NOT_SET is not set", 2},
        {"aws:\n  access_key_id: AKIAX\n", "set both access_key_id and secret_access_key", 2},
        {"pipelines:\n  - name: a\n    debezium:\n      exporter: http://x:1/m\n      server: s\n"
         "      body_size_limit: 10XB\n",
         "body_size_limit must be a size such as", 6},
        {"pipelines:\n  - name: a\n    debezium:\n      exporter: http://x:1/m\n      server: s\n"
         "      sample_limit: 0\n",
         "sample_limit must be greater than zero", 6},
        {"pipelines:\n  - name: a\n    debezium: {exporter: http://x:1/m, server: s}\n"
         "  - name: b\n    debezium: {exporter: http://x:1/m, server: t, sample_limit: 10}\n",
         "pipelines 'a' (line 2) and 'b' share the exporter http://x:1/m but set different", 5},
        {"aws:\n  session_token: t\n", "session_token needs access_key_id", 2},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct lw_err err = parse_fail(cases[i].text);
        if (strstr(err.msg, cases[i].msg) == NULL || err.line != cases[i].line)
            fail_msg("case %zu: got %d:%d: %s; want line %d '%s'", i, err.line, err.col, err.msg,
                     cases[i].line, cases[i].msg);
    }
}

static char tmpdir[64];

static void write_file(const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int make_tmpdir(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/lagwatch-config-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_tmpdir(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static struct config *load_in_tmp(const char *text, struct lw_err *err)
{
    write_file("c.yml", text);
    char path[256];
    snprintf(path, sizeof path, "%s/c.yml", tmpdir);
    struct config *cfg = NULL;
    if (config_load_file(path, &opts, &cfg, err) != 0)
        return NULL;
    return cfg;
}

static void test_file_secrets_are_read_relative_to_the_config(void **state)
{
    (void)state;
    write_file("token", "s3cr3t-token\n");
    struct lw_err err = {0};
    struct config *cfg = load_in_tmp("prometheus_sources:\n  - name: p\n    url: http://p:9090\n"
                                     "    queries: [up]\n    bearer_token_file: token\n",
                                     &err);
    if (cfg == NULL)
        fail_msg("%s", err.msg);
    assert_string_equal(cfg->prometheus_sources[0].bearer_token, "s3cr3t-token");
    assert_int_equal(cfg->prometheus_sources[0].interval_ms, 15000);
    config_free(cfg);

    cfg = load_in_tmp("prometheus_sources:\n  - name: p\n    url: http://p:9090\n"
                      "    queries: [up]\n    bearer_token_file: missing\n",
                      &err);
    assert_null(cfg);
    assert_int_equal(err.line, 5);
    assert_non_null(strstr(err.msg, "cannot read bearer_token_file"));

    cfg = load_in_tmp("prometheus_sources:\n  - name: p\n    url: http://p:9090\n"
                      "    queries: [up]\n    bearer_token: x\n    bearer_token_file: token\n",
                      &err);
    assert_null(cfg);
    assert_non_null(strstr(err.msg, "not both"));
}

static void test_aws_keys_from_files_override_the_chain(void **state)
{
    (void)state;
    write_file("akid", "AKIAFROMFILE\n");
    write_file("secret", "wJalr-secret-from-file\n");
    struct lw_err err = {0};
    struct config *cfg = load_in_tmp("aws:\n  region: ${AWS_REGION}\n  access_key_id_file: akid\n"
                                     "  secret_access_key_file: secret\n",
                                     &err);
    if (cfg == NULL)
        fail_msg("%s", err.msg);
    struct creds_config cc;
    config_creds(cfg, &cc);
    assert_string_equal(cc.access_key_id, "AKIAFROMFILE");
    assert_string_equal(cc.secret_access_key, "wJalr-secret-from-file");
    assert_null(cc.session_token);
    assert_string_equal(cc.region, "eu-central-1");
    struct lw_buf out;
    lw_buf_init(&out, 1 << 20);
    assert_int_equal(config_print(cfg, &out), 0);
    assert_null(strstr(lw_buf_str(&out), "wJalr"));
    assert_null(strstr(lw_buf_str(&out), "AKIAFROMFILE"));
    assert_non_null(strstr(lw_buf_str(&out), "secret_access_key: '<secret>'"));
    lw_buf_cleanup(&out);
    config_free(cfg);
}

static void test_scrape_limits(void **state)
{
    (void)state;
    struct config *g = parse_ok("global: {notification_max_age: 2h}\n");
    assert_int_equal(g->global.notification_max_age_ms, 2 * 3600 * 1000);
    config_free(g);
    struct config *cfg =
        parse_ok("pipelines:\n  - name: a\n    debezium:\n      exporter: http://x:1/m\n"
                 "      server: s\n      body_size_limit: 64MB\n      sample_limit: 5000\n"
                 "      label_limit: 30\n      label_name_length_limit: 200\n"
                 "      label_value_length_limit: 2048\n"
                 "  - name: b\n    debezium:\n      exporter: http://y:1/m\n      server: t\n"
                 "      body_size_limit: 1048576\n");
    const struct config_debezium *a = cfg->pipelines[0].debezium, *b = cfg->pipelines[1].debezium;
    assert_int_equal(a->body_size_limit, 64u << 20);
    assert_int_equal(a->sample_limit, 5000);
    assert_int_equal(a->label_limit, 30);
    assert_int_equal(a->label_name_length_limit, 200);
    assert_int_equal(a->label_value_length_limit, 2048);
    assert_int_equal(b->body_size_limit, 1048576);
    assert_int_equal(b->sample_limit, 0); /* default */
    config_free(cfg);
}

static void test_secret_read_for_notify_decoders(void **state)
{
    (void)state;
    write_file("slack", "https://hooks.slack.com/services/T/B/X\n");
    char text[] = "api_url_file: slack\nrouting_key: inline\n";
    struct yamldoc *d = NULL;
    struct lw_err err = {0};
    assert_int_equal(yamldoc_parse(text, strlen(text), "r.yml", &d, &err), 0);
    char *s = NULL;
    assert_int_equal(config_secret_read(d, d->root, "api_url", tmpdir, &s, &err), 0);
    assert_string_equal(s, "https://hooks.slack.com/services/T/B/X");
    config_secret_free(s);
    assert_int_equal(config_secret_read(d, d->root, "routing_key", tmpdir, &s, &err), 0);
    assert_string_equal(s, "inline");
    config_secret_free(s);
    s = (char *)0x1;
    assert_int_equal(config_secret_read(d, d->root, "service_key", tmpdir, &s, &err), 0);
    assert_null(s);
    yamldoc_free(d);
}

static void test_rule_paths_expand_sorted_and_deduplicated(void **state)
{
    (void)state;
    write_file("b.rules.yml", "groups: []\n");
    write_file("a.rules.yml", "groups: []\n");
    struct lw_err err = {0};
    char text[512];
    snprintf(text, sizeof text, "rule_files: ['*.rules.yml', a.rules.yml, '%s/none/*.yml']\n",
             tmpdir);
    struct config *cfg = load_in_tmp(text, &err);
    assert_non_null(cfg);
    char **paths = NULL;
    size_t n = 0;
    assert_int_equal(config_rule_paths(cfg, &paths, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_non_null(strstr(paths[0], "/a.rules.yml"));
    assert_non_null(strstr(paths[1], "/b.rules.yml"));
    assert_null(paths[2]);
    config_paths_free(paths);
    config_free(cfg);
}

static void test_print_fills_defaults_redacts_secrets_and_reparses(void **state)
{
    (void)state;
    write_file("pw", "hunter2\n");
    struct lw_err err = {0};
    struct config *cfg = load_in_tmp(
        "pipelines:\n  - name: a\n    debezium: {exporter: 'http://user:pw@x:1/m', server: s}\n"
        "prometheus_sources:\n  - name: p\n    url: http://p:9090\n    queries: [up]\n"
        "    basic_auth: {username: u, password_file: pw}\n"
        "route: {receiver: r}\nreceivers:\n  - name: r\n    pagerduty_configs:\n"
        "      - routing_key: ${PD_ROUTING_KEY}\n    webhook_configs:\n"
        "      - url: http://hook/secret-path\n",
        &err);
    if (cfg == NULL)
        fail_msg("%s", err.msg);
    struct lw_buf out;
    lw_buf_init(&out, 1 << 20);
    assert_int_equal(config_print(cfg, &out), 0);
    assert_null(strstr(out.data, "hunter2"));
    assert_null(strstr(out.data, "pd-secret-123"));
    assert_null(strstr(out.data, "secret-path"));
    assert_null(strstr(out.data, "user:pw"));
    assert_non_null(strstr(out.data, "scrape_interval: 15s"));
    assert_non_null(strstr(out.data, "evaluation_interval: 30s"));
    assert_non_null(strstr(out.data, "password: '<secret>'"));
    /* What --print shows is itself a valid config. */
    struct config *back = parse_ok(out.data);
    assert_int_equal(back->n_pipelines, 1);
    assert_int_equal(back->global.scrape_timeout_ms, cfg->global.scrape_timeout_ms);
    config_free(back);
    lw_buf_cleanup(&out);
    config_free(cfg);
}

static void test_missing_config_file_names_it(void **state)
{
    (void)state;
    struct config *cfg = NULL;
    struct lw_err err = {0};
    assert_int_equal(config_load_file("/nonexistent/c.yml", NULL, &cfg, &err), -1);
    assert_string_equal(err.file, "/nonexistent/c.yml");
    assert_non_null(strstr(err.msg, "cannot read config"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_config_gets_every_default),
        cmocka_unit_test(test_scrape_timeout_defaults_to_interval_when_shorter),
        cmocka_unit_test(test_example_config_parses_with_all_sections),
        cmocka_unit_test(test_aurora_defaults),
        cmocka_unit_test(test_unknown_key_says_where_and_suggests),
        cmocka_unit_test(test_bad_duration_points_inside_value),
        cmocka_unit_test(test_value_errors),
        cmocka_unit_test(test_file_secrets_are_read_relative_to_the_config),
        cmocka_unit_test(test_secret_read_for_notify_decoders),
        cmocka_unit_test(test_aws_keys_from_files_override_the_chain),
        cmocka_unit_test(test_scrape_limits),
        cmocka_unit_test(test_rule_paths_expand_sorted_and_deduplicated),
        cmocka_unit_test(test_print_fills_defaults_redacts_secrets_and_reparses),
        cmocka_unit_test(test_missing_config_file_names_it),
    };
    return cmocka_run_group_tests(tests, make_tmpdir, remove_tmpdir);
}
