/*
 * flags.h - outpost's command line: the agent's flags, its --help and
 * --version, and the command words (`outpost check`, `outpost slo replay`,
 * ...) handed to their commands.
 */
#ifndef OUTPOST_FLAGS_H
#define OUTPOST_FLAGS_H

#include "cfg_shard.h"
#include "httpd.h"
#include "log.h"
#include "websec.h"

#include <stdbool.h>
#include <stdint.h>

/* The agent's exit statuses (docs/operations.md, "Exit statuses"). */
enum flags_exit {
    FLAGS_EXIT_OK = 0,              /* stopped and saved; --help, --version */
    FLAGS_EXIT_START = 1,           /* could not start: configuration, web config, listener */
    FLAGS_EXIT_USAGE = 2,           /* a bad flag or flag value (CLI_EXIT_USAGE) */
    FLAGS_EXIT_SNAPSHOT_FAILED = 3, /* stopped, but the last SLO state snapshot failed */
};

struct flags_options {
    const char *config_file;
    const char *modules_file;
    const char *storage_path;
    int64_t snapshot_interval_ms;
    int64_t history_retention_ms;
    uint64_t audit_max_bytes;
    unsigned audit_max_files;
    bool config_check;
    bool skip_secrets;
    struct cfg_shard shard;
    bool shard_set; /* --shard given: the environment is not read */
    struct httpd_options web;
    struct websec_options sec;
    enum log_level log_level;
    enum log_format log_format;
    /* For --version: set by main.c, the one file rebuilt when the date
     * changes (a CMake configure), so the libraries are not. */
    const char *build_date;
};

/* The defaults of every flag. */
void flags_defaults(struct flags_options *o);

/* When argv[1] is a command word (not a flag), runs that command and
 * returns its exit status; else -1 and the agent runs. */
int flags_run_command(int argc, char **argv);

/* Parse the agent's flags into o (values borrowed from argv). Returns -1
 * to go on, else the exit status: 0 after --help or --version (printed on
 * stdout), FLAGS_EXIT_USAGE after one line on stderr. */
int flags_parse(int argc, char **argv, struct flags_options *o);

#endif
