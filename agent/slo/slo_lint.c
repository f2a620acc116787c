/* slo_lint.c - warnings about configured SLOs. */
#include "slo_lint.h"
#include "slo.h"

void slo_lint(const struct cfg *c, struct buf *out)
{
    static const char *const tier_names[SLO_TIERS] = {"page 1h/5m", "page 6h/30m", "ticket 1d/2h",
                                                      "ticket 3d/6h"};
    for (size_t i = 0; i < cfg_slo_count(c); i++) {
        const struct slo_spec *s = cfg_slo(c, i);
        /* Calendar months: the shortest month bounds the factors from below. */
        int64_t period = s->calendar_month ? 28LL * 86400000 : s->period_ms;
        double eps = s->budget;
        double f[SLO_TIERS];
        slo_tier_factors(period, f);
        for (int t = 0; t < SLO_TIERS; t++) {
            if (f[t] * eps < 1.0)
                continue;
            buf_addf(out,
                     "%s:%d:%d: slo %s: alert tier %s can never fire: it needs an error ratio "
                     "above %.4g, more than 100 %% of events\n",
                     cfg_source(c), s->line, s->column, s->name, tier_names[t], f[t] * eps);
        }
        double per_period = 0;
        for (size_t k = 0; k < s->n_checks; k++)
            per_period += (double)period / (double)cfg_check(c, s->check_idx[k])->interval_ms;
        if (per_period * eps < 1.0)
            buf_addf(out,
                     "%s:%d:%d: slo %s: its error budget (%.3g bad events per period at the "
                     "configured intervals) is smaller than one probe: a single failure "
                     "exhausts it\n",
                     cfg_source(c), s->line, s->column, s->name, per_period * eps);
    }
}
