/*
 * template_func.c — the functions Prometheus and Alertmanager add to Go's builtins (those are in
 * template_builtin.c), and the function table: Prometheus's query-free functions (humanize*,
 * toTime, title, toUpper, toLower, reReplaceAll, match, safeHtml, args, graphLink, tableLink,
 * stripPort, parseDuration, externalURL, pathPrefix; query, first, label, value, strvalue and
 * sortByLabel are refused at parse), Alertmanager's join and stringSlice. Regular expressions
 * are Go's RE2 syntax run on PCRE2: constructs RE2 refuses (lookaround, backreferences, atomic
 * groups, possessive quantifiers) are refused with Go's words, `$` matches only at the end as
 * in RE2, and invalid UTF-8 subjects are matched, not rejected. Case mapping beyond ASCII uses
 * the C.UTF-8 locale's tables through newlocale(), so the process locale never matters.
 */
#define _GNU_SOURCE
#define PCRE2_CODE_UNIT_WIDTH 8
#include "template_int.h"

#include <errno.h>
#include <inttypes.h>
#include <locale.h>
#include <math.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wctype.h>

#include "lagwatch/duration.h"
#include "lagwatch/limits.h"

int tmpl_fn_ret(struct tmpl_value *v, struct tmpl_value **out, char *msg, size_t msglen)
{
    if (!v)
        FAIL("out of memory");
    *out = v;
    return 0;
}

int tmpl_fn_ret_buf(struct lw_buf *b, struct tmpl_value **out, char *msg, size_t msglen)
{
    if (lw_buf_failed(b)) {
        lw_buf_cleanup(b);
        FAIL("result exceeds %u bytes", LW_MAX_TMPL_OUTPUT_BYTES);
    }
    struct tmpl_value *v = tmpl_value_strn(lw_buf_str(b), b->len);
    lw_buf_cleanup(b);
    return tmpl_fn_ret(v, out, msg, msglen);
}

/* ---- UTF-8 and case mapping ---- */

/* Decode one rune as Go does: an invalid or short sequence is U+FFFD of width 1. */
uint32_t tmpl_decode_rune(const unsigned char *s, size_t n, size_t *w)
{
    if (s[0] < 0x80) {
        *w = 1;
        return s[0];
    }
    size_t len = (s[0] & 0xE0) == 0xC0   ? 2
                 : (s[0] & 0xF0) == 0xE0 ? 3
                 : (s[0] & 0xF8) == 0xF0 ? 4
                                         : 0;
    *w = 1;
    if (len == 0 || len > n)
        return 0xFFFD;
    uint32_t r = s[0] & (0x7F >> len);
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0xFFFD;
        r = (r << 6) | (s[i] & 0x3F);
    }
    static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
    if (r < min[len] || r > 0x10FFFF || (r >= 0xD800 && r < 0xE000))
        return 0xFFFD;
    *w = len;
    return r;
}

static locale_t utf8_locale(void)
{
    static locale_t loc;
    static int tried;
    if (!tried) {
        tried = 1;
        loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
    }
    return loc;
}

enum casemap { CASE_UPPER, CASE_LOWER, CASE_TITLE };

static uint32_t map_rune(uint32_t r, enum casemap m)
{
    if (r < 0x80) {
        if (m == CASE_LOWER)
            return r >= 'A' && r <= 'Z' ? r + 32 : r;
        return r >= 'a' && r <= 'z' ? r - 32 : r;
    }
    locale_t loc = utf8_locale();
    if (loc == (locale_t)0)
        return r;
    return (uint32_t)(m == CASE_LOWER ? towlower_l((wint_t)r, loc) : towupper_l((wint_t)r, loc));
}

static bool is_ascii(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] >= 0x80)
            return false;
    return true;
}

