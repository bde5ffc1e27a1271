/* test_creds_providers.c — ECS, IMDSv2, web identity (STS XML) and profile providers, each with
 * an injected environment, a scripted HTTP transport and a fixed clock: what they ask for, what
 * they accept, what they refuse, and that no secret reaches an error or a log line. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "creds_fakes.h"
#include "lagwatch/limits.h"
#include "lagwatch/private/creds_impl.h"
#include "testsupport.h"

#define EXP_S 1795881600 /* 2026-11-28T16:00:00Z */
#define NOW   (EXP_S - 3600)

static const char *creds_json(void)
{
    return "{\"Code\":\"Success\",\"Type\":\"AWS-HMAC\",\"AccessKeyId\":\"ASIAIMDS\","
           "\"SecretAccessKey\":\"imdssecret\",\"Token\":\"imdstoken\",\"Expiration\":"
           "\"2026-11-28T16:00:00Z\"}";
}

/* Every secret the tests hand out; none may appear in an error or the log. */
static void assert_no_secret(const char *text)
{
    const char *secrets[] = {"imdssecret", "imdstoken",    "ecssecret",
                             "authtok",    "stssecretkey", "stssessiontoken",
                             "idtoken",    "filesecret",   "TOKEN-XYZ"};
    for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++)
        if (strstr(text, secrets[i])) {
            print_error("secret %s leaked into: %s\n", secrets[i], text);
            fail();
        }
}

struct rig {
    struct fake_env env;
    struct fake_http http;
    struct fake_log log;
    struct creds_options o;
};

static struct rig *rig_new(void)
{
    struct rig *r = calloc(1, sizeof *r);
    r->o = fake_options(&r->env, &r->http, &r->log);
    fake_env_set(&r->env, "HOME", "/nonexistent-home");
    return r;
}

static void rig_free(struct rig *r)
{
    assert_no_secret(r->log.text);
    free(r);
}

static int get(struct creds_provider *p, int64_t now, struct creds *c, struct lw_err *err)
{
    memset(err, 0, sizeof *err);
    int rc = creds_provider_get(p, now, c, err);
    assert_no_secret(err->msg);
    return rc;
}

/* ---- IMDS ---- */

#define IMDS      "http://169.254.169.254"
#define TOKEN_URL IMDS "/latest/api/token"
#define ROLE_URL  IMDS "/latest/meta-data/iam/security-credentials/"
#define CREDS_URL ROLE_URL "lagwatch-role"

static void test_imds_fetches_token_role_and_credentials_and_reuses_the_token(void **state)
{
    (void)state;
    struct rig *r = rig_new();
    fake_http_add(&r->http, "PUT", TOKEN_URL, 200, "TOKEN-XYZ");
    fake_http_add(&r->http, "GET", ROLE_URL, 200, "lagwatch-role\n");
    fake_http_add(&r->http, "GET", CREDS_URL, 200, creds_json());
    fake_http_add(&r->http, "GET", ROLE_URL, 200, "lagwatch-role");
    fake_http_add(&r->http, "GET", CREDS_URL, 200, creds_json());
    struct creds_provider *p = creds_imds_new(&r->o, 0);
    struct creds c;
    struct lw_err err;
    assert_int_equal(get(p, NOW, &c, &err), 0);
    assert_string_equal(c.access_key_id, "ASIAIMDS");
    assert_string_equal(c.session_token, "imdstoken");
    assert_int_equal(c.expires_unix_s, EXP_S);
    assert_string_equal(c.provider, "imds");
    creds_cleanup(&c);
    assert_non_null(strstr(r->http.headers[0], "X-aws-ec2-metadata-token-ttl-seconds: 21600"));
    assert_non_null(strstr(r->http.headers[1], "X-aws-ec2-metadata-token: TOKEN-XYZ"));
    /* a second get within the token's TTL reuses it (no PUT) */
    assert_int_equal(get(p, NOW + 60, &c, &err), 0);
    creds_cleanup(&c);
    assert_int_equal(r->http.next, 5);
    assert_false(r->http.mismatch);
    creds_provider_free(p);
    rig_free(r);
}

