/*
 * source_kafka_connect.c — Kafka Connect REST status: parse (jansson), trace trimming, the state
 * series, and the pure handling of one answer (see source_kafka_connect.h). No I/O here.
 */
#include "lagwatch/source_kafka_connect.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lagwatch/limits.h"

void source_kc_status_cleanup(struct source_kc_status *s)
{
    if (!s)
        return;
    free(s->name);
    free(s->type);
    free(s->state);
    free(s->worker_id);
    free(s->trace);
    for (size_t i = 0; i < s->n_tasks; i++) {
        free(s->tasks[i].state);
        free(s->tasks[i].worker_id);
        free(s->tasks[i].trace);
    }
    free(s->tasks);
    memset(s, 0, sizeof *s);
}

char *source_kc_trace_head(const char *trace)
{
    if (trace == NULL || *trace == '\0')
        return NULL;
    char *out = malloc(LW_MAX_TRACE_BYTES + 1);
    if (!out)
        return NULL;
    size_t n = 0;
    unsigned lines = 0;
    const char *p = trace;
    while (*p && lines < LW_MAX_TRACE_LINES) {
        size_t len = strcspn(p, "\n");
        const char *s = p;
        while (len > 0 && (*s == '\t' || *s == ' ')) { /* "\tat org.apache..." */
            s++;
            len--;
        }
        while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\r' || s[len - 1] == '\t'))
            len--;
        size_t room = LW_MAX_TRACE_BYTES - n - (lines ? 1 : 0);
        if (len > room)
            len = room;
        if (lines)
            out[n++] = '\n';
        memcpy(out + n, s, len);
        n += len;
        lines++;
        if (n >= LW_MAX_TRACE_BYTES)
            break;
        p += strcspn(p, "\n");
        if (*p == '\n')
            p++;
    }
    out[n] = '\0';
    return out;
}

char *source_kc_status_url(const char *base, const char *connector)
{
    char *esc = source_url_escape(connector);
    if (!esc)
        return NULL;
    size_t bl = strlen(base);
    while (bl > 0 && base[bl - 1] == '/')
        bl--;
    size_t n = bl + strlen(esc) + 32;
    char *url = malloc(n);
    if (url)
        snprintf(url, n, "%.*s/connectors/%s/status", (int)bl, base, esc);
    free(esc);
    return url;
}

/* A string member (required or not); *out NULL when absent and optional. */
static int get_str(json_t *obj, const char *key, bool required, char **out, const char *where,
                   struct lw_err *err)
{
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (v == NULL || json_is_null(v)) {
        if (required)
            return lw_err_set(err, 0, 0, "Kafka Connect status: %s has no \"%s\"", where, key);
        return 0;
    }
    if (!json_is_string(v))
        return lw_err_set(err, 0, 0, "Kafka Connect status: %s.\"%s\" is not a string", where, key);
    *out = strdup(json_string_value(v));
    if (!*out)
        return lw_err_set(err, 0, 0, "out of memory");
    return 0;
}

int source_kc_parse_status(const char *json, size_t len, struct source_kc_status *out,
                           struct lw_err *err)
{
    json_error_t jerr;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return lw_err_set(err, jerr.line, jerr.column, "Kafka Connect status: bad JSON: %s",
                          jerr.text);
    struct source_kc_status s;
    memset(&s, 0, sizeof s);
    int rc = -1;
    if (!json_is_object(root)) {
        lw_err_set(err, 0, 0, "Kafka Connect status: expected a JSON object");
        goto cleanup;
    }
    json_t *conn = json_object_get(root, "connector");
    if (!json_is_object(conn)) {
        lw_err_set(err, 0, 0, "Kafka Connect status: no \"connector\" object");
        goto cleanup;
    }
    char *trace_full = NULL;
    if (get_str(root, "name", true, &s.name, "the status", err) != 0 ||
        get_str(root, "type", false, &s.type, "the status", err) != 0 ||
        get_str(conn, "state", true, &s.state, "connector", err) != 0 ||
        get_str(conn, "worker_id", false, &s.worker_id, "connector", err) != 0 ||
        get_str(conn, "trace", false, &trace_full, "connector", err) != 0)
        goto cleanup;
    s.trace = source_kc_trace_head(trace_full);
    free(trace_full);
    json_t *tasks = json_object_get(root, "tasks");
    if (tasks != NULL && !json_is_array(tasks)) {
        lw_err_set(err, 0, 0, "Kafka Connect status: \"tasks\" is not an array");
        goto cleanup;
    }
    size_t nt = tasks ? json_array_size(tasks) : 0;
    if (nt > 0) {
        s.tasks = calloc(nt, sizeof *s.tasks);
        if (!s.tasks) {
            lw_err_set(err, 0, 0, "out of memory");
            goto cleanup;
        }
    }
    for (size_t i = 0; i < nt; i++) {
        json_t *t = json_array_get(tasks, i);
        char where[32];
        snprintf(where, sizeof where, "tasks[%zu]", i);
        if (!json_is_object(t)) {
            lw_err_set(err, 0, 0, "Kafka Connect status: %s is not an object", where);
            goto cleanup;
        }
        json_t *id = json_object_get(t, "id");
        if (!json_is_integer(id)) {
            lw_err_set(err, 0, 0, "Kafka Connect status: %s has no integer \"id\"", where);
            goto cleanup;
        }
        struct source_kc_task *d = &s.tasks[s.n_tasks++];
        d->id = (long)json_integer_value(id);
        char *tr = NULL;
        if (get_str(t, "state", true, &d->state, where, err) != 0 ||
            get_str(t, "worker_id", false, &d->worker_id, where, err) != 0 ||
            get_str(t, "trace", false, &tr, where, err) != 0)
            goto cleanup;
        d->trace = source_kc_trace_head(tr);
        free(tr);
    }
    *out = s;
    memset(&s, 0, sizeof s);
    rc = 0;
cleanup:
    source_kc_status_cleanup(&s);
    json_decref(root);
    return rc;
}

