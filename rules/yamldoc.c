/*
 * yamldoc.c — YAML text to a tree of positioned nodes (libyaml's event parser does the YAML; this
 * file only builds the tree), typed reads with file:line:col errors, "did you mean" for unknown
 * keys, `${VAR}` interpolation, and emitting a tree back through libyaml's emitter.
 *
 * Aliases are expanded by deep copy rather than shared, so the tree is a plain tree (one owner
 * per node, trivial to free and to interpolate); the copy is charged against LW_MAX_YAML_NODES
 * before it is made, so a document whose aliases multiply (billion laughs) fails at once with a
 * clear error instead of growing. An alias may only name a node that is complete, which rules out
 * recursive structures.
 */
#include "lagwatch/yamldoc.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "lagwatch/duration.h"
#include "lagwatch/limits.h"

#define TAG_NULL  "tag:yaml.org,2002:null"
#define TAG_BOOL  "tag:yaml.org,2002:bool"
#define TAG_INT   "tag:yaml.org,2002:int"
#define TAG_FLOAT "tag:yaml.org,2002:float"

/* ---- nodes ---------------------------------------------------------------------------------- */

struct yamldoc_node *yamldoc_node_new(enum yamldoc_kind kind)
{
    struct yamldoc_node *n = calloc(1, sizeof *n);
    if (n == NULL)
        return NULL;
    n->kind = kind;
    return n;
}

static struct yamldoc_node *scalar_new(const char *text, size_t len, bool plain)
{
    struct yamldoc_node *n = yamldoc_node_new(YAMLDOC_SCALAR);
    if (n == NULL)
        return NULL;
    n->scalar = malloc(len + 1);
    if (n->scalar == NULL) {
        free(n);
        return NULL;
    }
    if (len)
        memcpy(n->scalar, text, len);
    n->scalar[len] = '\0';
    n->scalar_len = len;
    n->plain = plain;
    n->single_line = memchr(text, '\n', len) == NULL;
    return n;
}

struct yamldoc_node *yamldoc_node_new_scalar(const char *text, bool plain)
{
    return scalar_new(text, strlen(text), plain);
}

void yamldoc_node_free(struct yamldoc_node *n)
{
    if (n == NULL)
        return;
    for (size_t i = 0; i < n->n; i++)
        yamldoc_node_free(n->items[i]);
    free(n->items);
    free(n->scalar);
    free((char *)n->tag);
    free(n);
}

/* Append without taking ownership on failure (the parser frees what it holds itself). */
static int node_push(struct yamldoc_node *parent, struct yamldoc_node *item)
{
    if ((parent->n & (parent->n - 1)) == 0) { /* 0, 1, 2, 4, 8...: grow to the next power */
        size_t ncap = parent->n ? parent->n * 2 : 4;
        if (ncap < 4)
            ncap = 4;
        struct yamldoc_node **p = realloc(parent->items, ncap * sizeof *p);
        if (p == NULL)
            return -1;
        parent->items = p;
    }
    parent->items[parent->n++] = item;
    return 0;
}

int yamldoc_node_append(struct yamldoc_node *parent, struct yamldoc_node *item)
{
    if (parent == NULL || item == NULL || parent->kind == YAMLDOC_SCALAR ||
        node_push(parent, item) != 0) {
        yamldoc_node_free(item);
        return -1;
    }
    return 0;
}

int yamldoc_node_map_put(struct yamldoc_node *map, const char *key, struct yamldoc_node *value)
{
    if (map == NULL || map->kind != YAMLDOC_MAP || value == NULL) {
        yamldoc_node_free(value);
        return -1;
    }
    struct yamldoc_node *k = yamldoc_node_new_scalar(key, true);
    if (k == NULL || yamldoc_node_append(map, k) != 0) {
        yamldoc_node_free(value);
        return -1;
    }
    if (yamldoc_node_append(map, value) != 0) {
        map->n--; /* drop the dangling key so the map stays well-formed */
        yamldoc_node_free(k);
        return -1;
    }
    return 0;
}

struct yamldoc_node *yamldoc_node_copy(const struct yamldoc_node *n)
{
    struct yamldoc_node *c;
    if (n->kind == YAMLDOC_SCALAR) {
        c = scalar_new(n->scalar, n->scalar_len, n->plain);
        if (c == NULL)
            return NULL;
        c->single_line = n->single_line;
    } else {
        c = yamldoc_node_new(n->kind);
        if (c == NULL)
            return NULL;
    }
    c->line = n->line;
    c->col = n->col;
    if (n->tag && (c->tag = strdup(n->tag)) == NULL) {
        yamldoc_node_free(c);
        return NULL;
    }
    for (size_t i = 0; i < n->n; i++) {
        struct yamldoc_node *item = yamldoc_node_copy(n->items[i]);
        if (yamldoc_node_append(c, item) != 0) {
            yamldoc_node_free(c);
            return NULL;
        }
    }
    return c;
}

