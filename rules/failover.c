/*
 * failover.c — failover episodes per Aurora cluster (see failover.h). RDS event messages are
 * matched case-insensitively on the phrases AWS documents for RDS-EVENT-0069/0071/0072/0073.
 */
#include "lagwatch/failover.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct failover {
    int64_t hold_ms;
    struct failover_cluster *v;
    size_t n, cap;
};

struct failover *failover_new(int64_t hold_ms)
{
    struct failover *f = calloc(1, sizeof(*f));
    if (f)
        f->hold_ms = hold_ms >= 0 ? hold_ms : FAILOVER_DEFAULT_HOLD_MS;
    return f;
}

static void cluster_cleanup(struct failover_cluster *c)
{
    free(c->cluster);
    free(c->reason);
    free(c->last_writer);
}

void failover_free(struct failover *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->n; i++)
        cluster_cleanup(&f->v[i]);
    free(f->v);
    free(f);
}

static struct failover_cluster *get(struct failover *f, const char *cluster, bool create)
{
    for (size_t i = 0; i < f->n; i++)
        if (strcmp(f->v[i].cluster, cluster) == 0)
            return &f->v[i];
    if (!create)
        return NULL;
    if (f->n == f->cap) {
        size_t nc = f->cap ? f->cap * 2 : 8;
        struct failover_cluster *nv = realloc(f->v, nc * sizeof(*nv));
        if (!nv)
            return NULL;
        f->v = nv;
        f->cap = nc;
    }
    struct failover_cluster *c = &f->v[f->n];
    memset(c, 0, sizeof(*c));
    c->cluster = strdup(cluster);
    if (!c->cluster)
        return NULL;
    f->n++;
    return c;
}

static const struct failover_cluster *cget(const struct failover *f, const char *cluster)
{
    for (size_t i = 0; i < f->n; i++)
        if (strcmp(f->v[i].cluster, cluster) == 0)
            return &f->v[i];
    return NULL;
}

static int set_reason(struct failover_cluster *c, const char *reason)
{
    char *r = strdup(reason);
    if (!r)
        return -1;
    free(c->reason);
    c->reason = r;
    return 0;
}

static int start(struct failover_cluster *c, const char *reason, int64_t at_ms)
{
    if (c->phase == FAILOVER_ACTIVE)
        return 0;
    c->phase = FAILOVER_ACTIVE;
    c->started_ms = at_ms;
    c->ended_ms = 0;
    c->hold_until_ms = 0;
    c->episodes++;
    return set_reason(c, reason) == 0 ? 1 : -1;
}

static int end(struct failover *f, struct failover_cluster *c, int64_t at_ms)
{
    if (c->phase != FAILOVER_ACTIVE)
        return 0;
    c->phase = FAILOVER_HOLD;
    c->ended_ms = at_ms;
    c->hold_until_ms = at_ms + f->hold_ms;
    return 1;
}

static bool contains_ci(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (const char *p = hay; *p; p++)
        if (strncasecmp(p, needle, n) == 0)
            return true;
    return false;
}

int failover_observe_cluster(struct failover *f, const char *cluster, const char *status,
                             const char *writer, int64_t now_ms)
{
    struct failover_cluster *c = get(f, cluster, true);
    if (!c)
        return -1;
    int changed = 0;
    bool writer_changed = c->last_writer && writer && strcmp(c->last_writer, writer) != 0;
    if (status && strcmp(status, "failing-over") == 0) {
        changed = start(c, "cluster status failing-over", now_ms);
    } else if (writer_changed) {
        /* The writer moved between two polls: a failover happened even if we saw no event. */
        char reason[512];
        snprintf(reason, sizeof(reason), "writer changed from %s to %s", c->last_writer, writer);
        changed = start(c, reason, now_ms);
        if (changed >= 0 && status && strcmp(status, "available") == 0)
            changed = end(f, c, now_ms) < 0 ? -1 : 1;
    } else if (status && strcmp(status, "available") == 0 && writer) {
        changed = end(f, c, now_ms);
    }
    if (writer && (!c->last_writer || strcmp(c->last_writer, writer) != 0)) {
        char *w = strdup(writer);
        if (!w)
            return -1;
        free(c->last_writer);
        c->last_writer = w;
    }
    return changed;
}

int failover_observe_event(struct failover *f, const char *cluster, const char *message,
                           int64_t event_ms, int64_t now_ms)
{
    (void)now_ms;
    struct failover_cluster *c = get(f, cluster, true);
    if (!c)
        return -1;
    if (contains_ci(message, "started") && contains_ci(message, "failover"))
        return start(c, message, event_ms);
    if (contains_ci(message, "completed failover") ||
        (contains_ci(message, "failover") && contains_ci(message, "failed")))
        return end(f, c, event_ms);
    return 0;
}

