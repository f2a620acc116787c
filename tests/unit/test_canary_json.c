/*
 * test_canary_json.c - the verdict's JSON (canary_verdict_json in canary.c):
 * exact bytes for a finite verdict, null for every NaN or infinite figure,
 * and a reason with quotes, backslashes and control characters escaped so
 * the document still parses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "buf.h"
#include "canary.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

static void fill(struct canary_verdict *v)
{
    memset(v, 0, sizeof(*v));
    v->verdict = CANARY_FAIL;
    v->score = 50;
    v->baseline = (struct canary_arm){.n = 100,
                                      .failures = 1,
                                      .ratio = 0.01,
                                      .n_latency = 99,
                                      .p50 = 0.1,
                                      .p95 = 0.25,
                                      .p99 = 0.5};
    v->canary = (struct canary_arm){.n = 120,
                                    .failures = 12,
                                    .ratio = 0.1,
                                    .n_latency = 108,
                                    .p50 = 0.125,
                                    .p95 = 0.3,
                                    .p99 = 1.5};
    v->fisher_p = 0.000123;
    v->errors_pass = false;
    v->errors_reason = "canary error ratio above baseline";
    v->mw_u = 6000;
    v->mw_p = 0.5;
    v->shift = 0.025;
    v->shift_lower = -0.001;
    v->shift_upper = 0.05;
    v->p95_ratio = 1.2;
    v->latency = LAT_PASS;
    snprintf(v->reason, sizeof(v->reason), "fail: errors");
}

static void test_exact(void **state)
{
    (void)state;
    struct canary_verdict v;
    fill(&v);
    struct buf b;
    buf_init(&b, 1u << 16);
    canary_verdict_json(&v, "web", true, &b);
    assert_false(b.failed);
    assert_string_equal(
        buf_str(&b),
        "{\"canary\":\"web\",\"verdict\":\"fail\",\"score\":50,"
        "\"samples\":{\"baseline\":100,\"canary\":120},"
        "\"errors\":{\"baseline\":{\"n\":100,\"failures\":1,\"ratio\":0.01},"
        "\"canary\":{\"n\":120,\"failures\":12,\"ratio\":0.1},\"fisher_p\":0.000123,"
        "\"result\":\"fail\"},"
        "\"latency\":{\"baseline\":{\"n\":99,\"p50\":0.1,\"p95\":0.25,\"p99\":0.5},"
        "\"canary\":{\"n\":108,\"p50\":0.125,\"p95\":0.3,\"p99\":1.5},\"mann_whitney_u\":6000,"
        "\"mann_whitney_p\":0.5,\"shift\":{\"estimate\":0.025,\"lower\":-0.001,\"upper\":0.05},"
        "\"p95_ratio\":1.2,\"result\":\"pass\"},\"reason\":\"fail: errors\"}");
    buf_free(&b);
}

/* NaN and infinities (no samples, a zero baseline p95) become null; a
 * reason with characters JSON must escape still gives a document that
 * parses and says the same. */
static void test_special_values(void **state)
{
    (void)state;
    struct canary_verdict v;
    fill(&v);
    v.verdict = CANARY_INCONCLUSIVE;
    v.score = NAN;
    v.baseline.ratio = NAN;
    v.baseline.p95 = INFINITY;
    v.p95_ratio = INFINITY;
    v.shift_lower = -INFINITY;
    v.latency = LAT_NONE;
    static const char reason[] = "inconclusive: \"web\" said \\ no\n\tbye\x01";
    snprintf(v.reason, sizeof(v.reason), "%s", reason);

    struct buf b;
    buf_init(&b, 1u << 16);
    canary_verdict_json(&v, "a \"b\"", false, &b);
    assert_false(b.failed);
    json_error_t err;
    json_t *j = json_loads(buf_str(&b), 0, &err);
    if (!j)
        fail_msg("not JSON (%s): %s", err.text, buf_str(&b));
    assert_string_equal(json_string_value(json_object_get(j, "reason")), reason);
    assert_string_equal(json_string_value(json_object_get(j, "canary")), "a \"b\"");
    assert_true(json_is_null(json_object_get(j, "score")));
    json_t *lat = json_object_get(j, "latency");
    assert_true(json_is_null(json_object_get(lat, "p95_ratio")));
    assert_true(json_is_null(json_object_get(lat, "result")));
    assert_true(json_is_null(json_object_get(json_object_get(lat, "shift"), "lower")));
    assert_true(json_is_null(json_object_get(json_object_get(lat, "baseline"), "p95")));
    json_t *errs = json_object_get(j, "errors");
    assert_true(json_is_null(json_object_get(json_object_get(errs, "baseline"), "ratio")));
    assert_null(json_object_get(j, "samples"));
    json_decref(j);
    /* The escapes themselves, byte for byte. */
    assert_non_null(strstr(buf_str(&b), ",\"reason\":\"inconclusive: \\\"web\\\" said \\\\ "
                                        "no\\n\\tbye\\u0001\"}"));
    buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact),
        cmocka_unit_test(test_special_values),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
