/*
 * template_alert.c — Prometheus's alert templates on top of the template language: the data
 * ({.Labels, .ExternalLabels, .ExternalURL, .Value}), the variable prelude Prometheus puts in
 * front of every annotation and label template, expansion, the load-time check, and the
 * "<error expanding template: ...>" text Prometheus shows in place of a failed expansion, with
 * Go's positions (which count the prelude) so that it reads exactly as Prometheus's.
 */
#include "template_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lagwatch/limits.h"

static const char prelude[] = "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}"
                              "{{$externalURL := .ExternalURL}}{{$value := .Value}}";
#define PRELUDE_LEN (sizeof prelude - 1)

/* "__alert_" + name, as Prometheus names the template (it shows in messages). */
static char *alert_tmpl_name(const char *name)
{
    size_t n = strlen(name ? name : "");
    char *s = malloc(n + 9);
    if (s) {
        memcpy(s, "__alert_", 8);
        memcpy(s + 8, name ? name : "", n + 1);
    }
    return s;
}

int tmpl_parse_alert(const char *name, const char *text, struct tmpl **out, struct lw_err *err)
{
    size_t tl = strlen(text ? text : "");
    if (tl > LW_MAX_TMPL_SOURCE_BYTES)
        return lw_err_set(err, 1, 1, "template is larger than %u bytes", LW_MAX_TMPL_SOURCE_BYTES);
    char *src = malloc(PRELUDE_LEN + tl + 1);
    char *tn = alert_tmpl_name(name);
    if (!src || !tn) {
        free(src);
        free(tn);
        return lw_err_set(err, 0, 0, "out of memory");
    }
    memcpy(src, prelude, PRELUDE_LEN);
    memcpy(src + PRELUDE_LEN, text ? text : "", tl + 1);
    int rc = tmpl_parse_prelude(tn, src, PRELUDE_LEN + tl, PRELUDE_LEN, TMPL_PROMETHEUS, out, err);
    free(src);
    free(tn);
    return rc;
}

int tmpl_exec_alert(const struct tmpl *t, const struct lw_labels *labels,
                    const struct lw_labels *external_labels, const char *external_url, double value,
                    struct lw_buf *out, struct lw_err *err)
{
    struct tmpl_value *data = tmpl_alert_data(labels, external_labels, external_url, value);
    if (!data)
        return lw_err_set(err, 0, 0, "out of memory");
    size_t before = out->len;
    struct tmpl_env env = {.external_url = external_url};
    int rc = tmpl_exec(t, data, &env, out, err);
    if (rc != 0) { /* nothing of a failed expansion is kept */
        out->len = before;
        if (out->data)
            out->data[before] = '\0';
    }
    tmpl_value_unref(data);
    return rc;
}

int tmpl_expand_alert(const char *name, const char *text, const struct lw_labels *labels,
                      const struct lw_labels *external_labels, const char *external_url,
                      double value, struct lw_buf *out, struct lw_err *err)
{
    struct tmpl *t;
    if (tmpl_parse_alert(name, text, &t, err) != 0)
        return -1;
    int rc = tmpl_exec_alert(t, labels, external_labels, external_url, value, out, err);
    tmpl_free(t);
    return rc;
}

/* Compile the literal patterns given to match and reReplaceAll, so a bad regexp is a load-time
 * error with its position instead of an error text in every notification. */
static int check_regexps(const struct tmpl *t, const struct tnode *n, struct lw_err *err)
{
    if (!n)
        return 0;
    if (n->type == TN_CMD && n->nkids >= 2 && n->kids[0]->type == TN_IDENT &&
        n->kids[1]->type == TN_STR &&
        (strcmp(n->kids[0]->text, "match") == 0 || strcmp(n->kids[0]->text, "reReplaceAll") == 0)) {
        char msg[LW_ERR_MSG_MAX - 64];
        const struct tnode *pat = n->kids[1];
        if (strlen(pat->text) != pat->text_len ||
            tmpl_regexp_check(pat->text, msg, sizeof msg) != 0) {
            int line, col;
            tmpl_pos(t, pat->off, &line, &col);
            return lw_err_set(err, line, col, "%s",
                              strlen(pat->text) != pat->text_len ? "regexp contains a NUL byte"
                                                                 : msg);
        }
    }
    for (size_t i = 0; i < n->nkids; i++)
        if (check_regexps(t, n->kids[i], err) != 0)
            return -1;
    if (check_regexps(t, n->pipe, err) != 0 || check_regexps(t, n->list, err) != 0 ||
        check_regexps(t, n->else_list, err) != 0)
        return -1;
    return 0;
}

int tmpl_check_alert(const char *name, const char *text, struct lw_err *err)
{
    struct tmpl *t;
    if (tmpl_parse_alert(name, text, &t, err) != 0)
        return -1;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < t->ndefs; i++)
        rc = check_regexps(t, t->defs[i].root, err);
    tmpl_free(t);
    return rc;
}

int tmpl_alert_error_text(const char *name, const struct lw_err *err, struct lw_buf *out)
{
    const char *n = name ? name : "";
    int gocol = err->col > 0 ? err->col - 1 + (err->line == 1 ? (int)PRELUDE_LEN : 0) : 0;
    if (strncmp(err->msg, "executing \"", 11) == 0)
        return lw_buf_addf(out,
                           "<error expanding template: error executing template __alert_%s: "
                           "template: __alert_%s:%d:%d: %s>",
                           n, n, err->line, gocol, err->msg);
    if (err->line > 0)
        return lw_buf_addf(out,
                           "<error expanding template: error parsing template __alert_%s: "
                           "template: __alert_%s:%d: %s>",
                           n, n, err->line, err->msg);
    return lw_buf_addf(out, "<error expanding template: %s>", err->msg);
}
