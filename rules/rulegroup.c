/*
 * rulegroup.c — evaluating rule groups (rules.h) as Prometheus's rules.Group.Eval does: rules in
 * order at one timestamp; a recording rule's result is renamed, relabelled and appended to the
 * store; an alerting rule's result drives its alert state machine and ALERTS /
 * ALERTS_FOR_STATE are appended; a series a rule wrote last time and not this time gets a stale
 * marker. A rule that fails keeps its previous outputs (no stale markers), as in Prometheus.
 *
 * lagwatch's no_data: when an alerting rule's result is empty, it asks whether the rule's input
 * selectors found any live series in their windows; if none did, the evaluation is "no data"
 * and the rule's policy (keep_state, ok, alerting) decides (alert.h).
 *
 * Also here: the alert state of a whole set saved and restored as one JSON document, and the
 * carry-over of state from the old set to a freshly loaded one on reload.
 */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lagwatch/promql.h"
#include "lagwatch/store.h"
#include "promql_int.h"
#include "rules_int.h"

#define RULES_STATE_VERSION 1

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int rule_fail(struct rule *r, const char *fmt, ...) LW_PRINTF(2, 3);
static int rule_fail(struct rule *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->last_error, sizeof r->last_error, fmt, ap);
    va_end(ap);
    r->health = RULE_HEALTH_ERR;
    return -1;
}

/* ---- no data: did any input selector find a live series? ---- */

static bool series_live(const struct store_series *ser, int64_t mint_excl, int64_t maxt, bool range)
{
    const struct store_sample *s;
    size_t n = store_series_range(ser, mint_excl, maxt, &s);
    if (n == 0)
        return false;
    if (!range)
        return !store_is_stale_nan(s[n - 1].v);
    for (size_t i = 0; i < n; i++)
        if (!store_is_stale_nan(s[i].v))
            return true;
    return false;
}

/* 1: some selector under e has live data, 0: none has, -1: out of memory. *any_sel is set when
 * e contains a selector at all. extra_ms widens windows for selectors inside subqueries. */
static int has_data(const struct promql_expr *e, const struct store *st, int64_t t,
                    int64_t extra_ms, bool *any_sel)
{
    if (e == NULL)
        return 0;
    switch (e->kind) {
    case PQ_VSEL:
    case PQ_MSEL: {
        const struct promql_expr *v = e->kind == PQ_MSEL ? e->a : e;
        int64_t win = e->kind == PQ_MSEL ? e->range_ms : 5 * 60 * 1000;
        int64_t maxt = (v->at == PQ_AT_TS ? v->at_ms : t) - v->offset_ms;
        *any_sel = true;
        const struct store_series **ser = NULL;
        size_t n = 0;
        struct lw_err err = {0};
        if (store_select(st, v->ms, v->n_ms, &ser, &n, &err) != 0)
            return -1;
        int found = 0;
        for (size_t i = 0; i < n && !found; i++)
            found = series_live(ser[i], maxt - win - extra_ms, maxt,
                                e->kind == PQ_MSEL || extra_ms > 0);
        free(ser);
        return found;
    }
    case PQ_SUBQ:
        return has_data(e->a, st, t - e->offset_ms, extra_ms + e->range_ms, any_sel);
    default:
        break;
    }
    int rc;
    if ((rc = has_data(e->a, st, t, extra_ms, any_sel)) != 0)
        return rc;
    if ((rc = has_data(e->b, st, t, extra_ms, any_sel)) != 0)
        return rc;
    if ((rc = has_data(e->param, st, t, extra_ms, any_sel)) != 0)
        return rc;
    for (size_t i = 0; i < e->n_args; i++)
        if ((rc = has_data(e->args[i], st, t, extra_ms, any_sel)) != 0)
            return rc;
    return 0;
}

static void walk_selectors(const struct promql_expr *e, rule_selector_fn fn, void *ud)
{
    if (e == NULL)
        return;
    if (e->kind == PQ_VSEL) {
        const char *name = e->name;
        for (size_t i = 0; name == NULL && i < e->n_ms; i++)
            if (e->ms[i].op == LW_MATCH_EQ && strcmp(e->ms[i].name, "__name__") == 0)
                name = e->ms[i].value;
        fn(ud, name, e->off);
        return;
    }
    walk_selectors(e->a, fn, ud);
    walk_selectors(e->b, fn, ud);
    walk_selectors(e->param, fn, ud);
    for (size_t i = 0; i < e->n_args; i++)
        walk_selectors(e->args[i], fn, ud);
}

