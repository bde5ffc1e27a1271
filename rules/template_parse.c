/*
 * template_parse.c — the parser of Go's text/template language (see template.h), after the
 * grammar and messages of Go's text/template/parse: over template_lex.c's tokens it builds the
 * tree with the
 * same scoping of variables (a declaration lives to the {{end}} of its control structure), the
 * same checks (undefined variables and functions, break/continue outside range, non-executable
 * pipeline stages) and the same wording of errors, so that what Prometheus refuses is refused
 * here at the same place. It does not evaluate anything; template_exec.c does.
 */
#include "template_int.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lagwatch/limits.h"

/* ---- parser ---- */

struct parser {
    struct tmpl *t;
    struct lexer lx;
    size_t i; /* next token */
    char **vars;
    size_t nvars, capvars;
    int range_depth;
    int depth;
    struct lw_err *err;
    int failed;
};

void tmpl_pos(const struct tmpl *t, size_t off, int *line, int *col)
{
    int ln = 1;
    size_t bol = 0;
    for (size_t i = 0; i < off && i < t->src_len; i++)
        if (t->src[i] == '\n') {
            ln++;
            bol = i + 1;
        }
    size_t c = off - bol;
    if (ln == 1)
        c = c >= t->prelude_len ? c - t->prelude_len : 0;
    *line = ln;
    *col = (int)c + 1;
}

static void perr(struct parser *p, size_t off, const char *fmt, ...) LW_PRINTF(3, 4);
static void perr(struct parser *p, size_t off, const char *fmt, ...)
{
    if (p->failed)
        return;
    p->failed = 1;
    if (!p->err)
        return;
    int line, col;
    tmpl_pos(p->t, off, &line, &col);
    p->err->line = line;
    p->err->col = col;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->err->msg, sizeof p->err->msg, fmt, ap);
    va_end(ap);
}

static void oom(struct parser *p)
{
    perr(p, 0, "out of memory");
}

static const struct token *peek(struct parser *p)
{
    return &p->lx.toks[p->i];
}

static const struct token *next(struct parser *p)
{
    const struct token *tk = &p->lx.toks[p->i];
    if (tk->t == T_ERROR) {
        perr(p, tk->off, "%s", p->lx.errmsg);
        return tk;
    }
    if (tk->t != T_EOF)
        p->i++;
    return tk;
}

static const struct token *next_non_space(struct parser *p)
{
    const struct token *tk;
    do
        tk = next(p);
    while (tk->t == T_SPACE);
    return tk;
}

static const struct token *peek_non_space(struct parser *p)
{
    while (p->lx.toks[p->i].t == T_SPACE)
        p->i++;
    return &p->lx.toks[p->i];
}

static void backup(struct parser *p)
{
    if (p->i > 0)
        p->i--;
}

/* Go's item.String() for "unexpected X in Y" messages. */
static void tok_desc(const struct parser *p, const struct token *tk, char *out, size_t outlen)
{
    if (tk->t == T_EOF) {
        snprintf(out, outlen, "EOF");
    } else if (tk->t == T_ERROR) {
        snprintf(out, outlen, "%s", p->lx.errmsg);
    } else if (tk->t > T_KEYWORD) {
        snprintf(out, outlen, "<%.*s>", (int)tk->len, p->lx.s + tk->off);
    } else if (tk->t == T_LEFT || tk->t == T_RIGHT) {
        snprintf(out, outlen, "\"%.*s\"", (int)tk->len, p->lx.s + tk->off);
    } else {
        size_t len = tk->len > 10 ? 10 : tk->len;
        struct lw_buf b;
        lw_buf_init(&b, 256);
        (void)lw_buf_addc(&b, '"');
        for (size_t i = 0; i < len; i++) {
            char c = p->lx.s[tk->off + i];
            if (c == '"' || c == '\\')
                (void)lw_buf_addf(&b, "\\%c", c);
            else if (c == '\n')
                (void)lw_buf_adds(&b, "\\n");
            else if (c == '\t')
                (void)lw_buf_adds(&b, "\\t");
            else if ((unsigned char)c < 0x20)
                (void)lw_buf_addf(&b, "\\x%02x", (unsigned char)c);
            else
                (void)lw_buf_addc(&b, c);
        }
        (void)lw_buf_addc(&b, '"');
        snprintf(out, outlen, "%s%s", lw_buf_str(&b), tk->len > 10 ? "..." : "");
        lw_buf_cleanup(&b);
    }
}

static void unexpected(struct parser *p, const struct token *tk, const char *context)
{
    if (tk->t == T_ERROR) {
        perr(p, tk->off, "%s", p->lx.errmsg);
        return;
    }
    char d[128];
    tok_desc(p, tk, d, sizeof d);
    perr(p, tk->off, "unexpected %s in %s", d, context);
}

