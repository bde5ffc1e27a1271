/*
 * testsupport.c — see testsupport.h. The directories come from the environment when set (so a
 * test can run from any build tree) and otherwise from the paths CMake compiled in.
 */
#include "testsupport.h"

#include <stdio.h>
#include <stdlib.h>

char *ts_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (n + 1 >= cap) {
            char *p = realloc(buf, cap * 2);
            if (p == NULL) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = p;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0)
            break;
    }
    fclose(f);
    if (buf == NULL)
        return NULL;
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

static char *join(char *out, size_t outlen, const char *env, const char *dflt, const char *rel)
{
    const char *dir = getenv(env);
    snprintf(out, outlen, "%s/%s", dir && *dir ? dir : dflt, rel);
    return out;
}

char *ts_reference_path(char *out, size_t outlen, const char *rel)
{
    return join(out, outlen, "LAGWATCH_REFERENCE_DIR", LAGWATCH_REFERENCE_DIR, rel);
}

char *ts_fixture_path(char *out, size_t outlen, const char *rel)
{
    return join(out, outlen, "LAGWATCH_FIXTURES", LAGWATCH_FIXTURES, rel);
}
