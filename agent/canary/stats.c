/* stats.c - normal quantiles, Brent, Fisher, Mann-Whitney, Hodges-Lehmann. */
#include "stats.h"
#include "common.h"

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- normal distribution ---- */

double stats_norm_ppf(double p)
{
    /* Wichura, AS241 PPND16: three rational approximations. */
    static const double a[8] = {3.3871328727963666080e0,  1.3314166789178437745e+2,
                                1.9715909503065514427e+3, 1.3731693765509461125e+4,
                                4.5921953931549871457e+4, 6.7265770927008700853e+4,
                                3.3430575583588128105e+4, 2.5090809287301226727e+3};
    static const double b[8] = {1.0,
                                4.2313330701600911252e+1,
                                6.8718700749205790830e+2,
                                5.3941960214247511077e+3,
                                2.1213794301586595867e+4,
                                3.9307895800092710610e+4,
                                2.8729085735721942674e+4,
                                5.2264952788528545610e+3};
    static const double c[8] = {1.42343711074968357734e0,  4.63033784615654529590e0,
                                5.76949722146069140550e0,  3.64784832476320460504e0,
                                1.27045825245236838258e0,  2.41780725177450611770e-1,
                                2.27238449892691845833e-2, 7.74545014278341407640e-4};
    static const double d[8] = {1.0,
                                2.05319162663775882187e0,
                                1.67638483018380384940e0,
                                6.89767334985100004550e-1,
                                1.48103976427480074590e-1,
                                1.51986665636164571966e-2,
                                5.47593808499534494600e-4,
                                1.05075007164441684324e-9};
    static const double e[8] = {6.65790464350110377720e0,  5.46378491116411436990e0,
                                1.78482653991729133580e0,  2.96560571828504891230e-1,
                                2.65321895265761230930e-2, 1.24266094738807843860e-3,
                                2.71155556874348757815e-5, 2.01033439929228813265e-7};
    static const double f[8] = {1.0,
                                5.99832206555887937690e-1,
                                1.36929880922735805310e-1,
                                1.48753612908506148525e-2,
                                7.86869131145613259100e-4,
                                1.84631831751005468180e-5,
                                1.42151175831644588870e-7,
                                2.04426310338993978564e-15};
    if (isnan(p) || p < 0 || p > 1)
        return NAN;
    if (p == 0)
        return -INFINITY;
    if (p == 1)
        return INFINITY;
    double q = p - 0.5;
    if (fabs(q) <= 0.425) {
        double r = 0.180625 - q * q;
        double num = 0, den = 0;
        for (int i = 7; i >= 0; i--) {
            num = num * r + a[i];
            den = den * r + b[i];
        }
        return q * num / den;
    }
    double r = q < 0 ? p : 1 - p;
    r = sqrt(-log(r));
    double num = 0, den = 0, val;
    if (r <= 5.0) {
        r -= 1.6;
        for (int i = 7; i >= 0; i--) {
            num = num * r + c[i];
            den = den * r + d[i];
        }
    } else {
        r -= 5.0;
        for (int i = 7; i >= 0; i--) {
            num = num * r + e[i];
            den = den * r + f[i];
        }
    }
    val = num / den;
    return q < 0 ? -val : val;
}

double stats_norm_sf(double z)
{
    return 0.5 * erfc(z / M_SQRT2);
}

/* ---- Brent ---- */

