/*
 * template_builtin.c — Go's text/template builtin functions (and, or, not, len, index, slice,
 * print, printf, println, html, js, urlquery, call, eq, ne, lt, le, gt, ge) with Go's type rules
 * and messages: eq compares only like kinds (int with float64 is "incompatible types for
 * comparison"), lt/le/gt/ge refuse bools and containers, index and slice check their bounds as
 * reflect does, and html/js/urlquery print their arguments as text/template's evalArgs does
 * (nil reads "<no value>"). and/or short-circuit in template_exec.c.
 */
#include "template_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lagwatch/limits.h"

static int fn_not(FN_ARGS)
{
    (void)st;
    (void)n;
    return tmpl_fn_ret(tmpl_value_bool(!tmpl_truth(a[0])), out, msg, msglen);
}

static int fn_and_or(FN_ARGS)
{
    /* Evaluated in template_exec.c (short-circuit); never reached. */
    (void)st;
    (void)a;
    (void)n;
    (void)out;
    FAIL("internal error");
}

static int fn_len(FN_ARGS)
{
    (void)st;
    (void)n;
    const struct tmpl_value *v = a[0];
    if (v &&
        (v->kind == TMPL_STR || v->kind == TMPL_LIST || (v->kind == TMPL_MAP && !v->is_struct)))
        return tmpl_fn_ret(tmpl_value_int((int64_t)tmpl_value_len(v)), out, msg, msglen);
    if (!v || v->kind == TMPL_NIL)
        FAIL("len of nil pointer");
    FAIL("len of type %s", tmpl_go_type(v));
}

/* Go's indexArg. */
static int index_arg(const struct tmpl_value *ix, size_t cap, int64_t *x, char *msg, size_t msglen)
{
    if (!ix || ix->kind == TMPL_NIL)
        FAIL("cannot index slice/array with nil");
    if (ix->kind != TMPL_INT)
        FAIL("cannot index slice/array with type %s", tmpl_go_type(ix));
    if (ix->i < 0 || (uint64_t)ix->i > cap)
        FAIL("index out of range: %" PRId64, ix->i);
    *x = ix->i;
    return 0;
}

static int fn_index(FN_ARGS)
{
    (void)st;
    struct tmpl_value *item = a[0];
    if (!item || item->kind == TMPL_NIL)
        FAIL("index of untyped nil");
    struct tmpl_value *cur = tmpl_value_ref(item);
    for (size_t i = 1; i < n; i++) {
        struct tmpl_value *next = NULL;
        int64_t x;
        if (!cur || cur->kind == TMPL_NIL) {
            tmpl_value_unref(cur);
            FAIL("index of untyped nil");
        }
        if (cur->kind == TMPL_LIST || cur->kind == TMPL_STR) {
            size_t len = tmpl_value_len(cur);
            if (index_arg(a[i], len, &x, msg, msglen) != 0) {
                tmpl_value_unref(cur);
                return -1;
            }
            if ((size_t)x == len) {
                tmpl_value_unref(cur);
                FAIL("reflect: %s index out of range", cur->kind == TMPL_STR ? "string" : "slice");
            }
            next = cur->kind == TMPL_LIST ? tmpl_value_ref(cur->items[x])
                                          : tmpl_value_int((unsigned char)cur->s[x]);
        } else if (cur->kind == TMPL_MAP && !cur->is_struct) {
            if (!a[i] || a[i]->kind == TMPL_NIL) {
                tmpl_value_unref(cur);
                FAIL("value is nil; should be of type string");
            }
            if (a[i]->kind != TMPL_STR) {
                tmpl_value_unref(cur);
                FAIL("value has type %s; should be string", tmpl_go_type(a[i]));
            }
            const struct tmpl_value *e = tmpl_value_get(cur, a[i]->s);
            next = e ? tmpl_value_ref((struct tmpl_value *)e)
                     : (cur->string_elems ? tmpl_value_str("") : tmpl_value_nil());
        } else {
            const char *tn = tmpl_go_type(cur);
            snprintf(msg, msglen, "can't index item of type %s", tn);
            tmpl_value_unref(cur);
            return -1;
        }
        tmpl_value_unref(cur);
        if (!next)
            FAIL("out of memory");
        cur = next;
    }
    *out = cur;
    return 0;
}

