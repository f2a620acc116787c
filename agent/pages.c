/* pages.c - shared, coalesced, capped big answers (pages.h). */
#include "pages.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The pause after a render is this many times its duration. */
#define PAGES_GAP_FACTOR 3
/* A request waiting for its turn to render re-reads the clock at least
 * this often (the store's clock may be a test's, moved by another thread). */
#define PAGES_RECHECK_NS 20000000

struct page {
    struct page *prev, *next; /* every page alive */
    int64_t born_ns;          /* when its render started: what it can show */
    unsigned variant;
    bool current;                /* kept for the requests waiting for it */
    struct page_reader *readers; /* clients receiving it */
    char *data;
    size_t len;
};

struct page_reader {
    struct pages *ps;
    struct page *page; /* NULL once cut */
    struct page_reader *prev, *next;
    size_t len;
    void (*cut)(void *arg);
    void *cut_arg;
};

struct variant {
    struct page *page;       /* the latest page, while requests wait for it */
    unsigned waiters;        /* requests waiting for a render of it */
    bool scheduled;          /* a request waits for its turn to render */
    bool running;            /* a render runs */
    int64_t running_born_ns; /* since when */
    int64_t next_ok_ns;      /* the next render starts no sooner */
    size_t last_len;         /* the previous page's size: what a render reserves */
    bool failed;             /* the latest render failed ... */
    enum op_rc failed_rc;
    int64_t failed_born_ns; /* ... and started then */
};

struct pages {
    struct pages_options o;
    pthread_mutex_t lock;
    pthread_cond_t changed; /* a render started or finished */
    struct variant v[PAGES_MAX_VARIANTS];
    struct page *all;
    size_t held;
    uint64_t renders[PAGES_MAX_VARIANTS];
    uint64_t cut;
    unsigned waiting;
};

static int64_t now_ns(const struct pages *ps)
{
    return clock_mono_ns(ps->o.clock);
}

struct pages *pages_new(const struct pages_options *o)
{
    struct pages *ps = xcalloc(1, sizeof(*ps));
    ps->o = *o;
    if (ps->o.n_variants > PAGES_MAX_VARIANTS)
        ps->o.n_variants = PAGES_MAX_VARIANTS;
    pthread_mutex_init(&ps->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&ps->changed, &ca);
    pthread_condattr_destroy(&ca);
    return ps;
}

static void page_destroy(struct page *p)
{
    free(p->data);
    free(p);
}

void pages_free(struct pages *ps)
{
    if (!ps)
        return;
    for (struct page *p = ps->all, *next; p; p = next) {
        next = p->next;
        page_destroy(p);
    }
    pthread_cond_destroy(&ps->changed);
    pthread_mutex_destroy(&ps->lock);
    free(ps);
}

/* Under the lock: free p once neither the store nor a client holds it. The
 * memory goes to *grave, freed after the lock is released (a page can be
 * hundreds of MB: unmapping it must not stall other requests). */
static void maybe_free(struct pages *ps, struct page *p, struct page **grave)
{
    if (p->current || p->readers)
        return;
    if (p->prev)
        p->prev->next = p->next;
    else
        ps->all = p->next;
    if (p->next)
        p->next->prev = p->prev;
    ps->held -= p->len;
    p->next = *grave;
    *grave = p;
}

static void bury(struct page *grave)
{
    for (struct page *p = grave, *next; p; p = next) {
        next = p->next;
        page_destroy(p);
    }
}

/* Under the lock: the store lets go of v's latest page once no request
 * waits for a render of v any more (one that arrives later needs a newer
 * page anyway). */
static void drop_if_unwanted(struct pages *ps, struct variant *v, struct page **grave)
{
    struct page *p = v->page;
    if (!p || v->waiters)
        return;
    v->page = NULL;
    p->current = false;
    maybe_free(ps, p, grave);
}

/* Under the lock: withdraw p. Its clients are cut, the store forgets it. */
static void withdraw(struct pages *ps, struct page *p, struct page **grave)
{
    for (struct page_reader *r = p->readers, *next; r; r = next) {
        next = r->next;
        r->page = NULL;
        r->prev = r->next = NULL;
        ps->cut++;
        if (r->cut)
            r->cut(r->cut_arg);
    }
    p->readers = NULL;
    if (p->current) {
        p->current = false;
        ps->v[p->variant].page = NULL;
    }
    maybe_free(ps, p, grave);
}