double stats_brent(stats_fn fn, void *ctx, double a, double b, double tol, int max_iter)
{
    double fa = fn(a, ctx), fb = fn(b, ctx);
    if (fa == 0)
        return a;
    if (fb == 0)
        return b;
    if ((fa > 0) == (fb > 0) || isnan(fa) || isnan(fb))
        return NAN;
    double c = a, fc = fa, d = b - a, e = d;
    for (int it = 0; it < max_iter; it++) {
        if ((fb > 0) == (fc > 0)) {
            c = a;
            fc = fa;
            d = e = b - a;
        }
        if (fabs(fc) < fabs(fb)) {
            a = b;
            b = c;
            c = a;
            fa = fb;
            fb = fc;
            fc = fa;
        }
        double tol1 = 2 * DBL_EPSILON * fabs(b) + 0.5 * tol;
        double m = 0.5 * (c - b);
        if (fabs(m) <= tol1 || fb == 0)
            return b;
        if (fabs(e) >= tol1 && fabs(fa) > fabs(fb)) {
            /* Inverse quadratic interpolation or the secant step. */
            double s = fb / fa, p, q, r;
            if (a == c) {
                p = 2 * m * s;
                q = 1 - s;
            } else {
                q = fa / fc;
                r = fb / fc;
                p = s * (2 * m * q * (q - r) - (b - a) * (r - 1));
                q = (q - 1) * (r - 1) * (s - 1);
            }
            if (p > 0)
                q = -q;
            else
                p = -p;
            if (2 * p < fmin(3 * m * q - fabs(tol1 * q), fabs(e * q))) {
                e = d;
                d = p / q;
            } else {
                d = m;
                e = m;
            }
        } else {
            d = m; /* bisection */
            e = m;
        }
        a = b;
        fa = fb;
        b += fabs(d) > tol1 ? d : (m > 0 ? tol1 : -tol1);
        fb = fn(b, ctx);
    }
    return b;
}

/* ---- Fisher ---- */

static double lchoose(double n, double k)
{
    return lgamma(n + 1) - lgamma(k + 1) - lgamma(n - k + 1);
}

double stats_fisher_greater(unsigned long e_c, unsigned long n_c, unsigned long e_b,
                            unsigned long n_b)
{
    if (e_c > n_c || e_b > n_b)
        return NAN;
    double N = (double)n_c + (double)n_b;
    double K = (double)e_c + (double)e_b; /* failures in both arms */
    double n = (double)n_c;               /* canary draws */
    double hi = K < n ? K : n;
    double lo_support = n - (N - K) > 0 ? n - (N - K) : 0;
    if ((double)e_c <= lo_support)
        return 1.0; /* the whole support */
    double lden = lchoose(N, n);
    /* Sum the upper tail from its largest term down, scaled by it, so a
     * tiny p keeps its precision. */
    double lmax = -INFINITY;
    for (double x = (double)e_c; x <= hi; x++) {
        double l = lchoose(K, x) + lchoose(N - K, n - x) - lden;
        if (l > lmax)
            lmax = l;
    }
    double s = 0;
    for (double x = (double)e_c; x <= hi; x++)
        s += exp(lchoose(K, x) + lchoose(N - K, n - x) - lden - lmax);
    double p = exp(lmax) * s;
    return p > 1 ? 1 : p;
}

/* ---- ranks ---- */

struct tagged {
    double v;
    int from_x;
};

static int cmp_tagged(const void *a, const void *b)
{
    double x = ((const struct tagged *)a)->v, y = ((const struct tagged *)b)->v;
    return (x > y) - (x < y);
}

/* Rank x (shifted by -d) with y. Returns the rank sum of x and the tie term
 * sum(t^3 - t). buf holds nx + ny entries (caller's scratch). */
static void rank_sum(const double *x, size_t nx, const double *y, size_t ny, double d,
                     struct tagged *buf, double *rx, double *ties)
{
    size_t n = nx + ny;
    for (size_t i = 0; i < nx; i++)
        buf[i] = (struct tagged){x[i] - d, 1};
    for (size_t i = 0; i < ny; i++)
        buf[nx + i] = (struct tagged){y[i], 0};
    qsort(buf, n, sizeof(*buf), cmp_tagged);
    double sum = 0, t3 = 0;
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        size_t from_x = 0;
        while (j < n && buf[j].v == buf[i].v) {
            from_x += (size_t)buf[j].from_x;
            j++;
        }
        double t = (double)(j - i);
        double avg = ((double)i + 1 + (double)j) / 2.0; /* ranks i+1 .. j */
        sum += avg * (double)from_x;
        t3 += t * t * t - t;
        i = j;
    }
    *rx = sum;
    *ties = t3;
}

