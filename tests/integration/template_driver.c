/*
 * template_driver.c — test-only bridge for the promtool differential test of alert templates:
 * reads one JSON object on stdin
 *   {"name": ALERT, "value": V, "labels": {...}, "external_labels": {...},
 *    "external_url": URL, "templates": {"key": "text", ...}}
 * and prints {"key": "rendered text", ...}, where a template that fails renders as Prometheus
 * shows it ("<error expanding template: ...>"). With --check, prints the tmpl_check_alert
 * verdict instead ("ok" or "template: __alert_NAME:LINE: message", as promtool check rules
 * prints a template it refuses).
 *
 * With --am, runs receiver templates in the Alertmanager dialect over a data tree given as JSON:
 *   {"data": TREE, "templates": {"key": "text", ...}} -> {"key": "output" or "error: ..."}
 * where in TREE an object is a map (string-valued maps are Go map[string]string), "@struct"
 * makes it a struct of that Go type (fields in order), "@type" names its Go type and "@methods"
 * holds the results of its argument-less methods; an array may be {"@list": [...], "@type": T,
 * "@methods": {...}}; integers are Go ints, reals float64s, null nil.
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

static struct tmpl_value *tree_from(json_t *j);

/* Attach "@type" and "@methods" of j to v (taking v; NULL on failure). */
static struct tmpl_value *decorate(struct tmpl_value *v, json_t *j)
{
    json_t *t = json_object_get(j, "@type");
    if (v && json_is_string(t) && tmpl_value_set_type(v, json_string_value(t)) != 0) {
        tmpl_value_unref(v);
        return NULL;
    }
    const char *k;
    json_t *m;
    json_object_foreach(json_object_get(j, "@methods"), k, m)
    {
        if (v && tmpl_value_set_method(v, k, tree_from(m)) != 0) {
            tmpl_value_unref(v);
            return NULL;
        }
    }
    return v;
}

static struct tmpl_value *tree_from(json_t *j)
{
    if (json_is_string(j))
        return tmpl_value_strn(json_string_value(j), json_string_length(j));
    if (json_is_integer(j))
        return tmpl_value_int(json_integer_value(j));
    if (json_is_real(j))
        return tmpl_value_num(json_real_value(j));
    if (json_is_boolean(j))
        return tmpl_value_bool(json_is_true(j));
    if (json_is_null(j))
        return tmpl_value_nil();
    if (json_is_array(j) || json_object_get(j, "@list")) {
        json_t *arr = json_is_array(j) ? j : json_object_get(j, "@list");
        struct tmpl_value *l = tmpl_value_list();
        size_t i;
        json_t *e;
        json_array_foreach(arr, i, e)
        {
            if (l && tmpl_value_append(l, tree_from(e)) != 0) {
                tmpl_value_unref(l);
                l = NULL;
            }
        }
        return json_is_array(j) ? l : decorate(l, j);
    }
    json_t *st = json_object_get(j, "@struct");
    struct tmpl_value *m;
    if (st) {
        m = tmpl_value_struct(json_string_value(st));
    } else {
        int strings = 1;
        const char *k;
        json_t *v;
        json_object_foreach(j, k, v)
        {
            if (k[0] != '@' && !json_is_string(v))
                strings = 0;
        }
        m = tmpl_value_map(strings);
    }
    const char *k;
    json_t *v;
    json_object_foreach(j, k, v)
    {
        if (k[0] != '@' && m && tmpl_value_set(m, k, tree_from(v)) != 0) {
            tmpl_value_unref(m);
            m = NULL;
        }
    }
    return decorate(m, j);
}

static int run_am(json_t *in)
{
    struct tmpl_value *data = tree_from(json_object_get(in, "data"));
    if (!data) {
        fprintf(stderr, "template_driver: bad data tree\n");
        return 2;
    }
    json_t *out = json_object();
    const char *key;
    json_t *tv;
    json_object_foreach(json_object_get(in, "templates"), key, tv)
    {
        struct lw_buf b;
        lw_buf_init(&b, LW_MAX_TMPL_OUTPUT_BYTES + 4096);
        struct lw_err err = {0};
        struct tmpl *t;
        const char *text = json_string_value(tv);
        if (tmpl_parse("", text, strlen(text), TMPL_ALERTMANAGER, &t, &err) != 0) {
            (void)lw_buf_addf(&b, "error: %d:%d: %s", err.line, err.col, err.msg);
        } else {
            if (tmpl_exec(t, data, NULL, &b, &err) != 0) {
                lw_buf_reset(&b);
                (void)lw_buf_addf(&b, "error: %d:%d: %s", err.line, err.col, err.msg);
            }
            tmpl_free(t);
        }
        json_object_set_new(out, key, json_stringn(lw_buf_str(&b), b.len));
        lw_buf_cleanup(&b);
    }
    json_dumpf(out, stdout, JSON_SORT_KEYS | JSON_INDENT(1));
    fputc('\n', stdout);
    json_decref(out);
    tmpl_value_unref(data);
    return 0;
}

int main(int argc, char **argv)
{
    int check = argc > 1 && strcmp(argv[1], "--check") == 0;
    int am = argc > 1 && strcmp(argv[1], "--am") == 0;
    json_error_t jerr;
    json_t *in = json_loadf(stdin, 0, &jerr);
    if (!in) {
        fprintf(stderr, "template_driver: stdin:%d:%d: %s\n", jerr.line, jerr.column, jerr.text);
        return 2;
    }
    if (am) {
        int arc = run_am(in);
        json_decref(in);
        return arc;
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
