/*
 * promql_eval.c — evaluation of a parsed PromQL expression against the sample store, with
 * Prometheus 3's semantics: selectors look back 5 minutes (left-open window) and a stale marker
 * as the newest sample ends a series; ranges are left-open; vector matching (on/ignoring,
 * group_left/group_right) raises Prometheus's many-to-many errors; aggregations and binary
 * operators follow its NaN and ±Inf rules; __name__ removal is delayed to the end of the
 * evaluation (so label_replace can read a name an operation is about to drop).
 *
 * Every node is evaluated at one instant; a range query evaluates the tree once per step and
 * joins the steps into series, and a subquery does the same over its own steps. That keeps one
 * code path for both query kinds at the cost of re-selecting series per step, which is cheap
 * against the in-memory store. Functions live in promql_func.c.
 */
#include "promql_int.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "lagwatch/limits.h"
#include "lagwatch/store.h"

#define DEFAULT_LOOKBACK_MS  (5 * 60 * 1000)
#define DEFAULT_SUBQ_STEP_MS (60 * 1000)

int pq_fail(struct pq_eval *ev, const char *fmt, ...)
{
    if (ev->err == NULL)
        return -1;
    ev->err->line = 0;
    ev->err->col = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ev->err->msg, sizeof ev->err->msg, fmt, ap);
    va_end(ap);
    return -1;
}

static int oom(struct pq_eval *ev)
{
    return pq_fail(ev, "out of memory");
}

int pq_vec_push(struct pq_eval *ev, struct pq_vec *v, struct lw_labels *ls, bool take, int64_t t,
                double val, bool drop)
{
    if (v->n == v->cap) {
        size_t ncap = v->cap ? v->cap * 2 : 8;
        struct pq_el *nv = realloc(v->v, ncap * sizeof *nv);
        if (nv == NULL)
            return oom(ev);
        v->v = nv;
        v->cap = ncap;
    }
    struct pq_el *el = &v->v[v->n];
    if (take) {
        el->ls = *ls;
        lw_labels_init(ls);
    } else if (lw_labels_copy(&el->ls, ls) != 0) {
        return oom(ev);
    }
    el->t = t;
    el->v = val;
    el->drop = drop;
    v->n++;
    return 0;
}

void pq_vec_cleanup(struct pq_vec *v)
{
    for (size_t i = 0; i < v->n; i++)
        lw_labels_cleanup(&v->v[i].ls);
    free(v->v);
    memset(v, 0, sizeof *v);
}

void pq_mat_cleanup(struct pq_mat *m)
{
    for (size_t i = 0; i < m->n; i++) {
        lw_labels_cleanup(&m->v[i].ls);
        free(m->v[i].s);
    }
    free(m->v);
    memset(m, 0, sizeof *m);
}

void pq_val_cleanup(struct pq_val *v)
{
    free(v->str);
    pq_vec_cleanup(&v->vec);
    pq_mat_cleanup(&v->mat);
    memset(v, 0, sizeof *v);
}

double pq_kahan_inc(double inc, double sum, double *c)
{
    double t = sum + inc;
    if (isinf(t))
        *c = 0;
    else if (fabs(sum) >= fabs(inc))
        *c += (sum - t) + inc;
    else
        *c += (inc - t) + sum;
    return t;
}

void pq_mean_add(struct pq_mean *m, double v)
{
    m->count++;
    if (!m->incremental) {
        double c = m->c;
        double s = pq_kahan_inc(v, m->sum, &c);
        if (m->count == 1 || !isinf(s)) {
            m->sum = s;
            m->c = c;
            return;
        }
        /* The sum would overflow: continue with an incremental mean. */
        m->incremental = true;
        m->mean = m->sum / (m->count - 1);
        m->c /= m->count - 1;
    }
    if (isinf(m->mean)) {
        if (isinf(v) && (m->mean > 0) == (v > 0))
            return;
        if (!isinf(v) && !isnan(v))
            return;
    }
    double cur = m->mean + m->c;
    m->mean = pq_kahan_inc(v / m->count - cur / m->count, m->mean, &m->c);
}

double pq_mean_result(const struct pq_mean *m)
{
    if (m->incremental)
        return m->mean + m->c;
    return (m->sum + m->c) / m->count;
}

static int cmp_nan_first(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    if (isnan(x))
        return isnan(y) ? 0 : -1;
    if (isnan(y))
        return 1;
    return x < y ? -1 : x > y ? 1 : 0;
}

double pq_quantile(double q, double *values, size_t n)
{
    if (n == 0 || isnan(q))
        return NAN;
    if (q < 0)
        return -INFINITY;
    if (q > 1)
        return INFINITY;
    qsort(values, n, sizeof *values, cmp_nan_first);
    double fn = (double)n;
    double rank = q * (fn - 1);
    double lower = fmax(0, floor(rank));
    double upper = fmin(fn - 1, lower + 1);
    double weight = rank - floor(rank);
    return values[(size_t)lower] * (1 - weight) + values[(size_t)upper] * weight;
}

/* ---- a small multimap from 64-bit hashes to indexes (collisions confirmed by the caller) ---- */

struct hmap {
    uint64_t *h;
    size_t *idx; /* SIZE_MAX = empty */
    size_t cap, n;
};

static int hmap_init(struct hmap *m, size_t hint)
{
    size_t cap = 16;
    while (cap < hint * 2)
        cap *= 2;
    m->h = malloc(cap * sizeof *m->h);
    m->idx = malloc(cap * sizeof *m->idx);
    if (m->h == NULL || m->idx == NULL) {
        free(m->h);
        free(m->idx);
        return -1;
    }
    for (size_t i = 0; i < cap; i++)
        m->idx[i] = SIZE_MAX;
    m->cap = cap;
    m->n = 0;
    return 0;
}

