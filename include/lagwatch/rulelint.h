/*
 * rulelint.h — what `lagwatch check-rules` and `lagwatch validate` say about rules that load but
 * would not do what their author means, measured against the series lagwatch's sources produce:
 *
 *   errors    Debezium attributes that do not exist (SecondsBehindMaster, SecondsSinceLastEvent,
 *             NumberOfEventsSkipped, typos), with the right name to use; Debezium's rule-less
 *             exporter names, which lagwatch renames to debezium_metrics_<Attribute> so a rule
 *             that selects them never matches; canonical names in the wrong case.
 *   warnings  alerts without a `severity` label or a `summary` annotation; `for` shorter than
 *             the group's evaluation interval; selectors of metrics no lagwatch source produces
 *             (only a prometheus_sources query could yield them).
 */
#ifndef LAGWATCH_RULELINT_H
#define LAGWATCH_RULELINT_H

#include <stddef.h>
#include <stdint.h>

#include "lagwatch/buf.h"
#include "lagwatch/rules.h"

struct rulelint_result {
    size_t errors, warnings;
};

/* Lint every rule of rs; groups without an interval are taken to run every
 * default_interval_ms. Each finding is appended to out as "file:line:col: error: ..." or
 * "...: warning: ..." and counted in *res (added to). Returns 0, or -1 when out refused bytes. */
int rulelint_run(const struct rule_set *rs, int64_t default_interval_ms, struct lw_buf *out,
                 struct rulelint_result *res);

#endif
