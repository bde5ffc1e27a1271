/*
 * suppress.c — inhibit rules and silences (see suppress.h). Both are small lists checked per
 * alert at flush time, so linear scans are right here.
 */
#include "lagwatch/suppress.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "lagwatch/amatcher.h"

static void free_strv(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

/* Parse n Alertmanager matcher strings into a malloc'd array. */
static int parse_matchers(const char *what, const char *const *in, size_t n,
                          struct lw_matcher **out, struct lw_err *err)
{
    *out = NULL;
    if (n == 0)
        return 0;
    struct lw_matcher *ms = calloc(n, sizeof(*ms));
    if (!ms)
        return lw_err_set(err, 0, 0, "out of memory");
    for (size_t i = 0; i < n; i++) {
        struct lw_err merr = {0};
        if (amatcher_parse(in[i], strlen(in[i]), &ms[i], &merr) != 0) {
            amatcher_free_list(ms, i);
            return lw_err_set(err, 0, merr.col, "%s \"%s\": %s", what, in[i], merr.msg);
        }
    }
    *out = ms;
    return 0;
}

int inhibit_rule_init(struct inhibit_rule *r, const char *const *source, size_t n_source,
                      const char *const *target, size_t n_target, const char *const *equal,
                      size_t n_equal, struct lw_err *err)
{
    memset(r, 0, sizeof(*r));
    if (parse_matchers("source matcher", source, n_source, &r->source, err) != 0)
        return -1;
    r->n_source = n_source;
    if (parse_matchers("target matcher", target, n_target, &r->target, err) != 0) {
        inhibit_rule_cleanup(r);
        return -1;
    }
    r->n_target = n_target;
    if (n_equal) {
        r->equal = calloc(n_equal, sizeof(char *));
        for (size_t i = 0; r->equal && i < n_equal; i++) {
            r->equal[i] = strdup(equal[i]);
            if (!r->equal[i])
                break;
            r->n_equal = i + 1;
        }
        if (r->n_equal != n_equal) {
            inhibit_rule_cleanup(r);
            return lw_err_set(err, 0, 0, "out of memory");
        }
    }
    return 0;
}

void inhibit_rule_cleanup(struct inhibit_rule *r)
{
    amatcher_free_list(r->source, r->n_source);
    amatcher_free_list(r->target, r->n_target);
    free_strv(r->equal, r->n_equal);
    memset(r, 0, sizeof(*r));
}

static bool same(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

bool inhibit_mutes(const struct inhibit_rule *rules, size_t n_rules,
                   const struct lw_labels *const *firing, size_t n_firing,
                   const struct lw_labels *target, size_t *by)
{
    for (size_t r = 0; r < n_rules; r++) {
        const struct inhibit_rule *ir = &rules[r];
        if (!lw_matchers_match(ir->target, ir->n_target, target))
            continue;
        bool two_sided = lw_matchers_match(ir->source, ir->n_source, target);
        for (size_t i = 0; i < n_firing; i++) {
            const struct lw_labels *src = firing[i];
            if (!lw_matchers_match(ir->source, ir->n_source, src))
                continue;
            bool eq = true;
            for (size_t k = 0; eq && k < ir->n_equal; k++)
                eq = same(lw_labels_get(src, ir->equal[k]), lw_labels_get(target, ir->equal[k]));
            if (!eq)
                continue;
            if (two_sided && lw_matchers_match(ir->target, ir->n_target, src))
                continue;
            if (by)
                *by = i;
            return true;
        }
    }
    return false;
}

void silences_init(struct silences *s)
{
    memset(s, 0, sizeof(*s));
}

static void silence_cleanup(struct silence *x)
{
    free(x->id);
    amatcher_free_list(x->matchers, x->n_matchers);
    free(x->created_by);
    free(x->comment);
}

void silences_cleanup(struct silences *s)
{
    for (size_t i = 0; i < s->n; i++)
        silence_cleanup(&s->v[i]);
    free(s->v);
    silences_init(s);
}

int silences_add(struct silences *s, const char *id, const char *const *matchers, size_t n_matchers,
                 int64_t starts_at_ms, int64_t ends_at_ms, const char *created_by,
                 const char *comment, struct lw_err *err)
{
    if (!id || !*id)
        return lw_err_set(err, 0, 0, "silence needs an id");
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i].id, id) == 0)
            return lw_err_set(err, 0, 0, "silence %s exists already", id);
    if (n_matchers == 0)
        return lw_err_set(err, 0, 0, "silence needs at least one matcher");
    if (ends_at_ms <= starts_at_ms)
        return lw_err_set(err, 0, 0, "silence must end after it starts");
    struct silence x = {0};
    if (parse_matchers("matcher", matchers, n_matchers, &x.matchers, err) != 0)
        return -1;
    x.n_matchers = n_matchers;
    bool all_empty = true;
    for (size_t i = 0; i < n_matchers; i++)
        all_empty = all_empty && lw_matcher_matches(&x.matchers[i], "");
    if (all_empty) {
        silence_cleanup(&x);
        return lw_err_set(err, 0, 0,
                          "at least one matcher of a silence must not match the empty string");
    }
    x.id = strdup(id);
    x.created_by = strdup(created_by ? created_by : "");
    x.comment = strdup(comment ? comment : "");
    x.starts_at_ms = starts_at_ms;
    x.ends_at_ms = ends_at_ms;
    if (!x.id || !x.created_by || !x.comment) {
        silence_cleanup(&x);
        return lw_err_set(err, 0, 0, "out of memory");
    }
    if (s->n == s->cap) {
        size_t nc = s->cap ? s->cap * 2 : 8;
        struct silence *nv = realloc(s->v, nc * sizeof(*nv));
        if (!nv) {
            silence_cleanup(&x);
            return lw_err_set(err, 0, 0, "out of memory");
        }
        s->v = nv;
        s->cap = nc;
    }
    s->v[s->n++] = x;
    return 0;
}

