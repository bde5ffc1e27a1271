/*
 * test_sigv4.c — the SigV4 signer against the AWS test suite (all 38 cases, header and
 * presigned-URL forms, every stage byte for byte), the convenience entry point the AWS clients
 * use, the derived-key cache, the canonicalisation rules one by one, and the refusals.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <openssl/evp.h>

#include "lagwatch/sigv4.h"
#include "testsupport.h"

#define SUITE "sigv4-testsuite"

static const char *const suite_cases[] = {
    "get-header-key-duplicate",
    "get-header-value-multiline",
    "get-header-value-order",
    "get-header-value-trim",
    "get-relative-normalized",
    "get-relative-relative-normalized",
    "get-relative-relative-unnormalized",
    "get-relative-unnormalized",
    "get-slash-dot-slash-normalized",
    "get-slash-dot-slash-unnormalized",
    "get-slash-normalized",
    "get-slash-pointless-dot-normalized",
    "get-slash-pointless-dot-unnormalized",
    "get-slash-unnormalized",
    "get-slashes-normalized",
    "get-slashes-unnormalized",
    "get-space-normalized",
    "get-space-unnormalized",
    "get-unreserved",
    "get-utf8",
    "get-vanilla",
    "get-vanilla-empty-query-key",
    "get-vanilla-query",
    "get-vanilla-query-order-encoded",
    "get-vanilla-query-order-key-case",
    "get-vanilla-query-unreserved",
    "get-vanilla-utf8-query",
    "get-vanilla-with-session-token",
    "post-header-key-case",
    "post-header-key-sort",
    "post-header-value-case",
    "post-sts-header-after",
    "post-sts-header-before",
    "post-vanilla",
    "post-vanilla-empty-query-value",
    "post-vanilla-query",
    "post-x-www-form-urlencoded",
    "post-x-www-form-urlencoded-parameters",
};
#define N_CASES (sizeof suite_cases / sizeof suite_cases[0])

static char *read_case_file(const char *c, const char *file, size_t *len)
{
    char rel[512], path[1024];
    snprintf(rel, sizeof rel, SUITE "/%s/%s", c, file);
    ts_reference_path(path, sizeof path, rel);
    char *s = ts_read_file(path, len);
    if (s == NULL)
        fail_msg("cannot read %s", path);
    return s;
}

static void load_case(const char *c, struct sigv4_suite_request *req,
                      struct sigv4_suite_context *ctx)
{
    size_t len;
    struct lw_err err = {0};
    char *txt = read_case_file(c, "request.txt", &len);
    if (sigv4_suite_request_parse(txt, len, req, &err) != 0)
        fail_msg("%s/request.txt:%d:%d: %s", c, err.line, err.col, err.msg);
    free(txt);
    char *js = read_case_file(c, "context.json", &len);
    if (sigv4_suite_context_parse(js, len, ctx, &err) != 0)
        fail_msg("%s/context.json: %s", c, err.msg);
    free(js);
}

static void expect_file(const char *c, const char *file, const char *got, size_t got_len)
{
    size_t len;
    char *want = read_case_file(c, file, &len);
    if (len != got_len || memcmp(want, got, len) != 0)
        fail_msg("%s/%s differs\n--- want\n%s\n--- got\n%.*s\n---", c, file, want, (int)got_len,
                 got);
    free(want);
}

/* The string to sign must end with the SHA-256 of exactly the canonical request returned (a
 * canonical request with hidden bytes after a NUL would sign something else). */
static void expect_sts_hashes_canonical(const struct sigv4_result *res)
{
    unsigned char md[32];
    unsigned int mdlen = 0;
    assert_int_equal(EVP_Digest(res->canonical_request, strlen(res->canonical_request), md, &mdlen,
                                EVP_sha256(), NULL),
                     1);
    char hex[65];
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    const char *last = strrchr(res->string_to_sign, '\n');
    assert_non_null(last);
    assert_string_equal(last + 1, hex);
}

