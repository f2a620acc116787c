/*
 * test_castore.c - CA files loaded once and shared (castore.c): checks that
 * name the same file share one store and the file is parsed once, across a
 * reload too; a changed file is loaded again; files that are not regular
 * (a FIFO, a device) are configuration errors, never a hang; the system
 * default store is keyed at load and read at its first use.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "buf.h"
#include "castore.h"
#include "config.h"
#include "http_check.h"
#include "test_util.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Two throwaway self-signed CA certificates (P-256, valid until 2126). */
#define CERT_A                                                                                     \
    "-----BEGIN CERTIFICATE-----\n"                                                                \
    "MIIBmDCCAT+gAwIBAgIUTEV2Gy5DtWORR6bfep/5wiDlEZ8wCgYIKoZIzj0EAwIw\n"                           \
    "ITEfMB0GA1UEAwwWb3V0cG9zdCB1bml0IHRlc3QgQ0EgYTAgFw0yNjExMzAyMzA2\n"                           \
    "MTVaGA8yMTI2MTEwNjIzMDYxNVowITEfMB0GA1UEAwwWb3V0cG9zdCB1bml0IHRl\n"                           \
    "c3QgQ0EgYTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABJ7QgjNPnxOvkxJJuYLV\n"                           \
    "7OIOVzcHeMShpafw1RBlE+q031djEPPYL/i3Ee4uWW2Lj8Z2EO/W2Tt3dtKB2zn4\n"                           \
    "6ECjUzBRMB0GA1UdDgQWBBS8M9L5Wv0DQ95E8eetMlgQT1RAeDAfBgNVHSMEGDAW\n"                           \
    "gBS8M9L5Wv0DQ95E8eetMlgQT1RAeDAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49\n"                           \
    "BAMCA0cAMEQCIC9bbeoPER4/xTniihP+Xwph5b26X8KZeBFBjWVUXxMtAiB+Db3U\n"                           \
    "j8VbPzczx52nJpWQVsPmmdaavuuBahP9gnlTdg==\n"                                                   \
    "-----END CERTIFICATE-----\n"
#define CERT_B                                                                                     \
    "-----BEGIN CERTIFICATE-----\n"                                                                \
    "MIIBmTCCAT+gAwIBAgIUKffqYFEi/KUiDXvs+QLZb+G0JHUwCgYIKoZIzj0EAwIw\n"                           \
    "ITEfMB0GA1UEAwwWb3V0cG9zdCB1bml0IHRlc3QgQ0EgYjAgFw0yNjExMzAyMzA2\n"                           \
    "MTVaGA8yMTI2MTEwNjIzMDYxNVowITEfMB0GA1UEAwwWb3V0cG9zdCB1bml0IHRl\n"                           \
    "c3QgQ0EgYjBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABBQstGvyioYGZ6deoUV1\n"                           \
    "BsA7Vrn9ES+6i3rNfqFeeDvHe+pf+3QEQYGQucGJb2wlQtHAoji7XxTE+i2Lgluc\n"                           \
    "AHqjUzBRMB0GA1UdDgQWBBTww9NA8ek/FAOihG9XZF6svxSInDAfBgNVHSMEGDAW\n"                           \
    "gBTww9NA8ek/FAOihG9XZF6svxSInDAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49\n"                           \
    "BAMCA0gAMEUCIQDu2tXhiULE9lpO/IqiUSpJ7QlUZx1Mw17b2gY+uFYqWAIgHYh3\n"                           \
    "4LHX0JZy1gNUCIJstZ0/VtU46PQB4KQsS73D7eE=\n"                                                   \
    "-----END CERTIFICATE-----\n"

static const char *tmp_path(const char *name)
{
    static char path[512];
    snprintf(path, sizeof(path), "%s/%s", tu_tmpdir(), name);
    return path;
}

