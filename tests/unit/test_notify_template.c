/* test_notify_template.c — receiver templates: Alertmanager's notification data (.Receiver,
 * .Status, .Alerts with their fields, .GroupLabels, .CommonLabels, .CommonAnnotations,
 * .ExternalURL) under the functions of rule annotations; Slack title/text and PagerDuty
 * summary/description in the payloads; template errors in the config at file:line:col. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>

#include "lagwatch/config.h"
#include "lagwatch/notify_payload.h"
#include "lagwatch/notify_template.h"

#define T0 1764340200000LL /* 2025-11-28 14:30:00 UTC */

struct fx {
    struct dispatch_alert a[2];
    const struct dispatch_alert *ptrs[2];
    struct lw_labels group;
    struct dispatch_notification n;
};

static void alert(struct dispatch_alert *a, const char *name, const char *summary, int64_t ends)
{
    memset(a, 0, sizeof(*a));
    lw_labels_init(&a->labels);
    lw_labels_init(&a->annotations);
    assert_int_equal(lw_labels_set(&a->labels, "alertname", name), 0);
    assert_int_equal(lw_labels_set(&a->labels, "pipeline", "orders"), 0);
    assert_int_equal(lw_labels_set(&a->labels, "severity", "page"), 0);
    assert_int_equal(lw_labels_set(&a->annotations, "summary", summary), 0);
    a->starts_at_ms = T0 + 500;
    a->ends_at_ms = ends;
    a->generator_url = "http://lagwatch:9741/graph";
    a->fingerprint = lw_labels_fingerprint(&a->labels);
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    alert(&f->a[0], "DebeziumHighBinlogLag", "lag is high", 0);
    alert(&f->a[1], "AuroraBinlogLagHigh", "lag is high", T0 + 60000);
    f->ptrs[0] = &f->a[0];
    f->ptrs[1] = &f->a[1];
    lw_labels_init(&f->group);
    assert_int_equal(lw_labels_set(&f->group, "pipeline", "orders"), 0);
    f->n = (struct dispatch_notification){.receiver = "oncall",
                                          .group_key = "{}:{pipeline=\"orders\"}",
                                          .group_labels = &f->group,
                                          .alerts = f->ptrs,
                                          .n_alerts = 2,
                                          .n_firing = 1,
                                          .now_ms = T0 + 120000};
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    for (int i = 0; i < 2; i++) {
        lw_labels_cleanup(&f->a[i].labels);
        lw_labels_cleanup(&f->a[i].annotations);
    }
    lw_labels_cleanup(&f->group);
    free(f);
    return 0;
}

/* Render src over f's notification; returns the malloc'd text or NULL with err. */
static char *run(struct fx *f, const char *src, struct lw_err *err)
{
    struct tmpl *t = NULL;
    if (notify_template_parse("t", src, &t, err) != 0)
        return NULL;
    struct tmpl_value *d = notify_template_data(&f->n, "http://lagwatch.example:9741");
    assert_non_null(d);
    char *out = NULL;
    int rc = notify_template_render(t, d, "http://lagwatch.example:9741", &out, err);
    tmpl_value_unref(d);
    tmpl_free(t);
    return rc == 0 ? out : NULL;
}

static void expect(struct fx *f, const char *src, const char *want)
{
    struct lw_err err = {0};
    char *got = run(f, src, &err);
    if (!got)
        fail_msg("%s: %s", src, err.msg);
    assert_string_equal(got, want);
    free(got);
}

