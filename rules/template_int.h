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
    char *s; /* TMPL_STR: NUL-terminated copy of len bytes */
    size_t len;
    bool string_elems;          /* TMPL_MAP: map[string]string */
    bool is_struct;             /* TMPL_MAP: a struct (fields in declaration order, not sorted) */
    char *type_name;            /* Go type name (tmpl_value_set_type; structs always have one) */
    struct tmpl_entry *methods; /* results of argument-less methods, by name */
    size_t nmethods;
    struct tmpl_entry *e;      /* TMPL_MAP entries */
    struct tmpl_value **items; /* TMPL_LIST */
    size_t n, cap;
};

/* Go's type name of a value as its error messages print it ("float64", "map[string]string"). */
const char *tmpl_go_type(const struct tmpl_value *v);

/* The result of v's argument-less method `name` (borrowed), or NULL. */
const struct tmpl_value *tmpl_value_method(const struct tmpl_value *v, const char *name);

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

enum tok {
    T_ERROR,
    T_EOF,
    T_TEXT,
    T_LEFT,
    T_RIGHT,
    T_SPACE,
    T_IDENT,
    T_FIELD,
    T_VAR,
    T_DOT,
    T_BOOL,
    T_NUM,
    T_CHARCONST,
    T_COMPLEX,
    T_STR,
    T_RAWSTR,
    T_PIPE,
    T_LPAREN,
    T_RPAREN,
    T_DECLARE,
    T_ASSIGN,
    T_CHAR,
    /* keywords: printed as <word> in messages */
    T_KEYWORD,
    T_BLOCK,
    T_BREAK,
    T_CONTINUE,
    T_DEFINE,
    T_ELSE,
    T_END,
    T_IF,
    T_NIL,
    T_RANGE,
    T_TEMPLATE,
    T_WITH,
};

struct token {
    enum tok t;
    size_t off, len;
};

struct lexer {
    const char *s;
    size_t n, pos;
    struct token *toks;
    size_t ntoks, cap;
    int paren_depth;
    char errmsg[160];
    int oom;
};

/* Tokenise l->s[0..l->n) into l->toks (ending with T_EOF, or T_ERROR with l->errmsg). -1 on a
 * lexing error or when memory runs out (l->oom). */
int tmpl_lex(struct lexer *l);

/* Go's isSpace: ' ', '\t', '\r', '\n'. */
int tmpl_is_space(int c);

/* Go's strconv.Unquote of a "..." or `...` literal of len bytes; appends the value to out. On a
 * bad escape returns -1 with a message in msg. */
int tmpl_unquote(const char *s, size_t len, struct lw_buf *out, char *msg, size_t msglen);

/* Decode one UTF-8 rune; returns its length, or 0 when s[0..n) does not start with one. */
size_t tmpl_utf8_rune(const unsigned char *s, size_t n, uint32_t *r);

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

/* Go's builtins (template_builtin.c); tmpl_func_find also searches them. */
extern const struct tmpl_func tmpl_builtins[];
extern const size_t tmpl_nbuiltins;

/* Helpers of the function files: set *out to v (or fail with "out of memory" when v is NULL);
 * the same with b's content (freeing b; failing when b overflowed). */
int tmpl_fn_ret(struct tmpl_value *v, struct tmpl_value **out, char *msg, size_t msglen);
int tmpl_fn_ret_buf(struct lw_buf *b, struct tmpl_value **out, char *msg, size_t msglen);

#define FAIL(...)                           \
    do {                                    \
        snprintf(msg, msglen, __VA_ARGS__); \
        return -1;                          \
    } while (0)

#define FN_ARGS                                                                           \
    struct tmpl_exec_state *st, struct tmpl_value **a, size_t n, struct tmpl_value **out, \
        char *msg, size_t msglen

/* One rune of s[0..n) as Go decodes it: invalid or short sequences are U+FFFD of width 1. */
uint32_t tmpl_decode_rune(const unsigned char *s, size_t n, size_t *w);

/* Go's unicode.IsPrint for a rune (the C.UTF-8 tables beyond Latin-1). */
bool tmpl_rune_printable(uint32_t r);

/* url.QueryEscape of s[0..len) appended to b. */
void tmpl_query_escape(const char *s, size_t len, struct lw_buf *b);

/* Go's fmt for template functions: Sprint, Sprintln and Sprintf over values (NULL = no value,
 * printed "<no value>" as text/template's printableValue does). */
int tmpl_sprint(struct tmpl_value **args, size_t n, bool ln, struct lw_buf *out);
int tmpl_sprintf(const char *fmt, size_t fmt_len, struct tmpl_value **args, size_t n,
                 struct lw_buf *out);
/* Append v as fmt's %v (Fprint of one value). */
int tmpl_print_value(const struct tmpl_value *v, struct lw_buf *out);

/* Go's truth of a value: false, 0, nil, empty string/map/list are false; no value is false. */
bool tmpl_truth(const struct tmpl_value *v);

/* Whether the executing template ran past LW_MAX_TMPL_EXEC_MS (then a function should give up:
 * the executor reports the time-out). */
bool tmpl_exec_overdue(struct tmpl_exec_state *st);

/* The external URL the executing template was given ("" when none). */
const char *tmpl_exec_external_url(const struct tmpl_exec_state *st);

/* Compile-and-check a Go (RE2) regexp as match/reReplaceAll would; 0 or -1 with Go's words in
 * msg. */
int tmpl_regexp_check(const char *pattern, char *msg, size_t msglen);

/* Append rune r as UTF-8; a surrogate or a value past U+10FFFF becomes U+FFFD, as Go writes it. */
int tmpl_put_rune(uint32_t r, struct lw_buf *out);

#endif
