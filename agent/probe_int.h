/*
 * probe_int.h - the probe loop's insides, shared by its two files: probe.c
 * (the loop, scheduling, runs, control, lifecycle) and probe_svc.c (the
 * services check types use: descriptors, timers, libcurl). Nothing outside
 * the probe loop (and its unit test) includes this.
 */
#ifndef OUTPOST_PROBE_INT_H
#define OUTPOST_PROBE_INT_H

#include "probe.h"
#include "scheduler.h"

#include <pthread.h>
#include <stdatomic.h>

#define NO_DEADLINE INT64_MAX
/* The loop's wake-ups fall on multiples of this on its clock (probe.c,
 * wake_at). */
#define PROBE_COALESCE_NS 1000000LL

/* A descriptor in the epoll set and what to do when it is ready. */
struct probe_watch {
    int fd;
    uint32_t events;
    probe_fd_cb cb;
    void *arg;
    bool dead; /* unwatched: freed after the current batch */
    /* Unwatched but still in the epoll set: libcurl closes most sockets
     * right after it stops watching them, and the close takes them out of
     * the set; the batch's end removes those it did not close. */
    bool del_pending;
    struct probe_watch *next_dead;
};

struct probe_timer {
    int64_t due;
    probe_timer_cb cb;
    void *arg;
    bool cancelled; /* freed when its heap entry comes up */
};

/* A libcurl transfer on the multi handle (its CURLOPT_PRIVATE). */
struct easy_rec {
    probe_curl_cb done;
    void *arg;
};

struct check_slot;
struct probe_adhoc;

struct cmd {
    void (*fn)(void *arg);
    void *arg;
    bool done;
    struct cmd *next;
};

/* One run in flight: a scheduled one holds its generation, so a reload
 * cannot free the spec or the sinks under it; an adhoc one (probe_adhoc.c)
 * has neither generation nor slot, and its caller keeps spec alive. */
struct probe_job {
    struct probe_job *prev, *next;
    const struct check_type *type;
    const struct check_spec *spec;   /* borrowed from gen, or from the adhoc caller */
    void *run;                       /* NULL while waiting to retry */
    struct gen *gen;                 /* NULL for an adhoc run */
    size_t idx;                      /* the check's index in gen */
    struct check_slot *slot;         /* NULL for an adhoc run */
    struct probe_adhoc *adhoc;       /* the caller of an adhoc run, else NULL */
    unsigned attempt;                /* retries done */
    int64_t started_ns;              /* the current attempt's actual start */
    int64_t stall0_ns;               /* the loop's stall total at that start */
    struct probe_timer *retry_timer; /* set while waiting to retry */
    struct check_result failed;      /* the last failed attempt (tail dropped) */
};

struct probe_loop {
    const struct clock *clock;
    int epfd, tfd, evfd;
    struct probe_watch *tfd_watch, *evfd_watch;
    CURLM *multi;
    pthread_t thread;
    bool started;
    /* Control from other threads, under lock. */
    pthread_mutex_t lock;
    pthread_cond_t cmd_done;
    struct gen *pending;
    struct cmd *cmds, **cmds_tail;
    bool stop_requested;
    bool accepting;                    /* the thread takes commands */
    struct probe_adhoc *adhoc_pending; /* adhoc runs not started yet, newest first */
    /* Loop thread only. */
    struct gen *gen;
    struct check_slot **slots; /* one per check of gen */
    size_t n_slots;
    struct sched *heap;   /* (due, check index) */
    struct sched *timers; /* (due, timer slot) */
    struct probe_timer **timer_slots;
    uint32_t *timer_free;
    size_t n_timer_slots, n_timer_free;
    int64_t curl_due;
    int64_t armed; /* the deadline the timerfd was set for (it fires at wake_at of it), NO_DEADLINE
                      when none */
    struct probe_job *jobs;
    /* Idle easy handles (probe_easy_give) and job records, reused so a
     * probe allocates neither; at most PROBE_EASY_POOL and JOB_POOL. */
    CURL *easy_pool[PROBE_EASY_POOL];
    size_t n_easy_pool;
    struct probe_job *free_jobs;
    size_t n_free_jobs;
    struct probe_watch *dead;
    const struct probe_once *once; /* one-shot mode (`outpost check`), else NULL */
    bool stopping;
    int64_t stall_ns, stall_mark; /* sched_stall_add's total and mark */
    double load;                  /* sched_load_update's, as of stall_mark */
    /* Read by other threads. */
    atomic_bool running;
    atomic_uint in_flight;
    atomic_uint_fast64_t timer_sets;
    atomic_uint adhoc_in_flight; /* adhoc runs asked for and not yet reported */
    struct rec *lag;
    struct sched_overruns *overruns;
};

/* probe_svc.c, for the loop. Loop thread only. */
/* Clean up the idle easy handles (probe_loop_free). */
void probe_easy_pool_free(struct probe_loop *pl);
/* Free the watches unwatched during the last batch of events (taking out
 * of the epoll set those still in it). */
void probe_free_dead(struct probe_loop *pl);
/* Run (and free) every check-type timer due by now. */
void probe_run_timers(struct probe_loop *pl, int64_t now);
/* Hand every finished transfer back to its type. */
void probe_drain_curl(struct probe_loop *pl);
/* CURLMOPT_SOCKETFUNCTION and CURLMOPT_TIMERFUNCTION; userp is the loop. */
int probe_on_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp);
/* CURLOPT_CLOSESOCKETFUNCTION of every transfer (probe_add_easy); clientp
 * is the loop. */
int probe_on_close(void *clientp, curl_socket_t s);
int probe_on_curl_timer(CURLM *multi, long timeout_ms, void *userp);

/* probe_adhoc.c, for the loop. Loop thread only. */
/* Start the adhoc runs other threads asked for (control_ready). */
void probe_adhoc_start_pending(struct probe_loop *pl);
/* Report "cancelled" for adhoc runs asked for but never started (stop). */
void probe_adhoc_drop_pending(struct probe_loop *pl);
/* The one report of job's adhoc run: res, or NULL when it was cancelled. */
void probe_adhoc_report(struct probe_loop *pl, struct probe_job *job,
                        const struct check_result *res);
/* job_free's part for an adhoc job (before the job itself is freed). */
void probe_adhoc_end(struct probe_loop *pl, struct probe_job *job);

#endif
