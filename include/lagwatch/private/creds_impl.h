/*
 * creds_impl.h — what the credential provider files in sigv4/ share and the unit tests reach:
 * the provider vtable, the option defaults, and the parsers for the JSON and time formats the
 * AWS credential endpoints answer with. Not part of the public API (use lagwatch/creds.h).
 */
#ifndef LAGWATCH_PRIVATE_CREDS_IMPL_H
#define LAGWATCH_PRIVATE_CREDS_IMPL_H

#include <stdint.h>

#include "lagwatch/creds.h"

struct creds_provider_vtable {
    const char *name;
    int (*get)(struct creds_provider *p, int64_t now_unix_s, struct creds *out, struct lw_err *err);
    void (*invalidate)(struct creds_provider *p); /* may be NULL */
    void (*destroy)(void *impl);                  /* frees impl, wiping secrets */
};

struct creds_provider {
    const struct creds_provider_vtable *vt;
    struct creds_options opts; /* defaults filled in */
    void *impl;
};

/* Allocate a provider with opts' defaults filled in; takes impl (destroyed on failure). */
struct creds_provider *creds_provider_alloc(const struct creds_provider_vtable *vt,
                                            const struct creds_options *opts, void *impl);

/* Copy src (NULL = all defaults) into dst with every unset field defaulted. */
void creds_options_defaults(struct creds_options *dst, const struct creds_options *src);

/* The environment variable through the injected getenv; NULL when unset or empty. */
const char *creds_env(const struct creds_options *o, const char *name);

/* Log through the injected callback (no-op without one). */
void creds_log(const struct creds_options *o, enum creds_log_level level, const char *msg,
               const char *provider, const char *detail);

/* Run one request through the injected transport with o's timeouts and the body cap
 * LW_MAX_CREDS_BODY_BYTES. resp->body is initialised here; the caller cleans it up. */
int creds_http(const struct creds_options *o, const char *method, const char *url,
               const char *const *headers, size_t n_headers, const char *body,
               struct creds_http_response *resp, struct lw_err *err);

/* Parse an ISO 8601 UTC time as AWS writes it ("2026-11-28T16:00:00Z", optional fraction,
 * "Z" or "+00:00") into Unix seconds. 0 or -1. */
int creds_parse_iso8601(const char *s, int64_t *out_unix_s);

/* Format Unix seconds as "2026-11-28T16:00:00Z" into out (at least 21 bytes). */
void creds_format_iso8601(int64_t unix_s, char *out, size_t outlen);

/* Parse the JSON the ECS and IMDS endpoints answer with (AccessKeyId, SecretAccessKey, Token,
 * Expiration; IMDS adds Code which must be "Success"). provider names the source in errors and
 * in out->provider. Credentials already expired at now_unix_s are refused. */
int creds_parse_json(const char *body, size_t len, const char *provider, int64_t now_unix_s,
                     struct creds *out, struct lw_err *err);

/* Read a small token file whole (cap LW_MAX_CREDS_TOKEN_BYTES), trailing whitespace trimmed.
 * Heap string the caller wipes and frees, or NULL with err set (names the file, never the
 * content). */
char *creds_read_token_file(const char *path, const char *provider, struct lw_err *err);

/* Wipe and free a heap string holding a secret. */
void creds_free_secret(char *s);

/* Wipe a buffer's bytes (it held a secret) before lw_buf_cleanup. */
void creds_wipe_buf(struct lw_buf *b);

/* STS AssumeRoleWithWebIdentity answer (XML) into out; refuses error documents with their Code
 * and Message. */
int creds_parse_sts_xml(const char *body, size_t len, int64_t now_unix_s, struct creds *out,
                        struct lw_err *err);

/* The instance's region from IMDSv2 (/latest/meta-data/placement/region) into *region (heap,
 * caller frees). 0 or -1 with err. */
int creds_imds_region(const struct creds_options *opts, int64_t now_unix_s, char **region,
                      struct lw_err *err);

/* Look key up in section ("default", "profile x", "x") of an AWS shared file held in buf.
 * *out (heap, caller frees) is NULL when the key is absent. Returns 1 when the section exists,
 * 0 when not, -1 with err (line, col) on a malformed line. */
int creds_ini_get(const char *buf, size_t len, const char *section, const char *key, char **out,
                  struct lw_err *err);

/* The profile's `region` (config file) into *region (heap) — 1 found, 0 absent, -1 error. */
int creds_profile_region(const struct creds_options *o, const struct creds_profile_options *po,
                         char **region, struct lw_err *err);

#endif