/* Go's strings.Title separators: anything but letters, digits and '_' (ASCII), spaces beyond. */
static bool is_separator(uint32_t r)
{
    if (r < 0x80)
        return !((r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') ||
                 r == '_');
    locale_t loc = utf8_locale();
    if (loc != (locale_t)0 && iswalnum_l((wint_t)r, loc))
        return false;
    return r == 0x85 || r == 0xA0 || r == 0x1680 || (r >= 0x2000 && r <= 0x200A) || r == 0x2028 ||
           r == 0x2029 || r == 0x202F || r == 0x205F || r == 0x3000;
}

static int casemap(const struct tmpl_value *s, enum casemap m, struct tmpl_value **out, char *msg,
                   size_t msglen)
{
    struct lw_buf b;
    lw_buf_init(&b, LW_MAX_TMPL_OUTPUT_BYTES);
    const unsigned char *p = (const unsigned char *)s->s;
    bool ascii = is_ascii(s->s, s->len);
    uint32_t prev = ' ';
    for (size_t i = 0; i < s->len;) {
        size_t w;
        uint32_t r = tmpl_decode_rune(p + i, s->len - i, &w);
        uint32_t o = r;
        if (m == CASE_TITLE) {
            if (is_separator(prev))
                o = map_rune(r, CASE_TITLE);
            prev = r;
        } else {
            o = map_rune(r, m);
        }
        if (ascii || r != 0xFFFD || w != 1) {
            if (o == r && !(r == 0xFFFD && w == 1))
                (void)lw_buf_add(&b, s->s + i, w);
            else
                (void)tmpl_put_rune(o, &b);
        } else {
            (void)tmpl_put_rune(0xFFFD, &b); /* strings.Map replaces invalid bytes */
        }
        i += w;
    }
    return tmpl_fn_ret_buf(&b, out, msg, msglen);
}

/* ---- regular expressions ---- */

/* Constructs PCRE2 accepts but Go's RE2 refuses; 0 or -1 with Go's message. */
static int re2_syntax_check(const char *p, char *msg, size_t msglen)
{
    bool in_class = false;
    for (size_t i = 0; p[i]; i++) {
        if (p[i] == '\\') {
            char c = p[i + 1];
            if (c == '\0')
                FAIL("error parsing regexp: trailing backslash at end of expression: ``");
            if (!in_class && ((c >= '1' && c <= '9') || c == 'g' || c == 'k' || c == 'K' ||
                              c == 'R' || c == 'X' || c == 'Z' || c == 'G' || c == 'h' ||
                              c == 'H' || c == 'V' || c == 'N' || c == 'c' || c == 'e'))
                FAIL("error parsing regexp: invalid escape sequence: `\\%c`", c);
            i++;
            continue;
        }
        if (in_class) {
            if (p[i] == ']')
                in_class = false;
            continue;
        }
        if (p[i] == '[') {
            in_class = true;
            if (p[i + 1] == '^')
                i++;
            if (p[i + 1] == ']')
                i++;
            continue;
        }
        if (p[i] == '(' && p[i + 1] == '?') {
            const char *q = p + i + 2;
            size_t l = 0;
            if (*q == '=' || *q == '!' || *q == '>' || *q == '|' || *q == '#' || *q == 'R' ||
                (*q >= '0' && *q <= '9') || *q == '&' || *q == '+' || *q == '(')
                l = 1;
            else if (*q == '<' || (*q == 'P' && (q[1] == '=' || q[1] == '>')))
                l = 2;
            if (l)
                FAIL("error parsing regexp: invalid or unsupported Perl syntax: `(?%.*s`", (int)l,
                     q);
        }
        if ((p[i] == '*' || p[i] == '+' || p[i] == '?' || p[i] == '}') && p[i + 1] == '+' && i > 0)
            FAIL("error parsing regexp: invalid nested repetition operator: `%c+`", p[i]);
    }
    return 0;
}

static pcre2_code *re_compile(const char *pattern, size_t plen, char *msg, size_t msglen)
{
    if (strlen(pattern) != plen) {
        snprintf(msg, msglen, "error parsing regexp: invalid UTF-8: `%s`", pattern);
        return NULL;
    }
    if (re2_syntax_check(pattern, msg, msglen) != 0)
        return NULL;
    int code;
    PCRE2_SIZE off;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, plen,
                                   PCRE2_UTF | PCRE2_DOLLAR_ENDONLY | PCRE2_MATCH_INVALID_UTF,
                                   &code, &off, NULL);
    if (re)
        return re;
    /* Go's wording for the common mistakes; PCRE2's text otherwise. */
    const char *what = NULL;
    switch (code) {
    case 114:
        what = "missing closing )";
        break;
    case 122:
        what = "unexpected )";
        break;
    case 106:
        what = "missing closing ]";
        break;
    case 109:
        what = "missing argument to repetition operator";
        break;
    case 108:
        what = "invalid character class range";
        break;
    default:
        break;
    }
    if (what) {
        snprintf(msg, msglen, "error parsing regexp: %s: `%s`", what, pattern);
    } else {
        PCRE2_UCHAR m[256];
        pcre2_get_error_message(code, m, sizeof m);
        snprintf(msg, msglen, "error parsing regexp: %s: `%s`", (const char *)m, pattern);
    }
    return NULL;
}

