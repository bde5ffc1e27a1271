/*
 * config.c — decode lagwatch's config file from a yamldoc tree into struct config: every section
 * of DESIGN.md's "Config file", defaults filled in, values checked (durations, URLs, label names,
 * host:port), cross-references checked (prometheus_sources' pipeline, route receivers), secrets
 * read from `*_file` keys. Rendering (--print) is in config_print.c.
 *
 * The Alertmanager-format sections stay yamldoc subtrees in cfg->doc; this file checks only their
 * outer shape and that every receiver a route names exists, and leaves the rest to the notify
 * module's decoder (notify_config_decode), called at the end of config_parse_buf.
 */
#include "lagwatch/config.h"

#include <errno.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/crypto.h>

#include "lagwatch/creds.h"
#include "lagwatch/limits.h"
#include "lagwatch/matcher.h"

/* Decoding context: the document (for positions) and where relative paths resolve. */
struct dec {
    const struct yamldoc *d;
    const char *dir;
    struct lw_err *err;
};

/* ---- small readers -------------------------------------------------------------------------- */

static int dup_string(struct dec *c, const struct yamldoc_node *n, char **out)
{
    const char *s;
    if (yamldoc_get_string(n, &s, c->d, c->err) != 0)
        return -1;
    char *copy = strdup(s);
    if (copy == NULL)
        return yamldoc_error(c->err, c->d, n, "out of memory");
    free(*out);
    *out = copy;
    return 0;
}

/* Optional string under key: left alone when absent or null. */
static int opt_string(struct dec *c, const struct yamldoc_node *map, const char *key, char **out)
{
    const struct yamldoc_node *n = yamldoc_map_get(map, key);
    if (yamldoc_is_null(n))
        return 0;
    return dup_string(c, n, out);
}

static int req_string(struct dec *c, const struct yamldoc_node *map, const char *key, char **out,
                      const char *what)
{
    const struct yamldoc_node *n = yamldoc_map_get(map, key);
    if (yamldoc_is_null(n))
        return yamldoc_error(c->err, c->d, map, "%s needs '%s'", what, key);
    if (dup_string(c, n, out) != 0)
        return -1;
    if ((*out)[0] == '\0')
        return yamldoc_error(c->err, c->d, n, "'%s' must not be empty", key);
    return 0;
}

/* Optional positive duration under key. */
static int opt_duration(struct dec *c, const struct yamldoc_node *map, const char *key,
                        int64_t *out)
{
    const struct yamldoc_node *n = yamldoc_map_get(map, key);
    if (yamldoc_is_null(n))
        return 0;
    int64_t ms;
    if (yamldoc_get_duration_ms(n, &ms, c->d, c->err) != 0)
        return -1;
    if (ms <= 0)
        return yamldoc_error(c->err, c->d, n, "'%s' must be greater than zero", key);
    *out = ms;
    return 0;
}

static int opt_bool(struct dec *c, const struct yamldoc_node *map, const char *key, bool *out)
{
    const struct yamldoc_node *n = yamldoc_map_get(map, key);
    if (yamldoc_is_null(n))
        return 0;
    return yamldoc_get_bool(n, out, c->d, c->err);
}

/* A sequence node (or NULL when absent/null); anything else is an error. */
static int opt_seq(struct dec *c, const struct yamldoc_node *map, const char *key,
                   const struct yamldoc_node **out)
{
    const struct yamldoc_node *n = yamldoc_map_get(map, key);
    *out = NULL;
    if (yamldoc_is_null(n))
        return 0;
    if (n->kind != YAMLDOC_SEQ)
        return yamldoc_error(c->err, c->d, n, "'%s' must be a list", key);
    *out = n;
    return 0;
}

static int opt_map(struct dec *c, const struct yamldoc_node *map, const char *key,
                   const struct yamldoc_node **out)
{
    const struct yamldoc_node *n = yamldoc_map_get(map, key);
    *out = NULL;
    if (yamldoc_is_null(n))
        return 0;
    if (n->kind != YAMLDOC_MAP)
        return yamldoc_error(c->err, c->d, n, "'%s' must be a mapping", key);
    *out = n;
    return 0;
}

/* A list of non-empty strings. */
static int string_list(struct dec *c, const struct yamldoc_node *seq, char ***out, size_t *n_out)
{
    char **v = calloc(seq->n + 1, sizeof *v);
    if (v == NULL)
        return yamldoc_error(c->err, c->d, seq, "out of memory");
    for (size_t i = 0; i < seq->n; i++) {
        if (dup_string(c, seq->items[i], &v[i]) != 0 ||
            (v[i][0] == '\0' &&
             yamldoc_error(c->err, c->d, seq->items[i], "empty string in list") != 0)) {
            for (size_t j = 0; j <= i; j++)
                free(v[j]);
            free(v);
            return -1;
        }
    }
    *out = v;
    *n_out = seq->n;
    return 0;
}

static void string_list_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static bool label_name_ok(const char *s)
{
    if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_'))
        return false;
    for (const char *p = s + 1; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_' ||
              (*p >= '0' && *p <= '9')))
            return false;
    return strlen(s) <= LW_MAX_LABEL_NAME_BYTES;
}

/* A map of label name -> value into ls (initialised by the caller). */
static int labels_map(struct dec *c, const struct yamldoc_node *map, struct lw_labels *ls)
{
    if (map->kind != YAMLDOC_MAP)
        return yamldoc_error(c->err, c->d, map, "labels must be a mapping of name: value");
    for (size_t i = 0; i < yamldoc_map_size(map); i++) {
        const struct yamldoc_node *k = yamldoc_map_key(map, i), *v = yamldoc_map_value(map, i);
        const char *name, *value;
        if (yamldoc_get_string(k, &name, c->d, c->err) != 0)
            return -1;
        if (!label_name_ok(name))
            return yamldoc_error(c->err, c->d, k,
                                 "invalid label name '%s' (letters, digits and _; not first digit)",
                                 name);
        if (strncmp(name, "__", 2) == 0)
            return yamldoc_error(c->err, c->d, k, "label names starting with __ are reserved");
        if (yamldoc_get_string(v, &value, c->d, c->err) != 0)
            return -1;
        if (lw_labels_set(ls, name, value) != 0)
            return yamldoc_error(c->err, c->d, k, "out of memory");
    }
    return 0;
}

static bool url_ok(const char *s)
{
    const char *rest = strncmp(s, "http://", 7) == 0    ? s + 7
                       : strncmp(s, "https://", 8) == 0 ? s + 8
                                                        : NULL;
    return rest && rest[0] && rest[0] != '/';
}

