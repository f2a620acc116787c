/*
 * chrome_proc.c - the browser as a process: find the executable, make the
 * run's profile directory, spawn Chromium in its own process group with
 * the CDP channel on fds 3 and 4, watch its exit through a pidfd on the
 * probe loop, and at the end kill the group, reap it and remove the
 * profile. Nothing here blocks the loop except chrome_teardown_now, which
 * only chrome_cancel uses (shutdown), and then for a bounded time.
 *
 * Reaping the whole group, not only the browser: Chromium's helpers (zygote,
 * renderers, GPU and network processes) are its children or grandchildren.
 * When the group is SIGKILLed they become orphans, and an orphan is reaped
 * by init - or by nobody when outpost itself is PID 1 in a container, or
 * late (seconds) by a lazy init. So the engine marks the agent a child
 * subreaper (PR_SET_CHILD_SUBREAPER): orphans of its descendants become its
 * own children, which each run reaps by process group (waitid P_PGID) until
 * the group is empty. Chromium's crash handlers (chrome_crashpad_handler,
 * two per browser, even with --disable-breakpad) leave the group: they are
 * double-forked into sessions of their own, so the kill misses them (they
 * exit by themselves when the browser is gone) and the group sweep never
 * reaps them. Adopted too, they would stay the agent's zombies for ever,
 * two per run; chrome_reap_strays reaps exited children in another
 * session at every spawn and teardown. The agent starts no other
 * processes whose orphans this could adopt, and none that leave its
 * session.
 */
#include "chrome_int.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <dirent.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

/* ---- the executable ---- */

static bool is_exec_file(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode) && access(p, X_OK) == 0;
}

/* name (no '/') on $PATH, as an absolute path; caller frees. */
static char *on_path(const char *name)
{
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/local/bin:/usr/bin:/bin";
    char cand[PATH_MAX];
    for (const char *p = path; *p;) {
        const char *end = strchr(p, ':');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        /* An empty entry means the working directory, which a daemon's
         * configuration should not depend on. */
        if (n > 0) {
            int k = snprintf(cand, sizeof(cand), "%.*s/%s", (int)n, p, name);
            if (k > 0 && (size_t)k < sizeof(cand) && is_exec_file(cand))
                return cand[0] == '/' ? xstrdup(cand) : realpath(cand, NULL);
        }
        p += n;
        if (*p == ':')
            p++;
    }
    return NULL;
}

char *chrome_find_executable(const char *configured)
{
    if (configured) {
        if (!*configured)
            return NULL;
        if (!strchr(configured, '/'))
            return on_path(configured);
        if (!is_exec_file(configured))
            return NULL;
        return configured[0] == '/' ? xstrdup(configured) : realpath(configured, NULL);
    }
    /* Debian's /usr/bin/chromium is a shell script that execs this one;
     * starting the binary itself spares a shell per run. */
    if (is_exec_file("/usr/lib/chromium/chromium"))
        return xstrdup("/usr/lib/chromium/chromium");
    static const char *const names[] = {"chromium", "chromium-browser", "google-chrome"};
    for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
        char *p = on_path(names[i]);
        if (p)
            return p;
    }
    return NULL;
}

/* ---- the profile directory ---- */

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

enum rm_rc { RM_DONE, RM_MORE, RM_FAIL };

/* rm -rf of name in dirfd without following a symbolic link, until the
 * monotonic clock passes until_ns (RM_MORE: call again; what is gone stays
 * gone, so every call makes progress). depth bounds the recursion against
 * a profile nested absurdly deep. A failure to remove one entry does not
 * stop the others. */
static enum rm_rc rm_at(int dirfd, const char *name, int depth, int64_t until_ns)
{
    if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT)
        return RM_DONE;
    if ((errno != EISDIR && errno != EPERM) || depth > 64)
        return RM_FAIL;
    int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return RM_FAIL;
    DIR *d = fdopendir(fd);
    if (!d) {
        close(fd);
        return RM_FAIL;
    }
    enum rm_rc rc = RM_DONE;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        enum rm_rc r = rm_at(fd, e->d_name, depth + 1, until_ns);
        if (r == RM_MORE || (r == RM_DONE && mono_ns() >= until_ns)) {
            rc = rc == RM_FAIL ? RM_FAIL : RM_MORE;
            break;
        }
        if (r == RM_FAIL)
            rc = RM_FAIL;
    }
    closedir(d);
    if (rc != RM_DONE)
        return rc;
    if (unlinkat(dirfd, name, AT_REMOVEDIR) != 0 && errno != ENOENT)
        return RM_FAIL;
    return RM_DONE;
}

