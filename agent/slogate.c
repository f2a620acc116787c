/* slogate.c - the deploy gates' judgement of one SLO (slogate.h). */
#include "slogate.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* A burn rate or a percentage for a reason: three significant digits, but
 * whole numbers from 1000 on (%g would write 1e+03). */
static void fmt_num(char *out, size_t cap, double v)
{
    snprintf(out, cap, fabs(v) < 1000 ? "%.3g" : "%.0f", v);
}

/* The policy's window as written in docs and configs: whole days, else
 * whole hours (the configuration allows nothing finer). */
static void fmt_over(char *out, size_t cap, int64_t ms)
{
    const int64_t hour = 3600000, day = 24 * hour;
    if (ms % day == 0)
        snprintf(out, cap, "%lldd", (long long)(ms / day));
    else
        snprintf(out, cap, "%lldh", (long long)(ms / hour));
}

void slogate_judge(const struct slo_spec *s, const struct slo_figures *f, struct slo_gate *out)
{
    memset(out, 0, sizeof(*out));
    out->has_policy = s->has_policy;
    out->freeze = f->freeze;
    out->page = f->page;
    out->pass = !f->freeze && !f->page;
    out->freeze_when_consumed = s->has_policy ? s->freeze_when_consumed : NAN;
    out->policy_consumed = f->policy_consumed;
    out->budget_remaining = f->budget_remaining;
    memcpy(out->burn, f->burn, sizeof(out->burn));

    /* Each condition's text: the policy's state, and the page alert's
     * burn over the long windows of the page tiers, as its alert says. */
    char policy[160], page[160], over[32];
    if (s->has_policy) {
        fmt_over(over, sizeof(over), s->policy_over_ms);
        /* NaN: a period that expects no event has no budget to spend. */
        if (isnan(f->policy_consumed))
            snprintf(policy, sizeof(policy),
                     "no error budget yet to judge the policy by (freeze at %.3g %% over %s)",
                     100 * s->freeze_when_consumed, over);
        else {
            char pct[32];
            fmt_num(pct, sizeof(pct), 100 * f->policy_consumed);
            snprintf(policy, sizeof(policy),
                     "%s %% of the error budget consumed over %s (freeze at %.3g %%)", pct, over,
                     100 * s->freeze_when_consumed);
        }
    } else {
        snprintf(policy, sizeof(policy), "no error budget policy");
    }
    char b1[32], b6[32];
    fmt_num(b1, sizeof(b1), f->burn[SLO_W_1H]);
    fmt_num(b6, sizeof(b6), f->burn[SLO_W_6H]);
    snprintf(page, sizeof(page), "page alert firing (burn %sx over 1h and %sx over 6h)", b1, b6);

    /* A failing gate names only what fails; a passing one states both. */
    if (f->freeze && f->page)
        snprintf(out->reason, sizeof(out->reason), "SLO %s: %s; %s", s->name, policy, page);
    else if (f->freeze)
        snprintf(out->reason, sizeof(out->reason), "SLO %s: %s", s->name, policy);
    else if (f->page)
        snprintf(out->reason, sizeof(out->reason), "SLO %s: %s", s->name, page);
    else
        snprintf(out->reason, sizeof(out->reason), "SLO %s: %s, no page alert firing", s->name,
                 policy);
    snprintf(out->policy, sizeof(out->policy), "SLO %s: %s", s->name, policy);
    /* A freeze is no harm being done: only the page alert rolls back. */
    snprintf(out->rollback, sizeof(out->rollback), "SLO %s: %s", s->name,
             f->page ? page : "no page alert firing");
}

void slogate_json(const struct slo_gate *g, const char *name, bool rollback, struct buf *out)
{
    bool pass = rollback ? !g->page : g->pass;
    buf_adds(out, "{\"slo\":");
    buf_add_json_string(out, name);
    buf_addf(out, ",\"verdict\":\"%s\",\"reason\":", pass ? "pass" : "fail");
    buf_add_json_string(out, rollback ? g->rollback : g->reason);
    buf_addf(out,
             ",\"freeze\":%s,\"page_alert\":%s,\"budget_remaining\":", g->freeze ? "true" : "false",
             g->page ? "true" : "false");
    buf_add_json_number(out, g->budget_remaining);
    buf_adds(out, ",\"budget_consumed_policy_window\":");
    buf_add_json_number(out, g->policy_consumed);
    buf_adds(out, ",\"freeze_when_consumed\":");
    buf_add_json_number(out, g->freeze_when_consumed);
    buf_adds(out, ",\"burn_rate\":{");
    for (int w = 0; w < SLO_W_COUNT; w++) {
        buf_addf(out, "%s\"%s\":", w ? "," : "", slo_window_name((enum slo_window)w));
        buf_add_json_number(out, g->burn[w]);
    }
    buf_adds(out, "}}");
}
