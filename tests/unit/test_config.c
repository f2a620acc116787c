/*
 * test_config.c - unit tests for the YAML configuration loader (config.c).
 *
 * Table-driven: every error case is a YAML text plus the error lines it must
 * produce, matched as line prefixes, so file, line, column, key path and
 * message are all pinned, and the exact number of lines catches spurious
 * follow-up errors. Secrets come from the environment and from files in a
 * temporary directory made by the group setup.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "buf.h"
#include "config.h"
#include "http_check.h"
#include "test_util.h"

/* The http settings of a check. */
#define H(c) http_spec_of(c)

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ERRS_MAX (1u << 20)

/* A secret that must never reach an error message. */
#define SECRET "hunter2-SeCrEt"

/* Lines 1-3 of most error cases: one valid check whose mapping starts at 2:5. */
#define BASE "checks:\n  - name: a\n    url: http://example.com/\n"

/* ---- fixture: temporary files and environment ---- */

static const struct {
    const char *name;
    const char *content;
} fixture_files[] = {
    {"token", "tok-from-file\n"},
    {"crlf", "crlf-secret\r\n"},
    {"multi", "line1\nline2\n\n"},
    {"secret", SECRET "\n"},
    {"ca.pem", "not really a certificate\n"},
    {"cert.pem", "not really a certificate\n"},
    {"key.pem", "not really a key\n"},
    {"good.yml", BASE},
    {"bad.yml", "bogus: 1\n"},
};

static const struct {
    const char *name;
    const char *value;
} fixture_env[] = {
    {"OUTPOST_TEST_TOKEN", "tok-env"},
    {"OUTPOST_TEST_PATH", "p1"},
    {"OUTPOST_TEST_NESTED", "${env:OUTPOST_TEST_TOKEN}"},
    {"OUTPOST_TEST_SECRET", SECRET},
    {"OUTPOST_TEST_SECRET_NL", SECRET "\nX-Evil: 1"},
    {"OUTPOST_TEST_SECRET_URL", "http://admin:" SECRET "@bad host/"},
};

/* Absolute path of a fixture file; returns a static buffer. */
static const char *fixture(const char *name)
{
    static char path[512];
    snprintf(path, sizeof(path), "%s/%s", tu_tmpdir(), name);
    return path;
}

/* The fixture files go into the process's own temporary directory, so
 * parallel test runs never see each other's files. */
static int group_setup(void **state)
{
    if (tu_tmpdir_setup(state) != 0)
        return -1;
    for (size_t i = 0; i < ARRAY_SIZE(fixture_files); i++) {
        FILE *f = fopen(fixture(fixture_files[i].name), "wb");
        if (!f)
            return -1;
        fputs(fixture_files[i].content, f);
        if (fclose(f) != 0)
            return -1;
    }
    for (size_t i = 0; i < ARRAY_SIZE(fixture_env); i++)
        if (setenv(fixture_env[i].name, fixture_env[i].value, 1) != 0)
            return -1;
    unsetenv("OUTPOST_TEST_UNSET");
    return 0;
}

/* The directory goes with everything in it: the fixture files and
 * whatever a test that stopped early left behind (test_limits' "big"). */
static int group_teardown(void **state)
{
    for (size_t i = 0; i < ARRAY_SIZE(fixture_env); i++)
        unsetenv(fixture_env[i].name);
    return tu_tmpdir_teardown(state);
}

/* ---- helpers ---- */

/* Load text as "test.yml". Initialises *errs (caller frees with buf_free);
 * *cfg is NULL unless the load succeeded (caller frees with cfg_free). */
static enum op_rc load(const char *text, struct cfg **cfg, struct buf *errs)
{
    *cfg = NULL;
    buf_init(errs, ERRS_MAX);
    return cfg_load_string(text, strlen(text), "test.yml", cfg, errs);
}

/* Load text that must be valid; fails the test with the errors otherwise. */
static struct cfg *load_ok(const char *text)
{
    struct cfg *cfg;
    struct buf errs;
    enum op_rc rc = load(text, &cfg, &errs);
    if (rc != OP_OK || !cfg || errs.len) {
        print_error("errors:\n%s", buf_str(&errs));
        cfg_free(cfg);
        buf_free(&errs);
        fail_msg("load failed: %s", op_strerror(rc));
    }
    buf_free(&errs);
    return cfg;
}

static size_t count_lines(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* True when some line of text starts with prefix. */
static bool has_line_prefix(const char *text, const char *prefix)
{
    size_t n = strlen(prefix);
    for (const char *line = text; *line;) {
        if (strncmp(line, prefix, n) == 0)
            return true;
        const char *nl = strchr(line, '\n');
        if (!nl)
            break;
        line = nl + 1;
    }
    return false;
}

#define MAX_WANT 3

struct err_case {
    const char *name;
    const char *yaml;
    const char *want[MAX_WANT]; /* line prefixes that must appear; unused slots NULL */
    size_t lines;               /* exact number of error lines */
};

/* Run one error case; returns the number of failed expectations (all are
 * printed, so one run shows every broken row). */
static int run_err_case(const struct err_case *tc, const char *forbidden)
{
    struct cfg *cfg;
    struct buf errs;
    enum op_rc rc = load(tc->yaml, &cfg, &errs);
    const char *e = buf_str(&errs);
    int bad = 0;
    if (rc != OP_ERR_INVALID) {
        print_error("[%s] rc is %s, want %s\n", tc->name, op_strerror(rc),
                    op_strerror(OP_ERR_INVALID));
        bad++;
    }
    if (cfg) {
        print_error("[%s] *out was set on failure\n", tc->name);
        bad++;
    }
    for (size_t i = 0; i < MAX_WANT && tc->want[i]; i++) {
        if (!has_line_prefix(e, tc->want[i])) {
            print_error("[%s] no line starts with: %s\n", tc->name, tc->want[i]);
            bad++;
        }
    }
    if (count_lines(e) != tc->lines) {
        print_error("[%s] %zu error lines, want %zu\n", tc->name, count_lines(e), tc->lines);
        bad++;
    }
    if (forbidden && strstr(e, forbidden)) {
        print_error("[%s] errors reveal the secret\n", tc->name);
        bad++;
    }
    if (bad)
        print_error("[%s] errors were:\n%s", tc->name, e);
    cfg_free(cfg);
    buf_free(&errs);
    return bad;
}

static const struct check_spec *only_check(const struct cfg *cfg)
{
    assert_int_equal(cfg_check_count(cfg), 1);
    return cfg_check(cfg, 0);
}

/* ---- cfg_parse_duration ---- */

static const struct {
    const char *in;
    int64_t ms;
} durations_ok[] = {
    {"250ms", 250},
    {"10s", 10000},
    {"5m", 300000},
    {"1h", 3600000},
    {"1d", 86400000},
    {"1w", 604800000},
    {"1y", 31536000000},
    {"1h30m", 5400000},
    {"1m30s500ms", 90500},
    {"1m1ms", 60001},
    {"90s", 90000},
    {"0s", 0},
    {"1y1w1d1h1m1s1ms", 32230861001},
    {"292471208y", 292471208 * INT64_C(31536000000)},
    {"9223372036854775807ms", INT64_MAX},
};

static const char *const durations_bad[] = {
    "",
    "10",
    "s",
    "ms",
    "-1s",
    "+1s",
    "1.5s",
    "10x",
    "1S",
    "1h30",
    "1s1h",
    "1ms1s",
    "1s1s",
    "1m1m",
    "5m m",
    "1h 30m",
    " 1s",
    "1s ",
    "9999999999999999999s",
    "9223372036854775808ms",
    "292471209y",
    "292471208y1000w",
};

static void test_duration_valid(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(durations_ok); i++) {
        int64_t ms = -1;
        enum op_rc rc = cfg_parse_duration(durations_ok[i].in, &ms);
        if (rc != OP_OK || ms != durations_ok[i].ms)
            fail_msg("\"%s\": rc %s, %lld ms, want %lld", durations_ok[i].in, op_strerror(rc),
                     (long long)ms, (long long)durations_ok[i].ms);
    }
}

static void test_duration_invalid(void **state)
{
    (void)state;
    for (size_t i = 0; i < ARRAY_SIZE(durations_bad); i++) {
        int64_t ms = -1;
        if (cfg_parse_duration(durations_bad[i], &ms) != OP_ERR_INVALID)
            fail_msg("\"%s\" was accepted as %lld ms", durations_bad[i], (long long)ms);
    }
    int64_t ms;
    assert_int_equal(cfg_parse_duration(NULL, &ms), OP_ERR_INVALID);
}

/* ---- http_status_ok ---- */

