/*
 * creds_profile.c — the shared AWS files (~/.aws/credentials and ~/.aws/config, or
 * AWS_SHARED_CREDENTIALS_FILE / AWS_CONFIG_FILE) and the profile (AWS_PROFILE, else "default").
 * The credentials file holds [name] sections, the config file [profile name] ones ([default] in
 * both). Keys are aws_access_key_id, aws_secret_access_key, aws_session_token (the credentials
 * file wins), and role_arn + web_identity_token_file (+ role_session_name) which go through
 * STS AssumeRoleWithWebIdentity with the profile's region. Other role sources (source_profile,
 * credential_source, credential_process, SSO) are refused with a clear message rather than
 * ignored. Both files are read at each get, so an edited file needs no restart.
 * The parser takes buffers (creds_ini_get); errors name file:line:col and never quote values.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "lagwatch/limits.h"
#include "lagwatch/private/creds_impl.h"

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

int creds_ini_get(const char *buf, size_t len, const char *section, const char *key, char **out,
                  struct lw_err *err)
{
    *out = NULL;
    size_t pos = 0;
    int line = 0, in_section = 0, found_section = 0;
    while (pos < len) {
        line++;
        const char *l = buf + pos;
        const char *nl = memchr(l, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - l) : len - pos;
        pos += n + (nl ? 1 : 0);
        if (n > LW_MAX_AWS_CONFIG_LINE_BYTES)
            return lw_err_set(err, line, 1, "line longer than %u bytes",
                              LW_MAX_AWS_CONFIG_LINE_BYTES);
        if (memchr(l, '\0', n))
            return lw_err_set(err, line, 1, "NUL byte in the file");
        size_t i = 0;
        int indented = n > 0 && is_space(l[0]);
        while (i < n && is_space(l[i]))
            i++;
        size_t e = n;
        while (e > i && is_space(l[e - 1]))
            e--;
        if (i == e || l[i] == '#' || l[i] == ';')
            continue;
        if (l[i] == '[') {
            const char *close = memchr(l + i, ']', e - i);
            if (close == NULL)
                return lw_err_set(err, line, (int)e + 1, "expected ']' closing the section");
            size_t a = i + 1, b = (size_t)(close - l);
            while (a < b && is_space(l[a]))
                a++;
            while (b > a && is_space(l[b - 1]))
                b--;
            /* "[profile   x]": the SDKs accept any run of blanks after "profile" */
            size_t slen = strlen(section);
            in_section = 0;
            if (strncmp(section, "profile ", 8) == 0 && b - a > 8 &&
                strncmp(l + a, "profile", 7) == 0 && is_space(l[a + 7])) {
                size_t c = a + 7;
                while (c < b && is_space(l[c]))
                    c++;
                in_section = b - c == slen - 8 && memcmp(l + c, section + 8, slen - 8) == 0;
            } else {
                in_section = b - a == slen && memcmp(l + a, section, slen) == 0;
            }
            found_section |= in_section;
            continue;
        }
        if (indented) /* a sub-property of the key above (e.g. "s3 =\n  addressing_style") */
            continue;
        const char *eq = memchr(l + i, '=', e - i);
        if (eq == NULL)
            return lw_err_set(err, line, (int)i + 1, "expected 'key = value' or '[section]'");
        if (!in_section)
            continue;
        size_t ke = (size_t)(eq - l);
        while (ke > i && is_space(l[ke - 1]))
            ke--;
        if (ke - i != strlen(key) || memcmp(l + i, key, ke - i) != 0)
            continue;
        size_t vs = (size_t)(eq - l) + 1;
        while (vs < e && is_space(l[vs]))
            vs++;
        free(*out); /* a later duplicate wins, as in the SDKs */
        *out = strndup(l + vs, e - vs);
        if (*out == NULL)
            return lw_err_set(err, line, 1, "out of memory");
    }
    return found_section ? 1 : 0;
}

/* Read path whole (missing file: *buf NULL and 0). */
static int read_file(const char *path, char **buf, size_t *len, struct lw_err *err)
{
    *buf = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        if (errno == ENOENT)
            return 0;
        return lw_err_set(err, 0, 0, "profile: cannot read %.200s: %s", path, strerror(errno));
    }
    struct lw_buf b;
    lw_buf_init(&b, LW_MAX_FILE_BYTES);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (lw_buf_add(&b, chunk, n) != 0)
            break;
    int bad = ferror(f) || lw_buf_failed(&b);
    fclose(f);
    OPENSSL_cleanse(chunk, sizeof chunk);
    if (bad) {
        creds_wipe_buf(&b);
        lw_buf_cleanup(&b);
        return lw_err_set(err, 0, 0, "profile: cannot read %.200s (or larger than %u bytes)", path,
                          LW_MAX_FILE_BYTES);
    }
    *len = b.len;
    *buf = lw_buf_take(&b);
    return *buf ? 0 : lw_err_set(err, 0, 0, "profile: out of memory");
}

