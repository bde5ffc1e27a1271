/* test_yamldoc.c — the positioned YAML layer: positions, anchors and alias bombs, duplicate and
 * unknown keys with "did you mean", typed reads and their errors, ${VAR} interpolation, emitting.
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lagwatch/limits.h"
#include "lagwatch/yamldoc.h"

static struct yamldoc *parse_ok(const char *text)
{
    struct yamldoc *d = NULL;
    struct lw_err err = {0};
    if (yamldoc_parse(text, strlen(text), "t.yml", &d, &err) != 0)
        fail_msg("parse failed: %d:%d: %s", err.line, err.col, err.msg);
    return d;
}

static struct lw_err parse_fail(const char *text)
{
    struct yamldoc *d = (struct yamldoc *)0x1;
    struct lw_err err = {0};
    assert_int_equal(yamldoc_parse(text, strlen(text), "t.yml", &d, &err), -1);
    assert_ptr_equal(d, (struct yamldoc *)0x1);
    assert_string_equal(err.file, "t.yml");
    assert_true(err.msg[0] != '\0');
    return err;
}

static void test_nodes_carry_line_and_column(void **state)
{
    (void)state;
    struct yamldoc *d = parse_ok("global:\n  scrape_interval: 15s\nlist:\n  - a\n  -   b\n");
    const struct yamldoc_node *g = yamldoc_map_get(d->root, "global");
    assert_non_null(g);
    assert_int_equal(g->kind, YAMLDOC_MAP);
    assert_int_equal(g->line, 2);
    assert_int_equal(g->col, 3);
    const struct yamldoc_node *si = yamldoc_map_get(g, "scrape_interval");
    assert_int_equal(si->line, 2);
    assert_int_equal(si->col, 20);
    assert_string_equal(si->scalar, "15s");
    assert_true(si->plain);
    const struct yamldoc_node *l = yamldoc_map_get(d->root, "list");
    assert_int_equal(l->kind, YAMLDOC_SEQ);
    assert_int_equal(l->n, 2);
    assert_int_equal(l->items[1]->line, 5);
    assert_int_equal(l->items[1]->col, 7);
    assert_null(yamldoc_map_get(d->root, "absent"));
    assert_null(yamldoc_map_get(l, "a"));
    yamldoc_free(d);
}

static void test_quoted_and_block_scalars_are_not_plain(void **state)
{
    (void)state;
    struct yamldoc *d = parse_ok("a: 'x'\nb: \"y\"\nc: |\n  z\nd: w\ne: !!str 5\n");
    assert_false(yamldoc_map_get(d->root, "a")->plain);
    assert_false(yamldoc_map_get(d->root, "b")->plain);
    assert_false(yamldoc_map_get(d->root, "c")->plain);
    assert_true(yamldoc_map_get(d->root, "d")->plain);
    assert_string_equal(yamldoc_map_get(d->root, "e")->tag, "tag:yaml.org,2002:str");
    int64_t v = 0;
    struct lw_err err = {0};
    assert_int_equal(yamldoc_get_int64(yamldoc_map_get(d->root, "e"), &v, d, &err), -1);
    assert_int_equal(yamldoc_get_int64(yamldoc_map_get(d->root, "a"), &v, d, &err), -1);
    assert_non_null(strstr(err.msg, "quoted"));
    yamldoc_free(d);
}

static void test_empty_stream_has_no_root(void **state)
{
    (void)state;
    struct yamldoc *d = parse_ok("");
    assert_null(d->root);
    yamldoc_free(d);
    d = parse_ok("# only a comment\n");
    assert_null(d->root);
    yamldoc_free(d);
}

static void test_syntax_error_has_position(void **state)
{
    (void)state;
    struct lw_err err = parse_fail("a: 1\nb: [1, 2\n");
    assert_int_equal(err.line, 3);
    assert_non_null(strstr(err.msg, "YAML syntax"));
    err = parse_fail("a: b: c\n");
    assert_int_equal(err.line, 1);
}

static void test_second_document_refused(void **state)
{
    (void)state;
    struct lw_err err = parse_fail("a: 1\n---\nb: 2\n");
    assert_int_equal(err.line, 2);
    assert_non_null(strstr(err.msg, "more than one YAML document"));
}

static void test_duplicate_keys_refused_small_and_large_maps(void **state)
{
    (void)state;
    struct lw_err err = parse_fail("a: 1\nb: 2\na: 3\n");
    assert_int_equal(err.line, 3);
    assert_int_equal(err.col, 1);
    assert_non_null(strstr(err.msg, "duplicate key 'a' (first at line 1)"));
    /* Over 16 pairs the sorted path runs; the later duplicate is the one reported. */
    char text[2048] = "";
    size_t used = 0;
    for (int i = 0; i < 40; i++)
        used += (size_t)snprintf(text + used, sizeof text - used, "k%d: %d\n", i, i);
    snprintf(text + used, sizeof text - used, "k7: again\n");
    err = parse_fail(text);
    assert_int_equal(err.line, 41);
    assert_non_null(strstr(err.msg, "duplicate key 'k7' (first at line 8)"));
}

