/* sli_window.c - multi-resolution rolling event counts. */
#include "sli_window.h"

#include <stdlib.h>
#include <string.h>

#define EMPTY INT64_MIN

struct level {
    int64_t bucket_ms;
    uint32_t n;
    int64_t head;
    struct sliw_bucket *b;
};

struct sliw {
    struct level lv[SLIW_LEVELS];
    size_t size;
    size_t cap; /* bytes allocated, >= size (sliw_clone_into) */
    /* bucket storage follows */
};

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

/* Ring slot of absolute bucket i: a floor modulus, so buckets before the
 * epoch (negative i) get their own slots too. */
size_t sliw_slot(int64_t i, uint32_t n)
{
    int64_t r = i % (int64_t)n;
    return (size_t)(r < 0 ? r + (int64_t)n : r);
}

/* Bucket of an event at t: k*b < t <= (k+1)*b. */
static int64_t bucket_of(int64_t t_ms, int64_t b)
{
    return floor_div(t_ms - 1, b);
}

static void wire(struct sliw *w)
{
    struct sliw_bucket *p = (struct sliw_bucket *)(w + 1);
    for (int i = 0; i < SLIW_LEVELS; i++) {
        w->lv[i].b = p;
        p += w->lv[i].n;
    }
}

struct sliw *sliw_new(uint32_t l2_hours)
{
    if (l2_hours < SLIW_L2_MIN_N)
        l2_hours = SLIW_L2_MIN_N;
    if (l2_hours > SLIW_L2_MAX_N)
        l2_hours = SLIW_L2_MAX_N;
    size_t total = SLIW_L0_N + SLIW_L1_N + l2_hours;
    size_t size = sizeof(struct sliw) + total * sizeof(struct sliw_bucket);
    struct sliw *w = xcalloc(1, size);
    const int64_t bms[SLIW_LEVELS] = {SLIW_L0_MS, SLIW_L1_MS, SLIW_L2_MS};
    const uint32_t ns[SLIW_LEVELS] = {SLIW_L0_N, SLIW_L1_N, l2_hours};
    for (int i = 0; i < SLIW_LEVELS; i++) {
        w->lv[i].bucket_ms = bms[i];
        w->lv[i].n = ns[i];
        w->lv[i].head = EMPTY;
    }
    w->size = size;
    w->cap = size;
    wire(w);
    return w;
}

struct sliw *sliw_clone(const struct sliw *w)
{
    return sliw_clone_into(w, NULL);
}

struct sliw *sliw_clone_into(const struct sliw *w, struct sliw *dst)
{
    /* The buffer's size is the larger of its stores so far: kept in its
     * own header, which the copy below overwrites with w's size. */
    size_t have = dst ? dst->cap : 0, want = w->size;
    if (have < want) {
        free(dst);
        dst = xmalloc(want);
        have = want;
    }
    memcpy(dst, w, w->size);
    dst->cap = have;
    wire(dst);
    return dst;
}

size_t sliw_size(const struct sliw *w)
{
    return w->size;
}

static uint32_t sat_add(uint32_t a, uint64_t b)
{
    uint64_t s = (uint64_t)a + b;
    return s > UINT32_MAX ? UINT32_MAX : (uint32_t)s;
}

/* Move the head to idx, zeroing the buckets time skipped. */
static void advance(struct level *l, int64_t idx)
{
    if (l->head == EMPTY || idx - l->head >= (int64_t)l->n) {
        memset(l->b, 0, l->n * sizeof(*l->b));
    } else {
        for (int64_t i = l->head + 1; i <= idx; i++)
            l->b[sliw_slot(i, l->n)] = (struct sliw_bucket){0, 0};
    }
    l->head = idx;
}

static void level_add(struct level *l, int64_t idx, uint64_t events, uint64_t bad)
{
    if (l->head == EMPTY || idx > l->head)
        advance(l, idx);
    if (idx <= l->head - (int64_t)l->n)
        return; /* older than this ring reaches */
    struct sliw_bucket *b = &l->b[sliw_slot(idx, l->n)];
    b->events = sat_add(b->events, events);
    b->bad = sat_add(b->bad, bad);
}

void sliw_add(struct sliw *w, int64_t t_ms, uint64_t events, uint64_t bad)
{
    if (bad > events)
        bad = events;
    for (int i = 0; i < SLIW_LEVELS; i++)
        level_add(&w->lv[i], bucket_of(t_ms, w->lv[i].bucket_ms), events, bad);
}

