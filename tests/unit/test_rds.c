/* test_rds.c — RDS over the Query protocol: the form bodies (RDS list naming, escaping), the
 * DescribeDBClusters and DescribeEvents answers (members, writer, Marker, dates, categories),
 * malformed or foreign XML as errors with a position, and Marker pagination end to end against
 * the scripted server. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lagwatch/aws.h"
#include "lagwatch/creds.h"
#include "lagwatch/http.h"
#include "lagwatch/rds.h"
#include "lagwatch/sched.h"
#include "rawsrv.h"
#include "testsupport.h"

static char *fixture(const char *name, size_t *len)
{
    char path[512];
    char *s = ts_read_file(ts_fixture_path(path, sizeof path, name), len);
    assert_non_null(s);
    return s;
}

static void test_describe_clusters_body_escapes_the_identifier(void **state)
{
    (void)state;
    struct lw_buf b;
    lw_buf_init(&b, 4096);
    struct lw_err err = {0};
    assert_int_equal(rds_build_describe_clusters("a b&c", "m/1", &b, &err), 0);
    assert_string_equal(lw_buf_str(&b), "Action=DescribeDBClusters&Version=2014-10-31"
                                        "&DBClusterIdentifier=a%20b%26c&Marker=m%2F1");
    lw_buf_cleanup(&b);
}

static void test_describe_events_body_uses_rds_list_naming(void **state)
{
    (void)state;
    struct lw_buf b;
    lw_buf_init(&b, 4096);
    struct lw_err err = {0};
    assert_int_equal(rds_build_describe_events(NULL, 1795876200, NULL, &b, &err), 0);
    assert_string_equal(lw_buf_str(&b), "Action=DescribeEvents&Version=2014-10-31"
                                        "&SourceType=db-cluster"
                                        "&EventCategories.EventCategory.1=failover"
                                        "&StartTime=2026-11-28T14%3A30%3A00Z");
    lw_buf_cleanup(&b);
}

static void test_clusters_answer_gives_members_writer_and_marker(void **state)
{
    (void)state;
    size_t len;
    char *xml = fixture("rds/describe_db_clusters.xml", &len);
    struct rds_clusters cs;
    struct lw_err err = {0};
    assert_int_equal(rds_parse_clusters(xml, len, &cs, &err), 0);
    assert_int_equal(cs.n, 1);
    assert_string_equal(cs.v[0].id, "orders-aurora");
    assert_string_equal(cs.v[0].status, "available");
    assert_string_equal(cs.v[0].engine, "aurora-mysql");
    assert_int_equal(cs.v[0].n_members, 3);
    assert_string_equal(rds_cluster_writer(&cs.v[0]), "orders-2");
    assert_string_equal(cs.marker, "next-page");
    rds_clusters_cleanup(&cs);
    free(xml);
}

static void test_events_answer_gives_messages_dates_and_categories(void **state)
{
    (void)state;
    size_t len;
    char *xml = fixture("rds/describe_events.xml", &len);
    struct rds_events es;
    struct lw_err err = {0};
    assert_int_equal(rds_parse_events(xml, len, &es, &err), 0);
    assert_int_equal(es.n, 2);
    assert_string_equal(es.v[0].source_id, "orders-aurora");
    assert_string_equal(es.v[0].source_type, "db-cluster");
    assert_string_equal(es.v[0].message, "Started cross AZ failover to DB instance: orders-1");
    assert_int_equal(es.v[0].t_ms, 1795876200123LL);
    assert_string_equal(es.v[1].categories, "failover,notification");
    assert_null(es.marker);
    rds_events_cleanup(&es);
    free(xml);
}

static void test_malformed_and_foreign_xml_are_errors_with_a_position(void **state)
{
    (void)state;
    struct rds_clusters cs;
    struct lw_err err = {0};
    const char *cut = "<DescribeDBClustersResponse>\n<DescribeDBClustersResult><DBClusters>";
    assert_int_equal(rds_parse_clusters(cut, strlen(cut), &cs, &err), -1);
    assert_non_null(strstr(err.msg, "not well-formed XML"));
    assert_true(err.line >= 2);
    const char *foreign = "<ErrorResponse><Error><Code>X</Code></Error></ErrorResponse>";
    assert_int_equal(rds_parse_clusters(foreign, strlen(foreign), &cs, &err), -1);
    assert_non_null(strstr(err.msg, "expected <DescribeDBClustersResponse>"));
    const char *nomember =
        "<DescribeDBClustersResponse><DescribeDBClustersResult><DBClusters><DBCluster>"
        "<DBClusterIdentifier>c</DBClusterIdentifier><DBClusterMembers><DBClusterMember>"
        "<IsClusterWriter>true</IsClusterWriter></DBClusterMember></DBClusterMembers>"
        "</DBCluster></DBClusters></DescribeDBClustersResult></DescribeDBClustersResponse>";
    assert_int_equal(rds_parse_clusters(nomember, strlen(nomember), &cs, &err), -1);
    assert_non_null(strstr(err.msg, "without DBInstanceIdentifier"));
    struct rds_events es;
    const char *baddate =
        "<DescribeEventsResponse><DescribeEventsResult><Events><Event><SourceIdentifier>c"
        "</SourceIdentifier><Message>m</Message><Date>soon</Date></Event></Events>"
        "</DescribeEventsResult></DescribeEventsResponse>";
    assert_int_equal(rds_parse_events(baddate, strlen(baddate), &es, &err), -1);
    /* An entity-expansion bomb is not expanded (libxml2 without NOENT). */
    const char *bomb = "<?xml version=\"1.0\"?><!DOCTYPE d [<!ENTITY a \"aaaaaaaaaa\">"
                       "<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">]>"
                       "<DescribeEventsResponse><DescribeEventsResult><Events/>"
                       "</DescribeEventsResult></DescribeEventsResponse>";
    assert_int_equal(rds_parse_events(bomb, strlen(bomb), &es, &err), 0);
    assert_int_equal(es.n, 0);
    rds_events_cleanup(&es);
}

