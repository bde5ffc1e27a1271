/*
 * promql_parse.c — a Pratt parser for lagwatch's PromQL subset, with Prometheus's type checks
 * (the messages are Prometheus's own wording) and its precedence: `^` (right) over unary minus
 * over `* / %` over `+ -` over comparisons over `and unless` over `or`. Valid PromQL outside the
 * subset fails with "unsupported: <kind>: <what>" at the column where it starts, so a rule that
 * lagwatch cannot evaluate exactly is refused at load. Nesting is bounded (LW_MAX_PROMQL_DEPTH) so
 * hostile input cannot exhaust the stack.
 */
#include "promql_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lagwatch/limits.h"

struct parser {
    struct pq_lexer lx;
    struct pq_token tok; /* current (not yet consumed) token */
    struct lw_err *err;
    int depth;
};

static const char *const agg_names[] = {"sum",    "min",    "max",  "avg",     "count",
                                        "stddev", "stdvar", "topk", "bottomk", "quantile"};
static const char *const agg_unsupported[] = {"group", "count_values", "limitk", "limit_ratio"};

const char *pq_agg_str(enum pq_agg a)
{
    return agg_names[a];
}

const char *pq_binop_str(int op)
{
    static const char *const s[] = {"+", "-", "*",  "/",  "%",   "^",  "==",     "!=",
                                    ">", "<", ">=", "<=", "and", "or", "unless", "atan2"};
    return s[op];
}

const char *pq_type_name(enum promql_type t)
{
    switch (t) {
    case PROMQL_SCALAR:
        return "scalar";
    case PROMQL_VECTOR:
        return "instant vector";
    case PROMQL_MATRIX:
        return "range vector";
    case PROMQL_STRING:
        return "string";
    }
    return "?";
}

static int perr_at(struct parser *p, size_t off, const char *fmt, ...) LW_PRINTF(3, 4);
static int perr_at(struct parser *p, size_t off, const char *fmt, ...)
{
    if (p->err == NULL)
        return -1;
    int line, col;
    pq_pos(p->lx.src, p->lx.len, off, &line, &col);
    p->err->line = line;
    p->err->col = col;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->err->msg, sizeof p->err->msg, fmt, ap);
    va_end(ap);
    return -1;
}

static int advance(struct parser *p)
{
    return pq_lex_next(&p->lx, &p->tok, p->err);
}

/* Case-insensitive keyword test (PromQL keywords are case-insensitive). */
static bool tok_is_kw(const struct parser *p, const char *word)
{
    size_t l = strlen(word);
    if (p->tok.kind != PQ_T_IDENT || p->tok.len != l)
        return false;
    for (size_t i = 0; i < l; i++) {
        char c = p->lx.src[p->tok.off + i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != word[i])
            return false;
    }
    return true;
}

static const char *tok_desc(const struct parser *p, char *buf, size_t n)
{
    if (p->tok.kind == PQ_T_EOF)
        return "end of input";
    size_t l = p->tok.len < 40 ? p->tok.len : 40;
    snprintf(buf, n, "\"%.*s\"", (int)l, p->lx.src + p->tok.off);
    return buf;
}

static int unexpected(struct parser *p, const char *expected)
{
    char b[64];
    return perr_at(p, p->tok.off, "unexpected %s%s%s", tok_desc(p, b, sizeof b),
                   expected ? ", expected " : "", expected ? expected : "");
}

static int expect(struct parser *p, enum pq_tok kind, const char *what)
{
    if (p->tok.kind != kind)
        return unexpected(p, what);
    return advance(p);
}

static struct promql_expr *node_new(struct parser *p, enum pq_kind kind, size_t off)
{
    struct promql_expr *e = calloc(1, sizeof *e);
    if (e == NULL) {
        perr_at(p, off, "out of memory");
        return NULL;
    }
    e->kind = kind;
    e->off = off;
    return e;
}

static void strs_free(struct pq_strs *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    s->v = NULL;
    s->n = 0;
}