/* A NUL-terminated copy of len bytes that may themselves hold NULs (strndup would stop). */
static char *memdup0(const char *s, size_t len)
{
    char *d = malloc(len + 1);
    if (d) {
        if (len)
            memcpy(d, s, len);
        d[len] = '\0';
    }
    return d;
}

static struct tnode *node_new(struct parser *p, enum tnode_type type, size_t off)
{
    struct tnode *n = calloc(1, sizeof *n);
    if (!n) {
        oom(p);
        return NULL;
    }
    n->type = type;
    n->off = off;
    n->end = off;
    return n;
}

static void node_free(struct tnode *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->nkids; i++)
        node_free(n->kids[i]);
    free(n->kids);
    free(n->text);
    for (size_t i = 0; i < n->nidents; i++)
        free(n->idents[i]);
    free(n->idents);
    for (size_t i = 0; i < n->ndecl; i++)
        free(n->decl[i]);
    free(n->decl);
    node_free(n->pipe);
    node_free(n->list);
    node_free(n->else_list);
    free(n);
}

/* Append kid to n (kid freed on failure). */
static int node_add(struct parser *p, struct tnode *n, struct tnode *kid)
{
    if (n->nkids == n->capkids) {
        size_t ncap = n->capkids ? n->capkids * 2 : 4;
        struct tnode **k = realloc(n->kids, ncap * sizeof *k);
        if (!k) {
            node_free(kid);
            oom(p);
            return -1;
        }
        n->kids = k;
        n->capkids = ncap;
    }
    n->kids[n->nkids++] = kid;
    return 0;
}

static int add_str(struct parser *p, char ***arr, size_t *n, const char *s, size_t len)
{
    char **a = realloc(*arr, (*n + 1) * sizeof *a);
    if (!a) {
        oom(p);
        return -1;
    }
    *arr = a;
    a[*n] = memdup0(s, len);
    if (!a[*n]) {
        oom(p);
        return -1;
    }
    (*n)++;
    return 0;
}

static int push_var(struct parser *p, const char *name, size_t len)
{
    if (p->nvars == p->capvars) {
        size_t ncap = p->capvars ? p->capvars * 2 : 8;
        char **v = realloc(p->vars, ncap * sizeof *v);
        if (!v) {
            oom(p);
            return -1;
        }
        p->vars = v;
        p->capvars = ncap;
    }
    p->vars[p->nvars] = memdup0(name, len);
    if (!p->vars[p->nvars]) {
        oom(p);
        return -1;
    }
    p->nvars++;
    return 0;
}

static void pop_vars(struct parser *p, size_t n)
{
    while (p->nvars > n)
        free(p->vars[--p->nvars]);
}

