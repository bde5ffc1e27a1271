/*
 * expfmt.h — the exposition-format parser: Prometheus text format 0.0.4 and OpenMetrics 1.0 text,
 * one streaming parser with two modes. Bytes are fed as they arrive (from a curl write callback
 * or a file) and every sample is handed to a callback with its label set, value and timestamp.
 * The parser does no I/O and keeps no samples: memory is bounded by the limits below, never by
 * the size of the page.
 *
 * 0.0.4 mode accepts what real exporters print and what Prometheus's own scraper accepts:
 * the JMX exporter's trailing comma in label sets, Java floats (`1.2345678E7`), NaN/±Inf, CRLF
 * line ends, blank lines, free comments, runs of blanks between tokens, no final newline;
 * timestamps are integer milliseconds. OpenMetrics mode is strict: it accepts exactly what the
 * OpenMetrics 1.0 test corpus accepts (metric families with HELP/TYPE/UNIT, `# EOF`, exemplars,
 * histogram/summary/stateset/info rules, timestamps in seconds).
 */
#ifndef LAGWATCH_EXPFMT_H
#define LAGWATCH_EXPFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lagwatch/error.h"
#include "lagwatch/labels.h"

enum expfmt_format {
    EXPFMT_TEXT_004 = 0,  /* text/plain; version=0.0.4 */
    EXPFMT_OPENMETRICS_1, /* application/openmetrics-text; version=1.0.0 */
};

enum expfmt_type {
    EXPFMT_TYPE_UNKNOWN = 0, /* 0.0.4 "untyped", OpenMetrics "unknown" */
    EXPFMT_TYPE_COUNTER,
    EXPFMT_TYPE_GAUGE,
    EXPFMT_TYPE_HISTOGRAM,
    EXPFMT_TYPE_GAUGEHISTOGRAM,
    EXPFMT_TYPE_SUMMARY,
    EXPFMT_TYPE_INFO,
    EXPFMT_TYPE_STATESET,
};

/* One parsed sample. Everything it points to is borrowed: valid only until the callback returns
 * (the parser reuses the same memory for the next sample). Copy what you keep (lw_labels_copy). */
struct expfmt_sample {
    /* Sorted by name, __name__ included, empty values left out (Prometheus: empty == absent).
     * A read-only view: never pass it to lw_labels_set/del/clear/cleanup. */
    const struct lw_labels *labels;
    const char *name;      /* the sample's metric name (same string as the __name__ value) */
    const char *family;    /* its metric family (from TYPE; the sample name when untyped) */
    enum expfmt_type type; /* the family's type */
    double value;
    bool has_timestamp;
    int64_t t_ms;      /* milliseconds since the epoch (OpenMetrics seconds converted, rounded) */
    bool has_exemplar; /* OpenMetrics exemplar present (validated, not otherwise reported) */
};

/* Returns 0 to continue, or -1 to stop the parse (then set err->msg: the parser adds the line). */
typedef int (*expfmt_sample_fn)(void *ud, const struct expfmt_sample *s, struct lw_err *err);

/* Caps on one scrape; exceeding one fails the parse with a clear error. Defaults are the LW_MAX_*
 * constants of limits.h. */
struct expfmt_limits {
    size_t max_bytes;             /* whole page (after decompression) */
    size_t max_samples;           /* samples per page */
    size_t max_labels;            /* labels per sample, __name__ included */
    size_t max_label_name_bytes;  /* one label name (metric names too) */
    size_t max_label_value_bytes; /* one label value after unescaping */
    size_t max_line_bytes;        /* one line, its end excluded */
};

/* Fill l with the defaults. */
void expfmt_limits_default(struct expfmt_limits *l);

struct expfmt_parser;

/*
 * A parser for fmt calling on_sample(ud, ...) for each sample. limits NULL = defaults. Returns
 * NULL only when memory runs out. Free with expfmt_parser_free.
 */
struct expfmt_parser *expfmt_parser_new(enum expfmt_format fmt, const struct expfmt_limits *limits,
                                        expfmt_sample_fn on_sample, void *ud);

/*
 * Feed the next len bytes of the page (any split, even mid-token). Returns 0, or -1 with err set
 * (line and column 1-based, the message saying what was expected); after an error every further
 * call fails again with the same error.
 */
LW_MUST_CHECK int expfmt_parser_feed(struct expfmt_parser *p, const char *data, size_t len,
                                     struct lw_err *err);

/* The page is complete: parse a last line without newline, run end-of-page checks (OpenMetrics:
 * `# EOF` present, last family valid). Returns 0 or -1 with err set. */
LW_MUST_CHECK int expfmt_parser_finish(struct expfmt_parser *p, struct lw_err *err);

/* Samples delivered so far. */
size_t expfmt_parser_samples(const struct expfmt_parser *p);

/* Safe on NULL. */
void expfmt_parser_free(struct expfmt_parser *p);

/* One-shot parse of a whole buffer: new + feed + finish + free. Returns 0 or -1 with err set. */
LW_MUST_CHECK int expfmt_parse_buf(enum expfmt_format fmt, const char *data, size_t len,
                                   const struct expfmt_limits *limits, expfmt_sample_fn on_sample,
                                   void *ud, struct lw_err *err);

/* The format a Content-Type header announces: OpenMetrics for application/openmetrics-text,
 * 0.0.4 for anything else (text/plain, missing, unknown), as Prometheus falls back. */
enum expfmt_format expfmt_format_from_content_type(const char *content_type);

/* The Accept header a scraper sends: OpenMetrics first when prefer_openmetrics, else 0.0.4 only. */
const char *expfmt_accept_header(bool prefer_openmetrics);

/* "counter", "gauge", ... ("untyped" for UNKNOWN in 0.0.4 naming when text004 is true). */
const char *expfmt_type_name(enum expfmt_type t, bool text004);

/*
 * Parse a number as exposition formats write sample values: decimal with optional fraction and
 * exponent (Java's `1.2345678E7` included), leading zeros, NaN, +Inf/-Inf/Inf (case-insensitive,
 * Infinity too). No hex, no underscores, no blanks. Returns 0 and *out, or -1.
 */
LW_MUST_CHECK int expfmt_parse_value(const char *s, size_t len, double *out);

/*
 * Format v as the text format writes values: the shortest decimal that reads back as the same
 * double (Go's strconv 'g' -1, as Prometheus prints), "NaN", "+Inf", "-Inf". out needs at least
 * 32 bytes. Returns out.
 */
char *expfmt_format_value(double v, char *out, size_t outlen);

#endif
