/*
 * seriesnot.h — the expanding series notation shared by PromQL test scripts (`load`, expected
 * results of `eval`) and promtool unit tests (`input_series: values:`):
 *
 *   1 2 3        one value each             _        one missing sample
 *   1+2x3        1 3 5 7 (N+1 values)       _x3      three missing samples
 *   5-1x2        5 4 3                      stale    a stale marker (StaleNaN)
 *   7x2          7 7 7                      Inf -Inf NaN, 1e3, -0.5
 *
 * As in Prometheus, `a+bxN` adds b step by step (so floating-point rounding matches), hexadecimal
 * is not accepted (0x3 is "0 three more times"), and native histograms (`{{...}}`) are refused
 * with a message starting "unsupported: native histogram:". Errors carry the 1-based column.
 */
#ifndef LAGWATCH_SERIESNOT_H
#define LAGWATCH_SERIESNOT_H

#include <stdbool.h>
#include <stddef.h>

#include "lagwatch/error.h"
#include "lagwatch/labels.h"

struct seriesnot_value {
    double v;     /* store_stale_nan() for `stale` */
    bool omitted; /* `_`: no sample at this step */
};

struct seriesnot_values {
    struct seriesnot_value *v;
    size_t n, cap;
};

void seriesnot_values_init(struct seriesnot_values *vals);
void seriesnot_values_cleanup(struct seriesnot_values *vals);

/* Expand the values notation s[0..len) (items separated by blanks), appending to vals. At most
 * LW_MAX_SERIESNOT_VALUES values in all. Returns 0, or -1 with err->col (1-based in s) and
 * err->msg; vals may then hold a prefix of the values. */
LW_MUST_CHECK int seriesnot_parse_values(const char *s, size_t len, struct seriesnot_values *vals,
                                         struct lw_err *err);

/* Parse a series description `metric{a="1", b='2'}` (metric name and braces each optional, but
 * not both; `{__name__="x"}` and quoted UTF-8 names `{"a.b"}` allowed) from the start of
 * s[0..len) into ls (initialised by the caller; labels are added). *used gets the bytes consumed.
 * Returns 0, or -1 with err->col. */
LW_MUST_CHECK int seriesnot_parse_labels(const char *s, size_t len, struct lw_labels *ls,
                                         size_t *used, struct lw_err *err);

/* A whole `metric{labels} values` line (a PromQL test script's load or expected line). Returns 0
 * or -1 with err->col relative to s. */
LW_MUST_CHECK int seriesnot_parse_line(const char *s, size_t len, struct lw_labels *ls,
                                       struct seriesnot_values *vals, struct lw_err *err);

/* Unquote a whole PromQL string literal s[0..len) ("..." or '...' with Go escapes, `...` raw)
 * into a malloc'd NUL-terminated *out (caller frees) of *out_len bytes. Returns 0 or -1 with
 * err->col. */
LW_MUST_CHECK int seriesnot_unquote(const char *s, size_t len, char **out, size_t *out_len,
                                    struct lw_err *err);

#endif
