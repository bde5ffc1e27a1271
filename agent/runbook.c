/*
 * runbook.c — the built-in runbook as HTML; see runbook.h. Only headings are interpreted: the
 * rest is shown as written (it is meant to be read during an incident, not typeset).
 */
#include "lagwatch/runbook.h"

#include <ctype.h>
#include <stdbool.h>
#include <string.h>

#include "lagwatch/views.h"

static void anchor(struct lw_buf *out, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (isalnum(c) || c == '-' || c == '_')
            lw_buf_addc(out, (char)tolower(c));
        else if (c == ' ')
            lw_buf_addc(out, '-');
    }
}

int runbook_html(struct lw_buf *out)
{
    const char *md = (const char *)runbook_md;
    size_t len = runbook_md_len;
    lw_buf_adds(out, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>lagwatch "
                     "runbook</title><style>body{font-family:sans-serif;max-width:60em;margin:"
                     "1em auto}pre{white-space:pre-wrap;font-family:inherit}</style></head><body>"
                     "\n");
    bool in_pre = false;
    for (size_t at = 0; at < len;) {
        const char *nl = memchr(md + at, '\n', len - at);
        size_t n = nl ? (size_t)(nl - (md + at)) : len - at;
        const char *line = md + at;
        int level = line[0] == '#' ? (n > 1 && line[1] == '#' ? 2 : 1) : 0;
        if (level && (size_t)level < n && line[level] == ' ') {
            if (in_pre)
                lw_buf_adds(out, "</pre>\n");
            in_pre = false;
            const char *title = line + level + 1;
            size_t tn = n - (size_t)level - 1;
            lw_buf_addf(out, "<h%d id=\"", level);
            anchor(out, title, tn);
            lw_buf_adds(out, "\">");
            views_html_escape_n(out, title, tn);
            lw_buf_addf(out, "</h%d>\n", level);
        } else {
            if (!in_pre)
                lw_buf_adds(out, "<pre>");
            in_pre = true;
            views_html_escape_n(out, line, n);
            lw_buf_addc(out, '\n');
        }
        at += n + (nl != NULL);
    }
    if (in_pre)
        lw_buf_adds(out, "</pre>\n");
    lw_buf_adds(out, "</body></html>\n");
    return lw_buf_failed(out) ? -1 : 0;
}