static size_t node_count(const struct yamldoc_node *n)
{
    size_t total = 1;
    for (size_t i = 0; i < n->n; i++)
        total += node_count(n->items[i]);
    return total;
}

/* ---- errors --------------------------------------------------------------------------------- */

static int verror(struct lw_err *err, const struct yamldoc *d, int line, int col, const char *fmt,
                  va_list ap) LW_PRINTF(5, 0);
static int verror(struct lw_err *err, const struct yamldoc *d, int line, int col, const char *fmt,
                  va_list ap)
{
    if (err == NULL)
        return -1;
    err->line = line;
    err->col = col;
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    if (d && d->filename && d->filename[0])
        lw_err_set_file(err, d->filename);
    return -1;
}

int yamldoc_error(struct lw_err *err, const struct yamldoc *d, const struct yamldoc_node *at,
                  const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    verror(err, d, at ? at->line : 0, at ? at->col : 0, fmt, ap);
    va_end(ap);
    return -1;
}

static int error_at(struct lw_err *err, const struct yamldoc *d, int line, int col, const char *fmt,
                    ...) LW_PRINTF(5, 6);
static int error_at(struct lw_err *err, const struct yamldoc *d, int line, int col, const char *fmt,
                    ...)
{
    va_list ap;
    va_start(ap, fmt);
    verror(err, d, line, col, fmt, ap);
    va_end(ap);
    return -1;
}

/* ---- parsing -------------------------------------------------------------------------------- */

struct anchor {
    char *name;
    struct yamldoc_node *node; /* NULL while the anchored node is still open */
    size_t count;              /* nodes in its subtree, once complete */
};

struct open_node {
    struct yamldoc_node *node;
    char *anchor; /* name to register when the node closes, or NULL */
};

struct builder {
    struct yamldoc *doc;
    struct open_node stack[LW_MAX_YAML_DEPTH + 1];
    size_t depth;
    struct anchor *anchors;
    size_t n_anchors, cap_anchors;
    struct lw_err *err;
};

static int anchor_add(struct builder *b, const char *name, struct yamldoc_node *node)
{
    /* A later anchor of the same name shadows an earlier one (YAML: the most recent wins). */
    for (size_t i = b->n_anchors; i-- > 0;) {
        if (strcmp(b->anchors[i].name, name) == 0) {
            b->anchors[i].node = node;
            b->anchors[i].count = node_count(node);
            return 0;
        }
    }
    if (b->n_anchors == b->cap_anchors) {
        size_t ncap = b->cap_anchors ? b->cap_anchors * 2 : 8;
        struct anchor *p = realloc(b->anchors, ncap * sizeof *p);
        if (p == NULL)
            return -1;
        b->anchors = p;
        b->cap_anchors = ncap;
    }
    char *copy = strdup(name);
    if (copy == NULL)
        return -1;
    b->anchors[b->n_anchors].name = copy;
    b->anchors[b->n_anchors].node = node;
    b->anchors[b->n_anchors].count = node_count(node);
    b->n_anchors++;
    return 0;
}

static int key_cmp(const void *pa, const void *pb)
{
    const struct yamldoc_node *a = *(const struct yamldoc_node *const *)pa;
    const struct yamldoc_node *b = *(const struct yamldoc_node *const *)pb;
    size_t n = a->scalar_len < b->scalar_len ? a->scalar_len : b->scalar_len;
    int c = memcmp(a->scalar, b->scalar, n);
    if (c != 0)
        return c;
    if (a->scalar_len != b->scalar_len)
        return a->scalar_len < b->scalar_len ? -1 : 1;
    /* Equal keys: source order, so the later one is reported as the duplicate. */
    if (a->line != b->line)
        return a->line < b->line ? -1 : 1;
    return a->col < b->col ? -1 : (a->col > b->col);
}

