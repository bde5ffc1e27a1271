/*
 * outbox.c — the delivery queue (see outbox.h). Items stay in creation order in one array; the
 * queue is short in practice (it only grows while a receiver is down), so eligibility is a scan.
 */
#include "lagwatch/outbox.h"

#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct spacing {
    char *receiver, *integration;
    int64_t spacing_ms, last_attempt_ms;
};

struct outbox {
    struct outbox_hooks hooks;
    int64_t max_age_ms;
    struct outbox_item **v;
    size_t n, cap;
    uint64_t seq;
    uint64_t rng;
    struct spacing *sp;
    size_t n_sp;
};

struct outbox *outbox_new(const struct outbox_hooks *hooks, int64_t max_age_ms)
{
    struct outbox *o = calloc(1, sizeof(*o));
    if (!o)
        return NULL;
    if (hooks)
        o->hooks = *hooks;
    o->max_age_ms = max_age_ms > 0 ? max_age_ms : OUTBOX_DEFAULT_MAX_AGE_MS;
    o->rng = 0x9e3779b97f4a7c15ULL;
    return o;
}

static void item_free(struct outbox_item *it)
{
    if (!it)
        return;
    free(it->id);
    free(it->receiver);
    free(it->integration);
    free(it->group_key);
    free(it->body);
    free(it->last_error);
    free(it);
}

void outbox_free(struct outbox *o)
{
    if (!o)
        return;
    for (size_t i = 0; i < o->n; i++)
        item_free(o->v[i]);
    free(o->v);
    for (size_t i = 0; i < o->n_sp; i++) {
        free(o->sp[i].receiver);
        free(o->sp[i].integration);
    }
    free(o->sp);
    free(o);
}

size_t outbox_len(const struct outbox *o)
{
    return o->n;
}

bool outbox_status_retryable(int status)
{
    return status == 0 || status == 408 || status == 425 || status == 429 || status >= 500;
}

static bool same_stream(const struct outbox_item *a, const struct outbox_item *b)
{
    return strcmp(a->receiver, b->receiver) == 0 && strcmp(a->integration, b->integration) == 0 &&
           strcmp(a->group_key, b->group_key) == 0;
}

static void remove_at(struct outbox *o, size_t i, bool unpersist)
{
    struct outbox_item *it = o->v[i];
    if (unpersist && o->hooks.del)
        o->hooks.del(o->hooks.ud, it->id);
    memmove(&o->v[i], &o->v[i + 1], (o->n - i - 1) * sizeof(o->v[0]));
    o->n--;
    item_free(it);
}

static char *item_json(const struct outbox_item *it)
{
    json_t *doc = json_pack("{s:i, s:s, s:s, s:s, s:s, s:s, s:I, s:b}", "version", 1, "id", it->id,
                            "receiver", it->receiver, "integration", it->integration, "group_key",
                            it->group_key, "body", it->body, "created_ms",
                            (json_int_t)it->created_ms, "resolve_only", it->resolve_only);
    char *s = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    return s;
}

/* Insert keeping id order (ids sort by creation time). */
static int insert(struct outbox *o, struct outbox_item *it)
{
    if (o->n == o->cap) {
        size_t nc = o->cap ? o->cap * 2 : 16;
        struct outbox_item **nv = realloc(o->v, nc * sizeof(*nv));
        if (!nv)
            return -1;
        o->v = nv;
        o->cap = nc;
    }
    size_t i = o->n;
    while (i > 0 && strcmp(o->v[i - 1]->id, it->id) > 0)
        i--;
    memmove(&o->v[i + 1], &o->v[i], (o->n - i) * sizeof(o->v[0]));
    o->v[i] = it;
    o->n++;
    return 0;
}

static struct outbox_item *item_new(const char *id, const char *receiver, const char *integration,
                                    const char *group_key, const char *body, bool resolve_only,
                                    int64_t created_ms)
{
    struct outbox_item *it = calloc(1, sizeof(*it));
    if (!it)
        return NULL;
    it->id = strdup(id);
    it->receiver = strdup(receiver);
    it->integration = strdup(integration);
    it->group_key = strdup(group_key);
    it->body = strdup(body);
    it->created_ms = created_ms;
    it->next_attempt_ms = created_ms;
    it->resolve_only = resolve_only;
    if (!it->id || !it->receiver || !it->integration || !it->group_key || !it->body) {
        item_free(it);
        return NULL;
    }
    return it;
}

