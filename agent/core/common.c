/* common.c - result strings, allocation wrappers, clocks, hashing. */
#include "common.h"

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
