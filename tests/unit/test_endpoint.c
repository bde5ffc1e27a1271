/* test_endpoint.c — endpoints per partition with FIPS and dual-stack (checked row by row against
 * botocore's own answers in tests/fixtures/endpoints/botocore-matrix.txt), the endpoint
 * overrides in their order, and region resolution in its order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "creds_fakes.h"
#include "lagwatch/endpoint.h"
#include "testsupport.h"

static void test_matches_botocore_for_every_partition_fips_and_dualstack(void **state)
{
    (void)state;
    char path[1024];
    ts_fixture_path(path, sizeof path, "endpoints/botocore-matrix.txt");
    char *text = ts_read_file(path, NULL);
    assert_non_null(text);
    struct fake_env env = {0};
    struct creds_options o = fake_options(&env, NULL, NULL);
    int rows = 0;
    for (char *line = text, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        if (line[0] == '#' || line[0] == '\0')
            continue;
        char service[32], region[32], fips[4], dual[4], url[200];
        char *f[5] = {service, region, fips, dual, url};
        size_t sz[5] = {sizeof service, sizeof region, sizeof fips, sizeof dual, sizeof url};
        char *p = line;
        for (int i = 0; i < 5; i++) {
            size_t n = strcspn(p, " ");
            assert_true(n < sz[i]);
            memcpy(f[i], p, n);
            f[i][n] = '\0';
            p += n + (p[n] ? 1 : 0);
        }
        struct endpoint_options eo = {NULL, fips[0] == '1', dual[0] == '1'};
        char *got = NULL;
        const char *src = NULL;
        struct lw_err err = {0};
        assert_int_equal(endpoint_resolve(&o, service, region, &eo, &got, &src, &err), 0);
        if (strcmp(got, url) != 0) {
            print_error("%s %s fips=%s dual=%s: got %s, botocore %s\n", service, region, fips, dual,
                        got, url);
            fail();
        }
        assert_string_equal(src, "default");
        free(got);
        rows++;
    }
    assert_int_equal(rows, 84);
    free(text);
}

static const char *resolve(struct fake_env *env, const char *service, const char *override)
{
    static char buf[600];
    struct creds_options o = fake_options(env, NULL, NULL);
    struct endpoint_options eo = {override, -1, -1};
    char *url = NULL;
    const char *src = NULL;
    struct lw_err err = {0};
    if (endpoint_resolve(&o, service, "us-east-1", &eo, &url, &src, &err) != 0) {
        snprintf(buf, sizeof buf, "error: %s", err.msg);
        return buf;
    }
    snprintf(buf, sizeof buf, "%s %s", src, url);
    free(url);
    return buf;
}

static void test_overrides_apply_in_the_sdks_order(void **state)
{
    (void)state;
    struct fake_env env = {0};
    assert_string_equal(resolve(&env, "monitoring", NULL),
                        "default https://monitoring.us-east-1.amazonaws.com");
    fake_env_set(&env, "AWS_USE_FIPS_ENDPOINT", "true");
    fake_env_set(&env, "AWS_USE_DUALSTACK_ENDPOINT", "TRUE");
    assert_string_equal(resolve(&env, "rds", NULL), "default https://rds-fips.us-east-1.api.aws");
    fake_env_set(&env, "AWS_USE_DUALSTACK_ENDPOINT", "yes");
    assert_non_null(strstr(resolve(&env, "rds", NULL), "must be true or false"));
    fake_env_set(&env, "AWS_USE_DUALSTACK_ENDPOINT", NULL);
    fake_env_set(&env, "AWS_ENDPOINT_URL", "http://127.0.0.1:5000/");
    assert_string_equal(resolve(&env, "sts", NULL), "AWS_ENDPOINT_URL http://127.0.0.1:5000");
    fake_env_set(&env, "AWS_ENDPOINT_URL_CLOUDWATCH", "http://127.0.0.1:5001");
    assert_string_equal(resolve(&env, "monitoring", NULL),
                        "AWS_ENDPOINT_URL_CLOUDWATCH http://127.0.0.1:5001");
    assert_string_equal(resolve(&env, "rds", NULL), "AWS_ENDPOINT_URL http://127.0.0.1:5000");
    fake_env_set(&env, "AWS_ENDPOINT_URL_RDS", "https://vpce-1.rds.us-east-1.vpce.amazonaws.com");
    assert_string_equal(resolve(&env, "rds", NULL),
                        "AWS_ENDPOINT_URL_RDS https://vpce-1.rds.us-east-1.vpce.amazonaws.com");
    assert_string_equal(resolve(&env, "rds", "http://localhost:9000"),
                        "config http://localhost:9000");
    assert_non_null(strstr(resolve(&env, "rds", "localhost:9000"), "http:// or https://"));
    fake_env_set(&env, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true");
    assert_string_equal(resolve(&env, "sts", NULL),
                        "default https://sts-fips.us-east-1.amazonaws.com");
    assert_non_null(strstr(resolve(&env, "s3", NULL), "unknown AWS service"));
    assert_string_equal(endpoint_partition("cn-northwest-1"), "aws-cn");
    assert_string_equal(endpoint_partition("us-gov-east-1"), "aws-us-gov");
    assert_string_equal(endpoint_partition("eu-west-1"), "aws");
}

static void test_region_resolution_order_and_clear_error(void **state)
{
    (void)state;
    struct fake_env env = {0};
    struct fake_http http = {0};
    fake_env_set(&env, "HOME", "/nonexistent-home");
    struct creds_options o = fake_options(&env, &http, NULL);
    char conf[1024];
    ts_fixture_path(conf, sizeof conf, "aws/config");
    struct creds_profile_options po = {NULL, "/nonexistent", conf, NULL, NULL};
    struct region_options ro = {"ap-south-1", &po, 1};
    char *region = NULL;
    const char *src = NULL;
    struct lw_err err = {0};
    assert_int_equal(region_resolve(&o, &ro, 0, &region, &src, &err), 0);
    assert_string_equal(region, "ap-south-1");
    assert_string_equal(src, "config");
    free(region);
    ro.config_region = NULL;
    fake_env_set(&env, "AWS_DEFAULT_REGION", "eu-west-3");
    assert_int_equal(region_resolve(&o, &ro, 0, &region, &src, &err), 0);
    assert_string_equal(src, "AWS_DEFAULT_REGION");
    free(region);
    fake_env_set(&env, "AWS_REGION", "eu-north-1");
    assert_int_equal(region_resolve(&o, &ro, 0, &region, &src, &err), 0);
    assert_string_equal(region, "eu-north-1");
    free(region);
    fake_env_set(&env, "AWS_REGION", "EU North");
    assert_int_equal(region_resolve(&o, &ro, 0, &region, &src, &err), -1);
    assert_non_null(strstr(err.msg, "AWS_REGION is not a region name"));
    fake_env_set(&env, "AWS_REGION", NULL);
    fake_env_set(&env, "AWS_DEFAULT_REGION", NULL);
    assert_int_equal(region_resolve(&o, &ro, 0, &region, &src, &err), 0);
    assert_string_equal(region, "eu-west-2"); /* [default] of the fixture */
    assert_string_equal(src, "profile");
    free(region);
    po.profile = "prod";
    assert_int_equal(region_resolve(&o, &ro, 0, &region, &src, &err), 0);
    assert_string_equal(region, "us-gov-west-1");
    free(region);
    po.config_file = "/nonexistent";
    fake_http_add(&http, "PUT", "http://169.254.169.254/latest/api/token", 200, "T");
    fake_http_add(&http, "GET", "http://169.254.169.254/latest/meta-data/placement/region", 200,
                  "sa-east-1");
    assert_int_equal(region_resolve(&o, &ro, 0, &region, &src, &err), 0);
    assert_string_equal(region, "sa-east-1");
    assert_string_equal(src, "imds");
    free(region);
    ro.use_imds = 0;
    assert_int_equal(region_resolve(&o, &ro, 0, &region, &src, &err), -1);
    assert_non_null(strstr(err.msg, "no AWS region: set aws.region"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matches_botocore_for_every_partition_fips_and_dualstack),
        cmocka_unit_test(test_overrides_apply_in_the_sdks_order),
        cmocka_unit_test(test_region_resolution_order_and_clear_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