static void run_case(const char *c, enum sigv4_form form)
{
    const char *pre = form == SIGV4_FORM_HEADER ? "header" : "query";
    struct sigv4_suite_request req;
    struct sigv4_suite_context ctx;
    load_case(c, &req, &ctx);
    struct sigv4_result res = {0};
    struct lw_err err = {0};
    if (sigv4_suite_sign(&req, &ctx, form, &res, &err) != 0)
        fail_msg("%s: %s", c, err.msg);
    char file[128];
    expect_sts_hashes_canonical(&res);
    snprintf(file, sizeof file, "%s-canonical-request.txt", pre);
    expect_file(c, file, res.canonical_request, strlen(res.canonical_request));
    snprintf(file, sizeof file, "%s-string-to-sign.txt", pre);
    expect_file(c, file, res.string_to_sign, strlen(res.string_to_sign));
    snprintf(file, sizeof file, "%s-signature.txt", pre);
    expect_file(c, file, res.signature, strlen(res.signature));
    struct lw_buf out;
    lw_buf_init(&out, 1u << 20);
    assert_int_equal(sigv4_suite_format_signed(&req, &res, form, &out), 0);
    snprintf(file, sizeof file, "%s-signed-request.txt", pre);
    expect_file(c, file, lw_buf_str(&out), out.len);
    lw_buf_cleanup(&out);
    sigv4_result_cleanup(&res);
    sigv4_suite_request_cleanup(&req);
    sigv4_suite_context_cleanup(&ctx);
}

static void test_suite_case_header_form(void **state)
{
    run_case(*state, SIGV4_FORM_HEADER);
}

static void test_suite_case_query_form(void **state)
{
    run_case(*state, SIGV4_FORM_QUERY);
}

static void test_suite_has_exactly_the_38_cases(void **state)
{
    (void)state;
    char path[1024];
    ts_reference_path(path, sizeof path, SUITE);
    DIR *d = opendir(path);
    assert_non_null(d);
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || strcmp(e->d_name, "SOURCE.md") == 0)
            continue;
        bool known = false;
        for (size_t i = 0; i < N_CASES; i++)
            known |= strcmp(suite_cases[i], e->d_name) == 0;
        if (!known)
            fail_msg("suite case %s is not run by this test", e->d_name);
        n++;
    }
    closedir(d);
    assert_int_equal(n, 38);
    assert_int_equal(N_CASES, 38);
}

/* ---- the convenience entry point ---- */

static const struct sigv4_credentials suite_creds = {
    "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", NULL};
static const int64_t suite_time = 1440938160; /* 2015-08-30T12:36:00Z */

static char *case_signature(const char *c, const char *file)
{
    size_t len;
    return read_case_file(c, file, &len);
}

static void test_sign_for_http_matches_suite_get_vanilla(void **state)
{
    (void)state;
    struct sigv4_request req = {.method = "GET", .host = "example.amazonaws.com", .path = "/"};
    struct sigv4_signed out = {0};
    struct lw_err err = {0};
    assert_int_equal(sigv4_sign_for_http(NULL, &req, "us-east-1", "service", suite_time,
                                         &suite_creds, false, &out, &err),
                     0);
    char *sig = case_signature("get-vanilla", "header-signature.txt");
    char want[512];
    snprintf(want, sizeof want,
             "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
             "SignedHeaders=host;x-amz-date, Signature=%s",
             sig);
    assert_string_equal(out.authorization, want);
    assert_string_equal(out.amz_date, "20150830T123600Z");
    assert_null(out.security_token);
    assert_null(out.content_sha256);
    free(sig);
    sigv4_signed_cleanup(&out);
    assert_null(out.authorization);
}

static void test_sign_for_http_signs_session_token(void **state)
{
    (void)state;
    struct sigv4_credentials creds = suite_creds;
    creds.session_token = "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267";
    struct sigv4_request req = {.method = "GET", .host = "example.amazonaws.com", .path = "/"};
    struct sigv4_signed out = {0};
    struct lw_err err = {0};
    assert_int_equal(sigv4_sign_for_http(NULL, &req, "us-east-1", "service", suite_time, &creds,
                                         false, &out, &err),
                     0);
    char *sig = case_signature("get-vanilla-with-session-token", "header-signature.txt");
    assert_non_null(strstr(out.authorization, sig));
    assert_non_null(
        strstr(out.authorization, "SignedHeaders=host;x-amz-date;x-amz-security-token"));
    assert_string_equal(out.security_token, creds.session_token);
    free(sig);
    sigv4_signed_cleanup(&out);
}

