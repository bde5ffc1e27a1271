/*
 * bench_promql.c — PromQL evaluation speed on a store shaped like lagwatch's: N Debezium-like
 * series (default 10,000 across 100 pipelines) scraped every 15 s for 10 minutes, and the kinds
 * of expressions the default rule pack uses (threshold, rate, joins on `pipeline`, aggregation,
 * absent, predict_linear). Each expression is evaluated repeatedly at the newest instant.
 *
 *   bench_promql [SERIES] [ROUNDS]   prints per-expression evaluations/s and the store's bytes
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "lagwatch/promql.h"
#include "lagwatch/store.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    long n_series = argc > 1 ? strtol(argv[1], NULL, 10) : 10000;
    long rounds = argc > 2 ? strtol(argv[2], NULL, 10) : 20;
    if (n_series < 100 || rounds < 1) {
        fprintf(stderr, "usage: bench_promql [SERIES>=100] [ROUNDS>=1]\n");
        return 2;
    }
    struct store_options so = {.retention_ms = 3600 * 1000};
    struct store *st = store_new(&so);
    const int64_t step_ms = 15000, n_points = 40;
    char pipeline[32], task[32];
    double t0 = now_s();
    for (long i = 0; i < n_series; i++) {
        struct lw_labels ls;
        lw_labels_init(&ls);
        snprintf(pipeline, sizeof pipeline, "p%ld", i % 100);
        snprintf(task, sizeof task, "t%ld", i / 100);
        const char *name = i % 2 ? "debezium_metrics_MilliSecondsBehindSource"
                                 : "debezium_metrics_TotalNumberOfEventsSeen";
        if (lw_labels_set(&ls, "__name__", name) != 0 ||
            lw_labels_set(&ls, "pipeline", pipeline) != 0 ||
            lw_labels_set(&ls, "task", task) != 0 || lw_labels_set(&ls, "job", "connect") != 0)
            return 1;
        for (int64_t k = 0; k < n_points; k++) {
            struct lw_err err = {0};
            double v = i % 2 ? (double)((i * 7 + k * 13) % 120000) : (double)(k * 100 + i);
            if (store_append(st, &ls, k * step_ms, v, &err) < 0) {
                fprintf(stderr, "append: %s\n", err.msg);
                return 1;
            }
        }
        lw_labels_cleanup(&ls);
    }
    double load_s = now_s() - t0;
    const char *exprs[] = {
        "debezium_metrics_MilliSecondsBehindSource > 60000",
        "rate(debezium_metrics_TotalNumberOfEventsSeen[5m])",
        "sum by (pipeline) (rate(debezium_metrics_TotalNumberOfEventsSeen[5m])) == 0",
        ("max by (pipeline) (debezium_metrics_MilliSecondsBehindSource) / 1000 + on(pipeline) "
         "group_left sum by (pipeline) (debezium_metrics_TotalNumberOfEventsSeen) * 0"),
        "absent(debezium_metrics_MilliSecondsBehindSource{pipeline=\"p7\"})",
        "predict_linear(debezium_metrics_TotalNumberOfEventsSeen{pipeline=~\"p1.*\"}[10m], 86400)",
        "topk(5, debezium_metrics_MilliSecondsBehindSource)",
    };
    int64_t t = (n_points - 1) * step_ms;
    printf("store: %ld series x %lld samples loaded in %.2f s, %zu bytes\n", n_series,
           (long long)n_points, load_s, store_bytes(st));
    double total_s = 0;
    long total_evals = 0;
    for (size_t i = 0; i < sizeof exprs / sizeof exprs[0]; i++) {
        struct promql_expr *e;
        struct lw_err err = {0};
        if (promql_parse(exprs[i], strlen(exprs[i]), &e, &err) != 0) {
            fprintf(stderr, "parse: %s\n", err.msg);
            return 1;
        }
        size_t n_out = 0;
        double s = now_s();
        for (long r = 0; r < rounds; r++) {
            struct promql_value v;
            if (promql_eval_instant(e, st, t, NULL, &v, &err) != 0) {
                fprintf(stderr, "eval: %s\n", err.msg);
                return 1;
            }
            n_out = v.n_vec;
            promql_value_cleanup(&v);
        }
        double el = now_s() - s;
        total_s += el;
        total_evals += rounds;
        printf("%10.1f evals/s  %6zu results  %s\n", (double)rounds / el, n_out, exprs[i]);
        promql_expr_free(e);
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("overall: %.1f evals/s over %ld series; max RSS %ld KiB\n",
           (double)total_evals / total_s, n_series, ru.ru_maxrss);
    store_free(st);
    return 0;
}
