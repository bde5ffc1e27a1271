/*
 * endpoint.h — which region lagwatch talks to and at which URL. The region comes from lagwatch's
 * config, else AWS_REGION, AWS_DEFAULT_REGION, the profile's `region`, and finally the EC2
 * instance's placement (IMDSv2). Endpoints for the services lagwatch calls (CloudWatch's
 * "monitoring", "rds", "sts") follow the partition of the region (aws: amazonaws.com, aws-cn:
 * amazonaws.com.cn, aws-us-gov) with FIPS and dual-stack variants, and the SDKs' overrides:
 * lagwatch's per-service `endpoint`, then AWS_ENDPOINT_URL_<SERVICE>, then AWS_ENDPOINT_URL
 * (both ignored when AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true). Whatever the endpoint, requests
 * are signed for the region.
 */
#ifndef LAGWATCH_ENDPOINT_H
#define LAGWATCH_ENDPOINT_H

#include <stdint.h>

#include "lagwatch/creds.h"

/* Where region resolution looks. Every NULL means "not configured". */
struct region_options {
    const char *config_region;                   /* aws.region in lagwatch's config */
    const struct creds_profile_options *profile; /* for the profile's `region`; NULL = env */
    int use_imds;                                /* ask IMDS as the last resort */
};

/* Resolve the region into *region (heap, caller frees) and *source (static: "config",
 * "AWS_REGION", "AWS_DEFAULT_REGION", "profile", "imds"). 0, or -1 with err listing where it
 * looked. opts supplies the environment and HTTP (for IMDS). */
LW_MUST_CHECK int region_resolve(const struct creds_options *opts, const struct region_options *ro,
                                 int64_t now_unix_s, char **region, const char **source,
                                 struct lw_err *err);

/* Whether s looks like a region name (lowercase letters, digits, '-'; 1..64 bytes). */
int region_valid(const char *s);

/* "aws", "aws-cn" or "aws-us-gov" for a region (unknown shapes count as "aws"). */
const char *endpoint_partition(const char *region);

/* How to pick an endpoint. */
struct endpoint_options {
    const char *override_url; /* lagwatch's per-service endpoint (config); wins over all */
    int use_fips;             /* 1 yes, 0 no, -1 = AWS_USE_FIPS_ENDPOINT (default no) */
    int use_dualstack;        /* 1 yes, 0 no, -1 = AWS_USE_DUALSTACK_ENDPOINT (default no) */
};

/* The base URL ("https://monitoring.us-east-1.amazonaws.com", no trailing slash) for service
 * ("monitoring", "rds" or "sts") in region, into *url (heap, caller frees); *source (static, may
 * be NULL) says which rule chose it ("config", "AWS_ENDPOINT_URL_CLOUDWATCH", "AWS_ENDPOINT_URL",
 * "default"). cop supplies the environment (NULL = the process's). 0, or -1 with err (unknown
 * service, invalid region or override URL). */
LW_MUST_CHECK int endpoint_resolve(const struct creds_options *cop, const char *service,
                                   const char *region, const struct endpoint_options *eo,
                                   char **url, const char **source, struct lw_err *err);

#endif
