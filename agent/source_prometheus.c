/*
 * source_prometheus.c — the Prometheus HTTP API source's pure part: query URL, answer parsing
 * (jansson) and the hand-over to the sink (see source_prometheus.h). No I/O here.
 */
#include "lagwatch/source_prometheus.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lagwatch/expfmt.h"

char *source_prom_query_url(const char *base, const char *query)
{
    char *esc = source_url_escape(query);
    if (!esc)
        return NULL;
    size_t bl = strlen(base);
    while (bl > 0 && base[bl - 1] == '/')
        bl--;
    size_t n = bl + strlen(esc) + 32;
    char *url = malloc(n);
    if (url)
        snprintf(url, n, "%.*s/api/v1/query?query=%s", (int)bl, base, esc);
    free(esc);
    return url;
}

struct point {
    struct lw_labels ls;
    int64_t t_ms;
    double v;
};

struct points {
    struct point *v;
    size_t n, cap;
};

static void points_free(struct points *p)
{
    for (size_t i = 0; i < p->n; i++)
        lw_labels_cleanup(&p->v[i].ls);
    free(p->v);
}

/* [<unix seconds>, "<value>"] into t_ms and v. */
static int parse_pair(json_t *pair, int64_t *t_ms, double *v, const char *where, struct lw_err *err)
{
    if (!json_is_array(pair) || json_array_size(pair) != 2 ||
        !json_is_number(json_array_get(pair, 0)) || !json_is_string(json_array_get(pair, 1)))
        return lw_err_set(err, 0, 0, "Prometheus answer: %s is not [time, \"value\"]", where);
    double ts = json_number_value(json_array_get(pair, 0));
    const char *s = json_string_value(json_array_get(pair, 1));
    if (!isfinite(ts) || expfmt_parse_value(s, strlen(s), v) != 0)
        return lw_err_set(err, 0, 0, "Prometheus answer: %s has a bad time or value \"%.40s\"",
                          where, s);
    *t_ms = (int64_t)llround(ts * 1000.0);
    return 0;
}

static int add_point(struct points *pts, const struct lw_labels *ls, int64_t t_ms, double v,
                     struct lw_err *err)
{
    if (pts->n == pts->cap) {
        size_t cap = pts->cap ? pts->cap * 2 : 32;
        struct point *nv = realloc(pts->v, cap * sizeof *nv);
        if (!nv)
            return lw_err_set(err, 0, 0, "out of memory");
        pts->v = nv;
        pts->cap = cap;
    }
    if (lw_labels_copy(&pts->v[pts->n].ls, ls) != 0)
        return lw_err_set(err, 0, 0, "out of memory");
    pts->v[pts->n].t_ms = t_ms;
    pts->v[pts->n].v = v;
    pts->n++;
    return 0;
}

/* The labels of one result series: its metric, then base, then pipeline. */
static int series_labels(json_t *metric, const char *pipeline, const struct lw_labels *base,
                         struct lw_labels *ls, const char *where, struct lw_err *err)
{
    lw_labels_init(ls);
    if (!json_is_object(metric))
        return lw_err_set(err, 0, 0, "Prometheus answer: %s has no \"metric\" object", where);
    const char *k;
    json_t *v;
    json_object_foreach(metric, k, v)
    {
        if (!json_is_string(v)) {
            lw_labels_cleanup(ls);
            return lw_err_set(err, 0, 0, "Prometheus answer: %s label %s is not a string", where,
                              k);
        }
        if (lw_labels_set(ls, k, json_string_value(v)) != 0)
            goto oom;
    }
    for (size_t i = 0; base && i < base->n; i++)
        if (lw_labels_set(ls, base->v[i].name, base->v[i].value) != 0)
            goto oom;
    if (pipeline && lw_labels_set(ls, "pipeline", pipeline) != 0)
        goto oom;
    return 0;
oom:
    lw_labels_cleanup(ls);
    return lw_err_set(err, 0, 0, "out of memory");
}

