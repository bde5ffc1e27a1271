/*
 * rds.h — the RDS calls lagwatch needs for Aurora failover detection, over the Query protocol
 * (form-encoded POST, XML answers parsed with libxml2):
 *  - DescribeDBClusters for one cluster: status and members, which one is the writer;
 *  - DescribeEvents for db-cluster sources in the failover category since a time
 *    (EventCategories.EventCategory.1=failover, RDS's list naming).
 * Both follow Marker pagination. Pure builders and parsers are exposed for tests and fuzzing;
 * the asynchronous calls run on the AWS client (aws.h) and answer through a callback.
 */
#ifndef LAGWATCH_RDS_H
#define LAGWATCH_RDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lagwatch/buf.h"
#include "lagwatch/error.h"

#define RDS_API_VERSION "2014-10-31"
#define RDS_MAX_PAGES   50 /* Marker pages followed per call before giving up */

struct rds_member {
    char *instance_id;
    bool is_writer;
};

struct rds_cluster {
    char *id;     /* DBClusterIdentifier */
    char *status; /* "available", "failing-over", ... */
    char *engine; /* "aurora-mysql" */
    struct rds_member *members;
    size_t n_members;
};

/* The writer's instance id, or NULL when no member is the writer. */
const char *rds_cluster_writer(const struct rds_cluster *c);

struct rds_clusters {
    struct rds_cluster *v;
    size_t n;
    char *marker; /* next page, or NULL */
};

struct rds_event {
    char *source_id;   /* SourceIdentifier */
    char *source_type; /* "db-cluster" */
    char *message;     /* "Started cross AZ failover to DB instance: ..." */
    int64_t t_ms;      /* Date */
    char *categories;  /* EventCategories joined with "," */
};

struct rds_events {
    struct rds_event *v;
    size_t n;
    char *marker;
};

/* Form bodies. cluster_id, marker and source_id are percent-encoded here; marker/source_id may
 * be NULL. since_s is the StartTime (Unix seconds). -1 when the body does not fit out. */
LW_MUST_CHECK int rds_build_describe_clusters(const char *cluster_id, const char *marker,
                                              struct lw_buf *out, struct lw_err *err);
LW_MUST_CHECK int rds_build_describe_events(const char *source_id, int64_t since_s,
                                            const char *marker, struct lw_buf *out,
                                            struct lw_err *err);

/* Parse a DescribeDBClustersResponse / DescribeEventsResponse. Malformed XML, a different root
 * element or a member without its identifier are errors (err has the line and column that
 * libxml2 reports). Fill *out only on success. */
LW_MUST_CHECK int rds_parse_clusters(const char *body, size_t len, struct rds_clusters *out,
                                     struct lw_err *err);
LW_MUST_CHECK int rds_parse_events(const char *body, size_t len, struct rds_events *out,
                                   struct lw_err *err);
void rds_clusters_cleanup(struct rds_clusters *c);
void rds_events_cleanup(struct rds_events *e);

/* What an event means for a failover episode is failover.h's business (failover_observe_event). */

struct aws_client;

struct rds_target {
    struct aws_client *aws; /* borrowed */
    const char *endpoint;   /* "https://rds.us-east-1.amazonaws.com" */
    const char *region;
};

/* error is NULL on success (then clusters/events hold every page; valid during the call). */
typedef void (*rds_clusters_fn)(void *ud, const struct rds_clusters *clusters, const char *error);
typedef void (*rds_events_fn)(void *ud, const struct rds_events *events, const char *error);

/* Describe cluster_id (all pages). The callback runs once from http_client_poll(). -1 with err
 * when the first request cannot be sent. */
LW_MUST_CHECK int rds_describe_cluster(const struct rds_target *t, const char *cluster_id,
                                       rds_clusters_fn done, void *ud, struct lw_err *err);

/* Failover-category events of db-cluster sources since since_s (all clusters when source_id is
 * NULL), all pages, oldest first. */
LW_MUST_CHECK int rds_describe_failover_events(const struct rds_target *t, const char *source_id,
                                               int64_t since_s, rds_events_fn done, void *ud,
                                               struct lw_err *err);

#endif