/* Go's parse.newNumber: which of int and float64 the literal can be. */
static int parse_number(struct parser *p, const struct token *tk, struct tnode *n)
{
    const char *s = p->lx.s + tk->off;
    size_t len = tk->len;
    if (tk->t == T_CHARCONST) {
        struct lw_buf b;
        lw_buf_init(&b, 64);
        char msg[64] = "invalid syntax";
        uint32_t r = 0;
        int ok = 0;
        if (len >= 3 && s[1] != '\\') {
            size_t rl = tmpl_utf8_rune((const unsigned char *)s + 1, len - 2, &r);
            ok = rl > 0 && rl == len - 2;
        } else if (len >= 4 && s[1] == '\\' && s[2] != '"') {
            /* Reuse the string unquoting with the quote swapped in. */
            char *tmp = memdup0(s, len);
            if (tmp) {
                tmp[0] = tmp[len - 1] = '"';
                if (s[2] == '\'') {
                    r = '\'';
                    ok = len == 4;
                } else if (tmpl_unquote(tmp, len, &b, msg, sizeof msg) == 0) {
                    size_t rl = tmpl_utf8_rune((const unsigned char *)lw_buf_str(&b), b.len, &r);
                    ok = (rl > 0 && rl == b.len) || (b.len == 1);
                    if (b.len == 1)
                        r = (unsigned char)b.data[0];
                }
                free(tmp);
            }
        }
        lw_buf_cleanup(&b);
        if (!ok) {
            perr(p, tk->off, "malformed character constant: %.*s", (int)len, s);
            return -1;
        }
        n->is_int = n->is_float = true;
        n->ival = r;
        n->fval = r;
        return 0;
    }
    if (tk->t == T_COMPLEX || (len > 0 && s[len - 1] == 'i')) {
        perr(p, tk->off, "complex number %.*s is not supported in lagwatch templates", (int)len, s);
        return -1;
    }
    char buf[128];
    size_t bl = 0;
    for (size_t i = 0; i < len && bl + 1 < sizeof buf; i++)
        if (s[i] != '_')
            buf[bl++] = s[i];
    buf[bl] = '\0';
    if (len >= sizeof buf) {
        perr(p, tk->off, "illegal number syntax: \"%.*s\"", (int)(len > 64 ? 64 : len), s);
        return -1;
    }
    const char *q = buf;
    int neg = 0;
    if (*q == '+' || *q == '-')
        neg = *q++ == '-';
    int base = 10;
    const char *digits = q;
    if (q[0] == '0' && (q[1] == 'x' || q[1] == 'X'))
        base = 16, digits = q + 2;
    else if (q[0] == '0' && (q[1] == 'o' || q[1] == 'O'))
        base = 8, digits = q + 2;
    else if (q[0] == '0' && (q[1] == 'b' || q[1] == 'B'))
        base = 2, digits = q + 2;
    else if (q[0] == '0' && q[1] != '\0')
        base = 8, digits = q + 1;
    int hex = base == 16;
    /* Integer? */
    if (*digits != '\0') {
        char *end;
        errno = 0;
        unsigned long long u = strtoull(digits, &end, base);
        if (*end == '\0' && errno == 0 && digits[0] != '-' && digits[0] != '+') {
            if (!neg && u <= (unsigned long long)INT64_MAX) {
                n->is_int = true;
                n->ival = (int64_t)u;
            } else if (neg && u <= (unsigned long long)INT64_MAX + 1) {
                n->is_int = true;
                n->ival = u == (unsigned long long)INT64_MAX + 1 ? INT64_MIN : -(int64_t)u;
            } else {
                perr(p, tk->off, "%.*s overflows int", (int)len, s);
                return -1;
            }
            n->is_float = true;
            n->fval = (double)n->ival;
            return 0;
        }
    }
    /* Float: decimal, or hexadecimal with a p exponent. */
    int ok = 0;
    if (base == 10 || (base == 8 && q[0] == '0' && q[1] != 'o' && q[1] != 'O')) {
        ok = strpbrk(q, "xXpP") == NULL && q[strspn(q, "0123456789.eE+-")] == '\0';
    } else if (hex) {
        ok = strpbrk(q, "pP") != NULL;
    }
    if (ok) {
        char *end;
        errno = 0;
        double f = strtod(buf, &end);
        if (*end == '\0' && end != buf) {
            if (!strpbrk(q, ".eEpP")) {
                perr(p, tk->off, "integer overflow: \"%.*s\"", (int)len, s);
                return -1;
            }
            n->is_float = true;
            n->fval = f;
            if (fabs(f) < 9.2e18 && (double)(int64_t)f == f) {
                n->is_int = true;
                n->ival = (int64_t)f;
            }
            return 0;
        }
    }
    perr(p, tk->off, "illegal number syntax: \"%.*s\"", (int)(len > 64 ? 64 : len), s);
    return -1;
}

static struct tnode *pipeline(struct parser *p, const char *context, enum tok end);
static struct tnode *item_list(struct parser *p, struct tnode **next_out);

static struct tnode *use_var(struct parser *p, const struct token *tk)
{
    const char *s = p->lx.s + tk->off;
    size_t nl = tk->len;
    int found = 0;
    for (size_t i = p->nvars; i-- > 0;)
        if (strlen(p->vars[i]) == nl && memcmp(p->vars[i], s, nl) == 0) {
            found = 1;
            break;
        }
    if (!found) {
        perr(p, tk->off, "undefined variable \"%.*s\"", (int)nl, s);
        return NULL;
    }
    struct tnode *n = node_new(p, TN_VAR, tk->off);
    if (!n)
        return NULL;
    n->end = tk->off + tk->len;
    if (add_str(p, &n->idents, &n->nidents, s, nl) != 0) {
        node_free(n);
        return NULL;
    }
    return n;
}

