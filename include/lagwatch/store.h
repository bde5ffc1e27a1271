/*
 * store.h — the in-memory sample store the rule engine evaluates over. Each series (a label set,
 * __name__ included) keeps its samples in time order in one contiguous window of a growable
 * array, so a range selector is a pointer and a count, never a copy. Samples older than the
 * retention (the longest range in the loaded rules plus the 5-minute lookback) are dropped by
 * store_gc, and series left without samples go with them, so memory is bounded by
 * max_series × samples per retention window.
 *
 * Staleness is Prometheus's: a stale marker is a sample whose value has the StaleNaN bit pattern
 * (0x7ff0000000000002). Sources append one when a series disappears from a successful scrape or
 * the source fails; the evaluator treats a series whose latest sample in the lookback window is a
 * stale marker as absent. An ordinary NaN is a value, not a marker.
 *
 * Appends follow Prometheus's TSDB rules: a sample older than the series' newest one is refused
 * (out of order), a second sample at the same timestamp is ignored when its value has the same
 * bits and refused otherwise (CloudWatch re-publishing a minute with the same datapoint is thus
 * harmless). A refused sample never changes the series.
 *
 * Not thread-safe: one writer (the agent's event loop) and readers on the same thread.
 */
#ifndef LAGWATCH_STORE_H
#define LAGWATCH_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lagwatch/error.h"
#include "lagwatch/labels.h"
#include "lagwatch/matcher.h"

#define STORE_STALE_NAN_BITS 0x7ff0000000000002ULL

/* Whether v carries the stale-marker bit pattern exactly (any other NaN is not a marker). */
bool store_is_stale_nan(double v);

/* A stale marker value. */
double store_stale_nan(void);

struct store_sample {
    int64_t t_ms; /* Unix milliseconds */
    double v;
};

struct store_options {
    int64_t retention_ms; /* samples older than now - retention_ms are dropped by store_gc; > 0 */
    size_t max_series;    /* appends creating a series beyond this fail; 0 = LW_MAX_STORE_SERIES */
};

struct store;
struct store_series;

/* Results of store_append other than 0. All are negative, so `if (store_append(...) < 0)` is the
 * usual check; callers that ingest repeating sources (CloudWatch) tell the kinds apart. */
enum store_append_err {
    STORE_ERR_NOMEM = -1,
    STORE_ERR_OUT_OF_ORDER = -2, /* t_ms older than the series' newest sample */
    STORE_ERR_DUPLICATE = -3,    /* same t_ms as the newest sample, different value bits */
    STORE_ERR_SERIES_LIMIT = -4, /* would create series number max_series + 1 */
    STORE_ERR_BAD_LABELS = -5,   /* empty label set */
};

/* A new empty store, or NULL when opts is invalid (retention_ms <= 0) or memory runs out. */
struct store *store_new(const struct store_options *opts);

/* Free the store, its series and samples. NULL is allowed. Pointers obtained from the store
 * (series, labels, sample ranges) are invalid afterwards. */
void store_free(struct store *s);

/* Append (t_ms, v) to the series named by ls, creating it (with a copy of ls) if new. Returns 0,
 * or one of enum store_append_err with err->msg saying why; a refused sample leaves the store
 * unchanged. A same-timestamp sample with identical value bits returns 0 and changes nothing.
 * Series pointers and sample ranges obtained earlier stay valid only until the next append or gc
 * on the store. */
LW_MUST_CHECK int store_append(struct store *s, const struct lw_labels *ls, int64_t t_ms, double v,
                               struct lw_err *err);

/* Every series whose labels satisfy all n matchers (n may be 0: every series), in label order
 * (lw_labels_cmp, the order PromQL results show). *out gets a malloc'd array of n_out pointers that
 * the caller frees (not the series; NULL when n_out is 0). Returns 0, or -1 when memory runs out
 * (*out untouched). A `__name__="x"` matcher makes the select look only at series of that metric
 * name. */
LW_MUST_CHECK int store_select(const struct store *s, const struct lw_matcher *ms, size_t n,
                               const struct store_series ***out, size_t *n_out, struct lw_err *err);

/* The series' labels (owned by the store). */
const struct lw_labels *store_series_labels(const struct store_series *ser);

/* The samples with mint_excl < t_ms <= maxt_incl (left-open, as Prometheus 3 ranges are), in
 * time order and contiguous: *out points into the store (NULL when the count is 0). Stale markers
 * are included; the evaluator decides what they mean. */
size_t store_series_range(const struct store_series *ser, int64_t mint_excl, int64_t maxt_incl,
                          const struct store_sample **out);

/* The newest sample of the series, or NULL when it has none. */
const struct store_sample *store_series_last(const struct store_series *ser);

/* Change the retention (a reload that loads rules with longer ranges); takes effect at the next
 * store_gc. Returns 0, or -1 when retention_ms <= 0 (unchanged). */
LW_MUST_CHECK int store_set_retention(struct store *s, int64_t retention_ms);
int64_t store_retention_ms(const struct store *s);

/* Drop samples with t_ms < now_ms - retention_ms, and series left without samples. */
void store_gc(struct store *s, int64_t now_ms);

/* Remove every series (a test script's `clear`); the options stay. */
void store_clear(struct store *s);

size_t store_series_count(const struct store *s);

/* Samples held across all series. */
size_t store_sample_count(const struct store *s);

/* Heap bytes the store holds: series records, label strings, sample arrays (allocated capacity,
 * not only what is in use) and index tables. Reported in /metrics. */
size_t store_bytes(const struct store *s);

#endif
