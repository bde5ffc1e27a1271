/*
 * cloudwatch.c — GetMetricData requests, answers and the per-cycle fetcher; see cloudwatch.h.
 * JSON is built and parsed with jansson only. The fetcher sorts its queries by period (a call
 * has one window and the window's end must be a period boundary for every query in it), cuts
 * them into calls of at most 500, sends all calls at once on the AWS client and follows each
 * call's NextToken with the same queries and window. A sample is delivered only when it is newer
 * than the newest one already delivered for its query, which is what makes re-asking for the
 * late window harmless. Nothing here blocks; the callbacks run from http_client_poll().
 */
#include "lagwatch/cloudwatch.h"

#include <ctype.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lagwatch/aws.h"
#include "lagwatch/limits.h"
#include "lagwatch/rfc3339.h"
#include "lagwatch/sched.h"

/* ---- pure ----------------------------------------------------------------------------------*/

int cw_build_request(const struct cw_query *queries, const size_t *ids, size_t n, int64_t start_s,
                     int64_t end_s, const char *next_token, struct lw_buf *out, struct lw_err *err)
{
    if (n == 0 || n > CW_MAX_QUERIES_PER_CALL)
        return lw_err_set(err, 0, 0, "GetMetricData takes 1 to %d queries, not %zu",
                          CW_MAX_QUERIES_PER_CALL, n);
    json_t *root = json_object();
    json_t *qs = json_array();
    json_object_set_new(root, "MetricDataQueries", qs);
    for (size_t i = 0; i < n; i++) {
        const struct cw_query *q = &queries[i];
        char id[32];
        snprintf(id, sizeof id, "q%zu", ids ? ids[i] : i);
        json_t *dims = json_array();
        for (size_t d = 0; d < q->n_dims; d++)
            json_array_append_new(
                dims, json_pack("{s:s, s:s}", "Name", q->dims[d].name, "Value", q->dims[d].value));
        json_t *metric = json_pack("{s:s, s:s, s:o}", "Namespace", q->namespace_, "MetricName",
                                   q->metric, "Dimensions", dims);
        json_t *stat =
            json_pack("{s:o, s:i, s:s}", "Metric", metric, "Period", q->period_s, "Stat", q->stat);
        json_t *one = json_pack("{s:s, s:o, s:b}", "Id", id, "MetricStat", stat, "ReturnData", 1);
        if (one == NULL) {
            json_decref(root);
            return lw_err_set(err, 0, 0, "query %zu has a missing or non-UTF-8 field", i);
        }
        json_array_append_new(qs, one);
    }
    json_object_set_new(root, "StartTime", json_integer(start_s));
    json_object_set_new(root, "EndTime", json_integer(end_s));
    json_object_set_new(root, "ScanBy", json_string("TimestampAscending"));
    if (next_token)
        json_object_set_new(root, "NextToken", json_string(next_token));
    char *s = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    if (s == NULL)
        return lw_err_set(err, 0, 0, "cannot encode the GetMetricData request");
    int rc = lw_buf_adds(out, s);
    free(s);
    if (rc != 0)
        return lw_err_set(err, 0, 0, "GetMetricData request larger than its buffer");
    return 0;
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s);
    char *p = malloc(n + 1);
    if (p)
        memcpy(p, s, n + 1);
    return p;
}

/* Messages: [{"Code": "...", "Value": "..."}] joined into "Code: Value; ...". NULL if none. */
static char *join_messages(json_t *msgs)
{
    if (!json_is_array(msgs) || json_array_size(msgs) == 0)
        return NULL;
    struct lw_buf b;
    lw_buf_init(&b, 4096);
    size_t i;
    json_t *m;
    json_array_foreach(msgs, i, m)
    {
        const char *code = json_string_value(json_object_get(m, "Code"));
        const char *value = json_string_value(json_object_get(m, "Value"));
        if (i)
            lw_buf_adds(&b, "; ");
        if (code)
            lw_buf_addf(&b, "%s%s", code, value ? ": " : "");
        if (value)
            lw_buf_adds(&b, value);
    }
    return lw_buf_take(&b); /* a message cut at 4 KB is still a message */
}

