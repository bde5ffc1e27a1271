/*
 * rules_int.h — what rulefile.c (loading) and rulegroup.c (evaluation, state) share about rule
 * sets; nothing outside those two files sees it.
 */
#ifndef LAGWATCH_RULES_INT_H
#define LAGWATCH_RULES_INT_H

#include "lagwatch/rules.h"

struct rule {
    enum rule_kind kind;
    char *name; /* alert or record */
    char *expr_text;
    struct promql_expr *expr;
    int64_t for_ms, keep_firing_for_ms;
    struct lw_labels labels, annotations;
    char **drop_labels; /* label names set to "" in the file: removed from results */
    size_t n_drop_labels;
    int line, col;
    /* where expr's text sits in the file, for rule_expr_pos: the scalar's position, whether
     * it is a block scalar (| or >) or quoted, and a block's indentation */
    int expr_line, expr_col, expr_indent;
    bool expr_block, expr_quoted;
    enum alert_no_data no_data;
    rule_expand_fn expand_rule; /* the load option, called with the rule's name */
    void *expand_rule_ud;
    struct alert_rule *alert; /* RULE_ALERTING */
    enum rule_health health;
    char last_error[LW_ERR_MSG_MAX];
    int64_t last_eval_ms, last_duration_ns;
    /* The series this rule wrote at its last evaluation: they get a stale marker at the next
     * evaluation that does not write them again. */
    struct lw_labels *prev;
    size_t n_prev;
};

struct rule_group {
    char *name, *file;
    int64_t interval_ms; /* 0: the default */
    uint64_t limit;
    int line;
    struct rule *rules;
    size_t n;
    int64_t last_eval_ms, last_duration_ns;
};

struct rule_set {
    struct rule_group *groups;
    size_t n;
};

/* Free what a rule owns (not the rule itself). */
void rules_rule_cleanup(struct rule *r);

/* Free the series list a rule keeps for stale markers. */
void rules_prev_free(struct lw_labels *prev, size_t n);

#endif
