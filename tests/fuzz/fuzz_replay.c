/* libFuzzer target: the events CSV of `outpost slo replay`
 * (unix_seconds,slo_name,good_count,bad_count lines), then the SLO engine
 * over whatever parses, under a fixed configuration with a rolling, a
 * calendar-month and a latency SLO. The first byte picks the budget mode and
 * whether --at is given. Any input ends in one JSON document or in errors
 * that say why, never a crash, a hang or a leak. */
#include "buf.h"
#include "config.h"
#include "slo_replay.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct cfg *g_cfg;

static void load_config(void)
{
    static const char yaml[] =
        "checks:\n"
        "  - {name: a, url: 'http://127.0.0.1:1/', interval: 10s}\n"
        "  - {name: b, url: 'http://127.0.0.1:1/', interval: 1s}\n"
        "slos:\n"
        "  - {name: api, objective: 99.9, period: 30d, sli: {checks: [a, b]},\n"
        "     policy: {freeze_when_consumed: 0.5, over: 7d}}\n"
        "  - {name: month, objective: 99, calendar: month, sli: {checks: [a]}}\n"
        "  - {name: slow, objective: 95, period: 1d, min_events: 1,\n"
        "     sli: {checks: [b], latency: {threshold: 250ms}}}\n";
    struct buf e;
    buf_init(&e, 1u << 16);
    if (cfg_load_string(yaml, sizeof(yaml) - 1, "fuzz.yml", &g_cfg, &e) != OP_OK)
        abort();
    buf_free(&e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    if (!g_cfg)
        load_config();
    enum replay_budget budget = data[0] & 1 ? REPLAY_BUDGET_OBSERVED : REPLAY_BUDGET_EXPECTED;
    /* 2026-01-01T00:00:00Z: events after it are ignored. */
    double at = data[0] & 2 ? 1767225600.0 : -1;
    struct buf out, err;
    buf_init(&out, 1u << 20);
    buf_init(&err, 1u << 20);
    enum op_rc rc = slo_replay_run(g_cfg, "fuzz.csv", (const char *)data + 1, size - 1, at, budget,
                                   NULL, &out, &err);
    if (rc == OP_OK) {
        /* One newline-terminated JSON object and no complaint. */
        if (out.len < 2 || out.data[0] != '{' || out.data[out.len - 1] != '\n' || err.len)
            abort();
    } else if (err.len == 0 && !err.failed) {
        abort(); /* a refusal always says why */
    }
    buf_free(&out);
    buf_free(&err);
    return 0;
}