static int check_url(struct dec *c, const struct yamldoc_node *map, const char *key,
                     const char *url)
{
    if (url && !url_ok(url))
        return yamldoc_error(c->err, c->d, yamldoc_map_get(map, key),
                             "'%s' must be an http:// or https:// URL with a host", key);
    return 0;
}

/* "host:port" or "[v6]:port" or ":port", port 0..65535. */
static bool listen_ok(const char *s)
{
    const char *colon = strrchr(s, ':');
    if (colon == NULL || colon[1] == '\0')
        return false;
    long port = 0;
    for (const char *p = colon + 1; *p; p++) {
        if (*p < '0' || *p > '9' || (port = port * 10 + (*p - '0')) > 65535)
            return false;
    }
    return true;
}

/* ---- secrets -------------------------------------------------------------------------------- */

void config_secret_free(char *s)
{
    if (s == NULL)
        return;
    OPENSSL_cleanse(s, strlen(s));
    free(s);
}

/* Read a whole (small) file; heap, NUL-terminated. */
static char *read_small_file(const char *path, size_t max, size_t *len, char *why, size_t whylen)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(why, whylen, "%s", strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) || (size_t)st.st_size > max) {
        snprintf(why, whylen, "%s", S_ISREG(st.st_mode) ? "file too large" : "not a regular file");
        fclose(f);
        return NULL;
    }
    size_t size = (size_t)st.st_size;
    char *buf = malloc(size + 1);
    if (buf == NULL) {
        snprintf(why, whylen, "out of memory");
        fclose(f);
        return NULL;
    }
    size_t got = fread(buf, 1, size, f);
    fclose(f);
    if (got != size) {
        snprintf(why, whylen, "short read");
        OPENSSL_cleanse(buf, size);
        free(buf);
        return NULL;
    }
    buf[size] = '\0';
    *len = size;
    return buf;
}

static char *join_path(const char *dir, const char *path)
{
    if (path[0] == '/' || dir == NULL || dir[0] == '\0')
        return strdup(path);
    size_t n = strlen(dir) + strlen(path) + 2;
    char *out = malloc(n);
    if (out)
        snprintf(out, n, "%s/%s", dir, path);
    return out;
}

int config_secret_read(const struct yamldoc *d, const struct yamldoc_node *map, const char *key,
                       const char *cfg_dir, char **out, struct lw_err *err)
{
    char file_key[128];
    snprintf(file_key, sizeof file_key, "%s_file", key);
    const struct yamldoc_node *v = yamldoc_map_get(map, key);
    const struct yamldoc_node *fv = yamldoc_map_get(map, file_key);
    if (!yamldoc_is_null(v) && !yamldoc_is_null(fv))
        return yamldoc_error(err, d, fv, "set '%s' or '%s', not both", key, file_key);
    const char *s;
    if (!yamldoc_is_null(v)) {
        if (yamldoc_get_string(v, &s, d, err) != 0)
            return -1;
        char *copy = strdup(s);
        if (copy == NULL)
            return yamldoc_error(err, d, v, "out of memory");
        *out = copy;
        return 0;
    }
    if (yamldoc_is_null(fv)) {
        *out = NULL;
        return 0;
    }
    if (yamldoc_get_string(fv, &s, d, err) != 0)
        return -1;
    char *path = join_path(cfg_dir, s);
    if (path == NULL)
        return yamldoc_error(err, d, fv, "out of memory");
    char why[128];
    size_t len = 0;
    char *text = read_small_file(path, LW_MAX_SECRET_BYTES, &len, why, sizeof why);
    if (text == NULL) {
        yamldoc_error(err, d, fv, "cannot read %s '%s': %s", file_key, path, why);
        free(path);
        return -1;
    }
    free(path);
    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
        text[--len] = '\0';
    if (strlen(text) != len) {
        OPENSSL_cleanse(text, len);
        free(text);
        return yamldoc_error(err, d, fv, "%s holds a NUL byte", file_key);
    }
    *out = text;
    return 0;
}

bool config_key_is_secret(const char *key, void *ctx)
{
    (void)ctx;
    static const char *const secret[] = {"api_url",       "url",
                                         "routing_key",   "service_key",
                                         "password",      "bearer_token",
                                         "token",         "secret",
                                         "api_key",       "credentials",
                                         "auth_token",    "webhook_url",
                                         "access_key_id", "secret_access_key",
                                         "session_token", NULL};
    for (const char *const *s = secret; *s; s++)
        if (strcmp(key, *s) == 0)
            return true;
    return false;
}

/* ---- sections ------------------------------------------------------------------------------- */

static int decode_global(struct dec *c, const struct yamldoc_node *g, struct config_global *out)
{
    static const char *const keys[] = {
        "scrape_interval", "scrape_timeout",  "evaluation_interval",  "state_dir", "listen",
        "external_url",    "external_labels", "notification_max_age", NULL};
    if (yamldoc_check_keys(c->d, g, keys, c->err) != 0 ||
        opt_duration(c, g, "scrape_interval", &out->scrape_interval_ms) != 0 ||
        opt_duration(c, g, "scrape_timeout", &out->scrape_timeout_ms) != 0 ||
        opt_duration(c, g, "evaluation_interval", &out->evaluation_interval_ms) != 0 ||
        opt_duration(c, g, "notification_max_age", &out->notification_max_age_ms) != 0 ||
        opt_string(c, g, "state_dir", &out->state_dir) != 0 ||
        opt_string(c, g, "listen", &out->listen) != 0 ||
        opt_string(c, g, "external_url", &out->external_url) != 0)
        return -1;
    if (yamldoc_map_get(g, "scrape_timeout") == NULL &&
        out->scrape_timeout_ms > out->scrape_interval_ms)
        out->scrape_timeout_ms = out->scrape_interval_ms; /* as Prometheus: never beyond interval */
    if (out->scrape_timeout_ms > out->scrape_interval_ms)
        return yamldoc_error(c->err, c->d, yamldoc_map_get(g, "scrape_timeout"),
                             "scrape_timeout must not be longer than scrape_interval");
    if (!listen_ok(out->listen))
        return yamldoc_error(c->err, c->d, yamldoc_map_get(g, "listen"),
                             "listen must be host:port (port 0-65535), e.g. 127.0.0.1:9741");
    if (out->state_dir[0] == '\0')
        return yamldoc_error(c->err, c->d, yamldoc_map_get(g, "state_dir"),
                             "state_dir must not be empty");
    if (check_url(c, g, "external_url", out->external_url) != 0)
        return -1;
    const struct yamldoc_node *el = NULL;
    if (opt_map(c, g, "external_labels", &el) != 0)
        return -1;
    if (el && labels_map(c, el, &out->external_labels) != 0)
        return -1;
    return 0;
}

