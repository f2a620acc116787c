/*
 * test_stats.c - unit tests for the statistics of the canary judge
 * (collectors/stats.c): AS241 normal quantile, normal upper tail, Brent,
 * one-sided Fisher exact, Mann-Whitney with tie and continuity correction,
 * the Hodges-Lehmann shift and its interval, and the R-7 quantile.
 *
 * Every expected value is a constant computed once with scipy 1.10.1 /
 * numpy 1.24.2 (Debian's /usr/bin/python3) and pasted here; the call that
 * produced it is named above each table. R is not installed, so the
 * wilcox.test references come from a transcription of R's
 * .wilcox_test_two_cint_asymp (stats/R/wilcox.test.R) into Python: W(d)
 * ranks c(x - d, y) with scipy.stats.rankdata, the interval ends are R's
 * root(zq) with uniroot replaced by scipy.optimize.brentq(xtol=1e-15,
 * rtol=4*eps), and the estimate is uniroot(W, mumin, mumax) with the
 * continuity correction switched off, as R does ("correct <- FALSE # for
 * W(): no continuity correction for estimate", PR#15760).
 *
 * Tolerances are stated per table and kept as tight as the arithmetic
 * allows: a few ulps for closed forms, the conditioning of the function
 * where it matters (erfc at large z, lgamma at large n), 1e-9 for roots.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "common.h"
#include "stats.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Relative check |got - want| <= rel * |want|; want == 0 needs got == 0.
 * Returns false (and prints why) instead of failing at once, so a table
 * reports every bad row before the test fails. */
static bool rel_ok(double got, double want, double rel, const char *what, double arg)
{
    if (isnan(want) ? isnan(got) : fabs(got - want) <= rel * fabs(want))
        return true;
    print_error("%s(%.17g) = %.17g, want %.17g (rel err %.3g, tol %.3g)\n", what, arg, got, want,
                fabs(got - want) / fabs(want), rel);
    return false;
}

/* Absolute check, for roots (whose error is set by the solver's tolerance,
 * not by the size of the root: a root may be exactly 0). */
static bool abs_ok(double got, double want, double tol, const char *what, const char *row)
{
    if (fabs(got - want) <= tol)
        return true;
    print_error("%s %s = %.17g, want %.17g (err %.3g, tol %.3g)\n", row, what, got, want,
                fabs(got - want), tol);
    return false;
}

/* ---- normal distribution ---- */

static void test_norm_ppf(void **state)
{
    (void)state;
    /* scipy.stats.norm.ppf(p). AS241 is good to about 1e-16 relative; the
     * worst row here is off by 4e-16. */
    static const struct {
        double p, want;
    } rows[] = {
        {1e-300, -37.0470962993612},
        {1e-20, -9.262340089798409},
        {1e-10, -6.361340902404056},
        {0.001, -3.090232306167813},
        {0.01, -2.3263478740408408},
        {0.025, -1.9599639845400545},
        {0.1, -1.2815515655446004},
        {0.3, -0.5244005127080409},
        {0.5, 0.0},
        {0.7, 0.5244005127080407},
        {0.9, 1.2815515655446004},
        {0.975, 1.959963984540054},
        {0.99, 2.3263478740408408},
        {0.999, 3.090232306167813},
        /* 1 - 1e-10 is not 1e-10 away from 1 in binary: its own value. */
        {1 - 1e-10, 6.361340889697422},
    };
    int bad = 0;
    for (size_t i = 0; i < ARRAY_SIZE(rows); i++)
        bad += !rel_ok(stats_norm_ppf(rows[i].p), rows[i].want, 1e-14, "ppf", rows[i].p);
    assert_int_equal(bad, 0);

    /* The ends of the support and everything outside it. */
    assert_true(isinf(stats_norm_ppf(0.0)) && stats_norm_ppf(0.0) < 0);
    assert_true(isinf(stats_norm_ppf(-0.0)) && stats_norm_ppf(-0.0) < 0);
    assert_true(isinf(stats_norm_ppf(1.0)) && stats_norm_ppf(1.0) > 0);
    static const double outside[] = {-1e-300, -0.5, -INFINITY, 1.0000000000000002, 2.0, INFINITY};
    for (size_t i = 0; i < ARRAY_SIZE(outside); i++)
        assert_true(isnan(stats_norm_ppf(outside[i])));
    assert_true(isnan(stats_norm_ppf(NAN)));

    /* The smallest positive double still has a finite quantile. */
    double tiny = stats_norm_ppf(4.9406564584124654e-324);
    assert_true(isfinite(tiny) && tiny < -38);
}