static void hmap_cleanup(struct hmap *m)
{
    free(m->h);
    free(m->idx);
    memset(m, 0, sizeof *m);
}

static int hmap_put(struct hmap *m, uint64_t h, size_t idx)
{
    if ((m->n + 1) * 2 > m->cap) {
        struct hmap nm;
        if (hmap_init(&nm, m->cap) != 0)
            return -1;
        for (size_t i = 0; i < m->cap; i++)
            if (m->idx[i] != SIZE_MAX)
                (void)hmap_put(&nm, m->h[i], m->idx[i]);
        hmap_cleanup(m);
        *m = nm;
    }
    size_t pos = (size_t)h & (m->cap - 1);
    while (m->idx[pos] != SIZE_MAX)
        pos = (pos + 1) & (m->cap - 1);
    m->h[pos] = h;
    m->idx[pos] = idx;
    m->n++;
    return 0;
}

/* Iterate the indexes stored under h: start with *it = 0, returns SIZE_MAX when done. */
static size_t hmap_next(const struct hmap *m, uint64_t h, size_t *it)
{
    size_t pos = ((size_t)h + *it) & (m->cap - 1);
    while (m->idx[pos] != SIZE_MAX) {
        (*it)++;
        if (m->h[pos] == h)
            return m->idx[pos];
        pos = (pos + 1) & (m->cap - 1);
    }
    return SIZE_MAX;
}

/* ---- selectors ---- */

static int64_t base_time(const struct pq_eval *ev, const struct promql_expr *e, int64_t t)
{
    switch (e->at) {
    case PQ_AT_TS:
        return e->at_ms;
    case PQ_AT_START:
        return ev->start_ms;
    case PQ_AT_END:
        return ev->end_ms;
    case PQ_AT_NONE:
        break;
    }
    return t;
}

/* The series a selector names, in label order as Prometheus's storage returns them (the order
 * shows in results, in ties of topk/bottomk and in matching errors). */
static int select_series(struct pq_eval *ev, const struct promql_expr *vs,
                         const struct store_series ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (ev->st == NULL)
        return 0;
    /* store_select returns them in label order already */
    return store_select(ev->st, vs->ms, vs->n_ms, out, n, ev->err) != 0 ? -1 : 0;
}

static int eval_vsel(struct pq_eval *ev, const struct promql_expr *e, int64_t t, struct pq_val *out)
{
    int64_t te = base_time(ev, e, t) - e->offset_ms;
    const struct store_series **sers;
    size_t n;
    if (select_series(ev, e, &sers, &n) != 0)
        return -1;
    out->type = PROMQL_VECTOR;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const struct store_sample *s;
        size_t k = store_series_range(sers[i], te - ev->lookback_ms, te, &s);
        if (k == 0 || store_is_stale_nan(s[k - 1].v))
            continue;
        rc = pq_vec_push(ev, &out->vec, (struct lw_labels *)store_series_labels(sers[i]), false,
                         s[k - 1].t_ms, s[k - 1].v, false);
    }
    free(sers);
    return rc;
}

static int mat_add_series(struct pq_eval *ev, struct pq_mat *m, struct lw_labels *ls, bool take)
{
    if (m->n == m->cap) {
        size_t ncap = m->cap ? m->cap * 2 : 8;
        struct pq_ser *nv = realloc(m->v, ncap * sizeof *nv);
        if (nv == NULL)
            return oom(ev);
        m->v = nv;
        m->cap = ncap;
    }
    struct pq_ser *s = &m->v[m->n];
    memset(s, 0, sizeof *s);
    if (take) {
        s->ls = *ls;
        lw_labels_init(ls);
    } else if (lw_labels_copy(&s->ls, ls) != 0) {
        return oom(ev);
    }
    m->n++;
    return 0;
}

static int ser_push(struct pq_eval *ev, struct pq_ser *s, int64_t t, double v)
{
    if (s->n == s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 16;
        struct store_sample *ns = realloc(s->s, ncap * sizeof *ns);
        if (ns == NULL)
            return oom(ev);
        s->s = ns;
        s->cap = ncap;
    }
    s->s[s->n].t_ms = t;
    s->s[s->n].v = v;
    s->n++;
    return 0;
}

static int budget(struct pq_eval *ev, size_t n)
{
    ev->n_samples += n;
    if (ev->n_samples > LW_MAX_PROMQL_SAMPLES)
        return pq_fail(ev,
                       "query processing would load too many samples into memory (more than %u)",
                       LW_MAX_PROMQL_SAMPLES);
    return 0;
}

static int eval_msel(struct pq_eval *ev, const struct promql_expr *e, int64_t t, struct pq_val *out)
{
    const struct promql_expr *vs = e->a;
    int64_t te = base_time(ev, vs, t) - vs->offset_ms;
    out->type = PROMQL_MATRIX;
    out->range_start = te - e->range_ms;
    out->range_end = te;
    out->range_ms = e->range_ms;
    const struct store_series **sers;
    size_t n;
    if (select_series(ev, vs, &sers, &n) != 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const struct store_sample *s;
        size_t k = store_series_range(sers[i], te - e->range_ms, te, &s);
        size_t live = 0;
        for (size_t j = 0; j < k; j++)
            live += !store_is_stale_nan(s[j].v);
        if (live == 0)
            continue;
        if ((rc = budget(ev, live)) != 0 ||
            (rc = mat_add_series(ev, &out->mat, (struct lw_labels *)store_series_labels(sers[i]),
                                 false)) != 0)
            break;
        struct pq_ser *ser = &out->mat.v[out->mat.n - 1];
        ser->s = malloc(live * sizeof *ser->s);
        if (ser->s == NULL) {
            rc = oom(ev);
            break;
        }
        ser->cap = live;
        for (size_t j = 0; j < k; j++)
            if (!store_is_stale_nan(s[j].v))
                ser->s[ser->n++] = s[j];
    }
    free(sers);
    return rc;
}