static int check_duplicates(const struct yamldoc *d, const struct yamldoc_node *map,
                            struct lw_err *err)
{
    size_t pairs = map->n / 2;
    if (pairs < 2)
        return 0;
    if (pairs <= 16) { /* small maps: no allocation */
        for (size_t i = 1; i < pairs; i++) {
            const struct yamldoc_node *k = map->items[2 * i];
            for (size_t j = 0; j < i; j++) {
                const struct yamldoc_node *o = map->items[2 * j];
                if (o->scalar_len == k->scalar_len &&
                    memcmp(o->scalar, k->scalar, k->scalar_len) == 0)
                    return yamldoc_error(err, d, k, "duplicate key '%s' (first at line %d)",
                                         k->scalar, o->line);
            }
        }
        return 0;
    }
    const struct yamldoc_node **keys = malloc(pairs * sizeof *keys);
    if (keys == NULL)
        return yamldoc_error(err, d, map, "out of memory");
    for (size_t i = 0; i < pairs; i++)
        keys[i] = map->items[2 * i];
    qsort(keys, pairs, sizeof *keys, key_cmp);
    int rc = 0;
    for (size_t i = 1; i < pairs && rc == 0; i++) {
        const struct yamldoc_node *a = keys[i - 1], *k = keys[i];
        if (a->scalar_len == k->scalar_len && memcmp(a->scalar, k->scalar, k->scalar_len) == 0)
            rc = yamldoc_error(err, d, k, "duplicate key '%s' (first at line %d)", k->scalar,
                               a->line);
    }
    free(keys);
    return rc;
}

/* Attach a finished node to the open container (or make it the root). Takes ownership. */
static int attach(struct builder *b, struct yamldoc_node *n)
{
    if (b->depth == 0) {
        b->doc->root = n;
        return 0;
    }
    struct yamldoc_node *parent = b->stack[b->depth - 1].node;
    if (parent->kind == YAMLDOC_MAP && parent->n % 2 == 0 && n->kind != YAMLDOC_SCALAR) {
        error_at(b->err, b->doc, n->line, n->col, "a mapping key must be a scalar");
        yamldoc_node_free(n);
        return -1;
    }
    if (node_push(parent, n) != 0) {
        yamldoc_node_free(n);
        return error_at(b->err, b->doc, n->line, n->col, "out of memory");
    }
    return 0;
}

static int charge(struct builder *b, size_t count, int line, int col)
{
    if (count > LW_MAX_YAML_NODES || b->doc->n_nodes > LW_MAX_YAML_NODES - count)
        return error_at(b->err, b->doc, line, col,
                        "document too large: more than %u nodes (aliases expanded)",
                        LW_MAX_YAML_NODES);
    b->doc->n_nodes += count;
    return 0;
}

static int on_scalar(struct builder *b, const yaml_event_t *ev, int line, int col)
{
    if (charge(b, 1, line, col) != 0)
        return -1;
    size_t len = ev->data.scalar.length;
    if (len > LW_MAX_YAML_SCALAR_BYTES)
        return error_at(b->err, b->doc, line, col, "scalar longer than %u bytes",
                        LW_MAX_YAML_SCALAR_BYTES);
    bool plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    struct yamldoc_node *n = scalar_new((const char *)ev->data.scalar.value, len, plain);
    if (n == NULL)
        return error_at(b->err, b->doc, line, col, "out of memory");
    n->line = line;
    n->col = col;
    n->single_line = ev->start_mark.line == ev->end_mark.line;
    if (ev->data.scalar.tag && (n->tag = strdup((const char *)ev->data.scalar.tag)) == NULL) {
        yamldoc_node_free(n);
        return error_at(b->err, b->doc, line, col, "out of memory");
    }
    if (ev->data.scalar.anchor && anchor_add(b, (const char *)ev->data.scalar.anchor, n) != 0) {
        yamldoc_node_free(n);
        return error_at(b->err, b->doc, line, col, "out of memory");
    }
    return attach(b, n);
}

static int on_start(struct builder *b, const yaml_event_t *ev, enum yamldoc_kind kind, int line,
                    int col)
{
    if (b->depth >= LW_MAX_YAML_DEPTH)
        return error_at(b->err, b->doc, line, col, "nesting deeper than %u levels",
                        LW_MAX_YAML_DEPTH);
    if (charge(b, 1, line, col) != 0)
        return -1;
    struct yamldoc_node *n = yamldoc_node_new(kind);
    if (n == NULL)
        return error_at(b->err, b->doc, line, col, "out of memory");
    n->line = line;
    n->col = col;
    const yaml_char_t *tag =
        kind == YAMLDOC_SEQ ? ev->data.sequence_start.tag : ev->data.mapping_start.tag;
    const yaml_char_t *anchor =
        kind == YAMLDOC_SEQ ? ev->data.sequence_start.anchor : ev->data.mapping_start.anchor;
    char *anchor_copy = NULL;
    if ((tag && (n->tag = strdup((const char *)tag)) == NULL) ||
        (anchor && (anchor_copy = strdup((const char *)anchor)) == NULL)) {
        yamldoc_node_free(n);
        return error_at(b->err, b->doc, line, col, "out of memory");
    }
    b->stack[b->depth].node = n;
    b->stack[b->depth].anchor = anchor_copy;
    b->depth++;
    return 0;
}