static int fn_slice(FN_ARGS)
{
    (void)st;
    struct tmpl_value *item = a[0];
    if (!item || item->kind == TMPL_NIL)
        FAIL("slice of untyped nil");
    if (n - 1 > 3)
        FAIL("too many slice indexes: %zu", n - 1);
    if (item->kind == TMPL_STR && n - 1 == 3)
        FAIL("cannot 3-index slice a string");
    if (item->kind != TMPL_STR && item->kind != TMPL_LIST)
        FAIL("can't slice item of type %s", tmpl_go_type(item));
    size_t len = tmpl_value_len(item);
    int64_t idx[3] = {0, (int64_t)len, (int64_t)len};
    for (size_t i = 1; i < n; i++)
        if (index_arg(a[i], len, &idx[i - 1], msg, msglen) != 0)
            return -1;
    if (idx[0] > idx[1])
        FAIL("invalid slice index: %" PRId64 " > %" PRId64, idx[0], idx[1]);
    if (n - 1 == 3 && idx[1] > idx[2])
        FAIL("invalid slice index: %" PRId64 " > %" PRId64, idx[1], idx[2]);
    if (item->kind == TMPL_STR)
        return tmpl_fn_ret(tmpl_value_strn(item->s + idx[0], (size_t)(idx[1] - idx[0])), out, msg,
                           msglen);
    struct tmpl_value *l = tmpl_value_list();
    for (int64_t i = idx[0]; l && i < idx[1]; i++)
        if (tmpl_value_append(l, tmpl_value_ref(item->items[i])) != 0) {
            tmpl_value_unref(l);
            l = NULL;
        }
    return tmpl_fn_ret(l, out, msg, msglen);
}

static int fn_print(FN_ARGS)
{
    (void)st;
    struct lw_buf b;
    lw_buf_init(&b, LW_MAX_TMPL_OUTPUT_BYTES);
    (void)tmpl_sprint(a, n, false, &b);
    return tmpl_fn_ret_buf(&b, out, msg, msglen);
}

static int fn_println(FN_ARGS)
{
    (void)st;
    struct lw_buf b;
    lw_buf_init(&b, LW_MAX_TMPL_OUTPUT_BYTES);
    (void)tmpl_sprint(a, n, true, &b);
    return tmpl_fn_ret_buf(&b, out, msg, msglen);
}

static int fn_printf(FN_ARGS)
{
    (void)st;
    struct lw_buf b;
    lw_buf_init(&b, LW_MAX_TMPL_OUTPUT_BYTES);
    (void)tmpl_sprintf(a[0]->s, a[0]->len, a + 1, n - 1, &b);
    return tmpl_fn_ret_buf(&b, out, msg, msglen);
}

/* text/template's evalArgs: a lone string as is, else fmt.Sprint of printable values (nil
 * reads "<no value>"). */
static int eval_args(struct tmpl_value **a, size_t n, struct lw_buf *b)
{
    if (n == 1 && a[0] && a[0]->kind == TMPL_STR)
        return lw_buf_add(b, a[0]->s, a[0]->len);
    struct tmpl_value *nv = NULL;
    struct tmpl_value *tmp[64];
    for (size_t i = 0; i < n && i < 64; i++) {
        tmp[i] = a[i];
        if (!a[i] || a[i]->kind == TMPL_NIL) {
            if (!nv)
                nv = tmpl_value_str("<no value>");
            tmp[i] = nv;
        }
    }
    int rc = tmpl_sprint(tmp, n < 64 ? n : 64, false, b);
    tmpl_value_unref(nv);
    return rc;
}

static int fn_html(FN_ARGS)
{
    (void)st;
    struct lw_buf s, b;
    lw_buf_init(&s, LW_MAX_TMPL_OUTPUT_BYTES);
    lw_buf_init(&b, LW_MAX_TMPL_OUTPUT_BYTES);
    (void)eval_args(a, n, &s);
    for (size_t i = 0; i < s.len; i++) {
        char c = s.data[i];
        switch (c) {
        case '"':
            (void)lw_buf_adds(&b, "&#34;");
            break;
        case '\'':
            (void)lw_buf_adds(&b, "&#39;");
            break;
        case '&':
            (void)lw_buf_adds(&b, "&amp;");
            break;
        case '<':
            (void)lw_buf_adds(&b, "&lt;");
            break;
        case '>':
            (void)lw_buf_adds(&b, "&gt;");
            break;
        case '\0':
            (void)lw_buf_adds(&b, "\xef\xbf\xbd");
            break;
        default:
            (void)lw_buf_addc(&b, c);
            break;
        }
    }
    lw_buf_cleanup(&s);
    return tmpl_fn_ret_buf(&b, out, msg, msglen);
}