/* ---- finishing a vector: delayed name removal and the duplicate check ---- */

static int finish_vector(struct pq_eval *ev, struct pq_vec *v)
{
    for (size_t i = 0; i < v->n; i++) {
        if (v->v[i].drop) {
            lw_labels_del(&v->v[i].ls, "__name__");
            v->v[i].drop = false;
        }
    }
    if (v->n < 2)
        return 0;
    struct hmap m;
    if (hmap_init(&m, v->n) != 0)
        return oom(ev);
    int rc = 0;
    for (size_t i = 0; i < v->n && rc == 0; i++) {
        uint64_t h = lw_labels_fingerprint(&v->v[i].ls);
        size_t it = 0, j;
        while ((j = hmap_next(&m, h, &it)) != SIZE_MAX) {
            if (lw_labels_equal(&v->v[j].ls, &v->v[i].ls)) {
                rc = pq_fail(ev, "vector cannot contain metrics with the same labelset");
                break;
            }
        }
        if (rc == 0 && hmap_put(&m, h, i) != 0)
            rc = oom(ev);
    }
    hmap_cleanup(&m);
    return rc;
}

static int eval_node(struct pq_eval *ev, const struct promql_expr *e, int64_t t,
                     struct pq_val *out);

/* Append the steps of a vector (names already dropped) to the series of m, found via idx. */
static int merge_step(struct pq_eval *ev, struct pq_mat *m, struct hmap *idx, struct pq_vec *v,
                      int64_t ts)
{
    for (size_t i = 0; i < v->n; i++) {
        uint64_t h = lw_labels_fingerprint(&v->v[i].ls);
        size_t it = 0, j, found = SIZE_MAX;
        while ((j = hmap_next(idx, h, &it)) != SIZE_MAX) {
            if (lw_labels_equal(&m->v[j].ls, &v->v[i].ls)) {
                found = j;
                break;
            }
        }
        if (found == SIZE_MAX) {
            if (mat_add_series(ev, m, &v->v[i].ls, true) != 0)
                return -1;
            found = m->n - 1;
            if (hmap_put(idx, h, found) != 0)
                return oom(ev);
        }
        if (budget(ev, 1) != 0 || ser_push(ev, &m->v[found], ts, v->v[i].v) != 0)
            return -1;
    }
    return 0;
}

static int eval_subquery(struct pq_eval *ev, const struct promql_expr *e, int64_t t,
                         struct pq_val *out)
{
    int64_t te = base_time(ev, e, t) - e->offset_ms;
    int64_t step = e->step_ms > 0 ? e->step_ms : DEFAULT_SUBQ_STEP_MS;
    int64_t lo = te - e->range_ms;
    /* First step-aligned time strictly after lo (the range is left-open). */
    int64_t first = lo / step * step;
    if (first > lo)
        first -= step;
    while (first <= lo)
        first += step;
    out->type = PROMQL_MATRIX;
    out->range_start = lo;
    out->range_end = te;
    out->range_ms = e->range_ms;
    struct hmap idx;
    if (hmap_init(&idx, 16) != 0)
        return oom(ev);
    int rc = 0;
    for (int64_t ts = first; ts <= te && rc == 0; ts += step) {
        struct pq_val v = {0};
        rc = eval_node(ev, e->a, ts, &v);
        if (rc == 0)
            rc = finish_vector(ev, &v.vec);
        if (rc == 0)
            rc = merge_step(ev, &out->mat, &idx, &v.vec, ts);
        pq_val_cleanup(&v);
    }
    hmap_cleanup(&idx);
    return rc;
}

/* ---- operators ---- */

static bool is_arith(int op)
{
    return op <= PQ_OP_POW || op == PQ_OP_ATAN2;
}

static bool is_cmp(int op)
{
    return op >= PQ_OP_EQ && op <= PQ_OP_LE;
}

/* lhs op rhs for floats: the value and whether a comparison holds (always true otherwise). */
static double elem_binop(int op, double l, double r, bool *keep)
{
    *keep = true;
    switch (op) {
    case PQ_OP_ADD:
        return l + r;
    case PQ_OP_SUB:
        return l - r;
    case PQ_OP_MUL:
        return l * r;
    case PQ_OP_DIV:
        return l / r;
    case PQ_OP_MOD:
        return fmod(l, r);
    case PQ_OP_POW:
        return pow(l, r);
    case PQ_OP_ATAN2:
        return atan2(l, r);
    case PQ_OP_EQ:
        *keep = l == r;
        return l;
    case PQ_OP_NE:
        *keep = l != r;
        return l;
    case PQ_OP_GT:
        *keep = l > r;
        return l;
    case PQ_OP_LT:
        *keep = l < r;
        return l;
    case PQ_OP_GE:
        *keep = l >= r;
        return l;
    case PQ_OP_LE:
        *keep = l <= r;
        return l;
    default:
        break;
    }
    *keep = false;
    return NAN;
}

static int binop_vs(struct pq_eval *ev, const struct promql_expr *e, struct pq_vec *vec, double s,
                    bool scalar_left, int64_t t, struct pq_vec *out)
{
    for (size_t i = 0; i < vec->n; i++) {
        struct pq_el *el = &vec->v[i];
        double l = scalar_left ? s : el->v, r = scalar_left ? el->v : s;
        bool keep;
        double v = elem_binop(e->op, l, r, &keep);
        if (is_cmp(e->op) && scalar_left)
            v = r; /* a comparison filters and keeps the vector's value */
        if (e->ret_bool) {
            v = keep ? 1 : 0;
            keep = true;
        }
        if (!keep)
            continue;
        if (pq_vec_push(ev, out, &el->ls, true, t, v, e->ret_bool || is_arith(e->op) || el->drop) !=
            0)
            return -1;
    }
    return 0;
}

