/* libFuzzer target: cron_parse, then cron_next. The first byte picks the
 * zone: 0 UTC, 1 a central European rule, 2 Lord Howe's half-hour rule, 3
 * Nuuk's rule with negative transition times; the rest is the expression.
 * A start must be after `after`, within the horizon, and the first after
 * any instant before it: cron_next(start - 1) is start again. */
#include "common.h"
#include "cron.h"
#include "tz.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const rules[] = {
    "CET-1CEST,M3.5.0,M10.5.0/3",
    "<+1030>-10:30<+11>-11,M10.1.0,M4.1.0",
    "<-02>2<-01>,M3.5.0/-1,M10.5.0/0",
};

static struct tz *zones[4];

/* A footer-only version 2 file for each rule, parsed once. */
static void init_zones(void)
{
    static int done;
    if (done)
        return;
    done = 1;
    for (size_t i = 0; i < ARRAY_SIZE(rules); i++) {
        uint8_t f[256] = {0};
        size_t n = 0;
        for (int h = 0; h < 2; h++) {
            memcpy(f + n, "TZif2", 5);
            n += 20 + 16;
            f[n + 3] = 1; /* typecnt */
            f[n + 7] = 4; /* charcnt */
            n += 8;
            n += 6; /* one type: offset 0 */
            memcpy(f + n, "ZZZ", 4);
            n += 4;
        }
        f[n++] = '\n';
        memcpy(f + n, rules[i], strlen(rules[i]));
        n += strlen(rules[i]);
        f[n++] = '\n';
        struct buf err;
        buf_init(&err, 1024);
        if (tz_parse(f, n, "rule", &zones[i + 1], &err) != OP_OK)
            abort();
        buf_free(&err);
    }
}

static const int64_t afters[] = {
    TZ_RULE_T_MIN,
    -1,
    0,
    1774745999,
    1774746000,
    1792888200,
    1792890600,
    1775313900,
    2531955599,
    4102444800,
    INT64_C(253118303999),
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 300)
        return 0;
    init_zones();
    const struct tz *z = zones[data[0] & 3];
    char *s = malloc(size);
    if (!s)
        return 0;
    memcpy(s, data + 1, size - 1);
    s[size - 1] = '\0';
    struct buf err;
    struct cron *c = NULL;
    buf_init(&err, 4096);
    enum op_rc rc = cron_parse(s, &c, &err);
    if (rc != OP_OK) {
        if (c || err.len == 0 || strchr(buf_str(&err), '\n'))
            abort(); /* a refusal says why, on one line */
    } else {
        for (size_t i = 0; i < ARRAY_SIZE(afters); i++) {
            int64_t a = afters[i];
            int64_t t = cron_next(c, z, a);
            if (t == INT64_MAX)
                continue;
            if (t <= a || t - a > (int64_t)(CRON_HORIZON_DAYS + 3) * 86400)
                abort();
            /* (cron_next answers for instants up to the end of 9990.) */
            if (t - 1 <= INT64_C(253118303999) &&
                (cron_next(c, z, t - 1) != t || cron_next(c, z, t) <= t))
                abort();
        }
    }
    cron_free(c);
    buf_free(&err);
    free(s);
    return 0;
}
