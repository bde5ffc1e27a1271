/*
 * timeinterval.c — Alertmanager's time intervals (see suppress.h), evaluated in UTC. Every field
 * is a list of inclusive ranges except times, whose ranges are [start, end) in minutes of the
 * day. Days of month may count from the end (-1 is the last day), resolved against the month's
 * real length when matching.
 */
#include "lagwatch/suppress.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static const char *const weekday_names[] = {"sunday",   "monday", "tuesday", "wednesday",
                                            "thursday", "friday", "saturday"};
static const char *const month_names[] = {"january",   "february", "march",    "april",
                                          "may",       "june",     "july",     "august",
                                          "september", "october",  "november", "december"};

static int push(struct time_range **v, size_t *n, int begin, int end, struct lw_err *err)
{
    struct time_range *nv = realloc(*v, (*n + 1) * sizeof(**v));
    if (!nv)
        return lw_err_set(err, 0, 0, "out of memory");
    nv[*n].begin = begin;
    nv[*n].end = end;
    *v = nv;
    (*n)++;
    return 0;
}

/* A bounded decimal integer with optional leading '-'; the whole string must be consumed. */
static int parse_int(const char *s, size_t len, int *out)
{
    size_t i = 0;
    bool neg = false;
    if (i < len && s[i] == '-') {
        neg = true;
        i++;
    }
    if (i == len || len - i > 6)
        return -1;
    int v = 0;
    for (; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = neg ? -v : v;
    return 0;
}

/* Name (case-insensitive) or number within [lo, hi]. */
static int parse_item(const char *s, size_t len, const char *const *names, size_t n_names,
                      int name_base, int *out)
{
    for (size_t k = 0; names && k < n_names; k++)
        if (strlen(names[k]) == len && strncasecmp(names[k], s, len) == 0) {
            *out = (int)k + name_base;
            return 0;
        }
    return parse_int(s, len, out);
}

/* Split "a:b" or "a" and parse both ends. */
static int parse_range(const char *r, const char *const *names, size_t n_names, int name_base,
                       int *b, int *e)
{
    const char *colon = strchr(r, ':');
    size_t len = strlen(r);
    if (!colon)
        return parse_item(r, len, names, n_names, name_base, b) == 0 ? (*e = *b, 0) : -1;
    if (parse_item(r, (size_t)(colon - r), names, n_names, name_base, b) != 0)
        return -1;
    return parse_item(colon + 1, len - (size_t)(colon - r) - 1, names, n_names, name_base, e);
}

int time_interval_add_weekdays(struct time_interval_spec *s, const char *range, struct lw_err *err)
{
    int b, e;
    if (parse_range(range, weekday_names, 7, 0, &b, &e) != 0 || b < 0 || b > 6 || e < 0 || e > 6)
        return lw_err_set(err, 0, 0, "bad weekday range \"%s\" (use e.g. monday:friday)", range);
    if (b > e)
        return lw_err_set(err, 0, 0, "weekday range \"%s\" starts after it ends", range);
    return push(&s->weekdays, &s->n_weekdays, b, e, err);
}

int time_interval_add_days_of_month(struct time_interval_spec *s, const char *range,
                                    struct lw_err *err)
{
    int b, e;
    if (parse_range(range, NULL, 0, 0, &b, &e) != 0 || b == 0 || e == 0 || b < -31 || b > 31 ||
        e < -31 || e > 31)
        return lw_err_set(err, 0, 0, "bad day-of-month range \"%s\" (1..31 or -31..-1)", range);
    if ((b > 0 && e > 0 && b > e) || (b < 0 && e < 0 && b > e) || (b < 0 && e > 0))
        return lw_err_set(err, 0, 0, "day-of-month range \"%s\" starts after it ends", range);
    return push(&s->days_of_month, &s->n_days_of_month, b, e, err);
}

int time_interval_add_months(struct time_interval_spec *s, const char *range, struct lw_err *err)
{
    int b, e;
    if (parse_range(range, month_names, 12, 1, &b, &e) != 0 || b < 1 || b > 12 || e < 1 || e > 12)
        return lw_err_set(err, 0, 0, "bad month range \"%s\" (1..12 or january..december)", range);
    if (b > e)
        return lw_err_set(err, 0, 0, "month range \"%s\" starts after it ends", range);
    return push(&s->months, &s->n_months, b, e, err);
}

int time_interval_add_years(struct time_interval_spec *s, const char *range, struct lw_err *err)
{
    int b, e;
    if (parse_range(range, NULL, 0, 0, &b, &e) != 0 || b < 1 || e < 1)
        return lw_err_set(err, 0, 0, "bad year range \"%s\"", range);
    if (b > e)
        return lw_err_set(err, 0, 0, "year range \"%s\" starts after it ends", range);
    return push(&s->years, &s->n_years, b, e, err);
}

static int parse_hhmm(const char *s, int *minutes)
{
    size_t len = strlen(s);
    const char *colon = strchr(s, ':');
    int h, m;
    if (!colon || colon - s < 1 || colon - s > 2 || len - (size_t)(colon - s) - 1 != 2 ||
        parse_int(s, (size_t)(colon - s), &h) != 0 || parse_int(colon + 1, 2, &m) != 0 || h < 0 ||
        m < 0 || m > 59 || h > 24 || (h == 24 && m != 0))
        return -1;
    *minutes = h * 60 + m;
    return 0;
}

int time_interval_add_time(struct time_interval_spec *s, const char *start, const char *end,
                           struct lw_err *err)
{
    int b, e;
    if (!start || parse_hhmm(start, &b) != 0)
        return lw_err_set(err, 0, 0, "bad start_time \"%s\" (HH:MM)", start ? start : "");
    if (!end || parse_hhmm(end, &e) != 0)
        return lw_err_set(err, 0, 0, "bad end_time \"%s\" (HH:MM)", end ? end : "");
    if (b >= e)
        return lw_err_set(err, 0, 0, "start_time %s must be before end_time %s", start, end);
    return push(&s->times, &s->n_times, b, e, err);
}

void time_interval_spec_cleanup(struct time_interval_spec *s)
{
    free(s->times);
    free(s->weekdays);
    free(s->days_of_month);
    free(s->months);
    free(s->years);
    memset(s, 0, sizeof(*s));
}

void time_interval_cleanup(struct time_interval *ti)
{
    for (size_t i = 0; i < ti->n_specs; i++)
        time_interval_spec_cleanup(&ti->specs[i]);
    free(ti->specs);
    free(ti->name);
    memset(ti, 0, sizeof(*ti));
}

static bool in_ranges(const struct time_range *v, size_t n, int x)
{
    if (n == 0)
        return true;
    for (size_t i = 0; i < n; i++)
        if (x >= v[i].begin && x <= v[i].end)
            return true;
    return false;
}

static int days_in_month(int year, int month /* 1..12 */)
{
    static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (month == 2 && ((year % 4 == 0 && year % 100 != 0) || year % 400 == 0))
        return 29;
    return d[month - 1];
}

bool time_interval_spec_contains(const struct time_interval_spec *s, int64_t t_ms)
{
    time_t t = (time_t)(t_ms >= 0 ? t_ms / 1000 : (t_ms - 999) / 1000);
    struct tm tm;
    if (!gmtime_r(&t, &tm))
        return false;
    int minute = tm.tm_hour * 60 + tm.tm_min;
    if (s->n_times) {
        bool hit = false;
        for (size_t i = 0; i < s->n_times && !hit; i++)
            hit = minute >= s->times[i].begin && minute < s->times[i].end;
        if (!hit)
            return false;
    }
    if (!in_ranges(s->weekdays, s->n_weekdays, tm.tm_wday))
        return false;
    if (s->n_days_of_month) {
        int year = tm.tm_year + 1900, month = tm.tm_mon + 1, dim = days_in_month(year, month);
        bool hit = false;
        for (size_t i = 0; i < s->n_days_of_month && !hit; i++) {
            int b = s->days_of_month[i].begin, e = s->days_of_month[i].end;
            if (b < 0)
                b = dim + b + 1;
            if (e < 0)
                e = dim + e + 1;
            if (b < 1)
                b = 1;
            if (e > dim)
                e = dim;
            hit = tm.tm_mday >= b && tm.tm_mday <= e;
        }
        if (!hit)
            return false;
    }
    if (!in_ranges(s->months, s->n_months, tm.tm_mon + 1))
        return false;
    return in_ranges(s->years, s->n_years, tm.tm_year + 1900);
}

bool time_interval_contains(const struct time_interval *ti, int64_t t_ms)
{
    for (size_t i = 0; i < ti->n_specs; i++)
        if (time_interval_spec_contains(&ti->specs[i], t_ms))
            return true;
    return false;
}
