/*
 * notify_template.c — Alertmanager's template data as a tmpl_value tree, and parsing/rendering
 * of receiver templates (see notify_template.h).
 */
#include "lagwatch/notify_template.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lagwatch/notify_payload.h"

/* Go's time.Time String() of a UTC instant at millisecond precision, trailing zeros of the
 * fraction dropped: "2026-12-06 18:20:08.565 +0000 UTC"; 0 is Go's zero time. */
static void go_time(int64_t t_ms, char *out, size_t outlen)
{
    if (t_ms <= 0) {
        snprintf(out, outlen, "0001-01-01 00:00:00 +0000 UTC");
        return;
    }
    time_t secs = (time_t)(t_ms / 1000);
    int ms = (int)(t_ms % 1000);
    struct tm tm;
    gmtime_r(&secs, &tm);
    char frac[8] = "";
    if (ms) {
        snprintf(frac, sizeof frac, ".%03d", ms);
        size_t l = strlen(frac);
        while (l > 1 && frac[l - 1] == '0')
            frac[--l] = '\0';
    }
    snprintf(out, outlen, "%04d-%02d-%02d %02d:%02d:%02d%s +0000 UTC", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
}

static int set_str(struct tmpl_value *m, const char *key, const char *s)
{
    return tmpl_value_set(m, key, tmpl_value_str(s ? s : ""));
}

/* Alertmanager's KV (a label set): map[string]string of Go type template.KV with the methods
 * SortedPairs, Names and Values, which list "alertname" first and the rest sorted. */
static struct tmpl_value *kv_value(const struct lw_labels *ls)
{
    struct tmpl_value *m = tmpl_value_labels(ls);
    struct tmpl_value *pairs = tmpl_value_list(), *names = tmpl_value_list(),
                      *values = tmpl_value_list();
    bool ok = m && pairs && names && values && tmpl_value_set_type(m, "template.KV") == 0 &&
              tmpl_value_set_type(pairs, "template.Pairs") == 0 &&
              tmpl_value_set_type(names, "[]string") == 0 &&
              tmpl_value_set_type(values, "[]string") == 0;
    const char *an = ls ? lw_labels_get(ls, "alertname") : NULL;
    /* pass 0: alertname; pass 1: the others in label order (lw_labels keeps them sorted) */
    for (int pass = 0; ok && pass < 2; pass++) {
        for (size_t i = 0; ok && ls && i < ls->n; i++) {
            bool is_an = strcmp(ls->v[i].name, "alertname") == 0;
            if ((pass == 0) != is_an || (pass == 0 && !an))
                continue;
            struct tmpl_value *pair = tmpl_value_struct("template.Pair");
            if (!pair || tmpl_value_set(pair, "Name", tmpl_value_str(ls->v[i].name)) != 0 ||
                tmpl_value_set(pair, "Value", tmpl_value_str(ls->v[i].value)) != 0) {
                tmpl_value_unref(pair);
                ok = false;
                break;
            }
            /* each append takes its reference, also when it fails */
            ok = tmpl_value_append(pairs, pair) == 0 &&
                 tmpl_value_append(names, tmpl_value_str(ls->v[i].name)) == 0 &&
                 tmpl_value_append(values, tmpl_value_str(ls->v[i].value)) == 0;
        }
    }
    ok = ok && tmpl_value_set_method(m, "SortedPairs", tmpl_value_ref(pairs)) == 0 &&
         tmpl_value_set_method(m, "Names", tmpl_value_ref(names)) == 0 &&
         tmpl_value_set_method(m, "Values", tmpl_value_ref(values)) == 0;
    tmpl_value_unref(pairs);
    tmpl_value_unref(names);
    tmpl_value_unref(values);
    if (!ok) {
        tmpl_value_unref(m);
        return NULL;
    }
    return m;
}

static struct tmpl_value *alert_value(const struct dispatch_alert *a, int64_t now_ms)
{
    struct tmpl_value *v = tmpl_value_struct(NOTIFY_TEMPLATE_ALERT_TYPE);
    if (!v)
        return NULL;
    bool resolved = a->ends_at_ms > 0 && a->ends_at_ms <= now_ms;
    char starts[48], ends[48], fp[17];
    go_time(a->starts_at_ms, starts, sizeof starts);
    go_time(a->ends_at_ms, ends, sizeof ends);
    snprintf(fp, sizeof fp, "%016" PRIx64, a->fingerprint);
    if (set_str(v, "Status", resolved ? "resolved" : "firing") != 0 ||
        tmpl_value_set(v, "Labels", kv_value(&a->labels)) != 0 ||
        tmpl_value_set(v, "Annotations", kv_value(&a->annotations)) != 0 ||
        set_str(v, "StartsAt", starts) != 0 || set_str(v, "EndsAt", ends) != 0 ||
        set_str(v, "GeneratorURL", a->generator_url) != 0 || set_str(v, "Fingerprint", fp) != 0) {
        tmpl_value_unref(v);
        return NULL;
    }
    return v;
}

struct tmpl_value *notify_template_data(const struct dispatch_notification *n,
                                        const char *external_url)
{
    struct tmpl_value *d = tmpl_value_struct(NOTIFY_TEMPLATE_DATA_TYPE);
    struct tmpl_value *alerts = tmpl_value_list(), *firing = tmpl_value_list(),
                      *resolved = tmpl_value_list();
    struct lw_labels cl, ca;
    notify_common(n, false, &cl);
    notify_common(n, true, &ca);
    bool ok = d && alerts && firing && resolved &&
              tmpl_value_set_type(alerts, "template.Alerts") == 0 &&
              tmpl_value_set_type(firing, "[]template.Alert") == 0 &&
              tmpl_value_set_type(resolved, "[]template.Alert") == 0;
    for (size_t i = 0; ok && i < n->n_alerts; i++) {
        const struct dispatch_alert *da = n->alerts[i];
        struct tmpl_value *a = alert_value(da, n->now_ms);
        bool is_resolved = da->ends_at_ms > 0 && da->ends_at_ms <= n->now_ms;
        ok = a && tmpl_value_append(is_resolved ? resolved : firing, tmpl_value_ref(a)) == 0 &&
             tmpl_value_append(alerts, a) == 0;
    }
    /* Alerts.Firing and Alerts.Resolved, as Alertmanager's methods */
    ok = ok && tmpl_value_set_method(alerts, "Firing", tmpl_value_ref(firing)) == 0 &&
         tmpl_value_set_method(alerts, "Resolved", tmpl_value_ref(resolved)) == 0;
    tmpl_value_unref(firing);
    tmpl_value_unref(resolved);
    /* field order as Alertmanager's template.Data declares it */
    ok = ok && set_str(d, "Receiver", n->receiver) == 0 &&
         set_str(d, "Status", n->n_firing > 0 ? "firing" : "resolved") == 0 &&
         tmpl_value_set(d, "Alerts", tmpl_value_ref(alerts)) == 0 &&
         tmpl_value_set(d, "GroupLabels", kv_value(n->group_labels)) == 0 &&
         tmpl_value_set(d, "CommonLabels", kv_value(&cl)) == 0 &&
         tmpl_value_set(d, "CommonAnnotations", kv_value(&ca)) == 0 &&
         set_str(d, "ExternalURL", external_url) == 0;
    tmpl_value_unref(alerts);
    lw_labels_cleanup(&cl);
    lw_labels_cleanup(&ca);
    if (!ok) {
        tmpl_value_unref(d);
        return NULL;
    }
    return d;
}

int notify_template_parse(const char *name, const char *src, struct tmpl **out, struct lw_err *err)
{
    return tmpl_parse(name, src, strlen(src), TMPL_PROMETHEUS, out, err);
}

int notify_template_render(const struct tmpl *t, const struct tmpl_value *data,
                           const char *external_url, char **out, struct lw_err *err)
{
    struct lw_buf b;
    lw_buf_init(&b, NOTIFY_TEMPLATE_MAX_BYTES);
    struct tmpl_env env = {.external_url = external_url};
    *out = NULL;
    if (tmpl_exec(t, data, &env, &b, err) != 0) {
        lw_buf_cleanup(&b);
        return -1;
    }
    *out = b.data ? lw_buf_take(&b) : strdup("");
    lw_buf_cleanup(&b);
    return *out ? 0 : lw_err_set(err, 0, 0, "out of memory");
}
