/*
 * cmd_check_rules.c — `lagwatch check-rules [--evaluation-interval DUR] [--lint-fatal] FILE...`:
 * load each rule file exactly as `run` would (file:line:col on any error) and lint it against
 * lagwatch's sources (rulelint.h). Prints "Checking FILE" and "  SUCCESS: N rules found" or
 * "  FAILED:" on stdout as promtool does, findings on stderr.
 *
 * Exit codes: 0 every file loads and has no lint error (warnings are allowed unless
 * --lint-fatal); 1 a file does not load, has a lint error, or (with --lint-fatal) a warning;
 * 2 usage error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "lagwatch/config.h"
#include "lagwatch/duration.h"
#include "lagwatch/limits.h"
#include "lagwatch/rulefiles.h"
#include "lagwatch/rulelint.h"

int cmd_check_rules(int argc, char **argv)
{
    int64_t interval_ms = CONFIG_DEFAULT_EVALUATION_INTERVAL_MS;
    bool fatal = false;
    int first = 1;
    for (; first < argc && argv[first][0] == '-' && argv[first][1] != '\0'; first++) {
        const char *a = argv[first];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            printf(
                "usage: lagwatch check-rules [--evaluation-interval DUR] [--lint-fatal] "
                "FILE...\n\n"
                "Load Prometheus rule files as lagwatch does (file:line:col on errors) and lint\n"
                "them against lagwatch's sources:\n"
                "  errors:   Debezium attributes that do not exist (SecondsBehindMaster, ...)\n"
                "            with the name to use; rule-less exporter names lagwatch renames\n"
                "  warnings: alerts without 'severity' or 'summary'; 'for' shorter than the\n"
                "            group interval; metrics no lagwatch source produces\n"
                "  --evaluation-interval DUR  interval of groups without their own (default "
                "30s)\n"
                "  --lint-fatal               warnings fail the check too\n"
                "Exit: 0 clean, 1 a file does not load or has lint errors, 2 usage error.\n");
            return CLI_EXIT_OK;
        } else if (strcmp(a, "--evaluation-interval") == 0 && first + 1 < argc) {
            const char *v = argv[++first];
            if (duration_parse(v, strlen(v), &interval_ms, NULL) != 0 || interval_ms <= 0)
                return cli_usage_error("check-rules", "bad duration '%s'", v);
        } else if (strcmp(a, "--lint-fatal") == 0) {
            fatal = true;
        } else if (strcmp(a, "--") == 0) {
            first++;
            break;
        } else {
            return cli_usage_error("check-rules", "unknown option %s", a);
        }
    }
    if (first >= argc)
        return cli_usage_error("check-rules", "no rule files given");
    int rc = CLI_EXIT_OK;
    for (int i = first; i < argc; i++) {
        printf("Checking %s\n", argv[i]);
        fflush(stdout);
        struct lw_err err = {0};
        struct rule_set *rs = NULL;
        const char *one = argv[i];
        struct rule_load_options ro = {.check_template = rulefiles_check_template};
        if (rulefiles_load(&one, 1, &ro, &rs, &err) != 0) {
            char line[LW_ERR_MSG_MAX + LW_ERR_FILE_MAX + 32];
            lw_err_format(&err, line, sizeof line);
            printf("  FAILED:\n");
            fflush(stdout);
            fprintf(stderr, "%s\n", line);
            rc = CLI_EXIT_FAIL;
            continue;
        }
        struct lw_buf out;
        lw_buf_init(&out, LW_MAX_FILE_BYTES);
        struct rulelint_result res = {0};
        if (rulelint_run(rs, interval_ms, &out, &res) != 0)
            fprintf(stderr, "%s: lint output truncated\n", argv[i]);
        bool failed = res.errors > 0 || (fatal && res.warnings > 0);
        if (failed) {
            printf("  FAILED: %zu rules found, %zu lint error(s), %zu warning(s)\n",
                   rule_set_rule_count(rs), res.errors, res.warnings);
            rc = CLI_EXIT_FAIL;
        } else {
            printf("  SUCCESS: %zu rules found%s\n", rule_set_rule_count(rs),
                   res.warnings ? " (with warnings)" : "");
        }
        fflush(stdout);
        fputs(lw_buf_str(&out), stderr);
        lw_buf_cleanup(&out);
        rule_set_free(rs);
    }
    return rc;
}
