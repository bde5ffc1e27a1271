/* test_notify_payload.c — receiver bodies: webhook v4 field order and content, PagerDuty dedup
 * keys and summaries, Slack colours and notes, Alertmanager push endsAt. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "lagwatch/notify_payload.h"

#define T0 1795876200000LL

struct fx {
    struct dispatch_alert a[3];
    const struct dispatch_alert *ptrs[3];
    struct lw_labels group;
    struct dispatch_notification n;
};

static void alert(struct dispatch_alert *a, const char *name, const char *sev, int64_t ends)
{
    memset(a, 0, sizeof(*a));
    lw_labels_init(&a->labels);
    lw_labels_init(&a->annotations);
    assert_int_equal(lw_labels_set(&a->labels, "alertname", name), 0);
    assert_int_equal(lw_labels_set(&a->labels, "pipeline", "orders"), 0);
    assert_int_equal(lw_labels_set(&a->labels, "severity", sev), 0);
    assert_int_equal(lw_labels_set(&a->annotations, "summary", "lag is high"), 0);
    assert_int_equal(lw_labels_set(&a->annotations, "runbook_url", "https://rb/x"), 0);
    a->starts_at_ms = T0;
    a->ends_at_ms = ends;
    a->generator_url = strdup("http://lagwatch:9741/graph");
    a->fingerprint = lw_labels_fingerprint(&a->labels);
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    alert(&f->a[0], "DebeziumHighBinlogLag", "page", 0);
    alert(&f->a[1], "DebeziumConnectorDisconnected", "warning", 0);
    alert(&f->a[2], "AuroraBinlogLagHigh", "page", T0 + 60000);
    for (int i = 0; i < 3; i++)
        f->ptrs[i] = &f->a[i];
    lw_labels_init(&f->group);
    assert_int_equal(lw_labels_set(&f->group, "pipeline", "orders"), 0);
    f->n = (struct dispatch_notification){.receiver = "oncall",
                                          .group_key = "{}:{pipeline=\"orders\"}",
                                          .group_labels = &f->group,
                                          .alerts = f->ptrs,
                                          .n_alerts = 3,
                                          .n_firing = 2,
                                          .now_ms = T0 + 120000};
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    for (int i = 0; i < 3; i++) {
        lw_labels_cleanup(&f->a[i].labels);
        lw_labels_cleanup(&f->a[i].annotations);
        free(f->a[i].generator_url);
    }
    lw_labels_cleanup(&f->group);
    free(f);
    return 0;
}

static void test_webhook_v4_fields_in_alertmanagers_order(void **state)
{
    struct fx *f = *state;
    char *s = notify_webhook_v4(&f->n, "http://lagwatch:9741", 2);
    assert_non_null(s);
    json_error_t e;
    json_t *doc = json_loads(s, 0, &e);
    assert_non_null(doc);
    const char *order[] = {
        "receiver",          "status",      "alerts",  "groupLabels", "commonLabels",
        "commonAnnotations", "externalURL", "version", "groupKey",    "truncatedAlerts"};
    const char *key;
    json_t *v;
    size_t i = 0;
    json_object_foreach(doc, key, v) assert_string_equal(key, order[i++]);
    assert_int_equal(i, 10);
    assert_string_equal(json_string_value(json_object_get(doc, "version")), "4");
    assert_string_equal(json_string_value(json_object_get(doc, "status")), "firing");
    assert_int_equal(json_integer_value(json_object_get(doc, "truncatedAlerts")), 1);
    json_t *cl = json_object_get(doc, "commonLabels");
    assert_string_equal(json_string_value(json_object_get(cl, "pipeline")), "orders");
    assert_null(json_object_get(cl, "severity"));
    json_t *a0 = json_array_get(json_object_get(doc, "alerts"), 0);
    const char *aorder[] = {"status", "labels",       "annotations", "startsAt",
                            "endsAt", "generatorURL", "fingerprint"};
    i = 0;
    json_object_foreach(a0, key, v) assert_string_equal(key, aorder[i++]);
    assert_string_equal(json_string_value(json_object_get(a0, "startsAt")), "2026-11-28T14:30:00Z");
    assert_string_equal(json_string_value(json_object_get(a0, "endsAt")), "0001-01-01T00:00:00Z");
    assert_int_equal(strlen(json_string_value(json_object_get(a0, "fingerprint"))), 16);
    json_decref(doc);
    free(s);
}

static void test_pagerduty_dedup_key_is_sha256_of_group_key(void **state)
{
    struct fx *f = *state;
    struct pagerduty_opts o = {.routing_key = "R0UT1NG", .external_url = "http://lw"};
    char *s = notify_pagerduty_v2(&f->n, &o);
    json_t *doc = json_loads(s, 0, NULL);
    char key[NOTIFY_DEDUP_KEY_HEX];
    assert_int_equal(notify_dedup_key("{}:{pipeline=\"orders\"}", key), 0);
    assert_string_equal(json_string_value(json_object_get(doc, "dedup_key")), key);
    assert_string_equal(json_string_value(json_object_get(doc, "event_action")), "trigger");
    json_t *p = json_object_get(doc, "payload");
    assert_string_equal(json_string_value(json_object_get(p, "severity")), "critical");
    assert_string_equal(json_string_value(json_object_get(p, "summary")), "[FIRING:2] orders");
    json_t *links = json_object_get(doc, "links");
    assert_string_equal(json_string_value(json_object_get(json_array_get(links, 0), "href")),
                        "https://rb/x");
    json_decref(doc);
    free(s);
    f->n.n_firing = 0;
    f->n.n_alerts = 1;
    f->ptrs[0] = &f->a[2];
    s = notify_pagerduty_v2(&f->n, &o);
    doc = json_loads(s, 0, NULL);
    assert_string_equal(json_string_value(json_object_get(doc, "event_action")), "resolve");
    assert_string_equal(json_string_value(json_object_get(doc, "dedup_key")), key);
    json_decref(doc);
    free(s);
}

static void test_pagerduty_summary_is_cut_at_1024_bytes(void **state)
{
    struct fx *f = *state;
    char big[3000];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(lw_labels_set(&f->group, "pipeline", big), 0);
    struct pagerduty_opts o = {.routing_key = "k"};
    char *s = notify_pagerduty_v2(&f->n, &o);
    json_t *doc = json_loads(s, 0, NULL);
    const char *sum =
        json_string_value(json_object_get(json_object_get(doc, "payload"), "summary"));
    assert_true(strlen(sum) <= NOTIFY_PD_SUMMARY_MAX);
    assert_string_equal(sum + strlen(sum) - 3, "\xE2\x80\xA6");
    json_decref(doc);
    free(s);
}

static void test_slack_colour_and_held_note(void **state)
{
    struct fx *f = *state;
    f->a[0].was_held = true;
    struct slack_opts o = {.channel = "#cdc"};
    char *s = notify_slack(&f->n, &o);
    assert_non_null(strstr(s, "\"color\":\"#e01e5a\""));
    assert_non_null(strstr(s, "held back during an Aurora failover"));
    assert_non_null(strstr(s, "<https://rb/x|Runbook>"));
    assert_non_null(strstr(s, "\"channel\":\"#cdc\""));
    free(s);
    f->n.n_firing = 0;
    s = notify_slack(&f->n, &o);
    assert_non_null(strstr(s, "\"color\":\"#2eb886\""));
    assert_non_null(strstr(s, "[RESOLVED]"));
    free(s);
}

static void test_slack_shows_the_value_of_firing_alerts(void **state)
{
    struct fx *f = *state;
    f->a[0].has_value = true;
    f->a[0].value = 61234.5;
    f->a[2].has_value = true; /* resolved: its last value is not news */
    f->a[2].value = 1;
    struct slack_opts o = {0};
    char *s = notify_slack(&f->n, &o);
    assert_non_null(strstr(s, "pipeline `orders` — value `61234.5`"));
    assert_null(strstr(s, "value `1`"));
    free(s);
}

