/*
 * source_prometheus.h — the Prometheus HTTP API source, for sites whose Prometheus already
 * scrapes the JMX exporter: `GET <url>/api/v1/query?query=<q>` and the result becomes series.
 * Instant vectors become one sample per series (the result's own timestamp), range vectors one
 * sample per point; scalars and strings are refused (they have no labels to select). Values
 * arrive as strings ("NaN", "+Inf", "1.5"). An answer is used whole or not at all. Every series
 * gets the pipeline label and extra labels when given. up/scrape_duration_seconds carry
 * source="prometheus".
 */
#ifndef LAGWATCH_SOURCE_PROMETHEUS_H
#define LAGWATCH_SOURCE_PROMETHEUS_H

#include <stddef.h>
#include <stdint.h>

#include "lagwatch/error.h"
#include "lagwatch/labels.h"
#include "lagwatch/source.h"

/* "<base>/api/v1/query?query=<q escaped>" (heap; NULL when out of memory). */
char *source_prom_query_url(const char *base, const char *query);

/*
 * Parse an /api/v1/query (or query_range) answer and append its samples with pipeline (may be
 * NULL) and base labels (may be NULL). Returns the number of samples (>= 0), or -1 with err:
 * bad JSON (line:column), status "error" (errorType: error), or an unsupported resultType.
 */
LW_MUST_CHECK long source_prom_parse(const char *json, size_t len, const char *pipeline,
                                     const struct lw_labels *base, const struct source_sink *sink,
                                     struct lw_err *err);

struct source_prom_response {
    int status; /* 0 = transport error */
    const char *error;
    const char *body;
    size_t body_len;
    double duration_s;
};

/* One answer (pure): begin(url), samples, up, end. Prometheus answers errors with 400/422/503
 * and a JSON body: its error text is reported. Returns 0 or -1 (up=0) with err set. */
LW_MUST_CHECK int source_prom_process(const char *url, const char *pipeline,
                                      const struct lw_labels *base,
                                      const struct source_prom_response *r, int64_t now_ms,
                                      const struct source_sink *sink, struct lw_err *err);

#endif
