/*
 * test_webcfg.c - the exporter-toolkit web config (webcfg.c, webtls.c):
 * valid files and what they load to, and every rejection with its exact
 * message (file:line:column, key, words). Certificates are made at test
 * time with the openssl command in the test's temporary directory; "{D}" in
 * a case stands for that directory.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "test_util.h"
#include "webcfg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HASH_A "$2y$04$4c97VReSt956q2PrN.n2LeLYyqiNxmZt5qYpT7KNqwkYL1TGP5Z8S"
#define HASH_B "$2b$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi"

/* ca: signs server and client; other-key: a key of another pair. */
static int group_setup(void **state)
{
    if (tu_tmpdir_setup(state) != 0)
        return -1;
    char cmd[4096];
    snprintf(cmd, sizeof(cmd),
             "cd '%s' && "
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
             "-keyout ca.key -out ca.pem -days 2 -subj /CN=ca && "
             "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
             "-keyout server.key -out server.csr -subj /CN=127.0.0.1 && "
             "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial "
             "-out server.pem -days 2 && "
             "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out other.key && "
             "printf 'not a certificate\\n' > junk.pem && : > empty.pem",
             tu_tmpdir());
    char full[4200];
    snprintf(full, sizeof(full), "(%s) >/dev/null 2>&1", cmd);
    return system(full) == 0 ? 0 : -1;
}

/* tmpl with every "{D}" replaced by the temporary directory (caller frees). */
static char *subst(const char *tmpl)
{
    struct buf b;
    buf_init(&b, 1 << 20);
    for (const char *p = tmpl; *p;) {
        if (strncmp(p, "{D}", 3) == 0) {
            buf_adds(&b, tu_tmpdir());
            p += 3;
        } else {
            buf_addc(&b, *p++);
        }
    }
    return buf_take(&b);
}

static struct webcfg *load_ok(const char *tmpl, const char *name)
{
    char *text = subst(tmpl);
    struct buf err;
    buf_init(&err, 1 << 16);
    struct webcfg *c = NULL;
    if (webcfg_load_string(text, strlen(text), name, &c, &err) != OP_OK)
        fail_msg("unexpected errors: %s", buf_str(&err));
    buf_free(&err);
    free(text);
    return c;
}

static void test_empty_and_null(void **state)
{
    (void)state;
    static const char *const texts[] = {
        "",
        "# nothing\n",
        "{}\n",
        "tls_server_config:\nbasic_auth_users:\nhttp_server_config:\n",
        "tls_server_config: {}\nbasic_auth_users: {}\nhttp_server_config: {headers: {}}\n",
    };
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        struct webcfg *c = load_ok(texts[i], "web.yml");
        assert_null(c->tls);
        assert_int_equal(c->n_users, 0);
        assert_int_equal(c->n_headers, 0);
        webcfg_free(c);
    }
}

static void test_full(void **state)
{
    (void)state;
    /* Relative paths are relative to the file's directory. */
    char name[600];
    snprintf(name, sizeof(name), "%s/web.yml", tu_tmpdir());
    struct webcfg *c = load_ok("tls_server_config:\n"
                               "  cert_file: server.pem\n"
                               "  key_file: {D}/server.key\n"
                               "  client_auth_type: RequireAndVerifyClientCert\n"
                               "  client_ca_file: ca.pem\n"
                               "  min_version: TLS13\n"
                               "basic_auth_users:\n"
                               "  alice: " HASH_A "\n"
                               "  bob: '" HASH_B "'\n"
                               "http_server_config:\n"
                               "  headers:\n"
                               "    Strict-Transport-Security: max-age=31536000\n"
                               "    X-Content-Type-Options: nosniff\n"
                               "    X-Frame-Options: sameorigin\n"
                               "    X-XSS-Protection: 1; mode=block\n"
                               "    Content-Security-Policy: default-src 'self'\n",
                               name);
    assert_non_null(c->tls);
    assert_int_equal(webtls_client_auth(c->tls), WEBTLS_REQUIRE_AND_VERIFY_CLIENT_CERT);
    assert_int_equal(webtls_min_version(c->tls), WEBTLS_TLS13);
    assert_int_equal(c->n_users, 2);
    assert_string_equal(c->user_names[0], "alice");
    assert_string_equal(c->user_hashes[0], HASH_A);
    assert_string_equal(c->user_names[1], "bob");
    assert_string_equal(c->user_hashes[1], HASH_B);
    assert_int_equal(c->n_headers, 5);
    assert_string_equal(c->headers[0].name, "Strict-Transport-Security");
    assert_string_equal(c->headers[0].value, "max-age=31536000");
    assert_string_equal(c->headers[4].name, "Content-Security-Policy");
    assert_string_equal(c->headers[4].value, "default-src 'self'");
    webcfg_free(c);
}

