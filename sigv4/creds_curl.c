/*
 * creds_curl.c — the credential providers' default transport: one blocking libcurl easy call per
 * request with short connect and total timeouts, no redirects, http/https only, and a cap on the
 * response body. Credentials refresh rarely and ahead of expiry, so a short blocking call is
 * acceptable here; the agent's own AWS traffic goes through its asynchronous HTTP layer instead.
 * Error messages carry curl's text and the URL, never a header (headers hold tokens).
 */
#include <string.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "lagwatch/creds.h"

struct sink {
    struct lw_buf *body;
    int too_big;
};

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct sink *s = ud;
    size_t n = size * nmemb;
    if (lw_buf_add(s->body, ptr, n) != 0) {
        s->too_big = 1;
        return 0; /* makes curl stop with CURLE_WRITE_ERROR */
    }
    return n;
}

int creds_http_curl(void *ud, const struct creds_http_request *req,
                    struct creds_http_response *resp, struct lw_err *err)
{
    (void)ud;
    static int global_done;
    if (!global_done) {
        /* Idempotent in practice; the agent also initialises curl at start-up. */
        curl_global_init(CURL_GLOBAL_DEFAULT);
        global_done = 1;
    }
    lw_buf_init(&resp->body, req->max_body_bytes);
    CURL *h = curl_easy_init();
    if (h == NULL)
        return lw_err_set(err, 0, 0, "cannot create an HTTP handle");
    struct curl_slist *hdrs = NULL;
    int rc = -1;
    for (size_t i = 0; i < req->n_headers; i++) {
        struct curl_slist *n = curl_slist_append(hdrs, req->headers[i]);
        if (n == NULL) {
            lw_err_set(err, 0, 0, "out of memory");
            goto cleanup;
        }
        hdrs = n;
    }
    /* No "Expect: 100-continue" round trip on POST. */
    struct curl_slist *n = curl_slist_append(hdrs, "Expect:");
    if (n == NULL) {
        lw_err_set(err, 0, 0, "out of memory");
        goto cleanup;
    }
    hdrs = n;
    struct sink s = {&resp->body, 0};
    curl_easy_setopt(h, CURLOPT_URL, req->url);
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req->method);
    if (req->body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
    } else if (strcmp(req->method, "PUT") == 0) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)0);
    }
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, req->connect_timeout_ms);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, req->timeout_ms);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_NOPROXY, "*"); /* link-local metadata endpoints: never a proxy */
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(h, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    CURLcode cc = curl_easy_perform(h);
    if (cc != CURLE_OK) {
        if (s.too_big)
            lw_err_set(err, 0, 0, "answer from %.200s is larger than %zu bytes", req->url,
                       req->max_body_bytes);
        else
            lw_err_set(err, 0, 0, "%s %.200s: %s", req->method, req->url, curl_easy_strerror(cc));
        goto cleanup;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
    rc = 0;
cleanup:
    for (struct curl_slist *l = hdrs; l; l = l->next) /* header copies may hold tokens */
        OPENSSL_cleanse(l->data, strlen(l->data));
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(h);
    return rc;
}
