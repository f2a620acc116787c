/* metrics.c - the metric catalog, rendered. */
#include "metrics.h"
#include "process.h"
#include "slo.h"
#include "canary_state.h"
#include "slo_state.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Snapshot check i into s and return its spec. Each family reads the
 * recorders afresh: a family's samples must be together in the output, and
 * one short read per family is cheaper than buffering every snapshot. */
static const struct check_spec *snap(const struct gen *g, size_t i, struct rec_snapshot *s)
{
    rec_read(gen_rec(g, i), s);
    return cfg_check(gen_cfg(g), i);
}

/* The steps of check i (0 for one-step types); *names borrowed. */
static size_t step_names(const struct gen *g, size_t i, const char **names, size_t cap)
{
    const struct check_type *t = gen_check_type(g, i);
    const struct check_spec *c = cfg_check(gen_cfg(g), i);
    size_t n = t->step_count ? t->step_count(c) : 0;
    if (n > rec_step_count(gen_rec(g, i)))
        n = rec_step_count(gen_rec(g, i)); /* never: the recorder was made for them */
    if (n > cap)
        n = cap;
    for (size_t k = 0; k < n; k++)
        names[k] = t->step_name(c, k);
    return n;
}

/* Per-step series of checks whose runs have steps (flows), after the
 * check families. Gauges appear with the first run, counters at load, as
 * for checks. */
#define MAX_RENDER_STEPS 256
static void render_steps(struct expo *e, const struct gen *g)
{
    static const char *const dur = "outpost_check_step_duration_seconds",
                             *up = "outpost_check_step_up",
                             *fail = "outpost_check_step_failures_total";
    bool any = false;
    for (size_t i = 0; i < gen_check_count(g) && !any; i++)
        any = rec_step_count(gen_rec(g, i)) > 0;
    if (!any)
        return;
    const char **names = xcalloc(MAX_RENDER_STEPS, sizeof(*names));
    struct rec_step *st = xcalloc(MAX_RENDER_STEPS, sizeof(*st));
    for (int f = 0; f < 3; f++) {
        if (f == 0)
            expo_family(e, dur, EXPO_GAUGE,
                        "Duration of each step of the last run in seconds, 0 for a step that "
                        "did not run.");
        else if (f == 1)
            expo_family(e, up, EXPO_GAUGE, "1 if the step ran and passed in the last run.");
        else
            expo_family(e, fail, EXPO_COUNTER, "Failed steps by reason.");
        for (size_t i = 0; i < gen_check_count(g); i++) {
            size_t n = step_names(g, i, names, MAX_RENDER_STEPS);
            if (!n)
                continue;
            const struct check_spec *c = cfg_check(gen_cfg(g), i);
            const struct check_type *t = gen_check_type(g, i);
            rec_read_steps(gen_rec(g, i), st, n);
            for (size_t k = 0; k < n; k++) {
                struct label l[] = {{"check", c->name}, {"step", names[k]}, {"reason", NULL}};
                if (f == 0 && st[k].has_result)
                    expo_sample(e, dur, "", l, 2, NULL, st[k].duration);
                if (f == 1 && st[k].has_result)
                    expo_sample(e, up, "", l, 2, NULL, st[k].up ? 1 : 0);
                for (size_t r = 0; f == 2 && r < t->n_reasons; r++) {
                    l[2].value = check_reason_name(t->reasons[r]);
                    expo_sample_u64(e, fail, "", l, 3, NULL, st[k].failures[t->reasons[r]]);
                }
            }
        }
    }
    free(names);
    free(st);
}

/* The gauges each type declares (check_type.gauges), family by family,
 * for the checks of that type; nothing for a type no check uses. A row
 * whose last value is NaN has no series. */
