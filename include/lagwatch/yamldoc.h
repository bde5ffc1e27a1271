/*
 * yamldoc.h — a YAML document as a tree of nodes that remember where they start (line, column),
 * built on libyaml's event parser. The config loader, the rule-file loader and the notification
 * config decoders read YAML through it so that every error they report says file:line:col.
 *
 * What it does: one document per buffer (a second document is refused), anchors and aliases
 * resolved by copying under a node budget (so "billion laughs" inputs fail cleanly instead of
 * eating memory), nesting depth capped, duplicate mapping keys refused, complex (non-scalar)
 * keys refused. What it does not do: typing. Scalars stay text; the yamldoc_get_* helpers turn
 * them into strings, booleans, numbers and durations with typed errors. `${VAR}` interpolation
 * is a separate pass (yamldoc_interpolate) because rule files must not get it.
 */
#ifndef LAGWATCH_YAMLDOC_H
#define LAGWATCH_YAMLDOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lagwatch/buf.h"
#include "lagwatch/error.h"

enum yamldoc_kind { YAMLDOC_SCALAR, YAMLDOC_SEQ, YAMLDOC_MAP };

struct yamldoc_node {
    enum yamldoc_kind kind;
    int line, col;   /* 1-based, where the node starts */
    const char *tag; /* NULL unless explicit ("tag:yaml.org,2002:str" for !!str) */
    char *scalar;    /* SCALAR: the text, NUL-terminated (may hold NULs: use scalar_len) */
    size_t scalar_len;
    bool plain;       /* plain (unquoted, not block) scalars may be null/bool/number */
    bool single_line; /* the scalar's text sits on one source line (column maths is exact) */
    struct yamldoc_node **items; /* SEQ: items; MAP: keys[i]=items[2i], values[i]=items[2i+1] */
    size_t n;                    /* SEQ: number of items; MAP: 2 * number of pairs */
};

struct yamldoc {
    struct yamldoc_node *root; /* NULL for an empty stream (no document at all) */
    char *filename;            /* as given to yamldoc_parse ("" if none) */
    size_t n_nodes;            /* nodes built, alias copies included */
};

/* Parse buf[0..len) (need not be NUL-terminated) into *out. filename (may be NULL) is only used
 * in error positions. Anchors/aliases are expanded within LW_MAX_YAML_NODES; depth is capped at
 * LW_MAX_YAML_DEPTH; multi-document streams, duplicate keys and complex keys are refused.
 * Returns 0 and a document the caller frees with yamldoc_free, or -1 with err set
 * (file:line:col of the fault) and *out untouched. */
LW_MUST_CHECK int yamldoc_parse(const char *buf, size_t len, const char *filename,
                                struct yamldoc **out, struct lw_err *err);

/* Free a document and every node; NULL is fine. */
void yamldoc_free(struct yamldoc *d);

/* Number of key/value pairs of a map (0 for anything else), and the i-th key and value. */
size_t yamldoc_map_size(const struct yamldoc_node *map);
const struct yamldoc_node *yamldoc_map_key(const struct yamldoc_node *map, size_t i);
const struct yamldoc_node *yamldoc_map_value(const struct yamldoc_node *map, size_t i);

/* The value under key in map; NULL if key is absent or map is NULL or not a map. */
const struct yamldoc_node *yamldoc_map_get(const struct yamldoc_node *map, const char *key);

/* True when n is a scalar whose bytes are exactly s. */
bool yamldoc_scalar_is(const struct yamldoc_node *n, const char *s);

/* Set err to "<message>" at at's position in d's file (at may be NULL: file only). Returns -1. */
int yamldoc_error(struct lw_err *err, const struct yamldoc *d, const struct yamldoc_node *at,
                  const char *fmt, ...) LW_PRINTF(4, 5);

/* Refuse a node that is not a map, and any key of map not in allowed (NULL-terminated), with
 * "unknown key 'x' (did you mean 'y'?)" when an allowed key is a small edit away, else the list
 * of allowed keys. Returns 0 or -1 with err at the offending key. */
LW_MUST_CHECK int yamldoc_check_keys(const struct yamldoc *d, const struct yamldoc_node *map,
                                     const char *const *allowed, struct lw_err *err);

