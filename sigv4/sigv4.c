/*
 * sigv4.c — the SigV4 signer's stages and its derived-key cache. Stage 1 (canonical request)
 * strings together what canon.c produces; stage 2 hashes it into the string to sign; stage 3
 * HMACs that with the signing key derived from (secret, date, region, service); the last step
 * lists the headers or query parameters the request must carry. SHA-256 and HMAC come from
 * OpenSSL 3 (EVP_MD / EVP_MAC), fetched once per cache. Nothing here reads the clock, logs, or
 * copies a secret anywhere but into the cache, which wipes it.
 */
#include "lagwatch/sigv4.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "canon.h"
#include "lagwatch/limits.h"

#define CACHE_SLOTS 8 /* distinct (secret, date, region, service) in use at once */
#define KEY_LEN     32

struct key_slot {
    bool used;
    uint64_t last_use;
    char *secret; /* wiped on eviction */
    size_t secret_len;
    char date[9]; /* "20150830" */
    char *region;
    char *service;
    unsigned char key[KEY_LEN]; /* the derived signing key, wiped on eviction */
    EVP_MAC_CTX *mac;           /* HMAC keyed with `key`, re-initialised per signature */
};

struct sigv4_key_cache {
    EVP_MAC *hmac;
    EVP_MD *sha256;
    EVP_MD_CTX *md;
    EVP_MAC_CTX *derive; /* for the key derivation chain */
    uint64_t tick, hits, misses;
    struct key_slot slots[CACHE_SLOTS];
    /* Scratch buffers, kept between signatures so that signing does not reallocate. */
    struct lw_buf canon, sts, signed_headers, hblock, scratch;
};

static void slot_wipe(struct key_slot *s)
{
    if (s->secret) {
        OPENSSL_clear_free(s->secret, s->secret_len + 1);
        s->secret = NULL;
    }
    free(s->region);
    free(s->service);
    s->region = s->service = NULL;
    EVP_MAC_CTX_free(s->mac);
    s->mac = NULL;
    OPENSSL_cleanse(s->key, sizeof s->key);
    s->used = false;
}

struct sigv4_key_cache *sigv4_key_cache_new(void)
{
    struct sigv4_key_cache *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    c->hmac = EVP_MAC_fetch(NULL, OSSL_MAC_NAME_HMAC, NULL);
    c->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    c->md = EVP_MD_CTX_new();
    c->derive = c->hmac ? EVP_MAC_CTX_new(c->hmac) : NULL;
    lw_buf_init(&c->canon, LW_MAX_SIGV4_CANONICAL_BYTES);
    lw_buf_init(&c->sts, LW_MAX_SIGV4_CANONICAL_BYTES);
    lw_buf_init(&c->signed_headers, LW_MAX_SIGV4_CANONICAL_BYTES);
    lw_buf_init(&c->hblock, LW_MAX_SIGV4_CANONICAL_BYTES);
    lw_buf_init(&c->scratch, LW_MAX_SIGV4_CANONICAL_BYTES);
    if (c->hmac == NULL || c->sha256 == NULL || c->md == NULL || c->derive == NULL) {
        sigv4_key_cache_free(c);
        return NULL;
    }
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
        OSSL_PARAM_construct_end(),
    };
    if (!EVP_MAC_CTX_set_params(c->derive, params)) {
        sigv4_key_cache_free(c);
        return NULL;
    }
    return c;
}

void sigv4_key_cache_free(struct sigv4_key_cache *c)
{
    if (c == NULL)
        return;
    for (size_t i = 0; i < CACHE_SLOTS; i++)
        slot_wipe(&c->slots[i]);
    EVP_MAC_CTX_free(c->derive);
    EVP_MD_CTX_free(c->md);
    EVP_MD_free(c->sha256);
    EVP_MAC_free(c->hmac);
    /* The string to sign and canonical request hold no secret, but the scratch buffers may
     * hold a session token (signed header): wipe them all before freeing. */
    struct lw_buf *bufs[] = {&c->canon, &c->sts, &c->signed_headers, &c->hblock, &c->scratch};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) {
        if (bufs[i]->data)
            OPENSSL_cleanse(bufs[i]->data, bufs[i]->cap);
        lw_buf_cleanup(bufs[i]);
    }
    OPENSSL_cleanse(c, sizeof *c);
    free(c);
}