void rule_expr_selectors(const struct rule *r, rule_selector_fn fn, void *ud)
{
    walk_selectors(r->expr, fn, ud);
}

/* ---- outputs and stale markers ---- */

struct outputs {
    struct lw_labels *ls;
    double *v;
    size_t n;
};

static void outputs_cleanup(struct outputs *o)
{
    rules_prev_free(o->ls, o->n);
    free(o->v);
    memset(o, 0, sizeof(*o));
}

static int cmp_labels(const void *a, const void *b)
{
    return lw_labels_cmp(a, b);
}

/* Append the outputs at t, stale markers for r->prev series not among them, then make the
 * outputs r->prev (taking them). Returns 0, or -1 (rule error set) when the store refused for
 * another reason than order or duplicates; the swap happens either way. */
static int write_outputs(struct rule *r, struct store *st, int64_t t, struct outputs *o)
{
    int rc = 0;
    struct lw_err err = {0};
    for (size_t i = 0; i < o->n; i++) {
        int a = store_append(st, &o->ls[i], t, o->v[i], &err);
        if (a < 0 && a != STORE_ERR_OUT_OF_ORDER && a != STORE_ERR_DUPLICATE && rc == 0)
            rc = rule_fail(r, "appending the result: %s", err.msg);
    }
    if (o->n > 1)
        qsort(o->ls, o->n, sizeof(*o->ls), cmp_labels);
    for (size_t i = 0; i < r->n_prev; i++) {
        if (o->n && bsearch(&r->prev[i], o->ls, o->n, sizeof(*o->ls), cmp_labels))
            continue;
        int a = store_append(st, &r->prev[i], t, store_stale_nan(), &err);
        if (a < 0 && a != STORE_ERR_OUT_OF_ORDER && a != STORE_ERR_DUPLICATE && rc == 0)
            rc = rule_fail(r, "appending a stale marker: %s", err.msg);
    }
    rules_prev_free(r->prev, r->n_prev);
    r->prev = o->ls;
    r->n_prev = o->n;
    free(o->v);
    memset(o, 0, sizeof(*o));
    return rc;
}

/* The result of an evaluation as samples (a scalar is one sample without labels). */
struct result {
    struct promql_value v;
    struct alert_sample *s;
    struct lw_labels empty;
    size_t n;
};

static void result_cleanup(struct result *res)
{
    promql_value_cleanup(&res->v);
    free(res->s);
}

/* -1: query error (rule failed), -2: out of memory. */
static int run_query(struct rule *r, const struct store *st, int64_t t, struct result *res)
{
    memset(res, 0, sizeof(*res));
    lw_labels_init(&res->empty);
    struct lw_err err = {0};
    if (promql_eval_instant(r->expr, st, t, NULL, &res->v, &err) != 0)
        return rule_fail(r, "%s", err.msg);
    if (res->v.type == PROMQL_SCALAR) {
        res->s = calloc(1, sizeof(*res->s));
        if (res->s == NULL)
            return -2;
        res->s[0].labels = &res->empty;
        res->s[0].value = res->v.scalar;
        res->n = 1;
        return 0;
    }
    if (res->v.type != PROMQL_VECTOR)
        return rule_fail(r, "rule result is not a vector or scalar");
    res->s = calloc(res->v.n_vec ? res->v.n_vec : 1, sizeof(*res->s));
    if (res->s == NULL)
        return -2;
    for (size_t i = 0; i < res->v.n_vec; i++) {
        res->s[i].labels = &res->v.vec[i].labels;
        res->s[i].value = res->v.vec[i].v;
    }
    res->n = res->v.n_vec;
    return 0;
}

