/*
 * canary.h - the canary judge: baseline and canary samples in, verdict and
 * every statistic behind it out. Pure: the live agent, the gates and
 * `outpost canary judge` all call canary_judge. Rules: docs/canary.md.
 */
#ifndef OUTPOST_CANARY_H
#define OUTPOST_CANARY_H

#include "buf.h"
#include "config.h"

#include <stdbool.h>
#include <stddef.h>

struct canary_sample {
    double latency; /* seconds */
    bool ok;
};

/* struct canary_settings and canary_settings_default (the judge's
 * parameters and their defaults) are part of the configuration: config.h. */

enum canary_verdict_kind { CANARY_PASS, CANARY_FAIL, CANARY_INCONCLUSIVE };
enum canary_latency_result { LAT_PASS, LAT_HIGH, LAT_LOW, LAT_FAIL, LAT_NONE };

struct canary_arm {
    size_t n, failures;
    double ratio;         /* NaN with no samples */
    size_t n_latency;     /* successful samples: the latency data */
    double p50, p95, p99; /* NaN without latency data */
    double sum;           /* of latencies */
};

struct canary_verdict {
    enum canary_verdict_kind verdict;
    double score; /* NaN while inconclusive */
    struct canary_arm baseline, canary;
    double fisher_p;
    bool errors_pass;
    const char *errors_reason; /* static, "" when passing */
    double mw_u, mw_p;         /* canary vs baseline, one-sided "greater" */
    double shift, shift_lower, shift_upper;
    double p95_ratio;
    enum canary_latency_result latency;
    char reason[256]; /* one line: why it failed or is inconclusive */
};

/* Judge. Arrays borrowed. */
void canary_judge(const struct canary_sample *baseline, size_t nb,
                  const struct canary_sample *canary, size_t nc, const struct canary_settings *s,
                  struct canary_verdict *out);

const char *canary_verdict_name(enum canary_verdict_kind v);
const char *canary_latency_name(enum canary_latency_result r);

/* The verdict as the JSON object of `outpost canary judge` and the Argo gate;
 * name (may be NULL) adds "canary":name, samples adds
 * "samples":{"baseline":n,"canary":n}. Appends to out. */
void canary_verdict_json(const struct canary_verdict *v, const char *name, bool samples,
                         struct buf *out);

#endif
