/*
 * sigv4.h — AWS Signature Version 4 (AWS4-HMAC-SHA256), pure and staged as aws-c-auth structures
 * it: canonical request -> string to sign -> signature -> the headers (or presigned-URL query
 * parameters) to add. The time is passed in; nothing here reads the clock, the network or the
 * disk. Credentials come from the caller (the creds_* providers); the signer never logs them and
 * never puts them into an error message.
 *
 * Two ways in:
 *  - sigv4_sign_for_http(): what the AWS clients call. Header form, path normalised and
 *    double-encoded (every AWS service but S3), session token signed.
 *  - sigv4_sign(): every switch of the AWS test suite (normalisation, double encoding, signed
 *    payload hash, token added after signing, presigned-URL form) and every stage's output, for
 *    `lagwatch aws sign` and the tests.
 * The test-suite file formats (request.txt, context.json) are parsed by sigv4_suite_*.
 *
 * Inputs as the wire carries them: `path` and `query` are the request target exactly as sent
 * (already percent-encoded, or raw UTF-8); the signer percent-decodes query keys and values and
 * re-encodes them with the SigV4 rules ('+' is a literal plus, not a space), and encodes the path
 * once more (double encoding) unless told not to.
 */
#ifndef LAGWATCH_SIGV4_H
#define LAGWATCH_SIGV4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lagwatch/buf.h"
#include "lagwatch/error.h"

#define SIGV4_ALGORITHM "AWS4-HMAC-SHA256"
#define SIGV4_HEX_LEN   64 /* a SHA-256 or HMAC-SHA256 in lowercase hex */
#define SIGV4_DATE_LEN  16 /* "20150830T123600Z" */

struct sigv4_credentials {
    const char *access_key_id;
    const char *secret_access_key;
    const char *session_token; /* NULL (or "") when the credentials have none */
};

struct sigv4_header {
    const char *name;
    const char *value;
};

struct sigv4_request {
    const char *method; /* "POST" */
    /* "monitoring.us-east-1.amazonaws.com" or "127.0.0.1:5000" (a non-default port is kept). May
     * be NULL only when `headers` carries a Host header (the test-suite files do). */
    const char *host;
    const char *path;  /* "/" as sent on the wire; "" is taken as "/" */
    const char *query; /* as sent on the wire, without '?'; NULL or "" for none */
    /* Headers to sign, in the order they are sent; duplicates allowed (joined with ','). Without
     * host/x-amz-date/authorization/x-amz-security-token: the signer owns those. Hop-by-hop
     * headers and user-agent/x-amzn-trace-id are sent but not signed (as botocore). */
    const struct sigv4_header *headers;
    size_t n_headers;
    const void *body; /* hashed into the canonical request; NULL when body_len is 0 */
    size_t body_len;
};

/* What sigv4_sign_for_http() returns: the values of the headers to add to the request. Strings are
 * heap-owned; a member is NULL when it does not apply. */
struct sigv4_signed {
    char *authorization; /* "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=..." */
    char *amz_date;      /* X-Amz-Date: "20150830T123600Z" */
    char
        *security_token; /* X-Amz-Security-Token, NULL without a session token (wiped on cleanup) */
    char *content_sha256; /* X-Amz-Content-SHA256, NULL unless asked for */
};

/* Derived signing keys, cached per (secret, date, region, service) so that signing most requests
 * costs two SHA-256 and one HMAC, not five HMACs. Holds a copy of each secret it has seen (to
 * tell keys apart) and the derived keys; all are wiped with OPENSSL_cleanse on eviction and free.
 * Also keeps the fetched OpenSSL algorithms and scratch buffers. Not thread-safe: one per thread
 * (lagwatch has one event loop). */
struct sigv4_key_cache;

/* A new, empty cache; NULL when out of memory or OpenSSL lacks SHA-256/HMAC. */
struct sigv4_key_cache *sigv4_key_cache_new(void);

/* Wipe and free the cache. NULL is allowed. */
void sigv4_key_cache_free(struct sigv4_key_cache *c);

