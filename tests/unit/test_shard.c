/*
 * test_shard.c - the shard of a name (64-bit FNV-1a modulo n), the --shard
 * and OUTPOST_SHARD forms, and the loader's filter: which checks, SLOs,
 * canaries and windows a shard keeps, their indexes after the cut, and the
 * errors of a file whose SLOs or canaries span shards.
 *
 * Expected hashes and shards were computed outside the agent (a few lines
 * of Python over the UTF-8 bytes), so a change of the function fails here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "buf.h"
#include "cfg_shard.h"
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ERRS_MAX (1u << 20)

static void test_hash_vectors(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        uint64_t h;
    } tc[] = {
        {"", 0xcbf29ce484222325ULL},
        {"a", 0xaf63dc4c8601ec8cULL},
        {"foobar", 0x85944171f73967e8ULL},
        {"x", 0xaf63f54c86021707ULL},
        {"api-health", 0x149b0602dba7ed5cULL},
        {"outpost-2", 0xaaab9b653db7feb2ULL},
        {"\xc3\xa9", 0x0ac21707b7181e01ULL},                 /* é */
        {"\xe6\x97\xa5\xe6\x9c\xac", 0x121d7e35a6d3ce91ULL}, /* 日本 */
    };
    for (size_t i = 0; i < sizeof(tc) / sizeof(tc[0]); i++) {
        assert_true(cfg_shard_hash(tc[i].s, strlen(tc[i].s)) == tc[i].h);
        assert_int_equal(cfg_shard_of(tc[i].s, 1), 0);
    }
}

static void test_shard_of(void **state)
{
    (void)state;
    /* c0 .. c11 among 4. */
    static const unsigned want4[] = {2, 1, 0, 3, 2, 1, 0, 3, 2, 1, 3, 0};
    char name[16];
    for (unsigned i = 0; i < 12; i++) {
        snprintf(name, sizeof(name), "c%u", i);
        assert_int_equal(cfg_shard_of(name, 4), want4[i]);
    }
    /* c0 .. c999 among 7: every shard gets its share, and exactly these. */
    static const unsigned want7[] = {126, 161, 141, 138, 137, 157, 140};
    unsigned got[7] = {0};
    for (unsigned i = 0; i < 1000; i++) {
        snprintf(name, sizeof(name), "c%u", i);
        unsigned s = cfg_shard_of(name, 7);
        assert_true(s < 7);
        got[s]++;
    }
    for (unsigned s = 0; s < 7; s++)
        assert_int_equal(got[s], want7[s]);
    /* The largest n: the remainder of the full 64-bit hash. */
    assert_int_equal(cfg_shard_of("foobar", 1024), 0x85944171f73967e8ULL % 1024);
}

static void test_parse(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        bool ok;
        unsigned i, n;
    } tc[] = {
        {"0/1", true, 0, 1},     {"0/3", true, 0, 3},
        {"2/3", true, 2, 3},     {"1023/1024", true, 1023, 1024},
        {"3/3", false, 0, 0},    {"0/0", false, 0, 0},
        {"0/1025", false, 0, 0}, {"1", false, 0, 0},
        {"", false, 0, 0},       {"/3", false, 0, 0},
        {"1/", false, 0, 0},     {"-1/3", false, 0, 0},
        {"+1/3", false, 0, 0},   {" 1/3", false, 0, 0},
        {"1/3 ", false, 0, 0},   {"1/3/4", false, 0, 0},
        {"0x1/3", false, 0, 0},  {"99999999999999999999/3", false, 0, 0},
    };
    for (size_t k = 0; k < sizeof(tc) / sizeof(tc[0]); k++) {
        struct cfg_shard s = {77, 77};
        enum op_rc rc = cfg_shard_parse(tc[k].s, &s);
        if (!tc[k].ok) {
            if (rc == OP_OK)
                fail_msg("\"%s\" accepted", tc[k].s);
            assert_int_equal(s.index, 77); /* untouched */
            continue;
        }
        if (rc != OP_OK)
            fail_msg("\"%s\" refused", tc[k].s);
        assert_int_equal(s.index, tc[k].i);
        assert_int_equal(s.count, tc[k].n);
    }
}

