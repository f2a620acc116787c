/*
 * test_slo_gate.c - deploy gates from error budgets: the judgement of an
 * SLO (its reasons and the Argo JSON) and a canary's `gate_slos` in the
 * configuration.
 *
 * Every error case compares the whole error text, so a wrong place, a
 * wrong message and a spurious follow-up error all fail.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "buf.h"
#include "config.h"
#include "slogate.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ERRS_MAX (1u << 20)

/* Lines 1-2: one check; lines 3-5: two SLOs over it. */
#define BASE                                                                                       \
    "checks:\n  - {name: a, url: http://example.com/}\n"                                           \
    "slos:\n  - {name: s1, objective: 99, sli: {checks: [a]}}\n"                                   \
    "  - {name: s2, objective: 99.9, sli: {checks: [a]}}\n"

/* Load text as "t.yml"; the config, or NULL with the errors in *errs
 * (caller frees both). */
static struct cfg *load(const char *text, struct buf *errs)
{
    struct cfg *cfg = NULL;
    buf_init(errs, ERRS_MAX);
    enum op_rc rc = cfg_load_string(text, strlen(text), "t.yml", &cfg, errs);
    assert_true((rc == OP_OK) == (cfg != NULL));
    return cfg;
}

static struct cfg *load_ok(const char *text)
{
    struct buf errs;
    struct cfg *cfg = load(text, &errs);
    if (!cfg)
        fail_msg("load failed:\n%s", buf_str(&errs));
    assert_int_equal(errs.len, 0);
    buf_free(&errs);
    return cfg;
}

/* ---- configuration ---- */

static void test_gate_slos_resolved(void **state)
{
    (void)state;
    struct cfg *cfg = load_ok(BASE "canaries:\n"
                                   "  - {name: k, baseline_check: a, canary_check: a, "
                                   "gate_slos: [s2, s1]}\n"
                                   "  - {name: plain, baseline_check: a, canary_check: a}\n"
                                   "  - {name: empty, baseline_check: a, canary_check: a, "
                                   "gate_slos: []}\n"
                                   "  - {name: nothing, baseline_check: a, canary_check: a, "
                                   "gate_slos: ~}\n");
    const struct canary_spec *k = cfg_find_canary(cfg, "k");
    assert_non_null(k);
    assert_int_equal(k->n_gate_slos, 2);
    assert_string_equal(k->gate_slos[0], "s2");
    assert_string_equal(k->gate_slos[1], "s1");
    assert_int_equal(k->gate_slo_idx[0], 1);
    assert_int_equal(k->gate_slo_idx[1], 0);
    assert_string_equal(cfg_slo(cfg, k->gate_slo_idx[0])->name, "s2");
    for (size_t i = 1; i < 4; i++)
        assert_int_equal(cfg_canary(cfg, i)->n_gate_slos, 0);
    cfg_free(cfg);

    /* A canary arm may be the very check the SLO judges, and an SLO may
     * gate several canaries. */
    cfg = load_ok("canaries:\n"
                  "  - {name: k, baseline: {url: http://b/}, canary: {url: http://c/}, "
                  "gate_slos: [arm]}\n"
                  "  - {name: l, baseline_check: k/baseline, canary_check: k/canary, "
                  "gate_slos: [arm]}\n"
                  "slos:\n  - {name: arm, objective: 99, sli: {checks: [k/canary]}}\n");
    assert_int_equal(cfg_find_canary(cfg, "l")->gate_slo_idx[0], 0);
    cfg_free(cfg);
}

struct err_case {
    const char *name;
    const char *yaml;
    const char *errors; /* the whole error text */
};

