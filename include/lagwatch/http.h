/*
 * http.h — the agent's one HTTP client: a single libcurl multi handle that drives every outgoing
 * request (AWS APIs, exporter scrapes, credential endpoints, webhooks) concurrently from the
 * event-loop thread. A request is copied at submit time and finishes with exactly one callback.
 * Every request has a connect and a total timeout and a response-body cap; TLS is verified (the
 * CA bundle is configurable); connections are kept alive and reused; proxies come from the
 * standard environment variables (libcurl's http_proxy, https_proxy, no_proxy). This layer knows
 * nothing about AWS: signing, retries and error mapping live in aws.h. A request may ask to be
 * started after a delay, which is how callers retry with backoff without a timer of their own.
 */
#ifndef LAGWATCH_HTTP_H
#define LAGWATCH_HTTP_H

#include <stdbool.h>
#include <stddef.h>

#include "lagwatch/error.h"

/* Used when a request leaves its timeouts at 0. */
#define HTTP_DEFAULT_CONNECT_TIMEOUT_MS 5000L
#define HTTP_DEFAULT_TIMEOUT_MS         30000L

struct http_header {
    const char *name;
    const char *value;
};

struct http_client_options {
    const char *user_agent; /* NULL: "lagwatch/VERSION" */
    const char *ca_file;    /* NULL: the system's CA bundle */
    size_t max_body_bytes;  /* 0: LW_MAX_HTTP_BODY_BYTES; the default for every request */
};

struct http_request {
    const char *method; /* NULL: "GET" (or "POST" when body_len > 0) */
    const char *url;
    const struct http_header *headers;
    size_t n_headers;
    const void *body;
    size_t body_len;
    long connect_timeout_ms; /* 0: HTTP_DEFAULT_CONNECT_TIMEOUT_MS */
    long timeout_ms;         /* whole transfer; 0: HTTP_DEFAULT_TIMEOUT_MS */
    size_t max_body_bytes;   /* 0: the client's */
    bool accept_gzip; /* send Accept-Encoding: gzip and inflate (the cap counts inflated bytes) */
    bool follow_redirects; /* follow up to 10 redirects (scrapes do, AWS calls do not) */
    long start_delay_ms;   /* start the transfer this long after submit (retry backoff); 0 = now */
};

struct http_response {
    int status;                  /* HTTP status; 0 = transport error (see error) */
    char *error;                 /* transport error text, or NULL when status != 0 */
    struct http_header *headers; /* those of the final response, in order; names as received */
    size_t n_headers;
    char *body; /* NUL-terminated (the NUL is not counted in body_len); never NULL */
    size_t body_len;
    double total_s; /* from the start of the transfer (after any start delay) to the end */
};

/* Called once per submitted request, from http_client_poll() (or http_client_free() with status
 * 0 and error "cancelled"). resp and everything it points to is valid only during the call. The
 * callback may submit new requests to the same client; it must not free the client. */
typedef void (*http_done_fn)(void *ud, const struct http_response *resp);

struct http_client;

/* A client with its own multi handle and connection cache. opts may be NULL (all defaults).
 * Returns NULL with err set when libcurl cannot be initialised. Free with http_client_free(). */
struct http_client *http_client_new(const struct http_client_options *opts, struct lw_err *err);

/* Cancel every pending request (each callback runs with status 0, error "cancelled"), close the
 * connections and free. Safe on NULL. */
void http_client_free(struct http_client *c);

/* Queue req (copied entirely: the caller may free it and its strings on return). done is called
 * exactly once, later, from http_client_poll() — never from inside http_submit(). Returns -1 with
 * err set (and done is never called) on a missing URL or out of memory. */
LW_MUST_CHECK int http_submit(struct http_client *c, const struct http_request *req,
                              http_done_fn done, void *ud, struct lw_err *err);

/* Wait up to timeout_ms (0 = do not wait, -1 = until something happens or the next timer) for
 * network activity, drive every transfer, start delayed requests that came due and run the
 * callbacks of those that finished. Returns 0, or -1 if libcurl's multi interface failed. */
int http_client_poll(struct http_client *c, int timeout_ms);

/* A descriptor of the caller's for http_client_poll_fds to wait on for readability (the HTTP
 * endpoint's, a signal self-pipe). readable is set on return. */
struct http_waitfd {
    int fd;
    bool readable;
};
#define HTTP_MAX_WAITFDS 8

/* http_client_poll that also returns when one of fds[0..n_fds) becomes readable (the event
 * loop's single wait: libcurl's sockets, the HTTP endpoint, the signal pipe), and that waits even
 * when no request is pending (timeout_ms -1 then means up to a minute). Returns 0, or -1 if
 * libcurl failed or n_fds > HTTP_MAX_WAITFDS. */
int http_client_poll_fds(struct http_client *c, struct http_waitfd *fds, unsigned n_fds,
                         int timeout_ms);

/* Requests submitted whose callback has not run yet (delayed ones included). */
size_t http_client_pending(const struct http_client *c);

/* Milliseconds until the client needs http_client_poll() even without socket activity (libcurl's
 * timers and delayed starts); -1 when there is nothing pending. For an outer event loop. */
long http_client_timeout_ms(struct http_client *c);

/* The value of header name in r (case-insensitive; the first one when repeated), or NULL. */
const char *http_response_header(const struct http_response *r, const char *name);

/* Submit req and poll until it finishes (other pending requests are driven too). For CLI
 * commands and tests. On completion, *out owns a copy of the response (status 0 on transport
 * errors, like the callback) and 0 is returned: release it with http_response_cleanup(). -1 only
 * when the request could not be submitted or polling failed (err set, *out untouched). */
LW_MUST_CHECK int http_fetch_sync(struct http_client *c, const struct http_request *req,
                                  struct http_response *out, struct lw_err *err);

/* Deep-copy src into *dst (for callbacks that keep a response). 0, or -1 out of memory. */
LW_MUST_CHECK int http_response_copy(struct http_response *dst, const struct http_response *src);

/* Free what a response from http_fetch_sync()/http_response_copy() owns and zero it. Safe on a
 * zeroed response. */
void http_response_cleanup(struct http_response *r);

#endif