static void test_norm_sf(void **state)
{
    (void)state;
    /* scipy.stats.norm.sf(z). P(Z > z) = erfc(z/sqrt2)/2 is exact math, but
     * rounding z/sqrt2 costs a relative error of about z^2 * eps in the
     * tail, so the tolerance is 4 * eps * max(1, z^2) (8e-14 at z = 10). */
    static const struct {
        double z, want;
    } rows[] = {
        {-40, 1.0},
        {-8, 0.9999999999999993},
        {-3, 0.9986501019683699},
        {-1.959963984540054, 0.975},
        {-1, 0.8413447460685429},
        {-0.5, 0.6914624612740131},
        {0, 0.5},
        {0.5, 0.3085375387259869},
        {1, 0.15865525393145707},
        {1.6448536269514722, 0.050000000000000044},
        {1.959963984540054, 0.025},
        {2.3263478740408408, 0.01},
        {3, 0.0013498980316300933},
        {5, 2.866515718791933e-07},
        {8, 6.22096057427174e-16},
        {10, 7.61985302416047e-24},
        {20, 2.7536241186061556e-89},
        {37.5, 4.605353009581954e-308},
    };
    int bad = 0;
    for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
        double z = rows[i].z;
        double tol = 4 * DBL_EPSILON * fmax(1, z * z);
        bad += !rel_ok(stats_norm_sf(z), rows[i].want, tol, "sf", z);
    }
    assert_int_equal(bad, 0);

    assert_true(stats_norm_sf(40) == 0.0); /* scipy: 0.0 (underflow) */
    assert_true(stats_norm_sf(INFINITY) == 0.0);
    assert_true(stats_norm_sf(-INFINITY) == 1.0);
    assert_true(isnan(stats_norm_sf(NAN)));

    /* ppf and sf agree: sf(-ppf(p)) = p. */
    static const double ps[] = {1e-10, 0.001, 0.025, 0.3, 0.5, 0.9};
    for (size_t i = 0; i < ARRAY_SIZE(ps); i++)
        assert_true(rel_ok(stats_norm_sf(-stats_norm_ppf(ps[i])), ps[i], 1e-13, "sf(-ppf)", ps[i]));
}

/* ---- Brent ---- */

static double f_cubic(double x, void *ctx)
{
    (void)ctx;
    return x * x * x - 2 * x - 5;
}

static double f_cubic_neg(double x, void *ctx)
{
    return -f_cubic(x, ctx);
}

static double f_cos(double x, void *ctx)
{
    (void)ctx;
    return cos(x) - x;
}

static double f_exp(double x, void *ctx)
{
    (void)ctx;
    return exp(x) - 2;
}

/* Discontinuous: the "root" is the jump at *(double *)ctx. */
static double f_step(double x, void *ctx)
{
    return x < *(const double *)ctx ? -1.0 : 1.0;
}

static double f_line(double x, void *ctx)
{
    (void)ctx;
    return x - 1;
}

static double f_positive(double x, void *ctx)
{
    (void)ctx;
    return x * x + 1;
}

static double f_sqrt(double x, void *ctx)
{
    (void)ctx;
    return sqrt(x) - 1; /* NaN for x < 0 */
}

static int n_calls;

static double f_counted(double x, void *ctx)
{
    n_calls++;
    return f_cubic(x, ctx);
}

