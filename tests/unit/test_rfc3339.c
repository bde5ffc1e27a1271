/* test_rfc3339.c — Go-compatible RFC 3339 timestamps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "lagwatch/rfc3339.h"

static void test_formats_as_go_does(void **state)
{
    (void)state;
    char b[RFC3339_MAX];
    assert_string_equal(rfc3339_format(0, b, sizeof(b)), "1970-01-01T00:00:00Z");
    assert_string_equal(rfc3339_format(1795876200000LL, b, sizeof(b)), "2026-11-28T14:30:00Z");
    assert_string_equal(rfc3339_format(1795876200120LL, b, sizeof(b)), "2026-11-28T14:30:00.12Z");
    assert_string_equal(rfc3339_format(951782400000LL, b, sizeof(b)), "2000-02-29T00:00:00Z");
    assert_string_equal(rfc3339_format(-1, b, sizeof(b)), "1969-12-31T23:59:59.999Z");
    assert_string_equal(rfc3339_format(RFC3339_ZERO_MS, b, sizeof(b)), "0001-01-01T00:00:00Z");
}

static void test_parses_offsets_and_fractions(void **state)
{
    (void)state;
    int64_t t;
    struct lw_err err = {0};
    const char *s = "2026-11-28T14:30:00.123456Z";
    assert_int_equal(rfc3339_parse(s, strlen(s), &t, &err), 0);
    assert_int_equal(t, 1795876200123LL);
    s = "2026-11-28T16:30:00+02:00";
    assert_int_equal(rfc3339_parse(s, strlen(s), &t, &err), 0);
    assert_int_equal(t, 1795876200000LL);
    s = "2026-11-28 14:30:00Z";
    assert_int_equal(rfc3339_parse(s, strlen(s), &t, &err), -1);
    assert_int_equal(err.col, 9);
    s = "2026-11-28T14:30:00";
    assert_int_equal(rfc3339_parse(s, strlen(s), &t, &err), -1);
    assert_int_equal(err.col, 20);
    s = "2026-13-28T14:30:00Z";
    assert_int_equal(rfc3339_parse(s, strlen(s), &t, &err), -1);
    s = "2026-11-28T14:30:00Zjunk";
    assert_int_equal(rfc3339_parse(s, strlen(s), &t, &err), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_formats_as_go_does),
        cmocka_unit_test(test_parses_offsets_and_fractions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
