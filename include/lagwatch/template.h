/*
 * template.h — Go's text/template language as Prometheus (alert annotations and labels) and
 * Alertmanager (receiver templates) run it, rendering byte for byte what they render.
 *
 * Two layers:
 *  - number formatting (template_fmt.c): Go's %v of a float64 (shortest round-trip digits,
 *    exponent from 1e6 and below 1e-4, "+Inf", "NaN"), Go's %.4g, and Prometheus's humanize*;
 *  - the language (template_lex.c, template_parse.c, template_exec.c, template_fmt_go.c for
 *    Go's fmt, template_builtin.c and template_func.c for the functions, template_value.c,
 *    template_alert.c for Prometheus's alert expansion; docs/templates.md for users):
 *    {{ }} actions with {{- -}} trimming, comments, pipelines, variables, if/else if/else,
 *    range (maps in sorted key order, break/continue), with, define/template/block, Go's
 *    literals, Go's builtin functions (eq..ge with Go's type rules, and/or short-circuit, printf
 *    with Go's fmt verbs, html, js, urlquery, index, len, slice) and the query-free functions of
 *    Prometheus's template/template.go. Functions that need PromQL query results (query, first,
 *    label, value, strvalue, sortByLabel) are refused at parse time with their position.
 *
 * Values are a small typed tree (struct tmpl_value) that mirrors the Go types that matter to the
 * language: int and float64 are distinct kinds (Go's eq refuses to compare them), strings,
 * bools, nil, maps (sorted keys, string-valued like Prometheus's map[string]string or generic),
 * structs (named fields: a missing field is an error) and lists.
 *
 * Everything is bounded (limits.h, "Templates"): source size, nesting, evaluation steps (range
 * iterations included), template call depth, output size, bytes built by functions, regexp
 * backtracking and, as a last fuse, execution time, so a hostile template ends with an error
 * instead of a hang or exhausted memory. No I/O; the clock is read only for that fuse, never to
 * decide what renders. Not thread-safe per value (reference counts are plain integers).
 */
#ifndef LAGWATCH_TEMPLATE_H
#define LAGWATCH_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lagwatch/buf.h"
#include "lagwatch/error.h"
#include "lagwatch/labels.h"

/* Append v as Go's fmt %v (strconv.FormatFloat(v, 'g', -1, 64) with %v's exponent threshold):
 * 1 -> "1", 0.1 -> "0.1", 1234567 -> "1.234567e+06", 1e-05 -> "1e-05", +Inf -> "+Inf". 0 / -1
 * (buffer refused). */
int template_fmt_float_v(double v, struct lw_buf *out);

/* The shortest decimal digits that read back as v (finite, nonzero): the digits without a dot
 * or trailing zeros ("15" for 1.5e-7) and the decimal exponent of the first one (-7). The base of
 * every Go-style float spelling (templates, the Prometheus API's JSON). */
void template_shortest_digits(double v, char *digits, size_t dlen, int *exp10);

/* Append finite nonzero v as shortest digits in scientific form, "-1.5e-07": the exponent with
 * at least two digits when pad2 (Go's strconv 'e'), else as few as needed (JSON numbers). */
int template_fmt_sci(double v, int pad2, struct lw_buf *out);

/* Append v as Go's fmt "%.<prec>g" (prec 1..17): C's %g with Go's spellings of NaN and ±Inf. */
int template_fmt_float_g(double v, int prec, struct lw_buf *out);

/* Prometheus's humanize: SI prefixes with 4 significant digits (1234567 -> "1.235M",
 * 0.001234 -> "1.234m"). 0 / -1. */
int template_humanize(double v, struct lw_buf *out);

/* humanize1024: binary prefixes ki Mi Gi ... (1048576 -> "1Mi"); |v| <= 1 printed as %.4g. */
int template_humanize1024(double v, struct lw_buf *out);

/* humanizeDuration of v seconds: "1d 2h 3m 4s", "1m 30s", "1.5s", "12.5ms", "0s". */
int template_humanize_duration(double v, struct lw_buf *out);

/* humanizePercentage: v * 100 as %.4g and "%" (0.1234 -> "12.34%"). */
int template_humanize_percentage(double v, struct lw_buf *out);

/* humanizeTimestamp of v Unix seconds, in Go's time.Time String form at millisecond precision
 * (as Prometheus's model.Time): "1970-01-01 00:00:01.5 +0000 UTC". NaN/Inf as %.4g. */
int template_humanize_timestamp(double v, struct lw_buf *out);

