/*
 * test_audit_faults.c - the audit log's rotation when the system says no:
 * no file descriptor left for the new file (a real RLIMIT_NOFILE), and a
 * short write whose piece ftruncate could not remove before the file
 * rotated (write and ftruncate failing on demand). Whatever fails, no
 * rotated file is lost and the files still verify as one chain.
 *
 * The module is compiled into this test (its write and ftruncate routed
 * through the fakes below), so the library's copy is not linked.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

static int fake_short_writes;   /* writes that write half their bytes */
static int fake_truncate_fails; /* ftruncate calls that fail with EIO */
static ssize_t fake_write(int fd, const void *p, size_t n);
static int fake_ftruncate(int fd, off_t len);

#define write fake_write
#define ftruncate fake_ftruncate
#include "audit.c"
#undef write
#undef ftruncate

#include "audit_cmd.h"
#include "clock.h"
#include "test_util.h"

static ssize_t fake_write(int fd, const void *p, size_t n)
{
    if (fake_short_writes > 0 && n > 1) {
        fake_short_writes--;
        return write(fd, p, n / 2);
    }
    return write(fd, p, n);
}

static int fake_ftruncate(int fd, off_t len)
{
    if (fake_truncate_fails > 0) {
        fake_truncate_fails--;
        errno = EIO;
        return -1;
    }
    return ftruncate(fd, len);
}

/* 2026-01-01T00:00:00.123Z */
#define T0_MS 1767225600123LL
#define EV_AUTH_FAILED 12

static char *path_in(const char *dir, const char *name)
{
    struct buf b;
    buf_init(&b, 4096);
    buf_addf(&b, "%s/%s", dir, name);
    return buf_take(&b);
}

/* The whole file; caller frees. */
static char *slurp(const char *path)
{
    struct buf b;
    buf_init(&b, 64u << 20);
    assert_int_equal(buf_read_file(&b, path), OP_OK);
    return buf_take(&b);
}

/* outpost audit verify over dir's files, oldest first (names: "audit.jsonl.2", ...). */
static int verify_files(const char *dir, const char *const *names, size_t n, struct buf *report)
{
    struct audit_chain c;
    audit_chain_init(&c);
    buf_reset(report);
    int code = AUDIT_EXIT_OK;
    for (size_t i = 0; i < n && code == AUDIT_EXIT_OK; i++) {
        char *p = path_in(dir, names[i]);
        FILE *f = fopen(p, "rb");
        assert_non_null(f);
        code = audit_verify_stream(f, names[i], &c, report);
        fclose(f);
        free(p);
    }
    return code;
}

static struct audit *open_log(const char *dir, unsigned keep, const struct clock *clk)
{
    struct buf err;
    buf_init(&err, 4096);
    struct audit *a = NULL;
    assert_int_equal(audit_open(dir, 1024, keep, clk, &a, &err), OP_OK);
    buf_free(&err);
    return a;
}

/* About 240 bytes of line around a value of n bytes (n < 1000). */
static void event_of(struct audit *a, size_t n)
{
    char big[1000];
    memset(big, 'v', n);
    big[n] = '\0';
    audit_event(a, "auth_failed", "client", big, NULL);
}

/* About 540 bytes a line: with 1 KiB files every such event rotates. */
static void big_event(struct audit *a)
{
    event_of(a, 300);
}

/* No descriptor left for the new file (a connection flood exhausting
 * RLIMIT_NOFILE is when failed authentications come fastest): the rotation
 * fails before anything moved, the events go on in the current file, and
 * every rotated file is still there, unchanged. */
static void test_rotation_without_fds(void **state)
{
    (void)state;
    struct clock *clk = clock_fake_new(0, T0_MS);
    char *dir = path_in(tu_tmpdir(), "nofds");
    struct audit *a = open_log(dir, 3, clk);
    for (int i = 0; i < 4; i++)
        big_event(a);
    static const char *const rotated[] = {"audit.jsonl.3", "audit.jsonl.2", "audit.jsonl.1"};
    char *before[3];
    for (size_t i = 0; i < 3; i++) {
        char *p = path_in(dir, rotated[i]);
        before[i] = slurp(p);
        free(p);
    }

    struct rlimit old, lim;
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
    lim = old;
    lim.rlim_cur = 256;
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &lim), 0);
    static int held[256];
    size_t n_held = 0;
    int d;
    while (n_held < ARRAY_SIZE(held) && (d = dup(0)) >= 0)
        held[n_held++] = d;
    assert_int_equal(errno, EMFILE);
    for (int i = 0; i < 5; i++)
        big_event(a);
    while (n_held)
        close(held[--n_held]);
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);

    assert_int_equal(audit_events_written(a, EV_AUTH_FAILED), 9);
    assert_int_equal(audit_write_failures(a), 0);
    for (size_t i = 0; i < 3; i++) {
        char *p = path_in(dir, rotated[i]);
        char *now = slurp(p);
        assert_string_equal(now, before[i]);
        free(now);
        free(p);
        free(before[i]);
    }
    /* Descriptors again: the next event rotates as usual. */
    big_event(a);
    audit_close(a);
    struct buf report;
    buf_init(&report, 1u << 16);
    static const char *const all[] = {"audit.jsonl.3", "audit.jsonl.2", "audit.jsonl.1",
                                      "audit.jsonl"};
    assert_int_equal(verify_files(dir, all, 4, &report), AUDIT_EXIT_OK);
    buf_free(&report);
    free(dir);
    clock_fake_free(clk);
}

/* A short write whose piece ftruncate could not remove, then an event that
 * rotates: the piece is cut before the file becomes .1 (a rotated file
 * never ends mid-line), and the two files verify. */
static void test_rotation_after_short_write(void **state)
{
    (void)state;
    struct clock *clk = clock_fake_new(0, T0_MS);
    char *dir = path_in(tu_tmpdir(), "shortrot");
    struct audit *a = open_log(dir, 2, clk);
    audit_event(a, "config_load", "file", "x", NULL);
    fake_short_writes = 1;
    fake_truncate_fails = 1;
    audit_event(a, "config_reload", "file", "y", NULL);
    assert_int_equal(fake_short_writes, 0);
    assert_int_equal(fake_truncate_fails, 0);
    assert_int_equal(audit_write_failures(a), 1);
    event_of(a, 700); /* past 1 KiB: rotates */
    assert_int_equal(audit_events_written(a, 13), 1);
    assert_int_equal(audit_write_failures(a), 1);
    audit_close(a);
    struct buf report;
    buf_init(&report, 1u << 16);
    static const char *const all[] = {"audit.jsonl.1", "audit.jsonl"};
    assert_int_equal(verify_files(dir, all, 2, &report), AUDIT_EXIT_OK);
    buf_free(&report);
    free(dir);
    clock_fake_free(clk);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rotation_without_fds),
        cmocka_unit_test(test_rotation_after_short_write),
    };
    return cmocka_run_group_tests(tests, tu_tmpdir_setup, tu_tmpdir_teardown);
}
