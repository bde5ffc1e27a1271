/*
 * region.c — which AWS region lagwatch works in, looked up where the SDKs look: lagwatch's
 * config, AWS_REGION, AWS_DEFAULT_REGION, the profile's `region` in the shared config file, and
 * last the EC2 instance's placement from IMDSv2. When none answers the error says where it
 * looked, so the operator knows which one to set.
 */
#include <stdlib.h>
#include <string.h>

#include "lagwatch/endpoint.h"
#include "lagwatch/private/creds_impl.h"

static int take(const char *value, const char *src, char **region, const char **source,
                struct lw_err *err)
{
    if (!region_valid(value))
        return lw_err_set(err, 0, 0, "the region from %s is not a region name: \"%.64s\"", src,
                          value);
    char *s = strdup(value);
    if (s == NULL)
        return lw_err_set(err, 0, 0, "out of memory");
    *region = s;
    *source = src;
    return 0;
}

int region_resolve(const struct creds_options *opts, const struct region_options *ro,
                   int64_t now_unix_s, char **region, const char **source, struct lw_err *err)
{
    struct creds_options o;
    creds_options_defaults(&o, opts);
    if (ro && ro->config_region)
        return take(ro->config_region, "config", region, source, err);
    const char *v = creds_env(&o, "AWS_REGION");
    if (v)
        return take(v, "AWS_REGION", region, source, err);
    v = creds_env(&o, "AWS_DEFAULT_REGION");
    if (v)
        return take(v, "AWS_DEFAULT_REGION", region, source, err);
    char *pr = NULL;
    struct lw_err e = {0};
    int r = creds_profile_region(&o, ro ? ro->profile : NULL, &pr, &e);
    if (r < 0)
        return lw_err_set(err, e.line, e.col, "%s", e.msg);
    if (r == 1) {
        int rc = take(pr, "profile", region, source, err);
        free(pr);
        return rc;
    }
    if (ro && ro->use_imds) {
        char *ir = NULL;
        struct lw_err ie = {0};
        if (creds_imds_region(&o, now_unix_s, &ir, &ie) == 0) {
            int rc = take(ir, "imds", region, source, err);
            free(ir);
            return rc;
        }
        return lw_err_set(err, 0, 0,
                          "no AWS region: set aws.region in the config, AWS_REGION, "
                          "AWS_DEFAULT_REGION or the profile's region (%.300s)",
                          ie.msg);
    }
    return lw_err_set(err, 0, 0,
                      "no AWS region: set aws.region in the config, AWS_REGION, "
                      "AWS_DEFAULT_REGION or the profile's region");
}
