/*
 * seriesnot.c — the expanding series notation (see seriesnot.h). A small hand-written scanner:
 * the notation is a flat list of items, each a value with an optional `x N` or `+b x N` tail, so
 * it needs no grammar machinery. Label sets use PromQL's string syntax (Go escapes in "..." and
 * '...', none in `...`). This file only turns text into values; loading them into the store and
 * comparing results are the callers' jobs.
 */
#include "lagwatch/seriesnot.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lagwatch/limits.h"
#include "lagwatch/store.h"

void seriesnot_values_init(struct seriesnot_values *vals)
{
    vals->v = NULL;
    vals->n = vals->cap = 0;
}

void seriesnot_values_cleanup(struct seriesnot_values *vals)
{
    free(vals->v);
    seriesnot_values_init(vals);
}

static int push(struct seriesnot_values *vals, double v, bool omitted, size_t col,
                struct lw_err *err)
{
    if (vals->n >= LW_MAX_SERIESNOT_VALUES)
        return lw_err_set(err, 0, (int)col, "more than %u values in one series",
                          LW_MAX_SERIESNOT_VALUES);
    if (vals->n == vals->cap) {
        size_t cap = vals->cap ? vals->cap * 2 : 16;
        struct seriesnot_value *nv = realloc(vals->v, cap * sizeof *nv);
        if (nv == NULL)
            return lw_err_set(err, 0, (int)col, "out of memory");
        vals->v = nv;
        vals->cap = cap;
    }
    vals->v[vals->n].v = v;
    vals->v[vals->n].omitted = omitted;
    vals->n++;
    return 0;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool ieq(const char *s, size_t len, const char *word)
{
    size_t wl = strlen(word);
    if (len != wl)
        return false;
    for (size_t i = 0; i < wl; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != word[i])
            return false;
    }
    return true;
}

/* Scan a number at s[*i] (optional sign, then Inf, NaN, or decimal digits with optional fraction
 * and exponent). Advances *i past it. Returns 0 or -1. */
static int scan_number(const char *s, size_t len, size_t *i, double *out, struct lw_err *err)
{
    size_t start = *i, p = *i;
    bool neg = false;
    if (p < len && (s[p] == '+' || s[p] == '-')) {
        neg = s[p] == '-';
        p++;
    }
    size_t word = p;
    while (word < len && ((s[word] >= 'a' && s[word] <= 'z') || (s[word] >= 'A' && s[word] <= 'Z')))
        word++;
    if (word > p) {
        /* Inf/NaN; an 'x' right after them is the repeat operator, as in "Infx3". */
        size_t wl = word - p;
        if (wl > 3 && (s[p + 3] == 'x' || s[p + 3] == 'X'))
            wl = 3;
        if (ieq(s + p, wl, "inf")) {
            *out = neg ? -INFINITY : INFINITY;
        } else if (ieq(s + p, wl, "nan")) {
            *out = NAN;
        } else {
            return lw_err_set(err, 0, (int)start + 1, "expected a number, got \"%.*s\"",
                              (int)(word - start), s + start);
        }
        *i = p + wl;
        return 0;
    }
    size_t digits = 0;
    while (p < len && is_digit(s[p])) {
        p++;
        digits++;
    }
    if (p < len && s[p] == '.') {
        p++;
        while (p < len && is_digit(s[p])) {
            p++;
            digits++;
        }
    }
    if (digits == 0)
        return lw_err_set(err, 0, (int)start + 1, "expected a number");
    if (p < len && (s[p] == 'e' || s[p] == 'E')) {
        size_t q = p + 1;
        if (q < len && (s[q] == '+' || s[q] == '-'))
            q++;
        if (q < len && is_digit(s[q])) {
            while (q < len && is_digit(s[q]))
                q++;
            p = q;
        }
    }
    char buf[128];
    if (p - start >= sizeof buf)
        return lw_err_set(err, 0, (int)start + 1, "number too long");
    memcpy(buf, s + start, p - start);
    buf[p - start] = '\0';
    errno = 0;
    char *end;
    double v = strtod(buf, &end);
    if (*end != '\0')
        return lw_err_set(err, 0, (int)start + 1, "invalid number \"%s\"", buf);
    /* Go's ParseFloat gives ±Inf on overflow with an error; Prometheus refuses it too. */
    if (errno == ERANGE && isinf(v))
        return lw_err_set(err, 0, (int)start + 1, "number out of range \"%s\"", buf);
    *out = v;
    *i = p;
    return 0;
}

