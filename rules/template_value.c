/*
 * template_value.c — the value tree templates run over (see template.h): reference-counted
 * nodes for Go's nil, bool, int, float64, string, maps (sorted keys), structs (fields in
 * declaration order) and lists, and the Go type names error messages use.
 */
#include "template_int.h"

#include <stdlib.h>
#include <string.h>

static struct tmpl_value *val_new(enum tmpl_kind kind)
{
    struct tmpl_value *v = calloc(1, sizeof *v);
    if (v) {
        v->kind = kind;
        v->refs = 1;
    }
    return v;
}

struct tmpl_value *tmpl_value_nil(void)
{
    return val_new(TMPL_NIL);
}

struct tmpl_value *tmpl_value_bool(bool b)
{
    struct tmpl_value *v = val_new(TMPL_BOOL);
    if (v)
        v->b = b;
    return v;
}

struct tmpl_value *tmpl_value_int(int64_t i)
{
    struct tmpl_value *v = val_new(TMPL_INT);
    if (v)
        v->i = i;
    return v;
}

struct tmpl_value *tmpl_value_num(double d)
{
    struct tmpl_value *v = val_new(TMPL_NUM);
    if (v)
        v->num = d;
    return v;
}

struct tmpl_value *tmpl_value_strn(const char *s, size_t len)
{
    struct tmpl_value *v = val_new(TMPL_STR);
    if (!v)
        return NULL;
    v->s = malloc(len + 1);
    if (!v->s) {
        free(v);
        return NULL;
    }
    if (len)
        memcpy(v->s, s, len);
    v->s[len] = '\0';
    v->len = len;
    return v;
}

struct tmpl_value *tmpl_value_str(const char *s)
{
    return tmpl_value_strn(s ? s : "", s ? strlen(s) : 0);
}

struct tmpl_value *tmpl_value_map(bool string_elems)
{
    struct tmpl_value *v = val_new(TMPL_MAP);
    if (v)
        v->string_elems = string_elems;
    return v;
}

struct tmpl_value *tmpl_value_struct(const char *go_type)
{
    struct tmpl_value *v = val_new(TMPL_MAP);
    if (!v)
        return NULL;
    v->is_struct = true;
    v->type_name = strdup(go_type ? go_type : "struct {}");
    if (!v->type_name) {
        free(v);
        return NULL;
    }
    return v;
}

struct tmpl_value *tmpl_value_list(void)
{
    return val_new(TMPL_LIST);
}

struct tmpl_value *tmpl_value_labels(const struct lw_labels *ls)
{
    struct tmpl_value *m = tmpl_value_map(true);
    if (!m || !ls)
        return m;
    for (size_t i = 0; i < ls->n; i++)
        if (tmpl_value_set(m, ls->v[i].name, tmpl_value_str(ls->v[i].value)) != 0) {
            tmpl_value_unref(m);
            return NULL;
        }
    return m;
}

struct tmpl_value *tmpl_value_ref(struct tmpl_value *v)
{
    if (v)
        v->refs++;
    return v;
}

void tmpl_value_unref(struct tmpl_value *v)
{
    if (!v || --v->refs > 0)
        return;
    for (size_t i = 0; i < v->n; i++) {
        if (v->kind == TMPL_MAP) {
            free(v->e[i].key);
            tmpl_value_unref(v->e[i].v);
        } else if (v->kind == TMPL_LIST) {
            tmpl_value_unref(v->items[i]);
        }
    }
    for (size_t i = 0; i < v->nmethods; i++) {
        free(v->methods[i].key);
        tmpl_value_unref(v->methods[i].v);
    }
    free(v->methods);
    free(v->e);
    free(v->items);
    free(v->s);
    free(v->type_name);
    free(v);
}

int tmpl_value_set_type(struct tmpl_value *v, const char *go_type)
{
    if (!v || !go_type)
        return -1;
    char *t = strdup(go_type);
    if (!t)
        return -1;
    free(v->type_name);
    v->type_name = t;
    return 0;
}

int tmpl_value_set_method(struct tmpl_value *v, const char *name, struct tmpl_value *result)
{
    if (!v || !name || !result || v == result) {
        tmpl_value_unref(result);
        return -1;
    }
    for (size_t i = 0; i < v->nmethods; i++)
        if (strcmp(v->methods[i].key, name) == 0) {
            tmpl_value_unref(v->methods[i].v);
            v->methods[i].v = result;
            return 0;
        }
    struct tmpl_entry *m = realloc(v->methods, (v->nmethods + 1) * sizeof *m);
    if (m)
        v->methods = m;
    char *k = m ? strdup(name) : NULL;
    if (!k) {
        tmpl_value_unref(result);
        return -1;
    }
    m[v->nmethods].key = k;
    m[v->nmethods].v = result;
    v->nmethods++;
    return 0;
}

const struct tmpl_value *tmpl_value_method(const struct tmpl_value *v, const char *name)
{
    for (size_t i = 0; v && i < v->nmethods; i++)
        if (strcmp(v->methods[i].key, name) == 0)
            return v->methods[i].v;
    return NULL;
}

