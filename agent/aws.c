/*
 * aws.c — signed AWS calls with retries on the agent's HTTP client; see aws.h. An operation (one
 * aws_submit) lives until its callback ran: each attempt fetches credentials, signs at the
 * (skew-corrected) current time and submits to the HTTP client, the backoff being the HTTP
 * layer's start delay, so nothing here blocks or keeps timers. The error body is parsed with
 * jansson (JSON 1.0) or libxml2 (Query/XML) — never by hand — and mapped to an operator's terms.
 * This file knows no service: CloudWatch and RDS build their bodies and parse their answers in
 * cloudwatch.c and rds.c.
 */
#include "lagwatch/aws.h"

#include <ctype.h>
#include <curl/curl.h>
#include <jansson.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "lagwatch/buf.h"
#include "lagwatch/creds.h"
#include "lagwatch/limits.h"
#include "lagwatch/log.h"
#include "lagwatch/sched.h"
#include "lagwatch/sigv4.h"

/* ---- pure helpers --------------------------------------------------------------------------*/

static void copy_str(char *dst, size_t cap, const char *s, size_t n)
{
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, s, n);
    dst[n] = '\0';
}

static const char *skip_ws(const char *s, const char *end)
{
    while (s < end && isspace((unsigned char)*s))
        s++;
    return s;
}

static void parse_json_error(const char *body, size_t len, struct aws_error *e)
{
    json_error_t jerr;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!json_is_object(root)) {
        json_decref(root);
        return;
    }
    const char *type = json_string_value(json_object_get(root, "__type"));
    if (type == NULL)
        type = json_string_value(json_object_get(root, "code"));
    if (type) {
        /* "com.amazonaws.cloudwatch#ResourceNotFound" or "...#Code:http://..." -> "Code" */
        const char *hash = strrchr(type, '#');
        const char *start = hash ? hash + 1 : type;
        const char *colon = strchr(start, ':');
        copy_str(e->code, sizeof e->code, start, colon ? (size_t)(colon - start) : strlen(start));
    }
    const char *msg = json_string_value(json_object_get(root, "message"));
    if (msg == NULL)
        msg = json_string_value(json_object_get(root, "Message"));
    if (msg)
        copy_str(e->message, sizeof e->message, msg, strlen(msg));
    json_decref(root);
}

static const xmlNode *find_element(const xmlNode *n, const char *name, int depth)
{
    for (; n && depth < 16; n = n->next) {
        if (n->type == XML_ELEMENT_NODE && xmlStrcmp(n->name, (const xmlChar *)name) == 0)
            return n;
        const xmlNode *in = find_element(n->children, name, depth + 1);
        if (in)
            return in;
    }
    return NULL;
}

static void element_text(const xmlNode *root, const char *name, char *out, size_t cap)
{
    const xmlNode *n = find_element(root, name, 0);
    if (n == NULL)
        return;
    xmlChar *t = xmlNodeGetContent(n);
    if (t) {
        copy_str(out, cap, (const char *)t, strlen((const char *)t));
        xmlFree(t);
    }
}

