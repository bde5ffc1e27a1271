/*
 * dispatch.c — aggregation groups, group timers, the dedup decision and the notification log
 * (see dispatch.h). Groups and log entries live in small arrays searched linearly: a group flush
 * is rare (every group_interval) and a lagwatch carries hundreds of groups, not millions.
 */
#include "lagwatch/dispatch.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define FNV64_OFFSET         14695981039346656037ULL
#define FNV64_PRIME          1099511628211ULL
#define MAX_ROUTES_PER_ALERT 64

struct group {
    char *key;
    uint64_t key_hash;
    const struct route *route;
    struct lw_labels labels;
    struct dispatch_alert *alerts;
    size_t n, cap;
    int64_t next_flush_ms;
    bool flushed;
};

struct nflog_entry {
    char *group_key;
    char *receiver;
    int64_t timestamp_ms;
    uint64_t *firing, *resolved;
    size_t n_firing, n_resolved;
};

struct dispatch {
    struct dispatch_options opts;
    struct group **groups;
    size_t n_groups, cap_groups;
    struct nflog_entry *log;
    size_t n_log, cap_log;
};

static uint64_t fnv64(const char *s)
{
    uint64_t h = FNV64_OFFSET;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        h ^= *p;
        h *= FNV64_PRIME;
    }
    return h;
}

static void alert_cleanup(struct dispatch_alert *a)
{
    lw_labels_cleanup(&a->labels);
    lw_labels_cleanup(&a->annotations);
    free(a->generator_url);
    a->generator_url = NULL;
}

static int alert_copy(struct dispatch_alert *dst, const struct dispatch_alert *src)
{
    *dst = *src;
    lw_labels_init(&dst->labels);
    lw_labels_init(&dst->annotations);
    dst->generator_url = NULL;
    if (lw_labels_copy(&dst->labels, &src->labels) != 0 ||
        lw_labels_copy(&dst->annotations, &src->annotations) != 0 ||
        (src->generator_url && !(dst->generator_url = strdup(src->generator_url)))) {
        alert_cleanup(dst);
        return -1;
    }
    dst->fingerprint = lw_labels_fingerprint(&src->labels);
    return 0;
}

static void group_free(struct group *g)
{
    if (!g)
        return;
    for (size_t i = 0; i < g->n; i++)
        alert_cleanup(&g->alerts[i]);
    free(g->alerts);
    lw_labels_cleanup(&g->labels);
    free(g->key);
    free(g);
}

static void entry_cleanup(struct nflog_entry *e)
{
    free(e->group_key);
    free(e->receiver);
    free(e->firing);
    free(e->resolved);
}

struct dispatch *dispatch_new(const struct dispatch_options *opts)
{
    struct dispatch *d = calloc(1, sizeof(*d));
    if (d)
        d->opts = *opts;
    return d;
}

static void clear_groups(struct dispatch *d)
{
    for (size_t i = 0; i < d->n_groups; i++)
        group_free(d->groups[i]);
    d->n_groups = 0;
}

static void clear_log(struct dispatch *d)
{
    for (size_t i = 0; i < d->n_log; i++)
        entry_cleanup(&d->log[i]);
    d->n_log = 0;
}

void dispatch_free(struct dispatch *d)
{
    if (!d)
        return;
    clear_groups(d);
    free(d->groups);
    clear_log(d);
    free(d->log);
    free(d);
}

void dispatch_set_route(struct dispatch *d, const struct route *root)
{
    clear_groups(d);
    d->opts.root = root;
}

size_t dispatch_group_count(const struct dispatch *d)
{
    return d->n_groups;
}

static struct group *find_group(struct dispatch *d, const char *key, uint64_t h)
{
    for (size_t i = 0; i < d->n_groups; i++)
        if (d->groups[i]->key_hash == h && strcmp(d->groups[i]->key, key) == 0)
            return d->groups[i];
    return NULL;
}

