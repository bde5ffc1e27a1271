/*
 * source.h — what every source (JMX exporter scrape, Kafka Connect REST, Prometheus API,
 * CloudWatch, RDS) hands its samples to: a sink. The sample store's store_append(store, labels,
 * t_ms, v, err) is the sink in the agent; tests and `lagwatch fetch` use collecting sinks.
 *
 * One fetch of one scope (a scrape target, a connector, a query) is delivered as begin, appends,
 * end: the store marks the series of the scope that were not appended again stale at end (and all
 * of them when ok is false), as Prometheus does after a scrape. Label sets passed to append are
 * borrowed for the call only.
 */
#ifndef LAGWATCH_SOURCE_H
#define LAGWATCH_SOURCE_H

#include <stdbool.h>
#include <stdint.h>

#include "lagwatch/error.h"
#include "lagwatch/labels.h"

struct source_sink {
    void *ud;
    /* Optional: a fetch of scope starts (t_ms: the sample time the fetch will use). */
    void (*begin)(void *ud, const char *scope, int64_t t_ms);
    /* One sample. Returns 0, or -1 with err set to stop the fetch (store full, ...). */
    int (*append)(void *ud, const struct lw_labels *ls, int64_t t_ms, double v, struct lw_err *err);
    /* Optional: the fetch of scope ended; ok false = the source failed (its series go stale). */
    void (*end)(void *ud, const char *scope, bool ok, int64_t t_ms);
};

/* Call sink->begin / sink->end when set. */
void source_sink_begin(const struct source_sink *sink, const char *scope, int64_t t_ms);
void source_sink_end(const struct source_sink *sink, const char *scope, bool ok, int64_t t_ms);

/*
 * Emit the two health series Prometheus adds per target, for one pipeline (or none: pipeline
 * NULL): up{source,pipeline,instance} (1 or 0) and scrape_duration_seconds{...}, plus base
 * (the pipeline's extra labels, may be NULL). Returns 0 or -1 (sink refused, err set).
 */
LW_MUST_CHECK int source_emit_health(const struct source_sink *sink, const char *source,
                                     const char *pipeline, const char *instance,
                                     const struct lw_labels *base, bool up, double duration_s,
                                     int64_t t_ms, struct lw_err *err);

/* Percent-encode s for a URL path segment or query value: RFC 3986 unreserved characters stay,
 * every other byte becomes %XX. Heap (caller frees); NULL when memory runs out. */
char *source_url_escape(const char *s);

/* url without its user:password@ part, for errors and logs (heap; NULL when out of memory). */
char *source_url_redact(const char *url);

#endif
