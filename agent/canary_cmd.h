/*
 * canary_cmd.h - `outpost canary judge`: judge two files of samples with the
 * agent's own judge and print the verdict JSON.
 */
#ifndef OUTPOST_CANARY_CMD_H
#define OUTPOST_CANARY_CMD_H

#include "buf.h"
#include "canary.h"

#define CANARY_MAX_FILE_BYTES (256u << 20)

/* Exit codes of `outpost canary judge`: the verdict, so a CI step can gate
 * on it without reading the JSON, and two codes no verdict uses. */
enum canary_exit {
    CANARY_EXIT_PASS = 0,
    CANARY_EXIT_FAIL = 1,
    CANARY_EXIT_USAGE = 2,
    CANARY_EXIT_INCONCLUSIVE = 3,
    CANARY_EXIT_BAD_INPUT = 4, /* a file unreadable or malformed, or the config or canary */
};

/* argv[0] is "judge". Returns an enum canary_exit; the verdict JSON goes to
 * stdout only with a verdict (0, 1, 3), problems to stderr. */
int canary_judge_main(int argc, char **argv);

/* Parse sample lines "latency_seconds[,ok|fail]" (# comments, blank lines).
 * *out: caller frees. On bad input returns OP_ERR_INVALID with
 * "NAME:LINE: reason" lines in errors. */
enum op_rc canary_parse_samples(const char *name, const char *text, size_t len,
                                struct canary_sample **out, size_t *n, struct buf *errors) WUR;

#endif