static void test_complex_keys_refused(void **state)
{
    (void)state;
    struct lw_err err = parse_fail("? [a, b]\n: 1\n");
    assert_non_null(strstr(err.msg, "mapping key must be a scalar"));
    assert_int_equal(err.line, 1);
}

static void test_aliases_are_copied(void **state)
{
    (void)state;
    struct yamldoc *d = parse_ok("base: &b {x: 1, y: [2, 3]}\nother: *b\n");
    const struct yamldoc_node *o = yamldoc_map_get(d->root, "other");
    assert_int_equal(o->kind, YAMLDOC_MAP);
    assert_ptr_not_equal(o, yamldoc_map_get(d->root, "base"));
    assert_string_equal(yamldoc_map_get(o, "x")->scalar, "1");
    assert_int_equal(yamldoc_map_get(o, "y")->n, 2);
    yamldoc_free(d);
}

static void test_unknown_and_recursive_aliases_refused(void **state)
{
    (void)state;
    struct lw_err err = parse_fail("a: *nope\n");
    assert_non_null(strstr(err.msg, "unknown anchor 'nope'"));
    assert_int_equal(err.line, 1);
    assert_int_equal(err.col, 4);
    err = parse_fail("a: &r [1, *r]\n");
    assert_non_null(strstr(err.msg, "recursion"));
}

static void test_billion_laughs_fails_fast_on_node_budget(void **state)
{
    (void)state;
    const char *bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
                       "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                       "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
                       "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                       "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
                       "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
                       "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
                       "h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]\n"
                       "i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h, *h]\n";
    struct lw_err err = parse_fail(bomb);
    assert_non_null(strstr(err.msg, "document too large"));
}

static void test_depth_is_capped(void **state)
{
    (void)state;
    size_t n = LW_MAX_YAML_DEPTH + 5;
    char *text = malloc(2 * n + 1);
    memset(text, '[', n);
    memset(text + n, ']', n);
    text[2 * n] = '\0';
    struct lw_err err = parse_fail(text);
    assert_non_null(strstr(err.msg, "nesting deeper"));
    free(text);
}

static void test_check_keys_suggests_close_key(void **state)
{
    (void)state;
    static const char *const allowed[] = {"scrape_interval", "evaluation_interval", "state_dir",
                                          NULL};
    struct yamldoc *d = parse_ok("scrape_interval: 1s\nevalution_interval: 2s\n");
    struct lw_err err = {0};
    assert_int_equal(yamldoc_check_keys(d, d->root, allowed, &err), -1);
    assert_string_equal(err.msg,
                        "unknown key 'evalution_interval' (did you mean 'evaluation_interval'?)");
    assert_int_equal(err.line, 2);
    assert_int_equal(err.col, 1);
    yamldoc_free(d);

    d = parse_ok("zzz: 1\n");
    assert_int_equal(yamldoc_check_keys(d, d->root, allowed, &err), -1);
    assert_non_null(strstr(err.msg, "expected one of: scrape_interval, evaluation_interval"));
    yamldoc_free(d);

    d = parse_ok("state_dir: /x\n");
    assert_int_equal(yamldoc_check_keys(d, d->root, allowed, &err), 0);
    yamldoc_free(d);

    d = parse_ok("- 1\n");
    assert_int_equal(yamldoc_check_keys(d, d->root, allowed, &err), -1);
    assert_non_null(strstr(err.msg, "expected a mapping"));
    yamldoc_free(d);
}

