/*
 * http.c — the agent's HTTP client on one libcurl multi handle; see http.h. Each submitted
 * request becomes a transfer that owns copies of everything it needs (URL, headers, body), so the
 * caller's request may go away at once. Transfers waiting for their start delay sit in the same
 * list as running ones but are not yet added to the multi handle. Finished transfers are
 * collected first and their callbacks run afterwards, so a callback may submit a new request
 * (a retry) without disturbing libcurl's message queue. The response body is bounded while it
 * arrives (after gzip inflation, so a small compressed body cannot expand without limit) and so
 * are the response headers. This file does not retry, sign or interpret statuses.
 */
#include "lagwatch/http.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lagwatch/buf.h"
#include "lagwatch/limits.h"
#include "lagwatch/sched.h"

struct xfer {
    struct http_client *client;
    struct xfer *prev, *next;
    CURL *easy;
    struct curl_slist *req_headers;
    char *body; /* request body copy (libcurl reads it without copying) */
    struct lw_buf resp;
    size_t max_body;
    int too_big;                 /* the body passed max_body: the transfer was aborted */
    int bad_headers;             /* too many or too long response headers: aborted */
    struct http_header *headers; /* owned name/value strings */
    size_t n_headers, cap_headers;
    http_done_fn done;
    void *ud;
    int64_t start_at_ms; /* monotonic; meaningful while !started */
    int started;
    CURLcode result; /* set when libcurl reports the transfer done */
    char errbuf[CURL_ERROR_SIZE];
};

struct http_client {
    CURLM *multi;
    char *user_agent;
    char *ca_file;
    size_t max_body;
    struct xfer *head; /* every pending transfer, delayed ones included */
    size_t pending;
    int closing; /* in http_client_free: refuse new submissions from callbacks */
};

static char *dup_str(const char *s)
{
    if (s == NULL)
        return NULL;
    size_t n = strlen(s);
    char *p = malloc(n + 1);
    if (p)
        memcpy(p, s, n + 1);
    return p;
}

static void free_headers(struct http_header *h, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free((char *)h[i].name);
        free((char *)h[i].value);
    }
    free(h);
}

static void xfer_free(struct xfer *x)
{
    if (x == NULL)
        return;
    if (x->easy)
        curl_easy_cleanup(x->easy);
    curl_slist_free_all(x->req_headers);
    free(x->body);
    lw_buf_cleanup(&x->resp);
    free_headers(x->headers, x->n_headers);
    free(x);
}

static void unlink_xfer(struct http_client *c, struct xfer *x)
{
    if (x->prev)
        x->prev->next = x->next;
    else
        c->head = x->next;
    if (x->next)
        x->next->prev = x->prev;
    x->prev = x->next = NULL;
    c->pending--;
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    struct xfer *x = ud;
    size_t len = size * n;
    if (lw_buf_add(&x->resp, p, len) != 0) {
        x->too_big = 1;
        return 0; /* libcurl aborts the transfer with CURLE_WRITE_ERROR */
    }
    return len;
}

static void trim(const char **s, const char **e)
{
    while (*s < *e && (**s == ' ' || **s == '\t'))
        (*s)++;
    while (*e > *s && ((*e)[-1] == ' ' || (*e)[-1] == '\t' || (*e)[-1] == '\r' || (*e)[-1] == '\n'))
        (*e)--;
}

static char *dup_range(const char *s, const char *e)
{
    char *p = malloc((size_t)(e - s) + 1);
    if (p) {
        memcpy(p, s, (size_t)(e - s));
        p[e - s] = '\0';
    }
    return p;
}

/* libcurl hands every header line of every response (redirects and 100 Continue included); keep
 * only the last response's, which is the one whose body we get. */
