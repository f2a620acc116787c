/*
 * test_log.c - unit tests for the logger (log.c): exact logfmt and JSON
 * records (the timestamp checked for shape only), quoting, level filtering,
 * log_lines, and records longer than LOG_MAX_RECORD_BYTES, which must come
 * out as a complete short record, never a cut one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "log.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

/* The logger writes into an in-memory stream; each test reads what it got. */
struct capture {
    FILE *f;
    char *text;
    size_t len;
    enum log_level level;
    enum log_format format;
};

static struct capture g_cap;

static void cap_start(void)
{
    g_cap.text = NULL;
    g_cap.len = 0;
    g_cap.f = open_memstream(&g_cap.text, &g_cap.len);
    assert_non_null(g_cap.f);
    log_setup(g_cap.level, g_cap.format, g_cap.f);
}

static void cap_stop(void)
{
    log_setup(LOG_LVL_INFO, LOG_FMT_LOGFMT, NULL);
    fclose(g_cap.f);
    free(g_cap.text);
    g_cap.f = NULL;
    g_cap.text = NULL;
}

static int cap_open(void **state)
{
    (void)state;
    g_cap.level = LOG_LVL_DEBUG;
    g_cap.format = LOG_FMT_LOGFMT;
    cap_start();
    return 0;
}

static int cap_close(void **state)
{
    (void)state;
    cap_stop();
    return 0;
}

/* Log from now on at this level and format, into an empty capture. */
static void cap_setup(enum log_level level, enum log_format format)
{
    cap_stop();
    g_cap.level = level;
    g_cap.format = format;
    cap_start();
}

/* Everything logged so far (the logger flushes after every record). */
static const char *captured(void)
{
    fflush(g_cap.f);
    return g_cap.text ? g_cap.text : "";
}

static void clear_capture(void)
{
    cap_setup(g_cap.level, g_cap.format);
}

/* True when s[0..24) is a UTC timestamp like 2024-05-01T12:34:56.789Z. */
static bool is_ts(const char *s)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddZ";
    for (size_t i = 0; i < sizeof(shape) - 1; i++) {
        if (shape[i] == 'd' ? !isdigit((unsigned char)s[i]) : s[i] != shape[i])
            return false;
    }
    return true;
}

/* The line with its timestamp replaced by TS, so the rest compares exactly.
 * Fails the test when the line does not start with a well-formed one. */
static char *mask_ts(const char *line, size_t len, bool json)
{
    const char *prefix = json ? "{\"ts\":\"" : "ts=";
    size_t pl = strlen(prefix);
    if (len < pl + 24 || strncmp(line, prefix, pl) != 0 || !is_ts(line + pl))
        fail_msg("no timestamp at the start of: %.*s", (int)len, line);
    size_t n = len - 24 + 2;
    char *out = malloc(n + 1);
    assert_non_null(out);
    memcpy(out, line, pl);
    memcpy(out + pl, "TS", 2);
    memcpy(out + pl + 2, line + pl + 24, len - pl - 24);
    out[n] = '\0';
    return out;
}

/* Compare the captured output, line by line, with want (TS for each ts). */
static void expect_lines(const char *want, bool json)
{
    const char *got = captured();
    struct {
        char *text;
        size_t len;
    } masked = {NULL, 0};
    FILE *m = open_memstream(&masked.text, &masked.len);
    assert_non_null(m);
    for (const char *p = got; *p;) {
        const char *nl = strchr(p, '\n');
        if (!nl)
            fail_msg("output does not end in a newline: %s", p);
        char *line = mask_ts(p, (size_t)(nl - p), json);
        fprintf(m, "%s\n", line);
        free(line);
        p = nl + 1;
    }
    fclose(m);
    assert_string_equal(masked.text, want);
    free(masked.text);
}

static void test_logfmt_exact(void **state)
{
    (void)state;
    log_info("agent started", "version", "1.2.3", "listen", ":9469");
    log_warn("x");
    log_error("probe failed", "err", NULL);
    log_debug("dbg", "k", "v");
    expect_lines("ts=TS level=info msg=\"agent started\" version=1.2.3 listen=:9469\n"
                 "ts=TS level=warn msg=x\n"
                 "ts=TS level=error msg=\"probe failed\" err=\"\"\n"
                 "ts=TS level=debug msg=dbg k=v\n",
                 false);
}

