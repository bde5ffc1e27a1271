/*
 * source_exporter.h — the JMX exporter source: one scrape target (URL) serves one or more
 * pipelines, and is scraped once per interval however many pipelines share it. A scrape asks for
 * OpenMetrics or 0.0.4 with Accept, follows the Content-Type of the answer, accepts gzip, and
 * then, for each sample:
 *   1. translates the exporter's rule-less Debezium naming
 *      (debezium_mysql_connector_metrics_millisecondsbehindsource{context,server}) into the
 *      canonical debezium-examples naming
 *      (debezium_metrics_MilliSecondsBehindSource{context,name,plugin}), so one rule pack fits
 *      either exporter config;
 *   2. drops it unless its (canonical) metric name matches the target's `keep` regexp (default
 *      SOURCE_EXPORTER_DEFAULT_KEEP), so a worker page of thousands of client metrics does not
 *      fill memory;
 *   3. gives it to its pipeline: Debezium series by their `name` label (the connector's
 *      topic.prefix, the pipeline's debezium.server; `server` for an attribute the translation
 *      does not know), Kafka Connect series by their `connector` label; each gets pipeline="..."
 * plus the pipeline's extra labels. Series of a connector no pipeline names are dropped; series
 * without connector (worker metrics) are kept once, without pipeline. Every kept series gets
 * instance="host:port". A scrape is all or nothing, as in Prometheus: samples reach the sink only
 * when the whole page parsed. up and scrape_duration_seconds are emitted per pipeline
 * (source="debezium").
 */
#ifndef LAGWATCH_SOURCE_EXPORTER_H
#define LAGWATCH_SOURCE_EXPORTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lagwatch/error.h"
#include "lagwatch/expfmt.h"
#include "lagwatch/labels.h"
#include "lagwatch/matcher.h"
#include "lagwatch/source.h"

#define SOURCE_EXPORTER_DEFAULT_KEEP "debezium_.*|kafka_connect_.*"

/*
 * The canonical form of one series. When in is the rule-less Debezium naming of a known
 * attribute, *out gets debezium_metrics_<Attribute> with server renamed to name, plugin added
 * (RowsScanned's key becomes table) and every other label kept, and *translated is true;
 * otherwise *out is a plain copy and *translated false. *out is uninitialised on entry and owned
 * by the caller after a 0 return; -1 only when memory runs out (*out left empty).
 */
LW_MUST_CHECK int source_debezium_canonical(const struct lw_labels *in, struct lw_labels *out,
                                            bool *translated);

/* The attribute's Debezium spelling ("MilliSecondsBehindSource") for a lower-cased or any-case
 * name ("millisecondsbehindsource"), or NULL when the attribute is not a known Debezium one. */
const char *source_debezium_attribute(const char *name, size_t len);

/* The i-th known Debezium attribute in Debezium's spelling, or NULL past the end (for lint
 * messages that suggest the closest name). */
const char *source_debezium_attribute_at(size_t i);

struct source_pipeline {
    char *name;              /* pipeline="..." */
    char *server;            /* debezium.server (topic.prefix); NULL: none */
    char *connector;         /* kafka_connect.connector; NULL: none */
    struct lw_labels labels; /* the pipeline's extra labels */
};

struct source_exporter_target {
    char *url;
    char *display_url;                 /* url without credentials, for errors and logs */
    char *instance;                    /* host:port of url */
    struct source_pipeline *pipelines; /* borrowed copies, see source_exporter_add */
    size_t n_pipelines;
    struct lw_matcher keep;
    bool prefer_openmetrics;
    long timeout_ms;
    struct expfmt_limits limits;
    /* last scrape, for `check` and the status page */
    bool last_ok;
    char last_error[LW_ERR_MSG_MAX];
    size_t last_samples; /* kept samples of the last good scrape */
};

/* The set of distinct targets: pipelines that name the same URL share one target. */
struct source_exporter_set {
    struct source_exporter_target *targets;
    size_t n, cap;
};

void source_exporter_set_init(struct source_exporter_set *s);
void source_exporter_set_cleanup(struct source_exporter_set *s);

/*
 * Attach pipeline p (copied) to the target for url, creating the target (with keep_regex, NULL =
 * the default, and prefer_openmetrics) the first time the URL is seen. Returns 0, or -1 with err
 * (bad keep regexp, out of memory). A later pipeline's keep/prefer settings for a known URL are
 * ignored: the first one wins (config validation should warn).
 */
LW_MUST_CHECK int source_exporter_add(struct source_exporter_set *s, const char *url,
                                      const struct source_pipeline *p, const char *keep_regex,
                                      bool prefer_openmetrics, struct lw_err *err);

/* What came back from one scrape (the HTTP layer's response, reduced to what matters). */
struct source_exporter_response {
    int status;               /* HTTP status; 0 = transport error */
    const char *error;        /* transport error text when status is 0 */
    const char *content_type; /* may be NULL */
    const char *body;         /* already inflated */
    size_t body_len;
    double duration_s;
};

/*
 * Turn one response into samples for the sink (pure: no I/O). begin/end are called with the
 * target URL as scope. On success every kept sample is appended (timestamp: the exporter's, else
 * now_ms), then up=1 per pipeline, end(ok) and 0 is returned. On a transport error, a non-2xx
 * status or a parse error (err names line and column), nothing of the page is appended, up=0
 * per pipeline, end(!ok), and -1 is returned with err set. target->last_* are updated.
 */
LW_MUST_CHECK int source_exporter_process(struct source_exporter_target *t,
                                          const struct source_exporter_response *r, int64_t now_ms,
                                          const struct source_sink *sink, struct lw_err *err);

#endif
