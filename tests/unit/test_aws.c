/* test_aws.c — the AWS request layer: error bodies of both protocols, which errors are retried,
 * full-jitter backoff bounds, actionable messages, and whole calls against the scripted raw
 * server: throttling retried until success, AccessDenied final, ExpiredToken refreshing once,
 * clock skew corrected from the server's Date and logged once, the attempt budget kept. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lagwatch/aws.h"
#include "lagwatch/creds.h"
#include "lagwatch/http.h"
#include "lagwatch/log.h"
#include "lagwatch/sched.h"
#include "rawsrv.h"

static struct http_response resp(int status, const char *body, struct http_header *h, size_t nh)
{
    struct http_response r = {.status = status,
                              .body = (char *)body,
                              .body_len = strlen(body),
                              .headers = h,
                              .n_headers = nh};
    return r;
}

static void test_json_error_type_loses_its_namespace_prefix(void **state)
{
    (void)state;
    struct http_header h[] = {{"x-amzn-RequestId", "rid-1"}};
    struct http_response r = resp(400,
                                  "{\"__type\":\"com.amazonaws.cloudwatch#"
                                  "InvalidParameterValueException\",\"message\":\"bad\"}",
                                  h, 1);
    struct aws_error e;
    aws_parse_error(&r, &e);
    assert_int_equal(e.status, 400);
    assert_string_equal(e.code, "InvalidParameterValueException");
    assert_string_equal(e.message, "bad");
    assert_string_equal(e.request_id, "rid-1");
}

static void test_query_error_header_wins_over_json_type(void **state)
{
    (void)state;
    struct http_header h[] = {{"X-Amzn-Query-Error", "Throttling;Sender"}};
    struct http_response r =
        resp(400, "{\"__type\":\"ThrottlingException\",\"Message\":\"slow\"}", h, 1);
    struct aws_error e;
    aws_parse_error(&r, &e);
    assert_string_equal(e.code, "Throttling");
    assert_string_equal(e.message, "slow");
}

static void test_xml_error_gives_code_message_and_request_id(void **state)
{
    (void)state;
    struct http_response r =
        resp(403,
             "<ErrorResponse xmlns=\"http://rds.amazonaws.com/doc/2014-10-31/\"><Error><Type>Sender"
             "</Type><Code>AccessDenied</Code><Message>User: arn:aws:iam::123:user/x is not "
             "authorized to perform: rds:DescribeDBClusters</Message></Error><RequestId>r-9"
             "</RequestId></ErrorResponse>",
             NULL, 0);
    struct aws_error e;
    aws_parse_error(&r, &e);
    assert_string_equal(e.code, "AccessDenied");
    assert_non_null(strstr(e.message, "rds:DescribeDBClusters"));
    assert_string_equal(e.request_id, "r-9");
}

static void test_unparseable_error_body_keeps_its_printable_start(void **state)
{
    (void)state;
    struct http_response r = resp(502, "<html>\n<b>Bad gateway</b>", NULL, 0);
    struct aws_error e;
    aws_parse_error(&r, &e);
    assert_string_equal(e.code, "");
    assert_non_null(strstr(e.message, "Bad gateway"));
    assert_null(strchr(e.message, '\n'));
    struct http_response t = {.status = 0, .error = "Connection refused", .body = ""};
    aws_parse_error(&t, &e);
    assert_int_equal(e.status, 0);
    assert_string_equal(e.message, "Connection refused");
}

static void test_throttling_5xx_and_transport_errors_are_retried_other_4xx_not(void **state)
{
    (void)state;
    assert_true(aws_error_is_throttling("Throttling"));
    assert_true(aws_error_is_throttling("ThrottlingException"));
    assert_true(aws_error_is_throttling("TooManyRequestsException"));
    assert_true(aws_error_is_throttling("RequestLimitExceeded"));
    assert_false(aws_error_is_throttling("AccessDenied"));
    struct aws_error e = {.status = 400};
    snprintf(e.code, sizeof e.code, "Throttling");
    assert_true(aws_error_is_retryable(&e));
    snprintf(e.code, sizeof e.code, "ValidationError");
    assert_false(aws_error_is_retryable(&e));
    e.status = 503;
    assert_true(aws_error_is_retryable(&e));
    e.status = 0;
    assert_true(aws_error_is_retryable(&e));
    e.status = 429;
    e.code[0] = '\0';
    assert_true(aws_error_is_retryable(&e));
}

static void test_backoff_is_full_jitter_under_a_growing_capped_ceiling(void **state)
{
    (void)state;
    assert_int_equal(aws_backoff_ms(0, 100, 20000, 0), 0);
    assert_int_equal(aws_backoff_ms(0, 100, 20000, UINT64_MAX - 1000), (UINT64_MAX - 1000) % 101);
    for (uint64_t r = 0; r < 5000; r += 7) {
        assert_true(aws_backoff_ms(0, 100, 20000, r) <= 100);
        assert_true(aws_backoff_ms(3, 100, 20000, r) <= 800);
        assert_true(aws_backoff_ms(40, 100, 20000, r * 1000003) <= 20000);
    }
    assert_int_equal(aws_backoff_ms(3, 100, 20000, 800), 800);
    assert_int_equal(aws_backoff_ms(60, 100, 20000, 20000), 20000);
}

static void test_access_denied_message_names_the_iam_action(void **state)
{
    (void)state;
    struct aws_error e = {.status = 403};
    snprintf(e.code, sizeof e.code, "AccessDenied");
    snprintf(e.message, sizeof e.message, "not authorized");
    snprintf(e.request_id, sizeof e.request_id, "r-1");
    char out[1024];
    aws_error_explain(&e, "cloudwatch:GetMetricData", out, sizeof out);
    assert_non_null(strstr(out, "not allowed cloudwatch:GetMetricData"));
    assert_non_null(strstr(out, "AccessDenied: not authorized; request id r-1"));
    snprintf(e.code, sizeof e.code, "SignatureDoesNotMatch");
    aws_error_explain(&e, "rds:DescribeEvents", out, sizeof out);
    assert_non_null(strstr(out, "secret access key does not match"));
    snprintf(e.code, sizeof e.code, "SomethingNew");
    aws_error_explain(&e, "rds:DescribeEvents", out, sizeof out);
    assert_non_null(strstr(out, "SomethingNew: not authorized"));
    char tiny[16];
    aws_error_explain(&e, "rds:DescribeEvents", tiny, sizeof tiny);
    assert_true(strlen(tiny) < sizeof tiny);
}

static void test_http_date_is_parsed_by_libcurl(void **state)
{
    (void)state;
    assert_int_equal(aws_parse_http_date("Sun, 30 Aug 2015 12:36:00 GMT"), 1440938160);
    assert_int_equal(aws_parse_http_date("garbage"), -1);
    assert_int_equal(aws_parse_http_date(NULL), -1);
}

/* ---- whole calls against the scripted server ----------------------------------------------*/