/* -1: rule failed, -2: out of memory. */
static int eval_recording(struct rule_group *g, struct rule *r, struct store *st, int64_t t)
{
    struct result res;
    int rc = run_query(r, st, t, &res);
    struct outputs o = {0};
    if (rc != 0)
        goto out;
    rc = -2;
    o.ls = calloc(res.n ? res.n : 1, sizeof(*o.ls));
    o.v = calloc(res.n ? res.n : 1, sizeof(*o.v));
    if (!o.ls || !o.v)
        goto out;
    for (size_t i = 0; i < res.n; i++, o.n++) {
        if (lw_labels_copy(&o.ls[i], res.s[i].labels) != 0 ||
            lw_labels_set(&o.ls[i], "__name__", r->name) != 0)
            goto out;
        for (size_t k = 0; k < r->labels.n; k++)
            if (lw_labels_set(&o.ls[i], r->labels.v[k].name, r->labels.v[k].value) != 0)
                goto out;
        for (size_t k = 0; k < r->n_drop_labels; k++)
            lw_labels_del(&o.ls[i], r->drop_labels[k]);
        o.v[i] = res.s[i].value;
    }
    if (o.n > 1) {
        struct lw_labels *sorted = malloc(o.n * sizeof(*sorted));
        if (sorted == NULL)
            goto out;
        memcpy(sorted, o.ls, o.n * sizeof(*sorted));
        qsort(sorted, o.n, sizeof(*sorted), cmp_labels);
        bool dup = false;
        for (size_t i = 1; i < o.n && !dup; i++)
            dup = lw_labels_equal(&sorted[i - 1], &sorted[i]);
        free(sorted);
        if (dup) {
            rc = rule_fail(r, "vector contains metrics with the same labelset after applying rule "
                              "labels");
            goto out;
        }
    }
    if (g->limit > 0 && o.n > g->limit) {
        rc = rule_fail(r, "exceeded limit of %llu with %zu series", (unsigned long long)g->limit,
                       o.n);
        goto out;
    }
    rc = write_outputs(r, st, t, &o);
out:
    outputs_cleanup(&o);
    result_cleanup(&res);
    return rc;
}

/* -1: rule failed, -2: out of memory. */
static int eval_alerting(struct rule_group *g, struct rule *r, struct store *st, int64_t t)
{
    struct result res;
    int rc = run_query(r, st, t, &res);
    struct outputs o = {0};
    if (rc != 0)
        goto out;
    bool no_data = false;
    if (res.n == 0 && r->no_data != ALERT_NO_DATA_OK) {
        bool any_sel = false;
        int hd = has_data(r->expr, st, t, 0, &any_sel);
        if (hd < 0) {
            rc = -2;
            goto out;
        }
        no_data = any_sel && hd == 0;
    }
    struct lw_err err = {0};
    if (alert_rule_eval(r->alert, res.s, res.n, no_data, t, &err) != 0) {
        rc = rule_fail(r, "%s", err.msg);
        goto out;
    }
    size_t active = alert_rule_count_state(r->alert, ALERT_PENDING) +
                    alert_rule_count_state(r->alert, ALERT_FIRING);
    if (g->limit > 0 && active > g->limit) {
        /* Prometheus forgets every alert of the rule when it exceeds the limit. */
        static const char none[] = "{\"version\":1,\"alerts\":[]}";
        if (alert_rule_restore(r->alert, none, sizeof none - 1, &err) != 0) {
            rc = -2;
            goto out;
        }
        rc = rule_fail(r, "exceeded limit of %llu with %zu alerts", (unsigned long long)g->limit,
                       active);
        goto out;
    }
    size_t max = 2 * active;
    rc = -2;
    o.ls = calloc(max ? max : 1, sizeof(*o.ls));
    o.v = calloc(max ? max : 1, sizeof(*o.v));
    if (!o.ls || !o.v)
        goto out;
    o.n = alert_rule_series(r->alert, o.ls, o.v, max);
    if (o.n != max)
        goto out;
    rc = write_outputs(r, st, t, &o);
out:
    outputs_cleanup(&o);
    result_cleanup(&res);
    return rc;
}

int rule_group_eval(struct rule_group *g, struct store *st, int64_t t_ms, struct lw_err *err)
{
    int failed = 0;
    int64_t g0 = mono_ns();
    for (size_t i = 0; i < g->n; i++) {
        struct rule *r = &g->rules[i];
        int64_t r0 = mono_ns();
        r->last_error[0] = '\0';
        r->health = RULE_HEALTH_OK;
        int rc = r->kind == RULE_RECORDING ? eval_recording(g, r, st, t_ms)
                                           : eval_alerting(g, r, st, t_ms);
        r->last_eval_ms = t_ms;
        r->last_duration_ns = mono_ns() - r0;
        if (rc == -2) {
            rule_fail(r, "out of memory");
            return lw_err_set(err, 0, 0, "group %s: rule %s: out of memory", g->name, r->name);
        }
        if (rc != 0 || r->health == RULE_HEALTH_ERR)
            failed++;
    }
    g->last_eval_ms = t_ms;
    g->last_duration_ns = mono_ns() - g0;
    return failed;
}

