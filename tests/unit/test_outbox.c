/* test_outbox.c — the delivery queue: persisted before attempted, removed only on 2xx, order
 * per group, spacing per endpoint, backoff, Retry-After, non-retryable statuses, max_age. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lagwatch/outbox.h"

struct store {
    char *ids[64];
    char *docs[64];
    int n;
    int fail_put;
};

static int put(void *ud, const char *id, const char *json)
{
    struct store *s = ud;
    if (s->fail_put)
        return -1;
    s->ids[s->n] = strdup(id);
    s->docs[s->n] = strdup(json);
    s->n++;
    return 0;
}

static void del(void *ud, const char *id)
{
    struct store *s = ud;
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->ids[i], id) == 0) {
            free(s->ids[i]);
            free(s->docs[i]);
            s->ids[i] = s->ids[s->n - 1];
            s->docs[i] = s->docs[s->n - 1];
            s->n--;
            return;
        }
}

static void clear(struct store *s)
{
    for (int i = 0; i < s->n; i++) {
        free(s->ids[i]);
        free(s->docs[i]);
    }
    s->n = 0;
}

static struct outbox *mk(struct store *s)
{
    struct outbox_hooks h = {.put = put, .del = del, .ud = s};
    return outbox_new(&h, 60 * 60 * 1000);
}

static void enq(struct outbox *o, const char *group, const char *body, int64_t now)
{
    struct lw_err err = {0};
    assert_int_equal(outbox_enqueue(o, "oncall", "slack:0", group, body, false, now, &err), 0);
}

static void test_persisted_before_attempt_and_removed_on_2xx(void **state)
{
    (void)state;
    struct store s = {0};
    struct outbox *o = mk(&s);
    enq(o, "g1", "{\"text\":\"a\"}", 1000);
    assert_int_equal(s.n, 1);
    assert_non_null(strstr(s.docs[0], "\"body\":\"{\\\"text\\\":\\\"a\\\"}\""));
    struct outbox_item *it = outbox_next(o, 1000);
    assert_non_null(it);
    assert_null(outbox_next(o, 1000)); /* in flight */
    assert_int_equal(outbox_result(o, it, 500, -1, "boom", 1000), OUTBOX_RETRY);
    assert_int_equal(s.n, 1);
    it = outbox_next(o, 1000 + OUTBOX_BACKOFF_CAP_MS);
    assert_non_null(it);
    assert_int_equal(it->attempts, 2);
    assert_int_equal(outbox_result(o, it, 200, -1, NULL, 2000), OUTBOX_DELIVERED);
    assert_int_equal(s.n, 0);
    assert_int_equal(outbox_len(o), 0);
    outbox_free(o);
}

static void test_failed_persist_queues_nothing(void **state)
{
    (void)state;
    struct store s = {.fail_put = 1};
    struct outbox *o = mk(&s);
    struct lw_err err = {0};
    assert_int_equal(outbox_enqueue(o, "r", "slack:0", "g", "{}", false, 0, &err), -1);
    assert_non_null(strstr(err.msg, "persist"));
    assert_int_equal(outbox_len(o), 0);
    outbox_free(o);
}

static void test_resolve_never_overtakes_its_trigger(void **state)
{
    (void)state;
    struct store s = {0};
    struct outbox *o = mk(&s);
    enq(o, "g1", "trigger", 0);
    struct outbox_item *t = outbox_next(o, 0);
    assert_string_equal(t->body, "trigger");
    assert_int_equal(outbox_result(o, t, 503, -1, NULL, 0), OUTBOX_RETRY);
    enq(o, "g1", "resolve", 10);
    enq(o, "g2", "other", 10);
    /* the trigger is waiting for its retry: the resolve must wait, g2 may go */
    struct outbox_item *n = outbox_next(o, 10);
    assert_string_equal(n->body, "other");
    assert_int_equal(outbox_result(o, n, 200, -1, NULL, 10), OUTBOX_DELIVERED);
    assert_null(outbox_next(o, 10));
    t = outbox_next(o, 10 + OUTBOX_BACKOFF_CAP_MS);
    assert_string_equal(t->body, "trigger");
    assert_int_equal(outbox_result(o, t, 200, -1, NULL, 20), OUTBOX_DELIVERED);
    n = outbox_next(o, 20 + OUTBOX_BACKOFF_CAP_MS);
    assert_string_equal(n->body, "resolve");
    outbox_free(o);
    clear(&s);
}