/* logfmt quotes a value only when it must: empty, space or control
 * characters, '=', '"', '\\' or DEL; the quoted form is a JSON string. */
static void test_logfmt_quoting(void **state)
{
    (void)state;
    static const struct {
        const char *value, *want;
    } cases[] = {
        {"plain", "plain"},
        {"", "\"\""},
        {"a b", "\"a b\""},
        {"a=b", "\"a=b\""},
        {"say \"hi\"", "\"say \\\"hi\\\"\""},
        {"a\\b", "\"a\\\\b\""},
        {"a\nb", "\"a\\nb\""},
        {"a\tb", "\"a\\tb\""},
        {"a\rb", "\"a\\rb\""},
        {"\x01", "\"\\u0001\""},
        {"\x1f", "\"\\u001f\""},
        {"del\x7f", "\"del\x7f\""},
        {"h\xc3\xa9llo", "h\xc3\xa9llo"}, /* UTF-8 passes through unquoted */
        {"http://x/y?a=1", "\"http://x/y?a=1\""},
        {"-1.5e3", "-1.5e3"},
        {"[::1]:80", "[::1]:80"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        clear_capture();
        log_info("m", "k", cases[i].value);
        char want[256];
        snprintf(want, sizeof(want), "ts=TS level=info msg=m k=%s\n", cases[i].want);
        expect_lines(want, false);
    }
}

static void test_json_exact(void **state)
{
    (void)state;
    cap_setup(LOG_LVL_DEBUG, LOG_FMT_JSON);
    log_info("agent started", "version", "1.2.3", "listen", ":9469");
    log_warn("x");
    log_error("probe failed", "err", NULL);
    log_info("q", "a", "say \"hi\"", "b", "a\\b\n\t\x01", "c", "", "d", "h\xc3\xa9", "e x", "=");
    expect_lines(
        "{\"ts\":\"TS\",\"level\":\"info\",\"msg\":\"agent started\",\"version\":\"1.2.3\","
        "\"listen\":\":9469\"}\n"
        "{\"ts\":\"TS\",\"level\":\"warn\",\"msg\":\"x\"}\n"
        "{\"ts\":\"TS\",\"level\":\"error\",\"msg\":\"probe failed\",\"err\":\"\"}\n"
        "{\"ts\":\"TS\",\"level\":\"info\",\"msg\":\"q\",\"a\":\"say \\\"hi\\\"\","
        "\"b\":\"a\\\\b\\n\\t\\u0001\",\"c\":\"\",\"d\":\"h\xc3\xa9\",\"e x\":\"=\"}\n",
        true);
    /* And each line is JSON that says the same. */
    const char *got = captured();
    const char *last = strrchr(got, '{');
    json_error_t err;
    json_t *j = json_loads(last, 0, &err);
    if (!j)
        fail_msg("not JSON: %s (%s)", last, err.text);
    assert_string_equal(json_string_value(json_object_get(j, "b")), "a\\b\n\t\x01");
    assert_string_equal(json_string_value(json_object_get(j, "e x")), "=");
    json_decref(j);
}

static void test_levels(void **state)
{
    (void)state;
    cap_setup(LOG_LVL_WARN, LOG_FMT_LOGFMT);
    assert_false(log_enabled(LOG_LVL_DEBUG));
    assert_false(log_enabled(LOG_LVL_INFO));
    assert_true(log_enabled(LOG_LVL_WARN));
    assert_true(log_enabled(LOG_LVL_ERROR));
    log_debug("no");
    log_info("no");
    log_warn("yes");
    log_error("yes");
    expect_lines("ts=TS level=warn msg=yes\nts=TS level=error msg=yes\n", false);

    static const char *const names[] = {"debug", "info", "warn", "error"};
    for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
        enum log_level l = LOG_LVL_ERROR;
        assert_int_equal(log_parse_level(names[i], &l), OP_OK);
        assert_int_equal(l, (enum log_level)i);
    }
    enum log_level l;
    assert_int_equal(log_parse_level("warning", &l), OP_ERR_INVALID);
    assert_int_equal(log_parse_level("INFO", &l), OP_ERR_INVALID);
    assert_int_equal(log_parse_level("", &l), OP_ERR_INVALID);
    enum log_format f;
    assert_int_equal(log_parse_format("logfmt", &f), OP_OK);
    assert_int_equal(f, LOG_FMT_LOGFMT);
    assert_int_equal(log_parse_format("json", &f), OP_OK);
    assert_int_equal(f, LOG_FMT_JSON);
    assert_int_equal(log_parse_format("JSON", &f), OP_ERR_INVALID);
    assert_int_equal(log_parse_format("", &f), OP_ERR_INVALID);
}

