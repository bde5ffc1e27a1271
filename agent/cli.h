/*
 * cli.h — the command table shared by main.c and the files that implement each command
 * (agent/cmd_*.c). A command gets argv with argv[0] = its own name and returns the process exit
 * code. Exit code 2 always means a usage or configuration error.
 */
#ifndef LAGWATCH_AGENT_CLI_H
#define LAGWATCH_AGENT_CLI_H

#define CLI_EXIT_OK    0
#define CLI_EXIT_FAIL  1
#define CLI_EXIT_USAGE 2

struct cli_command {
    const char *name;    /* "aws", "scrape", ... */
    const char *usage;   /* one line: arguments after the name */
    const char *summary; /* one line for --help */
    int (*run)(int argc, char **argv);
};

/* The table, ended by an entry with name NULL (defined in main.c). */
extern const struct cli_command cli_commands[];

/* Print "lagwatch: msg" and the usage line of cmd (or the general usage) to stderr; returns
 * CLI_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The commands (agent/cmd_<name>.c). */
int cmd_scrape(int argc, char **argv);
/* lagwatch aws (cmd_aws.c; its subcommands are in cmd_aws.h). */
int cmd_aws(int argc, char **argv);
/* lagwatch promql-test (cmd_promql_test.c). */
int cmd_promql_test(int argc, char **argv);
/* lagwatch validate (cmd_validate.c). */
int cmd_validate(int argc, char **argv);
/* lagwatch run (cmd_run.c). */
int cmd_run(int argc, char **argv);
/* lagwatch test-rules (cmd_test_rules.c) and check-rules (cmd_check_rules.c). */
int cmd_test_rules(int argc, char **argv);
int cmd_check_rules(int argc, char **argv);
/* lagwatch fetch (cmd_fetch.c). */
int cmd_fetch(int argc, char **argv);
/* lagwatch check (cmd_check.c). */
int cmd_check(int argc, char **argv);
/* lagwatch notify-test (cmd_notify_test.c). */
int cmd_notify_test(int argc, char **argv);
/* lagwatch silence and lagwatch failover, clients of the agent's API (cmd_ops.c). */
int cmd_silence(int argc, char **argv);
int cmd_failover(int argc, char **argv);
int cmd_health(int argc, char **argv);

#endif
