/*
 * creds_fakes.c — the environment table, scripted transport and log capture of creds_fakes.h.
 */
#include <stdio.h>
#include <string.h>

#include "creds_fakes.h"

void fake_env_set(struct fake_env *e, const char *name, const char *value)
{
    for (size_t i = 0; i < e->n; i++) {
        if (strcmp(e->names[i], name) == 0) {
            e->values[i] = value;
            return;
        }
    }
    if (e->n < FAKE_MAX_VARS) {
        e->names[e->n] = name;
        e->values[e->n++] = value;
    }
}

const char *fake_getenv(void *ud, const char *name)
{
    struct fake_env *e = ud;
    for (size_t i = 0; e && i < e->n; i++)
        if (strcmp(e->names[i], name) == 0)
            return e->values[i];
    return NULL;
}

void fake_http_add(struct fake_http *h, const char *method, const char *url, long status,
                   const char *body)
{
    if (h->n < FAKE_MAX_STEPS)
        h->steps[h->n++] = (struct fake_step){method, url, status, body};
}

int fake_http(void *ud, const struct creds_http_request *req, struct creds_http_response *resp,
              struct lw_err *err)
{
    struct fake_http *h = ud;
    lw_buf_init(&resp->body, req->max_body_bytes);
    if (h->next >= h->n) {
        h->mismatch = 1;
        return lw_err_set(err, 0, 0, "fake: unexpected request %s %s", req->method, req->url);
    }
    size_t i = h->next++;
    const struct fake_step *s = &h->steps[i];
    size_t off = 0;
    for (size_t k = 0; k < req->n_headers; k++) {
        int n = snprintf(h->headers[i] + off, FAKE_HDR_BYTES - off, "%s\n", req->headers[k]);
        if (n > 0 && (size_t)n < FAKE_HDR_BYTES - off)
            off += (size_t)n;
    }
    snprintf(h->bodies[i], FAKE_HDR_BYTES, "%.*s", (int)(req->body ? req->body_len : 0),
             req->body ? req->body : "");
    if (strcmp(s->method, req->method) != 0 || strcmp(s->url, req->url) != 0) {
        h->mismatch = 1;
        return lw_err_set(err, 0, 0, "fake: expected %s %s, got %s %s", s->method, s->url,
                          req->method, req->url);
    }
    if (s->status == 0)
        return lw_err_set(err, 0, 0, "%s %s: Timeout was reached", req->method, req->url);
    resp->status = s->status;
    if (s->body && lw_buf_adds(&resp->body, s->body) != 0)
        return lw_err_set(err, 0, 0, "answer larger than %zu bytes", req->max_body_bytes);
    return 0;
}

void fake_log(void *ud, enum creds_log_level level, const char *msg, const char *provider,
              const char *detail)
{
    struct fake_log *l = ud;
    if (level == CREDS_LOG_WARN)
        l->warnings++;
    int n = snprintf(l->text + l->len, FAKE_LOG_BYTES - l->len, "%d %s %s %s\n", (int)level, msg,
                     provider ? provider : "-", detail ? detail : "-");
    if (n > 0 && (size_t)n < FAKE_LOG_BYTES - l->len)
        l->len += (size_t)n;
}

struct creds_options fake_options(struct fake_env *e, struct fake_http *h, struct fake_log *l)
{
    struct creds_options o = {0};
    if (e) {
        o.getenv = fake_getenv;
        o.getenv_ud = e;
    }
    if (h) {
        o.http = fake_http;
        o.http_ud = h;
    }
    if (l) {
        o.log = fake_log;
        o.log_ud = l;
    }
    return o;
}
