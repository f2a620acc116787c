/* canary_state.c - sample rings written by one owner and copied by readers
 * without stopping it, and the cached verdict. */
#include "canary_state.h"

#include <assert.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Rings start with this many samples and double as they fill. */
#define RING_INITIAL 64u
/* Timestamps keep 63 bits (bit 0 holds ok). */
#define T_LIMIT ((int64_t)1 << 62)

/* One sample in 16 bytes: t_ms doubled with ok in bit 0, and the latency's
 * bit pattern. Relaxed atomics: the owner may overwrite a slot while a reader
 * copies it; the reader then drops that sample by its index (read_arms). */
struct sample {
    atomic_uint_least64_t t_ok;
    atomic_uint_least64_t latency;
};

/* An array the owner replaced; a reader frees it. */
struct retired {
    struct retired *next;
    struct sample *v;
};

/* One arm. Sample k (k counts every add since creation) lives in
 * v[k % (cap + 1)]. The spare slot keeps the owner's write in progress (at
 * index count) off every sample a reader may take ([count - cap, count)). */
struct ring {
    /* Written by the owner under lock; read by readers under lock. */
    struct sample *v;
    size_t cap;     /* samples kept by this array */
    uint64_t count; /* samples added since creation, published after the write */
    uint64_t start; /* the oldest sample kept: moved by resets and resizes */
    /* Owner only. */
    size_t limit; /* the capacity the ring grows to */
};

struct canary_state {
    atomic_uint refs;
    uint64_t identity;
    atomic_size_t want_cap;             /* canst_set_capacity; applied by the owner */
    size_t applied_cap;                 /* owner only */
    char checksum[CANARY_MAX_CHECKSUM]; /* owner only */
    pthread_mutex_t lock;               /* ring indexes, arrays, generation, retired: O(1) holds */
    struct ring arm[2];
    uint64_t generation; /* bumps on reset: cached verdicts from before die */
    struct retired *retired;
    pthread_mutex_t verdict_lock; /* readers: the cache, the judge, freeing retired arrays */
    bool cached;
    int64_t cached_at_ms;
    uint64_t cached_generation;
    struct canary_verdict verdict;
    atomic_int reported; /* the verdict the evaluator last reported */
};

/* Tests only (see canary_state.h): NULL in the agent. */
STATIC void (*canst_copy_hook)(enum canary_arm_id arm, void *arg);
STATIC void *canst_copy_hook_arg;

/* The ring capacity asked for, raised to the documented slack. Above the cap
 * is a caller's bug (the configuration rejects such windows): stop rather
 * than silently keep less than the window. */
static size_t ring_bounds(size_t cap)
{
    if (cap > CANARY_MAX_RING) {
        fprintf(stderr, "outpost: canary ring of %zu samples asked, cap is %zu\n", cap,
                CANARY_MAX_RING);
        abort();
    }
    return cap < CANARY_MIN_RING ? CANARY_MIN_RING : cap;
}

static size_t min_size(size_t a, size_t b)
{
    return a < b ? a : b;
}

/* Samples an arm holds; owner, or anyone holding lock. */
static size_t ring_held(const struct ring *r)
{
    uint64_t n = r->count - r->start;
    return n < r->cap ? (size_t)n : r->cap;
}

/* t_ms of a sample's first word. */
static int64_t unpack_t(uint64_t t_ok)
{
    uint64_t twice = t_ok & ~(uint64_t)1;
    /* Halve the two's complement value without an implementation-defined
     * unsigned-to-signed conversion. */
    return (twice >> 63) ? -(int64_t)((0 - twice) >> 1) : (int64_t)(twice >> 1);
}

/* Owner: fill a slot no reader may take (see struct ring). */
static void sample_store(struct sample *s, int64_t t_ms, double latency, bool ok)
{
    uint64_t bits;
    memcpy(&bits, &latency, sizeof(bits));
    atomic_store_explicit(&s->t_ok, ((uint64_t)t_ms << 1) | (uint64_t)ok, memory_order_relaxed);
    atomic_store_explicit(&s->latency, bits, memory_order_relaxed);
}

