/*
 * cmd_check.c — `lagwatch check -c FILE`: the one-shot form of the agent, for CI and humans.
 *
 *  1. Load the config and its rule files exactly as `run` does (errors: exit 2).
 *  2. Fetch every source once through the runtime (runtime.h). CloudWatch is asked for history
 *     over --lookback (default: the longest `for` plus the longest range any rule reads, plus one
 *     evaluation interval, at least 15m), so Aurora alerts are evaluated over real history.
 *     With --duration the other sources are scraped again every scrape_interval for that long.
 *  3. Evaluate every rule group step by step, at its own interval, from now - lookback up to
 *     now (groups interleaved in time order, so recording rules feed later groups as in `run`):
 *     `for` means what it says wherever history exists.
 *  4. Report each pending or firing alert with its value, activeAt and what suppresses it
 *     (views_suppressed_by: failover hold, inhibit rules, mute time intervals). A pending alert
 *     whose inputs had no data one evaluation before it became active gets a reason: its `for`
 *     could not be observed in one shot. Output: a table, --output json (the shape of issue 7)
 *     or --output junit.
 *  5. Send nothing, unless --notify: then firing alerts go through the route tree, the
 *     dispatcher and the receivers as `run` would send them (in memory, nothing persisted).
 *
 * Exit codes: 0 nothing firing; 1 an alert is firing (or pending, with --fail-on pending);
 * 2 usage or config error; 3 a source failed and nothing counted as firing. Firing wins over a
 * failed source because it is a fact about the pipeline, while a failed source is a gap.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "lagwatch/config.h"
#include "lagwatch/dispatch.h"
#include "lagwatch/duration.h"
#include "lagwatch/failover.h"
#include "lagwatch/http.h"
#include "lagwatch/log.h"
#include "lagwatch/notify.h"
#include "lagwatch/outbox.h"
#include "lagwatch/rfc3339.h"
#include "lagwatch/rulefiles.h"
#include "lagwatch/rules.h"
#include "lagwatch/runtime.h"
#include "lagwatch/source_store.h"
#include "lagwatch/store.h"
#include "lagwatch/template.h"
#include "lagwatch/views.h"

#define CHECK_EXIT_SOURCE_FAILED 3
#define CHECK_MIN_LOOKBACK_MS    (15 * 60 * 1000)
#define CHECK_DEFAULT_TIMEOUT_MS (2 * 60 * 1000)
#define CHECK_MAX_STEPS          100000 /* evaluations over all groups: bounds --lookback */
#define CHECK_NOTIFY_MAX_WAIT_MS (60 * 1000)

enum check_output { OUT_TABLE, OUT_JSON, OUT_JUNIT };

struct check_opts {
    const char *path;
    int64_t lookback_ms; /* 0: derived from the rules */
    int64_t duration_ms;
    int64_t timeout_ms;
    enum check_output output;
    bool fail_on_pending;
    bool notify;
};

/* One reported alert. */
struct item {
    const struct rule *rule;
    const struct rule_group *group;
    const struct alert *a;
    char reason[320]; /* "" when none */
    struct views_suppression sup[VIEWS_MAX_SUPPRESSIONS];
    size_t n_sup;
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: lagwatch check -c FILE [--lookback DURATION] [--duration DURATION]\n"
            "                      [--output table|json|junit] [--fail-on firing|pending]\n"
            "                      [--notify] [--timeout DURATION]\n\n"
            "Fetch every source of the config once, evaluate the rules step by step over the\n"
            "history CloudWatch has, and report pending and firing alerts and source health.\n"
            "Nothing is sent to receivers unless --notify.\n"
            "  -c, --config FILE     the config file\n"
            "  --lookback DURATION   CloudWatch history to fetch and evaluate over (default: the\n"
            "                        longest `for` plus the longest range a rule reads plus one\n"
            "                        evaluation interval, at least 15m)\n"
            "  --duration DURATION   scrape the other sources repeatedly for this long (every\n"
            "                        scrape_interval) so `for` can be observed on them too\n"
            "  --output FORMAT       table (default), json or junit\n"
            "  --fail-on STATE       firing (default) or pending: what makes the exit code 1\n"
            "  --notify              send firing alerts to their receivers, as `run` would\n"
            "  --timeout DURATION    bound for each fetch round (default 2m)\n"
            "Pending alerts whose `for` cannot be observed in one shot (no data before they\n"
            "became active) are reported with that reason. The estimated monthly CloudWatch\n"
            "API cost of the config is printed (to stderr with --output json or junit).\n"
            "Exit: 0 nothing firing, 1 firing (or pending with --fail-on pending), 2 usage or\n"
            "      config error, 3 a source failed (and nothing firing).\n");
}

