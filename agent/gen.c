/* gen.c - refcounted config generations, state matched by name, sinks. */
#include "gen.h"
#include "log.h"
#include "state.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/* The results an SLO did not count because of a maintenance window:
 * shared by the generations that share the SLO's state. */
struct slo_excl {
    atomic_uint refs;
    atomic_uint_fast64_t events;
};

/* One SLO sink's switch (gen.h). */
struct slo_feed {
    atomic_bool skip;
    struct slo_excl *excl;
};

struct gen {
    atomic_uint refs;
    struct cfg *cfg;
    size_t n;
    struct rec **recs;
    const struct check_type **types;
    struct slo_state **slos;
    struct slo_excl **excl; /* per SLO */
    size_t *feed_off;       /* n_slos + 1 offsets into feeds: SLO i's checks in order */
    struct slo_feed *feeds;
    size_t n_slos;
    struct canary_state **canaries;
    size_t n_canaries;
    size_t *sink_off; /* n + 1 offsets into sinks */
    struct sink *sinks;
};

/* ---- sinks ---- */

static void deliver_rec(const struct sink *s, const struct check_result *r, int64_t wall_ms)
{
    rec_record(s->target, r, (double)wall_ms / 1000.0);
}

/* One SLI event: bad when the probe failed or, for a latency SLO, took
 * longer than the threshold. */
static void deliver_slo(const struct sink *s, const struct check_result *r, int64_t wall_ms)
{
    /* The one cost maintenance adds to a delivery: a relaxed load. */
    if (atomic_load_explicit(&s->feed->skip, memory_order_relaxed)) {
        atomic_fetch_add_explicit(&s->feed->excl->events, 1, memory_order_relaxed);
        return;
    }
    bool bad = !r->success || (s->param > 0 && r->duration * 1000.0 > (double)s->param);
    slost_add(s->target, wall_ms, 1, bad ? 1 : 0);
}

static void deliver_arm(const struct sink *s, const struct check_result *r, int64_t wall_ms)
{
    canst_add(s->target, (enum canary_arm_id)s->param, wall_ms, r->duration, r->success);
}

/* Every check's sinks in one array: its recorder, then its SLOs, then its
 * canary arms (counting sort by check). */
static void build_sinks(struct gen *g)
{
    const struct cfg *cfg = g->cfg;
    g->sink_off = xcalloc(g->n + 1, sizeof(size_t));
    for (size_t i = 0; i < g->n; i++)
        g->sink_off[i + 1] = 1;
    for (size_t i = 0; i < g->n_slos; i++) {
        const struct slo_spec *sp = cfg_slo(cfg, i);
        for (size_t k = 0; k < sp->n_checks; k++)
            g->sink_off[sp->check_idx[k] + 1]++;
    }
    for (size_t i = 0; i < g->n_canaries; i++)
        for (int a = 0; a < 2; a++)
            g->sink_off[cfg_canary(cfg, i)->arm_check[a] + 1]++;
    for (size_t i = 0; i < g->n; i++)
        g->sink_off[i + 1] += g->sink_off[i];
    g->sinks = xcalloc(g->sink_off[g->n] + 1, sizeof(struct sink));
    size_t *fill = xcalloc(g->n + 1, sizeof(size_t));
    g->feed_off = xcalloc(g->n_slos + 1, sizeof(size_t));
    for (size_t i = 0; i < g->n_slos; i++)
        g->feed_off[i + 1] = g->feed_off[i] + cfg_slo(cfg, i)->n_checks;
    g->feeds = xcalloc(g->feed_off[g->n_slos] + 1, sizeof(struct slo_feed));
    for (size_t i = 0; i < g->n; i++)
        g->sinks[g->sink_off[i] + fill[i]++] = (struct sink){deliver_rec, g->recs[i], 0, NULL};
    for (size_t i = 0; i < g->n_slos; i++) {
        const struct slo_spec *sp = cfg_slo(cfg, i);
        int64_t threshold = sp->latency ? sp->latency_threshold_ms : 0;
        for (size_t k = 0; k < sp->n_checks; k++) {
            size_t c = sp->check_idx[k];
            struct slo_feed *f = &g->feeds[g->feed_off[i] + k];
            atomic_init(&f->skip, false);
            f->excl = g->excl[i];
            g->sinks[g->sink_off[c] + fill[c]++] =
                (struct sink){deliver_slo, g->slos[i], threshold, f};
        }
    }
    for (size_t i = 0; i < g->n_canaries; i++) {
        for (int a = 0; a < 2; a++) {
            size_t c = cfg_canary(cfg, i)->arm_check[a];
            g->sinks[g->sink_off[c] + fill[c]++] =
                (struct sink){deliver_arm, g->canaries[i], a, NULL};
        }
    }
    free(fill);
}

