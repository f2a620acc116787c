/* gen.c - refcounted config generations with recorders matched by name. */
#include "gen.h"
#include "clock.h"
#include "log.h"
#include "state.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

struct gen {
    atomic_uint refs;
    struct cfg *cfg;
    struct rec **recs;
    size_t n;
    struct slo_state **slos;
    size_t n_slos;
    size_t *check_slo_off; /* n + 1 offsets into check_slo */
    uint32_t *check_slo;
    struct canary_state **canaries;
    size_t n_canaries;
    size_t *check_arm_off; /* n + 1 offsets into check_arm */
    uint32_t *check_arm;   /* canary index * 2 + arm */
};

/* Open-addressing index of a generation's check names, built only while a
 * reload matches recorders: O(n) instead of O(n^2) for 10,000 checks. */
struct name_index {
    size_t *slots; /* check index + 1; 0 = empty */
    size_t mask;
};

typedef const char *(*name_at_fn)(const struct cfg *c, size_t i);

static const char *check_name_at(const struct cfg *c, size_t i)
{
    return cfg_check(c, i)->name;
}

static const char *slo_name_at(const struct cfg *c, size_t i)
{
    return cfg_slo(c, i)->name;
}

static const char *canary_name_at(const struct cfg *c, size_t i)
{
    return cfg_canary(c, i)->name;
}

/* Samples a canary keeps per arm: its window at the faster arm's interval. */
static size_t canary_ring(const struct cfg *cfg, const struct canary_spec *k)
{
    int64_t fastest = k->interval_ms;
    for (int a = 0; a < 2; a++) {
        int64_t iv = cfg_check(cfg, k->arm_check[a])->interval_ms;
        if (iv < fastest)
            fastest = iv;
    }
    return (size_t)(k->window_ms / fastest) + 16;
}

static void index_build(struct name_index *ix, const struct cfg *c, size_t n, name_at_fn name_at)
{
    size_t cap = 16;
    while (cap < n * 2)
        cap *= 2;
    ix->slots = xcalloc(cap, sizeof(size_t));
    ix->mask = cap - 1;
    for (size_t i = 0; i < n; i++) {
        size_t h = (size_t)hash_str(name_at(c, i)) & ix->mask;
        while (ix->slots[h])
            h = (h + 1) & ix->mask;
        ix->slots[h] = i + 1;
    }
}

static long index_find(const struct name_index *ix, const struct cfg *c, name_at_fn name_at,
                       const char *name)
{
    size_t h = (size_t)hash_str(name) & ix->mask;
    while (ix->slots[h]) {
        size_t i = ix->slots[h] - 1;
        if (strcmp(name_at(c, i), name) == 0)
            return (long)i;
        h = (h + 1) & ix->mask;
    }
    return -1;
}

/* The SLO state for spec: carried over from prev when name and SLI
 * definition match, else restored from the saved file, else fresh. */
static struct slo_state *slo_state_for(const struct slo_spec *spec, const struct gen *prev,
                                       const struct name_index *ix, const struct state_file *saved)
{
    long j = prev ? index_find(ix, prev->cfg, slo_name_at, spec->name) : -1;
    if (j >= 0) {
        struct slo_state *old = prev->slos[j];
        if (slost_identity(old) == spec->identity) {
            slost_ref(old);
            slost_reshape(old, spec); /* the period or policy may have changed */
            return old;
        }
        log_info("SLI definition changed, the SLO starts fresh", "slo", spec->name);
        return slost_new(spec);
    }
    struct slo_state *st = slost_new(spec);
    if (saved)
        state_restore(saved, spec, st, (int64_t)(now_wall() * 1000));
    return st;
}

struct gen *gen_new(struct cfg *cfg, const struct gen *prev, const struct state_file *saved)
{
    struct gen *g = xcalloc(1, sizeof(*g));
    atomic_init(&g->refs, 1);
    g->cfg = cfg;
    g->n = cfg_check_count(cfg);
    g->recs = xcalloc(g->n ? g->n : 1, sizeof(*g->recs));
    struct name_index ix = {0};
    if (prev)
        index_build(&ix, prev->cfg, prev->n, check_name_at);
    for (size_t i = 0; i < g->n; i++) {
        const struct check_spec *s = cfg_check(cfg, i);
        long j = prev ? index_find(&ix, prev->cfg, check_name_at, s->name) : -1;
        if (j >= 0 && rec_same_bounds(prev->recs[j], s->buckets, s->n_buckets)) {
            g->recs[i] = prev->recs[j];
            rec_ref(g->recs[i]);
        } else {
            g->recs[i] = rec_new(s->buckets, s->n_buckets);
        }
    }
    free(ix.slots);

    g->n_slos = cfg_slo_count(cfg);
    g->slos = xcalloc(g->n_slos ? g->n_slos : 1, sizeof(*g->slos));
    struct name_index six = {0};
    if (prev)
        index_build(&six, prev->cfg, prev->n_slos, slo_name_at);
    for (size_t i = 0; i < g->n_slos; i++)
        g->slos[i] = slo_state_for(cfg_slo(cfg, i), prev, &six, saved);
    free(six.slots);