static struct group *new_group(struct dispatch *d, const struct route *r, struct lw_labels *gl,
                               char *key, uint64_t h, int64_t now_ms)
{
    if (d->n_groups == d->cap_groups) {
        size_t nc = d->cap_groups ? d->cap_groups * 2 : 16;
        struct group **ng = realloc(d->groups, nc * sizeof(*ng));
        if (!ng)
            return NULL;
        d->groups = ng;
        d->cap_groups = nc;
    }
    struct group *g = calloc(1, sizeof(*g));
    if (!g)
        return NULL;
    g->key = key;
    g->key_hash = h;
    g->route = r;
    g->labels = *gl; /* take */
    lw_labels_init(gl);
    g->next_flush_ms = now_ms + r->group_wait_ms;
    d->groups[d->n_groups++] = g;
    return g;
}

static int group_upsert(struct group *g, const struct dispatch_alert *a, int64_t now_ms)
{
    struct dispatch_alert copy;
    if (alert_copy(&copy, a) != 0)
        return -1;
    for (size_t i = 0; i < g->n; i++) {
        if (g->alerts[i].fingerprint == copy.fingerprint &&
            lw_labels_equal(&g->alerts[i].labels, &copy.labels)) {
            copy.was_held = copy.was_held || g->alerts[i].was_held;
            alert_cleanup(&g->alerts[i]);
            g->alerts[i] = copy;
            goto placed;
        }
    }
    if (g->n == g->cap) {
        size_t nc = g->cap ? g->cap * 2 : 8;
        struct dispatch_alert *na = realloc(g->alerts, nc * sizeof(*na));
        if (!na) {
            alert_cleanup(&copy);
            return -1;
        }
        g->alerts = na;
        g->cap = nc;
    }
    g->alerts[g->n++] = copy;
placed:
    /* An alert older than group_wait need not wait for it (Alertmanager does the same). */
    if (!g->flushed && copy.starts_at_ms + g->route->group_wait_ms < now_ms &&
        g->next_flush_ms > now_ms)
        g->next_flush_ms = now_ms;
    return 0;
}

int dispatch_put(struct dispatch *d, const struct dispatch_alert *a, int64_t now_ms,
                 struct lw_err *err)
{
    if (!d->opts.root)
        return lw_err_set(err, 0, 0, "no routing tree configured");
    const struct route *routes[MAX_ROUTES_PER_ALERT];
    size_t n = route_match(d->opts.root, &a->labels, routes, MAX_ROUTES_PER_ALERT);
    if (n > MAX_ROUTES_PER_ALERT)
        return lw_err_set(err, 0, 0, "alert matches more than %d routes", MAX_ROUTES_PER_ALERT);
    for (size_t i = 0; i < n; i++) {
        struct lw_labels gl;
        if (route_group_labels(routes[i], &a->labels, &gl) != 0)
            return lw_err_set(err, 0, 0, "out of memory");
        char *key = route_group_key(routes[i], &gl);
        if (!key) {
            lw_labels_cleanup(&gl);
            return lw_err_set(err, 0, 0, "out of memory");
        }
        uint64_t h = fnv64(key);
        struct group *g = find_group(d, key, h);
        if (g) {
            free(key);
            lw_labels_cleanup(&gl);
        } else if (!(g = new_group(d, routes[i], &gl, key, h, now_ms))) {
            free(key);
            lw_labels_cleanup(&gl);
            return lw_err_set(err, 0, 0, "out of memory");
        }
        if (group_upsert(g, a, now_ms) != 0)
            return lw_err_set(err, 0, 0, "out of memory");
    }
    return 0;
}

int64_t dispatch_next_due_ms(const struct dispatch *d)
{
    int64_t next = INT64_MAX;
    for (size_t i = 0; i < d->n_groups; i++)
        if (d->groups[i]->next_flush_ms < next)
            next = d->groups[i]->next_flush_ms;
    return next;
}

static struct nflog_entry *find_entry(struct dispatch *d, const char *key, const char *receiver)
{
    for (size_t i = 0; i < d->n_log; i++)
        if (strcmp(d->log[i].group_key, key) == 0 && strcmp(d->log[i].receiver, receiver) == 0)
            return &d->log[i];
    return NULL;
}

static bool fp_in(const uint64_t *v, size_t n, uint64_t fp)
{
    for (size_t i = 0; i < n; i++)
        if (v[i] == fp)
            return true;
    return false;
}

