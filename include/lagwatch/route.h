/*
 * route.h — Alertmanager's routing tree: which receivers an alert goes to and which aggregation
 * group it joins there. Semantics are Alertmanager's: a route matches when all its matchers
 * match; the deepest matching routes win; `continue` lets later siblings match too; a route
 * whose children all fail to match takes the alert itself. Children inherit receiver, group_by
 * and the three timers from their parent unless they set them. Route keys and group keys are
 * printed exactly as Alertmanager prints them, so they are pure functions of config and labels.
 */
#ifndef LAGWATCH_ROUTE_H
#define LAGWATCH_ROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lagwatch/error.h"
#include "lagwatch/labels.h"
#include "lagwatch/matcher.h"

#define ROUTE_DEFAULT_GROUP_WAIT_MS      (30 * 1000)
#define ROUTE_DEFAULT_GROUP_INTERVAL_MS  (5 * 60 * 1000)
#define ROUTE_DEFAULT_REPEAT_INTERVAL_MS (4 * 60 * 60 * 1000)

struct route {
    char *receiver;  /* effective (inherited when unset) */
    char **group_by; /* effective label names, sorted */
    size_t n_group_by;
    bool group_by_all; /* group_by: ['...'] */
    int64_t group_wait_ms, group_interval_ms, repeat_interval_ms;
    struct lw_matcher *matchers; /* sorted as Alertmanager sorts them */
    size_t n_matchers;
    bool cont;
    char **mute_time_intervals, **active_time_intervals;
    size_t n_mute, n_active;
    struct route **routes;
    size_t n_routes;
    struct route *parent;
    char *key; /* Alertmanager's Route.Key(): parent key "/" matchers */
    char *id;  /* Alertmanager's Route.ID(): also the index among siblings */
};

/* What a route sets itself; NULL/-1/unset fields inherit. Used by the config decoder and tests. */
struct route_spec {
    const char *receiver;        /* NULL: inherit */
    const char *const *group_by; /* NULL with group_by_set false: inherit */
    size_t n_group_by;
    bool group_by_set;
    int64_t group_wait_ms;       /* -1: inherit */
    int64_t group_interval_ms;   /* -1: inherit */
    int64_t repeat_interval_ms;  /* -1: inherit */
    const char *const *matchers; /* Alertmanager matcher strings */
    size_t n_matchers;
    const char *const *match_eq; /* deprecated `match`: name, value pairs (2*n entries) */
    size_t n_match_eq;
    const char *const *match_re; /* deprecated `match_re`: name, regexp pairs */
    size_t n_match_re;
    bool cont;
    const char *const *mute_time_intervals;
    size_t n_mute;
    const char *const *active_time_intervals;
    size_t n_active;
};

/* Build a route from spec under parent (NULL for the root, which must name a receiver and may
 * have neither matchers nor continue). The child is appended to parent->routes. Errors name the
 * matcher at fault (err->col within it). */
LW_MUST_CHECK int route_add(struct route *parent, const struct route_spec *spec, struct route **out,
                            struct lw_err *err);

/* Free a tree (root and all children); NULL is fine. */
void route_free(struct route *root);

/* The routes an alert with labels ls is delivered through, in tree order, at most max of them
 * written to out. Returns how many matched (may exceed max; the root always yields >= 1). */
size_t route_match(const struct route *root, const struct lw_labels *ls, const struct route **out,
                   size_t max);

/* The group labels of an alert on route r (its group_by subset, or all labels for '...'). */
LW_MUST_CHECK int route_group_labels(const struct route *r, const struct lw_labels *alert,
                                     struct lw_labels *out);

/* Alertmanager's group key "<route key>:<group labels>", malloc'd; NULL when out of memory. */
char *route_group_key(const struct route *r, const struct lw_labels *group_labels);

#endif