static void test_imds_refetches_the_token_on_401_and_near_its_ttl(void **state)
{
    (void)state;
    struct rig *r = rig_new();
    fake_http_add(&r->http, "PUT", TOKEN_URL, 200, "TOKEN-XYZ");
    fake_http_add(&r->http, "GET", ROLE_URL, 401, "");
    fake_http_add(&r->http, "PUT", TOKEN_URL, 200, "TOKEN-2");
    fake_http_add(&r->http, "GET", ROLE_URL, 200, "lagwatch-role");
    fake_http_add(&r->http, "GET", CREDS_URL, 200, creds_json());
    /* past the token's TTL: a new token without being told */
    fake_http_add(&r->http, "PUT", TOKEN_URL, 200, "TOKEN-3");
    fake_http_add(&r->http, "GET", ROLE_URL, 200, "lagwatch-role");
    fake_http_add(&r->http, "GET", CREDS_URL, 200, creds_json());
    struct creds_provider *p = creds_imds_new(&r->o, 0);
    struct creds c;
    struct lw_err err;
    int64_t t = NOW - LW_CREDS_IMDS_TOKEN_TTL_S;
    assert_int_equal(get(p, t, &c, &err), 0);
    creds_cleanup(&c);
    assert_non_null(strstr(r->http.headers[3], "X-aws-ec2-metadata-token: TOKEN-2"));
    assert_int_equal(get(p, t + LW_CREDS_IMDS_TOKEN_TTL_S - LW_CREDS_IMDS_TOKEN_SLACK_S, &c, &err),
                     0);
    creds_cleanup(&c);
    assert_non_null(strstr(r->http.headers[6], "X-aws-ec2-metadata-token: TOKEN-3"));
    assert_false(r->http.mismatch);
    creds_provider_free(p);
    rig_free(r);
}

static void test_imds_failures_are_clear(void **state)
{
    (void)state;
    struct {
        long token_status, role_status, creds_status;
        const char *creds_body;
        const char *expect;
    } cases[] = {
        {500, 0, 0, NULL, "PUT http://169.254.169.254/latest/api/token answered HTTP 500"},
        {0, 0, 0, NULL, "Timeout was reached"},
        {200, 404, 0, NULL, "no IAM role is attached"},
        {200, 500, 0, NULL, "answered HTTP 500"},
        {200, 200, 200, "{\"AccessKeyId\": \"A\", \"SecretAccessKey\": \"imdssec", "not JSON"},
        {200, 200, 200,
         "{\"Code\":\"Success\",\"AccessKeyId\":\"ASIAOLD\",\"SecretAccessKey\":\"imdssecret\","
         "\"Token\":\"imdstoken\",\"Expiration\":\"2026-11-28T14:00:00Z\"}",
         "already expired"},
        {403, 0, 0, NULL, "answered HTTP 403"}, /* no silent IMDSv1 */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct rig *r = rig_new();
        fake_http_add(&r->http, "PUT", TOKEN_URL, cases[i].token_status, "TOKEN-XYZ");
        if (cases[i].role_status)
            fake_http_add(&r->http, "GET", ROLE_URL, cases[i].role_status, "lagwatch-role");
        if (cases[i].creds_status)
            fake_http_add(&r->http, "GET", CREDS_URL, cases[i].creds_status, cases[i].creds_body);
        struct creds_provider *p = creds_imds_new(&r->o, 0);
        struct creds c;
        struct lw_err err;
        assert_int_equal(get(p, NOW, &c, &err), -1);
        if (strstr(err.msg, cases[i].expect) == NULL) {
            print_error("case %zu: \"%s\" lacks \"%s\"\n", i, err.msg, cases[i].expect);
            fail();
        }
        assert_true(strncmp(err.msg, "imds: ", 6) == 0);
        assert_false(r->http.mismatch);
        creds_provider_free(p);
        rig_free(r);
    }
}

