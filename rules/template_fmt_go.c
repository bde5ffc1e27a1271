/*
 * template_fmt_go.c — Go's fmt package as templates reach it (printf, print, println and the
 * printing of action values): the verbs, flags, width, precision, argument indexes and the
 * %!verb(type=value) / %!(MISSING) / %!(EXTRA ...) / %!(NOVERB) complaints, over the value
 * kinds of template.h. Numbers go through Go's rules, not C's where they differ (%v and %g of a
 * float64 are the shortest round-trip form, %x of a negative int is "-ff", NaN and ±Inf are
 * never zero-padded). Go's %#v (Go syntax) is approximated for maps, lists and structs.
 */
#include "template_int.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_WIDTH 1000000

struct spec {
    bool minus, plus, sharp, space, zero, plus_v, sharp_v;
    bool wid_present, prec_present;
    int wid, prec;
};

static size_t rune_count(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            n++;
    return n;
}

static int write_padding(struct lw_buf *out, int n, bool zero)
{
    for (int i = 0; i < n; i++)
        if (lw_buf_addc(out, zero ? '0' : ' ') != 0)
            return -1;
    return 0;
}

static int pad(const struct spec *f, const char *s, size_t len, struct lw_buf *out)
{
    if (!f->wid_present || f->wid == 0)
        return lw_buf_add(out, s, len);
    int width = f->wid - (int)rune_count(s, len);
    if (!f->minus) {
        if (write_padding(out, width, f->zero) != 0)
            return -1;
        return lw_buf_add(out, s, len);
    }
    if (lw_buf_add(out, s, len) != 0)
        return -1;
    return write_padding(out, width, f->zero);
}

static int pad_nozero(const struct spec *f, const char *s, size_t len, struct lw_buf *out)
{
    struct spec g = *f;
    g.zero = false;
    return pad(&g, s, len, out);
}

/* strconv.Quote (ascii_only: QuoteToASCII): Go's escapes, printable runes kept, other runes as
 * \uXXXX or \UXXXXXXXX, bytes of invalid UTF-8 as \xXX. */
static int quote_str(const char *s, size_t len, bool ascii_only, struct lw_buf *out)
{
    if (lw_buf_addc(out, '"') != 0)
        return -1;
    for (size_t i = 0; i < len;) {
        unsigned char c = (unsigned char)s[i];
        size_t w = 1;
        int rc = 0;
        const char *esc = NULL;
        switch (c) {
        case '\a':
            esc = "\\a";
            break;
        case '\b':
            esc = "\\b";
            break;
        case '\f':
            esc = "\\f";
            break;
        case '\n':
            esc = "\\n";
            break;
        case '\r':
            esc = "\\r";
            break;
        case '\t':
            esc = "\\t";
            break;
        case '\v':
            esc = "\\v";
            break;
        case '\\':
            esc = "\\\\";
            break;
        case '"':
            esc = "\\\"";
            break;
        default:
            break;
        }
        if (esc) {
            rc = lw_buf_adds(out, esc);
        } else if (c < 0x80) {
            rc = c < 0x20 || c == 0x7f ? lw_buf_addf(out, "\\x%02x", c) : lw_buf_addc(out, (char)c);
        } else {
            uint32_t r = tmpl_decode_rune((const unsigned char *)s + i, len - i, &w);
            if (r == 0xFFFD && w == 1)
                rc = lw_buf_addf(out, "\\x%02x", c);
            else if (!ascii_only && tmpl_rune_printable(r))
                rc = lw_buf_add(out, s + i, w);
            else if (r < 0x10000)
                rc = lw_buf_addf(out, "\\u%04" PRIx32, r);
            else
                rc = lw_buf_addf(out, "\\U%08" PRIx32, r);
        }
        if (rc != 0)
            return -1;
        i += w;
    }
    return lw_buf_addc(out, '"');
}

/* Go's %q of a string: `raw` with '#' when strconv.CanBackquote allows, ASCII-only with '+'. */
static int quote_verb(const char *s, size_t len, const struct spec *f, struct lw_buf *out)
{
    if (f->sharp) {
        bool can = true;
        for (size_t i = 0; i < len && can;) {
            size_t w;
            uint32_t r = tmpl_decode_rune((const unsigned char *)s + i, len - i, &w);
            if (w > 1)
                can = r != 0xFEFF;
            else
                can = r != 0xFFFD && !((r < ' ' && r != '\t') || r == '`' || r == 0x7f);
            i += w;
        }
        if (can) {
            if (lw_buf_addc(out, '`') != 0 || lw_buf_add(out, s, len) != 0)
                return -1;
            return lw_buf_addc(out, '`');
        }
    }
    return quote_str(s, len, f->plus, out);
}