struct fixture {
    struct ts_rawsrv *srv;
    struct http_client *http;
    struct creds_provider *creds;
    struct aws_client *aws;
    int64_t skew_s; /* added to the real clock by the injected clock */
};

static int64_t fake_now(void *ud)
{
    struct fixture *f = ud;
    return (int64_t)time(NULL) + f->skew_s;
}

static void start(struct fixture *f, const struct ts_canned *script, size_t n, int max_attempts)
{
    f->srv = ts_rawsrv_start(script, n);
    assert_non_null(f->srv);
    struct lw_err err = {0};
    f->http = http_client_new(NULL, &err);
    f->creds = creds_static_new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", NULL);
    struct aws_client_options o = {.http = f->http,
                                   .creds = f->creds,
                                   .max_attempts = max_attempts,
                                   .base_delay_ms = 5,
                                   .max_delay_ms = 50,
                                   .now_s = fake_now,
                                   .now_ud = f};
    f->aws = aws_client_new(&o, &err);
    assert_non_null(f->aws);
}

static void stop(struct fixture *f)
{
    aws_client_free(f->aws);
    http_client_free(f->http);
    creds_provider_free(f->creds);
    ts_rawsrv_stop(f->srv);
}

struct outcome {
    int calls;
    int ok;
    int status;
    int attempts;
    char code[128];
    char message[1024];
    char body[256];
};

static void on_done(void *ud, const struct aws_result *r)
{
    struct outcome *o = ud;
    o->calls++;
    o->ok = r->ok;
    o->status = r->status;
    o->attempts = r->attempts;
    snprintf(o->code, sizeof o->code, "%s", r->error ? r->error->code : "");
    snprintf(o->message, sizeof o->message, "%s", r->message ? r->message : "");
    snprintf(o->body, sizeof o->body, "%s", r->body);
}

static void call(struct fixture *f, struct outcome *o)
{
    char url[128];
    struct aws_call c = {.endpoint = ts_rawsrv_url(f->srv, "/", url, sizeof url),
                         .region = "us-east-1",
                         .service = "monitoring",
                         .iam_action = "cloudwatch:GetMetricData",
                         .protocol = AWS_PROTOCOL_JSON10,
                         .target = "GraniteServiceVersion20100801.GetMetricData",
                         .body = "{}",
                         .body_len = 2};
    struct lw_err err = {0};
    memset(o, 0, sizeof *o);
    assert_int_equal(aws_submit(f->aws, &c, on_done, o, &err), 0);
    assert_int_equal(o->calls, 0); /* never from inside submit */
    int64_t end = lw_mono_ms() + 10000;
    while (o->calls == 0 && lw_mono_ms() < end)
        assert_int_equal(http_client_poll(f->http, 50), 0);
    assert_int_equal(o->calls, 1);
}