/* Scan `x<uint>` at s[*i]. */
static int scan_times(const char *s, size_t len, size_t *i, uint64_t *n, struct lw_err *err)
{
    size_t p = *i;
    if (p >= len || (s[p] != 'x' && s[p] != 'X'))
        return lw_err_set(err, 0, (int)p + 1, "expected 'x' and a repeat count");
    p++;
    if (p >= len || !is_digit(s[p]))
        return lw_err_set(err, 0, (int)p + 1, "expected a repeat count after 'x'");
    uint64_t v = 0;
    while (p < len && is_digit(s[p])) {
        if (v > LW_MAX_SERIESNOT_VALUES)
            return lw_err_set(err, 0, (int)*i + 1, "repeat count too large (at most %u values)",
                              LW_MAX_SERIESNOT_VALUES);
        v = v * 10 + (uint64_t)(s[p] - '0');
        p++;
    }
    if (v > LW_MAX_SERIESNOT_VALUES)
        return lw_err_set(err, 0, (int)*i + 1, "repeat count too large (at most %u values)",
                          LW_MAX_SERIESNOT_VALUES);
    *n = v;
    *i = p;
    return 0;
}

/* One item starting at s[i], ending at the next blank. */
static int parse_item(const char *s, size_t len, size_t i, size_t end,
                      struct seriesnot_values *vals, struct lw_err *err)
{
    size_t col = i + 1;
    if (s[i] == '{')
        return lw_err_set(err, 0, (int)col,
                          "unsupported: native histogram: histogram samples are not supported");
    if (s[i] == '_') {
        size_t p = i + 1;
        uint64_t n = 1;
        if (p < end && scan_times(s, end, &p, &n, err) != 0)
            return -1;
        if (p != end)
            return lw_err_set(err, 0, (int)p + 1, "unexpected \"%.*s\" after '_'", (int)(end - p),
                              s + p);
        for (uint64_t k = 0; k < n; k++)
            if (push(vals, 0, true, col, err) != 0)
                return -1;
        return 0;
    }
    if (end - i >= 5 && memcmp(s + i, "stale", 5) == 0) {
        if (end - i != 5)
            return lw_err_set(err, 0, (int)i + 6, "unexpected \"%.*s\" after 'stale'",
                              (int)(end - i - 5), s + i + 5);
        return push(vals, store_stale_nan(), false, col, err);
    }
    double a;
    size_t p = i;
    if (scan_number(s, end, &p, &a, err) != 0)
        return -1;
    if (p == end)
        return push(vals, a, false, col, err);
    double b = 0;
    if (s[p] == '+' || s[p] == '-') {
        if (scan_number(s, end, &p, &b, err) != 0)
            return -1;
    }
    uint64_t n;
    if (scan_times(s, end, &p, &n, err) != 0)
        return -1;
    if (p != end)
        return lw_err_set(err, 0, (int)p + 1, "unexpected \"%.*s\" after the repeat count",
                          (int)(end - p), s + p);
    if (push(vals, a, false, col, err) != 0)
        return -1;
    for (uint64_t k = 0; k < n; k++) {
        a += b; /* step by step, as Prometheus does, so rounding agrees */
        if (push(vals, a, false, col, err) != 0)
            return -1;
    }
    return 0;
}

int seriesnot_parse_values(const char *s, size_t len, struct seriesnot_values *vals,
                           struct lw_err *err)
{
    size_t i = 0;
    for (;;) {
        while (i < len && is_blank(s[i]))
            i++;
        if (i >= len)
            return 0;
        size_t end = i;
        if (s[i] == '{') {
            /* A histogram literal contains blanks; report it rather than splitting it. */
            return parse_item(s, len, i, len, vals, err);
        }
        while (end < len && !is_blank(s[end]))
            end++;
        if (parse_item(s, len, i, end, vals, err) != 0)
            return -1;
        i = end;
    }
}