/* One record per line of text, empty lines included, with the lines that
 * start with a space; nothing after a final newline, nothing for empty
 * text. */
static void test_log_lines(void **state)
{
    (void)state;
    log_lines(LOG_LVL_ERROR, "config error", "err", "a.yml:1:1: bad\n\nsecond one\n");
    log_lines(LOG_LVL_ERROR, "config error", "err", "last");
    log_lines(LOG_LVL_ERROR, "config error", "err", "");
    /* Lines that start with a space go with the one before them. */
    log_lines(LOG_LVL_ERROR, "config error", "err", "b.yml:1:1: x\n  1 | a\n    | ^\nc.yml: y\n");
    expect_lines("ts=TS level=error msg=\"config error\" err=\"a.yml:1:1: bad\"\n"
                 "ts=TS level=error msg=\"config error\" err=\"\"\n"
                 "ts=TS level=error msg=\"config error\" err=\"second one\"\n"
                 "ts=TS level=error msg=\"config error\" err=last\n"
                 "ts=TS level=error msg=\"config error\" err=\"b.yml:1:1: x\\n  1 | a\\n    | ^\"\n"
                 "ts=TS level=error msg=\"config error\" err=\"c.yml: y\"\n",
                 false);
}

/* Log one info record of msg with k = n bytes of 'v'. */
static void log_sized(const char *msg, size_t n)
{
    char *v = malloc(n + 1);
    assert_non_null(v);
    memset(v, 'v', n);
    v[n] = '\0';
    log_info(msg, "k", v);
    free(v);
}

/* Bytes a record of msg with k=<n bytes> takes in the current format,
 * newline included, measured on a short one. */
static size_t record_overhead(const char *msg)
{
    clear_capture();
    log_sized(msg, 1);
    size_t n = strlen(captured()) - 1;
    clear_capture();
    return n;
}

static void test_too_long_logfmt(void **state)
{
    (void)state;
    size_t over = record_overhead("big");
    /* Exactly the cap, newline included: written whole. */
    log_sized("big", LOG_MAX_RECORD_BYTES - over);
    const char *got = captured();
    assert_int_equal(strlen(got), LOG_MAX_RECORD_BYTES);
    assert_int_equal(got[LOG_MAX_RECORD_BYTES - 1], '\n');
    assert_non_null(strstr(got, " msg=big k=vvv"));

    /* One byte more: the short record instead, never a cut one. */
    clear_capture();
    log_sized("big", LOG_MAX_RECORD_BYTES - over + 1);
    log_sized("big", 1u << 20);
    log_info("after", "k", "v");
    char want[256];
    snprintf(want, sizeof(want),
             "ts=TS level=info msg=\"log record too long\" orig_msg=big cap_bytes=%u\n"
             "ts=TS level=info msg=\"log record too long\" orig_msg=big cap_bytes=%u\n"
             "ts=TS level=info msg=after k=v\n",
             LOG_MAX_RECORD_BYTES, LOG_MAX_RECORD_BYTES);
    expect_lines(want, false);

    /* A message too long to repeat is left out, not cut. */
    clear_capture();
    char msg[LOG_MAX_FALLBACK_MSG_BYTES + 2];
    memset(msg, 'm', sizeof(msg) - 1);
    msg[sizeof(msg) - 1] = '\0';
    log_sized(msg, LOG_MAX_RECORD_BYTES);
    msg[sizeof(msg) - 2] = '\0'; /* exactly LOG_MAX_FALLBACK_MSG_BYTES: kept */
    log_sized(msg, LOG_MAX_RECORD_BYTES);
    snprintf(want, sizeof(want),
             "ts=TS level=info msg=\"log record too long\" cap_bytes=%u\n"
             "ts=TS level=info msg=\"log record too long\" orig_msg=",
             LOG_MAX_RECORD_BYTES);
    char *full = malloc(strlen(want) + sizeof(msg) + 64);
    assert_non_null(full);
    snprintf(full, strlen(want) + sizeof(msg) + 64, "%s%s cap_bytes=%u\n", want, msg,
             LOG_MAX_RECORD_BYTES);
    expect_lines(full, false);
    free(full);

    /* log_lines: each line judged on its own. */
    clear_capture();
    size_t n = LOG_MAX_RECORD_BYTES;
    char *text = malloc(n + 16);
    assert_non_null(text);
    memcpy(text, "ok\n", 3);
    memset(text + 3, 'x', n);
    memcpy(text + 3 + n, "\nok", 4);
    log_lines(LOG_LVL_WARN, "m", "k", text);
    free(text);
    snprintf(want, sizeof(want),
             "ts=TS level=warn msg=m k=ok\n"
             "ts=TS level=warn msg=\"log record too long\" orig_msg=m cap_bytes=%u\n"
             "ts=TS level=warn msg=m k=ok\n",
             LOG_MAX_RECORD_BYTES);
    expect_lines(want, false);
}

