/*
 * alert.c — Prometheus's alert state machine for one rule (see alert.h). Alerts live in a small
 * array keyed by fingerprint; a rule rarely has more than a few hundred alerts.
 */
#include "lagwatch/alert.h"

#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct alert_rule {
    char *name;
    int64_t for_ms, keep_firing_for_ms;
    struct lw_labels labels, annotations;
    char **drop; /* label names set to "" by the rule */
    size_t n_drop;
    enum alert_no_data no_data;
    alert_expand_fn expand;
    void *expand_ud;
    struct alert *v;
    size_t n, cap;
};

const char *alert_state_str(enum alert_state s)
{
    return s == ALERT_FIRING ? "firing" : s == ALERT_PENDING ? "pending" : "inactive";
}

struct alert_rule *alert_rule_new(const struct alert_rule_spec *spec)
{
    struct alert_rule *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->name = strdup(spec->name);
    r->for_ms = spec->for_ms;
    r->keep_firing_for_ms = spec->keep_firing_for_ms;
    r->no_data = spec->no_data;
    r->expand = spec->expand;
    r->expand_ud = spec->expand_ud;
    lw_labels_init(&r->labels);
    lw_labels_init(&r->annotations);
    if (spec->n_drop_labels) {
        r->drop = calloc(spec->n_drop_labels, sizeof(*r->drop));
        if (r->drop == NULL) {
            alert_rule_free(r);
            return NULL;
        }
        for (; r->n_drop < spec->n_drop_labels; r->n_drop++)
            if ((r->drop[r->n_drop] = strdup(spec->drop_labels[r->n_drop])) == NULL) {
                alert_rule_free(r);
                return NULL;
            }
    }
    if (!r->name || (spec->labels && lw_labels_copy(&r->labels, spec->labels) != 0) ||
        (spec->annotations && lw_labels_copy(&r->annotations, spec->annotations) != 0)) {
        alert_rule_free(r);
        return NULL;
    }
    return r;
}

static void alert_cleanup(struct alert *a)
{
    lw_labels_cleanup(&a->labels);
    lw_labels_cleanup(&a->annotations);
}

void alert_rule_free(struct alert_rule *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++)
        alert_cleanup(&r->v[i]);
    free(r->v);
    lw_labels_cleanup(&r->labels);
    lw_labels_cleanup(&r->annotations);
    for (size_t i = 0; i < r->n_drop; i++)
        free(r->drop[i]);
    free(r->drop);
    free(r->name);
    free(r);
}

const char *alert_rule_name(const struct alert_rule *r)
{
    return r->name;
}

size_t alert_rule_count(const struct alert_rule *r)
{
    return r->n;
}

const struct alert *alert_rule_at(const struct alert_rule *r, size_t i)
{
    return i < r->n ? &r->v[i] : NULL;
}

size_t alert_rule_count_state(const struct alert_rule *r, enum alert_state s)
{
    size_t n = 0;
    for (size_t i = 0; i < r->n; i++)
        n += r->v[i].state == s;
    return n;
}

/* Expand templates of src into out (raw text kept when expansion fails, as Prometheus does). */
static int expand_all(const struct alert_rule *r, const struct lw_labels *src,
                      const struct lw_labels *alert_labels, double value, int64_t now,
                      struct lw_labels *out)
{
    for (size_t i = 0; i < src->n; i++) {
        char *x = NULL;
        struct lw_err err = {0};
        if (r->expand)
            x = r->expand(r->expand_ud, src->v[i].value, alert_labels, value, now, &err);
        int rc = lw_labels_set(out, src->v[i].name, x ? x : src->v[i].value);
        free(x);
        if (rc != 0)
            return -1;
    }
    return 0;
}

/* The alert's labels for a sample: sample labels minus __name__, rule labels, alertname. The
 * templates see the sample's own labels, __name__ included, as Prometheus's $labels does (not
 * the rule's labels, not alertname). */
static int alert_labels(const struct alert_rule *r, const struct lw_labels *sample, double value,
                        int64_t now, struct lw_labels *out)
{
    if (lw_labels_copy(out, sample) != 0)
        return -1;
    lw_labels_del(out, "__name__");
    for (size_t i = 0; i < r->n_drop; i++)
        lw_labels_del(out, r->drop[i]);
    if (expand_all(r, &r->labels, sample, value, now, out) != 0 ||
        lw_labels_set(out, "alertname", r->name) != 0)
        return -1;
    return 0;
}

