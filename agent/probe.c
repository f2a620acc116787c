/* probe.c - the probe loop: scheduling, runs, control, lifecycle (its services
 * to check types are in probe_svc.c). */
#include "probe_int.h"
#include "log.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

const double probe_lag_bounds[] = {0.0001, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5};
const size_t probe_lag_bounds_count = ARRAY_SIZE(probe_lag_bounds);

#define SLOT_GONE SIZE_MAX

/*
 * The loop's own per-check state: when the check is due next and whether a
 * run is in flight. It follows the check's name across generations (so an
 * unchanged check keeps its exact schedule) and is shared with the runs in
 * flight. Loop thread only.
 */
struct check_slot {
    int64_t next_due_ns; /* 0 = not scheduled yet */
    int64_t interval_ns; /* the interval next_due_ns was computed for */
    bool in_flight;
    /* Due at next_due_ns while in flight: off the heap until the run ends. */
    bool waiting;
    size_t idx; /* the check's index in the loop's generation, SLOT_GONE */
    unsigned refs;
};

int64_t probe_now_ns(const struct probe_loop *pl)
{
    return clock_mono_ns(pl->clock);
}

/* ---- the timerfd: the earliest of every deadline ---- */

static int64_t earliest(const struct probe_loop *pl)
{
    int64_t t = pl->curl_due, due;
    uint32_t id;
    if (sched_peek(pl->heap, &due, &id) && due < t)
        t = due;
    if (sched_peek(pl->timers, &due, &id) && due < t)
        t = due;
    return t;
}

/*
 * When the loop wakes for deadline t: at the end of t's cell of
 * PROBE_COALESCE_NS on the loop's clock. Checks due within one cell then
 * start on one wake-up, and their sockets' events tend to come together
 * too: at thousands of probes a second, a wake-up per probe (a timer set,
 * a context switch, epoll_wait, a read) cost as much as a tenth of the
 * probe. A start is late by less than a cell for it.
 */
static int64_t wake_at(int64_t t)
{
    if (t == NO_DEADLINE)
        return t;
    int64_t r = t % PROBE_COALESCE_NS;
    if (r < 0)
        r += PROBE_COALESCE_NS;
    return r ? t - r + PROBE_COALESCE_NS : t;
}

/* Add to the loop's stall total the time its earliest deadline has been
 * overdue past the wake-up planned for it: what the loop owed but could
 * not do (starved of CPU, or busy). */
static void note_stall(struct probe_loop *pl, int64_t now)
{
    int64_t t = wake_at(earliest(pl)), dt = now - pl->stall_mark, stall = 0;
    if (t < now)
        stall = sched_stall_add(t, now, &pl->stall_mark);
    else
        pl->stall_mark = now;
    pl->stall_ns += stall;
    pl->load = sched_load_update(pl->load, dt, stall);
}

/*
 * Set the timerfd for the earliest deadline, lazily: only when that is
 * earlier than what the timerfd holds, or when what it holds has passed
 * (it fired). A deadline that moved later is left armed: the timerfd then
 * fires early, nothing is due, and this sets it once for the real one.
 * libcurl moves its timeout on nearly every call (the connect timeout, then
 * "at once", then the transfer's), so setting the timerfd on every move
 * cost more than one set per probe. Returns true when the earliest deadline
 * is due already: the caller runs it without waiting for the timerfd.
 */
static bool arm(struct probe_loop *pl)
{
    int64_t t = earliest(pl), now = probe_now_ns(pl);
    if (t <= now)
        return true;
    /* `armed` is the deadline itself, not its wake-up: once it passed,
     * all that was due has run (else the line above returned), and the
     * wake-up still pending serves nothing. */
    bool pending = pl->armed != NO_DEADLINE && pl->armed > now;
    if ((pending && pl->armed <= t) || t == NO_DEADLINE)
        return false; /* fires in time, or fires once for nothing */
    /* Relative to the loop's clock, so a fake clock drives it too. */
    int64_t d = wake_at(t) - now;
    struct itimerspec its = {0};
    its.it_value.tv_sec = d / 1000000000;
    its.it_value.tv_nsec = d % 1000000000;
    if (timerfd_settime(pl->tfd, 0, &its, NULL) != 0) {
        /* Not expected with a valid descriptor and value; leave `armed`
         * unchanged so the next pass tries again, and say so. */
        log_error("cannot arm the probe timer", "err", strerror(errno));
        return false;
    }
    pl->armed = t;
    atomic_fetch_add_explicit(&pl->timer_sets, 1, memory_order_relaxed);
    return false;
}

