/*
 * amatcher.h — Alertmanager's matcher syntax, as written in `matchers:` of routes and inhibit
 * rules, in silences and in `amtool`: `severity="page"`, `pipeline=~"orders|billing"`, unquoted
 * values (`team=data`), and brace lists `{a="1", b!="2"}`. The result is lagwatch's shared
 * lw_matcher, so silences, routes and PromQL selectors match labels the same way.
 */
#ifndef LAGWATCH_AMATCHER_H
#define LAGWATCH_AMATCHER_H

#include <stddef.h>

#include "lagwatch/error.h"
#include "lagwatch/matcher.h"

/* Parse one matcher from s[0..len). Errors carry the 1-based column within s. */
LW_MUST_CHECK int amatcher_parse(const char *s, size_t len, struct lw_matcher *out,
                                 struct lw_err *err);

/* Parse a comma-separated list, optionally in braces, into a malloc'd array (*out, *n_out).
 * Commas inside quoted values do not split. An empty list gives *n_out 0 and *out NULL. */
LW_MUST_CHECK int amatcher_parse_list(const char *s, size_t len, struct lw_matcher **out,
                                      size_t *n_out, struct lw_err *err);

/* Free an array from amatcher_parse_list (or any array of n matchers); NULL is fine. */
void amatcher_free_list(struct lw_matcher *ms, size_t n);

/* Append m as Alertmanager prints it: name, operator, Go-quoted value (`a=~"x|y"`). */
int amatcher_format(const struct lw_matcher *m, struct lw_buf *out);

/* Append {m1,m2} as Alertmanager prints a matcher list (used in route keys). */
int amatcher_format_list(const struct lw_matcher *ms, size_t n, struct lw_buf *out);

#endif