static int decode_aws(struct dec *c, const struct yamldoc_node *a, struct config_aws *out)
{
    static const char *const keys[] = {"region",
                                       "profile",
                                       "endpoints",
                                       "access_key_id",
                                       "access_key_id_file",
                                       "secret_access_key",
                                       "secret_access_key_file",
                                       "session_token",
                                       "session_token_file",
                                       NULL};
    static const char *const ep_keys[] = {"cloudwatch", "rds", "sts", NULL};
    if (yamldoc_check_keys(c->d, a, keys, c->err) != 0 ||
        opt_string(c, a, "region", &out->region) != 0 ||
        opt_string(c, a, "profile", &out->profile) != 0 ||
        config_secret_read(c->d, a, "access_key_id", c->dir, &out->access_key_id, c->err) != 0 ||
        config_secret_read(c->d, a, "secret_access_key", c->dir, &out->secret_access_key, c->err) !=
            0 ||
        config_secret_read(c->d, a, "session_token", c->dir, &out->session_token, c->err) != 0)
        return -1;
    if ((out->access_key_id == NULL) != (out->secret_access_key == NULL))
        return yamldoc_error(c->err, c->d, a,
                             "aws: set both access_key_id and secret_access_key, or neither");
    if (out->session_token && out->access_key_id == NULL)
        return yamldoc_error(c->err, c->d, a,
                             "aws: session_token needs access_key_id and secret_access_key");
    const struct yamldoc_node *ep = NULL;
    if (opt_map(c, a, "endpoints", &ep) != 0)
        return -1;
    if (ep == NULL)
        return 0;
    if (yamldoc_check_keys(c->d, ep, ep_keys, c->err) != 0 ||
        opt_string(c, ep, "cloudwatch", &out->endpoint_cloudwatch) != 0 ||
        opt_string(c, ep, "rds", &out->endpoint_rds) != 0 ||
        opt_string(c, ep, "sts", &out->endpoint_sts) != 0 ||
        check_url(c, ep, "cloudwatch", out->endpoint_cloudwatch) != 0 ||
        check_url(c, ep, "rds", out->endpoint_rds) != 0 ||
        check_url(c, ep, "sts", out->endpoint_sts) != 0)
        return -1;
    return 0;
}

static const char *const default_aurora_metrics[] = {"AuroraBinlogReplicaLag", "BinLogDiskUsage",
                                                     "SumBinaryLogSize", NULL};

static void aurora_free(struct config_aurora *a)
{
    if (a == NULL)
        return;
    free(a->cluster);
    free(a->region);
    string_list_free(a->metrics, a->n_metrics);
    free(a);
}

static int decode_aurora(struct dec *c, const struct yamldoc_node *m, struct config_aurora **out)
{
    static const char *const keys[] = {
        "cluster", "region", "interval", "period", "metrics", "failover_detection", NULL};
    if (yamldoc_check_keys(c->d, m, keys, c->err) != 0)
        return -1;
    struct config_aurora *a = calloc(1, sizeof *a);
    if (a == NULL)
        return yamldoc_error(c->err, c->d, m, "out of memory");
    a->interval_ms = CONFIG_DEFAULT_AURORA_INTERVAL_MS;
    a->period_ms = CONFIG_DEFAULT_AURORA_PERIOD_MS;
    a->failover_detection = true;
    const struct yamldoc_node *metrics = NULL;
    if (req_string(c, m, "cluster", &a->cluster, "aurora") != 0 ||
        opt_string(c, m, "region", &a->region) != 0 ||
        opt_duration(c, m, "interval", &a->interval_ms) != 0 ||
        opt_duration(c, m, "period", &a->period_ms) != 0 ||
        opt_bool(c, m, "failover_detection", &a->failover_detection) != 0 ||
        opt_seq(c, m, "metrics", &metrics) != 0)
        goto fail;
    /* CloudWatch accepts 1, 5, 10, 30 s (high resolution) or any multiple of 60 s. */
    int64_t p = a->period_ms;
    if (!(p == 1000 || p == 5000 || p == 10000 || p == 30000 || (p % 60000 == 0))) {
        yamldoc_error(c->err, c->d, yamldoc_map_get(m, "period"),
                      "period must be 1s, 5s, 10s, 30s or a multiple of 60s (CloudWatch)");
        goto fail;
    }
    if (metrics) {
        if (metrics->n == 0) {
            yamldoc_error(c->err, c->d, metrics, "metrics must name at least one metric");
            goto fail;
        }
        if (string_list(c, metrics, &a->metrics, &a->n_metrics) != 0)
            goto fail;
    } else {
        size_t n = sizeof default_aurora_metrics / sizeof default_aurora_metrics[0] - 1;
        a->metrics = calloc(n + 1, sizeof *a->metrics);
        if (a->metrics == NULL)
            goto oom;
        for (size_t i = 0; i < n; i++)
            if ((a->metrics[i] = strdup(default_aurora_metrics[i])) == NULL)
                goto oom;
        a->n_metrics = n;
    }
    *out = a;
    return 0;
oom:
    a->n_metrics = sizeof default_aurora_metrics / sizeof default_aurora_metrics[0] - 1;
    yamldoc_error(c->err, c->d, m, "out of memory");
fail:
    aurora_free(a);
    return -1;
}

static void debezium_free(struct config_debezium *z)
{
    if (z == NULL)
        return;
    string_list_free(z->exporters, z->n_exporters);
    free(z->server);
    free(z->keep);
    free(z);
}

/* A positive whole number (a count limit); absent leaves *out at 0 (the default). */
static int opt_count(struct dec *c, const struct yamldoc_node *map, const char *key, uint64_t *out)
{
    const struct yamldoc_node *n = yamldoc_map_get(map, key);
    if (yamldoc_is_null(n))
        return 0;
    int64_t v = 0;
    if (yamldoc_get_int64(n, &v, c->d, c->err) != 0)
        return -1;
    if (v <= 0)
        return yamldoc_error(c->err, c->d, n, "%s must be greater than zero", key);
    *out = (uint64_t)v;
    return 0;
}

/* A size as Prometheus's body_size_limit writes it: bytes, or a number with B, KB, MB, GB (or
 * KiB, MiB, GiB; all powers of 1024, as Prometheus reads them). */
