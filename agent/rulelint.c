/*
 * rulelint.c — lint of loaded rule sets against lagwatch's sources (rulelint.h). The Debezium
 * attribute list is the exporter source's (source_exporter.h), so the lint and the name
 * translation can never disagree.
 */
#include "lagwatch/rulelint.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "lagwatch/duration.h"
#include "lagwatch/source_exporter.h"
#include "lagwatch/yamldoc.h"

#define DBZ_CANONICAL "debezium_metrics_"
#define DBZ_RULELESS  "_connector_metrics_"

/* Attributes of Debezium < 1.2 (or folklore) and what replaced them. */
static const struct {
    const char *old, *now;
} renamed[] = {
    {"SecondsBehindMaster", "MilliSecondsBehindSource"},
    {"SecondsSinceLastEvent", "MilliSecondsSinceLastEvent"},
    {"NumberOfEventsSkipped", "NumberOfSkippedEvents"},
    {"MilliSecondsBehindMaster", "MilliSecondsBehindSource"},
};

/* Exact names and name prefixes of the series lagwatch's own sources and rules produce. */
static const char *const produced_exact[] = {"up", "scrape_duration_seconds", "ALERTS",
                                             "ALERTS_FOR_STATE"};
static const char *const produced_prefix[] = {"debezium_", "kafka_connect_", "aws_rds_",
                                              "lagwatch_"};

struct lint {
    const struct rule_set *rs;
    const struct rule_group *g;
    const struct rule *r;
    struct lw_buf *out;
    struct rulelint_result *res;
};

static void finding(struct lint *l, int line, int col, bool error, const char *fmt, ...)
    LW_PRINTF(5, 6);
static void finding(struct lint *l, int line, int col, bool error, const char *fmt, ...)
{
    lw_buf_addf(l->out, "%s:%d:", rule_group_file(l->g), line);
    if (col > 0)
        lw_buf_addf(l->out, "%d:", col);
    lw_buf_addf(l->out, " %s: %s %s: ", error ? "error" : "warning",
                rule_kind(l->r) == RULE_ALERTING ? "alert" : "record", rule_name(l->r));
    va_list ap;
    va_start(ap, fmt);
    lw_buf_vaddf(l->out, fmt, ap);
    va_end(ap);
    lw_buf_addc(l->out, '\n');
    if (error)
        l->res->errors++;
    else
        l->res->warnings++;
}

/* The closest known attribute to attr, or NULL. */
static const char *suggest_attribute(const char *attr)
{
    for (size_t i = 0; i < sizeof renamed / sizeof renamed[0]; i++)
        if (strcasecmp(attr, renamed[i].old) == 0)
            return renamed[i].now;
    const char *list[128];
    size_t n = 0;
    for (const char *a;
         n + 1 < sizeof list / sizeof list[0] && (a = source_debezium_attribute_at(n)) != NULL;)
        list[n++] = a;
    list[n] = NULL;
    return yamldoc_suggest(attr, list);
}

static bool recorded(const struct rule_set *rs, const char *metric)
{
    for (size_t gi = 0; gi < rule_set_group_count(rs); gi++) {
        const struct rule_group *g = rule_set_group(rs, gi);
        for (size_t ri = 0; ri < rule_group_rule_count(g); ri++) {
            const struct rule *r = rule_group_rule(g, ri);
            if (rule_kind(r) == RULE_RECORDING && strcmp(rule_name(r), metric) == 0)
                return true;
        }
    }
    return false;
}

