/*
 * creds_default.c — the provider the agent uses, built from lagwatch's config: explicit keys win,
 * then an explicitly named profile, and otherwise the SDKs' default chain
 *   env -> profile (AWS_PROFILE or "default", incl. web identity profiles)
 *       -> web identity from AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE -> ECS -> IMDSv2,
 * all behind the refreshing cache. The config never needs to hold a secret: keys may come from
 * the environment or the shared files.
 */
#include <stddef.h>

#include "lagwatch/private/creds_impl.h"

struct creds_provider *creds_default_new(const struct creds_options *opts,
                                         const struct creds_config *cfg, struct lw_err *err)
{
    struct creds_provider *inner = NULL;
    if (cfg && (cfg->access_key_id || cfg->secret_access_key)) {
        if (!cfg->access_key_id || !cfg->access_key_id[0] || !cfg->secret_access_key ||
            !cfg->secret_access_key[0]) {
            lw_err_set(err, 0, 0, "aws: access_key_id and secret_access_key go together");
            return NULL;
        }
        inner = creds_static_new(cfg->access_key_id, cfg->secret_access_key, cfg->session_token);
    } else {
        struct creds_profile_options po = {cfg ? cfg->profile : NULL, NULL, NULL,
                                           cfg ? cfg->sts_endpoint : NULL,
                                           cfg ? cfg->region : NULL};
        struct creds_web_identity_options wo = {NULL, NULL, NULL, cfg ? cfg->sts_endpoint : NULL,
                                                cfg ? cfg->region : NULL};
        if (cfg && cfg->profile) {
            inner = creds_profile_new(opts, &po);
        } else {
            struct creds_provider *v[] = {creds_env_new(opts), creds_profile_new(opts, &po),
                                          creds_web_identity_new(opts, &wo), creds_ecs_new(opts),
                                          creds_imds_new(opts, 0)};
            inner = creds_chain_new(v, sizeof v / sizeof v[0], opts);
        }
    }
    struct creds_provider *p = inner ? creds_cache_new(inner, opts) : NULL;
    if (p == NULL)
        lw_err_set(err, 0, 0, "aws: out of memory");
    return p;
}
