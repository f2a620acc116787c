/*
 * test_flow_config.c - the `flow` type's settings and captures
 * (flow_config.c, flow_capture.c) and its run's plan (flow_plan): where a
 * ${capture:NAME} may be used (config errors name file:line:col), what a
 * capture takes from a response (a JSON path, a header, a regex group;
 * missing, over the cap, a NUL byte), how values are substituted (raw,
 * special characters included), how texts are masked, and which step runs
 * after a failure, when a capture is missing or when time is up.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "buf.h"
#include "cfg_yaml.h"
#include "config.h"
#include "flow_check.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- loading ---- */

static struct cfg *load(const char *yaml)
{
    struct buf err;
    buf_init(&err, 1u << 16);
    struct cfg *c = NULL;
    if (cfg_load_string(yaml, strlen(yaml), "flow.yml", &c, &err) != OP_OK)
        fail_msg("config: %s", buf_str(&err));
    buf_free(&err);
    return c;
}

/* The errors of a config that must not load (caller frees). */
static char *errors_of(const char *yaml)
{
    struct buf err;
    buf_init(&err, 1u << 16);
    struct cfg *c = NULL;
    assert_int_equal(cfg_load_string(yaml, strlen(yaml), "flow.yml", &c, &err), OP_ERR_INVALID);
    assert_null(c);
    return buf_take(&err);
}

static const struct flow_spec *flow0(const struct cfg *c)
{
    const struct check_spec *cs = cfg_check(c, 0);
    assert_ptr_equal(cs->type, &flow_schema);
    return flow_spec_of(cs);
}

#define HEAD "checks:\n  - name: f\n    type: flow\n    timeout: 5s\n    steps:\n"

/* ---- the settings ---- */

static void test_settings(void **state)
{
    (void)state;
    struct cfg *c = load(HEAD "      - name: login\n"
                              "        method: POST\n"
                              "        url: http://127.0.0.1:1/login\n"
                              "        body: '{\"u\":\"p\"}'\n"
                              "        timeout: 2s\n"
                              "        capture:\n"
                              "          token: {json: data.token}\n"
                              "          sid: {header: X-Session}\n"
                              "          csrf: {regex: 'csrf=(\\w+)'}\n"
                              "          cookie: {header: Set-Cookie, regex: 'id=([0-9]+)'}\n"
                              "      - name: use\n"
                              "        url: http://127.0.0.1:1/o/${capture:sid}?c=${capture:csrf}\n"
                              "        headers: {Authorization: 'Bearer ${capture:token}'}\n"
                              "        reuse_connection: false\n"
                              "        expect: {json: [{path: a, equals: b}]}\n"
                              "      - name: out\n"
                              "        url: http://127.0.0.1:1/logout\n"
                              "        body: 'c=${capture:cookie}'\n"
                              "        always_run: true\n"
                              "    reuse_connection: true\n");
    const struct check_spec *cs = cfg_check(c, 0);
    const struct flow_spec *f = flow0(c);
    assert_string_equal(cs->target, "http://127.0.0.1:1/login");
    assert_int_equal(f->n_steps, 3);
    assert_int_equal(f->n_captures, 4);
    assert_string_equal(f->capture_names[0], "token");
    assert_string_equal(f->capture_names[3], "cookie");
    const struct flow_step *s = f->steps;
    assert_string_equal(s[0].http.name, "login");
    assert_int_equal(s[0].http.timeout_ms, 2000);
    assert_int_equal(s[1].http.timeout_ms, 5000); /* the flow's */
    assert_string_equal(s[1].http.target, "http://127.0.0.1:1/o/${capture:sid}");
    assert_int_equal(s[0].n_captures, 4);
    assert_int_equal(s[0].captures[0].from, FLOW_FROM_JSON);
    assert_int_equal(s[0].captures[1].from, FLOW_FROM_HEADER);
    assert_int_equal(s[0].captures[2].from, FLOW_FROM_BODY);
    assert_int_equal(s[0].captures[3].from, FLOW_FROM_HEADER_RE);
    assert_int_equal(s[0].needs, 0);
    assert_int_equal(s[1].needs, 0x7); /* token, sid, csrf */
    assert_int_equal(s[2].needs, 0x8); /* cookie */
    assert_false(s[0].always_run);
    assert_true(s[2].always_run);
    /* The flow's reuse_connection is every step's default; a step's own wins. */
    assert_true(s[0].reuse_connection);
    assert_false(s[1].reuse_connection);
    assert_true(s[2].reuse_connection);
    assert_true(f->any_reuse);
    /* Texts of a step never show a response's value. */
    assert_true(http_spec_of(&s[1].http)->expect.json[0].quiet);
    /* Templates: markers where the captures go, the rest as written. */
    const char *url = http_spec_of(&s[1].http)->url;
    assert_true(flow_is_template(url));
    assert_false(flow_is_template(http_spec_of(&s[0].http)->url));
    char *sample = cfg_capture_sample(url);
    assert_string_equal(sample, "http://127.0.0.1:1/o/capture?c=capture");
    free(sample);
    cfg_free(c);
}

