/*
 * rulefile.c — loading Prometheus rule files (rules.h) on yamldoc: the schema of Prometheus
 * 2.42's rulefmt (strict: unknown keys are errors), its checks (group names unique in a file,
 * one of record/alert, no for/keep_firing_for/annotations on recording rules, valid record and
 * label names), plus lagwatch's: the expression must parse within the PromQL subset and give a
 * vector or scalar, and templates must parse (through the caller's check hook). Every error
 * points at the file, line and column; errors inside an expression or template point inside
 * the YAML scalar where the text allows exact positions.
 *
 * It does not read files or evaluate anything (rulegroup.c evaluates).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lagwatch/buf.h"
#include "lagwatch/limits.h"
#include "lagwatch/promql.h"
#include "lagwatch/yamldoc.h"
#include "rules_int.h"

static const char *const top_keys[] = {"groups", NULL};
static const char *const group_keys[] = {"name", "interval", "limit", "rules", NULL};
static const char *const rule_keys[] = {"record",          "alert",  "expr",        "for",
                                        "keep_firing_for", "labels", "annotations", NULL};

bool rule_valid_metric_name(const char *s)
{
    if (s == NULL || *s == '\0')
        return false;
    for (const char *p = s; *p; p++) {
        char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
                  (p != s && c >= '0' && c <= '9');
        if (!ok)
            return false;
    }
    return true;
}

bool rule_valid_label_name(const char *s)
{
    if (s == NULL || *s == '\0')
        return false;
    for (const char *p = s; *p; p++) {
        char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                  (p != s && c >= '0' && c <= '9');
        if (!ok)
            return false;
    }
    return true;
}

void rules_prev_free(struct lw_labels *prev, size_t n)
{
    for (size_t i = 0; i < n; i++)
        lw_labels_cleanup(&prev[i]);
    free(prev);
}

void rules_rule_cleanup(struct rule *r)
{
    free(r->name);
    free(r->expr_text);
    promql_expr_free(r->expr);
    lw_labels_cleanup(&r->labels);
    lw_labels_cleanup(&r->annotations);
    for (size_t i = 0; i < r->n_drop_labels; i++)
        free(r->drop_labels[i]);
    free(r->drop_labels);
    alert_rule_free(r->alert);
    rules_prev_free(r->prev, r->n_prev);
    memset(r, 0, sizeof(*r));
}

static void group_cleanup(struct rule_group *g)
{
    for (size_t i = 0; i < g->n; i++)
        rules_rule_cleanup(&g->rules[i]);
    free(g->rules);
    free(g->name);
    free(g->file);
    memset(g, 0, sizeof(*g));
}

void rule_set_free(struct rule_set *rs)
{
    if (rs == NULL)
        return;
    for (size_t i = 0; i < rs->n; i++)
        group_cleanup(&rs->groups[i]);
    free(rs->groups);
    free(rs);
}

/* ---- positions inside scalars ---- */

struct src {
    const char *buf;
    size_t len;
};

/* Byte offset of the start of 1-based line in s, or len when the text has fewer lines. */
static size_t line_start(const struct src *s, int line)
{
    size_t off = 0;
    for (int l = 1; l < line && off < s->len; off++)
        if (s->buf[off] == '\n')
            l++;
    return off;
}

/*
 * Map a position inside a scalar's text (inner line/col, 1-based, 0 = unknown) to the file.
 * Plain and quoted one-line scalars map exactly (escapes in double-quoted ones aside); in block
 * scalars (| and >) line n of the text is the n-th line after the indicator, columns counted
 * from the block's indentation (exact for |, approximate for folded > text).
 */
