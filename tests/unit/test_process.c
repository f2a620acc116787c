/*
 * test_process.c - unit tests for the process_* collector (process.c):
 * /proc/self/stat parsing on synthetic lines, btime from synthetic /proc/stat
 * texts and files (a long intr line, over the cap, malformed values), and one
 * collection from the running test process.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "clock.h"
#include "process.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/*
 * Fields after the command name, numbered as in proc(5): 3 state, 4 ppid,
 * 5 pgrp, 6 session, 7 tty_nr, 8 tpgid, 9 flags, 10 minflt, 11 cminflt,
 * 12 majflt, 13 cmajflt, 14 utime, 15 stime, 16 cutime, 17 cstime,
 * 18 priority, 19 nice, 20 num_threads, 21 itrealvalue, 22 starttime,
 * 23 vsize, 24 rss, then 25.. (rsslim etc.).
 * Here: utime 250, stime 50, cutime/cstime 7/9 (not ours), starttime 5000,
 * vsize 104857600, rss 2560.
 */
#define FIELDS_3_TO_24                                                                             \
    "S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 7 9 20 0 1 0 5000 104857600 2560"
#define FIELDS_25_ON                                                                               \
    " 18446744073709551615 94000000000000 94000000100000 140730000000000 0 0 0 0 0 0 0 0 0 17 1 "  \
    "0 "                                                                                           \
    "0 0 0 0 0 0 0 0 0 0 0 0\n"

static void test_parse_stat_good(void **state)
{
    (void)state;
    static const struct {
        const char *line;
        double ticks, page, boot;
        double cpu, start, virt, res;
    } cases[] = {
        /* The command name holds spaces and parentheses: only the last ')'
         * ends it. */
        {"1234 (my (weird) proc) " FIELDS_3_TO_24 FIELDS_25_ON, 100, 4096, 1000, 3.0, 1050.0,
         104857600.0, 10485760.0},
        {"1234 (outpost) " FIELDS_3_TO_24 FIELDS_25_ON, 100, 4096, 1000, 3.0, 1050.0, 104857600.0,
         10485760.0},
        {"1234 () S 1 2 3) " FIELDS_3_TO_24 FIELDS_25_ON, 100, 4096, 1000, 3.0, 1050.0, 104857600.0,
         10485760.0},
        {"1234 (a) b) 5 6) " FIELDS_3_TO_24 FIELDS_25_ON, 100, 4096, 1000, 3.0, 1050.0, 104857600.0,
         10485760.0},
        /* Exactly 24 fields, with and without the trailing newline. */
        {"1234 (p) " FIELDS_3_TO_24, 100, 4096, 1000, 3.0, 1050.0, 104857600.0, 10485760.0},
        {"1234 (p) " FIELDS_3_TO_24 "\n", 100, 4096, 1000, 3.0, 1050.0, 104857600.0, 10485760.0},
        /* Other tick rates, page sizes and boot times. */
        {"1234 (p) " FIELDS_3_TO_24 FIELDS_25_ON, 1000, 16384, 1700000000, 0.3, 1700000005.0,
         104857600.0, 41943040.0},
        {"1234 (p) " FIELDS_3_TO_24 FIELDS_25_ON, 250, 65536, 0, 1.2, 20.0, 104857600.0,
         167772160.0},
        /* A real line from a kernel (pid 1 with a state of R). */
        {"1 (systemd) R 0 1 1 0 -1 4194560 61404 20946380 108 4236 577 1077 52418 23741 20 0 1 0 "
         "12 173051904 3289 18446744073709551615 1 1 0 0 0 0 671173123 4096 1260 0 0 0 17 0 0 0 "
         "0 0 0 0 0 0 0 0 0 0 0\n",
         100, 4096, 1690000000, 16.54, 1690000000.12, 173051904.0, 13471744.0},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct process_stats st;
        memset(&st, 0, sizeof(st));
        enum op_rc rc =
            process_parse_stat(cases[i].line, cases[i].ticks, cases[i].page, cases[i].boot, &st);
        if (rc != OP_OK)
            fail_msg("row %zu: %s", i, op_strerror(rc));
        if (st.cpu_seconds != cases[i].cpu || st.start_time != cases[i].start ||
            st.virtual_bytes != cases[i].virt || st.resident_bytes != cases[i].res)
            fail_msg("row %zu: cpu %.17g start %.17g virt %.17g res %.17g; "
                     "want %.17g %.17g %.17g %.17g",
                     i, st.cpu_seconds, st.start_time, st.virtual_bytes, st.resident_bytes,
                     cases[i].cpu, cases[i].start, cases[i].virt, cases[i].res);
    }
}