static void write_file(const char *path, const char *content)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fputs(content, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

/* Set a file's modification time, so a rewrite within the same clock tick
 * is still a change. */
static void set_mtime(const char *path, time_t t)
{
    struct timespec ts[2] = {{t, 0}, {t, 0}};
    assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
}

/* Load yaml; NULL with the errors in errs (caller frees both). */
static struct cfg *load(const char *yaml, struct buf *errs)
{
    struct cfg *cfg = NULL;
    buf_init(errs, 1u << 16);
    enum op_rc rc = cfg_load_string(yaml, strlen(yaml), "test.yml", &cfg, errs);
    assert_int_equal(rc == OP_OK, cfg != NULL);
    return cfg;
}

static struct cfg *load_ok(const char *yaml)
{
    struct buf errs;
    struct cfg *cfg = load(yaml, &errs);
    if (!cfg)
        fail_msg("load failed:\n%s", buf_str(&errs));
    buf_free(&errs);
    return cfg;
}

/* The one error line of a load that must fail. */
static void load_fails(const char *yaml, const char *want)
{
    struct buf errs;
    struct cfg *cfg = load(yaml, &errs);
    assert_null(cfg);
    if (strcmp(buf_str(&errs), want) != 0)
        fail_msg("errors:\n%s\nwant:\n%s", buf_str(&errs), want);
    buf_free(&errs);
}

static struct castore *ca_of(const struct cfg *cfg, size_t i)
{
    return http_spec_of(cfg_check(cfg, i))->tls.ca;
}

/* Two checks naming one file share one store, parsed once; a reload with
 * the file unchanged shares it again; a changed file (size, or only its
 * time) is parsed again for the new configuration while the old one keeps
 * its store; a store no configuration holds any more is gone. */
static void test_shared_and_reloaded(void **state)
{
    (void)state;
    char path[512], yaml[2048];
    snprintf(path, sizeof(path), "%s", tmp_path("ca.pem"));
    write_file(path, CERT_A);
    set_mtime(path, 1000000000);
    snprintf(yaml, sizeof(yaml),
             "checks:\n"
             "  - name: a\n    url: https://127.0.0.1:1/\n    tls: {ca_file: %s}\n"
             "  - name: b\n    url: https://127.0.0.1:2/\n    tls: {ca_file: %s}\n",
             path, path);

    unsigned long loads = castore_loads();
    struct cfg *first = load_ok(yaml);
    assert_int_equal(castore_loads(), loads + 1);
    assert_non_null(ca_of(first, 0));
    assert_ptr_equal(ca_of(first, 0), ca_of(first, 1));

    /* A reload, the file unchanged: nothing is read. */
    struct cfg *second = load_ok(yaml);
    assert_int_equal(castore_loads(), loads + 1);
    assert_ptr_equal(ca_of(second, 0), ca_of(first, 0));

    /* Another certificate appended: read again, for the new config only. */
    write_file(path, CERT_A CERT_B);
    set_mtime(path, 1000000000);
    struct cfg *third = load_ok(yaml);
    assert_int_equal(castore_loads(), loads + 2);
    assert_ptr_not_equal(ca_of(third, 0), ca_of(first, 0));
    assert_ptr_equal(ca_of(third, 0), ca_of(third, 1));
    assert_ptr_equal(ca_of(second, 1), ca_of(first, 0));
    char why[160] = "";
    X509_STORE *st = castore_x509(ca_of(third, 0), why, sizeof(why));
    assert_non_null(st);
    assert_int_equal(sk_X509_OBJECT_num(X509_STORE_get0_objects(st)), 2);

    /* Same size, another time: a change too. */
    set_mtime(path, 1000000001);
    struct cfg *fourth = load_ok(yaml);
    assert_int_equal(castore_loads(), loads + 3);
    assert_ptr_not_equal(ca_of(fourth, 0), ca_of(third, 0));

    cfg_free(first);
    cfg_free(second);
    cfg_free(third);
    cfg_free(fourth);
    /* Nothing holds a store of this file now: the next load reads it. */
    struct cfg *fifth = load_ok(yaml);
    assert_int_equal(castore_loads(), loads + 4);
    cfg_free(fifth);
}

/* What the configuration says about CA, certificate and key files that
 * cannot serve, at the key's line and column; a FIFO is refused at once
 * (the alarm is the hang guard: opening one for reading would block). */
static void test_bad_files(void **state)
{
    (void)state;
    char fifo[512], empty[512], garbage[512], yaml[2048], want[2048];
    snprintf(fifo, sizeof(fifo), "%s", tmp_path("fifo"));
    snprintf(empty, sizeof(empty), "%s", tmp_path("empty.pem"));
    snprintf(garbage, sizeof(garbage), "%s", tmp_path("garbage.pem"));
    assert_int_equal(mkfifo(fifo, 0600), 0);
    write_file(empty, "no certificate here\n");
    write_file(garbage, "-----BEGIN CERTIFICATE-----\nnot base64 at all!\n"
                        "-----END CERTIFICATE-----\n");
    alarm(20);

    static const char *const keys[] = {"ca_file", "cert_file", "key_file"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(yaml, sizeof(yaml),
                 "checks:\n  - name: a\n    url: https://127.0.0.1:1/\n    tls:\n"
                 "      %s: %s\n",
                 keys[i], fifo);
        /* cert_file and key_file also go together: that line follows. */
        snprintf(want, sizeof(want),
                 "test.yml:5:%zu: checks[0] \"a\".tls.%s: cannot read %s: not a regular file\n%s",
                 strlen(keys[i]) + 9, keys[i], fifo,
                 i ? "test.yml:2:5: checks[0] \"a\": tls.cert_file and tls.key_file go together\n"
                   : "");
        load_fails(yaml, want);
    }

    unsigned long loads = castore_loads();
    snprintf(yaml, sizeof(yaml),
             "checks:\n  - name: a\n    url: https://127.0.0.1:1/\n    tls:\n"
             "      ca_file: %s\n",
             empty);
    snprintf(want, sizeof(want),
             "test.yml:5:16: checks[0] \"a\".tls.ca_file: cannot load CA certificates from %s: no "
             "certificate in it\n",
             empty);
    load_fails(yaml, want);
    snprintf(yaml, sizeof(yaml),
             "checks:\n  - name: a\n    url: https://127.0.0.1:1/\n    tls:\n"
             "      ca_file: %s\n",
             garbage);
    snprintf(want, sizeof(want),
             "test.yml:5:16: checks[0] \"a\".tls.ca_file: cannot load CA certificates from %s: bad "
             "base64 decode\n",
             garbage);
    load_fails(yaml, want);
    assert_int_equal(castore_loads(), loads + 2);

    /* insecure_skip_verify: libcurl never read the CA file, neither do we
     * (it must still be a readable regular file). */
    snprintf(yaml, sizeof(yaml),
             "checks:\n  - name: a\n    url: https://127.0.0.1:1/\n    tls:\n"
             "      ca_file: %s\n      insecure_skip_verify: true\n",
             empty);
    struct cfg *cfg = load_ok(yaml);
    assert_null(ca_of(cfg, 0));
    assert_int_equal(castore_loads(), loads + 2);
    cfg_free(cfg);
    alarm(0);
}

/* A check without ca_file verifies with the system store: one for all
 * such checks, keyed when the configuration loads and read only when a
 * probe first asks for it. */
static void test_system_store(void **state)
{
    (void)state;
    static const char yaml[] = "checks:\n"
                               "  - name: a\n    url: https://127.0.0.1:1/\n"
                               "  - name: b\n    url: http://127.0.0.1:2/\n"
                               "  - name: c\n    url: https://127.0.0.1:3/\n"
                               "    tls: {insecure_skip_verify: true}\n";
    unsigned long loads = castore_loads();
    struct cfg *cfg = load_ok(yaml);
    struct cfg *again = load_ok(yaml);
    assert_int_equal(castore_loads(), loads);
    assert_non_null(ca_of(cfg, 0));
    assert_ptr_equal(ca_of(cfg, 0), ca_of(cfg, 1));
    assert_ptr_equal(ca_of(again, 0), ca_of(cfg, 0));
    assert_null(ca_of(cfg, 2));
    if (access("/etc/ssl/certs/ca-certificates.crt", R_OK) == 0) {
        char why[160] = "";
        X509_STORE *st = castore_x509(ca_of(cfg, 0), why, sizeof(why));
        if (!st)
            fail_msg("system store: %s", why);
        assert_int_equal(castore_loads(), loads + 1);
        assert_ptr_equal(castore_x509(ca_of(again, 1), why, sizeof(why)), st);
        assert_int_equal(castore_loads(), loads + 1);
        assert_true(sk_X509_OBJECT_num(X509_STORE_get0_objects(st)) > 10);
    }
    cfg_free(cfg);
    cfg_free(again);
}

/* Configurations load and free on several threads (main, HTTP reloads, the
 * last holder of a generation) while the probe thread reads stores: each
 * thread here takes and drops the same file's store and the system store
 * many times, reading the X509_STORE in between (make tsan runs this). */
struct race {
    const char *path;
    int failures;
};

static void *race_thread(void *arg)
{
    struct race *r = arg;
    char why[160];
    for (int i = 0; i < 200; i++) {
        struct castore *f = castore_get_file(r->path, why, sizeof(why));
        struct castore *sys = castore_get_system();
        if (!f || !castore_x509(f, why, sizeof(why)))
            r->failures++;
        (void)castore_x509(sys, why, sizeof(why)); /* NULL is fine: no bundle here */
        castore_put(sys);
        castore_put(f);
    }
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof(path), "%s", tmp_path("race.pem"));
    write_file(path, CERT_A);
    /* Held here, so the threads share one store of each (the system one
     * still loads on whichever thread asks first) rather than re-reading
     * whenever the count drops to zero. */
    char why[160];
    struct castore *held = castore_get_file(path, why, sizeof(why));
    struct castore *held_sys = castore_get_system();
    assert_non_null(held);
    unsigned long loads = castore_loads();
    pthread_t t[4];
    struct race r[4];
    for (int i = 0; i < 4; i++) {
        r[i] = (struct race){path, 0};
        assert_int_equal(pthread_create(&t[i], NULL, race_thread, &r[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        assert_int_equal(pthread_join(t[i], NULL), 0);
        assert_int_equal(r[i].failures, 0);
    }
    /* At most the system bundle was read meanwhile. */
    assert_true(castore_loads() <= loads + 1);
    castore_put(held_sys);
    castore_put(held);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shared_and_reloaded),
        cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_system_store),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, tu_tmpdir_setup, tu_tmpdir_teardown);
}