static int parse_args(int argc, char **argv, struct check_opts *o)
{
    *o = (struct check_opts){.timeout_ms = CHECK_DEFAULT_TIMEOUT_MS, .output = OUT_TABLE};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        struct lw_err err;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 1;
        } else if ((strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) && v) {
            o->path = v;
        } else if (strcmp(a, "--lookback") == 0 && v) {
            if (duration_parse(v, strlen(v), &o->lookback_ms, &err) != 0 || o->lookback_ms < 60000)
                return cli_usage_error("check", "--lookback takes a duration of at least 1m");
        } else if (strcmp(a, "--duration") == 0 && v) {
            if (duration_parse(v, strlen(v), &o->duration_ms, &err) != 0 || o->duration_ms <= 0)
                return cli_usage_error("check", "--duration takes a positive duration");
        } else if (strcmp(a, "--timeout") == 0 && v) {
            if (duration_parse(v, strlen(v), &o->timeout_ms, &err) != 0 || o->timeout_ms <= 0)
                return cli_usage_error("check", "--timeout takes a positive duration");
        } else if (strcmp(a, "--output") == 0 && v) {
            if (strcmp(v, "table") == 0)
                o->output = OUT_TABLE;
            else if (strcmp(v, "json") == 0)
                o->output = OUT_JSON;
            else if (strcmp(v, "junit") == 0)
                o->output = OUT_JUNIT;
            else
                return cli_usage_error("check", "--output takes table, json or junit");
        } else if (strcmp(a, "--fail-on") == 0 && v) {
            if (strcmp(v, "pending") == 0)
                o->fail_on_pending = true;
            else if (strcmp(v, "firing") != 0)
                return cli_usage_error("check", "--fail-on takes firing or pending");
        } else if (strcmp(a, "--notify") == 0) {
            o->notify = true;
            continue;
        } else {
            return cli_usage_error("check", "unexpected argument '%s'", a);
        }
        i++;
    }
    if (!o->path)
        return cli_usage_error("check", "no config file given (-c FILE)");
    return 0;
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static enum alert_no_data keep_state(void *ud, const char *alert)
{
    (void)ud;
    (void)alert;
    return ALERT_NO_DATA_KEEP_STATE;
}

/* The default lookback: what the rules need to see `for` through, at least 15m. */
static int64_t default_lookback_ms(const struct rule_set *rs, int64_t eval_default_ms)
{
    int64_t need = 0;
    for (size_t g = 0; g < rule_set_group_count(rs); g++) {
        const struct rule_group *grp = rule_set_group(rs, g);
        int64_t iv = rule_group_interval_ms(grp, eval_default_ms);
        for (size_t r = 0; r < rule_group_rule_count(grp); r++) {
            const struct rule *rule = rule_group_rule(grp, r);
            int64_t n = rule_for_ms(rule) + rule_input_reach_ms(rule) + iv;
            if (n > need)
                need = n;
        }
    }
    return need > CHECK_MIN_LOOKBACK_MS ? need : CHECK_MIN_LOOKBACK_MS;
}

/* Evaluation state: the next time each group is due. */
struct evaluator {
    struct rule_set *rs;
    struct store *st;
    int64_t *next_ms; /* per group */
    int64_t *iv_ms;
    size_t steps, failures;
};

/* Evaluate every group at each of its grid times up to until_ms, interleaved in time order. */
static int evaluate_until(struct evaluator *ev, int64_t until_ms, struct lw_err *err)
{
    size_t ng = rule_set_group_count(ev->rs);
    for (;;) {
        size_t best = ng;
        for (size_t g = 0; g < ng; g++)
            if (ev->next_ms[g] <= until_ms && (best == ng || ev->next_ms[g] < ev->next_ms[best]))
                best = g;
        if (best == ng)
            return 0;
        if (++ev->steps > CHECK_MAX_STEPS)
            return lw_err_set(err, 0, 0,
                              "more than %d evaluations: shorten --lookback or --duration",
                              CHECK_MAX_STEPS);
        int rc = rule_group_eval(rule_set_group(ev->rs, best), ev->st, ev->next_ms[best], err);
        if (rc < 0)
            return -1;
        ev->failures += (size_t)rc;
        ev->next_ms[best] += ev->iv_ms[best];
    }
}

