/*
 * castore.h - the CA certificates an https probe verifies with, loaded once
 * per distinct file and shared by every check that names it.
 *
 * libcurl would parse the CA bundle for every new connection (~20-40 ms of
 * the probe thread for the 145 certificates of Debian's bundle). Instead,
 * each distinct CA file becomes one refcounted OpenSSL X509_STORE that the
 * http check installs on each connection's SSL_CTX (SSL_CTX_set1_cert_store
 * in its CURLOPT_SSL_CTX_FUNCTION), with libcurl told to load nothing.
 *
 * A store is keyed by path, device, inode, modification time and size, so
 * a configuration reload after the file changed loads it again while an
 * unchanged file is shared between the old and the new configuration. The
 * file is opened without blocking, must be a regular file and is read once
 * through that descriptor; the PEM is parsed from memory. Trust is what
 * libcurl would have used: the file's certificates (and CRLs) plus
 * libcurl's built-in CA directory (CURLINFO_CAPATH, /etc/ssl/certs on
 * Debian) as a lazily read hashed directory.
 *
 * Stores are taken when a configuration loads (a check with tls.ca_file:
 * loaded then, so a bad file is a configuration error) and released when it
 * is freed; any thread may do either. The system default store (a check
 * without tls.ca_file: libcurl's built-in bundle, CURLINFO_CAINFO) is keyed
 * when the configuration loads but read at its first use, on the probe
 * thread, so configurations that never verify a server never pay for it.
 */
#ifndef OUTPOST_CASTORE_H
#define OUTPOST_CASTORE_H

#include "common.h"

#include <openssl/x509_vfy.h>
#include <stddef.h>

/* The largest CA file read (Debian's bundle is ~220 KB). */
#define CASTORE_MAX_FILE_BYTES (16u << 20)

struct castore;

/* The store of the CA file at path, loaded now unless a store of the same
 * unchanged file is already held. NULL on failure with why (cap bytes:
 * "No such file or directory", "not a regular file", "no certificate in
 * it", ...). Caller releases it (castore_put). */
struct castore *castore_get_file(const char *path, char *why, size_t cap) WUR;

/* The system default store, keyed by its bundle as it is now; its
 * certificates are read at the first castore_x509. Never NULL (a missing
 * bundle is reported by castore_x509). Caller releases it (castore_put). */
struct castore *castore_get_system(void) WUR;

/* The X509_STORE to verify with (borrowed: valid while the caller holds s;
 * SSL_CTX_set1_cert_store takes its own reference). The system store is
 * loaded here the first time. NULL when it cannot be loaded, with why. */
X509_STORE *castore_x509(struct castore *s, char *why, size_t cap);

/* Drop a reference; the last one frees the store. NULL is a no-op. */
void castore_put(struct castore *s);

/* How many CA files have been read and parsed in this process (tests: a
 * shared store is loaded once). */
unsigned long castore_loads(void);

#endif