static int fmt_value(const struct tmpl_value *v, char verb, const struct spec *f, int depth,
                     struct lw_buf *out);

static int bad_verb(const struct tmpl_value *v, char verb, const struct spec *f, struct lw_buf *out)
{
    if (lw_buf_addf(out, "%%!%c(", verb) != 0)
        return -1;
    if (!v || v->kind == TMPL_NIL) {
        if (lw_buf_adds(out, "<nil>") != 0)
            return -1;
    } else {
        if (lw_buf_addf(out, "%s=", tmpl_go_type(v)) != 0)
            return -1;
        if (fmt_value(v, 'v', f, 0, out) != 0)
            return -1;
    }
    return lw_buf_addc(out, ')');
}

static int fmt_integer(int64_t iv, char verb, const struct spec *f, struct lw_buf *out)
{
    bool negative = iv < 0;
    uint64_t u = negative ? (uint64_t)0 - (uint64_t)iv : (uint64_t)iv;
    int base = 10;
    const char *digits = "0123456789abcdefx";
    switch (verb) {
    case 'v':
    case 'd':
        break;
    case 'b':
        base = 2;
        break;
    case 'o':
    case 'O':
        base = 8;
        break;
    case 'x':
        base = 16;
        break;
    case 'X':
        base = 16;
        digits = "0123456789ABCDEFX";
        break;
    default:
        return -2;
    }
    int prec = 0;
    if (f->prec_present) {
        prec = f->prec;
        if (prec == 0 && u == 0)
            return write_padding(out, f->wid_present ? f->wid : 0, false);
    } else if (f->zero && f->wid_present) {
        prec = f->wid;
        if (negative || f->plus || f->space)
            prec--;
    }
    char tmp[128];
    char *buf = tmp;
    size_t cap = sizeof tmp;
    if ((size_t)prec + 8 > cap) {
        cap = (size_t)prec + 8;
        buf = malloc(cap);
        if (!buf)
            return -1;
    }
    size_t i = cap;
    do {
        buf[--i] = digits[u % (uint64_t)base];
        u /= (uint64_t)base;
    } while (u);
    while (i > 0 && prec > (int)(cap - i))
        buf[--i] = '0';
    if (f->sharp) {
        if (base == 2) {
            buf[--i] = 'b';
            buf[--i] = '0';
        } else if (base == 8 && buf[i] != '0') {
            buf[--i] = '0';
        } else if (base == 16) {
            buf[--i] = digits[16];
            buf[--i] = '0';
        }
    }
    if (verb == 'O') {
        buf[--i] = 'o';
        buf[--i] = '0';
    }
    if (negative)
        buf[--i] = '-';
    else if (f->plus)
        buf[--i] = '+';
    else if (f->space)
        buf[--i] = ' ';
    int rc = pad_nozero(f, buf + i, cap - i, out);
    if (buf != tmp)
        free(buf);
    return rc;
}

/* Go's fmtFloat post-processing of num, which starts with its sign. */
static int float_finish(char *num, const struct spec *f, struct lw_buf *out)
{
    if (f->space && num[0] == '+' && !f->plus)
        num[0] = ' ';
    if (num[1] == 'I' || num[1] == 'N') {
        const char *s = num;
        if (num[1] == 'N' && !f->space && !f->plus)
            s++;
        return pad_nozero(f, s, strlen(s), out);
    }
    if (f->plus || num[0] != '+') {
        size_t len = strlen(num);
        if (f->zero && f->wid_present && f->wid > (int)len) {
            if (lw_buf_addc(out, num[0]) != 0 || write_padding(out, f->wid - (int)len, true) != 0)
                return -1;
            return lw_buf_adds(out, num + 1);
        }
        return pad(f, num, len, out);
    }
    return pad(f, num + 1, strlen(num + 1), out);
}

