/* test_runbook.c — the built-in runbook: served as HTML with an anchor per heading, and every
 * alert of the default rule pack has a section its runbook_url points at. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lagwatch/runbook.h"

static void test_html_has_anchors_and_escapes(void **state)
{
    (void)state;
    struct lw_buf b;
    lw_buf_init(&b, 1u << 20);
    assert_int_equal(runbook_html(&b), 0);
    const char *html = lw_buf_str(&b);
    assert_non_null(strstr(html, "<!DOCTYPE html>"));
    assert_non_null(strstr(html, "<h2 id=\"debeziumhighbinloglag\">DebeziumHighBinlogLag</h2>"));
    assert_non_null(strstr(html, "</body></html>"));
    /* nothing from the Markdown reaches the page unescaped */
    const char *body = strstr(html, "<body>");
    for (const char *p = strchr(body + 6, '<'); p; p = strchr(p + 1, '<'))
        if (strncmp(p, "<h", 2) != 0 && strncmp(p, "</h", 3) != 0 && strncmp(p, "<pre>", 5) != 0 &&
            strncmp(p, "</pre>", 6) != 0 && strncmp(p, "</body>", 7) != 0 &&
            strncmp(p, "</html>", 7) != 0)
            fail_msg("unescaped markup: %.40s", p);
    lw_buf_cleanup(&b);
}

static void test_every_pack_alert_has_its_section(void **state)
{
    (void)state;
    struct lw_buf b;
    lw_buf_init(&b, 1u << 20);
    assert_int_equal(runbook_html(&b), 0);
    FILE *f = fopen(LAGWATCH_SOURCE_DIR "/packaging/rules/cdc.rules.yml", "r");
    assert_non_null(f);
    char line[1024];
    int alerts = 0;
    while (fgets(line, sizeof line, f)) {
        static const char prefix[] = "runbook_url: '{{ $externalURL }}/runbook#";
        const char *a = strstr(line, prefix);
        if (!a)
            continue;
        const char *id = a + sizeof prefix - 1;
        size_t n = strspn(id, "abcdefghijklmnopqrstuvwxyz0123456789_-");
        if (n == 0 || id[n] != '\'')
            fail_msg("runbook_url not understood: %s", line);
        char want[160];
        snprintf(want, sizeof want, "<h2 id=\"%.*s\">", (int)n, id);
        if (!strstr(lw_buf_str(&b), want))
            fail_msg("the runbook has no section #%.*s", (int)n, id);
        alerts++;
    }
    fclose(f);
    assert_true(alerts >= 13);
    lw_buf_cleanup(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_html_has_anchors_and_escapes),
        cmocka_unit_test(test_every_pack_alert_has_its_section),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