static void test_suggest_handles_transposition_and_case(void **state)
{
    (void)state;
    static const char *const c[] = {"region", "profile", "endpoints", NULL};
    assert_string_equal(yamldoc_suggest("regoin", c), "region");
    assert_string_equal(yamldoc_suggest("Profile", c), "profile");
    assert_string_equal(yamldoc_suggest("endpoint", c), "endpoints");
    assert_null(yamldoc_suggest("listen", c));
}

static void test_null_spellings(void **state)
{
    (void)state;
    struct yamldoc *d = parse_ok("a:\nb: ~\nc: null\nd: 'null'\ne: !!null x\nf: NULL\n");
    assert_true(yamldoc_is_null(yamldoc_map_get(d->root, "a")));
    assert_true(yamldoc_is_null(yamldoc_map_get(d->root, "b")));
    assert_true(yamldoc_is_null(yamldoc_map_get(d->root, "c")));
    assert_false(yamldoc_is_null(yamldoc_map_get(d->root, "d")));
    assert_true(yamldoc_is_null(yamldoc_map_get(d->root, "e")));
    assert_true(yamldoc_is_null(yamldoc_map_get(d->root, "f")));
    assert_true(yamldoc_is_null(NULL));
    yamldoc_free(d);
}

static void test_typed_reads(void **state)
{
    (void)state;
    struct yamldoc *d = parse_ok("s: hello\nq: '123'\nb: true\nB: FALSE\ni: -42\nbig: "
                                 "99999999999999999999\nf: 1.5e3\ninf: -.inf\nnan: .NaN\n"
                                 "dur: 1h30m\nbad: 30m1h\nm: {x: 1}\nhex: 0x1p3\nyes: yes\n");
    struct lw_err err = {0};
    const char *s = NULL;
    bool b = false;
    int64_t i = 0;
    double f = 0;
    const struct yamldoc_node *r = d->root;
    assert_int_equal(yamldoc_get_string(yamldoc_map_get(r, "s"), &s, d, &err), 0);
    assert_string_equal(s, "hello");
    assert_int_equal(yamldoc_get_string(yamldoc_map_get(r, "q"), &s, d, &err), 0);
    assert_string_equal(s, "123");
    assert_int_equal(yamldoc_get_bool(yamldoc_map_get(r, "b"), &b, d, &err), 0);
    assert_true(b);
    assert_int_equal(yamldoc_get_bool(yamldoc_map_get(r, "B"), &b, d, &err), 0);
    assert_false(b);
    assert_int_equal(yamldoc_get_bool(yamldoc_map_get(r, "yes"), &b, d, &err), -1);
    assert_non_null(strstr(err.msg, "expected true or false, got 'yes'"));
    assert_int_equal(yamldoc_get_int64(yamldoc_map_get(r, "i"), &i, d, &err), 0);
    assert_int_equal(i, -42);
    assert_int_equal(yamldoc_get_int64(yamldoc_map_get(r, "big"), &i, d, &err), -1);
    assert_non_null(strstr(err.msg, "out of range"));
    assert_int_equal(yamldoc_get_int64(yamldoc_map_get(r, "f"), &i, d, &err), -1);
    assert_int_equal(yamldoc_get_double(yamldoc_map_get(r, "f"), &f, d, &err), 0);
    assert_true(f == 1500.0);
    assert_int_equal(yamldoc_get_double(yamldoc_map_get(r, "i"), &f, d, &err), 0);
    assert_true(f == -42.0);
    assert_int_equal(yamldoc_get_double(yamldoc_map_get(r, "inf"), &f, d, &err), 0);
    assert_true(isinf(f) && f < 0);
    assert_int_equal(yamldoc_get_double(yamldoc_map_get(r, "nan"), &f, d, &err), 0);
    assert_true(isnan(f));
    assert_int_equal(yamldoc_get_double(yamldoc_map_get(r, "hex"), &f, d, &err), -1);
    assert_int_equal(yamldoc_get_duration_ms(yamldoc_map_get(r, "dur"), &i, d, &err), 0);
    assert_int_equal(i, 5400000);
    assert_int_equal(yamldoc_get_string(yamldoc_map_get(r, "m"), &s, d, &err), -1);
    assert_non_null(strstr(err.msg, "got a mapping"));
    assert_int_equal(err.line, 12);
    yamldoc_free(d);
}

