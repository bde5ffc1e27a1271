/*
 * log.h — lagwatch's logging: one line per event on stderr, as logfmt (default) or JSON lines.
 * A message is a short constant-ish text plus key=value fields. Nothing that can hold a secret
 * (keys, tokens, webhook URLs) is ever passed here; log_redact() is for values that might.
 * Only agent/ logs: sigv4/ and rules/ return errors or take a log callback in their options.
 */
#ifndef LAGWATCH_LOG_H
#define LAGWATCH_LOG_H

#include <stdarg.h>

#include "lagwatch/error.h"

enum log_level { LOG_LEVEL_DEBUG = 0, LOG_LEVEL_INFO, LOG_LEVEL_WARN, LOG_LEVEL_ERROR };
enum log_format { LOG_FORMAT_LOGFMT = 0, LOG_FORMAT_JSON };

/* Set the threshold and the format; before any call the defaults are info and logfmt. */
void log_init(enum log_level level, enum log_format format);

/* Parse "debug|info|warn|error" and "logfmt|json"; 0 on success, -1 if unknown. */
int log_parse_level(const char *s, enum log_level *out);
int log_parse_format(const char *s, enum log_format *out);

/* Send the lines somewhere else (tests capture them); NULL restores stderr. The callback gets
 * each complete formatted line without its newline. */
typedef void (*log_sink_fn)(const char *line, void *ud);
void log_set_sink(log_sink_fn fn, void *ud);

/*
 * Log msg at level with fields given as pairs of const char * (key, value), ended by NULL:
 *     log_kv(LOG_LEVEL_WARN, "source down", "source", name, "error", why, NULL);
 */
void log_kv(enum log_level level, const char *msg, ...);

/* printf-style convenience forms: the formatted text becomes msg, no fields. */
void log_debug(const char *fmt, ...) LW_PRINTF(1, 2);
void log_info(const char *fmt, ...) LW_PRINTF(1, 2);
void log_warn(const char *fmt, ...) LW_PRINTF(1, 2);
void log_error(const char *fmt, ...) LW_PRINTF(1, 2);

int log_enabled(enum log_level level);

#endif
