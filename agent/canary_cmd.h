/*
 * canary_cmd.h - `outpost canary judge`: judge two files of samples with the
 * agent's own judge and print the verdict JSON.
 */
#ifndef OUTPOST_CANARY_CMD_H
#define OUTPOST_CANARY_CMD_H

#include "buf.h"
#include "canary.h"

#define CANARY_MAX_FILE_BYTES (256u << 20)

/* argv[0] is "judge". Returns the exit code: 0 (whatever the verdict), 1 bad
 * input, 2 usage. */
int canary_judge_main(int argc, char **argv);

/* Parse sample lines "latency_seconds[,ok|fail]" (# comments, blank lines).
 * *out: caller frees. On bad input returns OP_ERR_INVALID with
 * "NAME:LINE: reason" lines in errors. */
enum op_rc canary_parse_samples(const char *name, const char *text, size_t len,
                                struct canary_sample **out, size_t *n, struct buf *errors) WUR;

#endif
