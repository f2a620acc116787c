/*
 * test_slo_gate.c - deploy gates from error budgets: a canary's
 * `gate_slos` in the configuration.
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
     "t.yml:7:67: canaries[0].gate_slos[1]: no SLO named \"nope\"\n"},
    {"block list",
     BASE "canaries:\n  - name: k\n    baseline_check: a\n    canary_check: a\n"
          "    gate_slos:\n      - s2\n      - zz\n      - s1\n      - yy\n",
     "t.yml:12:9: canaries[0].gate_slos[1]: no SLO named \"zz\"\n"
     "t.yml:14:9: canaries[0].gate_slos[3]: no SLO named \"yy\"\n"},
    {"second canary",
     BASE "canaries:\n  - {name: k, baseline_check: a, canary_check: a}\n"
          "  - {name: l, baseline_check: a, canary_check: a, gate_slos: [S1]}\n",
     "t.yml:8:63: canaries[1].gate_slos[0]: no SLO named \"S1\"\n"},
    {"no slos section",
     "checks:\n  - {name: a, url: http://example.com/}\ncanaries:\n"
     "  - {name: k, baseline_check: a, canary_check: a, gate_slos: [s1]}\n",
     "t.yml:4:63: canaries[0].gate_slos[0]: no SLO named \"s1\" (the configuration has no "
     "slos:)\n"},
    {"listed twice",
     BASE "canaries:\n  - {name: k, baseline_check: a, canary_check: a, gate_slos: [s1, s2, s1]}\n",
     "t.yml:7:71: canaries[0].gate_slos[2]: SLO \"s1\" listed twice\n"},
    {"not a list",
     BASE "canaries:\n  - {name: k, baseline_check: a, canary_check: a, gate_slos: s1}\n",
     "t.yml:7:62: canaries[0].gate_slos: expected a list, got a scalar\n"},
    {"not a name",
     BASE "canaries:\n  - {name: k, baseline_check: a, canary_check: a, gate_slos: [[s1]]}\n",
     "t.yml:7:63: canaries[0].gate_slos[0]: expected a single value, got a list\n"},
    {"a typo in the key",
     BASE "canaries:\n  - {name: k, baseline_check: a, canary_check: a, gate_slo: [s1]}\n",
     "t.yml:7:51: canaries[0]: unknown key \"gate_slo\" (did you mean \"gate_slos\"?)\n"},
    {"a name the SLO gates' paths use",
     BASE "canaries:\n  - {name: slo/k, baseline_check: a, canary_check: a}\n",
     "t.yml:7:12: canaries[0]: a canary's name may not begin with \"slo/\": "
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gate_slos_resolved),
        cmocka_unit_test(test_gate_slos_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
