/*
 * amatcher.c — parser for Alertmanager's classic matcher syntax (see amatcher.h). It follows
 * Alertmanager 0.25's rules: a label name [a-zA-Z_:][a-zA-Z0-9_:]*, optional spaces, one of
 * =~ = != !~, then the value, trimmed of spaces; a value starting with a double quote must end
 * with one, inside it \" \\ and \n are escapes and a bare quote is an error. Unquoted values run
 * to the end of the matcher (lists split on commas outside quotes first).
 */
#include "lagwatch/amatcher.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "lagwatch/buf.h"
#include "lagwatch/limits.h"

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static bool name_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
}

static bool name_char(char c)
{
    return name_start(c) || (c >= '0' && c <= '9');
}

/* Unescape a value; quoted says whether it was wrapped in quotes (already stripped). */
static int unescape(const char *v, size_t n, bool quoted, int col0, struct lw_buf *out,
                    struct lw_err *err)
{
    for (size_t i = 0; i < n; i++) {
        char c = v[i];
        if (c == '\\' && i + 1 < n) {
            char e = v[i + 1];
            if (e == '"' || e == '\\') {
                lw_buf_addc(out, e);
                i++;
                continue;
            }
            if (e == 'n') {
                lw_buf_addc(out, '\n');
                i++;
                continue;
            }
            lw_buf_addc(out, c); /* unknown escapes stay as written, as Alertmanager keeps them */
            continue;
        }
        if (c == '"' && quoted)
            return lw_err_set(err, 0, col0 + (int)i,
                              "matcher value contains an unescaped double quote");
        lw_buf_addc(out, c);
    }
    if (lw_buf_failed(out))
        return lw_err_set(err, 0, col0, "matcher value too long");
    return 0;
}

int amatcher_parse(const char *s, size_t len, struct lw_matcher *out, struct lw_err *err)
{
    size_t i = 0;
    while (i < len && is_space(s[i]))
        i++;
    size_t name_at = i;
    if (i >= len || !name_start(s[i]))
        return lw_err_set(err, 0, (int)i + 1, "bad matcher: expected a label name");
    while (i < len && name_char(s[i]))
        i++;
    size_t name_len = i - name_at;
    while (i < len && is_space(s[i]))
        i++;
    enum lw_match_op op;
    if (i + 1 < len && s[i] == '=' && s[i + 1] == '~') {
        op = LW_MATCH_RE;
        i += 2;
    } else if (i + 1 < len && s[i] == '!' && s[i + 1] == '=') {
        op = LW_MATCH_NE;
        i += 2;
    } else if (i + 1 < len && s[i] == '!' && s[i + 1] == '~') {
        op = LW_MATCH_NRE;
        i += 2;
    } else if (i < len && s[i] == '=') {
        op = LW_MATCH_EQ;
        i += 1;
    } else {
        return lw_err_set(err, 0, (int)i + 1, "bad matcher: expected =, !=, =~ or !~");
    }
    while (i < len && is_space(s[i]))
        i++;
    size_t end = len;
    while (end > i && is_space(s[end - 1]))
        end--;
    const char *v = s + i;
    size_t vn = end - i;
    bool quoted = false;
    int col0 = (int)i + 1;
    if (vn > 0 && v[0] == '"') {
        /* The closing quote must be the last character and not itself escaped. */
        size_t bs = 0;
        for (size_t k = vn - 1; vn >= 2 && k > 0 && v[k - 1] == '\\'; k--)
            bs++;
        if (vn < 2 || v[vn - 1] != '"' || bs % 2 == 1)
            return lw_err_set(err, 0, (int)end + 1, "matcher value lacks its closing double quote");
        quoted = true;
        v++;
        vn -= 2;
        col0++;
    }
    struct lw_buf value;
    lw_buf_init(&value, LW_MAX_MATCHER_BYTES);
    if (unescape(v, vn, quoted, col0, &value, err) != 0) {
        lw_buf_cleanup(&value);
        return -1;
    }
    char name[LW_MAX_LABEL_NAME_BYTES + 1];
    if (name_len > LW_MAX_LABEL_NAME_BYTES) {
        lw_buf_cleanup(&value);
        return lw_err_set(err, 0, (int)name_at + 1, "label name too long");
    }
    memcpy(name, s + name_at, name_len);
    name[name_len] = '\0';
    struct lw_err rerr = {0};
    int rc = lw_matcher_init(out, op, name, value.data ? value.data : "", &rerr);
    lw_buf_cleanup(&value);
    if (rc != 0)
        return lw_err_set(err, 0, col0 + (rerr.col > 0 ? rerr.col - 1 : 0), "%s", rerr.msg);
    return 0;
}

