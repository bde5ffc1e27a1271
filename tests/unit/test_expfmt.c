/* test_expfmt.c — the exposition parser: every case of the OpenMetrics parser corpus (accepted
 * exactly when shouldParse is true), the real exporter captures in 0.0.4 mode, and the edge cases
 * real exporters produce (JMX trailing comma, Java floats, NaN/±Inf, escapes, CRLF, no final
 * newline, timestamps in both units), errors with line and column, limits, and streaming (any
 * split of the input gives the same samples). */
#include <dirent.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "lagwatch/expfmt.h"
#include "testsupport.h"

/* Collects samples as "name{labels} value [t]" lines. */
struct collect {
    struct lw_buf out;
    size_t n;
    char family[128];
    enum expfmt_type type;
};

static int collect_cb(void *ud, const struct expfmt_sample *s, struct lw_err *err)
{
    (void)err;
    struct collect *c = ud;
    if (lw_labels_format_metric(s->labels, &c->out) != 0)
        return -1;
    if (lw_buf_addf(&c->out, " %.17g", s->value) != 0)
        return -1;
    if (s->has_timestamp && lw_buf_addf(&c->out, " @%lld", (long long)s->t_ms) != 0)
        return -1;
    if (lw_buf_addc(&c->out, '\n') != 0)
        return -1;
    snprintf(c->family, sizeof c->family, "%s", s->family);
    c->type = s->type;
    c->n++;
    return 0;
}

static void collect_init(struct collect *c)
{
    memset(c, 0, sizeof *c);
    lw_buf_init(&c->out, 1u << 24);
}

static int parse(enum expfmt_format fmt, const char *text, struct collect *c, struct lw_err *err)
{
    collect_init(c);
    memset(err, 0, sizeof *err);
    return expfmt_parse_buf(fmt, text, strlen(text), NULL, collect_cb, c, err);
}

static void expect_ok(enum expfmt_format fmt, const char *text, const char *want)
{
    struct collect c;
    struct lw_err err;
    int rc = parse(fmt, text, &c, &err);
    if (rc != 0)
        fail_msg("unexpected error %d:%d: %s", err.line, err.col, err.msg);
    assert_string_equal(lw_buf_str(&c.out), want);
    lw_buf_cleanup(&c.out);
}

static void expect_err(enum expfmt_format fmt, const char *text, int line, int col,
                       const char *msg_part)
{
    struct collect c;
    struct lw_err err;
    int rc = parse(fmt, text, &c, &err);
    lw_buf_cleanup(&c.out);
    if (rc == 0)
        fail_msg("accepted: %s", text);
    if (err.line != line || (col > 0 && err.col != col) || strstr(err.msg, msg_part) == NULL)
        fail_msg("got %d:%d: %s; want %d:%d: ...%s...", err.line, err.col, err.msg, line, col,
                 msg_part);
}

/* ---- the OpenMetrics corpus ---- */

static void test_openmetrics_corpus_accepts_exactly_the_should_parse_cases(void **state)
{
    (void)state;
    char dir[1024];
    ts_reference_path(dir, sizeof dir, "openmetrics-parsers");
    DIR *d = opendir(dir);
    assert_non_null(d);
    int cases = 0, good = 0, wrong = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[2048];
        snprintf(path, sizeof path, "%s/%s/test.json", dir, e->d_name);
        json_error_t jerr;
        json_t *meta = json_load_file(path, 0, &jerr);
        if (!meta)
            continue; /* SOURCE.md */
        json_t *sp = json_object_get(meta, "shouldParse");
        const char *file = json_string_value(json_object_get(meta, "file"));
        assert_true(json_is_boolean(sp));
        assert_string_equal(json_string_value(json_object_get(meta, "type")), "text");
        bool should = json_is_true(sp);
        snprintf(path, sizeof path, "%s/%s/%s", dir, e->d_name, file);
        size_t len;
        char *text = ts_read_file(path, &len);
        assert_non_null(text);
        struct collect c;
        collect_init(&c);
        struct lw_err err;
        memset(&err, 0, sizeof err);
        int rc = expfmt_parse_buf(EXPFMT_OPENMETRICS_1, text, len, NULL, collect_cb, &c, &err);
        if ((rc == 0) != should) {
            print_error("%s: shouldParse %s but %s %d:%d: %s\n", e->d_name,
                        should ? "true" : "false", rc == 0 ? "accepted" : "rejected", err.line,
                        err.col, err.msg);
            wrong++;
        }
        cases++;
        good += should;
        lw_buf_cleanup(&c.out);
        free(text);
        json_decref(meta);
    }
    closedir(d);
    assert_int_equal(cases, 211);
    assert_int_equal(good, 44);
    assert_int_equal(wrong, 0);
}

