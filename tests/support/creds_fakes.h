/*
 * creds_fakes.h — test doubles for the credential providers' injected I/O: an environment
 * table, a scripted HTTP transport (answers consumed in order, each checking the method and URL
 * it expects and recording the headers it saw), and a log capture that can be searched for
 * secrets. Test-only.
 */
#ifndef LAGWATCH_CREDS_FAKES_H
#define LAGWATCH_CREDS_FAKES_H

#include <stddef.h>

#include "lagwatch/creds.h"

#define FAKE_MAX_VARS  32
#define FAKE_MAX_STEPS 32
#define FAKE_LOG_BYTES 16384
#define FAKE_HDR_BYTES 4096

struct fake_env {
    const char *names[FAKE_MAX_VARS];
    const char *values[FAKE_MAX_VARS];
    size_t n;
};

/* Set (or replace) name in env; value NULL unsets. */
void fake_env_set(struct fake_env *e, const char *name, const char *value);
const char *fake_getenv(void *ud, const char *name);

struct fake_step {
    const char *method; /* expected method */
    const char *url;    /* expected URL, exactly */
    long status;        /* answer status; 0 = transport failure ("timed out") */
    const char *body;   /* answer body */
};

struct fake_http {
    struct fake_step steps[FAKE_MAX_STEPS];
    size_t n, next;
    char headers[FAKE_MAX_STEPS][FAKE_HDR_BYTES]; /* headers of request i, "\n"-joined */
    char bodies[FAKE_MAX_STEPS][FAKE_HDR_BYTES];  /* request bodies (truncated) */
    int mismatch;                                 /* a request that was not the next step */
};

void fake_http_add(struct fake_http *h, const char *method, const char *url, long status,
                   const char *body);
int fake_http(void *ud, const struct creds_http_request *req, struct creds_http_response *resp,
              struct lw_err *err);

struct fake_log {
    char text[FAKE_LOG_BYTES]; /* every line "level msg provider detail\n" */
    size_t len;
    int warnings;
};

void fake_log(void *ud, enum creds_log_level level, const char *msg, const char *provider,
              const char *detail);

/* Options wired to the three fakes (any may be NULL). */
struct creds_options fake_options(struct fake_env *e, struct fake_http *h, struct fake_log *l);

#endif
