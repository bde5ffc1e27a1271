/* test_labels.c — the shared label set and label matchers: order, uniqueness, fingerprints equal
 * to Alertmanager's, subset hashing for vector matching, formatting, anchored RE2-like regexps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "lagwatch/labels.h"
#include "lagwatch/matcher.h"

static void set(struct lw_labels *ls, const char *n, const char *v)
{
    assert_int_equal(lw_labels_set(ls, n, v), 0);
}

static char *fmt(const struct lw_labels *ls, bool metric)
{
    static char out[512];
    struct lw_buf b;
    lw_buf_init(&b, 4096);
    assert_int_equal(metric ? lw_labels_format_metric(ls, &b) : lw_labels_format(ls, &b), 0);
    strncpy(out, lw_buf_str(&b), sizeof(out) - 1);
    lw_buf_cleanup(&b);
    return out;
}

static void test_set_keeps_names_sorted_and_unique(void **state)
{
    (void)state;
    struct lw_labels ls;
    lw_labels_init(&ls);
    set(&ls, "pipeline", "orders");
    set(&ls, "__name__", "up");
    set(&ls, "job", "x");
    set(&ls, "job", "y");
    assert_int_equal(ls.n, 3);
    assert_string_equal(ls.v[0].name, "__name__");
    assert_string_equal(ls.v[1].name, "job");
    assert_string_equal(ls.v[2].name, "pipeline");
    assert_string_equal(lw_labels_get(&ls, "job"), "y");
    assert_null(lw_labels_get(&ls, "nope"));
    lw_labels_cleanup(&ls);
}

static void test_empty_value_removes_the_label(void **state)
{
    (void)state;
    struct lw_labels ls;
    lw_labels_init(&ls);
    set(&ls, "a", "1");
    set(&ls, "b", "2");
    set(&ls, "a", "");
    assert_int_equal(ls.n, 1);
    assert_null(lw_labels_get(&ls, "a"));
    lw_labels_del(&ls, "b");
    lw_labels_del(&ls, "b");
    assert_int_equal(ls.n, 0);
    lw_labels_cleanup(&ls);
}

static void test_fingerprint_equals_alertmanagers(void **state)
{
    (void)state;
    struct lw_labels ls;
    lw_labels_init(&ls);
    /* Empty set: the FNV-1a offset basis, as model.LabelSet{}.Fingerprint(). */
    assert_true(lw_labels_fingerprint(&ls) == 0xcbf29ce484222325ULL);
    set(&ls, "pipeline", "orders");
    set(&ls, "alertname", "HighLag");
    /* FNV-1a 64 of "alertname\xffHighLag\xffpipeline\xfforders\xff". */
    assert_true(lw_labels_fingerprint(&ls) == 0x1f78f5856c5c028dULL);
    lw_labels_cleanup(&ls);
}

static void test_copy_compare_and_equal(void **state)
{
    (void)state;
    struct lw_labels a, b;
    lw_labels_init(&a);
    set(&a, "a", "1");
    set(&a, "b", "2");
    assert_int_equal(lw_labels_copy(&b, &a), 0);
    assert_true(lw_labels_equal(&a, &b));
    set(&b, "c", "3");
    assert_true(lw_labels_cmp(&a, &b) < 0); /* prefix sorts first */
    set(&b, "a", "0");
    assert_true(lw_labels_cmp(&a, &b) > 0);
    assert_false(lw_labels_equal(&a, &b));
    lw_labels_cleanup(&a);
    lw_labels_cleanup(&b);
}

static void test_subset_hash_for_on_and_ignoring(void **state)
{
    (void)state;
    struct lw_labels a, b;
    lw_labels_init(&a);
    lw_labels_init(&b);
    set(&a, "__name__", "x");
    set(&a, "pipeline", "orders");
    set(&a, "instance", "i1");
    set(&b, "__name__", "y");
    set(&b, "pipeline", "orders");
    set(&b, "instance", "i2");
    const char *on[] = {"pipeline"};
    assert_true(lw_labels_hash_subset(&a, on, 1, true) == lw_labels_hash_subset(&b, on, 1, true));
    assert_true(lw_labels_subset_equal(&a, &b, on, 1, true));
    const char *ign[] = {"instance"};
    /* ignoring(instance) also drops __name__ */
    assert_true(lw_labels_subset_equal(&a, &b, ign, 1, false));
    assert_true(lw_labels_hash_subset(&a, ign, 1, false) ==
                lw_labels_hash_subset(&b, ign, 1, false));
    assert_false(lw_labels_subset_equal(&a, &b, NULL, 0, false));
    lw_labels_cleanup(&a);
    lw_labels_cleanup(&b);
}

