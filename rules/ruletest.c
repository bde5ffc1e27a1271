/*
 * ruletest.c — promtool's rule unit tests (ruletest.h). The file is decoded and checked whole
 * first (unknown keys, bad durations, bad series notation are errors with file:line:col, as
 * promtool's strict YAML decoding refuses them); then each test group runs on its own store and
 * its own freshly loaded rule set, in promtool's order of events: load samples up to t, evaluate
 * every group at t, check the alert tests due at t, step by evaluation_interval; promql tests
 * last.
 *
 * It does not read files (rule files come through the options' callback) and prints nothing
 * (failures go to the report buffer).
 */
#include "lagwatch/ruletest.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lagwatch/duration.h"
#include "lagwatch/limits.h"
#include "lagwatch/promql.h"
#include "lagwatch/seriesnot.h"
#include "promql_int.h"
#include "lagwatch/store.h"
#include "lagwatch/yamldoc.h"

#define RULETEST_DEFAULT_INTERVAL_MS (60 * 1000)

static const char *const file_keys[] = {"rule_files", "evaluation_interval", "group_eval_order",
                                        "tests", NULL};
static const char *const group_keys[] = {"interval",
                                         "input_series",
                                         "alert_rule_test",
                                         "promql_expr_test",
                                         "external_labels",
                                         "external_url",
                                         "name",
                                         NULL};
static const char *const series_keys[] = {"series", "values", NULL};
static const char *const alert_keys[] = {"eval_time", "alertname", "exp_alerts", NULL};
static const char *const exp_alert_keys[] = {"exp_labels", "exp_annotations", NULL};
static const char *const expr_keys[] = {"expr", "eval_time", "exp_samples", NULL};
static const char *const sample_keys[] = {"labels", "value", NULL};

int ruletest_fmt_float(double v, struct lw_buf *out)
{
    if (isnan(v))
        return lw_buf_adds(out, "NaN");
    if (isinf(v))
        return lw_buf_adds(out, v > 0 ? "+Inf" : "-Inf");
    char tmp[64];
    /* the shortest precision that reads back as v, like Go's -1 precision */
    for (int p = 0; p <= 17; p++) {
        snprintf(tmp, sizeof tmp, "%.*E", p, v);
        if (strtod(tmp, NULL) == v)
            break;
    }
    return lw_buf_adds(out, tmp);
}

static const char *dur(int64_t ms, char *out, size_t outlen)
{
    return duration_format(ms, out, outlen);
}

/* Go's time.Duration String() of ms ("0s", "1m0s", "1h2m3.5s", "250ms"): promtool prints rule
 * evaluation errors' times this way (tests' own eval_time as Prometheus durations, above). */
static const char *go_dur(int64_t ms, char *out, size_t outlen)
{
    if (ms == 0) {
        snprintf(out, outlen, "0s");
        return out;
    }
    const char *sign = ms < 0 ? "-" : "";
    uint64_t v = ms < 0 ? (uint64_t)(-(ms + 1)) + 1 : (uint64_t)ms;
    if (v < 1000) {
        snprintf(out, outlen, "%s%llums", sign, (unsigned long long)v);
        return out;
    }
    unsigned long long h = v / 3600000, m = v / 60000 % 60, sec = v / 1000 % 60, frac = v % 1000;
    char fs[8] = "";
    if (frac) {
        snprintf(fs, sizeof fs, ".%03llu", frac);
        for (size_t i = strlen(fs); i > 0 && fs[i - 1] == '0'; i--)
            fs[i - 1] = '\0';
    }
    if (h)
        snprintf(out, outlen, "%s%lluh%llum%llu%ss", sign, h, m, sec, fs);
    else if (m)
        snprintf(out, outlen, "%s%llum%llu%ss", sign, m, sec, fs);
    else
        snprintf(out, outlen, "%s%llu%ss", sign, sec, fs);
    return out;
}

/* ---- decoded file ---- */

struct in_series {
    struct lw_labels ls;
    struct seriesnot_values vals;
    size_t cursor;
};

struct alert_case {
    int64_t t;
    const char *alertname;
    const struct yamldoc_node *exp; /* exp_alerts, may be NULL */
    size_t order;
};

struct expr_case {
    int64_t t;
    const char *expr;
    const struct yamldoc_node *exp; /* exp_samples, may be NULL */
};

