/*
 * cmd_scrape.c — `lagwatch scrape URL|FILE [--openmetrics]`: parse one exposition page the way
 * a source would and print what lagwatch understood, one sample per line in text format, sorted
 * by label set (then timestamp), so two pages can be compared with diff. A parse error is printed
 * as SOURCE:LINE:COL: message and exits 1; a URL that cannot be fetched (transport error,
 * non-2xx) exits 3. A URL is fetched through the agent's HTTP client with the Accept header and
 * gzip a scrape sends (OpenMetrics preferred with --openmetrics) and parsed in the format its
 * Content-Type names; a FILE is read in chunks into the streaming parser, in 0.0.4 unless
 * --openmetrics. `-` reads standard input.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "lagwatch/expfmt.h"
#include "lagwatch/http.h"
#include "lagwatch/labels.h"
#include "lagwatch/limits.h"

#define SCRAPE_EXIT_SOURCE_FAILED 3

struct scraped {
    struct lw_labels ls;
    double v;
    bool has_t;
    int64_t t_ms;
};

struct scrape_set {
    struct scraped *v;
    size_t n, cap;
};

static int keep_sample(void *ud, const struct expfmt_sample *s, struct lw_err *err)
{
    struct scrape_set *set = ud;
    if (set->n == set->cap) {
        size_t cap = set->cap ? set->cap * 2 : 256;
        struct scraped *nv = realloc(set->v, cap * sizeof *nv);
        if (!nv)
            return lw_err_set(err, 0, 0, "out of memory");
        set->v = nv;
        set->cap = cap;
    }
    struct scraped *d = &set->v[set->n];
    if (lw_labels_copy(&d->ls, s->labels) != 0)
        return lw_err_set(err, 0, 0, "out of memory");
    d->v = s->value;
    d->has_t = s->has_timestamp;
    d->t_ms = s->t_ms;
    set->n++;
    return 0;
}

static int cmp_scraped(const void *a, const void *b)
{
    const struct scraped *x = a, *y = b;
    int c = lw_labels_cmp(&x->ls, &y->ls);
    if (c != 0)
        return c;
    if (x->has_t != y->has_t)
        return x->has_t ? 1 : -1;
    return x->t_ms < y->t_ms ? -1 : x->t_ms > y->t_ms;
}

static void set_free(struct scrape_set *set)
{
    for (size_t i = 0; i < set->n; i++)
        lw_labels_cleanup(&set->v[i].ls);
    free(set->v);
}

/* Print the samples sorted; returns 0 or -1 on a write error. */
static int print_set(struct scrape_set *set, FILE *out)
{
    qsort(set->v, set->n, sizeof *set->v, cmp_scraped);
    struct lw_buf line;
    lw_buf_init(&line, 1u << 20);
    int rc = 0;
    for (size_t i = 0; i < set->n && rc == 0; i++) {
        char num[40];
        lw_buf_reset(&line);
        (void)lw_labels_format_metric(&set->v[i].ls, &line);
        (void)lw_buf_addc(&line, ' ');
        (void)lw_buf_adds(&line, expfmt_format_value(set->v[i].v, num, sizeof num));
        if (set->v[i].has_t)
            (void)lw_buf_addf(&line, " %lld", (long long)set->v[i].t_ms);
        (void)lw_buf_addc(&line, '\n');
        if (lw_buf_failed(&line) || fwrite(line.data, 1, line.len, out) != line.len)
            rc = -1;
    }
    lw_buf_cleanup(&line);
    return rc;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: lagwatch scrape URL|FILE [--openmetrics]\n\n"
                 "Fetch (http:// or https:// URL) or read (FILE, '-' = stdin) an exposition page\n"
                 "and print every sample, sorted, one per line in text format. A URL is asked\n"
                 "for 0.0.4 (OpenMetrics first with --openmetrics) and parsed as its\n"
                 "Content-Type says; a FILE is parsed as 0.0.4, or OpenMetrics 1.0 with\n"
                 "--openmetrics. Exit 1 on a parse error (SOURCE:LINE:COL: why), 3 when the\n"
                 "page cannot be fetched or read.\n");
}

static bool is_url(const char *s)
{
    return strncmp(s, "http://", 7) == 0 || strncmp(s, "https://", 8) == 0;
}