    /* check -> SLOs, as offsets into one array (counting sort by check). */
    g->check_slo_off = xcalloc(g->n + 1, sizeof(size_t));
    size_t total = 0;
    for (size_t i = 0; i < g->n_slos; i++) {
        const struct slo_spec *sp = cfg_slo(cfg, i);
        for (size_t k = 0; k < sp->n_checks; k++)
            g->check_slo_off[sp->check_idx[k] + 1]++;
        total += sp->n_checks;
    }
    for (size_t i = 0; i < g->n; i++)
        g->check_slo_off[i + 1] += g->check_slo_off[i];
    g->check_slo = xcalloc(total ? total : 1, sizeof(uint32_t));
    size_t *fill = xcalloc(g->n ? g->n : 1, sizeof(size_t));
    for (size_t i = 0; i < g->n_slos; i++) {
        const struct slo_spec *sp = cfg_slo(cfg, i);
        for (size_t k = 0; k < sp->n_checks; k++) {
            size_t c = sp->check_idx[k];
            g->check_slo[g->check_slo_off[c] + fill[c]++] = (uint32_t)i;
        }
    }
    free(fill);

    /* Canaries: samples survive a reload that keeps the arms' targets. */
    g->n_canaries = cfg_canary_count(cfg);
    g->canaries = xcalloc(g->n_canaries ? g->n_canaries : 1, sizeof(*g->canaries));
    struct name_index cix = {0};
    if (prev)
        index_build(&cix, prev->cfg, prev->n_canaries, canary_name_at);
    for (size_t i = 0; i < g->n_canaries; i++) {
        const struct canary_spec *k = cfg_canary(cfg, i);
        long j = prev ? index_find(&cix, prev->cfg, canary_name_at, k->name) : -1;
        if (j >= 0 && canst_identity(prev->canaries[j]) == k->identity) {
            g->canaries[i] = prev->canaries[j];
            canst_ref(g->canaries[i]);
        } else {
            g->canaries[i] = canst_new(k->identity, canary_ring(cfg, k));
        }
    }
    free(cix.slots);
    g->check_arm_off = xcalloc(g->n + 1, sizeof(size_t));
    for (size_t i = 0; i < g->n_canaries; i++)
        for (int a = 0; a < 2; a++)
            g->check_arm_off[cfg_canary(cfg, i)->arm_check[a] + 1]++;
    for (size_t i = 0; i < g->n; i++)
        g->check_arm_off[i + 1] += g->check_arm_off[i];
    g->check_arm = xcalloc(2 * g->n_canaries + 1, sizeof(uint32_t));
    fill = xcalloc(g->n ? g->n : 1, sizeof(size_t));
    for (size_t i = 0; i < g->n_canaries; i++) {
        for (int a = 0; a < 2; a++) {
            size_t c = cfg_canary(cfg, i)->arm_check[a];
            g->check_arm[g->check_arm_off[c] + fill[c]++] = (uint32_t)(i * 2 + (size_t)a);
        }
    }
    free(fill);
    return g;
}

void gen_ref(struct gen *g)
{
    atomic_fetch_add_explicit(&g->refs, 1, memory_order_relaxed);
}

void gen_unref(struct gen *g)
{
    if (!g || atomic_fetch_sub_explicit(&g->refs, 1, memory_order_acq_rel) != 1)
        return;
    for (size_t i = 0; i < g->n; i++)
        rec_unref(g->recs[i]);
    free(g->recs);
    for (size_t i = 0; i < g->n_slos; i++)
        slost_unref(g->slos[i]);
    free(g->slos);
    free(g->check_slo_off);
    free(g->check_slo);
    for (size_t i = 0; i < g->n_canaries; i++)
        canst_unref(g->canaries[i]);
    free(g->canaries);
    free(g->check_arm_off);
    free(g->check_arm);
    cfg_free(g->cfg);
    free(g);
}

const struct cfg *gen_cfg(const struct gen *g)
{
    return g->cfg;
}

size_t gen_count(const struct gen *g)
{
    return g->n;
}

struct rec *gen_rec(const struct gen *g, size_t i)
{
    return g->recs[i];
}

size_t gen_slo_count(const struct gen *g)
{
    return g->n_slos;
}

struct slo_state *gen_slo(const struct gen *g, size_t i)
{
    return g->slos[i];
}

size_t gen_check_slos(const struct gen *g, size_t check, const uint32_t **list)
{
    *list = g->check_slo + g->check_slo_off[check];
    return g->check_slo_off[check + 1] - g->check_slo_off[check];
}

size_t gen_canary_count(const struct gen *g)
{
    return g->n_canaries;
}

struct canary_state *gen_canary(const struct gen *g, size_t i)
{
    return g->canaries[i];
}

size_t gen_check_arms(const struct gen *g, size_t check, const uint32_t **list)
{
    *list = g->check_arm + g->check_arm_off[check];
    return g->check_arm_off[check + 1] - g->check_arm_off[check];
}
