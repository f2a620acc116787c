/*
 * audit_line.h - one line of the audit log, written and read back: the pure
 * half of the audit log (no file, no lock, no clock), shared by the writer
 * (audit.c), `outpost audit verify` (audit_cmd.c) and the fuzz target.
 *
 * A line, keys in exactly this order and no space outside strings:
 *
 *   {"seq":N,"time":"2026-01-02T03:04:05.678Z","event":"E","fields":{"k":"v",...},
 *    "prev":"<64 hex>","hash":"<64 hex>"}\n
 *
 * `hash` is the SHA-256, in lowercase hex, of the line's bytes without its
 * `,"hash":"..."` member: the same text ending in `"prev":"..."}`. `prev` is
 * the hash of the line before it (the file before it, after a rotation), or
 * 64 zeros on the very first line. `seq` counts from 1, up by exactly one a
 * line.
 *
 * Field values are any bytes, written as JSON strings: `"` and `\` escaped,
 * \n \r \t short, other control characters and DEL as \u00XX, valid UTF-8 as
 * it is, and every byte that is not part of valid UTF-8 (a stray
 * continuation byte, an overlong form, a surrogate, past U+10FFFF) as
 * \u00XX with the byte's value. So a line is always valid UTF-8 JSON, and
 * since valid text above ASCII is never escaped, a \u0080 .. \u00ff in a
 * value always stands for one such raw byte.
 */
#ifndef OUTPOST_AUDIT_LINE_H
#define OUTPOST_AUDIT_LINE_H

#include "buf.h"
#include "common.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One line, its newline included: a longer event is not written (it is
 * counted as a write failure), and the verifier rejects a longer line. */
#define AUDIT_MAX_LINE_BYTES (1u << 20)
/* Key/value pairs one event may carry. */
#define AUDIT_MAX_FIELDS 16
/* `prev` of the first line ever. */
#define AUDIT_ZERO_HASH "0000000000000000000000000000000000000000000000000000000000000000"

/* Append the n bytes at s as a JSON string (quotes included) to b. */
void audit_json_string(struct buf *b, const char *s, size_t n);

/* Unix milliseconds as RFC 3339 UTC with milliseconds
 * ("2026-01-02T03:04:05.678Z"); out holds at least 32 bytes. Times before
 * 1970 or past 9999 are clamped to those years' ends. */
void audit_time(int64_t wall_ms, char *out, size_t cap);

/* Append one whole line (newline included) to out: kv holds n_pairs key,
 * value pairs of C strings (borrowed), prev 64 hex digits. Its hash goes to
 * hash (SHA256_HEX_BYTES). OP_ERR_LIMIT, with out failed, when out's cap
 * was hit. */
enum op_rc audit_line_encode(struct buf *out, uint64_t seq, int64_t wall_ms, const char *event,
                             const char *const *kv, size_t n_pairs, const char *prev,
                             char *hash) WUR;

/* What a line holds that the chain needs. */
struct audit_line {
    uint64_t seq;
    char prev[SHA256_HEX_BYTES];
    char hash[SHA256_HEX_BYTES];     /* as recorded in the line */
    char computed[SHA256_HEX_BYTES]; /* of the line's bytes without its hash member */
};

/* Read the line s[0 .. n) (no newline) in the format above. OP_OK with out
 * filled, or OP_ERR_INVALID with *why (static text) and *at, the offset of
 * the byte where it stopped matching. The hash is computed, not compared:
 * the caller decides what a mismatch means. Any bytes, any length. */
enum op_rc audit_line_parse(const char *s, size_t n, struct audit_line *out, const char **why,
                            size_t *at) WUR;

/* A chain being verified, line after line, across the files of one log. */
struct audit_chain {
    uint64_t lines; /* lines accepted so far */
    uint64_t seq;   /* of the last one */
    char hash[SHA256_HEX_BYTES];
};

void audit_chain_init(struct audit_chain *c);
/* The next complete line s[0 .. n) (without its newline). The first line
 * of a chain is taken as given (its own hash is still checked); every later
 * one must carry prev = the hash before and seq + 1. OP_OK, or
 * OP_ERR_INVALID with one line (no newline) saying what broke appended to
 * why; c is unchanged then. */
enum op_rc audit_chain_next(struct audit_chain *c, const char *s, size_t n, struct buf *why) WUR;

#endif
