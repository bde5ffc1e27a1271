/*
 * template_lex.c — the lexer of Go's text/template language (see template.h), after Go's
 * text/template/parse/lex.go: text between actions (with {{- and -}} trimming applied to it),
 * comments dropped, and inside actions Go's tokens (fields, variables, keywords, numbers in all
 * of Go's spellings, quoted, raw and character literals), each with its byte offset. A lexing
 * error ends the token list with a T_ERROR token the parser reports when it reaches it, so the
 * first error in source order wins, as in Go. Also Go's strconv.Unquote for the literals.
 */
#include "template_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int tmpl_is_space(int c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Letters and digits as Go's unicode tables see them; bytes of multi-byte UTF-8 sequences count
 * as letters (identifiers beyond ASCII are rare and need no finer test). */
static int is_alnum(int c)
{
    return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c >= 0x80;
}

static int emit(struct lexer *l, enum tok t, size_t off, size_t len)
{
    if (l->ntoks == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 64;
        struct token *p = realloc(l->toks, ncap * sizeof *p);
        if (!p) {
            l->oom = 1;
            return -1;
        }
        l->toks = p;
        l->cap = ncap;
    }
    l->toks[l->ntoks++] = (struct token){t, off, len};
    return 0;
}

static int lex_error(struct lexer *l, size_t off, const char *msg, int ch)
{
    if (ch >= 0) {
        if (ch >= 0x20 && ch < 0x7f)
            snprintf(l->errmsg, sizeof l->errmsg, "%s U+%04X '%c'", msg, (unsigned)ch, ch);
        else
            snprintf(l->errmsg, sizeof l->errmsg, "%s U+%04X", msg, (unsigned)ch);
    } else {
        snprintf(l->errmsg, sizeof l->errmsg, "%s", msg);
    }
    (void)emit(l, T_ERROR, off, 0);
    return -1;
}

static int has_left_trim(const struct lexer *l, size_t p)
{
    return p + 1 < l->n && l->s[p] == '-' && tmpl_is_space((unsigned char)l->s[p + 1]);
}

/* At a right delimiter ("}}" or " -}}")? Sets *trim for the latter. */
static int at_right_delim(const struct lexer *l, size_t p, int *trim)
{
    if (p + 3 < l->n && tmpl_is_space((unsigned char)l->s[p]) && l->s[p + 1] == '-' &&
        l->s[p + 2] == '}' && l->s[p + 3] == '}') {
        *trim = 1;
        return 1;
    }
    *trim = 0;
    return p + 1 < l->n && l->s[p] == '}' && l->s[p + 1] == '}';
}

static int at_terminator(const struct lexer *l, size_t p)
{
    if (p >= l->n)
        return 1;
    int c = (unsigned char)l->s[p];
    if (tmpl_is_space(c) || c == '.' || c == ',' || c == '|' || c == ':' || c == ')' || c == '(')
        return 1;
    return p + 1 < l->n && c == '}' && l->s[p + 1] == '}';
}

static size_t skip_space(const struct lexer *l, size_t p)
{
    while (p < l->n && tmpl_is_space((unsigned char)l->s[p]))
        p++;
    return p;
}

static const struct {
    const char *word;
    enum tok t;
} keywords[] = {
    {"block", T_BLOCK},
    {"break", T_BREAK},
    {"continue", T_CONTINUE},
    {"define", T_DEFINE},
    {"else", T_ELSE},
    {"end", T_END},
    {"if", T_IF},
    {"nil", T_NIL},
    {"range", T_RANGE},
    {"template", T_TEMPLATE},
    {"with", T_WITH},
};

static int accept(struct lexer *l, const char *set)
{
    if (l->pos < l->n && l->s[l->pos] != '\0' && strchr(set, l->s[l->pos])) {
        l->pos++;
        return 1;
    }
    return 0;
}

static void accept_run(struct lexer *l, const char *set)
{
    while (accept(l, set))
        ;
}

