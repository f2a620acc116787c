/*
 * test_expo.c - unit tests for the exposition writer (expo.c): float
 * formatting, escaping, family headers, samples, histograms, the OpenMetrics
 * trailer, Accept negotiation and Accept-Encoding. Every case pins the exact
 * bytes produced.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "buf.h"
#include "expo.h"

#include <float.h>
#include <stdbool.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OUT_MAX (1u << 20)

/* Fail with the table row when got differs from want. */
#define EXPECT_STR(row, got, want)                                                                 \
    do {                                                                                           \
        if (strcmp((got), (want)) != 0)                                                            \
            fail_msg("row %zu: got \"%s\", want \"%s\"", (size_t)(row), (got), (want));            \
    } while (0)

/* ---- expo_format_double ---- */

static void test_format_double_table(void **state)
{
    (void)state;
    static const struct {
        double v;
        const char *want;
    } cases[] = {
        {0.0, "0"},
        {1.0, "1"},
        {-2.0, "-2"},
        {42.0, "42"},
        {0.1, "0.1"},
        {1e-7, "1e-07"},
        {0.005, "0.005"},
        {2.5, "2.5"},
        {-1.5, "-1.5"},
        {100.5, "100.5"},
        {123456.789, "123456.789"},
        {1.0 / 3.0, "0.3333333333333333"},
        {0.1 + 0.2, "0.30000000000000004"},
        {1e300, "1e+300"},
        {1e16, "1e+16"},
        {1e21, "1e+21"},
        {1700000000.0, "1700000000"},
        {1700000000.25, "1700000000.25"},
        /* Largest integers printed with %.0f, then the 2^53 boundary: the
         * literal 9007199254740993 is not representable and is 2^53. */
        {9007199254740991.0, "9007199254740991"},
        {9007199254740992.0, "9007199254740992"},
        {9007199254740993.0, "9007199254740992"},
        {-9007199254740991.0, "-9007199254740991"},
        {9223372036854775808.0, "9.223372036854776e+18"},
        {DBL_MAX, "1.7976931348623157e+308"},
        {2.2250738585072014e-308, "2.2250738585072014e-308"},
        {INFINITY, "+Inf"},
        {-INFINITY, "-Inf"},
        {NAN, "NaN"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        char out[64];
        memset(out, 'X', sizeof(out));
        expo_format_double(out, sizeof(out), cases[i].v);
        EXPECT_STR(i, out, cases[i].want);
    }
}

/* Every finite value reads back exactly, including ones that need all 17
 * digits and subnormals. */
static void test_format_double_round_trip(void **state)
{
    (void)state;
    const double values[] = {1.0 / 3.0,
                             2.0 / 3.0,
                             0.1,
                             0.7,
                             1e-7,
                             DBL_MAX,
                             DBL_MIN,
                             5e-324,
                             -0.1,
                             M_PI,
                             M_E,
                             1e308,
                             1.5e-300,
                             123.456,
                             0.000123,
                             99.99,
                             1e15 + 0.3,
                             4503599627370497.5,
                             9007199254740993.0,
                             18446744073709551616.0,
                             -7e-9};
    for (size_t i = 0; i < ARRAY_SIZE(values); i++) {
        char out[64];
        expo_format_double(out, sizeof(out), values[i]);
        char *end;
        double back = strtod(out, &end);
        if (*end != '\0' || back != values[i])
            fail_msg("row %zu: \"%s\" reads back as %.17g, want %.17g", i, out, back, values[i]);
    }
    /* A simple LCG walk over many magnitudes. */
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < 20000; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        double mant = (double)(x >> 11) / 9007199254740992.0;
        int exp = (int)((x >> 3) % 80) - 40;
        double v = ldexp(mant, exp * 3);
        char out[64];
        expo_format_double(out, sizeof(out), v);
        char *end;
        double back = strtod(out, &end);
        if (*end != '\0' || back != v)
            fail_msg("lcg %d: \"%s\" reads back as %.17g, want %.17g", i, out, back, v);
        assert_true(strlen(out) <= 24);
    }
}

/* The text the formatter had before its printf-free paths: "%.0f" for
 * whole numbers below 2^53, else the first of %.15g, %.16g, %.17g that
 * reads back. The fast paths must give exactly these bytes. */
static void reference_double(char *out, size_t cap, double v)
{
    if (isnan(v)) {
        snprintf(out, cap, "NaN");
        return;
    }
    if (isinf(v)) {
        snprintf(out, cap, v > 0 ? "+Inf" : "-Inf");
        return;
    }
    if (v == floor(v) && fabs(v) < 9007199254740992.0) {
        snprintf(out, cap, "%.0f", v);
        return;
    }
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(out, cap, "%.*g", prec, v);
        char *end;
        if (strtod(out, &end) == v && *end == '\0')
            return;
    }
}

