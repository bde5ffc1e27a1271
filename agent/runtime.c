/*
 * runtime.c — the config's sources as jobs on one HTTP client (see runtime.h). Each job is one
 * unit of fetching: an exporter target (shared by the pipelines that name its URL), one
 * pipeline's Kafka Connect status, one prometheus_sources entry (all its queries), one CloudWatch
 * fetcher (every Aurora metric of the pipelines in one region/endpoint/interval) or one
 * cluster's RDS polls. A job owns a run of health entries (one per pipeline it serves) that it
 * updates when its last request of a run has answered.
 *
 * This file only wires: requests are built by source_fetch.h, answers interpreted by the pure
 * source_*_process functions, CloudWatch and RDS speak through cloudwatch.h and rds.h, failover
 * episodes are failover.h's. It does not own the store, the loop or the failover state.
 */
#include "lagwatch/runtime.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "lagwatch/aws.h"
#include "lagwatch/cloudwatch.h"
#include "lagwatch/creds.h"
#include "lagwatch/endpoint.h"
#include "lagwatch/limits.h"
#include "lagwatch/log.h"
#include "lagwatch/rds.h"
#include "lagwatch/source_exporter.h"
#include "lagwatch/source_fetch.h"
#include "lagwatch/source_kafka_connect.h"
#include "lagwatch/source_prometheus.h"

#define CW_NAMESPACE_RDS "AWS/RDS"
#define CW_DEFAULT_STAT  "Maximum"

enum job_kind { JOB_EXPORTER, JOB_KC, JOB_PROM, JOB_CW, JOB_RDS };

static const char *const job_source_name[] = {"debezium", "kafka_connect", "prometheus",
                                              "cloudwatch", "rds"};

struct cw_group;

struct job {
    enum job_kind kind;
    struct runtime *rt;
    char *sched_name;
    int64_t interval_ms;
    size_t h0, nh;    /* health entries rt->health[h0 .. h0+nh) */
    size_t in_flight; /* requests of the current run not answered yet */
    bool running;     /* a run started and has not finished */
    bool failed;      /* the current run failed (first error in err) */
    char err[LW_ERR_MSG_MAX];
    int64_t started_mono_ms, now_ms; /* the run's start (monotonic) and sample time (wall) */
    double duration_s;
    uint64_t skipped; /* due times skipped because the previous run was still in flight */
    /* kind-specific */
    size_t target;                             /* JOB_EXPORTER: index in rt->exporters */
    const struct config_pipeline *p;           /* JOB_KC, JOB_RDS */
    const struct config_prometheus_source *ps; /* JOB_PROM */
    const struct config_pipeline *ps_pipeline; /* JOB_PROM: the pipeline it names, or NULL */
    struct cw_group *cw;                       /* JOB_CW */
    int64_t rds_last_event_ms;                 /* JOB_RDS: newest event already observed */
    char *rds_writer;                          /* JOB_RDS: writer of the last answer */
    bool rds_cluster_ok;
};

/* Pipelines of one CloudWatch fetcher and their query ranges in it. */
struct cw_member {
    const struct config_pipeline *p;
    size_t q0, nq;
};

struct cw_group {
    char *region, *endpoint;
    int64_t interval_ms;
    struct cw_fetcher *f;
    struct cw_member *members;
    size_t n_members;
    struct job *job;
};

/* A request to an exporter, Kafka Connect or the Prometheus API. Orphaned (rt NULL) when the
 * runtime is freed before the answer comes. */
struct req_ctx {
    struct req_ctx *prev, *next;
    struct runtime *rt;
    struct job *job;
    char *url; /* without credentials: the scope */
};

struct runtime {
    const struct config *cfg;
    struct http_client *http;
    struct source_sink sink;
    struct failover *failover;
    struct creds_provider *creds;
    struct aws_client *aws;
    char *default_region;
    char *rds_endpoint_default;
    struct source_exporter_set exporters;
    struct job **jobs;
    size_t n_jobs;
    struct cw_group *cw;
    size_t n_cw;
    struct runtime_source_health *health;
    size_t n_health;
    char **owned; /* strings the health entries point at */
    size_t n_owned;
    struct req_ctx *reqs; /* in flight */
    size_t n_reqs;
    size_t running_jobs;
    bool closing; /* runtime_free under way: answers of cancelled AWS calls are ignored */
    struct runtime_cloudwatch_stats cw_stats;
};

/* ---- building ------------------------------------------------------------------------------ */

static char *own(struct runtime *rt, const char *s)
{
    char **nv = realloc(rt->owned, (rt->n_owned + 1) * sizeof *nv);
    if (!nv)
        return NULL;
    rt->owned = nv;
    char *d = strdup(s ? s : "");
    if (d)
        rt->owned[rt->n_owned++] = d;
    return d;
}

