/*
 * sched.c — fixed-phase periodic jobs; see sched.h. A few hundred jobs at most (one per source
 * and rule group), so a linear scan per loop iteration is simpler than a heap and costs
 * microseconds. It does not run anything concurrently: a job that takes long delays the jobs
 * after it, which is why jobs only start work (submit requests, evaluate) and return.
 */
#include "lagwatch/sched.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t lw_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t lw_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void sched_init(struct sched *s)
{
    memset(s, 0, sizeof *s);
}

void sched_cleanup(struct sched *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->jobs[i].name);
    free(s->jobs);
    memset(s, 0, sizeof *s);
}

int64_t sched_phase_ms(const char *name, int64_t interval_ms)
{
    uint64_t h = 1469598103934665603ULL;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        h ^= *p;
        h *= 1099511628211ULL;
    }
    return interval_ms > 0 ? (int64_t)(h % (uint64_t)interval_ms) : 0;
}

/* The first grid point (k * interval + phase) strictly after t, or at t when inclusive. */
static int64_t next_grid(int64_t t, int64_t interval, int64_t phase, int inclusive)
{
    int64_t base = t - phase;
    int64_t k = base / interval;
    if (base < 0 && base % interval != 0)
        k--; /* floor division for negative offsets */
    int64_t g = k * interval + phase;
    if (g < t || (!inclusive && g == t))
        g += interval;
    return g;
}

int sched_add(struct sched *s, const char *name, int64_t interval_ms,
              void (*fn)(void *ud, int64_t now_ms), void *ud, int64_t now_ms)
{
    if (interval_ms <= 0 || fn == NULL)
        return -1;
    if (s->n == s->cap) {
        size_t ncap = s->cap ? s->cap * 2 : 16;
        struct sched_job *p = realloc(s->jobs, ncap * sizeof *p);
        if (p == NULL)
            return -1;
        s->jobs = p;
        s->cap = ncap;
    }
    char *copy = strdup(name);
    if (copy == NULL)
        return -1;
    struct sched_job *j = &s->jobs[s->n];
    memset(j, 0, sizeof *j);
    j->name = copy;
    j->interval_ms = interval_ms;
    j->phase_ms = sched_phase_ms(name, interval_ms);
    j->next_ms = next_grid(now_ms, interval_ms, j->phase_ms, 1);
    j->last_ms = -1;
    j->fn = fn;
    j->ud = ud;
    return (int)s->n++;
}

int64_t sched_next_in_ms(const struct sched *s, int64_t now_ms)
{
    int64_t best = -1;
    for (size_t i = 0; i < s->n; i++) {
        int64_t d = s->jobs[i].next_ms - now_ms;
        if (d < 0)
            d = 0;
        if (best < 0 || d < best)
            best = d;
    }
    return best;
}

size_t sched_run_due(struct sched *s, int64_t now_ms)
{
    size_t ran = 0;
    /* Index loop: a job may add jobs (s->jobs may move), so never keep a pointer across fn. */
    for (size_t i = 0; i < s->n; i++) {
        if (s->jobs[i].next_ms > now_ms)
            continue;
        int64_t due = s->jobs[i].next_ms;
        int64_t next = next_grid(now_ms, s->jobs[i].interval_ms, s->jobs[i].phase_ms, 0);
        int64_t missed = (next - due) / s->jobs[i].interval_ms - 1;
        if (missed > 0)
            s->jobs[i].overruns += (uint64_t)missed;
        s->jobs[i].next_ms = next;
        s->jobs[i].last_ms = now_ms;
        s->jobs[i].runs++;
        void (*fn)(void *, int64_t) = s->jobs[i].fn;
        void *ud = s->jobs[i].ud;
        fn(ud, now_ms);
        ran++;
    }
    return ran;
}