static void expect_as_reference(const char *what, uint64_t i, double v)
{
    char got[64], want[64];
    expo_format_double(got, sizeof(got), v);
    reference_double(want, sizeof(want), v);
    if (strcmp(got, want) != 0)
        fail_msg("%s %llu (%.17g): got \"%s\", want \"%s\"", what, (unsigned long long)i, v, got,
                 want);
}

/* Byte for byte what printf gives, for the values a scrape is made of:
 * microsecond and nanosecond durations, millisecond timestamps, bucket
 * bounds, decimal fractions of every length, and random bit patterns. */
static void test_format_double_as_printf(void **state)
{
    (void)state;
    const double fixed[] = {-0.0,   0.5,    3e-06,   2e-05,   1e-06,     1.551855, 0.0001,
                            0.0005, 0.025,  2.5,     1e-05,   0.00012,   9.5e-05,  1e15 - 0.5,
                            1e-7,   1.1e-7, 9.9e-08, 123.456, 0.3 - 0.1, 5e-324,   -2.5e-06};
    for (size_t i = 0; i < ARRAY_SIZE(fixed); i++)
        expect_as_reference("fixed", i, fixed[i]);
    uint64_t x = 0x243f6a8885a308d3ull;
    for (uint64_t i = 0; i < 300000; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        uint64_t r = x >> 16;
        double v;
        switch (i % 6) {
        case 0: /* a duration in microseconds */
            v = (double)(r % 100000000) / 1e6;
            break;
        case 1: /* in nanoseconds */
            v = (double)(r % 10000000000ull) / 1e9;
            break;
        case 2: /* a wall-clock time in milliseconds */
            v = (double)(1700000000000ull + r % 100000000000ull) / 1e3;
            break;
        case 3: /* d digits after the point, 1 to 15 */
            v = (double)(r % 1000000000000000ull) / pow(10, (double)(1 + r % 15));
            break;
        case 4: { /* any finite bit pattern */
            uint64_t bits = x;
            memcpy(&v, &bits, sizeof(v));
            if (!isfinite(v))
                v = 1.25;
            break;
        }
        default: /* a sum of durations */
            v = (double)(r % 1000) * 0.001 + (double)(r % 7919) * 1e-6;
            break;
        }
        expect_as_reference("lcg", i, (i & 1) && i % 5 == 0 ? -v : v);
    }
}

/* Where the short path must say no: one ulp beside a short decimal (its
 * %.15g text does not read back), a 5 in the 16th digit, 16 and 17
 * digits, the edges of the short path's range (1e-7, 1e15) and of the
 * whole numbers (2^53), and any bit pattern in that range of exponents. */
static void test_format_double_near_short(void **state)
{
    (void)state;
    const double edges[] = {1e-7,
                            1e15,
                            9007199254740992.0,
                            4503599627370496.0,
                            0.1 + 0.2,
                            123456789012345.6,
                            999999999999999.9,
                            1e-5,
                            0.0001,
                            2.2250738585072014e-308,
                            1e22,
                            1e23};
    for (size_t i = 0; i < ARRAY_SIZE(edges); i++)
        for (int s = -1; s <= 1; s += 2) {
            double v = s * edges[i];
            expect_as_reference("edge", i, v);
            expect_as_reference("edge-down", i, nextafter(v, 0));
            expect_as_reference("edge-up", i, nextafter(v, s * INFINITY));
        }
    uint64_t x = 0x13198a2e03707344ull;
    for (uint64_t i = 0; i < 200000; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        uint64_t r = x >> 11;
        char t[48];
        double v;
        switch (i % 4) {
        case 0:   /* 1 to 17 digits, scaled to 1e-9 .. 1e17 */
        case 1: { /* and its neighbour */
            int d = 1 + (int)(r % 17);
            uint64_t m = (x >> 7) % (uint64_t)pow(10, d);
            snprintf(t, sizeof(t), "%llue%d", (unsigned long long)m, (int)(r >> 40) % 27 - 9 - d);
            v = strtod(t, NULL);
            if (i % 4 == 1)
                v = nextafter(v, (r & 1) ? 0 : INFINITY);
            break;
        }
        case 2: /* 15 digits and a 5: %.15g rounds */
            snprintf(t, sizeof(t), "%llu5e-%d", (unsigned long long)(r % 1000000000000000ull),
                     (int)(r >> 50) % 24);
            v = strtod(t, NULL);
            break;
        default: { /* any mantissa, exponents from 2^-30 to 2^54 */
            uint64_t bits = (x & 0x800fffffffffffffull) | ((1023 - 30 + (r >> 20) % 85) << 52);
            memcpy(&v, &bits, sizeof(v));
            break;
        }
        }
        expect_as_reference("near", i, (i & 2) ? -v : v);
    }
}