static void test_imds_v1_only_when_allowed_and_endpoint_settings(void **state)
{
    (void)state;
    struct rig *r = rig_new();
    fake_env_set(&r->env, "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "IPv6");
    fake_http_add(&r->http, "PUT", "http://[fd00:ec2::254]/latest/api/token", 403, "");
    fake_http_add(&r->http, "GET",
                  "http://[fd00:ec2::254]/latest/meta-data/iam/security-credentials/", 200,
                  "lagwatch-role");
    fake_http_add(&r->http, "GET",
                  "http://[fd00:ec2::254]/latest/meta-data/iam/security-credentials/lagwatch-role",
                  200, creds_json());
    struct creds_provider *p = creds_imds_new(&r->o, 1);
    struct creds c;
    struct lw_err err;
    assert_int_equal(get(p, NOW, &c, &err), 0);
    creds_cleanup(&c);
    assert_null(strstr(r->http.headers[1], "X-aws-ec2-metadata-token"));
    assert_int_equal(r->log.warnings, 1);
    creds_provider_free(p);

    fake_env_set(&r->env, "AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "IPv5");
    p = creds_imds_new(&r->o, 0);
    assert_int_equal(get(p, NOW, &c, &err), -1);
    assert_non_null(strstr(err.msg, "IPv4 or IPv6"));
    fake_env_set(&r->env, "AWS_EC2_METADATA_DISABLED", "true");
    assert_int_equal(get(p, NOW, &c, &err), -1);
    assert_non_null(strstr(err.msg, "disabled by AWS_EC2_METADATA_DISABLED"));
    creds_provider_free(p);

    fake_env_set(&r->env, "AWS_EC2_METADATA_DISABLED", NULL);
    fake_env_set(&r->env, "AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:1234/");
    r->http.n = r->http.next = 0;
    fake_http_add(&r->http, "PUT", "http://127.0.0.1:1234/latest/api/token", 200, "T");
    fake_http_add(&r->http, "GET", "http://127.0.0.1:1234/latest/meta-data/placement/region", 200,
                  "ap-southeast-2\n");
    char *region = NULL;
    assert_int_equal(creds_imds_region(&r->o, NOW, &region, &err), 0);
    assert_string_equal(region, "ap-southeast-2");
    free(region);
    rig_free(r);
}

/* ---- ECS ---- */

static const char *ecs_json(void)
{
    return "{\"AccessKeyId\":\"ASIAECS\",\"SecretAccessKey\":\"ecssecret\",\"Token\":"
           "\"ecstoken\",\"Expiration\":\"2026-11-28T16:00:00Z\",\"RoleArn\":\"arn:x\"}";
}

static void test_ecs_relative_uri_goes_to_the_agent_address(void **state)
{
    (void)state;
    struct rig *r = rig_new();
    fake_env_set(&r->env, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/abc");
    fake_http_add(&r->http, "GET", "http://169.254.170.2/v2/credentials/abc", 200, ecs_json());
    struct creds_provider *p = creds_ecs_new(&r->o);
    struct creds c;
    struct lw_err err;
    assert_int_equal(get(p, NOW, &c, &err), 0);
    assert_string_equal(c.access_key_id, "ASIAECS");
    assert_string_equal(c.provider, "ecs");
    assert_int_equal(c.expires_unix_s, EXP_S);
    creds_cleanup(&c);
    assert_null(strstr(r->http.headers[0], "Authorization"));
    creds_provider_free(p);
    rig_free(r);
}

static void test_ecs_full_uri_rules_and_authorization_token(void **state)
{
    (void)state;
    const struct {
        const char *uri;
        int allowed;
    } uris[] = {
        {"http://127.0.0.1:8080/creds", 1},    {"http://127.1.2.3/creds", 1},
        {"http://localhost/creds", 1},         {"http://[::1]:80/creds", 1},
        {"http://169.254.170.23/v1/creds", 1}, {"http://[fd00:ec2::23]/v1/creds", 1},
        {"https://creds.example.com/x", 1},    {"http://creds.example.com/x", 0},
        {"http://10.0.0.1/creds", 0},          {"ftp://127.0.0.1/creds", 0},
        {"http://[fd00:ec2::24]/v1/creds", 0}, {"not a url", 0},
    };
    for (size_t i = 0; i < sizeof uris / sizeof uris[0]; i++) {
        struct rig *r = rig_new();
        fake_env_set(&r->env, "AWS_CONTAINER_CREDENTIALS_FULL_URI", uris[i].uri);
        fake_env_set(&r->env, "AWS_CONTAINER_AUTHORIZATION_TOKEN", "authtok");
        fake_http_add(&r->http, "GET", uris[i].uri, 200, ecs_json());
        struct creds_provider *p = creds_ecs_new(&r->o);
        struct creds c;
        struct lw_err err;
        int rc = get(p, NOW, &c, &err);
        if (rc != (uris[i].allowed ? 0 : -1)) {
            print_error("%s: rc %d (%s)\n", uris[i].uri, rc, err.msg);
            fail();
        }
        if (rc == 0) {
            creds_cleanup(&c);
            assert_non_null(strstr(r->http.headers[0], "Authorization: authtok"));
        } else {
            assert_int_equal(r->http.next, 0); /* refused before any request */
        }
        creds_provider_free(p);
        rig_free(r);
    }
}

static void test_ecs_token_file_reread_and_crlf_refused(void **state)
{
    (void)state;
    char path[] = "/tmp/lagwatch-ecs-token-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    FILE *f = fopen(path, "w");
    fputs("authtok-1\n", f);
    fclose(f);
    struct rig *r = rig_new();
    fake_env_set(&r->env, "AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:9/c");
    fake_env_set(&r->env, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", path);
    fake_env_set(&r->env, "AWS_CONTAINER_AUTHORIZATION_TOKEN", "ignored-when-file-set");
    fake_http_add(&r->http, "GET", "http://127.0.0.1:9/c", 200, ecs_json());
    fake_http_add(&r->http, "GET", "http://127.0.0.1:9/c", 200, ecs_json());
    struct creds_provider *p = creds_ecs_new(&r->o);
    struct creds c;
    struct lw_err err;
    assert_int_equal(get(p, NOW, &c, &err), 0);
    creds_cleanup(&c);
    assert_non_null(strstr(r->http.headers[0], "Authorization: authtok-1\n"));
    f = fopen(path, "w");
    fputs("authtok-2", f);
    fclose(f);
    assert_int_equal(get(p, NOW, &c, &err), 0);
    creds_cleanup(&c);
    assert_non_null(strstr(r->http.headers[1], "Authorization: authtok-2\n"));
    f = fopen(path, "w");
    fputs("authtok\r\nX-Evil: 1", f);
    fclose(f);
    assert_int_equal(get(p, NOW, &c, &err), -1);
    assert_non_null(strstr(err.msg, "CR or LF"));
    fake_env_set(&r->env, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", NULL);
    fake_env_set(&r->env, "AWS_CONTAINER_AUTHORIZATION_TOKEN", "authtok\nX: y");
    assert_int_equal(get(p, NOW, &c, &err), -1);
    assert_non_null(strstr(err.msg, "CR or LF"));
    assert_int_equal(r->http.next, 2);
    unlink(path);
    creds_provider_free(p);
    rig_free(r);
}

static void test_ecs_error_status_and_unset(void **state)
{
    (void)state;
    struct rig *r = rig_new();
    struct creds_provider *p = creds_ecs_new(&r->o);
    struct creds c;
    struct lw_err err;
    assert_int_equal(get(p, NOW, &c, &err), -1);
    assert_non_null(strstr(err.msg, "not set"));
    fake_env_set(&r->env, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/creds");
    fake_http_add(&r->http, "GET", "http://169.254.170.2/creds", 500, "{\"message\":\"oops\"}");
    assert_int_equal(get(p, NOW, &c, &err), -1);
    assert_non_null(strstr(err.msg, "answered HTTP 500"));
    creds_provider_free(p);
    rig_free(r);
}

/* ---- web identity ---- */

static char *write_temp(const char *content)
{
    char *path = strdup("/tmp/lagwatch-creds-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
    close(fd);
    return path;
}

static char *fixture(const char *name)
{
    char path[1024];
    ts_fixture_path(path, sizeof path, name);
    char *s = ts_read_file(path, NULL);
    assert_non_null(s);
    return s;
}

static void test_web_identity_posts_the_token_and_parses_sts_xml(void **state)
{
    (void)state;
    struct rig *r = rig_new();
    char *tok = write_temp("idtoken.part1+/=\n");
    char *ok = fixture("aws/sts-ok.xml");
    fake_env_set(&r->env, "AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/lagwatch");
    fake_env_set(&r->env, "AWS_WEB_IDENTITY_TOKEN_FILE", tok);
    fake_env_set(&r->env, "AWS_REGION", "eu-west-1");
    fake_http_add(&r->http, "POST", "https://sts.eu-west-1.amazonaws.com", 200, ok);
    struct creds_provider *p = creds_web_identity_new(&r->o, NULL);
    struct creds c;
    struct lw_err err;
    assert_int_equal(get(p, NOW, &c, &err), 0);
    assert_string_equal(c.access_key_id, "ASIASTSEXAMPLE");
    assert_string_equal(c.secret_access_key, "stssecretkey");
    assert_string_equal(c.session_token, "stssessiontoken");
    assert_int_equal(c.expires_unix_s, EXP_S);
    assert_string_equal(c.provider, "web-identity");
    creds_cleanup(&c);
    const char *body = r->http.bodies[0];
    assert_non_null(strstr(body, "Action=AssumeRoleWithWebIdentity&Version=2011-06-15"));
    assert_non_null(strstr(body, "RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Flagwatch"));
    assert_non_null(strstr(body, "RoleSessionName=lagwatch-"));
    assert_non_null(strstr(body, "WebIdentityToken=idtoken.part1%2B%2F%3D"));
    /* the endpoint override wins over the region */
    fake_env_set(&r->env, "AWS_ENDPOINT_URL_STS", "http://127.0.0.1:5000");
    fake_env_set(&r->env, "AWS_ROLE_SESSION_NAME", "mysession");
    fake_http_add(&r->http, "POST", "http://127.0.0.1:5000", 200, ok);
    assert_int_equal(get(p, NOW, &c, &err), 0);
    creds_cleanup(&c);
    assert_non_null(strstr(r->http.bodies[1], "RoleSessionName=mysession"));
    /* expired answer */
    fake_http_add(&r->http, "POST", "http://127.0.0.1:5000", 200, ok);
    assert_int_equal(get(p, EXP_S, &c, &err), -1);
    assert_non_null(strstr(err.msg, "already expired"));
    creds_provider_free(p);
    unlink(tok);
    free(tok);
    free(ok);
    rig_free(r);
}

static void test_web_identity_errors_quote_sts_and_refuse_bad_xml(void **state)
{
    (void)state;
    struct rig *r = rig_new();
    char *tok = write_temp("idtoken");
    char *errxml = fixture("aws/sts-error.xml");
    struct creds_web_identity_options wo = {"arn:aws:iam::1:role/x", tok, "s",
                                            "http://127.0.0.1:5000", NULL};
    fake_http_add(&r->http, "POST", "http://127.0.0.1:5000", 400, errxml);
    fake_http_add(&r->http, "POST", "http://127.0.0.1:5000", 200, "<Assume><Credentials>");
    fake_http_add(&r->http, "POST", "http://127.0.0.1:5000", 200, "<a><b/></a>");
    fake_http_add(&r->http, "POST", "http://127.0.0.1:5000", 503, "Service Unavailable");
    fake_http_add(&r->http, "POST", "http://127.0.0.1:5000", 200,
                  "<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><R><Credentials>"
                  "<AccessKeyId>&e;</AccessKeyId></Credentials></R>");
    const char *expect[] = {"STS refused: InvalidIdentityToken: Couldn't retrieve", "not XML",
                            "no Credentials element", "answered HTTP 503", "lack AccessKeyId"};
    struct creds_provider *p = creds_web_identity_new(&r->o, &wo);
    for (size_t i = 0; i < sizeof expect / sizeof expect[0]; i++) {
        struct creds c;
        struct lw_err err;
        assert_int_equal(get(p, NOW, &c, &err), -1);
        if (strstr(err.msg, expect[i]) == NULL) {
            print_error("case %zu: \"%s\" lacks \"%s\"\n", i, err.msg, expect[i]);
            fail();
        }
    }
    /* token file gone */
    unlink(tok);
    struct creds c;
    struct lw_err err;
    assert_int_equal(get(p, NOW, &c, &err), -1);
    assert_non_null(strstr(err.msg, "cannot read token file"));
    creds_provider_free(p);
    free(tok);
    free(errxml);
    rig_free(r);
}

/* ---- profiles ---- */

static struct creds_profile_options fixture_files(char *cred, char *conf, size_t len)
{
    ts_fixture_path(cred, len, "aws/credentials");
    ts_fixture_path(conf, len, "aws/config");
    return (struct creds_profile_options){NULL, cred, conf, NULL, NULL};
}

static void test_profile_reads_keys_from_the_shared_files(void **state)
{
    (void)state;
    struct rig *r = rig_new();
    char cred[1024], conf[1024];
    struct creds_profile_options po = fixture_files(cred, conf, sizeof cred);
    struct creds_provider *p = creds_profile_new(&r->o, &po);
    struct creds c;
    struct lw_err err;
    assert_int_equal(get(p, NOW, &c, &err), 0);
    assert_string_equal(c.access_key_id, "AKIDDEFAULTFILE");
    assert_null(c.session_token);
    assert_string_equal(c.provider, "profile");
    creds_cleanup(&c);
    fake_env_set(&r->env, "AWS_PROFILE", "prod");
    assert_int_equal(get(p, NOW, &c, &err), 0);
    assert_string_equal(c.access_key_id, "AKIDPRODFILE");
    assert_string_equal(c.session_token, "prodfiletoken");
    creds_cleanup(&c);
    const struct {
        const char *profile, *expect;
    } bad[] = {
        {"half", "aws_access_key_id is set but aws_secret_access_key is not"},
        {"nosuch", "no profile \"nosuch\""},
        {"chained", "source_profile is not supported"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        fake_env_set(&r->env, "AWS_PROFILE", bad[i].profile);
        assert_int_equal(get(p, NOW, &c, &err), -1);
        if (strstr(err.msg, bad[i].expect) == NULL) {
            print_error("\"%s\" lacks \"%s\"\n", err.msg, bad[i].expect);
            fail();
        }
    }
    creds_provider_free(p);
    /* env names the files; a malformed config is reported with its line */
    char badconf[1024];
    ts_fixture_path(badconf, sizeof badconf, "aws/config-bad");
    fake_env_set(&r->env, "AWS_PROFILE", NULL);
    fake_env_set(&r->env, "AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/credentials");
    fake_env_set(&r->env, "AWS_CONFIG_FILE", badconf);
    p = creds_profile_new(&r->o, NULL);
    assert_int_equal(get(p, NOW, &c, &err), -1);
    assert_non_null(strstr(err.msg, "config-bad:3:1: expected 'key = value'"));
    assert_int_equal(err.line, 3);
    fake_env_set(&r->env, "AWS_CONFIG_FILE", "/nonexistent/config");
    assert_int_equal(get(p, NOW, &c, &err), -1);
    assert_non_null(strstr(err.msg, "neither"));
    creds_provider_free(p);
    rig_free(r);
}

static void test_profile_with_role_and_web_identity_token_goes_to_sts(void **state)
{
    (void)state;
    struct rig *r = rig_new();
    char *tok = write_temp("idtoken");
    char conf_text[512];
    snprintf(conf_text, sizeof conf_text,
             "[profile   irsa]\nrole_arn = arn:aws:iam::123456789012:role/lagwatch\n"
             "web_identity_token_file = %s\nrole_session_name = irsa-session\n"
             "region = cn-north-1\n",
             tok);
    char *conf = write_temp(conf_text);
    char *ok = fixture("aws/sts-ok.xml");
    struct creds_profile_options po = {"irsa", "/nonexistent", conf, NULL, NULL};
    fake_http_add(&r->http, "POST", "https://sts.cn-north-1.amazonaws.com.cn", 200, ok);
    struct creds_provider *p = creds_profile_new(&r->o, &po);
    struct creds c;
    struct lw_err err;
    assert_int_equal(get(p, NOW, &c, &err), 0);
    assert_string_equal(c.access_key_id, "ASIASTSEXAMPLE");
    creds_cleanup(&c);
    assert_non_null(strstr(r->http.bodies[0], "RoleSessionName=irsa-session"));
    creds_provider_free(p);
    unlink(tok);
    unlink(conf);
    free(tok);
    free(conf);
    free(ok);
    rig_free(r);
}

static void test_ini_parser_sections_and_keys(void **state)
{
    (void)state;
    const char *ini = "# c\n[default]\nregion=us-east-1\n[profile  a b]\nk = v = w \n"
                      "  sub = x\nk2=\n[ x ]\nregion = eu-north-1\nregion = eu-south-1\n";
    char *v = NULL;
    struct lw_err err = {0};
    assert_int_equal(creds_ini_get(ini, strlen(ini), "default", "region", &v, &err), 1);
    assert_string_equal(v, "us-east-1");
    free(v);
    assert_int_equal(creds_ini_get(ini, strlen(ini), "profile a b", "k", &v, &err), 1);
    assert_string_equal(v, "v = w");
    free(v);
    assert_int_equal(creds_ini_get(ini, strlen(ini), "profile a b", "sub", &v, &err), 1);
    assert_null(v);
    assert_int_equal(creds_ini_get(ini, strlen(ini), "profile a b", "k2", &v, &err), 1);
    assert_string_equal(v, "");
    free(v);
    assert_int_equal(creds_ini_get(ini, strlen(ini), "x", "region", &v, &err), 1);
    assert_string_equal(v, "eu-south-1");
    free(v);
    assert_int_equal(creds_ini_get(ini, strlen(ini), "y", "region", &v, &err), 0);
    const char *bad = "[default\n";
    assert_int_equal(creds_ini_get(bad, strlen(bad), "default", "region", &v, &err), -1);
    assert_int_equal(err.line, 1);
}

/* ---- the default provider ---- */

static void test_default_prefers_explicit_keys_then_the_chain(void **state)
{
    (void)state;
    struct rig *r = rig_new();
    struct creds_config cfg = {.access_key_id = "AKIDCONFIG", .secret_access_key = "x"};
    struct lw_err err = {0};
    fake_env_set(&r->env, "AWS_ACCESS_KEY_ID", "AKIDENV");
    fake_env_set(&r->env, "AWS_SECRET_ACCESS_KEY", "y");
    struct creds_provider *p = creds_default_new(&r->o, &cfg, &err);
    struct creds c;
    assert_int_equal(get(p, NOW, &c, &err), 0);
    assert_string_equal(c.access_key_id, "AKIDCONFIG");
    creds_cleanup(&c);
    creds_provider_free(p);
    struct creds_config half = {.access_key_id = "AKIDCONFIG"};
    assert_null(creds_default_new(&r->o, &half, &err));
    assert_non_null(strstr(err.msg, "go together"));
    p = creds_default_new(&r->o, NULL, &err);
    assert_int_equal(get(p, NOW, &c, &err), 0);
    assert_string_equal(c.access_key_id, "AKIDENV");
    creds_cleanup(&c);
    creds_provider_free(p);
    /* nothing anywhere: every provider's reason, IMDS included */
    fake_env_set(&r->env, "AWS_ACCESS_KEY_ID", NULL);
    fake_env_set(&r->env, "AWS_SECRET_ACCESS_KEY", NULL);
    fake_http_add(&r->http, "PUT", TOKEN_URL, 0, NULL);
    p = creds_default_new(&r->o, NULL, &err);
    assert_int_equal(get(p, NOW, &c, &err), -1);
    assert_non_null(strstr(err.msg, "env: "));
    assert_non_null(strstr(err.msg, "; profile: neither"));
    assert_non_null(strstr(err.msg, "; web-identity: "));
    assert_non_null(strstr(err.msg, "; ecs: "));
    assert_non_null(strstr(err.msg, "; imds: token: "));
    creds_provider_free(p);
    rig_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_imds_fetches_token_role_and_credentials_and_reuses_the_token),
        cmocka_unit_test(test_imds_refetches_the_token_on_401_and_near_its_ttl),
        cmocka_unit_test(test_imds_failures_are_clear),
        cmocka_unit_test(test_imds_v1_only_when_allowed_and_endpoint_settings),
        cmocka_unit_test(test_ecs_relative_uri_goes_to_the_agent_address),
        cmocka_unit_test(test_ecs_full_uri_rules_and_authorization_token),
        cmocka_unit_test(test_ecs_token_file_reread_and_crlf_refused),
        cmocka_unit_test(test_ecs_error_status_and_unset),
        cmocka_unit_test(test_web_identity_posts_the_token_and_parses_sts_xml),
        cmocka_unit_test(test_web_identity_errors_quote_sts_and_refuse_bad_xml),
        cmocka_unit_test(test_profile_reads_keys_from_the_shared_files),
        cmocka_unit_test(test_profile_with_role_and_web_identity_token_goes_to_sts),
        cmocka_unit_test(test_ini_parser_sections_and_keys),
        cmocka_unit_test(test_default_prefers_explicit_keys_then_the_chain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
