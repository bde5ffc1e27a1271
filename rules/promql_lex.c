/*
 * promql_lex.c — the PromQL tokenizer: identifiers (with ':' for recording-rule names), numbers
 * (decimal, hex, exponent, Inf/NaN are left to the parser), durations ("1h30m"), strings with Go
 * escapes or raw backquotes, operators and punctuation, `#` comments. Tokens are scanned on
 * demand by the parser; strings are only decoded when the parser asks for their value.
 */
#include "promql_int.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lagwatch/duration.h"

void pq_pos(const char *src, size_t len, size_t off, int *line, int *col)
{
    int l = 1, c = 1;
    for (size_t i = 0; i < off && i < len; i++) {
        if (src[i] == '\n') {
            l++;
            c = 1;
        } else {
            c++;
        }
    }
    *line = l;
    *col = c;
}

static int lex_err(const struct pq_lexer *lx, size_t off, struct lw_err *err, const char *what,
                   const char *detail)
{
    int line, col;
    pq_pos(lx->src, lx->len, off, &line, &col);
    return lw_err_set(err, line, col, "%s%s", what, detail ? detail : "");
}

static bool is_ident_start(char c)
{
    return isalpha((unsigned char)c) || c == '_';
}

static bool is_ident_char(char c)
{
    return isalnum((unsigned char)c) || c == '_';
}

/* Scan a number or duration starting at s[0] (a digit or '.'). Durations are digit runs each
 * followed by a unit; anything else must be a complete Go-style float or hex literal. */
static int lex_number(struct pq_lexer *lx, struct pq_token *tok, struct lw_err *err)
{
    size_t start = lx->pos, i = start;
    const char *s = lx->src;
    size_t n = lx->len;
    /* The maximal run of characters that may belong to a number or duration. */
    while (i < n) {
        char c = s[i];
        if (isalnum((unsigned char)c) || c == '.' || c == '_') {
            i++;
        } else if ((c == '+' || c == '-') && i > start && (s[i - 1] == 'e' || s[i - 1] == 'E') &&
                   !(i - start >= 2 && (s[start + 1] == 'x' || s[start + 1] == 'X'))) {
            i++;
        } else {
            break;
        }
    }
    size_t len = i - start;
    tok->off = start;
    tok->len = len;
    int64_t ms;
    if (len > 0 && isalpha((unsigned char)s[i - 1]) &&
        duration_parse(s + start, len, &ms, NULL) == 0) {
        tok->kind = PQ_T_DURATION;
        tok->dur_ms = ms;
        tok->num = (double)ms / 1000.0;
        lx->pos = i;
        return 0;
    }
    char buf[128];
    if (len >= sizeof buf)
        return lex_err(lx, start, err, "bad number or duration syntax", NULL);
    size_t bl = 0;
    for (size_t k = start; k < i; k++)
        if (s[k] != '_')
            buf[bl++] = s[k];
    buf[bl] = '\0';
    bool ok = bl > 0;
    for (size_t k = 0; k < bl && ok; k++) {
        char c = buf[k];
        /* strtod also takes "inf", "nan" and hex floats with 'p'; PromQL takes plain forms. */
        if (!(isxdigit((unsigned char)c) || c == '.' || c == 'x' || c == 'X' || c == '+' ||
              c == '-'))
            ok = false;
    }
    char *end = NULL;
    double v = 0;
    if (ok) {
        errno = 0;
        v = strtod(buf, &end);
        ok = end == buf + bl;
    }
    if (!ok)
        return lex_err(lx, start, err, "bad number or duration syntax: ", buf);
    tok->kind = PQ_T_NUMBER;
    tok->num = v;
    lx->pos = i;
    return 0;
}

static int lex_string(struct pq_lexer *lx, struct pq_token *tok, struct lw_err *err)
{
    size_t start = lx->pos;
    char q = lx->src[start];
    size_t i = start + 1;
    while (i < lx->len) {
        char c = lx->src[i];
        if (c == q) {
            tok->kind = PQ_T_STRING;
            tok->off = start;
            tok->len = i + 1 - start;
            lx->pos = i + 1;
            return 0;
        }
        if (q != '`' && c == '\\') {
            i += 2;
            continue;
        }
        if (q != '`' && c == '\n')
            break;
        i++;
    }
    return lex_err(lx, start, err, "unterminated quoted string", NULL);
}