/* Every client_auth_type; the minimum defaults to TLS 1.2. */
static void test_client_auth_types(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        enum webtls_client_auth want;
        bool ca;
    } cases[] = {
        {"NoClientCert", WEBTLS_NO_CLIENT_CERT, false},
        {"RequestClientCert", WEBTLS_REQUEST_CLIENT_CERT, false},
        {"RequireAnyClientCert", WEBTLS_REQUIRE_ANY_CLIENT_CERT, false},
        {"RequireAnyClientCert", WEBTLS_REQUIRE_ANY_CLIENT_CERT, true},
        {"VerifyClientCertIfGiven", WEBTLS_VERIFY_CLIENT_CERT_IF_GIVEN, true},
        {"RequireAndVerifyClientCert", WEBTLS_REQUIRE_AND_VERIFY_CLIENT_CERT, true},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char text[1024];
        snprintf(text, sizeof(text),
                 "tls_server_config:\n  cert_file: {D}/server.pem\n  key_file: {D}/server.key\n"
                 "  client_auth_type: %s\n%s",
                 cases[i].name, cases[i].ca ? "  client_ca_file: {D}/ca.pem\n" : "");
        struct webcfg *c = load_ok(text, "web.yml");
        assert_int_equal(webtls_client_auth(c->tls), cases[i].want);
        assert_int_equal(webtls_min_version(c->tls), WEBTLS_TLS12);
        assert_string_equal(webtls_client_auth_name(cases[i].want), cases[i].name);
        webcfg_free(c);
    }
}

#define TLS_OK "tls_server_config:\n  cert_file: {D}/server.pem\n  key_file: {D}/server.key\n"