/* Every element of small is in big. */
static bool subset(const uint64_t *small, size_t ns, const uint64_t *big, size_t nb)
{
    for (size_t i = 0; i < ns; i++)
        if (!fp_in(big, nb, small[i]))
            return false;
    return true;
}

/* Alertmanager's DedupStage.needsUpdate. */
static bool needs_update(const struct nflog_entry *e, const uint64_t *firing, size_t nf,
                         const uint64_t *resolved, size_t nr, bool send_resolved, int64_t repeat_ms,
                         int64_t now_ms)
{
    if (!e)
        return nf > 0;
    if (!subset(firing, nf, e->firing, e->n_firing))
        return true;
    if (nf == 0)
        return e->n_firing > 0;
    if (send_resolved && !subset(resolved, nr, e->resolved, e->n_resolved))
        return true;
    return e->timestamp_ms < now_ms - repeat_ms;
}

static int record(struct dispatch *d, const char *key, const char *receiver, int64_t now_ms,
                  const uint64_t *firing, size_t nf, const uint64_t *resolved, size_t nr)
{
    struct nflog_entry *e = find_entry(d, key, receiver);
    if (!e) {
        if (d->n_log == d->cap_log) {
            size_t nc = d->cap_log ? d->cap_log * 2 : 16;
            struct nflog_entry *nl = realloc(d->log, nc * sizeof(*nl));
            if (!nl)
                return -1;
            d->log = nl;
            d->cap_log = nc;
        }
        e = &d->log[d->n_log];
        memset(e, 0, sizeof(*e));
        e->group_key = strdup(key);
        e->receiver = strdup(receiver);
        if (!e->group_key || !e->receiver) {
            entry_cleanup(e);
            return -1;
        }
        d->n_log++;
    }
    uint64_t *f = nf ? malloc(nf * sizeof(*f)) : NULL;
    uint64_t *r = nr ? malloc(nr * sizeof(*r)) : NULL;
    if ((nf && !f) || (nr && !r)) {
        free(f);
        free(r);
        return -1;
    }
    if (nf)
        memcpy(f, firing, nf * sizeof(*f));
    if (nr)
        memcpy(r, resolved, nr * sizeof(*r));
    free(e->firing);
    free(e->resolved);
    e->firing = f;
    e->resolved = r;
    e->n_firing = nf;
    e->n_resolved = nr;
    e->timestamp_ms = now_ms;
    return 0;
}

/* model.LabelSet.Before: smaller sets first, then the first differing label in name order. */
static bool labels_before(const struct lw_labels *a, const struct lw_labels *b)
{
    if (a->n != b->n)
        return a->n < b->n;
    size_t i = 0, j = 0;
    while (i < a->n && j < b->n) {
        int c = strcmp(a->v[i].name, b->v[j].name);
        if (c < 0)
            return false; /* b lacks a's name */
        if (c > 0)
            return true; /* a lacks b's name */
        c = strcmp(a->v[i].value, b->v[j].value);
        if (c != 0)
            return c < 0;
        i++;
        j++;
    }
    return false;
}

/* Alertmanager's types.AlertSlice order: by job, then instance (an alert with the label sorts
 * before one without), then model.LabelSet.Before. */
static int cmp_alert(const void *pa, const void *pb)
{
    const struct dispatch_alert *a = *(const struct dispatch_alert *const *)pa;
    const struct dispatch_alert *b = *(const struct dispatch_alert *const *)pb;
    static const char *const keys[] = {"job", "instance"};
    for (size_t k = 0; k < 2; k++) {
        const char *x = lw_labels_get(&a->labels, keys[k]);
        const char *y = lw_labels_get(&b->labels, keys[k]);
        if (!x && !y)
            continue;
        if (!x)
            return 1;
        if (!y)
            return -1;
        int c = strcmp(x, y);
        if (c != 0)
            return c;
    }
    if (labels_before(&a->labels, &b->labels))
        return -1;
    return labels_before(&b->labels, &a->labels) ? 1 : 0;
}

static bool is_resolved(const struct dispatch_alert *a, int64_t now_ms)
{
    return a->ends_at_ms > 0 && a->ends_at_ms <= now_ms;
}

/* Decide and emit for one group; returns 1 emitted, 0 not, -1 out of memory. On success the
 * resolved alerts leave the group. */