static void test_sign_for_http_signs_body_hash_when_asked(void **state)
{
    (void)state;
    const struct sigv4_header hs[] = {
        {"Content-Type", "application/x-www-form-urlencoded"},
        {"Content-Length", "13"},
    };
    struct sigv4_request req = {.method = "POST",
                                .host = "example.amazonaws.com",
                                .path = "/",
                                .headers = hs,
                                .n_headers = 2,
                                .body = "Param1=value1",
                                .body_len = 13};
    struct sigv4_signed out = {0};
    struct lw_err err = {0};
    assert_int_equal(sigv4_sign_for_http(NULL, &req, "us-east-1", "service", suite_time,
                                         &suite_creds, true, &out, &err),
                     0);
    char *sig = case_signature("post-x-www-form-urlencoded", "header-signature.txt");
    assert_non_null(strstr(out.authorization, sig));
    assert_string_equal(out.content_sha256,
                        "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e");
    free(sig);
    sigv4_signed_cleanup(&out);
}

static void test_caller_payload_hash_is_signed_as_given(void **state)
{
    (void)state;
    const struct sigv4_header hs[] = {{"X-Amz-Content-SHA256", " UNSIGNED-PAYLOAD "}};
    struct sigv4_request req = {.method = "PUT",
                                .host = "bucket.s3.amazonaws.com",
                                .path = "/key",
                                .headers = hs,
                                .n_headers = 1,
                                .body = "data",
                                .body_len = 4};
    struct sigv4_config cfg = {
        .region = "us-east-1", .service = "s3", .unix_time_s = suite_time, .creds = &suite_creds};
    struct sigv4_key_cache *cache = sigv4_key_cache_new();
    struct sigv4_result a = {0}, b = {0};
    struct lw_err err = {0};
    assert_int_equal(sigv4_sign(cache, &req, &cfg, &a, &err), 0);
    assert_int_equal(sigv4_sign(NULL, &req, &cfg, &b, &err), 0);
    const char *last = strrchr(a.canonical_request, '\n');
    assert_string_equal(last + 1, "UNSIGNED-PAYLOAD");
    assert_non_null(strstr(a.canonical_request, "\nx-amz-content-sha256:UNSIGNED-PAYLOAD\n"));
    expect_sts_hashes_canonical(&a);
    assert_string_equal(a.signature, b.signature);
    sigv4_result_cleanup(&a);
    sigv4_result_cleanup(&b);
    /* Asking the signer to add the header as well is a contradiction. */
    cfg.sign_content_sha256 = true;
    assert_int_equal(sigv4_sign(cache, &req, &cfg, &a, &err), -1);
    assert_non_null(strstr(err.msg, "x-amz-content-sha256"));
    sigv4_key_cache_free(cache);
}

static void test_host_keeps_non_default_port(void **state)
{
    (void)state;
    struct sigv4_request req = {.method = "POST", .host = "127.0.0.1:5000", .path = "/"};
    struct sigv4_config cfg = {.region = "us-east-1",
                               .service = "sts",
                               .unix_time_s = suite_time,
                               .creds = &suite_creds,
                               .normalize_path = true,
                               .double_encode_path = true};
    struct sigv4_result res = {0};
    struct lw_err err = {0};
    assert_int_equal(sigv4_sign(NULL, &req, &cfg, &res, &err), 0);
    assert_non_null(strstr(res.canonical_request, "\nhost:127.0.0.1:5000\n"));
    sigv4_result_cleanup(&res);
}

