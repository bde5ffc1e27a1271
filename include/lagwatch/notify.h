/*
 * notify.h — receivers and delivery. The receiver configs (Alertmanager's shapes: slack_configs,
 * pagerduty_configs, webhook_configs, plus alertmanager_configs), the notifier that turns a
 * dispatched notification into one outbox item per integration, and the pump that sends outbox
 * items through the shared HTTP client and reports results back to the outbox.
 *
 * Secrets (Slack webhook URLs, routing keys, bearer tokens, passwords) live only in these config
 * structs, are wiped on free, and are looked up when an item is sent: the outbox and the logs
 * never hold them.
 */
#ifndef LAGWATCH_NOTIFY_H
#define LAGWATCH_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lagwatch/dispatch.h"
#include "lagwatch/error.h"
#include "lagwatch/http.h"
#include "lagwatch/outbox.h"
#include "lagwatch/receivers.h"

#define NOTIFY_PAGERDUTY_URL    "https://events.pagerduty.com/v2/enqueue"
#define NOTIFY_SLACK_SPACING_MS 1000
#define NOTIFY_TIMEOUT_MS       10000
#define NOTIFY_AM_RESEND_MS     (60 * 1000)
#define NOTIFY_AM_ENDS_AFTER_MS (4 * NOTIFY_AM_RESEND_MS)

#define NOTIFY_FAILING_ALERT "LagwatchNotificationsFailing"

struct notifier_stats {
    uint64_t sent, failed, dropped, retried;
};

/* Delivery health of one receiver, as the notifier has seen it since start. A receiver is
 * failing from the first notification to it that was dropped for good (refused with a
 * non-retryable status, or older than max_age) until the next one it accepts. */
struct notifier_receiver_health {
    const char *receiver;
    bool failing;
    int64_t failing_since_ms, last_drop_ms, last_ok_ms; /* 0: never */
    uint64_t drops;
    char last_error[LW_ERR_MSG_MAX]; /* "integration: why" of the last drop */
};

struct notifier;

/* The notifier borrows http, outbox and receivers; they must outlive it. */
struct notifier *notifier_new(struct http_client *http, struct outbox *outbox,
                              const struct receivers *receivers, const char *external_url);
void notifier_free(struct notifier *n);

/* Per-request timeout for receivers (default NOTIFY_TIMEOUT_MS). */
void notifier_set_timeout_ms(struct notifier *n, long timeout_ms);

/* Swap the receivers after a config reload (queued items whose receiver vanished are dropped
 * loudly when their turn comes). */
void notifier_set_receivers(struct notifier *n, const struct receivers *receivers);

/* The dispatcher's emit callback (ud = struct notifier *): one outbox item per integration of
 * the receiver. Returns 0 when every item is persisted, -1 otherwise (the dispatcher retries). */
int notifier_emit(void *ud, const struct dispatch_notification *dn);

/*
 * Drop outbox items older than the outbox's max_age: each is logged as an error, counted in
 * stats.dropped and makes its receiver failing. Returns how many were dropped. Call it from the
 * loop (every cycle is fine).
 *
 * When a receiver becomes failing (here, or when a receiver refuses a notification), the
 * notifier queues a firing NOTIFY_FAILING_ALERT alert {receiver="<it>", severity="critical"}
 * straight to every other receiver that still works (not failing, with a Slack, PagerDuty or
 * webhook integration), outside the route tree: the route would often send it to the very
 * receiver that fails. Its group key is "{}/lagwatch:{alertname=..., receiver=...}". When the
 * receiver accepts a notification again, the same receivers get the resolve. It is sent once per
 * failing episode, not repeated.
 */
size_t notifier_expire(struct notifier *n, int64_t now_ms);

/* The receivers seen so far (any that had a delivery or a drop), for /metrics and the status
 * page. Pointers are valid until the next call into the notifier. */
size_t notifier_health_count(const struct notifier *n);
const struct notifier_receiver_health *notifier_health_at(const struct notifier *n, size_t i);

/* Start every outbox item that may be attempted now; results arrive through http polling. */
void notifier_pump(struct notifier *n, int64_t now_ms);

/* Push the active alerts (firing, and resolved ones still retained) to every Alertmanager
 * integration of the receivers their routes give, as Prometheus does: at once when the set of
 * alerts or their firing/resolved state changed since the last push, else every
 * NOTIFY_AM_RESEND_MS; firing alerts carry endsAt = now + NOTIFY_AM_ENDS_AFTER_MS so Alertmanager
 * resolves them if lagwatch goes silent. Alertmanager integrations do not take part in
 * notifier_emit: Alertmanager groups and de-duplicates by itself. */
void notifier_push_alertmanager(struct notifier *n, const struct route *root,
                                const struct dispatch_alert *const *alerts, size_t n_alerts,
                                int64_t now_ms);

/* Send a clearly marked test notification (alertname LagwatchTestNotification) to every Slack,
 * PagerDuty and webhook integration of a receiver, synchronously, outside the outbox; a PagerDuty
 * trigger that was accepted is resolved at once under the same dedup_key. Every integration is
 * tried; returns 0 when all answered 2xx, else -1 with the first failure in err ("slack:0: HTTP
 * 404: channel_not_found"). */
LW_MUST_CHECK int notifier_send_test(struct notifier *n, const char *receiver, int64_t now_ms,
                                     struct lw_err *err);

const struct notifier_stats *notifier_stats(const struct notifier *n);

#endif