static int flush_group(struct dispatch *d, struct group *g, int64_t now_ms, dispatch_emit_fn emit,
                       void *ud)
{
    const char *receiver = g->route->receiver;
    struct nflog_entry *e = find_entry(d, g->key, receiver);
    bool send_resolved =
        d->opts.send_resolved ? d->opts.send_resolved(d->opts.send_resolved_ud, receiver) : true;
    uint64_t *firing = calloc(g->n + 1, sizeof(uint64_t));
    uint64_t *resolved = calloc(g->n + 1, sizeof(uint64_t));
    const struct dispatch_alert **sel = calloc(g->n + 1, sizeof(*sel));
    int rc = -1;
    if (!firing || !resolved || !sel)
        goto cleanup;
    size_t nf = 0, nr = 0, ns = 0;
    for (size_t i = 0; i < g->n; i++) {
        struct dispatch_alert *a = &g->alerts[i];
        if (d->opts.muted && d->opts.muted(d->opts.muted_ud, g->route, &a->labels, now_ms))
            continue;
        bool res = is_resolved(a, now_ms);
        if (d->opts.held && d->opts.held(d->opts.held_ud, &a->labels, now_ms)) {
            if (!res) {
                a->was_held = true;
                continue;
            }
            /* A resolve goes out only to a receiver that was told the alert fired. */
            if (!e || !fp_in(e->firing, e->n_firing, a->fingerprint))
                continue;
        }
        if (res)
            resolved[nr++] = a->fingerprint;
        else
            firing[nf++] = a->fingerprint;
    }
    bool update = needs_update(e, firing, nf, resolved, nr, send_resolved,
                               g->route->repeat_interval_ms, now_ms);
    rc = 0;
    if (update) {
        for (size_t i = 0; i < g->n; i++) {
            const struct dispatch_alert *a = &g->alerts[i];
            bool res = is_resolved(a, now_ms);
            if ((res && (!send_resolved || !fp_in(resolved, nr, a->fingerprint))) ||
                (!res && !fp_in(firing, nf, a->fingerprint)))
                continue;
            sel[ns++] = a;
        }
        qsort(sel, ns, sizeof(*sel), cmp_alert);
        size_t nfire = 0;
        for (size_t i = 0; i < ns; i++)
            nfire += !is_resolved(sel[i], now_ms);
        int sent = 0;
        if (ns > 0) {
            struct dispatch_notification n = {
                .route = g->route,
                .receiver = receiver,
                .group_key = g->key,
                .group_key_hash = g->key_hash,
                .group_labels = &g->labels,
                .alerts = sel,
                .n_alerts = ns,
                .n_firing = nfire,
                .now_ms = now_ms,
            };
            if (emit(ud, &n) != 0)
                goto cleanup; /* not recorded: tried again at the next interval */
            sent = 1;
        }
        if (record(d, g->key, receiver, now_ms, firing, nf, resolved, nr) != 0) {
            rc = -1;
            goto cleanup;
        }
        rc = sent;
    }
    /* Resolved alerts are done with once the group has been flushed. */
    size_t w = 0;
    for (size_t i = 0; i < g->n; i++) {
        if (is_resolved(&g->alerts[i], now_ms)) {
            alert_cleanup(&g->alerts[i]);
            continue;
        }
        g->alerts[w++] = g->alerts[i];
    }
    g->n = w;
cleanup:
    free(firing);
    free(resolved);
    free(sel);
    return rc;
}

int dispatch_flush_due(struct dispatch *d, int64_t now_ms, dispatch_emit_fn emit, void *ud)
{
    int emitted = 0;
    for (size_t i = 0; i < d->n_groups; i++) {
        struct group *g = d->groups[i];
        if (g->next_flush_ms > now_ms)
            continue;
        int rc = flush_group(d, g, now_ms, emit, ud);
        if (rc < 0)
            return -1;
        emitted += rc;
        g->flushed = true;
        g->next_flush_ms = now_ms + g->route->group_interval_ms;
    }
    /* Drop groups left empty. */
    size_t w = 0;
    for (size_t i = 0; i < d->n_groups; i++) {
        if (d->groups[i]->n == 0) {
            group_free(d->groups[i]);
            continue;
        }
        d->groups[w++] = d->groups[i];
    }
    d->n_groups = w;
    return emitted;
}

