/* libFuzzer target: the TZif reader behind tz_load. The first byte picks a
 * mode: 0 the rest is a whole TZif file; 1 the rest is a footer's POSIX TZ
 * string, wrapped in a valid version 3 file with one transition so that
 * mutations reach the rule parser directly. A zone that loads must give
 * offsets within [TZ_OFFSET_MIN, TZ_OFFSET_MAX], and every change
 * tz_next_change reports must be later and really change the offset. */
#include "common.h"
#include "tz.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const int64_t probes[] = {
    INT64_MIN,
    -(INT64_C(1) << 62),
    TZ_RULE_T_MIN - 1,
    -2177452801,
    -1,
    0,
    1,
    1774745999,
    1774746000,
    1792890000,
    2147483647,
    2531955600,
    TZ_RULE_T_MAX,
    INT64_MAX,
};

static void check(const struct tz *z)
{
    for (size_t i = 0; i < ARRAY_SIZE(probes); i++) {
        int64_t t = probes[i];
        int32_t o = tz_offset(z, t);
        if (o < TZ_OFFSET_MIN || o > TZ_OFFSET_MAX)
            abort();
        /* A few changes in a row from each probe. */
        for (int k = 0; k < 4; k++) {
            int64_t c = tz_next_change(z, t);
            if (c == INT64_MAX)
                break;
            if (c <= t || tz_offset(z, c) == tz_offset(z, t) || tz_offset(z, c - 1) != o)
                abort();
            t = c;
            o = tz_offset(z, t);
        }
    }
}

/* A version 3 file: a version 1 block of one time type, then one
 * transition at 0 to type 0 (offset +1 h), then "\n" footer "\n". */
static size_t wrap_footer(const uint8_t *s, size_t n, uint8_t *out)
{
    static const uint8_t head[] = {
        'T', 'Z', 'i',  'f',  '3',  0, 0, 0, 0, 0, 0, 0, 0,   0,   0,   0, 0, 0, 0,
        0,   0,   0,    0,    0,    0, 0, 0, 0, 0, 0, 0, 0,   0,   0,   0, 0, 0, 0,
        0,   1,   0,    0,    0,    4, 0, 0, 0, 0, 0, 0, 'Z', 'Z', 'Z', 0, /* v1 block: one type (0
                                                                              s), "ZZZ" */
        'T', 'Z', 'i',  'f',  '3',  0, 0, 0, 0, 0, 0, 0, 0,   0,   0,   0, 0, 0, 0,
        0,   0,   0,    0,    0,    0, 0, 0, 0, 0, 0, 0, 0,   0,   0,   0, 1, 0, 0,
        0,   1,   0,    0,    0,    4, 0, 0, 0, 0, 0, 0, 0,   0, /* transition at 0 */
        0,                                                       /* to type 0 */
        0,   0,   0x0e, 0x10, 0,    0,                           /* +3600 s, not DST, name 0 */
        'Z', 'Z', 'Z',  0,    '\n',
    };
    memcpy(out, head, sizeof(head));
    memcpy(out + sizeof(head), s, n);
    out[sizeof(head) + n] = '\n';
    return sizeof(head) + n + 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t mode = data[0] & 1;
    data++;
    size--;
    uint8_t *file = NULL;
    const uint8_t *p = data;
    size_t footer = size;
    if (mode == 1) {
        if (size > 512)
            return 0;
        file = malloc(size + 256);
        if (!file)
            return 0;
        size = wrap_footer(data, size, file);
        p = file;
    }
    struct buf err;
    struct tz *z = NULL;
    buf_init(&err, 4096);
    enum op_rc rc = tz_parse(p, size, "fuzz", &z, &err);
    if (rc == OP_OK) {
        if (!z)
            abort();
        check(z);
    } else if (z || err.len == 0) {
        abort(); /* a refusal always says why, and leaves nothing */
    } else if (mode == 1 && footer == 0) {
        abort(); /* the wrapper itself must be valid */
    }
    tz_free(z);
    buf_free(&err);
    free(file);
    return 0;
}
