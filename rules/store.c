/*
 * store.c — the sample store (see store.h for the contract). Two indexes over the series:
 *
 *  - a chained hash table keyed by the label set's fingerprint, for appends (one lookup per
 *    scraped sample);
 *  - a table from metric name to the series of that name, because nearly every PromQL selector
 *    names its metric, so a select touches only that metric's series, not the whole store.
 *
 * A series is one allocation holding the record, its label array and every label string, so a
 * series costs one malloc for its identity plus one growable sample array. The samples live in
 * buf[start .. start+n): store_gc drops old samples by advancing `start`, appends slide the window
 * back to the front only when the array is full, so neither gc nor append moves samples on every
 * call, and the window is always contiguous for store_series_range.
 *
 * Not done here: deciding what a stale marker means (the evaluator), detecting vanished series
 * (the sources, which know what a scrape returned).
 */
#include "lagwatch/store.h"

#include <stdlib.h>
#include <string.h>

#include "lagwatch/limits.h"

#define STORE_MIN_SAMPLES_CAP 8u
#define STORE_MIN_BUCKETS     64u

struct name_entry {
    struct name_entry *next; /* hash chain */
    uint64_t hash;
    struct store_series **v; /* series with this __name__ ("" for none), in label order */
    size_t n, cap;
    char name[]; /* NUL-terminated */
};

struct store_series {
    struct store_series *next; /* hash chain */
    uint64_t hash;             /* lw_labels_fingerprint(&labels) */
    struct name_entry *name;   /* the name index entry this series is listed in */
    struct store_sample *buf;
    size_t start, n, cap;    /* samples are buf[start .. start+n) */
    struct lw_labels labels; /* v and strings point into this allocation, after the record */
};

struct store {
    struct store_options opts;
    struct store_series **buckets;
    size_t n_buckets; /* power of two */
    size_t n_series;
    struct name_entry **names;
    size_t n_name_buckets; /* power of two */
    size_t n_names;
};

bool store_is_stale_nan(double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    return bits == STORE_STALE_NAN_BITS;
}

double store_stale_nan(void)
{
    uint64_t bits = STORE_STALE_NAN_BITS;
    double v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

static bool same_bits(double a, double b)
{
    return memcmp(&a, &b, sizeof a) == 0;
}

/* FNV-1a 64 over a metric name, for the name index. */
static uint64_t name_hash(const char *name)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        h ^= *p;
        h *= 0x100000001b3ULL;
    }
    return h;
}

struct store *store_new(const struct store_options *opts)
{
    if (opts == NULL || opts->retention_ms <= 0)
        return NULL;
    struct store *s = calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    s->opts = *opts;
    if (s->opts.max_series == 0)
        s->opts.max_series = LW_MAX_STORE_SERIES;
    s->n_buckets = STORE_MIN_BUCKETS;
    s->buckets = calloc(s->n_buckets, sizeof *s->buckets);
    s->n_name_buckets = STORE_MIN_BUCKETS;
    s->names = calloc(s->n_name_buckets, sizeof *s->names);
    if (s->buckets == NULL || s->names == NULL) {
        store_free(s);
        return NULL;
    }
    return s;
}

static void series_free(struct store_series *ser)
{
    free(ser->buf);
    free(ser); /* labels live inside the same allocation */
}

static void free_all(struct store *s)
{
    for (size_t i = 0; i < s->n_buckets; i++) {
        struct store_series *ser = s->buckets[i];
        while (ser) {
            struct store_series *next = ser->next;
            series_free(ser);
            ser = next;
        }
        s->buckets[i] = NULL;
    }
    for (size_t i = 0; i < s->n_name_buckets; i++) {
        struct name_entry *ne = s->names[i];
        while (ne) {
            struct name_entry *next = ne->next;
            free(ne->v);
            free(ne);
            ne = next;
        }
        s->names[i] = NULL;
    }
    s->n_series = 0;
    s->n_names = 0;
}

