/* test_suppress.c — inhibit rules, silences and time intervals with Alertmanager's semantics. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lagwatch/suppress.h"

static struct lw_labels mk(const char *a, const char *sev, const char *pipeline)
{
    struct lw_labels ls;
    lw_labels_init(&ls);
    assert_int_equal(lw_labels_set(&ls, "alertname", a), 0);
    assert_int_equal(lw_labels_set(&ls, "severity", sev), 0);
    if (pipeline)
        assert_int_equal(lw_labels_set(&ls, "pipeline", pipeline), 0);
    return ls;
}

static void test_inhibit_needs_equal_labels(void **state)
{
    (void)state;
    struct inhibit_rule r;
    struct lw_err err = {0};
    const char *src[] = {"alertname=KafkaConnectTaskFailed"};
    const char *tgt[] = {"severity=~\"warning|page\""};
    const char *eq[] = {"pipeline"};
    assert_int_equal(inhibit_rule_init(&r, src, 1, tgt, 1, eq, 1, &err), 0);
    struct lw_labels failed = mk("KafkaConnectTaskFailed", "critical", "orders");
    struct lw_labels lag_orders = mk("DebeziumHighBinlogLag", "page", "orders");
    struct lw_labels lag_billing = mk("DebeziumHighBinlogLag", "page", "billing");
    const struct lw_labels *firing[] = {&failed};
    size_t by = 99;
    assert_true(inhibit_mutes(&r, 1, firing, 1, &lag_orders, &by));
    assert_int_equal(by, 0);
    assert_false(inhibit_mutes(&r, 1, firing, 1, &lag_billing, NULL));
    assert_false(inhibit_mutes(&r, 1, firing, 0, &lag_orders, NULL));
    lw_labels_cleanup(&failed);
    lw_labels_cleanup(&lag_orders);
    lw_labels_cleanup(&lag_billing);
    inhibit_rule_cleanup(&r);
}

static void test_inhibit_absent_equal_labels_are_equal(void **state)
{
    (void)state;
    struct inhibit_rule r;
    struct lw_err err = {0};
    const char *src[] = {"severity=critical"};
    const char *tgt[] = {"severity=warning"};
    const char *eq[] = {"cluster"};
    assert_int_equal(inhibit_rule_init(&r, src, 1, tgt, 1, eq, 1, &err), 0);
    struct lw_labels a = mk("A", "critical", NULL), b = mk("B", "warning", NULL);
    const struct lw_labels *firing[] = {&a};
    assert_true(inhibit_mutes(&r, 1, firing, 1, &b, NULL));
    lw_labels_cleanup(&a);
    lw_labels_cleanup(&b);
    inhibit_rule_cleanup(&r);
}

static void test_alert_matching_both_sides_does_not_inhibit_itself(void **state)
{
    (void)state;
    struct inhibit_rule r;
    struct lw_err err = {0};
    const char *both[] = {"alertname=X"};
    assert_int_equal(inhibit_rule_init(&r, both, 1, both, 1, NULL, 0, &err), 0);
    struct lw_labels x1 = mk("X", "page", "orders"), x2 = mk("X", "page", "billing");
    const struct lw_labels *firing[] = {&x1, &x2};
    assert_false(inhibit_mutes(&r, 1, firing, 2, &x1, NULL));
    lw_labels_cleanup(&x1);
    lw_labels_cleanup(&x2);
    inhibit_rule_cleanup(&r);
    const char *bad[] = {"a=~\"(\""};
    assert_int_equal(inhibit_rule_init(&r, bad, 1, NULL, 0, NULL, 0, &err), -1);
    assert_non_null(strstr(err.msg, "source matcher"));
}

static void test_silence_active_window_and_expire(void **state)
{
    (void)state;
    struct silences s;
    silences_init(&s);
    struct lw_err err = {0};
    const char *m[] = {"pipeline=\"orders\""};
    assert_int_equal(silences_add(&s, "s1", m, 1, 1000, 5000, "alice", "maintenance", &err), 0);
    struct lw_labels lag = mk("Lag", "page", "orders");
    assert_null(silences_mutes(&s, &lag, 999));
    assert_non_null(silences_mutes(&s, &lag, 1000));
    assert_null(silences_mutes(&s, &lag, 5000));
    assert_int_equal(silences_expire(&s, "s1", 2000, &err), 0);
    assert_null(silences_mutes(&s, &lag, 2000));
    assert_int_equal(silences_expire(&s, "nope", 2000, &err), -1);
    silences_gc(&s, 2000 + 10, 5);
    assert_int_equal(s.n, 0);
    lw_labels_cleanup(&lag);
    silences_cleanup(&s);
}

static void test_silence_validation(void **state)
{
    (void)state;
    struct silences s;
    silences_init(&s);
    struct lw_err err = {0};
    const char *empty[] = {"a=~\".*\""};
    assert_int_equal(silences_add(&s, "x", empty, 1, 0, 10, "", "", &err), -1);
    assert_non_null(strstr(err.msg, "empty string"));
    const char *m[] = {"a=b"};
    assert_int_equal(silences_add(&s, "x", m, 1, 10, 10, "", "", &err), -1);
    assert_int_equal(silences_add(&s, "x", m, 0, 0, 10, "", "", &err), -1);
    assert_int_equal(silences_add(&s, "x", m, 1, 0, 10, "", "", &err), 0);
    assert_int_equal(silences_add(&s, "x", m, 1, 0, 10, "", "", &err), -1);
    silences_cleanup(&s);
}

static void test_silences_round_trip_through_json(void **state)
{
    (void)state;
    struct silences s, t;
    silences_init(&s);
    silences_init(&t);
    struct lw_err err = {0};
    const char *m[] = {"pipeline=~\"ord.*\"", "severity!=info"};
    assert_int_equal(silences_add(&s, "s1", m, 2, 1000, 5000, "bob", "say \"hi\"", &err), 0);
    char *json = silences_save(&s);
    assert_non_null(json);
    assert_int_equal(silences_load(&t, json, strlen(json), &err), 0);
    assert_int_equal(t.n, 1);
    assert_string_equal(t.v[0].comment, "say \"hi\"");
    assert_int_equal(t.v[0].n_matchers, 2);
    assert_int_equal(t.v[0].ends_at_ms, 5000);
    free(json);
    const char *bad = "{\"version\":1,\"silences\":[{\"id\":\"a\",\"matchers\":[3],"
                      "\"starts_at_ms\":0,\"ends_at_ms\":1}]}";
    assert_int_equal(silences_load(&t, bad, strlen(bad), &err), -1);
    assert_non_null(strstr(err.msg, "entry 0"));
    assert_int_equal(t.n, 0);
    silences_cleanup(&s);
    silences_cleanup(&t);
}

/* 2026-11-28 (a Saturday) 14:30:00 UTC */
#define SAT_1430 (1795876200LL * 1000)

