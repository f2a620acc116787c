/* probe.c - the probe loop and the services it offers check types. */
#include "probe.h"
#include "log.h"
#include "scheduler.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

const double probe_lag_bounds[] = {0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5};
const size_t probe_lag_bounds_count = ARRAY_SIZE(probe_lag_bounds);

#define NO_DEADLINE INT64_MAX

/* A descriptor in the epoll set and what to do when it is ready. */
struct probe_watch {
    int fd;
    uint32_t events;
    probe_fd_cb cb;
    void *arg;
    bool dead; /* unwatched: freed after the current batch */
    struct probe_watch *next_dead;
};

struct probe_timer {
    int64_t due;
    probe_timer_cb cb;
    void *arg;
    bool cancelled; /* freed when its heap entry comes up */
};

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
    unsigned refs;
};

/* One run in flight: it holds its generation, so a reload cannot free the
 * spec or the sinks under it. */
struct probe_job {
    struct probe_job *prev, *next;
    const struct check_type *type;
    void *run; /* NULL while waiting to retry */
    struct gen *gen;
    size_t idx; /* the check's index in gen */
    struct check_slot *slot;
    unsigned attempt;                /* retries done */
    struct probe_timer *retry_timer; /* set while waiting to retry */
    struct check_result failed;      /* the last failed attempt (tail dropped) */
};

/* A libcurl transfer on the multi handle (its CURLOPT_PRIVATE). */
struct easy_rec {
    probe_curl_cb done;
    void *arg;
};

struct cmd {
    void (*fn)(void *arg);
    void *arg;
    bool done;
    struct cmd *next;
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
    bool accepting; /* the thread takes commands */
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
    int64_t armed; /* the deadline the timerfd holds, NO_DEADLINE when none */
    struct probe_job *jobs;
    struct probe_watch *dead;
    bool stopping;
    const struct probe_once *once; /* one-shot mode (`outpost check`), else NULL */
    /* Read by other threads. */
    atomic_bool running;
    atomic_uint in_flight;
    atomic_uint_fast64_t timer_sets;
    struct rec *lag;
};

int64_t probe_now_ns(const struct probe_loop *pl)
{
    return clock_mono_ns(pl->clock);
}

/* ---- descriptors ---- */

static int ctl(struct probe_loop *pl, int op, struct probe_watch *w)
{
    struct epoll_event ev = {.events = w->events, .data.ptr = w};
    return epoll_ctl(pl->epfd, op, w->fd, &ev);
}

struct probe_watch *probe_watch_fd(struct probe_loop *pl, int fd, uint32_t events, probe_fd_cb cb,
                                   void *arg)
{
    struct probe_watch *w = xcalloc(1, sizeof(*w));
    *w = (struct probe_watch){.fd = fd, .events = events, .cb = cb, .arg = arg};
    /* A descriptor number reused before its old registration went away is
     * still in the set: take it over. */
    if (ctl(pl, EPOLL_CTL_ADD, w) != 0 && (errno != EEXIST || ctl(pl, EPOLL_CTL_MOD, w) != 0)) {
        int err = errno;
        free(w);
        errno = err;
        return NULL;
    }
    return w;
}

enum op_rc probe_watch_events(struct probe_loop *pl, struct probe_watch *w, uint32_t events)
{
    w->events = events;
    if (ctl(pl, EPOLL_CTL_MOD, w) == 0)
        return OP_OK;
    /* Closed and reopened under the same number: register it again. */
    if (errno == ENOENT && ctl(pl, EPOLL_CTL_ADD, w) == 0)
        return OP_OK;
    return OP_ERR_SYSTEM;
}

void probe_unwatch(struct probe_loop *pl, struct probe_watch *w)
{
    if (!w || w->dead)
        return;
    /* The descriptor may be closed already (ENOENT, EBADF): nothing to undo. */
    (void)epoll_ctl(pl->epfd, EPOLL_CTL_DEL, w->fd, NULL);
    /* The current batch of events may still point at w. */
    w->dead = true;
    w->next_dead = pl->dead;
    pl->dead = w;
}

static void free_dead(struct probe_loop *pl)
{
    while (pl->dead) {
        struct probe_watch *w = pl->dead;
        pl->dead = w->next_dead;
        free(w);
    }
}

