/* evaluate.c - the agent's own alert evaluation (evaluate.h). */
#include "evaluate.h"
#include "alerts.h"
#include "audit.h"
#include "log.h"
#include "maint.h"
#include "slo.h"
#include "slogate.h"

#include <stdio.h>
#include <stdlib.h>

/* OutpostCheckDown with hysteresis: it fires once the check's last
 * failure_threshold probes failed, and, once firing, resolves only after
 * success_threshold good probes in a row, so a check that fails every
 * other probe does not flap. An inline canary arm raises no alert of its
 * own: its failures are the canary's verdict. */
static bool check_down(const struct eval_ctx *x, const struct check_spec *c,
                       const struct rec_snapshot *snap)
{
    if (!snap->has_result || cfg_check_is_canary_arm(c))
        return false;
    if (snap->consecutive_failures >= c->policy.failure_threshold)
        return true;
    return alerts_is_firing(x->alerts, "OutpostCheckDown", "critical", "check", c->name) &&
           snap->consecutive_successes < c->policy.success_threshold;
}

/* The alerts about checks: down (see check_down), certificate expiring
 * within cert_expiry_warning. */
static void evaluate_checks(const struct eval_ctx *x, const struct gen *g,
                            const struct maint_hold *h, double wall, struct buf *d)
{
    const struct cfg *cfg = gen_cfg(g);
    const struct alerting_spec *al = cfg_alerting(cfg);
    struct rec_snapshot *snap = xmalloc(sizeof(*snap));
    for (size_t i = 0; i < gen_check_count(g); i++) {
        const struct check_spec *c = cfg_check(cfg, i);
        const struct check_type *type = gen_check_type(g, i);
        rec_read(gen_rec(g, i), snap);
        bool held = maint_check_held(h, i);
        if (check_down(x, c, snap) && maint_alert_allowed(x->alerts, held, "OutpostCheckDown",
                                                          "critical", "check", c->name)) {
            buf_reset(d);
            if (snap->consecutive_failures)
                buf_addf(d, "Check %s (%s) failed its last %llu probes", c->name, c->target,
                         (unsigned long long)snap->consecutive_failures);
            else
                buf_addf(d,
                         "Check %s (%s) is recovering: %llu good probes of the %u that resolve "
                         "this alert",
                         c->name, c->target, (unsigned long long)snap->consecutive_successes,
                         c->policy.success_threshold);
            if (type->status_name)
                buf_addf(d, "; last %s %d", type->status_name, snap->status);
            buf_addc(d, '.');
            alerts_fire(x->alerts, "OutpostCheckDown", "critical", "check", c->name,
                        "A synthetic check keeps failing.", buf_str(d));
        }
        double left = snap->cert_expiry - wall;
        if (snap->cert_expiry > 0 && left * 1000 < (double)al->cert_expiry_warn_ms &&
            maint_alert_allowed(x->alerts, held, "OutpostCertExpiringSoon", "warning", "check",
                                c->name)) {
            buf_reset(d);
            buf_addf(d, "The TLS certificate seen by check %s expires in %.1f days.", c->name,
                     left / 86400.0);
            alerts_fire(x->alerts, "OutpostCertExpiringSoon", "warning", "check", c->name,
                        "A TLS certificate expires soon.", buf_str(d));
        }
    }
    free(snap);
}

/* The error budget policy started or stopped freezing deploys: logged and
 * audited with the policy's state as the SLO gates word it. */
static void audit_freeze(const struct eval_ctx *x, const struct slo_spec *spec,
                         const struct slo_figures *f)
{
    struct slo_gate *sg = xmalloc(sizeof(*sg));
    slogate_judge(spec, f, sg);
    char consumed[32];
    snprintf(consumed, sizeof(consumed), "%.6g", f->policy_consumed);
    log_warn(f->freeze ? "SLO error budget policy freezes deploys"
                       : "SLO error budget policy no longer freezes deploys",
             "slo", spec->name, "policy", sg->policy);
    audit_event(x->audit, f->freeze ? "slo_freeze_on" : "slo_freeze_off", "slo", spec->name,
                "consumed", consumed, "policy", sg->policy, NULL);
    free(sg);
}

/* SLO multiwindow alerts; the result is kept in the SLO state for the
 * outpost_slo_alert_firing gauge. */
