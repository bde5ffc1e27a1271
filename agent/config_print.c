/*
 * config_print.c — `lagwatch validate --print`: the effective config as YAML, every default filled
 * in, durations in Prometheus form, URLs without their user:password part, and every secret
 * (bearer tokens, passwords, receiver URLs and keys, inline or from *_file) shown as "<secret>".
 * The tree is built as yamldoc nodes and written by libyaml's emitter, so the output is valid
 * YAML that parses back to the same config.
 */
#include <stdlib.h>
#include <string.h>

#include "lagwatch/config.h"
#include "lagwatch/duration.h"
#include "lagwatch/source.h"
#include "lagwatch/source_exporter.h"

/* Whether text may be written unquoted without turning into a non-string on reading back. */
static bool plain_safe(const char *s)
{
    static const char *const special[] = {"",     "~",    "null",  "Null",  "NULL",  "true",
                                          "True", "TRUE", "false", "False", "FALSE", "yes",
                                          "no",   "on",   "off",   "y",     "n",     NULL};
    for (const char *const *p = special; *p; p++)
        if (strcmp(s, *p) == 0)
            return false;
    return !((s[0] >= '0' && s[0] <= '9') || s[0] == '-' || s[0] == '+' || s[0] == '.');
}

static struct yamldoc_node *str(const char *s)
{
    return yamldoc_node_new_scalar(s, plain_safe(s));
}

static struct yamldoc_node *dur(int64_t ms)
{
    char buf[32];
    return yamldoc_node_new_scalar(duration_format(ms, buf, sizeof buf), true);
}

static struct yamldoc_node *boolean(bool b)
{
    return yamldoc_node_new_scalar(b ? "true" : "false", true);
}

static struct yamldoc_node *secret(void)
{
    return yamldoc_node_new_scalar("<secret>", false);
}

/* A URL as printed: credentials dropped. */
static struct yamldoc_node *url(const char *u)
{
    char *clean = source_url_redact(u);
    if (clean == NULL)
        return NULL;
    struct yamldoc_node *n = str(clean);
    free(clean);
    return n;
}

static struct yamldoc_node *str_list(char *const *v, size_t n, bool urls)
{
    struct yamldoc_node *seq = yamldoc_node_new(YAMLDOC_SEQ);
    for (size_t i = 0; seq && i < n; i++)
        if (yamldoc_node_append(seq, urls ? url(v[i]) : str(v[i])) != 0) {
            yamldoc_node_free(seq);
            return NULL;
        }
    return seq;
}

static struct yamldoc_node *labels(const struct lw_labels *ls)
{
    struct yamldoc_node *m = yamldoc_node_new(YAMLDOC_MAP);
    for (size_t i = 0; m && i < ls->n; i++)
        if (yamldoc_node_map_put(m, ls->v[i].name, str(ls->v[i].value)) != 0) {
            yamldoc_node_free(m);
            return NULL;
        }
    return m;
}

/* A copy of an Alertmanager-format subtree with every secret value replaced. */
static struct yamldoc_node *redacted_copy(const struct yamldoc_node *n)
{
    if (n->kind == YAMLDOC_SCALAR)
        return yamldoc_node_copy(n);
    struct yamldoc_node *c = yamldoc_node_new(n->kind);
    if (c == NULL)
        return NULL;
    for (size_t i = 0; i < n->n; i++) {
        const struct yamldoc_node *item = n->items[i];
        bool hide = n->kind == YAMLDOC_MAP && i % 2 == 1 && !yamldoc_is_null(item) &&
                    n->items[i - 1]->kind == YAMLDOC_SCALAR &&
                    config_key_is_secret(n->items[i - 1]->scalar, NULL);
        if (yamldoc_node_append(c, hide ? secret() : redacted_copy(item)) != 0) {
            yamldoc_node_free(c);
            return NULL;
        }
    }
    return c;
}

