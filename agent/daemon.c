/*
 * daemon.c — `lagwatch run` (see daemon.h): builds the agent from a config, runs the one event
 * loop, reloads on SIGHUP, flushes and stops on SIGTERM/SIGINT.
 *
 * The periodic work, in one place (all on sched.h's monotonic timers, staggered by name):
 *   source/<kind>/<target>   every source (runtime.h), at its interval
 *   rules/<file>/<group>     every rule group, at its interval: evaluate, log alert state
 *                            changes, hand firing/resolved alerts to the dispatcher
 *   agent/housekeeping       every second: failover hold expiry (held notifications go out),
 *                            outbox max_age expiry, the AuroraFailover alerts, the push to
 *                            Alertmanager integrations, silence gc
 *   agent/store-gc           every minute: drop samples older than the rules read
 * and on every loop turn: due dispatcher groups are flushed into the outbox, the outbox is
 * pumped, state that changed is written. Handlers of the HTTP endpoint run on this thread too.
 *
 * What this file does not do: parse anything (config.h, rules.h), fetch anything (runtime.h),
 * decide anything about alerts (rules.h, dispatch.h, suppress.h, failover.h) or send anything
 * (notify.h). It wires them and owns their lifetimes.
 */
#include "lagwatch/daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lagwatch/api_ops.h"
#include "lagwatch/config.h"
#include "lagwatch/dispatch.h"
#include "lagwatch/expfmt.h"
#include "lagwatch/failover.h"
#include "lagwatch/http.h"
#include "lagwatch/httpd.h"
#include "lagwatch/log.h"
#include "lagwatch/notify.h"
#include "lagwatch/outbox.h"
#include "lagwatch/rulefiles.h"
#include "lagwatch/rules.h"
#include "lagwatch/runbook.h"
#include "lagwatch/runtime.h"
#include "lagwatch/sched.h"
#include "lagwatch/source_store.h"
#include "lagwatch/state.h"
#include "lagwatch/store.h"
#include "lagwatch/suppress.h"
#include "lagwatch/views.h"

#define DAEMON_MIN_RETENTION_MS     (15LL * 60 * 1000) /* at least: lookback, CloudWatch window */
#define DAEMON_RETENTION_SLACK_MS   (60LL * 1000)      /* evaluation after the newest sample */
#define DAEMON_NFLOG_RETENTION_MS   (5LL * 24 * 60 * 60 * 1000)
#define DAEMON_SILENCE_RETENTION_MS (5LL * 24 * 60 * 60 * 1000)
#define DAEMON_OUTBOX_MIN_WAIT_MS   100
#define DAEMON_MAX_WAIT_MS          1000
#define DAEMON_STATE_SCHEMA         1

struct daemon;

/* A rule group's timer: the group and the daemon it belongs to. */
struct group_job {
    struct daemon *d;
    struct rule_group *g;
    size_t index; /* in the rule set */
};

/* One alert as the last evaluation left it, to log state changes. */
struct seen_alert {
    const struct rule *rule;
    uint64_t fp;
    enum alert_state state;
    bool resolved;
    bool present; /* seen at the current evaluation */
};

struct daemon {
    const char *config_path;
    struct config *cfg;
    struct rule_set *rules;
    struct http_client *http;
    struct store *store;
    struct source_store_sink ss;
    struct runtime *rt;
    struct sched sched;
    struct httpd *httpd;
    struct state *state;
    struct failover *failover;
    struct silences silences;
    struct outbox *outbox;
    struct notifier *notifier;
    struct dispatch *dispatch;
    struct api_ops ops;
    struct seen_alert *seen;
    size_t n_seen, cap_seen;
    struct group_job *group_jobs; /* one per rule group: what its timer hands eval_group */
    bool dirty_alerts, dirty_silences, dirty_failover, dirty_nflog;
    bool ready;              /* a full evaluation happened after every source ran */
    size_t groups_evaluated; /* distinct groups evaluated since the last (re)load */
    bool *group_done;        /* per group of rules: evaluated since (re)load */
    double last_eval_s;      /* duration of the last rule group evaluation */
    int64_t reach_ms;        /* store retention: what the rules read (rules_reach_ms) */
    uint64_t evaluations, eval_failures, reloads, reload_failures;
    int64_t started_ms;
};

static volatile sig_atomic_t got_hup, got_term;
static int sig_pipe_w = -1;

static void on_signal(int sig)
{
    int saved = errno;
    if (sig == SIGHUP)
        got_hup = 1;
    else
        got_term = 1;
    if (sig_pipe_w >= 0) {
        char c = 's';
        ssize_t n = write(sig_pipe_w, &c, 1);
        (void)n; /* a full pipe already holds a wake-up */
    }
    errno = saved;
}

