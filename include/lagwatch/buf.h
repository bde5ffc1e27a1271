/*
 * buf.h — a bounded, growable byte buffer (the idea of curl's dynbuf): every buffer is given its
 * maximum size at init, so input from outside can never grow memory without limit. The content
 * is always NUL-terminated. Appending past the maximum fails with -1 and leaves the buffer as it
 * was, and sets a sticky `failed` flag, so a caller may append many pieces and check
 * lw_buf_failed() once at the end instead of after each append. Header-only so every library
 * (sigv4, rules, agent) can use it without a link dependency.
 */
#ifndef LAGWATCH_BUF_H
#define LAGWATCH_BUF_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lagwatch/error.h"

struct lw_buf {
    char *data; /* NULL until the first append; NUL-terminated after */
    size_t len; /* bytes in use, not counting the NUL */
    size_t cap; /* bytes allocated */
    size_t max; /* the most len may ever be */
    int failed; /* set by any append that did not fit; cleared by init and reset */
};

static inline void lw_buf_init(struct lw_buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
    b->failed = 0;
}

/* Free the memory; the buffer may be reused after lw_buf_init. Safe on a zeroed buffer. */
static inline void lw_buf_cleanup(struct lw_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

/* Empty the buffer, keeping its memory. */
static inline void lw_buf_reset(struct lw_buf *b)
{
    b->len = 0;
    b->failed = 0;
    if (b->data)
        b->data[0] = '\0';
}

static inline LW_MUST_CHECK int lw_buf_reserve(struct lw_buf *b, size_t extra)
{
    if (extra > b->max || b->len > b->max - extra) {
        b->failed = 1;
        return -1;
    }
    size_t need = b->len + extra + 1;
    if (need <= b->cap)
        return 0;
    size_t ncap = b->cap ? b->cap : 64;
    while (ncap < need)
        ncap = ncap > ((size_t)-1) / 2 ? need : ncap * 2;
    char *p = realloc(b->data, ncap);
    if (p == NULL) {
        b->failed = 1;
        return -1;
    }
    b->data = p;
    b->cap = ncap;
    return 0;
}

static inline int lw_buf_add(struct lw_buf *b, const void *mem, size_t len)
{
    if (lw_buf_reserve(b, len) != 0)
        return -1;
    if (len)
        memcpy(b->data + b->len, mem, len);
    b->len += len;
    b->data[b->len] = '\0';
    return 0;
}

static inline int lw_buf_adds(struct lw_buf *b, const char *s)
{
    return lw_buf_add(b, s, strlen(s));
}

static inline int lw_buf_addc(struct lw_buf *b, char c)
{
    return lw_buf_add(b, &c, 1);
}

static inline int lw_buf_vaddf(struct lw_buf *b, const char *fmt, va_list ap) LW_PRINTF(2, 0);
static inline int lw_buf_vaddf(struct lw_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0) {
        b->failed = 1;
        return -1;
    }
    if (lw_buf_reserve(b, (size_t)n) != 0)
        return -1;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return 0;
}

static inline int lw_buf_addf(struct lw_buf *b, const char *fmt, ...) LW_PRINTF(2, 3);
static inline int lw_buf_addf(struct lw_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = lw_buf_vaddf(b, fmt, ap);
    va_end(ap);
    return rc;
}

/* Whether any append since init/reset did not fit (or could not allocate). */
static inline int lw_buf_failed(const struct lw_buf *b)
{
    return b->failed;
}

/* The content as a C string ("" for a buffer never appended to). */
static inline const char *lw_buf_str(const struct lw_buf *b)
{
    return b->data ? b->data : "";
}

/* Hand the heap block to the caller (who frees it) and leave the buffer empty. */
static inline char *lw_buf_take(struct lw_buf *b)
{
    char *p = b->data;
    if (p == NULL)
        p = calloc(1, 1);
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}

#endif
