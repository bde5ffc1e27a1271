/*
 * notify_payload.c — receiver payloads (see notify_payload.h). jansson keeps object keys in
 * insertion order, which is how the Alertmanager field order is reproduced; label maps are
 * inserted in name order, which is the order Go's encoder writes map keys in.
 */
#include "lagwatch/notify_payload.h"

#include <inttypes.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lagwatch/buf.h"
#include "lagwatch/rfc3339.h"
#include "lagwatch/template.h"

static json_t *kv(const struct lw_labels *ls)
{
    json_t *o = json_object();
    for (size_t i = 0; o && i < ls->n; i++)
        json_object_set_new(o, ls->v[i].name, json_string(ls->v[i].value));
    return o;
}

static bool resolved(const struct dispatch_alert *a, int64_t now_ms)
{
    return a->ends_at_ms > 0 && a->ends_at_ms <= now_ms;
}

void notify_common(const struct dispatch_notification *n, bool annotations, struct lw_labels *out)
{
    lw_labels_init(out);
    if (n->n_alerts == 0)
        return;
    const struct lw_labels *first =
        annotations ? &n->alerts[0]->annotations : &n->alerts[0]->labels;
    for (size_t i = 0; i < first->n; i++) {
        bool all = true;
        for (size_t k = 1; all && k < n->n_alerts; k++) {
            const struct lw_labels *o =
                annotations ? &n->alerts[k]->annotations : &n->alerts[k]->labels;
            const char *v = lw_labels_get(o, first->v[i].name);
            all = v && strcmp(v, first->v[i].value) == 0;
        }
        if (all && lw_labels_set(out, first->v[i].name, first->v[i].value) != 0)
            return;
    }
}

static json_t *ts(int64_t ms)
{
    char b[RFC3339_MAX];
    return json_string(rfc3339_format(ms, b, sizeof(b)));
}

static char *dump(json_t *doc)
{
    char *s = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    return s;
}

char *notify_webhook_v4(const struct dispatch_notification *n, const char *external_url,
                        size_t max_alerts)
{
    json_t *alerts = json_array();
    size_t shown = max_alerts && max_alerts < n->n_alerts ? max_alerts : n->n_alerts;
    for (size_t i = 0; alerts && i < shown; i++) {
        const struct dispatch_alert *a = n->alerts[i];
        char fp[17];
        snprintf(fp, sizeof(fp), "%016" PRIx64, a->fingerprint);
        json_t *o = json_object();
        json_object_set_new(o, "status",
                            json_string(resolved(a, n->now_ms) ? "resolved" : "firing"));
        json_object_set_new(o, "labels", kv(&a->labels));
        json_object_set_new(o, "annotations", kv(&a->annotations));
        json_object_set_new(o, "startsAt", ts(a->starts_at_ms));
        json_object_set_new(o, "endsAt", ts(a->ends_at_ms > 0 ? a->ends_at_ms : RFC3339_ZERO_MS));
        json_object_set_new(o, "generatorURL",
                            json_string(a->generator_url ? a->generator_url : ""));
        json_object_set_new(o, "fingerprint", json_string(fp));
        json_array_append_new(alerts, o);
    }
    struct lw_labels cl, ca;
    notify_common(n, false, &cl);
    notify_common(n, true, &ca);
    json_t *doc = json_object();
    json_object_set_new(doc, "receiver", json_string(n->receiver));
    json_object_set_new(doc, "status", json_string(n->n_firing > 0 ? "firing" : "resolved"));
    json_object_set_new(doc, "alerts", alerts);
    json_object_set_new(doc, "groupLabels", kv(n->group_labels));
    json_object_set_new(doc, "commonLabels", kv(&cl));
    json_object_set_new(doc, "commonAnnotations", kv(&ca));
    json_object_set_new(doc, "externalURL", json_string(external_url ? external_url : ""));
    json_object_set_new(doc, "version", json_string("4"));
    json_object_set_new(doc, "groupKey", json_string(n->group_key));
    json_object_set_new(doc, "truncatedAlerts", json_integer((json_int_t)(n->n_alerts - shown)));
    lw_labels_cleanup(&cl);
    lw_labels_cleanup(&ca);
    return dump(doc);
}

