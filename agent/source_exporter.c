/*
 * source_exporter.c — the JMX exporter source's pure part (see source_exporter.h): targets shared
 * by pipelines, the Debezium naming translation, the keep filter, pipeline assignment, and the
 * all-or-nothing hand-over of one parsed page to the sink. The HTTP fetch lives in
 * source_fetch.c so that everything here runs in unit tests without a network.
 */
#include "lagwatch/source_exporter.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/*
 * The attributes of Debezium's MySQL connector MBeans (streaming, snapshot, schema history; most
 * are shared with the other connectors) in Debezium's spelling. The rule-less exporter prints
 * them lower-cased; the debezium-examples rules keep this spelling. Debezium < 1.2's
 * SecondsBehindMaster / SecondsSinceLastEvent are deliberately absent (they no longer exist).
 */
static const char *const debezium_attributes[] = {
    /* streaming (all connectors) */
    "LastEvent", "MilliSecondsSinceLastEvent", "TotalNumberOfEventsSeen",
    "TotalNumberOfCreateEventsSeen", "TotalNumberOfUpdateEventsSeen",
    "TotalNumberOfDeleteEventsSeen", "NumberOfEventsFiltered", "NumberOfErroneousEvents",
    "CapturedTables", "QueueTotalCapacity", "QueueRemainingCapacity", "MaxQueueSizeInBytes",
    "CurrentQueueSizeInBytes", "Connected", "MilliSecondsBehindSource",
    "NumberOfCommittedTransactions", "SourceEventPosition", "LastTransactionId",
    /* streaming (MySQL) */
    "BinlogFilename", "BinlogPosition", "IsGtidModeEnabled", "GtidSet", "NumberOfSkippedEvents",
    "NumberOfDisconnects", "NumberOfRolledBackTransactions", "NumberOfNotWellFormedTransactions",
    "NumberOfLargeTransactions",
    /* snapshot */
    "TotalTableCount", "RemainingTableCount", "SnapshotRunning", "SnapshotPaused",
    "SnapshotAborted", "SnapshotCompleted", "SnapshotDurationInSeconds",
    "SnapshotPausedDurationInSeconds", "RowsScanned", "ChunkId", "ChunkFrom", "ChunkTo",
    "TableFrom", "TableTo",
    /* schema history */
    "Status", "RecoveryStartTime", "ChangesRecovered", "ChangesApplied",
    "MilliSecondsSinceLastRecoveredChange", "MilliSecondsSinceLastAppliedChange",
    "LastRecoveredChange", "LastAppliedChange"};

#define DBZ_CANONICAL_PREFIX "debezium_metrics_"
#define DBZ_RULELESS_INFIX   "_connector_metrics_"

const char *source_debezium_attribute(const char *name, size_t len)
{
    for (size_t i = 0; i < sizeof debezium_attributes / sizeof debezium_attributes[0]; i++) {
        const char *a = debezium_attributes[i];
        if (strlen(a) == len && strncasecmp(a, name, len) == 0)
            return a;
    }
    return NULL;
}

const char *source_debezium_attribute_at(size_t i)
{
    return i < sizeof debezium_attributes / sizeof debezium_attributes[0] ? debezium_attributes[i]
                                                                          : NULL;
}

/* For a rule-less Debezium name, the plugin ("mysql", "sql_server") and the attribute's Debezium
 * spelling; false for any other name. */
static bool ruleless_parts(const char *name, const char **plugin, size_t *plugin_len,
                           const char **attr)
{
    static const char pre[] = "debezium_";
    if (strncmp(name, pre, sizeof pre - 1) != 0 ||
        strncmp(name, DBZ_CANONICAL_PREFIX, sizeof DBZ_CANONICAL_PREFIX - 1) == 0)
        return false;
    const char *p = name + sizeof pre - 1;
    const char *infix = strstr(p, DBZ_RULELESS_INFIX);
    if (infix == NULL || infix == p)
        return false;
    const char *a = infix + sizeof DBZ_RULELESS_INFIX - 1;
    const char *spelled = source_debezium_attribute(a, strlen(a));
    if (spelled == NULL)
        return false;
    *plugin = p;
    *plugin_len = (size_t)(infix - p);
    *attr = spelled;
    return true;
}