static void parse_xml_error(const char *body, size_t len, struct aws_error *e)
{
    if (len > (size_t)INT32_MAX)
        return;
    xmlDoc *doc = xmlReadMemory(body, (int)len, NULL, NULL,
                                XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (doc == NULL)
        return;
    const xmlNode *root = xmlDocGetRootElement(doc);
    const xmlNode *err = find_element(root, "Error", 0);
    if (err) {
        element_text(err->children, "Code", e->code, sizeof e->code);
        element_text(err->children, "Message", e->message, sizeof e->message);
    }
    if (e->request_id[0] == '\0') {
        element_text(root, "RequestId", e->request_id, sizeof e->request_id);
        if (e->request_id[0] == '\0')
            element_text(root, "RequestID", e->request_id, sizeof e->request_id);
    }
    xmlFreeDoc(doc);
}

void aws_parse_error(const struct http_response *r, struct aws_error *e)
{
    memset(e, 0, sizeof *e);
    e->status = r->status;
    if (r->status == 0) {
        const char *why = r->error ? r->error : "transport error";
        copy_str(e->message, sizeof e->message, why, strlen(why));
        return;
    }
    const char *rid = http_response_header(r, "x-amzn-RequestId");
    if (rid == NULL)
        rid = http_response_header(r, "x-amz-request-id");
    if (rid)
        copy_str(e->request_id, sizeof e->request_id, rid, strlen(rid));
    const char *body = r->body ? r->body : "";
    const char *end = body + r->body_len;
    const char *p = skip_ws(body, end);
    if (p < end && *p == '{')
        parse_json_error(body, r->body_len, e);
    else if (p < end && *p == '<')
        parse_xml_error(body, r->body_len, e);
    /* awsQueryCompatible services put the Query-protocol code in a header; it is the one the
     * service documents, so it wins over the JSON __type. */
    const char *qe = http_response_header(r, "x-amzn-query-error");
    if (qe && *qe) {
        const char *semi = strchr(qe, ';');
        copy_str(e->code, sizeof e->code, qe, semi ? (size_t)(semi - qe) : strlen(qe));
    }
    if (e->code[0] == '\0' && e->message[0] == '\0') {
        /* Not an AWS error shape (a proxy's page, a truncated body): keep its printable start. */
        size_t n = 0;
        for (const char *q = p; q < end && n < 200 && n + 1 < sizeof e->message; q++)
            e->message[n++] = isprint((unsigned char)*q) ? *q : ' ';
        e->message[n] = '\0';
    }
}

static bool code_in(const char *code, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(code, *list) == 0)
            return true;
    return false;
}

/* botocore's throttling list (retryhandler / standard retry mode). */
static const char *const throttling_codes[] = {"Throttling",
                                               "ThrottlingException",
                                               "ThrottledException",
                                               "RequestThrottledException",
                                               "TooManyRequestsException",
                                               "ProvisionedThroughputExceededException",
                                               "TransactionInProgressException",
                                               "RequestLimitExceeded",
                                               "BandwidthLimitExceeded",
                                               "LimitExceededException",
                                               "RequestThrottled",
                                               "SlowDown",
                                               "PriorRequestNotComplete",
                                               "EC2ThrottledException",
                                               NULL};

static const char *const transient_codes[] = {"RequestTimeout",
                                              "RequestTimeoutException",
                                              "InternalError",
                                              "InternalFailure",
                                              "ServiceUnavailable",
                                              "InternalServiceError",
                                              NULL};

bool aws_error_is_throttling(const char *code)
{
    return code && code_in(code, throttling_codes);
}

bool aws_error_is_retryable(const struct aws_error *e)
{
    if (e->status == 0 || e->status == 429 || e->status >= 500)
        return true;
    return aws_error_is_throttling(e->code) || code_in(e->code, transient_codes);
}

long aws_backoff_ms(int attempt, long base_ms, long cap_ms, uint64_t rnd)
{
    if (base_ms <= 0 || cap_ms <= 0)
        return 0;
    long ceiling = base_ms;
    for (int i = 0; i < attempt && ceiling < cap_ms; i++)
        ceiling = ceiling > cap_ms / 2 ? cap_ms : ceiling * 2;
    if (ceiling > cap_ms)
        ceiling = cap_ms;
    return (long)(rnd % (uint64_t)(ceiling + 1));
}

static const char *const access_denied_codes[] = {"AccessDenied",          "AccessDeniedException",
                                                  "UnauthorizedOperation", "AuthorizationError",
                                                  "NotAuthorized",         NULL};
static const char *const signature_codes[] = {"SignatureDoesNotMatch", "InvalidSignatureException",
                                              "IncompleteSignature", NULL};
static const char *const unknown_key_codes[] = {
    "InvalidClientTokenId", "UnrecognizedClientException", "InvalidAccessKeyId", NULL};
static const char *const expired_codes[] = {"ExpiredToken", "ExpiredTokenException",
                                            "TokenRefreshRequired", NULL};
static const char *const skew_codes[] = {"RequestExpired", "RequestTimeTooSkewed",
                                         "RequestInTheFuture", NULL};