static void test_status_ok(void **state)
{
    (void)state;
    struct status_range ranges[] = {{200, 299}, {301, 301}, {400, 499}};
    struct http_expect e = {.status = ranges, .n_status = ARRAY_SIZE(ranges)};
    static const struct {
        int code;
        bool ok;
    } cases[] = {
        {100, false}, {199, false}, {200, true},  {250, true}, {299, true},   {300, false},
        {301, true},  {302, false}, {399, false}, {400, true}, {404, true},   {499, true},
        {500, false}, {599, false}, {0, false},   {-1, false}, {1000, false},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
        if (http_status_ok(&e, cases[i].code) != cases[i].ok)
            fail_msg("status %d: want %s", cases[i].code, cases[i].ok ? "ok" : "not ok");
    struct http_expect none = {0};
    assert_false(http_status_ok(&none, 200));
}

/* ---- valid configs ---- */

static const double default_buckets[] = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

static void assert_buckets(const struct check_spec *c, const double *want, size_t n)
{
    assert_int_equal(c->n_buckets, n);
    for (size_t i = 0; i < n; i++)
        if (c->buckets[i] != want[i])
            fail_msg("bucket %zu is %g, want %g", i, c->buckets[i], want[i]);
}

static void test_minimal_defaults(void **state)
{
    (void)state;
    struct cfg *cfg = load_ok(BASE);
    assert_string_equal(cfg_source(cfg), "test.yml");
    const struct check_spec *c = only_check(cfg);
    assert_string_equal(c->name, "a");
    assert_string_equal(c->type->name, "http");
    assert_string_equal(c->group, "");
    assert_string_equal(H(c)->url, "http://example.com/");
    assert_string_equal(c->target, "http://example.com/");
    assert_string_equal(H(c)->method, "GET");
    assert_int_equal(H(c)->n_headers, 0);
    assert_null(H(c)->body);
    assert_int_equal(c->interval_ms, 15000);
    assert_int_equal(c->timeout_ms, 5000);
    assert_true(H(c)->follow_redirects);
    assert_int_equal(H(c)->ip_protocol, IP_PROTO_AUTO);
    assert_false(H(c)->reuse_connection);
    assert_null(H(c)->basic_user);
    assert_null(H(c)->basic_pass);
    assert_null(H(c)->bearer_token);
    assert_null(H(c)->tls.ca_file);
    assert_null(H(c)->tls.cert_file);
    assert_null(H(c)->tls.key_file);
    assert_null(H(c)->tls.server_name);
    assert_false(H(c)->tls.insecure_skip_verify);
    assert_int_equal(H(c)->max_body_bytes, 1048576);
    assert_int_equal(H(c)->expect.n_status, 1);
    assert_int_equal(H(c)->expect.status[0].lo, 200);
    assert_int_equal(H(c)->expect.status[0].hi, 299);
    assert_int_equal(H(c)->expect.n_body_matches, 0);
    assert_int_equal(H(c)->expect.n_body_not_matches, 0);
    assert_int_equal(H(c)->expect.n_headers, 0);
    assert_int_equal(H(c)->expect.n_json, 0);
    assert_int_equal(H(c)->expect.max_duration_ms, 0);
    assert_buckets(c, default_buckets, ARRAY_SIZE(default_buckets));
    assert_int_equal(c->line, 2);
    assert_true(http_status_ok(&H(c)->expect, 200));
    assert_true(http_status_ok(&H(c)->expect, 299));
    assert_false(http_status_ok(&H(c)->expect, 300));
    cfg_free(cfg);
}

/* Configs without checks are valid and empty. */
static void test_no_checks(void **state)
{
    (void)state;
    static const char *const texts[] = {
        "checks: []\n",
        "checks:\n",
        "global:\n  interval: 1m\n",
        "global:\nchecks: ~\n",
    };
    for (size_t i = 0; i < ARRAY_SIZE(texts); i++) {
        struct cfg *cfg = load_ok(texts[i]);
        assert_int_equal(cfg_check_count(cfg), 0);
        cfg_free(cfg);
    }
}

static void test_global_overrides(void **state)
{
    (void)state;
    struct cfg *cfg = load_ok("global:\n"
                              "  interval: 1m\n"
                              "  timeout: 20s\n"
                              "  histogram_buckets: [0.1, 1, 10]\n"
                              "checks:\n"
                              "  - name: a\n"
                              "    url: http://example.com/\n"
                              "  - name: b\n"
                              "    url: http://example.com/\n"
                              "    interval: 2m\n"
                              "    timeout: 1m\n"
                              "    histogram_buckets: [1, 2]\n");
    assert_int_equal(cfg_check_count(cfg), 2);
    const struct check_spec *a = cfg_check(cfg, 0);
    const struct check_spec *b = cfg_check(cfg, 1);
    static const double global_buckets[] = {0.1, 1, 10};
    static const double own_buckets[] = {1, 2};
    assert_int_equal(a->interval_ms, 60000);
    assert_int_equal(a->timeout_ms, 20000);
    assert_buckets(a, global_buckets, ARRAY_SIZE(global_buckets));
    assert_int_equal(a->line, 6);
    assert_int_equal(b->interval_ms, 120000);
    assert_int_equal(b->timeout_ms, 60000);
    assert_buckets(b, own_buckets, ARRAY_SIZE(own_buckets));
    assert_int_equal(b->line, 8);
    cfg_free(cfg);
}

/* A check without its own timeout gets min(global timeout, its interval). */
static void test_implicit_timeout(void **state)
{
    (void)state;
    static const struct {
        const char *yaml;
        int64_t interval_ms, timeout_ms;
    } cases[] = {
        /* Default global timeout (5s) clipped to a 2s interval. */
        {BASE "    interval: 2s\n", 2000, 2000},
        /* An explicit global timeout below the interval is kept. */
        {"global:\n  timeout: 1s\n" BASE "    interval: 2s\n", 2000, 1000},
        /* A short global interval clips the default timeout too. */
        {"global:\n  interval: 1s\n" BASE, 1000, 1000},
        /* The interval is the only limit on an explicit check timeout. */
        {BASE "    interval: 2s\n    timeout: 2s\n", 2000, 2000},
        {"global:\n  interval: 500ms\n" BASE "    timeout: 100ms\n", 500, 100},
        {BASE "    interval: 100ms\n", 100, 100},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct cfg *cfg = load_ok(cases[i].yaml);
        const struct check_spec *c = only_check(cfg);
        if (c->interval_ms != cases[i].interval_ms || c->timeout_ms != cases[i].timeout_ms)
            fail_msg("case %zu: interval %lld timeout %lld, want %lld and %lld", i,
                     (long long)c->interval_ms, (long long)c->timeout_ms,
                     (long long)cases[i].interval_ms, (long long)cases[i].timeout_ms);
        cfg_free(cfg);
    }
}

/* The full check; %1$s is the fixture directory. */
#define FULL_YAML                                                                                  \
    "global:\n"                                                                                    \
    "  interval: 30s\n"                                                                            \
    "  timeout: 10s\n"                                                                             \
    "checks:\n"                                                                                    \
    "  - name: full\n"                                                                             \
    "    type: http\n"                                                                             \
    "    group: payments\n"                                                                        \
    "    url: \"https://u:p@example.com:8443/a/b?x=1#f\"\n"                                        \
    "    method: POST\n"                                                                           \
    "    headers:\n"                                                                               \
    "      X-Token: ${env:OUTPOST_TEST_TOKEN}\n"                                                   \
    "      Accept: application/json\n"                                                             \
    "    body: '{\"q\": 1}'\n"                                                                     \
    "    interval: 20s\n"                                                                          \
    "    timeout: 3s\n"                                                                            \
    "    follow_redirects: false\n"                                                                \
    "    ip_protocol: ip6\n"                                                                       \
    "    reuse_connection: true\n"                                                                 \
    "    bearer_token: \"${file:%1$s/token}\"\n"                                                   \
    "    tls:\n"                                                                                   \
    "      ca_file: %1$s/ca.pem\n"                                                                 \
    "      cert_file: %1$s/cert.pem\n"                                                             \
    "      key_file: %1$s/key.pem\n"                                                               \
    "      server_name: internal.example\n"                                                        \
    "      insecure_skip_verify: true\n"                                                           \
    "    max_body_bytes: 2MiB\n"                                                                   \
    "    expect:\n"                                                                                \
    "      status: [\"200-299\", 301, \"4xx\"]\n"                                                  \
    "      body_matches: \"ok\"\n"                                                                 \
    "      body_not_matches: [\"error\", \"fail(ed)?\"]\n"                                         \
    "      headers:\n"                                                                             \
    "        Content-Type: \"^application/json\"\n"                                                \
    "        X-Req: .\n"                                                                           \
    "      json:\n"                                                                                \
    "        - path: a.b[0].c\n"                                                                   \
    "          equals: \"1\"\n"                                                                    \
    "        - path: \"[1].x\"\n"                                                                  \
    "          equals: 1\n"                                                                        \
    "        - path: status\n"                                                                     \
    "          exists: true\n"                                                                     \
    "        - path: gone\n"                                                                       \
    "          exists: false\n"                                                                    \
    "        - path: name\n"                                                                       \
    "          equals: 'ok'\n"                                                                     \
    "      max_duration: 2s\n"                                                                     \
    "    histogram_buckets: [0.05, 0.5, 5]\n"                                                      \
    "  - name: second\n"                                                                           \
    "    url: http://example.org\n"                                                                \
    "    ip_protocol: ip4\n"                                                                       \
    "    max_body_bytes: 1000\n"                                                                   \
    "    basic_auth:\n"                                                                            \
    "      username: alice\n"                                                                      \
    "      password: ${env:OUTPOST_TEST_TOKEN}\n"                                                  \
    "    expect:\n"                                                                                \
    "      status: 204\n"                                                                          \
    "      body_matches: [\"a+\", b]\n"                                                            \
    "  - name: third\n"                                                                            \
    "    url: http://example.net/x\n"                                                              \
    "    ip_protocol: auto\n"                                                                      \
    "    reuse_connection: false\n"                                                                \
    "    follow_redirects: true\n"                                                                 \
    "    basic_auth:\n"                                                                            \
    "      username: bob\n"                                                                        \
    "  - name: fourth\n"                                                                           \
    "    url: http://example.net/y\n"                                                              \
    "    headers:\n"                                                                               \
    "      Authorization: Token abc\n"                                                             \
    "    expect:\n"                                                                                \
    "      status: 5XX\n"

static void assert_regex(const struct regex *re, const char *pattern)
{
    assert_string_equal(re->pattern, pattern);
    assert_non_null(re->code);
}

static void assert_json_key_step(const struct json_step *st, const char *key)
{
    assert_non_null(st->key);
    assert_string_equal(st->key, key);
}

static void assert_json_index_step(const struct json_step *st, long index)
{
    assert_null(st->key);
    assert_int_equal(st->index, index);
}

static void check_full(const struct check_spec *c)
{
    assert_string_equal(c->name, "full");
    assert_string_equal(c->type->name, "http");
    assert_string_equal(c->group, "payments");
    assert_string_equal(H(c)->url, "https://u:p@example.com:8443/a/b?x=1#f");
    assert_string_equal(c->target, "https://example.com:8443/a/b");
    assert_string_equal(H(c)->method, "POST");
    assert_int_equal(H(c)->n_headers, 2);
    assert_string_equal(H(c)->headers[0].name, "X-Token");
    assert_string_equal(H(c)->headers[0].value, "tok-env");
    assert_string_equal(H(c)->headers[1].name, "Accept");
    assert_string_equal(H(c)->headers[1].value, "application/json");
    assert_string_equal(H(c)->body, "{\"q\": 1}");
    assert_int_equal(c->interval_ms, 20000);
    assert_int_equal(c->timeout_ms, 3000);
    assert_false(H(c)->follow_redirects);
    assert_int_equal(H(c)->ip_protocol, IP_PROTO_6);
    assert_true(H(c)->reuse_connection);
    assert_null(H(c)->basic_user);
    assert_null(H(c)->basic_pass);
    assert_string_equal(H(c)->bearer_token, "tok-from-file");
    char path[512];
    snprintf(path, sizeof(path), "%s/ca.pem", tu_tmpdir());
    assert_string_equal(H(c)->tls.ca_file, path);
    snprintf(path, sizeof(path), "%s/cert.pem", tu_tmpdir());
    assert_string_equal(H(c)->tls.cert_file, path);
    snprintf(path, sizeof(path), "%s/key.pem", tu_tmpdir());
    assert_string_equal(H(c)->tls.key_file, path);
    assert_string_equal(H(c)->tls.server_name, "internal.example");
    assert_true(H(c)->tls.insecure_skip_verify);
    assert_int_equal(H(c)->max_body_bytes, 2097152);

    const struct http_expect *e = &H(c)->expect;
    assert_int_equal(e->n_status, 3);
    assert_int_equal(e->status[0].lo, 200);
    assert_int_equal(e->status[0].hi, 299);
    assert_int_equal(e->status[1].lo, 301);
    assert_int_equal(e->status[1].hi, 301);
    assert_int_equal(e->status[2].lo, 400);
    assert_int_equal(e->status[2].hi, 499);
    assert_true(http_status_ok(e, 301));
    assert_false(http_status_ok(e, 302));
    assert_true(http_status_ok(e, 418));
    assert_false(http_status_ok(e, 500));
    assert_int_equal(e->n_body_matches, 1);
    assert_regex(&e->body_matches[0], "ok");
    assert_int_equal(e->n_body_not_matches, 2);
    assert_regex(&e->body_not_matches[0], "error");
    assert_regex(&e->body_not_matches[1], "fail(ed)?");
    assert_int_equal(e->n_headers, 2);
    assert_string_equal(e->headers[0].name, "Content-Type");
    assert_regex(&e->headers[0].re, "^application/json");
    assert_string_equal(e->headers[1].name, "X-Req");
    assert_regex(&e->headers[1].re, ".");

    assert_int_equal(e->n_json, 5);
    const struct json_expect *j = &e->json[0];
    assert_string_equal(j->path, "a.b[0].c");
    assert_int_equal(j->n_steps, 4);
    assert_json_key_step(&j->steps[0], "a");
    assert_json_key_step(&j->steps[1], "b");
    assert_json_index_step(&j->steps[2], 0);
    assert_json_key_step(&j->steps[3], "c");
    assert_false(j->is_exists);
    assert_string_equal(j->equals, "1");
    assert_true(j->equals_quoted);

    j = &e->json[1];
    assert_string_equal(j->path, "[1].x");
    assert_int_equal(j->n_steps, 2);
    assert_json_index_step(&j->steps[0], 1);
    assert_json_key_step(&j->steps[1], "x");
    assert_false(j->is_exists);
    assert_string_equal(j->equals, "1");
    assert_false(j->equals_quoted);

    j = &e->json[2];
    assert_int_equal(j->n_steps, 1);
    assert_json_key_step(&j->steps[0], "status");
    assert_true(j->is_exists);
    assert_true(j->exists);
    assert_null(j->equals);

    j = &e->json[3];
    assert_json_key_step(&j->steps[0], "gone");
    assert_true(j->is_exists);
    assert_false(j->exists);
    assert_null(j->equals);

    j = &e->json[4];
    assert_string_equal(j->equals, "ok");
    assert_true(j->equals_quoted);

    assert_int_equal(e->max_duration_ms, 2000);
    static const double own_buckets[] = {0.05, 0.5, 5};
    assert_buckets(c, own_buckets, ARRAY_SIZE(own_buckets));
    assert_int_equal(c->line, 5);
}

static void check_second(const struct check_spec *c)
{
    assert_string_equal(c->name, "second");
    assert_string_equal(H(c)->url, "http://example.org");
    assert_string_equal(c->target, "http://example.org");
    assert_int_equal(H(c)->ip_protocol, IP_PROTO_4);
    assert_int_equal(H(c)->max_body_bytes, 1000);
    assert_string_equal(H(c)->basic_user, "alice");
    assert_string_equal(H(c)->basic_pass, "tok-env");
    assert_null(H(c)->bearer_token);
    assert_int_equal(c->interval_ms, 30000);
    assert_int_equal(c->timeout_ms, 10000);
    assert_true(H(c)->follow_redirects);
    assert_int_equal(H(c)->expect.n_status, 1);
    assert_int_equal(H(c)->expect.status[0].lo, 204);
    assert_int_equal(H(c)->expect.status[0].hi, 204);
    assert_int_equal(H(c)->expect.n_body_matches, 2);
    assert_regex(&H(c)->expect.body_matches[0], "a+");
    assert_regex(&H(c)->expect.body_matches[1], "b");
    assert_buckets(c, default_buckets, ARRAY_SIZE(default_buckets));
}

static void check_third(const struct check_spec *c)
{
    assert_string_equal(c->name, "third");
    assert_string_equal(c->target, "http://example.net/x");
    assert_int_equal(H(c)->ip_protocol, IP_PROTO_AUTO);
    assert_false(H(c)->reuse_connection);
    assert_true(H(c)->follow_redirects);
    /* basic_auth without a password sends an empty one. */
    assert_string_equal(H(c)->basic_user, "bob");
    assert_string_equal(H(c)->basic_pass, "");
    assert_int_equal(H(c)->n_headers, 0);
}

static void check_fourth(const struct check_spec *c)
{
    assert_string_equal(c->name, "fourth");
    /* An Authorization header alone is allowed. */
    assert_int_equal(H(c)->n_headers, 1);
    assert_string_equal(H(c)->headers[0].name, "Authorization");
    assert_string_equal(H(c)->headers[0].value, "Token abc");
    assert_int_equal(H(c)->expect.status[0].lo, 500);
    assert_int_equal(H(c)->expect.status[0].hi, 599);
}

static void test_every_field(void **state)
{
    (void)state;
    struct buf yaml;
    buf_init(&yaml, ERRS_MAX);
    buf_addf(&yaml, FULL_YAML, tu_tmpdir());
    assert_false(yaml.failed);
    struct cfg *cfg = load_ok(buf_str(&yaml));
    assert_int_equal(cfg_check_count(cfg), 4);
    check_full(cfg_check(cfg, 0));
    check_second(cfg_check(cfg, 1));
    check_third(cfg_check(cfg, 2));
    check_fourth(cfg_check(cfg, 3));
    cfg_free(cfg);
    buf_free(&yaml);
}

/* The target is the URL as written minus userinfo, query and fragment. */
static void test_target(void **state)
{
    (void)state;
    static const struct {
        const char *url, *target;
    } cases[] = {
        {"https://u:p@example.com:8443/a/b?x=1#f", "https://example.com:8443/a/b"},
        {"http://example.com", "http://example.com"},
        {"https://user@example.com/?token=abc", "https://example.com/"},
        {"http://[::1]:9090/metrics?token=abc", "http://[::1]:9090/metrics"},
        {"http://127.0.0.1:8080/health#top", "http://127.0.0.1:8080/health"},
        {"https://example.com/a%20b", "https://example.com/a%20b"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct buf yaml;
        buf_init(&yaml, ERRS_MAX);
        buf_addf(&yaml, "checks:\n  - name: t\n    url: \"%s\"\n", cases[i].url);
        struct cfg *cfg = load_ok(buf_str(&yaml));
        const struct check_spec *c = only_check(cfg);
        assert_string_equal(H(c)->url, cases[i].url);
        if (strcmp(c->target, cases[i].target) != 0)
            fail_msg("%s: target %s, want %s", cases[i].url, c->target, cases[i].target);
        cfg_free(cfg);
        buf_free(&yaml);
    }
}

static void test_sizes(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        uint64_t bytes;
    } cases[] = {
        {"1", 1},
        {"1000", 1000},
        {"1B", 1},
        {"2KiB", 2048},
        {"2MiB", 2097152},
        {"1GiB", 1073741824},
        {"3kB", 3000},
        {"3KB", 3000},
        {"5MB", 5000000},
        {"1GB", 1000000000},
        {"1073741824", 1073741824},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct buf yaml;
        buf_init(&yaml, ERRS_MAX);
        buf_addf(&yaml, BASE "    max_body_bytes: %s\n", cases[i].in);
        struct cfg *cfg = load_ok(buf_str(&yaml));
        if (H(only_check(cfg))->max_body_bytes != cases[i].bytes)
            fail_msg("%s: got %llu", cases[i].in,
                     (unsigned long long)H(only_check(cfg))->max_body_bytes);
        cfg_free(cfg);
        buf_free(&yaml);
    }
}

static void test_status_forms(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        int lo, hi;
    } cases[] = {
        {"200", 200, 200},   {"\"404\"", 404, 404},   {"100", 100, 100},
        {"599", 599, 599},   {"1xx", 100, 199},       {"2XX", 200, 299},
        {"5xx", 500, 599},   {"200-204", 200, 204},   {"\"300-399\"", 300, 399},
        {"[418]", 418, 418}, {"[\"2xx\"]", 200, 299},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct buf yaml;
        buf_init(&yaml, ERRS_MAX);
        buf_addf(&yaml, BASE "    expect:\n      status: %s\n", cases[i].in);
        struct cfg *cfg = load_ok(buf_str(&yaml));
        const struct http_expect *e = &H(only_check(cfg))->expect;
        if (e->n_status != 1 || e->status[0].lo != cases[i].lo || e->status[0].hi != cases[i].hi)
            fail_msg("%s: got %zu ranges, first %d-%d", cases[i].in, e->n_status, e->status[0].lo,
                     e->status[0].hi);
        cfg_free(cfg);
        buf_free(&yaml);
    }
}

