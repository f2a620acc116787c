/*
 * smoke_report.h - what `outpost check` found, and its three renderings: a
 * table for people, JSON for scripts, JUnit XML for CI test reporters.
 *
 * The records are plain data, like the config's specs: the runner
 * (smoke_run.c) fills them, the renderers and the command read them. They
 * hold no secret: names, the `target` label, reasons, status codes and
 * details (which the check types write without secrets).
 */
#ifndef OUTPOST_SMOKE_REPORT_H
#define OUTPOST_SMOKE_REPORT_H

#include "buf.h"
#include "check.h"

#include <stdbool.h>
#include <stddef.h>

/* Steps kept per check; a run reporting more keeps the first ones and
 * counts the rest (steps_dropped), shown as such in every format. */
#define SMOKE_MAX_STEPS 1024

struct smoke_step {
    char *name;
    bool success;
    enum check_reason reason; /* CHECK_REASON_NONE on success or when skipped */
    double duration;          /* seconds */
    int status;               /* 0 if none */
    char *detail;             /* "" on success */
    bool skipped;             /* not run (check_step.skipped) */
};

struct smoke_result {
    char *name, *type, *group, *target; /* group "" when unset */
    bool success;
    enum check_reason reason; /* CHECK_REASON_NONE on success */
    double duration;          /* seconds, the last attempt */
    int status;               /* 0 if no response */
    unsigned attempts;        /* 1 + retries; 0 when the run never started */
    char detail[CHECK_DETAIL_MAX];
    struct smoke_step *steps; /* NULL when the type reports none */
    size_t n_steps;
    size_t steps_dropped; /* beyond SMOKE_MAX_STEPS */
};

struct smoke_report {
    struct smoke_result *results; /* in configuration order */
    size_t n;
    double duration;  /* seconds, the whole run */
    double started;   /* Unix seconds, when the run began */
    char *url_prefix; /* --url-prefix as given (never credentials), or NULL */
};

enum smoke_format { SMOKE_FMT_TABLE, SMOKE_FMT_JSON, SMOKE_FMT_JUNIT };

/* "table", "json" or "junit" into *out; OP_ERR_INVALID otherwise. */
enum op_rc smoke_parse_format(const char *s, enum smoke_format *out) WUR;

/* Results that failed. */
size_t smoke_report_failed(const struct smoke_report *r);

/* Append r rendered as fmt to out. Every format ends with a newline; a
 * failed buffer (its cap) is the caller's to report. */
void smoke_report_render(const struct smoke_report *r, enum smoke_format fmt, struct buf *out);
/* One line: "3 checks: 2 passed, 1 failed in 1.204s". */
void smoke_report_summary(const struct smoke_report *r, struct buf *out);
/* One line per failed check ("FAIL name [reason] detail"), then the summary:
 * what stdout shows when the report goes to a file. */
void smoke_report_brief(const struct smoke_report *r, struct buf *out);

/* s as XML character data or, with attr, as an attribute value: the five
 * markup characters as entities; in an attribute also tab and line breaks
 * (a reader would fold them to spaces); control characters XML 1.0 cannot
 * hold, and U+FFFE/U+FFFF, as U+FFFD. */
void smoke_xml_escape(struct buf *b, const char *s, bool attr);

/* Free everything r holds (not r itself); r is empty afterwards. */
void smoke_report_free(struct smoke_report *r);

#endif
