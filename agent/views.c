/*
 * views.c — /api/v1/alerts, /api/v1/rules, the status page and "suppressed by" (see views.h).
 * The JSON is written by hand rather than through jansson because Prometheus's output is Go's
 * encoding/json: field order fixed by the struct, floats in Go's shortest form ("300", not
 * "300.0"), <, > and & escaped. Matching it byte for byte lets clients (and our tests) compare
 * against a real Prometheus.
 */
#include "lagwatch/views.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lagwatch/alert.h"
#include "lagwatch/config.h"
#include "lagwatch/failover.h"
#include "lagwatch/notify.h"
#include "lagwatch/promql.h"
#include "lagwatch/rfc3339.h"
#include "lagwatch/route.h"
#include "lagwatch/rules.h"
#include "lagwatch/runtime.h"
#include "lagwatch/suppress.h"
#include "lagwatch/template.h"

#define MAX_ROUTES 64

/* ---- Go's number and string spellings ------------------------------------------------------ */

int views_go_float_e(struct lw_buf *out, double v)
{
    if (isnan(v))
        return lw_buf_adds(out, "NaN");
    if (isinf(v))
        return lw_buf_adds(out, v > 0 ? "+Inf" : "-Inf");
    return template_fmt_sci(v, 1, out);
}

int views_json_float(struct lw_buf *out, double v)
{
    if (isnan(v) || isinf(v))
        return lw_buf_adds(out, "null");
    double a = fabs(v);
    if (a != 0 && (a < 1e-6 || a >= 1e21))
        return template_fmt_sci(v, 0, out);
    if (v == 0)
        return lw_buf_adds(out, signbit(v) ? "-0" : "0");
    char d[32];
    int e;
    template_shortest_digits(v, d, sizeof d, &e);
    size_t nd = strlen(d);
    lw_buf_adds(out, v < 0 ? "-" : "");
    if (e < 0) {
        lw_buf_adds(out, "0.");
        for (int i = -1; i > e; i--)
            lw_buf_addc(out, '0');
        return lw_buf_adds(out, d);
    }
    for (int i = 0; i <= e || (size_t)i < nd; i++) {
        if (i == e + 1)
            lw_buf_addc(out, '.');
        lw_buf_addc(out, (size_t)i < nd ? d[i] : '0');
    }
    return lw_buf_failed(out) ? -1 : 0;
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when it is not valid. */
static size_t utf8_len(const unsigned char *s)
{
    if (s[0] < 0x80)
        return 1;
    size_t n;
    unsigned cp;
    if ((s[0] & 0xE0) == 0xC0) {
        n = 2;
        cp = s[0] & 0x1F;
    } else if ((s[0] & 0xF0) == 0xE0) {
        n = 3;
        cp = s[0] & 0x0F;
    } else if ((s[0] & 0xF8) == 0xF0) {
        n = 4;
        cp = s[0] & 0x07;
    } else {
        return 0;
    }
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    static const unsigned min[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

int views_json_string(struct lw_buf *out, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    lw_buf_addc(out, '"');
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    while (*p) {
        unsigned char c = *p;
        if (c == '"' || c == '\\') {
            lw_buf_addc(out, '\\');
            lw_buf_addc(out, (char)c);
            p++;
        } else if (c == '\n') {
            lw_buf_adds(out, "\\n");
            p++;
        } else if (c == '\r') {
            lw_buf_adds(out, "\\r");
            p++;
        } else if (c == '\t') {
            lw_buf_adds(out, "\\t");
            p++;
        } else if (c < 0x20 || c == '<' || c == '>' || c == '&') {
            char u[7] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15], 0};
            lw_buf_adds(out, u);
            p++;
        } else if (c < 0x80) {
            lw_buf_addc(out, (char)c);
            p++;
        } else {
            size_t n = utf8_len(p);
            if (n == 0) {
                lw_buf_adds(out, "\\ufffd");
                p++;
            } else if (n == 3 && p[0] == 0xE2 && p[1] == 0x80 && (p[2] == 0xA8 || p[2] == 0xA9)) {
                lw_buf_adds(out, p[2] == 0xA8 ? "\\u2028" : "\\u2029");
                p += 3;
            } else {
                lw_buf_add(out, p, n);
                p += n;
            }
        }
    }
    return lw_buf_addc(out, '"');
}

static void json_labels(struct lw_buf *out, const struct lw_labels *ls)
{
    lw_buf_addc(out, '{');
    for (size_t i = 0; ls && i < ls->n; i++) {
        if (i)
            lw_buf_addc(out, ',');
        views_json_string(out, ls->v[i].name);
        lw_buf_addc(out, ':');
        views_json_string(out, ls->v[i].value);
    }
    lw_buf_addc(out, '}');
}

static void json_time(struct lw_buf *out, int64_t t_ms)
{
    char ts[RFC3339_MAX];
    rfc3339_format(t_ms ? t_ms : RFC3339_ZERO_MS, ts, sizeof ts);
    lw_buf_addf(out, "\"%s\"", ts);
}

int views_html_escape(struct lw_buf *out, const char *s)
{
    return views_html_escape_n(out, s ? s : "", s ? strlen(s) : 0);
}

int views_html_escape_n(struct lw_buf *out, const char *s, size_t n)
{
    for (const char *p = s, *end = s + n; p < end; p++) {
        switch (*p) {
        case '&':
            lw_buf_adds(out, "&amp;");
            break;
        case '<':
            lw_buf_adds(out, "&lt;");
            break;
        case '>':
            lw_buf_adds(out, "&gt;");
            break;
        case '"':
            lw_buf_adds(out, "&quot;");
            break;
        case '\'':
            lw_buf_adds(out, "&#39;");
            break;
        default:
            lw_buf_addc(out, *p);
        }
    }
    return lw_buf_failed(out) ? -1 : 0;
}

/* ---- suppression ------------------------------------------------------------------------- */

/* The Aurora cluster an alert belongs to: its pipeline's, else its dbcluster_identifier. */
static const char *alert_cluster(const struct views_context *c, const struct lw_labels *ls)
{
    const char *pipeline = lw_labels_get(ls, "pipeline");
    const struct config_pipeline *p =
        pipeline && c->cfg ? config_pipeline_find(c->cfg, pipeline) : NULL;
    if (p && p->aurora)
        return p->aurora->cluster;
    return lw_labels_get(ls, "dbcluster_identifier");
}

/* Labels of every firing alert of the rule set; *out malloc'd (NULL when none). */
static size_t firing_alerts(const struct rule_set *rs, const struct lw_labels ***out)
{
    size_t n = 0, cap = 0;
    const struct lw_labels **v = NULL;
    for (size_t g = 0; rs && g < rule_set_group_count(rs); g++) {
        const struct rule_group *grp = rule_set_group(rs, g);
        for (size_t r = 0; r < rule_group_rule_count(grp); r++) {
            const struct alert_rule *ar = rule_alert(rule_group_rule(grp, r));
            for (size_t i = 0; ar && i < alert_rule_count(ar); i++) {
                const struct alert *a = alert_rule_at(ar, i);
                if (a->state != ALERT_FIRING || a->resolved_at_ms != 0)
                    continue;
                if (n == cap) {
                    size_t nc = cap ? cap * 2 : 16;
                    const struct lw_labels **nv = realloc(v, nc * sizeof *nv);
                    if (!nv) {
                        *out = v;
                        return n;
                    }
                    v = nv;
                    cap = nc;
                }
                v[n++] = &a->labels;
            }
        }
    }
    *out = v;
    return n;
}

static void fmt_time(int64_t t_ms, char *out, size_t outlen)
{
    char ts[RFC3339_MAX];
    rfc3339_format(t_ms, ts, sizeof ts);
    snprintf(out, outlen, "%s", ts);
}

size_t views_suppressed_by(const struct views_context *c, const struct lw_labels *ls,
                           struct views_suppression *out, size_t max)
{
    size_t n = 0;
    const char *cluster = alert_cluster(c, ls);
    if (n < max && cluster && c->failover && failover_held(c->failover, cluster, c->now_ms)) {
        struct views_suppression *s = &out[n++];
        s->kind = VIEWS_SUPPRESSED_FAILOVER;
        snprintf(s->reason, sizeof s->reason, "failover:%s", cluster);
        s->detail[0] = '\0';
        for (size_t i = 0; i < failover_count(c->failover); i++) {
            const struct failover_cluster *fc = failover_at(c->failover, i);
            if (strcmp(fc->cluster, cluster) != 0)
                continue;
            char t[RFC3339_MAX];
            if (fc->phase == FAILOVER_ACTIVE) {
                fmt_time(fc->started_ms, t, sizeof t);
                snprintf(s->detail, sizeof s->detail,
                         "Aurora failover of %s under way since %s (%s)", cluster, t,
                         fc->reason ? fc->reason : "");
            } else {
                fmt_time(fc->hold_until_ms, t, sizeof t);
                snprintf(s->detail, sizeof s->detail,
                         "held after the Aurora failover of %s until %s", cluster, t);
            }
        }
    }
    const struct silence *sil = c->silences ? silences_mutes(c->silences, ls, c->now_ms) : NULL;
    if (n < max && sil) {
        struct views_suppression *s = &out[n++];
        s->kind = VIEWS_SUPPRESSED_SILENCE;
        snprintf(s->reason, sizeof s->reason, "silence:%s", sil->id);
        char t[RFC3339_MAX];
        fmt_time(sil->ends_at_ms, t, sizeof t);
        snprintf(s->detail, sizeof s->detail, "silenced by %s until %s: %s",
                 sil->created_by ? sil->created_by : "?", t, sil->comment ? sil->comment : "");
    }
    const struct notify_config *nc = c->cfg ? &c->cfg->notify : NULL;
    if (n < max && nc && nc->n_inhibit) {
        const struct lw_labels **firing = NULL;
        size_t nf = firing_alerts(c->rules, &firing);
        size_t by = 0;
        if (inhibit_mutes(nc->inhibit, nc->n_inhibit, firing, nf, ls, &by)) {
            struct views_suppression *s = &out[n++];
            s->kind = VIEWS_SUPPRESSED_INHIBIT;
            const char *src = lw_labels_get(firing[by], "alertname");
            snprintf(s->reason, sizeof s->reason, "inhibit:%s", src ? src : "");
            struct lw_buf b;
            lw_buf_init(&b, sizeof s->detail - 1);
            lw_buf_adds(&b, "inhibited by firing ");
            lw_labels_format_metric(firing[by], &b);
            snprintf(s->detail, sizeof s->detail, "%s", b.data ? b.data : "");
            lw_buf_cleanup(&b);
        }
        free(firing);
    }
    if (n < max && nc && nc->route) {
        const struct route *routes[MAX_ROUTES];
        size_t m = route_match(nc->route, ls, routes, MAX_ROUTES);
        if (m > MAX_ROUTES)
            m = MAX_ROUTES;
        /* Muted only when every route the alert takes mutes it (each route notifies alone). */
        const char *why = NULL;
        bool all = m > 0;
        for (size_t k = 0; k < m && all; k++) {
            const struct route *r = routes[k];
            const char *this_why = NULL;
            for (size_t i = 0; i < r->n_mute && !this_why; i++) {
                const struct time_interval *ti =
                    notify_config_interval(nc, r->mute_time_intervals[i]);
                if (ti && time_interval_contains(ti, c->now_ms))
                    this_why = r->mute_time_intervals[i];
            }
            if (!this_why && r->n_active) {
                bool inside = false;
                for (size_t i = 0; i < r->n_active && !inside; i++) {
                    const struct time_interval *ti =
                        notify_config_interval(nc, r->active_time_intervals[i]);
                    inside = ti && time_interval_contains(ti, c->now_ms);
                }
                if (!inside)
                    this_why = r->active_time_intervals[0];
            }
            if (!this_why)
                all = false;
            else if (!why)
                why = this_why;
        }
        if (all && why) {
            struct views_suppression *s = &out[n++];
            s->kind = VIEWS_SUPPRESSED_TIME_INTERVAL;
            snprintf(s->reason, sizeof s->reason, "time_interval:%s", why);
            snprintf(s->detail, sizeof s->detail, "muted by time interval %s", why);
        }
    }
    return n;
}

/* ---- /api/v1/alerts and /api/v1/rules ------------------------------------------------------- */

static bool alert_active(const struct alert *a)
{
    return a->state != ALERT_INACTIVE && a->resolved_at_ms == 0;
}

static int cmp_alert_ptr(const void *x, const void *y)
{
    const struct alert *a = *(const struct alert *const *)x, *b = *(const struct alert *const *)y;
    return lw_labels_cmp(&a->labels, &b->labels);
}

/* The rule's active alerts sorted by labels (Prometheus's order is a map's; ours is stable).
 * *out malloc'd; returns the count. */
static size_t active_alerts(const struct alert_rule *ar, const struct alert ***out)
{
    size_t n = 0, total = ar ? alert_rule_count(ar) : 0;
    const struct alert **v = total ? malloc(total * sizeof *v) : NULL;
    for (size_t i = 0; v && i < total; i++)
        if (alert_active(alert_rule_at(ar, i)))
            v[n++] = alert_rule_at(ar, i);
    if (n > 1)
        qsort(v, n, sizeof *v, cmp_alert_ptr);
    *out = v;
    return n;
}

static void json_alert(struct lw_buf *out, const struct alert *a)
{
    lw_buf_adds(out, "{\"labels\":");
    json_labels(out, &a->labels);
    lw_buf_adds(out, ",\"annotations\":");
    json_labels(out, &a->annotations);
    lw_buf_adds(out, ",\"state\":");
    views_json_string(out, alert_state_str(a->state));
    lw_buf_adds(out, ",\"activeAt\":");
    json_time(out, a->active_at_ms);
    if (a->keep_firing_since_ms) {
        lw_buf_adds(out, ",\"keepFiringSince\":");
        json_time(out, a->keep_firing_since_ms);
    }
    lw_buf_adds(out, ",\"value\":\"");
    views_go_float_e(out, a->value);
    lw_buf_adds(out, "\"}");
}

int views_api_alerts(const struct views_context *c, struct lw_buf *out)
{
    lw_buf_adds(out, "{\"status\":\"success\",\"data\":{\"alerts\":[");
    bool first = true;
    for (size_t g = 0; c->rules && g < rule_set_group_count(c->rules); g++) {
        const struct rule_group *grp = rule_set_group(c->rules, g);
        for (size_t r = 0; r < rule_group_rule_count(grp); r++) {
            const struct alert **v = NULL;
            size_t n = active_alerts(rule_alert(rule_group_rule(grp, r)), &v);
            for (size_t i = 0; i < n; i++) {
                if (!first)
                    lw_buf_addc(out, ',');
                first = false;
                json_alert(out, v[i]);
            }
            free(v);
        }
    }
    lw_buf_adds(out, "]}}");
    return lw_buf_failed(out) ? -1 : 0;
}

static void json_seconds_ns(struct lw_buf *out, int64_t ns)
{
    views_json_float(out, (double)ns / 1e9);
}

static void json_rule(struct lw_buf *out, const struct rule *r)
{
    char *query = rule_expr_canonical(r);
    const char *q = query ? query : rule_expr_text(r);
    const char *err = rule_last_error(r);
    if (rule_kind(r) == RULE_ALERTING) {
        const struct alert **v = NULL;
        size_t n = active_alerts(rule_alert(r), &v);
        enum alert_state st = ALERT_INACTIVE;
        for (size_t i = 0; i < n; i++)
            if (v[i]->state > st)
                st = v[i]->state;
        lw_buf_adds(out, "{\"state\":");
        views_json_string(out, alert_state_str(st));
        lw_buf_adds(out, ",\"name\":");
        views_json_string(out, rule_name(r));
        lw_buf_adds(out, ",\"query\":");
        views_json_string(out, q);
        lw_buf_adds(out, ",\"duration\":");
        views_json_float(out, (double)rule_for_ms(r) / 1000.0);
        lw_buf_adds(out, ",\"keepFiringFor\":");
        views_json_float(out, (double)rule_keep_firing_for_ms(r) / 1000.0);
        lw_buf_adds(out, ",\"labels\":");
        json_labels(out, rule_labels(r));
        lw_buf_adds(out, ",\"annotations\":");
        json_labels(out, rule_annotations(r));
        lw_buf_adds(out, ",\"alerts\":[");
        for (size_t i = 0; i < n; i++) {
            if (i)
                lw_buf_addc(out, ',');
            json_alert(out, v[i]);
        }
        lw_buf_addc(out, ']');
        free(v);
    } else {
        lw_buf_adds(out, "{\"name\":");
        views_json_string(out, rule_name(r));
        lw_buf_adds(out, ",\"query\":");
        views_json_string(out, q);
        const struct lw_labels *ls = rule_labels(r);
        if (ls && ls->n) { /* omitempty on recording rules */
            lw_buf_adds(out, ",\"labels\":");
            json_labels(out, ls);
        }
    }
    lw_buf_adds(out, ",\"health\":");
    views_json_string(out, rule_health_str(rule_health(r)));
    if (err && err[0]) {
        lw_buf_adds(out, ",\"lastError\":");
        views_json_string(out, err);
    }
    lw_buf_adds(out, ",\"evaluationTime\":");
    json_seconds_ns(out, rule_last_duration_ns(r));
    lw_buf_adds(out, ",\"lastEvaluation\":");
    json_time(out, rule_last_eval_ms(r));
    lw_buf_adds(out, rule_kind(r) == RULE_ALERTING ? ",\"type\":\"alerting\"}"
                                                   : ",\"type\":\"recording\"}");
    free(query);
}

int views_api_rules(const struct views_context *c, const char *type, struct lw_buf *out)
{
    bool want_alert = true, want_record = true;
    if (type && type[0]) {
        if (strcmp(type, "alert") == 0) {
            want_record = false;
        } else if (strcmp(type, "record") == 0) {
            want_alert = false;
        } else {
            lw_buf_adds(out, "{\"status\":\"error\",\"errorType\":\"bad_data\",\"error\":");
            struct lw_buf msg;
            lw_buf_init(&msg, 1024);
            lw_buf_adds(&msg, "invalid parameter \"type\": not supported value ");
            views_json_string(&msg, type); /* Go's %q of a plain string reads the same */
            views_json_string(out, msg.data ? msg.data : "");
            lw_buf_cleanup(&msg);
            lw_buf_addc(out, '}');
            return lw_buf_failed(out) ? -1 : 1;
        }
    }
    int64_t def_ms =
        c->cfg ? c->cfg->global.evaluation_interval_ms : CONFIG_DEFAULT_EVALUATION_INTERVAL_MS;
    lw_buf_adds(out, "{\"status\":\"success\",\"data\":{\"groups\":[");
    for (size_t g = 0; c->rules && g < rule_set_group_count(c->rules); g++) {
        const struct rule_group *grp = rule_set_group(c->rules, g);
        if (g)
            lw_buf_addc(out, ',');
        lw_buf_adds(out, "{\"name\":");
        views_json_string(out, rule_group_name(grp));
        lw_buf_adds(out, ",\"file\":");
        views_json_string(out, rule_group_file(grp));
        lw_buf_adds(out, ",\"rules\":[");
        bool first = true;
        for (size_t r = 0; r < rule_group_rule_count(grp); r++) {
            const struct rule *rule = rule_group_rule(grp, r);
            bool alerting = rule_kind(rule) == RULE_ALERTING;
            if ((alerting && !want_alert) || (!alerting && !want_record))
                continue;
            if (!first)
                lw_buf_addc(out, ',');
            first = false;
            json_rule(out, rule);
        }
        lw_buf_adds(out, "],\"interval\":");
        views_json_float(out, (double)rule_group_interval_ms(grp, def_ms) / 1000.0);
        lw_buf_addf(out, ",\"limit\":%llu", (unsigned long long)rule_group_limit(grp));
        lw_buf_adds(out, ",\"evaluationTime\":");
        json_seconds_ns(out, rule_group_last_duration_ns(grp));
        lw_buf_adds(out, ",\"lastEvaluation\":");
        json_time(out, rule_group_last_eval_ms(grp));
        lw_buf_addc(out, '}');
    }
    lw_buf_adds(out, "]}}");
    return lw_buf_failed(out) ? -1 : 0;
}

/* ---- the status page ---------------------------------------------------------------------- */

struct lag {
    char *pipeline;
    double v;
    int64_t t_ms;
};

struct lags {
    struct lag *v;
    size_t n;
};

static void lags_free(struct lags *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i].pipeline);
    free(l->v);
    l->v = NULL;
    l->n = 0;
}

