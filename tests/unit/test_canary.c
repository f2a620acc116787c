/*
 * test_canary.c - unit tests for the canary judge (collectors/canary.c), its
 * JSON, the sample parser of `outpost canary judge` (agent/canary_cmd.c) and
 * the live sample rings with their cached verdict (canary_state.c).
 *
 * Verdict rules are those of docs/canary.md.
 * Where a statistic is asserted as a number it was computed with scipy
 * 1.10.1 / numpy 1.24.2 (Debian's /usr/bin/python3) and pasted here, the
 * call named next to it; the Hodges-Lehmann references are R's
 * wilcox.test(x, y, conf.int=TRUE, correct=TRUE, exact=FALSE,
 * conf.level=0.98) transcribed into Python (see test_stats.c). All times in
 * the state tests are explicit Unix milliseconds: a fake clock.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "buf.h"
#include "canary.h"
#include "canary_cmd.h"
#include "canary_state.h"
#include "common.h"
#include "config.h"
#include "stats.h"

#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SEC 1000LL
/* 2026-01-01T00:00:00Z */
#define T0 1767225600000LL

static bool rel_ok(double got, double want, double rel, const char *what)
{
    if (fabs(got - want) <= rel * fabs(want))
        return true;
    print_error("%s = %.17g, want %.17g (tol %.3g relative)\n", what, got, want, rel);
    return false;
}
#define assert_rel(got, want, rel) assert_true(rel_ok((got), (want), (rel), #got))

/* ---- sample generator ---- */

/* One arm: the first `failures` samples fail (with fail_latency, e.g. a
 * timeout); the others have latency base * (1 + spread * k / 100), k =
 * 37 i mod 101, a deterministic spread of up to +spread around base. */
struct arm_gen {
    size_t n, failures;
    double base, spread, fail_latency;
};

/* Caller frees. */
static struct canary_sample *gen(const struct arm_gen *a)
{
    struct canary_sample *s = calloc(a->n ? a->n : 1, sizeof(*s));
    assert_non_null(s);
    for (size_t i = 0; i < a->n; i++) {
        s[i].ok = i >= a->failures;
        s[i].latency = s[i].ok ? a->base * (1 + a->spread * (double)((i * 37) % 101) / 100.0)
                               : a->fail_latency;
    }
    return s;
}

static void judge_gen(const struct arm_gen *b, const struct arm_gen *c,
                      const struct canary_settings *s, struct canary_verdict *v)
{
    struct canary_sample *bs = gen(b), *cs = gen(c);
    canary_judge(bs, b->n, cs, c->n, s, v);
    free(bs);
    free(cs);
}

/* ---- settings ---- */

static void test_settings_default(void **state)
{
    (void)state;
    struct canary_settings s;
    memset(&s, 0xa5, sizeof(s));
    canary_settings_default(&s);
    assert_int_equal(s.min_samples, 50);
    assert_true(s.alpha == 0.01);
    assert_true(s.error_ratio_margin == 0.02);
    assert_false(s.has_ceiling);
    assert_true(s.error_ratio_ceiling == 0);
    assert_true(s.latency_p95_margin == 0.30);
    assert_true(s.latency_confidence == 0.98);
    assert_true(s.allowed_increase == 1.0);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(canary_verdict_name(CANARY_PASS), "pass");
    assert_string_equal(canary_verdict_name(CANARY_FAIL), "fail");
    assert_string_equal(canary_verdict_name(CANARY_INCONCLUSIVE), "inconclusive");
    assert_string_equal(canary_latency_name(LAT_PASS), "pass");
    assert_string_equal(canary_latency_name(LAT_HIGH), "high");
    assert_string_equal(canary_latency_name(LAT_LOW), "low");
    assert_string_equal(canary_latency_name(LAT_FAIL), "fail");
    assert_string_equal(canary_latency_name(LAT_NONE), "none");
}

/* ---- verdict rules ---- */

/* Overrides of canary_settings_default; zero keeps the default. */
struct rule_settings {
    unsigned min_samples;
    double ceiling, allowed_increase, p95_margin;
};

struct rule_want {
    enum canary_verdict_kind verdict;
    double score;
    bool errors_pass;
    enum canary_latency_result latency;
    double fisher;
};

