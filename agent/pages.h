/*
 * pages.h - the big answers (the metrics page in each of its formats and
 * encodings, the checks listing) rendered at most once per freshness
 * interval, shared by every client that asks meanwhile, and capped in the
 * memory they hold while clients receive them.
 *
 * Each page belongs to a variant (numbered by the caller). A request opens a
 * reader on its variant: it gets the page if that was rendered less than
 * max_age ago, else waits for a render of it already running that started
 * that recently, else renders it itself. So a page never holds data older
 * than max_age when its request arrived, and a burst of scrapes costs one
 * render. The store keeps a page while it is fresh; every reader keeps it
 * while its client receives it; whoever lets go last frees it.
 *
 * Memory: the pages alive, plus each render running counted at the size of
 * its variant's previous page, stay within max_held_bytes (unless one page
 * alone is larger: a page that exists can always be served). When a render
 * needs room the pages rendered longest ago are withdrawn: each of their
 * readers is cut (its next read fails and its cut callback runs, so the
 * owner can close the connection at once) and the memory is freed. A client
 * that does not read therefore pins nothing for long: the first render that
 * needs its bytes takes them back.
 *
 * Any thread. One mutex guards the store; renders run outside it.
 */
#ifndef OUTPOST_PAGES_H
#define OUTPOST_PAGES_H

#include "buf.h"
#include "clock.h"
#include "common.h"

#include <stdint.h>
#include <sys/types.h>

#define PAGES_MAX_VARIANTS 8

struct pages_options {
    unsigned n_variants; /* 1 to PAGES_MAX_VARIANTS */
    int64_t max_age_ms;  /* freshness: a page is reused this long after its render started */
    size_t max_held_bytes;
    const struct clock *clock;
    /* Render variant v into out, which it first initialises (buf_init)
     * with that variant's cap; the store keeps or frees out either way.
     * Runs on the requesting thread without the store's lock. An error is
     * shared by the requests that waited for that render. */
    enum op_rc (*render)(void *arg, unsigned variant, struct buf *out);
    void *render_arg;
};

struct pages;
struct page_reader;

/* A store for o (copied; the clock and render_arg are borrowed). */
struct pages *pages_new(const struct pages_options *o);
/* Free the store and its pages. Every reader must be closed first. */
void pages_free(struct pages *ps);

/*
 * A reader on a fresh page of variant v (see above): *out until
 * pages_close. cut(cut_arg) runs at most once, under the store's lock, when
 * the page is withdrawn; it must not call into the store. Returns the
 * render's error (its page was not made) and then *out is NULL.
 */
enum op_rc pages_open(struct pages *ps, unsigned v, void (*cut)(void *arg), void *cut_arg,
                      struct page_reader **out) WUR;
/* The page's size in bytes (also after a cut). */
size_t pages_size(const struct page_reader *r);
/* Copy up to cap bytes from offset pos into dst: how many (0 at the end),
 * or -1 once the reader was cut. */
ssize_t pages_read(struct page_reader *r, uint64_t pos, char *dst, size_t cap);
/* Let go of the page (the client is done or gone); frees r. */
void pages_close(struct page_reader *r);

/* Let go of pages that are no longer fresh (freed if no client holds
 * them). Returns milliseconds until the next fresh page turns stale, or -1
 * when none is fresh. */
int64_t pages_expire(struct pages *ps);

struct pages_stats {
    size_t held_bytes;                    /* pages alive and renders running */
    uint64_t renders[PAGES_MAX_VARIANTS]; /* renders started, by variant */
    uint64_t cut;                         /* readers cut to make room */
    unsigned waiting;                     /* requests waiting for a render */
};
void pages_stats(struct pages *ps, struct pages_stats *out);

#endif
