/*
 * test_audit.c - unit tests for the audit log: the exact bytes of a line
 * (its hash recomputed here with OpenSSL's EVP, independently of the
 * module), JSON escaping of any bytes, the chain across reopening and
 * rotation, a partial last line cut off, a changed last line refused, a
 * short write undone, the file lock, and the verifier naming the exact line
 * of an edit, a deletion, a swap, a seq gap and a truncation.
 *
 * Every log lives in its own directory under the test's temporary
 * directory; times come from a fake clock.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "audit.h"
#include "audit_cmd.h"
#include "audit_line.h"
#include "buf.h"
#include "clock.h"
#include "test_util.h"

#include <errno.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

/* 2026-01-01T00:00:00.123Z */
#define T0_MS 1767225600123LL

static char *dir_for(const char *name)
{
    struct buf b;
    buf_init(&b, 4096);
    buf_addf(&b, "%s/%s", tu_tmpdir(), name);
    return buf_take(&b);
}

static char *file_in(const char *dir, const char *name)
{
    struct buf b;
    buf_init(&b, 4096);
    buf_addf(&b, "%s/%s", dir, name);
    return buf_take(&b);
}

/* The whole file; caller frees. */
static char *slurp(const char *path, size_t *len)
{
    struct buf b;
    buf_init(&b, 64u << 20);
    assert_int_equal(buf_read_file(&b, path), OP_OK);
    if (len)
        *len = b.len;
    return buf_take(&b);
}