static struct tnode *term(struct parser *p)
{
    const struct token *tk = next_non_space(p);
    if (p->failed)
        return NULL;
    struct tnode *n = NULL;
    switch (tk->t) {
    case T_IDENT: {
        const struct tmpl_func *f = tmpl_func_find(p->lx.s + tk->off, tk->len);
        if (f && f->refused && (f->dialects & (1u << p->t->dialect))) {
            perr(p, tk->off, "%s", f->refused);
            return NULL;
        }
        if (!f || f->refused || !(f->dialects & (1u << p->t->dialect))) {
            perr(p, tk->off, "function \"%.*s\" not defined", (int)tk->len, p->lx.s + tk->off);
            return NULL;
        }
        n = node_new(p, TN_IDENT, tk->off);
        if (!n)
            return NULL;
        n->fn = f;
        n->text = memdup0(p->lx.s + tk->off, tk->len);
        if (!n->text) {
            node_free(n);
            oom(p);
            return NULL;
        }
        break;
    }
    case T_DOT:
        n = node_new(p, TN_DOT, tk->off);
        break;
    case T_NIL:
        n = node_new(p, TN_NIL, tk->off);
        break;
    case T_VAR:
        return use_var(p, tk);
    case T_FIELD: {
        n = node_new(p, TN_FIELD, tk->off);
        if (n && add_str(p, &n->idents, &n->nidents, p->lx.s + tk->off + 1, tk->len - 1) != 0) {
            node_free(n);
            return NULL;
        }
        break;
    }
    case T_BOOL:
        n = node_new(p, TN_BOOL, tk->off);
        if (n)
            n->b = p->lx.s[tk->off] == 't';
        break;
    case T_CHARCONST:
    case T_COMPLEX:
    case T_NUM:
        n = node_new(p, TN_NUM, tk->off);
        if (n && parse_number(p, tk, n) != 0) {
            node_free(n);
            return NULL;
        }
        if (n) {
            /* Go's idealConstant: a float64 when written like one, else an int. */
            const char *s = p->lx.s + tk->off;
            int hexint = tk->len > 2 && (s[0] == '0' || s[1] == '0') &&
                         (memchr(s, 'x', tk->len) || memchr(s, 'X', tk->len)) &&
                         !memchr(s, 'p', tk->len) && !memchr(s, 'P', tk->len);
            int looks_float = 0;
            for (size_t i = 0; i < tk->len; i++)
                if (strchr(".eEpP", s[i]))
                    looks_float = 1;
            if (tk->t != T_CHARCONST && !hexint && looks_float && n->is_float)
                n->is_int = false; /* printed and compared as float64 */
            else
                n->is_float = false;
        }
        break;
    case T_LPAREN: {
        if (++p->depth > LW_MAX_TMPL_NEST_DEPTH) {
            perr(p, tk->off, "template nested too deeply (more than %d levels)",
                 LW_MAX_TMPL_NEST_DEPTH);
            return NULL;
        }
        n = pipeline(p, "parenthesized pipeline", T_RPAREN);
        p->depth--;
        if (n) {
            n->off = tk->off;
            n->end = p->lx.toks[p->i - 1].off + 1;
        }
        return n;
    }
    case T_STR:
    case T_RAWSTR: {
        struct lw_buf b;
        lw_buf_init(&b, LW_MAX_TMPL_SOURCE_BYTES);
        char msg[64];
        if (tmpl_unquote(p->lx.s + tk->off, tk->len, &b, msg, sizeof msg) != 0) {
            lw_buf_cleanup(&b);
            perr(p, tk->off, "%s", lw_buf_failed(&b) ? "out of memory" : msg);
            return NULL;
        }
        n = node_new(p, TN_STR, tk->off);
        if (n) {
            n->text_len = b.len;
            n->text = lw_buf_take(&b);
            if (!n->text) {
                node_free(n);
                oom(p);
                return NULL;
            }
        }
        lw_buf_cleanup(&b);
        break;
    }
    default:
        backup(p);
        return NULL;
    }
    if (n && n->end == n->off)
        n->end = tk->off + tk->len;
    return n;
}

static struct tnode *operand(struct parser *p)
{
    struct tnode *n = term(p);
    if (!n)
        return NULL;
    if (peek(p)->t != T_FIELD)
        return n;
    if (n->type == TN_BOOL || n->type == TN_STR || n->type == TN_NUM || n->type == TN_NIL ||
        n->type == TN_DOT) {
        struct lw_buf q;
        lw_buf_init(&q, 4096);
        for (size_t i = n->off; i < n->end; i++) {
            char c = p->lx.s[i];
            if (c == '"' || c == '\\')
                (void)lw_buf_addc(&q, '\\');
            (void)lw_buf_addc(&q, c);
        }
        perr(p, peek(p)->off, "unexpected . after term \"%s\"", lw_buf_str(&q));
        lw_buf_cleanup(&q);
        node_free(n);
        return NULL;
    }
    struct tnode *target = n;
    /* Go gives the merged node the position of the first chained field. */
    size_t chain_off = peek(p)->off;
    if (n->type != TN_FIELD && n->type != TN_VAR) {
        target = node_new(p, TN_CHAIN, n->off);
        if (!target) {
            node_free(n);
            return NULL;
        }
        target->pipe = n;
    }
    while (peek(p)->t == T_FIELD) {
        const struct token *tk = next(p);
        if (add_str(p, &target->idents, &target->nidents, p->lx.s + tk->off + 1, tk->len - 1) !=
            0) {
            node_free(target);
            return NULL;
        }
        target->end = tk->off + tk->len;
    }
    target->off = chain_off;
    return target;
}