/* map_put that tolerates a NULL map from an earlier failure; the caller checks `ok` once. */
static void put(struct yamldoc_node *m, const char *key, struct yamldoc_node *v, bool *ok)
{
    if (!*ok || m == NULL) {
        yamldoc_node_free(v);
        *ok = false;
        return;
    }
    if (yamldoc_node_map_put(m, key, v) != 0)
        *ok = false;
}

static struct yamldoc_node *pipeline_node(const struct config *cfg, const struct config_pipeline *p,
                                          bool *ok)
{
    struct yamldoc_node *m = yamldoc_node_new(YAMLDOC_MAP);
    put(m, "name", str(p->name), ok);
    put(m, "labels", labels(&p->labels), ok);
    if (p->aurora) {
        const struct config_aurora *a = p->aurora;
        struct yamldoc_node *am = yamldoc_node_new(YAMLDOC_MAP);
        put(am, "cluster", str(a->cluster), ok);
        const char *region = a->region ? a->region : cfg->aws.region;
        if (region)
            put(am, "region", str(region), ok);
        put(am, "interval", dur(a->interval_ms), ok);
        put(am, "period", dur(a->period_ms), ok);
        put(am, "metrics", str_list(a->metrics, a->n_metrics, false), ok);
        put(am, "failover_detection", boolean(a->failover_detection), ok);
        put(m, "aurora", am, ok);
    }
    if (p->debezium) {
        const struct config_debezium *z = p->debezium;
        struct yamldoc_node *zm = yamldoc_node_new(YAMLDOC_MAP);
        put(zm, "exporter", str_list(z->exporters, z->n_exporters, true), ok);
        put(zm, "server", str(z->server), ok);
        put(zm, "keep", str(z->keep ? z->keep : SOURCE_EXPORTER_DEFAULT_KEEP), ok);
        put(m, "debezium", zm, ok);
    }
    if (p->kafka_connect) {
        struct yamldoc_node *km = yamldoc_node_new(YAMLDOC_MAP);
        put(km, "url", url(p->kafka_connect->url), ok);
        put(km, "connector", str(p->kafka_connect->connector), ok);
        put(m, "kafka_connect", km, ok);
    }
    return m;
}

static struct yamldoc_node *prom_node(const struct config_prometheus_source *s, bool *ok)
{
    struct yamldoc_node *m = yamldoc_node_new(YAMLDOC_MAP);
    put(m, "name", str(s->name), ok);
    put(m, "url", url(s->url), ok);
    put(m, "queries", str_list(s->queries, s->n_queries, false), ok);
    if (s->pipeline)
        put(m, "pipeline", str(s->pipeline), ok);
    put(m, "interval", dur(s->interval_ms), ok);
    if (s->bearer_token)
        put(m, "bearer_token", secret(), ok);
    if (s->basic_username) {
        struct yamldoc_node *b = yamldoc_node_new(YAMLDOC_MAP);
        put(b, "username", str(s->basic_username), ok);
        if (s->basic_password)
            put(b, "password", secret(), ok);
        put(m, "basic_auth", b, ok);
    }
    return m;
}

static struct yamldoc_node *config_tree(const struct config *cfg, bool *ok)
{
    static const char *const no_data[] = {"keep_state", "ok", "alerting"};
    struct yamldoc_node *root = yamldoc_node_new(YAMLDOC_MAP);
    const struct config_global *g = &cfg->global;
    struct yamldoc_node *gm = yamldoc_node_new(YAMLDOC_MAP);
    put(gm, "scrape_interval", dur(g->scrape_interval_ms), ok);
    put(gm, "scrape_timeout", dur(g->scrape_timeout_ms), ok);
    put(gm, "evaluation_interval", dur(g->evaluation_interval_ms), ok);
    put(gm, "notification_max_age", dur(g->notification_max_age_ms), ok);
    put(gm, "state_dir", str(g->state_dir), ok);
    put(gm, "listen", str(g->listen), ok);
    put(gm, "external_url", url(g->external_url), ok);
    put(gm, "external_labels", labels(&g->external_labels), ok);
    put(root, "global", gm, ok);

