/*
 * limits.h — every cap lagwatch puts on input from outside, in one place. Modules add their own
 * constants here (named LW_MAX_* with the unit in the name) rather than burying numbers in code.
 * Where a user may need to raise a cap, the config key that does so is named next to it.
 */
#ifndef LAGWATCH_LIMITS_H
#define LAGWATCH_LIMITS_H

/* Files lagwatch reads whole (configs, rule files, credentials files, test-suite files). */
#define LW_MAX_FILE_BYTES (16u * 1024u * 1024u)

/* One HTTP request or response body held in memory (AWS answers, JSON APIs). */
#define LW_MAX_HTTP_BODY_BYTES (32u * 1024u * 1024u)

/* One header line of an HTTP request or response. */
#define LW_MAX_HEADER_BYTES (16u * 1024u)

/* Label names and one Alertmanager-syntax matcher (routes, inhibit rules, silences). */
#define LW_MAX_LABEL_NAME_BYTES 1024u
#define LW_MAX_MATCHER_BYTES    (64u * 1024u)

#endif
