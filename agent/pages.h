/*
 * pages.h - the big answers (the metrics page in each of its formats and
 * encodings, the checks listing) shared by the requests that ask at the
 * same time, rendered at most once per short interval, and capped in the
 * memory they hold while clients receive them.
 *
 * Each page belongs to a variant (numbered by the caller). A request gets a
 * page whose render started after the request arrived: whatever happened
 * before a scrape (a probe, a request it counts, a reload) is on it, as if
 * it had rendered its own. Requests that arrive while a render runs wait
 * for the next one, which serves them all: a burst of scrapes costs at most
 * two renders. After a render that took d, the next one of that variant
 * starts no sooner than min(3d, max_gap_ms) after it ended, so rendering
 * takes at most a quarter of a core per variant however many clients ask,
 * and a small page (d of a millisecond) is never held back for long.
 *
 * A page lives while a client receives it (and while requests that waited
 * for it pick it up); whoever lets go last frees it. The pages alive, plus
 * each render running counted at the size of its variant's previous page,
 * stay within the cap unless one page alone is larger (a page that exists
 * can always be served). The cap is max_held_bytes, or when that is 0,
 * PAGES_AUTO_FACTOR times the largest page of any variant, within
 * [auto_min_bytes, auto_max_bytes]: room for a few pages of this agent,
 * whatever its size. When a render needs room the pages
 * rendered longest ago are withdrawn: each of their readers is cut (its
 * next read fails and its cut callback runs, so the owner can close the
 * connection at once) and the memory is freed. A client that does not read
 * therefore pins nothing for long: the first render that needs its bytes
 * takes them back.
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
#define PAGES_AUTO_FACTOR 3

struct pages_options {
    unsigned n_variants;   /* 1 to PAGES_MAX_VARIANTS */
    int64_t max_gap_ms;    /* the longest pause between two renders of a variant */
    size_t max_held_bytes; /* 0: automatic (above) */
    size_t auto_min_bytes, auto_max_bytes;
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
/* Free the store. Every reader must be closed and no request waiting. */
void pages_free(struct pages *ps);

/*
 * A reader on a page of variant v rendered after this call began (see
 * above): *out until pages_close. cut(cut_arg) runs at most once, under the
 * store's lock, when the page is withdrawn; it must not call into the
 * store. Returns the render's error (its page was not made) and then *out
 * is NULL.
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

struct pages_stats {
    size_t held_bytes;                    /* pages alive and renders running */
    size_t limit_bytes;                   /* the cap now */
    uint64_t renders[PAGES_MAX_VARIANTS]; /* renders started, by variant */
    uint64_t cut;                         /* readers cut to make room */
    unsigned waiting;                     /* requests waiting for a render */
};
void pages_stats(struct pages *ps, struct pages_stats *out);

#endif
