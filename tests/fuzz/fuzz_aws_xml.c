/*
 * fuzz_aws_xml.c — libFuzzer target for the XML lagwatch reads from AWS: the RDS
 * DescribeDBClusters and DescribeEvents answers and Query-protocol error bodies. Any input ends
 * in a result or an error with a message; members and events always carry their identifiers.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lagwatch/aws.h"
#include "lagwatch/rds.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct lw_err err = {0};
    struct rds_clusters cs;
    if (rds_parse_clusters((const char *)data, size, &cs, &err) == 0) {
        for (size_t i = 0; i < cs.n; i++) {
            if (cs.v[i].id == NULL)
                abort();
            for (size_t m = 0; m < cs.v[i].n_members; m++)
                if (cs.v[i].members[m].instance_id == NULL)
                    abort();
            (void)rds_cluster_writer(&cs.v[i]);
        }
        rds_clusters_cleanup(&cs);
    } else if (err.msg[0] == '\0') {
        abort();
    }
    struct rds_events es;
    memset(&err, 0, sizeof err);
    if (rds_parse_events((const char *)data, size, &es, &err) == 0) {
        for (size_t i = 0; i < es.n; i++)
            if (es.v[i].source_id == NULL || es.v[i].message == NULL)
                abort();
        rds_events_cleanup(&es);
    } else if (err.msg[0] == '\0') {
        abort();
    }
    char *body = malloc(size + 1);
    if (body == NULL)
        return 0;
    memcpy(body, data, size);
    body[size] = '\0';
    struct http_response resp = {.status = 403, .body = body, .body_len = size};
    struct aws_error e;
    aws_parse_error(&resp, &e);
    free(body);
    return 0;
}