/* ---- runs ---- */

static void slot_release(struct check_slot *s)
{
    if (s && --s->refs == 0)
        free(s);
}

/* Idle job records kept for reuse. */
#define JOB_POOL 64

/* A zeroed job record: a reused one, else a new one. The loop owns it. */
static struct probe_job *job_alloc(struct probe_loop *pl)
{
    struct probe_job *j = pl->free_jobs;
    if (!j)
        return xcalloc(1, sizeof(*j));
    pl->free_jobs = j->next;
    pl->n_free_jobs--;
    memset(j, 0, sizeof(*j));
    return j;
}

/* Keep j (a scheduled job's record, unlinked) for a later run, or free it. */
static void job_release(struct probe_loop *pl, struct probe_job *j)
{
    if (pl->n_free_jobs == JOB_POOL) {
        free(j);
        return;
    }
    j->next = pl->free_jobs;
    pl->free_jobs = j;
    pl->n_free_jobs++;
}

static void job_free(struct probe_loop *pl, struct probe_job *j)
{
    if (j->prev)
        j->prev->next = j->next;
    else
        pl->jobs = j->next;
    if (j->next)
        j->next->prev = j->prev;
    struct check_slot *s = j->slot;
    if (!s) { /* an adhoc run (probe_adhoc.c): no schedule, no generation */
        probe_adhoc_end(pl, j);
        free(j);
        return;
    }
    s->in_flight = false;
    if (s->waiting) {
        /* Its next run came due meanwhile: it starts now, on the heap at its
         * planned time, so its lag counts from then. */
        s->waiting = false;
        if (s->idx != SLOT_GONE)
            sched_push(pl->heap, s->next_due_ns, (uint32_t)s->idx);
    }
    slot_release(s);
    gen_unref(j->gen);
    job_release(pl, j);
    atomic_fetch_sub_explicit(&pl->in_flight, 1, memory_order_relaxed);
}

static void deliver(struct probe_loop *pl, struct probe_job *job, const struct check_result *res);

/* Start the next attempt of a failed run; if it cannot start, the last
 * failure is the result. */
static void retry_now(struct probe_loop *pl, void *arg)
{
    struct probe_job *job = arg;
    job->retry_timer = NULL;
    job->started_ns = probe_now_ns(pl);
    job->stall0_ns = pl->stall_ns;
    const struct check_spec *spec = job->spec;
    enum op_rc rc = job->type->start(pl, spec, job, &job->run);
    if (rc == OP_OK)
        return;
    log_error("cannot start a probe", "check", spec->name, "err", op_strerror(rc));
    deliver(pl, job, &job->failed);
}

int64_t probe_job_deadline_ns(const struct probe_job *job)
{
    return job->started_ns + job->spec->timeout_ms * 1000000;
}

