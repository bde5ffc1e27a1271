/* test_route.c — Alertmanager matcher syntax and the routing tree: what parses, where errors
 * point, which routes an alert takes, inheritance, and keys printed as Alertmanager prints them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "lagwatch/amatcher.h"
#include "lagwatch/route.h"

static void parse_one(const char *s, const char *name, enum lw_match_op op, const char *value)
{
    struct lw_matcher m;
    struct lw_err err = {0};
    assert_int_equal(amatcher_parse(s, strlen(s), &m, &err), 0);
    assert_string_equal(m.name, name);
    assert_int_equal(m.op, op);
    assert_string_equal(m.value, value);
    lw_matcher_cleanup(&m);
}

static int parse_fails(const char *s, const char *msg_part)
{
    struct lw_matcher m;
    struct lw_err err = {0};
    assert_int_equal(amatcher_parse(s, strlen(s), &m, &err), -1);
    assert_non_null(strstr(err.msg, msg_part));
    return err.col;
}

static void test_parses_quoted_unquoted_and_every_operator(void **state)
{
    (void)state;
    parse_one("severity=\"page\"", "severity", LW_MATCH_EQ, "page");
    parse_one("  team = data ", "team", LW_MATCH_EQ, "data");
    parse_one("a!=\"x\"", "a", LW_MATCH_NE, "x");
    parse_one("pipeline=~\"orders|billing\"", "pipeline", LW_MATCH_RE, "orders|billing");
    parse_one("a!~b.*", "a", LW_MATCH_NRE, "b.*");
    parse_one("a=\"say \\\"hi\\\" \\\\ now\"", "a", LW_MATCH_EQ, "say \"hi\" \\ now");
    parse_one("a=", "a", LW_MATCH_EQ, "");
    parse_one("a=\"\"", "a", LW_MATCH_EQ, "");
    parse_one("job:rate=x", "job:rate", LW_MATCH_EQ, "x");
}

static void test_refuses_bad_matchers_with_column(void **state)
{
    (void)state;
    assert_int_equal(parse_fails("1a=b", "label name"), 1);
    assert_int_equal(parse_fails("a~b", "expected ="), 2);
    parse_fails("a=\"open", "closing double quote");
    parse_fails("a=\"x\"y\"", "unescaped double quote");
    parse_fails("a=\"x\\\"", "closing double quote");
    assert_int_equal(parse_fails("a=~\"(x\"", "bad regexp"), 7);
}

static void test_parses_lists_with_commas_inside_quotes(void **state)
{
    (void)state;
    struct lw_matcher *ms;
    size_t n;
    struct lw_err err = {0};
    const char *s = "{a=\"1,2\", b=~\"x|y\",c!=z}";
    assert_int_equal(amatcher_parse_list(s, strlen(s), &ms, &n, &err), 0);
    assert_int_equal(n, 3);
    assert_string_equal(ms[0].value, "1,2");
    assert_string_equal(ms[2].name, "c");
    struct lw_buf b;
    lw_buf_init(&b, 1024);
    assert_int_equal(amatcher_format_list(ms, n, &b), 0);
    assert_string_equal(lw_buf_str(&b), "{a=\"1,2\",b=~\"x|y\",c!=\"z\"}");
    lw_buf_cleanup(&b);
    amatcher_free_list(ms, n);
    assert_int_equal(amatcher_parse_list("{}", 2, &ms, &n, &err), 0);
    assert_int_equal(n, 0);
    assert_int_equal(amatcher_parse_list("a=1,,b=2", 8, &ms, &n, &err), -1);
    assert_int_equal(amatcher_parse_list("{a=1", 4, &ms, &n, &err), -1);
}

/* A tree like an on-call config: severity routes with continue, a team sub-route. */
struct tree {
    struct route *root, *pages, *pages_data, *slack, *audit;
};

static void build(struct tree *t)
{
    struct lw_err err = {0};
    const char *gb[] = {"pipeline", "alertname"};
    struct route_spec root = {.receiver = "default",
                              .group_by = gb,
                              .n_group_by = 2,
                              .group_by_set = true,
                              .group_wait_ms = -1,
                              .group_interval_ms = 60000,
                              .repeat_interval_ms = -1};
    assert_int_equal(route_add(NULL, &root, &t->root, &err), 0);
    const char *m_page[] = {"severity=\"page\""};
    struct route_spec pages = {.receiver = "pagerduty",
                               .matchers = m_page,
                               .n_matchers = 1,
                               .cont = true,
                               .group_wait_ms = 10000,
                               .group_interval_ms = -1,
                               .repeat_interval_ms = -1};
    assert_int_equal(route_add(t->root, &pages, &t->pages, &err), 0);
    const char *m_data[] = {"team=~\"data.*\""};
    const char *gb_all[] = {"..."};
    struct route_spec data = {.receiver = "pd-data",
                              .matchers = m_data,
                              .n_matchers = 1,
                              .group_by = gb_all,
                              .n_group_by = 1,
                              .group_by_set = true,
                              .group_wait_ms = -1,
                              .group_interval_ms = -1,
                              .repeat_interval_ms = -1};
    assert_int_equal(route_add(t->pages, &data, &t->pages_data, &err), 0);
    const char *match_eq[] = {"channel", "slack", "env", "prod"};
    struct route_spec slack = {.receiver = "slack",
                               .match_eq = match_eq,
                               .n_match_eq = 2,
                               .group_wait_ms = -1,
                               .group_interval_ms = -1,
                               .repeat_interval_ms = -1};
    assert_int_equal(route_add(t->root, &slack, &t->slack, &err), 0);
    const char *m_any[] = {"severity=~\".+\""};
    struct route_spec audit = {.matchers = m_any,
                               .n_matchers = 1,
                               .group_wait_ms = -1,
                               .group_interval_ms = -1,
                               .repeat_interval_ms = -1};
    assert_int_equal(route_add(t->root, &audit, &t->audit, &err), 0);
}

