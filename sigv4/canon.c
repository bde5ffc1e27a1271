/*
 * canon.c — SigV4 canonicalisation: URI encoding, path normalisation, the canonical query string
 * and the canonical header block. Pure functions over bounded buffers; the signer (sigv4.c)
 * strings their output together. The rules are those of the AWS SigV4 documentation as the AWS
 * test suite and botocore apply them; where the two could differ (an unfinished %-escape, '+'),
 * the choice is commented.
 */
#include "canon.h"

#include <stdlib.h>
#include <string.h>

#include "lagwatch/limits.h"

static const char hexdigits_upper[] = "0123456789ABCDEF";

static bool is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Append one byte encoded. The caller has reserved room (3 bytes per input byte). */
static void put_encoded(struct lw_buf *out, unsigned char c, bool keep_slash)
{
    if (is_unreserved(c) || (keep_slash && c == '/')) {
        out->data[out->len++] = (char)c;
    } else {
        out->data[out->len++] = '%';
        out->data[out->len++] = hexdigits_upper[c >> 4];
        out->data[out->len++] = hexdigits_upper[c & 15];
    }
}

int canon_uri_encode(struct lw_buf *out, const char *s, size_t len, bool keep_slash)
{
    if (len > (size_t)-1 / 3 || lw_buf_reserve(out, len * 3) != 0)
        return -1;
    for (size_t i = 0; i < len; i++)
        put_encoded(out, (unsigned char)s[i], keep_slash);
    out->data[out->len] = '\0';
    return 0;
}

/* Percent-decode s[0..len) and append it encoded. An unfinished escape ("%", "%4", "%zz") is a
 * literal '%' (as aws-c-auth decodes), which then encodes as %25. '+' is a literal plus: SigV4
 * query strings are RFC 3986, not HTML forms, so "a+b" signs as a%2Bb (as botocore does when it
 * is handed the decoded parameters). */
static void put_reencoded(struct lw_buf *out, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%' && i + 2 < len && hexval((unsigned char)s[i + 1]) >= 0 &&
            hexval((unsigned char)s[i + 2]) >= 0) {
            c = (unsigned char)(hexval((unsigned char)s[i + 1]) * 16 +
                                hexval((unsigned char)s[i + 2]));
            i += 2;
        }
        put_encoded(out, c, false);
    }
}

int canon_path(struct lw_buf *out, const char *path, bool normalize, bool double_encode,
               struct lw_err *err)
{
    size_t len = strlen(path);
    if (len == 0) {
        path = "/";
        len = 1;
    }
    if (path[0] != '/')
        return lw_err_set(err, 0, 0, "request path must start with '/'");
    if (!normalize) {
        int rc =
            double_encode ? canon_uri_encode(out, path, len, true) : lw_buf_add(out, path, len);
        if (rc != 0)
            return lw_err_set(err, 0, 0, "canonical path longer than %u bytes",
                              LW_MAX_SIGV4_CANONICAL_BYTES);
        return 0;
    }

    /* Remove dot segments (RFC 3986 5.2.4) and empty segments, as botocore's remove_dot_segments:
     * segments are kept on a stack of (offset, length) pairs; ".." pops, "." and "" vanish. The
     * result keeps the leading '/', and a trailing '/' when the input had one and something is
     * left ("/a/b/" -> "/a/b/", "/a/.." -> "/"). */
    size_t nseg_max = 1;
    for (size_t i = 0; i < len; i++)
        nseg_max += path[i] == '/';
    size_t stack_small[2 * 32];
    size_t *seg = stack_small;
    if (nseg_max > 32) {
        seg = malloc(2 * nseg_max * sizeof *seg);
        if (seg == NULL)
            return lw_err_set(err, 0, 0, "out of memory");
    }
    size_t nseg = 0;
    for (size_t i = 0; i <= len;) {
        size_t j = i;
        while (j < len && path[j] != '/')
            j++;
        size_t sl = j - i;
        if (sl == 2 && path[i] == '.' && path[i + 1] == '.') {
            if (nseg > 0)
                nseg--;
        } else if (sl > 0 && !(sl == 1 && path[i] == '.')) {
            seg[2 * nseg] = i;
            seg[2 * nseg + 1] = sl;
            nseg++;
        }
        i = j + 1;
    }
    int rc = 0;
    if (lw_buf_reserve(out, len * 3 + 2) != 0) {
        rc = -1;
        goto cleanup;
    }
    out->data[out->len++] = '/';
    for (size_t k = 0; k < nseg; k++) {
        if (k > 0)
            out->data[out->len++] = '/';
        const char *s = path + seg[2 * k];
        for (size_t m = 0; m < seg[2 * k + 1]; m++) {
            if (double_encode)
                put_encoded(out, (unsigned char)s[m], true);
            else
                out->data[out->len++] = s[m];
        }
    }
    if (nseg > 0 && path[len - 1] == '/')
        out->data[out->len++] = '/';
    out->data[out->len] = '\0';
cleanup:
    if (seg != stack_small)
        free(seg);
    if (rc != 0)
        return lw_err_set(err, 0, 0, "canonical path longer than %u bytes",
                          LW_MAX_SIGV4_CANONICAL_BYTES);
    return 0;
}

