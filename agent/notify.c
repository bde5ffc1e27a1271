/*
 * notify.c — from dispatched notifications to HTTP requests (see notify.h). notifier_emit builds
 * the payload of each integration and queues it in the outbox; notifier_pump takes what the
 * outbox says may go now, adds the secrets from the receiver config, submits it on the shared
 * libcurl multi handle and reports the answer back to the outbox. Alertmanager integrations are
 * pushed directly (they are re-sent every minute anyway, as Prometheus does).
 */
#include "lagwatch/notify.h"

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lagwatch/log.h"
#include "lagwatch/notify_payload.h"
#include "lagwatch/notify_template.h"

#define MAX_ROUTES     64
#define ERROR_TEXT_MAX 200

/* Delivery health of one receiver and what the LagwatchNotificationsFailing alert about it was
 * told to (so the resolve goes to the same receivers). */
struct rhealth {
    struct notifier_receiver_health pub;
    char *name;
    bool announce_pending, resolve_pending;
    char **told; /* receivers the firing self-alert was queued for */
    size_t n_told;
};

struct notifier {
    struct http_client *http;
    struct outbox *outbox;
    const struct receivers *receivers;
    char *external_url;
    struct notifier_stats stats;
    int64_t am_last_push_ms;
    uint64_t am_last_set; /* hash of the alerts (and their firing/resolved) pushed last */
    long timeout_ms;
    struct rhealth *health;
    size_t n_health;
};

struct in_flight {
    struct notifier *n;
    struct outbox_item *item;
    char receiver[128], integration[64];
};

static void wipe_free(char *s)
{
    if (s) {
        OPENSSL_cleanse(s, strlen(s));
        free(s);
    }
}

static void spacing_one(struct notifier *n, const char *receiver, const char *kind, size_t k,
                        int64_t ms)
{
    char integ[32];
    snprintf(integ, sizeof(integ), "%s:%zu", kind, k);
    if (outbox_set_spacing(n->outbox, receiver, integ, ms) != 0) /* 0 too: a reload may lift it */
        log_kv(LOG_LEVEL_WARN, "could not set the rate limit", "receiver", receiver, "integration",
               integ, NULL);
}

/* Each integration's min_interval (Slack's default is one message a second) as the outbox's
 * per-endpoint spacing. */
static void set_spacing(struct notifier *n)
{
    for (size_t i = 0; n->receivers && i < n->receivers->n; i++) {
        const struct receiver_config *c = &n->receivers->v[i];
        for (size_t k = 0; k < c->n_slack; k++)
            spacing_one(n, c->name, "slack", k, c->slack[k].min_interval_ms);
        for (size_t k = 0; k < c->n_pagerduty; k++)
            spacing_one(n, c->name, "pagerduty", k, c->pagerduty[k].min_interval_ms);
        for (size_t k = 0; k < c->n_webhook; k++)
            spacing_one(n, c->name, "webhook", k, c->webhook[k].min_interval_ms);
    }
}

struct notifier *notifier_new(struct http_client *http, struct outbox *outbox,
                              const struct receivers *receivers, const char *external_url)
{
    struct notifier *n = calloc(1, sizeof(*n));
    if (!n)
        return NULL;
    n->http = http;
    n->outbox = outbox;
    n->receivers = receivers;
    n->external_url = strdup(external_url ? external_url : "");
    n->am_last_push_ms = INT64_MIN / 2;
    n->timeout_ms = NOTIFY_TIMEOUT_MS;
    if (!n->external_url) {
        free(n);
        return NULL;
    }
    set_spacing(n);
    return n;
}

static void told_clear(struct rhealth *h)
{
    for (size_t i = 0; i < h->n_told; i++)
        free(h->told[i]);
    free(h->told);
    h->told = NULL;
    h->n_told = 0;
}

void notifier_free(struct notifier *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->n_health; i++) {
        free(n->health[i].name);
        told_clear(&n->health[i]);
    }
    free(n->health);
    free(n->external_url);
    free(n);
}

void notifier_set_timeout_ms(struct notifier *n, long timeout_ms)
{
    n->timeout_ms = timeout_ms > 0 ? timeout_ms : NOTIFY_TIMEOUT_MS;
}