static void free_file(char *buf, size_t len)
{
    if (buf)
        OPENSSL_cleanse(buf, len);
    free(buf);
}

/* A path from opts, else env, else $HOME/.aws/<name>; "~/" expanded. */
static int shared_path(const struct creds_options *o, const char *given, const char *env,
                       const char *name, char *out, size_t outlen)
{
    const char *p = given ? given : creds_env(o, env);
    const char *home = creds_env(o, "HOME");
    int n;
    if (p && strncmp(p, "~/", 2) == 0)
        n = snprintf(out, outlen, "%s/%s", home ? home : "", p + 2);
    else if (p)
        n = snprintf(out, outlen, "%s", p);
    else
        n = snprintf(out, outlen, "%s/.aws/%s", home ? home : "", name);
    return n > 0 && (size_t)n < outlen ? 0 : -1;
}

/* Both shared files of a profile, read whole. */
struct shared_files {
    char cred_path[1024], conf_path[1024];
    char *cred, *conf;
    size_t cred_len, conf_len;
    const char *profile;
    char conf_section[300];
};

static int load_files(const struct creds_options *o, const struct creds_profile_options *po,
                      struct shared_files *f, struct lw_err *err)
{
    memset(f, 0, sizeof *f);
    f->profile = po && po->profile ? po->profile : creds_env(o, "AWS_PROFILE");
    if (f->profile == NULL)
        f->profile = "default";
    if (strlen(f->profile) > 256)
        return lw_err_set(err, 0, 0, "profile: the profile name is too long");
    if (strcmp(f->profile, "default") == 0)
        snprintf(f->conf_section, sizeof f->conf_section, "default");
    else
        snprintf(f->conf_section, sizeof f->conf_section, "profile %s", f->profile);
    if (shared_path(o, po ? po->credentials_file : NULL, "AWS_SHARED_CREDENTIALS_FILE",
                    "credentials", f->cred_path, sizeof f->cred_path) != 0 ||
        shared_path(o, po ? po->config_file : NULL, "AWS_CONFIG_FILE", "config", f->conf_path,
                    sizeof f->conf_path) != 0)
        return lw_err_set(err, 0, 0, "profile: the shared file path is too long");
    if (read_file(f->cred_path, &f->cred, &f->cred_len, err) != 0 ||
        read_file(f->conf_path, &f->conf, &f->conf_len, err) != 0) {
        free_file(f->cred, f->cred_len);
        f->cred = NULL;
        return -1;
    }
    return 0;
}

static void unload_files(struct shared_files *f)
{
    free_file(f->cred, f->cred_len);
    free_file(f->conf, f->conf_len);
}

/* key of the profile: the credentials file first (when cred_first), then the config file.
 * 1 found, 0 absent, -1 parse error. found_section (may be NULL) ORs in whether the profile
 * exists in either file. */
static int profile_value(struct shared_files *f, const char *key, int cred_first, char **out,
                         int *found_section, struct lw_err *err)
{
    *out = NULL;
    struct lw_err e = {0};
    if (cred_first && f->cred) {
        int r = creds_ini_get(f->cred, f->cred_len, f->profile, key, out, &e);
        if (r < 0)
            return lw_err_set(err, e.line, e.col, "profile: %.200s:%d:%d: %.200s", f->cred_path,
                              e.line, e.col, e.msg);
        if (found_section)
            *found_section |= r;
        if (*out)
            return 1;
    }
    if (f->conf) {
        const char *sections[2] = {f->conf_section, NULL};
        if (strcmp(f->profile, "default") == 0)
            sections[1] = "profile default";
        for (int i = 0; i < 2 && sections[i]; i++) {
            int r = creds_ini_get(f->conf, f->conf_len, sections[i], key, out, &e);
            if (r < 0)
                return lw_err_set(err, e.line, e.col, "profile: %.200s:%d:%d: %.200s", f->conf_path,
                                  e.line, e.col, e.msg);
            if (found_section)
                *found_section |= r;
            if (*out)
                return 1;
        }
    }
    return 0;
}

int creds_profile_region(const struct creds_options *o, const struct creds_profile_options *po,
                         char **region, struct lw_err *err)
{
    struct shared_files f;
    if (load_files(o, po, &f, err) != 0)
        return -1;
    int r = profile_value(&f, "region", 0, region, NULL, err);
    unload_files(&f);
    return r;
}