struct tgroup {
    const char *name; /* NULL: none */
    int64_t interval_ms;
    struct in_series *series;
    size_t n_series;
    struct alert_case *alerts;
    size_t n_alerts;
    struct expr_case *exprs;
    size_t n_exprs;
    struct lw_labels ext_labels;
    const char *ext_url;
};

struct rt {
    const struct yamldoc *d;
    const char *filename;
    const struct ruletest_options *o;
    struct lw_err *err;
    struct lw_buf *report;
    struct ruletest_result *res;
    int64_t eval_interval_ms;
    const struct yamldoc_node *order; /* group_eval_order */
    const struct yamldoc_node *rule_files;
    struct ruletest_file *files;
    size_t n_files;
    bool files_loaded;
};

static void tgroup_cleanup(struct tgroup *g)
{
    for (size_t i = 0; i < g->n_series; i++) {
        lw_labels_cleanup(&g->series[i].ls);
        seriesnot_values_cleanup(&g->series[i].vals);
    }
    free(g->series);
    free(g->alerts);
    free(g->exprs);
    lw_labels_cleanup(&g->ext_labels);
    memset(g, 0, sizeof(*g));
}

static int seq_of(struct rt *rt, const struct yamldoc_node *n, const char *what)
{
    if (yamldoc_is_null(n))
        return 0;
    if (n->kind != YAMLDOC_SEQ)
        return yamldoc_error(rt->err, rt->d, n, "%s must be a list", what);
    return 0;
}

static size_t seq_len(const struct yamldoc_node *n)
{
    return (n && n->kind == YAMLDOC_SEQ) ? n->n : 0;
}

/* A map of name -> string into ls. */
static int string_map(struct rt *rt, const struct yamldoc_node *n, const char *what,
                      struct lw_labels *ls)
{
    if (yamldoc_is_null(n))
        return 0;
    if (n->kind != YAMLDOC_MAP)
        return yamldoc_error(rt->err, rt->d, n, "%s must be a mapping of names to strings", what);
    for (size_t i = 0; i < yamldoc_map_size(n); i++) {
        const char *k, *v = "";
        if (yamldoc_get_string(yamldoc_map_key(n, i), &k, rt->d, rt->err) != 0)
            return -1;
        const struct yamldoc_node *vn = yamldoc_map_value(n, i);
        if (!yamldoc_is_null(vn) && yamldoc_get_string(vn, &v, rt->d, rt->err) != 0)
            return -1;
        if (lw_labels_set(ls, k, v) != 0)
            return yamldoc_error(rt->err, rt->d, vn, "out of memory");
    }
    return 0;
}

/* An error inside a scalar's text at inner column col (1-based): point at it when the scalar is
 * plain and on one line, else at the scalar. */
static int scalar_error(struct rt *rt, const struct yamldoc_node *n, const struct lw_err *inner,
                        const char *what)
{
    lw_err_set_file(rt->err, rt->d->filename);
    int col = n->col;
    if (n->plain && n->single_line && inner->col > 0)
        col = n->col + inner->col - 1;
    else if (!n->plain && n->single_line && inner->col > 0)
        col = n->col + inner->col; /* after the opening quote */
    return lw_err_set(rt->err, n->line, col, "%s: %s", what, inner->msg);
}

static int decode_series(struct rt *rt, const struct yamldoc_node *n, struct in_series *s)
{
    if (n->kind != YAMLDOC_MAP)
        return yamldoc_error(rt->err, rt->d, n,
                             "an input series must be a mapping (series, values)");
    if (yamldoc_check_keys(rt->d, n, series_keys, rt->err) != 0)
        return -1;
    const struct yamldoc_node *sn = yamldoc_map_get(n, "series"),
                              *vn = yamldoc_map_get(n, "values");
    const char *text, *vals = "";
    if (yamldoc_is_null(sn))
        return yamldoc_error(rt->err, rt->d, sn ? sn : n, "an input series needs 'series'");
    if (yamldoc_get_string(sn, &text, rt->d, rt->err) != 0)
        return -1;
    if (!yamldoc_is_null(vn) && yamldoc_get_string(vn, &vals, rt->d, rt->err) != 0)
        return -1;
    struct lw_err e = {0};
    size_t used = 0, len = strlen(text);
    if (seriesnot_parse_labels(text, len, &s->ls, &used, &e) != 0)
        return scalar_error(rt, sn, &e, "series");
    while (used < len && (text[used] == ' ' || text[used] == '\t'))
        used++;
    if (used != len) {
        e.col = (int)used + 1;
        snprintf(e.msg, sizeof e.msg, "unexpected text after the series description");
        return scalar_error(rt, sn, &e, "series");
    }
    if (seriesnot_parse_values(vals, strlen(vals), &s->vals, &e) != 0)
        return scalar_error(rt, vn, &e, "values");
    return 0;
}