int notify_dedup_key(const char *group_key, char *out)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (!EVP_Digest(group_key, strlen(group_key), md, &len, EVP_sha256(), NULL))
        return -1;
    for (unsigned int i = 0; i < len; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    return 0;
}

char *notify_subject(const struct dispatch_notification *n)
{
    struct lw_buf b;
    lw_buf_init(&b, 64 * 1024);
    if (n->n_firing > 0)
        lw_buf_addf(&b, "[FIRING:%zu]", n->n_firing);
    else
        lw_buf_adds(&b, "[RESOLVED]");
    for (size_t i = 0; i < n->group_labels->n; i++)
        lw_buf_addf(&b, " %s", n->group_labels->v[i].value);
    struct lw_labels cl;
    notify_common(n, false, &cl);
    bool opened = false;
    for (size_t i = 0; i < cl.n; i++) {
        if (lw_labels_get(n->group_labels, cl.v[i].name))
            continue;
        lw_buf_adds(&b, opened ? " " : " (");
        lw_buf_adds(&b, cl.v[i].value);
        opened = true;
    }
    if (opened)
        lw_buf_addc(&b, ')');
    lw_labels_cleanup(&cl);
    if (lw_buf_failed(&b)) {
        lw_buf_cleanup(&b);
        return NULL;
    }
    return lw_buf_take(&b);
}

/* PagerDuty severity from the alerts' severity label (the most severe wins). */
static const char *pd_severity(const struct dispatch_notification *n)
{
    static const char *const order[] = {"info", "warning", "error", "critical"};
    int best = -1;
    for (size_t i = 0; i < n->n_alerts; i++) {
        const char *s = lw_labels_get(&n->alerts[i]->labels, "severity");
        int rank = 2; /* Alertmanager's default is "error" */
        if (s) {
            if (!strcmp(s, "critical") || !strcmp(s, "page") || !strcmp(s, "fatal"))
                rank = 3;
            else if (!strcmp(s, "warning") || !strcmp(s, "warn"))
                rank = 1;
            else if (!strcmp(s, "info") || !strcmp(s, "none"))
                rank = 0;
        }
        if (rank > best)
            best = rank;
    }
    return order[best < 0 ? 2 : best];
}

/* The text lines Alertmanager's default pagerduty.default.instances template prints. */
static char *instances(const struct dispatch_notification *n, bool want_resolved)
{
    struct lw_buf b;
    lw_buf_init(&b, 256 * 1024);
    lw_buf_adds(&b, "");
    for (size_t i = 0; i < n->n_alerts; i++) {
        const struct dispatch_alert *a = n->alerts[i];
        if (resolved(a, n->now_ms) != want_resolved)
            continue;
        lw_buf_adds(&b, "Labels:\n");
        for (size_t k = 0; k < a->labels.n; k++)
            lw_buf_addf(&b, " - %s = %s\n", a->labels.v[k].name, a->labels.v[k].value);
        lw_buf_adds(&b, "Annotations:\n");
        for (size_t k = 0; k < a->annotations.n; k++)
            lw_buf_addf(&b, " - %s = %s\n", a->annotations.v[k].name, a->annotations.v[k].value);
        if (a->was_held)
            lw_buf_adds(&b, "Note: held back during an Aurora failover\n");
        lw_buf_addf(&b, "Source: %s\n", a->generator_url ? a->generator_url : "");
    }
    if (lw_buf_failed(&b)) {
        lw_buf_cleanup(&b);
        return NULL;
    }
    return lw_buf_take(&b);
}

/* Truncate to max bytes on a UTF-8 boundary, ending with "…" as Alertmanager does. */
static void truncate_utf8(char *s, size_t max)
{
    if (strlen(s) <= max)
        return;
    size_t cut = max - 3;
    while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80)
        cut--;
    memcpy(s + cut, "\xE2\x80\xA6", 4);
}