static void test_data_has_alertmanagers_fields(void **state)
{
    struct fx *f = *state;
    expect(f, "{{ .Receiver }} {{ .Status }} {{ len .Alerts }} {{ .ExternalURL }}",
           "oncall firing 2 http://lagwatch.example:9741");
    expect(
        f,
        "{{ .GroupLabels.pipeline }}/{{ .CommonLabels.severity }}/{{ .CommonAnnotations.summary }}"
        "/{{ .CommonLabels.alertname }}",
        "orders/page/lag is high/");
    expect(
        f,
        "{{ range .Alerts }}{{ .Labels.alertname }} {{ .Status }} {{ .StartsAt }} | {{ .EndsAt }}"
        " {{ .GeneratorURL }};{{ end }}",
        "DebeziumHighBinlogLag firing 2025-11-28 14:30:00.5 +0000 UTC | 0001-01-01 00:00:00 "
        "+0000 UTC http://lagwatch:9741/graph;AuroraBinlogLagHigh resolved 2025-11-28 "
        "14:30:00.5 +0000 UTC | 2025-11-28 14:31:00 +0000 UTC http://lagwatch:9741/graph;");
    struct lw_err err = {0};
    char *fp = run(f, "{{ (index .Alerts 0).Fingerprint }}", &err);
    assert_non_null(fp);
    assert_int_equal(strlen(fp), 16);
    free(fp);
}

static void test_alertmanager_methods_on_alerts_and_label_maps(void **state)
{
    struct fx *f = *state;
    expect(f,
           "{{ len .Alerts.Firing }}/{{ len .Alerts.Resolved }} "
           "{{ range .Alerts.Firing }}{{ .Labels.alertname }}{{ end }}",
           "1/1 DebeziumHighBinlogLag");
    expect(f, "{{ range (index .Alerts 0).Labels.SortedPairs }}{{ .Name }}={{ .Value }},{{ end }}",
           "alertname=DebeziumHighBinlogLag,pipeline=orders,severity=page,");
    expect(f, "{{ (index .Alerts 1).Labels.Names }} {{ .CommonLabels.Values }}",
           "[alertname pipeline severity] [orders page]");
    expect(f, "{{ .GroupLabels.pipeline }} {{ .GroupLabels.nope }}|", "orders |");
}

static void test_annotation_functions_work_in_receiver_templates(void **state)
{
    struct fx *f = *state;
    expect(f, "{{ .Status | toUpper }} {{ 1234567.0 | humanize }} {{ 90 | humanizeDuration }}",
           "FIRING 1.235M 1m 30s");
    expect(f, "{{ printf \"%.1f\" 2.25 }} {{ reReplaceAll \"-mysql$\" \"\" \"orders-mysql\" }}",
           "2.2 orders");
}

static void test_missing_field_is_an_error_naming_the_type(void **state)
{
    struct fx *f = *state;
    struct lw_err err = {0};
    assert_null(run(f, "{{ .Nope }}", &err));
    assert_non_null(strstr(err.msg, "Nope"));
    assert_non_null(strstr(err.msg, "*template.Data"));
}

static void test_slack_title_and_text_replace_the_defaults(void **state)
{
    struct fx *f = *state;
    struct slack_opts o = {.title = "Orders is behind", .text = "see <http://x|the runbook>"};
    char *s = notify_slack(&f->n, &o);
    json_t *doc = json_loads(s, 0, NULL);
    assert_non_null(doc);
    assert_string_equal(json_string_value(json_object_get(doc, "text")), "Orders is behind");
    json_t *blocks =
        json_object_get(json_array_get(json_object_get(doc, "attachments"), 0), "blocks");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_array_get(blocks, 0), "text"), "text")),
                        "Orders is behind");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_array_get(blocks, 1), "text"), "text")),
                        "see <http://x|the runbook>");
    assert_null(strstr(s, "lag is high")); /* the per-alert sections are replaced */
    json_decref(doc);
    free(s);
    /* no templates: the default subject and one section per alert */
    struct slack_opts d = {0};
    s = notify_slack(&f->n, &d);
    assert_non_null(strstr(s, "[FIRING:1]"));
    assert_non_null(strstr(s, "lag is high"));
    free(s);
}