static void scalar_pos(const struct src *s, const struct yamldoc_node *n, int in_line, int in_col,
                       int *line, int *col)
{
    *line = n->line;
    *col = n->col;
    if (in_line <= 0 || n->line <= 0)
        return;
    size_t at = line_start(s, n->line) + (size_t)(n->col > 0 ? n->col - 1 : 0);
    char ind = at < s->len ? s->buf[at] : '\0';
    if (ind == '|' || ind == '>') {
        /* the block's indentation is that of its first line */
        *line = n->line + in_line;
        size_t ls = line_start(s, n->line + 1), k = ls;
        while (k < s->len && s->buf[k] == ' ')
            k++;
        *col = (int)(k - ls) + (in_col > 0 ? in_col : 1);
        return;
    }
    int quote = (ind == '"' || ind == '\'') ? 1 : 0;
    *line = n->line + in_line - 1;
    if (in_line == 1) {
        *col = n->col + quote + (in_col > 0 ? in_col - 1 : 0);
    } else {
        size_t ls = line_start(s, *line), k = ls;
        while (k < s->len && (s->buf[k] == ' ' || s->buf[k] == '\t'))
            k++;
        *col = (int)(k - ls) + (in_col > 0 ? in_col : 1);
    }
}

/* Remember where the expression's text sits in the file (rule_expr_pos). */
static void expr_layout(const struct src *s, const struct yamldoc_node *n, struct rule *r)
{
    r->expr_line = n->line;
    r->expr_col = n->col;
    size_t at = line_start(s, n->line) + (size_t)(n->col > 0 ? n->col - 1 : 0);
    char ind = at < s->len ? s->buf[at] : '\0';
    r->expr_block = ind == '|' || ind == '>';
    r->expr_quoted = ind == '"' || ind == '\'';
    if (r->expr_block) {
        size_t ls = line_start(s, n->line + 1), k = ls;
        while (k < s->len && s->buf[k] == ' ')
            k++;
        r->expr_indent = (int)(k - ls);
    }
}

void rule_expr_pos(const struct rule *r, size_t off, int *line, int *col)
{
    int in_line = 1, in_col = 1;
    for (size_t i = 0; i < off && r->expr_text[i]; i++) {
        if (r->expr_text[i] == '\n') {
            in_line++;
            in_col = 1;
        } else {
            in_col++;
        }
    }
    if (r->expr_block) {
        *line = r->expr_line + in_line;
        *col = r->expr_indent + in_col;
    } else if (in_line == 1) {
        *line = r->expr_line;
        *col = r->expr_col + (r->expr_quoted ? 1 : 0) + in_col - 1;
    } else {
        *line = r->expr_line + in_line - 1;
        *col = in_col;
    }
}

int rule_group_line(const struct rule_group *g)
{
    return g->line;
}

/* Report inner (an error inside scalar n's text) at its file position, prefixed with what. */
static int inner_error(struct lw_err *err, const struct yamldoc *d, const struct src *s,
                       const struct yamldoc_node *n, const char *what, const struct lw_err *inner)
{
    int line, col;
    scalar_pos(s, n, inner->line, inner->col, &line, &col);
    if (err == NULL)
        return -1;
    lw_err_set_file(err, d->filename);
    return lw_err_set(err, line, col, "%s: %s", what, inner->msg);
}

/* ---- loading ---- */

struct loader {
    const struct yamldoc *d;
    struct src s;
    const struct rule_load_options *o;
    struct lw_err *err;
};

static int get_dup_string(struct loader *ld, const struct yamldoc_node *n, char **out)
{
    const char *v;
    if (yamldoc_get_string(n, &v, ld->d, ld->err) != 0)
        return -1;
    char *c = strdup(v);
    if (c == NULL)
        return yamldoc_error(ld->err, ld->d, n, "out of memory");
    *out = c;
    return 0;
}

/* labels / annotations: a map of name -> string. */
struct drop_list {
    char **v;
    size_t n;
};

