/* webtls.c - GnuTLS credentials for the HTTPS listeners (webtls.h). */
#include "webtls.h"
#include "log.h"
#include "webauth.h"

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

struct webtls {
    atomic_int refs;
    gnutls_certificate_credentials_t cred;
    gnutls_priority_t prio;
    enum webtls_client_auth client_auth;
    enum webtls_version min_version;
};

static const char *const auth_names[] = {
    [WEBTLS_NO_CLIENT_CERT] = "NoClientCert",
    [WEBTLS_REQUEST_CLIENT_CERT] = "RequestClientCert",
    [WEBTLS_REQUIRE_ANY_CLIENT_CERT] = "RequireAnyClientCert",
    [WEBTLS_VERIFY_CLIENT_CERT_IF_GIVEN] = "VerifyClientCertIfGiven",
    [WEBTLS_REQUIRE_AND_VERIFY_CLIENT_CERT] = "RequireAndVerifyClientCert",
};

const char *webtls_client_auth_name(enum webtls_client_auth a)
{
    return auth_names[a];
}

const char *webtls_version_name(enum webtls_version v)
{
    return v == WEBTLS_TLS13 ? "TLS13" : "TLS12";
}

enum webtls_client_auth webtls_client_auth(const struct webtls *t)
{
    return t->client_auth;
}

enum webtls_version webtls_min_version(const struct webtls *t)
{
    return t->min_version;
}

/* Read a PEM file into b; on error why says so. */
static bool read_pem(const char *path, struct buf *b, struct buf *why)
{
    const char *reason = NULL;
    enum op_rc rc = webauth_read_file(path, WEBTLS_MAX_PEM_BYTES, b, &reason);
    if (rc == OP_ERR_LIMIT)
        buf_addf(why, "%s is larger than %u bytes", path, WEBTLS_MAX_PEM_BYTES);
    else if (rc != OP_OK)
        buf_addf(why, "cannot read %s: %s", path, reason);
    return rc == OP_OK;
}

static gnutls_datum_t datum(struct buf *b)
{
    return (gnutls_datum_t){(unsigned char *)(b->data ? b->data : ""), (unsigned int)b->len};
}

enum op_rc webtls_new(const struct webtls_settings *s, struct webtls **out, struct buf *why,
                      enum webtls_culprit *culprit)
{
    struct webtls *t = xcalloc(1, sizeof(*t));
    atomic_init(&t->refs, 1);
    t->client_auth = s->client_auth;
    t->min_version = s->min_version;
    struct buf cert, key, ca;
    buf_init(&cert, WEBTLS_MAX_PEM_BYTES);
    buf_init(&key, WEBTLS_MAX_PEM_BYTES);
    buf_init(&ca, WEBTLS_MAX_PEM_BYTES);
    enum op_rc rc = OP_ERR_INVALID;
    *culprit = WEBTLS_CULPRIT_CERT;
    if (!read_pem(s->cert_file, &cert, why))
        goto out;
    *culprit = WEBTLS_CULPRIT_KEY;
    if (!read_pem(s->key_file, &key, why))
        goto out;
    if (gnutls_certificate_allocate_credentials(&t->cred) != GNUTLS_E_SUCCESS) {
        t->cred = NULL;
        buf_adds(why, "cannot allocate TLS credentials");
        goto out;
    }
    /* GnuTLS checks that the key belongs to the certificate. */
    gnutls_datum_t dc = datum(&cert), dk = datum(&key);
    int g = gnutls_certificate_set_x509_key_mem2(t->cred, &dc, &dk, GNUTLS_X509_FMT_PEM, NULL, 0);
    if (g < 0) {
        *culprit = WEBTLS_CULPRIT_CERT;
        buf_addf(why, "%s and %s are not a PEM certificate and its unencrypted key: %s",
                 s->cert_file, s->key_file, gnutls_strerror(g));
        goto out;
    }
    if (s->client_ca_file) {
        *culprit = WEBTLS_CULPRIT_CA;
        if (!read_pem(s->client_ca_file, &ca, why))
            goto out;
        gnutls_datum_t da = datum(&ca);
        g = gnutls_certificate_set_x509_trust_mem(t->cred, &da, GNUTLS_X509_FMT_PEM);
        if (g <= 0) {
            buf_addf(why, "no PEM certificate in %s%s%s", s->client_ca_file, g < 0 ? ": " : "",
                     g < 0 ? gnutls_strerror(g) : "");
            goto out;
        }
    }
    /* Go's defaults for each minimum; GnuTLS picks the suites within them. */
    const char *prio = s->min_version == WEBTLS_TLS13
                           ? "NORMAL:-VERS-ALL:+VERS-TLS1.3"
                           : "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2";
    if (gnutls_priority_init(&t->prio, prio, NULL) != GNUTLS_E_SUCCESS) {
        t->prio = NULL;
        buf_adds(why, "GnuTLS refused the protocol versions");
        goto out;
    }
    rc = OP_OK;
    *out = t;
    t = NULL;
out:
    webauth_wipe(&key);
    buf_free(&cert);
    buf_free(&ca);
    webtls_unref(t);
    return rc;
}

