/*
 * promql_int.h — what the PromQL files share and nothing outside rules/promql_*.c sees: tokens
 * of the lexer, the expression tree the parser builds, and the function table. One node struct
 * for every kind keeps the tree easy to walk; each kind uses the fields listed next to it.
 */
#ifndef LAGWATCH_PROMQL_INT_H
#define LAGWATCH_PROMQL_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lagwatch/error.h"
#include "lagwatch/matcher.h"
#include "lagwatch/promql.h"

/* ---- lexer ---- */

enum pq_tok {
    PQ_T_EOF,
    PQ_T_IDENT,    /* [a-zA-Z_][a-zA-Z0-9_]* (keywords too; the parser tells them apart) */
    PQ_T_METRIC,   /* an identifier containing ':' (only a metric name) */
    PQ_T_NUMBER,   /* 1, 1.5, 1e3, 0x1f, .5 */
    PQ_T_DURATION, /* 5m, 1h30m (also usable as a number of seconds) */
    PQ_T_STRING,   /* "..", '..', `..` */
    PQ_T_LPAREN,
    PQ_T_RPAREN,
    PQ_T_LBRACE,
    PQ_T_RBRACE,
    PQ_T_LBRACK,
    PQ_T_RBRACK,
    PQ_T_COMMA,
    PQ_T_COLON,
    PQ_T_AT,
    PQ_T_ASSIGN, /* = */
    PQ_T_EQLC,   /* == */
    PQ_T_NEQ,    /* != */
    PQ_T_LSS,
    PQ_T_LTE,
    PQ_T_GTR,
    PQ_T_GTE,
    PQ_T_RE,  /* =~ */
    PQ_T_NRE, /* !~ */
    PQ_T_ADD,
    PQ_T_SUB,
    PQ_T_MUL,
    PQ_T_DIV,
    PQ_T_MOD,
    PQ_T_POW,
};

struct pq_token {
    enum pq_tok kind;
    size_t off, len; /* bytes of the source */
    double num;      /* NUMBER: value; DURATION: seconds */
    int64_t dur_ms;  /* DURATION: milliseconds */
};

struct pq_lexer {
    const char *src;
    size_t len;
    size_t pos;
};

/* Scan the next token from lx->pos, skipping blanks and # comments. -1 with err (position set)
 * on a bad character, unterminated string or malformed number. */
int pq_lex_next(struct pq_lexer *lx, struct pq_token *tok, struct lw_err *err);

/* Decode the string token tok (quotes and Go escapes) into a new heap string. */
int pq_lex_unquote(const struct pq_lexer *lx, const struct pq_token *tok, char **out,
                   struct lw_err *err);

/* 1-based line and column of byte offset off in src. */
void pq_pos(const char *src, size_t len, size_t off, int *line, int *col);

/* ---- tree ---- */

enum pq_kind {
    PQ_NUM,   /* num */
    PQ_STR,   /* str */
    PQ_VSEL,  /* name (may be NULL), ms/n_ms, offset_ms, at_* */
    PQ_MSEL,  /* a: the PQ_VSEL (which holds offset and @), range_ms */
    PQ_SUBQ,  /* a, range_ms, step_ms (0 = default), offset_ms, at_* */
    PQ_PAREN, /* a */
    PQ_UNARY, /* op (ADD or SUB), a */
    PQ_BIN,   /* op, a (lhs), b (rhs), ret_bool, matching */
    PQ_AGG,   /* agg, a (expr), param (topk/bottomk/quantile), grouping */
    PQ_CALL,  /* fn, args */
};

enum pq_binop {
    PQ_OP_ADD,
    PQ_OP_SUB,
    PQ_OP_MUL,
    PQ_OP_DIV,
    PQ_OP_MOD,
    PQ_OP_POW,
    PQ_OP_EQ,
    PQ_OP_NE,
    PQ_OP_GT,
    PQ_OP_LT,
    PQ_OP_GE,
    PQ_OP_LE,
    PQ_OP_AND,
    PQ_OP_OR,
    PQ_OP_UNLESS,
};

enum pq_agg {
    PQ_AGG_SUM,
    PQ_AGG_MIN,
    PQ_AGG_MAX,
    PQ_AGG_AVG,
    PQ_AGG_COUNT,
    PQ_AGG_STDDEV,
    PQ_AGG_STDVAR,
    PQ_AGG_TOPK,
    PQ_AGG_BOTTOMK,
    PQ_AGG_QUANTILE,
};

enum pq_card { PQ_CARD_ONE_TO_ONE, PQ_CARD_MANY_TO_ONE, PQ_CARD_ONE_TO_MANY, PQ_CARD_MANY_TO_MANY };

enum pq_at { PQ_AT_NONE, PQ_AT_TS, PQ_AT_START, PQ_AT_END };

struct pq_strs {
    char **v;
    size_t n;
};

struct pq_func;

struct promql_expr {
    enum pq_kind kind;
    enum promql_type type;
    size_t off; /* byte offset of the node's first token, for messages */
    double num;
    char *str;
    /* selectors */
    char *name;
    struct lw_matcher *ms;
    size_t n_ms;
    int64_t offset_ms;
    enum pq_at at;
    int64_t at_ms;
    int64_t range_ms;
    int64_t step_ms;
    /* operators */
    int op; /* enum pq_binop, or PQ_OP_ADD / PQ_OP_SUB for unary */
    bool ret_bool;
    enum pq_card card;
    bool on;           /* on(...) rather than ignoring(...) */
    bool has_matching; /* on/ignoring written (for printing) */
    struct pq_strs mlabels;
    struct pq_strs include;
    /* aggregation */
    enum pq_agg agg;
    bool without;
    struct pq_strs grouping;
    struct promql_expr *param;
    /* call */
    const struct pq_func *fn;
    struct promql_expr **args;
    size_t n_args;
    /* children */
    struct promql_expr *a, *b;
};

/* ---- functions ---- */

struct pq_eval;
struct pq_fnctx;

typedef int (*pq_func_impl)(struct pq_fnctx *c);

struct pq_func {
    const char *name;
    enum promql_type args[6];
    int n_args;   /* fixed arguments */
    int variadic; /* 0: exactly n_args; >0: up to that many more of the last type; -1: unbounded */
    enum promql_type ret;
    bool keeps_name; /* result keeps __name__ (last_over_time, sort, label_*) */
    pq_func_impl impl;
};

/* The function called name, or NULL. */
const struct pq_func *pq_func_lookup(const char *name);

/* Whether name is a Prometheus function lagwatch does not evaluate (for "unsupported:"). */
bool pq_func_is_prometheus(const char *name);

const char *pq_type_name(enum promql_type t);

/* v as Go's fmt %v prints a float64 ("1e+21", "0.001", "+Inf", "NaN") into out. */
void pq_format_float(double v, char *out, size_t n);
const char *pq_binop_str(int op);
const char *pq_agg_str(enum pq_agg a);

#endif