#define CHROME_MAX_TMPDIR 32
/* A profile left by an agent that is gone is swept once it is this old
 * (seconds since its last change). */
#define CHROME_STALE_S 600

/* Where profiles go: TMPDIR, or /tmp without it or when it is too long.
 * The profile is also the browser's TMPDIR (env_new), where its singleton
 * socket goes: /outpost-chrome-PID-XXXXXX (at most 30 bytes) and
 * /org.chromium.Chromium.XXXXXX/SingletonSocket (45) must fit in a socket
 * path's 108 bytes with the NUL, so a TMPDIR over 32 bytes is passed over. */
static const char *profile_base(void)
{
    const char *tmp = getenv("TMPDIR");
    if (!tmp || tmp[0] != '/' || strlen(tmp) > CHROME_MAX_TMPDIR)
        tmp = "/tmp";
    return tmp;
}

/* Profiles of agents that died without removing them (SIGKILL, a crash, a
 * power cut): a profile's name carries its agent's pid, and one whose
 * agent is gone (ESRCH) and that nothing changed for CHROME_STALE_S is
 * removed. The age guard spares a live agent in another PID namespace that
 * shares the directory. Once per process, before its first browser; what
 * does not go within 100 ms is left for the next start. */
static void sweep_stale_profiles(void)
{
    const char *base = profile_base();
    DIR *d = opendir(base);
    if (!d)
        return;
    int64_t until = mono_ns() + 100000000;
    time_t now = time(NULL);
    size_t swept = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && mono_ns() < until) {
        const char *rest = e->d_name;
        if (strncmp(rest, "outpost-chrome-", 15) != 0)
            continue;
        rest += 15;
        char *end;
        errno = 0;
        long pid = strtol(rest, &end, 10);
        if (errno != 0 || end == rest || *end != '-' || pid <= 0 || pid == (long)getpid())
            continue;
        struct stat st;
        if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISDIR(st.st_mode) ||
            st.st_uid != geteuid() || now - st.st_mtime < CHROME_STALE_S)
            continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue;
        if (rm_at(dirfd(d), e->d_name, 0, until) == RM_DONE)
            swept++;
    }
    closedir(d);
    if (swept > 0) {
        char n[24];
        snprintf(n, sizeof(n), "%zu", swept);
        log_info("removed browser profiles left by an agent that is gone", "count", n, "dir", base);
    }
}

static pthread_once_t g_sweep_once = PTHREAD_ONCE_INIT;

enum op_rc chrome_profile_make(struct chrome *c)
{
    (void)pthread_once(&g_sweep_once, sweep_stale_profiles);
    const char *tmp = profile_base();
    size_t n = strlen(tmp) + sizeof("/outpost-chrome--XXXXXX") + 20;
    char *p = xmalloc(n);
    snprintf(p, n, "%s/outpost-chrome-%ld-XXXXXX", tmp, (long)getpid());
    /* mkdtemp makes it 0700: the profile holds the run's cookies. */
    if (!mkdtemp(p)) {
        free(p);
        return OP_ERR_IO;
    }
    c->profile = p;
    return OP_OK;
}

static void profile_gone(struct chrome *c, enum rm_rc rc)
{
    if (rc == RM_FAIL)
        log_warn("cannot remove a browser profile", "path", c->profile, "err", strerror(errno));
    free(c->profile);
    c->profile = NULL;
}

void chrome_profile_remove(struct chrome *c)
{
    if (c->profile)
        profile_gone(c, rm_at(AT_FDCWD, c->profile, 0, INT64_MAX));
}

static void on_remove(struct probe_loop *loop, void *arg)
{
    (void)loop;
    struct chrome *c = arg;
    c->sweep = NULL;
    chrome_remove_step(c);
}

void chrome_remove_step(struct chrome *c)
{
    if (c->profile) {
        /* Chromium leaves ~130 files; on a disk busy with other writers
         * their unlinks took 16-80 ms here, too long to hold the loop: a
         * slice at a time, every millisecond, until the directory is gone. */
        enum rm_rc rc = rm_at(AT_FDCWD, c->profile, 0, mono_ns() + CHROME_RM_SLICE_NS);
        if (rc == RM_MORE) {
            c->sweep = probe_timer_at(c->loop, probe_now_ns(c->loop) + 1000000, on_remove, c);
            return;
        }
        profile_gone(c, rc);
    }
    chrome_finish(c);
}