static void render_type_gauges(struct expo *e, const struct gen *g)
{
    size_t n_types;
    const struct check_type *const *types = check_types(&n_types);
    struct rec_snapshot *s = NULL;
    for (size_t t = 0; t < n_types; t++) {
        const struct check_type *ty = types[t];
        bool used = false;
        for (size_t i = 0; i < gen_check_count(g) && !used; i++)
            used = gen_check_type(g, i) == ty;
        if (!used || !ty->n_gauges)
            continue;
        if (!s)
            s = xmalloc(sizeof(*s));
        for (size_t k = 0; k < ty->n_gauges;) {
            /* Rows k .. end-1 are one family. */
            size_t end = k + 1;
            while (end < ty->n_gauges && strcmp(ty->gauges[end].name, ty->gauges[k].name) == 0)
                end++;
            expo_family(e, ty->gauges[k].name, EXPO_GAUGE, ty->gauges[k].help);
            for (size_t i = 0; i < gen_check_count(g); i++) {
                if (gen_check_type(g, i) != ty)
                    continue;
                const struct check_spec *c = snap(g, i, s);
                for (size_t r = k; r < end; r++) {
                    const struct check_gauge *gr = &ty->gauges[r];
                    struct label l[] = {{"check", c->name}, {gr->label, gr->value}};
                    if (s->has_result && !isnan(s->gauges[r]))
                        expo_sample(e, gr->name, "", l, gr->label ? 2 : 1, NULL, s->gauges[r]);
                }
            }
            k = end;
        }
    }
    free(s);
}

/* The agent-wide histograms types keep (check_type.histograms), while the
 * running configuration has a check of that type: an agent without browser
 * checks shows no browser queue. */
static void render_type_histograms(struct expo *e, const struct gen *g)
{
    size_t n_types;
    const struct check_type *const *types = check_types(&n_types);
    for (size_t t = 0; t < n_types; t++) {
        const struct check_type *ty = types[t];
        bool used = false;
        for (size_t i = 0; i < gen_check_count(g) && !used; i++)
            used = gen_check_type(g, i) == ty;
        for (size_t k = 0; used && k < ty->n_histograms; k++) {
            const struct check_histogram *h = &ty->histograms[k];
            uint64_t *cum = xcalloc(h->n_bounds + 1, sizeof(*cum));
            double sum = 0;
            h->read(cum, &sum);
            expo_family(e, h->name, EXPO_HISTOGRAM, h->help);
            expo_histogram(e, h->name, NULL, 0, h->bounds, h->n_bounds, cum, sum);
            free(cum);
        }
    }
}

/* A check with phases or its histogram turned off wants few series: it
 * also leaves out the ones that are zero by construction or have not
 * happened yet (cfg: struct check_metrics). */
static bool lean(const struct check_spec *c)
{
    return !c->metrics.phases || !c->metrics.histogram;
}