static struct job *job_add(struct runtime *rt, enum job_kind kind, const char *target,
                           int64_t interval_ms, struct lw_err *err)
{
    struct job **nv = realloc(rt->jobs, (rt->n_jobs + 1) * sizeof *nv);
    if (!nv)
        goto oom;
    rt->jobs = nv;
    struct job *j = calloc(1, sizeof *j);
    if (!j)
        goto oom;
    size_t n = strlen(target) + 32;
    j->sched_name = malloc(n);
    if (!j->sched_name) {
        free(j);
        goto oom;
    }
    snprintf(j->sched_name, n, "source/%s/%s", job_source_name[kind], target);
    j->kind = kind;
    j->rt = rt;
    j->interval_ms = interval_ms > 0 ? interval_ms : CONFIG_DEFAULT_SCRAPE_INTERVAL_MS;
    j->h0 = rt->n_health;
    rt->jobs[rt->n_jobs++] = j;
    return j;
oom:
    lw_err_set(err, 0, 0, "out of memory");
    return NULL;
}

/* One health entry for job j (pipeline may be NULL). */
static int health_add(struct runtime *rt, struct job *j, const char *pipeline, const char *target,
                      struct lw_err *err)
{
    struct runtime_source_health *nv = realloc(rt->health, (rt->n_health + 1) * sizeof *nv);
    if (!nv)
        return lw_err_set(err, 0, 0, "out of memory");
    rt->health = nv;
    struct runtime_source_health *h = &rt->health[rt->n_health];
    memset(h, 0, sizeof *h);
    h->name = job_source_name[j->kind];
    h->pipeline = pipeline;
    h->target = own(rt, target);
    if (!h->target)
        return lw_err_set(err, 0, 0, "out of memory");
    rt->n_health++;
    j->nh++;
    return 0;
}

/* The config's scrape limits for a target (config load made sharing pipelines agree). */
static void apply_scrape_limits(const struct config *cfg, struct source_exporter_target *tg)
{
    const struct config_debezium *z = NULL;
    for (size_t i = 0; i < cfg->n_pipelines && z == NULL; i++) {
        const struct config_debezium *d = cfg->pipelines[i].debezium;
        for (size_t u = 0; d && u < d->n_exporters && z == NULL; u++)
            if (strcmp(d->exporters[u], tg->url) == 0)
                z = d;
    }
    if (z == NULL)
        return;
    if (z->body_size_limit)
        tg->limits.max_bytes = (size_t)z->body_size_limit;
    if (z->sample_limit)
        tg->limits.max_samples = (size_t)z->sample_limit;
    if (z->label_limit)
        tg->limits.max_labels = (size_t)z->label_limit; /* both count __name__ */
    if (z->label_name_length_limit)
        tg->limits.max_label_name_bytes = (size_t)z->label_name_length_limit;
    if (z->label_value_length_limit)
        tg->limits.max_label_value_bytes = (size_t)z->label_value_length_limit;
}

static int build_exporters(struct runtime *rt, struct lw_err *err)
{
    const struct config *cfg = rt->cfg;
    for (size_t i = 0; i < cfg->n_pipelines; i++) {
        const struct config_pipeline *p = &cfg->pipelines[i];
        if (!p->debezium)
            continue;
        struct source_pipeline sp = {p->name, p->debezium->server,
                                     p->kafka_connect ? p->kafka_connect->connector : NULL,
                                     p->labels};
        for (size_t u = 0; u < p->debezium->n_exporters; u++)
            if (source_exporter_add(&rt->exporters, p->debezium->exporters[u], &sp,
                                    p->debezium->keep, false, err) != 0)
                return -1;
    }
    for (size_t t = 0; t < rt->exporters.n; t++) {
        struct source_exporter_target *tg = &rt->exporters.targets[t];
        tg->timeout_ms = (long)cfg->global.scrape_timeout_ms;
        apply_scrape_limits(cfg, tg);
        struct job *j =
            job_add(rt, JOB_EXPORTER, tg->display_url, cfg->global.scrape_interval_ms, err);
        if (!j)
            return -1;
        j->target = t;
        for (size_t k = 0; k < tg->n_pipelines; k++)
            if (health_add(rt, j, tg->pipelines[k].name, tg->display_url, err) != 0)
                return -1;
    }
    return 0;
}

static int build_kafka_connect(struct runtime *rt, struct lw_err *err)
{
    const struct config *cfg = rt->cfg;
    for (size_t i = 0; i < cfg->n_pipelines; i++) {
        const struct config_pipeline *p = &cfg->pipelines[i];
        if (!p->kafka_connect)
            continue;
        char *url = source_kc_status_url(p->kafka_connect->url, p->kafka_connect->connector);
        char *shown = url ? source_url_redact(url) : NULL;
        free(url);
        if (!shown)
            return lw_err_set(err, 0, 0, "out of memory");
        struct job *j = job_add(rt, JOB_KC, shown, cfg->global.scrape_interval_ms, err);
        int rc = j ? health_add(rt, j, p->name, shown, err) : -1;
        free(shown);
        if (rc != 0)
            return -1;
        j->p = p;
    }
    return 0;
}

