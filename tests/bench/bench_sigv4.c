/*
 * bench_sigv4.c — how fast lagwatch signs a typical CloudWatch GetMetricData request with a
 * cached signing key, next to the raw SHA-256 and HMAC work that signing cannot avoid (hash the
 * body, hash the canonical request, HMAC the string to sign; OpenSSL contexts pre-fetched and
 * reused, the best case) and next to botocore's SigV4Auth on the same request on this machine.
 * Prints signatures per second and the ratios. Target: lagwatch within 3x of the raw hashing.
 * Usage: bench_sigv4 [SECONDS]   (default 1 per measurement; botocore skipped when python3 or
 * botocore is missing, which is then said).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include "lagwatch/sigv4.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char host[] = "monitoring.us-east-1.amazonaws.com";
static const char target[] = "GraniteServiceVersion20100801.GetMetricData";
static char token[801];
static char body[2048];
static size_t body_len;
static const struct sigv4_credentials creds_tmpl = {
    "ASIAEXAMPLEEXAMPLE12", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token};

static void build_request(void)
{
    /* A session token as long as STS hands out, and a GetMetricData body for four lag metrics. */
    for (size_t i = 0; i < sizeof token - 1; i++)
        token[i] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"[(i * 7) % 64];
    token[sizeof token - 1] = '\0';
    int n = snprintf(body, sizeof body,
                     "{\"StartTime\":1764331200,\"EndTime\":1764331500,\"ScanBy\":"
                     "\"TimestampDescending\",\"MetricDataQueries\":[");
    const char *metrics[] = {"AuroraReplicaLag", "AuroraBinlogReplicaLag", "CPUUtilization",
                             "DatabaseConnections"};
    for (int i = 0; i < 4; i++)
        n += snprintf(body + n, sizeof body - (size_t)n,
                      "%s{\"Id\":\"m%d\",\"MetricStat\":{\"Metric\":{\"Namespace\":\"AWS/RDS\","
                      "\"MetricName\":\"%s\",\"Dimensions\":[{\"Name\":\"DBClusterIdentifier\","
                      "\"Value\":\"orders-prod\"}]},\"Period\":60,\"Stat\":\"Average\"}}",
                      i ? "," : "", i, metrics[i]);
    n += snprintf(body + n, sizeof body - (size_t)n, "]}");
    body_len = (size_t)n;
}

static double bench_lagwatch(double seconds, struct sigv4_request *req)
{
    struct sigv4_key_cache *cache = sigv4_key_cache_new();
    long n = 0;
    double start = now_s(), el;
    do {
        for (int i = 0; i < 200; i++) {
            struct sigv4_signed out;
            struct lw_err err;
            if (sigv4_sign_for_http(cache, req, "us-east-1", "monitoring", 1764331500, &creds_tmpl,
                                    false, &out, &err) != 0) {
                fprintf(stderr, "bench_sigv4: %s\n", err.msg);
                exit(1);
            }
            sigv4_signed_cleanup(&out);
        }
        n += 200;
        el = now_s() - start;
    } while (el < seconds);
    sigv4_key_cache_free(cache);
    return (double)n / el;
}

static double bench_raw(double seconds, const char *canonical, const char *sts)
{
    EVP_MD *md = EVP_MD_fetch(NULL, "SHA256", NULL);
    EVP_MD_CTX *mdctx = EVP_MD_CTX_new();
    EVP_MAC *mac = EVP_MAC_fetch(NULL, OSSL_MAC_NAME_HMAC, NULL);
    EVP_MAC_CTX *macctx = EVP_MAC_CTX_new(mac);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
        OSSL_PARAM_construct_end(),
    };
    unsigned char key[32] = {1}, out[32];
    if (!EVP_MAC_init(macctx, key, sizeof key, params))
        exit(1);
    size_t clen = strlen(canonical), slen = strlen(sts);
    long n = 0;
    double start = now_s(), el;
    unsigned int olen;
    size_t mlen;
    do {
        for (int i = 0; i < 200; i++) {
            EVP_DigestInit_ex(mdctx, md, NULL);
            EVP_DigestUpdate(mdctx, body, body_len);
            EVP_DigestFinal_ex(mdctx, out, &olen);
            EVP_DigestInit_ex(mdctx, md, NULL);
            EVP_DigestUpdate(mdctx, canonical, clen);
            EVP_DigestFinal_ex(mdctx, out, &olen);
            EVP_MAC_init(macctx, NULL, 0, NULL);
            EVP_MAC_update(macctx, (const unsigned char *)sts, slen);
            EVP_MAC_final(macctx, out, &mlen, sizeof out);
        }
        n += 200;
        el = now_s() - start;
    } while (el < seconds);
    EVP_MAC_CTX_free(macctx);
    EVP_MAC_free(mac);
    EVP_MD_CTX_free(mdctx);
    EVP_MD_free(md);
    return (double)n / el;
}

