/*
 * source_fetch.c — the sources' HTTP edge (see source_fetch.h): requests go through the shared
 * libcurl-multi client of http.h, answers go to the pure processing functions. Nothing here
 * interprets a body.
 */
#include "lagwatch/source_fetch.h"

#include <stdlib.h>
#include <string.h>

#include "lagwatch/limits.h"
#include "lagwatch/log.h"

void source_exporter_request(const struct source_exporter_target *t, struct http_request *req)
{
    static struct http_header accept[1];
    accept[0].name = "Accept";
    accept[0].value = expfmt_accept_header(t->prefer_openmetrics);
    memset(req, 0, sizeof *req);
    req->method = "GET";
    req->url = t->url;
    req->headers = accept;
    req->n_headers = 1;
    req->timeout_ms = t->timeout_ms;
    req->max_body_bytes = t->limits.max_bytes;
    req->accept_gzip = true;
    req->follow_redirects = true;
}

static void exporter_answer(struct source_exporter_target *t, const struct http_response *resp,
                            const struct source_sink *sink, int64_t now_ms, struct lw_err *err,
                            int *rc)
{
    struct source_exporter_response r = {
        resp->status,
        resp->error,
        http_response_header(resp, "Content-Type"),
        resp->body ? resp->body : "",
        resp->body ? resp->body_len : 0,
        resp->total_s,
    };
    *rc = source_exporter_process(t, &r, now_ms, sink, err);
}

struct exporter_ctx {
    struct source_exporter_target *t;
    struct source_sink sink;
    int64_t now_ms;
};

static void exporter_done(void *ud, const struct http_response *resp)
{
    struct exporter_ctx *ctx = ud;
    struct lw_err err;
    int rc;
    exporter_answer(ctx->t, resp, &ctx->sink, ctx->now_ms, &err, &rc);
    if (rc != 0)
        log_kv(LOG_LEVEL_WARN, "scrape failed", "source", "debezium", "target", ctx->t->display_url,
               "error", err.msg, NULL);
    free(ctx);
}

int source_exporter_submit(struct http_client *c, struct source_exporter_target *t,
                           const struct source_sink *sink, int64_t now_ms, struct lw_err *err)
{
    struct exporter_ctx *ctx = malloc(sizeof *ctx);
    if (!ctx)
        return lw_err_set(err, 0, 0, "out of memory");
    ctx->t = t;
    ctx->sink = *sink;
    ctx->now_ms = now_ms;
    struct http_request req;
    source_exporter_request(t, &req);
    if (http_submit(c, &req, exporter_done, ctx, err) != 0) {
        free(ctx);
        return -1;
    }
    return 0;
}

int source_exporter_fetch(struct http_client *c, struct source_exporter_target *t,
                          const struct source_sink *sink, int64_t now_ms, struct lw_err *err)
{
    struct http_request req;
    source_exporter_request(t, &req);
    struct http_response resp;
    if (http_fetch_sync(c, &req, &resp, err) != 0)
        return -1;
    int rc;
    exporter_answer(t, &resp, sink, now_ms, err, &rc);
    http_response_cleanup(&resp);
    return rc;
}

static const struct http_header json_accept[] = {{"Accept", "application/json"}};

void source_json_request(const char *url, struct http_request *req)
{
    memset(req, 0, sizeof *req);
    req->method = "GET";
    req->url = url;
    req->headers = json_accept;
    req->n_headers = 1;
    req->max_body_bytes = LW_MAX_HTTP_BODY_BYTES;
    req->accept_gzip = true;
}

/* GET url and wait; *resp owned by the caller on 0. */
static int get_json(struct http_client *c, const char *url, struct http_response *resp,
                    struct lw_err *err)
{
    struct http_request req;
    source_json_request(url, &req);
    return http_fetch_sync(c, &req, resp, err);
}

/* An asynchronous JSON source request: what the answer needs to be processed. */
struct json_ctx {
    bool kafka_connect; /* else Prometheus */
    char *url;          /* redacted, the scope */
    char *connector;
    const char *pipeline;
    const struct lw_labels *base;
    struct source_sink sink;
    int64_t now_ms;
};