static int load_label_map(struct loader *ld, const struct yamldoc_node *map, const char *what,
                          bool templates, struct lw_labels *out, struct drop_list *drop)
{
    if (yamldoc_is_null(map))
        return 0;
    if (map->kind != YAMLDOC_MAP)
        return yamldoc_error(ld->err, ld->d, map, "%s must be a mapping of names to strings", what);
    for (size_t i = 0; i < yamldoc_map_size(map); i++) {
        const struct yamldoc_node *k = yamldoc_map_key(map, i), *v = yamldoc_map_value(map, i);
        const char *name, *value = "";
        if (yamldoc_get_string(k, &name, ld->d, ld->err) != 0)
            return -1;
        if (!rule_valid_label_name(name) || strcmp(name, "__name__") == 0)
            return yamldoc_error(ld->err, ld->d, k, "invalid %s name: '%s'", what, name);
        if (!yamldoc_is_null(v) && yamldoc_get_string(v, &value, ld->d, ld->err) != 0)
            return -1;
        if (templates && ld->o && ld->o->check_template) {
            struct lw_err terr = {0};
            if (ld->o->check_template(ld->o->check_ud, value, &terr) != 0) {
                char w[96];
                snprintf(w, sizeof w, "%s '%s': template", what, name);
                return inner_error(ld->err, ld->d, &ld->s, v, w, &terr);
            }
        }
        if (value[0] == '\0' && drop) {
            /* a label set cannot hold "": remember the name, the result loses that label */
            char **nd = realloc(drop->v, (drop->n + 1) * sizeof(*nd));
            if (nd == NULL || (nd[drop->n] = strdup(name)) == NULL) {
                if (nd)
                    drop->v = nd;
                return yamldoc_error(ld->err, ld->d, v, "out of memory");
            }
            drop->v = nd;
            drop->n++;
            continue;
        }
        if (lw_labels_set(out, name, value) != 0)
            return yamldoc_error(ld->err, ld->d, v, "out of memory");
    }
    return 0;
}

/* alert_expand_fn for rules loaded with expand_rule: ud is the rule (its address is stable: the
 * group's rule array never moves after loading). */
static char *expand_with_name(void *ud, const char *tmpl, const struct lw_labels *labels,
                              double value, int64_t now_ms, struct lw_err *err)
{
    const struct rule *r = ud;
    return r->expand_rule(r->expand_rule_ud, r->name, tmpl, labels, value, now_ms, err);
}

