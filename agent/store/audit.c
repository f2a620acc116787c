/* audit.c - the audit log's files: open and continue, append, rotate (audit.h). */
#include "audit.h"
#include "audit_line.h"
#include "log.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const event_names[AUDIT_EVENT_COUNT] = {
    "config_load",       "config_reload",   "config_reload_failed", "state_restore_failed",
    "alert_fired",       "alert_resolved",  "slo_freeze_on",        "slo_freeze_off",
    "maintenance_start", "maintenance_end", "canary_verdict",       "canary_run_end",
    "auth_failed",       "audit_rotated",
};
#define EV_ROTATED 13

/* What audit_open reads from the end of a file: the last complete line (at
 * most AUDIT_MAX_LINE_BYTES), the partial line after it (shorter than one),
 * and the newline before it. */
#define TAIL_WINDOW (2 * (size_t)AUDIT_MAX_LINE_BYTES + 1)

struct audit {
    pthread_mutex_t lock; /* guards everything below but the counters */
    const struct clock *clock;
    char *path;      /* dir/audit.jsonl */
    char *next_path; /* dir/.audit.jsonl.next: a rotation's new file until it is in place */
    uint64_t max_bytes;
    unsigned keep;
    int fd;
    uint64_t size; /* bytes in the current file */
    uint64_t seq;  /* of the last line written; 0: none ever */
    char hash[SHA256_HEX_BYTES];
    uint64_t repaired;       /* bytes cut off at open, told by the next event written */
    bool rotated_due;        /* the file is new: its first line must be audit_rotated */
    uint64_t rotated_bytes;  /* the size of the file it replaced */
    bool truncate_due;       /* a short write left bytes ftruncate could not remove yet */
    bool failing, rot_fails; /* writes (rotations) fail now: logged once per episode */
    uint64_t lost;           /* events lost in this episode */
    struct buf line;         /* the line being written */
    atomic_uint_fast64_t written[AUDIT_EVENT_COUNT];
    atomic_uint_fast64_t failures;
};

const char *audit_event_name(size_t i)
{
    return i < AUDIT_EVENT_COUNT ? event_names[i] : "";
}

uint64_t audit_events_written(const struct audit *a, size_t i)
{
    return i < AUDIT_EVENT_COUNT ? atomic_load(&a->written[i]) : 0;
}

uint64_t audit_write_failures(const struct audit *a)
{
    return atomic_load(&a->failures);
}

enum op_rc audit_parse_size(const char *s, uint64_t *out)
{
    static const struct {
        const char *sfx;
        uint64_t mul;
    } sfx[] = {{"KiB", 1u << 10}, {"MiB", 1u << 20},  {"GiB", 1u << 30}, {"kB", 1000}, {"KB", 1000},
               {"MB", 1000000},   {"GB", 1000000000}, {"B", 1},          {"", 1}};
    size_t digits = strspn(s, "0123456789");
    uint64_t v;
    if (parse_u64(s, digits, AUDIT_MAX_MAX_BYTES, &v) != OP_OK)
        return OP_ERR_INVALID;
    for (size_t i = 0; i < ARRAY_SIZE(sfx); i++) {
        if (strcmp(s + digits, sfx[i].sfx) != 0)
            continue;
        if (v > AUDIT_MAX_MAX_BYTES / sfx[i].mul || v * sfx[i].mul < AUDIT_MIN_MAX_BYTES)
            return OP_ERR_INVALID;
        *out = v * sfx[i].mul;
        return OP_OK;
    }
    return OP_ERR_INVALID;
}

/* path, or path.k for k > 0: caller frees. */
static char *numbered(const char *path, unsigned k)
{
    struct buf b;
    buf_init(&b, strlen(path) + 16);
    if (k)
        buf_addf(&b, "%s.%u", path, k);
    else
        buf_adds(&b, path);
    return buf_take(&b);
}