int tmpl_regexp_check(const char *pattern, char *msg, size_t msglen)
{
    pcre2_code *re = re_compile(pattern, strlen(pattern), msg, msglen);
    if (!re)
        return -1;
    pcre2_code_free(re);
    return 0;
}

/* Go's Regexp.expand of a $-template for one match. */
static void expand(const pcre2_code *re, const char *tpl, size_t tlen, const char *src,
                   const PCRE2_SIZE *ov, uint32_t npairs, struct lw_buf *b)
{
    size_t i = 0;
    while (i < tlen) {
        const char *d = memchr(tpl + i, '$', tlen - i);
        if (!d) {
            (void)lw_buf_add(b, tpl + i, tlen - i);
            return;
        }
        (void)lw_buf_add(b, tpl + i, (size_t)(d - tpl) - i);
        i = (size_t)(d - tpl) + 1;
        if (i < tlen && tpl[i] == '$') {
            (void)lw_buf_addc(b, '$');
            i++;
            continue;
        }
        /* extract: a name of letters, digits and '_', optionally in braces */
        size_t j = i;
        bool brace = false;
        if (j < tlen && tpl[j] == '{') {
            brace = true;
            j++;
        }
        size_t ns = j;
        while (j < tlen) {
            size_t w;
            uint32_t r = tmpl_decode_rune((const unsigned char *)tpl + j, tlen - j, &w);
            bool ok = r == '_' || (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') ||
                      (r >= 'A' && r <= 'Z');
            if (!ok && r >= 0x80) {
                locale_t loc = utf8_locale();
                ok = loc != (locale_t)0 && iswalnum_l((wint_t)r, loc);
            }
            if (!ok)
                break;
            j += w;
        }
        size_t nl = j - ns;
        if (nl == 0 || (brace && (j >= tlen || tpl[j] != '}'))) {
            (void)lw_buf_addc(b, '$'); /* malformed: the $ is literal */
            continue;
        }
        const char *name = tpl + ns;
        i = brace ? j + 1 : j;
        long num = 0;
        for (size_t k = 0; k < nl; k++) {
            if (name[k] < '0' || name[k] > '9' || num >= 100000000) {
                num = -1;
                break;
            }
            num = num * 10 + (name[k] - '0');
        }
        if (name[0] == '0' && nl > 1)
            num = -1;
        if (num < 0) {
            char nm[256];
            if (nl >= sizeof nm)
                continue;
            memcpy(nm, name, nl);
            nm[nl] = '\0';
            int g = pcre2_substring_number_from_name(re, (PCRE2_SPTR)nm);
            if (g < 0)
                continue;
            num = g;
        }
        if ((uint32_t)num < npairs && ov[2 * num] != PCRE2_UNSET)
            (void)lw_buf_add(b, src + ov[2 * num], ov[2 * num + 1] - ov[2 * num]);
    }
}

/* A match context with PCRE2's backtracking bounded (NULL when memory runs out). */
static pcre2_match_context *match_context(void)
{
    pcre2_match_context *mc = pcre2_match_context_create(NULL);
    if (mc)
        pcre2_set_match_limit(mc, LW_TMPL_REGEXP_MATCH_LIMIT);
    return mc;
}

static int fn_re_replace_all(FN_ARGS)
{
    (void)n;
    char emsg[LW_ERR_MSG_MAX];
    pcre2_code *re = re_compile(a[0]->s, a[0]->len, emsg, sizeof emsg);
    if (!re) {
        /* MustCompile panics; text/template turns the panic into this error. */
        FAIL("regexp: Compile(`%s`): %s", a[0]->s, emsg);
    }
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
    pcre2_match_context *mc = match_context();
    if (!md || !mc) {
        pcre2_match_data_free(md);
        pcre2_match_context_free(mc);
        pcre2_code_free(re);
        FAIL("out of memory");
    }
    const char *src = a[2]->s;
    size_t end = a[2]->len;
    struct lw_buf b;
    lw_buf_init(&b, LW_MAX_TMPL_OUTPUT_BYTES);
    size_t last_end = 0, pos = 0;
    unsigned long iters = 0;
    int failed = 0;
    while (pos <= end) {
        int rc = pcre2_match(re, (PCRE2_SPTR)src, end, pos, 0, md, mc);
        if (rc == PCRE2_ERROR_MATCHLIMIT || ++iters > LW_MAX_TMPL_STEPS || tmpl_exec_overdue(st)) {
            failed = 1;
            break;
        }
        if (rc < 0)
            break;
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        uint32_t np = pcre2_get_ovector_count(md);
        (void)lw_buf_add(&b, src + last_end, ov[0] > last_end ? ov[0] - last_end : 0);
        if (ov[1] > last_end || ov[0] == 0)
            expand(re, a[1]->s, a[1]->len, src, ov, np, &b);
        last_end = ov[1];
        size_t w = 0;
        if (pos < end)
            (void)tmpl_decode_rune((const unsigned char *)src + pos, end - pos, &w);
        if (pos + w > ov[1])
            pos += w;
        else if (pos + 1 > ov[1])
            pos++;
        else
            pos = ov[1];
        if (lw_buf_failed(&b))
            break;
    }
    if (last_end < end)
        (void)lw_buf_add(&b, src + last_end, end - last_end);
    pcre2_match_data_free(md);
    pcre2_match_context_free(mc);
    pcre2_code_free(re);
    if (failed) {
        lw_buf_cleanup(&b);
        FAIL("regexp matching exceeded its limit (%u backtracking steps) or the time left",
             LW_TMPL_REGEXP_MATCH_LIMIT);
    }
    return tmpl_fn_ret_buf(&b, out, msg, msglen);
}

static int fn_match(FN_ARGS)
{
    (void)st;
    (void)n;
    pcre2_code *re = re_compile(a[0]->s, a[0]->len, msg, msglen);
    if (!re)
        return -1;
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
    pcre2_match_context *mc = match_context();
    if (!md || !mc) {
        pcre2_match_data_free(md);
        pcre2_match_context_free(mc);
        pcre2_code_free(re);
        FAIL("out of memory");
    }
    int rc = pcre2_match(re, (PCRE2_SPTR)a[1]->s, a[1]->len, 0, 0, md, mc);
    pcre2_match_data_free(md);
    pcre2_match_context_free(mc);
    pcre2_code_free(re);
    if (rc == PCRE2_ERROR_MATCHLIMIT)
        FAIL("regexp matching exceeded its limit (%u backtracking steps)",
             LW_TMPL_REGEXP_MATCH_LIMIT);
    return tmpl_fn_ret(tmpl_value_bool(rc >= 0), out, msg, msglen);
}

/* ---- Prometheus ---- */

/* strconv.ParseFloat; 0 or -1 with Go's message. */
static int go_parse_float(const char *s, size_t len, double *v, char *msg, size_t msglen)
{
    char buf[128];
    size_t bl = 0;
    bool bad = len == 0 || len >= sizeof buf || strlen(s) != len;
    const char *p = s;
    if (!bad) {
        size_t i = 0;
        if (p[i] == '+' || p[i] == '-')
            buf[bl++] = p[i++];
        const char *rest = p + i;
        if (strcasecmp(rest, "inf") == 0 || strcasecmp(rest, "infinity") == 0 ||
            strcasecmp(rest, "nan") == 0) {
            if (rest[0] == 'n' || rest[0] == 'N') {
                if (i > 0)
                    bad = true;
                *v = NAN;
            } else {
                *v = p[0] == '-' ? -INFINITY : INFINITY;
            }
            if (!bad)
                return 0;
        }
        bool hex = rest[0] == '0' && (rest[1] == 'x' || rest[1] == 'X');
        for (; !bad && i < len; i++) {
            char c = p[i];
            if (c == '_')
                continue;
            bool ok = (c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' ||
                      c == '-' || (hex && (strchr("xXpPabcdefABCDEF", c) != NULL));
            if (!ok)
                bad = true;
            buf[bl++] = c;
        }
        buf[bl] = '\0';
        if (!bad && hex && !strpbrk(buf, "pP"))
            bad = true;
        if (!bad) {
            char *end;
            errno = 0;
            *v = strtod(buf, &end);
            if (*end != '\0' || end == buf)
                bad = true;
            else if (errno == ERANGE && isinf(*v))
                FAIL("strconv.ParseFloat: parsing \"%.*s\": value out of range", (int)len, s);
            else
                return 0;
        }
    }
    struct lw_buf q;
    lw_buf_init(&q, 4096);
    (void)lw_buf_adds(&q, "strconv.ParseFloat: parsing ");
    struct tmpl_value sv = {.kind = TMPL_STR, .s = (char *)s, .len = len};
    struct tmpl_value *args[] = {&sv};
    (void)tmpl_sprintf("%q: invalid syntax", 18, args, 1, &q);
    snprintf(msg, msglen, "%s", lw_buf_str(&q));
    lw_buf_cleanup(&q);
    return -1;
}

/* Prometheus's convertToFloat. */
static int to_float(const struct tmpl_value *v, double *out, char *msg, size_t msglen)
{
    switch (v->kind) {
    case TMPL_NUM:
        *out = v->num;
        return 0;
    case TMPL_INT:
        *out = (double)v->i;
        return 0;
    case TMPL_STR:
        return go_parse_float(v->s, v->len, out, msg, msglen);
    default:
        FAIL("can't convert %s to float", tmpl_go_type(v));
    }
}

typedef int (*numfmt)(double, struct lw_buf *);

static int humanize_with(numfmt f, FN_ARGS)
{
    (void)st;
    (void)n;
    double v;
    if (to_float(a[0], &v, msg, msglen) != 0)
        return -1;
    struct lw_buf b;
    lw_buf_init(&b, 4096);
    (void)f(v, &b);
    return tmpl_fn_ret_buf(&b, out, msg, msglen);
}

static int fn_humanize(FN_ARGS)
{
    return humanize_with(template_humanize, st, a, n, out, msg, msglen);
}
static int fn_humanize1024(FN_ARGS)
{
    return humanize_with(template_humanize1024, st, a, n, out, msg, msglen);
}
static int fn_humanize_duration(FN_ARGS)
{
    return humanize_with(template_humanize_duration, st, a, n, out, msg, msglen);
}
static int fn_humanize_percentage(FN_ARGS)
{
    return humanize_with(template_humanize_percentage, st, a, n, out, msg, msglen);
}

static int time_check(double v, bool nan_ok, char *msg, size_t msglen)
{
    if (!isfinite(v)) {
        if (nan_ok)
            return 1;
        FAIL("value is NaN or Inf");
    }
    if (v * 1e9 > 9223372036854775807.0 || v * 1e9 < -9223372036854775808.0) {
        struct lw_buf b;
        lw_buf_init(&b, 128);
        (void)template_fmt_float_v(v, &b);
        snprintf(msg, msglen,
                 "%s cannot be represented as a nanoseconds timestamp since it overflows int64",
                 lw_buf_str(&b));
        lw_buf_cleanup(&b);
        return -1;
    }
    return 0;
}

static int fn_humanize_timestamp(FN_ARGS)
{
    (void)st;
    (void)n;
    double v;
    if (to_float(a[0], &v, msg, msglen) != 0 || time_check(v, true, msg, msglen) < 0)
        return -1;
    struct lw_buf b;
    lw_buf_init(&b, 4096);
    (void)template_humanize_timestamp(v, &b);
    return tmpl_fn_ret_buf(&b, out, msg, msglen);
}

static int fn_to_time(FN_ARGS)
{
    (void)st;
    (void)n;
    double v;
    if (to_float(a[0], &v, msg, msglen) != 0 || time_check(v, false, msg, msglen) != 0)
        return -1;
    struct lw_buf b;
    lw_buf_init(&b, 4096);
    (void)template_humanize_timestamp(v, &b);
    return tmpl_fn_ret_buf(&b, out, msg, msglen);
}

static int fn_title(FN_ARGS)
{
    (void)st;
    (void)n;
    return casemap(a[0], CASE_TITLE, out, msg, msglen);
}
static int fn_to_upper(FN_ARGS)
{
    (void)st;
    (void)n;
    return casemap(a[0], CASE_UPPER, out, msg, msglen);
}
static int fn_to_lower(FN_ARGS)
{
    (void)st;
    (void)n;
    return casemap(a[0], CASE_LOWER, out, msg, msglen);
}

static int fn_identity_str(FN_ARGS)
{
    (void)st;
    (void)n;
    return tmpl_fn_ret(tmpl_value_ref(a[0]), out, msg, msglen);
}

static int fn_args(FN_ARGS)
{
    (void)st;
    struct tmpl_value *m = tmpl_value_map(false);
    for (size_t i = 0; m && i < n; i++) {
        char key[32];
        snprintf(key, sizeof key, "arg%zu", i);
        if (tmpl_value_set(m, key, tmpl_value_ref(a[i])) != 0) {
            tmpl_value_unref(m);
            m = NULL;
        }
    }
    return tmpl_fn_ret(m, out, msg, msglen);
}

void tmpl_query_escape(const char *s, size_t len, struct lw_buf *b)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~')
            (void)lw_buf_addc(b, (char)c);
        else if (c == ' ')
            (void)lw_buf_addc(b, '+');
        else
            (void)lw_buf_addf(b, "%%%02X", c);
    }
}

