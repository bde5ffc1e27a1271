/*
 * labels.c — the shared label set: a sorted array of owned name/value strings (see labels.h).
 * Insertion is a binary search plus memmove; sets are small, so this beats any map. Nothing here
 * knows about metrics or alerts beyond the __name__ convention of the formatting functions.
 */
#include "lagwatch/labels.h"

#include <stdlib.h>
#include <string.h>

#define FNV64_OFFSET 14695981039346656037ULL
#define FNV64_PRIME  1099511628211ULL

void lw_labels_init(struct lw_labels *ls)
{
    ls->v = NULL;
    ls->n = 0;
    ls->cap = 0;
}

void lw_labels_clear(struct lw_labels *ls)
{
    for (size_t i = 0; i < ls->n; i++) {
        free(ls->v[i].name);
        free(ls->v[i].value);
    }
    ls->n = 0;
}

void lw_labels_cleanup(struct lw_labels *ls)
{
    lw_labels_clear(ls);
    free(ls->v);
    lw_labels_init(ls);
}

/* Compare a counted name with a NUL-terminated one in byte order. */
static int name_cmp(const char *a, size_t alen, const char *b)
{
    size_t blen = strlen(b);
    size_t n = alen < blen ? alen : blen;
    int c = memcmp(a, b, n);
    if (c != 0)
        return c;
    return alen < blen ? -1 : alen > blen ? 1 : 0;
}

/* Index of name, or of where it would be inserted; *found says which. */
static size_t find(const struct lw_labels *ls, const char *name, size_t len, bool *found)
{
    size_t lo = 0, hi = ls->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = name_cmp(name, len, ls->v[mid].name);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    *found = false;
    return lo;
}

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (!d)
        return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

static void remove_at(struct lw_labels *ls, size_t i)
{
    free(ls->v[i].name);
    free(ls->v[i].value);
    memmove(&ls->v[i], &ls->v[i + 1], (ls->n - i - 1) * sizeof(ls->v[0]));
    ls->n--;
}

int lw_labels_setn(struct lw_labels *ls, const char *name, size_t name_len, const char *value,
                   size_t value_len)
{
    bool found;
    size_t i = find(ls, name, name_len, &found);
    if (value_len == 0) {
        if (found)
            remove_at(ls, i);
        return 0;
    }
    char *v = dup_n(value, value_len);
    if (!v)
        return -1;
    if (found) {
        free(ls->v[i].value);
        ls->v[i].value = v;
        return 0;
    }
    char *nm = dup_n(name, name_len);
    if (!nm) {
        free(v);
        return -1;
    }
    if (ls->n == ls->cap) {
        size_t cap = ls->cap ? ls->cap * 2 : 8;
        struct lw_label *nv = realloc(ls->v, cap * sizeof(*nv));
        if (!nv) {
            free(v);
            free(nm);
            return -1;
        }
        ls->v = nv;
        ls->cap = cap;
    }
    memmove(&ls->v[i + 1], &ls->v[i], (ls->n - i) * sizeof(ls->v[0]));
    ls->v[i].name = nm;
    ls->v[i].value = v;
    ls->n++;
    return 0;
}

int lw_labels_set(struct lw_labels *ls, const char *name, const char *value)
{
    return lw_labels_setn(ls, name, strlen(name), value, value ? strlen(value) : 0);
}

const char *lw_labels_get(const struct lw_labels *ls, const char *name)
{
    bool found;
    size_t i = find(ls, name, strlen(name), &found);
    return found ? ls->v[i].value : NULL;
}

void lw_labels_del(struct lw_labels *ls, const char *name)
{
    bool found;
    size_t i = find(ls, name, strlen(name), &found);
    if (found)
        remove_at(ls, i);
}

int lw_labels_copy(struct lw_labels *dst, const struct lw_labels *src)
{
    lw_labels_init(dst);
    if (src->n == 0)
        return 0;
    dst->v = calloc(src->n, sizeof(dst->v[0]));
    if (!dst->v)
        return -1;
    dst->cap = src->n;
    for (size_t i = 0; i < src->n; i++) {
        dst->v[i].name = dup_n(src->v[i].name, strlen(src->v[i].name));
        dst->v[i].value = dup_n(src->v[i].value, strlen(src->v[i].value));
        dst->n = i + 1;
        if (!dst->v[i].name || !dst->v[i].value) {
            lw_labels_cleanup(dst);
            return -1;
        }
    }
    return 0;
}

int lw_labels_cmp(const struct lw_labels *a, const struct lw_labels *b)
{
    size_t n = a->n < b->n ? a->n : b->n;
    for (size_t i = 0; i < n; i++) {
        int c = strcmp(a->v[i].name, b->v[i].name);
        if (c != 0)
            return c < 0 ? -1 : 1;
        c = strcmp(a->v[i].value, b->v[i].value);
        if (c != 0)
            return c < 0 ? -1 : 1;
    }
    return a->n < b->n ? -1 : a->n > b->n ? 1 : 0;
}

