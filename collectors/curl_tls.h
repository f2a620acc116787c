/*
 * curl_tls.h - the TLS half of a libcurl probe, shared by every check type
 * that runs libcurl over TLS (http, grpc): the check's CA store installed
 * on each connection (castore.h) instead of libcurl's own loading, the
 * client certificate, tls.server_name by connecting to the configured host
 * while asking for the name, and the earliest notAfter of the presented
 * chain, recorded also when verification fails.
 */
#ifndef OUTPOST_CURL_TLS_H
#define OUTPOST_CURL_TLS_H

#include "common.h"
#include "tls_config.h"

#include <curl/curl.h>
#include <openssl/ssl.h>
#include <stddef.h>

/* Connections one run may watch: one per hop of the http type's longest
 * redirect chain (HTTP_MAX_REDIRECTS + 1). Later connections still verify;
 * only their expiry goes unrecorded. */
#define CURL_TLS_MAX_CELLS 11

struct curl_tls_cell;

/* The TLS state of one run, inside the run's own record (zeroed by the
 * caller). Fields are read-only outside curl_tls.c. */
struct curl_tls {
    const struct tls_spec *spec; /* borrowed from the check */
    struct curl_tls_cell *cells[CURL_TLS_MAX_CELLS];
    size_t n_cells;
    double cert_expiry;             /* earliest notAfter seen (Unix seconds), 0 = none */
    char ca_error[CURL_ERROR_SIZE]; /* why no CA store could be installed, "" if none */
};

/* Process-wide set-up of a type that runs libcurl: libcurl's own (counted,
 * so each type's init pairs with its fini) and the SSL_CTX slot of the
 * certificate callback. A check type's global_init and global_fini. */
enum op_rc curl_tls_global_init(void) WUR;
void curl_tls_global_fini(void);

/* The OpenSSL session of e's connection, NULL without TLS (or before the
 * handshake); borrowed from libcurl while the connection lives. */
SSL *curl_tls_ssl(CURL *e);

/* Set e's TLS options from spec (borrowed until curl_tls_release): peer and
 * host verification unless insecure_skip_verify, no CA file or cache of
 * libcurl's own, the client certificate, and the SSL_CTX callback that
 * installs the store and watches the chain into t. */
CURLcode curl_tls_setopt(struct curl_tls *t, CURL *e, const struct tls_spec *spec) WUR;

/* For tls.server_name: *url_out is url with its host replaced by name, and
 * *connect_to a CURLOPT_CONNECT_TO list that sends it to url's host and
 * port, so SNI and verification use the name (blackbox's server_name).
 * Both caller-freed (free, curl_slist_free_all). OP_ERR_INVALID when url
 * does not parse. */
enum op_rc curl_tls_server_name(const char *url, const char *name, char **url_out,
                                struct curl_slist **connect_to) WUR;

/* The run ends: connections that outlive it (reuse) no longer reach t. */
void curl_tls_release(struct curl_tls *t);

#endif
