/*
 * sigv4_driver.c — test-only bridge for the differential test against botocore
 * (sigv4_botocore.py): reads one JSON request per line on stdin, signs it with
 * sigv4_sign_for_http() (one shared key cache, as the agent does) and with sigv4_sign() under
 * the same switches, and writes one JSON line per request: the Authorization, X-Amz-Date,
 * X-Amz-Content-SHA256 values and the canonical request (to show where a difference starts).
 * Input fields: method, host, path, query (string or null), headers ([[name, value], ...]),
 * body_hex, region, service, time (unix seconds), akid, secret, token (or null), sign_sha256.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "lagwatch/sigv4.h"

static const char *str_or_null(json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static int sign_one(struct sigv4_key_cache *cache, json_t *in, json_t **out_json)
{
    json_t *hs = json_object_get(in, "headers");
    size_t n = json_array_size(hs);
    struct sigv4_header *h = calloc(n ? n : 1, sizeof *h);
    const char *hex = str_or_null(in, "body_hex");
    size_t blen = hex ? strlen(hex) / 2 : 0;
    unsigned char *body = malloc(blen ? blen : 1);
    if (h == NULL || body == NULL)
        return -1;
    for (size_t i = 0; i < n; i++) {
        h[i].name = json_string_value(json_array_get(json_array_get(hs, i), 0));
        h[i].value = json_string_value(json_array_get(json_array_get(hs, i), 1));
    }
    for (size_t i = 0; i < blen; i++)
        body[i] = (unsigned char)(hexval(hex[2 * i]) * 16 + hexval(hex[2 * i + 1]));
    struct sigv4_request req = {
        .method = str_or_null(in, "method"),
        .host = str_or_null(in, "host"),
        .path = str_or_null(in, "path"),
        .query = str_or_null(in, "query"),
        .headers = h,
        .n_headers = n,
        .body = body,
        .body_len = blen,
    };
    struct sigv4_credentials creds = {str_or_null(in, "akid"), str_or_null(in, "secret"),
                                      str_or_null(in, "token")};
    const char *region = str_or_null(in, "region"), *service = str_or_null(in, "service");
    int64_t t = json_integer_value(json_object_get(in, "time"));
    bool sha = json_is_true(json_object_get(in, "sign_sha256"));

    struct sigv4_signed s = {0};
    struct sigv4_result r = {0};
    struct lw_err err = {0};
    json_t *o = json_object();
    if (sigv4_sign_for_http(cache, &req, region, service, t, &creds, sha, &s, &err) != 0) {
        json_object_set_new(o, "error", json_string(err.msg));
    } else {
        json_object_set_new(o, "authorization", json_string(s.authorization));
        json_object_set_new(o, "amz_date", json_string(s.amz_date));
        json_object_set_new(o, "content_sha256",
                            s.content_sha256 ? json_string(s.content_sha256) : json_null());
        json_object_set_new(o, "security_token",
                            s.security_token ? json_string(s.security_token) : json_null());
    }
    struct sigv4_config cfg = {.region = region,
                               .service = service,
                               .unix_time_s = t,
                               .creds = &creds,
                               .form = SIGV4_FORM_HEADER,
                               .normalize_path = true,
                               .double_encode_path = true,
                               .sign_content_sha256 = sha};
    if (sigv4_sign(NULL, &req, &cfg, &r, &err) == 0) {
        json_object_set_new(o, "canonical_request", json_string(r.canonical_request));
        json_object_set_new(o, "staged_authorization",
                            json_string(r.n_add ? r.add[r.n_add - 1].value : ""));
    }
    sigv4_signed_cleanup(&s);
    sigv4_result_cleanup(&r);
    free(h);
    free(body);
    *out_json = o;
    return 0;
}

int main(void)
{
    struct sigv4_key_cache *cache = sigv4_key_cache_new();
    if (cache == NULL)
        return 1;
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    int rc = 0;
    while ((got = getline(&line, &cap, stdin)) > 0) {
        json_error_t jerr;
        json_t *in = json_loadb(line, (size_t)got, 0, &jerr);
        json_t *out = NULL;
        if (in == NULL || sign_one(cache, in, &out) != 0) {
            fprintf(stderr, "sigv4_driver: bad input line: %s\n", in ? "?" : jerr.text);
            rc = 1;
            json_decref(in);
            break;
        }
        char *s = json_dumps(out, JSON_COMPACT);
        puts(s);
        free(s);
        json_decref(out);
        json_decref(in);
    }
    free(line);
    uint64_t hits, misses;
    sigv4_key_cache_stats(cache, &hits, &misses);
    fprintf(stderr, "sigv4_driver: key cache %llu hits, %llu misses\n", (unsigned long long)hits,
            (unsigned long long)misses);
    sigv4_key_cache_free(cache);
    return rc;
}
