/*
 * cfg_shard.c - the shard of every name, the rules a sharded file must
 * keep, and the filter that leaves a loaded config with its shard's part.
 *
 * The filter runs last in the loader, on a config that is valid as a whole,
 * so every agent of a shard set judges the same file the same way: a file
 * one shard rejects for a split SLO, every shard rejects.
 */
#include "cfg_shard.h"
#include "cfg_int.h"

#include <stdlib.h>
#include <string.h>

/* The messages below spell the cap out. */
_Static_assert(CFG_SHARD_MAX == 1024, "update the messages that say 1024");

#define DROPPED SIZE_MAX
/* Checks named in one split-SLO message; the rest are counted. */
#define SHARD_MSG_CHECKS 16

uint64_t cfg_shard_hash(const char *s, size_t len)
{
    /* The one FNV-1a of the code base (common.h), named here for what the
     * partition promises: these exact bytes, this exact function. */
    return hash_mem(s, len);
}

unsigned cfg_shard_of(const char *name, unsigned n)
{
    return (unsigned)(cfg_shard_hash(name, strlen(name)) % n);
}

enum op_rc cfg_shard_parse(const char *s, struct cfg_shard *out)
{
    const char *slash = strchr(s, '/');
    uint64_t i, n;
    if (!slash || parse_u64(s, (size_t)(slash - s), CFG_SHARD_MAX, &i) != OP_OK ||
        parse_u64(slash + 1, strlen(slash + 1), CFG_SHARD_MAX, &n) != OP_OK || n < 1 || i >= n)
        return OP_ERR_INVALID;
    out->index = (unsigned)i;
    out->count = (unsigned)n;
    return OP_OK;
}

enum op_rc cfg_shard_from_env(const char *shard, const char *shards, struct cfg_shard *out,
                              const char **why)
{
    bool has_n = shards && *shards;
    uint64_t n = 0, i;
    if (!shard || !*shard) {
        if (has_n) {
            *why = "OUTPOST_SHARDS is set but OUTPOST_SHARD is not (this agent's ordinal or pod "
                   "name)";
            return OP_ERR_INVALID;
        }
        *out = (struct cfg_shard){0, 1};
        return OP_OK;
    }
    if (has_n && (parse_u64(shards, strlen(shards), CFG_SHARD_MAX, &n) != OP_OK || n < 1)) {
        *why = "OUTPOST_SHARDS needs a number from 1 to 1024";
        return OP_ERR_INVALID;
    }
    if (strchr(shard, '/')) {
        struct cfg_shard s;
        if (cfg_shard_parse(shard, &s) != OP_OK) {
            *why = "OUTPOST_SHARD needs I/N with N from 1 to 1024 and I from 0 to N-1 (e.g. 0/3)";
            return OP_ERR_INVALID;
        }
        if (has_n && s.count != n) {
            *why = "OUTPOST_SHARD (I/N) and OUTPOST_SHARDS disagree on the number of shards";
            return OP_ERR_INVALID;
        }
        *out = s;
        return OP_OK;
    }
    if (!has_n) {
        *why = "OUTPOST_SHARD without /N needs OUTPOST_SHARDS, the number of shards";
        return OP_ERR_INVALID;
    }
    /* A StatefulSet's pod is "<name>-<ordinal>"; the pod-index label is
     * the ordinal alone. The name before the last dash is not checked: the
     * pod's own name is the one thing the downward API can be trusted on. */
    const char *dash = strrchr(shard, '-');
    const char *ord = dash ? dash + 1 : shard;
    /* A dash with no name before it ("-1", "outpost--1") is a sign. */
    bool sign = dash && (dash == shard || dash[-1] == '-');
    if (sign || parse_u64(ord, strlen(ord), UINT64_MAX, &i) != OP_OK) {
        *why = "OUTPOST_SHARD needs I/N, an ordinal, or a pod name ending in -ORDINAL";
        return OP_ERR_INVALID;
    }
    if (i >= n) {
        /* More replicas than OUTPOST_SHARDS: this pod's checks would be
         * nobody's, or someone else's twice. Refuse to run. */
        *why = "the ordinal in OUTPOST_SHARD is not below OUTPOST_SHARDS (more replicas than "
               "shards?)";
        return OP_ERR_INVALID;
    }
    *out = (struct cfg_shard){(unsigned)i, (unsigned)n};
    return OP_OK;
}

size_t cfg_shard_checks_in_file(const struct cfg *c)
{
    return c->n_checks_in_file ? c->n_checks_in_file : c->n_checks;
}

/* ---- the rules ---- */

/* The shard of a check: an inline canary arm goes with its canary, whose
 * name is its phase key. */
static unsigned check_shard(const struct check_spec *cs, unsigned n)
{
    return cfg_shard_of(cfg_check_is_canary_arm(cs) ? cs->sched_key : cs->name, n);
}

/* Each SLO's shard into slo_shard; an SLO whose checks are on different
 * shards is an error naming them with theirs. */
