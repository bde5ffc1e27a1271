/*
 * duration.c — parse and print Prometheus durations. The grammar is Prometheus's own
 * (model.ParseDuration): one or more <digits><unit> terms, units strictly decreasing, so "1h30m"
 * is valid and "30m1h" or "1h1h" are not. Overflow of int64 milliseconds is an error.
 */
#include "lagwatch/duration.h"

#include <stdio.h>
#include <string.h>

struct unit {
    const char *name;
    int64_t ms;
};

/* Largest first; "ms" must be tried before "m". */
static const struct unit units[] = {
    {"y", 365LL * 24 * 3600 * 1000},
    {"w", 7LL * 24 * 3600 * 1000},
    {"d", 24LL * 3600 * 1000},
    {"h", 3600LL * 1000},
    {"m", 60LL * 1000},
    {"s", 1000},
    {"ms", 1},
};
#define N_UNITS (sizeof units / sizeof units[0])

static int match_unit(const char *s, size_t len, size_t *ulen)
{
    /* "ms" before "m" (index 6 before 4). */
    if (len >= 2 && s[0] == 'm' && s[1] == 's') {
        *ulen = 2;
        return 6;
    }
    for (int i = 0; i < 6; i++) {
        if (len >= 1 && s[0] == units[i].name[0]) {
            *ulen = 1;
            return i;
        }
    }
    return -1;
}

int duration_parse(const char *s, size_t len, int64_t *out_ms, struct lw_err *err)
{
    if (len == 0)
        return lw_err_set(err, 0, 1, "empty duration");
    if (len == 1 && s[0] == '0') {
        *out_ms = 0;
        return 0;
    }
    int64_t total = 0;
    int last_unit = -1;
    size_t i = 0;
    while (i < len) {
        size_t start = i;
        int64_t n = 0;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            if (n > (INT64_MAX - (s[i] - '0')) / 10)
                return lw_err_set(err, 0, (int)start + 1, "duration out of range");
            n = n * 10 + (s[i] - '0');
            i++;
        }
        if (i == start)
            return lw_err_set(err, 0, (int)i + 1,
                              "not a valid duration: expected a number like \"5m\" or \"1h30m\"");
        size_t ulen = 0;
        int u = match_unit(s + i, len - i, &ulen);
        if (u < 0)
            return lw_err_set(err, 0, (int)i + 1,
                              "not a valid duration: expected a unit (ms, s, m, h, d, w, y)");
        if (u <= last_unit)
            return lw_err_set(err, 0, (int)i + 1,
                              "not a valid duration: units must go from largest to smallest, "
                              "each once");
        last_unit = u;
        if (n > INT64_MAX / units[u].ms || total > INT64_MAX - n * units[u].ms)
            return lw_err_set(err, 0, (int)start + 1, "duration out of range");
        total += n * units[u].ms;
        i += ulen;
    }
    *out_ms = total;
    return 0;
}

char *duration_format(int64_t ms, char *out, size_t outlen)
{
    size_t pos = 0;
    if (outlen == 0)
        return out;
    out[0] = '\0';
    if (ms == 0) {
        snprintf(out, outlen, "0s");
        return out;
    }
    uint64_t v;
    if (ms < 0) {
        pos += (size_t)snprintf(out, outlen, "-");
        v = (uint64_t)(-(ms + 1)) + 1;
    } else {
        v = (uint64_t)ms;
    }
    for (size_t i = 0; i < N_UNITS && pos < outlen; i++) {
        uint64_t u = (uint64_t)units[i].ms;
        /* Prometheus prints years and weeks only when they divide the rest exactly ("90d",
         * not "12w6d"). */
        if ((i == 0 || i == 1) && v % u != 0)
            continue;
        if (v >= u) {
            uint64_t n = v / u;
            int w =
                snprintf(out + pos, outlen - pos, "%llu%s", (unsigned long long)n, units[i].name);
            if (w < 0)
                break;
            pos += (size_t)w;
            v -= n * u;
        }
    }
    return out;
}