static void test_parse_stat_malformed(void **state)
{
    (void)state;
    static const struct {
        const char *line;
        double ticks;
    } cases[] = {
        {"", 100},
        {"\n", 100},
        {"1234", 100},
        /* No closing parenthesis. */
        {"1234 (outpost S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 7 9 20 0 1 0 5000 1 2", 100},
        {"1234 outpost S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 7 9 20 0 1 0 5000 1 2", 100},
        /* Nothing or too little after the name. */
        {"1234 (outpost)", 100},
        {"1234 (outpost) ", 100},
        {"1234 (outpost)\n", 100},
        {"1234 (outpost) S", 100},
        {"1234 (outpost) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50", 100},
        /* Field 24 (rss) missing. */
        {"1234 (outpost) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 7 9 20 0 1 0 5000 104857600",
         100},
        /* Bad clock tick rates. */
        {"1234 (p) " FIELDS_3_TO_24 FIELDS_25_ON, 0},
        {"1234 (p) " FIELDS_3_TO_24 FIELDS_25_ON, -100},
        /* Only field 3 may be non-numeric: a garbled numeric field (or a
         * line cut after field 23, whose newline once counted as field 24)
         * must be rejected, not read as 0 or shifted. */
        {"1234 (outpost) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 7 9 20 0 1 0 5000 104857600\n",
         100},
        {"1234 (p) S 1 1234 1234 0 -1 4194560 100 0 0 0 x 50 7 9 20 0 1 0 5000 104857600 2560\n",
         100},
        {"1234 (p) S 1 1234 1234 0 -1 4194560 100 0 0 0 250x 50 7 9 20 0 1 0 5000 104857600 2560\n",
         100},
        {"1234 (p) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 7 9 20 0 1 0 5000 104857600 rss\n",
         100},
    };
    /* Report every wrong row, then fail once. */
    int wrong = 0;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct process_stats st;
        memset(&st, 0, sizeof(st));
        enum op_rc rc = process_parse_stat(cases[i].line, cases[i].ticks, 4096, 1000, &st);
        if (rc != OP_ERR_INVALID) {
            print_error("row %zu (\"%s\"): got %s, want OP_ERR_INVALID\n", i, cases[i].line,
                        op_strerror(rc));
            wrong++;
        }
    }
    if (wrong)
        fail_msg("%d malformed line(s) accepted", wrong);
}

/* ---- btime from /proc/stat ---- */

/* A /proc/stat whose intr line holds n_irqs counters, btime after it, as on
 * hosts with many CPUs or interrupt sources. Caller frees. */
static char *stat_text(size_t n_irqs, const char *btime_line)
{
    size_t cap = 256 + 2 * n_irqs + strlen(btime_line);
    char *t = malloc(cap);
    assert_non_null(t);
    size_t n = (size_t)snprintf(t, cap,
                                "cpu  10132153 290696 3084719 46828483 16683 0 25195 0 0 0\n"
                                "cpu0 1393280 32966 572056 13343292 6130 0 17875 0 0 0\n"
                                "intr 1462898");
    for (size_t i = 0; i < n_irqs; i++) {
        t[n++] = ' ';
        t[n++] = '0';
    }
    n += (size_t)snprintf(t + n, cap - n, "\nctxt 115315133\n%sprocesses 86031\n", btime_line);
    assert_true(n < cap);
    return t;
}

static void test_parse_btime(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        enum op_rc rc;
        double want;
    } cases[] = {
        {"cpu 1 2 3\nbtime 1700000000\nprocesses 5\n", OP_OK, 1700000000},
        {"btime 1700000000\n", OP_OK, 1700000000},      /* first line */
        {"cpu 1\nbtime 1700000000", OP_OK, 1700000000}, /* last, no newline */
        {"btime 1\n", OP_OK, 1},
        {"btime 253402300799\n", OP_OK, 253402300799.0}, /* 9999-12-31T23:59:59Z */
        {"cpu 1\nbtime 5\nbtime 6\n", OP_OK, 5},         /* the first one counts */
        /* Malformed values are errors, never 0 or a prefix. */
        {"btime abc\n", OP_ERR_INVALID, 0},
        {"btime -5\n", OP_ERR_INVALID, 0},
        {"btime +5\n", OP_ERR_INVALID, 0},
        {"btime 1700000000x\n", OP_ERR_INVALID, 0},
        {"btime 1700000000 \n", OP_ERR_INVALID, 0},
        {"btime  1700000000\n", OP_ERR_INVALID, 0},
        {"btime 1.7e9\n", OP_ERR_INVALID, 0},
        {"btime 0x10\n", OP_ERR_INVALID, 0},
        {"btime \n", OP_ERR_INVALID, 0},
        {"btime ", OP_ERR_INVALID, 0},
        {"btime 0\n", OP_ERR_INVALID, 0},
        {"btime 253402300800\n", OP_ERR_INVALID, 0},
        {"btime 99999999999999999999999\n", OP_ERR_INVALID, 0},
        /* No btime line. */
        {"", OP_ERR_NOT_FOUND, 0},
        {"cpu 1 2 3\n", OP_ERR_NOT_FOUND, 0},
        {"xbtime 5\n", OP_ERR_NOT_FOUND, 0},
        {"btimex 5\n", OP_ERR_NOT_FOUND, 0},
        {"btime\n", OP_ERR_NOT_FOUND, 0},
        {"intr 1 btime 5\n", OP_ERR_NOT_FOUND, 0},
    };
    int wrong = 0;
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        double v = -1;
        enum op_rc rc = process_parse_btime(cases[i].text, &v);
        if (rc != cases[i].rc || (rc == OP_OK && v != cases[i].want) || (rc != OP_OK && v != -1)) {
            print_error("row %zu: got %s %.17g, want %s %.17g\n", i, op_strerror(rc), v,
                        op_strerror(cases[i].rc), cases[i].want);
            wrong++;
        }
    }
    if (wrong)
        fail_msg("%d row(s) wrong", wrong);

    /* A 64 KiB intr line before btime. */
    char *t = stat_text(32768, "btime 1700000000\n");
    double v = 0;
    assert_int_equal(process_parse_btime(t, &v), OP_OK);
    assert_true(v == 1700000000);
    free(t);
}

