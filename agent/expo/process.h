/*
 * process.h - the standard process_* metrics, read from /proc like the Go
 * client library does (no client library in C).
 */
#ifndef OUTPOST_PROCESS_H
#define OUTPOST_PROCESS_H

#include "common.h"

/* Both files are read whole up to these caps; a larger one is an error,
 * never a truncation. /proc/stat grows with CPUs and interrupt sources, and
 * btime comes after its long "intr" line. /proc/self/stat is one line of
 * about 52 numbers (under 1.5 KiB today). */
#define PROCESS_MAX_PROC_STAT_BYTES (16u << 20)
#define PROCESS_MAX_SELF_STAT_BYTES (64u << 10)
/* 9999-12-31T23:59:59Z, the latest boot time taken as real. */
#define PROCESS_MAX_BTIME 253402300799ULL

struct process_stats {
    double cpu_seconds;
    double resident_bytes;
    double virtual_bytes;
    double open_fds;
    double max_fds;
    double start_time; /* unix seconds */
};

/* Read the calling process's figures. OP_ERR_IO when /proc is unreadable,
 * OP_ERR_LIMIT over a cap; also an error when the boot time cannot be read,
 * since start_time would be wrong (seconds since boot) rather than missing.
 * The boot time is read from /proc/stat once per process: it cannot change
 * while we run. Thread-safe. */
enum op_rc process_collect(struct process_stats *out) WUR;

/* Parse the content of /proc/self/stat (exposed for tests). ticks: clock
 * ticks per second; page: page size; boot: btime from /proc/stat. */
enum op_rc process_parse_stat(const char *stat, double ticks, double page, double boot,
                              struct process_stats *out) WUR;

/* Boot time (Unix seconds) from the text of /proc/stat (borrowed): the first
 * line that starts with "btime ", whose value must be digits only, from 1 to
 * PROCESS_MAX_BTIME. OP_ERR_NOT_FOUND without such a line, OP_ERR_INVALID
 * for a malformed value; *out is written only on OP_OK. Exposed for tests. */
enum op_rc process_parse_btime(const char *text, double *out) WUR;

/* Read the file at path (/proc/stat, or a test's copy) whole and parse its
 * btime. OP_ERR_IO (errno set) when unreadable, OP_ERR_LIMIT when larger than
 * PROCESS_MAX_PROC_STAT_BYTES, else as process_parse_btime. */
enum op_rc process_read_btime(const char *path, double *out) WUR;

#endif