static void test_unattempted_snapshot_is_superseded(void **state)
{
    (void)state;
    struct store s = {0};
    struct outbox *o = mk(&s);
    enq(o, "g1", "first", 0);
    enq(o, "g1", "second", 1);
    assert_int_equal(outbox_len(o), 1);
    assert_int_equal(s.n, 1);
    assert_string_equal(outbox_next(o, 1)->body, "second");
    outbox_free(o);
    clear(&s);
}

static void test_retry_after_and_non_retryable(void **state)
{
    (void)state;
    struct store s = {0};
    struct outbox *o = mk(&s);
    enq(o, "g1", "a", 0);
    struct outbox_item *it = outbox_next(o, 0);
    assert_int_equal(outbox_result(o, it, 429, 7000, "rate_limited", 0), OUTBOX_RETRY);
    assert_null(outbox_next(o, 6999));
    it = outbox_next(o, 7000);
    assert_non_null(it);
    assert_string_equal(it->last_error, "rate_limited");
    assert_int_equal(outbox_result(o, it, 404, -1, "channel_not_found", 7000), OUTBOX_DROPPED);
    assert_int_equal(s.n, 0);
    for (int st = 400; st <= 410; st++)
        if (st == 400 || st == 401 || st == 403 || st == 404 || st == 410)
            assert_false(outbox_status_retryable(st));
    assert_true(outbox_status_retryable(0));
    assert_true(outbox_status_retryable(429));
    assert_true(outbox_status_retryable(502));
    outbox_free(o);
}

static void test_spacing_per_endpoint(void **state)
{
    (void)state;
    struct store s = {0};
    struct outbox *o = mk(&s);
    assert_int_equal(outbox_set_spacing(o, "oncall", "slack:0", 1000), 0);
    enq(o, "g1", "a", 0);
    enq(o, "g2", "b", 0);
    struct outbox_item *a = outbox_next(o, 0);
    assert_non_null(a);
    assert_int_equal(outbox_result(o, a, 200, -1, NULL, 10), OUTBOX_DELIVERED);
    assert_null(outbox_next(o, 999));
    struct outbox_item *b = outbox_next(o, 1000);
    assert_non_null(b);
    assert_int_equal(outbox_result(o, b, 200, -1, NULL, 1000), OUTBOX_DELIVERED);
    /* a reload lifts the limit: spacing 0 */
    enq(o, "g3", "c", 1000);
    assert_null(outbox_next(o, 1001));
    assert_int_equal(outbox_set_spacing(o, "oncall", "slack:0", 0), 0);
    assert_non_null(outbox_next(o, 1001));
    outbox_free(o);
    clear(&s);
}

static int dropped_count;
static void on_drop(void *ud, const struct outbox_item *it)
{
    (void)ud;
    (void)it;
    dropped_count++;
}

static void test_max_age_drops_loudly_and_restore_keeps_order(void **state)
{
    (void)state;
    struct store s = {0};
    struct outbox *o = mk(&s);
    enq(o, "g1", "old", 0);
    enq(o, "g2", "new", 30 * 60 * 1000);
    dropped_count = 0;
    outbox_set_max_age(o, 2 * 60 * 60 * 1000); /* a reload to a longer max_age keeps both */
    assert_int_equal(outbox_expire(o, 60 * 60 * 1000, on_drop, NULL), 0);
    outbox_set_max_age(o, 60 * 60 * 1000);
    assert_int_equal(outbox_expire(o, 60 * 60 * 1000, on_drop, NULL), 1);
    assert_int_equal(dropped_count, 1);
    assert_int_equal(s.n, 1);
    /* restart: a new outbox restores what was persisted */
    struct outbox *o2 = mk(&s);
    struct lw_err err = {0};
    assert_int_equal(outbox_restore(o2, s.docs[0], strlen(s.docs[0]), &err), 0);
    assert_int_equal(outbox_restore(o2, s.docs[0], strlen(s.docs[0]), &err), 0); /* idempotent */
    assert_int_equal(outbox_len(o2), 1);
    assert_string_equal(outbox_next(o2, 30 * 60 * 1000)->body, "new");
    assert_int_equal(outbox_restore(o2, "{\"version\":1}", 13, &err), -1);
    assert_int_equal(outbox_restore(o2, "nope", 4, &err), -1);
    outbox_free(o);
    outbox_free(o2);
    clear(&s);
}

/* A receiver down for 10 simulated minutes, then back. Every 20 s a new snapshot of one of three
 * groups is queued (for Slack, spaced 1 s, and for PagerDuty); every attempt fails with 503
 * until minute 10. Afterwards the queue must drain: each group's deliveries in the order they
 * were queued, every item that was ever attempted delivered (only never-attempted snapshots may
 * be superseded by a newer one), and each group's newest snapshot delivered last. */
#define DOWN_MS     (10 * 60 * 1000)
#define N_SNAPSHOTS 30