/* ---- what to report ---------------------------------------------------------------------- */

static void fmt_dur(int64_t ms, char *out, size_t outlen)
{
    struct lw_buf b;
    lw_buf_init(&b, 64);
    template_humanize_duration((double)ms / 1000.0, &b);
    snprintf(out, outlen, "%s", b.data ? b.data : "?");
    lw_buf_cleanup(&b);
}

static size_t collect(const struct rule_set *rs, const struct store *st,
                      const struct views_context *vc, int64_t eval_default_ms, struct item **out)
{
    size_t n = 0, cap = 0;
    struct item *v = NULL;
    for (size_t g = 0; g < rule_set_group_count(rs); g++) {
        const struct rule_group *grp = rule_set_group(rs, g);
        int64_t iv = rule_group_interval_ms(grp, eval_default_ms);
        for (size_t r = 0; r < rule_group_rule_count(grp); r++) {
            const struct rule *rule = rule_group_rule(grp, r);
            const struct alert_rule *ar = rule_alert(rule);
            for (size_t i = 0; ar && i < alert_rule_count(ar); i++) {
                const struct alert *a = alert_rule_at(ar, i);
                if (a->state == ALERT_INACTIVE || a->resolved_at_ms != 0)
                    continue;
                if (n == cap) {
                    size_t nc = cap ? cap * 2 : 16;
                    struct item *nv = realloc(v, nc * sizeof *nv);
                    if (!nv)
                        break;
                    v = nv;
                    cap = nc;
                }
                struct item *it = &v[n++];
                memset(it, 0, sizeof *it);
                it->rule = rule;
                it->group = grp;
                it->a = a;
                it->n_sup = views_suppressed_by(vc, &a->labels, it->sup, VIEWS_MAX_SUPPRESSIONS);
                if (a->state == ALERT_PENDING) {
                    char f[64], t[RFC3339_MAX];
                    fmt_dur(rule_for_ms(rule), f, sizeof f);
                    if (rule_input_has_data(rule, st, a->active_at_ms - iv) == 0) {
                        rfc3339_format(a->active_at_ms, t, sizeof t);
                        snprintf(it->reason, sizeof it->reason,
                                 "for: %s cannot be observed in one shot: no data before %s "
                                 "(sources without history are scraped once; use --duration)",
                                 f, t);
                    } else {
                        rfc3339_format(a->active_at_ms + rule_for_ms(rule), t, sizeof t);
                        snprintf(it->reason, sizeof it->reason,
                                 "pending: fires at %s if the condition still holds (for: %s)", t,
                                 f);
                    }
                }
            }
        }
    }
    *out = v;
    return n;
}

static void value_text(double v, char *out, size_t outlen)
{
    struct lw_buf b;
    lw_buf_init(&b, 64);
    template_fmt_float_v(v, &b);
    snprintf(out, outlen, "%s", b.data ? b.data : "?");
    lw_buf_cleanup(&b);
}

