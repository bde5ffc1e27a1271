/*
 * aws_probe.c — a small driver for the AWS integration tests: it runs lagwatch's CloudWatch
 * fetcher and RDS calls once against an endpoint (moto_server, the fault-injection stand-in) with
 * the credentials in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, and prints
 * what came back in a form the Python tests assert on. Test-only; `lagwatch fetch` is the
 * user-facing command.
 *
 *   aws_probe cw ENDPOINT REGION NOW_S CLUSTER[@ENDPOINT]...
 *                          samples as exposition text, per-query status, per-endpoint duration
 *   aws_probe clusters ENDPOINT REGION CLUSTER...   "cluster ID status=S writer=W members=a,b"
 *   aws_probe events ENDPOINT REGION SINCE_S        "event SOURCE T_MS MESSAGE"
 * Exit 0 when everything succeeded, 3 when a call or query failed, 2 on usage errors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lagwatch/aws.h"
#include "lagwatch/cloudwatch.h"
#include "lagwatch/creds.h"
#include "lagwatch/http.h"
#include "lagwatch/labels.h"
#include "lagwatch/rds.h"
#include "lagwatch/sched.h"

static const char *const default_metrics[] = {"AuroraBinlogReplicaLag", "BinLogDiskUsage",
                                              "SumBinaryLogSize"};

static int append(void *ud, const struct lw_labels *ls, int64_t t_ms, double v, struct lw_err *err)
{
    (void)ud;
    (void)err;
    struct lw_buf b;
    lw_buf_init(&b, 4096);
    if (lw_labels_format_metric(ls, &b) == 0)
        printf("%s %.17g %lld\n", lw_buf_str(&b), v, (long long)t_ms);
    lw_buf_cleanup(&b);
    return 0;
}

struct state {
    int done;
    int failed;
};

#define MAX_FETCHERS 16

struct fetcher {
    char endpoint[256];
    struct cw_fetcher *f;
    int done;
    int64_t t0_ms, done_ms;
};

static void cycle_done(void *ud, const struct cw_cycle_report *r)
{
    struct fetcher *s = ud;
    s->done = 1;
    s->done_ms = lw_mono_ms();
    printf("# fetcher %s\n", s->endpoint);
    printf("# calls=%zu failed_calls=%zu metrics_requested=%zu samples=%zu duration_s=%.3f\n",
           r->calls, r->failed_calls, r->metrics_requested, r->samples, r->duration_s);
    if (r->first_error)
        printf("# error: %s\n", r->first_error);
}

static void clusters_done(void *ud, const struct rds_clusters *cs, const char *error)
{
    struct state *s = ud;
    s->done++;
    if (error) {
        printf("# error: %s\n", error);
        s->failed = 1;
        return;
    }
    for (size_t i = 0; i < cs->n; i++) {
        const struct rds_cluster *c = &cs->v[i];
        const char *w = rds_cluster_writer(c);
        printf("cluster %s status=%s writer=%s members=", c->id, c->status ? c->status : "",
               w ? w : "");
        for (size_t m = 0; m < c->n_members; m++)
            printf("%s%s", m ? "," : "", c->members[m].instance_id);
        printf("\n");
    }
}

static void events_done(void *ud, const struct rds_events *es, const char *error)
{
    struct state *s = ud;
    s->done++;
    if (error) {
        printf("# error: %s\n", error);
        s->failed = 1;
        return;
    }
    for (size_t i = 0; i < es->n; i++)
        printf("event %s %lld [%s] %s\n", es->v[i].source_id, (long long)es->v[i].t_ms,
               es->v[i].categories, es->v[i].message);
}

static int run_until_all(struct http_client *h, struct fetcher *fs, size_t nf, int want)
{
    int64_t end = lw_mono_ms() + 120000;
    for (;;) {
        int done = 0;
        for (size_t k = 0; k < nf; k++)
            done += fs[k].done;
        if (done >= want)
            return 0;
        if (lw_mono_ms() >= end || http_client_poll(h, 100) != 0)
            return -1;
    }
}

/* The three default Aurora metrics of one cluster, named as cloudwatch_exporter names them. */
static int add_cluster(struct cw_fetcher *f, const char *cluster, struct lw_err *err)
{
    for (size_t m = 0; m < 3; m++) {
        struct cw_dimension d[2] = {{"DBClusterIdentifier", cluster}, {"Role", "WRITER"}};
        struct cw_query q = {.namespace_ = "AWS/RDS",
                             .metric = default_metrics[m],
                             .dims = d,
                             .n_dims = m == 0 ? 2 : 1,
                             .stat = "Maximum",
                             .period_s = 60};
        char name[256], lname[128];
        struct lw_labels ls;
        lw_labels_init(&ls);
        int rc = cw_metric_name(q.namespace_, q.metric, q.stat, name, sizeof name);
        rc |= lw_labels_set(&ls, "__name__", name);
        rc |= lw_labels_set(&ls, "pipeline", cluster);
        for (size_t k = 0; k < q.n_dims; k++) {
            rc |= cw_label_name(d[k].name, lname, sizeof lname);
            rc |= lw_labels_set(&ls, lname, d[k].value);
        }
        if (rc != 0 || cw_fetcher_add(f, &q, &ls, err) < 0) {
            lw_labels_cleanup(&ls);
            return -1;
        }
        lw_labels_cleanup(&ls);
    }
    return 0;
}