static void test_from_env(void **state)
{
    (void)state;
    static const struct {
        const char *shard, *shards;
        bool ok;
        unsigned i, n;
    } tc[] = {
        {NULL, NULL, true, 0, 1},
        {"", NULL, true, 0, 1},
        {"", "", true, 0, 1},
        {"1/3", NULL, true, 1, 3},
        {"1/3", "3", true, 1, 3},
        {"1/3", "4", false, 0, 0}, /* they disagree */
        {"outpost-2", "3", true, 2, 3},
        {"my-outpost-sts-0", "3", true, 0, 3},
        {"2", "3", true, 2, 3},          /* the pod-index label */
        {"outpost-3", "3", false, 0, 0}, /* more replicas than shards */
        {"3", "3", false, 0, 0},
        {"outpost-2", NULL, false, 0, 0}, /* no count */
        {"2", NULL, false, 0, 0},
        {NULL, "3", false, 0, 0}, /* count without ordinal */
        {"outpost-", "3", false, 0, 0},
        {"outpost", "3", false, 0, 0},
        {"outpost-2", "0", false, 0, 0},
        {"outpost-2", "1025", false, 0, 0},
        {"outpost-2", "three", false, 0, 0},
        {"outpost-99999999999999999999", "3", false, 0, 0},
        {"4/3", NULL, false, 0, 0},
        /* A sign is not a pod name's dash: -1 is no ordinal. */
        {"-1", "3", false, 0, 0},
        {"outpost--1", "3", false, 0, 0},
    };
    for (size_t k = 0; k < sizeof(tc) / sizeof(tc[0]); k++) {
        struct cfg_shard s = {77, 77};
        const char *why = NULL;
        enum op_rc rc = cfg_shard_from_env(tc[k].shard, tc[k].shards, &s, &why);
        if (!tc[k].ok) {
            if (rc == OP_OK)
                fail_msg("case %zu accepted", k);
            assert_non_null(why);
            assert_null(strchr(why, '\n')); /* one line */
            continue;
        }
        if (rc != OP_OK)
            fail_msg("case %zu refused: %s", k, why);
        assert_int_equal(s.index, tc[k].i);
        assert_int_equal(s.count, tc[k].n);
    }
}

/* ---- the filter ---- */

/*
 * Shards among 3 (computed outside): orders-ok 0, orders-500 0, search-ok 0,
 * api-ok 1, api-500 1, home-ok 1, checkout-ok 2, pay-502 2; canaries
 * rollout 2, release 1.
 */
#define FILE_3                                                                                     \
    "checks:\n"                                                                                    \
    "  - {name: orders-ok, url: 'http://t/ok'}\n"                                                  \
    "  - {name: api-ok, url: 'http://t/ok'}\n"                                                     \
    "  - {name: checkout-ok, url: 'http://t/ok'}\n"                                                \
    "  - {name: orders-500, url: 'http://t/status/500'}\n"                                         \
    "  - {name: api-500, url: 'http://t/status/500'}\n"                                            \
    "  - {name: pay-502, url: 'http://t/status/502'}\n"                                            \
    "  - {name: home-ok, url: 'http://t/ok'}\n"                                                    \
    "  - {name: search-ok, url: 'http://t/ok'}\n"                                                  \
    "canaries:\n"                                                                                  \
    "  - {name: rollout, baseline: {url: 'http://t/ok'}, canary: {url: 'http://t/ok'}}\n"          \
    "  - {name: release, baseline_check: api-ok, canary_check: home-ok, gate_slos: [api]}\n"       \
    "slos:\n"                                                                                      \
    "  - {name: orders, objective: 99, sli: {checks: [orders-ok, orders-500]}}\n"                  \
    "  - {name: api, objective: 99, sli: {checks: [api-500, api-ok]}}\n"                           \
    "  - {name: checkout, objective: 99, sli: {checks: [checkout-ok, pay-502]}}\n"                 \
    "  - {name: rollout-slo, objective: 99, sli: {checks: [rollout/canary]}}\n"                    \
    "maintenance:\n"                                                                               \
    "  - {name: w-all, schedule: {cron: '0 3 * * *', duration: 1h}}\n"                             \
    "  - {name: w-checks, schedule: {cron: '0 3 * * *', duration: 1h}, checks: [api-ok, "          \
    "orders-ok, home-ok]}\n"                                                                       \
    "  - {name: w-slo, schedule: {cron: '0 3 * * *', duration: 1h}, slos: [checkout]}\n"

