/*
 * sigv4_suite.c — the AWS SigV4 test-suite file formats, so that `lagwatch aws sign` and the
 * tests can replay a case: request.txt (a raw HTTP/1.1 request: request line, header lines with
 * continuation lines, optional blank line and body) and context.json (credentials, region,
 * service, time and the switches). Also prints a signed request the way the suite's
 * *-signed-request.txt files do. Parsing is from buffers; errors carry line and column and never
 * quote a secret.
 */
#include "lagwatch/sigv4.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "lagwatch/limits.h"

/* Position of byte off in buf as 1-based line and column. */
static void position(const char *buf, size_t off, int *line, int *col)
{
    int l = 1, c = 1;
    for (size_t i = 0; i < off; i++) {
        if (buf[i] == '\n') {
            l++;
            c = 1;
        } else {
            c++;
        }
    }
    *line = l;
    *col = c;
}

static int perr(struct lw_err *err, const char *buf, size_t off, const char *msg)
{
    int line, col;
    position(buf, off, &line, &col);
    return lw_err_set(err, line, col, "%s", msg);
}

static bool token_char(unsigned char c)
{
    return c > 0x20 && c < 0x7f && c != ':';
}

int sigv4_suite_request_parse(const char *buf, size_t len, struct sigv4_suite_request *out,
                              struct lw_err *err)
{
    if (len > LW_MAX_FILE_BYTES)
        return lw_err_set(err, 0, 0, "request file larger than %u bytes", LW_MAX_FILE_BYTES);
    if (len == 0)
        return lw_err_set(err, 1, 1, "empty request file: expected 'METHOD TARGET HTTP/1.1'");
    char *s = malloc(len + 1);
    if (s == NULL)
        return lw_err_set(err, 0, 0, "out of memory");
    memcpy(s, buf, len);
    s[len] = '\0';
    struct sigv4_suite_request r = {.copy_ = s};
    size_t cap = 0;

    /* The request line. */
    size_t eol = 0;
    while (eol < len && s[eol] != '\n')
        eol++;
    size_t lend = eol > 0 && s[eol - 1] == '\r' ? eol - 1 : eol;
    if (lend > LW_MAX_HEADER_BYTES) {
        perr(err, buf, 0, "request line too long");
        goto fail;
    }
    for (size_t i = 0; i < lend; i++) {
        if (s[i] == '\0') {
            perr(err, buf, i, "NUL byte in the request line");
            goto fail;
        }
    }
    size_t sp1 = 0;
    while (sp1 < lend && s[sp1] != ' ')
        sp1++;
    size_t sp2 = lend;
    while (sp2 > 0 && s[sp2 - 1] != ' ')
        sp2--;
    if (sp1 == 0 || sp1 >= lend || sp2 == 0 || sp2 - 1 <= sp1) {
        perr(err, buf, sp1 < lend ? sp1 : 0, "expected 'METHOD TARGET HTTP/1.1'");
        goto fail;
    }
    sp2--; /* the last space */
    for (size_t i = 0; i < sp1; i++) {
        if (!token_char((unsigned char)s[i])) {
            perr(err, buf, i, "bad character in the method");
            goto fail;
        }
    }
    if (s[sp1 + 1] != '/') {
        perr(err, buf, sp1 + 1, "expected a request target starting with '/'");
        goto fail;
    }
    if (lend - (sp2 + 1) < 5 || memcmp(s + sp2 + 1, "HTTP/", 5) != 0) {
        perr(err, buf, sp2 + 1, "expected the protocol version 'HTTP/1.1'");
        goto fail;
    }
    s[sp1] = '\0';
    s[sp2] = '\0';
    s[lend] = '\0';
    r.method = s;
    r.path = s + sp1 + 1;
    r.version = s + sp2 + 1;
    char *q = memchr(r.path, '?', sp2 - sp1 - 1);
    if (q) {
        *q = '\0';
        r.query = q + 1;
    }

