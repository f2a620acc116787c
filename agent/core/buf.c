/* buf.c - capped growable buffer. */
#include "buf.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Rooms from this size on are faulted in by buf_prealloc. */
#define BUF_PREFAULT_BYTES (2u << 20)

void buf_init(struct buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
    b->failed = false;
}

void buf_free(struct buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void buf_reset(struct buf *b)
{
    b->len = 0;
    b->failed = false;
    if (b->data)
        b->data[0] = '\0';
}

/* The first failure drops everything appended so far (curl's dynbuf does the
 * same): a writer that checks `failed` once at the end can then never emit a
 * well-formed document with a piece missing from its middle. */
static void buf_fail(struct buf *b)
{
    buf_free(b);
    b->failed = true;
}

/* Make room for n more bytes plus the terminating NUL. */
static enum op_rc buf_reserve(struct buf *b, size_t n)
{
    if (b->failed)
        return OP_ERR_LIMIT;
    if (n > b->max || b->len > b->max - n) {
        buf_fail(b);
        return OP_ERR_LIMIT;
    }
    size_t need = b->len + n + 1;
    if (need <= b->cap)
        return OP_OK;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    b->data = xrealloc(b->data, cap);
    b->cap = cap;
    return OP_OK;
}

void buf_truncate(struct buf *b, size_t len)
{
    if (b->failed || len >= b->len)
        return;
    b->len = len;
    b->data[len] = '\0';
}

void buf_prealloc(struct buf *b, size_t n)
{
    if (b->failed)
        return;
    if (n > b->max - b->len)
        n = b->max - b->len;
    if (b->len + n + 1 <= b->cap)
        return;
    b->data = xrealloc(b->data, b->len + n + 1);
    if (!b->cap)
        b->data[0] = '\0';
    b->cap = b->len + n + 1;
    if (n < BUF_PREFAULT_BYTES)
        return;
    /* Whole pages of the new room only; both calls are hints, and a kernel
     * without them (before 5.14) just faults page by page as before. */
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t lo = ((uintptr_t)b->data + b->len + 1 + page - 1) & ~(page - 1);
    uintptr_t hi = ((uintptr_t)b->data + b->cap) & ~(page - 1);
    if (hi > lo) {
        madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
#ifdef MADV_POPULATE_WRITE
        madvise((void *)lo, hi - lo, MADV_POPULATE_WRITE);
#endif
    }
}

enum op_rc buf_add(struct buf *b, const void *data, size_t n)
{
    enum op_rc rc = buf_reserve(b, n);
    if (rc != OP_OK)
        return rc;
    if (n)
        memcpy(b->data + b->len, data, n);
    b->len += n;
    b->data[b->len] = '\0';
    return OP_OK;
}

enum op_rc buf_adds(struct buf *b, const char *s)
{
    return buf_add(b, s, strlen(s));
}

enum op_rc buf_addc(struct buf *b, char c)
{
    return buf_add(b, &c, 1);
}

enum op_rc buf_vaddf(struct buf *b, const char *fmt, va_list ap)
{
    if (b->failed)
        return OP_ERR_LIMIT;
    char small[256];
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(small, sizeof(small), fmt, ap2);
    va_end(ap2);
    if (n < 0) {
        buf_fail(b);
        return OP_ERR_INVALID;
    }
    if ((size_t)n < sizeof(small))
        return buf_add(b, small, (size_t)n);
    enum op_rc rc = buf_reserve(b, (size_t)n);
    if (rc != OP_OK)
        return rc;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return OP_OK;
}

enum op_rc buf_addf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    enum op_rc rc = buf_vaddf(b, fmt, ap);
    va_end(ap);
    return rc;
}

const char *buf_str_or(const struct buf *b, const char *when_failed)
{
    return b->failed ? when_failed : buf_str(b);
}

const char *buf_str(const struct buf *b)
{
    return b->data ? b->data : "";
}

char *buf_take(struct buf *b)
{
    char *p = b->data ? b->data : xstrdup("");
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->failed = false;
    return p;
}

enum op_rc buf_read_file(struct buf *b, const char *path)
{
    if (b->failed)
        return OP_ERR_LIMIT; /* an append like any other, even of nothing */
    FILE *f = fopen(path, "rb");
    if (!f)
        return OP_ERR_IO;
    errno = 0;
    char chunk[65536];
    size_t got;
    enum op_rc rc = OP_OK;
    while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (buf_add(b, chunk, got) != OP_OK) {
            rc = OP_ERR_LIMIT;
            break;
        }
    }
    if (rc == OP_OK && ferror(f)) {
        rc = OP_ERR_IO;
        if (!errno)
            errno = EIO;
    }
    int saved = errno;
    fclose(f);
    errno = saved;
    return rc;
}

void buf_add_json_string(struct buf *b, const char *s)
{
    buf_addc(b, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"':
            buf_adds(b, "\\\"");
            break;
        case '\\':
            buf_adds(b, "\\\\");
            break;
        case '\n':
            buf_adds(b, "\\n");
            break;
        case '\t':
            buf_adds(b, "\\t");
            break;
        case '\r':
            buf_adds(b, "\\r");
            break;
        default:
            if (*p < 0x20)
                buf_addf(b, "\\u%04x", *p);
            else
                buf_addc(b, (char)*p);
        }
    }
    buf_addc(b, '"');
}

void buf_add_json_number(struct buf *b, double v)
{
    if (!isfinite(v)) {
        buf_adds(b, "null");
        return;
    }
    char s[FMT_DOUBLE_BYTES];
    fmt_double(s, sizeof(s), v);
    buf_adds(b, s);
}