/* An open-addressing index from fingerprints to array positions (slot = position + 1, 0 empty),
 * so matching a result against the alerts is linear, not quadratic, for rules that hold
 * thousands of alerts. Callers confirm a candidate with lw_labels_equal. */
struct fp_index {
    size_t *slot;
    size_t mask;
};

static int fpi_init(struct fp_index *x, size_t n)
{
    size_t cap = 16;
    while (cap < 2 * n + 2)
        cap *= 2;
    x->slot = calloc(cap, sizeof(*x->slot));
    x->mask = cap - 1;
    return x->slot ? 0 : -1;
}

static void fpi_put(struct fp_index *x, uint64_t fp, size_t pos)
{
    size_t i = (size_t)fp & x->mask;
    while (x->slot[i])
        i = (i + 1) & x->mask;
    x->slot[i] = pos + 1;
}

static struct alert *find(struct alert_rule *r, const struct fp_index *x, uint64_t fp,
                          const struct lw_labels *ls)
{
    for (size_t i = (size_t)fp & x->mask; x->slot[i]; i = (i + 1) & x->mask) {
        struct alert *a = &r->v[x->slot[i] - 1];
        if (a->fingerprint == fp && lw_labels_equal(&a->labels, ls))
            return a;
    }
    return NULL;
}

struct pending_update {
    struct lw_labels labels, annotations;
    double value;
    uint64_t fp;
};

static bool in_updates(const struct pending_update *u, const struct fp_index *x, uint64_t fp,
                       const struct lw_labels *ls)
{
    for (size_t i = (size_t)fp & x->mask; x->slot[i]; i = (i + 1) & x->mask) {
        const struct pending_update *p = &u[x->slot[i] - 1];
        if (p->fp == fp && lw_labels_equal(&p->labels, ls))
            return true;
    }
    return false;
}

