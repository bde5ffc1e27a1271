/*
 * creds.h — AWS credentials: where they come from and how they stay fresh.
 *
 * A credential provider is a small object behind one vtable (the aws-c-auth shape): static keys,
 * the environment, the shared config/credentials files (profiles), STS AssumeRoleWithWebIdentity,
 * the ECS container endpoint and EC2 IMDSv2. A chain tries providers in the SDKs' order and says,
 * when all fail, what each one said; a cache wraps a provider and refreshes ahead of expiry
 * (advisory at 15 min left, mandatory at 10), one refresh at a time, keeping the old credentials
 * with a warning while they are still valid if a refresh fails.
 *
 * Nothing here reads a clock or opens a socket on its own: the caller passes the wall-clock time
 * (Unix seconds) to every get, and the network providers send their HTTP through the transport
 * in struct creds_options (a function pointer and user data), so unit tests need no network.
 * With no transport given, a small blocking libcurl call with short timeouts is used
 * (credentials refresh rarely and ahead of expiry, so blocking briefly is acceptable).
 *
 * Secrets (secret access keys, session tokens, web identity and container authorization tokens)
 * are wiped with OPENSSL_cleanse when freed and never appear in an error message or log line.
 */
#ifndef LAGWATCH_CREDS_H
#define LAGWATCH_CREDS_H

#include <stddef.h>
#include <stdint.h>

#include "lagwatch/buf.h"
#include "lagwatch/error.h"

/* One set of AWS credentials. All strings are heap-owned; session_token may be NULL. */
struct creds {
    char *access_key_id;
    char *secret_access_key;
    char *session_token;
    int64_t expires_unix_s; /* 0 = never expires */
    const char *provider;   /* "static", "env", "profile", "web-identity", "ecs", "imds" (static) */
};

/* Wipe the secrets with OPENSSL_cleanse, free every string and zero c. Safe on a zeroed struct
 * and on NULL. */
void creds_cleanup(struct creds *c);

/* Deep copy src into dst (dst is overwritten, not cleaned). 0, or -1 when out of memory (dst is
 * then left zeroed). */
LW_MUST_CHECK int creds_copy(struct creds *dst, const struct creds *src);

/* ---- injected I/O ---------------------------------------------------------------------------*/

/* One HTTP exchange a provider asks for. Headers are "Name: value" strings. */
struct creds_http_request {
    const char *method; /* "GET", "PUT" or "POST" */
    const char *url;
    const char *const *headers; /* n_headers entries; may be NULL when n_headers is 0 */
    size_t n_headers;
    const char *body; /* may be NULL (no body) */
    size_t body_len;
    long connect_timeout_ms;
    long timeout_ms;       /* whole exchange */
    size_t max_body_bytes; /* the response body is refused past this */
};

/* What came back: the status and the body (the transport lw_buf_init()s body itself with the
 * request's max_body_bytes; the caller always lw_buf_cleanup()s it, also after a failure). */
struct creds_http_response {
    long status;
    struct lw_buf body;
};

/* Perform req. 0 when an HTTP answer arrived (whatever its status), -1 with err set on a
 * transport failure (refused, timeout, body too large). The message never holds header values. */
typedef int (*creds_http_fn)(void *ud, const struct creds_http_request *req,
                             struct creds_http_response *resp, struct lw_err *err);

/* Read an environment variable (NULL when unset). Tests inject a table instead of setenv. */
typedef const char *(*creds_getenv_fn)(void *ud, const char *name);

enum creds_log_level { CREDS_LOG_DEBUG = 0, CREDS_LOG_INFO, CREDS_LOG_WARN };

/* A log line from the providers (sigv4/ does not log itself). msg is constant text; provider
 * and detail may be NULL; none of them ever holds a secret. */
typedef void (*creds_log_fn)(void *ud, enum creds_log_level level, const char *msg,
                             const char *provider, const char *detail);

/* How the providers reach the world. Zero-initialise, then set what you need; every NULL
 * function falls back to the default (libcurl, getenv, no logging), every 0 number to its
 * default (see limits.h: LW_CREDS_*). The struct is copied by the constructors. */
struct creds_options {
    creds_http_fn http;
    void *http_ud;
    creds_getenv_fn getenv;
    void *getenv_ud;
    creds_log_fn log;
    void *log_ud;
    long connect_timeout_ms; /* 0 = LW_CREDS_CONNECT_TIMEOUT_MS */
    long timeout_ms;         /* 0 = LW_CREDS_TIMEOUT_MS */
};

/* The default transport: one blocking libcurl easy call honouring the request's timeouts and
 * body cap, no redirects, http and https only. ud is unused. */
int creds_http_curl(void *ud, const struct creds_http_request *req,
                    struct creds_http_response *resp, struct lw_err *err);

/* ---- providers ------------------------------------------------------------------------------*/

struct creds_provider; /* opaque, vtable-based */

/* Fetch credentials valid at now_unix_s into out (a copy the caller creds_cleanup()s). 0, or -1
 * with err saying why (never quoting a secret); out is written only on success. */
LW_MUST_CHECK int creds_provider_get(struct creds_provider *p, int64_t now_unix_s,
                                     struct creds *out, struct lw_err *err);

