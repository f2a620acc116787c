/* libFuzzer target: canary sample files (`outpost canary judge` input) and
 * the judge over whatever parses must never crash or hang. */
#include "buf.h"
#include "canary.h"
#include "canary_cmd.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct buf err;
    buf_init(&err, 1u << 20);
    struct canary_sample *s = NULL;
    size_t n = 0;
    if (canary_parse_samples("fuzz", (const char *)data, size, &s, &n, &err) == OP_OK) {
        /* Judge the first half against the second. */
        struct canary_settings set;
        canary_settings_default(&set);
        set.min_samples = 1;
        struct canary_verdict v;
        canary_judge(s, n / 2, s + n / 2, n - n / 2, &set, &v);
        struct buf j;
        buf_init(&j, 1u << 20);
        canary_verdict_json(&v, "x", true, &j);
        buf_free(&j);
        free(s);
    }
    buf_free(&err);
    return 0;
}
