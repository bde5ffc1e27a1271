/* test_http.c — the agent's HTTP client: statuses, bodies and headers, request headers as sent,
 * concurrency on one multi handle, the body cap (also after gzip), timeouts that do not block
 * other requests, delayed starts, cancellation, callbacks that resubmit. Peers: lagwatch's own
 * httpd (served from a thread) and the scripted raw server of tests/support/rawsrv.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include "lagwatch/http.h"
#include "lagwatch/httpd.h"
#include "lagwatch/sched.h"
#include "rawsrv.h"

struct server {
    struct httpd *h;
    pthread_t thread;
    volatile sig_atomic_t stop;
};

static struct server srv;

static void *loop(void *arg)
{
    struct server *s = arg;
    while (!s->stop) {
        struct pollfd p = {.fd = httpd_fd(s->h), .events = POLLIN};
        poll(&p, 1, 10);
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

static int big(void *ud, const struct httpd_request *req, struct httpd_reply *reply)
{
    (void)ud;
    (void)req;
    for (int i = 0; i < 100000; i++)
        lw_buf_addc(&reply->body, 'x');
    return 0;
}

static int setup(void **state)
{
    (void)state;
    memset(&srv, 0, sizeof srv);
    struct lw_err err = {0};
    if (httpd_start("127.0.0.1:0", &srv.h, &err) != 0)
        return -1;
    if (httpd_route(srv.h, "/hello", hello, NULL) || httpd_route(srv.h, "/echo", echo, NULL) ||
        httpd_route(srv.h, "/big", big, NULL))
        return -1;
    pthread_create(&srv.thread, NULL, loop, &srv);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    srv.stop = 1;
    pthread_join(srv.thread, NULL);
    httpd_stop(srv.h);
    return 0;
}

static char *url(const char *path)
{
    static char buf[8][256];
    static int i;
    i = (i + 1) % 8;
    snprintf(buf[i], sizeof buf[i], "http://127.0.0.1:%d%s", httpd_port(srv.h), path);
    return buf[i];
}

/* Collects responses of asynchronous requests. */
struct got {
    int calls;
    int status;
    char error[512];
    char body[256];
    int64_t at_ms;
};

static void on_done(void *ud, const struct http_response *r)
{
    struct got *g = ud;
    g->calls++;
    g->status = r->status;
    g->at_ms = lw_mono_ms();
    snprintf(g->error, sizeof g->error, "%s", r->error ? r->error : "");
    snprintf(g->body, sizeof g->body, "%s", r->body);
}

static void drain(struct http_client *c, int max_ms)
{
    int64_t end = lw_mono_ms() + max_ms;
    while (http_client_pending(c) && lw_mono_ms() < end)
        assert_int_equal(http_client_poll(c, 50), 0);
}

static struct http_client *client(void)
{
    struct lw_err err = {0};
    struct http_client *c = http_client_new(NULL, &err);
    assert_non_null(c);
    return c;
}

static void test_get_returns_status_body_and_headers(void **state)
{
    (void)state;
    struct http_client *c = client();
    struct http_request req = {.url = url("/hello?who=bob")};
    struct http_response r = {0};
    struct lw_err err = {0};
    assert_int_equal(http_fetch_sync(c, &req, &r, &err), 0);
    assert_int_equal(r.status, 200);
    assert_null(r.error);
    assert_string_equal(r.body, "hello bob via GET");
    assert_int_equal(r.body_len, strlen("hello bob via GET"));
    assert_string_equal(http_response_header(&r, "content-type"), "text/plain; charset=utf-8");
    assert_string_equal(http_response_header(&r, "CACHE-CONTROL"), "no-store");
    assert_null(http_response_header(&r, "x-absent"));
    assert_true(r.total_s > 0 && r.total_s < 5);
    http_response_cleanup(&r);
    http_client_free(c);
}

