/* test_template.c — alert and receiver templates against the outputs Go and Prometheus produce:
 * number formatting (expected strings from Prometheus's template tests and Go's fmt), and the
 * template language (expected strings checked against Prometheus 2.42's rendering through
 * promtool, see tests/integration/template_promtool_test.py, or taken from Go's text/template
 * documentation). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <string.h>
#include <cmocka.h>

#include "lagwatch/limits.h"
#include "lagwatch/template.h"

typedef int (*fmt_fn)(double, struct lw_buf *);

/* Format each value with fn followed by ':' and compare with the whole expected string, as
 * Prometheus's tests write `{{ range . }}{{ humanize . }}:{{ end }}`. */
static void check_all(fmt_fn fn, const double *vals, size_t n, const char *want)
{
    struct lw_buf b;
    lw_buf_init(&b, 4096);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(fn(vals[i], &b), 0);
        assert_int_equal(lw_buf_addc(&b, ':'), 0);
    }
    assert_string_equal(lw_buf_str(&b), want);
    lw_buf_cleanup(&b);
}

#define CHECK(fn, want, ...)                                        \
    do {                                                            \
        const double vals_[] = {__VA_ARGS__};                       \
        check_all(fn, vals_, sizeof vals_ / sizeof vals_[0], want); \
    } while (0)

static void test_humanize_uses_si_prefixes_with_four_digits(void **state)
{
    (void)state;
    CHECK(template_humanize, "0:1:1.235M:120m:", 0.0, 1.0, 1234567.0, .12);
    CHECK(template_humanize, "1.234k:12.35k:123.5k:100u:-1.5k:", 1234, 12345, 123456, 0.0001,
          -1500);
    CHECK(template_humanize, "NaN:+Inf:-Inf:", NAN, INFINITY, -INFINITY);
}

static void test_humanize1024_uses_binary_prefixes(void **state)
{
    (void)state;
    CHECK(template_humanize1024, "0:1:1Mi:0.12:", 0.0, 1.0, 1048576.0, .12);
    CHECK(template_humanize1024, "1ki:1.5Gi:1000:", 1024, 1.5 * 1024 * 1024 * 1024, 1000);
}

static void test_humanize_duration_as_prometheus(void **state)
{
    (void)state;
    CHECK(template_humanize_duration,
          "0s:1s:1m 0s:1h 0m 0s:1d 0h 0m 0s:1d 1h 0m 0s:-2d 3h 4m 5s:14m 59s:", 0, 1, 60, 3600,
          86400, 86400 + 3600, -(86400 * 2 + 3600 * 3 + 60 * 4 + 5), 899.99);
    CHECK(template_humanize_duration, "100ms:100us:123.5ms:1m 0s:1m 0s:1.234s:12.35s:", .1, .0001,
          .12345, 60.1, 60.5, 1.2345, 12.345);
    CHECK(template_humanize_duration, "NaN:+Inf:", NAN, INFINITY);
}

static void test_humanize_percentage(void **state)
{
    (void)state;
    CHECK(template_humanize_percentage, "0%:12.35%:123.5%:1235%:", 0, 0.1234567, 1.23456, 12.3456);
}

static void test_humanize_timestamp_in_go_time_string_form(void **state)
{
    (void)state;
    CHECK(template_humanize_timestamp, "2015-06-23 13:19:44.128 +0000 UTC:", 1435065584.128);
    CHECK(template_humanize_timestamp,
          "1970-01-01 00:00:00 +0000 UTC:1970-01-01 00:00:01.5 +0000 UTC:", 0, 1.5);
    CHECK(template_humanize_timestamp, "NaN:+Inf:", NAN, INFINITY);
}

static void test_float_v_is_go_shortest_with_exponent_rule(void **state)
{
    (void)state;
    CHECK(template_fmt_float_v, "1:0.1:1.234567e+06:123456:1e-05:0.0001:1.5:100:1e+21:", 1, 0.1,
          1234567, 123456, 1e-5, 0.0001, 1.5, 100, 1e21);
    CHECK(template_fmt_float_v, "0.30000000000000004:-2.5:0:-0:NaN:+Inf:-Inf:1e+06:", 0.1 + 0.2,
          -2.5, 0.0, -0.0, NAN, INFINITY, -INFINITY, 1e6);
    CHECK(template_fmt_float_v, "5e-324:1.7976931348623157e+308:", 5e-324, 1.7976931348623157e308);
}

static int fmt_g4(double v, struct lw_buf *b)
{
    return template_fmt_float_g(v, 4, b);
}

static void test_float_g_matches_go_spellings(void **state)
{
    (void)state;
    CHECK(fmt_g4, "1e+05:123:1000:1.234:NaN:-Inf:", 100000, 123, 1000, 1.2345, NAN, -INFINITY);
}

