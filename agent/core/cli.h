/*
 * cli.h - command-line flags in the Prometheus (kingpin) style shared by the
 * daemon and the offline subcommands: "--name=value" or "--name value".
 */
#ifndef OUTPOST_CLI_H
#define OUTPOST_CLI_H

#include <stdbool.h>

/* The value when argv[*i] is the flag `name`, else NULL; advances *i past a
 * separate value. *missing (may be NULL) is set when the flag is there but
 * its value is not. Returned strings are borrowed from argv. */
const char *cli_flag_value(int argc, char **argv, int *i, const char *name, bool *missing);

#endif