void probe_done(struct probe_loop *pl, struct probe_job *job, const struct check_result *res)
{
    const struct check_spec *spec = job->spec;
    if (job->adhoc) {
        /* Its caller waits for this very result: no stall rule, no retry,
         * no sink. */
        probe_adhoc_report(pl, job, res);
        job_free(pl, job);
        return;
    }
    if (res->reason == CHECK_REASON_TIMEOUT && !pl->once) {
        /* A timeout that the loop's own stall made says nothing about the
         * target: counted as the agent's overrun, not recorded, not retried
         * (that would add load to a loop already behind). A one-shot run
         * (`outpost check`) reports it: its caller waits for that result. */
        note_stall(pl, probe_now_ns(pl));
        if (sched_stall_is_ours(pl->stall_ns - job->stall0_ns, spec->timeout_ms * 1000000)) {
            sched_overruns_add(pl->overruns, SCHED_OVERRUN_STALLED, 1, 0);
            if (log_enabled(LOG_LVL_DEBUG))
                log_debug("probe timed out while the probe loop stalled, not recorded", "check",
                          spec->name);
            job_free(pl, job);
            return;
        }
    }
    if (!res->success && job->attempt < spec->policy.retry_attempts) {
        /* Probe again before the failure counts. The retry is counted on
         * its own (outpost_check_retries_total), so retries never hide
         * failures; only the last attempt's result is recorded. */
        job->attempt++;
        job->run = NULL; /* the type frees its run after this returns */
        job->failed = *res;
        job->failed.tail = NULL;
        job->failed.steps = NULL;
        job->failed.n_steps = 0;
        gen_note_retry(job->gen, job->idx);
        if (log_enabled(LOG_LVL_DEBUG))
            log_debug("probe failed, retrying", "check", spec->name, "reason",
                      check_reason_name(res->reason), "detail", res->detail);
        job->retry_timer = probe_timer_at(
            pl, probe_now_ns(pl) + spec->policy.retry_delay_ms * 1000000, retry_now, job);
        return;
    }
    deliver(pl, job, res);
}

/* The final result of job's run: to every sink of the check. */
static void deliver(struct probe_loop *pl, struct probe_job *job, const struct check_result *res)
{
    const struct sink *sinks;
    size_t n = gen_sinks(job->gen, job->idx, &sinks);
    int64_t wall_ms = clock_wall_ms(pl->clock);
    for (size_t i = 0; i < n; i++)
        sinks[i].deliver(&sinks[i], res, wall_ms);
    if (pl->once)
        pl->once->report(pl->once->arg, job->idx, res);
    /* The check name only: targets may carry credentials. */
    if (!res->success && log_enabled(LOG_LVL_DEBUG))
        log_debug("probe failed", "check", cfg_check(gen_cfg(job->gen), job->idx)->name, "reason",
                  check_reason_name(res->reason), "detail", res->detail);
    job_free(pl, job);
}

static void start_job(struct probe_loop *pl, size_t idx, int64_t now)
{
    const struct check_spec *spec = cfg_check(gen_cfg(pl->gen), idx);
    struct probe_job *j = job_alloc(pl);
    j->type = gen_check_type(pl->gen, idx);
    j->gen = pl->gen;
    j->idx = idx;
    j->spec = spec;
    j->slot = pl->slots[idx];
    /* The timeout counts from here, however late this start is. */
    j->started_ns = now;
    j->stall0_ns = pl->stall_ns;
    enum op_rc rc = j->type->start(pl, spec, j, &j->run);
    if (rc != OP_OK) {
        log_error("cannot start a probe", "check", spec->name, "err", op_strerror(rc));
        job_release(pl, j);
        return;
    }
    gen_ref(j->gen);
    j->slot->refs++;
    j->slot->in_flight = true;
    j->next = pl->jobs;
    if (j->next)
        j->next->prev = j;
    pl->jobs = j;
    atomic_fetch_add_explicit(&pl->in_flight, 1, memory_order_relaxed);
}

static int64_t phase_of(const struct check_spec *spec, int64_t interval_ns)
{
    return sched_offset_ns(spec->sched_key ? spec->sched_key : spec->name, interval_ns);
}

