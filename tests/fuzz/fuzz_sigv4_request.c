/*
 * fuzz_sigv4_request.c — libFuzzer target for the SigV4 test-suite request parser
 * (sigv4_suite_request_parse) and everything a parsed request flows into: signing in both forms
 * and printing the signed request. Properties checked: a refused input has a position; a parsed
 * request that signs prints a signed request that parses again, with the same method, target,
 * body and the original headers plus the added ones.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lagwatch/sigv4.h"

static void check_round_trip(const struct sigv4_suite_request *req,
                             const struct sigv4_suite_context *ctx, enum sigv4_form form)
{
    struct sigv4_result res = {0};
    struct lw_err err = {0};
    if (sigv4_suite_sign(req, ctx, form, &res, &err) != 0)
        return; /* e.g. no Host header: refused, which is fine */
    if (strlen(res.signature) != SIGV4_HEX_LEN)
        abort();
    struct lw_buf out;
    lw_buf_init(&out, 1u << 24);
    if (sigv4_suite_format_signed(req, &res, form, &out) != 0)
        abort();
    struct sigv4_suite_request again;
    if (sigv4_suite_request_parse(out.data, out.len, &again, &err) != 0)
        abort();
    size_t want_headers = req->n_headers + (form == SIGV4_FORM_HEADER ? res.n_add : 0);
    if (strcmp(again.method, req->method) != 0 || strcmp(again.path, req->path) != 0 ||
        again.n_headers != want_headers || again.body_len != req->body_len ||
        (req->body_len && memcmp(again.body, req->body, req->body_len) != 0))
        abort();
    if (form == SIGV4_FORM_HEADER && (again.query == NULL) != (req->query == NULL))
        abort();
    sigv4_suite_request_cleanup(&again);
    lw_buf_cleanup(&out);
    sigv4_result_cleanup(&res);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1u << 16)
        return 0;
    struct sigv4_suite_request req;
    struct lw_err err = {0};
    if (sigv4_suite_request_parse((const char *)data, size, &req, &err) != 0) {
        if (err.line < 1 && size > 0 && size <= 1u << 16 && strstr(err.msg, "memory") == NULL)
            abort(); /* every refusal of a small input says where */
        return 0;
    }
    static char ak[] = "AKIDEXAMPLE", sk[] = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                tok[] = "AQoDYXdzEPT//////////wEXAMPLE", region[] = "us-east-1",
                service[] = "service";
    struct sigv4_suite_context ctx = {
        .access_key_id = ak,
        .secret_access_key = sk,
        .session_token = size % 2 ? tok : NULL,
        .region = region,
        .service = service,
        .unix_time_s = 1440938160,
        .expires_s = 3600,
        .normalize = size % 3 != 0,
        .sign_body = size % 5 == 0,
        .omit_session_token = size % 7 == 0,
    };
    check_round_trip(&req, &ctx, SIGV4_FORM_HEADER);
    check_round_trip(&req, &ctx, SIGV4_FORM_QUERY);
    sigv4_suite_request_cleanup(&req);
    return 0;
}