static void test_post_sends_the_body_and_keeps_the_status(void **state)
{
    (void)state;
    struct http_client *c = client();
    const char body[] = "{\"a\":1}";
    struct http_header h[] = {{"Content-Type", "application/json"}};
    struct http_request req = {.method = "POST",
                               .url = url("/echo"),
                               .headers = h,
                               .n_headers = 1,
                               .body = body,
                               .body_len = sizeof body - 1};
    struct http_response r = {0};
    struct lw_err err = {0};
    assert_int_equal(http_fetch_sync(c, &req, &r, &err), 0);
    assert_int_equal(r.status, 201);
    assert_string_equal(r.body, body);
    http_response_cleanup(&r);
    http_client_free(c);
}

static void test_http_error_status_is_not_a_transport_error(void **state)
{
    (void)state;
    struct http_client *c = client();
    struct http_request req = {.url = url("/nowhere")};
    struct http_response r = {0};
    struct lw_err err = {0};
    assert_int_equal(http_fetch_sync(c, &req, &r, &err), 0);
    assert_int_equal(r.status, 404);
    assert_null(r.error);
    http_response_cleanup(&r);
    http_client_free(c);
}

static void test_many_requests_run_concurrently_on_one_client(void **state)
{
    (void)state;
    struct http_client *c = client();
    enum { N = 60 };
    struct got g[N];
    memset(g, 0, sizeof g);
    struct lw_err err = {0};
    for (int i = 0; i < N; i++) {
        char path[64];
        snprintf(path, sizeof path, "/hello?who=%d", i);
        struct http_request req = {.url = url(path)};
        assert_int_equal(http_submit(c, &req, on_done, &g[i], &err), 0);
    }
    assert_int_equal(http_client_pending(c), N);
    drain(c, 10000);
    assert_int_equal(http_client_pending(c), 0);
    for (int i = 0; i < N; i++) {
        char want[64];
        snprintf(want, sizeof want, "hello %d via GET", i);
        assert_int_equal(g[i].calls, 1);
        assert_int_equal(g[i].status, 200);
        assert_string_equal(g[i].body, want);
    }
    http_client_free(c);
}

static void test_body_over_the_cap_is_a_transport_error(void **state)
{
    (void)state;
    struct http_client *c = client();
    struct http_request req = {.url = url("/big"), .max_body_bytes = 1000};
    struct http_response r = {0};
    struct lw_err err = {0};
    assert_int_equal(http_fetch_sync(c, &req, &r, &err), 0);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.error, "larger than 1000 bytes"));
    assert_int_equal(r.body_len, 0);
    http_response_cleanup(&r);
    /* The same URL within the cap works. */
    req.max_body_bytes = 200000;
    assert_int_equal(http_fetch_sync(c, &req, &r, &err), 0);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body_len, 100000);
    http_response_cleanup(&r);
    http_client_free(c);
}

static void test_client_wide_body_cap_applies_by_default(void **state)
{
    (void)state;
    struct lw_err err = {0};
    struct http_client_options o = {.max_body_bytes = 500};
    struct http_client *c = http_client_new(&o, &err);
    assert_non_null(c);
    struct http_request req = {.url = url("/big")};
    struct http_response r = {0};
    assert_int_equal(http_fetch_sync(c, &req, &r, &err), 0);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.error, "larger than 500 bytes"));
    http_response_cleanup(&r);
    http_client_free(c);
}

static int closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
    close(fd);
    return ntohs(a.sin_port);
}

static void test_connection_refused_is_a_transport_error_with_text(void **state)
{
    (void)state;
    struct http_client *c = client();
    char u[64];
    snprintf(u, sizeof u, "http://127.0.0.1:%d/", closed_port());
    struct http_request req = {.url = u};
    struct http_response r = {0};
    struct lw_err err = {0};
    assert_int_equal(http_fetch_sync(c, &req, &r, &err), 0);
    assert_int_equal(r.status, 0);
    assert_non_null(r.error);
    assert_true(strlen(r.error) > 0);
    http_response_cleanup(&r);
    http_client_free(c);
}