/* ---- timers ---- */

struct probe_timer *probe_timer_at(struct probe_loop *pl, int64_t due_ns, probe_timer_cb cb,
                                   void *arg)
{
    uint32_t id;
    if (pl->n_timer_free) {
        id = pl->timer_free[--pl->n_timer_free];
    } else {
        pl->timer_slots =
            xrealloc(pl->timer_slots, (pl->n_timer_slots + 1) * sizeof(*pl->timer_slots));
        pl->timer_free = xrealloc(pl->timer_free, (pl->n_timer_slots + 1) * sizeof(uint32_t));
        id = (uint32_t)pl->n_timer_slots++;
    }
    struct probe_timer *t = xcalloc(1, sizeof(*t));
    *t = (struct probe_timer){.due = due_ns, .cb = cb, .arg = arg};
    pl->timer_slots[id] = t;
    /* Each slot has exactly one heap entry: it is reused only after that
     * entry came up, so a stale entry can never fire a newer timer. */
    sched_push(pl->timers, due_ns, id);
    return t;
}

void probe_timer_cancel(struct probe_loop *pl, struct probe_timer *t)
{
    (void)pl;
    if (t)
        t->cancelled = true;
}

static void run_timers(struct probe_loop *pl, int64_t now)
{
    int64_t due;
    uint32_t id;
    while (sched_peek(pl->timers, &due, &id) && due <= now) {
        (void)sched_pop(pl->timers, &due, &id);
        struct probe_timer *t = pl->timer_slots[id];
        pl->timer_slots[id] = NULL;
        pl->timer_free[pl->n_timer_free++] = id;
        if (!t->cancelled)
            t->cb(pl, t->arg);
        free(t);
    }
}

/* ---- libcurl ---- */

static void drain_curl(struct probe_loop *pl)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(pl->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL *easy = msg->easy_handle;
        CURLcode code = msg->data.result; /* msg dies with remove_handle */
        struct easy_rec *er = NULL;
        (void)curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&er);
        (void)curl_multi_remove_handle(pl->multi, easy);
        probe_curl_cb done = er->done;
        void *arg = er->arg;
        free(er);
        done(pl, easy, code, arg);
    }
}

static void curl_socket_ready(struct probe_loop *pl, int fd, uint32_t events, void *arg)
{
    (void)arg;
    int flags = 0, running;
    if (events & EPOLLIN)
        flags |= CURL_CSELECT_IN;
    if (events & EPOLLOUT)
        flags |= CURL_CSELECT_OUT;
    if (events & (EPOLLERR | EPOLLHUP))
        flags |= CURL_CSELECT_ERR;
    (void)curl_multi_socket_action(pl->multi, fd, flags, &running);
    drain_curl(pl);
}

/* CURLMOPT_SOCKETFUNCTION: keep libcurl's sockets in the epoll set; the
 * watch rides along as the socket's socketp. */
static int on_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    (void)easy;
    struct probe_loop *pl = userp;
    struct probe_watch *w = socketp;
    if (what == CURL_POLL_REMOVE) {
        probe_unwatch(pl, w);
        (void)curl_multi_assign(pl->multi, s, NULL);
        return 0;
    }
    uint32_t events = 0;
    if (what & CURL_POLL_IN)
        events |= EPOLLIN;
    if (what & CURL_POLL_OUT)
        events |= EPOLLOUT;
    if (w) {
        if (probe_watch_events(pl, w, events) != OP_OK)
            log_error("cannot watch a probe socket", "err", strerror(errno));
        return 0;
    }
    w = probe_watch_fd(pl, s, events, curl_socket_ready, NULL);
    if (!w) {
        log_error("cannot watch a probe socket", "err", strerror(errno));
        return -1; /* libcurl fails that transfer */
    }
    (void)curl_multi_assign(pl->multi, s, w);
    return 0;
}

/* CURLMOPT_TIMERFUNCTION: never call libcurl from here (house style), only
 * note the deadline; the loop arms the timerfd when it settles. */
static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    struct probe_loop *pl = userp;
    pl->curl_due = timeout_ms < 0 ? NO_DEADLINE : probe_now_ns(pl) + (int64_t)timeout_ms * 1000000;
    return 0;
}

