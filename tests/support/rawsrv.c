/*
 * rawsrv.c — the scripted test server of rawsrv.h: a thread that accepts one connection at a
 * time, reads one request (head plus Content-Length body, bounded), and writes the next canned
 * response with "Connection: close". Bounded waits everywhere so a broken test cannot hang.
 */
#include "rawsrv.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define RAWSRV_MAX_REQUEST  (4u * 1024u * 1024u)
#define RAWSRV_MAX_RECORDED 4096

struct ts_rawsrv {
    int fd;
    int port;
    struct ts_canned *script;
    size_t n_script;
    size_t served;
    pthread_t thread;
    pthread_mutex_t mu;
    volatile sig_atomic_t stop;
    char *requests[RAWSRV_MAX_RECORDED];
    size_t n_requests;
};

static int wait_readable(struct ts_rawsrv *s, int fd)
{
    while (!s->stop) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int r = poll(&p, 1, 20);
        if (r > 0)
            return 0;
        if (r < 0)
            return -1;
    }
    return -1;
}

static char *read_request(struct ts_rawsrv *s, int fd)
{
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    size_t need = 0; /* total bytes once the head is known */
    while (buf) {
        if (need && len >= need)
            break;
        if (wait_readable(s, fd) != 0)
            break;
        if (len + 1 >= cap) {
            if (cap >= RAWSRV_MAX_REQUEST)
                break;
            char *nb = realloc(buf, cap * 2);
            if (nb == NULL)
                break;
            buf = nb;
            cap *= 2;
        }
        ssize_t r = recv(fd, buf + len, cap - len - 1, 0);
        if (r <= 0)
            break;
        len += (size_t)r;
        buf[len] = '\0';
        char *end = strstr(buf, "\r\n\r\n");
        if (end && need == 0) {
            size_t cl = 0;
            for (char *p = buf; p < end; p = strstr(p, "\r\n") + 2) {
                if (strncasecmp(p, "Content-Length:", 15) == 0)
                    cl = strtoul(p + 15, NULL, 10);
                if (strstr(p, "\r\n") == NULL)
                    break;
            }
            need = (size_t)(end - buf) + 4 + cl;
        }
    }
    if (buf)
        buf[len] = '\0';
    return buf;
}

static void send_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
        if (w <= 0)
            return;
        c += w;
        n -= (size_t)w;
    }
}

static void answer(struct ts_rawsrv *s, int fd, const struct ts_canned *r)
{
    if (r->hang) {
        while (!s->stop)
            wait_readable(s, -1);
        return;
    }
    if (r->delay_ms > 0) {
        struct timespec ts = {r->delay_ms / 1000, (long)(r->delay_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    size_t blen = r->body ? (r->body_len ? r->body_len : strlen(r->body)) : 0;
    long cl = r->content_length >= 0 ? r->content_length : (long)blen;
    char head[8192];
    int n = snprintf(head, sizeof head,
                     "HTTP/1.1 %d Canned\r\nContent-Length: %ld\r\nConnection: close\r\n%s\r\n",
                     r->status, cl, r->headers ? r->headers : "");
    if (n > 0 && (size_t)n < sizeof head)
        send_all(fd, head, (size_t)n);
    if (blen)
        send_all(fd, r->body, blen);
}

static void *serve(void *arg)
{
    struct ts_rawsrv *s = arg;
    while (!s->stop) {
        if (wait_readable(s, s->fd) != 0)
            break;
        int c = accept(s->fd, NULL, NULL);
        if (c < 0)
            continue;
        char *req = read_request(s, c);
        pthread_mutex_lock(&s->mu);
        if (req && s->n_requests < RAWSRV_MAX_RECORDED)
            s->requests[s->n_requests++] = req;
        else
            free(req);
        size_t i = s->served < s->n_script ? s->served : s->n_script - 1;
        s->served++;
        pthread_mutex_unlock(&s->mu);
        answer(s, c, &s->script[i]);
        shutdown(c, SHUT_WR);
        close(c);
    }
    return NULL;
}

struct ts_rawsrv *ts_rawsrv_start(const struct ts_canned *script, size_t n)
{
    if (n == 0)
        return NULL;
    struct ts_rawsrv *s = calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    s->script = calloc(n, sizeof *script);
    memcpy(s->script, script, n * sizeof *script);
    s->n_script = n;
    pthread_mutex_init(&s->mu, NULL);
    s->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    if (s->fd < 0 || bind(s->fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(s->fd, 64) ||
        getsockname(s->fd, (struct sockaddr *)&a, &al) != 0) {
        if (s->fd >= 0)
            close(s->fd);
        free(s->script);
        free(s);
        return NULL;
    }
    s->port = ntohs(a.sin_port);
    pthread_create(&s->thread, NULL, serve, s);
    return s;
}

int ts_rawsrv_port(const struct ts_rawsrv *s)
{
    return s->port;
}

char *ts_rawsrv_url(const struct ts_rawsrv *s, const char *path, char *out, size_t outlen)
{
    snprintf(out, outlen, "http://127.0.0.1:%d%s", s->port, path);
    return out;
}

size_t ts_rawsrv_nrequests(struct ts_rawsrv *s)
{
    pthread_mutex_lock(&s->mu);
    size_t n = s->n_requests;
    pthread_mutex_unlock(&s->mu);
    return n;
}

const char *ts_rawsrv_request(struct ts_rawsrv *s, size_t i)
{
    pthread_mutex_lock(&s->mu);
    const char *r = i < s->n_requests ? s->requests[i] : NULL;
    pthread_mutex_unlock(&s->mu);
    return r;
}

void ts_rawsrv_stop(struct ts_rawsrv *s)
{
    if (s == NULL)
        return;
    s->stop = 1;
    pthread_join(s->thread, NULL);
    close(s->fd);
    for (size_t i = 0; i < s->n_requests; i++)
        free(s->requests[i]);
    pthread_mutex_destroy(&s->mu);
    free(s->script);
    free(s);
}