static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    struct xfer *x = ud;
    size_t len = size * n;
    if (len > LW_MAX_HEADER_BYTES) {
        x->bad_headers = 1;
        return 0;
    }
    if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) {
        free_headers(x->headers, x->n_headers);
        x->headers = NULL;
        x->n_headers = x->cap_headers = 0;
        return len;
    }
    const char *colon = memchr(p, ':', len);
    if (colon == NULL)
        return len; /* the blank line that ends the headers, or junk we ignore */
    if (x->n_headers >= LW_MAX_HTTP_HEADERS) {
        x->bad_headers = 1;
        return 0;
    }
    if (x->n_headers == x->cap_headers) {
        size_t ncap = x->cap_headers ? x->cap_headers * 2 : 16;
        struct http_header *h = realloc(x->headers, ncap * sizeof *h);
        if (h == NULL)
            return 0;
        x->headers = h;
        x->cap_headers = ncap;
    }
    const char *ns = p, *ne = colon, *vs = colon + 1, *ve = p + len;
    trim(&ns, &ne);
    trim(&vs, &ve);
    char *name = dup_range(ns, ne), *value = dup_range(vs, ve);
    if (name == NULL || value == NULL) {
        free(name);
        free(value);
        return 0;
    }
    x->headers[x->n_headers].name = name;
    x->headers[x->n_headers].value = value;
    x->n_headers++;
    return len;
}

struct http_client *http_client_new(const struct http_client_options *opts, struct lw_err *err)
{
    static const struct http_client_options defaults = {0};
    if (opts == NULL)
        opts = &defaults;
    /* Reference-counted by libcurl, matched by curl_global_cleanup() in http_client_free(). */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        lw_err_set(err, 0, 0, "libcurl global initialisation failed");
        return NULL;
    }
    struct http_client *c = calloc(1, sizeof *c);
    if (c == NULL)
        goto fail;
    c->multi = curl_multi_init();
    c->user_agent = dup_str(opts->user_agent ? opts->user_agent : "lagwatch/" LAGWATCH_VERSION);
    if (opts->ca_file)
        c->ca_file = dup_str(opts->ca_file);
    c->max_body = opts->max_body_bytes ? opts->max_body_bytes : LW_MAX_HTTP_BODY_BYTES;
    if (c->multi == NULL || c->user_agent == NULL || (opts->ca_file && c->ca_file == NULL))
        goto fail;
    return c;
fail:
    if (c) {
        if (c->multi)
            curl_multi_cleanup(c->multi);
        free(c->user_agent);
        free(c->ca_file);
        free(c);
    }
    curl_global_cleanup();
    lw_err_set(err, 0, 0, "cannot create the HTTP client: out of memory");
    return NULL;
}

static void finish(struct http_client *c, struct xfer *x, CURLcode result, const char *why)
{
    struct http_response r = {0};
    char msg[CURL_ERROR_SIZE + 128];
    if (x->started) {
        curl_multi_remove_handle(c->multi, x->easy);
        curl_off_t us = 0;
        if (curl_easy_getinfo(x->easy, CURLINFO_TOTAL_TIME_T, &us) == CURLE_OK)
            r.total_s = (double)us / 1e6;
    }
    if (why) {
        snprintf(msg, sizeof msg, "%s", why);
        r.error = msg;
    } else if (x->too_big || result == CURLE_FILESIZE_EXCEEDED) {
        snprintf(msg, sizeof msg, "response body larger than %zu bytes", x->max_body);
        r.error = msg;
    } else if (x->bad_headers) {
        snprintf(msg, sizeof msg, "response headers over the limit (%u headers of %u bytes)",
                 LW_MAX_HTTP_HEADERS, LW_MAX_HEADER_BYTES);
        r.error = msg;
    } else if (result != CURLE_OK) {
        snprintf(msg, sizeof msg, "%s", x->errbuf[0] ? x->errbuf : curl_easy_strerror(result));
        r.error = msg;
    } else {
        long code = 0;
        curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
        r.status = (int)code;
        if (r.status == 0) {
            snprintf(msg, sizeof msg, "no HTTP status in the response");
            r.error = msg;
        }
    }
    if (r.error == NULL) {
        r.headers = x->headers;
        r.n_headers = x->n_headers;
        r.body = x->resp.data ? x->resp.data : (char *)"";
        r.body_len = x->resp.len;
    } else {
        r.body = (char *)"";
    }
    x->done(x->ud, &r);
    xfer_free(x);
}

void http_client_free(struct http_client *c)
{
    if (c == NULL)
        return;
    c->closing = 1;
    while (c->head) {
        struct xfer *x = c->head;
        unlink_xfer(c, x);
        finish(c, x, CURLE_OK, "cancelled");
    }
    curl_multi_cleanup(c->multi);
    free(c->user_agent);
    free(c->ca_file);
    free(c);
    curl_global_cleanup();
}

static int has_crlf(const char *s)
{
    return s && strpbrk(s, "\r\n") != NULL;
}