static void test_hung_endpoint_times_out_without_blocking_others(void **state)
{
    (void)state;
    struct ts_canned hang = {.hang = 1, .content_length = -1};
    struct ts_rawsrv *hs = ts_rawsrv_start(&hang, 1);
    assert_non_null(hs);
    struct http_client *c = client();
    char u[128];
    struct http_request slow = {.url = ts_rawsrv_url(hs, "/", u, sizeof u), .timeout_ms = 400};
    struct http_request fast = {.url = url("/hello")};
    struct got gs = {0}, gf = {0};
    struct lw_err err = {0};
    int64_t t0 = lw_mono_ms();
    assert_int_equal(http_submit(c, &slow, on_done, &gs, &err), 0);
    assert_int_equal(http_submit(c, &fast, on_done, &gf, &err), 0);
    drain(c, 5000);
    assert_int_equal(gf.calls, 1);
    assert_int_equal(gf.status, 200);
    assert_true(gf.at_ms - t0 < 300); /* not held up by the hung one */
    assert_int_equal(gs.calls, 1);
    assert_int_equal(gs.status, 0);
    assert_non_null(strstr(gs.error, "timed out"));
    assert_true(gs.at_ms - t0 >= 380 && gs.at_ms - t0 < 2000);
    http_client_free(c);
    ts_rawsrv_stop(hs);
}

static void test_free_cancels_pending_requests(void **state)
{
    (void)state;
    struct ts_canned hang = {.hang = 1, .content_length = -1};
    struct ts_rawsrv *hs = ts_rawsrv_start(&hang, 1);
    struct http_client *c = client();
    char u[128];
    struct http_request req = {.url = ts_rawsrv_url(hs, "/", u, sizeof u)};
    struct http_request later = {.url = url("/hello"), .start_delay_ms = 60000};
    struct got g1 = {0}, g2 = {0};
    struct lw_err err = {0};
    assert_int_equal(http_submit(c, &req, on_done, &g1, &err), 0);
    assert_int_equal(http_submit(c, &later, on_done, &g2, &err), 0);
    assert_int_equal(http_client_poll(c, 100), 0);
    assert_int_equal(g1.calls, 0);
    http_client_free(c);
    assert_int_equal(g1.calls, 1);
    assert_int_equal(g1.status, 0);
    assert_string_equal(g1.error, "cancelled");
    assert_int_equal(g2.calls, 1);
    assert_string_equal(g2.error, "cancelled");
    ts_rawsrv_stop(hs);
    http_client_free(NULL);
}

static void test_delayed_start_waits_and_is_counted_pending(void **state)
{
    (void)state;
    struct http_client *c = client();
    struct http_request req = {.url = url("/hello"), .start_delay_ms = 250};
    struct got g = {0};
    struct lw_err err = {0};
    int64_t t0 = lw_mono_ms();
    assert_int_equal(http_submit(c, &req, on_done, &g, &err), 0);
    assert_int_equal(http_client_pending(c), 1);
    long t = http_client_timeout_ms(c);
    assert_true(t > 150 && t <= 250);
    drain(c, 5000);
    assert_int_equal(g.calls, 1);
    assert_int_equal(g.status, 200);
    assert_true(g.at_ms - t0 >= 250);
    assert_int_equal(http_client_timeout_ms(c), -1);
    http_client_free(c);
}

struct again {
    struct http_client *c;
    int calls;
    int last_status;
};

static void resubmit(void *ud, const struct http_response *r)
{
    struct again *a = ud;
    a->calls++;
    a->last_status = r->status;
    if (a->calls < 3) {
        struct http_request req = {.url = url("/hello"), .start_delay_ms = 10};
        struct lw_err err = {0};
        assert_int_equal(http_submit(a->c, &req, resubmit, a, &err), 0);
    }
}

static void test_callback_may_submit_a_new_request(void **state)
{
    (void)state;
    struct again a = {.c = client()};
    struct http_request req = {.url = url("/hello")};
    struct lw_err err = {0};
    assert_int_equal(http_submit(a.c, &req, resubmit, &a, &err), 0);
    drain(a.c, 5000);
    assert_int_equal(a.calls, 3);
    assert_int_equal(a.last_status, 200);
    http_client_free(a.c);
}