/* Sum of absolute buckets [lo, hi] of a level, clipped to what it holds. */
static void level_sum(const struct level *l, int64_t lo, int64_t hi, uint64_t *events,
                      uint64_t *bad)
{
    *events = 0;
    *bad = 0;
    if (l->head == EMPTY)
        return;
    if (hi > l->head)
        hi = l->head;
    if (lo < l->head - (int64_t)l->n + 1)
        lo = l->head - (int64_t)l->n + 1;
    for (int64_t i = lo; i <= hi; i++) {
        const struct sliw_bucket *b = &l->b[sliw_slot(i, l->n)];
        *events += b->events;
        *bad += b->bad;
    }
}

/* The level and absolute buckets [*lo, *hi] a window (T - window, T] is
 * summed from: the finest level whose span covers it. */
static const struct level *window_range(const struct sliw *w, int64_t at_ms, int64_t window_ms,
                                        int64_t *lo, int64_t *hi)
{
    int i = 0;
    while (i < SLIW_LEVELS - 1 && window_ms > w->lv[i].bucket_ms * (int64_t)w->lv[i].n)
        i++;
    const struct level *l = &w->lv[i];
    *hi = bucket_of(at_ms, l->bucket_ms);
    *lo = *hi - window_ms / l->bucket_ms + 1;
    return l;
}

/* The same for (since, T], from level 2. */
static const struct level *since_range(const struct sliw *w, int64_t at_ms, int64_t since_ms,
                                       int64_t *lo, int64_t *hi)
{
    const struct level *l = &w->lv[SLIW_LEVELS - 1];
    *hi = bucket_of(at_ms, l->bucket_ms);
    *lo = floor_div(since_ms, l->bucket_ms);
    return l;
}

void sliw_sum(const struct sliw *w, int64_t at_ms, int64_t window_ms, uint64_t *events,
              uint64_t *bad)
{
    int64_t lo, hi;
    const struct level *l = window_range(w, at_ms, window_ms, &lo, &hi);
    level_sum(l, lo, hi, events, bad);
}

void sliw_sum_since(const struct sliw *w, int64_t at_ms, int64_t since_ms, uint64_t *events,
                    uint64_t *bad)
{
    int64_t lo, hi;
    const struct level *l = since_range(w, at_ms, since_ms, &lo, &hi);
    level_sum(l, lo, hi, events, bad);
}

size_t sliw_running(const struct sliw *w, int64_t at_ms, int64_t window_ms, int64_t since_ms,
                    struct sliw_point *out, size_t max)
{
    int64_t lo, hi;
    const struct level *l = window_ms > 0 ? window_range(w, at_ms, window_ms, &lo, &hi)
                                          : since_range(w, at_ms, since_ms, &lo, &hi);
    if (max == 0)
        return 0;
    if (hi < lo) {
        /* since after at: nothing to sum, as sliw_sum_since says. */
        out[0] = (struct sliw_point){at_ms, 0, 0};
        return 1;
    }
    int64_t n = hi - lo + 1;
    size_t k_max = (int64_t)max < n ? max : (size_t)n;
    /* Buckets level_sum would skip (not yet reached, or already dropped
     * from the ring) add nothing, exactly as there. */
    int64_t first = l->head == EMPTY ? INT64_MAX : l->head - (int64_t)l->n + 1;
    uint64_t ev = 0, bad = 0;
    int64_t i = lo;
    for (size_t k = 0; k < k_max; k++) {
        /* Point k closes after bucket lo - 1 + (k + 1) n / k_max: the last
         * closes after hi. */
        int64_t end = lo - 1 + (int64_t)(((uint64_t)(k + 1) * (uint64_t)n) / k_max);
        for (; i <= end; i++) {
            if (l->head == EMPTY || i < first || i > l->head)
                continue;
            const struct sliw_bucket *b = &l->b[sliw_slot(i, l->n)];
            ev += b->events;
            bad += b->bad;
        }
        out[k] = (struct sliw_point){end == hi ? at_ms : (end + 1) * l->bucket_ms, ev, bad};
    }
    return k_max;
}

void sliw_level(const struct sliw *w, int level, struct sliw_level_view *out)
{
    const struct level *l = &w->lv[level];
    out->bucket_ms = l->bucket_ms;
    out->n = l->n;
    out->head = l->head;
    out->buckets = l->b;
}

void sliw_restore_bucket(struct sliw *w, int level, int64_t idx, struct sliw_bucket b)
{
    if (b.events == 0 && b.bad == 0)
        return;
    level_add(&w->lv[level], idx, b.events, b.bad);
}
