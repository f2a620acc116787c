/*
 * test_names.c - the name -> index map (names.c) and the clocks (clock.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "clock.h"
#include "names.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct owner {
    char (*names)[16];
};

static const char *key_at(const void *owner, size_t i)
{
    return ((const struct owner *)owner)->names[i];
}

/* 5,000 names through several rehashes: each found at its index, absent
 * names not found, a duplicate reported with the first index. */
static void test_add_find_grow(void **state)
{
    (void)state;
    enum { N = 5000 };
    struct owner o = {calloc(N + 1, sizeof(*o.names))};
    assert_non_null(o.names);
    struct names *m = names_new(key_at, &o);
    assert_int_equal(names_find(m, "x"), -1); /* empty map */
    for (size_t i = 0; i < N; i++) {
        snprintf(o.names[i], sizeof(o.names[i]), "check-%zu", i);
        assert_int_equal(names_add(m, i), -1);
    }
    assert_int_equal(names_count(m), N);
    for (size_t i = 0; i < N; i++) {
        char k[16];
        snprintf(k, sizeof(k), "check-%zu", i);
        assert_int_equal(names_find(m, k), (long)i);
    }
    assert_int_equal(names_find(m, "check-5000"), -1);
    assert_int_equal(names_find(m, ""), -1);
    /* Lookup by length: the prefix "check-12" of "check-123". */
    assert_int_equal(names_findn(m, "check-123", 8), 12);
    /* Entry N has the name of entry 77: not added, 77 reported. */
    snprintf(o.names[N], sizeof(o.names[N]), "check-77");
    assert_int_equal(names_add(m, N), 77);
    assert_int_equal(names_count(m), N);
    assert_int_equal(names_find(m, "check-77"), 77);
    names_clear(m);
    assert_int_equal(names_count(m), 0);
    assert_int_equal(names_find(m, "check-1"), -1);
    assert_int_equal(names_add(m, 1), -1);
    assert_int_equal(names_find(m, "check-1"), 1);
    names_free(m);
    free(o.names);
}

static void test_fake_clock(void **state)
{
    (void)state;
    struct clock *c = clock_fake_new(5000000000LL, 1767225600000LL);
    assert_int_equal(clock_mono_ns(c), 5000000000LL);
    assert_int_equal(clock_wall_ms(c), 1767225600000LL);
    assert_true(clock_wall(c) == 1767225600.0);
    clock_fake_advance(c, 1500000); /* 1.5 ms */
    assert_int_equal(clock_mono_ns(c), 5001500000LL);
    assert_int_equal(clock_wall_ms(c), 1767225600001LL);
    assert_true(clock_wall(c) == 1767225600.0015);
    clock_fake_free(c);

    /* Before 1970 a reading floors: -0.5 ms is millisecond -1. */
    c = clock_fake_new(0, 0);
    clock_fake_advance(c, -500000);
    assert_int_equal(clock_wall_ms(c), -1);
    clock_fake_free(c);

    /* The system clock moves forward and agrees with the shorthands. */
    const struct clock *s = clock_system();
    int64_t m1 = clock_mono_ns(s), m2 = now_mono_ns();
    assert_true(m2 >= m1);
    double w = clock_wall(s);
    assert_true(w > 1.7e9 && now_wall() - w < 5.0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_find_grow),
        cmocka_unit_test(test_fake_clock),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