static int graph_link(const struct tmpl_value *expr, int tab, struct tmpl_value **out, char *msg,
                      size_t msglen)
{
    struct lw_buf b;
    lw_buf_init(&b, LW_MAX_TMPL_OUTPUT_BYTES);
    (void)lw_buf_adds(&b, "/graph?g0.expr=");
    tmpl_query_escape(expr->s, expr->len, &b);
    (void)lw_buf_addf(&b, "&g0.tab=%d", tab);
    return tmpl_fn_ret_buf(&b, out, msg, msglen);
}

static int fn_graph_link(FN_ARGS)
{
    (void)st;
    (void)n;
    return graph_link(a[0], 0, out, msg, msglen);
}
static int fn_table_link(FN_ARGS)
{
    (void)st;
    (void)n;
    return graph_link(a[0], 1, out, msg, msglen);
}

/* net.SplitHostPort's host, or the input when it is not host:port. */
static int fn_strip_port(FN_ARGS)
{
    (void)st;
    (void)n;
    const char *s = a[0]->s;
    size_t len = a[0]->len;
    const char *colon = NULL;
    for (size_t i = len; i-- > 0;)
        if (s[i] == ':') {
            colon = s + i;
            break;
        }
    if (!colon)
        return tmpl_fn_ret(tmpl_value_ref(a[0]), out, msg, msglen);
    size_t hl = (size_t)(colon - s);
    const char *host = s;
    if (s[0] == '[') {
        const char *rb = memchr(s, ']', len);
        if (!rb || rb + 1 != colon)
            return tmpl_fn_ret(tmpl_value_ref(a[0]), out, msg, msglen);
        host = s + 1;
        hl = (size_t)(rb - s) - 1;
        if (memchr(host, '[', hl) || memchr(colon + 1, '[', len - hl - 3) ||
            memchr(colon + 1, ']', len - hl - 3))
            return tmpl_fn_ret(tmpl_value_ref(a[0]), out, msg, msglen);
    } else if (memchr(s, ':', hl) || memchr(s, '[', len) || memchr(s, ']', len)) {
        return tmpl_fn_ret(tmpl_value_ref(a[0]), out, msg, msglen);
    }
    return tmpl_fn_ret(tmpl_value_strn(host, hl), out, msg, msglen);
}