static void test_receiver_down_ten_minutes_then_back(void **state)
{
    (void)state;
    struct store s = {0};
    struct outbox_hooks h = {.put = put, .del = del, .ud = &s};
    struct outbox *o = outbox_new(&h, 24LL * 60 * 60 * 1000);
    assert_int_equal(outbox_set_spacing(o, "oncall", "slack:0", 1000), 0);
    static const char *const integrations[] = {"slack:0", "pagerduty:0"};
    /* per integration and group: the sequence numbers delivered, and which were attempted */
    int delivered[2][3][N_SNAPSHOTS], n_delivered[2][3] = {{0}};
    bool attempted[2][N_SNAPSHOTS] = {{false}};
    int queued = 0, attempts = 0;
    int64_t t = 0, back_at = -1, drained_at = -1;
    for (; t <= DOWN_MS + 30 * 60 * 1000 && drained_at < 0; t += 100) {
        if (queued < N_SNAPSHOTS && t >= (int64_t)queued * 20000) {
            char group[8], body[16];
            snprintf(group, sizeof group, "g%d", queued % 3);
            snprintf(body, sizeof body, "%d", queued);
            for (int k = 0; k < 2; k++) {
                struct lw_err err = {0};
                assert_int_equal(
                    outbox_enqueue(o, "oncall", integrations[k], group, body, false, t, &err), 0);
            }
            queued++;
        }
        struct outbox_item *it;
        while ((it = outbox_next(o, t)) != NULL) {
            int k = strcmp(it->integration, "slack:0") == 0 ? 0 : 1;
            int seq = (int)strtol(it->body, NULL, 10), g = it->group_key[1] - '0';
            attempted[k][seq] = true;
            attempts++;
            if (t < DOWN_MS) {
                assert_int_equal(outbox_result(o, it, 503, -1, "down", t), OUTBOX_RETRY);
                continue;
            }
            if (back_at < 0)
                back_at = t;
            delivered[k][g][n_delivered[k][g]++] = seq;
            assert_int_equal(outbox_result(o, it, 200, -1, NULL, t), OUTBOX_DELIVERED);
        }
        if (queued == N_SNAPSHOTS && outbox_len(o) == 0)
            drained_at = t;
    }
    print_message("down 10 min: %d attempts, back at %.1f s, drained %.1f s after\n", attempts,
                  (double)back_at / 1000, (double)(drained_at - DOWN_MS) / 1000);
    assert_true(drained_at >= DOWN_MS);
    /* Backoff is capped at OUTBOX_BACKOFF_CAP_MS, so the queue drains within that (plus the
     * Slack spacing for the items) of the receiver coming back. */
    assert_true(drained_at - DOWN_MS <= OUTBOX_BACKOFF_CAP_MS + 60 * 1000);
    assert_int_equal(s.n, 0); /* nothing left persisted */
    for (int k = 0; k < 2; k++) {
        for (int g = 0; g < 3; g++) {
            assert_true(n_delivered[k][g] > 0);
            for (int i = 1; i < n_delivered[k][g]; i++)
                assert_true(delivered[k][g][i] > delivered[k][g][i - 1]); /* in order */
            /* the group's newest snapshot arrives, and arrives last */
            int newest = N_SNAPSHOTS - 1 - ((N_SNAPSHOTS - 1 - g) % 3);
            assert_int_equal(delivered[k][g][n_delivered[k][g] - 1], newest);
        }
        /* every snapshot that was attempted while the receiver was down is delivered */
        for (int seq = 0; seq < N_SNAPSHOTS; seq++) {
            if (!attempted[k][seq])
                continue;
            int g = seq % 3;
            bool found = false;
            for (int i = 0; i < n_delivered[k][g]; i++)
                found = found || delivered[k][g][i] == seq;
            if (!found)
                fail_msg("integration %s: snapshot %d was attempted but never delivered",
                         integrations[k], seq);
        }
    }
    /* Backoff kept the attempts during the outage modest: far fewer than one per 100 ms step. */
    assert_true(attempts < 2 * 3 * 40);
    outbox_free(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_persisted_before_attempt_and_removed_on_2xx),
        cmocka_unit_test(test_failed_persist_queues_nothing),
        cmocka_unit_test(test_resolve_never_overtakes_its_trigger),
        cmocka_unit_test(test_unattempted_snapshot_is_superseded),
        cmocka_unit_test(test_retry_after_and_non_retryable),
        cmocka_unit_test(test_spacing_per_endpoint),
        cmocka_unit_test(test_max_age_drops_loudly_and_restore_keeps_order),
        cmocka_unit_test(test_receiver_down_ten_minutes_then_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
