/*
 * duration.h — Prometheus duration syntax ("90s", "1h30m", "500ms", "2w"), shared by the config
 * loader, rule files and PromQL. Units, largest first, each at most once: y (365d), w, d, h, m,
 * s, ms. "0" alone is zero. No sign, no fractions, no spaces.
 */
#ifndef LAGWATCH_DURATION_H
#define LAGWATCH_DURATION_H

#include <stddef.h>
#include <stdint.h>

#include "lagwatch/error.h"

/* Parse s[0..len) into milliseconds. On error returns -1, leaves *out_ms alone, and (if err is
 * not NULL) sets err->msg and err->col (1-based offset into s; err->line is left 0). */
LW_MUST_CHECK int duration_parse(const char *s, size_t len, int64_t *out_ms, struct lw_err *err);

/* Format ms the way Prometheus prints durations ("1h30m", "0s", "1m30s500ms") into out (at least
 * 32 bytes are always enough). Returns out. Negative values get a leading '-'. */
char *duration_format(int64_t ms, char *out, size_t outlen);

#endif
