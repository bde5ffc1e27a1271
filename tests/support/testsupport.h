/*
 * testsupport.h — small helpers shared by the cmocka unit tests: reading fixture and reference
 * files, and paths to them. Test-only; never linked into lagwatch.
 */
#ifndef LAGWATCH_TESTSUPPORT_H
#define LAGWATCH_TESTSUPPORT_H

#include <stddef.h>

/* Read a whole file into a NUL-terminated heap block (caller frees); NULL if unreadable.
 * *len (may be NULL) gets the size without the NUL. */
char *ts_read_file(const char *path, size_t *len);

/* "<reference dir>/<rel>" and "<fixtures dir>/<rel>" into out; returns out. */
char *ts_reference_path(char *out, size_t outlen, const char *rel);
char *ts_fixture_path(char *out, size_t outlen, const char *rel);

#endif
