/*
 * test_caps.c - output buffers that once had "SIZE_MAX / 2" as their cap:
 * the SLO state snapshot (state.c) and the replay JSON (slo_replay.c). Going
 * over the cap must fail with a clear error and leave the previous state
 * file untouched, never write a partial or unbounded one.
 *
 * The snapshot's real cap (STATE_MAX_FILE_BYTES, 256 MiB) is out of reach of
 * a unit test, so the test build's state_write_capped (STATIC in state.c)
 * takes the cap as a parameter; state_write passes the real one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "buf.h"
#include "config.h"
#include "slo_replay.h"
#include "slo_state.h"
#include "state.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* From state.c, non-static in test builds. */
enum op_rc state_write_capped(const char *dir, const char *const *names,
                              struct slo_state *const *states, size_t n, size_t max,
                              struct buf *errors);

#define ERRS_MAX (1u << 20)
/* 2026-01-01T00:00:00Z in ms. */
#define T0 1767225600000LL

static const char cfg_text[] = "checks:\n"
                               "  - {name: a, url: \"http://127.0.0.1:1/\", interval: 1s}\n"
                               "slos:\n"
                               "  - {name: one, objective: 99.9, period: 30d, sli: {checks: [a]}}\n"
                               "  - {name: two, objective: 99, period: 7d, sli: {checks: [a]}}\n";

static const char *const names[] = {"one", "two"};

static char tmpdir[64];

static int dir_setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/outpost-test-caps-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

/* Remove the files this test makes (flat directories only), then the dir. */
static void rm_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    char p[512];
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
        unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

static int dir_teardown(void **state)
{
    (void)state;
    char sub[128];
    snprintf(sub, sizeof(sub), "%s/state", tmpdir);
    rm_dir(sub);
    rm_dir(tmpdir);
    return 0;
}

static struct cfg *load_cfg(void)
{
    struct buf errs;
    buf_init(&errs, ERRS_MAX);
    struct cfg *c = NULL;
    if (cfg_load_string(cfg_text, strlen(cfg_text), "caps.yml", &c, &errs) != OP_OK)
        fail_msg("config: %s", buf_str(&errs));
    buf_free(&errs);
    return c;
}

/* Whole content of path into b (reset first); false when unreadable. */
static bool read_whole(const char *path, struct buf *b)
{
    buf_reset(b);
    return buf_read_file(b, path) == OP_OK;
}

/* Names in dir, sorted, comma-separated. */
static void listing(const char *dir, char *out, size_t cap)
{
    struct dirent **list;
    int n = scandir(dir, &list, NULL, alphasort);
    assert_true(n >= 0);
    size_t len = 0;
    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        if (list[i]->d_name[0] != '.')
            len += (size_t)snprintf(out + len, cap - len, "%s%s", len ? "," : "", list[i]->d_name);
        free(list[i]);
    }
    free(list);
}

static void test_state_write_over_cap(void **state)
{
    (void)state;
    struct cfg *c = load_cfg();
    struct slo_state *st[2];
    for (size_t i = 0; i < 2; i++) {
        st[i] = slost_new(cfg_slo(c, i));
        for (int64_t k = 0; k < 100; k++)
            slost_add(st[i], T0 + k * 60000, 10, k % 3 == 0);
    }
    char dir[128], file[256], ls[256];
    snprintf(dir, sizeof(dir), "%s/state", tmpdir);
    assert_int_equal(mkdir(dir, 0750), 0);
    snprintf(file, sizeof(file), "%s/%s", dir, STATE_FILE_NAME);

    struct buf errs, enc, before, after;
    buf_init(&errs, ERRS_MAX);
    buf_init(&enc, 1u << 24);
    buf_init(&before, 1u << 24);
    buf_init(&after, 1u << 24);
    state_encode(names, st, 2, &enc);
    assert_false(enc.failed);
    size_t size = enc.len;

    /* The real cap: written. */
    assert_int_equal(state_write(dir, names, st, 2, &errs), OP_OK);
    assert_true(read_whole(file, &before));
    assert_int_equal(before.len, size);

    /* Exactly the encoding's size is allowed. */
    slost_add(st[0], T0 + 200 * 60000, 5, 5);
    buf_reset(&enc);
    state_encode(names, st, 2, &enc);
    size = enc.len;
    assert_int_equal(state_write_capped(dir, names, st, 2, size, &errs), OP_OK);
    assert_int_equal(errs.len, 0);
    assert_true(read_whole(file, &before));
    assert_int_equal(before.len, size);
    assert_memory_equal(before.data, enc.data, size);

    /* One byte less: an error that says so, the previous file intact, no
     * temporary file left behind. */
    slost_add(st[1], T0 + 300 * 60000, 7, 1);
    buf_reset(&enc);
    state_encode(names, st, 2, &enc);
    size = enc.len;
    assert_false(before.len == size && memcmp(before.data, enc.data, size) == 0);
    enum op_rc rc = state_write_capped(dir, names, st, 2, size - 1, &errs);
    assert_int_equal(rc, OP_ERR_LIMIT);
    char want[512];
    snprintf(want, sizeof(want),
             "%s: the encoded state is larger than %zu bytes; the previous file is kept", file,
             size - 1);
    assert_string_equal(buf_str(&errs), want);
    assert_true(read_whole(file, &after));
    assert_int_equal(after.len, before.len);
    assert_memory_equal(after.data, before.data, before.len);
    listing(dir, ls, sizeof(ls));
    assert_string_equal(ls, STATE_FILE_NAME);

    /* Far under: the same, and nothing is created where there was none. */
    unlink(file);
    buf_reset(&errs);
    assert_int_equal(state_write_capped(dir, names, st, 2, 16, &errs), OP_ERR_LIMIT);
    listing(dir, ls, sizeof(ls));
    assert_string_equal(ls, "");

    buf_free(&errs);
    buf_free(&enc);
    buf_free(&before);
    buf_free(&after);
    for (size_t i = 0; i < 2; i++)
        slost_unref(st[i]);
    cfg_free(c);
}

