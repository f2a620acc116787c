/*
 * test_config_valid.c - validation without secrets (--config.skip-secrets)
 * and the hints the loader adds to its errors.
 *
 * Every error case compares the whole error text, so a message, a hint
 * that should not be there and a spurious follow-up error all fail.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "buf.h"
#include "cfg_yaml.h"
#include "config.h"
#include "http_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ERRS_MAX (1u << 20)
#define H(c) http_spec_of(c)

/* Lines 1-3: one valid check whose mapping starts at 2:5. */
#define BASE "checks:\n  - name: a\n    url: http://example.com/\n"

static const struct cfg_load_options skip = {.skip_secrets = true};

/* Load text as "t.yml" with opts (may be NULL); the config, or NULL with
 * the errors in *errs (caller frees both). */
static struct cfg *load(const char *text, const struct cfg_load_options *opts, struct buf *errs)
{
    struct cfg *cfg = NULL;
    buf_init(errs, ERRS_MAX);
    enum op_rc rc = cfg_load_string_opts(text, strlen(text), "t.yml", opts, &cfg, errs);
    assert_true((rc == OP_OK) == (cfg != NULL));
    return cfg;
}

static struct cfg *load_ok(const char *text, const struct cfg_load_options *opts)
{
    struct buf errs;
    struct cfg *cfg = load(text, opts, &errs);
    if (!cfg)
        fail_msg("load failed:\n%s", buf_str(&errs));
    assert_int_equal(errs.len, 0);
    buf_free(&errs);
    return cfg;
}

struct err_case {
    const char *name;
    const char *yaml;
    const char *errors; /* the whole error text */
};

/* Returns the number of cases whose errors differ (each one printed). */
static int run_err_cases(const struct err_case *tc, size_t n, const struct cfg_load_options *opts)
{
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
        struct buf errs;
        struct cfg *cfg = load(tc[i].yaml, opts, &errs);
        if (cfg || strcmp(buf_str(&errs), tc[i].errors) != 0) {
            print_error("[%s] errors were:\n%swant:\n%s", tc[i].name, buf_str(&errs), tc[i].errors);
            bad++;
        }
        cfg_free(cfg);
        buf_free(&errs);
    }
    return bad;
}

/* ---- --config.skip-secrets ---- */