/* Open path for appending, creating it, and take its lock. -1 with errno. */
static int open_locked(const char *path)
{
    /* O_NONBLOCK: a FIFO put at the path is refused below, not waited on. */
    int fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC | O_NONBLOCK, 0640);
    if (fd < 0)
        return -1;
    struct stat st;
    int e = 0;
    if (fstat(fd, &st) != 0)
        e = errno;
    else if (!S_ISREG(st.st_mode))
        e = EINVAL;
    else if (flock(fd, LOCK_EX | LOCK_NB) != 0)
        e = errno;
    if (e) {
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

/* The end of a file as audit_open needs it. */
struct tail {
    char *data; /* the last bytes of the file, owned */
    size_t len;
    bool has_line;         /* a complete line was found */
    size_t line, line_len; /* its offset in data and length, without the newline */
    size_t partial;        /* bytes after the last newline */
};

/* Read the end of the file fd of size bytes into t. OP_ERR_IO (read error)
 * or OP_ERR_INVALID (no line fits the caps) with a line in err. */
static enum op_rc read_tail(int fd, uint64_t size, const char *path, struct tail *t,
                            struct buf *err)
{
    memset(t, 0, sizeof(*t));
    size_t want = size < TAIL_WINDOW ? (size_t)size : TAIL_WINDOW;
    uint64_t from = size - want;
    t->data = xmalloc(want + 1);
    while (t->len < want) {
        ssize_t r = pread(fd, t->data + t->len, want - t->len, (off_t)(from + t->len));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            buf_addf(err, "%s: cannot read: %s", path, r < 0 ? strerror(errno) : "file shrank");
            return OP_ERR_IO;
        }
        t->len += (size_t)r;
    }
    if (t->len == 0)
        return OP_OK;
    const char *nl = memrchr(t->data, '\n', t->len);
    t->partial = nl ? t->len - (size_t)(nl - t->data) - 1 : t->len;
    if (t->partial >= AUDIT_MAX_LINE_BYTES || (!nl && from > 0)) {
        buf_addf(err, "%s: ends with %zu bytes without a newline: not an audit log", path,
                 t->partial);
        return OP_ERR_INVALID;
    }
    if (!nl)
        return OP_OK; /* only a partial line */
    const char *prev = memrchr(t->data, '\n', (size_t)(nl - t->data));
    const char *start = prev ? prev + 1 : t->data;
    if (!prev && from > 0) {
        buf_addf(err, "%s: its last line is longer than %u bytes: not an audit log", path,
                 AUDIT_MAX_LINE_BYTES);
        return OP_ERR_INVALID;
    }
    t->has_line = true;
    t->line = (size_t)(start - t->data);
    t->line_len = (size_t)(nl - start);
    return OP_OK;
}

/* Take seq and hash from the tail's last line; refused when it is not an
 * audit line or its hash does not match. */
static enum op_rc take_chain(struct audit *a, const struct tail *t, const char *path,
                             struct buf *err)
{
    struct audit_line l;
    const char *why;
    size_t at;
    if (audit_line_parse(t->data + t->line, t->line_len, &l, &why, &at) != OP_OK) {
        buf_addf(err,
                 "%s: the last line is not an audit line (%s, column %zu): the chain cannot go "
                 "on from it; check the file with outpost audit verify and move it aside",
                 path, why, at + 1);
        return OP_ERR_INVALID;
    }
    if (strcmp(l.hash, l.computed) != 0) {
        buf_addf(err,
                 "%s: the last line's hash does not match its content: the file was changed; "
                 "check it with outpost audit verify and move it aside",
                 path);
        return OP_ERR_INVALID;
    }
    a->seq = l.seq;
    memcpy(a->hash, l.hash, sizeof(a->hash));
    return OP_OK;
}

/* Continue the chain of the current file (repairing a partial last line),
 * or, when it holds no line, of audit.jsonl.1 (the agent stopped between
 * a rotation's rename and its first line). */