void store_free(struct store *s)
{
    if (s == NULL)
        return;
    if (s->buckets && s->names)
        free_all(s);
    free(s->buckets);
    free(s->names);
    free(s);
}

void store_clear(struct store *s)
{
    free_all(s);
}

/* One allocation: the record, then the label array, then the strings. */
static struct store_series *series_new(const struct lw_labels *ls, uint64_t hash)
{
    size_t strings = 0;
    for (size_t i = 0; i < ls->n; i++)
        strings += strlen(ls->v[i].name) + 1 + strlen(ls->v[i].value) + 1;
    size_t size = sizeof(struct store_series) + ls->n * sizeof(struct lw_label) + strings;
    struct store_series *ser = calloc(1, size);
    if (ser == NULL)
        return NULL;
    ser->hash = hash;
    struct lw_label *arr = (struct lw_label *)(void *)(ser + 1);
    char *p = (char *)(arr + ls->n);
    for (size_t i = 0; i < ls->n; i++) {
        size_t nl = strlen(ls->v[i].name) + 1, vl = strlen(ls->v[i].value) + 1;
        memcpy(p, ls->v[i].name, nl);
        arr[i].name = p;
        p += nl;
        memcpy(p, ls->v[i].value, vl);
        arr[i].value = p;
        p += vl;
    }
    ser->labels.v = arr;
    ser->labels.n = ls->n;
    ser->labels.cap = ls->n;
    return ser;
}

static size_t series_alloc_bytes(const struct store_series *ser)
{
    size_t size = sizeof *ser + ser->labels.n * sizeof(struct lw_label);
    for (size_t i = 0; i < ser->labels.n; i++)
        size += strlen(ser->labels.v[i].name) + 1 + strlen(ser->labels.v[i].value) + 1;
    return size + ser->cap * sizeof(struct store_sample);
}

static struct name_entry *name_find(const struct store *s, const char *name, uint64_t h)
{
    for (struct name_entry *ne = s->names[h & (s->n_name_buckets - 1)]; ne; ne = ne->next)
        if (ne->hash == h && strcmp(ne->name, name) == 0)
            return ne;
    return NULL;
}

static int rehash_names(struct store *s)
{
    size_t nb = s->n_name_buckets * 2;
    struct name_entry **b = calloc(nb, sizeof *b);
    if (b == NULL)
        return -1;
    for (size_t i = 0; i < s->n_name_buckets; i++) {
        struct name_entry *ne = s->names[i];
        while (ne) {
            struct name_entry *next = ne->next;
            size_t j = ne->hash & (nb - 1);
            ne->next = b[j];
            b[j] = ne;
            ne = next;
        }
    }
    free(s->names);
    s->names = b;
    s->n_name_buckets = nb;
    return 0;
}

static int rehash_series(struct store *s)
{
    size_t nb = s->n_buckets * 2;
    struct store_series **b = calloc(nb, sizeof *b);
    if (b == NULL)
        return -1;
    for (size_t i = 0; i < s->n_buckets; i++) {
        struct store_series *ser = s->buckets[i];
        while (ser) {
            struct store_series *next = ser->next;
            size_t j = ser->hash & (nb - 1);
            ser->next = b[j];
            b[j] = ser;
            ser = next;
        }
    }
    free(s->buckets);
    s->buckets = b;
    s->n_buckets = nb;
    return 0;
}

/* List ser under its metric name, creating the entry if needed. Returns 0 or -1 (no change). */
/* Where labels belong in ne->v (kept in lw_labels_cmp order, so selecting by name yields the
 * series sorted as PromQL shows them, without sorting on every query): the index of the first
 * series not less than labels. Series creation and removal are rare next to selects. */