static void test_openmetrics_corpus_cases_parse_to_the_right_samples(void **state)
{
    (void)state;
    char path[1024];
    size_t len;
    ts_reference_path(path, sizeof path, "openmetrics-parsers/timestamps/metrics");
    char *text = ts_read_file(path, &len);
    assert_non_null(text);
    struct collect c;
    collect_init(&c);
    struct lw_err err;
    assert_int_equal(expfmt_parse_buf(EXPFMT_OPENMETRICS_1, text, len, NULL, collect_cb, &c, &err),
                     0);
    /* Seconds become milliseconds; absurd ones clamp to the int64 range. */
    assert_string_equal(lw_buf_str(&c.out), "a_total{foo=\"1\"} 1 @0\n"
                                            "a_total{foo=\"2\"} 1 @0\n"
                                            "a_total{foo=\"3\"} 1 @1100\n"
                                            "a_total{foo=\"4\"} 1 @9223372036854775807\n"
                                            "a_total{foo=\"5\"} 1 @1500000\n"
                                            "b_total 2 @1234567890000\n");
    assert_string_equal(c.family, "b");
    assert_int_equal(c.type, EXPFMT_TYPE_COUNTER);
    lw_buf_cleanup(&c.out);
    free(text);
}

/* ---- real captures, 0.0.4 ---- */

static void parse_capture(const char *name, struct collect *c)
{
    char path[1024];
    size_t len;
    ts_reference_path(path, sizeof path, name);
    char *text = ts_read_file(path, &len);
    assert_non_null(text);
    collect_init(c);
    struct lw_err err;
    memset(&err, 0, sizeof err);
    int rc = expfmt_parse_buf(EXPFMT_TEXT_004, text, len, NULL, collect_cb, c, &err);
    if (rc != 0)
        fail_msg("%s: %d:%d: %s", name, err.line, err.col, err.msg);
    free(text);
}

static void test_exporter_captures_parse_in_text_mode(void **state)
{
    (void)state;
    struct collect c;
    parse_capture("exporter-samples/debezium-mysql-synchdb-jmx-exporter-1.3.0.prom", &c);
    assert_true(c.n >= 4);
    assert_non_null(strstr(lw_buf_str(&c.out), "debezium_mysql_connector_metrics_connected{context="
                                               "\"streaming\", server=\"synchdb-connector\"} 1\n")
                        ? lw_buf_str(&c.out)
                        : strstr(lw_buf_str(&c.out),
                                 "debezium_mysql_connector_metrics_connected{context=\"streaming\","
                                 "server=\"synchdb-connector\"} 1\n"));
    lw_buf_cleanup(&c.out);

    parse_capture("exporter-samples/kafka-connect-windowforsun-jmx-exporter-0.16.1.prom", &c);
    assert_true(c.n >= 10);
    const char *out = lw_buf_str(&c.out);
    assert_non_null(strstr(out, "kafka_connect_source_task_metrics_source_record_active_count_avg{"
                                "connector=\"exam-file-source\",task=\"0\"} nan\n"));
    assert_non_null(strstr(out,
                           "kafka_connect_connect_metrics_request_rate{client_id=\"connect-1\"} "
                           "0.36672014668805863\n"));
    lw_buf_cleanup(&c.out);

    parse_capture("exporter-samples/debezium-mongodb-DBZ-6516-two-scrapes.prom", &c);
    assert_string_equal(lw_buf_str(&c.out),
                        "debezium_metrics_MilliSecondsBehindSource{context=\"streaming\","
                        "name=\"dbserver1, task=0\",plugin=\"mongodb\"} 85\n"
                        "debezium_metrics_MilliSecondsBehindSource{context=\"streaming\","
                        "name=\"dbserver1, task=0\",plugin=\"mongodb\"} -1\n");
    lw_buf_cleanup(&c.out);
}

