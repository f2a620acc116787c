/*
 * test_cli.c - the flag helpers and command groups every command shares
 * (cli.c), and the --web.listen-address check the agent's flags use
 * (listener_check_address).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cli.h"
#include "listener.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* Both forms, the value of the separate form taken from the next
 * argument, a prefix that is another flag, a missing value. */
static void test_flag_value(void **state)
{
    (void)state;
    char *argv[] = {"x", "--canary=a", "--canary", "b", "--canary-name=c", "--canary"};
    int i = 1;
    bool missing = false;
    assert_string_equal(cli_flag_value(N(argv), argv, &i, "--canary", &missing), "a");
    assert_int_equal(i, 1);
    i = 2;
    assert_string_equal(cli_flag_value(N(argv), argv, &i, "--canary", &missing), "b");
    assert_int_equal(i, 3);
    i = 4;
    assert_null(cli_flag_value(N(argv), argv, &i, "--canary", &missing));
    assert_false(missing);
    i = 5;
    assert_null(cli_flag_value(N(argv), argv, &i, "--canary", &missing));
    assert_true(missing);
    assert_int_equal(i, 5);
}

/* A separate value that starts with "-" is the next flag, not a value:
 * `--storage.path --config.check` must not take --config.check as a
 * directory. The = form keeps such a value; "-" alone is one. */
static void test_flag_value_not_a_flag(void **state)
{
    (void)state;
    char *argv[] = {"x", "--storage.path", "--config.check", "--check", "-x", "--output",
                    "-", "--check=-x",     "--at",           "-5"};
    int i = 1;
    bool missing = false;
    assert_null(cli_flag_value(N(argv), argv, &i, "--storage.path", &missing));
    assert_true(missing);
    assert_int_equal(i, 1);
    i = 3;
    missing = false;
    assert_null(cli_flag_value(N(argv), argv, &i, "--check", &missing));
    assert_true(missing);
    assert_int_equal(i, 3);
    i = 5;
    missing = false;
    assert_string_equal(cli_flag_value(N(argv), argv, &i, "--output", &missing), "-");
    assert_false(missing);
    assert_int_equal(i, 6);
    i = 7;
    assert_string_equal(cli_flag_value(N(argv), argv, &i, "--check", &missing), "-x");
    i = 8;
    assert_null(cli_flag_value(N(argv), argv, &i, "--at", &missing));
    assert_true(missing);
    i = 1;
    assert_null(cli_flag_value(N(argv), argv, &i, "--storage.path", NULL));
}

static void test_wants_help(void **state)
{
    (void)state;
    static const struct {
        const char *args[4];
        bool help;
    } cases[] = {
        {{"--help"}, true},
        {{"-h"}, true},
        {{"--frob", "--help"}, true},
        {{"--config.file", "-h"}, true}, /* help wins, even as a value */
        {{"--", "-h"}, false},           /* after --, a file named -h */
        {{"a", "--", "--help"}, false},
        {{"--helpful", "-hh", "help"}, false},
        {{NULL}, false},
    };
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        char *argv[5] = {"cmd"};
        int argc = 1;
        for (int k = 0; k < 4 && cases[c].args[k]; k++)
            argv[argc++] = (char *)cases[c].args[k];
        assert_int_equal(cli_wants_help(argc, argv), cases[c].help);
    }
}

/* ---- groups ---- */

static int ran;
static char ran_argv0[32];
static int ran_argc;

static int run_a(int argc, char **argv)
{
    ran++;
    ran_argc = argc;
    snprintf(ran_argv0, sizeof(ran_argv0), "%s", argv[0]);
    return 7;
}

static const struct cli_command commands[] = {
    {"alpha", "[--x=X]", "Does a.", run_a},
    {"beta", "", "Does b.", run_a},
};
static const struct cli_group group = {"outpost g", "A group.", commands, 2};

/* The group's answers with stdout and stderr thrown away (their text is
 * checked by tests/integration/test_cli.py). */
static int group_main(int argc, char **argv)
{
    fflush(stdout);
    fflush(stderr);
    int out = dup(1), err = dup(2), null = open("/dev/null", O_WRONLY);
    assert_true(out >= 0 && err >= 0 && null >= 0);
    dup2(null, 1);
    dup2(null, 2);
    int rc = cli_group_main(&group, argc, argv);
    fflush(stdout);
    fflush(stderr);
    dup2(out, 1);
    dup2(err, 2);
    close(out);
    close(err);
    close(null);
    return rc;
}

static void test_group(void **state)
{
    (void)state;
    static const struct {
        const char *args[3];
        int rc, ran;
        const char *argv0;
        int argc;
    } cases[] = {
        {{"alpha", "--x=1"}, 7, 1, "alpha", 2},
        {{"beta", "--help"}, 7, 1, "beta", 2}, /* the command's own help */
        {{"--help"}, 0, 0, NULL, 0},
        {{"--frob", "-h"}, 0, 0, NULL, 0},
        {{NULL}, CLI_EXIT_USAGE, 0, NULL, 0},
        {{"gamma"}, CLI_EXIT_USAGE, 0, NULL, 0},
        {{"gamma", "--help"}, CLI_EXIT_USAGE, 0, NULL, 0}, /* an unknown word is named */
        {{"--frob"}, CLI_EXIT_USAGE, 0, NULL, 0},
        {{"ALPHA"}, CLI_EXIT_USAGE, 0, NULL, 0},
    };
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        char *argv[4] = {"g"};
        int argc = 1;
        for (int k = 0; k < 3 && cases[c].args[k]; k++)
            argv[argc++] = (char *)cases[c].args[k];
        ran = 0;
        ran_argv0[0] = '\0';
        assert_int_equal(group_main(argc, argv), cases[c].rc);
        assert_int_equal(ran, cases[c].ran);
        if (cases[c].argv0) {
            assert_string_equal(ran_argv0, cases[c].argv0);
            assert_int_equal(ran_argc, cases[c].argc);
        }
    }
}

/* The forms the listener binds, and the typos refused at flag parsing. */
static void test_listen_address(void **state)
{
    (void)state;
    static const char *good[] = {":9469",      ":0",      "127.0.0.1:0", "[::1]:9469",
                                 "[::]:65535", "host:80", "localhost:1", "0.0.0.0:9469"};
    static const char *bad[] = {"foo",  ":99999", "[::1",  "1.2.3.4:",  "::1:80", ":-1",   ": 80",
                                ":+80", "",       "[::1]", "[::1]9469", ":80x",   ":65536"};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        assert_int_equal(listener_check_address(good[i]), OP_OK);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(listener_check_address(bad[i]), OP_ERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flag_value),     cmocka_unit_test(test_flag_value_not_a_flag),
        cmocka_unit_test(test_wants_help),     cmocka_unit_test(test_group),
        cmocka_unit_test(test_listen_address),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