int source_debezium_canonical(const struct lw_labels *in, struct lw_labels *out, bool *translated)
{
    const char *name = lw_labels_get(in, "__name__");
    const char *plugin, *attr;
    size_t plugin_len;
    if (name == NULL || !ruleless_parts(name, &plugin, &plugin_len, &attr)) {
        if (lw_labels_copy(out, in) != 0)
            return -1;
        *translated = false;
        return 0;
    }
    lw_labels_init(out);
    char cname[128];
    snprintf(cname, sizeof cname, "%s%s", DBZ_CANONICAL_PREFIX, attr);
    bool rows = strcmp(attr, "RowsScanned") == 0;
    for (size_t i = 0; i < in->n; i++) {
        const char *n = in->v[i].name, *v = in->v[i].value;
        int rc;
        if (strcmp(n, "__name__") == 0)
            rc = lw_labels_set(out, "__name__", cname);
        else if (strcmp(n, "server") == 0)
            rc = lw_labels_set(out, "name", v);
        else if (rows && strcmp(n, "key") == 0)
            rc = lw_labels_set(out, "table", v);
        else
            rc = lw_labels_set(out, n, v);
        if (rc != 0)
            goto oom;
    }
    if (lw_labels_setn(out, "plugin", 6, plugin, plugin_len) != 0)
        goto oom;
    *translated = true;
    return 0;
oom:
    lw_labels_cleanup(out);
    return -1;
}

/* ---- targets ---- */

void source_exporter_set_init(struct source_exporter_set *s)
{
    s->targets = NULL;
    s->n = s->cap = 0;
}

static void pipeline_cleanup(struct source_pipeline *p)
{
    free(p->name);
    free(p->server);
    free(p->connector);
    lw_labels_cleanup(&p->labels);
}

void source_exporter_set_cleanup(struct source_exporter_set *s)
{
    for (size_t i = 0; i < s->n; i++) {
        struct source_exporter_target *t = &s->targets[i];
        for (size_t k = 0; k < t->n_pipelines; k++)
            pipeline_cleanup(&t->pipelines[k]);
        free(t->pipelines);
        free(t->url);
        free(t->display_url);
        free(t->instance);
        lw_matcher_cleanup(&t->keep);
    }
    free(s->targets);
    source_exporter_set_init(s);
}

/* host:port of a URL, without scheme, credentials, path or query. */
static char *url_instance(const char *url)
{
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    size_t n = strcspn(p, "/?#");
    const char *at = memchr(p, '@', n);
    if (at) {
        n -= (size_t)(at + 1 - p);
        p = at + 1;
    }
    return strndup(p, n);
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

int source_exporter_add(struct source_exporter_set *s, const char *url,
                        const struct source_pipeline *p, const char *keep_regex,
                        bool prefer_openmetrics, struct lw_err *err)
{
    struct source_exporter_target *t = NULL;
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->targets[i].url, url) == 0)
            t = &s->targets[i];
    if (t == NULL) {
        if (s->n == s->cap) {
            size_t cap = s->cap ? s->cap * 2 : 4;
            struct source_exporter_target *nt = realloc(s->targets, cap * sizeof *nt);
            if (!nt)
                return lw_err_set(err, 0, 0, "out of memory");
            s->targets = nt;
            s->cap = cap;
        }
        t = &s->targets[s->n];
        memset(t, 0, sizeof *t);
        if (lw_matcher_init(&t->keep, LW_MATCH_RE, "__name__",
                            keep_regex ? keep_regex : SOURCE_EXPORTER_DEFAULT_KEEP, err) != 0)
            return -1;
        t->url = strdup(url);
        t->instance = url_instance(url);
        t->display_url = source_url_redact(url);
        if (!t->url || !t->instance || !t->display_url) {
            free(t->url);
            free(t->instance);
            free(t->display_url);
            lw_matcher_cleanup(&t->keep);
            return lw_err_set(err, 0, 0, "out of memory");
        }
        t->prefer_openmetrics = prefer_openmetrics;
        t->timeout_ms = 10000;
        expfmt_limits_default(&t->limits);
        s->n++;
    }
    struct source_pipeline *np = realloc(t->pipelines, (t->n_pipelines + 1) * sizeof *t->pipelines);
    if (!np)
        return lw_err_set(err, 0, 0, "out of memory");
    t->pipelines = np;
    struct source_pipeline *d = &t->pipelines[t->n_pipelines];
    memset(d, 0, sizeof *d);
    d->name = dup_or_null(p->name);
    d->server = dup_or_null(p->server);
    d->connector = dup_or_null(p->connector);
    if (lw_labels_copy(&d->labels, &p->labels) != 0 || (p->name && !d->name) ||
        (p->server && !d->server) || (p->connector && !d->connector)) {
        pipeline_cleanup(d);
        return lw_err_set(err, 0, 0, "out of memory");
    }
    t->n_pipelines++;
    return 0;
}

