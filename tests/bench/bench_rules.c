/*
 * bench_rules.c — rule evaluation at scale (issue 6's benchmark): 1,000 alerting rules in ten
 * groups over 100,000 series, the shapes the default rule pack uses (thresholds over a whole
 * metric, max_over_time aggregated by pipeline, rate, one pipeline's series, absent), each with
 * `for: 1m` so the alert state machine runs too.
 *
 *   bench_rules [SERIES] [ROUNDS]      evaluate every group ROUNDS times (default 100000, 20)
 *   bench_rules --write-promtool DIR [SERIES]
 *       write DIR/rules.yml and DIR/test.yml (promtool's unit-test format, SERIES input series,
 *       default 4000, 10 minutes at 15 s) so tests/bench/bench_rules_vs_promtool.sh can time
 *       `promtool test rules` and `lagwatch test-rules` on the same file.
 *
 * Prints the load time, rule evaluations per second, series read per second, alerts held, the
 * store's bytes and the process's peak RSS. CPU time, not wall time, so a shared machine does
 * not distort it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "lagwatch/buf.h"
#include "lagwatch/rules.h"
#include "lagwatch/store.h"

#define N_RULES   1000
#define N_GROUPS  10
#define N_METRICS 25
#define N_TASKS   4
#define STEP_MS   15000
#define N_POINTS  40

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void metric_name(int m, char *out, size_t n)
{
    snprintf(out, n, "debezium_metrics_Attribute%02d", m);
}

/* Series i: metric i % N_METRICS, pipeline and task from the rest. */
static void series_labels(long i, long n_series, char *metric, size_t mn, char *pipeline, size_t pn,
                          char *task, size_t tn)
{
    long per_metric = n_series / N_METRICS;
    long j = i / N_METRICS;
    metric_name((int)(i % N_METRICS), metric, mn);
    snprintf(pipeline, pn, "p%ld", j / N_TASKS % (per_metric / N_TASKS + 1));
    snprintf(task, tn, "t%ld", j % N_TASKS);
}

/* Value of series i at point k: even metrics are gauges (a sawtooth per series, so thresholds
 * fire for about 1% of them), odd ones are counters (rate about 6.7/s). */
static double series_value(long i, long k)
{
    if (i % N_METRICS % 2)
        return (double)(k * 100 + i % 1000);
    return (double)((i * 7919 + k * 1000) % 100000);
}

/* The rule file: N_RULES alerting rules in N_GROUPS groups. */
static int write_rules(struct lw_buf *b, long n_pipelines)
{
    lw_buf_adds(b, "groups:\n");
    for (int k = 0; k < N_RULES; k++) {
        if (k % (N_RULES / N_GROUPS) == 0)
            lw_buf_addf(b, "  - name: bench%02d\n    interval: 15s\n    rules:\n",
                        k / (N_RULES / N_GROUPS));
        char m[64];
        metric_name(k % N_METRICS, m, sizeof m);
        long p = k % n_pipelines;
        lw_buf_addf(b, "      - alert: Bench%04d\n        expr: ", k);
        switch (k % 5) {
        case 0:
            lw_buf_addf(b, "%s > 99000\n", m);
            break;
        case 1:
            lw_buf_addf(b, "max by (pipeline) (max_over_time(%s[5m])) > 99500\n", m);
            break;
        case 2:
            lw_buf_addf(b, "rate(%s[5m]) > 300\n", m);
            break;
        case 3:
            lw_buf_addf(b, "%s{pipeline=\"p%ld\"} > 50000\n", m, p);
            break;
        default:
            lw_buf_addf(b, "absent(%s{pipeline=\"p%ld\",task=\"t0\"})\n", m, p);
            break;
        }
        lw_buf_addf(b, "        for: 1m\n        labels: {severity: page}\n"
                       "        annotations: {summary: bench}\n");
    }
    return lw_buf_failed(b) ? -1 : 0;
}