static int parse_time(json_t *v, int64_t *out_ms)
{
    if (json_is_integer(v)) {
        *out_ms = (int64_t)json_integer_value(v) * 1000;
        return 0;
    }
    if (json_is_real(v)) {
        double d = json_real_value(v);
        if (!isfinite(d) || fabs(d) > 1e13)
            return -1;
        *out_ms = (int64_t)llround(d * 1000.0);
        return 0;
    }
    const char *s = json_string_value(v);
    if (s) {
        struct lw_err e;
        return rfc3339_parse(s, strlen(s), out_ms, &e);
    }
    return -1;
}

static int parse_id(const char *id, size_t n_queries, size_t *out)
{
    if (id == NULL || id[0] != 'q' || id[1] == '\0' || strlen(id) > 10)
        return -1;
    size_t v = 0;
    for (const char *p = id + 1; *p; p++) {
        if (!isdigit((unsigned char)*p))
            return -1;
        v = v * 10 + (size_t)(*p - '0');
    }
    if (v >= n_queries)
        return -1;
    *out = v;
    return 0;
}

static void result_cleanup(struct cw_result *r)
{
    free(r->status_code);
    free(r->message);
    free(r->t_ms);
    free(r->values);
}

void cw_response_cleanup(struct cw_response *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->n_results; i++)
        result_cleanup(&r->results[i]);
    free(r->results);
    free(r->next_token);
    free(r->messages);
    memset(r, 0, sizeof *r);
}

static int parse_result(json_t *jr, size_t idx, size_t n_queries, struct cw_result *r,
                        struct lw_err *err)
{
    if (!json_is_object(jr))
        return lw_err_set(err, 0, 0, "MetricDataResults[%zu] is not an object", idx);
    const char *id = json_string_value(json_object_get(jr, "Id"));
    if (parse_id(id, n_queries, &r->query) != 0)
        return lw_err_set(err, 0, 0, "MetricDataResults[%zu]: unknown Id '%s'", idx,
                          id ? id : "(none)");
    const char *sc = json_string_value(json_object_get(jr, "StatusCode"));
    r->status_code = dup_str(sc ? sc : "Complete");
    r->message = join_messages(json_object_get(jr, "Messages"));
    json_t *ts = json_object_get(jr, "Timestamps");
    json_t *vs = json_object_get(jr, "Values");
    if (ts == NULL && vs == NULL)
        return r->status_code ? 0 : lw_err_set(err, 0, 0, "out of memory");
    if (!json_is_array(ts) || !json_is_array(vs) || json_array_size(ts) != json_array_size(vs))
        return lw_err_set(err, 0, 0,
                          "MetricDataResults[%zu] (%s): Timestamps and Values are not arrays of "
                          "the same length",
                          idx, id);
    size_t n = json_array_size(ts);
    if (n) {
        r->t_ms = malloc(n * sizeof *r->t_ms);
        r->values = malloc(n * sizeof *r->values);
        if (r->t_ms == NULL || r->values == NULL)
            return lw_err_set(err, 0, 0, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get(vs, i);
        if (parse_time(json_array_get(ts, i), &r->t_ms[i]) != 0)
            return lw_err_set(err, 0, 0,
                              "MetricDataResults[%zu] (%s): Timestamps[%zu] is not a "
                              "time",
                              idx, id, i);
        if (!json_is_number(v))
            return lw_err_set(err, 0, 0,
                              "MetricDataResults[%zu] (%s): Values[%zu] is not a "
                              "number",
                              idx, id, i);
        r->values[i] = json_number_value(v);
        r->n = i + 1;
    }
    return r->status_code ? 0 : lw_err_set(err, 0, 0, "out of memory");
}

int cw_parse_response(const char *body, size_t len, size_t n_queries, struct cw_response *out,
                      struct lw_err *err)
{
    json_error_t jerr;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL)
        return lw_err_set(err, jerr.line, jerr.column, "GetMetricData answer is not JSON: %s",
                          jerr.text);
    struct cw_response r = {0};
    int rc = -1;
    if (!json_is_object(root)) {
        lw_err_set(err, 1, 1, "GetMetricData answer is not a JSON object");
        goto out;
    }
    json_t *results = json_object_get(root, "MetricDataResults");
    if (results != NULL && !json_is_array(results)) {
        lw_err_set(err, 0, 0, "MetricDataResults is not an array");
        goto out;
    }
    size_t n = json_array_size(results);
    if (n) {
        r.results = calloc(n, sizeof *r.results);
        if (r.results == NULL) {
            lw_err_set(err, 0, 0, "out of memory");
            goto out;
        }
    }
    for (size_t i = 0; i < n; i++) {
        r.n_results = i + 1;
        if (parse_result(json_array_get(results, i), i, n_queries, &r.results[i], err) != 0)
            goto out;
    }
    json_t *tok = json_object_get(root, "NextToken");
    if (tok && !json_is_null(tok)) {
        if (!json_is_string(tok)) {
            lw_err_set(err, 0, 0, "NextToken is not a string");
            goto out;
        }
        if (json_string_length(tok) > 0 &&
            (r.next_token = dup_str(json_string_value(tok))) == NULL) {
            lw_err_set(err, 0, 0, "out of memory");
            goto out;
        }
    }
    r.messages = join_messages(json_object_get(root, "Messages"));
    *out = r;
    memset(&r, 0, sizeof r);
    rc = 0;
out:
    cw_response_cleanup(&r);
    json_decref(root);
    return rc;
}