static int fn_parse_duration(FN_ARGS)
{
    (void)st;
    (void)n;
    int64_t ms;
    if (a[0]->len == 0)
        FAIL("empty duration string");
    if (duration_parse(a[0]->s, a[0]->len, &ms, NULL) != 0)
        FAIL("not a valid duration string: \"%s\"", a[0]->s);
    return tmpl_fn_ret(tmpl_value_num((double)ms / 1000.0), out, msg, msglen);
}

static int fn_external_url(FN_ARGS)
{
    (void)a;
    (void)n;
    return tmpl_fn_ret(tmpl_value_str(tmpl_exec_external_url(st)), out, msg, msglen);
}

static int fn_path_prefix(FN_ARGS)
{
    (void)a;
    (void)n;
    const char *u = tmpl_exec_external_url(st);
    const char *p = strstr(u, "://");
    p = p ? strchr(p + 3, '/') : (u[0] == '/' ? u : NULL);
    if (!p)
        return tmpl_fn_ret(tmpl_value_str(""), out, msg, msglen);
    size_t len = strcspn(p, "?#");
    return tmpl_fn_ret(tmpl_value_strn(p, len), out, msg, msglen);
}

/* ---- Alertmanager ---- */

static int fn_join(FN_ARGS)
{
    (void)st;
    (void)n;
    if (a[1]->kind != TMPL_LIST)
        FAIL("wrong type for value; expected []string; got %s", tmpl_go_type(a[1]));
    struct lw_buf b;
    lw_buf_init(&b, LW_MAX_TMPL_OUTPUT_BYTES);
    for (size_t i = 0; i < a[1]->n; i++) {
        const struct tmpl_value *e = a[1]->items[i];
        if (!e || e->kind != TMPL_STR) {
            lw_buf_cleanup(&b);
            FAIL("wrong type for value; expected []string; got %s", tmpl_go_type(a[1]));
        }
        if (i > 0)
            (void)lw_buf_add(&b, a[0]->s, a[0]->len);
        (void)lw_buf_add(&b, e->s, e->len);
    }
    return tmpl_fn_ret_buf(&b, out, msg, msglen);
}