void promql_expr_free(struct promql_expr *e)
{
    if (e == NULL)
        return;
    free(e->str);
    free(e->name);
    for (size_t i = 0; i < e->n_ms; i++)
        lw_matcher_cleanup(&e->ms[i]);
    free(e->ms);
    strs_free(&e->mlabels);
    strs_free(&e->include);
    strs_free(&e->grouping);
    promql_expr_free(e->param);
    for (size_t i = 0; i < e->n_args; i++)
        promql_expr_free(e->args[i]);
    free(e->args);
    promql_expr_free(e->a);
    promql_expr_free(e->b);
    free(e);
}

enum promql_type promql_expr_type(const struct promql_expr *e)
{
    return e->type;
}

static char *tok_dup(const struct parser *p)
{
    char *s = malloc(p->tok.len + 1);
    if (s) {
        memcpy(s, p->lx.src + p->tok.off, p->tok.len);
        s[p->tok.len] = '\0';
    }
    return s;
}

static int strs_push(struct parser *p, struct pq_strs *s, char *v)
{
    if (v == NULL)
        return perr_at(p, p->tok.off, "out of memory");
    char **nv = realloc(s->v, (s->n + 1) * sizeof *nv);
    if (nv == NULL) {
        free(v);
        return perr_at(p, p->tok.off, "out of memory");
    }
    s->v = nv;
    s->v[s->n++] = v;
    return 0;
}

/* A label name: an identifier (keywords included, as Prometheus allows `by (on)`) or a quoted
 * UTF-8 name. */
static int label_name(struct parser *p, char **out)
{
    if (p->tok.kind == PQ_T_IDENT) {
        *out = tok_dup(p);
    } else if (p->tok.kind == PQ_T_STRING) {
        if (pq_lex_unquote(&p->lx, &p->tok, out, p->err) != 0)
            return -1;
    } else {
        return unexpected(p, "label name");
    }
    if (*out == NULL)
        return perr_at(p, p->tok.off, "out of memory");
    if (strlen(*out) > LW_MAX_LABEL_NAME_BYTES) {
        free(*out);
        return perr_at(p, p->tok.off, "label name too long");
    }
    if (advance(p) != 0) {
        free(*out);
        *out = NULL;
        return -1;
    }
    return 0;
}

/* "(" [name {"," name}] [","] ")" */
static int label_list(struct parser *p, struct pq_strs *out)
{
    if (expect(p, PQ_T_LPAREN, "\"(\"") != 0)
        return -1;
    while (p->tok.kind != PQ_T_RPAREN) {
        char *name;
        if (label_name(p, &name) != 0)
            return -1;
        if (strs_push(p, out, name) != 0)
            return -1;
        if (p->tok.kind == PQ_T_COMMA) {
            if (advance(p) != 0)
                return -1;
        } else if (p->tok.kind != PQ_T_RPAREN) {
            return unexpected(p, "\",\" or \")\" in grouping opts");
        }
    }
    return advance(p);
}

static int parse_expr(struct parser *p, int min_prec, struct promql_expr **out);

static int add_matcher(struct parser *p, struct promql_expr *e, enum lw_match_op op,
                       const char *name, const char *value, size_t off)
{
    struct lw_matcher *nm = realloc(e->ms, (e->n_ms + 1) * sizeof *nm);
    if (nm == NULL)
        return perr_at(p, off, "out of memory");
    e->ms = nm;
    struct lw_err merr = {0};
    if (lw_matcher_init(&e->ms[e->n_ms], op, name, value, &merr) != 0)
        return perr_at(p, off, "%s", merr.msg);
    e->n_ms++;
    return 0;
}