static void render_checks(struct expo *e, const struct gen *g)
{
    struct rec_snapshot *s = xmalloc(sizeof(*s));

    expo_family(e, "outpost_check_info", EXPO_INFO, "Static facts about a configured check.");
    for (size_t i = 0; i < gen_check_count(g); i++) {
        const struct check_spec *c = cfg_check(gen_cfg(g), i);
        struct label l[] = {{"check", c->name},
                            {"type", c->type->name},
                            {"target", c->target},
                            {"group", c->group}};
        expo_sample(e, "outpost_check_info", "", l, 4, NULL, 1);
    }

    expo_family(e, "outpost_check_runs_total", EXPO_COUNTER, "Probes finished.");
    for (size_t i = 0; i < gen_check_count(g); i++) {
        const struct check_spec *c = snap(g, i, s);
        struct label l = {"check", c->name};
        expo_sample_u64(e, "outpost_check_runs_total", "", &l, 1, NULL, s->runs);
    }

    /* Every reason the check's type can report, at 0 until it happens (a
     * lean check: from its first failure with that reason on): a type that
     * adds a reason (a flow's `capture`) adds its series only to its own
     * checks. */
    expo_family(e, "outpost_check_failures_total", EXPO_COUNTER, "Failed probes by reason.");
    for (size_t i = 0; i < gen_check_count(g); i++) {
        const struct check_spec *c = snap(g, i, s);
        const struct check_type *t = gen_check_type(g, i);
        for (size_t k = 0; k < t->n_reasons; k++) {
            enum check_reason r = t->reasons[k];
            struct label l[] = {{"check", c->name}, {"reason", check_reason_name(r)}};
            if (!s->failures[r] && lean(c))
                continue;
            expo_sample_u64(e, "outpost_check_failures_total", "", l, 2, NULL, s->failures[r]);
        }
    }

    expo_family(e, "outpost_check_duration_seconds", EXPO_HISTOGRAM,
                "Whole-probe latency in seconds.");
    for (size_t i = 0; i < gen_check_count(g); i++) {
        const struct check_spec *c = snap(g, i, s);
        struct label l = {"check", c->name};
        /* All or nothing: a histogram needs its +Inf bucket, and _sum and
         * _count alone would still be three series. */
        if (!c->metrics.histogram)
            continue;
        expo_histogram(e, "outpost_check_duration_seconds", &l, 1, rec_bounds(gen_rec(g, i)),
                       s->n_bounds, s->cumulative, s->sum);
    }

    /* Last-probe gauges appear with the first result: before it there is
     * nothing true to say, and a 0 would fire "down" alerts at start-up. */
    expo_family(e, "outpost_check_up", EXPO_GAUGE, "1 if the last probe succeeded.");
    for (size_t i = 0; i < gen_check_count(g); i++) {
        const struct check_spec *c = snap(g, i, s);
        struct label l = {"check", c->name};
        if (s->has_result)
            expo_sample(e, "outpost_check_up", "", &l, 1, NULL, s->up ? 1 : 0);
    }

    expo_family(e, "outpost_check_consecutive_failures", EXPO_GAUGE,
                "Current streak of failed probes.");
    for (size_t i = 0; i < gen_check_count(g); i++) {
        const struct check_spec *c = snap(g, i, s);
        struct label l = {"check", c->name};
        if (s->has_result)
            expo_sample_u64(e, "outpost_check_consecutive_failures", "", &l, 1, NULL,
                            s->consecutive_failures);
    }

    expo_family(e, "outpost_check_last_success_timestamp_seconds", EXPO_GAUGE,
                "Wall-clock time of the last successful probe, 0 if none yet.");
    for (size_t i = 0; i < gen_check_count(g); i++) {
        const struct check_spec *c = snap(g, i, s);
        struct label l = {"check", c->name};
        if (s->has_result)
            expo_sample(e, "outpost_check_last_success_timestamp_seconds", "", &l, 1, NULL,
                        s->last_success);
    }

    expo_family(e, "outpost_check_phase_duration_seconds", EXPO_GAUGE,
                "Duration of each phase of the last probe in seconds.");
    for (size_t i = 0; i < gen_check_count(g); i++) {
        const struct check_spec *c = snap(g, i, s);
        if (!s->has_result || !c->metrics.phases)
            continue;
        for (int p = 0; p < CHECK_PHASE_COUNT; p++) {
            struct label l[] = {{"check", c->name},
                                {"phase", check_phase_name((enum check_phase)p)}};
            expo_sample(e, "outpost_check_phase_duration_seconds", "", l, 2, NULL, s->phases[p]);
        }
    }

    expo_family(e, "outpost_check_http_status_code", EXPO_GAUGE,
                "HTTP status code of the last probe, 0 if none.");
    for (size_t i = 0; i < gen_check_count(g); i++) {
        const struct check_spec *c = snap(g, i, s);
        struct label l = {"check", c->name};
        /* Only types whose runs have an HTTP status: a TCP or DNS check's
         * 0 would read as "no response". */
        if (s->has_result && gen_check_type(g, i)->status_name && c->metrics.status_code)
            expo_sample(e, "outpost_check_http_status_code", "", &l, 1, NULL, s->status);
    }

    expo_family(e, "outpost_check_tls_cert_expiry_timestamp_seconds", EXPO_GAUGE,
                "Earliest notAfter in the presented certificate chain, also when verification "
                "failed.");
    for (size_t i = 0; i < gen_check_count(g); i++) {
        const struct check_spec *c = snap(g, i, s);
        struct label l = {"check", c->name};
        if (s->cert_expiry > 0)
            expo_sample(e, "outpost_check_tls_cert_expiry_timestamp_seconds", "", &l, 1, NULL,
                        s->cert_expiry);
    }

    expo_family(e, "outpost_check_retries_total", EXPO_COUNTER,
                "Failed probes probed again before they counted (retry.attempts).");
    for (size_t i = 0; i < gen_check_count(g); i++) {
        const struct check_spec *c = snap(g, i, s);
        struct label l = {"check", c->name};
        if (lean(c) && !c->policy.retry_attempts)
            continue;
        expo_sample_u64(e, "outpost_check_retries_total", "", &l, 1, NULL, s->retries);
    }
    free(s);
    render_steps(e, g);
    render_type_gauges(e, g);

    /* The thresholds of the agent's own OutpostCheckDown, so rules and
     * dashboards read them instead of copying them. */
    expo_family(e, "outpost_check_alert_failure_threshold", EXPO_GAUGE,
                "Consecutive failed probes that make OutpostCheckDown fire.");
    for (size_t i = 0; i < gen_check_count(g); i++) {
        const struct check_spec *c = cfg_check(gen_cfg(g), i);
        struct label l = {"check", c->name};
        /* Inline canary arms raise no OutpostCheckDown: no threshold. */
        if (!cfg_check_is_canary_arm(c))
            expo_sample(e, "outpost_check_alert_failure_threshold", "", &l, 1, NULL,
                        c->policy.failure_threshold);
    }
    expo_family(e, "outpost_check_alert_success_threshold", EXPO_GAUGE,
                "Consecutive good probes that resolve OutpostCheckDown.");
    for (size_t i = 0; i < gen_check_count(g); i++) {
        const struct check_spec *c = cfg_check(gen_cfg(g), i);
        struct label l = {"check", c->name};
        if (!cfg_check_is_canary_arm(c))
            expo_sample(e, "outpost_check_alert_success_threshold", "", &l, 1, NULL,
                        c->policy.success_threshold);
    }
    expo_family(e, "outpost_check_tls_cert_expiry_warning_seconds", EXPO_GAUGE,
                "OutpostCertExpiringSoon fires when a certificate expires sooner than this.");
    expo_sample(e, "outpost_check_tls_cert_expiry_warning_seconds", "", NULL, 0, NULL,
                (double)cfg_alerting(gen_cfg(g))->cert_expiry_warn_ms / 1000.0);
}

