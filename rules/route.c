/*
 * route.c — the routing tree (see route.h). Building a route resolves inheritance once, so
 * matching is a plain walk. Keys are computed at build time with Alertmanager's formatting.
 */
#include "lagwatch/route.h"

#include <stdlib.h>
#include <string.h>

#include "lagwatch/amatcher.h"
#include "lagwatch/buf.h"

static void free_strv(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

static char **dup_strv(const char *const *v, size_t n)
{
    if (n == 0)
        return NULL;
    char **d = calloc(n, sizeof(*d));
    if (!d)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        d[i] = strdup(v[i]);
        if (!d[i]) {
            free_strv(d, i);
            return NULL;
        }
    }
    return d;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Alertmanager's Matchers.Less: name, then value, then operator. */
static int cmp_matcher(const void *a, const void *b)
{
    const struct lw_matcher *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    if (c != 0)
        return c;
    c = strcmp(x->value, y->value);
    if (c != 0)
        return c;
    return (int)x->op - (int)y->op;
}

void route_free(struct route *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n_routes; i++)
        route_free(r->routes[i]);
    free(r->routes);
    free(r->receiver);
    free_strv(r->group_by, r->n_group_by);
    amatcher_free_list(r->matchers, r->n_matchers);
    free_strv(r->mute_time_intervals, r->n_mute);
    free_strv(r->active_time_intervals, r->n_active);
    free(r->key);
    free(r->id);
    free(r);
}

static int build_matchers(struct route *r, const struct route_spec *s, struct lw_err *err)
{
    size_t total = s->n_matchers + s->n_match_eq + s->n_match_re;
    if (total == 0)
        return 0;
    r->matchers = calloc(total, sizeof(*r->matchers));
    if (!r->matchers)
        return lw_err_set(err, 0, 0, "out of memory");
    for (size_t i = 0; i < s->n_match_eq; i++) {
        if (lw_matcher_init(&r->matchers[r->n_matchers], LW_MATCH_EQ, s->match_eq[2 * i],
                            s->match_eq[2 * i + 1], err) != 0)
            return -1;
        r->n_matchers++;
    }
    for (size_t i = 0; i < s->n_match_re; i++) {
        if (lw_matcher_init(&r->matchers[r->n_matchers], LW_MATCH_RE, s->match_re[2 * i],
                            s->match_re[2 * i + 1], err) != 0)
            return -1;
        r->n_matchers++;
    }
    for (size_t i = 0; i < s->n_matchers; i++) {
        struct lw_err merr = {0};
        if (amatcher_parse(s->matchers[i], strlen(s->matchers[i]), &r->matchers[r->n_matchers],
                           &merr) != 0)
            return lw_err_set(err, 0, merr.col, "matcher \"%s\": %s", s->matchers[i], merr.msg);
        r->n_matchers++;
    }
    qsort(r->matchers, r->n_matchers, sizeof(*r->matchers), cmp_matcher);
    return 0;
}

static int build_keys(struct route *r, size_t index, struct lw_err *err)
{
    struct lw_buf key, id;
    lw_buf_init(&key, 1u << 20);
    lw_buf_init(&id, 1u << 20);
    if (r->parent) {
        lw_buf_adds(&key, r->parent->key);
        lw_buf_addc(&key, '/');
        lw_buf_adds(&id, r->parent->id);
        lw_buf_addc(&id, '/');
    }
    amatcher_format_list(r->matchers, r->n_matchers, &key);
    amatcher_format_list(r->matchers, r->n_matchers, &id);
    if (r->parent)
        lw_buf_addf(&id, "/%zu", index);
    if (lw_buf_failed(&key) || lw_buf_failed(&id)) {
        lw_buf_cleanup(&key);
        lw_buf_cleanup(&id);
        return lw_err_set(err, 0, 0, "route key too long");
    }
    r->key = lw_buf_take(&key);
    r->id = lw_buf_take(&id);
    return 0;
}