int silences_expire(struct silences *s, const char *id, int64_t now_ms, struct lw_err *err)
{
    for (size_t i = 0; i < s->n; i++) {
        if (strcmp(s->v[i].id, id) != 0)
            continue;
        if (s->v[i].ends_at_ms > now_ms)
            s->v[i].ends_at_ms = now_ms;
        if (s->v[i].starts_at_ms > now_ms)
            s->v[i].starts_at_ms = now_ms;
        return 0;
    }
    return lw_err_set(err, 0, 0, "no silence with id %s", id);
}

const struct silence *silences_mutes(const struct silences *s, const struct lw_labels *ls,
                                     int64_t now_ms)
{
    for (size_t i = 0; i < s->n; i++) {
        const struct silence *x = &s->v[i];
        if (x->starts_at_ms <= now_ms && now_ms < x->ends_at_ms &&
            lw_matchers_match(x->matchers, x->n_matchers, ls))
            return x;
    }
    return NULL;
}

void silences_gc(struct silences *s, int64_t now_ms, int64_t retention_ms)
{
    size_t w = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (s->v[i].ends_at_ms + retention_ms < now_ms) {
            silence_cleanup(&s->v[i]);
            continue;
        }
        s->v[w++] = s->v[i];
    }
    s->n = w;
}

char *silences_save(const struct silences *s)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < s->n; i++) {
        const struct silence *x = &s->v[i];
        json_t *ms = json_array();
        for (size_t k = 0; ms && k < x->n_matchers; k++) {
            struct lw_buf b;
            lw_buf_init(&b, 1u << 20);
            amatcher_format(&x->matchers[k], &b);
            json_array_append_new(ms, json_string(lw_buf_str(&b)));
            lw_buf_cleanup(&b);
        }
        json_array_append_new(arr,
                              json_pack("{s:s, s:o, s:I, s:I, s:s, s:s}", "id", x->id, "matchers",
                                        ms, "starts_at_ms", (json_int_t)x->starts_at_ms,
                                        "ends_at_ms", (json_int_t)x->ends_at_ms, "created_by",
                                        x->created_by, "comment", x->comment));
    }
    json_t *doc = json_pack("{s:i, s:o}", "version", 1, "silences", arr);
    char *out = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    return out;
}

int silences_load(struct silences *s, const char *json, size_t len, struct lw_err *err)
{
    silences_cleanup(s);
    json_error_t jerr;
    json_t *doc = json_loadb(json, len, 0, &jerr);
    if (!doc)
        return lw_err_set(err, jerr.line, jerr.column, "silences: %s", jerr.text);
    int rc = -1;
    json_t *arr = json_object_get(doc, "silences");
    if (json_integer_value(json_object_get(doc, "version")) != 1 || !json_is_array(arr)) {
        lw_err_set(err, 0, 0, "silences: not a version 1 document");
        goto out;
    }
    size_t i;
    json_t *it;
    json_array_foreach(arr, i, it)
    {
        json_t *ms = json_object_get(it, "matchers");
        const char *id = json_string_value(json_object_get(it, "id"));
        json_t *st = json_object_get(it, "starts_at_ms"), *en = json_object_get(it, "ends_at_ms");
        if (!id || !json_is_array(ms) || !json_is_integer(st) || !json_is_integer(en)) {
            lw_err_set(err, 0, 0,
                       "silences: entry %zu lacks id, matchers, starts_at_ms or "
                       "ends_at_ms",
                       i);
            goto out;
        }
        size_t n = json_array_size(ms);
        const char **strs = calloc(n + 1, sizeof(*strs));
        if (!strs) {
            lw_err_set(err, 0, 0, "out of memory");
            goto out;
        }
        bool ok = true;
        for (size_t k = 0; k < n; k++)
            ok = ok && (strs[k] = json_string_value(json_array_get(ms, k))) != NULL;
        struct lw_err aerr = {0};
        int added =
            ok ? silences_add(s, id, strs, n, json_integer_value(st), json_integer_value(en),
                              json_string_value(json_object_get(it, "created_by")),
                              json_string_value(json_object_get(it, "comment")), &aerr)
               : -1;
        free(strs);
        if (added != 0) {
            lw_err_set(err, 0, 0, "silences: entry %zu: %s", i,
                       ok ? aerr.msg : "matchers must be strings");
            goto out;
        }
    }
    rc = 0;
out:
    if (rc != 0)
        silences_cleanup(s);
    json_decref(doc);
    return rc;
}