static void test_brent(void **state)
{
    (void)state;
    static double jump = 0.3;
    /* Roots: scipy.optimize.brentq(f, a, b, xtol=1e-15, rtol=4*eps) and
     * closed forms. Brent stops when the bracket is within
     * 2 * (2 eps |b| + tol / 2), so |got - root| <= tol + 4 eps |root|. */
    static const struct {
        const char *name;
        stats_fn f;
        void *ctx;
        double a, b, tol, want;
    } rows[] = {
        /* brentq: 2.094551481542327; the classic value 2.0945514815423265
         * is one ulp away, inside the bound. */
        {"x^3-2x-5", f_cubic, NULL, 2, 3, 1e-13, 2.0945514815423265},
        {"x^3-2x-5 wide", f_cubic, NULL, -10, 10, 1e-13, 2.0945514815423265},
        {"x^3-2x-5 reversed", f_cubic, NULL, 3, 2, 1e-13, 2.0945514815423265},
        {"-(x^3-2x-5)", f_cubic_neg, NULL, 2, 3, 1e-13, 2.0945514815423265},
        {"cos x - x", f_cos, NULL, 0, 1, 1e-13, 0.7390851332151607}, /* brentq */
        {"e^x - 2", f_exp, NULL, 0, 1, 1e-14, 0.6931471805599453},   /* log(2) */
        {"step at 0.3", f_step, &jump, 0, 1, 1e-12, 0.3},
        {"step at 0.3, loose tol", f_step, &jump, 0, 1, 1e-4, 0.3},
    };
    int bad = 0;
    for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
        double got = stats_brent(rows[i].f, rows[i].ctx, rows[i].a, rows[i].b, rows[i].tol, 200);
        double tol = rows[i].tol + 4 * DBL_EPSILON * fabs(rows[i].want);
        bad += !abs_ok(got, rows[i].want, tol, "root", rows[i].name);
    }
    assert_int_equal(bad, 0);

    /* A root at an end is returned exactly, without iterating. */
    assert_true(stats_brent(f_line, NULL, 1, 3, 1e-12, 100) == 1.0);
    assert_true(stats_brent(f_line, NULL, 0, 1, 1e-12, 100) == 1.0);
    assert_true(stats_brent(f_line, NULL, 1, 1, 1e-12, 100) == 1.0);

    /* No sign change, or NaN at an end: no root. */
    assert_true(isnan(stats_brent(f_positive, NULL, -1, 1, 1e-12, 100)));
    assert_true(isnan(stats_brent(f_cubic, NULL, 3, 4, 1e-12, 100)));  /* both > 0 */
    assert_true(isnan(stats_brent(f_cubic, NULL, -1, 0, 1e-12, 100))); /* both < 0 */
    assert_true(isnan(stats_brent(f_sqrt, NULL, -1, 4, 1e-12, 100)));
    assert_true(isnan(stats_brent(f_sqrt, NULL, 4, -1, 1e-12, 100)));

    /* Superlinear: the cubic converges to 1e-13 in a handful of calls. */
    n_calls = 0;
    double r = stats_brent(f_counted, NULL, 2, 3, 1e-13, 200);
    assert_true(fabs(r - 2.0945514815423265) < 1e-12);
    assert_in_range(n_calls, 3, 15);

    /* max_iter bounds the work and still returns the current best point
     * inside the bracket. */
    n_calls = 0;
    r = stats_brent(f_counted, NULL, -10, 10, 1e-15, 2);
    assert_int_equal(n_calls, 4); /* two ends + two iterations */
    assert_true(r >= -10 && r <= 10);
}

/* ---- Fisher ---- */

