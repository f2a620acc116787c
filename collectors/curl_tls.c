/*
 * curl_tls.c - the TLS options and certificate watch of a libcurl probe
 * (curl_tls.h), one implementation for every type that runs libcurl.
 */
#include "curl_tls.h"
#include "tls_facts.h"
#include "buf.h"
#include "castore.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/*
 * The certificate callback finds its run through the connection's SSL_CTX.
 * A connection can outlive the run (reuse_connection), and a TLS
 * renegotiation would then verify again: so the SSL_CTX holds a cell, not
 * the run, and the run empties its cells when it ends. A cell is freed by
 * whichever of the two lets go last.
 */
struct curl_tls_cell {
    struct curl_tls *t; /* NULL once the run ended */
    atomic_int refs;
};

static int g_ssl_idx = -1;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void cell_release(struct curl_tls_cell *c)
{
    if (atomic_fetch_sub(&c->refs, 1) == 1)
        free(c);
}

/* OpenSSL frees an SSL_CTX's ex data through this. */
static void cell_ex_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
                         void *argp)
{
    (void)parent;
    (void)ad;
    (void)idx;
    (void)argl;
    (void)argp;
    if (ptr)
        cell_release(ptr);
}

static void ssl_index_init(void)
{
    g_ssl_idx = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, cell_ex_free);
}

enum op_rc curl_tls_global_init(void)
{
    if (curl_global_init(CURL_GLOBAL_ALL) != CURLE_OK)
        return OP_ERR_SYSTEM;
    pthread_once(&g_once, ssl_index_init);
    if (g_ssl_idx >= 0)
        return OP_OK;
    curl_global_cleanup();
    return OP_ERR_SYSTEM;
}

void curl_tls_global_fini(void)
{
    curl_global_cleanup();
}

SSL *curl_tls_ssl(CURL *e)
{
    struct curl_tlssessioninfo *ti = NULL;
    if (curl_easy_getinfo(e, CURLINFO_TLS_SSL_PTR, &ti) != CURLE_OK || !ti ||
        ti->backend != CURLSSLBACKEND_OPENSSL)
        return NULL;
    return ti->internals;
}

/* ---- certificate expiry ---- */

/*
 * OpenSSL calls this for every certificate it checks, also when the chain
 * does not verify; recording the presented chain here is what lets the
 * expiry metric exist for a self-signed or expired certificate. The verdict
 * itself is left to OpenSSL and curl (preverify_ok passes through).
 */
static int verify_cb(int preverify_ok, X509_STORE_CTX *store)
{
    SSL *ssl = X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx());
    struct curl_tls_cell *cell = ssl ? SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), g_ssl_idx) : NULL;
    struct curl_tls *t = cell ? cell->t : NULL;
    if (t) {
        X509 *leaf = X509_STORE_CTX_get0_cert(store);
        if (leaf)
            tls_note_expiry(&t->cert_expiry, leaf);
        STACK_OF(X509) *chain = X509_STORE_CTX_get0_untrusted(store);
        for (int i = 0; chain && i < sk_X509_num(chain); i++)
            tls_note_expiry(&t->cert_expiry, sk_X509_value(chain, i));
    }
    return preverify_ok;
}

/* curl creates an SSL_CTX per connection and calls this after its own
 * set-up, so the verify mode it chose is kept and only our callback added.
 * The CA certificates are the check's shared store (castore.h): libcurl is
 * told to load none (curl_tls_setopt), so it only sets the same verify
 * flags on this store when it verifies, and the bundle is never parsed
 * again. */
static CURLcode on_ssl_ctx(CURL *easy, void *sslctx, void *arg)
{
    (void)easy;
    struct curl_tls *t = arg;
    SSL_CTX *ctx = sslctx;
    if (t->spec->ca) {
        X509_STORE *store = castore_x509(t->spec->ca, t->ca_error, sizeof(t->ca_error));
        if (!store)
            return CURLE_SSL_CACERT_BADFILE; /* the system bundle is unreadable */
        SSL_CTX_set1_cert_store(ctx, store);
    }
    if (t->n_cells == CURL_TLS_MAX_CELLS)
        return CURLE_OK; /* more connections than cells: this one goes unwatched */
    struct curl_tls_cell *cell = xcalloc(1, sizeof(*cell));
    cell->t = t;
    atomic_init(&cell->refs, 2); /* the SSL_CTX and the run */
    if (!SSL_CTX_set_ex_data(ctx, g_ssl_idx, cell)) {
        free(cell);
        return CURLE_OK;
    }
    t->cells[t->n_cells++] = cell;
    SSL_CTX_set_verify(ctx, SSL_CTX_get_verify_mode(ctx), verify_cb);
    return CURLE_OK;
}

CURLcode curl_tls_setopt(struct curl_tls *t, CURL *e, const struct tls_spec *spec)
{
    t->spec = spec;
    CURLcode cc = CURLE_OK;
#define OPT(opt, val)                                                                              \
    do {                                                                                           \
        if (cc == CURLE_OK)                                                                        \
            cc = curl_easy_setopt(e, opt, val);                                                    \
    } while (0)
    OPT(CURLOPT_SSL_VERIFYPEER, spec->insecure_skip_verify ? 0L : 1L);
    OPT(CURLOPT_SSL_VERIFYHOST, spec->insecure_skip_verify ? 0L : 2L);
    /* No CA file or directory for libcurl, and no cache of its own (which
     * would put its store in place of ours): on_ssl_ctx installs the
     * check's store. */
    OPT(CURLOPT_CAINFO, (char *)NULL);
    OPT(CURLOPT_CAPATH, (char *)NULL);
    OPT(CURLOPT_CA_CACHE_TIMEOUT, 0L);
    if (spec->cert_file)
        OPT(CURLOPT_SSLCERT, spec->cert_file);
    if (spec->key_file)
        OPT(CURLOPT_SSLKEY, spec->key_file);
    OPT(CURLOPT_SSL_CTX_FUNCTION, on_ssl_ctx);
    OPT(CURLOPT_SSL_CTX_DATA, t);
#undef OPT
    return cc;
}

enum op_rc curl_tls_server_name(const char *url, const char *name, char **url_out,
                                struct curl_slist **connect_to)
{
    enum op_rc rc = OP_ERR_INVALID;
    char *host = NULL, *port = NULL, *next = NULL;
    CURLU *u = curl_url();
    if (!u)
        return OP_ERR_SYSTEM;
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK ||
        curl_url_set(u, CURLUPART_HOST, name, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_URL, &next, 0) != CURLUE_OK)
        goto out;
    struct buf b;
    buf_init(&b, 4096);
    buf_addf(&b, "%s:%s:%s:%s", name, port, host, port);
    /* libcurl copies the entry into its list. */
    struct curl_slist *l = b.failed ? NULL : curl_slist_append(NULL, buf_str(&b));
    buf_free(&b);
    if (!l) {
        rc = OP_ERR_SYSTEM;
        goto out;
    }
    *connect_to = l;
    *url_out = xstrdup(next);
    rc = OP_OK;
out:
    curl_free(host);
    curl_free(port);
    curl_free(next);
    curl_url_cleanup(u);
    return rc;
}

void curl_tls_release(struct curl_tls *t)
{
    for (size_t i = 0; i < t->n_cells; i++) {
        t->cells[i]->t = NULL;
        cell_release(t->cells[i]);
    }
    t->n_cells = 0;
}