static void test_too_long_json(void **state)
{
    (void)state;
    cap_setup(LOG_LVL_DEBUG, LOG_FMT_JSON);
    size_t over = record_overhead("big");
    log_sized("big", LOG_MAX_RECORD_BYTES - over);
    assert_int_equal(strlen(captured()), LOG_MAX_RECORD_BYTES);

    clear_capture();
    log_sized("big", LOG_MAX_RECORD_BYTES - over + 1);
    /* Escaping makes a value grow (each newline takes two bytes), and a
     * quote in the message must stay escaped in the short record. */
    char v[LOG_MAX_RECORD_BYTES];
    memset(v, '\n', sizeof(v) - 1);
    v[sizeof(v) - 1] = '\0';
    log_warn("a \"quoted\" msg", "k", v);
    log_info("after", "k", "v");

    /* Every line is one complete JSON object. */
    const char *got = captured();
    size_t lines = 0;
    for (const char *p = got; *p; lines++) {
        const char *nl = strchr(p, '\n');
        assert_non_null(nl);
        json_error_t err;
        json_t *j = json_loadb(p, (size_t)(nl - p), 0, &err);
        if (!j)
            fail_msg("line %zu is not JSON (%s): %.*s", lines, err.text, (int)(nl - p), p);
        if (lines < 2) {
            assert_string_equal(json_string_value(json_object_get(j, "msg")),
                                "log record too long");
            assert_string_equal(json_string_value(json_object_get(j, "orig_msg")),
                                lines ? "a \"quoted\" msg" : "big");
            assert_string_equal(json_string_value(json_object_get(j, "level")),
                                lines ? "warn" : "info");
            char cap[32];
            snprintf(cap, sizeof(cap), "%u", LOG_MAX_RECORD_BYTES);
            assert_string_equal(json_string_value(json_object_get(j, "cap_bytes")), cap);
            assert_null(json_object_get(j, "k"));
        }
        json_decref(j);
        p = nl + 1;
    }
    assert_int_equal(lines, 3);
    char want[512];
    snprintf(want, sizeof(want),
             "{\"ts\":\"TS\",\"level\":\"info\",\"msg\":\"log record too long\","
             "\"orig_msg\":\"big\",\"cap_bytes\":\"%u\"}\n"
             "{\"ts\":\"TS\",\"level\":\"warn\",\"msg\":\"log record too long\","
             "\"orig_msg\":\"a \\\"quoted\\\" msg\",\"cap_bytes\":\"%u\"}\n"
             "{\"ts\":\"TS\",\"level\":\"info\",\"msg\":\"after\",\"k\":\"v\"}\n",
             LOG_MAX_RECORD_BYTES, LOG_MAX_RECORD_BYTES);
    expect_lines(want, true);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_logfmt_exact, cap_open, cap_close),
        cmocka_unit_test_setup_teardown(test_logfmt_quoting, cap_open, cap_close),
        cmocka_unit_test_setup_teardown(test_json_exact, cap_open, cap_close),
        cmocka_unit_test_setup_teardown(test_levels, cap_open, cap_close),
        cmocka_unit_test_setup_teardown(test_log_lines, cap_open, cap_close),
        cmocka_unit_test_setup_teardown(test_too_long_logfmt, cap_open, cap_close),
        cmocka_unit_test_setup_teardown(test_too_long_json, cap_open, cap_close),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