/* Each problem at its own line and column, with what is wrong. */
static void test_config_errors(void **state)
{
    (void)state;
    static const struct {
        const char *yaml;
        const char *want;
    } cases[] = {
        /* Undefined, forward, same step. */
        {HEAD "      - name: a\n        url: http://h/${capture:nope}\n",
         "flow.yml:7:14: checks[0] \"f\".steps[0] \"a\".url: capture \"nope\" is not defined: no "
         "step "
         "captures it\n"},
        {HEAD "      - name: a\n        url: http://h/\n        headers: {A: '${capture:t}'}\n"
              "      - name: b\n        url: http://h/\n        capture: {t: {header: T}}\n",
         "flow.yml:8:22: checks[0] \"f\".steps[0] \"a\".headers.A: capture \"t\" is taken by a "
         "later step "
         "(steps[1] \"b\"): a step can use only what earlier steps captured\n"},
        {HEAD "      - name: a\n        url: http://h/\n        body: '${capture:t}'\n"
              "        capture: {t: {header: T}}\n",
         "flow.yml:8:15: checks[0] \"f\".steps[0] \"a\".body: capture \"t\" is taken by this step "
         "itself: "
         "a step can use only what earlier steps captured\n"},
        /* Only url, headers and body substitute; a plain http check never. */
        {HEAD "      - name: a\n        url: http://h/\n        capture: {t: {header: T}}\n"
              "      - name: b\n        url: http://h/\n        bearer_token: '${capture:t}'\n",
         "flow.yml:11:23: checks[0] \"f\".steps[1] \"b\".bearer_token: a ${capture:NAME} reference "
         "is only "
         "substituted in the url, headers and body of a flow's step\n"},
        {"checks:\n  - name: h\n    url: http://h/${capture:t}\n",
         "flow.yml:3:10: checks[0] \"h\".url: a ${capture:NAME} reference is only substituted in "
         "the "
         "url, headers and body of a flow's step\n"},
        {HEAD "      - name: a\n        url: http://h/\n        capture: {t: {header: T}}\n"
              "      - name: b\n        url: http://h/\n        expect: {body_matches: "
              "'${capture:t}'}\n",
         "flow.yml:9:9: checks[0] \"f\".steps[1] \"b\": expect is matched as written: "
         "${capture:NAME} is "
         "substituted only in url, headers and body\n"},
        /* A capture without a step: on the flow, or on an http check. */
        {HEAD "      - name: a\n        url: http://h/\n    capture: {t: {header: T}}\n",
         "flow.yml:8:14: checks[0] \"f\".capture: capture is a key of each step of a flow "
         "(steps[].capture), not of the flow\n"},
        {HEAD "      - name: a\n        url: http://h/\n    url: http://h/\n",
         "flow.yml:8:10: checks[0] \"f\".url: url is a key of each step of a flow (steps[].url), "
         "not "
         "of the flow\n"},
        {"checks:\n  - name: h\n    url: http://h/\n    capture: {t: {header: T}}\n",
         "flow.yml:4:5: checks[0] \"h\": unknown key \"capture\"\n"},
        /* Bad kinds. */
        {HEAD "      - name: a\n        url: http://h/\n        capture: {t: {xml: a}}\n",
         "flow.yml:8:23: checks[0] \"f\".steps[0] \"a\".capture.t: unknown key \"xml\"\n"
         "flow.yml:8:22: checks[0] \"f\".steps[0] \"a\".capture.t: needs one of json, header or "
         "regex\n"},
        {HEAD "      - name: a\n        url: http://h/\n        capture: {t: {json: a, regex: "
              "'(x)'}}\n",
         "flow.yml:8:22: checks[0] \"f\".steps[0] \"a\".capture.t: json takes the value from the "
         "body as "
         "JSON: it goes alone\n"},
        {HEAD "      - name: a\n        url: http://h/\n        capture: {t: {regex: 'a(b)(c)'}}\n",
         "flow.yml:8:30: checks[0] \"f\".steps[0] \"a\".capture.t.regex: a capture's regex needs "
         "exactly one "
         "group, the value, like 'sid=(\\w+)' (it has 2; write (?:...) for a group that is not "
         "the value)\n"},
        {HEAD "      - name: a\n        url: http://h/\n        capture: {t: {json: 'a..b'}}\n",
         "flow.yml:8:29: checks[0] \"f\".steps[0] \"a\".capture.t.json: \"a..b\" is not a JSON "
         "path (use "
         "a.b[0].c)\n"},
        {HEAD "      - name: a\n        url: http://h/\n        capture: {t: {header: 'a b'}}\n",
         "flow.yml:8:31: checks[0] \"f\".steps[0] \"a\".capture.t.header: \"a b\" is not a valid "
         "header "
         "name\n"},
        {HEAD "      - name: a\n        url: http://h/\n        capture: {1t: {header: T}}\n",
         "flow.yml:8:23: checks[0] \"f\".steps[0] \"a\".capture.1t: \"1t\" is not a capture name "
         "(1 to 64 "
         "letters, digits and _, not starting with a digit)\n"},
        {HEAD "      - name: a\n        url: http://h/\n        capture: {t: {header: T}}\n"
              "      - name: b\n        url: http://h/\n        capture: {t: {header: U}}\n",
         "flow.yml:11:22: checks[0] \"f\".steps[1] \"b\".capture.t: capture \"t\" is already taken "
         "by "
         "steps[0] \"a\"\n"},
        /* Steps: names, timeouts, interval, count. */
        {HEAD "      - url: http://h/\n",
         "flow.yml:6:9: checks[0] \"f\".steps[0]: missing key \"name\"\n"},
        {HEAD "      - name: a\n        url: http://h/\n      - name: a\n        url: http://h/\n",
         "flow.yml:8:9: checks[0] \"f\".steps[1] \"a\": step name \"a\" is used by steps[0] too: "
         "names are "
         "unique within a flow\n"},
        {HEAD "      - name: a\n        url: http://h/\n        timeout: 6s\n",
         "flow.yml:8:18: checks[0] \"f\".steps[0] \"a\": a step's timeout (6s) must not be longer "
         "than the flow's (5s)\n"},
        {HEAD "      - name: a\n        url: http://h/\n        interval: 1s\n",
         "flow.yml:8:19: checks[0] \"f\".steps[0] \"a\".interval: a step has no interval: the "
         "flow's "
         "interval schedules all its steps\n"},
        {HEAD "      - name: a\n",
         "flow.yml:6:9: checks[0] \"f\".steps[0] \"a\": missing key \"url\"\n"},
        {"checks:\n  - name: f\n    type: flow\n",
         "flow.yml:2:5: checks[0] \"f\": missing key \"steps\"\n"},
        {"checks:\n  - name: f\n    type: flow\n    steps: []\n",
         "flow.yml:4:12: checks[0] \"f\".steps: a flow needs 1 to 64 steps\n"},
        {HEAD "      - name: a\n        url: http://h/\n        methd: GET\n",
         "flow.yml:8:9: checks[0] \"f\".steps[0] \"a\": unknown key \"methd\" (did you mean "
         "\"method\"?)\n"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        char *got = errors_of(cases[i].yaml);
        if (strcmp(got, cases[i].want) != 0)
            fail_msg("case %zu:\n got: %s\nwant: %s", i, got, cases[i].want);
        free(got);
    }
}

/* ---- captures ---- */

/* Step 0's captures of a flow loaded from the capture map `caps`. */
static struct cfg *with_captures(const char *caps)
{
    char yaml[2048];
    snprintf(yaml, sizeof(yaml),
             HEAD "      - name: a\n        url: http://h/\n        capture: %s\n", caps);
    return load(yaml);
}

static const struct flow_capture *cap_of(const struct cfg *c, size_t k)
{
    return &flow0(c)->steps[0].captures[k];
}

struct take_case {
    size_t cap;
    const char *body, *headers;
    const char *want;   /* the value, or NULL */
    const char *detail; /* when it fails */
};

static void run_takes(const struct cfg *c, const struct take_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct take_case *t = &cases[i];
        struct http_response r = {t->headers ? t->headers : "", t->headers ? strlen(t->headers) : 0,
                                  t->body ? t->body : "", t->body ? strlen(t->body) : 0};
        struct flow_value v = {0};
        char detail[CHECK_DETAIL_MAX] = "x";
        enum check_reason why =
            flow_capture_take(cap_of(c, t->cap), &r, &v, detail, sizeof(detail));
        if (t->want) {
            if (why != CHECK_REASON_NONE)
                fail_msg("case %zu: %s", i, detail);
            assert_string_equal(v.v, t->want);
            assert_int_equal(v.len, strlen(t->want));
        } else {
            assert_int_equal(why, CHECK_REASON_CAPTURE);
            assert_null(v.v);
            if (strcmp(detail, t->detail) != 0)
                fail_msg("case %zu: got \"%s\", want \"%s\"", i, detail, t->detail);
        }
        flow_value_clear(&v);
    }
}

