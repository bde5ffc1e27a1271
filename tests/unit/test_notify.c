/* test_notify.c — the notifier's delivery health and the LagwatchNotificationsFailing alert: a
 * receiver that refuses a notification, or whose notification outlives max_age, becomes failing
 * and every other working receiver is told; when it accepts again they get the resolve. Real
 * HTTP against the scripted loopback server of tests/support/rawsrv.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "lagwatch/notify.h"
#include "rawsrv.h"

static int64_t wall_ms(void)
{
    return (int64_t)time(NULL) * 1000;
}

struct fixture {
    struct ts_rawsrv *a, *b;
    char url_a[128], url_b[128];
    struct webhook_config wa, wb;
    struct receiver_config rc[3];
    struct receivers rs;
    struct http_client *http;
    struct outbox *ob;
    struct notifier *n;
};

static void setup(struct fixture *f, const struct ts_canned *a, size_t na, int64_t max_age_ms)
{
    static const struct ts_canned ok = {.status = 200, .body = "ok", .content_length = -1};
    memset(f, 0, sizeof(*f));
    f->a = ts_rawsrv_start(a, na);
    f->b = ts_rawsrv_start(&ok, 1);
    assert_non_null(f->a);
    assert_non_null(f->b);
    f->wa = (struct webhook_config){.url = ts_rawsrv_url(f->a, "/hook", f->url_a, sizeof f->url_a),
                                    .send_resolved = true};
    f->wb = (struct webhook_config){.url = ts_rawsrv_url(f->b, "/hook", f->url_b, sizeof f->url_b),
                                    .send_resolved = true};
    f->rc[0] = (struct receiver_config){.name = "team-a", .webhook = &f->wa, .n_webhook = 1};
    f->rc[1] = (struct receiver_config){.name = "team-b", .webhook = &f->wb, .n_webhook = 1};
    f->rc[2] = (struct receiver_config){.name = "nothing"}; /* no integration: never told */
    f->rs = (struct receivers){.v = f->rc, .n = 3};
    struct lw_err err = {0};
    f->http = http_client_new(NULL, &err);
    assert_non_null(f->http);
    f->ob = outbox_new(NULL, max_age_ms);
    assert_non_null(f->ob);
    f->n = notifier_new(f->http, f->ob, &f->rs, "http://lagwatch.test:9741");
    assert_non_null(f->n);
}

static void teardown(struct fixture *f)
{
    notifier_free(f->n);
    outbox_free(f->ob);
    http_client_free(f->http);
    ts_rawsrv_stop(f->a);
    ts_rawsrv_stop(f->b);
}

/* Queue one firing (or resolved) alert X for receiver at now_ms. */
static void emit(struct fixture *f, const char *receiver, bool firing, int64_t now_ms)
{
    struct dispatch_alert a = {.starts_at_ms = now_ms - 60000, .ends_at_ms = firing ? 0 : now_ms};
    struct lw_labels gl;
    lw_labels_init(&a.labels);
    lw_labels_init(&a.annotations);
    lw_labels_init(&gl);
    assert_int_equal(lw_labels_set(&a.labels, "alertname", "X"), 0);
    assert_int_equal(lw_labels_set(&gl, "alertname", "X"), 0);
    a.fingerprint = lw_labels_fingerprint(&a.labels);
    const struct dispatch_alert *list[] = {&a};
    struct dispatch_notification dn = {.receiver = receiver,
                                       .group_key = "{}:{alertname=\"X\"}",
                                       .group_labels = &gl,
                                       .alerts = list,
                                       .n_alerts = 1,
                                       .n_firing = firing ? 1 : 0,
                                       .now_ms = now_ms};
    assert_int_equal(notifier_emit(f->n, &dn), 0);
    lw_labels_cleanup(&a.labels);
    lw_labels_cleanup(&a.annotations);
    lw_labels_cleanup(&gl);
}

/* Pump and poll until nothing is in flight (bounded). */
static void deliver(struct fixture *f)
{
    for (int i = 0; i < 200; i++) {
        notifier_pump(f->n, wall_ms());
        if (http_client_pending(f->http) == 0)
            return;
        assert_int_equal(http_client_poll(f->http, 50), 0);
    }
    fail_msg("requests still pending after 10 s");
}

static const struct notifier_receiver_health *health(struct fixture *f, const char *receiver)
{
    for (size_t i = 0; i < notifier_health_count(f->n); i++)
        if (strcmp(notifier_health_at(f->n, i)->receiver, receiver) == 0)
            return notifier_health_at(f->n, i);
    return NULL;
}