static void test_time_interval_fields(void **state)
{
    (void)state;
    struct time_interval_spec s = {0};
    struct lw_err err = {0};
    assert_int_equal(time_interval_add_weekdays(&s, "saturday:sunday", &err), -1); /* reversed */
    assert_int_equal(time_interval_add_weekdays(&s, "Saturday", &err), 0);
    assert_true(time_interval_spec_contains(&s, SAT_1430));
    assert_false(time_interval_spec_contains(&s, SAT_1430 - 86400000LL));
    assert_int_equal(time_interval_add_time(&s, "14:00", "14:30", &err), 0);
    assert_false(time_interval_spec_contains(&s, SAT_1430)); /* end is exclusive */
    assert_true(time_interval_spec_contains(&s, SAT_1430 - 60000));
    time_interval_spec_cleanup(&s);
    assert_int_equal(time_interval_add_days_of_month(&s, "-3:-1", &err), 0);
    assert_true(time_interval_spec_contains(&s, SAT_1430)); /* 28th of a 30-day month */
    assert_int_equal(time_interval_add_months(&s, "january:march", &err), 0);
    assert_false(time_interval_spec_contains(&s, SAT_1430));
    time_interval_spec_cleanup(&s);
    assert_int_equal(time_interval_add_months(&s, "november", &err), 0);
    assert_int_equal(time_interval_add_years(&s, "2025:2027", &err), 0);
    assert_true(time_interval_spec_contains(&s, SAT_1430));
    time_interval_spec_cleanup(&s);
    assert_int_equal(time_interval_add_time(&s, "25:00", "26:00", &err), -1);
    assert_int_equal(time_interval_add_time(&s, "10:00", "09:00", &err), -1);
    assert_int_equal(time_interval_add_time(&s, "00:00", "24:00", &err), 0);
    assert_int_equal(time_interval_add_days_of_month(&s, "0", &err), -1);
    assert_int_equal(time_interval_add_days_of_month(&s, "-1:5", &err), -1);
    assert_int_equal(time_interval_add_months(&s, "smarch", &err), -1);
    assert_non_null(strstr(err.msg, "smarch"));
    time_interval_spec_cleanup(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_inhibit_needs_equal_labels),
        cmocka_unit_test(test_inhibit_absent_equal_labels_are_equal),
        cmocka_unit_test(test_alert_matching_both_sides_does_not_inhibit_itself),
        cmocka_unit_test(test_silence_active_window_and_expire),
        cmocka_unit_test(test_silence_validation),
        cmocka_unit_test(test_silences_round_trip_through_json),
        cmocka_unit_test(test_time_interval_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
