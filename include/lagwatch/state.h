/*
 * state.h — everything lagwatch keeps across restarts lives in state_dir, and only this module
 * touches it. Other modules hand over opaque JSON text by name ("alerts", "silences", "nflog",
 * "failover", or "outbox/<id>" for one item of a collection) and get it back at startup.
 *
 * Each file is written atomically (temp file in the same directory, fsync, rename over the old
 * one, fsync of the directory), so after a crash at any instant a name holds either its previous
 * or its new content, never a mix. Each file starts with one header line
 *     lagwatch-state 1 <name> <schema> <length> <sha256-hex>\n
 * followed by the JSON text: the container format version, the caller's own schema version, and
 * a length and checksum that catch truncation and bit rot. A file that is unreadable, truncated,
 * fails its checksum, is not JSON, or comes from a newer lagwatch is reported and moved aside to
 * "<file>.corrupt-<UTC time>" (kept for inspection), and the caller starts that piece of state
 * empty: bad state never stops the agent and is never silently overwritten. Temp files left by a
 * crash are removed by state_open.
 */
#ifndef LAGWATCH_STATE_H
#define LAGWATCH_STATE_H

#include <stdbool.h>
#include <stddef.h>

#include "lagwatch/error.h"

#define STATE_FORMAT_VERSION 1

struct state;

/* Open (creating it 0700 when missing, parents too) the state directory dir and remove temp
 * files an interrupted write left behind. Returns 0 and a handle, or -1 with err (cannot create,
 * not a directory, not writable). */
LW_MUST_CHECK int state_open(const char *dir, struct state **out, struct lw_err *err);

/* Close the handle (no I/O is pending: every write is complete when it returns). NULL is fine. */
void state_close(struct state *s);

/* The directory the handle writes to. */
const char *state_dir(const struct state *s);

/* Whether name is acceptable: "word" or "collection/word", words of [A-Za-z0-9_.-] not starting
 * with '.', at most STATE_MAX_NAME bytes. */
bool state_name_ok(const char *name);
#define STATE_MAX_NAME 200

/* Durably store json[0..len) (JSON text, checked) under name with the caller's schema version.
 * Returns 0 once the data and the rename are on disk, or -1 with err (the previous content of
 * name is then untouched). */
LW_MUST_CHECK int state_write(struct state *s, const char *name, int schema, const char *json,
                              size_t len, struct lw_err *err);

enum state_read_result {
    STATE_READ_OK,      /* *json (heap, NUL-terminated, caller frees) and *schema are set */
    STATE_READ_ABSENT,  /* nothing stored under name */
    STATE_READ_CORRUPT, /* reported in err, file moved aside; start empty */
};

/* Read what name holds. Never fails hard: a bad file is STATE_READ_CORRUPT with err saying what
 * was wrong and where the file went (err->file is the original path). */
enum state_read_result state_read(struct state *s, const char *name, char **json, size_t *len,
                                  int *schema, struct lw_err *err);

/* Remove name (durably). Absent is not an error. Returns 0 or -1 with err. */
LW_MUST_CHECK int state_delete(struct state *s, const char *name, struct lw_err *err);

/* For each item of collection (the files "collection/<word>"), sorted by name: call fn with the
 * item's word, its JSON and schema. Corrupt items are moved aside and reported through
 * on_corrupt (may be NULL) and skipped. fn returning -1 stops the walk with -1. Returns the
 * number of good items, or -1 (collection unreadable, or fn stopped). */
typedef int (*state_item_fn)(void *ud, const char *id, const char *json, size_t len, int schema);
typedef void (*state_corrupt_fn)(void *ud, const struct lw_err *what);
long state_list(struct state *s, const char *collection, state_item_fn fn,
                state_corrupt_fn on_corrupt, void *ud, struct lw_err *err);

#endif
