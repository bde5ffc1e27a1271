/* test_sched.c — periodic jobs: grid alignment, stable phases, spreading, no bursts after a
 * stall. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>

#include "lagwatch/sched.h"

static void count(void *ud, int64_t now_ms)
{
    (void)now_ms;
    (*(int *)ud)++;
}

static void test_phase_is_a_pure_function_of_name_and_interval(void **state)
{
    (void)state;
    assert_int_equal(sched_phase_ms("orders/cloudwatch", 60000),
                     sched_phase_ms("orders/cloudwatch", 60000));
    int64_t p = sched_phase_ms("orders/cloudwatch", 60000);
    assert_true(p >= 0 && p < 60000);
}

static void test_jobs_with_same_interval_are_spread_over_it(void **state)
{
    (void)state;
    int buckets[10] = {0};
    char name[32];
    for (int i = 0; i < 1000; i++) {
        snprintf(name, sizeof name, "pipeline-%d/exporter", i);
        buckets[sched_phase_ms(name, 15000) / 1500]++;
    }
    for (int i = 0; i < 10; i++)
        assert_true(buckets[i] > 50 && buckets[i] < 150);
}

static void test_job_runs_on_its_grid_once_per_interval(void **state)
{
    (void)state;
    struct sched s;
    sched_init(&s);
    int n = 0;
    int idx = sched_add(&s, "job", 1000, count, &n, 100000);
    assert_true(idx >= 0);
    int64_t first = s.jobs[idx].next_ms;
    assert_true(first >= 100000 && first < 101000);
    assert_int_equal((first - s.jobs[idx].phase_ms) % 1000, 0);
    assert_int_equal(sched_run_due(&s, first - 1), 0);
    assert_int_equal(sched_next_in_ms(&s, first - 1), 1);
    assert_int_equal(sched_run_due(&s, first), 1);
    assert_int_equal(sched_run_due(&s, first), 0);
    assert_int_equal(s.jobs[idx].next_ms, first + 1000);
    assert_int_equal(sched_run_due(&s, first + 1000), 1);
    assert_int_equal(n, 2);
    sched_cleanup(&s);
}

static void test_stalled_loop_skips_missed_runs_instead_of_bursting(void **state)
{
    (void)state;
    struct sched s;
    sched_init(&s);
    int n = 0;
    int idx = sched_add(&s, "job", 1000, count, &n, 0);
    int64_t first = s.jobs[idx].next_ms;
    assert_int_equal(sched_run_due(&s, first + 5500), 1);
    assert_int_equal(n, 1);
    assert_int_equal(s.jobs[idx].overruns, 5);
    assert_int_equal(s.jobs[idx].next_ms, first + 6000);
    sched_cleanup(&s);
}

static void test_no_jobs_means_no_timer(void **state)
{
    (void)state;
    struct sched s;
    sched_init(&s);
    assert_int_equal(sched_next_in_ms(&s, 5), -1);
    int n = 0;
    assert_int_equal(sched_add(&s, "bad", 0, count, &n, 0), -1);
    sched_cleanup(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_phase_is_a_pure_function_of_name_and_interval),
        cmocka_unit_test(test_jobs_with_same_interval_are_spread_over_it),
        cmocka_unit_test(test_job_runs_on_its_grid_once_per_interval),
        cmocka_unit_test(test_stalled_loop_skips_missed_runs_instead_of_bursting),
        cmocka_unit_test(test_no_jobs_means_no_timer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
