/* common.c - result strings, allocation wrappers, hashing, number text. */
#include "common.h"

#include <math.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *op_strerror(enum op_rc rc)
{
    switch (rc) {
    case OP_OK:
        return "ok";
    case OP_ERR_INVALID:
        return "invalid input";
    case OP_ERR_LIMIT:
        return "limit exceeded";
    case OP_ERR_IO:
        return "i/o error";
    case OP_ERR_NOT_FOUND:
        return "not found";
    case OP_ERR_SYSTEM:
        return "system error";
    case OP_ERR_STATE:
        return "wrong state";
    }
    return "unknown error";
}

static void oom(size_t n)
{
    fprintf(stderr, "outpost: out of memory allocating %zu bytes\n", n);
    abort();
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom(n);
    return p;
}

void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        oom(n * size);
    return p;
}

void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        oom(n);
    return q;
}

char *xstrdup(const char *s)
{
    return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
    char *p = xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

uint64_t hash_mem_from(uint64_t h, const void *p, size_t n)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

uint64_t hash_mem(const void *p, size_t n)
{
    return hash_mem_from(HASH_INIT, p, n);
}

uint64_t hash_str(const char *s)
{
    return hash_mem(s, strlen(s));
}

enum op_rc parse_u64(const char *s, size_t len, uint64_t max, uint64_t *out)
{
    if (len == 0)
        return OP_ERR_INVALID;
    for (size_t i = 0; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            return OP_ERR_INVALID;
    /* Well-formed from here on: only the size can be wrong. */
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned d = (unsigned)(s[i] - '0');
        if (d > max || v > (max - d) / 10) /* v * 10 + d > max, without overflow */
            return OP_ERR_LIMIT;
        v = v * 10 + d;
    }
    *out = v;
    return OP_OK;
}

size_t fmt_u64(char *out, uint64_t v)
{
    char tmp[FMT_U64_BYTES];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    out[n] = '\0';
    return n;
}

/* Powers of ten that doubles hold exactly. */
static const double exact_p10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                   1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                   1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/*
 * The text "%.15g" gives for a non-whole v, without printf and strtod,
 * when v has a decimal of at most 15 significant digits that reads back
 * as v; false otherwise (the caller takes the slow path).
 *
 * Why it is the same text: m / 10^k with m < 2^53 and k <= 22 is one
 * correctly rounded IEEE division of exact operands, so it equals what
 * strtod makes of "m e-k": the test below is the round-trip test. A
 * decimal of at most 15 digits that round-trips lies within half an ulp
 * of v, which is less than half the spacing of 15-digit decimals, so it
 * is the only one and it is what rounding v to 15 digits gives; the
 * smallest k finds it without trailing zeros, as %g strips them. The
 * layout then follows %g with precision 15.
 */
static bool fmt_double_short(char *out, size_t cap, double v)
{
    double a = fabs(v);
    if (!(a >= 1e-7 && a < 1e15))
        return false;
    uint64_t m = 0;
    size_t k = 1;
    for (; k < ARRAY_SIZE(exact_p10); k++) {
        double scaled = a * exact_p10[k];
        if (scaled >= 1e15)
            return false;
        m = (uint64_t)llround(scaled);
        if ((double)m / exact_p10[k] == a)
            break;
    }
    if (k == ARRAY_SIZE(exact_p10) || m == 0)
        return false;
    char dig[FMT_U64_BYTES];
    int nd = (int)fmt_u64(dig, m);
    int x = nd - 1 - (int)k; /* decimal exponent of the first digit */
    char t[FMT_DOUBLE_BYTES];
    size_t n = 0;
    if (v < 0)
        t[n++] = '-';
    if (x < -4) {
        /* %g's exponent form: d[.ddd]e-XX, at least two exponent digits. */
        t[n++] = dig[0];
        if (nd > 1) {
            t[n++] = '.';
            memcpy(t + n, dig + 1, (size_t)nd - 1);
            n += (size_t)nd - 1;
        }
        t[n++] = 'e';
        t[n++] = '-';
        int e = -x;
        if (e >= 100)
            t[n++] = (char)('0' + e / 100);
        t[n++] = (char)('0' + e / 10 % 10);
        t[n++] = (char)('0' + e % 10);
    } else if (x >= 0) {
        memcpy(t + n, dig, (size_t)x + 1);
        n += (size_t)x + 1;
        t[n++] = '.';
        memcpy(t + n, dig + x + 1, (size_t)(nd - x - 1));
        n += (size_t)(nd - x - 1);
    } else {
        t[n++] = '0';
        t[n++] = '.';
        for (int i = 0; i < -x - 1; i++)
            t[n++] = '0';
        memcpy(t + n, dig, (size_t)nd);
        n += (size_t)nd;
    }
    if (n + 1 > cap)
        return false;
    memcpy(out, t, n);
    out[n] = '\0';
    return true;
}

void fmt_double(char *out, size_t cap, double v)
{
    if (isnan(v)) {
        snprintf(out, cap, "NaN");
        return;
    }
    if (isinf(v)) {
        snprintf(out, cap, v > 0 ? "+Inf" : "-Inf");
        return;
    }
    /* Whole numbers (counts, status codes, timestamps) print without an
     * exponent; everything else in the fewest digits that round-trip
     * (%g's default 6 digits would lose precision). */
    if (v == floor(v) && fabs(v) < 9007199254740992.0) {
        /* "%.0f" by hand: a scrape prints hundreds of thousands. */
        char t[FMT_U64_BYTES + 1];
        size_t n = 0;
        if (signbit(v))
            t[n++] = '-';
        n += fmt_u64(t + n, (uint64_t)fabs(v));
        if (n + 1 <= cap) {
            memcpy(out, t, n + 1);
            return;
        }
        snprintf(out, cap, "%.0f", v);
        return;
    }
    if (fmt_double_short(out, cap, v))
        return;
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(out, cap, "%.*g", prec, v);
        /* ERANGE (subnormals) still returns the nearest double, which is
         * all this asks; 17 digits always round-trip, so the last pass keeps
         * its text. */
        char *end;
        double back = strtod(out, &end);
        if (end != out && *end == '\0' && back == v)
            return;
    }
}

void sha256_to_hex(const unsigned char d[32], char out[SHA256_HEX_BYTES])
{
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        out[2 * i] = hex[d[i] >> 4];
        out[2 * i + 1] = hex[d[i] & 15];
    }
    out[64] = '\0';
}

void sha256_hex(const void *p, size_t n, char out[SHA256_HEX_BYTES])
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int dn = 0;
    if (EVP_Digest(p, n, d, &dn, EVP_sha256(), NULL) != 1 || dn != 32) {
        fprintf(stderr, "fatal: SHA-256 failed\n");
        abort();
    }
    sha256_to_hex(d, out);
}
