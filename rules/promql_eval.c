/*
 * promql_eval.c — evaluation of a parsed PromQL expression against the sample store.
 */
#include "promql_int.h"

#include <stdlib.h>
#include <string.h>

int promql_eval_instant(const struct promql_expr *e, const struct store *st, int64_t t_ms,
                        const struct promql_eval_opts *o, struct promql_value *out,
                        struct lw_err *err)
{
    (void)e, (void)st, (void)t_ms, (void)o, (void)out;
    return lw_err_set(err, 0, 0, "evaluation not implemented yet");
}

int promql_eval_range(const struct promql_expr *e, const struct store *st, int64_t start_ms,
                      int64_t end_ms, int64_t step_ms, const struct promql_eval_opts *o,
                      struct promql_value *out, struct lw_err *err)
{
    (void)e, (void)st, (void)start_ms, (void)end_ms, (void)step_ms, (void)o, (void)out;
    return lw_err_set(err, 0, 0, "evaluation not implemented yet");
}

void promql_value_cleanup(struct promql_value *v)
{
    if (v == NULL)
        return;
    free(v->string);
    for (size_t i = 0; i < v->n_vec; i++)
        lw_labels_cleanup(&v->vec[i].labels);
    free(v->vec);
    for (size_t i = 0; i < v->n_mat; i++) {
        lw_labels_cleanup(&v->mat[i].labels);
        free(v->mat[i].samples);
    }
    free(v->mat);
    memset(v, 0, sizeof *v);
}