int alert_rule_eval(struct alert_rule *r, const struct alert_sample *v, size_t n, bool no_data,
                    int64_t now, struct lw_err *err)
{
    if (no_data && r->no_data == ALERT_NO_DATA_KEEP_STATE) {
        /* Nothing is known: neither start, advance-to-firing nor resolve anything. */
        return 0;
    }
    struct lw_labels empty;
    lw_labels_init(&empty);
    struct alert_sample synthetic = {.labels = &empty, .value = NAN};
    if (no_data && r->no_data == ALERT_NO_DATA_ALERTING) {
        v = &synthetic;
        n = 1;
    }
    struct pending_update *u = calloc(n + 1, sizeof(*u));
    struct fp_index ui = {0}, ai = {0};
    if (!u || fpi_init(&ui, n) != 0 || fpi_init(&ai, r->n) != 0) {
        free(u);
        free(ui.slot);
        free(ai.slot);
        return lw_err_set(err, 0, 0, "out of memory");
    }
    int rc = -1;
    size_t built = 0;
    for (size_t i = 0; i < n; i++, built++) {
        lw_labels_init(&u[i].annotations);
        if (alert_labels(r, v[i].labels, v[i].value, now, &u[i].labels) != 0) {
            lw_err_set(err, 0, 0, "out of memory");
            built++;
            goto out;
        }
        if (no_data && r->no_data == ALERT_NO_DATA_ALERTING &&
            lw_labels_set(&u[i].labels, "lagwatch_no_data", "true") != 0)
            goto out;
        u[i].value = v[i].value;
        u[i].fp = lw_labels_fingerprint(&u[i].labels);
        if (in_updates(u, &ui, u[i].fp, &u[i].labels)) {
            lw_err_set(err, 0, 0,
                       "vector contains metrics with the same labelset after applying alert "
                       "labels");
            built++;
            goto out;
        }
        fpi_put(&ui, u[i].fp, i);
        if (expand_all(r, &r->annotations, v[i].labels, v[i].value, now, &u[i].annotations) != 0) {
            lw_err_set(err, 0, 0, "out of memory");
            built++;
            goto out;
        }
    }
    /* Apply: update or create the alerts in the result. The index covers the alerts held
     * before; positions stay valid because a returning resolved alert restarts in its own slot
     * and new alerts are appended (the result has no duplicates, so none is looked up). */
    for (size_t i = 0; i < r->n; i++)
        fpi_put(&ai, r->v[i].fingerprint, i);
    for (size_t i = 0; i < n; i++) {
        struct alert *a = find(r, &ai, u[i].fp, &u[i].labels);
        if (a && a->state != ALERT_INACTIVE) {
            a->value = u[i].value;
            lw_labels_cleanup(&a->annotations);
            a->annotations = u[i].annotations;
            lw_labels_init(&u[i].annotations);
            a->keep_firing_since_ms = 0;
            continue;
        }
        if (a) { /* a resolved alert that comes back starts over, as in Prometheus */
            struct lw_labels keep_labels = a->labels;
            lw_labels_cleanup(&a->annotations);
            memset(a, 0, sizeof(*a));
            a->labels = keep_labels; /* the same label set */
            a->annotations = u[i].annotations;
            lw_labels_init(&u[i].annotations);
            a->value = u[i].value;
            a->fingerprint = u[i].fp;
            a->state = ALERT_PENDING;
            a->active_at_ms = now;
            continue;
        }
        if (r->n == r->cap) {
            size_t nc = r->cap ? r->cap * 2 : 8;
            struct alert *nv = realloc(r->v, nc * sizeof(*nv));
            if (!nv) {
                lw_err_set(err, 0, 0, "out of memory");
                goto out;
            }
            r->v = nv;
            r->cap = nc;
        }
        struct alert *na = &r->v[r->n++];
        memset(na, 0, sizeof(*na));
        if (lw_labels_copy(&na->labels, &u[i].labels) != 0) {
            r->n--;
            lw_err_set(err, 0, 0, "out of memory");
            goto out;
        }
        na->annotations = u[i].annotations; /* take: u keeps its labels for the check below */
        lw_labels_init(&u[i].annotations);
        na->value = u[i].value;
        na->fingerprint = u[i].fp;
        na->state = ALERT_PENDING;
        na->active_at_ms = now;
    }
    /* Alerts not in the result; then pending -> firing. */
    size_t w = 0;
    for (size_t i = 0; i < r->n; i++) {
        struct alert *a = &r->v[i];
        bool present = in_updates(u, &ui, a->fingerprint, &a->labels);
        bool keep = true;
        if (!present) {
            bool keep_firing = false;
            if (a->state == ALERT_FIRING && r->keep_firing_for_ms > 0) {
                if (a->keep_firing_since_ms == 0)
                    a->keep_firing_since_ms = now;
                keep_firing = now - a->keep_firing_since_ms < r->keep_firing_for_ms;
            }
            if (a->state == ALERT_PENDING ||
                (a->resolved_at_ms && now - a->resolved_at_ms > ALERT_RESOLVED_RETENTION_MS))
                keep = false;
            if (a->state != ALERT_INACTIVE && !keep_firing) {
                a->state = ALERT_INACTIVE;
                a->resolved_at_ms = now;
            }
        }
        if (!keep) {
            alert_cleanup(a);
            continue;
        }
        if (a->state == ALERT_PENDING && now - a->active_at_ms >= r->for_ms) {
            a->state = ALERT_FIRING;
            a->fired_at_ms = now;
        }
        r->v[w++] = *a;
    }
    r->n = w;
    rc = 0;
out:
    for (size_t i = 0; i < built && i < n; i++) {
        lw_labels_cleanup(&u[i].labels);
        lw_labels_cleanup(&u[i].annotations);
    }
    free(u);
    free(ui.slot);
    free(ai.slot);
    return rc;
}

size_t alert_rule_series(const struct alert_rule *r, struct lw_labels *ls, double *vals, size_t max)
{
    size_t k = 0;
    for (size_t i = 0; i < r->n && k + 2 <= max; i++) {
        const struct alert *a = &r->v[i];
        if (a->state == ALERT_INACTIVE)
            continue;
        if (lw_labels_copy(&ls[k], &a->labels) != 0 ||
            lw_labels_set(&ls[k], "__name__", "ALERTS") != 0 ||
            lw_labels_set(&ls[k], "alertstate", alert_state_str(a->state)) != 0)
            return k;
        vals[k++] = 1;
        if (lw_labels_copy(&ls[k], &a->labels) != 0 ||
            lw_labels_set(&ls[k], "__name__", "ALERTS_FOR_STATE") != 0)
            return k;
        vals[k++] = (double)a->active_at_ms / 1000.0;
    }
    return k;
}

