/*
 * cmd_validate.c — `lagwatch validate -c FILE [--print]`: load the config exactly as `run` would
 * (interpolation, *_file secrets, every default), expand rule_files, and check each rule file,
 * without touching the network. --print writes the effective config (secrets as "<secret>").
 *
 * Exit codes: 0 valid; 1 the config is valid but a rule file is not; 2 usage error or invalid
 * config (cli.h: 2 always means usage or configuration). Errors go to stderr as file:line:col.
 *
 * Rule files are loaded through the rules module exactly as `run` loads them (rulefiles_load),
 * each on its own so that every bad file is reported: unknown keys, bad durations, expressions
 * outside the PromQL subset, all with file:line:col. Loaded files are linted as check-rules
 * does (rulelint.h): lint errors (Debezium attributes that do not exist) make the file bad,
 * warnings are printed only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "lagwatch/config.h"
#include "lagwatch/limits.h"
#include "lagwatch/rulefiles.h"
#include "lagwatch/rulelint.h"

static void print_err(const struct lw_err *err)
{
    char line[LW_ERR_MSG_MAX + LW_ERR_FILE_MAX + 32];
    lw_err_format(err, line, sizeof line);
    fprintf(stderr, "%s\n", line);
}

int cmd_validate(int argc, char **argv)
{
    const char *path = NULL;
    bool print = false;
    for (int i = 1; i < argc; i++) {
        if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) && i + 1 < argc) {
            path = argv[++i];
        } else if (strcmp(argv[i], "--print") == 0) {
            print = true;
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            printf("usage: lagwatch validate -c FILE [--print]\n\n"
                   "Check a config file and its rule files without touching the network.\n"
                   "  -c, --config FILE  the config file\n"
                   "  --print            print the effective config, secrets redacted\n"
                   "Rule files are linted as check-rules does; lint errors count as invalid.\n"
                   "Exit: 0 valid, 1 a rule file is invalid, 2 usage error or invalid config.\n");
            return CLI_EXIT_OK;
        } else {
            return cli_usage_error("validate", "unexpected argument '%s'", argv[i]);
        }
    }
    if (path == NULL)
        return cli_usage_error("validate", "-c FILE is required");

    struct lw_err err = {0};
    struct config *cfg = NULL;
    if (config_load_file(path, NULL, &cfg, &err) != 0) {
        print_err(&err);
        return CLI_EXIT_USAGE;
    }
    int rc = CLI_EXIT_OK;
    char **rules = NULL;
    size_t n_rules = 0;
    if (config_rule_paths(cfg, &rules, &n_rules, &err) != 0) {
        print_err(&err);
        config_free(cfg);
        return CLI_EXIT_USAGE;
    }
    size_t bad = 0, n_groups = 0, n_rule_count = 0;
    struct rule_load_options ro;
    rulefiles_config_options(cfg, &ro);
    for (size_t i = 0; i < n_rules; i++) {
        struct lw_err rerr = {0};
        struct rule_set *rs = NULL;
        const char *one = rules[i];
        if (rulefiles_load(&one, 1, &ro, &rs, &rerr) != 0) {
            print_err(&rerr);
            bad++;
            continue;
        }
        n_groups += rule_set_group_count(rs);
        n_rule_count += rule_set_rule_count(rs);
        struct lw_buf lint;
        lw_buf_init(&lint, LW_MAX_FILE_BYTES);
        struct rulelint_result lres = {0};
        if (rulelint_run(rs, cfg->global.evaluation_interval_ms, &lint, &lres) != 0)
            fprintf(stderr, "%s: lint output truncated\n", rules[i]);
        fputs(lw_buf_str(&lint), stderr);
        lw_buf_cleanup(&lint);
        if (lres.errors > 0)
            bad++;
        rule_set_free(rs);
    }
    if (bad)
        rc = CLI_EXIT_FAIL;
    if (print) {
        struct lw_buf out;
        lw_buf_init(&out, LW_MAX_FILE_BYTES);
        if (config_print(cfg, &out) != 0) {
            fprintf(stderr, "%s: cannot render the effective config\n", path);
            rc = CLI_EXIT_FAIL;
        } else {
            fputs(out.data, stdout);
        }
        lw_buf_cleanup(&out);
    }
    fprintf(stderr,
            "%s: config %s: %zu pipeline(s), %zu rule file(s)%s, %zu group(s), %zu rule(s)\n", path,
            rc == CLI_EXIT_OK ? "valid" : "has errors", cfg->n_pipelines, n_rules,
            bad ? " with errors" : "", n_groups, n_rule_count);
    config_paths_free(rules);
    config_free(cfg);
    return rc;
}