/* How many signatures found their key in the cache (hits) and how many derived it (misses). */
void sigv4_key_cache_stats(const struct sigv4_key_cache *c, uint64_t *hits, uint64_t *misses);

/*
 * Sign `req` for an AWS service other than S3 at `unix_time_s` (seconds since the epoch, UTC) with
 * the header form: the path is dot-segment-normalised and double-encoded; host, x-amz-date and
 * (when creds has one) x-amz-security-token are signed; the payload hash is SHA-256 of the body
 * and is also sent and signed as x-amz-content-sha256 only when sign_content_sha256 is true.
 * cache may be NULL (the key is then derived for this call only). On success fills *out (release
 * with sigv4_signed_cleanup) and returns 0. On error returns -1 with err set (the message names the
 * offending field or header, never a secret) and leaves *out untouched.
 */
LW_MUST_CHECK int sigv4_sign_for_http(struct sigv4_key_cache *cache,
                                      const struct sigv4_request *req, const char *region,
                                      const char *service, int64_t unix_time_s,
                                      const struct sigv4_credentials *creds,
                                      bool sign_content_sha256, struct sigv4_signed *out,
                                      struct lw_err *err);

/* Free (wiping the security token) and zero the members of s. Safe on a zeroed struct and NULL. */
void sigv4_signed_cleanup(struct sigv4_signed *s);

/* ---- The staged signer: every switch, every stage ---- */

enum sigv4_form {
    SIGV4_FORM_HEADER, /* Authorization header */
    SIGV4_FORM_QUERY,  /* presigned URL: X-Amz-* query parameters */
};

struct sigv4_config {
    const char *region;  /* "us-east-1" */
    const char *service; /* "monitoring" */
    int64_t unix_time_s; /* the signing time, seconds since the epoch (UTC) */
    const struct sigv4_credentials *creds;
    enum sigv4_form form;
    bool normalize_path;      /* remove dot segments and empty segments (all services but S3) */
    bool double_encode_path;  /* percent-encode the wire path once more (all services but S3) */
    bool sign_content_sha256; /* header form: add and sign x-amz-content-sha256 */
    bool omit_session_token;  /* add the session token after signing, unsigned (some services) */
    int64_t expires_s;        /* query form: X-Amz-Expires, 1..604800 */
};

/* One header (header form) or one query parameter (query form) the signature requires the
 * request to carry. Query-form values are already percent-encoded for the URL. */
struct sigv4_addition {
    char *name;
    char *value;
};

#define SIGV4_MAX_ADDITIONS 8

/* Everything sigv4_sign() produced, stage by stage. Heap strings, released by
 * sigv4_result_cleanup. */
struct sigv4_result {
    char *canonical_request;
    char *string_to_sign;
    char signature[SIGV4_HEX_LEN + 1];
    char amz_date[SIGV4_DATE_LEN + 1];
    char *signed_headers; /* "host;x-amz-date" */
    /* Header form: X-Amz-Security-Token, X-Amz-Date, x-amz-content-sha256, Authorization (those
     * that apply, in this order). Query form: X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date,
     * X-Amz-SignedHeaders, X-Amz-Expires, X-Amz-Security-Token, X-Amz-Signature. */
    struct sigv4_addition add[SIGV4_MAX_ADDITIONS];
    size_t n_add;
};

/*
 * Run every stage for req under cfg. cache may be NULL. Returns 0 and fills *out (release with
 * sigv4_result_cleanup), or -1 with err set and *out untouched.
 */
LW_MUST_CHECK int sigv4_sign(struct sigv4_key_cache *cache, const struct sigv4_request *req,
                             const struct sigv4_config *cfg, struct sigv4_result *out,
                             struct lw_err *err);

/* Free (wiping anything derived from credentials) and zero *r. Safe on a zeroed struct. */
void sigv4_result_cleanup(struct sigv4_result *r);