static int build_prometheus(struct runtime *rt, struct lw_err *err)
{
    const struct config *cfg = rt->cfg;
    for (size_t i = 0; i < cfg->n_prometheus_sources; i++) {
        const struct config_prometheus_source *ps = &cfg->prometheus_sources[i];
        char *shown = source_url_redact(ps->url);
        if (!shown)
            return lw_err_set(err, 0, 0, "out of memory");
        char name[512];
        snprintf(name, sizeof name, "%s/%s", ps->name ? ps->name : "", shown);
        struct job *j = job_add(rt, JOB_PROM, name, ps->interval_ms, err);
        int rc = j ? health_add(rt, j, ps->pipeline, shown, err) : -1;
        free(shown);
        if (rc != 0)
            return -1;
        j->ps = ps;
        j->ps_pipeline = ps->pipeline ? config_pipeline_find(cfg, ps->pipeline) : NULL;
    }
    return 0;
}

static const char *pipeline_region(const struct runtime *rt, const struct config_pipeline *p)
{
    if (p->aurora->region)
        return p->aurora->region;
    if (rt->cfg->aws.region)
        return rt->cfg->aws.region;
    return rt->default_region;
}

void runtime_creds_log(void *ud, enum creds_log_level level, const char *msg, const char *provider,
                       const char *detail)
{
    (void)ud;
    enum log_level l = level == CREDS_LOG_WARN   ? LOG_LEVEL_WARN
                       : level == CREDS_LOG_INFO ? LOG_LEVEL_INFO
                                                 : LOG_LEVEL_DEBUG;
    log_kv(l, msg, "provider", provider ? provider : "", "detail", detail ? detail : "", NULL);
}

/* Credentials, the AWS client and the default region, when some pipeline needs AWS. */
static int build_aws(struct runtime *rt, const struct runtime_options *opts, struct lw_err *err)
{
    const struct config *cfg = rt->cfg;
    bool need = false, need_region = false;
    for (size_t i = 0; i < cfg->n_pipelines; i++)
        if (cfg->pipelines[i].aurora) {
            need = true;
            if (!cfg->pipelines[i].aurora->region && !cfg->aws.region)
                need_region = true;
        }
    if (!need)
        return 0;
    struct creds_options co = {0};
    if (opts->creds)
        co = *opts->creds;
    if (!co.log)
        co.log = runtime_creds_log;
    if (need_region) {
        struct creds_profile_options po = {cfg->aws.profile, NULL, NULL, NULL, NULL};
        struct region_options ro = {cfg->aws.region, &po, 1};
        const char *src = NULL;
        if (region_resolve(&co, &ro, lw_wall_ms() / 1000, &rt->default_region, &src, err) != 0)
            return -1;
    }
    struct creds_config cc = {0};
    cc.access_key_id = cfg->aws.access_key_id;
    cc.secret_access_key = cfg->aws.secret_access_key;
    cc.session_token = cfg->aws.session_token;
    cc.profile = cfg->aws.profile;
    cc.region = cfg->aws.region ? cfg->aws.region : rt->default_region;
    cc.sts_endpoint = cfg->aws.endpoint_sts;
    rt->creds = creds_default_new(&co, &cc, err);
    if (!rt->creds)
        return -1;
    struct aws_client_options ao = {.http = rt->http, .creds = rt->creds};
    rt->aws = aws_client_new(&ao, err);
    return rt->aws ? 0 : -1;
}

static int resolve_endpoint(const struct runtime *rt, const char *service, const char *region,
                            const char *override, char **url, struct lw_err *err)
{
    struct creds_options co = {0};
    struct endpoint_options eo = {override, -1, -1};
    const char *src = NULL;
    (void)rt;
    return endpoint_resolve(&co, service, region, &eo, url, &src, err);
}

/* The cw_group for (region, endpoint, interval), created on first use. */
static struct cw_group *cw_group_get(struct runtime *rt, const char *region, const char *endpoint,
                                     int64_t interval_ms, int64_t lookback_s, struct lw_err *err)
{
    for (size_t i = 0; i < rt->n_cw; i++)
        if (strcmp(rt->cw[i].region, region) == 0 && strcmp(rt->cw[i].endpoint, endpoint) == 0 &&
            rt->cw[i].interval_ms == interval_ms)
            return &rt->cw[i];
    struct cw_group *nv = realloc(rt->cw, (rt->n_cw + 1) * sizeof *nv);
    if (!nv)
        goto oom;
    rt->cw = nv;
    struct cw_group *g = &rt->cw[rt->n_cw];
    memset(g, 0, sizeof *g);
    g->region = strdup(region);
    g->endpoint = strdup(endpoint);
    g->interval_ms = interval_ms;
    if (!g->region || !g->endpoint) {
        free(g->region);
        free(g->endpoint);
        goto oom;
    }
    struct cw_fetcher_options fo = {
        .aws = rt->aws, .endpoint = endpoint, .region = region, .lookback_s = lookback_s};
    g->f = cw_fetcher_new(&fo, err);
    if (!g->f) {
        free(g->region);
        free(g->endpoint);
        return NULL;
    }
    rt->n_cw++;
    return g;
oom:
    lw_err_set(err, 0, 0, "out of memory");
    return NULL;
}

/* Register one Aurora metric of p: cloudwatch_exporter's name, pipeline, the pipeline's labels
 * and the dimensions (Role=WRITER for AuroraBinlogReplicaLag, which Aurora publishes per role). */
