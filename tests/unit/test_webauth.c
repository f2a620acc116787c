/*
 * test_webauth.c - who may call the endpoints (webauth.c): the tokens file
 * (every rejection with its exact message), the token check, the bcrypt
 * cache (a second check of the same pair runs no bcrypt, a different
 * password does, failures are never cached, an unknown user pays one
 * bcrypt), the Authorization header, and threads sharing one cache (run
 * under ThreadSanitizer by make tsan).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "webauth.h"
#include "test_util.h"

#include <crypt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* A bcrypt hash of password at cost 4 (fast), made with libxcrypt. */
static char *hash_of(const char *password, const char *prefix)
{
    char setting[CRYPT_GENSALT_OUTPUT_SIZE];
    assert_non_null(crypt_gensalt_rn(prefix, 4, NULL, 0, setting, sizeof(setting)));
    struct crypt_data cd;
    memset(&cd, 0, sizeof(cd));
    const char *h = crypt_rn(password, setting, &cd, sizeof(cd));
    assert_non_null(h);
    return strdup(h);
}

static struct webauth_tokens *parse_ok(const char *text)
{
    struct buf err;
    buf_init(&err, 1 << 16);
    struct webauth_tokens *t = NULL;
    enum op_rc rc = webauth_tokens_parse(text, strlen(text), "tokens.txt", &t, &err);
    if (rc != OP_OK)
        fail_msg("unexpected errors: %s", buf_str(&err));
    buf_free(&err);
    return t;
}

static void test_tokens_valid(void **state)
{
    (void)state;
    struct webauth_tokens *t = parse_ok("# scrape tokens\n"
                                        "\n"
                                        "  alpha-1  \n"
                                        "\tbeta_2.x~y+z/w==\r\n"
                                        "   # indented comment\n"
                                        "gamma");
    assert_int_equal(webauth_tokens_count(t), 3);
    assert_true(webauth_token_ok(t, "alpha-1", 7));
    assert_true(webauth_token_ok(t, "beta_2.x~y+z/w==", 16));
    assert_true(webauth_token_ok(t, "gamma", 5));
    /* Neighbours of a token: a prefix, a longer one, blanks, case. */
    static const char *const no[] = {"alpha",           "alpha-12", " alpha-1",
                                     "alpha-1 ",        "ALPHA-1",  "",
                                     "# scrape tokens", "gamm",     "beta_2.x~y+z/w="};
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
        assert_false(webauth_token_ok(t, no[i], strlen(no[i])));
    /* Exactly len bytes count, never what follows. */
    assert_false(webauth_token_ok(t, "gammaX", 6));
    assert_true(webauth_token_ok(t, "gammaX", 5));
    webauth_tokens_free(t);
}

