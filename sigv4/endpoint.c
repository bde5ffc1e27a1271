/*
 * endpoint.c — service endpoints per partition, FIPS and dual-stack variants, and the SDKs'
 * endpoint overrides. The partition facts (region patterns, DNS suffixes) are those of the AWS
 * SDKs' partitions.json for the three partitions lagwatch supports; the URL shapes follow the
 * SDKs' endpoint rules: https://{service}[-fips].{region}.{dnsSuffix | dualStackDnsSuffix}, with
 * GovCloud's FIPS exception. tests/fixtures/endpoints/botocore-matrix.txt holds botocore's own
 * answers and the unit test compares every row.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lagwatch/endpoint.h"
#include "lagwatch/private/creds_impl.h"

struct partition {
    const char *name;
    const char *dns_suffix;
    const char *dualstack_suffix;
};

static const struct partition partitions[] = {
    {"aws", "amazonaws.com", "api.aws"},
    {"aws-cn", "amazonaws.com.cn", "api.amazonwebservices.com.cn"},
    {"aws-us-gov", "amazonaws.com", "api.aws"},
};

int region_valid(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 64 || s[0] == '-' || s[n - 1] == '-')
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
            return 0;
    return 1;
}

static const struct partition *partition_of(const char *region)
{
    if (strncmp(region, "cn-", 3) == 0)
        return &partitions[1];
    if (strncmp(region, "us-gov-", 7) == 0)
        return &partitions[2];
    return &partitions[0];
}

const char *endpoint_partition(const char *region)
{
    return partition_of(region ? region : "")->name;
}

/* The SDKs' service id for AWS_ENDPOINT_URL_<ID>. */
static const char *env_suffix(const char *service)
{
    if (strcmp(service, "monitoring") == 0)
        return "CLOUDWATCH";
    if (strcmp(service, "rds") == 0)
        return "RDS";
    if (strcmp(service, "sts") == 0)
        return "STS";
    return NULL;
}

static int env_flag(const struct creds_options *o, const char *name, int explicit_value, int *out,
                    struct lw_err *err)
{
    if (explicit_value >= 0) {
        *out = explicit_value != 0;
        return 0;
    }
    const char *v = creds_env(o, name);
    if (v == NULL || strcasecmp(v, "false") == 0) {
        *out = 0;
        return 0;
    }
    if (strcasecmp(v, "true") == 0) {
        *out = 1;
        return 0;
    }
    return lw_err_set(err, 0, 0, "%s must be true or false, not \"%.20s\"", name, v);
}

static int check_url(const char *what, const char *url, struct lw_err *err)
{
    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
        return lw_err_set(err, 0, 0, "%s must be an http:// or https:// URL, not \"%.200s\"", what,
                          url);
    if (strpbrk(url, " \t\r\n"))
        return lw_err_set(err, 0, 0, "%s holds whitespace", what);
    return 0;
}

static int take_url(const char *url, char **out, struct lw_err *err)
{
    size_t n = strlen(url);
    while (n > 0 && url[n - 1] == '/')
        n--;
    char *s = strndup(url, n);
    if (s == NULL)
        return lw_err_set(err, 0, 0, "out of memory");
    *out = s;
    return 0;
}

int endpoint_resolve(const struct creds_options *cop, const char *service, const char *region,
                     const struct endpoint_options *eo, char **url, const char **source,
                     struct lw_err *err)
{
    struct creds_options o;
    creds_options_defaults(&o, cop);
    struct endpoint_options none = {NULL, -1, -1};
    if (eo == NULL)
        eo = &none;
    const char *suffix = service ? env_suffix(service) : NULL;
    if (suffix == NULL)
        return lw_err_set(err, 0, 0, "unknown AWS service \"%.40s\"", service ? service : "");
    const char *src = "config";
    if (eo->override_url) {
        if (check_url("the configured endpoint", eo->override_url, err) != 0)
            return -1;
        if (take_url(eo->override_url, url, err) != 0)
            return -1;
        if (source)
            *source = src;
        return 0;
    }
    const char *ignore = creds_env(&o, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
    if (ignore == NULL || strcasecmp(ignore, "true") != 0) {
        static const char *const names[][2] = {
            {"CLOUDWATCH", "AWS_ENDPOINT_URL_CLOUDWATCH"},
            {"RDS", "AWS_ENDPOINT_URL_RDS"},
            {"STS", "AWS_ENDPOINT_URL_STS"},
        };
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
            if (strcmp(names[i][0], suffix) != 0)
                continue;
            const char *v = creds_env(&o, names[i][1]);
            if (v) {
                if (check_url(names[i][1], v, err) != 0 || take_url(v, url, err) != 0)
                    return -1;
                if (source)
                    *source = names[i][1];
                return 0;
            }
        }
        const char *v = creds_env(&o, "AWS_ENDPOINT_URL");
        if (v) {
            if (check_url("AWS_ENDPOINT_URL", v, err) != 0 || take_url(v, url, err) != 0)
                return -1;
            if (source)
                *source = "AWS_ENDPOINT_URL";
            return 0;
        }
    }
    if (!region_valid(region))
        return lw_err_set(err, 0, 0, "invalid AWS region \"%.64s\"", region ? region : "");
    int fips, dual;
    if (env_flag(&o, "AWS_USE_FIPS_ENDPOINT", eo->use_fips, &fips, err) != 0 ||
        env_flag(&o, "AWS_USE_DUALSTACK_ENDPOINT", eo->use_dualstack, &dual, err) != 0)
        return -1;
    const struct partition *p = partition_of(region);
    /* In GovCloud the regular endpoints of these three services already are FIPS endpoints,
     * and the SDKs resolve FIPS-without-dual-stack to them (there is no -fips host name). */
    if (fips && !dual && p == &partitions[2])
        fips = 0;
    struct lw_buf b;
    lw_buf_init(&b, 256);
    (void)lw_buf_addf(&b, "https://%s%s.%s.%s", service, fips ? "-fips" : "", region,
                      dual ? p->dualstack_suffix : p->dns_suffix);
    if (lw_buf_failed(&b)) {
        lw_buf_cleanup(&b);
        return lw_err_set(err, 0, 0, "out of memory");
    }
    *url = lw_buf_take(&b);
    if (source)
        *source = "default";
    return 0;
}