static int run_until(struct http_client *h, int *flag, int want)
{
    int64_t end = lw_mono_ms() + 120000;
    while (*flag < want && lw_mono_ms() < end)
        if (http_client_poll(h, 100) != 0)
            return -1;
    return *flag >= want ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: aws_probe cw|clusters|events ENDPOINT REGION ...\n");
        return 2;
    }
    const char *mode = argv[1], *endpoint = argv[2], *region = argv[3];
    struct lw_err err = {0};
    struct creds_provider *cp = creds_static_new(
        getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY"), getenv("AWS_SESSION_TOKEN"));
    struct http_client *h = http_client_new(NULL, &err);
    const char *attempts = getenv("PROBE_MAX_ATTEMPTS");
    const char *timeout = getenv("PROBE_TIMEOUT_MS");
    struct aws_client_options ao = {.http = h,
                                    .creds = cp,
                                    .max_attempts = attempts ? (int)strtol(attempts, NULL, 10) : 0,
                                    .base_delay_ms = 20,
                                    .timeout_ms = timeout ? strtol(timeout, NULL, 10) : 0};
    struct aws_client *aws = cp && h ? aws_client_new(&ao, &err) : NULL;
    if (aws == NULL) {
        fprintf(stderr, "aws_probe: %s\n", cp ? err.msg : "no credentials in the environment");
        return 2;
    }
    struct state st = {0};
    int rc = 0;
    static struct fetcher fs[MAX_FETCHERS];
    size_t nf = 0;
    if (strcmp(mode, "cw") == 0 && argc >= 6) {
        /* One fetcher per distinct endpoint (CLUSTER@ENDPOINT overrides ENDPOINT), all cycles
         * running at once on the one HTTP client, as the agent runs them. */
        int64_t now_s = strtoll(argv[4], NULL, 10);
        for (int i = 5; i < argc; i++) {
            char cluster[256];
            snprintf(cluster, sizeof cluster, "%s", argv[i]);
            char *at = strchr(cluster, '@');
            const char *ep = at ? at + 1 : endpoint;
            if (at)
                *at = '\0';
            size_t k = 0;
            while (k < nf && strcmp(fs[k].endpoint, ep) != 0)
                k++;
            if (k == nf) {
                if (nf == MAX_FETCHERS)
                    return 2;
                struct cw_fetcher_options fo = {.aws = aws, .endpoint = ep, .region = region};
                snprintf(fs[k].endpoint, sizeof fs[k].endpoint, "%s", ep);
                fs[k].f = cw_fetcher_new(&fo, &err);
                if (fs[k].f == NULL) {
                    fprintf(stderr, "aws_probe: %s\n", err.msg);
                    return 2;
                }
                nf++;
            }
            if (add_cluster(fs[k].f, cluster, &err) != 0) {
                fprintf(stderr, "aws_probe: %s\n", err.msg);
                return 2;
            }
        }
        struct source_sink sink = {.append = append};
        int want = 0;
        int64_t t0 = lw_mono_ms();
        for (size_t k = 0; k < nf; k++) {
            fs[k].t0_ms = t0;
            if (cw_fetcher_start(fs[k].f, now_s, &sink, cycle_done, &fs[k], &err) != 0) {
                printf("# error: %s\n", err.msg);
                rc = 3;
            } else {
                want++;
            }
        }
        if (run_until_all(h, fs, nf, want) != 0) {
            printf("# error: cycle did not finish\n");
            rc = 3;
        }
        for (size_t k = 0; k < nf; k++) {
            printf("# fetcher %s done_after_s=%.3f\n", fs[k].endpoint,
                   (double)(fs[k].done_ms - t0) / 1000.0);
            for (size_t i = 0; i < cw_fetcher_count(fs[k].f); i++) {
                const struct cw_query_status *s = cw_fetcher_status(fs[k].f, i);
                printf("# query %zu state=%d new=%zu%s%s\n", i, (int)s->state, s->new_samples,
                       s->message ? " " : "", s->message ? s->message : "");
                if (s->state == CW_QUERY_FAILED)
                    rc = 3;
            }
            printf("# monthly_cost_usd_at_60s=%.4f\n",
                   cw_monthly_cost_usd(cw_fetcher_count(fs[k].f), 60));
        }
    } else if (strcmp(mode, "clusters") == 0 && argc >= 5) {
        struct rds_target t = {aws, endpoint, region};
        int want = 0;
        for (int i = 4; i < argc; i++) {
            if (rds_describe_cluster(&t, argv[i], clusters_done, &st, &err) != 0) {
                printf("# error: %s\n", err.msg);
                rc = 3;
            } else {
                want++;
            }
        }
        if (run_until(h, &st.done, want) != 0 || st.failed)
            rc = 3;
    } else if (strcmp(mode, "events") == 0 && argc >= 5) {
        struct rds_target t = {aws, endpoint, region};
        if (rds_describe_failover_events(&t, NULL, strtoll(argv[4], NULL, 10), events_done, &st,
                                         &err) != 0) {
            printf("# error: %s\n", err.msg);
            rc = 3;
        } else if (run_until(h, &st.done, 1) != 0 || st.failed) {
            rc = 3;
        }
    } else {
        fprintf(stderr, "aws_probe: bad arguments\n");
        rc = 2;
    }
    struct aws_stats as;
    aws_client_stats(aws, &as);
    printf("# aws calls=%llu attempts=%llu retries=%llu throttled=%llu failed=%llu skew_s=%lld\n",
           (unsigned long long)as.calls, (unsigned long long)as.attempts,
           (unsigned long long)as.retries, (unsigned long long)as.throttled,
           (unsigned long long)as.failed, (long long)as.clock_skew_s);
    aws_client_free(aws); /* before the fetchers: completes any cycle still in flight */
    for (size_t k = 0; k < nf; k++)
        cw_fetcher_free(fs[k].f);
    http_client_free(h);
    creds_provider_free(cp);
    return rc;
}