/* ---- edge cases of 0.0.4 ---- */

static void test_jmx_trailing_comma_in_label_set_is_accepted_in_text_mode(void **state)
{
    (void)state;
    expect_ok(EXPFMT_TEXT_004, "a{x=\"1\",y=\"2\",} 3\n", "a{x=\"1\",y=\"2\"} 3\n");
    expect_ok(EXPFMT_TEXT_004, "a{} 3\n", "a 3\n");
    expect_ok(EXPFMT_TEXT_004, "a { x = \"1\" , } 3\n", "a{x=\"1\"} 3\n");
    expect_err(EXPFMT_TEXT_004, "a{,} 3\n", 1, 3, "expected a label name");
    expect_err(EXPFMT_TEXT_004, "a{x=\"1\",,} 3\n", 1, 9, "expected a label name");
}

static void test_java_floats_nan_and_infinities(void **state)
{
    (void)state;
    expect_ok(
        EXPFMT_TEXT_004,
        "a 1.2345678E7\nb -1.0\nc NaN\nd +Inf\ne -Inf\nf 5.0E-4\ng 1e+308\nh Inf\n",
        "a 12345678\nb -1\nc nan\nd inf\ne -inf\nf 0.00050000000000000001\ng 1e+308\nh inf\n");
    double v;
    assert_int_equal(expfmt_parse_value("0.1", 3, &v), 0);
    assert_true(v == 0.1);
    assert_int_equal(expfmt_parse_value("123456789012345678901234", 24, &v), 0);
    assert_true(v == 123456789012345678901234.0);
    assert_int_equal(expfmt_parse_value("2.2250738585072014e-308", 23, &v), 0);
    assert_true(v == 2.2250738585072014e-308);
    assert_int_equal(expfmt_parse_value("1e400", 5, &v), 0);
    assert_true(isinf(v));
    assert_int_equal(expfmt_parse_value("-0", 2, &v), 0);
    assert_true(v == 0 && signbit(v));
    assert_int_not_equal(expfmt_parse_value("0x10", 4, &v), 0);
    assert_int_not_equal(expfmt_parse_value("1_000", 5, &v), 0);
    assert_int_not_equal(expfmt_parse_value("1e", 2, &v), 0);
    assert_int_not_equal(expfmt_parse_value("-NaN", 4, &v), 0);
    assert_int_not_equal(expfmt_parse_value(".", 1, &v), 0);
    expect_err(EXPFMT_TEXT_004, "a 12abc\n", 1, 3, "expected a number");
}

static void test_label_value_escapes_are_unescaped(void **state)
{
    (void)state;
    /* \\ -> \, \" -> ", \n -> newline; other escapes stay as written (as Prometheus keeps them). */
    struct collect c;
    struct lw_err err;
    assert_int_equal(parse(EXPFMT_TEXT_004, "a{v=\"x\\\\y\\\"z\\nw\\q\"} 1\n", &c, &err), 0);
    assert_string_equal(lw_buf_str(&c.out), "a{v=\"x\\\\y\\\"z\\nw\\\\q\"} 1\n");
    lw_buf_cleanup(&c.out);
}

static int first_label_cb(void *ud, const struct expfmt_sample *s, struct lw_err *err)
{
    (void)err;
    snprintf(ud, 64, "%s", lw_labels_get(s->labels, "v"));
    return 0;
}

static void test_escaped_value_reaches_the_callback_raw(void **state)
{
    (void)state;
    char got[64] = "";
    struct lw_err err;
    const char *t = "a{v=\"q\\\"\\n\\\\\"} 1\n";
    assert_int_equal(
        expfmt_parse_buf(EXPFMT_TEXT_004, t, strlen(t), NULL, first_label_cb, got, &err), 0);
    assert_string_equal(got, "q\"\n\\");
}

static void test_crlf_blank_lines_comments_and_no_final_newline(void **state)
{
    (void)state;
    expect_ok(EXPFMT_TEXT_004,
              "# HELP a some help\r\n# TYPE a gauge\r\n\r\n# just a comment\r\na{x=\"1\"} 1\r\n  b "
              "  2  \r\nc 3",
              "a{x=\"1\"} 1\nb 2\nc 3\n");
}