/* JSON paths: valid ones as steps ("k:" key, "#" index), invalid ones as the
 * exact error line. */
static void test_json_paths(void **state)
{
    (void)state;
    static const struct {
        const char *path;
        const char *steps; /* NULL: invalid */
    } cases[] = {
        {"a", "k:a"},
        {"a.b[0].c", "k:a k:b #0 k:c"},
        {"[1].x", "#1 k:x"},
        {"[0][12]", "#0 #12"},
        {"items[3]", "k:items #3"},
        {"a-b.c_d", "k:a-b k:c_d"},
        {"a..b", NULL},
        {"", NULL},
        {".a", NULL},
        {"a.", NULL},
        {"a.[0]", NULL},
        {"a[", NULL},
        {"a[1", NULL},
        {"a[x]", NULL},
        {"a[-1]", NULL},
        {"a[]", NULL},
        {"a[0]b", NULL},
        {"a[99999999999999999999]", NULL},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct buf yaml, got;
        buf_init(&yaml, ERRS_MAX);
        buf_init(&got, ERRS_MAX);
        buf_addf(&yaml,
                 BASE "    expect:\n      json:\n        - path: \"%s\"\n          exists: true\n",
                 cases[i].path);
        if (cases[i].steps) {
            struct cfg *cfg = load_ok(buf_str(&yaml));
            const struct json_expect *j = &H(only_check(cfg))->expect.json[0];
            assert_string_equal(j->path, cases[i].path);
            for (size_t s = 0; s < j->n_steps; s++) {
                if (j->steps[s].key)
                    buf_addf(&got, "%sk:%s", s ? " " : "", j->steps[s].key);
                else
                    buf_addf(&got, "%s#%ld", s ? " " : "", j->steps[s].index);
            }
            if (strcmp(buf_str(&got), cases[i].steps) != 0)
                fail_msg("%s: steps \"%s\", want \"%s\"", cases[i].path, buf_str(&got),
                         cases[i].steps);
            cfg_free(cfg);
        } else {
            buf_addf(
                &got,
                "test.yml:6:17: checks[0] \"a\".expect.json[0].path: \"%s\" is not a JSON path",
                cases[i].path);
            struct err_case tc = {cases[i].path, buf_str(&yaml), {buf_str(&got)}, 1};
            assert_int_equal(run_err_case(&tc, NULL), 0);
        }
        buf_free(&yaml);
        buf_free(&got);
    }
}