void aws_error_explain(const struct aws_error *e, const char *iam_action, char *out, size_t outlen)
{
    const char *action = iam_action && *iam_action ? iam_action : "the API action";
    struct lw_buf b;
    lw_buf_init(&b, outlen > 0 ? outlen - 1 : 0);
    if (e->status == 0) {
        lw_buf_addf(&b, "cannot reach AWS for %s: %s", action, e->message);
        goto done;
    }
    if (code_in(e->code, access_denied_codes))
        lw_buf_addf(&b,
                    "access denied: the IAM identity lagwatch runs as is not allowed %s; add it "
                    "to the identity's policy (packaging/iam/lagwatch-policy.json lists all "
                    "lagwatch needs)",
                    action);
    else if (code_in(e->code, signature_codes))
        lw_buf_addf(&b,
                    "AWS rejected the signature of %s: the secret access key does not match "
                    "the access key id (check the configured credentials), or a proxy "
                    "changed the request; 'lagwatch aws sign' shows what was signed",
                    action);
    else if (code_in(e->code, unknown_key_codes))
        lw_buf_addf(&b,
                    "AWS does not know the access key id used for %s (deleted or inactive "
                    "key, or credentials of another partition)",
                    action);
    else if (code_in(e->code, expired_codes))
        lw_buf_addf(&b,
                    "the session token used for %s has expired and refreshing the "
                    "credentials did not help; check the credential source",
                    action);
    else if (code_in(e->code, skew_codes))
        lw_buf_addf(&b,
                    "AWS says the request time of %s is off by more than 5 minutes; fix "
                    "this host's clock (NTP)",
                    action);
    else if (strcmp(e->code, "DBClusterNotFoundFault") == 0)
        lw_buf_addf(&b, "the RDS cluster does not exist in this account and region (check "
                        "pipelines[].aurora.cluster and its region)");
    else if (aws_error_is_throttling(e->code) || e->status == 429)
        lw_buf_addf(&b,
                    "AWS kept throttling %s through every retry; poll less often or ask "
                    "for a higher API quota",
                    action);
    else if (e->status >= 500)
        lw_buf_addf(&b, "AWS failed %s with HTTP %d through every retry", action, e->status);
    else
        lw_buf_addf(&b, "AWS refused %s", action);
    lw_buf_addf(&b, " (AWS: HTTP %d", e->status);
    if (e->code[0])
        lw_buf_addf(&b, " %s", e->code);
    if (e->message[0])
        lw_buf_addf(&b, ": %s", e->message);
    if (e->request_id[0])
        lw_buf_addf(&b, "; request id %s", e->request_id);
    lw_buf_adds(&b, ")");
done:
    /* A message that did not fit is cut, not lost: keep what was written before the failure. */
    snprintf(out, outlen, "%s", lw_buf_str(&b));
    lw_buf_cleanup(&b);
}

int64_t aws_parse_http_date(const char *value)
{
    if (value == NULL)
        return -1;
    time_t t = curl_getdate(value, NULL);
    return t < 0 ? -1 : (int64_t)t;
}

/* ---- the client ----------------------------------------------------------------------------*/

struct aws_op {
    struct aws_client *client; /* NULL once the client was freed while this was in flight */
    struct aws_op *prev, *next;
    char *url, *host, *path, *region, *service, *iam_action, *target, *body;
    size_t body_len;
    enum aws_protocol protocol;
    aws_done_fn done;
    void *ud;
    int attempts;
    bool refreshed_creds;
    bool skew_retried;
    int64_t t0_ms;
};

struct aws_client {
    struct aws_client_options o;
    struct sigv4_key_cache *keys;
    struct aws_op *ops;
    struct aws_stats stats;
    bool skew_logged;
};

static int64_t system_now_s(void *ud)
{
    (void)ud;
    return (int64_t)time(NULL);
}

