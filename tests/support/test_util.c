/*
 * test_util.c - helpers shared by the unit tests; see test_util.h.
 */
#include "test_util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The open temporary directory; empty when none is open. A fixed buffer,
 * so a test never has to free it and teardown never leaks it. */
static char tu_dir[PATH_MAX];

int tu_tmpdir_setup(void **state)
{
    (void)state;
    if (tu_dir[0] != '\0') {
        /* Two setups without a teardown would leak the first directory. */
        errno = EBUSY;
        return -1;
    }
    /* The program's name makes a directory left behind by a crash easy to
     * trace; mkdtemp's six random characters keep parallel runs apart. */
    int n =
        snprintf(tu_dir, sizeof(tu_dir), "/tmp/outpost-%s-XXXXXX", program_invocation_short_name);
    if (n < 0 || (size_t)n >= sizeof(tu_dir)) {
        tu_dir[0] = '\0';
        errno = ENAMETOOLONG;
        return -1;
    }
    if (!mkdtemp(tu_dir)) {
        tu_dir[0] = '\0';
        return -1;
    }
    return 0;
}

int tu_tmpdir_teardown(void **state)
{
    (void)state;
    if (tu_dir[0] == '\0')
        return 0;
    int rc = tu_rm_rf(tu_dir);
    tu_dir[0] = '\0';
    return rc;
}

const char *tu_tmpdir(void)
{
    if (tu_dir[0] == '\0') {
        /* A path of "" would send the test's files to the working
         * directory, so stop here instead. */
        fputs("tu_tmpdir: no temporary directory (tu_tmpdir_setup not run)\n", stderr);
        abort();
    }
    return tu_dir;
}

/* Removes name relative to the directory dirfd. Working on directory file
 * descriptors means no path is ever built, so no depth of nesting can
 * overflow a buffer, and a symbolic link is removed, never followed. */
static int tu_rm_at(int dirfd, const char *name)
{
    struct stat sb;
    if (fstatat(dirfd, name, &sb, AT_SYMLINK_NOFOLLOW) != 0)
        return errno == ENOENT ? 0 : -1;
    if (!S_ISDIR(sb.st_mode))
        return unlinkat(dirfd, name, 0);

    int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return -1;
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return -1;
    }
    int rc = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        if (tu_rm_at(fd, de->d_name) != 0)
            rc = -1;
    }
    closedir(d); /* closes fd too */
    if (unlinkat(dirfd, name, AT_REMOVEDIR) != 0)
        rc = -1;
    return rc;
}

int tu_rm_rf(const char *path)
{
    return tu_rm_at(AT_FDCWD, path);
}
