/*
 * cmd_ops.c — the operator commands, clients of the running agent's HTTP API (api_ops.h):
 *
 *   lagwatch silence add [OPTIONS] MATCHER...   e.g. 'pipeline="orders"' 'alertname=~"Debezium.*"'
 *   lagwatch silence list [--output text|json]
 *   lagwatch silence expire ID...
 *   lagwatch failover start|end CLUSTER
 *   lagwatch failover list [--output text|json]
 *   lagwatch health [--ready]                   for container and load-balancer health checks
 *
 * The agent is found with --url, else LAGWATCH_URL, else global.listen of -c FILE, else
 * http://127.0.0.1:9741. Exit 0 when the agent accepted, 1 when it refused or could not be
 * reached (its own error text is printed), 2 on a usage or config error.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "lagwatch/config.h"
#include "lagwatch/http.h"

#define OPS_DEFAULT_URL  "http://127.0.0.1:9741"
#define OPS_TIMEOUT_MS   10000L
#define OPS_MAX_MATCHERS 64
#define OPS_URL_MAX      2048

struct ops_cli {
    const char *cmd; /* "silence" or "failover" */
    char base[OPS_URL_MAX];
    const char *output;
};

/* Options common to both commands: -c FILE, --url URL, --output FORMAT. Returns 1 when argv[*i]
 * was one of them (consumed), 0 when not, -1 on a usage error. */
static int common_opt(struct ops_cli *o, int argc, char **argv, int *i, const char **config)
{
    const char *a = argv[*i];
    bool has_value = *i + 1 < argc;
    if ((strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) && has_value) {
        *config = argv[++*i];
    } else if (strcmp(a, "--url") == 0 && has_value) {
        snprintf(o->base, sizeof o->base, "%s", argv[++*i]);
    } else if (strcmp(a, "--output") == 0 && has_value) {
        o->output = argv[++*i];
        if (strcmp(o->output, "text") != 0 && strcmp(o->output, "json") != 0)
            return -1;
    } else {
        return 0;
    }
    return 1;
}

/* The agent's base URL: --url, LAGWATCH_URL, the config's listen address, the default. */
static int resolve_base(struct ops_cli *o, const char *config)
{
    if (o->base[0])
        return 0;
    const char *env = getenv("LAGWATCH_URL");
    if (env && env[0]) {
        snprintf(o->base, sizeof o->base, "%s", env);
        return 0;
    }
    if (config == NULL) {
        snprintf(o->base, sizeof o->base, "%s", OPS_DEFAULT_URL);
        return 0;
    }
    struct config *cfg = NULL;
    struct lw_err err = {0};
    if (config_load_file(config, NULL, &cfg, &err) != 0) {
        char msg[LW_ERR_MSG_MAX + LW_ERR_FILE_MAX + 32];
        lw_err_format(&err, msg, sizeof msg);
        fprintf(stderr, "lagwatch %s: %s\n", o->cmd, msg);
        return -1;
    }
    /* 0.0.0.0 / [::] listen on every address; talk to the loopback one */
    const char *listen = cfg->global.listen;
    if (strncmp(listen, "0.0.0.0:", 8) == 0)
        snprintf(o->base, sizeof o->base, "http://127.0.0.1:%s", listen + 8);
    else if (strncmp(listen, "[::]:", 5) == 0)
        snprintf(o->base, sizeof o->base, "http://[::1]:%s", listen + 5);
    else
        snprintf(o->base, sizeof o->base, "http://%s", listen);
    config_free(cfg);
    return 0;
}

/* One request to the agent. Returns the parsed JSON answer of a 2xx (caller decrefs), or NULL
 * after printing why (unreachable, the agent's error text, not JSON). */
