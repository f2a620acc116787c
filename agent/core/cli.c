/* cli.c - flag parsing helpers and command groups (cli.h). */
#include "cli.h"

#include <stdarg.h>
#include <string.h>

const char *cli_flag_value(int argc, char **argv, int *i, const char *name, bool *missing)
{
    size_t n = strlen(name);
    const char *a = argv[*i];
    if (strncmp(a, name, n) != 0)
        return NULL;
    if (a[n] == '=')
        return a + n + 1;
    if (a[n] != '\0')
        return NULL;
    /* The next argument is a flag, not this one's value: without the rule
     * `--storage.path --config.check` would run the agent on a directory
     * named --config.check. As in kingpin, such a value takes the = form
     * (--check=-x); a lone "-" is a value (stdin, stdout). */
    if (*i + 1 >= argc || (argv[*i + 1][0] == '-' && argv[*i + 1][1] != '\0')) {
        if (missing)
            *missing = true;
        return NULL;
    }
    return argv[++*i];
}

bool cli_is_help(const char *arg)
{
    return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

bool cli_wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            return false;
        if (cli_is_help(argv[i]))
            return true;
    }
    return false;
}

int cli_reject(const char *cmd, const char *arg, bool missing)
{
    if (missing)
        fprintf(stderr, "%s: flag %s needs a value\n", cmd, arg);
    else
        fprintf(stderr, "%s: %s %s (see %s --help)\n", cmd,
                arg[0] == '-' && arg[1] ? "unknown flag" : "unexpected argument", arg, cmd);
    return CLI_EXIT_USAGE;
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, " (see %s --help)\n", cmd);
    va_end(ap);
    return CLI_EXIT_USAGE;
}

void cli_group_usage(const struct cli_group *g, FILE *out)
{
    fprintf(out, "usage: %s COMMAND [<args>]\n\n%s\n\nCommands:\n", g->prog, g->about);
    for (size_t i = 0; i < g->n_commands; i++) {
        const struct cli_command *c = &g->commands[i];
        fprintf(out, "  %s %s%s%s\n      %s\n", g->prog, c->name, c->synopsis[0] ? " " : "",
                c->synopsis, c->summary);
    }
    fprintf(out, "\nSee %s COMMAND --help for a command's flags and exit statuses.\n", g->prog);
}

int cli_group_main(const struct cli_group *g, int argc, char **argv)
{
    if (argc >= 2 && argv[1][0] != '-') {
        for (size_t i = 0; i < g->n_commands; i++)
            if (strcmp(argv[1], g->commands[i].name) == 0)
                return g->commands[i].run(argc - 1, argv + 1);
        return cli_usage_error(g->prog, "unknown command %s", argv[1]);
    }
    if (cli_wants_help(argc, argv)) {
        cli_group_usage(g, stdout);
        return 0;
    }
    if (argc < 2) {
        fprintf(stderr, "%s: missing command:", g->prog);
        for (size_t i = 0; i < g->n_commands; i++)
            fprintf(stderr, "%s %s", i ? "," : "", g->commands[i].name);
        fprintf(stderr, " (see %s --help)\n", g->prog);
        return CLI_EXIT_USAGE;
    }
    return cli_reject(g->prog, argv[1], false);
}
