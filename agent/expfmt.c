/*
 * expfmt.c — the streaming exposition parser (see expfmt.h). Bytes are cut into lines as they
 * arrive: complete lines are parsed in place in the caller's buffer, and only a line split
 * across two feeds is copied (into a carry buffer bounded by the line limit). Each line is parsed
 * into a label array whose strings live in one per-parser arena sized for the longest line, so
 * after the first few lines a sample costs no heap allocation at all.
 *
 * The OpenMetrics mode also enforces the metric-family rules the OpenMetrics test corpus checks
 * (one block per family, metadata before samples, name clashes, suffixes allowed per type, group
 * contiguity and timestamp order, histogram bucket/count/sum consistency, stateset/info values,
 * exemplar placement). Those rules need only the current family's state plus the set of family
 * names and of groups seen, all bounded by the page size. The 0.0.4 mode checks syntax only, as
 * Prometheus's scraper does.
 *
 * Not here: HTTP, decompression, the `keep` filter, series bookkeeping (the callers do that).
 */
#include "lagwatch/expfmt.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lagwatch/limits.h"

/* ---- small string set (family names, groups), entries stored length-prefixed in one block ---- */

struct strset {
    uint64_t *hash;
    size_t *off; /* offset + 1 into store; 0 = empty slot */
    size_t cap, n;
    struct lw_buf store;
};

static void strset_init(struct strset *s, size_t max_bytes)
{
    memset(s, 0, sizeof *s);
    lw_buf_init(&s->store, max_bytes);
}

static void strset_cleanup(struct strset *s)
{
    free(s->hash);
    free(s->off);
    lw_buf_cleanup(&s->store);
    memset(s, 0, sizeof *s);
}

static void strset_clear(struct strset *s)
{
    if (s->cap) {
        memset(s->off, 0, s->cap * sizeof *s->off);
    }
    s->n = 0;
    lw_buf_reset(&s->store);
}

static uint64_t hash_bytes(const char *p, size_t n)
{
    uint64_t h = 14695981039346656037ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 1099511628211ULL;
    }
    return h ^ (h >> 29);
}

static bool strset_entry_eq(const struct strset *s, size_t off, const char *p, size_t n)
{
    size_t len;
    memcpy(&len, s->store.data + off, sizeof len);
    return len == n && (n == 0 || memcmp(s->store.data + off + sizeof len, p, n) == 0);
}

static bool strset_has(const struct strset *s, const char *p, size_t n)
{
    if (s->cap == 0)
        return false;
    uint64_t h = hash_bytes(p, n);
    for (size_t i = h & (s->cap - 1);; i = (i + 1) & (s->cap - 1)) {
        if (s->off[i] == 0)
            return false;
        if (s->hash[i] == h && strset_entry_eq(s, s->off[i] - 1, p, n))
            return true;
    }
}

/* Add p[0..n) if absent. Returns 0, or -1 when memory (or the store's bound) runs out. */
static int strset_add(struct strset *s, const char *p, size_t n)
{
    if (strset_has(s, p, n))
        return 0;
    if ((s->n + 1) * 2 > s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 64;
        uint64_t *nh = calloc(ncap, sizeof *nh);
        size_t *no = calloc(ncap, sizeof *no);
        if (!nh || !no) {
            free(nh);
            free(no);
            return -1;
        }
        for (size_t i = 0; i < s->cap; i++) {
            if (s->off[i] == 0)
                continue;
            size_t j = s->hash[i] & (ncap - 1);
            while (no[j] != 0)
                j = (j + 1) & (ncap - 1);
            nh[j] = s->hash[i];
            no[j] = s->off[i];
        }
        free(s->hash);
        free(s->off);
        s->hash = nh;
        s->off = no;
        s->cap = ncap;
    }
    size_t off = s->store.len;
    if (lw_buf_add(&s->store, &n, sizeof n) != 0 || lw_buf_add(&s->store, p, n) != 0)
        return -1;
    uint64_t h = hash_bytes(p, n);
    size_t i = h & (s->cap - 1);
    while (s->off[i] != 0)
        i = (i + 1) & (s->cap - 1);
    s->hash[i] = h;
    s->off[i] = off + 1;
    s->n++;
    return 0;
}

/* ---- the parser ---- */

/* A label while a line is parsed: strings NUL-terminated in the arena (or static). */
struct lab {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
};

/* Per-group state of the OpenMetrics histogram checks. */
struct hist_state {
    bool active;
    struct lw_buf group;
    bool has_ts;
    double ts;
    bool have_bucket;
    double bucket; /* last le */
    double value;  /* last bucket value */
    bool have_count;
    double count;
    bool has_sum, has_gsum, has_negative_buckets, has_negative_gsum;
};

struct expfmt_parser {
    enum expfmt_format fmt;
    struct expfmt_limits lim;
    expfmt_sample_fn on_sample;
    void *ud;

    bool failed;
    struct lw_err err; /* the sticky error */
    size_t total_bytes;
    size_t nsamples;
    int line_no;

    char *carry; /* a line split across feeds */
    size_t carry_len, carry_cap;

    char *arena; /* strings of the current line */
    size_t arena_cap, arena_len;

    struct lab *labs;    /* max_labels + 1 (the extra one detects overflow) */
    struct lw_label *lv; /* the view handed to callbacks */
    struct lw_labels view;

    /* 0.0.4: the last TYPE line */
    struct lw_buf t4_name;
    enum expfmt_type t4_type;
    bool t4_have;

    /* OpenMetrics family state */
    bool eof;
    bool fam_active;
    struct lw_buf fam;
    bool type_set;
    enum expfmt_type type;
    bool help_seen, unit_seen;
    struct lw_buf unit;
    size_t fam_samples;
    bool have_group;
    struct lw_buf group; /* the current group's key */
    bool group_has_ts;
    double group_ts;
    struct lw_buf gkey; /* scratch for the next key */
    struct strset seen_groups;
    struct strset seen_names;
    struct hist_state hist;
};

void expfmt_limits_default(struct expfmt_limits *l)
{
    l->max_bytes = LW_MAX_SCRAPE_BYTES;
    l->max_samples = LW_MAX_SCRAPE_SAMPLES;
    l->max_labels = LW_MAX_LABELS_PER_SERIES;
    l->max_label_name_bytes = LW_MAX_LABEL_NAME_BYTES;
    l->max_label_value_bytes = LW_MAX_LABEL_VALUE_BYTES;
    l->max_line_bytes = LW_MAX_EXPO_LINE_BYTES;
}