static int on_end(struct builder *b)
{
    struct open_node top = b->stack[--b->depth];
    struct yamldoc_node *n = top.node;
    int rc = 0;
    if (n->kind == YAMLDOC_MAP)
        rc = check_duplicates(b->doc, n, b->err);
    if (rc == 0 && top.anchor && anchor_add(b, top.anchor, n) != 0)
        rc = error_at(b->err, b->doc, n->line, n->col, "out of memory");
    free(top.anchor);
    if (rc != 0) {
        yamldoc_node_free(n);
        return -1;
    }
    return attach(b, n);
}

static int on_alias(struct builder *b, const yaml_event_t *ev, int line, int col)
{
    const char *name = (const char *)ev->data.alias.anchor;
    const struct anchor *a = NULL;
    for (size_t i = b->n_anchors; i-- > 0;)
        if (strcmp(b->anchors[i].name, name) == 0) {
            a = &b->anchors[i];
            break;
        }
    if (a == NULL) {
        for (size_t i = 0; i < b->depth; i++)
            if (b->stack[i].anchor && strcmp(b->stack[i].anchor, name) == 0)
                return error_at(b->err, b->doc, line, col,
                                "alias '*%s' refers to its own enclosing node (recursion)", name);
        return error_at(b->err, b->doc, line, col, "unknown anchor '%s'", name);
    }
    if (charge(b, a->count, line, col) != 0)
        return -1;
    struct yamldoc_node *copy = yamldoc_node_copy(a->node);
    if (copy == NULL)
        return error_at(b->err, b->doc, line, col, "out of memory");
    return attach(b, copy);
}

static void builder_cleanup(struct builder *b)
{
    while (b->depth > 0) {
        b->depth--;
        yamldoc_node_free(b->stack[b->depth].node);
        free(b->stack[b->depth].anchor);
    }
    for (size_t i = 0; i < b->n_anchors; i++)
        free(b->anchors[i].name);
    free(b->anchors);
}

int yamldoc_parse(const char *buf, size_t len, const char *filename, struct yamldoc **out,
                  struct lw_err *err)
{
    struct yamldoc *d = calloc(1, sizeof *d);
    if (d == NULL)
        return lw_err_set(err, 0, 0, "out of memory");
    d->filename = strdup(filename ? filename : "");
    if (d->filename == NULL) {
        free(d);
        return lw_err_set(err, 0, 0, "out of memory");
    }
    if (len > LW_MAX_FILE_BYTES) {
        error_at(err, d, 0, 0, "file larger than %u bytes", LW_MAX_FILE_BYTES);
        yamldoc_free(d);
        return -1;
    }
    struct builder b = {.doc = d, .err = err};
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser)) {
        yamldoc_free(d);
        return lw_err_set(err, 0, 0, "out of memory");
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
    int rc = -1, documents = 0;
    bool done = false;
    while (!done) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev)) {
            if (parser.error == YAML_MEMORY_ERROR)
                error_at(err, d, 0, 0, "out of memory");
            else
                error_at(err, d, (int)parser.problem_mark.line + 1,
                         (int)parser.problem_mark.column + 1, "YAML syntax: %s%s%s",
                         parser.problem ? parser.problem : "invalid input",
                         parser.context ? " " : "", parser.context ? parser.context : "");
            goto cleanup;
        }
        int line = (int)ev.start_mark.line + 1, col = (int)ev.start_mark.column + 1;
        int step = 0;
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
            done = true;
            break;
        case YAML_DOCUMENT_START_EVENT:
            if (++documents > 1)
                step = error_at(err, d, line, col,
                                "more than one YAML document ('---'); one is expected");
            break;
        case YAML_SCALAR_EVENT:
            step = on_scalar(&b, &ev, line, col);
            break;
        case YAML_SEQUENCE_START_EVENT:
            step = on_start(&b, &ev, YAMLDOC_SEQ, line, col);
            break;
        case YAML_MAPPING_START_EVENT:
            step = on_start(&b, &ev, YAMLDOC_MAP, line, col);
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            step = b.depth > 0 ? on_end(&b) : error_at(err, d, line, col, "unbalanced end");
            break;
        case YAML_ALIAS_EVENT:
            step = on_alias(&b, &ev, line, col);
            break;
        default:
            break;
        }
        yaml_event_delete(&ev);
        if (step != 0)
            goto cleanup;
    }
    rc = 0;
cleanup:
    yaml_parser_delete(&parser);
    builder_cleanup(&b);
    if (rc != 0) {
        yamldoc_free(d);
        return -1;
    }
    *out = d;
    return 0;
}

