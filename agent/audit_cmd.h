/*
 * audit_cmd.h - `outpost audit verify FILE...`: walk the hash chain of the
 * audit log (audit_line.h) across its files, oldest first, and name the
 * first line that breaks it.
 */
#ifndef OUTPOST_AUDIT_CMD_H
#define OUTPOST_AUDIT_CMD_H

#include "audit_line.h"
#include "buf.h"

#include <stdio.h>

/* Exit codes of `outpost audit verify`. */
enum audit_exit {
    AUDIT_EXIT_OK = 0,     /* every line verified */
    AUDIT_EXIT_BROKEN = 1, /* a line breaks the chain: "FILE:LINE: what" on stdout */
    AUDIT_EXIT_USAGE = 2,  /* bad arguments, or a file that cannot be read */
};

/* argv[0] is "audit". Returns an enum audit_exit. */
/* `outpost audit verify FILE...`: argv[0] is "verify". Returns an
 * audit_exit. */
int audit_verify_main(int argc, char **argv);

/* Verify the lines of f (named name in messages) as the next part of chain
 * c: every line ends with a newline and is at most AUDIT_MAX_LINE_BYTES
 * long, newline included. AUDIT_EXIT_OK; AUDIT_EXIT_BROKEN with
 * "NAME:LINE: what" in report; AUDIT_EXIT_USAGE with "NAME: cannot read:
 * why" in report. f and name borrowed. */
int audit_verify_stream(FILE *f, const char *name, struct audit_chain *c, struct buf *report);

#endif