/* ---- stderr ---- */

void chrome_drain_stderr(struct chrome *c)
{
    char chunk[4096];
    while (c->errfd >= 0) {
        ssize_t n = read(c->errfd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n <= 0) {
            probe_unwatch(c->loop, c->errw);
            c->errw = NULL;
            close(c->errfd);
            c->errfd = -1;
            return;
        }
        /* Keep the last CHROME_STDERR_TAIL bytes: the cause of an exit is
         * what the browser said last. */
        size_t k = (size_t)n;
        if (k >= CHROME_STDERR_TAIL) {
            memcpy(c->errtail, chunk + k - CHROME_STDERR_TAIL, CHROME_STDERR_TAIL);
            c->errtail_len = CHROME_STDERR_TAIL;
            continue;
        }
        if (c->errtail_len + k > CHROME_STDERR_TAIL) {
            size_t drop = c->errtail_len + k - CHROME_STDERR_TAIL;
            memmove(c->errtail, c->errtail + drop, c->errtail_len - drop);
            c->errtail_len -= drop;
        }
        memcpy(c->errtail + c->errtail_len, chunk, k);
        c->errtail_len += k;
    }
}

static void on_stderr(struct probe_loop *loop, int fd, uint32_t events, void *arg)
{
    (void)loop;
    (void)fd;
    (void)events;
    chrome_drain_stderr(arg);
}

const char *chrome_stderr_line(struct chrome *c, char *out, size_t cap)
{
    out[0] = '\0';
    size_t end = c->errtail_len;
    while (end > 0) {
        size_t start = end;
        while (start > 0 && c->errtail[start - 1] != '\n')
            start--;
        const char *l = c->errtail + start;
        size_t n = end - start;
        end = start > 0 ? start - 1 : 0;
        while (n > 0 && (l[n - 1] == '\r' || l[n - 1] == ' '))
            n--;
        /* Chromium complains about the missing D-Bus on every start; that
         * is never why it failed. */
        if (n == 0 || memmem(l, n, "dbus", 4) || memmem(l, n, "D-Bus", 5))
            continue;
        /* "[pid:tid:time:ERROR:file.cc(12)] message": the message. */
        const char *rb = l[0] == '[' ? memmem(l, n, "] ", 2) : NULL;
        if (rb) {
            n -= (size_t)(rb + 2 - l);
            l = rb + 2;
        }
        snprintf(out, cap, "%.*s", (int)n, l);
        break;
    }
    return out;
}

/* ---- strays: adopted orphans outside the browser's group ---- */

/* /proc/<pid>/stat of pid: an exited child of ours (a zombie) whose
 * session is not own_sid. The fields after the command name's closing
 * parenthesis (the name may hold one too) are state, ppid, pgrp, session. */
static bool stray_zombie(pid_t pid, pid_t own_sid)
{
    char path[64], text[512];
    snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ssize_t n = read(fd, text, sizeof(text) - 1);
    close(fd);
    if (n <= 0)
        return false;
    text[n] = '\0';
    char *end = strrchr(text, ')');
    if (!end || strncmp(end, ") Z ", 4) != 0)
        return false;
    long v[3]; /* ppid, pgrp, session */
    end += 3;
    for (size_t i = 0; i < ARRAY_SIZE(v); i++) {
        const char *start = end;
        errno = 0;
        v[i] = strtol(start, &end, 10);
        if (errno || end == start || *end != ' ')
            return false;
    }
    return v[0] == (long)getpid() && v[2] != (long)own_sid;
}

void chrome_reap_strays(void)
{
    pid_t own_sid = getsid(0);
    DIR *d = opendir("/proc/self/task");
    if (!d)
        return;
    struct dirent *e;
    struct buf b;
    buf_init(&b, CHROME_CHILDREN_MAX);
    /* A child adopted by the subreaper is the child of one of the agent's
     * threads (the first one alive), so every thread's list is read. */
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[sizeof(e->d_name) + 32];
        snprintf(path, sizeof(path), "/proc/self/task/%s/children", e->d_name);
        buf_reset(&b);
        if (buf_read_file(&b, path) != OP_OK)
            continue;
        for (const char *p = buf_str(&b); *p;) {
            char *end;
            errno = 0;
            long pid = strtol(p, &end, 10);
            if (errno || end == p || pid <= 0)
                break;
            /* Our unreaped child: its id cannot be reused before this. */
            if (stray_zombie((pid_t)pid, own_sid)) {
                siginfo_t si;
                (void)waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG);
            }
            p = end;
            while (*p == ' ' || *p == '\n')
                p++;
        }
    }
    buf_free(&b);
    closedir(d);
}

