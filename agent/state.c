/*
 * state.c — atomic, versioned, checksummed files in state_dir (see state.h for the format and
 * the guarantees). The write path is the classic one: write a temp file next to the target,
 * fsync it, rename it over the target, fsync the directory so the rename itself is durable.
 * The read path trusts nothing: header, length, SHA-256 and JSON syntax are all checked, and a
 * file failing any of them is renamed aside rather than deleted or overwritten, so an operator
 * can look at it later. This module logs nothing; it reports through lw_err and callbacks.
 */
#include "lagwatch/state.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lagwatch/buf.h"
#include "lagwatch/limits.h"

#define HEADER_MAGIC   "lagwatch-state"
#define TMP_MARK       ".tmp-"
#define HEADER_MAX     (sizeof HEADER_MAGIC + STATE_MAX_NAME + 128)
#define SHA256_HEX_LEN 64

struct state {
    char *dir;
};

const char *state_dir(const struct state *s)
{
    return s->dir;
}

static bool contains(const char *hay, size_t len, const char *needle)
{
    size_t n = strlen(needle);
    for (size_t i = 0; i + n <= len; i++)
        if (memcmp(hay + i, needle, n) == 0)
            return true;
    return false;
}

/* lw_err_set_file with the path cut to what err can hold (paths here may be long). */
static void set_file(struct lw_err *err, const char *path)
{
    if (err)
        snprintf(err->file, sizeof err->file, "%.*s", (int)sizeof err->file - 1, path);
}

static bool word_ok(const char *w, size_t len)
{
    if (len == 0 || w[0] == '.')
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = w[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.'))
            return false;
    }
    /* Our own temp and corrupt-file suffixes must never be names. */
    return !contains(w, len, TMP_MARK) && !contains(w, len, ".corrupt-");
}

bool state_name_ok(const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || len > STATE_MAX_NAME)
        return false;
    const char *slash = strchr(name, '/');
    if (slash == NULL)
        return word_ok(name, len);
    return word_ok(name, (size_t)(slash - name)) &&
           word_ok(slash + 1, len - (size_t)(slash - name) - 1);
}

/* ---- paths and directories ------------------------------------------------------------------ */

static int path_of(const struct state *s, const char *name, const char *suffix, char *out,
                   size_t outlen)
{
    int n = snprintf(out, outlen, "%s/%s.json%s", s->dir, name, suffix ? suffix : "");
    return n > 0 && (size_t)n < outlen ? 0 : -1;
}

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* mkdir -p with mode 0700 for every level created. */
static int mkdir_p(const char *dir)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path)
        return -1;
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(path, 0700) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

static void remove_temps(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' && strstr(e->d_name, TMP_MARK)) {
            char p[4096];
            if (snprintf(p, sizeof p, "%s/%s", dir, e->d_name) < (int)sizeof p)
                (void)unlink(p);
        } else if (e->d_name[0] != '.' && strstr(e->d_name, ".json") == NULL) {
            char p[4096];
            struct stat st;
            if (snprintf(p, sizeof p, "%s/%s", dir, e->d_name) < (int)sizeof p &&
                stat(p, &st) == 0 && S_ISDIR(st.st_mode))
                remove_temps(p); /* collections are one level deep */
        }
    }
    closedir(d);
}

int state_open(const char *dir, struct state **out, struct lw_err *err)
{
    if (dir == NULL || dir[0] == '\0')
        return lw_err_set(err, 0, 0, "state_dir is empty");
    if (mkdir_p(dir) != 0) {
        lw_err_set(err, 0, 0, "cannot create state_dir: %s", strerror(errno));
        set_file(err, dir);
        return -1;
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        lw_err_set(err, 0, 0, "state_dir is not a directory");
        set_file(err, dir);
        return -1;
    }
    if (access(dir, W_OK | X_OK) != 0) {
        lw_err_set(err, 0, 0, "state_dir is not writable: %s", strerror(errno));
        set_file(err, dir);
        return -1;
    }
    struct state *s = calloc(1, sizeof *s);
    if (s == NULL || (s->dir = strdup(dir)) == NULL) {
        free(s);
        return lw_err_set(err, 0, 0, "out of memory");
    }
    remove_temps(dir);
    *out = s;
    return 0;
}

