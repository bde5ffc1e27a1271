/*
 * failover.h — Aurora failover episodes per cluster, the reason lagwatch can stay quiet while a
 * failover makes every lag metric jump. Pure: the agent feeds it what RDS said (events, cluster
 * status, writer) and the clock; it answers whether a cluster's alerts are held.
 *
 * An episode starts on an RDS "Started ... failover" event (RDS-EVENT-0072/0073; the API has no
 * event ids, so the message is matched), on cluster status `failing-over`, on a writer change
 * between two polls, or by hand (`lagwatch failover start`). It ends on "Completed failover"
 * (0071), on "failover failed" (0069), when the cluster is `available` with a writer again, or by
 * hand; then the hold runs (default 10m). Held means: episode active or hold not yet over.
 */
#ifndef LAGWATCH_FAILOVER_H
#define LAGWATCH_FAILOVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lagwatch/error.h"

#define FAILOVER_DEFAULT_HOLD_MS (10 * 60 * 1000)

enum failover_phase { FAILOVER_NONE, FAILOVER_ACTIVE, FAILOVER_HOLD };

struct failover_cluster {
    char *cluster;
    enum failover_phase phase;
    int64_t started_ms, ended_ms, hold_until_ms;
    char *reason;      /* what started the current or last episode */
    char *last_writer; /* writer seen at the last poll, NULL before the first */
    uint64_t episodes; /* count since lagwatch first saw the cluster */
};

struct failover;

struct failover *failover_new(int64_t hold_ms);
void failover_free(struct failover *f);

/* A DescribeDBClusters answer: status ("available", "failing-over", ...) and writer (NULL when
 * the cluster has none). Returns 1 when this changed the cluster's phase, 0 if not, -1 on OOM. */
int failover_observe_cluster(struct failover *f, const char *cluster, const char *status,
                             const char *writer, int64_t now_ms);

/* A DescribeEvents entry of category failover, with its own time. Returns as above. */
int failover_observe_event(struct failover *f, const char *cluster, const char *message,
                           int64_t event_ms, int64_t now_ms);

/* `lagwatch failover start|end CLUSTER`. */
int failover_manual(struct failover *f, const char *cluster, bool start, const char *who,
                    int64_t now_ms);

/* Whether alerts of the cluster must be held at now. */
bool failover_held(const struct failover *f, const char *cluster, int64_t now_ms);

/* Move clusters whose hold ran out back to NONE. Returns how many did (the agent then flushes
 * held notifications at once). */
size_t failover_tick(struct failover *f, int64_t now_ms);

/* Iterate the clusters (for /metrics, the status page and the synthetic AuroraFailover alert). */
size_t failover_count(const struct failover *f);
const struct failover_cluster *failover_at(const struct failover *f, size_t i);

/* Persisted form (JSON, malloc'd) and back; load replaces the content. */
char *failover_save(const struct failover *f);
LW_MUST_CHECK int failover_load(struct failover *f, const char *json, size_t len,
                                struct lw_err *err);

#endif