static void test_formats_as_prometheus_prints(void **state)
{
    (void)state;
    struct lw_labels ls;
    lw_labels_init(&ls);
    assert_string_equal(fmt(&ls, false), "{}");
    assert_string_equal(fmt(&ls, true), "{}");
    set(&ls, "__name__", "up");
    assert_string_equal(fmt(&ls, true), "up");
    set(&ls, "job", "a\"b\\c\nd");
    set(&ls, "le", "1");
    assert_string_equal(fmt(&ls, false), "{__name__=\"up\", job=\"a\\\"b\\\\c\\nd\", le=\"1\"}");
    assert_string_equal(fmt(&ls, true), "up{job=\"a\\\"b\\\\c\\nd\",le=\"1\"}");
    lw_labels_cleanup(&ls);
}

static bool match(enum lw_match_op op, const char *pattern, const char *value)
{
    struct lw_matcher m;
    struct lw_err err = {0};
    assert_int_equal(lw_matcher_init(&m, op, "x", pattern, &err), 0);
    bool r = lw_matcher_matches(&m, value);
    lw_matcher_cleanup(&m);
    return r;
}

static void test_regexps_are_fully_anchored(void **state)
{
    (void)state;
    assert_true(match(LW_MATCH_RE, "ord.*", "orders"));
    assert_false(match(LW_MATCH_RE, "ord", "orders"));
    assert_false(match(LW_MATCH_RE, "ders", "orders"));
    assert_true(match(LW_MATCH_RE, "a|b", "b"));
    assert_false(match(LW_MATCH_RE, "a|b", "ab"));
    assert_true(match(LW_MATCH_NRE, "a|b", "ab"));
    assert_true(match(LW_MATCH_RE, "a.b", "a\nb")); /* Prometheus wraps in (?s:...) */
}

static void test_absent_label_matches_as_empty(void **state)
{
    (void)state;
    assert_true(match(LW_MATCH_EQ, "", NULL));
    assert_false(match(LW_MATCH_NE, "", NULL));
    assert_true(match(LW_MATCH_RE, ".*", NULL));
    assert_false(match(LW_MATCH_RE, ".+", NULL));
    assert_true(match(LW_MATCH_NE, "x", NULL));
}

static void test_refuses_what_re2_cannot_do(void **state)
{
    (void)state;
    struct lw_matcher m;
    struct lw_err err = {0};
    assert_int_equal(lw_matcher_init(&m, LW_MATCH_RE, "x", "(a)\\1", &err), -1);
    assert_non_null(strstr(err.msg, "backreference"));
    assert_int_equal(lw_matcher_init(&m, LW_MATCH_RE, "x", "a(?=b)", &err), -1);
    assert_non_null(strstr(err.msg, "lookaround"));
    assert_int_equal(err.col, 2);
    assert_int_equal(lw_matcher_init(&m, LW_MATCH_RE, "x", "a(", &err), -1);
    assert_non_null(strstr(err.msg, "bad regexp"));
    /* escaped and in-class parentheses are not lookaround */
    assert_true(match(LW_MATCH_RE, "\\(\\?=x[(?=]", "(?=x="));
    lw_matcher_cleanup(&m); /* safe after a failed init */
}

static void test_matchers_match_a_label_set(void **state)
{
    (void)state;
    struct lw_labels ls;
    lw_labels_init(&ls);
    set(&ls, "pipeline", "orders");
    set(&ls, "severity", "page");
    struct lw_matcher ms[2];
    struct lw_err err = {0};
    assert_int_equal(lw_matcher_init(&ms[0], LW_MATCH_EQ, "pipeline", "orders", &err), 0);
    assert_int_equal(lw_matcher_init(&ms[1], LW_MATCH_RE, "severity", "page|critical", &err), 0);
    assert_true(lw_matchers_match(ms, 2, &ls));
    set(&ls, "severity", "info");
    assert_false(lw_matchers_match(ms, 2, &ls));
    assert_string_equal(lw_match_op_str(ms[1].op), "=~");
    lw_matcher_cleanup(&ms[0]);
    lw_matcher_cleanup(&ms[1]);
    lw_labels_cleanup(&ls);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set_keeps_names_sorted_and_unique),
        cmocka_unit_test(test_empty_value_removes_the_label),
        cmocka_unit_test(test_fingerprint_equals_alertmanagers),
        cmocka_unit_test(test_copy_compare_and_equal),
        cmocka_unit_test(test_subset_hash_for_on_and_ignoring),
        cmocka_unit_test(test_formats_as_prometheus_prints),
        cmocka_unit_test(test_regexps_are_fully_anchored),
        cmocka_unit_test(test_absent_label_matches_as_empty),
        cmocka_unit_test(test_refuses_what_re2_cannot_do),
        cmocka_unit_test(test_matchers_match_a_label_set),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