static void test_text_timestamps_are_milliseconds(void **state)
{
    (void)state;
    expect_ok(EXPFMT_TEXT_004, "a 1 1700000000123\nb 2 -5\n", "a 1 @1700000000123\nb 2 @-5\n");
    expect_err(EXPFMT_TEXT_004, "a 1 1.5\n", 1, 5, "integer milliseconds");
    expect_err(EXPFMT_TEXT_004, "a 1 99999999999999999999\n", 1, 5, "timestamp");
    expect_err(EXPFMT_TEXT_004, "a 1 2 3\n", 1, 7, "after the timestamp");
}

static void test_openmetrics_timestamps_are_seconds(void **state)
{
    (void)state;
    expect_ok(EXPFMT_OPENMETRICS_1, "a 1 1700000000.123\n# EOF\n", "a 1 @1700000000123\n");
}

static void test_empty_label_value_is_absent(void **state)
{
    (void)state;
    expect_ok(EXPFMT_TEXT_004, "a{x=\"\",y=\"1\"} 1\n", "a{y=\"1\"} 1\n");
}

static void test_labels_are_sorted_and_duplicates_refused(void **state)
{
    (void)state;
    expect_ok(EXPFMT_TEXT_004, "a{z=\"1\",b=\"2\",m=\"3\"} 1\n", "a{b=\"2\",m=\"3\",z=\"1\"} 1\n");
    expect_err(EXPFMT_TEXT_004, "a{z=\"1\",z=\"2\"} 1\n", 1, 2, "duplicate label name \"z\"");
    expect_err(EXPFMT_TEXT_004, "a{__name__=\"b\"} 1\n", 1, 2, "duplicate label name");
}

static void test_errors_name_line_column_and_what_was_expected(void **state)
{
    (void)state;
    expect_err(EXPFMT_TEXT_004, "a 1\nb{x=1} 2\n", 2, 5,
               "expected '\"' to open the value of label \"x\"");
    expect_err(EXPFMT_TEXT_004, "a 1\n\nb{x\"1\"} 2\n", 3, 4,
               "expected '=' after label name \"x\"");
    expect_err(EXPFMT_TEXT_004, "b{x=\"1\" y=\"2\"} 2\n", 1, 9, "expected ',' or '}'");
    expect_err(EXPFMT_TEXT_004, "b{x=\"1} 2\n", 1, 5, "unterminated value");
    expect_err(EXPFMT_TEXT_004, "b\n", 1, 2, "expected a blank and a value");
    expect_err(EXPFMT_TEXT_004, "b  \n", 1, 4, "expected a value");
    expect_err(EXPFMT_TEXT_004, "a.b 1\n", 1, 2, "expected a blank before the value");
    expect_err(EXPFMT_TEXT_004, "0a 1\n", 1, 1, "expected a metric name");
    expect_err(EXPFMT_TEXT_004, "# TYPE a blah\n", 1, 10, "expected counter, gauge");
    expect_err(EXPFMT_TEXT_004, "# TYPE\t\n", 1, 8, "expected a metric name after TYPE");
    expect_err(EXPFMT_TEXT_004, "a{x=\"\xff\"} 1\n", 1, 6, "not valid UTF-8");
    expect_err(EXPFMT_OPENMETRICS_1, "a 1\n", 2, 1, "expected '# EOF'");
    expect_err(EXPFMT_OPENMETRICS_1, "a 1\r\n# EOF\n", 1, 3, "expected a number");
    expect_err(EXPFMT_OPENMETRICS_1, "a{x=\"1\",} 1\n# EOF\n", 1, 9, "no trailing comma");
}