/* Figures of every SLO at one instant, computed once per scrape. */
struct slo_row {
    const struct slo_spec *spec;
    struct slo_figures f;
    uint64_t events_total, bad_total;
    bool page, ticket;
};

typedef double (*slo_value_fn)(const struct slo_row *r, int window);

static double row_events(const struct slo_row *r, int w)
{
    return (double)r->f.events[w];
}

static double row_sli(const struct slo_row *r, int w)
{
    return r->f.sli[w];
}

static double row_burn(const struct slo_row *r, int w)
{
    return r->f.burn[w];
}

static double row_budget_remaining(const struct slo_row *r, int w)
{
    (void)w;
    return r->f.budget_remaining;
}

static double row_exhaustion(const struct slo_row *r, int w)
{
    (void)w;
    return r->f.exhaustion_s;
}

static void slo_gauge_family(struct expo *e, const char *name, const char *help,
                             const struct slo_row *rows, size_t n, slo_value_fn value)
{
    expo_family(e, name, EXPO_GAUGE, help);
    for (size_t i = 0; i < n; i++) {
        struct label l = {"slo", rows[i].spec->name};
        expo_sample(e, name, "", &l, 1, NULL, value(&rows[i], 0));
    }
}

/* Per-window family; windows without events are absent (NaN skipped). */
static void slo_window_family(struct expo *e, const char *name, const char *help,
                              const struct slo_row *rows, size_t n, slo_value_fn value)
{
    expo_family(e, name, EXPO_GAUGE, help);
    for (size_t i = 0; i < n; i++) {
        for (int w = 0; w < SLO_W_COUNT; w++) {
            struct label l[] = {{"slo", rows[i].spec->name},
                                {"window", slo_window_name((enum slo_window)w)}};
            double v = value(&rows[i], w);
            if (!isnan(v))
                expo_sample(e, name, "", l, 2, NULL, v);
        }
    }
}