#define THROTTLED                                                                                 \
    {                                                                                             \
        .status = 400, .headers = "Content-Type: application/x-amz-json-1.0\r\n",                 \
        .body = "{\"__type\":\"Throttling\",\"message\":\"Rate exceeded\"}", .content_length = -1 \
    }
#define OK_EMPTY                                                                  \
    {                                                                             \
        .status = 200, .body = "{\"MetricDataResults\":[]}", .content_length = -1 \
    }

static void test_throttled_call_is_retried_until_it_succeeds(void **state)
{
    (void)state;
    struct ts_canned script[] = {THROTTLED, THROTTLED, OK_EMPTY};
    struct fixture f = {0};
    start(&f, script, 3, 5);
    struct outcome o;
    call(&f, &o);
    assert_true(o.ok);
    assert_int_equal(o.attempts, 3);
    assert_string_equal(o.body, "{\"MetricDataResults\":[]}");
    struct aws_stats s;
    aws_client_stats(f.aws, &s);
    assert_int_equal(s.throttled, 2);
    assert_int_equal(s.retries, 2);
    /* Every attempt was signed anew and carried the JSON 1.0 headers. */
    assert_int_equal(ts_rawsrv_nrequests(f.srv), 3);
    for (size_t i = 0; i < 3; i++) {
        const char *req = ts_rawsrv_request(f.srv, i);
        assert_non_null(strstr(req, "Authorization: AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"));
        assert_non_null(strstr(req, "/us-east-1/monitoring/aws4_request"));
        assert_non_null(strstr(req, "X-Amz-Target: GraniteServiceVersion20100801.GetMetricData"));
        assert_non_null(strstr(req, "Content-Type: application/x-amz-json-1.0"));
    }
    stop(&f);
}

static void test_attempt_budget_is_kept_and_the_error_is_reported(void **state)
{
    (void)state;
    struct ts_canned script[] = {THROTTLED};
    struct fixture f = {0};
    start(&f, script, 1, 3);
    struct outcome o;
    call(&f, &o);
    assert_false(o.ok);
    assert_int_equal(o.attempts, 3);
    assert_string_equal(o.code, "Throttling");
    assert_non_null(strstr(o.message, "throttling"));
    assert_int_equal(ts_rawsrv_nrequests(f.srv), 3);
    stop(&f);
}

static void test_access_denied_is_final_and_names_the_action(void **state)
{
    (void)state;
    struct ts_canned script[] = {
        {.status = 400,
         .body = "{\"__type\":\"AccessDeniedException\",\"message\":\"User is not authorized\"}",
         .content_length = -1},
        OK_EMPTY};
    struct fixture f = {0};
    start(&f, script, 2, 5);
    struct outcome o;
    call(&f, &o);
    assert_false(o.ok);
    assert_int_equal(o.attempts, 1);
    assert_non_null(strstr(o.message, "cloudwatch:GetMetricData"));
    assert_int_equal(ts_rawsrv_nrequests(f.srv), 1);
    stop(&f);
}

static void test_expired_token_refreshes_credentials_and_retries_once(void **state)
{
    (void)state;
    struct ts_canned expired = {
        .status = 400,
        .body = "{\"__type\":\"ExpiredTokenException\",\"message\":\"expired\"}",
        .content_length = -1};
    struct ts_canned once[] = {expired, OK_EMPTY};
    struct fixture f = {0};
    start(&f, once, 2, 5);
    struct outcome o;
    call(&f, &o);
    assert_true(o.ok);
    assert_int_equal(o.attempts, 2);
    stop(&f);
    struct ts_canned always[] = {expired};
    start(&f, always, 1, 5);
    call(&f, &o);
    assert_false(o.ok);
    assert_int_equal(o.attempts, 2); /* one refresh, not the whole retry budget */
    assert_non_null(strstr(o.message, "expired"));
    stop(&f);
}

static int skew_lines;
static void count_skew_lines(const char *line, void *ud)
{
    (void)ud;
    if (strstr(line, "clock is off"))
        skew_lines++;
}

