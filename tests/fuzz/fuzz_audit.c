/* libFuzzer target: the audit log's lines, as `outpost audit verify` reads
 * any file it is given and as the writer encodes any field values. The
 * first byte picks the mode:
 *   0  the rest is a file: audit_verify_stream over it (lines, caps, chain)
 *   1  the rest is one line: audit_line_parse and audit_chain_next agree
 *   2  the rest, split at NUL bytes, is an event name and field pairs: the
 *      encoded line parses, its hash checks, a chain takes it
 * Beyond no crash, leak or hang: a refusal always says why, and whatever
 * the encoder writes the verifier accepts. */
#include "audit_cmd.h"
#include "audit_line.h"
#include "buf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int verify_file(const char *s, size_t n)
{
    if (n == 0)
        return AUDIT_EXIT_OK; /* fmemopen refuses an empty buffer */
    FILE *f = fmemopen((void *)s, n, "rb");
    if (!f)
        abort();
    struct audit_chain c;
    audit_chain_init(&c);
    struct buf report;
    buf_init(&report, 1u << 16);
    int code = audit_verify_stream(f, "fuzz", &c, &report);
    fclose(f);
    if (code != AUDIT_EXIT_OK && code != AUDIT_EXIT_BROKEN)
        abort(); /* memory never fails to read */
    if ((code == AUDIT_EXIT_BROKEN) != (report.len > 0))
        abort();
    buf_free(&report);
    return code;
}

static void parse_line(const char *s, size_t n)
{
    struct audit_line l;
    const char *why = NULL;
    size_t at = SIZE_MAX;
    enum op_rc rc = audit_line_parse(s, n, &l, &why, &at);
    if (rc != OP_OK && (!why || at > n))
        abort();
    struct audit_chain c;
    audit_chain_init(&c);
    struct buf why2;
    buf_init(&why2, 1u << 12);
    enum op_rc crc = audit_chain_next(&c, s, n, &why2);
    /* The first line of a chain is taken as given: it passes exactly when
     * it parses and its hash is its own. */
    bool want = rc == OP_OK && strcmp(l.hash, l.computed) == 0;
    if ((crc == OP_OK) != want || (crc != OP_OK && why2.len == 0))
        abort();
    buf_free(&why2);
}

static void round_trip(const char *s, size_t n)
{
    /* NUL-separated strings: a copy with a NUL at the end. */
    char *copy = malloc(n + 1);
    if (!copy)
        return;
    memcpy(copy, s, n);
    copy[n] = '\0';
    const char *parts[1 + 2 * AUDIT_MAX_FIELDS];
    size_t np = 0;
    for (char *p = copy; p <= copy + n && np < ARRAY_SIZE(parts); p += strlen(p) + 1)
        parts[np++] = p;
    const char *event = parts[0][0] ? parts[0] : "e";
    size_t pairs = (np - 1) / 2;
    struct buf line;
    buf_init(&line, 4u << 20);
    char h[SHA256_HEX_BYTES];
    if (audit_line_encode(&line, 1 + (uint64_t)n, (int64_t)n * 1000003, event, parts + 1, pairs,
                          AUDIT_ZERO_HASH, h) != OP_OK)
        abort();
    if (line.len == 0 || line.data[line.len - 1] != '\n')
        abort();
    for (size_t i = 0; i + 1 < line.len; i++)
        if ((unsigned char)line.data[i] < 0x20)
            abort(); /* one line, control characters escaped */
    struct audit_line l;
    const char *why;
    size_t at;
    if (audit_line_parse(line.data, line.len - 1, &l, &why, &at) != OP_OK)
        abort();
    if (strcmp(l.hash, h) != 0 || strcmp(l.computed, h) != 0 || l.seq != 1 + (uint64_t)n)
        abort();
    if (verify_file(line.data, line.len) != AUDIT_EXIT_OK)
        abort();
    buf_free(&line);
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    const char *s = (const char *)data + 1;
    size_t n = size - 1;
    switch (data[0] % 3) {
    case 0:
        (void)verify_file(s, n);
        break;
    case 1:
        parse_line(s, n);
        break;
    default:
        round_trip(s, n);
        break;
    }
    return 0;
}