void webtls_ref(struct webtls *t)
{
    atomic_fetch_add(&t->refs, 1);
}

void webtls_unref(struct webtls *t)
{
    if (!t || atomic_fetch_sub(&t->refs, 1) != 1)
        return;
    if (t->prio)
        gnutls_priority_deinit(t->prio);
    if (t->cred)
        gnutls_certificate_free_credentials(t->cred);
    free(t);
}

/* Called by GnuTLS once the client's certificate has arrived: 0 accepts,
 * anything else fails the handshake. The chain is checked against the
 * session's credentials (the client CAs), with the TLS client purpose. */
static int verify_client(gnutls_session_t s, bool required)
{
    unsigned int n = 0;
    if (!gnutls_certificate_get_peers(s, &n) || n == 0) {
        if (required)
            log_warn("TLS handshake refused", "reason", "no client certificate");
        return required ? -1 : 0;
    }
    unsigned int status = 0;
    gnutls_typed_vdata_st purpose = {.type = GNUTLS_DT_KEY_PURPOSE_OID,
                                     .data = (unsigned char *)GNUTLS_KP_TLS_WWW_CLIENT};
    int g = gnutls_certificate_verify_peers(s, &purpose, 1, &status);
    if (g >= 0 && status == 0)
        return 0;
    gnutls_datum_t text = {NULL, 0};
    if (g < 0 ||
        gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &text, 0) < 0)
        log_warn("TLS handshake refused", "reason", "client certificate not verified", "err",
                 g < 0 ? gnutls_strerror(g) : "");
    else {
        /* GnuTLS ends its sentences with a space. */
        size_t len = strlen((const char *)text.data);
        while (len && text.data[len - 1] == ' ')
            text.data[--len] = '\0';
        log_warn("TLS handshake refused", "reason", "client certificate not verified", "err",
                 (const char *)text.data);
    }
    gnutls_free(text.data);
    return -1;
}

static int verify_required(gnutls_session_t s)
{
    return verify_client(s, true);
}

static int verify_if_given(gnutls_session_t s)
{
    return verify_client(s, false);
}

enum op_rc webtls_session_setup(struct webtls *t, void *gnutls_session)
{
    gnutls_session_t s = gnutls_session;
    if (gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, t->cred) != GNUTLS_E_SUCCESS ||
        gnutls_priority_set(s, t->prio) != GNUTLS_E_SUCCESS)
        return OP_ERR_SYSTEM;
    switch (t->client_auth) {
    case WEBTLS_NO_CLIENT_CERT:
        gnutls_certificate_server_set_request(s, GNUTLS_CERT_IGNORE);
        break;
    case WEBTLS_REQUEST_CLIENT_CERT:
        gnutls_certificate_server_set_request(s, GNUTLS_CERT_REQUEST);
        break;
    case WEBTLS_REQUIRE_ANY_CLIENT_CERT:
        gnutls_certificate_server_set_request(s, GNUTLS_CERT_REQUIRE);
        break;
    case WEBTLS_VERIFY_CLIENT_CERT_IF_GIVEN:
        gnutls_certificate_server_set_request(s, GNUTLS_CERT_REQUEST);
        gnutls_session_set_verify_function(s, verify_if_given);
        break;
    case WEBTLS_REQUIRE_AND_VERIFY_CLIENT_CERT:
        gnutls_certificate_server_set_request(s, GNUTLS_CERT_REQUIRE);
        gnutls_session_set_verify_function(s, verify_required);
        break;
    }
    return OP_OK;
}
