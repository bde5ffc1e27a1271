/*
 * runbook.h — the runbook of the default rule pack (docs/runbook.md), built into the binary and
 * served by the agent at /runbook, so the pack's runbook_url annotations
 * ({{ $externalURL }}/runbook#<alertname in lower case>) lead somewhere wherever lagwatch runs.
 */
#ifndef LAGWATCH_RUNBOOK_H
#define LAGWATCH_RUNBOOK_H

#include <stddef.h>

#include "lagwatch/buf.h"

/* The Markdown text (generated from docs/runbook.md at build time). */
extern const unsigned char runbook_md[];
extern const size_t runbook_md_len;

/* The runbook as a plain HTML page: every "## Heading" an <h2> whose id is the heading in lower
 * case with everything but letters, digits, '-' and '_' dropped (#debeziumhighbinloglag), the
 * text between in escaped <pre> blocks. 0, or -1 when out appended nothing more (full). */
int runbook_html(struct lw_buf *out);

#endif