/* ---- spawn ---- */

static pthread_once_t g_subreaper_once = PTHREAD_ONCE_INIT;

static void become_subreaper(void)
{
    if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0)
        log_warn("cannot become a child subreaper: browser helpers are left to init", "err",
                 strerror(errno));
}

/* The flags of every run; docs/internals.md says why each is there. */
static const char *const chrome_flags[] = {
    "--headless=new",
    "--remote-debugging-pipe",
    "--no-first-run",
    "--no-default-browser-check",
    "--no-startup-window",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-default-apps",
    "--disable-breakpad",
    "--disable-client-side-phishing-detection",
    "--disable-domain-reliability",
    "--metrics-recording-only",
    "--no-service-autorun",
    "--password-store=basic",
    "--use-mock-keychain",
    "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
    "--disable-hang-monitor",
    "--disable-ipc-flooding-protection",
    ("--disable-features=Translate,MediaRouter,OptimizationHints,AutofillServerCommunication,"
     "CertificateTransparencyComponentUpdater,DialMediaRouteProvider"),
    "--mute-audio",
    "--disable-gpu",
    "--disable-dev-shm-usage",
};

static void on_pidfd(struct probe_loop *loop, int fd, uint32_t events, void *arg)
{
    (void)loop;
    (void)fd;
    (void)events;
    struct chrome *c = arg;
    if (c->phase != PH_ENDING) {
        chrome_peek_exit(c);
        chrome_on_exit(c); /* the verdict, and the kill */
    }
    chrome_teardown_step(c);
}

/* Variables the browser gets pointed at its profile: Chromium puts its
 * singleton socket under TMPDIR (never removed by it, and a Unix socket's
 * path is capped at 108 bytes, so a long TMPDIR aborts the browser), and
 * crash reports and caches under HOME and the XDG directories (for the
 * packaged service, the agent's own state directory). Inside the profile
 * they go when the profile goes. */
static const char *const env_moved[] = {"TMPDIR", "HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"};

/* The browser's environment: the agent's, with env_moved set to profile.
 * The array and its first ARRAY_SIZE(env_moved) strings are the caller's
 * (env_free); the rest are borrowed from environ. */
static char **env_new(const char *profile)
{
    size_t n = 0;
    for (char **e = environ; *e; e++)
        n++;
    char **env = xcalloc(n + ARRAY_SIZE(env_moved) + 1, sizeof(*env));
    size_t k = 0;
    for (size_t i = 0; i < ARRAY_SIZE(env_moved); i++) {
        size_t len = strlen(env_moved[i]) + 1 + strlen(profile) + 1;
        env[k] = xmalloc(len);
        snprintf(env[k++], len, "%s=%s", env_moved[i], profile);
    }
    for (char **e = environ; *e; e++) {
        bool moved = false;
        for (size_t i = 0; i < ARRAY_SIZE(env_moved) && !moved; i++) {
            size_t l = strlen(env_moved[i]);
            moved = strncmp(*e, env_moved[i], l) == 0 && (*e)[l] == '=';
        }
        if (!moved)
            env[k++] = *e;
    }
    env[k] = NULL;
    return env;
}

static void env_free(char **env)
{
    if (!env)
        return;
    for (size_t i = 0; i < ARRAY_SIZE(env_moved); i++)
        free(env[i]);
    free(env);
}

enum op_rc chrome_spawn(struct chrome *c, const char *exe, int *cdp_fd, char *why, size_t why_cap)
{
    (void)pthread_once(&g_subreaper_once, become_subreaper);
    /* Crash handlers of earlier runs that exited after their teardown. */
    chrome_reap_strays();
    enum op_rc rc = OP_ERR_SYSTEM;
    int sv[2] = {-1, -1}, ep[2] = {-1, -1}, peer = -1, errw = -1;
    bool fa_ok = false, attr_ok = false;
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    char *udd = NULL;
    char **env = NULL;
    const char *argv[ARRAY_SIZE(chrome_flags) + 4];

