/* process.c - process_* metrics from /proc. */
#include "process.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static enum op_rc read_small_file(const char *path, char *out, size_t cap)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return OP_ERR_IO;
    size_t n = fread(out, 1, cap - 1, f);
    fclose(f);
    out[n] = '\0';
    return n ? OP_OK : OP_ERR_IO;
}

enum op_rc process_parse_stat(const char *stat, double ticks, double page, double boot,
                              struct process_stats *out)
{
    /* The command name (field 2) may contain spaces and parentheses: fields
     * are counted from the last ')'. */
    const char *p = strrchr(stat, ')');
    if (!p)
        return OP_ERR_INVALID;
    p++;
    /* After ")": field 3 is state. We need 14 utime, 15 stime, 22
     * starttime, 23 vsize, 24 rss. */
    double f[25] = {0};
    int field = 2;
    while (*p && field < 24) {
        while (*p == ' ' || *p == '\n')
            p++;
        if (!*p)
            break;
        field++;
        size_t len = strcspn(p, " \n");
        if (field == 3) { /* the state letter, the only non-number */
            p += len;
            continue;
        }
        /* Every other field is a whole number token: anything else means
         * the line is not what we think it is. */
        char *end;
        errno = 0;
        double v = strtod(p, &end);
        if (errno || end != p + len || len == 0)
            return OP_ERR_INVALID;
        f[field] = v;
        p = end;
    }
    if (field < 24 || ticks <= 0)
        return OP_ERR_INVALID;
    out->cpu_seconds = (f[14] + f[15]) / ticks;
    out->start_time = boot + f[22] / ticks;
    out->virtual_bytes = f[23];
    out->resident_bytes = f[24] * page;
    return OP_OK;
}

static double boot_time(void)
{
    char text[16384];
    if (read_small_file("/proc/stat", text, sizeof(text)) != OP_OK)
        return 0;
    const char *p = strstr(text, "\nbtime ");
    if (!p)
        return 0;
    return strtod(p + 7, NULL);
}

enum op_rc process_collect(struct process_stats *out)
{
    char stat[4096];
    memset(out, 0, sizeof(*out));
    if (read_small_file("/proc/self/stat", stat, sizeof(stat)) != OP_OK)
        return OP_ERR_IO;
    enum op_rc rc = process_parse_stat(stat, (double)sysconf(_SC_CLK_TCK),
                                       (double)sysconf(_SC_PAGESIZE), boot_time(), out);
    if (rc != OP_OK)
        return rc;
    DIR *d = opendir("/proc/self/fd");
    if (d) {
        struct dirent *de;
        long n = 0;
        while ((de = readdir(d)))
            if (de->d_name[0] != '.')
                n++;
        closedir(d);
        out->open_fds = (double)(n - 1); /* minus the directory's own fd */
    }
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
        out->max_fds = rl.rlim_cur == RLIM_INFINITY ? 0 : (double)rl.rlim_cur;
    return OP_OK;
}
