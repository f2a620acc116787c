/*
 * test_gen.c - config generations (gen.c): the sinks each check's results
 * go to, and what a reload carries over - recorders, SLO states and canary
 * samples, the last with its ring resized to the new window.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "buf.h"
#include "canary_state.h"
#include "clock.h"
#include "config.h"
#include "gen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T0_MS 1767225600000LL /* 2026-01-01T00:00:00Z */

static struct cfg *load(const char *yaml)
{
    struct buf err;
    buf_init(&err, 1u << 16);
    struct cfg *c = NULL;
    if (cfg_load_string(yaml, strlen(yaml), "gen.yml", &c, &err) != OP_OK)
        fail_msg("config: %s", buf_str(&err));
    buf_free(&err);
    return c;
}

static struct check_result result(bool ok, double duration)
{
    struct check_result r;
    memset(&r, 0, sizeof(r));
    r.success = ok;
    r.reason = ok ? CHECK_REASON_NONE : CHECK_REASON_TIMEOUT;
    r.duration = duration;
    r.status = ok ? 200 : 0;
    return r;
}

/* Hand one result of check `name` to its sinks, as the probe loop does. */
static void deliver(const struct gen *g, const char *name, const struct check_result *r,
                    int64_t wall_ms)
{
    long i = cfg_find_check(gen_cfg(g), name);
    assert_true(i >= 0);
    const struct sink *s;
    size_t n = gen_sinks(g, (size_t)i, &s);
    for (size_t k = 0; k < n; k++)
        s[k].deliver(&s[k], r, wall_ms);
}

#define TWO_CHECKS_SLO_CANARY                                                                      \
    "checks:\n"                                                                                    \
    "  - {name: a, url: 'http://127.0.0.1:1/a'}\n"                                                 \
    "  - {name: b, url: 'http://127.0.0.1:1/b'}\n"                                                 \
    "slos:\n"                                                                                      \
    "  - {name: avail, objective: 99, sli: {checks: [a, b]}}\n"                                    \
    "  - {name: fast, objective: 99, sli: {checks: [a], latency: {threshold: 100ms}}}\n"           \
    "canaries:\n"                                                                                  \
    "  - name: web\n"                                                                              \
    "    baseline_check: a\n"                                                                      \
    "    canary: {url: 'http://127.0.0.1:1/new'}\n"                                                \
    "    interval: 100ms\n"                                                                        \
    "    window: 2s\n"

/* Every check's sinks: its recorder first, then each SLO that counts it,
 * then each canary arm it is; a result reaches exactly those. */
