/*
 * slo_replay.h - `outpost slo replay`: feed a history of SLI events through
 * the agent's own SLO engine with a virtual clock, print the figures as
 * JSON, and optionally write a state file the agent then starts from.
 */
#ifndef OUTPOST_SLO_REPLAY_H
#define OUTPOST_SLO_REPLAY_H

#include "buf.h"
#include "config.h"

/* Events per line: unix_seconds,slo_name,good_count,bad_count. */
#define REPLAY_MAX_EVENTS_BYTES (1u << 30)

/* argv[0] is "replay". Returns the process exit code (0, 1 bad input, 2
 * usage). */
int slo_replay_main(int argc, char **argv);

/* What a budget is counted against. */
enum replay_budget {
    /* The events the configured checks produce on their schedule, as the
     * agent counts (the default). */
    REPLAY_BUDGET_EXPECTED,
    /* The events in the history, as rule-based tools must: for histories
     * that do not come from the configured schedule. */
    REPLAY_BUDGET_OBSERVED,
};

/* The work without the process around it (tests): run events_csv against
 * cfg and append the JSON document (newline-terminated) to out. at_s < 0
 * means "the last event's time". state_out may be NULL. On bad input
 * returns OP_ERR_INVALID with one line per problem in errors. */
enum op_rc slo_replay_run(const struct cfg *cfg, const char *events_name, const char *events_csv,
                          size_t len, double at_s, enum replay_budget budget, const char *state_out,
                          struct buf *out, struct buf *errors) WUR;

#endif
