/*
 * state.h - crash-safe persistence of SLO windows in --storage.path.
 *
 * One file, slo-state.bin: a versioned little-endian format ending in a
 * CRC-32 of everything before it. Writes go to a temp file that is fsynced,
 * renamed over the old one, and the directory fsynced, so a crash leaves
 * either the old or the new file, never a torn one. A file that fails any
 * check on load is moved aside (*.corrupt-<unix time>) and the agent starts
 * fresh: it never crashes on its own state.
 *
 * Layout (version 2):
 *   "OUTPOSTS" u32 version u32 records
 *   per record: u16 name_len, name, u64 identity, u64 events_total,
 *               u64 bad_total, u8 levels, per level: i64 bucket_ms,
 *               u32 count, count x (i64 index, u32 events, u32 bad),
 *               u16 rates, rates x (i64 from_ms, f64 per_ms as its bits)
 *   u32 crc32
 * Version 1 (no rates) is still read: such a record gets the schedule of
 * the running configuration.
 */
#ifndef OUTPOST_STATE_H
#define OUTPOST_STATE_H

#include "buf.h"
#include "config.h"
#include "slo_state.h"

#define STATE_FILE_NAME "slo-state.bin"
#define STATE_VERSION 2u
#define STATE_VERSION_OLDEST 1u
/* More expected events per millisecond than 100,000 checks at 100 ms. */
#define STATE_MAX_RATE_PER_MS 1e4
#define STATE_MAX_FILE_BYTES (256u << 20)
/* 9999-12-31T23:59:59Z: no saved bucket lies beyond it. */
#define STATE_MAX_TIME_MS 253402300799000LL

struct state_file;

/* Read DIR/slo-state.bin. OP_ERR_NOT_FOUND: there is none (first start).
 * OP_ERR_INVALID: unreadable or corrupt; the file was moved aside and
 * errors says where and why. */
enum op_rc state_read(const char *dir, struct state_file **out, struct buf *errors) WUR;
void state_file_free(struct state_file *f);

/* Restore the saved record of spec->name into st (fresh) when its SLI
 * identity matches; logs when the definition changed. Buckets later than
 * now_ms (Unix ms) are left out. True when restored. */
bool state_restore(const struct state_file *f, const struct slo_spec *spec, struct slo_state *st,
                   int64_t now_ms);

/* Atomically replace DIR/slo-state.bin with these states. On failure the
 * previous file is intact and errors says why. */
enum op_rc state_write(const char *dir, const char *const *names, struct slo_state *const *states,
                       size_t n, struct buf *errors) WUR;

/* The format itself, exposed for tests. */
void state_encode(const char *const *names, struct slo_state *const *states, size_t n,
                  struct buf *out);
enum op_rc state_decode(const void *data, size_t len, struct state_file **out,
                        struct buf *errors) WUR;
size_t state_record_count(const struct state_file *f);

#endif