static json_t *call(const struct ops_cli *o, const char *method, const char *path, const char *body)
{
    char url[OPS_URL_MAX + 512];
    size_t bl = strlen(o->base);
    snprintf(url, sizeof url, "%.*s%s", (int)(bl && o->base[bl - 1] == '/' ? bl - 1 : bl), o->base,
             path);
    struct lw_err err = {0};
    struct http_client *c = http_client_new(NULL, &err);
    if (c == NULL) {
        fprintf(stderr, "lagwatch %s: %s\n", o->cmd, err.msg);
        return NULL;
    }
    struct http_header h = {"Content-Type", "application/json"};
    struct http_request req = {.method = method,
                               .url = url,
                               .headers = body ? &h : NULL,
                               .n_headers = body ? 1 : 0,
                               .body = body,
                               .body_len = body ? strlen(body) : 0,
                               .timeout_ms = OPS_TIMEOUT_MS};
    struct http_response r = {0};
    json_t *doc = NULL;
    if (http_fetch_sync(c, &req, &r, &err) != 0) {
        fprintf(stderr, "lagwatch %s: %s\n", o->cmd, err.msg);
    } else if (r.status == 0) {
        fprintf(stderr,
                "lagwatch %s: cannot reach the agent at %s: %s (is 'lagwatch run' up? "
                "--url, LAGWATCH_URL or -c FILE say where it listens)\n",
                o->cmd, o->base, r.error ? r.error : "transport error");
    } else {
        json_error_t jerr;
        doc = json_loadb(r.body, r.body_len, 0, &jerr);
        const char *msg = json_string_value(json_object_get(doc, "error"));
        if (r.status < 200 || r.status > 299) {
            fprintf(stderr, "lagwatch %s: the agent answered HTTP %d: %s\n", o->cmd, r.status,
                    msg ? msg : r.body);
            json_decref(doc);
            doc = NULL;
        } else if (doc == NULL) {
            fprintf(stderr, "lagwatch %s: the agent's answer is not JSON: %s\n", o->cmd, jerr.text);
        }
    }
    http_response_cleanup(&r);
    http_client_free(c);
    return doc;
}