int outbox_enqueue(struct outbox *o, const char *receiver, const char *integration,
                   const char *group_key, const char *body, bool resolve_only, int64_t now_ms,
                   struct lw_err *err)
{
    char id[64];
    snprintf(id, sizeof(id), "%013" PRId64 "-%08" PRIu64, now_ms, ++o->seq);
    struct outbox_item *it =
        item_new(id, receiver, integration, group_key, body, resolve_only, now_ms);
    if (!it)
        return lw_err_set(err, 0, 0, "out of memory");
    char *json = item_json(it);
    if (!json || (o->hooks.put && o->hooks.put(o->hooks.ud, it->id, json) != 0)) {
        free(json);
        item_free(it);
        return lw_err_set(err, 0, 0, "could not persist notification for receiver %s", receiver);
    }
    free(json);
    /* Older snapshots of the same group that were never attempted are superseded. */
    for (size_t i = o->n; i-- > 0;)
        if (same_stream(o->v[i], it) && !o->v[i]->in_flight && o->v[i]->attempts == 0)
            remove_at(o, i, true);
    if (insert(o, it) != 0) {
        if (o->hooks.del)
            o->hooks.del(o->hooks.ud, it->id);
        item_free(it);
        return lw_err_set(err, 0, 0, "out of memory");
    }
    return 0;
}

int outbox_restore(struct outbox *o, const char *json, size_t len, struct lw_err *err)
{
    json_error_t jerr;
    json_t *doc = json_loadb(json, len, 0, &jerr);
    if (!doc)
        return lw_err_set(err, jerr.line, jerr.column, "outbox item: %s", jerr.text);
    const char *id, *receiver, *integration, *group_key, *body;
    json_int_t created, version;
    int resolve_only = 0;
    int rc = -1;
    if (json_unpack(doc, "{s:I, s:s, s:s, s:s, s:s, s:s, s:I, s?b}", "version", &version, "id", &id,
                    "receiver", &receiver, "integration", &integration, "group_key", &group_key,
                    "body", &body, "created_ms", &created, "resolve_only", &resolve_only) != 0 ||
        version != 1) {
        lw_err_set(err, 0, 0,
                   "outbox item: not a version 1 item with id, receiver, "
                   "integration, group_key, body and created_ms");
        goto out;
    }
    for (size_t i = 0; i < o->n; i++)
        if (strcmp(o->v[i]->id, id) == 0) {
            rc = 0; /* already queued */
            goto out;
        }
    struct outbox_item *it =
        item_new(id, receiver, integration, group_key, body, resolve_only, created);
    if (!it || insert(o, it) != 0) {
        item_free(it);
        lw_err_set(err, 0, 0, "out of memory");
        goto out;
    }
    /* keep new ids after restored ones: sequence numbers restart per process */
    uint64_t seq = 0;
    const char *dash = strchr(id, '-');
    if (dash)
        seq = strtoull(dash + 1, NULL, 10);
    if (seq > o->seq)
        o->seq = seq;
    rc = 0;
out:
    json_decref(doc);
    return rc;
}

static struct spacing *find_spacing(struct outbox *o, const char *receiver, const char *integration)
{
    for (size_t i = 0; i < o->n_sp; i++)
        if (strcmp(o->sp[i].receiver, receiver) == 0 &&
            strcmp(o->sp[i].integration, integration) == 0)
            return &o->sp[i];
    return NULL;
}

void outbox_set_max_age(struct outbox *o, int64_t max_age_ms)
{
    o->max_age_ms = max_age_ms > 0 ? max_age_ms : OUTBOX_DEFAULT_MAX_AGE_MS;
}

