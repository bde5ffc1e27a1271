/*
 * template.h — the value formatting of Prometheus's alert templates, byte for byte as Go and
 * Prometheus print it: Go's %v of a float64 (shortest round-trip digits, exponent from 1e21 and
 * below 1e-4, "+Inf", "NaN"), Go's %.4g, and the humanize* functions of Prometheus's
 * template/template.go. The template language itself (parser, pipelines, control flow) builds
 * on these. Pure: no locale, no clock.
 */
#ifndef LAGWATCH_TEMPLATE_H
#define LAGWATCH_TEMPLATE_H

#include <stddef.h>

#include "lagwatch/buf.h"

/* Append v as Go's fmt %v (strconv.FormatFloat(v, 'g', -1, 64) with %v's exponent threshold):
 * 1 -> "1", 0.1 -> "0.1", 1234567 -> "1.234567e+06", 1e-05 -> "1e-05", +Inf -> "+Inf". 0 / -1
 * (buffer refused). */
int template_fmt_float_v(double v, struct lw_buf *out);

/* Append v as Go's fmt "%.<prec>g" (prec 1..17): C's %g with Go's spellings of NaN and ±Inf. */
int template_fmt_float_g(double v, int prec, struct lw_buf *out);

/* Prometheus's humanize: SI prefixes with 4 significant digits (1234567 -> "1.235M",
 * 0.001234 -> "1.234m"). 0 / -1. */
int template_humanize(double v, struct lw_buf *out);

/* humanize1024: binary prefixes ki Mi Gi ... (1048576 -> "1Mi"); |v| <= 1 printed as %.4g. */
int template_humanize1024(double v, struct lw_buf *out);

/* humanizeDuration of v seconds: "1d 2h 3m 4s", "1m 30s", "1.5s", "12.5ms", "0s". */
int template_humanize_duration(double v, struct lw_buf *out);

/* humanizePercentage: v * 100 as %.4g and "%" (0.1234 -> "12.34%"). */
int template_humanize_percentage(double v, struct lw_buf *out);

/* humanizeTimestamp of v Unix seconds, in Go's time.Time String form at millisecond precision
 * (as Prometheus's model.Time): "1970-01-01 00:00:01.5 +0000 UTC". NaN/Inf as %.4g. */
int template_humanize_timestamp(double v, struct lw_buf *out);

#endif
