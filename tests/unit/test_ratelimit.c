/*
 * test_ratelimit.c - --web.rate-limit (ratelimit.c): the flag's syntax, the
 * token bucket of one address on a fake clock (exact Retry-After values),
 * addresses kept apart, the fixed table under more addresses than it holds,
 * and many threads on one limiter (run under ThreadSanitizer by make tsan).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "clock.h"
#include "ratelimit.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define S_NS 1000000000LL

static void key_of(uint8_t key[RL_KEY_BYTES], uint32_t n)
{
    memset(key, 0, RL_KEY_BYTES);
    key[10] = key[11] = 0xff; /* ::ffff:10.x.y.z */
    key[12] = 10;
    key[13] = (uint8_t)(n >> 16);
    key[14] = (uint8_t)(n >> 8);
    key[15] = (uint8_t)n;
}

static void test_parse(void **state)
{
    (void)state;
    static const struct {
        const char *s;
        uint32_t n;
        int64_t ms;
    } good[] = {
        {"20/1m", 20, 60000},
        {"1/1s", 1, 1000},
        {"1000000/24h", 1000000, 86400000},
        {"5/1m30s", 5, 90000},
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        uint32_t n = 0;
        int64_t ms = 0;
        assert_int_equal(rl_parse(good[i].s, &n, &ms), OP_OK);
        assert_int_equal(n, good[i].n);
        assert_int_equal(ms, good[i].ms);
    }
    static const char *const bad[] = {
        "",       "20",    "20/",      "/1m",        "0/1m",  "-1/1m",  "+1/1m",  " 20/1m",
        "20/1m ", "20/0s", "20/999ms", "1000001/1s", "20/1x", "20/25h", "2e1/1m", "20/1m/1m",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        uint32_t n = 7;
        int64_t ms = 7;
        assert_int_equal(rl_parse(bad[i], &n, &ms), OP_ERR_INVALID);
        assert_int_equal(n, 7); /* untouched on error */
        assert_int_equal(ms, 7);
    }
}

/* 3 per minute: a burst of 3, then one more every 20 s; Retry-After says
 * exactly how long. */
static void test_bucket(void **state)
{
    (void)state;
    struct clock *fk = clock_fake_new(100 * S_NS, 0);
    struct ratelimit *rl = rl_new(3, 60000, fk);
    uint8_t a[RL_KEY_BYTES];
    key_of(a, 1);
    uint32_t retry = 0;
    for (int i = 0; i < 3; i++)
        assert_true(rl_take(rl, a, &retry));
    assert_false(rl_take(rl, a, &retry));
    assert_int_equal(retry, 20);
    clock_fake_advance(fk, 19 * S_NS + S_NS / 2);
    assert_false(rl_take(rl, a, &retry));
    assert_int_equal(retry, 1); /* half a second, rounded up */
    clock_fake_advance(fk, S_NS / 2);
    assert_true(rl_take(rl, a, &retry));
    assert_false(rl_take(rl, a, &retry));
    assert_int_equal(retry, 20);
    /* A refused request costs nothing: after a full period the whole
     * burst is back. */
    assert_int_equal(rl_tracked(rl), 1);
    clock_fake_advance(fk, 60 * S_NS);
    assert_int_equal(rl_tracked(rl), 0);
    for (int i = 0; i < 3; i++)
        assert_true(rl_take(rl, a, &retry));
    assert_false(rl_take(rl, a, &retry));
    rl_free(rl);
    clock_fake_free(fk);
}

/* 1 per 1.5 s: Retry-After is whole seconds, rounded up, never 0. */
static void test_retry_after_rounding(void **state)
{
    (void)state;
    struct clock *fk = clock_fake_new(S_NS, 0);
    struct ratelimit *rl = rl_new(1, 1500, fk);
    uint8_t a[RL_KEY_BYTES];
    key_of(a, 1);
    uint32_t retry = 0;
    assert_true(rl_take(rl, a, &retry));
    assert_false(rl_take(rl, a, &retry));
    assert_int_equal(retry, 2);
    clock_fake_advance(fk, 1499 * 1000000LL);
    assert_false(rl_take(rl, a, &retry));
    assert_int_equal(retry, 1);
    clock_fake_advance(fk, 1000000LL);
    assert_true(rl_take(rl, a, &retry));
    rl_free(rl);
    clock_fake_free(fk);
}

