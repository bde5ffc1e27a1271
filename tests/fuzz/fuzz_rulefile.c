/*
 * fuzz_rulefile.c — rule files on arbitrary bytes: loading must give a rule set or an error with
 * a position, never a crash, leak or hang. What loads is evaluated (three evaluations over a
 * small store, so the state machine, ALERTS and stale markers run on fuzzed rules), linted,
 * saved and restored into a second load, and carried over on a "reload". Expressions with a
 * subquery are not evaluated: their cost is the evaluator's business (fuzz_promql covers the
 * parser), not the rule file's.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lagwatch/rulelint.h"
#include "lagwatch/rules.h"
#include "lagwatch/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static volatile size_t sink;

static void on_selector(void *ud, const char *metric, size_t off)
{
    (void)ud;
    sink += off + (metric ? strlen(metric) : 0);
}

static bool has_subquery(const char *expr)
{
    const char *b = strchr(expr, '[');
    return b && strchr(b, ':');
}

static struct store *small_store(void)
{
    struct store_options so = {.retention_ms = 3600 * 1000};
    struct store *st = store_new(&so);
    static const char *const names[] = {"up", "x", "debezium_metrics_Connected"};
    for (size_t i = 0; st && i < 3; i++) {
        struct lw_labels ls;
        lw_labels_init(&ls);
        if (lw_labels_set(&ls, "__name__", names[i]) == 0 &&
            lw_labels_set(&ls, "pipeline", i ? "a" : "b") == 0) {
            for (int64_t t = 0; t <= 120000; t += 30000) {
                struct lw_err err = {0};
                sink += (size_t)store_append(st, &ls, t, (double)(t / 30000 + (int64_t)i), &err);
            }
        }
        lw_labels_cleanup(&ls);
    }
    return st;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct rule_set *rs = NULL;
    struct lw_err err = {0};
    if (rule_set_load_buf((const char *)data, size, "fuzz.yml", NULL, &rs, &err) != 0)
        return 0;
    bool evaluable = true;
    for (size_t gi = 0; gi < rule_set_group_count(rs); gi++) {
        struct rule_group *g = rule_set_group(rs, gi);
        for (size_t ri = 0; ri < rule_group_rule_count(g); ri++) {
            const struct rule *r = rule_group_rule(g, ri);
            rule_expr_selectors(r, on_selector, NULL);
            int line, col;
            rule_expr_pos(r, strlen(rule_expr_text(r)), &line, &col);
            sink += (size_t)(line + col);
            char *canon = rule_expr_canonical(r);
            free(canon);
            evaluable &= !has_subquery(rule_expr_text(r));
        }
    }
    struct lw_buf lint;
    lw_buf_init(&lint, 1u << 20);
    struct rulelint_result lres = {0};
    sink += (size_t)rulelint_run(rs, 30000, &lint, &lres);
    lw_buf_cleanup(&lint);
    if (evaluable && rule_set_rule_count(rs) <= 64) {
        struct store *st = small_store();
        for (int64_t t = 60000; st && t <= 120000; t += 30000)
            for (size_t gi = 0; gi < rule_set_group_count(rs); gi++)
                sink += (size_t)rule_group_eval(rule_set_group(rs, gi), st, t, &err);
        store_free(st);
    }
    char *saved = rule_set_save(rs);
    struct rule_set *again = NULL;
    if (saved && rule_set_load_buf((const char *)data, size, "fuzz.yml", NULL, &again, &err) == 0) {
        sink += (size_t)rule_set_restore(again, saved, strlen(saved), &err);
        sink += (size_t)rule_set_carry_over(again, rs, &err);
        rule_set_free(again);
    }
    free(saved);
    rule_set_free(rs);
    return 0;
}