/* Forget anything cached (after AWS answered ExpiredToken): the next get fetches anew. */
void creds_provider_invalidate(struct creds_provider *p);

/* The provider's short name ("env", "chain", ...; static string). */
const char *creds_provider_name(const struct creds_provider *p);

/* Free p, wiping any secrets it holds. Safe on NULL. */
void creds_provider_free(struct creds_provider *p);

/* Fixed keys (explicit keys in lagwatch's config; tests). session_token may be NULL. NULL when
 * out of memory or a key is NULL/empty. */
struct creds_provider *creds_static_new(const char *access_key_id, const char *secret,
                                        const char *session_token);

/* AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN (read at each get). opts may be
 * NULL. */
struct creds_provider *creds_env_new(const struct creds_options *opts);

/* Where the shared files and the profile come from. Every NULL field falls back to the SDKs'
 * environment variables (AWS_PROFILE, AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE) and then to
 * "default", ~/.aws/credentials, ~/.aws/config. */
struct creds_profile_options {
    const char *profile;
    const char *credentials_file;
    const char *config_file;
    const char *sts_endpoint; /* for role_arn + web_identity_token_file; NULL = resolved */
    const char *region;       /* STS region when sts_endpoint is NULL; NULL = resolved */
};

/* A profile from the shared files: static keys (aws_access_key_id, aws_secret_access_key,
 * aws_session_token; the credentials file wins over config), or role_arn +
 * web_identity_token_file (+ role_session_name) through STS. The files are read at each get. */
struct creds_provider *creds_profile_new(const struct creds_options *opts,
                                         const struct creds_profile_options *popts);

/* STS AssumeRoleWithWebIdentity settings. Every NULL field falls back to AWS_ROLE_ARN,
 * AWS_WEB_IDENTITY_TOKEN_FILE, AWS_ROLE_SESSION_NAME (else "lagwatch-<unix time>"), and the STS
 * endpoint to AWS_ENDPOINT_URL_STS / AWS_ENDPOINT_URL / the regional endpoint. */
struct creds_web_identity_options {
    const char *role_arn;
    const char *token_file; /* re-read at each refresh (the token rotates) */
    const char *session_name;
    const char *sts_endpoint; /* full URL, e.g. "https://sts.us-east-1.amazonaws.com" */
    const char *region;       /* when sts_endpoint is not given; NULL = resolved */
};

/* STS AssumeRoleWithWebIdentity (an unsigned Query POST; the XML answer parsed with libxml2). */
struct creds_provider *creds_web_identity_new(const struct creds_options *opts,
                                              const struct creds_web_identity_options *wopts);

/* ECS container credentials: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (on 169.254.170.2) or
 * AWS_CONTAINER_CREDENTIALS_FULL_URI (https anywhere; http only to loopback, 169.254.170.2,
 * 169.254.170.23, fd00:ec2::23), authorization from AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE
 * (re-read each time) or AWS_CONTAINER_AUTHORIZATION_TOKEN; tokens with CR/LF are refused. */
struct creds_provider *creds_ecs_new(const struct creds_options *opts);

/* EC2 IMDSv2: PUT /latest/api/token (TTL LW_CREDS_IMDS_TOKEN_TTL_S), the role name, then the
 * role's credentials. The token is reused until near its TTL and fetched again on 401.
 * AWS_EC2_METADATA_DISABLED, AWS_EC2_METADATA_SERVICE_ENDPOINT,
 * AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE=IPv6 are honoured; IMDSv1 (no token) is used only when
 * allow_v1 is set and the token call itself answered 403/404/405. */
struct creds_provider *creds_imds_new(const struct creds_options *opts, int allow_v1);

/* Try each provider in order; the first that answers wins. When all fail the error lists each
 * provider's reason ("env: AWS_ACCESS_KEY_ID not set; profile: ..."). Takes ownership of the
 * n providers (also on failure, when they are freed). */
struct creds_provider *creds_chain_new(struct creds_provider **providers, size_t n,
                                       const struct creds_options *opts);

/* Cache inner's credentials and refresh ahead of expiry: advisory refresh when fewer than
 * LW_CREDS_ADVISORY_REFRESH_S seconds are left, mandatory when fewer than
 * LW_CREDS_MANDATORY_REFRESH_S; a failed refresh while the old credentials are still valid logs a
 * warning and returns the old ones. One refresh at a time (thread-safe). Takes ownership of
 * inner (also on failure). */
struct creds_provider *creds_cache_new(struct creds_provider *inner,
                                       const struct creds_options *opts);

/* Settings the config file (aws: section) may give; every NULL means "not configured". */
struct creds_config {
    const char *access_key_id; /* explicit keys override the chain (both or neither) */
    const char *secret_access_key;
    const char *session_token;
    const char *profile; /* a profile overrides the chain too */
    const char *region;
    const char *sts_endpoint; /* per-service endpoint override for STS */
};

/* What the agent uses: the cache around explicit keys, or the named profile, or the SDK chain
 * env -> profile (incl. web identity profiles) -> web identity from the environment -> ECS ->
 * IMDS. cfg may be NULL. NULL on a bad config (err says why) or out of memory. */
struct creds_provider *creds_default_new(const struct creds_options *opts,
                                         const struct creds_config *cfg, struct lw_err *err);

#endif
