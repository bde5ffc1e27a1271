/*
 * fuzz_seriesnot.c — libFuzzer target for the expanding series notation: each input is parsed as
 * a whole `metric{labels} values` line and as a bare values list. Whatever the verdict, an error
 * must carry a column inside the input (+1 for "at the end"), and a success must stay within the
 * value cap.
 */
#include <stdint.h>
#include <stdlib.h>

#include "lagwatch/limits.h"
#include "lagwatch/seriesnot.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    struct lw_labels ls;
    struct seriesnot_values v;
    struct lw_err err = {0};

    lw_labels_init(&ls);
    seriesnot_values_init(&v);
    if (seriesnot_parse_line(s, size, &ls, &v, &err) != 0) {
        if (err.col < 1 || (size_t)err.col > size + 1)
            abort();
    }
    if (v.n > LW_MAX_SERIESNOT_VALUES)
        abort();
    lw_labels_cleanup(&ls);
    seriesnot_values_cleanup(&v);

    struct lw_err err2 = {0};
    seriesnot_values_init(&v);
    if (seriesnot_parse_values(s, size, &v, &err2) != 0) {
        if (err2.col < 1 || (size_t)err2.col > size + 1)
            abort();
    }
    seriesnot_values_cleanup(&v);
    return 0;
}