void state_close(struct state *s)
{
    if (s == NULL)
        return;
    free(s->dir);
    free(s);
}

/* ---- checksums ------------------------------------------------------------------------------ */

static int sha256_hex(const char *data, size_t len, char out[SHA256_HEX_LEN + 1])
{
    unsigned char md[32];
    unsigned int md_len = 0;
    if (!EVP_Digest(data, len, md, &md_len, EVP_sha256(), NULL) || md_len != 32)
        return -1;
    static const char hex[] = "0123456789abcdef";
    for (unsigned i = 0; i < 32; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[SHA256_HEX_LEN] = '\0';
    return 0;
}

/* ---- writing -------------------------------------------------------------------------------- */

static int write_all(int fd, const char *p, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

/* Make sure the collection directory of name exists (and is durable). */
static int ensure_parent(const struct state *s, const char *name)
{
    const char *slash = strchr(name, '/');
    if (slash == NULL)
        return 0;
    char dir[4096];
    int n = snprintf(dir, sizeof dir, "%s/%.*s", s->dir, (int)(slash - name), name);
    if (n <= 0 || (size_t)n >= sizeof dir)
        return -1;
    if (mkdir(dir, 0700) == 0)
        return fsync_dir(s->dir);
    return errno == EEXIST ? 0 : -1;
}

static void dir_of_path(const char *path, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s", path);
    char *slash = strrchr(out, '/');
    if (slash)
        *slash = '\0';
}

int state_write(struct state *s, const char *name, int schema, const char *json, size_t len,
                struct lw_err *err)
{
    if (!state_name_ok(name))
        return lw_err_set(err, 0, 0, "invalid state name '%.64s'", name);
    json_error_t jerr;
    json_t *probe = json_loadb(json, len, JSON_DECODE_ANY, &jerr);
    if (probe == NULL)
        return lw_err_set(err, jerr.line, jerr.column, "state '%s' is not JSON: %s", name,
                          jerr.text);
    json_decref(probe);
    char sum[SHA256_HEX_LEN + 1];
    if (sha256_hex(json, len, sum) != 0)
        return lw_err_set(err, 0, 0, "SHA-256 failed");
    char header[HEADER_MAX];
    int hlen = snprintf(header, sizeof header, "%s %d %s %d %zu %s\n", HEADER_MAGIC,
                        STATE_FORMAT_VERSION, name, schema, len, sum);
    if (hlen <= 0 || (size_t)hlen >= sizeof header)
        return lw_err_set(err, 0, 0, "state header too long");

    char final[4096], tmp[4096], dir[4096];
    char suffix[48];
    snprintf(suffix, sizeof suffix, "%s%ld", TMP_MARK, (long)getpid());
    if (path_of(s, name, NULL, final, sizeof final) != 0)
        return lw_err_set(err, 0, 0, "state path too long");
    /* The temp file is a dot file in the same directory: same filesystem, so rename is atomic. */
    const char *base = strrchr(final, '/') + 1;
    dir_of_path(final, dir, sizeof dir);
    if (snprintf(tmp, sizeof tmp, "%s/.%s%s", dir, base, suffix) >= (int)sizeof tmp)
        return lw_err_set(err, 0, 0, "state path too long");
    if (ensure_parent(s, name) != 0) {
        lw_err_set(err, 0, 0, "cannot create state collection: %s", strerror(errno));
        set_file(err, dir);
        return -1;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        lw_err_set(err, 0, 0, "cannot create temp file: %s", strerror(errno));
        set_file(err, tmp);
        return -1;
    }
    const char *step = "write";
    if (write_all(fd, header, (size_t)hlen) != 0 || write_all(fd, json, len) != 0)
        goto fail;
    step = "fsync";
    if (fsync(fd) != 0)
        goto fail;
    step = "close";
    int rc = close(fd);
    fd = -1;
    if (rc != 0)
        goto fail;
    step = "rename";
    if (rename(tmp, final) != 0)
        goto fail;
    step = "fsync of the directory";
    if (fsync_dir(dir) != 0) {
        /* The new content is in place; only its durability across power loss is in doubt. */
        lw_err_set(err, 0, 0, "state '%s': %s failed: %s", name, step, strerror(errno));
        set_file(err, dir);
        return -1;
    }
    return 0;
fail:
    lw_err_set(err, 0, 0, "state '%s': %s failed: %s", name, step, strerror(errno));
    set_file(err, final);
    if (fd >= 0)
        close(fd);
    (void)unlink(tmp);
    return -1;
}

int state_delete(struct state *s, const char *name, struct lw_err *err)
{
    if (!state_name_ok(name))
        return lw_err_set(err, 0, 0, "invalid state name '%.64s'", name);
    char final[4096], dir[4096];
    if (path_of(s, name, NULL, final, sizeof final) != 0)
        return lw_err_set(err, 0, 0, "state path too long");
    if (unlink(final) != 0) {
        if (errno == ENOENT)
            return 0;
        lw_err_set(err, 0, 0, "cannot delete: %s", strerror(errno));
        set_file(err, final);
        return -1;
    }
    dir_of_path(final, dir, sizeof dir);
    if (fsync_dir(dir) != 0) {
        lw_err_set(err, 0, 0, "fsync of the directory failed: %s", strerror(errno));
        set_file(err, dir);
        return -1;
    }
    return 0;
}

/* ---- reading -------------------------------------------------------------------------------- */

/* Move path aside to path.corrupt-<UTC time>[-N]; the new path goes to moved. */
static int move_aside(const char *path, char *moved, size_t movedlen)
{
    time_t now = time(NULL);
    struct tm tm;
    char stamp[32] = "unknown";
    if (gmtime_r(&now, &tm))
        strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
    for (int i = 0; i < 100; i++) {
        int n = i == 0 ? snprintf(moved, movedlen, "%s.corrupt-%s", path, stamp)
                       : snprintf(moved, movedlen, "%s.corrupt-%s-%d", path, stamp, i);
        if (n <= 0 || (size_t)n >= movedlen)
            return -1;
        struct stat st;
        if (lstat(moved, &st) == 0)
            continue; /* never overwrite an earlier corrupt file */
        if (rename(path, moved) != 0)
            return -1;
        char dir[4096];
        dir_of_path(path, dir, sizeof dir);
        (void)fsync_dir(dir);
        return 0;
    }
    return -1;
}

/* Read the file at path whole (bounded); heap. */
static char *slurp(const char *path, size_t *len, int *err_no)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        *err_no = errno;
        return NULL;
    }
    struct lw_buf b;
    lw_buf_init(&b, LW_MAX_STATE_FILE_BYTES);
    char chunk[65536];
    for (;;) {
        ssize_t r = read(fd, chunk, sizeof chunk);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            *err_no = errno;
            close(fd);
            lw_buf_cleanup(&b);
            return NULL;
        }
        if (r == 0)
            break;
        if (lw_buf_add(&b, chunk, (size_t)r) != 0) {
            *err_no = EFBIG;
            close(fd);
            lw_buf_cleanup(&b);
            return NULL;
        }
    }
    close(fd);
    *len = b.len;
    if (b.data == NULL && (b.data = calloc(1, 1)) == NULL) {
        *err_no = ENOMEM;
        return NULL;
    }
    return b.data;
}

