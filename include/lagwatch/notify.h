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

struct notifier_stats {
    uint64_t sent, failed, dropped, retried;
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

/* Start every outbox item that may be attempted now; results arrive through http polling. */
void notifier_pump(struct notifier *n, int64_t now_ms);

/* Push the active alerts (firing, and resolved ones still retained) to every Alertmanager
 * integration of the receivers their routes give, at most every NOTIFY_AM_RESEND_MS, as
 * Prometheus does: firing alerts carry endsAt = now + NOTIFY_AM_ENDS_AFTER_MS so Alertmanager
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
