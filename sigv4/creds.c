/*
 * creds.c — the credential value and the provider interface: copying and wiping credentials,
 * dispatch through the vtable, option defaults, and the helpers every provider shares (the
 * injected environment, logging and HTTP, the AWS time format, the JSON the ECS and IMDS
 * endpoints answer with, token files). The providers themselves live in creds_<source>.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "lagwatch/limits.h"
#include "lagwatch/private/creds_impl.h"

void creds_free_secret(char *s)
{
    if (s == NULL)
        return;
    OPENSSL_cleanse(s, strlen(s));
    free(s);
}

void creds_wipe_buf(struct lw_buf *b)
{
    if (b->data)
        OPENSSL_cleanse(b->data, b->cap);
}

void creds_cleanup(struct creds *c)
{
    if (c == NULL)
        return;
    free(c->access_key_id);
    creds_free_secret(c->secret_access_key);
    creds_free_secret(c->session_token);
    memset(c, 0, sizeof *c);
}

int creds_copy(struct creds *dst, const struct creds *src)
{
    struct creds t = {0};
    t.access_key_id = strdup(src->access_key_id ? src->access_key_id : "");
    t.secret_access_key = strdup(src->secret_access_key ? src->secret_access_key : "");
    if (src->session_token)
        t.session_token = strdup(src->session_token);
    t.expires_unix_s = src->expires_unix_s;
    t.provider = src->provider;
    if (t.access_key_id == NULL || t.secret_access_key == NULL ||
        (src->session_token && t.session_token == NULL)) {
        creds_cleanup(&t);
        memset(dst, 0, sizeof *dst);
        return -1;
    }
    *dst = t;
    return 0;
}

static const char *default_getenv(void *ud, const char *name)
{
    (void)ud;
    return getenv(name);
}

void creds_options_defaults(struct creds_options *dst, const struct creds_options *src)
{
    if (src)
        *dst = *src;
    else
        memset(dst, 0, sizeof *dst);
    if (dst->http == NULL)
        dst->http = creds_http_curl;
    if (dst->getenv == NULL)
        dst->getenv = default_getenv;
    if (dst->connect_timeout_ms <= 0)
        dst->connect_timeout_ms = LW_CREDS_CONNECT_TIMEOUT_MS;
    if (dst->timeout_ms <= 0)
        dst->timeout_ms = LW_CREDS_TIMEOUT_MS;
}

struct creds_provider *creds_provider_alloc(const struct creds_provider_vtable *vt,
                                            const struct creds_options *opts, void *impl)
{
    struct creds_provider *p = calloc(1, sizeof *p);
    if (p == NULL) {
        vt->destroy(impl);
        return NULL;
    }
    p->vt = vt;
    creds_options_defaults(&p->opts, opts);
    p->impl = impl;
    return p;
}

int creds_provider_get(struct creds_provider *p, int64_t now_unix_s, struct creds *out,
                       struct lw_err *err)
{
    if (p == NULL)
        return lw_err_set(err, 0, 0, "no credential provider");
    return p->vt->get(p, now_unix_s, out, err);
}

void creds_provider_invalidate(struct creds_provider *p)
{
    if (p && p->vt->invalidate)
        p->vt->invalidate(p);
}

const char *creds_provider_name(const struct creds_provider *p)
{
    return p ? p->vt->name : "none";
}

void creds_provider_free(struct creds_provider *p)
{
    if (p == NULL)
        return;
    p->vt->destroy(p->impl);
    free(p);
}

const char *creds_env(const struct creds_options *o, const char *name)
{
    const char *v = o->getenv(o->getenv_ud, name);
    return v && v[0] ? v : NULL;
}

void creds_log(const struct creds_options *o, enum creds_log_level level, const char *msg,
               const char *provider, const char *detail)
{
    if (o->log)
        o->log(o->log_ud, level, msg, provider, detail);
}

int creds_http(const struct creds_options *o, const char *method, const char *url,
               const char *const *headers, size_t n_headers, const char *body,
               struct creds_http_response *resp, struct lw_err *err)
{
    struct creds_http_request req = {
        .method = method,
        .url = url,
        .headers = headers,
        .n_headers = n_headers,
        .body = body,
        .body_len = body ? strlen(body) : 0,
        .connect_timeout_ms = o->connect_timeout_ms,
        .timeout_ms = o->timeout_ms,
        .max_body_bytes = LW_MAX_CREDS_BODY_BYTES,
    };
    resp->status = 0;
    lw_buf_init(&resp->body, LW_MAX_CREDS_BODY_BYTES);
    return o->http(o->http_ud, &req, resp, err);
}

/* ---- time ------------------------------------------------------------------------------------*/

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's civil algorithm). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

