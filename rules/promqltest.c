/*
 * promqltest.c — the PromQL test-script runner (see promqltest.h). One pass over the script: a
 * `load` block is appended to a fresh in-memory store at once, an `eval` block is parsed into an
 * eval_case, run through promql_eval_instant/promql_eval_range and judged the way Prometheus's
 * promqltest judges it (same order of checks, same tolerance, same range-mode cross-check). The
 * script grammar follows promqltest's own reader: lines are trimmed, `#` lines count as blank,
 * and a blank line ends a block.
 *
 * What this file does not do: evaluate PromQL (promql.h), expand series values (seriesnot.h),
 * read files or print (agent/cmd_promql_test.c).
 */
#include "lagwatch/promqltest.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <errno.h>
#include <math.h>
#include <pcre2.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lagwatch/duration.h"
#include "lagwatch/labels.h"
#include "lagwatch/promql.h"
#include "lagwatch/seriesnot.h"
#include "lagwatch/store.h"

#define MINUTE_MS      60000
#define REPORT_MAX_MSG 2048

struct line {
    const char *s; /* trimmed; "" for blank and comment lines */
    size_t len;
    size_t indent; /* bytes trimmed on the left, for columns */
};

struct script {
    const char *name;
    struct line *lines;
    size_t n_lines;
    struct store *store;
    char **hist_names; /* metric names whose native-histogram samples could not be loaded */
    size_t n_hist;
    bool has_hist; /* since the last clear, some samples were native histograms */
    bool verbose;
    struct promqltest_result *res;
    struct lw_buf *report;
};

enum expect_match { MATCH_ANY, MATCH_MSG, MATCH_REGEX };

struct expect_fail {
    enum expect_match how;
    char *text;
    pcre2_code *re;
};

struct exp_series {
    struct lw_labels ls;
    struct seriesnot_values vals;
    int pos;
    bool seen;
};

struct eval_case {
    int line;
    const char *expr;
    size_t expr_len;
    bool range;
    int64_t start, end, step, eval_t;
    bool fail, ordered, annotations, exclude_range;
    struct expect_fail fails; /* at most one: promqltest refuses more */
    bool has_fail_expect;
    bool expect_scalar;
    double scalar;
    bool expect_string;
    char *string;
    struct exp_series *series;
    size_t n_series;
    char skip_kind[64]; /* set when the case cannot be judged */
    char skip_why[LW_ERR_MSG_MAX];
};

bool promqltest_almost_equal(double a, double b)
{
    const double epsilon = 0.000001;
    const double min_normal = 2.2250738585072014e-308; /* smallest positive normal double */
    if (isnan(a) && isnan(b))
        return true;
    if (a == b)
        return true;
    double abs_sum = fabs(a) + fabs(b);
    double diff = fabs(a - b);
    if (a == 0 || b == 0 || abs_sum < min_normal)
        return diff < epsilon * min_normal;
    return diff / fmin(abs_sum, 1.7976931348623157e308) < epsilon;
}

static void count_skip(struct promqltest_result *res, const char *kind)
{
    res->skipped++;
    for (size_t i = 0; i < res->n_kinds; i++) {
        if (strcmp(res->kinds[i].name, kind) == 0) {
            res->kinds[i].n++;
            return;
        }
    }
    size_t i = res->n_kinds < PROMQLTEST_MAX_KINDS ? res->n_kinds++ : PROMQLTEST_MAX_KINDS - 1;
    if (i == PROMQLTEST_MAX_KINDS - 1 && res->kinds[i].name[0] != '\0')
        kind = "other";
    snprintf(res->kinds[i].name, sizeof res->kinds[i].name, "%s", kind);
    res->kinds[i].n++;
}

static bool starts_with(const char *s, size_t len, const char *prefix)
{
    size_t pl = strlen(prefix);
    return len >= pl && memcmp(s, prefix, pl) == 0;
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static void trim(const char **s, size_t *len)
{
    while (*len > 0 && (is_blank(**s) || **s == '\r' || **s == '\n')) {
        (*s)++;
        (*len)--;
    }
    while (*len > 0 && (is_blank((*s)[*len - 1]) || (*s)[*len - 1] == '\r'))
        (*len)--;
}

/* Next blank-separated token of s[*i..len): start in *tok, length returned (0 at the end). */
static size_t next_token(const char *s, size_t len, size_t *i, const char **tok)
{
    while (*i < len && is_blank(s[*i]))
        (*i)++;
    size_t start = *i;
    while (*i < len && !is_blank(s[*i]))
        (*i)++;
    *tok = s + start;
    return *i - start;
}

static int script_error(const struct script *sc, size_t li, size_t col, struct lw_err *err,
                        const char *msg)
{
    lw_err_set(err, (int)li + 1, col ? (int)(sc->lines[li].indent + col) : 0, "%s", msg);
    lw_err_set_file(err, sc->name);
    return -1;
}

/* Prometheus test times: durations from the Unix epoch. */
static int parse_time(const char *s, size_t len, int64_t *out)
{
    return duration_parse(s, len, out, NULL);
}

static int add_hist_name(struct script *sc, const char *name, size_t len)
{
    if (len == 0)
        return 0;
    for (size_t i = 0; i < sc->n_hist; i++)
        if (strlen(sc->hist_names[i]) == len && memcmp(sc->hist_names[i], name, len) == 0)
            return 0;
    char **nv = realloc(sc->hist_names, (sc->n_hist + 1) * sizeof *nv);
    if (nv == NULL)
        return -1;
    sc->hist_names = nv;
    char *copy = malloc(len + 1);
    if (copy == NULL)
        return -1;
    memcpy(copy, name, len);
    copy[len] = '\0';
    sc->hist_names[sc->n_hist++] = copy;
    return 0;
}

static void clear_hist_names(struct script *sc)
{
    for (size_t i = 0; i < sc->n_hist; i++)
        free(sc->hist_names[i]);
    free(sc->hist_names);
    sc->hist_names = NULL;
    sc->n_hist = 0;
    sc->has_hist = false;
}

/* The metric name at the start of a series line (up to '{' or a blank). */
static size_t series_name(const char *s, size_t len)
{
    size_t n = 0;
    while (n < len && s[n] != '{' && !is_blank(s[n]))
        n++;
    return n;
}

struct load_series {
    struct lw_labels ls;
    struct seriesnot_values vals;
};

static void load_series_free(struct load_series *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        lw_labels_cleanup(&v[i].ls);
        seriesnot_values_cleanup(&v[i].vals);
    }
    free(v);
}