static size_t name_pos(const struct name_entry *ne, const struct lw_labels *labels)
{
    size_t lo = 0, hi = ne->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (lw_labels_cmp(&ne->v[mid]->labels, labels) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int name_add(struct store *s, struct store_series *ser)
{
    const char *name = lw_labels_get(&ser->labels, "__name__");
    if (name == NULL)
        name = "";
    uint64_t h = name_hash(name);
    struct name_entry *ne = name_find(s, name, h);
    bool created = false;
    if (ne == NULL) {
        size_t len = strlen(name);
        ne = calloc(1, sizeof *ne + len + 1);
        if (ne == NULL)
            return -1;
        memcpy(ne->name, name, len + 1);
        ne->hash = h;
        created = true;
    }
    if (ne->n == ne->cap) {
        size_t cap = ne->cap ? ne->cap * 2 : 4;
        struct store_series **v = realloc(ne->v, cap * sizeof *v);
        if (v == NULL) {
            if (created)
                free(ne);
            return -1;
        }
        ne->v = v;
        ne->cap = cap;
    }
    if (created) {
        size_t j = h & (s->n_name_buckets - 1);
        ne->next = s->names[j];
        s->names[j] = ne;
        s->n_names++;
    }
    ser->name = ne;
    size_t at = name_pos(ne, &ser->labels);
    memmove(ne->v + at + 1, ne->v + at, (ne->n - at) * sizeof *ne->v);
    ne->v[at] = ser;
    ne->n++;
    return 0;
}

/* Unlist ser from its name entry (keeping the order), freeing the entry when it empties. */
static void name_remove(struct store *s, struct store_series *ser)
{
    struct name_entry *ne = ser->name;
    size_t at = name_pos(ne, &ser->labels);
    if (at < ne->n && ne->v[at] == ser) {
        memmove(ne->v + at, ne->v + at + 1, (ne->n - at - 1) * sizeof *ne->v);
        ne->n--;
    }
    if (ne->n > 0)
        return;
    struct name_entry **pp = &s->names[ne->hash & (s->n_name_buckets - 1)];
    while (*pp != ne)
        pp = &(*pp)->next;
    *pp = ne->next;
    free(ne->v);
    free(ne);
    s->n_names--;
}

static struct store_series *series_find(const struct store *s, const struct lw_labels *ls,
                                        uint64_t h)
{
    for (struct store_series *ser = s->buckets[h & (s->n_buckets - 1)]; ser; ser = ser->next)
        if (ser->hash == h && lw_labels_equal(&ser->labels, ls))
            return ser;
    return NULL;
}

/* Make room for one more sample at the end of the window. Returns 0 or -1 (no change). */
static int series_reserve(struct store_series *ser)
{
    if (ser->start + ser->n < ser->cap)
        return 0;
    if (ser->start > 0 && ser->start >= ser->cap / 2) {
        /* At least half the array is dropped samples: slide instead of growing. */
        memmove(ser->buf, ser->buf + ser->start, ser->n * sizeof *ser->buf);
        ser->start = 0;
        return 0;
    }
    size_t cap = ser->cap ? ser->cap * 2 : STORE_MIN_SAMPLES_CAP;
    struct store_sample *b = realloc(ser->buf, cap * sizeof *b);
    if (b == NULL)
        return -1;
    ser->buf = b;
    ser->cap = cap;
    return 0;
}

int store_append(struct store *s, const struct lw_labels *ls, int64_t t_ms, double v,
                 struct lw_err *err)
{
    if (ls->n == 0) {
        lw_err_set(err, 0, 0, "sample without labels");
        return STORE_ERR_BAD_LABELS;
    }
    uint64_t h = lw_labels_fingerprint(ls);
    struct store_series *ser = series_find(s, ls, h);
    if (ser != NULL && ser->n > 0) {
        const struct store_sample *last = &ser->buf[ser->start + ser->n - 1];
        if (t_ms < last->t_ms) {
            lw_err_set(err, 0, 0, "out of order sample: t=%lld is older than the newest t=%lld",
                       (long long)t_ms, (long long)last->t_ms);
            return STORE_ERR_OUT_OF_ORDER;
        }
        if (t_ms == last->t_ms) {
            if (same_bits(v, last->v))
                return 0;
            lw_err_set(err, 0, 0,
                       "duplicate sample for timestamp t=%lld with a different value (%g, held %g)",
                       (long long)t_ms, v, last->v);
            return STORE_ERR_DUPLICATE;
        }
    }
    bool created = false;
    if (ser == NULL) {
        if (s->n_series >= s->opts.max_series) {
            lw_err_set(err, 0, 0, "series limit reached (%zu series); sample dropped",
                       s->opts.max_series);
            return STORE_ERR_SERIES_LIMIT;
        }
        if (s->n_series >= s->n_buckets && rehash_series(s) != 0)
            goto nomem;
        if (s->n_names >= s->n_name_buckets && rehash_names(s) != 0)
            goto nomem;
        ser = series_new(ls, h);
        if (ser == NULL)
            goto nomem;
        if (name_add(s, ser) != 0) {
            series_free(ser);
            goto nomem;
        }
        size_t j = h & (s->n_buckets - 1);
        ser->next = s->buckets[j];
        s->buckets[j] = ser;
        s->n_series++;
        created = true;
    }
    if (series_reserve(ser) != 0) {
        if (created) {
            /* Leave the store as it was: a new series without its sample is dropped again. */
            name_remove(s, ser);
            s->buckets[h & (s->n_buckets - 1)] = ser->next;
            s->n_series--;
            series_free(ser);
        }
        goto nomem;
    }
    ser->buf[ser->start + ser->n].t_ms = t_ms;
    ser->buf[ser->start + ser->n].v = v;
    ser->n++;
    return 0;
nomem:
    lw_err_set(err, 0, 0, "out of memory appending a sample");
    return STORE_ERR_NOMEM;
}

/* The name index entry to scan, when a matcher pins __name__ to one value; NULL otherwise (then
 * *pinned says whether the pinned name simply has no series). */
static const struct name_entry *pinned_name(const struct store *s, const struct lw_matcher *ms,
                                            size_t n, bool *pinned)
{
    *pinned = false;
    for (size_t i = 0; i < n; i++) {
        if (ms[i].op == LW_MATCH_EQ && strcmp(ms[i].name, "__name__") == 0) {
            *pinned = true;
            return name_find(s, ms[i].value, name_hash(ms[i].value));
        }
    }
    return NULL;
}

static int push(const struct store_series ***v, size_t *n, size_t *cap,
                const struct store_series *ser)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 16;
        const struct store_series **nv = realloc((void *)*v, c * sizeof *nv);
        if (nv == NULL)
            return -1;
        *v = nv;
        *cap = c;
    }
    (*v)[(*n)++] = ser;
    return 0;
}

