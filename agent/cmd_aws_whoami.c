/*
 * cmd_aws_whoami.c — `lagwatch aws whoami [-c FILE] [--output text|json] [--debug]`: which AWS
 * credentials and region the agent would use, found exactly as the agent finds them (the
 * config's aws: section, then the SDKs' chain behind the cache): the provider that answered, the
 * access key id, the expiry and the region with where it came from. Never the secret key or the
 * session token. --debug also prints each provider tried and why it passed, so an operator can
 * see why the chain landed where it did. Exit 0 on success, 1 when no credentials or no region
 * were found, 2 on usage or config errors.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "cli.h"
#include "cmd_aws.h"
#include "lagwatch/creds.h"
#include "lagwatch/endpoint.h"
#include "lagwatch/limits.h"
#include "lagwatch/log.h"
#include "lagwatch/runtime.h"
#include "lagwatch/private/creds_impl.h"
#include "lagwatch/config.h"

/* --debug: every provider tried, on stderr; the chain never passes a secret here. */
static void debug_log(void *ud, enum creds_log_level level, const char *msg, const char *provider,
                      const char *detail)
{
    (void)ud;
    static const char *const names[] = {"debug", "info", "warn"};
    fprintf(stderr, "whoami: %s: %s%s%s%s%s\n", names[level], msg, provider ? " provider=" : "",
            provider ? provider : "", detail ? ": " : "", detail ? detail : "");
}

int cmd_aws_whoami(int argc, char **argv)
{
    const char *config = NULL, *output = "text";
    int debug = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            aws_print_usage("whoami", stdout);
            return CLI_EXIT_OK;
        } else if ((strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) && i + 1 < argc) {
            config = argv[++i];
        } else if (strcmp(a, "--output") == 0 && i + 1 < argc) {
            output = argv[++i];
            if (strcmp(output, "text") != 0 && strcmp(output, "json") != 0)
                return aws_usage_error("whoami", "--output takes text or json");
        } else if (strcmp(a, "--debug") == 0) {
            debug = 1;
        } else {
            return aws_usage_error("whoami", "unexpected argument '%s'", a);
        }
    }
    /* The agent's own config loader, so ${VAR}, *_file keys and validation are the same as
     * for `lagwatch run`. */
    struct config *cfg = NULL;
    struct creds_config cc = {0};
    struct lw_err err = {0};
    char msg[LW_ERR_MSG_MAX + LW_ERR_FILE_MAX + 32];
    if (config) {
        if (config_load_file(config, NULL, &cfg, &err) != 0) {
            lw_err_format(&err, msg, sizeof msg);
            fprintf(stderr, "lagwatch aws whoami: %s\n", msg);
            return CLI_EXIT_USAGE;
        }
        config_creds(cfg, &cc);
    }
    struct creds_options opts = {0};
    opts.log = debug ? debug_log : runtime_creds_log; /* warnings still reach the log */
    int64_t now = (int64_t)time(NULL);
    int rc = CLI_EXIT_FAIL;
    char *region = NULL;
    const char *region_src = NULL;
    struct creds c = {0};
    struct creds_provider *p = creds_default_new(&opts, &cc, &err);
    if (p == NULL) {
        fprintf(stderr, "lagwatch aws whoami: %s\n", err.msg);
        rc = CLI_EXIT_USAGE;
        goto cleanup;
    }
    if (creds_provider_get(p, now, &c, &err) != 0) {
        fprintf(stderr, "lagwatch aws whoami: %s\n", err.msg);
        goto cleanup;
    }
    struct creds_profile_options po = {cc.profile, NULL, NULL, NULL, NULL};
    struct region_options ro = {cc.region, &po, 1};
    memset(&err, 0, sizeof err);
    if (region_resolve(&opts, &ro, now, &region, &region_src, &err) != 0) {
        fprintf(stderr, "lagwatch aws whoami: %s\n", err.msg);
        goto cleanup;
    }
    char exp[32] = "never";
    if (c.expires_unix_s)
        creds_format_iso8601(c.expires_unix_s, exp, sizeof exp);
    if (strcmp(output, "json") == 0) {
        json_t *o = json_pack("{s:s, s:s, s:o, s:s, s:s}", "provider", c.provider, "access_key_id",
                              c.access_key_id, "expiration",
                              c.expires_unix_s ? json_string(exp) : json_null(), "region", region,
                              "region_source", region_src);
        char *s = o ? json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
        if (s)
            printf("%s\n", s);
        free(s);
        json_decref(o);
    } else {
        printf("provider:       %s\n"
               "access_key_id:  %s\n"
               "expiration:     %s\n"
               "region:         %s (from %s)\n",
               c.provider, c.access_key_id, exp, region, region_src);
    }
    rc = CLI_EXIT_OK;
cleanup:
    creds_cleanup(&c);
    free(region);
    creds_provider_free(p);
    config_free(cfg);
    return rc;
}