void yamldoc_free(struct yamldoc *d)
{
    if (d == NULL)
        return;
    yamldoc_node_free(d->root);
    free(d->filename);
    free(d);
}

/* ---- lookup --------------------------------------------------------------------------------- */

size_t yamldoc_map_size(const struct yamldoc_node *map)
{
    return map && map->kind == YAMLDOC_MAP ? map->n / 2 : 0;
}

const struct yamldoc_node *yamldoc_map_key(const struct yamldoc_node *map, size_t i)
{
    return i < yamldoc_map_size(map) ? map->items[2 * i] : NULL;
}

const struct yamldoc_node *yamldoc_map_value(const struct yamldoc_node *map, size_t i)
{
    return i < yamldoc_map_size(map) ? map->items[2 * i + 1] : NULL;
}

bool yamldoc_scalar_is(const struct yamldoc_node *n, const char *s)
{
    size_t len = strlen(s);
    return n && n->kind == YAMLDOC_SCALAR && n->scalar_len == len && memcmp(n->scalar, s, len) == 0;
}

const struct yamldoc_node *yamldoc_map_get(const struct yamldoc_node *map, const char *key)
{
    size_t pairs = yamldoc_map_size(map);
    for (size_t i = 0; i < pairs; i++)
        if (yamldoc_scalar_is(map->items[2 * i], key))
            return map->items[2 * i + 1];
    return NULL;
}

/* ---- did you mean --------------------------------------------------------------------------- */

#define SUGGEST_MAX_LEN 64

static int ascii_lower(char c)
{
    return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : (unsigned char)c;
}