static int cw_add_metric(struct cw_group *g, const struct config_pipeline *p, const char *metric,
                         struct lw_err *err)
{
    bool by_role = strcmp(metric, "AuroraBinlogReplicaLag") == 0;
    struct cw_dimension d[2] = {{"DBClusterIdentifier", p->aurora->cluster}, {"Role", "WRITER"}};
    int64_t period_s = p->aurora->period_ms / 1000;
    struct cw_query q = {.namespace_ = CW_NAMESPACE_RDS,
                         .metric = metric,
                         .dims = d,
                         .n_dims = by_role ? 2 : 1,
                         .stat = CW_DEFAULT_STAT,
                         .period_s = period_s > 0 ? (int)period_s : 60};
    char name[256], lname[128];
    if (cw_metric_name(q.namespace_, q.metric, q.stat, name, sizeof name) != 0)
        return lw_err_set(err, p->line, 0, "metric name %s too long", metric);
    struct lw_labels ls;
    if (lw_labels_copy(&ls, &p->labels) != 0)
        return lw_err_set(err, 0, 0, "out of memory");
    int rc = lw_labels_set(&ls, "__name__", name) | lw_labels_set(&ls, "pipeline", p->name);
    for (size_t k = 0; k < q.n_dims && rc == 0; k++) {
        rc |= cw_label_name(d[k].name, lname, sizeof lname);
        rc |= lw_labels_set(&ls, lname, d[k].value);
    }
    if (rc != 0) {
        lw_labels_cleanup(&ls);
        return lw_err_set(err, 0, 0, "out of memory");
    }
    rc = cw_fetcher_add(g->f, &q, &ls, err) < 0 ? -1 : 0;
    lw_labels_cleanup(&ls);
    return rc;
}

static int build_cloudwatch(struct runtime *rt, int64_t lookback_s, struct lw_err *err)
{
    const struct config *cfg = rt->cfg;
    for (size_t i = 0; i < cfg->n_pipelines; i++) {
        const struct config_pipeline *p = &cfg->pipelines[i];
        if (!p->aurora || p->aurora->n_metrics == 0)
            continue;
        const char *region = pipeline_region(rt, p);
        char *endpoint = NULL;
        if (resolve_endpoint(rt, "monitoring", region, cfg->aws.endpoint_cloudwatch, &endpoint,
                             err) != 0)
            return -1;
        struct cw_group *g =
            cw_group_get(rt, region, endpoint, p->aurora->interval_ms, lookback_s, err);
        free(endpoint);
        if (!g)
            return -1;
        struct cw_member *nv = realloc(g->members, (g->n_members + 1) * sizeof *nv);
        if (!nv)
            return lw_err_set(err, 0, 0, "out of memory");
        g->members = nv;
        struct cw_member *m = &g->members[g->n_members++];
        m->p = p;
        m->q0 = cw_fetcher_count(g->f);
        m->nq = 0;
        for (size_t k = 0; k < p->aurora->n_metrics; k++) {
            if (cw_add_metric(g, p, p->aurora->metrics[k], err) != 0)
                return -1;
            m->nq++;
        }
    }
    /* Jobs after all groups exist: rt->cw no longer moves. */
    for (size_t i = 0; i < rt->n_cw; i++) {
        struct cw_group *g = &rt->cw[i];
        char name[512];
        snprintf(name, sizeof name, "%s/%s/%lld", g->region, g->endpoint,
                 (long long)g->interval_ms);
        struct job *j = job_add(rt, JOB_CW, name, g->interval_ms, err);
        if (!j)
            return -1;
        j->cw = g;
        g->job = j;
        for (size_t k = 0; k < g->n_members; k++)
            if (health_add(rt, j, g->members[k].p->name, g->members[k].p->aurora->cluster, err) !=
                0)
                return -1;
        rt->cw_stats.metrics_per_cycle += cw_fetcher_count(g->f);
        rt->cw_stats.monthly_cost_usd +=
            cw_monthly_cost_usd(cw_fetcher_count(g->f), g->interval_ms / 1000);
    }
    return 0;
}

static int build_rds(struct runtime *rt, struct lw_err *err)
{
    const struct config *cfg = rt->cfg;
    for (size_t i = 0; i < cfg->n_pipelines; i++) {
        const struct config_pipeline *p = &cfg->pipelines[i];
        if (!p->aurora || !p->aurora->failover_detection)
            continue;
        struct job *j = job_add(rt, JOB_RDS, p->aurora->cluster, p->aurora->interval_ms, err);
        if (!j || health_add(rt, j, p->name, p->aurora->cluster, err) != 0)
            return -1;
        j->p = p;
    }
    return 0;
}

int runtime_new(const struct config *cfg, const struct runtime_options *opts, struct runtime **out,
                struct lw_err *err)
{
    if (!opts || !opts->http || !opts->sink.append)
        return lw_err_set(err, 0, 0, "runtime_new: an HTTP client and a sink are required");
    struct runtime *rt = calloc(1, sizeof *rt);
    if (!rt)
        return lw_err_set(err, 0, 0, "out of memory");
    rt->cfg = cfg;
    rt->http = opts->http;
    rt->sink = opts->sink;
    rt->failover = opts->failover;
    source_exporter_set_init(&rt->exporters);
    if (build_exporters(rt, err) != 0 || build_kafka_connect(rt, err) != 0 ||
        build_prometheus(rt, err) != 0 || build_aws(rt, opts, err) != 0 ||
        build_cloudwatch(rt, opts->cw_lookback_s, err) != 0 || build_rds(rt, err) != 0) {
        runtime_free(rt);
        return -1;
    }
    *out = rt;
    return 0;
}