/* ---- values ------------------------------------------------------------------------------ */

/* The Go types a template sees. TMPL_INT is Go's int (number literals without '.', 'e', 'p';
 * len; index of a list), TMPL_NUM is float64 (.Value, humanize's inputs, float literals). */
enum tmpl_kind { TMPL_NIL, TMPL_BOOL, TMPL_INT, TMPL_NUM, TMPL_STR, TMPL_MAP, TMPL_LIST };

/* A reference-counted, immutable-once-shared value. Constructors return a new reference (or NULL
 * when memory runs out); tmpl_value_unref releases one (NULL is allowed). */
struct tmpl_value;

struct tmpl_value *tmpl_value_nil(void);
struct tmpl_value *tmpl_value_bool(bool b);
struct tmpl_value *tmpl_value_int(int64_t i);
struct tmpl_value *tmpl_value_num(double v);
/* A string of len bytes (copied; need not be NUL-terminated, may hold any bytes). */
struct tmpl_value *tmpl_value_strn(const char *s, size_t len);
struct tmpl_value *tmpl_value_str(const char *s);
/* A map with string keys. string_elems: every element is a string, as Go's map[string]string,
 * so that with Prometheus's missingkey=zero a missing key reads as "" (otherwise as Go's
 * "<no value>" / nil). Keys are kept sorted (byte order) for range and printing. */
struct tmpl_value *tmpl_value_map(bool string_elems);
/* A struct: named fields in declaration order (Go prints them in that order); reading a field
 * that does not exist is an error naming go_type (e.g. "struct { Labels map[string]string }"). */
struct tmpl_value *tmpl_value_struct(const char *go_type);
struct tmpl_value *tmpl_value_list(void);
/* A map[string]string of a label set. */
struct tmpl_value *tmpl_value_labels(const struct lw_labels *ls);

/* Name v's Go type (printed by %T and in messages), e.g. "template.KV" for Alertmanager's label
 * maps. 0 / -1. */
LW_MUST_CHECK int tmpl_value_set_type(struct tmpl_value *v, const char *go_type);
/* Give v an argument-less method: `.name` on v yields result (taking the caller's reference,
 * released on failure), ahead of a map key of the same name as Go looks methods up first; not
 * printed, not ranged over. Models Alertmanager's KV.SortedPairs, KV.Names, Alerts.Firing ...
 * result must not refer back to v (reference counts do not collect cycles). 0 / -1. */
LW_MUST_CHECK int tmpl_value_set_method(struct tmpl_value *v, const char *name,
                                        struct tmpl_value *result);

struct tmpl_value *tmpl_value_ref(struct tmpl_value *v);
void tmpl_value_unref(struct tmpl_value *v);

/* Set key (copied) of a map or field of a struct to v, taking the caller's reference of v (also
 * on failure, when v is released). Replaces an existing entry. 0 / -1 (memory, or not a map). */
LW_MUST_CHECK int tmpl_value_set(struct tmpl_value *map, const char *key, struct tmpl_value *v);
/* Append v to a list, taking the reference of v (released on failure). 0 / -1. */
LW_MUST_CHECK int tmpl_value_append(struct tmpl_value *list, struct tmpl_value *v);

enum tmpl_kind tmpl_value_kind(const struct tmpl_value *v);
/* Entry count of a map, struct or list; byte length of a string; 0 otherwise. */
size_t tmpl_value_len(const struct tmpl_value *v);
/* The value under key of a map/struct (borrowed), or NULL. */
const struct tmpl_value *tmpl_value_get(const struct tmpl_value *map, const char *key);
/* The i-th element of a list (borrowed), or NULL. */
const struct tmpl_value *tmpl_value_at(const struct tmpl_value *list, size_t i);
/* The bytes of a string (NUL-terminated) or NULL for another kind. */
const char *tmpl_value_strp(const struct tmpl_value *v);

/* ---- templates --------------------------------------------------------------------------- */

/* Which function set a template runs with. Both run with missingkey=zero, as Prometheus and
 * Alertmanager set it: a missing map key reads as the element's zero value ("" for string maps
 * such as labels, "<no value>" once printed for generic maps).
 * TMPL_PROMETHEUS: Go's builtins and Prometheus's query-free functions.
 * TMPL_ALERTMANAGER: Go's builtins and Alertmanager 0.25's (toUpper toLower title join match
 *   safeHtml reReplaceAll stringSlice). */
enum tmpl_dialect { TMPL_PROMETHEUS, TMPL_ALERTMANAGER };

struct tmpl;