static int get_eval_time(struct rt *rt, const struct yamldoc_node *n, int64_t *t)
{
    *t = 0;
    const struct yamldoc_node *et = yamldoc_map_get(n, "eval_time");
    if (yamldoc_is_null(et))
        return 0;
    return yamldoc_get_duration_ms(et, t, rt->d, rt->err);
}

static int cmp_alert_case(const void *a, const void *b)
{
    const struct alert_case *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* Validate the shapes of exp_alerts / exp_samples now so that a malformed file fails before
 * anything runs. */
static int check_exp_alerts(struct rt *rt, const struct yamldoc_node *ea)
{
    if (seq_of(rt, ea, "exp_alerts") != 0)
        return -1;
    for (size_t i = 0; i < seq_len(ea); i++) {
        const struct yamldoc_node *x = ea->items[i];
        if (yamldoc_is_null(x))
            continue;
        if (yamldoc_check_keys(rt->d, x, exp_alert_keys, rt->err) != 0)
            return -1;
        struct lw_labels tmp;
        lw_labels_init(&tmp);
        int rc = string_map(rt, yamldoc_map_get(x, "exp_labels"), "exp_labels", &tmp);
        if (rc == 0)
            rc = string_map(rt, yamldoc_map_get(x, "exp_annotations"), "exp_annotations", &tmp);
        lw_labels_cleanup(&tmp);
        if (rc != 0)
            return -1;
    }
    return 0;
}

static int check_exp_samples(struct rt *rt, const struct yamldoc_node *es)
{
    if (seq_of(rt, es, "exp_samples") != 0)
        return -1;
    for (size_t i = 0; i < seq_len(es); i++) {
        const struct yamldoc_node *x = es->items[i];
        if (yamldoc_is_null(x))
            continue;
        if (yamldoc_check_keys(rt->d, x, sample_keys, rt->err) != 0)
            return -1;
        const struct yamldoc_node *v = yamldoc_map_get(x, "value"),
                                  *l = yamldoc_map_get(x, "labels");
        double dv;
        const char *ls;
        if (!yamldoc_is_null(v) && yamldoc_get_double(v, &dv, rt->d, rt->err) != 0)
            return -1;
        if (!yamldoc_is_null(l) && yamldoc_get_string(l, &ls, rt->d, rt->err) != 0)
            return -1;
    }
    return 0;
}

static int decode_group(struct rt *rt, const struct yamldoc_node *n, struct tgroup *g)
{
    const struct yamldoc *d = rt->d;
    lw_labels_init(&g->ext_labels);
    if (n->kind != YAMLDOC_MAP)
        return yamldoc_error(rt->err, d, n, "a test group must be a mapping");
    if (yamldoc_check_keys(d, n, group_keys, rt->err) != 0)
        return -1;
    const struct yamldoc_node *x;
    g->interval_ms = rt->eval_interval_ms;
    if (!yamldoc_is_null(x = yamldoc_map_get(n, "interval")) &&
        yamldoc_get_duration_ms(x, &g->interval_ms, d, rt->err) != 0)
        return -1;
    if (g->interval_ms <= 0)
        g->interval_ms = rt->eval_interval_ms;
    if (!yamldoc_is_null(x = yamldoc_map_get(n, "name")) &&
        yamldoc_get_string(x, &g->name, d, rt->err) != 0)
        return -1;
    if (!yamldoc_is_null(x = yamldoc_map_get(n, "external_url")) &&
        yamldoc_get_string(x, &g->ext_url, d, rt->err) != 0)
        return -1;
    if (string_map(rt, yamldoc_map_get(n, "external_labels"), "external_labels", &g->ext_labels))
        return -1;
    const struct yamldoc_node *is = yamldoc_map_get(n, "input_series"),
                              *at = yamldoc_map_get(n, "alert_rule_test"),
                              *pt = yamldoc_map_get(n, "promql_expr_test");
    if (seq_of(rt, is, "input_series") || seq_of(rt, at, "alert_rule_test") ||
        seq_of(rt, pt, "promql_expr_test"))
        return -1;
    g->series = calloc(seq_len(is) + 1, sizeof(*g->series));
    g->alerts = calloc(seq_len(at) + 1, sizeof(*g->alerts));
    g->exprs = calloc(seq_len(pt) + 1, sizeof(*g->exprs));
    if (!g->series || !g->alerts || !g->exprs)
        return yamldoc_error(rt->err, d, n, "out of memory");
    for (size_t i = 0; i < seq_len(is); i++) {
        struct in_series *s = &g->series[g->n_series++];
        lw_labels_init(&s->ls);
        seriesnot_values_init(&s->vals);
        if (decode_series(rt, is->items[i], s) != 0)
            return -1;
    }
    for (size_t i = 0; i < seq_len(at); i++) {
        const struct yamldoc_node *c = at->items[i];
        if (c->kind != YAMLDOC_MAP)
            return yamldoc_error(rt->err, d, c, "an alert_rule_test must be a mapping");
        if (yamldoc_check_keys(d, c, alert_keys, rt->err) != 0)
            return -1;
        struct alert_case *a = &g->alerts[g->n_alerts];
        a->order = g->n_alerts++;
        if (get_eval_time(rt, c, &a->t) != 0)
            return -1;
        a->alertname = "";
        if (!yamldoc_is_null(x = yamldoc_map_get(c, "alertname")) &&
            yamldoc_get_string(x, &a->alertname, d, rt->err) != 0)
            return -1;
        a->exp = yamldoc_map_get(c, "exp_alerts");
        if (check_exp_alerts(rt, a->exp) != 0)
            return -1;
    }
    qsort(g->alerts, g->n_alerts, sizeof(*g->alerts), cmp_alert_case);
    for (size_t i = 0; i < seq_len(pt); i++) {
        const struct yamldoc_node *c = pt->items[i];
        if (c->kind != YAMLDOC_MAP)
            return yamldoc_error(rt->err, d, c, "a promql_expr_test must be a mapping");
        if (yamldoc_check_keys(d, c, expr_keys, rt->err) != 0)
            return -1;
        struct expr_case *e = &g->exprs[g->n_exprs++];
        if (get_eval_time(rt, c, &e->t) != 0)
            return -1;
        e->expr = "";
        if (!yamldoc_is_null(x = yamldoc_map_get(c, "expr")) &&
            yamldoc_get_string(x, &e->expr, d, rt->err) != 0)
            return -1;
        e->exp = yamldoc_map_get(c, "exp_samples");
        if (check_exp_samples(rt, e->exp) != 0)
            return -1;
    }
    return 0;
}

/* ---- running ---- */

static void free_files(struct rt *rt)
{
    for (size_t i = 0; i < rt->n_files; i++) {
        free(rt->files[i].name);
        free(rt->files[i].buf);
    }
    free(rt->files);
    rt->files = NULL;
    rt->n_files = 0;
}

static int load_rule_files(struct rt *rt)
{
    if (rt->files_loaded)
        return 0;
    rt->files_loaded = true;
    for (size_t i = 0; i < seq_len(rt->rule_files); i++) {
        const struct yamldoc_node *e = rt->rule_files->items[i];
        const char *entry;
        if (yamldoc_get_string(e, &entry, rt->d, rt->err) != 0)
            return -1;
        if (rt->o == NULL || rt->o->rules == NULL)
            return yamldoc_error(rt->err, rt->d, e, "no way to read rule files");
        if (rt->o->rules(rt->o->rules_ud, rt->filename, entry, &rt->files, &rt->n_files, rt->err) !=
            0)
            return -1;
    }
    return 0;
}

/* The groups of rs in evaluation order: group_eval_order first, then the rest as loaded. */
static int eval_order(struct rt *rt, const struct rule_set *rs, struct rule_group ***out)
{
    size_t n = rule_set_group_count(rs);
    struct rule_group **v = calloc(n + 1, sizeof(*v));
    bool *used = calloc(n + 1, sizeof(*used));
    if (!v || !used) {
        free(v);
        free(used);
        return lw_err_set(rt->err, 0, 0, "out of memory");
    }
    size_t k = 0;
    for (size_t i = 0; i < seq_len(rt->order); i++) {
        const char *name;
        if (yamldoc_get_string(rt->order->items[i], &name, rt->d, rt->err) != 0)
            goto fail;
        bool found = false;
        for (size_t j = 0; j < n; j++)
            if (!used[j] && strcmp(rule_group_name(rule_set_group(rs, j)), name) == 0) {
                used[j] = found = true;
                v[k++] = rule_set_group(rs, j);
            }
        if (!found) {
            yamldoc_error(rt->err, rt->d, rt->order->items[i],
                          "group name '%s' in group_eval_order not found", name);
            goto fail;
        }
    }
    for (size_t j = 0; j < n; j++)
        if (!used[j])
            v[k++] = rule_set_group(rs, j);
    free(used);
    *out = v;
    return 0;
fail:
    free(v);
    free(used);
    return -1;
}

struct la {
    struct lw_labels labels, annotations;
};

static int cmp_la(const void *a, const void *b)
{
    const struct la *x = a, *y = b;
    int c = lw_labels_cmp(&x->labels, &y->labels);
    return c != 0 ? c : lw_labels_cmp(&x->annotations, &y->annotations);
}

static void la_free(struct la *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        lw_labels_cleanup(&v[i].labels);
        lw_labels_cleanup(&v[i].annotations);
    }
    free(v);
}