static void run_due(struct probe_loop *pl, int64_t now)
{
    int64_t due;
    uint32_t id;
    while (sched_peek(pl->heap, &due, &id) && due <= now) {
        (void)sched_pop(pl->heap, &due, &id);
        struct check_slot *s = pl->slots[id];
        if (s->in_flight) {
            /* Never overlap a check with itself. Its attempts may fill the
             * interval (timeout = interval, retries), so a run ending just
             * after the next is due is normal: that run waits, and job_free
             * puts it back on the heap. */
            s->waiting = true;
            continue;
        }
        int64_t lag = now - due;
        if (pl->once) {
            /* One-shot: the run starts now, never shed, and is never planned again. */
            start_job(pl, id, now);
            continue;
        }
        const struct check_spec *spec = cfg_check(gen_cfg(pl->gen), id);
        s->next_due_ns = sched_after_run(due, now, s->interval_ns, phase_of(spec, s->interval_ns));
        uint64_t missed = sched_missed(due, s->next_due_ns, s->interval_ns);
        if (sched_should_shed(pl->load, lag, s->interval_ns)) {
            missed++; /* this one too */
        } else {
            rec_observe(pl->lag, (double)lag / 1e9);
            if (lag > sched_late_ns(s->interval_ns))
                sched_overruns_add(pl->overruns, SCHED_OVERRUN_LATE, 1, lag);
            start_job(pl, id, now);
        }
        sched_overruns_add(pl->overruns, SCHED_OVERRUN_SKIPPED, missed, lag);
        sched_push(pl->heap, s->next_due_ns, id);
    }
}

/* One line at most every SCHED_LOG_EVERY_NS: an overloaded loop must not
 * add a log flood to its load. */
static void log_overruns(struct probe_loop *pl, int64_t now)
{
    uint64_t n[SCHED_OVERRUN_COUNT];
    int64_t max_lag;
    if (!sched_overruns_log_due(pl->overruns, now, n, &max_lag))
        return;
    char v[SCHED_OVERRUN_COUNT][24], lag[32], flight[16];
    for (int r = 0; r < SCHED_OVERRUN_COUNT; r++)
        snprintf(v[r], sizeof(v[r]), "%" PRIu64, n[r]);
    snprintf(lag, sizeof(lag), "%.3f", (double)max_lag / 1e9);
    snprintf(flight, sizeof(flight), "%u", atomic_load(&pl->in_flight));
    log_warn("probe loop overloaded: probes start late or are skipped; "
             "timeouts during its stalls are not recorded",
             "late", v[SCHED_OVERRUN_LATE], "skipped", v[SCHED_OVERRUN_SKIPPED], "stalled",
             v[SCHED_OVERRUN_STALLED], "max_lag_seconds", lag, "in_flight", flight);
}

/* Switch to generation g: per-check state carried over by name, the heap
 * rebuilt. A check whose interval changed gets a new phase. */
static void apply_gen(struct probe_loop *pl, struct gen *g)
{
    struct gen *old = pl->gen;
    size_t n = gen_check_count(g);
    struct check_slot **slots = xcalloc(n ? n : 1, sizeof(*slots));
    int64_t now = probe_now_ns(pl);
    sched_clear(pl->heap);
    for (size_t i = 0; i < pl->n_slots; i++)
        pl->slots[i]->idx = SLOT_GONE; /* unless the new generation has it */
    for (size_t i = 0; i < n; i++) {
        const struct check_spec *spec = cfg_check(gen_cfg(g), i);
        long j = old ? cfg_find_check(gen_cfg(old), spec->name) : -1;
        struct check_slot *s = j >= 0 ? pl->slots[j] : xcalloc(1, sizeof(*s));
        s->refs++;
        int64_t interval = spec->interval_ms * 1000000;
        if (!s->next_due_ns || s->interval_ns != interval) {
            s->interval_ns = interval;
            s->next_due_ns = sched_next_due(now, interval, phase_of(spec, interval));
            s->waiting = false;
        }
        s->idx = i;
        slots[i] = s;
        if (pl->once) {
            if (pl->once->run[i]) /* one-shot: the chosen checks, due now */
                sched_push(pl->heap, now, (uint32_t)i);
        } else if (!s->waiting) { /* else the end of its run pushes it */
            sched_push(pl->heap, s->next_due_ns, (uint32_t)i);
        }
    }
    for (size_t i = 0; i < pl->n_slots; i++)
        slot_release(pl->slots[i]);
    free(pl->slots);
    pl->slots = slots;
    pl->n_slots = n;
    pl->gen = g;
    if (old)
        gen_unref(old);
}

/* ---- control ---- */

/* Reset the timerfd or the eventfd: one read takes a timerfd's whole
 * expiry count, or an eventfd's whole counter. True when there was
 * something to read. */