/* Evaluate expr (by pipeline) at now with lookback_ms into l. Failures leave l empty: the page
 * then shows "no data", which is what the operator needs to know anyway. */
static void query_lags(const struct views_context *c, const char *expr, int64_t lookback_ms,
                       struct lags *l)
{
    l->v = NULL;
    l->n = 0;
    struct promql_expr *e = NULL;
    struct lw_err err = {0};
    if (!c->store || promql_parse(expr, strlen(expr), &e, &err) != 0)
        return;
    struct promql_eval_opts o = {.lookback_ms = lookback_ms};
    struct promql_value val = {0};
    if (promql_eval_instant(e, c->store, c->now_ms, &o, &val, &err) == 0 &&
        val.type == PROMQL_VECTOR && val.n_vec) {
        l->v = calloc(val.n_vec, sizeof *l->v);
        for (size_t i = 0; l->v && i < val.n_vec; i++) {
            const char *p = lw_labels_get(&val.vec[i].labels, "pipeline");
            if (!p || !(l->v[l->n].pipeline = strdup(p)))
                continue;
            l->v[l->n].v = val.vec[i].v;
            l->v[l->n].t_ms = val.vec[i].t_ms;
            l->n++;
        }
    }
    promql_value_cleanup(&val);
    promql_expr_free(e);
}