static int write_file(const char *dir, const char *name, const struct lw_buf *b)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (f == NULL || fwrite(b->data, 1, b->len, f) != b->len || fclose(f) != 0) {
        fprintf(stderr, "bench_rules: cannot write %s: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

static int write_promtool(const char *dir, long n_series)
{
    struct lw_buf b;
    lw_buf_init(&b, 256u << 20);
    long n_pipelines = n_series / N_METRICS / N_TASKS;
    if (write_rules(&b, n_pipelines) != 0 || write_file(dir, "rules.yml", &b) != 0)
        return 1;
    lw_buf_reset(&b);
    lw_buf_adds(&b, "rule_files: [rules.yml]\nevaluation_interval: 15s\ntests:\n"
                    "  - interval: 15s\n    input_series:\n");
    char m[64], p[32], t[32];
    for (long i = 0; i < n_series; i++) {
        series_labels(i, n_series, m, sizeof m, p, sizeof p, t, sizeof t);
        lw_buf_addf(&b, "      - series: '%s{pipeline=\"%s\",task=\"%s\"}'\n        values: '", m,
                    p, t);
        for (long k = 0; k < N_POINTS; k++)
            lw_buf_addf(&b, "%s%.0f", k ? " " : "", series_value(i, k));
        lw_buf_adds(&b, "'\n");
    }
    /* One checked alert keeps both tools honest: pipeline p0's absent() never fires. */
    lw_buf_adds(&b, "    alert_rule_test:\n      - eval_time: 9m\n        alertname: Bench0004\n"
                    "        exp_alerts: []\n");
    int rc = write_file(dir, "test.yml", &b) != 0;
    lw_buf_cleanup(&b);
    if (rc == 0)
        printf("wrote %s/rules.yml (%d rules) and %s/test.yml (%ld series x %d points)\n", dir,
               N_RULES, dir, n_series, N_POINTS);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc > 2 && strcmp(argv[1], "--write-promtool") == 0)
        return write_promtool(argv[2], argc > 3 ? strtol(argv[3], NULL, 10) : 4000);
    long n_series = argc > 1 ? strtol(argv[1], NULL, 10) : 100000;
    long rounds = argc > 2 ? strtol(argv[2], NULL, 10) : 20;
    if (n_series < N_METRICS * N_TASKS * 10 || rounds < 1) {
        fprintf(stderr,
                "usage: bench_rules [SERIES>=%d] [ROUNDS>=1] | --write-promtool DIR "
                "[SERIES]\n",
                N_METRICS * N_TASKS * 10);
        return 2;
    }
    long n_pipelines = n_series / N_METRICS / N_TASKS;
    double c0 = cpu_s();
    struct store_options so = {.retention_ms = 3600 * 1000};
    struct store *st = store_new(&so);
    char m[64], p[32], t[32];
    for (long i = 0; st && i < n_series; i++) {
        series_labels(i, n_series, m, sizeof m, p, sizeof p, t, sizeof t);
        struct lw_labels ls;
        lw_labels_init(&ls);
        if (lw_labels_set(&ls, "__name__", m) != 0 || lw_labels_set(&ls, "pipeline", p) != 0 ||
            lw_labels_set(&ls, "task", t) != 0)
            return 1;
        for (long k = 0; k < N_POINTS; k++) {
            struct lw_err err = {0};
            if (store_append(st, &ls, k * STEP_MS, series_value(i, k), &err) < 0) {
                fprintf(stderr, "append: %s\n", err.msg);
                return 1;
            }
        }
        lw_labels_cleanup(&ls);
    }
    double load_s = cpu_s() - c0;
    struct lw_buf b;
    lw_buf_init(&b, 64u << 20);
    struct rule_set *rs = NULL;
    struct lw_err err = {0};
    c0 = cpu_s();
    if (!st || write_rules(&b, n_pipelines) != 0 ||
        rule_set_load_buf(b.data, b.len, "bench.rules.yml", NULL, &rs, &err) != 0) {
        fprintf(stderr, "bench_rules: %d:%d: %s\n", err.line, err.col, err.msg);
        return 1;
    }
    double parse_s = cpu_s() - c0;
    lw_buf_cleanup(&b);
    printf("store: %ld series x %d samples in %.2f s CPU; %zu bytes\n", n_series, N_POINTS, load_s,
           store_bytes(st));
    printf("rules: %zu rules in %zu groups loaded in %.3f s CPU\n", rule_set_rule_count(rs),
           rule_set_group_count(rs), parse_s);
    /* Evaluate 15 s apart from 5m on (ALERTS are appended in time order and `for: 1m` is
     * crossed on the way); past the data's end the 5-minute lookback keeps the last samples. */
    long evals = 0, failed = 0;
    c0 = cpu_s();
    for (long r = 0; r < rounds; r++) {
        int64_t at = 5 * 60 * 1000 + r * STEP_MS;
        for (size_t g = 0; g < rule_set_group_count(rs); g++) {
            int rc = rule_group_eval(rule_set_group(rs, g), st, at, &err);
            if (rc < 0) {
                fprintf(stderr, "eval: %s\n", err.msg);
                return 1;
            }
            failed += rc;
            evals += (long)rule_group_rule_count(rule_set_group(rs, g));
        }
    }
    double eval_s = cpu_s() - c0;
    size_t pending = 0, firing = 0;
    for (size_t g = 0; g < rule_set_group_count(rs); g++)
        for (size_t i = 0; i < rule_group_rule_count(rule_set_group(rs, g)); i++) {
            const struct alert_rule *a = rule_alert(rule_group_rule(rule_set_group(rs, g), i));
            pending += alert_rule_count_state(a, ALERT_PENDING);
            firing += alert_rule_count_state(a, ALERT_FIRING);
        }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("eval: %ld rule evaluations (%ld rounds) in %.2f s CPU: %.0f rule evaluations/s, "
           "%.1f ms per round of %zu rules; %ld failed\n",
           evals, rounds, eval_s, (double)evals / eval_s, eval_s * 1000 / (double)rounds,
           rule_set_rule_count(rs), failed);
    printf("alerts: %zu pending, %zu firing; store now %zu series, %zu bytes; peak RSS %ld KiB\n",
           pending, firing, store_series_count(st), store_bytes(st), ru.ru_maxrss);
    rule_set_free(rs);
    store_free(st);
    return failed ? 1 : 0;
}
