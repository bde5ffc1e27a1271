/*
 * template_driver.c — test-only bridge for the promtool differential test of alert templates:
 * reads one JSON object on stdin
 *   {"name": ALERT, "value": V, "labels": {...}, "external_labels": {...},
 *    "external_url": URL, "templates": {"key": "text", ...}}
 * and prints {"key": "rendered text", ...}, where a template that fails renders as Prometheus
 * shows it ("<error expanding template: ...>"). With --check, prints the tmpl_check_alert
 * verdict instead ("ok" or "template: __alert_NAME:LINE: message", as promtool check rules
 * prints a template it refuses).
 */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "lagwatch/limits.h"
#include "lagwatch/template.h"

static int labels_from(json_t *obj, struct lw_labels *ls)
{
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v)
    {
        if (!json_is_string(v) || lw_labels_set(ls, k, json_string_value(v)) != 0)
            return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    int check = argc > 1 && strcmp(argv[1], "--check") == 0;
    json_error_t jerr;
    json_t *in = json_loadf(stdin, 0, &jerr);
    if (!in) {
        fprintf(stderr, "template_driver: stdin:%d:%d: %s\n", jerr.line, jerr.column, jerr.text);
        return 2;
    }
    const char *name = json_string_value(json_object_get(in, "name"));
    const char *url = json_string_value(json_object_get(in, "external_url"));
    double value = json_number_value(json_object_get(in, "value"));
    struct lw_labels ls, ext;
    lw_labels_init(&ls);
    lw_labels_init(&ext);
    json_t *out = json_object();
    int rc = 0;
    if (labels_from(json_object_get(in, "labels"), &ls) != 0 ||
        labels_from(json_object_get(in, "external_labels"), &ext) != 0) {
        fprintf(stderr, "template_driver: bad labels\n");
        rc = 2;
        goto done;
    }
    const char *key;
    json_t *tv;
    json_object_foreach(json_object_get(in, "templates"), key, tv)
    {
        struct lw_buf b;
        lw_buf_init(&b, LW_MAX_TMPL_OUTPUT_BYTES + 4096);
        struct lw_err err = {0};
        const char *text = json_string_value(tv);
        if (check) {
            /* As promtool check rules words it: "template: __alert_NAME:LINE: message". */
            if (tmpl_check_alert(name ? name : "", text ? text : "", &err) == 0)
                (void)lw_buf_adds(&b, "ok");
            else
                (void)lw_buf_addf(&b, "template: __alert_%s:%d: %s", name ? name : "", err.line,
                                  err.msg);
        } else if (tmpl_expand_alert(name ? name : "", text ? text : "", &ls, &ext, url, value, &b,
                                     &err) != 0) {
            (void)tmpl_alert_error_text(name, &err, &b);
        }
        json_object_set_new(out, key, json_stringn(lw_buf_str(&b), b.len));
        lw_buf_cleanup(&b);
    }
    json_dumpf(out, stdout, JSON_SORT_KEYS | JSON_INDENT(1));
    fputc('\n', stdout);
done:
    json_decref(out);
    json_decref(in);
    lw_labels_cleanup(&ls);
    lw_labels_cleanup(&ext);
    return rc;
}
