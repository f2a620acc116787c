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

#endif