void runtime_free(struct runtime *rt)
{
    if (!rt)
        return;
    /* AWS first: its cancelled calls complete their CloudWatch cycles and RDS polls now, while
     * the jobs they report to still exist (and ignore the answers). */
    rt->closing = true;
    aws_client_free(rt->aws);
    for (struct req_ctx *c = rt->reqs; c; c = c->next)
        c->rt = NULL; /* answered later into nothing */
    for (size_t i = 0; i < rt->n_cw; i++) {
        cw_fetcher_free(rt->cw[i].f);
        free(rt->cw[i].region);
        free(rt->cw[i].endpoint);
        free(rt->cw[i].members);
    }
    free(rt->cw);
    creds_provider_free(rt->creds);
    for (size_t i = 0; i < rt->n_jobs; i++) {
        free(rt->jobs[i]->sched_name);
        free(rt->jobs[i]->rds_writer);
        free(rt->jobs[i]);
    }
    free(rt->jobs);
    source_exporter_set_cleanup(&rt->exporters);
    for (size_t i = 0; i < rt->n_owned; i++)
        free(rt->owned[i]);
    free(rt->owned);
    free(rt->health);
    free(rt->default_region);
    free(rt->rds_endpoint_default);
    free(rt);
}

/* ---- running ------------------------------------------------------------------------------- */

static void job_fail(struct job *j, const char *msg)
{
    if (!j->failed) {
        j->failed = true;
        snprintf(j->err, sizeof j->err, "%s", msg);
    }
}

/* Record the outcome of one health entry and log a change of up/down. */
static void health_set(struct runtime *rt, struct runtime_source_health *h, bool up,
                       const char *error, const char *warning, double duration_s)
{
    (void)rt;
    bool was_up = h->up, had_run = h->has_run;
    h->up = up;
    h->has_run = true;
    h->runs++;
    if (!up)
        h->failures++;
    snprintf(h->last_error, sizeof h->last_error, "%s", up ? "" : (error ? error : "failed"));
    snprintf(h->warning, sizeof h->warning, "%s", warning ? warning : "");
    h->last_duration_s = duration_s;
    h->last_run_ms = lw_wall_ms();
    if (!up && (was_up || !had_run))
        log_kv(LOG_LEVEL_WARN, "source down", "source", h->name, "pipeline",
               h->pipeline ? h->pipeline : "", "target", h->target, "error", h->last_error, NULL);
    else if (up && had_run && !was_up)
        log_kv(LOG_LEVEL_INFO, "source up", "source", h->name, "pipeline",
               h->pipeline ? h->pipeline : "", "target", h->target, NULL);
}

static void emit_rds_series(struct job *j);

/* The last request of a run answered. */
static void job_finish(struct job *j)
{
    struct runtime *rt = j->rt;
    j->running = false;
    if (rt->running_jobs > 0)
        rt->running_jobs--;
    if (j->kind == JOB_CW)
        return; /* cw_done set each pipeline's entry itself */
    j->duration_s = (double)(lw_mono_ms() - j->started_mono_ms) / 1000.0;
    if (j->kind == JOB_RDS)
        emit_rds_series(j);
    for (size_t k = 0; k < j->nh; k++)
        health_set(rt, &rt->health[j->h0 + k], !j->failed, j->err, NULL, j->duration_s);
}

static void req_unlink(struct runtime *rt, struct req_ctx *c)
{
    if (c->prev)
        c->prev->next = c->next;
    else
        rt->reqs = c->next;
    if (c->next)
        c->next->prev = c->prev;
    rt->n_reqs--;
}

static void req_done(void *ud, const struct http_response *resp)
{
    struct req_ctx *c = ud;
    struct runtime *rt = c->rt;
    if (!rt) { /* the runtime went away (reload): nothing to deliver to */
        free(c->url);
        free(c);
        return;
    }
    req_unlink(rt, c);
    struct job *j = c->job;
    struct lw_err err = {0};
    int rc = 0;
    const char *body = resp->body ? resp->body : "";
    size_t len = resp->body ? resp->body_len : 0;
    switch (j->kind) {
    case JOB_EXPORTER: {
        struct source_exporter_response r = {
            resp->status, resp->error, http_response_header(resp, "Content-Type"),
            body,         len,         resp->total_s};
        rc = source_exporter_process(&rt->exporters.targets[j->target], &r, j->now_ms, &rt->sink,
                                     &err);
        break;
    }
    case JOB_KC: {
        struct source_kc_response r = {resp->status, resp->error, body, len, resp->total_s};
        rc = source_kc_process(c->url, j->p->kafka_connect->connector, j->p->name, &j->p->labels,
                               &r, j->now_ms, &rt->sink, NULL, &err);
        break;
    }
    case JOB_PROM: {
        struct source_prom_response r = {resp->status, resp->error, body, len, resp->total_s};
        rc = source_prom_process(c->url, j->ps->pipeline,
                                 j->ps_pipeline ? &j->ps_pipeline->labels : NULL, &r, j->now_ms,
                                 &rt->sink, &err);
        break;
    }
    default:
        break;
    }
    if (rc != 0)
        job_fail(j, err.msg);
    free(c->url);
    free(c);
    if (j->in_flight > 0 && --j->in_flight == 0)
        job_finish(j);
}