static void render_slos(struct expo *e, const struct gen *g, const struct metrics_agent *a)
{
    size_t n = gen_slo_count(g);
    if (n == 0)
        return;
    struct slo_row *rows = xcalloc(n, sizeof(*rows));
    for (size_t i = 0; i < n; i++) {
        struct slo_row *r = &rows[i];
        r->spec = cfg_slo(gen_cfg(g), i);
        slost_figures(gen_slo(g, i), r->spec, a->now_ms, &r->f, &r->events_total, &r->bad_total);
        slost_alerts(gen_slo(g, i), &r->page, &r->ticket);
    }

    expo_family(e, "outpost_slo_info", EXPO_INFO, "Static facts about a configured SLO.");
    for (size_t i = 0; i < n; i++) {
        const struct slo_spec *sp = rows[i].spec;
        /* The config caps SLO labels at CFG_MAX_LABELS: all of them fit. */
        struct label l[4 + CFG_MAX_LABELS];
        size_t nl = 0;
        l[nl++] = (struct label){"slo", sp->name};
        l[nl++] = (struct label){"sli", sp->latency ? "latency" : "availability"};
        l[nl++] = (struct label){"period", sp->period_label};
        l[nl++] = (struct label){"objective", sp->objective_label};
        for (size_t k = 0; k < sp->n_labels; k++)
            l[nl++] = (struct label){sp->labels[k].name, sp->labels[k].value};
        expo_sample(e, "outpost_slo_info", "", l, nl, NULL, 1);
    }
    expo_family(e, "outpost_slo_objective_ratio", EXPO_GAUGE, "The SLO's objective, 0 to 1.");
    for (size_t i = 0; i < n; i++) {
        struct label l = {"slo", rows[i].spec->name};
        expo_sample(e, "outpost_slo_objective_ratio", "", &l, 1, NULL, rows[i].spec->objective);
    }
    expo_family(e, "outpost_slo_period_seconds", EXPO_GAUGE,
                "Length of the SLO period in seconds (calendar periods: the current one).");
    for (size_t i = 0; i < n; i++) {
        struct label l = {"slo", rows[i].spec->name};
        expo_sample(e, "outpost_slo_period_seconds", "", &l, 1, NULL,
                    (double)rows[i].f.period_ms / 1000.0);
    }
    expo_family(e, "outpost_slo_expected_events", EXPO_GAUGE,
                "Events the SLO's checks produce over its period on their schedule: the "
                "error budget is the objective's share of these.");
    for (size_t i = 0; i < n; i++) {
        struct label l = {"slo", rows[i].spec->name};
        expo_sample(e, "outpost_slo_expected_events", "", &l, 1, NULL,
                    rows[i].f.expected[SLO_W_PERIOD]);
    }
    expo_family(e, "outpost_slo_min_events", EXPO_GAUGE,
                "Events an alert tier's long window needs before the tier can fire.");
    for (size_t i = 0; i < n; i++) {
        struct label l = {"slo", rows[i].spec->name};
        expo_sample(e, "outpost_slo_min_events", "", &l, 1, NULL, (double)rows[i].spec->min_events);
    }
    expo_family(e, "outpost_slo_events_total", EXPO_COUNTER,
                "SLI events recorded (for fleet-wide aggregation).");
    for (size_t i = 0; i < n; i++) {
        struct label l = {"slo", rows[i].spec->name};
        expo_sample_u64(e, "outpost_slo_events_total", "", &l, 1, NULL, rows[i].events_total);
    }
    expo_family(e, "outpost_slo_bad_events_total", EXPO_COUNTER, "Bad SLI events recorded.");
    for (size_t i = 0; i < n; i++) {
        struct label l = {"slo", rows[i].spec->name};
        expo_sample_u64(e, "outpost_slo_bad_events_total", "", &l, 1, NULL, rows[i].bad_total);
    }
    slo_window_family(e, "outpost_slo_window_events", "SLI events inside each window.", rows, n,
                      row_events);
    slo_window_family(e, "outpost_slo_sli_ratio",
                      "Good events / events inside the window; absent while it is empty.", rows, n,
                      row_sli);
    slo_window_family(e, "outpost_slo_burn_rate",
                      "(1 - SLI) / (1 - objective) inside the window; absent while it is empty.",
                      rows, n, row_burn);
    slo_gauge_family(e, "outpost_slo_error_budget_remaining_ratio",
                     "1 - bad / (error budget x expected events of the period); may go below 0.",
                     rows, n, row_budget_remaining);
    slo_gauge_family(e, "outpost_slo_error_budget_exhaustion_seconds",
                     "Time until the budget is spent at the current 1h burn rate; +Inf when not "
                     "burning.",
                     rows, n, row_exhaustion);
    expo_family(e, "outpost_slo_alert_firing", EXPO_GAUGE,
                "1 while the agent's multiwindow burn-rate evaluation fires.");
    for (size_t i = 0; i < n; i++) {
        struct label lp[] = {{"slo", rows[i].spec->name}, {"severity", "page"}};
        struct label lt[] = {{"slo", rows[i].spec->name}, {"severity", "ticket"}};
        expo_sample(e, "outpost_slo_alert_firing", "", lp, 2, NULL, rows[i].page);
        expo_sample(e, "outpost_slo_alert_firing", "", lt, 2, NULL, rows[i].ticket);
    }
    expo_family(e, "outpost_slo_policy_freeze", EXPO_GAUGE,
                "1 when the error budget policy says: freeze deploys.");
    for (size_t i = 0; i < n; i++) {
        struct label l = {"slo", rows[i].spec->name};
        if (rows[i].spec->has_policy)
            expo_sample(e, "outpost_slo_policy_freeze", "", &l, 1, NULL, rows[i].f.freeze);
    }
    free(rows);
}