/* ---- references ---- */

#define ENV_YAML                                                                                   \
    "checks:\n"                                                                                    \
    "  - name: env\n"                                                                              \
    "    url: \"http://example.com/${env:OUTPOST_TEST_PATH}?k=${env:OUTPOST_TEST_TOKEN}\"\n"       \
    "    headers:\n"                                                                               \
    "      X-Token: \"${env:OUTPOST_TEST_TOKEN}\"\n"                                               \
    "      X-Both: a-${env:OUTPOST_TEST_TOKEN}-${env:OUTPOST_TEST_PATH}-z\n"                       \
    "      X-Literal: \"$${env:OUTPOST_TEST_TOKEN}\"\n"                                            \
    "      X-Dollar: \"cost $5, $$x and $\"\n"                                                     \
    "      X-Nested: ${env:OUTPOST_TEST_NESTED}\n"                                                 \
    "    body: \"${file:%1$s/multi}\"\n"                                                           \
    "  - name: files\n"                                                                            \
    "    url: http://example.com/\n"                                                               \
    "    bearer_token: \"${file:%1$s/crlf}\"\n"                                                    \
    "    body: \"<${file:%1$s/token}>\"\n"                                                         \
    "  - name: unexpanded\n"                                                                       \
    "    url: http://example.com/\n"                                                               \
    "    group: \"${env:OUTPOST_TEST_TOKEN}\"\n"                                                   \
    "    expect:\n"                                                                                \
    "      body_matches: \"\\\\$\\\\{env:OUTPOST_TEST_TOKEN\\\\}\"\n"

static void test_references(void **state)
{
    (void)state;
    struct buf yaml;
    buf_init(&yaml, ERRS_MAX);
    buf_addf(&yaml, ENV_YAML, tu_tmpdir());
    struct cfg *cfg = load_ok(buf_str(&yaml));
    assert_int_equal(cfg_check_count(cfg), 3);

    const struct check_spec *c = cfg_check(cfg, 0);
    assert_string_equal(H(c)->url, "http://example.com/p1?k=tok-env");
    /* The label shows the reference as written, never its value. */
    assert_string_equal(c->target, "http://example.com/${env:OUTPOST_TEST_PATH}");
    assert_int_equal(H(c)->n_headers, 5);
    assert_string_equal(H(c)->headers[0].value, "tok-env");
    assert_string_equal(H(c)->headers[1].value, "a-tok-env-p1-z");
    assert_string_equal(H(c)->headers[2].value, "${env:OUTPOST_TEST_TOKEN}");
    assert_string_equal(H(c)->headers[3].value, "cost $5, $$x and $");
    /* A resolved value is not expanded again. */
    assert_string_equal(H(c)->headers[4].value, "${env:OUTPOST_TEST_TOKEN}");
    /* Only trailing line breaks of a file are dropped. */
    assert_string_equal(H(c)->body, "line1\nline2");

    c = cfg_check(cfg, 1);
    assert_string_equal(H(c)->bearer_token, "crlf-secret");
    assert_string_equal(H(c)->body, "<tok-from-file>");

    /* Names, groups and patterns are taken literally. */
    c = cfg_check(cfg, 2);
    assert_string_equal(c->group, "${env:OUTPOST_TEST_TOKEN}");
    assert_string_equal(H(c)->expect.body_matches[0].pattern, "\\$\\{env:OUTPOST_TEST_TOKEN\\}");
    cfg_free(cfg);
    buf_free(&yaml);
}

/* ---- SLO objectives ---- */

/* An objective is a plain decimal percentage, read once and exactly. An
 * exponent or hex form used to pass the check and be misread ("9.99e1" as
 * 99.9 with a budget of -98.9, so the burn alerts could never fire). */
static void test_slo_objective(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        double objective, budget;
    } ok[] = {
        {"99.9", 0.999, 0.001},    {"99", 0.99, 0.01},           {"95", 0.95, 0.05},
        {"99.95", 0.9995, 0.0005}, {"99.999", 0.99999, 0.00001}, {"1", 0.01, 0.99},
        {"1.5", 0.015, 0.985},     {"\"99.9\"", 0.999, 0.001},
    };
    for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
        struct buf yaml;
        buf_init(&yaml, ERRS_MAX);
        buf_addf(&yaml, BASE "slos:\n  - {name: s, objective: %s, sli: {checks: [a]}}\n",
                 ok[i].text);
        struct cfg *cfg = load_ok(buf_str(&yaml));
        const struct slo_spec *slo = cfg_slo(cfg, 0);
        /* Exactly the doubles nearest the decimal values. */
        if (slo->objective != ok[i].objective || slo->budget != ok[i].budget)
            fail_msg("%s: objective %.17g budget %.17g", ok[i].text, slo->objective, slo->budget);
        cfg_free(cfg);
        buf_free(&yaml);
    }
    static const char *const bad[] = {"9.99e1", "0x63p0", "99.9e-0", "+99.9", "-1",
                                      "0",      "100",    "100.0",   "99.",   ".5",
                                      "1e2",    "99_9",   "nan",     "inf",   "99.90000000000001"};
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        struct buf yaml, want;
        buf_init(&yaml, ERRS_MAX);
        buf_init(&want, ERRS_MAX);
        buf_addf(&yaml, BASE "slos:\n  - {name: s, objective: %s, sli: {checks: [a]}}\n", bad[i]);
        buf_addf(&want,
                 "test.yml:5:26: slos[0] \"s\".objective: \"%s\" is not a percentage above 0 and "
                 "below 100 written as a plain decimal (e.g. 99.9)",
                 bad[i]);
        struct err_case tc = {bad[i], buf_str(&yaml), {buf_str(&want)}, 1};
        assert_int_equal(run_err_case(&tc, NULL), 0);
        buf_free(&yaml);
        buf_free(&want);
    }
}