/* promtool's labelsAndAnnotations.String() indented by 12 spaces after the first line. */
static void la_format(const struct la *v, size_t n, struct lw_buf *b)
{
    if (n == 0) {
        lw_buf_adds(b, "[]");
        return;
    }
    lw_buf_adds(b, "[\n");
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            lw_buf_adds(b, ",\n");
        lw_buf_addf(b, "            %zu:\n              Labels:", i);
        lw_labels_format(&v[i].labels, b);
        lw_buf_adds(b, "\n              Annotations:");
        lw_labels_format(&v[i].annotations, b);
    }
    lw_buf_adds(b, "\n            ]");
}

/* Compare the firing alerts named c->alertname with the expectation. 0 pass, 1 fail, -1 OOM. */
static int check_alerts(struct rt *rt, const struct tgroup *tg, struct rule_group **groups,
                        size_t n_groups, const struct alert_case *c)
{
    size_t n_got = 0, cap = 0, n_exp = seq_len(c->exp);
    struct la *got = NULL, *exp = calloc(n_exp + 1, sizeof(*exp));
    int rc = -1;
    if (exp == NULL)
        return -1;
    for (size_t gi = 0; gi < n_groups; gi++)
        for (size_t ri = 0; ri < rule_group_rule_count(groups[gi]); ri++) {
            const struct rule *r = rule_group_rule(groups[gi], ri);
            if (rule_kind(r) != RULE_ALERTING || strcmp(rule_name(r), c->alertname) != 0)
                continue;
            const struct alert_rule *ar = rule_alert(r);
            for (size_t i = 0; i < alert_rule_count(ar); i++) {
                const struct alert *a = alert_rule_at(ar, i);
                if (a->state != ALERT_FIRING)
                    continue;
                if (n_got == cap) {
                    size_t nc = cap ? 2 * cap : 8;
                    struct la *ng = realloc(got, nc * sizeof(*ng));
                    if (ng == NULL)
                        goto out;
                    got = ng;
                    cap = nc;
                }
                struct la *g = &got[n_got];
                if (lw_labels_copy(&g->labels, &a->labels) != 0)
                    goto out;
                if (lw_labels_copy(&g->annotations, &a->annotations) != 0) {
                    lw_labels_cleanup(&g->labels);
                    goto out;
                }
                n_got++;
            }
        }
    for (size_t i = 0; i < n_exp; i++) {
        const struct yamldoc_node *x = c->exp->items[i];
        lw_labels_init(&exp[i].labels);
        lw_labels_init(&exp[i].annotations);
        if (string_map(rt, yamldoc_map_get(x, "exp_labels"), "exp_labels", &exp[i].labels) ||
            string_map(rt, yamldoc_map_get(x, "exp_annotations"), "exp_annotations",
                       &exp[i].annotations) ||
            lw_labels_set(&exp[i].labels, "alertname", c->alertname) != 0)
            goto out;
    }
    if (n_got > 1)
        qsort(got, n_got, sizeof(*got), cmp_la);
    if (n_exp > 1)
        qsort(exp, n_exp, sizeof(*exp), cmp_la);
    bool same = n_got == n_exp;
    for (size_t i = 0; same && i < n_got; i++)
        same = lw_labels_equal(&got[i].labels, &exp[i].labels) &&
               lw_labels_equal(&got[i].annotations, &exp[i].annotations);
    rt->res->cases++;
    if (!same) {
        rt->res->failed_cases++;
        char t[32];
        if (tg->name)
            lw_buf_addf(rt->report, "    name: %s,\n", tg->name);
        lw_buf_addf(rt->report, "    alertname: %s, time: %s, \n        exp:", c->alertname,
                    dur(c->t, t, sizeof t));
        la_format(exp, n_exp, rt->report);
        lw_buf_adds(rt->report, ", \n        got:");
        la_format(got, n_got, rt->report);
        lw_buf_addc(rt->report, '\n');
    }
    rc = same ? 0 : 1;
out:
    la_free(got, n_got);
    la_free(exp, n_exp);
    return rc;
}

