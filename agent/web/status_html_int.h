/*
 * status_html_int.h - what the status page's files share (internal):
 * status_html.c writes the document, its header and the SLO, canary,
 * alert and maintenance sections; status_html_checks.c writes the checks
 * section. Also how both read the model: a field that is missing, null or
 * of the wrong type reads as absent, never as zero.
 */
#ifndef OUTPOST_STATUS_HTML_INT_H
#define OUTPOST_STATUS_HTML_INT_H

#include "buf.h"
#include "status_html.h"

#include <jansson.h>
#include <stdbool.h>

/* The string at key of o (both borrowed), or NULL. */
const char *sh_str(const json_t *o, const char *key);
/* The finite number v (borrowed) into *out; false when v is NULL, null or
 * not a number (*out untouched). */
bool sh_value(const json_t *v, double *out);
/* The finite number at key of o into *out; false when absent or null. */
bool sh_num(const json_t *o, const char *key, double *out);
/* The whole number at key of o, 0 when absent (counts). */
long long sh_count(const json_t *o, const char *key);
/* key of o is JSON true. */
bool sh_true(const json_t *o, const char *key);
/* The en dash that stands for an absent value. */
void sh_dash(struct buf *b);
/* The latency at key of o (html_seconds), or a dash. */
void sh_opt_seconds(struct buf *b, const json_t *o, const char *key);
/* The ratio at key of o as a percentage, or a dash. */
void sh_opt_percent(struct buf *b, const json_t *o, const char *key, int decimals);

/* The checks section of model: groups, filters, pages and the checks. */
void sh_checks(struct buf *b, const json_t *model, const struct status_html_opts *o);

#endif
