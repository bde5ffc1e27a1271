/*
 * runtime.h — every source a config names, built once and driven on the agent's one HTTP client:
 *  - one JMX exporter scrape per distinct exporter URL per interval, however many pipelines
 *    share it (source_exporter.h);
 *  - Kafka Connect status per pipeline (source_kafka_connect.h);
 *  - each prometheus_sources entry, all its queries (source_prometheus.h);
 *  - one CloudWatch fetcher per (region, endpoint, interval) for every pipeline's Aurora metrics,
 *    batched CW_MAX_QUERIES_PER_CALL queries per call (cloudwatch.h);
 *  - RDS DescribeDBClusters / DescribeEvents per cluster with failover_detection, fed into the
 *    failover episodes (failover.h), with aws_rds_cluster_writer_info{cluster,writer} and
 *    lagwatch_failover_in_progress{cluster} series.
 * Samples go to the caller's sink (the store-backed sink with staleness in the agent). Each
 * source also gets up{source,pipeline} and scrape_duration_seconds.
 *
 * The runtime does not own the loop: `lagwatch fetch` / `check` call runtime_run_once (start
 * everything, poll until all answered), the daemon puts the runtime's jobs on its scheduler
 * (runtime_schedule) so each source runs on its own interval with a staggered phase. A job whose
 * previous run is still in flight when it comes due again is skipped, not stacked.
 *
 * Freeing a runtime with requests in flight is safe: AWS calls are cancelled, the other requests
 * are orphaned (their answers are dropped when they arrive). That is what lets SIGHUP swap in a
 * runtime built from a new config without waiting.
 */
#ifndef LAGWATCH_RUNTIME_H
#define LAGWATCH_RUNTIME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lagwatch/config.h"
#include "lagwatch/creds.h"
#include "lagwatch/error.h"
#include "lagwatch/failover.h"
#include "lagwatch/http.h"
#include "lagwatch/sched.h"
#include "lagwatch/source.h"

/* The credential chain's log callback (creds_options.log) that writes to the agent's log; no
 * secret ever reaches it. Shared by the runtime and `aws whoami`. */
void runtime_creds_log(void *ud, enum creds_log_level level, const char *msg, const char *provider,
                       const char *detail);

struct runtime_options {
    struct http_client *http;  /* borrowed; must outlive the runtime */
    struct source_sink sink;   /* where samples go (copied; its ud must outlive the runtime) */
    struct failover *failover; /* borrowed; NULL: RDS answers are not turned into episodes */
    int64_t cw_lookback_s;     /* how far back the first CloudWatch window reaches; 0: default */
    /* Sources the agent reads from the environment: NULL = the process's. For tests. */
    const struct creds_options *creds;
};

/* What a source looks like from outside (`check`'s "sources", the status page, /metrics). */
struct runtime_source_health {
    const char *name;     /* "debezium", "kafka_connect", "prometheus", "cloudwatch", "rds" */
    const char *pipeline; /* NULL when the source serves no pipeline */
    const char *target;   /* URL without credentials, or the Aurora cluster id */
    bool up;              /* the last run succeeded */
    bool has_run;         /* false until the first run finished */
    char last_error[LW_ERR_MSG_MAX]; /* "" when the last run succeeded */
    char warning[LW_ERR_MSG_MAX];    /* up, but something to say ("no datapoints for ..."); "" */
    double last_duration_s;
    int64_t last_run_ms; /* wall clock of the last finished run; 0 never */
    uint64_t runs, failures;
};

struct runtime_cloudwatch_stats {
    size_t metrics_per_cycle;   /* queries registered over all fetchers (what one cycle bills) */
    size_t metrics_requested;   /* summed over every call since start (pages included) */
    size_t calls, failed_calls; /* GetMetricData calls since start */
    double monthly_cost_usd;    /* estimate of the config's GetMetricData bill (30-day month) */
};

struct runtime;

/*
 * Build the sources of cfg (borrowed: it must outlive the runtime). AWS credentials and the
 * region are resolved now when any pipeline has an aurora: section (credentials lazily at the
 * first call). Returns 0 and *out, or -1 with err (no region, bad endpoint, bad keep regexp,
 * out of memory).
 */
LW_MUST_CHECK int runtime_new(const struct config *cfg, const struct runtime_options *opts,
                              struct runtime **out, struct lw_err *err);

/* Cancel AWS calls, orphan the other requests in flight, free. Safe on NULL. */
void runtime_free(struct runtime *rt);

/*
 * Run every source once now and poll the HTTP client until all answered or timeout_ms passed
 * (other requests on the client are driven meanwhile). Returns the number of sources that
 * failed (>= 0), or -1 with err when polling failed or the deadline passed first.
 */
LW_MUST_CHECK int runtime_run_once(struct runtime *rt, int64_t timeout_ms, struct lw_err *err);

/* Add one job per source to s (named "source/<kind>/<target>" so its phase is stable), first
 * runs from now_mono_ms on. Returns 0 or -1 (out of memory). The jobs point at rt: remove them
 * (rebuild the scheduler) before freeing rt. */
LW_MUST_CHECK int runtime_schedule(struct runtime *rt, struct sched *s, int64_t now_mono_ms);

/* Requests of this runtime still in flight. */
size_t runtime_in_flight(const struct runtime *rt);

/* Whether every source has finished at least one run (the daemon is "ready" after that and one
 * evaluation). */
bool runtime_all_ran(const struct runtime *rt);

size_t runtime_source_count(const struct runtime *rt);
const struct runtime_source_health *runtime_source_at(const struct runtime *rt, size_t i);

void runtime_cloudwatch_stats(const struct runtime *rt, struct runtime_cloudwatch_stats *out);

/* The Aurora cluster a pipeline watches, or NULL (for failover holds by pipeline label). */
const char *runtime_pipeline_cluster(const struct runtime *rt, const char *pipeline);

#endif