/* The closest of candidates (NULL-terminated) to word by edit distance, or NULL if none is
 * close enough to be a plausible typo. Exposed for other "did you mean" messages. */
const char *yamldoc_suggest(const char *word, const char *const *candidates);

/* True for an absent node (NULL) and for the plain scalars "", "~", "null", "Null", "NULL". */
bool yamldoc_is_null(const struct yamldoc_node *n);

/* Typed reads. Each returns 0 and writes *out, or -1 with err at n ("expected a duration, got a
 * mapping", ...) and *out untouched. n must not be NULL.
 * - string: any non-null scalar without NUL bytes; *out points into the document.
 * - bool: plain true/false (any case of the YAML 1.2 core schema spellings).
 * - int64: plain decimal integer with optional sign, range-checked.
 * - double: plain decimal or exponent number, .inf/-.inf/.nan spellings.
 * - duration_ms: Prometheus duration ("90s", "1h30m"); errors point at the column inside. */
LW_MUST_CHECK int yamldoc_get_string(const struct yamldoc_node *n, const char **out,
                                     const struct yamldoc *d, struct lw_err *err);
LW_MUST_CHECK int yamldoc_get_bool(const struct yamldoc_node *n, bool *out, const struct yamldoc *d,
                                   struct lw_err *err);
LW_MUST_CHECK int yamldoc_get_int64(const struct yamldoc_node *n, int64_t *out,
                                    const struct yamldoc *d, struct lw_err *err);
LW_MUST_CHECK int yamldoc_get_double(const struct yamldoc_node *n, double *out,
                                     const struct yamldoc *d, struct lw_err *err);
LW_MUST_CHECK int yamldoc_get_duration_ms(const struct yamldoc_node *n, int64_t *out,
                                          const struct yamldoc *d, struct lw_err *err);

/* Look up an environment variable for yamldoc_interpolate: return its value (the callee keeps
 * ownership; it must stay valid until the call returns) or NULL when it is not set. */
typedef const char *(*yamldoc_env_fn)(const char *name, void *ctx);

/* Replace `${NAME}` and `${NAME:-default}` in every non-key scalar of d by lookup's answer
 * (NULL lookup: getenv). `$${` is a literal `${`; a lone `$` stays. An unset variable without a
 * default, a malformed reference or a result over LW_MAX_YAML_SCALAR_BYTES is an error at the
 * scalar. Plain scalars stay plain, so `${PORT:-9741}` can still be read as a number. */
LW_MUST_CHECK int yamldoc_interpolate(struct yamldoc *d, yamldoc_env_fn lookup, void *ctx,
                                      struct lw_err *err);

/* Decide whether the value under a map key is secret (redacted by yamldoc_emit). */
typedef bool (*yamldoc_secret_fn)(const char *key, void *ctx);

/* Append n to out as one YAML document (libyaml's emitter, block style), every value whose map
 * key secret() (may be NULL) says is secret printed as "<secret>". Returns 0, or -1 if the
 * emitter fails or out is full. */
LW_MUST_CHECK int yamldoc_emit(const struct yamldoc_node *n, yamldoc_secret_fn secret, void *ctx,
                               struct lw_buf *out);

/* Build trees by hand (config --print renders the effective config this way). A new node has
 * line and col 0; nodes are freed with yamldoc_node_free (recursively; NULL is fine). append
 * takes ownership of item (also on failure, when it is freed). map_put appends a pair with a
 * plain-scalar key. scalar text is copied; plain says whether it is emitted unquoted if the
 * emitter allows it. */
struct yamldoc_node *yamldoc_node_new(enum yamldoc_kind kind);
struct yamldoc_node *yamldoc_node_new_scalar(const char *text, bool plain);
LW_MUST_CHECK int yamldoc_node_append(struct yamldoc_node *parent, struct yamldoc_node *item);
LW_MUST_CHECK int yamldoc_node_map_put(struct yamldoc_node *map, const char *key,
                                       struct yamldoc_node *value);
void yamldoc_node_free(struct yamldoc_node *n);

/* A deep copy of n (positions kept); NULL on allocation failure. */
struct yamldoc_node *yamldoc_node_copy(const struct yamldoc_node *n);

#endif