static void evaluate_slos(const struct eval_ctx *x, const struct gen *g, const struct maint_hold *h,
                          int64_t now_ms, struct buf *d)
{
    const struct cfg *cfg = gen_cfg(g);
    for (size_t i = 0; i < gen_slo_count(g); i++) {
        const struct slo_spec *spec = cfg_slo(cfg, i);
        struct slo_state *st = gen_slo(g, i);
        struct slo_figures f;
        slost_figures(st, spec, now_ms, &f, NULL, NULL);
        bool was_page, was_ticket;
        slost_alerts(st, &was_page, &was_ticket);
        if (f.page != was_page)
            log_warn(f.page ? "SLO page alert firing" : "SLO page alert resolved", "slo",
                     spec->name);
        if (f.ticket != was_ticket)
            log_warn(f.ticket ? "SLO ticket alert firing" : "SLO ticket alert resolved", "slo",
                     spec->name);
        slost_set_alerts(st, f.page, f.ticket);
        if (slost_swap_freeze(st, f.freeze) != f.freeze)
            audit_freeze(x, spec, &f);
        /* A fleet that judges its SLOs in Prometheus turns these off: one
         * notification per problem. */
        if (!cfg_alerting(cfg)->slo_alerts)
            continue;
        bool held = maint_slo_held(h, i);
        for (int sev = 0; sev < 2; sev++) {
            if (!(sev ? f.ticket : f.page) ||
                !maint_alert_allowed(x->alerts, held, "OutpostSLOBudgetBurn",
                                     sev ? "warning" : "critical", "slo", spec->name))
                continue;
            /* The long windows of the tiers of this severity: page 1h and
             * 6h, ticket 1d and 3d. */
            enum slo_window w1 = sev ? SLO_W_1D : SLO_W_1H, w2 = sev ? SLO_W_3D : SLO_W_6H;
            buf_reset(d);
            buf_addf(d,
                     "SLO %s burns its error budget %.3gx as fast as it may over %s and %.3gx "
                     "over %s; %.1f%% of the period's budget remains.",
                     spec->name, f.burn[w1], slo_window_name(w1), f.burn[w2], slo_window_name(w2),
                     100 * f.budget_remaining);
            alerts_fire(x->alerts, "OutpostSLOBudgetBurn", sev ? "warning" : "critical", "slo",
                        spec->name, "An SLO burns its error budget too fast.", buf_str(d));
        }
        if (f.events[SLO_W_PERIOD] > 0 && f.budget_remaining <= 0 &&
            maint_alert_allowed(x->alerts, held, "OutpostSLOBudgetExhausted", "warning", "slo",
                                spec->name)) {
            buf_reset(d);
            buf_addf(d, "SLO %s has spent its error budget: %.1f%% remains.", spec->name,
                     100 * f.budget_remaining);
            alerts_fire(x->alerts, "OutpostSLOBudgetExhausted", "warning", "slo", spec->name,
                        "An SLO's error budget is spent.", buf_str(d));
        }
    }
}

static void evaluate_canaries(const struct eval_ctx *x, const struct gen *g, int64_t now_ms,
                              struct buf *d)
{
    const struct cfg *cfg = gen_cfg(g);
    for (size_t i = 0; i < gen_canary_count(g); i++) {
        const struct canary_spec *k = cfg_canary(cfg, i);
        struct canary_verdict v;
        canst_verdict(gen_canary(g, i), k, now_ms, &v);
        enum canary_verdict_kind was = canst_swap_reported(gen_canary(g, i), v.verdict);
        if (was != v.verdict)
            audit_event(x->audit, "canary_verdict", "canary", k->name, "verdict",
                        canary_verdict_name(v.verdict), "previous", canary_verdict_name(was),
                        "reason", v.reason, NULL);
        if (v.verdict != CANARY_FAIL)
            continue;
        buf_reset(d);
        buf_addf(d, "Canary %s: %s", k->name, v.reason);
        alerts_fire(x->alerts, "OutpostCanaryFailed", "warning", "canary", k->name,
                    "A canary is worse than its baseline.", buf_str(d));
    }
}

int64_t eval_run(const struct eval_ctx *x, const struct gen *g)
{
    double wall = clock_wall(x->clock);
    int64_t now_ms = clock_wall_ms(x->clock);
    struct buf d;
    /* Descriptions hold names (128 bytes) and targets (bounded by the file). */
    buf_init(&d, CFG_MAX_FILE_BYTES);
    /* What active maintenance windows cover states no new alert; canaries
     * are judged as always. */
    struct maint_hold *h = maint_hold_new(x->maint, gen_cfg(g));
    alerts_begin(x->alerts);
    evaluate_checks(x, g, h, wall, &d);
    evaluate_slos(x, g, h, now_ms, &d);
    evaluate_canaries(x, g, now_ms, &d);
    alerts_end(x->alerts, wall);
    maint_hold_free(h);
    buf_free(&d);
    return cfg_alerting(gen_cfg(g))->evaluation_interval_ms;
}
