/*
 * api_ops.c — silences and failover episodes over HTTP (see api_ops.h). Replies use
 * Alertmanager's field names where Alertmanager has the same concept (silences), so scripts
 * written for amtool's JSON read these too.
 */
#include "lagwatch/api_ops.h"

#include <jansson.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lagwatch/amatcher.h"
#include "lagwatch/duration.h"
#include "lagwatch/log.h"
#include "lagwatch/rfc3339.h"

#define SILENCE_DEFAULT_DURATION_MS (60LL * 60 * 1000)

static int reply_json(struct httpd_reply *r, int status, json_t *doc)
{
    r->status = status;
    r->content_type = "application/json";
    char *s = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    if (!s)
        return -1;
    lw_buf_adds(&r->body, s);
    free(s);
    return 0;
}

static int reply_error(struct httpd_reply *r, int status, const char *msg)
{
    return reply_json(r, status, json_pack("{s:s, s:s}", "status", "error", "error", msg));
}

static json_t *time_json(int64_t ms)
{
    char b[RFC3339_MAX];
    return json_string(rfc3339_format(ms, b, sizeof(b)));
}

static json_t *silence_json(const struct silence *s, int64_t now)
{
    json_t *ms = json_array();
    for (size_t k = 0; k < s->n_matchers; k++) {
        struct lw_buf b;
        lw_buf_init(&b, 1u << 20);
        amatcher_format(&s->matchers[k], &b);
        json_array_append_new(ms, json_string(lw_buf_str(&b)));
        lw_buf_cleanup(&b);
    }
    const char *status = now < s->starts_at_ms ? "pending"
                         : now < s->ends_at_ms ? "active"
                                               : "expired";
    return json_pack("{s:s, s:o, s:o, s:o, s:s, s:s, s:s}", "id", s->id, "matchers", ms, "startsAt",
                     time_json(s->starts_at_ms), "endsAt", time_json(s->ends_at_ms), "createdBy",
                     s->created_by, "comment", s->comment, "status", status);
}

/* A random version-4 UUID as silence id, as Alertmanager uses. */
static int new_id(char *out, size_t outlen)
{
    unsigned char b[16];
    if (RAND_bytes(b, sizeof(b)) != 1)
        return -1;
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, outlen, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
             b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
    return 0;
}

static int64_t get_time(json_t *v, int64_t dflt, bool *bad)
{
    if (!v)
        return dflt;
    const char *s = json_string_value(v);
    int64_t ms;
    struct lw_err err = {0};
    if (!s || rfc3339_parse(s, strlen(s), &ms, &err) != 0) {
        *bad = true;
        return 0;
    }
    return ms;
}

static int add_silence(struct api_ops *ops, const struct httpd_request *req,
                       struct httpd_reply *reply)
{
    json_error_t jerr;
    json_t *doc = json_loadb(req->body, req->body_len, 0, &jerr);
    if (!doc || !json_is_object(doc)) {
        json_decref(doc);
        char msg[256];
        snprintf(msg, sizeof(msg), "request body is not a JSON object (line %d: %s)", jerr.line,
                 jerr.text);
        return reply_error(reply, 400, msg);
    }
    int64_t now = ops->now_ms(ops->ud);
    bool bad = false;
    int64_t start = get_time(json_object_get(doc, "startsAt"), now, &bad);
    int64_t end = get_time(json_object_get(doc, "endsAt"), INT64_MIN, &bad);
    const char *dur = json_string_value(json_object_get(doc, "duration"));
    if (bad) {
        json_decref(doc);
        return reply_error(reply, 400, "startsAt and endsAt must be RFC 3339 timestamps");
    }
    if (end == INT64_MIN) {
        int64_t d = SILENCE_DEFAULT_DURATION_MS;
        struct lw_err derr = {0};
        if (dur && duration_parse(dur, strlen(dur), &d, &derr) != 0) {
            json_decref(doc);
            return reply_error(reply, 400, "duration is not a valid duration (e.g. 2h30m)");
        }
        end = start + d;
    }
    json_t *ms = json_object_get(doc, "matchers");
    size_t n = json_array_size(ms);
    const char **strs = calloc(n + 1, sizeof(*strs));
    bool ok = strs != NULL;
    for (size_t i = 0; ok && i < n; i++)
        ok = (strs[i] = json_string_value(json_array_get(ms, i))) != NULL;
    char id[40];
    struct lw_err err = {0};
    int rc;
    if (!ok || new_id(id, sizeof(id)) != 0) {
        rc = reply_error(reply, 400, "matchers must be a list of strings");
    } else if (silences_add(ops->silences, id, strs, n, start, end,
                            json_string_value(json_object_get(doc, "createdBy")),
                            json_string_value(json_object_get(doc, "comment")), &err) != 0) {
        rc = reply_error(reply, 400, err.msg);
    } else {
        log_kv(LOG_LEVEL_INFO, "silence added", "id", id, NULL);
        if (ops->changed)
            ops->changed(ops->ud, "silences");
        rc = reply_json(reply, 200, json_pack("{s:s}", "silenceID", id));
    }
    free(strs);
    json_decref(doc);
    return rc;
}