static void test_families_and_types_are_reported(void **state)
{
    (void)state;
    struct collect c;
    struct lw_err err;
    assert_int_equal(parse(EXPFMT_TEXT_004, "# TYPE h histogram\nh_bucket{le=\"1\"} 1\n", &c, &err),
                     0);
    assert_string_equal(c.family, "h");
    assert_int_equal(c.type, EXPFMT_TYPE_HISTOGRAM);
    lw_buf_cleanup(&c.out);
    assert_int_equal(parse(EXPFMT_TEXT_004, "# TYPE h gauge\nh_bucket 1\n", &c, &err), 0);
    assert_string_equal(c.family, "h_bucket");
    assert_int_equal(c.type, EXPFMT_TYPE_UNKNOWN);
    lw_buf_cleanup(&c.out);
    assert_string_equal(expfmt_type_name(EXPFMT_TYPE_UNKNOWN, true), "untyped");
}

/* ---- limits ---- */

static void test_limits_fail_the_page_with_a_clear_error(void **state)
{
    (void)state;
    struct expfmt_limits lim;
    struct lw_err err;
    struct collect c;
    const char *t = "a{x=\"1\",y=\"2\"} 1\nb 2\nc 3\n";

    expfmt_limits_default(&lim);
    lim.max_labels = 2;
    collect_init(&c);
    assert_int_equal(expfmt_parse_buf(EXPFMT_TEXT_004, t, strlen(t), &lim, collect_cb, &c, &err),
                     -1);
    assert_non_null(strstr(err.msg, "label limit"));
    lw_buf_cleanup(&c.out);

    expfmt_limits_default(&lim);
    lim.max_samples = 2;
    collect_init(&c);
    assert_int_equal(expfmt_parse_buf(EXPFMT_TEXT_004, t, strlen(t), &lim, collect_cb, &c, &err),
                     -1);
    assert_non_null(strstr(err.msg, "sample limit"));
    assert_int_equal(err.line, 3);
    assert_int_equal(c.n, 2);
    lw_buf_cleanup(&c.out);

    expfmt_limits_default(&lim);
    lim.max_bytes = 10;
    collect_init(&c);
    assert_int_equal(expfmt_parse_buf(EXPFMT_TEXT_004, t, strlen(t), &lim, collect_cb, &c, &err),
                     -1);
    assert_non_null(strstr(err.msg, "body size limit"));
    lw_buf_cleanup(&c.out);

    expfmt_limits_default(&lim);
    lim.max_line_bytes = 8;
    collect_init(&c);
    assert_int_equal(expfmt_parse_buf(EXPFMT_TEXT_004, t, strlen(t), &lim, collect_cb, &c, &err),
                     -1);
    assert_non_null(strstr(err.msg, "line longer than 8 bytes"));
    lw_buf_cleanup(&c.out);

    expfmt_limits_default(&lim);
    lim.max_label_value_bytes = 0;
    collect_init(&c);
    assert_int_equal(expfmt_parse_buf(EXPFMT_TEXT_004, t, strlen(t), &lim, collect_cb, &c, &err),
                     -1);
    assert_non_null(strstr(err.msg, "longer than 0 bytes"));
    lw_buf_cleanup(&c.out);

    expfmt_limits_default(&lim);
    lim.max_label_name_bytes = 0;
    collect_init(&c);
    assert_int_equal(expfmt_parse_buf(EXPFMT_TEXT_004, t, strlen(t), &lim, collect_cb, &c, &err),
                     -1);
    assert_non_null(strstr(err.msg, "longer than 0 bytes"));
    lw_buf_cleanup(&c.out);
}

static void test_streaming_long_line_without_newline_is_bounded(void **state)
{
    (void)state;
    struct expfmt_limits lim;
    expfmt_limits_default(&lim);
    lim.max_line_bytes = 100;
    struct expfmt_parser *p = expfmt_parser_new(EXPFMT_TEXT_004, &lim, NULL, NULL);
    assert_non_null(p);
    char chunk[64];
    memset(chunk, 'a', sizeof chunk);
    struct lw_err err;
    assert_int_equal(expfmt_parser_feed(p, chunk, sizeof chunk, &err), 0);
    assert_int_equal(expfmt_parser_feed(p, chunk, sizeof chunk, &err), -1);
    assert_non_null(strstr(err.msg, "line longer"));
    /* sticky */
    assert_int_equal(expfmt_parser_feed(p, "\n", 1, &err), -1);
    assert_int_equal(expfmt_parser_finish(p, &err), -1);
    expfmt_parser_free(p);
}

