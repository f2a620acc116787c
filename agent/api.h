/*
 * api.h - the JSON answers of GET /api/v1/checks[/{name}]: each check's
 * configured facts (name, type, target label, group, interval) and its
 * last result (time, success, reason, detail, duration, phases, status),
 * read from its recorder. Runs on HTTP threads; reads recorders through
 * their seqlocks, so it never waits for the probe thread.
 */
#ifndef OUTPOST_API_H
#define OUTPOST_API_H

#include "buf.h"
#include "common.h"
#include "gen.h"

/*
 * Append the JSON of g's check `name` (borrowed) to out, or with name NULL
 * {"checks": [...]} with every check in configuration order. g borrowed.
 * OP_ERR_NOT_FOUND when g has no check of that name (out unchanged);
 * OP_ERR_LIMIT when out's cap was hit (out is then failed and empty).
 */
enum op_rc api_checks_json(const struct gen *g, const char *name, struct buf *out) WUR;

#endif