static int scan_number(struct lexer *l)
{
    accept(l, "+-");
    const char *digits = "0123456789_";
    if (accept(l, "0")) {
        if (accept(l, "xX"))
            digits = "0123456789abcdefABCDEF_";
        else if (accept(l, "oO"))
            digits = "01234567_";
        else if (accept(l, "bB"))
            digits = "01_";
    }
    accept_run(l, digits);
    if (accept(l, "."))
        accept_run(l, digits);
    size_t nd = strlen(digits);
    if (nd == 11 && accept(l, "eE")) {
        accept(l, "+-");
        accept_run(l, "0123456789_");
    }
    if (nd == 23 && accept(l, "pP")) {
        accept(l, "+-");
        accept_run(l, "0123456789_");
    }
    accept(l, "i");
    if (l->pos < l->n && is_alnum((unsigned char)l->s[l->pos])) {
        l->pos++;
        return 0;
    }
    return 1;
}

static int lex_bad_number(struct lexer *l, size_t start)
{
    size_t len = l->pos - start;
    snprintf(l->errmsg, sizeof l->errmsg, "bad number syntax: \"%.*s\"", (int)(len > 64 ? 64 : len),
             l->s + start);
    (void)emit(l, T_ERROR, start, 0);
    return -1;
}

/* One action's tokens up to and including the right delimiter. */
static int lex_action(struct lexer *l)
{
    for (;;) {
        int trim;
        if (at_right_delim(l, l->pos, &trim)) {
            if (l->paren_depth != 0)
                return lex_error(l, l->pos, "unclosed left paren", -1);
            if (trim)
                l->pos += 2;
            if (emit(l, T_RIGHT, l->pos, 2) != 0)
                return -1;
            l->pos += 2;
            return trim;
        }
        if (l->pos >= l->n)
            return lex_error(l, l->pos, "unclosed action", -1);
        size_t start = l->pos;
        int c = (unsigned char)l->s[l->pos++];
        enum tok t = T_ERROR;
        if (tmpl_is_space(c)) {
            size_t p = skip_space(l, start);
            size_t nsp = p - start;
            /* " -}}": the last space belongs to the trim marker. */
            if (p + 2 < l->n && l->s[p] == '-' && l->s[p + 1] == '}' && l->s[p + 2] == '}') {
                if (nsp == 1) {
                    l->pos = start;
                    continue;
                }
                p--;
            }
            l->pos = p;
            t = T_SPACE;
        } else if (c == '=') {
            t = T_ASSIGN;
        } else if (c == ':') {
            if (l->pos >= l->n || l->s[l->pos] != '=')
                return lex_error(l, start, "expected :=", -1);
            l->pos++;
            t = T_DECLARE;
        } else if (c == '|') {
            t = T_PIPE;
        } else if (c == '"' || c == '\'') {
            for (;;) {
                if (l->pos >= l->n || l->s[l->pos] == '\n')
                    return lex_error(l, start,
                                     c == '"' ? "unterminated quoted string"
                                              : "unterminated character constant",
                                     -1);
                char ch = l->s[l->pos++];
                if (ch == '\\') {
                    if (l->pos >= l->n || l->s[l->pos] == '\n')
                        return lex_error(l, start,
                                         c == '"' ? "unterminated quoted string"
                                                  : "unterminated character constant",
                                         -1);
                    l->pos++;
                } else if (ch == c) {
                    break;
                }
            }
            t = c == '"' ? T_STR : T_CHARCONST;
        } else if (c == '`') {
            const char *e = memchr(l->s + l->pos, '`', l->n - l->pos);
            if (!e)
                return lex_error(l, start, "unterminated raw quoted string", -1);
            l->pos = (size_t)(e - l->s) + 1;
            t = T_RAWSTR;
        } else if (c == '$' ||
                   (c == '.' && !(l->pos < l->n && l->s[l->pos] >= '0' && l->s[l->pos] <= '9'))) {
            if (c == '$' && at_terminator(l, l->pos)) {
                t = T_VAR;
            } else {
                while (l->pos < l->n && is_alnum((unsigned char)l->s[l->pos]))
                    l->pos++;
                if (c == '.' && l->pos == start + 1) {
                    t = T_DOT;
                } else {
                    if (!at_terminator(l, l->pos))
                        return lex_error(l, l->pos, "bad character", (unsigned char)l->s[l->pos]);
                    t = c == '$' ? T_VAR : T_FIELD;
                }
            }
        } else if (c == '.' || c == '+' || c == '-' || (c >= '0' && c <= '9')) {
            l->pos = start;
            if (!scan_number(l))
                return lex_bad_number(l, start);
            t = T_NUM;
            if (l->pos < l->n && (l->s[l->pos] == '+' || l->s[l->pos] == '-')) {
                if (!scan_number(l) || l->s[l->pos - 1] != 'i')
                    return lex_bad_number(l, start);
                t = T_COMPLEX;
            }
        } else if (is_alnum(c)) {
            while (l->pos < l->n && is_alnum((unsigned char)l->s[l->pos]))
                l->pos++;
            if (!at_terminator(l, l->pos))
                return lex_error(l, l->pos, "bad character", (unsigned char)l->s[l->pos]);
            size_t wl = l->pos - start;
            t = T_IDENT;
            for (size_t i = 0; i < sizeof keywords / sizeof keywords[0]; i++)
                if (strlen(keywords[i].word) == wl &&
                    memcmp(keywords[i].word, l->s + start, wl) == 0)
                    t = keywords[i].t;
            if ((wl == 4 && memcmp(l->s + start, "true", 4) == 0) ||
                (wl == 5 && memcmp(l->s + start, "false", 5) == 0))
                t = T_BOOL;
        } else if (c == '(') {
            l->paren_depth++;
            t = T_LPAREN;
        } else if (c == ')') {
            if (emit(l, T_RPAREN, start, 1) != 0)
                return -1;
            if (--l->paren_depth < 0)
                return lex_error(l, start, "unexpected right paren", c);
            continue;
        } else if (c < 0x7f && c >= 0x20) {
            t = T_CHAR;
        } else {
            return lex_error(l, start, "unrecognized character in action:", c);
        }
        if (emit(l, t, start, l->pos - start) != 0)
            return -1;
    }
}