static int fn_string_slice(FN_ARGS)
{
    (void)st;
    struct tmpl_value *l = tmpl_value_list();
    for (size_t i = 0; l && i < n; i++)
        if (tmpl_value_append(l, tmpl_value_ref(a[i])) != 0) {
            tmpl_value_unref(l);
            l = NULL;
        }
    return tmpl_fn_ret(l, out, msg, msglen);
}

bool tmpl_rune_printable(uint32_t r)
{
    if (r < 0xA0)
        return r >= 0x20 && r != 0x7f && r < 0x80;
    if (r == 0xAD || r == 0xFFFD + 1 || (r >= 0x2028 && r <= 0x202E) ||
        (r >= 0x2060 && r <= 0x206F) || r == 0xFEFF || (r >= 0xFFF9 && r <= 0xFFFB) ||
        (r >= 0xE000 && r <= 0xF8FF))
        return false;
    locale_t loc = utf8_locale();
    return loc == (locale_t)0 || iswprint_l((wint_t)r, loc);
}

#define PROM (1u << TMPL_PROMETHEUS)
#define AM   (1u << TMPL_ALERTMANAGER)
#define QUERY_REFUSED(fn)                                                                \
    {                                                                                    \
        fn, "", false, PROM,                                                             \
            fn " is not supported in lagwatch templates: it works on query results and " \
               "query is not supported",                                                 \
            NULL                                                                         \
    }

