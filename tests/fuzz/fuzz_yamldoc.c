/*
 * fuzz_yamldoc.c — libFuzzer target for the positioned YAML layer (the config file and rule file
 * front end): parse, interpolate with a fixed fake environment, read every scalar through each
 * typed getter, check keys and emit. Any input must yield a document or an error, never a crash,
 * a leak or a hang.
 */
#include <stdint.h>
#include <string.h>

#include "lagwatch/yamldoc.h"

/* Results are read only so that warn_unused_result is satisfied; any value is fine here. */
static volatile int sink;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *fake_env(const char *name, void *ctx)
{
    (void)ctx;
    return name[0] == 'A' ? "value" : NULL;
}

static void walk(const struct yamldoc *d, const struct yamldoc_node *n)
{
    struct lw_err err = {0};
    if (n->kind == YAMLDOC_SCALAR) {
        const char *s;
        bool b;
        int64_t i;
        double f;
        sink += yamldoc_get_string(n, &s, d, &err);
        sink += yamldoc_get_bool(n, &b, d, &err);
        sink += yamldoc_get_int64(n, &i, d, &err);
        sink += yamldoc_get_double(n, &f, d, &err);
        sink += yamldoc_get_duration_ms(n, &i, d, &err);
        return;
    }
    if (n->kind == YAMLDOC_MAP) {
        static const char *const allowed[] = {"global", "pipelines", "name", "interval", NULL};
        sink += yamldoc_check_keys(d, n, allowed, &err);
        (void)yamldoc_map_get(n, "name");
    }
    for (size_t i = 0; i < n->n; i++)
        walk(d, n->items[i]);
}

static bool secret(const char *key, void *ctx)
{
    (void)ctx;
    return strstr(key, "key") != NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct yamldoc *d = NULL;
    struct lw_err err = {0};
    if (yamldoc_parse((const char *)data, size, "fuzz.yml", &d, &err) != 0)
        return 0;
    if (d->root) {
        walk(d, d->root);
        struct lw_buf out;
        lw_buf_init(&out, 1u << 22);
        sink += yamldoc_emit(d->root, secret, NULL, &out);
        lw_buf_cleanup(&out);
        sink += yamldoc_interpolate(d, fake_env, NULL, &err);
        walk(d, d->root);
    }
    yamldoc_free(d);
    return 0;
}