static void test_verdict_rules(void **state)
{
    (void)state;
    /* want.fisher is scipy.stats.fisher_exact([[ec, nc - ec], [eb, nb - eb]],
     * alternative="greater")[1], or NaN for "not asserted here"; reason is a
     * prefix of the verdict's one-line reason. */
    static const struct {
        const char *name;
        struct arm_gen b, c;
        struct rule_settings set;
        struct rule_want want;
        const char *reason;
    } rows[] = {
        {"identical arms",
         {60, 0, 0.1, 0.2, 0},
         {60, 0, 0.1, 0.2, 0},
         {0, 0, 0, 0},
         {CANARY_PASS, 100, true, LAT_PASS, 1.0},
         "pass: score 100"},
        /* 10 % vs 0 %: p 5.8e-7 < 0.01 and +0.10 > 0.02. */
        {"errors significant and above margin",
         {200, 0, 0.1, 0.2, 0},
         {200, 20, 0.1, 0.2, 5.0},
         {0, 0, 0, 0},
         {CANARY_FAIL, 50, false, LAT_PASS, 5.7868683338233e-07},
         "fail: canary error ratio significantly above baseline (canary 0.1 vs baseline 0,"},
        /* 2 % vs 0.5 %: p 1.1e-5 < 0.01 but +0.015 <= 0.02. */
        {"significant, under the margin",
         {2000, 10, 0.1, 0, 5.0},
         {2000, 40, 0.1, 0, 5.0},
         {0, 0, 0, 0},
         {CANARY_PASS, 100, true, LAT_PASS, 1.0663832277579916e-05},
         "pass: score 100"},
        /* 5 % vs 0 %: +0.05 > 0.02 but p 0.0297 >= 0.01. */
        {"above the margin, not significant",
         {100, 0, 0.1, 0.2, 0},
         {100, 5, 0.1, 0.2, 5.0},
         {0, 0, 0, 0},
         {CANARY_PASS, 100, true, LAT_PASS, 0.029691605234293292},
         "pass: score 100"},
        /* 1 % > ceiling 0.5 %, while Fisher and the margin pass. */
        {"ceiling alone",
         {200, 1, 0.1, 0.2, 5.0},
         {200, 2, 0.1, 0.2, 5.0},
         {0, 0.005, 0, 0},
         {CANARY_FAIL, 50, false, LAT_PASS, NAN},
         "fail: canary error ratio above the ceiling"},
        /* 2/200 is exactly the ceiling 0.01: not above it. */
        {"at the ceiling",
         {200, 2, 0.1, 0.2, 5.0},
         {200, 2, 0.1, 0.2, 5.0},
         {0, 0.01, 0, 0},
         {CANARY_PASS, 100, true, LAT_PASS, NAN},
         "pass: score 100"},
        {"latency high",
         {60, 0, 0.1, 0.2, 0},
         {60, 0, 0.15, 0.2, 0},
         {0, 0, 0, 0},
         {CANARY_FAIL, 50, true, LAT_HIGH, 1.0},
         "fail: canary latency high (shift "},
        /* A faster canary is reported and passes. */
        {"latency low",
         {60, 0, 0.1, 0.2, 0},
         {60, 0, 0.07, 0.2, 0},
         {0, 0, 0, 0},
         {CANARY_PASS, 100, true, LAT_LOW, 1.0},
         "pass: score 100"},
        /* High needs mean(x)/mean(y) >= allowed_increase (1.5 < 2), and the
         * p95 guard is widened out of the way (ratio 1.5 < 2). */
        {"high needs allowed_increase",
         {60, 0, 0.1, 0.2, 0},
         {60, 0, 0.15, 0.2, 0},
         {0, 0, 2.0, 1.0},
         {CANARY_PASS, 100, true, LAT_PASS, 1.0},
         "pass: score 100"},
        /* Same arms, guard left at +30 %: the guard catches it. */
        {"p95 guard behind allowed_increase",
         {60, 0, 0.1, 0.2, 0},
         {60, 0, 0.15, 0.2, 0},
         {0, 0, 2.0, 0},
         {CANARY_FAIL, 50, true, LAT_FAIL, 1.0},
         "fail: canary latency fail (shift "},
        /* Errors reported first when both checks fail. */
        {"both checks fail",
         {200, 0, 0.1, 0.2, 0},
         {200, 40, 0.2, 0.2, 5.0},
         {0, 0, 0, 0},
         {CANARY_FAIL, 0, false, LAT_HIGH, NAN},
         "fail: canary error ratio significantly above baseline"},
        /* No canary latency data: one check evaluated, failing. */
        {"canary all failing",
         {60, 0, 0.1, 0.2, 0},
         {60, 60, 0.1, 0.2, 5.0},
         {0, 0, 0, 0},
         {CANARY_FAIL, 0, false, LAT_NONE, 1.035036944093482e-35},
         "fail: canary error ratio significantly above baseline"},
        /* Both arms down: the comparison has nothing against the canary
         * (p = 1) and latency is not evaluated; only a ceiling catches it. */
        {"both arms all failing",
         {60, 60, 0.1, 0.2, 5.0},
         {60, 60, 0.1, 0.2, 5.0},
         {0, 0, 0, 0},
         {CANARY_PASS, 100, true, LAT_NONE, 1.0},
         "pass: score 100"},
        {"both arms all failing, ceiling",
         {60, 60, 0.1, 0.2, 5.0},
         {60, 60, 0.1, 0.2, 5.0},
         {0, 0.005, 0, 0},
         {CANARY_FAIL, 0, false, LAT_NONE, 1.0},
         "fail: canary error ratio above the ceiling"},
        /* Until both arms hold min_samples nothing is decided, however bad
         * the canary looks; the statistics are still reported. */
        {"inconclusive: baseline short",
         {49, 0, 0.1, 0.2, 0},
         {50, 0, 0.1, 0.2, 0},
         {0, 0, 0, 0},
         {CANARY_INCONCLUSIVE, NAN, true, LAT_PASS, 1.0},
         "inconclusive: 49 baseline and 50 canary samples, 50 per arm needed"},
        {"inconclusive: canary short",
         {50, 0, 0.1, 0.2, 0},
         {49, 0, 0.1, 0.2, 0},
         {0, 0, 0, 0},
         {CANARY_INCONCLUSIVE, NAN, true, LAT_PASS, 1.0},
         "inconclusive: 50 baseline and 49 canary samples, 50 per arm needed"},
        {"inconclusive: bad but short",
         {40, 0, 0.1, 0.2, 0},
         {40, 40, 0.1, 0.2, 5.0},
         {0, 0, 0, 0},
         {CANARY_INCONCLUSIVE, NAN, false, LAT_NONE, NAN},
         "inconclusive: 40 baseline and 40 canary samples, 50 per arm needed"},
        {"inconclusive: min_samples 100",
         {99, 0, 0.1, 0.2, 0},
         {120, 0, 0.1, 0.2, 0},
         {100, 0, 0, 0},
         {CANARY_INCONCLUSIVE, NAN, true, LAT_PASS, 1.0},
         "inconclusive: 99 baseline and 120 canary samples, 100 per arm needed"},
        {"min_samples met exactly",
         {100, 0, 0.1, 0.2, 0},
         {100, 0, 0.1, 0.2, 0},
         {100, 0, 0, 0},
         {CANARY_PASS, 100, true, LAT_PASS, 1.0},
         "pass: score 100"},
        {"inconclusive: no samples",
         {0, 0, 0, 0, 0},
         {0, 0, 0, 0, 0},
         {0, 0, 0, 0},
         {CANARY_INCONCLUSIVE, NAN, true, LAT_NONE, NAN},
         "inconclusive: 0 baseline and 0 canary samples, 50 per arm needed"},
    };
    int bad = 0;
    for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
        struct canary_settings s;
        canary_settings_default(&s);
        if (rows[i].set.min_samples)
            s.min_samples = rows[i].set.min_samples;
        if (rows[i].set.ceiling > 0) {
            s.has_ceiling = true;
            s.error_ratio_ceiling = rows[i].set.ceiling;
        }
        if (rows[i].set.allowed_increase > 0)
            s.allowed_increase = rows[i].set.allowed_increase;
        if (rows[i].set.p95_margin > 0)
            s.latency_p95_margin = rows[i].set.p95_margin;
        struct canary_verdict v;
        judge_gen(&rows[i].b, &rows[i].c, &s, &v);

        const struct rule_want *w = &rows[i].want;
        bool ok = v.verdict == w->verdict && v.errors_pass == w->errors_pass &&
                  v.latency == w->latency &&
                  (isnan(w->score) ? isnan(v.score) : v.score == w->score) &&
                  strncmp(v.reason, rows[i].reason, strlen(rows[i].reason)) == 0;
        /* lgamma-based: max(1e-13, 1e-15 N ln N) relative, as in test_stats.c. */
        double N = (double)(rows[i].b.n + rows[i].c.n);
        if (!isnan(w->fisher))
            ok = ok && fabs(v.fisher_p - w->fisher) <= fmax(1e-13, 1e-15 * N * log(N)) * w->fisher;
        /* errors_reason: "" exactly when the errors check passes. */
        ok = ok && (v.errors_pass == (v.errors_reason[0] == '\0'));
        if (!ok) {
            print_error("%s: verdict %s score %g errors %d (%s) latency %s fisher %.17g\n  "
                        "reason \"%s\"\n",
                        rows[i].name, canary_verdict_name(v.verdict), v.score, v.errors_pass,
                        v.errors_reason, canary_latency_name(v.latency), v.fisher_p, v.reason);
            bad++;
        }
    }
    assert_int_equal(bad, 0);
}

/* Spinnaker #6278, Kayenta's known miss: 7 of 10 canary requests 100x
 * slower still pass Kayenta, because the 98 % interval of the shift reaches
 * down to ~0. The p95 guard catches it. */
static void test_kayenta_miss(void **state)
{
    (void)state;
    static const double y[10] = {0.0095, 0.0098, 0.0100, 0.0102, 0.0099,
                                 0.0101, 0.0097, 0.0103, 0.0096, 0.0104};
    static const double x[10] = {1.0, 0.0099, 1.0, 1.0, 0.0101, 1.0, 1.0, 0.0100, 1.0, 1.0};
    struct canary_sample b[10], c[10];
    for (int i = 0; i < 10; i++) {
        b[i] = (struct canary_sample){y[i], true};
        c[i] = (struct canary_sample){x[i], true};
    }
    struct canary_settings s;
    canary_settings_default(&s);
    s.min_samples = 10;
    struct canary_verdict v;
    canary_judge(b, 10, c, 10, &s, &v);

    /* R: estimate 0.9898000000000009, lower 0.0001999999999997828, upper
     * 0.9903. The lower end is what Kayenta sees: 0.0002 is not above
     * b = 0.25 |estimate| ~ 0.2475, so no High; the upper end is far above
     * -b, so no Low: without the guard the result would be "pass". */
    assert_true(fabs(v.shift_lower - 0.0001999999999997828) <= 1e-9);
    assert_true(fabs(v.shift_upper - 0.9903) <= 1e-9);
    assert_true(v.shift > 0.9); /* see the estimate BUG in test_stats.c */
    assert_false(v.shift_lower > 0.25 * fabs(v.shift));
    assert_false(v.shift_upper < -0.25 * fabs(v.shift));
    /* Meanwhile the plain test does see it: scipy mannwhitneyu(x, y,
     * alternative="greater", use_continuity=True, method="asymptotic")
     * gives U 86.5, p 0.002686387682293806. */
    assert_true(v.mw_u == 86.5);
    assert_rel(v.mw_p, 0.002686387682293806, 1e-13);

    /* The guard: numpy.percentile(x, 95) = 1.0, (y, 95) = 0.010355. */
    assert_rel(v.canary.p95, 1.0, 1e-15);
    assert_rel(v.baseline.p95, 0.010355, 1e-14);
    assert_rel(v.p95_ratio, 96.57170449058427, 1e-14);
    assert_int_equal(v.latency, LAT_FAIL); /* "fail", not "high" */
    assert_string_equal(canary_latency_name(v.latency), "fail");
    assert_true(v.errors_pass);
    assert_int_equal(v.verdict, CANARY_FAIL);
    assert_true(v.score == 50);

    /* With the guard widened past the 96x ratio, Kayenta's classification
     * alone passes the canary: the miss this guard exists for. */
    s.latency_p95_margin = 100;
    canary_judge(b, 10, c, 10, &s, &v);
    assert_int_equal(v.latency, LAT_PASS);
    assert_int_equal(v.verdict, CANARY_PASS);
}