static const char *const *match_names(const struct promql_expr *e, size_t *n)
{
    *n = e->mlabels.n;
    return (const char *const *)e->mlabels.v;
}

static uint64_t sig(const struct promql_expr *e, const struct lw_labels *ls)
{
    size_t n;
    const char *const *names = match_names(e, &n);
    return lw_labels_hash_subset(ls, names, n, e->on);
}

static bool sig_equal(const struct promql_expr *e, const struct lw_labels *a,
                      const struct lw_labels *b)
{
    size_t n;
    const char *const *names = match_names(e, &n);
    return lw_labels_subset_equal(a, b, names, n, e->on);
}

static int index_sigs(struct pq_eval *ev, const struct promql_expr *e, const struct pq_vec *v,
                      struct hmap *m)
{
    if (hmap_init(m, v->n) != 0)
        return oom(ev);
    for (size_t i = 0; i < v->n; i++)
        if (hmap_put(m, sig(e, &v->v[i].ls), i) != 0) {
            hmap_cleanup(m);
            return oom(ev);
        }
    return 0;
}

/* Index of an element of v (indexed in m) matching ls's signature, or SIZE_MAX. */
static size_t find_sig(const struct promql_expr *e, const struct hmap *m, const struct pq_vec *v,
                       const struct lw_labels *ls)
{
    uint64_t h = sig(e, ls);
    size_t it = 0, j;
    while ((j = hmap_next(m, h, &it)) != SIZE_MAX)
        if (sig_equal(e, &v->v[j].ls, ls))
            return j;
    return SIZE_MAX;
}

static int set_op(struct pq_eval *ev, const struct promql_expr *e, struct pq_vec *l,
                  struct pq_vec *r, int64_t t, struct pq_vec *out)
{
    struct hmap m;
    int rc = 0;
    if (e->op == PQ_OP_OR) {
        if (index_sigs(ev, e, l, &m) != 0)
            return -1;
        for (size_t i = 0; i < r->n && rc == 0; i++)
            if (find_sig(e, &m, l, &r->v[i].ls) != SIZE_MAX)
                r->v[i].t = INT64_MIN; /* shadowed by the left side */
        for (size_t i = 0; i < l->n && rc == 0; i++)
            rc = pq_vec_push(ev, out, &l->v[i].ls, true, t, l->v[i].v, l->v[i].drop);
        for (size_t i = 0; i < r->n && rc == 0; i++)
            if (r->v[i].t != INT64_MIN)
                rc = pq_vec_push(ev, out, &r->v[i].ls, true, t, r->v[i].v, r->v[i].drop);
        hmap_cleanup(&m);
        return rc;
    }
    if (index_sigs(ev, e, r, &m) != 0)
        return -1;
    for (size_t i = 0; i < l->n && rc == 0; i++) {
        bool found = find_sig(e, &m, r, &l->v[i].ls) != SIZE_MAX;
        if (found == (e->op == PQ_OP_AND))
            rc = pq_vec_push(ev, out, &l->v[i].ls, true, t, l->v[i].v, l->v[i].drop);
    }
    hmap_cleanup(&m);
    return rc;
}

/* The labels of a vector-matching result: the many side's, reduced for one-to-one matching,
 * with group_x's extra labels copied from the one side. */
static int result_labels(struct pq_eval *ev, const struct promql_expr *e,
                         const struct lw_labels *many, const struct lw_labels *one,
                         struct lw_labels *out)
{
    if (lw_labels_copy(out, many) != 0)
        return oom(ev);
    if (e->card == PQ_CARD_ONE_TO_ONE) {
        if (e->on) {
            for (size_t i = out->n; i-- > 0;) {
                bool listed = false;
                for (size_t k = 0; k < e->mlabels.n && !listed; k++)
                    listed = strcmp(out->v[i].name, e->mlabels.v[k]) == 0;
                if (!listed)
                    lw_labels_del(out, out->v[i].name);
            }
        } else {
            for (size_t k = 0; k < e->mlabels.n; k++)
                lw_labels_del(out, e->mlabels.v[k]);
        }
    } else {
        for (size_t k = 0; k < e->include.n; k++) {
            const char *v = lw_labels_get(one, e->include.v[k]);
            if (v == NULL || v[0] == '\0')
                lw_labels_del(out, e->include.v[k]);
            else if (lw_labels_set(out, e->include.v[k], v) != 0) {
                lw_labels_cleanup(out);
                return oom(ev);
            }
        }
    }
    return 0;
}

static void match_group_str(const struct promql_expr *e, const struct lw_labels *ls,
                            struct lw_buf *b)
{
    struct lw_labels sub;
    lw_labels_init(&sub);
    for (size_t i = 0; i < ls->n; i++) {
        bool listed = false;
        for (size_t k = 0; k < e->mlabels.n && !listed; k++)
            listed = strcmp(ls->v[i].name, e->mlabels.v[k]) == 0;
        bool keep = e->on ? listed : !listed && strcmp(ls->v[i].name, "__name__") != 0;
        if (keep && lw_labels_set(&sub, ls->v[i].name, ls->v[i].value) != 0)
            break;
    }
    lw_labels_format(&sub, b);
    lw_labels_cleanup(&sub);
}