static int cmp_series_labels(const void *a, const void *b)
{
    return lw_labels_cmp(&(*(const struct store_series *const *)a)->labels,
                         &(*(const struct store_series *const *)b)->labels);
}

int store_select(const struct store *s, const struct lw_matcher *ms, size_t n,
                 const struct store_series ***out, size_t *n_out, struct lw_err *err)
{
    const struct store_series **v = NULL;
    size_t nv = 0, cap = 0;
    bool pinned;
    const struct name_entry *ne = pinned_name(s, ms, n, &pinned);
    if (pinned) {
        for (size_t i = 0; ne && i < ne->n; i++)
            if (lw_matchers_match(ms, n, &ne->v[i]->labels) && push(&v, &nv, &cap, ne->v[i]) != 0)
                goto nomem;
    } else {
        for (size_t b = 0; b < s->n_buckets; b++)
            for (const struct store_series *ser = s->buckets[b]; ser; ser = ser->next)
                if (lw_matchers_match(ms, n, &ser->labels) && push(&v, &nv, &cap, ser) != 0)
                    goto nomem;
        if (nv > 1)
            qsort((void *)v, nv, sizeof *v, cmp_series_labels);
    }
    *out = v;
    *n_out = nv;
    return 0;
nomem:
    free((void *)v);
    return lw_err_set(err, 0, 0, "out of memory selecting series");
}

