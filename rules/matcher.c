/*
 * matcher.c — label matchers over PCRE2 (see matcher.h). The pattern is wrapped as
 * ^(?s:PATTERN)$ semantics by compiling with PCRE2_ANCHORED | PCRE2_ENDANCHORED and PCRE2_DOTALL,
 * which keeps error columns relative to what the user wrote. JIT is used when PCRE2 has it;
 * matching reuses one match-data block per matcher (lagwatch is single-threaded).
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "lagwatch/matcher.h"

#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

const char *lw_match_op_str(enum lw_match_op op)
{
    switch (op) {
    case LW_MATCH_EQ:
        return "=";
    case LW_MATCH_NE:
        return "!=";
    case LW_MATCH_RE:
        return "=~";
    case LW_MATCH_NRE:
        return "!~";
    }
    return "?";
}

void lw_matcher_cleanup(struct lw_matcher *m)
{
    free(m->name);
    free(m->value);
    if (m->md)
        pcre2_match_data_free(m->md);
    if (m->re)
        pcre2_code_free(m->re);
    m->name = m->value = NULL;
    m->re = m->md = NULL;
}

/* Lookaround has no RE2 equivalent; find "(?=", "(?!", "(?<=", "(?<!" outside escapes and
 * character classes. Returns the 0-based offset or -1. */
static long find_lookaround(const char *p)
{
    bool in_class = false;
    for (size_t i = 0; p[i]; i++) {
        if (p[i] == '\\') {
            if (p[i + 1])
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
            if (p[i + 1] == ']')
                i++;
            continue;
        }
        if (p[i] == '(' && p[i + 1] == '?') {
            const char *q = p + i + 2;
            if (*q == '=' || *q == '!' || (*q == '<' && (q[1] == '=' || q[1] == '!')))
                return (long)i;
        }
    }
    return -1;
}

static int compile(struct lw_matcher *m, struct lw_err *err)
{
    long la = find_lookaround(m->value);
    if (la >= 0)
        return lw_err_set(err, 0, (int)la + 1,
                          "lookaround in regexp \"%s\" is not supported (RE2 syntax)", m->value);
    int code;
    PCRE2_SIZE off;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)m->value, PCRE2_ZERO_TERMINATED,
                                   PCRE2_ANCHORED | PCRE2_ENDANCHORED | PCRE2_DOTALL | PCRE2_UTF,
                                   &code, &off, NULL);
    if (!re) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(code, msg, sizeof(msg));
        return lw_err_set(err, 0, (int)off + 1, "bad regexp \"%s\": %s", m->value,
                          (const char *)msg);
    }
    uint32_t backrefs = 0;
    pcre2_pattern_info(re, PCRE2_INFO_BACKREFMAX, &backrefs);
    if (backrefs > 0) {
        pcre2_code_free(re);
        return lw_err_set(err, 0, 1, "backreference in regexp \"%s\" is not supported (RE2 syntax)",
                          m->value);
    }
    (void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE); /* optional speed-up; interpreter otherwise */
    m->md = pcre2_match_data_create_from_pattern(re, NULL);
    if (!m->md) {
        pcre2_code_free(re);
        return lw_err_set(err, 0, 0, "out of memory compiling regexp");
    }
    m->re = re;
    return 0;
}

int lw_matcher_init(struct lw_matcher *m, enum lw_match_op op, const char *name, const char *value,
                    struct lw_err *err)
{
    memset(m, 0, sizeof(*m));
    m->op = op;
    m->name = strdup(name);
    m->value = strdup(value ? value : "");
    if (!m->name || !m->value) {
        lw_matcher_cleanup(m);
        return lw_err_set(err, 0, 0, "out of memory");
    }
    if ((op == LW_MATCH_RE || op == LW_MATCH_NRE) && compile(m, err) != 0) {
        lw_matcher_cleanup(m);
        return -1;
    }
    return 0;
}

bool lw_matcher_matches(const struct lw_matcher *m, const char *value)
{
    if (!value)
        value = "";
    switch (m->op) {
    case LW_MATCH_EQ:
        return strcmp(value, m->value) == 0;
    case LW_MATCH_NE:
        return strcmp(value, m->value) != 0;
    case LW_MATCH_RE:
    case LW_MATCH_NRE: {
        int rc = pcre2_match(m->re, (PCRE2_SPTR)value, strlen(value), 0, 0, m->md, NULL);
        /* A subject that is not valid UTF-8 cannot match a UTF pattern; treat as no match. */
        bool hit = rc >= 0;
        return m->op == LW_MATCH_RE ? hit : !hit;
    }
    }
    return false;
}

bool lw_matchers_match(const struct lw_matcher *ms, size_t n, const struct lw_labels *ls)
{
    for (size_t i = 0; i < n; i++)
        if (!lw_matcher_matches(&ms[i], lw_labels_get(ls, ms[i].name)))
            return false;
    return true;
}
