/*
 * template_exec.c — executes a parsed template (see template.h) with the semantics of Go's
 * text/template/exec.go: the value of a pipeline flows into the last argument of the next
 * command, variables are pushed by declarations and popped at the end of the enclosing control
 * structure, range walks lists in order and maps in sorted key order, and errors read as Go's
 * ("executing \"name\" at <node>: ..."). Every node evaluated and every range iteration counts
 * against LW_MAX_TMPL_STEPS; output and {{template}} depth are bounded too. The functions
 * themselves live in template_func.c.
 */
#include "template_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lagwatch/limits.h"

struct var {
    const char *name;
    struct tmpl_value *v; /* NULL: Go's invalid reflect.Value ("<no value>") */
};

enum flow { FLOW_NORMAL, FLOW_BREAK, FLOW_CONTINUE };

struct tmpl_exec_state {
    const struct tmpl *t;
    const struct tdef *cur;
    struct lw_buf *out;
    size_t out_start;
    struct var *vars;
    size_t nvars, capvars;
    unsigned long steps;
    int depth;
    enum flow flow;
    const char *external_url;
    struct lw_err *err;
    int failed;
    const struct tnode *at;   /* the node Go's s.at() last named: context of some errors */
    size_t work_bytes;        /* bytes of strings functions returned (LW_MAX_TMPL_WORK_BYTES) */
    struct timespec deadline; /* fuse: LW_MAX_TMPL_EXEC_MS after the start */
    int timed_out;
};

/* Whether the execution ran past its time fuse. The clock is read only here: it bounds a
 * pathological template (backtracking regexps, huge loops within the step budget), it never
 * decides what a template renders. */
bool tmpl_exec_overdue(struct tmpl_exec_state *st)
{
    if (st->timed_out)
        return true;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    if (now.tv_sec > st->deadline.tv_sec ||
        (now.tv_sec == st->deadline.tv_sec && now.tv_nsec > st->deadline.tv_nsec))
        st->timed_out = 1;
    return st->timed_out;
}

const char *tmpl_exec_external_url(const struct tmpl_exec_state *st)
{
    return st->external_url ? st->external_url : "";
}

/* Go's Node.String() of an argument or command, for "at <...>" contexts. */
static void node_string(const struct tmpl *t, const struct tnode *n, struct lw_buf *b)
{
    switch (n->type) {
    case TN_CMD:
        for (size_t i = 0; i < n->nkids; i++) {
            if (i)
                (void)lw_buf_addc(b, ' ');
            if (n->kids[i]->type == TN_PIPE) {
                (void)lw_buf_addc(b, '(');
                node_string(t, n->kids[i], b);
                (void)lw_buf_addc(b, ')');
            } else {
                node_string(t, n->kids[i], b);
            }
        }
        break;
    case TN_PIPE:
        for (size_t i = 0; i < n->ndecl; i++)
            (void)lw_buf_addf(b, "%s%s", i ? ", " : "", n->decl[i]);
        if (n->ndecl)
            (void)lw_buf_adds(b, n->is_assign ? " = " : " := ");
        for (size_t i = 0; i < n->nkids; i++) {
            if (i)
                (void)lw_buf_adds(b, " | ");
            node_string(t, n->kids[i], b);
        }
        break;
    case TN_FIELD:
        for (size_t i = 0; i < n->nidents; i++)
            (void)lw_buf_addf(b, ".%s", n->idents[i]);
        break;
    case TN_VAR:
        for (size_t i = 0; i < n->nidents; i++)
            (void)lw_buf_addf(b, "%s%s", i ? "." : "", n->idents[i]);
        break;
    case TN_CHAIN:
        if (n->pipe->type == TN_PIPE) {
            (void)lw_buf_addc(b, '(');
            node_string(t, n->pipe, b);
            (void)lw_buf_addc(b, ')');
        } else {
            node_string(t, n->pipe, b);
        }
        for (size_t i = 0; i < n->nidents; i++)
            (void)lw_buf_addf(b, ".%s", n->idents[i]);
        break;
    case TN_DOT:
        (void)lw_buf_addc(b, '.');
        break;
    case TN_NIL:
        (void)lw_buf_adds(b, "nil");
        break;
    case TN_BOOL:
        (void)lw_buf_adds(b, n->b ? "true" : "false");
        break;
    case TN_IDENT:
        (void)lw_buf_adds(b, n->text);
        break;
    case TN_NUM:
    case TN_STR:
        (void)lw_buf_add(b, t->src + n->off, n->end - n->off);
        break;
    case TN_TEMPLATE:
        (void)lw_buf_addf(b, "{{template \"%s\"", n->text);
        if (n->pipe) {
            (void)lw_buf_addc(b, ' ');
            node_string(t, n->pipe, b);
        }
        (void)lw_buf_adds(b, "}}");
        break;
    case TN_ACTION:
        (void)lw_buf_adds(b, "{{");
        node_string(t, n->pipe, b);
        (void)lw_buf_adds(b, "}}");
        break;
    default:
        (void)lw_buf_add(b, t->src + n->off, n->end > n->off ? n->end - n->off : 0);
        break;
    }
}

