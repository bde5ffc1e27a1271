/*
 * aws.h — one signed AWS API call, end to end, on the agent's HTTP client: credentials from a
 * creds_provider, SigV4 from the sigv4 module, retries with exponential backoff and full jitter
 * for throttling, 5xx and transport errors (a bounded attempt count; other 4xx are final), one
 * credential refresh and retry on ExpiredToken, and a clock-skew correction (logged once) when AWS
 * says the request time is off. Errors from both wire protocols lagwatch speaks — JSON 1.0
 * (`__type`, `message`, `x-amzn-query-error`) and Query/XML (`<Error><Code>`) — are parsed and
 * turned into a message an operator can act on (AccessDenied names the missing IAM action).
 * The parsing and classification helpers are pure and exposed for tests and fuzzing.
 */
#ifndef LAGWATCH_AWS_H
#define LAGWATCH_AWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lagwatch/error.h"
#include "lagwatch/http.h"

#define AWS_DEFAULT_MAX_ATTEMPTS  5
#define AWS_DEFAULT_BASE_DELAY_MS 100L
#define AWS_DEFAULT_MAX_DELAY_MS  20000L
/* AWS refuses signatures more than 5 minutes off; correct the clock past this much skew. */
#define AWS_SKEW_THRESHOLD_S 240

/* An AWS error as the service sent it. Empty strings when a part was absent. */
struct aws_error {
    int status; /* HTTP status; 0 = transport error (code is then "") */
    char code[128];
    char message[512];
    char request_id[128];
};

/* Fill out from a non-2xx response: JSON bodies (`__type` with any "prefix#" removed, `message`
 * or `Message`), the `x-amzn-query-error: Code;Sender` header (which wins for awsQueryCompatible
 * services), XML bodies (`<Error><Code>`/`<Message>` at any depth, `<RequestId>`), the request id
 * from `x-amzn-RequestId`/`x-amz-request-id` or the body. Never fails: an unparseable body leaves
 * code "" and puts the start of the body (printable bytes only) in message. */
void aws_parse_error(const struct http_response *r, struct aws_error *out);

/* Throttling codes (Throttling, ThrottlingException, TooManyRequestsException,
 * RequestLimitExceeded, ...). */
bool aws_error_is_throttling(const char *code);

/* Whether a failed attempt may be retried: transport errors, throttling codes, 429, 5xx,
 * transient codes (RequestTimeout, InternalError, ServiceUnavailable...). */
bool aws_error_is_retryable(const struct aws_error *e);

/* Full jitter: a uniform draw in [0, min(cap_ms, base_ms * 2^attempt)] from rnd (any 64 bits).
 * attempt counts from 0 (the delay before the second attempt). */
long aws_backoff_ms(int attempt, long base_ms, long cap_ms, uint64_t rnd);

/* Write an actionable one-line message for e about the call iam_action ("cloudwatch:GetMetricData")
 * into out: the cause in operator terms first, then AWS's code, message and request id. */
void aws_error_explain(const struct aws_error *e, const char *iam_action, char *out, size_t outlen);

/* The server clock from an HTTP Date header (RFC 7231), Unix seconds; -1 when absent/bad. */
int64_t aws_parse_http_date(const char *value);

struct creds_provider;

struct aws_client_options {
    struct http_client *http;     /* borrowed; outlives the aws client */
    struct creds_provider *creds; /* borrowed */
    int max_attempts;             /* 0: AWS_DEFAULT_MAX_ATTEMPTS (1 = no retries) */
    long base_delay_ms;           /* 0: AWS_DEFAULT_BASE_DELAY_MS */
    long max_delay_ms;            /* 0: AWS_DEFAULT_MAX_DELAY_MS */
    long connect_timeout_ms;      /* per attempt; 0: the HTTP layer's default */
    long timeout_ms;              /* per attempt; 0: the HTTP layer's default */
    /* Wall clock in Unix seconds; NULL: the system clock (tests inject a wrong one). */
    int64_t (*now_s)(void *ud);
    void *now_ud;
};

struct aws_client;

/* NULL with err set when opts lacks http or creds, or out of memory. */
struct aws_client *aws_client_new(const struct aws_client_options *opts, struct lw_err *err);

/* Free the client. Calls still in flight are cancelled first (their callbacks run with status 0,
 * "cancelled") — free the http client after this, not before. Safe on NULL. */
void aws_client_free(struct aws_client *c);

enum aws_protocol {
    AWS_PROTOCOL_JSON10, /* POST /, application/x-amz-json-1.0, X-Amz-Target */
    AWS_PROTOCOL_QUERY,  /* POST /, application/x-www-form-urlencoded, Action=...&Version=... */
};

/* One API call. Everything is copied by aws_submit(). */
struct aws_call {
    const char
        *endpoint;       /* "https://monitoring.us-east-1.amazonaws.com", "http://127.0.0.1:5000" */
    const char *region;  /* signing region */
    const char *service; /* signing name: "monitoring", "rds" */
    const char *iam_action; /* "cloudwatch:GetMetricData", for messages */
    enum aws_protocol protocol;
    const char *target; /* JSON 1.0: the X-Amz-Target value */
    const char *body;   /* the JSON document or the form-encoded Query parameters */
    size_t body_len;
};

struct aws_result {
    int status;       /* final HTTP status (0 after a transport error) */
    bool ok;          /* 2xx */
    const char *body; /* the final response body (NUL-terminated; also on errors) */
    size_t body_len;
    const struct aws_error *error; /* NULL when ok */
    const char *message;           /* actionable text when !ok (aws_error_explain); NULL when ok */
    int attempts;                  /* HTTP attempts made */
    double total_s;                /* from submit to completion, backoff included */
};

/* Valid only during the call. */
typedef void (*aws_done_fn)(void *ud, const struct aws_result *r);

/* Sign and queue call; done runs exactly once from http_client_poll() (never from inside
 * aws_submit()). -1 with err set (and done never called) when the first attempt cannot be sent:
 * bad endpoint, no credentials, signing refused, out of memory. Later attempts that cannot be
 * sent end the call through done. */
LW_MUST_CHECK int aws_submit(struct aws_client *c, const struct aws_call *call, aws_done_fn done,
                             void *ud, struct lw_err *err);

struct aws_stats {
    uint64_t calls;       /* aws_submit()s that completed */
    uint64_t attempts;    /* HTTP attempts */
    uint64_t retries;     /* attempts after the first */
    uint64_t throttled;   /* attempts answered with a throttling code or 429 */
    uint64_t failed;      /* calls that ended !ok */
    int64_t clock_skew_s; /* server minus local, once corrected; 0 otherwise */
};

void aws_client_stats(const struct aws_client *c, struct aws_stats *out);

#endif