const struct lw_labels *store_series_labels(const struct store_series *ser)
{
    return &ser->labels;
}

/* Index (within the window) of the first sample with t_ms > t. */
static size_t first_after(const struct store_series *ser, int64_t t)
{
    const struct store_sample *w = ser->buf + ser->start;
    size_t lo = 0, hi = ser->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (w[mid].t_ms <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

size_t store_series_range(const struct store_series *ser, int64_t mint_excl, int64_t maxt_incl,
                          const struct store_sample **out)
{
    *out = NULL;
    if (ser->n == 0 || maxt_incl <= mint_excl)
        return 0;
    size_t a = first_after(ser, mint_excl);
    size_t b = first_after(ser, maxt_incl);
    if (b <= a)
        return 0;
    *out = ser->buf + ser->start + a;
    return b - a;
}

const struct store_sample *store_series_last(const struct store_series *ser)
{
    return ser->n ? &ser->buf[ser->start + ser->n - 1] : NULL;
}

/* Give back memory once at most a quarter of the array is in use. */
static void series_shrink(struct store_series *ser)
{
    if (ser->cap <= STORE_MIN_SAMPLES_CAP || ser->n * 4 > ser->cap)
        return;
    memmove(ser->buf, ser->buf + ser->start, ser->n * sizeof *ser->buf);
    ser->start = 0;
    size_t cap = ser->cap / 2;
    struct store_sample *b = realloc(ser->buf, cap * sizeof *b);
    if (b == NULL)
        return; /* keeping the larger array is harmless */
    ser->buf = b;
    ser->cap = cap;
}

int store_set_retention(struct store *s, int64_t retention_ms)
{
    if (retention_ms <= 0)
        return -1;
    s->opts.retention_ms = retention_ms;
    return 0;
}

int64_t store_retention_ms(const struct store *s)
{
    return s->opts.retention_ms;
}

void store_gc(struct store *s, int64_t now_ms)
{
    /* t < cutoff goes; computed so that it cannot overflow for any now_ms. */
    int64_t cutoff =
        now_ms < INT64_MIN + s->opts.retention_ms ? INT64_MIN : now_ms - s->opts.retention_ms;
    for (size_t b = 0; b < s->n_buckets; b++) {
        struct store_series **pp = &s->buckets[b];
        while (*pp) {
            struct store_series *ser = *pp;
            size_t drop = cutoff == INT64_MIN ? 0 : first_after(ser, cutoff - 1);
            ser->start += drop;
            ser->n -= drop;
            if (ser->n == 0) {
                *pp = ser->next;
                name_remove(s, ser);
                series_free(ser);
                s->n_series--;
                continue;
            }
            series_shrink(ser);
            pp = &ser->next;
        }
    }
}

size_t store_series_count(const struct store *s)
{
    return s->n_series;
}

size_t store_sample_count(const struct store *s)
{
    size_t n = 0;
    for (size_t b = 0; b < s->n_buckets; b++)
        for (const struct store_series *ser = s->buckets[b]; ser; ser = ser->next)
            n += ser->n;
    return n;
}

size_t store_bytes(const struct store *s)
{
    size_t bytes =
        sizeof *s + s->n_buckets * sizeof *s->buckets + s->n_name_buckets * sizeof *s->names;
    for (size_t b = 0; b < s->n_buckets; b++)
        for (const struct store_series *ser = s->buckets[b]; ser; ser = ser->next)
            bytes += series_alloc_bytes(ser);
    for (size_t b = 0; b < s->n_name_buckets; b++)
        for (const struct name_entry *ne = s->names[b]; ne; ne = ne->next)
            bytes += sizeof *ne + strlen(ne->name) + 1 + ne->cap * sizeof *ne->v;
    return bytes;
}