/* Append name{base, pipeline, connector[, task], k=v} 1. */
static int emit_one(const struct source_sink *sink, const char *metric, const char *pipeline,
                    const struct lw_labels *base, const char *connector, const char *task,
                    const char *k, const char *v, int64_t t_ms, struct lw_err *err)
{
    struct lw_labels ls;
    if (base) {
        if (lw_labels_copy(&ls, base) != 0)
            return lw_err_set(err, 0, 0, "out of memory");
    } else {
        lw_labels_init(&ls);
    }
    int rc = lw_labels_set(&ls, "__name__", metric);
    if (rc == 0 && pipeline)
        rc = lw_labels_set(&ls, "pipeline", pipeline);
    if (rc == 0)
        rc = lw_labels_set(&ls, "connector", connector);
    if (rc == 0 && task)
        rc = lw_labels_set(&ls, "task", task);
    if (rc == 0)
        rc = lw_labels_set(&ls, k, v);
    if (rc != 0)
        rc = lw_err_set(err, 0, 0, "out of memory");
    else
        rc = sink->append(sink->ud, &ls, t_ms, 1.0, err);
    lw_labels_cleanup(&ls);
    return rc;
}

int source_kc_emit(const struct source_kc_status *s, const char *pipeline,
                   const struct lw_labels *base, int64_t t_ms, const struct source_sink *sink,
                   struct lw_err *err)
{
    if (emit_one(sink, "kafka_connect_connector_state", pipeline, base, s->name, NULL, "state",
                 s->state, t_ms, err) != 0)
        return -1;
    if (s->trace && strcmp(s->state, "FAILED") == 0 &&
        emit_one(sink, "kafka_connect_connector_trace_info", pipeline, base, s->name, NULL, "trace",
                 s->trace, t_ms, err) != 0)
        return -1;
    for (size_t i = 0; i < s->n_tasks; i++) {
        const struct source_kc_task *t = &s->tasks[i];
        char id[24];
        snprintf(id, sizeof id, "%ld", t->id);
        if (emit_one(sink, "kafka_connect_task_state", pipeline, base, s->name, id, "state",
                     t->state, t_ms, err) != 0)
            return -1;
        if (t->trace && strcmp(t->state, "FAILED") == 0 &&
            emit_one(sink, "kafka_connect_task_trace_info", pipeline, base, s->name, id, "trace",
                     t->trace, t_ms, err) != 0)
            return -1;
    }
    return 0;
}

/* The "message" of a Kafka Connect error body ({"error_code":404,"message":"..."}), or "". */
static void error_message(const char *body, size_t len, char *out, size_t outlen)
{
    out[0] = '\0';
    json_t *root = json_loadb(body, len, 0, NULL);
    const char *m = root ? json_string_value(json_object_get(root, "message")) : NULL;
    if (m)
        snprintf(out, outlen, ": %s", m);
    json_decref(root);
}

int source_kc_process(const char *url, const char *connector, const char *pipeline,
                      const struct lw_labels *base, const struct source_kc_response *r,
                      int64_t now_ms, const struct source_sink *sink, struct source_kc_status *out,
                      struct lw_err *err)
{
    struct lw_err why;
    memset(&why, 0, sizeof why);
    struct source_kc_status st;
    memset(&st, 0, sizeof st);
    bool ok = false, parsed = false;
    source_sink_begin(sink, url, now_ms);
    if (r->status == 0) {
        lw_err_set(&why, 0, 0, "Kafka Connect %s: %s", url,
                   r->error ? r->error : "transport error");
    } else if (r->status == 404) {
        char msg[300];
        error_message(r->body, r->body_len, msg, sizeof msg);
        lw_err_set(&why, 0, 0, "Kafka Connect: connector %s not found on %s (404)%s", connector,
                   url, msg);
    } else if (r->status < 200 || r->status > 299) {
        char msg[300];
        error_message(r->body, r->body_len, msg, sizeof msg);
        lw_err_set(&why, 0, 0, "Kafka Connect %s: HTTP status %d%s", url, r->status, msg);
    } else if (source_kc_parse_status(r->body, r->body_len, &st, &why) == 0) {
        parsed = true;
        ok = source_kc_emit(&st, pipeline, base, now_ms, sink, &why) == 0;
    }
    struct lw_err herr;
    if (source_emit_health(sink, "kafka_connect", pipeline, NULL, base, ok, r->duration_s, now_ms,
                           &herr) != 0 &&
        ok) {
        ok = false;
        why = herr;
    }
    source_sink_end(sink, url, ok, now_ms);
    if (ok && parsed && out) {
        *out = st;
        memset(&st, 0, sizeof st);
    }
    source_kc_status_cleanup(&st);
    if (!ok) {
        if (err)
            *err = why;
        return -1;
    }
    return 0;
}