static double mw_sigma(size_t nx, size_t ny, double ties)
{
    double n = (double)(nx + ny);
    double v = (double)nx * (double)ny / 12.0 * ((n + 1) - ties / (n * (n - 1)));
    return v > 0 ? sqrt(v) : 0;
}

void stats_mann_whitney(const double *x, size_t nx, const double *y, size_t ny,
                        struct stats_mw *out)
{
    out->u = NAN;
    out->p_greater = NAN;
    out->sigma = NAN;
    if (nx == 0 || ny == 0)
        return;
    struct tagged *buf = xcalloc(nx + ny, sizeof(*buf));
    double rx, ties;
    rank_sum(x, nx, y, ny, 0, buf, &rx, &ties);
    free(buf);
    out->u = rx - (double)nx * ((double)nx + 1) / 2.0;
    out->sigma = mw_sigma(nx, ny, ties);
    double mu = (double)nx * (double)ny / 2.0;
    if (out->sigma == 0) {
        out->p_greater = 1.0; /* every value tied: no evidence either way */
        return;
    }
    out->p_greater = stats_norm_sf((out->u - mu - 0.5) / out->sigma);
}

/* ---- Hodges-Lehmann by inverting the test (R wilcox.test's wdiff) ---- */

struct wdiff_ctx {
    const double *x, *y;
    size_t nx, ny;
    double zq;
    struct tagged *buf;
};

static double wdiff(double d, void *arg)
{
    struct wdiff_ctx *c = arg;
    double rx, ties;
    rank_sum(c->x, c->nx, c->y, c->ny, d, c->buf, &rx, &ties);
    double dz =
        rx - (double)c->nx * ((double)c->nx + 1) / 2.0 - (double)c->nx * (double)c->ny / 2.0;
    /* The continuity correction, as R applies it to the interval's ends;
     * the estimate is not a root of this (hl_median). */
    double corr = dz > 0 ? 0.5 : dz < 0 ? -0.5 : 0;
    double sigma = mw_sigma(c->nx, c->ny, ties);
    if (sigma == 0)
        return NAN;
    return (dz - corr) / sigma - c->zq;
}

/* Root of wdiff(., zq) on [lo, hi]; clamped to an end when f does not
 * change sign there (R's root()). */