/* Index of key in a map/struct, or where it would go (sorted maps) with *found = false. */
static size_t find_key(const struct tmpl_value *m, const char *key, bool *found)
{
    if (m->is_struct) {
        for (size_t i = 0; i < m->n; i++)
            if (strcmp(m->e[i].key, key) == 0) {
                *found = true;
                return i;
            }
        *found = false;
        return m->n;
    }
    size_t lo = 0, hi = m->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(m->e[mid].key, key);
        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = false;
    return lo;
}

int tmpl_value_set(struct tmpl_value *m, const char *key, struct tmpl_value *v)
{
    if (!m || !v || m->kind != TMPL_MAP || !key) {
        tmpl_value_unref(v);
        return -1;
    }
    bool found;
    size_t i = find_key(m, key, &found);
    if (found) {
        tmpl_value_unref(m->e[i].v);
        m->e[i].v = v;
        return 0;
    }
    if (m->n == m->cap) {
        size_t ncap = m->cap ? m->cap * 2 : 8;
        struct tmpl_entry *e = realloc(m->e, ncap * sizeof *e);
        if (!e) {
            tmpl_value_unref(v);
            return -1;
        }
        m->e = e;
        m->cap = ncap;
    }
    char *k = strdup(key);
    if (!k) {
        tmpl_value_unref(v);
        return -1;
    }
    memmove(m->e + i + 1, m->e + i, (m->n - i) * sizeof *m->e);
    m->e[i].key = k;
    m->e[i].v = v;
    m->n++;
    return 0;
}

int tmpl_value_append(struct tmpl_value *l, struct tmpl_value *v)
{
    if (!l || !v || l->kind != TMPL_LIST) {
        tmpl_value_unref(v);
        return -1;
    }
    if (l->n == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 8;
        struct tmpl_value **p = realloc(l->items, ncap * sizeof *p);
        if (!p) {
            tmpl_value_unref(v);
            return -1;
        }
        l->items = p;
        l->cap = ncap;
    }
    l->items[l->n++] = v;
    return 0;
}

enum tmpl_kind tmpl_value_kind(const struct tmpl_value *v)
{
    return v ? v->kind : TMPL_NIL;
}

size_t tmpl_value_len(const struct tmpl_value *v)
{
    if (!v)
        return 0;
    if (v->kind == TMPL_STR || v->kind == TMPL_MAP || v->kind == TMPL_LIST)
        return v->kind == TMPL_STR ? v->len : v->n;
    return 0;
}

const struct tmpl_value *tmpl_value_get(const struct tmpl_value *m, const char *key)
{
    if (!m || m->kind != TMPL_MAP || !key)
        return NULL;
    bool found;
    size_t i = find_key(m, key, &found);
    return found ? m->e[i].v : NULL;
}

const struct tmpl_value *tmpl_value_at(const struct tmpl_value *l, size_t i)
{
    if (!l || l->kind != TMPL_LIST || i >= l->n)
        return NULL;
    return l->items[i];
}

const char *tmpl_value_strp(const struct tmpl_value *v)
{
    return v && v->kind == TMPL_STR ? v->s : NULL;
}

const char *tmpl_go_type(const struct tmpl_value *v)
{
    if (!v)
        return "<nil>";
    if (v->type_name)
        return v->type_name;
    switch (v->kind) {
    case TMPL_NIL:
        return "<nil>";
    case TMPL_BOOL:
        return "bool";
    case TMPL_INT:
        return "int";
    case TMPL_NUM:
        return "float64";
    case TMPL_STR:
        return "string";
    case TMPL_MAP:
        return v->string_elems ? "map[string]string" : "map[string]interface {}";
    case TMPL_LIST:
        return "[]interface {}";
    }
    return "?";
}

bool tmpl_truth(const struct tmpl_value *v)
{
    if (!v)
        return false;
    switch (v->kind) {
    case TMPL_NIL:
        return false;
    case TMPL_BOOL:
        return v->b;
    case TMPL_INT:
        return v->i != 0;
    case TMPL_NUM:
        return v->num != 0;
    case TMPL_STR:
        return v->len > 0;
    case TMPL_MAP:
        return v->is_struct || v->n > 0;
    case TMPL_LIST:
        return v->n > 0;
    }
    return false;
}

struct tmpl_value *tmpl_alert_data(const struct lw_labels *labels,
                                   const struct lw_labels *external_labels,
                                   const char *external_url, double value)
{
    struct tmpl_value *d = tmpl_value_struct(TMPL_ALERT_DATA_TYPE);
    if (!d)
        return NULL;
    if (tmpl_value_set(d, "Labels", tmpl_value_labels(labels)) != 0 ||
        tmpl_value_set(d, "ExternalLabels", tmpl_value_labels(external_labels)) != 0 ||
        tmpl_value_set(d, "ExternalURL", tmpl_value_str(external_url)) != 0 ||
        tmpl_value_set(d, "Value", tmpl_value_num(value)) != 0) {
        tmpl_value_unref(d);
        return NULL;
    }
    return d;
}