struct aws_client *aws_client_new(const struct aws_client_options *opts, struct lw_err *err)
{
    if (opts == NULL || opts->http == NULL || opts->creds == NULL) {
        lw_err_set(err, 0, 0, "AWS client needs an HTTP client and a credentials provider");
        return NULL;
    }
    struct aws_client *c = calloc(1, sizeof *c);
    if (c == NULL) {
        lw_err_set(err, 0, 0, "out of memory");
        return NULL;
    }
    c->o = *opts;
    if (c->o.max_attempts <= 0)
        c->o.max_attempts = AWS_DEFAULT_MAX_ATTEMPTS;
    if (c->o.base_delay_ms <= 0)
        c->o.base_delay_ms = AWS_DEFAULT_BASE_DELAY_MS;
    if (c->o.max_delay_ms <= 0)
        c->o.max_delay_ms = AWS_DEFAULT_MAX_DELAY_MS;
    if (c->o.now_s == NULL)
        c->o.now_s = system_now_s;
    c->keys = sigv4_key_cache_new();
    if (c->keys == NULL) {
        free(c);
        lw_err_set(err, 0, 0, "cannot set up SigV4 (OpenSSL lacks SHA-256/HMAC?)");
        return NULL;
    }
    return c;
}

static void op_free(struct aws_op *op)
{
    free(op->url);
    free(op->host);
    free(op->path);
    free(op->region);
    free(op->service);
    free(op->iam_action);
    free(op->target);
    free(op->body);
    free(op);
}

static void op_unlink(struct aws_client *c, struct aws_op *op)
{
    if (op->prev)
        op->prev->next = op->next;
    else
        c->ops = op->next;
    if (op->next)
        op->next->prev = op->prev;
    op->prev = op->next = NULL;
}

/* Complete op: run the callback, forget it. */
static void op_finish(struct aws_op *op, const struct http_response *resp,
                      const struct aws_error *e, const char *message)
{
    struct aws_client *c = op->client;
    struct aws_result r = {0};
    r.status = resp ? resp->status : 0;
    r.ok = e == NULL;
    r.body = resp && resp->body ? resp->body : "";
    r.body_len = resp ? resp->body_len : 0;
    r.error = e;
    r.message = e ? message : NULL;
    r.attempts = op->attempts;
    r.total_s = (double)(lw_mono_ms() - op->t0_ms) / 1000.0;
    c->stats.calls++;
    if (!r.ok)
        c->stats.failed++;
    op_unlink(c, op);
    op->done(op->ud, &r);
    op_free(op);
}

/* Finish op after an attempt could not even be sent (err says why). */
static void fail_local(struct aws_op *op, const struct lw_err *err)
{
    struct aws_error e = {0};
    snprintf(e.message, sizeof e.message, "%s", err->msg);
    op_finish(op, NULL, &e, e.message);
}

static void on_http(void *ud, const struct http_response *resp);

/* Sign and send one attempt, started after delay_ms. -1 with err set when it cannot be sent
 * (no credentials, signing refused, HTTP client closing). */
static int attempt(struct aws_op *op, long delay_ms, struct lw_err *err)
{
    struct aws_client *c = op->client;
    struct lw_err cerr = {0};
    struct creds cr = {0};
    int64_t now_s = c->o.now_s(c->o.now_ud) + c->stats.clock_skew_s;
    if (creds_provider_get(c->o.creds, now_s, &cr, &cerr) != 0)
        return lw_err_set(err, 0, 0, "no AWS credentials: %s", cerr.msg);
    const char *ctype = op->protocol == AWS_PROTOCOL_JSON10
                            ? "application/x-amz-json-1.0"
                            : "application/x-www-form-urlencoded; charset=utf-8";
    struct sigv4_header sh[2] = {{"Content-Type", ctype}, {"X-Amz-Target", op->target}};
    size_t nsh = op->protocol == AWS_PROTOCOL_JSON10 ? 2 : 1;
    struct sigv4_request sreq = {.method = "POST",
                                 .host = op->host,
                                 .path = op->path,
                                 .headers = sh,
                                 .n_headers = nsh,
                                 .body = op->body,
                                 .body_len = op->body_len};
    struct sigv4_credentials sc = {cr.access_key_id, cr.secret_access_key, cr.session_token};
    struct sigv4_signed sig = {0};
    int rc = sigv4_sign_for_http(c->keys, &sreq, op->region, op->service, now_s, &sc, false, &sig,
                                 &cerr);
    creds_cleanup(&cr);
    if (rc != 0)
        return lw_err_set(err, 0, 0, "cannot sign the request: %s", cerr.msg);
    struct http_header h[5];
    size_t nh = 0;
    h[nh++] = (struct http_header){"Content-Type", ctype};
    if (op->protocol == AWS_PROTOCOL_JSON10)
        h[nh++] = (struct http_header){"X-Amz-Target", op->target};
    h[nh++] = (struct http_header){"X-Amz-Date", sig.amz_date};
    h[nh++] = (struct http_header){"Authorization", sig.authorization};
    if (sig.security_token)
        h[nh++] = (struct http_header){"X-Amz-Security-Token", sig.security_token};
    struct http_request req = {.method = "POST",
                               .url = op->url,
                               .headers = h,
                               .n_headers = nh,
                               .body = op->body,
                               .body_len = op->body_len,
                               .connect_timeout_ms = c->o.connect_timeout_ms,
                               .timeout_ms = c->o.timeout_ms,
                               .accept_gzip = true,
                               .start_delay_ms = delay_ms};
    rc = http_submit(c->o.http, &req, on_http, op, &cerr);
    sigv4_signed_cleanup(&sig);
    if (rc != 0)
        return lw_err_set(err, 0, 0, "cannot send the request: %s", cerr.msg);
    return 0;
}

