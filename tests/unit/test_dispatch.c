/* test_dispatch.c — aggregation groups and the dedup decision as Alertmanager makes them, plus
 * lagwatch's failover hold and a notification log that survives restarts. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lagwatch/dispatch.h"

#define S  1000
#define M  (60 * S)
#define T0 (1700000000LL * 1000)

struct sent {
    int count;
    size_t n_alerts[32], n_firing[32];
    char alertnames[32][256];
    bool held_note[32];
    int fail_next;
};

static int emit(void *ud, const struct dispatch_notification *n)
{
    struct sent *s = ud;
    if (s->fail_next) {
        s->fail_next--;
        return -1;
    }
    int i = s->count++;
    s->n_alerts[i] = n->n_alerts;
    s->n_firing[i] = n->n_firing;
    s->alertnames[i][0] = '\0';
    s->held_note[i] = false;
    for (size_t k = 0; k < n->n_alerts; k++) {
        strncat(s->alertnames[i], lw_labels_get(&n->alerts[k]->labels, "alertname"),
                sizeof(s->alertnames[i]) - strlen(s->alertnames[i]) - 2);
        strncat(s->alertnames[i], k < n->n_firing ? "+" : "-",
                sizeof(s->alertnames[i]) - strlen(s->alertnames[i]) - 1);
        s->held_note[i] = s->held_note[i] || n->alerts[k]->was_held;
    }
    return 0;
}

struct fixture {
    struct route *root;
    struct dispatch *d;
    struct sent sent;
    int64_t hold_until;
    bool send_resolved;
};

static bool held(void *ud, const struct lw_labels *ls, int64_t now)
{
    struct fixture *f = ud;
    (void)ls;
    return now < f->hold_until;
}

static bool send_resolved(void *ud, const char *receiver)
{
    (void)receiver;
    return ((struct fixture *)ud)->send_resolved;
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));
    const char *gb[] = {"pipeline"};
    struct route_spec spec = {.receiver = "oncall",
                              .group_by = gb,
                              .n_group_by = 1,
                              .group_by_set = true,
                              .group_wait_ms = 30 * S,
                              .group_interval_ms = 5 * M,
                              .repeat_interval_ms = 4 * 60 * M};
    struct lw_err err = {0};
    assert_int_equal(route_add(NULL, &spec, &f->root, &err), 0);
    f->send_resolved = true;
    struct dispatch_options o = {.root = f->root,
                                 .held = held,
                                 .held_ud = f,
                                 .send_resolved = send_resolved,
                                 .send_resolved_ud = f};
    f->d = dispatch_new(&o);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    dispatch_free(f->d);
    route_free(f->root);
    free(f);
    return 0;
}

static void put(struct fixture *f, const char *alertname, int64_t starts, int64_t ends, int64_t now)
{
    struct dispatch_alert a = {.starts_at_ms = starts, .ends_at_ms = ends};
    lw_labels_init(&a.labels);
    lw_labels_init(&a.annotations);
    assert_int_equal(lw_labels_set(&a.labels, "alertname", alertname), 0);
    assert_int_equal(lw_labels_set(&a.labels, "pipeline", "orders"), 0);
    struct lw_err err = {0};
    assert_int_equal(dispatch_put(f->d, &a, now, &err), 0);
    lw_labels_cleanup(&a.labels);
    lw_labels_cleanup(&a.annotations);
}

static int flush(struct fixture *f, int64_t now)
{
    return dispatch_flush_due(f->d, now, emit, &f->sent);
}

static void test_first_notification_waits_group_wait(void **state)
{
    struct fixture *f = *state;
    put(f, "Lag", T0, 0, T0);
    assert_int_equal(dispatch_next_due_ms(f->d), T0 + 30 * S);
    assert_int_equal(flush(f, T0 + 29 * S), 0);
    assert_int_equal(flush(f, T0 + 30 * S), 1);
    assert_string_equal(f->sent.alertnames[0], "Lag+");
    /* nothing changed: no repeat before repeat_interval */
    assert_int_equal(flush(f, T0 + 30 * S + 5 * M), 0);
    assert_int_equal(flush(f, T0 + 30 * S + 4 * 60 * M + 1), 1);
}

static void test_old_alert_skips_group_wait(void **state)
{
    struct fixture *f = *state;
    put(f, "Lag", T0 - 10 * M, 0, T0);
    assert_int_equal(dispatch_next_due_ms(f->d), T0);
}

static void test_new_alert_in_group_notifies_at_next_interval(void **state)
{
    struct fixture *f = *state;
    put(f, "Lag", T0, 0, T0);
    assert_int_equal(flush(f, T0 + 30 * S), 1);
    put(f, "Disconnected", T0 + M, 0, T0 + M);
    assert_int_equal(flush(f, T0 + 2 * M), 0); /* not due yet */
    assert_int_equal(flush(f, T0 + 30 * S + 5 * M), 1);
    assert_string_equal(f->sent.alertnames[1], "Disconnected+Lag+");
}

static void test_resolve_is_sent_and_leaves_the_group(void **state)
{
    struct fixture *f = *state;
    put(f, "Lag", T0, 0, T0);
    assert_int_equal(flush(f, T0 + 30 * S), 1);
    put(f, "Lag", T0, T0 + M, T0 + M);
    assert_int_equal(flush(f, T0 + 30 * S + 5 * M), 1);
    assert_string_equal(f->sent.alertnames[1], "Lag-");
    assert_int_equal(f->sent.n_firing[1], 0);
    assert_int_equal(dispatch_group_count(f->d), 0);
}