static const char *const arm_label[2] = {"baseline", "canary"};

static void render_canaries(struct expo *e, const struct gen *g, const struct metrics_agent *a)
{
    size_t n = gen_canary_count(g);
    if (n == 0)
        return;
    struct canary_verdict *v = xcalloc(n, sizeof(*v));
    for (size_t i = 0; i < n; i++)
        canst_verdict(gen_canary(g, i), cfg_canary(gen_cfg(g), i), a->now_ms, &v[i]);
#define NAME(i) (cfg_canary(gen_cfg(g), (i))->name)
    /* A gauge with a `verdict` label, in both formats: an OpenMetrics
     * stateset would have to name that label outpost_canary_verdict, and the
     * label name is settled in the metric catalog. */
    expo_family(e, "outpost_canary_verdict", EXPO_GAUGE,
                "The canary's verdict: exactly one of pass, fail, inconclusive is 1.");
    for (size_t i = 0; i < n; i++) {
        for (int k = CANARY_PASS; k <= CANARY_INCONCLUSIVE; k++) {
            struct label l[] = {{"canary", NAME(i)},
                                {"verdict", canary_verdict_name((enum canary_verdict_kind)k)}};
            expo_sample(e, "outpost_canary_verdict", "", l, 2, NULL, (int)v[i].verdict == k);
        }
    }
    expo_family(e, "outpost_canary_score", EXPO_GAUGE,
                "0-100, share of compared metrics that pass; absent while inconclusive.");
    for (size_t i = 0; i < n; i++) {
        struct label l = {"canary", NAME(i)};
        if (!isnan(v[i].score))
            expo_sample(e, "outpost_canary_score", "", &l, 1, NULL, v[i].score);
    }
    expo_family(e, "outpost_canary_samples", EXPO_GAUGE, "Samples in the analysis window.");
    for (size_t i = 0; i < n; i++) {
        for (int arm = 0; arm < 2; arm++) {
            const struct canary_arm *A = arm ? &v[i].canary : &v[i].baseline;
            struct label l[] = {{"canary", NAME(i)}, {"arm", arm_label[arm]}};
            expo_sample(e, "outpost_canary_samples", "", l, 2, NULL, (double)A->n);
        }
    }
    expo_family(e, "outpost_canary_error_ratio", EXPO_GAUGE,
                "Failed / total samples in the window; absent without samples.");
    for (size_t i = 0; i < n; i++) {
        for (int arm = 0; arm < 2; arm++) {
            const struct canary_arm *A = arm ? &v[i].canary : &v[i].baseline;
            struct label l[] = {{"canary", NAME(i)}, {"arm", arm_label[arm]}};
            if (!isnan(A->ratio))
                expo_sample(e, "outpost_canary_error_ratio", "", l, 2, NULL, A->ratio);
        }
    }
    expo_family(e, "outpost_canary_latency_seconds", EXPO_SUMMARY,
                "Latency of successful samples in the window (R-7 quantiles).");
    for (size_t i = 0; i < n; i++) {
        for (int arm = 0; arm < 2; arm++) {
            const struct canary_arm *A = arm ? &v[i].canary : &v[i].baseline;
            struct label l[] = {{"canary", NAME(i)}, {"arm", arm_label[arm]}};
            const double qv[3] = {A->p50, A->p95, A->p99};
            const char *qn[3] = {"0.5", "0.95", "0.99"};
            for (int q = 0; q < 3; q++) {
                struct label ql = {"quantile", qn[q]};
                expo_sample(e, "outpost_canary_latency_seconds", "", l, 2, &ql, qv[q]);
            }
            expo_sample(e, "outpost_canary_latency_seconds", "_sum", l, 2, NULL, A->sum);
            expo_sample_u64(e, "outpost_canary_latency_seconds", "_count", l, 2, NULL,
                            A->n_latency);
        }
    }
    expo_family(e, "outpost_canary_error_p_value", EXPO_GAUGE,
                "One-sided Fisher exact test p-value that the canary fails more often.");
    for (size_t i = 0; i < n; i++) {
        struct label l = {"canary", NAME(i)};
        if (!isnan(v[i].fisher_p))
            expo_sample(e, "outpost_canary_error_p_value", "", &l, 1, NULL, v[i].fisher_p);
    }
    expo_family(e, "outpost_canary_latency_shift_seconds", EXPO_GAUGE,
                "Hodges-Lehmann latency shift canary - baseline and its confidence interval.");
    for (size_t i = 0; i < n; i++) {
        const double bv[3] = {v[i].shift, v[i].shift_lower, v[i].shift_upper};
        const char *bn[3] = {"estimate", "lower", "upper"};
        for (int k = 0; k < 3; k++) {
            struct label l[] = {{"canary", NAME(i)}, {"bound", bn[k]}};
            if (!isnan(bv[k]))
                expo_sample(e, "outpost_canary_latency_shift_seconds", "", l, 2, NULL, bv[k]);
        }
    }
#undef NAME
    free(v);
}