static int vector_match(struct pq_eval *ev, const struct promql_expr *e, struct pq_vec *lhs,
                        struct pq_vec *rhs, int64_t t, struct pq_vec *out)
{
    if (lhs->n == 0 || rhs->n == 0)
        return 0; /* as Prometheus: nothing to match, so no matching errors either */
    bool swapped = e->card == PQ_CARD_ONE_TO_MANY;
    struct pq_vec *many = swapped ? rhs : lhs, *one = swapped ? lhs : rhs;
    struct hmap ones, matched, inserted;
    if (hmap_init(&ones, one->n) != 0)
        return oom(ev);
    int rc = 0;
    /* The "one" side must have unique signatures. */
    for (size_t i = 0; i < one->n && rc == 0; i++) {
        size_t dup = find_sig(e, &ones, one, &one->v[i].ls);
        if (dup != SIZE_MAX) {
            struct lw_buf g, a, b;
            lw_buf_init(&g, 4096);
            lw_buf_init(&a, 4096);
            lw_buf_init(&b, 4096);
            match_group_str(e, &one->v[i].ls, &g);
            lw_labels_format(&one->v[i].ls, &a);
            lw_labels_format(&one->v[dup].ls, &b);
            rc =
                pq_fail(ev,
                        "found duplicate series for the match group %s on the %s hand-side of "
                        "the operation: [%s, %s];many-to-many matching not allowed: matching "
                        "labels must be unique on one side",
                        lw_buf_str(&g), swapped ? "left" : "right", lw_buf_str(&b), lw_buf_str(&a));
            lw_buf_cleanup(&g);
            lw_buf_cleanup(&a);
            lw_buf_cleanup(&b);
        } else if (hmap_put(&ones, sig(e, &one->v[i].ls), i) != 0) {
            rc = oom(ev);
        }
    }
    if (rc != 0) {
        hmap_cleanup(&ones);
        return rc;
    }
    if (hmap_init(&matched, many->n) != 0 || hmap_init(&inserted, many->n) != 0) {
        hmap_cleanup(&ones);
        hmap_cleanup(&matched);
        return oom(ev);
    }
    for (size_t i = 0; i < many->n && rc == 0; i++) {
        struct pq_el *m = &many->v[i];
        size_t j = find_sig(e, &ones, one, &m->ls);
        if (j == SIZE_MAX)
            continue;
        struct pq_el *o = &one->v[j];
        double l = swapped ? o->v : m->v, r = swapped ? m->v : o->v;
        bool keep;
        double v = elem_binop(e->op, l, r, &keep);
        if (e->ret_bool) {
            v = keep ? 1 : 0;
            keep = true;
        }
        if (e->card == PQ_CARD_ONE_TO_ONE) {
            /* One-to-one: a second element of this side matching the same group is an error. */
            uint64_t h = sig(e, &m->ls);
            size_t it = 0, k;
            while ((k = hmap_next(&matched, h, &it)) != SIZE_MAX) {
                if (sig_equal(e, &many->v[k].ls, &m->ls)) {
                    rc = pq_fail(ev, "multiple matches for labels: many-to-one matching must be "
                                     "explicit (group_left/group_right)");
                    break;
                }
            }
            if (rc == 0 && hmap_put(&matched, h, i) != 0)
                rc = oom(ev);
            if (rc != 0)
                break;
        }
        if (!keep)
            continue;
        struct lw_labels ls;
        if (result_labels(ev, e, &m->ls, &o->ls, &ls) != 0) {
            rc = -1;
            break;
        }
        if (e->card != PQ_CARD_ONE_TO_ONE) {
            uint64_t h = lw_labels_fingerprint(&ls);
            size_t it = 0, k;
            while ((k = hmap_next(&inserted, h, &it)) != SIZE_MAX) {
                if (lw_labels_equal(&out->v[k].ls, &ls)) {
                    rc = pq_fail(ev, "multiple matches for labels: grouping labels must ensure "
                                     "unique matches");
                    break;
                }
            }
            if (rc == 0 && hmap_put(&inserted, h, out->n) != 0)
                rc = oom(ev);
            if (rc != 0) {
                lw_labels_cleanup(&ls);
                break;
            }
        }
        bool drop = e->ret_bool || is_arith(e->op) || m->drop;
        rc = pq_vec_push(ev, out, &ls, true, t, v, drop);
        lw_labels_cleanup(&ls);
    }
    hmap_cleanup(&ones);
    hmap_cleanup(&matched);
    hmap_cleanup(&inserted);
    return rc;
}

static int eval_binary(struct pq_eval *ev, const struct promql_expr *e, int64_t t,
                       struct pq_val *out)
{
    struct pq_val l = {0}, r = {0};
    int rc = eval_node(ev, e->a, t, &l);
    if (rc == 0)
        rc = eval_node(ev, e->b, t, &r);
    if (rc != 0)
        goto done;
    if (l.type == PROMQL_SCALAR && r.type == PROMQL_SCALAR) {
        bool keep;
        double v = elem_binop(e->op, l.scalar, r.scalar, &keep);
        if (e->ret_bool)
            v = keep ? 1 : 0;
        out->type = PROMQL_SCALAR;
        out->scalar = v;
        goto done;
    }
    out->type = PROMQL_VECTOR;
    if (l.type == PROMQL_VECTOR && r.type == PROMQL_SCALAR)
        rc = binop_vs(ev, e, &l.vec, r.scalar, false, t, &out->vec);
    else if (l.type == PROMQL_SCALAR && r.type == PROMQL_VECTOR)
        rc = binop_vs(ev, e, &r.vec, l.scalar, true, t, &out->vec);
    else if (e->op == PQ_OP_AND || e->op == PQ_OP_OR || e->op == PQ_OP_UNLESS)
        rc = set_op(ev, e, &l.vec, &r.vec, t, &out->vec);
    else
        rc = vector_match(ev, e, &l.vec, &r.vec, t, &out->vec);
done:
    pq_val_cleanup(&l);
    pq_val_cleanup(&r);
    return rc;
}

