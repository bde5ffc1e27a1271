/*
 * dispatch.h — aggregation groups, their timers and the notification log: Alertmanager's
 * dispatcher and dedup stage, as a pure module. Alerts go in (with the clock); notifications
 * come out through a callback when a group's timer is due and something changed. Nothing here
 * sends anything or touches the disk: the agent hands the notifications to the outbox and
 * persists the log through dispatch_nflog_save/load.
 *
 * Semantics follow Alertmanager: a new group waits group_wait (or flushes at once when its first
 * alert is older than that), then is looked at every group_interval; a receiver is notified when
 * a firing alert is new to it, when everything it was told about resolved, when send_resolved is
 * on and the resolved set changed, or when repeat_interval has passed since the last
 * notification. Resolved alerts leave the group after a successful notification.
 *
 * Two lagwatch additions: a "held" predicate (failover episodes): held firing alerts are not sent
 * and wait; held resolved alerts are sent only if the receiver was told they fired; alerts that
 * were held are marked so the message can say so. And a "muted" predicate (silences, inhibition,
 * time intervals) applied at flush time as Alertmanager applies its mute stages.
 */
#ifndef LAGWATCH_DISPATCH_H
#define LAGWATCH_DISPATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lagwatch/error.h"
#include "lagwatch/labels.h"
#include "lagwatch/route.h"

struct dispatch_alert {
    struct lw_labels labels;
    struct lw_labels annotations;
    int64_t starts_at_ms;
    int64_t ends_at_ms; /* 0: firing with no known end; <= now: resolved */
    char *generator_url;
    uint64_t fingerprint; /* lw_labels_fingerprint(labels), filled by dispatch */
    bool was_held;        /* held back during a failover at least once */
    bool has_value;       /* value is the rule's last result for the alert (the lag figure) */
    double value;
};

struct dispatch_notification {
    const struct route *route;
    const char *receiver;
    const char *group_key;
    uint64_t group_key_hash; /* FNV-1a 64 of group_key; Alertmanager's groupKey hash */
    const struct lw_labels *group_labels;
    const struct dispatch_alert *const
        *alerts;               /* in Alertmanager's order (job, instance, labels) */
    size_t n_alerts, n_firing; /* n_firing: how many of them are firing */
    int64_t now_ms;
};

/* Return true when the alert must not be sent now (failover hold). */
typedef bool (*dispatch_held_fn)(void *ud, const struct lw_labels *alert, int64_t now_ms);
/* Return true when the alert is muted (silenced, inhibited, outside an active time interval). */
typedef bool (*dispatch_muted_fn)(void *ud, const struct route *r, const struct lw_labels *alert,
                                  int64_t now_ms);
/* Hand one notification over; return 0 when it is safely queued (then the log records it), -1
 * to try again at the next group_interval. */
typedef int (*dispatch_emit_fn)(void *ud, const struct dispatch_notification *n);

struct dispatch_options {
    const struct route *root;
    dispatch_held_fn held;
    void *held_ud;
    dispatch_muted_fn muted;
    void *muted_ud;
    bool (*send_resolved)(void *ud, const char *receiver); /* NULL: true */
    void *send_resolved_ud;
};

struct dispatch;

struct dispatch *dispatch_new(const struct dispatch_options *opts);
void dispatch_free(struct dispatch *d);

/* Swap the routing tree (config reload). Groups are rebuilt at the next put; the log stays. */
void dispatch_set_route(struct dispatch *d, const struct route *root);

/* Insert or update an alert (copied), keyed by its fingerprint, into every group its routes
 * give. Returns 0 or -1 with err. */
LW_MUST_CHECK int dispatch_put(struct dispatch *d, const struct dispatch_alert *a, int64_t now_ms,
                               struct lw_err *err);

/* Run every group whose timer is due at now_ms: decide, emit, record. Returns how many
 * notifications were emitted, or -1 on memory exhaustion. */
int dispatch_flush_due(struct dispatch *d, int64_t now_ms, dispatch_emit_fn emit, void *ud);

/* When the next group timer is due (INT64_MAX when there is none). */
int64_t dispatch_next_due_ms(const struct dispatch *d);

size_t dispatch_group_count(const struct dispatch *d);

/* Make every group that has flushed before due now (a failover hold just ended: what was held
 * goes out at once rather than at the next group_interval). */
void dispatch_expedite(struct dispatch *d, int64_t now_ms);

/* The notification log as a JSON document (malloc'd string) and back. Entries older than
 * retention_ms are dropped on save. Load errors name what is wrong; the log is left empty. */
char *dispatch_nflog_save(const struct dispatch *d, int64_t now_ms, int64_t retention_ms);
LW_MUST_CHECK int dispatch_nflog_load(struct dispatch *d, const char *json, size_t len,
                                      struct lw_err *err);

#endif