static struct tnode *command(struct parser *p)
{
    struct tnode *cmd = node_new(p, TN_CMD, peek_non_space(p)->off);
    if (!cmd)
        return NULL;
    for (;;) {
        peek_non_space(p);
        struct tnode *o = operand(p);
        if (p->failed) {
            node_free(cmd);
            return NULL;
        }
        if (o) {
            cmd->end = o->end;
            if (node_add(p, cmd, o) != 0) {
                node_free(cmd);
                return NULL;
            }
        }
        const struct token *tk = next(p);
        if (tk->t == T_SPACE)
            continue;
        if (tk->t == T_RIGHT || tk->t == T_RPAREN) {
            backup(p);
        } else if (tk->t != T_PIPE) {
            unexpected(p, tk, "operand");
            node_free(cmd);
            return NULL;
        }
        break;
    }
    if (cmd->nkids == 0) {
        perr(p, cmd->off, "empty command");
        node_free(cmd);
        return NULL;
    }
    return cmd;
}

static struct tnode *pipeline(struct parser *p, const char *context, enum tok end)
{
    struct tnode *pipe = node_new(p, TN_PIPE, peek_non_space(p)->off);
    if (!pipe)
        return NULL;
    /* Declarations: $x := / $x = / $i, $v := (range). */
    for (;;) {
        const struct token *v = peek_non_space(p);
        if (v->t != T_VAR)
            break;
        size_t save = p->i;
        next(p);
        const struct token *after = peek(p);
        const struct token *nx = peek_non_space(p);
        if (nx->t == T_ASSIGN || nx->t == T_DECLARE) {
            pipe->is_assign = nx->t == T_ASSIGN;
            next_non_space(p);
            if (add_str(p, &pipe->decl, &pipe->ndecl, p->lx.s + v->off, v->len) != 0 ||
                push_var(p, p->lx.s + v->off, v->len) != 0) {
                node_free(pipe);
                return NULL;
            }
            break;
        }
        if (nx->t == T_CHAR && p->lx.s[nx->off] == ',') {
            next_non_space(p);
            if (add_str(p, &pipe->decl, &pipe->ndecl, p->lx.s + v->off, v->len) != 0) {
                node_free(pipe);
                return NULL;
            }
            if (strcmp(context, "range") == 0 && pipe->ndecl < 2) {
                enum tok pk = peek_non_space(p)->t;
                if (pk == T_VAR || pk == T_RIGHT || pk == T_RPAREN)
                    continue;
                perr(p, nx->off, "range can only initialize variables");
            } else {
                perr(p, nx->off, "too many declarations in %s", context);
            }
            node_free(pipe);
            return NULL;
        }
        (void)after;
        p->i = save;
        break;
    }
    /* A "$i, $v :=" pair declares both variables (the first was only recorded). */
    if (pipe->ndecl == 2 && p->nvars > 0) {
        /* push_var happened for the second one only; add the first below it. */
        if (push_var(p, pipe->decl[0], strlen(pipe->decl[0])) != 0) {
            node_free(pipe);
            return NULL;
        }
    }
    for (;;) {
        const struct token *tk = next_non_space(p);
        if (p->failed) {
            node_free(pipe);
            return NULL;
        }
        if (tk->t == end) {
            pipe->end = tk->off;
            if (pipe->nkids == 0) {
                perr(p, tk->off, "missing value for %s", context);
                node_free(pipe);
                return NULL;
            }
            for (size_t i = 1; i < pipe->nkids; i++) {
                enum tnode_type t0 = pipe->kids[i]->kids[0]->type;
                if (t0 == TN_BOOL || t0 == TN_DOT || t0 == TN_NIL || t0 == TN_NUM || t0 == TN_STR) {
                    perr(p, pipe->kids[i]->off, "non executable command in pipeline stage %zu",
                         i + 1);
                    node_free(pipe);
                    return NULL;
                }
            }
            return pipe;
        }
        switch (tk->t) {
        case T_BOOL:
        case T_CHARCONST:
        case T_COMPLEX:
        case T_DOT:
        case T_FIELD:
        case T_IDENT:
        case T_NUM:
        case T_NIL:
        case T_RAWSTR:
        case T_STR:
        case T_VAR:
        case T_LPAREN: {
            backup(p);
            struct tnode *c = command(p);
            if (!c || node_add(p, pipe, c) != 0) {
                node_free(pipe);
                return NULL;
            }
            break;
        }
        default:
            unexpected(p, tk, context);
            node_free(pipe);
            return NULL;
        }
    }
}