static int collect(json_t *root, const char *pipeline, const struct lw_labels *base,
                   struct points *pts, struct lw_err *err)
{
    const char *status = json_string_value(json_object_get(root, "status"));
    if (status == NULL)
        return lw_err_set(err, 0, 0, "Prometheus answer: no \"status\"");
    if (strcmp(status, "success") != 0) {
        const char *et = json_string_value(json_object_get(root, "errorType"));
        const char *e = json_string_value(json_object_get(root, "error"));
        return lw_err_set(err, 0, 0, "Prometheus query failed: %s: %s", et ? et : "error",
                          e ? e : "(no message)");
    }
    json_t *data = json_object_get(root, "data");
    const char *rt = json_string_value(json_object_get(data, "resultType"));
    json_t *result = json_object_get(data, "result");
    if (rt == NULL)
        return lw_err_set(err, 0, 0, "Prometheus answer: no data.resultType");
    bool vector = strcmp(rt, "vector") == 0, matrix = strcmp(rt, "matrix") == 0;
    if (!vector && !matrix)
        return lw_err_set(err, 0, 0,
                          "Prometheus answer: resultType %s has no labels; the query must return "
                          "an instant or range vector",
                          rt);
    if (!json_is_array(result))
        return lw_err_set(err, 0, 0, "Prometheus answer: data.result is not an array");
    size_t i;
    json_t *item;
    json_array_foreach(result, i, item)
    {
        char where[40];
        snprintf(where, sizeof where, "result[%zu]", i);
        struct lw_labels ls;
        if (series_labels(json_object_get(item, "metric"), pipeline, base, &ls, where, err) != 0)
            return -1;
        int rc = 0;
        int64_t t;
        double v;
        if (vector) {
            rc = parse_pair(json_object_get(item, "value"), &t, &v, where, err);
            if (rc == 0)
                rc = add_point(pts, &ls, t, v, err);
        } else {
            json_t *values = json_object_get(item, "values");
            if (!json_is_array(values))
                rc = lw_err_set(err, 0, 0, "Prometheus answer: %s has no \"values\" array", where);
            size_t k;
            json_t *pair;
            json_array_foreach(values, k, pair)
            {
                if (rc != 0)
                    break;
                rc = parse_pair(pair, &t, &v, where, err);
                if (rc == 0)
                    rc = add_point(pts, &ls, t, v, err);
            }
        }
        lw_labels_cleanup(&ls);
        if (rc != 0)
            return -1;
    }
    return 0;
}

long source_prom_parse(const char *json, size_t len, const char *pipeline,
                       const struct lw_labels *base, const struct source_sink *sink,
                       struct lw_err *err)
{
    json_error_t jerr;
    json_t *root = json_loadb(json, len, 0, &jerr);
    if (!root)
        return lw_err_set(err, jerr.line, jerr.column, "Prometheus answer: bad JSON: %s",
                          jerr.text);
    struct points pts = {NULL, 0, 0};
    long rc = -1;
    if (!json_is_object(root)) {
        lw_err_set(err, 0, 0, "Prometheus answer: expected a JSON object");
    } else if (collect(root, pipeline, base, &pts, err) == 0) {
        rc = 0;
        for (size_t i = 0; i < pts.n && rc == 0; i++)
            rc = sink->append(sink->ud, &pts.v[i].ls, pts.v[i].t_ms, pts.v[i].v, err);
        if (rc == 0)
            rc = (long)pts.n;
    }
    points_free(&pts);
    json_decref(root);
    return rc;
}

int source_prom_process(const char *url, const char *pipeline, const struct lw_labels *base,
                        const struct source_prom_response *r, int64_t now_ms,
                        const struct source_sink *sink, struct lw_err *err)
{
    struct lw_err why;
    memset(&why, 0, sizeof why);
    bool ok = false;
    source_sink_begin(sink, url, now_ms);
    if (r->status == 0) {
        lw_err_set(&why, 0, 0, "Prometheus %s: %s", url, r->error ? r->error : "transport error");
    } else if (r->status >= 200 && r->status <= 299) {
        ok = source_prom_parse(r->body, r->body_len, pipeline, base, sink, &why) >= 0;
    } else {
        /* Prometheus explains 400/422/503 in the usual JSON envelope. */
        struct source_sink none = {NULL, NULL, NULL, NULL};
        if (source_prom_parse(r->body, r->body_len, pipeline, base, &none, &why) >= 0 ||
            strstr(why.msg, "query failed") == NULL)
            lw_err_set(&why, 0, 0, "Prometheus %s: HTTP status %d", url, r->status);
    }
    struct lw_err herr;
    if (source_emit_health(sink, "prometheus", pipeline, NULL, base, ok, r->duration_s, now_ms,
                           &herr) != 0 &&
        ok) {
        ok = false;
        why = herr;
    }
    source_sink_end(sink, url, ok, now_ms);
    if (!ok) {
        if (err)
            *err = why;
        return -1;
    }
    return 0;
}