/* Remember that series with these labels had samples the store cannot hold (native histograms):
 * their metric name, so cases that could select them are skipped rather than judged on partial
 * data. */
static int note_histogram_series(struct script *sc, const struct line *l)
{
    struct lw_labels ls;
    struct lw_err e = {0};
    size_t used;
    lw_labels_init(&ls);
    int rc = 0;
    if (seriesnot_parse_labels(l->s, l->len, &ls, &used, &e) == 0) {
        const char *name = lw_labels_get(&ls, "__name__");
        if (name != NULL)
            rc = add_hist_name(sc, name, strlen(name));
    }
    sc->has_hist = true;
    lw_labels_cleanup(&ls);
    return rc;
}

/* A `load <interval>` block starting at line *li; *li ends on its last line. As in promqltest,
 * the block is read whole first and a series given twice keeps its last line. */
static int run_load(struct script *sc, size_t *li, struct lw_err *err)
{
    const struct line *hl = &sc->lines[*li];
    size_t i = 4;
    bool nhcb = false;
    if (starts_with(hl->s, hl->len, "load_with_nhcb")) {
        nhcb = true;
        i = 14;
    }
    const char *tok;
    size_t tl = next_token(hl->s, hl->len, &i, &tok);
    int64_t gap_ms;
    if (tl == 0 || i != hl->len || parse_time(tok, tl, &gap_ms) != 0)
        return script_error(sc, *li, (size_t)(tok - hl->s) + 1, err,
                            "invalid load command (load[_with_nhcb] <step:duration>)");
    struct load_series *block = NULL;
    size_t n_block = 0;
    while (*li + 1 < sc->n_lines && sc->lines[*li + 1].len > 0) {
        (*li)++;
        const struct line *l = &sc->lines[*li];
        struct lw_labels ls;
        struct seriesnot_values vals;
        struct lw_err e = {0};
        lw_labels_init(&ls);
        seriesnot_values_init(&vals);
        if (nhcb) {
            /* The float series load, but their native-histogram conversion cannot: cases on
             * the base name are skipped. */
            size_t n = series_name(l->s, l->len);
            const char *suffixes[] = {"_bucket", "_count", "_sum"};
            for (size_t k = 0; k < 3; k++) {
                size_t sl = strlen(suffixes[k]);
                if (n > sl && memcmp(l->s + n - sl, suffixes[k], sl) == 0) {
                    sc->has_hist = true;
                    if (add_hist_name(sc, l->s, n - sl) != 0) {
                        load_series_free(block, n_block);
                        return script_error(sc, *li, 0, err, "out of memory");
                    }
                    break;
                }
            }
        }
        if (seriesnot_parse_line(l->s, l->len, &ls, &vals, &e) != 0) {
            lw_labels_cleanup(&ls);
            seriesnot_values_cleanup(&vals);
            if (starts_with(e.msg, strlen(e.msg), "unsupported: native histogram")) {
                if (note_histogram_series(sc, l) != 0) {
                    load_series_free(block, n_block);
                    return script_error(sc, *li, 0, err, "out of memory");
                }
                continue;
            }
            load_series_free(block, n_block);
            return script_error(sc, *li, (size_t)e.col, err, e.msg);
        }
        size_t k;
        for (k = 0; k < n_block; k++)
            if (lw_labels_equal(&block[k].ls, &ls))
                break;
        if (k < n_block) {
            lw_labels_cleanup(&ls);
            seriesnot_values_cleanup(&block[k].vals);
            block[k].vals = vals;
            continue;
        }
        struct load_series *nv = realloc(block, (n_block + 1) * sizeof *nv);
        if (nv == NULL) {
            lw_labels_cleanup(&ls);
            seriesnot_values_cleanup(&vals);
            load_series_free(block, n_block);
            return script_error(sc, *li, 0, err, "out of memory");
        }
        block = nv;
        block[n_block].ls = ls;
        block[n_block].vals = vals;
        n_block++;
    }
    for (size_t k = 0; k < n_block; k++) {
        for (size_t v = 0; v < block[k].vals.n; v++) {
            if (block[k].vals.v[v].omitted)
                continue;
            struct lw_err e = {0};
            if (store_append(sc->store, &block[k].ls, (int64_t)v * gap_ms, block[k].vals.v[v].v,
                             &e) != 0) {
                load_series_free(block, n_block);
                return script_error(sc, *li, 0, err, e.msg);
            }
        }
    }
    load_series_free(block, n_block);
    return 0;
}