/* ---- streaming ---- */

static void test_any_split_of_the_input_gives_the_same_samples(void **state)
{
    (void)state;
    const char *t = "# HELP a x\n# TYPE a counter\na_total{x=\"1\",y=\"a\\\"b\"} 1.5\n"
                    "a_created{x=\"1\",y=\"a\\\"b\"} 1\n# TYPE g gauge\ng 2 1.25\n# EOF";
    struct collect whole;
    struct lw_err err;
    assert_int_equal(parse(EXPFMT_OPENMETRICS_1, t, &whole, &err), 0);
    size_t len = strlen(t);
    for (size_t step = 1; step <= 7; step++) {
        struct collect c;
        collect_init(&c);
        struct expfmt_parser *p = expfmt_parser_new(EXPFMT_OPENMETRICS_1, NULL, collect_cb, &c);
        assert_non_null(p);
        for (size_t off = 0; off < len; off += step) {
            size_t n = len - off < step ? len - off : step;
            assert_int_equal(expfmt_parser_feed(p, t + off, n, &err), 0);
        }
        assert_int_equal(expfmt_parser_finish(p, &err), 0);
        assert_string_equal(lw_buf_str(&c.out), lw_buf_str(&whole.out));
        assert_int_equal(expfmt_parser_samples(p), 3);
        expfmt_parser_free(p);
        lw_buf_cleanup(&c.out);
    }
    lw_buf_cleanup(&whole.out);
}

static int refuse_cb(void *ud, const struct expfmt_sample *s, struct lw_err *err)
{
    (void)ud;
    (void)s;
    lw_err_set(err, 0, 0, "store full");
    return -1;
}

static void test_callback_can_stop_the_parse(void **state)
{
    (void)state;
    struct lw_err err;
    assert_int_equal(
        expfmt_parse_buf(EXPFMT_TEXT_004, "a 1\nb 2\n", 8, NULL, refuse_cb, NULL, &err), -1);
    assert_string_equal(err.msg, "store full");
    assert_int_equal(err.line, 1);
}

static void test_content_type_and_accept(void **state)
{
    (void)state;
    assert_int_equal(expfmt_format_from_content_type(
                         "application/openmetrics-text; version=1.0.0; charset=utf-8"),
                     EXPFMT_OPENMETRICS_1);
    assert_int_equal(expfmt_format_from_content_type("text/plain; version=0.0.4"), EXPFMT_TEXT_004);
    assert_int_equal(expfmt_format_from_content_type(NULL), EXPFMT_TEXT_004);
    assert_non_null(strstr(expfmt_accept_header(true), "application/openmetrics-text"));
    assert_null(strstr(expfmt_accept_header(false), "openmetrics"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_openmetrics_corpus_accepts_exactly_the_should_parse_cases),
        cmocka_unit_test(test_openmetrics_corpus_cases_parse_to_the_right_samples),
        cmocka_unit_test(test_exporter_captures_parse_in_text_mode),
        cmocka_unit_test(test_jmx_trailing_comma_in_label_set_is_accepted_in_text_mode),
        cmocka_unit_test(test_java_floats_nan_and_infinities),
        cmocka_unit_test(test_label_value_escapes_are_unescaped),
        cmocka_unit_test(test_escaped_value_reaches_the_callback_raw),
        cmocka_unit_test(test_crlf_blank_lines_comments_and_no_final_newline),
        cmocka_unit_test(test_text_timestamps_are_milliseconds),
        cmocka_unit_test(test_openmetrics_timestamps_are_seconds),
        cmocka_unit_test(test_empty_label_value_is_absent),
        cmocka_unit_test(test_labels_are_sorted_and_duplicates_refused),
        cmocka_unit_test(test_errors_name_line_column_and_what_was_expected),
        cmocka_unit_test(test_families_and_types_are_reported),
        cmocka_unit_test(test_limits_fail_the_page_with_a_clear_error),
        cmocka_unit_test(test_streaming_long_line_without_newline_is_bounded),
        cmocka_unit_test(test_any_split_of_the_input_gives_the_same_samples),
        cmocka_unit_test(test_callback_can_stop_the_parse),
        cmocka_unit_test(test_content_type_and_accept),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