static bool is_name_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_name_char(char c)
{
    return is_name_start(c) || is_digit(c);
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static size_t utf8_put(char *out, uint32_t cp)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | (cp >> 18));
    out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* A quoted string at s[*i] ("...", '...' with Go escapes, `...` raw) into a malloc'd, NUL-ended
 * *out of length *out_len. */
static int scan_string(const char *s, size_t len, size_t *i, char **out, size_t *out_len,
                       struct lw_err *err)
{
    size_t start = *i;
    char q = s[start];
    size_t p = start + 1;
    char *buf = malloc(len - start + 1); /* unescaping never grows the text */
    if (buf == NULL)
        return lw_err_set(err, 0, (int)start + 1, "out of memory");
    size_t n = 0;
    for (;;) {
        if (p >= len || (q != '`' && s[p] == '\n')) {
            free(buf);
            return lw_err_set(err, 0, (int)start + 1, "unterminated quoted string");
        }
        char c = s[p];
        if (c == q) {
            p++;
            break;
        }
        if (c != '\\' || q == '`') {
            buf[n++] = c;
            p++;
            continue;
        }
        if (p + 1 >= len) {
            free(buf);
            return lw_err_set(err, 0, (int)p + 1, "unterminated escape");
        }
        char e = s[p + 1];
        p += 2;
        const char *simple = strchr("abfnrtv\\'\"", e);
        if (simple != NULL && e != '\0') {
            static const char map[] = "\a\b\f\n\r\t\v\\'\"";
            if ((e == '\'' && q != '\'') || (e == '"' && q != '"')) {
                free(buf);
                return lw_err_set(err, 0, (int)p - 1, "invalid escape \\%c", e);
            }
            buf[n++] = map[simple - "abfnrtv\\'\""];
            continue;
        }
        int digits = e == 'x' ? 2 : e == 'u' ? 4 : e == 'U' ? 8 : (e >= '0' && e <= '7') ? 3 : 0;
        if (digits == 0) {
            free(buf);
            return lw_err_set(err, 0, (int)p - 1, "invalid escape \\%c", e);
        }
        uint32_t cp = 0;
        size_t d0 = (e >= '0' && e <= '7') ? p - 1 : p;
        for (int k = 0; k < digits; k++) {
            int h = d0 + (size_t)k < len ? hexval(s[d0 + (size_t)k]) : -1;
            if (h < 0 || ((e >= '0' && e <= '7') && h > 7)) {
                free(buf);
                return lw_err_set(err, 0, (int)p - 1, "invalid escape sequence");
            }
            cp = cp * ((e >= '0' && e <= '7') ? 8u : 16u) + (uint32_t)h;
        }
        p = d0 + (size_t)digits;
        if (e == 'x' || (e >= '0' && e <= '7')) {
            if (cp > 255) {
                free(buf);
                return lw_err_set(err, 0, (int)p - 1, "octal escape out of range");
            }
            buf[n++] = (char)cp;
        } else {
            if (cp > 0x10ffff || (cp >= 0xd800 && cp < 0xe000)) {
                free(buf);
                return lw_err_set(err, 0, (int)p - 1, "invalid Unicode code point");
            }
            /* \U0001F600 is 10 bytes of input for 4 of output, \u00e9 is 6 for 2. */
            n += utf8_put(buf + n, cp);
        }
    }
    buf[n] = '\0';
    *out = buf;
    *out_len = n;
    *i = p;
    return 0;
}

int seriesnot_unquote(const char *s, size_t len, char **out, size_t *out_len, struct lw_err *err)
{
    if (len == 0 || (s[0] != '"' && s[0] != '\'' && s[0] != '`'))
        return lw_err_set(err, 0, 1, "expected a quoted string");
    size_t i = 0;
    char *str;
    size_t n;
    if (scan_string(s, len, &i, &str, &n, err) != 0)
        return -1;
    if (i != len) {
        free(str);
        return lw_err_set(err, 0, (int)i + 1, "unexpected text after the quoted string");
    }
    *out = str;
    *out_len = n;
    return 0;
}

static void skip_blanks(const char *s, size_t len, size_t *i)
{
    while (*i < len && is_blank(s[*i]))
        (*i)++;
}