static void test_fisher_greater(void **state)
{
    (void)state;
    /* want: scipy.stats.fisher_exact([[ec, nc - ec], [eb, nb - eb]],
     * alternative="greater")[1], checked against the exact rational tail
     * sum(comb(K, x) comb(N - K, n - x)) / comb(N, n) (Python fractions);
     * the two agree to 2e-15 except where noted. A p of exactly 1 (the
     * whole support) must come out exactly. Otherwise: each log term is a
     * difference of lgamma values of size up to N log N, each good to an
     * ulp or so, so the relative error of p grows like eps * N log N; the
     * tolerance is max(1e-13, 1e-15 N ln N) (1.1e-12 at N = 200, 2.4e-9 at
     * N = 200000), at least 6x the error observed on any row. */
    static const struct {
        unsigned long ec, nc, eb, nb;
        double want;
    } rows[] = {
        {0, 100, 0, 100, 1.0},                   /* no failures anywhere */
        {0, 10, 0, 10, 1.0},                     /* */
        {0, 10, 5, 10, 1.0},                     /* canary better: whole support */
        {10, 10, 10, 10, 1.0},                   /* all failures in both */
        {0, 1, 1, 1, 1.0},                       /* */
        {3, 100, 0, 0, 1.0},                     /* empty baseline: zero row, scipy 1 */
        {0, 0, 3, 100, 1.0},                     /* empty canary */
        {1, 1, 0, 1, 0.5},                       /* */
        {5, 10, 0, 10, 0.016253869969040248},    /* */
        {10, 10, 0, 10, 5.412544112234515e-06},  /* all canary requests fail */
        {3, 20, 1, 20, 0.30249480249480254},     /* */
        {1, 20, 3, 20, 0.946985446985447},       /* */
        {4, 10, 4, 10, 0.6750416765896641},      /* */
        {2, 50, 2, 50, 0.6913464542330522},      /* */
        {7, 100, 2, 100, 0.08486013878339384},   /* */
        {50, 60, 0, 60, 4.1060383845258744e-24}, /* tiny p */
        {60, 60, 0, 60, 1.035036944093482e-35},  /* tinier */
        {5, 200, 0, 300, 0.009934193200422953},  /* unequal arms */
        {30, 1000, 10, 1000, 0.0010041667809150047},
        {500, 1000, 300, 1000, 3.763830785433784e-20},
        {120, 5000, 80, 5000, 0.002608244045677509},
        {300, 10000, 250, 10000, 0.01701297510062044},
        /* K = 1: P(X >= 1) = n_c / N = 0.5 exactly. scipy 1.10.1 returns
         * 0.4999999999885329 (2.3e-11 off); the exact value is asserted. */
        {1, 100000, 0, 100000, 0.5},
    };
    int bad = 0;
    for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
        double got = stats_fisher_greater(rows[i].ec, rows[i].nc, rows[i].eb, rows[i].nb);
        double N = (double)(rows[i].nc + rows[i].nb);
        double rel = rows[i].want == 1.0 ? 0 : fmax(1e-13, 1e-15 * N * log(N));
        if (!rel_ok(got, rows[i].want, rel, "fisher", (double)i)) {
            print_error("  row %zu: %lu/%lu vs %lu/%lu\n", i, rows[i].ec, rows[i].nc, rows[i].eb,
                        rows[i].nb);
            bad++;
        }
        assert_true(got >= 0 && got <= 1);
    }
    assert_int_equal(bad, 0);

    /* More failures than requests: not a table. */
    assert_true(isnan(stats_fisher_greater(11, 10, 0, 10)));
    assert_true(isnan(stats_fisher_greater(0, 10, 11, 10)));
    assert_true(isnan(stats_fisher_greater(1, 0, 0, 0)));

    /* Monotone in the canary's failures: more failures, smaller p. */
    double prev = 1.1;
    for (unsigned long ec = 0; ec <= 30; ec++) {
        double p = stats_fisher_greater(ec, 300, 5, 300);
        assert_true(p < prev || (p == 1.0 && prev >= 1.0));
        prev = p;
    }
}

/* ---- Mann-Whitney and Hodges-Lehmann: shared datasets ---- */

/* Latency-like samples, written out literally. x is the canary. */
static const double A_x[] = {0.131, 0.142, 0.118, 0.155, 0.149, 0.127, 0.162};
static const double A_y[] = {0.101, 0.122, 0.097, 0.113, 0.125, 0.108, 0.119, 0.104, 0.116};
/* Many ties: values rounded to 10 ms. */
static const double B_x[] = {0.12, 0.13, 0.12, 0.14, 0.13, 0.12, 0.15, 0.13, 0.11, 0.14, 0.13};
static const double B_y[] = {0.11, 0.12, 0.11, 0.12, 0.13, 0.1, 0.12,
                             0.11, 0.12, 0.13, 0.11, 0.12, 0.1};
/* Every value tied. */
static const double C_x[] = {0.25, 0.25, 0.25};
static const double C_y[] = {0.25, 0.25};
/* Unequal sizes (5 vs 25), ties inside y and across arms. */
static const double D_x[] = {0.52, 0.47, 0.61, 0.55, 0.49};
static const double D_y[] = {0.41, 0.44, 0.39, 0.47, 0.52, 0.43, 0.4,  0.45, 0.38,
                             0.46, 0.42, 0.48, 0.37, 0.44, 0.5,  0.41, 0.43, 0.36,
                             0.49, 0.45, 0.4,  0.42, 0.47, 0.39, 0.44};
