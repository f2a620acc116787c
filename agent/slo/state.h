/*
 * state.h - crash-safe persistence of SLO windows in --storage.path.
 *
 * One file, slo-state.bin: a versioned little-endian format ending in a
 * CRC-32 of everything before it. Writes go to a temp file that is fsynced,
 * renamed over the old one, and the directory fsynced, so a crash leaves
 * either the old or the new file, never a torn one. A file that fails any
 * check on load is moved aside (*.corrupt-<unix time>) and the agent starts
 * fresh: it never crashes on its own state. Something that is not a regular
 * file (a FIFO, a directory) is never read, moved, replaced or removed.
 *
 * The file also keeps the records of SLOs a reload removed (or that were
 * gone from the configuration at start-up) until their windows have passed
 * (keep_ms after they left), so an SLO that comes back gets its history
 * back: a state_file is also that set, kept by the runtime.
 *
 * Layout (version 3):
 *   "OUTPOSTS" u32 version u32 records
 *   per record: u16 name_len, name, u64 identity, u64 events_total,
 *               u64 bad_total, u8 levels, per level: i64 bucket_ms,
 *               u32 count, count x (i64 index, u32 events, u32 bad),
 *               u16 rates, rates x (i64 from_ms, f64 per_ms as its bits),
 *               i64 keep_ms, i64 retired_ms (0: configured when written)
 *   u32 crc32
 * Versions 1 (no rates) and 2 (no keep_ms, retired_ms) are still read: a
 * version 1 record gets the schedule of the running configuration, and an
 * old record of an SLO no longer configured is kept STATE_MAX_KEEP_MS.
 */
#ifndef OUTPOST_STATE_H
#define OUTPOST_STATE_H

#include "buf.h"
#include "config.h"
#include "slo_state.h"

#define STATE_FILE_NAME "slo-state.bin"
#define STATE_VERSION 3u
#define STATE_VERSION_OLDEST 1u
/* More expected events per millisecond than 100,000 checks at 100 ms. */
#define STATE_MAX_RATE_PER_MS 1e4
#define STATE_MAX_FILE_BYTES (256u << 20)
/* 9999-12-31T23:59:59Z: no saved bucket lies beyond it. */
#define STATE_MAX_TIME_MS 253402300799000LL
/* The longest a record is worth keeping: the longest level-2 ring (90 days
 * and an hour). */
#define STATE_MAX_KEEP_MS ((int64_t)SLIW_L2_MAX_N * SLIW_L2_MS)

struct state_file;

/* Read DIR/slo-state.bin (never blocking). OP_ERR_NOT_FOUND: there is none
 * (first start). OP_ERR_INVALID: unreadable or corrupt, and errors says
 * why: a file was moved aside (errors says where); anything else (a FIFO,
 * a directory) is left as it is. */
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
/* The same with an encoding made by state_encode_kept into data, whose cap
 * should be STATE_MAX_FILE_BYTES (what state_read accepts): a failed data
 * is an error (OP_ERR_LIMIT) and the previous file stays. Refuses
 * (OP_ERR_IO) to replace anything but a regular file. */
enum op_rc state_write_data(const char *dir, const struct buf *data, struct buf *errors) WUR;

/* The file of n live states (names[i] is states[i]'s SLO) and the records
 * of kept (may be NULL) whose names are not among them, into out. */
void state_encode_kept(const char *const *names, struct slo_state *const *states, size_t n,
                       const struct state_file *kept, struct buf *out);
/* state_encode_kept without kept records; exposed for tests. */
void state_encode(const char *const *names, struct slo_state *const *states, size_t n,
                  struct buf *out);
enum op_rc state_decode(const void *data, size_t len, struct state_file **out,
                        struct buf *errors) WUR;
size_t state_record_count(const struct state_file *f);

/* ---- the records of SLOs no longer configured ---- */

/* An empty set (caller frees with state_file_free). */
struct state_file *state_file_new(void);
/* True when f holds a record named name. */
bool state_has(const struct state_file *f, const char *name);
/* Keep a copy of st, the state of SLO name, which left the configuration
 * at now_ms (Unix ms); it replaces a record of that name. */
void state_retire(struct state_file *f, const char *name, struct slo_state *st, int64_t now_ms);
/* Drop the records whose SLO cfg (may be NULL) configures, since the live
 * state is the truth for those, and those kept keep_ms since they left
 * (logged). A record saved while configured left at now_ms. Then, while
 * the configured SLOs and the records are more than CFG_MAX_SLOS (what a
 * file may hold), the records that left first (logged). Returns how many
 * were dropped for either reason. */
size_t state_forget(struct state_file *f, const struct cfg *cfg, int64_t now_ms);

#endif