static void test_capture_json(void **state)
{
    (void)state;
    struct cfg *c =
        with_captures("{s: {json: data.token}, n: {json: 'items[1].id'}, o: {json: data}, "
                      "e: {json: empty}}");
    static const char doc[] =
        "{\"data\":{\"token\":\"tok-\\u00e9 \\\"x\\\"\"},\"items\":[{\"id\":1},"
        "{\"id\":42.5}],\"empty\":\"\"}";
    const struct take_case cases[] = {
        {0, doc, NULL, "tok-\xc3\xa9 \"x\"", NULL}, /* a string: its text */
        {1, doc, NULL, "42.5", NULL},               /* a number: as JSON */
        {2, doc, NULL, "{\"token\":\"tok-\xc3\xa9 \\\"x\\\"\"}", NULL},
        {3, doc, NULL, "", NULL}, /* an empty string is a value */
        {0, "{\"data\":{}}", NULL, NULL, "capture s: json data.token missing"},
        {0, "<html>", NULL, NULL, "capture s: body is not JSON"},
        {0, "{\"data\":{\"token\":\"a\\u0000b\"}}", NULL, NULL,
         "capture s: the value holds a NUL byte"},
    };
    run_takes(c, cases, ARRAY_SIZE(cases));
    cfg_free(c);
}