/* Under the lock: the cap on bytes held (pages.h). */
static size_t limit(const struct pages *ps)
{
    if (ps->o.max_held_bytes)
        return ps->o.max_held_bytes;
    size_t largest = 0;
    for (unsigned i = 0; i < ps->o.n_variants; i++)
        if (ps->v[i].last_len > largest)
            largest = ps->v[i].last_len;
    size_t c = largest > SIZE_MAX / PAGES_AUTO_FACTOR ? SIZE_MAX : PAGES_AUTO_FACTOR * largest;
    if (c < ps->o.auto_min_bytes)
        c = ps->o.auto_min_bytes;
    if (c > ps->o.auto_max_bytes)
        c = ps->o.auto_max_bytes;
    return c;
}

/* Under the lock: withdraw the pages rendered longest ago, all but keep,
 * until the bytes held fit the cap again (or nothing else is left). */
static void make_room(struct pages *ps, const struct page *keep, struct page **grave)
{
    size_t cap = limit(ps);
    while (ps->held > cap) {
        struct page *oldest = NULL;
        for (struct page *p = ps->all; p; p = p->next)
            if (p != keep && (!oldest || p->born_ns < oldest->born_ns))
                oldest = p;
        if (!oldest)
            return;
        withdraw(ps, oldest, grave);
    }
}

/* Under the lock: a reader on p. */
static struct page_reader *attach(struct pages *ps, struct page *p, void (*cut)(void *),
                                  void *cut_arg)
{
    struct page_reader *r = xcalloc(1, sizeof(*r));
    r->ps = ps;
    r->page = p;
    r->len = p->len;
    r->cut = cut;
    r->cut_arg = cut_arg;
    r->next = p->readers;
    if (p->readers)
        p->readers->prev = r;
    p->readers = r;
    return r;
}

/* Render variant vi (without the lock) into a new page, or fail. */
static enum op_rc render(struct pages *ps, unsigned vi, int64_t born, struct page **out)
{
    struct buf b = {0};
    enum op_rc rc = ps->o.render(ps->o.render_arg, vi, &b);
    if (rc == OP_OK && b.failed)
        rc = OP_ERR_LIMIT;
    if (rc != OP_OK) {
        buf_free(&b);
        return rc;
    }
    struct page *p = xcalloc(1, sizeof(*p));
    p->born_ns = born;
    p->variant = vi;
    p->len = b.len;
    /* The buffer grew by doubling: give back what the page does not use. */
    p->data = xrealloc(buf_take(&b), p->len + 1);
    *out = p;
    return OP_OK;
}

/* Under the lock: wait for a change, at most until `until` on the store's
 * clock (and never longer than PAGES_RECHECK_NS); until < 0: no limit. */
static void wait_change(struct pages *ps, int64_t until)
{
    if (until < 0) {
        pthread_cond_wait(&ps->changed, &ps->lock);
        return;
    }
    int64_t left = until - now_ns(ps);
    if (left <= 0)
        return;
    if (left > PAGES_RECHECK_NS)
        left = PAGES_RECHECK_NS;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += left / 1000000000;
    ts.tv_nsec += left % 1000000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    pthread_cond_timedwait(&ps->changed, &ps->lock, &ts);
}

/* Under the lock: wait for a page or an error of v that started at or
 * after arrival, and take it (true); false when this request must render
 * it itself. */
static bool await_page(struct pages *ps, struct variant *v, int64_t arrival, void (*cut)(void *),
                       void *cut_arg, struct page_reader **out, enum op_rc *rc, struct page **grave)
{
    bool waited = false, done = false;
    for (;;) {
        if (v->page && v->page->born_ns >= arrival) {
            *out = attach(ps, v->page, cut, cut_arg);
            *rc = OP_OK;
            done = true;
            break;
        }
        if (v->failed && v->failed_born_ns >= arrival) {
            *rc = v->failed_rc;
            done = true;
            break;
        }
        /* A render that will start, or started, no sooner than this
         * request arrived serves it: wait for that one. */
        if (!v->scheduled && !(v->running && v->running_born_ns >= arrival))
            break;
        if (!waited) {
            waited = true;
            v->waiters++;
            ps->waiting++;
        }
        wait_change(ps, -1);
    }
    if (waited) {
        v->waiters--;
        ps->waiting--;
        drop_if_unwanted(ps, v, grave);
    }
    return done;
}