static int fn_js(FN_ARGS)
{
    (void)st;
    struct lw_buf s, b;
    lw_buf_init(&s, LW_MAX_TMPL_OUTPUT_BYTES);
    lw_buf_init(&b, LW_MAX_TMPL_OUTPUT_BYTES);
    (void)eval_args(a, n, &s);
    const unsigned char *p = (const unsigned char *)lw_buf_str(&s);
    for (size_t i = 0; i < s.len;) {
        unsigned char c = p[i];
        if (c < 0x80) {
            switch (c) {
            case '\\':
                (void)lw_buf_adds(&b, "\\\\");
                break;
            case '\'':
                (void)lw_buf_adds(&b, "\\'");
                break;
            case '"':
                (void)lw_buf_adds(&b, "\\\"");
                break;
            case '<':
                (void)lw_buf_adds(&b, "\\u003C");
                break;
            case '>':
                (void)lw_buf_adds(&b, "\\u003E");
                break;
            case '&':
                (void)lw_buf_adds(&b, "\\u0026");
                break;
            case '=':
                (void)lw_buf_adds(&b, "\\u003D");
                break;
            default:
                if (c < ' ')
                    (void)lw_buf_addf(&b, "\\u00%02X", c);
                else
                    (void)lw_buf_addc(&b, (char)c);
            }
            i++;
            continue;
        }
        size_t w;
        uint32_t r = tmpl_decode_rune(p + i, s.len - i, &w);
        if (tmpl_rune_printable(r))
            (void)lw_buf_add(&b, (const char *)p + i, w);
        else
            (void)lw_buf_addf(&b, "\\u%04" PRIX32, r);
        i += w;
    }
    lw_buf_cleanup(&s);
    return tmpl_fn_ret_buf(&b, out, msg, msglen);
}

static int fn_urlquery(FN_ARGS)
{
    (void)st;
    struct lw_buf s, b;
    lw_buf_init(&s, LW_MAX_TMPL_OUTPUT_BYTES);
    lw_buf_init(&b, LW_MAX_TMPL_OUTPUT_BYTES);
    (void)eval_args(a, n, &s);
    tmpl_query_escape(lw_buf_str(&s), s.len, &b);
    lw_buf_cleanup(&s);
    return tmpl_fn_ret_buf(&b, out, msg, msglen);
}

static int fn_call(FN_ARGS)
{
    (void)st;
    (void)n;
    (void)out;
    if (!a[0] || a[0]->kind == TMPL_NIL)
        FAIL("call of nil");
    FAIL("non-function of type %s", tmpl_go_type(a[0]));
}

enum basic { K_INVALID, K_BOOL, K_INT, K_FLOAT, K_STRING };

static enum basic basic_kind(const struct tmpl_value *v)
{
    if (!v)
        return K_INVALID;
    switch (v->kind) {
    case TMPL_BOOL:
        return K_BOOL;
    case TMPL_INT:
        return K_INT;
    case TMPL_NUM:
        return K_FLOAT;
    case TMPL_STR:
        return K_STRING;
    default:
        return K_INVALID;
    }
}

static bool is_zero(const struct tmpl_value *v)
{
    return !v || v->kind == TMPL_NIL;
}

/* Go's eq: 1 true, 0 false, -1 error. */
static int go_eq(struct tmpl_value **a, size_t n, char *msg, size_t msglen)
{
    const struct tmpl_value *a1 = a[0];
    if (!is_zero(a1) && (a1->kind == TMPL_MAP || a1->kind == TMPL_LIST)) {
        struct lw_buf b;
        lw_buf_init(&b, 4096);
        (void)tmpl_print_value(a1, &b);
        snprintf(msg, msglen, "non-comparable type %s: %s", lw_buf_str(&b), tmpl_go_type(a1));
        lw_buf_cleanup(&b);
        return -1;
    }
    if (n < 2)
        FAIL("missing argument for comparison");
    enum basic k1 = basic_kind(a1);
    for (size_t i = 1; i < n; i++) {
        const struct tmpl_value *a2 = a[i];
        enum basic k2 = basic_kind(a2);
        bool truth = false;
        if (k1 != k2) {
            if (!is_zero(a1) && !is_zero(a2))
                FAIL("incompatible types for comparison");
        } else {
            switch (k1) {
            case K_BOOL:
                truth = a1->b == a2->b;
                break;
            case K_INT:
                truth = a1->i == a2->i;
                break;
            case K_FLOAT:
                truth = a1->num == a2->num;
                break;
            case K_STRING:
                truth = a1->len == a2->len && memcmp(a1->s, a2->s, a1->len) == 0;
                break;
            case K_INVALID:
                if (is_zero(a1) || is_zero(a2)) {
                    truth = is_zero(a1) && is_zero(a2);
                } else {
                    struct lw_buf b;
                    lw_buf_init(&b, 4096);
                    (void)tmpl_print_value(a2, &b);
                    struct lw_buf b1;
                    lw_buf_init(&b1, 4096);
                    (void)tmpl_print_value(a1, &b1);
                    snprintf(msg, msglen, "non-comparable types %s: %s, %s: %s", lw_buf_str(&b1),
                             tmpl_go_type(a1), tmpl_go_type(a2), lw_buf_str(&b));
                    lw_buf_cleanup(&b1);
                    lw_buf_cleanup(&b);
                    return -1;
                }
                break;
            }
        }
        if (truth)
            return 1;
    }
    return 0;
}