void sigv4_key_cache_stats(const struct sigv4_key_cache *c, uint64_t *hits, uint64_t *misses)
{
    if (hits)
        *hits = c ? c->hits : 0;
    if (misses)
        *misses = c ? c->misses : 0;
}

static void to_hex(const unsigned char *in, size_t n, char *out)
{
    static const char hx[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hx[in[i] >> 4];
        out[2 * i + 1] = hx[in[i] & 15];
    }
    out[2 * n] = '\0';
}

static int sha256_hex(struct sigv4_key_cache *c, const void *data, size_t len,
                      char hex[SIGV4_HEX_LEN + 1])
{
    unsigned char md[KEY_LEN];
    unsigned int mdlen = 0;
    if (!EVP_DigestInit_ex(c->md, c->sha256, NULL) || !EVP_DigestUpdate(c->md, data, len) ||
        !EVP_DigestFinal_ex(c->md, md, &mdlen) || mdlen != KEY_LEN)
        return -1;
    to_hex(md, KEY_LEN, hex);
    return 0;
}

static int hmac_once(struct sigv4_key_cache *c, const void *key, size_t keylen, const void *data,
                     size_t len, unsigned char out[KEY_LEN])
{
    size_t outlen = 0;
    if (!EVP_MAC_init(c->derive, key, keylen, NULL) || !EVP_MAC_update(c->derive, data, len) ||
        !EVP_MAC_final(c->derive, out, &outlen, KEY_LEN) || outlen != KEY_LEN)
        return -1;
    return 0;
}

/* Derive kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" secret, date), region), service), "aws4_request")
 * into slot->key. */
static int derive_key(struct sigv4_key_cache *c, struct key_slot *s)
{
    size_t klen = 4 + s->secret_len;
    unsigned char *k0 = OPENSSL_malloc(klen);
    if (k0 == NULL)
        return -1;
    memcpy(k0, "AWS4", 4);
    memcpy(k0 + 4, s->secret, s->secret_len);
    unsigned char a[KEY_LEN], b[KEY_LEN];
    int rc = -1;
    if (hmac_once(c, k0, klen, s->date, 8, a) == 0 &&
        hmac_once(c, a, KEY_LEN, s->region, strlen(s->region), b) == 0 &&
        hmac_once(c, b, KEY_LEN, s->service, strlen(s->service), a) == 0 &&
        hmac_once(c, a, KEY_LEN, "aws4_request", 12, s->key) == 0)
        rc = 0;
    OPENSSL_clear_free(k0, klen);
    OPENSSL_cleanse(a, sizeof a);
    OPENSSL_cleanse(b, sizeof b);
    return rc;
}

/* The slot holding the key for (secret, date, region, service), derived on a miss into the
 * least recently used slot. NULL when out of memory or OpenSSL fails. */
static struct key_slot *key_lookup(struct sigv4_key_cache *c, const char *secret, const char *date8,
                                   const char *region, const char *service)
{
    size_t slen = strlen(secret);
    c->tick++;
    struct key_slot *victim = &c->slots[0];
    for (size_t i = 0; i < CACHE_SLOTS; i++) {
        struct key_slot *s = &c->slots[i];
        if (!s->used) {
            if (victim->used)
                victim = s;
            continue;
        }
        if (s->secret_len == slen && memcmp(s->date, date8, 8) == 0 &&
            strcmp(s->region, region) == 0 && strcmp(s->service, service) == 0 &&
            CRYPTO_memcmp(s->secret, secret, slen) == 0) {
            s->last_use = c->tick;
            c->hits++;
            return s;
        }
        if (victim->used && s->last_use < victim->last_use)
            victim = s;
    }
    c->misses++;
    struct key_slot *s = victim;
    slot_wipe(s);
    s->secret = OPENSSL_malloc(slen + 1);
    s->region = strdup(region);
    s->service = strdup(service);
    s->mac = EVP_MAC_CTX_new(c->hmac);
    if (s->secret == NULL || s->region == NULL || s->service == NULL || s->mac == NULL) {
        slot_wipe(s);
        return NULL;
    }
    memcpy(s->secret, secret, slen + 1);
    s->secret_len = slen;
    memcpy(s->date, date8, 8);
    s->date[8] = '\0';
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
        OSSL_PARAM_construct_end(),
    };
    if (derive_key(c, s) != 0 || !EVP_MAC_init(s->mac, s->key, KEY_LEN, params)) {
        slot_wipe(s);
        return NULL;
    }
    s->used = true;
    s->last_use = c->tick;
    return s;
}