static size_t route_for(const struct tree *t, const char *const *kv, size_t n,
                        const struct route **out)
{
    struct lw_labels ls;
    lw_labels_init(&ls);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(lw_labels_set(&ls, kv[2 * i], kv[2 * i + 1]), 0);
    size_t got = route_match(t->root, &ls, out, 8);
    lw_labels_cleanup(&ls);
    return got;
}

static void test_deepest_match_continue_and_fallback(void **state)
{
    (void)state;
    struct tree t;
    build(&t);
    const struct route *out[8];
    const char *page_data[] = {"severity", "page", "team", "data-platform"};
    /* pages continues: the data sub-route wins under it, then audit also matches. */
    assert_int_equal(route_for(&t, page_data, 2, out), 2);
    assert_ptr_equal(out[0], t.pages_data);
    assert_ptr_equal(out[1], t.audit);
    const char *page_other[] = {"severity", "page", "team", "web"};
    assert_int_equal(route_for(&t, page_other, 2, out), 2);
    assert_ptr_equal(out[0], t.pages); /* no child matched: the route itself */
    const char *none[] = {"alertname", "X"};
    assert_int_equal(route_for(&t, none, 1, out), 1);
    assert_ptr_equal(out[0], t.root);
    const char *slack[] = {"channel", "slack", "env", "prod", "severity", "warn"};
    assert_int_equal(route_for(&t, slack, 3, out), 1); /* slack does not continue */
    assert_ptr_equal(out[0], t.slack);
    route_free(t.root);
}

static void test_children_inherit_unless_they_set(void **state)
{
    (void)state;
    struct tree t;
    build(&t);
    assert_int_equal(t.root->group_wait_ms, ROUTE_DEFAULT_GROUP_WAIT_MS);
    assert_int_equal(t.root->repeat_interval_ms, ROUTE_DEFAULT_REPEAT_INTERVAL_MS);
    assert_int_equal(t.pages->group_wait_ms, 10000);
    assert_int_equal(t.pages->group_interval_ms, 60000);
    assert_int_equal(t.pages_data->group_wait_ms, 10000);
    assert_true(t.pages_data->group_by_all);
    assert_string_equal(t.audit->receiver, "default");
    assert_int_equal(t.audit->n_group_by, 2);
    assert_string_equal(t.audit->group_by[0], "alertname"); /* sorted */
    route_free(t.root);
}

static void test_keys_and_group_keys_as_alertmanager_prints_them(void **state)
{
    (void)state;
    struct tree t;
    build(&t);
    assert_string_equal(t.root->key, "{}");
    assert_string_equal(t.pages_data->key, "{}/{severity=\"page\"}/{team=~\"data.*\"}");
    assert_string_equal(t.pages_data->id, "{}/{severity=\"page\"}/0/{team=~\"data.*\"}/0");
    /* match: pairs become matchers sorted by name */
    assert_string_equal(t.slack->key, "{}/{channel=\"slack\",env=\"prod\"}");
    struct lw_labels alert, gl;
    lw_labels_init(&alert);
    assert_int_equal(lw_labels_set(&alert, "alertname", "DebeziumHighBinlogLag"), 0);
    assert_int_equal(lw_labels_set(&alert, "pipeline", "orders"), 0);
    assert_int_equal(lw_labels_set(&alert, "severity", "page"), 0);
    assert_int_equal(route_group_labels(t.audit, &alert, &gl), 0);
    char *gk = route_group_key(t.audit, &gl);
    assert_string_equal(gk, "{}/{severity=~\".+\"}:{alertname=\"DebeziumHighBinlogLag\", "
                            "pipeline=\"orders\"}");
    free(gk);
    lw_labels_cleanup(&gl);
    lw_labels_cleanup(&alert);
    route_free(t.root);
}

static void test_root_route_rules(void **state)
{
    (void)state;
    struct route *r;
    struct lw_err err = {0};
    struct route_spec s = {.group_wait_ms = -1, .group_interval_ms = -1, .repeat_interval_ms = -1};
    assert_int_equal(route_add(NULL, &s, &r, &err), -1);
    assert_non_null(strstr(err.msg, "receiver"));
    const char *m[] = {"a=b"};
    s.receiver = "x";
    s.matchers = m;
    s.n_matchers = 1;
    assert_int_equal(route_add(NULL, &s, &r, &err), -1);
    assert_non_null(strstr(err.msg, "matchers"));
    s.n_matchers = 0;
    assert_int_equal(route_add(NULL, &s, &r, &err), 0);
    const char *bad[] = {"a=~\"(\""};
    struct route_spec c = {.matchers = bad,
                           .n_matchers = 1,
                           .group_wait_ms = -1,
                           .group_interval_ms = -1,
                           .repeat_interval_ms = -1};
    struct route *child;
    assert_int_equal(route_add(r, &c, &child, &err), -1);
    assert_non_null(strstr(err.msg, "matcher \"a=~\"(\"\": bad regexp"));
    assert_int_equal(r->n_routes, 0);
    route_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parses_quoted_unquoted_and_every_operator),
        cmocka_unit_test(test_refuses_bad_matchers_with_column),
        cmocka_unit_test(test_parses_lists_with_commas_inside_quotes),
        cmocka_unit_test(test_deepest_match_continue_and_fallback),
        cmocka_unit_test(test_children_inherit_unless_they_set),
        cmocka_unit_test(test_keys_and_group_keys_as_alertmanager_prints_them),
        cmocka_unit_test(test_root_route_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