static int load_rule(struct loader *ld, const struct yamldoc_node *n, struct rule *r)
{
    const struct yamldoc *d = ld->d;
    if (n->kind != YAMLDOC_MAP)
        return yamldoc_error(ld->err, d, n, "a rule must be a mapping (alert or record, expr)");
    if (yamldoc_check_keys(d, n, rule_keys, ld->err) != 0)
        return -1;
    const struct yamldoc_node *alert = yamldoc_map_get(n, "alert"),
                              *record = yamldoc_map_get(n, "record"),
                              *expr = yamldoc_map_get(n, "expr");
    r->line = n->line;
    r->col = n->col;
    lw_labels_init(&r->labels);
    lw_labels_init(&r->annotations);
    if (alert && record)
        return yamldoc_error(ld->err, d, record, "only one of 'record' and 'alert' must be set");
    if (!alert && !record)
        return yamldoc_error(ld->err, d, n, "one of 'record' or 'alert' must be set");
    const struct yamldoc_node *namen = alert ? alert : record;
    if (yamldoc_is_null(namen))
        return yamldoc_error(ld->err, d, namen, "'%s' must not be empty",
                             alert ? "alert" : "record");
    if (get_dup_string(ld, namen, &r->name) != 0)
        return -1;
    r->kind = alert ? RULE_ALERTING : RULE_RECORDING;
    if (r->name[0] == '\0')
        return yamldoc_error(ld->err, d, namen, "'%s' must not be empty",
                             alert ? "alert" : "record");
    if (record && !rule_valid_metric_name(r->name))
        return yamldoc_error(ld->err, d, record, "invalid recording rule name: '%s'", r->name);
    if (record) {
        static const char *const not_for_record[] = {"for", "keep_firing_for", "annotations"};
        for (size_t i = 0; i < 3; i++)
            if (yamldoc_map_get(n, not_for_record[i]))
                return yamldoc_error(ld->err, d, yamldoc_map_get(n, not_for_record[i]),
                                     "invalid field '%s' in recording rule", not_for_record[i]);
    }
    if (yamldoc_is_null(expr))
        return yamldoc_error(ld->err, d, expr ? expr : n, "field 'expr' must be set in rule");
    if (get_dup_string(ld, expr, &r->expr_text) != 0)
        return -1;
    expr_layout(&ld->s, expr, r);
    struct lw_err perr = {0};
    if (promql_parse(r->expr_text, strlen(r->expr_text), &r->expr, &perr) != 0)
        return inner_error(ld->err, d, &ld->s, expr, "expr", &perr);
    enum promql_type t = promql_expr_type(r->expr);
    if (t != PROMQL_VECTOR && t != PROMQL_SCALAR)
        return yamldoc_error(ld->err, d, expr,
                             "expr: a rule's expression must give an instant vector or a scalar, "
                             "not a %s",
                             t == PROMQL_MATRIX ? "range vector" : "string");
    const struct yamldoc_node *f = yamldoc_map_get(n, "for"),
                              *kff = yamldoc_map_get(n, "keep_firing_for");
    if (!yamldoc_is_null(f) && yamldoc_get_duration_ms(f, &r->for_ms, d, ld->err) != 0)
        return -1;
    if (!yamldoc_is_null(kff) &&
        yamldoc_get_duration_ms(kff, &r->keep_firing_for_ms, d, ld->err) != 0)
        return -1;
    struct drop_list drop = {0};
    int lrc =
        load_label_map(ld, yamldoc_map_get(n, "labels"), "label", alert != NULL, &r->labels, &drop);
    r->drop_labels = drop.v;
    r->n_drop_labels = drop.n;
    if (lrc != 0)
        return -1;
    if (load_label_map(ld, yamldoc_map_get(n, "annotations"), "annotation", true, &r->annotations,
                       NULL) != 0)
        return -1;
    if (alert) {
        r->no_data = ALERT_NO_DATA_OK;
        if (ld->o && ld->o->no_data)
            r->no_data = ld->o->no_data(ld->o->no_data_ud, r->name);
        struct alert_rule_spec spec = {
            .name = r->name,
            .for_ms = r->for_ms,
            .keep_firing_for_ms = r->keep_firing_for_ms,
            .labels = &r->labels,
            .annotations = &r->annotations,
            .drop_labels = (const char *const *)r->drop_labels,
            .n_drop_labels = r->n_drop_labels,
            .no_data = r->no_data,
            .expand = ld->o ? ld->o->expand : NULL,
            .expand_ud = ld->o ? ld->o->expand_ud : NULL,
        };
        if (ld->o && ld->o->expand_rule) {
            r->expand_rule = ld->o->expand_rule;
            r->expand_rule_ud = ld->o->expand_rule_ud;
            spec.expand = expand_with_name;
            spec.expand_ud = r;
        }
        r->alert = alert_rule_new(&spec);
        if (r->alert == NULL)
            return yamldoc_error(ld->err, d, n, "out of memory");
    }
    return 0;
}

