/*
 * promql_func.c — the PromQL functions lagwatch evaluates: their signatures (checked by the
 * parser with Prometheus's messages) and their implementations. Names of Prometheus functions
 * outside the subset are listed too, so that using one is reported as "unsupported: function:"
 * rather than as an unknown name.
 */
#include "promql_int.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "lagwatch/limits.h"
#include "lagwatch/store.h"

#define S   PROMQL_SCALAR
#define V   PROMQL_VECTOR
#define M   PROMQL_MATRIX
#define STR PROMQL_STRING

/* ---- helpers ---- */

/* Go's math.Max / math.Min: NaN wins (C's fmax/fmin ignore it). */
static double go_max(double a, double b)
{
    if (isnan(a) || isnan(b))
        return NAN;
    if (a == 0 && b == 0)
        return signbit(a) ? b : a;
    return a > b ? a : b;
}

static double go_min(double a, double b)
{
    if (isnan(a) || isnan(b))
        return NAN;
    if (a == 0 && b == 0)
        return signbit(a) ? a : b;
    return a < b ? a : b;
}

/* out = f(el) for each element of the first argument, names dropped. */
static int map_vec(struct pq_fnctx *c, double (*f)(double, const double *), const double *extra)
{
    struct pq_vec *in = &c->args[0].vec;
    for (size_t i = 0; i < in->n; i++)
        if (pq_vec_push(c->ev, &c->out->vec, &in->v[i].ls, true, c->t, f(in->v[i].v, extra),
                        true) != 0)
            return -1;
    return 0;
}

static double f_abs(double v, const double *x)
{
    (void)x;
    return fabs(v);
}
static double f_ceil(double v, const double *x)
{
    (void)x;
    return ceil(v);
}
static double f_floor(double v, const double *x)
{
    (void)x;
    return floor(v);
}
static double f_sqrt(double v, const double *x)
{
    (void)x;
    return sqrt(v);
}
static double f_exp(double v, const double *x)
{
    (void)x;
    return exp(v);
}
static double f_ln(double v, const double *x)
{
    (void)x;
    return log(v);
}
static double f_log2(double v, const double *x)
{
    (void)x;
    return log2(v);
}
static double f_log10(double v, const double *x)
{
    (void)x;
    return log10(v);
}
static double f_sgn(double v, const double *x)
{
    (void)x;
    return v < 0 ? -1 : v > 0 ? 1 : v;
}
static double f_round(double v, const double *x)
{
    double inv = 1.0 / x[0];
    return floor(v * inv + 0.5) / inv;
}
static double f_clamp(double v, const double *x)
{
    return go_max(x[0], go_min(x[1], v));
}
static double f_clamp_min(double v, const double *x)
{
    return go_max(x[0], v);
}
static double f_clamp_max(double v, const double *x)
{
    return go_min(x[0], v);
}

static int fn_abs(struct pq_fnctx *c)
{
    return map_vec(c, f_abs, NULL);
}
static int fn_ceil(struct pq_fnctx *c)
{
    return map_vec(c, f_ceil, NULL);
}
static int fn_floor(struct pq_fnctx *c)
{
    return map_vec(c, f_floor, NULL);
}
static int fn_sqrt(struct pq_fnctx *c)
{
    return map_vec(c, f_sqrt, NULL);
}
static int fn_exp(struct pq_fnctx *c)
{
    return map_vec(c, f_exp, NULL);
}
static int fn_ln(struct pq_fnctx *c)
{
    return map_vec(c, f_ln, NULL);
}
static int fn_log2(struct pq_fnctx *c)
{
    return map_vec(c, f_log2, NULL);
}
static int fn_log10(struct pq_fnctx *c)
{
    return map_vec(c, f_log10, NULL);
}
static int fn_sgn(struct pq_fnctx *c)
{
    return map_vec(c, f_sgn, NULL);
}