static json_t *kv(const struct lw_labels *ls)
{
    json_t *o = json_object();
    for (size_t i = 0; o && i < ls->n; i++)
        json_object_set_new(o, ls->v[i].name, json_string(ls->v[i].value));
    return o;
}

char *alert_rule_save(const struct alert_rule *r)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < r->n; i++) {
        const struct alert *a = &r->v[i];
        json_array_append_new(
            arr, json_pack("{s:o, s:o, s:s, s:f, s:I, s:I, s:I, s:I}", "labels", kv(&a->labels),
                           "annotations", kv(&a->annotations), "state", alert_state_str(a->state),
                           "value", isfinite(a->value) ? a->value : 0.0, "active_at_ms",
                           (json_int_t)a->active_at_ms, "fired_at_ms", (json_int_t)a->fired_at_ms,
                           "resolved_at_ms", (json_int_t)a->resolved_at_ms, "keep_firing_since_ms",
                           (json_int_t)a->keep_firing_since_ms));
    }
    json_t *doc = json_pack("{s:i, s:s, s:o}", "version", 1, "rule", r->name, "alerts", arr);
    char *s = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    return s;
}

static int load_kv(json_t *o, struct lw_labels *out)
{
    lw_labels_init(out);
    const char *k;
    json_t *v;
    if (!json_is_object(o))
        return -1;
    json_object_foreach(o, k, v)
    {
        if (!json_is_string(v) || lw_labels_set(out, k, json_string_value(v)) != 0)
            return -1;
    }
    return 0;
}

int alert_rule_restore(struct alert_rule *r, const char *json, size_t len, struct lw_err *err)
{
    json_error_t jerr;
    json_t *doc = json_loadb(json, len, 0, &jerr);
    if (!doc)
        return lw_err_set(err, jerr.line, jerr.column, "alert state: %s", jerr.text);
    int rc = -1;
    json_t *arr = json_object_get(doc, "alerts");
    if (json_integer_value(json_object_get(doc, "version")) != 1 || !json_is_array(arr)) {
        lw_err_set(err, 0, 0, "alert state: not a version 1 document");
        goto out;
    }
    struct alert *nv = calloc(json_array_size(arr) + 1, sizeof(*nv));
    size_t nn = 0;
    if (!nv) {
        lw_err_set(err, 0, 0, "out of memory");
        goto out;
    }
    size_t i;
    json_t *it;
    json_array_foreach(arr, i, it)
    {
        struct alert *a = &nv[nn];
        const char *state = NULL;
        double value = 0;
        json_int_t act = 0, fired = 0, resolved = 0, keep = 0;
        int bad = json_unpack(it, "{s:s, s:F, s:I, s:I, s:I, s:I}", "state", &state, "value",
                              &value, "active_at_ms", &act, "fired_at_ms", &fired, "resolved_at_ms",
                              &resolved, "keep_firing_since_ms", &keep);
        int l1 = load_kv(json_object_get(it, "labels"), &a->labels);
        int l2 = load_kv(json_object_get(it, "annotations"), &a->annotations);
        nn++;
        if (bad || l1 || l2) {
            lw_err_set(err, 0, 0, "alert state: entry %zu is malformed", i);
            for (size_t k = 0; k < nn; k++)
                alert_cleanup(&nv[k]);
            free(nv);
            goto out;
        }
        a->state = !strcmp(state, "firing")    ? ALERT_FIRING
                   : !strcmp(state, "pending") ? ALERT_PENDING
                                               : ALERT_INACTIVE;
        a->value = value;
        a->active_at_ms = act;
        a->fired_at_ms = fired;
        a->resolved_at_ms = resolved;
        a->keep_firing_since_ms = keep;
        a->fingerprint = lw_labels_fingerprint(&a->labels);
    }
    for (size_t k = 0; k < r->n; k++)
        alert_cleanup(&r->v[k]);
    free(r->v);
    r->v = nv;
    r->n = nn;
    r->cap = json_array_size(arr) + 1;
    rc = 0;
out:
    json_decref(doc);
    return rc;
}