static void test_capture_header_and_regex(void **state)
{
    (void)state;
    struct cfg *c = with_captures("{h: {header: x-session-id}, sid: {header: Set-Cookie, regex: "
                                  "'sid=(\\w+)'}, b: {regex: 'csrf\" value=\"([^\"]*)\"'}, "
                                  "slow: {regex: '(a+)+$'}}");
    static const char hdrs[] = "HTTP/1.1 200 OK\r\nX-Session-Id:  s-123 \r\n"
                               "Set-Cookie: a=1; Path=/\r\nSet-Cookie: sid=zz9; Path=/\r\n\r\n";
    char slow_body[40002];
    memset(slow_body, 'a', 40000);
    slow_body[40000] = 'b';
    slow_body[40001] = '\0';
    const struct take_case cases[] = {
        {0, NULL, hdrs, "s-123", NULL}, /* trimmed; names ignore case */
        {1, NULL, hdrs, "zz9", NULL},   /* the first value that matches */
        {2, "<input name=\"csrf\" value=\"q&w e\">", NULL, "q&w e", NULL},
        {0, NULL, "HTTP/1.1 200 OK\r\n\r\n", NULL, "capture h: header x-session-id: missing"},
        {1, NULL, "HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\n\r\n", NULL,
         "capture sid: header Set-Cookie: no value matched /sid=(\\w+)/"},
        {2, "nothing", NULL, NULL, "capture b: body did not match /csrf\" value=\"([^\"]*)\"/"},
        /* A pattern that hits the PCRE2 limits fails, bounded. */
        {3, slow_body, NULL, NULL,
         "capture slow: body /(a+)+$/: regex match limit hit (pattern too costly for this body)"},
    };
    run_takes(c, cases, ARRAY_SIZE(cases));
    cfg_free(c);
}