/* CamelCase -> snake_case as cloudwatch_exporter does: '_' between a lower-case letter or digit
 * and an upper-case letter, then everything lower-case; characters outside [a-zA-Z0-9_] -> '_'. */
static int snake(struct lw_buf *b, const char *s)
{
    for (const char *p = s; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (p > s && isupper(c) && (islower((unsigned char)p[-1]) || isdigit((unsigned char)p[-1])))
            lw_buf_addc(b, '_');
        lw_buf_addc(b, isalnum(c) ? (char)tolower(c) : '_');
    }
    return lw_buf_failed(b) ? -1 : 0;
}

int cw_metric_name(const char *namespace_, const char *metric, const char *stat, char *out,
                   size_t outlen)
{
    struct lw_buf b;
    lw_buf_init(&b, outlen ? outlen - 1 : 0);
    snake(&b, namespace_);
    lw_buf_addc(&b, '_');
    snake(&b, metric);
    lw_buf_addc(&b, '_');
    snake(&b, stat);
    int rc = lw_buf_failed(&b) ? -1 : 0;
    if (rc == 0)
        snprintf(out, outlen, "%s", lw_buf_str(&b));
    lw_buf_cleanup(&b);
    return rc;
}

int cw_label_name(const char *dimension, char *out, size_t outlen)
{
    struct lw_buf b;
    lw_buf_init(&b, outlen ? outlen - 1 : 0);
    int rc = snake(&b, dimension);
    if (rc == 0)
        snprintf(out, outlen, "%s", lw_buf_str(&b));
    lw_buf_cleanup(&b);
    return rc;
}

double cw_monthly_cost_usd(size_t metrics_per_cycle, int64_t interval_s)
{
    if (interval_s <= 0)
        return 0;
    double cycles = 30.0 * 86400.0 / (double)interval_s;
    return (double)metrics_per_cycle * cycles / 1000.0 * CW_USD_PER_1000_METRICS;
}

static int64_t floor_to(int64_t t, int64_t p)
{
    int64_t r = t % p;
    return r < 0 ? t - r - p : t - r;
}