/* `alert:` and `retry:`: defaults, global defaults, per-check overrides of
 * single keys. */
static void test_check_policy(void **state)
{
    (void)state;
    struct cfg *cfg = load_ok(BASE);
    const struct check_policy *pol = &only_check(cfg)->policy;
    assert_int_equal(pol->failure_threshold, 3);
    assert_int_equal(pol->success_threshold, 2);
    assert_int_equal(pol->retry_attempts, 0);
    assert_int_equal(pol->retry_delay_ms, 1000);
    assert_false(cfg_check_is_canary_arm(only_check(cfg)));
    cfg_free(cfg);

    cfg = load_ok("global:\n"
                  "  alert: {failure_threshold: 5}\n"
                  "  retry: {attempts: 1, delay: 200ms}\n"
                  "checks:\n"
                  "  - {name: a, url: http://example.com/}\n"
                  "  - {name: b, url: http://example.com/, alert: {success_threshold: 4},\n"
                  "     retry: {attempts: 3}, timeout: 1s}\n");
    const struct check_policy *a = &cfg_check(cfg, 0)->policy;
    const struct check_policy *b = &cfg_check(cfg, 1)->policy;
    assert_int_equal(a->failure_threshold, 5);
    assert_int_equal(a->success_threshold, 2);
    assert_int_equal(a->retry_attempts, 1);
    assert_int_equal(a->retry_delay_ms, 200);
    assert_int_equal(b->failure_threshold, 5);
    assert_int_equal(b->success_threshold, 4);
    assert_int_equal(b->retry_attempts, 3);
    assert_int_equal(b->retry_delay_ms, 200);
    cfg_free(cfg);
}

/* External labels resolve references (an agent of a DaemonSet names
 * itself); slo_alerts defaults to on. */
static void test_alerting_labels(void **state)
{
    (void)state;
    struct cfg *cfg =
        load_ok(BASE "alerting:\n"
                     "  external_labels: {instance: \"${env:OUTPOST_TEST_TOKEN}:9469\"}\n");
    const struct alerting_spec *a = cfg_alerting(cfg);
    assert_int_equal(a->n_external_labels, 1);
    assert_string_equal(a->external_labels[0].name, "instance");
    assert_string_equal(a->external_labels[0].value, "tok-env:9469");
    assert_true(a->slo_alerts);
    cfg_free(cfg);
    cfg = load_ok(BASE "alerting: {slo_alerts: false}\n");
    assert_false(cfg_alerting(cfg)->slo_alerts);
    cfg_free(cfg);
}

/* ---- errors ---- */

#define A16 "aaaaaaaaaaaaaaaa"
#define NAME_128 A16 A16 A16 A16 A16 A16 A16 A16
#define NAME_64 A16 A16 A16 A16

