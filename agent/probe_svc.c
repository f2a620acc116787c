/* probe_svc.c - the probe loop's services to check types (check.h):
 * descriptors in its epoll set, one-shot timers, libcurl transfers. */
#include "log.h"
#include "probe_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

/* ---- descriptors ---- */

static int ctl(struct probe_loop *pl, int op, struct probe_watch *w)
{
    struct epoll_event ev = {.events = w->events, .data.ptr = w};
    return epoll_ctl(pl->epfd, op, w->fd, &ev);
}

/* The unwatched watch of fd still in the epoll set, if any. */
static struct probe_watch *pending_del(struct probe_loop *pl, int fd)
{
    for (struct probe_watch *w = pl->dead; w; w = w->next_dead)
        if (w->del_pending && w->fd == fd)
            return w;
    return NULL;
}

struct probe_watch *probe_watch_fd(struct probe_loop *pl, int fd, uint32_t events, probe_fd_cb cb,
                                   void *arg)
{
    /* The same descriptor watched again before the batch ended (libcurl
     * keeps a connection): its registration is this watch's now. */
    struct probe_watch *old = pending_del(pl, fd);
    if (old)
        old->del_pending = false;
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

/* Unwatch a libcurl socket: out of the epoll set at the batch's end,
 * unless libcurl closes it first (probe_on_close), which saves that
 * epoll_ctl for nearly every probe. Events of the current batch that still
 * point at w are skipped (dead). */
static void unwatch_lazily(struct probe_loop *pl, struct probe_watch *w)
{
    if (!w || w->dead)
        return;
    w->dead = true;
    w->del_pending = true;
    w->next_dead = pl->dead;
    pl->dead = w;
}

void probe_free_dead(struct probe_loop *pl)
{
    while (pl->dead) {
        struct probe_watch *w = pl->dead;
        pl->dead = w->next_dead;
        if (w->del_pending)
            (void)epoll_ctl(pl->epfd, EPOLL_CTL_DEL, w->fd, NULL);
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

void probe_run_timers(struct probe_loop *pl, int64_t now)
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

void probe_drain_curl(struct probe_loop *pl)
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
    probe_drain_curl(pl);
}

/* CURLMOPT_SOCKETFUNCTION: keep libcurl's sockets in the epoll set; the
 * watch rides along as the socket's socketp. */
int probe_on_socket(CURL *easy, curl_socket_t s, int what, void *userp, void *socketp)
{
    (void)easy;
    struct probe_loop *pl = userp;
    struct probe_watch *w = socketp;
    if (what == CURL_POLL_REMOVE) {
        unwatch_lazily(pl, w);
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

int probe_on_close(void *clientp, curl_socket_t s)
{
    struct probe_loop *pl = clientp;
    /* Closing takes the socket out of the epoll set (libcurl never
     * duplicates it): nothing left to remove. */
    struct probe_watch *w = pending_del(pl, s);
    if (w)
        w->del_pending = false;
    return close(s);
}

/* CURLMOPT_TIMERFUNCTION: never call libcurl from here (house style), only
 * note the deadline; the loop arms the timerfd when it settles. */
int probe_on_curl_timer(CURLM *multi, long timeout_ms, void *userp)
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
    if (curl_easy_setopt(easy, CURLOPT_PRIVATE, er) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_CLOSESOCKETFUNCTION, probe_on_close) != CURLE_OK ||
        curl_easy_setopt(easy, CURLOPT_CLOSESOCKETDATA, pl) != CURLE_OK)
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

CURL *probe_easy_take(struct probe_loop *pl)
{
    if (pl->n_easy_pool)
        return pl->easy_pool[--pl->n_easy_pool];
    return curl_easy_init();
}

void probe_easy_give(struct probe_loop *pl, CURL *easy)
{
    if (!easy)
        return;
    if (pl->n_easy_pool == PROBE_EASY_POOL) {
        curl_easy_cleanup(easy);
        return;
    }
    /* Now, not at the next take: the handle lets go of the run's callbacks,
     * buffers and strings (its options point into the run's memory). */
    curl_easy_reset(easy);
    pl->easy_pool[pl->n_easy_pool++] = easy;
}

void probe_easy_pool_free(struct probe_loop *pl)
{
    while (pl->n_easy_pool)
        curl_easy_cleanup(pl->easy_pool[--pl->n_easy_pool]);
}