static bool drain_fd(int fd)
{
    uint64_t v;
    return read(fd, &v, sizeof(v)) == (ssize_t)sizeof(v);
}

static void run_cmds(struct probe_loop *pl, struct cmd *list)
{
    for (struct cmd *c = list; c;) {
        struct cmd *next = c->next; /* c belongs to its waiter once done */
        c->fn(c->arg);
        pthread_mutex_lock(&pl->lock);
        c->done = true;
        pthread_cond_broadcast(&pl->cmd_done);
        pthread_mutex_unlock(&pl->lock);
        c = next;
    }
}

static void run_deadlines(struct probe_loop *pl);

static void control_ready(struct probe_loop *pl, int fd, uint32_t events, void *arg)
{
    (void)events;
    (void)arg;
    (void)drain_fd(fd);
    pthread_mutex_lock(&pl->lock);
    struct gen *g = pl->pending;
    pl->pending = NULL;
    struct cmd *cmds = pl->cmds;
    pl->cmds = NULL;
    pl->cmds_tail = &pl->cmds;
    bool stop = pl->stop_requested;
    pthread_mutex_unlock(&pl->lock);
    if (g)
        apply_gen(pl, g);
    probe_adhoc_start_pending(pl);
    /* A wake-up also means "look at the clock" (a fake clock moved), and a
     * command runs on a loop that has caught up with it. The timerfd is set
     * again only if this moved the earliest deadline. */
    run_deadlines(pl);
    run_cmds(pl, cmds);
    if (stop)
        pl->stopping = true;
}

/* Everything due by now: libcurl's timeout, check-type timers, checks. */
static void run_deadlines(struct probe_loop *pl)
{
    int64_t now = probe_now_ns(pl);
    note_stall(pl, now);
    if (pl->curl_due <= now) {
        int running;
        pl->curl_due = NO_DEADLINE;
        (void)curl_multi_socket_action(pl->multi, CURL_SOCKET_TIMEOUT, 0, &running);
        probe_drain_curl(pl);
    }
    probe_run_timers(pl, now);
    run_due(pl, now);
    log_overruns(pl, now);
}

static void timer_ready(struct probe_loop *pl, int fd, uint32_t events, void *arg)
{
    (void)events;
    (void)arg;
    /* Expired: whatever is next must be armed anew. A wake-up with nothing
     * to read was an expiry that a later set cleared: the timerfd holds
     * that set's deadline still. */
    if (drain_fd(fd))
        pl->armed = NO_DEADLINE;
    run_deadlines(pl);
}

static void *loop_main(void *arg)
{
    struct probe_loop *pl = arg;
    struct epoll_event evs[64];
    atomic_store(&pl->running, true);
    /* Due checks and timers may be past already (a long start-up). */
    run_deadlines(pl);
    while (!pl->stopping) {
        /* Something due already (libcurl's "at once", a check that came
         * due during the last batch): only look for events, then run it. */
        int wait_ms = arm(pl) ? 0 : -1;
        int n = epoll_wait(pl->epfd, evs, (int)ARRAY_SIZE(evs), wait_ms);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            log_error("epoll_wait failed", "err", strerror(errno));
            break;
        }
        /* Before any handler: a transfer that libcurl fails for its timeout
         * in this batch must find the stall that caused it counted. */
        note_stall(pl, probe_now_ns(pl));
        for (int i = 0; i < n && !pl->stopping; i++) {
            struct probe_watch *w = evs[i].data.ptr;
            if (!w->dead)
                w->cb(pl, w->fd, evs[i].events, w->arg);
        }
        /* What came due meanwhile runs now, not after a timerfd round trip
         * (a set, a wake-up, a read): libcurl asks for "at once" every time
         * a transfer starts or moves on. */
        if (!pl->stopping && earliest(pl) <= probe_now_ns(pl))
            run_deadlines(pl);
        probe_free_dead(pl);
    }
    /* Stop taking commands; run whatever is queued so no caller waits. */
    pthread_mutex_lock(&pl->lock);
    pl->accepting = false;
    struct cmd *cmds = pl->cmds;
    pl->cmds = NULL;
    pl->cmds_tail = &pl->cmds;
    pthread_mutex_unlock(&pl->lock);
    run_cmds(pl, cmds);
    probe_adhoc_drop_pending(pl);
    /* Cancel what is still running; those runs are not recorded (an
     * adhoc run reports that it was cancelled). */
    while (pl->jobs) {
        struct probe_job *j = pl->jobs;
        if (j->run)
            j->type->cancel(pl, j->run);
        probe_timer_cancel(pl, j->retry_timer);
        if (j->adhoc)
            probe_adhoc_report(pl, j, NULL);
        job_free(pl, j);
    }
    probe_free_dead(pl);
    atomic_store(&pl->running, false);
    return NULL;
}