static int add_header(struct xfer *x, const char *name, const char *value)
{
    struct lw_buf line;
    lw_buf_init(&line, LW_MAX_HEADER_BYTES);
    /* "Name;" is libcurl's way to send a header with an empty value. */
    if (value[0])
        lw_buf_addf(&line, "%s: %s", name, value);
    else
        lw_buf_addf(&line, "%s;", name);
    struct curl_slist *l = NULL;
    if (!lw_buf_failed(&line))
        l = curl_slist_append(x->req_headers, lw_buf_str(&line));
    lw_buf_cleanup(&line);
    if (l == NULL)
        return -1;
    x->req_headers = l;
    return 0;
}

static int setup_easy(struct http_client *c, struct xfer *x, const struct http_request *req,
                      struct lw_err *err)
{
    CURL *e = x->easy;
    const char *method = req->method ? req->method : (req->body_len ? "POST" : "GET");
    long connect_ms =
        req->connect_timeout_ms > 0 ? req->connect_timeout_ms : HTTP_DEFAULT_CONNECT_TIMEOUT_MS;
    long total_ms = req->timeout_ms > 0 ? req->timeout_ms : HTTP_DEFAULT_TIMEOUT_MS;
    CURLcode rc = CURLE_OK;
#define SET(opt, val)                           \
    do {                                        \
        if (rc == CURLE_OK)                     \
            rc = curl_easy_setopt(e, opt, val); \
    } while (0)
    SET(CURLOPT_URL, req->url);
    SET(CURLOPT_PRIVATE, x);
    SET(CURLOPT_NOSIGNAL, 1L);
    SET(CURLOPT_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    SET(CURLOPT_ERRORBUFFER, x->errbuf);
    SET(CURLOPT_WRITEFUNCTION, on_body);
    SET(CURLOPT_WRITEDATA, x);
    SET(CURLOPT_HEADERFUNCTION, on_header);
    SET(CURLOPT_HEADERDATA, x);
    SET(CURLOPT_CONNECTTIMEOUT_MS, connect_ms);
    SET(CURLOPT_TIMEOUT_MS, total_ms);
    SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)x->max_body);
    SET(CURLOPT_USERAGENT, c->user_agent);
    SET(CURLOPT_SSL_VERIFYPEER, 1L);
    SET(CURLOPT_SSL_VERIFYHOST, 2L);
    SET(CURLOPT_TCP_KEEPALIVE, 1L);
    if (c->ca_file)
        SET(CURLOPT_CAINFO, c->ca_file);
    if (req->accept_gzip)
        SET(CURLOPT_ACCEPT_ENCODING, "gzip");
    if (req->follow_redirects) {
        SET(CURLOPT_FOLLOWLOCATION, 1L);
        SET(CURLOPT_MAXREDIRS, 10L);
    }
    if (strcmp(method, "GET") == 0 && req->body_len == 0) {
        SET(CURLOPT_HTTPGET, 1L);
    } else if (strcmp(method, "HEAD") == 0) {
        SET(CURLOPT_NOBODY, 1L);
    } else {
        if (strcmp(method, "POST") != 0)
            SET(CURLOPT_CUSTOMREQUEST, method);
        if (req->body_len || strcmp(method, "POST") == 0) {
            SET(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
            SET(CURLOPT_POSTFIELDS, x->body);
        }
    }
#undef SET
    if (rc != CURLE_OK)
        return lw_err_set(err, 0, 0, "%s %s: %s", method, req->url, curl_easy_strerror(rc));
    for (size_t i = 0; i < req->n_headers; i++) {
        const struct http_header *h = &req->headers[i];
        if (h->name == NULL || h->name[0] == '\0' || strchr(h->name, ':') || has_crlf(h->name) ||
            has_crlf(h->value))
            return lw_err_set(err, 0, 0, "request header %zu is not a valid header", i);
        if (add_header(x, h->name, h->value ? h->value : "") != 0)
            return lw_err_set(err, 0, 0, "request header '%s' is too long", h->name);
    }
    /* Without this libcurl waits for "100 Continue" before sending bodies over 1 MB. */
    /* ("Name:" with nothing after it tells libcurl to drop a header it would add itself.) */
    struct curl_slist *l = curl_slist_append(x->req_headers, "Expect:");
    if (l == NULL)
        return lw_err_set(err, 0, 0, "out of memory");
    x->req_headers = l;
    if (curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->req_headers) != CURLE_OK)
        return lw_err_set(err, 0, 0, "out of memory");
    /* libcurl offers its own "Accept: * / *" unless told otherwise; that is fine. */
    return 0;
}