void notifier_set_receivers(struct notifier *n, const struct receivers *receivers)
{
    n->receivers = receivers;
    set_spacing(n);
}

const struct notifier_stats *notifier_stats(const struct notifier *n)
{
    return &n->stats;
}

static int queue(struct notifier *n, const struct dispatch_notification *dn, const char *integ,
                 char *body)
{
    struct lw_err err = {0};
    if (!body) {
        log_kv(LOG_LEVEL_ERROR, "could not build notification", "receiver", dn->receiver,
               "integration", integ, NULL);
        return -1;
    }
    int rc = outbox_enqueue(n->outbox, dn->receiver, integ, dn->group_key, body, dn->n_firing == 0,
                            dn->now_ms, &err);
    free(body);
    if (rc != 0)
        log_kv(LOG_LEVEL_ERROR, "could not queue notification", "receiver", dn->receiver,
               "integration", integ, "error", err.msg, NULL);
    return rc;
}

/* Render receiver template t (NULL: none) over dn's template data, built on first use into
 * *data. Returns the text (caller frees) or NULL when there is no template or it failed: a
 * failure is logged and the receiver gets the default text instead, because a message with the
 * default wording is better than no message. */
static char *render(const struct notifier *n, const struct dispatch_notification *dn,
                    const struct tmpl *t, struct tmpl_value **data, const char *integ,
                    const char *what)
{
    if (!t)
        return NULL;
    if (!*data && !(*data = notify_template_data(dn, n->external_url)))
        return NULL;
    char *out = NULL;
    struct lw_err err = {0};
    if (notify_template_render(t, *data, n->external_url, &out, &err) != 0)
        log_kv(LOG_LEVEL_ERROR, "receiver template failed, default text used", "receiver",
               dn->receiver, "integration", integ, "template", what, "error", err.msg, NULL);
    return out;
}

int notifier_emit(void *ud, const struct dispatch_notification *dn)
{
    struct notifier *n = ud;
    const struct receiver_config *c = receivers_find(n->receivers, dn->receiver);
    if (!c) {
        log_kv(LOG_LEVEL_ERROR, "notification for an unknown receiver dropped", "receiver",
               dn->receiver, NULL);
        n->stats.dropped++;
        return 0;
    }
    bool resolved_only = dn->n_firing == 0;
    int rc = 0;
    char integ[32];
    struct tmpl_value *data = NULL;
    for (size_t k = 0; k < c->n_slack; k++) {
        if (resolved_only && !c->slack[k].send_resolved)
            continue;
        snprintf(integ, sizeof(integ), "slack:%zu", k);
        char *title = render(n, dn, c->slack[k].title_tmpl, &data, integ, "title");
        char *text = render(n, dn, c->slack[k].text_tmpl, &data, integ, "text");
        struct slack_opts o = {.channel = c->slack[k].channel,
                               .username = c->slack[k].username,
                               .external_url = n->external_url,
                               .title = title,
                               .text = text};
        rc |= queue(n, dn, integ, notify_slack(dn, &o));
        free(title);
        free(text);
    }
    for (size_t k = 0; k < c->n_pagerduty; k++) {
        if (resolved_only && !c->pagerduty[k].send_resolved)
            continue;
        snprintf(integ, sizeof(integ), "pagerduty:%zu", k);
        char *summary = render(n, dn, c->pagerduty[k].summary_tmpl, &data, integ, "summary");
        char *desc = render(n, dn, c->pagerduty[k].description_tmpl, &data, integ, "description");
        /* the routing key is added at send time: the outbox on disk holds no secret */
        struct pagerduty_opts o = {.routing_key = NULL,
                                   .client = c->pagerduty[k].client,
                                   .client_url = c->pagerduty[k].client_url,
                                   .external_url = n->external_url,
                                   .summary = summary,
                                   .description = desc};
        rc |= queue(n, dn, integ, notify_pagerduty_v2(dn, &o));
        free(summary);
        free(desc);
    }
    tmpl_value_unref(data);
    for (size_t k = 0; k < c->n_webhook; k++) {
        if (resolved_only && !c->webhook[k].send_resolved)
            continue;
        snprintf(integ, sizeof(integ), "webhook:%zu", k);
        rc |= queue(n, dn, integ, notify_webhook_v4(dn, n->external_url, c->webhook[k].max_alerts));
    }
    return rc ? -1 : 0;
}