static int param_cmp(const void *pa, const void *pb)
{
    const struct canon_param *a = pa, *b = pb;
    size_t n = a->key_len < b->key_len ? a->key_len : b->key_len;
    int c = memcmp(a->key, b->key, n);
    if (c != 0)
        return c;
    if (a->key_len != b->key_len)
        return a->key_len < b->key_len ? -1 : 1;
    n = a->value_len < b->value_len ? a->value_len : b->value_len;
    c = memcmp(a->value, b->value, n);
    if (c != 0)
        return c;
    if (a->value_len != b->value_len)
        return a->value_len < b->value_len ? -1 : 1;
    return 0;
}

int canon_query(struct lw_buf *out, struct lw_buf *scratch, const char *query,
                const struct canon_param *extra, size_t n_extra, struct lw_err *err)
{
    size_t qlen = query ? strlen(query) : 0;
    size_t n_max = n_extra + 1;
    for (size_t i = 0; i < qlen; i++)
        n_max += query[i] == '&';
    if (n_max > LW_MAX_SIGV4_QUERY_PARAMS)
        return lw_err_set(err, 0, 0, "more than %u query parameters", LW_MAX_SIGV4_QUERY_PARAMS);
    /* Reserve the worst case up front so that pointers into scratch stay valid. */
    lw_buf_reset(scratch);
    if (qlen > LW_MAX_SIGV4_CANONICAL_BYTES / 3 || lw_buf_reserve(scratch, qlen * 3) != 0)
        return lw_err_set(err, 0, 0, "query string longer than %u bytes",
                          LW_MAX_SIGV4_CANONICAL_BYTES / 3);
    struct canon_param small[32];
    struct canon_param *ps = small;
    if (n_max > 32) {
        ps = malloc(n_max * sizeof *ps);
        if (ps == NULL)
            return lw_err_set(err, 0, 0, "out of memory");
    }
    size_t n = 0;
    for (size_t i = 0; i < qlen;) {
        size_t j = i;
        while (j < qlen && query[j] != '&')
            j++;
        if (j > i) { /* "a=1&&b=2": the empty piece is no parameter */
            size_t eq = i;
            while (eq < j && query[eq] != '=')
                eq++;
            struct canon_param *p = &ps[n++];
            size_t koff = scratch->len;
            put_reencoded(scratch, query + i, eq - i);
            p->key_len = scratch->len - koff;
            p->key = scratch->data + koff;
            size_t voff = scratch->len;
            if (eq < j)
                put_reencoded(scratch, query + eq + 1, j - eq - 1);
            p->value_len = scratch->len - voff;
            p->value = scratch->data + voff;
        }
        i = j + 1;
    }
    for (size_t k = 0; k < n_extra; k++)
        ps[n++] = extra[k];
    qsort(ps, n, sizeof *ps, param_cmp);
    for (size_t k = 0; k < n; k++) {
        if (k > 0)
            lw_buf_addc(out, '&');
        lw_buf_add(out, ps[k].key, ps[k].key_len);
        lw_buf_addc(out, '=');
        lw_buf_add(out, ps[k].value, ps[k].value_len);
    }
    if (ps != small)
        free(ps);
    if (lw_buf_failed(out))
        return lw_err_set(err, 0, 0, "canonical request longer than %u bytes",
                          LW_MAX_SIGV4_CANONICAL_BYTES);
    return 0;
}

static bool is_fold_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

