/*
 * template_int.h — what the template modules share and nobody else sees: the value layout, the
 * parse tree and the function table. template_parse.c builds trees, template_exec.c walks them,
 * template_func.c holds the functions, template_value.c the values.
 */
#ifndef LAGWATCH_TEMPLATE_INT_H
#define LAGWATCH_TEMPLATE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lagwatch/template.h"

struct tmpl_entry {
    char *key;
    struct tmpl_value *v;
};

struct tmpl_value {
    enum tmpl_kind kind;
    long refs;
    bool b;
    int64_t i;
    double num;
    char *s; /* TMPL_STR: NUL-terminated copy of len bytes; TMPL_MAP struct: its Go type name */
    size_t len;
    bool string_elems;         /* TMPL_MAP: map[string]string */
    bool is_struct;            /* TMPL_MAP: a struct (fields in declaration order, not sorted) */
    struct tmpl_entry *e;      /* TMPL_MAP entries */
    struct tmpl_value **items; /* TMPL_LIST */
    size_t n, cap;
};

/* Go's type name of a value as its error messages print it ("float64", "map[string]string"). */
const char *tmpl_go_type(const struct tmpl_value *v);

enum tnode_type {
    TN_LIST,
    TN_TEXT,
    TN_ACTION,
    TN_IF,
    TN_RANGE,
    TN_WITH,
    TN_TEMPLATE,
    TN_BREAK,
    TN_CONTINUE,
    TN_PIPE,
    TN_CMD,
    TN_FIELD,
    TN_VAR,
    TN_DOT,
    TN_NIL,
    TN_BOOL,
    TN_NUM,
    TN_STR,
    TN_IDENT,
    TN_CHAIN,
    TN_ELSE_MARK, /* parser only: an {{else}} ending a list */
    TN_END_MARK,  /* parser only: an {{end}} ending a list */
};

struct tmpl_func;

struct tnode {
    enum tnode_type type;
    size_t off, end;     /* source span [off, end) for positions and "at <...>" */
    struct tnode **kids; /* LIST items, PIPE commands, CMD arguments */
    size_t nkids, capkids;
    char *text; /* TEXT bytes, STR value, IDENT name, TEMPLATE name */
    size_t text_len;
    char **idents; /* FIELD: field names; VAR: "$x" then fields; CHAIN: fields */
    size_t nidents;
    struct tnode *pipe; /* ACTION/IF/RANGE/WITH/TEMPLATE pipeline (may be NULL for TEMPLATE);
                           CHAIN: the operand the fields apply to */
    struct tnode *list, *else_list;
    char **decl; /* PIPE: declared/assigned variables */
    size_t ndecl;
    bool is_assign;
    bool b;                /* BOOL */
    bool is_int, is_float; /* NUM: which Go constant kinds the literal can be */
    int64_t ival;
    double fval;
    const struct tmpl_func *fn; /* IDENT */
};

struct tdef {
    char *name;
    struct tnode *root; /* TN_LIST */
};

struct tmpl {
    char *name;
    char *src; /* the whole parsed text (prelude included), for positions and error context */
    size_t src_len;
    size_t prelude_len; /* bytes of an alert prelude on line 1 that errors must not count */
    enum tmpl_dialect dialect;
    struct tdef *defs; /* defs[0] is the main template */
    size_t ndefs;
};

/* Line and 1-based column of byte offset off in t's source, with the prelude removed. */
void tmpl_pos(const struct tmpl *t, size_t off, int *line, int *col);

/* Parse with a prelude of prelude_len bytes at the start of src (see tmpl_pos). */
int tmpl_parse_prelude(const char *name, const char *src, size_t len, size_t prelude_len,
                       enum tmpl_dialect dialect, struct tmpl **out, struct lw_err *err);

/* ---- functions ---- */

struct tmpl_exec_state;

/* Parameter kinds of a function: 's' string, 'a' any value (Go interface{}), 'v' any value with
 * "no value" allowed (Go reflect.Value). A variadic function repeats its last kind. */
struct tmpl_func {
    const char *name;
    const char *params;
    bool variadic;
    unsigned dialects;   /* bit (1 << enum tmpl_dialect) */
    const char *refused; /* non-NULL: refused at parse with this message */
    /* args[i] may be NULL for "no value" (kind 'v' and 'a' only). Sets *out (a new reference) or
     * returns -1 after writing the message (without "error calling") into msg. */
    int (*call)(struct tmpl_exec_state *st, struct tmpl_value **args, size_t nargs,
                struct tmpl_value **out, char *msg, size_t msglen);
};

const struct tmpl_func *tmpl_func_find(const char *name, size_t len);

/* Go's fmt for template functions: Sprint, Sprintln and Sprintf over values (NULL = no value,
 * printed "<no value>" as text/template's printableValue does). */
int tmpl_sprint(struct tmpl_value **args, size_t n, bool ln, struct lw_buf *out);
int tmpl_sprintf(const char *fmt, size_t fmt_len, struct tmpl_value **args, size_t n,
                 struct lw_buf *out);
/* Append v as fmt's %v (Fprint of one value). */
int tmpl_print_value(const struct tmpl_value *v, struct lw_buf *out);

/* Go's truth of a value: false, 0, nil, empty string/map/list are false; no value is false. */
bool tmpl_truth(const struct tmpl_value *v);

/* The external URL the executing template was given ("" when none). */
const char *tmpl_exec_external_url(const struct tmpl_exec_state *st);

/* Compile-and-check a Go (RE2) regexp as match/reReplaceAll would; 0 or -1 with Go's words in
 * msg. */
int tmpl_regexp_check(const char *pattern, char *msg, size_t msglen);

#endif
