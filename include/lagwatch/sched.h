/*
 * sched.h — the agent's periodic jobs (each source, each rule group) on a monotonic clock. Each
 * job has an interval and a fixed phase derived from its name, so a hundred pipelines with the
 * same interval are spread across it instead of firing at the same millisecond, and the phase
 * is the same on every restart and every replica (as Prometheus offsets rule groups). Pure:
 * the caller passes the time in and runs what comes due.
 */
#ifndef LAGWATCH_SCHED_H
#define LAGWATCH_SCHED_H

#include <stddef.h>
#include <stdint.h>

#include "lagwatch/error.h"

/* Milliseconds of CLOCK_MONOTONIC (for timers) and of the wall clock (for dates). */
int64_t lw_mono_ms(void);
int64_t lw_wall_ms(void);

struct sched_job {
    char *name;
    int64_t interval_ms;
    int64_t phase_ms;  /* in [0, interval_ms) */
    int64_t next_ms;   /* monotonic time of the next run */
    int64_t last_ms;   /* when it last ran; -1 never */
    uint64_t runs;     /* how many times it came due */
    uint64_t overruns; /* due times skipped because the previous run was late */
    void (*fn)(void *ud, int64_t now_ms);
    void *ud;
};

struct sched {
    struct sched_job *jobs;
    size_t n, cap;
};

void sched_init(struct sched *s);
void sched_cleanup(struct sched *s);

/* The phase a job named name gets for interval_ms (FNV-1a of the name, modulo the interval). */
int64_t sched_phase_ms(const char *name, int64_t interval_ms);

/*
 * Add a job. Its first run is the first point at or after now_ms that is phase_ms past a
 * multiple of interval_ms (so jobs line up on a grid, not on start time). interval_ms must be
 * > 0. Returns the job's index, or -1 (out of memory, bad interval).
 */
LW_MUST_CHECK int sched_add(struct sched *s, const char *name, int64_t interval_ms,
                            void (*fn)(void *ud, int64_t now_ms), void *ud, int64_t now_ms);

/* Milliseconds until the next job is due (0 if one is due now; -1 if there are no jobs). */
int64_t sched_next_in_ms(const struct sched *s, int64_t now_ms);

/*
 * Run every job due at now_ms, once each, and move it to its next grid point after now_ms; when
 * a job is so late that grid points were missed, they are skipped (and counted in overruns), not
 * run in a burst. Returns how many jobs ran.
 */
size_t sched_run_due(struct sched *s, int64_t now_ms);

#endif