static struct tnode *parse_control(struct parser *p, enum tnode_type type, const char *context,
                                   size_t off)
{
    if (++p->depth > LW_MAX_TMPL_NEST_DEPTH) {
        perr(p, off, "template nested too deeply (more than %d levels)", LW_MAX_TMPL_NEST_DEPTH);
        return NULL;
    }
    size_t mark = p->nvars;
    struct tnode *n = node_new(p, type, off);
    if (!n)
        goto fail;
    n->pipe = pipeline(p, context, T_RIGHT);
    if (!n->pipe)
        goto fail;
    if (type == TN_RANGE)
        p->range_depth++;
    struct tnode *nx = NULL;
    n->list = item_list(p, &nx);
    if (type == TN_RANGE)
        p->range_depth--;
    if (!n->list)
        goto fail;
    if (nx->type == TN_ELSE_MARK) {
        /* "else if": the if keyword is pending inside the else's action. */
        if (type == TN_IF && peek(p)->t == T_IF) {
            size_t ioff = next(p)->off;
            n->else_list = node_new(p, TN_LIST, nx->off);
            struct tnode *inner = n->else_list ? parse_control(p, TN_IF, "if", ioff) : NULL;
            node_free(nx);
            if (!inner || node_add(p, n->else_list, inner) != 0)
                goto fail;
        } else {
            node_free(nx);
            nx = NULL;
            n->else_list = item_list(p, &nx);
            if (!n->else_list)
                goto fail;
            if (nx->type != TN_END_MARK) {
                perr(p, nx->off, "expected end; found {{else}}");
                node_free(nx);
                goto fail;
            }
            node_free(nx);
        }
    } else {
        node_free(nx);
    }
    pop_vars(p, mark);
    p->depth--;
    return n;
fail:
    pop_vars(p, mark);
    p->depth--;
    node_free(n);
    return NULL;
}

static struct tnode *action(struct parser *p, size_t left_off);

static struct tnode *text_or_action(struct parser *p)
{
    const struct token *tk = next_non_space(p);
    if (p->failed)
        return NULL;
    if (tk->t == T_TEXT) {
        struct tnode *n = node_new(p, TN_TEXT, tk->off);
        if (!n)
            return NULL;
        n->end = tk->off + tk->len;
        n->text = memdup0(p->lx.s + tk->off, tk->len);
        n->text_len = tk->len;
        if (!n->text) {
            node_free(n);
            oom(p);
            return NULL;
        }
        return n;
    }
    if (tk->t == T_LEFT)
        return action(p, tk->off);
    unexpected(p, tk, "input");
    return NULL;
}

static struct tnode *item_list(struct parser *p, struct tnode **next_out)
{
    struct tnode *list = node_new(p, TN_LIST, peek_non_space(p)->off);
    if (!list)
        return NULL;
    while (peek_non_space(p)->t != T_EOF) {
        struct tnode *n = text_or_action(p);
        if (!n) {
            node_free(list);
            return NULL;
        }
        if (n->type == TN_END_MARK || n->type == TN_ELSE_MARK) {
            *next_out = n;
            return list;
        }
        if (node_add(p, list, n) != 0) {
            node_free(list);
            return NULL;
        }
    }
    if (peek(p)->t == T_ERROR)
        next(p);
    perr(p, peek(p)->off, "unexpected EOF");
    node_free(list);
    return NULL;
}

static int expect_right(struct parser *p, const char *context)
{
    const struct token *tk = next_non_space(p);
    if (tk->t != T_RIGHT) {
        unexpected(p, tk, context);
        return -1;
    }
    return 0;
}

/* Whether a list holds only whitespace text (Go's IsEmptyTree). */
static bool empty_tree(const struct tnode *n)
{
    for (size_t i = 0; i < n->nkids; i++) {
        const struct tnode *k = n->kids[i];
        if (k->type != TN_TEXT)
            return false;
        for (size_t j = 0; j < k->text_len; j++)
            if (!tmpl_is_space((unsigned char)k->text[j]))
                return false;
    }
    return true;
}

/* Add a named tree to the template's set (root freed on failure). */
static int add_def(struct parser *p, const char *name, size_t name_len, struct tnode *root,
                   size_t off)
{
    struct tmpl *t = p->t;
    for (size_t i = 0; i < t->ndefs; i++) {
        if (strlen(t->defs[i].name) == name_len && memcmp(t->defs[i].name, name, name_len) == 0) {
            if (t->defs[i].root == NULL || empty_tree(t->defs[i].root)) {
                node_free(t->defs[i].root);
                t->defs[i].root = root;
                return 0;
            }
            if (!empty_tree(root)) {
                perr(p, off, "template: multiple definition of template \"%.*s\"", (int)name_len,
                     name);
                node_free(root);
                return -1;
            }
            node_free(root);
            return 0;
        }
    }
    struct tdef *d = realloc(t->defs, (t->ndefs + 1) * sizeof *d);
    if (!d) {
        node_free(root);
        oom(p);
        return -1;
    }
    t->defs = d;
    d[t->ndefs].name = memdup0(name, name_len);
    if (!d[t->ndefs].name) {
        node_free(root);
        oom(p);
        return -1;
    }
    d[t->ndefs].root = root;
    t->ndefs++;
    return 0;
}

