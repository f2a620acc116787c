/*
 * webtls.h - the TLS side of the web config: a server certificate and key,
 * the client-certificate policy and the lowest protocol version, loaded into
 * GnuTLS credentials that each new HTTPS connection is given before its
 * handshake.
 *
 * libmicrohttpd does the TLS (Debian builds it on GnuTLS); this module only
 * prepares what a session uses. Because every connection takes the
 * credentials current when it was accepted (and holds a reference until it
 * closes), a reload that changes the certificate, the key, the client CAs or
 * the policy applies to the next connection without stopping the listeners;
 * connections already open finish with what they started with.
 *
 * Client certificates are verified by GnuTLS during the handshake (chain to
 * client_ca_file, validity dates, and the TLS client purpose when the
 * certificate names purposes): a refused certificate fails the handshake,
 * as Go's crypto/tls does for exporter-toolkit.
 */
#ifndef OUTPOST_WEBTLS_H
#define OUTPOST_WEBTLS_H

#include "buf.h"
#include "common.h"

#define WEBTLS_MAX_PEM_BYTES (1u << 20) /* a certificate, key or CA file */

/* exporter-toolkit's client_auth_type values (Go's tls.ClientAuthType). */
enum webtls_client_auth {
    WEBTLS_NO_CLIENT_CERT,
    WEBTLS_REQUEST_CLIENT_CERT,
    WEBTLS_REQUIRE_ANY_CLIENT_CERT,
    WEBTLS_VERIFY_CLIENT_CERT_IF_GIVEN,
    WEBTLS_REQUIRE_AND_VERIFY_CLIENT_CERT,
};

enum webtls_version { WEBTLS_TLS12, WEBTLS_TLS13 };

struct webtls_settings {
    const char *cert_file, *key_file; /* PEM; required */
    const char *client_ca_file;       /* PEM; NULL when not given */
    enum webtls_client_auth client_auth;
    enum webtls_version min_version;
};

struct webtls;

/* Which setting a load error is about, so the web config can point at it. */
enum webtls_culprit { WEBTLS_CULPRIT_CERT, WEBTLS_CULPRIT_KEY, WEBTLS_CULPRIT_CA };

/* Load the files of s. On error: why gets one line without a newline (file
 * paths and GnuTLS's words; never key material), *culprit says which
 * setting it is about. The result holds one reference (webtls_unref). */
enum op_rc webtls_new(const struct webtls_settings *s, struct webtls **out, struct buf *why,
                      enum webtls_culprit *culprit) WUR;
void webtls_ref(struct webtls *t);
void webtls_unref(struct webtls *t);

enum webtls_client_auth webtls_client_auth(const struct webtls *t);
enum webtls_version webtls_min_version(const struct webtls *t);
/* "NoClientCert", ..., and "TLS12"/"TLS13": the web config's spellings. */
const char *webtls_client_auth_name(enum webtls_client_auth a);
const char *webtls_version_name(enum webtls_version v);

/* Give a new server session (a gnutls_session_t, before its handshake) the
 * credentials, protocol versions and client-certificate policy of t. The
 * caller keeps a reference to t until the session is deinitialised. */
enum op_rc webtls_session_setup(struct webtls *t, void *gnutls_session) WUR;

#endif