int sigv4_format_amz_date(int64_t unix_time_s, char out[SIGV4_DATE_LEN + 1])
{
    if (unix_time_s < 0 || unix_time_s > INT64_C(253402300799))
        return -1;
    time_t t = (time_t)unix_time_s;
    struct tm tm;
    if (gmtime_r(&t, &tm) == NULL)
        return -1;
    if (strftime(out, SIGV4_DATE_LEN + 1, "%Y%m%dT%H%M%SZ", &tm) != SIGV4_DATE_LEN)
        return -1;
    return 0;
}

/* Scope parts go into the credential string and the key derivation: refuse what would make the
 * scope ambiguous ('/') or unprintable. */
static bool scope_part_ok(const char *s)
{
    if (s == NULL || s[0] == '\0')
        return false;
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch <= 0x20 || ch >= 0x7f || ch == '/')
            return false;
    }
    return true;
}

static bool method_ok(const char *m)
{
    if (m == NULL || m[0] == '\0')
        return false;
    for (; *m; m++) {
        unsigned char ch = (unsigned char)*m;
        if (ch <= 0x20 || ch >= 0x7f)
            return false;
    }
    return true;
}

static bool has_token(const struct sigv4_credentials *cr)
{
    return cr->session_token != NULL && cr->session_token[0] != '\0';
}

static int check_config(const struct sigv4_config *cfg, struct lw_err *err)
{
    const struct sigv4_credentials *cr = cfg->creds;
    if (cr == NULL || !scope_part_ok(cr->access_key_id))
        return lw_err_set(err, 0, 0, "access key id missing or not printable ASCII without '/'");
    if (cr->secret_access_key == NULL || cr->secret_access_key[0] == '\0')
        return lw_err_set(err, 0, 0, "secret access key missing");
    if (!scope_part_ok(cfg->region))
        return lw_err_set(err, 0, 0, "region missing or not printable ASCII without '/'");
    if (!scope_part_ok(cfg->service))
        return lw_err_set(err, 0, 0, "service missing or not printable ASCII without '/'");
    if (cfg->form == SIGV4_FORM_QUERY && (cfg->expires_s < 1 || cfg->expires_s > 604800))
        return lw_err_set(err, 0, 0, "presigned URL expiry must be 1..604800 seconds");
    return 0;
}

static bool name_is(const char *name, const char *lower)
{
    return strcasecmp(name, lower) == 0;
}

/* Everything stage 1 needs besides the request: built once per signature. */
struct stage1 {
    char amz_date[SIGV4_DATE_LEN + 1];
    char payload_hex[SIGV4_HEX_LEN + 1];
};