/* Retry op after delay_ms, or finish it when even that is impossible. */
static void retry(struct aws_op *op, long delay_ms)
{
    struct lw_err err = {0};
    if (attempt(op, delay_ms, &err) != 0)
        fail_local(op, &err);
}

static uint64_t random64(void)
{
    uint64_t r = 0;
    if (RAND_bytes((unsigned char *)&r, sizeof r) != 1)
        r = (uint64_t)lw_mono_ms() * 0x9E3779B97F4A7C15ull;
    return r;
}

static void on_http(void *ud, const struct http_response *resp)
{
    struct aws_op *op = ud;
    struct aws_client *c = op->client;
    if (c == NULL) { /* the client went away while this attempt was in flight */
        op_free(op);
        return;
    }
    op->attempts++;
    c->stats.attempts++;
    if (op->attempts > 1)
        c->stats.retries++;
    if (resp->status >= 200 && resp->status < 300) {
        op_finish(op, resp, NULL, NULL);
        return;
    }
    struct aws_error e;
    aws_parse_error(resp, &e);
    if (aws_error_is_throttling(e.code) || e.status == 429)
        c->stats.throttled++;
    if (code_in(e.code, expired_codes) && !op->refreshed_creds) {
        /* Temporary credentials expired under us: fetch new ones and try once more. */
        op->refreshed_creds = true;
        creds_provider_invalidate(c->o.creds);
        retry(op, 0);
        return;
    }
    if ((code_in(e.code, skew_codes) || code_in(e.code, signature_codes)) && !op->skew_retried) {
        int64_t server = aws_parse_http_date(http_response_header(resp, "Date"));
        int64_t local = c->o.now_s(c->o.now_ud);
        int64_t skew = server >= 0 ? server - local : 0;
        if (server >= 0 && (skew > AWS_SKEW_THRESHOLD_S || skew < -AWS_SKEW_THRESHOLD_S)) {
            op->skew_retried = true;
            c->stats.clock_skew_s = skew;
            if (!c->skew_logged) {
                c->skew_logged = true;
                char s[32];
                snprintf(s, sizeof s, "%lld", (long long)skew);
                log_kv(LOG_LEVEL_WARN,
                       "this host's clock is off from AWS's; signing with AWS's time from now on "
                       "(fix NTP)",
                       "skew_s", s, "service", op->service, NULL);
            }
            retry(op, 0);
            return;
        }
    }
    if (aws_error_is_retryable(&e) && op->attempts < c->o.max_attempts) {
        long delay =
            aws_backoff_ms(op->attempts - 1, c->o.base_delay_ms, c->o.max_delay_ms, random64());
        retry(op, delay);
        return;
    }
    char msg[1024];
    aws_error_explain(&e, op->iam_action, msg, sizeof msg);
    op_finish(op, resp, &e, msg);
}

static char *dup0(const char *s)
{
    if (s == NULL)
        s = "";
    size_t n = strlen(s);
    char *p = malloc(n + 1);
    if (p)
        memcpy(p, s, n + 1);
    return p;
}

