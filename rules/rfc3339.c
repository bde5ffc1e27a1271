/*
 * rfc3339.c — Go-compatible RFC 3339 timestamps (see rfc3339.h). Civil-from-days arithmetic
 * instead of timegm/gmtime so that the full range of years works without the C library's
 * time_t or locale.
 */
#include "lagwatch/rfc3339.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Days since 1970-01-01 of y-m-d (proleptic Gregorian). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

char *rfc3339_format(int64_t t_ms, char *out, size_t outlen)
{
    if (t_ms == RFC3339_ZERO_MS) {
        snprintf(out, outlen, "0001-01-01T00:00:00Z");
        return out;
    }
    int64_t secs = t_ms >= 0 ? t_ms / 1000 : (t_ms - 999) / 1000;
    int ms = (int)(t_ms - secs * 1000);
    int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
    int64_t sod = secs - days * 86400;
    int64_t y;
    int m, d;
    civil_from_days(days, &y, &m, &d);
    char frac[8] = "";
    if (ms) {
        snprintf(frac, sizeof(frac), ".%03d", ms);
        size_t n = strlen(frac);
        while (n > 1 && frac[n - 1] == '0')
            frac[--n] = '\0';
    }
    snprintf(out, outlen, "%04lld-%02d-%02dT%02d:%02d:%02d%sZ", (long long)y, m, d,
             (int)(sod / 3600), (int)(sod / 60 % 60), (int)(sod % 60), frac);
    return out;
}

static int digits(const char *s, size_t len, size_t at, size_t n, int *out)
{
    int v = 0;
    if (at + n > len)
        return -1;
    for (size_t i = at; i < at + n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

int rfc3339_parse(const char *s, size_t len, int64_t *out_ms, struct lw_err *err)
{
    int y, mo, d, h, mi, se;
    if (digits(s, len, 0, 4, &y) || len < 5 || s[4] != '-')
        return lw_err_set(err, 0, 1, "bad timestamp: expected YYYY-");
    if (digits(s, len, 5, 2, &mo) || len < 8 || s[7] != '-' || mo < 1 || mo > 12)
        return lw_err_set(err, 0, 6, "bad timestamp: expected month MM-");
    if (digits(s, len, 8, 2, &d) || len < 11 || (s[10] != 'T' && s[10] != 't') || d < 1 || d > 31)
        return lw_err_set(err, 0, 9, "bad timestamp: expected day DDT");
    if (digits(s, len, 11, 2, &h) || len < 14 || s[13] != ':' || h > 23)
        return lw_err_set(err, 0, 12, "bad timestamp: expected hour hh:");
    if (digits(s, len, 14, 2, &mi) || len < 17 || s[16] != ':' || mi > 59)
        return lw_err_set(err, 0, 15, "bad timestamp: expected minute mm:");
    if (digits(s, len, 17, 2, &se) || se > 60)
        return lw_err_set(err, 0, 18, "bad timestamp: expected seconds ss");
    size_t i = 19;
    int ms = 0;
    if (i < len && s[i] == '.') {
        size_t k = ++i;
        int scale = 100;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            ms += (s[i] - '0') * scale;
            scale /= 10;
            i++;
        }
        if (i == k)
            return lw_err_set(err, 0, (int)k + 1, "bad timestamp: expected fraction digits");
    }
    int64_t offset_s = 0;
    if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
        i++;
    } else if (i < len && (s[i] == '+' || s[i] == '-')) {
        int oh, om;
        bool neg = s[i] == '-';
        if (digits(s, len, i + 1, 2, &oh) || i + 3 >= len || s[i + 3] != ':' ||
            digits(s, len, i + 4, 2, &om) || oh > 23 || om > 59)
            return lw_err_set(err, 0, (int)i + 1, "bad timestamp: expected offset ±hh:mm");
        offset_s = (oh * 3600 + om * 60) * (neg ? -1 : 1);
        i += 6;
    } else {
        return lw_err_set(err, 0, (int)i + 1, "bad timestamp: expected Z or an offset");
    }
    if (i != len)
        return lw_err_set(err, 0, (int)i + 1, "bad timestamp: unexpected text after it");
    int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - offset_s;
    *out_ms = secs * 1000 + ms;
    return 0;
}