/* Check header and body; on success *body points into text. Returns NULL or why it is bad. */
static const char *verify(const char *name, char *text, size_t len, const char **body,
                          size_t *body_len, int *schema, char *why, size_t whylen)
{
    char *nl = memchr(text, '\n', len < HEADER_MAX ? len : HEADER_MAX);
    if (nl == NULL)
        return "no header line (truncated or not a lagwatch state file)";
    *nl = '\0';
    /* magic version name schema length sha256 */
    char *fields[7];
    size_t nf = 0;
    for (char *p = text; *p && nf < 7;) {
        while (*p == ' ')
            p++;
        if (*p == '\0')
            break;
        fields[nf++] = p;
        while (*p && *p != ' ')
            p++;
        if (*p)
            *p++ = '\0';
    }
    if (nf != 6 || strcmp(fields[0], HEADER_MAGIC) != 0)
        return "bad header line (not a lagwatch state file)";
    char *end;
    errno = 0;
    long version = strtol(fields[1], &end, 10);
    if (*end || errno)
        return "bad format version in header";
    if (version > STATE_FORMAT_VERSION) {
        snprintf(why, whylen, "written by a newer lagwatch (format %ld, this one reads %d)",
                 version, STATE_FORMAT_VERSION);
        return why;
    }
    if (version < 1)
        return "bad format version in header";
    if (strcmp(fields[2], name) != 0) {
        snprintf(why, whylen, "header names '%.64s', not '%.64s'", fields[2], name);
        return why;
    }
    long sch = strtol(fields[3], &end, 10);
    if (*end || errno || sch < 0 || sch > 1000000)
        return "bad schema version in header";
    unsigned long long want = strtoull(fields[4], &end, 10);
    if (*end || errno || fields[4][0] == '-')
        return "bad length in header";
    size_t have = len - (size_t)(nl + 1 - text);
    if (want != have) {
        snprintf(why, whylen, "length %zu, header says %llu (truncated or appended to)", have,
                 want);
        return why;
    }
    char sum[SHA256_HEX_LEN + 1];
    if (sha256_hex(nl + 1, have, sum) != 0 || strcmp(sum, fields[5]) != 0)
        return "checksum mismatch (the content was damaged)";
    json_error_t jerr;
    json_t *probe = json_loadb(nl + 1, have, JSON_DECODE_ANY, &jerr);
    if (probe == NULL)
        return "content is not JSON";
    json_decref(probe);
    *body = nl + 1;
    *body_len = have;
    *schema = (int)sch;
    return NULL;
}

