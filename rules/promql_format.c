/*
 * promql_format.c — print an expression tree as Prometheus prints it (parser.Expr.String()), so
 * /api/v1/rules shows the same canonical query text a Prometheus server would: numbers as Go's
 * %v, strings quoted as Go's %q, matchers sorted, `sum by (a) (x)`, `a + on (b) group_left (c) d`.
 */
#include "promql_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lagwatch/duration.h"

/* Go's strconv.FormatFloat(v, 'g', -1, 64) with fmt's %v exponent threshold of 21. */
void pq_format_float(double v, char *out, size_t n)
{
    if (isnan(v)) {
        snprintf(out, n, "NaN");
        return;
    }
    if (isinf(v)) {
        snprintf(out, n, v > 0 ? "+Inf" : "-Inf");
        return;
    }
    if (v == 0) {
        snprintf(out, n, signbit(v) ? "-0" : "0");
        return;
    }
    char e[64];
    int prec;
    for (prec = 0; prec < 17; prec++) {
        snprintf(e, sizeof e, "%.*e", prec, v);
        if (strtod(e, NULL) == v)
            break;
    }
    /* e is "[-]d.ddde[+-]XX": split digits and exponent. */
    char digits[32];
    size_t nd = 0;
    const char *q = e;
    bool neg = false;
    if (*q == '-') {
        neg = true;
        q++;
    }
    for (; *q && *q != 'e'; q++)
        if (*q != '.')
            digits[nd++] = *q;
    digits[nd] = '\0';
    long exp10 = strtol(q + 1, NULL, 10);
    char *o = out;
    size_t left = n;
#define PUT(...)                                 \
    do {                                         \
        int w_ = snprintf(o, left, __VA_ARGS__); \
        if (w_ < 0 || (size_t)w_ >= left)        \
            return;                              \
        o += w_;                                 \
        left -= (size_t)w_;                      \
    } while (0)
    if (neg)
        PUT("-");
    if (exp10 < -4 || exp10 >= 21) {
        PUT("%c", digits[0]);
        if (nd > 1)
            PUT(".%s", digits + 1);
        PUT("e%c%02ld", exp10 < 0 ? '-' : '+', exp10 < 0 ? -exp10 : exp10);
    } else if (exp10 < 0) {
        PUT("0.");
        for (long i = 0; i < -exp10 - 1; i++)
            PUT("0");
        PUT("%s", digits);
    } else {
        for (long i = 0; i <= exp10; i++)
            PUT("%c", (size_t)i < nd ? digits[i] : '0');
        if ((size_t)exp10 + 1 < nd)
            PUT(".%s", digits + exp10 + 1);
    }
#undef PUT
}

void pq_go_quote(struct lw_buf *b, const char *s)
{
    lw_buf_addc(b, '"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        switch (c) {
        case '"':
            lw_buf_adds(b, "\\\"");
            break;
        case '\\':
            lw_buf_adds(b, "\\\\");
            break;
        case '\n':
            lw_buf_adds(b, "\\n");
            break;
        case '\t':
            lw_buf_adds(b, "\\t");
            break;
        case '\r':
            lw_buf_adds(b, "\\r");
            break;
        case '\a':
            lw_buf_adds(b, "\\a");
            break;
        case '\b':
            lw_buf_adds(b, "\\b");
            break;
        case '\f':
            lw_buf_adds(b, "\\f");
            break;
        case '\v':
            lw_buf_adds(b, "\\v");
            break;
        default:
            if (c < 0x20 || c == 0x7f)
                lw_buf_addf(b, "\\x%02x", c);
            else
                lw_buf_addc(b, (char)c);
        }
    }
    lw_buf_addc(b, '"');
}

static void put_strs(struct lw_buf *b, const struct pq_strs *s)
{
    lw_buf_addc(b, '(');
    for (size_t i = 0; i < s->n; i++) {
        if (i)
            lw_buf_adds(b, ", ");
        lw_buf_adds(b, s->v[i]);
    }
    lw_buf_addc(b, ')');
}

static void put_duration(struct lw_buf *b, int64_t ms)
{
    char d[40];
    lw_buf_adds(b, duration_format(ms, d, sizeof d));
}

static void put_at_offset(struct lw_buf *b, const struct promql_expr *e)
{
    if (e->at == PQ_AT_TS)
        lw_buf_addf(b, " @ %.3f", (double)e->at_ms / 1000.0);
    else if (e->at == PQ_AT_START)
        lw_buf_adds(b, " @ start()");
    else if (e->at == PQ_AT_END)
        lw_buf_adds(b, " @ end()");
    if (e->offset_ms > 0) {
        lw_buf_adds(b, " offset ");
        put_duration(b, e->offset_ms);
    } else if (e->offset_ms < 0) {
        lw_buf_adds(b, " offset -");
        put_duration(b, -e->offset_ms);
    }
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Whether s is a name PromQL accepts unquoted ([a-zA-Z_:][a-zA-Z0-9_:]*, no ':' for labels). */
static bool plain_name(const char *s, bool colon_ok)
{
    if (s[0] == '\0' || (s[0] >= '0' && s[0] <= '9'))
        return false;
    for (; *s; s++) {
        char c = *s;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || (colon_ok && c == ':')))
            return false;
    }
    return true;
}

