/*
 * config.h — lagwatch's configuration file: one YAML document in the shape DESIGN.md's "Config
 * file" section fixes (global, aws, pipelines, prometheus_sources, rule_files, rule_options,
 * suppression, and Alertmanager's route / receivers / inhibit_rules / time_intervals). Parsing
 * fills every default, interpolates `${VAR}` / `${VAR:-default}` in values, reads `*_file`
 * secrets at load (wiped with OPENSSL_cleanse on free), and reports every error as
 * file:line:col with "did you mean" for mistyped keys.
 *
 * The notification sections (route, receivers, inhibit_rules, time_intervals,
 * mute_time_intervals, silences) are kept as yamldoc subtrees and decoded by the notify module
 * (notify_config_decode) into cfg->notify during config_parse_buf, so a config that loads is a
 * config whose routes, receivers, inhibit rules and time intervals are valid too.
 */
#ifndef LAGWATCH_CONFIG_H
#define LAGWATCH_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lagwatch/buf.h"
#include "lagwatch/error.h"
#include "lagwatch/labels.h"
#include "lagwatch/notify_config.h"
#include "lagwatch/yamldoc.h"

#define CONFIG_DEFAULT_SCRAPE_INTERVAL_MS      (15 * 1000)
#define CONFIG_DEFAULT_SCRAPE_TIMEOUT_MS       (10 * 1000)
#define CONFIG_DEFAULT_EVALUATION_INTERVAL_MS  (30 * 1000)
#define CONFIG_DEFAULT_NOTIFICATION_MAX_AGE_MS (24LL * 60 * 60 * 1000)
#define CONFIG_DEFAULT_STATE_DIR               "/var/lib/lagwatch"
#define CONFIG_DEFAULT_LISTEN                  "127.0.0.1:9741"
#define CONFIG_DEFAULT_AURORA_INTERVAL_MS      (60 * 1000)
#define CONFIG_DEFAULT_AURORA_PERIOD_MS        (60 * 1000)
#define CONFIG_DEFAULT_FAILOVER_HOLD_MS        (10 * 60 * 1000)

/* What a rule does when its expression returns nothing (CloudWatch's TreatMissingData). */
enum config_no_data { CONFIG_NO_DATA_KEEP_STATE, CONFIG_NO_DATA_OK, CONFIG_NO_DATA_ALERTING };

struct config_global {
    int64_t scrape_interval_ms, scrape_timeout_ms, evaluation_interval_ms;
    char *state_dir;
    char *listen;       /* host:port of the HTTP endpoint */
    char *external_url; /* NULL: derived from listen */
    struct lw_labels external_labels;
    /* how long an undeliverable notification is retried before it is dropped loudly */
    int64_t notification_max_age_ms;
};

struct config_aws {
    char *region;  /* NULL: AWS_REGION, AWS_DEFAULT_REGION, profile, IMDS */
    char *profile; /* NULL: default chain */
    char *endpoint_cloudwatch, *endpoint_rds, *endpoint_sts; /* NULL: AWS_ENDPOINT_URL_* */
    /* Explicit keys (secrets: `key` or `key_file`, wiped on free); both or neither. They
     * override the chain, as profile does. NULL: the chain. */
    char *access_key_id, *secret_access_key, *session_token;
};

struct config_aurora {
    char *cluster; /* DBClusterIdentifier */
    char *region;  /* NULL: aws.region */
    int64_t interval_ms, period_ms;
    char **metrics; /* CloudWatch metric names */
    size_t n_metrics;
    bool failover_detection;
};

struct config_debezium {
    char **exporters; /* JMX exporter URLs (one or more) */
    size_t n_exporters;
    char *server; /* the connector's topic.prefix */
    char *keep;   /* NULL: SOURCE_EXPORTER_DEFAULT_KEEP */
    /* Per-scrape limits with Prometheus's scrape_config names; 0: lagwatch's default
     * (limits.h). Exceeding one fails the scrape with an error naming it. Pipelines that share
     * an exporter URL must agree on them. */
    uint64_t body_size_limit; /* bytes of the page after decompression */
    uint64_t sample_limit, label_limit, label_name_length_limit, label_value_length_limit;
};

struct config_kafka_connect {
    char *url;
    char *connector;
};

struct config_pipeline {
    char *name;
    struct lw_labels labels;
    struct config_aurora *aurora;               /* NULL: no Aurora source */
    struct config_debezium *debezium;           /* NULL: no Debezium source */
    struct config_kafka_connect *kafka_connect; /* NULL: no Kafka Connect source */
    int line;                                   /* where it is defined, for later errors */
};