/* ---- aggregation ---- */

struct agg_group {
    size_t first; /* index of the first element (labels for the group) */
    double v, mean, c, count;
    struct pq_mean avg;
    bool drop;
    size_t *members; /* topk/bottomk/quantile */
    size_t n_members, cap_members;
};

static int group_add_member(struct pq_eval *ev, struct agg_group *g, size_t i)
{
    if (g->n_members == g->cap_members) {
        size_t ncap = g->cap_members ? g->cap_members * 2 : 4;
        size_t *nm = realloc(g->members, ncap * sizeof *nm);
        if (nm == NULL)
            return oom(ev);
        g->members = nm;
        g->cap_members = ncap;
    }
    g->members[g->n_members++] = i;
    return 0;
}

/* The output labels of the group whose first element has labels ls. */
static int group_labels(struct pq_eval *ev, const struct promql_expr *e, const struct lw_labels *ls,
                        struct lw_labels *out)
{
    lw_labels_init(out);
    for (size_t i = 0; i < ls->n; i++) {
        bool listed = false;
        for (size_t k = 0; k < e->grouping.n && !listed; k++)
            listed = strcmp(ls->v[i].name, e->grouping.v[k]) == 0;
        bool keep = e->without ? !listed && strcmp(ls->v[i].name, "__name__") != 0 : listed;
        if (keep && lw_labels_set(out, ls->v[i].name, ls->v[i].value) != 0) {
            lw_labels_cleanup(out);
            return oom(ev);
        }
    }
    return 0;
}

static const struct pq_vec *sort_vec; /* for the comparators below (single-threaded) */

static int cmp_topk(const void *a, const void *b)
{
    double x = sort_vec->v[*(const size_t *)a].v, y = sort_vec->v[*(const size_t *)b].v;
    /* Descending, NaN last. */
    if (isnan(x))
        return isnan(y) ? 0 : 1;
    if (isnan(y))
        return -1;
    return x > y ? -1 : x < y ? 1 : 0;
}

static int cmp_bottomk(const void *a, const void *b)
{
    double x = sort_vec->v[*(const size_t *)a].v, y = sort_vec->v[*(const size_t *)b].v;
    if (isnan(x))
        return isnan(y) ? 0 : 1;
    if (isnan(y))
        return -1;
    return x < y ? -1 : x > y ? 1 : 0;
}

static int eval_agg(struct pq_eval *ev, const struct promql_expr *e, int64_t t, struct pq_val *out)
{
    struct pq_val pv = {0}, in = {0};
    int rc = 0;
    if (e->param && (rc = eval_node(ev, e->param, t, &pv)) != 0)
        return rc;
    double param = pv.scalar;
    pq_val_cleanup(&pv);
    if ((rc = eval_node(ev, e->a, t, &in)) != 0)
        return rc;
    out->type = PROMQL_VECTOR;
    struct pq_vec *v = &in.vec;
    int64_t k = 0;
    if (e->agg == PQ_AGG_TOPK || e->agg == PQ_AGG_BOTTOMK) {
        if (isnan(param)) {
            pq_val_cleanup(&in);
            return pq_fail(ev, "Parameter value is NaN");
        }
        if (param >= 9.2e18 || param <= -9.2e18) {
            pq_val_cleanup(&in);
            return pq_fail(ev, "Scalar value %g overflows int64", param);
        }
        k = (int64_t)param;
        if (k < 1) {
            pq_val_cleanup(&in);
            return 0;
        }
    }
    struct agg_group *groups = calloc(v->n ? v->n : 1, sizeof *groups);
    size_t ng = 0;
    struct hmap m;
    if (groups == NULL || hmap_init(&m, v->n) != 0) {
        free(groups);
        pq_val_cleanup(&in);
        return oom(ev);
    }
    const char *const *names = (const char *const *)e->grouping.v;
    for (size_t i = 0; i < v->n && rc == 0; i++) {
        struct pq_el *el = &v->v[i];
        uint64_t h = lw_labels_hash_subset(&el->ls, names, e->grouping.n, !e->without);
        size_t it = 0, j, gi = SIZE_MAX;
        while ((j = hmap_next(&m, h, &it)) != SIZE_MAX) {
            if (lw_labels_subset_equal(&v->v[groups[j].first].ls, &el->ls, names, e->grouping.n,
                                       !e->without)) {
                gi = j;
                break;
            }
        }
        double x = el->v;
        if (gi == SIZE_MAX) {
            gi = ng++;
            struct agg_group *g = &groups[gi];
            g->first = i;
            g->v = x;
            g->count = 1;
            g->mean = x;
            g->c = 0;
            g->drop = el->drop;
            pq_mean_add(&g->avg, x);
            if (hmap_put(&m, h, gi) != 0)
                rc = oom(ev);
            if (e->agg == PQ_AGG_TOPK || e->agg == PQ_AGG_BOTTOMK || e->agg == PQ_AGG_QUANTILE)
                rc = rc ? rc : group_add_member(ev, g, i);
            if (e->agg == PQ_AGG_STDDEV || e->agg == PQ_AGG_STDVAR)
                g->v = isnan(x) || isinf(x) ? NAN : 0; /* as Prometheus: NaN/Inf poison */
            continue;
        }
        struct agg_group *g = &groups[gi];
        g->drop |= el->drop;
        switch (e->agg) {
        case PQ_AGG_SUM:
            g->v = pq_kahan_inc(x, g->v, &g->c);
            break;
        case PQ_AGG_AVG:
            pq_mean_add(&g->avg, x);
            break;
        case PQ_AGG_COUNT:
            g->count++;
            break;
        case PQ_AGG_MIN:
            if (g->v > x || isnan(g->v))
                g->v = x;
            break;
        case PQ_AGG_MAX:
            if (g->v < x || isnan(g->v))
                g->v = x;
            break;
        case PQ_AGG_STDDEV:
        case PQ_AGG_STDVAR: {
            g->count++;
            double delta = x - g->mean;
            g->mean += delta / g->count;
            g->v += delta * (x - g->mean);
            break;
        }
        case PQ_AGG_TOPK:
        case PQ_AGG_BOTTOMK:
        case PQ_AGG_QUANTILE:
            rc = group_add_member(ev, g, i);
            break;
        }
    }
    for (size_t gi = 0; gi < ng && rc == 0; gi++) {
        struct agg_group *g = &groups[gi];
        if (e->agg == PQ_AGG_TOPK || e->agg == PQ_AGG_BOTTOMK) {
            sort_vec = v;
            qsort(g->members, g->n_members, sizeof *g->members,
                  e->agg == PQ_AGG_TOPK ? cmp_topk : cmp_bottomk);
            for (size_t j = 0; j < g->n_members && (int64_t)j < k && rc == 0; j++) {
                struct pq_el *el = &v->v[g->members[j]];
                rc = pq_vec_push(ev, &out->vec, &el->ls, true, t, el->v, el->drop);
            }
            continue;
        }
        double r = 0;
        switch (e->agg) {
        case PQ_AGG_SUM:
            r = isinf(g->v) ? g->v : g->v + g->c;
            break;
        case PQ_AGG_AVG:
            r = pq_mean_result(&g->avg);
            break;
        case PQ_AGG_COUNT:
            r = g->count;
            break;
        case PQ_AGG_MIN:
        case PQ_AGG_MAX:
            r = g->v;
            break;
        case PQ_AGG_STDVAR:
            r = g->v / g->count;
            break;
        case PQ_AGG_STDDEV:
            r = sqrt(g->v / g->count);
            break;
        case PQ_AGG_QUANTILE: {
            double *vals = malloc(g->n_members * sizeof *vals);
            if (vals == NULL) {
                rc = oom(ev);
                continue;
            }
            for (size_t j = 0; j < g->n_members; j++)
                vals[j] = v->v[g->members[j]].v;
            r = pq_quantile(param, vals, g->n_members);
            free(vals);
            break;
        }
        case PQ_AGG_TOPK:
        case PQ_AGG_BOTTOMK:
            break;
        }
        struct lw_labels ls;
        if (group_labels(ev, e, &v->v[g->first].ls, &ls) != 0) {
            rc = -1;
            break;
        }
        rc = pq_vec_push(ev, &out->vec, &ls, true, t, r, g->drop);
        lw_labels_cleanup(&ls);
    }
    for (size_t gi = 0; gi < ng; gi++)
        free(groups[gi].members);
    free(groups);
    hmap_cleanup(&m);
    pq_val_cleanup(&in);
    return rc;
}

