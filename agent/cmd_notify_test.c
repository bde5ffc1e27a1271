/*
 * cmd_notify_test.c — `lagwatch notify-test -c FILE --receiver NAME [--timeout DURATION]`: load
 * the config as `run` would (so secrets come from the same *_file keys and ${VAR}s), then send
 * one clearly marked test notification (alertname LagwatchTestNotification, severity info) to
 * every Slack, PagerDuty and webhook integration of the receiver, synchronously, through the
 * same payload builders and HTTP client the daemon uses. Nothing is queued or persisted: the
 * outbox is an in-memory one that is never filled.
 *
 * Exit codes: 0 every integration answered 2xx; 1 one failed (the receiver's own error text,
 * e.g. "HTTP 404: channel_not_found", is printed); 2 usage error, invalid config or a receiver
 * that does not exist or has nothing to send to.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "lagwatch/config.h"
#include "lagwatch/duration.h"
#include "lagwatch/http.h"
#include "lagwatch/notify.h"
#include "lagwatch/outbox.h"

static void print_err(const struct lw_err *err)
{
    char line[LW_ERR_MSG_MAX + LW_ERR_FILE_MAX + 32];
    lw_err_format(err, line, sizeof line);
    fprintf(stderr, "%s\n", line);
}

static void print_help(void)
{
    printf("usage: lagwatch notify-test -c FILE --receiver NAME [--timeout DURATION]\n\n"
           "Send a clearly marked test notification (alertname LagwatchTestNotification,\n"
           "severity info) to every Slack, PagerDuty and webhook integration of a receiver,\n"
           "with the config's URLs and secrets. A PagerDuty test event is resolved right\n"
           "after it was accepted, so no incident stays open. Alertmanager integrations are\n"
           "not sent to (lagwatch pushes alerts there, not notifications).\n"
           "  -c, --config FILE   the config file\n"
           "  --receiver NAME     the receiver to test (as named under receivers:)\n"
           "  --timeout DURATION  per-request timeout (default 10s)\n"
           "Exit: 0 delivered, 1 a receiver failed (its own error text is shown),\n"
           "      2 usage error, invalid config or unknown receiver.\n");
}

/* The receiver's integrations as "1 Slack, 2 PagerDuty" into out. */
static void describe(const struct receiver_config *c, char *out, size_t outlen)
{
    size_t used = 0;
    out[0] = '\0';
    const struct {
        size_t n;
        const char *what;
    } kinds[] = {{c->n_slack, "Slack"}, {c->n_pagerduty, "PagerDuty"}, {c->n_webhook, "webhook"}};
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        if (kinds[i].n == 0 || used >= outlen)
            continue;
        int w = snprintf(out + used, outlen - used, "%s%zu %s", used ? ", " : "", kinds[i].n,
                         kinds[i].what);
        if (w > 0)
            used += (size_t)w;
    }
}

int cmd_notify_test(int argc, char **argv)
{
    const char *path = NULL, *receiver = NULL;
    int64_t timeout_ms = NOTIFY_TIMEOUT_MS;
    for (int i = 1; i < argc; i++) {
        if ((strcmp(argv[i], "-c") == 0 || strcmp(argv[i], "--config") == 0) && i + 1 < argc) {
            path = argv[++i];
        } else if (strcmp(argv[i], "--receiver") == 0 && i + 1 < argc) {
            receiver = argv[++i];
        } else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) {
            struct lw_err derr = {0};
            const char *v = argv[++i];
            if (duration_parse(v, strlen(v), &timeout_ms, &derr) != 0 || timeout_ms <= 0)
                return cli_usage_error("notify-test", "--timeout: '%s' is not a positive duration",
                                       v);
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            print_help();
            return CLI_EXIT_OK;
        } else {
            return cli_usage_error("notify-test", "unexpected argument '%s'", argv[i]);
        }
    }
    if (path == NULL)
        return cli_usage_error("notify-test", "-c FILE is required");
    if (receiver == NULL)
        return cli_usage_error("notify-test", "--receiver NAME is required");

    struct lw_err err = {0};
    struct config *cfg = NULL;
    if (config_load_file(path, NULL, &cfg, &err) != 0) {
        print_err(&err);
        return CLI_EXIT_USAGE;
    }
    const struct receivers *rs = &cfg->notify.receivers;
    const struct receiver_config *rc_cfg = receivers_find(rs, receiver);
    if (rc_cfg == NULL) {
        fprintf(stderr, "lagwatch: %s: no receiver named '%s'", path, receiver);
        for (size_t i = 0; i < rs->n; i++)
            fprintf(stderr, "%s'%s'", i ? ", " : "; the config has ", rs->v[i].name);
        fputc('\n', stderr);
        config_free(cfg);
        return CLI_EXIT_USAGE;
    }
    if (rc_cfg->n_slack + rc_cfg->n_pagerduty + rc_cfg->n_webhook == 0) {
        fprintf(stderr,
                "lagwatch: %s: receiver '%s' has no Slack, PagerDuty or webhook integration to "
                "test\n",
                path, receiver);
        config_free(cfg);
        return CLI_EXIT_USAGE;
    }

    int rc = CLI_EXIT_FAIL;
    struct http_client *http = http_client_new(NULL, &err);
    struct outbox *ob = outbox_new(NULL, 0);
    struct notifier *n = NULL;
    if (http == NULL || ob == NULL) {
        fprintf(stderr, "lagwatch: cannot start the HTTP client: %s\n",
                http ? "out of memory" : err.msg);
        goto out;
    }
    n = notifier_new(http, ob, rs, cfg->global.external_url);
    if (n == NULL) {
        fprintf(stderr, "lagwatch: out of memory\n");
        goto out;
    }
    notifier_set_timeout_ms(n, (long)timeout_ms);
    char what[128];
    describe(rc_cfg, what, sizeof what);
    if (notifier_send_test(n, receiver, (int64_t)time(NULL) * 1000, &err) != 0) {
        fprintf(stderr, "lagwatch: test notification to receiver '%s' failed: %s\n", receiver,
                err.msg);
        goto out;
    }
    printf("test notification delivered to receiver '%s' (%s)\n", receiver, what);
    rc = CLI_EXIT_OK;
out:
    notifier_free(n);
    outbox_free(ob);
    http_client_free(http);
    config_free(cfg);
    return rc;
}