/* Arm figures and the wiring of x = canary, y = baseline, with failed
 * samples (30 s timeouts) left out of every latency figure. */
static void test_arm_figures(void **state)
{
    (void)state;
    static const double ax[] = {0.131, 0.142, 0.118, 0.155, 0.149, 0.127, 0.162};
    static const double ay[] = {0.101, 0.122, 0.097, 0.113, 0.125, 0.108, 0.119, 0.104, 0.116};
    struct canary_sample b[10], c[9];
    size_t nb = 0, nc = 0;
    b[nb++] = (struct canary_sample){30.0, false};
    for (size_t i = 0; i < ARRAY_SIZE(ay); i++)
        b[nb++] = (struct canary_sample){ay[i], true};
    for (size_t i = 0; i < ARRAY_SIZE(ax); i++) {
        c[nc++] = (struct canary_sample){ax[i], true};
        if (i == 2 || i == 5)
            c[nc++] = (struct canary_sample){30.0, false};
    }
    assert_int_equal(nc, 9);
    struct canary_settings s;
    canary_settings_default(&s);
    s.min_samples = 5;
    struct canary_verdict v;
    canary_judge(b, nb, c, nc, &s, &v);

    assert_int_equal(v.baseline.n, 10);
    assert_int_equal(v.baseline.failures, 1);
    assert_true(v.baseline.ratio == 0.1);
    assert_int_equal(v.baseline.n_latency, 9);
    assert_int_equal(v.canary.n, 9);
    assert_int_equal(v.canary.failures, 2);
    assert_true(v.canary.ratio == 2.0 / 9.0);
    assert_int_equal(v.canary.n_latency, 7);
    /* numpy.percentile(..., [50, 95, 99], method="linear") of the
     * successful samples only; sum() in sample order. */
    assert_rel(v.baseline.p50, 0.113, 1e-15);
    assert_rel(v.baseline.p95, 0.1238, 1e-15);
    assert_rel(v.baseline.p99, 0.12476, 1e-15);
    assert_rel(v.baseline.sum, 1.0050000000000001, 1e-15);
    assert_rel(v.canary.p50, 0.142, 1e-15);
    assert_rel(v.canary.p95, 0.1599, 1e-15);
    assert_rel(v.canary.p99, 0.16158, 1e-15);
    assert_rel(v.canary.sum, 0.9840000000000001, 1e-15);
    assert_rel(v.p95_ratio, 0.1599 / 0.1238, 1e-14);
    /* fisher_exact([[2, 7], [1, 9]], alternative="greater"). */
    assert_rel(v.fisher_p, 0.4582043343653251, 1e-13);
    /* mannwhitneyu(ax, ay, alternative="greater", use_continuity=True,
     * method="asymptotic"): U 60, p 0.0015191592411454916. */
    assert_true(v.mw_u == 60.0);
    assert_rel(v.mw_p, 0.0015191592411454916, 1e-13);
    /* R interval [0.009, 0.048]: lower > 0.25 * ~0.03 and mean ratio 1.26:
     * High, even though the p95 ratio 1.29 is inside the +30 % guard. */
    assert_true(fabs(v.shift_lower - 0.008999999999999706) <= 1e-9);
    assert_true(fabs(v.shift_upper - 0.04800000000000031) <= 1e-9);
    assert_int_equal(v.latency, LAT_HIGH);
    assert_true(v.errors_pass);
    assert_int_equal(v.verdict, CANARY_FAIL);
    assert_true(v.score == 50);
}

/* Failed requests (timeouts) must not leak into latency: the canary below
 * has the baseline's latencies except that 5 of them failed after 10 s. */
static void test_latency_from_successes(void **state)
{
    (void)state;
    const struct arm_gen bg = {100, 0, 0.1, 0.2, 0};
    struct canary_sample *b = gen(&bg), *c = gen(&bg);
    for (int i = 0; i < 5; i++)
        c[i] = (struct canary_sample){10.0, false};
    struct canary_settings s;
    canary_settings_default(&s);
    struct canary_verdict v;
    canary_judge(b, 100, c, 100, &s, &v);
    assert_int_equal(v.canary.n_latency, 95);
    assert_int_equal(v.canary.failures, 5);
    assert_true(v.canary.p99 < 0.2);
    assert_true(v.canary.sum < 95 * 0.12);
    /* fisher_exact([[5, 95], [0, 100]], alternative="greater"): 0.0297 is
     * not below alpha 0.01, so the errors check passes too. */
    assert_rel(v.fisher_p, 0.029691605234293292, 1e-12);
    assert_int_equal(v.latency, LAT_PASS);
    assert_int_equal(v.verdict, CANARY_PASS);
    assert_true(v.score == 100);

    /* The same five counted as successes drag p95 to ~0.6 s and fail. */
    for (int i = 0; i < 5; i++)
        c[i].ok = true;
    canary_judge(b, 100, c, 100, &s, &v);
    assert_true(v.canary.p99 > 1);
    assert_true(v.p95_ratio > 1.3);
    assert_int_equal(v.latency, LAT_FAIL);
    assert_int_equal(v.verdict, CANARY_FAIL);
    free(b);
    free(c);
}

/* ---- JSON ---- */

/* Field `key` of `o` must exist and be a number, or null when want is NaN;
 * a number must equal want exactly (the JSON writer prints round-trip
 * digits). */
static void json_num(json_t *o, const char *key, double want)
{
    json_t *f = json_object_get(o, key);
    if (!f) {
        print_error("missing \"%s\"\n", key);
        fail();
    }
    if (isnan(want)) {
        if (!json_is_null(f)) {
            print_error("\"%s\" is not null\n", key);
            fail();
        }
        return;
    }
    if (!json_is_number(f) || json_number_value(f) != want) {
        print_error("\"%s\" = %.17g, want %.17g\n", key, json_number_value(f), want);
        fail();
    }
}

static void json_int(json_t *o, const char *key, size_t want)
{
    json_t *f = json_object_get(o, key);
    if (!f || !json_is_integer(f) || json_integer_value(f) != (json_int_t)want) {
        print_error("\"%s\": want integer %zu\n", key, want);
        fail();
    }
}

static json_t *json_obj(json_t *o, const char *key)
{
    json_t *f = json_object_get(o, key);
    if (!f || !json_is_object(f)) {
        print_error("\"%s\" is not an object\n", key);
        fail();
    }
    return f;
}

static const char *json_str(json_t *o, const char *key)
{
    json_t *f = json_object_get(o, key);
    if (!f || !json_is_string(f)) {
        print_error("\"%s\" is not a string\n", key);
        fail();
    }
    return json_string_value(f);
}