/* A single canary sample. */
static const double E_x[] = {0.35};
static const double E_y[] = {0.21, 0.33, 0.27, 0.41, 0.3, 0.25, 0.38, 0.29, 0.31};
/* Canary faster: a negative shift. */
static const double F_x[] = {0.081, 0.092, 0.077, 0.088, 0.095, 0.083, 0.079, 0.09, 0.086};
static const double F_y[] = {0.101, 0.097, 0.112, 0.093, 0.108, 0.099,
                             0.104, 0.115, 0.091, 0.106, 0.11};
/* R's own extreme case, wilcox.test(1, 2:60, conf.int=TRUE): both interval
 * ends clamp to the search range. Filled in by fill_g(). */
static const double G_x[] = {1.0};
static double G_y[59];

static void fill_g(void)
{
    for (int i = 0; i < 59; i++)
        G_y[i] = 2.0 + i;
}

struct dataset {
    const char *name;
    const double *x, *y;
    size_t nx, ny;
};

#define DS(k)                                                                                      \
    {                                                                                              \
        .name = #k, .x = k##_x, .y = k##_y, .nx = ARRAY_SIZE(k##_x), .ny = ARRAY_SIZE(k##_y)       \
    }

static void test_mann_whitney(void **state)
{
    (void)state;
    fill_g();
    /* u, p: scipy.stats.mannwhitneyu(x, y, alternative="greater",
     * use_continuity=True, method="asymptotic") .statistic / .pvalue.
     * sigma: the tie-corrected formula (docs/canary.md) with tie groups from
     * scipy.stats.rankdata. U is a sum of half-integers: exact. p goes
     * through erfc at |z| < 4: 1e-13 relative. */
    static const struct {
        struct dataset d;
        double u, p, sigma;
    } rows[] = {
        {DS(A), 60.0, 0.0015191592411454916, 9.447221813845593},   /* no ties */
        {DS(B), 116.5, 0.0038950698124975277, 16.722831091359648}, /* many ties */
        {DS(D), 117.0, 0.001304559689907402, 17.937871707070222},  /* 5 vs 25 */
        {DS(E), 7.0, 0.24311716069414863, 2.8722813232690143},     /* nx = 1 */
        {DS(F), 3.0, 0.9998220297474743, 13.162446581088183},      /* canary faster */
        {DS(G), 0.0, 0.9583891556025066, 17.318102282486574},      /* 1 vs 59 */
    };
    int bad = 0;
    for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
        const struct dataset *d = &rows[i].d;
        struct stats_mw mw;
        stats_mann_whitney(d->x, d->nx, d->y, d->ny, &mw);
        if (mw.u != rows[i].u) {
            print_error("%s: U = %.17g, want %.17g\n", d->name, mw.u, rows[i].u);
            bad++;
        }
        bad += !rel_ok(mw.p_greater, rows[i].p, 1e-13, d->name, 0);
        bad += !rel_ok(mw.sigma, rows[i].sigma, 1e-14, d->name, 1);

        /* Swapping the arms: U_y = nx ny - U_x, same sigma. */
        struct stats_mw sw;
        stats_mann_whitney(d->y, d->ny, d->x, d->nx, &sw);
        if (sw.u != (double)(d->nx * d->ny) - mw.u || sw.sigma != mw.sigma) {
            print_error("%s swapped: U = %.17g sigma %.17g\n", d->name, sw.u, sw.sigma);
            bad++;
        }
    }
    assert_int_equal(bad, 0);

    /* All tied: sigma = 0 and no evidence either way. scipy gives 1.0 too
     * (z = -0.5 / 0 = -inf); our convention is documented in stats.c. */
    struct stats_mw mw;
    stats_mann_whitney(C_x, ARRAY_SIZE(C_x), C_y, ARRAY_SIZE(C_y), &mw);
    assert_true(mw.u == 3.0);
    assert_true(mw.sigma == 0.0);
    assert_true(mw.p_greater == 1.0);

    /* An empty arm: nothing to compute. */
    stats_mann_whitney(A_x, 0, A_y, ARRAY_SIZE(A_y), &mw);
    assert_true(isnan(mw.u) && isnan(mw.p_greater) && isnan(mw.sigma));
    stats_mann_whitney(A_x, ARRAY_SIZE(A_x), A_y, 0, &mw);
    assert_true(isnan(mw.u) && isnan(mw.p_greater) && isnan(mw.sigma));
}

