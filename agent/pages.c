/* pages.c - shared, fresh, capped big answers (pages.h). */
#include "pages.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct page {
    struct page *prev, *next; /* every page alive */
    int64_t born_ms;          /* when its render started: the age of its data */
    unsigned variant;
    bool current;                /* the store's reference: reused while fresh */
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
    struct page *page;      /* the latest page, until it turns stale */
    unsigned rendering;     /* renders running */
    int64_t render_born_ms; /* start of the latest of them */
    size_t last_len;        /* the previous page's size: what a render reserves */
    bool failed;            /* the latest render failed ... */
    enum op_rc failed_rc;
    int64_t failed_born_ms; /* ... and when it started */
};

struct pages {
    struct pages_options o;
    size_t max_page_bytes;
    pthread_mutex_t lock;
    pthread_cond_t rendered; /* a render finished (either way) */
    struct variant v[PAGES_MAX_VARIANTS];
    struct page *all;
    size_t held;
    uint64_t renders[PAGES_MAX_VARIANTS];
    uint64_t cut;
    unsigned waiting;
};

static int64_t now_ms(const struct pages *ps)
{
    return clock_mono_ns(ps->o.clock) / 1000000;
}

struct pages *pages_new(const struct pages_options *o)
{
    struct pages *ps = xcalloc(1, sizeof(*ps));
    ps->o = *o;
    if (ps->o.n_variants > PAGES_MAX_VARIANTS)
        ps->o.n_variants = PAGES_MAX_VARIANTS;
    pthread_mutex_init(&ps->lock, NULL);
    pthread_cond_init(&ps->rendered, NULL);
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
    pthread_cond_destroy(&ps->rendered);
    pthread_mutex_destroy(&ps->lock);
    free(ps);
}

/* Under the lock: free p once neither the store nor a client holds it. The
 * memory goes to *grave, freed after the lock is released (a page can be
 * hundreds of MB: unmapping it must not stall other scrapes). */
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

/* Under the lock: withdraw the pages rendered longest ago, all but keep,
 * until the bytes held fit the cap again (or nothing else is left). */
static void make_room(struct pages *ps, const struct page *keep, struct page **grave)
{
    while (ps->held > ps->o.max_held_bytes) {
        struct page *oldest = NULL;
        for (struct page *p = ps->all; p; p = p->next)
            if (p != keep && (!oldest || p->born_ms < oldest->born_ms))
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
    p->born_ms = born;
    p->variant = vi;
    p->len = b.len;
    /* The buffer grew by doubling: give back what the page does not use. */
    p->data = xrealloc(buf_take(&b), p->len + 1);
    *out = p;
    return OP_OK;
}

enum op_rc pages_open(struct pages *ps, unsigned vi, void (*cut)(void *arg), void *cut_arg,
                      struct page_reader **out)
{
    *out = NULL;
    if (vi >= ps->o.n_variants)
        return OP_ERR_INVALID;
    /* Freshness is judged against the arrival: whatever this request
     * waits for must have started rendering within max_age of it. */
    int64_t arrival = now_ms(ps);
    struct variant *v = &ps->v[vi];
    struct page *grave = NULL;
    pthread_mutex_lock(&ps->lock);
    for (;;) {
        if (v->page && arrival - v->page->born_ms < ps->o.max_age_ms) {
            *out = attach(ps, v->page, cut, cut_arg);
            pthread_mutex_unlock(&ps->lock);
            return OP_OK;
        }
        if (v->failed && arrival - v->failed_born_ms < ps->o.max_age_ms) {
            enum op_rc rc = v->failed_rc;
            pthread_mutex_unlock(&ps->lock);
            return rc;
        }
        if (!v->rendering || arrival - v->render_born_ms >= ps->o.max_age_ms)
            break;
        ps->waiting++;
        pthread_cond_wait(&ps->rendered, &ps->lock);
        ps->waiting--;
    }
    /* Render it here. Reserve the previous page's size first, so the
     * memory for it is made before it is used. */
    size_t reserved = v->last_len;
    v->rendering++;
    v->render_born_ms = arrival;
    ps->renders[vi]++;
    ps->held += reserved;
    make_room(ps, NULL, &grave);
    pthread_mutex_unlock(&ps->lock);
    bury(grave);
    grave = NULL;

    struct page *p = NULL;
    enum op_rc rc = render(ps, vi, arrival, &p);

    pthread_mutex_lock(&ps->lock);
    ps->held -= reserved;
    v->rendering--;
    if (rc == OP_OK) {
        p->next = ps->all;
        if (ps->all)
            ps->all->prev = p;
        ps->all = p;
        ps->held += p->len;
        v->last_len = p->len;
        v->failed = false;
        /* A render that started earlier but finished later must not
         * replace a newer page. */
        if (!v->page || v->page->born_ms <= arrival) {
            struct page *old = v->page;
            v->page = p;
            p->current = true;
            if (old) {
                old->current = false;
                maybe_free(ps, old, &grave);
            }
        }
        *out = attach(ps, p, cut, cut_arg);
        make_room(ps, p, &grave);
    } else {
        v->failed = true;
        v->failed_rc = rc;
        v->failed_born_ms = arrival;
    }
    pthread_cond_broadcast(&ps->rendered);
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
    /* The copy is a few tens of KiB: cheaper under the lock than pinning
     * the page for it, and a withdrawal can then free at once. */
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

int64_t pages_expire(struct pages *ps)
{
    int64_t now = now_ms(ps), next = -1;
    struct page *grave = NULL;
    pthread_mutex_lock(&ps->lock);
    for (unsigned i = 0; i < ps->o.n_variants; i++) {
        struct page *p = ps->v[i].page;
        if (!p)
            continue;
        int64_t left = p->born_ms + ps->o.max_age_ms - now;
        if (left > 0) {
            if (next < 0 || left < next)
                next = left;
            continue;
        }
        ps->v[i].page = NULL;
        p->current = false;
        maybe_free(ps, p, &grave);
    }
    pthread_mutex_unlock(&ps->lock);
    bury(grave);
    return next;
}

void pages_stats(struct pages *ps, struct pages_stats *out)
{
    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&ps->lock);
    out->held_bytes = ps->held;
    memcpy(out->renders, ps->renders, sizeof(out->renders));
    out->cut = ps->cut;
    out->waiting = ps->waiting;
    pthread_mutex_unlock(&ps->lock);
}