void cw_window(int64_t now_s, int period_s, int64_t last_sample_s, int64_t late_s,
               int64_t lookback_s, int64_t *start_s, int64_t *end_s)
{
    int64_t p = period_s > 0 ? period_s : 60;
    int64_t end = floor_to(now_s, p);
    int64_t start = last_sample_s >= 0 ? last_sample_s + p : end - lookback_s;
    if (end - late_s < start)
        start = end - late_s;
    if (start < end - lookback_s)
        start = end - lookback_s;
    start = floor_to(start, p);
    if (start >= end)
        start = end - p;
    *start_s = start;
    *end_s = end;
}

/* ---- the fetcher ---------------------------------------------------------------------------*/

struct fq {
    struct cw_query q; /* strings below are owned copies */
    char *namespace_, *metric, *stat;
    struct cw_dimension *dims;
    struct lw_labels labels;
    struct cw_query_status st;
    char *message;
};

struct call {
    struct cw_fetcher *f;
    size_t first; /* index into f->order */
    size_t n;
    int64_t start_s, end_s;
    struct cw_query *batch; /* the queries in call order (views into f->q) */
};

struct cw_fetcher {
    struct cw_fetcher_options o;
    char *endpoint, *region;
    struct fq *q;
    size_t n, cap;
    size_t *order; /* query indexes sorted by period, for one cycle */
    /* the cycle in flight */
    bool running;
    size_t calls_in_flight;
    struct call *calls;
    size_t n_calls;
    const struct source_sink *sink;
    cw_cycle_done_fn done;
    void *done_ud;
    struct cw_cycle_report rep;
    char *first_error;
    int64_t t0_ms;
};

struct cw_fetcher *cw_fetcher_new(const struct cw_fetcher_options *opts, struct lw_err *err)
{
    if (opts == NULL || opts->aws == NULL || opts->endpoint == NULL || opts->region == NULL) {
        lw_err_set(err, 0, 0, "CloudWatch fetcher needs an AWS client, endpoint and region");
        return NULL;
    }
    struct cw_fetcher *f = calloc(1, sizeof *f);
    if (f == NULL || (f->endpoint = dup_str(opts->endpoint)) == NULL ||
        (f->region = dup_str(opts->region)) == NULL) {
        if (f)
            free(f->endpoint);
        free(f);
        lw_err_set(err, 0, 0, "out of memory");
        return NULL;
    }
    f->o = *opts;
    f->o.endpoint = f->endpoint;
    f->o.region = f->region;
    if (f->o.late_s <= 0)
        f->o.late_s = CW_DEFAULT_LATE_S;
    if (f->o.lookback_s <= 0)
        f->o.lookback_s = CW_DEFAULT_LOOKBACK_S;
    return f;
}

static void fq_cleanup(struct fq *q)
{
    free(q->namespace_);
    free(q->metric);
    free(q->stat);
    for (size_t i = 0; q->dims && i < q->q.n_dims; i++) {
        free((char *)q->dims[i].name);
        free((char *)q->dims[i].value);
    }
    free(q->dims);
    free(q->message);
    lw_labels_cleanup(&q->labels);
}

static void free_calls(struct cw_fetcher *f)
{
    for (size_t i = 0; i < f->n_calls; i++)
        free(f->calls[i].batch);
    free(f->calls);
    f->calls = NULL;
    f->n_calls = 0;
}

/* One GetMetricData page in flight. */
struct page {
    struct cw_fetcher *f;
    size_t call;
    char *token;
};

void cw_fetcher_free(struct cw_fetcher *f)
{
    if (f == NULL)
        return;
    for (size_t i = 0; i < f->n; i++)
        fq_cleanup(&f->q[i]);
    free(f->q);
    free(f->order);
    free_calls(f);
    free(f->first_error);
    free(f->endpoint);
    free(f->region);
    free(f);
}