/* The body of "{...}" after "{": matchers name op "value", or a bare quoted metric name. */
static int matchers(struct parser *p, struct promql_expr *e)
{
    while (p->tok.kind != PQ_T_RBRACE) {
        size_t off = p->tok.off;
        char *name = NULL;
        if (p->tok.kind == PQ_T_STRING) {
            if (pq_lex_unquote(&p->lx, &p->tok, &name, p->err) != 0)
                return -1;
            if (advance(p) != 0) {
                free(name);
                return -1;
            }
            if (p->tok.kind == PQ_T_COMMA || p->tok.kind == PQ_T_RBRACE) {
                /* {"metric.name", ...}: the metric name in quoted form. */
                if (name[0] == '\0') {
                    free(name);
                    return perr_at(p, off, "metric name must not be empty");
                }
                if (e->name != NULL) {
                    int rc = perr_at(p, off, "metric name must not be set twice: \"%s\" or \"%s\"",
                                     e->name, name);
                    free(name);
                    return rc;
                }
                e->name = name;
                if (add_matcher(p, e, LW_MATCH_EQ, "__name__", name, off) != 0)
                    return -1;
                goto sep;
            }
        } else if (p->tok.kind == PQ_T_IDENT) {
            name = tok_dup(p);
            if (name == NULL)
                return perr_at(p, off, "out of memory");
            if (advance(p) != 0) {
                free(name);
                return -1;
            }
        } else {
            return unexpected(p, "label matching operator");
        }
        enum lw_match_op op;
        switch (p->tok.kind) {
        case PQ_T_ASSIGN:
            op = LW_MATCH_EQ;
            break;
        case PQ_T_NEQ:
            op = LW_MATCH_NE;
            break;
        case PQ_T_RE:
            op = LW_MATCH_RE;
            break;
        case PQ_T_NRE:
            op = LW_MATCH_NRE;
            break;
        default:
            free(name);
            return unexpected(p, "label matching operator");
        }
        if (advance(p) != 0) {
            free(name);
            return -1;
        }
        if (p->tok.kind != PQ_T_STRING) {
            free(name);
            return unexpected(p, "string");
        }
        char *value;
        if (pq_lex_unquote(&p->lx, &p->tok, &value, p->err) != 0) {
            free(name);
            return -1;
        }
        int rc = add_matcher(p, e, op, name, value, off);
        if (rc == 0 && strcmp(name, "__name__") == 0 && op == LW_MATCH_EQ && e->name != NULL)
            rc = perr_at(p, off, "metric name must not be set twice: \"%s\" or \"%s\"", e->name,
                         value);
        free(name);
        free(value);
        if (rc != 0 || advance(p) != 0)
            return -1;
    sep:
        if (p->tok.kind == PQ_T_COMMA) {
            if (advance(p) != 0)
                return -1;
        } else if (p->tok.kind != PQ_T_RBRACE) {
            return unexpected(p, "\",\" or \"}\"");
        }
    }
    return advance(p);
}

static int vector_selector(struct parser *p, char *name, size_t off, struct promql_expr **out)
{
    struct promql_expr *e = node_new(p, PQ_VSEL, off);
    if (e == NULL) {
        free(name);
        return -1;
    }
    e->type = PROMQL_VECTOR;
    e->name = name;
    if (name != NULL && add_matcher(p, e, LW_MATCH_EQ, "__name__", name, off) != 0)
        goto fail;
    if (p->tok.kind == PQ_T_LBRACE) {
        if (advance(p) != 0 || matchers(p, e) != 0)
            goto fail;
    }
    /* Prometheus: at least one matcher must not match the empty string. */
    bool nonempty = false;
    for (size_t i = 0; i < e->n_ms; i++)
        if (!lw_matcher_matches(&e->ms[i], ""))
            nonempty = true;
    if (!nonempty) {
        perr_at(p, off, "vector selector must contain at least one non-empty matcher");
        goto fail;
    }
    *out = e;
    return 0;
fail:
    promql_expr_free(e);
    return -1;
}

/* A duration: a DURATION token, or a NUMBER of seconds. */
static int duration_tok(struct parser *p, int64_t *ms, bool allow_neg)
{
    bool neg = false;
    if (allow_neg && (p->tok.kind == PQ_T_SUB || p->tok.kind == PQ_T_ADD)) {
        neg = p->tok.kind == PQ_T_SUB;
        if (advance(p) != 0)
            return -1;
    }
    if (p->tok.kind == PQ_T_DURATION) {
        *ms = p->tok.dur_ms;
    } else if (p->tok.kind == PQ_T_NUMBER) {
        double v = p->tok.num * 1000.0;
        if (!(v >= 0 && v < 9.2e18))
            return perr_at(p, p->tok.off, "duration out of range");
        *ms = (int64_t)v;
    } else {
        return unexpected(p, "duration");
    }
    if (neg)
        *ms = -*ms;
    return advance(p);
}