static void test_sinks(void **state)
{
    (void)state;
    struct clock *clk = clock_fake_new(1000000000, T0_MS);
    struct gen *g = gen_new(load(TWO_CHECKS_SLO_CANARY), NULL, NULL, clk);
    const struct cfg *c = gen_cfg(g);
    assert_int_equal(gen_check_count(g), 3); /* a, b and the inline arm web/canary */
    long a = cfg_find_check(c, "a"), b = cfg_find_check(c, "b");
    long arm = cfg_find_check(c, "web/canary");
    assert_true(a == 0 && b == 1 && arm == 2);
    const struct sink *s;
    assert_int_equal(gen_sinks(g, (size_t)a, &s), 4); /* rec, avail, fast, baseline arm */
    assert_ptr_equal(s[0].target, gen_rec(g, 0));
    assert_ptr_equal(s[1].target, gen_slo(g, 0));
    assert_int_equal(s[1].param, 0);
    assert_ptr_equal(s[2].target, gen_slo(g, 1));
    assert_int_equal(s[2].param, 100);
    assert_ptr_equal(s[3].target, gen_canary(g, 0));
    assert_int_equal(s[3].param, ARM_BASELINE);
    assert_int_equal(gen_sinks(g, (size_t)b, &s), 2);   /* rec, avail */
    assert_int_equal(gen_sinks(g, (size_t)arm, &s), 2); /* rec, canary arm */
    assert_int_equal(s[1].param, ARM_CANARY);
    assert_ptr_equal(gen_check_type(g, 0)->schema, cfg_check(c, 0)->type);

    /* a: ok in 50 ms (good for both SLOs), ok in 150 ms (bad for the
     * latency SLO only), a failure (bad for both). b: one ok. */
    struct check_result fail = result(false, 0.01), ok50 = result(true, 0.05),
                        ok150 = result(true, 0.15);
    deliver(g, "a", &fail, T0_MS + 500);
    deliver(g, "a", &ok50, T0_MS + 1000);
    deliver(g, "a", &ok150, T0_MS + 1500);
    deliver(g, "b", &ok50, T0_MS + 1800);
    struct rec_snapshot snap;
    rec_read(gen_rec(g, 0), &snap);
    assert_int_equal(snap.runs, 3);
    rec_read(gen_rec(g, 1), &snap);
    assert_int_equal(snap.runs, 1);
    uint64_t ev, bad;
    free(slost_copy(gen_slo(g, 0), &ev, &bad));
    assert_int_equal(ev, 4);
    assert_int_equal(bad, 1);
    free(slost_copy(gen_slo(g, 1), &ev, &bad));
    assert_int_equal(ev, 3);
    assert_int_equal(bad, 2);
    struct canary_verdict v;
    /* The 2 s window (T0, T0 + 2 s] holds all three samples of a. */
    canst_verdict(gen_canary(g, 0), cfg_canary(c, 0), T0_MS + 2000, &v);
    assert_int_equal(v.baseline.n, 3);
    assert_int_equal(v.baseline.failures, 1);
    assert_int_equal(v.canary.n, 0);
    gen_unref(g);
    clock_fake_free(clk);
}

/* A reload keeps each piece of state whose identity stayed and starts the
 * others fresh. */
static void test_reload_carry_over(void **state)
{
    (void)state;
    struct clock *clk = clock_fake_new(1000000000, T0_MS);
    struct gen *g1 = gen_new(load(TWO_CHECKS_SLO_CANARY), NULL, NULL, clk);
    struct check_result ok = result(true, 0.05);
    deliver(g1, "a", &ok, T0_MS);
    deliver(g1, "b", &ok, T0_MS);

    /* a keeps its bounds; b gets new ones; c is new. avail keeps its SLI
     * (objective changed only); fast changes its threshold; the canary's
     * arms stay. */
    struct gen *g2 = gen_new(load("checks:\n"
                                  "  - {name: c, url: 'http://127.0.0.1:1/c'}\n"
                                  "  - {name: a, url: 'http://127.0.0.1:1/a'}\n"
                                  "  - {name: b, url: 'http://127.0.0.1:1/b', "
                                  "histogram_buckets: [0.1, 1]}\n"
                                  "slos:\n"
                                  "  - {name: fast, objective: 99, sli: {checks: [a], "
                                  "latency: {threshold: 200ms}}}\n"
                                  "  - {name: avail, objective: 99.9, sli: {checks: [b, a]}}\n"
                                  "canaries:\n"
                                  "  - name: web\n"
                                  "    baseline_check: a\n"
                                  "    canary: {url: 'http://127.0.0.1:1/new'}\n"
                                  "    interval: 100ms\n"
                                  "    window: 2s\n"),
                             g1, NULL, clk);
    const struct cfg *c2 = gen_cfg(g2);
    assert_ptr_equal(gen_rec(g2, (size_t)cfg_find_check(c2, "a")), gen_rec(g1, 0));
    assert_ptr_not_equal(gen_rec(g2, (size_t)cfg_find_check(c2, "b")), gen_rec(g1, 1));
    struct rec_snapshot snap;
    rec_read(gen_rec(g2, (size_t)cfg_find_check(c2, "a")), &snap);
    assert_int_equal(snap.runs, 1); /* counters continue */
    rec_read(gen_rec(g2, (size_t)cfg_find_check(c2, "b")), &snap);
    assert_int_equal(snap.runs, 0);
    assert_int_equal(snap.n_bounds, 2);
    /* The SLI of avail is the same set of checks in another order. */
    assert_ptr_equal(gen_slo(g2, (size_t)cfg_find_slo(c2, "avail")), gen_slo(g1, 0));
    assert_ptr_not_equal(gen_slo(g2, (size_t)cfg_find_slo(c2, "fast")), gen_slo(g1, 1));
    assert_ptr_equal(gen_canary(g2, 0), gen_canary(g1, 0));
    /* The sinks of the new generation point at the carried state. */
    const struct sink *s;
    gen_sinks(g2, (size_t)cfg_find_check(c2, "a"), &s);
    assert_ptr_equal(s[0].target, gen_rec(g1, 0));
    gen_unref(g1);
    gen_unref(g2);
    clock_fake_free(clk);
}