/* Fetch url into *resp (owned by the caller on 0). -1: cannot be fetched (message printed). */
static int fetch_url(const char *url, bool om, struct http_response *resp)
{
    struct lw_err err;
    memset(&err, 0, sizeof err);
    struct http_client *c = http_client_new(NULL, &err);
    if (c == NULL) {
        fprintf(stderr, "lagwatch: %s\n", err.msg);
        return -1;
    }
    struct http_header accept = {"Accept", expfmt_accept_header(om)};
    struct http_request req;
    memset(&req, 0, sizeof req);
    req.method = "GET";
    req.url = url;
    req.headers = &accept;
    req.n_headers = 1;
    req.max_body_bytes = LW_MAX_SCRAPE_BYTES;
    req.accept_gzip = true;
    req.follow_redirects = true;
    int rc = http_fetch_sync(c, &req, resp, &err);
    http_client_free(c);
    if (rc != 0) {
        fprintf(stderr, "lagwatch: %s: %s\n", url, err.msg);
        return -1;
    }
    if (resp->status == 0 || resp->status < 200 || resp->status > 299) {
        if (resp->status == 0)
            fprintf(stderr, "lagwatch: %s: %s\n", url,
                    resp->error ? resp->error : "transport error");
        else
            fprintf(stderr, "lagwatch: %s: HTTP status %d\n", url, resp->status);
        http_response_cleanup(resp);
        return -1;
    }
    return 0;
}

int cmd_scrape(int argc, char **argv)
{
    const char *target = NULL;
    bool om = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return CLI_EXIT_OK;
        } else if (strcmp(argv[i], "--openmetrics") == 0) {
            om = true;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            return cli_usage_error("scrape", "unknown option '%s'", argv[i]);
        } else if (target == NULL) {
            target = argv[i];
        } else {
            return cli_usage_error("scrape", "only one URL or FILE");
        }
    }
    if (target == NULL)
        return cli_usage_error("scrape", "no URL or FILE given");

    struct scrape_set set = {NULL, 0, 0};
    struct lw_err err;
    memset(&err, 0, sizeof err);
    if (is_url(target)) {
        struct http_response resp;
        if (fetch_url(target, om, &resp) != 0)
            return SCRAPE_EXIT_SOURCE_FAILED;
        enum expfmt_format fmt =
            expfmt_format_from_content_type(http_response_header(&resp, "Content-Type"));
        int rc = expfmt_parse_buf(fmt, resp.body, resp.body_len, NULL, keep_sample, &set, &err);
        http_response_cleanup(&resp);
        int exit_code = CLI_EXIT_OK;
        if (rc != 0) {
            char msg[LW_ERR_MSG_MAX + LW_ERR_FILE_MAX + 32];
            lw_err_set_file(&err, target);
            lw_err_format(&err, msg, sizeof msg);
            fprintf(stderr, "lagwatch: %s (%s)\n", msg,
                    fmt == EXPFMT_OPENMETRICS_1 ? "OpenMetrics" : "text format 0.0.4");
            exit_code = CLI_EXIT_FAIL;
        } else if (print_set(&set, stdout) != 0 || fflush(stdout) != 0) {
            fprintf(stderr, "lagwatch: writing the samples failed\n");
            exit_code = CLI_EXIT_FAIL;
        }
        set_free(&set);
        return exit_code;
    }

    FILE *in = strcmp(target, "-") == 0 ? stdin : fopen(target, "rb");
    if (in == NULL) {
        fprintf(stderr, "lagwatch: %s: %s\n", target, strerror(errno));
        return SCRAPE_EXIT_SOURCE_FAILED;
    }
    struct expfmt_parser *p =
        expfmt_parser_new(om ? EXPFMT_OPENMETRICS_1 : EXPFMT_TEXT_004, NULL, keep_sample, &set);
    if (p == NULL) {
        if (in != stdin)
            fclose(in);
        fprintf(stderr, "lagwatch: out of memory\n");
        return CLI_EXIT_FAIL;
    }
    int rc = 0;
    char chunk[64 * 1024];
    size_t got;
    while (rc == 0 && (got = fread(chunk, 1, sizeof chunk, in)) > 0)
        rc = expfmt_parser_feed(p, chunk, got, &err);
    bool read_error = ferror(in) != 0;
    if (in != stdin)
        fclose(in);
    int exit_code = CLI_EXIT_OK;
    if (read_error) {
        fprintf(stderr, "lagwatch: %s: read error\n", target);
        exit_code = SCRAPE_EXIT_SOURCE_FAILED;
    } else if (rc != 0 || expfmt_parser_finish(p, &err) != 0) {
        char msg[LW_ERR_MSG_MAX + LW_ERR_FILE_MAX + 32];
        lw_err_set_file(&err, target);
        lw_err_format(&err, msg, sizeof msg);
        fprintf(stderr, "lagwatch: %s\n", msg);
        exit_code = CLI_EXIT_FAIL;
    } else if (print_set(&set, stdout) != 0 || fflush(stdout) != 0) {
        fprintf(stderr, "lagwatch: writing the samples failed\n");
        exit_code = CLI_EXIT_FAIL;
    }
    expfmt_parser_free(p);
    set_free(&set);
    return exit_code;
}