static int print_json(json_t *doc)
{
    char *s = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (s)
        printf("%s\n", s);
    free(s);
    return s ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

/* GET a list from the agent. With --output json it is printed here and *ans stays NULL (the
 * exit code is returned); otherwise *ans is the list for the caller's table (decref it). */
static int get_list(const struct ops_cli *o, const char *path, json_t **ans)
{
    json_t *doc = call(o, "GET", path, NULL);
    if (doc == NULL)
        return CLI_EXIT_FAIL;
    if (strcmp(o->output, "json") == 0) {
        int rc = print_json(doc);
        json_decref(doc);
        return rc;
    }
    *ans = doc;
    return CLI_EXIT_OK;
}

static const char *str(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

/* ---- silence --------------------------------------------------------------------------------- */

static int silence_add(struct ops_cli *o, int n_matchers, char **matchers, const char *duration,
                       const char *starts, const char *ends, const char *author,
                       const char *comment)
{
    json_t *ms = json_array();
    for (int i = 0; i < n_matchers; i++)
        json_array_append_new(ms, json_string(matchers[i]));
    json_t *doc =
        json_pack("{s:o, s:s, s:s}", "matchers", ms, "createdBy", author, "comment", comment);
    if (doc == NULL) {
        fprintf(stderr, "lagwatch silence: matchers, --author and --comment must be UTF-8\n");
        return CLI_EXIT_USAGE;
    }
    if (duration)
        json_object_set_new(doc, "duration", json_string(duration));
    if (starts)
        json_object_set_new(doc, "startsAt", json_string(starts));
    if (ends)
        json_object_set_new(doc, "endsAt", json_string(ends));
    char *body = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    json_t *ans = body ? call(o, "POST", "/api/v1/silences", body) : NULL;
    free(body);
    if (ans == NULL)
        return CLI_EXIT_FAIL;
    int rc = CLI_EXIT_OK;
    if (strcmp(o->output, "json") == 0)
        rc = print_json(ans);
    else
        printf("%s\n", str(ans, "silenceID"));
    json_decref(ans);
    return rc;
}

static int silence_list(struct ops_cli *o)
{
    json_t *ans = NULL;
    int rc = get_list(o, "/api/v1/silences", &ans);
    if (ans == NULL)
        return rc;
    printf("%-36s  %-8s  %-24s  %-12s  %s\n", "ID", "STATUS", "ENDS", "CREATED BY", "MATCHERS");
    size_t i;
    json_t *s;
    json_array_foreach(ans, i, s)
    {
        const json_t *st = json_object_get(s, "status");
        const char *state = json_is_object(st) ? str(st, "state") : json_string_value(st);
        printf("%-36s  %-8s  %-24s  %-12s  ", str(s, "id"), state ? state : "", str(s, "endsAt"),
               str(s, "createdBy"));
        size_t k;
        json_t *m;
        json_array_foreach(json_object_get(s, "matchers"), k, m)
        {
            if (json_is_string(m))
                printf("%s%s", k ? " " : "", json_string_value(m));
            else
                printf("%s%s%s\"%s\"", k ? " " : "", str(m, "name"),
                       json_is_true(json_object_get(m, "isEqual")) ? "=" : "!=", str(m, "value"));
        }
        printf("%s%s\n", json_string_length(json_object_get(s, "comment")) ? "  # " : "",
               str(s, "comment"));
    }
    json_decref(ans);
    return CLI_EXIT_OK;
}

static int silence_expire(struct ops_cli *o, int n, char **ids)
{
    int rc = CLI_EXIT_OK;
    for (int i = 0; i < n; i++) {
        char path[512];
        if (strchr(ids[i], '/') || strlen(ids[i]) > 200) {
            fprintf(stderr, "lagwatch silence: '%s' is not a silence ID\n", ids[i]);
            rc = CLI_EXIT_FAIL;
            continue;
        }
        snprintf(path, sizeof path, "/api/v1/silences/%s", ids[i]);
        json_t *ans = call(o, "DELETE", path, NULL);
        if (ans == NULL)
            rc = CLI_EXIT_FAIL;
        else
            printf("expired %s\n", ids[i]);
        json_decref(ans);
    }
    return rc;
}

static void silence_usage(FILE *out)
{
    fprintf(
        out,
        "usage: lagwatch silence add [--duration D | --end TIME] [--start TIME] --comment TEXT\n"
        "                            [--author NAME] MATCHER...\n"
        "       lagwatch silence list\n"
        "       lagwatch silence expire ID...\n"
        "common options: [-c FILE | --url URL] [--output text|json]\n\n"
        "Silences of the running agent (its HTTP API). A MATCHER is Alertmanager's syntax:\n"
        "name=\"value\", name!=\"value\", name=~\"regex\", name!~\"regex\". add prints the new\n"
        "silence's ID; --duration defaults to the agent's (1h), TIMEs are RFC 3339 and\n"
        "--author defaults to $USER. The agent is --url, else LAGWATCH_URL, else the\n"
        "listen address of -c FILE, else %s.\n"
        "Exit 0 accepted, 1 refused or unreachable, 2 usage error.\n",
        OPS_DEFAULT_URL);
}

int cmd_silence(int argc, char **argv)
{
    struct ops_cli o = {.cmd = "silence", .output = "text"};
    const char *config = NULL, *duration = NULL, *starts = NULL, *ends = NULL, *comment = NULL;
    const char *author = getenv("USER");
    char *args[OPS_MAX_MATCHERS];
    int n_args = 0;
    if (argc < 2)
        return cli_usage_error("silence", "which action: add, list or expire?");
    const char *action = argv[1];
    if (strcmp(action, "-h") == 0 || strcmp(action, "--help") == 0) {
        silence_usage(stdout);
        return CLI_EXIT_OK;
    }
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        bool has_value = i + 1 < argc;
        int c = common_opt(&o, argc, argv, &i, &config);
        if (c < 0)
            return cli_usage_error("silence", "--output takes text or json");
        if (c > 0)
            continue;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            silence_usage(stdout);
            return CLI_EXIT_OK;
        } else if (strcmp(a, "--duration") == 0 && has_value) {
            duration = argv[++i];
        } else if (strcmp(a, "--start") == 0 && has_value) {
            starts = argv[++i];
        } else if (strcmp(a, "--end") == 0 && has_value) {
            ends = argv[++i];
        } else if (strcmp(a, "--comment") == 0 && has_value) {
            comment = argv[++i];
        } else if (strcmp(a, "--author") == 0 && has_value) {
            author = argv[++i];
        } else if (a[0] == '-' && a[1] == '-') {
            return cli_usage_error("silence", "unknown option '%s'", a);
        } else if (n_args == OPS_MAX_MATCHERS) {
            return cli_usage_error("silence", "at most %d arguments", OPS_MAX_MATCHERS);
        } else {
            args[n_args++] = argv[i];
        }
    }
    if (resolve_base(&o, config) != 0)
        return CLI_EXIT_USAGE;
    if (strcmp(action, "add") == 0) {
        if (n_args == 0)
            return cli_usage_error("silence", "add needs at least one matcher");
        if (comment == NULL || comment[0] == '\0')
            return cli_usage_error("silence", "add needs --comment (why, for whoever reads it)");
        if (duration && ends)
            return cli_usage_error("silence", "give --duration or --end, not both");
        return silence_add(&o, n_args, args, duration, starts, ends,
                           author && author[0] ? author : "lagwatch-cli", comment);
    }
    if (strcmp(action, "list") == 0) {
        if (n_args)
            return cli_usage_error("silence", "list takes no arguments");
        return silence_list(&o);
    }
    if (strcmp(action, "expire") == 0) {
        if (n_args == 0)
            return cli_usage_error("silence", "expire needs the ID of a silence");
        return silence_expire(&o, n_args, args);
    }
    return cli_usage_error("silence", "unknown action '%s' (add, list or expire)", action);
}

