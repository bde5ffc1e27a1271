/*
 * promqltest.h — runs Prometheus's PromQL test scripts (promql/promqltest/testdata, format in
 * its README: `load`, `clear`, `eval instant at`, `eval range from … to … step …`, `expect …`
 * lines, expected series in the expanding notation) against lagwatch's store and evaluator.
 *
 * Each eval command is one case and ends as passed, failed or skipped. Skipped means lagwatch
 * cannot judge it honestly: the expression is outside the PromQL subset (the parser says
 * "unsupported: <kind>:"), the case asserts warn/info annotations (lagwatch's evaluator emits
 * none), or it involves native histograms. Checks follow Prometheus's test framework: values
 * compared with its relative tolerance (1e-6), instant queries re-checked in range mode at the
 * middle of a three-step range, matrices must be sorted by labels. `expect no_warn`/`no_info`
 * hold trivially since no annotations exist. The `@`-modifier re-runs Prometheus adds are not
 * done (lagwatch's subset has no `@`).
 */
#ifndef LAGWATCH_PROMQLTEST_H
#define LAGWATCH_PROMQLTEST_H

#include <stdbool.h>
#include <stddef.h>

#include "lagwatch/buf.h"
#include "lagwatch/error.h"

#define PROMQLTEST_MAX_KINDS 64

struct promqltest_kind {
    char name[64]; /* "function", "native histogram", "annotations", ... */
    size_t n;
};

struct promqltest_result {
    size_t passed, failed, skipped;
    struct promqltest_kind kinds[PROMQLTEST_MAX_KINDS]; /* skips by kind */
    size_t n_kinds;
};

/* Run the script src[0..len) named name (for messages). Counts are added to *res (so several
 * files accumulate). Each failure appends "name:line: eval …: reason\n" to report; with
 * verbose, each skip appends "name:line: skipped (<kind>): …\n" too. Returns 0, or -1 when the
 * script itself is malformed (err has name, line, column; cases before it are counted). */
LW_MUST_CHECK int promqltest_run(const char *name, const char *src, size_t len, bool verbose,
                                 struct promqltest_result *res, struct lw_buf *report,
                                 struct lw_err *err);

/* Prometheus's almost.Equal(a, b, 1e-6): NaN equals NaN, otherwise relative difference. */
bool promqltest_almost_equal(double a, double b);

#endif