/* Submit one GET for job j. url: what to fetch; shown: the scope (no credentials). */
static int req_submit(struct job *j, const struct http_request *req, const char *shown,
                      struct lw_err *err)
{
    struct runtime *rt = j->rt;
    struct req_ctx *c = calloc(1, sizeof *c);
    if (!c || !(c->url = strdup(shown))) {
        free(c);
        return lw_err_set(err, 0, 0, "out of memory");
    }
    c->rt = rt;
    c->job = j;
    if (http_submit(rt->http, req, req_done, c, err) != 0) {
        free(c->url);
        free(c);
        return -1;
    }
    c->next = rt->reqs;
    if (rt->reqs)
        rt->reqs->prev = c;
    rt->reqs = c;
    rt->n_reqs++;
    j->in_flight++;
    return 0;
}

/* The Authorization value a prometheus_sources entry asks for ("Bearer ..." or "Basic ..."),
 * into out; returns its length, 0 when the source has no credentials, -1 when out is too small. */
static int prom_auth(const struct config_prometheus_source *ps, char *out, size_t outlen)
{
    if (ps->bearer_token) {
        int n = snprintf(out, outlen, "Bearer %s", ps->bearer_token);
        return n > 0 && (size_t)n < outlen ? n : -1;
    }
    if (!ps->basic_username)
        return 0;
    char plain[LW_MAX_SECRET_BYTES * 2 + 2];
    int n = snprintf(plain, sizeof plain, "%s:%s", ps->basic_username,
                     ps->basic_password ? ps->basic_password : "");
    int rc = -1;
    if (n > 0 && (size_t)n < sizeof plain && outlen > 6 + 4 * ((size_t)n + 2) / 3 + 1) {
        memcpy(out, "Basic ", 6);
        int m = EVP_EncodeBlock((unsigned char *)out + 6, (const unsigned char *)plain, n);
        rc = m < 0 ? -1 : 6 + m;
    }
    OPENSSL_cleanse(plain, sizeof plain);
    return rc;
}

static int start_json(struct job *j, char *url, struct lw_err *err)
{
    if (!url)
        return lw_err_set(err, 0, 0, "out of memory");
    char *shown = source_url_redact(url);
    int rc;
    if (!shown) {
        rc = lw_err_set(err, 0, 0, "out of memory");
    } else {
        struct http_request req;
        source_json_request(url, &req);
        req.timeout_ms = (long)j->rt->cfg->global.scrape_timeout_ms;
        struct http_header hs[2];
        char auth[LW_MAX_SECRET_BYTES * 2 + 64];
        if (j->kind == JOB_PROM && prom_auth(j->ps, auth, sizeof auth) > 0) {
            hs[0] = req.headers[0];
            hs[1] = (struct http_header){"Authorization", auth};
            req.headers = hs;
            req.n_headers = 2;
        }
        rc = req_submit(j, &req, shown, err); /* the request is copied: wipe ours now */
        OPENSSL_cleanse(auth, sizeof auth);
    }
    free(shown);
    free(url);
    return rc;
}

/* ---- CloudWatch ---------------------------------------------------------------------------- */

static void cw_done(void *ud, const struct cw_cycle_report *r)
{
    struct job *j = ud;
    struct runtime *rt = j->rt;
    struct cw_group *g = j->cw;
    if (rt->closing)
        return;
    rt->cw_stats.calls += r->calls;
    rt->cw_stats.failed_calls += r->failed_calls;
    rt->cw_stats.metrics_requested += r->metrics_requested;
    int64_t t_ms = lw_wall_ms();
    for (size_t k = 0; k < g->n_members; k++) {
        const struct cw_member *m = &g->members[k];
        const char *error = NULL, *warning = NULL;
        for (size_t q = m->q0; q < m->q0 + m->nq; q++) {
            const struct cw_query_status *s = cw_fetcher_status(g->f, q);
            if (s->state == CW_QUERY_FAILED && !error)
                error = s->message ? s->message : (r->first_error ? r->first_error : "failed");
            else if (s->state == CW_QUERY_NO_DATA && !warning)
                warning = s->message;
            else if (s->state == CW_QUERY_PENDING && !error)
                error = r->first_error ? r->first_error : "no answer from CloudWatch";
        }
        struct lw_err err;
        if (source_emit_health(&rt->sink, "cloudwatch", m->p->name, m->p->aurora->cluster,
                               &m->p->labels, error == NULL, r->duration_s, t_ms, &err) != 0)
            log_kv(LOG_LEVEL_WARN, "cannot store health series", "source", "cloudwatch", "error",
                   err.msg, NULL);
        health_set(rt, &rt->health[j->h0 + k], error == NULL, error, warning, r->duration_s);
    }
    j->in_flight = 0;
    job_finish(j);
}

