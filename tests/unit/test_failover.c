/* test_failover.c — failover episodes: what starts and ends one, the hold, persistence. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lagwatch/failover.h"

#define M 60000LL

static void test_rds_events_start_and_end_an_episode_then_hold(void **state)
{
    (void)state;
    struct failover *f = failover_new(10 * M);
    assert_false(failover_held(f, "orders", 0));
    assert_int_equal(failover_observe_event(f, "orders",
                                            "Started cross AZ failover to DB instance: orders-2",
                                            1 * M, 2 * M),
                     1);
    assert_true(failover_held(f, "orders", 2 * M));
    assert_false(failover_held(f, "billing", 2 * M));
    assert_int_equal(failover_observe_event(
                         f, "orders", "Completed failover to DB instance: orders-2", 3 * M, 4 * M),
                     1);
    assert_true(failover_held(f, "orders", 12 * M)); /* hold runs 10m from the end */
    assert_false(failover_held(f, "orders", 13 * M));
    assert_int_equal(failover_tick(f, 13 * M), 1);
    assert_int_equal(failover_at(f, 0)->phase, FAILOVER_NONE);
    assert_int_equal(failover_at(f, 0)->episodes, 1);
    failover_free(f);
}

static void test_failed_failover_also_ends_the_episode(void **state)
{
    (void)state;
    struct failover *f = failover_new(0);
    assert_int_equal(
        failover_observe_event(f, "c", "Started same AZ failover to DB instance: x", 0, 0), 1);
    assert_int_equal(failover_observe_event(f, "c",
                                            "Cluster failover failed, check the health of your "
                                            "cluster instances and try again",
                                            M, M),
                     1);
    assert_false(failover_held(f, "c", M));
    failover_free(f);
}

static void test_status_and_writer_change_between_polls(void **state)
{
    (void)state;
    struct failover *f = failover_new(5 * M);
    assert_int_equal(failover_observe_cluster(f, "c", "available", "w1", 0), 0);
    assert_int_equal(failover_observe_cluster(f, "c", "failing-over", "w1", M), 1);
    assert_true(failover_held(f, "c", M));
    assert_int_equal(failover_observe_cluster(f, "c", "available", "w2", 2 * M), 1);
    assert_true(failover_held(f, "c", 6 * M));
    assert_false(failover_held(f, "c", 7 * M));
    failover_tick(f, 7 * M);
    /* a writer change seen only between two polls is an episode that already ended */
    assert_int_equal(failover_observe_cluster(f, "c", "available", "w3", 10 * M), 1);
    assert_true(failover_held(f, "c", 10 * M));
    assert_int_equal(failover_at(f, 0)->phase, FAILOVER_HOLD);
    assert_non_null(strstr(failover_at(f, 0)->reason, "w2 to w3"));
    assert_int_equal(failover_at(f, 0)->episodes, 2);
    failover_free(f);
}

static void test_manual_episode_and_persistence(void **state)
{
    (void)state;
    struct failover *f = failover_new(10 * M);
    assert_int_equal(failover_manual(f, "c", true, "alice", 0), 1);
    assert_int_equal(failover_manual(f, "c", true, "alice", M), 0); /* already active */
    char *json = failover_save(f);
    struct failover *g = failover_new(10 * M);
    struct lw_err err = {0};
    assert_int_equal(failover_load(g, json, strlen(json), &err), 0);
    assert_true(failover_held(g, "c", 100 * M));
    assert_non_null(strstr(failover_at(g, 0)->reason, "alice"));
    assert_int_equal(failover_manual(g, "c", false, NULL, 2 * M), 1);
    assert_false(failover_held(g, "c", 12 * M));
    free(json);
    assert_int_equal(failover_load(g, "[]", 2, &err), -1);
    assert_int_equal(failover_count(g), 0);
    const char *bad = "{\"version\":1,\"clusters\":[{\"cluster\":1}]}";
    assert_int_equal(failover_load(g, bad, strlen(bad), &err), -1);
    assert_non_null(strstr(err.msg, "entry 0"));
    failover_free(f);
    failover_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rds_events_start_and_end_an_episode_then_hold),
        cmocka_unit_test(test_failed_failover_also_ends_the_episode),
        cmocka_unit_test(test_status_and_writer_change_between_polls),
        cmocka_unit_test(test_manual_episode_and_persistence),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
