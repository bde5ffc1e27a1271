/*
 * labels.h — the label set every module shares: exposition parser, sample store, PromQL, alerts,
 * routing and notification payloads. A set is a small array of name/value pairs kept sorted by
 * name with unique names, owning its strings. Sets are small (a dozen labels), so sorted arrays
 * beat hash maps on every operation lagwatch does with them.
 *
 * An empty value is the same as an absent label (as in Prometheus): setting "" removes the name.
 * Fingerprints match Alertmanager's model.LabelSet.Fingerprint so that group keys and dedup keys
 * computed here agree with Alertmanager's and are pure functions of the labels.
 */
#ifndef LAGWATCH_LABELS_H
#define LAGWATCH_LABELS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lagwatch/buf.h"
#include "lagwatch/error.h"

struct lw_label {
    char *name;
    char *value;
};

struct lw_labels {
    struct lw_label *v; /* sorted by name (byte order), names unique */
    size_t n;
    size_t cap;
};

/* Make an empty set (no allocation). */
void lw_labels_init(struct lw_labels *ls);

/* Free every string and the array; the set is empty and initialised afterwards. Safe on an
 * initialised empty set. */
void lw_labels_cleanup(struct lw_labels *ls);

/* Remove every label but keep the array for reuse (no per-sample allocation in hot loops). */
void lw_labels_clear(struct lw_labels *ls);

/* Insert or replace name=value, copying both. An empty value removes the label. Returns 0, or -1
 * when memory runs out (the set is unchanged then). */
LW_MUST_CHECK int lw_labels_set(struct lw_labels *ls, const char *name, const char *value);

/* As lw_labels_set with lengths; the strings need not be NUL-terminated. */
LW_MUST_CHECK int lw_labels_setn(struct lw_labels *ls, const char *name, size_t name_len,
                                 const char *value, size_t value_len);

/* The value of name, or NULL when absent. The pointer lives until the set changes. */
const char *lw_labels_get(const struct lw_labels *ls, const char *name);

/* Remove name if present. */
void lw_labels_del(struct lw_labels *ls, const char *name);

/* Deep copy into dst, which is treated as uninitialised. Returns 0, or -1 (dst left empty). */
LW_MUST_CHECK int lw_labels_copy(struct lw_labels *dst, const struct lw_labels *src);

/* Total order of Prometheus's labels.Compare: label by label, names then values, shorter first. */
int lw_labels_cmp(const struct lw_labels *a, const struct lw_labels *b);

bool lw_labels_equal(const struct lw_labels *a, const struct lw_labels *b);

/* FNV-1a 64 over name, 0xff, value, 0xff for each label in name order: equal to Alertmanager's
 * model.LabelSet.Fingerprint() for the same set. */
uint64_t lw_labels_fingerprint(const struct lw_labels *ls);

/* Hash of a subset, for vector matching and grouping. keep=true: only the listed names (`on`,
 * `by`); keep=false: every label except the listed names and __name__ (`ignoring`, `without`).
 * Equal subsets give equal hashes; callers confirm equality on collision with
 * lw_labels_subset_equal. */
uint64_t lw_labels_hash_subset(const struct lw_labels *ls, const char *const *names, size_t n,
                               bool keep);

/* Whether a and b agree on the subset lw_labels_hash_subset describes. */
bool lw_labels_subset_equal(const struct lw_labels *a, const struct lw_labels *b,
                            const char *const *names, size_t n, bool keep);

/* Append {a="1", b="2"} as Prometheus prints a label set (values escaped as Go's %q does for
 * \\, \" and \n). Returns 0, or -1 when the buffer refused the bytes. */
int lw_labels_format(const struct lw_labels *ls, struct lw_buf *out);

/* Append the exposition form name{a="1",b="2"}: __name__ first as the metric name, braces omitted
 * when no other label exists. */
int lw_labels_format_metric(const struct lw_labels *ls, struct lw_buf *out);

#endif