static void spit(const char *path, const char *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

/* SHA-256 hex by EVP, written here so the test does not trust the module's. */
static void evp_hex(const char *s, size_t n, char out[65])
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int dn = 0;
    assert_int_equal(EVP_Digest(s, n, d, &dn, EVP_sha256(), NULL), 1);
    assert_int_equal(dn, 32);
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* The line a writer must produce for prefix (the text up to the end of
 * prev): prefix + "}" hashed, then the hash member. */
static void expected_line(struct buf *out, const char *prefix, char hash[65])
{
    struct buf h;
    buf_init(&h, 1u << 20);
    buf_adds(&h, prefix);
    buf_addc(&h, '}');
    evp_hex(h.data, h.len, hash);
    buf_adds(out, prefix);
    buf_addf(out, ",\"hash\":\"%s\"}\n", hash);
    buf_free(&h);
}

static struct audit *open_ok(const char *dir, uint64_t max, unsigned keep, struct clock *clk)
{
    struct audit *a = NULL;
    struct buf err;
    buf_init(&err, 1u << 16);
    enum op_rc rc = audit_open(dir, max, keep, clk, &a, &err);
    if (rc != OP_OK)
        fprintf(stderr, "audit_open: %s\n", buf_str(&err));
    assert_int_equal(rc, OP_OK);
    buf_free(&err);
    return a;
}

/* Verify files (oldest first) as the command does; returns the exit code
 * and leaves the report in report. */
static int verify(const char *const *paths, size_t n, struct audit_chain *c, struct buf *report)
{
    audit_chain_init(c);
    buf_reset(report);
    for (size_t i = 0; i < n; i++) {
        FILE *f = fopen(paths[i], "rb");
        assert_non_null(f);
        int code = audit_verify_stream(f, paths[i], c, report);
        fclose(f);
        if (code != AUDIT_EXIT_OK)
            return code;
    }
    return AUDIT_EXIT_OK;
}

static int verify_text(const char *text, size_t len, struct buf *report)
{
    struct audit_chain c;
    audit_chain_init(&c);
    buf_reset(report);
    FILE *f = fmemopen((void *)text, len, "rb");
    assert_non_null(f);
    int code = audit_verify_stream(f, "log", &c, report);
    fclose(f);
    return code;
}

static void test_line_bytes(void **state)
{
    (void)state;
    struct clock *clk = clock_fake_new(0, T0_MS);
    char *dir = dir_for("bytes");
    struct audit *a = open_ok(dir, AUDIT_DEFAULT_MAX_BYTES, 3, clk);
    audit_event(a, "config_load", "file", "/etc/outpost.yml", "sha256", "ab", NULL);
    clock_fake_advance(clk, 1001000000LL); /* 1.001 s */
    audit_event(a, "auth_failed", "client", "q\"\\\n\xff", "route", NULL, NULL);
    audit_close(a);

    struct buf want;
    buf_init(&want, 1u << 20);
    char h1[65], h2[65];
    expected_line(
        &want,
        "{\"seq\":1,\"time\":\"2026-01-01T00:00:00.123Z\",\"event\":\"config_load\","
        "\"fields\":{\"file\":\"/etc/outpost.yml\",\"sha256\":\"ab\"},\"prev\":\"" AUDIT_ZERO_HASH
        "\"",
        h1);
    struct buf p2;
    buf_init(&p2, 1u << 20);
    buf_addf(&p2,
             "{\"seq\":2,\"time\":\"2026-01-01T00:00:01.124Z\",\"event\":\"auth_failed\","
             "\"fields\":{\"client\":\"q\\\"\\\\\\n\\u00ff\",\"route\":\"\"},\"prev\":\"%s\"",
             h1);
    expected_line(&want, buf_str(&p2), h2);
    char *path = file_in(dir, AUDIT_FILE_NAME);
    size_t len;
    char *got = slurp(path, &len);
    assert_string_equal(got, buf_str(&want));
    assert_int_equal(len, want.len);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    mode_t mask = umask(0);
    umask(mask);
    assert_int_equal(st.st_mode & 0777, 0640 & ~mask);
    free(got);
    free(path);
    buf_free(&p2);
    buf_free(&want);
    free(dir);
    clock_fake_free(clk);
}

static void test_escaping(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        size_t n;
        const char *out;
    } cases[] = {
        {"plain", 5, "\"plain\""},
        {"a\"b\\c", 5, "\"a\\\"b\\\\c\""},
        {"\n\r\t\x01\x1f\x7f", 6, "\"\\n\\r\\t\\u0001\\u001f\\u007f\""},
        {"\0x", 2, "\"\\u0000x\""},
        /* valid UTF-8 as it is: é, €, U+10FFFF */
        {"\xc3\xa9\xe2\x82\xac\xf4\x8f\xbf\xbf", 9, "\"\xc3\xa9\xe2\x82\xac\xf4\x8f\xbf\xbf\""},
        /* a stray continuation, an invalid lead */
        {"\x80\xff", 2, "\"\\u0080\\u00ff\""},
        /* overlong '/', a surrogate, past U+10FFFF: every byte escaped */
        {"\xc0\xaf", 2, "\"\\u00c0\\u00af\""},
        {"\xed\xa0\x80", 3, "\"\\u00ed\\u00a0\\u0080\""},
        {"\xf4\x90\x80\x80", 4, "\"\\u00f4\\u0090\\u0080\\u0080\""},
        /* a sequence cut short, then ASCII */
        {"\xe2\x82z", 3, "\"\\u00e2\\u0082z\""},
        {"\xe0\x9f\x80", 3, "\"\\u00e0\\u009f\\u0080\""},
    };
    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        struct buf b;
        buf_init(&b, 4096);
        audit_json_string(&b, cases[i].in, cases[i].n);
        assert_string_equal(buf_str(&b), cases[i].out);
        buf_free(&b);
    }
    char t[32];
    audit_time(0, t, sizeof(t));
    assert_string_equal(t, "1970-01-01T00:00:00.000Z");
    audit_time(-5, t, sizeof(t));
    assert_string_equal(t, "1970-01-01T00:00:00.000Z");
    audit_time(T0_MS, t, sizeof(t));
    assert_string_equal(t, "2026-01-01T00:00:00.123Z");
    audit_time(INT64_MAX, t, sizeof(t));
    assert_string_equal(t, "9999-12-31T23:59:59.999Z");
}

/* Lines of a file as (pointer, length) pairs into text. */
static size_t split_lines(char *text, size_t len, char **line, size_t *ll, size_t cap)
{
    size_t n = 0;
    char *p = text, *end = text + len;
    while (p < end && n < cap) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        assert_non_null(nl);
        line[n] = p;
        ll[n] = (size_t)(nl - p);
        n++;
        p = nl + 1;
    }
    return n;
}