static const struct lag *lag_find(const struct lags *l, const char *pipeline)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i].pipeline, pipeline) == 0)
            return &l->v[i];
    return NULL;
}

/* A lag in seconds as "1m 30s"; -1 from Aurora means unknown. */
static void html_lag(struct lw_buf *out, const struct lag *l, bool aurora)
{
    if (!l) {
        lw_buf_adds(out, "<td class=\"nodata\">no data</td>");
        return;
    }
    if (aurora && l->v < 0) {
        lw_buf_adds(out, "<td class=\"warn\">unknown (-1)</td>");
        return;
    }
    lw_buf_adds(out, "<td>");
    struct lw_buf t;
    lw_buf_init(&t, 128);
    template_humanize_duration(l->v, &t);
    views_html_escape(out, t.data ? t.data : "");
    lw_buf_cleanup(&t);
    lw_buf_adds(out, "</td>");
}

static void html_time(struct lw_buf *out, int64_t t_ms)
{
    if (!t_ms) {
        lw_buf_adds(out, "never");
        return;
    }
    char ts[RFC3339_MAX];
    rfc3339_format(t_ms, ts, sizeof ts);
    views_html_escape(out, ts);
}

static void html_labels(struct lw_buf *out, const struct lw_labels *ls, const char *skip)
{
    for (size_t i = 0; ls && i < ls->n; i++) {
        if (skip && strcmp(ls->v[i].name, skip) == 0)
            continue;
        lw_buf_adds(out, "<span class=\"label\">");
        views_html_escape(out, ls->v[i].name);
        lw_buf_adds(out, "=&quot;");
        views_html_escape(out, ls->v[i].value);
        lw_buf_adds(out, "&quot;</span> ");
    }
}