int cw_fetcher_add(struct cw_fetcher *f, const struct cw_query *q, const struct lw_labels *labels,
                   struct lw_err *err)
{
    if (f->running)
        return lw_err_set(err, 0, 0, "cannot add a query while a cycle runs");
    if (q->namespace_ == NULL || q->metric == NULL || q->stat == NULL || q->period_s <= 0)
        return lw_err_set(err, 0, 0, "CloudWatch query needs namespace, metric, stat, period");
    if (f->n == f->cap) {
        size_t ncap = f->cap ? f->cap * 2 : 16;
        struct fq *nq = realloc(f->q, ncap * sizeof *nq);
        if (nq == NULL)
            return lw_err_set(err, 0, 0, "out of memory");
        f->q = nq;
        f->cap = ncap;
    }
    struct fq *e = &f->q[f->n];
    memset(e, 0, sizeof *e);
    e->namespace_ = dup_str(q->namespace_);
    e->metric = dup_str(q->metric);
    e->stat = dup_str(q->stat);
    e->dims = q->n_dims ? calloc(q->n_dims, sizeof *e->dims) : NULL;
    e->q.n_dims = 0;
    bool oom = !e->namespace_ || !e->metric || !e->stat || (q->n_dims && !e->dims);
    for (size_t i = 0; !oom && i < q->n_dims; i++) {
        e->dims[i].name = dup_str(q->dims[i].name);
        e->dims[i].value = dup_str(q->dims[i].value);
        e->q.n_dims = i + 1;
        oom = !e->dims[i].name || !e->dims[i].value;
    }
    if (!oom && labels && lw_labels_copy(&e->labels, labels) != 0)
        oom = true;
    else if (!labels)
        lw_labels_init(&e->labels);
    if (oom) {
        fq_cleanup(e);
        return lw_err_set(err, 0, 0, "out of memory");
    }
    e->q.namespace_ = e->namespace_;
    e->q.metric = e->metric;
    e->q.stat = e->stat;
    e->q.dims = e->dims;
    e->q.period_s = q->period_s;
    e->st.last_sample_ms = -1;
    return (int)f->n++;
}

size_t cw_fetcher_count(const struct cw_fetcher *f)
{
    return f->n;
}

const struct cw_query_status *cw_fetcher_status(const struct cw_fetcher *f, size_t query)
{
    return query < f->n ? &f->q[query].st : NULL;
}

static void set_message(struct fq *q, const char *msg)
{
    free(q->message);
    q->message = msg ? dup_str(msg) : NULL;
    q->st.message = q->message;
}

static void cycle_finished(struct cw_fetcher *f)
{
    for (size_t i = 0; i < f->n; i++) {
        struct fq *q = &f->q[i];
        if (q->st.state == CW_QUERY_PENDING ||
            (q->st.state == CW_QUERY_OK && q->st.new_samples == 0 && q->st.last_sample_ms < 0)) {
            char m[512];
            snprintf(m, sizeof m, "no datapoints for %s %s (is it published for this engine?)",
                     q->q.metric, q->q.stat);
            q->st.state = CW_QUERY_NO_DATA;
            set_message(q, m);
        }
    }
    f->rep.duration_s = (double)(lw_mono_ms() - f->t0_ms) / 1000.0;
    f->rep.first_error = f->first_error;
    f->running = false;
    if (f->done)
        f->done(f->done_ud, &f->rep);
}

static int send_page(struct cw_fetcher *f, size_t call, const char *token, struct lw_err *err);

static void note_error(struct cw_fetcher *f, const char *msg)
{
    if (f->first_error == NULL)
        f->first_error = dup_str(msg);
}

