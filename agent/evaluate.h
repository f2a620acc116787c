/*
 * evaluate.h - the agent's own alert evaluation, run by the main thread
 * every alerting.evaluation_interval: every alert the agent pushes to
 * Alertmanager is stated afresh (checks down, certificates expiring, SLO
 * burn and exhaustion, canaries failing), what active maintenance windows
 * cover states no new alert, and the changes an auditor wants (an SLO's
 * policy starting or stopping a freeze, a canary's verdict) go to the
 * audit log.
 */
#ifndef OUTPOST_EVALUATE_H
#define OUTPOST_EVALUATE_H

#include "clock.h"
#include "gen.h"

#include <stdint.h>

struct alerts;
struct audit;
struct maint;

/* What an evaluation reads and tells; every member borrowed. audit may be
 * NULL (no audit log). */
struct eval_ctx {
    const struct clock *clock;
    struct alerts *alerts;
    struct audit *audit;
    struct maint *maint;
};

/* One evaluation of g (borrowed) at the clock's wall time: alerts_begin,
 * the alerts that fire, alerts_end; each SLO state keeps its page/ticket
 * result. Returns g's evaluation interval in ms. Main thread. */
int64_t eval_run(const struct eval_ctx *x, const struct gen *g);

#endif