static void gauge(struct expo *e, const char *name, const char *help, double v)
{
    expo_family(e, name, EXPO_GAUGE, help);
    expo_sample(e, name, "", NULL, 0, NULL, v);
}

static void counter(struct expo *e, const char *name, const char *help, double v)
{
    expo_family(e, name, EXPO_COUNTER, help);
    expo_sample(e, name, "", NULL, 0, NULL, v);
}

/* Every event of the closed set from the start, at 0 until written. */
static void render_audit(struct expo *e, const struct metrics_agent *a)
{
    expo_family(e, "outpost_audit_events_total", EXPO_COUNTER,
                "Events written to the audit log, by event.");
    for (size_t i = 0; i < AUDIT_EVENT_COUNT; i++) {
        struct label l = {"event", audit_event_name(i)};
        expo_sample_u64(e, "outpost_audit_events_total", "", &l, 1, NULL,
                        a->audit ? audit_events_written(a->audit, i) : 0);
    }
    uint64_t failures = a->audit ? audit_write_failures(a->audit) : a->audit_unavailable ? 1 : 0;
    expo_family(e, "outpost_audit_write_failures_total", EXPO_COUNTER,
                "Audit events that could not be written, and 1 for an audit log that could not "
                "be opened at start-up.");
    expo_sample_u64(e, "outpost_audit_write_failures_total", "", NULL, 0, NULL, failures);
}