/* The whole JSON schema of a verdict, values against the verdict struct. */
static void check_schema(json_t *root, const struct canary_verdict *v)
{
    assert_string_equal(json_str(root, "verdict"), canary_verdict_name(v->verdict));
    json_num(root, "score", v->score);
    assert_string_equal(json_str(root, "reason"), v->reason); /* beyond the issue: the why */

    json_t *e = json_obj(root, "errors");
    assert_int_equal(json_object_size(e), 4);
    const struct canary_arm *arms[2] = {&v->baseline, &v->canary};
    const char *arm_names[2] = {"baseline", "canary"};
    for (int a = 0; a < 2; a++) {
        json_t *o = json_obj(e, arm_names[a]);
        assert_int_equal(json_object_size(o), 3);
        json_int(o, "n", arms[a]->n);
        json_int(o, "failures", arms[a]->failures);
        json_num(o, "ratio", arms[a]->ratio);
    }
    json_num(e, "fisher_p", v->fisher_p);
    assert_string_equal(json_str(e, "result"), v->errors_pass ? "pass" : "fail");

    json_t *l = json_obj(root, "latency");
    assert_int_equal(json_object_size(l), 7);
    for (int a = 0; a < 2; a++) {
        json_t *o = json_obj(l, arm_names[a]);
        assert_int_equal(json_object_size(o), 4);
        json_int(o, "n", arms[a]->n_latency);
        json_num(o, "p50", arms[a]->p50);
        json_num(o, "p95", arms[a]->p95);
        json_num(o, "p99", arms[a]->p99);
    }
    json_num(l, "mann_whitney_u", v->mw_u);
    json_num(l, "mann_whitney_p", v->mw_p);
    json_t *sh = json_obj(l, "shift");
    assert_int_equal(json_object_size(sh), 3);
    json_num(sh, "estimate", v->shift);
    json_num(sh, "lower", v->shift_lower);
    json_num(sh, "upper", v->shift_upper);
    json_num(l, "p95_ratio", v->p95_ratio);
    json_t *r = json_object_get(l, "result");
    assert_non_null(r);
    if (v->latency == LAT_NONE)
        assert_true(json_is_null(r));
    else
        assert_string_equal(json_string_value(r), canary_latency_name(v->latency));
}

static json_t *to_json(const struct canary_verdict *v, const char *name, bool samples)
{
    struct buf b;
    buf_init(&b, 1 << 20);
    canary_verdict_json(v, name, samples, &b);
    assert_false(b.failed);
    json_error_t err;
    json_t *root = json_loadb(b.data, b.len, JSON_REJECT_DUPLICATES, &err);
    if (!root)
        print_error("JSON %s: %s\n", b.data, err.text);
    assert_non_null(root);
    assert_true(json_is_object(root));
    buf_free(&b);
    return root;
}

static void test_verdict_json(void **state)
{
    (void)state;
    struct canary_settings s;
    canary_settings_default(&s);
    struct canary_verdict v;

    /* A failing verdict with every figure finite, name and samples asked. */
    const struct arm_gen bg = {200, 0, 0.1, 0.2, 0}, cg = {150, 20, 0.15, 0.2, 5.0};
    judge_gen(&bg, &cg, &s, &v);
    assert_int_equal(v.verdict, CANARY_FAIL);
    const char *name = "web \"blue\"\\green\n";
    json_t *root = to_json(&v, name, true);
    check_schema(root, &v);
    assert_int_equal(json_object_size(root), 7);
    assert_string_equal(json_str(root, "canary"), name); /* escaped and back */
    json_t *smp = json_obj(root, "samples");
    assert_int_equal(json_object_size(smp), 2);
    json_int(smp, "baseline", 200);
    json_int(smp, "canary", 150);
    assert_true(json_is_number(json_object_get(root, "score")));
    json_decref(root);

    /* Neither asked: neither present. */
    root = to_json(&v, NULL, false);
    check_schema(root, &v);
    assert_int_equal(json_object_size(root), 5);
    assert_null(json_object_get(root, "canary"));
    assert_null(json_object_get(root, "samples"));
    json_decref(root);

    /* Only one of them. */
    root = to_json(&v, "a", false);
    assert_non_null(json_object_get(root, "canary"));
    assert_null(json_object_get(root, "samples"));
    json_decref(root);
    root = to_json(&v, NULL, true);
    assert_null(json_object_get(root, "canary"));
    assert_non_null(json_object_get(root, "samples"));
    json_decref(root);

    /* Nothing yet: every NaN is null, the latency result too. */
    judge_gen(&(struct arm_gen){0, 0, 0, 0, 0}, &(struct arm_gen){0, 0, 0, 0, 0}, &s, &v);
    root = to_json(&v, "empty", true);
    check_schema(root, &v);
    assert_true(json_is_null(json_object_get(root, "score")));
    json_t *l = json_obj(root, "latency");
    assert_true(json_is_null(json_object_get(l, "mann_whitney_u")));
    assert_true(json_is_null(json_object_get(l, "p95_ratio")));
    assert_true(json_is_null(json_object_get(l, "result")));
    assert_true(json_is_null(json_object_get(json_obj(l, "shift"), "estimate")));
    assert_true(
        json_is_null(json_object_get(json_obj(json_obj(root, "errors"), "canary"), "ratio")));
    json_decref(root);

    /* Infinity is not JSON either: a p95 ratio over a zero baseline. */
    struct canary_sample b[3] = {{0, true}, {0, true}, {0, true}};
    struct canary_sample c[3] = {{0.1, true}, {0.2, true}, {0.3, true}};
    s.min_samples = 3;
    canary_judge(b, 3, c, 3, &s, &v);
    assert_true(isinf(v.p95_ratio));
    root = to_json(&v, NULL, false);
    assert_true(json_is_null(json_object_get(json_obj(root, "latency"), "p95_ratio")));
    json_decref(root);
}

/* ---- canary_parse_samples ---- */

static void test_parse_samples(void **state)
{
    (void)state;
    static const char text[] = "# latency_seconds[,ok|fail]\n"
                               "0.12\n"
                               "0.12,ok\n"
                               "0.5,fail\n"
                               "  0.25 , ok  \r\n"
                               "\t1e-3,\tfail\t\r\n"
                               "\n"
                               "   \r\n"
                               "  # indented comment\n"
                               "0\n"
                               "7.5"; /* no final newline */
    static const struct canary_sample want[] = {{0.12, true}, {0.12, true},  {0.5, false},
                                                {0.25, true}, {1e-3, false}, {0, true},
                                                {7.5, true}};
    struct buf errors;
    buf_init(&errors, 1 << 16);
    struct canary_sample *out = NULL;
    size_t n = 99;
    assert_int_equal(canary_parse_samples("b.txt", text, strlen(text), &out, &n, &errors), OP_OK);
    assert_int_equal(n, ARRAY_SIZE(want));
    for (size_t i = 0; i < n; i++) {
        assert_true(out[i].latency == want[i].latency);
        assert_int_equal(out[i].ok, want[i].ok);
    }
    assert_int_equal(errors.len, 0);
    free(out);

    /* Empty and comment-only input: no samples, no error. */
    static const char *const empty[] = {"", "\n\n", "# nothing\r\n"};
    for (size_t i = 0; i < ARRAY_SIZE(empty); i++) {
        out = NULL;
        n = 99;
        assert_int_equal(canary_parse_samples("e", empty[i], strlen(empty[i]), &out, &n, &errors),
                         OP_OK);
        assert_int_equal(n, 0);
        free(out);
    }
    assert_int_equal(errors.len, 0);

    /* One bad line at a time, after a good one: "NAME:LINE: reason". */
    static const struct {
        const char *line, *reason;
    } bad[] = {
        {"-0.1", "latency_seconds is not a number >= 0"},
        {"-1e-9,ok", "latency_seconds is not a number >= 0"},
        {"nan", "latency_seconds is not a number >= 0"},
        {"NaN,ok", "latency_seconds is not a number >= 0"},
        {"inf", "latency_seconds is not a number >= 0"},
        {"1e400", "latency_seconds is not a number >= 0"},
        {"abc", "latency_seconds is not a number >= 0"},
        {"0.1s", "latency_seconds is not a number >= 0"},
        {"0.1 0.2", "latency_seconds is not a number >= 0"},
        {",ok", "latency_seconds is not a number"},
        {"0.1,ok,extra", "the second field must be ok or fail"},
        {"0.1,fail,0.2", "the second field must be ok or fail"},
        {"0.1,maybe", "the second field must be ok or fail"},
        {"0.1,OK", "the second field must be ok or fail"},
        {"0.1,", "the second field must be ok or fail"},
        {"0.1,okay", "the second field must be ok or fail"},
        {"0.12345678901234567890123456789012345678901234567890123456789012345",
         "latency_seconds is not a number"}, /* longer than any number */
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        char in[256], want_err[256];
        snprintf(in, sizeof(in), "0.1,ok\r\n%s\r\n0.2\n", bad[i].line);
        snprintf(want_err, sizeof(want_err), "c.txt:2: %s\n", bad[i].reason);
        buf_reset(&errors);
        out = NULL;
        n = 99;
        enum op_rc rc = canary_parse_samples("c.txt", in, strlen(in), &out, &n, &errors);
        if (rc != OP_ERR_INVALID || strcmp(buf_str(&errors), want_err) != 0) {
            print_error("\"%s\": rc %d, errors \"%s\", want \"%s\"\n", bad[i].line, rc,
                        buf_str(&errors), want_err);
            fail();
        }
        assert_null(out); /* nothing handed out on error */
    }

    /* Every bad line is reported, with its own line number. */
    static const char many[] = "abc\n0.1\n\n-2\n0.3,maybe\n";
    buf_reset(&errors);
    out = NULL;
    assert_int_equal(canary_parse_samples("m", many, strlen(many), &out, &n, &errors),
                     OP_ERR_INVALID);
    assert_string_equal(buf_str(&errors), "m:1: latency_seconds is not a number >= 0\n"
                                          "m:4: latency_seconds is not a number >= 0\n"
                                          "m:5: the second field must be ok or fail\n");
    assert_null(out);
    buf_free(&errors);
}