static void test_pagerduty_summary_and_description(void **state)
{
    struct fx *f = *state;
    struct pagerduty_opts o = {
        .routing_key = "k", .summary = "Orders CDC lag", .description = "long words"};
    char *s = notify_pagerduty_v2(&f->n, &o);
    json_t *doc = json_loads(s, 0, NULL);
    json_t *p = json_object_get(doc, "payload");
    assert_string_equal(json_string_value(json_object_get(p, "summary")), "Orders CDC lag");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(p, "custom_details"), "description")),
        "long words");
    json_decref(doc);
    free(s);
    struct pagerduty_opts e = {.routing_key = "k", .summary = ""}; /* empty: the default */
    s = notify_pagerduty_v2(&f->n, &e);
    assert_non_null(strstr(s, "[FIRING:1] orders"));
    assert_null(strstr(s, "\"description\""));
    free(s);
}

static void config_error(const char *yaml, const char *want_pos, const char *want_msg)
{
    struct config *cfg = NULL;
    struct lw_err err = {0};
    assert_int_equal(config_parse_buf(yaml, strlen(yaml), "lw.yml", NULL, &cfg, &err), -1);
    char line[1024];
    lw_err_format(&err, line, sizeof line);
    if (!strstr(line, want_pos) || !strstr(line, want_msg))
        fail_msg("got %s; want %s ... %s", line, want_pos, want_msg);
}

static void test_config_templates_are_parsed_at_load_with_positions(void **state)
{
    (void)state;
    const char *ok =
        "route: {receiver: r}\n"
        "receivers:\n"
        "  - name: r\n"
        "    slack_configs:\n"
        "      - api_url: http://127.0.0.1:1/slack\n"
        "        title: '{{ .CommonLabels.alertname }} on {{ .GroupLabels.pipeline }}'\n"
        "        text: |\n"
        "          {{ range .Alerts }}{{ .Annotations.summary }}\n"
        "          {{ end }}\n"
        "    pagerduty_configs:\n"
        "      - routing_key: k\n"
        "        summary: '{{ .Status | toUpper }}: {{ len .Alerts }} alert(s)'\n"
        "        description: '{{ .CommonAnnotations.description }}'\n";
    struct config *cfg = NULL;
    struct lw_err err = {0};
    if (config_parse_buf(ok, strlen(ok), "lw.yml", NULL, &cfg, &err) != 0)
        fail_msg("%d:%d: %s", err.line, err.col, err.msg);
    const struct receiver_config *r = receivers_find(&cfg->notify.receivers, "r");
    assert_non_null(r->slack[0].title_tmpl);
    assert_non_null(r->slack[0].text_tmpl);
    assert_non_null(r->pagerduty[0].summary_tmpl);
    assert_non_null(r->pagerduty[0].description_tmpl);
    config_free(cfg);
    /* an unclosed action: the column inside the quoted scalar */
    config_error("route: {receiver: r}\n"
                 "receivers:\n"
                 "  - name: r\n"
                 "    slack_configs:\n"
                 "      - api_url: http://127.0.0.1:1/slack\n"
                 "        title: 'lag {{ .Status '\n",
                 "lw.yml:6:", "title: template:");
    /* an unknown function */
    config_error("route: {receiver: r}\n"
                 "receivers:\n"
                 "  - name: r\n"
                 "    pagerduty_configs:\n"
                 "      - routing_key: k\n"
                 "        summary: '{{ .Status | frobnicate }}'\n",
                 "lw.yml:6:", "frobnicate");
    /* a multi-line template names the template's own line */
    config_error("route: {receiver: r}\n"
                 "receivers:\n"
                 "  - name: r\n"
                 "    slack_configs:\n"
                 "      - api_url: http://127.0.0.1:1/slack\n"
                 "        text: |\n"
                 "          ok\n"
                 "          {{ if }}\n",
                 "lw.yml:6:", "template line 2");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_data_has_alertmanagers_fields, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alertmanager_methods_on_alerts_and_label_maps, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_annotation_functions_work_in_receiver_templates, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_missing_field_is_an_error_naming_the_type, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_slack_title_and_text_replace_the_defaults, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_pagerduty_summary_and_description, setup, teardown),
        cmocka_unit_test(test_config_templates_are_parsed_at_load_with_positions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
