/* test_creds.c — the credential value, static and environment providers, the shared parsers
 * (AWS time, the ECS/IMDS JSON), the chain's reasons and the refreshing cache's windows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "creds_fakes.h"
#include "lagwatch/limits.h"
#include "lagwatch/private/creds_impl.h"

#define T0 1795000000 /* 2026-11-18T...; any fixed "now" */

static void test_copy_is_deep_and_cleanup_zeroes(void **state)
{
    (void)state;
    struct creds a = {strdup("AKIDEXAMPLE"), strdup("s3cr3t"), strdup("tok"), 42, "env"};
    struct creds b;
    assert_int_equal(creds_copy(&b, &a), 0);
    assert_ptr_not_equal(a.secret_access_key, b.secret_access_key);
    assert_string_equal(b.secret_access_key, "s3cr3t");
    assert_string_equal(b.session_token, "tok");
    assert_int_equal(b.expires_unix_s, 42);
    assert_string_equal(b.provider, "env");
    creds_cleanup(&a);
    assert_null(a.access_key_id);
    assert_null(a.secret_access_key);
    assert_int_equal(a.expires_unix_s, 0);
    creds_cleanup(&b);
    creds_cleanup(NULL);
}

static void test_static_provider_returns_its_keys_and_never_expires(void **state)
{
    (void)state;
    assert_null(creds_static_new("AKID", "", NULL));
    struct creds_provider *p = creds_static_new("AKID", "SECRET", NULL);
    assert_non_null(p);
    struct creds c;
    struct lw_err err = {0};
    assert_int_equal(creds_provider_get(p, T0, &c, &err), 0);
    assert_string_equal(c.access_key_id, "AKID");
    assert_null(c.session_token);
    assert_int_equal(c.expires_unix_s, 0);
    assert_string_equal(c.provider, "static");
    creds_cleanup(&c);
    creds_provider_free(p);
    creds_provider_free(NULL);
}

static void test_env_provider_reads_the_three_variables(void **state)
{
    (void)state;
    struct fake_env env = {0};
    struct creds_options o = fake_options(&env, NULL, NULL);
    struct creds_provider *p = creds_env_new(&o);
    struct creds c = {0};
    struct lw_err err = {0};
    assert_int_equal(creds_provider_get(p, T0, &c, &err), -1);
    assert_non_null(strstr(err.msg, "AWS_ACCESS_KEY_ID"));
    fake_env_set(&env, "AWS_ACCESS_KEY_ID", "AKIDENV");
    assert_int_equal(creds_provider_get(p, T0, &c, &err), -1);
    assert_non_null(strstr(err.msg, "AWS_SECRET_ACCESS_KEY is not"));
    fake_env_set(&env, "AWS_SECRET_ACCESS_KEY", "envsecret");
    fake_env_set(&env, "AWS_SESSION_TOKEN", "envtoken");
    assert_int_equal(creds_provider_get(p, T0, &c, &err), 0);
    assert_string_equal(c.access_key_id, "AKIDENV");
    assert_string_equal(c.secret_access_key, "envsecret");
    assert_string_equal(c.session_token, "envtoken");
    assert_string_equal(c.provider, "env");
    creds_cleanup(&c);
    creds_provider_free(p);
}

