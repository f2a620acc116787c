/* process.c - process_* metrics from /proc. */
#include "process.h"
#include "buf.h"
#include "log.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

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

enum op_rc process_parse_btime(const char *text, double *out)
{
    static const char key[] = "btime ";
    const size_t klen = sizeof(key) - 1;
    for (const char *line = text; *line;) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        if (len >= klen && memcmp(line, key, klen) == 0) {
            uint64_t v;
            if (parse_u64(line + klen, len - klen, PROCESS_MAX_BTIME, &v) != OP_OK || v == 0)
                return OP_ERR_INVALID;
            *out = (double)v;
            return OP_OK;
        }
        if (!nl)
            break;
        line = nl + 1;
    }
    return OP_ERR_NOT_FOUND;
}

enum op_rc process_read_btime(const char *path, double *out)
{
    struct buf b;
    buf_init(&b, PROCESS_MAX_PROC_STAT_BYTES);
    enum op_rc rc = buf_read_file(&b, path);
    if (rc == OP_OK)
        rc = process_parse_btime(buf_str(&b), out);
    buf_free(&b);
    return rc;
}

/* The boot time, read once: the first scrape pays for a large /proc/stat,
 * later ones do not, and a failure is logged once rather than per scrape. */
static pthread_once_t g_boot_once = PTHREAD_ONCE_INIT;
static enum op_rc g_boot_rc;
static double g_boot_time;

static void read_boot_time(void)
{
    g_boot_rc = process_read_btime("/proc/stat", &g_boot_time);
    if (g_boot_rc != OP_OK)
        log_warn("cannot read the boot time from /proc/stat, process_* metrics are left out", "err",
                 op_strerror(g_boot_rc));
}

enum op_rc process_collect(struct process_stats *out)
{
    memset(out, 0, sizeof(*out));
    pthread_once(&g_boot_once, read_boot_time);
    if (g_boot_rc != OP_OK)
        return g_boot_rc;
    struct buf stat;
    buf_init(&stat, PROCESS_MAX_SELF_STAT_BYTES);
    enum op_rc rc = buf_read_file(&stat, "/proc/self/stat");
    if (rc == OP_OK)
        rc = process_parse_stat(buf_str(&stat), (double)sysconf(_SC_CLK_TCK),
                                (double)sysconf(_SC_PAGESIZE), g_boot_time, out);
    buf_free(&stat);
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
