/*
 * cmd_validate.c — `lagwatch validate -c FILE [--print]`: load the config exactly as `run` would
 * (interpolation, *_file secrets, every default), expand rule_files, and check each rule file,
 * without touching the network. --print writes the effective config (secrets as "<secret>").
 *
 * Exit codes: 0 valid; 1 the config is valid but a rule file is not; 2 usage error or invalid
 * config (cli.h: 2 always means usage or configuration). Errors go to stderr as file:line:col.
 *
 * Rule files: until the rules module's loader (rulefile_load) is linked in, a rule file is only
 * read and parsed as YAML (file:line:col on syntax errors), and the output says that the rules
 * in it were not checked.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "lagwatch/config.h"
#include "lagwatch/limits.h"
#include "lagwatch/yamldoc.h"

static void print_err(const struct lw_err *err)
{
    char line[LW_ERR_MSG_MAX + LW_ERR_FILE_MAX + 32];
    lw_err_format(err, line, sizeof line);
    fprintf(stderr, "%s\n", line);
}

/* Read and YAML-parse one rule file; 0 or -1 with err. */
static int check_rule_file(const char *path, struct lw_err *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        lw_err_set(err, 0, 0, "cannot open rule file");
        lw_err_set_file(err, path);
        return -1;
    }
    struct lw_buf b;
    lw_buf_init(&b, LW_MAX_FILE_BYTES);
    char chunk[8192];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (lw_buf_add(&b, chunk, got) != 0)
            break;
    bool bad = ferror(f) || b.failed;
    fclose(f);
    if (bad) {
        lw_buf_cleanup(&b);
        lw_err_set(err, 0, 0, "cannot read rule file (unreadable or over %u bytes)",
                   LW_MAX_FILE_BYTES);
        lw_err_set_file(err, path);
        return -1;
    }
    struct yamldoc *d = NULL;
    int rc = yamldoc_parse(b.data ? b.data : "", b.len, path, &d, err);
    if (rc == 0 && d->root && d->root->kind != YAMLDOC_MAP)
        rc = yamldoc_error(err, d, d->root, "a rule file must be a mapping with 'groups'");
    yamldoc_free(d);
    lw_buf_cleanup(&b);
    return rc;
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
    size_t bad = 0;
    for (size_t i = 0; i < n_rules; i++) {
        struct lw_err rerr = {0};
        if (check_rule_file(rules[i], &rerr) != 0) {
            print_err(&rerr);
            bad++;
        }
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
            "%s: config %s: %zu pipeline(s), %zu rule file(s)%s; rule contents not checked yet "
            "(rule loader not linked)\n",
            path, rc == CLI_EXIT_OK ? "valid" : "has errors", cfg->n_pipelines, n_rules,
            bad ? " with errors" : "");
    config_paths_free(rules);
    config_free(cfg);
    return rc;
}