/* Runbook, status page and dashboard links from the alerts' annotations; without a
 * status_page_url annotation, lagwatch's own status page (external_url) is linked. */
static void add_links(json_t *links, const struct dispatch_notification *n,
                      const char *external_url)
{
    static const struct {
        const char *key, *text;
    } kinds[] = {{"runbook_url", "Runbook"},
                 {"status_page_url", "Status page"},
                 {"dashboard_url", "Dashboard"}};
    for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
        const char *u = NULL;
        for (size_t i = 0; i < n->n_alerts && !u; i++)
            u = lw_labels_get(&n->alerts[i]->annotations, kinds[k].key);
        if (!u && k == 1 && external_url && external_url[0])
            u = external_url;
        if (u)
            json_array_append_new(links, json_pack("{s:s, s:s}", "href", u, "text", kinds[k].text));
    }
}

char *notify_pagerduty_v2(const struct dispatch_notification *n, const struct pagerduty_opts *o)
{
    char key[NOTIFY_DEDUP_KEY_HEX];
    char *subject = o->summary && o->summary[0] ? strdup(o->summary) : notify_subject(n);
    char *firing = instances(n, false), *res = instances(n, true);
    char *out = NULL;
    if (!subject || !firing || !res || notify_dedup_key(n->group_key, key) != 0)
        goto done;
    truncate_utf8(subject, NOTIFY_PD_SUMMARY_MAX);
    json_t *details = json_object();
    json_object_set_new(details, "firing", json_string(firing));
    json_object_set_new(details, "resolved", json_string(res));
    json_object_set_new(details, "num_firing", json_integer((json_int_t)n->n_firing));
    json_object_set_new(details, "num_resolved",
                        json_integer((json_int_t)(n->n_alerts - n->n_firing)));
    if (o->description)
        json_object_set_new(details, "description", json_string(o->description));
    json_t *payload = json_object();
    json_object_set_new(payload, "summary", json_string(subject));
    json_object_set_new(payload, "source", json_string(o->client ? o->client : "lagwatch"));
    json_object_set_new(payload, "severity", json_string(pd_severity(n)));
    json_object_set_new(payload, "custom_details", details);
    json_t *links = json_array();
    add_links(links, n, o->external_url);
    json_t *doc = json_object();
    json_object_set_new(doc, "routing_key", json_string(o->routing_key ? o->routing_key : ""));
    json_object_set_new(doc, "event_action", json_string(n->n_firing > 0 ? "trigger" : "resolve"));
    json_object_set_new(doc, "dedup_key", json_string(key));
    json_object_set_new(doc, "payload", payload);
    json_object_set_new(doc, "client", json_string(o->client ? o->client : "lagwatch"));
    json_object_set_new(doc, "client_url",
                        json_string(o->client_url     ? o->client_url
                                    : o->external_url ? o->external_url
                                                      : ""));
    json_object_set_new(doc, "links", links);
    out = dump(doc);
done:
    free(subject);
    free(firing);
    free(res);
    return out;
}

/* Slack colours: resolved green, firing red for critical/page, orange otherwise. */
static const char *slack_colour(const struct dispatch_notification *n)
{
    if (n->n_firing == 0)
        return "#2eb886";
    const char *sev = pd_severity(n);
    return strcmp(sev, "critical") == 0 ? "#e01e5a" : "#ecb22e";
}

static json_t *mrkdwn(const char *text)
{
    return json_pack("{s:s, s:s}", "type", "mrkdwn", "text", text);
}

/* Slack's limit for one text object. */
#define SLACK_TEXT_MAX 3000