/* Retry-After: delay-seconds or an HTTP date; -1 when absent or unreadable. */
static int64_t retry_after_ms(const struct http_response *r, int64_t now_ms)
{
    const char *v = http_response_header(r, "Retry-After");
    if (!v)
        return -1;
    char *end = NULL;
    long long secs = strtoll(v, &end, 10);
    if (end != v && *end == '\0' && secs >= 0)
        return secs * 1000;
    time_t t = curl_getdate(v, NULL);
    if (t < 0)
        return -1;
    int64_t d = (int64_t)t * 1000 - now_ms;
    return d > 0 ? d : 0;
}

/* First line of a receiver's answer, bounded, for logs ("invalid_payload", PagerDuty JSON). */
static void error_text(const struct http_response *r, char *out, size_t outlen)
{
    if (r->status == 0) {
        snprintf(out, outlen, "%s", r->error ? r->error : "transport error");
        return;
    }
    size_t n = 0;
    while (n < r->body_len && n + 1 < outlen && n < ERROR_TEXT_MAX && r->body[n] != '\n' &&
           r->body[n] != '\r')
        n++;
    snprintf(out, outlen, "HTTP %d%s%.*s", r->status, n ? ": " : "", (int)n, r->body);
}

static struct rhealth *health_get(struct notifier *n, const char *receiver)
{
    for (size_t i = 0; i < n->n_health; i++)
        if (strcmp(n->health[i].name, receiver) == 0)
            return &n->health[i];
    struct rhealth *v = realloc(n->health, (n->n_health + 1) * sizeof(*v));
    if (!v)
        return NULL;
    n->health = v;
    struct rhealth *h = &v[n->n_health];
    memset(h, 0, sizeof(*h));
    h->name = strdup(receiver);
    if (!h->name)
        return NULL;
    n->n_health++;
    /* pub.receiver points into the array, so refresh every entry after the realloc */
    for (size_t i = 0; i < n->n_health; i++)
        v[i].pub.receiver = v[i].name;
    return h;
}

static bool receiver_failing(const struct notifier *n, const char *receiver)
{
    for (size_t i = 0; i < n->n_health; i++)
        if (strcmp(n->health[i].name, receiver) == 0)
            return n->health[i].pub.failing;
    return false;
}

/* A notification to receiver was dropped for good (refused, or older than max_age). */
static void record_drop(struct notifier *n, const char *receiver, const char *integration,
                        const char *why, int64_t now_ms)
{
    struct rhealth *h = health_get(n, receiver);
    if (!h)
        return;
    h->pub.drops++;
    h->pub.last_drop_ms = now_ms;
    snprintf(h->pub.last_error, sizeof(h->pub.last_error), "%s: %s", integration, why);
    if (!h->pub.failing) {
        h->pub.failing = true;
        h->pub.failing_since_ms = now_ms;
        h->announce_pending = true;
        h->resolve_pending = false;
    }
}

static void record_delivered(struct notifier *n, const char *receiver, int64_t now_ms)
{
    struct rhealth *h = health_get(n, receiver);
    if (!h)
        return;
    h->pub.last_ok_ms = now_ms;
    if (h->pub.failing) {
        h->pub.failing = false;
        if (h->announce_pending)
            h->announce_pending = false; /* never told anyone: nothing to resolve */
        else
            h->resolve_pending = h->n_told > 0;
    }
}