static void test_request_headers_and_user_agent_are_sent(void **state)
{
    (void)state;
    struct ts_canned ok = {.status = 200, .body = "ok", .content_length = -1};
    struct ts_rawsrv *rs = ts_rawsrv_start(&ok, 1);
    struct http_client *c = client();
    char u[128];
    struct http_header h[] = {{"X-Amz-Date", "20150830T123600Z"}, {"X-Empty", ""}};
    struct http_request req = {.method = "PUT",
                               .url = ts_rawsrv_url(rs, "/p?q=1", u, sizeof u),
                               .headers = h,
                               .n_headers = 2,
                               .body = "abc",
                               .body_len = 3};
    struct http_response r = {0};
    struct lw_err err = {0};
    assert_int_equal(http_fetch_sync(c, &req, &r, &err), 0);
    assert_int_equal(r.status, 200);
    const char *sent = ts_rawsrv_request(rs, 0);
    assert_non_null(sent);
    assert_true(strncmp(sent, "PUT /p?q=1 HTTP/1.1\r\n", 21) == 0);
    assert_non_null(strstr(sent, "\r\nX-Amz-Date: 20150830T123600Z\r\n"));
    assert_non_null(strstr(sent, "\r\nX-Empty:"));
    assert_non_null(strstr(sent, "\r\nUser-Agent: lagwatch/" LAGWATCH_VERSION "\r\n"));
    assert_null(strstr(sent, "Expect:"));
    assert_non_null(strstr(sent, "\r\n\r\nabc"));
    http_response_cleanup(&r);
    http_client_free(c);
    ts_rawsrv_stop(rs);
}

static void test_headers_with_line_breaks_are_refused_at_submit(void **state)
{
    (void)state;
    struct http_client *c = client();
    struct http_header h[] = {{"X-Evil", "a\r\nInjected: 1"}};
    struct http_request req = {.url = url("/hello"), .headers = h, .n_headers = 1};
    struct got g = {0};
    struct lw_err err = {0};
    assert_int_equal(http_submit(c, &req, on_done, &g, &err), -1);
    assert_non_null(strstr(err.msg, "not a valid header"));
    struct http_request nourl = {0};
    assert_int_equal(http_submit(c, &nourl, on_done, &g, &err), -1);
    assert_int_equal(http_client_pending(c), 0);
    http_client_free(c);
    assert_int_equal(g.calls, 0);
}

static size_t gzip_bytes(const char *in, size_t n, unsigned char *out, size_t cap)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, 16 + 15, 8, Z_DEFAULT_STRATEGY), Z_OK);
    z.next_in = (unsigned char *)in;
    z.avail_in = (unsigned)n;
    z.next_out = out;
    z.avail_out = (unsigned)cap;
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    size_t len = z.total_out;
    deflateEnd(&z);
    return len;
}

static void test_gzip_body_is_inflated_and_capped_after_inflation(void **state)
{
    (void)state;
    static char plain[200000];
    memset(plain, 'a', sizeof plain);
    static unsigned char gz[4096];
    size_t gzlen = gzip_bytes(plain, sizeof plain, gz, sizeof gz);
    assert_true(gzlen < 1024);
    struct ts_canned z = {.status = 200,
                          .headers = "Content-Encoding: gzip\r\nX-Amzn-RequestId: r-1\r\n",
                          .body = gz,
                          .body_len = gzlen,
                          .content_length = -1};
    struct ts_rawsrv *rs = ts_rawsrv_start(&z, 1);
    struct http_client *c = client();
    char u[128];
    struct http_request req = {.url = ts_rawsrv_url(rs, "/m", u, sizeof u), .accept_gzip = true};
    struct http_response r = {0};
    struct lw_err err = {0};
    assert_int_equal(http_fetch_sync(c, &req, &r, &err), 0);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body_len, sizeof plain);
    assert_string_equal(http_response_header(&r, "x-amzn-requestid"), "r-1");
    assert_non_null(strstr(ts_rawsrv_request(rs, 0), "Accept-Encoding: gzip"));
    http_response_cleanup(&r);
    /* 1 KB on the wire, 200 KB inflated: the cap counts what it inflates to. */
    req.max_body_bytes = 10000;
    assert_int_equal(http_fetch_sync(c, &req, &r, &err), 0);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.error, "larger than 10000 bytes"));
    http_response_cleanup(&r);
    http_client_free(c);
    ts_rawsrv_stop(rs);
}