static void test_tokens_errors(void **state)
{
    (void)state;
    char long_token[WEBAUTH_MAX_TOKEN_BYTES + 2];
    memset(long_token, 'a', WEBAUTH_MAX_TOKEN_BYTES + 1);
    long_token[WEBAUTH_MAX_TOKEN_BYTES + 1] = '\0';
    char *many = malloc((WEBAUTH_MAX_TOKENS + 1) * 8 + 1);
    size_t m = 0;
    for (int i = 0; i <= WEBAUTH_MAX_TOKENS; i++)
        m += (size_t)snprintf(many + m, 9, "t%06d\n", i);
    char *long_line = malloc(strlen(long_token) + 16);
    snprintf(long_line, strlen(long_token) + 16, "ok\n%s\n", long_token);
    const struct {
        const char *text;
        size_t len; /* 0: strlen */
        const char *want;
    } cases[] = {
        {"", 0, "tokens.txt: no tokens (one a line; lines starting with # are comments)\n"},
        {"# only\n\n  \n", 0,
         "tokens.txt: no tokens (one a line; lines starting with # are comments)\n"},
        {"good\nwith space\n", 0,
         "tokens.txt:2: a token may hold only letters, digits and -._~+/ with = at its end "
         "(RFC 6750)\n"},
        {"a=b\n", 0,
         "tokens.txt:1: a token may hold only letters, digits and -._~+/ with = at its end "
         "(RFC 6750)\n"},
        {"==\n", 0,
         "tokens.txt:1: a token may hold only letters, digits and -._~+/ with = at its end "
         "(RFC 6750)\n"},
        {"tok\xc3\xa9n\n", 0,
         "tokens.txt:1: a token may hold only letters, digits and -._~+/ with = at its end "
         "(RFC 6750)\n"},
        {"ab\0cd\n", 6, "tokens.txt:1: holds a NUL byte\n"},
        {long_line, 0, "tokens.txt:2: a token longer than 4096 bytes\n"},
        {many, 0, "tokens.txt:1001: more than 1000 tokens\n"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct buf err;
        buf_init(&err, 1 << 16);
        struct webauth_tokens *t = NULL;
        size_t len = cases[i].len ? cases[i].len : strlen(cases[i].text);
        assert_int_equal(webauth_tokens_parse(cases[i].text, len, "tokens.txt", &t, &err),
                         OP_ERR_INVALID);
        assert_null(t);
        assert_string_equal(buf_str(&err), cases[i].want);
        buf_free(&err);
    }
    free(many);
    free(long_line);
}

static void test_tokens_file(void **state)
{
    (void)state;
    char path[512], fifo[512];
    snprintf(path, sizeof(path), "%s/tokens", tu_tmpdir());
    snprintf(fifo, sizeof(fifo), "%s/fifo", tu_tmpdir());
    struct buf err;
    buf_init(&err, 1 << 16);
    struct webauth_tokens *t = NULL;
    assert_int_equal(webauth_tokens_load(path, &t, &err), OP_ERR_IO);
    char want[700];
    snprintf(want, sizeof(want), "%s: cannot read: No such file or directory\n", path);
    assert_string_equal(buf_str(&err), want);
    buf_reset(&err);
    FILE *f = fopen(path, "w");
    fputs("one\ntwo\n", f);
    fclose(f);
    assert_int_equal(webauth_tokens_load(path, &t, &err), OP_OK);
    assert_int_equal(webauth_tokens_count(t), 2);
    assert_true(webauth_token_ok(t, "two", 3));
    webauth_tokens_free(t);
    /* A FIFO would block the reload: refused without opening it for long. */
    assert_int_equal(mkfifo(fifo, 0600), 0);
    assert_int_equal(webauth_tokens_load(fifo, &t, &err), OP_ERR_IO);
    snprintf(want, sizeof(want), "%s: cannot read: not a regular file\n", fifo);
    assert_string_equal(buf_str(&err), want);
    buf_free(&err);
}

/* The cache: the same (user, password) pair runs bcrypt once; a different
 * password runs it again; failures run it every time; an unknown user runs
 * it once per try, like a known one. */
static void test_bcrypt_cache(void **state)
{
    (void)state;
    char *ha = hash_of("s3cret", "$2b$");
    char *hb = hash_of("hunter2", "$2y$");
    const char *names[] = {"alice", "bob"};
    const char *hashes[] = {ha, hb};
    struct webauth_users *u = webauth_users_new(names, hashes, 2);
    assert_int_equal(webauth_bcrypt_runs(u), 0);
    assert_int_equal(webauth_check_basic(u, "alice", "s3cret"), WEBAUTH_OK);
    assert_int_equal(webauth_bcrypt_runs(u), 1);
    assert_int_equal(webauth_check_basic(u, "alice", "s3cret"), WEBAUTH_OK);
    assert_int_equal(webauth_bcrypt_runs(u), 1); /* cached */
    assert_int_equal(webauth_check_basic(u, "alice", "s3cret!"), WEBAUTH_WRONG_PASSWORD);
    assert_int_equal(webauth_bcrypt_runs(u), 2);
    assert_int_equal(webauth_check_basic(u, "alice", "s3cret!"), WEBAUTH_WRONG_PASSWORD);
    assert_int_equal(webauth_bcrypt_runs(u), 3); /* failures are not cached */
    /* alice's password is not bob's: the cache is per user. */
    assert_int_equal(webauth_check_basic(u, "bob", "s3cret"), WEBAUTH_WRONG_PASSWORD);
    assert_int_equal(webauth_bcrypt_runs(u), 4);
    assert_int_equal(webauth_check_basic(u, "bob", "hunter2"), WEBAUTH_OK); /* $2y$ */
    assert_int_equal(webauth_bcrypt_runs(u), 5);
    assert_int_equal(webauth_check_basic(u, "mallory", "s3cret"), WEBAUTH_UNKNOWN_USER);
    assert_int_equal(webauth_bcrypt_runs(u), 6); /* the dummy comparison */
    assert_int_equal(webauth_check_basic(u, "mallory", "s3cret"), WEBAUTH_UNKNOWN_USER);
    assert_int_equal(webauth_bcrypt_runs(u), 7);
    assert_int_equal(webauth_check_basic(u, "", ""), WEBAUTH_UNKNOWN_USER);
    assert_int_equal(webauth_check_basic(u, "alice", "s3cret"), WEBAUTH_OK);
    assert_int_equal(webauth_check_basic(u, "bob", "hunter2"), WEBAUTH_OK);
    assert_int_equal(webauth_bcrypt_runs(u), 8);
    webauth_users_free(u);

    /* A new hash for alice (a reload): the old password is checked afresh
     * and fails; nothing of the old cache carries over. */
    char *ha2 = hash_of("n3w", "$2b$");
    const char *hashes2[] = {ha2, hb};
    u = webauth_users_new(names, hashes2, 2);
    assert_int_equal(webauth_check_basic(u, "alice", "s3cret"), WEBAUTH_WRONG_PASSWORD);
    assert_int_equal(webauth_check_basic(u, "alice", "n3w"), WEBAUTH_OK);
    assert_int_equal(webauth_check_basic(u, "alice", "n3w"), WEBAUTH_OK);
    assert_int_equal(webauth_bcrypt_runs(u), 2);
    webauth_users_free(u);
    free(ha);
    free(hb);
    free(ha2);
}

/* More verified pairs than the cache holds: the oldest is forgotten and
 * costs bcrypt again; the newest is still cached. */
static void test_bcrypt_cache_is_bounded(void **state)
{
    (void)state;
    enum { N = WEBAUTH_CACHE_SLOTS + 1 };
    char **names = calloc(N, sizeof(char *));
    char *h = hash_of("pw", "$2b$");
    const char **hashes = calloc(N, sizeof(char *));
    for (int i = 0; i < N; i++) {
        names[i] = malloc(16);
        snprintf(names[i], 16, "user%d", i);
        hashes[i] = h;
    }
    struct webauth_users *u = webauth_users_new((const char *const *)names, hashes, N);
    for (int i = 0; i < N; i++)
        assert_int_equal(webauth_check_basic(u, names[i], "pw"), WEBAUTH_OK);
    assert_int_equal(webauth_bcrypt_runs(u), N);
    assert_int_equal(webauth_check_basic(u, names[N - 1], "pw"), WEBAUTH_OK);
    assert_int_equal(webauth_bcrypt_runs(u), N);
    assert_int_equal(webauth_check_basic(u, names[0], "pw"), WEBAUTH_OK);
    assert_int_equal(webauth_bcrypt_runs(u), N + 1);
    webauth_users_free(u);
    for (int i = 0; i < N; i++)
        free(names[i]);
    free(names);
    free(hashes);
    free(h);
}

static void test_header(void **state)
{
    (void)state;
    struct webauth_credentials c;
    assert_int_equal(webauth_parse_header(NULL, &c), WEBAUTH_SCHEME_NONE);
    /* alice:s3cret */
    assert_int_equal(webauth_parse_header("Basic YWxpY2U6czNjcmV0", &c), WEBAUTH_SCHEME_BASIC);
    assert_string_equal(c.user, "alice");
    assert_string_equal(c.password, "s3cret");
    assert_int_equal(webauth_parse_header("basic   YWxpY2U6czNjcmV0 \t", &c), WEBAUTH_SCHEME_BASIC);
    assert_string_equal(c.user, "alice");
    /* u:pa:ss - the password may hold ':'; "alice:" - an empty password */
    assert_int_equal(webauth_parse_header("Basic dTpwYTpzcw==", &c), WEBAUTH_SCHEME_BASIC);
    assert_string_equal(c.user, "u");
    assert_string_equal(c.password, "pa:ss");
    assert_int_equal(webauth_parse_header("Basic YWxpY2U6", &c), WEBAUTH_SCHEME_BASIC);
    assert_string_equal(c.password, "");
    webauth_credentials_wipe(&c);
    assert_null(c.password);
    assert_int_equal(webauth_parse_header("Bearer abc-DEF.1~+/==", &c), WEBAUTH_SCHEME_BEARER);
    assert_int_equal(c.token_len, 14);
    assert_memory_equal(c.token, "abc-DEF.1~+/==", 14);
    assert_int_equal(webauth_parse_header("BEARER  tok ", &c), WEBAUTH_SCHEME_BEARER);
    assert_int_equal(c.token_len, 3);
    static const char *const malformed[] = {
        "Basic YWxpY2U",  /* not a multiple of 4 */
        "Basic YWxpY2Vz", /* 4n, but no ':' inside: "alices" has none */
        "Basic YWxp=2U6", /* padding inside */
        "Basic YWxpY2U6czNjcmV0!",
        "Basic ",
        "Basic YQBiOmM=", /* "a\0b:c" */
        "Bearer ",
        "Bearer a b",
        "Bearer =abc",
        "Bearer tok\xc3\xa9",
    };
    for (size_t i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++)
        assert_int_equal(webauth_parse_header(malformed[i], &c), WEBAUTH_SCHEME_MALFORMED);
    assert_int_equal(webauth_parse_header("Digest username=x", &c), WEBAUTH_SCHEME_OTHER);
    assert_int_equal(webauth_parse_header("Basic", &c), WEBAUTH_SCHEME_OTHER);
    assert_int_equal(webauth_parse_header("Basicx YWxpY2U6czNjcmV0", &c), WEBAUTH_SCHEME_OTHER);
    /* Longer than the cap: refused without decoding. */
    char big[WEBAUTH_MAX_HEADER_BYTES + 16];
    memcpy(big, "Bearer ", 7);
    memset(big + 7, 'a', sizeof(big) - 8);
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(webauth_parse_header(big, &c), WEBAUTH_SCHEME_MALFORMED);
}

struct worker {
    struct webauth_users *u;
    const struct webauth_tokens *t;
    int ok;
};

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    for (int i = 0; i < 200; i++) {
        w->ok += webauth_check_basic(w->u, "alice", "s3cret") == WEBAUTH_OK;
        w->ok += webauth_token_ok(w->t, "tok", 3);
        if (i % 50 == 0)
            w->ok += webauth_check_basic(w->u, "alice", "nope") == WEBAUTH_OK;
    }
    return NULL;
}

/* Threads share one users object (its cache) and one token set. */
static void test_threads(void **state)
{
    (void)state;
    char *h = hash_of("s3cret", "$2b$");
    const char *names[] = {"alice"};
    const char *hashes[] = {h};
    struct webauth_users *u = webauth_users_new(names, hashes, 1);
    struct webauth_tokens *t = parse_ok("tok\n");
    struct worker w[4];
    pthread_t th[4];
    for (int i = 0; i < 4; i++) {
        w[i] = (struct worker){u, t, 0};
        assert_int_equal(pthread_create(&th[i], NULL, worker_main, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(w[i].ok, 400);
    }
    /* Each thread may verify the pair once before another cached it; the
     * wrong password runs every time (4 x 4). */
    assert_in_range(webauth_bcrypt_runs(u), 17, 20);
    webauth_users_free(u);
    webauth_tokens_free(t);
    free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tokens_valid),
        cmocka_unit_test(test_tokens_errors),
        cmocka_unit_test(test_tokens_file),
        cmocka_unit_test(test_bcrypt_cache),
        cmocka_unit_test(test_bcrypt_cache_is_bounded),
        cmocka_unit_test(test_header),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, tu_tmpdir_setup, tu_tmpdir_teardown);
}