static int parse_args(struct parser *p, struct promql_expr *e)
{
    if (expect(p, PQ_T_LPAREN, "\"(\"") != 0)
        return -1;
    while (p->tok.kind != PQ_T_RPAREN) {
        struct promql_expr *a;
        if (parse_expr(p, 0, &a) != 0)
            return -1;
        struct promql_expr **na = realloc(e->args, (e->n_args + 1) * sizeof *na);
        if (na == NULL) {
            promql_expr_free(a);
            return perr_at(p, p->tok.off, "out of memory");
        }
        e->args = na;
        e->args[e->n_args++] = a;
        if (p->tok.kind == PQ_T_COMMA) {
            if (advance(p) != 0)
                return -1;
        } else if (p->tok.kind != PQ_T_RPAREN) {
            return unexpected(p, "\",\" or \")\"");
        }
    }
    return advance(p);
}

static int check_call(struct parser *p, struct promql_expr *e)
{
    const struct pq_func *f = e->fn;
    int n = (int)e->n_args;
    if (f->variadic == 0 && n != f->n_args)
        return perr_at(p, e->off, "expected %d argument(s) in call to \"%s\", got %d", f->n_args,
                       f->name, n);
    if (f->variadic != 0 && n < f->n_args)
        return perr_at(p, e->off, "expected at least %d argument(s) in call to \"%s\", got %d",
                       f->n_args, f->name, n);
    if (f->variadic > 0 && n > f->n_args + f->variadic)
        return perr_at(p, e->off, "expected at most %d argument(s) in call to \"%s\", got %d",
                       f->n_args + f->variadic, f->name, n);
    for (int i = 0; i < n; i++) {
        /* Past the fixed arguments (variadic functions only), args[n_args] is the type. */
        enum promql_type want = f->args[i < f->n_args ? i : f->n_args];
        if (e->args[i]->type != want)
            return perr_at(p, e->args[i]->off,
                           "expected type %s in call to function \"%s\", got %s",
                           pq_type_name(want), f->name, pq_type_name(e->args[i]->type));
    }
    e->type = f->ret;
    return 0;
}

static int aggregation(struct parser *p, enum pq_agg agg, size_t off, struct promql_expr **out)
{
    struct promql_expr *e = node_new(p, PQ_AGG, off);
    if (e == NULL)
        return -1;
    e->agg = agg;
    e->type = PROMQL_VECTOR;
    if (advance(p) != 0)
        goto fail;
    bool grouped = false;
    if (tok_is_kw(p, "by") || tok_is_kw(p, "without")) {
        e->without = tok_is_kw(p, "without");
        grouped = true;
        if (advance(p) != 0 || label_list(p, &e->grouping) != 0)
            goto fail;
    }
    struct promql_expr tmp = {0};
    tmp.off = p->tok.off;
    if (parse_args(p, &tmp) != 0) {
        for (size_t i = 0; i < tmp.n_args; i++)
            promql_expr_free(tmp.args[i]);
        free(tmp.args);
        goto fail;
    }
    bool has_param = agg == PQ_AGG_TOPK || agg == PQ_AGG_BOTTOMK || agg == PQ_AGG_QUANTILE;
    size_t want = has_param ? 2 : 1;
    if (tmp.n_args != want) {
        for (size_t i = 0; i < tmp.n_args; i++)
            promql_expr_free(tmp.args[i]);
        free(tmp.args);
        perr_at(
            p, off,
            "wrong number of arguments for aggregate expression provided, expected %zu, got %zu",
            want, tmp.n_args);
        goto fail;
    }
    if (has_param) {
        e->param = tmp.args[0];
        e->a = tmp.args[1];
    } else {
        e->a = tmp.args[0];
    }
    free(tmp.args);
    if (!grouped && (tok_is_kw(p, "by") || tok_is_kw(p, "without"))) {
        e->without = tok_is_kw(p, "without");
        if (advance(p) != 0 || label_list(p, &e->grouping) != 0)
            goto fail;
    }
    if (e->a->type != PROMQL_VECTOR) {
        perr_at(p, e->a->off, "expected type instant vector in aggregation expression, got %s",
                pq_type_name(e->a->type));
        goto fail;
    }
    if (has_param && e->param->type != PROMQL_SCALAR) {
        perr_at(p, e->param->off, "expected type scalar in aggregation parameter, got %s",
                pq_type_name(e->param->type));
        goto fail;
    }
    *out = e;
    return 0;
fail:
    promql_expr_free(e);
    return -1;
}

