/* fuzz_template.c — the template language on arbitrary bytes: parsing must return 0 or -1, and
 * whatever parses must execute (over alert data and over a receiver-like tree) to a result or an
 * error, never a crash, hang or leak. The first byte picks the dialect. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lagwatch/template.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct tmpl_value *receiver_data(void)
{
    struct tmpl_value *d = tmpl_value_struct("template.Data");
    struct tmpl_value *alerts = tmpl_value_list();
    struct tmpl_value *a = tmpl_value_map(false);
    struct tmpl_value *ls = tmpl_value_map(true);
    if (!d || !alerts || !a || !ls) {
        tmpl_value_unref(d);
        tmpl_value_unref(alerts);
        tmpl_value_unref(a);
        tmpl_value_unref(ls);
        return NULL;
    }
    /* Each setter takes its value's reference, also when it fails. */
    int rc = tmpl_value_set(ls, "severity", tmpl_value_str("page"));
    rc |= tmpl_value_set(a, "Labels", ls);
    rc |= tmpl_value_append(alerts, a);
    rc |= tmpl_value_set(d, "Alerts", alerts);
    rc |= tmpl_value_set(d, "Count", tmpl_value_int(3));
    if (rc != 0) {
        tmpl_value_unref(d);
        return NULL;
    }
    return d;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    enum tmpl_dialect dialect = data[0] & 1 ? TMPL_ALERTMANAGER : TMPL_PROMETHEUS;
    const char *src = (const char *)data + 1;
    size_t len = size - 1;
    struct tmpl *t = NULL;
    struct lw_err err = {0};
    struct lw_buf out;
    lw_buf_init(&out, 4u << 20);
    if (tmpl_parse("fuzz", src, len, dialect, &t, &err) == 0) {
        struct tmpl_value *d = receiver_data();
        struct tmpl_env env = {.external_url = "http://x:9090/p"};
        if (tmpl_exec(t, d, &env, &out, &err) != 0 && err.msg[0] == '\0')
            abort(); /* a failure always says why */
        tmpl_value_unref(d);
        tmpl_free(t);
    }
    /* The same text as an alert template (NUL-terminated copy: the API takes C strings). */
    char *text = malloc(len + 1);
    if (text) {
        memcpy(text, src, len);
        text[len] = '\0';
        struct lw_labels ls;
        lw_labels_init(&ls);
        if (lw_labels_set(&ls, "job", "debezium") == 0) {
            lw_buf_reset(&out);
            if (tmpl_expand_alert("F", text, &ls, NULL, "", 1.5, &out, &err) != 0)
                (void)tmpl_alert_error_text("F", &err, &out);
            if (tmpl_check_alert("F", text, &err) != 0 && err.msg[0] == '\0')
                abort();
        }
        lw_labels_cleanup(&ls);
        free(text);
    }
    lw_buf_cleanup(&out);
    return 0;
}