static void test_buffer_limit_is_reported(void **state)
{
    (void)state;
    struct lw_buf b;
    lw_buf_init(&b, 4);
    assert_int_equal(template_humanize_timestamp(1435065584.128, &b), -1);
    lw_buf_cleanup(&b);
}

/* ---- the template language ---- */

static struct lw_labels alert_labels;
static struct lw_labels ext_labels;

static void setup_labels(void)
{
    lw_labels_init(&alert_labels);
    lw_labels_init(&ext_labels);
    assert_int_equal(lw_labels_set(&alert_labels, "__name__", "lag_seconds"), 0);
    assert_int_equal(lw_labels_set(&alert_labels, "job", "debezium"), 0);
    assert_int_equal(lw_labels_set(&alert_labels, "instance", "connect-1:8083"), 0);
    assert_int_equal(lw_labels_set(&alert_labels, "pipeline", "orders-cdc"), 0);
    assert_int_equal(lw_labels_set(&ext_labels, "cluster", "eu-1"), 0);
}

static void cleanup_labels(void)
{
    lw_labels_cleanup(&alert_labels);
    lw_labels_cleanup(&ext_labels);
}

/* Expand text as an alert template of rule "A" with $value = value and compare. */
static void expect_alert_v(const char *text, double value, const char *want)
{
    setup_labels();
    struct lw_buf b;
    lw_buf_init(&b, 1u << 20);
    struct lw_err err = {0};
    int rc = tmpl_expand_alert("A", text, &alert_labels, &ext_labels, "http://prom:9090/p", value,
                               &b, &err);
    if (rc != 0)
        fail_msg("%s: %d:%d: %s", text, err.line, err.col, err.msg);
    if (strcmp(lw_buf_str(&b), want) != 0)
        fail_msg("%s:\n got  \"%s\"\n want \"%s\"", text, lw_buf_str(&b), want);
    lw_buf_cleanup(&b);
    cleanup_labels();
}

static void expect_alert(const char *text, const char *want)
{
    expect_alert_v(text, 1234.5678, want);
}

/* Expansion must fail with err at line:col and a message containing want_msg; the Prometheus
 * error text (tmpl_alert_error_text) must equal want_text when given. */
static void expect_alert_error(const char *text, int line, int col, const char *want_msg,
                               const char *want_text)
{
    setup_labels();
    struct lw_buf b;
    lw_buf_init(&b, 1u << 20);
    struct lw_err err = {0};
    int rc = tmpl_expand_alert("A", text, &alert_labels, &ext_labels, "", 7, &b, &err);
    if (rc == 0)
        fail_msg("%s: expanded to \"%s\", want an error", text, lw_buf_str(&b));
    assert_string_equal(lw_buf_str(&b), "");
    if (strstr(err.msg, want_msg) == NULL || err.line != line || err.col != col)
        fail_msg("%s: got %d:%d: %s; want %d:%d: ...%s...", text, err.line, err.col, err.msg, line,
                 col, want_msg);
    if (want_text) {
        assert_int_equal(tmpl_alert_error_text("A", &err, &b), 0);
        assert_string_equal(lw_buf_str(&b), want_text);
    }
    lw_buf_cleanup(&b);
    cleanup_labels();
}

static void expect_check_error(const char *text, int line, int col, const char *want_msg)
{
    struct lw_err err = {0};
    if (tmpl_check_alert("A", text, &err) == 0)
        fail_msg("%s: accepted, want an error", text);
    if (strcmp(err.msg, want_msg) != 0 || err.line != line || err.col != col)
        fail_msg("%s: got %d:%d: %s; want %d:%d: %s", text, err.line, err.col, err.msg, line, col,
                 want_msg);
}

static void test_text_and_values_print_as_go_does(void **state)
{
    (void)state;
    expect_alert("plain text", "plain text");
    expect_alert("", "");
    expect_alert("{{ $value }}", "1234.5678");
    expect_alert_v("{{ $value }} {{ .Value }}", 1e6, "1e+06 1e+06");
    expect_alert("{{ $labels.job }}/{{ .Labels.instance }}/{{ $labels.missing }}.",
                 "debezium/connect-1:8083/.");
    expect_alert("{{ $externalLabels.cluster }} {{ $externalURL }} {{ .ExternalURL }}",
                 "eu-1 http://prom:9090/p http://prom:9090/p");
    expect_alert(
        "{{ $labels }}",
        "map[__name__:lag_seconds instance:connect-1:8083 job:debezium pipeline:orders-cdc]");
    expect_alert("{{ . }}", "{map[__name__:lag_seconds instance:connect-1:8083 job:debezium "
                            "pipeline:orders-cdc] map[cluster:eu-1] http://prom:9090/p 1234.5678}");
    expect_alert("{{ 1e3 }} {{ 0x1F }} {{ 'a' }} {{ 1_000 }} {{ 0o17 }} {{ 017 }} {{ -5 }} "
                 "{{ +3.5 }} {{ 1.0 }} {{ true }} {{ 0x1p-2 }}",
                 "1000 31 97 1000 15 15 -5 3.5 1 true 0.25");
    expect_alert("{{ \"tab\\there\\u00e9\\x41\\101\" }} {{ `raw\\n` }}", "tab\there\xc3\xa9"
                                                                         "AA raw\\n");
}