static int start_xfer(struct http_client *c, struct xfer *x)
{
    if (curl_multi_add_handle(c->multi, x->easy) != CURLM_OK)
        return -1;
    x->started = 1;
    return 0;
}

int http_submit(struct http_client *c, const struct http_request *req, http_done_fn done, void *ud,
                struct lw_err *err)
{
    if (c->closing)
        return lw_err_set(err, 0, 0, "the HTTP client is shutting down");
    if (req->url == NULL || req->url[0] == '\0')
        return lw_err_set(err, 0, 0, "request without a URL");
    if (done == NULL)
        return lw_err_set(err, 0, 0, "request without a completion callback");
    struct xfer *x = calloc(1, sizeof *x);
    if (x == NULL)
        return lw_err_set(err, 0, 0, "out of memory");
    x->client = c;
    x->done = done;
    x->ud = ud;
    x->max_body = req->max_body_bytes ? req->max_body_bytes : c->max_body;
    lw_buf_init(&x->resp, x->max_body);
    x->easy = curl_easy_init();
    x->body = malloc(req->body_len + 1);
    if (x->easy == NULL || x->body == NULL) {
        xfer_free(x);
        return lw_err_set(err, 0, 0, "out of memory");
    }
    if (req->body_len)
        memcpy(x->body, req->body, req->body_len);
    x->body[req->body_len] = '\0';
    if (setup_easy(c, x, req, err) != 0) {
        xfer_free(x);
        return -1;
    }
    x->start_at_ms = lw_mono_ms() + (req->start_delay_ms > 0 ? req->start_delay_ms : 0);
    if (req->start_delay_ms <= 0 && start_xfer(c, x) != 0) {
        xfer_free(x);
        return lw_err_set(err, 0, 0, "libcurl refused the transfer");
    }
    x->next = c->head;
    if (c->head)
        c->head->prev = x;
    c->head = x;
    c->pending++;
    return 0;
}

/* Start delayed transfers that came due. Returns ms until the next delayed start, or -1. */
static long start_due(struct http_client *c)
{
    int64_t now = lw_mono_ms();
    long next = -1;
    for (struct xfer *x = c->head, *nx; x; x = nx) {
        nx = x->next;
        if (x->started)
            continue;
        if (x->start_at_ms <= now) {
            if (start_xfer(c, x) != 0) {
                unlink_xfer(c, x);
                finish(c, x, CURLE_OK, "libcurl refused the transfer");
            }
            continue;
        }
        long in = (long)(x->start_at_ms - now);
        if (next < 0 || in < next)
            next = in;
    }
    return next;
}

long http_client_timeout_ms(struct http_client *c)
{
    if (c->pending == 0)
        return -1;
    int64_t now = lw_mono_ms();
    long best = -1;
    for (struct xfer *x = c->head; x; x = x->next) {
        if (x->started)
            continue;
        long in = x->start_at_ms > now ? (long)(x->start_at_ms - now) : 0;
        if (best < 0 || in < best)
            best = in;
    }
    long curl_ms = -1;
    if (curl_multi_timeout(c->multi, &curl_ms) == CURLM_OK && curl_ms >= 0 &&
        (best < 0 || curl_ms < best))
        best = curl_ms;
    return best;
}

int http_client_poll(struct http_client *c, int timeout_ms)
{
    if (c->pending == 0)
        return 0;
    return http_client_poll_fds(c, NULL, 0, timeout_ms);
}

