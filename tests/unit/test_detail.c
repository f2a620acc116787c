/*
 * test_detail.c - the writer of a result's detail text (detail.c):
 * cleaning (control characters, bytes that are not UTF-8), the cut at the
 * array's size with "...", and the 64-byte cut of response values.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "check.h"
#include "common.h"
#include "detail.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define X10 "xxxxxxxxxx"
#define X60 X10 X10 X10 X10 X10 X10

/* One append: 'a' detail_addn, 'v' detail_value; n = 0 means strlen. */
struct op {
    char kind;
    const char *text;
    size_t n;
};

static void test_writer(void **state)
{
    (void)state;
    static const struct {
        const char *what;
        size_t cap;
        struct op ops[4];
        const char *want;
        bool cut;
    } cases[] = {
        {"plain", 16, {{'a', "hello", 0}, {'a', " world", 0}}, "hello world", false},
        {"empty", 16, {{'a', "", 0}}, "", false},
        {"control characters",
         16,
         {{'a',
           "a\nb\tc\x7f"
           "d\r",
           0}},
         "a?b?c?d?",
         false},
        {"NUL inside", 16, {{'a', "a\0b", 3}}, "a?b", false},
        {"UTF-8 kept",
         16,
         {{'a', "caf\xc3\xa9 \xe2\x82\xac", 0}},
         "caf\xc3\xa9 \xe2\x82\xac",
         false},
        {"stray byte",
         16,
         {{'a',
           "a\xff"
           "b",
           0}},
         "a?b",
         false},
        {"overlong", 16, {{'a', "\xc0\xaf", 0}}, "??", false},
        {"surrogate", 16, {{'a', "\xed\xa0\x80", 0}}, "???", false},
        {"above U+10FFFF", 16, {{'a', "\xf4\x90\x80\x80", 0}}, "????", false},
        {"sequence cut short", 16, {{'a', "ab\xe2\x82", 0}}, "ab??", false},
        /* cap 10: nine bytes of text. */
        {"exact fit", 10, {{'a', "012345678", 0}}, "012345678", false},
        {"one over", 10, {{'a', "0123456789", 0}}, "012345...", true},
        {"fit, then more", 10, {{'a', "012345678", 0}, {'a', "9", 0}}, "012345...", true},
        {"nothing after a cut",
         10,
         {{'a', "0123456789", 0}, {'a', "", 0}, {'a', "z", 0}},
         "012345...",
         true},
        /* The cut never splits a character: the euro sign goes whole. */
        {"cut at a character",
         10,
         {{'a',
           "abcd\xc3\xa9\xe2\x82\xac"
           "fgh",
           0}},
         "abcd\xc3\xa9...",
         true},
        {"tiny array", 3, {{'a', "abcdef", 0}}, "ab", true},
        /* Response values: 64 bytes, then "...". */
        {"short value",
         128,
         {{'a', "got \"", 0}, {'v', "degraded", 0}, {'a', "\"", 0}},
         "got \"degraded\"",
         false},
        {"64-byte value", 128, {{'v', X60 "xxxx", 0}}, X60 "xxxx", false},
        {"65-byte value", 128, {{'v', X60 "xxxxy", 0}, {'a', "!", 0}}, X60 "xxxx...!", false},
        {"value cut at a character", 128, {{'v', X60 "xxx\xc3\xa9", 0}}, X60 "xxx...", false},
        {"value cleaned", 128, {{'v', "a\nb\0c", 5}}, "a?b?c", false},
        {"value cut by the array", 10, {{'a', "v=", 0}, {'v', X60, 0}}, "v=xxxx...", true},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        char out[256];
        memset(out, 'Z', sizeof(out));
        struct detail d;
        detail_init(&d, out, cases[i].cap);
        for (size_t k = 0; k < 4 && cases[i].ops[k].kind; k++) {
            const struct op *o = &cases[i].ops[k];
            size_t n = o->n ? o->n : strlen(o->text);
            if (o->kind == 'v')
                detail_value(&d, o->text, n);
            else
                detail_addn(&d, o->text, n);
        }
        if (strcmp(out, cases[i].want) != 0 || d.cut != cases[i].cut)
            fail_msg("%s: got \"%s\" (cut %d), want \"%s\" (cut %d)", cases[i].what, out, d.cut,
                     cases[i].want, cases[i].cut);
        assert_int_equal(d.len, strlen(out));
        assert_true(d.len < cases[i].cap);
        /* Nothing written past the array. */
        assert_int_equal(out[cases[i].cap], 'Z');
    }
}

static void test_formatted(void **state)
{
    (void)state;
    char out[CHECK_DETAIL_MAX];
    struct detail d;
    detail_init(&d, out, sizeof(out));
    detail_addf(&d, "status %d not in [%d-%d]", 503, 200, 299);
    assert_string_equal(out, "status 503 not in [200-299]");
    detail_addf(&d, " %s", "a\tb");
    assert_string_equal(out, "status 503 not in [200-299] a?b");

    /* An expansion longer than the array ends in "...". */
    char big[300];
    memset(big, 'y', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    detail_init(&d, out, sizeof(out));
    detail_addf(&d, "%s", big);
    assert_int_equal(strlen(out), sizeof(out) - 1);
    assert_string_equal(out + sizeof(out) - 4, "...");
    assert_true(d.cut);

    /* No array: every call is a no-op. */
    detail_init(&d, NULL, 0);
    detail_add(&d, "x");
    detail_addf(&d, "%d", 1);
    detail_value(&d, "v", 1);
    assert_int_equal(d.len, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_writer),
        cmocka_unit_test(test_formatted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