    /* Header lines, until a blank line or the end. */
    size_t pos = eol < len ? eol + 1 : len;
    size_t open_end = 0; /* where the value of the last header ends (to be NUL-terminated) */
    bool open = false;
    r.body = s + len;
    r.body_len = 0;
    while (pos < len) {
        size_t e = pos;
        while (e < len && s[e] != '\n')
            e++;
        size_t le = e > pos && s[e - 1] == '\r' ? e - 1 : e;
        if (le - pos > LW_MAX_HEADER_BYTES) {
            perr(err, buf, pos, "header line too long");
            goto fail;
        }
        if (le == pos) { /* blank line: the body follows */
            size_t b = e < len ? e + 1 : len;
            r.body = s + b;
            r.body_len = len - b;
            break;
        }
        for (size_t i = pos; i < le; i++) {
            if (s[i] == '\0') {
                perr(err, buf, i, "NUL byte in a header");
                goto fail;
            }
        }
        if (s[pos] == ' ' || s[pos] == '\t') { /* continuation of the previous value */
            if (!open) {
                perr(err, buf, pos, "continuation line before any header");
                goto fail;
            }
            open_end = le; /* keep "\n  value2" inside the raw value */
            pos = e < len ? e + 1 : len;
            continue;
        }
        if (open)
            s[open_end] = '\0';
        size_t colon = pos;
        while (colon < le && s[colon] != ':')
            colon++;
        if (colon == le) {
            perr(err, buf, pos, "expected 'Name:value' header line");
            goto fail;
        }
        if (colon == pos) {
            perr(err, buf, pos, "empty header name");
            goto fail;
        }
        for (size_t i = pos; i < colon; i++) {
            if (!token_char((unsigned char)s[i])) {
                perr(err, buf, i, "bad character in a header name");
                goto fail;
            }
        }
        if (r.n_headers == cap) {
            if (cap >= LW_MAX_SIGV4_HEADERS) {
                perr(err, buf, pos, "too many headers");
                goto fail;
            }
            size_t ncap = cap ? cap * 2 : 8;
            struct sigv4_header *nh = realloc(r.headers, ncap * sizeof *nh);
            if (nh == NULL) {
                lw_err_set(err, 0, 0, "out of memory");
                goto fail;
            }
            r.headers = nh;
            cap = ncap;
        }
        s[colon] = '\0';
        r.headers[r.n_headers].name = s + pos;
        r.headers[r.n_headers].value = s + colon + 1;
        r.n_headers++;
        open = true;
        open_end = le;
        pos = e < len ? e + 1 : len;
    }
    if (open)
        s[open_end] = '\0';
    *out = r;
    return 0;
fail:
    free(r.headers);
    free(s);
    return -1;
}

void sigv4_suite_request_cleanup(struct sigv4_suite_request *r)
{
    if (r == NULL)
        return;
    free(r->headers);
    free(r->copy_);
    memset(r, 0, sizeof *r);
}

/* Days since 1970-01-01 of a proleptic Gregorian date (valid for years 0..9999). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = y / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static bool digits(const char *s, size_t n, int64_t *v)
{
    int64_t x = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        x = x * 10 + (s[i] - '0');
    }
    *v = x;
    return true;
}

/* "2015-08-30T12:36:00Z" -> seconds since the epoch. */
static int parse_timestamp(const char *s, int64_t *out)
{
    int64_t y, mo, d, h, mi, se;
    if (strlen(s) != 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
        s[16] != ':' || s[19] != 'Z')
        return -1;
    if (!digits(s, 4, &y) || !digits(s + 5, 2, &mo) || !digits(s + 8, 2, &d) ||
        !digits(s + 11, 2, &h) || !digits(s + 14, 2, &mi) || !digits(s + 17, 2, &se))
        return -1;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || h > 23 || mi > 59 || se > 60)
        return -1;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo == 2 && d == 29 && !leap)
        return -1;
    *out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
    return 0;
}

static int ctx_string(json_t *obj, const char *key, bool required, char **out, const char *where,
                      struct lw_err *err)
{
    json_t *v = json_object_get(obj, key);
    if (v == NULL || json_is_null(v)) {
        *out = NULL;
        return required ? lw_err_set(err, 0, 0, "%s: missing string \"%s\"", where, key) : 0;
    }
    if (!json_is_string(v))
        return lw_err_set(err, 0, 0, "%s: \"%s\" must be a string", where, key);
    *out = strdup(json_string_value(v));
    if (*out == NULL)
        return lw_err_set(err, 0, 0, "out of memory");
    return 0;
}

static int ctx_bool(json_t *obj, const char *key, bool dflt, bool *out, struct lw_err *err)
{
    json_t *v = json_object_get(obj, key);
    if (v == NULL) {
        *out = dflt;
        return 0;
    }
    if (!json_is_boolean(v))
        return lw_err_set(err, 0, 0, "context: \"%s\" must be true or false", key);
    *out = json_is_true(v);
    return 0;
}

/* Wipe and free a strdup'ed string that holds a secret. */
static void free_secret(char *s)
{
    if (s) {
        OPENSSL_cleanse(s, strlen(s));
        free(s);
    }
}

void sigv4_suite_context_cleanup(struct sigv4_suite_context *c)
{
    if (c == NULL)
        return;
    free(c->access_key_id);
    free_secret(c->secret_access_key);
    free_secret(c->session_token);
    free(c->region);
    free(c->service);
    memset(c, 0, sizeof *c);
}

