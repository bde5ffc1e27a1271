/*
 * api_ops.h — the operator endpoints of the running agent: silences (list, add, expire) and
 * failover episodes (list, start, end by hand), as JSON over the agent's HTTP endpoint. The CLI
 * commands `lagwatch silence ...` and `lagwatch failover ...` are clients of these.
 *
 *   GET    /api/v1/silences                  -> [{"id","matchers","startsAt","endsAt",
 *                                                "createdBy","comment","status"}]
 *   POST   /api/v1/silences                  <- {"matchers":[...],"startsAt"?,"endsAt"?|
 *                                                "duration"?,"createdBy","comment"}
 *                                            -> {"silenceID": "..."}
 *   DELETE /api/v1/silences/ID               -> expire
 *   GET    /api/v1/failover                  -> [{"cluster","phase","startedAt",...}]
 *   POST   /api/v1/failover/CLUSTER/start|end
 */
#ifndef LAGWATCH_API_OPS_H
#define LAGWATCH_API_OPS_H

#include <stdint.h>

#include "lagwatch/failover.h"
#include "lagwatch/httpd.h"
#include "lagwatch/suppress.h"

struct api_ops {
    struct silences *silences;
    struct failover *failover;
    int64_t (*now_ms)(void *ud);
    /* Called after a change so the agent persists it ("silences" or "failover"). */
    void (*changed)(void *ud, const char *what);
    void *ud;
};

/* Register the routes on h; ops must outlive the server. */
LW_MUST_CHECK int api_ops_register(struct httpd *h, struct api_ops *ops);

/* The handlers, exposed for tests (they only touch ops and the reply). */
int api_ops_silences(void *ud, const struct httpd_request *req, struct httpd_reply *reply);
int api_ops_failover(void *ud, const struct httpd_request *req, struct httpd_reply *reply);

#endif