enum op_rc probe_add_easy(struct probe_loop *pl, CURL *easy, probe_curl_cb done, void *arg)
{
    struct easy_rec *er = xcalloc(1, sizeof(*er));
    *er = (struct easy_rec){done, arg};
    if (curl_easy_setopt(easy, CURLOPT_PRIVATE, er) != CURLE_OK)
        goto fail;
    CURLMcode mc = curl_multi_add_handle(pl->multi, easy);
    if (mc == CURLM_OK)
        return OP_OK;
    log_error("cannot start a transfer", "err", curl_multi_strerror(mc));
fail:
    free(er);
    return OP_ERR_SYSTEM;
}

void probe_remove_easy(struct probe_loop *pl, CURL *easy)
{
    struct easy_rec *er = NULL;
    (void)curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&er);
    (void)curl_multi_remove_handle(pl->multi, easy);
    (void)curl_easy_setopt(easy, CURLOPT_PRIVATE, NULL);
    free(er);
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

static void arm(struct probe_loop *pl)
{
    int64_t t = earliest(pl);
    if (t == pl->armed)
        return;
    struct itimerspec its = {0};
    if (t != NO_DEADLINE) {
        /* Relative to the loop's clock, so a fake clock drives it too. */
        int64_t d = t - probe_now_ns(pl);
        if (d < 1)
            d = 1; /* 0 would disarm */
        its.it_value.tv_sec = d / 1000000000;
        its.it_value.tv_nsec = d % 1000000000;
    }
    if (timerfd_settime(pl->tfd, 0, &its, NULL) != 0) {
        /* Not expected with a valid descriptor and value; leave `armed`
         * unchanged so the next pass tries again, and say so. */
        log_error("cannot arm the probe timer", "err", strerror(errno));
        return;
    }
    pl->armed = t;
    atomic_fetch_add_explicit(&pl->timer_sets, 1, memory_order_relaxed);
}

/* ---- runs ---- */

static void slot_release(struct check_slot *s)
{
    if (s && --s->refs == 0)
        free(s);
}

static void job_free(struct probe_loop *pl, struct probe_job *j)
{
    if (j->prev)
        j->prev->next = j->next;
    else
        pl->jobs = j->next;
    if (j->next)
        j->next->prev = j->prev;
    j->slot->in_flight = false;
    slot_release(j->slot);
    gen_unref(j->gen);
    free(j);
    atomic_fetch_sub_explicit(&pl->in_flight, 1, memory_order_relaxed);
}

static void deliver(struct probe_loop *pl, struct probe_job *job, const struct check_result *res);

/* Start the next attempt of a failed run; if it cannot start, the last
 * failure is the result. */
static void retry_now(struct probe_loop *pl, void *arg)
{
    struct probe_job *job = arg;
    job->retry_timer = NULL;
    const struct check_spec *spec = cfg_check(gen_cfg(job->gen), job->idx);
    enum op_rc rc = job->type->start(pl, spec, job, &job->run);
    if (rc == OP_OK)
        return;
    log_error("cannot start a probe", "check", spec->name, "err", op_strerror(rc));
    deliver(pl, job, &job->failed);
}