int failover_manual(struct failover *f, const char *cluster, bool on, const char *who,
                    int64_t now_ms)
{
    struct failover_cluster *c = get(f, cluster, true);
    if (!c)
        return -1;
    if (!on)
        return end(f, c, now_ms);
    char reason[512];
    snprintf(reason, sizeof(reason), "started by hand (%s)", who ? who : "operator");
    return start(c, reason, now_ms);
}

bool failover_held(const struct failover *f, const char *cluster, int64_t now_ms)
{
    const struct failover_cluster *c = cget(f, cluster);
    if (!c)
        return false;
    return c->phase == FAILOVER_ACTIVE || (c->phase == FAILOVER_HOLD && now_ms < c->hold_until_ms);
}

size_t failover_tick(struct failover *f, int64_t now_ms)
{
    size_t n = 0;
    for (size_t i = 0; i < f->n; i++) {
        if (f->v[i].phase == FAILOVER_HOLD && now_ms >= f->v[i].hold_until_ms) {
            f->v[i].phase = FAILOVER_NONE;
            n++;
        }
    }
    return n;
}

size_t failover_count(const struct failover *f)
{
    return f->n;
}

const struct failover_cluster *failover_at(const struct failover *f, size_t i)
{
    return i < f->n ? &f->v[i] : NULL;
}

static const char *phase_str(enum failover_phase p)
{
    return p == FAILOVER_ACTIVE ? "active" : p == FAILOVER_HOLD ? "hold" : "none";
}

char *failover_save(const struct failover *f)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < f->n; i++) {
        const struct failover_cluster *c = &f->v[i];
        json_array_append_new(
            arr, json_pack("{s:s, s:s, s:I, s:I, s:I, s:s*, s:s*, s:I}", "cluster", c->cluster,
                           "phase", phase_str(c->phase), "started_ms", (json_int_t)c->started_ms,
                           "ended_ms", (json_int_t)c->ended_ms, "hold_until_ms",
                           (json_int_t)c->hold_until_ms, "reason", c->reason, "last_writer",
                           c->last_writer, "episodes", (json_int_t)c->episodes));
    }
    json_t *doc = json_pack("{s:i, s:o}", "version", 1, "clusters", arr);
    char *s = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    return s;
}

int failover_load(struct failover *f, const char *json, size_t len, struct lw_err *err)
{
    for (size_t i = 0; i < f->n; i++)
        cluster_cleanup(&f->v[i]);
    f->n = 0;
    json_error_t jerr;
    json_t *doc = json_loadb(json, len, 0, &jerr);
    if (!doc)
        return lw_err_set(err, jerr.line, jerr.column, "failover episodes: %s", jerr.text);
    json_t *arr = json_object_get(doc, "clusters");
    int rc = -1;
    if (json_integer_value(json_object_get(doc, "version")) != 1 || !json_is_array(arr)) {
        lw_err_set(err, 0, 0, "failover episodes: not a version 1 document");
        goto out;
    }
    size_t i;
    json_t *it;
    json_array_foreach(arr, i, it)
    {
        const char *name = NULL, *phase = NULL, *reason = NULL, *writer = NULL;
        json_int_t st = 0, en = 0, hold = 0, eps = 0;
        if (json_unpack(it, "{s:s, s:s, s:I, s:I, s:I, s?s, s?s, s:I}", "cluster", &name, "phase",
                        &phase, "started_ms", &st, "ended_ms", &en, "hold_until_ms", &hold,
                        "reason", &reason, "last_writer", &writer, "episodes", &eps) != 0) {
            lw_err_set(err, 0, 0, "failover episodes: entry %zu is malformed", i);
            goto out;
        }
        enum failover_phase p = !strcmp(phase, "active") ? FAILOVER_ACTIVE
                                : !strcmp(phase, "hold") ? FAILOVER_HOLD
                                                         : FAILOVER_NONE;
        struct failover_cluster *c = get(f, name, true);
        if (c) {
            free(c->last_writer);
            c->last_writer = NULL;
        }
        if (!c || (reason && set_reason(c, reason) != 0) ||
            (writer && !(c->last_writer = strdup(writer)))) {
            lw_err_set(err, 0, 0, "out of memory");
            goto out;
        }
        c->phase = p;
        c->started_ms = st;
        c->ended_ms = en;
        c->hold_until_ms = hold;
        c->episodes = (uint64_t)eps;
    }
    rc = 0;
out:
    if (rc != 0) {
        for (size_t k = 0; k < f->n; k++)
            cluster_cleanup(&f->v[k]);
        f->n = 0;
    }
    json_decref(doc);
    return rc;
}
