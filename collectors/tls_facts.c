/* tls_facts.c - TLS session facts in the words every type reports them. */
#include "tls_facts.h"

#include <openssl/ssl.h>
#include <time.h>

const char *tls_version_label(int v)
{
    switch (v) {
    case TLS1_VERSION:
        return "TLS 1.0";
    case TLS1_1_VERSION:
        return "TLS 1.1";
    case TLS1_2_VERSION:
        return "TLS 1.2";
    case TLS1_3_VERSION:
        return "TLS 1.3";
    default:
        return "unknown";
    }
}

void tls_note_expiry(double *earliest, const X509 *cert)
{
    struct tm tm;
    const ASN1_TIME *a = cert ? X509_get0_notAfter(cert) : NULL;
    if (!a || !ASN1_TIME_to_tm(a, &tm))
        return;
    double exp = (double)timegm(&tm);
    if (exp > 0 && (*earliest == 0 || exp < *earliest))
        *earliest = exp;
}
