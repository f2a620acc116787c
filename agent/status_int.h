/*
 * status_int.h - what the status model's two files share (internal):
 * status.c builds the checks, groups, page and the whole tree;
 * status_parts.c the SLOs, canaries, alerts, windows and the agent, and
 * the JSON helpers both use.
 */
#ifndef OUTPOST_STATUS_INT_H
#define OUTPOST_STATUS_INT_H

#include "status.h"

struct maint_hold;

/* ---- JSON helpers (status_parts.c) ----
 * A tree is built from small allocations whose failure aborts, as xmalloc
 * does (house style), so callers never check. */

/* Set o[key] (key a static literal) to v (taken). */
void status_put(json_t *o, const char *key, json_t *v);
/* Append v (taken) to array a. */
void status_append(json_t *a, json_t *v);
/* A number: whole numbers as integers, non-finite as null. */
json_t *status_num(double v);
json_t *status_uint(uint64_t v);
/* A string (borrowed, copied); bytes that are not UTF-8 become '?'. */
json_t *status_str(const char *s);
json_t *status_bool(bool v);
/* RFC 3339 UTC, whole seconds ("2026-12-01T13:00:00Z"); null when t <= 0
 * or not finite. */
json_t *status_time(double unix_seconds);

/* ---- parts (status_parts.c) ---- */

/* "agent": src's facts. */
json_t *status_agent(const struct status_source *src);
/* "slos" of src's generation at src->now_ms, counting into *sum
 * ("summary"."slos"). held: maint_hold of the windows (NULL: none). */
json_t *status_slos(const struct status_source *src, const struct maint_hold *held, json_t *sum);
/* "canaries", counting into sum. */
json_t *status_canaries(const struct status_source *src, json_t *sum);
/* "alerts"; *n gets their count. */
json_t *status_alerts(const struct status_source *src, size_t *n);
/* "maintenance"; *n gets their count. */
json_t *status_maintenance(const struct status_source *src, size_t *n);

#endif