static void test_truncated_body_is_a_transport_error(void **state)
{
    (void)state;
    struct ts_canned cut = {.status = 200, .body = "{\"Metric", .content_length = 500};
    struct ts_rawsrv *rs = ts_rawsrv_start(&cut, 1);
    struct http_client *c = client();
    char u[128];
    struct http_request req = {.url = ts_rawsrv_url(rs, "/", u, sizeof u)};
    struct http_response r = {0};
    struct lw_err err = {0};
    assert_int_equal(http_fetch_sync(c, &req, &r, &err), 0);
    assert_int_equal(r.status, 0);
    assert_non_null(r.error);
    http_response_cleanup(&r);
    http_client_free(c);
    ts_rawsrv_stop(rs);
}

static void test_response_copy_is_deep(void **state)
{
    (void)state;
    struct http_header h[] = {{"A", "1"}, {"b", "2"}};
    char body[] = "xyz";
    struct http_response src = {
        .status = 503, .headers = h, .n_headers = 2, .body = body, .body_len = 3, .total_s = 0.5};
    struct http_response dst;
    assert_int_equal(http_response_copy(&dst, &src), 0);
    body[0] = 'Q';
    assert_int_equal(dst.status, 503);
    assert_string_equal(dst.body, "xyz");
    assert_string_equal(http_response_header(&dst, "B"), "2");
    http_response_cleanup(&dst);
    http_response_cleanup(&dst); /* zeroed: safe again */
}

static void test_poll_fds_wakes_on_a_readable_fd_with_nothing_pending(void **state)
{
    (void)state;
    struct lw_err err = {0};
    struct http_client *c = http_client_new(NULL, &err);
    assert_non_null(c);
    int p[2];
    assert_int_equal(pipe(p), 0);
    struct http_waitfd fds[1] = {{p[0], false}};
    int64_t t0 = lw_mono_ms();
    assert_int_equal(http_client_poll_fds(c, fds, 1, 50), 0);
    assert_false(fds[0].readable);
    assert_true(lw_mono_ms() - t0 >= 40); /* waited although nothing was pending */
    assert_int_equal(write(p[1], "x", 1), 1);
    t0 = lw_mono_ms();
    assert_int_equal(http_client_poll_fds(c, fds, 1, 5000), 0);
    assert_true(fds[0].readable);
    assert_true(lw_mono_ms() - t0 < 2000);
    struct http_waitfd many[HTTP_MAX_WAITFDS + 1];
    for (size_t i = 0; i <= HTTP_MAX_WAITFDS; i++)
        many[i] = fds[0];
    assert_int_equal(http_client_poll_fds(c, many, HTTP_MAX_WAITFDS + 1, 0), -1);
    close(p[0]);
    close(p[1]);
    http_client_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_returns_status_body_and_headers),
        cmocka_unit_test(test_poll_fds_wakes_on_a_readable_fd_with_nothing_pending),
        cmocka_unit_test(test_post_sends_the_body_and_keeps_the_status),
        cmocka_unit_test(test_http_error_status_is_not_a_transport_error),
        cmocka_unit_test(test_many_requests_run_concurrently_on_one_client),
        cmocka_unit_test(test_body_over_the_cap_is_a_transport_error),
        cmocka_unit_test(test_client_wide_body_cap_applies_by_default),
        cmocka_unit_test(test_connection_refused_is_a_transport_error_with_text),
        cmocka_unit_test(test_hung_endpoint_times_out_without_blocking_others),
        cmocka_unit_test(test_free_cancels_pending_requests),
        cmocka_unit_test(test_delayed_start_waits_and_is_counted_pending),
        cmocka_unit_test(test_callback_may_submit_a_new_request),
        cmocka_unit_test(test_request_headers_and_user_agent_are_sent),
        cmocka_unit_test(test_headers_with_line_breaks_are_refused_at_submit),
        cmocka_unit_test(test_gzip_body_is_inflated_and_capped_after_inflation),
        cmocka_unit_test(test_truncated_body_is_a_transport_error),
        cmocka_unit_test(test_response_copy_is_deep),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