enum op_rc pages_open(struct pages *ps, unsigned vi, void (*cut)(void *arg), void *cut_arg,
                      struct page_reader **out)
{
    *out = NULL;
    if (vi >= ps->o.n_variants)
        return OP_ERR_INVALID;
    struct variant *v = &ps->v[vi];
    struct page *grave = NULL;
    enum op_rc rc = OP_OK;
    pthread_mutex_lock(&ps->lock);
    int64_t arrival = now_ns(ps);
    if (await_page(ps, v, arrival, cut, cut_arg, out, &rc, &grave)) {
        pthread_mutex_unlock(&ps->lock);
        bury(grave);
        return rc;
    }
    /* This request renders the next page. Others that arrive from now on
     * wait for it; it waits for the render running to end, and for the
     * pause after the previous one. */
    v->scheduled = true;
    while (v->running || now_ns(ps) < v->next_ok_ns)
        wait_change(ps, v->running ? -1 : v->next_ok_ns);
    v->scheduled = false;
    int64_t born = now_ns(ps);
    v->running = true;
    v->running_born_ns = born;
    ps->renders[vi]++;
    /* Reserve the previous page's size first, so the memory for it is
     * made before it is used. */
    size_t reserved = v->last_len;
    ps->held += reserved;
    make_room(ps, NULL, &grave);
    pthread_cond_broadcast(&ps->changed);
    pthread_mutex_unlock(&ps->lock);
    bury(grave);
    grave = NULL;

    struct page *p = NULL;
    rc = render(ps, vi, born, &p);

    pthread_mutex_lock(&ps->lock);
    int64_t end = now_ns(ps), gap = PAGES_GAP_FACTOR * (end - born);
    if (gap > ps->o.max_gap_ms * 1000000)
        gap = ps->o.max_gap_ms * 1000000;
    v->next_ok_ns = end + gap;
    v->running = false;
    ps->held -= reserved;
    if (rc == OP_OK) {
        p->next = ps->all;
        if (ps->all)
            ps->all->prev = p;
        ps->all = p;
        ps->held += p->len;
        v->last_len = p->len;
        v->failed = false;
        struct page *old = v->page;
        v->page = p;
        p->current = true;
        if (old) {
            old->current = false;
            maybe_free(ps, old, &grave);
        }
        *out = attach(ps, p, cut, cut_arg);
        make_room(ps, p, &grave);
        drop_if_unwanted(ps, v, &grave);
    } else {
        v->failed = true;
        v->failed_rc = rc;
        v->failed_born_ns = born;
    }
    pthread_cond_broadcast(&ps->changed);
    pthread_mutex_unlock(&ps->lock);
    bury(grave);
    return rc;
}

size_t pages_size(const struct page_reader *r)
{
    return r->len;
}

ssize_t pages_read(struct page_reader *r, uint64_t pos, char *dst, size_t cap)
{
    struct pages *ps = r->ps;
    ssize_t n = -1;
    /* The copy is a few KiB: cheaper under the lock than pinning the page
     * for it, and a withdrawal can then free at once. */
    pthread_mutex_lock(&ps->lock);
    if (r->page) {
        size_t left = pos < r->len ? r->len - (size_t)pos : 0;
        size_t k = left < cap ? left : cap;
        memcpy(dst, r->page->data + pos, k);
        n = (ssize_t)k;
    }
    pthread_mutex_unlock(&ps->lock);
    return n;
}

void pages_close(struct page_reader *r)
{
    if (!r)
        return;
    struct pages *ps = r->ps;
    struct page *grave = NULL;
    pthread_mutex_lock(&ps->lock);
    struct page *p = r->page;
    if (p) {
        if (r->prev)
            r->prev->next = r->next;
        else
            p->readers = r->next;
        if (r->next)
            r->next->prev = r->prev;
        maybe_free(ps, p, &grave);
    }
    pthread_mutex_unlock(&ps->lock);
    bury(grave);
    free(r);
}

void pages_stats(struct pages *ps, struct pages_stats *out)
{
    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&ps->lock);
    out->held_bytes = ps->held;
    out->limit_bytes = limit(ps);
    memcpy(out->renders, ps->renders, sizeof(out->renders));
    out->cut = ps->cut;
    out->waiting = ps->waiting;
    pthread_mutex_unlock(&ps->lock);
}