/* ---- canary_state ---- */

static void spec_init(struct canary_spec *sp, int64_t interval_ms, int64_t window_ms)
{
    memset(sp, 0, sizeof(*sp));
    sp->name = "web";
    sp->interval_ms = interval_ms;
    sp->window_ms = window_ms;
    canary_settings_default(&sp->settings);
    sp->settings.min_samples = 1;
}

static void test_state_ring(void **state)
{
    (void)state;
    struct canary_spec sp;
    spec_init(&sp, 1000, 3600 * SEC);
    /* Capacity below 16 is raised to 16. */
    struct canary_state *st = canst_new(42, 3);
    assert_true(canst_identity(st) == 42);
    /* Latency i for sample i = 1..20: the ring keeps 5..20. */
    for (int i = 1; i <= 20; i++)
        canst_add(st, ARM_BASELINE, T0 + i, (double)i, true);
    for (int i = 1; i <= 10; i++)
        canst_add(st, ARM_CANARY, T0 + i, (double)i, i != 3);
    struct canary_verdict v;
    canst_verdict(st, &sp, T0 + 100, &v);
    assert_int_equal(v.baseline.n, 16);
    assert_true(v.baseline.sum == 200.0); /* 5 + ... + 20 */
    assert_true(v.baseline.p50 == 12.5);
    assert_int_equal(v.canary.n, 10); /* the other arm is its own ring */
    assert_int_equal(v.canary.failures, 1);
    assert_true(v.canary.sum == 52.0);

    /* Exactly at capacity nothing is dropped. */
    canst_reset(st);
    for (int i = 1; i <= 16; i++)
        canst_add(st, ARM_BASELINE, T0 + i, (double)i, true);
    canst_verdict(st, &sp, T0 + 100, &v);
    assert_int_equal(v.baseline.n, 16);
    assert_true(v.baseline.sum == 136.0);

    /* Many wraps. */
    for (int i = 17; i <= 1000; i++)
        canst_add(st, ARM_BASELINE, T0 + i, (double)i, true);
    canst_verdict(st, &sp, T0 + 2000, &v);
    assert_int_equal(v.baseline.n, 16);
    assert_true(v.baseline.sum == 16 * (985 + 1000) / 2.0);

    /* A second reference keeps it alive (ASan checks the frees). */
    canst_ref(st);
    canst_unref(st);
    assert_true(canst_identity(st) == 42);
    canst_unref(st);
    canst_unref(NULL);
}

static void test_state_window(void **state)
{
    (void)state;
    struct canary_spec sp;
    spec_init(&sp, 1000, 10 * SEC);
    struct canary_state *st = canst_new(1, 100);
    const int64_t now = T0 + 3600 * SEC;
    /* (now - window, now]: the first and last are out. */
    static const struct {
        int64_t dt;
        double latency;
    } at[] = {
        {-10 * SEC - 1, 1000}, {-10 * SEC, 100}, {-10 * SEC + 1, 1}, {-SEC, 2}, {0, 4}, {1, 10000},
    };
    for (size_t i = 0; i < ARRAY_SIZE(at); i++) {
        canst_add(st, ARM_BASELINE, now + at[i].dt, at[i].latency, true);
        canst_add(st, ARM_CANARY, now + at[i].dt, at[i].latency, false);
    }
    struct canary_verdict v;
    canst_verdict(st, &sp, now, &v);
    assert_int_equal(v.baseline.n, 3);
    assert_true(v.baseline.sum == 7.0);
    assert_int_equal(v.canary.n, 3);
    assert_int_equal(v.canary.failures, 3);

    /* Later, the window has moved on: only the sample at now + 1 is in. */
    canst_verdict(st, &sp, now + 5 * SEC, &v);
    assert_int_equal(v.baseline.n, 3);
    assert_true(v.baseline.sum == 4 + 10000 + 2.0);
    canst_verdict(st, &sp, now + 10 * SEC, &v);
    assert_int_equal(v.baseline.n, 1);
    assert_true(v.baseline.sum == 10000.0);
    canst_unref(st);
}

static void test_state_checksum(void **state)
{
    (void)state;
    struct canary_spec sp;
    spec_init(&sp, 1000, 3600 * SEC);
    struct canary_state *st = canst_new(1, 100);
    struct canary_verdict v;
    int64_t now = T0;
#define ADD3()                                                                                     \
    do {                                                                                           \
        for (int k = 0; k < 3; k++) {                                                              \
            canst_add(st, ARM_BASELINE, now, 0.1, true);                                           \
            canst_add(st, ARM_CANARY, now, 0.1, true);                                             \
        }                                                                                          \
    } while (0)
#define COUNT() (now += 10 * SEC, canst_verdict(st, &sp, now, &v), v.baseline.n + v.canary.n)

    ADD3();
    assert_int_equal(COUNT(), 6);
    /* Empty or missing checksums change nothing. */
    assert_false(canst_checksum(st, ""));
    assert_false(canst_checksum(st, NULL));
    assert_int_equal(COUNT(), 6);
    /* The first checksum starts a fresh revision. */
    assert_true(canst_checksum(st, "rev-1"));
    assert_int_equal(COUNT(), 0);
    ADD3();
    /* The same checksum again keeps the samples. */
    assert_false(canst_checksum(st, "rev-1"));
    assert_int_equal(COUNT(), 6);
    assert_false(canst_checksum(st, ""));
    assert_int_equal(COUNT(), 6);
    /* A new one resets; a prefix of the old one is a new one. */
    assert_true(canst_checksum(st, "rev-2"));
    assert_int_equal(COUNT(), 0);
    ADD3();
    assert_true(canst_checksum(st, "rev-"));
    assert_int_equal(COUNT(), 0);
    ADD3();
    assert_true(canst_checksum(st, "rev-1"));
    assert_int_equal(COUNT(), 0);

    /* Longer than the buffer: compared by its prefix, kept, no reset for
     * the same long value. */
    char longsum[CANARY_MAX_CHECKSUM + 50];
    memset(longsum, 'a', sizeof(longsum) - 1);
    longsum[sizeof(longsum) - 1] = '\0';
    assert_true(canst_checksum(st, longsum));
    ADD3();
    assert_false(canst_checksum(st, longsum));
    assert_int_equal(COUNT(), 6);
#undef COUNT
#undef ADD3
    canst_unref(st);
}

