/*
 * cloudwatch.h — CloudWatch GetMetricData over the JSON 1.0 protocol (jansson). Two layers:
 *  - pure: build one request body for a batch of queries (ids "q<index>"), parse one response
 *    (results mapped back to query indexes, NextToken, per-result StatusCode, Messages), the
 *    cloudwatch_exporter naming (AuroraBinlogReplicaLag/Maximum ->
 *    aws_rds_aurora_binlog_replica_lag_maximum), and the API cost arithmetic;
 *  - the fetcher: every registered query of every pipeline fetched per cycle in
 *    ceil(queries / CW_MAX_QUERIES_PER_CALL) concurrent calls (plus NextToken pages), over a
 *    window aligned to the period that covers what is new plus the late re-publication window,
 *    each sample delivered once (de-duplicated by timestamp per query) with CloudWatch's own
 *    timestamp to a source_sink.
 */
#ifndef LAGWATCH_CLOUDWATCH_H
#define LAGWATCH_CLOUDWATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lagwatch/buf.h"
#include "lagwatch/error.h"
#include "lagwatch/labels.h"
#include "lagwatch/source.h"

#define CW_MAX_QUERIES_PER_CALL 500  /* GetMetricData's limit */
#define CW_USD_PER_1000_METRICS 0.01 /* GetMetricData price per 1,000 metrics requested */
#define CW_DEFAULT_LATE_S       180  /* Aurora metrics can be published a minute or two late */
#define CW_DEFAULT_LOOKBACK_S   900  /* first window, and the furthest back a window reaches */

struct cw_dimension {
    const char *name;
    const char *value;
};

struct cw_query {
    const char *namespace_; /* "AWS/RDS" */
    const char *metric;     /* "AuroraBinlogReplicaLag" */
    const struct cw_dimension *dims;
    size_t n_dims;
    const char *stat; /* "Maximum", "Average", "p99", ... */
    int period_s;     /* a multiple of 60 (or 1, 5, 10, 30 for high resolution) */
};

/* Append the GetMetricData JSON body for queries[0..n) (ids "q<ids[i]>", or "q<i>" when ids is
 * NULL) over [start_s, end_s) with ScanBy TimestampAscending, and next_token when not NULL. -1
 * with err set when n is 0 or over CW_MAX_QUERIES_PER_CALL or the body does not fit out. */
LW_MUST_CHECK int cw_build_request(const struct cw_query *queries, const size_t *ids, size_t n,
                                   int64_t start_s, int64_t end_s, const char *next_token,
                                   struct lw_buf *out, struct lw_err *err);

struct cw_result {
    size_t query;      /* index from the id "q<index>" */
    char *status_code; /* "Complete", "PartialData", "InternalError", "Forbidden" */
    char *message;     /* the result's Messages joined with "; ", or NULL */
    size_t n;
    int64_t *t_ms; /* CloudWatch's timestamps, Unix ms */
    double *values;
};

struct cw_response {
    struct cw_result *results;
    size_t n_results;
    char *next_token; /* NULL when this was the last page */
    char *messages;   /* the top-level Messages joined with "; ", or NULL */
};

/* Parse a GetMetricData answer. Ids that are not "q<index>" with index < n_queries, timestamps
 * that are neither epoch numbers nor RFC 3339 strings, and Values/Timestamps of different lengths
 * are errors (err says where). Fills *out only on success (release with cw_response_cleanup). */
LW_MUST_CHECK int cw_parse_response(const char *body, size_t len, size_t n_queries,
                                    struct cw_response *out, struct lw_err *err);
void cw_response_cleanup(struct cw_response *r);

/* cloudwatch_exporter's names: "AWS/RDS" + "AuroraBinlogReplicaLag" + "Maximum" ->
 * "aws_rds_aurora_binlog_replica_lag_maximum"; a dimension "DBClusterIdentifier" ->
 * "dbcluster_identifier". Into out (bounded); -1 when it does not fit. */
int cw_metric_name(const char *namespace_, const char *metric, const char *stat, char *out,
                   size_t outlen);
int cw_label_name(const char *dimension, char *out, size_t outlen);

/* Estimated monthly GetMetricData cost (USD) of fetching metrics_per_cycle every interval_s
 * (30-day month). */
double cw_monthly_cost_usd(size_t metrics_per_cycle, int64_t interval_s);

/* The window a cycle at now_s asks for, for one period: end = now_s rounded down to the period
 * (only complete periods); start = the earliest of (the period after the last sample seen, or
 * end - lookback_s when none) and end - late_s, never before end - lookback_s; both aligned. */
void cw_window(int64_t now_s, int period_s, int64_t last_sample_s, int64_t late_s,
               int64_t lookback_s, int64_t *start_s, int64_t *end_s);

struct aws_client;

struct cw_fetcher_options {
    struct aws_client *aws; /* borrowed */
    const char *endpoint;   /* "https://monitoring.us-east-1.amazonaws.com" */
    const char *region;
    int64_t late_s;     /* 0: CW_DEFAULT_LATE_S */
    int64_t lookback_s; /* 0: CW_DEFAULT_LOOKBACK_S */
};

enum cw_query_state {
    CW_QUERY_PENDING = 0, /* not fetched yet this cycle */
    CW_QUERY_OK,          /* datapoints (new or already seen) */
    CW_QUERY_NO_DATA,     /* complete answer without datapoints */
    CW_QUERY_FAILED,      /* the call failed or the result's StatusCode was an error */
};

struct cw_query_status {
    enum cw_query_state state;
    const char *message;    /* for NO_DATA and FAILED: the text to show (owned by the fetcher) */
    size_t new_samples;     /* delivered this cycle */
    int64_t last_sample_ms; /* the newest timestamp ever delivered; -1 none */
};

struct cw_cycle_report {
    size_t calls; /* GetMetricData calls made (pages included) */
    size_t failed_calls;
    size_t metrics_requested; /* queries sent summed over calls: what CloudWatch bills */
    size_t samples;           /* delivered to the sink */
    double duration_s;
    const char *first_error; /* NULL when every call succeeded */
};

struct cw_fetcher;

struct cw_fetcher *cw_fetcher_new(const struct cw_fetcher_options *opts, struct lw_err *err);
/* Safe on NULL. With a cycle in flight, free the AWS client first (that completes the cycle:
 * its calls fail as "cancelled"), then the fetcher. */
void cw_fetcher_free(struct cw_fetcher *f);

/* Register a query whose samples carry labels (copied; normally __name__ from cw_metric_name,
 * the pipeline label and the dimensions). Returns its index (>= 0), or -1 with err set. */
int cw_fetcher_add(struct cw_fetcher *f, const struct cw_query *q, const struct lw_labels *labels,
                   struct lw_err *err);

size_t cw_fetcher_count(const struct cw_fetcher *f);
const struct cw_query_status *cw_fetcher_status(const struct cw_fetcher *f, size_t query);

typedef void (*cw_cycle_done_fn)(void *ud, const struct cw_cycle_report *report);

/* Start one cycle at wall time now_s: samples go to sink as they arrive (from
 * http_client_poll()); done runs once when every call finished. -1 with err set when a cycle is
 * already running, nothing is registered, or no call could be sent. */
LW_MUST_CHECK int cw_fetcher_start(struct cw_fetcher *f, int64_t now_s,
                                   const struct source_sink *sink, cw_cycle_done_fn done, void *ud,
                                   struct lw_err *err);

#endif
