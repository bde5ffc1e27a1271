/*
 * cmd_aws.c — `lagwatch aws SUBCOMMAND ...`: the table of AWS helper subcommands and the
 * dispatch to them. The subcommands themselves live in cmd_aws_*.c; this file only knows their
 * names, so `lagwatch aws --help` lists what exists.
 */
#include "cmd_aws.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

const struct aws_subcommand aws_subcommands[] = {
    {"sign", "--context FILE --request FILE --print WHAT",
     "print a stage of signing an AWS test-suite request (for SignatureDoesNotMatch)",
     cmd_aws_sign},
    {"whoami", "[-c FILE] [--output text|json] [--debug]",
     "show which AWS credentials and region the agent would use", cmd_aws_whoami},
    {NULL, NULL, NULL, NULL},
};

static const struct aws_subcommand *find_sub(const char *name)
{
    for (const struct aws_subcommand *s = aws_subcommands; s->name; s++)
        if (strcmp(s->name, name) == 0)
            return s;
    return NULL;
}

void aws_print_usage(const char *sub, void *out_file)
{
    FILE *out = out_file;
    const struct aws_subcommand *s = sub ? find_sub(sub) : NULL;
    if (s) {
        fprintf(out, "usage: lagwatch aws %s %s\n", s->name, s->usage);
        return;
    }
    fprintf(out, "usage: lagwatch aws SUBCOMMAND [ARGS]\n\nSubcommands:\n");
    for (s = aws_subcommands; s->name; s++)
        fprintf(out, "  %-8s %s\n", s->name, s->summary);
}

int aws_usage_error(const char *sub, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "lagwatch aws%s%s: ", sub ? " " : "", sub ? sub : "");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    aws_print_usage(sub, stderr);
    return CLI_EXIT_USAGE;
}

int cmd_aws(int argc, char **argv)
{
    if (argc < 2)
        return aws_usage_error(NULL, "no subcommand given");
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        aws_print_usage(NULL, stdout);
        return CLI_EXIT_OK;
    }
    const struct aws_subcommand *s = find_sub(argv[1]);
    if (s == NULL)
        return aws_usage_error(NULL, "unknown subcommand '%s'", argv[1]);
    return s->run(argc - 1, argv + 1);
}