static const struct err_case err_cases[] = {
    /* Keys. */
    {"unknown top-level key", BASE "bogus: 1\n", {"test.yml:4:1: unknown key \"bogus\""}, 1},
    {"unknown global key",
     "global:\n  intervall: 10s\nchecks: []\n",
     {"test.yml:2:3: global: unknown key \"intervall\""},
     1},
    {"unknown check key",
     BASE "    bogus: 1\n",
     {"test.yml:4:5: checks[0] \"a\": unknown key \"bogus\""},
     1},
    {"unknown expect key",
     BASE "    expect:\n      stauts: 200\n",
     {"test.yml:5:7: checks[0] \"a\".expect: unknown key \"stauts\""},
     1},
    {"unknown tls key",
     BASE "    tls:\n      ca: x\n",
     {"test.yml:5:7: checks[0] \"a\".tls: unknown key \"ca\""},
     1},
    {"unknown basic_auth key",
     BASE "    basic_auth:\n      username: u\n      pass: p\n",
     {"test.yml:6:7: checks[0] \"a\".basic_auth: unknown key \"pass\""},
     1},
    {"unknown json key",
     BASE
     "    expect:\n      json:\n        - path: a\n          exists: true\n          bogus: 1\n",
     {"test.yml:8:11: checks[0] \"a\".expect.json[0]: unknown key \"bogus\""},
     1},
    {"non-scalar key",
     BASE "    ? [a]\n    : b\n",
     {"test.yml:4:7: checks[0] \"a\": keys must be plain names, got a list"},
     1},
    {"duplicate mapping key",
     BASE "    url: http://example.org/\n",
     {"test.yml:4:5: checks[0] \"a\".url: duplicate key"},
     1},
    {"duplicate top-level key", BASE "checks: []\n", {"test.yml:4:1: checks: duplicate key"}, 1},
    {"duplicate header",
     BASE "    headers:\n      X-A: a\n      X-A: b\n",
     {"test.yml:6:7: checks[0] \"a\".headers.X-A: duplicate key"},
     1},
    {"duplicate check names",
     BASE "  - name: a\n    url: http://example.org/\n",
     {"test.yml:4:5: checks[1] \"a\": duplicate check name (first used by checks[0] at line 2)"},
     1},
    {"three checks with one name",
     BASE "  - name: a\n    url: http://example.org/\n"
          "  - name: b\n    url: http://example.org/\n"
          "  - name: a\n    url: http://example.net/\n",
     {"test.yml:4:5: checks[1] \"a\": duplicate check name (first used by checks[0] at line 2)",
      "test.yml:8:5: checks[3] \"a\": duplicate check name (first used by checks[0] at line 2)"},
     2},

    /* Durations. */
    {"bad duration",
     BASE "    interval: 10x\n",
     {"test.yml:4:15: checks[0] \"a\".interval: \"10x\" is not a duration (use e.g. 250ms, 10s, "
      "5m, "
      "1h, 1d)"},
     1},
    {"duration with a space",
     BASE "    interval: 1h 30m\n",
     {"test.yml:4:15: checks[0] \"a\".interval: \"1h 30m\" is not a duration"},
     1},
    {"zero duration",
     BASE "    timeout: 0s\n",
     {"test.yml:4:14: checks[0] \"a\".timeout: duration must be greater than 0"},
     1},
    {"duration is a list",
     BASE "    timeout: [1s]\n",
     {"test.yml:4:14: checks[0] \"a\".timeout: expected a single value, got a list"},
     1},
    {"bad global duration",
     "global:\n  timeout: 5\nchecks: []\n",
     {"test.yml:2:12: global.timeout: \"5\" is not a duration"},
     1},
    {"timeout longer than interval",
     BASE "    interval: 1s\n    timeout: 2s\n",
     {"test.yml:5:14: checks[0] \"a\": timeout (2s) must not be longer than interval (1s)"},
     1},
    {"timeout longer than global interval",
     "global:\n  interval: 1s\n" BASE "    timeout: 2s\n",
     {"test.yml:6:14: checks[0] \"a\": timeout (2s) must not be longer than interval (1s)"},
     1},
    {"interval below 100ms",
     BASE "    interval: 99ms\n",
     {"test.yml:4:15: checks[0] \"a\": interval must be at least 100ms"},
     1},
    {"global interval below 100ms",
     "global:\n  interval: 50ms\n" BASE,
     {"test.yml:4:5: checks[0] \"a\": interval must be at least 100ms"},
     1},
    {"global timeout longer than global interval",
     "global:\n  interval: 10s\n  timeout: 20s\nchecks: []\n",
     {"test.yml:2:3: global: timeout (20s) must not be longer than interval (10s)"},
     1},
    {"global timeout longer than the check interval",
     "global:\n  timeout: 5s\n" BASE "    interval: 2s\n",
     {"test.yml:4:5: checks[0] \"a\": global timeout (5s) is longer than this check's interval "
      "(2s)"},
     1},
    {"max_duration longer than timeout",
     BASE "    timeout: 1s\n    expect:\n      max_duration: 2s\n",
     {"test.yml:2:5: checks[0] \"a\": expect.max_duration (2s) is longer than timeout (1s), it "
      "could never fail"},
     1},

    /* Check fields. */
    {"missing name",
     "checks:\n  - url: http://example.com/\n",
     {"test.yml:2:5: checks[0]: missing key \"name\""},
     1},
    {"missing url",
     "checks:\n  - name: a\n",
     {"test.yml:2:5: checks[0] \"a\": missing key \"url\""},
     1},
    {"empty name",
     "checks:\n  - name: \"\"\n    url: http://example.com/\n",
     {"test.yml:2:5: checks[0]: name must be 1 to 128 bytes without control characters"},
     1},
    {"name too long",
     "checks:\n  - name: " NAME_128 "a\n    url: http://example.com/\n",
     /* The entry's label keeps the first 64 bytes of the name. */
     {"test.yml:2:5: checks[0] \"" NAME_64 "...\": name must be 1 to 128 bytes"},
     1},
    {"name with a control character",
     "checks:\n  - name: \"a\\tb\"\n    url: http://example.com/\n",
     {"test.yml:2:5: checks[0] \"a\\x09b\": name must be 1 to 128 bytes"},
     1},
    {"unsupported type",
     BASE "    type: smtp\n",
     {"test.yml:4:11: checks[0] \"a\".type: unsupported check type \"smtp\" (supported: http, "
      "flow, "
      "tcp, dns, icmp, grpc, browser)"},
     1},
    {"bad method",
     BASE "    method: \"GE T\"\n",
     {"test.yml:4:13: checks[0] \"a\".method: \"GE T\" is not an HTTP method"},
     1},
    {"unparsable url",
     "checks:\n  - name: a\n    url: \"http://exa mple.com/\"\n",
     {"test.yml:3:10: checks[0] \"a\".url: \"http://exa mple.com/\" is not a valid URL: Bad "
      "hostname"},
     1},
    {"relative url",
     "checks:\n  - name: a\n    url: example.com/health\n",
     {"test.yml:3:10: checks[0] \"a\".url: \"example.com/health\" needs a scheme: write "
      "http://example.com/health"},
     1},
    {"ftp url",
     "checks:\n  - name: a\n    url: ftp://example.com/file\n",
     {"test.yml:3:10: checks[0] \"a\".url: the URL's scheme must be http or https, not \"ftp\""},
     1},
    {"bad ip_protocol",
     BASE "    ip_protocol: ip5\n",
     {"test.yml:4:18: checks[0] \"a\".ip_protocol: \"ip5\" is not one of ip4, ip6, auto"},
     1},
    {"bad bool",
     BASE "    follow_redirects: yes\n",
     {"test.yml:4:23: checks[0] \"a\".follow_redirects: expected true or false, got \"yes\""},
     1},
    {"bad tls bool",
     BASE "    tls:\n      insecure_skip_verify: 1\n",
     {"test.yml:5:29: checks[0] \"a\".tls.insecure_skip_verify: expected true or false, got \"1\""},
     1},
    {"headers not a mapping",
     BASE "    headers: [a]\n",
     {"test.yml:4:14: checks[0] \"a\".headers: expected a mapping, got a list"},
     1},
    {"header name with a space",
     BASE "    headers:\n      Bad Name: x\n",
     {"test.yml:5:17: checks[0] \"a\".headers.Bad Name: \"Bad Name\" is not a valid header name"},
     1},
    {"header value with a line break",
     BASE "    headers:\n      X-A: \"a\\r\\nX-B: b\"\n",
     {"test.yml:5:12: checks[0] \"a\".headers.X-A: header value must not contain line breaks"},
     1},
    {"header value is a list",
     BASE "    headers:\n      X-A: [a]\n",
     {"test.yml:5:12: checks[0] \"a\".headers.X-A: expected a single value, got a list"},
     1},
    {"bearer token with a line break",
     BASE "    bearer_token: \"a\\nb\"\n",
     {"test.yml:4:19: checks[0] \"a\".bearer_token: bearer token must not contain line breaks"},
     1},
    {"basic_auth and bearer_token",
     BASE "    basic_auth:\n      username: u\n      password: p\n    bearer_token: t\n",
     {"test.yml:2:5: checks[0] \"a\": use only one of basic_auth, bearer_token and an "
      "Authorization "
      "header"},
     1},
    {"bearer_token and Authorization header",
     BASE "    headers:\n      authorization: Basic eA==\n    bearer_token: t\n",
     {"test.yml:2:5: checks[0] \"a\": use only one of basic_auth, bearer_token"},
     1},
    {"basic_auth without username",
     BASE "    basic_auth:\n      password: p\n",
     {"test.yml:5:7: checks[0] \"a\".basic_auth: missing key \"username\""},
     1},
    /* /dev/null is a device: refused like a FIFO (never opened blocking). */
    {"cert_file without key_file",
     BASE "    tls:\n      cert_file: /dev/null\n",
     {"test.yml:5:18: checks[0] \"a\".tls.cert_file: cannot read /dev/null: not a regular file",
      "test.yml:2:5: checks[0] \"a\": tls.cert_file and tls.key_file go together"},
     2},
    {"key_file without cert_file",
     BASE "    tls:\n      key_file: /dev/null\n",
     {"test.yml:5:17: checks[0] \"a\".tls.key_file: cannot read /dev/null: not a regular file",
      "test.yml:2:5: checks[0] \"a\": tls.cert_file and tls.key_file go together"},
     2},
    {"unreadable ca_file",
     BASE "    tls:\n      ca_file: /nonexistent/outpost-test/ca.pem\n",
     {"test.yml:5:16: checks[0] \"a\".tls.ca_file: cannot read /nonexistent/outpost-test/ca.pem: "
      "No "
      "such file or directory"},
     1},
    {"max_body_bytes fraction",
     BASE "    max_body_bytes: 1.5MiB\n",
     {"test.yml:4:21: checks[0] \"a\".max_body_bytes: \"1.5MiB\" is not a size in bytes (e.g. "
      "1048576 "
      "or 1MiB)"},
     1},
    {"max_body_bytes negative",
     BASE "    max_body_bytes: -1\n",
     {"test.yml:4:21: checks[0] \"a\".max_body_bytes: \"-1\" is not a size in bytes"},
     1},
    {"max_body_bytes unknown unit",
     BASE "    max_body_bytes: 1TiB\n",
     {"test.yml:4:21: checks[0] \"a\".max_body_bytes: \"1TiB\" is not a size in bytes"},
     1},
    {"max_body_bytes zero",
     BASE "    max_body_bytes: 0\n",
     {"test.yml:4:21: checks[0] \"a\".max_body_bytes: size must be between 1 byte and 1GiB"},
     1},
    {"max_body_bytes too large",
     BASE "    max_body_bytes: 2GiB\n",
     {"test.yml:4:21: checks[0] \"a\".max_body_bytes: size must be between 1 byte and 1GiB"},
     1},
    {"max_body_bytes one over the cap",
     BASE "    max_body_bytes: 1073741825\n",
     {"test.yml:4:21: checks[0] \"a\".max_body_bytes: size must be between 1 byte and 1GiB"},
     1},

    /* Expectations. */
    {"expect not a mapping",
     BASE "    expect: 200\n",
     {"test.yml:4:13: checks[0] \"a\".expect: expected a mapping, got a scalar"},
     1},
    {"status 700",
     BASE "    expect:\n      status: 700\n",
     {"test.yml:5:15: checks[0] \"a\".expect.status: \"700\" is not a status code (100-599), a "
      "range "
      "like \"200-299\" or a class like \"2xx\""},
     1},
    {"status 99 in a list",
     BASE "    expect:\n      status: [200, 99]\n",
     {"test.yml:5:21: checks[0] \"a\".expect.status[1]: \"99\" is not a status code"},
     1},
    {"reversed status range",
     BASE "    expect:\n      status: [200, \"299-200\"]\n",
     {"test.yml:5:21: checks[0] \"a\".expect.status[1]: \"299-200\" is not a status code"},
     1},
    {"status class 6xx",
     BASE "    expect:\n      status: 6xx\n",
     {"test.yml:5:15: checks[0] \"a\".expect.status: \"6xx\" is not a status code"},
     1},
    {"status range open",
     BASE "    expect:\n      status: 200-\n",
     {"test.yml:5:15: checks[0] \"a\".expect.status: \"200-\" is not a status code"},
     1},
    {"status empty list",
     BASE "    expect:\n      status: []\n",
     {"test.yml:5:15: checks[0] \"a\".expect.status: needs at least one status code or range"},
     1},
    {"bad regex",
     BASE "    expect:\n      body_matches: \"(\"\n",
     {"test.yml:5:21: checks[0] \"a\".expect.body_matches: bad regular expression at offset 1: "
      "missing closing parenthesis"},
     1},
    {"bad regex in a list",
     BASE "    expect:\n      body_not_matches: [ok, \"a[\"]\n",
     {"test.yml:5:30: checks[0] \"a\".expect.body_not_matches[1]: bad regular expression at offset "
      "2"},
     1},
    {"bad header regex",
     BASE "    expect:\n      headers:\n        X-A: \"*\"\n",
     {"test.yml:6:14: checks[0] \"a\".expect.headers.X-A: bad regular expression at offset 0"},
     1},
    {"bad expected header name",
     BASE "    expect:\n      headers:\n        \"X:A\": a\n",
     {"test.yml:6:16: checks[0] \"a\".expect.headers.X:A: \"X:A\" is not a valid header name"},
     1},
    {"bad json path",
     BASE "    expect:\n      json:\n        - path: a..b\n          exists: true\n",
     {"test.yml:6:17: checks[0] \"a\".expect.json[0].path: \"a..b\" is not a JSON path (use "
      "a.b[0].c)"},
     1},
    {"json with equals and exists",
     BASE
     "    expect:\n      json:\n        - path: a\n          equals: 1\n          exists: true\n",
     {"test.yml:8:19: checks[0] \"a\".expect.json[0].exists: use either equals or exists, not "
      "both"},
     1},
    {"json without operator",
     BASE "    expect:\n      json:\n        - path: a\n",
     {"test.yml:6:11: checks[0] \"a\".expect.json[0]: needs \"equals\" or \"exists\""},
     1},
    {"json without path",
     BASE "    expect:\n      json:\n        - exists: true\n",
     {"test.yml:6:11: checks[0] \"a\".expect.json[0]: missing key \"path\""},
     1},
    {"json exists not a bool",
     BASE "    expect:\n      json:\n        - path: a\n          exists: maybe\n",
     {"test.yml:7:19: checks[0] \"a\".expect.json[0].exists: expected true or false, got "
      "\"maybe\""},
     1},
    {"json not a list",
     BASE "    expect:\n      json:\n        path: a\n",
     {"test.yml:6:9: checks[0] \"a\".expect.json: expected a list, got a mapping"},
     1},

    /* Buckets. */
    {"non-increasing buckets",
     BASE "    histogram_buckets: [0.1, 0.5, 0.5]\n",
     {"test.yml:4:35: checks[0] \"a\".histogram_buckets[2]: bucket bounds must be strictly "
      "increasing"},
     1},
    {"bucket not a number",
     BASE "    histogram_buckets: [0.1, abc]\n",
     {"test.yml:4:30: checks[0] \"a\".histogram_buckets[1]: \"abc\" is not a finite number"},
     1},
    {"infinite bucket",
     BASE "    histogram_buckets: [0.1, inf]\n",
     {"test.yml:4:30: checks[0] \"a\".histogram_buckets[1]: \"inf\" is not a finite number"},
     1},
    {"no buckets",
     BASE "    histogram_buckets: []\n",
     {"test.yml:4:24: checks[0] \"a\".histogram_buckets: needs 1 to 64 bucket bounds"},
     1},
    {"decreasing global buckets",
     "global:\n  histogram_buckets: [1, 0.5]\nchecks: []\n",
     {"test.yml:2:26: global.histogram_buckets[1]: bucket bounds must be strictly increasing"},
     1},

    /* References. */
    {"missing env var",
     "checks:\n  - name: a\n    url: \"${env:OUTPOST_TEST_UNSET}\"\n",
     {"test.yml:3:10: checks[0] \"a\".url: environment variable OUTPOST_TEST_UNSET is not set"},
     1},
    {"missing env var in basic_auth username",
     BASE "    basic_auth:\n      username: ${env:OUTPOST_TEST_UNSET}\n",
     {"test.yml:5:17: checks[0] \"a\".basic_auth.username: environment variable OUTPOST_TEST_UNSET "
      "is "
      "not set"},
     1},
    {"unterminated reference",
     BASE "    body: \"${env:OUTPOST_TEST_TOKEN\"\n",
     {"test.yml:4:11: checks[0] \"a\".body: unterminated \"${\" reference (write \"$${\" for a "
      "literal)"},
     1},
    {"unknown reference",
     BASE "    body: \"${vault:x}\"\n",
     {"test.yml:4:11: checks[0] \"a\".body: unknown reference (use ${env:NAME} or ${file:PATH})"},
     1},
    {"env reference without a name",
     BASE "    body: \"${env:}\"\n",
     {"test.yml:4:11: checks[0] \"a\".body: unknown reference"},
     1},
    {"missing secret file",
     BASE "    body: \"${file:/nonexistent/outpost-test/secret}\"\n",
     {"test.yml:4:11: checks[0] \"a\".body: cannot read /nonexistent/outpost-test/secret: No such "
      "file "
      "or directory"},
     1},

    /* Document shape. */
    {"YAML syntax error",
     "checks:\n  - name: a\n\t- name: b\n",
     {"test.yml:3:1: a tab character: YAML does not allow tabs for indentation; use spaces "
      "(YAML: found a tab character that violates indentation)",
      "    3 | \t- name: b", "      | ^"},
     3},
    {"YAML unclosed flow list",
     "checks: [\n  {name: a, url: \"http://example.com/\"}\n",
     {"test.yml:1:9: this \"[\" is never closed: add \"]\" after the last item (YAML: did not "
      "find expected ',' or ']')",
      "    1 | checks: [", "      |         ^"},
     3},
    {"empty file", "", {"test.yml: the file is empty; it needs at least a \"checks:\" list"}, 1},
    {"comment-only file", "# nothing here\n", {"test.yml: the file is empty"}, 1},
    {"null document", "~\n", {"test.yml: the file is empty"}, 1},
    {"root is a list", "- a\n- b\n", {"test.yml:1:1: expected a mapping, got a list"}, 1},
    {"root is a scalar", "hello\n", {"test.yml:1:1: expected a mapping, got a scalar"}, 1},
    {"global not a mapping",
     "global: 15s\nchecks: []\n",
     {"test.yml:1:9: global: expected a mapping, got a scalar"},
     1},
    {"checks not a list",
     "checks:\n  name: a\n",
     {"test.yml:2:3: checks: expected a list, got a mapping"},
     1},
    {"check is a scalar",
     "checks:\n  - just-a-string\n",
     {"test.yml:2:5: checks[0]: expected a mapping, got a scalar"},
     1},

    /* Alert and retry policy. */
    {"retries that do not fit the interval",
     BASE "    interval: 1s\n    timeout: 400ms\n    retry: {attempts: 2, delay: 100ms}\n",
     {"test.yml:2:5: checks[0] \"a\": retry: 3 attempts of up to 400ms plus 100ms between them do "
      "not "
      "fit in the interval (1s)"},
     1},
    {"too many retries",
     BASE "    retry: {attempts: 11}\n",
     {"test.yml:4:23: checks[0] \"a\".retry.attempts: \"11\" is not a whole number from 0 to 10"},
     1},
    {"failure threshold 0",
     "global:\n  alert: {failure_threshold: 0}\n" BASE,
     {"test.yml:2:30: global.alert.failure_threshold: \"0\" is not a whole number from 1 to "
      "1000000"},
     1},
    {"unknown alert key",
     BASE "    alert: {failures: 2}\n",
     {"test.yml:4:13: checks[0] \"a\".alert: unknown key \"failures\""},
     1},

    /* Alerting. */
    {"Alertmanager listed twice",
     BASE "alerting:\n  alertmanagers: ['http://am:9093/', 'http://am:9093']\n",
     {"test.yml:5:38: alerting.alertmanagers[1]: this Alertmanager is listed twice"},
     1},
    {"resend_interval below 1s",
     BASE "alerting:\n  resend_interval: 10ms\n",
     {"test.yml:5:20: alerting.resend_interval: resend_interval must be at least 1s"},
     1},

    /* Several problems are reported together. */
    {"two bad keys",
     BASE "    bogus1: 1\n    bogus2: 2\n",
     {"test.yml:4:5: checks[0] \"a\": unknown key \"bogus1\"",
      "test.yml:5:5: checks[0] \"a\": unknown key \"bogus2\""},
     2},
    {"errors in several checks",
     "global:\n  bogus: 1\n"
     "checks:\n  - name: a\n    url: http://example.com/\n    interval: 10x\n"
     "  - name: b\n",
     {"test.yml:2:3: global: unknown key \"bogus\"",
      "test.yml:6:15: checks[0] \"a\".interval: \"10x\" is not a duration",
      "test.yml:7:5: checks[1] \"b\": missing key \"url\""},
     3},
};