static void case_cleanup(struct eval_case *c)
{
    free(c->fails.text);
    pcre2_code_free(c->fails.re);
    free(c->string);
    for (size_t i = 0; i < c->n_series; i++) {
        lw_labels_cleanup(&c->series[i].ls);
        seriesnot_values_cleanup(&c->series[i].vals);
    }
    free(c->series);
}

static int compile_regex(const char *pat, size_t len, pcre2_code **out)
{
    int code;
    PCRE2_SIZE off;
    *out = pcre2_compile((PCRE2_SPTR)pat, len, 0, &code, &off, NULL);
    return *out ? 0 : -1;
}

static bool regex_search(pcre2_code *re, const char *s)
{
    pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
    if (md == NULL)
        return false;
    int rc = pcre2_match(re, (PCRE2_SPTR)s, strlen(s), 0, 0, md, NULL);
    pcre2_match_data_free(md);
    return rc >= 0;
}

/* Go's strconv.ParseInt(s, 0, 64) then ParseFloat(s, 64), as promqltest's parseNumber. */
static bool parse_number(const char *s, size_t len, double *out)
{
    char buf[128];
    if (len == 0 || len >= sizeof buf)
        return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    for (size_t i = 0; i < len; i++)
        if (buf[i] == ' ' || buf[i] == '\t')
            return false;
    char *end;
    errno = 0;
    double v = strtod(buf, &end);
    if (*end != '\0' || end == buf)
        return false;
    *out = v;
    return true;
}

/* `expect <type> [msg|regex: <text>]` into c. */
static int parse_expect(struct script *sc, size_t li, struct eval_case *c, struct lw_err *err)
{
    const struct line *l = &sc->lines[li];
    size_t i = 6;
    const char *tok;
    size_t tl = next_token(l->s, l->len, &i, &tok);
    enum { T_ORDERED, T_FAIL, T_WARN, T_NO_WARN, T_INFO, T_NO_INFO } type;
    if (tl == 7 && memcmp(tok, "ordered", 7) == 0)
        type = T_ORDERED;
    else if (tl == 4 && memcmp(tok, "fail", 4) == 0)
        type = T_FAIL;
    else if (tl == 4 && memcmp(tok, "warn", 4) == 0)
        type = T_WARN;
    else if (tl == 7 && memcmp(tok, "no_warn", 7) == 0)
        type = T_NO_WARN;
    else if (tl == 4 && memcmp(tok, "info", 4) == 0)
        type = T_INFO;
    else if (tl == 7 && memcmp(tok, "no_info", 7) == 0)
        type = T_NO_INFO;
    else
        return script_error(sc, li, (size_t)(tok - l->s) + 1, err,
                            "invalid expect statement, must match `expect <type> <match_type>: "
                            "<string>` format");
    while (i < l->len && is_blank(l->s[i]))
        i++;
    enum expect_match how = MATCH_ANY;
    const char *text = NULL;
    size_t text_len = 0;
    if (i < l->len) {
        if (starts_with(l->s + i, l->len - i, "msg:"))
            how = MATCH_MSG, i += 4;
        else if (starts_with(l->s + i, l->len - i, "regex:"))
            how = MATCH_REGEX, i += 6;
        else
            return script_error(sc, li, i + 1, err,
                                "invalid expect statement, must match `expect <type> "
                                "<match_type>: <string>` format");
        text = l->s + i;
        text_len = l->len - i;
        trim(&text, &text_len);
        if (l->len == i)
            return script_error(sc, li, i + 1, err, "expected a message after the match type");
    }
    switch (type) {
    case T_ORDERED:
        c->ordered = true;
        break;
    case T_WARN:
    case T_INFO:
        c->annotations = true;
        break;
    case T_NO_WARN:
    case T_NO_INFO:
        /* lagwatch's evaluator produces no annotations, so these hold. */
        break;
    case T_FAIL:
        if (c->has_fail_expect)
            return script_error(sc, li, 1, err,
                                "invalid expect lines, multiple expect fail lines are not allowed");
        c->has_fail_expect = true;
        c->fails.how = how;
        if (how == MATCH_MSG) {
            c->fails.text = malloc(text_len + 1);
            if (c->fails.text == NULL)
                return script_error(sc, li, 0, err, "out of memory");
            memcpy(c->fails.text, text, text_len);
            c->fails.text[text_len] = '\0';
        } else if (how == MATCH_REGEX && compile_regex(text, text_len, &c->fails.re) != 0) {
            return script_error(sc, li, (size_t)(text - l->s) + 1, err, "invalid regex");
        }
        break;
    }
    return 0;
}

static int add_series(struct eval_case *c, struct lw_labels *ls, struct seriesnot_values *vals,
                      int pos)
{
    for (size_t i = 0; i < c->n_series; i++) {
        if (lw_labels_equal(&c->series[i].ls, ls)) {
            /* promqltest keeps expectations in a map: a repeated series replaces the first. */
            seriesnot_values_cleanup(&c->series[i].vals);
            c->series[i].vals = *vals;
            c->series[i].pos = pos;
            lw_labels_cleanup(ls);
            return 0;
        }
    }
    struct exp_series *nv = realloc(c->series, (c->n_series + 1) * sizeof *nv);
    if (nv == NULL)
        return -1;
    c->series = nv;
    nv[c->n_series].ls = *ls;
    nv[c->n_series].vals = *vals;
    nv[c->n_series].pos = pos;
    nv[c->n_series].seen = false;
    c->n_series++;
    return 0;
}

static void set_skip(struct eval_case *c, const char *kind, const char *why)
{
    if (c->skip_kind[0] != '\0')
        return;
    snprintf(c->skip_kind, sizeof c->skip_kind, "%s", kind);
    snprintf(c->skip_why, sizeof c->skip_why, "%s", why);
}

