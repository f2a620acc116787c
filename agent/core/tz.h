/*
 * tz.h - time zones read from the system's TZif files (RFC 8536), per zone
 * object, no process-global state.
 *
 * glibc's localtime_r follows the process-wide TZ variable, which one thread
 * cannot set for itself; a multithreaded agent that keeps schedules in several
 * zones needs a zone as a value. So this module reads the TZif file of a name
 * from $TZDIR (when set and not empty) or /usr/share/zoneinfo, the tzdata the
 * distribution keeps up to date: version 1 files, and the 64-bit data of
 * version 2 and later with the footer's POSIX TZ rule for the times after the
 * last transition. Leap-second ("right/") zones are refused. Files are read
 * whole, at most TZ_MAX_FILE_BYTES, and every count and index is checked
 * against the file before use.
 *
 * A zone is immutable once loaded: any number of threads may read it.
 */
#ifndef OUTPOST_TZ_H
#define OUTPOST_TZ_H

#include "buf.h"
#include "common.h"

#include <stdint.h>

/* Largest TZif file read (the biggest in tzdata are under 4 KiB). */
#define TZ_MAX_FILE_BYTES (1024 * 1024)
/* Longest zone name accepted. */
#define TZ_MAX_NAME_BYTES 255
/* Every offset a loaded zone gives lies in [TZ_OFFSET_MIN, TZ_OFFSET_MAX]
 * (RFC 8536's range: a POSIX offset of at most 24:59:59, plus an hour of
 * daylight saving time); files with others are refused. */
#define TZ_OFFSET_MIN (-89999)
#define TZ_OFFSET_MAX 93599
/* A footer rule is evaluated for the years 1 to 9999; earlier and later times
 * get the offset it gives at these ends. */
#define TZ_RULE_T_MIN INT64_C(-62135596800) /* 0001-01-01T00:00:00Z */
#define TZ_RULE_T_MAX INT64_C(253402300799) /* 9999-12-31T23:59:59Z */

struct tz;

/* name: "UTC", "Europe/Madrid", ... read from $TZDIR or /usr/share/zoneinfo (TZif v1-v4,
 * with the footer's POSIX TZ rule for times after the last transition). Rejects names with
 * "..", a leading '/', or that are not a TZif file, with a message in err. Caller frees.
 *
 * A name is letters, digits, '/', '_', '-' and '+', at most TZ_MAX_NAME_BYTES. "UTC" and
 * "Etc/UTC" are built in (no file read). Results: OP_ERR_INVALID for a bad name or a file
 * that is not valid TZif, OP_ERR_NOT_FOUND when there is no such file, OP_ERR_IO when it
 * cannot be read (or is not a regular file), OP_ERR_LIMIT over TZ_MAX_FILE_BYTES. err gets
 * one line (no newline) naming the zone and, for a file, its path. */
enum op_rc tz_load(const char *name, struct tz **out, struct buf *err) WUR;

/* The same from a TZif file's bytes (borrowed); what tz_load does after reading. The
 * message in err starts with `what` (the zone's name and path, say). Caller frees. */
enum op_rc tz_parse(const void *data, size_t len, const char *what, struct tz **out,
                    struct buf *err) WUR;

void tz_free(struct tz *z);

/* UTC offset in seconds (local = utc + offset) at Unix time t. z NULL: UTC (0). */
int32_t tz_offset(const struct tz *z, int64_t t);

/* The first instant after t at which the offset differs from tz_offset(z, t), or
 * INT64_MAX when it never changes after t (z NULL: INT64_MAX). A transition that keeps the
 * offset (a change of name or of the DST flag only) is not a change. */
int64_t tz_next_change(const struct tz *z, int64_t t);

/* Proleptic Gregorian calendar in whole days since 1970-01-01 (Howard Hinnant's
 * algorithms), for any year a 32-bit int holds; m 1-12, d 1-31. */
int64_t tz_days_from_civil(int64_t y, int m, int d);
void tz_civil_from_days(int64_t days, int64_t *y, int *m, int *d);
/* Day of the week of a day number: 0 Sunday ... 6 Saturday. */
int tz_weekday(int64_t days);
/* Days in month m (1-12) of year y. */
int tz_month_days(int64_t y, int m);

#endif
