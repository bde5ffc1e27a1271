/*
 * bench_store.c — the sample store under an agent-like load: S series spread over 40 metric
 * names (Debezium/Kafka Connect-like label sets of 7 labels), one sample per series every 15 s,
 * retention 65 minutes (a 1 h range plus the 5 m lookback), store_gc after every scrape, for the
 * given number of scrapes. Then selects as PromQL does them: by metric name (the name index),
 * by name plus a label regexp, and by a label only (full scan), each followed by a 5-minute
 * range read of every selected series.
 *
 *   bench_store [SERIES] [SCRAPES]     default 10000 series, 480 scrapes (2 h of data)
 *
 * Prints appends/s (gc included), bytes per sample at steady state, selects/s per kind. Times
 * are process CPU time, so other load on a shared machine does not distort them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lagwatch/store.h"

#define N_NAMES     40
#define INTERVAL_MS 15000
#define RETAIN_MS   (65 * 60 * 1000)

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
    fprintf(stderr, "bench_store: %s\n", what);
    exit(1);
}

static struct lw_labels *make_series(size_t n)
{
    struct lw_labels *v = calloc(n, sizeof *v);
    if (v == NULL)
        die("out of memory");
    char name[96], buf[64];
    for (size_t i = 0; i < n; i++) {
        lw_labels_init(&v[i]);
        snprintf(name, sizeof name, "debezium_metrics_attribute_%zu", i % N_NAMES);
        int ok = lw_labels_set(&v[i], "__name__", name) == 0;
        snprintf(buf, sizeof buf, "mysql-orders-%zu", (i / N_NAMES) % 50);
        ok = ok && lw_labels_set(&v[i], "name", buf) == 0;
        ok = ok && lw_labels_set(&v[i], "context", i % 2 ? "streaming" : "snapshot") == 0;
        ok = ok && lw_labels_set(&v[i], "plugin", "mysql") == 0;
        snprintf(buf, sizeof buf, "connect-worker-%zu:9404", (i / N_NAMES) % 7);
        ok = ok && lw_labels_set(&v[i], "instance", buf) == 0;
        ok = ok && lw_labels_set(&v[i], "job", "kafka-connect") == 0;
        snprintf(buf, sizeof buf, "pipeline-%zu", i / N_NAMES);
        ok = ok && lw_labels_set(&v[i], "pipeline", buf) == 0;
        if (!ok)
            die("out of memory");
    }
    return v;
}

static double bench_select(struct store *st, const struct lw_matcher *ms, size_t n_ms, int reps,
                           int64_t t_ms, size_t *series_out, size_t *samples_out)
{
    double t0 = now_s();
    size_t total_series = 0, total_samples = 0;
    for (int r = 0; r < reps; r++) {
        const struct store_series **v;
        size_t n;
        struct lw_err err = {0};
        if (store_select(st, ms, n_ms, &v, &n, &err) != 0)
            die(err.msg);
        for (size_t i = 0; i < n; i++) {
            const struct store_sample *smp;
            total_samples += store_series_range(v[i], t_ms - 300000, t_ms, &smp);
        }
        total_series += n;
        free((void *)v);
    }
    double dt = now_s() - t0;
    *series_out = total_series / (size_t)reps;
    *samples_out = total_samples / (size_t)reps;
    return (double)reps / dt;
}

int main(int argc, char **argv)
{
    size_t n_series = argc > 1 ? strtoul(argv[1], NULL, 10) : 10000;
    size_t scrapes = argc > 2 ? strtoul(argv[2], NULL, 10) : 480;
    if (n_series == 0 || scrapes == 0)
        die("usage: bench_store [SERIES] [SCRAPES]");
    struct lw_labels *series = make_series(n_series);
    struct store_options o = {.retention_ms = RETAIN_MS, .max_series = n_series};
    struct store *st = store_new(&o);
    if (st == NULL)
        die("store_new failed");

    unsigned seed = 7;
    double t0 = now_s();
    for (size_t k = 0; k < scrapes; k++) {
        int64_t t = (int64_t)k * INTERVAL_MS;
        for (size_t i = 0; i < n_series; i++) {
            seed = seed * 1103515245u + 12345u;
            struct lw_err err;
            if (store_append(st, &series[i], t, (double)(seed % 100000), &err) != 0)
                die(err.msg);
        }
        store_gc(st, t);
    }
    double dt = now_s() - t0;
    size_t appends = n_series * scrapes;
    int64_t t_end = (int64_t)(scrapes - 1) * INTERVAL_MS;
    size_t samples = store_sample_count(st), bytes = store_bytes(st);
    printf("store: %zu series, %zu scrapes: %.2f M appends/s (%.0f ns/append, gc included)\n",
           n_series, scrapes, (double)appends / dt / 1e6, dt / (double)appends * 1e9);
    printf("store: %zu samples held, %zu bytes, %.1f bytes/sample (16 for the sample itself)\n",
           samples, bytes, (double)bytes / (double)samples);

    struct lw_matcher m[2];
    struct lw_err err = {0};
    if (lw_matcher_init(&m[0], LW_MATCH_EQ, "__name__", "debezium_metrics_attribute_3", &err) ||
        lw_matcher_init(&m[1], LW_MATCH_RE, "name", "mysql-orders-1.*", &err))
        die(err.msg);
    size_t ns, nsmp;
    double rate = bench_select(st, m, 1, 2000, t_end, &ns, &nsmp);
    printf("select by name:           %8.0f selects/s (%zu series, %zu samples in 5m each)\n", rate,
           ns, nsmp);
    rate = bench_select(st, m, 2, 2000, t_end, &ns, &nsmp);
    printf("select by name + regexp:  %8.0f selects/s (%zu series, %zu samples)\n", rate, ns, nsmp);
    rate = bench_select(st, &m[1], 1, 50, t_end, &ns, &nsmp);
    printf("select by regexp only:    %8.0f selects/s (%zu series, full scan)\n", rate, ns);
    lw_matcher_cleanup(&m[0]);
    lw_matcher_cleanup(&m[1]);
    store_free(st);
    for (size_t i = 0; i < n_series; i++)
        lw_labels_cleanup(&series[i]);
    free(series);
    return 0;
}
