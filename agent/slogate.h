/*
 * slogate.h - the deploy gates' judgement of one SLO (docs/governance.md,
 * "Gates from budgets"): a rollout may go on while the SLO's error budget
 * policy does not freeze deploys and no page alert fires; a rollback is
 * due while a page alert fires. Pure: figures and spec in, verdict and a
 * one-line reason out, so the HTTP gates, a canary's gate_slos and the
 * tests judge alike.
 */
#ifndef OUTPOST_SLOGATE_H
#define OUTPOST_SLOGATE_H

#include "buf.h"
#include "config.h"
#include "slo.h"

#include <stdbool.h>

/* Room for a reason: "SLO " + a name (CFG_MAX_NAME_BYTES) + both
 * conditions' text (under 200 bytes). */
#define SLOGATE_REASON_BYTES 512

struct slo_gate {
    bool freeze; /* the error budget policy freezes deploys */
    bool page;   /* a page alert fires */
    bool pass;   /* neither: a rollout may go on */
    bool has_policy;
    double freeze_when_consumed; /* the policy's threshold; NaN without a policy */
    double policy_consumed;      /* what the freeze compares with it; NaN without */
    double budget_remaining;     /* over the period; may be below 0 */
    double burn[SLO_W_COUNT];    /* observed; NaN for a window without events */
    /* One line each, no newline, beginning "SLO <name>: ". */
    char reason[SLOGATE_REASON_BYTES];   /* the rollout's: names what fails */
    char rollback[SLOGATE_REASON_BYTES]; /* the rollback hook's: the page alert */
    char policy[SLOGATE_REASON_BYTES];   /* the policy's state alone (gate_slos) */
};

/* Judge SLO s (borrowed) from its figures f (borrowed) into out. */
void slogate_judge(const struct slo_spec *s, const struct slo_figures *f, struct slo_gate *out);

/* The Argo Rollouts answer: {"slo","verdict","reason","freeze","page_alert",
 * "budget_remaining","budget_consumed_policy_window","freeze_when_consumed",
 * "burn_rate":{window: value}}, NaN and infinities as null. With rollback
 * the verdict is the rollback hook's: "fail" while the page alert fires,
 * else "pass" (Argo's own vocabulary: a failureCondition acts on it).
 * Appends to out. */
void slogate_json(const struct slo_gate *g, const char *name, bool rollback, struct buf *out);

#endif
