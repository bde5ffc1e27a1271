/*
 * notify_template.h — receiver templates: Slack `title` / `text` and PagerDuty `summary` /
 * `description` in the config are Go templates with the functions of rule annotations
 * (template.h, TMPL_PROMETHEUS: humanize*, toUpper, reReplaceAll, printf, ...) run over
 * Alertmanager's notification data, so templates written for Alertmanager's receivers read the
 * same fields:
 *
 *   .Receiver .Status ("firing" | "resolved") .ExternalURL
 *   .GroupLabels .CommonLabels .CommonAnnotations      (map[string]string)
 *   .Alerts: list of {.Status .Labels .Annotations .StartsAt .EndsAt .GeneratorURL .Fingerprint}
 *
 * with Alertmanager's argument-less methods: .Alerts.Firing and .Alerts.Resolved, and on every
 * label map (template.KV) .SortedPairs (of .Name/.Value, alertname first), .Names and .Values.
 * StartsAt and EndsAt are strings in Go's time.Time form ("2026-12-06 18:20:08.565 +0000 UTC",
 * EndsAt "0001-01-01 00:00:00 +0000 UTC" while firing; .StartsAt.Format is not available);
 * Fingerprint is 16 hex digits. Pure.
 */
#ifndef LAGWATCH_NOTIFY_TEMPLATE_H
#define LAGWATCH_NOTIFY_TEMPLATE_H

#include "lagwatch/dispatch.h"
#include "lagwatch/error.h"
#include "lagwatch/template.h"

#define NOTIFY_TEMPLATE_DATA_TYPE  "*template.Data"
#define NOTIFY_TEMPLATE_ALERT_TYPE "template.Alert"
#define NOTIFY_TEMPLATE_MAX_BYTES  (64 * 1024) /* a rendered title or text */

/* The template data of one notification (a new reference), or NULL when memory runs out. */
struct tmpl_value *notify_template_data(const struct dispatch_notification *n,
                                        const char *external_url);

/* Parse a receiver template (named e.g. "slack_configs[0].title" in messages) at config load.
 * 0 and *out, or -1 with err->line/col inside src. */
LW_MUST_CHECK int notify_template_parse(const char *name, const char *src, struct tmpl **out,
                                        struct lw_err *err);

/* Render t over data into a malloc'd string (*out). 0, or -1 with err (Go's execution error
 * text); *out is then NULL. */
LW_MUST_CHECK int notify_template_render(const struct tmpl *t, const struct tmpl_value *data,
                                         const char *external_url, char **out, struct lw_err *err);

#endif