static void slo_rule(struct cfg_parser *p, const yaml_node_t *slos, const struct cfg *c,
                     const unsigned *cs, unsigned n, unsigned *slo_shard)
{
    for (size_t i = 0; i < c->n_slos; i++) {
        const struct slo_spec *s = &c->slos[i];
        slo_shard[i] = s->n_checks ? cs[s->check_idx[0]] : cfg_shard_of(s->name, n);
        bool split = false;
        for (size_t k = 1; k < s->n_checks && !split; k++)
            split = cs[s->check_idx[k]] != slo_shard[i];
        if (!split)
            continue;
        /* Bounded: SHARD_MSG_CHECKS quoted names at most. */
        struct buf m;
        buf_init(&m, SHARD_MSG_CHECKS * (CFG_MAX_QUOTED + 32) + 64);
        char q[CFG_MAX_QUOTED + 4], path[CFG_PATH_CAP];
        for (size_t k = 0; k < s->n_checks && k < SHARD_MSG_CHECKS; k++)
            buf_addf(&m, "%s\"%s\" (shard %u)", k ? ", " : "", cfg_quote(s->checks[k], q),
                     cs[s->check_idx[k]]);
        if (s->n_checks > SHARD_MSG_CHECKS)
            buf_addf(&m, " and %zu more", s->n_checks - SHARD_MSG_CHECKS);
        /* The path names the SLO (slos[i] "NAME"). */
        const yaml_node_t *it = slos ? cfg_seq_item(p, slos, i) : NULL;
        cfg_path_entry(p, path, "slos", i, it);
        cfg_err(p, it, path,
                "counts checks on different shards of %u: %s; an SLO's checks must share a shard "
                "(rename checks or split the SLO)",
                n, buf_str_or(&m, "(list too long)"));
        buf_free(&m);
    }
}

/* A canary's named checks and gate SLOs must be on the canary's shard. */
static void canary_rule(struct cfg_parser *p, const yaml_node_t *canaries, const struct cfg *c,
                        const unsigned *cs, const unsigned *slo_shard, unsigned n)
{
    static const char *const arm[2] = {"baseline", "canary"};
    for (size_t i = 0; i < c->n_canaries; i++) {
        const struct canary_spec *k = &c->canaries[i];
        unsigned mine = cfg_shard_of(k->name, n);
        const yaml_node_t *it = canaries ? cfg_seq_item(p, canaries, i) : NULL;
        /* The path names the canary (canaries[i] "NAME"). */
        char path[CFG_PATH_CAP], q[CFG_MAX_QUOTED + 4];
        cfg_path_entry(p, path, "canaries", i, it);
        for (int a = 0; a < 2; a++) {
            if (k->inline_arms[a] || cs[k->arm_check[a]] == mine)
                continue;
            cfg_err(p, it, path,
                    "the canary is on shard %u of %u but its %s_check \"%s\" is on shard %u; "
                    "a canary and the checks it names must share a shard",
                    mine, n, arm[a], cfg_quote(c->checks[k->arm_check[a]].name, q),
                    cs[k->arm_check[a]]);
        }
        for (size_t j = 0; j < k->n_gate_slos; j++) {
            if (slo_shard[k->gate_slo_idx[j]] == mine)
                continue;
            cfg_err(p, it, path,
                    "the canary is on shard %u of %u but its gate SLO \"%s\" is on shard %u; "
                    "a canary's gate_slos must share its shard",
                    mine, n, cfg_quote(k->gate_slos[j], q), slo_shard[k->gate_slo_idx[j]]);
        }
    }
}

/* ---- the filter ---- */

/* Names and indexes of a window's list through map, dropped ones freed;
 * the new length. */
static size_t remap_list(char **names, size_t *idx, size_t len, const size_t *map)
{
    size_t j = 0;
    for (size_t k = 0; k < len; k++) {
        if (map[idx[k]] == DROPPED) {
            free(names[k]);
            continue;
        }
        names[j] = names[k];
        idx[j++] = map[idx[k]];
    }
    return j;
}

/* Keep the checks marked (map[i] != DROPPED), in order; map[i] becomes
 * the new index. */
static void keep_checks(struct cfg *c, size_t *map)
{
    size_t j = 0;
    for (size_t i = 0; i < c->n_checks; i++) {
        if (map[i] == DROPPED) {
            cfg_check_free(&c->checks[i]);
            continue;
        }
        map[i] = j;
        c->checks[j++] = c->checks[i];
    }
    c->n_checks = j;
    names_clear(c->check_names);
    for (size_t i = 0; i < j; i++)
        (void)names_add(c->check_names, i);
}

