/*
 * bench_expfmt.c — parse throughput of the exposition parser on a Kafka Connect-like page, next
 * to `cat` on the same file. Writes a page of the requested size (default 20 MB) shaped like a
 * JMX exporter 0.x scrape of a Connect worker with Debezium connectors (HELP/TYPE per family,
 * trailing commas, Java floats, NaN, client/topic/partition labels), then reads it back with
 * read(2) in 64 KiB chunks into the streaming parser, as a scrape body would arrive.
 *
 *   bench_expfmt [MB] [FILE]      prints bytes, samples, parse MB/s, cat MB/s
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lagwatch/expfmt.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void write_page(const char *path, size_t want)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        exit(1);
    }
    static const char *const fams[] = {
        "kafka_consumer_fetch_manager_metrics_records_lag",
        "kafka_consumer_fetch_manager_metrics_records_lead_min",
        "kafka_producer_topic_metrics_record_send_rate",
        "kafka_producer_topic_metrics_byte_rate",
        "kafka_connect_sink_task_metrics_offset_commit_completion_rate",
        "kafka_connect_source_task_metrics_source_record_poll_rate",
    };
    size_t written = 0;
    unsigned seed = 1;
    for (int round = 0; written < want; round++) {
        for (size_t fi = 0; fi < sizeof fams / sizeof fams[0] && written < want; fi++) {
            int n = fprintf(
                f, "# HELP %s_%d The %s attribute (kafka.consumer<type=x>)\n# TYPE %s_%d untyped\n",
                fams[fi], round, fams[fi], fams[fi], round);
            written += (size_t)n;
            for (int i = 0; i < 200; i++) {
                seed = seed * 1103515245u + 12345u;
                double v = (double)(seed % 100000) * 1.37;
                if (i % 50 == 7)
                    n = fprintf(f,
                                "%s_%d{client_id=\"connector-consumer-orders-mysql-%d\",topic="
                                "\"orders.inventory.t%d\",partition=\"%d\",} NaN\n",
                                fams[fi], round, i % 8, i, i % 12);
                else
                    n = fprintf(f,
                                "%s_%d{client_id=\"connector-consumer-orders-mysql-%d\",topic="
                                "\"orders.inventory.t%d\",partition=\"%d\",} %.8E\n",
                                fams[fi], round, i % 8, i, i % 12, v);
                written += (size_t)n;
            }
        }
    }
    fclose(f);
}

static int count_cb(void *ud, const struct expfmt_sample *s, struct lw_err *err)
{
    (void)err;
    size_t *n = ud;
    *n += s->labels->n > 0;
    return 0;
}

int main(int argc, char **argv)
{
    size_t mb = argc > 1 ? strtoul(argv[1], NULL, 10) : 20;
    const char *path = argc > 2 ? argv[2] : "/tmp/lagwatch-bench-expfmt.prom";
    write_page(path, mb * 1000 * 1000);

    struct expfmt_limits lim;
    expfmt_limits_default(&lim);
    lim.max_bytes = (size_t)-1 / 4;
    lim.max_samples = (size_t)-1 / 4;
    static char chunk[64 * 1024];
    double best = 1e9;
    size_t bytes = 0, samples = 0;
    for (int rep = 0; rep < 5; rep++) {
        int fd = open(path, O_RDONLY);
        if (fd < 0) {
            perror(path);
            return 1;
        }
        size_t n = 0;
        struct expfmt_parser *p = expfmt_parser_new(EXPFMT_TEXT_004, &lim, count_cb, &n);
        struct lw_err err;
        double t0 = now_s();
        ssize_t got;
        bytes = 0;
        while ((got = read(fd, chunk, sizeof chunk)) > 0) {
            bytes += (size_t)got;
            if (expfmt_parser_feed(p, chunk, (size_t)got, &err) != 0) {
                fprintf(stderr, "parse error %d:%d: %s\n", err.line, err.col, err.msg);
                return 1;
            }
        }
        if (expfmt_parser_finish(p, &err) != 0) {
            fprintf(stderr, "parse error %d:%d: %s\n", err.line, err.col, err.msg);
            return 1;
        }
        double dt = now_s() - t0;
        samples = expfmt_parser_samples(p);
        expfmt_parser_free(p);
        close(fd);
        if (dt < best)
            best = dt;
        (void)n;
    }
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "cat '%s' >/dev/null", path);
    double cat_best = 1e9;
    for (int rep = 0; rep < 5; rep++) {
        double t0 = now_s();
        if (system(cmd) != 0)
            return 1;
        double dt = now_s() - t0;
        if (dt < cat_best)
            cat_best = dt;
    }
    snprintf(cmd, sizeof cmd, "cat '%s' | cat >/dev/null", path);
    double pipe_best = 1e9;
    for (int rep = 0; rep < 5; rep++) {
        double t0 = now_s();
        if (system(cmd) != 0)
            return 1;
        double dt = now_s() - t0;
        if (dt < pipe_best)
            pipe_best = dt;
    }
    printf("page: %s, %zu bytes, %zu samples\n", path, bytes, samples);
    printf("expfmt parse (0.0.4, 64 KiB reads): %.0f MB/s (%.1f ms, best of 5), %.0f ns/sample\n",
           (double)bytes / best / 1e6, best * 1e3, best * 1e9 / (double)samples);
    printf("cat FILE >/dev/null:                 %.0f MB/s (%.1f ms, best of 5)\n",
           (double)bytes / cat_best / 1e6, cat_best * 1e3);
    printf("cat FILE | cat >/dev/null:           %.0f MB/s (%.1f ms, best of 5)\n",
           (double)bytes / pipe_best / 1e6, pipe_best * 1e3);
    return 0;
}