static void test_state_cache(void **state)
{
    (void)state;
    struct canary_spec sp;
    spec_init(&sp, 1000, 3600 * SEC);
    struct canary_state *st = canst_new(1, 100);
    struct canary_verdict v;
    canst_add(st, ARM_BASELINE, T0, 0.1, true);
    canst_add(st, ARM_CANARY, T0, 0.1, true);
    canst_verdict(st, &sp, T0 + 1, &v);
    assert_int_equal(v.baseline.n, 1);

    /* Within the interval the cached verdict is returned, although new
     * samples (inside the window) arrived. */
    canst_add(st, ARM_BASELINE, T0 + 1, 0.1, true);
    canst_add(st, ARM_BASELINE, T0 + 1, 0.1, true);
    canst_verdict(st, &sp, T0 + 1, &v);
    assert_int_equal(v.baseline.n, 1);
    canst_verdict(st, &sp, T0 + 1 + 999, &v);
    assert_int_equal(v.baseline.n, 1);
    /* One interval later: recomputed. */
    canst_verdict(st, &sp, T0 + 1 + 1000, &v);
    assert_int_equal(v.baseline.n, 3);
    /* Cached from the new time on. */
    canst_add(st, ARM_BASELINE, T0 + 2, 0.1, true);
    canst_verdict(st, &sp, T0 + 1500, &v);
    assert_int_equal(v.baseline.n, 3);
    /* A reset invalidates the cache at once. */
    canst_reset(st);
    canst_verdict(st, &sp, T0 + 1500, &v);
    assert_int_equal(v.baseline.n, 0);
    assert_int_equal(v.verdict, CANARY_INCONCLUSIVE);
    /* So does a new checksum. */
    canst_add(st, ARM_BASELINE, T0 + 3, 0.1, true);
    canst_verdict(st, &sp, T0 + 3000, &v);
    assert_int_equal(v.baseline.n, 1);
    canst_add(st, ARM_BASELINE, T0 + 4, 0.1, true);
    assert_true(canst_checksum(st, "abc"));
    canst_verdict(st, &sp, T0 + 3001, &v);
    assert_int_equal(v.baseline.n, 0);
    /* A clock that went backwards recomputes rather than trust the cache. */
    canst_add(st, ARM_BASELINE, T0 + 5, 0.1, true);
    canst_verdict(st, &sp, T0 + 2000, &v);
    assert_int_equal(v.baseline.n, 1);

    /* The cached verdict is the whole verdict, statistics included. */
    struct canary_verdict v2;
    canst_verdict(st, &sp, T0 + 2001, &v2);
    assert_int_equal(v2.baseline.n, v.baseline.n);
    assert_string_equal(v2.reason, v.reason);
    canst_unref(st);
}

/* A reload keeps a canary's samples when its arms stay, and hands the state
 * the capacity of the new window (gen.c: window / fastest interval + 16). */
static void test_state_reload_capacity(void **state)
{
    (void)state;
    struct canary_spec sp;
    spec_init(&sp, 1000, 20 * SEC);
    /* Created for a 2 s window at 100 ms: 2000 / 100 + 16 = 36 per arm. */
    struct canary_state *st = canst_new(1, 36);
    /* Reloaded to a 20 s window: 20000 / 100 + 16 = 216. */
    canst_set_capacity(st, 216);
    /* 8 s of probes at 100 ms on both arms. */
    for (int i = 1; i <= 80; i++) {
        canst_add(st, ARM_BASELINE, T0 + i * 100, (double)i, true);
        canst_add(st, ARM_CANARY, T0 + i * 100, (double)(i + 1000), true);
    }
    struct canary_verdict v;
    canst_verdict(st, &sp, T0 + 8 * SEC, &v);
    assert_int_equal(v.baseline.n, 80); /* 36 when the ring kept its creation size */
    assert_int_equal(v.canary.n, 80);
    assert_true(v.baseline.sum == 80 * 81 / 2.0);
    assert_true(v.canary.sum == 80 * 81 / 2.0 + 80 * 1000);
    canst_unref(st);
}

/* Checks that an arm holds exactly the samples first..last (latency i, ok
 * unless i % 7 == 0, offset added to the latency), oldest first. */
static void expect_run(struct canary_state *st, enum canary_arm_id arm, long first, long last,
                       double offset)
{
    struct canary_sample *s;
    size_t n = canst_samples(st, arm, INT64_MIN / 4, INT64_MAX / 4, &s);
    size_t want = last >= first ? (size_t)(last - first + 1) : 0;
    if (n != want) {
        print_error("arm %d holds %zu samples, want %zu (%ld..%ld)\n", arm, n, want, first, last);
        free(s);
        fail();
    }
    for (size_t k = 0; k < n; k++) {
        long i = first + (long)k;
        if (s[k].latency != (double)i + offset || s[k].ok != (i % 7 != 0)) {
            print_error("arm %d sample %zu: latency %.17g ok %d, want %.17g %d\n", arm, k,
                        s[k].latency, s[k].ok, (double)i + offset, i % 7 != 0);
            free(s);
            fail();
        }
    }
    free(s);
}

static void add_run(struct canary_state *st, enum canary_arm_id arm, long first, long last,
                    double offset)
{
    for (long i = first; i <= last; i++)
        canst_add(st, arm, T0 + i, (double)i + offset, i % 7 != 0);
}

static void test_state_shrink(void **state)
{
    (void)state;
    struct canary_state *st = canst_new(1, 100);
    add_run(st, ARM_BASELINE, 1, 100, 0);
    add_run(st, ARM_CANARY, 1, 100, 0.5);
    /* Only recorded: nothing changes before the owner's next add. */
    canst_set_capacity(st, 20);
    expect_run(st, ARM_BASELINE, 1, 100, 0);
    /* That add shrinks both arms to their newest 20, then stores 101. */
    add_run(st, ARM_BASELINE, 101, 101, 0);
    expect_run(st, ARM_BASELINE, 82, 101, 0);
    expect_run(st, ARM_CANARY, 81, 100, 0.5);
    add_run(st, ARM_CANARY, 101, 130, 0.5);
    expect_run(st, ARM_CANARY, 111, 130, 0.5);

    /* Below the documented slack of 16: raised to 16. */
    canst_set_capacity(st, 3);
    add_run(st, ARM_BASELINE, 102, 102, 0);
    expect_run(st, ARM_BASELINE, 87, 102, 0);
    expect_run(st, ARM_CANARY, 115, 130, 0.5);

    /* A ring holding fewer samples than the new capacity keeps them all. */
    canst_reset(st);
    canst_set_capacity(st, 100);
    add_run(st, ARM_BASELINE, 200, 209, 0);
    canst_set_capacity(st, 50);
    add_run(st, ARM_BASELINE, 210, 210, 0);
    expect_run(st, ARM_BASELINE, 200, 210, 0);
    expect_run(st, ARM_CANARY, 0, -1, 0);
    canst_unref(st);
}

/* From the initial 64 samples by doubling up to a large capacity, every
 * sample kept in order, read between doublings (readers free the arrays the
 * owner replaced; ASan checks) and not. */