/* ---- RDS ----------------------------------------------------------------------------------- */

static void log_failover(struct runtime *rt, const char *cluster)
{
    if (!rt->failover)
        return;
    for (size_t i = 0; i < failover_count(rt->failover); i++) {
        const struct failover_cluster *c = failover_at(rt->failover, i);
        if (strcmp(c->cluster, cluster) != 0)
            continue;
        static const char *const phase[] = {"none", "active", "hold"};
        log_kv(LOG_LEVEL_WARN, "failover episode", "cluster", cluster, "phase", phase[c->phase],
               "reason", c->reason ? c->reason : "", NULL);
    }
}

static void rds_clusters_done(void *ud, const struct rds_clusters *cs, const char *error)
{
    struct job *j = ud;
    struct runtime *rt = j->rt;
    if (rt->closing)
        return;
    if (error) {
        job_fail(j, error);
    } else {
        const struct rds_cluster *c = NULL;
        for (size_t i = 0; i < cs->n; i++)
            if (strcmp(cs->v[i].id, j->p->aurora->cluster) == 0)
                c = &cs->v[i];
        if (!c) {
            char msg[LW_ERR_MSG_MAX];
            snprintf(msg, sizeof msg, "DescribeDBClusters did not return cluster %s",
                     j->p->aurora->cluster);
            job_fail(j, msg);
        } else {
            const char *w = rds_cluster_writer(c);
            free(j->rds_writer);
            j->rds_writer = w ? strdup(w) : NULL;
            j->rds_cluster_ok = true;
            if (rt->failover &&
                failover_observe_cluster(rt->failover, c->id, c->status, w, lw_wall_ms()) > 0)
                log_failover(rt, c->id);
        }
    }
    if (j->in_flight > 0 && --j->in_flight == 0)
        job_finish(j);
}

static void rds_events_done(void *ud, const struct rds_events *es, const char *error)
{
    struct job *j = ud;
    struct runtime *rt = j->rt;
    if (rt->closing)
        return;
    if (error) {
        job_fail(j, error);
    } else {
        for (size_t i = 0; i < es->n; i++) {
            const struct rds_event *e = &es->v[i];
            if (e->t_ms <= j->rds_last_event_ms || !e->source_id || !e->message)
                continue; /* seen in an earlier poll: observing twice would start twice */
            j->rds_last_event_ms = e->t_ms;
            if (rt->failover && failover_observe_event(rt->failover, e->source_id, e->message,
                                                       e->t_ms, lw_wall_ms()) > 0)
                log_failover(rt, e->source_id);
        }
    }
    if (j->in_flight > 0 && --j->in_flight == 0)
        job_finish(j);
}

/* aws_rds_cluster_writer_info and lagwatch_failover_in_progress for the job's cluster, in a
 * scope of their own so a writer change makes the old writer's series stale. */
static void emit_rds_series(struct job *j)
{
    struct runtime *rt = j->rt;
    const struct config_pipeline *p = j->p;
    char scope[512];
    snprintf(scope, sizeof scope, "rds/%s", p->aurora->cluster);
    int64_t t = j->now_ms;
    struct lw_labels ls;
    struct lw_err err = {0};
    if (lw_labels_copy(&ls, &p->labels) != 0)
        return;
    source_sink_begin(&rt->sink, scope, t);
    int rc =
        lw_labels_set(&ls, "pipeline", p->name) | lw_labels_set(&ls, "cluster", p->aurora->cluster);
    if (rc == 0 && j->rds_writer && !j->failed) {
        rc |= lw_labels_set(&ls, "__name__", "aws_rds_cluster_writer_info") |
              lw_labels_set(&ls, "writer", j->rds_writer);
        if (rc == 0)
            rc = rt->sink.append(rt->sink.ud, &ls, t, 1.0, &err);
        lw_labels_del(&ls, "writer");
    }
    if (rc == 0 && rt->failover) {
        bool active = false;
        for (size_t i = 0; i < failover_count(rt->failover); i++) {
            const struct failover_cluster *c = failover_at(rt->failover, i);
            if (strcmp(c->cluster, p->aurora->cluster) == 0)
                active = c->phase == FAILOVER_ACTIVE;
        }
        rc = lw_labels_set(&ls, "__name__", "lagwatch_failover_in_progress");
        if (rc == 0)
            rc = rt->sink.append(rt->sink.ud, &ls, t, active ? 1.0 : 0.0, &err);
    }
    if (rc == 0)
        rc = source_emit_health(&rt->sink, "rds", p->name, p->aurora->cluster, &p->labels,
                                !j->failed, (double)(lw_mono_ms() - j->started_mono_ms) / 1000.0, t,
                                &err);
    source_sink_end(&rt->sink, scope, rc == 0, t);
    lw_labels_cleanup(&ls);
}