/* ---- escaping ---- */

static char *escape_label(const char *v)
{
    struct buf b;
    buf_init(&b, OUT_MAX);
    expo_escape_label(&b, v);
    assert_false(b.failed);
    return buf_take(&b);
}

static char *escape_help(const char *v, enum expo_format fmt)
{
    struct buf b;
    buf_init(&b, OUT_MAX);
    expo_escape_help(&b, v, fmt);
    assert_false(b.failed);
    return buf_take(&b);
}

static void test_escape_label(void **state)
{
    (void)state;
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"", ""},
        {"plain", "plain"},
        {"a\\b", "a\\\\b"},
        {"say \"hi\"", "say \\\"hi\\\""},
        {"line1\nline2", "line1\\nline2"},
        /* Tab and carriage return are passed through untouched. */
        {"tab\there", "tab\there"},
        {"cr\rhere", "cr\rhere"},
        {"\\\"\n", "\\\\\\\"\\n"},
        {"\\n", "\\\\n"}, /* a literal backslash-n stays distinguishable */
        {"caf\xc3\xa9 {x=1}", "caf\xc3\xa9 {x=1}"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        char *got = escape_label(cases[i].in);
        EXPECT_STR(i, got, cases[i].want);
        free(got);
    }
}

static void test_escape_help(void **state)
{
    (void)state;
    static const struct {
        const char *in, *want_text, *want_om;
    } cases[] = {
        {"", "", ""},
        {"Probes run.", "Probes run.", "Probes run."},
        {"a\\b", "a\\\\b", "a\\\\b"},
        {"two\nlines", "two\\nlines", "two\\nlines"},
        /* Text format: the quote is not escaped in HELP; OpenMetrics: it is. */
        {"say \"hi\"", "say \"hi\"", "say \\\"hi\\\""},
        {"tab\tcr\r", "tab\tcr\r", "tab\tcr\r"},
        {"\\\"\n", "\\\\\"\\n", "\\\\\\\"\\n"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        char *got = escape_help(cases[i].in, EXPO_TEXT);
        EXPECT_STR(i, got, cases[i].want_text);
        free(got);
        got = escape_help(cases[i].in, EXPO_OPENMETRICS);
        EXPECT_STR(i, got, cases[i].want_om);
        free(got);
    }
}

/* ---- families ---- */

static void test_family_table(void **state)
{
    (void)state;
    static const struct {
        enum expo_format fmt;
        const char *name;
        enum expo_type type;
        const char *help;
        const char *want;
    } cases[] = {
        {EXPO_TEXT, "outpost_probes_total", EXPO_COUNTER, "Probes run.",
         "# HELP outpost_probes_total Probes run.\n# TYPE outpost_probes_total counter\n"},
        {EXPO_OPENMETRICS, "outpost_probes_total", EXPO_COUNTER, "Probes run.",
         "# HELP outpost_probes Probes run.\n# TYPE outpost_probes counter\n"},
        /* A counter without the suffix keeps its name in both formats. */
        {EXPO_TEXT, "odd_counter", EXPO_COUNTER, "h",
         "# HELP odd_counter h\n# TYPE odd_counter counter\n"},
        {EXPO_OPENMETRICS, "odd_counter", EXPO_COUNTER, "h",
         "# HELP odd_counter h\n# TYPE odd_counter counter\n"},
        {EXPO_TEXT, "outpost_up", EXPO_GAUGE, "1 if up.",
         "# HELP outpost_up 1 if up.\n# TYPE outpost_up gauge\n"},
        {EXPO_OPENMETRICS, "outpost_up", EXPO_GAUGE, "1 if up.",
         "# HELP outpost_up 1 if up.\n# TYPE outpost_up gauge\n"},
        /* Only counters lose _total and only info loses _info. */
        {EXPO_OPENMETRICS, "weird_total", EXPO_GAUGE, "g",
         "# HELP weird_total g\n# TYPE weird_total gauge\n"},
        {EXPO_OPENMETRICS, "weird_info", EXPO_COUNTER, "c",
         "# HELP weird_info c\n# TYPE weird_info counter\n"},
        {EXPO_TEXT, "outpost_duration_seconds", EXPO_HISTOGRAM, "Probe duration.",
         "# HELP outpost_duration_seconds Probe duration.\n"
         "# TYPE outpost_duration_seconds histogram\n"},
        {EXPO_OPENMETRICS, "outpost_duration_seconds", EXPO_HISTOGRAM, "Probe duration.",
         "# HELP outpost_duration_seconds Probe duration.\n"
         "# TYPE outpost_duration_seconds histogram\n"},
        /* Text has no info type: a gauge named ..._info. */
        {EXPO_TEXT, "outpost_build_info", EXPO_INFO, "Build.",
         "# HELP outpost_build_info Build.\n# TYPE outpost_build_info gauge\n"},
        {EXPO_OPENMETRICS, "outpost_build_info", EXPO_INFO, "Build.",
         "# HELP outpost_build Build.\n# TYPE outpost_build info\n"},
        /* HELP escaping differs per format. */
        {EXPO_TEXT, "x_total", EXPO_COUNTER, "a \"q\" \\ b\nc",
         "# HELP x_total a \"q\" \\\\ b\\nc\n# TYPE x_total counter\n"},
        {EXPO_OPENMETRICS, "x_total", EXPO_COUNTER, "a \"q\" \\ b\nc",
         "# HELP x a \\\"q\\\" \\\\ b\\nc\n# TYPE x counter\n"},
        {EXPO_TEXT, "e", EXPO_GAUGE, "", "# HELP e \n# TYPE e gauge\n"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct buf b;
        buf_init(&b, OUT_MAX);
        struct expo e;
        expo_init(&e, &b, cases[i].fmt);
        expo_family(&e, cases[i].name, cases[i].type, cases[i].help);
        assert_false(b.failed);
        EXPECT_STR(i, buf_str(&b), cases[i].want);
        buf_free(&b);
    }
}

/* ---- samples ---- */

static const struct label two_labels[] = {{"check", "api \"v2\""}, {"group", ""}};
static const struct label one_label[] = {{"check", "a\\b\nc"}};
static const struct label le_half = {"le", "0.5"};

static void test_sample_table(void **state)
{
    (void)state;
    static const struct {
        const char *name, *suffix;
        const struct label *labels;
        size_t n;
        const struct label *extra;
        double v;
        const char *want;
    } cases[] = {
        {"x", "", NULL, 0, NULL, 1.5, "x 1.5\n"},
        {"x", "", NULL, 0, NULL, 0.0, "x 0\n"},
        {"x", "_sum", NULL, 0, NULL, 1.0 / 3.0, "x_sum 0.3333333333333333\n"},
        {"x", "", NULL, 0, NULL, NAN, "x NaN\n"},
        {"x", "", NULL, 0, NULL, -INFINITY, "x -Inf\n"},
        {"x", "", NULL, 0, NULL, 1e-7, "x 1e-07\n"},
        {"up", "", two_labels, 2, NULL, 1.0, "up{check=\"api \\\"v2\\\"\",group=\"\"} 1\n"},
        {"up", "", one_label, 1, NULL, 0.0, "up{check=\"a\\\\b\\nc\"} 0\n"},
        {"h", "_bucket", two_labels, 2, &le_half, 3.0,
         "h_bucket{check=\"api \\\"v2\\\"\",group=\"\",le=\"0.5\"} 3\n"},
        /* The extra label alone still opens braces. */
        {"h", "_bucket", NULL, 0, &le_half, 7.0, "h_bucket{le=\"0.5\"} 7\n"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        for (int f = 0; f < 2; f++) {
            struct buf b;
            buf_init(&b, OUT_MAX);
            struct expo e;
            expo_init(&e, &b, f ? EXPO_OPENMETRICS : EXPO_TEXT);
            expo_sample(&e, cases[i].name, cases[i].suffix, cases[i].labels, cases[i].n,
                        cases[i].extra, cases[i].v);
            assert_false(b.failed);
            EXPECT_STR(i, buf_str(&b), cases[i].want);
            buf_free(&b);
        }
    }
}

static void test_sample_u64_table(void **state)
{
    (void)state;
    static const struct {
        const char *name, *suffix;
        const struct label *labels;
        size_t n;
        const struct label *extra;
        uint64_t v;
        const char *want;
    } cases[] = {
        {"c", "_total", NULL, 0, NULL, 0, "c_total 0\n"},
        {"c", "_total", NULL, 0, NULL, 42, "c_total 42\n"},
        /* Beyond 2^53 every digit is kept (a double would round). */
        {"c", "_total", NULL, 0, NULL, 9007199254740993ull, "c_total 9007199254740993\n"},
        {"c", "_total", NULL, 0, NULL, UINT64_MAX, "c_total 18446744073709551615\n"},
        {"c", "_total", two_labels, 2, NULL, 5, "c_total{check=\"api \\\"v2\\\"\",group=\"\"} 5\n"},
        {"h", "_bucket", one_label, 1, &le_half, 9,
         "h_bucket{check=\"a\\\\b\\nc\",le=\"0.5\"} 9\n"},
        {"h", "_bucket", NULL, 0, &le_half, 1, "h_bucket{le=\"0.5\"} 1\n"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct buf b;
        buf_init(&b, OUT_MAX);
        struct expo e;
        expo_init(&e, &b, EXPO_TEXT);
        expo_sample_u64(&e, cases[i].name, cases[i].suffix, cases[i].labels, cases[i].n,
                        cases[i].extra, cases[i].v);
        assert_false(b.failed);
        EXPECT_STR(i, buf_str(&b), cases[i].want);
        buf_free(&b);
    }
}

/* ---- histograms ---- */

static void test_histogram(void **state)
{
    (void)state;
    const struct label labels[] = {{"check", "a"}, {"group", "g"}};
    const double bounds[] = {0.005, 0.1, 0.5, 1, 2.5};
    const uint64_t cumulative[] = {0, 1, 3, 3, 4, 5};
    struct buf b;
    buf_init(&b, OUT_MAX);
    struct expo e;
    expo_init(&e, &b, EXPO_TEXT);
    expo_histogram(&e, "d_seconds", labels, 2, bounds, 5, cumulative, 4.25);
    assert_false(b.failed);
    assert_string_equal(buf_str(&b), "d_seconds_bucket{check=\"a\",group=\"g\",le=\"0.005\"} 0\n"
                                     "d_seconds_bucket{check=\"a\",group=\"g\",le=\"0.1\"} 1\n"
                                     "d_seconds_bucket{check=\"a\",group=\"g\",le=\"0.5\"} 3\n"
                                     "d_seconds_bucket{check=\"a\",group=\"g\",le=\"1\"} 3\n"
                                     "d_seconds_bucket{check=\"a\",group=\"g\",le=\"2.5\"} 4\n"
                                     "d_seconds_bucket{check=\"a\",group=\"g\",le=\"+Inf\"} 5\n"
                                     "d_seconds_sum{check=\"a\",group=\"g\"} 4.25\n"
                                     "d_seconds_count{check=\"a\",group=\"g\"} 5\n");
    buf_free(&b);
}

/* One histogram line by line, as the writer did before it repeated line
 * starts and kept the bounds' text: what every path must still give. */
static void reference_histogram(struct buf *b, const char *name, const struct label *labels,
                                size_t n_labels, const double *bounds, size_t n,
                                const uint64_t *cumulative, double sum)
{
    struct expo e;
    expo_init(&e, b, EXPO_TEXT);
    for (size_t i = 0; i <= n; i++) {
        char le[64];
        if (i < n)
            expo_format_double(le, sizeof(le), bounds[i]);
        else
            snprintf(le, sizeof(le), "+Inf");
        struct label extra = {"le", le};
        expo_sample_u64(&e, name, "_bucket", labels, n_labels, &extra, cumulative[i]);
    }
    expo_sample(&e, name, "_sum", labels, n_labels, NULL, sum);
    expo_sample_u64(&e, name, "_count", labels, n_labels, NULL, cumulative[n]);
}

/* Histograms one after another on one writer, as a scrape writes them:
 * bounds that repeat, change, outnumber the kept text (70 > 64), labels
 * with escapes and a label set too long to repeat by copy; each must be
 * exactly its line-by-line text. */
static void test_histogram_sequence(void **state)
{
    (void)state;
    double many[70];
    uint64_t cum[71];
    for (size_t i = 0; i < 70; i++) {
        many[i] = 0.001 * (double)(i + 1);
        cum[i] = i * 3;
    }
    cum[70] = 300;
    char longv[700];
    memset(longv, 'x', sizeof(longv) - 1);
    longv[sizeof(longv) - 1] = '\0';
    const double two[] = {0.25, 1};
    const double other[] = {0.5, 1};
    const struct {
        const double *bounds;
        size_t n;
        const char *value;
        size_t n_labels;
    } rows[] = {
        {two, 2, "a", 1},   {two, 2, "b\"\\\n", 1}, {other, 2, "c", 1},
        {many, 70, "d", 1}, {many, 70, longv, 1},   {two, 2, longv, 1},
        {two, 2, "e", 0},   {NULL, 0, "f", 1},      {other, 2, "g", 1},
    };
    struct buf got, want;
    buf_init(&got, OUT_MAX);
    buf_init(&want, OUT_MAX);
    struct expo e;
    expo_init(&e, &got, EXPO_TEXT);
    for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
        struct label l = {"check", rows[i].value};
        expo_histogram(&e, "h_seconds", &l, rows[i].n_labels, rows[i].bounds, rows[i].n, cum, 1.5);
        reference_histogram(&want, "h_seconds", &l, rows[i].n_labels, rows[i].bounds, rows[i].n,
                            cum, 1.5);
        assert_false(got.failed);
        if (got.len != want.len || memcmp(got.data, want.data, got.len) != 0)
            fail_msg("row %zu: histogram text differs", i);
    }
    buf_free(&got);
    buf_free(&want);
}

static void test_histogram_no_bounds_no_labels(void **state)
{
    (void)state;
    const uint64_t cumulative[] = {7};
    struct buf b;
    buf_init(&b, OUT_MAX);
    struct expo e;
    expo_init(&e, &b, EXPO_OPENMETRICS);
    expo_histogram(&e, "lag", NULL, 0, NULL, 0, cumulative, 0.1);
    assert_false(b.failed);
    assert_string_equal(buf_str(&b), "lag_bucket{le=\"+Inf\"} 7\n"
                                     "lag_sum 0.1\n"
                                     "lag_count 7\n");
    buf_free(&b);
}

/* A whole OpenMetrics document: header, samples, histogram, trailer. */
static void test_document_openmetrics(void **state)
{
    (void)state;
    const struct label l[] = {{"check", "c1"}};
    const double bounds[] = {0.25};
    const uint64_t cum[] = {2, 3};
    struct buf b;
    buf_init(&b, OUT_MAX);
    struct expo e;
    expo_init(&e, &b, EXPO_OPENMETRICS);
    expo_family(&e, "p_total", EXPO_COUNTER, "Probes.");
    expo_sample_u64(&e, "p_total", "", l, 1, NULL, 3);
    expo_family(&e, "b_info", EXPO_INFO, "Build.");
    expo_sample(&e, "b_info", "", NULL, 0, NULL, 1);
    expo_family(&e, "d_seconds", EXPO_HISTOGRAM, "Duration.");
    expo_histogram(&e, "d_seconds", l, 1, bounds, 1, cum, 0.625);
    expo_finish(&e);
    assert_false(b.failed);
    assert_string_equal(buf_str(&b), "# HELP p Probes.\n"
                                     "# TYPE p counter\n"
                                     "p_total{check=\"c1\"} 3\n"
                                     "# HELP b Build.\n"
                                     "# TYPE b info\n"
                                     "b_info 1\n"
                                     "# HELP d_seconds Duration.\n"
                                     "# TYPE d_seconds histogram\n"
                                     "d_seconds_bucket{check=\"c1\",le=\"0.25\"} 2\n"
                                     "d_seconds_bucket{check=\"c1\",le=\"+Inf\"} 3\n"
                                     "d_seconds_sum{check=\"c1\"} 0.625\n"
                                     "d_seconds_count{check=\"c1\"} 3\n"
                                     "# EOF\n");
    buf_free(&b);
}

static void test_finish(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, OUT_MAX);
    struct expo e;

    expo_init(&e, &b, EXPO_TEXT);
    expo_sample(&e, "x", "", NULL, 0, NULL, 1);
    expo_finish(&e);
    assert_string_equal(buf_str(&b), "x 1\n");

    buf_reset(&b);
    expo_init(&e, &b, EXPO_OPENMETRICS);
    expo_sample(&e, "x", "", NULL, 0, NULL, 1);
    expo_finish(&e);
    assert_string_equal(buf_str(&b), "x 1\n# EOF\n");

    /* An empty OpenMetrics exposition is just the trailer. */
    buf_reset(&b);
    expo_init(&e, &b, EXPO_OPENMETRICS);
    expo_finish(&e);
    assert_string_equal(buf_str(&b), "# EOF\n");

    buf_reset(&b);
    expo_init(&e, &b, EXPO_TEXT);
    expo_finish(&e);
    assert_int_equal(b.len, 0);
    buf_free(&b);
}

/* A cap that is too small is reported through the buffer, never truncated
 * silently into a half line that still looks valid. */
static void test_writer_reports_cap(void **state)
{
    (void)state;
    struct buf b;
    buf_init(&b, 8);
    struct expo e;
    expo_init(&e, &b, EXPO_TEXT);
    expo_family(&e, "outpost_probes_total", EXPO_COUNTER, "Probes run.");
    assert_true(b.failed);
    buf_free(&b);
}

/* ---- negotiation ---- */

static void test_negotiate_table(void **state)
{
    (void)state;
    static const struct {
        const char *accept;
        enum expo_format want;
    } cases[] = {
        {NULL, EXPO_TEXT},
        {"", EXPO_TEXT},
        {"text/plain", EXPO_TEXT},
        {"text/plain;version=0.0.4", EXPO_TEXT},
        {"application/openmetrics-text", EXPO_OPENMETRICS},
        {"application/openmetrics-text; version=1.0.0; charset=utf-8", EXPO_OPENMETRICS},
        {"APPLICATION/OpenMetrics-Text", EXPO_OPENMETRICS},
        /* What Prometheus sends by default. */
        {"application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"
         "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1",
         EXPO_OPENMETRICS},
        /* Prometheus with scrape_protocols: [PrometheusText0.0.4, OpenMetricsText1.0.0]. */
        {"text/plain;version=0.0.4;q=0.5,application/openmetrics-text;version=1.0.0;q=0.4,*/*;"
         "q=0.1",
         EXPO_TEXT},
        {"text/plain;q=1,application/openmetrics-text;q=0.5", EXPO_TEXT},
        {"text/plain;q=0.5,application/openmetrics-text;q=0.6", EXPO_OPENMETRICS},
        {"text/plain; q=0.2, application/openmetrics-text; q=0.3", EXPO_OPENMETRICS},
        {"application/openmetrics-text;q=0", EXPO_TEXT},
        {"application/openmetrics-text;q=0.0,text/plain;q=0", EXPO_TEXT},
        {"*/*", EXPO_TEXT},
        {"*/*;q=0.8,application/openmetrics-text;q=0.9", EXPO_OPENMETRICS},
        {"application/openmetrics-text;q=0.9,*/*", EXPO_TEXT},
        {"text/*;q=0.2,application/openmetrics-text;q=0.3", EXPO_OPENMETRICS},
        /* Equal preference: text wins. */
        {"application/openmetrics-text,text/plain", EXPO_TEXT},
        {"text/plain;q=0.5,application/openmetrics-text;q=0.5", EXPO_TEXT},
        {"application/openmetrics-text;q=0.7,text/plain;q=0.7", EXPO_TEXT},
        /* Malformed q: the range is ignored. */
        {"application/openmetrics-text;q=abc", EXPO_TEXT},
        {"application/openmetrics-text;q=1.5", EXPO_TEXT},
        {"application/openmetrics-text;q=-1", EXPO_TEXT},
        /* Near misses are not OpenMetrics. */
        {"application/openmetrics-textx", EXPO_TEXT},
        {"application/openmetrics", EXPO_TEXT},
        {"application/*", EXPO_TEXT},
        {"application/json", EXPO_TEXT},
        /* Garbage. */
        {"garbage", EXPO_TEXT},
        {",,,;;;", EXPO_TEXT},
        {";q=1", EXPO_TEXT},
        {"   ", EXPO_TEXT},
        {"\x01\x02\xff", EXPO_TEXT},
        /* Whitespace around the ranges. */
        {"  application/openmetrics-text  ", EXPO_OPENMETRICS},
        {"text/html, application/openmetrics-text;q=0.9", EXPO_OPENMETRICS},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        enum expo_format got = expo_negotiate(cases[i].accept);
        if (got != cases[i].want)
            fail_msg("row %zu (\"%s\"): got %d, want %d", i,
                     cases[i].accept ? cases[i].accept : "(null)", (int)got, (int)cases[i].want);
    }
}

/* q-values follow RFC 9110's grammar exactly: "0" with up to three
 * decimals, or "1" with up to three zeros. Anything else (strtod's
 * exponents, hex, signs, infinities, trailing garbage, digits it would cut)
 * is malformed and ignores its range. */
static void test_negotiate_qvalues(void **state)
{
    (void)state;
    static const struct {
        const char *accept;
        enum expo_format want;
    } cases[] = {
        {"application/openmetrics-text;q=0.001", EXPO_OPENMETRICS},
        {"application/openmetrics-text;q=0.999", EXPO_OPENMETRICS},
        {"application/openmetrics-text;q=1.000", EXPO_OPENMETRICS},
        {"application/openmetrics-text;q=1.", EXPO_OPENMETRICS},
        {"application/openmetrics-text;q=0.", EXPO_TEXT},
        {"application/openmetrics-text;Q=0.5", EXPO_OPENMETRICS},
        {"application/openmetrics-text;q=0.5 ", EXPO_OPENMETRICS},
        {"application/openmetrics-text;q=0.5;charset=utf-8", EXPO_OPENMETRICS},
        {"application/openmetrics-text;q=0.5abc", EXPO_TEXT},
        {"application/openmetrics-text;q=.5", EXPO_TEXT},
        {"application/openmetrics-text;q=+0.5", EXPO_TEXT},
        {"application/openmetrics-text;q= 0.5", EXPO_TEXT},
        {"application/openmetrics-text;q=0x1", EXPO_TEXT},
        {"application/openmetrics-text;q=1e0", EXPO_TEXT},
        {"application/openmetrics-text;q=1e400", EXPO_TEXT},
        {"application/openmetrics-text;q=inf", EXPO_TEXT},
        {"application/openmetrics-text;q=nan", EXPO_TEXT},
        {"application/openmetrics-text;q=1.001", EXPO_TEXT},
        {"application/openmetrics-text;q=0.0001", EXPO_TEXT},
        {"application/openmetrics-text;q=0.50000000000000000001", EXPO_TEXT},
        {"application/openmetrics-text;q=", EXPO_TEXT},
        {"application/openmetrics-text;q=2", EXPO_TEXT},
        /* Three decimals compare exactly. */
        {"text/plain;q=0.501,application/openmetrics-text;q=0.502", EXPO_OPENMETRICS},
        {"text/plain;q=0.502,application/openmetrics-text;q=0.501", EXPO_TEXT},
        {"text/plain;q=0.5,application/openmetrics-text;q=0.500", EXPO_TEXT},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        enum expo_format got = expo_negotiate(cases[i].accept);
        if (got != cases[i].want)
            fail_msg("row %zu (\"%s\"): got %d, want %d", i, cases[i].accept, (int)got,
                     (int)cases[i].want);
    }
}

/* ---- Accept-Encoding ---- */

static void test_accepts_gzip(void **state)
{
    (void)state;
    static const struct {
        const char *ae;
        bool want;
    } cases[] = {
        {NULL, false},
        {"", false},
        {"gzip", true},
        {"GZip", true},
        {"deflate, gzip", true},
        {"gzip, deflate, br", true},
        {"  gzip  ", true},
        {"gzip;q=1", true},
        {"gzip;q=0.5", true},
        {"gzip ; q=0.5", true},
        {"gzip;q=0.001", true},
        {"gzip;q=1.000", true},
        {"gzip;level=9", true},
        {"gzip;q=0", false},
        {"gzip;q=0.000", false},
        {"gzip;q=0, deflate", false},
        {"deflate;q=0.5, gzip;q=0", false},
        /* Malformed q: the coding is ignored (identity is always fine). */
        {"gzip;q=abc", false},
        {"gzip;q=1e400", false},
        {"gzip;q=1e0", false},
        {"gzip;q=0.5abc", false},
        {"gzip;q=-1", false},
        {"gzip;q=1.5", false},
        {"gzip;q=", false},
        {"gzip;q=0.0001", false},
        /* A malformed coding does not hide a later good one. */
        {"gzip;q=abc, gzip", true},
        /* Other codings and near misses. */
        {"identity", false},
        {"deflate", false},
        {"gzips", false},
        {"x-gzip", false},
        {"gz", false},
        {"*", false},
        {",,;;", false},
        {"\x01\xff", false},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        bool got = expo_accepts_gzip(cases[i].ae);
        if (got != cases[i].want)
            fail_msg("row %zu (\"%s\"): got %d", i, cases[i].ae ? cases[i].ae : "(null)", (int)got);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_format_double_table),
        cmocka_unit_test(test_format_double_round_trip),
        cmocka_unit_test(test_format_double_as_printf),
        cmocka_unit_test(test_format_double_near_short),
        cmocka_unit_test(test_escape_label),
        cmocka_unit_test(test_escape_help),
        cmocka_unit_test(test_family_table),
        cmocka_unit_test(test_sample_table),
        cmocka_unit_test(test_sample_u64_table),
        cmocka_unit_test(test_histogram),
        cmocka_unit_test(test_histogram_no_bounds_no_labels),
        cmocka_unit_test(test_histogram_sequence),
        cmocka_unit_test(test_document_openmetrics),
        cmocka_unit_test(test_finish),
        cmocka_unit_test(test_writer_reports_cap),
        cmocka_unit_test(test_negotiate_table),
        cmocka_unit_test(test_negotiate_qvalues),
        cmocka_unit_test(test_accepts_gzip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