char *notify_slack(const struct dispatch_notification *n, const struct slack_opts *o)
{
    char *subject = o->title && o->title[0] ? strdup(o->title) : notify_subject(n);
    if (!subject)
        return NULL;
    truncate_utf8(subject, SLACK_TEXT_MAX);
    json_t *blocks = json_array();
    json_array_append_new(blocks,
                          json_pack("{s:s, s:o}", "type", "section", "text", mrkdwn(subject)));
    if (o->text && o->text[0]) {
        char *t = strdup(o->text);
        if (t) {
            truncate_utf8(t, SLACK_TEXT_MAX);
            json_array_append_new(blocks,
                                  json_pack("{s:s, s:o}", "type", "section", "text", mrkdwn(t)));
            free(t);
        }
    }
    for (size_t i = 0; !(o->text && o->text[0]) && i < n->n_alerts && i < 10; i++) {
        const struct dispatch_alert *a = n->alerts[i];
        struct lw_buf b;
        lw_buf_init(&b, 3000); /* Slack's limit for one text object */
        const char *summary = lw_labels_get(&a->annotations, "summary");
        const char *desc = lw_labels_get(&a->annotations, "description");
        const char *pipeline = lw_labels_get(&a->labels, "pipeline");
        lw_buf_addf(&b, "*%s* %s", resolved(a, n->now_ms) ? "Resolved" : "Firing",
                    lw_labels_get(&a->labels, "alertname") ? lw_labels_get(&a->labels, "alertname")
                                                           : "");
        if (pipeline)
            lw_buf_addf(&b, " — pipeline `%s`", pipeline);
        if (a->has_value && !resolved(a, n->now_ms)) {
            /* the rule's result: for lag rules, the lag figure itself */
            lw_buf_adds(&b, " — value `");
            template_fmt_float_v(a->value, &b);
            lw_buf_adds(&b, "`");
        }
        if (summary)
            lw_buf_addf(&b, "\n%s", summary);
        if (desc)
            lw_buf_addf(&b, "\n%s", desc);
        if (a->was_held)
            lw_buf_adds(&b, "\n_held back during an Aurora failover_");
        if (lw_buf_failed(&b) && b.data)
            b.failed = 0; /* keep what fit: a long description is cut, not dropped */
        json_array_append_new(blocks, json_pack("{s:s, s:o}", "type", "section", "text",
                                                mrkdwn(b.data ? b.data : "")));
        lw_buf_cleanup(&b);
    }
    json_t *links = json_array();
    add_links(links, n, o->external_url);
    if (json_array_size(links) > 0) {
        json_t *elements = json_array();
        size_t i;
        json_t *l;
        json_array_foreach(links, i, l)
        {
            char text[512];
            snprintf(text, sizeof(text), "<%s|%s>", json_string_value(json_object_get(l, "href")),
                     json_string_value(json_object_get(l, "text")));
            json_array_append_new(elements, mrkdwn(text));
        }
        json_array_append_new(blocks,
                              json_pack("{s:s, s:o}", "type", "context", "elements", elements));
    }
    json_decref(links);
    json_t *attachment = json_pack("{s:s, s:s, s:o}", "color", slack_colour(n), "fallback", subject,
                                   "blocks", blocks);
    json_t *doc = json_object();
    if (o->channel)
        json_object_set_new(doc, "channel", json_string(o->channel));
    if (o->username)
        json_object_set_new(doc, "username", json_string(o->username));
    json_object_set_new(doc, "text", json_string(subject));
    json_object_set_new(doc, "attachments", json_pack("[o]", attachment));
    free(subject);
    return dump(doc);
}

char *notify_alertmanager_push(const struct dispatch_alert *const *alerts, size_t n, int64_t now_ms,
                               int64_t resend_ms)
{
    json_t *arr = json_array();
    for (size_t i = 0; arr && i < n; i++) {
        const struct dispatch_alert *a = alerts[i];
        int64_t ends = resolved(a, now_ms) ? a->ends_at_ms : now_ms + resend_ms;
        json_t *o = json_object();
        json_object_set_new(o, "labels", kv(&a->labels));
        json_object_set_new(o, "annotations", kv(&a->annotations));
        json_object_set_new(o, "startsAt", ts(a->starts_at_ms));
        json_object_set_new(o, "endsAt", ts(ends));
        json_object_set_new(o, "generatorURL",
                            json_string(a->generator_url ? a->generator_url : ""));
        json_array_append_new(arr, o);
    }
    return dump(arr);
}