static int fmt_float(double v, char verb, const struct spec *f, struct lw_buf *out)
{
    struct lw_buf num;
    lw_buf_init(&num, 4096);
    int prec = f->prec_present ? f->prec : -1;
    if (prec > 1000)
        prec = 1000;
    int rc = 0;
    if (!signbit(v) || isnan(v))
        rc = lw_buf_addc(&num, '+');
    if (isnan(v)) {
        rc = lw_buf_adds(&num, "NaN");
    } else if (isinf(v)) {
        rc = lw_buf_adds(&num, v > 0 ? "Inf" : "-Inf");
    } else {
        switch (verb) {
        case 'v':
        case 'g':
        case 'G':
            if (prec < 0) {
                rc = template_fmt_float_v(v, &num);
            } else {
                rc = lw_buf_addf(&num, "%.*g", prec == 0 ? 1 : prec, v);
            }
            if (verb == 'G')
                for (size_t i = 0; i < num.len; i++)
                    if (num.data[i] == 'e')
                        num.data[i] = 'E';
            break;
        case 'e':
        case 'E':
            rc = lw_buf_addf(&num, verb == 'e' ? "%.*e" : "%.*E", prec < 0 ? 6 : prec, v);
            break;
        case 'f':
        case 'F':
            rc = lw_buf_addf(&num, "%.*f", prec < 0 ? 6 : prec, v);
            break;
        case 'x':
        case 'X': {
            char tmp[64];
            if (prec < 0)
                snprintf(tmp, sizeof tmp, verb == 'x' ? "%a" : "%A", v);
            else
                snprintf(tmp, sizeof tmp, verb == 'x' ? "%.*a" : "%.*A", prec, v);
            /* Go writes the binary exponent with at least two digits. */
            char *p = strpbrk(tmp, "pP");
            if (p && p[2] != '\0' && p[3] == '\0') {
                rc = lw_buf_add(&num, tmp, (size_t)(p - tmp) + 2);
                if (rc == 0)
                    rc = lw_buf_addf(&num, "0%c", p[2]);
            } else {
                rc = lw_buf_adds(&num, tmp);
            }
            break;
        }
        case 'b': {
            int e;
            double m = frexp(v, &e);
            rc = lw_buf_addf(&num, "%" PRId64 "p%+d", (int64_t)ldexp(m, 53), e - 53);
            break;
        }
        default:
            lw_buf_cleanup(&num);
            return -2;
        }
    }
    if (rc == 0 && !lw_buf_failed(&num))
        rc = float_finish(num.data, f, out);
    else
        rc = -1;
    lw_buf_cleanup(&num);
    return rc;
}

static int fmt_string(const char *s, size_t len, char verb, const struct spec *f,
                      struct lw_buf *out)
{
    switch (verb) {
    case 'v':
        if (f->sharp_v) {
            struct lw_buf q;
            lw_buf_init(&q, 4 * len + 16);
            int rc = quote_verb(s, len, f, &q) != 0 ? -1 : pad(f, q.data, q.len, out);
            lw_buf_cleanup(&q);
            return rc;
        }
        /* fall through */
    case 's': {
        size_t n = len;
        if (f->prec_present) {
            size_t runes = 0;
            for (n = 0; n < len; n++) {
                if (((unsigned char)s[n] & 0xC0) != 0x80) {
                    if (runes == (size_t)f->prec)
                        break;
                    runes++;
                }
            }
        }
        return pad(f, s, n, out);
    }
    case 'q': {
        struct lw_buf q;
        lw_buf_init(&q, 4 * len + 16);
        int rc = quote_verb(s, len, f, &q) != 0 ? -1 : pad(f, q.data, q.len, out);
        lw_buf_cleanup(&q);
        return rc;
    }
    case 'x':
    case 'X': {
        size_t n = len;
        if (f->prec_present && (size_t)f->prec < n)
            n = (size_t)f->prec;
        struct lw_buf h;
        lw_buf_init(&h, 4 * n + 16);
        const char *dig = verb == 'x' ? "0123456789abcdef" : "0123456789ABCDEF";
        for (size_t i = 0; i < n; i++) {
            if (f->space && i > 0)
                (void)lw_buf_addc(&h, ' ');
            if (f->sharp && (f->space || i == 0))
                (void)lw_buf_adds(&h, verb == 'x' ? "0x" : "0X");
            (void)lw_buf_addc(&h, dig[(unsigned char)s[i] >> 4]);
            (void)lw_buf_addc(&h, dig[(unsigned char)s[i] & 15]);
        }
        int rc = lw_buf_failed(&h) ? -1 : pad(f, lw_buf_str(&h), h.len, out);
        lw_buf_cleanup(&h);
        return rc;
    }
    default:
        return -2;
    }
}