/* Parse src[0..len) as template `name` (used in messages and by {{template}} lookups of the main
 * template). On error returns -1 with err->line/col (1-based) at the offending token and
 * err->msg the problem as Go words it ("unexpected EOF", "function \"foo\" not defined",
 * "undefined variable \"$x\"", ...); err->file is left alone. *out is written only on success. */
LW_MUST_CHECK int tmpl_parse(const char *name, const char *src, size_t len,
                             enum tmpl_dialect dialect, struct tmpl **out, struct lw_err *err);

/* Where a template runs: Prometheus's externalURL/pathPrefix functions read external_url. */
struct tmpl_env {
    const char *external_url; /* NULL = "" */
};

/* Execute t with dot as `.` and `$` (NULL = nil), appending the output to out. Output beyond
 * LW_MAX_TMPL_OUTPUT_BYTES (or out's own maximum) is an error. On error returns -1 with
 * err->line/col at the failing node and err->msg as Go's execution error reads
 * ("executing \"name\" at <.Foo>: can't evaluate field Foo in type ..."); out may then hold a
 * partial rendering (Go writes as it goes too). env may be NULL. */
LW_MUST_CHECK int tmpl_exec(const struct tmpl *t, const struct tmpl_value *dot,
                            const struct tmpl_env *env, struct lw_buf *out, struct lw_err *err);

/* Free a parsed template; NULL is allowed. */
void tmpl_free(struct tmpl *t);

/* ---- Prometheus alert templates ---------------------------------------------------------- */

/* Go type name Prometheus's alert data has (it is in some error messages). */
#define TMPL_ALERT_DATA_TYPE                                                                    \
    "struct { Labels map[string]string; ExternalLabels map[string]string; ExternalURL string; " \
    "Value float64 }"

/* The data of an alert template: {.Labels, .ExternalLabels, .ExternalURL, .Value}. NULL when
 * memory runs out. labels/external_labels may be NULL (empty). */
struct tmpl_value *tmpl_alert_data(const struct lw_labels *labels,
                                   const struct lw_labels *external_labels,
                                   const char *external_url, double value);

/* Expand an annotation or label template of alerting rule `name` as Prometheus does (the
 * template is named "__alert_NAME" in messages, as Prometheus names it): the text is
 * preceded by {{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL :=
 * .ExternalURL}}{{$value := .Value}}, run with missingkey=zero over tmpl_alert_data. Errors
 * report positions in `text` itself (the prelude is not counted). On error returns -1 and out
 * holds nothing new; Prometheus then shows "<error expanding template: ...>", which
 * tmpl_alert_error_text builds. */
LW_MUST_CHECK int tmpl_expand_alert(const char *name, const char *text,
                                    const struct lw_labels *labels,
                                    const struct lw_labels *external_labels,
                                    const char *external_url, double value, struct lw_buf *out,
                                    struct lw_err *err);

/* tmpl_expand_alert in two steps, so a rule parses its templates once and runs them at every
 * evaluation: tmpl_parse_alert parses as tmpl_expand_alert does (prelude, positions, the name
 * "__alert_NAME"; free with tmpl_free); tmpl_exec_alert runs it over tmpl_alert_data (on error
 * out holds nothing new). */
LW_MUST_CHECK int tmpl_parse_alert(const char *name, const char *text, struct tmpl **out,
                                   struct lw_err *err);
LW_MUST_CHECK int tmpl_exec_alert(const struct tmpl *t, const struct lw_labels *labels,
                                  const struct lw_labels *external_labels, const char *external_url,
                                  double value, struct lw_buf *out, struct lw_err *err);

/* Load-time check of an alert template: parses it as tmpl_expand_alert would (so undefined
 * functions, query functions, undefined variables and syntax errors are found at rule load) and
 * compiles regexps given as literals to match/reReplaceAll (stricter than Prometheus, which
 * would render an error text at every evaluation). 0 / -1 with err. */
LW_MUST_CHECK int tmpl_check_alert(const char *name, const char *text, struct lw_err *err);

/* Append Prometheus's stand-in for a failed expansion of alerting rule `name`'s template, from
 * the err tmpl_expand_alert gave: "<error expanding template: error executing template
 * __alert_NAME: template: __alert_NAME:LINE:COL: MSG>" (COL as Go counts it: 0-based and, on
 * line 1, after the prelude), or the "error parsing template" form. 0 / -1 (buffer). */
int tmpl_alert_error_text(const char *name, const struct lw_err *err, struct lw_buf *out);

#endif
