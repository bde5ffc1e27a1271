/*
 * fuzz_cloudwatch_json.c — libFuzzer target for the GetMetricData answer parser and the JSON
 * error parser. Whatever the bytes, parsing ends with a result or an error message, every
 * result's query index is below the number of queries, and the arrays have the length claimed.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lagwatch/aws.h"
#include "lagwatch/cloudwatch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cw_response r;
    struct lw_err err = {0};
    if (cw_parse_response((const char *)data, size, 8, &r, &err) == 0) {
        for (size_t i = 0; i < r.n_results; i++) {
            if (r.results[i].query >= 8 || r.results[i].status_code == NULL)
                abort();
            for (size_t k = 0; k < r.results[i].n; k++)
                if (r.results[i].t_ms[k] == INT64_MIN && r.results[i].values[k] != 0)
                    (void)0; /* touch both arrays for ASan */
        }
        cw_response_cleanup(&r);
    } else if (err.msg[0] == '\0') {
        abort();
    }
    char *body = malloc(size + 1);
    if (body == NULL)
        return 0;
    memcpy(body, data, size);
    body[size] = '\0';
    struct http_response resp = {.status = 400, .body = body, .body_len = size};
    struct aws_error e;
    aws_parse_error(&resp, &e);
    if (strlen(e.code) >= sizeof e.code || strlen(e.message) >= sizeof e.message)
        abort();
    free(body);
    return 0;
}
