/*
 * outbox.h — notifications waiting for delivery. An item is persisted (through the caller's
 * put hook, which must fsync) before it can be attempted and deleted only after the receiver
 * said 2xx, so a crash or restart loses nothing. The cost is at-least-once delivery: a crash
 * between a receiver's 2xx and the delete sends that one item again after restart (PagerDuty
 * folds the repeat by dedup_key; Slack shows it twice, once per such crash).
 *
 * The outbox decides what may be attempted when: per (receiver, integration, group) only the
 * oldest item (a resolve never overtakes its trigger), a per-endpoint minimum spacing (Slack
 * allows one message per second per webhook), exponential backoff with full jitter, Retry-After
 * on 429/503, no retry on 400/401/403/404/410, and max_age after which an item is dropped
 * loudly. It does no I/O itself: sending is the notifier's, persistence the state module's.
 * Items hold no secrets: URLs and keys are looked up from the config at send time.
 */
#ifndef LAGWATCH_OUTBOX_H
#define LAGWATCH_OUTBOX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lagwatch/error.h"

#define OUTBOX_DEFAULT_MAX_AGE_MS (24LL * 60 * 60 * 1000)
#define OUTBOX_BACKOFF_BASE_MS    1000
#define OUTBOX_BACKOFF_CAP_MS     (5 * 60 * 1000)
#define OUTBOX_MAX_RETRY_AFTER_MS (60 * 60 * 1000)

struct outbox_item {
    char *id;          /* unique, ordered: creation time and a sequence number */
    char *receiver;    /* receiver name in the config */
    char *integration; /* "slack:0", "pagerduty:1", ... (kind and index in the receiver) */
    char *group_key;
    char *body; /* the payload, without secrets */
    int64_t created_ms, next_attempt_ms;
    int attempts;
    bool in_flight;
    bool resolve_only; /* every alert in it is resolved */
    char *last_error;
};

struct outbox_hooks {
    /* Persist item durably (fsync) as JSON text; 0 or -1 (then enqueue fails). */
    int (*put)(void *ud, const char *id, const char *json);
    /* Remove the persisted item; failures are logged by the hook, not fatal. */
    void (*del)(void *ud, const char *id);
    void *ud;
    uint64_t (*random)(void *ud); /* jitter source; NULL: a fixed-seed xorshift */
};

struct outbox;

struct outbox *outbox_new(const struct outbox_hooks *hooks, int64_t max_age_ms);
void outbox_free(struct outbox *o);

/* Queue a notification: persisted first, then eligible at now. If an older item of the same
 * (receiver, integration, group) has not been attempted yet, it is superseded (each item is a
 * full snapshot of its group, as Alertmanager's notifications are) and dropped, so a receiver
 * that was down gets the group's latest state rather than its history. Returns 0, or -1 when it
 * could not be persisted (err says why; nothing was queued). */
LW_MUST_CHECK int outbox_enqueue(struct outbox *o, const char *receiver, const char *integration,
                                 const char *group_key, const char *body, bool resolve_only,
                                 int64_t now_ms, struct lw_err *err);

/* Re-add an item loaded from state at startup (not persisted again). */
LW_MUST_CHECK int outbox_restore(struct outbox *o, const char *json, size_t len,
                                 struct lw_err *err);

/* Change max_age (a reload); items already queued are judged by the new value. */
void outbox_set_max_age(struct outbox *o, int64_t max_age_ms);

/* Set the minimum spacing between attempts to one integration (e.g. 1000 for Slack). */
LW_MUST_CHECK int outbox_set_spacing(struct outbox *o, const char *receiver,
                                     const char *integration, int64_t spacing_ms);

/* The next item that may be attempted at now, marked in flight; NULL when none. */
struct outbox_item *outbox_next(struct outbox *o, int64_t now_ms);

enum outbox_outcome { OUTBOX_DELIVERED, OUTBOX_RETRY, OUTBOX_DROPPED };

/* Report an attempt: status is the HTTP status (0 for transport errors), retry_after_ms the
 * parsed Retry-After (-1 if none), error the receiver's text or the transport error. The item
 * pointer is invalid after this call. */
enum outbox_outcome outbox_result(struct outbox *o, struct outbox_item *item, int status,
                                  int64_t retry_after_ms, const char *error, int64_t now_ms);

/* Drop items older than max_age; calls dropped(ud, item) for each before freeing it. */
size_t outbox_expire(struct outbox *o, int64_t now_ms,
                     void (*dropped)(void *ud, const struct outbox_item *it), void *ud);

/* When the earliest waiting item becomes eligible (INT64_MAX if none). */
int64_t outbox_next_due_ms(const struct outbox *o);
size_t outbox_len(const struct outbox *o);

/* Whether an HTTP status is worth retrying. */
bool outbox_status_retryable(int status);

#endif