struct ps {
    struct lw_labels ls;
    double v;
};

static int cmp_ps(const void *a, const void *b)
{
    return lw_labels_cmp(&((const struct ps *)a)->ls, &((const struct ps *)b)->ls);
}

static void ps_format(const struct ps *v, size_t n, struct lw_buf *b)
{
    if (n == 0) {
        lw_buf_adds(b, "nil");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            lw_buf_adds(b, ", ");
        lw_labels_format(&v[i].ls, b);
        lw_buf_addc(b, ' ');
        ruletest_fmt_float(v[i].v, b);
    }
}

static void ps_free(struct ps *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        lw_labels_cleanup(&v[i].ls);
    free(v);
}

/* 0 pass, 1 fail, -1 OOM. */
static int check_expr(struct rt *rt, const struct store *st, const struct expr_case *c)
{
    char t[32];
    dur(c->t, t, sizeof t);
    rt->res->cases++;
    struct lw_err e = {0};
    struct promql_expr *ex = NULL;
    struct promql_value v = {0};
    size_t n_exp = seq_len(c->exp), n_got = 0;
    struct ps *exp = calloc(n_exp + 1, sizeof(*exp)), *got = NULL;
    int rc = -1;
    if (exp == NULL)
        return -1;
    if (promql_parse(c->expr, strlen(c->expr), &ex, &e) != 0 ||
        promql_eval_instant(ex, st, c->t, NULL, &v, &e) != 0 ||
        (v.type != PROMQL_VECTOR && v.type != PROMQL_SCALAR &&
         lw_err_set(&e, 0, 0, "rule result is not a vector or scalar"))) {
        lw_buf_adds(rt->report, "    expr: ");
        pq_go_quote(rt->report, c->expr);
        lw_buf_addf(rt->report, ", time: %s, err: %s\n", t, e.msg);
        rc = 1;
        goto out;
    }
    size_t n = v.type == PROMQL_SCALAR ? 1 : v.n_vec;
    got = calloc(n + 1, sizeof(*got));
    if (got == NULL)
        goto out;
    for (size_t i = 0; i < n; i++, n_got++) {
        if (v.type == PROMQL_SCALAR) {
            lw_labels_init(&got[i].ls);
            got[i].v = v.scalar;
        } else {
            if (lw_labels_copy(&got[i].ls, &v.vec[i].labels) != 0)
                goto out;
            got[i].v = v.vec[i].v;
        }
    }
    for (size_t i = 0; i < n_exp; i++) {
        const struct yamldoc_node *x = c->exp->items[i];
        const struct yamldoc_node *ln = yamldoc_map_get(x, "labels"),
                                  *vn = yamldoc_map_get(x, "value");
        const char *ls = "";
        lw_labels_init(&exp[i].ls);
        if (!yamldoc_is_null(ln) && yamldoc_get_string(ln, &ls, rt->d, &e) != 0)
            goto out;
        if (!yamldoc_is_null(vn) && yamldoc_get_double(vn, &exp[i].v, rt->d, &e) != 0)
            goto out;
        size_t used = 0;
        struct lw_err le = {0};
        if (seriesnot_parse_labels(ls, strlen(ls), &exp[i].ls, &used, &le) != 0 ||
            used != strlen(ls)) {
            lw_buf_adds(rt->report, "    expr: ");
            pq_go_quote(rt->report, c->expr);
            lw_buf_addf(rt->report, ", time: %s, err: labels ", t);
            pq_go_quote(rt->report, ls);
            lw_buf_addf(rt->report, ": %s\n", le.msg[0] ? le.msg : "unexpected text");
            rc = 1;
            goto out;
        }
    }
    if (n_got > 1)
        qsort(got, n_got, sizeof(*got), cmp_ps);
    if (n_exp > 1)
        qsort(exp, n_exp, sizeof(*exp), cmp_ps);
    bool same = n_got == n_exp;
    for (size_t i = 0; same && i < n_got; i++)
        same = lw_labels_equal(&got[i].ls, &exp[i].ls) && got[i].v == exp[i].v;
    if (!same) {
        lw_buf_adds(rt->report, "    expr: ");
        pq_go_quote(rt->report, c->expr);
        lw_buf_addf(rt->report, ", time: %s,\n        exp: ", t);
        ps_format(exp, n_exp, rt->report);
        lw_buf_adds(rt->report, "\n        got: ");
        ps_format(got, n_got, rt->report);
        lw_buf_addc(rt->report, '\n');
    }
    rc = same ? 0 : 1;
out:
    if (rc == 1)
        rt->res->failed_cases++;
    ps_free(got, n_got);
    ps_free(exp, n_exp);
    promql_value_cleanup(&v);
    promql_expr_free(ex);
    return rc;
}