static struct cfg *load(const char *text, unsigned i, unsigned n, struct buf *errs)
{
    struct cfg *cfg = NULL;
    struct cfg_load_options o = {.shard = {i, n}};
    buf_init(errs, ERRS_MAX);
    enum op_rc rc = cfg_load_string_opts(text, strlen(text), "t.yml", &o, &cfg, errs);
    assert_true((rc == OP_OK) == (cfg != NULL));
    return cfg;
}

static struct cfg *load_ok(const char *text, unsigned i, unsigned n)
{
    struct buf errs;
    struct cfg *cfg = load(text, i, n, &errs);
    if (!cfg)
        fail_msg("load failed:\n%s", buf_str(&errs));
    buf_free(&errs);
    return cfg;
}

/* The names of cfg's checks, comma separated, into out. */
static const char *check_names(const struct cfg *cfg, char *out, size_t cap)
{
    size_t len = 0;
    out[0] = '\0';
    for (size_t k = 0; k < cfg_check_count(cfg); k++)
        len +=
            (size_t)snprintf(out + len, cap - len, "%s%s", k ? "," : "", cfg_check(cfg, k)->name);
    return out;
}

/* The names an SLO's check_idx point at, which must be its own names. */
static void assert_slo_resolved(const struct cfg *cfg, const char *slo)
{
    long i = cfg_find_slo(cfg, slo);
    assert_true(i >= 0);
    const struct slo_spec *s = cfg_slo(cfg, (size_t)i);
    for (size_t k = 0; k < s->n_checks; k++) {
        assert_true(s->check_idx[k] < cfg_check_count(cfg));
        assert_string_equal(cfg_check(cfg, s->check_idx[k])->name, s->checks[k]);
        assert_int_equal(cfg_find_check(cfg, s->checks[k]), (long)s->check_idx[k]);
    }
}