static void test_errors(void **state)
{
    (void)state;
    int bad = 0;
    for (size_t i = 0; i < ARRAY_SIZE(err_cases); i++)
        bad += run_err_case(&err_cases[i], NULL);
    assert_int_equal(bad, 0);
}

/* The list stops at CFG_MAX_ERRORS lines plus one saying so. */
static void test_too_many_errors(void **state)
{
    (void)state;
    struct buf yaml;
    buf_init(&yaml, ERRS_MAX);
    buf_adds(&yaml, BASE);
    for (int i = 0; i < CFG_MAX_ERRORS + 10; i++)
        buf_addf(&yaml, "    bogus%d: 1\n", i);
    struct err_case tc = {"too many errors",
                          buf_str(&yaml),
                          {"test.yml:4:5: checks[0] \"a\": unknown key \"bogus0\"",
                           "test.yml:53:5: checks[0] \"a\": unknown key \"bogus49\"",
                           "test.yml: too many errors, stopping the list here"},
                          CFG_MAX_ERRORS + 1};
    assert_int_equal(run_err_case(&tc, NULL), 0);
    buf_free(&yaml);
}

/* A load that fails must not reveal a resolved secret (nor a literal
 * password in a URL) in any message. */
static const struct err_case secret_cases[] = {
    {"header value with a line break from env",
     BASE "    headers:\n      X-Api-Key: ${env:OUTPOST_TEST_SECRET_NL}\n",
     {"test.yml:5:18: checks[0] \"a\".headers.X-Api-Key: header value must not contain line "
      "breaks"},
     1},
    {"bearer token with a line break from env",
     BASE "    bearer_token: ${env:OUTPOST_TEST_SECRET_NL}\n",
     {"test.yml:4:19: checks[0] \"a\".bearer_token: bearer token must not contain line breaks"},
     1},
    {"bad url with a password from env",
     "checks:\n  - name: a\n    url: \"http://user:${env:OUTPOST_TEST_SECRET}@exa mple.com/\"\n",
     {"test.yml:3:10: checks[0] \"a\".url: the URL is not valid: Bad hostname\n"},
     1},
    {"bad url with a literal password",
     "checks:\n  - name: a\n    url: \"http://user:" SECRET "@exa mple.com/\"\n",
     {"test.yml:3:10: checks[0] \"a\".url: the URL is not valid: Bad hostname\n"},
     1},
    {"bad url entirely from env",
     "checks:\n  - name: a\n    url: ${env:OUTPOST_TEST_SECRET_URL}\n",
     {"test.yml:3:10: checks[0] \"a\".url: the URL is not valid: Bad hostname\n"},
     1},
    {"ftp url with a password from env",
     "checks:\n  - name: a\n    url: \"ftp://u:${env:OUTPOST_TEST_SECRET}@example.com/\"\n",
     {"test.yml:3:10: checks[0] \"a\".url: the URL's scheme must be http or https\n"},
     1},
    {"ftp url with a literal password",
     "checks:\n  - name: a\n    url: \"ftp://u:" SECRET "@example.com/\"\n",
     {"test.yml:3:10: checks[0] \"a\".url: the URL's scheme must be http or https\n"},
     1},
    {"missing env var after a secret",
     "checks:\n  - name: a\n"
     "    url: \"http://u:${env:OUTPOST_TEST_SECRET}@example.com/${env:OUTPOST_TEST_UNSET}\"\n",
     {"test.yml:3:10: checks[0] \"a\".url: environment variable OUTPOST_TEST_UNSET is not set"},
     1},
    {"unterminated reference after a secret",
     BASE "    body: \"${env:OUTPOST_TEST_SECRET} ${env:X\"\n",
     {"test.yml:4:11: checks[0] \"a\".body: unterminated \"${\" reference"},
     1},
    {"secret password with bearer token",
     BASE "    basic_auth:\n      username: u\n      password: ${env:OUTPOST_TEST_SECRET}\n"
          "    bearer_token: ${env:OUTPOST_TEST_SECRET}\n",
     {"test.yml:2:5: checks[0] \"a\": use only one of basic_auth, bearer_token"},
     1},
    {"secret header with a bad name",
     BASE "    headers:\n      X Key: ${env:OUTPOST_TEST_SECRET}\n",
     {"test.yml:5:14: checks[0] \"a\".headers.X Key: \"X Key\" is not a valid header name"},
     1},
    {"secret url in a duplicate check",
     BASE "  - name: a\n    url: \"http://u:${env:OUTPOST_TEST_SECRET}@example.com/\"\n",
     {"test.yml:4:5: checks[1] \"a\": duplicate check name (first used by checks[0] at line 2)"},
     1},
};