static void test_reopen_continues(void **state)
{
    (void)state;
    struct clock *clk = clock_fake_new(0, T0_MS);
    char *dir = dir_for("reopen");
    struct audit *a = open_ok(dir, AUDIT_DEFAULT_MAX_BYTES, 3, clk);
    audit_event(a, "config_load", "file", "x", NULL);
    audit_event(a, "alert_fired", "alertname", "A", "severity", "critical", "check", "c", NULL);
    audit_event(a, "alert_resolved", "alertname", "A", "severity", "critical", "check", "c", NULL);
    assert_int_equal(audit_events_written(a, 0), 1);
    assert_int_equal(audit_events_written(a, 4), 1);
    assert_int_equal(audit_events_written(a, 5), 1);
    audit_close(a);
    a = open_ok(dir, AUDIT_DEFAULT_MAX_BYTES, 3, clk);
    /* Counters are per process: 0 again. */
    assert_int_equal(audit_events_written(a, 0), 0);
    audit_event(a, "config_load", "file", "x", NULL);
    audit_event(a, "config_reload", "file", "x", NULL);
    audit_close(a);

    char *path = file_in(dir, AUDIT_FILE_NAME);
    size_t len;
    char *text = slurp(path, &len);
    char *line[8];
    size_t ll[8];
    assert_int_equal(split_lines(text, len, line, ll, 8), 5);
    char prev[65] = AUDIT_ZERO_HASH;
    for (size_t i = 0; i < 5; i++) {
        struct audit_line l;
        const char *why;
        size_t at;
        assert_int_equal(audit_line_parse(line[i], ll[i], &l, &why, &at), OP_OK);
        assert_int_equal(l.seq, i + 1);
        assert_string_equal(l.prev, prev);
        assert_string_equal(l.hash, l.computed);
        memcpy(prev, l.hash, 65);
    }
    struct audit_chain c;
    struct buf report;
    buf_init(&report, 1u << 16);
    const char *paths[] = {path};
    assert_int_equal(verify(paths, 1, &c, &report), AUDIT_EXIT_OK);
    assert_int_equal(c.lines, 5);
    assert_int_equal(c.seq, 5);
    assert_string_equal(c.hash, prev);
    buf_free(&report);
    free(text);
    free(path);
    free(dir);
    clock_fake_free(clk);
}

static void test_partial_tail(void **state)
{
    (void)state;
    struct clock *clk = clock_fake_new(0, T0_MS);
    char *dir = dir_for("partial");
    struct audit *a = open_ok(dir, AUDIT_DEFAULT_MAX_BYTES, 3, clk);
    audit_event(a, "config_load", "file", "x", NULL);
    audit_event(a, "config_reload", "file", "x", NULL);
    audit_close(a);
    char *path = file_in(dir, AUDIT_FILE_NAME);
    size_t len0;
    char *before = slurp(path, &len0);
    /* What a crash inside a write leaves: part of a line, no newline. */
    FILE *f = fopen(path, "ab");
    assert_non_null(f);
    fputs("{\"seq\":3,\"ti", f);
    fclose(f);

    a = open_ok(dir, AUDIT_DEFAULT_MAX_BYTES, 3, clk);
    size_t len1;
    char *cut = slurp(path, &len1);
    assert_int_equal(len1, len0);
    assert_memory_equal(cut, before, len0);
    audit_event(a, "config_reload", "file", "y", NULL);
    audit_event(a, "config_reload", "file", "z", NULL);
    audit_close(a);

    size_t len;
    char *text = slurp(path, &len);
    char *line[8];
    size_t ll[8];
    assert_int_equal(split_lines(text, len, line, ll, 8), 4);
    /* The first event after the repair says how much was cut; the next not. */
    assert_non_null(strstr(line[2], "\"seq\":3,"));
    assert_non_null(
        strstr(line[2], "\"fields\":{\"file\":\"y\",\"repaired_bytes\":\"12\"},\"prev\":"));
    assert_null(memmem(line[3], ll[3], "repaired", 8));
    struct audit_chain c;
    struct buf report;
    buf_init(&report, 1u << 16);
    const char *paths[] = {path};
    assert_int_equal(verify(paths, 1, &c, &report), AUDIT_EXIT_OK);
    assert_int_equal(c.seq, 4);

    /* A file that is nothing but a partial line: cut to empty, a new chain. */
    spit(path, "{\"seq\":1", 8);
    a = open_ok(dir, AUDIT_DEFAULT_MAX_BYTES, 3, clk);
    audit_event(a, "config_load", "file", "x", NULL);
    audit_close(a);
    free(text);
    text = slurp(path, &len);
    assert_non_null(strstr(text, "{\"seq\":1,"));
    assert_non_null(strstr(text, "\"repaired_bytes\":\"8\"},\"prev\":\"" AUDIT_ZERO_HASH "\""));
    buf_free(&report);
    free(text);
    free(cut);
    free(before);
    free(path);
    free(dir);
    clock_fake_free(clk);
}