static int profile_get(struct creds_provider *p, int64_t now, struct creds *out, struct lw_err *err)
{
    const struct creds_options *o = &p->opts;
    const struct creds_profile_options *po = p->impl;
    struct shared_files f;
    if (load_files(o, po, &f, err) != 0)
        return -1;
    int rc = -1, found = 0;
    char *ak = NULL, *sk = NULL, *tok = NULL, *role = NULL, *wif = NULL, *sess = NULL;
    char *region = NULL, *other = NULL;
    if (f.cred == NULL && f.conf == NULL) {
        lw_err_set(err, 0, 0, "profile: neither %.200s nor %.200s exists", f.cred_path,
                   f.conf_path);
        goto cleanup;
    }
    if (profile_value(&f, "aws_access_key_id", 1, &ak, &found, err) < 0 ||
        profile_value(&f, "aws_secret_access_key", 1, &sk, &found, err) < 0 ||
        profile_value(&f, "aws_session_token", 1, &tok, &found, err) < 0 ||
        profile_value(&f, "role_arn", 1, &role, &found, err) < 0 ||
        profile_value(&f, "web_identity_token_file", 1, &wif, &found, err) < 0 ||
        profile_value(&f, "role_session_name", 1, &sess, &found, err) < 0 ||
        profile_value(&f, "region", 0, &region, &found, err) < 0)
        goto cleanup;
    if (!found) {
        lw_err_set(err, 0, 0, "profile: no profile \"%.100s\" in %.200s or %.200s", f.profile,
                   f.cred_path, f.conf_path);
        goto cleanup;
    }
    if (ak && sk && ak[0] && sk[0]) {
        struct creds c = {ak, sk, tok && tok[0] ? tok : NULL, 0, "profile"};
        if (creds_copy(out, &c) != 0) {
            lw_err_set(err, 0, 0, "profile: out of memory");
            goto cleanup;
        }
        rc = 0;
        goto cleanup;
    }
    if (ak || sk) {
        lw_err_set(err, 0, 0, "profile \"%.100s\": %s is set but %s is not", f.profile,
                   ak ? "aws_access_key_id" : "aws_secret_access_key",
                   ak ? "aws_secret_access_key" : "aws_access_key_id");
        goto cleanup;
    }
    if (role && wif) {
        struct creds_web_identity_options wo = {role, wif, sess, po ? po->sts_endpoint : NULL,
                                                po && po->region ? po->region : region};
        struct creds_provider *w = creds_web_identity_new(o, &wo);
        if (w == NULL) {
            lw_err_set(err, 0, 0, "profile: out of memory");
            goto cleanup;
        }
        struct lw_err e = {0};
        rc = creds_provider_get(w, now, out, &e);
        creds_provider_free(w);
        if (rc != 0)
            lw_err_set(err, 0, 0, "profile \"%.100s\": %s", f.profile, e.msg);
        goto cleanup;
    }
    static const char *const unsupported[] = {"source_profile", "credential_source",
                                              "credential_process", "sso_session", "sso_start_url"};
    for (size_t i = 0; i < sizeof unsupported / sizeof unsupported[0]; i++) {
        if (profile_value(&f, unsupported[i], 1, &other, NULL, err) < 0)
            goto cleanup;
        if (other) {
            lw_err_set(err, 0, 0,
                       "profile \"%.100s\": %s is not supported by lagwatch (use keys, "
                       "role_arn + web_identity_token_file, or the instance's role)",
                       f.profile, unsupported[i]);
            goto cleanup;
        }
    }
    lw_err_set(err, 0, 0, "profile \"%.100s\" holds no credentials%s", f.profile,
               role ? " (role_arn without web_identity_token_file)" : "");
cleanup:
    free(ak);
    creds_free_secret(sk);
    creds_free_secret(tok);
    free(role);
    free(wif);
    free(sess);
    free(region);
    free(other);
    unload_files(&f);
    return rc;
}

struct profile_impl {
    struct creds_profile_options po;
    char *s[5];
};

static void profile_destroy(void *impl)
{
    struct profile_impl *pi = impl;
    if (pi == NULL)
        return;
    for (int i = 0; i < 5; i++)
        free(pi->s[i]);
    free(pi);
}

static const struct creds_provider_vtable profile_vt = {"profile", profile_get, NULL,
                                                        profile_destroy};

struct creds_provider *creds_profile_new(const struct creds_options *opts,
                                         const struct creds_profile_options *popts)
{
    struct profile_impl *pi = calloc(1, sizeof *pi);
    if (pi == NULL)
        return NULL;
    if (popts) {
        const char *src[5] = {popts->profile, popts->credentials_file, popts->config_file,
                              popts->sts_endpoint, popts->region};
        for (int i = 0; i < 5; i++) {
            if (src[i] && (pi->s[i] = strdup(src[i])) == NULL) {
                profile_destroy(pi);
                return NULL;
            }
        }
        pi->po = (struct creds_profile_options){pi->s[0], pi->s[1], pi->s[2], pi->s[3], pi->s[4]};
    }
    /* profile_get reads impl as the options struct: it is the first member. */
    return creds_provider_alloc(&profile_vt, opts, pi);
}