static void test_send_resolved_false_sends_nothing_on_resolve(void **state)
{
    struct fixture *f = *state;
    f->send_resolved = false;
    put(f, "Lag", T0, 0, T0);
    assert_int_equal(flush(f, T0 + 30 * S), 1);
    put(f, "Lag", T0, T0 + M, T0 + M);
    assert_int_equal(flush(f, T0 + 30 * S + 5 * M), 0);
    assert_int_equal(dispatch_group_count(f->d), 0);
    /* firing again later is new to the receiver */
    put(f, "Lag", T0 + 20 * M, 0, T0 + 20 * M);
    assert_int_equal(flush(f, T0 + 21 * M), 1);
}

static void test_alert_that_fired_and_resolved_unseen_is_never_sent(void **state)
{
    struct fixture *f = *state;
    put(f, "Lag", T0, 0, T0);
    put(f, "Lag", T0, T0 + 10 * S, T0 + 10 * S);
    assert_int_equal(flush(f, T0 + 30 * S), 0);
    assert_int_equal(f->sent.count, 0);
}

static void test_failover_hold_keeps_back_then_sends_with_note(void **state)
{
    struct fixture *f = *state;
    f->hold_until = T0 + 20 * M;
    put(f, "Lag", T0, 0, T0);
    assert_int_equal(flush(f, T0 + 30 * S), 0);
    /* began and ended inside the episode: never sent */
    put(f, "Blip", T0 + M, 0, T0 + M);
    put(f, "Blip", T0 + M, T0 + 3 * M, T0 + 3 * M);
    assert_int_equal(flush(f, T0 + 30 * S + 5 * M), 0);
    assert_int_equal(flush(f, T0 + 30 * S + 15 * M), 0);
    dispatch_expedite(f->d, T0 + 20 * M);
    assert_int_equal(flush(f, T0 + 20 * M), 1);
    assert_string_equal(f->sent.alertnames[0], "Lag+");
    assert_true(f->sent.held_note[0]);
}

static void test_resolve_of_alert_sent_before_episode_goes_out_at_once(void **state)
{
    struct fixture *f = *state;
    put(f, "Lag", T0, 0, T0);
    assert_int_equal(flush(f, T0 + 30 * S), 1);
    f->hold_until = T0 + 60 * M;
    put(f, "Lag", T0, T0 + 2 * M, T0 + 2 * M);
    assert_int_equal(flush(f, T0 + 30 * S + 5 * M), 1);
    assert_string_equal(f->sent.alertnames[1], "Lag-");
}

static void test_failed_emit_is_retried_not_recorded(void **state)
{
    struct fixture *f = *state;
    put(f, "Lag", T0, 0, T0);
    f->sent.fail_next = 1;
    assert_int_equal(flush(f, T0 + 30 * S), 0);
    assert_int_equal(flush(f, T0 + 30 * S + 5 * M), 1);
}

static void test_notification_log_survives_restart(void **state)
{
    struct fixture *f = *state;
    put(f, "Lag", T0, 0, T0);
    assert_int_equal(flush(f, T0 + 30 * S), 1);
    char *saved = dispatch_nflog_save(f->d, T0 + M, 24 * 60 * M);
    assert_non_null(saved);
    /* a new process: same config, alert state restored, log loaded */
    struct dispatch_options o = {
        .root = f->root, .send_resolved = send_resolved, .send_resolved_ud = f};
    struct dispatch *d2 = dispatch_new(&o);
    struct lw_err err = {0};
    assert_int_equal(dispatch_nflog_load(d2, saved, strlen(saved), &err), 0);
    dispatch_free(f->d);
    f->d = d2;
    put(f, "Lag", T0, 0, T0 + 2 * M);
    assert_int_equal(dispatch_next_due_ms(f->d), T0 + 2 * M); /* old alert: no group_wait */
    assert_int_equal(flush(f, T0 + 2 * M), 0);                /* already told: no duplicate */
    free(saved);
    assert_int_equal(dispatch_nflog_load(f->d, "{\"version\":2}", 13, &err), -1);
    assert_non_null(strstr(err.msg, "version 1"));
    assert_int_equal(dispatch_nflog_load(f->d, "{", 1, &err), -1);
    const char *bad = "{\"version\":1,\"entries\":[{\"group_key\":\"k\",\"receiver\":\"r\","
                      "\"timestamp_ms\":1,\"firing\":[\"zz\"],\"resolved\":[]}]}";
    assert_int_equal(dispatch_nflog_load(f->d, bad, strlen(bad), &err), -1);
    assert_non_null(strstr(err.msg, "bad fingerprint"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_first_notification_waits_group_wait, setup, teardown),
        cmocka_unit_test_setup_teardown(test_old_alert_skips_group_wait, setup, teardown),
        cmocka_unit_test_setup_teardown(test_new_alert_in_group_notifies_at_next_interval, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_resolve_is_sent_and_leaves_the_group, setup, teardown),
        cmocka_unit_test_setup_teardown(test_send_resolved_false_sends_nothing_on_resolve, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_alert_that_fired_and_resolved_unseen_is_never_sent,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_failover_hold_keeps_back_then_sends_with_note, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_resolve_of_alert_sent_before_episode_goes_out_at_once,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_emit_is_retried_not_recorded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_notification_log_survives_restart, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