struct canary_state *canst_new(uint64_t identity, size_t ring_cap)
{
    ring_cap = ring_bounds(ring_cap);
    struct canary_state *st = xcalloc(1, sizeof(*st));
    atomic_init(&st->refs, 1);
    st->identity = identity;
    atomic_init(&st->reported, CANARY_INCONCLUSIVE);
    atomic_init(&st->want_cap, ring_cap);
    st->applied_cap = ring_cap;
    pthread_mutex_init(&st->lock, NULL);
    pthread_mutex_init(&st->verdict_lock, NULL);
    for (int a = 0; a < 2; a++) {
        struct ring *r = &st->arm[a];
        r->cap = min_size(RING_INITIAL, ring_cap);
        r->v = xmalloc((r->cap + 1) * sizeof(struct sample));
        r->limit = ring_cap;
    }
    return st;
}

static void free_retired(struct retired *q)
{
    while (q) {
        struct retired *next = q->next;
        free(q->v);
        free(q);
        q = next;
    }
}

void canst_ref(struct canary_state *st)
{
    atomic_fetch_add_explicit(&st->refs, 1, memory_order_relaxed);
}

void canst_unref(struct canary_state *st)
{
    if (!st || atomic_fetch_sub_explicit(&st->refs, 1, memory_order_acq_rel) != 1)
        return;
    pthread_mutex_destroy(&st->lock);
    pthread_mutex_destroy(&st->verdict_lock);
    free(st->arm[0].v);
    free(st->arm[1].v);
    free_retired(st->retired);
    free(st);
}

uint64_t canst_identity(const struct canary_state *st)
{
    return st->identity;
}

void canst_set_capacity(struct canary_state *st, size_t ring_cap)
{
    atomic_store_explicit(&st->want_cap, ring_bounds(ring_cap), memory_order_relaxed);
}

/* Owner: move r to an array of new_cap samples, keeping the newest of those
 * it holds. The old array may still be under a reader's copy: it is retired,
 * and the next reader frees it. O(samples held). */
static void ring_resize(struct canary_state *st, struct ring *r, size_t new_cap)
{
    uint64_t keep = min_size(ring_held(r), new_cap);
    struct sample *nv = xmalloc((new_cap + 1) * sizeof(*nv));
    for (uint64_t k = r->count - keep; k < r->count; k++) {
        const struct sample *from = &r->v[k % (r->cap + 1)];
        struct sample *to = &nv[k % (new_cap + 1)];
        atomic_init(&to->t_ok, atomic_load_explicit(&from->t_ok, memory_order_relaxed));
        atomic_init(&to->latency, atomic_load_explicit(&from->latency, memory_order_relaxed));
    }
    struct retired *old = xmalloc(sizeof(*old));
    old->v = r->v;
    pthread_mutex_lock(&st->lock);
    old->next = st->retired;
    st->retired = old;
    r->v = nv;
    r->cap = new_cap;
    r->start = r->count - keep; /* a larger array must not reach past what was kept */
    pthread_mutex_unlock(&st->lock);
}

/* Owner: apply the capacity the configuration wants to both arms. A ring
 * above it shrinks now (to what it holds, at most the new capacity); a ring
 * below it grows as samples arrive. */
static void apply_capacity(struct canary_state *st, size_t want)
{
    for (int a = 0; a < 2; a++) {
        struct ring *r = &st->arm[a];
        r->limit = want;
        if (r->cap > want) {
            size_t held = ring_held(r);
            ring_resize(st, r, min_size(want, held > RING_INITIAL ? held : RING_INITIAL));
        }
    }
    st->applied_cap = want;
}