static void put_selector(struct lw_buf *b, const struct promql_expr *e)
{
    /* A name that is not a plain identifier goes inside the braces, quoted, as Prometheus 3
     * prints UTF-8 metric names. */
    bool quoted_name = e->name && !plain_name(e->name, true);
    if (e->name && !quoted_name)
        lw_buf_adds(b, e->name);
    char **parts = calloc(e->n_ms ? e->n_ms : 1, sizeof *parts);
    if (parts == NULL) {
        b->failed = 1;
        return;
    }
    size_t np = 0;
    for (size_t i = 0; i < e->n_ms; i++) {
        const struct lw_matcher *m = &e->ms[i];
        if (e->name && m->op == LW_MATCH_EQ && strcmp(m->name, "__name__") == 0 &&
            strcmp(m->value, e->name) == 0 && m->value[0])
            continue;
        struct lw_buf t;
        lw_buf_init(&t, 1u << 20);
        if (plain_name(m->name, false))
            lw_buf_adds(&t, m->name);
        else
            pq_go_quote(&t, m->name);
        lw_buf_adds(&t, lw_match_op_str(m->op));
        pq_go_quote(&t, m->value);
        if (lw_buf_failed(&t)) {
            lw_buf_cleanup(&t);
            b->failed = 1;
            continue;
        }
        parts[np++] = lw_buf_take(&t);
    }
    qsort(parts, np, sizeof *parts, cmp_str);
    if (quoted_name) {
        lw_buf_addc(b, '{');
        pq_go_quote(b, e->name);
        for (size_t i = 0; i < np; i++) {
            lw_buf_addc(b, ',');
            lw_buf_adds(b, parts[i]);
            free(parts[i]);
        }
        lw_buf_addc(b, '}');
    } else if (np) {
        lw_buf_addc(b, '{');
        for (size_t i = 0; i < np; i++) {
            if (i)
                lw_buf_addc(b, ',');
            lw_buf_adds(b, parts[i]);
            free(parts[i]);
        }
        lw_buf_addc(b, '}');
    }
    free(parts);
}

static void put_expr(struct lw_buf *b, const struct promql_expr *e)
{
    char num[64];
    switch (e->kind) {
    case PQ_NUM:
        pq_format_float(e->num, num, sizeof num);
        lw_buf_adds(b, num);
        break;
    case PQ_STR:
        pq_go_quote(b, e->str);
        break;
    case PQ_VSEL:
        put_selector(b, e);
        put_at_offset(b, e);
        break;
    case PQ_MSEL:
        put_selector(b, e->a);
        lw_buf_addc(b, '[');
        put_duration(b, e->range_ms);
        lw_buf_addc(b, ']');
        put_at_offset(b, e->a);
        break;
    case PQ_SUBQ:
        put_expr(b, e->a);
        lw_buf_addc(b, '[');
        put_duration(b, e->range_ms);
        lw_buf_addc(b, ':');
        if (e->step_ms)
            put_duration(b, e->step_ms);
        lw_buf_addc(b, ']');
        put_at_offset(b, e);
        break;
    case PQ_PAREN:
        lw_buf_addc(b, '(');
        put_expr(b, e->a);
        lw_buf_addc(b, ')');
        break;
    case PQ_UNARY:
        lw_buf_adds(b, e->op == PQ_OP_SUB ? "-" : "+");
        put_expr(b, e->a);
        break;
    case PQ_BIN:
        put_expr(b, e->a);
        lw_buf_addf(b, " %s", pq_binop_str(e->op));
        if (e->ret_bool)
            lw_buf_adds(b, " bool");
        if (e->has_matching && (e->mlabels.n > 0 || e->on)) {
            lw_buf_adds(b, e->on ? " on " : " ignoring ");
            put_strs(b, &e->mlabels);
            if (e->card == PQ_CARD_MANY_TO_ONE || e->card == PQ_CARD_ONE_TO_MANY) {
                lw_buf_adds(b, e->card == PQ_CARD_MANY_TO_ONE ? " group_left " : " group_right ");
                put_strs(b, &e->include);
            }
        }
        lw_buf_addc(b, ' ');
        put_expr(b, e->b);
        break;
    case PQ_AGG:
        lw_buf_adds(b, pq_agg_str(e->agg));
        if (e->without || e->grouping.n > 0) {
            lw_buf_adds(b, e->without ? " without " : " by ");
            put_strs(b, &e->grouping);
            lw_buf_addc(b, ' ');
        }
        lw_buf_addc(b, '(');
        if (e->param) {
            put_expr(b, e->param);
            lw_buf_adds(b, ", ");
        }
        put_expr(b, e->a);
        lw_buf_addc(b, ')');
        break;
    case PQ_CALL:
        lw_buf_adds(b, e->fn->name);
        lw_buf_addc(b, '(');
        for (size_t i = 0; i < e->n_args; i++) {
            if (i)
                lw_buf_adds(b, ", ");
            put_expr(b, e->args[i]);
        }
        lw_buf_addc(b, ')');
        break;
    }
}

int promql_format_expr(const struct promql_expr *e, struct lw_buf *out)
{
    put_expr(out, e);
    return lw_buf_failed(out) ? -1 : 0;
}