static void print_table(const struct item *items, size_t n, const struct runtime *rt, FILE *out)
{
    if (n == 0)
        fprintf(out, "No alert is pending or firing.\n");
    else
        fprintf(out, "%-32s %-8s %-12s %-24s %s\n", "ALERT", "STATE", "VALUE", "ACTIVE SINCE",
                "LABELS");
    struct lw_buf b;
    lw_buf_init(&b, 1u << 16);
    for (size_t i = 0; i < n; i++) {
        const struct alert *a = items[i].a;
        char val[64], t[RFC3339_MAX];
        value_text(a->value, val, sizeof val);
        rfc3339_format(a->active_at_ms, t, sizeof t);
        lw_buf_reset(&b);
        for (size_t k = 0; k < a->labels.n; k++) {
            if (strcmp(a->labels.v[k].name, "alertname") == 0)
                continue;
            lw_buf_addf(&b, "%s%s=\"%s\"", b.len ? " " : "", a->labels.v[k].name,
                        a->labels.v[k].value);
        }
        fprintf(out, "%-32s %-8s %-12s %-24s %s\n", rule_name(items[i].rule),
                alert_state_str(a->state), val, t, b.data ? b.data : "");
        const char *summary = lw_labels_get(&a->annotations, "summary");
        if (summary)
            fprintf(out, "    summary: %s\n", summary);
        for (size_t k = 0; k < items[i].n_sup; k++)
            fprintf(out, "    suppressed by %s: %s\n", items[i].sup[k].reason,
                    items[i].sup[k].detail);
        if (items[i].reason[0])
            fprintf(out, "    %s\n", items[i].reason);
    }
    lw_buf_cleanup(&b);
    fprintf(out, "\n%-14s %-16s %-6s %s\n", "SOURCE", "PIPELINE", "STATE", "TARGET / ERROR");
    for (size_t i = 0; i < runtime_source_count(rt); i++) {
        const struct runtime_source_health *h = runtime_source_at(rt, i);
        fprintf(out, "%-14s %-16s %-6s %s%s%s%s%s\n", h->name, h->pipeline ? h->pipeline : "-",
                !h->has_run ? "none"
                : h->up     ? "up"
                            : "down",
                h->target ? h->target : "", h->last_error[0] ? ": " : "", h->last_error,
                h->warning[0] ? "; " : "", h->warning);
    }
}

static void json_alert_item(struct lw_buf *b, const struct item *it)
{
    const struct alert *a = it->a;
    lw_buf_adds(b, "{\"alertname\":");
    views_json_string(b, rule_name(it->rule));
    lw_buf_adds(b, ",\"state\":");
    views_json_string(b, alert_state_str(a->state));
    lw_buf_adds(b, ",\"labels\":{");
    for (size_t k = 0; k < a->labels.n; k++) {
        lw_buf_adds(b, k ? "," : "");
        views_json_string(b, a->labels.v[k].name);
        lw_buf_addc(b, ':');
        views_json_string(b, a->labels.v[k].value);
    }
    lw_buf_adds(b, "},\"annotations\":{");
    for (size_t k = 0; k < a->annotations.n; k++) {
        lw_buf_adds(b, k ? "," : "");
        views_json_string(b, a->annotations.v[k].name);
        lw_buf_addc(b, ':');
        views_json_string(b, a->annotations.v[k].value);
    }
    lw_buf_adds(b, "},\"value\":");
    views_json_float(b, a->value);
    char t[RFC3339_MAX];
    rfc3339_format(a->active_at_ms, t, sizeof t);
    lw_buf_addf(b, ",\"active_at\":\"%s\",\"suppressed_by\":[", t);
    for (size_t k = 0; k < it->n_sup; k++) {
        lw_buf_adds(b, k ? "," : "");
        views_json_string(b, it->sup[k].reason);
    }
    lw_buf_adds(b, "],\"reason\":");
    if (it->reason[0])
        views_json_string(b, it->reason);
    else
        lw_buf_adds(b, "null");
    lw_buf_addc(b, '}');
}

static int print_json(const struct item *items, size_t n, const struct runtime *rt, FILE *out)
{
    struct lw_buf b;
    lw_buf_init(&b, 64u << 20);
    lw_buf_adds(&b, "{\"alerts\":[");
    for (size_t i = 0; i < n; i++) {
        lw_buf_adds(&b, i ? "," : "");
        json_alert_item(&b, &items[i]);
    }
    lw_buf_adds(&b, "],\"sources\":[");
    for (size_t i = 0; i < runtime_source_count(rt); i++) {
        const struct runtime_source_health *h = runtime_source_at(rt, i);
        lw_buf_adds(&b, i ? ",{\"name\":" : "{\"name\":");
        views_json_string(&b, h->name);
        lw_buf_adds(&b, ",\"pipeline\":");
        if (h->pipeline)
            views_json_string(&b, h->pipeline);
        else
            lw_buf_adds(&b, "null");
        lw_buf_adds(&b,
                    h->has_run && h->up ? ",\"up\":true,\"error\":" : ",\"up\":false,\"error\":");
        if (h->last_error[0])
            views_json_string(&b, h->last_error);
        else if (!h->has_run)
            views_json_string(&b, "no answer before the timeout");
        else
            lw_buf_adds(&b, "null");
        lw_buf_addc(&b, '}');
    }
    lw_buf_adds(&b, "]}\n");
    int rc = lw_buf_failed(&b) ? -1 : 0;
    if (rc == 0 && fputs(b.data, out) < 0)
        rc = -1;
    lw_buf_cleanup(&b);
    return rc;
}