/* A storage path the path buffers cannot hold fails with a message instead
 * of writing to "" (what an absorbed failure leaves). */
static void test_state_write_long_path(void **state)
{
    (void)state;
    struct cfg *c = load_cfg();
    struct slo_state *st = slost_new(cfg_slo(c, 0));
    char *dir = malloc(9000);
    assert_non_null(dir);
    memset(dir, 'd', 8999);
    dir[0] = '/';
    dir[8999] = '\0';
    struct buf errs;
    buf_init(&errs, ERRS_MAX);
    assert_int_equal(state_write(dir, names, &st, 1, &errs), OP_ERR_LIMIT);
    assert_string_equal(buf_str(&errs), "storage path longer than 8192 bytes");
    buf_free(&errs);
    free(dir);
    slost_unref(st);
    cfg_free(c);
}

/* The replay's JSON over its buffer's cap: an error, no document, and no
 * state file either. */
static void test_replay_output_over_cap(void **state)
{
    (void)state;
    struct cfg *c = load_cfg();
    static const char csv[] = "1767225600,one,10,1\n1767225660,two,5,0\n";
    char dir[128], ls[256];
    snprintf(dir, sizeof(dir), "%s/state", tmpdir);

    struct buf out, errs;
    buf_init(&out, 1u << 20);
    buf_init(&errs, ERRS_MAX);
    assert_int_equal(
        slo_replay_run(c, "e.csv", csv, strlen(csv), -1, REPLAY_BUDGET_EXPECTED, NULL, &out, &errs),
        OP_OK);
    size_t size = out.len;
    assert_true(size > 100);

    /* Exactly the size fits. */
    buf_free(&out);
    buf_init(&out, size);
    assert_int_equal(
        slo_replay_run(c, "e.csv", csv, strlen(csv), -1, REPLAY_BUDGET_EXPECTED, NULL, &out, &errs),
        OP_OK);
    assert_int_equal(out.len, size);

    /* One byte less does not, and --state-out is not written. */
    buf_free(&out);
    buf_init(&out, size - 1);
    assert_int_equal(
        slo_replay_run(c, "e.csv", csv, strlen(csv), -1, REPLAY_BUDGET_EXPECTED, dir, &out, &errs),
        OP_ERR_LIMIT);
    assert_string_equal(buf_str(&out), "");
    char want[128];
    snprintf(want, sizeof(want), "slo replay: the JSON output is larger than %zu bytes\n",
             size - 1);
    assert_string_equal(buf_str(&errs), want);
    struct stat sb;
    if (stat(dir, &sb) == 0) {
        listing(dir, ls, sizeof(ls));
        assert_string_equal(ls, "");
    }
    buf_free(&out);
    buf_free(&errs);
    cfg_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_state_write_over_cap, dir_setup, dir_teardown),
        cmocka_unit_test_setup_teardown(test_state_write_long_path, dir_setup, dir_teardown),
        cmocka_unit_test_setup_teardown(test_replay_output_over_cap, dir_setup, dir_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