static void poke(struct probe_loop *pl)
{
    uint64_t one = 1;
    /* A failed write means a wake-up is already pending. */
    if (write(pl->evfd, &one, sizeof(one)) < 0 && errno != EAGAIN)
        log_error("cannot wake the probe thread", "err", strerror(errno));
}

/* ---- lifecycle ---- */

enum op_rc probe_loop_new(const struct clock *clock, struct probe_loop **out)
{
    struct probe_loop *pl = xcalloc(1, sizeof(*pl));
    pl->clock = clock;
    pl->epfd = pl->tfd = pl->evfd = -1;
    pl->curl_due = NO_DEADLINE;
    pl->armed = NO_DEADLINE;
    pl->cmds_tail = &pl->cmds;
    pthread_mutex_init(&pl->lock, NULL);
    pthread_cond_init(&pl->cmd_done, NULL);
    atomic_init(&pl->running, false);
    atomic_init(&pl->in_flight, 0);
    atomic_init(&pl->timer_sets, 0);
    atomic_init(&pl->adhoc_in_flight, 0);
    pl->heap = sched_new();
    pl->timers = sched_new();
    pl->lag = rec_new(probe_lag_bounds, probe_lag_bounds_count);
    pl->overruns = sched_overruns_new();
    pl->epfd = epoll_create1(EPOLL_CLOEXEC);
    pl->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    pl->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (pl->epfd < 0 || pl->tfd < 0 || pl->evfd < 0)
        goto fail;
    pl->tfd_watch = probe_watch_fd(pl, pl->tfd, EPOLLIN, timer_ready, NULL);
    pl->evfd_watch = probe_watch_fd(pl, pl->evfd, EPOLLIN, control_ready, NULL);
    if (!pl->tfd_watch || !pl->evfd_watch)
        goto fail;
    pl->multi = curl_multi_init();
    if (!pl->multi)
        goto fail;
    if (curl_multi_setopt(pl->multi, CURLMOPT_SOCKETFUNCTION, probe_on_socket) != CURLM_OK ||
        curl_multi_setopt(pl->multi, CURLMOPT_SOCKETDATA, pl) != CURLM_OK ||
        curl_multi_setopt(pl->multi, CURLMOPT_TIMERFUNCTION, probe_on_curl_timer) != CURLM_OK ||
        curl_multi_setopt(pl->multi, CURLMOPT_TIMERDATA, pl) != CURLM_OK)
        goto fail;
    *out = pl;
    return OP_OK;
fail:
    log_error("cannot set up the probe loop", "err", strerror(errno));
    probe_loop_free(pl);
    return OP_ERR_SYSTEM;
}

enum op_rc probe_loop_start(struct probe_loop *pl, struct gen *g)
{
    gen_ref(g);
    apply_gen(pl, g);
    pl->stall_mark = probe_now_ns(pl); /* the loop owes nothing before it starts */
    pthread_mutex_lock(&pl->lock);
    pl->accepting = true;
    pthread_mutex_unlock(&pl->lock);
    int err = pthread_create(&pl->thread, NULL, loop_main, pl);
    if (err != 0) {
        log_error("cannot start the probe thread", "err", strerror(err));
        pl->accepting = false;
        return OP_ERR_SYSTEM;
    }
    pl->started = true;
    return OP_OK;
}