/* Optimal string alignment distance (Levenshtein plus adjacent transpositions), ignoring case. */
static size_t edit_distance(const char *a, size_t la, const char *b, size_t lb)
{
    size_t d[SUGGEST_MAX_LEN + 1][SUGGEST_MAX_LEN + 1];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= la; i++) {
        for (size_t j = 1; j <= lb; j++) {
            size_t cost = ascii_lower(a[i - 1]) == ascii_lower(b[j - 1]) ? 0 : 1;
            size_t best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (d[i - 1][j - 1] + cost < best)
                best = d[i - 1][j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    }
    return d[la][lb];
}

const char *yamldoc_suggest(const char *word, const char *const *candidates)
{
    size_t lw = strlen(word);
    if (lw == 0 || lw > SUGGEST_MAX_LEN || candidates == NULL)
        return NULL;
    /* Allowed distance grows with the word: one slip in short keys, up to three in long ones. */
    size_t limit = lw <= 3 ? 1 : lw <= 8 ? 2 : 3;
    const char *best = NULL;
    size_t best_d = limit + 1;
    for (const char *const *c = candidates; *c; c++) {
        size_t lc = strlen(*c);
        if (lc > SUGGEST_MAX_LEN)
            continue;
        size_t dist = edit_distance(word, lw, *c, lc);
        if (dist < best_d) {
            best_d = dist;
            best = *c;
        }
    }
    return best;
}

int yamldoc_check_keys(const struct yamldoc *d, const struct yamldoc_node *map,
                       const char *const *allowed, struct lw_err *err)
{
    if (map == NULL || map->kind != YAMLDOC_MAP)
        return yamldoc_error(err, d, map, "expected a mapping");
    size_t pairs = map->n / 2;
    for (size_t i = 0; i < pairs; i++) {
        const struct yamldoc_node *k = map->items[2 * i];
        bool known = false;
        for (const char *const *a = allowed; *a && !known; a++)
            known = yamldoc_scalar_is(k, *a);
        if (known) {
            for (size_t j = 0; j < i; j++)
                if (yamldoc_scalar_is(map->items[2 * j], k->scalar))
                    return yamldoc_error(err, d, k, "duplicate key '%s'", k->scalar);
            continue;
        }
        const char *hint = yamldoc_suggest(k->scalar, allowed);
        if (hint)
            return yamldoc_error(err, d, k, "unknown key '%s' (did you mean '%s'?)", k->scalar,
                                 hint);
        char list[LW_ERR_MSG_MAX / 2];
        size_t used = 0;
        list[0] = '\0';
        for (const char *const *a = allowed; *a; a++) {
            int w = snprintf(list + used, sizeof list - used, "%s%s", used ? ", " : "", *a);
            if (w < 0 || (size_t)w >= sizeof list - used) {
                list[used] = '\0';
                break;
            }
            used += (size_t)w;
        }
        return yamldoc_error(err, d, k, "unknown key '%s'; expected one of: %s", k->scalar, list);
    }
    return 0;
}

/* ---- typed reads ---------------------------------------------------------------------------- */

static const char *kind_name(const struct yamldoc_node *n)
{
    if (n->kind == YAMLDOC_MAP)
        return "a mapping";
    if (n->kind == YAMLDOC_SEQ)
        return "a sequence";
    return yamldoc_is_null(n) ? "null" : "a string";
}

bool yamldoc_is_null(const struct yamldoc_node *n)
{
    if (n == NULL)
        return true;
    if (n->kind != YAMLDOC_SCALAR)
        return false;
    if (n->tag)
        return strcmp(n->tag, TAG_NULL) == 0;
    if (!n->plain)
        return false;
    return n->scalar_len == 0 || yamldoc_scalar_is(n, "~") || yamldoc_scalar_is(n, "null") ||
           yamldoc_scalar_is(n, "Null") || yamldoc_scalar_is(n, "NULL");
}

/* A plain scalar, untagged or tagged with want, may be read as a typed value. */
static bool typed_ok(const struct yamldoc_node *n, const char *want)
{
    return n->kind == YAMLDOC_SCALAR && (n->tag ? strcmp(n->tag, want) == 0 : n->plain);
}

int yamldoc_get_string(const struct yamldoc_node *n, const char **out, const struct yamldoc *d,
                       struct lw_err *err)
{
    if (n->kind != YAMLDOC_SCALAR || yamldoc_is_null(n))
        return yamldoc_error(err, d, n, "expected a string, got %s", kind_name(n));
    if (strlen(n->scalar) != n->scalar_len)
        return yamldoc_error(err, d, n, "string contains a NUL byte");
    *out = n->scalar;
    return 0;
}

int yamldoc_get_bool(const struct yamldoc_node *n, bool *out, const struct yamldoc *d,
                     struct lw_err *err)
{
    if (typed_ok(n, TAG_BOOL)) {
        if (yamldoc_scalar_is(n, "true") || yamldoc_scalar_is(n, "True") ||
            yamldoc_scalar_is(n, "TRUE")) {
            *out = true;
            return 0;
        }
        if (yamldoc_scalar_is(n, "false") || yamldoc_scalar_is(n, "False") ||
            yamldoc_scalar_is(n, "FALSE")) {
            *out = false;
            return 0;
        }
    }
    if (n->kind == YAMLDOC_SCALAR && !yamldoc_is_null(n))
        return yamldoc_error(err, d, n, "expected true or false, got '%s'", n->scalar);
    return yamldoc_error(err, d, n, "expected true or false, got %s", kind_name(n));
}

int yamldoc_get_int64(const struct yamldoc_node *n, int64_t *out, const struct yamldoc *d,
                      struct lw_err *err)
{
    if (!typed_ok(n, TAG_INT) || yamldoc_is_null(n))
        return yamldoc_error(err, d, n, "expected an integer, got %s",
                             n->kind == YAMLDOC_SCALAR && !yamldoc_is_null(n) ? "a quoted string"
                                                                              : kind_name(n));
    const char *s = n->scalar;
    size_t i = (s[0] == '-' || s[0] == '+') ? 1 : 0;
    if (i >= n->scalar_len)
        return yamldoc_error(err, d, n, "expected an integer, got '%s'", s);
    for (size_t j = i; j < n->scalar_len; j++)
        if (s[j] < '0' || s[j] > '9')
            return yamldoc_error(err, d, n, "expected an integer, got '%s'", s);
    errno = 0;
    char *end = NULL;
    long long v = strtoll(s, &end, 10);
    if (errno == ERANGE || end != s + n->scalar_len)
        return yamldoc_error(err, d, n, "integer '%s' out of range", s);
    *out = (int64_t)v;
    return 0;
}

int yamldoc_get_double(const struct yamldoc_node *n, double *out, const struct yamldoc *d,
                       struct lw_err *err)
{
    if (!(typed_ok(n, TAG_FLOAT) || typed_ok(n, TAG_INT)) || yamldoc_is_null(n))
        return yamldoc_error(err, d, n, "expected a number, got %s",
                             n->kind == YAMLDOC_SCALAR && !yamldoc_is_null(n) ? "a quoted string"
                                                                              : kind_name(n));
    const char *s = n->scalar;
    const char *body = (s[0] == '-' || s[0] == '+') ? s + 1 : s;
    if (strcasecmp(body, ".inf") == 0) {
        *out = s[0] == '-' ? -INFINITY : INFINITY;
        return 0;
    }
    if (s == body && strcasecmp(s, ".nan") == 0) {
        *out = NAN;
        return 0;
    }
    /* Only decimal digits, one point and an exponent: strtod alone would also take hex floats
     * and "infinity", which YAML does not mean. */
    bool digit = false;
    for (const char *p = body; *p; p++) {
        if (*p >= '0' && *p <= '9')
            digit = true;
        else if (*p != '.' && *p != 'e' && *p != 'E' && *p != '-' && *p != '+')
            return yamldoc_error(err, d, n, "expected a number, got '%s'", s);
    }
    errno = 0;
    char *end = NULL;
    double v = strtod(s, &end);
    if (!digit || end != s + n->scalar_len)
        return yamldoc_error(err, d, n, "expected a number, got '%s'", s);
    if (errno == ERANGE && (v == HUGE_VAL || v == -HUGE_VAL))
        return yamldoc_error(err, d, n, "number '%s' out of range", s);
    *out = v;
    return 0;
}

int yamldoc_get_duration_ms(const struct yamldoc_node *n, int64_t *out, const struct yamldoc *d,
                            struct lw_err *err)
{
    if (n->kind != YAMLDOC_SCALAR || yamldoc_is_null(n))
        return yamldoc_error(err, d, n, "expected a duration like 30s or 5m, got %s", kind_name(n));
    struct lw_err derr = {0};
    if (duration_parse(n->scalar, n->scalar_len, out, &derr) != 0) {
        int col = n->col;
        /* Point inside the text when the text is exactly what the source line shows. */
        if (n->single_line && n->plain && derr.col > 0)
            col = n->col + derr.col - 1;
        return error_at(err, d, n->line, col, "invalid duration '%s': %s", n->scalar, derr.msg);
    }
    return 0;
}

/* ---- ${VAR} interpolation ------------------------------------------------------------------- */

static const char *env_getenv(const char *name, void *ctx)
{
    (void)ctx;
    return getenv(name);
}

static bool name_char(char c, bool first)
{
    return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (!first && c >= '0' && c <= '9');
}

static int interpolate_scalar(const struct yamldoc *d, struct yamldoc_node *n,
                              yamldoc_env_fn lookup, void *ctx, struct lw_err *err)
{
    if (memchr(n->scalar, '$', n->scalar_len) == NULL)
        return 0;
    struct lw_buf b;
    lw_buf_init(&b, LW_MAX_YAML_SCALAR_BYTES);
    const char *s = n->scalar;
    size_t len = n->scalar_len, i = 0;
    int rc = -1;
    while (i < len) {
        int col = n->plain && n->single_line ? n->col + (int)i : n->col;
        if (s[i] == '$' && i + 2 < len && s[i + 1] == '$' && s[i + 2] == '{') {
            (void)lw_buf_add(&b, "${", 2);
            i += 3;
            continue;
        }
        if (!(s[i] == '$' && i + 1 < len && s[i + 1] == '{')) {
            (void)lw_buf_add(&b, s + i, 1);
            i++;
            continue;
        }
        size_t name_start = i + 2, j = name_start;
        while (j < len && name_char(s[j], j == name_start))
            j++;
        if (j == name_start || j >= len) {
            error_at(err, d, n->line, col,
                     "malformed variable reference: expected ${NAME} or ${NAME:-default}");
            goto cleanup;
        }
        char name[256];
        if (j - name_start >= sizeof name) {
            error_at(err, d, n->line, col, "variable name too long");
            goto cleanup;
        }
        memcpy(name, s + name_start, j - name_start);
        name[j - name_start] = '\0';
        const char *def = NULL;
        size_t def_len = 0;
        if (s[j] == ':' && j + 1 < len && s[j + 1] == '-') {
            size_t k = j + 2;
            while (k < len && s[k] != '}')
                k++;
            if (k >= len) {
                error_at(err, d, n->line, col, "unterminated ${%s:-...}: missing '}'", name);
                goto cleanup;
            }
            def = s + j + 2;
            def_len = k - (j + 2);
            j = k;
        } else if (s[j] != '}') {
            error_at(err, d, n->line, col,
                     "malformed variable reference: expected ${NAME} or ${NAME:-default}");
            goto cleanup;
        }
        const char *val = lookup(name, ctx);
        if (val && val[0]) /* ":-" semantics: set but empty also takes the default */
            (void)lw_buf_add(&b, val, strlen(val));
        else if (def)
            (void)lw_buf_add(&b, def, def_len);
        else if (val == NULL) {
            error_at(err, d, n->line, col,
                     "environment variable %s is not set (use ${%s:-default} for a default)", name,
                     name);
            goto cleanup;
        }
        i = j + 1;
    }
    if (b.failed) {
        error_at(err, d, n->line, n->col, "value longer than %u bytes after interpolation",
                 LW_MAX_YAML_SCALAR_BYTES);
        goto cleanup;
    }
    char *text = b.data ? b.data : strdup("");
    if (text == NULL) {
        error_at(err, d, n->line, n->col, "out of memory");
        goto cleanup;
    }
    free(n->scalar);
    n->scalar = text;
    n->scalar_len = b.len;
    n->single_line = n->single_line && memchr(text, '\n', b.len) == NULL;
    return 0;
cleanup:
    lw_buf_cleanup(&b);
    return rc;
}

static int interpolate_node(const struct yamldoc *d, struct yamldoc_node *n, yamldoc_env_fn lookup,
                            void *ctx, struct lw_err *err)
{
    if (n->kind == YAMLDOC_SCALAR)
        return interpolate_scalar(d, n, lookup, ctx, err);
    for (size_t i = n->kind == YAMLDOC_MAP ? 1 : 0; i < n->n; i += n->kind == YAMLDOC_MAP ? 2 : 1)
        if (interpolate_node(d, n->items[i], lookup, ctx, err) != 0)
            return -1;
    return 0;
}

int yamldoc_interpolate(struct yamldoc *d, yamldoc_env_fn lookup, void *ctx, struct lw_err *err)
{
    if (d->root == NULL)
        return 0;
    return interpolate_node(d, d->root, lookup ? lookup : env_getenv, ctx, err);
}

/* ---- emitting ------------------------------------------------------------------------------- */

static int emit_write(void *data, unsigned char *buffer, size_t size)
{
    return lw_buf_add(data, buffer, size) == 0; /* libyaml: 1 is success */
}

static int emit_scalar(yaml_emitter_t *em, const char *text, size_t len, bool plain)
{
    yaml_event_t ev;
    if (!yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)text, (int)len, plain ? 1 : 0,
                                      1, YAML_ANY_SCALAR_STYLE))
        return -1;
    return yaml_emitter_emit(em, &ev) ? 0 : -1;
}