/* Queue the self-alert about h (firing, or resolved) for receiver target. */
static int emit_failing(struct notifier *n, const struct rhealth *h, const char *target,
                        bool firing, int64_t now_ms)
{
    struct dispatch_alert a = {.starts_at_ms = h->pub.failing_since_ms,
                               .ends_at_ms = firing ? 0 : now_ms};
    struct lw_labels gl;
    lw_labels_init(&a.labels);
    lw_labels_init(&a.annotations);
    lw_labels_init(&gl);
    char summary[256], desc[LW_ERR_MSG_MAX + 256], drops[32];
    snprintf(summary, sizeof(summary), "Notifications to receiver %s are failing", h->name);
    snprintf(drops, sizeof(drops), "%llu", (unsigned long long)h->pub.drops);
    snprintf(desc, sizeof(desc),
             "lagwatch dropped %s notification(s) for receiver %s that could not be delivered; "
             "the last error was %s. Alerts routed only to %s may not reach anyone.",
             drops, h->name, h->pub.last_error, h->name);
    int rc = -1;
    if (lw_labels_set(&a.labels, "alertname", NOTIFY_FAILING_ALERT) != 0 ||
        lw_labels_set(&a.labels, "receiver", h->name) != 0 ||
        lw_labels_set(&a.labels, "severity", "critical") != 0 ||
        lw_labels_set(&a.annotations, "summary", summary) != 0 ||
        lw_labels_set(&a.annotations, "description", desc) != 0 ||
        lw_labels_set(&gl, "alertname", NOTIFY_FAILING_ALERT) != 0 ||
        lw_labels_set(&gl, "receiver", h->name) != 0)
        goto out;
    a.fingerprint = lw_labels_fingerprint(&a.labels);
    struct lw_buf key;
    lw_buf_init(&key, 4096);
    lw_buf_addf(&key, "{}/lagwatch:{alertname=\"%s\", receiver=\"%s\"}", NOTIFY_FAILING_ALERT,
                h->name);
    if (lw_buf_failed(&key) || !key.data) {
        lw_buf_cleanup(&key);
        goto out;
    }
    const struct dispatch_alert *list[] = {&a};
    struct dispatch_notification dn = {.receiver = target,
                                       .group_key = key.data,
                                       .group_key_hash = 0,
                                       .group_labels = &gl,
                                       .alerts = list,
                                       .n_alerts = 1,
                                       .n_firing = firing ? 1 : 0,
                                       .now_ms = now_ms};
    rc = notifier_emit(n, &dn);
    lw_buf_cleanup(&key);
out:
    lw_labels_cleanup(&a.labels);
    lw_labels_cleanup(&a.annotations);
    lw_labels_cleanup(&gl);
    return rc;
}

/* Send what record_drop/record_delivered decided: the firing self-alert to every other receiver
 * that still works (not failing itself, and with something to send to), the resolve to those
 * that were told. Run outside outbox iteration (it enqueues). */
static void announce(struct notifier *n, int64_t now_ms)
{
    for (size_t i = 0; i < n->n_health; i++) {
        struct rhealth *h = &n->health[i];
        if (h->announce_pending) {
            h->announce_pending = false;
            told_clear(h);
            size_t told = 0;
            for (size_t r = 0; n->receivers && r < n->receivers->n; r++) {
                const struct receiver_config *c = &n->receivers->v[r];
                if (strcmp(c->name, h->name) == 0 || receiver_failing(n, c->name) ||
                    c->n_slack + c->n_pagerduty + c->n_webhook == 0)
                    continue;
                char **v = realloc(h->told, (h->n_told + 1) * sizeof(*v));
                if (!v)
                    break;
                h->told = v;
                if (!(h->told[h->n_told] = strdup(c->name)))
                    break;
                h->n_told++;
                if (emit_failing(n, h, c->name, true, now_ms) == 0)
                    told++;
            }
            log_kv(LOG_LEVEL_ERROR,
                   told ? "notifications failing, " NOTIFY_FAILING_ALERT " sent to other receivers"
                        : "notifications failing and no other receiver works to say so",
                   "receiver", h->name, "error", h->pub.last_error, NULL);
        }
        if (h->resolve_pending) {
            h->resolve_pending = false;
            for (size_t t = 0; t < h->n_told; t++)
                (void)emit_failing(n, h, h->told[t], false, now_ms);
            told_clear(h);
            log_kv(LOG_LEVEL_INFO, "notifications delivered again", "receiver", h->name, NULL);
        }
    }
}

size_t notifier_health_count(const struct notifier *n)
{
    return n->n_health;
}

const struct notifier_receiver_health *notifier_health_at(const struct notifier *n, size_t i)
{
    return i < n->n_health ? &n->health[i].pub : NULL;
}

struct expire_ctx {
    struct notifier *n;
    int64_t now_ms;
};