/* The Hodges-Lehmann references: R wilcox.test(x, y, conf.int=TRUE,
 * correct=TRUE, exact=FALSE, conf.level=0.98) by the transcription in the
 * file header. All sizes are odd, so nx*ny is odd and R's estimate is the
 * single median of the pairwise differences (an even nx*ny leaves a flat
 * zero of W(d) between the two middle differences, where any point is a
 * root); each row's estimate equals numpy.median(subtract.outer(x, y)) to
 * 1e-15. Interval ends are pairwise differences where W(d) jumps across
 * +-z*: well defined. */
static const struct {
    struct dataset d;
    double est, lower, upper;
} hl_rows[] = {
    {DS(A), 0.029999999999999458, 0.008999999999999706, 0.04800000000000031},
    {DS(B), 0.010000000000000392, 4.720649484580938e-16, 0.02000000000000038},
    {DS(D), 0.09000000000000001, 0.03000000000000067, 0.16000000000000014},
    {DS(E), 0.04999999999999999, -0.06, 0.13999999999999999},
    {DS(F), -0.01799999999999992, -0.026999999999999507, -0.00899999999999931},
    {DS(G), -30.0, -59.0, -1.0},
};

/* Roots: stats.c asks Brent for 1e-10 of the search range; 1e-9 (relative
 * above 1) leaves room and still tells neighbouring differences apart
 * (they are >= 1e-3 apart in every dataset). */
static double hl_tol(double want)
{
    return 1e-9 * fmax(1, fabs(want));
}

static void test_hl_interval(void **state)
{
    (void)state;
    fill_g();
    int bad = 0;
    for (size_t i = 0; i < ARRAY_SIZE(hl_rows); i++) {
        const struct dataset *d = &hl_rows[i].d;
        double est, lo, up;
        assert_true(stats_hl_shift(d->x, d->nx, d->y, d->ny, 0.98, &est, &lo, &up));
        bad += !abs_ok(lo, hl_rows[i].lower, hl_tol(hl_rows[i].lower), "lower", d->name);
        bad += !abs_ok(up, hl_rows[i].upper, hl_tol(hl_rows[i].upper), "upper", d->name);
        assert_true(lo <= est && est <= up);
    }
    assert_int_equal(bad, 0);

    /* G clamps both ends to [min x - max y, max x - min y] exactly. */
    double est, lo, up;
    assert_true(stats_hl_shift(G_x, 1, G_y, 59, 0.98, &est, &lo, &up));
    assert_true(lo == -59.0 && up == -1.0);

    /* A wider confidence gives a wider interval, same estimate. */
    double est2, lo2, up2;
    assert_true(stats_hl_shift(A_x, ARRAY_SIZE(A_x), A_y, ARRAY_SIZE(A_y), 0.98, &est, &lo, &up));
    assert_true(
        stats_hl_shift(A_x, ARRAY_SIZE(A_x), A_y, ARRAY_SIZE(A_y), 0.999, &est2, &lo2, &up2));
    assert_true(lo2 < lo && up2 > up);
    assert_true(est2 == est);
}

static void test_hl_estimate(void **state)
{
    (void)state;
    fill_g();
    /* The estimate is the median of the pairwise differences (a root of
     * the continuity-corrected test would be flat at 0 across two gaps
     * between pairwise differences: Brent once returned 0.029 for A and
     * 0.0525 for E instead of R's 0.03 and 0.05, the median differences). */
    int bad = 0;
    for (size_t i = 0; i < ARRAY_SIZE(hl_rows); i++) {
        const struct dataset *d = &hl_rows[i].d;
        double est, lo, up;
        assert_true(stats_hl_shift(d->x, d->nx, d->y, d->ny, 0.98, &est, &lo, &up));
        bad += !abs_ok(est, hl_rows[i].est, hl_tol(hl_rows[i].est), "estimate", d->name);
    }
    assert_int_equal(bad, 0);
}

/* An even number of pairwise differences (10 x 10): the estimate is the
 * mean of the two middle ones, 0.85 and 0.87 (numpy: median of
 * subtract.outer(x, y) = 0.8600000000000001), not any other point of the
 * flat stretch between them where the inverted test is zero. */
