/*
 * promql.h — the PromQL subset lagwatch evaluates (DESIGN.md, "Rules"): parse an expression once,
 * evaluate it at an instant or over a range against the sample store, print it canonically.
 * Semantics are Prometheus 3's: left-open range and lookback windows, 5-minute lookback, stale
 * markers end a series, delayed removal of __name__, vector matching with its errors.
 *
 * Anything outside the subset is a parse error whose message starts with "unsupported: <kind>:"
 * (e.g. "unsupported: function: histogram_quantile"), so a rule is refused at load time and never
 * evaluated wrongly. Evaluation does no I/O: the store and the clock are passed in.
 */
#ifndef LAGWATCH_PROMQL_H
#define LAGWATCH_PROMQL_H

#include <stddef.h>
#include <stdint.h>

#include "lagwatch/buf.h"
#include "lagwatch/error.h"
#include "lagwatch/labels.h"

struct promql_expr;
struct store;
struct store_sample; /* lagwatch/store.h: { int64_t t_ms; double v; } */

/* Parse src[0..len) into a new expression tree (*out, freed with promql_expr_free). On error
 * returns -1, leaves *out alone and fills err (msg, 1-based line and column of the offending
 * token; a message starting "unsupported: <kind>: " for valid PromQL outside the subset). */
LW_MUST_CHECK int promql_parse(const char *src, size_t len, struct promql_expr **out,
                               struct lw_err *err);

/* Free a tree from promql_parse; NULL is allowed. */
void promql_expr_free(struct promql_expr *e);

enum promql_type { PROMQL_SCALAR, PROMQL_VECTOR, PROMQL_MATRIX, PROMQL_STRING };

/* The static type of the expression's value. */
enum promql_type promql_expr_type(const struct promql_expr *e);

struct promql_sample {
    struct lw_labels labels;
    int64_t t_ms;
    double v;
};

struct promql_series {
    struct lw_labels labels;
    struct store_sample *samples; /* n samples in time order, owned by the series */
    size_t n;
};

/* A result. type says which member is set: scalar (and t of evaluation), string (owned), vec
 * (n_vec samples, instant query of a vector), mat (n_mat series: a range query, or an instant
 * query of a range vector). */
struct promql_value {
    enum promql_type type;
    double scalar;
    char *string;
    struct promql_sample *vec;
    size_t n_vec;
    struct promql_series *mat;
    size_t n_mat;
};

struct promql_eval_opts {
    int64_t lookback_ms; /* 0 = 5m */
};

/* Evaluate e at t_ms (Unix milliseconds) against st. o may be NULL (defaults). On success *out
 * owns the result (promql_value_cleanup). On error returns -1 with err->msg set as Prometheus
 * words it (e.g. "vector cannot contain metrics with the same labelset") and *out untouched. */
LW_MUST_CHECK int promql_eval_instant(const struct promql_expr *e, const struct store *st,
                                      int64_t t_ms, const struct promql_eval_opts *o,
                                      struct promql_value *out, struct lw_err *err);

/* Evaluate e at start_ms, start_ms + step_ms, ... <= end_ms (step_ms > 0) and return a matrix:
 * one series per label set, samples at the steps where it had a value, series sorted by labels.
 * A scalar expression gives one series with no labels. A string expression is an error. */
LW_MUST_CHECK int promql_eval_range(const struct promql_expr *e, const struct store *st,
                                    int64_t start_ms, int64_t end_ms, int64_t step_ms,
                                    const struct promql_eval_opts *o, struct promql_value *out,
                                    struct lw_err *err);

/* Free what a result owns and zero it; safe on a zeroed value and twice. */
void promql_value_cleanup(struct promql_value *v);

/* Append the canonical text of e (Prometheus's own printing: `sum by (job) (rate(x[5m]))`) to
 * out. Returns 0, or -1 when the buffer refused the bytes. */
int promql_format_expr(const struct promql_expr *e, struct lw_buf *out);

#endif