static void test_refuses_changed_tail(void **state)
{
    (void)state;
    struct clock *clk = clock_fake_new(0, T0_MS);
    char *dir = dir_for("changed");
    struct audit *a = open_ok(dir, AUDIT_DEFAULT_MAX_BYTES, 3, clk);
    audit_event(a, "config_load", "file", "abc", NULL);
    audit_close(a);
    char *path = file_in(dir, AUDIT_FILE_NAME);
    size_t len;
    char *text = slurp(path, &len);
    char *p = strstr(text, "abc");
    assert_non_null(p);
    p[0] = 'x'; /* the content changed, its hash not */
    spit(path, text, len);
    struct buf err;
    buf_init(&err, 1u << 16);
    a = NULL;
    assert_int_equal(audit_open(dir, AUDIT_DEFAULT_MAX_BYTES, 3, clk, &a, &err), OP_ERR_INVALID);
    assert_null(a);
    assert_non_null(strstr(buf_str(&err), "the last line's hash does not match its content"));
    /* Not an audit line at all. */
    spit(path, "hello\n", 6);
    buf_reset(&err);
    assert_int_equal(audit_open(dir, AUDIT_DEFAULT_MAX_BYTES, 3, clk, &a, &err), OP_ERR_INVALID);
    assert_non_null(strstr(buf_str(&err), "the last line is not an audit line (expected "
                                          "{\"seq\": at the start, column 1)"));
    buf_free(&err);
    free(text);
    free(path);
    free(dir);
    clock_fake_free(clk);
}

static void test_lock(void **state)
{
    (void)state;
    struct clock *clk = clock_fake_new(0, T0_MS);
    char *dir = dir_for("lock");
    struct audit *a = open_ok(dir, AUDIT_DEFAULT_MAX_BYTES, 3, clk), *b = NULL;
    struct buf err;
    buf_init(&err, 1u << 16);
    assert_int_equal(audit_open(dir, AUDIT_DEFAULT_MAX_BYTES, 3, clk, &b, &err), OP_ERR_IO);
    assert_null(b);
    assert_non_null(strstr(buf_str(&err), "another process holds its lock"));
    audit_close(a);
    b = open_ok(dir, AUDIT_DEFAULT_MAX_BYTES, 3, clk);
    audit_close(b);
    buf_free(&err);
    free(dir);
    clock_fake_free(clk);
}

/* What cannot be an audit log is refused with its name, and a FIFO is not
 * waited on. */
static void test_open_refusals(void **state)
{
    (void)state;
    struct clock *clk = clock_fake_new(0, T0_MS);
    struct buf err;
    buf_init(&err, 1u << 16);
    struct audit *a = NULL;
    char *dir = dir_for("refusals");
    assert_int_equal(mkdir(dir, 0700), 0);
    char *path = file_in(dir, AUDIT_FILE_NAME);
    assert_int_equal(mkdir(path, 0700), 0);
    assert_int_equal(audit_open(dir, AUDIT_DEFAULT_MAX_BYTES, 3, clk, &a, &err), OP_ERR_IO);
    assert_null(a);
    assert_non_null(strstr(buf_str(&err), "audit.jsonl: cannot open: Is a directory"));
    assert_int_equal(rmdir(path), 0);
    assert_int_equal(mkfifo(path, 0600), 0);
    buf_reset(&err);
    assert_int_equal(audit_open(dir, AUDIT_DEFAULT_MAX_BYTES, 3, clk, &a, &err), OP_ERR_IO);
    assert_non_null(strstr(buf_str(&err), "audit.jsonl: cannot open: Invalid argument"));
    assert_int_equal(unlink(path), 0);
    /* A directory that cannot be made. */
    buf_reset(&err);
    assert_int_equal(
        audit_open("/proc/outpost-no-such/dir", AUDIT_DEFAULT_MAX_BYTES, 3, clk, &a, &err),
        OP_ERR_IO);
    assert_non_null(strstr(buf_str(&err), "cannot create the directory"));
    buf_free(&err);
    free(path);
    free(dir);
    clock_fake_free(clk);
}

/* The first line of a file (borrowed into text) and its length. */
static char *first_line(char *text, size_t *n)
{
    char *nl = strchr(text, '\n');
    assert_non_null(nl);
    *n = (size_t)(nl - text);
    return text;
}

