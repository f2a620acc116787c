/*
 * webcfg.h - --web.config.file, in the Prometheus exporter-toolkit format,
 * so `promtool check web-config` accepts every file outpost accepts:
 *
 *   tls_server_config:  cert_file, key_file, client_auth_type,
 *                       client_ca_file, min_version (TLS12, TLS13)
 *   basic_auth_users:   user: <bcrypt hash>
 *   http_server_config: headers: {name: value} (the five promtool allows)
 *
 * Nothing else: an unknown key is an error, and so is an exporter-toolkit
 * key outpost does not implement (cipher_suites, curve_preferences,
 * max_version, prefer_server_cipher_suites, http2), rather than a setting
 * silently ignored. outpost is stricter than promtool where a file would
 * not do what it says (a TLS minimum without a certificate, a verifying
 * policy without CAs, TLS 1.0 and 1.1, a user name with ':'). Relative file
 * paths are relative to the web config's directory, as in exporter-toolkit.
 * Errors name file, line and column and the key; never a hash or a secret.
 */
#ifndef OUTPOST_WEBCFG_H
#define OUTPOST_WEBCFG_H

#include "buf.h"
#include "common.h"
#include "config.h"
#include "webtls.h"

#include <stddef.h>

#define WEBCFG_MAX_FILE_BYTES (1u << 20)
#define WEBCFG_MAX_USERS 1000
#define WEBCFG_MAX_HEADERS 5 /* the headers promtool allows */

/* A loaded web config: immutable, shared read-only. */
struct webcfg {
    struct webtls *tls; /* NULL: plain HTTP; one reference owned */
    size_t n_users;     /* in file order */
    char **user_names, **user_hashes;
    size_t n_headers;
    struct header_kv *headers; /* added to every response */
};

enum op_rc webcfg_load_file(const char *path, struct webcfg **out, struct buf *errors) WUR;
/* text is the content of the file named name (relative paths are resolved
 * against name's directory). */
enum op_rc webcfg_load_string(const char *text, size_t len, const char *name, struct webcfg **out,
                              struct buf *errors) WUR;
void webcfg_free(struct webcfg *c);

#endif