static void test_trim_markers_and_comments(void **state)
{
    (void)state;
    expect_alert("a  {{- \" b \" -}}  c", "a b c");
    expect_alert("a\n  {{- /* comment */ -}}\n b {{/* c2 */}} c", "ab  c");
    expect_alert("{{- 1 -}}", "1");
    expect_alert("x {{-3}}", "x -3"); /* no space after '-': a negative number, not a trim */
    expect_alert("{{ 1 }}\n{{- 2 }}", "12");
}

static void test_humanize_functions_accept_numbers_and_strings(void **state)
{
    (void)state;
    expect_alert("{{ humanize $value }}|{{ humanize \"2048\" }}|{{ humanize 0.000123 }}",
                 "1.235k|2.048k|123u");
    expect_alert("{{ humanize1024 1073741824 }} {{ humanizeDuration $value }} "
                 "{{ humanizePercentage 0.12345 }}",
                 "1Gi 20m 34s 12.35%");
    expect_alert("{{ humanizeTimestamp 1435065584.128 }}|{{ toTime 0 }}",
                 "2015-06-23 13:19:44.128 +0000 UTC|1970-01-01 00:00:00 +0000 UTC");
    expect_alert("{{ humanize \"1_000\" }} {{ humanize \"inf\" }}", "1k +Inf");
}

static void test_printf_follows_go_fmt(void **state)
{
    (void)state;
    expect_alert("{{ printf \"%.2f\" $value }}", "1234.57");
    expect_alert("{{ printf \"%d\" $value }}", "%!d(float64=1234.5678)");
    expect_alert("{{ printf \"%5.1f|%-6d|%06.2f|%+d|%x|%X|%o|%q|%c|%U|%e|%g|%G|%.3g|%s\" 3.14159 "
                 "42 -1.5 5 -255 255 8 65 65 65 123456.789 1e21 1e-7 1234.5 true }}",
                 "  3.1|42    |-01.50|+5|-ff|FF|10|'A'|A|U+0041|1.234568e+05|1e+21|1E-07|1.23e+03|"
                 "%!s(bool=true)");
    expect_alert("{{ printf \"%v %v %v %.2f %5s|%-5s|%05s %t %v\" 1e6 100000.0 0.000012 $value "
                 "\"ab\" \"ab\" \"ab\" true nil }}",
                 "1e+06 100000 1.2e-05 1234.57    ab|ab   |000ab true <nil>");
    expect_alert("{{ printf \"%d %s %v %q %x\" 1.5 2 $labels.job \"a\\\"b\" \"hi\" }}",
                 "%!d(float64=1.5) %!s(int=2) debezium \"a\\\"b\" 6869");
    expect_alert("{{ printf \"%d\" }}|{{ printf \"%s\" 1 2 }}|{{ printf \"%z %\" 3 }}",
                 "%!d(MISSING)|%!s(int=1)%!(EXTRA int=2)|%!z(int=3) %!(NOVERB)");
    expect_alert(
        "{{ printf \"%[2]s-%[1]s\" \"a\" \"b\" }}|{{ printf \"%*d|%.*f|%%\" 5 42 1 3.14159 }}",
        "b-a|   42|3.1|%");
    /* After an explicit index the next verb takes the following argument, as in Go. */
    expect_alert("{{ printf \"%[2]s %s|%*d\" \"a\" \"b\" 7 }}",
                 "b %!s(int=7)|%!(BADWIDTH)%!d(MISSING)");
    expect_alert("{{ printf \"%q|%+q|%#q|%#q\" \"\u00e9\\x01\" \"\u00e9\" \"a b\" \"a`b\" }}",
                 "\"\u00e9\\x01\"|\"\\u00e9\"|`a b`|\"a`b\"");
    expect_alert("{{ printf \"%T %T %T %T\" 1 1.5 \"s\" $labels }}",
                 "int float64 string map[string]string");
    expect_alert("{{ printf \"%d\" $externalLabels }}",
                 "map[%!d(string=cluster):%!d(string=eu-1)]");
    expect_alert("{{ printf \"%+v\" (args 1 \"a\") }}", "map[arg0:1 arg1:a]");
    expect_alert_v("{{ printf \"%f %08.3f %+.1e\" $value $value $value }}", -1.0 / 0.0,
                   "-Inf     -Inf -Inf");
}