/* The kind of an "unsupported: <kind>: ..." message, or NULL. */
static bool unsupported_kind(const char *msg, char *kind, size_t kind_len)
{
    const char *p = "unsupported: ";
    if (strncmp(msg, p, strlen(p)) != 0)
        return false;
    const char *k = msg + strlen(p);
    const char *colon = strchr(k, ':');
    size_t n = colon ? (size_t)(colon - k) : strlen(k);
    snprintf(kind, kind_len, "%.*s", (int)n, k);
    return true;
}

/* Parse the eval block at *li into c. */
static int parse_eval(struct script *sc, size_t *li, struct eval_case *c, struct lw_err *err)
{
    const struct line *hl = &sc->lines[*li];
    c->line = (int)*li + 1;
    size_t i = 4;
    if (i < hl->len && hl->s[i] == '_') {
        const char *mods[] = {"_fail", "_warn", "_ordered", "_info"};
        size_t k;
        for (k = 0; k < 4; k++)
            if (starts_with(hl->s + i, hl->len - i, mods[k]) &&
                (i + strlen(mods[k]) == hl->len || is_blank(hl->s[i + strlen(mods[k])])))
                break;
        if (k == 4)
            return script_error(sc, *li, 1, err, "invalid evaluation command");
        c->fail = k == 0;
        c->annotations = k == 1 || k == 3;
        c->ordered = k == 2;
        i += strlen(mods[k]);
    }
    const char *tok;
    size_t tl = next_token(hl->s, hl->len, &i, &tok);
    const char *bad = "invalid evaluation command. Must be either 'eval[_fail|_warn|_ordered] "
                      "instant [at <offset:duration>] <query>' or 'eval[_fail|_warn] range from "
                      "<from> to <to> step <step> <query>'";
    if (tl == 7 && memcmp(tok, "instant", 7) == 0) {
        tl = next_token(hl->s, hl->len, &i, &tok);
        if (tl != 2 || memcmp(tok, "at", 2) != 0)
            return script_error(sc, *li, (size_t)(tok - hl->s) + 1, err, bad);
        tl = next_token(hl->s, hl->len, &i, &tok);
        if (parse_time(tok, tl, &c->eval_t) != 0)
            return script_error(sc, *li, (size_t)(tok - hl->s) + 1, err,
                                "invalid timestamp definition");
        c->start = c->eval_t;
        c->end = INT64_MIN; /* promqltest leaves it at the zero time: no range points allowed */
        c->step = 0;
    } else if (tl == 5 && memcmp(tok, "range", 5) == 0 && !c->ordered) {
        c->range = true;
        const char *words[] = {"from", "to", "step"};
        int64_t *vals[] = {&c->start, &c->end, &c->step};
        for (int k = 0; k < 3; k++) {
            tl = next_token(hl->s, hl->len, &i, &tok);
            if (tl != strlen(words[k]) || memcmp(tok, words[k], tl) != 0)
                return script_error(sc, *li, (size_t)(tok - hl->s) + 1, err, bad);
            tl = next_token(hl->s, hl->len, &i, &tok);
            if (parse_time(tok, tl, vals[k]) != 0)
                return script_error(sc, *li, (size_t)(tok - hl->s) + 1, err,
                                    "invalid time or step definition");
        }
        if (c->end < c->start)
            return script_error(sc, *li, 1, err,
                                "invalid test definition, end timestamp is before start");
    } else {
        return script_error(sc, *li, (size_t)(tok - hl->s) + 1, err, bad);
    }
    while (i < hl->len && is_blank(hl->s[i]))
        i++;
    if (i >= hl->len)
        return script_error(sc, *li, i + 1, err, "expected a query");
    c->expr = hl->s + i;
    c->expr_len = hl->len - i;

    bool range_vector = false;
    for (int j = 1; *li + 1 < sc->n_lines; j++) {
        const struct line *l = &sc->lines[*li + 1];
        if (l->len == 0)
            break;
        (*li)++;
        if (c->fail && (starts_with(l->s, l->len, "expected_fail_message") ||
                        starts_with(l->s, l->len, "expected_fail_regexp"))) {
            bool is_msg = starts_with(l->s, l->len, "expected_fail_message");
            const char *t = l->s + (is_msg ? 21 : 20);
            size_t t_len = l->len - (is_msg ? 21 : 20);
            trim(&t, &t_len);
            free(c->fails.text);
            c->fails.text = NULL;
            c->has_fail_expect = true;
            c->fails.how = is_msg ? MATCH_MSG : MATCH_REGEX;
            if (is_msg) {
                c->fails.text = malloc(t_len + 1);
                if (c->fails.text == NULL)
                    return script_error(sc, *li, 0, err, "out of memory");
                memcpy(c->fails.text, t, t_len);
                c->fails.text[t_len] = '\0';
            } else if (compile_regex(t, t_len, &c->fails.re) != 0) {
                return script_error(sc, *li, 1, err, "invalid regexp for expected_fail_regexp");
            }
            break;
        }
        if (starts_with(l->s, l->len, "expect range vector")) {
            size_t p = 19;
            const char *words[] = {"from", "to", "step"};
            int64_t *vals[] = {&c->start, &c->end, &c->step};
            for (int k = 0; k < 3; k++) {
                tl = next_token(l->s, l->len, &p, &tok);
                if (tl != strlen(words[k]) || memcmp(tok, words[k], tl) != 0)
                    return script_error(sc, *li, (size_t)(tok - l->s) + 1, err,
                                        "invalid range vector definition");
                tl = next_token(l->s, l->len, &p, &tok);
                if (parse_time(tok, tl, vals[k]) != 0)
                    return script_error(sc, *li, (size_t)(tok - l->s) + 1, err,
                                        "invalid range vector definition");
            }
            range_vector = true;
            c->eval_t = c->end;
            c->exclude_range = true;
            continue;
        }
        if (starts_with(l->s, l->len, "expect string")) {
            const char *t = l->s + 13;
            size_t t_len = l->len - 13;
            /* strings.TrimPrefix(line, "expect string ") then strconv.Unquote: one blank. */
            if (t_len == 0 || t[0] != ' ')
                return script_error(sc, *li, 14, err,
                                    "expected string literal not valid - a quoted string "
                                    "literal is required");
            t++;
            t_len--;
            struct lw_err e = {0};
            size_t sl;
            free(c->string);
            c->string = NULL;
            if (seriesnot_unquote(t, t_len, &c->string, &sl, &e) != 0)
                return script_error(sc, *li, 15, err,
                                    "expected string literal not valid - check that the string "
                                    "is correctly quoted");
            c->expect_string = true;
            c->exclude_range = true;
            continue;
        }
        size_t first = 0;
        while (first < l->len && l->s[first] != ' ')
            first++;
        if (first == 6 && memcmp(l->s, "expect", 6) == 0) {
            if (parse_expect(sc, *li, c, err) != 0)
                return -1;
            j--;
            continue;
        }
        double num;
        if (parse_number(l->s, l->len, &num)) {
            c->expect_scalar = true;
            c->scalar = num;
            break;
        }
        struct lw_labels ls;
        struct seriesnot_values vals;
        struct lw_err e = {0};
        lw_labels_init(&ls);
        seriesnot_values_init(&vals);
        if (seriesnot_parse_line(l->s, l->len, &ls, &vals, &e) != 0) {
            lw_labels_cleanup(&ls);
            seriesnot_values_cleanup(&vals);
            char kind[64];
            if (unsupported_kind(e.msg, kind, sizeof kind)) {
                set_skip(c, kind, e.msg);
                continue;
            }
            return script_error(sc, *li, (size_t)e.col, err, e.msg);
        }
        if (vals.n > 1 && !c->range && !range_vector) {
            lw_labels_cleanup(&ls);
            seriesnot_values_cleanup(&vals);
            return script_error(sc, *li, 1, err,
                                "expecting multiple values in instant evaluation not allowed");
        }
        c->expect_scalar = false;
        if (add_series(c, &ls, &vals, j) != 0) {
            lw_labels_cleanup(&ls);
            seriesnot_values_cleanup(&vals);
            return script_error(sc, *li, 0, err, "out of memory");
        }
    }
    return 0;
}