/* Read one file by path (name is what the header must say). */
static enum state_read_result read_path(const char *path, const char *name, char **json,
                                        size_t *len, int *schema, struct lw_err *err)
{
    struct stat st;
    if (lstat(path, &st) != 0 && errno == ENOENT)
        return STATE_READ_ABSENT;
    size_t tlen = 0;
    int err_no = 0;
    char why[160];
    const char *problem = NULL;
    char *text = NULL;
    if (!S_ISREG(st.st_mode)) {
        problem = "not a regular file";
    } else if ((text = slurp(path, &tlen, &err_no)) == NULL) {
        if (err_no == ENOENT)
            return STATE_READ_ABSENT;
        snprintf(why, sizeof why, "unreadable: %s", strerror(err_no));
        problem = why;
    } else {
        const char *body = NULL;
        size_t blen = 0;
        int sch = 0;
        problem = verify(name, text, tlen, &body, &blen, &sch, why, sizeof why);
        if (problem == NULL) {
            char *copy = malloc(blen + 1);
            if (copy == NULL) {
                free(text);
                lw_err_set(err, 0, 0, "out of memory reading state '%s'", name);
                set_file(err, path);
                return STATE_READ_CORRUPT; /* not moved: the file itself is fine */
            }
            memcpy(copy, body, blen);
            copy[blen] = '\0';
            free(text);
            *json = copy;
            *len = blen;
            *schema = sch;
            return STATE_READ_OK;
        }
    }
    /* why may be what problem points to; keep a copy before reusing buffers. */
    char reason[200];
    snprintf(reason, sizeof reason, "%s", problem);
    free(text);
    char moved[4096];
    if (move_aside(path, moved, sizeof moved) == 0)
        lw_err_set(err, 0, 0, "state '%s' is corrupt: %s; moved aside to %s", name, reason, moved);
    else
        lw_err_set(err, 0, 0, "state '%s' is corrupt: %s; could not move it aside (%s)", name,
                   reason, strerror(errno));
    set_file(err, path);
    return STATE_READ_CORRUPT;
}