static int opt_bytes(struct dec *c, const struct yamldoc_node *map, const char *key, uint64_t *out)
{
    const struct yamldoc_node *n = yamldoc_map_get(map, key);
    if (yamldoc_is_null(n))
        return 0;
    const char *s = NULL;
    if (yamldoc_get_string(n, &s, c->d, c->err) != 0)
        return -1;
    static const struct {
        const char *unit;
        uint64_t mult;
    } units[] = {{"", 1},          {"B", 1},          {"KB", 1u << 10}, {"KiB", 1u << 10},
                 {"MB", 1u << 20}, {"MiB", 1u << 20}, {"GB", 1u << 30}, {"GiB", 1u << 30}};
    size_t i = 0;
    uint64_t v = 0;
    for (; s[i] >= '0' && s[i] <= '9'; i++) {
        if (v > (UINT64_MAX - 9) / 10)
            return yamldoc_error(c->err, c->d, n, "%s is too large", key);
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    for (size_t u = 0; i > 0 && u < sizeof units / sizeof units[0]; u++) {
        if (strcmp(s + i, units[u].unit) != 0)
            continue;
        if (v == 0)
            return yamldoc_error(c->err, c->d, n, "%s must be greater than zero", key);
        if (v > UINT64_MAX / units[u].mult)
            return yamldoc_error(c->err, c->d, n, "%s is too large", key);
        *out = v * units[u].mult;
        return 0;
    }
    return yamldoc_error(c->err, c->d, n,
                         "%s must be a size such as 1048576, 512KB or 64MB (units B, KB, MB, GB, "
                         "powers of 1024)",
                         key);
}

static bool same_scrape_limits(const struct config_debezium *a, const struct config_debezium *b)
{
    return a->body_size_limit == b->body_size_limit && a->sample_limit == b->sample_limit &&
           a->label_limit == b->label_limit &&
           a->label_name_length_limit == b->label_name_length_limit &&
           a->label_value_length_limit == b->label_value_length_limit;
}

/* Pipelines that name the same exporter URL share one scrape, so they must agree on its
 * limits; the error points at the later pipeline's debezium section. */
static int check_shared_exporter(struct dec *c, const struct yamldoc_node *at,
                                 const struct config_pipeline *first,
                                 const struct config_pipeline *later)
{
    const struct config_debezium *a = first->debezium, *b = later->debezium;
    if (a == NULL || b == NULL || same_scrape_limits(a, b))
        return 0;
    for (size_t i = 0; i < a->n_exporters; i++)
        for (size_t j = 0; j < b->n_exporters; j++)
            if (strcmp(a->exporters[i], b->exporters[j]) == 0)
                return yamldoc_error(c->err, c->d, yamldoc_map_get(at, "debezium"),
                                     "pipelines '%s' (line %d) and '%s' share the exporter %s but "
                                     "set different scrape limits; set the same ones on both",
                                     first->name, first->line, later->name, b->exporters[j]);
    return 0;
}

static int decode_debezium(struct dec *c, const struct yamldoc_node *m,
                           struct config_debezium **out)
{
    static const char *const keys[] = {"exporter",
                                       "server",
                                       "keep",
                                       "body_size_limit",
                                       "sample_limit",
                                       "label_limit",
                                       "label_name_length_limit",
                                       "label_value_length_limit",
                                       NULL};
    if (yamldoc_check_keys(c->d, m, keys, c->err) != 0)
        return -1;
    struct config_debezium *z = calloc(1, sizeof *z);
    if (z == NULL)
        return yamldoc_error(c->err, c->d, m, "out of memory");
    const struct yamldoc_node *ex = yamldoc_map_get(m, "exporter");
    if (yamldoc_is_null(ex)) {
        yamldoc_error(c->err, c->d, m, "debezium needs 'exporter' (a URL or a list of URLs)");
        goto fail;
    }
    if (ex->kind == YAMLDOC_SEQ) {
        if (ex->n == 0) {
            yamldoc_error(c->err, c->d, ex, "exporter list is empty");
            goto fail;
        }
        if (string_list(c, ex, &z->exporters, &z->n_exporters) != 0)
            goto fail;
    } else {
        z->exporters = calloc(2, sizeof *z->exporters);
        if (z->exporters == NULL) {
            yamldoc_error(c->err, c->d, m, "out of memory");
            goto fail;
        }
        z->n_exporters = 1;
        if (dup_string(c, ex, &z->exporters[0]) != 0)
            goto fail;
    }
    for (size_t i = 0; i < z->n_exporters; i++) {
        if (!url_ok(z->exporters[i])) {
            yamldoc_error(c->err, c->d, ex->kind == YAMLDOC_SEQ ? ex->items[i] : ex,
                          "exporter must be an http:// or https:// URL with a host");
            goto fail;
        }
    }
    if (req_string(c, m, "server", &z->server, "debezium") != 0 ||
        opt_string(c, m, "keep", &z->keep) != 0 ||
        opt_bytes(c, m, "body_size_limit", &z->body_size_limit) != 0 ||
        opt_count(c, m, "sample_limit", &z->sample_limit) != 0 ||
        opt_count(c, m, "label_limit", &z->label_limit) != 0 ||
        opt_count(c, m, "label_name_length_limit", &z->label_name_length_limit) != 0 ||
        opt_count(c, m, "label_value_length_limit", &z->label_value_length_limit) != 0)
        goto fail;
    if (z->keep) {
        struct lw_matcher probe;
        struct lw_err rerr = {0};
        if (lw_matcher_init(&probe, LW_MATCH_RE, "__name__", z->keep, &rerr) != 0) {
            yamldoc_error(c->err, c->d, yamldoc_map_get(m, "keep"), "invalid keep regexp: %s",
                          rerr.msg);
            goto fail;
        }
        lw_matcher_cleanup(&probe);
    }
    *out = z;
    return 0;
fail:
    debezium_free(z);
    return -1;
}

static void kafka_connect_free(struct config_kafka_connect *k)
{
    if (k == NULL)
        return;
    free(k->url);
    free(k->connector);
    free(k);
}

static int decode_kafka_connect(struct dec *c, const struct yamldoc_node *m,
                                struct config_kafka_connect **out)
{
    static const char *const keys[] = {"url", "connector", NULL};
    if (yamldoc_check_keys(c->d, m, keys, c->err) != 0)
        return -1;
    struct config_kafka_connect *k = calloc(1, sizeof *k);
    if (k == NULL)
        return yamldoc_error(c->err, c->d, m, "out of memory");
    if (req_string(c, m, "url", &k->url, "kafka_connect") != 0 ||
        check_url(c, m, "url", k->url) != 0 ||
        req_string(c, m, "connector", &k->connector, "kafka_connect") != 0) {
        kafka_connect_free(k);
        return -1;
    }
    *out = k;
    return 0;
}

static void pipeline_cleanup(struct config_pipeline *p)
{
    free(p->name);
    lw_labels_cleanup(&p->labels);
    aurora_free(p->aurora);
    debezium_free(p->debezium);
    kafka_connect_free(p->kafka_connect);
}

static bool name_ok(const char *s)
{
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '_' || *p == '-' || *p == '.'))
            return false;
    return s[0] != '\0';
}