bool lw_labels_equal(const struct lw_labels *a, const struct lw_labels *b)
{
    return a->n == b->n && lw_labels_cmp(a, b) == 0;
}

static uint64_t fnv_add(uint64_t h, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        h ^= *p;
        h *= FNV64_PRIME;
    }
    return h;
}

static uint64_t fnv_sep(uint64_t h)
{
    h ^= 0xffu;
    return h * FNV64_PRIME;
}

uint64_t lw_labels_fingerprint(const struct lw_labels *ls)
{
    uint64_t h = FNV64_OFFSET;
    for (size_t i = 0; i < ls->n; i++) {
        h = fnv_sep(fnv_add(h, ls->v[i].name));
        h = fnv_sep(fnv_add(h, ls->v[i].value));
    }
    return h;
}

static bool listed(const char *name, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(name, names[i]) == 0)
            return true;
    return false;
}

/* Whether label `name` takes part in a subset described by (names, n, keep). */
static bool in_subset(const char *name, const char *const *names, size_t n, bool keep)
{
    if (keep)
        return listed(name, names, n);
    return strcmp(name, "__name__") != 0 && !listed(name, names, n);
}

uint64_t lw_labels_hash_subset(const struct lw_labels *ls, const char *const *names, size_t n,
                               bool keep)
{
    uint64_t h = FNV64_OFFSET;
    for (size_t i = 0; i < ls->n; i++) {
        if (!in_subset(ls->v[i].name, names, n, keep))
            continue;
        h = fnv_sep(fnv_add(h, ls->v[i].name));
        h = fnv_sep(fnv_add(h, ls->v[i].value));
    }
    return h;
}

bool lw_labels_subset_equal(const struct lw_labels *a, const struct lw_labels *b,
                            const char *const *names, size_t n, bool keep)
{
    size_t i = 0, j = 0;
    for (;;) {
        while (i < a->n && !in_subset(a->v[i].name, names, n, keep))
            i++;
        while (j < b->n && !in_subset(b->v[j].name, names, n, keep))
            j++;
        if (i == a->n || j == b->n)
            return i == a->n && j == b->n;
        if (strcmp(a->v[i].name, b->v[j].name) != 0 || strcmp(a->v[i].value, b->v[j].value) != 0)
            return false;
        i++;
        j++;
    }
}

/* Go strconv.Quote-style escaping for the characters label values realistically hold. */
static int add_quoted(struct lw_buf *out, const char *s, bool exposition)
{
    lw_buf_addc(out, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '\\':
            lw_buf_adds(out, "\\\\");
            break;
        case '"':
            lw_buf_adds(out, "\\\"");
            break;
        case '\n':
            lw_buf_adds(out, "\\n");
            break;
        case '\t':
            lw_buf_adds(out, exposition ? "\t" : "\\t");
            break;
        case '\r':
            lw_buf_adds(out, exposition ? "\r" : "\\r");
            break;
        default:
            if (*p < 0x20 && !exposition)
                lw_buf_addf(out, "\\x%02x", *p);
            else
                lw_buf_addc(out, (char)*p);
        }
    }
    lw_buf_addc(out, '"');
    return lw_buf_failed(out) ? -1 : 0;
}

int lw_labels_format(const struct lw_labels *ls, struct lw_buf *out)
{
    lw_buf_addc(out, '{');
    for (size_t i = 0; i < ls->n; i++) {
        if (i > 0)
            lw_buf_adds(out, ", ");
        lw_buf_adds(out, ls->v[i].name);
        lw_buf_addc(out, '=');
        add_quoted(out, ls->v[i].value, false);
    }
    lw_buf_addc(out, '}');
    return lw_buf_failed(out) ? -1 : 0;
}

int lw_labels_format_metric(const struct lw_labels *ls, struct lw_buf *out)
{
    const char *name = lw_labels_get(ls, "__name__");
    if (name)
        lw_buf_adds(out, name);
    size_t shown = 0;
    for (size_t i = 0; i < ls->n; i++) {
        if (strcmp(ls->v[i].name, "__name__") == 0)
            continue;
        lw_buf_addc(out, shown == 0 ? '{' : ',');
        lw_buf_adds(out, ls->v[i].name);
        lw_buf_addc(out, '=');
        add_quoted(out, ls->v[i].value, true);
        shown++;
    }
    if (shown > 0)
        lw_buf_addc(out, '}');
    else if (!name)
        lw_buf_adds(out, "{}");
    return lw_buf_failed(out) ? -1 : 0;
}
