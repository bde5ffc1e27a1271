/*
 * source_fetch.h — the network edge of the exporter, Kafka Connect and Prometheus API sources:
 * build each request (Accept negotiation, gzip, timeouts, body cap), send it through the shared
 * HTTP client, and hand the answer to the pure processing of source_exporter.h,
 * source_kafka_connect.h and source_prometheus.h. The _submit forms are for the event loop (the
 * answer is processed from http_client_poll(); failures are logged, and reported through up=0
 * and end(!ok) on the sink); the _fetch forms wait, for the CLI and tests.
 *
 * sink (and the target) must stay valid until the request's answer was processed.
 */
#ifndef LAGWATCH_SOURCE_FETCH_H
#define LAGWATCH_SOURCE_FETCH_H

#include <stdint.h>

#include "lagwatch/error.h"
#include "lagwatch/http.h"
#include "lagwatch/source.h"
#include "lagwatch/source_exporter.h"
#include "lagwatch/source_kafka_connect.h"
#include "lagwatch/source_prometheus.h"

/* Scrape t once for all its pipelines. now_ms: the sample time (the scrape's start). */
LW_MUST_CHECK int source_exporter_submit(struct http_client *c, struct source_exporter_target *t,
                                         const struct source_sink *sink, int64_t now_ms,
                                         struct lw_err *err);
LW_MUST_CHECK int source_exporter_fetch(struct http_client *c, struct source_exporter_target *t,
                                        const struct source_sink *sink, int64_t now_ms,
                                        struct lw_err *err);

/* GET <base_url>/connectors/<connector>/status for pipeline. out (may be NULL) gets the status. */
LW_MUST_CHECK int source_kc_fetch(struct http_client *c, const char *base_url,
                                  const char *connector, const char *pipeline,
                                  const struct lw_labels *base, const struct source_sink *sink,
                                  int64_t now_ms, struct source_kc_status *out, struct lw_err *err);

/* The same without waiting (pipeline, base, sink copied as pointers: keep them alive). */
LW_MUST_CHECK int source_kc_submit(struct http_client *c, const char *base_url,
                                   const char *connector, const char *pipeline,
                                   const struct lw_labels *base, const struct source_sink *sink,
                                   int64_t now_ms, struct lw_err *err);

/* GET <base_url>/api/v1/query?query=<query> for pipeline. */
LW_MUST_CHECK int source_prom_fetch(struct http_client *c, const char *base_url, const char *query,
                                    const char *pipeline, const struct lw_labels *base,
                                    const struct source_sink *sink, int64_t now_ms,
                                    struct lw_err *err);

LW_MUST_CHECK int source_prom_submit(struct http_client *c, const char *base_url, const char *query,
                                     const char *pipeline, const struct lw_labels *base,
                                     const struct source_sink *sink, int64_t now_ms,
                                     struct lw_err *err);

/* The request a scrape of t sends (Accept, gzip, timeouts, body cap); headers points into
 * storage the function owns statically (valid until the next call). */
void source_exporter_request(const struct source_exporter_target *t, struct http_request *req);

/* The request a Kafka Connect or Prometheus API GET of url sends (Accept: application/json,
 * gzip, the JSON body cap); url is borrowed. For callers that drive the answer themselves. */
void source_json_request(const char *url, struct http_request *req);

#endif
