/*
 * source_kafka_connect.h — the Kafka Connect REST source: `GET <url>/connectors/<name>/status`
 * per pipeline, parsed with jansson into a status (connector state, task states, the first lines
 * of a failure trace) and emitted as
 *     kafka_connect_connector_state{connector,state} 1
 *     kafka_connect_task_state{connector,task,state} 1
 *     kafka_connect_connector_trace_info{connector,trace} 1   (FAILED connector with a trace)
 *     kafka_connect_task_trace_info{connector,task,trace} 1   (FAILED task with a trace)
 * each with pipeline="..." and the pipeline's labels, plus up/scrape_duration_seconds
 * (source="kafka_connect"). Only the current state has a series, so a state change makes the
 * old state's series go stale. A 404 (unknown connector) fails the source with a message saying
 * so. The trace keeps LW_MAX_TRACE_LINES lines / LW_MAX_TRACE_BYTES bytes, enough for a page.
 */
#ifndef LAGWATCH_SOURCE_KAFKA_CONNECT_H
#define LAGWATCH_SOURCE_KAFKA_CONNECT_H

#include <stddef.h>
#include <stdint.h>

#include "lagwatch/error.h"
#include "lagwatch/labels.h"
#include "lagwatch/source.h"

struct source_kc_task {
    long id;
    char *state;     /* RUNNING, FAILED, PAUSED, UNASSIGNED, RESTARTING, STOPPED */
    char *worker_id; /* may be NULL */
    char *trace;     /* first lines only; NULL when none */
};

struct source_kc_status {
    char *name;
    char *type;  /* "source" / "sink"; may be NULL */
    char *state; /* the connector's */
    char *worker_id;
    char *trace; /* the connector's, first lines; NULL when none */
    struct source_kc_task *tasks;
    size_t n_tasks;
};

/*
 * Parse a /connectors/<name>/status body. Returns 0 with *out filled (caller cleans up), or -1
 * with err (line/column of bad JSON, or which field is missing or of the wrong type).
 */
LW_MUST_CHECK int source_kc_parse_status(const char *json, size_t len, struct source_kc_status *out,
                                         struct lw_err *err);

void source_kc_status_cleanup(struct source_kc_status *s);

/* The first LW_MAX_TRACE_LINES lines of trace, at most LW_MAX_TRACE_BYTES bytes, tabs and
 * trailing blanks trimmed (heap; NULL when trace is NULL/empty or memory runs out). */
char *source_kc_trace_head(const char *trace);

/* "<base>/connectors/<connector, percent-encoded>/status" (heap, NULL when out of memory). A
 * trailing '/' on base is ignored. */
char *source_kc_status_url(const char *base, const char *connector);

/* Append the state series of s for pipeline (with base labels, may be NULL) at t_ms. */
LW_MUST_CHECK int source_kc_emit(const struct source_kc_status *s, const char *pipeline,
                                 const struct lw_labels *base, int64_t t_ms,
                                 const struct source_sink *sink, struct lw_err *err);

/* One answer of the REST API, reduced. */
struct source_kc_response {
    int status; /* 0 = transport error */
    const char *error;
    const char *body;
    size_t body_len;
    double duration_s;
};

/*
 * Turn one answer into series for pipeline's connector (pure): begin(scope), the state series,
 * up, end. 404 fails with "connector <name> not found on <url> (404)" and the API's message;
 * other non-2xx statuses and bad JSON fail with their reason. On failure up=0, end(!ok), -1.
 * The scope is the status URL. When out is not NULL it receives the parsed status on success.
 */
LW_MUST_CHECK int source_kc_process(const char *url, const char *connector, const char *pipeline,
                                    const struct lw_labels *base,
                                    const struct source_kc_response *r, int64_t now_ms,
                                    const struct source_sink *sink, struct source_kc_status *out,
                                    struct lw_err *err);

#endif
