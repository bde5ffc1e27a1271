/*
 * creds_web_identity.c — STS AssumeRoleWithWebIdentity (EKS IRSA and any OIDC issuer): the token
 * file is read at every refresh (it rotates), sent with the role ARN and a session name as an
 * unsigned Query POST, and the XML answer is parsed with libxml2 (no network, no DTD, no entity
 * expansion). STS error documents become errors quoting their Code and Message. The STS endpoint
 * is the configured one, else AWS_ENDPOINT_URL_STS / AWS_ENDPOINT_URL, else the regional one
 * (global sts.amazonaws.com when no region is known).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <openssl/crypto.h>

#include "lagwatch/endpoint.h"
#include "lagwatch/limits.h"
#include "lagwatch/private/creds_impl.h"

struct web_identity {
    char *role_arn, *token_file, *session_name, *sts_endpoint, *region;
};

static xmlNode *find_child(xmlNode *n, const char *name)
{
    for (xmlNode *c = n ? n->children : NULL; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE && strcmp((const char *)c->name, name) == 0)
            return c;
    return NULL;
}

/* Depth-first search for the first element named name. */
static xmlNode *find_deep(xmlNode *n, const char *name, int depth)
{
    if (depth > 8)
        return NULL;
    for (xmlNode *c = n; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (strcmp((const char *)c->name, name) == 0)
            return c;
        xmlNode *f = find_deep(c->children, name, depth + 1);
        if (f)
            return f;
    }
    return NULL;
}

/* The text of child name of n (heap, caller frees) or NULL. */
static char *child_text(xmlNode *n, const char *name)
{
    xmlNode *c = find_child(n, name);
    if (c == NULL)
        return NULL;
    xmlChar *t = xmlNodeGetContent(c);
    if (t == NULL)
        return NULL;
    char *s = strdup((const char *)t);
    OPENSSL_cleanse(t, strlen((const char *)t));
    xmlFree(t);
    return s;
}