static int set_label(struct lw_labels *ls, const char *name, size_t nl, const char *value,
                     size_t vl, size_t col, struct lw_err *err)
{
    if (lw_labels_get(ls, name) != NULL && nl == strlen(name))
        return lw_err_set(err, 0, (int)col, "label %s given twice", name);
    if (lw_labels_setn(ls, name, nl, value, vl) != 0)
        return lw_err_set(err, 0, (int)col, "out of memory");
    return 0;
}

int seriesnot_parse_labels(const char *s, size_t len, struct lw_labels *ls, size_t *used,
                           struct lw_err *err)
{
    size_t i = 0;
    skip_blanks(s, len, &i);
    bool named = false;
    if (i < len && (is_name_start(s[i]) || s[i] == ':')) {
        size_t start = i;
        while (i < len && (is_name_char(s[i]) || s[i] == ':'))
            i++;
        if (set_label(ls, "__name__", 8, s + start, i - start, start + 1, err) != 0)
            return -1;
        named = true;
    }
    if (i >= len || s[i] != '{') {
        if (!named)
            return lw_err_set(err, 0, (int)i + 1, "expected a metric name or '{'");
        *used = i;
        return 0;
    }
    i++;
    for (;;) {
        skip_blanks(s, len, &i);
        if (i < len && s[i] == '}') {
            i++;
            break;
        }
        size_t item_col = i + 1;
        char *name = NULL;
        size_t nl = 0;
        if (i < len && (s[i] == '"' || s[i] == '\'' || s[i] == '`')) {
            if (scan_string(s, len, &i, &name, &nl, err) != 0)
                return -1;
        } else if (i < len && is_name_start(s[i])) {
            size_t start = i;
            while (i < len && is_name_char(s[i]))
                i++;
            nl = i - start;
            name = malloc(nl + 1);
            if (name == NULL)
                return lw_err_set(err, 0, (int)item_col, "out of memory");
            memcpy(name, s + start, nl);
            name[nl] = '\0';
        } else {
            return lw_err_set(err, 0, (int)i + 1, "expected a label name or '}'");
        }
        skip_blanks(s, len, &i);
        if (i < len && s[i] == '=') {
            i++;
            skip_blanks(s, len, &i);
            if (i >= len || (s[i] != '"' && s[i] != '\'' && s[i] != '`')) {
                free(name);
                return lw_err_set(err, 0, (int)i + 1, "expected a quoted label value");
            }
            char *value;
            size_t vl;
            if (scan_string(s, len, &i, &value, &vl, err) != 0) {
                free(name);
                return -1;
            }
            int rc = set_label(ls, name, nl, value, vl, item_col, err);
            free(name);
            free(value);
            if (rc != 0)
                return -1;
        } else if (s[item_col - 1] == '"' || s[item_col - 1] == '\'' || s[item_col - 1] == '`') {
            /* {"metric.name", a="1"}: a bare quoted string is the metric name. */
            int rc = named ? lw_err_set(err, 0, (int)item_col, "metric name given twice")
                           : set_label(ls, "__name__", 8, name, nl, item_col, err);
            free(name);
            if (rc != 0)
                return -1;
            named = true;
        } else {
            free(name);
            return lw_err_set(err, 0, (int)i + 1, "expected '=' after the label name");
        }
        skip_blanks(s, len, &i);
        if (i < len && s[i] == ',') {
            i++;
            continue;
        }
        if (i < len && s[i] == '}') {
            i++;
            break;
        }
        return lw_err_set(err, 0, (int)i + 1, "expected ',' or '}'");
    }
    *used = i;
    return 0;
}

int seriesnot_parse_line(const char *s, size_t len, struct lw_labels *ls,
                         struct seriesnot_values *vals, struct lw_err *err)
{
    size_t used = 0;
    if (seriesnot_parse_labels(s, len, ls, &used, err) != 0)
        return -1;
    if (used < len && !is_blank(s[used]))
        return lw_err_set(err, 0, (int)used + 1, "expected a blank between the series and values");
    struct lw_err sub = {0};
    if (seriesnot_parse_values(s + used, len - used, vals, &sub) != 0) {
        if (err == NULL)
            return -1;
        snprintf(err->msg, sizeof err->msg, "%s", sub.msg);
        err->line = 0;
        err->col = sub.col + (int)used;
        return -1;
    }
    return 0;
}
