/* probe.c - the probe thread: scheduler + libcurl multi socket loop. */
#include "probe.h"
#include "clock.h"
#include "http_check.h"
#include "log.h"
#include "scheduler.h"

#include <curl/curl.h>
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

/* One probe in flight. Holds references so a reload cannot free its spec or
 * recorder under it. */
struct inflight {
    struct inflight *prev, *next;
    struct http_probe *hp;
    const struct check_spec *spec; /* owned by gen */
    size_t idx;                    /* the check's index in gen */
    struct gen *gen;
    struct rec *rec;
};

struct probe_engine {
    int epfd, sched_tfd, curl_tfd, evfd;
    CURLM *multi;
    pthread_t thread;
    bool started;
    /* Control messages, under lock. */
    pthread_mutex_t lock;
    struct gen *pending;
    bool stop_requested;
    /* Probe thread only. */
    struct gen *gen;
    struct sched *heap;
    struct inflight *inflight;
    bool stopping;
    /* Read by other threads. */
    atomic_bool running;
    atomic_uint in_flight;
    struct rec *lag;
};

/* ---- libcurl callbacks ---- */

static int on_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    (void)easy;
    struct probe_engine *pe = userp;
    if (what == CURL_POLL_REMOVE) {
        epoll_ctl(pe->epfd, EPOLL_CTL_DEL, s, NULL);
        return 0;
    }
    struct epoll_event ev = {0};
    ev.data.fd = s;
    if (what & CURL_POLL_IN)
        ev.events |= EPOLLIN;
    if (what & CURL_POLL_OUT)
        ev.events |= EPOLLOUT;
    int op = socketp ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
    if (epoll_ctl(pe->epfd, op, s, &ev) != 0) {
        /* A reused descriptor number may still be registered, or a MOD may
         * follow an implicit removal on close: try the other operation. */
        op = op == EPOLL_CTL_ADD ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
        if (epoll_ctl(pe->epfd, op, s, &ev) != 0)
            log_error("epoll_ctl failed for a probe socket", "err", strerror(errno));
    }
    curl_multi_assign(pe->multi, s, pe);
    return 0;
}

/* Never call libcurl from here (house style): only arm the timerfd. */
static int on_timer(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    struct probe_engine *pe = userp;
    struct itimerspec its = {0};
    if (timeout_ms == 0) {
        its.it_value.tv_nsec = 1; /* as soon as possible, from the loop */
    } else if (timeout_ms > 0) {
        its.it_value.tv_sec = timeout_ms / 1000;
        its.it_value.tv_nsec = (timeout_ms % 1000) * 1000000;
    }
    timerfd_settime(pe->curl_tfd, 0, &its, NULL);
    return 0;
}

/* ---- set-up ---- */

static enum op_rc add_fd(struct probe_engine *pe, int fd)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
    return epoll_ctl(pe->epfd, EPOLL_CTL_ADD, fd, &ev) == 0 ? OP_OK : OP_ERR_SYSTEM;
}

