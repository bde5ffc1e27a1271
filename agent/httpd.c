/*
 * httpd.c — the agent's HTTP endpoint on libmicrohttpd in "external epoll" mode: no threads of
 * its own; the event loop polls httpd_fd() and calls httpd_run(). It routes exact paths (and
 * prefixes ending in '/') to handlers, collects bounded request bodies, and sends what the
 * handler wrote. It knows nothing about what the pages say.
 */
#include "lagwatch/httpd.h"

#include <microhttpd.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct route {
    char *path;
    size_t len;
    int prefix;
    httpd_handler_fn fn;
    void *ud;
};

struct httpd {
    struct MHD_Daemon *daemon;
    struct route routes[HTTPD_MAX_ROUTES];
    size_t n_routes;
    int port;
};

/* Per-connection upload state. */
struct upload {
    struct lw_buf body;
    int too_large;
};

static const struct route *find_route(const struct httpd *h, const char *path)
{
    for (size_t i = 0; i < h->n_routes; i++) {
        const struct route *r = &h->routes[i];
        if (r->prefix ? strncmp(path, r->path, r->len) == 0 : strcmp(path, r->path) == 0)
            return r;
    }
    return NULL;
}

static enum MHD_Result send_reply(struct MHD_Connection *conn, int status, const char *ctype,
                                  const char *body, size_t len)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (resp == NULL)
        return MHD_NO;
    MHD_add_response_header(resp, "Content-Type", ctype);
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    enum MHD_Result rc = MHD_queue_response(conn, (unsigned)status, resp);
    MHD_destroy_response(resp);
    return rc;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    struct httpd *h = cls;
    struct upload *up = *con_cls;
    if (up == NULL) {
        up = calloc(1, sizeof *up);
        if (up == NULL)
            return MHD_NO;
        lw_buf_init(&up->body, HTTPD_MAX_REQUEST_BODY_BYTES);
        *con_cls = up;
        return MHD_YES;
    }
    if (*upload_data_size != 0) {
        if (!up->too_large && lw_buf_add(&up->body, upload_data, *upload_data_size) != 0)
            up->too_large = 1;
        *upload_data_size = 0;
        return MHD_YES;
    }
    static const char text[] = "text/plain; charset=utf-8";
    if (up->too_large) {
        static const char msg[] = "request body too large\n";
        return send_reply(conn, MHD_HTTP_CONTENT_TOO_LARGE, text, msg, sizeof msg - 1);
    }
    const struct route *r = find_route(h, url);
    if (r == NULL) {
        static const char msg[] = "not found\n";
        return send_reply(conn, MHD_HTTP_NOT_FOUND, text, msg, sizeof msg - 1);
    }
    struct httpd_request req = {
        .method = method,
        .path = url,
        .body = lw_buf_str(&up->body),
        .body_len = up->body.len,
        .conn = conn,
    };
    struct httpd_reply reply = {.status = 200, .content_type = text};
    lw_buf_init(&reply.body, HTTPD_MAX_REPLY_BYTES);
    enum MHD_Result rc;
    if (r->fn(r->ud, &req, &reply) != 0 || lw_buf_failed(&reply.body)) {
        static const char msg[] = "internal error (see the agent's log)\n";
        rc = send_reply(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, text, msg, sizeof msg - 1);
    } else {
        rc = send_reply(conn, reply.status, reply.content_type, lw_buf_str(&reply.body),
                        reply.body.len);
    }
    lw_buf_cleanup(&reply.body);
    return rc;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct upload *up = *con_cls;
    if (up) {
        lw_buf_cleanup(&up->body);
        free(up);
        *con_cls = NULL;
    }
}

/* Split "host:port" / "[v6]:port" into host and port strings. */
static int split_addr(const char *addr, char *host, size_t hostlen, char *port, size_t portlen)
{
    const char *colon;
    const char *hs = addr;
    size_t hl;
    if (addr[0] == '[') {
        const char *close = strchr(addr, ']');
        if (close == NULL || close[1] != ':')
            return -1;
        hs = addr + 1;
        hl = (size_t)(close - hs);
        colon = close + 1;
    } else {
        colon = strrchr(addr, ':');
        if (colon == NULL)
            return -1;
        hl = (size_t)(colon - addr);
    }
    if (hl == 0 || hl >= hostlen || strlen(colon + 1) == 0 || strlen(colon + 1) >= portlen)
        return -1;
    memcpy(host, hs, hl);
    host[hl] = '\0';
    for (const char *p = colon + 1; *p; p++)
        if (*p < '0' || *p > '9')
            return -1;
    memcpy(port, colon + 1, strlen(colon + 1) + 1);
    return 0;
}

int httpd_start(const char *addr, struct httpd **out, struct lw_err *err)
{
    char host[256], port[16];
    if (split_addr(addr, host, sizeof host, port, sizeof port) != 0)
        return lw_err_set(err, 0, 0, "listen address '%s': expected HOST:PORT or [IPV6]:PORT",
                          addr);
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV};
    struct addrinfo *ai = NULL;
    int gai = getaddrinfo(host, port, &hints, &ai);
    if (gai != 0)
        return lw_err_set(err, 0, 0, "listen address '%s': %s", addr, gai_strerror(gai));
    struct httpd *h = calloc(1, sizeof *h);
    if (h == NULL) {
        freeaddrinfo(ai);
        return lw_err_set(err, 0, 0, "out of memory");
    }
    unsigned flags = MHD_USE_EPOLL;
    if (ai->ai_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    h->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h, MHD_OPTION_SOCK_ADDR,
                                 ai->ai_addr, MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
                                 MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
                                 MHD_OPTION_CONNECTION_LIMIT, (unsigned)64, MHD_OPTION_END);
    freeaddrinfo(ai);
    if (h->daemon == NULL) {
        free(h);
        return lw_err_set(err, 0, 0,
                          "cannot listen on %s (address in use, or not an address of this host)",
                          addr);
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT);
    h->port = info ? info->port : 0;
    *out = h;
    return 0;
}

int httpd_route(struct httpd *h, const char *path, httpd_handler_fn fn, void *ud)
{
    if (h->n_routes >= HTTPD_MAX_ROUTES)
        return -1;
    char *copy = strdup(path);
    if (copy == NULL)
        return -1;
    struct route *r = &h->routes[h->n_routes++];
    r->path = copy;
    r->len = strlen(copy);
    r->prefix = r->len > 1 && copy[r->len - 1] == '/';
    r->fn = fn;
    r->ud = ud;
    return 0;
}

int httpd_port(const struct httpd *h)
{
    return h->port;
}

int httpd_fd(const struct httpd *h)
{
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_EPOLL_FD);
    return info ? info->epoll_fd : -1;
}

void httpd_run(struct httpd *h)
{
    MHD_run(h->daemon);
}

long httpd_timeout_ms(const struct httpd *h)
{
    MHD_UNSIGNED_LONG_LONG t;
    if (MHD_get_timeout(h->daemon, &t) != MHD_YES)
        return -1;
    return t > 60000 ? 60000 : (long)t;
}

const char *httpd_query_arg(const struct httpd_request *req, const char *name)
{
    if (!req->conn)
        return NULL;
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

void httpd_stop(struct httpd *h)
{
    if (h == NULL)
        return;
    if (h->daemon)
        MHD_stop_daemon(h->daemon);
    for (size_t i = 0; i < h->n_routes; i++)
        free(h->routes[i].path);
    free(h);
}
