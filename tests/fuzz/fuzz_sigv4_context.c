/*
 * fuzz_sigv4_context.c — libFuzzer target for the SigV4 test-suite context parser
 * (sigv4_suite_context_parse): any input either parses into a complete context or is refused
 * with a message that never quotes the input's secret-looking text.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lagwatch/sigv4.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1u << 16)
        return 0;
    struct sigv4_suite_context ctx;
    struct lw_err err = {0};
    if (sigv4_suite_context_parse((const char *)data, size, &ctx, &err) != 0) {
        if (err.msg[0] == '\0' || strstr(err.msg, "SECRETKEY") != NULL)
            abort();
        return 0;
    }
    if (ctx.access_key_id == NULL || ctx.secret_access_key == NULL || ctx.region == NULL ||
        ctx.service == NULL || ctx.expires_s < 1)
        abort();
    sigv4_suite_context_cleanup(&ctx);
    return 0;
}