static void test_state_growth(void **state)
{
    (void)state;
    const long cap = 300000;
    struct canary_state *st = canst_new(1, (size_t)cap);
    add_run(st, ARM_BASELINE, 1, 50, 0);
    expect_run(st, ARM_BASELINE, 1, 50, 0);
    for (long end = 100; end <= cap; end *= 3) {
        add_run(st, ARM_BASELINE, end / 3 > 50 ? end / 3 + 1 : 51, end, 0);
        expect_run(st, ARM_BASELINE, 1, end, 0);
    }
    /* Up to the capacity, then the ring wraps. */
    add_run(st, ARM_BASELINE, 218701, cap, 0);
    expect_run(st, ARM_BASELINE, 1, cap, 0);
    add_run(st, ARM_BASELINE, cap + 1, cap + 1234, 0);
    expect_run(st, ARM_BASELINE, 1235, cap + 1234, 0);
    expect_run(st, ARM_CANARY, 0, -1, 0);

    /* Growing a full ring by reload keeps every sample, then fills up. */
    canst_unref(st);
    st = canst_new(1, 16);
    add_run(st, ARM_CANARY, 1, 40, 0);
    expect_run(st, ARM_CANARY, 25, 40, 0);
    canst_set_capacity(st, 5000);
    add_run(st, ARM_CANARY, 41, 41, 0);
    expect_run(st, ARM_CANARY, 25, 41, 0);
    add_run(st, ARM_CANARY, 42, 60, 0);
    expect_run(st, ARM_CANARY, 25, 60, 0);
    add_run(st, ARM_CANARY, 61, 5024, 0);
    expect_run(st, ARM_CANARY, 25, 5024, 0);
    add_run(st, ARM_CANARY, 5025, 5025, 0);
    expect_run(st, ARM_CANARY, 26, 5025, 0);
    canst_unref(st); /* frees arrays retired with no reader since */
}

/* The owner replaces an array while a reader copies from it: the reader
 * keeps reading the retired array (ASan: not freed under it) and drops what
 * the owner may have overwritten, so it still sees a contiguous run. The
 * hook makes this thread the owner inside its own read. */
struct hook_adds {
    struct canary_state *st;
    long next, count;
    int calls;
};

static void add_in_copy(enum canary_arm_id arm, void *arg)
{
    struct hook_adds *h = arg;
    if (arm != ARM_BASELINE || h->calls++ > 0)
        return;
    add_run(h->st, ARM_BASELINE, h->next, h->next + h->count - 1, 0);
    h->next += h->count;
}

static void test_state_retire_under_reader(void **state)
{
    (void)state;
    struct canary_state *st = canst_new(1, 1000);
    add_run(st, ARM_BASELINE, 0, 63, 0); /* the initial array is full */
    add_run(st, ARM_CANARY, 0, 9, 0);
    struct hook_adds h = {st, 64, 10, 0};
    canst_copy_hook = add_in_copy;
    canst_copy_hook_arg = &h;
    /* The first of the 10 adds doubles the ring (the old array is retired
     * mid-copy). The reader captured 0..63 in a 64-sample array; 74 have been
     * written since creation, so 0..9 may be overwritten: dropped. */
    expect_run(st, ARM_BASELINE, 10, 63, 0);
    /* The next reader frees the retired array and sees everything. */
    canst_copy_hook = NULL;
    expect_run(st, ARM_BASELINE, 0, 73, 0);

    /* A shrink mid-copy retires both arms' arrays; the canary arm is copied
     * from its retired array after the baseline's hook ran. */
    canst_set_capacity(st, 16);
    h = (struct hook_adds){st, 74, 1, 0};
    canst_copy_hook = add_in_copy;
    expect_run(st, ARM_CANARY, 0, 9, 0);
    canst_copy_hook = NULL;
    expect_run(st, ARM_BASELINE, 59, 74, 0);
    expect_run(st, ARM_CANARY, 0, 9, 0);
    canst_copy_hook_arg = NULL;
    canst_unref(st);
}

/* ---- threads ---- */

/* A value threads wait on, with a deadline (CLOCK_MONOTONIC). */
struct latch {
    pthread_mutex_t m;
    pthread_cond_t c;
    int value;
};

static void latch_init(struct latch *l)
{
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(&l->c, &a);
    pthread_condattr_destroy(&a);
    pthread_mutex_init(&l->m, NULL);
    l->value = 0;
}

static void latch_destroy(struct latch *l)
{
    pthread_cond_destroy(&l->c);
    pthread_mutex_destroy(&l->m);
}

static void latch_set(struct latch *l, int value)
{
    pthread_mutex_lock(&l->m);
    l->value = value;
    pthread_cond_broadcast(&l->c);
    pthread_mutex_unlock(&l->m);
}

/* True when the value reached at least `value` within timeout_ms. */
static bool latch_wait(struct latch *l, int value, long timeout_ms)
{
    struct timespec dl;
    clock_gettime(CLOCK_MONOTONIC, &dl);
    dl.tv_sec += timeout_ms / 1000;
    dl.tv_nsec += (timeout_ms % 1000) * 1000000L;
    if (dl.tv_nsec >= 1000000000L) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&l->m);
    int rc = 0;
    while (l->value < value && rc == 0)
        rc = pthread_cond_timedwait(&l->c, &l->m, &dl);
    bool reached = l->value >= value;
    pthread_mutex_unlock(&l->m);
    return reached;
}

/* A reader inside its copy of 1,000,000 samples does not hold up the probe
 * thread: the writer completes its adds while the reader waits inside the
 * copy for them. Holding the owner's lock across the copy (as the rings once
 * did) times out here instead of deadlocking. */
struct block_test {
    struct canary_state *st;
    long m, k; /* samples before; samples the writer adds during the copy */
    struct latch inside, done;
    bool writer_saw_reader, reader_saw_writer;
    int calls;
};

static void *blocked_writer(void *arg)
{
    struct block_test *b = arg;
    b->writer_saw_reader = latch_wait(&b->inside, 1, 10000);
    if (b->writer_saw_reader)
        for (long j = 0; j < b->k; j++)
            canst_add(b->st, ARM_BASELINE, T0 + b->m + j, (double)(b->m + j), true);
    latch_set(&b->done, 1);
    return NULL;
}

static void wait_for_writer(enum canary_arm_id arm, void *arg)
{
    struct block_test *b = arg;
    if (arm != ARM_BASELINE || b->calls++ > 0)
        return;
    latch_set(&b->inside, 1);
    b->reader_saw_writer = latch_wait(&b->done, 1, 10000);
}

static void test_state_reader_does_not_block_writer(void **state)
{
    (void)state;
    struct block_test b = {.m = 1000000, .k = 1000};
    latch_init(&b.inside);
    latch_init(&b.done);
    b.st = canst_new(1, (size_t)b.m);
    for (long i = 0; i < b.m; i++)
        canst_add(b.st, ARM_BASELINE, T0 + i, (double)i, true);
    struct canary_spec sp;
    spec_init(&sp, 1000, 1000000 * SEC);
    canst_copy_hook = wait_for_writer;
    canst_copy_hook_arg = &b;
    /* From here the writer thread is the owner. */
    pthread_t w;
    assert_int_equal(pthread_create(&w, NULL, blocked_writer, &b), 0);
    struct canary_verdict v;
    canst_verdict(b.st, &sp, T0 + 2 * b.m, &v);
    assert_int_equal(pthread_join(w, NULL), 0);
    canst_copy_hook = NULL;
    canst_copy_hook_arg = NULL;
    assert_true(b.writer_saw_reader);
    assert_true(b.reader_saw_writer);
    /* The copy held 0..m-1; the k adds may have overwritten 0..k-1 (the
     * spare slot took the first): dropped, the rest judged. */
    assert_int_equal(v.baseline.n, b.m - b.k);
    assert_true(v.baseline.sum == (double)(b.m - 1 + b.k) * (double)(b.m - b.k) / 2);
    assert_int_equal(v.canary.n, 0);
    canst_unref(b.st);
    latch_destroy(&b.inside);
    latch_destroy(&b.done);
}

/* One writer, three readers judging as fast as they can over a window that
 * covers every sample. Sample i has latency i; baseline samples succeed, so a
 * verdict over a contiguous run a..a+n-1 has latency sum n a + n (n - 1) / 2
 * and median a + (n - 1) / 2, exactly. Canary samples (latency i + 0.5) all
 * fail, which keeps the judge cheap (no latency comparison) so the readers
 * judge often; between verdicts the readers also take one arm's samples
 * themselves and check them one by one. The writer resets now and then, a
 * reader changes the capacity, the rings grow and shrink. */