static int decode_pipeline(struct dec *c, const struct yamldoc_node *m, struct config_pipeline *p)
{
    static const char *const keys[] = {"name",     "labels",        "aurora",
                                       "debezium", "kafka_connect", NULL};
    lw_labels_init(&p->labels);
    p->line = m->line;
    if (m->kind != YAMLDOC_MAP)
        return yamldoc_error(c->err, c->d, m, "a pipeline must be a mapping with a name");
    if (yamldoc_check_keys(c->d, m, keys, c->err) != 0 ||
        req_string(c, m, "name", &p->name, "pipeline") != 0)
        return -1;
    if (!name_ok(p->name))
        return yamldoc_error(c->err, c->d, yamldoc_map_get(m, "name"),
                             "pipeline name '%s' may only hold letters, digits, '_', '-', '.'",
                             p->name);
    const struct yamldoc_node *labels = NULL, *au = NULL, *dz = NULL, *kc = NULL;
    if (opt_map(c, m, "labels", &labels) != 0 || opt_map(c, m, "aurora", &au) != 0 ||
        opt_map(c, m, "debezium", &dz) != 0 || opt_map(c, m, "kafka_connect", &kc) != 0)
        return -1;
    if (labels && labels_map(c, labels, &p->labels) != 0)
        return -1;
    if (labels && lw_labels_get(&p->labels, "pipeline"))
        return yamldoc_error(c->err, c->d, labels,
                             "labels must not set 'pipeline' (it is the pipeline's name)");
    if (au == NULL && dz == NULL && kc == NULL)
        return yamldoc_error(c->err, c->d, m,
                             "pipeline '%s' has no source: give aurora, debezium or kafka_connect",
                             p->name);
    if ((au && decode_aurora(c, au, &p->aurora) != 0) ||
        (dz && decode_debezium(c, dz, &p->debezium) != 0) ||
        (kc && decode_kafka_connect(c, kc, &p->kafka_connect) != 0))
        return -1;
    return 0;
}

static void prometheus_source_cleanup(struct config_prometheus_source *s)
{
    free(s->name);
    free(s->url);
    string_list_free(s->queries, s->n_queries);
    free(s->pipeline);
    config_secret_free(s->bearer_token);
    free(s->basic_username);
    config_secret_free(s->basic_password);
}

static int decode_prometheus_source(struct dec *c, const struct yamldoc_node *m,
                                    const struct config *cfg, struct config_prometheus_source *s)
{
    static const char *const keys[] = {
        "name",       "url", "queries", "pipeline", "interval", "bearer_token", "bearer_token_file",
        "basic_auth", NULL};
    static const char *const ba_keys[] = {"username", "password", "password_file", NULL};
    s->interval_ms = cfg->global.scrape_interval_ms;
    if (m->kind != YAMLDOC_MAP)
        return yamldoc_error(c->err, c->d, m, "a prometheus source must be a mapping");
    const struct yamldoc_node *queries = NULL, *ba = NULL;
    if (yamldoc_check_keys(c->d, m, keys, c->err) != 0 ||
        req_string(c, m, "name", &s->name, "prometheus source") != 0 ||
        req_string(c, m, "url", &s->url, "prometheus source") != 0 ||
        check_url(c, m, "url", s->url) != 0 || opt_string(c, m, "pipeline", &s->pipeline) != 0 ||
        opt_duration(c, m, "interval", &s->interval_ms) != 0 ||
        opt_seq(c, m, "queries", &queries) != 0 || opt_map(c, m, "basic_auth", &ba) != 0 ||
        config_secret_read(c->d, m, "bearer_token", c->dir, &s->bearer_token, c->err) != 0)
        return -1;
    if (queries == NULL || queries->n == 0)
        return yamldoc_error(c->err, c->d, queries ? queries : m,
                             "prometheus source '%s' needs at least one query in 'queries'",
                             s->name);
    if (string_list(c, queries, &s->queries, &s->n_queries) != 0)
        return -1;
    if (s->pipeline && config_pipeline_find(cfg, s->pipeline) == NULL)
        return yamldoc_error(c->err, c->d, yamldoc_map_get(m, "pipeline"), "no pipeline named '%s'",
                             s->pipeline);
    if (ba) {
        if (yamldoc_check_keys(c->d, ba, ba_keys, c->err) != 0 ||
            req_string(c, ba, "username", &s->basic_username, "basic_auth") != 0 ||
            config_secret_read(c->d, ba, "password", c->dir, &s->basic_password, c->err) != 0)
            return -1;
        if (s->bearer_token)
            return yamldoc_error(c->err, c->d, ba, "set bearer_token or basic_auth, not both");
    }
    return 0;
}

static const char *const no_data_names[] = {"keep_state", "ok", "alerting", NULL};

static int decode_rule_option(struct dec *c, const struct yamldoc_node *m,
                              struct config_rule_option *o)
{
    static const char *const keys[] = {"alert", "no_data", NULL};
    if (m->kind != YAMLDOC_MAP)
        return yamldoc_error(c->err, c->d, m, "a rule option must be a mapping with 'alert'");
    if (yamldoc_check_keys(c->d, m, keys, c->err) != 0 ||
        req_string(c, m, "alert", &o->alert, "rule option") != 0)
        return -1;
    o->no_data = CONFIG_NO_DATA_KEEP_STATE;
    const struct yamldoc_node *nd = yamldoc_map_get(m, "no_data");
    if (yamldoc_is_null(nd))
        return 0;
    const char *s;
    if (yamldoc_get_string(nd, &s, c->d, c->err) != 0)
        return -1;
    for (int i = 0; no_data_names[i]; i++)
        if (strcmp(s, no_data_names[i]) == 0) {
            o->no_data = (enum config_no_data)i;
            return 0;
        }
    const char *hint = yamldoc_suggest(s, no_data_names);
    if (hint)
        return yamldoc_error(c->err, c->d, nd,
                             "no_data must be keep_state, ok or alerting, not '%s' (did you mean "
                             "'%s'?)",
                             s, hint);
    return yamldoc_error(c->err, c->d, nd, "no_data must be keep_state, ok or alerting, not '%s'",
                         s);
}