    struct yamldoc_node *am = yamldoc_node_new(YAMLDOC_MAP);
    if (cfg->aws.region)
        put(am, "region", str(cfg->aws.region), ok);
    if (cfg->aws.profile)
        put(am, "profile", str(cfg->aws.profile), ok);
    if (cfg->aws.access_key_id) {
        put(am, "access_key_id", secret(), ok);
        put(am, "secret_access_key", secret(), ok);
    }
    if (cfg->aws.session_token)
        put(am, "session_token", secret(), ok);
    if (cfg->aws.endpoint_cloudwatch || cfg->aws.endpoint_rds || cfg->aws.endpoint_sts) {
        struct yamldoc_node *em = yamldoc_node_new(YAMLDOC_MAP);
        if (cfg->aws.endpoint_cloudwatch)
            put(em, "cloudwatch", url(cfg->aws.endpoint_cloudwatch), ok);
        if (cfg->aws.endpoint_rds)
            put(em, "rds", url(cfg->aws.endpoint_rds), ok);
        if (cfg->aws.endpoint_sts)
            put(em, "sts", url(cfg->aws.endpoint_sts), ok);
        put(am, "endpoints", em, ok);
    }
    put(root, "aws", am, ok);

    struct yamldoc_node *ps = yamldoc_node_new(YAMLDOC_SEQ);
    for (size_t i = 0; ps && i < cfg->n_pipelines; i++)
        if (yamldoc_node_append(ps, pipeline_node(cfg, &cfg->pipelines[i], ok)) != 0)
            *ok = false;
    put(root, "pipelines", ps, ok);

    if (cfg->n_prometheus_sources) {
        struct yamldoc_node *prs = yamldoc_node_new(YAMLDOC_SEQ);
        for (size_t i = 0; prs && i < cfg->n_prometheus_sources; i++)
            if (yamldoc_node_append(prs, prom_node(&cfg->prometheus_sources[i], ok)) != 0)
                *ok = false;
        put(root, "prometheus_sources", prs, ok);
    }
    put(root, "rule_files", str_list(cfg->rule_files, cfg->n_rule_files, false), ok);
    struct yamldoc_node *ros = yamldoc_node_new(YAMLDOC_SEQ);
    for (size_t i = 0; ros && i < cfg->n_rule_options; i++) {
        struct yamldoc_node *o = yamldoc_node_new(YAMLDOC_MAP);
        put(o, "alert", str(cfg->rule_options[i].alert), ok);
        put(o, "no_data", str(no_data[cfg->rule_options[i].no_data]), ok);
        if (yamldoc_node_append(ros, o) != 0)
            *ok = false;
    }
    put(root, "rule_options", ros, ok);

    struct yamldoc_node *sup = yamldoc_node_new(YAMLDOC_MAP);
    struct yamldoc_node *fo = yamldoc_node_new(YAMLDOC_MAP);
    put(fo, "enabled", boolean(cfg->failover_hold_enabled), ok);
    put(fo, "hold", dur(cfg->failover_hold_ms), ok);
    put(sup, "failover", fo, ok);
    put(root, "suppression", sup, ok);

    const struct {
        const char *key;
        const struct yamldoc_node *n;
    } notify[] = {{"route", cfg->route},
                  {"receivers", cfg->receivers},
                  {"inhibit_rules", cfg->inhibit_rules},
                  {"time_intervals", cfg->time_intervals},
                  {"mute_time_intervals", cfg->mute_time_intervals},
                  {"silences", cfg->silences}};
    for (size_t i = 0; i < sizeof notify / sizeof notify[0]; i++)
        if (notify[i].n)
            put(root, notify[i].key, redacted_copy(notify[i].n), ok);
    return root;
}

int config_print(const struct config *cfg, struct lw_buf *out)
{
    bool ok = true;
    struct yamldoc_node *root = config_tree(cfg, &ok);
    int rc = ok && root ? yamldoc_emit(root, NULL, NULL, out) : -1;
    yamldoc_node_free(root);
    return rc;
}
