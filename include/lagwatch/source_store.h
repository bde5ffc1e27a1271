/*
 * source_store.h — the sink that connects sources to the sample store, with Prometheus's
 * staleness: for every fetch scope (a scrape target, a connector status URL, a query) it
 * remembers the series the previous fetch appended; when a fetch ends, each remembered series
 * the new fetch did not append gets a stale marker at the fetch's time (all of them when the
 * fetch failed, except up and scrape_duration_seconds, which a failed fetch appends itself).
 * That is what makes "connector metrics vanished after a task restart" and absent() alertable.
 *
 * Out-of-order and duplicate samples (store_append's refusals that repeat sources cause) are
 * counted, not fatal; running out of memory or the store's series limit stops the fetch.
 */
#ifndef LAGWATCH_SOURCE_STORE_H
#define LAGWATCH_SOURCE_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "lagwatch/source.h"
#include "lagwatch/store.h"

struct source_store_scope; /* private */

struct source_store_sink {
    struct store *store;
    struct source_store_scope *scopes;
    size_t n_scopes, cap_scopes;
    size_t refused;      /* out-of-order or duplicate samples, since init */
    size_t stale_marked; /* stale markers appended, since init */
};

/* Wrap store (borrowed; it must outlive the sink). */
void source_store_sink_init(struct source_store_sink *ss, struct store *store);

/* Forget every scope. Safe on an initialised sink. */
void source_store_sink_cleanup(struct source_store_sink *ss);

/* The source_sink to hand to the sources (points at ss). */
struct source_sink source_store_sink(struct source_store_sink *ss);

#endif