int creds_parse_iso8601(const char *s, int64_t *out_unix_s)
{
    int y, mo, d, h, mi, se;
    if (s == NULL || strlen(s) < 20)
        return -1;
    if (digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) || s[7] != '-' ||
        digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') || digits(s + 11, 2, &h) ||
        s[13] != ':' || digits(s + 14, 2, &mi) || s[16] != ':' || digits(s + 17, 2, &se))
        return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
        return -1;
    const char *p = s + 19;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9')
            return -1;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if (!((p[0] == 'Z' && p[1] == '\0') || strcmp(p, "+00:00") == 0))
        return -1;
    *out_unix_s = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
    return 0;
}

void creds_format_iso8601(int64_t unix_s, char *out, size_t outlen)
{
    time_t t = (time_t)unix_s;
    struct tm tm;
    if (gmtime_r(&t, &tm) == NULL || strftime(out, outlen, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(out, outlen, "?");
}

/* ---- the JSON of ECS and IMDS -----------------------------------------------------------------*/

static const char *json_str(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

int creds_parse_json(const char *body, size_t len, const char *provider, int64_t now_unix_s,
                     struct creds *out, struct lw_err *err)
{
    json_error_t jerr;
    json_t *root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL)
        /* Not jerr.text: jansson quotes the offending token, which may be part of a secret. */
        return lw_err_set(err, jerr.line > 0 ? jerr.line : 0, jerr.column > 0 ? jerr.column : 0,
                          "%s: credentials answer is not JSON (line %d, column %d)", provider,
                          jerr.line, jerr.column);
    int rc = -1;
    struct creds c = {0};
    if (!json_is_object(root)) {
        lw_err_set(err, 0, 0, "%s: credentials answer is not a JSON object", provider);
        goto cleanup;
    }
    const char *code = json_str(root, "Code");
    if (json_object_get(root, "Code") && (code == NULL || strcmp(code, "Success") != 0)) {
        lw_err_set(err, 0, 0, "%s: credentials answer has Code \"%.64s\"", provider,
                   code ? code : "?");
        goto cleanup;
    }
    const char *ak = json_str(root, "AccessKeyId");
    const char *sk = json_str(root, "SecretAccessKey");
    const char *tok = json_str(root, "Token");
    const char *exp = json_str(root, "Expiration");
    if (ak == NULL || ak[0] == '\0' || sk == NULL || sk[0] == '\0') {
        lw_err_set(err, 0, 0, "%s: credentials answer lacks AccessKeyId or SecretAccessKey",
                   provider);
        goto cleanup;
    }
    if (json_object_get(root, "Token") && tok == NULL) {
        lw_err_set(err, 0, 0, "%s: credentials answer has a non-string Token", provider);
        goto cleanup;
    }
    if (exp) {
        if (creds_parse_iso8601(exp, &c.expires_unix_s) != 0) {
            lw_err_set(err, 0, 0, "%s: credentials answer has a bad Expiration \"%.40s\"", provider,
                       exp);
            goto cleanup;
        }
        if (c.expires_unix_s <= now_unix_s) {
            lw_err_set(err, 0, 0, "%s: credentials for %.32s already expired at %.40s", provider,
                       ak, exp);
            goto cleanup;
        }
    }
    c.access_key_id = strdup(ak);
    c.secret_access_key = strdup(sk);
    c.session_token = tok && tok[0] ? strdup(tok) : NULL;
    c.provider = provider;
    if (c.access_key_id == NULL || c.secret_access_key == NULL ||
        (tok && tok[0] && c.session_token == NULL)) {
        lw_err_set(err, 0, 0, "%s: out of memory", provider);
        goto cleanup;
    }
    *out = c;
    memset(&c, 0, sizeof c);
    rc = 0;
cleanup:
    creds_cleanup(&c);
    /* jansson keeps copies of the strings: wipe the secret ones before freeing the tree. */
    json_t *v = json_object_get(root, "SecretAccessKey");
    if (json_is_string(v))
        OPENSSL_cleanse((char *)json_string_value(v), json_string_length(v));
    v = json_object_get(root, "Token");
    if (json_is_string(v))
        OPENSSL_cleanse((char *)json_string_value(v), json_string_length(v));
    json_decref(root);
    return rc;
}

char *creds_read_token_file(const char *path, const char *provider, struct lw_err *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        lw_err_set(err, 0, 0, "%s: cannot read token file %.200s: %s", provider, path,
                   strerror(errno));
        return NULL;
    }
    size_t cap = LW_MAX_CREDS_TOKEN_BYTES + 1;
    char *s = malloc(cap + 1);
    if (s == NULL) {
        fclose(f);
        lw_err_set(err, 0, 0, "%s: out of memory", provider);
        return NULL;
    }
    size_t n = fread(s, 1, cap, f);
    int bad = ferror(f);
    fclose(f);
    s[n] = '\0';
    if (bad || n > LW_MAX_CREDS_TOKEN_BYTES) {
        lw_err_set(err, 0, 0, "%s: token file %.200s %s", provider, path,
                   bad ? "could not be read" : "is too large");
        OPENSSL_cleanse(s, n);
        free(s);
        return NULL;
    }
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    if (n == 0 || strlen(s) != n) {
        lw_err_set(err, 0, 0, "%s: token file %.200s is %s", provider, path,
                   n == 0 ? "empty" : "binary");
        OPENSSL_cleanse(s, n);
        free(s);
        return NULL;
    }
    return s;
}

/* ---- static keys ------------------------------------------------------------------------------*/

static int static_get(struct creds_provider *p, int64_t now_unix_s, struct creds *out,
                      struct lw_err *err)
{
    (void)now_unix_s;
    if (creds_copy(out, p->impl) != 0)
        return lw_err_set(err, 0, 0, "static: out of memory");
    return 0;
}

static void static_destroy(void *impl)
{
    creds_cleanup(impl);
    free(impl);
}

static const struct creds_provider_vtable static_vt = {"static", static_get, NULL, static_destroy};

struct creds_provider *creds_static_new(const char *access_key_id, const char *secret,
                                        const char *session_token)
{
    if (access_key_id == NULL || access_key_id[0] == '\0' || secret == NULL || secret[0] == '\0')
        return NULL;
    struct creds *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    struct creds src = {(char *)access_key_id, (char *)secret,
                        session_token && session_token[0] ? (char *)session_token : NULL, 0,
                        "static"};
    if (creds_copy(c, &src) != 0) {
        free(c);
        return NULL;
    }
    return creds_provider_alloc(&static_vt, NULL, c);
}

/* ---- environment ------------------------------------------------------------------------------*/

static int env_get(struct creds_provider *p, int64_t now_unix_s, struct creds *out,
                   struct lw_err *err)
{
    (void)now_unix_s;
    const char *ak = creds_env(&p->opts, "AWS_ACCESS_KEY_ID");
    const char *sk = creds_env(&p->opts, "AWS_SECRET_ACCESS_KEY");
    const char *tok = creds_env(&p->opts, "AWS_SESSION_TOKEN");
    if (ak == NULL && sk == NULL)
        return lw_err_set(err, 0, 0, "env: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY not set");
    if (ak == NULL || sk == NULL)
        return lw_err_set(err, 0, 0, "env: %s is set but %s is not",
                          ak ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
                          ak ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
    struct creds src = {(char *)ak, (char *)sk, (char *)tok, 0, "env"};
    if (creds_copy(out, &src) != 0)
        return lw_err_set(err, 0, 0, "env: out of memory");
    return 0;
}

static void nothing_destroy(void *impl)
{
    (void)impl;
}

static const struct creds_provider_vtable env_vt = {"env", env_get, NULL, nothing_destroy};

struct creds_provider *creds_env_new(const struct creds_options *opts)
{
    return creds_provider_alloc(&env_vt, opts, NULL);
}