static int primary(struct parser *p, struct promql_expr **out);

/* Postfix modifiers after a primary: [range], [range:step], offset d, @ t. */
static int postfix(struct parser *p, struct promql_expr **io)
{
    struct promql_expr *e = *io;
    for (;;) {
        if (p->tok.kind == PQ_T_LBRACK) {
            size_t off = p->tok.off;
            if (advance(p) != 0)
                return -1;
            int64_t range;
            if (duration_tok(p, &range, false) != 0)
                return -1;
            if (p->tok.kind == PQ_T_COLON) {
                /* subquery */
                if (advance(p) != 0)
                    return -1;
                int64_t step = 0;
                if (p->tok.kind != PQ_T_RBRACK && duration_tok(p, &step, false) != 0)
                    return -1;
                if (expect(p, PQ_T_RBRACK, "\"]\"") != 0)
                    return -1;
                if (e->type != PROMQL_VECTOR)
                    return perr_at(p, off, "subquery is only allowed on instant vector, got %s",
                                   pq_type_name(e->type));
                struct promql_expr *s = node_new(p, PQ_SUBQ, e->off);
                if (s == NULL)
                    return -1;
                s->type = PROMQL_MATRIX;
                s->a = e;
                s->range_ms = range;
                s->step_ms = step;
                *io = e = s; /* the caller frees *io on error: keep the whole tree there */
                if (range <= 0)
                    return perr_at(p, off, "subquery range must be positive");
                continue;
            }
            if (expect(p, PQ_T_RBRACK, "\"]\" or \":\"") != 0)
                return -1;
            if (e->kind != PQ_VSEL)
                return perr_at(p, off, "ranges only allowed for vector selectors");
            if (e->offset_ms != 0 || e->at != PQ_AT_NONE)
                return perr_at(p, off, "no offset modifiers allowed before range");
            if (range <= 0)
                return perr_at(p, off, "range selector must have a positive duration");
            struct promql_expr *m = node_new(p, PQ_MSEL, e->off);
            if (m == NULL)
                return -1;
            m->type = PROMQL_MATRIX;
            m->a = e;
            m->range_ms = range;
            *io = e = m;
            continue;
        }
        if (tok_is_kw(p, "offset")) {
            size_t off = p->tok.off;
            if (advance(p) != 0)
                return -1;
            struct promql_expr *t = e->kind == PQ_MSEL ? e->a : e;
            if (t->kind != PQ_VSEL && t->kind != PQ_SUBQ)
                return perr_at(p, off,
                               "offset modifier must be preceded by an instant vector selector "
                               "or range vector selector or a subquery");
            if (t->offset_ms != 0)
                return perr_at(p, off, "offset may not be set multiple times");
            if (duration_tok(p, &t->offset_ms, true) != 0)
                return -1;
            continue;
        }
        if (p->tok.kind == PQ_T_AT) {
            size_t off = p->tok.off;
            if (advance(p) != 0)
                return -1;
            struct promql_expr *t = e->kind == PQ_MSEL ? e->a : e;
            if (t->kind != PQ_VSEL && t->kind != PQ_SUBQ)
                return perr_at(p, off,
                               "@ modifier must be preceded by an instant vector selector or "
                               "range vector selector or a subquery");
            if (t->at != PQ_AT_NONE)
                return perr_at(p, off, "@ <timestamp> may not be set multiple times");
            if (tok_is_kw(p, "start") || tok_is_kw(p, "end")) {
                t->at = tok_is_kw(p, "start") ? PQ_AT_START : PQ_AT_END;
                if (advance(p) != 0 || expect(p, PQ_T_LPAREN, "\"(\"") != 0 ||
                    expect(p, PQ_T_RPAREN, "\")\"") != 0)
                    return -1;
                continue;
            }
            bool neg = false;
            if (p->tok.kind == PQ_T_SUB || p->tok.kind == PQ_T_ADD) {
                neg = p->tok.kind == PQ_T_SUB;
                if (advance(p) != 0)
                    return -1;
            }
            if (p->tok.kind != PQ_T_NUMBER && p->tok.kind != PQ_T_DURATION)
                return unexpected(p, "timestamp");
            double v = p->tok.num * (neg ? -1000.0 : 1000.0);
            if (!(v > -9.2e18 && v < 9.2e18))
                return perr_at(p, p->tok.off, "timestamp out of bounds for @ modifier");
            t->at = PQ_AT_TS;
            t->at_ms = (int64_t)llround(v);
            if (advance(p) != 0)
                return -1;
            continue;
        }
        return 0;
    }
}