static int xerr(struct tmpl_exec_state *st, const struct tnode *at, const char *fmt, ...)
    LW_PRINTF(3, 4);
static int xerr(struct tmpl_exec_state *st, const struct tnode *at, const char *fmt, ...)
{
    if (st->failed)
        return -1;
    st->failed = 1;
    if (!st->err)
        return -1;
    char msg[LW_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (at) {
        tmpl_pos(st->t, at->off, &st->err->line, &st->err->col);
        struct lw_buf ctx;
        lw_buf_init(&ctx, 4096);
        node_string(st->t, at, &ctx);
        struct lw_buf full;
        lw_buf_init(&full, 8192);
        (void)lw_buf_addf(&full, "executing \"%s\" at <%s>: %s", st->cur->name, lw_buf_str(&ctx),
                          msg);
        size_t n = full.len < sizeof st->err->msg ? full.len : sizeof st->err->msg - 1;
        memcpy(st->err->msg, lw_buf_str(&full), n);
        st->err->msg[n] = '\0';
        lw_buf_cleanup(&full);
        lw_buf_cleanup(&ctx);
    } else {
        st->err->line = st->err->col = 0;
        snprintf(st->err->msg, sizeof st->err->msg, "%s", msg);
    }
    return -1;
}

static int step(struct tmpl_exec_state *st, const struct tnode *at)
{
    if (++st->steps > LW_MAX_TMPL_STEPS)
        return xerr(st, at, "template evaluation exceeded %u steps", LW_MAX_TMPL_STEPS);
    if ((st->steps & 1023) == 0 && tmpl_exec_overdue(st))
        return xerr(st, at, "template evaluation took longer than %d ms", LW_MAX_TMPL_EXEC_MS);
    return 0;
}

static int emit(struct tmpl_exec_state *st, const struct tnode *at, const char *s, size_t len)
{
    if (st->out->len - st->out_start + len > LW_MAX_TMPL_OUTPUT_BYTES ||
        lw_buf_add(st->out, s, len) != 0)
        return xerr(st, at, "template output exceeds %u bytes", LW_MAX_TMPL_OUTPUT_BYTES);
    return 0;
}

static int push_var(struct tmpl_exec_state *st, const char *name, struct tmpl_value *v)
{
    if (st->nvars == st->capvars) {
        size_t ncap = st->capvars ? st->capvars * 2 : 16;
        struct var *p = realloc(st->vars, ncap * sizeof *p);
        if (!p) {
            tmpl_value_unref(v);
            return xerr(st, NULL, "out of memory");
        }
        st->vars = p;
        st->capvars = ncap;
    }
    st->vars[st->nvars].name = name;
    st->vars[st->nvars].v = v;
    st->nvars++;
    return 0;
}

static void pop_vars(struct tmpl_exec_state *st, size_t mark)
{
    while (st->nvars > mark)
        tmpl_value_unref(st->vars[--st->nvars].v);
}

static struct tmpl_value *ref(const struct tmpl_value *v)
{
    return tmpl_value_ref((struct tmpl_value *)v);
}

/* ---- evaluation ---- */

static int eval_pipeline(struct tmpl_exec_state *st, const struct tmpl_value *dot,
                         const struct tnode *pipe, struct tmpl_value **out);

/* Sentinel for "no final value" (Go's missingVal). */
static struct tmpl_value missing_sentinel;
#define MISSING (&missing_sentinel)

static int not_a_function(struct tmpl_exec_state *st, const struct tnode *cmd,
                          const struct tmpl_value *final)
{
    if ((cmd && cmd->nkids > 1) || final != MISSING) {
        struct lw_buf b;
        lw_buf_init(&b, 4096);
        node_string(st->t, cmd ? cmd->kids[0] : NULL, &b);
        xerr(st, cmd ? cmd->kids[0] : NULL, "can't give argument to non-function %s",
             lw_buf_str(&b));
        lw_buf_cleanup(&b);
        return -1;
    }
    return 0;
}

/* Go's evalField on one receiver; nargs: arguments the command gives the last field. */
static int eval_field(struct tmpl_exec_state *st, const struct tnode *node, const char *name,
                      size_t nargs, const struct tmpl_value *recv, struct tmpl_value **out)
{
    /* Go names the node it last evaluated, which for a chain is inside its operand. */
    const struct tnode *at = st->at ? st->at : node;
    *out = NULL;
    if (!recv)
        return 0; /* field of no value is no value (Go: zero) */
    const struct tmpl_value *m = tmpl_value_method(recv, name);
    if (m) { /* methods first, as Go looks them up before fields and map keys */
        if (nargs > 0)
            return xerr(st, at, "wrong number of args for %s: want 0 got %zu", name, nargs);
        *out = ref(m);
        return 0;
    }
    if (recv->kind == TMPL_MAP && recv->is_struct) {
        const struct tmpl_value *f = tmpl_value_get(recv, name);
        if (f) {
            if (nargs > 0)
                return xerr(st, at, "%s has arguments but cannot be invoked as function", name);
            *out = ref(f);
            return 0;
        }
    } else if (recv->kind == TMPL_MAP) {
        if (nargs > 0)
            return xerr(st, at, "%s is not a method but has arguments", name);
        const struct tmpl_value *f = tmpl_value_get(recv, name);
        if (f) {
            *out = ref(f);
            return 0;
        }
        /* missingkey=zero (Prometheus and Alertmanager both set it): the element's zero. */
        *out = recv->string_elems ? tmpl_value_str("") : tmpl_value_nil();
        return *out ? 0 : xerr(st, at, "out of memory");
    } else if (recv->kind == TMPL_NIL) {
        return xerr(st, at, "nil pointer evaluating interface {}.%s", name);
    }
    return xerr(st, at, "can't evaluate field %s in type %s", name, tmpl_go_type(recv));
}

static int eval_field_chain(struct tmpl_exec_state *st, const struct tnode *at,
                            const struct tmpl_value *recv, char *const *idents, size_t n,
                            size_t nargs, struct tmpl_value **out)
{
    struct tmpl_value *cur = ref(recv);
    for (size_t i = 0; i < n; i++) {
        struct tmpl_value *nx;
        if (eval_field(st, at, idents[i], i + 1 == n ? nargs : 0, cur, &nx) != 0) {
            tmpl_value_unref(cur);
            return -1;
        }
        tmpl_value_unref(cur);
        cur = nx;
    }
    *out = cur;
    return 0;
}

static struct tmpl_value *var_value(struct tmpl_exec_state *st, const char *name, bool *found)
{
    for (size_t i = st->nvars; i-- > 0;)
        if (strcmp(st->vars[i].name, name) == 0) {
            *found = true;
            return st->vars[i].v;
        }
    *found = false;
    return NULL;
}

static int eval_function(struct tmpl_exec_state *st, const struct tmpl_value *dot,
                         const struct tnode *cmd, struct tmpl_value *final,
                         struct tmpl_value **out);

/* An argument of a command, as evalArg converts it for a parameter of kind 'a', 'v' or 's'
 * (or 0: a command operand with no declared type). */
static int eval_arg(struct tmpl_exec_state *st, const struct tmpl_value *dot, char kind,
                    const struct tnode *n, struct tmpl_value **out)
{
    *out = NULL;
    if (step(st, n) != 0)
        return -1;
    st->at = n;
    struct tmpl_value *v = NULL;
    bool computed = true;
    switch (n->type) {
    case TN_DOT:
        v = ref(dot);
        break;
    case TN_FIELD:
        if (eval_field_chain(st, n, dot, n->idents, n->nidents, 0, &v) != 0)
            return -1;
        break;
    case TN_VAR: {
        bool found;
        struct tmpl_value *base = var_value(st, n->idents[0], &found);
        if (!found)
            return xerr(st, n, "undefined variable: %s", n->idents[0]);
        if (eval_field_chain(st, n, base, n->idents + 1, n->nidents - 1, 0, &v) != 0)
            return -1;
        break;
    }
    case TN_PIPE:
        if (eval_pipeline(st, dot, n, &v) != 0)
            return -1;
        break;
    case TN_IDENT: {
        /* A function called with no arguments (Go builds a command of the identifier alone). */
        struct tnode cmd = {.type = TN_CMD, .off = n->off, .end = n->end};
        const struct tnode *kid = n;
        cmd.kids = (struct tnode **)&kid;
        cmd.nkids = 1;
        if (eval_function(st, dot, &cmd, MISSING, &v) != 0)
            return -1;
        break;
    }
    case TN_CHAIN: {
        if (n->pipe->type == TN_NIL)
            return xerr(st, n, "indirection through explicit nil in %s", "nil");
        struct tmpl_value *base;
        if (eval_arg(st, dot, 0, n->pipe, &base) != 0)
            return -1;
        int rc = eval_field_chain(st, n, base, n->idents, n->nidents, 0, &v);
        tmpl_value_unref(base);
        if (rc != 0)
            return -1;
        break;
    }
    default:
        computed = false;
        break;
    }
    if (computed) {
        if (kind == 's' && (!v || v->kind != TMPL_STR)) {
            if (!v) {
                return xerr(st, n, "invalid value; expected string");
            }
            xerr(st, n, "wrong type for value; expected string; got %s", tmpl_go_type(v));
            tmpl_value_unref(v);
            return -1;
        }
        if (kind == 'v' && !v)
            return xerr(st, n, "invalid value; expected reflect.Value");
        if (kind == 'a' && !v) {
            v = tmpl_value_nil();
            if (!v)
                return xerr(st, n, "out of memory");
        }
        *out = v;
        return 0;
    }
    /* Literals. */
    struct lw_buf lit;
    lw_buf_init(&lit, 4096);
    node_string(st->t, n, &lit);
    int rc = 0;
    switch (n->type) {
    case TN_NIL:
        if (kind == 'a' || kind == 0)
            v = tmpl_value_nil();
        else
            rc = xerr(st, n, "cannot assign nil to %s", kind == 's' ? "string" : "reflect.Value");
        break;
    case TN_BOOL:
        if (kind == 's')
            rc = xerr(st, n, "expected string; found %s", lw_buf_str(&lit));
        else
            v = tmpl_value_bool(n->b);
        break;
    case TN_NUM:
        if (kind == 's')
            rc = xerr(st, n, "expected string; found %s", lw_buf_str(&lit));
        else if (n->is_float)
            v = tmpl_value_num(n->fval);
        else if (n->is_int)
            v = tmpl_value_int(n->ival);
        else
            rc = xerr(st, n, "%s overflows int", lw_buf_str(&lit));
        break;
    case TN_STR:
        v = tmpl_value_strn(n->text, n->text_len);
        break;
    default:
        rc = xerr(st, n, "can't handle %s for arg", lw_buf_str(&lit));
        break;
    }
    lw_buf_cleanup(&lit);
    if (rc != 0)
        return -1;
    if (!v)
        return xerr(st, n, "out of memory");
    *out = v;
    return 0;
}

/* Check the piped value against a parameter kind (validateType). Takes final's reference. */
static int validate_final(struct tmpl_exec_state *st, const struct tnode *at, char kind,
                          struct tmpl_value *final, struct tmpl_value **out)
{
    *out = NULL;
    if (kind == 's' && (!final || final->kind != TMPL_STR)) {
        if (!final)
            return xerr(st, at, "invalid value; expected string");
        xerr(st, at, "wrong type for value; expected string; got %s", tmpl_go_type(final));
        tmpl_value_unref(final);
        return -1;
    }
    if (kind == 'v' && !final)
        return xerr(st, at, "invalid value; expected reflect.Value");
    if (kind == 'a' && !final) {
        final = tmpl_value_nil();
        if (!final)
            return xerr(st, at, "out of memory");
    }
    *out = final;
    return 0;
}

#define MAX_CALL_ARGS 64

static int eval_function(struct tmpl_exec_state *st, const struct tmpl_value *dot,
                         const struct tnode *cmd, struct tmpl_value *final, struct tmpl_value **out)
{
    const struct tnode *id = cmd->kids[0];
    const struct tmpl_func *f = id->fn;
    st->at = id;
    size_t nargs = cmd->nkids - 1;
    size_t nin = nargs + (final != MISSING ? 1 : 0);
    size_t nparams = strlen(f->params);
    int bad = 0;
    if (f->variadic) {
        if (nin < nparams - 1)
            bad = xerr(st, id, "wrong number of args for %s: want at least %zu got %zu", f->name,
                       nparams - 1, nargs);
    } else if (nin != nparams) {
        bad = xerr(st, id, "wrong number of args for %s: want %zu got %zu", f->name, nparams, nin);
    }
    if (!bad && nin > MAX_CALL_ARGS)
        bad = xerr(st, id, "too many arguments for %s (at most %d)", f->name, MAX_CALL_ARGS);
    if (bad) {
        if (final != MISSING) /* final is ours to release on every path */
            tmpl_value_unref(final);
        return -1;
    }
    /* and/or short-circuit: evaluate left to right, stop at the deciding value. */
    if (strcmp(f->name, "and") == 0 || strcmp(f->name, "or") == 0) {
        bool want = f->name[0] == 'o';
        struct tmpl_value *v = NULL;
        for (size_t i = 0; i < nargs; i++) {
            tmpl_value_unref(v);
            if (eval_arg(st, dot, 'v', cmd->kids[i + 1], &v) != 0) {
                if (final != MISSING)
                    tmpl_value_unref(final);
                return -1;
            }
            if (tmpl_truth(v) == want) {
                if (final != MISSING)
                    tmpl_value_unref(final);
                *out = v;
                return 0;
            }
        }
        if (final != MISSING) {
            tmpl_value_unref(v);
            if (validate_final(st, cmd, 'v', final, &v) != 0)
                return -1;
        }
        *out = v;
        return 0;
    }
    struct tmpl_value *argv[MAX_CALL_ARGS];
    size_t n = 0;
    int rc = 0;
    for (size_t i = 0; i < nargs; i++) {
        char kind = i < nparams ? f->params[i] : f->params[nparams - 1];
        if (eval_arg(st, dot, kind, cmd->kids[i + 1], &argv[n]) != 0) {
            rc = -1;
            break;
        }
        n++;
    }
    if (final != MISSING) {
        if (rc == 0) {
            size_t i = nin - 1;
            char kind = i < nparams ? f->params[i] : f->params[nparams - 1];
            if (validate_final(st, st->at ? st->at : cmd, kind, final, &argv[n]) != 0)
                rc = -1;
            else
                n++;
        } else {
            tmpl_value_unref(final);
        }
    }
    if (rc == 0) {
        char msg[LW_ERR_MSG_MAX - 64];
        msg[0] = '\0';
        struct tmpl_value *res = NULL;
        if (f->call(st, argv, n, &res, msg, sizeof msg) != 0) {
            if (st->timed_out)
                xerr(st, cmd, "template evaluation took longer than %d ms", LW_MAX_TMPL_EXEC_MS);
            else if (!st->failed)
                xerr(st, cmd, "error calling %s: %s", f->name, msg);
            rc = -1;
        } else if (res && res->kind == TMPL_STR &&
                   (st->work_bytes += res->len) > LW_MAX_TMPL_WORK_BYTES) {
            tmpl_value_unref(res);
            rc = xerr(st, cmd, "template functions built more than %u bytes",
                      LW_MAX_TMPL_WORK_BYTES);
        } else {
            *out = res;
        }
    }
    for (size_t i = 0; i < n; i++)
        tmpl_value_unref(argv[i]);
    return rc;
}

/* One command of a pipeline; final is the previous command's value (MISSING for the first),
 * whose reference it takes. */
static int eval_command(struct tmpl_exec_state *st, const struct tmpl_value *dot,
                        const struct tnode *cmd, struct tmpl_value *final, struct tmpl_value **out)
{
    const struct tnode *first = cmd->kids[0];
    size_t nargs = cmd->nkids - 1 + (final != MISSING ? 1 : 0);
    bool has_args = nargs > 0;
    *out = NULL;
    if (step(st, cmd) != 0) {
        if (final != MISSING)
            tmpl_value_unref(final);
        return -1;
    }
    st->at = first;
    switch (first->type) {
    case TN_IDENT:
        return eval_function(st, dot, cmd, final, out);
    case TN_FIELD:
    case TN_CHAIN:
    case TN_VAR: {
        if (final != MISSING)
            tmpl_value_unref(final);
        if (first->type == TN_VAR && first->nidents == 1) {
            if (not_a_function(st, cmd, has_args ? NULL : MISSING) != 0)
                return -1;
            return eval_arg(st, dot, 0, first, out);
        }
        struct tmpl_value *base = NULL;
        const struct tmpl_value *recv = dot;
        char *const *idents = first->idents;
        size_t nid = first->nidents;
        if (first->type == TN_VAR) {
            bool found;
            recv = var_value(st, first->idents[0], &found);
            if (!found)
                return xerr(st, first, "undefined variable: %s", first->idents[0]);
            idents++;
            nid--;
        } else if (first->type == TN_CHAIN) {
            if (first->pipe->type == TN_NIL)
                return xerr(st, first, "indirection through explicit nil in %s", "nil");
            if (eval_arg(st, dot, 0, first->pipe, &base) != 0)
                return -1;
            recv = base;
        }
        int rc = eval_field_chain(st, first, recv, idents, nid, nargs, out);
        tmpl_value_unref(base);
        return rc;
    }
    case TN_PIPE:
        if (final != MISSING)
            tmpl_value_unref(final);
        if (not_a_function(st, cmd, has_args ? NULL : MISSING) != 0)
            return -1;
        return eval_pipeline(st, dot, first, out);
    default:
        break;
    }
    if (final != MISSING)
        tmpl_value_unref(final);
    if (first->type == TN_NIL) {
        if (not_a_function(st, cmd, has_args ? NULL : MISSING) != 0)
            return -1;
        return xerr(st, first, "nil is not a command");
    }
    if (not_a_function(st, cmd, has_args ? NULL : MISSING) != 0)
        return -1;
    return eval_arg(st, dot, 0, first, out);
}

static int set_var(struct tmpl_exec_state *st, const struct tnode *at, const char *name,
                   struct tmpl_value *v)
{
    for (size_t i = st->nvars; i-- > 0;)
        if (strcmp(st->vars[i].name, name) == 0) {
            tmpl_value_unref(st->vars[i].v);
            st->vars[i].v = v;
            return 0;
        }
    tmpl_value_unref(v);
    return xerr(st, at, "undefined variable: %s", name);
}

static int eval_pipeline(struct tmpl_exec_state *st, const struct tmpl_value *dot,
                         const struct tnode *pipe, struct tmpl_value **out)
{
    struct tmpl_value *v = MISSING;
    for (size_t i = 0; i < pipe->nkids; i++) {
        struct tmpl_value *nv;
        if (eval_command(st, dot, pipe->kids[i], v, &nv) != 0)
            return -1;
        /* Go digs into interface{} results: a nil interface becomes no value at all. */
        if (nv && nv->kind == TMPL_NIL) {
            tmpl_value_unref(nv);
            nv = NULL;
        }
        v = nv;
    }
    if (v == MISSING)
        v = NULL;
    for (size_t i = 0; i < pipe->ndecl; i++) {
        int rc = pipe->is_assign ? set_var(st, pipe, pipe->decl[i], ref(v))
                                 : push_var(st, pipe->decl[i], ref(v));
        if (rc != 0) {
            tmpl_value_unref(v);
            return -1;
        }
    }
    *out = v;
    return 0;
}

static int walk(struct tmpl_exec_state *st, const struct tmpl_value *dot, const struct tnode *n);

static int walk_list(struct tmpl_exec_state *st, const struct tmpl_value *dot,
                     const struct tnode *list)
{
    for (size_t i = 0; list && i < list->nkids; i++) {
        if (walk(st, dot, list->kids[i]) != 0)
            return -1;
        if (st->flow != FLOW_NORMAL)
            return 0;
    }
    return 0;
}

static int walk_range(struct tmpl_exec_state *st, const struct tmpl_value *dot,
                      const struct tnode *n)
{
    size_t mark = st->nvars;
    struct tmpl_value *val;
    if (eval_pipeline(st, dot, n->pipe, &val) != 0) {
        pop_vars(st, mark);
        return -1;
    }
    int rc = 0;
    size_t count = 0;
    if (val && (val->kind == TMPL_LIST || (val->kind == TMPL_MAP && !val->is_struct))) {
        count = val->n;
        size_t inner = st->nvars;
        for (size_t i = 0; i < count && rc == 0; i++) {
            if (step(st, n) != 0) {
                rc = -1;
                break;
            }
            struct tmpl_value *elem = val->kind == TMPL_LIST ? val->items[i] : val->e[i].v;
            struct tmpl_value *key = NULL;
            if (n->pipe->ndecl > 1) {
                key = val->kind == TMPL_LIST ? tmpl_value_int((int64_t)i)
                                             : tmpl_value_str(val->e[i].key);
                if (!key) {
                    rc = xerr(st, n, "out of memory");
                    break;
                }
            }
            /* The top variable (lexically the second of two) is the element, the next the key. */
            if (n->pipe->ndecl > 0) {
                tmpl_value_unref(st->vars[inner - 1].v);
                st->vars[inner - 1].v = ref(elem);
            }
            if (n->pipe->ndecl > 1) {
                tmpl_value_unref(st->vars[inner - 2].v);
                st->vars[inner - 2].v = key;
            }
            rc = walk_list(st, elem, n->list);
            pop_vars(st, inner);
            if (st->flow == FLOW_BREAK) {
                st->flow = FLOW_NORMAL;
                break;
            }
            st->flow = FLOW_NORMAL;
        }
    } else if (val && val->kind != TMPL_NIL) {
        struct lw_buf b;
        lw_buf_init(&b, 4096);
        (void)tmpl_print_value(val, &b);
        rc = xerr(st, st->at ? st->at : n, "range can't iterate over %s", lw_buf_str(&b));
        lw_buf_cleanup(&b);
    }
    if (rc == 0 && count == 0)
        rc = walk_list(st, dot, n->else_list);
    tmpl_value_unref(val);
    pop_vars(st, mark);
    return rc;
}

static int walk_template(struct tmpl_exec_state *st, const struct tmpl_value *dot,
                         const struct tnode *n)
{
    const struct tdef *d = NULL;
    for (size_t i = 0; i < st->t->ndefs; i++)
        if (strcmp(st->t->defs[i].name, n->text) == 0)
            d = &st->t->defs[i];
    if (!d)
        return xerr(st, n, "template \"%s\" not defined", n->text);
    if (st->depth >= LW_MAX_TMPL_CALL_DEPTH)
        return xerr(st, n, "exceeded maximum template depth (%d)", LW_MAX_TMPL_CALL_DEPTH);
    struct tmpl_value *v = NULL;
    if (n->pipe && eval_pipeline(st, dot, n->pipe, &v) != 0)
        return -1;
    /* No dynamic scoping: the callee sees only $ (its dot); the caller's variables stay. */
    struct var *saved = st->vars;
    size_t saved_n = st->nvars, saved_cap = st->capvars;
    const struct tdef *saved_cur = st->cur;
    st->vars = NULL;
    st->nvars = st->capvars = 0;
    st->cur = d;
    st->depth++;
    int rc = push_var(st, "$", ref(v));
    if (rc == 0)
        rc = walk_list(st, v, d->root);
    st->depth--;
    pop_vars(st, 0);
    free(st->vars);
    st->vars = saved;
    st->nvars = saved_n;
    st->capvars = saved_cap;
    st->cur = saved_cur;
    tmpl_value_unref(v);
    return rc;
}

static int walk(struct tmpl_exec_state *st, const struct tmpl_value *dot, const struct tnode *n)
{
    if (step(st, n) != 0)
        return -1;
    switch (n->type) {
    case TN_TEXT:
        return emit(st, n, n->text, n->text_len);
    case TN_ACTION: {
        struct tmpl_value *v;
        if (eval_pipeline(st, dot, n->pipe, &v) != 0)
            return -1;
        int rc = 0;
        if (n->pipe->ndecl == 0) {
            size_t before = st->out->len;
            if (tmpl_print_value(v, st->out) != 0 ||
                st->out->len - st->out_start > LW_MAX_TMPL_OUTPUT_BYTES) {
                st->out->len = before;
                if (st->out->data)
                    st->out->data[before] = '\0';
                rc = xerr(st, n, "template output exceeds %u bytes", LW_MAX_TMPL_OUTPUT_BYTES);
            }
        }
        tmpl_value_unref(v);
        return rc;
    }
    case TN_IF:
    case TN_WITH: {
        size_t mark = st->nvars;
        struct tmpl_value *v;
        if (eval_pipeline(st, dot, n->pipe, &v) != 0) {
            pop_vars(st, mark);
            return -1;
        }
        int rc;
        if (tmpl_truth(v))
            rc = walk_list(st, n->type == TN_WITH ? v : dot, n->list);
        else
            rc = walk_list(st, dot, n->else_list);
        tmpl_value_unref(v);
        pop_vars(st, mark);
        return rc;
    }
    case TN_RANGE:
        return walk_range(st, dot, n);
    case TN_TEMPLATE:
        return walk_template(st, dot, n);
    case TN_BREAK:
        st->flow = FLOW_BREAK;
        return 0;
    case TN_CONTINUE:
        st->flow = FLOW_CONTINUE;
        return 0;
    case TN_LIST:
        return walk_list(st, dot, n);
    default:
        return xerr(st, n, "unknown node");
    }
}

int tmpl_exec(const struct tmpl *t, const struct tmpl_value *dot, const struct tmpl_env *env,
              struct lw_buf *out, struct lw_err *err)
{
    if (!t || t->ndefs == 0 || !t->defs[0].root)
        return lw_err_set(err, 0, 0, "template: %s: \"%s\" is an incomplete or empty template",
                          t ? t->name : "", t ? t->name : "");
    struct tmpl_exec_state st = {
        .t = t,
        .cur = &t->defs[0],
        .out = out,
        .out_start = out->len,
        .external_url = env ? env->external_url : NULL,
        .err = err,
    };
    clock_gettime(CLOCK_MONOTONIC, &st.deadline);
    st.deadline.tv_sec += LW_MAX_TMPL_EXEC_MS / 1000;
    st.deadline.tv_nsec += (long)(LW_MAX_TMPL_EXEC_MS % 1000) * 1000000L;
    if (st.deadline.tv_nsec >= 1000000000L) {
        st.deadline.tv_sec++;
        st.deadline.tv_nsec -= 1000000000L;
    }
    int rc = push_var(&st, "$", ref(dot));
    if (rc == 0)
        rc = walk_list(&st, dot, t->defs[0].root);
    pop_vars(&st, 0);
    free(st.vars);
    return rc;
}
