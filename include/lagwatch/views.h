/*
 * views.h — what lagwatch shows about itself, as pure functions of its state: Prometheus's
 * `/api/v1/alerts` and `/api/v1/rules` (the JSON shapes and spellings of Prometheus 2.42's
 * web/api/v1, so Grafana and scripts built for Prometheus read them unchanged), the status page
 * at `/` (plain server-rendered HTML, no external assets, everything escaped), and why an alert
 * is suppressed (failover hold, silence, inhibit rule, mute time interval) for the status page
 * and `lagwatch check`. The caller (the daemon's HTTP handlers, `check`) gathers the pieces into
 * a views_context; nothing here does I/O or keeps state.
 */
#ifndef LAGWATCH_VIEWS_H
#define LAGWATCH_VIEWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lagwatch/buf.h"
#include "lagwatch/labels.h"

struct config;
struct rule_set;
struct store;
struct silences;
struct failover;
struct notifier;
struct runtime_source_health;

#define VIEWS_MAX_SUPPRESSIONS 8
#define VIEWS_REASON_MAX       256

/* Everything a view may show; every pointer may be NULL (that part is then left out). */
struct views_context {
    const struct config *cfg;     /* pipelines, inhibit rules, routes, evaluation_interval */
    const struct rule_set *rules; /* groups, rules and their alerts */
    const struct store *store;    /* the lag figures of the status page */
    const struct runtime_source_health *const *sources; /* n_sources entries */
    size_t n_sources;
    const struct silences *silences;
    const struct failover *failover;
    const struct notifier *notifier; /* receivers' delivery health */
    int64_t now_ms;                  /* wall clock, Unix ms */
    const char *version;             /* shown on the status page; NULL: none */
};

enum views_suppression_kind {
    VIEWS_SUPPRESSED_FAILOVER, /* the pipeline's Aurora cluster is in a failover episode or hold */
    VIEWS_SUPPRESSED_SILENCE,
    VIEWS_SUPPRESSED_INHIBIT,
    VIEWS_SUPPRESSED_TIME_INTERVAL /* a route's mute_time_intervals, or outside its active ones */
};

struct views_suppression {
    enum views_suppression_kind kind;
    /* "failover:orders-aurora", "silence:<id>", "inhibit:<alertname of the source>",
     * "time_interval:<name>" */
    char reason[VIEWS_REASON_MAX];
    char detail[VIEWS_REASON_MAX]; /* human words: who silenced and why, until when, ... */
};

/* Why notifications for an alert with labels ls are held back at c->now_ms: up to max reasons
 * into out (in the order failover, silence, inhibit, time interval); returns how many. */
size_t views_suppressed_by(const struct views_context *c, const struct lw_labels *ls,
                           struct views_suppression *out, size_t max);

/* GET /api/v1/alerts: {"status":"success","data":{"alerts":[...]}} with every pending and
 * firing alert (labels, annotations, state, activeAt, keepFiringSince when set, value as Go's
 * FormatFloat 'e'). Returns 0, or -1 when out refused the bytes. */
int views_api_alerts(const struct views_context *c, struct lw_buf *out);

/* GET /api/v1/rules[?type=alert|record]: {"status":"success","data":{"groups":[...]}}. type may
 * be NULL or "". Returns 0; 1 when type is not supported (out then holds Prometheus's bad_data
 * error document, to be sent with HTTP 400); -1 when out refused the bytes. */
int views_api_rules(const struct views_context *c, const char *type, struct lw_buf *out);

/* GET /: the status page (text/html; charset=utf-8). Returns 0 or -1 (out full). */
int views_status_page(const struct views_context *c, struct lw_buf *out);

/* Append s as a JSON string the way Go's encoding/json writes it (quotes, \n \r \t, other
 * control characters and U+2028/2029 as \uXXXX, <, > and & escaped, invalid UTF-8 as U+FFFD). */
int views_json_string(struct lw_buf *out, const char *s);

/* Append v as Go's encoding/json writes a float64 (shortest round-trip digits; 'f' form between
 * 1e-6 and 1e21, else 'e' with a one-digit negative exponent: 1e-7, 1e+21). NaN and ±Inf, which
 * Go refuses, are written as null. */
int views_json_float(struct lw_buf *out, double v);

/* Append v as Go's strconv.FormatFloat(v, 'e', -1, 64): "1e+00", "3.5e+01", "NaN", "+Inf". */
int views_go_float_e(struct lw_buf *out, double v);

/* Append s with &, <, >, " and ' escaped for HTML text and attribute values. */
int views_html_escape(struct lw_buf *out, const char *s);
/* The same for s[0..n), which need not be NUL-terminated. */
int views_html_escape_n(struct lw_buf *out, const char *s, size_t n);

#endif