    /* One socket pair instead of two pipes: the browser's fds 3 (it reads)
     * and 4 (it writes) are both its end, and ours can be written with
     * MSG_NOSIGNAL, so a browser gone cannot SIGPIPE the agent. */
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, sv) != 0 ||
        pipe2(ep, O_CLOEXEC | O_NONBLOCK) != 0) {
        snprintf(why, why_cap, "cannot make the browser's pipes: %s", strerror(errno));
        goto out;
    }
    /* The child's ends above 9, so that placing them on 2, 3 and 4 never
     * overwrites one with the other. */
    peer = fcntl(sv[1], F_DUPFD_CLOEXEC, 10);
    errw = fcntl(ep[1], F_DUPFD_CLOEXEC, 10);
    /* Blocking on the browser's side, as a pipe it was given would be. */
    if (peer < 0 || errw < 0 || fcntl(peer, F_SETFL, 0) != 0 || fcntl(errw, F_SETFL, 0) != 0) {
        snprintf(why, why_cap, "cannot make the browser's pipes: %s", strerror(errno));
        goto out;
    }
    if (posix_spawn_file_actions_init(&fa) != 0)
        goto out;
    fa_ok = true;
    if (posix_spawnattr_init(&attr) != 0)
        goto out;
    attr_ok = true;
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    /* Its own process group (one kill ends every helper); no signal mask
     * or ignored signal of the agent's threads carried over; nothing open
     * but stdio and the channel (closefrom: a library's descriptor without
     * O_CLOEXEC, a listening socket, must not live on in the browser). */
    if (posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0) != 0 ||
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0) != 0 ||
        posix_spawn_file_actions_adddup2(&fa, errw, 2) != 0 ||
        posix_spawn_file_actions_adddup2(&fa, peer, 3) != 0 ||
        posix_spawn_file_actions_adddup2(&fa, peer, 4) != 0 ||
        posix_spawn_file_actions_addclosefrom_np(&fa, 5) != 0 ||
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                            POSIX_SPAWN_SETSIGDEF) != 0 ||
        posix_spawnattr_setpgroup(&attr, 0) != 0 || posix_spawnattr_setsigmask(&attr, &none) != 0 ||
        posix_spawnattr_setsigdefault(&attr, &all) != 0) {
        snprintf(why, why_cap, "cannot prepare the browser's start");
        goto out;
    }
    size_t n = strlen(c->profile) + sizeof("--user-data-dir=");
    udd = xmalloc(n);
    snprintf(udd, n, "--user-data-dir=%s", c->profile);
    size_t a = 0;
    argv[a++] = exe;
    argv[a++] = udd;
    /* Chromium's sandbox refuses to start as root; as any other user it
     * stays on. */
    if (geteuid() == 0)
        argv[a++] = "--no-sandbox";
    for (size_t i = 0; i < ARRAY_SIZE(chrome_flags); i++)
        argv[a++] = chrome_flags[i];
    argv[a] = NULL;

    env = env_new(c->profile);
    pid_t pid;
    int err = posix_spawn(&pid, exe, &fa, &attr, (char *const *)argv, env);
    if (err != 0) {
        snprintf(why, why_cap, "cannot run %s: %s", exe, strerror(err));
        rc = err == ENOENT || err == EACCES || err == ENOEXEC || err == ENOTDIR ? OP_ERR_NOT_FOUND
                                                                                : OP_ERR_SYSTEM;
        goto out;
    }
    c->pid = pid;
    /* Nobody else waits for our children, so pid cannot have been reaped
     * and reused before this. */
    c->pidfd = pidfd_open(pid, 0);
    if (c->pidfd < 0) {
        snprintf(why, why_cap, "pidfd_open: %s", strerror(errno));
        (void)kill(-pid, SIGKILL);
        (void)waitpid(pid, NULL, 0); /* SIGKILLed: prompt */
        c->pid = 0;
        goto out;
    }
    c->pidw = probe_watch_fd(c->loop, c->pidfd, EPOLLIN, on_pidfd, c);
    c->errfd = ep[0];
    ep[0] = -1;
    c->errw = probe_watch_fd(c->loop, c->errfd, EPOLLIN, on_stderr, c);
    if (!c->pidw || !c->errw) {
        snprintf(why, why_cap, "cannot watch the browser: %s", strerror(errno));
        chrome_kill_group(c);
        chrome_teardown_now(c);
        goto out;
    }
    *cdp_fd = sv[0];
    sv[0] = -1;
    rc = OP_OK;
out:
    if (fa_ok)
        posix_spawn_file_actions_destroy(&fa);
    if (attr_ok)
        posix_spawnattr_destroy(&attr);
    free(udd);
    env_free(env);
    int fds[] = {sv[0], sv[1], ep[0], ep[1], peer, errw};
    for (size_t i = 0; i < ARRAY_SIZE(fds); i++)
        if (fds[i] >= 0)
            close(fds[i]);
    return rc;
}