static enum op_rc continue_chain(struct audit *a, struct buf *err)
{
    struct stat st;
    struct tail t = {0};
    char *older = NULL;
    int ofd = -1;
    enum op_rc rc = OP_ERR_IO;
    if (fstat(a->fd, &st) != 0) {
        buf_addf(err, "%s: cannot stat: %s", a->path, strerror(errno));
        goto out;
    }
    rc = read_tail(a->fd, (uint64_t)st.st_size, a->path, &t, err);
    if (rc != OP_OK)
        goto out;
    a->size = (uint64_t)st.st_size;
    if (t.partial) {
        if (ftruncate(a->fd, (off_t)(a->size - t.partial)) != 0) {
            buf_addf(err, "%s: cannot cut off its partial last line: %s", a->path, strerror(errno));
            rc = OP_ERR_IO;
            goto out;
        }
        a->size -= t.partial;
        a->repaired = t.partial;
        char n[24];
        snprintf(n, sizeof(n), "%zu", t.partial);
        log_warn("the audit log ended with a partial line (the agent stopped while writing it); "
                 "cut it off",
                 "path", a->path, "bytes", n);
    }
    if (t.has_line) {
        rc = take_chain(a, &t, a->path, err);
        goto out;
    }
    free(t.data);
    t.data = NULL;
    older = numbered(a->path, 1);
    ofd = open(older, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (ofd < 0) {
        rc = errno == ENOENT ? OP_OK : OP_ERR_IO; /* no older file: a new chain */
        if (rc != OP_OK)
            buf_addf(err, "%s: cannot open: %s", older, strerror(errno));
        goto out;
    }
    rc = OP_ERR_IO;
    if (fstat(ofd, &st) != 0 || !S_ISREG(st.st_mode)) {
        buf_addf(err, "%s: cannot read it as a regular file", older);
        goto out;
    }
    rc = read_tail(ofd, (uint64_t)st.st_size, older, &t, err);
    if (rc == OP_OK && t.partial) {
        buf_addf(err, "%s: ends with a partial line, which a rotated file never does", older);
        rc = OP_ERR_INVALID;
    }
    if (rc == OP_OK && t.has_line) {
        rc = take_chain(a, &t, older, err);
        a->rotated_due = true;
        a->rotated_bytes = (uint64_t)st.st_size;
    }
out:
    if (ofd >= 0)
        close(ofd);
    free(older);
    free(t.data);
    return rc;
}

enum op_rc audit_open(const char *dir, uint64_t max_bytes, unsigned keep_files,
                      const struct clock *clock, struct audit **out, struct buf *err)
{
    assert(max_bytes >= AUDIT_MIN_MAX_BYTES && max_bytes <= AUDIT_MAX_MAX_BYTES);
    assert(keep_files >= 1 && keep_files <= AUDIT_MAX_MAX_FILES);
    if (mkdir(dir, 0750) != 0 && errno != EEXIST) {
        buf_addf(err, "%s: cannot create the directory: %s", dir, strerror(errno));
        return OP_ERR_IO;
    }
    struct audit *a = xcalloc(1, sizeof(*a));
    a->fd = -1; /* audit_close on the failures before the open */
    pthread_mutex_init(&a->lock, NULL);
    a->clock = clock;
    a->max_bytes = max_bytes;
    a->keep = keep_files;
    memcpy(a->hash, AUDIT_ZERO_HASH, sizeof(a->hash));
    buf_init(&a->line, AUDIT_MAX_LINE_BYTES);
    struct buf p;
    buf_init(&p, 1u << 16);
    buf_addf(&p, "%s/%s", dir, AUDIT_FILE_NAME);
    struct buf np;
    buf_init(&np, 1u << 16);
    buf_addf(&np, "%s/.%s.next", dir, AUDIT_FILE_NAME);
    if (p.failed || np.failed) {
        buf_free(&p);
        buf_free(&np);
        audit_close(a);
        buf_addf(err, "%s: the directory's name is too long", dir);
        return OP_ERR_INVALID;
    }
    a->path = buf_take(&p);
    a->next_path = buf_take(&np);
    buf_free(&p);
    buf_free(&np);
    a->fd = open_locked(a->path);
    if (a->fd < 0) {
        if (errno == EWOULDBLOCK)
            buf_addf(err,
                     "%s: another process holds its lock (a second agent on this storage "
                     "path?)",
                     a->path);
        else
            buf_addf(err, "%s: cannot open: %s", a->path, strerror(errno));
        audit_close(a);
        return OP_ERR_IO;
    }
    enum op_rc rc = continue_chain(a, err);
    if (rc != OP_OK) {
        audit_close(a);
        return rc;
    }
    *out = a;
    return OP_OK;
}

void audit_close(struct audit *a)
{
    if (!a)
        return;
    if (a->fd >= 0)
        close(a->fd);
    buf_free(&a->line);
    free(a->path);
    free(a->next_path);
    pthread_mutex_destroy(&a->lock);
    free(a);
}

/* Write a->line whole, or nothing. Under the lock. */
static enum op_rc write_line(struct audit *a, int *err_no)
{
    /* A short write left a piece: remove it first, or the next line would
     * be glued to it. */
    if (a->truncate_due) {
        if (ftruncate(a->fd, (off_t)a->size) != 0) {
            *err_no = errno;
            return OP_ERR_IO;
        }
        a->truncate_due = false;
    }
    ssize_t w;
    do
        w = write(a->fd, a->line.data, a->line.len);
    while (w < 0 && errno == EINTR);
    if (w == (ssize_t)a->line.len) {
        a->size += a->line.len;
        return OP_OK;
    }
    *err_no = w < 0 ? errno : 0; /* 0: a short write */
    if (w > 0 && ftruncate(a->fd, (off_t)a->size) != 0)
        a->truncate_due = true;
    return OP_ERR_IO;
}

/* The line of event ev with hash h is in the file: the chain moves on. */
static void commit(struct audit *a, size_t ev, const char *h)
{
    a->seq++;
    memcpy(a->hash, h, sizeof(a->hash));
    atomic_fetch_add(&a->written[ev], 1);
}

/* Encode and write one line of event ev; seq and hash move only when it
 * was written whole. Under the lock. */
static enum op_rc append(struct audit *a, size_t ev, const char *const *kv, size_t n, int *err_no)
{
    char h[SHA256_HEX_BYTES];
    buf_reset(&a->line);
    if (audit_line_encode(&a->line, a->seq + 1, clock_wall_ms(a->clock), event_names[ev], kv, n,
                          a->hash, h) != OP_OK)
        return OP_ERR_LIMIT;
    enum op_rc rc = write_line(a, err_no);
    if (rc == OP_OK)
        commit(a, ev, h);
    return rc;
}

/* Shift the files (audit.jsonl -> .1 -> .2 ..., the one past keep deleted)
 * and start a new audit.jsonl. On failure the current file stays in use
 * (the log grows past its size instead of losing events). Under the lock.
 *
 * The new file is made first, under a name of its own, and renamed into
 * place last: a rotation that cannot make it (no descriptor left, no
 * inode) has moved and deleted nothing. Otherwise every event would retry
 * it and each try delete the oldest file, until none was left. A stopped
 * rotation leaves at worst an empty .next file (reused by the next one)
 * or no audit.jsonl, from which audit_open continues .1's chain. */
static enum op_rc rotate(struct audit *a, struct buf *why)
{
    enum op_rc rc = OP_ERR_IO;
    char *last = numbered(a->path, a->keep), *one = numbered(a->path, 1);
    int fd = -1;
    /* A piece a short write left must not end the file that becomes .1:
     * a rotated file never ends mid-line. */
    if (a->truncate_due) {
        if (ftruncate(a->fd, (off_t)a->size) != 0) {
            buf_addf(why, "cannot cut a short write off %s: %s", a->path, strerror(errno));
            goto out;
        }
        a->truncate_due = false;
    }
    fd = open_locked(a->next_path);
    if (fd < 0) {
        buf_addf(why, "cannot create %s: %s", a->next_path, strerror(errno));
        goto out;
    }
    if (ftruncate(fd, 0) != 0) { /* one a stopped rotation left */
        buf_addf(why, "cannot empty %s: %s", a->next_path, strerror(errno));
        goto out;
    }
    if (unlink(last) != 0 && errno != ENOENT) {
        buf_addf(why, "cannot delete %s: %s", last, strerror(errno));
        goto out;
    }
    for (unsigned k = a->keep; k > 1; k--) {
        char *from = numbered(a->path, k - 1), *to = numbered(a->path, k);
        bool bad = rename(from, to) != 0 && errno != ENOENT;
        if (bad)
            buf_addf(why, "cannot rename %s: %s", from, strerror(errno));
        free(from);
        free(to);
        if (bad)
            goto out;
    }
    if (rename(a->path, one) != 0) {
        buf_addf(why, "cannot rename %s: %s", a->path, strerror(errno));
        goto out;
    }
    if (rename(a->next_path, a->path) != 0) {
        buf_addf(why, "cannot rename %s: %s", a->next_path, strerror(errno));
        /* Back where it was, so the chain goes on in the file it was in. */
        if (rename(one, a->path) != 0)
            buf_addf(why, "; nor rename %s back: %s", one, strerror(errno));
        goto out;
    }
    close(a->fd);
    a->fd = fd;
    fd = -1;
    a->rotated_bytes = a->size;
    a->size = 0;
    a->rotated_due = true;
    rc = OP_OK;
out:
    if (fd >= 0) {
        close(fd);
        (void)unlink(a->next_path);
    }
    free(last);
    free(one);
    return rc;
}

/* The audit_rotated line a new file starts with. Under the lock. */
static enum op_rc write_rotated(struct audit *a, int *err_no)
{
    char n[24];
    snprintf(n, sizeof(n), "%" PRIu64, a->rotated_bytes);
    const char *kv[] = {"previous_bytes", n};
    enum op_rc rc = append(a, EV_ROTATED, kv, 1, err_no);
    if (rc == OP_OK)
        a->rotated_due = false;
    return rc;
}

static long event_index(const char *event)
{
    for (size_t i = 0; i < AUDIT_EVENT_COUNT; i++)
        if (strcmp(event, event_names[i]) == 0)
            return (long)i;
    return -1;
}

/* Rotate when the line in a->line would take the file past its size. The
 * line is encoded again afterwards (seq and prev moved). Under the lock. */
static void maybe_rotate(struct audit *a)
{
    if (a->rotated_due || a->size == 0 || a->size + a->line.len <= a->max_bytes)
        return;
    struct buf why;
    buf_init(&why, 1u << 16);
    if (rotate(a, &why) == OP_OK) {
        if (a->rot_fails)
            log_info("the audit log rotates again", "path", a->path);
        a->rot_fails = false;
    } else if (!a->rot_fails) {
        a->rot_fails = true;
        log_error("cannot rotate the audit log; it grows past its size until it can", "path",
                  a->path, "err", buf_str(&why));
    }
    buf_free(&why);
}

void audit_event(struct audit *a, const char *event, ...)
{
    if (!a)
        return;
    long ev = event_index(event);
    assert(ev >= 0 && "an audit event outside the closed set");
    /* One more pair for repaired_bytes. */
    const char *kv[2 * (AUDIT_MAX_FIELDS + 1)];
    size_t n = 0;
    va_list ap;
    va_start(ap, event);
    const char *k;
    while ((k = va_arg(ap, const char *)) != NULL) {
        const char *v = va_arg(ap, const char *);
        assert(n < AUDIT_MAX_FIELDS && "too many audit fields");
        if (n < AUDIT_MAX_FIELDS) {
            kv[2 * n] = k;
            kv[2 * n + 1] = v ? v : "";
            n++;
        }
    }
    va_end(ap);
    if (ev < 0) {
        atomic_fetch_add(&a->failures, 1);
        log_error("audit event outside the closed set, not written", "event", event);
        return;
    }
    pthread_mutex_lock(&a->lock);
    char rep[24];
    if (a->repaired) {
        snprintf(rep, sizeof(rep), "%" PRIu64, a->repaired);
        kv[2 * n] = "repaired_bytes";
        kv[2 * n + 1] = rep;
        n++;
    }
    int err_no = 0;
    char h[SHA256_HEX_BYTES];
    buf_reset(&a->line);
    enum op_rc rc = audit_line_encode(&a->line, a->seq + 1, clock_wall_ms(a->clock),
                                      event_names[ev], kv, n, a->hash, h);
    if (rc == OP_OK)
        maybe_rotate(a);
    if (rc == OP_OK && a->rotated_due) {
        /* A new file begins with audit_rotated; without it the event is
         * lost rather than start the file with something else. The event
         * is encoded again after it: seq and prev moved. */
        rc = write_rotated(a, &err_no);
        if (rc == OP_OK)
            rc = append(a, (size_t)ev, kv, n, &err_no);
    } else if (rc == OP_OK) {
        rc = write_line(a, &err_no);
        if (rc == OP_OK)
            commit(a, (size_t)ev, h);
    }
    if (rc == OP_OK) {
        a->repaired = 0;
        if (a->failing) {
            char lost[24];
            snprintf(lost, sizeof(lost), "%" PRIu64, a->lost);
            log_info("audit log writes work again", "path", a->path, "lost_events", lost);
        }
        a->failing = false;
        a->lost = 0;
    } else {
        atomic_fetch_add(&a->failures, 1);
        a->lost++;
        if (rc == OP_ERR_LIMIT) {
            log_error("audit event not written: its line is longer than 1 MiB", "event", event);
        } else if (!a->failing) {
            a->failing = true;
            log_error("cannot write the audit log; events are lost until it works again", "path",
                      a->path, "err",
                      err_no ? strerror(err_no)
                             : "short write (the disk is full, or a file size limit)");
        }
    }
    pthread_mutex_unlock(&a->lock);
}