static int signals_install(int pipefd[2])
{
    if (pipe(pipefd) != 0)
        return -1;
    for (int i = 0; i < 2; i++) {
        fcntl(pipefd[i], F_SETFL, fcntl(pipefd[i], F_GETFL) | O_NONBLOCK);
        fcntl(pipefd[i], F_SETFD, FD_CLOEXEC);
    }
    sig_pipe_w = pipefd[1];
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    if (sigaction(SIGHUP, &sa, NULL) != 0 || sigaction(SIGTERM, &sa, NULL) != 0 ||
        sigaction(SIGINT, &sa, NULL) != 0)
        return -1;
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

static void log_err(const char *msg, const struct lw_err *err)
{
    char text[LW_ERR_MSG_MAX + LW_ERR_FILE_MAX + 32];
    lw_err_format(err, text, sizeof text);
    log_kv(LOG_LEVEL_ERROR, msg, "error", text, NULL);
}

/* ---- state --------------------------------------------------------------------------------- */

static void state_put(struct daemon *d, const char *name, char *json)
{
    struct lw_err err = {0};
    if (!json) {
        log_kv(LOG_LEVEL_ERROR, "cannot serialise state", "name", name, NULL);
        return;
    }
    if (state_write(d->state, name, DAEMON_STATE_SCHEMA, json, strlen(json), &err) != 0)
        log_kv(LOG_LEVEL_ERROR, "cannot write state", "name", name, "error", err.msg, NULL);
    free(json);
}

/* Write whatever changed. */
static void state_flush(struct daemon *d)
{
    int64_t now = lw_wall_ms();
    if (d->dirty_alerts && d->rules)
        state_put(d, "alerts", rule_set_save(d->rules));
    if (d->dirty_silences)
        state_put(d, "silences", silences_save(&d->silences));
    if (d->dirty_failover)
        state_put(d, "failover", failover_save(d->failover));
    if (d->dirty_nflog && d->dispatch)
        state_put(d, "nflog", dispatch_nflog_save(d->dispatch, now, DAEMON_NFLOG_RETENTION_MS));
    d->dirty_alerts = d->dirty_silences = d->dirty_failover = d->dirty_nflog = false;
}

/* Read name; call load on its JSON. A corrupt file has been moved aside by state_read. */
static char *state_get(struct daemon *d, const char *name, size_t *len)
{
    char *json = NULL;
    int schema = 0;
    struct lw_err err = {0};
    switch (state_read(d->state, name, &json, len, &schema, &err)) {
    case STATE_READ_OK:
        if (schema != DAEMON_STATE_SCHEMA) {
            log_kv(LOG_LEVEL_WARN, "state from another schema ignored", "name", name, NULL);
            free(json);
            return NULL;
        }
        return json;
    case STATE_READ_CORRUPT:
        log_kv(LOG_LEVEL_WARN, "state file corrupt, starting that state empty", "name", name,
               "error", err.msg, NULL);
        return NULL;
    default:
        return NULL;
    }
}

static int outbox_put(void *ud, const char *id, const char *json)
{
    struct daemon *d = ud;
    char name[STATE_MAX_NAME + 1];
    snprintf(name, sizeof name, "outbox/%s", id);
    struct lw_err err = {0};
    if (state_write(d->state, name, DAEMON_STATE_SCHEMA, json, strlen(json), &err) != 0) {
        log_kv(LOG_LEVEL_ERROR, "cannot persist outbox item", "id", id, "error", err.msg, NULL);
        return -1;
    }
    return 0;
}

static void outbox_del(void *ud, const char *id)
{
    struct daemon *d = ud;
    char name[STATE_MAX_NAME + 1];
    snprintf(name, sizeof name, "outbox/%s", id);
    struct lw_err err = {0};
    if (state_delete(d->state, name, &err) != 0)
        log_kv(LOG_LEVEL_WARN, "cannot delete outbox item", "id", id, "error", err.msg, NULL);
}

static int outbox_item_loaded(void *ud, const char *id, const char *json, size_t len, int schema)
{
    struct daemon *d = ud;
    struct lw_err err = {0};
    (void)schema;
    if (outbox_restore(d->outbox, json, len, &err) != 0)
        log_kv(LOG_LEVEL_WARN, "outbox item not restored", "id", id, "error", err.msg, NULL);
    return 0;
}

static void outbox_item_corrupt(void *ud, const struct lw_err *what)
{
    (void)ud;
    log_kv(LOG_LEVEL_WARN, "outbox item corrupt, moved aside", "file", what->file, "error",
           what->msg, NULL);
}

static void state_restore_all(struct daemon *d)
{
    size_t len = 0;
    struct lw_err err = {0};
    char *json = state_get(d, "silences", &len);
    if (json && silences_load(&d->silences, json, len, &err) != 0)
        log_kv(LOG_LEVEL_WARN, "silences not restored", "error", err.msg, NULL);
    free(json);
    json = state_get(d, "failover", &len);
    if (json && failover_load(d->failover, json, len, &err) != 0)
        log_kv(LOG_LEVEL_WARN, "failover episodes not restored", "error", err.msg, NULL);
    free(json);
    json = d->dispatch ? state_get(d, "nflog", &len) : NULL;
    if (json && dispatch_nflog_load(d->dispatch, json, len, &err) != 0)
        log_kv(LOG_LEVEL_WARN, "notification log not restored", "error", err.msg, NULL);
    free(json);
    json = d->rules ? state_get(d, "alerts", &len) : NULL;
    if (json && rule_set_restore(d->rules, json, len, &err) != 0)
        log_kv(LOG_LEVEL_WARN, "alert states not restored", "error", err.msg, NULL);
    free(json);
    long n = state_list(d->state, "outbox", outbox_item_loaded, outbox_item_corrupt, d, &err);
    if (n < 0)
        log_kv(LOG_LEVEL_WARN, "outbox not restored", "error", err.msg, NULL);
    else if (n > 0)
        log_info("restored %ld queued notification(s)", n);
}

/* ---- suppression for the dispatcher -------------------------------------------------------- */

static bool alert_held(void *ud, const struct lw_labels *alert, int64_t now_ms)
{
    struct daemon *d = ud;
    const char *pipeline = lw_labels_get(alert, "pipeline");
    const char *cluster = pipeline ? runtime_pipeline_cluster(d->rt, pipeline) : NULL;
    if (!cluster)
        cluster = lw_labels_get(alert, "dbcluster_identifier");
    return cluster && failover_held(d->failover, cluster, now_ms);
}

/* Labels of every firing alert (for inhibit rules); *out malloc'd. */
static size_t firing_labels(const struct daemon *d, const struct lw_labels ***out)
{
    size_t n = 0, cap = 0;
    const struct lw_labels **v = NULL;
    for (size_t g = 0; d->rules && g < rule_set_group_count(d->rules); g++) {
        const struct rule_group *grp = rule_set_group(d->rules, g);
        for (size_t r = 0; r < rule_group_rule_count(grp); r++) {
            const struct alert_rule *ar = rule_alert(rule_group_rule(grp, r));
            for (size_t i = 0; ar && i < alert_rule_count(ar); i++) {
                const struct alert *a = alert_rule_at(ar, i);
                if (a->state != ALERT_FIRING)
                    continue;
                if (n == cap) {
                    cap = cap ? cap * 2 : 16;
                    const struct lw_labels **nv = realloc(v, cap * sizeof *nv);
                    if (!nv)
                        break;
                    v = nv;
                }
                v[n++] = &a->labels;
            }
        }
    }
    *out = v;
    return n;
}

static bool alert_muted(void *ud, const struct route *r, const struct lw_labels *alert,
                        int64_t now_ms)
{
    struct daemon *d = ud;
    if (silences_mutes(&d->silences, alert, now_ms))
        return true;
    const struct notify_config *nc = &d->cfg->notify;
    if (nc->n_inhibit) {
        const struct lw_labels **firing = NULL;
        size_t n = firing_labels(d, &firing);
        bool muted = inhibit_mutes(nc->inhibit, nc->n_inhibit, firing, n, alert, NULL);
        free(firing);
        if (muted)
            return true;
    }
    for (size_t i = 0; r && i < r->n_mute; i++) {
        const struct time_interval *ti = notify_config_interval(nc, r->mute_time_intervals[i]);
        if (ti && time_interval_contains(ti, now_ms))
            return true;
    }
    if (r && r->n_active) {
        for (size_t i = 0; i < r->n_active; i++) {
            const struct time_interval *ti =
                notify_config_interval(nc, r->active_time_intervals[i]);
            if (ti && time_interval_contains(ti, now_ms))
                return false;
        }
        return true;
    }
    return false;
}

static bool send_resolved_default(void *ud, const char *receiver)
{
    (void)ud;
    (void)receiver;
    return true;
}

/* ---- rules --------------------------------------------------------------------------------- */

static int load_rules(const struct config *cfg, struct rule_set **out, struct lw_err *err)
{
    char **paths = NULL;
    size_t n = 0;
    if (config_rule_paths(cfg, &paths, &n, err) != 0)
        return -1;
    struct rule_load_options o;
    rulefiles_config_options(cfg, &o);
    int rc = rulefiles_load((const char *const *)paths, n, &o, out, err);
    config_paths_free(paths);
    return rc;
}

static struct seen_alert *seen_find(struct daemon *d, const struct rule *r, uint64_t fp)
{
    for (size_t i = 0; i < d->n_seen; i++)
        if (d->seen[i].rule == r && d->seen[i].fp == fp)
            return &d->seen[i];
    return NULL;
}

static struct seen_alert *seen_add(struct daemon *d)
{
    if (d->n_seen == d->cap_seen) {
        size_t cap = d->cap_seen ? d->cap_seen * 2 : 32;
        struct seen_alert *nv = realloc(d->seen, cap * sizeof *nv);
        if (!nv)
            return NULL;
        d->seen = nv;
        d->cap_seen = cap;
    }
    return &d->seen[d->n_seen++];
}

static void log_alert(const char *rule, const struct alert *a, const char *state)
{
    struct lw_buf b;
    lw_buf_init(&b, 64 * 1024);
    (void)lw_labels_format(&a->labels, &b);
    char v[40];
    expfmt_format_value(a->value, v, sizeof v);
    log_kv(LOG_LEVEL_INFO, "alert state", "alertname", rule, "state", state, "labels",
           lw_buf_failed(&b) ? "" : lw_buf_str(&b), "value", v, NULL);
    lw_buf_cleanup(&b);
}

/* The dispatcher's view of an alert that fired: firing, or resolved after firing. */
static void put_alert(struct daemon *d, const struct alert *a, int64_t now_ms)
{
    bool resolved = a->state == ALERT_INACTIVE && a->resolved_at_ms != 0;
    if (!d->dispatch || !d->cfg->notify.route || a->fired_at_ms == 0 ||
        (a->state != ALERT_FIRING && !resolved))
        return;
    struct dispatch_alert da = {0};
    if (lw_labels_copy(&da.labels, &a->labels) != 0)
        return;
    const struct lw_labels *ext = &d->cfg->global.external_labels;
    for (size_t i = 0; i < ext->n; i++)
        if (!lw_labels_get(&da.labels, ext->v[i].name) &&
            lw_labels_set(&da.labels, ext->v[i].name, ext->v[i].value) != 0) {
            lw_labels_cleanup(&da.labels);
            return;
        }
    da.annotations = a->annotations; /* borrowed: dispatch_put copies */
    da.starts_at_ms = a->fired_at_ms;
    da.ends_at_ms = resolved ? a->resolved_at_ms : 0;
    da.value = a->value;
    da.has_value = true;
    da.generator_url = d->cfg->global.external_url;
    struct lw_err err = {0};
    if (dispatch_put(d->dispatch, &da, now_ms, &err) != 0)
        log_kv(LOG_LEVEL_ERROR, "cannot queue alert for notification", "error", err.msg, NULL);
    lw_labels_cleanup(&da.labels);
}

/* After a group's evaluation: log changes, feed the dispatcher, note what to persist. */
static void after_eval(struct daemon *d, const struct rule_group *g, int64_t now_ms)
{
    for (size_t i = 0; i < d->n_seen; i++)
        d->seen[i].present = false;
    for (size_t r = 0; r < rule_group_rule_count(g); r++) {
        const struct rule *rule = rule_group_rule(g, r);
        const struct alert_rule *ar = rule_alert(rule);
        for (size_t i = 0; ar && i < alert_rule_count(ar); i++) {
            const struct alert *a = alert_rule_at(ar, i);
            bool resolved = a->state == ALERT_INACTIVE && a->resolved_at_ms != 0;
            struct seen_alert *s = seen_find(d, rule, a->fingerprint);
            if (!s) {
                s = seen_add(d);
                if (!s)
                    continue;
                s->rule = rule;
                s->fp = a->fingerprint;
                s->state = ALERT_INACTIVE;
                s->resolved = false;
            }
            s->present = true;
            if (s->state != a->state || s->resolved != resolved) {
                log_alert(rule_name(rule), a, resolved ? "resolved" : alert_state_str(a->state));
                d->dirty_alerts = true;
                s->state = a->state;
                s->resolved = resolved;
            }
            put_alert(d, a, now_ms);
        }
    }
    /* Alerts of this group that are gone entirely (pending ones dropped, retention over). */
    for (size_t i = 0; i < d->n_seen;) {
        struct seen_alert *s = &d->seen[i];
        bool mine = false;
        for (size_t r = 0; r < rule_group_rule_count(g) && !mine; r++)
            mine = rule_group_rule(g, r) == s->rule;
        if (mine && !s->present) {
            if (s->state == ALERT_PENDING)
                log_kv(LOG_LEVEL_INFO, "alert state", "alertname", rule_name(s->rule), "state",
                       "inactive", NULL);
            d->dirty_alerts = true;
            d->seen[i] = d->seen[--d->n_seen];
            continue;
        }
        i++;
    }
}

static void eval_group(void *ud, int64_t now_mono_ms)
{
    (void)now_mono_ms;
    struct group_job *gj = ud;
    struct daemon *d = gj->d;
    struct rule_group *g = gj->g;
    int64_t t = lw_wall_ms();
    int64_t t0 = lw_mono_ms();
    struct lw_err err = {0};
    int rc = rule_group_eval(g, d->store, t, &err);
    d->last_eval_s = (double)(lw_mono_ms() - t0) / 1000.0;
    d->evaluations++;
    if (rc < 0) {
        d->eval_failures++;
        log_kv(LOG_LEVEL_ERROR, "rule group evaluation failed", "group", rule_group_name(g),
               "error", err.msg, NULL);
    } else if (rc > 0) {
        d->eval_failures++;
        for (size_t r = 0; r < rule_group_rule_count(g); r++) {
            const struct rule *rule = rule_group_rule(g, r);
            if (rule_health(rule) == RULE_HEALTH_ERR)
                log_kv(LOG_LEVEL_WARN, "rule failed", "group", rule_group_name(g), "rule",
                       rule_name(rule), "error", rule_last_error(rule), NULL);
        }
    }
    after_eval(d, g, t);
    if (!d->group_done[gj->index]) {
        d->group_done[gj->index] = true;
        d->groups_evaluated++;
    }
}

/* ---- housekeeping -------------------------------------------------------------------------- */

/* Alertmanager integrations get every active alert, as Prometheus pushes them (the notifier
 * rate-limits itself); nothing to do when no receiver has one. */
static void push_alertmanager(struct daemon *d, int64_t now_ms)
{
    const struct receivers *rs = &d->cfg->notify.receivers;
    bool any = false;
    for (size_t i = 0; i < rs->n && !any; i++)
        any = rs->v[i].n_alertmanager > 0;
    if (!any || !d->cfg->notify.route || !d->rules)
        return;
    struct dispatch_alert *v = NULL;
    const struct dispatch_alert **pv = NULL;
    size_t n = 0, cap = 0;
    for (size_t g = 0; g < rule_set_group_count(d->rules); g++) {
        const struct rule_group *grp = rule_set_group(d->rules, g);
        for (size_t r = 0; r < rule_group_rule_count(grp); r++) {
            const struct alert_rule *ar = rule_alert(rule_group_rule(grp, r));
            for (size_t i = 0; ar && i < alert_rule_count(ar); i++) {
                const struct alert *a = alert_rule_at(ar, i);
                bool resolved = a->state == ALERT_INACTIVE && a->resolved_at_ms != 0;
                if (a->fired_at_ms == 0 || (a->state != ALERT_FIRING && !resolved))
                    continue;
                if (n == cap) {
                    cap = cap ? cap * 2 : 16;
                    struct dispatch_alert *nv = realloc(v, cap * sizeof *nv);
                    if (!nv)
                        goto done;
                    v = nv;
                }
                memset(&v[n], 0, sizeof v[n]);
                v[n].labels = a->labels; /* borrowed for the call */
                v[n].annotations = a->annotations;
                v[n].starts_at_ms = a->fired_at_ms;
                v[n].ends_at_ms = resolved ? a->resolved_at_ms : 0;
                v[n].generator_url = d->cfg->global.external_url;
                v[n].fingerprint = a->fingerprint;
                n++;
            }
        }
    }
    pv = malloc((n ? n : 1) * sizeof *pv);
    if (pv) {
        for (size_t i = 0; i < n; i++)
            pv[i] = &v[i];
        notifier_push_alertmanager(d->notifier, d->cfg->notify.route, pv, n, now_ms);
    }
done:
    free(pv);
    free(v);
}

/* Each failover episode is itself an alert, AuroraFailover{cluster, severity="info"}, routed
 * like any other (users may route or drop it): firing while the episode is active, resolved at
 * its end, re-put while the dispatcher retains resolved alerts. It is never held: it is the
 * reason the others are. */
static void put_failover_alerts(struct daemon *d, int64_t now_ms)
{
    if (!d->cfg->notify.route)
        return;
    for (size_t i = 0; i < failover_count(d->failover); i++) {
        const struct failover_cluster *c = failover_at(d->failover, i);
        if (c->started_ms == 0 ||
            (c->phase != FAILOVER_ACTIVE && now_ms - c->ended_ms > ALERT_RESOLVED_RETENTION_MS))
            continue;
        struct dispatch_alert da = {0};
        lw_labels_init(&da.labels);
        lw_labels_init(&da.annotations);
        char summary[512];
        snprintf(summary, sizeof summary, "Aurora cluster %s is failing over", c->cluster);
        int rc = lw_labels_set(&da.labels, "alertname", "AuroraFailover") |
                 lw_labels_set(&da.labels, "cluster", c->cluster) |
                 lw_labels_set(&da.labels, "severity", "info") |
                 lw_labels_set(&da.annotations, "summary", summary) |
                 lw_labels_set(&da.annotations, "description", c->reason ? c->reason : "");
        const struct lw_labels *ext = &d->cfg->global.external_labels;
        for (size_t k = 0; k < ext->n && rc == 0; k++)
            if (!lw_labels_get(&da.labels, ext->v[k].name))
                rc = lw_labels_set(&da.labels, ext->v[k].name, ext->v[k].value);
        da.starts_at_ms = c->started_ms;
        da.ends_at_ms = c->phase == FAILOVER_ACTIVE ? 0 : c->ended_ms;
        da.generator_url = d->cfg->global.external_url;
        struct lw_err err = {0};
        if (rc != 0 || dispatch_put(d->dispatch, &da, now_ms, &err) != 0)
            log_kv(LOG_LEVEL_ERROR, "cannot queue the AuroraFailover alert", "cluster", c->cluster,
                   "error", rc != 0 ? "out of memory" : err.msg, NULL);
        lw_labels_cleanup(&da.labels);
        lw_labels_cleanup(&da.annotations);
    }
}

/* End the failover holds that ran out: logged, persisted, and the held groups flushed at once.
 * Run before every dispatcher flush (not only from housekeeping), so a held notification never
 * goes out before the log says the hold is over. */
static void release_failover_holds(struct daemon *d, int64_t now)
{
    size_t ended = failover_tick(d->failover, now);
    if (ended) {
        d->dirty_failover = true;
        log_info("failover hold over for %zu cluster(s): held notifications go out now", ended);
        if (d->dispatch)
            dispatch_expedite(d->dispatch, now);
    }
}

static void housekeeping(void *ud, int64_t now_mono_ms)
{
    (void)now_mono_ms;
    struct daemon *d = ud;
    int64_t now = lw_wall_ms();
    release_failover_holds(d, now);
    /* Notifications past the outbox's max_age are dropped loudly; their receiver turns failing
     * and the other receivers hear LagwatchNotificationsFailing (notify.h). */
    if (notifier_expire(d->notifier, now) > 0)
        d->dirty_nflog = true;
    put_failover_alerts(d, now);
    push_alertmanager(d, now);
    size_t before = d->silences.n;
    silences_gc(&d->silences, now, DAEMON_SILENCE_RETENTION_MS);
    if (d->silences.n != before)
        d->dirty_silences = true;
}

static void store_gc_job(void *ud, int64_t now_mono_ms)
{
    (void)now_mono_ms;
    struct daemon *d = ud;
    store_gc(d->store, lw_wall_ms());
}

/* Rebuild the scheduler for the current runtime and rule set. */
static int schedule_all(struct daemon *d)
{
    sched_cleanup(&d->sched);
    sched_init(&d->sched);
    int64_t now = lw_mono_ms();
    if (runtime_schedule(d->rt, &d->sched, now) != 0)
        return -1;
    size_t n = d->rules ? rule_set_group_count(d->rules) : 0;
    free(d->group_jobs);
    d->group_jobs = calloc(n ? n : 1, sizeof *d->group_jobs);
    if (!d->group_jobs)
        return -1;
    for (size_t i = 0; i < n; i++) {
        struct rule_group *g = rule_set_group(d->rules, i);
        d->group_jobs[i] = (struct group_job){d, g, i};
        char name[1024];
        snprintf(name, sizeof name, "rules/%s/%s", rule_group_file(g), rule_group_name(g));
        if (sched_add(&d->sched, name,
                      rule_group_interval_ms(g, d->cfg->global.evaluation_interval_ms), eval_group,
                      &d->group_jobs[i], now) < 0)
            return -1;
    }
    if (sched_add(&d->sched, "agent/housekeeping", 1000, housekeeping, d, now) < 0 ||
        sched_add(&d->sched, "agent/store-gc", 60000, store_gc_job, d, now) < 0)
        return -1;
    return 0;
}

/* ---- HTTP endpoint ------------------------------------------------------------------------- */

static int h_healthy(void *ud, const struct httpd_request *req, struct httpd_reply *reply)
{
    (void)ud;
    (void)req;
    lw_buf_adds(&reply->body, "lagwatch is Healthy.\n");
    return 0;
}

static int h_ready(void *ud, const struct httpd_request *req, struct httpd_reply *reply)
{
    (void)req;
    struct daemon *d = ud;
    if (d->ready) {
        lw_buf_adds(&reply->body, "lagwatch is Ready.\n");
    } else {
        reply->status = 503;
        lw_buf_adds(&reply->body, "lagwatch is not ready: waiting for the first evaluation.\n");
    }
    return 0;
}

static void metric_escape(struct lw_buf *b, const char *s)
{
    for (; *s; s++) {
        if (*s == '\\' || *s == '"')
            lw_buf_addc(b, '\\');
        if (*s == '\n') {
            lw_buf_adds(b, "\\n");
            continue;
        }
        lw_buf_addc(b, *s);
    }
}

static void metric_help(struct lw_buf *b, const char *name, const char *type, const char *help)
{
    lw_buf_addf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void metric_value(struct lw_buf *b, double v)
{
    char num[40];
    lw_buf_adds(b, expfmt_format_value(v, num, sizeof num));
    lw_buf_addc(b, '\n');
}

/* Newest non-stale sample of every store series whose name starts with prefix (exact name when
 * exact), with its timestamp when with_t. */
static void metrics_from_store(struct daemon *d, struct lw_buf *b, const char *prefix, bool exact,
                               bool with_t)
{
    const struct store_series **ser = NULL;
    size_t n = 0;
    struct lw_err err;
    struct lw_matcher m;
    bool have_m = false;
    if (exact) {
        if (lw_matcher_init(&m, LW_MATCH_EQ, "__name__", prefix, &err) != 0)
            return;
        have_m = true;
    }
    if (store_select(d->store, have_m ? &m : NULL, have_m ? 1 : 0, &ser, &n, &err) != 0) {
        if (have_m)
            lw_matcher_cleanup(&m);
        return;
    }
    size_t plen = strlen(prefix);
    for (size_t i = 0; i < n; i++) {
        const struct lw_labels *ls = store_series_labels(ser[i]);
        const char *name = lw_labels_get(ls, "__name__");
        if (!name || strncmp(name, prefix, plen) != 0)
            continue;
        const struct store_sample *s = store_series_last(ser[i]);
        if (!s || store_is_stale_nan(s->v))
            continue;
        (void)lw_labels_format_metric(ls, b);
        lw_buf_addc(b, ' ');
        char num[40];
        lw_buf_adds(b, expfmt_format_value(s->v, num, sizeof num));
        if (with_t)
            lw_buf_addf(b, " %lld", (long long)s->t_ms);
        lw_buf_addc(b, '\n');
    }
    free(ser);
    if (have_m)
        lw_matcher_cleanup(&m);
}

static double rss_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return 0;
    char line[128];
    double rss = 0;
    if (fgets(line, sizeof line, f)) {
        char *p = strchr(line, ' ');
        if (p)
            rss = strtod(p + 1, NULL) * (double)sysconf(_SC_PAGESIZE);
    }
    fclose(f);
    return rss;
}

static int h_metrics(void *ud, const struct httpd_request *req, struct httpd_reply *reply)
{
    (void)req;
    struct daemon *d = ud;
    struct lw_buf *b = &reply->body;
    reply->content_type = "text/plain; version=0.0.4; charset=utf-8";

    metric_help(b, "lagwatch_build_info", "gauge", "lagwatch's version.");
    lw_buf_addf(b, "lagwatch_build_info{version=\"%s\"} 1\n", LAGWATCH_VERSION);
    metric_help(b, "lagwatch_ready", "gauge", "1 after the first complete evaluation.");
    lw_buf_addf(b, "lagwatch_ready %d\n", d->ready ? 1 : 0);
    metric_help(b, "process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
    lw_buf_adds(b, "process_resident_memory_bytes ");
    metric_value(b, rss_bytes());
    metric_help(b, "process_start_time_seconds", "gauge", "Start time since the epoch.");
    lw_buf_adds(b, "process_start_time_seconds ");
    metric_value(b, (double)d->started_ms / 1000.0);

    static const char *const src_metrics[][3] = {
        {"lagwatch_source_up", "gauge", "1 when the source's last run succeeded."},
        {"lagwatch_source_last_duration_seconds", "gauge", "Duration of the last run."},
        {"lagwatch_source_runs_total", "counter", "Runs of the source."},
        {"lagwatch_source_failures_total", "counter", "Runs of the source that failed."},
    };
    for (size_t m = 0; m < 4; m++) {
        metric_help(b, src_metrics[m][0], src_metrics[m][1], src_metrics[m][2]);
        for (size_t i = 0; i < runtime_source_count(d->rt); i++) {
            const struct runtime_source_health *h = runtime_source_at(d->rt, i);
            lw_buf_addf(b, "%s{source=\"%s\",pipeline=\"", src_metrics[m][0], h->name);
            metric_escape(b, h->pipeline ? h->pipeline : "");
            lw_buf_adds(b, "\",target=\"");
            metric_escape(b, h->target);
            lw_buf_adds(b, "\"} ");
            double v = m == 0   ? (h->up ? 1 : 0)
                       : m == 1 ? h->last_duration_s
                       : m == 2 ? (double)h->runs
                                : (double)h->failures;
            metric_value(b, v);
        }
    }
    struct runtime_cloudwatch_stats cws;
    runtime_cloudwatch_stats(d->rt, &cws);
    metric_help(b, "lagwatch_cloudwatch_metrics_per_cycle", "gauge",
                "CloudWatch metrics one GetMetricData cycle requests (what is billed).");
    lw_buf_addf(b, "lagwatch_cloudwatch_metrics_per_cycle %zu\n", cws.metrics_per_cycle);
    metric_help(b, "lagwatch_cloudwatch_metrics_requested_total", "counter",
                "CloudWatch metrics requested since start.");
    lw_buf_addf(b, "lagwatch_cloudwatch_metrics_requested_total %zu\n", cws.metrics_requested);
    metric_help(b, "lagwatch_cloudwatch_calls_total", "counter", "GetMetricData calls.");
    lw_buf_addf(b, "lagwatch_cloudwatch_calls_total %zu\n", cws.calls);
    metric_help(b, "lagwatch_cloudwatch_failed_calls_total", "counter",
                "GetMetricData calls that failed.");
    lw_buf_addf(b, "lagwatch_cloudwatch_failed_calls_total %zu\n", cws.failed_calls);
    metric_help(b, "lagwatch_cloudwatch_estimated_monthly_cost_usd", "gauge",
                "Estimated monthly GetMetricData cost of this config.");
    lw_buf_adds(b, "lagwatch_cloudwatch_estimated_monthly_cost_usd ");
    metric_value(b, cws.monthly_cost_usd);

    metric_help(b, "lagwatch_rule_group_last_duration_seconds", "gauge",
                "Duration of the group's last evaluation.");
    for (size_t i = 0; d->rules && i < rule_set_group_count(d->rules); i++) {
        const struct rule_group *g = rule_set_group(d->rules, i);
        lw_buf_adds(b, "lagwatch_rule_group_last_duration_seconds{file=\"");
        metric_escape(b, rule_group_file(g));
        lw_buf_adds(b, "\",group=\"");
        metric_escape(b, rule_group_name(g));
        lw_buf_adds(b, "\"} ");
        metric_value(b, (double)rule_group_last_duration_ns(g) / 1e9);
    }
    metric_help(b, "lagwatch_rule_evaluations_total", "counter", "Rule group evaluations.");
    lw_buf_addf(b, "lagwatch_rule_evaluations_total %llu\n", (unsigned long long)d->evaluations);
    metric_help(b, "lagwatch_rule_evaluation_failures_total", "counter",
                "Rule group evaluations in which a rule failed.");
    lw_buf_addf(b, "lagwatch_rule_evaluation_failures_total %llu\n",
                (unsigned long long)d->eval_failures);

    const struct notifier_stats *ns = d->notifier ? notifier_stats(d->notifier) : NULL;
    metric_help(b, "lagwatch_notifications_sent_total", "counter", "Notifications delivered.");
    lw_buf_addf(b, "lagwatch_notifications_sent_total %llu\n",
                (unsigned long long)(ns ? ns->sent : 0));
    metric_help(b, "lagwatch_notifications_failed_total", "counter",
                "Notification attempts that failed.");
    lw_buf_addf(b, "lagwatch_notifications_failed_total %llu\n",
                (unsigned long long)(ns ? ns->failed : 0));
    metric_help(b, "lagwatch_notifications_dropped_total", "counter", "Notifications given up on.");
    lw_buf_addf(b, "lagwatch_notifications_dropped_total %llu\n",
                (unsigned long long)(ns ? ns->dropped : 0));
    metric_help(b, "lagwatch_receiver_failing", "gauge",
                "1 while a receiver's notifications are dropped for good.");
    for (size_t i = 0; i < notifier_health_count(d->notifier); i++) {
        const struct notifier_receiver_health *h = notifier_health_at(d->notifier, i);
        lw_buf_adds(b, "lagwatch_receiver_failing{receiver=\"");
        metric_escape(b, h->receiver);
        lw_buf_addf(b, "\"} %d\n", h->failing ? 1 : 0);
    }
    metric_help(b, "lagwatch_outbox_queued", "gauge", "Notifications waiting for delivery.");
    lw_buf_addf(b, "lagwatch_outbox_queued %zu\n", outbox_len(d->outbox));

    metric_help(b, "lagwatch_store_series", "gauge", "Series in the sample store.");
    lw_buf_addf(b, "lagwatch_store_series %zu\n", store_series_count(d->store));
    metric_help(b, "lagwatch_store_samples", "gauge", "Samples in the sample store.");
    lw_buf_addf(b, "lagwatch_store_samples %zu\n", store_sample_count(d->store));
    metric_help(b, "lagwatch_store_bytes", "gauge", "Heap bytes the sample store holds.");
    lw_buf_addf(b, "lagwatch_store_bytes %zu\n", store_bytes(d->store));

    metric_help(b, "lagwatch_failover_held", "gauge",
                "1 while a cluster's alerts are held back (failover episode or its hold).");
    int64_t now = lw_wall_ms();
    for (size_t i = 0; i < failover_count(d->failover); i++) {
        const struct failover_cluster *c = failover_at(d->failover, i);
        lw_buf_adds(b, "lagwatch_failover_held{cluster=\"");
        metric_escape(b, c->cluster);
        lw_buf_addf(b, "\"} %d\n", failover_held(d->failover, c->cluster, now) ? 1 : 0);
    }
    /* Every CloudWatch series fetched (with CloudWatch's timestamps) and the alerts. */
    metrics_from_store(d, b, "aws_", false, true);
    metrics_from_store(d, b, "ALERTS", true, false);
    metrics_from_store(d, b, "ALERTS_FOR_STATE", true, false);
    return lw_buf_failed(b) ? -1 : 0;
}

/* The views (views.h) read the daemon's state through a context filled per request. */
static int with_views(struct daemon *d,
                      int (*fn)(struct daemon *, const struct views_context *,
                                const struct httpd_request *, struct httpd_reply *),
                      const struct httpd_request *req, struct httpd_reply *reply)
{
    size_t n = runtime_source_count(d->rt);
    const struct runtime_source_health **src = malloc((n ? n : 1) * sizeof *src);
    if (!src)
        return -1;
    for (size_t i = 0; i < n; i++)
        src[i] = runtime_source_at(d->rt, i);
    struct views_context c = {.cfg = d->cfg,
                              .rules = d->rules,
                              .store = d->store,
                              .sources = src,
                              .n_sources = n,
                              .silences = &d->silences,
                              .failover = d->failover,
                              .notifier = d->notifier,
                              .now_ms = lw_wall_ms(),
                              .version = LAGWATCH_VERSION};
    int rc = fn(d, &c, req, reply);
    free(src);
    return rc;
}

static int view_alerts(struct daemon *d, const struct views_context *c,
                       const struct httpd_request *req, struct httpd_reply *reply)
{
    (void)d;
    (void)req;
    reply->content_type = "application/json";
    return views_api_alerts(c, &reply->body);
}

static int view_rules(struct daemon *d, const struct views_context *c,
                      const struct httpd_request *req, struct httpd_reply *reply)
{
    (void)d;
    reply->content_type = "application/json";
    int rc = views_api_rules(c, httpd_query_arg(req, "type"), &reply->body);
    if (rc == 1)
        reply->status = 400;
    return rc < 0 ? -1 : 0;
}

static int view_status(struct daemon *d, const struct views_context *c,
                       const struct httpd_request *req, struct httpd_reply *reply)
{
    (void)d;
    if (strcmp(req->path, "/") != 0) {
        reply->status = 404;
        lw_buf_adds(&reply->body, "404 page not found\n");
        return 0;
    }
    reply->content_type = "text/html; charset=utf-8";
    return views_status_page(c, &reply->body);
}

static int h_alerts(void *ud, const struct httpd_request *req, struct httpd_reply *reply)
{
    return with_views(ud, view_alerts, req, reply);
}

static int h_rules(void *ud, const struct httpd_request *req, struct httpd_reply *reply)
{
    return with_views(ud, view_rules, req, reply);
}

static int h_status(void *ud, const struct httpd_request *req, struct httpd_reply *reply)
{
    return with_views(ud, view_status, req, reply);
}

/* The built-in runbook of the default rule pack (its runbook_url links point here). */
static int h_runbook(void *ud, const struct httpd_request *req, struct httpd_reply *reply)
{
    (void)ud;
    (void)req;
    reply->content_type = "text/html; charset=utf-8";
    return runbook_html(&reply->body);
}

static int64_t ops_now(void *ud)
{
    (void)ud;
    return lw_wall_ms();
}

static void ops_changed(void *ud, const char *what)
{
    struct daemon *d = ud;
    if (strcmp(what, "silences") == 0)
        d->dirty_silences = true;
    else if (strcmp(what, "failover") == 0)
        d->dirty_failover = true;
}

static int httpd_setup(struct daemon *d, struct lw_err *err)
{
    if (httpd_start(d->cfg->global.listen, &d->httpd, err) != 0)
        return -1;
    d->ops.silences = &d->silences;
    d->ops.failover = d->failover;
    d->ops.now_ms = ops_now;
    d->ops.changed = ops_changed;
    d->ops.ud = d;
    if (httpd_route(d->httpd, "/-/healthy", h_healthy, d) != 0 ||
        httpd_route(d->httpd, "/-/ready", h_ready, d) != 0 ||
        httpd_route(d->httpd, "/metrics", h_metrics, d) != 0 ||
        httpd_route(d->httpd, "/api/v1/alerts", h_alerts, d) != 0 ||
        httpd_route(d->httpd, "/api/v1/rules", h_rules, d) != 0 ||
        httpd_route(d->httpd, "/runbook", h_runbook, d) != 0 ||
        api_ops_register(d->httpd, &d->ops) != 0 || httpd_route(d->httpd, "/", h_status, d) != 0)
        return lw_err_set(err, 0, 0, "cannot register the HTTP routes");
    return 0;
}

/* ---- building, reloading, stopping --------------------------------------------------------- */

static int build_runtime(struct daemon *d, const struct config *cfg, struct runtime **out,
                         struct lw_err *err)
{
    struct runtime_options ro = {.http = d->http,
                                 .sink = source_store_sink(&d->ss),
                                 .failover = d->failover,
                                 .cw_lookback_s = d->reach_ms / 1000};
    return runtime_new(cfg, &ro, out, err);
}

/* Forget evaluation progress and take the alerts the rules hold now (restored or carried
 * over) as the known states, so only real changes are logged. */
static void reset_eval_progress(struct daemon *d)
{
    free(d->group_done);
    size_t n = d->rules ? rule_set_group_count(d->rules) : 0;
    d->group_done = calloc(n ? n : 1, sizeof *d->group_done);
    d->groups_evaluated = 0;
    d->n_seen = 0;
    for (size_t g = 0; g < n; g++) {
        const struct rule_group *grp = rule_set_group(d->rules, g);
        for (size_t r = 0; r < rule_group_rule_count(grp); r++) {
            const struct rule *rule = rule_group_rule(grp, r);
            const struct alert_rule *ar = rule_alert(rule);
            for (size_t i = 0; ar && i < alert_rule_count(ar); i++) {
                const struct alert *a = alert_rule_at(ar, i);
                struct seen_alert *s = seen_add(d);
                if (!s)
                    return;
                s->rule = rule;
                s->fp = a->fingerprint;
                s->state = a->state;
                s->resolved = a->state == ALERT_INACTIVE && a->resolved_at_ms != 0;
                s->present = false;
            }
        }
    }
}

static bool has_alert(const struct rule_set *rs, uint64_t fp)
{
    for (size_t g = 0; g < rule_set_group_count(rs); g++) {
        const struct rule_group *grp = rule_set_group(rs, g);
        for (size_t r = 0; r < rule_group_rule_count(grp); r++) {
            const struct alert_rule *ar = rule_alert(rule_group_rule(grp, r));
            for (size_t i = 0; ar && i < alert_rule_count(ar); i++)
                if (alert_rule_at(ar, i)->fingerprint == fp)
                    return true;
        }
    }
    return false;
}

/* After a reload: firing alerts of rules that are gone (not carried over) will never be
 * evaluated again; tell the dispatcher they resolved now, so receivers hear the end of them
 * rather than nothing. The alerts still alive are put again at their next evaluation. */
static void resolve_vanished(struct daemon *d, const struct rule_set *old, int64_t now_ms)
{
    for (size_t g = 0; old && g < rule_set_group_count(old); g++) {
        const struct rule_group *grp = rule_set_group(old, g);
        for (size_t r = 0; r < rule_group_rule_count(grp); r++) {
            const struct rule *rule = rule_group_rule(grp, r);
            const struct alert_rule *ar = rule_alert(rule);
            for (size_t i = 0; ar && i < alert_rule_count(ar); i++) {
                const struct alert *a = alert_rule_at(ar, i);
                if (a->state != ALERT_FIRING || has_alert(d->rules, a->fingerprint))
                    continue;
                struct alert gone = *a; /* shallow: labels stay owned by the old rule */
                gone.state = ALERT_INACTIVE;
                gone.resolved_at_ms = now_ms;
                log_alert(rule_name(rule), a, "resolved (rule removed by reload)");
                put_alert(d, &gone, now_ms);
            }
        }
    }
}

/* How much history the rules read (longest range or subquery plus offset, at least the 5-minute
 * lookback) plus slack: the store's retention, and how far back CloudWatch's first window goes. */
static int64_t rules_reach_ms(const struct rule_set *rs)
{
    int64_t reach = DAEMON_MIN_RETENTION_MS;
    for (size_t g = 0; rs && g < rule_set_group_count(rs); g++) {
        const struct rule_group *grp = rule_set_group(rs, g);
        for (size_t r = 0; r < rule_group_rule_count(grp); r++) {
            int64_t ms = rule_input_reach_ms(rule_group_rule(grp, r)) + DAEMON_RETENTION_SLACK_MS;
            if (ms > reach)
                reach = ms;
        }
    }
    return reach;
}

static void reload(struct daemon *d)
{
    struct lw_err err = {0};
    struct config *cfg = NULL;
    struct rule_set *rules = NULL;
    struct runtime *rt = NULL;
    log_info("reloading the configuration");
    int64_t old_reach = d->reach_ms;
    if (config_load_file(d->config_path, NULL, &cfg, &err) == 0 &&
        load_rules(cfg, &rules, &err) == 0)
        d->reach_ms = rules_reach_ms(rules); /* the new runtime's CloudWatch window */
    if (!rules || build_runtime(d, cfg, &rt, &err) != 0) {
        d->reach_ms = old_reach;
        d->reload_failures++;
        log_err("reload failed, keeping the running configuration", &err);
        rule_set_free(rules);
        config_free(cfg);
        return;
    }
    if (rule_set_carry_over(rules, d->rules, &err) != 0) {
        d->reach_ms = old_reach;
        d->reload_failures++;
        log_err("reload failed, keeping the running configuration", &err);
        runtime_free(rt);
        rule_set_free(rules);
        config_free(cfg);
        return;
    }
    if (strcmp(cfg->global.listen, d->cfg->global.listen) != 0)
        log_kv(LOG_LEVEL_WARN, "global.listen changed: takes effect at the next restart", "listen",
               d->cfg->global.listen, NULL);
    if (strcmp(cfg->global.state_dir, d->cfg->global.state_dir) != 0)
        log_kv(LOG_LEVEL_WARN, "global.state_dir changed: takes effect at the next restart",
               "state_dir", d->cfg->global.state_dir, NULL);
    /* Swap: the old runtime's jobs leave the scheduler before it goes. */
    struct runtime *old_rt = d->rt;
    struct rule_set *old_rules = d->rules;
    struct config *old_cfg = d->cfg;
    d->rt = rt;
    d->rules = rules;
    d->cfg = cfg;
    if (schedule_all(d) != 0)
        log_kv(LOG_LEVEL_ERROR, "out of memory scheduling the new configuration", NULL);
    if (d->notifier)
        notifier_set_receivers(d->notifier, &cfg->notify.receivers);
    outbox_set_max_age(d->outbox, cfg->global.notification_max_age_ms);
    if (d->dispatch)
        dispatch_set_route(d->dispatch, cfg->notify.route);
    resolve_vanished(d, old_rules, lw_wall_ms());
    if (store_set_retention(d->store, d->reach_ms) != 0)
        log_kv(LOG_LEVEL_ERROR, "cannot change the store's retention", NULL);
    reset_eval_progress(d);
    d->dirty_alerts = true;
    runtime_free(old_rt);
    rule_set_free(old_rules);
    config_free(old_cfg); /* the endpoint read its address at start: nothing points here now */
    d->reloads++;
    log_kv(LOG_LEVEL_INFO, "configuration reloaded", "config", d->config_path, NULL);
}

static void daemon_free(struct daemon *d)
{
    httpd_stop(d->httpd);
    sched_cleanup(&d->sched);
    runtime_free(d->rt);
    notifier_free(d->notifier);
    http_client_free(d->http); /* cancels what is left; callbacks see orphaned contexts */
    dispatch_free(d->dispatch);
    outbox_free(d->outbox);
    rule_set_free(d->rules);
    source_store_sink_cleanup(&d->ss);
    store_free(d->store);
    silences_cleanup(&d->silences);
    failover_free(d->failover);
    state_close(d->state);
    config_free(d->cfg);
    free(d->seen);
    free(d->group_done);
    free(d->group_jobs);
}

static int daemon_build(struct daemon *d, struct lw_err *err)
{
    struct config *cfg = d->cfg;
    if (state_open(cfg->global.state_dir, &d->state, err) != 0)
        return -1;
    d->failover = failover_new(cfg->failover_hold_ms);
    silences_init(&d->silences);
    d->reach_ms = rules_reach_ms(d->rules);
    struct store_options so = {.retention_ms = d->reach_ms};
    d->store = store_new(&so);
    if (!d->failover || !d->store)
        return lw_err_set(err, 0, 0, "out of memory");
    source_store_sink_init(&d->ss, d->store);
    if (!(d->http = http_client_new(NULL, err)))
        return -1;
    struct outbox_hooks hooks = {.put = outbox_put, .del = outbox_del, .ud = d};
    d->outbox = outbox_new(&hooks, cfg->global.notification_max_age_ms);
    if (!d->outbox)
        return lw_err_set(err, 0, 0, "out of memory");
    const char *ext = cfg->global.external_url ? cfg->global.external_url : "";
    d->notifier = notifier_new(d->http, d->outbox, &cfg->notify.receivers, ext);
    if (!d->notifier)
        return lw_err_set(err, 0, 0, "out of memory");
    /* Always a dispatcher, so a reload can add a route; with no route nothing is put. */
    struct dispatch_options dopts = {.root = cfg->notify.route,
                                     .held = alert_held,
                                     .held_ud = d,
                                     .muted = alert_muted,
                                     .muted_ud = d,
                                     .send_resolved = send_resolved_default};
    d->dispatch = dispatch_new(&dopts);
    if (!d->dispatch)
        return lw_err_set(err, 0, 0, "out of memory");
    if (build_runtime(d, cfg, &d->rt, err) != 0)
        return -1;
    state_restore_all(d);
    reset_eval_progress(d);
    sched_init(&d->sched);
    if (schedule_all(d) != 0)
        return lw_err_set(err, 0, 0, "out of memory");
    return httpd_setup(d, err);
}

/* Bounded wait for requests in flight, then every piece of state to disk. */
static void daemon_stop(struct daemon *d)
{
    log_info("stopping: waiting up to %d ms for %zu request(s) in flight", DAEMON_SHUTDOWN_WAIT_MS,
             http_client_pending(d->http));
    int64_t deadline = lw_mono_ms() + DAEMON_SHUTDOWN_WAIT_MS;
    while (http_client_pending(d->http) > 0 && lw_mono_ms() < deadline)
        if (http_client_poll(d->http, 100) != 0)
            break;
    d->dirty_alerts = d->dirty_silences = d->dirty_failover = d->dirty_nflog = true;
    state_flush(d);
    char queued[32];
    snprintf(queued, sizeof queued, "%zu", outbox_len(d->outbox));
    log_kv(LOG_LEVEL_INFO, "stopped", "queued_notifications", queued, NULL);
}

static void update_ready(struct daemon *d)
{
    if (d->ready || !runtime_all_ran(d->rt))
        return;
    size_t groups = d->rules ? rule_set_group_count(d->rules) : 0;
    if (d->groups_evaluated < groups)
        return;
    d->ready = true;
    log_info("ready: every source ran and every rule group was evaluated");
}

static int64_t min_wait(int64_t a, int64_t b)
{
    if (a < 0)
        return b;
    if (b < 0)
        return a;
    return a < b ? a : b;
}

int daemon_run(const struct daemon_options *o)
{
    struct daemon d;
    memset(&d, 0, sizeof d);
    d.config_path = o->config_path;
    d.started_ms = lw_wall_ms();
    struct lw_err err = {0};
    if (config_load_file(o->config_path, NULL, &d.cfg, &err) != 0) {
        log_err("bad configuration", &err);
        return 2;
    }
    if (load_rules(d.cfg, &d.rules, &err) != 0) {
        log_err("bad rule file", &err);
        config_free(d.cfg);
        return 2;
    }
    int sigpipe[2] = {-1, -1};
    if (signals_install(sigpipe) != 0) {
        log_kv(LOG_LEVEL_ERROR, "cannot install signal handlers", "error", strerror(errno), NULL);
        rule_set_free(d.rules);
        config_free(d.cfg);
        return 1;
    }
    if (daemon_build(&d, &err) != 0) {
        log_err("cannot start", &err);
        daemon_free(&d);
        close(sigpipe[0]);
        close(sigpipe[1]);
        sig_pipe_w = -1;
        return 2;
    }
    char port[16], sources[32], groups[32];
    snprintf(port, sizeof port, "%d", httpd_port(d.httpd));
    snprintf(sources, sizeof sources, "%zu", runtime_source_count(d.rt));
    snprintf(groups, sizeof groups, "%zu", d.rules ? rule_set_group_count(d.rules) : 0);
    log_kv(LOG_LEVEL_INFO, "lagwatch started", "version", LAGWATCH_VERSION, "listen",
           d.cfg->global.listen, "port", port, "sources", sources, "rule_groups", groups, NULL);
    int rc = 0;
    while (!got_term) {
        int64_t mono = lw_mono_ms();
        sched_run_due(&d.sched, mono);
        int64_t wall = lw_wall_ms();
        release_failover_holds(&d, wall);
        if (dispatch_next_due_ms(d.dispatch) <= wall) {
            int emitted = dispatch_flush_due(d.dispatch, wall, notifier_emit, d.notifier);
            if (emitted > 0)
                d.dirty_nflog = true;
        }
        notifier_pump(d.notifier, wall);
        update_ready(&d);
        state_flush(&d);

        int64_t wait = sched_next_in_ms(&d.sched, lw_mono_ms());
        wait = min_wait(wait, http_client_timeout_ms(d.http));
        wait = min_wait(wait, httpd_timeout_ms(d.httpd));
        int64_t due = dispatch_next_due_ms(d.dispatch);
        if (due != INT64_MAX)
            wait = min_wait(wait, due > wall ? due - wall : 0);
        /* notifier_pump just started every item it could: one still due is blocked (behind an
         * item of its group in flight, or by the endpoint's spacing) and a finishing request
         * wakes the poll anyway, so a due time in the past must not spin the loop. */
        due = outbox_next_due_ms(d.outbox);
        if (due != INT64_MAX)
            wait =
                min_wait(wait, due > wall + DAEMON_OUTBOX_MIN_WAIT_MS ? due - wall
                                                                      : DAEMON_OUTBOX_MIN_WAIT_MS);
        wait = min_wait(wait, DAEMON_MAX_WAIT_MS);
        struct http_waitfd fds[2] = {{httpd_fd(d.httpd), false}, {sigpipe[0], false}};
        if (http_client_poll_fds(d.http, fds, 2, (int)wait) != 0) {
            log_kv(LOG_LEVEL_ERROR, "HTTP client polling failed", NULL);
            rc = 1;
            break;
        }
        httpd_run(d.httpd);
        if (fds[1].readable) {
            char buf[64];
            while (read(sigpipe[0], buf, sizeof buf) > 0)
                ;
        }
        if (got_hup) {
            got_hup = 0;
            reload(&d);
        }
    }
    daemon_stop(&d);
    daemon_free(&d);
    sig_pipe_w = -1;
    close(sigpipe[0]);
    close(sigpipe[1]);
    return rc;
}