struct expfmt_parser *expfmt_parser_new(enum expfmt_format fmt, const struct expfmt_limits *limits,
                                        expfmt_sample_fn on_sample, void *ud)
{
    struct expfmt_parser *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->fmt = fmt;
    if (limits)
        p->lim = *limits;
    else
        expfmt_limits_default(&p->lim);
    if (p->lim.max_labels < 1)
        p->lim.max_labels = 1;
    p->on_sample = on_sample;
    p->ud = ud;
    p->labs = calloc(2 * (p->lim.max_labels + 1), sizeof *p->labs);
    p->lv = calloc(p->lim.max_labels + 1, sizeof *p->lv);
    size_t line = p->lim.max_line_bytes;
    lw_buf_init(&p->t4_name, line);
    lw_buf_init(&p->fam, line);
    lw_buf_init(&p->unit, line);
    lw_buf_init(&p->group, line);
    lw_buf_init(&p->gkey, line);
    lw_buf_init(&p->hist.group, line);
    /* The sets hold at most what the page held. */
    strset_init(&p->seen_groups, p->lim.max_bytes * 2 + 1024);
    strset_init(&p->seen_names, p->lim.max_bytes * 2 + 1024);
    if (!p->labs || !p->lv) {
        expfmt_parser_free(p);
        return NULL;
    }
    return p;
}

void expfmt_parser_free(struct expfmt_parser *p)
{
    if (!p)
        return;
    free(p->carry);
    free(p->arena);
    free(p->labs);
    free(p->lv);
    lw_buf_cleanup(&p->t4_name);
    lw_buf_cleanup(&p->fam);
    lw_buf_cleanup(&p->unit);
    lw_buf_cleanup(&p->group);
    lw_buf_cleanup(&p->gkey);
    lw_buf_cleanup(&p->hist.group);
    strset_cleanup(&p->seen_groups);
    strset_cleanup(&p->seen_names);
    free(p);
}

size_t expfmt_parser_samples(const struct expfmt_parser *p)
{
    return p->nsamples;
}

/* Record the sticky error at line/col and return -1. */
static int failf(struct expfmt_parser *p, int col, const char *fmt, ...) LW_PRINTF(3, 4);
static int failf(struct expfmt_parser *p, int col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    p->err.file[0] = '\0';
    p->err.line = p->line_no;
    p->err.col = col;
    vsnprintf(p->err.msg, sizeof p->err.msg, fmt, ap);
    va_end(ap);
    p->failed = true;
    return -1;
}

/* Column (1-based) of at inside the line starting at line. */
static int colof(const char *line, const char *at)
{
    return (int)(at - line) + 1;
}

/* Copy s[0..n) into the arena, NUL-terminated (capacity was reserved for the line). */
static char *arena_put(struct expfmt_parser *p, const char *s, size_t n)
{
    char *d = p->arena + p->arena_len;
    memcpy(d, s, n);
    d[n] = '\0';
    p->arena_len += n + 1;
    return d;
}

/* Show at most 40 bytes of a token in an error message. */
#define TOKFMT       "\"%.*s%s\""
#define TOKARG(s, n) (int)((n) > 40 ? 40 : (n)), (s), ((n) > 40 ? "..." : "")

/* ---- numbers ---- */

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool ieq(const char *s, size_t n, const char *lit)
{
    size_t m = strlen(lit);
    if (n != m)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != lit[i])
            return false;
    }
    return true;
}

static const double pow10_exact[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                     1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                     1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/*
 * A decimal real number: [sign] (digits [. digits*] | . digits) [(e|E) [sign] digits].
 * Exact fast path (Clinger): mantissa below 2^53 and a power of ten up to 22 give a correctly
 * rounded product; anything else goes to strtod on a bounded copy (the grammar is checked here
 * first, so strtod never sees hex, "inf" or blanks).
 */
static int parse_real(const char *s, size_t n, double *out)
{
    size_t i = 0;
    bool neg = false;
    if (i < n && (s[i] == '+' || s[i] == '-')) {
        neg = s[i] == '-';
        i++;
    }
    uint64_t mant = 0;
    int sig = 0;       /* significant digits accumulated into mant */
    int dropped = 0;   /* integer digits that did not fit (scale up) */
    int frac_used = 0; /* fraction digits accumulated (scale down) */
    bool any = false, inexact = false;
    for (; i < n && is_digit(s[i]); i++) {
        any = true;
        if (mant == 0 && s[i] == '0')
            continue;
        if (sig < 19) {
            mant = mant * 10 + (uint64_t)(s[i] - '0');
            sig++;
        } else {
            dropped++;
            inexact = true;
        }
    }
    if (i < n && s[i] == '.') {
        i++;
        for (; i < n && is_digit(s[i]); i++) {
            any = true;
            if (mant == 0 && s[i] == '0') {
                frac_used++;
                continue;
            }
            if (sig < 19) {
                mant = mant * 10 + (uint64_t)(s[i] - '0');
                sig++;
                frac_used++;
            } else if (s[i] != '0') {
                inexact = true;
            }
        }
    }
    if (!any)
        return -1;
    long exp = 0;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        bool eneg = false;
        if (i < n && (s[i] == '+' || s[i] == '-')) {
            eneg = s[i] == '-';
            i++;
        }
        if (i >= n || !is_digit(s[i]))
            return -1;
        for (; i < n && is_digit(s[i]); i++)
            if (exp < 100000)
                exp = exp * 10 + (s[i] - '0');
        if (eneg)
            exp = -exp;
    }
    if (i != n)
        return -1;
    long e10 = exp + dropped - frac_used;
    if (!inexact && mant <= (1ULL << 53) && e10 >= -22 && e10 <= 22) {
        double v = (double)mant;
        v = e10 >= 0 ? v * pow10_exact[e10] : v / pow10_exact[-e10];
        *out = neg ? -v : v;
        return 0;
    }
    if (mant == 0 && !inexact) {
        *out = neg ? -0.0 : 0.0;
        return 0;
    }
    char tmp[512];
    if (n >= sizeof tmp)
        return -1;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    *out = strtod(tmp, NULL);
    return 0;
}

int expfmt_parse_value(const char *s, size_t n, double *out)
{
    if (n == 0)
        return -1;
    char c = s[0];
    if (is_digit(c) || c == '.' ||
        ((c == '+' || c == '-') && n > 1 && (is_digit(s[1]) || s[1] == '.')))
        return parse_real(s, n, out);
    size_t i = (c == '+' || c == '-') ? 1 : 0;
    if (ieq(s + i, n - i, "inf") || ieq(s + i, n - i, "infinity")) {
        *out = c == '-' ? -INFINITY : INFINITY;
        return 0;
    }
    if (i == 0 && ieq(s, n, "nan")) {
        *out = NAN;
        return 0;
    }
    return -1;
}

/* Seconds (OpenMetrics) to milliseconds, rounded, clamped to the int64 range. */
static int64_t seconds_to_ms(double s)
{
    double ms = s * 1000.0;
    if (ms >= 9.2e18)
        return INT64_MAX;
    if (ms <= -9.2e18)
        return INT64_MIN;
    return (int64_t)llround(ms);
}

/* 0.0.4 timestamps: [sign] digits, milliseconds, int64. */
static int parse_int64(const char *s, size_t n, int64_t *out)
{
    size_t i = 0;
    bool neg = false;
    if (i < n && (s[i] == '+' || s[i] == '-')) {
        neg = s[i] == '-';
        i++;
    }
    if (i >= n)
        return -1;
    uint64_t v = 0;
    for (; i < n; i++) {
        if (!is_digit(s[i]))
            return -1;
        uint64_t d = (uint64_t)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    if (neg) {
        if (v > (uint64_t)INT64_MAX + 1)
            return -1;
        *out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
    } else {
        if (v > (uint64_t)INT64_MAX)
            return -1;
        *out = (int64_t)v;
    }
    return 0;
}

/* ---- names and text ---- */

static bool metric_name_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':';
}