/* Stage 1 into c->canon and c->signed_headers (both reset first). */
static int build_canonical(struct sigv4_key_cache *c, const struct sigv4_request *req,
                           const struct sigv4_config *cfg, struct stage1 *st, struct lw_err *err)
{
    const struct sigv4_credentials *cr = cfg->creds;
    if (!method_ok(req->method))
        return lw_err_set(err, 0, 0, "request method missing or not printable ASCII");
    if (req->n_headers > LW_MAX_SIGV4_HEADERS)
        return lw_err_set(err, 0, 0, "more than %u headers", LW_MAX_SIGV4_HEADERS);
    if (req->body_len > 0 && req->body == NULL)
        return lw_err_set(err, 0, 0, "request body is NULL but body_len is not 0");
    bool header_form = cfg->form == SIGV4_FORM_HEADER;
    bool token = has_token(cr);

    const char *caller_payload = NULL;
    size_t n_host = 0;
    for (size_t i = 0; i < req->n_headers; i++) {
        const char *n = req->headers[i].name;
        if (n == NULL)
            return lw_err_set(err, 0, 0, "header %zu has no name", i + 1);
        if (name_is(n, "host")) {
            if (req->host != NULL)
                return lw_err_set(err, 0, 0, "Host given both as req->host and as a header");
            n_host++;
        } else if (name_is(n, "authorization") || name_is(n, "x-amz-date")) {
            return lw_err_set(err, 0, 0, "header %s is added by the signer", n);
        } else if (name_is(n, "x-amz-security-token") && token) {
            return lw_err_set(err, 0, 0, "header X-Amz-Security-Token is added by the signer");
        } else if (name_is(n, "x-amz-content-sha256")) {
            if (cfg->sign_content_sha256 && header_form)
                return lw_err_set(err, 0, 0, "header x-amz-content-sha256 is added by the signer");
            caller_payload = req->headers[i].value ? req->headers[i].value : "";
        }
    }
    if (req->host == NULL && n_host != 1)
        return lw_err_set(err, 0, 0, "request needs exactly one host (req->host or a Host header)");
    if (req->host != NULL && req->host[0] == '\0')
        return lw_err_set(err, 0, 0, "request host is empty");

    if (caller_payload != NULL) {
        /* As botocore: a caller-set x-amz-content-sha256 (S3's UNSIGNED-PAYLOAD, a precomputed
         * hash of a streamed body) is the payload hash. */
        lw_buf_reset(&c->scratch);
        if (canon_header_value(&c->scratch, caller_payload) != 0 || c->scratch.len > SIGV4_HEX_LEN)
            return lw_err_set(err, 0, 0, "x-amz-content-sha256 longer than %d bytes",
                              SIGV4_HEX_LEN);
        memcpy(st->payload_hex, c->scratch.data, c->scratch.len + 1);
    } else if (sha256_hex(c, req->body_len ? req->body : "", req->body_len, st->payload_hex) != 0) {
        return lw_err_set(err, 0, 0, "SHA-256 failed in OpenSSL");
    }

    /* The headers to sign: the caller's, plus those the signer adds. */
    struct sigv4_header small[32];
    struct sigv4_header *hs = small;
    size_t nh = req->n_headers + 4;
    if (nh > 32) {
        hs = malloc(nh * sizeof *hs);
        if (hs == NULL)
            return lw_err_set(err, 0, 0, "out of memory");
    }
    size_t k = 0;
    for (size_t i = 0; i < req->n_headers; i++)
        hs[k++] = req->headers[i];
    if (req->host)
        hs[k++] = (struct sigv4_header){"host", req->host};
    if (header_form) {
        hs[k++] = (struct sigv4_header){"x-amz-date", st->amz_date};
        if (token && !cfg->omit_session_token)
            hs[k++] = (struct sigv4_header){"x-amz-security-token", cr->session_token};
        if (cfg->sign_content_sha256)
            hs[k++] = (struct sigv4_header){"x-amz-content-sha256", st->payload_hex};
    }
    lw_buf_reset(&c->hblock);
    lw_buf_reset(&c->signed_headers);
    int rc = canon_headers(&c->hblock, &c->signed_headers, &c->scratch, hs, k, err);
    if (hs != small)
        free(hs);
    if (rc != 0)
        return -1;

    struct lw_buf *out = &c->canon;
    lw_buf_reset(out);
    lw_buf_adds(out, req->method);
    lw_buf_addc(out, '\n');
    if (canon_path(out, req->path ? req->path : "/", cfg->normalize_path, cfg->double_encode_path,
                   err) != 0)
        return -1;
    lw_buf_addc(out, '\n');
    if (header_form) {
        if (canon_query(out, &c->scratch, req->query, NULL, 0, err) != 0)
            return -1;
    } else {
        /* Presigned URL: the X-Amz-* parameters are part of the canonical query. */
        struct lw_buf cred, sh, tok;
        lw_buf_init(&cred, LW_MAX_SIGV4_CANONICAL_BYTES);
        lw_buf_init(&sh, LW_MAX_SIGV4_CANONICAL_BYTES);
        lw_buf_init(&tok, LW_MAX_SIGV4_CANONICAL_BYTES);
        char expires[24];
        snprintf(expires, sizeof expires, "%lld", (long long)cfg->expires_s);
        struct lw_buf scope;
        lw_buf_init(&scope, LW_MAX_SIGV4_CANONICAL_BYTES);
        lw_buf_addf(&scope, "%s/%.8s/%s/%s/aws4_request", cr->access_key_id, st->amz_date,
                    cfg->region, cfg->service);
        int erc = canon_uri_encode(&cred, lw_buf_str(&scope), scope.len, false);
        erc |= canon_uri_encode(&sh, lw_buf_str(&c->signed_headers), c->signed_headers.len, false);
        struct canon_param ps[6];
        size_t np = 0;
        ps[np++] = (struct canon_param){"X-Amz-Algorithm", 15, SIGV4_ALGORITHM, 16};
        ps[np++] = (struct canon_param){"X-Amz-Credential", 16, lw_buf_str(&cred), cred.len};
        ps[np++] = (struct canon_param){"X-Amz-Date", 10, st->amz_date, SIGV4_DATE_LEN};
        ps[np++] = (struct canon_param){"X-Amz-Expires", 13, expires, strlen(expires)};
        if (token && !cfg->omit_session_token) {
            erc |= canon_uri_encode(&tok, cr->session_token, strlen(cr->session_token), false);
            ps[np++] = (struct canon_param){"X-Amz-Security-Token", 20, lw_buf_str(&tok), tok.len};
        }
        ps[np++] = (struct canon_param){"X-Amz-SignedHeaders", 19, lw_buf_str(&sh), sh.len};
        if (erc == 0 && !lw_buf_failed(&scope))
            erc = canon_query(out, &c->scratch, req->query, ps, np, err);
        else
            erc = lw_err_set(err, 0, 0, "presigned parameters too long");
        lw_buf_cleanup(&scope);
        lw_buf_cleanup(&cred);
        lw_buf_cleanup(&sh);
        if (tok.data)
            OPENSSL_cleanse(tok.data, tok.cap);
        lw_buf_cleanup(&tok);
        if (erc != 0)
            return -1;
    }
    lw_buf_addc(out, '\n');
    lw_buf_add(out, c->hblock.data ? c->hblock.data : "", c->hblock.len);
    lw_buf_addc(out, '\n');
    lw_buf_add(out, lw_buf_str(&c->signed_headers), c->signed_headers.len);
    lw_buf_addc(out, '\n');
    lw_buf_adds(out, st->payload_hex); /* not always 64 bytes: "UNSIGNED-PAYLOAD" */
    if (lw_buf_failed(out))
        return lw_err_set(err, 0, 0, "canonical request longer than %u bytes",
                          LW_MAX_SIGV4_CANONICAL_BYTES);
    return 0;
}

