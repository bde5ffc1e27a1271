/*
 * template_fmt.c — how Go and Prometheus print numbers in alert templates (see template.h).
 * Go's %v of a float64 is the shortest decimal that reads back as the same double, printed
 * with %e when the decimal exponent is below -4 or at least 6 (strconv's 'g' with precision -1),
 * which C's printf has no verb for: the shortest precision is found by round-tripping through
 * strtod. Go's %.Ng agrees with C's %.Ng except for the spellings of NaN and infinities. The
 * humanize* functions follow Prometheus's template/template.go exactly, including its loops over
 * prefixes, so outputs such as "1.235M" or "1d 0h 0m 1s" match what Prometheus sends.
 */
#include "lagwatch/template.h"

#include <inttypes.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Go's spelling of a non-finite float, or NULL for a finite one. */
static const char *go_special(double v)
{
    if (isnan(v))
        return "NaN";
    if (isinf(v))
        return v > 0 ? "+Inf" : "-Inf";
    return NULL;
}

int template_fmt_float_g(double v, int prec, struct lw_buf *out)
{
    const char *sp = go_special(v);
    if (sp != NULL)
        return lw_buf_adds(out, sp);
    if (prec < 1)
        prec = 1;
    if (prec > 17)
        prec = 17;
    return lw_buf_addf(out, "%.*g", prec, v);
}

void template_shortest_digits(double v, char *digits, size_t dlen, int *exp10)
{
    char tmp[40];
    for (int prec = 0; prec <= 16; prec++) {
        snprintf(tmp, sizeof tmp, "%.*e", prec, v);
        if (strtod(tmp, NULL) == v)
            break;
    }
    /* tmp is "[-]d[.ddd]e[+-]xx" */
    const char *p = tmp;
    if (*p == '-')
        p++;
    size_t n = 0;
    for (; *p && *p != 'e' && n + 1 < dlen; p++)
        if (*p != '.')
            digits[n++] = *p;
    digits[n] = '\0';
    *exp10 = (int)strtol(p + 1, NULL, 10);
    while (n > 1 && digits[n - 1] == '0') /* "%.0e" of 100 gives "1e+02": no trailing zeros */
        digits[--n] = '\0';
}

int template_fmt_sci(double v, int pad2, struct lw_buf *out)
{
    char d[32];
    int e;
    template_shortest_digits(v, d, sizeof d, &e);
    lw_buf_adds(out, signbit(v) ? "-" : "");
    lw_buf_addc(out, d[0]);
    if (d[1]) {
        lw_buf_addc(out, '.');
        lw_buf_adds(out, d + 1);
    }
    return lw_buf_addf(out, pad2 ? "e%c%02d" : "e%c%d", e < 0 ? '-' : '+', e < 0 ? -e : e);
}

int template_fmt_float_v(double v, struct lw_buf *out)
{
    const char *sp = go_special(v);
    if (sp != NULL)
        return lw_buf_adds(out, sp);
    if (v == 0)
        return lw_buf_adds(out, signbit(v) ? "-0" : "0");
    char d[32];
    int exp10;
    template_shortest_digits(v, d, sizeof d, &exp10);
    if (exp10 < -4 || exp10 >= 6)
        return template_fmt_sci(v, 1, out);
    long decimals = (long)strlen(d) - 1 - exp10;
    if (decimals < 0)
        decimals = 0;
    return lw_buf_addf(out, "%.*f", (int)decimals, v);
}

int template_humanize(double v, struct lw_buf *out)
{
    if (v == 0 || !isfinite(v))
        return template_fmt_float_g(v, 4, out);
    static const char *const big[] = {"k", "M", "G", "T", "P", "E", "Z", "Y"};
    static const char *const small[] = {"m", "u", "n", "p", "f", "a", "z", "y"};
    const char *prefix = "";
    if (fabs(v) >= 1) {
        for (size_t i = 0; i < sizeof big / sizeof big[0]; i++) {
            if (fabs(v) < 1000)
                break;
            prefix = big[i];
            v /= 1000;
        }
    } else {
        for (size_t i = 0; i < sizeof small / sizeof small[0]; i++) {
            if (fabs(v) >= 1)
                break;
            prefix = small[i];
            v *= 1000;
        }
    }
    if (template_fmt_float_g(v, 4, out) != 0)
        return -1;
    return lw_buf_adds(out, prefix);
}

