/*
 * slo_lint.h - findings about configured SLOs that do not make the config
 * invalid but that a user wants to hear about: alert tiers that can never
 * fire, budgets smaller than one probe. Printed by --config.check and
 * logged at every (re)load.
 */
#ifndef OUTPOST_SLO_LINT_H
#define OUTPOST_SLO_LINT_H

#include "buf.h"
#include "config.h"

/* Append one line per finding ("FILE:LINE:COL: slo NAME: ...\n") to out. */
void slo_lint(const struct cfg *c, struct buf *out);

#endif