static void test_control_structures(void **state)
{
    (void)state;
    expect_alert(
        "{{ if gt $value 1000.0 }}high{{ else if gt $value 100.0 }}mid{{ else }}low{{ end }}",
        "high");
    expect_alert_v(
        "{{ if gt $value 1000.0 }}high{{ else if gt $value 100.0 }}mid{{ else }}low{{ end }}", 150,
        "mid");
    expect_alert_v(
        "{{ if gt $value 1000.0 }}high{{ else if gt $value 100.0 }}mid{{ else }}low{{ end }}", 1,
        "low");
    expect_alert("{{ range $k, $v := $labels }}{{ $k }}={{ $v }};{{ end }}",
                 "__name__=lag_seconds;instance=connect-1:8083;job=debezium;pipeline=orders-cdc;");
    expect_alert("{{ range $externalLabels }}[{{ . }}]{{ else }}none{{ end }}", "[eu-1]");
    expect_alert("{{ range (args).none }}x{{ else }}empty{{ end }}", "empty");
    expect_alert("{{ range $k, $v := $labels }}{{ if eq $k \"job\" }}{{ break }}{{ end }}"
                 "{{ if eq $k \"__name__\" }}{{ continue }}{{ end }}{{ $k }},{{ end }}",
                 "instance,");
    expect_alert("{{ with $labels.pipeline }}p={{ . }}{{ else }}none{{ end }}|"
                 "{{ with $labels.nope }}{{ . }}{{ else }}none{{ end }}",
                 "p=orders-cdc|none");
    expect_alert("{{ $x := 1 }}{{ range $labels }}{{ $x = 2 }}{{ end }}{{ $x }}"
                 "{{ if true }}{{ $x := 3 }}{{ $x }}{{ end }}{{ $x }}|{{ $.Value }}",
                 "232|1234.5678");
    expect_alert("{{ define \"sub\" }}[{{ . }}]{{ end }}{{ template \"sub\" $labels.job }}"
                 "{{ template \"sub\" }}{{ block \"blk\" 5 }}<{{ . }}>{{ end }}",
                 "[debezium][<no value>]<5>");
}

static void test_comparison_and_logic_functions(void **state)
{
    (void)state;
    expect_alert("{{ eq \"a\" \"b\" \"a\" }} {{ eq 1 2 }} {{ ne 1.5 2.5 }} {{ le 2 2 }} "
                 "{{ gt \"b\" \"a\" }} {{ ge 1.0 2.0 }} {{ and 1 0 2 }} {{ or 0 \"\" \"x\" }} "
                 "{{ not 0 }} {{ len $labels }} {{ len \"h\xc3\xa9llo\" }}",
                 "true false true true true false 0 x true 4 6");
    expect_alert("{{ or $labels.nope \"default\" }}|{{ and $labels.job $labels.pipeline }}",
                 "default|orders-cdc");
    /* and/or stop at the deciding argument: the failing call is never made. */
    expect_alert("{{ or 1 (index 1 2) }}{{ and 0 (index 1 2) }}", "10");
}

static void test_string_and_regexp_functions(void **state)
{
    (void)state;
    expect_alert("{{ title \"hello wORLD foo-bar_baz\" }}|{{ toUpper \"h\xc3\xa9llo\" }}|"
                 "{{ toLower \"MiXeD\" }}",
                 "Hello WORLD Foo-Bar_baz|H\xc3\x89LLO|mixed");
    expect_alert("{{ reReplaceAll \"(.*):(\\\\d+)\" \"$1 on port $2\" $labels.instance }}",
                 "connect-1 on port 8083");
    expect_alert("{{ reReplaceAll \"a*\" \"-\" \"baaac\" }}|"
                 "{{ reReplaceAll \"(\\\\w)(\\\\w)\" \"$2$1x$1x ${1}x $$1\" \"abcd\" }}|"
                 "{{ reReplaceAll \"(?P<w>\\\\w+)\" \"<${w}>\" \"hi there\" }}",
                 "-b-c-|b ax $1d cx $1|<hi> <there>");
    expect_alert(
        "{{ match \"^connect-\\\\d+:\\\\d+$\" $labels.instance }} {{ match \"^x\" \"abc\" }}",
        "true false");
    expect_alert("{{ html \"<&>\\\"'\" }} {{ js \"<a href='x'>\" }} {{ urlquery \"a b&c/d\" }}",
                 "&lt;&amp;&gt;&#34;&#39; \\u003Ca href\\u003D\\'x\\'\\u003E a+b%26c%2Fd");
    expect_alert(
        "{{ print 1 2 \"a\" \"b\" 3 }}|{{ println 1 \"a\" }}|{{ print nil }}|{{ html nil }}",
        "1 2ab3|1 a\n|<nil>|&lt;no value&gt;");
    expect_alert(
        "{{ stripPort $labels.instance }} {{ stripPort \"[::1]:80\" }} {{ stripPort \"h\" }} "
        "{{ parseDuration \"1h30m\" }} {{ graphLink \"up > 0\" }} {{ tableLink \"x\" }}",
        "connect-1 ::1 h 5400 /graph?g0.expr=up+%3E+0&g0.tab=0 /graph?g0.expr=x&g0.tab=1");
    expect_alert("{{ externalURL }} {{ pathPrefix }} {{ safeHtml \"<b>\" }}",
                 "http://prom:9090/p /p <b>");
    expect_alert("{{ index \"abc\" 1 }} {{ slice \"abcdef\" 1 3 }} {{ slice \"abc\" 3 }}|"
                 "{{ index (args 1 2) \"arg5\" }}",
                 "98 bc |<no value>");
    expect_alert("{{ $value | printf \"%.1f\" }}|{{ $labels.job | toUpper | printf \"%s!\" }}|"
                 "{{ \"x\" | printf \"%s-%s\" \"y\" }}|{{ (args 1 2).arg1 }}",
                 "1234.6|DEBEZIUM!|y-x|2");
}