struct got {
    int calls;
    size_t n;
    char writer[64];
    char error[1024];
};

static void on_clusters(void *ud, const struct rds_clusters *cs, const char *error)
{
    struct got *g = ud;
    g->calls++;
    snprintf(g->error, sizeof g->error, "%s", error ? error : "");
    if (cs) {
        g->n = cs->n;
        const char *w = cs->n ? rds_cluster_writer(&cs->v[cs->n - 1]) : NULL;
        snprintf(g->writer, sizeof g->writer, "%s", w ? w : "");
    }
}

static void test_marker_pages_are_followed_into_one_answer(void **state)
{
    (void)state;
    size_t len;
    char *page1 = fixture("rds/describe_db_clusters.xml", &len);
    const char *page2 =
        "<DescribeDBClustersResponse><DescribeDBClustersResult><DBClusters><DBCluster>"
        "<DBClusterIdentifier>orders-aurora</DBClusterIdentifier><Status>failing-over</Status>"
        "<DBClusterMembers><DBClusterMember><DBInstanceIdentifier>orders-1"
        "</DBInstanceIdentifier><IsClusterWriter>true</IsClusterWriter></DBClusterMember>"
        "</DBClusterMembers></DBCluster></DBClusters></DescribeDBClustersResult>"
        "</DescribeDBClustersResponse>";
    struct ts_canned script[] = {
        {.status = 200, .body = page1, .body_len = len, .content_length = -1},
        {.status = 200, .body = page2, .content_length = -1}};
    struct ts_rawsrv *srv = ts_rawsrv_start(script, 2);
    struct lw_err err = {0};
    struct http_client *h = http_client_new(NULL, &err);
    struct creds_provider *cp = creds_static_new("AKIDEXAMPLE", "secret", NULL);
    struct aws_client_options ao = {.http = h, .creds = cp};
    struct aws_client *aws = aws_client_new(&ao, &err);
    char url[128];
    struct rds_target t = {aws, ts_rawsrv_url(srv, "/", url, sizeof url), "us-east-1"};
    struct got g = {0};
    assert_int_equal(rds_describe_cluster(&t, "orders-aurora", on_clusters, &g, &err), 0);
    int64_t end = lw_mono_ms() + 10000;
    while (g.calls == 0 && lw_mono_ms() < end)
        assert_int_equal(http_client_poll(h, 50), 0);
    assert_int_equal(g.calls, 1);
    assert_string_equal(g.error, "");
    assert_int_equal(g.n, 2);
    assert_string_equal(g.writer, "orders-1");
    assert_non_null(strstr(ts_rawsrv_request(srv, 1), "Marker=next-page"));
    assert_non_null(strstr(ts_rawsrv_request(srv, 0), "/us-east-1/rds/aws4_request"));
    aws_client_free(aws);
    http_client_free(h);
    creds_provider_free(cp);
    ts_rawsrv_stop(srv);
    free(page1);
}

static void test_access_denied_reaches_the_callback_with_the_action(void **state)
{
    (void)state;
    struct ts_canned script[] = {
        {.status = 403,
         .body = "<ErrorResponse><Error><Code>AccessDenied</Code><Message>User x is not "
                 "authorized to perform rds:DescribeDBClusters</Message></Error></ErrorResponse>",
         .content_length = -1}};
    struct ts_rawsrv *srv = ts_rawsrv_start(script, 1);
    struct lw_err err = {0};
    struct http_client *h = http_client_new(NULL, &err);
    struct creds_provider *cp = creds_static_new("AKIDEXAMPLE", "secret", NULL);
    struct aws_client_options ao = {.http = h, .creds = cp};
    struct aws_client *aws = aws_client_new(&ao, &err);
    char url[128];
    struct rds_target t = {aws, ts_rawsrv_url(srv, "/", url, sizeof url), "us-east-1"};
    struct got g = {0};
    assert_int_equal(rds_describe_cluster(&t, "c", on_clusters, &g, &err), 0);
    int64_t end = lw_mono_ms() + 10000;
    while (g.calls == 0 && lw_mono_ms() < end)
        assert_int_equal(http_client_poll(h, 50), 0);
    assert_non_null(strstr(g.error, "not allowed rds:DescribeDBClusters"));
    aws_client_free(aws);
    http_client_free(h);
    creds_provider_free(cp);
    ts_rawsrv_stop(srv);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_describe_clusters_body_escapes_the_identifier),
        cmocka_unit_test(test_describe_events_body_uses_rds_list_naming),
        cmocka_unit_test(test_clusters_answer_gives_members_writer_and_marker),
        cmocka_unit_test(test_events_answer_gives_messages_dates_and_categories),
        cmocka_unit_test(test_malformed_and_foreign_xml_are_errors_with_a_position),
        cmocka_unit_test(test_marker_pages_are_followed_into_one_answer),
        cmocka_unit_test(test_access_denied_reaches_the_callback_with_the_action),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
