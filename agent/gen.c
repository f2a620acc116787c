/* gen.c - refcounted config generations with recorders matched by name. */
#include "gen.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

struct gen {
    atomic_uint refs;
    struct cfg *cfg;
    struct rec **recs;
    size_t n;
};

/* Open-addressing index of a generation's check names, built only while a
 * reload matches recorders: O(n) instead of O(n^2) for 10,000 checks. */
struct name_index {
    size_t *slots; /* check index + 1; 0 = empty */
    size_t mask;
};

static void index_build(struct name_index *ix, const struct gen *g)
{
    size_t cap = 16;
    while (cap < g->n * 2)
        cap *= 2;
    ix->slots = xcalloc(cap, sizeof(size_t));
    ix->mask = cap - 1;
    for (size_t i = 0; i < g->n; i++) {
        size_t h = (size_t)hash_str(cfg_check(g->cfg, i)->name) & ix->mask;
        while (ix->slots[h])
            h = (h + 1) & ix->mask;
        ix->slots[h] = i + 1;
    }
}

static long index_find(const struct name_index *ix, const struct gen *g, const char *name)
{
    size_t h = (size_t)hash_str(name) & ix->mask;
    while (ix->slots[h]) {
        size_t i = ix->slots[h] - 1;
        if (strcmp(cfg_check(g->cfg, i)->name, name) == 0)
            return (long)i;
        h = (h + 1) & ix->mask;
    }
    return -1;
}

struct gen *gen_new(struct cfg *cfg, const struct gen *prev)
{
    struct gen *g = xcalloc(1, sizeof(*g));
    atomic_init(&g->refs, 1);
    g->cfg = cfg;
    g->n = cfg_check_count(cfg);
    g->recs = xcalloc(g->n ? g->n : 1, sizeof(*g->recs));
    struct name_index ix = {0};
    if (prev)
        index_build(&ix, prev);
    for (size_t i = 0; i < g->n; i++) {
        const struct check_spec *s = cfg_check(cfg, i);
        long j = prev ? index_find(&ix, prev, s->name) : -1;
        if (j >= 0 && rec_same_bounds(prev->recs[j], s->buckets, s->n_buckets)) {
            g->recs[i] = prev->recs[j];
            rec_ref(g->recs[i]);
        } else {
            g->recs[i] = rec_new(s->buckets, s->n_buckets);
        }
    }
    free(ix.slots);
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
