/*
 * cmd_fetch.c — `lagwatch fetch -c FILE [--lookback DURATION] [--timeout DURATION]`: build every
 * source of the config (runtime.h), run them once, and print what they yield in Prometheus text
 * format: the newest sample of every series, sorted by series, with its timestamp (CloudWatch's
 * own for Aurora metrics). A trailing comment block lists each source and, for those that
 * failed, why; the errors also go to stderr.
 *
 * Exit codes: 0 every source answered; 3 a source failed; 2 usage or config error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "lagwatch/config.h"
#include "lagwatch/duration.h"
#include "lagwatch/expfmt.h"
#include "lagwatch/failover.h"
#include "lagwatch/http.h"
#include "lagwatch/runtime.h"
#include "lagwatch/source_store.h"
#include "lagwatch/store.h"

#define FETCH_EXIT_SOURCE_FAILED 3
#define FETCH_DEFAULT_TIMEOUT_MS (120 * 1000)

static void usage(FILE *out)
{
    fprintf(out,
            "usage: lagwatch fetch -c FILE [--lookback DURATION] [--timeout DURATION]\n\n"
            "Run every source of the config once (JMX exporter scrapes, Kafka Connect status,\n"
            "Prometheus API queries, CloudWatch GetMetricData, RDS cluster polls) and print\n"
            "the newest sample of every series they yield, sorted, in Prometheus text format,\n"
            "followed by a comment block with each source's health. --lookback sets how far\n"
            "back CloudWatch is asked (default 15m); --timeout bounds the whole fetch\n"
            "(default 2m). Exit 0 when every source answered, 3 when one failed (its error\n"
            "also goes to stderr), 2 on a usage or config error.\n");
}

struct line {
    char *text; /* "name{labels} value t_ms" */
    size_t key_len;
};

static int cmp_line(const void *a, const void *b)
{
    const struct line *x = a, *y = b;
    return strcmp(x->text, y->text);
}

/* The newest sample of every series whose newest sample is not a stale marker, sorted. */
static int print_store(const struct store *st, FILE *out)
{
    const struct store_series **ser = NULL;
    size_t n = 0;
    struct lw_err err;
    if (store_select(st, NULL, 0, &ser, &n, &err) != 0)
        return -1;
    struct line *lines = calloc(n ? n : 1, sizeof *lines);
    if (!lines) {
        free(ser);
        return -1;
    }
    size_t nl = 0;
    int rc = 0;
    struct lw_buf b;
    lw_buf_init(&b, 1u << 20);
    for (size_t i = 0; i < n && rc == 0; i++) {
        const struct store_sample *s = store_series_last(ser[i]);
        if (!s || store_is_stale_nan(s->v))
            continue;
        char num[40];
        lw_buf_reset(&b);
        (void)lw_labels_format_metric(store_series_labels(ser[i]), &b);
        (void)lw_buf_addc(&b, ' ');
        (void)lw_buf_adds(&b, expfmt_format_value(s->v, num, sizeof num));
        (void)lw_buf_addf(&b, " %lld", (long long)s->t_ms);
        if (lw_buf_failed(&b) || !(lines[nl].text = strdup(lw_buf_str(&b))))
            rc = -1;
        else
            nl++;
    }
    lw_buf_cleanup(&b);
    qsort(lines, nl, sizeof *lines, cmp_line);
    for (size_t i = 0; i < nl; i++) {
        if (rc == 0 && fprintf(out, "%s\n", lines[i].text) < 0)
            rc = -1;
        free(lines[i].text);
    }
    free(lines);
    free(ser);
    return rc;
}

static int parse_duration_arg(const char *s, int64_t *out)
{
    struct lw_err err;
    return duration_parse(s, strlen(s), out, &err);
}