static void deliver(struct cw_fetcher *f, const struct cw_result *r)
{
    struct fq *q = &f->q[r->query];
    bool bad =
        strcmp(r->status_code, "InternalError") == 0 || strcmp(r->status_code, "Forbidden") == 0;
    if (bad) {
        char m[1024];
        snprintf(m, sizeof m, "CloudWatch answered %s for %s %s%s%s", r->status_code, q->q.metric,
                 q->q.stat, r->message ? ": " : "", r->message ? r->message : "");
        q->st.state = CW_QUERY_FAILED;
        set_message(q, m);
        note_error(f, m);
        return;
    }
    if (q->st.state != CW_QUERY_FAILED)
        q->st.state = CW_QUERY_OK;
    for (size_t i = 0; i < r->n; i++) {
        if (r->t_ms[i] <= q->st.last_sample_ms)
            continue; /* already delivered (late window re-asked for it) */
        struct lw_err err = {0};
        if (f->sink && f->sink->append &&
            f->sink->append(f->sink->ud, &q->labels, r->t_ms[i], r->values[i], &err) != 0) {
            note_error(f, err.msg);
            continue;
        }
        q->st.last_sample_ms = r->t_ms[i];
        q->st.new_samples++;
        f->rep.samples++;
    }
}

static void on_page(void *ud, const struct aws_result *res)
{
    struct page *pg = ud;
    struct cw_fetcher *f = pg->f;
    struct call *call = &f->calls[pg->call];
    free(pg->token);
    size_t callno = pg->call;
    free(pg);
    f->calls_in_flight--;
    struct cw_response resp = {0};
    struct lw_err err = {0};
    const char *fail = NULL;
    char buf[1200];
    if (!res->ok) {
        fail = res->message;
    } else if (cw_parse_response(res->body, res->body_len, f->n, &resp, &err) != 0) {
        snprintf(buf, sizeof buf, "GetMetricData: %s", err.msg);
        fail = buf;
    }
    if (fail) {
        f->rep.failed_calls++;
        note_error(f, fail);
        for (size_t i = 0; i < call->n; i++) {
            struct fq *q = &f->q[f->order[call->first + i]];
            q->st.state = CW_QUERY_FAILED;
            set_message(q, fail);
        }
    } else {
        for (size_t i = 0; i < resp.n_results; i++)
            deliver(f, &resp.results[i]);
        if (resp.next_token && send_page(f, callno, resp.next_token, &err) != 0) {
            f->rep.failed_calls++;
            note_error(f, err.msg);
        }
    }
    cw_response_cleanup(&resp);
    if (f->calls_in_flight == 0)
        cycle_finished(f);
}

static int send_page(struct cw_fetcher *f, size_t callno, const char *token, struct lw_err *err)
{
    struct call *call = &f->calls[callno];
    struct lw_buf body;
    lw_buf_init(&body, LW_MAX_HTTP_BODY_BYTES);
    if (cw_build_request(call->batch, &f->order[call->first], call->n, call->start_s, call->end_s,
                         token, &body, err) != 0) {
        lw_buf_cleanup(&body);
        return -1;
    }
    struct page *pg = calloc(1, sizeof *pg);
    if (pg == NULL || (token && (pg->token = dup_str(token)) == NULL)) {
        free(pg);
        lw_buf_cleanup(&body);
        return lw_err_set(err, 0, 0, "out of memory");
    }
    pg->f = f;
    pg->call = callno;
    struct aws_call ac = {.endpoint = f->endpoint,
                          .region = f->region,
                          .service = "monitoring",
                          .iam_action = "cloudwatch:GetMetricData",
                          .protocol = AWS_PROTOCOL_JSON10,
                          .target = "GraniteServiceVersion20100801.GetMetricData",
                          .body = lw_buf_str(&body),
                          .body_len = body.len};
    int rc = aws_submit(f->o.aws, &ac, on_page, pg, err);
    lw_buf_cleanup(&body);
    if (rc != 0) {
        free(pg->token);
        free(pg);
        return -1;
    }
    f->calls_in_flight++;
    f->rep.calls++;
    f->rep.metrics_requested += call->n;
    return 0;
}

