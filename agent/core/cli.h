/*
 * cli.h - command-line flags in the Prometheus (kingpin) style shared by the
 * daemon and the offline subcommands: "--name=value" or "--name value".
 *
 * Every command answers --help and -h wherever they are among its arguments,
 * and says what is wrong with its arguments in one line on stderr naming the
 * command and the argument, then exits CLI_EXIT_USAGE. Command groups
 * (`outpost slo`, `outpost canary`, ...) dispatch through cli_group_main so
 * each answers the same way.
 */
#ifndef OUTPOST_CLI_H
#define OUTPOST_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* The exit status of a usage error in every command: an unknown or missing
 * flag, command or value. */
#define CLI_EXIT_USAGE 2

/* The value when argv[*i] is the flag `name`, else NULL; advances *i past a
 * separate value. *missing (may be NULL) is set when the flag is there but
 * its value is not: it is the last argument, or the next one starts with
 * "-" (another flag; such a value needs --name=value) and is not "-" alone.
 * Returned strings are borrowed from argv. */
const char *cli_flag_value(int argc, char **argv, int *i, const char *name, bool *missing);

/* True when arg is --help or -h. */
bool cli_is_help(const char *arg);

/* True when --help or -h is among argv[1..argc-1], before a "--" (after
 * it every argument is an operand, a file named -h too). */
bool cli_wants_help(int argc, char **argv);

/* argv[i] that none of cmd's flags took, in one line on stderr: "CMD: flag
 * X needs a value" (missing, as cli_flag_value reported), "CMD: unknown
 * flag X (see CMD --help)" or "CMD: unexpected argument X (see CMD
 * --help)". Returns CLI_EXIT_USAGE. */
int cli_reject(const char *cmd, const char *arg, bool missing);

/* "CMD: <message> (see CMD --help)" in one line on stderr, for arguments
 * that are each fine but wrong together (a required flag left out).
 * Returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* One command of a group. run gets the arguments from the command's word
 * on (argv[0] is "replay" for `outpost slo replay ...`) and returns the
 * exit status. */
struct cli_command {
    const char *name;
    const char *synopsis; /* arguments after the name, for the group's help */
    const char *summary;  /* one line for the group's help */
    int (*run)(int argc, char **argv);
};

struct cli_group {
    const char *prog;  /* "outpost slo": the words before the command's */
    const char *about; /* a sentence under the usage line */
    const struct cli_command *commands;
    size_t n_commands;
};

/* The group's help: usage, about, its commands with their summaries, and a
 * pointer at PROG COMMAND --help. */
void cli_group_usage(const struct cli_group *g, FILE *out);

/* argv[0] is the group's word. A known command word in argv[1] runs that
 * command; --help or -h (anywhere, when argv[1] is not a command) prints
 * the group's help and returns 0; no command, an unknown one or a flag is
 * a usage error (one line, CLI_EXIT_USAGE). */
int cli_group_main(const struct cli_group *g, int argc, char **argv);

#endif
