/*
 * cmd_run.c — `lagwatch run -c FILE`: the daemon (daemon.h). This file only parses the command
 * line; --log-level and --log-format are global options (main.c).
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "lagwatch/daemon.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: lagwatch [--log-level LEVEL] [--log-format logfmt|json] run -c FILE\n\n"
            "Run the agent: every source on its interval, every rule group on its interval,\n"
            "notifications through the outbox in global.state_dir, and the HTTP endpoint on\n"
            "global.listen (default 127.0.0.1:9741): the status page /, /metrics, /-/healthy,\n"
            "/-/ready (200 after the first complete evaluation), /api/v1/alerts, /api/v1/rules,\n"
            "/api/v1/silences, /api/v1/failover.\n"
            "SIGHUP reloads the config and rule files (a bad new config keeps the running one\n"
            "and logs why); SIGTERM or SIGINT stop cleanly (in-flight requests get %d ms,\n"
            "state and outbox are flushed). Exit 0 after a clean stop, 2 on a bad config.\n",
            DAEMON_SHUTDOWN_WAIT_MS);
}

int cmd_run(int argc, char **argv)
{
    struct daemon_options o = {0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return CLI_EXIT_OK;
        } else if ((strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) && i + 1 < argc) {
            o.config_path = argv[++i];
        } else {
            return cli_usage_error("run", "unexpected argument '%s'", a);
        }
    }
    if (!o.config_path)
        return cli_usage_error("run", "no config file given (-c FILE)");
    return daemon_run(&o);
}