int api_ops_silences(void *ud, const struct httpd_request *req, struct httpd_reply *reply)
{
    struct api_ops *ops = ud;
    const char *prefix = "/api/v1/silences";
    const char *rest = req->path + strlen(prefix);
    if (strncmp(req->path, prefix, strlen(prefix)) != 0)
        return reply_error(reply, 404, "not found");
    if (*rest == '\0' && strcmp(req->method, "GET") == 0) {
        json_t *arr = json_array();
        int64_t now = ops->now_ms(ops->ud);
        for (size_t i = 0; i < ops->silences->n; i++)
            json_array_append_new(arr, silence_json(&ops->silences->v[i], now));
        return reply_json(reply, 200, arr);
    }
    if (*rest == '\0' && strcmp(req->method, "POST") == 0)
        return add_silence(ops, req, reply);
    if (*rest == '/' && rest[1] && strcmp(req->method, "DELETE") == 0) {
        struct lw_err err = {0};
        if (silences_expire(ops->silences, rest + 1, ops->now_ms(ops->ud), &err) != 0)
            return reply_error(reply, 404, err.msg);
        log_kv(LOG_LEVEL_INFO, "silence expired", "id", rest + 1, NULL);
        if (ops->changed)
            ops->changed(ops->ud, "silences");
        return reply_json(reply, 200, json_pack("{s:s}", "status", "success"));
    }
    return reply_error(reply, 405, "use GET or POST /api/v1/silences, DELETE /api/v1/silences/ID");
}

static const char *phase_name(enum failover_phase p)
{
    return p == FAILOVER_ACTIVE ? "active" : p == FAILOVER_HOLD ? "hold" : "none";
}

int api_ops_failover(void *ud, const struct httpd_request *req, struct httpd_reply *reply)
{
    struct api_ops *ops = ud;
    const char *prefix = "/api/v1/failover";
    if (strncmp(req->path, prefix, strlen(prefix)) != 0)
        return reply_error(reply, 404, "not found");
    const char *rest = req->path + strlen(prefix);
    int64_t now = ops->now_ms(ops->ud);
    if (*rest == '\0' && strcmp(req->method, "GET") == 0) {
        json_t *arr = json_array();
        for (size_t i = 0; i < failover_count(ops->failover); i++) {
            const struct failover_cluster *c = failover_at(ops->failover, i);
            bool held = failover_held(ops->failover, c->cluster, now);
            json_array_append_new(
                arr, json_pack(
                         "{s:s, s:s, s:b, s:o, s:o, s:o, s:s, s:I}", "cluster", c->cluster, "phase",
                         phase_name(c->phase), "held", held, "startedAt", time_json(c->started_ms),
                         "endedAt", c->ended_ms ? time_json(c->ended_ms) : json_null(), "holdUntil",
                         c->hold_until_ms ? time_json(c->hold_until_ms) : json_null(), "reason",
                         c->reason ? c->reason : "", "episodes", (json_int_t)c->episodes));
        }
        return reply_json(reply, 200, arr);
    }
    if (*rest == '/' && strcmp(req->method, "POST") == 0) {
        const char *cluster = rest + 1;
        const char *slash = strrchr(cluster, '/');
        if (!slash || slash == cluster)
            return reply_error(reply, 400, "use POST /api/v1/failover/CLUSTER/start or /end");
        char name[256];
        snprintf(name, sizeof(name), "%.*s", (int)(slash - cluster), cluster);
        bool start = strcmp(slash + 1, "start") == 0;
        if (!start && strcmp(slash + 1, "end") != 0)
            return reply_error(reply, 400, "the action is start or end");
        const char *who = httpd_query_arg(req, "by");
        if (failover_manual(ops->failover, name, start, who, now) < 0)
            return reply_error(reply, 500, "out of memory");
        log_kv(LOG_LEVEL_INFO,
               start ? "failover episode started by hand" : "failover episode ended by hand",
               "cluster", name, NULL);
        if (ops->changed)
            ops->changed(ops->ud, "failover");
        return reply_json(
            reply, 200,
            json_pack("{s:s, s:s}", "status", "success", "phase", start ? "active" : "hold"));
    }
    return reply_error(reply, 405,
                       "use GET /api/v1/failover or POST /api/v1/failover/CLUSTER/ACTION");
}

int api_ops_register(struct httpd *h, struct api_ops *ops)
{
    if (httpd_route(h, "/api/v1/silences", api_ops_silences, ops) != 0 ||
        httpd_route(h, "/api/v1/silences/", api_ops_silences, ops) != 0 ||
        httpd_route(h, "/api/v1/failover", api_ops_failover, ops) != 0 ||
        httpd_route(h, "/api/v1/failover/", api_ops_failover, ops) != 0)
        return -1;
    return 0;
}
