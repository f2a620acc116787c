/* libFuzzer target: a DNS reply from any resolver (dns_rr.c): the walk over
 * its records, their text, and the judging of its sections. */
#include "dns_check.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct dns_expect expect;

static void add(enum dns_section s, enum dns_match m, const char *pattern)
{
    int err;
    PCRE2_SIZE off;
    struct dns_patterns *p = &expect.pat[s][m];
    p->re = realloc(p->re, (p->n + 1) * sizeof(*p->re));
    if (!p->re)
        abort();
    p->re[p->n].pattern = (char *)pattern;
    p->re[p->n].code =
        pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, 0, &err, &off, NULL);
    if (!p->re[p->n].code)
        abort();
    p->n++;
}

static void setup(void)
{
    expect.rcodes = 1 | (1 << 3);
    expect.min_answers = 1;
    add(DNS_SEC_ANSWER, DNS_MATCH, "\\tIN\\tA\\t");
    add(DNS_SEC_ANSWER, DNS_NOT_MATCH, "^evil\\.");
    add(DNS_SEC_ANSWER, DNS_ALL_MATCH, "\\.\\t[0-9]+\\t");
    add(DNS_SEC_AUTHORITY, DNS_NOT_ALL_MATCH, "SOA");
    add(DNS_SEC_ADDITIONAL, DNS_MATCH, ".");
}

/* Every record's text: NUL-terminated at len, within the cap, no control
 * character but the four tabs of the header and none in the data. */
static bool check_rr(const struct dns_rr *rr, void *arg)
{
    (void)arg;
    if (rr->len > DNS_MAX_RR_TEXT || rr->text[rr->len] != '\0' || strlen(rr->text) != rr->len)
        abort();
    unsigned tabs = 0;
    for (size_t i = 0; i < rr->len; i++) {
        unsigned char c = (unsigned char)rr->text[i];
        if (c == '\t')
            tabs++;
        else if (c < 0x20 || c > 0x7e)
            abort();
    }
    if (tabs != 4)
        abort();
    return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!expect.rcodes)
        setup();
    struct dns_reply_info info;
    char dbuf[CHECK_DETAIL_MAX];
    struct detail d;
    detail_init(&d, dbuf, sizeof(dbuf));
    enum op_rc rc = dns_reply_walk(data, size, &info, check_rr, NULL, &d);
    if (rc != OP_OK && rc != OP_ERR_INVALID && rc != OP_ERR_LIMIT)
        abort();
    if (rc != OP_OK && !dbuf[0])
        abort(); /* every refusal says why */
    detail_init(&d, dbuf, sizeof(dbuf));
    enum check_reason r = dns_judge(&expect, data, size, &info, &d);
    if (r != CHECK_REASON_NONE && r != CHECK_REASON_DNS_RCODE && r != CHECK_REASON_DNS_ANSWER &&
        r != CHECK_REASON_OTHER)
        abort();
    if ((r == CHECK_REASON_NONE) != (dbuf[0] == '\0'))
        abort();
    if (r == CHECK_REASON_OTHER && rc == OP_OK)
        abort();
    return 0;
}
