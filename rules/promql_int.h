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

/* Append s as Go's %q writes it for ASCII: quotes, backslashes and control bytes escaped. */
void pq_go_quote(struct lw_buf *b, const char *s);

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
    PQ_OP_ATAN2,
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

/* ---- values during evaluation ---- */

struct store_sample;

/* One element of an instant vector. t is the sample's own timestamp straight out of a selector
 * (timestamp() needs it) and the evaluation time after any operation. drop marks a __name__ that
 * is to be removed when the value leaves the evaluator (Prometheus 3's delayed name removal, so
 * label_replace can still read it). */
struct pq_el {
    struct lw_labels ls;
    int64_t t;
    double v;
    bool drop;
};

struct pq_vec {
    struct pq_el *v;
    size_t n, cap;
};

struct pq_ser {
    struct lw_labels ls;
    struct store_sample *s;
    size_t n, cap;
    bool drop;
};

struct pq_mat {
    struct pq_ser *v;
    size_t n, cap;
};

struct pq_val {
    enum promql_type type;
    double scalar;
    char *str;
    struct pq_vec vec;
    struct pq_mat mat;
    /* matrices: the window (range_start, range_end] the samples were taken from */
    int64_t range_start, range_end, range_ms;
};

struct pq_eval {
    const struct store *st;
    int64_t lookback_ms;
    int64_t start_ms, end_ms; /* of the query, for @ start() / @ end() */
    size_t n_samples;         /* samples loaded from the store so far (bounded) */
    struct lw_err *err;
};

/* What a function implementation gets: its evaluated arguments and the value to fill (out->type
 * is preset to the function's return type). */
struct pq_fnctx {
    struct pq_eval *ev;
    const struct promql_expr *call;
    struct pq_val *args;
    int64_t t;
    struct pq_val *out;
};

/* Record an evaluation error (Prometheus's wording); returns -1. */
int pq_fail(struct pq_eval *ev, const char *fmt, ...) LW_PRINTF(2, 3);

/* Append an element to v; the labels are copied (take=false) or moved (take=true, *ls is left
 * empty). Returns 0 or -1 (out of memory, recorded in ev). */
int pq_vec_push(struct pq_eval *ev, struct pq_vec *v, struct lw_labels *ls, bool take, int64_t t,
                double val, bool drop);
void pq_vec_cleanup(struct pq_vec *v);
void pq_mat_cleanup(struct pq_mat *m);
void pq_val_cleanup(struct pq_val *v);

/* Neumaier-compensated summation step as Prometheus's kahanSumInc. */
double pq_kahan_inc(double inc, double sum, double *c);

/* Prometheus's quantile over values[0..n) (sorted in place; NaN first): NaN for n == 0 or q NaN,
 * -Inf for q < 0, +Inf for q > 1. */
double pq_quantile(double q, double *values, size_t n);

/* Mean as Prometheus computes avg and avg_over_time: compensated sum, switching to an
 * incremental mean when the sum would overflow. */
struct pq_mean {
    double sum, c, mean, count;
    bool incremental;
};
void pq_mean_add(struct pq_mean *m, double v);
double pq_mean_result(const struct pq_mean *m);

/* ---- functions ---- */

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