/* Failure reasons are formatted into r (REPORT_MAX_MSG bytes); functions return false on failure.
 */
typedef char reason_t[REPORT_MAX_MSG];

static void labels_str(const struct lw_labels *ls, char *out, size_t outlen)
{
    struct lw_buf b;
    lw_buf_init(&b, 4096);
    if (lw_labels_format_metric(ls, &b) != 0 || b.data == NULL)
        snprintf(out, outlen, "{...}");
    else
        snprintf(out, outlen, "%s", b.data);
    if (ls->n == 0)
        snprintf(out, outlen, "{}");
    lw_buf_cleanup(&b);
}

static struct exp_series *find_expected(struct eval_case *c, const struct lw_labels *ls)
{
    for (size_t i = 0; i < c->n_series; i++)
        if (lw_labels_equal(&c->series[i].ls, ls))
            return &c->series[i];
    return NULL;
}

static bool check_vector(struct eval_case *c, const struct promql_sample *vec, size_t n, reason_t r)
{
    char ls[512];
    if (c->expect_scalar) {
        snprintf(r, REPORT_MAX_MSG, "expected scalar result, but got a vector of %zu samples", n);
        return false;
    }
    for (size_t i = 0; i < c->n_series; i++)
        c->series[i].seen = false;
    for (size_t i = 0; i < n; i++) {
        struct exp_series *e = find_expected(c, &vec[i].labels);
        if (e == NULL) {
            labels_str(&vec[i].labels, ls, sizeof ls);
            snprintf(r, REPORT_MAX_MSG, "unexpected metric %s in result, has value %.17g", ls,
                     vec[i].v);
            return false;
        }
        if (c->ordered && e->pos != (int)i + 1) {
            labels_str(&vec[i].labels, ls, sizeof ls);
            snprintf(r, REPORT_MAX_MSG, "expected metric %s at position %d but was at %zu", ls,
                     e->pos, i + 1);
            return false;
        }
        if (e->vals.n == 0) {
            snprintf(r, REPORT_MAX_MSG, "expected series without a value");
            return false;
        }
        if (!promqltest_almost_equal(e->vals.v[0].v, vec[i].v)) {
            labels_str(&vec[i].labels, ls, sizeof ls);
            snprintf(r, REPORT_MAX_MSG, "expected %.17g for %s but got %.17g", e->vals.v[0].v, ls,
                     vec[i].v);
            return false;
        }
        e->seen = true;
    }
    for (size_t i = 0; i < c->n_series; i++) {
        if (!c->series[i].seen) {
            labels_str(&c->series[i].ls, ls, sizeof ls);
            snprintf(r, REPORT_MAX_MSG, "expected metric %s not found", ls);
            return false;
        }
    }
    return true;
}

