/*
 * test_websec.c - unit tests for agent/websec.c as the audit log sees it:
 * failed authentications become auth_failed events within a budget (a
 * burst, then one a second), so a client spraying bad credentials cannot
 * rotate the audit log's history away; the failures over it are counted on
 * the next event written.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "audit.h"
#include "clock.h"
#include "test_util.h"
#include "websec.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EV_AUTH_FAILED 12 /* auth_failed in audit_event_name's order */
#define SEC_NS 1000000000LL

/* The fields of the last line of dir/audit.jsonl; caller json_decref. */
static json_t *last_fields(const char *dir)
{
    char path[600], line[4096], last[4096] = "";
    snprintf(path, sizeof(path), "%s/audit.jsonl", dir);
    FILE *in = fopen(path, "r");
    assert_non_null(in);
    while (fgets(line, sizeof(line), in))
        memcpy(last, line, sizeof(last));
    fclose(in);
    json_error_t e;
    json_t *o = json_loads(last, 0, &e);
    assert_non_null(o);
    assert_string_equal(json_string_value(json_object_get(o, "event")), "auth_failed");
    json_t *f = json_incref(json_object_get(o, "fields"));
    json_decref(o);
    return f;
}

static void fail_n(struct websec *ws, int n)
{
    struct websec_gen *g = websec_acquire(ws);
    for (int i = 0; i < n; i++)
        assert_int_equal(websec_authenticate(g, "Bearer wrong-token", "192.0.2.7", "metrics"),
                         WEBSEC_AUTH_FAILED);
    websec_release(g);
}

static void test_auth_failed_budget(void **state)
{
    (void)state;
    char dir[512], tokens[600];
    snprintf(dir, sizeof(dir), "%s/budget", tu_tmpdir());
    struct clock *clock = clock_fake_new(0, 1767225600000LL);
    struct buf err;
    buf_init(&err, 4096);
    struct audit *a;
    assert_int_equal(audit_open(dir, 1u << 20, 2, clock, &a, &err), OP_OK);
    snprintf(tokens, sizeof(tokens), "%s/tokens", dir);
    FILE *t = fopen(tokens, "w");
    assert_non_null(t);
    fputs("the-right-token-0123456789\n", t);
    fclose(t);
    struct websec_options o = {.tokens_file = tokens, .audit = a};
    struct websec *ws;
    assert_int_equal(websec_new(&o, clock, &ws, &err), OP_OK);

    /* The burst: 60 written, the next 40 counted. */
    fail_n(ws, 100);
    assert_int_equal(audit_events_written(a, EV_AUTH_FAILED), 60);
    json_t *f = last_fields(dir);
    assert_null(json_object_get(f, "suppressed"));
    json_decref(f);

    /* One a second: 2.5 s later two more, the first telling the 40. */
    clock_fake_advance(clock, 2 * SEC_NS + SEC_NS / 2);
    fail_n(ws, 1);
    f = last_fields(dir);
    assert_string_equal(json_string_value(json_object_get(f, "suppressed")), "40");
    assert_string_equal(json_string_value(json_object_get(f, "method")), "bearer");
    assert_string_equal(json_string_value(json_object_get(f, "reason")), "unknown token");
    json_decref(f);
    fail_n(ws, 5);
    assert_int_equal(audit_events_written(a, EV_AUTH_FAILED), 62);
    f = last_fields(dir);
    assert_null(json_object_get(f, "suppressed"));
    json_decref(f);

    /* An idle hour refills the burst, not more; its first event tells
     * the 4 of the second before. */
    clock_fake_advance(clock, 3600 * SEC_NS);
    fail_n(ws, 1);
    f = last_fields(dir);
    assert_string_equal(json_string_value(json_object_get(f, "suppressed")), "4");
    json_decref(f);
    fail_n(ws, 69);
    assert_int_equal(audit_events_written(a, EV_AUTH_FAILED), 122);
    clock_fake_advance(clock, SEC_NS);
    fail_n(ws, 1);
    f = last_fields(dir);
    assert_string_equal(json_string_value(json_object_get(f, "suppressed")), "10");
    json_decref(f);
    assert_int_equal(audit_write_failures(a), 0);

    websec_free(ws);
    audit_close(a);
    clock_fake_free(clock);
    buf_free(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_auth_failed_budget),
    };
    return cmocka_run_group_tests(tests, tu_tmpdir_setup, tu_tmpdir_teardown);
}