static const struct err_case err_cases[] = {
    {"unknown SLO",
     BASE "canaries:\n  - {name: k, baseline_check: a, canary_check: a, gate_slos: [s1, nope]}\n",
     "t.yml:7:67: canaries[0] \"k\".gate_slos[1]: no SLO named \"nope\"\n"},
    {"block list",
     BASE "canaries:\n  - name: k\n    baseline_check: a\n    canary_check: a\n"
          "    gate_slos:\n      - s2\n      - zz\n      - s1\n      - yy\n",
     "t.yml:12:9: canaries[0] \"k\".gate_slos[1]: no SLO named \"zz\"\n"
     "t.yml:14:9: canaries[0] \"k\".gate_slos[3]: no SLO named \"yy\"\n"},
    {"second canary",
     BASE "canaries:\n  - {name: k, baseline_check: a, canary_check: a}\n"
          "  - {name: l, baseline_check: a, canary_check: a, gate_slos: [S1]}\n",
     "t.yml:8:63: canaries[1] \"l\".gate_slos[0]: no SLO named \"S1\"\n"},
    {"no slos section",
     "checks:\n  - {name: a, url: http://example.com/}\ncanaries:\n"
     "  - {name: k, baseline_check: a, canary_check: a, gate_slos: [s1]}\n",
     "t.yml:4:63: canaries[0] \"k\".gate_slos[0]: no SLO named \"s1\" (the configuration has no "
     "slos:)\n"},
    {"listed twice",
     BASE "canaries:\n  - {name: k, baseline_check: a, canary_check: a, gate_slos: [s1, s2, s1]}\n",
     "t.yml:7:71: canaries[0] \"k\".gate_slos[2]: SLO \"s1\" listed twice\n"},
    {"not a list",
     BASE "canaries:\n  - {name: k, baseline_check: a, canary_check: a, gate_slos: s1}\n",
     "t.yml:7:62: canaries[0] \"k\".gate_slos: expected a list, got a scalar\n"},
    {"not a name",
     BASE "canaries:\n  - {name: k, baseline_check: a, canary_check: a, gate_slos: [[s1]]}\n",
     "t.yml:7:63: canaries[0] \"k\".gate_slos[0]: expected a single value, got a list\n"},
    {"a typo in the key",
     BASE "canaries:\n  - {name: k, baseline_check: a, canary_check: a, gate_slo: [s1]}\n",
     "t.yml:7:51: canaries[0] \"k\": unknown key \"gate_slo\" (did you mean \"gate_slos\"?)\n"},
    {"a name the SLO gates' paths use",
     BASE "canaries:\n  - {name: slo/k, baseline_check: a, canary_check: a}\n",
     "t.yml:7:12: canaries[0] \"slo/k\": a canary's name may not begin with \"slo/\": "
     "/gates/flagger/slo/... and /gates/argo/slo/... are the SLOs' gates\n"},
};

static void test_gate_slos_errors(void **state)
{
    (void)state;
    int bad = 0;
    for (size_t i = 0; i < ARRAY_SIZE(err_cases); i++) {
        struct buf errs;
        struct cfg *cfg = load(err_cases[i].yaml, &errs);
        if (cfg || strcmp(buf_str(&errs), err_cases[i].errors) != 0) {
            print_error("[%s] errors were:\n%swant:\n%s", err_cases[i].name, buf_str(&errs),
                        err_cases[i].errors);
            bad++;
        }
        cfg_free(cfg);
        buf_free(&errs);
    }
    assert_int_equal(bad, 0);
    /* Names that merely contain "slo" are the canary's own. */
    cfg_free(load_ok(BASE "canaries:\n  - {name: slo, baseline_check: a, canary_check: a}\n"
                          "  - {name: x/slo/y, baseline_check: a, canary_check: a}\n"
                          "  - {name: slow, baseline_check: a, canary_check: a}\n"));
}

/* ---- the judgement ---- */

#define HOUR 3600000LL
#define DAY (24 * HOUR)

/* Figures with every burn rate b and the given states. */
static struct slo_figures figures(bool freeze, bool page, double consumed, double burn_1h,
                                  double burn_6h)
{
    struct slo_figures f;
    memset(&f, 0, sizeof(f));
    for (int w = 0; w < SLO_W_COUNT; w++)
        f.burn[w] = burn_1h;
    f.burn[SLO_W_6H] = burn_6h;
    f.freeze = freeze;
    f.page = page;
    f.policy_consumed = consumed;
    f.budget_remaining = 0.25;
    return f;
}

