/*
 * cmd_aws.h — the `lagwatch aws SUBCOMMAND` family. cmd_aws() (declared in cli.h) dispatches to
 * the table in cmd_aws.c; each subcommand is a function here, implemented in its own file
 * (cmd_aws_sign.c, ...). To add one: declare it below, implement it, add a row to
 * aws_subcommands[] in cmd_aws.c. A subcommand gets argv with argv[0] = its own name and returns
 * the exit code (CLI_EXIT_USAGE for usage and input errors, via aws_usage_error).
 */
#ifndef LAGWATCH_AGENT_CMD_AWS_H
#define LAGWATCH_AGENT_CMD_AWS_H

struct aws_subcommand {
    const char *name;    /* "sign" */
    const char *usage;   /* arguments after "aws NAME" */
    const char *summary; /* one line for `lagwatch aws --help` */
    int (*run)(int argc, char **argv);
};

/* The table, ended by an entry with name NULL (defined in cmd_aws.c). */
extern const struct aws_subcommand aws_subcommands[];

/* Print "lagwatch aws SUB: msg" and SUB's usage line to stderr; returns CLI_EXIT_USAGE. */
int aws_usage_error(const char *sub, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Print SUB's usage line to out (for --help). */
void aws_print_usage(const char *sub, void *out_file);

/* `lagwatch aws sign --context FILE --request FILE --print WHAT` (cmd_aws_sign.c). */
int cmd_aws_sign(int argc, char **argv);

/* `lagwatch aws whoami [-c FILE] [--output text|json] [--debug]` (cmd_aws_whoami.c). */
int cmd_aws_whoami(int argc, char **argv);

#endif