/* Stage 2 into c->sts. */
static int build_sts(struct sigv4_key_cache *c, const struct sigv4_config *cfg,
                     const char *amz_date, const char *canonical, size_t len, struct lw_err *err)
{
    char hex[SIGV4_HEX_LEN + 1];
    if (sha256_hex(c, canonical, len, hex) != 0)
        return lw_err_set(err, 0, 0, "SHA-256 failed in OpenSSL");
    /* Appended piece by piece rather than with a format: this runs once per signature. */
    struct lw_buf *b = &c->sts;
    lw_buf_reset(b);
    lw_buf_adds(b, SIGV4_ALGORITHM "\n");
    lw_buf_add(b, amz_date, SIGV4_DATE_LEN);
    lw_buf_addc(b, '\n');
    lw_buf_add(b, amz_date, 8);
    lw_buf_addc(b, '/');
    lw_buf_adds(b, cfg->region);
    lw_buf_addc(b, '/');
    lw_buf_adds(b, cfg->service);
    lw_buf_adds(b, "/aws4_request\n");
    lw_buf_add(b, hex, SIGV4_HEX_LEN);
    if (lw_buf_failed(&c->sts))
        return lw_err_set(err, 0, 0, "string to sign too long");
    return 0;
}

/* Stage 3. */
static int build_signature(struct sigv4_key_cache *c, const struct sigv4_config *cfg,
                           const char *amz_date, const char *sts, size_t len,
                           char hex[SIGV4_HEX_LEN + 1], struct lw_err *err)
{
    char date8[9];
    memcpy(date8, amz_date, 8);
    date8[8] = '\0';
    struct key_slot *s =
        key_lookup(c, cfg->creds->secret_access_key, date8, cfg->region, cfg->service);
    if (s == NULL)
        return lw_err_set(err, 0, 0, "deriving the signing key failed (out of memory?)");
    unsigned char mac[KEY_LEN];
    size_t maclen = 0;
    /* A NULL key re-initialises the HMAC with the key it already has (OpenSSL 3 HMAC), which
     * skips re-hashing the padded key blocks. */
    if (!EVP_MAC_init(s->mac, NULL, 0, NULL) || !EVP_MAC_update(s->mac, (const void *)sts, len) ||
        !EVP_MAC_final(s->mac, mac, &maclen, sizeof mac) || maclen != KEY_LEN)
        return lw_err_set(err, 0, 0, "HMAC-SHA256 failed in OpenSSL");
    to_hex(mac, KEY_LEN, hex);
    return 0;
}