/* ---- state: save, restore, carry-over ---- */

static json_t *labels_json(const struct lw_labels *ls)
{
    json_t *o = json_object();
    for (size_t i = 0; o && i < ls->n; i++)
        if (json_object_set_new(o, ls->v[i].name, json_string(ls->v[i].value)) != 0) {
            json_decref(o);
            return NULL;
        }
    return o;
}

char *rule_set_save(const struct rule_set *rs)
{
    json_t *root = json_object(), *arr = json_array();
    if (!root || !arr || json_object_set_new(root, "version", json_integer(RULES_STATE_VERSION)) ||
        json_object_set(root, "rules", arr))
        goto fail;
    for (size_t gi = 0; gi < rs->n; gi++) {
        const struct rule_group *g = &rs->groups[gi];
        for (size_t ri = 0; ri < g->n; ri++) {
            const struct rule *r = &g->rules[ri];
            if (r->kind != RULE_ALERTING)
                continue;
            char *s = alert_rule_save(r->alert);
            json_error_t je;
            json_t *alerts = s ? json_loads(s, 0, &je) : NULL;
            free(s);
            json_t *e = json_pack("{s:s, s:s, s:s, s:s, s:o?, s:o?}", "file", g->file, "group",
                                  g->name, "name", r->name, "expr", r->expr_text, "labels",
                                  labels_json(&r->labels), "state", alerts);
            if (e == NULL || json_array_append_new(arr, e) != 0)
                goto fail;
        }
    }
    json_decref(arr);
    char *out = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(root);
    return out;
fail:
    json_decref(arr);
    json_decref(root);
    return NULL;
}

static bool same_rule(const struct rule_group *ga, const struct rule *a,
                      const struct rule_group *gb, const struct rule *b)
{
    return a->kind == b->kind && strcmp(ga->file, gb->file) == 0 &&
           strcmp(ga->name, gb->name) == 0 && strcmp(a->name, b->name) == 0 &&
           strcmp(a->expr_text, b->expr_text) == 0 && lw_labels_equal(&a->labels, &b->labels);
}

static bool json_labels_equal(json_t *o, const struct lw_labels *ls)
{
    if (!json_is_object(o) || json_object_size(o) != ls->n)
        return false;
    for (size_t i = 0; i < ls->n; i++) {
        const char *v = json_string_value(json_object_get(o, ls->v[i].name));
        if (v == NULL || strcmp(v, ls->v[i].value) != 0)
            return false;
    }
    return true;
}

int rule_set_restore(struct rule_set *rs, const char *json, size_t len, struct lw_err *err)
{
    json_error_t je;
    json_t *root = json_loadb(json, len, 0, &je);
    if (root == NULL)
        return lw_err_set(err, je.line, je.column, "rule state: %s", je.text);
    int rc = -1;
    json_t *ver = json_object_get(root, "version"), *arr = json_object_get(root, "rules");
    if (!json_is_integer(ver) || json_integer_value(ver) != RULES_STATE_VERSION) {
        lw_err_set(err, 0, 0, "rule state: unknown version (expected %d)", RULES_STATE_VERSION);
        goto out;
    }
    if (!json_is_array(arr)) {
        lw_err_set(err, 0, 0, "rule state: 'rules' must be an array");
        goto out;
    }
    size_t i;
    json_t *e;
    json_array_foreach(arr, i, e)
    {
        const char *file = json_string_value(json_object_get(e, "file")),
                   *group = json_string_value(json_object_get(e, "group")),
                   *name = json_string_value(json_object_get(e, "name")),
                   *expr = json_string_value(json_object_get(e, "expr"));
        json_t *labels = json_object_get(e, "labels"), *alerts = json_object_get(e, "state");
        if (!file || !group || !name || !expr || !json_is_object(labels) ||
            !json_is_object(alerts)) {
            lw_err_set(err, 0, 0, "rule state: entry %zu is malformed", i);
            goto out;
        }
        for (size_t gi = 0; gi < rs->n; gi++) {
            struct rule_group *g = &rs->groups[gi];
            if (strcmp(g->file, file) != 0 || strcmp(g->name, group) != 0)
                continue;
            for (size_t ri = 0; ri < g->n; ri++) {
                struct rule *r = &g->rules[ri];
                if (r->kind != RULE_ALERTING || strcmp(r->name, name) != 0 ||
                    strcmp(r->expr_text, expr) != 0 || !json_labels_equal(labels, &r->labels))
                    continue;
                char *s = json_dumps(alerts, JSON_COMPACT);
                if (s == NULL) {
                    lw_err_set(err, 0, 0, "out of memory");
                    goto out;
                }
                struct lw_err aerr = {0};
                int arc = alert_rule_restore(r->alert, s, strlen(s), &aerr);
                free(s);
                if (arc != 0) {
                    lw_err_set(err, 0, 0, "rule state: %s/%s: %s", group, name, aerr.msg);
                    goto out;
                }
            }
        }
    }
    rc = 0;
out:
    json_decref(root);
    return rc;
}