static void json_done(void *ud, const struct http_response *resp)
{
    struct json_ctx *x = ud;
    struct lw_err err;
    int rc;
    const char *body = resp->body ? resp->body : "";
    size_t len = resp->body ? resp->body_len : 0;
    if (x->kafka_connect) {
        struct source_kc_response r = {resp->status, resp->error, body, len, resp->total_s};
        rc = source_kc_process(x->url, x->connector, x->pipeline, x->base, &r, x->now_ms, &x->sink,
                               NULL, &err);
    } else {
        struct source_prom_response r = {resp->status, resp->error, body, len, resp->total_s};
        rc = source_prom_process(x->url, x->pipeline, x->base, &r, x->now_ms, &x->sink, &err);
    }
    if (rc != 0)
        log_kv(LOG_LEVEL_WARN, "source failed", "source",
               x->kafka_connect ? "kafka_connect" : "prometheus", "pipeline",
               x->pipeline ? x->pipeline : "", "error", err.msg, NULL);
    free(x->url);
    free(x->connector);
    free(x);
}

static int json_submit(struct http_client *c, char *url, bool kc, const char *connector,
                       const char *pipeline, const struct lw_labels *base,
                       const struct source_sink *sink, int64_t now_ms, struct lw_err *err)
{
    struct json_ctx *x = calloc(1, sizeof *x);
    if (!x) {
        free(url);
        return lw_err_set(err, 0, 0, "out of memory");
    }
    x->kafka_connect = kc;
    x->url = source_url_redact(url);
    x->connector = connector ? strdup(connector) : NULL;
    x->pipeline = pipeline;
    x->base = base;
    x->sink = *sink;
    x->now_ms = now_ms;
    struct http_request req;
    source_json_request(url, &req);
    int rc = -1;
    if (!x->url || (connector && !x->connector))
        lw_err_set(err, 0, 0, "out of memory");
    else
        rc = http_submit(c, &req, json_done, x, err);
    free(url);
    if (rc != 0) {
        free(x->url);
        free(x->connector);
        free(x);
    }
    return rc;
}

int source_kc_submit(struct http_client *c, const char *base_url, const char *connector,
                     const char *pipeline, const struct lw_labels *base,
                     const struct source_sink *sink, int64_t now_ms, struct lw_err *err)
{
    char *url = source_kc_status_url(base_url, connector);
    if (!url)
        return lw_err_set(err, 0, 0, "out of memory");
    return json_submit(c, url, true, connector, pipeline, base, sink, now_ms, err);
}

int source_prom_submit(struct http_client *c, const char *base_url, const char *query,
                       const char *pipeline, const struct lw_labels *base,
                       const struct source_sink *sink, int64_t now_ms, struct lw_err *err)
{
    char *url = source_prom_query_url(base_url, query);
    if (!url)
        return lw_err_set(err, 0, 0, "out of memory");
    return json_submit(c, url, false, NULL, pipeline, base, sink, now_ms, err);
}

int source_kc_fetch(struct http_client *c, const char *base_url, const char *connector,
                    const char *pipeline, const struct lw_labels *base,
                    const struct source_sink *sink, int64_t now_ms, struct source_kc_status *out,
                    struct lw_err *err)
{
    char *url = source_kc_status_url(base_url, connector);
    if (!url)
        return lw_err_set(err, 0, 0, "out of memory");
    struct http_response resp;
    int rc = get_json(c, url, &resp, err);
    if (rc == 0) {
        struct source_kc_response r = {resp.status, resp.error, resp.body ? resp.body : "",
                                       resp.body ? resp.body_len : 0, resp.total_s};
        char *shown = source_url_redact(url);
        rc = source_kc_process(shown ? shown : url, connector, pipeline, base, &r, now_ms, sink,
                               out, err);
        free(shown);
        http_response_cleanup(&resp);
    }
    free(url);
    return rc;
}

int source_prom_fetch(struct http_client *c, const char *base_url, const char *query,
                      const char *pipeline, const struct lw_labels *base,
                      const struct source_sink *sink, int64_t now_ms, struct lw_err *err)
{
    char *url = source_prom_query_url(base_url, query);
    if (!url)
        return lw_err_set(err, 0, 0, "out of memory");
    struct http_response resp;
    int rc = get_json(c, url, &resp, err);
    if (rc == 0) {
        struct source_prom_response r = {resp.status, resp.error, resp.body ? resp.body : "",
                                         resp.body ? resp.body_len : 0, resp.total_s};
        char *shown = source_url_redact(url);
        rc = source_prom_process(shown ? shown : url, pipeline, base, &r, now_ms, sink, err);
        free(shown);
        http_response_cleanup(&resp);
    }
    free(url);
    return rc;
}