/* ---- calls ---- */

static int eval_call(struct pq_eval *ev, const struct promql_expr *e, int64_t t, struct pq_val *out)
{
    struct pq_val args[8];
    size_t n = e->n_args;
    if (n > sizeof args / sizeof args[0]) {
        /* label_join with many source labels: evaluate on the heap. */
        struct pq_val *heap = calloc(n, sizeof *heap);
        if (heap == NULL)
            return oom(ev);
        int rc = 0;
        for (size_t i = 0; i < n && rc == 0; i++)
            rc = eval_node(ev, e->args[i], t, &heap[i]);
        if (rc == 0) {
            out->type = e->type;
            struct pq_fnctx c = {ev, e, heap, t, out};
            rc = e->fn->impl(&c);
        }
        for (size_t i = 0; i < n; i++)
            pq_val_cleanup(&heap[i]);
        free(heap);
        return rc;
    }
    memset(args, 0, sizeof args);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = eval_node(ev, e->args[i], t, &args[i]);
    if (rc == 0) {
        out->type = e->type;
        struct pq_fnctx c = {ev, e, args, t, out};
        rc = e->fn->impl(&c);
    }
    for (size_t i = 0; i < n; i++)
        pq_val_cleanup(&args[i]);
    return rc;
}

static int eval_node(struct pq_eval *ev, const struct promql_expr *e, int64_t t, struct pq_val *out)
{
    switch (e->kind) {
    case PQ_NUM:
        out->type = PROMQL_SCALAR;
        out->scalar = e->num;
        return 0;
    case PQ_STR:
        out->type = PROMQL_STRING;
        out->str = strdup(e->str);
        return out->str ? 0 : oom(ev);
    case PQ_PAREN:
        return eval_node(ev, e->a, t, out);
    case PQ_VSEL:
        return eval_vsel(ev, e, t, out);
    case PQ_MSEL:
        return eval_msel(ev, e, t, out);
    case PQ_SUBQ:
        return eval_subquery(ev, e, t, out);
    case PQ_UNARY: {
        int rc = eval_node(ev, e->a, t, out);
        if (rc != 0 || e->op != PQ_OP_SUB)
            return rc;
        if (out->type == PROMQL_SCALAR) {
            out->scalar = -out->scalar;
            return 0;
        }
        for (size_t i = 0; i < out->vec.n; i++) {
            out->vec.v[i].v = -out->vec.v[i].v;
            out->vec.v[i].t = t;
            out->vec.v[i].drop = true;
        }
        return 0;
    }
    case PQ_BIN:
        return eval_binary(ev, e, t, out);
    case PQ_AGG:
        return eval_agg(ev, e, t, out);
    case PQ_CALL:
        return eval_call(ev, e, t, out);
    }
    return pq_fail(ev, "unknown expression node");
}

/* ---- public entry points ---- */

