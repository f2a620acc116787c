/* cli.c - flag parsing helper. */
#include "cli.h"

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
    if (*i + 1 >= argc) {
        if (missing)
            *missing = true;
        return NULL;
    }
    return argv[++*i];
}
