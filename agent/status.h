/*
 * status.h - the status model: everything the status page and
 * GET /api/v1/status show, as one JSON tree (docs/status.md has the
 * schema): the agent, counts over every check, SLO, canary, alert and
 * maintenance window, the check groups, one page of checks (each with its
 * last result, the latency of the last 10 minutes and the trend), every
 * SLO (figures and burndown), every canary's verdict, the alerts firing
 * and the windows active.
 *
 * Built on an HTTP thread from the current generation: recorders through
 * their seqlocks, SLO windows from a copy, the alert table and the windows
 * under their short locks; the probe thread never waits for it. Only the
 * selected page of checks is read in full, so a page costs the same
 * whatever the number of checks; the counts read one word per check.
 */
#ifndef OUTPOST_STATUS_H
#define OUTPOST_STATUS_H

#include "common.h"
#include "gen.h"
#include "runtime.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STATUS_DEFAULT_PER_PAGE 500
#define STATUS_MAX_PER_PAGE 1000
/* The JSON text of one model: a page of 1,000 checks is about 3 MB, and
 * each SLO adds about 4 KB (10,000 SLOs, the most a config has: 40 MB). */
#define STATUS_MAX_JSON_BYTES (128u << 20)
/* The latency and trend window: the recorders' trend ring. */
#define STATUS_WINDOW_S (REC_TREND_SLOTS * REC_TREND_STEP_S)
/* cert_expiry_soon when the certificate expires within this, unless
 * alerting.cert_expiry_warning says otherwise (it defaults to the same). */
#define STATUS_CERT_SOON_S (14 * 86400)

/* Which checks the model lists: those of group (NULL: every group) in
 * state (NULL: any; "up", "down" or "pending"), page `page` (1-based) of
 * per_page. */
struct status_query {
    const char *group;
    const char *state;
    size_t page;
    size_t per_page;
};

/* The query from a request's arguments, each NULL when absent (all
 * borrowed; q keeps pointing at group and state). Defaults: every group,
 * any state, page 1, per_page STATUS_DEFAULT_PER_PAGE. OP_ERR_INVALID with
 * one line in *why (caller frees) when page or per_page is not a whole
 * number in 1 .. (per_page: STATUS_MAX_PER_PAGE), or state is none of the
 * three; an unknown group is found by status_model. */
enum op_rc status_query_parse(const char *group, const char *state, const char *page,
                              const char *per_page, struct status_query *q, char **why) WUR;

/* The model of rt now (schema: docs/status.md); *out: caller json_decref.
 * OP_ERR_INVALID (a query status_query_parse would refuse) or
 * OP_ERR_NOT_FOUND (no check has that group) with one line in *why
 * (caller frees); *out is then NULL. A page past the last one lists no
 * check. Any thread. */
enum op_rc status_model(struct runtime *rt, const struct status_query *q, json_t **out,
                        char **why) WUR;

/* The model (or any tree of it) as compact JSON text appended to out, in
 * the order its keys were set, numbers in the fewest digits that read back
 * exactly (jansson's own writer prints 17: 0.050000000000000003).
 * OP_ERR_LIMIT when out's cap was hit. */
enum op_rc status_dump(const json_t *j, struct buf *out) WUR;

/* What status_model builds from; every member borrowed. Lets a test or a
 * benchmark build the model of a generation without a running agent. */
struct status_source {
    const struct gen *gen;
    struct alerts *alerts; /* NULL: no alert fires */
    struct maint *maint;   /* NULL: no window */
    int64_t now_ms;        /* wall */
    struct rt_facts facts;
};
/* status_model from src. */
enum op_rc status_build(const struct status_source *src, const struct status_query *q, json_t **out,
                        char **why) WUR;

#endif
