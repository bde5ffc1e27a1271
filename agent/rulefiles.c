/*
 * rulefiles.c — reading rule files for the rules module (rulefiles.h). The only I/O is here:
 * each file is read whole under LW_MAX_FILE_BYTES, then every buffer goes to rule_set_load.
 */
#include "lagwatch/rulefiles.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lagwatch/buf.h"
#include "lagwatch/config.h"
#include "lagwatch/limits.h"
#include "lagwatch/template.h"

char *rulefiles_read(const char *path, size_t *len, struct lw_err *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        lw_err_set(err, 0, 0, "cannot open: %s", strerror(errno));
        lw_err_set_file(err, path);
        return NULL;
    }
    struct lw_buf b;
    lw_buf_init(&b, LW_MAX_FILE_BYTES);
    char chunk[8192];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (lw_buf_add(&b, chunk, got) != 0)
            break;
    bool bad = ferror(f) || lw_buf_failed(&b);
    fclose(f);
    if (bad) {
        lw_buf_cleanup(&b);
        lw_err_set(err, 0, 0, "cannot read (unreadable or over %u bytes)", LW_MAX_FILE_BYTES);
        lw_err_set_file(err, path);
        return NULL;
    }
    *len = b.len;
    return lw_buf_take(&b);
}

int rulefiles_load(const char *const *paths, size_t n, const struct rule_load_options *o,
                   struct rule_set **out, struct lw_err *err)
{
    struct rule_source *srcs = calloc(n ? n : 1, sizeof(*srcs));
    if (srcs == NULL)
        return lw_err_set(err, 0, 0, "out of memory");
    int rc = -1;
    size_t got = 0;
    for (; got < n; got++) {
        size_t len = 0;
        char *buf = rulefiles_read(paths[got], &len, err);
        if (buf == NULL)
            goto out;
        srcs[got] = (struct rule_source){.filename = paths[got], .buf = buf, .len = len};
    }
    rc = rule_set_load(srcs, n, o, out, err);
out:
    for (size_t i = 0; i < got; i++)
        free((char *)srcs[i].buf);
    free(srcs);
    return rc;
}

enum alert_no_data rulefiles_config_no_data(void *ud, const char *alert)
{
    const struct config_rule_option *opt = config_rule_option_find(ud, alert);
    if (opt == NULL)
        return ALERT_NO_DATA_KEEP_STATE;
    switch (opt->no_data) {
    case CONFIG_NO_DATA_OK:
        return ALERT_NO_DATA_OK;
    case CONFIG_NO_DATA_ALERTING:
        return ALERT_NO_DATA_ALERTING;
    case CONFIG_NO_DATA_KEEP_STATE:
        break;
    }
    return ALERT_NO_DATA_KEEP_STATE;
}

char *rulefiles_expand_alert(const char *rule, const char *text, const struct lw_labels *labels,
                             const struct lw_labels *external_labels, const char *external_url,
                             double value)
{
    struct lw_buf b;
    lw_buf_init(&b, LW_MAX_TMPL_OUTPUT_BYTES);
    struct lw_err err = {0};
    if (tmpl_expand_alert(rule, text, labels, external_labels, external_url, value, &b, &err) !=
        0) {
        /* Prometheus renders the error in place of the text and goes on */
        lw_buf_reset(&b);
        if (tmpl_alert_error_text(rule, &err, &b) != 0) {
            lw_buf_cleanup(&b);
            return NULL;
        }
    } else if (lw_buf_failed(&b)) {
        lw_buf_reset(&b);
        lw_buf_addf(&b, "<error expanding template: output over %u bytes>",
                    LW_MAX_TMPL_OUTPUT_BYTES);
    }
    char *out = lw_buf_take(&b);
    return out ? out : strdup("");
}

static char *config_expand(void *ud, const char *rule, const char *text,
                           const struct lw_labels *labels, double value, int64_t now_ms,
                           struct lw_err *err)
{
    const struct config *cfg = ud;
    (void)now_ms;
    char *out =
        rulefiles_expand_alert(rule, text, labels, &cfg->global.external_labels,
                               cfg->global.external_url ? cfg->global.external_url : "", value);
    if (out == NULL)
        lw_err_set(err, 0, 0, "out of memory");
    return out;
}

int rulefiles_check_template(void *ud, const char *text, struct lw_err *err)
{
    (void)ud;
    return tmpl_check_alert("rule", text, err);
}

void rulefiles_config_options(const struct config *cfg, struct rule_load_options *o)
{
    memset(o, 0, sizeof *o);
    o->no_data = rulefiles_config_no_data;
    o->no_data_ud = (void *)cfg;
    o->check_template = rulefiles_check_template;
    o->check_ud = (void *)cfg;
    o->expand_rule = config_expand;
    o->expand_rule_ud = (void *)cfg;
}