static void test_duration_error_points_inside_the_value(void **state)
{
    (void)state;
    struct yamldoc *d = parse_ok("x:\n  interval: 30m1h\n");
    struct lw_err err = {0};
    int64_t ms = 7;
    const struct yamldoc_node *n = yamldoc_map_get(yamldoc_map_get(d->root, "x"), "interval");
    assert_int_equal(yamldoc_get_duration_ms(n, &ms, d, &err), -1);
    assert_int_equal(ms, 7);
    assert_string_equal(err.file, "t.yml");
    assert_int_equal(err.line, 2);
    assert_int_equal(err.col, 13 + 4); /* value at column 13, the fault ('h' after 1) is 5th */
    assert_non_null(strstr(err.msg, "invalid duration '30m1h'"));
    yamldoc_free(d);
}

static void test_string_with_nul_refused(void **state)
{
    (void)state;
    struct yamldoc *d = parse_ok("a: \"x\\0y\"\n");
    struct lw_err err = {0};
    const char *s = NULL;
    assert_int_equal(yamldoc_map_get(d->root, "a")->scalar_len, 3);
    assert_int_equal(yamldoc_get_string(yamldoc_map_get(d->root, "a"), &s, d, &err), -1);
    assert_non_null(strstr(err.msg, "NUL"));
    yamldoc_free(d);
}

static const char *fake_env(const char *name, void *ctx)
{
    (void)ctx;
    if (strcmp(name, "REGION") == 0)
        return "eu-west-1";
    if (strcmp(name, "EMPTY") == 0)
        return "";
    if (strcmp(name, "PORT") == 0)
        return "9741";
    return NULL;
}

static void test_interpolation_replaces_values_not_keys(void **state)
{
    (void)state;
    struct yamldoc *d = parse_ok("${REGION}: k\nregion: ${REGION}\nd: ${MISSING:-fallback}\n"
                                 "e: ${EMPTY:-def}\nf: \"${EMPTY}\"\ng: a$${LIT}b$c\n"
                                 "p: ${PORT}\nl:\n  - x-${REGION}\n");
    struct lw_err err = {0};
    assert_int_equal(yamldoc_interpolate(d, fake_env, NULL, &err), 0);
    const struct yamldoc_node *r = d->root;
    assert_non_null(yamldoc_map_get(r, "${REGION}"));
    assert_string_equal(yamldoc_map_get(r, "region")->scalar, "eu-west-1");
    assert_string_equal(yamldoc_map_get(r, "d")->scalar, "fallback");
    assert_string_equal(yamldoc_map_get(r, "e")->scalar, "def");
    assert_string_equal(yamldoc_map_get(r, "f")->scalar, "");
    assert_string_equal(yamldoc_map_get(r, "g")->scalar, "a${LIT}b$c");
    assert_string_equal(yamldoc_map_get(r, "l")->items[0]->scalar, "x-eu-west-1");
    int64_t port = 0;
    assert_int_equal(yamldoc_get_int64(yamldoc_map_get(r, "p"), &port, d, &err), 0);
    assert_int_equal(port, 9741);
    yamldoc_free(d);
}

