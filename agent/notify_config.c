/*
 * notify_config.c — Alertmanager-shaped config sections into route, receivers, inhibit rules and
 * time intervals (see notify_config.h). Keys and defaults follow Alertmanager's documentation;
 * keys Alertmanager has and lagwatch does not implement are refused by name, never ignored.
 */
#include "lagwatch/notify.h"
#include "lagwatch/notify_config.h"

#include <errno.h>
#include <stdarg.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lagwatch/limits.h"
#include "lagwatch/notify_template.h"

#define MAX_LIST 256

struct ctx {
    const struct yamldoc *d;
    const char *base_dir;
    struct lw_err *err;
};

static int bad(struct ctx *c, const struct yamldoc_node *at, const char *fmt, ...) LW_PRINTF(3, 4);
static int bad(struct ctx *c, const struct yamldoc_node *at, const char *fmt, ...)
{
    char msg[LW_ERR_MSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return yamldoc_error(c->err, c->d, at, "%s", msg);
}

static int get_str(struct ctx *c, const struct yamldoc_node *map, const char *key, char **out)
{
    const struct yamldoc_node *n = yamldoc_map_get(map, key);
    *out = NULL;
    if (!n || yamldoc_is_null(n))
        return 0;
    const char *s;
    if (yamldoc_get_string(n, &s, c->d, c->err) != 0)
        return -1;
    *out = strdup(s);
    return *out ? 0 : bad(c, n, "out of memory");
}

/* A receiver template under key: kept as written in *text and parsed into *t, with a parse error
 * reported at its place in the file (exact for one-line scalars; multi-line ones name the
 * template's own line and column). */
static int get_tmpl(struct ctx *c, const struct yamldoc_node *map, const char *key,
                    const char *what, size_t idx, char **text, struct tmpl **t)
{
    *t = NULL;
    if (get_str(c, map, key, text) != 0)
        return -1;
    if (!*text)
        return 0;
    const struct yamldoc_node *n = yamldoc_map_get(map, key);
    char name[96];
    snprintf(name, sizeof(name), "%s[%zu].%s", what, idx, key);
    struct lw_err terr = {0};
    if (notify_template_parse(name, *text, t, &terr) == 0)
        return 0;
    if (n->single_line && terr.line == 1 && terr.col > 0) {
        struct yamldoc_node at = *n;
        at.col = n->col + (n->plain ? 0 : 1) + terr.col - 1;
        return yamldoc_error(c->err, c->d, &at, "%s: template: %s", key, terr.msg);
    }
    return bad(c, n, "%s: template line %d, column %d: %s", key, terr.line, terr.col, terr.msg);
}

static int get_bool(struct ctx *c, const struct yamldoc_node *map, const char *key, bool dflt,
                    bool *out)
{
    const struct yamldoc_node *n = yamldoc_map_get(map, key);
    *out = dflt;
    if (!n || yamldoc_is_null(n))
        return 0;
    return yamldoc_get_bool(n, out, c->d, c->err);
}

static int get_dur(struct ctx *c, const struct yamldoc_node *map, const char *key, int64_t *out)
{
    const struct yamldoc_node *n = yamldoc_map_get(map, key);
    *out = -1;
    if (!n || yamldoc_is_null(n))
        return 0;
    return yamldoc_get_duration_ms(n, out, c->d, c->err);
}

/* A list of strings (a single string is refused: Alertmanager wants lists). */
/* An integration's `min_interval` (its rate limit; dflt when absent), a duration. */
static int get_interval(struct ctx *c, const struct yamldoc_node *map, int64_t dflt, int64_t *out)
{
    int64_t v = -1;
    if (get_dur(c, map, "min_interval", &v) != 0)
        return -1;
    *out = v < 0 ? dflt : v; /* absent: get_dur leaves -1 */
    return 0;
}

static int get_strv(struct ctx *c, const struct yamldoc_node *map, const char *key,
                    const char **out, size_t *n, bool *present)
{
    const struct yamldoc_node *v = yamldoc_map_get(map, key);
    *n = 0;
    if (present)
        *present = v && !yamldoc_is_null(v);
    if (!v || yamldoc_is_null(v))
        return 0;
    if (v->kind != YAMLDOC_SEQ)
        return bad(c, v, "'%s' must be a list", key);
    if (v->n > MAX_LIST)
        return bad(c, v, "'%s' has too many entries", key);
    for (size_t i = 0; i < v->n; i++)
        if (yamldoc_get_string(v->items[i], &out[(*n)++], c->d, c->err) != 0)
            return -1;
    return 0;
}

/* Read a secret from a file: whole content, one trailing newline dropped. */
static int read_secret(struct ctx *c, const struct yamldoc_node *at, const char *path, char **out)
{
    char full[4096];
    if (path[0] == '/' || !c->base_dir || !*c->base_dir)
        snprintf(full, sizeof(full), "%s", path);
    else
        snprintf(full, sizeof(full), "%s/%s", c->base_dir, path);
    FILE *f = fopen(full, "rb");
    if (!f) {
        char msg[4200];
        snprintf(msg, sizeof(msg), "cannot read %s: %s", full, strerror(errno));
        return bad(c, at, "%s", msg);
    }
    char buf[LW_MAX_SECRET_BYTES + 1];
    size_t n = fread(buf, 1, sizeof(buf), f);
    fclose(f);
    if (n > LW_MAX_SECRET_BYTES) {
        OPENSSL_cleanse(buf, sizeof(buf));
        return bad(c, at, "secret file %s is too large", path);
    }
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        n--;
    buf[n] = '\0';
    if (n == 0)
        return bad(c, at, "secret file %s is empty", path);
    *out = strdup(buf);
    OPENSSL_cleanse(buf, sizeof(buf));
    return *out ? 0 : bad(c, at, "out of memory");
}

/* key or key_file (exactly one when required). */
static int get_secret(struct ctx *c, const struct yamldoc_node *map, const char *key, bool required,
                      char **out)
{
    char file_key[64];
    snprintf(file_key, sizeof(file_key), "%s_file", key);
    const struct yamldoc_node *direct = yamldoc_map_get(map, key);
    const struct yamldoc_node *file = yamldoc_map_get(map, file_key);
    *out = NULL;
    if (direct && file)
        return bad(c, file, "give either %s or its _file form, not both", key);
    if (file) {
        const char *path;
        if (yamldoc_get_string(file, &path, c->d, c->err) != 0)
            return -1;
        return read_secret(c, file, path, out);
    }
    if (direct) {
        const char *s;
        if (yamldoc_get_string(direct, &s, c->d, c->err) != 0)
            return -1;
        if (!*s)
            return bad(c, direct, "'%s' is empty (unset environment variable?)", key);
        *out = strdup(s);
        return *out ? 0 : -1;
    }
    if (required)
        return bad(c, map, "missing '%s' (or %s_file)", key, key);
    return 0;
}

static int decode_route(struct ctx *c, const struct yamldoc_node *n, struct route *parent,
                        struct route **out, int depth)
{
    static const char *const keys[] = {"receiver",
                                       "group_by",
                                       "group_wait",
                                       "group_interval",
                                       "repeat_interval",
                                       "matchers",
                                       "match",
                                       "match_re",
                                       "continue",
                                       "routes",
                                       "mute_time_intervals",
                                       "active_time_intervals",
                                       NULL};
    if (depth > 32)
        return bad(c, n, "routes nested too deeply");
    if (yamldoc_check_keys(c->d, n, keys, c->err) != 0)
        return -1;
    const char *group_by[MAX_LIST], *matchers[MAX_LIST], *mute[MAX_LIST], *active[MAX_LIST];
    const char *eq[2 * MAX_LIST], *re[2 * MAX_LIST];
    struct route_spec s = {0};
    const struct yamldoc_node *recv = yamldoc_map_get(n, "receiver");
    if (recv && yamldoc_get_string(recv, &s.receiver, c->d, c->err) != 0)
        return -1;
    if (get_strv(c, n, "group_by", group_by, &s.n_group_by, &s.group_by_set) != 0 ||
        get_strv(c, n, "matchers", matchers, &s.n_matchers, NULL) != 0 ||
        get_strv(c, n, "mute_time_intervals", mute, &s.n_mute, NULL) != 0 ||
        get_strv(c, n, "active_time_intervals", active, &s.n_active, NULL) != 0 ||
        get_dur(c, n, "group_wait", &s.group_wait_ms) != 0 ||
        get_dur(c, n, "group_interval", &s.group_interval_ms) != 0 ||
        get_dur(c, n, "repeat_interval", &s.repeat_interval_ms) != 0 ||
        get_bool(c, n, "continue", false, &s.cont) != 0)
        return -1;
    if (s.group_interval_ms == 0 || s.repeat_interval_ms == 0)
        return bad(c, n, "group_interval and repeat_interval must be positive");
    s.group_by = group_by;
    s.matchers = matchers;
    s.mute_time_intervals = mute;
    s.active_time_intervals = active;
    const char *which[2] = {"match", "match_re"};
    const char **dst[2] = {eq, re};
    size_t *cnt[2] = {&s.n_match_eq, &s.n_match_re};
    for (int w = 0; w < 2; w++) {
        const struct yamldoc_node *m = yamldoc_map_get(n, which[w]);
        if (!m || yamldoc_is_null(m))
            continue;
        if (m->kind != YAMLDOC_MAP || yamldoc_map_size(m) > MAX_LIST)
            return bad(c, m, "'%s' must be a mapping of label names to values", which[w]);
        for (size_t i = 0; i < yamldoc_map_size(m); i++) {
            if (yamldoc_get_string(yamldoc_map_key(m, i), &dst[w][2 * i], c->d, c->err) != 0 ||
                yamldoc_get_string(yamldoc_map_value(m, i), &dst[w][2 * i + 1], c->d, c->err) != 0)
                return -1;
            (*cnt[w])++;
        }
    }
    s.match_eq = eq;
    s.match_re = re;
    struct lw_err rerr = {0};
    struct route *r;
    if (route_add(parent, &s, &r, &rerr) != 0) {
        const struct yamldoc_node *at = yamldoc_map_get(n, "matchers");
        return bad(c, at ? at : n, "%s", rerr.msg);
    }
    if (!parent)
        *out = r;
    const struct yamldoc_node *kids = yamldoc_map_get(n, "routes");
    if (kids && !yamldoc_is_null(kids)) {
        if (kids->kind != YAMLDOC_SEQ)
            return bad(c, kids, "'routes' must be a list");
        for (size_t i = 0; i < kids->n; i++) {
            struct route *child;
            if (decode_route(c, kids->items[i], r, &child, depth + 1) != 0)
                return -1;
        }
    }
    return 0;
}

static int decode_receiver(struct ctx *c, const struct yamldoc_node *n, struct receiver_config *r)
{
    static const char *const keys[] = {
        "name", "slack_configs", "pagerduty_configs", "webhook_configs", "alertmanager_configs",
        NULL};
    if (yamldoc_check_keys(c->d, n, keys, c->err) != 0 || get_str(c, n, "name", &r->name) != 0)
        return -1;
    if (!r->name || !*r->name)
        return bad(c, n, "a receiver needs a name");
    const struct yamldoc_node *v;
    if ((v = yamldoc_map_get(n, "slack_configs")) && !yamldoc_is_null(v)) {
        static const char *const sk[] = {"api_url",  "api_url_file",  "channel",
                                         "username", "send_resolved", "title",
                                         "text",     "min_interval",  NULL};
        if (v->kind != YAMLDOC_SEQ)
            return bad(c, v, "'slack_configs' must be a list");
        r->slack = calloc(v->n + 1, sizeof(*r->slack));
        if (!r->slack)
            return -1;
        for (size_t i = 0; i < v->n; i++, r->n_slack++) {
            struct slack_config *s = &r->slack[i];
            const struct yamldoc_node *it = v->items[i];
            if (yamldoc_check_keys(c->d, it, sk, c->err) != 0 ||
                get_secret(c, it, "api_url", true, &s->api_url) != 0 ||
                get_str(c, it, "channel", &s->channel) != 0 ||
                get_str(c, it, "username", &s->username) != 0 ||
                get_bool(c, it, "send_resolved", true, &s->send_resolved) != 0 ||
                get_interval(c, it, NOTIFY_SLACK_SPACING_MS, &s->min_interval_ms) != 0 ||
                get_tmpl(c, it, "title", "slack_configs", i, &s->title, &s->title_tmpl) != 0 ||
                get_tmpl(c, it, "text", "slack_configs", i, &s->text, &s->text_tmpl) != 0)
                return r->n_slack++, -1;
        }
    }
    if ((v = yamldoc_map_get(n, "pagerduty_configs")) && !yamldoc_is_null(v)) {
        static const char *const pk[] = {
            "routing_key",   "routing_key_file", "url",         "client",       "client_url",
            "send_resolved", "summary",          "description", "min_interval", NULL};
        if (v->kind != YAMLDOC_SEQ)
            return bad(c, v, "'pagerduty_configs' must be a list");
        r->pagerduty = calloc(v->n + 1, sizeof(*r->pagerduty));
        if (!r->pagerduty)
            return -1;
        for (size_t i = 0; i < v->n; i++, r->n_pagerduty++) {
            struct pagerduty_config *p = &r->pagerduty[i];
            const struct yamldoc_node *it = v->items[i];
            if (yamldoc_check_keys(c->d, it, pk, c->err) != 0 ||
                get_secret(c, it, "routing_key", true, &p->routing_key) != 0 ||
                get_str(c, it, "url", &p->url) != 0 || get_str(c, it, "client", &p->client) != 0 ||
                get_str(c, it, "client_url", &p->client_url) != 0 ||
                get_bool(c, it, "send_resolved", true, &p->send_resolved) != 0 ||
                get_interval(c, it, 0, &p->min_interval_ms) != 0 ||
                get_tmpl(c, it, "summary", "pagerduty_configs", i, &p->summary, &p->summary_tmpl) !=
                    0 ||
                get_tmpl(c, it, "description", "pagerduty_configs", i, &p->description,
                         &p->description_tmpl) != 0)
                return r->n_pagerduty++, -1;
        }
    }
    if ((v = yamldoc_map_get(n, "webhook_configs")) && !yamldoc_is_null(v)) {
        static const char *const wk[] = {
            "url", "url_file", "send_resolved", "max_alerts", "http_config", "min_interval", NULL};
        static const char *const hk[] = {"bearer_token", "bearer_token_file", "basic_auth", NULL};
        static const char *const bk[] = {"username", "password", "password_file", NULL};
        if (v->kind != YAMLDOC_SEQ)
            return bad(c, v, "'webhook_configs' must be a list");
        r->webhook = calloc(v->n + 1, sizeof(*r->webhook));
        if (!r->webhook)
            return -1;
        for (size_t i = 0; i < v->n; i++, r->n_webhook++) {
            struct webhook_config *w = &r->webhook[i];
            const struct yamldoc_node *it = v->items[i];
            int64_t max = 0;
            const struct yamldoc_node *mx = yamldoc_map_get(it, "max_alerts");
            if (yamldoc_check_keys(c->d, it, wk, c->err) != 0 ||
                get_secret(c, it, "url", true, &w->url) != 0 ||
                get_bool(c, it, "send_resolved", true, &w->send_resolved) != 0 ||
                get_interval(c, it, 0, &w->min_interval_ms) != 0 ||
                (mx && yamldoc_get_int64(mx, &max, c->d, c->err) != 0))
                return r->n_webhook++, -1;
            if (max < 0)
                return r->n_webhook++, bad(c, mx, "max_alerts must not be negative");
            w->max_alerts = (size_t)max;
            const struct yamldoc_node *hc = yamldoc_map_get(it, "http_config");
            if (hc && !yamldoc_is_null(hc)) {
                if (yamldoc_check_keys(c->d, hc, hk, c->err) != 0 ||
                    get_secret(c, hc, "bearer_token", false, &w->bearer_token) != 0)
                    return r->n_webhook++, -1;
                const struct yamldoc_node *ba = yamldoc_map_get(hc, "basic_auth");
                if (ba && !yamldoc_is_null(ba) &&
                    (yamldoc_check_keys(c->d, ba, bk, c->err) != 0 ||
                     get_str(c, ba, "username", &w->basic_user) != 0 ||
                     get_secret(c, ba, "password", false, &w->basic_password) != 0))
                    return r->n_webhook++, -1;
                if (w->bearer_token && w->basic_user)
                    return r->n_webhook++,
                           bad(c, hc, "give either bearer_token or basic_auth, not both");
            }
        }
    }
    if ((v = yamldoc_map_get(n, "alertmanager_configs")) && !yamldoc_is_null(v)) {
        static const char *const ak[] = {"urls", NULL};
        if (v->kind != YAMLDOC_SEQ)
            return bad(c, v, "'alertmanager_configs' must be a list");
        r->alertmanager = calloc(v->n + 1, sizeof(*r->alertmanager));
        if (!r->alertmanager)
            return -1;
        for (size_t i = 0; i < v->n; i++, r->n_alertmanager++) {
            const struct yamldoc_node *it = v->items[i];
            const char *urls[MAX_LIST];
            size_t nu = 0;
            if (yamldoc_check_keys(c->d, it, ak, c->err) != 0 ||
                get_strv(c, it, "urls", urls, &nu, NULL) != 0)
                return -1;
            if (nu == 0)
                return bad(c, it, "alertmanager_configs needs at least one URL in 'urls'");
            struct alertmanager_config *a = &r->alertmanager[i];
            a->urls = calloc(nu, sizeof(char *));
            if (!a->urls)
                return -1;
            for (size_t u = 0; u < nu; u++, a->n_urls++)
                if (!(a->urls[u] = strdup(urls[u])))
                    return -1;
        }
    }
    return 0;
}

static int decode_interval(struct ctx *c, const struct yamldoc_node *n, struct time_interval *ti)
{
    static const char *const keys[] = {"name", "time_intervals", NULL};
    static const char *const sk[] = {"times",    "weekdays", "days_of_month", "months", "years",
                                     "location", NULL};
    if (yamldoc_check_keys(c->d, n, keys, c->err) != 0 || get_str(c, n, "name", &ti->name) != 0)
        return -1;
    if (!ti->name)
        return bad(c, n, "a time interval needs a name");
    const struct yamldoc_node *specs = yamldoc_map_get(n, "time_intervals");
    if (!specs || specs->kind != YAMLDOC_SEQ)
        return bad(c, specs ? specs : n, "'time_intervals' must be a list");
    ti->specs = calloc(specs->n + 1, sizeof(*ti->specs));
    if (!ti->specs)
        return -1;
    for (size_t i = 0; i < specs->n; i++, ti->n_specs++) {
        const struct yamldoc_node *sp = specs->items[i];
        struct time_interval_spec *s = &ti->specs[i];
        if (yamldoc_check_keys(c->d, sp, sk, c->err) != 0)
            return -1;
        const struct yamldoc_node *loc = yamldoc_map_get(sp, "location");
        if (loc && !yamldoc_scalar_is(loc, "UTC"))
            return bad(c, loc, "only location UTC is supported");
        const struct yamldoc_node *times = yamldoc_map_get(sp, "times");
        if (times && !yamldoc_is_null(times)) {
            if (times->kind != YAMLDOC_SEQ)
                return bad(c, times, "'times' must be a list");
            for (size_t k = 0; k < times->n; k++) {
                static const char *const tk[] = {"start_time", "end_time", NULL};
                char *st = NULL, *en = NULL;
                struct lw_err terr = {0};
                int rc = yamldoc_check_keys(c->d, times->items[k], tk, c->err);
                if (rc == 0)
                    rc = get_str(c, times->items[k], "start_time", &st) == 0 &&
                                 get_str(c, times->items[k], "end_time", &en) == 0
                             ? time_interval_add_time(s, st, en, &terr)
                             : -1;
                free(st);
                free(en);
                if (rc != 0)
                    return terr.msg[0] ? bad(c, times->items[k], "%s", terr.msg) : -1;
            }
        }
        static const char *const fields[] = {"weekdays", "days_of_month", "months", "years"};
        int (*add[])(struct time_interval_spec *, const char *, struct lw_err *) = {
            time_interval_add_weekdays, time_interval_add_days_of_month, time_interval_add_months,
            time_interval_add_years};
        for (size_t f = 0; f < 4; f++) {
            const char *vals[MAX_LIST];
            size_t nv = 0;
            if (get_strv(c, sp, fields[f], vals, &nv, NULL) != 0)
                return -1;
            for (size_t k = 0; k < nv; k++) {
                struct lw_err ferr = {0};
                if (add[f](s, vals[k], &ferr) != 0)
                    return bad(c, yamldoc_map_get(sp, fields[f])->items[k], "%s", ferr.msg);
            }
        }
    }
    return 0;
}

static int decode_inhibit(struct ctx *c, const struct yamldoc_node *n, struct inhibit_rule *r)
{
    static const char *const keys[] = {"source_matchers", "target_matchers", "equal", NULL};
    const char *src[MAX_LIST], *tgt[MAX_LIST], *eq[MAX_LIST];
    size_t ns = 0, nt = 0, ne = 0;
    if (yamldoc_check_keys(c->d, n, keys, c->err) != 0 ||
        get_strv(c, n, "source_matchers", src, &ns, NULL) != 0 ||
        get_strv(c, n, "target_matchers", tgt, &nt, NULL) != 0 ||
        get_strv(c, n, "equal", eq, &ne, NULL) != 0)
        return -1;
    if (ns == 0 || nt == 0)
        return bad(c, n, "an inhibit rule needs source_matchers and target_matchers");
    struct lw_err ierr = {0};
    if (inhibit_rule_init(r, src, ns, tgt, nt, eq, ne, &ierr) != 0)
        return bad(c, n, "%s", ierr.msg);
    return 0;
}

const struct time_interval *notify_config_interval(const struct notify_config *c, const char *name)
{
    for (size_t i = 0; i < c->n_intervals; i++)
        if (strcmp(c->intervals[i].name, name) == 0)
            return &c->intervals[i];
    return NULL;
}

/* Every receiver and time interval a route names must exist. */
static int check_refs(struct ctx *c, const struct notify_config *nc, const struct route *r,
                      const struct yamldoc_node *at)
{
    if (!receivers_find(&nc->receivers, r->receiver))
        return bad(c, at, "route uses receiver '%s', which is not defined in receivers",
                   r->receiver);
    for (size_t i = 0; i < r->n_mute; i++)
        if (!notify_config_interval(nc, r->mute_time_intervals[i]))
            return bad(c, at, "route uses time interval '%s', which is not defined",
                       r->mute_time_intervals[i]);
    for (size_t i = 0; i < r->n_active; i++)
        if (!notify_config_interval(nc, r->active_time_intervals[i]))
            return bad(c, at, "route uses time interval '%s', which is not defined",
                       r->active_time_intervals[i]);
    for (size_t i = 0; i < r->n_routes; i++)
        if (check_refs(c, nc, r->routes[i], at) != 0)
            return -1;
    return 0;
}

void notify_config_cleanup(struct notify_config *c)
{
    route_free(c->route);
    receivers_cleanup(&c->receivers);
    for (size_t i = 0; i < c->n_inhibit; i++)
        inhibit_rule_cleanup(&c->inhibit[i]);
    free(c->inhibit);
    for (size_t i = 0; i < c->n_intervals; i++)
        time_interval_cleanup(&c->intervals[i]);
    free(c->intervals);
    memset(c, 0, sizeof(*c));
}

int notify_config_decode(const struct yamldoc *d, const struct yamldoc_node *route,
                         const struct yamldoc_node *receivers,
                         const struct yamldoc_node *inhibit_rules,
                         const struct yamldoc_node *time_intervals, const char *base_dir,
                         struct notify_config *out, struct lw_err *err)
{
    struct ctx c = {.d = d, .base_dir = base_dir, .err = err};
    struct notify_config nc = {0};
    if (receivers && !yamldoc_is_null(receivers)) {
        if (receivers->kind != YAMLDOC_SEQ)
            return bad(&c, receivers, "'receivers' must be a list");
        nc.receivers.v = calloc(receivers->n + 1, sizeof(*nc.receivers.v));
        if (!nc.receivers.v)
            return bad(&c, receivers, "out of memory");
        for (size_t i = 0; i < receivers->n; i++) {
            nc.receivers.n++;
            if (decode_receiver(&c, receivers->items[i], &nc.receivers.v[i]) != 0)
                goto fail;
            for (size_t k = 0; k < i; k++)
                if (strcmp(nc.receivers.v[k].name, nc.receivers.v[i].name) == 0) {
                    bad(&c, receivers->items[i], "receiver '%s' is defined twice",
                        nc.receivers.v[i].name);
                    goto fail;
                }
        }
    }
    if (time_intervals && !yamldoc_is_null(time_intervals)) {
        if (time_intervals->kind != YAMLDOC_SEQ) {
            bad(&c, time_intervals, "'time_intervals' must be a list");
            goto fail;
        }
        nc.intervals = calloc(time_intervals->n + 1, sizeof(*nc.intervals));
        if (!nc.intervals)
            goto fail;
        for (size_t i = 0; i < time_intervals->n; i++) {
            nc.n_intervals++;
            if (decode_interval(&c, time_intervals->items[i], &nc.intervals[i]) != 0)
                goto fail;
        }
    }
    if (inhibit_rules && !yamldoc_is_null(inhibit_rules)) {
        if (inhibit_rules->kind != YAMLDOC_SEQ) {
            bad(&c, inhibit_rules, "'inhibit_rules' must be a list");
            goto fail;
        }
        nc.inhibit = calloc(inhibit_rules->n + 1, sizeof(*nc.inhibit));
        if (!nc.inhibit)
            goto fail;
        for (size_t i = 0; i < inhibit_rules->n; i++) {
            if (decode_inhibit(&c, inhibit_rules->items[i], &nc.inhibit[i]) != 0)
                goto fail;
            nc.n_inhibit++;
        }
    }
    if (route && !yamldoc_is_null(route)) {
        if (decode_route(&c, route, NULL, &nc.route, 0) != 0 ||
            check_refs(&c, &nc, nc.route, route) != 0)
            goto fail;
    }
    *out = nc;
    return 0;
fail:
    notify_config_cleanup(&nc);
    return -1;
}