static void test_skip_secrets_placeholders(void **state)
{
    (void)state;
    static const char yaml[] = "checks:\n"
                               "  - name: host\n"
                               "    url: https://${env:OUTPOST_VALID_UNSET}/x\n"
                               "    headers: {Authorization: \"Bearer "
                               "${file:/nonexistent/token}\", X-Lit: \"$${env:A}\"}\n"
                               "    bearer_token_placeholder_is_not_a_key: 1\n";
    /* An unknown key is still an error: only references are skipped. */
    struct buf errs;
    assert_null(load(yaml, &skip, &errs));
    assert_string_equal(
        buf_str(&errs),
        "t.yml:5:5: checks[0] \"host\": unknown key \"bearer_token_placeholder_is_not_a_"
        "key\"\n");
    buf_free(&errs);

    static const char ok[] =
        "checks:\n"
        "  - name: host\n"
        "    url: https://${env:OUTPOST_VALID_UNSET}/x\n"
        "    headers: {Authorization: \"Bearer ${file:/nonexistent/token}\", X-Lit: "
        "\"$${env:A}\"}\n"
        "  - name: whole\n"
        "    url: ${env:OUTPOST_VALID_UNSET}\n"
        "    bearer_token: ${env:OUTPOST_VALID_SET}\n"
        "  - name: base\n"
        "    url: ${file:/nonexistent/base}/healthz?k=${env:OUTPOST_VALID_UNSET}\n"
        "    body: \"{\\\"k\\\": \\\"${env:OUTPOST_VALID_UNSET}\\\"}\"\n"
        "    basic_auth: {username: \"${env:U}\", password: \"${file:/nonexistent/pw}\"}\n";
    /* A variable that is set is not read either. */
    assert_int_equal(setenv("OUTPOST_VALID_SET", "real-value", 1), 0);
    unsetenv("OUTPOST_VALID_UNSET");
    struct cfg *cfg = load_ok(ok, &skip);
    const struct check_spec *c = cfg_check(cfg, 0);
    assert_string_equal(H(c)->url, "https://secret/x");
    /* The label shows the URL as written, as always. */
    assert_string_equal(c->target, "https://${env:OUTPOST_VALID_UNSET}/x");
    assert_string_equal(H(c)->headers[0].value, "Bearer secret");
    assert_string_equal(H(c)->headers[1].value, "${env:A}");
    c = cfg_check(cfg, 1);
    assert_string_equal(H(c)->url, "https://secret");
    assert_string_equal(H(c)->bearer_token, "secret");
    c = cfg_check(cfg, 2);
    assert_string_equal(H(c)->url, "https://secret/healthz?k=secret");
    assert_string_equal(H(c)->body, "{\"k\": \"secret\"}");
    assert_string_equal(H(c)->basic_user, "secret");
    assert_string_equal(H(c)->basic_pass, "secret");
    cfg_free(cfg);

    /* Without the option the same file fails on each reference. */
    assert_null(load(ok, NULL, &errs));
    assert_string_equal(
        buf_str(&errs),
        "t.yml:3:10: checks[0] \"host\".url: environment variable OUTPOST_VALID_UNSET is not set\n"
        "t.yml:4:30: checks[0] \"host\".headers.Authorization: cannot read /nonexistent/token: No "
        "such "
        "file or directory\n"
        "t.yml:6:10: checks[1] \"whole\".url: environment variable OUTPOST_VALID_UNSET is not set\n"
        "t.yml:9:10: checks[2] \"base\".url: cannot read /nonexistent/base: No such file or "
        "directory\n"
        "t.yml:10:11: checks[2] \"base\".body: environment variable OUTPOST_VALID_UNSET is not "
        "set\n"
        "t.yml:11:28: checks[2] \"base\".basic_auth.username: environment variable U is not set\n"
        "t.yml:11:50: checks[2] \"base\".basic_auth.password: cannot read /nonexistent/pw: No such "
        "file or "
        "directory\n");
    buf_free(&errs);
    unsetenv("OUTPOST_VALID_SET");
}

/* References are parsed as always: only resolving them is skipped. */
static const struct err_case skip_errors[] = {
    {"unterminated", BASE "    bearer_token: \"${env:X\"\n",
     "t.yml:4:19: checks[0] \"a\".bearer_token: unterminated \"${\" reference (write \"$${\" for a "
     "literal)\n"},
    {"unknown kind", BASE "    bearer_token: ${vault:x}\n",
     "t.yml:4:19: checks[0] \"a\".bearer_token: unknown reference (use ${env:NAME} or "
     "${file:PATH})\n"},
    {"empty env name", BASE "    bearer_token: ${env:}\n",
     "t.yml:4:19: checks[0] \"a\".bearer_token: unknown reference (use ${env:NAME} or "
     "${file:PATH})\n"},
    {"empty file name", BASE "    headers: {X-A: \"${file:}\"}\n",
     "t.yml:4:20: checks[0] \"a\".headers.X-A: unknown reference (use ${env:NAME} or "
     "${file:PATH})\n"},
    {"host and port from references", "checks:\n  - name: a\n    url: http://${env:H}:${env:P}/\n",
     "t.yml:3:10: checks[0] \"a\".url: the URL is not valid: Port number was not a decimal number "
     "between 0 and 65535\n"},
    {"scheme is still checked", "checks:\n  - name: a\n    url: ftp://${env:H}/\n",
     "t.yml:3:10: checks[0] \"a\".url: the URL's scheme must be http or https\n"},
    {"the same Alertmanager reference twice",
     BASE "alerting:\n  alertmanagers: [\"${env:AM}\", \"${env:AM}/\"]\n",
     "t.yml:5:32: alerting.alertmanagers[1]: this Alertmanager is listed twice\n"},
};

