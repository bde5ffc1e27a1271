/*
 * error.h — the one error report every lagwatch parser and loader fills in: where (file, line,
 * column, 1-based; 0 when not applicable) and what was expected. Functions return 0 / -1 (or an
 * enum) and write the details here; the caller decides how to print them.
 */
#ifndef LAGWATCH_ERROR_H
#define LAGWATCH_ERROR_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define LW_ERR_MSG_MAX  512
#define LW_ERR_FILE_MAX 256

struct lw_err {
    char file[LW_ERR_FILE_MAX]; /* "" when the input had no file name */
    int line;                   /* 1-based, 0 = unknown */
    int col;                    /* 1-based, 0 = unknown */
    char msg[LW_ERR_MSG_MAX];
};

#if defined(__GNUC__)
#define LW_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define LW_MUST_CHECK   __attribute__((warn_unused_result))
#else
#define LW_PRINTF(a, b)
#define LW_MUST_CHECK
#endif

/* Set the position and message of err (NULL err is allowed and ignored). Returns -1 so that
 * `return lw_err_set(err, ...)` reads naturally in a parser. */
static inline int lw_err_set(struct lw_err *err, int line, int col, const char *fmt, ...)
    LW_PRINTF(4, 5);
static inline int lw_err_set(struct lw_err *err, int line, int col, const char *fmt, ...)
{
    if (err == NULL)
        return -1;
    err->line = line;
    err->col = col;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return -1;
}

/* Name the file an error belongs to (loaders call this after a buffer parser failed). */
static inline void lw_err_set_file(struct lw_err *err, const char *file)
{
    if (err == NULL || file == NULL)
        return;
    snprintf(err->file, sizeof err->file, "%s", file);
}

/* Format "file:line:col: msg" (parts that are unknown are left out) into out. */
static inline void lw_err_format(const struct lw_err *err, char *out, size_t outlen)
{
    if (err->file[0] && err->line > 0 && err->col > 0)
        snprintf(out, outlen, "%s:%d:%d: %s", err->file, err->line, err->col, err->msg);
    else if (err->file[0] && err->line > 0)
        snprintf(out, outlen, "%s:%d: %s", err->file, err->line, err->msg);
    else if (err->line > 0 && err->col > 0)
        snprintf(out, outlen, "%d:%d: %s", err->line, err->col, err->msg);
    else if (err->file[0])
        snprintf(out, outlen, "%s: %s", err->file, err->msg);
    else
        snprintf(out, outlen, "%s", err->msg);
}

#endif