#define THR_CAP 1024
#define THR_READERS 3
#define THR_VERDICTS 200 /* per reader, at least */

struct thr_test {
    struct canary_state *st;
    struct canary_spec spec;
    long min_samples, max_samples; /* per arm */
    atomic_bool done;
    atomic_long clock; /* the readers' fake now */
    atomic_long verdicts[THR_READERS];
    pthread_mutex_t err_lock;
    char err[512];
};

struct thr_reader {
    struct thr_test *t;
    int id;
};

static void thr_fail(struct thr_test *t, const char *what, size_t n, double sum, double p50)
{
    pthread_mutex_lock(&t->err_lock);
    if (!t->err[0])
        snprintf(t->err, sizeof(t->err), "%s: n %zu sum %.17g p50 %.17g", what, n, sum, p50);
    pthread_mutex_unlock(&t->err_lock);
}

/* The first baseline sample of the contiguous run behind a, or -1. */
static long run_start(const struct canary_arm *a, long max_samples)
{
    if (a->n == 0)
        return 0;
    double n = (double)a->n;
    double first = (a->sum - n * (n - 1) / 2) / n;
    if (a->n > THR_CAP || a->failures != 0 || a->n_latency != a->n || first != floor(first) ||
        first < 0 || first + n > (double)max_samples || a->p50 != first + (n - 1) / 2)
        return -1;
    return (long)first;
}

/* True when s[0..n) are consecutive samples of one arm. */
static bool consecutive(const struct canary_sample *s, size_t n, enum canary_arm_id arm)
{
    for (size_t k = 0; k < n; k++) {
        if (s[k].ok != (arm == ARM_BASELINE) || s[k].latency != s[0].latency + (double)k ||
            s[k].latency - floor(s[k].latency) != (arm == ARM_BASELINE ? 0 : 0.5))
            return false;
    }
    return n <= THR_CAP;
}

static void *thr_read(void *arg)
{
    struct thr_reader *r = arg;
    struct thr_test *t = r->t;
    long last_end = 0, k = 0;
    while (!atomic_load(&t->done)) {
        /* Every reader's now is new: each call recomputes. */
        int64_t now = T0 + 10 * t->max_samples + atomic_fetch_add(&t->clock, 1);
        struct canary_verdict v;
        canst_verdict(t->st, &t->spec, now, &v);
        k = atomic_fetch_add(&t->verdicts[r->id], 1) + 1;
        long first = run_start(&v.baseline, t->max_samples);
        if (first < 0) {
            thr_fail(t, "baseline not a contiguous run", v.baseline.n, v.baseline.sum,
                     v.baseline.p50);
            return NULL;
        }
        /* A later verdict ends no earlier. */
        if (v.baseline.n && first + (long)v.baseline.n < last_end) {
            thr_fail(t, "baseline went backwards", v.baseline.n, v.baseline.sum, v.baseline.p50);
            return NULL;
        }
        if (v.baseline.n)
            last_end = first + (long)v.baseline.n;
        if (v.canary.n > THR_CAP || v.canary.failures != v.canary.n) {
            thr_fail(t, "canary", v.canary.n, v.canary.sum, v.canary.p50);
            return NULL;
        }

        enum canary_arm_id arm = (enum canary_arm_id)(k % 2);
        struct canary_sample *s;
        size_t n = canst_samples(t->st, arm, INT64_MIN / 4, INT64_MAX / 4, &s);
        bool ok = consecutive(s, n, arm);
        if (!ok)
            thr_fail(t, arm ? "canary samples not consecutive" : "baseline samples not consecutive",
                     n, n ? s[0].latency : NAN, n ? s[n - 1].latency : NAN);
        free(s);
        if (!ok)
            return NULL;
        if (r->id == 0 && k % 5 == 0)
            canst_set_capacity(t->st, k % 10 ? THR_CAP / 3 : THR_CAP);
    }
    return NULL;
}

static void *thr_write(void *arg)
{
    struct thr_test *t = arg;
    long i = 0;
    for (; i < t->max_samples; i++) {
        canst_add(t->st, ARM_BASELINE, T0 + i, (double)i, true);
        canst_add(t->st, ARM_CANARY, T0 + i, (double)i + 0.5, false);
        if (i % 300000 == 299999)
            canst_reset(t->st);
        /* Enough samples, and every reader has judged often enough (or
         * one has failed). */
        if (i >= t->min_samples && i % 1000 == 0) {
            pthread_mutex_lock(&t->err_lock);
            bool failed = t->err[0] != '\0';
            pthread_mutex_unlock(&t->err_lock);
            bool enough = true;
            for (int r = 0; r < THR_READERS; r++)
                enough = enough && atomic_load(&t->verdicts[r]) >= THR_VERDICTS;
            if (enough || failed)
                break;
        }
    }
    atomic_store(&t->done, true);
    return NULL;
}

static void test_state_threads(void **state)
{
    (void)state;
    struct thr_test *t = calloc(1, sizeof(*t));
    assert_non_null(t);
    t->min_samples = 1000000; /* per arm */
    t->max_samples = 100 * t->min_samples;
    t->st = canst_new(1, THR_CAP);
    spec_init(&t->spec, 1, 100 * t->max_samples);
    atomic_init(&t->done, false);
    atomic_init(&t->clock, 0);
    for (int i = 0; i < THR_READERS; i++)
        atomic_init(&t->verdicts[i], 0);
    pthread_mutex_init(&t->err_lock, NULL);
    struct thr_reader readers[THR_READERS];
    pthread_t rt[THR_READERS], wt;
    for (int i = 0; i < THR_READERS; i++) {
        readers[i] = (struct thr_reader){t, i};
        assert_int_equal(pthread_create(&rt[i], NULL, thr_read, &readers[i]), 0);
    }
    assert_int_equal(pthread_create(&wt, NULL, thr_write, t), 0);
    assert_int_equal(pthread_join(wt, NULL), 0);
    for (int i = 0; i < THR_READERS; i++)
        assert_int_equal(pthread_join(rt[i], NULL), 0);
    if (t->err[0])
        print_error("%s\n", t->err);
    assert_string_equal(t->err, "");
    for (int i = 0; i < THR_READERS; i++)
        assert_true(atomic_load(&t->verdicts[i]) > 0);

    /* The test thread is the owner now: the full capacity, filled. */
    canst_set_capacity(t->st, THR_CAP);
    long end = t->max_samples + 2 * THR_CAP;
    for (long i = t->max_samples; i < end; i++) {
        canst_add(t->st, ARM_BASELINE, T0 + i, (double)i, true);
        canst_add(t->st, ARM_CANARY, T0 + i, (double)i + 0.5, false);
    }
    struct canary_verdict v;
    canst_verdict(t->st, &t->spec, T0 + 20 * t->max_samples, &v);
    assert_int_equal(v.baseline.n, THR_CAP);
    assert_int_equal(run_start(&v.baseline, end), end - THR_CAP);
    assert_int_equal(v.canary.failures, THR_CAP);
    canst_unref(t->st);
    pthread_mutex_destroy(&t->err_lock);
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_settings_default),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_verdict_rules),
        cmocka_unit_test(test_kayenta_miss),
        cmocka_unit_test(test_arm_figures),
        cmocka_unit_test(test_latency_from_successes),
        cmocka_unit_test(test_verdict_json),
        cmocka_unit_test(test_parse_samples),
        cmocka_unit_test(test_state_ring),
        cmocka_unit_test(test_state_window),
        cmocka_unit_test(test_state_checksum),
        cmocka_unit_test(test_state_cache),
        cmocka_unit_test(test_state_reload_capacity),
        cmocka_unit_test(test_state_shrink),
        cmocka_unit_test(test_state_growth),
        cmocka_unit_test(test_state_retire_under_reader),
        cmocka_unit_test(test_state_reader_does_not_block_writer),
        cmocka_unit_test(test_state_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