static void test_rotation(void **state)
{
    (void)state;
    struct clock *clk = clock_fake_new(0, T0_MS);
    char *dir = dir_for("rotate");
    const unsigned keep = 2;
    struct audit *a = open_ok(dir, 1024, keep, clk);
    char big[301];
    memset(big, 'v', 300);
    big[300] = '\0';
    /* About 540 bytes a line: two do not fit in 1 KiB, one does with the
     * audit_rotated line (about 250) before it, so every event after the
     * first rotates. */
    for (int i = 0; i < 9; i++)
        audit_event(a, "auth_failed", "client", big, NULL);
    uint64_t rotations = audit_events_written(a, 13);
    assert_string_equal(audit_event_name(13), "audit_rotated");
    assert_int_equal(audit_events_written(a, 12), 9);
    assert_int_equal(audit_write_failures(a), 0);
    assert_int_equal(rotations, 8);
    audit_close(a);

    char *base = file_in(dir, "audit.jsonl"), *one = file_in(dir, "audit.jsonl.1"),
         *two = file_in(dir, "audit.jsonl.2"), *three = file_in(dir, "audit.jsonl.3");
    struct stat st;
    assert_int_equal(stat(three, &st), -1); /* beyond keep: deleted */
    assert_int_equal(errno, ENOENT);
    const char *kept[] = {base, one, two};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(stat(kept[i], &st), 0);
        assert_true(st.st_size <= 1024);
    }
    /* The new file starts with audit_rotated, whose prev is .1's last hash. */
    size_t lb, l1;
    char *tb = slurp(base, &lb), *t1 = slurp(one, &l1);
    size_t n;
    char *first = first_line(tb, &n);
    struct audit_line l;
    const char *why;
    size_t at;
    assert_int_equal(audit_line_parse(first, n, &l, &why, &at), OP_OK);
    assert_non_null(strstr(first, "\"event\":\"audit_rotated\",\"fields\":{\"previous_bytes\":\""));
    char *last1 = t1 + l1 - 1;
    while (last1 > t1 && last1[-1] != '\n')
        last1--;
    struct audit_line p1;
    assert_int_equal(audit_line_parse(last1, (size_t)(t1 + l1 - 1 - last1), &p1, &why, &at), OP_OK);
    assert_string_equal(l.prev, p1.hash);
    assert_int_equal(l.seq, p1.seq + 1);

    struct audit_chain c;
    struct buf report;
    buf_init(&report, 1u << 16);
    const char *paths[] = {two, one, base};
    assert_int_equal(verify(paths, 3, &c, &report), AUDIT_EXIT_OK);
    assert_int_equal(c.seq, 9 + rotations);
    /* Out of order: the break is named at the first line of the misplaced file. */
    const char *wrong[] = {one, two, base};
    assert_int_equal(verify(wrong, 3, &c, &report), AUDIT_EXIT_BROKEN);
    assert_non_null(strstr(buf_str(&report), "audit.jsonl.2:1: prev is not the hash"));

    /* The agent stopped between a rotation's rename and its first line: the
     * empty file continues .1's chain and starts with audit_rotated. */
    assert_int_equal(unlink(two), 0);
    assert_int_equal(rename(one, two), 0);
    assert_int_equal(rename(base, one), 0);
    spit(base, "", 0);
    a = open_ok(dir, 1024, keep, clk);
    audit_event(a, "config_load", "file", "x", NULL);
    audit_close(a);
    free(tb);
    tb = slurp(base, &lb);
    assert_non_null(strstr(tb, "\"event\":\"audit_rotated\""));
    assert_non_null(strstr(tb, "\"event\":\"config_load\""));
    const char *paths2[] = {two, one, base};
    assert_int_equal(verify(paths2, 3, &c, &report), AUDIT_EXIT_OK);
    assert_int_equal(c.seq, 9 + rotations + 2);
    buf_free(&report);
    free(tb);
    free(t1);
    free(base);
    free(one);
    free(two);
    free(three);
    free(dir);
    clock_fake_free(clk);
}

/* A short write (the file size limit) is undone: the chain stays whole. */
static void test_short_write(void **state)
{
    (void)state;
    struct clock *clk = clock_fake_new(0, T0_MS);
    char *dir = dir_for("short");
    struct audit *a = open_ok(dir, AUDIT_DEFAULT_MAX_BYTES, 3, clk);
    audit_event(a, "config_load", "file", "x", NULL);
    char *path = file_in(dir, AUDIT_FILE_NAME);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    struct rlimit old, lim;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    lim = old;
    lim.rlim_cur = (rlim_t)st.st_size + 100;
    void (*prev_handler)(int) = signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    audit_event(a, "config_reload", "file", "a line longer than the hundred bytes left", NULL);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, prev_handler);
    assert_int_equal(audit_write_failures(a), 1);
    assert_int_equal(audit_events_written(a, 1), 0);
    struct stat st2;
    assert_int_equal(stat(path, &st2), 0);
    assert_int_equal(st2.st_size, st.st_size); /* the piece written was removed */
    audit_event(a, "config_reload", "file", "y", NULL);
    assert_int_equal(audit_events_written(a, 1), 1);
    audit_close(a);
    struct audit_chain c;
    struct buf report;
    buf_init(&report, 1u << 16);
    const char *paths[] = {path};
    assert_int_equal(verify(paths, 1, &c, &report), AUDIT_EXIT_OK);
    assert_int_equal(c.seq, 2);
    buf_free(&report);
    free(path);
    free(dir);
    clock_fake_free(clk);
}