static void test_clock_skew_is_corrected_from_the_server_date_and_logged_once(void **state)
{
    (void)state;
    char date_hdr[128];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date_hdr, sizeof date_hdr, "Date: %a, %d %b %Y %H:%M:%S GMT\r\n", &tm);
    struct ts_canned skewed = {.status = 400,
                               .headers = date_hdr,
                               .body = "{\"__type\":\"InvalidSignatureException\",\"message\":"
                                       "\"Signature expired\"}",
                               .content_length = -1};
    struct ts_canned script[] = {skewed, OK_EMPTY, skewed, OK_EMPTY};
    struct fixture f = {.skew_s = -3600}; /* this host is an hour behind */
    start(&f, script, 4, 5);
    f.skew_s = -3600;
    skew_lines = 0;
    log_set_sink(count_skew_lines, NULL);
    struct outcome o;
    call(&f, &o);
    assert_true(o.ok);
    assert_int_equal(o.attempts, 2);
    struct aws_stats s;
    aws_client_stats(f.aws, &s);
    assert_true(s.clock_skew_s >= 3590 && s.clock_skew_s <= 3610);
    /* The retry was signed with the server's time, not the local one. */
    char want[32];
    strftime(want, sizeof want, "X-Amz-Date: %Y%m%dT%H", &tm);
    assert_non_null(strstr(ts_rawsrv_request(f.srv, 1), want));
    /* A later skew error does not log again. */
    call(&f, &o);
    log_set_sink(NULL, NULL);
    assert_int_equal(skew_lines, 1);
    stop(&f);
}

static void test_transport_errors_are_retried(void **state)
{
    (void)state;
    struct ts_canned script[] = {{.status = 200, .body = "{}", .content_length = 100}, OK_EMPTY};
    struct fixture f = {0};
    start(&f, script, 2, 5);
    struct outcome o;
    call(&f, &o);
    assert_true(o.ok);
    assert_int_equal(o.attempts, 2);
    stop(&f);
}

static void test_bad_endpoint_is_refused_at_submit(void **state)
{
    (void)state;
    struct ts_canned script[] = {OK_EMPTY};
    struct fixture f = {0};
    start(&f, script, 1, 5);
    struct aws_call c = {.endpoint = "ftp://x/",
                         .region = "us-east-1",
                         .service = "rds",
                         .protocol = AWS_PROTOCOL_QUERY,
                         .body = "",
                         .body_len = 0};
    struct outcome o = {0};
    struct lw_err err = {0};
    assert_int_equal(aws_submit(f.aws, &c, on_done, &o, &err), -1);
    assert_non_null(strstr(err.msg, "not http or https"));
    c.endpoint = "not a url at all";
    assert_int_equal(aws_submit(f.aws, &c, on_done, &o, &err), -1);
    assert_int_equal(o.calls, 0);
    stop(&f);
}

static void test_freeing_the_client_cancels_calls_in_flight(void **state)
{
    (void)state;
    struct ts_canned script[] = {{.hang = 1, .content_length = -1}};
    struct fixture f = {0};
    start(&f, script, 1, 5);
    char url[128];
    struct aws_call c = {.endpoint = ts_rawsrv_url(f.srv, "/", url, sizeof url),
                         .region = "us-east-1",
                         .service = "rds",
                         .protocol = AWS_PROTOCOL_QUERY,
                         .body = "Action=X",
                         .body_len = 8};
    struct outcome o = {0};
    struct lw_err err = {0};
    assert_int_equal(aws_submit(f.aws, &c, on_done, &o, &err), 0);
    assert_int_equal(http_client_poll(f.http, 50), 0);
    aws_client_free(f.aws);
    f.aws = NULL;
    assert_int_equal(o.calls, 1);
    assert_false(o.ok);
    assert_string_equal(o.message, "cancelled");
    http_client_free(f.http); /* completes the orphaned attempt without calling back */
    f.http = NULL;
    assert_int_equal(o.calls, 1);
    creds_provider_free(f.creds);
    ts_rawsrv_stop(f.srv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_error_type_loses_its_namespace_prefix),
        cmocka_unit_test(test_query_error_header_wins_over_json_type),
        cmocka_unit_test(test_xml_error_gives_code_message_and_request_id),
        cmocka_unit_test(test_unparseable_error_body_keeps_its_printable_start),
        cmocka_unit_test(test_throttling_5xx_and_transport_errors_are_retried_other_4xx_not),
        cmocka_unit_test(test_backoff_is_full_jitter_under_a_growing_capped_ceiling),
        cmocka_unit_test(test_access_denied_message_names_the_iam_action),
        cmocka_unit_test(test_http_date_is_parsed_by_libcurl),
        cmocka_unit_test(test_throttled_call_is_retried_until_it_succeeds),
        cmocka_unit_test(test_attempt_budget_is_kept_and_the_error_is_reported),
        cmocka_unit_test(test_access_denied_is_final_and_names_the_action),
        cmocka_unit_test(test_expired_token_refreshes_credentials_and_retries_once),
        cmocka_unit_test(test_clock_skew_is_corrected_from_the_server_date_and_logged_once),
        cmocka_unit_test(test_transport_errors_are_retried),
        cmocka_unit_test(test_bad_endpoint_is_refused_at_submit),
        cmocka_unit_test(test_freeing_the_client_cancels_calls_in_flight),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
