/*
 * suppress.h — the three ways Alertmanager mutes an alert, as pure functions of labels and
 * time: inhibit rules (a firing source alert mutes matching targets with equal labels),
 * silences (matchers with a start, an end, a creator and a comment) and time intervals
 * (Alertmanager's `time_intervals`: times of day, weekdays, days of month, months, years; UTC).
 * The failover hold, lagwatch's fourth, lives with the failover episodes in the agent and
 * reaches the dispatcher through its `held` predicate.
 */
#ifndef LAGWATCH_SUPPRESS_H
#define LAGWATCH_SUPPRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lagwatch/error.h"
#include "lagwatch/labels.h"
#include "lagwatch/matcher.h"

/* ---- inhibit rules ---- */

struct inhibit_rule {
    struct lw_matcher *source, *target;
    size_t n_source, n_target;
    char **equal;
    size_t n_equal;
};

/* Build a rule from Alertmanager matcher strings (source_matchers, target_matchers) and the
 * `equal` label names. Errors name the matcher at fault. */
LW_MUST_CHECK int inhibit_rule_init(struct inhibit_rule *r, const char *const *source,
                                    size_t n_source, const char *const *target, size_t n_target,
                                    const char *const *equal, size_t n_equal, struct lw_err *err);
void inhibit_rule_cleanup(struct inhibit_rule *r);

/* Whether target is inhibited by any of the firing alerts (labels of alerts that are firing
 * now). As Alertmanager: a source that also matches the target side does not inhibit an alert
 * that matches both sides; equal labels compare absent as "". On true, *by (if not NULL) is the
 * index of the inhibiting alert. */
bool inhibit_mutes(const struct inhibit_rule *rules, size_t n_rules,
                   const struct lw_labels *const *firing, size_t n_firing,
                   const struct lw_labels *target, size_t *by);

/* ---- silences ---- */

struct silence {
    char *id; /* opaque, chosen by whoever creates it (the agent uses a random UUID) */
    struct lw_matcher *matchers;
    size_t n_matchers;
    int64_t starts_at_ms, ends_at_ms;
    char *created_by, *comment;
};

struct silences {
    struct silence *v;
    size_t n, cap;
};

void silences_init(struct silences *s);
void silences_cleanup(struct silences *s);

/* Add a silence; matchers in Alertmanager syntax (at least one, and not all matching the empty
 * string, as Alertmanager requires); ends_at must be after starts_at. */
LW_MUST_CHECK int silences_add(struct silences *s, const char *id, const char *const *matchers,
                               size_t n_matchers, int64_t starts_at_ms, int64_t ends_at_ms,
                               const char *created_by, const char *comment, struct lw_err *err);

/* Expire silence id at now (its end becomes now). Returns 0, or -1 when no such silence. */
LW_MUST_CHECK int silences_expire(struct silences *s, const char *id, int64_t now_ms,
                                  struct lw_err *err);

/* The active silence (starts <= now < ends) muting ls, or NULL. */
const struct silence *silences_mutes(const struct silences *s, const struct lw_labels *ls,
                                     int64_t now_ms);

/* Drop silences that ended more than retention_ms before now. */
void silences_gc(struct silences *s, int64_t now_ms, int64_t retention_ms);

/* JSON document (malloc'd) and back; load replaces the content, errors name the entry. */
char *silences_save(const struct silences *s);
LW_MUST_CHECK int silences_load(struct silences *s, const char *json, size_t len,
                                struct lw_err *err);

/* ---- time intervals ---- */

struct time_range {
    int begin, end; /* inclusive, in the unit of the field (minutes for times: end exclusive) */
};

struct time_interval_spec {
    struct time_range *times, *weekdays, *days_of_month, *months, *years;
    size_t n_times, n_weekdays, n_days_of_month, n_months, n_years;
};

struct time_interval {
    char *name;
    struct time_interval_spec *specs; /* the interval is active when any spec matches */
    size_t n_specs;
};

/* Parse one field of a spec from Alertmanager's syntax, appending to *v:
 *   times: start "HH:MM", end "HH:MM" (use time_interval_add_time);
 *   weekdays "monday" or "monday:friday"; days_of_month "1", "1:5", "-3:-1";
 *   months "1:3" or "january:march"; years "2024" or "2024:2026". */
LW_MUST_CHECK int time_interval_add_time(struct time_interval_spec *s, const char *start,
                                         const char *end, struct lw_err *err);
LW_MUST_CHECK int time_interval_add_weekdays(struct time_interval_spec *s, const char *range,
                                             struct lw_err *err);
LW_MUST_CHECK int time_interval_add_days_of_month(struct time_interval_spec *s, const char *range,
                                                  struct lw_err *err);
LW_MUST_CHECK int time_interval_add_months(struct time_interval_spec *s, const char *range,
                                           struct lw_err *err);
LW_MUST_CHECK int time_interval_add_years(struct time_interval_spec *s, const char *range,
                                          struct lw_err *err);
void time_interval_spec_cleanup(struct time_interval_spec *s);
void time_interval_cleanup(struct time_interval *ti);

/* Whether the spec (an empty field matches everything) contains the UTC instant t_ms. */
bool time_interval_spec_contains(const struct time_interval_spec *s, int64_t t_ms);
bool time_interval_contains(const struct time_interval *ti, int64_t t_ms);

#endif
