/*
 * fuzz_sources.c — libFuzzer target for the JSON answers the sources interpret: a Kafka Connect
 * /connectors/<name>/status body and a Prometheus /api/v1/query body (the first byte picks
 * which), including the trace trimming. jansson does the JSON; this checks lagwatch's reading of
 * it never crashes, leaks or accepts half an answer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lagwatch/source_kafka_connect.h"
#include "lagwatch/source_prometheus.h"

static int count_append(void *ud, const struct lw_labels *ls, int64_t t_ms, double v,
                        struct lw_err *err)
{
    (void)t_ms;
    (void)v;
    (void)err;
    size_t *n = ud;
    *n += ls->n;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *body = (const char *)data + 1;
    size_t len = size - 1;
    size_t n = 0;
    struct source_sink sink = {&n, NULL, count_append, NULL};
    struct lw_err err;
    if (data[0] & 1) {
        struct source_kc_status st;
        if (source_kc_parse_status(body, len, &st, &err) == 0) {
            if (source_kc_emit(&st, "p", NULL, 0, &sink, &err) != 0)
                abort();
            source_kc_status_cleanup(&st);
        }
        char *copy = malloc(len + 1);
        if (!copy)
            return 0;
        memcpy(copy, body, len);
        copy[len] = '\0';
        free(source_kc_trace_head(copy));
        free(copy);
    } else {
        (void)!source_prom_parse(body, len, "p", NULL, &sink, &err);
    }
    return 0;
}