void dispatch_expedite(struct dispatch *d, int64_t now_ms)
{
    for (size_t i = 0; i < d->n_groups; i++)
        if (d->groups[i]->flushed && d->groups[i]->next_flush_ms > now_ms)
            d->groups[i]->next_flush_ms = now_ms;
}

static json_t *fps_json(const uint64_t *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++) {
        char hex[17];
        snprintf(hex, sizeof(hex), "%016" PRIx64, v[i]);
        json_array_append_new(a, json_string(hex));
    }
    return a;
}

char *dispatch_nflog_save(const struct dispatch *d, int64_t now_ms, int64_t retention_ms)
{
    json_t *entries = json_array();
    for (size_t i = 0; entries && i < d->n_log; i++) {
        const struct nflog_entry *e = &d->log[i];
        if (e->timestamp_ms < now_ms - retention_ms)
            continue;
        json_array_append_new(entries, json_pack("{s:s, s:s, s:I, s:o, s:o}", "group_key",
                                                 e->group_key, "receiver", e->receiver,
                                                 "timestamp_ms", (json_int_t)e->timestamp_ms,
                                                 "firing", fps_json(e->firing, e->n_firing),
                                                 "resolved", fps_json(e->resolved, e->n_resolved)));
    }
    json_t *doc = json_pack("{s:i, s:o}", "version", 1, "entries", entries);
    char *s = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    return s;
}

static int load_fps(json_t *a, uint64_t **out, size_t *n, size_t idx, struct lw_err *err)
{
    if (!json_is_array(a))
        return lw_err_set(err, 0, 0, "nflog entry %zu: fingerprint list is not an array", idx);
    size_t k = json_array_size(a);
    uint64_t *v = k ? calloc(k, sizeof(*v)) : NULL;
    if (k && !v)
        return lw_err_set(err, 0, 0, "out of memory");
    for (size_t i = 0; i < k; i++) {
        const char *s = json_string_value(json_array_get(a, i));
        char *end = NULL;
        if (!s || strlen(s) != 16 || (v[i] = strtoull(s, &end, 16), *end != '\0')) {
            free(v);
            return lw_err_set(err, 0, 0, "nflog entry %zu: bad fingerprint", idx);
        }
    }
    *out = v;
    *n = k;
    return 0;
}

int dispatch_nflog_load(struct dispatch *d, const char *json, size_t len, struct lw_err *err)
{
    clear_log(d);
    json_error_t jerr;
    json_t *doc = json_loadb(json, len, 0, &jerr);
    if (!doc)
        return lw_err_set(err, jerr.line, jerr.column, "notification log: %s", jerr.text);
    int rc = -1;
    json_t *entries = json_object_get(doc, "entries");
    if (json_integer_value(json_object_get(doc, "version")) != 1 || !json_is_array(entries)) {
        lw_err_set(err, 0, 0, "notification log: not a version 1 document");
        goto out;
    }
    size_t i;
    json_t *it;
    json_array_foreach(entries, i, it)
    {
        const char *key = json_string_value(json_object_get(it, "group_key"));
        const char *recv = json_string_value(json_object_get(it, "receiver"));
        json_t *ts = json_object_get(it, "timestamp_ms");
        if (!key || !recv || !json_is_integer(ts)) {
            lw_err_set(err, 0, 0,
                       "notification log: entry %zu lacks group_key, receiver or "
                       "timestamp_ms",
                       i);
            goto out;
        }
        uint64_t *f = NULL, *r = NULL;
        size_t nf = 0, nr = 0;
        if (load_fps(json_object_get(it, "firing"), &f, &nf, i, err) != 0)
            goto out;
        if (load_fps(json_object_get(it, "resolved"), &r, &nr, i, err) != 0) {
            free(f);
            goto out;
        }
        int ok = record(d, key, recv, json_integer_value(ts), f, nf, r, nr);
        free(f);
        free(r);
        if (ok != 0) {
            lw_err_set(err, 0, 0, "out of memory");
            goto out;
        }
    }
    rc = 0;
out:
    if (rc != 0)
        clear_log(d);
    json_decref(doc);
    return rc;
}
