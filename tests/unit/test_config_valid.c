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
    assert_string_equal(buf_str(&errs),
                        "t.yml:5:5: checks[0]: unknown key \"bearer_token_placeholder_is_not_a_"
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
        "t.yml:3:10: checks[0].url: environment variable OUTPOST_VALID_UNSET is not set\n"
        "t.yml:4:30: checks[0].headers.Authorization: cannot read /nonexistent/token: No such "
        "file or directory\n"
        "t.yml:6:10: checks[1].url: environment variable OUTPOST_VALID_UNSET is not set\n"
        "t.yml:9:10: checks[2].url: cannot read /nonexistent/base: No such file or directory\n"
        "t.yml:10:11: checks[2].body: environment variable OUTPOST_VALID_UNSET is not set\n"
        "t.yml:11:28: checks[2].basic_auth.username: environment variable U is not set\n"
        "t.yml:11:50: checks[2].basic_auth.password: cannot read /nonexistent/pw: No such file or "
        "directory\n");
    buf_free(&errs);
    unsetenv("OUTPOST_VALID_SET");
}

/* References are parsed as always: only resolving them is skipped. */
static const struct err_case skip_errors[] = {
    {"unterminated", BASE "    bearer_token: \"${env:X\"\n",
     "t.yml:4:19: checks[0].bearer_token: unterminated \"${\" reference (write \"$${\" for a "
     "literal)\n"},
    {"unknown kind", BASE "    bearer_token: ${vault:x}\n",
     "t.yml:4:19: checks[0].bearer_token: unknown reference (use ${env:NAME} or ${file:PATH})\n"},
    {"empty env name", BASE "    bearer_token: ${env:}\n",
     "t.yml:4:19: checks[0].bearer_token: unknown reference (use ${env:NAME} or ${file:PATH})\n"},
    {"empty file name", BASE "    headers: {X-A: \"${file:}\"}\n",
     "t.yml:4:20: checks[0].headers.X-A: unknown reference (use ${env:NAME} or ${file:PATH})\n"},
    {"host and port from references", "checks:\n  - name: a\n    url: http://${env:H}:${env:P}/\n",
     "t.yml:3:10: checks[0].url: url is not a valid absolute URL\n"},
    {"scheme is still checked", "checks:\n  - name: a\n    url: ftp://${env:H}/\n",
     "t.yml:3:10: checks[0].url: url scheme must be http or https\n"},
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_skip_secrets_placeholders),
        cmocka_unit_test(test_skip_secrets_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
