/*
 * rulefiles.h — the agent's side of rule loading: read rule files from disk (the rules module
 * takes buffers only) and load them into one rule set, with the config's per-rule options.
 */
#ifndef LAGWATCH_RULEFILES_H
#define LAGWATCH_RULEFILES_H

#include <stddef.h>

#include "lagwatch/error.h"
#include "lagwatch/rules.h"

struct config;

/* Read paths[0..n) (each at most LW_MAX_FILE_BYTES) and rule_set_load them with o (may be
 * NULL). Returns 0 and *out, or -1 with err (file:line:col, or the file and why it could not be
 * read). */
LW_MUST_CHECK int rulefiles_load(const char *const *paths, size_t n,
                                 const struct rule_load_options *o, struct rule_set **out,
                                 struct lw_err *err);

/* Read one file whole into a heap buffer (NUL-terminated, *len without the NUL). Returns the
 * buffer, or NULL with err naming the file and the reason. */
char *rulefiles_read(const char *path, size_t *len, struct lw_err *err);

/* A rule_no_data_fn over a struct config (ud): the rule's rule_options entry, keep_state when it
 * has none (the config's documented default). */
enum alert_no_data rulefiles_config_no_data(void *ud, const char *alert);

/* Expand alerting rule `rule`'s template text as Prometheus does (tmpl_expand_alert with the
 * sample's labels, external labels and URL and $value); when the template fails, Prometheus's
 * "<error expanding template: ...>" text instead. A malloc'd string, NULL only when memory ran
 * out. */
char *rulefiles_expand_alert(const char *rule, const char *text, const struct lw_labels *labels,
                             const struct lw_labels *external_labels, const char *external_url,
                             double value);

/* A rule_check_template_fn: tmpl_check_alert (ud is unused). */
int rulefiles_check_template(void *ud, const char *text, struct lw_err *err);

/* Load options for cfg's rules as `run` uses them: no_data from rule_options, label and
 * annotation templates checked at load (tmpl_check_alert) and expanded at evaluation
 * (rulefiles_expand_alert, with the config's external_labels and external_url). cfg must outlive
 * the rule set. */
void rulefiles_config_options(const struct config *cfg, struct rule_load_options *o);

#endif