#define CANARY_WINDOW(w)                                                                           \
    "checks: []\n"                                                                                 \
    "canaries:\n"                                                                                  \
    "  - name: web\n"                                                                              \
    "    baseline: {url: 'http://127.0.0.1:1/old'}\n"                                              \
    "    canary: {url: 'http://127.0.0.1:1/new'}\n"                                                \
    "    interval: 100ms\n"                                                                        \
    "    window: " w "\n"                                                                          \
    "    min_samples: 1\n"

/* A reload that keeps the canary's samples sizes its ring from the new
 * window: 2 s -> 20 s at 100 ms judges 80 samples per arm after 8 s, as a
 * fresh start would, not the 36 the old ring held. */
static void test_reload_resizes_canary_ring(void **state)
{
    (void)state;
    struct clock *clk = clock_fake_new(1000000000, T0_MS);
    struct gen *g1 = gen_new(load(CANARY_WINDOW("2s")), NULL, NULL, clk);
    assert_int_equal(cfg_canary(gen_cfg(g1), 0)->ring_samples, 36);
    struct gen *g2 = gen_new(load(CANARY_WINDOW("20s")), g1, NULL, clk);
    const struct canary_spec *k = cfg_canary(gen_cfg(g2), 0);
    assert_int_equal(k->ring_samples, 216);
    assert_ptr_equal(gen_canary(g2, 0), gen_canary(g1, 0));
    gen_unref(g1);
    struct check_result ok = result(true, 0.01);
    for (int i = 1; i <= 80; i++) {
        deliver(g2, "web/baseline", &ok, T0_MS + i * 100);
        deliver(g2, "web/canary", &ok, T0_MS + i * 100);
    }
    struct canary_verdict v;
    canst_verdict(gen_canary(g2, 0), k, T0_MS + 8000, &v);
    assert_int_equal(v.baseline.n, 80);
    assert_int_equal(v.canary.n, 80);
    gen_unref(g2);

    /* Arms that probe something else start fresh. */
    g1 = gen_new(load(CANARY_WINDOW("2s")), NULL, NULL, clk);
    deliver(g1, "web/baseline", &ok, T0_MS + 100);
    g2 = gen_new(load("checks: []\n"
                      "canaries:\n"
                      "  - name: web\n"
                      "    baseline: {url: 'http://127.0.0.1:1/old'}\n"
                      "    canary: {url: 'http://127.0.0.1:1/newer'}\n"
                      "    interval: 100ms\n"
                      "    window: 2s\n"),
                 g1, NULL, clk);
    assert_ptr_not_equal(gen_canary(g2, 0), gen_canary(g1, 0));
    canst_verdict(gen_canary(g2, 0), cfg_canary(gen_cfg(g2), 0), T0_MS + 200, &v);
    assert_int_equal(v.baseline.n, 0);
    gen_unref(g1);
    gen_unref(g2);
    clock_fake_free(clk);
}

/* A window / interval beyond the ring cap is a config error, never a
 * silent truncation: 30d at 1s would need 2,592,016 samples per arm. */