static void test_runtime_errors_read_as_prometheus_shows_them(void **state)
{
    (void)state;
    expect_alert_error("{{ eq $value 1 }}", 1, 4, "error calling eq: incompatible types",
                       "<error expanding template: error executing template __alert_A: template: "
                       "__alert_A:1:115: executing \"__alert_A\" at <eq $value 1>: error calling "
                       "eq: incompatible types for comparison>");
    expect_alert_error("{{ .Foo }}", 1, 4, "can't evaluate field Foo in type struct {", NULL);
    expect_alert_error("{{ toUpper $value }}", 1, 12,
                       "wrong type for value; expected string; got float64", NULL);
    expect_alert_error("{{ toUpper 1 }}", 1, 12, "at <1>: expected string; found 1", NULL);
    expect_alert_error("ok\n  {{ index .Labels \"job\" 8 }}", 2, 6,
                       "error calling index: reflect: string index out of range",
                       "<error expanding template: error executing template __alert_A: template: "
                       "__alert_A:2:5: executing \"__alert_A\" at <index .Labels \"job\" 8>: error "
                       "calling index: reflect: string index out of range>");
    expect_alert_error("{{ $labels.job.x }}", 1, 11, "can't evaluate field x in type string", NULL);
    expect_alert_error("{{ humanize \"abc\" }}", 1, 4,
                       "strconv.ParseFloat: parsing \"abc\": invalid syntax", NULL);
    expect_alert_error("{{ reReplaceAll \"(\" \"x\" \"y\" }}", 1, 4,
                       "regexp: Compile(`(`): error parsing regexp: missing closing ): `(`", NULL);
    expect_alert_error("{{ humanize 1 2 }}", 1, 4,
                       "wrong number of args for humanize: want 1 got 2", NULL);
    expect_alert_error("{{ 1 2 }}", 1, 4, "can't give argument to non-function 1", NULL);
    expect_alert_error("{{ range \"abc\" }}{{ end }}", 1, 10, "range can't iterate over abc", NULL);
    expect_alert_error("{{ template \"nope\" }}", 1, 4, "template \"nope\" not defined", NULL);
}

static void test_parse_errors_have_positions(void **state)
{
    (void)state;
    expect_check_error("{{ foo }}", 1, 4, "function \"foo\" not defined");
    expect_check_error("{{ if }}", 1, 7, "missing value for if");
    expect_check_error("{{ $x }}", 1, 4, "undefined variable \"$x\"");
    expect_check_error("line1\n{{ end }}", 2, 4, "unexpected {{end}}");
    expect_check_error("{{ if true }}x", 1, 15, "unexpected EOF");
    expect_check_error("{{ 1", 1, 5, "unclosed action");
    expect_check_error("{{ (1 }}", 1, 7, "unclosed left paren");
    expect_check_error("{{ \"abc }}", 1, 4, "unterminated quoted string");
    expect_check_error("{{ 1x }}", 1, 4, "bad number syntax: \"1x\"");
    expect_check_error("{{ 1 | 2 }}", 1, 8, "non executable command in pipeline stage 2");
    expect_check_error("{{ break }}", 1, 4, "{{break}} outside {{range}}");
    expect_check_error("{{/* x */ 1 }}", 1, 10, "comment ends before closing delimiter");
    expect_check_error("{{ query \"up\" | first | value }}", 1, 4,
                       "query is not supported in lagwatch templates");
    expect_check_error("{{ $x := 1 }}{{ label \"a\" $x }}", 1, 17,
                       "label is not supported in lagwatch templates: it works on query results "
                       "and query is not supported");
    expect_check_error("\n\n  {{ reReplaceAll \"(?=x)\" \"\" \"\" }}", 3, 19,
                       "error parsing regexp: invalid or unsupported Perl syntax: `(?=`");
    expect_check_error("{{ match \"[a\" \"\" }}", 1, 10,
                       "error parsing regexp: missing closing ]: `[a`");
    struct lw_err err = {0};
    assert_int_equal(tmpl_check_alert("A", "{{ $labels.x }} {{ humanize $value }}", &err), 0);
}

