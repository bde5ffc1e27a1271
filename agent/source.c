/*
 * source.c — helpers every source shares: calling the optional sink hooks and emitting the
 * per-target health series (up, scrape_duration_seconds). See source.h.
 */
#include "lagwatch/source.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void source_sink_begin(const struct source_sink *sink, const char *scope, int64_t t_ms)
{
    if (sink->begin)
        sink->begin(sink->ud, scope, t_ms);
}

void source_sink_end(const struct source_sink *sink, const char *scope, bool ok, int64_t t_ms)
{
    if (sink->end)
        sink->end(sink->ud, scope, ok, t_ms);
}

int source_emit_health(const struct source_sink *sink, const char *source, const char *pipeline,
                       const char *instance, const struct lw_labels *base, bool up,
                       double duration_s, int64_t t_ms, struct lw_err *err)
{
    struct lw_labels ls;
    int rc = -1;
    if (base) {
        if (lw_labels_copy(&ls, base) != 0)
            return lw_err_set(err, 0, 0, "out of memory");
    } else {
        lw_labels_init(&ls);
    }
    if (lw_labels_set(&ls, "__name__", "up") != 0 || lw_labels_set(&ls, "source", source) != 0 ||
        (pipeline && lw_labels_set(&ls, "pipeline", pipeline) != 0) ||
        (instance && lw_labels_set(&ls, "instance", instance) != 0)) {
        lw_err_set(err, 0, 0, "out of memory");
        goto cleanup;
    }
    if (sink->append(sink->ud, &ls, t_ms, up ? 1.0 : 0.0, err) != 0)
        goto cleanup;
    if (lw_labels_set(&ls, "__name__", "scrape_duration_seconds") != 0) {
        lw_err_set(err, 0, 0, "out of memory");
        goto cleanup;
    }
    if (sink->append(sink->ud, &ls, t_ms, duration_s, err) != 0)
        goto cleanup;
    rc = 0;
cleanup:
    lw_labels_cleanup(&ls);
    return rc;
}

char *source_url_escape(const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(s);
    char *out = malloc(n * 3 + 1);
    if (!out)
        return NULL;
    char *o = out;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned char c = *p;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~') {
            *o++ = (char)c;
        } else {
            *o++ = '%';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 15];
        }
    }
    *o = '\0';
    return out;
}

char *source_url_redact(const char *url)
{
    const char *p = strstr(url, "://");
    const char *host = p ? p + 3 : url;
    size_t n = strcspn(host, "/?#");
    const char *at = memchr(host, '@', n);
    if (at == NULL)
        return strdup(url);
    size_t pre = (size_t)(host - url);
    char *out = malloc(strlen(url) + 1);
    if (!out)
        return NULL;
    memcpy(out, url, pre);
    memcpy(out + pre, at + 1, strlen(at + 1) + 1);
    return out;
}