static int primary(struct parser *p, struct promql_expr **out)
{
    size_t off = p->tok.off;
    struct promql_expr *e = NULL;
    switch (p->tok.kind) {
    case PQ_T_NUMBER:
    case PQ_T_DURATION:
        if ((e = node_new(p, PQ_NUM, off)) == NULL)
            return -1;
        e->type = PROMQL_SCALAR;
        e->num = p->tok.num;
        if (advance(p) != 0)
            goto fail;
        break;
    case PQ_T_STRING:
        if ((e = node_new(p, PQ_STR, off)) == NULL)
            return -1;
        e->type = PROMQL_STRING;
        if (pq_lex_unquote(&p->lx, &p->tok, &e->str, p->err) != 0 || advance(p) != 0)
            goto fail;
        break;
    case PQ_T_LPAREN:
        if ((e = node_new(p, PQ_PAREN, off)) == NULL)
            return -1;
        if (advance(p) != 0 || parse_expr(p, 0, &e->a) != 0)
            goto fail;
        e->type = e->a->type;
        if (expect(p, PQ_T_RPAREN, "\")\"") != 0)
            goto fail;
        break;
    case PQ_T_LBRACE:
        if (vector_selector(p, NULL, off, &e) != 0)
            return -1;
        break;
    case PQ_T_METRIC:
    case PQ_T_IDENT: {
        for (size_t i = 0; p->tok.kind == PQ_T_IDENT && i < sizeof agg_names / sizeof *agg_names;
             i++)
            if (tok_is_kw(p, agg_names[i]))
                return aggregation(p, (enum pq_agg)i, off, out) == 0 ? postfix(p, out) : -1;
        for (size_t i = 0; i < sizeof agg_unsupported / sizeof *agg_unsupported; i++)
            if (tok_is_kw(p, agg_unsupported[i]))
                return perr_at(p, off, "unsupported: aggregation: %s", agg_unsupported[i]);
        if (tok_is_kw(p, "inf") || tok_is_kw(p, "nan")) {
            if ((e = node_new(p, PQ_NUM, off)) == NULL)
                return -1;
            e->type = PROMQL_SCALAR;
            e->num = tok_is_kw(p, "inf") ? INFINITY : NAN;
            if (advance(p) != 0)
                goto fail;
            break;
        }
        char *name = tok_dup(p);
        if (name == NULL)
            return perr_at(p, off, "out of memory");
        if (advance(p) != 0) {
            free(name);
            return -1;
        }
        if (p->tok.kind == PQ_T_LPAREN) {
            const struct pq_func *f = pq_func_lookup(name);
            if (f == NULL) {
                int rc = pq_func_is_prometheus(name)
                             ? perr_at(p, off, "unsupported: function: %s", name)
                             : perr_at(p, off, "unknown function with name \"%s\"", name);
                free(name);
                return rc;
            }
            free(name);
            if ((e = node_new(p, PQ_CALL, off)) == NULL)
                return -1;
            e->fn = f;
            if (parse_args(p, e) != 0 || check_call(p, e) != 0)
                goto fail;
            break;
        }
        static const char *const reserved[] = {"and", "or",       "unless",     "bool",
                                               "on",  "ignoring", "group_left", "group_right",
                                               "by",  "without",  "offset",     "atan2"};
        for (size_t i = 0; i < sizeof reserved / sizeof *reserved; i++) {
            if (strcmp(name, reserved[i]) == 0) {
                free(name);
                return perr_at(p, off, "unexpected keyword \"%s\"", reserved[i]);
            }
        }
        if (vector_selector(p, name, off, &e) != 0)
            return -1;
        break;
    }
    default:
        return unexpected(p, "expression");
    }
    *out = e;
    return postfix(p, out);
fail:
    promql_expr_free(e);
    return -1;
}

