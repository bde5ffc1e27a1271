/*
 * rules.h — Prometheus rule files and their evaluation: a rule set is the groups of one or more
 * rule files (`groups[].name/interval/limit/rules[].alert|record/expr/for/keep_firing_for/
 * labels/annotations`, exactly the format of Prometheus 2.42, so every file lagwatch accepts is
 * one `promtool check rules` accepts). Loading refuses everything Prometheus refuses plus
 * expressions outside lagwatch's PromQL subset, with file:line:col.
 *
 * Evaluating a group at time t runs its rules in order against a sample store: recording rules
 * append their result to the store (so later rules see it), alerting rules feed the alert state
 * machine (alert.h) and append ALERTS / ALERTS_FOR_STATE. As Prometheus does, a series a rule
 * wrote at its previous evaluation and not at this one gets a stale marker, so a resolved alert's
 * ALERTS series disappears at once rather than after the 5-minute lookback.
 *
 * Pure like the rest of rules/: files arrive as buffers (the agent reads them, agent/rulefiles.c),
 * the evaluation time is an argument. The only clock read is a monotonic one for the per-rule
 * evaluation duration shown in /api/v1/rules.
 */
#ifndef LAGWATCH_RULES_H
#define LAGWATCH_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lagwatch/alert.h"
#include "lagwatch/error.h"
#include "lagwatch/labels.h"

struct store;
struct promql_expr;

struct rule_set;
struct rule_group;
struct rule;

enum rule_kind { RULE_ALERTING, RULE_RECORDING };

/* Prometheus's rule health: unknown before the first evaluation, ok, or err (last_error). */
enum rule_health { RULE_HEALTH_UNKNOWN, RULE_HEALTH_OK, RULE_HEALTH_ERR };

/* One rule file's text. */
struct rule_source {
    const char *filename; /* for messages and the group's file; not opened */
    const char *buf;
    size_t len;
};

/* The no_data policy for an alerting rule named alert (config's rule_options). */
typedef enum alert_no_data (*rule_no_data_fn)(void *ud, const char *alert);

/* Check one label or annotation template of an alerting rule at load time: 0, or -1 with err
 * (err->line/col relative to the template text, 1-based, 0 when unknown). */
typedef int (*rule_check_template_fn)(void *ud, const char *tmpl, struct lw_err *err);

/* Expand one label or annotation template of alerting rule `rule` (as alert_expand_fn, with the
 * rule's name for messages such as Prometheus's "<error expanding template: ... __alert_NAME
 * ...>"): a malloc'd string, or NULL with err (the raw text is kept then). */
typedef char *(*rule_expand_fn)(void *ud, const char *rule, const char *tmpl,
                                const struct lw_labels *labels, double value, int64_t now_ms,
                                struct lw_err *err);

struct rule_load_options {
    rule_no_data_fn no_data; /* NULL: every rule resolves on no data (Prometheus's behaviour) */
    void *no_data_ud;
    rule_check_template_fn check_template; /* NULL: templates are not checked */
    void *check_ud;
    alert_expand_fn expand; /* NULL: labels and annotations are used as written */
    void *expand_ud;
    rule_expand_fn expand_rule; /* preferred over expand when set */
    void *expand_rule_ud;
};

/*
 * Load the rule files srcs[0..n) into one set (groups in file order, then as written). o may be
 * NULL. Returns 0 and *out (free with rule_set_free), or -1 with err at the first fault
 * (file:line:col: unknown keys with did-you-mean, duplicate group names in a file, bad
 * durations, expressions that do not parse or are outside the subset, invalid record or label
 * names, `for`/`keep_firing_for`/`annotations` on a recording rule, templates that do not
 * parse, `query_offset` (not in Prometheus 2.42)). *out is untouched on error.
 */
LW_MUST_CHECK int rule_set_load(const struct rule_source *srcs, size_t n,
                                const struct rule_load_options *o, struct rule_set **out,
                                struct lw_err *err);

/* rule_set_load of one buffer. */
LW_MUST_CHECK int rule_set_load_buf(const char *buf, size_t len, const char *filename,
                                    const struct rule_load_options *o, struct rule_set **out,
                                    struct lw_err *err);

/* Free a set, its groups, rules and alert states; NULL is fine. */
void rule_set_free(struct rule_set *rs);

size_t rule_set_group_count(const struct rule_set *rs);
struct rule_group *rule_set_group(const struct rule_set *rs, size_t i);
/* The group named name in file (file NULL: the first group of that name), or NULL. */
struct rule_group *rule_set_find_group(const struct rule_set *rs, const char *file,
                                       const char *name);
size_t rule_set_rule_count(const struct rule_set *rs);