/* Receiver templates: a generic data tree, Alertmanager's functions and missing keys. */
static void test_receiver_templates_over_a_value_tree(void **state)
{
    (void)state;
    struct tmpl_value *data = tmpl_value_struct("template.Data");
    struct tmpl_value *alerts = tmpl_value_list();
    for (int i = 0; i < 2; i++) {
        struct tmpl_value *a = tmpl_value_map(false);
        struct tmpl_value *ls = tmpl_value_map(true);
        assert_int_equal(tmpl_value_set(ls, "pipeline", tmpl_value_str(i ? "users" : "orders")), 0);
        assert_int_equal(tmpl_value_set(a, "Labels", ls), 0);
        assert_int_equal(tmpl_value_set(a, "Status", tmpl_value_str("firing")), 0);
        assert_int_equal(tmpl_value_append(alerts, a), 0);
    }
    assert_int_equal(tmpl_value_set(data, "Alerts", alerts), 0);
    assert_int_equal(tmpl_value_set(data, "CommonLabels", tmpl_value_map(true)), 0);
    assert_int_equal(tmpl_value_set(data, "Receiver", tmpl_value_str("slack")), 0);
    assert_int_equal(tmpl_value_len(tmpl_value_get(data, "Alerts")), 2);

    static const char src[] =
        "{{ define \"title\" }}[{{ .Receiver | toUpper }}] {{ len .Alerts }} alerts{{ end }}"
        "{{ template \"title\" . }}:{{ range $i, $a := .Alerts }} {{ $i }}={{ $a.Labels.pipeline }}"
        "{{ end }} {{ .CommonLabels.severity }} {{ join \", \" (stringSlice \"a\" \"b\") }}";
    struct tmpl *t;
    struct lw_err err = {0};
    assert_int_equal(tmpl_parse("slack.title", src, strlen(src), TMPL_ALERTMANAGER, &t, &err), 0);
    struct lw_buf b;
    lw_buf_init(&b, 4096);
    assert_int_equal(tmpl_exec(t, data, NULL, &b, &err), 0);
    assert_string_equal(lw_buf_str(&b), "[SLACK] 2 alerts: 0=orders 1=users  a, b");
    /* Executing twice gives the same text (the template is not changed by running). */
    lw_buf_reset(&b);
    assert_int_equal(tmpl_exec(t, data, NULL, &b, &err), 0);
    assert_string_equal(lw_buf_str(&b), "[SLACK] 2 alerts: 0=orders 1=users  a, b");
    lw_buf_cleanup(&b);
    tmpl_free(t);
    tmpl_value_unref(data);

    /* Prometheus's functions are not Alertmanager's. */
    assert_int_equal(tmpl_parse("x", "{{ humanize 1 }}", 16, TMPL_ALERTMANAGER, &t, &err), -1);
    assert_string_equal(err.msg, "function \"humanize\" not defined");
    assert_int_equal(tmpl_parse("x", "{{ join \",\" . }}", 16, TMPL_PROMETHEUS, &t, &err), -1);
    tmpl_free(NULL);
    tmpl_value_unref(NULL);
}

static void test_alert_template_parsed_once_runs_many_times(void **state)
{
    (void)state;
    struct tmpl *t;
    struct lw_err err = {0};
    assert_int_equal(tmpl_parse_alert("Lag", "{{ $labels.job }}: {{ humanize $value }}", &t, &err),
                     0);
    struct lw_labels ls;
    lw_labels_init(&ls);
    struct lw_buf b;
    lw_buf_init(&b, 4096);
    for (int i = 0; i < 3; i++) {
        char job[16];
        snprintf(job, sizeof job, "job%d", i);
        assert_int_equal(lw_labels_set(&ls, "job", job), 0);
        lw_buf_reset(&b);
        assert_int_equal(tmpl_exec_alert(t, &ls, NULL, NULL, 1500.0 * (i + 1), &b, &err), 0);
    }
    assert_string_equal(lw_buf_str(&b), "job2: 4.5k");
    tmpl_free(t);
    /* A failed run leaves what the buffer held before it. */
    assert_int_equal(tmpl_parse_alert("Lag", "x{{ index $labels.job 99 }}", &t, &err), 0);
    assert_int_equal(tmpl_exec_alert(t, &ls, NULL, NULL, 0, &b, &err), -1);
    assert_string_equal(lw_buf_str(&b), "job2: 4.5k");
    assert_int_equal(tmpl_alert_error_text("Lag", &err, &b), 0);
    assert_non_null(strstr(lw_buf_str(&b), "<error expanding template: error executing template "
                                           "__alert_Lag: template: __alert_Lag:1:116: executing"));
    tmpl_free(t);
    lw_buf_cleanup(&b);
    lw_labels_cleanup(&ls);
}