static void test_canary_ring_cap(void **state)
{
    (void)state;
    static const char *const yaml = "checks: []\n"
                                    "canaries:\n"
                                    "  - name: web\n"
                                    "    baseline: {url: 'http://127.0.0.1:1/old'}\n"
                                    "    canary: {url: 'http://127.0.0.1:1/new'}\n"
                                    "    interval: 1s\n"
                                    "    window: 30d\n";
    struct buf err;
    buf_init(&err, 1u << 16);
    struct cfg *c = NULL;
    assert_int_equal(cfg_load_string(yaml, strlen(yaml), "gen.yml", &c, &err), OP_ERR_INVALID);
    assert_null(c);
    assert_string_equal(buf_str(&err),
                        "gen.yml:3:5: canaries[0] \"web\": window 30d at an interval of 1s "
                        "keeps 2592016 samples per arm, more than 1000000: shorten the window or "
                        "lengthen the interval\n");
    buf_free(&err);
    /* Just below the cap loads: 999,984 s at 1 s plus 16 of slack. */
    struct cfg *ok = load("checks: []\n"
                          "canaries:\n"
                          "  - name: web\n"
                          "    baseline: {url: 'http://127.0.0.1:1/old'}\n"
                          "    canary: {url: 'http://127.0.0.1:1/new'}\n"
                          "    interval: 1s\n"
                          "    window: 999984s\n");
    assert_int_equal(cfg_canary(ok, 0)->ring_samples, CFG_MAX_CANARY_SAMPLES);
    cfg_free(ok);
}

/* Each generation tells its SLOs the rate their checks run at; a reload
 * that changes an interval starts a new rate and keeps the old one for the
 * time it held, so the period's expected events count each part at its own
 * interval. */
static void test_slo_rates(void **state)
{
    (void)state;
    struct clock *clk = clock_fake_new(1000000000, T0_MS);
    const char *every_1s = "checks: [{name: a, url: 'http://127.0.0.1:1/a', interval: 1s}]\n"
                           "slos: [{name: s, objective: 99, sli: {checks: [a]}}]\n";
    const char *every_2s = "checks: [{name: a, url: 'http://127.0.0.1:1/a', interval: 2s}]\n"
                           "slos: [{name: s, objective: 99.5, sli: {checks: [a]}}]\n";
    struct gen *g1 = gen_new(load(every_1s), NULL, NULL, clk);
    clock_fake_advance(clk, 3600LL * 1000000000);
    struct gen *g2 = gen_new(load(every_2s), g1, NULL, clk);
    assert_ptr_equal(gen_slo(g2, 0), gen_slo(g1, 0));
    clock_fake_advance(clk, 60LL * 1000000000);
    struct gen *g3 = gen_new(load(every_2s), g2, NULL, clk); /* unchanged: no new rate */
    struct slo_rate r[4];
    assert_int_equal(slost_rates(gen_slo(g3, 0), r, 4), 2);
    assert_int_equal(r[0].from_ms, T0_MS);
    assert_true(r[0].per_ms == 1.0 / 1000);
    assert_int_equal(r[1].from_ms, T0_MS + 3600000);
    assert_true(r[1].per_ms == 1.0 / 2000);
    /* Over the last 2 h: 1 h at one a second, 1 h at one every 2 s. */
    struct slo_figures f;
    slost_figures(gen_slo(g3, 0), cfg_slo(gen_cfg(g3), 0), T0_MS + 2 * 3600000, &f, NULL, NULL);
    assert_true(f.expected[SLO_W_2H] == 3600.0 + 1800.0);
    gen_unref(g1);
    gen_unref(g2);
    gen_unref(g3);
    clock_fake_free(clk);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sinks),
        cmocka_unit_test(test_reload_carry_over),
        cmocka_unit_test(test_reload_resizes_canary_ring),
        cmocka_unit_test(test_canary_ring_cap),
        cmocka_unit_test(test_slo_rates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
