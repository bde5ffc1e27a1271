/*
 * fuzz_expfmt.c — libFuzzer target for the exposition parser. Each input is parsed in both modes,
 * once whole and once fed in two pieces split at a point derived from the input; the two parses
 * must agree (same verdict, same sample count, same error position), since streaming must not
 * change what a page means. Small limits make the limit paths reachable.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lagwatch/expfmt.h"

static int count_cb(void *ud, const struct expfmt_sample *s, struct lw_err *err)
{
    (void)err;
    size_t *n = ud;
    /* Touch every label so ASan sees a dangling view. */
    for (size_t i = 0; i < s->labels->n; i++)
        *n += strlen(s->labels->v[i].name) + strlen(s->labels->v[i].value) > 0;
    (*n)++;
    return 0;
}

static int run(enum expfmt_format fmt, const struct expfmt_limits *lim, const uint8_t *data,
               size_t size, size_t split, size_t *n, struct lw_err *err)
{
    struct expfmt_parser *p = expfmt_parser_new(fmt, lim, count_cb, n);
    if (!p)
        abort();
    int rc = expfmt_parser_feed(p, (const char *)data, split, err);
    if (rc == 0)
        rc = expfmt_parser_feed(p, (const char *)data + split, size - split, err);
    if (rc == 0)
        rc = expfmt_parser_finish(p, err);
    expfmt_parser_free(p);
    return rc;
}

/* Keeps the value parse from being optimised away. */
volatile double fuzz_expfmt_sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct expfmt_limits lim;
    expfmt_limits_default(&lim);
    lim.max_line_bytes = 4096;
    lim.max_labels = 16;
    lim.max_samples = 10000;
    size_t split = size ? (size_t)data[0] * 7 % (size + 1) : 0;
    for (int m = 0; m < 2; m++) {
        enum expfmt_format fmt = m ? EXPFMT_OPENMETRICS_1 : EXPFMT_TEXT_004;
        size_t n1 = 0, n2 = 0;
        struct lw_err e1, e2;
        memset(&e1, 0, sizeof e1);
        memset(&e2, 0, sizeof e2);
        int r1 = run(fmt, &lim, data, size, size, &n1, &e1);
        int r2 = run(fmt, &lim, data, size, split, &n2, &e2);
        if (r1 != r2 || n1 != n2 || e1.line != e2.line || e1.col != e2.col)
            abort();
    }
    double v;
    if (expfmt_parse_value((const char *)data, size < 64 ? size : 64, &v) == 0)
        fuzz_expfmt_sink = v;
    return 0;
}