static void test_addresses_apart(void **state)
{
    (void)state;
    struct clock *fk = clock_fake_new(S_NS, 0);
    struct ratelimit *rl = rl_new(1, 60000, fk);
    uint8_t a[RL_KEY_BYTES], b[RL_KEY_BYTES];
    key_of(a, 1);
    key_of(b, 2);
    uint32_t retry;
    assert_true(rl_take(rl, a, &retry));
    assert_false(rl_take(rl, a, &retry));
    assert_true(rl_take(rl, b, &retry));
    assert_false(rl_take(rl, b, &retry));
    assert_false(rl_take(rl, a, &retry));
    rl_free(rl);
    clock_fake_free(fk);
}

/* More limited addresses than the table holds: memory stays fixed (never
 * more than RL_MAX_CLIENTS tracked), and an address that has just been
 * limited and is still in the table stays limited. */
static void test_table_is_bounded(void **state)
{
    (void)state;
    struct clock *fk = clock_fake_new(S_NS, 0);
    struct ratelimit *rl = rl_new(1, 3600000, fk);
    uint8_t k[RL_KEY_BYTES];
    uint32_t retry;
    for (uint32_t i = 0; i < 3 * RL_MAX_CLIENTS; i++) {
        key_of(k, i);
        assert_true(rl_take(rl, k, &retry)); /* new, or evicted and so fresh */
        assert_false(rl_take(rl, k, &retry));
        assert_int_equal(retry, 3600);
        clock_fake_advance(fk, 1000); /* later ones are further from full */
    }
    assert_int_equal(rl_tracked(rl), RL_MAX_CLIENTS);
    /* After the period every bucket is full again and counts as free. */
    clock_fake_advance(fk, 3600 * S_NS);
    assert_int_equal(rl_tracked(rl), 0);
    rl_free(rl);
    clock_fake_free(fk);
}

/* Eviction takes the slot nearest to full: with a full table, an address
 * limited long ago is forgotten before one limited just now. */
static void test_evicts_nearest_to_full(void **state)
{
    (void)state;
    struct clock *fk = clock_fake_new(S_NS, 0);
    struct ratelimit *rl = rl_new(1, 3600000, fk);
    uint8_t old[RL_KEY_BYTES], k[RL_KEY_BYTES];
    uint32_t retry;
    key_of(old, 0xfffff);
    assert_true(rl_take(rl, old, &retry));
    clock_fake_advance(fk, 60 * S_NS);
    /* Fill everything else a minute later: `old` is the nearest to full in
     * its set, so the first newcomer of that set evicts it. */
    for (uint32_t i = 0; i < 2 * RL_MAX_CLIENTS; i++) {
        key_of(k, i);
        assert_true(rl_take(rl, k, &retry)); /* each one new */
    }
    assert_true(rl_take(rl, old, &retry)); /* forgotten: a fresh bucket */
    rl_free(rl);
    clock_fake_free(fk);
}

struct hammer {
    struct ratelimit *rl;
    uint32_t base;
    unsigned allowed;
};

static void *hammer_main(void *arg)
{
    struct hammer *h = arg;
    uint8_t k[RL_KEY_BYTES];
    uint32_t retry;
    for (uint32_t i = 0; i < 20000; i++) {
        key_of(k, h->base + i % 64);
        h->allowed += rl_take(h->rl, k, &retry);
    }
    return NULL;
}

/* Four threads on shared addresses: every request is judged once, none is
 * lost (each address allows exactly 100 in the period). */
static void test_threads(void **state)
{
    (void)state;
    struct ratelimit *rl = rl_new(100, 3600000, clock_system());
    struct hammer h[4];
    pthread_t t[4];
    for (int i = 0; i < 4; i++) {
        h[i] = (struct hammer){rl, 0, 0};
        assert_int_equal(pthread_create(&t[i], NULL, hammer_main, &h[i]), 0);
    }
    unsigned total = 0;
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        total += h[i].allowed;
    }
    assert_int_equal(total, 64 * 100);
    rl_free(rl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_bucket),
        cmocka_unit_test(test_retry_after_rounding),
        cmocka_unit_test(test_addresses_apart),
        cmocka_unit_test(test_table_is_bounded),
        cmocka_unit_test(test_evicts_nearest_to_full),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
