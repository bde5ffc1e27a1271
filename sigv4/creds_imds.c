/*
 * creds_imds.c — EC2 instance metadata (IMDSv2): a session token from PUT /latest/api/token
 * (TTL LW_CREDS_IMDS_TOKEN_TTL_S), reused until shortly before its TTL and fetched again when
 * IMDS answers 401; the role name from /latest/meta-data/iam/security-credentials/, then that
 * role's credentials. The endpoint is 169.254.169.254, or [fd00:ec2::254] with
 * AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE=IPv6, or AWS_EC2_METADATA_SERVICE_ENDPOINT;
 * AWS_EC2_METADATA_DISABLED=true turns the provider off. IMDSv1 (no token) is never a silent
 * fallback: only with allow_v1, and only when the token call itself was refused (403/404/405).
 * The same token machinery answers the placement region for region.c (creds_imds_region).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "lagwatch/limits.h"
#include "lagwatch/private/creds_impl.h"

struct imds {
    int allow_v1;
    char token[256]; /* "" = none */
    int64_t token_expires_s;
    int v1; /* the token call was refused and allow_v1: run without a token */
};

static int imds_endpoint(const struct creds_options *o, char *out, size_t outlen,
                         struct lw_err *err)
{
    const char *ep = creds_env(o, "AWS_EC2_METADATA_SERVICE_ENDPOINT");
    const char *mode = creds_env(o, "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");
    if (ep) {
        size_t n = strlen(ep);
        while (n > 0 && ep[n - 1] == '/')
            n--;
        if (strncmp(ep, "http://", 7) != 0 && strncmp(ep, "https://", 8) != 0)
            return lw_err_set(err, 0, 0,
                              "imds: AWS_EC2_METADATA_SERVICE_ENDPOINT must be an http(s) URL");
        if (n >= outlen)
            return lw_err_set(err, 0, 0, "imds: AWS_EC2_METADATA_SERVICE_ENDPOINT too long");
        memcpy(out, ep, n);
        out[n] = '\0';
        return 0;
    }
    if (mode == NULL || strcasecmp(mode, "IPv4") == 0)
        snprintf(out, outlen, "http://169.254.169.254");
    else if (strcasecmp(mode, "IPv6") == 0)
        snprintf(out, outlen, "http://[fd00:ec2::254]");
    else
        return lw_err_set(err, 0, 0,
                          "imds: AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE must be IPv4 or IPv6, "
                          "not \"%.20s\"",
                          mode);
    return 0;
}

static void drop_token(struct imds *s)
{
    OPENSSL_cleanse(s->token, sizeof s->token);
    s->token_expires_s = 0;
}

static int fetch_token(const struct creds_options *o, struct imds *s, const char *base, int64_t now,
                       struct lw_err *err)
{
    char url[600], ttl[80];
    snprintf(url, sizeof url, "%s/latest/api/token", base);
    snprintf(ttl, sizeof ttl, "X-aws-ec2-metadata-token-ttl-seconds: %d",
             LW_CREDS_IMDS_TOKEN_TTL_S);
    const char *headers[] = {ttl};
    struct creds_http_response resp = {0};
    struct lw_err e = {0};
    int rc = -1;
    if (creds_http(o, "PUT", url, headers, 1, NULL, &resp, &e) != 0) {
        lw_err_set(err, 0, 0, "imds: token: %s", e.msg);
        goto cleanup;
    }
    if ((resp.status == 403 || resp.status == 404 || resp.status == 405) && s->allow_v1) {
        creds_log(o, CREDS_LOG_WARN, "IMDSv2 token refused; using IMDSv1 as configured", "imds",
                  NULL);
        s->v1 = 1;
        rc = 0;
        goto cleanup;
    }
    if (resp.status != 200) {
        lw_err_set(err, 0, 0, "imds: PUT %.200s answered HTTP %ld", url, resp.status);
        goto cleanup;
    }
    if (resp.body.len == 0 || resp.body.len >= sizeof s->token ||
        strpbrk(lw_buf_str(&resp.body), "\r\n")) {
        lw_err_set(err, 0, 0, "imds: the metadata token answer is malformed (%zu bytes)",
                   resp.body.len);
        goto cleanup;
    }
    memcpy(s->token, resp.body.data, resp.body.len + 1);
    s->token_expires_s = now + LW_CREDS_IMDS_TOKEN_TTL_S - LW_CREDS_IMDS_TOKEN_SLACK_S;
    rc = 0;
cleanup:
    creds_wipe_buf(&resp.body);
    lw_buf_cleanup(&resp.body);
    return rc;
}

/* GET base+path with the session token; on 401 fetch a new token and try once more. The body
 * (on 200) goes to *body (heap, caller frees); *status gets the final status. */
