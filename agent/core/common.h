/*
 * common.h - the project's one result enum, allocation wrappers and small
 * helpers shared by every module.
 *
 * Small internal allocations abort on OOM (house style): a daemon that cannot
 * allocate a few hundred bytes cannot do anything useful, and checking every
 * such call would hide the real error paths. Anything sized by outside input
 * goes through a capped buffer (buf.h) instead.
 */
#ifndef OUTPOST_COMMON_H
#define OUTPOST_COMMON_H

#include <stddef.h>
#include <stdint.h>

#define WUR __attribute__((warn_unused_result))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#ifdef OUTPOST_TESTING
#define STATIC
#else
#define STATIC static
#endif

enum op_rc {
    OP_OK = 0,
    OP_ERR_INVALID, /* bad input: config, request, response */
    OP_ERR_LIMIT,   /* a named cap was exceeded */
    OP_ERR_IO,      /* file or socket error; errno has details */
    OP_ERR_NOT_FOUND,
    OP_ERR_SYSTEM, /* a library or kernel call failed */
    OP_ERR_STATE,  /* called in the wrong state */
};

/* Static string naming rc; never NULL. */
const char *op_strerror(enum op_rc rc);

/* Abort on OOM. Returned memory: caller frees. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);

/* 64-bit FNV-1a of a NUL-terminated string, or of n bytes: stable across
 * runs and hosts. hash_mem_from continues a hash (h from an earlier call),
 * so composite keys hash without being concatenated first. */
uint64_t hash_str(const char *s);
uint64_t hash_mem(const void *p, size_t n);
uint64_t hash_mem_from(uint64_t h, const void *p, size_t n);
#define HASH_INIT 14695981039346656037ULL /* FNV-1a 64-bit offset basis */

/* Parse the len bytes at s (borrowed, need not be NUL-terminated) as a
 * decimal whole number: ASCII digits only, at least one (no sign, space or
 * base prefix, which strtoull would take). OP_ERR_INVALID when malformed,
 * OP_ERR_LIMIT when a well-formed number is above max (however many digits
 * it has); *out is written only on OP_OK. */
enum op_rc parse_u64(const char *s, size_t len, uint64_t max, uint64_t *out) WUR;

/* Room fmt_u64 needs, NUL included. */
#define FMT_U64_BYTES 24
/* v in decimal into out (FMT_U64_BYTES); returns the length. */
size_t fmt_u64(char *out, uint64_t v);

/* Room fmt_double needs, NUL included: "%.17g" of any double is at most 24
 * characters. */
#define FMT_DOUBLE_BYTES 32
/* Text that reads back as exactly v: whole numbers below 2^53 without
 * exponent, others in the fewest of 15, 16 or 17 significant digits that
 * round-trip (cheap, and never %g's lossy 6); "+Inf", "-Inf", "NaN". out
 * holds cap bytes (FMT_DOUBLE_BYTES is always enough). */
void fmt_double(char *out, size_t cap, double v);

/* Room sha256_hex needs: 64 lowercase hex digits and the NUL. */
#define SHA256_HEX_BYTES 65
/* SHA-256 (OpenSSL's EVP) of the n bytes at p, as lowercase hex, into out.
 * A digest that cannot be computed (no memory inside libcrypto) aborts, as
 * xmalloc does. */
void sha256_hex(const void *p, size_t n, char out[SHA256_HEX_BYTES]);
/* The same for digest d (32 bytes). */
void sha256_to_hex(const unsigned char d[32], char out[SHA256_HEX_BYTES]);

#endif