int rule_set_carry_over(struct rule_set *fresh, const struct rule_set *old, struct lw_err *err)
{
    for (size_t gi = 0; gi < fresh->n; gi++) {
        struct rule_group *g = &fresh->groups[gi];
        for (size_t ri = 0; ri < g->n; ri++) {
            struct rule *r = &g->rules[ri];
            const struct rule *from = NULL;
            for (size_t ogi = 0; ogi < old->n && !from; ogi++) {
                const struct rule_group *og = &old->groups[ogi];
                for (size_t ori = 0; ori < og->n && !from; ori++)
                    if (same_rule(g, r, og, &og->rules[ori]))
                        from = &og->rules[ori];
            }
            if (from == NULL)
                continue;
            if (r->kind == RULE_ALERTING) {
                char *s = alert_rule_save(from->alert);
                struct lw_err aerr = {0};
                if (s == NULL)
                    return lw_err_set(err, 0, 0, "carrying over %s: out of memory", r->name);
                int arc = alert_rule_restore(r->alert, s, strlen(s), &aerr);
                free(s);
                if (arc != 0)
                    return lw_err_set(err, 0, 0, "carrying over %s: %s", r->name, aerr.msg);
            }
            struct lw_labels *prev = calloc(from->n_prev ? from->n_prev : 1, sizeof(*prev));
            if (prev == NULL)
                return lw_err_set(err, 0, 0, "out of memory");
            for (size_t k = 0; k < from->n_prev; k++)
                if (lw_labels_copy(&prev[k], &from->prev[k]) != 0) {
                    rules_prev_free(prev, k);
                    return lw_err_set(err, 0, 0, "out of memory");
                }
            rules_prev_free(r->prev, r->n_prev);
            r->prev = prev;
            r->n_prev = from->n_prev;
            r->health = from->health;
            memcpy(r->last_error, from->last_error, sizeof r->last_error);
            r->last_eval_ms = from->last_eval_ms;
            r->last_duration_ns = from->last_duration_ns;
        }
        const struct rule_group *og = rule_set_find_group(old, g->file, g->name);
        if (og) {
            g->last_eval_ms = og->last_eval_ms;
            g->last_duration_ns = og->last_duration_ns;
        }
    }
    return 0;
}

/* ---- what `lagwatch check` needs to know about a rule's inputs ---- */

int rule_input_has_data(const struct rule *r, const struct store *st, int64_t t_ms)
{
    bool any_sel = false;
    int rc = has_data(r->expr, st, t_ms, 0, &any_sel);
    if (rc < 0)
        return -1;
    return any_sel ? rc : 1; /* an expression without selectors always has its data */
}

static int64_t reach_ms(const struct promql_expr *e)
{
    if (e == NULL)
        return 0;
    int64_t off = e->offset_ms > 0 ? e->offset_ms : 0;
    switch (e->kind) {
    case PQ_VSEL:
        return off + 5 * 60 * 1000;
    case PQ_MSEL: {
        int64_t inner = e->a && e->a->offset_ms > 0 ? e->a->offset_ms : 0;
        return e->range_ms + inner;
    }
    case PQ_SUBQ:
        return off + e->range_ms + reach_ms(e->a);
    default:
        break;
    }
    int64_t m = reach_ms(e->a), x;
    if ((x = reach_ms(e->b)) > m)
        m = x;
    if ((x = reach_ms(e->param)) > m)
        m = x;
    for (size_t i = 0; i < e->n_args; i++)
        if ((x = reach_ms(e->args[i])) > m)
            m = x;
    return m;
}

int64_t rule_input_reach_ms(const struct rule *r)
{
    return reach_ms(r->expr);
}