static void test_value_tree_api(void **state)
{
    (void)state;
    struct tmpl_value *m = tmpl_value_map(true);
    assert_int_equal(tmpl_value_set(m, "b", tmpl_value_str("2")), 0);
    assert_int_equal(tmpl_value_set(m, "a", tmpl_value_str("1")), 0);
    assert_int_equal(tmpl_value_set(m, "b", tmpl_value_str("3")), 0); /* replaces */
    assert_int_equal(tmpl_value_len(m), 2);
    assert_string_equal(tmpl_value_strp(tmpl_value_get(m, "b")), "3");
    assert_null(tmpl_value_get(m, "c"));
    assert_int_equal(tmpl_value_kind(m), TMPL_MAP);
    assert_int_equal(tmpl_value_set_type(m, "template.KV"), 0);
    struct tmpl_value *names = tmpl_value_list();
    assert_int_equal(tmpl_value_append(names, tmpl_value_str("a")), 0);
    assert_int_equal(tmpl_value_append(names, tmpl_value_str("b")), 0);
    assert_int_equal(tmpl_value_set_method(m, "Names", names), 0);
    assert_int_equal(tmpl_value_set_method(m, "Self", tmpl_value_ref(m)),
                     -1); /* a cycle is refused */
    /* Setting into a non-map, or appending to a non-list, fails and releases the value. */
    assert_int_equal(tmpl_value_set(names, "x", tmpl_value_int(1)), -1);
    assert_int_equal(tmpl_value_append(m, tmpl_value_int(1)), -1);
    assert_string_equal(tmpl_value_strp(tmpl_value_at(names, 1)), "b");
    assert_null(tmpl_value_at(names, 2));

    const char *src = "{{ range . }}{{ . }}{{ end }} {{ .Names }} {{ printf \"%T\" . }} {{ .a }}";
    struct tmpl *t;
    struct lw_err err = {0};
    assert_int_equal(tmpl_parse("kv", src, strlen(src), TMPL_ALERTMANAGER, &t, &err), 0);
    struct lw_buf b;
    lw_buf_init(&b, 4096);
    assert_int_equal(tmpl_exec(t, m, NULL, &b, &err), 0);
    assert_string_equal(lw_buf_str(&b), "13 [a b] template.KV 1");
    lw_buf_cleanup(&b);
    tmpl_free(t);
    tmpl_value_unref(m);
}