static bool check_matrix(struct eval_case *c, const struct promql_series *mat, size_t n, reason_t r)
{
    char ls[512];
    if (c->ordered) {
        snprintf(r, REPORT_MAX_MSG, "expected ordered result, but query returned a matrix");
        return false;
    }
    if (c->expect_scalar) {
        snprintf(r, REPORT_MAX_MSG, "expected scalar result, but got a matrix");
        return false;
    }
    for (size_t i = 0; i + 1 < n; i++) {
        if (lw_labels_cmp(&mat[i].labels, &mat[i + 1].labels) > 0) {
            labels_str(&mat[i + 1].labels, ls, sizeof ls);
            snprintf(r, REPORT_MAX_MSG,
                     "matrix results should always be sorted by labels, but %s (index %zu) sorts "
                     "before its predecessor",
                     ls, i + 1);
            return false;
        }
    }
    for (size_t i = 0; i < c->n_series; i++)
        c->series[i].seen = false;
    for (size_t i = 0; i < n; i++) {
        const struct promql_series *s = &mat[i];
        labels_str(&s->labels, ls, sizeof ls);
        struct exp_series *e = find_expected(c, &s->labels);
        if (e == NULL) {
            snprintf(r, REPORT_MAX_MSG, "unexpected metric %s in result (%zu points)", ls, s->n);
            return false;
        }
        e->seen = true;
        size_t k = 0; /* index into the result's points */
        size_t n_exp = 0;
        for (size_t v = 0; v < e->vals.n; v++) {
            int64_t t = c->start + (int64_t)v * c->step;
            if (c->end == INT64_MIN || t > c->end) {
                snprintf(r, REPORT_MAX_MSG,
                         "expected %zu points for %s, but query time range cannot return this "
                         "many points",
                         e->vals.n, ls);
                return false;
            }
            if (!e->vals.v[v].omitted)
                n_exp++;
        }
        if (n_exp != s->n) {
            snprintf(r, REPORT_MAX_MSG, "expected %zu float points for %s, but got %zu", n_exp, ls,
                     s->n);
            return false;
        }
        for (size_t v = 0; v < e->vals.n; v++) {
            if (e->vals.v[v].omitted)
                continue;
            int64_t t = c->start + (int64_t)v * c->step;
            if (s->samples[k].t_ms != t) {
                snprintf(r, REPORT_MAX_MSG,
                         "expected float value at index %zu for %s to have timestamp %lld, but "
                         "it had timestamp %lld",
                         k, ls, (long long)t, (long long)s->samples[k].t_ms);
                return false;
            }
            if (!promqltest_almost_equal(s->samples[k].v, e->vals.v[v].v)) {
                snprintf(r, REPORT_MAX_MSG,
                         "expected float value at index %zu (t=%lld) for %s to be %.17g, but got "
                         "%.17g",
                         k, (long long)t, ls, e->vals.v[v].v, s->samples[k].v);
                return false;
            }
            k++;
        }
    }
    for (size_t i = 0; i < c->n_series; i++) {
        if (!c->series[i].seen) {
            labels_str(&c->series[i].ls, ls, sizeof ls);
            snprintf(r, REPORT_MAX_MSG, "expected metric %s not found", ls);
            return false;
        }
    }
    return true;
}

static bool check_value(struct eval_case *c, const struct promql_value *v, reason_t r)
{
    switch (v->type) {
    case PROMQL_MATRIX:
        return check_matrix(c, v->mat, v->n_mat, r);
    case PROMQL_VECTOR:
        return check_vector(c, v->vec, v->n_vec, r);
    case PROMQL_SCALAR:
        if (!c->expect_scalar) {
            snprintf(r, REPORT_MAX_MSG, "expected vector or matrix result, but got scalar %.17g",
                     v->scalar);
            return false;
        }
        if (!promqltest_almost_equal(c->scalar, v->scalar)) {
            snprintf(r, REPORT_MAX_MSG, "expected scalar %.17g but got %.17g", c->scalar,
                     v->scalar);
            return false;
        }
        return true;
    case PROMQL_STRING:
        if (c->string == NULL || v->string == NULL || strcmp(c->string, v->string) != 0) {
            snprintf(r, REPORT_MAX_MSG, "expected string \"%s\" but got \"%s\"",
                     c->string ? c->string : "", v->string ? v->string : "");
            return false;
        }
        return true;
    }
    snprintf(r, REPORT_MAX_MSG, "unknown result type");
    return false;
}

static bool is_fail_case(const struct eval_case *c)
{
    return c->fail || c->has_fail_expect;
}

/* Judge an evaluation error against the case's fail expectation. */
static bool check_failure(const struct eval_case *c, const char *msg, reason_t r)
{
    if (!c->has_fail_expect || c->fails.how == MATCH_ANY)
        return true;
    if (c->fails.how == MATCH_MSG && strcmp(c->fails.text, msg) != 0) {
        snprintf(r, REPORT_MAX_MSG, "expected error \"%s\", but got: %s", c->fails.text, msg);
        return false;
    }
    if (c->fails.how == MATCH_REGEX && !regex_search(c->fails.re, msg)) {
        snprintf(r, REPORT_MAX_MSG, "expected error matching the pattern, but got: %s", msg);
        return false;
    }
    return true;
}

/* Whether the expression uses start(), end(), range() or step(), which resolve differently in
 * range mode (promqltest skips the cross-check for them). */
static bool uses_query_context(const char *s, size_t len)
{
    const char *names[] = {"start", "end", "range", "step"};
    for (size_t i = 0; i < len; i++) {
        for (size_t k = 0; k < 4; k++) {
            size_t nl = strlen(names[k]);
            if (i + nl + 2 <= len && memcmp(s + i, names[k], nl) == 0 && s[i + nl] == '(' &&
                s[i + nl + 1] == ')')
                return true;
        }
    }
    return false;
}