static int imds_get(const struct creds_options *o, struct imds *s, int64_t now, const char *path,
                    long *status, char **body, struct lw_err *err)
{
    char base[512], url[1024];
    *body = NULL;
    if (imds_endpoint(o, base, sizeof base, err) != 0)
        return -1;
    snprintf(url, sizeof url, "%s%s", base, path);
    for (int attempt = 0; attempt < 2; attempt++) {
        if (!s->v1 && (s->token[0] == '\0' || now >= s->token_expires_s)) {
            drop_token(s);
            if (fetch_token(o, s, base, now, err) != 0)
                return -1;
        }
        char hdr[320];
        snprintf(hdr, sizeof hdr, "X-aws-ec2-metadata-token: %s", s->token);
        const char *headers[] = {hdr};
        struct creds_http_response resp = {0};
        struct lw_err e = {0};
        int rc = creds_http(o, "GET", url, headers, s->v1 ? 0 : 1, NULL, &resp, &e);
        OPENSSL_cleanse(hdr, sizeof hdr);
        if (rc != 0) {
            lw_buf_cleanup(&resp.body);
            return lw_err_set(err, 0, 0, "imds: %s", e.msg);
        }
        *status = resp.status;
        if (resp.status == 401 && attempt == 0 && !s->v1) {
            creds_log(o, CREDS_LOG_DEBUG, "IMDS token rejected (401); fetching a new one", "imds",
                      NULL);
            drop_token(s);
            lw_buf_cleanup(&resp.body);
            continue;
        }
        if (resp.status != 200) {
            lw_buf_cleanup(&resp.body);
            *body = NULL;
            return 0;
        }
        *body = lw_buf_take(&resp.body);
        return *body ? 0 : lw_err_set(err, 0, 0, "imds: out of memory");
    }
    return 0; /* second 401: status says so */
}

static int metadata_disabled(const struct creds_options *o)
{
    const char *d = creds_env(o, "AWS_EC2_METADATA_DISABLED");
    return d && strcasecmp(d, "true") == 0;
}

static int imds_fetch(struct creds_provider *p, int64_t now, struct creds *out, struct lw_err *err)
{
    const struct creds_options *o = &p->opts;
    struct imds *s = p->impl;
    if (metadata_disabled(o))
        return lw_err_set(err, 0, 0, "imds: disabled by AWS_EC2_METADATA_DISABLED");
    long status = 0;
    char *role = NULL, *json = NULL;
    const char *list = "/latest/meta-data/iam/security-credentials/";
    if (imds_get(o, s, now, list, &status, &role, err) != 0)
        return -1;
    if (status == 404)
        return lw_err_set(err, 0, 0, "imds: no IAM role is attached to this instance (404)");
    if (status != 200)
        return lw_err_set(err, 0, 0, "imds: GET %s answered HTTP %ld", list, status);
    role[strcspn(role, "\r\n")] = '\0';
    int rc = -1;
    if (role[0] == '\0' || strpbrk(role, "/?#% ") || strlen(role) > 128) {
        lw_err_set(err, 0, 0, "imds: the IAM role name answer is malformed");
        goto cleanup;
    }
    char path[256];
    snprintf(path, sizeof path, "%s%s", list, role);
    if (imds_get(o, s, now, path, &status, &json, err) != 0)
        goto cleanup;
    if (status != 200) {
        lw_err_set(err, 0, 0, "imds: GET credentials of role %s answered HTTP %ld", role, status);
        goto cleanup;
    }
    rc = creds_parse_json(json, strlen(json), "imds", now, out, err);
cleanup:
    if (json)
        OPENSSL_cleanse(json, strlen(json));
    free(json);
    free(role);
    return rc;
}

static int imds_provider_get(struct creds_provider *p, int64_t now, struct creds *out,
                             struct lw_err *err)
{
    return imds_fetch(p, now, out, err);
}

static void imds_invalidate(struct creds_provider *p)
{
    drop_token(p->impl);
}

static void imds_destroy(void *impl)
{
    if (impl)
        drop_token(impl);
    free(impl);
}

static const struct creds_provider_vtable imds_vt = {"imds", imds_provider_get, imds_invalidate,
                                                     imds_destroy};

struct creds_provider *creds_imds_new(const struct creds_options *opts, int allow_v1)
{
    struct imds *s = calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    s->allow_v1 = allow_v1;
    return creds_provider_alloc(&imds_vt, opts, s);
}

int creds_imds_region(const struct creds_options *opts, int64_t now_unix_s, char **region,
                      struct lw_err *err)
{
    struct imds s = {0};
    struct creds_provider *p = creds_provider_alloc(&imds_vt, opts, NULL);
    if (p == NULL)
        return lw_err_set(err, 0, 0, "imds: out of memory");
    int rc = -1;
    long status = 0;
    char *body = NULL;
    if (metadata_disabled(&p->opts)) {
        lw_err_set(err, 0, 0, "imds: disabled by AWS_EC2_METADATA_DISABLED");
        goto cleanup;
    }
    if (imds_get(&p->opts, &s, now_unix_s, "/latest/meta-data/placement/region", &status, &body,
                 err) != 0)
        goto cleanup;
    if (status != 200) {
        lw_err_set(err, 0, 0, "imds: GET /latest/meta-data/placement/region answered HTTP %ld",
                   status);
        goto cleanup;
    }
    body[strcspn(body, "\r\n")] = '\0';
    if (body[0] == '\0' || strlen(body) > 64) {
        lw_err_set(err, 0, 0, "imds: the placement region answer is malformed");
        goto cleanup;
    }
    *region = body;
    body = NULL;
    rc = 0;
cleanup:
    free(body);
    drop_token(&s);
    creds_provider_free(p);
    return rc;
}