static void test_interpolation_errors_name_the_variable_and_column(void **state)
{
    (void)state;
    struct yamldoc *d = parse_ok("a: x ${NOPE} y\n");
    struct lw_err err = {0};
    assert_int_equal(yamldoc_interpolate(d, fake_env, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "environment variable NOPE is not set"));
    assert_int_equal(err.line, 1);
    assert_int_equal(err.col, 6);
    yamldoc_free(d);
    const char *bad[] = {"a: ${}\n", "a: ${1X}\n", "a: ${X\n", "a: ${X:-y\n", "a: ${X:y}\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        d = parse_ok(bad[i]);
        assert_int_equal(yamldoc_interpolate(d, fake_env, NULL, &err), -1);
        yamldoc_free(d);
    }
}

static bool secret_key(const char *key, void *ctx)
{
    (void)ctx;
    return strcmp(key, "password") == 0;
}

static void test_emit_round_trips_and_redacts(void **state)
{
    (void)state;
    struct yamldoc *d = parse_ok("a: 1\nb: '123'\nc: [x, y]\nd: {password: hunter2, user: u}\n");
    struct lw_buf out;
    lw_buf_init(&out, 1 << 16);
    assert_int_equal(yamldoc_emit(d->root, secret_key, NULL, &out), 0);
    assert_null(strstr(out.data, "hunter2"));
    assert_non_null(strstr(out.data, "<secret>"));
    struct yamldoc *back = parse_ok(out.data);
    assert_true(yamldoc_map_get(back->root, "a")->plain);
    assert_false(yamldoc_map_get(back->root, "b")->plain); /* stays a string */
    assert_string_equal(yamldoc_map_get(back->root, "c")->items[1]->scalar, "y");
    assert_string_equal(yamldoc_map_get(yamldoc_map_get(back->root, "d"), "user")->scalar, "u");
    yamldoc_free(back);
    yamldoc_free(d);
    lw_buf_cleanup(&out);
}

static void test_built_trees_emit(void **state)
{
    (void)state;
    struct yamldoc_node *m = yamldoc_node_new(YAMLDOC_MAP);
    struct yamldoc_node *seq = yamldoc_node_new(YAMLDOC_SEQ);
    assert_int_equal(yamldoc_node_append(seq, yamldoc_node_new_scalar("a", true)), 0);
    assert_int_equal(yamldoc_node_map_put(m, "list", seq), 0);
    assert_int_equal(yamldoc_node_map_put(m, "n", yamldoc_node_new_scalar("5", true)), 0);
    assert_int_equal(yamldoc_map_size(m), 2);
    struct lw_buf out;
    lw_buf_init(&out, 4096);
    assert_int_equal(yamldoc_emit(m, NULL, NULL, &out), 0);
    assert_string_equal(out.data, "list:\n- a\nn: 5\n");
    lw_buf_cleanup(&out);
    yamldoc_node_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nodes_carry_line_and_column),
        cmocka_unit_test(test_quoted_and_block_scalars_are_not_plain),
        cmocka_unit_test(test_empty_stream_has_no_root),
        cmocka_unit_test(test_syntax_error_has_position),
        cmocka_unit_test(test_second_document_refused),
        cmocka_unit_test(test_duplicate_keys_refused_small_and_large_maps),
        cmocka_unit_test(test_complex_keys_refused),
        cmocka_unit_test(test_aliases_are_copied),
        cmocka_unit_test(test_unknown_and_recursive_aliases_refused),
        cmocka_unit_test(test_billion_laughs_fails_fast_on_node_budget),
        cmocka_unit_test(test_depth_is_capped),
        cmocka_unit_test(test_check_keys_suggests_close_key),
        cmocka_unit_test(test_suggest_handles_transposition_and_case),
        cmocka_unit_test(test_null_spellings),
        cmocka_unit_test(test_typed_reads),
        cmocka_unit_test(test_duration_error_points_inside_the_value),
        cmocka_unit_test(test_string_with_nul_refused),
        cmocka_unit_test(test_interpolation_replaces_values_not_keys),
        cmocka_unit_test(test_interpolation_errors_name_the_variable_and_column),
        cmocka_unit_test(test_emit_round_trips_and_redacts),
        cmocka_unit_test(test_built_trees_emit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
