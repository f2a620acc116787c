/*
 * smoke.h - `outpost check`: run a configuration's checks once, at the same
 * time, and report every result as a table, JSON or JUnit XML; the exit
 * status says whether all passed. For CI pipelines and deploy gates that
 * need an answer now rather than metrics over time.
 */
#ifndef OUTPOST_SMOKE_H
#define OUTPOST_SMOKE_H

/* Exit codes of `outpost check`. */
enum smoke_exit {
    SMOKE_EXIT_PASS = 0,  /* every check passed */
    SMOKE_EXIT_FAIL = 1,  /* at least one failed */
    SMOKE_EXIT_USAGE = 2, /* nothing judged: a bad flag, a configuration that does not load,
                           * an unknown --check, or a report that cannot be written */
};

/* argv[0] is "check". Returns an enum smoke_exit. */
int smoke_main(int argc, char **argv);

#endif