static void xml_escape(struct lw_buf *b, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if (*p == '&')
            lw_buf_adds(b, "&amp;");
        else if (*p == '<')
            lw_buf_adds(b, "&lt;");
        else if (*p == '>')
            lw_buf_adds(b, "&gt;");
        else if (*p == '"')
            lw_buf_adds(b, "&quot;");
        else if (*p < 0x20 && *p != '\n' && *p != '\t')
            lw_buf_addc(b, ' '); /* not allowed in XML 1.0 */
        else
            lw_buf_addc(b, (char)*p);
    }
}

/* JUnit: one test case per alerting rule (failed when it has a firing alert, or a pending one
 * with --fail-on pending) and one per source (an error when it failed). */
static int print_junit(const struct item *items, size_t n, const struct rule_set *rs,
                       const struct runtime *rt, bool fail_on_pending, FILE *out)
{
    struct lw_buf cases, b;
    lw_buf_init(&cases, 64u << 20);
    lw_buf_init(&b, 1u << 16);
    size_t tests = 0, failures = 0, errors = 0;
    for (size_t g = 0; g < rule_set_group_count(rs); g++) {
        const struct rule_group *grp = rule_set_group(rs, g);
        for (size_t r = 0; r < rule_group_rule_count(grp); r++) {
            const struct rule *rule = rule_group_rule(grp, r);
            if (rule_kind(rule) != RULE_ALERTING)
                continue;
            tests++;
            lw_buf_adds(&cases, "    <testcase classname=\"");
            xml_escape(&cases, rule_group_name(grp));
            lw_buf_adds(&cases, "\" name=\"");
            xml_escape(&cases, rule_name(rule));
            lw_buf_adds(&cases, "\">\n");
            lw_buf_reset(&b);
            size_t bad = 0;
            for (size_t i = 0; i < n; i++) {
                if (items[i].rule != rule)
                    continue;
                const struct alert *a = items[i].a;
                bool counts = a->state == ALERT_FIRING || fail_on_pending;
                bad += counts;
                char val[64];
                value_text(a->value, val, sizeof val);
                lw_buf_addf(&b, "%s ", alert_state_str(a->state));
                lw_labels_format(&a->labels, &b);
                lw_buf_addf(&b, " value=%s", val);
                for (size_t k = 0; k < items[i].n_sup; k++)
                    lw_buf_addf(&b, " suppressed_by=%s", items[i].sup[k].reason);
                if (items[i].reason[0])
                    lw_buf_addf(&b, " (%s)", items[i].reason);
                lw_buf_addc(&b, '\n');
            }
            if (bad) {
                failures++;
                lw_buf_addf(&cases, "      <failure message=\"%zu alert(s) of %s\" type=\"alert\">",
                            bad, rule_name(rule));
                xml_escape(&cases, b.data);
                lw_buf_adds(&cases, "</failure>\n");
            } else if (b.len) {
                lw_buf_adds(&cases, "      <system-out>");
                xml_escape(&cases, b.data);
                lw_buf_adds(&cases, "</system-out>\n");
            }
            lw_buf_adds(&cases, "    </testcase>\n");
        }
    }
    for (size_t i = 0; i < runtime_source_count(rt); i++) {
        const struct runtime_source_health *h = runtime_source_at(rt, i);
        tests++;
        lw_buf_adds(&cases, "    <testcase classname=\"sources\" name=\"");
        xml_escape(&cases, h->name);
        if (h->pipeline) {
            lw_buf_addc(&cases, ' ');
            xml_escape(&cases, h->pipeline);
        }
        lw_buf_adds(&cases, "\">\n");
        if (!h->has_run || !h->up) {
            errors++;
            lw_buf_adds(&cases, "      <error message=\"source failed\" type=\"source\">");
            xml_escape(&cases, h->target);
            lw_buf_adds(&cases, ": ");
            xml_escape(&cases, h->has_run ? h->last_error : "no answer before the timeout");
            lw_buf_adds(&cases, "</error>\n");
        }
        lw_buf_adds(&cases, "    </testcase>\n");
    }
    int rc = lw_buf_failed(&cases) ? -1 : 0;
    if (rc == 0 &&
        fprintf(out,
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                "<testsuites name=\"lagwatch check\" tests=\"%zu\" failures=\"%zu\" "
                "errors=\"%zu\">\n"
                "  <testsuite name=\"lagwatch check\" tests=\"%zu\" failures=\"%zu\" "
                "errors=\"%zu\">\n%s  </testsuite>\n</testsuites>\n",
                tests, failures, errors, tests, failures, errors, cases.data ? cases.data : "") < 0)
        rc = -1;
    lw_buf_cleanup(&cases);
    lw_buf_cleanup(&b);
    return rc;
}