/* ---- failover -------------------------------------------------------------------------------- */

static int failover_list(struct ops_cli *o)
{
    json_t *ans = NULL;
    int rc = get_list(o, "/api/v1/failover", &ans);
    if (ans == NULL)
        return rc;
    printf("%-30s  %-6s  %-5s  %-24s  %-24s  %s\n", "CLUSTER", "PHASE", "HELD", "STARTED",
           "HOLD UNTIL", "REASON");
    size_t i;
    json_t *c;
    json_array_foreach(ans, i, c)
        printf("%-30s  %-6s  %-5s  %-24s  %-24s  %s\n", str(c, "cluster"), str(c, "phase"),
               json_is_true(json_object_get(c, "held")) ? "yes" : "no", str(c, "startedAt"),
               str(c, "holdUntil"), str(c, "reason"));
    json_decref(ans);
    return CLI_EXIT_OK;
}

static void failover_usage(FILE *out)
{
    fprintf(out,
            "usage: lagwatch failover start CLUSTER   (hold pages for CLUSTER's pipelines)\n"
            "       lagwatch failover end CLUSTER     (end the episode; its hold runs out)\n"
            "       lagwatch failover list\n"
            "common options: [-c FILE | --url URL] [--output text|json]\n\n"
            "Failover episodes of the running agent, for failovers it cannot see by itself\n"
            "(planned maintenance, a failover outside RDS). The agent is --url, else\n"
            "LAGWATCH_URL, else the listen address of -c FILE, else %s.\n"
            "Exit 0 accepted, 1 refused or unreachable, 2 usage error.\n",
            OPS_DEFAULT_URL);
}