void canst_add(struct canary_state *st, enum canary_arm_id arm, int64_t t_ms, double latency,
               bool ok)
{
    assert(arm == ARM_BASELINE || arm == ARM_CANARY);
    assert(t_ms >= -T_LIMIT && t_ms < T_LIMIT);
    size_t want = atomic_load_explicit(&st->want_cap, memory_order_relaxed);
    if (want != st->applied_cap)
        apply_capacity(st, want);
    struct ring *r = &st->arm[arm];
    /* Full and allowed more: double (amortised O(1) per sample). */
    if (r->count - r->start >= r->cap && r->cap < r->limit)
        ring_resize(st, r, r->cap <= r->limit / 2 ? 2 * r->cap : r->limit);
    uint64_t k = r->count;
    sample_store(&r->v[k % (r->cap + 1)], t_ms, latency, ok);
    /* Publishing the count under the lock orders the sample's stores before
     * any reader's capture that includes it. */
    pthread_mutex_lock(&st->lock);
    r->count = k + 1;
    pthread_mutex_unlock(&st->lock);
}

void canst_reset(struct canary_state *st)
{
    pthread_mutex_lock(&st->lock);
    for (int a = 0; a < 2; a++)
        st->arm[a].start = st->arm[a].count;
    st->generation++;
    pthread_mutex_unlock(&st->lock);
}

bool canst_checksum(struct canary_state *st, const char *checksum)
{
    if (!checksum || !*checksum)
        return false;
    if (strncmp(st->checksum, checksum, sizeof(st->checksum) - 1) == 0)
        return false;
    /* The first checksum also starts a fresh revision: samples taken before
     * Flagger said which revision this is cannot be trusted. */
    canst_reset(st);
    /* The HTTP layer caps checksums below this size; a longer one is
     * compared by its prefix, which is still a revision identity. */
    snprintf(st->checksum, sizeof(st->checksum), "%s", checksum);
    return true;
}

/* What a reader captured of one arm under lock. */
struct arm_view {
    const struct sample *v;
    size_t cap;
    uint64_t lo, hi; /* sample indexes [lo, hi) */
};

/* Reader, no lock: copy w's samples in (since, now] to out, oldest first;
 * bit i of in_window is set when sample lo + i was copied. Returns how many
 * were. A sample may be overwritten while it is read: read_arms then drops
 * it by its index. */
static size_t copy_arm(const struct arm_view *w, enum canary_arm_id arm, int64_t since_ms,
                       int64_t now_ms, struct canary_sample *out, uint64_t *in_window)
{
    size_t n = 0, total = (size_t)(w->hi - w->lo);
    for (size_t i = 0; i < total; i++) {
        if (i == total / 2 && canst_copy_hook)
            canst_copy_hook(arm, canst_copy_hook_arg);
        const struct sample *s = &w->v[(w->lo + i) % (w->cap + 1)];
        uint64_t t_ok = atomic_load_explicit(&s->t_ok, memory_order_relaxed);
        uint64_t bits = atomic_load_explicit(&s->latency, memory_order_relaxed);
        int64_t t = unpack_t(t_ok);
        if (t <= since_ms || t > now_ms)
            continue;
        memcpy(&out[n].latency, &bits, sizeof(out[n].latency));
        out[n].ok = t_ok & 1;
        n++;
        in_window[i / 64] |= (uint64_t)1 << (i % 64);
    }
    return n;
}

/* Set bits among the first `bits` of map. */
static size_t count_bits(const uint64_t *map, size_t bits)
{
    size_t n = 0;
    for (size_t i = 0; i < bits / 64; i++)
        n += (size_t)__builtin_popcountll(map[i]);
    if (bits % 64)
        n += (size_t)__builtin_popcountll(map[bits / 64] & (((uint64_t)1 << (bits % 64)) - 1));
    return n;
}

/* Reader, verdict_lock held: each arm's samples in (since, now], oldest
 * first, a contiguous run of what the arm held (out[a]: caller frees).
 * Returns the generation they belong to. The lock the owner needs is held
 * twice, each time for a few indexes; the copy runs without it. */