int outbox_set_spacing(struct outbox *o, const char *receiver, const char *integration,
                       int64_t spacing_ms)
{
    struct spacing *s = find_spacing(o, receiver, integration);
    if (!s) {
        struct spacing *nv = realloc(o->sp, (o->n_sp + 1) * sizeof(*nv));
        if (!nv)
            return -1;
        o->sp = nv;
        s = &o->sp[o->n_sp];
        s->receiver = strdup(receiver);
        s->integration = strdup(integration);
        s->last_attempt_ms = INT64_MIN / 2;
        if (!s->receiver || !s->integration) {
            free(s->receiver);
            free(s->integration);
            return -1;
        }
        o->n_sp++;
    }
    s->spacing_ms = spacing_ms;
    return 0;
}

struct outbox_item *outbox_next(struct outbox *o, int64_t now_ms)
{
    for (size_t i = 0; i < o->n; i++) {
        struct outbox_item *it = o->v[i];
        if (it->in_flight || it->next_attempt_ms > now_ms)
            continue;
        bool blocked = false;
        for (size_t k = 0; k < i && !blocked; k++)
            blocked = same_stream(o->v[k], it); /* an older item of the group goes first */
        if (blocked)
            continue;
        struct spacing *s = find_spacing(o, it->receiver, it->integration);
        if (s) {
            bool busy = false;
            for (size_t k = 0; k < o->n && !busy; k++)
                busy = o->v[k]->in_flight && strcmp(o->v[k]->receiver, it->receiver) == 0 &&
                       strcmp(o->v[k]->integration, it->integration) == 0;
            if (busy || now_ms < s->last_attempt_ms + s->spacing_ms)
                continue;
            s->last_attempt_ms = now_ms;
        }
        it->in_flight = true;
        it->attempts++;
        return it;
    }
    return NULL;
}

static uint64_t next_random(struct outbox *o)
{
    if (o->hooks.random)
        return o->hooks.random(o->hooks.ud);
    o->rng ^= o->rng << 13;
    o->rng ^= o->rng >> 7;
    o->rng ^= o->rng << 17;
    return o->rng;
}

enum outbox_outcome outbox_result(struct outbox *o, struct outbox_item *item, int status,
                                  int64_t retry_after_ms, const char *error, int64_t now_ms)
{
    size_t i = 0;
    while (i < o->n && o->v[i] != item)
        i++;
    if (i == o->n)
        return OUTBOX_DROPPED; /* not ours (already expired) */
    item->in_flight = false;
    if (status >= 200 && status < 300) {
        remove_at(o, i, true);
        return OUTBOX_DELIVERED;
    }
    if (!outbox_status_retryable(status)) {
        remove_at(o, i, true);
        return OUTBOX_DROPPED;
    }
    free(item->last_error);
    item->last_error = error ? strdup(error) : NULL;
    int64_t delay;
    if (retry_after_ms >= 0 && (status == 429 || status == 503)) {
        delay =
            retry_after_ms < OUTBOX_MAX_RETRY_AFTER_MS ? retry_after_ms : OUTBOX_MAX_RETRY_AFTER_MS;
    } else {
        int shift = item->attempts < 20 ? item->attempts - 1 : 19;
        int64_t ceiling = (int64_t)OUTBOX_BACKOFF_BASE_MS << (shift > 0 ? shift : 0);
        if (ceiling > OUTBOX_BACKOFF_CAP_MS)
            ceiling = OUTBOX_BACKOFF_CAP_MS;
        delay = (int64_t)(next_random(o) % (uint64_t)(ceiling + 1)); /* full jitter */
    }
    item->next_attempt_ms = now_ms + delay;
    return OUTBOX_RETRY;
}

size_t outbox_expire(struct outbox *o, int64_t now_ms,
                     void (*dropped)(void *ud, const struct outbox_item *it), void *ud)
{
    size_t n = 0;
    for (size_t i = o->n; i-- > 0;) {
        struct outbox_item *it = o->v[i];
        if (it->in_flight || now_ms - it->created_ms < o->max_age_ms)
            continue;
        if (dropped)
            dropped(ud, it);
        remove_at(o, i, true);
        n++;
    }
    return n;
}

int64_t outbox_next_due_ms(const struct outbox *o)
{
    int64_t next = INT64_MAX;
    for (size_t i = 0; i < o->n; i++)
        if (!o->v[i]->in_flight && o->v[i]->next_attempt_ms < next)
            next = o->v[i]->next_attempt_ms;
    return next;
}