static const struct tmpl_func funcs[] = {
    /* Prometheus */
    {"args", "a", true, PROM, NULL, fn_args},
    {"externalURL", "", false, PROM, NULL, fn_external_url},
    {"graphLink", "s", false, PROM, NULL, fn_graph_link},
    {"humanize", "a", false, PROM, NULL, fn_humanize},
    {"humanize1024", "a", false, PROM, NULL, fn_humanize1024},
    {"humanizeDuration", "a", false, PROM, NULL, fn_humanize_duration},
    {"humanizePercentage", "a", false, PROM, NULL, fn_humanize_percentage},
    {"humanizeTimestamp", "a", false, PROM, NULL, fn_humanize_timestamp},
    {"match", "ss", false, PROM | AM, NULL, fn_match},
    {"parseDuration", "s", false, PROM, NULL, fn_parse_duration},
    {"pathPrefix", "", false, PROM, NULL, fn_path_prefix},
    {"reReplaceAll", "sss", false, PROM | AM, NULL, fn_re_replace_all},
    {"safeHtml", "s", false, PROM | AM, NULL, fn_identity_str},
    {"stripPort", "s", false, PROM, NULL, fn_strip_port},
    {"tableLink", "s", false, PROM, NULL, fn_table_link},
    {"title", "s", false, PROM | AM, NULL, fn_title},
    {"toLower", "s", false, PROM | AM, NULL, fn_to_lower},
    {"toTime", "a", false, PROM, NULL, fn_to_time},
    {"toUpper", "s", false, PROM | AM, NULL, fn_to_upper},
    {"query", "", false, PROM, "query is not supported in lagwatch templates", NULL},
    QUERY_REFUSED("first"),
    QUERY_REFUSED("label"),
    QUERY_REFUSED("value"),
    QUERY_REFUSED("strvalue"),
    QUERY_REFUSED("sortByLabel"),
    /* Alertmanager */
    {"join", "sv", false, AM, NULL, fn_join},
    {"stringSlice", "s", true, AM, NULL, fn_string_slice},
};

const struct tmpl_func *tmpl_func_find(const char *name, size_t len)
{
    for (size_t i = 0; i < tmpl_nbuiltins; i++)
        if (strlen(tmpl_builtins[i].name) == len && memcmp(tmpl_builtins[i].name, name, len) == 0)
            return &tmpl_builtins[i];
    for (size_t i = 0; i < sizeof funcs / sizeof funcs[0]; i++)
        if (strlen(funcs[i].name) == len && memcmp(funcs[i].name, name, len) == 0)
            return &funcs[i];
    return NULL;
}