/* The same for SLOs; the dropped go to dead (freed by its section). */
static void keep_slos(struct cfg *c, size_t *map, const size_t *cmap, struct cfg *dead)
{
    size_t j = 0;
    dead->slos = xcalloc(c->n_slos ? c->n_slos : 1, sizeof(*dead->slos));
    for (size_t i = 0; i < c->n_slos; i++) {
        struct slo_spec *s = &c->slos[i];
        if (map[i] == DROPPED) {
            dead->slos[dead->n_slos++] = *s;
            continue;
        }
        for (size_t k = 0; k < s->n_checks; k++)
            s->check_idx[k] = cmap[s->check_idx[k]];
        map[i] = j;
        c->slos[j++] = *s;
    }
    c->n_slos = j;
    if (c->slo_names) {
        names_clear(c->slo_names);
        for (size_t i = 0; i < j; i++)
            (void)names_add(c->slo_names, i);
    }
}

/* The canaries marked in keep, their arms and gate SLOs renumbered through
 * cmap and smap; the others go to dead. */
static void keep_canaries(struct cfg *c, const bool *keep, const size_t *cmap, const size_t *smap,
                          struct cfg *dead)
{
    size_t j = 0;
    dead->canaries = xcalloc(c->n_canaries ? c->n_canaries : 1, sizeof(*dead->canaries));
    for (size_t i = 0; i < c->n_canaries; i++) {
        struct canary_spec *k = &c->canaries[i];
        if (!keep[i]) {
            dead->canaries[dead->n_canaries++] = *k;
            continue;
        }
        /* The rules held: its arms and gate SLOs are all kept. */
        for (int a = 0; a < 2; a++)
            k->arm_check[a] = cmap[k->arm_check[a]];
        for (size_t g = 0; g < k->n_gate_slos; g++)
            k->gate_slo_idx[g] = smap[k->gate_slo_idx[g]];
        c->canaries[j++] = *k;
    }
    c->n_canaries = j;
    if (c->canary_names) {
        names_clear(c->canary_names);
        for (size_t i = 0; i < j; i++)
            (void)names_add(c->canary_names, i);
    }
}

/* A window that lists checks or SLOs keeps those of this shard; one left
 * with none is not this shard's (an empty list would mean everything). */
static void keep_windows(struct cfg *c, const size_t *cmap, const size_t *smap, struct cfg *dead)
{
    size_t j = 0;
    dead->maint = xcalloc(c->n_maint ? c->n_maint : 1, sizeof(*dead->maint));
    for (size_t i = 0; i < c->n_maint; i++) {
        struct maint_spec *w = &c->maint[i];
        bool listed = w->n_checks || w->n_slos;
        w->n_checks = remap_list(w->checks, w->check_idx, w->n_checks, cmap);
        w->n_slos = remap_list(w->slos, w->slo_idx, w->n_slos, smap);
        if (listed && !w->n_checks && !w->n_slos) {
            dead->maint[dead->n_maint++] = *w;
            continue;
        }
        c->maint[j++] = *w;
    }
    c->n_maint = j;
    if (c->maint_names) {
        names_clear(c->maint_names);
        for (size_t i = 0; i < j; i++)
            (void)names_add(c->maint_names, i);
    }
}

void cfg_shard_apply(struct cfg_parser *p, const yaml_node_t *slos, const yaml_node_t *canaries,
                     struct cfg *c)
{
    const struct cfg_shard *sh = &p->opts.shard;
    unsigned n = sh->count;
    unsigned *cs = xcalloc(c->n_checks ? c->n_checks : 1, sizeof(unsigned));
    unsigned *ss = xcalloc(c->n_slos ? c->n_slos : 1, sizeof(unsigned));
    bool *keep_k = xcalloc(c->n_canaries ? c->n_canaries : 1, sizeof(bool));
    size_t *cmap = xcalloc(c->n_checks ? c->n_checks : 1, sizeof(size_t));
    size_t *smap = xcalloc(c->n_slos ? c->n_slos : 1, sizeof(size_t));
    struct cfg dead = {0};
    int before = p->n_errors;
    for (size_t i = 0; i < c->n_checks; i++)
        cs[i] = check_shard(&c->checks[i], n);
    slo_rule(p, slos, c, cs, n, ss);
    canary_rule(p, canaries, c, cs, ss, n);
    if (p->n_errors != before)
        goto out;
    c->n_checks_in_file = c->n_checks;
    for (size_t i = 0; i < c->n_checks; i++)
        cmap[i] = cs[i] == sh->index ? 0 : DROPPED;
    for (size_t i = 0; i < c->n_slos; i++)
        smap[i] = ss[i] == sh->index ? 0 : DROPPED;
    for (size_t i = 0; i < c->n_canaries; i++)
        keep_k[i] = cfg_shard_of(c->canaries[i].name, n) == sh->index;
    keep_checks(c, cmap);
    keep_slos(c, smap, cmap, &dead);
    keep_canaries(c, keep_k, cmap, smap, &dead);
    keep_windows(c, cmap, smap, &dead);
out:
    cfg_slos_free(&dead);
    cfg_canaries_free(&dead);
    cfg_maintenance_free(&dead);
    free(cs);
    free(ss);
    free(keep_k);
    free(cmap);
    free(smap);
}