int cmd_fetch(int argc, char **argv)
{
    const char *path = NULL;
    int64_t lookback_ms = 0, timeout_ms = FETCH_DEFAULT_TIMEOUT_MS;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return CLI_EXIT_OK;
        } else if ((strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) && i + 1 < argc) {
            path = argv[++i];
        } else if (strcmp(a, "--lookback") == 0 && i + 1 < argc) {
            if (parse_duration_arg(argv[++i], &lookback_ms) != 0 || lookback_ms < 60000)
                return cli_usage_error("fetch", "--lookback takes a duration of at least 1m");
        } else if (strcmp(a, "--timeout") == 0 && i + 1 < argc) {
            if (parse_duration_arg(argv[++i], &timeout_ms) != 0 || timeout_ms <= 0)
                return cli_usage_error("fetch", "--timeout takes a positive duration");
        } else {
            return cli_usage_error("fetch", "unexpected argument '%s'", a);
        }
    }
    if (!path)
        return cli_usage_error("fetch", "no config file given (-c FILE)");

    struct lw_err err = {0};
    char msg[LW_ERR_MSG_MAX + LW_ERR_FILE_MAX + 32];
    struct config *cfg = NULL;
    if (config_load_file(path, NULL, &cfg, &err) != 0) {
        lw_err_format(&err, msg, sizeof msg);
        fprintf(stderr, "lagwatch fetch: %s\n", msg);
        return CLI_EXIT_USAGE;
    }
    int exit_code = CLI_EXIT_FAIL;
    struct http_client *http = NULL;
    struct runtime *rt = NULL;
    struct failover *fo = failover_new(cfg->failover_hold_ms);
    /* Keep everything one fetch can return: the CloudWatch window plus an hour of slack. */
    struct store_options so = {.retention_ms = (lookback_ms ? lookback_ms : 900000) + 3600000};
    struct store *st = store_new(&so);
    struct source_store_sink ss;
    source_store_sink_init(&ss, st);
    if (!fo || !st || !(http = http_client_new(NULL, &err))) {
        fprintf(stderr, "lagwatch fetch: %s\n", err.msg[0] ? err.msg : "out of memory");
        goto cleanup;
    }
    struct runtime_options ro = {.http = http,
                                 .sink = source_store_sink(&ss),
                                 .failover = fo,
                                 .cw_lookback_s = lookback_ms / 1000};
    if (runtime_new(cfg, &ro, &rt, &err) != 0) {
        lw_err_format(&err, msg, sizeof msg);
        fprintf(stderr, "lagwatch fetch: %s\n", msg);
        exit_code = CLI_EXIT_USAGE;
        goto cleanup;
    }
    int failed = runtime_run_once(rt, timeout_ms, &err);
    if (failed < 0)
        fprintf(stderr, "lagwatch fetch: %s\n", err.msg);
    if (print_store(st, stdout) != 0) {
        fprintf(stderr, "lagwatch fetch: writing the samples failed\n");
        goto cleanup;
    }
    struct runtime_cloudwatch_stats cws;
    runtime_cloudwatch_stats(rt, &cws);
    printf("# sources: %zu, failed: %d\n", runtime_source_count(rt), failed < 0 ? -1 : failed);
    for (size_t i = 0; i < runtime_source_count(rt); i++) {
        const struct runtime_source_health *h = runtime_source_at(rt, i);
        const char *state = !h->has_run ? "no answer" : h->up ? "up" : "down";
        printf("# source %s pipeline=%s target=%s %s duration=%.3fs%s%s%s%s\n", h->name,
               h->pipeline ? h->pipeline : "", h->target, state, h->last_duration_s,
               h->last_error[0] ? " error: " : "", h->last_error, h->warning[0] ? " warning: " : "",
               h->warning);
        if (!h->up)
            fprintf(stderr, "lagwatch fetch: source %s%s%s (%s) failed: %s\n", h->name,
                    h->pipeline ? " of pipeline " : "", h->pipeline ? h->pipeline : "", h->target,
                    h->has_run ? h->last_error : "no answer before the timeout");
    }
    if (cws.metrics_per_cycle)
        printf("# cloudwatch metrics_per_cycle=%zu calls=%zu estimated_monthly_cost_usd=%.2f\n",
               cws.metrics_per_cycle, cws.calls, cws.monthly_cost_usd);
    if (fflush(stdout) != 0)
        goto cleanup;
    exit_code = failed == 0 ? CLI_EXIT_OK : FETCH_EXIT_SOURCE_FAILED;
cleanup:
    runtime_free(rt);
    http_client_free(http);
    source_store_sink_cleanup(&ss);
    store_free(st);
    failover_free(fo);
    config_free(cfg);
    return exit_code;
}