static void test_key_cache_derives_once_per_scope(void **state)
{
    (void)state;
    struct sigv4_key_cache *c = sigv4_key_cache_new();
    assert_non_null(c);
    struct sigv4_request req = {.method = "GET", .host = "example.amazonaws.com", .path = "/"};
    char first[512] = "";
    for (int i = 0; i < 3; i++) {
        struct sigv4_signed out = {0};
        struct lw_err err = {0};
        assert_int_equal(sigv4_sign_for_http(c, &req, "us-east-1", "service", suite_time,
                                             &suite_creds, false, &out, &err),
                         0);
        if (i == 0)
            snprintf(first, sizeof first, "%s", out.authorization);
        else
            assert_string_equal(out.authorization, first); /* the cached key signs the same */
        sigv4_signed_cleanup(&out);
    }
    uint64_t hits, misses;
    sigv4_key_cache_stats(c, &hits, &misses);
    assert_int_equal(misses, 1);
    assert_int_equal(hits, 2);
    /* Another day, region, service or secret is another key. */
    struct sigv4_credentials other = suite_creds;
    other.secret_access_key = "another-secret";
    const struct {
        const char *region, *service;
        int64_t t;
        const struct sigv4_credentials *cr;
    } v[] = {{"us-east-1", "service", suite_time + 86400, &suite_creds},
             {"eu-west-1", "service", suite_time, &suite_creds},
             {"us-east-1", "monitoring", suite_time, &suite_creds},
             {"us-east-1", "service", suite_time, &other}};
    for (size_t i = 0; i < 4; i++) {
        struct sigv4_signed out = {0};
        struct lw_err err = {0};
        assert_int_equal(sigv4_sign_for_http(c, &req, v[i].region, v[i].service, v[i].t, v[i].cr,
                                             false, &out, &err),
                         0);
        sigv4_signed_cleanup(&out);
    }
    sigv4_key_cache_stats(c, &hits, &misses);
    assert_int_equal(misses, 5);
    /* More scopes than slots: the oldest are evicted, signatures stay right. */
    for (int i = 0; i < 20; i++) {
        struct sigv4_signed out = {0}, fresh = {0};
        struct lw_err err = {0};
        char svc[32];
        snprintf(svc, sizeof svc, "svc%d", i % 11);
        assert_int_equal(sigv4_sign_for_http(c, &req, "us-east-1", svc, suite_time, &suite_creds,
                                             false, &out, &err),
                         0);
        assert_int_equal(sigv4_sign_for_http(NULL, &req, "us-east-1", svc, suite_time, &suite_creds,
                                             false, &fresh, &err),
                         0);
        assert_string_equal(out.authorization, fresh.authorization);
        sigv4_signed_cleanup(&out);
        sigv4_signed_cleanup(&fresh);
    }
    sigv4_key_cache_free(c);
    sigv4_key_cache_free(NULL);
}

/* ---- canonicalisation rules ---- */

static char *canonical(const char *method, const char *path, const char *query,
                       const struct sigv4_header *hs, size_t n)
{
    struct sigv4_request req = {.method = method,
                                .host = "h.example",
                                .path = path,
                                .query = query,
                                .headers = hs,
                                .n_headers = n};
    struct sigv4_config cfg = {.region = "us-east-1",
                               .service = "service",
                               .unix_time_s = suite_time,
                               .creds = &suite_creds,
                               .normalize_path = true,
                               .double_encode_path = true};
    struct lw_buf out;
    lw_buf_init(&out, 1u << 20);
    struct lw_err err = {0};
    if (sigv4_canonical_request(&req, &cfg, &out, NULL, &err) != 0)
        fail_msg("canonical request: %s", err.msg);
    return lw_buf_take(&out);
}

static void expect_line(const char *cr, int lineno, const char *want)
{
    const char *p = cr;
    for (int i = 0; i < lineno && p; i++) {
        p = strchr(p, '\n');
        if (p)
            p++;
    }
    assert_non_null(p);
    size_t l = strcspn(p, "\n");
    if (strlen(want) != l || memcmp(p, want, l) != 0)
        fail_msg("line %d: want '%s', got '%.*s'", lineno, want, (int)l, p);
}