static int decode_suppression(struct dec *c, const struct yamldoc_node *m, struct config *cfg)
{
    static const char *const keys[] = {"failover", NULL};
    static const char *const fo_keys[] = {"hold", "enabled", NULL};
    const struct yamldoc_node *fo = NULL;
    if (yamldoc_check_keys(c->d, m, keys, c->err) != 0 || opt_map(c, m, "failover", &fo) != 0)
        return -1;
    if (fo == NULL)
        return 0;
    if (yamldoc_check_keys(c->d, fo, fo_keys, c->err) != 0 ||
        opt_bool(c, fo, "enabled", &cfg->failover_hold_enabled) != 0)
        return -1;
    const struct yamldoc_node *hold = yamldoc_map_get(fo, "hold");
    if (!yamldoc_is_null(hold) &&
        yamldoc_get_duration_ms(hold, &cfg->failover_hold_ms, c->d, c->err) != 0)
        return -1;
    return 0;
}

/* ---- notification sections: shape and receiver names ---------------------------------------- */

static int check_route_receivers(struct dec *c, const struct yamldoc_node *route,
                                 const struct yamldoc_node *receivers, int depth)
{
    if (route->kind != YAMLDOC_MAP)
        return yamldoc_error(c->err, c->d, route, "a route must be a mapping");
    const struct yamldoc_node *r = yamldoc_map_get(route, "receiver");
    if (!yamldoc_is_null(r)) {
        const char *name;
        if (yamldoc_get_string(r, &name, c->d, c->err) != 0)
            return -1;
        bool found = false;
        size_t n = receivers ? receivers->n : 0;
        const char *names[64 + 1];
        size_t n_names = 0;
        for (size_t i = 0; i < n && !found; i++) {
            const struct yamldoc_node *rn = yamldoc_map_get(receivers->items[i], "name");
            if (rn && rn->kind == YAMLDOC_SCALAR) {
                found = yamldoc_scalar_is(rn, name);
                if (n_names < 64)
                    names[n_names++] = rn->scalar;
            }
        }
        names[n_names] = NULL;
        if (!found) {
            const char *hint = yamldoc_suggest(name, names);
            if (hint)
                return yamldoc_error(c->err, c->d, r,
                                     "route names unknown receiver '%s' (did you mean '%s'?)", name,
                                     hint);
            return yamldoc_error(c->err, c->d, r, "route names unknown receiver '%s'", name);
        }
    } else if (depth == 0) {
        return yamldoc_error(c->err, c->d, route, "the top-level route needs a 'receiver'");
    }
    const struct yamldoc_node *children = yamldoc_map_get(route, "routes");
    if (yamldoc_is_null(children))
        return 0;
    if (children->kind != YAMLDOC_SEQ)
        return yamldoc_error(c->err, c->d, children, "'routes' must be a list of routes");
    for (size_t i = 0; i < children->n; i++)
        if (check_route_receivers(c, children->items[i], receivers, depth + 1) != 0)
            return -1;
    return 0;
}

static int decode_notify_shapes(struct dec *c, const struct yamldoc_node *root, struct config *cfg)
{
    if (opt_map(c, root, "route", &cfg->route) != 0 ||
        opt_seq(c, root, "receivers", &cfg->receivers) != 0 ||
        opt_seq(c, root, "inhibit_rules", &cfg->inhibit_rules) != 0 ||
        opt_seq(c, root, "time_intervals", &cfg->time_intervals) != 0 ||
        opt_seq(c, root, "mute_time_intervals", &cfg->mute_time_intervals) != 0 ||
        opt_seq(c, root, "silences", &cfg->silences) != 0)
        return -1;
    if (cfg->receivers) {
        for (size_t i = 0; i < cfg->receivers->n; i++) {
            const struct yamldoc_node *r = cfg->receivers->items[i], *name;
            const char *s;
            if (r->kind != YAMLDOC_MAP)
                return yamldoc_error(c->err, c->d, r, "a receiver must be a mapping with a name");
            name = yamldoc_map_get(r, "name");
            if (yamldoc_is_null(name))
                return yamldoc_error(c->err, c->d, r, "a receiver needs a 'name'");
            if (yamldoc_get_string(name, &s, c->d, c->err) != 0)
                return -1;
            for (size_t j = 0; j < i; j++)
                if (yamldoc_scalar_is(yamldoc_map_get(cfg->receivers->items[j], "name"), s))
                    return yamldoc_error(c->err, c->d, name, "duplicate receiver name '%s'", s);
        }
    }
    if (cfg->route && check_route_receivers(c, cfg->route, cfg->receivers, 0) != 0)
        return -1;
    if (cfg->route == NULL && cfg->receivers && cfg->receivers->n > 0)
        return yamldoc_error(c->err, c->d, cfg->receivers,
                             "receivers are defined but no 'route' sends anything to them");
    return 0;
}

/* ---- top level ------------------------------------------------------------------------------ */

static void defaults(struct config *cfg)
{
    cfg->global.scrape_interval_ms = CONFIG_DEFAULT_SCRAPE_INTERVAL_MS;
    cfg->global.scrape_timeout_ms = CONFIG_DEFAULT_SCRAPE_TIMEOUT_MS;
    cfg->global.evaluation_interval_ms = CONFIG_DEFAULT_EVALUATION_INTERVAL_MS;
    cfg->global.notification_max_age_ms = CONFIG_DEFAULT_NOTIFICATION_MAX_AGE_MS;
    lw_labels_init(&cfg->global.external_labels);
    cfg->failover_hold_enabled = true;
    cfg->failover_hold_ms = CONFIG_DEFAULT_FAILOVER_HOLD_MS;
}

