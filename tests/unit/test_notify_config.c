/* test_notify_config.c — route, receivers, inhibit rules and time intervals from YAML: values,
 * defaults, secrets from files, and errors at the right line and column. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "lagwatch/notify_config.h"

static int decode(const char *yaml, struct notify_config *nc, struct lw_err *err, const char *dir)
{
    struct yamldoc *d;
    assert_int_equal(yamldoc_parse(yaml, strlen(yaml), "lagwatch.yml", &d, err), 0);
    int rc = notify_config_decode(d, yamldoc_map_get(d->root, "route"),
                                  yamldoc_map_get(d->root, "receivers"),
                                  yamldoc_map_get(d->root, "inhibit_rules"),
                                  yamldoc_map_get(d->root, "time_intervals"), dir, nc, err);
    yamldoc_free(d);
    return rc;
}

static void test_full_config_decodes(void **state)
{
    (void)state;
    char dir[] = "/tmp/lw-nc-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof(path), "%s/slack_url", dir);
    FILE *f = fopen(path, "w");
    fputs("https://hooks.slack.example/T0/B0/xyz\n", f);
    fclose(f);
    const char *yaml =
        "route:\n"
        "  receiver: oncall\n"
        "  group_by: [alertname, pipeline]\n"
        "  group_wait: 10s\n"
        "  routes:\n"
        "    - matchers: ['severity=\"info\"']\n"
        "      receiver: chat\n"
        "      mute_time_intervals: [weekends]\n"
        "receivers:\n"
        "  - name: oncall\n"
        "    pagerduty_configs: [{routing_key: abc123, url: 'http://127.0.0.1:1/v2'}]\n"
        "    webhook_configs:\n"
        "      - url: http://127.0.0.1:2/hook\n"
        "        min_interval: 250ms\n"
        "        max_alerts: 5\n"
        "        http_config: {bearer_token: tok}\n"
        "  - name: chat\n"
        "    slack_configs: [{api_url_file: slack_url, channel: '#cdc', send_resolved: false}]\n"
        "inhibit_rules:\n"
        "  - source_matchers: [alertname=KafkaConnectTaskFailed]\n"
        "    target_matchers: ['severity=~\"page|warning\"']\n"
        "    equal: [pipeline]\n"
        "time_intervals:\n"
        "  - name: weekends\n"
        "    time_intervals: [{weekdays: [saturday, sunday]}]\n";
    struct notify_config nc;
    struct lw_err err = {0};
    if (decode(yaml, &nc, &err, dir) != 0)
        fail_msg("%d:%d: %s", err.line, err.col, err.msg);
    assert_string_equal(nc.route->receiver, "oncall");
    assert_int_equal(nc.route->group_wait_ms, 10000);
    assert_int_equal(nc.route->routes[0]->group_wait_ms, 10000);
    assert_int_equal(nc.route->routes[0]->n_mute, 1);
    const struct receiver_config *chat = receivers_find(&nc.receivers, "chat");
    assert_string_equal(chat->slack[0].api_url, "https://hooks.slack.example/T0/B0/xyz");
    assert_false(chat->slack[0].send_resolved);
    assert_int_equal(chat->slack[0].min_interval_ms, 1000); /* Slack: one message a second */
    const struct receiver_config *oncall = receivers_find(&nc.receivers, "oncall");
    assert_string_equal(oncall->pagerduty[0].routing_key, "abc123");
    assert_true(oncall->pagerduty[0].send_resolved);
    assert_int_equal(oncall->webhook[0].max_alerts, 5);
    assert_int_equal(oncall->webhook[0].min_interval_ms, 250);
    assert_int_equal(oncall->pagerduty[0].min_interval_ms, 0); /* no rate limit unless asked */
    assert_string_equal(oncall->webhook[0].bearer_token, "tok");
    assert_int_equal(nc.n_inhibit, 1);
    assert_non_null(notify_config_interval(&nc, "weekends"));
    notify_config_cleanup(&nc);
    unlink(path);
    rmdir(dir);
}

static void expect_error(const char *yaml, int line, int col, const char *part)
{
    struct notify_config nc;
    struct lw_err err = {0};
    assert_int_equal(decode(yaml, &nc, &err, "."), -1);
    if (!strstr(err.msg, part))
        fail_msg("error '%s' lacks '%s'", err.msg, part);
    assert_int_equal(err.line, line);
    if (col)
        assert_int_equal(err.col, col);
}

static void test_errors_point_at_the_problem(void **state)
{
    (void)state;
    expect_error("route: {receiver: nobody}\nreceivers: [{name: a}]\n", 1, 0, "receiver 'nobody'");
    expect_error("route:\n  receiver: a\n  group_wiat: 5s\nreceivers: [{name: a}]\n", 3, 3,
                 "did you mean 'group_wait'");
    expect_error("route:\n  receiver: a\n  routes:\n    - matchers: ['a=~\"(\"']\n"
                 "receivers: [{name: a}]\n",
                 4, 0, "bad regexp");
    expect_error("receivers:\n  - name: a\n  - name: a\n", 3, 0, "defined twice");
    expect_error("receivers:\n  - name: a\n    slack_configs: [{channel: x}]\n", 3, 0,
                 "missing 'api_url'");
    expect_error("receivers:\n  - name: a\n    slack_configs: [{api_url_file: /nonexistent/x}]\n",
                 3, 0, "cannot read /nonexistent/x");
    expect_error("route: {receiver: a, mute_time_intervals: [nights]}\nreceivers: [{name: a}]\n", 1,
                 0, "time interval 'nights'");
    expect_error("time_intervals:\n  - name: t\n    time_intervals: [{months: [smarch]}]\n", 3, 0,
                 "smarch");
    expect_error("route: {receiver: a, group_wait: 5x}\nreceivers: [{name: a}]\n", 1, 0,
                 "duration");
    expect_error("inhibit_rules: [{source_matchers: [a=b]}]\n", 1, 0, "target_matchers");
    expect_error("receivers:\n  - name: a\n    webhook_configs: [{url: 'http://x/h', min_interval: "
                 "fast}]\n",
                 3, 0, "duration");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_config_decodes),
        cmocka_unit_test(test_errors_point_at_the_problem),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