enum op_rc probe_engine_new(struct probe_engine **out)
{
    struct probe_engine *pe = xcalloc(1, sizeof(*pe));
    pe->epfd = pe->sched_tfd = pe->curl_tfd = pe->evfd = -1;
    pthread_mutex_init(&pe->lock, NULL);
    atomic_init(&pe->running, false);
    atomic_init(&pe->in_flight, 0);
    pe->heap = sched_new();
    pe->lag = rec_new(probe_lag_bounds, probe_lag_bounds_count);
    pe->epfd = epoll_create1(EPOLL_CLOEXEC);
    pe->sched_tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    pe->curl_tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    pe->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (pe->epfd < 0 || pe->sched_tfd < 0 || pe->curl_tfd < 0 || pe->evfd < 0)
        goto fail;
    if (add_fd(pe, pe->sched_tfd) || add_fd(pe, pe->curl_tfd) || add_fd(pe, pe->evfd))
        goto fail;
    pe->multi = curl_multi_init();
    if (!pe->multi)
        goto fail;
    curl_multi_setopt(pe->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(pe->multi, CURLMOPT_SOCKETDATA, pe);
    curl_multi_setopt(pe->multi, CURLMOPT_TIMERFUNCTION, on_timer);
    curl_multi_setopt(pe->multi, CURLMOPT_TIMERDATA, pe);
    *out = pe;
    return OP_OK;
fail:
    log_error("cannot set up the probe engine", "err", strerror(errno));
    probe_engine_free(pe);
    return OP_ERR_SYSTEM;
}

/* ---- the loop ---- */

static void drain_fd(int fd)
{
    uint64_t v;
    while (read(fd, &v, sizeof(v)) == (ssize_t)sizeof(v))
        ;
}

static void unlink_inflight(struct probe_engine *pe, struct inflight *f)
{
    if (f->prev)
        f->prev->next = f->next;
    else
        pe->inflight = f->next;
    if (f->next)
        f->next->prev = f->prev;
    rec_sched(f->rec)->in_flight = false;
    http_probe_free(f->hp);
    rec_unref(f->rec);
    gen_unref(f->gen);
    free(f);
    atomic_fetch_sub_explicit(&pe->in_flight, 1, memory_order_relaxed);
}

static void start_probe(struct probe_engine *pe, size_t idx)
{
    const struct check_spec *spec = cfg_check(gen_cfg(pe->gen), idx);
    struct inflight *f = xcalloc(1, sizeof(*f));
    if (http_probe_new(spec, f, &f->hp) != OP_OK) {
        log_error("cannot create a probe", "check", spec->name);
        free(f);
        return;
    }
    CURLMcode mc = curl_multi_add_handle(pe->multi, http_probe_easy(f->hp));
    if (mc != CURLM_OK) {
        log_error("cannot start a probe", "check", spec->name, "err", curl_multi_strerror(mc));
        http_probe_free(f->hp);
        free(f);
        return;
    }
    f->spec = spec;
    f->idx = idx;
    f->gen = pe->gen;
    gen_ref(f->gen);
    f->rec = gen_rec(pe->gen, idx);
    rec_ref(f->rec);
    rec_sched(f->rec)->in_flight = true;
    f->next = pe->inflight;
    if (f->next)
        f->next->prev = f;
    pe->inflight = f;
    atomic_fetch_add_explicit(&pe->in_flight, 1, memory_order_relaxed);
}

static void run_due(struct probe_engine *pe)
{
    int64_t now = now_mono_ns(), due;
    uint32_t id;
    while (sched_peek(pe->heap, &due, &id) && due <= now) {
        (void)sched_pop(pe->heap, &due, &id);
        const struct check_spec *spec = cfg_check(gen_cfg(pe->gen), id);
        struct rec *rec = gen_rec(pe->gen, id);
        struct rec_sched *rs = rec_sched(rec);
        /* Only possible when timeout == interval: never overlap a probe
         * with itself; this run is skipped. */
        if (!rs->in_flight) {
            rec_observe(pe->lag, (double)(now - due) / 1e9);
            start_probe(pe, id);
        }
        int64_t off =
            sched_offset_ns(spec->sched_key ? spec->sched_key : spec->name, rs->interval_ns);
        rs->next_due_ns = sched_after_run(due, now, rs->interval_ns, off);
        sched_push(pe->heap, rs->next_due_ns, id);
    }
}

static void arm_sched_timer(struct probe_engine *pe)
{
    int64_t due;
    uint32_t id;
    struct itimerspec its = {0};
    if (sched_peek(pe->heap, &due, &id)) {
        if (due <= 0)
            due = 1; /* 0 would disarm */
        its.it_value.tv_sec = due / 1000000000;
        its.it_value.tv_nsec = due % 1000000000;
    }
    timerfd_settime(pe->sched_tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

/* One SLI event per SLO the check feeds: bad when the probe failed or, for
 * a latency SLO, took longer than the threshold. O(SLOs of the check). */
static void record_slos(const struct inflight *f, const struct probe_result *res, double wall)
{
    const uint32_t *slos;
    size_t n = gen_check_slos(f->gen, f->idx, &slos);
    int64_t t_ms = (int64_t)(wall * 1000);
    for (size_t k = 0; k < n; k++) {
        const struct slo_spec *s = cfg_slo(gen_cfg(f->gen), slos[k]);
        bool bad = !res->success ||
                   (s->latency && res->duration * 1000.0 > (double)s->latency_threshold_ms);
        slost_add(gen_slo(f->gen, slos[k]), t_ms, 1, bad ? 1 : 0);
    }
}

/* One canary sample per arm the check feeds. */
static void record_arms(const struct inflight *f, const struct probe_result *res, double wall)
{
    const uint32_t *arms;
    size_t n = gen_check_arms(f->gen, f->idx, &arms);
    for (size_t k = 0; k < n; k++)
        canst_add(gen_canary(f->gen, arms[k] / 2), (enum canary_arm_id)(arms[k] % 2),
                  (int64_t)(wall * 1000), res->duration, res->success);
}

static void drain_done(struct probe_engine *pe)
{
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(pe->multi, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL *easy = msg->easy_handle;
        CURLcode code = msg->data.result; /* msg dies with remove_handle */
        struct http_probe *hp = NULL;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&hp);
        struct inflight *f = http_probe_user(hp);
        struct probe_result res;
        http_probe_finish(hp, code, &res);
        curl_multi_remove_handle(pe->multi, easy);
        double wall = now_wall();
        rec_record(f->rec, &res, wall);
        record_slos(f, &res, wall);
        record_arms(f, &res, wall);
        /* The check name only: URLs may carry credentials. */
        if (!res.success)
            log_debug("probe failed", "check", f->spec->name, "reason", reason_name(res.reason));
        unlink_inflight(pe, f);
    }
}

/* Switch to a new generation: rebuild the heap, keeping the due time of
 * every check whose recorder (name) and interval survived. */
static void apply_gen(struct probe_engine *pe, struct gen *g)
{
    struct gen *old = pe->gen;
    pe->gen = g;
    sched_clear(pe->heap);
    int64_t now = now_mono_ns();
    for (size_t i = 0; i < gen_count(g); i++) {
        const struct check_spec *spec = cfg_check(gen_cfg(g), i);
        struct rec_sched *rs = rec_sched(gen_rec(g, i));
        int64_t interval = spec->interval_ms * 1000000;
        if (!rs->next_due_ns || rs->interval_ns != interval) {
            rs->interval_ns = interval;
            const char *key = spec->sched_key ? spec->sched_key : spec->name;
            rs->next_due_ns = sched_next_due(now, interval, sched_offset_ns(key, interval));
        }
        sched_push(pe->heap, rs->next_due_ns, (uint32_t)i);
    }
    if (old)
        gen_unref(old);
}

static void handle_control(struct probe_engine *pe)
{
    drain_fd(pe->evfd);
    pthread_mutex_lock(&pe->lock);
    struct gen *g = pe->pending;
    pe->pending = NULL;
    bool stop = pe->stop_requested;
    pthread_mutex_unlock(&pe->lock);
    if (g)
        apply_gen(pe, g);
    if (stop)
        pe->stopping = true;
}

static void *probe_main(void *arg)
{
    struct probe_engine *pe = arg;
    struct epoll_event evs[64];
    int running = 0;
    atomic_store(&pe->running, true);
    arm_sched_timer(pe);
    while (!pe->stopping) {
        int n = epoll_wait(pe->epfd, evs, (int)ARRAY_SIZE(evs), -1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            log_error("epoll_wait failed", "err", strerror(errno));
            break;
        }
        bool sched_fired = false;
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd == pe->evfd) {
                handle_control(pe);
                sched_fired = true; /* the heap changed: re-arm */
            } else if (fd == pe->sched_tfd) {
                drain_fd(fd);
                sched_fired = true;
            } else if (fd == pe->curl_tfd) {
                drain_fd(fd);
                curl_multi_socket_action(pe->multi, CURL_SOCKET_TIMEOUT, 0, &running);
            } else {
                int flags = 0;
                if (evs[i].events & EPOLLIN)
                    flags |= CURL_CSELECT_IN;
                if (evs[i].events & EPOLLOUT)
                    flags |= CURL_CSELECT_OUT;
                if (evs[i].events & (EPOLLERR | EPOLLHUP))
                    flags |= CURL_CSELECT_ERR;
                curl_multi_socket_action(pe->multi, fd, flags, &running);
            }
            drain_done(pe);
        }
        if (pe->stopping)
            break;
        if (sched_fired) {
            run_due(pe);
            arm_sched_timer(pe);
        }
    }
    /* Cancel what is still running; those probes are not recorded. */
    while (pe->inflight) {
        curl_multi_remove_handle(pe->multi, http_probe_easy(pe->inflight->hp));
        unlink_inflight(pe, pe->inflight);
    }
    atomic_store(&pe->running, false);
    return NULL;
}