static void html_pipelines(const struct views_context *c, struct lw_buf *out)
{
    if (!c->cfg || c->cfg->n_pipelines == 0)
        return;
    struct lags aurora, debezium;
    /* CloudWatch publishes minutes late: look back further than PromQL's 5 minutes. */
    query_lags(c, "max by (pipeline) (aws_rds_aurora_binlog_replica_lag_maximum)", 15 * 60 * 1000,
               &aurora);
    query_lags(c, "max by (pipeline) (debezium_metrics_MilliSecondsBehindSource) / 1000", 0,
               &debezium);
    lw_buf_adds(out, "<h2>Pipelines</h2>\n<table>\n<tr><th>pipeline</th><th>Aurora cluster</th>"
                     "<th>Aurora binlog lag</th><th>Debezium lag</th><th>failover</th>"
                     "<th>sources</th></tr>\n");
    for (size_t i = 0; i < c->cfg->n_pipelines; i++) {
        const struct config_pipeline *p = &c->cfg->pipelines[i];
        lw_buf_adds(out, "<tr><td>");
        views_html_escape(out, p->name);
        lw_buf_adds(out, "</td><td>");
        views_html_escape(out, p->aurora ? p->aurora->cluster : "-");
        lw_buf_adds(out, "</td>");
        html_lag(out, lag_find(&aurora, p->name), true);
        html_lag(out, lag_find(&debezium, p->name), false);
        const char *cl = p->aurora ? p->aurora->cluster : NULL;
        bool held = cl && c->failover && failover_held(c->failover, cl, c->now_ms);
        lw_buf_adds(out, held ? "<td class=\"warn\">held</td>" : "<td>-</td>");
        size_t up = 0, total = 0;
        for (size_t s = 0; s < c->n_sources; s++) {
            const struct runtime_source_health *h = c->sources[s];
            if (!h->pipeline || strcmp(h->pipeline, p->name) != 0)
                continue;
            total++;
            up += h->has_run && h->up;
        }
        lw_buf_addf(out, "<td class=\"%s\">%zu/%zu up</td></tr>\n", up == total ? "ok" : "bad", up,
                    total);
    }
    lw_buf_adds(out, "</table>\n");
    lags_free(&aurora);
    lags_free(&debezium);
}

