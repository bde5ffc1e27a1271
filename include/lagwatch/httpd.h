/*
 * httpd.h — lagwatch's own HTTP endpoint (/metrics, /-/healthy, /api/v1/..., the status page) on
 * libmicrohttpd, run from the agent's single event loop: the server exposes one file descriptor
 * to poll and a function to run when it is readable, and calls the registered handlers from
 * that same thread, so handlers may read agent state without locks.
 */
#ifndef LAGWATCH_HTTPD_H
#define LAGWATCH_HTTPD_H

#include <stddef.h>

#include "lagwatch/buf.h"
#include "lagwatch/error.h"

/* The most a request body may be (silences API); larger requests get 413. */
#define HTTPD_MAX_REQUEST_BODY_BYTES (64u * 1024u)
/* The most a handler's reply may be. */
#define HTTPD_MAX_REPLY_BYTES (64u * 1024u * 1024u)

struct httpd;

struct httpd_request {
    const char *method; /* "GET", "POST", ... */
    const char *path;   /* without the query string */
    const char *body;   /* NUL-terminated; "" when there is none */
    size_t body_len;
    void *conn; /* for httpd_query_arg() */
};

struct httpd_reply {
    int status;               /* default 200 */
    const char *content_type; /* static string; default "text/plain; charset=utf-8" */
    struct lw_buf body;       /* append the reply here (bounded by HTTPD_MAX_REPLY_BYTES) */
};

/* A handler fills reply; its return value is ignored unless -1, which turns the reply into a
 * 500 with a short text (the handler should log why). */
typedef int (*httpd_handler_fn)(void *ud, const struct httpd_request *req,
                                struct httpd_reply *reply);

/*
 * Listen on addr ("127.0.0.1:9741", "[::1]:0", "0.0.0.0:9741"; port 0 picks a free port).
 * On success *out is the server and 0 is returned; on error -1 with err->msg naming the address
 * and the reason (address in use, bad syntax).
 */
LW_MUST_CHECK int httpd_start(const char *addr, struct httpd **out, struct lw_err *err);

/* Register handler for exact path (any method; the handler checks req->method). Up to
 * HTTPD_MAX_ROUTES routes; returns -1 past that. A path ending in '/' matches as a prefix. */
#define HTTPD_MAX_ROUTES 32
LW_MUST_CHECK int httpd_route(struct httpd *h, const char *path, httpd_handler_fn fn, void *ud);

/* The port actually bound (useful after asking for port 0). */
int httpd_port(const struct httpd *h);

/* The descriptor the event loop polls for readability. */
int httpd_fd(const struct httpd *h);

/* Handle whatever is ready without blocking; call when httpd_fd() is readable and at least
 * every httpd_timeout_ms() milliseconds (-1 = no timer needed). */
void httpd_run(struct httpd *h);
long httpd_timeout_ms(const struct httpd *h);

/* Value of query argument name, or NULL. Only valid inside a handler. */
const char *httpd_query_arg(const struct httpd_request *req, const char *name);

/* Stop listening, close connections, free. Safe on NULL. */
void httpd_stop(struct httpd *h);

#endif