/* ---- --notify ---------------------------------------------------------------------------- */

struct notify_ctx {
    const struct views_context *vc;
};

static bool held_fn(void *ud, const struct lw_labels *alert, int64_t now_ms)
{
    struct notify_ctx *x = ud;
    struct views_suppression s[VIEWS_MAX_SUPPRESSIONS];
    size_t n = views_suppressed_by(x->vc, alert, s, VIEWS_MAX_SUPPRESSIONS);
    (void)now_ms;
    for (size_t i = 0; i < n; i++)
        if (s[i].kind == VIEWS_SUPPRESSED_FAILOVER)
            return true;
    return false;
}

static bool muted_fn(void *ud, const struct route *r, const struct lw_labels *alert, int64_t now_ms)
{
    struct notify_ctx *x = ud;
    struct views_suppression s[VIEWS_MAX_SUPPRESSIONS];
    size_t n = views_suppressed_by(x->vc, alert, s, VIEWS_MAX_SUPPRESSIONS);
    (void)r;
    (void)now_ms;
    for (size_t i = 0; i < n; i++)
        if (s[i].kind != VIEWS_SUPPRESSED_FAILOVER)
            return true;
    return false;
}

/* Route, group and send the firing alerts, then wait (bounded) for the receivers' answers.
 * Returns 0 when every notification was delivered, -1 otherwise (reported on stderr). */
static int send_notifications(const struct config *cfg, struct http_client *http,
                              const struct item *items, size_t n, const struct views_context *vc,
                              int64_t now)
{
    if (!cfg->notify.route) {
        fprintf(stderr, "lagwatch check: --notify: the config has no route, nothing sent\n");
        return -1;
    }
    struct notify_ctx x = {vc};
    struct dispatch_options dopts = {.root = cfg->notify.route,
                                     .held = held_fn,
                                     .held_ud = &x,
                                     .muted = muted_fn,
                                     .muted_ud = &x};
    struct outbox *ob = outbox_new(NULL, 0);
    struct dispatch *d = dispatch_new(&dopts);
    struct notifier *nt =
        ob ? notifier_new(http, ob, &cfg->notify.receivers, cfg->global.external_url) : NULL;
    int rc = -1;
    if (!ob || !d || !nt) {
        fprintf(stderr, "lagwatch check: --notify: out of memory\n");
        goto out;
    }
    size_t put = 0;
    for (size_t i = 0; i < n; i++) {
        const struct alert *a = items[i].a;
        if (a->state != ALERT_FIRING)
            continue;
        struct dispatch_alert da = {.labels = a->labels,
                                    .annotations = a->annotations,
                                    .starts_at_ms =
                                        a->fired_at_ms ? a->fired_at_ms : a->active_at_ms,
                                    .generator_url = cfg->global.external_url,
                                    .has_value = true,
                                    .value = a->value};
        struct lw_err err = {0};
        if (dispatch_put(d, &da, now, &err) != 0) {
            fprintf(stderr, "lagwatch check: --notify: %s\n", err.msg);
            goto out;
        }
        put++;
    }
    int64_t due = dispatch_next_due_ms(d);
    if (put && due != INT64_MAX)
        /* a one-shot does not wait out group_wait: flush as of the group's due time */
        (void)dispatch_flush_due(d, due > now ? due : now, notifier_emit, nt);
    int64_t deadline = wall_ms() + CHECK_NOTIFY_MAX_WAIT_MS;
    while (outbox_len(ob) > 0 && wall_ms() < deadline) {
        notifier_pump(nt, wall_ms());
        if (http_client_poll(http, 100) != 0)
            break;
    }
    const struct notifier_stats *s = notifier_stats(nt);
    fprintf(stderr,
            "lagwatch check: --notify: %zu firing alert(s), %llu notification(s) delivered, "
            "%llu refused, %zu undelivered\n",
            put, (unsigned long long)s->sent, (unsigned long long)s->failed, outbox_len(ob));
    rc = s->failed == 0 && outbox_len(ob) == 0 ? 0 : -1;
out:
    notifier_free(nt);
    dispatch_free(d);
    outbox_free(ob);
    return rc;
}