static void html_sources(const struct views_context *c, struct lw_buf *out)
{
    if (c->n_sources == 0)
        return;
    lw_buf_adds(out, "<h2>Sources</h2>\n<table>\n<tr><th>source</th><th>pipeline</th>"
                     "<th>target</th><th>state</th><th>last run</th><th>error</th></tr>\n");
    for (size_t i = 0; i < c->n_sources; i++) {
        const struct runtime_source_health *h = c->sources[i];
        lw_buf_adds(out, "<tr><td>");
        views_html_escape(out, h->name);
        lw_buf_adds(out, "</td><td>");
        views_html_escape(out, h->pipeline ? h->pipeline : "-");
        lw_buf_adds(out, "</td><td>");
        views_html_escape(out, h->target ? h->target : "");
        lw_buf_adds(out, !h->has_run ? "</td><td class=\"nodata\">not run yet"
                         : h->up     ? "</td><td class=\"ok\">up"
                                     : "</td><td class=\"bad\">down");
        lw_buf_adds(out, "</td><td>");
        html_time(out, h->last_run_ms);
        lw_buf_adds(out, "</td><td>");
        views_html_escape(out, h->last_error[0] ? h->last_error : h->warning);
        lw_buf_adds(out, "</td></tr>\n");
    }
    lw_buf_adds(out, "</table>\n");
}