/* Go's lt: 1, 0 or -1. */
static int go_lt(const struct tmpl_value *a1, const struct tmpl_value *a2, char *msg, size_t msglen)
{
    enum basic k1 = basic_kind(a1), k2 = basic_kind(a2);
    if (k1 == K_INVALID || k2 == K_INVALID)
        FAIL("invalid type for comparison");
    if (k1 != k2)
        FAIL("incompatible types for comparison");
    switch (k1) {
    case K_BOOL:
        FAIL("invalid type for comparison");
    case K_INT:
        return a1->i < a2->i;
    case K_FLOAT:
        return a1->num < a2->num;
    case K_STRING: {
        size_t m = a1->len < a2->len ? a1->len : a2->len;
        int c = memcmp(a1->s, a2->s, m);
        return c < 0 || (c == 0 && a1->len < a2->len);
    }
    default:
        FAIL("invalid type for comparison");
    }
}

static int cmp_ret(int r, struct tmpl_value **out, char *msg, size_t msglen)
{
    if (r < 0)
        return -1;
    return tmpl_fn_ret(tmpl_value_bool(r != 0), out, msg, msglen);
}

static int fn_eq(FN_ARGS)
{
    (void)st;
    return cmp_ret(go_eq(a, n, msg, msglen), out, msg, msglen);
}

static int fn_ne(FN_ARGS)
{
    (void)st;
    (void)n;
    int r = go_eq(a, 2, msg, msglen);
    return cmp_ret(r < 0 ? r : !r, out, msg, msglen);
}

static int go_le(struct tmpl_value **a, char *msg, size_t msglen)
{
    int r = go_lt(a[0], a[1], msg, msglen);
    if (r != 0)
        return r;
    return go_eq(a, 2, msg, msglen);
}

static int fn_lt(FN_ARGS)
{
    (void)st;
    (void)n;
    return cmp_ret(go_lt(a[0], a[1], msg, msglen), out, msg, msglen);
}

static int fn_le(FN_ARGS)
{
    (void)st;
    (void)n;
    return cmp_ret(go_le(a, msg, msglen), out, msg, msglen);
}

static int fn_gt(FN_ARGS)
{
    (void)st;
    (void)n;
    int r = go_le(a, msg, msglen);
    return cmp_ret(r < 0 ? r : !r, out, msg, msglen);
}

static int fn_ge(FN_ARGS)
{
    (void)st;
    (void)n;
    int r = go_lt(a[0], a[1], msg, msglen);
    return cmp_ret(r < 0 ? r : !r, out, msg, msglen);
}

#define GO (1u << TMPL_PROMETHEUS | 1u << TMPL_ALERTMANAGER)

const struct tmpl_func tmpl_builtins[] = {
    {"and", "vv", true, GO, NULL, fn_and_or},
    {"call", "vv", true, GO, NULL, fn_call},
    {"eq", "vv", true, GO, NULL, fn_eq},
    {"ge", "vv", false, GO, NULL, fn_ge},
    {"gt", "vv", false, GO, NULL, fn_gt},
    {"html", "a", true, GO, NULL, fn_html},
    {"index", "vv", true, GO, NULL, fn_index},
    {"js", "a", true, GO, NULL, fn_js},
    {"le", "vv", false, GO, NULL, fn_le},
    {"len", "v", false, GO, NULL, fn_len},
    {"lt", "vv", false, GO, NULL, fn_lt},
    {"ne", "vv", false, GO, NULL, fn_ne},
    {"not", "v", false, GO, NULL, fn_not},
    {"or", "vv", true, GO, NULL, fn_and_or},
    {"print", "a", true, GO, NULL, fn_print},
    {"printf", "sa", true, GO, NULL, fn_printf},
    {"println", "a", true, GO, NULL, fn_println},
    {"slice", "vv", true, GO, NULL, fn_slice},
    {"urlquery", "a", true, GO, NULL, fn_urlquery},
};
const size_t tmpl_nbuiltins = sizeof tmpl_builtins / sizeof tmpl_builtins[0];
