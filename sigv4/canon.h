/*
 * canon.h — private to sigv4/: the canonicalisation rules of SigV4, each a pure function that
 * appends to a bounded buffer. URI encoding (RFC 3986 unreserved set kept, everything else %XX
 * upper-case), path normalisation (dot segments and empty segments removed, as botocore and
 * aws-c-auth do), query canonicalisation (decode, re-encode, sort by key then value, bytewise) and
 * header canonicalisation (lower-case names, trimmed and folded values, duplicates joined with
 * ',', sorted by name). No allocation beyond the buffers handed in and small index arrays.
 */
#ifndef LAGWATCH_SIGV4_CANON_H
#define LAGWATCH_SIGV4_CANON_H

#include <stdbool.h>
#include <stddef.h>

#include "lagwatch/buf.h"
#include "lagwatch/error.h"
#include "lagwatch/sigv4.h"

/* A query parameter whose key and value are already in canonical (encoded) form. */
struct canon_param {
    const char *key;
    size_t key_len;
    const char *value;
    size_t value_len;
};

/* Append s[0..len) percent-encoded: A-Z a-z 0-9 - . _ ~ kept, '/' kept when keep_slash, every
 * other byte as %XX with upper-case hex. Returns 0 or -1 (out full). */
int canon_uri_encode(struct lw_buf *out, const char *s, size_t len, bool keep_slash);

/* Append the canonical URI of a wire path: dot and empty segments removed when normalize, then
 * encoded once more when double_encode. path must start with '/' ("" counts as "/"). Returns 0
 * or -1 with err set. */
int canon_path(struct lw_buf *out, const char *path, bool normalize, bool double_encode,
               struct lw_err *err);

/* Append the canonical query string: the wire query (may be NULL) split on '&', each part split
 * on its first '=', keys and values percent-decoded and re-encoded, merged with extra[0..n_extra)
 * (already canonical), sorted by key then value. scratch is used for the decoded copies. Returns
 * 0 or -1 with err set. */
int canon_query(struct lw_buf *out, struct lw_buf *scratch, const char *query,
                const struct canon_param *extra, size_t n_extra, struct lw_err *err);

/* Append the canonical headers block (each "name:value\n") to out and the signed header list
 * ("a;b;c") to signed_headers, for headers[0..n). Headers that are never signed (hop-by-hop,
 * user-agent, x-amzn-trace-id) are left out. scratch holds the lower-cased names. Returns 0 or
 * -1 with err set (bad header name, too many headers, out full). */
int canon_headers(struct lw_buf *out, struct lw_buf *signed_headers, struct lw_buf *scratch,
                  const struct sigv4_header *headers, size_t n, struct lw_err *err);

/* Append value trimmed, with every run of SP/HT/CR/LF/VT/FF folded into one space. */
int canon_header_value(struct lw_buf *out, const char *value);

/* Whether a (lower-case) header name is one SigV4 signers leave unsigned. */
bool canon_header_unsigned(const char *lname, size_t len);

#endif
