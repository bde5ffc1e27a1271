/*
 * receivers.h — receiver configs in Alertmanager's shapes (slack_configs, pagerduty_configs,
 * webhook_configs) plus lagwatch's alertmanager_configs. Secrets (Slack webhook URLs, routing
 * keys, bearer tokens, passwords) live only in these structs and are wiped on cleanup.
 */
#ifndef LAGWATCH_RECEIVERS_H
#define LAGWATCH_RECEIVERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tmpl; /* template.h */

struct slack_config {
    char *api_url; /* secret */
    char *channel, *username;
    bool send_resolved;
    int64_t min_interval_ms; /* rate limit: at least this long between two messages (1s) */
    /* Templates (notify_template.h) as written and parsed; NULL: the default message. */
    char *title, *text;
    struct tmpl *title_tmpl, *text_tmpl;
};

struct pagerduty_config {
    char *routing_key; /* secret */
    char *url;         /* default NOTIFY_PAGERDUTY_URL */
    char *client, *client_url;
    bool send_resolved;
    int64_t min_interval_ms; /* rate limit between two events; 0: none */
    /* Templates: the event's payload.summary and custom_details.description; NULL: default. */
    char *summary, *description;
    struct tmpl *summary_tmpl, *description_tmpl;
};

struct webhook_config {
    char *url; /* may embed credentials: treated as secret */
    char *bearer_token;
    char *basic_user, *basic_password;
    size_t max_alerts;
    bool send_resolved;
    int64_t min_interval_ms; /* rate limit between two requests; 0: none */
};

struct alertmanager_config {
    char **urls; /* base URLs of the cluster's members, e.g. http://am-1:9093 */
    size_t n_urls;
};

struct receiver_config {
    char *name;
    struct slack_config *slack;
    size_t n_slack;
    struct pagerduty_config *pagerduty;
    size_t n_pagerduty;
    struct webhook_config *webhook;
    size_t n_webhook;
    struct alertmanager_config *alertmanager;
    size_t n_alertmanager;
};

struct receivers {
    struct receiver_config *v;
    size_t n;
};

void receivers_cleanup(struct receivers *r); /* wipes secrets */
const struct receiver_config *receivers_find(const struct receivers *r, const char *name);

#endif