static bool run_instant(struct script *sc, struct eval_case *c, const struct promql_expr *e,
                        reason_t r)
{
    struct promql_value v = {0};
    struct lw_err err = {0};
    if (promql_eval_instant(e, sc->store, c->eval_t, NULL, &v, &err) != 0) {
        if (is_fail_case(c))
            return check_failure(c, err.msg, r);
        snprintf(r, REPORT_MAX_MSG, "error evaluating query: %s", err.msg);
        return false;
    }
    if (is_fail_case(c)) {
        promql_value_cleanup(&v);
        snprintf(r, REPORT_MAX_MSG, "expected error evaluating query but got none");
        return false;
    }
    bool ok = check_value(c, &v, r);
    enum promql_type itype = v.type;
    promql_value_cleanup(&v);
    if (!ok || c->exclude_range || uses_query_context(c->expr, c->expr_len))
        return ok;

    /* Range mode: the same query over [t-1m, t+1m] step 1m must give the same at t. */
    struct promql_value rv = {0};
    if (promql_eval_range(e, sc->store, c->eval_t - MINUTE_MS, c->eval_t + MINUTE_MS, MINUTE_MS,
                          NULL, &rv, &err) != 0) {
        snprintf(r, REPORT_MAX_MSG, "error evaluating query in range mode: %s", err.msg);
        return false;
    }
    if (c->ordered) {
        promql_value_cleanup(&rv);
        return true;
    }
    if (rv.type != PROMQL_MATRIX) {
        promql_value_cleanup(&rv);
        snprintf(r, REPORT_MAX_MSG, "range mode did not return a matrix");
        return false;
    }
    for (size_t i = 0; i + 1 < rv.n_mat; i++) {
        if (lw_labels_cmp(&rv.mat[i].labels, &rv.mat[i + 1].labels) > 0) {
            promql_value_cleanup(&rv);
            snprintf(r, REPORT_MAX_MSG,
                     "range mode: matrix results should always be sorted by "
                     "labels");
            return false;
        }
    }
    struct promql_sample *vec = calloc(rv.n_mat ? rv.n_mat : 1, sizeof *vec);
    if (vec == NULL) {
        promql_value_cleanup(&rv);
        snprintf(r, REPORT_MAX_MSG, "out of memory");
        return false;
    }
    size_t n = 0;
    for (size_t i = 0; i < rv.n_mat; i++) {
        for (size_t k = 0; k < rv.mat[i].n; k++) {
            if (rv.mat[i].samples[k].t_ms == c->eval_t) {
                vec[n].labels = rv.mat[i].labels; /* borrowed, not freed here */
                vec[n].t_ms = c->eval_t;
                vec[n].v = rv.mat[i].samples[k].v;
                n++;
                break;
            }
        }
    }
    reason_t sub;
    if (itype == PROMQL_SCALAR) {
        if (n == 0) {
            snprintf(sub, sizeof sub, "no value at the evaluation time");
            ok = false;
        } else {
            struct promql_value sv = {.type = PROMQL_SCALAR, .scalar = vec[0].v};
            ok = check_value(c, &sv, sub);
        }
    } else {
        ok = check_vector(c, vec, n, sub);
    }
    free(vec);
    promql_value_cleanup(&rv);
    if (!ok)
        snprintf(r, REPORT_MAX_MSG, "range mode: %.2000s", sub);
    return ok;
}

static bool run_range(struct script *sc, struct eval_case *c, const struct promql_expr *e,
                      reason_t r)
{
    struct promql_value v = {0};
    struct lw_err err = {0};
    if (promql_eval_range(e, sc->store, c->start, c->end, c->step, NULL, &v, &err) != 0) {
        if (is_fail_case(c))
            return check_failure(c, err.msg, r);
        snprintf(r, REPORT_MAX_MSG, "error evaluating query: %s", err.msg);
        return false;
    }
    if (is_fail_case(c)) {
        promql_value_cleanup(&v);
        snprintf(r, REPORT_MAX_MSG, "expected error evaluating query but got none");
        return false;
    }
    bool ok = check_value(c, &v, r);
    promql_value_cleanup(&v);
    return ok;
}

static void report_case(struct script *sc, const struct eval_case *c, const char *status,
                        const char *why)
{
    /* A report that outgrew its buffer is cut short (lw_buf is sticky); the counts stay right. */
    (void)lw_buf_addf(sc->report, "%s:%d: %s%s %.*s: %s\n", sc->name, c->line, status,
                      c->range ? "eval range" : "eval instant", (int)c->expr_len, c->expr, why);
}

/* Whether the case could select series whose native-histogram samples were not loaded: it names
 * one of them, or selects by __name__ or by labels alone while such series exist. Deliberately
 * broad: a case wrongly skipped is reported as skipped, a case judged on partial data could be
 * reported as passed. */
