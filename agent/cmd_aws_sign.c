/*
 * cmd_aws_sign.c — `lagwatch aws sign --context FILE --request FILE --print WHAT`: replays one
 * request in the AWS SigV4 test-suite format (context.json + request.txt) through lagwatch's
 * signer and prints one artefact (canonical request, string to sign, signature or the signed
 * request, header or presigned-URL form) followed by one newline. What you compare with AWS's
 * answer when it says SignatureDoesNotMatch (see docs/sigv4.md). Never prints the secret key;
 * the session token appears only where the signed request itself carries it.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cli.h"
#include "cmd_aws.h"
#include "lagwatch/limits.h"
#include "lagwatch/sigv4.h"

enum artefact { ART_CANONICAL, ART_STS, ART_SIGNATURE, ART_SIGNED };

static const struct {
    const char *name;
    enum sigv4_form form;
    enum artefact what;
} prints[] = {
    {"canonical-request", SIGV4_FORM_HEADER, ART_CANONICAL},
    {"string-to-sign", SIGV4_FORM_HEADER, ART_STS},
    {"signature", SIGV4_FORM_HEADER, ART_SIGNATURE},
    {"signed-request", SIGV4_FORM_HEADER, ART_SIGNED},
    {"query-canonical-request", SIGV4_FORM_QUERY, ART_CANONICAL},
    {"query-string-to-sign", SIGV4_FORM_QUERY, ART_STS},
    {"query-signature", SIGV4_FORM_QUERY, ART_SIGNATURE},
    {"query-signed-request", SIGV4_FORM_QUERY, ART_SIGNED},
};
#define N_PRINTS (sizeof prints / sizeof prints[0])

/* Read a whole file of at most LW_MAX_FILE_BYTES into a heap block (NUL-terminated). */
static char *read_file(const char *path, size_t *len, struct lw_err *err)
{
    lw_err_set_file(err, path);
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        lw_err_set(err, 0, 0, "cannot open: %s", strerror(errno));
        return NULL;
    }
    struct lw_buf b;
    lw_buf_init(&b, LW_MAX_FILE_BYTES);
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (lw_buf_add(&b, chunk, n) != 0)
            break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad || lw_buf_failed(&b)) {
        lw_buf_cleanup(&b);
        lw_err_set(err, 0, 0, bad ? "read error" : "larger than %u bytes", LW_MAX_FILE_BYTES);
        return NULL;
    }
    *len = b.len;
    return lw_buf_take(&b);
}

static int input_error(const struct lw_err *err)
{
    char msg[LW_ERR_MSG_MAX + LW_ERR_FILE_MAX + 32];
    lw_err_format(err, msg, sizeof msg);
    fprintf(stderr, "lagwatch aws sign: %s\n", msg);
    return CLI_EXIT_USAGE;
}

int cmd_aws_sign(int argc, char **argv)
{
    const char *ctx_path = NULL, *req_path = NULL, *what = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            aws_print_usage("sign", stdout);
            printf("\nWHAT is one of:");
            for (size_t k = 0; k < N_PRINTS; k++)
                printf(" %s", prints[k].name);
            printf("\nThe files use the AWS SigV4 test-suite format (see docs/sigv4.md).\n");
            return CLI_EXIT_OK;
        }
        const char **slot = strcmp(a, "--context") == 0   ? &ctx_path
                            : strcmp(a, "--request") == 0 ? &req_path
                            : strcmp(a, "--print") == 0   ? &what
                                                          : NULL;
        if (slot == NULL)
            return aws_usage_error("sign", "unknown option '%s'", a);
        if (i + 1 >= argc)
            return aws_usage_error("sign", "%s needs a value", a);
        *slot = argv[++i];
    }
    if (ctx_path == NULL || req_path == NULL || what == NULL)
        return aws_usage_error("sign", "--context, --request and --print are all required");
    size_t k = 0;
    while (k < N_PRINTS && strcmp(prints[k].name, what) != 0)
        k++;
    if (k == N_PRINTS)
        return aws_usage_error("sign", "unknown --print '%s' (see --help)", what);

    struct lw_err err = {0};
    size_t len = 0;
    int rc = CLI_EXIT_USAGE;
    struct sigv4_suite_request req = {0};
    struct sigv4_suite_context ctx = {0};
    struct sigv4_result res = {0};
    struct lw_buf out;
    lw_buf_init(&out, LW_MAX_FILE_BYTES * 2u);

    char *txt = read_file(req_path, &len, &err);
    if (txt == NULL || sigv4_suite_request_parse(txt, len, &req, &err) != 0) {
        rc = input_error(&err);
        goto cleanup;
    }
    free(txt);
    txt = read_file(ctx_path, &len, &err);
    if (txt == NULL || sigv4_suite_context_parse(txt, len, &ctx, &err) != 0) {
        rc = input_error(&err);
        goto cleanup;
    }
    if (sigv4_suite_sign(&req, &ctx, prints[k].form, &res, &err) != 0) {
        lw_err_set_file(&err, req_path);
        rc = input_error(&err);
        goto cleanup;
    }
    switch (prints[k].what) {
    case ART_CANONICAL:
        lw_buf_adds(&out, res.canonical_request);
        break;
    case ART_STS:
        lw_buf_adds(&out, res.string_to_sign);
        break;
    case ART_SIGNATURE:
        lw_buf_adds(&out, res.signature);
        break;
    case ART_SIGNED:
        if (sigv4_suite_format_signed(&req, &res, prints[k].form, &out) != 0) {
            fprintf(stderr, "lagwatch aws sign: signed request too large\n");
            rc = CLI_EXIT_FAIL;
            goto cleanup;
        }
        break;
    }
    lw_buf_addc(&out, '\n');
    if (lw_buf_failed(&out) || fwrite(out.data, 1, out.len, stdout) != out.len ||
        fflush(stdout) != 0) {
        fprintf(stderr, "lagwatch aws sign: cannot write the output\n");
        rc = CLI_EXIT_FAIL;
        goto cleanup;
    }
    rc = CLI_EXIT_OK;
cleanup:
    if (txt) {
        OPENSSL_cleanse(txt, len); /* the context file holds the secret key */
        free(txt);
    }
    lw_buf_cleanup(&out);
    sigv4_result_cleanup(&res);
    sigv4_suite_request_cleanup(&req);
    sigv4_suite_context_cleanup(&ctx);
    return rc;
}
