/*
 * notify_driver.c — test-only bridge for the Alertmanager differential test: reads a JSON
 * description of a route (receiver, group_by, group_wait) and alerts, runs them through
 * lagwatch's route, dispatcher and webhook v4 builder, and prints the payload(s) lagwatch would
 * send, one JSON document per line.
 *   notify_driver INPUT.json
 * INPUT: {"receiver": "hook", "group_by": ["pipeline"], "external_url": "...",
 *         "now": "RFC3339", "alerts": [{"labels": {}, "annotations": {}, "startsAt": "...",
 *         "endsAt": "..." (optional), "generatorURL": "..."}]}
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lagwatch/dispatch.h"
#include "lagwatch/notify_payload.h"
#include "lagwatch/rfc3339.h"

static const char *external_url;

static int emit(void *ud, const struct dispatch_notification *n)
{
    (void)ud;
    char *s = notify_webhook_v4(n, external_url, 0);
    if (!s)
        return -1;
    puts(s);
    free(s);
    return 0;
}

static int64_t ts(json_t *v)
{
    const char *s = json_string_value(v);
    int64_t ms = 0;
    struct lw_err err = {0};
    if (!s || rfc3339_parse(s, strlen(s), &ms, &err) != 0) {
        fprintf(stderr, "notify_driver: bad timestamp %s\n", s ? s : "(none)");
        exit(2);
    }
    return ms;
}

static void kv(json_t *obj, struct lw_labels *out)
{
    lw_labels_init(out);
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v) if (lw_labels_set(out, k, json_string_value(v)) != 0) exit(2);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: notify_driver INPUT.json\n");
        return 2;
    }
    json_error_t jerr;
    json_t *in = json_load_file(argv[1], 0, &jerr);
    if (!in) {
        fprintf(stderr, "notify_driver: %s:%d: %s\n", argv[1], jerr.line, jerr.text);
        return 2;
    }
    external_url = json_string_value(json_object_get(in, "external_url"));
    json_t *gb = json_object_get(in, "group_by");
    const char *names[16];
    size_t n_gb = 0;
    for (size_t i = 0; i < json_array_size(gb) && i < 16; i++)
        names[n_gb++] = json_string_value(json_array_get(gb, i));
    struct route_spec spec = {.receiver = json_string_value(json_object_get(in, "receiver")),
                              .group_by = names,
                              .n_group_by = n_gb,
                              .group_by_set = true,
                              .group_wait_ms = 0,
                              .group_interval_ms = 1000,
                              .repeat_interval_ms = -1};
    struct route *root;
    struct lw_err err = {0};
    if (route_add(NULL, &spec, &root, &err) != 0) {
        fprintf(stderr, "notify_driver: %s\n", err.msg);
        return 2;
    }
    struct dispatch_options o = {.root = root};
    struct dispatch *d = dispatch_new(&o);
    int64_t now = ts(json_object_get(in, "now"));
    size_t i;
    json_t *a;
    json_array_foreach(json_object_get(in, "alerts"), i, a)
    {
        struct dispatch_alert da = {0};
        kv(json_object_get(a, "labels"), &da.labels);
        kv(json_object_get(a, "annotations"), &da.annotations);
        da.starts_at_ms = ts(json_object_get(a, "startsAt"));
        da.ends_at_ms = json_object_get(a, "endsAt") ? ts(json_object_get(a, "endsAt")) : 0;
        da.generator_url = (char *)json_string_value(json_object_get(a, "generatorURL"));
        if (dispatch_put(d, &da, now, &err) != 0) {
            fprintf(stderr, "notify_driver: %s\n", err.msg);
            return 2;
        }
        lw_labels_cleanup(&da.labels);
        lw_labels_cleanup(&da.annotations);
    }
    int rc = dispatch_flush_due(d, now, emit, NULL) < 0 ? 1 : 0;
    dispatch_free(d);
    route_free(root);
    json_decref(in);
    return rc;
}