static bool may_select_histograms(const struct script *sc, const struct eval_case *c)
{
    if (!sc->has_hist)
        return false;
    for (size_t i = 0; i < sc->n_hist; i++) {
        size_t nl = strlen(sc->hist_names[i]);
        for (size_t k = 0; k + nl <= c->expr_len; k++)
            if (memcmp(c->expr + k, sc->hist_names[i], nl) == 0)
                return true;
    }
    for (size_t k = 0; k + 8 <= c->expr_len; k++)
        if (memcmp(c->expr + k, "__name__", 8) == 0)
            return true;
    bool in_string = false;
    char quote = 0;
    for (size_t k = 0; k < c->expr_len; k++) {
        char ch = c->expr[k];
        if (in_string) {
            if (ch == '\\')
                k++;
            else if (ch == quote)
                in_string = false;
            continue;
        }
        if (ch == '"' || ch == '\'' || ch == '`') {
            in_string = true;
            quote = ch;
            continue;
        }
        if (ch != '{')
            continue;
        size_t p = k;
        while (p > 0 && is_blank(c->expr[p - 1]))
            p--;
        char prev = p > 0 ? c->expr[p - 1] : '(';
        bool after_name = (prev >= 'a' && prev <= 'z') || (prev >= 'A' && prev <= 'Z') ||
                          (prev >= '0' && prev <= '9') || prev == '_' || prev == ':';
        if (!after_name)
            return true; /* a selector without a metric name */
    }
    return false;
}

static int run_eval(struct script *sc, size_t *li, struct lw_err *err)
{
    struct eval_case c;
    memset(&c, 0, sizeof c);
    if (parse_eval(sc, li, &c, err) != 0) {
        case_cleanup(&c);
        return -1;
    }
    struct promql_expr *e = NULL;
    struct lw_err perr = {0};
    if (promql_parse(c.expr, c.expr_len, &e, &perr) != 0) {
        char kind[64];
        if (unsupported_kind(perr.msg, kind, sizeof kind)) {
            set_skip(&c, kind, perr.msg);
        } else {
            /* promqltest parses every query when reading the script: a valid test query that
             * lagwatch's parser refuses is lagwatch's failure. */
            char why[REPORT_MAX_MSG];
            snprintf(why, sizeof why, "parse error at column %d: %s", perr.col, perr.msg);
            report_case(sc, &c, "FAIL ", why);
            sc->res->failed++;
            case_cleanup(&c);
            return 0;
        }
    }
    if (may_select_histograms(sc, &c))
        set_skip(&c, "native histogram", "native histogram samples in the data");
    if (c.annotations)
        set_skip(&c, "annotations", "asserts warn/info annotations, which lagwatch does not emit");
    if (c.skip_kind[0] != '\0') {
        count_skip(sc->res, c.skip_kind);
        if (sc->verbose) {
            char status[96];
            snprintf(status, sizeof status, "SKIP (%s) ", c.skip_kind);
            report_case(sc, &c, status, c.skip_why);
        }
        promql_expr_free(e);
        case_cleanup(&c);
        return 0;
    }
    reason_t r = {0};
    bool ok = c.range ? run_range(sc, &c, e, r) : run_instant(sc, &c, e, r);
    if (ok) {
        sc->res->passed++;
    } else {
        sc->res->failed++;
        report_case(sc, &c, "FAIL ", r);
    }
    promql_expr_free(e);
    case_cleanup(&c);
    return 0;
}

static int split_lines(struct script *sc, const char *src, size_t len)
{
    size_t cap = 64;
    sc->lines = malloc(cap * sizeof *sc->lines);
    if (sc->lines == NULL)
        return -1;
    size_t i = 0;
    while (i <= len) {
        size_t end = i;
        while (end < len && src[end] != '\n')
            end++;
        if (end == len && i == len)
            break;
        if (sc->n_lines == cap) {
            cap *= 2;
            struct line *nv = realloc(sc->lines, cap * sizeof *nv);
            if (nv == NULL)
                return -1;
            sc->lines = nv;
        }
        const char *s = src + i;
        size_t l = end - i;
        size_t before = l;
        while (l > 0 && (is_blank(*s) || *s == '\r')) {
            s++;
            l--;
        }
        size_t indent = before - l;
        while (l > 0 && (is_blank(s[l - 1]) || s[l - 1] == '\r'))
            l--;
        if (l > 0 && s[0] == '#')
            l = 0;
        sc->lines[sc->n_lines].s = s;
        sc->lines[sc->n_lines].len = l;
        sc->lines[sc->n_lines].indent = indent;
        sc->n_lines++;
        i = end + 1;
    }
    return 0;
}

int promqltest_run(const char *name, const char *src, size_t len, bool verbose,
                   struct promqltest_result *res, struct lw_buf *report, struct lw_err *err)
{
    struct script sc = {.name = name, .verbose = verbose, .res = res, .report = report};
    /* Test data lives at times near the epoch and is never garbage-collected. */
    struct store_options so = {.retention_ms = INT64_MAX / 2, .max_series = 0};
    sc.store = store_new(&so);
    int rc = 0;
    if (sc.store == NULL || split_lines(&sc, src, len) != 0) {
        lw_err_set(err, 0, 0, "out of memory");
        lw_err_set_file(err, name);
        rc = -1;
        goto cleanup;
    }
    for (size_t li = 0; li < sc.n_lines && rc == 0; li++) {
        const struct line *l = &sc.lines[li];
        if (l->len == 0)
            continue;
        size_t wl = 0;
        while (wl < l->len && !is_blank(l->s[wl]))
            wl++;
        if (wl == 5 && strncmp(l->s, "clear", 5) == 0) {
            store_clear(sc.store);
            clear_hist_names(&sc);
        } else if (starts_with(l->s, l->len, "load")) {
            rc = run_load(&sc, &li, err);
        } else if (starts_with(l->s, l->len, "eval")) {
            rc = run_eval(&sc, &li, err);
        } else {
            rc = script_error(&sc, li, 1, err, "invalid command");
        }
    }
cleanup:
    clear_hist_names(&sc);
    free(sc.lines);
    store_free(sc.store);
    return rc;
}
