/*
 * notify_payload.h — the bodies lagwatch sends to receivers, built from one dispatched
 * notification: Alertmanager's webhook payload version 4 (field names and order as Alertmanager
 * writes them, so receivers built for Alertmanager work unchanged), PagerDuty Events API v2,
 * Slack incoming-webhook messages (Block Kit inside a coloured attachment), and the alert list
 * Prometheus pushes to Alertmanager's POST /api/v2/alerts. Pure: strings in, JSON text out.
 * Payloads may hold secrets (the PagerDuty routing key): never log them.
 */
#ifndef LAGWATCH_NOTIFY_PAYLOAD_H
#define LAGWATCH_NOTIFY_PAYLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lagwatch/dispatch.h"

#define NOTIFY_PD_SUMMARY_MAX 1024 /* PagerDuty refuses longer summaries */
#define NOTIFY_DEDUP_KEY_HEX  65

/* Alertmanager webhook v4. max_alerts 0 means all; the rest are counted in truncatedAlerts.
 * Returns malloc'd JSON or NULL when out of memory. */
char *notify_webhook_v4(const struct dispatch_notification *n, const char *external_url,
                        size_t max_alerts);

/* PagerDuty's dedup_key for a group: SHA-256 hex of the group key, as Alertmanager computes it,
 * so it is the same across retries, restarts and replicas. out has NOTIFY_DEDUP_KEY_HEX bytes. */
int notify_dedup_key(const char *group_key, char *out);

struct pagerduty_opts {
    const char *routing_key; /* secret */
    const char *client;      /* default "lagwatch" */
    const char *client_url;  /* default external_url */
    const char *external_url;
    const char *summary;     /* rendered `summary` template; NULL or "": the subject line */
    const char *description; /* rendered `description`; NULL: none (custom_details.description) */
};

/* PagerDuty Events API v2 event: trigger while anything fires, resolve when all resolved. */
char *notify_pagerduty_v2(const struct dispatch_notification *n, const struct pagerduty_opts *o);

struct slack_opts {
    const char *channel;  /* NULL: the webhook's default */
    const char *username; /* NULL: the webhook's default */
    const char *external_url;
    const char *title; /* rendered `title` template; NULL or "": the subject line */
    const char *text;  /* rendered `text`; NULL: one section per alert (summary, description) */
};

char *notify_slack(const struct dispatch_notification *n, const struct slack_opts *o);

/* Alertmanager API v2 push body for alerts, as Prometheus sends it: endsAt of firing alerts set
 * to now + resend_ms so Alertmanager resolves them if lagwatch goes silent. */
char *notify_alertmanager_push(const struct dispatch_alert *const *alerts, size_t n, int64_t now_ms,
                               int64_t resend_ms);

/* The labels (annotations == false) or annotations every alert of n has with the same value,
 * Alertmanager's commonLabels / commonAnnotations, into out (initialised here; the caller
 * cleans it up). Out of memory leaves out partial. */
void notify_common(const struct dispatch_notification *n, bool annotations, struct lw_labels *out);

/* The one-line subject Alertmanager's default templates use: "[FIRING:2] v1 v2 (extra)". */
char *notify_subject(const struct dispatch_notification *n);

#endif