static int decode_root(struct dec *c, const struct yamldoc_node *root, struct config *cfg)
{
    /* The notify module may accept more top-level Alertmanager keys: add them here. */
    static const char *const keys[] = {"global",         "aws",
                                       "pipelines",      "prometheus_sources",
                                       "rule_files",     "rule_options",
                                       "suppression",    "route",
                                       "receivers",      "inhibit_rules",
                                       "time_intervals", "mute_time_intervals",
                                       "silences",       NULL};
    if (root != NULL && yamldoc_is_null(root))
        root = NULL; /* an empty document is an all-defaults config */
    if (root && yamldoc_check_keys(c->d, root, keys, c->err) != 0)
        return -1;
    const struct yamldoc_node *g = NULL, *a = NULL, *ps = NULL, *prs = NULL, *rf = NULL, *ro = NULL,
                              *sup = NULL;
    if (root &&
        (opt_map(c, root, "global", &g) != 0 || opt_map(c, root, "aws", &a) != 0 ||
         opt_seq(c, root, "pipelines", &ps) != 0 ||
         opt_seq(c, root, "prometheus_sources", &prs) != 0 ||
         opt_seq(c, root, "rule_files", &rf) != 0 || opt_seq(c, root, "rule_options", &ro) != 0 ||
         opt_map(c, root, "suppression", &sup) != 0))
        return -1;
    /* Defaults first: the global decoder replaces them and checks the result. */
    if ((cfg->global.state_dir = strdup(CONFIG_DEFAULT_STATE_DIR)) == NULL ||
        (cfg->global.listen = strdup(CONFIG_DEFAULT_LISTEN)) == NULL)
        return lw_err_set(c->err, 0, 0, "out of memory");
    if (g && decode_global(c, g, &cfg->global) != 0)
        return -1;
    if (cfg->global.external_url == NULL) {
        size_t n = strlen(cfg->global.listen) + 8;
        if ((cfg->global.external_url = malloc(n)) == NULL)
            return lw_err_set(c->err, 0, 0, "out of memory");
        snprintf(cfg->global.external_url, n, "http://%s", cfg->global.listen);
    }
    if (a && decode_aws(c, a, &cfg->aws) != 0)
        return -1;
    if (ps) {
        cfg->pipelines = calloc(ps->n ? ps->n : 1, sizeof *cfg->pipelines);
        if (cfg->pipelines == NULL)
            return lw_err_set(c->err, 0, 0, "out of memory");
        for (size_t i = 0; i < ps->n; i++) {
            cfg->n_pipelines = i + 1;
            if (decode_pipeline(c, ps->items[i], &cfg->pipelines[i]) != 0)
                return -1;
            for (size_t j = 0; j < i; j++)
                if (strcmp(cfg->pipelines[j].name, cfg->pipelines[i].name) == 0)
                    return yamldoc_error(c->err, c->d, yamldoc_map_get(ps->items[i], "name"),
                                         "duplicate pipeline name '%s' (first at line %d)",
                                         cfg->pipelines[i].name, cfg->pipelines[j].line);
            for (size_t j = 0; j < i; j++)
                if (check_shared_exporter(c, ps->items[i], &cfg->pipelines[j],
                                          &cfg->pipelines[i]) != 0)
                    return -1;
        }
    }
    if (prs) {
        cfg->prometheus_sources = calloc(prs->n ? prs->n : 1, sizeof *cfg->prometheus_sources);
        if (cfg->prometheus_sources == NULL)
            return lw_err_set(c->err, 0, 0, "out of memory");
        for (size_t i = 0; i < prs->n; i++) {
            cfg->n_prometheus_sources = i + 1;
            if (decode_prometheus_source(c, prs->items[i], cfg, &cfg->prometheus_sources[i]) != 0)
                return -1;
            for (size_t j = 0; j < i; j++)
                if (strcmp(cfg->prometheus_sources[j].name, cfg->prometheus_sources[i].name) == 0)
                    return yamldoc_error(c->err, c->d, yamldoc_map_get(prs->items[i], "name"),
                                         "duplicate prometheus source name '%s'",
                                         cfg->prometheus_sources[i].name);
        }
    }
    if (rf && string_list(c, rf, &cfg->rule_files, &cfg->n_rule_files) != 0)
        return -1;
    if (ro) {
        cfg->rule_options = calloc(ro->n ? ro->n : 1, sizeof *cfg->rule_options);
        if (cfg->rule_options == NULL)
            return lw_err_set(c->err, 0, 0, "out of memory");
        for (size_t i = 0; i < ro->n; i++) {
            cfg->n_rule_options = i + 1;
            if (decode_rule_option(c, ro->items[i], &cfg->rule_options[i]) != 0)
                return -1;
            for (size_t j = 0; j < i; j++)
                if (strcmp(cfg->rule_options[j].alert, cfg->rule_options[i].alert) == 0)
                    return yamldoc_error(c->err, c->d, yamldoc_map_get(ro->items[i], "alert"),
                                         "duplicate rule option for alert '%s'",
                                         cfg->rule_options[i].alert);
        }
    }
    if (sup && decode_suppression(c, sup, cfg) != 0)
        return -1;
    if (root && decode_notify_shapes(c, root, cfg) != 0)
        return -1;
    return 0;
}

/* Alertmanager's sections through the notify module's decoder. Alertmanager accepts time
 * intervals under `time_intervals` and the older `mute_time_intervals`; the decoder takes one
 * list, so a config giving both is refused rather than silently dropping one. */
static int decode_notify(struct config *cfg, struct lw_err *err)
{
    const struct yamldoc_node *ti = cfg->time_intervals;
    if (ti && cfg->mute_time_intervals)
        return yamldoc_error(err, cfg->doc, cfg->mute_time_intervals,
                             "give time intervals under 'time_intervals' only (not also under "
                             "'mute_time_intervals')");
    if (ti == NULL)
        ti = cfg->mute_time_intervals;
    return notify_config_decode(cfg->doc, cfg->route, cfg->receivers, cfg->inhibit_rules, ti,
                                cfg->dir, &cfg->notify, err);
}

static char *dir_of(const char *filename)
{
    const char *slash = filename ? strrchr(filename, '/') : NULL;
    if (slash == NULL)
        return strdup(".");
    if (slash == filename)
        return strdup("/");
    return strndup(filename, (size_t)(slash - filename));
}

