/*
 * tls_facts.h - what the types that speak TLS (http, tcp, grpc) report of
 * a session in the same words: the protocol version as blackbox_exporter
 * names it, and the earliest certificate expiry seen.
 */
#ifndef OUTPOST_TLS_FACTS_H
#define OUTPOST_TLS_FACTS_H

#include <openssl/x509.h>

/* The name of an OpenSSL protocol version (SSL_version) the way
 * blackbox_exporter's probe_tls_version_info labels it (Go's
 * tls.VersionName): "TLS 1.2", "TLS 1.3"; "unknown" for anything else.
 * Static strings. */
const char *tls_version_label(int ssl_version);

/* Lower *earliest (Unix seconds, 0: none yet) to cert's notAfter when
 * that is earlier; cert borrowed. */
void tls_note_expiry(double *earliest, const X509 *cert);

#endif