static void test_hl_even_count(void **state)
{
    (void)state;
    static const double x[] = {4.48, 5.05, 4.02, 3.14, 3.74, 3.01, 4.59, 7.66, 3.68, 3.5};
    static const double y[] = {4.46, 4.23, 3.83, 2.53, 3.63, 4.85, 2.14, 3.06, 1.72, 2.19};
    double est, lo, up;
    assert_true(stats_hl_shift(x, ARRAY_SIZE(x), y, ARRAY_SIZE(y), 0.98, &est, &lo, &up));
    assert_true(
        abs_ok(est, (0.8500000000000005 + 0.8699999999999997) / 2, 1e-15, "estimate", "10 x 10"));
    assert_true(lo <= est && est <= up);
    /* Two equal middle differences: their value. */
    static const double a[] = {1, 2}, b[] = {0, 1};
    assert_true(stats_hl_shift(a, 2, b, 2, 0.98, &est, &lo, &up));
    assert_true(est == 1.0); /* differences 0, 1, 1, 2 */
}

/* The selection the estimate rests on, against every pair formed and
 * sorted: random small samples with many ties, every k. */
static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void test_diff_kth_brute(void **state)
{
    (void)state;
    uint64_t seed = 12345;
    for (int round = 0; round < 200; round++) {
        double xs[9], ys[8], all[72];
        size_t nx = 1 + round % 9, ny = 1 + (round / 9) % 8;
        for (size_t i = 0; i < nx; i++) {
            seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
            xs[i] = (double)((seed >> 33) % 7) * 0.1;
        }
        for (size_t j = 0; j < ny; j++) {
            seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
            ys[j] = (double)((seed >> 33) % 5) * 0.1 - 0.05;
        }
        qsort(xs, nx, sizeof(double), cmp_d);
        qsort(ys, ny, sizeof(double), cmp_d);
        size_t n = 0;
        for (size_t i = 0; i < nx; i++)
            for (size_t j = 0; j < ny; j++)
                all[n++] = xs[i] - ys[j];
        qsort(all, n, sizeof(double), cmp_d);
        for (size_t k = 1; k <= n; k++) {
            assert_true(stats_diff_kth(xs, nx, ys, ny, k) == all[k - 1]);
            size_t le = 0;
            while (le < n && all[le] <= all[k - 1])
                le++;
            assert_int_equal(stats_diffs_le(xs, nx, ys, ny, all[k - 1]), le);
        }
    }
}

static void test_hl_pure_shift(void **state)
{
    (void)state;
    /* x = y + 0.01 exactly (in floating point, per element), no ties, 9 x 9
     * (odd): the estimate is the shift. R (transcription above) gives
     * estimate 0.010000000000000002 and [-0.003999999999999806,
     * 0.023999999999999817]. */
    static const double y[] = {0.101, 0.122, 0.097, 0.113, 0.125, 0.108, 0.119, 0.104, 0.116};
    double x[ARRAY_SIZE(y)];
    for (size_t i = 0; i < ARRAY_SIZE(y); i++)
        x[i] = y[i] + 0.01;
    double est, lo, up;
    assert_true(stats_hl_shift(x, ARRAY_SIZE(x), y, ARRAY_SIZE(y), 0.98, &est, &lo, &up));
    assert_true(abs_ok(est, 0.01, 1e-9, "estimate", "pure shift"));
    assert_true(abs_ok(lo, -0.003999999999999806, 1e-9, "lower", "pure shift"));
    assert_true(abs_ok(up, 0.023999999999999817, 1e-9, "upper", "pure shift"));

    /* The same data shifted by a whole second: estimate 1, +-1e-9. */
    for (size_t i = 0; i < ARRAY_SIZE(y); i++)
        x[i] = y[i] + 1.0;
    assert_true(stats_hl_shift(x, ARRAY_SIZE(x), y, ARRAY_SIZE(y), 0.98, &est, &lo, &up));
    assert_true(abs_ok(est, 1.0, 1e-9, "estimate", "shift 1"));
    assert_true(lo < 1.0 && up > 1.0);
}