static void test_parses_aws_times(void **state)
{
    (void)state;
    int64_t t = -1;
    assert_int_equal(creds_parse_iso8601("1970-01-01T00:00:00Z", &t), 0);
    assert_int_equal(t, 0);
    assert_int_equal(creds_parse_iso8601("2026-11-28T16:00:00Z", &t), 0);
    assert_int_equal(t, 1795881600);
    assert_int_equal(creds_parse_iso8601("2026-11-28T16:00:00.123Z", &t), 0);
    assert_int_equal(t, 1795881600);
    assert_int_equal(creds_parse_iso8601("2026-11-28T16:00:00+00:00", &t), 0);
    assert_int_equal(t, 1795881600);
    const char *bad[] = {"",
                         "2026-11-28",
                         "2026-11-28T16:00:00",
                         "2026-13-28T16:00:00Z",
                         "2026-11-28T16:00:00+01:00",
                         "2026-11-28T16:00:00Zjunk",
                         "2026-11-28 16:00:00Z"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(creds_parse_iso8601(bad[i], &t), -1);
    char buf[32];
    creds_format_iso8601(1795881600, buf, sizeof buf);
    assert_string_equal(buf, "2026-11-28T16:00:00Z");
}

static void test_json_answer_parsed_and_bad_ones_refused(void **state)
{
    (void)state;
    struct creds c;
    struct lw_err err = {0};
    const char *ok = "{\"Code\":\"Success\",\"AccessKeyId\":\"ASIAJSON\",\"SecretAccessKey\":"
                     "\"jsonsecret\",\"Token\":\"jsontoken\",\"Expiration\":"
                     "\"2026-11-28T16:00:00Z\"}";
    assert_int_equal(creds_parse_json(ok, strlen(ok), "imds", 1795881600 - 3600, &c, &err), 0);
    assert_string_equal(c.access_key_id, "ASIAJSON");
    assert_string_equal(c.session_token, "jsontoken");
    assert_int_equal(c.expires_unix_s, 1795881600);
    assert_string_equal(c.provider, "imds");
    creds_cleanup(&c);
    /* Already expired */
    memset(&err, 0, sizeof err);
    assert_int_equal(creds_parse_json(ok, strlen(ok), "ecs", 1795881600, &c, &err), -1);
    assert_non_null(strstr(err.msg, "already expired"));
    assert_null(strstr(err.msg, "jsonsecret"));
    const char *bad[] = {
        "{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"hidden", /* truncated */
        "[]",
        "{\"AccessKeyId\":\"A\"}",
        ("{\"Code\":\"AssumeRoleUnauthorizedAccess\",\"AccessKeyId\":\"A\",\"SecretAccessKey\":"
         "\"hidden\"}"),
        "{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"hidden\",\"Expiration\":\"tomorrow\"}",
        "{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"hidden\",\"Token\":5}",
        "",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&err, 0, sizeof err);
        assert_int_equal(creds_parse_json(bad[i], strlen(bad[i]), "ecs", 0, &c, &err), -1);
        assert_true(strncmp(err.msg, "ecs: ", 5) == 0);
        assert_null(strstr(err.msg, "hidden"));
    }
}

/* A provider whose answers a test scripts: each get pops the next (or fails). */
struct scripted {
    int calls;
    int fail;        /* next gets fail */
    int64_t expires; /* expiry of what it hands out */
    char key[32];    /* access key id it hands out */
};

static int scripted_get(struct creds_provider *p, int64_t now, struct creds *out,
                        struct lw_err *err)
{
    (void)now;
    struct scripted *s = p->impl;
    s->calls++;
    if (s->fail)
        return lw_err_set(err, 0, 0, "scripted: endpoint blipped");
    struct creds c = {s->key, "scriptedsecret", NULL, s->expires, "scripted"};
    return creds_copy(out, &c) == 0 ? 0 : -1;
}

static void scripted_destroy(void *impl)
{
    (void)impl;
}

static const struct creds_provider_vtable scripted_vt = {"scripted", scripted_get, NULL,
                                                         scripted_destroy};

static void test_chain_reports_every_providers_reason(void **state)
{
    (void)state;
    struct fake_env env = {0};
    struct fake_log log = {0};
    struct creds_options o = fake_options(&env, NULL, &log);
    struct scripted s = {.fail = 1};
    struct creds_provider *v[] = {creds_env_new(&o), creds_provider_alloc(&scripted_vt, &o, &s)};
    struct creds_provider *chain = creds_chain_new(v, 2, &o);
    struct creds c;
    struct lw_err err = {0};
    assert_int_equal(creds_provider_get(chain, T0, &c, &err), -1);
    assert_non_null(strstr(err.msg, "no AWS credentials found: env: "));
    assert_non_null(strstr(err.msg, "; scripted: endpoint blipped"));
    assert_non_null(strstr(log.text, "credential provider passed env"));
    s.fail = 0;
    snprintf(s.key, sizeof s.key, "AKIDSCRIPTED");
    assert_int_equal(creds_provider_get(chain, T0, &c, &err), 0);
    assert_string_equal(c.access_key_id, "AKIDSCRIPTED");
    creds_cleanup(&c);
    /* env comes first once set */
    fake_env_set(&env, "AWS_ACCESS_KEY_ID", "AKIDENV");
    fake_env_set(&env, "AWS_SECRET_ACCESS_KEY", "x");
    assert_int_equal(creds_provider_get(chain, T0, &c, &err), 0);
    assert_string_equal(c.provider, "env");
    creds_cleanup(&c);
    creds_provider_free(chain);
}

struct cache_fixture {
    struct scripted s;
    struct fake_log log;
    struct creds_provider *cache;
};

static void cache_setup(struct cache_fixture *f, int64_t expires)
{
    memset(f, 0, sizeof *f);
    f->s.expires = expires;
    snprintf(f->s.key, sizeof f->s.key, "KEY1");
    struct creds_options o = fake_options(NULL, NULL, &f->log);
    f->cache = creds_cache_new(creds_provider_alloc(&scripted_vt, &o, &f->s), &o);
    assert_non_null(f->cache);
}