/* Every capture holds at most FLOW_MAX_CAPTURE_BYTES: one byte more fails
 * with reason capture, from any source. */
static void test_capture_size_cap(void **state)
{
    (void)state;
    struct cfg *c = with_captures("{j: {json: t}, h: {header: X-T}, r: {regex: 't=(x*)'}}");
    size_t big = FLOW_MAX_CAPTURE_BYTES + 1;
    char *x = malloc(big + 1);
    memset(x, 'x', big);
    x[big] = '\0';
    for (size_t len = FLOW_MAX_CAPTURE_BYTES; len <= big; len++) {
        x[len] = '\0';
        char *body = malloc(len + 32), *hdr = malloc(len + 64);
        snprintf(body, len + 32, "{\"t\":\"%s\"}", x);
        snprintf(hdr, len + 64, "HTTP/1.1 200 OK\r\nX-T: %s\r\n\r\n", x);
        char rbody[FLOW_MAX_CAPTURE_BYTES + 16];
        snprintf(rbody, sizeof(rbody), "t=%s", x);
        bool fits = len == FLOW_MAX_CAPTURE_BYTES;
        const struct take_case cases[] = {
            {0, body, NULL, fits ? x : NULL, "capture j: 4097 bytes, more than 4096"},
            {1, NULL, hdr, fits ? x : NULL, "capture h: 4097 bytes, more than 4096"},
            {2, rbody, NULL, fits ? x : NULL, "capture r: 4097 bytes, more than 4096"},
        };
        run_takes(c, cases, ARRAY_SIZE(cases));
        free(body);
        free(hdr);
        x[len] = 'x';
    }
    free(x);
    cfg_free(c);
}

/* ---- substitution ---- */