/* Host (with a non-default port) and path of endpoint, by libcurl's URL parser. */
static int split_endpoint(const char *endpoint, char **host, char **path, struct lw_err *err)
{
    CURLU *u = curl_url();
    char *h = NULL, *port = NULL, *p = NULL, *scheme = NULL;
    int rc = -1;
    if (u == NULL)
        return lw_err_set(err, 0, 0, "out of memory");
    if (curl_url_set(u, CURLUPART_URL, endpoint, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &h, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PATH, &p, 0) != CURLUE_OK) {
        lw_err_set(err, 0, 0, "AWS endpoint '%s' is not a URL", endpoint);
        goto out;
    }
    if (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) {
        lw_err_set(err, 0, 0, "AWS endpoint '%s' is not http or https", endpoint);
        goto out;
    }
    curl_url_get(u, CURLUPART_PORT, &port, 0);
    bool default_port = port == NULL ||
                        (strcmp(scheme, "https") == 0 && strcmp(port, "443") == 0) ||
                        (strcmp(scheme, "http") == 0 && strcmp(port, "80") == 0);
    struct lw_buf b;
    lw_buf_init(&b, 1024);
    lw_buf_adds(&b, h);
    if (!default_port)
        lw_buf_addf(&b, ":%s", port);
    if (lw_buf_failed(&b)) {
        lw_buf_cleanup(&b);
        lw_err_set(err, 0, 0, "AWS endpoint host is too long");
        goto out;
    }
    *host = lw_buf_take(&b);
    *path = dup0(p && *p ? p : "/");
    rc = 0;
out:
    curl_free(h);
    curl_free(port);
    curl_free(p);
    curl_free(scheme);
    curl_url_cleanup(u);
    return rc;
}

int aws_submit(struct aws_client *c, const struct aws_call *call, aws_done_fn done, void *ud,
               struct lw_err *err)
{
    if (call->endpoint == NULL || call->region == NULL || call->service == NULL || done == NULL)
        return lw_err_set(err, 0, 0, "AWS call without endpoint, region, service or callback");
    if (call->protocol == AWS_PROTOCOL_JSON10 && call->target == NULL)
        return lw_err_set(err, 0, 0, "JSON 1.0 AWS call without X-Amz-Target");
    struct aws_op *op = calloc(1, sizeof *op);
    if (op == NULL)
        return lw_err_set(err, 0, 0, "out of memory");
    if (split_endpoint(call->endpoint, &op->host, &op->path, err) != 0) {
        op_free(op);
        return -1;
    }
    op->url = dup0(call->endpoint);
    op->region = dup0(call->region);
    op->service = dup0(call->service);
    op->iam_action = dup0(call->iam_action);
    op->target = dup0(call->target);
    op->body = malloc(call->body_len + 1);
    if (!op->url || !op->region || !op->service || !op->iam_action || !op->target || !op->body) {
        op_free(op);
        return lw_err_set(err, 0, 0, "out of memory");
    }
    if (call->body_len)
        memcpy(op->body, call->body, call->body_len);
    op->body[call->body_len] = '\0';
    op->body_len = call->body_len;
    op->protocol = call->protocol;
    op->done = done;
    op->ud = ud;
    op->client = c;
    op->t0_ms = lw_mono_ms();
    op->next = c->ops;
    if (c->ops)
        c->ops->prev = op;
    c->ops = op;
    /* A first attempt that cannot be sent is reported here, not through the callback (which
     * must never run from inside aws_submit). */
    if (attempt(op, 0, err) != 0) {
        op_unlink(c, op);
        op_free(op);
        return -1;
    }
    return 0;
}

void aws_client_free(struct aws_client *c)
{
    if (c == NULL)
        return;
    while (c->ops) {
        struct aws_op *op = c->ops;
        op_unlink(c, op);
        struct aws_result r = {.status = 0, .ok = false, .body = "", .attempts = op->attempts};
        struct aws_error e = {0};
        snprintf(e.message, sizeof e.message, "cancelled");
        r.error = &e;
        r.message = "cancelled";
        op->done(op->ud, &r);
        /* The HTTP request still refers to op: orphan it; on_http frees it. */
        op->client = NULL;
    }
    sigv4_key_cache_free(c->keys);
    free(c);
}

void aws_client_stats(const struct aws_client *c, struct aws_stats *out)
{
    *out = c->stats;
}
