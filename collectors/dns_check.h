/*
 * dns_check.h - the `dns` check type: one query to one resolver, sent by
 * c-ares on the probe loop (dns_check.c), its settings (dns_config.c), and
 * the reading of the reply (dns_rr.c): every record written as text the way
 * blackbox_exporter's patterns see it (Go miekg/dns RR.String()) and judged
 * against the configured expectations.
 */
#ifndef OUTPOST_DNS_CHECK_H
#define OUTPOST_DNS_CHECK_H

#include "check.h"
#include "config.h"
#include "detail.h"
#include "http_check.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Caps. A reply is at most what TCP can carry (a 16-bit length); the text
 * of one record at most DNS_MAX_RR_TEXT bytes (a longer one makes the
 * reply fail with reason other: patterns never see a cut record). */
#define DNS_MAX_REPLY_BYTES 65535u
#define DNS_MAX_RR_TEXT (16u << 10)
#define DNS_MAX_PATTERNS 256 /* per key */
#define DNS_DEFAULT_PORT 53

/* The three record sections of a reply, in wire order. */
enum dns_section { DNS_SEC_ANSWER, DNS_SEC_AUTHORITY, DNS_SEC_ADDITIONAL, DNS_SEC_COUNT };

/* The four pattern lists of a section, named after blackbox_exporter's
 * validate_*_rrs keys they stand for (the semantics are that code's):
 *   MATCH         fail_if_none_matches_regexp: fail when no record matches
 *                 any pattern (and when the section is empty);
 *   NOT_MATCH     fail_if_matches_regexp: fail when a record matches a pattern;
 *   ALL_MATCH     fail_if_not_matches_regexp: fail when a record does not
 *                 match every pattern (and when the section is empty);
 *   NOT_ALL_MATCH fail_if_all_match_regexp: fail when a record does not
 *                 match every pattern (an empty section passes). */
enum dns_match {
    DNS_MATCH,
    DNS_NOT_MATCH,
    DNS_ALL_MATCH,
    DNS_NOT_ALL_MATCH,
    DNS_MATCH_COUNT,
};

struct dns_patterns {
    struct regex *re;
    size_t n;
};

struct dns_expect {
    uint16_t rcodes; /* bit r: rcode r (0-15) is allowed; default NOERROR only */
    int64_t min_answers;
    struct dns_patterns pat[DNS_SEC_COUNT][DNS_MATCH_COUNT];
};

enum dns_transport { DNS_UDP, DNS_TCP };

/* The settings of one dns check (check_spec.spec). */
struct dns_spec {
    char *server;    /* resolver: IP literal (no brackets) or host name */
    unsigned port;   /* default 53 */
    int ip_protocol; /* enum ip_proto */
    bool ip_protocol_fallback;
    char *query_name;
    int query_type;  /* index into dns_type_names */
    int query_class; /* index into dns_class_names */
    int transport;   /* enum dns_transport */
    bool recursion_desired;
    struct dns_expect expect;
    /* The query as sent (ID 0: c-ares sets its own), built once. */
    unsigned char *query;
    int query_len;
};

/* Names of the query types and classes the config takes, NULL-terminated,
 * and their numbers (same order). */
extern const char *const dns_type_names[];
extern const char *const dns_class_names[];
uint16_t dns_type_number(int index);
uint16_t dns_class_number(int index);

/* The type's settings; c must be a dns check. Borrowed. */
const struct dns_spec *dns_spec_of(const struct check_spec *c);

/* What a dns run adds to its result (check_result.tail): what
 * blackbox_exporter's /probe reports for its dns prober. */
struct dns_tail {
    int ip_protocol;     /* 4 or 6: family of the resolver's address used; 0 if none */
    int rcode;           /* of the reply, -1 when no (well-formed) reply came */
    unsigned answers;    /* records in the answer section of the reply, 0 if none */
    unsigned authority;  /* ... authority section */
    unsigned additional; /* ... additional section */
    /* The query type is SOA and a reply came: serial is the serial of the
     * last SOA record of the answer section, 0 when it has none (as
     * blackbox_exporter's probe_dns_serial). */
    bool has_serial;
    uint32_t serial;
};

extern const struct check_schema dns_schema;
extern const struct check_type dns_check_type;

/* ---- the reply (dns_rr.c), pure functions exposed for tests and fuzzing ---- */

/* One record as the walk hands it out: text is miekg's RR.String() form,
 * "name.\tTTL\tCLASS\tTYPE\tRDATA", NUL-terminated, len bytes; borrowed
 * for the callback. */
struct dns_rr {
    enum dns_section section;
    uint16_t type, rclass;
    uint32_t ttl;
    const char *text;
    size_t len;
};

/* Return false to stop the walk (it then returns OP_OK early). */
typedef bool (*dns_rr_cb)(const struct dns_rr *rr, void *arg);

/* What a walk learned of the header and the records. */
struct dns_reply_info {
    int rcode;
    bool truncated;
    unsigned count[DNS_SEC_COUNT];
    bool has_soa;    /* an SOA record in the answer section */
    uint32_t serial; /* of the last one */
};

/* Walk the reply (len bytes, borrowed): the header into *info, then every
 * record of the three sections in order through cb (may be NULL).
 * OP_ERR_INVALID for a malformed reply, OP_ERR_LIMIT for a record whose
 * text is over DNS_MAX_RR_TEXT; either way why (one short line) goes to
 * d (may be NULL). */
enum op_rc dns_reply_walk(const unsigned char *buf, size_t len, struct dns_reply_info *info,
                          dns_rr_cb cb, void *arg, struct detail *d) WUR;

/* Judge a reply against e: the rcode, min_answers, then each section's
 * patterns in blackbox_exporter's order. CHECK_REASON_NONE when all hold;
 * else dns_rcode, dns_answer, or other for a malformed reply, with the why
 * in d (may be NULL). info gets what the walk learned (counts, rcode). */
enum check_reason dns_judge(const struct dns_expect *e, const unsigned char *buf, size_t len,
                            struct dns_reply_info *info, struct detail *d);

/* Name of rcode r (0-15, "NOERROR"), "RCODE<r>" style names for the rest
 * are not needed: NULL when r has no name. */
const char *dns_rcode_name(int r);
/* Names of the four pattern keys of a section ("answers_not_match"). */
const char *dns_pattern_key(enum dns_section s, enum dns_match m);

#endif