int creds_parse_sts_xml(const char *body, size_t len, int64_t now, struct creds *out,
                        struct lw_err *err)
{
    if (len > INT32_MAX)
        return lw_err_set(err, 0, 0, "web-identity: STS answer too large");
    xmlDoc *doc = xmlReadMemory(body, (int)len, "sts.xml", NULL,
                                XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (doc == NULL) {
        const xmlError *xe = xmlGetLastError();
        return lw_err_set(err, xe ? xe->line : 0, xe ? xe->int2 : 0,
                          "web-identity: STS answer is not XML");
    }
    int rc = -1;
    struct creds c = {0};
    char *code = NULL, *message = NULL, *exp = NULL;
    xmlNode *root = xmlDocGetRootElement(doc);
    xmlNode *e = find_deep(root, "Error", 0);
    if (e) {
        code = child_text(e, "Code");
        message = child_text(e, "Message");
        lw_err_set(err, 0, 0, "web-identity: STS refused: %.80s: %.300s", code ? code : "?",
                   message ? message : "");
        goto cleanup;
    }
    xmlNode *cn = find_deep(root, "Credentials", 0);
    if (cn == NULL) {
        lw_err_set(err, 0, 0, "web-identity: STS answer has no Credentials element");
        goto cleanup;
    }
    c.access_key_id = child_text(cn, "AccessKeyId");
    c.secret_access_key = child_text(cn, "SecretAccessKey");
    c.session_token = child_text(cn, "SessionToken");
    exp = child_text(cn, "Expiration");
    c.provider = "web-identity";
    if (c.access_key_id == NULL || !c.access_key_id[0] || c.secret_access_key == NULL ||
        !c.secret_access_key[0] || c.session_token == NULL || !c.session_token[0] || exp == NULL) {
        lw_err_set(err, 0, 0,
                   "web-identity: STS Credentials lack AccessKeyId, SecretAccessKey, "
                   "SessionToken or Expiration");
        goto cleanup;
    }
    if (creds_parse_iso8601(exp, &c.expires_unix_s) != 0) {
        lw_err_set(err, 0, 0, "web-identity: STS answer has a bad Expiration \"%.40s\"", exp);
        goto cleanup;
    }
    if (c.expires_unix_s <= now) {
        lw_err_set(err, 0, 0, "web-identity: STS credentials for %.32s already expired at %.40s",
                   c.access_key_id, exp);
        goto cleanup;
    }
    *out = c;
    memset(&c, 0, sizeof c);
    rc = 0;
cleanup:
    creds_cleanup(&c);
    free(code);
    free(message);
    free(exp);
    xmlFreeDoc(doc);
    return rc;
}

static int add_param(struct lw_buf *b, const char *name, const char *value)
{
    char *esc = curl_easy_escape(NULL, value, 0);
    if (esc == NULL)
        return -1;
    int rc = lw_buf_addf(b, "&%s=%s", name, esc);
    OPENSSL_cleanse(esc, strlen(esc));
    curl_free(esc);
    return rc;
}

static int wi_get(struct creds_provider *p, int64_t now, struct creds *out, struct lw_err *err)
{
    const struct creds_options *o = &p->opts;
    struct web_identity *w = p->impl;
    const char *role = w->role_arn ? w->role_arn : creds_env(o, "AWS_ROLE_ARN");
    const char *file = w->token_file ? w->token_file : creds_env(o, "AWS_WEB_IDENTITY_TOKEN_FILE");
    const char *session = w->session_name ? w->session_name : creds_env(o, "AWS_ROLE_SESSION_NAME");
    if (role == NULL && file == NULL)
        return lw_err_set(err, 0, 0,
                          "web-identity: AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE "
                          "not set");
    if (role == NULL || file == NULL)
        return lw_err_set(err, 0, 0, "web-identity: %s is set but %s is not",
                          role ? "the role ARN" : "the web identity token file",
                          role ? "the token file" : "the role ARN");
    char session_buf[64];
    if (session == NULL) {
        snprintf(session_buf, sizeof session_buf, "lagwatch-%lld", (long long)now);
        session = session_buf;
    }
    char *url = NULL;
    if (w->sts_endpoint) {
        url = strdup(w->sts_endpoint);
        if (url == NULL)
            return lw_err_set(err, 0, 0, "web-identity: out of memory");
    } else {
        const char *region = w->region ? w->region : creds_env(o, "AWS_REGION");
        if (region == NULL)
            region = creds_env(o, "AWS_DEFAULT_REGION");
        struct lw_err e = {0};
        if (region) {
            if (endpoint_resolve(o, "sts", region, NULL, &url, NULL, &e) != 0)
                return lw_err_set(err, 0, 0, "web-identity: %s", e.msg);
        } else {
            const char *v = creds_env(o, "AWS_ENDPOINT_URL_STS");
            if (v == NULL)
                v = creds_env(o, "AWS_ENDPOINT_URL");
            url = strdup(v ? v : "https://sts.amazonaws.com");
            if (url == NULL)
                return lw_err_set(err, 0, 0, "web-identity: out of memory");
        }
    }
    int rc = -1;
    struct lw_buf body;
    lw_buf_init(&body, LW_MAX_CREDS_TOKEN_BYTES * 4);
    struct creds_http_response resp = {0};
    char *token = creds_read_token_file(file, "web-identity", err);
    if (token == NULL)
        goto cleanup;
    (void)lw_buf_adds(&body, "Action=AssumeRoleWithWebIdentity&Version=2011-06-15");
    if (add_param(&body, "RoleArn", role) != 0 ||
        add_param(&body, "RoleSessionName", session) != 0 ||
        add_param(&body, "WebIdentityToken", token) != 0 || lw_buf_failed(&body)) {
        lw_err_set(err, 0, 0, "web-identity: the request does not fit");
        goto cleanup;
    }
    const char *headers[] = {"Content-Type: application/x-www-form-urlencoded; charset=utf-8",
                             "Accept: text/xml"};
    struct lw_err e = {0};
    if (creds_http(o, "POST", url, headers, 2, lw_buf_str(&body), &resp, &e) != 0) {
        lw_err_set(err, 0, 0, "web-identity: %s", e.msg);
        goto cleanup;
    }
    if (resp.status != 200) {
        /* Quote STS's own Code and Message when the body is an error document. */
        struct creds ignored = {0};
        struct lw_err pe = {0};
        if (creds_parse_sts_xml(lw_buf_str(&resp.body), resp.body.len, now, &ignored, &pe) == 0)
            creds_cleanup(&ignored);
        if (strstr(pe.msg, "STS refused"))
            lw_err_set(err, 0, 0, "%s (HTTP %ld)", pe.msg, resp.status);
        else
            lw_err_set(err, 0, 0, "web-identity: POST %.200s answered HTTP %ld", url, resp.status);
        goto cleanup;
    }
    rc = creds_parse_sts_xml(lw_buf_str(&resp.body), resp.body.len, now, out, err);
cleanup:
    creds_wipe_buf(&body);
    lw_buf_cleanup(&body);
    creds_wipe_buf(&resp.body);
    lw_buf_cleanup(&resp.body);
    creds_free_secret(token);
    free(url);
    return rc;
}

static void wi_destroy(void *impl)
{
    struct web_identity *w = impl;
    if (w == NULL)
        return;
    free(w->role_arn);
    free(w->token_file);
    free(w->session_name);
    free(w->sts_endpoint);
    free(w->region);
    free(w);
}

static const struct creds_provider_vtable wi_vt = {"web-identity", wi_get, NULL, wi_destroy};

static int dup_opt(char **dst, const char *src)
{
    if (src == NULL)
        return 0;
    *dst = strdup(src);
    return *dst ? 0 : -1;
}

struct creds_provider *creds_web_identity_new(const struct creds_options *opts,
                                              const struct creds_web_identity_options *wo)
{
    struct web_identity *w = calloc(1, sizeof *w);
    if (w == NULL)
        return NULL;
    if (wo && (dup_opt(&w->role_arn, wo->role_arn) || dup_opt(&w->token_file, wo->token_file) ||
               dup_opt(&w->session_name, wo->session_name) ||
               dup_opt(&w->sts_endpoint, wo->sts_endpoint) || dup_opt(&w->region, wo->region))) {
        wi_destroy(w);
        return NULL;
    }
    return creds_provider_alloc(&wi_vt, opts, w);
}