int tmpl_lex(struct lexer *l)
{
    size_t start = 0;
    for (;;) {
        const char *d = NULL;
        for (size_t p = start; p + 1 < l->n; p++)
            if (l->s[p] == '{' && l->s[p + 1] == '{') {
                d = l->s + p;
                break;
            }
        if (!d) {
            if (l->n > start && emit(l, T_TEXT, start, l->n - start) != 0)
                return -1;
            return emit(l, T_EOF, l->n, 0);
        }
        size_t dpos = (size_t)(d - l->s);
        size_t text_end = dpos;
        int ltrim = has_left_trim(l, dpos + 2);
        if (ltrim)
            while (text_end > start && tmpl_is_space((unsigned char)l->s[text_end - 1]))
                text_end--;
        if (text_end > start && emit(l, T_TEXT, start, text_end - start) != 0)
            return -1;
        size_t after = dpos + 2 + (ltrim ? 2 : 0);
        if (after + 1 < l->n && l->s[after] == '/' && l->s[after + 1] == '*') {
            const char *e = NULL;
            for (size_t p = after + 2; p + 1 < l->n; p++)
                if (l->s[p] == '*' && l->s[p + 1] == '/') {
                    e = l->s + p;
                    break;
                }
            if (!e)
                return lex_error(l, after, "unclosed comment", -1);
            size_t p = (size_t)(e - l->s) + 2;
            int trim;
            if (!at_right_delim(l, p, &trim))
                return lex_error(l, p, "comment ends before closing delimiter", -1);
            p += trim ? 4 : 2;
            if (trim)
                p = skip_space(l, p);
            start = p;
            continue;
        }
        if (emit(l, T_LEFT, dpos, 2) != 0)
            return -1;
        l->pos = after;
        l->paren_depth = 0;
        int rtrim = lex_action(l);
        if (rtrim < 0)
            return -1;
        start = rtrim ? skip_space(l, l->pos) : l->pos;
    }
}

/* Go's strconv.Unquote for "..." and `...` literals; appends the value to out. On a bad escape
 * returns -1 with a message in msg. */