void amatcher_free_list(struct lw_matcher *ms, size_t n)
{
    for (size_t i = 0; ms && i < n; i++)
        lw_matcher_cleanup(&ms[i]);
    free(ms);
}

int amatcher_parse_list(const char *s, size_t len, struct lw_matcher **out, size_t *n_out,
                        struct lw_err *err)
{
    size_t b = 0, e = len;
    while (b < e && is_space(s[b]))
        b++;
    while (e > b && is_space(s[e - 1]))
        e--;
    if (b < e && s[b] == '{') {
        if (s[e - 1] != '}')
            return lw_err_set(err, 0, (int)e, "matcher list opened with '{' lacks its '}'");
        b++;
        e--;
    }
    struct lw_matcher *ms = NULL;
    size_t n = 0, cap = 0;
    size_t start = b;
    bool in_quote = false;
    for (size_t i = b; i <= e; i++) {
        if (i < e && s[i] == '\\' && in_quote) {
            i++;
            continue;
        }
        if (i < e && s[i] == '"') {
            in_quote = !in_quote;
            continue;
        }
        if (i < e && (s[i] != ',' || in_quote))
            continue;
        /* one item: s[start..i) */
        size_t k = start;
        while (k < i && is_space(s[k]))
            k++;
        if (k == i) {
            if (i == e && n == 0 && start == b)
                break; /* empty list */
            amatcher_free_list(ms, n);
            return lw_err_set(err, 0, (int)i + 1, "empty matcher in list");
        }
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 4;
            struct lw_matcher *nm = realloc(ms, nc * sizeof(*nm));
            if (!nm) {
                amatcher_free_list(ms, n);
                return lw_err_set(err, 0, 0, "out of memory");
            }
            ms = nm;
            cap = nc;
        }
        struct lw_err ierr = {0};
        if (amatcher_parse(s + start, i - start, &ms[n], &ierr) != 0) {
            amatcher_free_list(ms, n);
            return lw_err_set(err, 0, (int)start + ierr.col, "%s", ierr.msg);
        }
        n++;
        start = i + 1;
    }
    *out = ms;
    *n_out = n;
    return 0;
}

int amatcher_format(const struct lw_matcher *m, struct lw_buf *out)
{
    lw_buf_adds(out, m->name);
    lw_buf_adds(out, lw_match_op_str(m->op));
    lw_buf_addc(out, '"');
    for (const char *p = m->value; *p; p++) {
        if (*p == '"' || *p == '\\')
            lw_buf_addc(out, '\\');
        if (*p == '\n') {
            lw_buf_adds(out, "\\n");
            continue;
        }
        lw_buf_addc(out, *p);
    }
    lw_buf_addc(out, '"');
    return lw_buf_failed(out) ? -1 : 0;
}

int amatcher_format_list(const struct lw_matcher *ms, size_t n, struct lw_buf *out)
{
    lw_buf_addc(out, '{');
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            lw_buf_addc(out, ',');
        amatcher_format(&ms[i], out);
    }
    lw_buf_addc(out, '}');
    return lw_buf_failed(out) ? -1 : 0;
}
