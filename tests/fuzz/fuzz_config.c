/*
 * fuzz_config.c — libFuzzer target for the config decoder on top of yamldoc (every section,
 * defaults, ${VAR} interpolation, durations and sizes, receivers, route, inhibit rules, time
 * intervals, cross-checks), and for `validate --print` of whatever it accepts. Any input must
 * give a config or an error with its position, never a crash, a leak or a hang. *_file keys
 * resolve against a directory that does not exist, so no file is read.
 */
#include <stdint.h>
#include <string.h>

#include "lagwatch/buf.h"
#include "lagwatch/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *fake_env(const char *name, void *ctx)
{
    (void)ctx;
    return name[0] == 'A' ? "value" : NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct config_options opts = {.env = fake_env};
    struct config *cfg = NULL;
    struct lw_err err = {0};
    if (config_parse_buf((const char *)data, size, "/nonexistent-lagwatch-fuzz/lagwatch.yml", &opts,
                         &cfg, &err) != 0) {
        if (err.msg[0] == '\0')
            __builtin_trap(); /* every refusal says why */
        return 0;
    }
    struct lw_buf out;
    lw_buf_init(&out, 1u << 20);
    if (config_print(cfg, &out) != 0 && !lw_buf_failed(&out))
        __builtin_trap();
    lw_buf_cleanup(&out);
    config_free(cfg);
    return 0;
}
