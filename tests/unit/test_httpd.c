/* test_httpd.c — the endpoint server: routing, status codes, bodies, limits, port 0. A thread
 * plays the agent's event loop (poll the fd, run the server); libcurl is the client. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "lagwatch/httpd.h"

struct server {
    struct httpd *h;
    pthread_t thread;
    volatile sig_atomic_t stop;
};

static void *loop(void *arg)
{
    struct server *s = arg;
    while (!s->stop) {
        struct pollfd p = {.fd = httpd_fd(s->h), .events = POLLIN};
        poll(&p, 1, 20);
        httpd_run(s->h);
    }
    return NULL;
}

static int hello(void *ud, const struct httpd_request *req, struct httpd_reply *reply)
{
    (void)ud;
    const char *who = httpd_query_arg(req, "who");
    lw_buf_addf(&reply->body, "hello %s via %s", who ? who : "nobody", req->method);
    return 0;
}

static int echo(void *ud, const struct httpd_request *req, struct httpd_reply *reply)
{
    (void)ud;
    reply->status = 201;
    reply->content_type = "application/json";
    lw_buf_add(&reply->body, req->body, req->body_len);
    return 0;
}

static int failing(void *ud, const struct httpd_request *req, struct httpd_reply *reply)
{
    (void)ud;
    (void)req;
    (void)reply;
    return -1;
}

static int prefix(void *ud, const struct httpd_request *req, struct httpd_reply *reply)
{
    (void)ud;
    lw_buf_adds(&reply->body, req->path);
    return 0;
}

static size_t collect(char *p, size_t sz, size_t n, void *ud)
{
    lw_buf_add(ud, p, sz * n);
    return sz * n;
}

static long fetch(int port, const char *path, const char *post, struct lw_buf *out)
{
    char url[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", port, path);
    CURL *c = curl_easy_init();
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 5000L);
    if (post)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, post);
    long status = 0;
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(c);
    return status;
}

static int setup(void **state)
{
    static struct server s;
    memset(&s, 0, sizeof s);
    struct lw_err err = {0};
    if (httpd_start("127.0.0.1:0", &s.h, &err) != 0)
        return -1;
    if (httpd_route(s.h, "/hello", hello, NULL) || httpd_route(s.h, "/echo", echo, NULL) ||
        httpd_route(s.h, "/fail", failing, NULL) || httpd_route(s.h, "/api/", prefix, NULL))
        return -1;
    pthread_create(&s.thread, NULL, loop, &s);
    *state = &s;
    return 0;
}

static int teardown(void **state)
{
    struct server *s = *state;
    s->stop = 1;
    pthread_join(s->thread, NULL);
    httpd_stop(s->h);
    return 0;
}

static void test_port_zero_binds_a_free_port(void **state)
{
    struct server *s = *state;
    assert_true(httpd_port(s->h) > 0);
}

static void test_exact_route_gets_query_arguments(void **state)
{
    struct server *s = *state;
    struct lw_buf b;
    lw_buf_init(&b, 1 << 20);
    assert_int_equal(fetch(httpd_port(s->h), "/hello?who=oncall", NULL, &b), 200);
    assert_string_equal(lw_buf_str(&b), "hello oncall via GET");
    lw_buf_cleanup(&b);
}

static void test_post_body_reaches_handler_and_status_is_kept(void **state)
{
    struct server *s = *state;
    struct lw_buf b;
    lw_buf_init(&b, 1 << 20);
    assert_int_equal(fetch(httpd_port(s->h), "/echo", "{\"a\":1}", &b), 201);
    assert_string_equal(lw_buf_str(&b), "{\"a\":1}");
    lw_buf_cleanup(&b);
}

static void test_unknown_path_is_404(void **state)
{
    struct server *s = *state;
    struct lw_buf b;
    lw_buf_init(&b, 1 << 20);
    assert_int_equal(fetch(httpd_port(s->h), "/nope", NULL, &b), 404);
    lw_buf_cleanup(&b);
}

static void test_handler_failure_is_500(void **state)
{
    struct server *s = *state;
    struct lw_buf b;
    lw_buf_init(&b, 1 << 20);
    assert_int_equal(fetch(httpd_port(s->h), "/fail", NULL, &b), 500);
    lw_buf_cleanup(&b);
}

static void test_prefix_route_matches_subpaths(void **state)
{
    struct server *s = *state;
    struct lw_buf b;
    lw_buf_init(&b, 1 << 20);
    assert_int_equal(fetch(httpd_port(s->h), "/api/v1/alerts", NULL, &b), 200);
    assert_string_equal(lw_buf_str(&b), "/api/v1/alerts");
    lw_buf_cleanup(&b);
}

static void test_oversized_request_body_is_413(void **state)
{
    struct server *s = *state;
    size_t n = HTTPD_MAX_REQUEST_BODY_BYTES + 10;
    char *big = malloc(n + 1);
    memset(big, 'x', n);
    big[n] = '\0';
    struct lw_buf b;
    lw_buf_init(&b, 1 << 20);
    assert_int_equal(fetch(httpd_port(s->h), "/echo", big, &b), 413);
    lw_buf_cleanup(&b);
    free(big);
}

static void test_bad_listen_addresses_are_refused_clearly(void **state)
{
    (void)state;
    const char *bad[] = {"9741", "localhost:", "127.0.0.1:http", "[::1:80",
                         "no.such.host.invalid:1"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct httpd *h = NULL;
        struct lw_err err = {0};
        assert_int_equal(httpd_start(bad[i], &h, &err), -1);
        assert_null(h);
        assert_non_null(strstr(err.msg, bad[i]));
    }
}

static void test_address_in_use_is_an_error(void **state)
{
    struct server *s = *state;
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", httpd_port(s->h));
    struct httpd *h = NULL;
    struct lw_err err = {0};
    assert_int_equal(httpd_start(addr, &h, &err), -1);
    assert_non_null(strstr(err.msg, "cannot listen"));
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_port_zero_binds_a_free_port),
        cmocka_unit_test(test_exact_route_gets_query_arguments),
        cmocka_unit_test(test_post_body_reaches_handler_and_status_is_kept),
        cmocka_unit_test(test_unknown_path_is_404),
        cmocka_unit_test(test_handler_failure_is_500),
        cmocka_unit_test(test_prefix_route_matches_subpaths),
        cmocka_unit_test(test_oversized_request_body_is_413),
        cmocka_unit_test(test_bad_listen_addresses_are_refused_clearly),
        cmocka_unit_test(test_address_in_use_is_an_error),
    };
    int rc = cmocka_run_group_tests(tests, setup, teardown);
    curl_global_cleanup();
    return rc;
}
