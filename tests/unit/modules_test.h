/*
 * modules_test.h - helpers of test_modules.c and test_modules_http.c:
 * loading a configuration with a modules file written to the test's
 * directory, errors with that directory cut off, a module's description
 * and the check it builds for a target. Included by the tests only.
 */
#ifndef OUTPOST_MODULES_TEST_H
#define OUTPOST_MODULES_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "buf.h"
#include "check.h"
#include "config.h"
#include "dns_check.h"
#include "grpc_check.h"
#include "http_check.h"
#include "icmp_check.h"
#include "modules.h"
#include "tcp_check.h"
#include "test_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static __attribute__((unused)) int group_setup(void **state)
{
    return tu_tmpdir_setup(state);
}

/* ---- loading ---- */

/* path of name in the test's directory, written with text. */
static __attribute__((unused)) const char *write_file(const char *name, const char *text)
{
    static char path[4096];
    snprintf(path, sizeof(path), "%s/%s", tu_tmpdir(), name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
    fclose(f);
    return path;
}

static __attribute__((unused)) enum op_rc load_with(const char *config, const char *modules,
                                                    struct cfg **c, struct buf *err)
{
    struct cfg_load_options lo = {0};
    char file[4096];
    if (modules) {
        snprintf(file, sizeof(file), "%s", write_file("blackbox.yml", modules));
        lo.modules_file = file;
    }
    *c = NULL;
    return cfg_load_string_opts(config, strlen(config), "outpost.yml", &lo, c, err);
}

static __attribute__((unused)) struct cfg *load(const char *config, const char *modules)
{
    struct buf err;
    buf_init(&err, 1u << 16);
    struct cfg *c = NULL;
    if (load_with(config, modules, &c, &err) != OP_OK)
        fail_msg("config: %s", buf_str(&err));
    buf_free(&err);
    return c;
}

/* The errors of a config that must not load, file names cut to their
 * base name (caller frees). */
static __attribute__((unused)) char *errors_of(const char *config, const char *modules)
{
    struct buf err;
    buf_init(&err, 1u << 16);
    struct cfg *c = NULL;
    assert_int_equal(load_with(config, modules, &c, &err), OP_ERR_INVALID);
    assert_null(c);
    char *s = buf_take(&err);
    char dir[4100];
    snprintf(dir, sizeof(dir), "%s/", tu_tmpdir());
    char *q;
    while ((q = strstr(s, dir)))
        memmove(q, q + strlen(dir), strlen(q + strlen(dir)) + 1);
    return s;
}

static __attribute__((unused)) void assert_errors(const char *config, const char *modules,
                                                  const char *want)
{
    char *got = errors_of(config, modules);
    if (strcmp(got, want) != 0)
        fprintf(stderr, "got:\n%s", got);
    assert_string_equal(got, want);
    free(got);
}

static __attribute__((unused)) char *describe(const struct cfg *c, const char *name)
{
    const struct bb_module *m = cfg_find_module(c, name);
    assert_non_null(m);
    struct buf b;
    buf_init(&b, 1u << 16);
    bb_module_describe(m, &b);
    return buf_take(&b);
}

static __attribute__((unused)) void assert_describe(const struct cfg *c, const char *name,
                                                    const char *want)
{
    char *got = describe(c, name);
    if (strcmp(got, want) != 0)
        fprintf(stderr, "got:\n%s", got);
    assert_string_equal(got, want);
    free(got);
}

static __attribute__((unused)) struct check_spec *check_of(const struct cfg *c, const char *module,
                                                           const char *target, int64_t timeout_ms)
{
    struct buf err;
    buf_init(&err, 4096);
    struct check_spec *cs = NULL;
    const struct bb_module *m = cfg_find_module(c, module);
    assert_non_null(m);
    if (bb_module_check(m, "probe", target, timeout_ms, &cs, &err) != OP_OK)
        fail_msg("bb_module_check: %s", buf_str(&err));
    buf_free(&err);
    assert_non_null(cs);
    return cs;
}

static __attribute__((unused)) void assert_target_error(const struct cfg *c, const char *module,
                                                        const char *target, const char *want)
{
    struct buf err;
    buf_init(&err, 4096);
    struct check_spec *cs = (void *)1;
    assert_int_equal(bb_module_check(cfg_find_module(c, module), "probe", target, 1000, &cs, &err),
                     OP_ERR_INVALID);
    assert_null(cs);
    assert_string_equal(buf_str(&err), want);
    buf_free(&err);
}

#define NO_CHECKS "checks: []\n"

#endif