struct config_prometheus_source {
    char *name;
    char *url;
    char **queries;
    size_t n_queries;
    char *pipeline;       /* NULL: series carry no pipeline label */
    int64_t interval_ms;  /* default global.scrape_interval */
    char *bearer_token;   /* secret (bearer_token or bearer_token_file); NULL: none */
    char *basic_username; /* NULL: no basic auth */
    char *basic_password; /* secret (password or password_file) */
};

struct config_rule_option {
    char *alert;
    enum config_no_data no_data;
};

struct config {
    char *filename; /* as loaded ("" for a buffer without name) */
    char *dir;      /* directory of filename: base for relative rule_files and *_file paths */
    struct config_global global;
    struct config_aws aws;
    struct config_pipeline *pipelines;
    size_t n_pipelines;
    struct config_prometheus_source *prometheus_sources;
    size_t n_prometheus_sources;
    char **rule_files; /* globs as written (relative ones resolve against dir) */
    size_t n_rule_files;
    struct config_rule_option *rule_options;
    size_t n_rule_options;
    bool failover_hold_enabled;
    int64_t failover_hold_ms;
    /* Alertmanager-format sections, decoded by the notify module; NULL when absent. */
    const struct yamldoc_node *route, *receivers, *inhibit_rules, *time_intervals,
        *mute_time_intervals, *silences;
    struct notify_config notify; /* those sections decoded (notify_config.h); empty if absent */
    struct yamldoc *doc;         /* owns the subtrees above */
};

/* Environment for ${VAR} interpolation (NULL: getenv), and how to read *_file secrets. */
struct config_options {
    yamldoc_env_fn env;
    void *env_ctx;
};

/*
 * Parse buf[0..len) (a config file's text; filename may be NULL) into *out. opts may be NULL.
 * Every default is filled in; *_file secrets are read now (relative to filename's directory).
 * Returns 0 and a config to free with config_free, or -1 with err (file:line:col, what was
 * expected) and *out untouched.
 */
LW_MUST_CHECK int config_parse_buf(const char *buf, size_t len, const char *filename,
                                   const struct config_options *opts, struct config **out,
                                   struct lw_err *err);

/* Read path (at most LW_MAX_FILE_BYTES) and config_parse_buf it. */
LW_MUST_CHECK int config_load_file(const char *path, const struct config_options *opts,
                                   struct config **out, struct lw_err *err);

/* The credential settings of cfg's aws section as creds_default_new takes them (pointers
 * into cfg, valid while it lives). */
struct creds_config;
void config_creds(const struct config *cfg, struct creds_config *out);

/* Free a config, wiping every secret; NULL is fine. */
void config_free(struct config *cfg);

/* The pipeline named name, or NULL. */
const struct config_pipeline *config_pipeline_find(const struct config *cfg, const char *name);

/* The rule option for alert name, or NULL (then no_data is keep_state). */
const struct config_rule_option *config_rule_option_find(const struct config *cfg,
                                                         const char *alert);

/*
 * Expand rule_files globs (relative ones against cfg->dir) into sorted, de-duplicated paths.
 * *out is a NULL-terminated heap array (free with config_paths_free). A glob that matches
 * nothing is not an error (Prometheus agrees); a malformed glob is. Returns 0 or -1 with err.
 */
LW_MUST_CHECK int config_rule_paths(const struct config *cfg, char ***out, size_t *n,
                                    struct lw_err *err);
void config_paths_free(char **paths);

/*
 * A secret under map: `key` (a string, interpolated) or `key_file` (a path read now, relative to
 * cfg_dir, trailing newline dropped) — not both. *out is heap (free with config_secret_free) or
 * NULL when neither is set. Returns 0, or -1 with err at the key (unreadable file, both set).
 */
LW_MUST_CHECK int config_secret_read(const struct yamldoc *d, const struct yamldoc_node *map,
                                     const char *key, const char *cfg_dir, char **out,
                                     struct lw_err *err);

/* Wipe (OPENSSL_cleanse) and free a secret; NULL is fine. */
void config_secret_free(char *s);

/* True for map keys whose values are secrets (api_url, routing_key, password, url of a
 * receiver...): what --print and logs never show. */
bool config_key_is_secret(const char *key, void *ctx);

/* Render the effective config (defaults filled in, secrets as "<secret>") as YAML into out.
 * Returns 0, or -1 when out is full. */
LW_MUST_CHECK int config_print(const struct config *cfg, struct lw_buf *out);

#endif