static int load_group(struct loader *ld, const struct yamldoc_node *n, struct rule_group *g)
{
    const struct yamldoc *d = ld->d;
    if (n->kind != YAMLDOC_MAP)
        return yamldoc_error(ld->err, d, n, "a group must be a mapping (name, interval, rules)");
    const struct yamldoc_node *qo = yamldoc_map_get(n, "query_offset");
    if (qo)
        return yamldoc_error(ld->err, d, qo,
                             "'query_offset' is not supported: rule files follow Prometheus "
                             "2.42's format, which has no query_offset");
    if (yamldoc_check_keys(d, n, group_keys, ld->err) != 0)
        return -1;
    g->line = n->line;
    const struct yamldoc_node *name = yamldoc_map_get(n, "name");
    if (yamldoc_is_null(name))
        return yamldoc_error(ld->err, d, name ? name : n, "group name must not be empty");
    if (get_dup_string(ld, name, &g->name) != 0)
        return -1;
    if (g->name[0] == '\0')
        return yamldoc_error(ld->err, d, name, "group name must not be empty");
    const struct yamldoc_node *iv = yamldoc_map_get(n, "interval"),
                              *lim = yamldoc_map_get(n, "limit"),
                              *rules = yamldoc_map_get(n, "rules");
    if (!yamldoc_is_null(iv) && yamldoc_get_duration_ms(iv, &g->interval_ms, d, ld->err) != 0)
        return -1;
    if (!yamldoc_is_null(lim)) {
        int64_t l;
        if (yamldoc_get_int64(lim, &l, d, ld->err) != 0)
            return -1;
        if (l < 0)
            return yamldoc_error(ld->err, d, lim, "limit must not be negative");
        g->limit = (uint64_t)l;
    }
    if (yamldoc_is_null(rules))
        return 0;
    if (rules->kind != YAMLDOC_SEQ)
        return yamldoc_error(ld->err, d, rules, "rules must be a list");
    g->rules = calloc(rules->n ? rules->n : 1, sizeof(*g->rules));
    if (g->rules == NULL)
        return yamldoc_error(ld->err, d, rules, "out of memory");
    for (size_t i = 0; i < rules->n; i++) {
        g->n++;
        if (load_rule(ld, rules->items[i], &g->rules[i]) != 0)
            return -1;
    }
    return 0;
}

/* Append the groups of one file to rs. */
static int load_file(struct rule_set *rs, const struct rule_source *src,
                     const struct rule_load_options *o, struct lw_err *err)
{
    const char *fname = src->filename ? src->filename : "";
    struct yamldoc *d = NULL;
    if (yamldoc_parse(src->buf ? src->buf : "", src->len, fname, &d, err) != 0)
        return -1;
    struct loader ld = {.d = d, .s = {src->buf ? src->buf : "", src->len}, .o = o, .err = err};
    int rc = -1;
    const struct yamldoc_node *root = d->root;
    if (yamldoc_is_null(root)) {
        rc = 0; /* an empty file has no groups, as in Prometheus */
        goto out;
    }
    if (root->kind != YAMLDOC_MAP) {
        yamldoc_error(err, d, root, "a rule file must be a mapping with 'groups'");
        goto out;
    }
    if (yamldoc_check_keys(d, root, top_keys, err) != 0)
        goto out;
    const struct yamldoc_node *groups = yamldoc_map_get(root, "groups");
    if (yamldoc_is_null(groups)) {
        rc = 0;
        goto out;
    }
    if (groups->kind != YAMLDOC_SEQ) {
        yamldoc_error(err, d, groups, "groups must be a list");
        goto out;
    }
    size_t first = rs->n;
    struct rule_group *ng = realloc(rs->groups, (rs->n + groups->n + 1) * sizeof(*ng));
    if (ng == NULL) {
        yamldoc_error(err, d, groups, "out of memory");
        goto out;
    }
    rs->groups = ng;
    for (size_t i = 0; i < groups->n; i++) {
        struct rule_group *g = &rs->groups[rs->n++];
        memset(g, 0, sizeof(*g));
        g->file = strdup(fname);
        if (g->file == NULL) {
            yamldoc_error(err, d, groups->items[i], "out of memory");
            goto out;
        }
        if (load_group(&ld, groups->items[i], g) != 0)
            goto out;
        for (size_t k = first; k + 1 < rs->n; k++)
            if (strcmp(rs->groups[k].name, g->name) == 0) {
                yamldoc_error(err, d, yamldoc_map_get(groups->items[i], "name"),
                              "group name '%s' is repeated in the same file (first at line %d)",
                              g->name, rs->groups[k].line);
                goto out;
            }
    }
    rc = 0;
out:
    yamldoc_free(d);
    return rc;
}

int rule_set_load(const struct rule_source *srcs, size_t n, const struct rule_load_options *o,
                  struct rule_set **out, struct lw_err *err)
{
    struct rule_set *rs = calloc(1, sizeof(*rs));
    if (rs == NULL)
        return lw_err_set(err, 0, 0, "out of memory");
    for (size_t i = 0; i < n; i++) {
        if (load_file(rs, &srcs[i], o, err) != 0) {
            rule_set_free(rs);
            return -1;
        }
    }
    *out = rs;
    return 0;
}