static double bench_botocore(double seconds)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", __FILE__);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    else
        snprintf(dir, sizeof dir, ".");
    const char *py = getenv("LAGWATCH_PYTHON");
    size_t cmdlen = 4096 + 2 * body_len + sizeof token;
    char *cmd = malloc(cmdlen);
    int n = snprintf(cmd, cmdlen, "%s '%s/bench_sigv4_botocore.py' %.1f %s %s ",
                     py && *py ? py : "python3", dir, seconds, host, target);
    for (size_t i = 0; i < body_len; i++)
        n += snprintf(cmd + n, cmdlen - (size_t)n, "%02x", (unsigned char)body[i]);
    snprintf(cmd + n, cmdlen - (size_t)n, " '%s'", token);
    FILE *p = popen(cmd, "r");
    free(cmd);
    if (p == NULL)
        return 0;
    char line[64] = "";
    if (fgets(line, sizeof line, p) == NULL)
        line[0] = '\0';
    int rc = pclose(p);
    return rc == 0 ? strtod(line, NULL) : 0;
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? strtod(argv[1], NULL) : 1.0;
    if (seconds <= 0 || seconds > 60)
        seconds = 1.0;
    build_request();
    const struct sigv4_header hs[] = {
        {"Content-Type", "application/x-amz-json-1.0"},
        {"X-Amz-Target", target},
        {"Accept", "application/json"},
    };
    struct sigv4_request req = {.method = "POST",
                                .host = host,
                                .path = "/",
                                .headers = hs,
                                .n_headers = 3,
                                .body = body,
                                .body_len = body_len};
    /* The exact canonical request and string to sign the raw measurement hashes. */
    struct sigv4_config cfg = {.region = "us-east-1",
                               .service = "monitoring",
                               .unix_time_s = 1764331500,
                               .creds = &creds_tmpl,
                               .normalize_path = true,
                               .double_encode_path = true};
    struct sigv4_result res;
    struct lw_err err;
    if (sigv4_sign(NULL, &req, &cfg, &res, &err) != 0) {
        fprintf(stderr, "bench_sigv4: %s\n", err.msg);
        return 1;
    }
    printf("GetMetricData request: body %zu B, canonical request %zu B, session token %zu B\n",
           body_len, strlen(res.canonical_request), strlen(token));
    double ours = bench_lagwatch(seconds, &req);
    double raw = bench_raw(seconds, res.canonical_request, res.string_to_sign);
    double boto = bench_botocore(seconds);
    sigv4_result_cleanup(&res);
    printf("lagwatch sigv4_sign_for_http, cached key: %10.0f signatures/s (%.2f us each)\n", ours,
           1e6 / ours);
    printf("raw SHA-256 x2 + HMAC-SHA256 (OpenSSL):   %10.0f per second   (%.2f us each)\n", raw,
           1e6 / raw);
    if (boto > 0)
        printf("botocore SigV4Auth.add_auth:              %10.0f signatures/s (%.2f us each)\n",
               boto, 1e6 / boto);
    else
        printf(
            "botocore SigV4Auth.add_auth:              not measured (python3/botocore missing)\n");
    double ratio = raw / ours;
    printf("lagwatch cost / raw hashing cost:  %.2fx (target <= 3x: %s)\n", ratio,
           ratio <= 3.0 ? "met" : "NOT met");
    if (boto > 0)
        printf("botocore cost / lagwatch cost:     %.1fx\n", ours / boto);
    return 0;
}