static void poke(struct probe_engine *pe)
{
    uint64_t one = 1;
    /* The counter cannot overflow in practice; a failed write only means a
     * wake-up is already pending. */
    if (write(pe->evfd, &one, sizeof(one)) < 0 && errno != EAGAIN)
        log_error("cannot wake the probe thread", "err", strerror(errno));
}

enum op_rc probe_engine_start(struct probe_engine *pe, struct gen *g)
{
    gen_ref(g);
    apply_gen(pe, g);
    if (pthread_create(&pe->thread, NULL, probe_main, pe) != 0) {
        log_error("cannot start the probe thread", "err", strerror(errno));
        return OP_ERR_SYSTEM;
    }
    pe->started = true;
    return OP_OK;
}

void probe_engine_swap(struct probe_engine *pe, struct gen *g)
{
    gen_ref(g);
    pthread_mutex_lock(&pe->lock);
    struct gen *stale = pe->pending; /* two reloads in a row: keep the newest */
    pe->pending = g;
    pthread_mutex_unlock(&pe->lock);
    if (stale)
        gen_unref(stale);
    poke(pe);
}

void probe_engine_stop(struct probe_engine *pe)
{
    if (!pe || !pe->started)
        return;
    pthread_mutex_lock(&pe->lock);
    pe->stop_requested = true;
    pthread_mutex_unlock(&pe->lock);
    poke(pe);
    pthread_join(pe->thread, NULL);
    pe->started = false;
}

void probe_engine_free(struct probe_engine *pe)
{
    if (!pe)
        return;
    probe_engine_stop(pe);
    if (pe->multi)
        curl_multi_cleanup(pe->multi);
    if (pe->pending)
        gen_unref(pe->pending);
    if (pe->gen)
        gen_unref(pe->gen);
    sched_free(pe->heap);
    rec_unref(pe->lag);
    if (pe->epfd >= 0)
        close(pe->epfd);
    if (pe->sched_tfd >= 0)
        close(pe->sched_tfd);
    if (pe->curl_tfd >= 0)
        close(pe->curl_tfd);
    if (pe->evfd >= 0)
        close(pe->evfd);
    pthread_mutex_destroy(&pe->lock);
    free(pe);
}

bool probe_engine_running(const struct probe_engine *pe)
{
    return atomic_load(&((struct probe_engine *)pe)->running);
}

unsigned probe_engine_in_flight(const struct probe_engine *pe)
{
    return atomic_load(&((struct probe_engine *)pe)->in_flight);
}

struct rec *probe_engine_lag(const struct probe_engine *pe)
{
    return pe->lag;
}
