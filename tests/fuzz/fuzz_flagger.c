/* libFuzzer target: the body Flagger POSTs to /gates/flagger/<canary>, from
 * any client that reaches the port, before any credential is checked (its
 * metadata.token is the credential). Parsed as httpd.c parses it, then the
 * token lookup and the body checks. A body the checks accept carries a
 * checksum the canary state can hold; one they refuse says why. */
#include "canary_state.h"
#include "common.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The gate's cap on the body (HTTPD_MAX_GATE_BODY in httpd.c). */
#define GATE_MAX_BODY (64u << 10)

/* File-local in httpd.c; reachable in OUTPOST_TESTING builds (STATIC). */
const char *flagger_body(json_t *root, const char **checksum);
const char *flagger_token(json_t *root);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0 || size > GATE_MAX_BODY)
        return 0; /* the gate answers these before parsing */
    json_error_t jerr;
    json_t *root = json_loadb((const char *)data, size, 0, &jerr);
    if (!root)
        return 0;
    const char *token = flagger_token(root);
    if (token && !json_is_object(root))
        abort();
    const char *checksum = (const char *)1;
    const char *bad = flagger_body(root, &checksum);
    if (bad) {
        if (!*bad)
            abort();
    } else {
        if (!json_is_object(root))
            abort();
        if (checksum && strlen(checksum) >= CANARY_MAX_CHECKSUM)
            abort();
        /* Accepted: whatever metadata holds is strings, so a token key
         * present is the token found. */
        json_t *md = json_object_get(root, "metadata");
        if (json_is_object(md) && json_object_get(md, "token") && !token)
            abort();
    }
    json_decref(root);
    return 0;
}