static void test_secrets_never_in_errors(void **state)
{
    (void)state;
    int bad = 0;
    for (size_t i = 0; i < ARRAY_SIZE(secret_cases); i++)
        bad += run_err_case(&secret_cases[i], SECRET);

    /* The same from a ${file:} reference. */
    struct buf yaml;
    buf_init(&yaml, ERRS_MAX);
    buf_addf(&yaml,
             "checks:\n  - name: a\n    url: \"ftp://u:${file:%s}@example.com/\"\n"
             "    headers:\n      X-A: \"${file:%s}\\n\"\n",
             fixture("secret"), fixture("secret"));
    struct err_case tc = {
        "secrets from a file",
        buf_str(&yaml),
        {"test.yml:3:10: checks[0] \"a\".url: the URL's scheme must be http or https\n",
         "test.yml:5:12: checks[0] \"a\".headers.X-A: header value must not contain "
         "line breaks"},
        2};
    bad += run_err_case(&tc, SECRET);
    buf_free(&yaml);
    assert_int_equal(bad, 0);
}

/* Named caps: the largest allowed value loads, one more is an error. */
static void test_limits(void **state)
{
    (void)state;
    struct buf yaml, want;
    buf_init(&yaml, ERRS_MAX);
    buf_init(&want, ERRS_MAX);

    /* Check names up to CFG_MAX_NAME_BYTES. */
    struct cfg *cfg = load_ok("checks:\n  - name: " NAME_128 "\n    url: http://example.com/\n");
    assert_int_equal(strlen(only_check(cfg)->name), CFG_MAX_NAME_BYTES);
    cfg_free(cfg);

    /* Up to CFG_MAX_BUCKETS histogram buckets. */
    for (int n = CFG_MAX_BUCKETS; n <= CFG_MAX_BUCKETS + 1; n++) {
        buf_reset(&yaml);
        buf_adds(&yaml, BASE "    histogram_buckets:\n");
        for (int i = 1; i <= n; i++)
            buf_addf(&yaml, "      - %d\n", i);
        if (n == CFG_MAX_BUCKETS) {
            cfg = load_ok(buf_str(&yaml));
            assert_int_equal(only_check(cfg)->n_buckets, CFG_MAX_BUCKETS);
            assert_true(only_check(cfg)->buckets[CFG_MAX_BUCKETS - 1] == CFG_MAX_BUCKETS);
            cfg_free(cfg);
        } else {
            struct err_case tc = {
                "65 buckets",
                buf_str(&yaml),
                {"test.yml:5:7: checks[0] \"a\".histogram_buckets: needs 1 to 64 bucket bounds"},
                1};
            assert_int_equal(run_err_case(&tc, NULL), 0);
        }
    }

    /* ${file:} contents up to CFG_MAX_SECRET_FILE_BYTES. */
    char big[512];
    snprintf(big, sizeof(big), "%s", fixture("big"));
    for (size_t size = CFG_MAX_SECRET_FILE_BYTES; size <= CFG_MAX_SECRET_FILE_BYTES + 1; size++) {
        FILE *f = fopen(big, "wb");
        assert_non_null(f);
        for (size_t i = 0; i < size; i++)
            fputc('x', f);
        assert_int_equal(fclose(f), 0);
        buf_reset(&yaml);
        buf_addf(&yaml, BASE "    body: \"${file:%s}\"\n", big);
        if (size == CFG_MAX_SECRET_FILE_BYTES) {
            cfg = load_ok(buf_str(&yaml));
            assert_int_equal(strlen(H(only_check(cfg))->body), CFG_MAX_SECRET_FILE_BYTES);
            cfg_free(cfg);
        } else {
            buf_reset(&want);
            buf_addf(&want, "test.yml:4:11: checks[0] \"a\".body: %s is larger than 65536 bytes",
                     big);
            struct err_case tc = {"big secret file", buf_str(&yaml), {buf_str(&want)}, 1};
            assert_int_equal(run_err_case(&tc, NULL), 0);
        }
    }
    unlink(big);
    buf_free(&yaml);
    buf_free(&want);
}

/* ---- cfg_load_file ---- */

static void test_load_file(void **state)
{
    (void)state;
    struct cfg *cfg = NULL;
    struct buf errs;
    buf_init(&errs, ERRS_MAX);
    char path[512];

    snprintf(path, sizeof(path), "%s", fixture("good.yml"));
    assert_int_equal(cfg_load_file(path, &cfg, &errs), OP_OK);
    assert_non_null(cfg);
    assert_string_equal(buf_str(&errs), "");
    assert_string_equal(cfg_source(cfg), path);
    assert_string_equal(only_check(cfg)->name, "a");
    cfg_free(cfg);
    cfg = NULL;

    /* Errors name the file by its path. */
    snprintf(path, sizeof(path), "%s", fixture("bad.yml"));
    assert_int_equal(cfg_load_file(path, &cfg, &errs), OP_ERR_INVALID);
    assert_null(cfg);
    struct buf want;
    buf_init(&want, ERRS_MAX);
    buf_addf(&want, "%s:1:1: unknown key \"bogus\"\n", path);
    assert_string_equal(buf_str(&errs), buf_str(&want));
    buf_reset(&errs);
    buf_reset(&want);

    snprintf(path, sizeof(path), "%s", fixture("missing.yml"));
    assert_int_equal(cfg_load_file(path, &cfg, &errs), OP_ERR_IO);
    assert_null(cfg);
    buf_addf(&want, "%s: cannot open: No such file or directory\n", path);
    assert_string_equal(buf_str(&errs), buf_str(&want));

    buf_free(&want);
    buf_free(&errs);
}

/* Errors are appended: earlier content of the buffer is kept. */
static void test_errors_append(void **state)
{
    (void)state;
    struct buf errs;
    buf_init(&errs, ERRS_MAX);
    buf_adds(&errs, "earlier\n");
    struct cfg *cfg = NULL;
    const char *text = "bogus: 1\n";
    assert_int_equal(cfg_load_string(text, strlen(text), "x.yml", &cfg, &errs), OP_ERR_INVALID);
    assert_null(cfg);
    assert_string_equal(buf_str(&errs), "earlier\nx.yml:1:1: unknown key \"bogus\"\n");
    buf_free(&errs);
}

/* Only len bytes are read: the text need not be NUL-terminated there. */
static void test_load_string_len(void **state)
{
    (void)state;
    const char *text = BASE "bogus: 1\n";
    struct cfg *cfg = NULL;
    struct buf errs;
    buf_init(&errs, ERRS_MAX);
    assert_int_equal(cfg_load_string(text, strlen(BASE), "test.yml", &cfg, &errs), OP_OK);
    assert_string_equal(buf_str(&errs), "");
    assert_int_equal(cfg_check_count(cfg), 1);
    cfg_free(cfg);
    buf_free(&errs);
    cfg_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_duration_valid),   cmocka_unit_test(test_duration_invalid),
        cmocka_unit_test(test_status_ok),        cmocka_unit_test(test_minimal_defaults),
        cmocka_unit_test(test_no_checks),        cmocka_unit_test(test_global_overrides),
        cmocka_unit_test(test_implicit_timeout), cmocka_unit_test(test_every_field),
        cmocka_unit_test(test_target),           cmocka_unit_test(test_sizes),
        cmocka_unit_test(test_status_forms),     cmocka_unit_test(test_json_paths),
        cmocka_unit_test(test_references),       cmocka_unit_test(test_errors),
        cmocka_unit_test(test_too_many_errors),  cmocka_unit_test(test_secrets_never_in_errors),
        cmocka_unit_test(test_limits),           cmocka_unit_test(test_load_file),
        cmocka_unit_test(test_errors_append),    cmocka_unit_test(test_load_string_len),
        cmocka_unit_test(test_slo_objective),    cmocka_unit_test(test_check_policy),
        cmocka_unit_test(test_alerting_labels),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