static bool metric_name_char(char c)
{
    return metric_name_start(c) || is_digit(c);
}

static bool label_name_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool label_name_char(char c)
{
    return label_name_start(c) || is_digit(c);
}

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* Whether s[0..n) is valid UTF-8 (no overlongs, no surrogates). */
static bool utf8_valid(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len;
        uint32_t cp;
        if (c >= 0xC2 && c <= 0xDF) {
            len = 2;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            len = 3;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            len = 4;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (i + len > n)
            return false;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
            (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
            return false;
        i += len;
    }
    return true;
}

/* Code points in s[0..n) (for the exemplar 128-character rule). */
static size_t utf8_count(const char *s, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            c++;
    return c;
}

/* ---- label sets ---- */

/*
 * Parse `{name="value",...}` starting at *pos (which points at '{') into labs[*nl...]. Strict
 * (OpenMetrics): no blanks, no trailing comma. Lenient (0.0.4): blanks around tokens and one
 * trailing comma. Values are unescaped (\\, \", \n; other escapes are kept as written).
 */
static int parse_label_set(struct expfmt_parser *p, const char *line, const char **pos,
                           const char *end, struct lab *labs, size_t *nl, size_t max, bool strict)
{
    const char *q = *pos + 1;
    bool after_comma = false, first = true;
    for (;;) {
        if (!strict)
            while (q < end && is_blank(*q))
                q++;
        if (q >= end)
            return failf(p, colof(line, q),
                         "expected a label name or '}', found the end of the line");
        if (*q == '}') {
            if (after_comma && strict)
                return failf(
                    p, colof(line, q),
                    "expected a label name after ',' (OpenMetrics allows no trailing comma)");
            q++;
            break;
        }
        if (!first && !after_comma)
            return failf(p, colof(line, q), "expected ',' or '}' after a label value");
        if (!label_name_start(*q))
            return failf(p, colof(line, q),
                         "expected a label name ([a-zA-Z_][a-zA-Z0-9_]*), found '%c'", *q);
        const char *ns = q;
        while (q < end && label_name_char(*q))
            q++;
        size_t nlen = (size_t)(q - ns);
        if (nlen > p->lim.max_label_name_bytes)
            return failf(p, colof(line, ns), "label name longer than %zu bytes",
                         p->lim.max_label_name_bytes);
        if (!strict)
            while (q < end && is_blank(*q))
                q++;
        if (q >= end || *q != '=')
            return failf(p, colof(line, q), "expected '=' after label name \"%.*s\"", (int)nlen,
                         ns);
        q++;
        if (!strict)
            while (q < end && is_blank(*q))
                q++;
        if (q >= end || *q != '"')
            return failf(p, colof(line, q), "expected '\"' to open the value of label \"%.*s\"",
                         (int)nlen, ns);
        q++;
        if (*nl >= max)
            return failf(p, colof(line, ns), "more than %zu labels on one sample (label limit)",
                         p->lim.max_labels);
        const char *name = arena_put(p, ns, nlen);
        char *v = p->arena + p->arena_len;
        size_t vlen = 0;
        const char *vs = q;
        bool closed = false, high = false;
        while (q < end) {
            char c = *q;
            if (c == '"') {
                closed = true;
                q++;
                break;
            }
            if (c == '\\') {
                if (q + 1 >= end)
                    break;
                char e = q[1];
                if (e == 'n')
                    v[vlen++] = '\n';
                else if (e == '\\' || e == '"')
                    v[vlen++] = e;
                else {
                    v[vlen++] = '\\';
                    v[vlen++] = e;
                }
                if ((unsigned char)e >= 0x80)
                    high = true;
                else if (e == '\0')
                    return failf(p, colof(line, q + 1), "NUL byte in a label value");
                q += 2;
                continue;
            }
            if (c == '\0')
                return failf(p, colof(line, q), "NUL byte in a label value");
            if ((unsigned char)c >= 0x80)
                high = true;
            v[vlen++] = c;
            q++;
        }
        if (!closed)
            return failf(p, colof(line, vs - 1),
                         "unterminated value of label \"%.*s\" (expected '\"')", (int)nlen, ns);
        if (vlen > p->lim.max_label_value_bytes)
            return failf(p, colof(line, vs), "value of label \"%.*s\" longer than %zu bytes",
                         (int)nlen, ns, p->lim.max_label_value_bytes);
        if (high && !utf8_valid((const unsigned char *)v, vlen))
            return failf(p, colof(line, vs), "value of label \"%.*s\" is not valid UTF-8",
                         (int)nlen, ns);
        v[vlen] = '\0';
        p->arena_len += vlen + 1;
        labs[*nl].name = name;
        labs[*nl].name_len = nlen;
        labs[*nl].value = v;
        labs[*nl].value_len = vlen;
        (*nl)++;
        first = false;
        after_comma = false;
        if (!strict)
            while (q < end && is_blank(*q))
                q++;
        if (q < end && *q == ',') {
            after_comma = true;
            q++;
        }
    }
    *pos = q;
    return 0;
}

static int lab_cmp(const struct lab *a, const struct lab *b)
{
    size_t n = a->name_len < b->name_len ? a->name_len : b->name_len;
    int c = memcmp(a->name, b->name, n);
    if (c != 0)
        return c;
    return a->name_len < b->name_len ? -1 : a->name_len > b->name_len ? 1 : 0;
}

/* Sort labs by name (insertion sort: sets are small and often already sorted) and refuse
 * duplicates. */
static int sort_labels(struct expfmt_parser *p, const char *line, const char *at, struct lab *labs,
                       size_t n)
{
    for (size_t i = 1; i < n; i++) {
        struct lab x = labs[i];
        size_t j = i;
        while (j > 0 && lab_cmp(&labs[j - 1], &x) > 0) {
            labs[j] = labs[j - 1];
            j--;
        }
        labs[j] = x;
    }
    for (size_t i = 1; i < n; i++)
        if (lab_cmp(&labs[i - 1], &labs[i]) == 0)
            return failf(p, colof(line, at), "duplicate label name \"%s\"", labs[i].name);
    return 0;
}

static const struct lab *find_lab(const struct lab *labs, size_t n, const char *name, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (labs[i].name_len == len && memcmp(labs[i].name, name, len) == 0)
            return &labs[i];
    return NULL;
}

/* ---- OpenMetrics family rules ---- */

static const char *const suffixes_counter[] = {"_total", "_created", NULL};
static const char *const suffixes_summary[] = {"", "_count", "_sum", "_created", NULL};
static const char *const suffixes_histogram[] = {"_count", "_sum", "_bucket", "_created", NULL};
static const char *const suffixes_gaugehistogram[] = {"_gcount", "_gsum", "_bucket", NULL};
static const char *const suffixes_info[] = {"_info", NULL};
static const char *const suffixes_plain[] = {"", NULL};

static const char *const *om_suffixes(enum expfmt_type t)
{
    switch (t) {
    case EXPFMT_TYPE_COUNTER:
        return suffixes_counter;
    case EXPFMT_TYPE_SUMMARY:
        return suffixes_summary;
    case EXPFMT_TYPE_HISTOGRAM:
        return suffixes_histogram;
    case EXPFMT_TYPE_GAUGEHISTOGRAM:
        return suffixes_gaugehistogram;
    case EXPFMT_TYPE_INFO:
        return suffixes_info;
    default:
        return suffixes_plain;
    }
}

static bool buf_eq(const struct lw_buf *a, const struct lw_buf *b)
{
    return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

static bool is_hist(enum expfmt_type t)
{
    return t == EXPFMT_TYPE_HISTOGRAM || t == EXPFMT_TYPE_GAUGEHISTOGRAM;
}

/* Whether name is one of the current family's sample names; *suffix gets the part after the
 * family name. */
static bool om_name_allowed(const struct expfmt_parser *p, const char *name, size_t len,
                            const char **suffix)
{
    size_t fl = p->fam.len;
    if (len < fl || memcmp(name, p->fam.data, fl) != 0)
        return false;
    const char *suf = name + fl;
    size_t sl = len - fl;
    for (const char *const *s = om_suffixes(p->type_set ? p->type : EXPFMT_TYPE_UNKNOWN); *s; s++)
        if (strlen(*s) == sl && memcmp(*s, suf, sl) == 0) {
            *suffix = suf;
            return true;
        }
    return false;
}

static void hist_reset(struct hist_state *h)
{
    h->active = false;
    h->have_bucket = false;
    h->bucket = 0;
    h->value = 0;
    h->have_count = false;
    h->count = 0;
    h->has_sum = h->has_gsum = h->has_negative_buckets = h->has_negative_gsum = false;
}

/* The consistency rules of one histogram group (run when the group ends). */
static int hist_check(struct expfmt_parser *p, int col)
{
    struct hist_state *h = &p->hist;
    const char *f = lw_buf_str(&p->fam);
    if (!h->have_bucket || !(isinf(h->bucket) && h->bucket > 0))
        return failf(p, col, "histogram %s: the +Inf bucket is missing", f);
    if (h->have_count && h->value != h->count)
        return failf(p, col, "histogram %s: _count does not equal the +Inf bucket", f);
    if (h->has_sum && !h->have_count)
        return failf(p, col, "histogram %s: _sum without _count", f);
    if (h->has_gsum && !h->have_count)
        return failf(p, col, "gaugehistogram %s: _gsum without _gcount", f);
    if (!(h->has_sum || h->has_gsum) && h->have_count)
        return failf(p, col, "histogram %s: _count without _sum", f);
    if (h->has_negative_buckets && h->has_sum)
        return failf(p, col, "histogram %s: _sum is not allowed with negative buckets", f);
    if (!h->has_negative_buckets && h->has_negative_gsum)
        return failf(p, col, "gaugehistogram %s: negative _gsum without negative buckets", f);
    return 0;
}

/* End of a metric family: name clashes, unit rules, the last histogram group. */
static int om_end_family(struct expfmt_parser *p, int col)
{
    if (!p->fam_active)
        return 0;
    p->fam_active = false;
    const char *f = lw_buf_str(&p->fam);
    size_t fl = p->fam.len;
    if (p->hist.active) {
        if (hist_check(p, col) != 0)
            return -1;
        hist_reset(&p->hist);
    }
    enum expfmt_type t = p->type_set ? p->type : EXPFMT_TYPE_UNKNOWN;
    /* Every name the family owns: its type's suffixes and the bare name. */
    const char *owned[8];
    size_t nowned = 0;
    bool plain = false;
    for (const char *const *sf = om_suffixes(t); *sf; sf++) {
        owned[nowned++] = *sf;
        plain = plain || (*sf)[0] == '\0';
    }
    if (!plain)
        owned[nowned++] = "";
    char name[LW_MAX_LABEL_NAME_BYTES + 16];
    for (size_t k = 0; k < nowned; k++) {
        size_t sl = strlen(owned[k]);
        if (fl + sl >= sizeof name)
            return failf(p, col, "metric name too long");
        memcpy(name, f, fl);
        memcpy(name + fl, owned[k], sl);
        if (strset_has(&p->seen_names, name, fl + sl))
            return failf(p, col, "metric family %s clashes with an earlier family (name %.*s)", f,
                         (int)(fl + sl), name);
        if (strset_add(&p->seen_names, name, fl + sl) != 0)
            return failf(p, col, "out of memory");
    }
    if (p->unit_seen && p->unit.len > 0) {
        const char *u = lw_buf_str(&p->unit);
        size_t ul = p->unit.len;
        if (!(fl > ul + 1 && f[fl - ul - 1] == '_' && memcmp(f + fl - ul, u, ul) == 0))
            return failf(p, col, "metric family %s: the name must end with _%s, its UNIT", f, u);
        if (t == EXPFMT_TYPE_INFO || t == EXPFMT_TYPE_STATESET)
            return failf(p, col, "metric family %s: info and stateset metrics have no UNIT", f);
    }
    return 0;
}

static int om_start_family(struct expfmt_parser *p, const char *name, size_t len)
{
    lw_buf_reset(&p->fam);
    if (lw_buf_add(&p->fam, name, len) != 0)
        return failf(p, 1, "out of memory");
    p->fam_active = true;
    p->type_set = false;
    p->type = EXPFMT_TYPE_UNKNOWN;
    p->help_seen = p->unit_seen = false;
    lw_buf_reset(&p->unit);
    p->fam_samples = 0;
    p->have_group = false;
    lw_buf_reset(&p->group);
    strset_clear(&p->seen_groups);
    hist_reset(&p->hist);
    return 0;
}

/* le and quantile values: a number, not NaN, infinities only as +Inf/-Inf. */
static int om_label_number(const struct lab *l, double *out)
{
    if (!l || expfmt_parse_value(l->value, l->value_len, out) != 0 || isnan(*out))
        return -1;
    if (isinf(*out) && strcmp(l->value, "+Inf") != 0 && strcmp(l->value, "-Inf") != 0)
        return -1;
    return 0;
}

static bool suffix_is(const char *suffix, const char *const *set)
{
    for (; *set; set++)
        if (strcmp(suffix, *set) == 0)
            return true;
    return false;
}

/* Everything OpenMetrics says about a sample beyond its syntax. */
static int om_check_sample(struct expfmt_parser *p, const char *line, const char *name,
                           size_t name_len, const struct lab *labs, size_t nl, double v,
                           bool has_ts, double ts, bool exemplar)
{
    const char *suffix = "";
    if (!p->fam_active || !om_name_allowed(p, name, name_len, &suffix)) {
        if (om_end_family(p, 1) != 0 || om_start_family(p, name, name_len) != 0)
            return -1;
        p->type_set = true;
        p->type = EXPFMT_TYPE_UNKNOWN;
        suffix = name + name_len;
    }
    enum expfmt_type t = p->type;
    const char *f = lw_buf_str(&p->fam);
    size_t fl = p->fam.len;
    p->fam_samples++;

    /* labels that carry meaning per type */
    const char *skip = NULL; /* label left out of the group key */
    if (t == EXPFMT_TYPE_STATESET) {
        if (!find_lab(labs, nl, f, fl))
            return failf(p, 1, "stateset %s: sample without a label named %s", f, f);
        skip = f;
    }
    if (is_hist(t) && strcmp(suffix, "_bucket") == 0) {
        double le;
        if (om_label_number(find_lab(labs, nl, "le", 2), &le) != 0)
            return failf(p, 1, "histogram %s: bucket needs an le label holding a number", f);
        skip = "le";
    }
    if (t == EXPFMT_TYPE_SUMMARY && suffix[0] == '\0') {
        double q;
        if (om_label_number(find_lab(labs, nl, "quantile", 8), &q) != 0 || q < 0 || q > 1)
            return failf(p, 1, "summary %s: quantile label must be a number in [0, 1]", f);
        skip = "quantile";
    }

    /* group key: the labels minus __name__ and the type's own label (info: one group) */
    lw_buf_reset(&p->gkey);
    if (t != EXPFMT_TYPE_INFO)
        for (size_t i = 0; i < nl; i++) {
            if (strcmp(labs[i].name, "__name__") == 0 || (skip && strcmp(labs[i].name, skip) == 0))
                continue;
            (void)lw_buf_add(&p->gkey, labs[i].name, labs[i].name_len + 1);
            (void)lw_buf_add(&p->gkey, labs[i].value, labs[i].value_len + 1);
        }
    if (lw_buf_failed(&p->gkey))
        return failf(p, 1, "out of memory");
    bool same = p->have_group && buf_eq(&p->group, &p->gkey);
    if (p->have_group && !same && strset_has(&p->seen_groups, p->gkey.data, p->gkey.len))
        return failf(p, 1, "metric family %s: samples of one label group must be contiguous", f);
    if (same) {
        if (has_ts != p->group_has_ts)
            return failf(
                p, 1, "metric family %s: some samples of a group have timestamps and some not", f);
        if (has_ts && p->group_ts > ts && t != EXPFMT_TYPE_INFO)
            return failf(p, 1, "metric family %s: timestamp went backwards within a group", f);
    } else {
        lw_buf_reset(&p->group);
        if (lw_buf_add(&p->group, p->gkey.data ? p->gkey.data : "", p->gkey.len) != 0 ||
            strset_add(&p->seen_groups, p->gkey.data ? p->gkey.data : "", p->gkey.len) != 0)
            return failf(p, 1, "out of memory");
    }
    p->have_group = true;
    p->group_has_ts = has_ts;
    p->group_ts = ts;

    /* histogram consistency, group by group */
    if (is_hist(t) && suffix[0] != '\0') {
        struct hist_state *h = &p->hist;
        bool hsame = h->active && buf_eq(&h->group, &p->gkey) && h->has_ts == has_ts &&
                     (!has_ts || h->ts == ts);
        if (!hsame) {
            if (h->active && hist_check(p, 1) != 0)
                return -1;
            hist_reset(h);
            lw_buf_reset(&h->group);
            if (lw_buf_add(&h->group, p->gkey.data ? p->gkey.data : "", p->gkey.len) != 0)
                return failf(p, 1, "out of memory");
            h->active = true;
            h->has_ts = has_ts;
            h->ts = ts;
        }
        if (strcmp(suffix, "_bucket") == 0) {
            double le;
            (void)om_label_number(find_lab(labs, nl, "le", 2), &le);
            if (le < 0)
                h->has_negative_buckets = true;
            if (h->have_bucket && le <= h->bucket)
                return failf(p, 1, "histogram %s: buckets out of order (le must increase)", f);
            if (v < h->value)
                return failf(p, 1, "histogram %s: bucket values must not decrease", f);
            h->have_bucket = true;
            h->bucket = le;
            h->value = v;
        } else if (strcmp(suffix, "_count") == 0 || strcmp(suffix, "_gcount") == 0) {
            h->have_count = true;
            h->count = v;
        } else if (strcmp(suffix, "_sum") == 0) {
            h->has_sum = true;
        } else if (strcmp(suffix, "_gsum") == 0) {
            h->has_gsum = true;
            if (v < 0)
                h->has_negative_gsum = true;
        }
    }

    /* values */
    static const char *const counterlike_nan[] = {"_total",  "_sum",  "_count", "_bucket",
                                                  "_gcount", "_gsum", NULL};
    static const char *const counterlike_neg[] = {"_total",  "_sum",    "_count",
                                                  "_bucket", "_gcount", NULL};
    if (t == EXPFMT_TYPE_STATESET && v != 0 && v != 1)
        return failf(p, 1, "stateset %s: values must be 0 or 1", f);
    if (t == EXPFMT_TYPE_INFO && v != 1)
        return failf(p, 1, "info %s: the value must be 1", f);
    if (t == EXPFMT_TYPE_SUMMARY && suffix[0] == '\0' && v < 0)
        return failf(p, 1, "summary %s: quantile values cannot be negative", f);
    if (isnan(v) && suffix_is(suffix, counterlike_nan))
        return failf(p, 1, "%.*s: counter-like samples cannot be NaN", (int)name_len, name);
    if (v < 0 && suffix_is(suffix, counterlike_neg))
        return failf(p, 1, "%.*s: counter-like samples cannot be negative", (int)name_len, name);
    if (exemplar && !((is_hist(t) && strcmp(suffix, "_bucket") == 0) ||
                      (t == EXPFMT_TYPE_COUNTER && strcmp(suffix, "_total") == 0)))
        return failf(p, 1,
                     "%.*s: exemplars are allowed only on histogram buckets and counter totals",
                     (int)name_len, name);
    (void)line;
    return 0;
}

/* ---- lines ---- */

static int parse_type_word(const char *s, size_t n, bool om, enum expfmt_type *t)
{
    static const struct {
        const char *word;
        enum expfmt_type t;
        int modes; /* 1: 0.0.4, 2: OpenMetrics */
    } types[] = {
        {"counter", EXPFMT_TYPE_COUNTER, 3},     {"gauge", EXPFMT_TYPE_GAUGE, 3},
        {"histogram", EXPFMT_TYPE_HISTOGRAM, 3}, {"summary", EXPFMT_TYPE_SUMMARY, 3},
        {"untyped", EXPFMT_TYPE_UNKNOWN, 1},     {"gaugehistogram", EXPFMT_TYPE_GAUGEHISTOGRAM, 2},
        {"info", EXPFMT_TYPE_INFO, 2},           {"stateset", EXPFMT_TYPE_STATESET, 2},
        {"unknown", EXPFMT_TYPE_UNKNOWN, 2},
    };
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if ((types[i].modes & (om ? 2 : 1)) && strlen(types[i].word) == n &&
            memcmp(types[i].word, s, n) == 0) {
            *t = types[i].t;
            return 0;
        }
    return -1;
}

/* OpenMetrics `# HELP|TYPE|UNIT name text` and `# EOF`. */
static int om_meta_line(struct expfmt_parser *p, const char *line, size_t n)
{
    const char *end = line + n;
    if (n == 5 && memcmp(line, "# EOF", 5) == 0) {
        p->eof = true;
        return 0;
    }
    if (n < 2 || line[1] != ' ')
        return failf(p, 2, "expected '# HELP', '# TYPE', '# UNIT' or '# EOF'");
    const char *kw = line + 2;
    const char *q = kw;
    while (q < end && *q != ' ')
        q++;
    size_t kl = (size_t)(q - kw);
    int kind;
    if (kl == 4 && memcmp(kw, "HELP", 4) == 0)
        kind = 0;
    else if (kl == 4 && memcmp(kw, "TYPE", 4) == 0)
        kind = 1;
    else if (kl == 4 && memcmp(kw, "UNIT", 4) == 0)
        kind = 2;
    else
        return failf(
            p, 3, "expected HELP, TYPE, UNIT or EOF after '# ' (OpenMetrics has no free comments)");
    if (q >= end)
        return failf(p, colof(line, q), "expected ' ' and a metric name after %.*s", (int)kl, kw);
    q++;
    const char *ns = q;
    if (q >= end || !metric_name_start(*q))
        return failf(p, colof(line, q), "expected a metric name after %.*s", (int)kl, kw);
    while (q < end && metric_name_char(*q))
        q++;
    size_t nlen = (size_t)(q - ns);
    if (nlen > p->lim.max_label_name_bytes)
        return failf(p, colof(line, ns), "metric name longer than %zu bytes",
                     p->lim.max_label_name_bytes);
    if (q >= end || *q != ' ')
        return failf(p, colof(line, q), "expected ' ' and text after the metric name in %.*s",
                     (int)kl, kw);
    q++;
    const char *text = q;
    size_t tl = (size_t)(end - q);
    bool same = p->fam_active && p->fam.len == nlen && memcmp(p->fam.data, ns, nlen) == 0;
    if (same && p->fam_samples > 0)
        return failf(p, 1, "%.*s for %.*s after its samples (metadata must come first)", (int)kl,
                     kw, (int)nlen, ns);
    if (!same && (om_end_family(p, 1) != 0 || om_start_family(p, ns, nlen) != 0))
        return -1;
    if (kind == 0) {
        if (p->help_seen)
            return failf(p, 1, "second HELP for %.*s", (int)nlen, ns);
        p->help_seen = true;
    } else if (kind == 1) {
        if (p->type_set)
            return failf(p, 1, "second TYPE for %.*s", (int)nlen, ns);
        enum expfmt_type t;
        if (parse_type_word(text, tl, true, &t) != 0)
            return failf(
                p, colof(line, text),
                "expected counter, gauge, histogram, gaugehistogram, summary, info, stateset "
                "or unknown, found " TOKFMT,
                TOKARG(text, tl));
        p->type_set = true;
        p->type = t;
    } else {
        if (p->unit_seen)
            return failf(p, 1, "second UNIT for %.*s", (int)nlen, ns);
        p->unit_seen = true;
        lw_buf_reset(&p->unit);
        if (lw_buf_add(&p->unit, text, tl) != 0)
            return failf(p, 1, "out of memory");
    }
    return 0;
}

/* 0.0.4 comments: `# HELP name text` and `# TYPE name type` are metadata, any other is ignored. */
static int t4_comment_line(struct expfmt_parser *p, const char *line, const char *q,
                           const char *end)
{
    q++; /* '#' */
    while (q < end && is_blank(*q))
        q++;
    bool help = (size_t)(end - q) > 4 && memcmp(q, "HELP", 4) == 0 && is_blank(q[4]);
    bool type = (size_t)(end - q) > 4 && memcmp(q, "TYPE", 4) == 0 && is_blank(q[4]);
    if (!help && !type)
        return 0;
    q += 4;
    while (q < end && is_blank(*q))
        q++;
    const char *ns = q;
    if (q >= end || !metric_name_start(*q))
        return failf(p, colof(line, q), "expected a metric name after %s", help ? "HELP" : "TYPE");
    while (q < end && metric_name_char(*q))
        q++;
    size_t nlen = (size_t)(q - ns);
    if (q < end && !is_blank(*q))
        return failf(p, colof(line, q), "expected a blank after the metric name, found '%c'", *q);
    if (help)
        return 0;
    while (q < end && is_blank(*q))
        q++;
    const char *ts = q;
    while (q < end && !is_blank(*q))
        q++;
    size_t tl = (size_t)(q - ts);
    while (q < end && is_blank(*q))
        q++;
    enum expfmt_type t;
    if (q != end || parse_type_word(ts, tl, false, &t) != 0)
        return failf(p, colof(line, ts),
                     "expected counter, gauge, histogram, summary or untyped after TYPE %.*s",
                     (int)nlen, ns);
    lw_buf_reset(&p->t4_name);
    if (lw_buf_add(&p->t4_name, ns, nlen) != 0)
        return failf(p, 1, "metric name too long");
    p->t4_type = t;
    p->t4_have = true;
    return 0;
}

/* The 0.0.4 family a sample belongs to: the last TYPE'd name when the sample is one of its
 * series (name, or _bucket/_sum/_count for histograms and summaries). */
static void t4_family(const struct expfmt_parser *p, const char *name, size_t len,
                      const char **family, enum expfmt_type *type)
{
    *family = name;
    *type = EXPFMT_TYPE_UNKNOWN;
    if (!p->t4_have)
        return;
    size_t fl = p->t4_name.len;
    if (len < fl || memcmp(name, p->t4_name.data, fl) != 0)
        return;
    const char *suf = name + fl;
    bool ok =
        suf[0] == '\0' ||
        (p->t4_type == EXPFMT_TYPE_HISTOGRAM &&
         (strcmp(suf, "_bucket") == 0 || strcmp(suf, "_sum") == 0 || strcmp(suf, "_count") == 0)) ||
        (p->t4_type == EXPFMT_TYPE_SUMMARY &&
         (strcmp(suf, "_sum") == 0 || strcmp(suf, "_count") == 0));
    if (ok) {
        *family = p->t4_name.data;
        *type = p->t4_type;
    }
}

/* An OpenMetrics exemplar after " # ": {labels} value [timestamp]. */
static int om_exemplar(struct expfmt_parser *p, const char *line, const char *q, const char *end)
{
    if (q + 1 >= end || q[1] != ' ' || q + 2 >= end || q[2] != '{')
        return failf(p, colof(line, q), "expected '# {' to start an exemplar");
    q += 2;
    size_t ne = 0;
    struct lab *ex = p->labs + p->lim.max_labels + 1; /* second half: exemplar labels */
    size_t mark = p->arena_len;
    if (parse_label_set(p, line, &q, end, ex, &ne, p->lim.max_labels, true) != 0)
        return -1;
    size_t chars = 0;
    for (size_t i = 0; i < ne; i++)
        chars += utf8_count(ex[i].name, ex[i].name_len) + utf8_count(ex[i].value, ex[i].value_len);
    if (chars > 128)
        return failf(p, colof(line, q), "exemplar labels longer than 128 characters");
    p->arena_len = mark;
    if (q >= end || *q != ' ')
        return failf(p, colof(line, q), "expected ' ' and a value after the exemplar labels");
    q++;
    const char *vs = q;
    while (q < end && *q != ' ')
        q++;
    double v;
    if (expfmt_parse_value(vs, (size_t)(q - vs), &v) != 0)
        return failf(p, colof(line, vs), "expected an exemplar value, found " TOKFMT,
                     TOKARG(vs, (size_t)(q - vs)));
    if (q < end) {
        q++;
        const char *ts = q;
        while (q < end && *q != ' ')
            q++;
        double t;
        if (parse_real(ts, (size_t)(q - ts), &t) != 0)
            return failf(p, colof(line, ts), "expected an exemplar timestamp, found " TOKFMT,
                         TOKARG(ts, (size_t)(q - ts)));
        if (q < end)
            return failf(p, colof(line, q), "unexpected text after the exemplar");
    }
    return 0;
}

static int sample_line(struct expfmt_parser *p, const char *line, const char *q, const char *end)
{
    bool om = p->fmt == EXPFMT_OPENMETRICS_1;
    const char *ns = q;
    if (q >= end || !metric_name_start(*q))
        return failf(p, colof(line, q), "expected a metric name ([a-zA-Z_:][a-zA-Z0-9_:]*)");
    while (q < end && metric_name_char(*q))
        q++;
    size_t nlen = (size_t)(q - ns);
    if (nlen > p->lim.max_label_name_bytes)
        return failf(p, colof(line, ns), "metric name longer than %zu bytes",
                     p->lim.max_label_name_bytes);
    const char *name = arena_put(p, ns, nlen);
    struct lab *labs = p->labs;
    size_t nl = 0;
    labs[nl++] = (struct lab){"__name__", 8, name, nlen};
    if (!om) { /* 0.0.4 allows blanks between the name and its labels (Go's text parser does) */
        const char *b = q;
        while (b < end && is_blank(*b))
            b++;
        if (b < end && *b == '{')
            q = b;
    }
    const char *lset = q;
    if (q < end && *q == '{') {
        if (parse_label_set(p, line, &q, end, labs, &nl, p->lim.max_labels, om) != 0)
            return -1;
    }
    /* value */
    if (q >= end)
        return failf(p, colof(line, q), "expected a blank and a value after the metric");
    if (!is_blank(*q))
        return failf(p, colof(line, q), "expected a blank before the value, found '%c'", *q);
    if (om) {
        if (*q != ' ')
            return failf(p, colof(line, q),
                         "expected ' ' before the value (OpenMetrics uses single spaces)");
        q++;
    } else {
        while (q < end && is_blank(*q))
            q++;
    }
    const char *vs = q;
    while (q < end && !is_blank(*q))
        q++;
    double v;
    if (vs == q)
        return failf(p, colof(line, vs), "expected a value");
    if (expfmt_parse_value(vs, (size_t)(q - vs), &v) != 0)
        return failf(p, colof(line, vs),
                     "expected a number, NaN or +Inf/-Inf as value, found " TOKFMT,
                     TOKARG(vs, (size_t)(q - vs)));
    bool has_ts = false, exemplar = false;
    int64_t t_ms = 0;
    double ts_s = 0;
    if (om) {
        if (q < end) {
            if (*q != ' ')
                return failf(p, colof(line, q), "expected ' ' after the value, found a tab");
            q++;
            if (q >= end)
                return failf(p, colof(line, q), "trailing space after the value");
            if (*q == '#') {
                if (om_exemplar(p, line, q, end) != 0)
                    return -1;
                exemplar = true;
            } else {
                const char *ts = q;
                while (q < end && *q != ' ')
                    q++;
                if (parse_real(ts, (size_t)(q - ts), &ts_s) != 0)
                    return failf(p, colof(line, ts),
                                 "expected a timestamp (seconds), found " TOKFMT,
                                 TOKARG(ts, (size_t)(q - ts)));
                has_ts = true;
                t_ms = seconds_to_ms(ts_s);
                if (q < end) {
                    q++;
                    if (q >= end || *q != '#')
                        return failf(p, colof(line, q),
                                     "expected '# {' (an exemplar) after the timestamp");
                    if (om_exemplar(p, line, q, end) != 0)
                        return -1;
                    exemplar = true;
                }
            }
        }
    } else {
        while (q < end && is_blank(*q))
            q++;
        if (q < end) {
            const char *ts = q;
            while (q < end && !is_blank(*q))
                q++;
            if (parse_int64(ts, (size_t)(q - ts), &t_ms) != 0)
                return failf(p, colof(line, ts),
                             "expected a timestamp (integer milliseconds), found " TOKFMT,
                             TOKARG(ts, (size_t)(q - ts)));
            has_ts = true;
            while (q < end && is_blank(*q))
                q++;
            if (q < end)
                return failf(p, colof(line, q), "unexpected text after the timestamp");
        }
    }
    if (sort_labels(p, line, lset, labs, nl) != 0)
        return -1;
    const char *family;
    enum expfmt_type type;
    if (om) {
        if (om_check_sample(p, line, name, nlen, labs, nl, v, has_ts, ts_s, exemplar) != 0)
            return -1;
        family = lw_buf_str(&p->fam);
        type = p->type;
    } else {
        t4_family(p, name, nlen, &family, &type);
    }
    if (p->nsamples >= p->lim.max_samples)
        return failf(p, 1, "more than %zu samples in one page (sample limit)", p->lim.max_samples);
    size_t k = 0;
    for (size_t i = 0; i < nl; i++) {
        if (labs[i].value_len == 0)
            continue;
        p->lv[k].name = (char *)labs[i].name;
        p->lv[k].value = (char *)labs[i].value;
        k++;
    }
    p->view.v = p->lv;
    p->view.n = k;
    p->view.cap = k;
    struct expfmt_sample s = {
        .labels = &p->view,
        .name = name,
        .family = family,
        .type = type,
        .value = v,
        .has_timestamp = has_ts,
        .t_ms = t_ms,
        .has_exemplar = exemplar,
    };
    p->nsamples++;
    if (p->on_sample) {
        struct lw_err cerr = {{0}, 0, 0, {0}};
        if (p->on_sample(p->ud, &s, &cerr) != 0)
            return failf(p, 1, "%s", cerr.msg[0] ? cerr.msg : "sample refused");
    }
    return 0;
}

static int ensure_arena(struct expfmt_parser *p, size_t line_len)
{
    size_t need = line_len * 2 + 64;
    p->arena_len = 0;
    if (need <= p->arena_cap)
        return 0;
    char *a = realloc(p->arena, need);
    if (!a)
        return failf(p, 1, "out of memory");
    p->arena = a;
    p->arena_cap = need;
    return 0;
}

static int process_line(struct expfmt_parser *p, const char *line, size_t n)
{
    p->line_no++;
    bool om = p->fmt == EXPFMT_OPENMETRICS_1;
    if (!om && n > 0 && line[n - 1] == '\r')
        n--;
    if (n > p->lim.max_line_bytes)
        return failf(p, 1, "line longer than %zu bytes", p->lim.max_line_bytes);
    if (ensure_arena(p, n) != 0)
        return -1;
    const char *end = line + n;
    if (om) {
        if (p->eof)
            return failf(p, 1, "text after # EOF");
        if (n == 0)
            return failf(p, 1, "blank line (OpenMetrics allows none)");
        if (line[0] == '#')
            return om_meta_line(p, line, n);
        return sample_line(p, line, line, end);
    }
    const char *q = line;
    while (q < end && is_blank(*q))
        q++;
    if (q == end)
        return 0;
    if (*q == '#')
        return t4_comment_line(p, line, q, end);
    return sample_line(p, line, q, end);
}

static int return_err(const struct expfmt_parser *p, struct lw_err *err)
{
    if (err)
        *err = p->err;
    return -1;
}

static int carry_add(struct expfmt_parser *p, const char *s, size_t n)
{
    if (p->carry_len + n > p->lim.max_line_bytes + 1) {
        p->line_no++;
        return failf(p, 1, "line longer than %zu bytes", p->lim.max_line_bytes);
    }
    if (p->carry_len + n > p->carry_cap) {
        size_t ncap = p->carry_cap ? p->carry_cap : 256;
        while (ncap < p->carry_len + n)
            ncap *= 2;
        char *c = realloc(p->carry, ncap);
        if (!c)
            return failf(p, 1, "out of memory");
        p->carry = c;
        p->carry_cap = ncap;
    }
    memcpy(p->carry + p->carry_len, s, n);
    p->carry_len += n;
    return 0;
}

int expfmt_parser_feed(struct expfmt_parser *p, const char *data, size_t len, struct lw_err *err)
{
    if (p->failed)
        return return_err(p, err);
    if (len > p->lim.max_bytes - p->total_bytes || p->total_bytes > p->lim.max_bytes) {
        failf(p, 0, "page larger than %zu bytes (body size limit)", p->lim.max_bytes);
        return return_err(p, err);
    }
    p->total_bytes += len;
    const char *s = data, *end = data + len;
    if (p->carry_len > 0) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        if (!nl)
            return carry_add(p, s, len) == 0 ? 0 : return_err(p, err);
        if (carry_add(p, s, (size_t)(nl - s)) != 0 || process_line(p, p->carry, p->carry_len) != 0)
            return return_err(p, err);
        p->carry_len = 0;
        s = nl + 1;
    }
    while (s < end) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        if (!nl) {
            if (carry_add(p, s, (size_t)(end - s)) != 0)
                return return_err(p, err);
            break;
        }
        if (process_line(p, s, (size_t)(nl - s)) != 0)
            return return_err(p, err);
        s = nl + 1;
    }
    return 0;
}