static void test_hostile_templates_are_bounded(void **state)
{
    (void)state;
    struct tmpl *t;
    struct lw_err err = {0};
    struct lw_buf b;
    lw_buf_init(&b, 64u << 20);
    /* Output beyond the cap. */
    const char *big = "{{ printf \"%999999d\" 1 }}{{ printf \"%999999d\" 1 }}";
    assert_int_equal(tmpl_parse("big", big, strlen(big), TMPL_PROMETHEUS, &t, &err), 0);
    assert_int_equal(tmpl_exec(t, NULL, NULL, &b, &err), -1);
    assert_non_null(strstr(err.msg, "template output exceeds"));
    assert_true(b.len <= LW_MAX_TMPL_OUTPUT_BYTES);
    tmpl_free(t);
    /* Unbounded recursion through {{template}}. */
    const char *rec = "{{ define \"r\" }}{{ template \"r\" . }}{{ end }}{{ template \"r\" }}";
    assert_int_equal(tmpl_parse("rec", rec, strlen(rec), TMPL_PROMETHEUS, &t, &err), 0);
    lw_buf_reset(&b);
    assert_int_equal(tmpl_exec(t, NULL, NULL, &b, &err), -1);
    assert_non_null(strstr(err.msg, "exceeded maximum template depth"));
    tmpl_free(t);
    /* Nested ranges whose iterations multiply. */
    struct tmpl_value *l = tmpl_value_list();
    for (int i = 0; i < 200; i++)
        assert_int_equal(tmpl_value_append(l, tmpl_value_int(i)), 0);
    const char *loops = "{{ range $ }}{{ range $ }}{{ range $ }}{{ end }}{{ end }}{{ end }}";
    assert_int_equal(tmpl_parse("loops", loops, strlen(loops), TMPL_PROMETHEUS, &t, &err), 0);
    lw_buf_reset(&b);
    assert_int_equal(tmpl_exec(t, l, NULL, &b, &err), -1);
    /* (the time fuse may blow first on a slow, sanitised build) */
    assert_true(strstr(err.msg, "template evaluation exceeded") != NULL ||
                strstr(err.msg, "template evaluation took longer than") != NULL);
    tmpl_free(t);
    tmpl_value_unref(l);
    /* Strings built and thrown away in a loop count, though none reaches the output. */
    struct tmpl_value *l2 = tmpl_value_list();
    for (int i = 0; i < 200; i++)
        assert_int_equal(tmpl_value_append(l2, tmpl_value_int(i)), 0);
    const char *waste = "{{ range $ }}{{ $x := printf \"%999999d\" 1 }}{{ end }}";
    assert_int_equal(tmpl_parse("waste", waste, strlen(waste), TMPL_PROMETHEUS, &t, &err), 0);
    lw_buf_reset(&b);
    assert_int_equal(tmpl_exec(t, l2, NULL, &b, &err), -1);
    assert_non_null(strstr(err.msg, "template functions built more than"));
    tmpl_free(t);
    tmpl_value_unref(l2);
    /* Catastrophic backtracking (linear in Go's RE2) is cut off, not waited for. */
    const char *bt =
        "{{ match \"^(a+)+$\" (printf \"%s!\" (printf \"%040d\" 0 | reReplaceAll \"0\" \"a\")) }}";
    assert_int_equal(tmpl_parse("bt", bt, strlen(bt), TMPL_PROMETHEUS, &t, &err), 0);
    lw_buf_reset(&b);
    assert_int_equal(tmpl_exec(t, NULL, NULL, &b, &err), -1);
    assert_non_null(strstr(err.msg, "regexp matching exceeded its limit"));
    tmpl_free(t);
    /* Nesting deeper than the parser allows. */
    struct lw_buf src;
    lw_buf_init(&src, 1u << 20);
    for (int i = 0; i < LW_MAX_TMPL_NEST_DEPTH + 5; i++)
        assert_int_equal(lw_buf_adds(&src, "{{ if 1 }}"), 0);
    assert_int_equal(tmpl_parse("deep", src.data, src.len, TMPL_PROMETHEUS, &t, &err), -1);
    assert_non_null(strstr(err.msg, "nested too deeply"));
    lw_buf_reset(&src);
    assert_int_equal(lw_buf_adds(&src, "{{ "), 0);
    for (int i = 0; i < LW_MAX_TMPL_NEST_DEPTH + 5; i++)
        assert_int_equal(lw_buf_adds(&src, "("), 0);
    assert_int_equal(lw_buf_adds(&src, "1"), 0);
    for (int i = 0; i < LW_MAX_TMPL_NEST_DEPTH + 5; i++)
        assert_int_equal(lw_buf_adds(&src, ")"), 0);
    assert_int_equal(lw_buf_adds(&src, " }}"), 0);
    assert_int_equal(tmpl_parse("parens", src.data, src.len, TMPL_PROMETHEUS, &t, &err), -1);
    lw_buf_cleanup(&src);
    lw_buf_cleanup(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_humanize_uses_si_prefixes_with_four_digits),
        cmocka_unit_test(test_humanize1024_uses_binary_prefixes),
        cmocka_unit_test(test_humanize_duration_as_prometheus),
        cmocka_unit_test(test_humanize_percentage),
        cmocka_unit_test(test_humanize_timestamp_in_go_time_string_form),
        cmocka_unit_test(test_float_v_is_go_shortest_with_exponent_rule),
        cmocka_unit_test(test_float_g_matches_go_spellings),
        cmocka_unit_test(test_buffer_limit_is_reported),
        cmocka_unit_test(test_text_and_values_print_as_go_does),
        cmocka_unit_test(test_trim_markers_and_comments),
        cmocka_unit_test(test_humanize_functions_accept_numbers_and_strings),
        cmocka_unit_test(test_printf_follows_go_fmt),
        cmocka_unit_test(test_control_structures),
        cmocka_unit_test(test_comparison_and_logic_functions),
        cmocka_unit_test(test_string_and_regexp_functions),
        cmocka_unit_test(test_runtime_errors_read_as_prometheus_shows_them),
        cmocka_unit_test(test_parse_errors_have_positions),
        cmocka_unit_test(test_receiver_templates_over_a_value_tree),
        cmocka_unit_test(test_alert_template_parsed_once_runs_many_times),
        cmocka_unit_test(test_value_tree_api),
        cmocka_unit_test(test_hostile_templates_are_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
