/*
 * cmd_test_rules.c — `lagwatch test-rules FILE...`: promtool's rule unit tests (ruletest.h) with
 * promtool's output: "Unit Testing:  FILE" and "  SUCCESS" on stdout, "  FAILED:" and each
 * failure (expected vs got) on stderr. rule_files entries are globs relative to the test file's
 * directory; a pattern that matches nothing is a warning, as in promtool.
 *
 * Exit codes: 0 every test passed, 1 a test failed, 2 usage error or a file that cannot be run
 * (unreadable, malformed, or its rule files do not load).
 */
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "lagwatch/limits.h"
#include "lagwatch/rulefiles.h"
#include "lagwatch/ruletest.h"

static void print_err(const struct lw_err *err)
{
    char line[LW_ERR_MSG_MAX + LW_ERR_FILE_MAX + 32];
    lw_err_format(err, line, sizeof line);
    fprintf(stderr, "%s\n", line);
}

/* entry relative to the directory of test_file (absolute entries as they are). */
static char *resolve(const char *test_file, const char *entry)
{
    const char *slash = strrchr(test_file, '/');
    if (entry[0] == '/' || slash == NULL)
        return strdup(entry);
    size_t dl = (size_t)(slash - test_file) + 1, el = strlen(entry);
    char *p = malloc(dl + el + 1);
    if (p == NULL)
        return NULL;
    memcpy(p, test_file, dl);
    memcpy(p + dl, entry, el + 1);
    return p;
}

static int read_rules(void *ud, const char *test_file, const char *entry,
                      struct ruletest_file **files, size_t *n, struct lw_err *err)
{
    (void)ud;
    char *pattern = resolve(test_file, entry);
    if (pattern == NULL)
        return lw_err_set(err, 0, 0, "out of memory");
    glob_t g;
    int rc = glob(pattern, 0, NULL, &g);
    if (rc == GLOB_NOMATCH) {
        fprintf(stderr, "  WARNING: no file match pattern %s\n", entry);
        free(pattern);
        return 0;
    }
    if (rc != 0) {
        lw_err_set(err, 0, 0, "rule_files '%s': cannot expand the pattern", entry);
        lw_err_set_file(err, test_file);
        free(pattern);
        return -1;
    }
    free(pattern);
    int ret = 0;
    for (size_t i = 0; i < g.gl_pathc && ret == 0; i++) {
        struct ruletest_file *nf = realloc(*files, (*n + 1) * sizeof(*nf));
        if (nf == NULL) {
            ret = lw_err_set(err, 0, 0, "out of memory");
            break;
        }
        *files = nf;
        size_t len = 0;
        char *buf = rulefiles_read(g.gl_pathv[i], &len, err);
        char *name = buf ? strdup(g.gl_pathv[i]) : NULL;
        if (buf == NULL || name == NULL) {
            free(buf);
            ret = buf ? lw_err_set(err, 0, 0, "out of memory") : -1;
            break;
        }
        nf[*n] = (struct ruletest_file){.name = name, .buf = buf, .len = len};
        (*n)++;
    }
    globfree(&g);
    return ret;
}

/* A test group's $externalLabels and $externalURL for the templates of its rules. */
struct tr_env {
    const struct lw_labels *external_labels;
    const char *external_url;
};

static char *tr_expand(void *ud, const char *rule, const char *text, const struct lw_labels *labels,
                       double value, int64_t now_ms, struct lw_err *err)
{
    const struct tr_env *e = ud;
    (void)now_ms;
    char *out = rulefiles_expand_alert(rule, text, labels, e->external_labels,
                                       e->external_url ? e->external_url : "", value);
    if (out == NULL)
        lw_err_set(err, 0, 0, "out of memory");
    return out;
}

static void tr_templates(void *ud, const struct lw_labels *external_labels,
                         const char *external_url, struct rule_load_options *o)
{
    struct tr_env *e = ud;
    e->external_labels = external_labels;
    e->external_url = external_url;
    o->check_template = rulefiles_check_template;
    o->expand_rule = tr_expand;
    o->expand_rule_ud = e;
}

int cmd_test_rules(int argc, char **argv)
{
    int first = 1;
    for (; first < argc && argv[first][0] == '-' && argv[first][1] != '\0'; first++) {
        if (strcmp(argv[first], "--help") == 0 || strcmp(argv[first], "-h") == 0) {
            printf("usage: lagwatch test-rules FILE...\n\n"
                   "Run rule unit tests in promtool's format (rule_files, evaluation_interval,\n"
                   "group_eval_order, tests with input_series, alert_rule_test and\n"
                   "promql_expr_test), with the same verdicts as 'promtool test rules'.\n"
                   "rule_files are globs relative to the test file.\n"
                   "Exit: 0 all passed, 1 a test failed, 2 usage error or a file that cannot\n"
                   "be run (malformed, or its rule files do not load).\n");
            return CLI_EXIT_OK;
        } else if (strcmp(argv[first], "--") == 0) {
            first++;
            break;
        } else {
            return cli_usage_error("test-rules", "unknown option %s", argv[first]);
        }
    }
    if (first >= argc)
        return cli_usage_error("test-rules", "no test files given");
    struct tr_env env = {0};
    struct ruletest_options o = {
        .rules = read_rules, .templates = tr_templates, .templates_ud = &env};
    int rc = CLI_EXIT_OK;
    for (int i = first; i < argc; i++) {
        printf("Unit Testing:  %s\n", argv[i]);
        fflush(stdout);
        struct lw_err err = {0};
        size_t len = 0;
        char *buf = rulefiles_read(argv[i], &len, &err);
        if (buf == NULL) {
            fprintf(stderr, "  FAILED:\n");
            print_err(&err);
            rc = CLI_EXIT_USAGE;
            continue;
        }
        struct lw_buf report;
        lw_buf_init(&report, LW_MAX_FILE_BYTES);
        struct ruletest_result res = {0};
        int r = ruletest_run(buf, len, argv[i], &o, &report, &res, &err);
        free(buf);
        if (r != 0) {
            fprintf(stderr, "  FAILED:\n");
            fputs(lw_buf_str(&report), stderr);
            print_err(&err);
            rc = CLI_EXIT_USAGE;
        } else if (res.failed_cases > 0) {
            fprintf(stderr, "  FAILED:\n%s", lw_buf_str(&report));
            if (rc == CLI_EXIT_OK)
                rc = CLI_EXIT_FAIL;
        } else {
            printf("  SUCCESS\n");
        }
        if (lw_buf_failed(&report))
            fprintf(stderr, "  (report truncated)\n");
        printf("\n");
        fflush(stdout);
        lw_buf_cleanup(&report);
    }
    return rc;
}