int expfmt_parser_finish(struct expfmt_parser *p, struct lw_err *err)
{
    if (p->failed)
        return return_err(p, err);
    if (p->carry_len > 0) {
        if (process_line(p, p->carry, p->carry_len) != 0)
            return return_err(p, err);
        p->carry_len = 0;
    }
    if (p->fmt == EXPFMT_OPENMETRICS_1) {
        if (om_end_family(p, 1) != 0)
            return return_err(p, err);
        if (!p->eof) {
            p->line_no++;
            failf(p, 1, "expected '# EOF' at the end of an OpenMetrics page");
            return return_err(p, err);
        }
    }
    return 0;
}

int expfmt_parse_buf(enum expfmt_format fmt, const char *data, size_t len,
                     const struct expfmt_limits *limits, expfmt_sample_fn on_sample, void *ud,
                     struct lw_err *err)
{
    struct expfmt_parser *p = expfmt_parser_new(fmt, limits, on_sample, ud);
    if (!p)
        return lw_err_set(err, 0, 0, "out of memory");
    int rc = expfmt_parser_feed(p, data, len, err);
    if (rc == 0)
        rc = expfmt_parser_finish(p, err);
    expfmt_parser_free(p);
    return rc;
}

enum expfmt_format expfmt_format_from_content_type(const char *ct)
{
    if (ct == NULL)
        return EXPFMT_TEXT_004;
    while (*ct == ' ')
        ct++;
    static const char om[] = "application/openmetrics-text";
    if (strncasecmp(ct, om, sizeof om - 1) == 0)
        return EXPFMT_OPENMETRICS_1;
    return EXPFMT_TEXT_004;
}