static void on_expired(void *ud, const struct outbox_item *it)
{
    struct expire_ctx *x = ud;
    char age[32], why[ERROR_TEXT_MAX + 96];
    snprintf(age, sizeof(age), "%llds", (long long)((x->now_ms - it->created_ms) / 1000));
    snprintf(why, sizeof(why), "undelivered after %s (last error: %s)", age,
             it->last_error ? it->last_error : "none");
    x->n->stats.dropped++;
    char att[16];
    snprintf(att, sizeof(att), "%d", it->attempts);
    log_kv(LOG_LEVEL_ERROR, "notification dropped: older than max_age", "receiver", it->receiver,
           "integration", it->integration, "age", age, "attempts", att, "last_error",
           it->last_error ? it->last_error : "", NULL);
    record_drop(x->n, it->receiver, it->integration, why, x->now_ms);
}

size_t notifier_expire(struct notifier *n, int64_t now_ms)
{
    struct expire_ctx x = {n, now_ms};
    size_t dropped = outbox_expire(n->outbox, now_ms, on_expired, &x);
    announce(n, now_ms);
    return dropped;
}

static void on_done(void *ud, const struct http_response *r)
{
    struct in_flight *f = ud;
    struct notifier *n = f->n;
    int64_t now = (int64_t)time(NULL) * 1000;
    char why[ERROR_TEXT_MAX + 64];
    error_text(r, why, sizeof(why));
    int attempts = f->item->attempts;
    enum outbox_outcome o =
        outbox_result(n->outbox, f->item, r->status, retry_after_ms(r, now), why, now);
    char att[16];
    snprintf(att, sizeof(att), "%d", attempts);
    switch (o) {
    case OUTBOX_DELIVERED:
        n->stats.sent++;
        log_kv(LOG_LEVEL_INFO, "notification delivered", "receiver", f->receiver, "integration",
               f->integration, "attempts", att, NULL);
        record_delivered(n, f->receiver, now);
        break;
    case OUTBOX_RETRY:
        n->stats.retried++;
        log_kv(LOG_LEVEL_WARN, "notification failed, will retry", "receiver", f->receiver,
               "integration", f->integration, "attempts", att, "error", why, NULL);
        break;
    case OUTBOX_DROPPED:
        n->stats.failed++;
        log_kv(LOG_LEVEL_ERROR, "notification refused by receiver, not retried", "receiver",
               f->receiver, "integration", f->integration, "error", why, NULL);
        record_drop(n, f->receiver, f->integration, why, now);
        break;
    }
    free(f);
    announce(n, now);
}

/* Build the request of an outbox item; returns 0 and fills req/headers/body, or -1 when the
 * receiver or integration no longer exists. */
struct prepared {
    const char *url;
    struct http_header headers[3];
    size_t n_headers;
    char *body; /* owned when patched */
    char auth[1024];
};

static int prepare(const struct receiver_config *c, const struct outbox_item *it,
                   struct prepared *p)
{
    const char *colon = strchr(it->integration, ':');
    if (!colon)
        return -1;
    size_t kind_len = (size_t)(colon - it->integration);
    size_t idx = (size_t)strtoul(colon + 1, NULL, 10);
    memset(p, 0, sizeof(*p));
    p->headers[p->n_headers++] = (struct http_header){"Content-Type", "application/json"};
    if (kind_len == 5 && strncmp(it->integration, "slack", 5) == 0 && idx < c->n_slack) {
        p->url = c->slack[idx].api_url;
        return 0;
    }
    if (kind_len == 9 && strncmp(it->integration, "pagerduty", 9) == 0 && idx < c->n_pagerduty) {
        const struct pagerduty_config *pd = &c->pagerduty[idx];
        p->url = pd->url ? pd->url : NOTIFY_PAGERDUTY_URL;
        json_t *doc = json_loads(it->body, 0, NULL);
        if (!doc)
            return -1;
        json_object_set_new(doc, "routing_key",
                            json_string(pd->routing_key ? pd->routing_key : ""));
        p->body = json_dumps(doc, JSON_COMPACT);
        json_decref(doc);
        return p->body ? 0 : -1;
    }
    if (kind_len == 7 && strncmp(it->integration, "webhook", 7) == 0 && idx < c->n_webhook) {
        const struct webhook_config *w = &c->webhook[idx];
        p->url = w->url;
        if (w->bearer_token) {
            snprintf(p->auth, sizeof(p->auth), "Bearer %s", w->bearer_token);
            p->headers[p->n_headers++] = (struct http_header){"Authorization", p->auth};
        } else if (w->basic_user) {
            char raw[768];
            int len = snprintf(raw, sizeof(raw), "%s:%s", w->basic_user,
                               w->basic_password ? w->basic_password : "");
            unsigned char b64[1100];
            int out = EVP_EncodeBlock(b64, (const unsigned char *)raw, len);
            OPENSSL_cleanse(raw, sizeof(raw));
            snprintf(p->auth, sizeof(p->auth), "Basic %.*s", out, (const char *)b64);
            OPENSSL_cleanse(b64, sizeof(b64));
            p->headers[p->n_headers++] = (struct http_header){"Authorization", p->auth};
        }
        return 0;
    }
    return -1;
}

