/*
 * test_util.h - helpers shared by the unit tests (tests/unit/test_*.c).
 *
 * Every unit test executable links test_util.c, so a helper lives here once
 * instead of being copied into each test file that needs it. Nothing here
 * depends on cmocka or on the agent's modules: a fuzz target or any other
 * program may link it too.
 *
 * Temporary directory: one per test process, made by the cmocka group setup
 * tu_tmpdir_setup with mkdtemp under /tmp and removed with everything below
 * it by tu_tmpdir_teardown. mkdtemp picks a fresh name every time, so test
 * processes run in parallel (ctest -j) never share or remove each other's
 * files.
 */
#ifndef OUTPOST_TEST_UTIL_H
#define OUTPOST_TEST_UTIL_H

/*
 * cmocka group setup: makes /tmp/outpost-<program>-XXXXXX (mode 0700).
 * state is not used, so a group setup that needs more can call this first.
 * Returns 0, or -1 (errno set) if the directory could not be made or one
 * is already open.
 */
int tu_tmpdir_setup(void **state);

/*
 * cmocka group teardown: removes the directory from tu_tmpdir_setup and
 * everything a test left in it. Returns 0, or -1 if something could not be
 * removed (cmocka then reports the group teardown as failed). Without an
 * open directory it does nothing and returns 0.
 */
int tu_tmpdir_teardown(void **state);

/*
 * Path of the directory from tu_tmpdir_setup, without a trailing slash.
 * Borrowed: owned by test_util.c, valid until tu_tmpdir_teardown. Aborts
 * when called outside setup and teardown, a bug in the test itself.
 */
const char *tu_tmpdir(void);

/*
 * Removes path like `rm -rf`: a file or symbolic link is unlinked (a link is
 * never followed), a directory is emptied depth first and then removed. A
 * path that does not exist is not an error. Returns 0, or -1 if anything
 * stayed behind; it carries on past a failure so as much as possible goes.
 */
int tu_rm_rf(const char *path);

#endif
