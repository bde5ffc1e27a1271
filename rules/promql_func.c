/*
 * promql_func.c — the PromQL functions lagwatch evaluates: their signatures (checked by the
 * parser with Prometheus's messages) and their implementations. Names of Prometheus functions
 * outside the subset are listed too, so that using one is reported as "unsupported: function:"
 * rather than as an unknown name.
 */
#include "promql_int.h"

#include <string.h>

#define S   PROMQL_SCALAR
#define V   PROMQL_VECTOR
#define M   PROMQL_MATRIX
#define STR PROMQL_STRING

static const struct pq_func funcs[] = {
    {"abs", {V}, 1, 0, V, false, NULL},
    {"absent", {V}, 1, 0, V, false, NULL},
    {"absent_over_time", {M}, 1, 0, V, false, NULL},
    {"avg_over_time", {M}, 1, 0, V, false, NULL},
    {"ceil", {V}, 1, 0, V, false, NULL},
    {"changes", {M}, 1, 0, V, false, NULL},
    {"clamp", {V, S, S}, 3, 0, V, false, NULL},
    {"clamp_max", {V, S}, 2, 0, V, false, NULL},
    {"clamp_min", {V, S}, 2, 0, V, false, NULL},
    {"count_over_time", {M}, 1, 0, V, false, NULL},
    {"delta", {M}, 1, 0, V, false, NULL},
    {"deriv", {M}, 1, 0, V, false, NULL},
    {"floor", {V}, 1, 0, V, false, NULL},
    {"idelta", {M}, 1, 0, V, false, NULL},
    {"increase", {M}, 1, 0, V, false, NULL},
    {"irate", {M}, 1, 0, V, false, NULL},
    {"label_join", {V, STR, STR, STR}, 3, -1, V, true, NULL},
    {"label_replace", {V, STR, STR, STR, STR}, 5, 0, V, true, NULL},
    {"last_over_time", {M}, 1, 0, V, true, NULL},
    {"max_over_time", {M}, 1, 0, V, false, NULL},
    {"min_over_time", {M}, 1, 0, V, false, NULL},
    {"predict_linear", {M, S}, 2, 0, V, false, NULL},
    {"quantile_over_time", {S, M}, 2, 0, V, false, NULL},
    {"rate", {M}, 1, 0, V, false, NULL},
    {"resets", {M}, 1, 0, V, false, NULL},
    {"round", {V, S}, 1, 1, V, false, NULL},
    {"scalar", {V}, 1, 0, S, false, NULL},
    {"sort", {V}, 1, 0, V, true, NULL},
    {"sort_desc", {V}, 1, 0, V, true, NULL},
    {"sum_over_time", {M}, 1, 0, V, false, NULL},
    {"time", {S}, 0, 0, S, false, NULL},
    {"timestamp", {V}, 1, 0, V, false, NULL},
    {"vector", {S}, 1, 0, V, false, NULL},
};

/* Every other function Prometheus 3 knows. */
static const char *const prometheus_only[] = {"acos",
                                              "acosh",
                                              "asin",
                                              "asinh",
                                              "atan",
                                              "atanh",
                                              "cos",
                                              "cosh",
                                              "count_values",
                                              "day_of_month",
                                              "day_of_week",
                                              "day_of_year",
                                              "days_in_month",
                                              "deg",
                                              "double_exponential_smoothing",
                                              "exp",
                                              "first_over_time",
                                              "histogram_avg",
                                              "histogram_count",
                                              "histogram_fraction",
                                              "histogram_quantile",
                                              "histogram_stddev",
                                              "histogram_stdvar",
                                              "histogram_sum",
                                              "holt_winters",
                                              "hour",
                                              "info",
                                              "ln",
                                              "log10",
                                              "log2",
                                              "mad_over_time",
                                              "minute",
                                              "month",
                                              "pi",
                                              "present_over_time",
                                              "rad",
                                              "sgn",
                                              "sin",
                                              "sinh",
                                              "sort_by_label",
                                              "sort_by_label_desc",
                                              "sqrt",
                                              "stddev_over_time",
                                              "stdvar_over_time",
                                              "tan",
                                              "tanh",
                                              "ts_of_first_over_time",
                                              "ts_of_last_over_time",
                                              "ts_of_max_over_time",
                                              "ts_of_min_over_time",
                                              "year",
                                              "max_of",
                                              "min_of",
                                              "limitk",
                                              "limit_ratio",
                                              "step",
                                              "range",
                                              "start",
                                              "end"};

const struct pq_func *pq_func_lookup(const char *name)
{
    for (size_t i = 0; i < sizeof funcs / sizeof funcs[0]; i++)
        if (strcmp(funcs[i].name, name) == 0)
            return &funcs[i];
    return NULL;
}

bool pq_func_is_prometheus(const char *name)
{
    for (size_t i = 0; i < sizeof prometheus_only / sizeof prometheus_only[0]; i++)
        if (strcmp(prometheus_only[i], name) == 0)
            return true;
    return false;
}