/* ---- one page ---- */

struct kept {
    struct lw_labels ls;
    int64_t t_ms;
    double v;
};

struct page {
    struct source_exporter_target *t;
    int64_t now_ms;
    struct kept *v;
    size_t n, cap;
};

static void page_free(struct page *pg)
{
    for (size_t i = 0; i < pg->n; i++)
        lw_labels_cleanup(&pg->v[i].ls);
    free(pg->v);
}

/* Keep ls (taking it over) with pipeline p's labels (p NULL: none) and instance. */
static int page_keep(struct page *pg, const struct lw_labels *ls, const struct source_pipeline *p,
                     const struct expfmt_sample *s, struct lw_err *err)
{
    if (pg->n == pg->cap) {
        size_t cap = pg->cap ? pg->cap * 2 : 64;
        struct kept *nv = realloc(pg->v, cap * sizeof *nv);
        if (!nv)
            return lw_err_set(err, 0, 0, "out of memory");
        pg->v = nv;
        pg->cap = cap;
    }
    struct kept *k = &pg->v[pg->n];
    if (lw_labels_copy(&k->ls, ls) != 0)
        return lw_err_set(err, 0, 0, "out of memory");
    int rc = 0;
    if (p) {
        for (size_t i = 0; i < p->labels.n && rc == 0; i++)
            rc = lw_labels_set(&k->ls, p->labels.v[i].name, p->labels.v[i].value);
        if (rc == 0)
            rc = lw_labels_set(&k->ls, "pipeline", p->name);
    }
    if (rc == 0)
        rc = lw_labels_set(&k->ls, "instance", pg->t->instance);
    if (rc != 0) {
        lw_labels_cleanup(&k->ls);
        return lw_err_set(err, 0, 0, "out of memory");
    }
    k->t_ms = s->has_timestamp ? s->t_ms : pg->now_ms;
    k->v = s->value;
    pg->n++;
    return 0;
}

/* Whether a Debezium `name` label belongs to server: equal, or "server, task=N" as the
 * debezium-examples rules capture it for MBeans with a task key. */
static bool server_matches(const char *name, const char *server)
{
    size_t n = strlen(server);
    return strncmp(name, server, n) == 0 && (name[n] == '\0' || name[n] == ',');
}

