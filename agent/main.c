/*
 * main.c — lagwatch's entry point: global options (--help, --version, --log-level,
 * --log-format), then dispatch to the command table. Commands live in agent/cmd_*.c; this file
 * only knows their names, so `lagwatch --help` is always the list of what exists.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "lagwatch/log.h"

const struct cli_command cli_commands[] = {
    {"scrape", "URL|FILE [--openmetrics]", "fetch or read an exposition page and print its samples",
     cmd_scrape},
    {"aws", "SUBCOMMAND [ARGS] (sign --context FILE --request FILE --print WHAT)",
     "AWS helpers: print the stages of signing a request", cmd_aws},
    {"promql-test", "[--verbose] FILE...",
     "run PromQL test scripts (load/eval) against lagwatch's evaluator", cmd_promql_test},
    {"validate", "-c FILE [--print]", "check a config and its rule files offline", cmd_validate},
    {"run", "-c FILE", "run the agent (the daemon): sources, rules, notifications, HTTP endpoint",
     cmd_run},
    {"test-rules", "FILE...", "run rule unit tests in promtool's format", cmd_test_rules},
    {"check-rules", "[--evaluation-interval DUR] [--lint-fatal] FILE...",
     "load and lint rule files against lagwatch's sources", cmd_check_rules},
    {"fetch", "-c FILE [--lookback DURATION] [--timeout DURATION]",
     "run every configured source once and print what it yields", cmd_fetch},
    {"check", "-c FILE [--lookback D] [--duration D] [--output table|json|junit] [--notify]",
     "fetch once, evaluate the rules over history, report alerts (for CI)", cmd_check},
    {"notify-test", "-c FILE --receiver NAME [--timeout DURATION]",
     "send a marked test notification to a receiver's integrations", cmd_notify_test},
    {"silence", "add|list|expire [-c FILE | --url URL] [ARGS]",
     "add, list or expire silences of the running agent", cmd_silence},
    {"failover", "start|end|list [CLUSTER] [-c FILE | --url URL]",
     "start or end a failover episode (pages held) on the running agent", cmd_failover},
    {"health", "[--ready] [-c FILE | --url URL]",
     "ask the running agent whether it is healthy or ready (container health checks)", cmd_health},
    {NULL, NULL, NULL, NULL},
};

static void print_help(FILE *out)
{
    fprintf(out, "usage: lagwatch [--log-level LEVEL] [--log-format FORMAT] COMMAND [ARGS]\n"
                 "       lagwatch --help | --version\n\n"
                 "Watches MySQL change-data-capture pipelines (Aurora MySQL -> Debezium -> Kafka)\n"
                 "and pages people when they fall behind.\n\n"
                 "Commands:\n");
    for (const struct cli_command *c = cli_commands; c->name; c++)
        fprintf(out, "  %-12s %s\n", c->name, c->summary);
    fprintf(out, "\nOptions:\n"
                 "  --log-level LEVEL    debug, info (default), warn or error\n"
                 "  --log-format FORMAT  logfmt (default) or json\n"
                 "  -h, --help           show this help\n"
                 "  --version            show the version\n\n"
                 "Run 'lagwatch COMMAND --help' for a command's own options.\n");
}

static const struct cli_command *find_command(const char *name)
{
    for (const struct cli_command *c = cli_commands; c->name; c++)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("lagwatch: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    const struct cli_command *c = cmd ? find_command(cmd) : NULL;
    if (c)
        fprintf(stderr, "usage: lagwatch %s %s\n", c->name, c->usage);
    else
        fprintf(stderr, "usage: lagwatch [OPTIONS] COMMAND [ARGS]; see 'lagwatch --help'\n");
    return CLI_EXIT_USAGE;
}

int main(int argc, char **argv)
{
    enum log_level level = LOG_LEVEL_INFO;
    enum log_format format = LOG_FORMAT_LOGFMT;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            print_help(stdout);
            return CLI_EXIT_OK;
        } else if (strcmp(a, "--version") == 0) {
            printf("lagwatch %s\n", LAGWATCH_VERSION);
            return CLI_EXIT_OK;
        } else if (strcmp(a, "--log-level") == 0) {
            if (i + 1 >= argc || log_parse_level(argv[i + 1], &level) != 0)
                return cli_usage_error(NULL, "--log-level takes debug, info, warn or error");
            i++;
        } else if (strcmp(a, "--log-format") == 0) {
            if (i + 1 >= argc || log_parse_format(argv[i + 1], &format) != 0)
                return cli_usage_error(NULL, "--log-format takes logfmt or json");
            i++;
        } else {
            return cli_usage_error(NULL, "unknown option '%s'", a);
        }
    }
    if (i >= argc)
        return cli_usage_error(NULL, "no command given");
    log_init(level, format);
    const struct cli_command *c = find_command(argv[i]);
    if (c == NULL)
        return cli_usage_error(NULL, "unknown command '%s'", argv[i]);
    return c->run(argc - i, argv + i);
}