static void test_judge_reasons(void **state)
{
    (void)state;
    static struct slo_spec pol = {.name = "orders-availability",
                                  .has_policy = true,
                                  .freeze_when_consumed = 0.7,
                                  .policy_over_ms = 7 * DAY};
    static struct slo_spec bare = {.name = "x"};
    static struct slo_spec odd = {.name = "y",
                                  .has_policy = true,
                                  .freeze_when_consumed = 0.001,
                                  .policy_over_ms = 36 * HOUR};
    static const char *const no_page = "no page alert firing";
    static const struct {
        const struct slo_spec *s;
        bool freeze, page;
        double consumed, b1, b6;
        bool pass;
        const char *reason, *rollback;
    } rows[] = {
        {&pol, false, false, 0.012, 0.5, 0.25, true,
         "SLO orders-availability: 1.2 % of the error budget consumed over 7d (freeze at 70 %), "
         "no page alert firing",
         NULL},
        {&pol, true, false, 0.742, 2, 1, false,
         "SLO orders-availability: 74.2 % of the error budget consumed over 7d (freeze at 70 %)",
         NULL},
        {&bare, false, true, NAN, 14.4, 6.25, false,
         "SLO x: page alert firing (burn 14.4x over 1h and 6.25x over 6h)",
         "SLO x: page alert firing (burn 14.4x over 1h and 6.25x over 6h)"},
        {&pol, true, true, 1, 1000, 123.456, false,
         "SLO orders-availability: 100 % of the error budget consumed over 7d (freeze at 70 %); "
         "page alert firing (burn 1000x over 1h and 123x over 6h)",
         "SLO orders-availability: page alert firing (burn 1000x over 1h and 123x over 6h)"},
        {&bare, false, false, NAN, 0, 0, true,
         "SLO x: no error budget policy, no page alert firing", NULL},
        {&odd, true, false, 12.5, 3, 3, false,
         "SLO y: 1250 % of the error budget consumed over 36h (freeze at 0.1 %)", NULL},
        {&odd, false, false, NAN, NAN, NAN, true,
         "SLO y: no error budget yet to judge the policy by (freeze at 0.1 % over 36h), no page "
         "alert firing",
         NULL},
    };
    for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
        struct slo_figures f =
            figures(rows[i].freeze, rows[i].page, rows[i].consumed, rows[i].b1, rows[i].b6);
        struct slo_gate g;
        slogate_judge(rows[i].s, &f, &g);
        assert_int_equal(g.pass, rows[i].pass);
        assert_int_equal(g.freeze, rows[i].freeze);
        assert_int_equal(g.page, rows[i].page);
        assert_string_equal(g.reason, rows[i].reason);
        char want[SLOGATE_REASON_BYTES];
        snprintf(want, sizeof(want), "SLO %s: %s", rows[i].s->name, no_page);
        assert_string_equal(g.rollback, rows[i].rollback ? rows[i].rollback : want);
    }
    /* The policy alone, for a canary's gate_slos: never the page alert. */
    struct slo_figures f = figures(true, true, 0.742, 20, 20);
    struct slo_gate g;
    slogate_judge(&pol, &f, &g);
    assert_string_equal(g.policy, "SLO orders-availability: 74.2 % of the error budget consumed "
                                  "over 7d (freeze at 70 %)");
    /* The longest name fits whole, both conditions included. */
    char name[CFG_MAX_NAME_BYTES + 1];
    memset(name, 'n', CFG_MAX_NAME_BYTES);
    name[CFG_MAX_NAME_BYTES] = '\0';
    struct slo_spec longest = pol;
    longest.name = name;
    f = figures(true, true, -1e300, -1e300, -1e300);
    slogate_judge(&longest, &f, &g);
    assert_non_null(strstr(g.reason, " over 6h)"));
    assert_int_equal(strncmp(g.reason + 4, name, CFG_MAX_NAME_BYTES), 0);
}

static void test_judge_json(void **state)
{
    (void)state;
    struct slo_spec pol = {.name = "orders",
                           .has_policy = true,
                           .freeze_when_consumed = 0.7,
                           .policy_over_ms = 7 * DAY};
    struct slo_figures f = figures(true, false, 0.75, 2, 1.5);
    f.burn[SLO_W_5M] = NAN;
    f.budget_remaining = -INFINITY;
    struct slo_gate g;
    slogate_judge(&pol, &f, &g);
    struct buf b;
    buf_init(&b, 1u << 16);
    slogate_json(&g, "orders", false, &b);
    assert_string_equal(
        buf_str(&b),
        "{\"slo\":\"orders\",\"verdict\":\"fail\",\"reason\":\"SLO orders: 75 % of the "
        "error budget consumed over 7d (freeze at 70 %)\",\"freeze\":true,"
        "\"page_alert\":false,\"budget_remaining\":null,"
        "\"budget_consumed_policy_window\":0.75,\"freeze_when_consumed\":0.7,"
        "\"burn_rate\":{\"5m\":null,\"30m\":2,\"1h\":2,\"2h\":2,\"6h\":1.5,\"1d\":2,"
        "\"3d\":2,\"period\":2}}");
    /* The rollback hook: a freeze alone passes (nothing to roll back). */
    buf_reset(&b);
    slogate_json(&g, "orders", true, &b);
    assert_non_null(strstr(buf_str(&b), "\"verdict\":\"pass\",\"reason\":\"SLO orders: no page "
                                        "alert firing\",\"freeze\":true,"));
    /* A page alert fails both; a name is escaped; no policy is null. */
    struct slo_spec bare = {.name = "a\"b"};
    f = figures(false, true, NAN, 20, 10);
    slogate_judge(&bare, &f, &g);
    buf_reset(&b);
    slogate_json(&g, bare.name, true, &b);
    assert_non_null(strstr(buf_str(&b), "{\"slo\":\"a\\\"b\",\"verdict\":\"fail\",\"reason\":\"SLO "
                                        "a\\\"b: page alert firing (burn 20x over 1h and 10x over "
                                        "6h)\",\"freeze\":false,\"page_alert\":true,"
                                        "\"budget_remaining\":0.25,"
                                        "\"budget_consumed_policy_window\":null,"
                                        "\"freeze_when_consumed\":null,"));
    buf_reset(&b);
    slogate_json(&g, bare.name, false, &b);
    assert_non_null(strstr(buf_str(&b), "\"verdict\":\"fail\""));
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_judge_reasons),
        cmocka_unit_test(test_judge_json),
        cmocka_unit_test(test_gate_slos_resolved),
        cmocka_unit_test(test_gate_slos_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
