/*
 * creds_ecs.c — ECS (and EKS Pod Identity, which uses the same variables) container credentials.
 * AWS_CONTAINER_CREDENTIALS_RELATIVE_URI is a path on the ECS agent at 169.254.170.2;
 * AWS_CONTAINER_CREDENTIALS_FULL_URI may point anywhere over https, but over plain http only at
 * loopback or the container endpoints (169.254.170.2, 169.254.170.23, fd00:ec2::23), so a
 * mistyped variable cannot send the authorization token across a network in clear text. The
 * token comes from AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (re-read each time: it rotates) or
 * AWS_CONTAINER_AUTHORIZATION_TOKEN, and a token with CR or LF is refused (header injection).
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "lagwatch/limits.h"
#include "lagwatch/private/creds_impl.h"

#define ECS_HOST "169.254.170.2"

/* Whether host (as curl's URL parser gives it, IPv6 in brackets) may be reached over http. */
static int http_host_allowed(const char *host)
{
    if (strcasecmp(host, "localhost") == 0 || strcmp(host, ECS_HOST) == 0 ||
        strcmp(host, "169.254.170.23") == 0)
        return 1;
    struct in_addr a4;
    if (inet_pton(AF_INET, host, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    size_t n = strlen(host);
    if (n > 2 && host[0] == '[' && host[n - 1] == ']') {
        char v6[64];
        if (n - 2 >= sizeof v6)
            return 0;
        memcpy(v6, host + 1, n - 2);
        v6[n - 2] = '\0';
        struct in6_addr a6, want;
        if (inet_pton(AF_INET6, v6, &a6) != 1)
            return 0;
        if (IN6_IS_ADDR_LOOPBACK(&a6))
            return 1;
        return inet_pton(AF_INET6, "fd00:ec2::23", &want) == 1 &&
               memcmp(&a6, &want, sizeof a6) == 0;
    }
    return 0;
}

/* Check a FULL_URI: 0 when it may be used, -1 with err. */
static int check_full_uri(const char *uri, struct lw_err *err)
{
    CURLU *u = curl_url();
    if (u == NULL)
        return lw_err_set(err, 0, 0, "ecs: out of memory");
    char *scheme = NULL, *host = NULL;
    int rc = -1;
    if (curl_url_set(u, CURLUPART_URL, uri, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
        lw_err_set(err, 0, 0, "ecs: AWS_CONTAINER_CREDENTIALS_FULL_URI is not a URL");
        goto cleanup;
    }
    if (strcasecmp(scheme, "https") == 0) {
        rc = 0;
    } else if (strcasecmp(scheme, "http") != 0) {
        lw_err_set(err, 0, 0, "ecs: AWS_CONTAINER_CREDENTIALS_FULL_URI must be http or https");
    } else if (!http_host_allowed(host)) {
        lw_err_set(err, 0, 0,
                   "ecs: AWS_CONTAINER_CREDENTIALS_FULL_URI host %.100s is not allowed over "
                   "http (only loopback, 169.254.170.2, 169.254.170.23, fd00:ec2::23; use "
                   "https)",
                   host);
    } else {
        rc = 0;
    }
cleanup:
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    return rc;
}

static int ecs_get(struct creds_provider *p, int64_t now, struct creds *out, struct lw_err *err)
{
    const struct creds_options *o = &p->opts;
    const char *rel = creds_env(o, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    const char *full = creds_env(o, "AWS_CONTAINER_CREDENTIALS_FULL_URI");
    char url[2048];
    if (rel) {
        if (rel[0] != '/')
            return lw_err_set(err, 0, 0,
                              "ecs: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI must start with /");
        if ((size_t)snprintf(url, sizeof url, "http://%s%s", ECS_HOST, rel) >= sizeof url)
            return lw_err_set(err, 0, 0, "ecs: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI too long");
    } else if (full) {
        if (check_full_uri(full, err) != 0)
            return -1;
        if ((size_t)snprintf(url, sizeof url, "%s", full) >= sizeof url)
            return lw_err_set(err, 0, 0, "ecs: AWS_CONTAINER_CREDENTIALS_FULL_URI too long");
    } else {
        return lw_err_set(err, 0, 0,
                          "ecs: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and _FULL_URI not set");
    }

    char *token = NULL;
    const char *token_file = creds_env(o, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
    const char *token_env = creds_env(o, "AWS_CONTAINER_AUTHORIZATION_TOKEN");
    if (token_file) {
        token = creds_read_token_file(token_file, "ecs", err);
        if (token == NULL)
            return -1;
    } else if (token_env) {
        token = strdup(token_env);
        if (token == NULL)
            return lw_err_set(err, 0, 0, "ecs: out of memory");
    }
    int rc = -1;
    struct creds_http_response resp = {0};
    struct lw_buf hdr;
    lw_buf_init(&hdr, LW_MAX_HEADER_BYTES);
    if (token && strpbrk(token, "\r\n")) {
        lw_err_set(err, 0, 0, "ecs: the container authorization token contains CR or LF");
        goto cleanup;
    }
    const char *headers[2] = {"Accept: application/json", NULL};
    size_t nh = 1;
    if (token) {
        if (lw_buf_addf(&hdr, "Authorization: %s", token) != 0) {
            lw_err_set(err, 0, 0, "ecs: the container authorization token is too long");
            goto cleanup;
        }
        headers[nh++] = lw_buf_str(&hdr);
    }
    struct lw_err e = {0};
    if (creds_http(o, "GET", url, headers, nh, NULL, &resp, &e) != 0) {
        lw_err_set(err, 0, 0, "ecs: %s", e.msg);
        goto cleanup;
    }
    if (resp.status != 200) {
        lw_err_set(err, 0, 0, "ecs: GET %.200s answered HTTP %ld", url, resp.status);
        goto cleanup;
    }
    rc = creds_parse_json(lw_buf_str(&resp.body), resp.body.len, "ecs", now, out, err);
cleanup:
    creds_wipe_buf(&hdr);
    lw_buf_cleanup(&hdr);
    lw_buf_cleanup(&resp.body);
    creds_free_secret(token);
    return rc;
}

static void ecs_destroy(void *impl)
{
    (void)impl;
}

static const struct creds_provider_vtable ecs_vt = {"ecs", ecs_get, NULL, ecs_destroy};

struct creds_provider *creds_ecs_new(const struct creds_options *opts)
{
    return creds_provider_alloc(&ecs_vt, opts, NULL);
}