int config_parse_buf(const char *buf, size_t len, const char *filename,
                     const struct config_options *opts, struct config **out, struct lw_err *err)
{
    struct config *cfg = calloc(1, sizeof *cfg);
    if (cfg == NULL)
        return lw_err_set(err, 0, 0, "out of memory");
    defaults(cfg);
    cfg->filename = strdup(filename ? filename : "");
    cfg->dir = dir_of(filename);
    if (cfg->filename == NULL || cfg->dir == NULL) {
        config_free(cfg);
        return lw_err_set(err, 0, 0, "out of memory");
    }
    if (yamldoc_parse(buf, len, filename, &cfg->doc, err) != 0 ||
        yamldoc_interpolate(cfg->doc, opts ? opts->env : NULL, opts ? opts->env_ctx : NULL, err) !=
            0) {
        config_free(cfg);
        return -1;
    }
    struct dec c = {.d = cfg->doc, .dir = cfg->dir, .err = err};
    if (cfg->doc->root && cfg->doc->root->kind != YAMLDOC_MAP && !yamldoc_is_null(cfg->doc->root)) {
        yamldoc_error(err, cfg->doc, cfg->doc->root,
                      "the config must be a mapping (global, aws, pipelines, ...)");
        config_free(cfg);
        return -1;
    }
    if (decode_root(&c, cfg->doc->root, cfg) != 0 || decode_notify(cfg, err) != 0) {
        if (filename && err && err->file[0] == '\0')
            lw_err_set_file(err, filename);
        config_free(cfg);
        return -1;
    }
    *out = cfg;
    return 0;
}

int config_load_file(const char *path, const struct config_options *opts, struct config **out,
                     struct lw_err *err)
{
    char why[128];
    size_t len = 0;
    char *text = read_small_file(path, LW_MAX_FILE_BYTES, &len, why, sizeof why);
    if (text == NULL) {
        lw_err_set(err, 0, 0, "cannot read config: %s", why);
        lw_err_set_file(err, path);
        return -1;
    }
    int rc = config_parse_buf(text, len, path, opts, out, err);
    /* The text may hold ${VAR}-free secrets written inline. */
    OPENSSL_cleanse(text, len);
    free(text);
    return rc;
}

static void wipe_scalars(struct yamldoc_node *n)
{
    if (n == NULL)
        return;
    if (n->scalar)
        OPENSSL_cleanse(n->scalar, n->scalar_len);
    for (size_t i = 0; i < n->n; i++)
        wipe_scalars(n->items[i]);
}

void config_free(struct config *cfg)
{
    if (cfg == NULL)
        return;
    notify_config_cleanup(&cfg->notify);
    free(cfg->filename);
    free(cfg->dir);
    free(cfg->global.state_dir);
    free(cfg->global.listen);
    free(cfg->global.external_url);
    lw_labels_cleanup(&cfg->global.external_labels);
    free(cfg->aws.region);
    free(cfg->aws.profile);
    free(cfg->aws.endpoint_cloudwatch);
    free(cfg->aws.endpoint_rds);
    free(cfg->aws.endpoint_sts);
    config_secret_free(cfg->aws.access_key_id);
    config_secret_free(cfg->aws.secret_access_key);
    config_secret_free(cfg->aws.session_token);
    for (size_t i = 0; i < cfg->n_pipelines; i++)
        pipeline_cleanup(&cfg->pipelines[i]);
    free(cfg->pipelines);
    for (size_t i = 0; i < cfg->n_prometheus_sources; i++)
        prometheus_source_cleanup(&cfg->prometheus_sources[i]);
    free(cfg->prometheus_sources);
    string_list_free(cfg->rule_files, cfg->n_rule_files);
    for (size_t i = 0; i < cfg->n_rule_options; i++)
        free(cfg->rule_options[i].alert);
    free(cfg->rule_options);
    if (cfg->doc) {
        /* Inline secrets of the receivers live in the document's scalars: wipe them all. */
        wipe_scalars(cfg->doc->root);
        yamldoc_free(cfg->doc);
    }
    free(cfg);
}

const struct config_pipeline *config_pipeline_find(const struct config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->n_pipelines; i++)
        if (cfg->pipelines[i].name && strcmp(cfg->pipelines[i].name, name) == 0)
            return &cfg->pipelines[i];
    return NULL;
}

const struct config_rule_option *config_rule_option_find(const struct config *cfg,
                                                         const char *alert)
{
    for (size_t i = 0; i < cfg->n_rule_options; i++)
        if (strcmp(cfg->rule_options[i].alert, alert) == 0)
            return &cfg->rule_options[i];
    return NULL;
}

static int path_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void config_paths_free(char **paths)
{
    if (paths == NULL)
        return;
    for (char **p = paths; *p; p++)
        free(*p);
    free(paths);
}

int config_rule_paths(const struct config *cfg, char ***out, size_t *n_out, struct lw_err *err)
{
    char **paths = NULL;
    size_t n = 0, cap = 0;
    for (size_t i = 0; i < cfg->n_rule_files; i++) {
        char *pattern = join_path(cfg->dir, cfg->rule_files[i]);
        if (pattern == NULL)
            goto oom;
        glob_t g;
        int rc = glob(pattern, 0, NULL, &g);
        free(pattern);
        if (rc == GLOB_NOMATCH)
            continue;
        if (rc != 0) {
            if (rc != GLOB_NOSPACE && rc != GLOB_ABORTED)
                globfree(&g);
            config_paths_free(paths);
            lw_err_set(err, 0, 0, "rule_files '%s': cannot expand (%s)", cfg->rule_files[i],
                       rc == GLOB_ABORTED ? "read error" : "out of memory");
            lw_err_set_file(err, cfg->filename);
            return -1;
        }
        for (size_t j = 0; j < g.gl_pathc; j++) {
            if (n + 2 > cap) {
                size_t ncap = cap ? cap * 2 : 16;
                char **p = realloc(paths, ncap * sizeof *p);
                if (p == NULL) {
                    globfree(&g);
                    goto oom;
                }
                paths = p;
                cap = ncap;
            }
            if ((paths[n] = strdup(g.gl_pathv[j])) == NULL) {
                globfree(&g);
                goto oom;
            }
            paths[++n] = NULL;
        }
        globfree(&g);
    }
    if (paths == NULL && (paths = calloc(1, sizeof *paths)) == NULL)
        goto oom;
    qsort(paths, n, sizeof *paths, path_cmp);
    size_t w = 0;
    for (size_t r = 0; r < n; r++) {
        if (w > 0 && strcmp(paths[w - 1], paths[r]) == 0)
            free(paths[r]);
        else
            paths[w++] = paths[r];
    }
    paths[w] = NULL;
    *out = paths;
    *n_out = w;
    return 0;
oom:
    config_paths_free(paths);
    return lw_err_set(err, 0, 0, "out of memory");
}

void config_creds(const struct config *cfg, struct creds_config *out)
{
    memset(out, 0, sizeof *out);
    out->access_key_id = cfg->aws.access_key_id;
    out->secret_access_key = cfg->aws.secret_access_key;
    out->session_token = cfg->aws.session_token;
    out->profile = cfg->aws.profile;
    out->region = cfg->aws.region;
    out->sts_endpoint = cfg->aws.endpoint_sts;
}