int route_add(struct route *parent, const struct route_spec *s, struct route **out,
              struct lw_err *err)
{
    if (!parent) {
        if (!s->receiver || !*s->receiver)
            return lw_err_set(err, 0, 0, "the root route must name a receiver");
        if (s->n_matchers || s->n_match_eq || s->n_match_re)
            return lw_err_set(err, 0, 0, "the root route must not have matchers");
        if (s->cont)
            return lw_err_set(err, 0, 0, "the root route must not have 'continue'");
    }
    struct route *r = calloc(1, sizeof(*r));
    if (!r)
        return lw_err_set(err, 0, 0, "out of memory");
    r->parent = parent;
    r->cont = s->cont;
    const char *recv = s->receiver && *s->receiver ? s->receiver : parent->receiver;
    r->receiver = strdup(recv);
    if (s->group_by_set || !parent) {
        for (size_t i = 0; i < s->n_group_by; i++)
            if (strcmp(s->group_by[i], "...") == 0)
                r->group_by_all = true;
        if (!r->group_by_all) {
            r->group_by = dup_strv(s->group_by, s->n_group_by);
            r->n_group_by = r->group_by ? s->n_group_by : 0;
        }
    } else {
        r->group_by_all = parent->group_by_all;
        r->group_by = dup_strv((const char *const *)parent->group_by, parent->n_group_by);
        r->n_group_by = r->group_by ? parent->n_group_by : 0;
    }
    if (r->group_by)
        qsort(r->group_by, r->n_group_by, sizeof(char *), cmp_str);
    r->group_wait_ms = s->group_wait_ms >= 0 ? s->group_wait_ms
                       : parent              ? parent->group_wait_ms
                                             : ROUTE_DEFAULT_GROUP_WAIT_MS;
    r->group_interval_ms = s->group_interval_ms >= 0 ? s->group_interval_ms
                           : parent                  ? parent->group_interval_ms
                                                     : ROUTE_DEFAULT_GROUP_INTERVAL_MS;
    r->repeat_interval_ms = s->repeat_interval_ms >= 0 ? s->repeat_interval_ms
                            : parent                   ? parent->repeat_interval_ms
                                                       : ROUTE_DEFAULT_REPEAT_INTERVAL_MS;
    r->mute_time_intervals = dup_strv(s->mute_time_intervals, s->n_mute);
    r->n_mute = r->mute_time_intervals ? s->n_mute : 0;
    r->active_time_intervals = dup_strv(s->active_time_intervals, s->n_active);
    r->n_active = r->active_time_intervals ? s->n_active : 0;
    if (!r->receiver || (s->group_by_set && s->n_group_by && !r->group_by && !r->group_by_all) ||
        r->n_mute != s->n_mute || r->n_active != s->n_active) {
        route_free(r);
        return lw_err_set(err, 0, 0, "out of memory");
    }
    size_t index = parent ? parent->n_routes : 0;
    if (build_matchers(r, s, err) != 0 || build_keys(r, index, err) != 0) {
        route_free(r);
        return -1;
    }
    if (parent) {
        struct route **nr = realloc(parent->routes, (parent->n_routes + 1) * sizeof(*nr));
        if (!nr) {
            route_free(r);
            return lw_err_set(err, 0, 0, "out of memory");
        }
        parent->routes = nr;
        parent->routes[parent->n_routes++] = r;
    }
    *out = r;
    return 0;
}

static size_t match_into(const struct route *r, const struct lw_labels *ls,
                         const struct route **out, size_t max, size_t have)
{
    if (!lw_matchers_match(r->matchers, r->n_matchers, ls))
        return have;
    size_t start = have;
    for (size_t i = 0; i < r->n_routes; i++) {
        size_t before = have;
        have = match_into(r->routes[i], ls, out, max, have);
        if (have > before && !r->routes[i]->cont)
            break;
    }
    if (have == start) {
        if (have < max)
            out[have] = r;
        have++;
    }
    return have;
}

size_t route_match(const struct route *root, const struct lw_labels *ls, const struct route **out,
                   size_t max)
{
    return match_into(root, ls, out, max, 0);
}

int route_group_labels(const struct route *r, const struct lw_labels *alert, struct lw_labels *out)
{
    if (r->group_by_all)
        return lw_labels_copy(out, alert);
    lw_labels_init(out);
    for (size_t i = 0; i < r->n_group_by; i++) {
        const char *v = lw_labels_get(alert, r->group_by[i]);
        if (v && lw_labels_set(out, r->group_by[i], v) != 0) {
            lw_labels_cleanup(out);
            return -1;
        }
    }
    return 0;
}

char *route_group_key(const struct route *r, const struct lw_labels *group_labels)
{
    struct lw_buf b;
    lw_buf_init(&b, 1u << 20);
    lw_buf_adds(&b, r->key);
    lw_buf_addc(&b, ':');
    lw_labels_format(group_labels, &b);
    if (lw_buf_failed(&b)) {
        lw_buf_cleanup(&b);
        return NULL;
    }
    return lw_buf_take(&b);
}