static int page_sample(void *ud, const struct expfmt_sample *s, struct lw_err *err)
{
    struct page *pg = ud;
    struct source_exporter_target *t = pg->t;
    const char *plugin, *attr;
    size_t plugin_len;
    char cname[160];
    const char *name = s->name;
    bool ruleless = ruleless_parts(name, &plugin, &plugin_len, &attr);
    if (ruleless) {
        snprintf(cname, sizeof cname, "%s%s", DBZ_CANONICAL_PREFIX, attr);
        name = cname;
    }
    if (!lw_matcher_matches(&t->keep, name))
        return 0;
    struct lw_labels ls;
    bool translated;
    if (source_debezium_canonical(s->labels, &ls, &translated) != 0)
        return lw_err_set(err, 0, 0, "out of memory");
    int rc = 0;
    const char *key = NULL;
    bool debezium = strncmp(name, "debezium_", 9) == 0;
    if (debezium) {
        /* canonical naming says name=; an attribute the translation does not know keeps the
         * rule-less server= */
        key = lw_labels_get(&ls, "name");
        if (key == NULL)
            key = lw_labels_get(&ls, "server");
    } else
        key = lw_labels_get(&ls, "connector");
    if (key == NULL) {
        rc = page_keep(pg, &ls, NULL, s, err);
    } else {
        for (size_t i = 0; i < t->n_pipelines && rc == 0; i++) {
            const struct source_pipeline *p = &t->pipelines[i];
            bool mine = debezium ? (p->server && server_matches(key, p->server))
                                 : (p->connector && strcmp(key, p->connector) == 0);
            if (mine)
                rc = page_keep(pg, &ls, p, s, err);
        }
    }
    lw_labels_cleanup(&ls);
    return rc;
}

static int emit_health(struct source_exporter_target *t, const struct source_sink *sink, bool up,
                       double duration_s, int64_t now_ms, struct lw_err *err)
{
    if (t->n_pipelines == 0)
        return source_emit_health(sink, "debezium", NULL, t->instance, NULL, up, duration_s, now_ms,
                                  err);
    for (size_t i = 0; i < t->n_pipelines; i++) {
        const struct source_pipeline *p = &t->pipelines[i];
        if (source_emit_health(sink, "debezium", p->name, t->instance, &p->labels, up, duration_s,
                               now_ms, err) != 0)
            return -1;
    }
    return 0;
}

int source_exporter_process(struct source_exporter_target *t,
                            const struct source_exporter_response *r, int64_t now_ms,
                            const struct source_sink *sink, struct lw_err *err)
{
    struct lw_err why;
    memset(&why, 0, sizeof why);
    struct page pg = {t, now_ms, NULL, 0, 0};
    bool ok = false;
    source_sink_begin(sink, t->url, now_ms);
    if (r->status == 0) {
        lw_err_set(&why, 0, 0, "scrape %s: %s", t->display_url,
                   r->error ? r->error : "transport error");
    } else if (r->status < 200 || r->status > 299) {
        lw_err_set(&why, 0, 0, "scrape %s: HTTP status %d", t->display_url, r->status);
    } else {
        enum expfmt_format fmt = expfmt_format_from_content_type(r->content_type);
        if (expfmt_parse_buf(fmt, r->body, r->body_len, &t->limits, page_sample, &pg, &why) != 0) {
            char pos[LW_ERR_MSG_MAX + LW_ERR_FILE_MAX + 64];
            lw_err_format(&why, pos, sizeof pos);
            lw_err_set(&why, why.line, why.col, "scrape %s: %s: %s", t->display_url,
                       fmt == EXPFMT_OPENMETRICS_1 ? "OpenMetrics" : "text format", pos);
        } else {
            ok = true;
        }
    }
    int rc = 0;
    if (ok) {
        for (size_t i = 0; i < pg.n && rc == 0; i++)
            rc = sink->append(sink->ud, &pg.v[i].ls, pg.v[i].t_ms, pg.v[i].v, err);
        if (rc != 0)
            snprintf(why.msg, sizeof why.msg, "%s", err ? err->msg : "sink refused a sample");
        ok = rc == 0;
    }
    t->last_ok = ok;
    t->last_samples = ok ? pg.n : 0;
    snprintf(t->last_error, sizeof t->last_error, "%s", ok ? "" : why.msg);
    page_free(&pg);
    struct lw_err herr;
    if (emit_health(t, sink, ok, r->duration_s, now_ms, &herr) != 0 && ok) {
        ok = false;
        why = herr;
    }
    source_sink_end(sink, t->url, ok, now_ms);
    if (!ok) {
        if (err)
            *err = why;
        return -1;
    }
    return 0;
}
