/*
 * creds_chain.c — the provider chain: try each provider in order, the first that answers wins.
 * The chain caches nothing (wrap it in creds_cache_new for that). When every provider fails, the
 * error lists what each one said, so "no credentials" always comes with its reasons; each
 * attempt is also logged at debug level (that is what `lagwatch aws whoami --debug` shows).
 */
#include <stdlib.h>
#include <string.h>

#include "lagwatch/private/creds_impl.h"

struct chain {
    struct creds_provider **v;
    size_t n;
};

static int chain_get(struct creds_provider *p, int64_t now_unix_s, struct creds *out,
                     struct lw_err *err)
{
    struct chain *c = p->impl;
    struct lw_buf why;
    lw_buf_init(&why, LW_ERR_MSG_MAX);
    for (size_t i = 0; i < c->n; i++) {
        struct lw_err e = {0};
        if (creds_provider_get(c->v[i], now_unix_s, out, &e) == 0) {
            creds_log(&p->opts, CREDS_LOG_DEBUG, "credential provider answered",
                      creds_provider_name(c->v[i]), NULL);
            lw_buf_cleanup(&why);
            return 0;
        }
        creds_log(&p->opts, CREDS_LOG_DEBUG, "credential provider passed",
                  creds_provider_name(c->v[i]), e.msg);
        if (why.len)
            (void)lw_buf_adds(&why, "; ");
        (void)lw_buf_adds(&why, e.msg);
    }
    lw_err_set(err, 0, 0, "no AWS credentials found: %s", c->n ? lw_buf_str(&why) : "no providers");
    lw_buf_cleanup(&why);
    return -1;
}

static void chain_invalidate(struct creds_provider *p)
{
    struct chain *c = p->impl;
    for (size_t i = 0; i < c->n; i++)
        creds_provider_invalidate(c->v[i]);
}

static void chain_destroy(void *impl)
{
    struct chain *c = impl;
    if (c == NULL)
        return;
    for (size_t i = 0; i < c->n; i++)
        creds_provider_free(c->v[i]);
    free(c->v);
    free(c);
}

static const struct creds_provider_vtable chain_vt = {"chain", chain_get, chain_invalidate,
                                                      chain_destroy};

struct creds_provider *creds_chain_new(struct creds_provider **providers, size_t n,
                                       const struct creds_options *opts)
{
    struct chain *c = calloc(1, sizeof *c);
    if (c)
        c->v = calloc(n ? n : 1, sizeof *c->v);
    if (c == NULL || c->v == NULL) {
        for (size_t i = 0; i < n; i++)
            creds_provider_free(providers[i]);
        chain_destroy(c);
        return NULL;
    }
    int missing = 0;
    for (size_t i = 0; i < n; i++) {
        if (providers[i] == NULL)
            missing = 1;
        c->v[i] = providers[i];
    }
    c->n = n;
    if (missing) { /* a constructor failed (out of memory): refuse the whole chain */
        chain_destroy(c);
        return NULL;
    }
    return creds_provider_alloc(&chain_vt, opts, c);
}