static void html_alerts(const struct views_context *c, struct lw_buf *out)
{
    lw_buf_adds(out, "<h2>Alerts</h2>\n");
    size_t shown = 0;
    for (size_t g = 0; c->rules && g < rule_set_group_count(c->rules); g++) {
        const struct rule_group *grp = rule_set_group(c->rules, g);
        for (size_t r = 0; r < rule_group_rule_count(grp); r++) {
            const struct alert **v = NULL;
            size_t n = active_alerts(rule_alert(rule_group_rule(grp, r)), &v);
            for (size_t i = 0; i < n; i++) {
                const struct alert *a = v[i];
                if (shown++ == 0)
                    lw_buf_adds(out, "<table>\n<tr><th>alert</th><th>state</th><th>labels</th>"
                                     "<th>value</th><th>active since</th><th>summary</th>"
                                     "<th>suppressed by</th></tr>\n");
                lw_buf_addf(out, "<tr class=\"%s\"><td>", alert_state_str(a->state));
                views_html_escape(out, rule_name(rule_group_rule(grp, r)));
                lw_buf_addf(out, "</td><td>%s</td><td>", alert_state_str(a->state));
                html_labels(out, &a->labels, "alertname");
                lw_buf_adds(out, "</td><td>");
                struct lw_buf t;
                lw_buf_init(&t, 64);
                template_fmt_float_v(a->value, &t);
                views_html_escape(out, t.data ? t.data : "");
                lw_buf_cleanup(&t);
                lw_buf_adds(out, "</td><td>");
                html_time(out, a->active_at_ms);
                lw_buf_adds(out, "</td><td>");
                views_html_escape(out, lw_labels_get(&a->annotations, "summary"));
                lw_buf_adds(out, "</td><td>");
                struct views_suppression s[VIEWS_MAX_SUPPRESSIONS];
                size_t ns = views_suppressed_by(c, &a->labels, s, VIEWS_MAX_SUPPRESSIONS);
                for (size_t k = 0; k < ns; k++) {
                    lw_buf_adds(out, "<span class=\"suppressed\" title=\"");
                    views_html_escape(out, s[k].detail);
                    lw_buf_adds(out, "\">");
                    views_html_escape(out, s[k].reason);
                    lw_buf_adds(out, "</span> ");
                }
                if (ns == 0)
                    lw_buf_adds(out, "-");
                lw_buf_adds(out, "</td></tr>\n");
            }
            free(v);
        }
    }
    if (shown)
        lw_buf_adds(out, "</table>\n");
    else
        lw_buf_adds(out, "<p>No alert is pending or firing.</p>\n");
}