static void test_filter(void **state)
{
    (void)state;
    char names[512];
    static const char *const want_checks[3] = {
        "orders-ok,orders-500,search-ok",
        "api-ok,api-500,home-ok",
        "checkout-ok,pay-502,rollout/baseline,rollout/canary",
    };
    static const char *const want_slos[3][2] = {
        {"orders", NULL}, {"api", NULL}, {"checkout", "rollout-slo"}};
    for (unsigned i = 0; i < 3; i++) {
        struct cfg *cfg = load_ok(FILE_3, i, 3);
        assert_string_equal(check_names(cfg, names, sizeof(names)), want_checks[i]);
        assert_int_equal(cfg_shard_checks_in_file(cfg), 10);
        for (size_t k = 0; k < cfg_check_count(cfg); k++)
            assert_int_equal(cfg_find_check(cfg, cfg_check(cfg, k)->name), (long)k);
        assert_int_equal(cfg_find_check(cfg, "orders-ok"), i == 0 ? 0 : -1);
        size_t n_slos = want_slos[i][1] ? 2 : 1;
        assert_int_equal(cfg_slo_count(cfg), n_slos);
        for (size_t k = 0; k < n_slos; k++) {
            assert_string_equal(cfg_slo(cfg, k)->name, want_slos[i][k]);
            assert_int_equal(cfg_find_slo(cfg, want_slos[i][k]), (long)k);
            assert_slo_resolved(cfg, want_slos[i][k]);
        }
        /* Canaries: release on 1 (named checks, gate SLO), rollout on 2. */
        assert_int_equal(cfg_canary_count(cfg), i == 0 ? 0 : 1);
        const struct canary_spec *rel = cfg_find_canary(cfg, "release");
        const struct canary_spec *rol = cfg_find_canary(cfg, "rollout");
        assert_true((rel != NULL) == (i == 1));
        assert_true((rol != NULL) == (i == 2));
        if (rel) {
            assert_string_equal(cfg_check(cfg, rel->arm_check[0])->name, "api-ok");
            assert_string_equal(cfg_check(cfg, rel->arm_check[1])->name, "home-ok");
            assert_int_equal(rel->n_gate_slos, 1);
            assert_string_equal(cfg_slo(cfg, rel->gate_slo_idx[0])->name, "api");
        }
        if (rol) {
            assert_string_equal(cfg_check(cfg, rol->arm_check[0])->name, "rollout/baseline");
            assert_string_equal(cfg_check(cfg, rol->arm_check[1])->name, "rollout/canary");
            assert_true(cfg_check_is_canary_arm(cfg_check(cfg, rol->arm_check[1])));
        }
        /* Windows: the one for everything everywhere; the listed ones
         * reduced to this shard's names, or gone. */
        const struct maint_spec *all = NULL, *wc = NULL, *ws = NULL;
        for (size_t k = 0; k < cfg_maint_count(cfg); k++) {
            const struct maint_spec *w = cfg_maint(cfg, k);
            assert_int_equal(cfg_find_maint(cfg, w->name), (long)k);
            if (strcmp(w->name, "w-all") == 0)
                all = w;
            else if (strcmp(w->name, "w-checks") == 0)
                wc = w;
            else
                ws = w;
        }
        assert_non_null(all);
        assert_int_equal(all->n_checks + all->n_slos, 0);
        assert_true((wc != NULL) == (i != 2));
        assert_true((ws != NULL) == (i == 2));
        assert_int_equal(cfg_maint_count(cfg), 2);
        if (wc) {
            /* api-ok and home-ok on 1, orders-ok on 0, in the listed order. */
            assert_int_equal(wc->n_checks, i == 1 ? 2 : 1);
            assert_string_equal(wc->checks[0], i == 1 ? "api-ok" : "orders-ok");
            if (i == 1)
                assert_string_equal(wc->checks[1], "home-ok");
            for (size_t k = 0; k < wc->n_checks; k++)
                assert_string_equal(cfg_check(cfg, wc->check_idx[k])->name, wc->checks[k]);
        }
        if (ws) {
            assert_int_equal(ws->n_slos, 1);
            assert_string_equal(cfg_slo(cfg, ws->slo_idx[0])->name, "checkout");
        }
        cfg_free(cfg);
    }
    /* 0/1 and a zeroed option: the whole file. */
    for (unsigned n = 0; n < 2; n++) {
        struct cfg *cfg = load_ok(FILE_3, 0, n);
        assert_int_equal(cfg_check_count(cfg), 10);
        assert_int_equal(cfg_shard_checks_in_file(cfg), 10);
        assert_int_equal(cfg_slo_count(cfg), 4);
        assert_int_equal(cfg_canary_count(cfg), 2);
        assert_int_equal(cfg_maint_count(cfg), 3);
        cfg_free(cfg);
    }
}

/* Every check on exactly one shard, whatever n. */
static void test_partition(void **state)
{
    (void)state;
    struct buf y;
    buf_init(&y, 1u << 20);
    buf_adds(&y, "checks:\n");
    enum { N_CHECKS = 200 };
    for (int k = 0; k < N_CHECKS; k++)
        buf_addf(&y, "  - {name: c%d, url: 'http://t/ok'}\n", k);
    static const unsigned ns[] = {1, 2, 3, 5, 8, 1024};
    for (size_t t = 0; t < sizeof(ns) / sizeof(ns[0]); t++) {
        unsigned n = ns[t];
        int *seen = calloc(N_CHECKS, sizeof(int));
        size_t total = 0;
        for (unsigned i = 0; i < n; i++) {
            struct cfg *cfg = load_ok(buf_str(&y), i, n);
            for (size_t k = 0; k < cfg_check_count(cfg); k++) {
                const char *name = cfg_check(cfg, k)->name;
                assert_int_equal(cfg_shard_of(name, n), i);
                uint64_t idx;
                assert_int_equal(parse_u64(name + 1, strlen(name + 1), N_CHECKS - 1, &idx), OP_OK);
                seen[idx]++;
            }
            total += cfg_check_count(cfg);
            cfg_free(cfg);
        }
        assert_int_equal(total, N_CHECKS);
        for (int k = 0; k < N_CHECKS; k++)
            assert_int_equal(seen[k], 1);
        free(seen);
    }
    buf_free(&y);
}

