/*
 * smoke_run.h - run chosen checks of a configuration once, at once, on the
 * probe loop (`outpost check`), and collect their results into a report.
 *
 * It is the agent's own machinery in one-shot mode: a generation of the
 * configuration, the probe loop with its libcurl multi handle on one
 * thread, each check type through its start/cancel seam, retries as
 * configured. The calling thread only waits, for the last result or the
 * run's deadline, whichever comes first.
 */
#ifndef OUTPOST_SMOKE_RUN_H
#define OUTPOST_SMOKE_RUN_H

#include "config.h"
#include "smoke_report.h"

#include <stdbool.h>
#include <stdint.h>

struct smoke_run_options {
    const bool *selected;     /* per check of the configuration; borrowed */
    int64_t timeout_ms;       /* the whole run (--timeout); 0: none */
    const char *timeout_text; /* --timeout as given, for the detail of runs it cut */
};

/*
 * Run each selected check of cfg once, all at the same time, and wait until
 * every one has its result (after its retries) or the deadline passes:
 * timeout_ms, or without one the longest any check can take (its attempts
 * times its timeout plus the delays between them) and a little slack. Runs
 * still going at the deadline are cancelled and reported failed with
 * reason timeout.
 *
 * Takes ownership of cfg. out (caller frees with smoke_report_free) gets one
 * result per selected check, in configuration order, and the run's
 * duration. OP_ERR_SYSTEM when the probe loop cannot start (logged).
 */
enum op_rc smoke_run(struct cfg *cfg, const struct smoke_run_options *o,
                     struct smoke_report *out) WUR;

#endif
