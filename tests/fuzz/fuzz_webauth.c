/* libFuzzer target: what a client or an operator hands the endpoints'
 * security: the Authorization header (from any HTTP client), the bearer
 * tokens file, the web config and the --web.rate-limit value (from the
 * operator). The first byte picks the parser. What the agent does next with
 * a result runs too: a bearer token is looked up in a tokens set, a web
 * config's users become the table websec.c builds. */
#include "ratelimit.h"
#include "webauth.h"
#include "webcfg.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The token the header mode's bearer credentials are compared with. */
static struct webauth_tokens *g_tokens;

static void header(const char *s)
{
    if (!g_tokens) {
        static const char file[] = "# fuzz\ns3cr3t-t0ken~+/=\n";
        struct buf e;
        buf_init(&e, 4096);
        if (webauth_tokens_parse(file, sizeof(file) - 1, "tokens", &g_tokens, &e) != OP_OK)
            abort();
        buf_free(&e);
    }
    struct webauth_credentials c;
    enum webauth_scheme sc = webauth_parse_header(s, &c);
    if (sc == WEBAUTH_SCHEME_BASIC && (!c.user || !c.password))
        abort();
    if (sc == WEBAUTH_SCHEME_BEARER) {
        if (!c.token || c.token_len == 0)
            abort();
        bool ok = webauth_token_ok(g_tokens, c.token, c.token_len);
        if (ok != (c.token_len == 16 && memcmp(c.token, "s3cr3t-t0ken~+/=", 16) == 0))
            abort();
    }
    webauth_credentials_wipe(&c);
}

static void tokens(const char *s, size_t len, struct buf *err)
{
    struct webauth_tokens *t = NULL;
    if (webauth_tokens_parse(s, len, "tokens", &t, err) == OP_OK) {
        if (webauth_tokens_count(t) == 0 || webauth_tokens_count(t) > WEBAUTH_MAX_TOKENS)
            abort();
        webauth_tokens_free(t);
    } else if (!err->failed && err->len == 0) {
        abort(); /* a refusal always says why */
    }
}

static void web_config(const char *s, size_t len, struct buf *err)
{
    struct webcfg *c = NULL;
    if (webcfg_load_string(s, len, "web.yml", &c, err) == OP_OK) {
        if (c->n_users > WEBCFG_MAX_USERS || c->n_headers > WEBCFG_MAX_HEADERS)
            abort();
        if (c->n_users) {
            struct webauth_users *u =
                webauth_users_new((const char *const *)c->user_names,
                                  (const char *const *)c->user_hashes, c->n_users);
            webauth_users_free(u);
        }
        webcfg_free(c);
    } else if (!err->failed && err->len == 0) {
        abort();
    }
}

static void rate_limit(const char *s)
{
    uint32_t n;
    int64_t ms;
    if (rl_parse(s, &n, &ms) == OP_OK &&
        (n < 1 || n > RL_MAX_REQUESTS || ms < RL_MIN_PERIOD_MS || ms > RL_MAX_PERIOD_MS))
        abort();
}

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
    switch (data[0] % 4) {
    case 0:
        header(s);
        break;
    case 1:
        tokens(s, size - 1, &err);
        break;
    case 2:
        web_config(s, size - 1, &err);
        break;
    default:
        rate_limit(s);
        break;
    }
    buf_free(&err);
    free(s);
    return 0;
}
