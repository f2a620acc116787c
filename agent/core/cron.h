/*
 * cron.h - five-field cron expressions and their next start in a time zone.
 *
 * An expression is parsed once into one bitset per field; cron_next then
 * walks the calendar in local time, skipping whole months, days and hours
 * that cannot match, and maps the local time it finds to an instant through
 * the zone (tz.h). Immutable once parsed: any thread may read it.
 */
#ifndef OUTPOST_CRON_H
#define OUTPOST_CRON_H

#include "buf.h"
#include "common.h"
#include "tz.h"

#include <stdint.h>

/* Longest expression accepted. */
#define CRON_MAX_EXPR_BYTES 256
/* How far ahead cron_next looks: 8 years of 366 days, so a February 29 is
 * always found (2096 to 2104 is the longest gap between two). */
#define CRON_HORIZON_DAYS 2928

struct cron;

/* Five standard fields (minute hour day-of-month month day-of-week), names JAN-DEC and
 * SUN-SAT, '*', ranges, lists, steps, 7 = Sunday, Vixie's rule (day-of-month OR
 * day-of-week when both are restricted), and @hourly @daily @weekly @monthly @yearly.
 * err gets one line naming the field and the bad text. Caller frees.
 *
 * Fields are separated by spaces or tabs. An element is '*', a value, a range a-b
 * (a <= b) or a value a (meaning a to the field's maximum), each optionally followed by
 * /step (1 to the number of values of the field). Names are case-insensitive. A day field
 * counts as restricted unless it is a bare '*' (a step on '*' restricts it), as Kubernetes'
 * CronJob (robfig/cron) reads it: with a step of 2 on '*' for the day of the month and MON
 * for the day of the week, a job runs on odd days and on Mondays.
 * @annually and @midnight are accepted too; @reboot is refused. OP_ERR_INVALID otherwise
 * (OP_ERR_LIMIT over CRON_MAX_EXPR_BYTES). */
enum op_rc cron_parse(const char *expr, struct cron **out, struct buf *err) WUR;
void cron_free(struct cron *c);

/* The first start strictly after `after` (Unix seconds) in zone z (NULL: UTC); INT64_MAX
 * when none within 8 years. DST: a local time skipped by a spring-forward gap starts at the
 * first instant after the gap; a local time that occurs twice starts only at the first.
 *
 * "Within 8 years": the local time found is at most CRON_HORIZON_DAYS after the local time
 * of `after`. Starts are whole local minutes. `after` outside the years 1 to 9990 gives
 * INT64_MAX. */
int64_t cron_next(const struct cron *c, const struct tz *z, int64_t after);

#endif