/* Binary operator of the current token: its op and precedence, or -1. */
static int binop_of(struct parser *p, int *prec)
{
    switch (p->tok.kind) {
    case PQ_T_ADD:
        *prec = 4;
        return PQ_OP_ADD;
    case PQ_T_SUB:
        *prec = 4;
        return PQ_OP_SUB;
    case PQ_T_MUL:
        *prec = 5;
        return PQ_OP_MUL;
    case PQ_T_DIV:
        *prec = 5;
        return PQ_OP_DIV;
    case PQ_T_MOD:
        *prec = 5;
        return PQ_OP_MOD;
    case PQ_T_POW:
        *prec = 6;
        return PQ_OP_POW;
    case PQ_T_EQLC:
        *prec = 3;
        return PQ_OP_EQ;
    case PQ_T_NEQ:
        *prec = 3;
        return PQ_OP_NE;
    case PQ_T_GTR:
        *prec = 3;
        return PQ_OP_GT;
    case PQ_T_LSS:
        *prec = 3;
        return PQ_OP_LT;
    case PQ_T_GTE:
        *prec = 3;
        return PQ_OP_GE;
    case PQ_T_LTE:
        *prec = 3;
        return PQ_OP_LE;
    default:
        break;
    }
    if (tok_is_kw(p, "and")) {
        *prec = 2;
        return PQ_OP_AND;
    }
    if (tok_is_kw(p, "unless")) {
        *prec = 2;
        return PQ_OP_UNLESS;
    }
    if (tok_is_kw(p, "or")) {
        *prec = 1;
        return PQ_OP_OR;
    }
    if (tok_is_kw(p, "atan2")) {
        *prec = 5;
        return PQ_OP_ATAN2;
    }
    return -1;
}

static bool is_comparison(int op)
{
    return op >= PQ_OP_EQ && op <= PQ_OP_LE;
}

static bool is_setop(int op)
{
    return op == PQ_OP_AND || op == PQ_OP_OR || op == PQ_OP_UNLESS;
}

/* bool, on/ignoring (labels), group_left/group_right (labels) after a binary operator. */
static int bin_modifiers(struct parser *p, struct promql_expr *e)
{
    if (tok_is_kw(p, "bool")) {
        e->ret_bool = true;
        if (advance(p) != 0)
            return -1;
    }
    if (tok_is_kw(p, "on") || tok_is_kw(p, "ignoring")) {
        e->on = tok_is_kw(p, "on");
        e->has_matching = true;
        if (advance(p) != 0 || label_list(p, &e->mlabels) != 0)
            return -1;
        if (tok_is_kw(p, "group_left") || tok_is_kw(p, "group_right")) {
            e->card = tok_is_kw(p, "group_left") ? PQ_CARD_MANY_TO_ONE : PQ_CARD_ONE_TO_MANY;
            if (advance(p) != 0)
                return -1;
            if (p->tok.kind == PQ_T_LPAREN && label_list(p, &e->include) != 0)
                return -1;
        }
    }
    return 0;
}

static int check_binary(struct parser *p, struct promql_expr *e, size_t op_off)
{
    enum promql_type lt = e->a->type, rt = e->b->type;
    if ((lt != PROMQL_SCALAR && lt != PROMQL_VECTOR) ||
        (rt != PROMQL_SCALAR && rt != PROMQL_VECTOR))
        return perr_at(p, e->off,
                       "binary expression must contain only scalar and instant vector types");
    if (e->ret_bool && !is_comparison(e->op))
        return perr_at(p, op_off, "bool modifier can only be used on comparison operators");
    if (is_comparison(e->op) && lt == PROMQL_SCALAR && rt == PROMQL_SCALAR && !e->ret_bool)
        return perr_at(p, op_off, "comparisons between scalars must use BOOL modifier");
    if (is_setop(e->op)) {
        if (lt == PROMQL_SCALAR || rt == PROMQL_SCALAR)
            return perr_at(p, op_off, "set operator \"%s\" not allowed in binary scalar expression",
                           pq_binop_str(e->op));
        if (e->card == PQ_CARD_MANY_TO_ONE || e->card == PQ_CARD_ONE_TO_MANY)
            return perr_at(p, op_off, "no grouping allowed for \"%s\" operation",
                           pq_binop_str(e->op));
        e->card = PQ_CARD_MANY_TO_MANY;
    }
    if (e->has_matching && (lt != PROMQL_VECTOR || rt != PROMQL_VECTOR))
        return perr_at(p, op_off, "vector matching only allowed between instant vectors");
    if (e->card == PQ_CARD_MANY_TO_ONE || e->card == PQ_CARD_ONE_TO_MANY) {
        for (size_t i = 0; i < e->include.n; i++)
            for (size_t j = 0; j < e->mlabels.n; j++)
                if (e->on && strcmp(e->include.v[i], e->mlabels.v[j]) == 0)
                    return perr_at(p, op_off,
                                   "label \"%s\" must not occur in ON and GROUP clause at once",
                                   e->include.v[i]);
    }
    e->type = (lt == PROMQL_SCALAR && rt == PROMQL_SCALAR) ? PROMQL_SCALAR : PROMQL_VECTOR;
    return 0;
}