static void test_hl_degenerate(void **state)
{
    (void)state;
    double est = 0, lo = 0, up = 0;
    /* Every observation tied: no interval exists (R stops with "cannot
     * compute confidence interval when all observations are tied"). */
    assert_false(stats_hl_shift(C_x, ARRAY_SIZE(C_x), C_y, ARRAY_SIZE(C_y), 0.98, &est, &lo, &up));
    assert_true(isnan(est) && isnan(lo) && isnan(up));
    static const double one[] = {0.25};
    assert_false(stats_hl_shift(one, 1, one, 1, 0.98, &est, &lo, &up));
    /* An empty arm. */
    assert_false(stats_hl_shift(A_x, 0, A_y, ARRAY_SIZE(A_y), 0.98, &est, &lo, &up));
    assert_false(stats_hl_shift(A_x, ARRAY_SIZE(A_x), A_y, 0, 0.98, &est, &lo, &up));
    assert_true(isnan(est) && isnan(lo) && isnan(up));

    /* Each arm constant but different: the search range is one point, the
     * shift is unambiguous (R errors out here; we return the difference). */
    static const double cx[] = {0.3, 0.3, 0.3}, cy[] = {0.1, 0.1};
    assert_true(stats_hl_shift(cx, 3, cy, 2, 0.98, &est, &lo, &up));
    assert_true(est == 0.3 - 0.1 && lo == est && up == est);
}

/* ---- quantile ---- */

static void test_quantile_sorted(void **state)
{
    (void)state;
    /* numpy.percentile(v, 100 q, method="linear") (R type 7). numpy
     * interpolates as b - (b - a)(1 - t) for t >= 0.5 and stats.c as
     * a + t (b - a): both within an ulp or two, 1e-15 relative. */
    static const double v[] = {0.36, 0.37, 0.38, 0.39, 0.39, 0.4,  0.4,  0.41, 0.41,
                               0.42, 0.42, 0.43, 0.43, 0.44, 0.44, 0.44, 0.45, 0.45,
                               0.46, 0.47, 0.47, 0.48, 0.49, 0.5,  0.52}; /* sorted D_y */
    static const double two[] = {0.2, 0.7};
    static const double one[] = {0.42};
    static const struct {
        const double *v;
        size_t n;
        double q, want;
    } rows[] = {
        {v, 25, 0, 0.36},
        {v, 25, 0.01, 0.3624},
        {v, 25, 0.25, 0.4},
        {v, 25, 0.5, 0.43},
        {v, 25, 0.9, 0.486},
        {v, 25, 0.95, 0.49799999999999994},
        {v, 25, 0.99, 0.5152},
        {v, 25, 1, 0.52},
        {two, 2, 0, 0.2},
        {two, 2, 0.25, 0.325},
        {two, 2, 0.5, 0.44999999999999996},
        {two, 2, 0.95, 0.6749999999999999},
        {two, 2, 1, 0.7},
        {one, 1, 0, 0.42},
        {one, 1, 0.5, 0.42},
        {one, 1, 0.95, 0.42},
        {one, 1, 1, 0.42},
    };
    int bad = 0;
    for (size_t i = 0; i < ARRAY_SIZE(rows); i++)
        bad += !rel_ok(stats_quantile_sorted(rows[i].v, rows[i].n, rows[i].q), rows[i].want, 1e-15,
                       "quantile", rows[i].q);
    assert_int_equal(bad, 0);

    /* q = 0 and q = 1 are the extremes exactly. */
    assert_true(stats_quantile_sorted(v, 25, 0) == v[0]);
    assert_true(stats_quantile_sorted(v, 25, 1) == v[24]);
    /* No data: no quantile. */
    assert_true(isnan(stats_quantile_sorted(v, 0, 0.5)));
    assert_true(isnan(stats_quantile_sorted(NULL, 0, 0.95)));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_norm_ppf),      cmocka_unit_test(test_norm_sf),
        cmocka_unit_test(test_brent),         cmocka_unit_test(test_fisher_greater),
        cmocka_unit_test(test_mann_whitney),  cmocka_unit_test(test_hl_interval),
        cmocka_unit_test(test_hl_estimate),   cmocka_unit_test(test_hl_pure_shift),
        cmocka_unit_test(test_hl_even_count), cmocka_unit_test(test_diff_kth_brute),
        cmocka_unit_test(test_hl_degenerate), cmocka_unit_test(test_quantile_sorted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