/* ---- the command ------------------------------------------------------------------------- */

int cmd_check(int argc, char **argv)
{
    struct check_opts o;
    int prc = parse_args(argc, argv, &o);
    if (prc != 0)
        return prc == 1 ? CLI_EXIT_OK : prc;

    struct lw_err err = {0};
    char msg[LW_ERR_MSG_MAX + LW_ERR_FILE_MAX + 32];
    struct config *cfg = NULL;
    if (config_load_file(o.path, NULL, &cfg, &err) != 0) {
        lw_err_format(&err, msg, sizeof msg);
        fprintf(stderr, "lagwatch check: %s\n", msg);
        return CLI_EXIT_USAGE;
    }
    int exit_code = CLI_EXIT_USAGE;
    char **paths = NULL;
    size_t n_paths = 0;
    struct rule_set *rs = NULL, *rs_hist = NULL;
    struct http_client *http = NULL;
    struct runtime *rt = NULL;
    struct failover *fo = NULL;
    struct store *st = NULL;
    struct source_store_sink ss;
    struct item *items = NULL;
    struct evaluator ev = {0};
    const struct runtime_source_health **src = NULL;
    bool sink_ready = false;

    struct rule_load_options lo; /* as run: no_data policies, templates checked and expanded */
    rulefiles_config_options(cfg, &lo);
    /* The same rules with no_data keep_state, for the evaluations before the first fetch: there
     * "no data" only means lagwatch did not fetch it, so `no_data: alerting` must not fire. */
    struct rule_load_options lo_hist = lo;
    lo_hist.no_data = keep_state;
    if (config_rule_paths(cfg, &paths, &n_paths, &err) != 0 ||
        rulefiles_load((const char *const *)paths, n_paths, &lo, &rs, &err) != 0 ||
        rulefiles_load((const char *const *)paths, n_paths, &lo_hist, &rs_hist, &err) != 0) {
        lw_err_format(&err, msg, sizeof msg);
        fprintf(stderr, "lagwatch check: %s\n", msg);
        goto cleanup;
    }
    int64_t eval_default = cfg->global.evaluation_interval_ms;
    int64_t lookback = o.lookback_ms ? o.lookback_ms : default_lookback_ms(rs, eval_default);
    exit_code = CLI_EXIT_FAIL;
    fo = failover_new(cfg->failover_hold_ms);
    struct store_options so = {.retention_ms = lookback + o.duration_ms + 3600 * 1000};
    st = store_new(&so);
    if (!fo || !st || !(http = http_client_new(NULL, &err))) {
        fprintf(stderr, "lagwatch check: %s\n", err.msg[0] ? err.msg : "out of memory");
        goto cleanup;
    }
    source_store_sink_init(&ss, st);
    sink_ready = true;
    struct runtime_options ro = {.http = http,
                                 .sink = source_store_sink(&ss),
                                 .failover = fo,
                                 .cw_lookback_s = lookback / 1000};
    if (runtime_new(cfg, &ro, &rt, &err) != 0) {
        lw_err_format(&err, msg, sizeof msg);
        fprintf(stderr, "lagwatch check: %s\n", msg);
        exit_code = CLI_EXIT_USAGE;
        goto cleanup;
    }

    size_t ng = rule_set_group_count(rs);
    ev.rs = rs_hist;
    ev.st = st;
    ev.next_ms = calloc(ng ? ng : 1, sizeof *ev.next_ms);
    ev.iv_ms = calloc(ng ? ng : 1, sizeof *ev.iv_ms);
    if (!ev.next_ms || !ev.iv_ms) {
        fprintf(stderr, "lagwatch check: out of memory\n");
        goto cleanup;
    }
    int64_t start = wall_ms(), first_end = start;
    int failed = 0;
    for (int round = 0;; round++) {
        int64_t t0 = wall_ms();
        int f = runtime_run_once(rt, o.timeout_ms, &err);
        if (f < 0) {
            fprintf(stderr, "lagwatch check: %s\n", err.msg);
            failed = 1;
        } else {
            failed = f;
        }
        int64_t now = wall_ms();
        if (round == 0) {
            /* Each group's grid ends at the end of the first fetch (so its last evaluation sees
             * what was scraped) and reaches back over the lookback. Evaluations before the
             * fetch began run on rs_hist; then the alert states move over to rs. */
            first_end = now;
            for (size_t g = 0; g < ng; g++) {
                ev.iv_ms[g] = rule_group_interval_ms(rule_set_group(rs, g), eval_default);
                ev.next_ms[g] = first_end - (lookback / ev.iv_ms[g]) * ev.iv_ms[g];
            }
            if (evaluate_until(&ev, start - 1, &err) != 0 ||
                rule_set_carry_over(rs, rs_hist, &err) != 0) {
                fprintf(stderr, "lagwatch check: evaluation: %s\n", err.msg);
                goto cleanup;
            }
            ev.rs = rs;
        }
        if (evaluate_until(&ev, now, &err) != 0) {
            fprintf(stderr, "lagwatch check: evaluation: %s\n", err.msg);
            goto cleanup;
        }
        if (now - first_end >= o.duration_ms)
            break;
        int64_t wait = t0 + cfg->global.scrape_interval_ms - wall_ms();
        int64_t left = first_end + o.duration_ms - wall_ms();
        if (wait > left)
            wait = left;
        if (wait > 0) {
            struct timespec ts = {.tv_sec = wait / 1000, .tv_nsec = (wait % 1000) * 1000000};
            nanosleep(&ts, NULL);
        }
    }
    if (ev.failures)
        fprintf(stderr, "lagwatch check: %zu rule evaluation(s) failed; see /api/v1/rules health\n",
                ev.failures);

    int64_t now = wall_ms();
    size_t nsrc = runtime_source_count(rt);
    src = calloc(nsrc ? nsrc : 1, sizeof *src);
    if (!src)
        goto cleanup;
    for (size_t i = 0; i < nsrc; i++)
        src[i] = runtime_source_at(rt, i);
    struct views_context vc = {.cfg = cfg,
                               .rules = rs,
                               .store = st,
                               .sources = src,
                               .n_sources = nsrc,
                               .failover = fo,
                               .now_ms = now};
    size_t n = collect(rs, st, &vc, eval_default, &items);
    size_t firing = 0, pending = 0;
    for (size_t i = 0; i < n; i++) {
        firing += items[i].a->state == ALERT_FIRING;
        pending += items[i].a->state == ALERT_PENDING;
    }
    int wrc;
    if (o.output == OUT_JSON)
        wrc = print_json(items, n, rt, stdout);
    else if (o.output == OUT_JUNIT)
        wrc = print_junit(items, n, rs, rt, o.fail_on_pending, stdout);
    else {
        print_table(items, n, rt, stdout);
        wrc = 0;
    }
    if (wrc != 0) {
        fprintf(stderr, "lagwatch check: writing the report failed\n");
        goto cleanup;
    }
    struct runtime_cloudwatch_stats cws;
    runtime_cloudwatch_stats(rt, &cws);
    FILE *note = o.output == OUT_TABLE ? stdout : stderr;
    fprintf(note,
            "%s%zu firing, %zu pending; CloudWatch: %zu metric(s) per cycle, estimated "
            "$%.2f/month in GetMetricData calls\n",
            o.output == OUT_TABLE ? "\n" : "lagwatch check: ", firing, pending,
            cws.metrics_per_cycle, cws.monthly_cost_usd);
    if (o.notify)
        (void)send_notifications(cfg, http, items, n, &vc, now);
    fflush(stdout);
    if (firing > 0 || (o.fail_on_pending && pending > 0))
        exit_code = CLI_EXIT_FAIL;
    else if (failed > 0)
        exit_code = CHECK_EXIT_SOURCE_FAILED;
    else
        exit_code = CLI_EXIT_OK;
cleanup:
    free(items);
    free(src);
    free(ev.next_ms);
    free(ev.iv_ms);
    runtime_free(rt);
    http_client_free(http);
    if (sink_ready)
        source_store_sink_cleanup(&ss);
    store_free(st);
    failover_free(fo);
    rule_set_free(rs);
    rule_set_free(rs_hist);
    config_paths_free(paths);
    config_free(cfg);
    return exit_code;
}