static int emit_node(yaml_emitter_t *em, const struct yamldoc_node *n, yamldoc_secret_fn secret,
                     void *ctx)
{
    yaml_event_t ev;
    if (n->kind == YAMLDOC_SCALAR)
        return emit_scalar(em, n->scalar, n->scalar_len, n->plain);
    if (n->kind == YAMLDOC_SEQ) {
        if (!yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE) ||
            !yaml_emitter_emit(em, &ev))
            return -1;
        for (size_t i = 0; i < n->n; i++)
            if (emit_node(em, n->items[i], secret, ctx) != 0)
                return -1;
        if (!yaml_sequence_end_event_initialize(&ev) || !yaml_emitter_emit(em, &ev))
            return -1;
        return 0;
    }
    if (!yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE) ||
        !yaml_emitter_emit(em, &ev))
        return -1;
    for (size_t i = 0; i + 1 < n->n; i += 2) {
        const struct yamldoc_node *k = n->items[i], *v = n->items[i + 1];
        if (emit_node(em, k, secret, ctx) != 0)
            return -1;
        bool hide =
            secret && k->kind == YAMLDOC_SCALAR && !yamldoc_is_null(v) && secret(k->scalar, ctx);
        if (hide ? emit_scalar(em, "<secret>", 8, false) : emit_node(em, v, secret, ctx) != 0)
            return -1;
    }
    if (!yaml_mapping_end_event_initialize(&ev) || !yaml_emitter_emit(em, &ev))
        return -1;
    return 0;
}

int yamldoc_emit(const struct yamldoc_node *n, yamldoc_secret_fn secret, void *ctx,
                 struct lw_buf *out)
{
    yaml_emitter_t em;
    if (!yaml_emitter_initialize(&em))
        return -1;
    yaml_emitter_set_output(&em, emit_write, out);
    yaml_emitter_set_unicode(&em, 1);
    yaml_emitter_set_width(&em, 100);
    yaml_event_t ev;
    int rc = -1;
    if (!yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) ||
        !yaml_emitter_emit(&em, &ev))
        goto cleanup;
    if (!yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1) ||
        !yaml_emitter_emit(&em, &ev))
        goto cleanup;
    if (n ? emit_node(&em, n, secret, ctx) != 0 : emit_scalar(&em, "", 0, true) != 0)
        goto cleanup;
    if (!yaml_document_end_event_initialize(&ev, 1) || !yaml_emitter_emit(&em, &ev))
        goto cleanup;
    if (!yaml_stream_end_event_initialize(&ev) || !yaml_emitter_emit(&em, &ev))
        goto cleanup;
    if (!yaml_emitter_flush(&em))
        goto cleanup;
    rc = out->failed ? -1 : 0;
cleanup:
    yaml_emitter_delete(&em);
    return rc;
}