static int parse_expr(struct parser *p, int min_prec, struct promql_expr **out)
{
    if (++p->depth > LW_MAX_PROMQL_DEPTH) {
        p->depth--;
        return perr_at(p, p->tok.off, "expression nested too deeply (more than %d levels)",
                       LW_MAX_PROMQL_DEPTH);
    }
    struct promql_expr *lhs = NULL;
    int rc = -1;
    if (p->tok.kind == PQ_T_ADD || p->tok.kind == PQ_T_SUB) {
        size_t off = p->tok.off;
        int op = p->tok.kind == PQ_T_ADD ? PQ_OP_ADD : PQ_OP_SUB;
        struct promql_expr *operand;
        /* Unary minus binds like `*`: it takes `^` with it (-2^2 == -4). */
        if (advance(p) != 0 || parse_expr(p, 6, &operand) != 0)
            goto done;
        if (operand->type != PROMQL_SCALAR && operand->type != PROMQL_VECTOR) {
            perr_at(p, off,
                    "unary expression only allowed on expressions of type scalar or instant "
                    "vector, got \"%s\"",
                    pq_type_name(operand->type));
            promql_expr_free(operand);
            goto done;
        }
        if (operand->kind == PQ_NUM) {
            if (op == PQ_OP_SUB)
                operand->num = -operand->num;
            operand->off = off;
            lhs = operand;
        } else {
            lhs = node_new(p, PQ_UNARY, off);
            if (lhs == NULL) {
                promql_expr_free(operand);
                goto done;
            }
            lhs->op = op;
            lhs->a = operand;
            lhs->type = operand->type;
        }
    } else if (primary(p, &lhs) != 0) {
        goto done;
    }
    for (;;) {
        int prec;
        size_t op_off = p->tok.off;
        int op = binop_of(p, &prec);
        if (op < 0 || prec < min_prec)
            break;
        struct promql_expr *e = node_new(p, PQ_BIN, lhs->off);
        if (e == NULL)
            goto done;
        e->op = op;
        e->a = lhs;
        lhs = e;
        if (advance(p) != 0 || bin_modifiers(p, e) != 0)
            goto done;
        /* `^` is right-associative, the rest left-associative. */
        if (parse_expr(p, op == PQ_OP_POW ? prec : prec + 1, &e->b) != 0)
            goto done;
        if (check_binary(p, e, op_off) != 0)
            goto done;
    }
    *out = lhs;
    lhs = NULL;
    rc = 0;
done:
    promql_expr_free(lhs);
    p->depth--;
    return rc;
}

int promql_parse(const char *src, size_t len, struct promql_expr **out, struct lw_err *err)
{
    if (len > LW_MAX_PROMQL_BYTES)
        return lw_err_set(err, 1, 1, "expression longer than %u bytes", LW_MAX_PROMQL_BYTES);
    struct parser p = {.lx = {.src = src, .len = len}, .err = err};
    if (advance(&p) != 0)
        return -1;
    if (p.tok.kind == PQ_T_EOF)
        return lw_err_set(err, 1, 1, "no expression found in input");
    struct promql_expr *e;
    if (parse_expr(&p, 0, &e) != 0)
        return -1;
    if (p.tok.kind != PQ_T_EOF) {
        unexpected(&p, NULL);
        promql_expr_free(e);
        return -1;
    }
    *out = e;
    return 0;
}