int http_client_poll_fds(struct http_client *c, struct http_waitfd *fds, unsigned n_fds,
                         int timeout_ms)
{
    struct curl_waitfd wfd[HTTP_MAX_WAITFDS];
    if (n_fds > HTTP_MAX_WAITFDS)
        return -1;
    for (unsigned i = 0; i < n_fds; i++) {
        wfd[i].fd = fds[i].fd;
        wfd[i].events = CURL_WAIT_POLLIN;
        wfd[i].revents = 0;
        fds[i].readable = false;
    }
    long next_start = start_due(c);
    long wait_ms = timeout_ms;
    if (next_start >= 0 && (wait_ms < 0 || next_start < wait_ms))
        wait_ms = next_start;
    if (wait_ms < 0) {
        /* "Until something happens": libcurl shortens this to its own next timer. */
        wait_ms = 60000;
    }
    int running = 0;
    if (curl_multi_poll(c->multi, n_fds ? wfd : NULL, n_fds, (int)wait_ms, NULL) != CURLM_OK ||
        curl_multi_perform(c->multi, &running) != CURLM_OK)
        return -1;
    for (unsigned i = 0; i < n_fds; i++)
        fds[i].readable = (wfd[i].revents & CURL_WAIT_POLLIN) != 0;
    /* Collect first, call back after: callbacks may submit (and so touch the multi handle). */
    struct xfer *done_head = NULL, **tail = &done_head;
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(c->multi, &left)) != NULL) {
        if (m->msg != CURLMSG_DONE)
            continue;
        struct xfer *x = NULL;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&x);
        if (x == NULL)
            continue;
        x->result = m->data.result;
        unlink_xfer(c, x);
        *tail = x;
        tail = &x->next;
    }
    for (struct xfer *x = done_head, *nx; x; x = nx) {
        nx = x->next;
        x->next = NULL;
        finish(c, x, x->result, NULL);
    }
    start_due(c);
    return 0;
}

size_t http_client_pending(const struct http_client *c)
{
    return c ? c->pending : 0;
}

const char *http_response_header(const struct http_response *r, const char *name)
{
    for (size_t i = 0; i < r->n_headers; i++)
        if (strcasecmp(r->headers[i].name, name) == 0)
            return r->headers[i].value;
    return NULL;
}

int http_response_copy(struct http_response *dst, const struct http_response *src)
{
    struct http_response r = {0};
    r.status = src->status;
    r.total_s = src->total_s;
    r.body_len = src->body_len;
    r.body = malloc(src->body_len + 1);
    if (r.body == NULL)
        goto fail;
    if (src->body_len)
        memcpy(r.body, src->body, src->body_len);
    r.body[src->body_len] = '\0';
    if (src->error && (r.error = dup_str(src->error)) == NULL)
        goto fail;
    if (src->n_headers) {
        r.headers = calloc(src->n_headers, sizeof *r.headers);
        if (r.headers == NULL)
            goto fail;
        for (size_t i = 0; i < src->n_headers; i++) {
            r.headers[i].name = dup_str(src->headers[i].name);
            r.headers[i].value = dup_str(src->headers[i].value);
            r.n_headers = i + 1;
            if (r.headers[i].name == NULL || r.headers[i].value == NULL)
                goto fail;
        }
    }
    *dst = r;
    return 0;
fail:
    http_response_cleanup(&r);
    return -1;
}

void http_response_cleanup(struct http_response *r)
{
    if (r == NULL)
        return;
    free(r->error);
    free(r->body);
    free_headers(r->headers, r->n_headers);
    memset(r, 0, sizeof *r);
}

/* Heap-allocated so that a sync fetch abandoned after a polling failure cannot leave the
 * callback pointing into a dead stack frame: whoever finishes last frees it. */
struct sync_state {
    int finished;
    int abandoned;
    int copy_failed;
    struct http_response resp;
};

static void sync_done(void *ud, const struct http_response *resp)
{
    struct sync_state *s = ud;
    if (s->abandoned) {
        free(s);
        return;
    }
    s->finished = 1;
    if (http_response_copy(&s->resp, resp) != 0)
        s->copy_failed = 1;
}

int http_fetch_sync(struct http_client *c, const struct http_request *req,
                    struct http_response *out, struct lw_err *err)
{
    struct sync_state *s = calloc(1, sizeof *s);
    if (s == NULL)
        return lw_err_set(err, 0, 0, "out of memory");
    if (http_submit(c, req, sync_done, s, err) != 0) {
        free(s);
        return -1;
    }
    while (!s->finished) {
        if (http_client_poll(c, 1000) != 0) {
            s->abandoned = 1;
            return lw_err_set(err, 0, 0, "HTTP client polling failed");
        }
    }
    int rc = 0;
    if (s->copy_failed)
        rc = lw_err_set(err, 0, 0, "out of memory copying the response");
    else
        *out = s->resp;
    free(s);
    return rc;
}