static int start_rds(struct job *j, struct lw_err *err)
{
    struct runtime *rt = j->rt;
    const struct config_pipeline *p = j->p;
    const char *region = pipeline_region(rt, p);
    char *endpoint = NULL;
    if (resolve_endpoint(rt, "rds", region, rt->cfg->aws.endpoint_rds, &endpoint, err) != 0)
        return -1;
    struct rds_target t = {rt->aws, endpoint, region};
    int64_t now_ms = lw_wall_ms();
    if (j->rds_last_event_ms == 0) {
        /* First poll: look back one hold, so an episode that ended just before a restart still
         * holds what it should; older events are history. */
        int64_t hold =
            rt->cfg->failover_hold_ms > 0 ? rt->cfg->failover_hold_ms : FAILOVER_DEFAULT_HOLD_MS;
        j->rds_last_event_ms = now_ms - hold;
    }
    j->rds_cluster_ok = false;
    int rc = rds_describe_cluster(&t, p->aurora->cluster, rds_clusters_done, j, err);
    if (rc == 0) {
        j->in_flight++;
        rc = rds_describe_failover_events(&t, p->aurora->cluster, j->rds_last_event_ms / 1000,
                                          rds_events_done, j, err);
        if (rc == 0)
            j->in_flight++;
    }
    free(endpoint);
    return rc;
}

/* ---- jobs ---------------------------------------------------------------------------------- */

/* Start one run of j. A run that cannot even start finishes at once as failed. */
static void job_start(struct job *j)
{
    struct runtime *rt = j->rt;
    if (j->running) {
        j->skipped++;
        return;
    }
    j->running = true;
    j->failed = false;
    j->err[0] = '\0';
    j->in_flight = 0;
    j->started_mono_ms = lw_mono_ms();
    j->now_ms = lw_wall_ms();
    rt->running_jobs++;
    struct lw_err err = {0};
    int rc = 0;
    switch (j->kind) {
    case JOB_EXPORTER: {
        struct source_exporter_target *t = &rt->exporters.targets[j->target];
        struct http_request req;
        source_exporter_request(t, &req);
        rc = req_submit(j, &req, t->display_url, &err);
        break;
    }
    case JOB_KC:
        rc = start_json(
            j, source_kc_status_url(j->p->kafka_connect->url, j->p->kafka_connect->connector),
            &err);
        break;
    case JOB_PROM:
        for (size_t q = 0; q < j->ps->n_queries && rc == 0; q++)
            rc = start_json(j, source_prom_query_url(j->ps->url, j->ps->queries[q]), &err);
        break;
    case JOB_CW: {
        rc = cw_fetcher_start(j->cw->f, j->now_ms / 1000, &rt->sink, cw_done, j, &err);
        if (rc == 0)
            j->in_flight = 1; /* the cycle, as one */
        break;
    }
    case JOB_RDS:
        rc = start_rds(j, &err);
        break;
    }
    if (rc != 0) {
        job_fail(j, err.msg);
        if (j->kind == JOB_CW) {
            for (size_t k = 0; k < j->nh; k++)
                health_set(rt, &rt->health[j->h0 + k], false, j->err, NULL, 0);
        }
    }
    if (j->in_flight == 0)
        job_finish(j);
}

int runtime_run_once(struct runtime *rt, int64_t timeout_ms, struct lw_err *err)
{
    for (size_t i = 0; i < rt->n_jobs; i++)
        job_start(rt->jobs[i]);
    int64_t deadline = lw_mono_ms() + timeout_ms;
    while (rt->running_jobs > 0) {
        int64_t left = deadline - lw_mono_ms();
        if (left <= 0)
            return lw_err_set(err, 0, 0, "sources did not answer within %lld ms",
                              (long long)timeout_ms);
        if (http_client_poll(rt->http, left > 100 ? 100 : (int)left) != 0)
            return lw_err_set(err, 0, 0, "HTTP client polling failed");
    }
    int failed = 0;
    for (size_t i = 0; i < rt->n_health; i++)
        if (!rt->health[i].up)
            failed++;
    return failed;
}

static void job_due(void *ud, int64_t now_ms)
{
    (void)now_ms;
    job_start(ud);
}

int runtime_schedule(struct runtime *rt, struct sched *s, int64_t now_mono_ms)
{
    for (size_t i = 0; i < rt->n_jobs; i++) {
        struct job *j = rt->jobs[i];
        if (sched_add(s, j->sched_name, j->interval_ms, job_due, j, now_mono_ms) < 0)
            return -1;
    }
    return 0;
}

size_t runtime_in_flight(const struct runtime *rt)
{
    return rt->n_reqs;
}

bool runtime_all_ran(const struct runtime *rt)
{
    for (size_t i = 0; i < rt->n_health; i++)
        if (!rt->health[i].has_run)
            return false;
    return true;
}

size_t runtime_source_count(const struct runtime *rt)
{
    return rt->n_health;
}

const struct runtime_source_health *runtime_source_at(const struct runtime *rt, size_t i)
{
    return i < rt->n_health ? &rt->health[i] : NULL;
}

void runtime_cloudwatch_stats(const struct runtime *rt, struct runtime_cloudwatch_stats *out)
{
    *out = rt->cw_stats;
}

const char *runtime_pipeline_cluster(const struct runtime *rt, const char *pipeline)
{
    const struct config_pipeline *p = config_pipeline_find(rt->cfg, pipeline);
    return p && p->aurora ? p->aurora->cluster : NULL;
}