/* Load the samples of every input series with t <= ts. */
static int load_samples(struct tgroup *tg, struct store *st, int64_t ts, struct lw_err *err)
{
    for (size_t i = 0; i < tg->n_series; i++) {
        struct in_series *s = &tg->series[i];
        while (s->cursor < s->vals.n && (int64_t)s->cursor * tg->interval_ms <= ts) {
            const struct seriesnot_value *v = &s->vals.v[s->cursor];
            int64_t t = (int64_t)s->cursor * tg->interval_ms;
            s->cursor++;
            if (v->omitted)
                continue;
            int rc = store_append(st, &s->ls, t, v->v, err);
            if (rc < 0 && rc != STORE_ERR_DUPLICATE && rc != STORE_ERR_OUT_OF_ORDER)
                return -1;
        }
    }
    return 0;
}

/* Run one test group: 0 (res counts failures), -1 with err (file or rule problem, or OOM). */
static int run_group(struct rt *rt, struct tgroup *tg)
{
    if (load_rule_files(rt) != 0)
        return -1;
    struct rule_load_options lo = {0};
    if (rt->o && rt->o->templates)
        rt->o->templates(rt->o->templates_ud, &tg->ext_labels, tg->ext_url, &lo);
    struct rule_source *srcs = calloc(rt->n_files + 1, sizeof(*srcs));
    if (srcs == NULL)
        return lw_err_set(rt->err, 0, 0, "out of memory");
    for (size_t i = 0; i < rt->n_files; i++)
        srcs[i] = (struct rule_source){rt->files[i].name, rt->files[i].buf, rt->files[i].len};
    struct rule_set *rs = NULL;
    int lrc = rule_set_load(srcs, rt->n_files, &lo, &rs, rt->err);
    free(srcs);
    if (lrc != 0)
        return -1;
    struct rule_group **groups = NULL;
    struct store *st = NULL;
    int rc = -1;
    if (eval_order(rt, rs, &groups) != 0)
        goto out;
    size_t n_groups = rule_set_group_count(rs);
    struct store_options so = {.retention_ms = INT64_MAX / 4};
    st = store_new(&so);
    if (st == NULL) {
        lw_err_set(rt->err, 0, 0, "out of memory");
        goto out;
    }
    int64_t maxt = 0;
    for (size_t i = 0; i < tg->n_alerts; i++)
        maxt = tg->alerts[i].t > maxt ? tg->alerts[i].t : maxt;
    for (size_t i = 0; i < tg->n_exprs; i++)
        maxt = tg->exprs[i].t > maxt ? tg->exprs[i].t : maxt;
    size_t failed_before = rt->res->failed_cases, curr = 0;
    int64_t step = rt->eval_interval_ms;
    if (maxt / step >= LW_MAX_RULETEST_STEPS) {
        char a[32], b[32];
        lw_err_set(rt->err, 0, 0,
                   "test group %s: evaluating up to %s every %s takes more than %d steps",
                   tg->name ? tg->name : "(unnamed)", dur(maxt, a, sizeof a),
                   dur(step, b, sizeof b), LW_MAX_RULETEST_STEPS);
        lw_err_set_file(rt->err, rt->filename);
        goto out;
    }
    bool eval_failed = false;
    for (int64_t ts = 0; ts <= maxt && !eval_failed; ts += step) {
        if (load_samples(tg, st, ts, rt->err) != 0)
            goto out;
        for (size_t gi = 0; gi < n_groups; gi++) {
            struct rule_group *g = groups[gi];
            int f = rule_group_eval(g, st, ts, rt->err);
            if (f < 0)
                goto out;
            for (size_t ri = 0; f > 0 && ri < rule_group_rule_count(g); ri++) {
                const struct rule *r = rule_group_rule(g, ri);
                if (rule_health(r) != RULE_HEALTH_ERR)
                    continue;
                char t[32];
                lw_buf_addf(rt->report, "    rule: %s, time: %s, err: %s\n", rule_name(r),
                            go_dur(ts, t, sizeof t), rule_last_error(r));
                eval_failed = true;
            }
        }
        if (eval_failed) {
            rt->res->failed_cases++;
            break;
        }
        while (curr < tg->n_alerts && ts <= tg->alerts[curr].t && tg->alerts[curr].t < ts + step) {
            if (check_alerts(rt, tg, groups, n_groups, &tg->alerts[curr]) < 0) {
                lw_err_set(rt->err, 0, 0, "out of memory");
                goto out;
            }
            curr++;
        }
    }
    for (size_t i = 0; i < tg->n_exprs && !eval_failed; i++)
        if (check_expr(rt, st, &tg->exprs[i]) < 0) {
            lw_err_set(rt->err, 0, 0, "out of memory");
            goto out;
        }
    rt->res->groups++;
    if (rt->res->failed_cases != failed_before)
        rt->res->failed_groups++;
    rc = 0;
out:
    store_free(st);
    free(groups);
    rule_set_free(rs);
    return rc;
}