static void render_agent(struct expo *e, const struct gen *g, const struct metrics_agent *a)
{
    expo_family(e, "outpost_build_info", EXPO_INFO, "Version and revision of this outpost build.");
    struct label bl[] = {{"version", OUTPOST_VERSION}, {"revision", OUTPOST_REVISION}};
    expo_sample(e, "outpost_build_info", "", bl, 2, NULL, 1);
    char si[16], sn[16];
    snprintf(si, sizeof(si), "%u", a->shard_index);
    snprintf(sn, sizeof(sn), "%u", a->shard_count);
    expo_family(e, "outpost_shard_info", EXPO_INFO,
                "The shard of the configuration this agent runs.");
    struct label sl[] = {{"shard", si}, {"shards", sn}};
    expo_sample(e, "outpost_shard_info", "", sl, 2, NULL, 1);

    gauge(e, "outpost_config_last_reload_successful", "1 if the last configuration load succeeded.",
          a->reload_ok ? 1 : 0);
    gauge(e, "outpost_config_last_reload_success_timestamp_seconds",
          "Wall-clock time of the last successful configuration load.", a->reload_success_ts);
    gauge(e, "outpost_checks_configured", "Checks in the running configuration.",
          (double)gen_check_count(g));
    gauge(e, "outpost_probes_in_flight", "Probes running right now.", a->in_flight);

    struct rec_snapshot *s = xmalloc(sizeof(*s));
    rec_read(a->lag, s);
    expo_family(e, "outpost_scheduler_lag_seconds", EXPO_HISTOGRAM,
                "Probe start time minus planned start time in seconds.");
    expo_histogram(e, "outpost_scheduler_lag_seconds", NULL, 0, rec_bounds(a->lag), s->n_bounds,
                   s->cumulative, s->sum);
    free(s);
    expo_family(e, "outpost_scheduler_overruns_total", EXPO_COUNTER,
                "Probe runs the scheduler could not run as planned, by reason.");
    for (int r = 0; r < SCHED_OVERRUN_COUNT; r++) {
        struct label l = {"reason", sched_overrun_name((enum sched_overrun)r)};
        expo_sample_u64(e, "outpost_scheduler_overruns_total", "", &l, 1, NULL, a->overruns[r]);
    }

    render_type_histograms(e, g);

    gauge(e, "outpost_scrape_duration_seconds",
          "Time the previous rendering of this endpoint took in seconds.", a->last_scrape_seconds);
    counter(e, "outpost_state_snapshots_total", "State snapshots written.", (double)a->snapshots);
    counter(e, "outpost_state_snapshot_failures_total", "State snapshots that failed.",
            (double)a->snapshot_failures);
    struct alerts_am_stat st[CFG_MAX_ALERTMANAGERS];
    size_t n_am = a->alerts ? alerts_stats(a->alerts, st, CFG_MAX_ALERTMANAGERS) : 0;
    if (n_am) {
        expo_family(e, "outpost_alertmanager_notifications_total", EXPO_COUNTER,
                    "Alerts sent to each Alertmanager.");
        for (size_t i = 0; i < n_am; i++) {
            struct label l = {"alertmanager", st[i].name};
            expo_sample_u64(e, "outpost_alertmanager_notifications_total", "", &l, 1, NULL,
                            st[i].sent);
        }
        expo_family(e, "outpost_alertmanager_notifications_errors_total", EXPO_COUNTER,
                    "Alerts that could not be sent to each Alertmanager (retried).");
        for (size_t i = 0; i < n_am; i++) {
            struct label l = {"alertmanager", st[i].name};
            expo_sample_u64(e, "outpost_alertmanager_notifications_errors_total", "", &l, 1, NULL,
                            st[i].errors);
        }
    }
    alerts_stats_release(st, n_am);
    counter(e, "outpost_state_restore_failures_total",
            "State files found unusable at start-up (moved aside, started fresh).",
            (double)a->restore_failures);
    render_audit(e, a);
    if (a->extra)
        a->extra(e, a->extra_arg);

    struct process_stats ps;
    if (process_collect(&ps) == OP_OK) {
        counter(e, "process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
                ps.cpu_seconds);
        gauge(e, "process_resident_memory_bytes", "Resident memory size in bytes.",
              ps.resident_bytes);
        gauge(e, "process_virtual_memory_bytes", "Virtual memory size in bytes.", ps.virtual_bytes);
        gauge(e, "process_open_fds", "Number of open file descriptors.", ps.open_fds);
        gauge(e, "process_max_fds", "Maximum number of open file descriptors.", ps.max_fds);
        gauge(e, "process_start_time_seconds",
              "Start time of the process since unix epoch in seconds.", ps.start_time);
    }
}

void metrics_render(struct expo *e, const struct gen *g, const struct metrics_agent *a)
{
    render_checks(e, g);
    render_slos(e, g, a);
    render_canaries(e, g, a);
    render_agent(e, g, a);
}
