/*
 * rawsrv.h — a scripted HTTP/1.1 server for client tests: it answers the n-th connection with
 * the n-th canned response (the last one repeats), byte for byte as given, so tests control
 * every header (Date, Content-Encoding, x-amzn-RequestId), can delay or never answer, or cut a
 * body short. It records every request it received. One thread, one connection at a time,
 * loopback only, port 0. Test-only; never linked into lagwatch.
 */
#ifndef LAGWATCH_TESTS_RAWSRV_H
#define LAGWATCH_TESTS_RAWSRV_H

#include <stddef.h>

struct ts_canned {
    int status;          /* e.g. 200 */
    const char *headers; /* extra header lines, each ending "\r\n"; NULL for none */
    const void *body;    /* NULL: empty */
    size_t body_len;     /* when body != NULL and body_len == 0, strlen(body) */
    long content_length; /* -1: the real body length; else what the header claims (truncation) */
    int delay_ms;        /* wait before answering */
    int hang;            /* read the request, then never answer (until stop) */
};

struct ts_rawsrv;

/* Start on 127.0.0.1:0 with a copy of script[0..n). NULL on failure. */
struct ts_rawsrv *ts_rawsrv_start(const struct ts_canned *script, size_t n);
int ts_rawsrv_port(const struct ts_rawsrv *s);
/* "http://127.0.0.1:PORT" + path into out; returns out. */
char *ts_rawsrv_url(const struct ts_rawsrv *s, const char *path, char *out, size_t outlen);
/* Requests received so far, and the raw text (head and body) of request i (owned by s). */
size_t ts_rawsrv_nrequests(struct ts_rawsrv *s);
const char *ts_rawsrv_request(struct ts_rawsrv *s, size_t i);
/* Stop, close everything, free. Safe on NULL. */
void ts_rawsrv_stop(struct ts_rawsrv *s);

#endif
