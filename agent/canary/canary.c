/* canary.c - verdict from two arms of samples. */
#include "canary.h"
#include "common.h"
#include "buf.h"
#include "stats.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *canary_verdict_name(enum canary_verdict_kind v)
{
    return v == CANARY_PASS ? "pass" : v == CANARY_FAIL ? "fail" : "inconclusive";
}

const char *canary_latency_name(enum canary_latency_result r)
{
    switch (r) {
    case LAT_PASS:
        return "pass";
    case LAT_HIGH:
        return "high";
    case LAT_LOW:
        return "low";
    case LAT_FAIL:
        return "fail";
    default:
        return "none";
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Arm figures; *lat gets the sorted latencies of successful samples
 * (caller frees). */
static void arm_stats(const struct canary_sample *s, size_t n, struct canary_arm *a, double **lat)
{
    memset(a, 0, sizeof(*a));
    a->n = n;
    double *v = xcalloc(n ? n : 1, sizeof(double));
    for (size_t i = 0; i < n; i++) {
        if (!s[i].ok) {
            a->failures++;
            continue;
        }
        v[a->n_latency++] = s[i].latency;
        a->sum += s[i].latency;
    }
    a->ratio = n ? (double)a->failures / (double)n : NAN;
    qsort(v, a->n_latency, sizeof(double), cmp_double);
    a->p50 = stats_quantile_sorted(v, a->n_latency, 0.50);
    a->p95 = stats_quantile_sorted(v, a->n_latency, 0.95);
    a->p99 = stats_quantile_sorted(v, a->n_latency, 0.99);
    *lat = v;
}

void canary_judge(const struct canary_sample *baseline, size_t nb,
                  const struct canary_sample *canary, size_t nc, const struct canary_settings *s,
                  struct canary_verdict *out)
{
    memset(out, 0, sizeof(*out));
    double *yb, *xc;
    arm_stats(baseline, nb, &out->baseline, &yb);
    arm_stats(canary, nc, &out->canary, &xc);
    const struct canary_arm *B = &out->baseline, *C = &out->canary;

    /* Errors: one-sided Fisher plus the margin, or the absolute ceiling. */
    out->fisher_p = (nb && nc) ? stats_fisher_greater(C->failures, C->n, B->failures, B->n) : NAN;
    out->errors_pass = true;
    out->errors_reason = "";
    if (nb && nc) {
        double diff = C->ratio - B->ratio;
        if (s->has_ceiling && C->ratio > s->error_ratio_ceiling) {
            out->errors_pass = false;
            out->errors_reason = "canary error ratio above the ceiling";
        } else if (out->fisher_p < s->alpha && diff > s->error_ratio_margin) {
            out->errors_pass = false;
            out->errors_reason = "canary error ratio significantly above baseline";
        }
    }

    /* Latency: Mann-Whitney, Hodges-Lehmann with Kayenta's classification,
     * and the p95 guard that catches what the interval misses. */
    struct stats_mw mw;
    stats_mann_whitney(xc, C->n_latency, yb, B->n_latency, &mw);
    out->mw_u = mw.u;
    out->mw_p = mw.p_greater;
    out->shift = out->shift_lower = out->shift_upper = NAN;
    out->p95_ratio = NAN;
    out->latency = LAT_NONE;
    if (C->n_latency && B->n_latency) {
        if (!stats_hl_shift(xc, C->n_latency, yb, B->n_latency, s->latency_confidence, &out->shift,
                            &out->shift_lower, &out->shift_upper)) {
            out->shift = out->shift_lower = out->shift_upper = 0; /* all tied: no shift */
        }
        double mean_x = C->sum / (double)C->n_latency, mean_y = B->sum / (double)B->n_latency;
        double ratio = mean_y > 0 ? mean_x / mean_y : (mean_x > 0 ? INFINITY : 1);
        double b = 0.25 * fabs(out->shift);
        out->p95_ratio = B->p95 > 0 ? C->p95 / B->p95 : (C->p95 > 0 ? INFINITY : 1);
        if (out->shift_lower > b && ratio >= s->allowed_increase)
            out->latency = LAT_HIGH;
        else if (C->p95 > B->p95 * (1 + s->latency_p95_margin))
            out->latency = LAT_FAIL;
        else if (out->shift_upper < -b && ratio <= 1.0 / s->allowed_increase)
            out->latency = LAT_LOW;
        else
            out->latency = LAT_PASS;
    }
    free(yb);
    free(xc);

    if (nb < s->min_samples || nc < s->min_samples) {
        out->verdict = CANARY_INCONCLUSIVE;
        out->score = NAN;
        snprintf(out->reason, sizeof(out->reason),
                 "inconclusive: %zu baseline and %zu canary samples, %u per arm needed", nb, nc,
                 s->min_samples);
        return;
    }
    /* Two checks: errors always; latency when both arms have latency data. */
    int evaluated = 1, passing = out->errors_pass;
    bool lat_ok = true;
    if (out->latency != LAT_NONE) {
        evaluated++;
        lat_ok = out->latency == LAT_PASS || out->latency == LAT_LOW;
        passing += lat_ok;
    }
    out->score = 100.0 * passing / evaluated;
    out->verdict = passing == evaluated ? CANARY_PASS : CANARY_FAIL;
    if (!out->errors_pass)
        snprintf(out->reason, sizeof(out->reason),
                 "fail: %s (canary %.4g vs baseline %.4g, Fisher p %.3g)", out->errors_reason,
                 C->ratio, B->ratio, out->fisher_p);
    else if (!lat_ok)
        snprintf(out->reason, sizeof(out->reason),
                 "fail: canary latency %s (shift %.4gs [%.4g, %.4g], p95 ratio %.3g)",
                 canary_latency_name(out->latency), out->shift, out->shift_lower, out->shift_upper,
                 out->p95_ratio);
    else
        snprintf(out->reason, sizeof(out->reason), "pass: score %.0f", out->score);
}

/* ---- JSON ---- */

static void arm_json(struct buf *b, const struct canary_arm *a, bool errors)
{
    if (errors) {
        buf_addf(b, "{\"n\":%zu,\"failures\":%zu,\"ratio\":", a->n, a->failures);
        buf_add_json_number(b, a->ratio);
    } else {
        buf_addf(b, "{\"n\":%zu,\"p50\":", a->n_latency);
        buf_add_json_number(b, a->p50);
        buf_adds(b, ",\"p95\":");
        buf_add_json_number(b, a->p95);
        buf_adds(b, ",\"p99\":");
        buf_add_json_number(b, a->p99);
    }
    buf_addc(b, '}');
}

void canary_verdict_json(const struct canary_verdict *v, const char *name, bool samples,
                         struct buf *b)
{
    buf_addc(b, '{');
    if (name) {
        buf_adds(b, "\"canary\":");
        buf_add_json_string(b, name);
        buf_addc(b, ',');
    }
    buf_addf(b, "\"verdict\":\"%s\",\"score\":", canary_verdict_name(v->verdict));
    buf_add_json_number(b, v->score);
    if (samples)
        buf_addf(b, ",\"samples\":{\"baseline\":%zu,\"canary\":%zu}", v->baseline.n, v->canary.n);
    buf_adds(b, ",\"errors\":{\"baseline\":");
    arm_json(b, &v->baseline, true);
    buf_adds(b, ",\"canary\":");
    arm_json(b, &v->canary, true);
    buf_adds(b, ",\"fisher_p\":");
    buf_add_json_number(b, v->fisher_p);
    buf_addf(b, ",\"result\":\"%s\"},\"latency\":{\"baseline\":", v->errors_pass ? "pass" : "fail");
    arm_json(b, &v->baseline, false);
    buf_adds(b, ",\"canary\":");
    arm_json(b, &v->canary, false);
    buf_adds(b, ",\"mann_whitney_u\":");
    buf_add_json_number(b, v->mw_u);
    buf_adds(b, ",\"mann_whitney_p\":");
    buf_add_json_number(b, v->mw_p);
    buf_adds(b, ",\"shift\":{\"estimate\":");
    buf_add_json_number(b, v->shift);
    buf_adds(b, ",\"lower\":");
    buf_add_json_number(b, v->shift_lower);
    buf_adds(b, ",\"upper\":");
    buf_add_json_number(b, v->shift_upper);
    buf_adds(b, "},\"p95_ratio\":");
    buf_add_json_number(b, v->p95_ratio);
    if (v->latency == LAT_NONE)
        buf_adds(b, ",\"result\":null}");
    else
        buf_addf(b, ",\"result\":\"%s\"}", canary_latency_name(v->latency));
    /* Free text: escaped like every other string, so no reason can end the
     * string early and break the document. */
    buf_adds(b, ",\"reason\":");
    buf_add_json_string(b, v->reason);
    buf_addc(b, '}');
}