/* Parse the body of a define or block: a new tree that sees only "$". Returns the name's
 * unquoted text in *name (caller frees) on success. */
static struct tnode *parse_body(struct parser *p, const char *context)
{
    char **saved = p->vars;
    size_t saved_n = p->nvars, saved_cap = p->capvars;
    int saved_range = p->range_depth;
    p->vars = NULL;
    p->nvars = p->capvars = 0;
    p->range_depth = 0;
    struct tnode *nx = NULL, *list = NULL;
    if (push_var(p, "$", 1) == 0)
        list = item_list(p, &nx);
    if (list && nx->type != TN_END_MARK) {
        perr(p, nx->off, "unexpected {{else}} in %s", context);
        node_free(list);
        list = NULL;
    }
    node_free(nx);
    pop_vars(p, 0);
    free(p->vars);
    p->vars = saved;
    p->nvars = saved_n;
    p->capvars = saved_cap;
    p->range_depth = saved_range;
    return list;
}

static char *template_name(struct parser *p, const struct token *tk, const char *context)
{
    if (tk->t != T_STR && tk->t != T_RAWSTR) {
        unexpected(p, tk, context);
        return NULL;
    }
    struct lw_buf b;
    lw_buf_init(&b, LW_MAX_TMPL_SOURCE_BYTES);
    char msg[64];
    if (tmpl_unquote(p->lx.s + tk->off, tk->len, &b, msg, sizeof msg) != 0) {
        perr(p, tk->off, "%s", msg);
        lw_buf_cleanup(&b);
        return NULL;
    }
    char *name = lw_buf_take(&b);
    if (!name)
        oom(p);
    return name;
}

static int parse_definition(struct parser *p)
{
    const struct token *tk = next_non_space(p);
    size_t off = tk->off;
    char *name = template_name(p, tk, "define clause");
    if (!name)
        return -1;
    if (expect_right(p, "define clause") != 0) {
        free(name);
        return -1;
    }
    struct tnode *body = parse_body(p, "define clause");
    int rc = body ? add_def(p, name, strlen(name), body, off) : -1;
    free(name);
    return rc;
}

static struct tnode *template_control(struct parser *p, size_t off, bool block)
{
    const char *context = block ? "block clause" : "template clause";
    const struct token *tk = next_non_space(p);
    char *name = template_name(p, tk, context);
    if (!name)
        return NULL;
    struct tnode *n = node_new(p, TN_TEMPLATE, off);
    if (!n) {
        free(name);
        return NULL;
    }
    n->text = name;
    n->text_len = strlen(name);
    if (block) {
        n->pipe = pipeline(p, context, T_RIGHT);
        if (!n->pipe) {
            node_free(n);
            return NULL;
        }
        struct tnode *body = parse_body(p, context);
        if (!body || add_def(p, name, n->text_len, body, off) != 0) {
            node_free(n);
            return NULL;
        }
    } else if (next_non_space(p)->t != T_RIGHT) {
        backup(p);
        n->pipe = pipeline(p, context, T_RIGHT);
        if (!n->pipe) {
            node_free(n);
            return NULL;
        }
    }
    n->end = p->lx.toks[p->i - 1].off;
    return n;
}

static struct tnode *action(struct parser *p, size_t left_off)
{
    const struct token *tk = next_non_space(p);
    if (p->failed)
        return NULL;
    size_t off = tk->off;
    switch (tk->t) {
    case T_BLOCK:
        return template_control(p, off, true);
    case T_BREAK:
    case T_CONTINUE: {
        bool brk = tk->t == T_BREAK;
        const struct token *r = next_non_space(p);
        if (r->t != T_RIGHT) {
            unexpected(p, r, brk ? "{{break}}" : "{{continue}}");
            return NULL;
        }
        if (p->range_depth == 0) {
            perr(p, off, brk ? "{{break}} outside {{range}}" : "{{continue}} outside {{range}}");
            return NULL;
        }
        return node_new(p, brk ? TN_BREAK : TN_CONTINUE, off);
    }
    case T_ELSE:
        if (peek_non_space(p)->t != T_IF && expect_right(p, "else") != 0)
            return NULL;
        return node_new(p, TN_ELSE_MARK, off);
    case T_END:
        if (expect_right(p, "end") != 0)
            return NULL;
        return node_new(p, TN_END_MARK, off);
    case T_IF:
        return parse_control(p, TN_IF, "if", off);
    case T_RANGE:
        return parse_control(p, TN_RANGE, "range", off);
    case T_WITH:
        return parse_control(p, TN_WITH, "with", off);
    case T_TEMPLATE:
        return template_control(p, off, false);
    default:
        break;
    }
    backup(p);
    struct tnode *n = node_new(p, TN_ACTION, left_off);
    if (!n)
        return NULL;
    n->pipe = pipeline(p, "command", T_RIGHT);
    if (!n->pipe) {
        node_free(n);
        return NULL;
    }
    n->off = n->pipe->off;
    n->end = n->pipe->end;
    return n;
}