int ruletest_run(const char *buf, size_t len, const char *filename,
                 const struct ruletest_options *o, struct lw_buf *report,
                 struct ruletest_result *res, struct lw_err *err)
{
    struct yamldoc *d = NULL;
    if (yamldoc_parse(buf, len, filename, &d, err) != 0)
        return -1;
    struct rt rt = {.d = d,
                    .filename = filename ? filename : "",
                    .o = o,
                    .err = err,
                    .report = report,
                    .res = res,
                    .eval_interval_ms = RULETEST_DEFAULT_INTERVAL_MS};
    struct tgroup *groups = NULL;
    size_t n_groups = 0;
    int rc = -1;
    const struct yamldoc_node *root = d->root, *x;
    if (yamldoc_is_null(root)) {
        rc = 0; /* an empty file has no tests */
        goto out;
    }
    if (root->kind != YAMLDOC_MAP) {
        yamldoc_error(err, d, root, "a rule test file must be a mapping (rule_files, tests)");
        goto out;
    }
    if (yamldoc_check_keys(d, root, file_keys, err) != 0)
        goto out;
    if (!yamldoc_is_null(x = yamldoc_map_get(root, "evaluation_interval")) &&
        yamldoc_get_duration_ms(x, &rt.eval_interval_ms, d, err) != 0)
        goto out;
    if (rt.eval_interval_ms <= 0)
        rt.eval_interval_ms = RULETEST_DEFAULT_INTERVAL_MS;
    rt.rule_files = yamldoc_map_get(root, "rule_files");
    rt.order = yamldoc_map_get(root, "group_eval_order");
    const struct yamldoc_node *tests = yamldoc_map_get(root, "tests");
    if (seq_of(&rt, rt.rule_files, "rule_files") || seq_of(&rt, rt.order, "group_eval_order") ||
        seq_of(&rt, tests, "tests"))
        goto out;
    groups = calloc(seq_len(tests) + 1, sizeof(*groups));
    if (groups == NULL) {
        lw_err_set(err, 0, 0, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < seq_len(tests); i++) {
        n_groups++;
        if (decode_group(&rt, tests->items[i], &groups[i]) != 0)
            goto out;
    }
    for (size_t i = 0; i < n_groups; i++)
        if (run_group(&rt, &groups[i]) != 0)
            goto out;
    rc = 0;
out:
    for (size_t i = 0; i < n_groups; i++)
        tgroup_cleanup(&groups[i]);
    free(groups);
    free_files(&rt);
    yamldoc_free(d);
    return rc;
}
