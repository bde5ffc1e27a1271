/*
 * log.c — formats log lines as logfmt or JSON and writes them to stderr (or a sink tests set).
 * It does not buffer, rotate or filter by module: one process, one stream, systemd or ECS takes
 * it from there. Lines longer than LOG_LINE_MAX are cut, never split.
 */
#include "lagwatch/log.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lagwatch/buf.h"

#define LOG_LINE_MAX 8192

static enum log_level g_level = LOG_LEVEL_INFO;
static enum log_format g_format = LOG_FORMAT_LOGFMT;
static log_sink_fn g_sink;
static void *g_sink_ud;

static const char *const level_names[] = {"debug", "info", "warn", "error"};

void log_init(enum log_level level, enum log_format format)
{
    g_level = level;
    g_format = format;
}

int log_parse_level(const char *s, enum log_level *out)
{
    for (int i = 0; i < 4; i++) {
        if (strcmp(s, level_names[i]) == 0) {
            *out = (enum log_level)i;
            return 0;
        }
    }
    return -1;
}

int log_parse_format(const char *s, enum log_format *out)
{
    if (strcmp(s, "logfmt") == 0)
        *out = LOG_FORMAT_LOGFMT;
    else if (strcmp(s, "json") == 0)
        *out = LOG_FORMAT_JSON;
    else
        return -1;
    return 0;
}

void log_set_sink(log_sink_fn fn, void *ud)
{
    g_sink = fn;
    g_sink_ud = ud;
}

int log_enabled(enum log_level level)
{
    return level >= g_level;
}

/* logfmt: quote when the value has a space, '=', '"' or a control character. */
static void add_logfmt_value(struct lw_buf *b, const char *v)
{
    int quote = v[0] == '\0';
    for (const char *p = v; *p && !quote; p++)
        if (*p == ' ' || *p == '=' || *p == '"' || (unsigned char)*p < 0x20)
            quote = 1;
    if (!quote) {
        lw_buf_adds(b, v);
        return;
    }
    lw_buf_addc(b, '"');
    for (const char *p = v; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"' || c == '\\')
            lw_buf_addf(b, "\\%c", c);
        else if (c == '\n')
            lw_buf_adds(b, "\\n");
        else if (c < 0x20)
            lw_buf_addf(b, "\\u%04x", c);
        else
            lw_buf_addc(b, (char)c);
    }
    lw_buf_addc(b, '"');
}

static void add_json_string(struct lw_buf *b, const char *v)
{
    lw_buf_addc(b, '"');
    for (const char *p = v; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"' || c == '\\')
            lw_buf_addf(b, "\\%c", c);
        else if (c == '\n')
            lw_buf_adds(b, "\\n");
        else if (c < 0x20)
            lw_buf_addf(b, "\\u%04x", c);
        else
            lw_buf_addc(b, (char)c);
    }
    lw_buf_addc(b, '"');
}

static void add_field(struct lw_buf *b, int first, const char *k, const char *v)
{
    if (g_format == LOG_FORMAT_JSON) {
        lw_buf_adds(b, first ? "{" : ",");
        add_json_string(b, k);
        lw_buf_addc(b, ':');
        add_json_string(b, v);
    } else {
        if (!first)
            lw_buf_addc(b, ' ');
        lw_buf_adds(b, k);
        lw_buf_addc(b, '=');
        add_logfmt_value(b, v);
    }
}

static void emit(enum log_level level, const char *msg, va_list *fields)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    char when[64];
    snprintf(when, sizeof when, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
             (long)(ts.tv_nsec / 1000000) % 1000);

    struct lw_buf b;
    lw_buf_init(&b, LOG_LINE_MAX);
    add_field(&b, 1, "ts", when);
    add_field(&b, 0, "level", level_names[level]);
    add_field(&b, 0, "msg", msg);
    if (fields) {
        const char *k;
        while ((k = va_arg(*fields, const char *)) != NULL) {
            const char *v = va_arg(*fields, const char *);
            add_field(&b, 0, k, v ? v : "");
        }
    }
    if (g_format == LOG_FORMAT_JSON)
        lw_buf_addc(&b, '}');
    if (g_sink)
        g_sink(lw_buf_str(&b), g_sink_ud);
    else
        fprintf(stderr, "%s\n", lw_buf_str(&b));
    lw_buf_cleanup(&b);
}

void log_kv(enum log_level level, const char *msg, ...)
{
    if (!log_enabled(level))
        return;
    va_list ap;
    va_start(ap, msg);
    emit(level, msg, &ap);
    va_end(ap);
}

static void vlog(enum log_level level, const char *fmt, va_list ap) LW_PRINTF(2, 0);
static void vlog(enum log_level level, const char *fmt, va_list ap)
{
    if (!log_enabled(level))
        return;
    char msg[2048];
    vsnprintf(msg, sizeof msg, fmt, ap);
    emit(level, msg, NULL);
}

#define LOG_FN(name, level)         \
    void name(const char *fmt, ...) \
    {                               \
        va_list ap;                 \
        va_start(ap, fmt);          \
        vlog(level, fmt, ap);       \
        va_end(ap);                 \
    }
LOG_FN(log_debug, LOG_LEVEL_DEBUG)
LOG_FN(log_info, LOG_LEVEL_INFO)
LOG_FN(log_warn, LOG_LEVEL_WARN)
LOG_FN(log_error, LOG_LEVEL_ERROR)