static const char *cache_get_key(struct cache_fixture *f, int64_t now, char *buf, size_t len)
{
    struct creds c;
    struct lw_err err = {0};
    if (creds_provider_get(f->cache, now, &c, &err) != 0)
        return NULL;
    snprintf(buf, len, "%s", c.access_key_id);
    creds_cleanup(&c);
    return buf;
}

static void test_cache_serves_cached_credentials_until_the_advisory_window(void **state)
{
    (void)state;
    struct cache_fixture f;
    char k[32];
    cache_setup(&f, T0 + 3600);
    assert_string_equal(cache_get_key(&f, T0, k, sizeof k), "KEY1");
    assert_string_equal(cache_get_key(&f, T0 + 3600 - LW_CREDS_ADVISORY_REFRESH_S - 1, k, sizeof k),
                        "KEY1");
    assert_int_equal(f.s.calls, 1);
    /* 15 min left: advisory refresh fetches the rotated key */
    snprintf(f.s.key, sizeof f.s.key, "KEY2");
    f.s.expires = T0 + 7200;
    assert_string_equal(cache_get_key(&f, T0 + 3600 - LW_CREDS_ADVISORY_REFRESH_S, k, sizeof k),
                        "KEY2");
    assert_int_equal(f.s.calls, 2);
    creds_provider_free(f.cache);
}

static void test_cache_keeps_old_credentials_with_warning_when_refresh_fails(void **state)
{
    (void)state;
    struct cache_fixture f;
    char k[32];
    int64_t exp = T0 + 3600;
    cache_setup(&f, exp);
    assert_string_equal(cache_get_key(&f, T0, k, sizeof k), "KEY1");
    f.s.fail = 1;
    /* advisory window: failure keeps the old key, warns */
    assert_string_equal(cache_get_key(&f, exp - 800, k, sizeof k), "KEY1");
    assert_int_equal(f.log.warnings, 1);
    assert_non_null(strstr(f.log.text, "advisory AWS credential refresh failed"));
    /* retried no sooner than LW_CREDS_REFRESH_RETRY_S */
    assert_string_equal(cache_get_key(&f, exp - 800 + LW_CREDS_REFRESH_RETRY_S - 1, k, sizeof k),
                        "KEY1");
    assert_int_equal(f.s.calls, 2);
    /* mandatory window: still valid, so old key with warning */
    assert_string_equal(cache_get_key(&f, exp - 60, k, sizeof k), "KEY1");
    assert_int_equal(f.s.calls, 3);
    assert_non_null(strstr(f.log.text, "mandatory AWS credential refresh failed"));
    /* expired: the failure is the caller's */
    assert_null(cache_get_key(&f, exp, k, sizeof k));
    assert_int_equal(f.s.calls, 4);
    /* endpoint back: fresh key */
    f.s.fail = 0;
    f.s.expires = exp + 3600;
    snprintf(f.s.key, sizeof f.s.key, "KEY3");
    assert_string_equal(cache_get_key(&f, exp + 1, k, sizeof k), "KEY3");
    assert_null(strstr(f.log.text, "scriptedsecret"));
    creds_provider_free(f.cache);
}

static void test_cache_invalidate_forces_a_refresh(void **state)
{
    (void)state;
    struct cache_fixture f;
    char k[32];
    cache_setup(&f, 0); /* never expires */
    assert_string_equal(cache_get_key(&f, T0, k, sizeof k), "KEY1");
    assert_string_equal(cache_get_key(&f, T0 + 86400 * 365, k, sizeof k), "KEY1");
    assert_int_equal(f.s.calls, 1);
    snprintf(f.s.key, sizeof f.s.key, "KEY2");
    creds_provider_invalidate(f.cache);
    assert_string_equal(cache_get_key(&f, T0 + 1, k, sizeof k), "KEY2");
    assert_int_equal(f.s.calls, 2);
    /* after invalidate a failing refresh is an error, not the dropped key */
    creds_provider_invalidate(f.cache);
    f.s.fail = 1;
    assert_null(cache_get_key(&f, T0 + 2, k, sizeof k));
    creds_provider_free(f.cache);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_copy_is_deep_and_cleanup_zeroes),
        cmocka_unit_test(test_static_provider_returns_its_keys_and_never_expires),
        cmocka_unit_test(test_env_provider_reads_the_three_variables),
        cmocka_unit_test(test_parses_aws_times),
        cmocka_unit_test(test_json_answer_parsed_and_bad_ones_refused),
        cmocka_unit_test(test_chain_reports_every_providers_reason),
        cmocka_unit_test(test_cache_serves_cached_credentials_until_the_advisory_window),
        cmocka_unit_test(test_cache_keeps_old_credentials_with_warning_when_refresh_fails),
        cmocka_unit_test(test_cache_invalidate_forces_a_refresh),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