static void eval_init(struct pq_eval *ev, const struct store *st, int64_t start_ms, int64_t end_ms,
                      const struct promql_eval_opts *o, struct lw_err *err)
{
    memset(ev, 0, sizeof *ev);
    ev->st = st;
    ev->lookback_ms = o && o->lookback_ms > 0 ? o->lookback_ms : DEFAULT_LOOKBACK_MS;
    ev->start_ms = start_ms;
    ev->end_ms = end_ms;
    ev->err = err;
}

static int mat_to_value(struct pq_eval *ev, struct pq_mat *m, struct promql_value *out)
{
    out->mat = calloc(m->n ? m->n : 1, sizeof *out->mat);
    if (out->mat == NULL)
        return oom(ev);
    for (size_t i = 0; i < m->n; i++) {
        out->mat[i].labels = m->v[i].ls;
        lw_labels_init(&m->v[i].ls);
        out->mat[i].samples = m->v[i].s;
        out->mat[i].n = m->v[i].n;
        m->v[i].s = NULL;
    }
    out->n_mat = m->n;
    return 0;
}

static int cmp_series(const void *a, const void *b)
{
    return lw_labels_cmp(&((const struct promql_series *)a)->labels,
                         &((const struct promql_series *)b)->labels);
}

int promql_eval_instant(const struct promql_expr *e, const struct store *st, int64_t t_ms,
                        const struct promql_eval_opts *o, struct promql_value *out,
                        struct lw_err *err)
{
    struct pq_eval ev;
    eval_init(&ev, st, t_ms, t_ms, o, err);
    struct pq_val v = {0};
    struct promql_value r = {0};
    int rc = eval_node(&ev, e, t_ms, &v);
    if (rc != 0)
        goto done;
    r.type = v.type;
    switch (v.type) {
    case PROMQL_SCALAR:
        r.scalar = v.scalar;
        break;
    case PROMQL_STRING:
        r.string = v.str;
        v.str = NULL;
        break;
    case PROMQL_VECTOR:
        if ((rc = finish_vector(&ev, &v.vec)) != 0)
            goto done;
        r.vec = calloc(v.vec.n ? v.vec.n : 1, sizeof *r.vec);
        if (r.vec == NULL) {
            rc = oom(&ev);
            goto done;
        }
        for (size_t i = 0; i < v.vec.n; i++) {
            r.vec[i].labels = v.vec.v[i].ls;
            lw_labels_init(&v.vec.v[i].ls);
            r.vec[i].t_ms = t_ms;
            r.vec[i].v = v.vec.v[i].v;
        }
        r.n_vec = v.vec.n;
        break;
    case PROMQL_MATRIX:
        for (size_t i = 0; i < v.mat.n; i++)
            if (v.mat.v[i].drop)
                lw_labels_del(&v.mat.v[i].ls, "__name__");
        if ((rc = mat_to_value(&ev, &v.mat, &r)) != 0)
            goto done;
        if (r.n_mat > 1)
            qsort(r.mat, r.n_mat, sizeof *r.mat, cmp_series);
        break;
    }
    *out = r;
    memset(&r, 0, sizeof r);
done:
    promql_value_cleanup(&r);
    pq_val_cleanup(&v);
    return rc;
}

int promql_eval_range(const struct promql_expr *e, const struct store *st, int64_t start_ms,
                      int64_t end_ms, int64_t step_ms, const struct promql_eval_opts *o,
                      struct promql_value *out, struct lw_err *err)
{
    if (step_ms <= 0)
        return lw_err_set(err, 0, 0,
                          "zero or negative query resolution step widths are not accepted");
    if (end_ms < start_ms)
        return lw_err_set(err, 0, 0, "end timestamp must not be before start time");
    if (e->type != PROMQL_SCALAR && e->type != PROMQL_VECTOR)
        return lw_err_set(err, 0, 0,
                          "invalid expression type \"%s\" for range query, must be Scalar or "
                          "instant Vector",
                          pq_type_name(e->type));
    struct pq_eval ev;
    eval_init(&ev, st, start_ms, end_ms, o, err);
    struct pq_mat m = {0};
    struct hmap idx;
    if (hmap_init(&idx, 16) != 0)
        return oom(&ev);
    int rc = 0;
    for (int64_t ts = start_ms; ts <= end_ms && rc == 0; ts += step_ms) {
        struct pq_val v = {0};
        rc = eval_node(&ev, e, ts, &v);
        if (rc == 0 && v.type == PROMQL_SCALAR) {
            struct lw_labels none;
            lw_labels_init(&none);
            rc = pq_vec_push(&ev, &v.vec, &none, true, ts, v.scalar, false);
        }
        if (rc == 0)
            rc = finish_vector(&ev, &v.vec);
        if (rc == 0)
            rc = merge_step(&ev, &m, &idx, &v.vec, ts);
        pq_val_cleanup(&v);
        if (ts > INT64_MAX - step_ms)
            break;
    }
    hmap_cleanup(&idx);
    struct promql_value r = {0};
    r.type = PROMQL_MATRIX;
    if (rc == 0 && (rc = mat_to_value(&ev, &m, &r)) == 0) {
        if (r.n_mat > 1)
            qsort(r.mat, r.n_mat, sizeof *r.mat, cmp_series);
        *out = r;
    }
    pq_mat_cleanup(&m);
    return rc;
}

void promql_value_cleanup(struct promql_value *v)
{
    if (v == NULL)
        return;
    free(v->string);
    for (size_t i = 0; i < v->n_vec; i++)
        lw_labels_cleanup(&v->vec[i].labels);
    free(v->vec);
    for (size_t i = 0; i < v->n_mat; i++) {
        lw_labels_cleanup(&v->mat[i].labels);
        free(v->mat[i].samples);
    }
    free(v->mat);
    memset(v, 0, sizeof *v);
}
