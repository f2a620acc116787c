/* common.c - result strings, allocation wrappers, hashing, number text. */
#include "common.h"

#include <math.h>
#include <openssl/evp.h>
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
        snprintf(out, cap, "%.0f", v);
        return;
    }
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