static void test_subst(void **state)
{
    (void)state;
    setenv("FLOW_TEST_ENV", "e\x01${capture:t}", 1);
    struct cfg *c =
        load(HEAD "      - name: a\n        url: http://h/\n"
                  "        capture: {t: {header: T}, u: {header: U}}\n"
                  "      - name: b\n"
                  "        url: http://h/p/${capture:t}?q=${capture:u}&r=1\n"
                  "        headers: {X-A: '${capture:t}-$${capture:t}-${env:FLOW_TEST_ENV}'}\n"
                  "        body: '{\"t\":\"${capture:t}\",\"u\":\"${capture:u}\"}'\n");
    const struct http_spec *hs = http_spec_of(&flow0(c)->steps[1].http);
    /* Special characters go in raw: nothing is encoded or escaped. */
    struct flow_value v[2] = {{strdup("a b&c=d/%41\"\\\xc3\xa9${x}"), 0}, {strdup("?#"), 0}};
    v[0].len = strlen(v[0].v);
    v[1].len = strlen(v[1].v);
    char *out = NULL;
    size_t missing = 7;
    assert_int_equal(flow_subst(hs->url, v, 2, &out, &missing), OP_OK);
    assert_string_equal(out, "http://h/p/a b&c=d/%41\"\\\xc3\xa9${x}?q=?#&r=1");
    flow_wipe_free(out);
    /* A literal "$${" stays "${", an environment value stays itself (a
     * mark byte in it too), and neither is a capture. */
    assert_int_equal(flow_subst(hs->headers[0].value, v, 2, &out, &missing), OP_OK);
    assert_string_equal(out, "a b&c=d/%41\"\\\xc3\xa9${x}-${capture:t}-e\x01${capture:t}");
    flow_wipe_free(out);
    assert_int_equal(flow_subst(hs->body, v, 2, &out, &missing), OP_OK);
    assert_string_equal(out, "{\"t\":\"a b&c=d/%41\"\\\xc3\xa9${x}\",\"u\":\"?#\"}");
    flow_wipe_free(out);
    /* A value not taken. */
    flow_value_clear(&v[1]);
    assert_int_equal(flow_subst(hs->url, v, 2, &out, &missing), OP_ERR_NOT_FOUND);
    assert_int_equal(missing, 1);
    flow_value_clear(&v[0]);
    cfg_free(c);
    unsetenv("FLOW_TEST_ENV");
}

static void test_redact(void **state)
{
    (void)state;
    char *names[] = {"token", "id"};
    struct flow_value v[2] = {{strdup("s3cr3t"), 6}, {strdup("42"), 2}};
    char d[CHECK_DETAIL_MAX] = "tls: host s3cr3t.example: s3cr3t, id 42";
    flow_redact(d, sizeof(d), v, 2, names);
    /* Values under FLOW_REDACT_MIN_BYTES stay: "42" is not worth a mask. */
    assert_string_equal(d, "tls: host <capture:token>.example: <capture:token>, id 42");
    /* Cut like any detail when the masks make it longer. */
    char small[24] = "s3cr3t s3cr3t";
    flow_redact(small, sizeof(small), v, 2, names);
    assert_string_equal(small, "<capture:token> <cap...");
    flow_value_clear(&v[0]);
    flow_value_clear(&v[1]);
}

/* ---- the plan ---- */

static void test_plan(void **state)
{
    (void)state;
    struct cfg *c = load(HEAD "      - {name: a, url: 'http://h/', capture: {t: {header: T}}}\n"
                              "      - {name: b, url: 'http://h/${capture:t}'}\n"
                              "      - {name: c, url: 'http://h/${capture:t}', always_run: true}\n"
                              "      - {name: d, url: 'http://h/', always_run: true}\n");
    const struct flow_spec *f = flow0(c);
    static const struct {
        size_t step;
        bool failed;
        uint64_t taken;
        bool time_up;
        enum flow_next want;
    } cases[] = {
        {1, false, 1, false, FLOW_RUN},
        {1, true, 1, false, FLOW_SKIP_FAILED},  /* not always_run */
        {1, true, 0, true, FLOW_SKIP_FAILED},   /* whatever else holds */
        {2, true, 1, false, FLOW_RUN},          /* clean-up runs after a failure */
        {2, true, 0, false, FLOW_SKIP_CAPTURE}, /* ... not without its capture */
        {3, true, 0, false, FLOW_RUN},
        {3, true, 0, true, FLOW_SKIP_TIME}, /* time is up for clean-up too */
        {1, false, 1, true, FLOW_TIMED_OUT},
        {3, false, 1, true, FLOW_TIMED_OUT},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
        assert_int_equal(
            flow_plan(f, cases[i].step, cases[i].failed, cases[i].taken, cases[i].time_up),
            cases[i].want);
    cfg_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_settings),         cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_capture_json),     cmocka_unit_test(test_capture_header_and_regex),
        cmocka_unit_test(test_capture_size_cap), cmocka_unit_test(test_subst),
        cmocka_unit_test(test_redact),           cmocka_unit_test(test_plan),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