static uint64_t read_arms(struct canary_state *st, int64_t since_ms, int64_t now_ms,
                          struct canary_sample *out[2], size_t n[2])
{
    struct arm_view w[2];
    pthread_mutex_lock(&st->lock);
    /* Readers are serialised by verdict_lock, so no one still copies from
     * an array retired before this capture. */
    struct retired *dead = st->retired;
    st->retired = NULL;
    for (int a = 0; a < 2; a++) {
        const struct ring *r = &st->arm[a];
        w[a] = (struct arm_view){r->v, r->cap, r->count - ring_held(r), r->count};
    }
    uint64_t gen = st->generation;
    pthread_mutex_unlock(&st->lock);
    free_retired(dead);

    uint64_t *in_window[2];
    for (int a = 0; a < 2; a++) {
        size_t total = (size_t)(w[a].hi - w[a].lo);
        out[a] = xmalloc(total * sizeof(**out));
        in_window[a] = xcalloc(total / 64 + 1, sizeof(uint64_t));
        n[a] = copy_arm(&w[a], (enum canary_arm_id)a, since_ms, now_ms, out[a], in_window[a]);
    }

    uint64_t count_now[2];
    pthread_mutex_lock(&st->lock);
    for (int a = 0; a < 2; a++)
        count_now[a] = st->arm[a].count;
    pthread_mutex_unlock(&st->lock);

    /* Since the capture the owner wrote samples up to count_now, the last
     * one perhaps still in progress. In the captured array each write lands
     * cap + 1 samples back, so everything below count_now - cap may be
     * overwritten (an array replaced meanwhile is written no more, so this
     * is an over-estimate then). */
    for (int a = 0; a < 2; a++) {
        if (count_now[a] > w[a].lo + w[a].cap) {
            uint64_t first = count_now[a] - w[a].cap;
            uint64_t gone = first < w[a].hi ? first - w[a].lo : w[a].hi - w[a].lo;
            size_t skip = count_bits(in_window[a], (size_t)gone);
            memmove(out[a], out[a] + skip, (n[a] - skip) * sizeof(**out));
            n[a] -= skip;
        }
        free(in_window[a]);
    }
    return gen;
}

void canst_verdict(struct canary_state *st, const struct canary_spec *spec, int64_t now_ms,
                   struct canary_verdict *out)
{
    pthread_mutex_lock(&st->verdict_lock);
    pthread_mutex_lock(&st->lock);
    uint64_t gen = st->generation;
    pthread_mutex_unlock(&st->lock);
    bool fresh = st->cached && st->cached_generation == gen &&
                 now_ms - st->cached_at_ms < spec->interval_ms && now_ms >= st->cached_at_ms;
    if (!fresh) {
        struct canary_sample *s[2];
        size_t n[2];
        gen = read_arms(st, now_ms - spec->window_ms, now_ms, s, n);
        canary_judge(s[ARM_BASELINE], n[ARM_BASELINE], s[ARM_CANARY], n[ARM_CANARY],
                     &spec->settings, &st->verdict);
        st->cached = true;
        st->cached_at_ms = now_ms;
        st->cached_generation = gen;
        free(s[0]);
        free(s[1]);
    }
    *out = st->verdict;
    pthread_mutex_unlock(&st->verdict_lock);
}

#ifdef OUTPOST_TESTING
size_t canst_samples(struct canary_state *st, enum canary_arm_id arm, int64_t since_ms,
                     int64_t now_ms, struct canary_sample **out)
{
    struct canary_sample *s[2];
    size_t n[2];
    pthread_mutex_lock(&st->verdict_lock);
    (void)read_arms(st, since_ms, now_ms, s, n);
    pthread_mutex_unlock(&st->verdict_lock);
    free(s[1 - arm]);
    *out = s[arm];
    return n[arm];
}
#endif

enum canary_verdict_kind canst_swap_reported(struct canary_state *st, enum canary_verdict_kind v)
{
    return (enum canary_verdict_kind)atomic_exchange(&st->reported, (int)v);
}