static void test_rejections(void **state)
{
    (void)state;
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"foo: 1\n", "web.yml:1:1: unknown key \"foo\"\n"},
        {"basic_auth_user: {}\n",
         "web.yml:1:1: unknown key \"basic_auth_user\" (did you mean \"basic_auth_users\"?)\n"},
        {"- a\n", "web.yml:1:1: expected a mapping, got a list\n"},
        {"a: [\n", "web.yml:1:4: this \"[\" is never closed: add \"]\" after the last item (YAML: "
                   "did not find expected node content)\n"
                   "    1 | a: [\n"
                   "      |    ^\n"},
        {TLS_OK "  cipher_suites: [TLS_AES_128_GCM_SHA256]\n",
         "web.yml:4:18: tls_server_config.cipher_suites: an exporter-toolkit setting outpost "
         "does not support (GnuTLS chooses the cipher suites)\n"},
        {TLS_OK "  curve_preferences: [X25519]\n",
         "web.yml:4:22: tls_server_config.curve_preferences: an exporter-toolkit setting outpost "
         "does not support (GnuTLS chooses the curves)\n"},
        {TLS_OK "  max_version: TLS12\n",
         "web.yml:4:16: tls_server_config.max_version: an exporter-toolkit setting outpost does "
         "not support (TLS 1.3 is always offered)\n"},
        {TLS_OK "  prefer_server_cipher_suites: true\n",
         "web.yml:4:32: tls_server_config.prefer_server_cipher_suites: an exporter-toolkit "
         "setting outpost does not support (GnuTLS chooses the cipher suites)\n"},
        {TLS_OK "  cert_fil: x\n",
         "web.yml:4:3: tls_server_config: unknown key \"cert_fil\" (did you mean "
         "\"cert_file\"?)\n"},
        {"http_server_config:\n  http2: false\n",
         "web.yml:2:10: http_server_config.http2: an exporter-toolkit setting outpost does not "
         "support (outpost serves HTTP/1.1)\n"},
        {"http_server_config:\n  header: {}\n",
         "web.yml:2:3: http_server_config: unknown key \"header\" (did you mean \"headers\"?)\n"},
        {"tls_server_config:\n  key_file: {D}/server.key\n",
         "web.yml:2:3: tls_server_config: missing cert_file\n"},
        {"tls_server_config:\n  cert_file: {D}/server.pem\n",
         "web.yml:2:3: tls_server_config: missing key_file\n"},
        {"tls_server_config:\n  min_version: TLS13\n",
         "web.yml:2:3: tls_server_config: missing cert_file\n"
         "web.yml:2:3: tls_server_config: missing key_file\n"},
        {"tls_server_config:\n  cert_file: ''\n  key_file: ''\n",
         "web.yml:2:3: tls_server_config: missing cert_file\n"
         "web.yml:2:3: tls_server_config: missing key_file\n"},
        {TLS_OK "  min_version: TLS11\n",
         "web.yml:4:16: tls_server_config.min_version: TLS11 is not supported by outpost (TLS12 "
         "or TLS13)\n"},
        {TLS_OK "  min_version: TLS10\n",
         "web.yml:4:16: tls_server_config.min_version: TLS10 is not supported by outpost (TLS12 "
         "or TLS13)\n"},
        {TLS_OK "  min_version: tls13\n",
         "web.yml:4:16: tls_server_config.min_version: unknown value \"tls13\" (TLS12 or "
         "TLS13)\n"},
        {TLS_OK "  client_auth_type: Bogus\n",
         "web.yml:4:21: tls_server_config.client_auth_type: unknown value \"Bogus\" "
         "(NoClientCert, RequestClientCert, RequireAnyClientCert, VerifyClientCertIfGiven or "
         "RequireAndVerifyClientCert)\n"},
        {TLS_OK "  client_auth_type: RequireClientCert\n",
         "web.yml:4:21: tls_server_config.client_auth_type: \"RequireClientCert\" is the old "
         "name of RequireAnyClientCert\n"},
        {TLS_OK "  client_ca_file: {D}/ca.pem\n",
         "web.yml:4:19: tls_server_config.client_ca_file: given without a client_auth_type that "
         "asks for client certificates\n"},
        {TLS_OK "  client_auth_type: NoClientCert\n  client_ca_file: {D}/ca.pem\n",
         "web.yml:5:19: tls_server_config.client_ca_file: given without a client_auth_type that "
         "asks for client certificates\n"},
        {TLS_OK "  client_auth_type: RequireAndVerifyClientCert\n",
         "web.yml:4:21: tls_server_config.client_auth_type: RequireAndVerifyClientCert needs "
         "client_ca_file (the CAs that sign client certificates)\n"},
        {TLS_OK "  client_auth_type: VerifyClientCertIfGiven\n",
         "web.yml:4:21: tls_server_config.client_auth_type: VerifyClientCertIfGiven needs "
         "client_ca_file (the CAs that sign client certificates)\n"},
        {"tls_server_config:\n  cert_file: {D}/nope.pem\n  key_file: {D}/server.key\n",
         "web.yml:2:14: tls_server_config.cert_file: cannot read {D}/nope.pem: No such file or "
         "directory\n"},
        {"tls_server_config:\n  cert_file: {D}/server.pem\n  key_file: {D}\n",
         "web.yml:3:13: tls_server_config.key_file: cannot read {D}: not a regular file\n"},
        {"tls_server_config:\n  cert_file: {D}/server.pem\n  key_file: {D}/other.key\n",
         "web.yml:2:14: tls_server_config.cert_file: {D}/server.pem and {D}/other.key are not a "
         "PEM certificate and its unencrypted key: The certificate and the given key do not "
         "match.\n"},
        {"tls_server_config:\n  cert_file: {D}/junk.pem\n  key_file: {D}/server.key\n",
         "web.yml:2:14: tls_server_config.cert_file: {D}/junk.pem and {D}/server.key are not a "
         "PEM certificate and its unencrypted key: Base64 decoding error.\n"},
        {TLS_OK "  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: "
                "{D}/junk.pem\n",
         "web.yml:5:19: tls_server_config.client_ca_file: no PEM certificate in {D}/junk.pem\n"},
        {TLS_OK "  client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: "
                "{D}/empty.pem\n",
         "web.yml:5:19: tls_server_config.client_ca_file: no PEM certificate in {D}/empty.pem\n"},
        {"tls_server_config: [a]\n",
         "web.yml:1:20: tls_server_config: expected a mapping, got a list\n"},
        {"basic_auth_users:\n  alice: notahash\n",
         "web.yml:2:10: basic_auth_users.alice: not a bcrypt hash ($2a$, $2b$ or $2y$, a cost "
         "from 04 to 31, 60 characters in all); make one with htpasswd -nBC 10 alice\n"},
        {"basic_auth_users:\n  alice: "
         "$2x$04$4c97VReSt956q2PrN.n2LeLYyqiNxmZt5qYpT7KNqwkYL1TGP5Z8S\n",
         "web.yml:2:10: basic_auth_users.alice: not a bcrypt hash ($2a$, $2b$ or $2y$, a cost "
         "from 04 to 31, 60 characters in all); make one with htpasswd -nBC 10 alice\n"},
        {"basic_auth_users:\n  alice: "
         "$2y$03$4c97VReSt956q2PrN.n2LeLYyqiNxmZt5qYpT7KNqwkYL1TGP5Z8S\n",
         "web.yml:2:10: basic_auth_users.alice: not a bcrypt hash ($2a$, $2b$ or $2y$, a cost "
         "from 04 to 31, 60 characters in all); make one with htpasswd -nBC 10 alice\n"},
        {"basic_auth_users:\n  alice: "
         "$2y$04$4c97VReSt956q2PrN.n2LeLYyqiNxmZt5qYpT7KNqwkYL1TGP5Z8\n",
         "web.yml:2:10: basic_auth_users.alice: not a bcrypt hash ($2a$, $2b$ or $2y$, a cost "
         "from 04 to 31, 60 characters in all); make one with htpasswd -nBC 10 alice\n"},
        {"basic_auth_users:\n  alice:\n",
         "web.yml:2:9: basic_auth_users.alice: not a bcrypt hash ($2a$, $2b$ or $2y$, a cost "
         "from 04 to 31, 60 characters in all); make one with htpasswd -nBC 10 alice\n"},
        {"basic_auth_users:\n  alice: [" HASH_A "]\n",
         "web.yml:2:10: basic_auth_users.alice: expected a single value, got a list\n"},
        {"basic_auth_users:\n  '': " HASH_A "\n",
         "web.yml:2:7: basic_auth_users: an empty user name\n"},
        {"basic_auth_users:\n  'a:b': " HASH_A "\n",
         "web.yml:2:10: basic_auth_users: user \"a:b\" holds ':', which a basic-auth header "
         "cannot carry\n"},
        {"basic_auth_users:\n  \"a\\tb\": " HASH_A "\n",
         "web.yml:2:11: basic_auth_users: a user name holds a control character\n"},
        {"basic_auth_users:\n  alice: " HASH_A "\n  alice: " HASH_B "\n",
         "web.yml:3:3: basic_auth_users.alice: duplicate key\n"},
        {"basic_auth_users: [alice]\n",
         "web.yml:1:19: basic_auth_users: expected a mapping, got a list\n"},
        {"http_server_config:\n  headers:\n    X-Foo: bar\n",
         "web.yml:3:12: http_server_config.headers: HTTP header \"X-Foo\" can not be configured "
         "(only Strict-Transport-Security, X-Content-Type-Options, X-Frame-Options, "
         "X-XSS-Protection and Content-Security-Policy can)\n"},
        {"http_server_config:\n  headers:\n    x-frame-options: deny\n",
         "web.yml:3:22: http_server_config.headers: HTTP header \"x-frame-options\" can not be "
         "configured (only Strict-Transport-Security, X-Content-Type-Options, X-Frame-Options, "
         "X-XSS-Protection and Content-Security-Policy can)\n"},
        {"http_server_config:\n  headers:\n    Authorization: x\n",
         "web.yml:3:20: http_server_config.headers: HTTP header \"Authorization\" can not be "
         "configured (only Strict-Transport-Security, X-Content-Type-Options, X-Frame-Options, "
         "X-XSS-Protection and Content-Security-Policy can)\n"},
        {"http_server_config:\n  headers:\n    X-Frame-Options: allow\n",
         "web.yml:3:22: http_server_config.headers.X-Frame-Options: invalid value \"allow\", "
         "expected \"deny\" or \"sameorigin\"\n"},
        {"http_server_config:\n  headers:\n    X-Frame-Options: DENY\n",
         "web.yml:3:22: http_server_config.headers.X-Frame-Options: invalid value \"DENY\", "
         "expected \"deny\" or \"sameorigin\"\n"},
        {"http_server_config:\n  headers:\n    X-Content-Type-Options: sniff\n",
         "web.yml:3:29: http_server_config.headers.X-Content-Type-Options: invalid value "
         "\"sniff\", expected \"nosniff\"\n"},
        {"http_server_config:\n  headers:\n    Content-Security-Policy: ''\n",
         "web.yml:3:30: http_server_config.headers.Content-Security-Policy: an empty value\n"},
        {"http_server_config:\n  headers:\n    X-XSS-Protection: \"1\\r\\nSet-Cookie: a=b\"\n",
         "web.yml:3:23: http_server_config.headers.X-XSS-Protection: the value holds a control "
         "character\n"},
        {"http_server_config:\n  headers: [a]\n",
         "web.yml:2:12: http_server_config.headers: expected a mapping, got a list\n"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *text = subst(cases[i].text);
        char *want = subst(cases[i].want);
        struct buf err;
        buf_init(&err, 1 << 16);
        struct webcfg *c = NULL;
        enum op_rc rc = webcfg_load_string(text, strlen(text), "web.yml", &c, &err);
        if (rc != OP_ERR_INVALID || strcmp(buf_str(&err), want) != 0)
            fail_msg("case %zu:\n%s\nwant: %sgot:  %s", i, text, want, buf_str(&err));
        assert_null(c);
        buf_free(&err);
        free(text);
        free(want);
    }
}