int tmpl_unquote(const char *s, size_t len, struct lw_buf *out, char *msg, size_t msglen)
{
    if (s[0] == '`') {
        for (size_t i = 1; i + 1 < len; i++)
            if (s[i] != '\r' && lw_buf_addc(out, s[i]) != 0)
                return -1;
        return 0;
    }
    for (size_t i = 1; i + 1 < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c != '\\') {
            if (lw_buf_addc(out, (char)c) != 0)
                return -1;
            continue;
        }
        c = (unsigned char)s[++i];
        uint32_t r = 0;
        int ndig = 0, base = 16;
        switch (c) {
        case 'a':
            r = 7;
            break;
        case 'b':
            r = 8;
            break;
        case 'f':
            r = 12;
            break;
        case 'n':
            r = 10;
            break;
        case 'r':
            r = 13;
            break;
        case 't':
            r = 9;
            break;
        case 'v':
            r = 11;
            break;
        case '\\':
            r = '\\';
            break;
        case '"':
            r = '"';
            break;
        case 'x':
            ndig = 2;
            break;
        case 'u':
            ndig = 4;
            break;
        case 'U':
            ndig = 8;
            break;
        default:
            if (c >= '0' && c <= '7') {
                ndig = 3;
                base = 8;
                i--;
                break;
            }
            snprintf(msg, msglen, "invalid syntax");
            return -1;
        }
        if (ndig == 0) {
            if (lw_buf_addc(out, (char)r) != 0)
                return -1;
            continue;
        }
        for (int k = 0; k < ndig; k++) {
            if (i + 1 >= len - 1) {
                snprintf(msg, msglen, "invalid syntax");
                return -1;
            }
            int d = (unsigned char)s[++i];
            int v = d >= '0' && d <= '9'   ? d - '0'
                    : d >= 'a' && d <= 'f' ? d - 'a' + 10
                    : d >= 'A' && d <= 'F' ? d - 'A' + 10
                                           : 99;
            if (v >= base) {
                snprintf(msg, msglen, "invalid syntax");
                return -1;
            }
            r = r * (uint32_t)base + (uint32_t)v;
        }
        if (c == 'x' || base == 8) {
            if (r > 255) {
                snprintf(msg, msglen, "invalid syntax");
                return -1;
            }
            if (lw_buf_addc(out, (char)r) != 0)
                return -1;
            continue;
        }
        if (r > 0x10FFFF || (r >= 0xD800 && r < 0xE000)) {
            snprintf(msg, msglen, "invalid syntax");
            return -1;
        }
        char u[4];
        size_t ul;
        if (r < 0x80) {
            u[0] = (char)r;
            ul = 1;
        } else if (r < 0x800) {
            u[0] = (char)(0xC0 | (r >> 6));
            u[1] = (char)(0x80 | (r & 0x3F));
            ul = 2;
        } else if (r < 0x10000) {
            u[0] = (char)(0xE0 | (r >> 12));
            u[1] = (char)(0x80 | ((r >> 6) & 0x3F));
            u[2] = (char)(0x80 | (r & 0x3F));
            ul = 3;
        } else {
            u[0] = (char)(0xF0 | (r >> 18));
            u[1] = (char)(0x80 | ((r >> 12) & 0x3F));
            u[2] = (char)(0x80 | ((r >> 6) & 0x3F));
            u[3] = (char)(0x80 | (r & 0x3F));
            ul = 4;
        }
        if (lw_buf_add(out, u, ul) != 0)
            return -1;
    }
    return 0;
}

/* Decode one UTF-8 rune of a character constant; returns its length or 0. */
size_t tmpl_utf8_rune(const unsigned char *s, size_t n, uint32_t *r)
{
    if (n == 0)
        return 0;
    if (s[0] < 0x80) {
        *r = s[0];
        return 1;
    }
    size_t len = (s[0] & 0xE0) == 0xC0   ? 2
                 : (s[0] & 0xF0) == 0xE0 ? 3
                 : (s[0] & 0xF8) == 0xF0 ? 4
                                         : 0;
    if (len == 0 || len > n)
        return 0;
    uint32_t v = s[0] & (0x7F >> len);
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3F);
    }
    *r = v;
    return len;
}