/* A log of six lines built with the encoder. */
static void six_lines(struct buf *log)
{
    char prev[65] = AUDIT_ZERO_HASH, h[65];
    for (uint64_t seq = 1; seq <= 6; seq++) {
        char v[32];
        snprintf(v, sizeof(v), "value %llu", (unsigned long long)seq);
        const char *kv[] = {"k", v};
        assert_int_equal(
            audit_line_encode(log, seq, T0_MS + (int64_t)seq, "config_reload", kv, 1, prev, h),
            OP_OK);
        memcpy(prev, h, 65);
    }
}

static void test_verify_detects(void **state)
{
    (void)state;
    struct buf log, report, mod;
    buf_init(&log, 1u << 20);
    buf_init(&report, 1u << 16);
    buf_init(&mod, 4u << 20);
    six_lines(&log);
    char *line[8];
    size_t ll[8];
    char *copy = xstrndup(log.data, log.len);
    assert_int_equal(split_lines(copy, log.len, line, ll, 8), 6);
    assert_int_equal(verify_text(log.data, log.len, &report), AUDIT_EXIT_OK);

    /* An edited byte in line 3. */
    buf_reset(&mod);
    buf_add(&mod, log.data, log.len);
    char *v3 = strstr(mod.data, "value 3");
    v3[0] = 'V';
    assert_int_equal(verify_text(mod.data, mod.len, &report), AUDIT_EXIT_BROKEN);
    assert_non_null(strstr(buf_str(&report),
                           "log:3: hash mismatch: the line was changed after it was written"));

    /* Line 3 deleted. */
    buf_reset(&mod);
    for (int i = 0; i < 6; i++)
        if (i != 2) {
            buf_add(&mod, line[i], ll[i]);
            buf_addc(&mod, '\n');
        }
    assert_int_equal(verify_text(mod.data, mod.len, &report), AUDIT_EXIT_BROKEN);
    assert_string_equal(buf_str(&report),
                        "log:3: prev is not the hash of the line before: a line was deleted, "
                        "inserted or reordered here (seq 4 after seq 2)\n");

    /* Lines 4 and 5 swapped. */
    buf_reset(&mod);
    static const int order[] = {0, 1, 2, 4, 3, 5};
    for (int i = 0; i < 6; i++) {
        buf_add(&mod, line[order[i]], ll[order[i]]);
        buf_addc(&mod, '\n');
    }
    assert_int_equal(verify_text(mod.data, mod.len, &report), AUDIT_EXIT_BROKEN);
    assert_non_null(strstr(buf_str(&report), "log:4: prev is not the hash of the line before"));

    /* Cut in the middle of line 6. */
    size_t cut = (size_t)(line[5] - copy) + 20;
    assert_int_equal(verify_text(log.data, cut, &report), AUDIT_EXIT_BROKEN);
    assert_string_equal(buf_str(&report), "log:6: truncated mid-line: the file ends without a "
                                          "newline (20 bytes of a line)\n");
    /* Only the last newline missing. */
    assert_int_equal(verify_text(log.data, log.len - 1, &report), AUDIT_EXIT_BROKEN);
    assert_non_null(strstr(buf_str(&report), "log:6: truncated mid-line"));

    /* A line that is not JSON. */
    buf_reset(&mod);
    buf_add(&mod, log.data, (size_t)(line[1] - copy));
    buf_adds(&mod, "garbage\n");
    assert_int_equal(verify_text(mod.data, mod.len, &report), AUDIT_EXIT_BROKEN);
    assert_string_equal(buf_str(&report), "log:2: not an audit line: expected {\"seq\": at the "
                                          "start (column 1)\n");

    /* A seq gap with prev and hash right: line 2 says seq 5. */
    buf_reset(&mod);
    buf_add(&mod, line[0], ll[0] + 1);
    struct audit_line l1;
    const char *why;
    size_t at;
    assert_int_equal(audit_line_parse(line[0], ll[0], &l1, &why, &at), OP_OK);
    const char *kv[] = {"k", "v"};
    char h[65];
    assert_int_equal(audit_line_encode(&mod, 5, T0_MS, "config_reload", kv, 1, l1.hash, h), OP_OK);
    assert_int_equal(verify_text(mod.data, mod.len, &report), AUDIT_EXIT_BROKEN);
    assert_string_equal(buf_str(&report), "log:2: seq 5 after seq 1 (expected 2)\n");

    /* A line over the cap, with and without its newline. */
    buf_reset(&mod);
    buf_add(&mod, line[0], ll[0] + 1);
    for (size_t i = 0; i < AUDIT_MAX_LINE_BYTES; i++)
        buf_addc(&mod, 'x');
    assert_int_equal(verify_text(mod.data, mod.len, &report), AUDIT_EXIT_BROKEN);
    assert_string_equal(buf_str(&report), "log:2: line longer than 1048576 bytes\n");
    buf_addc(&mod, '\n');
    assert_int_equal(verify_text(mod.data, mod.len, &report), AUDIT_EXIT_BROKEN);
    assert_string_equal(buf_str(&report), "log:2: line longer than 1048576 bytes\n");

    /* Empty input: nothing to break. */
    assert_int_equal(verify_text("", 0, &report), AUDIT_EXIT_OK);
    free(copy);
    buf_free(&mod);
    buf_free(&report);
    buf_free(&log);
}