/* ---- state carried over ---- */

/* The SLO state for spec: carried over from prev when name and SLI
 * definition match, else restored from the saved file, else fresh. */
static struct slo_state *slo_state_for(const struct slo_spec *spec, const struct gen *prev,
                                       const struct state_file *saved, int64_t now_ms)
{
    long j = prev ? cfg_find_slo(prev->cfg, spec->name) : -1;
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
        state_restore(saved, spec, st, now_ms);
    return st;
}

/* The excluded-events counter of SLO spec: prev's when the SLO's state
 * was carried over (st is prev's), else a new one. */
static struct slo_excl *excl_for(const struct slo_spec *spec, const struct gen *prev,
                                 const struct slo_state *st)
{
    long j = prev ? cfg_find_slo(prev->cfg, spec->name) : -1;
    if (j >= 0 && prev->slos[j] == st) {
        atomic_fetch_add_explicit(&prev->excl[j]->refs, 1, memory_order_relaxed);
        return prev->excl[j];
    }
    struct slo_excl *e = xcalloc(1, sizeof(*e));
    atomic_init(&e->refs, 1);
    atomic_init(&e->events, 0);
    return e;
}

/* Samples survive a reload that keeps the arms' targets; the ring takes
 * the size of the new window. */
static struct canary_state *canary_state_for(const struct canary_spec *k, const struct gen *prev)
{
    const struct canary_spec *pk = prev ? cfg_find_canary(prev->cfg, k->name) : NULL;
    if (pk) {
        struct canary_state *old = prev->canaries[pk - cfg_canary(prev->cfg, 0)];
        if (canst_identity(old) == k->identity) {
            canst_ref(old);
            canst_set_capacity(old, k->ring_samples);
            return old;
        }
    }
    return canst_new(k->identity, k->ring_samples);
}

/* The steps a check's runs report (0 for one-step types). */
static size_t steps_of(const struct check_type *t, const struct check_spec *c)
{
    return t && t->step_count ? t->step_count(c) : 0;
}

/* Whether a recorder kept for prev's check j fits check c of type t: the
 * same buckets, and the same steps by name and order (a step's counters
 * stay with its name). */
static bool rec_fits(const struct gen *prev, size_t j, const struct check_type *t,
                     const struct check_spec *c)
{
    const struct check_spec *pc = cfg_check(prev->cfg, j);
    const struct check_type *pt = prev->types[j];
    size_t n = steps_of(t, c);
    if (!rec_same_bounds(prev->recs[j], c->buckets, c->n_buckets) || steps_of(pt, pc) != n ||
        rec_step_count(prev->recs[j]) != n)
        return false;
    for (size_t k = 0; k < n; k++)
        if (strcmp(pt->step_name(pc, k), t->step_name(c, k)) != 0)
            return false;
    return true;
}