int cmd_failover(int argc, char **argv)
{
    struct ops_cli o = {.cmd = "failover", .output = "text"};
    const char *config = NULL, *cluster = NULL;
    if (argc < 2)
        return cli_usage_error("failover", "which action: start, end or list?");
    const char *action = argv[1];
    if (strcmp(action, "-h") == 0 || strcmp(action, "--help") == 0) {
        failover_usage(stdout);
        return CLI_EXIT_OK;
    }
    for (int i = 2; i < argc; i++) {
        int c = common_opt(&o, argc, argv, &i, &config);
        if (c < 0)
            return cli_usage_error("failover", "--output takes text or json");
        if (c > 0)
            continue;
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            failover_usage(stdout);
            return CLI_EXIT_OK;
        }
        if (argv[i][0] == '-' || cluster)
            return cli_usage_error("failover", "unexpected argument '%s'", argv[i]);
        cluster = argv[i];
    }
    if (resolve_base(&o, config) != 0)
        return CLI_EXIT_USAGE;
    if (strcmp(action, "list") == 0) {
        if (cluster)
            return cli_usage_error("failover", "list takes no cluster");
        return failover_list(&o);
    }
    bool start = strcmp(action, "start") == 0;
    if (!start && strcmp(action, "end") != 0)
        return cli_usage_error("failover", "unknown action '%s' (start, end or list)", action);
    if (cluster == NULL)
        return cli_usage_error("failover", "%s needs the Aurora cluster identifier", action);
    for (const char *p = cluster; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-'))
            return cli_usage_error("failover", "'%s' is not an Aurora cluster identifier", cluster);
    /* who started or ended it, for the agent's log: $USER kept to characters safe in a query */
    char by[64] = "";
    const char *user = getenv("USER");
    for (size_t j = 0, k = 0; user && user[j] && k + 1 < sizeof by; j++)
        if ((user[j] >= 'a' && user[j] <= 'z') || (user[j] >= 'A' && user[j] <= 'Z') ||
            (user[j] >= '0' && user[j] <= '9') || strchr("-_.", user[j])) {
            by[k++] = user[j];
            by[k] = '\0';
        }
    char path[512];
    snprintf(path, sizeof path, "/api/v1/failover/%s/%s%s%s", cluster, action, by[0] ? "?by=" : "",
             by);
    json_t *ans = call(&o, "POST", path, NULL);
    if (ans == NULL)
        return CLI_EXIT_FAIL;
    int rc = CLI_EXIT_OK;
    if (strcmp(o.output, "json") == 0)
        rc = print_json(ans);
    else
        printf("failover of %s: %s\n", cluster,
               start ? "episode started, pages for its pipelines are held"
                     : "episode ended, the hold runs out");
    json_decref(ans);
    return rc;
}

/* ---- health ---------------------------------------------------------------------------------- */

/* `lagwatch health [--ready] [-c FILE | --url URL]`: GET /-/healthy (or /-/ready) of the running
 * agent, for container health checks that have no curl. Exit 0 on 200, 1 otherwise. */
int cmd_health(int argc, char **argv)
{
    struct ops_cli o = {.cmd = "health", .output = "text"};
    const char *config = NULL, *path = "/-/healthy";
    for (int i = 1; i < argc; i++) {
        int c = common_opt(&o, argc, argv, &i, &config);
        if (c < 0)
            return cli_usage_error("health", "--output takes text or json");
        if (c > 0)
            continue;
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            printf(
                "usage: lagwatch health [--ready] [-c FILE | --url URL]\n\n"
                "Ask the running agent whether it is healthy (GET /-/healthy) or, with --ready,\n"
                "ready (GET /-/ready: every source ran and every rule group was evaluated).\n"
                "For container health checks (Docker HEALTHCHECK, ECS healthCheck). The agent\n"
                "is --url, else LAGWATCH_URL, else the listen address of -c FILE, else %s.\n"
                "Exit 0 when it answers 200, 1 otherwise, 2 on a usage error.\n",
                OPS_DEFAULT_URL);
            return CLI_EXIT_OK;
        }
        if (strcmp(argv[i], "--ready") != 0)
            return cli_usage_error("health", "unexpected argument '%s'", argv[i]);
        path = "/-/ready";
    }
    if (resolve_base(&o, config) != 0)
        return CLI_EXIT_USAGE;
    char url[OPS_URL_MAX + 16];
    size_t bl = strlen(o.base);
    snprintf(url, sizeof url, "%.*s%s", (int)(bl && o.base[bl - 1] == '/' ? bl - 1 : bl), o.base,
             path);
    struct lw_err err = {0};
    struct http_client *c = http_client_new(NULL, &err);
    struct http_request req = {.url = url, .timeout_ms = OPS_TIMEOUT_MS};
    struct http_response r = {0};
    int rc = CLI_EXIT_FAIL;
    if (c == NULL || http_fetch_sync(c, &req, &r, &err) != 0)
        fprintf(stderr, "lagwatch health: %s\n", err.msg);
    else if (r.status == 200)
        rc = CLI_EXIT_OK;
    else if (r.status == 0)
        fprintf(stderr, "lagwatch health: cannot reach the agent at %s: %s\n", o.base,
                r.error ? r.error : "transport error");
    else
        fprintf(stderr, "lagwatch health: %s answered HTTP %d: %.200s\n", url, r.status, r.body);
    if (rc == CLI_EXIT_OK)
        printf("%s\n", r.body_len ? r.body : "ok");
    http_response_cleanup(&r);
    http_client_free(c);
    return rc;
}