/* What the parser refuses, and where. */
static void test_parse_refusals(void **state)
{
    (void)state;
    struct buf good;
    buf_init(&good, 1u << 16);
    const char *kv[] = {"a", "b", "c", "d"};
    char h[65];
    assert_int_equal(audit_line_encode(&good, 7, T0_MS, "alert_fired", kv, 2, AUDIT_ZERO_HASH, h),
                     OP_OK);
    size_t n = good.len - 1;
    struct audit_line l;
    const char *why;
    size_t at;
    assert_int_equal(audit_line_parse(good.data, n, &l, &why, &at), OP_OK);
    assert_int_equal(l.seq, 7);
    assert_string_equal(l.hash, h);
    assert_string_equal(l.computed, h);
    static const struct {
        const char *line, *why;
    } bad[] = {
        {"{\"seq\":01,", "expected seq as a whole number without leading zeros"},
        {"{\"seq\":18446744073709551616,", "seq is larger than 2^64 - 1"},
        {"{\"seq\":1,\"time\":\"2026-01-01 00:00:00.000Z\"", "expected the time as "
                                                             "2006-01-02T15:04:05.000Z"},
        {"{\"seq\":1,\"time\":\"2026-01-01T00:00:00.000Z\",\"event\":\"\",",
         "the event name is empty"},
        {"{\"seq\":1,\"time\":\"2026-01-01T00:00:00.000Z\",\"event\":\"a\\x\"",
         "an unknown escape in a string"},
        {"{\"seq\":1,\"time\":\"2026-01-01T00:00:00.000Z\",\"event\":\"a\\u12g4\"",
         "a \\u escape without four hex digits"},
        {"{\"seq\":1,\"time\":\"2026-01-01T00:00:00.000Z\",\"event\":\"a\xc3(\"",
         "invalid UTF-8 inside a string"},
        {"{\"seq\":1,\"time\":\"2026-01-01T00:00:00.000Z\",\"event\":\"a\tb\"",
         "a control character inside a string"},
        {"{\"seq\":1,\"time\":\"2026-01-01T00:00:00.000Z\",\"event\":\"a",
         "a string that does not end"},
        {"{\"seq\":1,\"time\":\"2026-01-01T00:00:00.000Z\",\"event\":\"a\",\"fields\":{\"k\"}",
         "expected : after a field's name"},
        {"{\"seq\":1,\"time\":\"2026-01-01T00:00:00.000Z\",\"event\":\"a\",\"fields\":{},"
         "\"prev\":\"00\"",
         "expected prev as 64 lowercase hex digits in quotes"},
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        why = NULL;
        assert_int_equal(audit_line_parse(bad[i].line, strlen(bad[i].line), &l, &why, &at),
                         OP_ERR_INVALID);
        assert_string_equal(why, bad[i].why);
    }
    /* Uppercase hex in hash, bytes after the closing brace. */
    char *up = xstrndup(good.data, n);
    up[n - 3] = 'A';
    assert_int_equal(audit_line_parse(up, n, &l, &why, &at), OP_ERR_INVALID);
    assert_string_equal(why, "expected hash as 64 lowercase hex digits in quotes");
    free(up);
    struct buf more;
    buf_init(&more, 1u << 16);
    buf_add(&more, good.data, n);
    buf_adds(&more, " ");
    assert_int_equal(audit_line_parse(more.data, more.len, &l, &why, &at), OP_ERR_INVALID);
    assert_string_equal(why, "bytes after the line's closing }");
    assert_int_equal(at, n);
    buf_free(&more);
    buf_free(&good);
}

static void test_parse_size(void **state)
{
    (void)state;
    uint64_t v = 0;
    assert_int_equal(audit_parse_size("64MiB", &v), OP_OK);
    assert_int_equal(v, 64u << 20);
    assert_int_equal(audit_parse_size("1KiB", &v), OP_OK);
    assert_int_equal(v, 1024);
    assert_int_equal(audit_parse_size("2048", &v), OP_OK);
    assert_int_equal(v, 2048);
    assert_int_equal(audit_parse_size("64GiB", &v), OP_OK);
    assert_int_equal(v, 64ull << 30);
    assert_int_equal(audit_parse_size("1GB", &v), OP_OK);
    assert_int_equal(v, 1000000000);
    static const char *const bad[] = {"",   "1023", "1000B",  "65GiB", "1.5MiB",
                                      "-1", "MiB",  "10 MiB", "10mib"};
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
        assert_int_equal(audit_parse_size(bad[i], &v), OP_ERR_INVALID);
}