struct gen *gen_new(struct cfg *cfg, const struct gen *prev, const struct state_file *saved,
                    const struct clock *clock)
{
    struct gen *g = xcalloc(1, sizeof(*g));
    atomic_init(&g->refs, 1);
    g->cfg = cfg;
    g->n = cfg_check_count(cfg);
    g->recs = xcalloc(g->n ? g->n : 1, sizeof(*g->recs));
    g->types = xcalloc(g->n ? g->n : 1, sizeof(*g->types));
    for (size_t i = 0; i < g->n; i++) {
        const struct check_spec *s = cfg_check(cfg, i);
        g->types[i] = check_type_of(s->type);
        long j = prev ? cfg_find_check(prev->cfg, s->name) : -1;
        if (j >= 0 && rec_fits(prev, (size_t)j, g->types[i], s)) {
            g->recs[i] = prev->recs[j];
            rec_ref(g->recs[i]);
        } else {
            g->recs[i] = rec_new_steps(s->buckets, s->n_buckets, steps_of(g->types[i], s));
        }
    }

    int64_t now_ms = clock_wall_ms(clock);
    g->n_slos = cfg_slo_count(cfg);
    g->slos = xcalloc(g->n_slos ? g->n_slos : 1, sizeof(*g->slos));
    g->excl = xcalloc(g->n_slos ? g->n_slos : 1, sizeof(*g->excl));
    for (size_t i = 0; i < g->n_slos; i++) {
        const struct slo_spec *spec = cfg_slo(cfg, i);
        g->slos[i] = slo_state_for(spec, prev, saved, now_ms);
        g->excl[i] = excl_for(spec, prev, g->slos[i]);
        /* From now on the SLO's checks produce events at this rate; a
         * changed interval starts a new rate, the old one still counts
         * for the time it held. */
        slost_set_rate(g->slos[i], now_ms, slo_spec_rate(cfg, spec));
    }

    g->n_canaries = cfg_canary_count(cfg);
    g->canaries = xcalloc(g->n_canaries ? g->n_canaries : 1, sizeof(*g->canaries));
    for (size_t i = 0; i < g->n_canaries; i++)
        g->canaries[i] = canary_state_for(cfg_canary(cfg, i), prev);

    build_sinks(g);
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
    free(g->types);
    for (size_t i = 0; i < g->n_slos; i++) {
        slost_unref(g->slos[i]);
        if (atomic_fetch_sub_explicit(&g->excl[i]->refs, 1, memory_order_acq_rel) == 1)
            free(g->excl[i]);
    }
    free(g->slos);
    free(g->excl);
    free(g->feed_off);
    free(g->feeds);
    for (size_t i = 0; i < g->n_canaries; i++)
        canst_unref(g->canaries[i]);
    free(g->canaries);
    free(g->sink_off);
    free(g->sinks);
    cfg_free(g->cfg);
    free(g);
}

const struct cfg *gen_cfg(const struct gen *g)
{
    return g->cfg;
}

size_t gen_check_count(const struct gen *g)
{
    return g->n;
}

struct rec *gen_rec(const struct gen *g, size_t check)
{
    return g->recs[check];
}

const struct check_type *gen_check_type(const struct gen *g, size_t check)
{
    return g->types[check];
}

size_t gen_slo_count(const struct gen *g)
{
    return g->n_slos;
}

struct slo_state *gen_slo(const struct gen *g, size_t i)
{
    return g->slos[i];
}

size_t gen_canary_count(const struct gen *g)
{
    return g->n_canaries;
}

struct canary_state *gen_canary(const struct gen *g, size_t i)
{
    return g->canaries[i];
}

void gen_note_retry(const struct gen *g, size_t check)
{
    rec_count_retry(g->recs[check]);
}

size_t gen_sinks(const struct gen *g, size_t check, const struct sink **list)
{
    *list = g->sinks + g->sink_off[check];
    return g->sink_off[check + 1] - g->sink_off[check];
}

void gen_set_slo_exclusion(const struct gen *g, const bool *slo_all, const bool *check_any)
{
    for (size_t i = 0; i < g->n_slos; i++) {
        const struct slo_spec *sp = cfg_slo(g->cfg, i);
        for (size_t k = 0; k < sp->n_checks; k++)
            atomic_store_explicit(&g->feeds[g->feed_off[i] + k].skip,
                                  slo_all[i] || check_any[sp->check_idx[k]], memory_order_relaxed);
    }
}

bool gen_slo_excluded_pair(const struct gen *g, size_t check, size_t slo)
{
    const struct slo_spec *sp = cfg_slo(g->cfg, slo);
    for (size_t k = 0; k < sp->n_checks; k++)
        if (sp->check_idx[k] == check)
            return atomic_load_explicit(&g->feeds[g->feed_off[slo] + k].skip, memory_order_relaxed);
    return false;
}

uint64_t gen_slo_excluded(const struct gen *g, size_t i)
{
    return atomic_load_explicit(&g->excl[i]->events, memory_order_relaxed);
}