static void test_files(void **state)
{
    (void)state;
    char path[600], want[800];
    snprintf(path, sizeof(path), "%s/missing.yml", tu_tmpdir());
    struct buf err;
    buf_init(&err, 1 << 16);
    struct webcfg *c = NULL;
    assert_int_equal(webcfg_load_file(path, &c, &err), OP_ERR_IO);
    snprintf(want, sizeof(want), "%s: cannot read: No such file or directory\n", path);
    assert_string_equal(buf_str(&err), want);
    buf_reset(&err);
    /* A file: its directory anchors relative paths. */
    snprintf(path, sizeof(path), "%s/web.yml", tu_tmpdir());
    FILE *f = fopen(path, "w");
    fputs("tls_server_config:\n  cert_file: server.pem\n  key_file: server.key\n", f);
    fclose(f);
    assert_int_equal(webcfg_load_file(path, &c, &err), OP_OK);
    assert_non_null(c->tls);
    webcfg_free(c);
    /* Over the cap: refused before parsing. */
    size_t big = WEBCFG_MAX_FILE_BYTES + 1;
    char *text = malloc(big);
    memset(text, '#', big);
    assert_int_equal(webcfg_load_string(text, big, "web.yml", &c, &err), OP_ERR_INVALID);
    assert_string_equal(buf_str(&err), "web.yml: larger than 1048576 bytes\n");
    free(text);
    buf_free(&err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_and_null),
        cmocka_unit_test(test_full),
        cmocka_unit_test(test_client_auth_types),
        cmocka_unit_test(test_rejections),
        cmocka_unit_test(test_files),
    };
    return cmocka_run_group_tests(tests, group_setup, tu_tmpdir_teardown);
}