void probe_done(struct probe_loop *pl, struct probe_job *job, const struct check_result *res)
{
    const struct check_spec *spec = cfg_check(gen_cfg(job->gen), job->idx);
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

static void start_job(struct probe_loop *pl, size_t idx)
{
    const struct check_spec *spec = cfg_check(gen_cfg(pl->gen), idx);
    struct probe_job *j = xcalloc(1, sizeof(*j));
    j->type = gen_check_type(pl->gen, idx);
    j->gen = pl->gen;
    j->idx = idx;
    j->slot = pl->slots[idx];
    enum op_rc rc = j->type->start(pl, spec, j, &j->run);
    if (rc != OP_OK) {
        log_error("cannot start a probe", "check", spec->name, "err", op_strerror(rc));
        free(j);
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
        /* Only possible when timeout == interval: never overlap a probe
         * with itself; this run is skipped. */
        if (!s->in_flight) {
            rec_observe(pl->lag, (double)(now - due) / 1e9);
            start_job(pl, id);
        }
        if (pl->once)
            continue; /* one-shot: never planned again */
        const struct check_spec *spec = cfg_check(gen_cfg(pl->gen), id);
        s->next_due_ns = sched_after_run(due, now, s->interval_ns, phase_of(spec, s->interval_ns));
        sched_push(pl->heap, s->next_due_ns, id);
    }
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
    for (size_t i = 0; i < n; i++) {
        const struct check_spec *spec = cfg_check(gen_cfg(g), i);
        long j = old ? cfg_find_check(gen_cfg(old), spec->name) : -1;
        struct check_slot *s = j >= 0 ? pl->slots[j] : xcalloc(1, sizeof(*s));
        s->refs++;
        int64_t interval = spec->interval_ms * 1000000;
        if (!s->next_due_ns || s->interval_ns != interval) {
            s->interval_ns = interval;
            s->next_due_ns = sched_next_due(now, interval, phase_of(spec, interval));
        }
        slots[i] = s;
        if (!pl->once)
            sched_push(pl->heap, s->next_due_ns, (uint32_t)i);
        else if (pl->once->run[i]) /* one-shot: the chosen checks, due now */
            sched_push(pl->heap, now, (uint32_t)i);
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

static void drain_fd(int fd)
{
    uint64_t v;
    while (read(fd, &v, sizeof(v)) == (ssize_t)sizeof(v))
        ;
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
    drain_fd(fd);
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
    if (pl->curl_due <= now) {
        int running;
        pl->curl_due = NO_DEADLINE;
        (void)curl_multi_socket_action(pl->multi, CURL_SOCKET_TIMEOUT, 0, &running);
        drain_curl(pl);
    }
    run_timers(pl, now);
    run_due(pl, now);
}

static void timer_ready(struct probe_loop *pl, int fd, uint32_t events, void *arg)
{
    (void)events;
    (void)arg;
    drain_fd(fd);
    pl->armed = NO_DEADLINE; /* expired: whatever is next must be armed anew */
    run_deadlines(pl);
}

static void *loop_main(void *arg)
{
    struct probe_loop *pl = arg;
    struct epoll_event evs[64];
    atomic_store(&pl->running, true);
    /* Due checks and timers may be past already (a long start-up). */
    run_deadlines(pl);
    arm(pl);
    while (!pl->stopping) {
        int n = epoll_wait(pl->epfd, evs, (int)ARRAY_SIZE(evs), -1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            log_error("epoll_wait failed", "err", strerror(errno));
            break;
        }
        for (int i = 0; i < n && !pl->stopping; i++) {
            struct probe_watch *w = evs[i].data.ptr;
            if (!w->dead)
                w->cb(pl, w->fd, evs[i].events, w->arg);
        }
        free_dead(pl);
        arm(pl);
    }
    /* Stop taking commands; run whatever is queued so no caller waits. */
    pthread_mutex_lock(&pl->lock);
    pl->accepting = false;
    struct cmd *cmds = pl->cmds;
    pl->cmds = NULL;
    pl->cmds_tail = &pl->cmds;
    pthread_mutex_unlock(&pl->lock);
    run_cmds(pl, cmds);
    /* Cancel what is still running; those runs are not recorded. */
    while (pl->jobs) {
        struct probe_job *j = pl->jobs;
        if (j->run)
            j->type->cancel(pl, j->run);
        probe_timer_cancel(pl, j->retry_timer);
        job_free(pl, j);
    }
    free_dead(pl);
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
    pl->heap = sched_new();
    pl->timers = sched_new();
    pl->lag = rec_new(probe_lag_bounds, probe_lag_bounds_count);
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
    if (curl_multi_setopt(pl->multi, CURLMOPT_SOCKETFUNCTION, on_socket) != CURLM_OK ||
        curl_multi_setopt(pl->multi, CURLMOPT_SOCKETDATA, pl) != CURLM_OK ||
        curl_multi_setopt(pl->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer) != CURLM_OK ||
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
    if (pl->multi)
        curl_multi_cleanup(pl->multi);
    probe_unwatch(pl, pl->tfd_watch);
    probe_unwatch(pl, pl->evfd_watch);
    free_dead(pl);
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

uint64_t probe_loop_timer_sets(const struct probe_loop *pl)
{
    return atomic_load(&((struct probe_loop *)pl)->timer_sets);
}