static void test_refused_notification_makes_receiver_failing_and_tells_the_others(void **state)
{
    (void)state;
    static const struct ts_canned a[] = {
        {.status = 404, .body = "channel_not_found", .content_length = -1},
        {.status = 200, .body = "ok", .content_length = -1}};
    struct fixture f;
    setup(&f, a, 2, 0);
    emit(&f, "team-a", true, wall_ms());
    deliver(&f);
    const struct notifier_receiver_health *h = health(&f, "team-a");
    assert_non_null(h);
    assert_true(h->failing);
    assert_int_equal(h->drops, 1);
    assert_non_null(strstr(h->last_error, "webhook:0: HTTP 404: channel_not_found"));
    assert_int_equal(notifier_stats(f.n)->failed, 1);
    deliver(&f);
    assert_int_equal(ts_rawsrv_nrequests(f.b), 1);
    const char *req = ts_rawsrv_request(f.b, 0);
    assert_non_null(strstr(req, "\"alertname\":\"LagwatchNotificationsFailing\""));
    assert_non_null(strstr(req, "\"receiver\":\"team-a\""));
    assert_non_null(strstr(req, "\"status\":\"firing\""));
    assert_non_null(strstr(req, "channel_not_found"));
    assert_int_equal(ts_rawsrv_nrequests(f.a), 1); /* nothing about itself to team-a */

    /* team-a accepts again: team-b hears the resolve */
    emit(&f, "team-a", true, wall_ms());
    deliver(&f);
    h = health(&f, "team-a");
    assert_false(h->failing);
    assert_true(h->last_ok_ms > 0);
    deliver(&f);
    assert_int_equal(ts_rawsrv_nrequests(f.b), 2);
    req = ts_rawsrv_request(f.b, 1);
    assert_non_null(strstr(req, "\"alertname\":\"LagwatchNotificationsFailing\""));
    assert_non_null(strstr(req, "\"status\":\"resolved\""));
    assert_int_equal(outbox_len(f.ob), 0);
    teardown(&f);
}

static void test_failing_alert_is_sent_once_per_episode(void **state)
{
    (void)state;
    static const struct ts_canned a[] = {
        {.status = 400, .body = "invalid_payload", .content_length = -1}};
    struct fixture f;
    setup(&f, a, 1, 0);
    for (int i = 0; i < 3; i++) {
        emit(&f, "team-a", true, wall_ms());
        deliver(&f);
        deliver(&f);
    }
    assert_int_equal(health(&f, "team-a")->drops, 3);
    assert_int_equal(ts_rawsrv_nrequests(f.a), 3);
    assert_int_equal(ts_rawsrv_nrequests(f.b), 1);
    teardown(&f);
}

static void test_notification_older_than_max_age_is_dropped_and_reported(void **state)
{
    (void)state;
    static const struct ts_canned a[] = {{.status = 200, .body = "ok", .content_length = -1}};
    struct fixture f;
    setup(&f, a, 1, 60 * 1000);
    int64_t now = wall_ms();
    emit(&f, "team-a", true, now - 2 * 60 * 1000); /* queued two minutes ago, never attempted */
    assert_int_equal(notifier_expire(f.n, now - 90 * 1000), 0);
    assert_int_equal(notifier_expire(f.n, now), 1);
    assert_int_equal(notifier_stats(f.n)->dropped, 1);
    const struct notifier_receiver_health *h = health(&f, "team-a");
    assert_non_null(h);
    assert_true(h->failing);
    assert_non_null(strstr(h->last_error, "undelivered after 120s"));
    deliver(&f);
    assert_int_equal(ts_rawsrv_nrequests(f.a), 0);
    assert_int_equal(ts_rawsrv_nrequests(f.b), 1);
    assert_non_null(strstr(ts_rawsrv_request(f.b, 0), "LagwatchNotificationsFailing"));
    teardown(&f);
}

static void test_no_failing_alert_when_no_other_receiver_works(void **state)
{
    (void)state;
    static const struct ts_canned a[] = {
        {.status = 403, .body = "forbidden", .content_length = -1}};
    struct fixture f;
    setup(&f, a, 1, 0);
    f.rs.n = 1; /* only team-a is configured */
    notifier_set_receivers(f.n, &f.rs);
    emit(&f, "team-a", true, wall_ms());
    deliver(&f);
    assert_true(health(&f, "team-a")->failing);
    assert_int_equal(outbox_len(f.ob), 0);
    teardown(&f);
}

static void test_delivered_notification_keeps_receiver_healthy(void **state)
{
    (void)state;
    static const struct ts_canned a[] = {{.status = 200, .body = "ok", .content_length = -1}};
    struct fixture f;
    setup(&f, a, 1, 0);
    emit(&f, "team-a", true, wall_ms());
    deliver(&f);
    const struct notifier_receiver_health *h = health(&f, "team-a");
    assert_non_null(h);
    assert_false(h->failing);
    assert_int_equal(h->drops, 0);
    assert_int_equal(notifier_stats(f.n)->sent, 1);
    assert_int_equal(ts_rawsrv_nrequests(f.b), 0);
    teardown(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refused_notification_makes_receiver_failing_and_tells_the_others),
        cmocka_unit_test(test_failing_alert_is_sent_once_per_episode),
        cmocka_unit_test(test_notification_older_than_max_age_is_dropped_and_reported),
        cmocka_unit_test(test_no_failing_alert_when_no_other_receiver_works),
        cmocka_unit_test(test_delivered_notification_keeps_receiver_healthy),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