const char *expfmt_accept_header(bool prefer_openmetrics)
{
    /* The shape of Prometheus's own scrape Accept header. */
    if (prefer_openmetrics)
        return "application/openmetrics-text;version=1.0.0;q=0.5,"
               "text/plain;version=0.0.4;q=0.4,*/*;q=0.1";
    return "text/plain;version=0.0.4;q=1,*/*;q=0.1";
}

const char *expfmt_type_name(enum expfmt_type t, bool text004)
{
    switch (t) {
    case EXPFMT_TYPE_COUNTER:
        return "counter";
    case EXPFMT_TYPE_GAUGE:
        return "gauge";
    case EXPFMT_TYPE_HISTOGRAM:
        return "histogram";
    case EXPFMT_TYPE_GAUGEHISTOGRAM:
        return "gaugehistogram";
    case EXPFMT_TYPE_SUMMARY:
        return "summary";
    case EXPFMT_TYPE_INFO:
        return "info";
    case EXPFMT_TYPE_STATESET:
        return "stateset";
    default:
        return text004 ? "untyped" : "unknown";
    }
}

char *expfmt_format_value(double v, char *out, size_t outlen)
{
    if (isnan(v)) {
        snprintf(out, outlen, "NaN");
        return out;
    }
    if (isinf(v)) {
        snprintf(out, outlen, v > 0 ? "+Inf" : "-Inf");
        return out;
    }
    /* Go's strconv.FormatFloat(v, 'g', -1, 64), which Prometheus's text output uses: the fewest
     * significant digits that read back as v, in exponent form when the decimal exponent is
     * below -4 or at least 6 (so 1234567 prints as 1.234567e+06), plain otherwise. */
    char e[40];
    int prec = 1;
    for (; prec <= 17; prec++) {
        snprintf(e, sizeof e, "%.*e", prec - 1, v);
        if (strtod(e, NULL) == v)
            break;
    }
    if (prec > 17)
        prec = 17;
    const char *ep = strchr(e, 'e');
    long exp = ep ? strtol(ep + 1, NULL, 10) : 0;
    if (exp < -4 || exp >= 6)
        snprintf(out, outlen, "%s", e);
    else
        snprintf(out, outlen, "%.*f", (int)(prec - 1 - exp > 0 ? prec - 1 - exp : 0), v);
    return out;
}