/* Stages 1 to 3 for cfg with the cache c (not NULL). */
static int sign_core(struct sigv4_key_cache *c, const struct sigv4_request *req,
                     const struct sigv4_config *cfg, struct stage1 *st, char sig[SIGV4_HEX_LEN + 1],
                     struct lw_err *err)
{
    if (check_config(cfg, err) != 0)
        return -1;
    if (sigv4_format_amz_date(cfg->unix_time_s, st->amz_date) != 0)
        return lw_err_set(err, 0, 0, "signing time outside years 1970..9999");
    if (build_canonical(c, req, cfg, st, err) != 0)
        return -1;
    if (build_sts(c, cfg, st->amz_date, c->canon.data, c->canon.len, err) != 0)
        return -1;
    return build_signature(c, cfg, st->amz_date, c->sts.data, c->sts.len, sig, err);
}

static char *authorization_value(const struct sigv4_config *cfg, const char *amz_date,
                                 const char *signed_headers, const char *sig)
{
    struct lw_buf b;
    lw_buf_init(&b, LW_MAX_SIGV4_CANONICAL_BYTES);
    lw_buf_adds(&b, SIGV4_ALGORITHM " Credential=");
    lw_buf_adds(&b, cfg->creds->access_key_id);
    lw_buf_addc(&b, '/');
    lw_buf_add(&b, amz_date, 8);
    lw_buf_addc(&b, '/');
    lw_buf_adds(&b, cfg->region);
    lw_buf_addc(&b, '/');
    lw_buf_adds(&b, cfg->service);
    lw_buf_adds(&b, "/aws4_request, SignedHeaders=");
    lw_buf_adds(&b, signed_headers);
    lw_buf_adds(&b, ", Signature=");
    lw_buf_adds(&b, sig);
    if (lw_buf_failed(&b)) {
        lw_buf_cleanup(&b);
        return NULL;
    }
    return lw_buf_take(&b);
}

int sigv4_sign_for_http(struct sigv4_key_cache *cache, const struct sigv4_request *req,
                        const char *region, const char *service, int64_t unix_time_s,
                        const struct sigv4_credentials *creds, bool sign_content_sha256,
                        struct sigv4_signed *out, struct lw_err *err)
{
    struct sigv4_config cfg = {
        .region = region,
        .service = service,
        .unix_time_s = unix_time_s,
        .creds = creds,
        .form = SIGV4_FORM_HEADER,
        .normalize_path = true,
        .double_encode_path = true,
        .sign_content_sha256 = sign_content_sha256,
    };
    struct sigv4_key_cache *c = cache ? cache : sigv4_key_cache_new();
    if (c == NULL)
        return lw_err_set(err, 0, 0, "out of memory or OpenSSL lacks SHA-256/HMAC");
    struct stage1 st;
    char sig[SIGV4_HEX_LEN + 1];
    int rc = -1;
    struct sigv4_signed res = {0};
    if (sign_core(c, req, &cfg, &st, sig, err) != 0)
        goto cleanup;
    res.authorization = authorization_value(&cfg, st.amz_date, lw_buf_str(&c->signed_headers), sig);
    res.amz_date = strdup(st.amz_date);
    if (has_token(creds))
        res.security_token = strdup(creds->session_token);
    if (sign_content_sha256)
        res.content_sha256 = strdup(st.payload_hex);
    if (res.authorization == NULL || res.amz_date == NULL ||
        (has_token(creds) && res.security_token == NULL) ||
        (sign_content_sha256 && res.content_sha256 == NULL)) {
        sigv4_signed_cleanup(&res);
        lw_err_set(err, 0, 0, "out of memory");
        goto cleanup;
    }
    *out = res;
    rc = 0;
cleanup:
    if (c != cache)
        sigv4_key_cache_free(c);
    return rc;
}

/* Wipe and free a heap string that may hold a secret (allocated with malloc/strdup). */
static void free_secret_str(char *s)
{
    if (s) {
        OPENSSL_cleanse(s, strlen(s));
        free(s);
    }
}

