/*
 * matcher.h — label matchers (=, !=, =~, !~) shared by PromQL selectors, silences, routes and
 * inhibit rules. Regular expressions are compiled once with PCRE2, fully anchored as Prometheus
 * and Alertmanager anchor them, in UTF mode, with `.` matching newlines as Prometheus's
 * `(?s:...)` wrapping does. RE2 has no backreferences or lookaround, so patterns that use them
 * are refused: a regexp that works here must work in Prometheus too.
 */
#ifndef LAGWATCH_MATCHER_H
#define LAGWATCH_MATCHER_H

#include <stdbool.h>
#include <stddef.h>

#include "lagwatch/error.h"
#include "lagwatch/labels.h"

enum lw_match_op { LW_MATCH_EQ, LW_MATCH_NE, LW_MATCH_RE, LW_MATCH_NRE };

struct lw_matcher {
    enum lw_match_op op;
    char *name;
    char *value; /* the literal, or the regexp as written */
    void *re;    /* pcre2_code *, regexp ops only */
    void *md;    /* pcre2_match_data *, regexp ops only */
};

/* Build a matcher, copying name and value. A bad regexp fails with the PCRE2 message and the
 * column (1-based) inside the pattern in err->col. On failure *m is left cleaned up. */
LW_MUST_CHECK int lw_matcher_init(struct lw_matcher *m, enum lw_match_op op, const char *name,
                                  const char *value, struct lw_err *err);

/* Free what init allocated; safe on a zeroed matcher and twice. */
void lw_matcher_cleanup(struct lw_matcher *m);

/* Whether value satisfies the matcher. NULL stands for an absent label, which matches as "". */
bool lw_matcher_matches(const struct lw_matcher *m, const char *value);

/* Whether every matcher of ms[0..n) matches ls. */
bool lw_matchers_match(const struct lw_matcher *ms, size_t n, const struct lw_labels *ls);

/* "=", "!=", "=~" or "!~". */
const char *lw_match_op_str(enum lw_match_op op);

#endif
