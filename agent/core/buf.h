/*
 * buf.h - growable byte buffer with a hard cap (the idea of curl's dynbuf).
 *
 * The struct is public on purpose, unlike other modules: buffers live on the
 * stack and inside other structs, and callers read data/len directly. Fields
 * are changed only through these functions. Data is always NUL-terminated so
 * it can be used as a C string.
 *
 * Failure is absorbing (curl's dynbuf): the first append that would exceed
 * max frees the content (len 0, data NULL, buf_str gives "") and sets
 * `failed`; every later append is a no-op returning OP_ERR_LIMIT until
 * buf_reset or buf_take. So a failed buffer never holds output with a piece
 * missing, and a writer may append many pieces and check once at the end.
 */
#ifndef OUTPOST_BUF_H
#define OUTPOST_BUF_H

#include "common.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

struct buf {
    char *data; /* NULL until the first append, and after a failure */
    size_t len;
    size_t cap;
    size_t max;  /* an append that would exceed this fails the buffer */
    bool failed; /* an append failed since init/reset/take: content dropped */
};

/* Initialise an empty buffer that may grow to max bytes. */
void buf_init(struct buf *b, size_t max);
/* Release memory; the buffer is empty afterwards and keeps max and failed
 * (a failed buffer stays failed until buf_reset or buf_init). */
void buf_free(struct buf *b);
/* Forget the content and any failure, keep the memory. */
void buf_reset(struct buf *b);

/*
 * Append. OP_ERR_LIMIT when the buffer would exceed max, or had failed
 * before: the buffer is then failed and empty (never a silent truncation,
 * never a partial document). Because failure is absorbing, a writer that
 * appends many pieces may check `failed` once at the end instead of after
 * every call; that is why these results, unlike other fallible calls, may be
 * ignored. buf_vaddf returns OP_ERR_INVALID (and fails the buffer) when the
 * format itself cannot be expanded.
 */
enum op_rc buf_add(struct buf *b, const void *data, size_t n);
enum op_rc buf_adds(struct buf *b, const char *s);
enum op_rc buf_addc(struct buf *b, char c);
enum op_rc buf_addf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
enum op_rc buf_vaddf(struct buf *b, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

/* Drop the content from offset len on (len <= b->len); a failed buffer
 * stays failed. For a writer taking back what it just appended. */
void buf_truncate(struct buf *b, size_t len);
/* Make room for n more bytes now, so that appends up to that size do not
 * move the content (a hint: the cap still applies to what is appended).
 * A large room is also faulted in at once, in huge pages where the
 * kernel allows: a buffer written front to back (a metrics page of tens
 * of MB) otherwise takes one page fault per 4 KiB. */
void buf_prealloc(struct buf *b, size_t n);

/* Append s as a double-quoted JSON string: backslash, quote and control
 * characters escaped (\n, \t, \r short, others \u00XX). Also valid as a
 * quoted logfmt value. */
void buf_add_json_string(struct buf *b, const char *s);

/* Append v as a JSON number in fmt_double's shortest round-tripping text;
 * NaN and +-Inf, which JSON cannot spell, as null. */
void buf_add_json_number(struct buf *b, double v);

/* Append the whole content of the file at path (a stream, so it also reads
 * what stat cannot size). OP_ERR_IO with errno set when it cannot be opened
 * or read; OP_ERR_LIMIT when it is larger than the buffer's cap (the buffer
 * is then failed and empty; nothing beyond the cap is read). */
enum op_rc buf_read_file(struct buf *b, const char *path) WUR;

/* Content as a C string, or when_failed (static) if an append failed and the
 * content was dropped: for messages that must say something either way. */
const char *buf_str_or(const struct buf *b, const char *when_failed);
/* Content as a C string ("" when empty); borrowed, valid until the next change. */
const char *buf_str(const struct buf *b);
/* Hand the content to the caller (caller frees) and reset the buffer, failure
 * included; a failed buffer hands over an allocated "". */
char *buf_take(struct buf *b);

#endif