#define MATH_FN(name, expr)                           \
    static double f_##name(double v, const double *x) \
    {                                                 \
        (void)x;                                      \
        return expr;                                  \
    }                                                 \
    static int fn_##name(struct pq_fnctx *c)          \
    {                                                 \
        return map_vec(c, f_##name, NULL);            \
    }
MATH_FN(sin, sin(v))
MATH_FN(cos, cos(v))
MATH_FN(tan, tan(v))
MATH_FN(asin, asin(v))
MATH_FN(acos, acos(v))
MATH_FN(atan, atan(v))
MATH_FN(sinh, sinh(v))
MATH_FN(cosh, cosh(v))
MATH_FN(tanh, tanh(v))
MATH_FN(asinh, asinh(v))
MATH_FN(acosh, acosh(v))
MATH_FN(atanh, atanh(v))
MATH_FN(deg, v * 180 / M_PI)
MATH_FN(rad, v *M_PI / 180)

static int fn_pi(struct pq_fnctx *c)
{
    c->out->scalar = M_PI;
    return 0;
}

static int fn_round(struct pq_fnctx *c)
{
    double to = c->call->n_args > 1 ? c->args[1].scalar : 1;
    return map_vec(c, f_round, &to);
}

static int fn_clamp(struct pq_fnctx *c)
{
    double x[2] = {c->args[1].scalar, c->args[2].scalar};
    if (x[1] < x[0])
        return 0; /* max below min: empty result, as Prometheus */
    return map_vec(c, f_clamp, x);
}

static int fn_clamp_min(struct pq_fnctx *c)
{
    double x = c->args[1].scalar;
    return map_vec(c, f_clamp_min, &x);
}

static int fn_clamp_max(struct pq_fnctx *c)
{
    double x = c->args[1].scalar;
    return map_vec(c, f_clamp_max, &x);
}

static int fn_time(struct pq_fnctx *c)
{
    c->out->scalar = (double)c->t / 1000.0;
    return 0;
}

static int fn_vector(struct pq_fnctx *c)
{
    struct lw_labels none;
    lw_labels_init(&none);
    return pq_vec_push(c->ev, &c->out->vec, &none, true, c->t, c->args[0].scalar, false);
}

static int fn_scalar(struct pq_fnctx *c)
{
    c->out->scalar = c->args[0].vec.n == 1 ? c->args[0].vec.v[0].v : NAN;
    return 0;
}

static int fn_timestamp(struct pq_fnctx *c)
{
    struct pq_vec *in = &c->args[0].vec;
    for (size_t i = 0; i < in->n; i++)
        if (pq_vec_push(c->ev, &c->out->vec, &in->v[i].ls, true, c->t, (double)in->v[i].t / 1000.0,
                        true) != 0)
            return -1;
    return 0;
}

/* The labels absent() reports: those of equality matchers of a selector argument, except
 * __name__ and names matched more than once (Prometheus's historic rule). */
static int absent_labels(struct pq_fnctx *c, const struct promql_expr *arg, struct lw_labels *ls)
{
    lw_labels_init(ls);
    if (arg->kind == PQ_MSEL)
        arg = arg->a;
    if (arg->kind != PQ_VSEL)
        return 0;
    for (size_t i = 0; i < arg->n_ms; i++) {
        const struct lw_matcher *m = &arg->ms[i];
        if (strcmp(m->name, "__name__") == 0)
            continue;
        bool seen = false;
        for (size_t j = 0; j < i; j++)
            seen |= strcmp(arg->ms[j].name, m->name) == 0;
        if (m->op == LW_MATCH_EQ && !seen) {
            if (lw_labels_set(ls, m->name, m->value) != 0)
                return pq_fail(c->ev, "out of memory");
        } else {
            lw_labels_del(ls, m->name);
        }
    }
    return 0;
}

static int fn_absent(struct pq_fnctx *c)
{
    if (c->args[0].vec.n > 0)
        return 0;
    struct lw_labels ls;
    if (absent_labels(c, c->call->args[0], &ls) != 0)
        return -1;
    return pq_vec_push(c->ev, &c->out->vec, &ls, true, c->t, 1, false);
}

static int fn_absent_over_time(struct pq_fnctx *c)
{
    if (c->args[0].mat.n > 0)
        return 0;
    struct lw_labels ls;
    if (absent_labels(c, c->call->args[0], &ls) != 0)
        return -1;
    return pq_vec_push(c->ev, &c->out->vec, &ls, true, c->t, 1, false);
}

/* ---- functions over a range ---- */

/* One result per series of the matrix argument arg: f returns false for "no value". */
static int over_time(struct pq_fnctx *c, size_t arg,
                     bool (*f)(struct pq_fnctx *c, const struct pq_ser *s, double *out))
{
    struct pq_mat *m = &c->args[arg].mat;
    for (size_t i = 0; i < m->n; i++) {
        double v;
        if (m->v[i].n == 0 || !f(c, &m->v[i], &v))
            continue;
        bool drop = c->call->fn->keeps_name ? m->v[i].drop : true;
        if (pq_vec_push(c->ev, &c->out->vec, &m->v[i].ls, true, c->t, v, drop) != 0)
            return -1;
    }
    return 0;
}

static bool ot_avg(struct pq_fnctx *c, const struct pq_ser *s, double *out)
{
    (void)c;
    struct pq_mean m = {0};
    for (size_t i = 0; i < s->n; i++)
        pq_mean_add(&m, s->s[i].v);
    *out = pq_mean_result(&m);
    return true;
}

static bool ot_sum(struct pq_fnctx *c, const struct pq_ser *s, double *out)
{
    (void)c;
    double sum = 0, comp = 0;
    for (size_t i = 0; i < s->n; i++)
        sum = pq_kahan_inc(s->s[i].v, sum, &comp);
    *out = isinf(sum) ? sum : sum + comp;
    return true;
}

static bool ot_count(struct pq_fnctx *c, const struct pq_ser *s, double *out)
{
    (void)c;
    *out = (double)s->n;
    return true;
}

static bool ot_present(struct pq_fnctx *c, const struct pq_ser *s, double *out)
{
    (void)c, (void)s;
    *out = 1;
    return true;
}

static bool ot_min(struct pq_fnctx *c, const struct pq_ser *s, double *out)
{
    (void)c;
    double m = s->s[0].v;
    for (size_t i = 0; i < s->n; i++)
        if (s->s[i].v < m || isnan(m))
            m = s->s[i].v;
    *out = m;
    return true;
}

static bool ot_max(struct pq_fnctx *c, const struct pq_ser *s, double *out)
{
    (void)c;
    double m = s->s[0].v;
    for (size_t i = 0; i < s->n; i++)
        if (s->s[i].v > m || isnan(m))
            m = s->s[i].v;
    *out = m;
    return true;
}

static bool ot_last(struct pq_fnctx *c, const struct pq_ser *s, double *out)
{
    (void)c;
    *out = s->s[s->n - 1].v;
    return true;
}

static bool ot_first(struct pq_fnctx *c, const struct pq_ser *s, double *out)
{
    (void)c;
    *out = s->s[0].v;
    return true;
}

static bool ot_quantile(struct pq_fnctx *c, const struct pq_ser *s, double *out)
{
    double *vals = malloc(s->n * sizeof *vals);
    if (vals == NULL) {
        *out = NAN;
        return true;
    }
    for (size_t i = 0; i < s->n; i++)
        vals[i] = s->s[i].v;
    *out = pq_quantile(c->args[0].scalar, vals, s->n);
    free(vals);
    return true;
}

static double variance(const struct pq_ser *s)
{
    double count = 0, mean = 0, cmean = 0, aux = 0, caux = 0;
    for (size_t i = 0; i < s->n; i++) {
        double v = s->s[i].v;
        count++;
        double delta = v - (mean + cmean);
        mean = pq_kahan_inc(delta / count, mean, &cmean);
        aux = pq_kahan_inc(delta * (v - (mean + cmean)), aux, &caux);
    }
    return (aux + caux) / count;
}

static bool ot_stdvar(struct pq_fnctx *c, const struct pq_ser *s, double *out)
{
    (void)c;
    *out = variance(s);
    return true;
}

static bool ot_stddev(struct pq_fnctx *c, const struct pq_ser *s, double *out)
{
    (void)c;
    *out = sqrt(variance(s));
    return true;
}

static bool ot_changes(struct pq_fnctx *c, const struct pq_ser *s, double *out)
{
    (void)c;
    double n = 0;
    for (size_t i = 1; i < s->n; i++) {
        double p = s->s[i - 1].v, v = s->s[i].v;
        if (v != p && !(isnan(v) && isnan(p)))
            n++;
    }
    *out = n;
    return true;
}

static bool ot_resets(struct pq_fnctx *c, const struct pq_ser *s, double *out)
{
    (void)c;
    double n = 0;
    for (size_t i = 1; i < s->n; i++)
        if (s->s[i].v < s->s[i - 1].v)
            n++;
    *out = n;
    return true;
}

/* rate, increase, delta: Prometheus's extrapolation to the range boundaries (by at most half
 * an average sample interval where the series seems to start or end inside the range, and never
 * below zero for counters). */
static bool extrapolated(struct pq_fnctx *c, const struct pq_ser *s, double *out, bool counter,
                         bool is_rate)
{
    if (s->n < 2)
        return false;
    const struct pq_val *m = &c->args[0];
    double first_v = s->s[0].v;
    double result = s->s[s->n - 1].v - first_v;
    if (counter) {
        double prev = first_v;
        for (size_t i = 1; i < s->n; i++) {
            if (s->s[i].v < prev)
                result += prev;
            prev = s->s[i].v;
        }
    }
    double to_start = (double)(s->s[0].t_ms - m->range_start) / 1000.0;
    double to_end = (double)(m->range_end - s->s[s->n - 1].t_ms) / 1000.0;
    double sampled = (double)(s->s[s->n - 1].t_ms - s->s[0].t_ms) / 1000.0;
    double avg_step = sampled / (double)(s->n - 1);
    double threshold = avg_step * 1.1;
    double interval = sampled;
    if (to_start >= threshold)
        to_start = avg_step / 2;
    if (counter && result > 0 && first_v >= 0) {
        double to_zero = sampled * (first_v / result);
        if (to_zero < to_start)
            to_start = to_zero;
    }
    interval += to_start;
    if (to_end >= threshold)
        to_end = avg_step / 2;
    interval += to_end;
    double factor = interval / sampled;
    if (is_rate)
        factor /= (double)m->range_ms / 1000.0;
    *out = result * factor;
    return true;
}

static bool ot_rate(struct pq_fnctx *c, const struct pq_ser *s, double *out)
{
    return extrapolated(c, s, out, true, true);
}

static bool ot_increase(struct pq_fnctx *c, const struct pq_ser *s, double *out)
{
    return extrapolated(c, s, out, true, false);
}

static bool ot_delta(struct pq_fnctx *c, const struct pq_ser *s, double *out)
{
    return extrapolated(c, s, out, false, false);
}

static bool instant_value(const struct pq_ser *s, double *out, bool is_rate)
{
    if (s->n < 2)
        return false;
    const struct store_sample *last = &s->s[s->n - 1], *prev = &s->s[s->n - 2];
    double r = last->v - prev->v;
    if (is_rate && last->v < prev->v)
        r = last->v; /* counter reset */
    int64_t dt = last->t_ms - prev->t_ms;
    if (dt == 0)
        return false;
    if (is_rate)
        r /= (double)dt / 1000.0;
    *out = r;
    return true;
}

static bool ot_irate(struct pq_fnctx *c, const struct pq_ser *s, double *out)
{
    (void)c;
    return instant_value(s, out, true);
}

static bool ot_idelta(struct pq_fnctx *c, const struct pq_ser *s, double *out)
{
    (void)c;
    return instant_value(s, out, false);
}

/* Least-squares fit of the samples with x in seconds relative to intercept_ms. */
static void linear_regression(const struct pq_ser *s, int64_t intercept_ms, double *slope,
                              double *intercept)
{
    double n = 0, sx = 0, cx = 0, sy = 0, cy = 0, sxy = 0, cxy = 0, sx2 = 0, cx2 = 0;
    double init_y = s->s[0].v;
    bool const_y = true;
    for (size_t i = 0; i < s->n; i++) {
        double y = s->s[i].v;
        if (const_y && i > 0 && y != init_y)
            const_y = false;
        n += 1;
        double x = (double)(s->s[i].t_ms - intercept_ms) / 1e3;
        sx = pq_kahan_inc(x, sx, &cx);
        sy = pq_kahan_inc(y, sy, &cy);
        sxy = pq_kahan_inc(x * y, sxy, &cxy);
        sx2 = pq_kahan_inc(x * x, sx2, &cx2);
    }
    if (const_y) {
        if (isinf(init_y)) {
            *slope = NAN;
            *intercept = NAN;
        } else {
            *slope = 0;
            *intercept = init_y;
        }
        return;
    }
    sx += cx;
    sy += cy;
    sxy += cxy;
    sx2 += cx2;
    double cov = sxy - sx * sy / n;
    double var = sx2 - sx * sx / n;
    *slope = cov / var;
    *intercept = sy / n - *slope * sx / n;
}

static bool ot_deriv(struct pq_fnctx *c, const struct pq_ser *s, double *out)
{
    (void)c;
    if (s->n < 2)
        return false;
    double slope, icpt;
    linear_regression(s, s->s[0].t_ms, &slope, &icpt);
    *out = slope;
    return true;
}

static bool ot_predict_linear(struct pq_fnctx *c, const struct pq_ser *s, double *out)
{
    if (s->n < 2)
        return false;
    double slope, icpt;
    linear_regression(s, c->t, &slope, &icpt);
    *out = slope * c->args[1].scalar + icpt;
    return true;
}

static bool ot_ts_last(struct pq_fnctx *c, const struct pq_ser *s, double *out)
{
    (void)c;
    *out = (double)s->s[s->n - 1].t_ms / 1000.0;
    return true;
}

static bool ot_ts_first(struct pq_fnctx *c, const struct pq_ser *s, double *out)
{
    (void)c;
    *out = (double)s->s[0].t_ms / 1000.0;
    return true;
}

/* Median absolute deviation: the median of |x - median(x)|. */
static bool ot_mad(struct pq_fnctx *c, const struct pq_ser *s, double *out)
{
    (void)c;
    double *vals = malloc(s->n * sizeof *vals);
    if (vals == NULL) {
        *out = NAN;
        return true;
    }
    for (size_t i = 0; i < s->n; i++) {
        vals[i] = s->s[i].v;
        if (isnan(vals[i])) {
            /* A NaN sample makes the result NaN rather than being silently dropped. */
            free(vals);
            *out = NAN;
            return true;
        }
    }
    double med = pq_quantile(0.5, vals, s->n);
    for (size_t i = 0; i < s->n; i++)
        vals[i] = fabs(s->s[i].v - med);
    *out = pq_quantile(0.5, vals, s->n);
    free(vals);
    return true;
}

#define OVER_TIME(name, f, arg)              \
    static int fn_##name(struct pq_fnctx *c) \
    {                                        \
        return over_time(c, arg, f);         \
    }
OVER_TIME(avg_over_time, ot_avg, 0)
OVER_TIME(sum_over_time, ot_sum, 0)
OVER_TIME(count_over_time, ot_count, 0)
OVER_TIME(present_over_time, ot_present, 0)
OVER_TIME(min_over_time, ot_min, 0)
OVER_TIME(max_over_time, ot_max, 0)
OVER_TIME(last_over_time, ot_last, 0)
OVER_TIME(first_over_time, ot_first, 0)
OVER_TIME(quantile_over_time, ot_quantile, 1)
OVER_TIME(stddev_over_time, ot_stddev, 0)
OVER_TIME(stdvar_over_time, ot_stdvar, 0)
OVER_TIME(changes, ot_changes, 0)
OVER_TIME(resets, ot_resets, 0)
OVER_TIME(rate, ot_rate, 0)
OVER_TIME(increase, ot_increase, 0)
OVER_TIME(delta, ot_delta, 0)
OVER_TIME(irate, ot_irate, 0)
OVER_TIME(idelta, ot_idelta, 0)
OVER_TIME(deriv, ot_deriv, 0)
OVER_TIME(predict_linear, ot_predict_linear, 0)
OVER_TIME(ts_of_last_over_time, ot_ts_last, 0)
OVER_TIME(ts_of_first_over_time, ot_ts_first, 0)
OVER_TIME(mad_over_time, ot_mad, 0)

/* ---- labels ---- */

/* Go's regexp.Expand: $1, ${1}, $name, ${name}, $$. Unknown or unmatched groups expand to "". */
static int expand_template(const char *tmpl, const char *subject, pcre2_code *re,
                           pcre2_match_data *md, int rc, struct lw_buf *out)
{
    PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
    for (const char *p = tmpl; *p; p++) {
        if (*p != '$') {
            lw_buf_addc(out, *p);
            continue;
        }
        if (p[1] == '$') {
            lw_buf_addc(out, '$');
            p++;
            continue;
        }
        const char *name = p + 1, *end;
        bool brace = *name == '{';
        if (brace)
            name++;
        end = name;
        while (isalnum((unsigned char)*end) || *end == '_')
            end++;
        if (end == name || (brace && *end != '}')) {
            lw_buf_addc(out, '$'); /* malformed: the '$' is literal text */
            continue;
        }
        char nm[256];
        size_t nl = (size_t)(end - name);
        if (nl >= sizeof nm)
            nl = sizeof nm - 1;
        memcpy(nm, name, nl);
        nm[nl] = '\0';
        long group = -1;
        bool numeric = true;
        for (size_t i = 0; i < nl; i++)
            numeric &= isdigit((unsigned char)nm[i]) != 0;
        if (numeric) {
            group = nl < 10 ? strtol(nm, NULL, 10) : -1;
        } else {
            int g = pcre2_substring_number_from_name(re, (PCRE2_SPTR)nm);
            group = g > 0 ? g : -1;
        }
        if (group >= 0 && group < rc && ov[2 * group] != PCRE2_UNSET)
            lw_buf_add(out, subject + ov[2 * group], ov[2 * group + 1] - ov[2 * group]);
        p = brace ? end : end - 1;
    }
    return lw_buf_failed(out) ? -1 : 0;
}

static int set_or_del(struct pq_fnctx *c, struct lw_labels *ls, const char *name, const char *v)
{
    if (v[0] == '\0') {
        lw_labels_del(ls, name);
        return 0;
    }
    if (lw_labels_set(ls, name, v) != 0)
        return pq_fail(c->ev, "out of memory");
    return 0;
}

/* Prometheus 3 accepts any non-empty label name that is valid UTF-8. */
static bool valid_label_name(const char *s)
{
    if (s[0] == '\0')
        return false;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        size_t n;
        uint32_t cp;
        if (*p < 0x80) {
            p++;
            continue;
        } else if ((*p & 0xe0) == 0xc0) {
            n = 1;
            cp = *p & 0x1f;
        } else if ((*p & 0xf0) == 0xe0) {
            n = 2;
            cp = *p & 0x0f;
        } else if ((*p & 0xf8) == 0xf0) {
            n = 3;
            cp = *p & 0x07;
        } else {
            return false;
        }
        for (size_t i = 1; i <= n; i++) {
            if ((p[i] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (p[i] & 0x3f);
        }
        if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
            cp > 0x10ffff || (cp >= 0xd800 && cp < 0xe000))
            return false;
        p += n + 1;
    }
    return true;
}

static int fn_label_replace(struct pq_fnctx *c)
{
    const char *dst = c->args[1].str, *repl = c->args[2].str, *src = c->args[3].str;
    const char *regex = c->args[4].str;
    struct lw_matcher m;
    struct lw_err merr = {0};
    if (lw_matcher_init(&m, LW_MATCH_RE, src, regex, &merr) != 0)
        return pq_fail(c->ev, "invalid regular expression in label_replace(): %s", regex);
    if (!valid_label_name(dst)) {
        lw_matcher_cleanup(&m);
        return pq_fail(c->ev, "invalid destination label name in label_replace(): %s", dst);
    }
    struct pq_vec *in = &c->args[0].vec;
    int rc = 0;
    struct lw_buf b;
    lw_buf_init(&b, LW_MAX_MATCHER_BYTES);
    for (size_t i = 0; i < in->n && rc == 0; i++) {
        struct pq_el *el = &in->v[i];
        const char *sv = lw_labels_get(&el->ls, src);
        if (sv == NULL)
            sv = "";
        int mr = pcre2_match(m.re, (PCRE2_SPTR)sv, strlen(sv), 0, 0, m.md, NULL);
        bool drop = el->drop;
        if (mr > 0) {
            lw_buf_reset(&b);
            if (expand_template(repl, sv, m.re, m.md, mr, &b) != 0) {
                rc = pq_fail(c->ev, "label_replace(): replacement too long");
                break;
            }
            rc = set_or_del(c, &el->ls, dst, lw_buf_str(&b));
            if (strcmp(dst, "__name__") == 0)
                drop = false;
        }
        if (rc == 0)
            rc = pq_vec_push(c->ev, &c->out->vec, &el->ls, true, c->t, el->v, drop);
    }
    lw_buf_cleanup(&b);
    lw_matcher_cleanup(&m);
    return rc;
}

static int fn_label_join(struct pq_fnctx *c)
{
    const char *dst = c->args[1].str, *sep = c->args[2].str;
    if (!valid_label_name(dst))
        return pq_fail(c->ev, "invalid destination label name in label_join(): %s", dst);
    struct pq_vec *in = &c->args[0].vec;
    int rc = 0;
    struct lw_buf b;
    lw_buf_init(&b, LW_MAX_MATCHER_BYTES);
    for (size_t i = 0; i < in->n && rc == 0; i++) {
        struct pq_el *el = &in->v[i];
        lw_buf_reset(&b);
        for (size_t k = 3; k < c->call->n_args; k++) {
            const char *v = lw_labels_get(&el->ls, c->args[k].str);
            if (k > 3)
                lw_buf_adds(&b, sep);
            lw_buf_adds(&b, v ? v : "");
        }
        if (lw_buf_failed(&b)) {
            rc = pq_fail(c->ev, "label_join(): joined value too long");
            break;
        }
        rc = set_or_del(c, &el->ls, dst, lw_buf_str(&b));
        bool drop = strcmp(dst, "__name__") == 0 ? false : el->drop;
        if (rc == 0)
            rc = pq_vec_push(c->ev, &c->out->vec, &el->ls, true, c->t, el->v, drop);
    }
    lw_buf_cleanup(&b);
    return rc;
}

/* sort: ascending, NaN last; sort_desc: descending, NaN last (Prometheus's orders). */
static int cmp_asc(const void *a, const void *b)
{
    double x = ((const struct pq_el *)a)->v, y = ((const struct pq_el *)b)->v;
    if (isnan(x))
        return isnan(y) ? 0 : 1;
    if (isnan(y))
        return -1;
    return x < y ? -1 : x > y ? 1 : 0;
}

static int cmp_desc(const void *a, const void *b)
{
    double x = ((const struct pq_el *)a)->v, y = ((const struct pq_el *)b)->v;
    if (isnan(x))
        return isnan(y) ? 0 : 1;
    if (isnan(y))
        return -1;
    return x > y ? -1 : x < y ? 1 : 0;
}

static int sort_impl(struct pq_fnctx *c, int (*cmp)(const void *, const void *))
{
    struct pq_vec *in = &c->args[0].vec;
    c->out->vec = *in;
    memset(in, 0, sizeof *in);
    for (size_t i = 0; i < c->out->vec.n; i++)
        c->out->vec.v[i].t = c->t;
    if (c->out->vec.n > 1)
        qsort(c->out->vec.v, c->out->vec.n, sizeof *c->out->vec.v, cmp);
    return 0;
}

static int fn_sort(struct pq_fnctx *c)
{
    return sort_impl(c, cmp_asc);
}

static int fn_sort_desc(struct pq_fnctx *c)
{
    return sort_impl(c, cmp_desc);
}

/* Natural order of label values as Prometheus's sort_by_label compares them: runs of digits
 * compare as numbers, other runs as bytes. Returns whether a sorts before b. */
static bool natural_less(const char *a, const char *b)
{
    for (;;) {
        if (*a == '\0')
            return true; /* a is a prefix (or equal): Prometheus's natsort says "less" */
        if (*b == '\0')
            return false;
        bool da = isdigit((unsigned char)*a) != 0, db = isdigit((unsigned char)*b) != 0;
        size_t la = 0, lb = 0;
        while (a[la] && (isdigit((unsigned char)a[la]) != 0) == da)
            la++;
        while (b[lb] && (isdigit((unsigned char)b[lb]) != 0) == db)
            lb++;
        if (da && db && la < 19 && lb < 19) {
            long long x = strtoll(a, NULL, 10), y = strtoll(b, NULL, 10);
            if (x != y)
                return x < y;
        } else if (la != lb || memcmp(a, b, la) != 0) {
            int c = memcmp(a, b, la < lb ? la : lb);
            return c != 0 ? c < 0 : la < lb;
        }
        a += la;
        b += lb;
        if (*a == '\0')
            return true;
        if (*b == '\0')
            return false;
    }
}

static const struct pq_fnctx *sort_ctx; /* the call being sorted (single-threaded) */
static bool sort_desc_flag;

static int cmp_by_label(const void *pa, const void *pb)
{
    const struct pq_el *a = pa, *b = pb;
    for (size_t k = 1; k < sort_ctx->call->n_args; k++) {
        const char *name = sort_ctx->args[k].str;
        const char *x = lw_labels_get(&a->ls, name), *y = lw_labels_get(&b->ls, name);
        x = x ? x : "";
        y = y ? y : "";
        if (strcmp(x, y) == 0)
            continue;
        int r = natural_less(x, y) ? -1 : 1;
        return sort_desc_flag ? -r : r;
    }
    int r = lw_labels_cmp(&a->ls, &b->ls);
    return sort_desc_flag ? -r : r;
}

static int sort_by_label_impl(struct pq_fnctx *c, bool desc)
{
    struct pq_vec *in = &c->args[0].vec;
    c->out->vec = *in;
    memset(in, 0, sizeof *in);
    for (size_t i = 0; i < c->out->vec.n; i++)
        c->out->vec.v[i].t = c->t;
    sort_ctx = c;
    sort_desc_flag = desc;
    if (c->out->vec.n > 1)
        qsort(c->out->vec.v, c->out->vec.n, sizeof *c->out->vec.v, cmp_by_label);
    return 0;
}

static int fn_sort_by_label(struct pq_fnctx *c)
{
    return sort_by_label_impl(c, false);
}

static int fn_sort_by_label_desc(struct pq_fnctx *c)
{
    return sort_by_label_impl(c, true);
}

/* ---- calendar functions over Unix seconds (UTC), default argument vector(time()) ---- */

static int date_impl(struct pq_fnctx *c, double (*f)(const struct tm *tm))
{
    if (c->call->n_args == 0) {
        time_t secs = (time_t)(c->t / 1000);
        struct tm tm;
        if (gmtime_r(&secs, &tm) == NULL)
            return pq_fail(c->ev, "timestamp out of range");
        struct lw_labels none;
        lw_labels_init(&none);
        return pq_vec_push(c->ev, &c->out->vec, &none, true, c->t, f(&tm), false);
    }
    struct pq_vec *in = &c->args[0].vec;
    for (size_t i = 0; i < in->n; i++) {
        double v = in->v[i].v;
        double r = NAN;
        if (!isnan(v) && !isinf(v) && fabs(v) < 1e15) {
            time_t secs = (time_t)floor(v);
            struct tm tm;
            if (gmtime_r(&secs, &tm) != NULL)
                r = f(&tm);
        }
        if (pq_vec_push(c->ev, &c->out->vec, &in->v[i].ls, true, c->t, r, true) != 0)
            return -1;
    }
    return 0;
}

static double d_minute(const struct tm *tm)
{
    return tm->tm_min;
}
static double d_hour(const struct tm *tm)
{
    return tm->tm_hour;
}
static double d_dom(const struct tm *tm)
{
    return tm->tm_mday;
}
static double d_dow(const struct tm *tm)
{
    return tm->tm_wday;
}
static double d_doy(const struct tm *tm)
{
    return tm->tm_yday + 1;
}
static double d_month(const struct tm *tm)
{
    return tm->tm_mon + 1;
}
static double d_year(const struct tm *tm)
{
    return tm->tm_year + 1900;
}
static double d_dim(const struct tm *tm)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y = tm->tm_year + 1900;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return days[tm->tm_mon] + (tm->tm_mon == 1 && leap ? 1 : 0);
}