int tmpl_put_rune(uint32_t r, struct lw_buf *out)
{
    char u[4];
    size_t n;
    if (r > 0x10FFFF || (r >= 0xD800 && r < 0xE000))
        r = 0xFFFD;
    if (r < 0x80) {
        u[0] = (char)r;
        n = 1;
    } else if (r < 0x800) {
        u[0] = (char)(0xC0 | (r >> 6));
        u[1] = (char)(0x80 | (r & 0x3F));
        n = 2;
    } else if (r < 0x10000) {
        u[0] = (char)(0xE0 | (r >> 12));
        u[1] = (char)(0x80 | ((r >> 6) & 0x3F));
        u[2] = (char)(0x80 | (r & 0x3F));
        n = 3;
    } else {
        u[0] = (char)(0xF0 | (r >> 18));
        u[1] = (char)(0x80 | ((r >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((r >> 6) & 0x3F));
        u[3] = (char)(0x80 | (r & 0x3F));
        n = 4;
    }
    return lw_buf_add(out, u, n);
}

static int fmt_value(const struct tmpl_value *v, char verb, const struct spec *f, int depth,
                     struct lw_buf *out)
{
    if (depth > 100)
        return lw_buf_adds(out, "...");
    int rc = -2;
    if (!v || v->kind == TMPL_NIL) {
        if (verb == 'v')
            return pad(f, "<nil>", 5, out);
        return bad_verb(v, verb, f, out);
    }
    switch (v->kind) {
    case TMPL_BOOL:
        if (verb == 'v' || verb == 't')
            rc = pad(f, v->b ? "true" : "false", v->b ? 4 : 5, out);
        break;
    case TMPL_INT:
        if (verb == 'c' || verb == 'q' || verb == 'U') {
            struct lw_buf r;
            lw_buf_init(&r, 64);
            uint32_t cp = v->i < 0 || v->i > 0x10FFFF ? 0xFFFD : (uint32_t)v->i;
            if (verb == 'c') {
                (void)tmpl_put_rune(cp, &r);
            } else if (verb == 'U') {
                (void)lw_buf_addf(&r, "U+%04" PRIX32, cp);
            } else {
                (void)lw_buf_addc(&r, '\'');
                if (cp == '\'')
                    (void)lw_buf_adds(&r, "\\'");
                else if (cp == '\\')
                    (void)lw_buf_adds(&r, "\\\\");
                else if (cp < 0x20 || cp == 0x7f)
                    (void)lw_buf_addf(&r, "\\x%02" PRIx32, cp);
                else
                    (void)tmpl_put_rune(cp, &r);
                (void)lw_buf_addc(&r, '\'');
            }
            rc = lw_buf_failed(&r) ? -1 : pad(f, lw_buf_str(&r), r.len, out);
            lw_buf_cleanup(&r);
        } else {
            rc = fmt_integer(v->i, verb, f, out);
        }
        break;
    case TMPL_NUM:
        rc = fmt_float(v->num, verb, f, out);
        break;
    case TMPL_STR:
        rc = fmt_string(v->s, v->len, verb, f, out);
        break;
    case TMPL_MAP:
        if (v->is_struct) {
            if (f->sharp_v && lw_buf_adds(out, tmpl_go_type(v)) != 0)
                return -1;
            if (lw_buf_addc(out, '{') != 0)
                return -1;
            for (size_t i = 0; i < v->n; i++) {
                if (i > 0 && lw_buf_adds(out, f->sharp_v ? ", " : " ") != 0)
                    return -1;
                if ((f->plus_v || f->sharp_v) && lw_buf_addf(out, "%s:", v->e[i].key) != 0)
                    return -1;
                if (fmt_value(v->e[i].v, verb, f, depth + 1, out) != 0)
                    return -1;
            }
            return lw_buf_addc(out, '}');
        }
        if (lw_buf_adds(out, f->sharp_v ? tmpl_go_type(v) : "map[") != 0)
            return -1;
        if (f->sharp_v && lw_buf_addc(out, '{') != 0)
            return -1;
        for (size_t i = 0; i < v->n; i++) {
            if (i > 0 && lw_buf_adds(out, f->sharp_v ? ", " : " ") != 0)
                return -1;
            if (fmt_string(v->e[i].key, strlen(v->e[i].key), verb, f, out) == -2 &&
                bad_verb(&(struct tmpl_value){.kind = TMPL_STR,
                                              .s = v->e[i].key,
                                              .len = strlen(v->e[i].key)},
                         verb, f, out) != 0)
                return -1;
            if (lw_buf_addc(out, ':') != 0 || fmt_value(v->e[i].v, verb, f, depth + 1, out) != 0)
                return -1;
        }
        return lw_buf_addc(out, f->sharp_v ? '}' : ']');
    case TMPL_LIST:
        if (f->sharp_v && lw_buf_adds(out, "[]interface {}{") != 0)
            return -1;
        if (!f->sharp_v && lw_buf_addc(out, '[') != 0)
            return -1;
        for (size_t i = 0; i < v->n; i++) {
            if (i > 0 && lw_buf_adds(out, f->sharp_v ? ", " : " ") != 0)
                return -1;
            if (fmt_value(v->items[i], verb, f, depth + 1, out) != 0)
                return -1;
        }
        return lw_buf_addc(out, f->sharp_v ? '}' : ']');
    case TMPL_NIL:
        break;
    }
    if (rc == -2)
        return bad_verb(v, verb, f, out);
    return rc;
}

int tmpl_print_value(const struct tmpl_value *v, struct lw_buf *out)
{
    if (!v)
        return lw_buf_adds(out, "<no value>");
    struct spec f = {0};
    return fmt_value(v, 'v', &f, 0, out);
}

int tmpl_sprint(struct tmpl_value **args, size_t n, bool ln, struct lw_buf *out)
{
    struct spec f = {0};
    bool prev_string = false;
    for (size_t i = 0; i < n; i++) {
        bool is_string = args[i] && args[i]->kind == TMPL_STR;
        if (i > 0 && (ln || (!is_string && !prev_string)) && lw_buf_addc(out, ' ') != 0)
            return -1;
        if (fmt_value(args[i], 'v', &f, 0, out) != 0)
            return -1;
        prev_string = is_string;
    }
    if (ln)
        return lw_buf_addc(out, '\n');
    return 0;
}

/* Go's parsenum: a decimal run at fmt[*i]; absent or absurdly large -> not present. */
static bool parse_num(const char *fmt, size_t len, size_t *i, int *num)
{
    if (*i >= len || fmt[*i] < '0' || fmt[*i] > '9')
        return false;
    long n = 0;
    bool big = false;
    while (*i < len && fmt[*i] >= '0' && fmt[*i] <= '9') {
        if (n > MAX_WIDTH)
            big = true;
        else
            n = n * 10 + (fmt[*i] - '0');
        (*i)++;
    }
    if (big)
        return false;
    *num = (int)n;
    return true;
}

/* Go's argNumber: "[n]" sets the argument index (1-based). */
static void arg_number(const char *fmt, size_t len, size_t *i, size_t nargs, size_t *argnum,
                       bool *after_index, bool *good, bool *reordered)
{
    if (*i >= len || fmt[*i] != '[')
        return;
    *reordered = true;
    size_t j = *i + 1;
    int idx = 0;
    bool ok = false;
    size_t k = j;
    if (parse_num(fmt, len, &k, &idx) && k < len && fmt[k] == ']') {
        ok = true;
        j = k + 1;
    } else {
        while (k < len && fmt[k] != ']')
            k++;
        j = k < len ? k + 1 : k;
    }
    *i = j;
    if (ok && idx >= 1 && (size_t)idx <= nargs) {
        *argnum = (size_t)idx - 1;
        *after_index = true;
    } else {
        *good = false;
        *after_index = ok;
    }
}

static bool int_from_arg(struct tmpl_value **args, size_t n, size_t *argnum, int *out)
{
    bool ok = false;
    if (*argnum < n) {
        const struct tmpl_value *a = args[*argnum];
        if (a && a->kind == TMPL_INT && a->i > -MAX_WIDTH && a->i < MAX_WIDTH) {
            *out = (int)a->i;
            ok = true;
        }
        (*argnum)++;
    }
    return ok;
}

int tmpl_sprintf(const char *fmt, size_t len, struct tmpl_value **args, size_t n,
                 struct lw_buf *out)
{
    size_t argnum = 0;
    bool reordered = false;
    for (size_t i = 0; i < len;) {
        size_t last = i;
        while (i < len && fmt[i] != '%')
            i++;
        if (i > last && lw_buf_add(out, fmt + last, i - last) != 0)
            return -1;
        if (i >= len)
            break;
        i++;
        struct spec f = {0};
        bool good = true, after_index = false;
        for (; i < len; i++) {
            char c = fmt[i];
            if (c == '#')
                f.sharp = true;
            else if (c == '0')
                f.zero = !f.minus;
            else if (c == '+')
                f.plus = true;
            else if (c == '-') {
                f.minus = true;
                f.zero = false;
            } else if (c == ' ')
                f.space = true;
            else
                break;
        }
        arg_number(fmt, len, &i, n, &argnum, &after_index, &good, &reordered);
        if (i < len && fmt[i] == '*') {
            i++;
            f.wid_present = int_from_arg(args, n, &argnum, &f.wid);
            if (!f.wid_present && lw_buf_adds(out, "%!(BADWIDTH)") != 0)
                return -1;
            if (f.wid < 0) {
                f.wid = -f.wid;
                f.minus = true;
                f.zero = false;
            }
            after_index = false;
        } else {
            f.wid_present = parse_num(fmt, len, &i, &f.wid);
            if (after_index && f.wid_present)
                good = false;
        }
        if (i + 1 < len && fmt[i] == '.') {
            i++;
            if (after_index)
                good = false;
            arg_number(fmt, len, &i, n, &argnum, &after_index, &good, &reordered);
            if (i < len && fmt[i] == '*') {
                i++;
                f.prec_present = int_from_arg(args, n, &argnum, &f.prec);
                if (f.prec < 0) {
                    f.prec = 0;
                    f.prec_present = false;
                }
                if (!f.prec_present && lw_buf_adds(out, "%!(BADPREC)") != 0)
                    return -1;
                after_index = false;
            } else {
                f.prec_present = parse_num(fmt, len, &i, &f.prec);
                if (!f.prec_present) {
                    f.prec = 0;
                    f.prec_present = true;
                }
            }
        }
        if (!after_index)
            arg_number(fmt, len, &i, n, &argnum, &after_index, &good, &reordered);
        if (i >= len) {
            if (lw_buf_adds(out, "%!(NOVERB)") != 0)
                return -1;
            break;
        }
        char verb = fmt[i];
        size_t vlen = 1;
        if ((unsigned char)verb >= 0x80) {
            /* A multi-byte verb is never valid; copy the rune into the complaint. */
            while (i + vlen < len && ((unsigned char)fmt[i + vlen] & 0xC0) == 0x80)
                vlen++;
        }
        i += vlen;
        int rc = 0;
        if (verb == '%') {
            rc = lw_buf_addc(out, '%');
        } else if (!good) {
            rc = lw_buf_addf(out, "%%!%.*s(BADINDEX)", (int)vlen, fmt + i - vlen);
        } else if (argnum >= n) {
            rc = lw_buf_addf(out, "%%!%.*s(MISSING)", (int)vlen, fmt + i - vlen);
        } else {
            if (verb == 'v') {
                f.sharp_v = f.sharp;
                f.sharp = false;
                f.plus_v = f.plus;
                f.plus = false;
            }
            if (vlen > 1) {
                const struct tmpl_value *a = args[argnum];
                rc = lw_buf_addf(out, "%%!%.*s(", (int)vlen, fmt + i - vlen);
                if (rc == 0 && a && a->kind != TMPL_NIL) {
                    rc = lw_buf_addf(out, "%s=", tmpl_go_type(a));
                    if (rc == 0)
                        rc = fmt_value(a, 'v', &f, 0, out);
                } else if (rc == 0) {
                    rc = lw_buf_adds(out, "<nil>");
                }
                if (rc == 0)
                    rc = lw_buf_addc(out, ')');
            } else if (verb == 'T') {
                const char *tn = tmpl_go_type(args[argnum]);
                rc = pad(&f, tn, strlen(tn), out);
            } else {
                rc = fmt_value(args[argnum], verb, &f, 0, out);
            }
            argnum++;
        }
        if (rc != 0)
            return -1;
    }
    if (!reordered && argnum < n) {
        struct spec f = {0};
        if (lw_buf_adds(out, "%!(EXTRA ") != 0)
            return -1;
        for (size_t k = argnum; k < n; k++) {
            if (k > argnum && lw_buf_adds(out, ", ") != 0)
                return -1;
            if (!args[k] || args[k]->kind == TMPL_NIL) {
                if (lw_buf_adds(out, "<nil>") != 0)
                    return -1;
                continue;
            }
            if (lw_buf_addf(out, "%s=", tmpl_go_type(args[k])) != 0 ||
                fmt_value(args[k], 'v', &f, 0, out) != 0)
                return -1;
        }
        return lw_buf_addc(out, ')');
    }
    return 0;
}
