/*
 * audit.h - the tamper-evident audit log: `audit.jsonl` under the storage
 * directory, one JSON line per event, each line carrying the SHA-256 of the
 * line before it (audit_line.h has the format), so an edited, deleted,
 * inserted or reordered line breaks the chain that `outpost audit verify`
 * walks.
 *
 * Writing. Each event is one write(2) of one whole line under the module's
 * mutex, to a descriptor opened O_APPEND, so lines of different threads never
 * interleave and a reader never sees half a line but after a crash. The
 * line is not fsynced: what a host crash (not an agent crash) loses is the
 * page cache's last events, and the chain stays valid without them.
 *
 * Continuing. audit_open continues the chain of what is there: seq and hash
 * of the last complete line. A partial last line (the agent died inside a
 * write) is cut off, a warning logged with its byte count, and the first
 * event written afterwards carries the field "repaired_bytes". A last line
 * that is not an audit line, or whose hash does not match its content, is
 * refused: the log was changed and continuing would bless the change.
 *
 * Rotation. An event that would take the file past max_bytes first renames
 * audit.jsonl to audit.jsonl.1 (.1 to .2, and so on; the one past
 * keep_files is deleted); the new file starts with an `audit_rotated` event
 * whose prev is the old file's last hash, and seq goes on, so the files
 * verify together, oldest first. The new file is made (as
 * .audit.jsonl.next) before anything moves, so a rotation that fails has
 * deleted nothing.
 *
 * Failures never reach the caller: a write that fails is counted
 * (audit_write_failures), logged when writes start failing and when they
 * work again, and the event is lost; the chain stays valid because seq and
 * prev move only when a line was written whole.
 */
#ifndef OUTPOST_AUDIT_H
#define OUTPOST_AUDIT_H

#include "buf.h"
#include "clock.h"
#include "common.h"

#include <stddef.h>
#include <stdint.h>

#define AUDIT_FILE_NAME "audit.jsonl"
#define AUDIT_DEFAULT_MAX_BYTES (64ull << 20)
#define AUDIT_MIN_MAX_BYTES (1ull << 10)
#define AUDIT_MAX_MAX_BYTES (64ull << 30)
#define AUDIT_DEFAULT_MAX_FILES 10u
#define AUDIT_MAX_MAX_FILES 1000u

/* The closed set of event names, in the order of audit_event_name. */
#define AUDIT_EVENT_COUNT 14

struct audit;

/* Open (create: mode 0640, the directory 0750 when missing) dir/audit.jsonl
 * and continue its chain (see above); dir is borrowed. max_bytes from
 * AUDIT_MIN_MAX_BYTES to AUDIT_MAX_MAX_BYTES, keep_files from 1 to
 * AUDIT_MAX_MAX_FILES rotated files kept; clock borrowed, must outlive the
 * log. The file is locked (flock): a second agent on the same directory is
 * refused. OP_ERR_IO (cannot create, read or lock) or OP_ERR_INVALID (the
 * last line is not a valid audit line) with one line in err. Caller frees
 * with audit_close. */
enum op_rc audit_open(const char *dir, uint64_t max_bytes, unsigned keep_files,
                      const struct clock *clock, struct audit **out, struct buf *err) WUR;
/* Close; NULL is a no-op. No audit_event may run or follow. */
void audit_close(struct audit *a);

/* Append one event: event is one of the closed set (an unknown name is a
 * programming error: it asserts, and in a build without asserts it is
 * counted as a write failure); then key, value string pairs (borrowed, any
 * bytes, JSON-escaped here; a NULL value is written as ""), terminated by
 * NULL, at most AUDIT_MAX_FIELDS pairs. a == NULL is a no-op. Any thread;
 * never blocks on more than one write(2) (a rotation adds a few renames);
 * never fails the caller: an I/O error is logged and counted. */
void audit_event(struct audit *a, const char *event, ...) __attribute__((sentinel));

/* Event name i (0 .. AUDIT_EVENT_COUNT - 1); static. */
const char *audit_event_name(size_t i);
/* Events of name i written since open (audit_rotated included). Any thread. */
uint64_t audit_events_written(const struct audit *a, size_t i);
/* Events that could not be written since open. Any thread. */
uint64_t audit_write_failures(const struct audit *a);

/* "64MiB", "1048576", "512KiB", "1GB" ... (B, KiB, MiB, GiB, kB, KB, MB, GB)
 * within AUDIT_MIN_MAX_BYTES .. AUDIT_MAX_MAX_BYTES; OP_ERR_INVALID else. */
enum op_rc audit_parse_size(const char *s, uint64_t *out) WUR;

#endif