/* Stage 1 alone: append the canonical request of req under cfg to out (the x-amz-* headers or
 * query parameters the form implies included) and, when signed_headers is not NULL, the signed
 * header list to it. Returns 0, or -1 with err set (out's content is then unspecified). */
LW_MUST_CHECK int sigv4_canonical_request(const struct sigv4_request *req,
                                          const struct sigv4_config *cfg, struct lw_buf *out,
                                          struct lw_buf *signed_headers, struct lw_err *err);

/* Stage 2 alone: append the string to sign for a canonical request to out. Returns 0 or -1. */
LW_MUST_CHECK int sigv4_string_to_sign(const struct sigv4_config *cfg, const char *canonical,
                                       size_t canonical_len, struct lw_buf *out,
                                       struct lw_err *err);

/* Stage 3 alone: the signature of a string to sign, as lowercase hex into hex[65]. cache may be
 * NULL. Returns 0 or -1. */
LW_MUST_CHECK int sigv4_signature(struct sigv4_key_cache *cache, const struct sigv4_config *cfg,
                                  const char *string_to_sign, size_t len,
                                  char hex[SIGV4_HEX_LEN + 1], struct lw_err *err);

/* "20150830T123600Z" for unix_time_s into out[17]. Returns 0, or -1 outside years 1970..9999. */
LW_MUST_CHECK int sigv4_format_amz_date(int64_t unix_time_s, char out[SIGV4_DATE_LEN + 1]);

/* ---- The AWS test-suite file formats (used by `lagwatch aws sign` and the tests) ---- */

/* A parsed request.txt: "METHOD TARGET HTTP/1.1", header lines "Name:value" (continuation lines
 * start with a space or tab and belong to the value, kept raw), an optional blank line and the
 * body. All strings point into one owned copy of the file. */
struct sigv4_suite_request {
    char *method;
    char *path;
    char *query;   /* NULL when the target has no '?' */
    char *version; /* "HTTP/1.1" */
    struct sigv4_header *headers;
    size_t n_headers;
    const char *body;
    size_t body_len;
    char *copy_; /* private: the owned copy */
};

/* Parse a request.txt held in buf[0..len). Returns 0, or -1 with err's line and column set and
 * *out untouched. */
LW_MUST_CHECK int sigv4_suite_request_parse(const char *buf, size_t len,
                                            struct sigv4_suite_request *out, struct lw_err *err);
void sigv4_suite_request_cleanup(struct sigv4_suite_request *r);

/* A parsed context.json. Strings are owned (the secret and token are wiped on cleanup). */
struct sigv4_suite_context {
    char *access_key_id;
    char *secret_access_key;
    char *session_token; /* NULL when absent */
    char *region;
    char *service;
    int64_t unix_time_s;
    int64_t expires_s;
    bool normalize;
    bool sign_body;
    bool omit_session_token;
};

/* Parse a context.json held in buf[0..len). Returns 0, or -1 with err set (line and column for
 * JSON syntax errors) and *out untouched. Secrets never appear in the message. */
LW_MUST_CHECK int sigv4_suite_context_parse(const char *buf, size_t len,
                                            struct sigv4_suite_context *out, struct lw_err *err);
void sigv4_suite_context_cleanup(struct sigv4_suite_context *c);

/* Sign a parsed request.txt under a parsed context.json in the given form (double encoding on,
 * normalisation, payload signing and token placement as the context says). Returns 0 and fills
 * *out, or -1 with err set. */
LW_MUST_CHECK int sigv4_suite_sign(const struct sigv4_suite_request *req,
                                   const struct sigv4_suite_context *ctx, enum sigv4_form form,
                                   struct sigv4_result *out, struct lw_err *err);

/* Append the signed request as the suite prints it (request line, the original headers, the
 * added headers or query parameters, a blank line, the body) to out. Returns 0 or -1 (out full). */
LW_MUST_CHECK int sigv4_suite_format_signed(const struct sigv4_suite_request *req,
                                            const struct sigv4_result *res, enum sigv4_form form,
                                            struct lw_buf *out);

#endif
