/*
 * process.h - the standard process_* metrics, read from /proc like the Go
 * client library does (no client library in C).
 */
#ifndef OUTPOST_PROCESS_H
#define OUTPOST_PROCESS_H

#include "common.h"

struct process_stats {
    double cpu_seconds;
    double resident_bytes;
    double virtual_bytes;
    double open_fds;
    double max_fds;
    double start_time; /* unix seconds */
};

/* Read the calling process's figures. OP_ERR_IO when /proc is unreadable. */
enum op_rc process_collect(struct process_stats *out) WUR;

/* Parse the content of /proc/self/stat (exposed for tests). ticks: clock
 * ticks per second; page: page size; boot: btime from /proc/stat. */
enum op_rc process_parse_stat(const char *stat, double ticks, double page, double boot,
                              struct process_stats *out) WUR;

#endif