int sigv4_suite_context_parse(const char *buf, size_t len, struct sigv4_suite_context *out,
                              struct lw_err *err)
{
    if (len > LW_MAX_FILE_BYTES)
        return lw_err_set(err, 0, 0, "context file larger than %u bytes", LW_MAX_FILE_BYTES);
    json_error_t jerr;
    json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) {
        /* jansson quotes the text near the error ("near 'wJalr...'"), which may be a secret:
         * keep only the description. */
        char msg[sizeof jerr.text];
        snprintf(msg, sizeof msg, "%s", jerr.text);
        char *near = strstr(msg, " near ");
        if (near)
            *near = '\0';
        return lw_err_set(err, jerr.line > 0 ? jerr.line : 1, jerr.column > 0 ? jerr.column : 1,
                          "context JSON: %s", msg);
    }
    struct sigv4_suite_context c = {0};
    char *ts = NULL;
    int rc = -1;
    if (!json_is_object(root)) {
        lw_err_set(err, 1, 1, "context: expected a JSON object");
        goto cleanup;
    }
    json_t *cr = json_object_get(root, "credentials");
    if (!json_is_object(cr)) {
        lw_err_set(err, 0, 0, "context: missing object \"credentials\"");
        goto cleanup;
    }
    if (ctx_string(cr, "access_key_id", true, &c.access_key_id, "credentials", err) != 0 ||
        ctx_string(cr, "secret_access_key", true, &c.secret_access_key, "credentials", err) != 0 ||
        ctx_string(cr, "token", false, &c.session_token, "credentials", err) != 0 ||
        ctx_string(root, "region", true, &c.region, "context", err) != 0 ||
        ctx_string(root, "service", true, &c.service, "context", err) != 0 ||
        ctx_string(root, "timestamp", true, &ts, "context", err) != 0 ||
        ctx_bool(root, "normalize", true, &c.normalize, err) != 0 ||
        ctx_bool(root, "sign_body", false, &c.sign_body, err) != 0 ||
        ctx_bool(root, "omit_session_token", false, &c.omit_session_token, err) != 0)
        goto cleanup;
    if (parse_timestamp(ts, &c.unix_time_s) != 0) {
        lw_err_set(err, 0, 0, "context: \"timestamp\" must look like 2015-08-30T12:36:00Z");
        goto cleanup;
    }
    json_t *ex = json_object_get(root, "expiration_in_seconds");
    c.expires_s = 3600;
    if (ex != NULL) {
        if (!json_is_integer(ex) || json_integer_value(ex) < 1 || json_integer_value(ex) > 604800) {
            lw_err_set(err, 0, 0, "context: \"expiration_in_seconds\" must be 1..604800");
            goto cleanup;
        }
        c.expires_s = json_integer_value(ex);
    }
    *out = c;
    memset(&c, 0, sizeof c);
    rc = 0;
cleanup:
    free(ts);
    sigv4_suite_context_cleanup(&c);
    json_decref(root);
    return rc;
}

int sigv4_suite_sign(const struct sigv4_suite_request *req, const struct sigv4_suite_context *ctx,
                     enum sigv4_form form, struct sigv4_result *out, struct lw_err *err)
{
    struct sigv4_credentials creds = {ctx->access_key_id, ctx->secret_access_key,
                                      ctx->session_token};
    struct sigv4_request r = {
        .method = req->method,
        .host = NULL, /* the suite's requests carry a Host header */
        .path = req->path,
        .query = req->query,
        .headers = req->headers,
        .n_headers = req->n_headers,
        .body = req->body,
        .body_len = req->body_len,
    };
    struct sigv4_config cfg = {
        .region = ctx->region,
        .service = ctx->service,
        .unix_time_s = ctx->unix_time_s,
        .creds = &creds,
        .form = form,
        .normalize_path = ctx->normalize,
        .double_encode_path = true,
        .sign_content_sha256 = ctx->sign_body,
        .omit_session_token = ctx->omit_session_token,
        .expires_s = ctx->expires_s,
    };
    return sigv4_sign(NULL, &r, &cfg, out, err);
}

int sigv4_suite_format_signed(const struct sigv4_suite_request *req, const struct sigv4_result *res,
                              enum sigv4_form form, struct lw_buf *out)
{
    lw_buf_adds(out, req->method);
    lw_buf_addc(out, ' ');
    lw_buf_adds(out, req->path);
    if (form == SIGV4_FORM_QUERY) {
        lw_buf_addc(out, '?');
        if (req->query && req->query[0]) {
            lw_buf_adds(out, req->query);
            lw_buf_addc(out, '&');
        }
        for (size_t i = 0; i < res->n_add; i++)
            lw_buf_addf(out, "%s%s=%s", i ? "&" : "", res->add[i].name, res->add[i].value);
    } else if (req->query) {
        lw_buf_addc(out, '?');
        lw_buf_adds(out, req->query);
    }
    lw_buf_addf(out, " %s\n", req->version);
    for (size_t i = 0; i < req->n_headers; i++)
        lw_buf_addf(out, "%s:%s\n", req->headers[i].name, req->headers[i].value);
    if (form == SIGV4_FORM_HEADER)
        for (size_t i = 0; i < res->n_add; i++)
            lw_buf_addf(out, "%s:%s\n", res->add[i].name, res->add[i].value);
    lw_buf_addc(out, '\n');
    lw_buf_add(out, req->body, req->body_len);
    return lw_buf_failed(out) ? -1 : 0;
}