const char *rule_group_name(const struct rule_group *g);
const char *rule_group_file(const struct rule_group *g);
/* The group's interval, or default_ms when the file gives none. */
int64_t rule_group_interval_ms(const struct rule_group *g, int64_t default_ms);
/* The group's `limit` (0: none). */
uint64_t rule_group_limit(const struct rule_group *g);
size_t rule_group_rule_count(const struct rule_group *g);
struct rule *rule_group_rule(const struct rule_group *g, size_t i);
/* Time of the last evaluation (ms, 0 = never) and how long it took (ns). */
int64_t rule_group_last_eval_ms(const struct rule_group *g);
int64_t rule_group_last_duration_ns(const struct rule_group *g);

/*
 * Evaluate every rule of g at t_ms against st, in order. A rule that fails (query error, limit
 * exceeded, duplicate label sets) gets health err and its message and does not stop the others;
 * returns the number of rules that failed (0 all ok), or -1 with err when memory ran out. Samples
 * the store refuses as out of order or duplicates are skipped as Prometheus skips them.
 */
LW_MUST_CHECK int rule_group_eval(struct rule_group *g, struct store *st, int64_t t_ms,
                                  struct lw_err *err);

enum rule_kind rule_kind(const struct rule *r);
/* The alert name or the recorded metric name. */
const char *rule_name(const struct rule *r);
/* The expression as written in the file, and its canonical printing (malloc'd; NULL on OOM). */
const char *rule_expr_text(const struct rule *r);
char *rule_expr_canonical(const struct rule *r);
const struct promql_expr *rule_expr(const struct rule *r);
int64_t rule_for_ms(const struct rule *r);
int64_t rule_keep_firing_for_ms(const struct rule *r);
const struct lw_labels *rule_labels(const struct rule *r);
const struct lw_labels *rule_annotations(const struct rule *r);
/* Where the rule starts in its file (1-based). */
int rule_line(const struct rule *r);
enum rule_health rule_health(const struct rule *r);
const char *rule_health_str(enum rule_health h);
/* The last evaluation's error ("" when none). */
const char *rule_last_error(const struct rule *r);
int64_t rule_last_eval_ms(const struct rule *r);
int64_t rule_last_duration_ns(const struct rule *r);
/* The alert state of an alerting rule (NULL for a recording rule). */
const struct alert_rule *rule_alert(const struct rule *r);
enum alert_no_data rule_no_data(const struct rule *r);

/* Whether any selector of r's expression finds live (non-stale) data in its window at t_ms, as
 * the no_data policy asks: 1 yes (or the expression has no selector), 0 no, -1 out of memory.
 * `lagwatch check` uses it to tell an alert whose `for` could not be observed from one that
 * started pending inside the observed history. */
int rule_input_has_data(const struct rule *r, const struct store *st, int64_t t_ms);

/* How far back from the evaluation time r's expression reads: the longest range or subquery
 * window plus its offset, at least the 5-minute lookback of an instant selector. */
int64_t rule_input_reach_ms(const struct rule *r);

/*
 * Save the alert state of every alerting rule as one JSON document (malloc'd; NULL on OOM).
 * Rules are keyed by file, group, name, expression text and labels.
 */
char *rule_set_save(const struct rule_set *rs);

/*
 * Restore a document from rule_set_save: every rule of rs whose key is in it takes the saved
 * alerts; rules not in it keep theirs, saved rules no longer loaded are ignored. Returns 0, or
 * -1 with err when json is malformed: a bad document or version changes nothing, a bad entry
 * stops the restore there (rules restored from earlier entries keep that state).
 */
LW_MUST_CHECK int rule_set_restore(struct rule_set *rs, const char *json, size_t len,
                                   struct lw_err *err);

/*
 * After a reload: every rule of fresh with the same file, group, name, expression text and
 * labels as a rule of old takes that rule's alerts, health and the series it wrote last (so
 * stale markers still follow). Returns 0, or -1 when memory ran out (err set).
 */
LW_MUST_CHECK int rule_set_carry_over(struct rule_set *fresh, const struct rule_set *old,
                                      struct lw_err *err);

/* Every selector of the rule's expression, in order: fn gets the metric name (from `name{...}`
 * or `{__name__="name"}`; NULL when the selector names none or matches names by regexp) and the
 * selector's byte offset in rule_expr_text. */
typedef void (*rule_selector_fn)(void *ud, const char *metric, size_t off);
void rule_expr_selectors(const struct rule *r, rule_selector_fn fn, void *ud);

/* The file position (1-based line and column) of byte off of rule_expr_text: exact for
 * expressions on one line and for literal block scalars (|), approximate for folded ones. */
void rule_expr_pos(const struct rule *r, size_t off, int *line, int *col);
/* The group's file position (line of `- name:`). */
int rule_group_line(const struct rule_group *g);

/* Whether s is a valid metric name ([a-zA-Z_:][a-zA-Z0-9_:]*) or label name
 * ([a-zA-Z_][a-zA-Z0-9_]*). */
bool rule_valid_metric_name(const char *s);
bool rule_valid_label_name(const char *s);

#endif
