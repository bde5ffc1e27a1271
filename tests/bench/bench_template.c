/*
 * bench_template.c — alert templates as the evaluation loop runs them: the annotations of the
 * default rule pack's kind (labels, humanize, printf, if/else, range over labels, reReplaceAll)
 * expanded for an alert, once parsing every time (tmpl_expand_alert) and once parsed up front
 * (tmpl_parse_alert + tmpl_exec_alert), plus parsing alone.
 *
 *   bench_template [ITERATIONS]     default 200000
 *
 * Prints expansions/s and ns per expansion for each way. Times are process CPU time, so other
 * load on a shared machine does not distort them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lagwatch/template.h"

static const char *const texts[] = {
    "{{ $labels.pipeline }} lags {{ humanizeDuration $value }} behind Aurora ({{ $labels.instance "
    "| stripPort }}, {{ $externalLabels.cluster }})",
    "{{ if gt $value 300.0 }}Debezium connector {{ $labels.connector }} is {{ printf \"%.0f\" "
    "$value }}s behind: check the connector task.{{ else }}Lag {{ humanize $value }}s.{{ end }}",
    "{{ range $k, $v := $labels }}{{ if ne $k \"__name__\" }}{{ $k }}={{ $v }} {{ end }}{{ end }}",
    "{{ reReplaceAll \"^(.*)-cdc$\" \"$1\" $labels.pipeline | title }} on {{ $labels.job }}",
};
#define NTEXTS (sizeof texts / sizeof texts[0])

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const struct lw_err *err)
{
    fprintf(stderr, "bench_template: %s: %d:%d: %s\n", what, err ? err->line : 0,
            err ? err->col : 0, err ? err->msg : "");
    exit(1);
}

static void report(const char *what, unsigned long n, double secs)
{
    printf("%-34s %10.0f /s  %8.0f ns each\n", what, (double)n / secs, secs * 1e9 / (double)n);
}

int main(int argc, char **argv)
{
    unsigned long iters = argc > 1 ? strtoul(argv[1], NULL, 10) : 200000;
    if (iters == 0)
        iters = 1;
    struct lw_labels ls, ext;
    lw_labels_init(&ls);
    lw_labels_init(&ext);
    if (lw_labels_set(&ls, "__name__", "debezium_metrics_MilliSecondsBehindSource") != 0 ||
        lw_labels_set(&ls, "job", "debezium") != 0 ||
        lw_labels_set(&ls, "instance", "connect-1.internal:8083") != 0 ||
        lw_labels_set(&ls, "connector", "inventory-connector") != 0 ||
        lw_labels_set(&ls, "pipeline", "orders-cdc") != 0 ||
        lw_labels_set(&ls, "severity", "page") != 0 || lw_labels_set(&ext, "cluster", "eu-1") != 0)
        die("labels", NULL);
    struct lw_buf b;
    lw_buf_init(&b, 1u << 20);
    struct lw_err err = {0};

    double t0 = now_s();
    for (unsigned long i = 0; i < iters; i++) {
        lw_buf_reset(&b);
        if (tmpl_expand_alert("Lag", texts[i % NTEXTS], &ls, &ext, "http://lagwatch:9464",
                              417.25 + (double)(i % 100), &b, &err) != 0)
            die("expand", &err);
    }
    report("parse + execute (tmpl_expand_alert)", iters, now_s() - t0);

    struct tmpl *t[NTEXTS];
    t0 = now_s();
    for (unsigned long i = 0; i < iters; i++) {
        struct tmpl *p;
        if (tmpl_parse_alert("Lag", texts[i % NTEXTS], &p, &err) != 0)
            die("parse", &err);
        tmpl_free(p);
    }
    report("parse only (tmpl_parse_alert)", iters, now_s() - t0);

    for (size_t k = 0; k < NTEXTS; k++)
        if (tmpl_parse_alert("Lag", texts[k], &t[k], &err) != 0)
            die("parse", &err);
    t0 = now_s();
    for (unsigned long i = 0; i < iters; i++) {
        lw_buf_reset(&b);
        if (tmpl_exec_alert(t[i % NTEXTS], &ls, &ext, "http://lagwatch:9464",
                            417.25 + (double)(i % 100), &b, &err) != 0)
            die("execute", &err);
    }
    report("execute parsed (tmpl_exec_alert)", iters, now_s() - t0);
    printf("last: %s\n", lw_buf_str(&b));

    for (size_t k = 0; k < NTEXTS; k++)
        tmpl_free(t[k]);
    lw_buf_cleanup(&b);
    lw_labels_cleanup(&ls);
    lw_labels_cleanup(&ext);
    return 0;
}