static void assert_errors(const char *yaml, unsigned i, unsigned n, const char *want)
{
    struct buf errs;
    struct cfg *cfg = load(yaml, i, n, &errs);
    assert_null(cfg);
    if (strcmp(buf_str(&errs), want) != 0)
        fail_msg("errors:\n%s\nwanted:\n%s", buf_str(&errs), want);
    buf_free(&errs);
}

static void test_errors(void **state)
{
    (void)state;
#define CHECKS                                                                                     \
    "checks:\n"                                                                                    \
    "  - {name: orders-ok, url: 'http://t/ok'}\n"                                                  \
    "  - {name: api-ok, url: 'http://t/ok'}\n"                                                     \
    "  - {name: checkout-ok, url: 'http://t/ok'}\n"
    /* Every shard rejects the file the same way, naming SLO, checks and
     * their shards. */
    const char *split = CHECKS "slos:\n"
                               "  - {name: fine, objective: 99, sli: {checks: [api-ok]}}\n"
                               "  - {name: wide, objective: 99, sli: {checks: [orders-ok, api-ok, "
                               "checkout-ok]}}\n";
    for (unsigned i = 0; i < 3; i++)
        assert_errors(split, i, 3,
                      "t.yml:7:5: slos[1] \"wide\": counts checks on different shards of 3: "
                      "\"orders-ok\" (shard 0), \"api-ok\" (shard 1), \"checkout-ok\" (shard 2); "
                      "an SLO's checks must share a shard (rename checks or split the SLO)\n");
    /* The same file runs unsharded. */
    struct buf errs;
    struct cfg *cfg = load(split, 0, 1, &errs);
    assert_non_null(cfg);
    cfg_free(cfg);
    buf_free(&errs);

    /* release is on 1; checkout-ok on 2; the SLO on 0. */
    const char *canary = CHECKS "slos:\n"
                                "  - {name: s, objective: 99, sli: {checks: [orders-ok]}}\n"
                                "canaries:\n"
                                "  - {name: release, baseline_check: api-ok, canary_check: "
                                "checkout-ok, gate_slos: [s]}\n";
    assert_errors(
        canary, 1, 3,
        "t.yml:8:5: canaries[0] \"release\": the canary is on shard 1 of 3 but its "
        "canary_check \"checkout-ok\" is on shard 2; a canary and the checks it names "
        "must share a shard\n"
        "t.yml:8:5: canaries[0] \"release\": the canary is on shard 1 of 3 but its gate SLO "
        "\"s\" is on shard 0; a canary's gate_slos must share its shard\n");
    /* A long list is cut, and says how many more. */
    struct buf y;
    buf_init(&y, 1u << 16);
    buf_adds(&y, "checks:\n");
    for (int k = 0; k < 40; k++)
        buf_addf(&y, "  - {name: c%d, url: 'http://t/ok'}\n", k);
    buf_adds(&y, "slos:\n  - name: big\n    objective: 99\n    sli:\n      checks: [");
    for (int k = 0; k < 40; k++)
        buf_addf(&y, "%sc%d", k ? ", " : "", k);
    buf_adds(&y, "]\n");
    cfg = load(buf_str(&y), 0, 4, &errs);
    assert_null(cfg);
    assert_non_null(strstr(buf_str(&errs), "\"c0\" (shard 2), \"c1\" (shard 1), \"c2\" (shard 0), "
                                           "\"c3\" (shard 3), "));
    assert_non_null(strstr(buf_str(&errs), "\"c15\" (shard "));
    assert_null(strstr(buf_str(&errs), "\"c16\""));
    assert_non_null(strstr(buf_str(&errs), " and 24 more; "));
    buf_free(&errs);
    buf_free(&y);
#undef CHECKS
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_vectors), cmocka_unit_test(test_shard_of),
        cmocka_unit_test(test_parse),        cmocka_unit_test(test_from_env),
        cmocka_unit_test(test_filter),       cmocka_unit_test(test_partition),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