static void html_failovers(const struct views_context *c, struct lw_buf *out)
{
    if (!c->failover || failover_count(c->failover) == 0)
        return;
    lw_buf_adds(out, "<h2>Aurora failovers</h2>\n<table>\n<tr><th>cluster</th><th>phase</th>"
                     "<th>started</th><th>ended</th><th>held until</th><th>reason</th>"
                     "<th>episodes</th></tr>\n");
    for (size_t i = 0; i < failover_count(c->failover); i++) {
        const struct failover_cluster *fc = failover_at(c->failover, i);
        static const char *phase[] = {"none", "in progress", "hold"};
        lw_buf_adds(out, "<tr><td>");
        views_html_escape(out, fc->cluster);
        lw_buf_addf(out, "</td><td>%s</td><td>", phase[fc->phase]);
        html_time(out, fc->started_ms);
        lw_buf_adds(out, "</td><td>");
        html_time(out, fc->ended_ms);
        lw_buf_adds(out, "</td><td>");
        html_time(out, fc->hold_until_ms);
        lw_buf_adds(out, "</td><td>");
        views_html_escape(out, fc->reason);
        lw_buf_addf(out, "</td><td>%llu</td></tr>\n", (unsigned long long)fc->episodes);
    }
    lw_buf_adds(out, "</table>\n");
}

