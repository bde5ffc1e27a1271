/*
 * fuzz_ruletest.c — promtool-format rule test files on arbitrary bytes (lagwatch test-rules):
 * every file must run to a verdict or fail with an error, never crash, leak or hang. The rule
 * files it names all resolve to one small fixed rule file with a recording and an alerting rule.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lagwatch/ruletest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char rules[] = "groups:\n"
                            "  - name: g\n"
                            "    rules:\n"
                            "      - record: job:x:sum\n"
                            "        expr: sum by (job) (x)\n"
                            "      - alert: High\n"
                            "        expr: job:x:sum > 1\n"
                            "        for: 1m\n"
                            "        keep_firing_for: 1m\n"
                            "        labels: {severity: page}\n";

static int fixed_rules(void *ud, const char *test_file, const char *entry,
                       struct ruletest_file **files, size_t *n, struct lw_err *err)
{
    (void)ud;
    (void)test_file;
    (void)entry;
    if (*n >= 4)
        return 0;
    struct ruletest_file *nf = realloc(*files, (*n + 1) * sizeof(*nf));
    if (nf == NULL)
        return lw_err_set(err, 0, 0, "out of memory");
    *files = nf;
    nf[*n].name = strdup("r.yml");
    nf[*n].buf = malloc(sizeof rules);
    if (nf[*n].name == NULL || nf[*n].buf == NULL) {
        free(nf[*n].name);
        free(nf[*n].buf);
        return lw_err_set(err, 0, 0, "out of memory");
    }
    memcpy(nf[*n].buf, rules, sizeof rules);
    nf[*n].len = sizeof rules - 1;
    (*n)++;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ruletest_options o = {.rules = fixed_rules};
    struct lw_buf report;
    lw_buf_init(&report, 1u << 20);
    struct ruletest_result res = {0};
    struct lw_err err = {0};
    if (ruletest_run((const char *)data, size, "fuzz.yml", &o, &report, &res, &err) == 0 &&
        res.failed_cases > res.cases)
        abort(); /* more failures than cases: the counting is broken */
    lw_buf_cleanup(&report);
    return 0;
}