#define DATE_FN(name, f)                     \
    static int fn_##name(struct pq_fnctx *c) \
    {                                        \
        return date_impl(c, f);              \
    }
DATE_FN(minute, d_minute)
DATE_FN(hour, d_hour)
DATE_FN(day_of_month, d_dom)
DATE_FN(day_of_week, d_dow)
DATE_FN(day_of_year, d_doy)
DATE_FN(month, d_month)
DATE_FN(year, d_year)
DATE_FN(days_in_month, d_dim)

static const struct pq_func funcs[] = {
    {"sort_by_label", {V, STR}, 1, -1, V, true, fn_sort_by_label},
    {"sort_by_label_desc", {V, STR}, 1, -1, V, true, fn_sort_by_label_desc},
    {"sin", {V}, 1, 0, V, false, fn_sin},
    {"cos", {V}, 1, 0, V, false, fn_cos},
    {"tan", {V}, 1, 0, V, false, fn_tan},
    {"asin", {V}, 1, 0, V, false, fn_asin},
    {"acos", {V}, 1, 0, V, false, fn_acos},
    {"atan", {V}, 1, 0, V, false, fn_atan},
    {"sinh", {V}, 1, 0, V, false, fn_sinh},
    {"cosh", {V}, 1, 0, V, false, fn_cosh},
    {"tanh", {V}, 1, 0, V, false, fn_tanh},
    {"asinh", {V}, 1, 0, V, false, fn_asinh},
    {"acosh", {V}, 1, 0, V, false, fn_acosh},
    {"atanh", {V}, 1, 0, V, false, fn_atanh},
    {"deg", {V}, 1, 0, V, false, fn_deg},
    {"rad", {V}, 1, 0, V, false, fn_rad},
    {"pi", {S}, 0, 0, S, false, fn_pi},
    {"ts_of_last_over_time", {M}, 1, 0, V, false, fn_ts_of_last_over_time},
    {"ts_of_first_over_time", {M}, 1, 0, V, false, fn_ts_of_first_over_time},
    {"mad_over_time", {M}, 1, 0, V, false, fn_mad_over_time},
    {"abs", {V}, 1, 0, V, false, fn_abs},
    {"absent", {V}, 1, 0, V, false, fn_absent},
    {"absent_over_time", {M}, 1, 0, V, false, fn_absent_over_time},
    {"avg_over_time", {M}, 1, 0, V, false, fn_avg_over_time},
    {"ceil", {V}, 1, 0, V, false, fn_ceil},
    {"changes", {M}, 1, 0, V, false, fn_changes},
    {"clamp", {V, S, S}, 3, 0, V, false, fn_clamp},
    {"clamp_max", {V, S}, 2, 0, V, false, fn_clamp_max},
    {"clamp_min", {V, S}, 2, 0, V, false, fn_clamp_min},
    {"count_over_time", {M}, 1, 0, V, false, fn_count_over_time},
    {"delta", {M}, 1, 0, V, false, fn_delta},
    {"deriv", {M}, 1, 0, V, false, fn_deriv},
    {"floor", {V}, 1, 0, V, false, fn_floor},
    {"idelta", {M}, 1, 0, V, false, fn_idelta},
    {"increase", {M}, 1, 0, V, false, fn_increase},
    {"irate", {M}, 1, 0, V, false, fn_irate},
    {"label_join", {V, STR, STR, STR}, 3, -1, V, true, fn_label_join},
    {"label_replace", {V, STR, STR, STR, STR}, 5, 0, V, true, fn_label_replace},
    {"last_over_time", {M}, 1, 0, V, true, fn_last_over_time},
    {"max_over_time", {M}, 1, 0, V, false, fn_max_over_time},
    {"min_over_time", {M}, 1, 0, V, false, fn_min_over_time},
    {"predict_linear", {M, S}, 2, 0, V, false, fn_predict_linear},
    {"quantile_over_time", {S, M}, 2, 0, V, false, fn_quantile_over_time},
    {"rate", {M}, 1, 0, V, false, fn_rate},
    {"resets", {M}, 1, 0, V, false, fn_resets},
    {"round", {V, S}, 1, 1, V, false, fn_round},
    {"scalar", {V}, 1, 0, S, false, fn_scalar},
    {"sort", {V}, 1, 0, V, true, fn_sort},
    {"sort_desc", {V}, 1, 0, V, true, fn_sort_desc},
    {"sum_over_time", {M}, 1, 0, V, false, fn_sum_over_time},
    {"time", {S}, 0, 0, S, false, fn_time},
    {"timestamp", {V}, 1, 0, V, false, fn_timestamp},
    {"vector", {S}, 1, 0, V, false, fn_vector},
    {"day_of_month", {V}, 0, 1, V, false, fn_day_of_month},
    {"day_of_week", {V}, 0, 1, V, false, fn_day_of_week},
    {"day_of_year", {V}, 0, 1, V, false, fn_day_of_year},
    {"days_in_month", {V}, 0, 1, V, false, fn_days_in_month},
    {"exp", {V}, 1, 0, V, false, fn_exp},
    {"first_over_time", {M}, 1, 0, V, true, fn_first_over_time},
    {"hour", {V}, 0, 1, V, false, fn_hour},
    {"ln", {V}, 1, 0, V, false, fn_ln},
    {"log10", {V}, 1, 0, V, false, fn_log10},
    {"log2", {V}, 1, 0, V, false, fn_log2},
    {"minute", {V}, 0, 1, V, false, fn_minute},
    {"month", {V}, 0, 1, V, false, fn_month},
    {"present_over_time", {M}, 1, 0, V, false, fn_present_over_time},
    {"sgn", {V}, 1, 0, V, false, fn_sgn},
    {"sqrt", {V}, 1, 0, V, false, fn_sqrt},
    {"stddev_over_time", {M}, 1, 0, V, false, fn_stddev_over_time},
    {"stdvar_over_time", {M}, 1, 0, V, false, fn_stdvar_over_time},
    {"year", {V}, 0, 1, V, false, fn_year},
};

/* Every other function Prometheus 3 knows. */
static const char *const prometheus_only[] = {"acos",
                                              "count_values",
                                              "double_exponential_smoothing",
                                              "histogram_avg",
                                              "histogram_count",
                                              "histogram_fraction",
                                              "histogram_quantile",
                                              "histogram_stddev",
                                              "histogram_stdvar",
                                              "histogram_sum",
                                              "holt_winters",
                                              "info",
                                              "ts_of_max_over_time",
                                              "ts_of_min_over_time",
                                              "max_of",
                                              "min_of",
                                              "limitk",
                                              "limit_ratio",
                                              "step",
                                              "range",
                                              "start",
                                              "end"};

const struct pq_func *pq_func_lookup(const char *name)
{
    for (size_t i = 0; i < sizeof funcs / sizeof funcs[0]; i++)
        if (strcmp(funcs[i].name, name) == 0)
            return &funcs[i];
    return NULL;
}

bool pq_func_is_prometheus(const char *name)
{
    for (size_t i = 0; i < sizeof prometheus_only / sizeof prometheus_only[0]; i++)
        if (strcmp(prometheus_only[i], name) == 0)
            return true;
    return false;
}