static void html_receivers(const struct views_context *c, struct lw_buf *out)
{
    if (!c->notifier || notifier_health_count(c->notifier) == 0)
        return;
    lw_buf_adds(out, "<h2>Receivers</h2>\n<table>\n<tr><th>receiver</th><th>state</th>"
                     "<th>last delivered</th><th>dropped</th><th>last error</th></tr>\n");
    for (size_t i = 0; i < notifier_health_count(c->notifier); i++) {
        const struct notifier_receiver_health *h = notifier_health_at(c->notifier, i);
        lw_buf_adds(out, "<tr><td>");
        views_html_escape(out, h->receiver);
        lw_buf_adds(out,
                    h->failing ? "</td><td class=\"bad\">failing" : "</td><td class=\"ok\">ok");
        lw_buf_adds(out, "</td><td>");
        html_time(out, h->last_ok_ms);
        lw_buf_addf(out, "</td><td>%llu</td><td>", (unsigned long long)h->drops);
        views_html_escape(out, h->last_error);
        lw_buf_adds(out, "</td></tr>\n");
    }
    lw_buf_adds(out, "</table>\n");
}

int views_status_page(const struct views_context *c, struct lw_buf *out)
{
    char now[RFC3339_MAX];
    rfc3339_format(c->now_ms, now, sizeof now);
    lw_buf_adds(out,
                "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                "<meta http-equiv=\"refresh\" content=\"30\">\n<title>lagwatch</title>\n<style>\n"
                "body{font-family:sans-serif;margin:1.5em;color:#222}\n"
                "table{border-collapse:collapse;margin-bottom:1.5em}\n"
                "th,td{border:1px solid #ccc;padding:.3em .6em;text-align:left;"
                "vertical-align:top}\n"
                "th{background:#f3f3f3}\n.ok{color:#1a7f37}\n.bad,.firing td:nth-child(2)"
                "{color:#c62828;font-weight:bold}\n.warn,.pending td:nth-child(2){color:#b26a00}\n"
                ".nodata{color:#888}\n.label{font-family:monospace;font-size:90%}\n"
                ".suppressed{background:#eef;padding:0 .3em;border-radius:3px}\n"
                "</style>\n</head>\n<body>\n<h1>lagwatch</h1>\n<p>");
    lw_buf_adds(out, "As of ");
    views_html_escape(out, now);
    if (c->version) {
        lw_buf_adds(out, " &middot; lagwatch ");
        views_html_escape(out, c->version);
    }
    lw_buf_adds(out, " &middot; <a href=\"/metrics\">metrics</a> &middot; "
                     "<a href=\"/api/v1/alerts\">alerts (JSON)</a> &middot; "
                     "<a href=\"/api/v1/rules\">rules (JSON)</a></p>\n");
    html_pipelines(c, out);
    html_alerts(c, out);
    html_sources(c, out);
    html_failovers(c, out);
    html_receivers(c, out);
    lw_buf_adds(out, "</body>\n</html>\n");
    return lw_buf_failed(out) ? -1 : 0;
}