struct by_period {
    int period_s;
    size_t index;
};

static int cmp_period(const void *a, const void *b)
{
    const struct by_period *x = a, *y = b;
    if (x->period_s != y->period_s)
        return x->period_s < y->period_s ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

int cw_fetcher_start(struct cw_fetcher *f, int64_t now_s, const struct source_sink *sink,
                     cw_cycle_done_fn done, void *ud, struct lw_err *err)
{
    if (f->running)
        return lw_err_set(err, 0, 0, "a CloudWatch cycle is still running");
    if (f->n == 0)
        return lw_err_set(err, 0, 0, "no CloudWatch queries registered");
    free_calls(f);
    free(f->order);
    free(f->first_error);
    f->first_error = NULL;
    f->order = malloc(f->n * sizeof *f->order);
    /* At most one call per 500 queries plus one per distinct period. */
    f->calls = calloc(f->n / CW_MAX_QUERIES_PER_CALL + f->n + 1, sizeof *f->calls);
    if (f->order == NULL || f->calls == NULL)
        return lw_err_set(err, 0, 0, "out of memory");
    struct by_period *tmp = malloc(f->n * sizeof *tmp);
    if (tmp == NULL)
        return lw_err_set(err, 0, 0, "out of memory");
    for (size_t i = 0; i < f->n; i++) {
        tmp[i] = (struct by_period){f->q[i].q.period_s, i};
        f->q[i].st.state = CW_QUERY_PENDING;
        f->q[i].st.new_samples = 0;
        set_message(&f->q[i], NULL);
    }
    qsort(tmp, f->n, sizeof *tmp, cmp_period);
    for (size_t i = 0; i < f->n; i++)
        f->order[i] = tmp[i].index;
    free(tmp);
    memset(&f->rep, 0, sizeof f->rep);
    f->sink = sink;
    f->done = done;
    f->done_ud = ud;
    f->t0_ms = lw_mono_ms();
    for (size_t i = 0; i < f->n;) {
        int period = f->q[f->order[i]].q.period_s;
        size_t j = i;
        int64_t start = INT64_MAX, end = 0;
        while (j < f->n && j - i < CW_MAX_QUERIES_PER_CALL &&
               f->q[f->order[j]].q.period_s == period) {
            const struct fq *q = &f->q[f->order[j]];
            int64_t last_s = q->st.last_sample_ms >= 0 ? q->st.last_sample_ms / 1000 : -1;
            int64_t s, e;
            cw_window(now_s, period, last_s, f->o.late_s, f->o.lookback_s, &s, &e);
            if (s < start)
                start = s;
            end = e;
            j++;
        }
        struct call *c = &f->calls[f->n_calls];
        c->f = f;
        c->first = i;
        c->n = j - i;
        c->start_s = start;
        c->end_s = end;
        c->batch = malloc(c->n * sizeof *c->batch);
        if (c->batch == NULL)
            return lw_err_set(err, 0, 0, "out of memory");
        for (size_t k = 0; k < c->n; k++)
            c->batch[k] = f->q[f->order[i + k]].q;
        f->n_calls++;
        i = j;
    }
    f->running = true;
    size_t sent = 0;
    for (size_t i = 0; i < f->n_calls; i++) {
        struct lw_err e = {0};
        if (send_page(f, i, NULL, &e) == 0) {
            sent++;
            continue;
        }
        f->rep.failed_calls++;
        note_error(f, e.msg);
        for (size_t k = 0; k < f->calls[i].n; k++) {
            struct fq *q = &f->q[f->order[f->calls[i].first + k]];
            q->st.state = CW_QUERY_FAILED;
            set_message(q, e.msg);
        }
    }
    if (sent == 0) {
        f->running = false;
        return lw_err_set(err, 0, 0, "%s", f->first_error ? f->first_error : "no call sent");
    }
    return 0;
}