static double hl_root(struct wdiff_ctx *c, double lo, double hi, double zq)
{
    c->zq = zq;
    double flo = wdiff(lo, c), fhi = wdiff(hi, c);
    if (isnan(flo) || flo <= 0)
        return lo;
    if (isnan(fhi) || fhi >= 0)
        return hi;
    double tol = 1e-10 * fmax(fabs(lo), fabs(hi)) + 1e-15;
    double r = stats_brent(wdiff, c, lo, hi, tol, 200);
    return isnan(r) ? lo : r;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Pairs with xs[i] - ys[j] <= v, xs and ys sorted ascending. For one i the
 * differences fall as j grows (a subtraction rounds monotonically), and for
 * one j they rise with i: the pairs that count are a suffix in j whose
 * start only moves right. O(nx + ny). */
STATIC uint64_t stats_diffs_le(const double *xs, size_t nx, const double *ys, size_t ny, double v)
{
    uint64_t n = 0;
    size_t p = 0;
    for (size_t i = 0; i < nx; i++) {
        while (p < ny && xs[i] - ys[p] > v)
            p++;
        n += ny - p;
    }
    return n;
}

/* The smallest difference xs[i] - ys[j] greater than v (sorted as above):
 * per i the one just before the suffix that stats_diffs_le counts. There is
 * one whenever v is below the largest difference. */
static double diff_above(const double *xs, size_t nx, const double *ys, size_t ny, double v)
{
    double best = INFINITY;
    size_t p = 0;
    for (size_t i = 0; i < nx; i++) {
        while (p < ny && xs[i] - ys[p] > v)
            p++;
        if (p > 0)
            best = fmin(best, xs[i] - ys[p - 1]);
    }
    return best;
}

/* The k-th smallest (1-based, 1 <= k <= nx*ny) of the pairwise differences,
 * without forming them: bisect on the value while counting, then step
 * through the few distinct differences left. Exact: the answer is one of
 * the computed differences. O((nx + ny) * ~64). */
STATIC double stats_diff_kth(const double *xs, size_t nx, const double *ys, size_t ny, uint64_t k)
{
    double lo = xs[0] - ys[ny - 1], hi = xs[nx - 1] - ys[0];
    if (stats_diffs_le(xs, nx, ys, ny, lo) >= k)
        return lo;
    /* count(<= lo) < k <= count(<= hi) */
    for (int it = 0; it < 200; it++) {
        double mid = lo + (hi - lo) / 2;
        if (!(mid > lo && mid < hi))
            break;
        if (stats_diffs_le(xs, nx, ys, ny, mid) >= k)
            hi = mid;
        else
            lo = mid;
    }
    for (;;) {
        double c = diff_above(xs, nx, ys, ny, lo);
        if (!(c <= hi) || stats_diffs_le(xs, nx, ys, ny, c) >= k)
            return c;
        lo = c;
    }
}

/* The Hodges-Lehmann estimate: the median of the nx*ny differences x - y,
 * the mean of the two middle ones when their count is even. Inverting the
 * test finds a zero of a step function, which for an even count is flat
 * between the two middle differences: a root finder returns any point
 * of that stretch, so the estimate is computed here, not searched for. */
static double hl_median(const double *x, size_t nx, const double *y, size_t ny)
{
    double *xs = xmalloc(nx * sizeof(*xs)), *ys = xmalloc(ny * sizeof(*ys));
    memcpy(xs, x, nx * sizeof(*xs));
    memcpy(ys, y, ny * sizeof(*ys));
    qsort(xs, nx, sizeof(*xs), cmp_double);
    qsort(ys, ny, sizeof(*ys), cmp_double);
    uint64_t n = (uint64_t)nx * ny;
    double m =
        n % 2
            ? stats_diff_kth(xs, nx, ys, ny, n / 2 + 1)
            : (stats_diff_kth(xs, nx, ys, ny, n / 2) + stats_diff_kth(xs, nx, ys, ny, n / 2 + 1)) /
                  2;
    free(xs);
    free(ys);
    return m;
}

bool stats_hl_shift(const double *x, size_t nx, const double *y, size_t ny, double conf,
                    double *estimate, double *lower, double *upper)
{
    *estimate = *lower = *upper = NAN;
    if (nx == 0 || ny == 0)
        return false;
    double xmin = x[0], xmax = x[0], ymin = y[0], ymax = y[0];
    for (size_t i = 1; i < nx; i++) {
        xmin = fmin(xmin, x[i]);
        xmax = fmax(xmax, x[i]);
    }
    for (size_t i = 1; i < ny; i++) {
        ymin = fmin(ymin, y[i]);
        ymax = fmax(ymax, y[i]);
    }
    if (xmin == xmax && ymin == ymax && xmin == ymin)
        return false; /* all tied */
    struct wdiff_ctx c = {x, y, nx, ny, 0, xcalloc(nx + ny, sizeof(struct tagged))};
    double lo = xmin - ymax, hi = xmax - ymin;
    double z = stats_norm_ppf(1 - (1 - conf) / 2);
    *estimate = hl_median(x, nx, y, ny);
    *lower = hl_root(&c, lo, hi, z);
    *upper = hl_root(&c, lo, hi, -z);
    free(c.buf);
    return true;
}

double stats_quantile_sorted(const double *v, size_t n, double q)
{
    if (n == 0 || !(q >= 0 && q <= 1))
        return NAN;
    double h = (double)(n - 1) * q;
    size_t lo = (size_t)floor(h);
    if (lo + 1 >= n)
        return v[n - 1];
    return v[lo] + (h - (double)lo) * (v[lo + 1] - v[lo]);
}