int rule_set_load_buf(const char *buf, size_t len, const char *filename,
                      const struct rule_load_options *o, struct rule_set **out, struct lw_err *err)
{
    struct rule_source s = {.filename = filename, .buf = buf, .len = len};
    return rule_set_load(&s, 1, o, out, err);
}

/* ---- accessors ---- */

size_t rule_set_group_count(const struct rule_set *rs)
{
    return rs->n;
}

struct rule_group *rule_set_group(const struct rule_set *rs, size_t i)
{
    return i < rs->n ? &rs->groups[i] : NULL;
}

struct rule_group *rule_set_find_group(const struct rule_set *rs, const char *file,
                                       const char *name)
{
    for (size_t i = 0; i < rs->n; i++)
        if (strcmp(rs->groups[i].name, name) == 0 &&
            (file == NULL || strcmp(rs->groups[i].file, file) == 0))
            return &rs->groups[i];
    return NULL;
}

size_t rule_set_rule_count(const struct rule_set *rs)
{
    size_t n = 0;
    for (size_t i = 0; i < rs->n; i++)
        n += rs->groups[i].n;
    return n;
}

const char *rule_group_name(const struct rule_group *g)
{
    return g->name;
}

const char *rule_group_file(const struct rule_group *g)
{
    return g->file;
}

int64_t rule_group_interval_ms(const struct rule_group *g, int64_t default_ms)
{
    return g->interval_ms > 0 ? g->interval_ms : default_ms;
}

uint64_t rule_group_limit(const struct rule_group *g)
{
    return g->limit;
}

size_t rule_group_rule_count(const struct rule_group *g)
{
    return g->n;
}

struct rule *rule_group_rule(const struct rule_group *g, size_t i)
{
    return i < g->n ? &g->rules[i] : NULL;
}

int64_t rule_group_last_eval_ms(const struct rule_group *g)
{
    return g->last_eval_ms;
}

int64_t rule_group_last_duration_ns(const struct rule_group *g)
{
    return g->last_duration_ns;
}

enum rule_kind rule_kind(const struct rule *r)
{
    return r->kind;
}

const char *rule_name(const struct rule *r)
{
    return r->name;
}

const char *rule_expr_text(const struct rule *r)
{
    return r->expr_text;
}

char *rule_expr_canonical(const struct rule *r)
{
    struct lw_buf b;
    lw_buf_init(&b, 4u * LW_MAX_PROMQL_BYTES);
    if (promql_format_expr(r->expr, &b) != 0 || lw_buf_failed(&b)) {
        lw_buf_cleanup(&b);
        return NULL;
    }
    return lw_buf_take(&b);
}

const struct promql_expr *rule_expr(const struct rule *r)
{
    return r->expr;
}

int64_t rule_for_ms(const struct rule *r)
{
    return r->for_ms;
}

int64_t rule_keep_firing_for_ms(const struct rule *r)
{
    return r->keep_firing_for_ms;
}

const struct lw_labels *rule_labels(const struct rule *r)
{
    return &r->labels;
}

const struct lw_labels *rule_annotations(const struct rule *r)
{
    return &r->annotations;
}

int rule_line(const struct rule *r)
{
    return r->line;
}

enum rule_health rule_health(const struct rule *r)
{
    return r->health;
}

const char *rule_health_str(enum rule_health h)
{
    return h == RULE_HEALTH_OK ? "ok" : h == RULE_HEALTH_ERR ? "err" : "unknown";
}

const char *rule_last_error(const struct rule *r)
{
    return r->last_error;
}

int64_t rule_last_eval_ms(const struct rule *r)
{
    return r->last_eval_ms;
}

int64_t rule_last_duration_ns(const struct rule *r)
{
    return r->last_duration_ns;
}

const struct alert_rule *rule_alert(const struct rule *r)
{
    return r->alert;
}

enum alert_no_data rule_no_data(const struct rule *r)
{
    return r->no_data;
}
