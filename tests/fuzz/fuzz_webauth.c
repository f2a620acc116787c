/* libFuzzer target: what a client or an operator hands the endpoints'
 * security: the Authorization header (from any HTTP client), the bearer
 * tokens file and the web config (from the operator). The first byte picks
 * the parser. */
#include "webauth.h"
#include "webcfg.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    char *s = malloc(size);
    if (!s)
        return 0;
    memcpy(s, data + 1, size - 1);
    s[size - 1] = '\0';
    struct buf err;
    buf_init(&err, 1u << 20);
    switch (data[0] % 3) {
    case 0: {
        struct webauth_credentials c;
        enum webauth_scheme sc = webauth_parse_header(s, &c);
        if (sc == WEBAUTH_SCHEME_BASIC && (!c.user || !c.password))
            abort();
        if (sc == WEBAUTH_SCHEME_BEARER && (!c.token || c.token_len == 0))
            abort();
        webauth_credentials_wipe(&c);
        break;
    }
    case 1: {
        struct webauth_tokens *t = NULL;
        if (webauth_tokens_parse(s, size - 1, "tokens", &t, &err) == OP_OK) {
            if (webauth_tokens_count(t) == 0)
                abort();
            webauth_tokens_free(t);
        } else if (!err.failed && err.len == 0) {
            abort(); /* a refusal always says why */
        }
        break;
    }
    default: {
        struct webcfg *c = NULL;
        if (webcfg_load_string(s, size - 1, "web.yml", &c, &err) == OP_OK)
            webcfg_free(c);
        else if (!err.failed && err.len == 0)
            abort();
        break;
    }
    }
    buf_free(&err);
    free(s);
    return 0;
}