/* Write text to a new temporary file; returns its path (caller frees and
 * unlinks). */
static char *temp_file(const char *text, size_t len)
{
    char *path = strdup("/tmp/outpost-test-proc-stat-XXXXXX");
    assert_non_null(path);
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    return path;
}

/* The whole file is read: btime after a 64 KiB intr line is found (a 16 KiB
 * read once cut it off, and the start time became seconds since boot). */
static void test_read_btime_long_intr(void **state)
{
    (void)state;
    char *t = stat_text(32768, "btime 1700000000\n");
    assert_true(strlen(t) > 65536);
    char *path = temp_file(t, strlen(t));
    double v = 0;
    assert_int_equal(process_read_btime(path, &v), OP_OK);
    assert_true(v == 1700000000);
    unlink(path);
    free(path);
    free(t);

    /* The same file without btime: an error, not 0. */
    t = stat_text(32768, "");
    path = temp_file(t, strlen(t));
    v = -1;
    assert_int_equal(process_read_btime(path, &v), OP_ERR_NOT_FOUND);
    assert_true(v == -1);
    unlink(path);
    free(path);
    free(t);

    assert_int_equal(process_read_btime("/nonexistent/outpost/stat", &v), OP_ERR_IO);
}

/* Over the cap is an error, not a truncation: btime sits past it here. */
static void test_read_btime_over_cap(void **state)
{
    (void)state;
    size_t irqs = PROCESS_MAX_PROC_STAT_BYTES / 2;
    char *t = stat_text(irqs, "btime 1700000000\n");
    size_t len = strlen(t);
    assert_true(len > PROCESS_MAX_PROC_STAT_BYTES);
    char *path = temp_file(t, len);
    double v = -1;
    assert_int_equal(process_read_btime(path, &v), OP_ERR_LIMIT);
    assert_true(v == -1);
    unlink(path);
    free(path);

    /* Just under the cap: read whole. */
    irqs = (PROCESS_MAX_PROC_STAT_BYTES - 512) / 2;
    free(t);
    t = stat_text(irqs, "btime 1700000000\n");
    len = strlen(t);
    assert_true(len <= PROCESS_MAX_PROC_STAT_BYTES);
    path = temp_file(t, len);
    assert_int_equal(process_read_btime(path, &v), OP_OK);
    assert_true(v == 1700000000);
    unlink(path);
    free(path);
    free(t);
}

static void test_collect_self(void **state)
{
    (void)state;
    struct process_stats st;
    memset(&st, 0xff, sizeof(st));
    assert_int_equal(process_collect(&st), OP_OK);
    assert_true(st.resident_bytes > 0);
    assert_true(st.virtual_bytes >= st.resident_bytes);
    assert_true(st.cpu_seconds >= 0);
    assert_true(st.open_fds >= 3);
    assert_true(st.max_fds > 0);
    struct rlimit rl;
    assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
    if (rl.rlim_cur != RLIM_INFINITY)
        assert_true(st.max_fds == (double)rl.rlim_cur);
    /* Started after boot and not in the future. */
    assert_true(st.start_time > 1e9);
    assert_true(st.start_time <= now_wall() + 1);
    double boot = 0;
    assert_int_equal(process_read_btime("/proc/stat", &boot), OP_OK);
    assert_true(st.start_time >= boot);

    /* Opening a file shows up as exactly one more descriptor. */
    double before = st.open_fds;
    FILE *f = fopen("/proc/self/stat", "r");
    assert_non_null(f);
    assert_int_equal(process_collect(&st), OP_OK);
    fclose(f);
    assert_true(st.open_fds == before + 1);
    assert_int_equal(process_collect(&st), OP_OK);
    assert_true(st.open_fds == before);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_stat_good),     cmocka_unit_test(test_parse_stat_malformed),
        cmocka_unit_test(test_parse_btime),         cmocka_unit_test(test_read_btime_long_intr),
        cmocka_unit_test(test_read_btime_over_cap), cmocka_unit_test(test_collect_self),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
