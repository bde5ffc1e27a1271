/*
 * notify_config.h — decoding the Alertmanager-shaped parts of lagwatch's config: `route`,
 * `receivers`, `inhibit_rules` and `time_intervals` (also accepted under Alertmanager's older name
 * `mute_time_intervals`), with every error at its file:line:column and cross-checks (a route
 * naming an unknown receiver or time interval, duplicate receiver names). Secrets may come from
 * `*_file` keys, read here relative to the config file's directory and wiped on cleanup.
 */
#ifndef LAGWATCH_NOTIFY_CONFIG_H
#define LAGWATCH_NOTIFY_CONFIG_H

#include <stddef.h>

#include "lagwatch/error.h"
#include "lagwatch/receivers.h"
#include "lagwatch/route.h"
#include "lagwatch/suppress.h"
#include "lagwatch/yamldoc.h"

struct notify_config {
    struct route *route; /* NULL when the config has no route (nothing is sent) */
    struct receivers receivers;
    struct inhibit_rule *inhibit;
    size_t n_inhibit;
    struct time_interval *intervals;
    size_t n_intervals;
};

/* Decode the four sections (any may be NULL). base_dir resolves relative *_file paths. On
 * failure out is left empty and err names the place. */
LW_MUST_CHECK int notify_config_decode(const struct yamldoc *d, const struct yamldoc_node *route,
                                       const struct yamldoc_node *receivers,
                                       const struct yamldoc_node *inhibit_rules,
                                       const struct yamldoc_node *time_intervals,
                                       const char *base_dir, struct notify_config *out,
                                       struct lw_err *err);

void notify_config_cleanup(struct notify_config *c);

/* The named time interval, or NULL. */
const struct time_interval *notify_config_interval(const struct notify_config *c, const char *name);

#endif
