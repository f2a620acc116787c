/*
 * stats.h - the statistics of the canary judge, written here because the
 * usual C library for them (GSL) is GPL. Each is tested against scipy.
 * References: Wichura, AS241 (1988); Brent (1973); R's wilcox.test, which
 * Kayenta ports; scipy.stats.fisher_exact / mannwhitneyu.
 */
#ifndef OUTPOST_STATS_H
#define OUTPOST_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Inverse standard normal CDF (AS241 PPND16, ~1e-16 relative). p in (0,1);
 * returns -Inf/+Inf at 0/1 and NaN outside. */
double stats_norm_ppf(double p);
/* Upper tail of the standard normal, P(Z > z). */
double stats_norm_sf(double z);

/* Brent's root finder on [a, b] where f(a) and f(b) have opposite signs (or
 * one is 0). Returns NaN when they do not bracket a root. */
typedef double (*stats_fn)(double x, void *ctx);
double stats_brent(stats_fn f, void *ctx, double a, double b, double tol, int max_iter);

/* One-sided Fisher exact test: P(X >= e_c) for X hypergeometric with the
 * margins of [[e_c, n_c - e_c], [e_b, n_b - e_b]] (canary worse than
 * baseline); scipy fisher_exact(alternative="greater"). */
double stats_fisher_greater(unsigned long e_c, unsigned long n_c, unsigned long e_b,
                            unsigned long n_b);

/* Mann-Whitney U of x against y with average ranks for ties, and the
 * one-sided p-value that x is stochastically greater, normal approximation
 * with tie and continuity correction (scipy mannwhitneyu(x, y,
 * alternative="greater", use_continuity=True, method="asymptotic")). */
struct stats_mw {
    double u; /* U of x */
    double p_greater;
    double sigma; /* with tie correction */
};
void stats_mann_whitney(const double *x, size_t nx, const double *y, size_t ny,
                        struct stats_mw *out);

/* Hodges-Lehmann shift of x - y: the estimate is the median of the pairwise
 * differences (the mean of the two middle ones for an even count); the
 * confidence interval inverts the Mann-Whitney test (R wilcox.test(x, y,
 * conf.int=TRUE, correct=TRUE, exact=FALSE)), roots by Brent on
 * [min x - max y, max x - min y], clamped to the ends when there is no sign
 * change. False when every observation is tied (no interval exists). */
bool stats_hl_shift(const double *x, size_t nx, const double *y, size_t ny, double conf,
                    double *estimate, double *lower, double *upper);

#ifdef OUTPOST_TESTING
/* Pieces of the estimate, for unit tests: xs and ys sorted ascending. */
uint64_t stats_diffs_le(const double *xs, size_t nx, const double *ys, size_t ny, double v);
double stats_diff_kth(const double *xs, size_t nx, const double *ys, size_t ny, uint64_t k);
#endif

/* Quantile by linear interpolation (R type 7) of sorted v[0..n-1]; NaN for
 * n == 0 or q outside [0, 1]. */
double stats_quantile_sorted(const double *v, size_t n, double q);

#endif