static void test_path_is_encoded_again_and_normalised(void **state)
{
    (void)state;
    const struct {
        const char *path, *want;
    } cases[] = {
        {"", "/"},
        {"/", "/"},
        {"/a%20b", "/a%2520b"},
        {"/a b/ሴ", "/a%20b/%E1%88%B4"},
        {"/a/./b/../c", "/a/c"},
        {"/a/..", "/"},
        {"/../..", "/"},
        {"//a//b//", "/a/b/"},
        {"/a/.", "/a"},
        {"/a:b@c!$&'()*+,;=", "/a%3Ab%40c%21%24%26%27%28%29%2A%2B%2C%3B%3D"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *cr = canonical("GET", cases[i].path, NULL, NULL, 0);
        expect_line(cr, 1, cases[i].want);
        free(cr);
    }
}

static void test_s3_style_path_is_neither_normalised_nor_encoded_again(void **state)
{
    (void)state;
    const struct {
        bool normalize, double_encode;
        const char *want;
    } cases[] = {
        {false, false, "/a%20b/./c//d"},
        {true, false, "/a%20b/c/d"},
        {false, true, "/a%2520b/./c//d"},
        {true, true, "/a%2520b/c/d"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct sigv4_request req = {.method = "GET", .host = "h", .path = "/a%20b/./c//d"};
        struct sigv4_config cfg = {.region = "us-east-1",
                                   .service = "s3",
                                   .unix_time_s = suite_time,
                                   .creds = &suite_creds,
                                   .normalize_path = cases[i].normalize,
                                   .double_encode_path = cases[i].double_encode};
        struct lw_buf out;
        lw_buf_init(&out, 1u << 16);
        struct lw_err err = {0};
        assert_int_equal(sigv4_canonical_request(&req, &cfg, &out, NULL, &err), 0);
        expect_line(lw_buf_str(&out), 1, cases[i].want);
        lw_buf_cleanup(&out);
    }
}

static void test_query_is_decoded_reencoded_and_sorted(void **state)
{
    (void)state;
    const struct {
        const char *q, *want;
    } cases[] = {
        {"b=2&a=1", "a=1&b=2"},
        {"a=2&a=1&a=10", "a=1&a=10&a=2"},
        {"a&b=", "a=&b="},
        {"a=1&&b=2", "a=1&b=2"},
        {"k=a+b", "k=a%2Bb"},
        {"k=a%20b&k2=%7e", "k=a%20b&k2=~"},
        {"k=%zz&j=%4", "j=%254&k=%25zz"},
        {"%E1%88%B4=1&Z=2&a=3", "%E1%88%B4=1&Z=2&a=3"},
        {"ሴ=x", "%E1%88%B4=x"},
        {"a-=1&a=2", "a=2&a-=1"},
        {"=v", "=v"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *cr = canonical("GET", "/", cases[i].q, NULL, 0);
        expect_line(cr, 2, cases[i].want);
        free(cr);
    }
}

static void test_headers_lowercased_trimmed_folded_and_joined(void **state)
{
    (void)state;
    const struct sigv4_header hs[] = {
        {"X-B", "  two   words\t "}, {"x-a", "1"},    {"X-A", " 2 "},
        {"User-Agent", "lagwatch"},  {"X-Empty", ""}, {"X-Fold", "a\r\n  b"},
    };
    char *cr = canonical("GET", "/", NULL, hs, sizeof hs / sizeof hs[0]);
    expect_line(cr, 3, "host:h.example");
    expect_line(cr, 4, "x-a:1,2");
    expect_line(cr, 5, "x-amz-date:20150830T123600Z");
    expect_line(cr, 6, "x-b:two words");
    expect_line(cr, 7, "x-empty:");
    expect_line(cr, 8, "x-fold:a b");
    expect_line(cr, 10, "host;x-a;x-amz-date;x-b;x-empty;x-fold");
    free(cr);
}

/* ---- refusals ---- */

static void expect_refused(const struct sigv4_request *req, const char *region,
                           const struct sigv4_credentials *cr, const char *msg_part)
{
    struct sigv4_signed out = {0};
    struct lw_err err = {0};
    assert_int_equal(
        sigv4_sign_for_http(NULL, req, region, "service", suite_time, cr, false, &out, &err), -1);
    assert_null(out.authorization);
    if (strstr(err.msg, msg_part) == NULL)
        fail_msg("error '%s' does not mention '%s'", err.msg, msg_part);
    /* Secrets never reach an error message. */
    assert_null(strstr(err.msg, "wJalrXUtnFEMI"));
    if (cr && cr->session_token)
        assert_null(strstr(err.msg, cr->session_token));
}

static void test_refuses_bad_requests_without_leaking_secrets(void **state)
{
    (void)state;
    struct sigv4_request ok = {.method = "GET", .host = "h", .path = "/"};
    struct sigv4_request r = ok;
    r.method = "";
    expect_refused(&r, "us-east-1", &suite_creds, "method");
    r = ok;
    r.path = "relative";
    expect_refused(&r, "us-east-1", &suite_creds, "path");
    r = ok;
    r.host = NULL;
    expect_refused(&r, "us-east-1", &suite_creds, "host");
    const struct sigv4_header date[] = {{"X-Amz-Date", "x"}};
    r = ok;
    r.headers = date;
    r.n_headers = 1;
    expect_refused(&r, "us-east-1", &suite_creds, "added by the signer");
    const struct sigv4_header host[] = {{"Host", "x"}};
    r.headers = host;
    expect_refused(&r, "us-east-1", &suite_creds, "Host");
    const struct sigv4_header bad[] = {{"Bad Name", "x"}};
    r.headers = bad;
    expect_refused(&r, "us-east-1", &suite_creds, "bad header name");
    const struct sigv4_header tok[] = {{"X-Amz-Security-Token", "x"}};
    struct sigv4_credentials with_tok = suite_creds;
    with_tok.session_token = "SECRETTOKEN";
    r.headers = tok;
    expect_refused(&r, "us-east-1", &with_tok, "added by the signer");
    expect_refused(&ok, "us/east", &suite_creds, "region");
    expect_refused(&ok, "", &suite_creds, "region");
    struct sigv4_credentials nosecret = {"AKID", "", NULL};
    expect_refused(&ok, "us-east-1", &nosecret, "secret");
    struct sigv4_signed out = {0};
    struct lw_err err = {0};
    assert_int_equal(
        sigv4_sign_for_http(NULL, &ok, "us-east-1", "s", -1, &suite_creds, false, &out, &err), -1);
}

static void test_oversized_inputs_are_refused_with_a_message(void **state)
{
    (void)state;
    size_t big = 2u * 1024u * 1024u; /* over LW_MAX_SIGV4_CANONICAL_BYTES */
    char *s = malloc(big + 2);
    assert_non_null(s);
    s[0] = '/';
    memset(s + 1, 'a', big);
    s[big + 1] = '\0';
    struct sigv4_request req = {.method = "GET", .host = "h", .path = s};
    struct sigv4_config cfg = {
        .region = "us-east-1", .service = "s3", .unix_time_s = suite_time, .creds = &suite_creds};
    for (int mode = 0; mode < 4; mode++) {
        cfg.normalize_path = mode & 1;
        cfg.double_encode_path = mode & 2;
        struct sigv4_result res = {0};
        struct lw_err err = {0};
        assert_int_equal(sigv4_sign(NULL, &req, &cfg, &res, &err), -1);
        assert_non_null(strstr(err.msg, "longer than"));
    }
    req.path = "/";
    req.query = s + 1;
    struct sigv4_result res = {0};
    struct lw_err err = {0};
    assert_int_equal(sigv4_sign(NULL, &req, &cfg, &res, &err), -1);
    assert_non_null(strstr(err.msg, "longer than"));
    free(s);
}

static void test_amz_date_formatting(void **state)
{
    (void)state;
    char d[SIGV4_DATE_LEN + 1];
    assert_int_equal(sigv4_format_amz_date(0, d), 0);
    assert_string_equal(d, "19700101T000000Z");
    assert_int_equal(sigv4_format_amz_date(suite_time, d), 0);
    assert_string_equal(d, "20150830T123600Z");
    assert_int_equal(sigv4_format_amz_date(951782400, d), 0); /* leap day 2000 */
    assert_string_equal(d, "20000229T000000Z");
    assert_int_equal(sigv4_format_amz_date(-1, d), -1);
}

/* ---- the test-suite file parsers ---- */

static void expect_request_error(const char *txt, int line, int col, const char *part)
{
    struct sigv4_suite_request r;
    struct lw_err err = {0};
    assert_int_equal(sigv4_suite_request_parse(txt, strlen(txt), &r, &err), -1);
    if (err.line != line || err.col != col || strstr(err.msg, part) == NULL)
        fail_msg("'%s': got %d:%d %s, want %d:%d ~%s", txt, err.line, err.col, err.msg, line, col,
                 part);
}

static void test_request_file_errors_have_line_and_column(void **state)
{
    (void)state;
    expect_request_error("", 1, 1, "empty");
    expect_request_error("GET\n", 1, 1, "METHOD TARGET");
    expect_request_error("GET / \n", 1, 7, "HTTP/1.1");
    expect_request_error("GET x HTTP/1.1\n", 1, 5, "'/'");
    expect_request_error("GET / FTP/1\n", 1, 7, "HTTP/1.1");
    expect_request_error("GET / HTTP/1.1\nNoColon\n", 2, 1, "Name:value");
    expect_request_error("GET / HTTP/1.1\n:v\n", 2, 1, "empty header name");
    expect_request_error("GET / HTTP/1.1\n  cont\n", 2, 1, "continuation");
    expect_request_error("GET / HTTP/1.1\nHost:a\nBad Name:v\n", 3, 4, "header name");
}

static void test_request_file_body_and_crlf(void **state)
{
    (void)state;
    const char *txt = "PUT /p?q=1 HTTP/1.1\r\nHost: h\r\nX-A:1\r\n  2\r\n\r\nbody\n";
    struct sigv4_suite_request r;
    struct lw_err err = {0};
    assert_int_equal(sigv4_suite_request_parse(txt, strlen(txt), &r, &err), 0);
    assert_string_equal(r.method, "PUT");
    assert_string_equal(r.path, "/p");
    assert_string_equal(r.query, "q=1");
    assert_string_equal(r.version, "HTTP/1.1");
    assert_int_equal(r.n_headers, 2);
    assert_string_equal(r.headers[0].value, " h");
    assert_string_equal(r.headers[1].value, "1\r\n  2");
    assert_int_equal(r.body_len, 5);
    assert_memory_equal(r.body, "body\n", 5);
    sigv4_suite_request_cleanup(&r);
}

static void test_context_errors_never_quote_secrets(void **state)
{
    (void)state;
    const char *bad = "{\"credentials\": {\"access_key_id\": \"AKID\", \"secret_access_key\": "
                      "wJalrXUtnFEMI}}";
    struct sigv4_suite_context c;
    struct lw_err err = {0};
    assert_int_equal(sigv4_suite_context_parse(bad, strlen(bad), &c, &err), -1);
    assert_int_equal(err.line, 1);
    assert_true(err.col > 0);
    assert_null(strstr(err.msg, "wJalr"));
    const char *missing = "{\"credentials\": {\"access_key_id\": \"AKID\", \"secret_access_key\": "
                          "\"s\"}, \"service\": \"x\", \"timestamp\": \"2015-08-30T12:36:00Z\"}";
    assert_int_equal(sigv4_suite_context_parse(missing, strlen(missing), &c, &err), -1);
    assert_non_null(strstr(err.msg, "region"));
    const char *badts = "{\"credentials\": {\"access_key_id\": \"AKID\", \"secret_access_key\": "
                        "\"s\"}, \"region\": \"r\", \"service\": \"x\", \"timestamp\": "
                        "\"2015-02-30T12:36:00Z\"}";
    assert_int_equal(sigv4_suite_context_parse(badts, strlen(badts), &c, &err), -1);
    assert_non_null(strstr(err.msg, "timestamp"));
}

#define SUITE_TESTS(n)                                                       \
    {"suite_header_" n, test_suite_case_header_form, NULL, NULL, (void *)n}, \
    {                                                                        \
        "suite_query_" n, test_suite_case_query_form, NULL, NULL, (void *)n  \
    }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_suite_has_exactly_the_38_cases),
        SUITE_TESTS("get-header-key-duplicate"),
        SUITE_TESTS("get-header-value-multiline"),
        SUITE_TESTS("get-header-value-order"),
        SUITE_TESTS("get-header-value-trim"),
        SUITE_TESTS("get-relative-normalized"),
        SUITE_TESTS("get-relative-relative-normalized"),
        SUITE_TESTS("get-relative-relative-unnormalized"),
        SUITE_TESTS("get-relative-unnormalized"),
        SUITE_TESTS("get-slash-dot-slash-normalized"),
        SUITE_TESTS("get-slash-dot-slash-unnormalized"),
        SUITE_TESTS("get-slash-normalized"),
        SUITE_TESTS("get-slash-pointless-dot-normalized"),
        SUITE_TESTS("get-slash-pointless-dot-unnormalized"),
        SUITE_TESTS("get-slash-unnormalized"),
        SUITE_TESTS("get-slashes-normalized"),
        SUITE_TESTS("get-slashes-unnormalized"),
        SUITE_TESTS("get-space-normalized"),
        SUITE_TESTS("get-space-unnormalized"),
        SUITE_TESTS("get-unreserved"),
        SUITE_TESTS("get-utf8"),
        SUITE_TESTS("get-vanilla"),
        SUITE_TESTS("get-vanilla-empty-query-key"),
        SUITE_TESTS("get-vanilla-query"),
        SUITE_TESTS("get-vanilla-query-order-encoded"),
        SUITE_TESTS("get-vanilla-query-order-key-case"),
        SUITE_TESTS("get-vanilla-query-unreserved"),
        SUITE_TESTS("get-vanilla-utf8-query"),
        SUITE_TESTS("get-vanilla-with-session-token"),
        SUITE_TESTS("post-header-key-case"),
        SUITE_TESTS("post-header-key-sort"),
        SUITE_TESTS("post-header-value-case"),
        SUITE_TESTS("post-sts-header-after"),
        SUITE_TESTS("post-sts-header-before"),
        SUITE_TESTS("post-vanilla"),
        SUITE_TESTS("post-vanilla-empty-query-value"),
        SUITE_TESTS("post-vanilla-query"),
        SUITE_TESTS("post-x-www-form-urlencoded"),
        SUITE_TESTS("post-x-www-form-urlencoded-parameters"),
        cmocka_unit_test(test_sign_for_http_matches_suite_get_vanilla),
        cmocka_unit_test(test_sign_for_http_signs_session_token),
        cmocka_unit_test(test_sign_for_http_signs_body_hash_when_asked),
        cmocka_unit_test(test_caller_payload_hash_is_signed_as_given),
        cmocka_unit_test(test_host_keeps_non_default_port),
        cmocka_unit_test(test_key_cache_derives_once_per_scope),
        cmocka_unit_test(test_path_is_encoded_again_and_normalised),
        cmocka_unit_test(test_s3_style_path_is_neither_normalised_nor_encoded_again),
        cmocka_unit_test(test_query_is_decoded_reencoded_and_sorted),
        cmocka_unit_test(test_headers_lowercased_trimmed_folded_and_joined),
        cmocka_unit_test(test_refuses_bad_requests_without_leaking_secrets),
        cmocka_unit_test(test_oversized_inputs_are_refused_with_a_message),
        cmocka_unit_test(test_amz_date_formatting),
        cmocka_unit_test(test_request_file_errors_have_line_and_column),
        cmocka_unit_test(test_request_file_body_and_crlf),
        cmocka_unit_test(test_context_errors_never_quote_secrets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
