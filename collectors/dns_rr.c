/*
 * dns_rr.c - reading a DNS reply: the header, every record of the answer,
 * authority and additional sections written as text, and the judgement of
 * those texts against a check's expectations.
 *
 * The text of a record is what blackbox_exporter's patterns have always
 * been matched against, Go miekg/dns RR.String(): "name.\tTTL\tCLASS\tTYPE\t"
 * and the type's presentation form. Users move patterns over from
 * blackbox_exporter, so this file follows miekg's spelling byte for byte for
 * the types it decodes (A, AAAA, NS, CNAME, DNAME, PTR, MX, TXT, SPF, SOA,
 * SRV); other types are written in RFC 3597's generic form, as miekg writes
 * types it does not know. Names are expanded by c-ares (compression,
 * loops, bounds), then escaped as miekg escapes them.
 */
#include "dns_check.h"

#include <ares.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HDR_LEN 12

static const char *const rcode_names[16] = {
    "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET",
    "NXRRSET", "NOTAUTH", "NOTZONE",  NULL,       NULL,     NULL,      NULL,       NULL,
};

const char *dns_rcode_name(int r)
{
    return r >= 0 && r < 16 ? rcode_names[r] : NULL;
}

static const char *const section_names[DNS_SEC_COUNT] = {"answer", "authority", "additional"};
static const char *const key_prefix[DNS_SEC_COUNT] = {"answers", "authority", "additional"};
static const char *const key_suffix[DNS_MATCH_COUNT] = {"_match", "_not_match", "_all_match",
                                                        "_not_all_match"};

const char *dns_pattern_key(enum dns_section s, enum dns_match m)
{
    static char keys[DNS_SEC_COUNT][DNS_MATCH_COUNT][32];
    if (!keys[s][m][0])
        snprintf(keys[s][m], sizeof(keys[s][m]), "%s%s", key_prefix[s], key_suffix[m]);
    return keys[s][m];
}

/* ---- names and numbers of types and classes, as miekg spells them ---- */

static const struct {
    uint16_t num;
    const char *name;
} type_table[] = {
    {1, "A"},     {2, "NS"},    {5, "CNAME"},  {6, "SOA"},   {12, "PTR"},    {13, "HINFO"},
    {15, "MX"},   {16, "TXT"},  {28, "AAAA"},  {33, "SRV"},  {35, "NAPTR"},  {39, "DNAME"},
    {41, "OPT"},  {43, "DS"},   {46, "RRSIG"}, {47, "NSEC"}, {48, "DNSKEY"}, {50, "NSEC3"},
    {52, "TLSA"}, {64, "SVCB"}, {65, "HTTPS"}, {99, "SPF"},  {255, "ANY"},   {257, "CAA"},
};

