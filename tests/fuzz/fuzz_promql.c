/* fuzz_promql.c — the PromQL parser on arbitrary bytes: it must return 0 or -1 and never crash,
 * hang or leak; what parses must print back, and the printed text must parse again. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lagwatch/promql.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct promql_expr *e = NULL;
    struct lw_err err = {0};
    if (promql_parse((const char *)data, size, &e, &err) != 0)
        return 0;
    struct lw_buf b;
    lw_buf_init(&b, 1u << 20);
    if (promql_format_expr(e, &b) == 0) {
        struct promql_expr *e2 = NULL;
        if (promql_parse(lw_buf_str(&b), b.len, &e2, &err) != 0)
            abort(); /* canonical text must be valid PromQL */
        promql_expr_free(e2);
    }
    lw_buf_cleanup(&b);
    promql_expr_free(e);
    return 0;
}