void sigv4_signed_cleanup(struct sigv4_signed *s)
{
    if (s == NULL)
        return;
    free(s->authorization);
    free(s->amz_date);
    free_secret_str(s->security_token);
    free(s->content_sha256);
    memset(s, 0, sizeof *s);
}

void sigv4_result_cleanup(struct sigv4_result *r)
{
    if (r == NULL)
        return;
    free(r->canonical_request);
    free(r->string_to_sign);
    free(r->signed_headers);
    for (size_t i = 0; i < r->n_add && i < SIGV4_MAX_ADDITIONS; i++) {
        free(r->add[i].name);
        /* Values may be a session token: wipe them all, they are short. */
        free_secret_str(r->add[i].value);
    }
    memset(r, 0, sizeof *r);
}

static int add_pair(struct sigv4_result *r, const char *name, const char *value, size_t vlen)
{
    if (r->n_add >= SIGV4_MAX_ADDITIONS)
        return -1;
    char *n = strdup(name);
    char *v = malloc(vlen + 1);
    if (n == NULL || v == NULL) {
        free(n);
        free(v);
        return -1;
    }
    memcpy(v, value, vlen);
    v[vlen] = '\0';
    r->add[r->n_add].name = n;
    r->add[r->n_add].value = v;
    r->n_add++;
    return 0;
}

static int add_encoded(struct sigv4_result *r, const char *name, const char *value)
{
    struct lw_buf b;
    lw_buf_init(&b, LW_MAX_SIGV4_CANONICAL_BYTES);
    int rc = canon_uri_encode(&b, value, strlen(value), false);
    if (rc == 0)
        rc = add_pair(r, name, lw_buf_str(&b), b.len);
    if (b.data)
        OPENSSL_cleanse(b.data, b.cap);
    lw_buf_cleanup(&b);
    return rc;
}

int sigv4_sign(struct sigv4_key_cache *cache, const struct sigv4_request *req,
               const struct sigv4_config *cfg, struct sigv4_result *out, struct lw_err *err)
{
    struct sigv4_key_cache *c = cache ? cache : sigv4_key_cache_new();
    if (c == NULL)
        return lw_err_set(err, 0, 0, "out of memory or OpenSSL lacks SHA-256/HMAC");
    struct stage1 st;
    struct sigv4_result r = {0};
    int rc = -1;
    if (sign_core(c, req, cfg, &st, r.signature, err) != 0)
        goto cleanup;
    memcpy(r.amz_date, st.amz_date, sizeof r.amz_date);
    r.canonical_request = strdup(lw_buf_str(&c->canon));
    r.string_to_sign = strdup(lw_buf_str(&c->sts));
    r.signed_headers = strdup(lw_buf_str(&c->signed_headers));
    int arc = (r.canonical_request && r.string_to_sign && r.signed_headers) ? 0 : -1;
    const struct sigv4_credentials *cr = cfg->creds;
    const char *tok = has_token(cr) ? cr->session_token : NULL;
    if (cfg->form == SIGV4_FORM_HEADER) {
        if (arc == 0 && tok)
            arc = add_pair(&r, "X-Amz-Security-Token", tok, strlen(tok));
        if (arc == 0)
            arc = add_pair(&r, "X-Amz-Date", st.amz_date, SIGV4_DATE_LEN);
        if (arc == 0 && cfg->sign_content_sha256)
            arc = add_pair(&r, "x-amz-content-sha256", st.payload_hex, strlen(st.payload_hex));
        char *auth =
            arc == 0 ? authorization_value(cfg, st.amz_date, r.signed_headers, r.signature) : NULL;
        if (auth == NULL)
            arc = -1;
        if (arc == 0)
            arc = add_pair(&r, "Authorization", auth, strlen(auth));
        free(auth);
    } else {
        char expires[24];
        struct lw_buf scope;
        lw_buf_init(&scope, LW_MAX_SIGV4_CANONICAL_BYTES);
        lw_buf_addf(&scope, "%s/%.8s/%s/%s/aws4_request", cr->access_key_id, st.amz_date,
                    cfg->region, cfg->service);
        snprintf(expires, sizeof expires, "%lld", (long long)cfg->expires_s);
        if (lw_buf_failed(&scope))
            arc = -1;
        if (arc == 0)
            arc = add_pair(&r, "X-Amz-Algorithm", SIGV4_ALGORITHM, strlen(SIGV4_ALGORITHM));
        if (arc == 0)
            arc = add_encoded(&r, "X-Amz-Credential", lw_buf_str(&scope));
        if (arc == 0)
            arc = add_pair(&r, "X-Amz-Date", st.amz_date, SIGV4_DATE_LEN);
        if (arc == 0)
            arc = add_encoded(&r, "X-Amz-SignedHeaders", r.signed_headers);
        if (arc == 0)
            arc = add_pair(&r, "X-Amz-Expires", expires, strlen(expires));
        if (arc == 0 && tok)
            arc = add_encoded(&r, "X-Amz-Security-Token", tok);
        if (arc == 0)
            arc = add_pair(&r, "X-Amz-Signature", r.signature, SIGV4_HEX_LEN);
        lw_buf_cleanup(&scope);
    }
    if (arc != 0) {
        sigv4_result_cleanup(&r);
        lw_err_set(err, 0, 0, "out of memory");
        goto cleanup;
    }
    *out = r;
    rc = 0;
cleanup:
    if (c != cache)
        sigv4_key_cache_free(c);
    return rc;
}

