/*
 * source_store.c — the store-backed sink with per-scope staleness (see source_store.h). Each
 * scope keeps two label-set lists: the series of its last finished fetch and those of the fetch
 * under way. At end the previous list is sorted by fingerprint and each of its series is looked
 * up in the (sorted) current one; what is missing gets a stale marker. Scopes are few (targets
 * and connectors), so they are kept in an array searched by name.
 */
#include "lagwatch/source_store.h"

#include <stdlib.h>
#include <string.h>

struct seen {
    uint64_t fp;
    struct lw_labels ls;
};

struct seen_list {
    struct seen *v;
    size_t n, cap;
};

struct source_store_scope {
    char *name;
    struct seen_list prev, cur;
    bool open; /* between begin and end */
};

static void list_clear(struct seen_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        lw_labels_cleanup(&l->v[i].ls);
    l->n = 0;
}

static void list_free(struct seen_list *l)
{
    list_clear(l);
    free(l->v);
    l->v = NULL;
    l->cap = 0;
}

static int list_add(struct seen_list *l, const struct lw_labels *ls)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 32;
        struct seen *nv = realloc(l->v, cap * sizeof *nv);
        if (!nv)
            return -1;
        l->v = nv;
        l->cap = cap;
    }
    if (lw_labels_copy(&l->v[l->n].ls, ls) != 0)
        return -1;
    l->v[l->n].fp = lw_labels_fingerprint(ls);
    l->n++;
    return 0;
}

static int seen_cmp(const void *a, const void *b)
{
    const struct seen *x = a, *y = b;
    if (x->fp != y->fp)
        return x->fp < y->fp ? -1 : 1;
    return lw_labels_cmp(&x->ls, &y->ls);
}

void source_store_sink_init(struct source_store_sink *ss, struct store *store)
{
    memset(ss, 0, sizeof *ss);
    ss->store = store;
}

void source_store_sink_cleanup(struct source_store_sink *ss)
{
    for (size_t i = 0; i < ss->n_scopes; i++) {
        free(ss->scopes[i].name);
        list_free(&ss->scopes[i].prev);
        list_free(&ss->scopes[i].cur);
    }
    free(ss->scopes);
    ss->scopes = NULL;
    ss->n_scopes = ss->cap_scopes = 0;
}

static struct source_store_scope *scope_get(struct source_store_sink *ss, const char *name)
{
    for (size_t i = 0; i < ss->n_scopes; i++)
        if (strcmp(ss->scopes[i].name, name) == 0)
            return &ss->scopes[i];
    if (ss->n_scopes == ss->cap_scopes) {
        size_t cap = ss->cap_scopes ? ss->cap_scopes * 2 : 8;
        struct source_store_scope *nv = realloc(ss->scopes, cap * sizeof *nv);
        if (!nv)
            return NULL;
        ss->scopes = nv;
        ss->cap_scopes = cap;
    }
    struct source_store_scope *sc = &ss->scopes[ss->n_scopes];
    memset(sc, 0, sizeof *sc);
    sc->name = strdup(name);
    if (!sc->name)
        return NULL;
    ss->n_scopes++;
    return sc;
}

/* The scope an append belongs to: the one open (sources run one fetch per scope at a time, and
 * appends of one fetch come between its begin and end without interleaving on this thread). */
static struct source_store_scope *open_scope(struct source_store_sink *ss)
{
    for (size_t i = ss->n_scopes; i-- > 0;)
        if (ss->scopes[i].open)
            return &ss->scopes[i];
    return NULL;
}

static void sink_begin(void *ud, const char *scope, int64_t t_ms)
{
    (void)t_ms;
    struct source_store_sink *ss = ud;
    struct source_store_scope *sc = scope_get(ss, scope);
    if (!sc)
        return; /* out of memory: appends go to the store without staleness tracking */
    list_clear(&sc->cur);
    sc->open = true;
}

static int sink_append(void *ud, const struct lw_labels *ls, int64_t t_ms, double v,
                       struct lw_err *err)
{
    struct source_store_sink *ss = ud;
    int rc = store_append(ss->store, ls, t_ms, v, err);
    if (rc == STORE_ERR_OUT_OF_ORDER || rc == STORE_ERR_DUPLICATE) {
        ss->refused++;
        rc = 0;
    }
    if (rc != 0)
        return -1;
    struct source_store_scope *sc = open_scope(ss);
    if (sc && list_add(&sc->cur, ls) != 0)
        return lw_err_set(err, 0, 0, "out of memory");
    return 0;
}

static void sink_end(void *ud, const char *scope, bool ok, int64_t t_ms)
{
    (void)ok; /* a failed fetch appended only its health series: the rest goes stale either way */
    struct source_store_sink *ss = ud;
    struct source_store_scope *sc = NULL;
    for (size_t i = 0; i < ss->n_scopes; i++)
        if (strcmp(ss->scopes[i].name, scope) == 0)
            sc = &ss->scopes[i];
    if (!sc)
        return;
    sc->open = false;
    if (sc->cur.n > 1) /* an empty list has no array: qsort(NULL, 0) is undefined */
        qsort(sc->cur.v, sc->cur.n, sizeof *sc->cur.v, seen_cmp);
    for (size_t i = 0; i < sc->prev.n; i++) {
        struct seen *p = &sc->prev.v[i];
        if (sc->cur.n && bsearch(p, sc->cur.v, sc->cur.n, sizeof *sc->cur.v, seen_cmp))
            continue;
        struct lw_err err;
        if (store_append(ss->store, &p->ls, t_ms, store_stale_nan(), &err) == 0)
            ss->stale_marked++;
    }
    struct seen_list tmp = sc->prev;
    sc->prev = sc->cur;
    sc->cur = tmp;
    list_clear(&sc->cur);
}

struct source_sink source_store_sink(struct source_store_sink *ss)
{
    struct source_sink s = {ss, sink_begin, sink_append, sink_end};
    return s;
}