static uint16_t rd16(const unsigned char *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t rd32(const unsigned char *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static const char *type_name(uint16_t t)
{
    for (size_t i = 0; i < ARRAY_SIZE(type_table); i++)
        if (type_table[i].num == t)
            return type_table[i].name;
    return NULL;
}

static const char *class_name(uint16_t c)
{
    switch (c) {
    case 1:
        return "IN";
    case 2:
        return "CS";
    case 3:
        return "CH";
    case 4:
        return "HS";
    case 254:
        return "NONE";
    case 255:
        return "ANY";
    default:
        return NULL;
    }
}

/* ---- pieces of the text ---- */

/* The \DDD form of a byte, as miekg's escapeByte. */
static void add_ddd(struct buf *b, unsigned char c)
{
    buf_addf(b, "\\%03u", (unsigned)c);
}

/*
 * The name at p (inside the reply buf/len) into b, fully qualified, escaped
 * as miekg's sprintName: c-ares already wrote '.' and '\\' inside labels as
 * "\." and "\\" and unprintable bytes as \DDD; miekg also escapes the
 * characters that are special in zone files. *used: the bytes the name
 * takes at p. False when c-ares refuses the name.
 */
static bool add_name(struct buf *b, const unsigned char *p, const unsigned char *buf, size_t len,
                     long *used)
{
    char *s = NULL;
    if (ares_expand_name(p, buf, (int)len, &s, used) != ARES_SUCCESS)
        return false;
    for (const char *q = s; *q; q++) {
        if (*q == '\\') {
            /* An escape c-ares wrote: copied as it is (\DDD or \c). */
            size_t n = (q[1] >= '0' && q[1] <= '9') ? 4 : 2;
            for (size_t i = 0; i < n && q[0]; i++, q++)
                buf_addc(b, *q);
            q--;
            continue;
        }
        if (strchr(" '@;()\"", *q))
            buf_addc(b, '\\');
        buf_addc(b, *q);
    }
    buf_addc(b, '.');
    ares_free_string(s);
    return true;
}

/* One character-string (RFC 1035 <character-string>) at p, quoted as
 * miekg's sprintTxt writes it. *used: its bytes. c-ares checks the length
 * against the reply; the bytes are read from the reply itself, since
 * ares_expand_string's copy stops at a NUL byte. */
static bool add_string(struct buf *b, const unsigned char *p, const unsigned char *buf, size_t len,
                       long *used)
{
    unsigned char *s = NULL;
    if (ares_expand_string(p, buf, (int)len, &s, used) != ARES_SUCCESS)
        return false;
    ares_free_string(s);
    buf_addc(b, '"');
    for (long i = 1; i < *used; i++) {
        unsigned char c = p[i];
        if (c == '"' || c == '\\') {
            buf_addc(b, '\\');
            buf_addc(b, (char)c);
        } else if (c < ' ' || c > '~') {
            add_ddd(b, c);
        } else {
            buf_addc(b, (char)c);
        }
    }
    buf_addc(b, '"');
    return true;
}

/* An IPv6 address as Go's net.IP.String() writes it: lowercase hex groups
 * without leading zeros, the longest run of two or more zero groups (the
 * first of equals) as "::". An IPv4-mapped address is "::ffff:" and the
 * dotted quad, as miekg's AAAA.String(). */
static void add_ipv6(struct buf *b, const unsigned char *a)
{
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (memcmp(a, mapped, 12) == 0) {
        buf_addf(b, "::ffff:%u.%u.%u.%u", a[12], a[13], a[14], a[15]);
        return;
    }
    int best = -1, best_len = 0;
    for (int i = 0; i < 8;) {
        if (rd16(a + 2 * i) != 0) {
            i++;
            continue;
        }
        int j = i;
        while (j < 8 && rd16(a + 2 * j) == 0)
            j++;
        if (j - i > best_len && j - i >= 2) {
            best = i;
            best_len = j - i;
        }
        i = j;
    }
    for (int i = 0; i < 8; i++) {
        if (i == best) {
            buf_adds(b, "::");
            i += best_len - 1;
            continue;
        }
        if (i > 0 && i != best + best_len)
            buf_addc(b, ':');
        buf_addf(b, "%x", rd16(a + 2 * i));
    }
}

/* RFC 3597's generic form of the whole record, as miekg writes a type it
 * does not know: the header with CLASSn and TYPEn, then \# LEN HEX. */
static void add_generic(struct buf *b, const char *owner, uint32_t ttl, uint16_t rclass,
                        uint16_t type, const unsigned char *rd, size_t rdlen)
{
    buf_reset(b);
    buf_addf(b, "%s\t%u\tCLASS%u\tTYPE%u\t\\# %zu", owner, (unsigned)ttl, (unsigned)rclass,
             (unsigned)type, rdlen);
    if (rdlen)
        buf_addc(b, ' ');
    for (size_t i = 0; i < rdlen; i++)
        buf_addf(b, "%02x", rd[i]);
}

/*
 * The RDATA of one record (rd, rdlen bytes inside the reply) after the
 * header already in b. False when it is malformed for its type (*why
 * static). Names inside RDATA may point anywhere in the reply (compression)
 * but must end inside the RDATA.
 */
static bool add_rdata(struct buf *b, uint16_t type, const unsigned char *rd, size_t rdlen,
                      const unsigned char *buf, size_t len, const char **why)
{
    long used = 0;
    size_t off = 0;
    switch (type) {
    case 1: /* A */
        if (rdlen != 4)
            goto bad_len;
        buf_addf(b, "%u.%u.%u.%u", rd[0], rd[1], rd[2], rd[3]);
        return true;
    case 28: /* AAAA */
        if (rdlen != 16)
            goto bad_len;
        add_ipv6(b, rd);
        return true;
    case 2:  /* NS */
    case 5:  /* CNAME */
    case 12: /* PTR */
    case 39: /* DNAME */
        if (!add_name(b, rd, buf, len, &used))
            goto bad_name;
        off = (size_t)used;
        break;
    case 15: /* MX */
        if (rdlen < 3)
            goto bad_len;
        buf_addf(b, "%u ", rd16(rd));
        if (!add_name(b, rd + 2, buf, len, &used))
            goto bad_name;
        off = 2 + (size_t)used;
        break;
    case 33: /* SRV */
        if (rdlen < 7)
            goto bad_len;
        buf_addf(b, "%u %u %u ", rd16(rd), rd16(rd + 2), rd16(rd + 4));
        if (!add_name(b, rd + 6, buf, len, &used))
            goto bad_name;
        off = 6 + (size_t)used;
        break;
    case 6: /* SOA */
        if (!add_name(b, rd, buf, len, &used))
            goto bad_name;
        off = (size_t)used;
        buf_addc(b, ' ');
        if (off >= rdlen || !add_name(b, rd + off, buf, len, &used))
            goto bad_name;
        off += (size_t)used;
        if (off + 20 > rdlen)
            goto bad_len;
        buf_addf(b, " %u %u %u %u %u", rd32(rd + off), rd32(rd + off + 4), rd32(rd + off + 8),
                 rd32(rd + off + 12), rd32(rd + off + 16));
        off += 20;
        break;
    case 16: /* TXT */
    case 99: /* SPF */
        if (rdlen == 0)
            goto bad_len;
        while (off < rdlen) {
            if (off > 0)
                buf_addc(b, ' ');
            if (!add_string(b, rd + off, buf, len, &used) || off + (size_t)used > rdlen)
                goto bad_string;
            off += (size_t)used;
        }
        break;
    default:
        return true; /* the caller writes the generic form */
    }
    if (off != rdlen) {
        *why = "record data longer or shorter than its fields";
        return false;
    }
    return true;
bad_len:
    *why = "record data of the wrong length for its type";
    return false;
bad_name:
    *why = "bad domain name in record data";
    return false;
bad_string:
    *why = "bad character-string in record data";
    return false;
}

static bool decoded(uint16_t type)
{
    switch (type) {
    case 1:
    case 2:
    case 5:
    case 6:
    case 12:
    case 15:
    case 16:
    case 28:
    case 33:
    case 39:
    case 99:
        return true;
    default:
        return false;
    }
}

/* ---- the walk ---- */

static enum op_rc malformed(struct detail *d, const char *why, enum dns_section s, unsigned i)
{
    if (d)
        detail_addf(d, "malformed reply: %s (%s record %u)", why, section_names[s], i + 1);
    return OP_ERR_INVALID;
}

enum op_rc dns_reply_walk(const unsigned char *buf, size_t len, struct dns_reply_info *info,
                          dns_rr_cb cb, void *arg, struct detail *d)
{
    memset(info, 0, sizeof(*info));
    info->rcode = -1;
    if (len < HDR_LEN || len > DNS_MAX_REPLY_BYTES) {
        if (d)
            detail_addf(d, "malformed reply: %zu bytes", len);
        return OP_ERR_INVALID;
    }
    unsigned qd = rd16(buf + 4);
    for (int s = 0; s < DNS_SEC_COUNT; s++)
        info->count[s] = rd16(buf + 6 + 2 * s);
    info->rcode = buf[3] & 0x0f;
    info->truncated = (buf[2] & 0x02) != 0;
    size_t off = HDR_LEN;
    enum op_rc rc = OP_OK;
    struct buf owner, text;
    buf_init(&owner, DNS_MAX_RR_TEXT);
    buf_init(&text, DNS_MAX_RR_TEXT + 1);
    for (unsigned i = 0; i < qd; i++) {
        char *s = NULL;
        long used;
        if (ares_expand_name(buf + off, buf, (int)len, &s, &used) != ARES_SUCCESS) {
            rc = d ? (detail_add(d, "malformed reply: bad question name"), OP_ERR_INVALID)
                   : OP_ERR_INVALID;
            goto out;
        }
        ares_free_string(s);
        off += (size_t)used;
        if (off + 4 > len) {
            if (d)
                detail_add(d, "malformed reply: question cut short");
            rc = OP_ERR_INVALID;
            goto out;
        }
        off += 4;
    }
    for (int sec = 0; sec < DNS_SEC_COUNT; sec++) {
        for (unsigned i = 0; i < info->count[sec]; i++) {
            const char *why = NULL;
            long used;
            buf_reset(&owner);
            if (off >= len || !add_name(&owner, buf + off, buf, len, &used)) {
                rc = malformed(d, "bad owner name", (enum dns_section)sec, i);
                goto out;
            }
            off += (size_t)used;
            if (off + 10 > len) {
                rc = malformed(d, "record header cut short", (enum dns_section)sec, i);
                goto out;
            }
            uint16_t type = rd16(buf + off), rclass = rd16(buf + off + 2);
            uint32_t ttl = rd32(buf + off + 4);
            size_t rdlen = rd16(buf + off + 8);
            off += 10;
            if (off + rdlen > len) {
                rc = malformed(d, "record data cut short", (enum dns_section)sec, i);
                goto out;
            }
            const unsigned char *rdata = buf + off;
            off += rdlen;
            const char *tn = type_name(type), *cn = class_name(rclass);
            buf_reset(&text);
            if (decoded(type) && cn) {
                buf_addf(&text, "%s\t%u\t%s\t%s\t", buf_str(&owner), (unsigned)ttl, cn, tn);
                if (!add_rdata(&text, type, rdata, rdlen, buf, len, &why)) {
                    rc = malformed(d, why, (enum dns_section)sec, i);
                    goto out;
                }
            } else {
                add_generic(&text, buf_str(&owner), ttl, rclass, type, rdata, rdlen);
            }
            if (owner.failed || text.failed || text.len > DNS_MAX_RR_TEXT) {
                if (d)
                    detail_addf(d, "%s record %u: text longer than %u bytes", section_names[sec],
                                i + 1, DNS_MAX_RR_TEXT);
                rc = OP_ERR_LIMIT;
                goto out;
            }
            if (sec == DNS_SEC_ANSWER && type == 6) {
                /* The serial follows the two names: the last 20 bytes
                 * hold serial, refresh, retry, expire, minimum. */
                info->has_soa = true;
                info->serial = rd32(rdata + rdlen - 20);
            }
            struct dns_rr rr = {(enum dns_section)sec, type, rclass, ttl, buf_str(&text), text.len};
            if (cb && !cb(&rr, arg))
                goto out;
        }
    }
out:
    buf_free(&owner);
    buf_free(&text);
    return rc;
}

/* ---- judging ---- */

/* What the walk carries from record to record while judging. */
struct judge {
    const struct dns_expect *e;
    const struct dns_reply_info *info;
    struct detail *d;
    bool failed;
    int next_sec; /* the first section whose end rules have not run */
    bool any_match[DNS_SEC_COUNT];
    bool all_match[DNS_SEC_COUNT];
};

/* Tabs of a record's text as spaces: a detail shows no control characters. */
static void detail_rr(struct detail *d, const struct dns_rr *rr)
{
    char shown[DETAIL_MAX_VALUE + 1];
    size_t n = rr->len < DETAIL_MAX_VALUE ? rr->len : DETAIL_MAX_VALUE;
    for (size_t i = 0; i < n; i++)
        shown[i] = rr->text[i] == '\t' ? ' ' : rr->text[i];
    detail_add(d, "\"");
    detail_value(d, shown, n);
    if (n < rr->len)
        detail_add(d, "...");
    detail_add(d, "\"");
}

/* 1: re matches the record, 0: it does not; a PCRE2 error (a match limit)
 * fails the check with its own detail (-1). */
static int match(struct judge *j, const struct dns_rr *rr, const struct regex *re, enum dns_match m)
{
    size_t st, gl;
    int rc = http_regex_find(re, rr->text, rr->len, 0, &st, &gl);
    if (rc >= 0)
        return rc > 0;
    if (j->d) {
        detail_addf(j->d, "%s pattern \"", dns_pattern_key(rr->section, m));
        detail_value(j->d, re->pattern, strlen(re->pattern));
        detail_addf(j->d, "\" could not be matched (PCRE2 error %d)", rc);
    }
    return -1;
}

static bool section_ok(struct judge *j, enum dns_section s, unsigned count);

static bool judge_rr(const struct dns_rr *rr, void *arg)
{
    struct judge *j = arg;
    /* The sections before this record's are complete: their end rules
     * run now, so failures come in blackbox_exporter's order. */
    for (; j->next_sec < (int)rr->section; j->next_sec++)
        if (!section_ok(j, (enum dns_section)j->next_sec, j->info->count[j->next_sec]))
            goto fail;
    const struct dns_patterns *p = j->e->pat[rr->section];
    for (int m = 0; m < DNS_MATCH_COUNT; m++) {
        for (size_t k = 0; k < p[m].n; k++) {
            int r = match(j, rr, &p[m].re[k], (enum dns_match)m);
            if (r < 0)
                goto fail;
            if (m == DNS_MATCH && r)
                j->any_match[rr->section] = true;
            if (m == DNS_NOT_ALL_MATCH && !r)
                j->all_match[rr->section] = false;
            if ((m == DNS_NOT_MATCH && r) || (m == DNS_ALL_MATCH && !r)) {
                if (j->d) {
                    detail_addf(j->d, "%s record ", section_names[rr->section]);
                    detail_rr(j->d, rr);
                    detail_addf(j->d,
                                m == DNS_NOT_MATCH ? " matches %s \"" : " does not match %s \"",
                                dns_pattern_key(rr->section, (enum dns_match)m));
                    detail_value(j->d, p[m].re[k].pattern, strlen(p[m].re[k].pattern));
                    detail_add(j->d, "\"");
                }
                goto fail;
            }
        }
    }
    return true;
fail:
    j->failed = true;
    return false;
}

/* The rules decided at the end of a section (blackbox_exporter's checks
 * after its loop, and its two checks of an empty section first). */
static bool section_ok(struct judge *j, enum dns_section s, unsigned count)
{
    const struct dns_patterns *p = j->e->pat[s];
    struct detail *d = j->d;
    const char *sec = section_names[s];
    if (count == 0 && (p[DNS_ALL_MATCH].n || p[DNS_MATCH].n)) {
        if (d)
            detail_addf(d, "no %s records, but %s is set", sec,
                        dns_pattern_key(s, p[DNS_ALL_MATCH].n ? DNS_ALL_MATCH : DNS_MATCH));
        return false;
    }
    if (p[DNS_NOT_ALL_MATCH].n && !j->all_match[s]) {
        if (d)
            detail_addf(d, "not every %s record matches every %s pattern", sec,
                        dns_pattern_key(s, DNS_NOT_ALL_MATCH));
        return false;
    }
    if (p[DNS_MATCH].n && !j->any_match[s]) {
        if (d)
            detail_addf(d, "no %s record matches any %s pattern", sec,
                        dns_pattern_key(s, DNS_MATCH));
        return false;
    }
    return true;
}

static void detail_rcodes(struct detail *d, uint16_t allowed)
{
    const char *sep = "";
    for (int r = 0; r < 16; r++) {
        if (!(allowed & (1u << r)))
            continue;
        const char *n = dns_rcode_name(r);
        if (n)
            detail_addf(d, "%s%s", sep, n);
        else
            detail_addf(d, "%s%d", sep, r);
        sep = ", ";
    }
}

enum check_reason dns_judge(const struct dns_expect *e, const unsigned char *buf, size_t len,
                            struct dns_reply_info *info, struct detail *d)
{
    /* The header first: a wrong rcode is reported as such even when the
     * records that follow are malformed (blackbox_exporter's order). */
    struct judge j = {.e = e, .info = info, .d = d};
    for (int s = 0; s < DNS_SEC_COUNT; s++)
        j.all_match[s] = true;
    enum op_rc rc = dns_reply_walk(buf, len, info, NULL, NULL, NULL);
    if (info->rcode >= 0 && !(e->rcodes & (1u << info->rcode))) {
        if (d) {
            const char *n = dns_rcode_name(info->rcode);
            if (n)
                detail_addf(d, "rcode %s, expected ", n);
            else
                detail_addf(d, "rcode %d, expected ", info->rcode);
            detail_rcodes(d, e->rcodes);
        }
        return CHECK_REASON_DNS_RCODE;
    }
    if (rc != OP_OK) {
        /* Again, for the why. */
        if (dns_reply_walk(buf, len, info, NULL, NULL, d) != OP_OK)
            return CHECK_REASON_OTHER;
        return CHECK_REASON_OTHER;
    }
    if (info->count[DNS_SEC_ANSWER] < (uint64_t)e->min_answers) {
        if (d)
            detail_addf(d, "%u answer records, expected at least %lld", info->count[DNS_SEC_ANSWER],
                        (long long)e->min_answers);
        return CHECK_REASON_DNS_ANSWER;
    }
    /* The patterns: the walk stops at the first record that fails one;
     * sections are judged in order, so a section's end-of-section rules
     * run before the next section's records, as in blackbox_exporter. */
    struct dns_reply_info tmp;
    if (dns_reply_walk(buf, len, &tmp, judge_rr, &j, d) != OP_OK)
        return CHECK_REASON_OTHER; /* not reached: the first walk passed */
    if (j.failed)
        return CHECK_REASON_DNS_ANSWER;
    for (int s = j.next_sec; s < DNS_SEC_COUNT; s++)
        if (!section_ok(&j, (enum dns_section)s, info->count[s]))
            return CHECK_REASON_DNS_ANSWER;
    return CHECK_REASON_NONE;
}
