/*
 * alert.h — one alerting rule's alerts and Prometheus's state machine for them. Pure: each
 * evaluation hands in the rule's result vector and the time; the rule answers with its alerts.
 *
 * Semantics are Prometheus's AlertingRule.Eval: a new label set becomes pending with activeAt =
 * now; it fires once `for` has elapsed since activeAt; a pending alert missing from one
 * evaluation is dropped; a firing alert missing from the result resolves (resolvedAt = now)
 * unless keep_firing_for keeps it firing that long after it last appeared; resolved alerts are
 * retained for 15 minutes so receivers hear about the resolve. Labels are the sample's labels
 * without __name__, plus the rule's labels (templated), plus alertname.
 *
 * lagwatch additions: a `no_data` policy for evaluations where the rule's input has no data
 * (keep_state, ok, alerting), and state that can be saved and restored so `for` survives a
 * restart for every duration.
 */
#ifndef LAGWATCH_ALERT_H
#define LAGWATCH_ALERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lagwatch/error.h"
#include "lagwatch/labels.h"

#define ALERT_RESOLVED_RETENTION_MS (15 * 60 * 1000)

enum alert_state { ALERT_INACTIVE, ALERT_PENDING, ALERT_FIRING };
enum alert_no_data { ALERT_NO_DATA_OK, ALERT_NO_DATA_KEEP_STATE, ALERT_NO_DATA_ALERTING };

struct alert {
    struct lw_labels labels;
    struct lw_labels annotations;
    enum alert_state state;
    double value;
    int64_t active_at_ms, fired_at_ms, resolved_at_ms, keep_firing_since_ms; /* 0: unset */
    uint64_t fingerprint;
};

/* Expands a rule's label or annotation template for one alert; returns a malloc'd string or
 * NULL with err set (the rule keeps the raw text then, as Prometheus does on template errors). */
typedef char *(*alert_expand_fn)(void *ud, const char *tmpl, const struct lw_labels *labels,
                                 double value, int64_t now_ms, struct lw_err *err);

struct alert_rule_spec {
    const char *name;
    int64_t for_ms, keep_firing_for_ms;
    const struct lw_labels *labels;      /* templates, may be NULL */
    const struct lw_labels *annotations; /* templates, may be NULL */
    /* names the rule sets to "" (a label set cannot hold empty values): removed from the
     * sample's labels, as Prometheus's label builder removes a label set to "" */
    const char *const *drop_labels;
    size_t n_drop_labels;
    enum alert_no_data no_data;
    alert_expand_fn expand; /* NULL: no templating */
    void *expand_ud;
};

struct alert_sample {
    const struct lw_labels *labels;
    double value;
};

struct alert_rule;

struct alert_rule *alert_rule_new(const struct alert_rule_spec *spec);
void alert_rule_free(struct alert_rule *r);

/* One evaluation at now_ms with the result vector (n samples) and whether the input had no data
 * at all. Returns 0, or -1 with err (e.g. two samples with the same labels after templating, as
 * Prometheus refuses); on error the states are unchanged. */
LW_MUST_CHECK int alert_rule_eval(struct alert_rule *r, const struct alert_sample *v, size_t n,
                                  bool no_data, int64_t now_ms, struct lw_err *err);

/* The alerts the rule holds (pending, firing, and resolved ones still retained). */
size_t alert_rule_count(const struct alert_rule *r);
const struct alert *alert_rule_at(const struct alert_rule *r, size_t i);
const char *alert_rule_name(const struct alert_rule *r);

/* Number of alerts in a state. */
size_t alert_rule_count_state(const struct alert_rule *r, enum alert_state s);

/* ALERTS{alertstate,...} = 1 and ALERTS_FOR_STATE{...} = activeAt seconds for pending and
 * firing alerts, appended to ls/vals (at most max entries); returns how many were written. */
size_t alert_rule_series(const struct alert_rule *r, struct lw_labels *ls, double *vals,
                         size_t max);

/* Save the alerts as JSON (malloc'd) and restore them (replacing the current ones). */
char *alert_rule_save(const struct alert_rule *r);
LW_MUST_CHECK int alert_rule_restore(struct alert_rule *r, const char *json, size_t len,
                                     struct lw_err *err);

const char *alert_state_str(enum alert_state s);

#endif
