/*
 * creds_cache.c — the refreshing cache in front of a provider (usually the chain). It hands out
 * copies of the current credentials and asks the inner provider again ahead of expiry:
 *   - more than LW_CREDS_ADVISORY_REFRESH_S (15 min) left: no refresh;
 *   - between that and LW_CREDS_MANDATORY_REFRESH_S (10 min): an advisory refresh — if it fails
 *     the current credentials are returned with a warning;
 *   - fewer than 10 min left: a mandatory refresh — if it fails while the current credentials
 *     are still valid they are returned with a warning (EC2 and ECS endpoints do blip), once
 *     they have expired the failure is the caller's error.
 * After any refresh attempt the next one waits LW_CREDS_REFRESH_RETRY_S, so a blipping endpoint
 * is not hammered by every signed request. One refresh runs at a time: a second caller either
 * gets the current credentials (when still valid) or waits for the running refresh.
 * invalidate() (after AWS answered ExpiredToken) drops the current credentials altogether.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "lagwatch/limits.h"
#include "lagwatch/private/creds_impl.h"

struct cache {
    struct creds_provider *inner;
    pthread_mutex_t mu;         /* guards everything below */
    pthread_mutex_t refresh_mu; /* held for the duration of one inner get */
    struct creds cur;
    int have;
    int64_t next_attempt_s; /* no refresh before this (0 = any time) */
};

/* With c->mu held: whether the current credentials can be handed out without a refresh. */
static int fresh_enough(const struct cache *c, int64_t now)
{
    if (!c->have)
        return 0;
    if (c->cur.expires_unix_s == 0)
        return 1;
    int64_t left = c->cur.expires_unix_s - now;
    if (left > LW_CREDS_ADVISORY_REFRESH_S)
        return 1;
    return left > 0 && now < c->next_attempt_s; /* refreshed or tried a moment ago */
}

static int still_valid(const struct cache *c, int64_t now)
{
    return c->have && (c->cur.expires_unix_s == 0 || c->cur.expires_unix_s > now);
}

static int hand_out(struct cache *c, struct creds *out, struct lw_err *err)
{
    if (creds_copy(out, &c->cur) != 0)
        return lw_err_set(err, 0, 0, "credential cache: out of memory");
    return 0;
}

static int cache_get(struct creds_provider *p, int64_t now, struct creds *out, struct lw_err *err)
{
    struct cache *c = p->impl;
    int rc;
    pthread_mutex_lock(&c->mu);
    if (fresh_enough(c, now)) {
        rc = hand_out(c, out, err);
        pthread_mutex_unlock(&c->mu);
        return rc;
    }
    if (pthread_mutex_trylock(&c->refresh_mu) != 0) {
        /* Someone else is refreshing: use what we have if it is still good, else wait. */
        if (still_valid(c, now)) {
            rc = hand_out(c, out, err);
            pthread_mutex_unlock(&c->mu);
            return rc;
        }
        pthread_mutex_unlock(&c->mu);
        pthread_mutex_lock(&c->refresh_mu);
        pthread_mutex_lock(&c->mu);
        if (fresh_enough(c, now)) { /* the refresh we waited for succeeded */
            rc = hand_out(c, out, err);
            pthread_mutex_unlock(&c->mu);
            pthread_mutex_unlock(&c->refresh_mu);
            return rc;
        }
    }
    int mandatory = !c->have || c->cur.expires_unix_s - now <= LW_CREDS_MANDATORY_REFRESH_S;
    pthread_mutex_unlock(&c->mu);

    struct creds fresh = {0};
    struct lw_err e = {0};
    int got = creds_provider_get(c->inner, now, &fresh, &e);

    pthread_mutex_lock(&c->mu);
    c->next_attempt_s = now + LW_CREDS_REFRESH_RETRY_S;
    if (got == 0) {
        char exp[32] = "never";
        if (fresh.expires_unix_s)
            creds_format_iso8601(fresh.expires_unix_s, exp, sizeof exp);
        creds_log(&p->opts, CREDS_LOG_INFO, "AWS credentials refreshed", fresh.provider, exp);
        creds_cleanup(&c->cur);
        c->cur = fresh;
        c->have = 1;
        rc = hand_out(c, out, err);
    } else if (still_valid(c, now)) {
        creds_log(&p->opts, CREDS_LOG_WARN,
                  mandatory ? "mandatory AWS credential refresh failed; using the current "
                              "credentials until they expire"
                            : "advisory AWS credential refresh failed; using the current "
                              "credentials",
                  c->cur.provider, e.msg);
        rc = hand_out(c, out, err);
    } else {
        if (c->have)
            creds_log(&p->opts, CREDS_LOG_WARN, "AWS credentials expired and refresh failed",
                      c->cur.provider, e.msg);
        creds_cleanup(&c->cur);
        c->have = 0;
        *err = e;
        rc = -1;
    }
    pthread_mutex_unlock(&c->mu);
    pthread_mutex_unlock(&c->refresh_mu);
    return rc;
}

static void cache_invalidate(struct creds_provider *p)
{
    struct cache *c = p->impl;
    pthread_mutex_lock(&c->mu);
    creds_cleanup(&c->cur);
    c->have = 0;
    c->next_attempt_s = 0;
    pthread_mutex_unlock(&c->mu);
    creds_provider_invalidate(c->inner);
}

static void cache_destroy(void *impl)
{
    struct cache *c = impl;
    if (c == NULL)
        return;
    creds_provider_free(c->inner);
    creds_cleanup(&c->cur);
    pthread_mutex_destroy(&c->mu);
    pthread_mutex_destroy(&c->refresh_mu);
    free(c);
}

static const struct creds_provider_vtable cache_vt = {"cache", cache_get, cache_invalidate,
                                                      cache_destroy};

struct creds_provider *creds_cache_new(struct creds_provider *inner,
                                       const struct creds_options *opts)
{
    if (inner == NULL)
        return NULL;
    struct cache *c = calloc(1, sizeof *c);
    if (c == NULL) {
        creds_provider_free(inner);
        return NULL;
    }
    c->inner = inner;
    pthread_mutex_init(&c->mu, NULL);
    pthread_mutex_init(&c->refresh_mu, NULL);
    return creds_provider_alloc(&cache_vt, opts, c);
}