static void prepared_cleanup(struct prepared *p)
{
    wipe_free(p->body);
    OPENSSL_cleanse(p->auth, sizeof(p->auth));
}

void notifier_pump(struct notifier *n, int64_t now_ms)
{
    struct outbox_item *it;
    while ((it = outbox_next(n->outbox, now_ms)) != NULL) {
        const struct receiver_config *c = receivers_find(n->receivers, it->receiver);
        struct prepared p;
        if (!c || prepare(c, it, &p) != 0) {
            log_kv(LOG_LEVEL_ERROR, "queued notification has no configured integration, dropped",
                   "receiver", it->receiver, "integration", it->integration, NULL);
            n->stats.dropped++;
            outbox_result(n->outbox, it, 410, -1, "integration not configured", now_ms);
            continue;
        }
        struct in_flight *f = calloc(1, sizeof(*f));
        struct lw_err err = {0};
        const char *body = p.body ? p.body : it->body;
        struct http_request req = {.method = "POST",
                                   .url = p.url,
                                   .headers = p.headers,
                                   .n_headers = p.n_headers,
                                   .body = body,
                                   .body_len = strlen(body),
                                   .timeout_ms = n->timeout_ms};
        if (!f || !p.url) {
            free(f);
            prepared_cleanup(&p);
            outbox_result(n->outbox, it, 0, -1, "out of memory or no URL", now_ms);
            continue;
        }
        f->n = n;
        f->item = it;
        snprintf(f->receiver, sizeof(f->receiver), "%s", it->receiver);
        snprintf(f->integration, sizeof(f->integration), "%s", it->integration);
        if (http_submit(n->http, &req, on_done, f, &err) != 0) {
            log_kv(LOG_LEVEL_ERROR, "could not start notification request", "receiver",
                   it->receiver, "error", err.msg, NULL);
            outbox_result(n->outbox, it, 0, -1, err.msg, now_ms);
            free(f);
        }
        prepared_cleanup(&p);
    }
}

static void on_am_done(void *ud, const struct http_response *r)
{
    struct notifier *n = ud;
    if (r->status >= 200 && r->status < 300) {
        n->stats.sent++;
        return;
    }
    char why[ERROR_TEXT_MAX + 64];
    error_text(r, why, sizeof(why));
    n->stats.failed++;
    log_kv(LOG_LEVEL_WARN, "push to Alertmanager failed (re-sent next minute)", "error", why, NULL);
}