int template_humanize1024(double v, struct lw_buf *out)
{
    if (fabs(v) <= 1 || !isfinite(v))
        return template_fmt_float_g(v, 4, out);
    static const char *const pfx[] = {"ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi"};
    const char *prefix = "";
    for (size_t i = 0; i < sizeof pfx / sizeof pfx[0]; i++) {
        if (fabs(v) < 1024)
            break;
        prefix = pfx[i];
        v /= 1024;
    }
    if (template_fmt_float_g(v, 4, out) != 0)
        return -1;
    return lw_buf_adds(out, prefix);
}

int template_humanize_duration(double v, struct lw_buf *out)
{
    if (!isfinite(v))
        return template_fmt_float_g(v, 4, out);
    if (v == 0)
        return lw_buf_adds(out, "0s");
    if (fabs(v) >= 1) {
        const char *sign = "";
        if (v < 0) {
            sign = "-";
            v = -v;
        }
        /* Go's int64(v) truncates; beyond int64 it is undefined in Go, saturate here. */
        int64_t d = v >= 9.2e18 ? INT64_MAX : (int64_t)v;
        int64_t seconds = d % 60, minutes = d / 60 % 60, hours = d / 3600 % 24, days = d / 86400;
        if (days != 0)
            return lw_buf_addf(out, "%s%" PRId64 "d %" PRId64 "h %" PRId64 "m %" PRId64 "s", sign,
                               days, hours, minutes, seconds);
        if (hours != 0)
            return lw_buf_addf(out, "%s%" PRId64 "h %" PRId64 "m %" PRId64 "s", sign, hours,
                               minutes, seconds);
        if (minutes != 0)
            return lw_buf_addf(out, "%s%" PRId64 "m %" PRId64 "s", sign, minutes, seconds);
        if (lw_buf_adds(out, sign) != 0 || template_fmt_float_g(v, 4, out) != 0)
            return -1;
        return lw_buf_addc(out, 's');
    }
    static const char *const small[] = {"m", "u", "n", "p", "f", "a", "z", "y"};
    const char *prefix = "";
    for (size_t i = 0; i < sizeof small / sizeof small[0]; i++) {
        if (fabs(v) >= 1)
            break;
        prefix = small[i];
        v *= 1000;
    }
    if (template_fmt_float_g(v, 4, out) != 0 || lw_buf_adds(out, prefix) != 0)
        return -1;
    return lw_buf_addc(out, 's');
}

int template_humanize_percentage(double v, struct lw_buf *out)
{
    if (template_fmt_float_g(v * 100, 4, out) != 0)
        return -1;
    return lw_buf_addc(out, '%');
}

int template_humanize_timestamp(double v, struct lw_buf *out)
{
    /* int64(v * 1e9) must fit: outside that Go's result is undefined; print the number. */
    if (!isfinite(v) || fabs(v) >= 9.2e9)
        return template_fmt_float_g(v, 4, out);
    int64_t ns = (int64_t)(v * 1e9);
    int64_t ms = ns / 1000000; /* model.TimeFromUnixNano: integer division, towards zero */
    int64_t sec = ms / 1000, frac_ms = ms % 1000;
    if (frac_ms < 0) { /* time.Unix normalises a negative fraction into the previous second */
        frac_ms += 1000;
        sec--;
    }
    time_t t = (time_t)sec;
    struct tm tm;
    if (gmtime_r(&t, &tm) == NULL)
        return template_fmt_float_g(v, 4, out);
    if (lw_buf_addf(out, "%04d-%02d-%02d %02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                    tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec) != 0)
        return -1;
    if (frac_ms != 0) {
        char f[8];
        snprintf(f, sizeof f, ".%03" PRId64, frac_ms);
        size_t len = strlen(f);
        while (f[len - 1] == '0') /* Go's .999999999 layout drops trailing zeros */
            f[--len] = '\0';
        if (lw_buf_adds(out, f) != 0)
            return -1;
    }
    return lw_buf_adds(out, " +0000 UTC");
}
