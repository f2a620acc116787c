/*
 * log.h - structured logging to stderr in logfmt or JSON (Prometheus
 * exporter conventions: ts, level, msg, then key/value pairs).
 *
 * Callers never pass secret values: the logger cannot know what is secret.
 * Config code logs key names and positions, never resolved values.
 */
#ifndef OUTPOST_LOG_H
#define OUTPOST_LOG_H

#include "common.h"

#include <stdbool.h>
#include <stdio.h>

/* One record, newline included. A longer one is replaced by a short record
 * with the same ts and level, msg="log record too long", orig_msg=<the
 * original msg> when that is at most LOG_MAX_FALLBACK_MSG_BYTES long (msg is
 * a literal at every call site; a longer one is left out, not cut) and
 * cap_bytes: never a cut line, which a JSON reader would reject. */
#define LOG_MAX_RECORD_BYTES 16384u
#define LOG_MAX_FALLBACK_MSG_BYTES 256u

enum log_level { LOG_LVL_DEBUG, LOG_LVL_INFO, LOG_LVL_WARN, LOG_LVL_ERROR };
enum log_format { LOG_FMT_LOGFMT, LOG_FMT_JSON };

/* Set level, format and stream (borrowed; stderr when NULL). Not thread-safe:
 * call before other threads start. */
void log_setup(enum log_level level, enum log_format format, FILE *out);

enum op_rc log_parse_level(const char *s, enum log_level *out) WUR;
enum op_rc log_parse_format(const char *s, enum log_format *out) WUR;

bool log_enabled(enum log_level level);

/* Log msg with NULL-terminated (key, value) string pairs, all borrowed; a
 * NULL value logs as "". msg and keys are short constants, values may come
 * from anywhere (they are quoted and escaped). One complete record of at most
 * LOG_MAX_RECORD_BYTES per call, written with one fwrite, so threads do not
 * interleave. */
void log_kv(enum log_level level, const char *msg, ...) __attribute__((sentinel));

/* Log every line of text (borrowed) as its own record: msg plus key=line.
 * Used for multi-line config error lists, one problem per record. */
void log_lines(enum log_level level, const char *msg, const char *key, const char *text);

#define log_debug(...) log_kv(LOG_LVL_DEBUG, __VA_ARGS__, (const char *)NULL)
#define log_info(...) log_kv(LOG_LVL_INFO, __VA_ARGS__, (const char *)NULL)
#define log_warn(...) log_kv(LOG_LVL_WARN, __VA_ARGS__, (const char *)NULL)
#define log_error(...) log_kv(LOG_LVL_ERROR, __VA_ARGS__, (const char *)NULL)

#endif