static void test_skip_secrets_errors(void **state)
{
    (void)state;
    assert_int_equal(run_err_cases(skip_errors, ARRAY_SIZE(skip_errors), &skip), 0);
    /* Two references that may name different Alertmanagers are not
     * duplicates when unresolved. */
    struct cfg *cfg = load_ok(
        BASE "alerting:\n  alertmanagers: [\"${env:AM1}\", \"https://${env:AM2}/am\"]\n", &skip);
    const struct alerting_spec *a = cfg_alerting(cfg);
    assert_int_equal(a->n_alertmanagers, 2);
    assert_string_equal(a->alertmanagers[0], "https://secret");
    assert_string_equal(a->alertmanagers[1], "https://secret/am");
    cfg_free(cfg);
}

/* ---- "did you mean" for unknown keys ---- */

static void test_key_distance(void **state)
{
    (void)state;
    static const struct {
        const char *a, *b;
        size_t d;
    } cases[] = {
        {"interval", "interval", 0},
        {"intervall", "interval", 1}, /* one letter too many */
        {"stauts", "status", 1},      /* two neighbours swapped */
        {"URL", "url", 0},            /* case does not count */
        {"treshold", "threshold", 1}, /* one letter missing */
        {"timeuot", "timeout", 1},    /* swap */
        {"ca", "ca_file", 5},         /* far */
        {"", "abc", 3},               /* all inserts */
        {"abc", "", 3},               /* all deletes */
        {"abcdef", "badcfe", 3},      /* three swaps */
        {"ca", "abc", 3},             /* no substring edited twice (OSA, not full DL) */
        {"bogus", "body", 3},         /* substitute, substitute, delete */
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
        if (cfg_key_distance(cases[i].a, cases[i].b) != cases[i].d)
            fail_msg("%s/%s: %zu, want %zu", cases[i].a, cases[i].b,
                     cfg_key_distance(cases[i].a, cases[i].b), cases[i].d);
    char longkey[70];
    memset(longkey, 'a', sizeof(longkey) - 1);
    longkey[sizeof(longkey) - 1] = '\0';
    assert_true(cfg_key_distance(longkey, "a") == SIZE_MAX);

    /* Suggestions: at most 2 edits and fewer than half the key; the first
     * of equally near keys. */
    static const char *const names[] = {"url", "method", "timeout", "interval", "internal", NULL};
    static const struct cfg_keys keys = {.names = names};
    assert_string_equal(cfg_suggest_key("urll", &keys), "url");
    assert_string_equal(cfg_suggest_key("Method", &keys), "method");
    assert_string_equal(cfg_suggest_key("interal", &keys), "interval");
    assert_null(cfg_suggest_key("ur", &keys)); /* 1 edit, but half of 2 letters */
    assert_null(cfg_suggest_key("u", &keys));
    assert_string_equal(cfg_suggest_key("metod2", &keys), "method"); /* 2 edits of 6 */
    assert_null(cfg_suggest_key("mtd", &keys));                      /* 3 edits */
    assert_null(cfg_suggest_key("url", &keys));                      /* known: nothing to suggest */
    assert_null(cfg_suggest_key(longkey, &keys));
    assert_null(cfg_suggest_key("urll", NULL));
    /* Chained sets, fields first. */
    static const char *const more_names[] = {"sli", NULL};
    static const struct cfg_keys more = {.names = more_names};
    static const struct cfg_keys chain = {.names = names, .more = &more};
    assert_string_equal(cfg_suggest_key("slii", &chain), "sli");
}

#define SLO_OK "slos:\n  - name: s\n    objective: 99\n    sli: {checks: [a]}\n"

static const struct err_case hint_cases[] = {
    {"top level", "check:\n  - {name: a, url: http://e/}\n",
     "t.yml:1:1: unknown key \"check\" (did you mean \"checks\"?)\n"},
    {"top level, far", BASE "bogus: 1\n", "t.yml:4:1: unknown key \"bogus\"\n"},
    {"global", "global:\n  intervall: 10s\nchecks: []\n",
     "t.yml:2:3: global: unknown key \"intervall\" (did you mean \"interval\"?)\n"},
    {"global, far", "global:\n  bogus: 10s\nchecks: []\n",
     "t.yml:2:3: global: unknown key \"bogus\"\n"},
    {"a check's own key", BASE "    intervall: 5s\n",
     "t.yml:4:5: checks[0] \"a\": unknown key \"intervall\" (did you mean \"interval\"?)\n"},
    {"a check, far", BASE "    bogus: 1\n", "t.yml:4:5: checks[0] \"a\": unknown key \"bogus\"\n"},
    {"a key of the http type",
     BASE "    bearer_tokn: x\n    folow_redirects: false\n    Method: POST\n",
     "t.yml:4:5: checks[0] \"a\": unknown key \"bearer_tokn\" (did you mean \"bearer_token\"?)\n"
     "t.yml:5:5: checks[0] \"a\": unknown key \"folow_redirects\" (did you mean "
     "\"follow_redirects\"?)\n"
     "t.yml:6:5: checks[0] \"a\": unknown key \"Method\" (did you mean \"method\"?)\n"},
    {"the http type's url", "checks:\n  - name: a\n    urll: http://e/\n",
     "t.yml:3:5: checks[0] \"a\": unknown key \"urll\" (did you mean \"url\"?)\n"
     "t.yml:2:5: checks[0] \"a\": missing key \"url\"\n"},
    {"expect", BASE "    expect:\n      stauts: 200\n",
     "t.yml:5:7: checks[0] \"a\".expect: unknown key \"stauts\" (did you mean \"status\"?)\n"},
    {"tls", BASE "    tls:\n      insecure_skip_verfy: true\n      ca: x\n",
     "t.yml:5:7: checks[0] \"a\".tls: unknown key \"insecure_skip_verfy\" (did you mean "
     "\"insecure_skip_verify\"?)\n"
     "t.yml:6:7: checks[0] \"a\".tls: unknown key \"ca\"\n"},
    {"basic_auth", BASE "    basic_auth:\n      username: u\n      pasword: p\n      pass: p\n",
     "t.yml:6:7: checks[0] \"a\".basic_auth: unknown key \"pasword\" (did you mean \"password\"?)\n"
     "t.yml:7:7: checks[0] \"a\".basic_auth: unknown key \"pass\"\n"},
    {"json", BASE "    expect:\n      json:\n        - {path: a, exist: true, bogus: 1}\n",
     "t.yml:6:21: checks[0] \"a\".expect.json[0]: unknown key \"exist\" (did you mean "
     "\"exists\"?)\n"
     "t.yml:6:34: checks[0] \"a\".expect.json[0]: unknown key \"bogus\"\n"
     "t.yml:6:11: checks[0] \"a\".expect.json[0]: needs \"equals\" or \"exists\"\n"},
    {"slo", BASE SLO_OK "    perod: 7d\n",
     "t.yml:8:5: slos[0] \"s\": unknown key \"perod\" (did you mean \"period\"?)\n"},
    {"slo's sli, too short for a hint", BASE "slos:\n  - {name: s, objective: 99, sl: {}}\n",
     "t.yml:5:30: slos[0] \"s\": unknown key \"sl\"\n"
     "t.yml:5:5: slos[0] \"s\": sli needs a non-empty \"checks\" list\n"},
    {"sli", BASE "slos:\n  - {name: s, objective: 99, sli: {check: [a]}}\n",
     "t.yml:5:36: slos[0] \"s\".sli: unknown key \"check\" (did you mean \"checks\"?)\n"
     "t.yml:5:5: slos[0] \"s\": sli needs a non-empty \"checks\" list\n"},
    {"latency threshold",
     BASE "slos:\n  - {name: s, objective: 99, sli: {checks: [a], latency: {treshold: 1s}}}\n",
     "t.yml:5:59: slos[0] \"s\".sli.latency: unknown key \"treshold\" (did you mean "
     "\"threshold\"?)\n"
     "t.yml:5:58: slos[0] \"s\".sli.latency: missing key \"threshold\"\n"},
    {"policy", BASE SLO_OK "    policy: {freeze_when_consumed: 0.5, over: 24h, ovr: 1h}\n",
     "t.yml:8:52: slos[0] \"s\".policy: unknown key \"ovr\" (did you mean \"over\"?)\n"},
    {"canary", BASE "canaries:\n  - {name: k, baseline_check: a, canary_chek: a, windw: 1m}\n",
     "t.yml:5:34: canaries[0] \"k\": unknown key \"canary_chek\" (did you mean \"canary_check\"?)\n"
     "t.yml:5:50: canaries[0] \"k\": unknown key \"windw\" (did you mean \"window\"?)\n"
     "t.yml:5:5: canaries[0] \"k\": needs exactly one of canary and canary_check\n"},
    {"an inline arm",
     BASE "canaries:\n  - {name: k, baseline_check: a, canary: {url: http://e/, metod: GET}}\n",
     "t.yml:5:59: canaries[0] \"k\".canary: unknown key \"metod\" (did you mean \"method\"?)\n"},
    {"alerting", BASE "alerting:\n  alertmanager: [http://am/]\n",
     "t.yml:5:3: alerting: unknown key \"alertmanager\" (did you mean \"alertmanagers\"?)\n"},
};

static void test_unknown_key_hints(void **state)
{
    (void)state;
    assert_int_equal(run_err_cases(hint_cases, ARRAY_SIZE(hint_cases), NULL), 0);
}

/* ---- a ratio written as an objective ---- */

static void test_objective_hint(void **state)
{
    (void)state;
    static const struct {
        const char *text, *hint;
    } cases[] = {
        {"0.999", "99.9"}, {"0.99", "99"},   {"0.9995", "99.95"},   {"0.5", "50"},
        {"0.05", "5"},     {"0.001", "0.1"}, {"0.0001", "0.01"},    {"0.990", "99"},
        {"00.9", "90"},    {"0.9", "90"},    {"\"0.999\"", "99.9"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct buf yaml, want;
        buf_init(&yaml, ERRS_MAX);
        buf_init(&want, ERRS_MAX);
        buf_addf(&yaml, BASE "slos:\n  - {name: s, objective: %s, sli: {checks: [a]}}\n",
                 cases[i].text);
        const char *bare = cases[i].text[0] == '"' ? "0.999" : cases[i].text;
        buf_addf(
            &want,
            "t.yml:5:26: slos[0] \"s\".objective: \"%s\" is %s %%: objective is a percentage, not "
            "a ratio (did you mean %s?)\n",
            bare, bare, cases[i].hint);
        struct err_case tc = {cases[i].text, buf_str(&yaml), buf_str(&want)};
        assert_int_equal(run_err_cases(&tc, 1, NULL), 0);
        buf_free(&yaml);
        buf_free(&want);
    }
    /* From 1 on the value is taken as written: 1 % is an objective. */
    static const char *const ok[] = {"1", "1.0", "01", "1.5", "50", "99.9"};
    for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
        struct buf yaml;
        buf_init(&yaml, ERRS_MAX);
        buf_addf(&yaml, BASE "slos:\n  - {name: s, objective: %s, sli: {checks: [a]}}\n", ok[i]);
        cfg_free(load_ok(buf_str(&yaml), NULL));
        buf_free(&yaml);
    }
    /* Values that are not plain decimals keep the old message, no hint. */
    static const struct err_case plain[] = {
        {"zero", BASE "slos:\n  - {name: s, objective: 0, sli: {checks: [a]}}\n",
         "t.yml:5:26: slos[0] \"s\".objective: \"0\" is not a percentage above 0 and below 100 "
         "written as a plain decimal (e.g. 99.9)\n"},
        {"no leading digit", BASE "slos:\n  - {name: s, objective: .999, sli: {checks: [a]}}\n",
         "t.yml:5:26: slos[0] \"s\".objective: \".999\" is not a percentage above 0 and below 100 "
         "written as a plain decimal (e.g. 99.9)\n"},
        {"exponent", BASE "slos:\n  - {name: s, objective: 9.99e-1, sli: {checks: [a]}}\n",
         "t.yml:5:26: slos[0] \"s\".objective: \"9.99e-1\" is not a percentage above 0 and below "
         "100 "
         "written as a plain decimal (e.g. 99.9)\n"},
    };
    assert_int_equal(run_err_cases(plain, ARRAY_SIZE(plain), NULL), 0);

    char out[32];
    assert_true(cfg_percent_hint("0.999999999999999", out, sizeof(out)));
    assert_string_equal(out, "99.9999999999999");
    assert_false(cfg_percent_hint("1", out, sizeof(out)));
    assert_false(cfg_percent_hint("10.5", out, sizeof(out)));
    assert_false(cfg_percent_hint("0.999", out, 4)); /* does not fit: no hint */
}

/* ---- Alertmanager URLs ---- */

#define AM_ERR(col, i)                                                                             \
    "t.yml:5:" #col ": alerting.alertmanagers[" #i "]: ends in /api/v2/alerts, which the agent "   \
    "appends itself: give the Alertmanager's base URL\n"

static const struct err_case am_cases[] = {
    {"the API path", BASE "alerting:\n  alertmanagers: [http://am:9093/api/v2/alerts]\n",
     AM_ERR(19, 0)},
    {"with a trailing slash", BASE "alerting:\n  alertmanagers: [http://am:9093/api/v2/alerts/]\n",
     AM_ERR(19, 0)},
    {"after a path prefix",
     BASE "alerting:\n  alertmanagers: [http://ok/, \"https://am/prefix/api/v2/alerts//\"]\n",
     AM_ERR(31, 1)},
};

static void test_alertmanager_api_path(void **state)
{
    (void)state;
    assert_int_equal(run_err_cases(am_cases, ARRAY_SIZE(am_cases), NULL), 0);
    /* Also when the path comes after a reference that is not resolved. */
    assert_int_equal(run_err_cases(&(struct err_case){"reference",
                                                      BASE "alerting:\n  alertmanagers: "
                                                           "[\"${env:AM}/api/v2/alerts\"]\n",
                                                      AM_ERR(19, 0)},
                                   1, &skip),
                     0);
    /* Base URLs, with or without a prefix, and look-alikes are fine. */
    struct cfg *cfg = load_ok(BASE "alerting:\n  alertmanagers: [http://a:9093/, http://b/am, "
                                   "http://c/api/v2/alert, http://d/api/v2/alerts/x, "
                                   "http://e/api/v2]\n",
                              NULL);
    const struct alerting_spec *a = cfg_alerting(cfg);
    assert_int_equal(a->n_alertmanagers, 5);
    assert_string_equal(a->alertmanagers[0], "http://a:9093");
    assert_string_equal(a->alertmanagers[1], "http://b/am");
    cfg_free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_skip_secrets_placeholders),
        cmocka_unit_test(test_skip_secrets_errors),
        cmocka_unit_test(test_key_distance),
        cmocka_unit_test(test_unknown_key_hints),
        cmocka_unit_test(test_objective_hint),
        cmocka_unit_test(test_alertmanager_api_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