enum op_rc probe_loop_start_once(struct probe_loop *pl, struct gen *g,
                                 const struct probe_once *once)
{
    pl->once = once;
    return probe_loop_start(pl, g);
}

void probe_loop_swap(struct probe_loop *pl, struct gen *g)
{
    gen_ref(g);
    pthread_mutex_lock(&pl->lock);
    struct gen *stale = pl->pending; /* two reloads in a row: keep the newest */
    pl->pending = g;
    pthread_mutex_unlock(&pl->lock);
    if (stale)
        gen_unref(stale);
    poke(pl);
}

void probe_loop_call(struct probe_loop *pl, void (*fn)(void *arg), void *arg)
{
    struct cmd c = {.fn = fn, .arg = arg};
    pthread_mutex_lock(&pl->lock);
    if (!pl->accepting) {
        /* No loop thread: nobody else touches what fn changes. */
        pthread_mutex_unlock(&pl->lock);
        fn(arg);
        return;
    }
    *pl->cmds_tail = &c;
    pl->cmds_tail = &c.next;
    pthread_mutex_unlock(&pl->lock);
    poke(pl);
    pthread_mutex_lock(&pl->lock);
    while (!c.done)
        pthread_cond_wait(&pl->cmd_done, &pl->lock);
    pthread_mutex_unlock(&pl->lock);
}

void probe_loop_wake(struct probe_loop *pl)
{
    poke(pl);
}

void probe_loop_stop(struct probe_loop *pl)
{
    if (!pl || !pl->started)
        return;
    pthread_mutex_lock(&pl->lock);
    pl->stop_requested = true;
    pthread_mutex_unlock(&pl->lock);
    poke(pl);
    pthread_join(pl->thread, NULL);
    pl->started = false;
}

void probe_loop_free(struct probe_loop *pl)
{
    if (!pl)
        return;
    probe_loop_stop(pl);
    /* Cleaning up the multi handle closes pooled connections, which calls
     * on_socket with CURL_POLL_REMOVE: the epoll set must still exist. */
    probe_easy_pool_free(pl);
    if (pl->multi)
        curl_multi_cleanup(pl->multi);
    while (pl->free_jobs) {
        struct probe_job *j = pl->free_jobs;
        pl->free_jobs = j->next;
        free(j);
    }
    probe_unwatch(pl, pl->tfd_watch);
    probe_unwatch(pl, pl->evfd_watch);
    probe_free_dead(pl);
    if (pl->pending)
        gen_unref(pl->pending);
    for (size_t i = 0; i < pl->n_slots; i++)
        slot_release(pl->slots[i]);
    free(pl->slots);
    if (pl->gen)
        gen_unref(pl->gen);
    for (size_t i = 0; i < pl->n_timer_slots; i++)
        free(pl->timer_slots[i]);
    free(pl->timer_slots);
    free(pl->timer_free);
    sched_free(pl->heap);
    sched_free(pl->timers);
    rec_unref(pl->lag);
    sched_overruns_free(pl->overruns);
    if (pl->epfd >= 0)
        close(pl->epfd);
    if (pl->tfd >= 0)
        close(pl->tfd);
    if (pl->evfd >= 0)
        close(pl->evfd);
    pthread_cond_destroy(&pl->cmd_done);
    pthread_mutex_destroy(&pl->lock);
    free(pl);
}

bool probe_loop_running(const struct probe_loop *pl)
{
    return atomic_load(&((struct probe_loop *)pl)->running);
}

unsigned probe_loop_in_flight(const struct probe_loop *pl)
{
    return atomic_load(&((struct probe_loop *)pl)->in_flight);
}

struct rec *probe_loop_lag(const struct probe_loop *pl)
{
    return pl->lag;
}

void probe_loop_overruns(const struct probe_loop *pl, uint64_t out[SCHED_OVERRUN_COUNT])
{
    sched_overruns_read(pl->overruns, out);
}

uint64_t probe_loop_timer_sets(const struct probe_loop *pl)
{
    return atomic_load(&((struct probe_loop *)pl)->timer_sets);
}