void notifier_push_alertmanager(struct notifier *n, const struct route *root,
                                const struct dispatch_alert *const *alerts, size_t n_alerts,
                                int64_t now_ms)
{
    /* As Prometheus: a new firing alert or a resolve goes out at once, unchanged alerts are
     * re-sent every NOTIFY_AM_RESEND_MS so Alertmanager keeps them alive. */
    uint64_t set = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n_alerts; i++) {
        bool resolved = alerts[i]->ends_at_ms != 0 && alerts[i]->ends_at_ms <= now_ms;
        uint64_t fp = lw_labels_fingerprint(&alerts[i]->labels) ^ (resolved ? 1u : 0u);
        set = (set ^ fp) * 0x100000001b3ULL;
    }
    if (!root || (set == n->am_last_set && now_ms - n->am_last_push_ms < NOTIFY_AM_RESEND_MS))
        return;
    n->am_last_push_ms = now_ms;
    n->am_last_set = set;
    for (size_t r = 0; n->receivers && r < n->receivers->n; r++) {
        const struct receiver_config *c = &n->receivers->v[r];
        if (c->n_alertmanager == 0)
            continue;
        const struct dispatch_alert **mine = calloc(n_alerts + 1, sizeof(*mine));
        size_t k = 0;
        for (size_t i = 0; mine && i < n_alerts; i++) {
            const struct route *routes[MAX_ROUTES];
            size_t m = route_match(root, &alerts[i]->labels, routes, MAX_ROUTES);
            for (size_t j = 0; j < m && j < MAX_ROUTES; j++)
                if (strcmp(routes[j]->receiver, c->name) == 0) {
                    mine[k++] = alerts[i];
                    break;
                }
        }
        char *body = k ? notify_alertmanager_push(mine, k, now_ms, NOTIFY_AM_ENDS_AFTER_MS) : NULL;
        free(mine);
        if (!body)
            continue;
        for (size_t a = 0; a < c->n_alertmanager; a++) {
            for (size_t u = 0; u < c->alertmanager[a].n_urls; u++) {
                char url[2048];
                const char *base = c->alertmanager[a].urls[u];
                size_t bl = strlen(base);
                snprintf(url, sizeof(url), "%.*s/api/v2/alerts",
                         (int)(bl && base[bl - 1] == '/' ? bl - 1 : bl), base);
                struct http_header h = {"Content-Type", "application/json"};
                struct http_request req = {.method = "POST",
                                           .url = url,
                                           .headers = &h,
                                           .n_headers = 1,
                                           .body = body,
                                           .body_len = strlen(body),
                                           .timeout_ms = n->timeout_ms};
                struct lw_err err = {0};
                if (http_submit(n->http, &req, on_am_done, n, &err) != 0)
                    log_kv(LOG_LEVEL_WARN, "could not push to Alertmanager", "error", err.msg,
                           NULL);
            }
        }
        free(body);
    }
}

/* Build, send and judge one test payload synchronously; 0 on 2xx, else -1 with err (unless err
 * already holds an earlier failure). */
static int send_test_one(struct notifier *n, const struct receiver_config *c,
                         const struct dispatch_notification *dn, size_t i, struct lw_err *err,
                         bool first_failure)
{
    char integ[32];
    char *body;
    struct tmpl_value *data = NULL;
    char *t1 = NULL, *t2 = NULL;
    if (i < c->n_slack) {
        snprintf(integ, sizeof(integ), "slack:%zu", i);
        t1 = render(n, dn, c->slack[i].title_tmpl, &data, integ, "title");
        t2 = render(n, dn, c->slack[i].text_tmpl, &data, integ, "text");
        struct slack_opts o = {.channel = c->slack[i].channel,
                               .username = c->slack[i].username,
                               .external_url = n->external_url,
                               .title = t1,
                               .text = t2};
        body = notify_slack(dn, &o);
    } else if (i < c->n_slack + c->n_pagerduty) {
        size_t k = i - c->n_slack;
        snprintf(integ, sizeof(integ), "pagerduty:%zu", k);
        t1 = render(n, dn, c->pagerduty[k].summary_tmpl, &data, integ, "summary");
        t2 = render(n, dn, c->pagerduty[k].description_tmpl, &data, integ, "description");
        struct pagerduty_opts o = {.client = c->pagerduty[k].client,
                                   .client_url = c->pagerduty[k].client_url,
                                   .external_url = n->external_url,
                                   .summary = t1,
                                   .description = t2};
        body = notify_pagerduty_v2(dn, &o);
    } else {
        size_t k = i - c->n_slack - c->n_pagerduty;
        snprintf(integ, sizeof(integ), "webhook:%zu", k);
        body = notify_webhook_v4(dn, n->external_url, c->webhook[k].max_alerts);
    }
    free(t1);
    free(t2);
    tmpl_value_unref(data);
    const char *what = dn->n_firing ? "test notification" : "test resolve";
    struct outbox_item it = {.receiver = (char *)dn->receiver, .integration = integ, .body = body};
    struct prepared p;
    if (!body || prepare(c, &it, &p) != 0) {
        free(body);
        if (first_failure)
            lw_err_set(err, 0, 0, "%s: could not build the %s", integ, what);
        return -1;
    }
    const char *b = p.body ? p.body : body;
    struct http_request req = {.method = "POST",
                               .url = p.url,
                               .headers = p.headers,
                               .n_headers = p.n_headers,
                               .body = b,
                               .body_len = strlen(b),
                               .timeout_ms = n->timeout_ms};
    struct http_response resp = {0};
    struct lw_err herr = {0};
    int ok = http_fetch_sync(n->http, &req, &resp, &herr);
    char why[LW_ERR_MSG_MAX + 64];
    if (ok == 0)
        error_text(&resp, why, sizeof(why));
    else
        snprintf(why, sizeof(why), "%s", herr.msg);
    bool good = ok == 0 && resp.status >= 200 && resp.status < 300;
    char msg[64];
    snprintf(msg, sizeof(msg), "%s %s", what, good ? "delivered" : "failed");
    log_kv(good ? LOG_LEVEL_INFO : LOG_LEVEL_ERROR, msg, "receiver", dn->receiver, "integration",
           integ, "result", good ? "ok" : why, NULL);
    if (!good && first_failure)
        lw_err_set(err, 0, 0, "%s: %s", integ, why);
    http_response_cleanup(&resp);
    prepared_cleanup(&p);
    free(body);
    return good ? 0 : -1;
}