int canon_header_value(struct lw_buf *out, const char *value)
{
    size_t len = strlen(value);
    if (lw_buf_reserve(out, len) != 0)
        return -1;
    /* Copy each run of non-space bytes whole (values are mostly one or two runs; a session
     * token is one run of several hundred bytes), with one space between runs. */
    size_t i = 0;
    bool first = true;
    for (;;) {
        while (i < len && is_fold_space(value[i]))
            i++;
        if (i == len)
            break;
        size_t j = i;
        while (j < len && !is_fold_space(value[j]))
            j++;
        if (!first)
            out->data[out->len++] = ' ';
        memcpy(out->data + out->len, value + i, j - i);
        out->len += j - i;
        first = false;
        i = j;
    }
    out->data[out->len] = '\0';
    return 0;
}

bool canon_header_unsigned(const char *lname, size_t len)
{
    /* botocore's SIGNED_HEADERS_BLACKLIST: hop-by-hop headers a proxy may change, and headers
     * HTTP stacks add or rewrite on their own. Signing them breaks signatures in transit. */
    static const char *const never[] = {
        "connection",
        "expect",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "user-agent",
        "x-amzn-trace-id",
    };
    for (size_t i = 0; i < sizeof never / sizeof never[0]; i++)
        if (strlen(never[i]) == len && memcmp(never[i], lname, len) == 0)
            return true;
    return false;
}

struct hdr_entry {
    const char *lname;
    size_t nlen;
    const char *value;
    size_t idx; /* input position: equal names keep their order (values join in send order) */
};

static int hdr_cmp(const void *pa, const void *pb)
{
    const struct hdr_entry *a = pa, *b = pb;
    size_t n = a->nlen < b->nlen ? a->nlen : b->nlen;
    int c = memcmp(a->lname, b->lname, n);
    if (c != 0)
        return c;
    if (a->nlen != b->nlen)
        return a->nlen < b->nlen ? -1 : 1;
    return a->idx < b->idx ? -1 : a->idx > b->idx;
}

static bool header_name_ok(const char *name, size_t len)
{
    if (len == 0)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c <= 0x20 || c >= 0x7f || c == ':')
            return false;
    }
    return true;
}

int canon_headers(struct lw_buf *out, struct lw_buf *signed_headers, struct lw_buf *scratch,
                  const struct sigv4_header *headers, size_t n, struct lw_err *err)
{
    if (n > LW_MAX_SIGV4_HEADERS)
        return lw_err_set(err, 0, 0, "more than %u headers", LW_MAX_SIGV4_HEADERS);
    size_t names_len = 0;
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(headers[i].name);
        if (!header_name_ok(headers[i].name, l))
            return lw_err_set(err, 0, 0, "header %zu: bad header name", i + 1);
        names_len += l;
    }
    lw_buf_reset(scratch);
    if (names_len > LW_MAX_SIGV4_CANONICAL_BYTES || lw_buf_reserve(scratch, names_len) != 0)
        return lw_err_set(err, 0, 0, "header names longer than %u bytes",
                          LW_MAX_SIGV4_CANONICAL_BYTES);
    struct hdr_entry small[32];
    struct hdr_entry *es = small;
    if (n > 32) {
        es = malloc(n * sizeof *es);
        if (es == NULL)
            return lw_err_set(err, 0, 0, "out of memory");
    }
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        const char *name = headers[i].name;
        size_t l = strlen(name);
        char *lname = scratch->data + scratch->len;
        for (size_t k = 0; k < l; k++) {
            char c = name[k];
            lname[k] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
        }
        scratch->len += l;
        if (canon_header_unsigned(lname, l))
            continue;
        es[m].lname = lname;
        es[m].nlen = l;
        es[m].value = headers[i].value ? headers[i].value : "";
        es[m].idx = i;
        m++;
    }
    qsort(es, m, sizeof *es, hdr_cmp);
    for (size_t k = 0; k < m;) {
        size_t g = k;
        if (k > 0)
            lw_buf_addc(signed_headers, ';');
        lw_buf_add(signed_headers, es[k].lname, es[k].nlen);
        lw_buf_add(out, es[k].lname, es[k].nlen);
        lw_buf_addc(out, ':');
        for (;
             g < m && es[g].nlen == es[k].nlen && memcmp(es[g].lname, es[k].lname, es[k].nlen) == 0;
             g++) {
            if (g > k)
                lw_buf_addc(out, ',');
            canon_header_value(out, es[g].value);
        }
        lw_buf_addc(out, '\n');
        k = g;
    }
    if (es != small)
        free(es);
    if (lw_buf_failed(out) || lw_buf_failed(signed_headers))
        return lw_err_set(err, 0, 0, "canonical headers longer than %u bytes",
                          LW_MAX_SIGV4_CANONICAL_BYTES);
    return 0;
}