int sigv4_canonical_request(const struct sigv4_request *req, const struct sigv4_config *cfg,
                            struct lw_buf *out, struct lw_buf *signed_headers, struct lw_err *err)
{
    if (check_config(cfg, err) != 0)
        return -1;
    struct sigv4_key_cache *c = sigv4_key_cache_new();
    if (c == NULL)
        return lw_err_set(err, 0, 0, "out of memory or OpenSSL lacks SHA-256/HMAC");
    struct stage1 st;
    int rc = -1;
    if (sigv4_format_amz_date(cfg->unix_time_s, st.amz_date) != 0) {
        lw_err_set(err, 0, 0, "signing time outside years 1970..9999");
    } else if (build_canonical(c, req, cfg, &st, err) == 0) {
        lw_buf_add(out, c->canon.data, c->canon.len);
        if (signed_headers)
            lw_buf_add(signed_headers, lw_buf_str(&c->signed_headers), c->signed_headers.len);
        rc = (lw_buf_failed(out) || (signed_headers && lw_buf_failed(signed_headers)))
                 ? lw_err_set(err, 0, 0, "output buffer full")
                 : 0;
    }
    sigv4_key_cache_free(c);
    return rc;
}

int sigv4_string_to_sign(const struct sigv4_config *cfg, const char *canonical,
                         size_t canonical_len, struct lw_buf *out, struct lw_err *err)
{
    if (check_config(cfg, err) != 0)
        return -1;
    char amz_date[SIGV4_DATE_LEN + 1];
    if (sigv4_format_amz_date(cfg->unix_time_s, amz_date) != 0)
        return lw_err_set(err, 0, 0, "signing time outside years 1970..9999");
    struct sigv4_key_cache *c = sigv4_key_cache_new();
    if (c == NULL)
        return lw_err_set(err, 0, 0, "out of memory or OpenSSL lacks SHA-256/HMAC");
    int rc = build_sts(c, cfg, amz_date, canonical, canonical_len, err);
    if (rc == 0) {
        lw_buf_add(out, c->sts.data, c->sts.len);
        if (lw_buf_failed(out))
            rc = lw_err_set(err, 0, 0, "output buffer full");
    }
    sigv4_key_cache_free(c);
    return rc;
}

int sigv4_signature(struct sigv4_key_cache *cache, const struct sigv4_config *cfg,
                    const char *string_to_sign, size_t len, char hex[SIGV4_HEX_LEN + 1],
                    struct lw_err *err)
{
    if (check_config(cfg, err) != 0)
        return -1;
    char amz_date[SIGV4_DATE_LEN + 1];
    if (sigv4_format_amz_date(cfg->unix_time_s, amz_date) != 0)
        return lw_err_set(err, 0, 0, "signing time outside years 1970..9999");
    struct sigv4_key_cache *c = cache ? cache : sigv4_key_cache_new();
    if (c == NULL)
        return lw_err_set(err, 0, 0, "out of memory or OpenSSL lacks SHA-256/HMAC");
    char tmp[SIGV4_HEX_LEN + 1];
    int rc = build_signature(c, cfg, amz_date, string_to_sign, len, tmp, err);
    if (rc == 0)
        memcpy(hex, tmp, sizeof tmp);
    if (c != cache)
        sigv4_key_cache_free(c);
    return rc;
}