int notifier_send_test(struct notifier *n, const char *receiver, int64_t now_ms, struct lw_err *err)
{
    const struct receiver_config *c = receivers_find(n->receivers, receiver);
    if (!c)
        return lw_err_set(err, 0, 0, "no receiver named '%s'", receiver);
    struct dispatch_alert a = {.starts_at_ms = now_ms};
    lw_labels_init(&a.labels);
    lw_labels_init(&a.annotations);
    struct lw_labels gl;
    lw_labels_init(&gl);
    int rc = -1;
    if (lw_labels_set(&a.labels, "alertname", "LagwatchTestNotification") != 0 ||
        lw_labels_set(&a.labels, "severity", "info") != 0 ||
        lw_labels_set(&a.annotations, "summary",
                      "Test notification from lagwatch: delivery works, no action needed") != 0 ||
        lw_labels_set(&gl, "alertname", "LagwatchTestNotification") != 0) {
        lw_err_set(err, 0, 0, "out of memory");
        goto out;
    }
    a.fingerprint = lw_labels_fingerprint(&a.labels);
    const struct dispatch_alert *list[] = {&a};
    char key[256];
    snprintf(key, sizeof(key), "{}:{alertname=\"LagwatchTestNotification\", test=\"%lld\"}",
             (long long)now_ms);
    struct dispatch_notification dn = {.receiver = receiver,
                                       .group_key = key,
                                       .group_labels = &gl,
                                       .alerts = list,
                                       .n_alerts = 1,
                                       .n_firing = 1,
                                       .now_ms = now_ms};
    size_t total = c->n_slack + c->n_pagerduty + c->n_webhook;
    if (total == 0) {
        lw_err_set(err, 0, 0, "receiver '%s' has no Slack, PagerDuty or webhook integration",
                   receiver);
        goto out;
    }
    rc = 0;
    for (size_t i = 0; i < total; i++) {
        bool is_pd = i >= c->n_slack && i < c->n_slack + c->n_pagerduty;
        if (send_test_one(n, c, &dn, i, err, rc == 0) != 0) {
            rc = -1;
            continue;
        }
        if (!is_pd)
            continue;
        /* A PagerDuty trigger opens an incident that pages someone: resolve it at once under
         * the same dedup_key so the test leaves nothing open. */
        struct dispatch_alert r = a;
        r.ends_at_ms = now_ms;
        const struct dispatch_alert *rlist[] = {&r};
        struct dispatch_notification rdn = dn;
        rdn.alerts = rlist;
        rdn.n_firing = 0;
        if (send_test_one(n, c, &rdn, i, err, rc == 0) != 0)
            rc = -1;
    }
out:
    lw_labels_cleanup(&a.labels);
    lw_labels_cleanup(&a.annotations);
    lw_labels_cleanup(&gl);
    return rc;
}
