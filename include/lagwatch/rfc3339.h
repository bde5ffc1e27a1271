/*
 * rfc3339.h — timestamps as Go prints and parses them (time.RFC3339Nano), which is what
 * Alertmanager's and Prometheus's JSON carry: "2026-11-28T14:30:00.123Z", trailing zeros of the
 * fraction dropped, Go's zero time "0001-01-01T00:00:00Z" for "no time". UTC only on output.
 */
#ifndef LAGWATCH_RFC3339_H
#define LAGWATCH_RFC3339_H

#include <stddef.h>
#include <stdint.h>

#include "lagwatch/error.h"

#define RFC3339_MAX     40
#define RFC3339_ZERO_MS INT64_MIN /* formats as Go's zero time */

/* Format t_ms (Unix ms, or RFC3339_ZERO_MS) into out (at least RFC3339_MAX bytes); returns out. */
char *rfc3339_format(int64_t t_ms, char *out, size_t outlen);

/* Parse an RFC 3339 timestamp with optional fraction and a Z or ±hh:mm offset into Unix ms
 * (fraction beyond ms truncated). Errors give the column. */
LW_MUST_CHECK int rfc3339_parse(const char *s, size_t len, int64_t *out_ms, struct lw_err *err);

#endif