enum state_read_result state_read(struct state *s, const char *name, char **json, size_t *len,
                                  int *schema, struct lw_err *err)
{
    if (!state_name_ok(name)) {
        lw_err_set(err, 0, 0, "invalid state name '%.64s'", name);
        return STATE_READ_ABSENT;
    }
    char path[4096];
    if (path_of(s, name, NULL, path, sizeof path) != 0) {
        lw_err_set(err, 0, 0, "state path too long");
        return STATE_READ_ABSENT;
    }
    return read_path(path, name, json, len, schema, err);
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

long state_list(struct state *s, const char *collection, state_item_fn fn,
                state_corrupt_fn on_corrupt, void *ud, struct lw_err *err)
{
    if (!state_name_ok(collection) || strchr(collection, '/'))
        return lw_err_set(err, 0, 0, "invalid state collection '%.64s'", collection);
    char dir[4096];
    if (snprintf(dir, sizeof dir, "%s/%s", s->dir, collection) >= (int)sizeof dir)
        return lw_err_set(err, 0, 0, "state path too long");
    DIR *d = opendir(dir);
    if (d == NULL) {
        if (errno == ENOENT)
            return 0;
        lw_err_set(err, 0, 0, "cannot list state collection: %s", strerror(errno));
        set_file(err, dir);
        return -1;
    }
    char **ids = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    long rc = 0;
    while ((e = readdir(d)) != NULL) {
        size_t l = strlen(e->d_name);
        if (l <= 5 || strcmp(e->d_name + l - 5, ".json") != 0 || !word_ok(e->d_name, l - 5))
            continue;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 64;
            char **p = realloc(ids, ncap * sizeof *p);
            if (p == NULL) {
                rc = lw_err_set(err, 0, 0, "out of memory");
                goto done;
            }
            ids = p;
            cap = ncap;
        }
        if ((ids[n] = strndup(e->d_name, l - 5)) == NULL) {
            rc = lw_err_set(err, 0, 0, "out of memory");
            goto done;
        }
        n++;
    }
    if (n > 1) /* qsort on a NULL array (empty collection) is undefined */
        qsort(ids, n, sizeof *ids, name_cmp);
    for (size_t i = 0; i < n; i++) {
        char name[STATE_MAX_NAME + 2], path[4096];
        if (snprintf(name, sizeof name, "%s/%s", collection, ids[i]) >= (int)sizeof name ||
            !state_name_ok(name) || path_of(s, name, NULL, path, sizeof path) != 0)
            continue;
        char *json = NULL;
        size_t len = 0;
        int schema = 0;
        struct lw_err what = {0};
        enum state_read_result r = read_path(path, name, &json, &len, &schema, &what);
        if (r == STATE_READ_CORRUPT) {
            if (on_corrupt)
                on_corrupt(ud, &what);
            continue;
        }
        if (r != STATE_READ_OK)
            continue;
        int frc = fn(ud, ids[i], json, len, schema);
        free(json);
        if (frc != 0) {
            rc = lw_err_set(err, 0, 0, "loading state collection '%s' stopped at '%s'", collection,
                            ids[i]);
            goto done;
        }
        rc++;
    }
done:
    closedir(d);
    for (size_t i = 0; i < n; i++)
        free(ids[i]);
    free(ids);
    return rc;
}
