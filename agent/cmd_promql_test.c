/*
 * cmd_promql_test.c — `lagwatch promql-test [--verbose] FILE...`: run Prometheus's PromQL test
 * scripts (load/clear/eval, promqltest's format) against lagwatch's store and evaluator. Prints
 * every failing case as FILE:LINE: FAIL ..., and with --verbose every skipped one and the skip
 * counts by kind, then the line `N passed, M failed, K skipped`. Exit 0 when nothing failed, 1
 * when a case failed or a script is malformed, 2 on usage errors.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "lagwatch/limits.h"
#include "lagwatch/promqltest.h"

/* Read a whole file of at most LW_MAX_FILE_BYTES. Returns a heap block or NULL (errno-style
 * message in why). */
static char *read_file(const char *path, size_t *len, const char **why)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        *why = strerror(errno);
        return NULL;
    }
    struct lw_buf b;
    lw_buf_init(&b, LW_MAX_FILE_BYTES);
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (lw_buf_add(&b, chunk, n) != 0) {
            *why = "file too large";
            fclose(f);
            lw_buf_cleanup(&b);
            return NULL;
        }
    }
    bool bad = ferror(f) != 0;
    fclose(f);
    if (bad) {
        *why = "read error";
        lw_buf_cleanup(&b);
        return NULL;
    }
    *len = b.len;
    char *data = lw_buf_take(&b);
    if (data == NULL)
        data = calloc(1, 1);
    if (data == NULL)
        *why = "out of memory";
    return data;
}

int cmd_promql_test(int argc, char **argv)
{
    bool verbose = false;
    int first = 1;
    for (; first < argc && argv[first][0] == '-' && argv[first][1] != '\0'; first++) {
        if (strcmp(argv[first], "--verbose") == 0 || strcmp(argv[first], "-v") == 0) {
            verbose = true;
        } else if (strcmp(argv[first], "--help") == 0 || strcmp(argv[first], "-h") == 0) {
            printf("usage: lagwatch promql-test [--verbose] FILE...\n"
                   "Runs PromQL test scripts (load/clear/eval) and prints\n"
                   "'N passed, M failed, K skipped'. --verbose lists skipped cases and counts\n"
                   "them by kind.\n");
            return CLI_EXIT_OK;
        } else if (strcmp(argv[first], "--") == 0) {
            first++;
            break;
        } else {
            return cli_usage_error("promql-test", "unknown option %s", argv[first]);
        }
    }
    if (first >= argc)
        return cli_usage_error("promql-test", "no test files given");

    struct promqltest_result res;
    memset(&res, 0, sizeof res);
    int rc = CLI_EXIT_OK;
    for (int i = first; i < argc; i++) {
        size_t len = 0;
        const char *why = NULL;
        char *src = read_file(argv[i], &len, &why);
        if (src == NULL) {
            fprintf(stderr, "lagwatch: %s: %s\n", argv[i], why);
            rc = CLI_EXIT_FAIL;
            continue;
        }
        struct lw_buf report;
        lw_buf_init(&report, LW_MAX_FILE_BYTES);
        struct lw_err err = {0};
        if (promqltest_run(argv[i], src, len, verbose, &res, &report, &err) != 0) {
            char msg[LW_ERR_MSG_MAX + LW_ERR_FILE_MAX + 32];
            lw_err_format(&err, msg, sizeof msg);
            fprintf(stderr, "lagwatch: %s\n", msg);
            rc = CLI_EXIT_FAIL;
        }
        if (report.len > 0)
            fputs(lw_buf_str(&report), stdout);
        lw_buf_cleanup(&report);
        free(src);
    }
    if (verbose && res.n_kinds > 0) {
        printf("skipped by kind:\n");
        for (size_t k = 0; k < res.n_kinds; k++)
            printf("  %-24s %zu\n", res.kinds[k].name, res.kinds[k].n);
    }
    size_t total = res.passed + res.failed + res.skipped;
    if (verbose && total > 0) {
        /* Native-histogram cases are outside lagwatch by design; the share that matters is the
         * share of float cases skipped. */
        size_t hist = 0;
        for (size_t k = 0; k < res.n_kinds; k++)
            if (strcmp(res.kinds[k].name, "native histogram") == 0)
                hist = res.kinds[k].n;
        size_t floats = total - hist;
        printf("skipped: %.1f%% of %zu cases; %.1f%% of the %zu float cases\n",
               100.0 * (double)res.skipped / (double)total, total,
               floats ? 100.0 * (double)(res.skipped - hist) / (double)floats : 0.0, floats);
    }
    printf("%zu passed, %zu failed, %zu skipped\n", res.passed, res.failed, res.skipped);
    if (res.failed > 0)
        rc = CLI_EXIT_FAIL;
    return rc;
}