/* NULL is a no-op; an event over the line cap is a counted failure. */
static void test_null_and_oversized(void **state)
{
    (void)state;
    audit_event(NULL, "config_load", "file", "x", NULL);
    struct clock *clk = clock_fake_new(0, T0_MS);
    char *dir = dir_for("big");
    struct audit *a = open_ok(dir, AUDIT_DEFAULT_MAX_BYTES, 3, clk);
    char *huge = xmalloc(AUDIT_MAX_LINE_BYTES + 1);
    memset(huge, 'h', AUDIT_MAX_LINE_BYTES);
    huge[AUDIT_MAX_LINE_BYTES] = '\0';
    audit_event(a, "config_reload_failed", "error", huge, NULL);
    assert_int_equal(audit_write_failures(a), 1);
    assert_int_equal(audit_events_written(a, 2), 0);
    audit_event(a, "config_reload_failed", "error", "short", NULL);
    assert_int_equal(audit_events_written(a, 2), 1);
    audit_close(a);
    char *path = file_in(dir, AUDIT_FILE_NAME);
    size_t len;
    char *text = slurp(path, &len);
    assert_non_null(strstr(text, "{\"seq\":1,"));
    free(text);
    free(path);
    free(huge);
    free(dir);
    clock_fake_free(clk);
}

#define WRITERS 4
#define PER_WRITER 250

static void *writer(void *arg)
{
    struct audit *a = arg;
    for (int i = 0; i < PER_WRITER; i++)
        audit_event(a, "auth_failed", "client", "127.0.0.1", "route", "metrics", NULL);
    return NULL;
}

/* Threads writing at once (rotating too): whole lines, one chain. */
static void test_threads(void **state)
{
    (void)state;
    struct clock *clk = clock_fake_new(0, T0_MS);
    char *dir = dir_for("threads");
    struct audit *a = open_ok(dir, 64 << 10, 100, clk);
    pthread_t t[WRITERS];
    for (int i = 0; i < WRITERS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, writer, a), 0);
    for (int i = 0; i < WRITERS; i++)
        pthread_join(t[i], NULL);
    uint64_t rotations = audit_events_written(a, 13);
    assert_int_equal(audit_events_written(a, 12), WRITERS * PER_WRITER);
    assert_int_equal(audit_write_failures(a), 0);
    audit_close(a);
    /* About 300 bytes a line, 1000 lines: a few rotations within 64 KiB files. */
    assert_true(rotations >= 3 && rotations < 100);
    const char **paths = xcalloc(rotations + 1, sizeof(char *));
    for (uint64_t k = 0; k <= rotations; k++) {
        struct buf b;
        buf_init(&b, 4096);
        if (k < rotations)
            buf_addf(&b, "%s/audit.jsonl.%llu", dir, (unsigned long long)(rotations - k));
        else
            buf_addf(&b, "%s/audit.jsonl", dir);
        paths[k] = buf_take(&b);
    }
    struct audit_chain c;
    struct buf report;
    buf_init(&report, 1u << 16);
    int code = verify(paths, rotations + 1, &c, &report);
    if (code != AUDIT_EXIT_OK)
        fprintf(stderr, "%s", buf_str(&report));
    assert_int_equal(code, AUDIT_EXIT_OK);
    assert_int_equal(c.lines, WRITERS * PER_WRITER + rotations);
    assert_int_equal(c.seq, WRITERS * PER_WRITER + rotations);
    for (uint64_t k = 0; k <= rotations; k++)
        free((void *)paths[k]);
    free(paths);
    buf_free(&report);
    free(dir);
    clock_fake_free(clk);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_line_bytes),           cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_reopen_continues),     cmocka_unit_test(test_partial_tail),
        cmocka_unit_test(test_refuses_changed_tail), cmocka_unit_test(test_lock),
        cmocka_unit_test(test_open_refusals),        cmocka_unit_test(test_rotation),
        cmocka_unit_test(test_short_write),          cmocka_unit_test(test_verify_detects),
        cmocka_unit_test(test_parse_refusals),       cmocka_unit_test(test_parse_size),
        cmocka_unit_test(test_null_and_oversized),   cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, tu_tmpdir_setup, tu_tmpdir_teardown);
}
