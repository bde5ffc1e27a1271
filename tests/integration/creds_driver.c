/*
 * creds_driver.c — test-only bridge for creds_test.py: builds the agent's default credential
 * provider (env, profile, web identity, ECS, IMDS behind the cache, real libcurl transport) and
 * asks it for credentials at each clock offset given on the command line (seconds relative to
 * now), so the Python test can rotate or break the stand-in servers between gets without
 * waiting real minutes. Prints one line per get: "ok <provider> <access key id> <expires>" or
 * "err <message>"; provider log lines go to stderr (the test greps them for secrets).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lagwatch/creds.h"

static void log_line(void *ud, enum creds_log_level level, const char *msg, const char *provider,
                     const char *detail)
{
    (void)ud;
    fprintf(stderr, "level=%d msg=\"%s\" provider=%s detail=\"%s\"\n", (int)level, msg,
            provider ? provider : "", detail ? detail : "");
}

int main(int argc, char **argv)
{
    struct creds_options o = {0};
    o.log = log_line;
    o.timeout_ms = 2000;
    struct lw_err err = {0};
    struct creds_provider *p = creds_default_new(&o, NULL, &err);
    if (p == NULL) {
        printf("err %s\n", err.msg);
        return 1;
    }
    int64_t base = (int64_t)time(NULL);
    for (int i = 1; i < argc; i++) {
        char *end;
        long long off = strtoll(argv[i], &end, 10);
        if (*end != '\0') {
            printf("err bad offset %s\n", argv[i]);
            continue;
        }
        struct creds c;
        memset(&err, 0, sizeof err);
        if (creds_provider_get(p, base + off, &c, &err) == 0) {
            printf("ok %s %s %lld\n", c.provider, c.access_key_id, (long long)c.expires_unix_s);
            creds_cleanup(&c);
        } else {
            printf("err %s\n", err.msg);
        }
        fflush(stdout);
    }
    creds_provider_free(p);
    return 0;
}
