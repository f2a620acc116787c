/* canary_state.c - sample rings and the cached verdict. */
#include "canary_state.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sample {
    int64_t t_ms;
    double latency;
    bool ok;
};

struct ring {
    struct sample *v;
    size_t cap, head, len; /* head: next write position */
};

struct canary_state {
    atomic_uint refs;
    uint64_t identity;
    pthread_mutex_t lock; /* rings and checksum */
    struct ring arm[2];
    uint64_t generation; /* bumps on reset: cached verdicts from before die */
    char checksum[CANARY_MAX_CHECKSUM];
    pthread_mutex_t verdict_lock; /* the cache; held while judging */
    bool cached;
    int64_t cached_at_ms;
    uint64_t cached_generation;
    struct canary_verdict verdict;
};

/* The ring capacity asked for, raised to the documented slack. Above the cap
 * is a caller's bug (the configuration rejects such windows): stop rather
 * than silently keep less than the window. */
static size_t ring_bounds(size_t cap)
{
    if (cap > CANARY_MAX_RING) {
        fprintf(stderr, "outpost: canary ring of %zu samples asked, cap is %u\n", cap,
                CANARY_MAX_RING);
        abort();
    }
    return cap < CANARY_MIN_RING ? CANARY_MIN_RING : cap;
}

struct canary_state *canst_new(uint64_t identity, size_t ring_cap)
{
    ring_cap = ring_bounds(ring_cap);
    struct canary_state *st = xcalloc(1, sizeof(*st));
    atomic_init(&st->refs, 1);
    st->identity = identity;
    pthread_mutex_init(&st->lock, NULL);
    pthread_mutex_init(&st->verdict_lock, NULL);
    for (int a = 0; a < 2; a++) {
        st->arm[a].v = xcalloc(ring_cap, sizeof(struct sample));
        st->arm[a].cap = ring_cap;
    }
    return st;
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
    free(st);
}

uint64_t canst_identity(const struct canary_state *st)
{
    return st->identity;
}

void canst_add(struct canary_state *st, enum canary_arm_id arm, int64_t t_ms, double latency,
               bool ok)
{
    pthread_mutex_lock(&st->lock);
    struct ring *r = &st->arm[arm];
    r->v[r->head] = (struct sample){t_ms, latency, ok};
    r->head = (r->head + 1) % r->cap;
    if (r->len < r->cap)
        r->len++;
    pthread_mutex_unlock(&st->lock);
}

static void reset_locked(struct canary_state *st)
{
    for (int a = 0; a < 2; a++)
        st->arm[a].head = st->arm[a].len = 0;
    st->generation++;
}

void canst_reset(struct canary_state *st)
{
    pthread_mutex_lock(&st->lock);
    reset_locked(st);
    pthread_mutex_unlock(&st->lock);
}

bool canst_checksum(struct canary_state *st, const char *checksum)
{
    if (!checksum || !*checksum)
        return false;
    bool changed = false;
    pthread_mutex_lock(&st->lock);
    if (strncmp(st->checksum, checksum, sizeof(st->checksum) - 1) != 0) {
        /* The first checksum also starts a fresh revision: samples taken
         * before Flagger said which revision this is cannot be trusted. */
        changed = true;
        reset_locked(st);
        /* The HTTP layer caps checksums below this size; a longer one is
         * compared by its prefix, which is still a revision identity. */
        snprintf(st->checksum, sizeof(st->checksum), "%s", checksum);
    }
    pthread_mutex_unlock(&st->lock);
    return changed;
}

/* Samples of arm newer than since_ms, oldest first (caller frees). */
static struct canary_sample *copy_arm(const struct ring *r, int64_t since_ms, int64_t now_ms,
                                      size_t *n)
{
    struct canary_sample *out = xcalloc(r->len ? r->len : 1, sizeof(*out));
    size_t k = 0;
    for (size_t i = 0; i < r->len; i++) {
        const struct sample *s = &r->v[(r->head + r->cap - r->len + i) % r->cap];
        if (s->t_ms > since_ms && s->t_ms <= now_ms)
            out[k++] = (struct canary_sample){s->latency, s->ok};
    }
    *n = k;
    return out;
}

void canst_verdict(struct canary_state *st, const struct canary_spec *spec, int64_t now_ms,
                   struct canary_verdict *out)
{
    pthread_mutex_lock(&st->verdict_lock);
    pthread_mutex_lock(&st->lock);
    uint64_t gen = st->generation;
    bool fresh = st->cached && st->cached_generation == gen &&
                 now_ms - st->cached_at_ms < spec->interval_ms && now_ms >= st->cached_at_ms;
    struct canary_sample *b = NULL, *c = NULL;
    size_t nb = 0, nc = 0;
    if (!fresh) {
        int64_t since = now_ms - spec->window_ms;
        b = copy_arm(&st->arm[ARM_BASELINE], since, now_ms, &nb);
        c = copy_arm(&st->arm[ARM_CANARY], since, now_ms, &nc);
    }
    pthread_mutex_unlock(&st->lock);
    if (!fresh) {
        canary_judge(b, nb, c, nc, &spec->settings, &st->verdict);
        st->cached = true;
        st->cached_at_ms = now_ms;
        st->cached_generation = gen;
        free(b);
        free(c);
    }
    *out = st->verdict;
    pthread_mutex_unlock(&st->verdict_lock);
}