static void lint_debezium(struct lint *l, const char *metric, int line, int col)
{
    if (strncmp(metric, DBZ_CANONICAL, sizeof DBZ_CANONICAL - 1) == 0) {
        const char *attr = metric + sizeof DBZ_CANONICAL - 1;
        const char *known = source_debezium_attribute(attr, strlen(attr));
        if (known && strcmp(known, attr) == 0)
            return;
        if (known) {
            finding(l, line, col, true, "'%s' never matches: the attribute is spelled '%s%s'",
                    metric, DBZ_CANONICAL, known);
            return;
        }
        const char *s = suggest_attribute(attr);
        if (s)
            finding(l, line, col, true,
                    "'%s': Debezium has no attribute '%s' (did you mean '%s%s'?)", metric, attr,
                    DBZ_CANONICAL, s);
        else
            finding(l, line, col, true, "'%s': Debezium has no attribute '%s'", metric, attr);
        return;
    }
    const char *infix = strstr(metric, DBZ_RULELESS);
    if (infix == NULL)
        return;
    const char *attr = infix + sizeof DBZ_RULELESS - 1;
    const char *known = source_debezium_attribute(attr, strlen(attr));
    if (known) {
        finding(l, line, col, true,
                "'%s' never matches: lagwatch renames the exporter's rule-less Debezium names; "
                "select '%s%s' (label 'server' becomes 'name')",
                metric, DBZ_CANONICAL, known);
        return;
    }
    const char *s = suggest_attribute(attr);
    finding(l, line, col, true, "'%s': Debezium has no attribute '%s'%s%s%s%s", metric, attr,
            s ? " (did you mean '" : "", s ? DBZ_CANONICAL : "", s ? s : "", s ? "'?)" : "");
}

static void on_selector(void *ud, const char *metric, size_t off)
{
    struct lint *l = ud;
    if (metric == NULL)
        return;
    int line, col;
    rule_expr_pos(l->r, off, &line, &col);
    if (strncmp(metric, "debezium_", 9) == 0) {
        lint_debezium(l, metric, line, col);
        return;
    }
    for (size_t i = 0; i < sizeof produced_exact / sizeof produced_exact[0]; i++)
        if (strcmp(metric, produced_exact[i]) == 0)
            return;
    for (size_t i = 0; i < sizeof produced_prefix / sizeof produced_prefix[0]; i++)
        if (strncmp(metric, produced_prefix[i], strlen(produced_prefix[i])) == 0)
            return;
    if (recorded(l->rs, metric))
        return;
    finding(l, line, col, false,
            "no lagwatch source produces '%s' (debezium_*, kafka_connect_*, aws_rds_*, "
            "lagwatch_*, up, scrape_duration_seconds, ALERTS, recorded series); only a "
            "prometheus_sources query can",
            metric);
}

int rulelint_run(const struct rule_set *rs, int64_t default_interval_ms, struct lw_buf *out,
                 struct rulelint_result *res)
{
    struct lint l = {.rs = rs, .out = out, .res = res};
    for (size_t gi = 0; gi < rule_set_group_count(rs); gi++) {
        l.g = rule_set_group(rs, gi);
        int64_t iv = rule_group_interval_ms(l.g, default_interval_ms);
        for (size_t ri = 0; ri < rule_group_rule_count(l.g); ri++) {
            l.r = rule_group_rule(l.g, ri);
            rule_expr_selectors(l.r, on_selector, &l);
            if (rule_kind(l.r) != RULE_ALERTING)
                continue;
            int line = rule_line(l.r);
            if (lw_labels_get(rule_labels(l.r), "severity") == NULL)
                finding(&l, line, 0, false,
                        "has no 'severity' label (routes and receivers "
                        "usually need one)");
            if (lw_labels_get(rule_annotations(l.r), "summary") == NULL)
                finding(&l, line, 0, false, "has no 'summary' annotation (notifications show it)");
            int64_t f = rule_for_ms(l.r);
            if (f > 0 && f < iv) {
                char a[32], b[32];
                finding(&l, line, 0, false,
                        "'for: %s' is shorter than the group's evaluation interval %s: the alert "
                        "fires at the next evaluation, %s after it starts",
                        duration_format(f, a, sizeof a), duration_format(iv, b, sizeof b), b);
            }
        }
    }
    return lw_buf_failed(out) ? -1 : 0;
}