static int parse_top(struct parser *p)
{
    struct tnode *root = node_new(p, TN_LIST, 0);
    if (!root)
        return -1;
    while (!p->failed && peek(p)->t != T_EOF) {
        if (peek(p)->t == T_LEFT) {
            size_t save = p->i;
            next(p);
            if (next_non_space(p)->t == T_DEFINE) {
                if (parse_definition(p) != 0)
                    break;
                continue;
            }
            p->i = save;
        }
        struct tnode *n = text_or_action(p);
        if (!n)
            break;
        if (n->type == TN_END_MARK || n->type == TN_ELSE_MARK) {
            perr(p, n->off, "unexpected %s", n->type == TN_END_MARK ? "{{end}}" : "{{else}}");
            node_free(n);
            break;
        }
        if (node_add(p, root, n) != 0)
            break;
    }
    if (p->failed) {
        node_free(root);
        return -1;
    }
    /* The main template is defs[0]; a {{define}} of its own name counts as a redefinition. */
    struct tdef *d = realloc(p->t->defs, (p->t->ndefs + 1) * sizeof *d);
    if (!d) {
        node_free(root);
        oom(p);
        return -1;
    }
    p->t->defs = d;
    for (size_t i = 0; i < p->t->ndefs; i++)
        if (strcmp(d[i].name, p->t->name) == 0) {
            if (!empty_tree(root) && !empty_tree(d[i].root)) {
                perr(p, 0, "template: multiple definition of template \"%s\"", p->t->name);
                node_free(root);
                return -1;
            }
            if (empty_tree(root)) { /* the define wins: move it to the front */
                struct tdef keep = d[i];
                memmove(d + 1, d, i * sizeof *d);
                d[0] = keep;
                node_free(root);
                return 0;
            }
            node_free(d[i].root);
            free(d[i].name);
            memmove(d + i, d + i + 1, (p->t->ndefs - i - 1) * sizeof *d);
            p->t->ndefs--;
            break;
        }
    memmove(d + 1, d, p->t->ndefs * sizeof *d);
    d[0].name = strdup(p->t->name);
    d[0].root = root;
    p->t->ndefs++;
    if (!d[0].name) {
        oom(p);
        return -1;
    }
    return 0;
}

void tmpl_free(struct tmpl *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->ndefs; i++) {
        free(t->defs[i].name);
        node_free(t->defs[i].root);
    }
    free(t->defs);
    free(t->name);
    free(t->src);
    free(t);
}

int tmpl_parse_prelude(const char *name, const char *src, size_t len, size_t prelude_len,
                       enum tmpl_dialect dialect, struct tmpl **out, struct lw_err *err)
{
    if (len > LW_MAX_TMPL_SOURCE_BYTES + prelude_len)
        return lw_err_set(err, 1, 1, "template is larger than %u bytes", LW_MAX_TMPL_SOURCE_BYTES);
    struct tmpl *t = calloc(1, sizeof *t);
    if (!t)
        return lw_err_set(err, 0, 0, "out of memory");
    t->name = strdup(name ? name : "");
    t->src = malloc(len + 1);
    t->src_len = len;
    t->prelude_len = prelude_len;
    t->dialect = dialect;
    if (!t->name || !t->src) {
        tmpl_free(t);
        return lw_err_set(err, 0, 0, "out of memory");
    }
    if (len)
        memcpy(t->src, src, len);
    t->src[len] = '\0';
    struct parser p = {.t = t, .err = err};
    p.lx.s = t->src;
    p.lx.n = len;
    (void)tmpl_lex(&p.lx); /* a lexing error is a T_ERROR token the parser reports in order */
    int rc = -1;
    if (p.lx.oom) {
        lw_err_set(err, 0, 0, "out of memory");
    } else if (push_var(&p, "$", 1) == 0 && parse_top(&p) == 0) {
        rc = 0;
    }
    pop_vars(&p, 0);
    free(p.vars);
    free(p.lx.toks);
    if (rc != 0) {
        tmpl_free(t);
        return -1;
    }
    *out = t;
    return 0;
}

int tmpl_parse(const char *name, const char *src, size_t len, enum tmpl_dialect dialect,
               struct tmpl **out, struct lw_err *err)
{
    return tmpl_parse_prelude(name, src, len, 0, dialect, out, err);
}