static void test_status_page_link_defaults_to_external_url(void **state)
{
    struct fx *f = *state;
    struct slack_opts o = {.external_url = "http://lagwatch.internal:9741"};
    char *s = notify_slack(&f->n, &o);
    assert_non_null(strstr(s, "<http://lagwatch.internal:9741|Status page>"));
    free(s);
    assert_int_equal(lw_labels_set(&f->a[1].annotations, "status_page_url", "https://status/x"), 0);
    s = notify_slack(&f->n, &o);
    assert_non_null(strstr(s, "<https://status/x|Status page>"));
    assert_null(strstr(s, "lagwatch.internal"));
    free(s);
    struct pagerduty_opts p = {.routing_key = "k", .external_url = "http://lagwatch.internal:9741"};
    lw_labels_del(&f->a[1].annotations, "status_page_url");
    s = notify_pagerduty_v2(&f->n, &p);
    json_t *doc = json_loads(s, 0, NULL);
    json_t *l1 = json_array_get(json_object_get(doc, "links"), 1);
    assert_string_equal(json_string_value(json_object_get(l1, "href")),
                        "http://lagwatch.internal:9741");
    assert_string_equal(json_string_value(json_object_get(l1, "text")), "Status page");
    json_decref(doc);
    free(s);
}

static void test_alertmanager_push_sets_future_ends_for_firing(void **state)
{
    struct fx *f = *state;
    char *s = notify_alertmanager_push(f->ptrs, 3, T0 + 120000, 4 * 60000);
    json_t *doc = json_loads(s, 0, NULL);
    assert_int_equal(json_array_size(doc), 3);
    assert_string_equal(json_string_value(json_object_get(json_array_get(doc, 0), "endsAt")),
                        "2026-11-28T14:36:00Z");
    assert_string_equal(json_string_value(json_object_get(json_array_get(doc, 2), "endsAt")),
                        "2026-11-28T14:31:00Z");
    json_decref(doc);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_webhook_v4_fields_in_alertmanagers_order, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_pagerduty_dedup_key_is_sha256_of_group_key, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_pagerduty_summary_is_cut_at_1024_bytes, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_slack_colour_and_held_note, setup, teardown),
        cmocka_unit_test_setup_teardown(test_slack_shows_the_value_of_firing_alerts, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_status_page_link_defaults_to_external_url, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_alertmanager_push_sets_future_ends_for_firing, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