/* ---- the end ---- */

void chrome_kill_group(struct chrome *c)
{
    /* The leader is never reaped before this, so its id still names this
     * group (a zombie holds it). */
    if (c->pid > 0 && !c->reaped)
        (void)kill(-c->pid, SIGKILL);
}

void chrome_peek_exit(struct chrome *c)
{
    if (c->exited || c->pidfd < 0)
        return;
    siginfo_t si;
    memset(&si, 0, sizeof(si));
    if (waitid(P_PIDFD, (id_t)c->pidfd, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid) {
        c->exited = true;
        c->exit_code = si.si_code;
        c->exit_status = si.si_status;
    }
}

/* Reap the leader if it has exited; true once it is. */
static bool reap_leader(struct chrome *c)
{
    if (c->reaped || c->pid <= 0)
        return true;
    siginfo_t si;
    memset(&si, 0, sizeof(si));
    if (waitid(P_PIDFD, (id_t)c->pidfd, &si, WEXITED | WNOHANG) == 0 && !si.si_pid)
        return false; /* still dying */
    /* Reaped now, or (ECHILD) by nobody we know of: either way gone. */
    c->reaped = true;
    probe_unwatch(c->loop, c->pidw);
    c->pidw = NULL;
    close(c->pidfd);
    c->pidfd = -1;
    return true;
}

/* Reap what has exited of the group; true when nothing of it is left.
 * Once it is empty its id is free for a new group (another run's), so it
 * is never looked at again. */
static bool sweep_group(struct chrome *c)
{
    if (c->pid <= 0 || c->group_gone)
        return true;
    for (;;) {
        siginfo_t si;
        memset(&si, 0, sizeof(si));
        if (waitid(P_PGID, (id_t)c->pid, &si, WEXITED | WNOHANG) != 0 || !si.si_pid)
            break;
    }
    c->group_gone = kill(-c->pid, 0) != 0 && errno == ESRCH;
    return c->group_gone;
}

static void on_sweep(struct probe_loop *loop, void *arg)
{
    (void)loop;
    struct chrome *c = arg;
    c->sweep = NULL;
    chrome_teardown_step(c);
}

void chrome_teardown_step(struct chrome *c)
{
    if (!c->reaped) {
        if (!reap_leader(c))
            return; /* the pidfd watch calls again */
        c->sweep_until = probe_now_ns(c->loop) + CHROME_SWEEP_MAX_NS;
    }
    if (!sweep_group(c)) {
        int64_t now = probe_now_ns(c->loop);
        if (now < c->sweep_until) {
            c->sweep = probe_timer_at(c->loop, now + CHROME_SWEEP_NS, on_sweep, c);
            return;
        }
        char pg[FMT_U64_BYTES];
        fmt_u64(pg, (uint64_t)c->pid);
        log_warn("browser processes outlived their SIGKILL", "pgid", pg);
    }
    chrome_reap_strays();
    chrome_remove_step(c);
}

static int64_t mono_ms(void)
{
    return mono_ns() / 1000000;
}

void chrome_teardown_now(struct chrome *c)
{
    if (c->pid <= 0)
        return;
    chrome_kill_group(c);
    int64_t until = mono_ms() + CHROME_CANCEL_WAIT_MS;
    if (!c->reaped) {
        struct pollfd p = {.fd = c->pidfd, .events = POLLIN};
        int64_t left = until - mono_ms();
        (void)poll(&p, 1, left > 0 ? (int)left : 0);
        if (!reap_leader(c)) {
            char pg[FMT_U64_BYTES];
            fmt_u64(pg, (uint64_t)c->pid);
            log_warn("a browser outlived its SIGKILL", "pid", pg);
            probe_unwatch(c->loop, c->pidw);
            c->pidw = NULL;
            close(c->pidfd);
            c->pidfd = -1;
            c->reaped = true;
            return;
        }
    }
    while (!sweep_group(c)) {
        if (mono_ms() >= until) {
            char pg[FMT_U64_BYTES];
            fmt_u64(pg, (uint64_t)c->pid);
            log_warn("browser processes outlived their SIGKILL", "pgid", pg);
            break;
        }
        nanosleep(&(struct timespec){0, 2 * 1000000}, NULL);
    }
    chrome_reap_strays();
}