int pq_lex_next(struct pq_lexer *lx, struct pq_token *tok, struct lw_err *err)
{
    const char *s = lx->src;
    size_t n = lx->len;
    for (;;) {
        while (lx->pos < n && isspace((unsigned char)s[lx->pos]))
            lx->pos++;
        if (lx->pos < n && s[lx->pos] == '#') {
            while (lx->pos < n && s[lx->pos] != '\n')
                lx->pos++;
            continue;
        }
        break;
    }
    memset(tok, 0, sizeof *tok);
    tok->off = lx->pos;
    if (lx->pos >= n) {
        tok->kind = PQ_T_EOF;
        return 0;
    }
    size_t p = lx->pos;
    char c = s[p];
    char c1 = p + 1 < n ? s[p + 1] : '\0';
    if (is_ident_start(c)) {
        size_t i = p;
        bool colon = false;
        while (i < n && (is_ident_char(s[i]) || s[i] == ':')) {
            colon |= s[i] == ':';
            i++;
        }
        tok->kind = colon ? PQ_T_METRIC : PQ_T_IDENT;
        tok->len = i - p;
        lx->pos = i;
        return 0;
    }
    if (c == ':' && (is_ident_start(c1) || c1 == ':')) {
        /* A recording-rule name may start with ':' but "[5m:1m]" must still split. */
        size_t i = p;
        while (i < n && (is_ident_char(s[i]) || s[i] == ':'))
            i++;
        tok->kind = PQ_T_METRIC;
        tok->len = i - p;
        lx->pos = i;
        return 0;
    }
    if (isdigit((unsigned char)c) || (c == '.' && isdigit((unsigned char)c1)))
        return lex_number(lx, tok, err);
    if (c == '"' || c == '\'' || c == '`')
        return lex_string(lx, tok, err);
    struct {
        const char *text;
        enum pq_tok kind;
    } ops[] = {
        {"==", PQ_T_EQLC},  {"!=", PQ_T_NEQ},   {"<=", PQ_T_LTE},   {">=", PQ_T_GTE},
        {"=~", PQ_T_RE},    {"!~", PQ_T_NRE},   {"=", PQ_T_ASSIGN}, {"<", PQ_T_LSS},
        {">", PQ_T_GTR},    {"+", PQ_T_ADD},    {"-", PQ_T_SUB},    {"*", PQ_T_MUL},
        {"/", PQ_T_DIV},    {"%", PQ_T_MOD},    {"^", PQ_T_POW},    {"(", PQ_T_LPAREN},
        {")", PQ_T_RPAREN}, {"{", PQ_T_LBRACE}, {"}", PQ_T_RBRACE}, {"[", PQ_T_LBRACK},
        {"]", PQ_T_RBRACK}, {",", PQ_T_COMMA},  {":", PQ_T_COLON},  {"@", PQ_T_AT},
    };
    for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++) {
        size_t l = strlen(ops[k].text);
        if (p + l <= n && memcmp(s + p, ops[k].text, l) == 0) {
            tok->kind = ops[k].kind;
            tok->len = l;
            lx->pos = p + l;
            return 0;
        }
    }
    char what[32];
    if ((unsigned char)c >= 0x20 && (unsigned char)c < 0x7f)
        snprintf(what, sizeof what, "%c", c);
    else
        snprintf(what, sizeof what, "\\x%02x", (unsigned char)c);
    return lex_err(lx, p, err, "unexpected character: ", what);
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

/* Append code point cp as UTF-8. */
static size_t put_utf8(char *out, uint32_t cp)
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

int pq_lex_unquote(const struct pq_lexer *lx, const struct pq_token *tok, char **out,
                   struct lw_err *err)
{
    const char *s = lx->src + tok->off;
    size_t n = tok->len;
    char q = s[0];
    char *r = malloc(n * 2 + 1);
    if (r == NULL)
        return lex_err(lx, tok->off, err, "out of memory", NULL);
    size_t o = 0;
    for (size_t i = 1; i + 1 < n; i++) {
        char c = s[i];
        if (q == '`' || c != '\\') {
            r[o++] = c;
            continue;
        }
        size_t esc = i;
        char e = s[++i];
        switch (e) {
        case 'a':
            r[o++] = '\a';
            break;
        case 'b':
            r[o++] = '\b';
            break;
        case 'f':
            r[o++] = '\f';
            break;
        case 'n':
            r[o++] = '\n';
            break;
        case 'r':
            r[o++] = '\r';
            break;
        case 't':
            r[o++] = '\t';
            break;
        case 'v':
            r[o++] = '\v';
            break;
        case '\\':
            r[o++] = '\\';
            break;
        case '"':
        case '\'':
            if (e != q) {
                free(r);
                return lex_err(lx, tok->off + esc, err, "unknown escape sequence", NULL);
            }
            r[o++] = e;
            break;
        case 'x':
        case 'u':
        case 'U': {
            int digits = e == 'x' ? 2 : e == 'u' ? 4 : 8;
            uint32_t cp = 0;
            for (int k = 0; k < digits; k++) {
                int h = i + 1 + (size_t)k < n - 1 ? hexval(s[i + 1 + (size_t)k]) : -1;
                if (h < 0) {
                    free(r);
                    return lex_err(lx, tok->off + esc, err, "invalid escape sequence", NULL);
                }
                cp = cp * 16 + (uint32_t)h;
            }
            i += (size_t)digits;
            if (e == 'x') {
                r[o++] = (char)cp;
            } else {
                if (cp > 0x10ffff || (cp >= 0xd800 && cp < 0xe000)) {
                    free(r);
                    return lex_err(lx, tok->off + esc, err, "invalid Unicode code point", NULL);
                }
                o += put_utf8(r + o, cp);
            }
            break;
        }
        default:
            if (e >= '0' && e <= '7') {
                uint32_t v = 0;
                for (int k = 0; k < 3; k++) {
                    char d = i + (size_t)k < n - 1 ? s[i + (size_t)k] : 'x';
                    if (d < '0' || d > '7') {
                        free(r);
                        return lex_err(lx, tok->off + esc, err, "invalid escape sequence", NULL);
                    }
                    v = v * 8 + (uint32_t)(d - '0');
                }
                if (v > 255) {
                    free(r);
                    return lex_err(lx, tok->off + esc, err, "invalid escape sequence", NULL);
                }
                i += 2;
                r[o++] = (char)v;
                break;
            }
            free(r);
            return lex_err(lx, tok->off + esc, err, "unknown escape sequence", NULL);
        }
    }
    if (memchr(r, '\0', o) != NULL) {
        /* Label names and values are C strings here: a NUL inside would silently cut them. */
        free(r);
        return lex_err(lx, tok->off, err, "NUL byte in quoted string", NULL);
    }
    r[o] = '\0';
    *out = r;
    return 0;
}
