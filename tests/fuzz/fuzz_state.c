/* libFuzzer target: the SLO state file decoder, and a restore of whatever it
 * accepts, must never crash, hang or leak. The CRC is recomputed over the
 * input so the fuzzer reaches the record parser, not just the checksum. */
#include "buf.h"
#include "config.h"
#include "state.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct cfg *g_cfg;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!g_cfg) {
        static const char yaml[] = "checks: [{name: a, url: 'http://127.0.0.1:1/'}]\n"
                                   "slos: [{name: s, objective: 99.9, sli: {checks: [a]}}]\n";
        struct buf e;
        buf_init(&e, 1u << 16);
        if (cfg_load_string(yaml, sizeof(yaml) - 1, "fuzz.yml", &g_cfg, &e) != OP_OK)
            abort();
        buf_free(&e);
    }
    /* "OUTPOSTS" + input + a valid CRC. */
    size_t n = 8 + size + 4;
    unsigned char *buf = malloc(n);
    if (!buf)
        return 0;
    memcpy(buf, "OUTPOSTS", 8);
    memcpy(buf + 8, data, size);
    uint32_t crc = (uint32_t)crc32(0L, buf, (uInt)(8 + size));
    for (int i = 0; i < 4; i++)
        buf[8 + size + i] = (unsigned char)(crc >> (8 * i));
    struct buf err;
    buf_init(&err, 1u << 16);
    struct state_file *f = NULL;
    if (state_decode(buf, n, &f, &err) == OP_OK) {
        const struct slo_spec *spec = cfg_slo(g_cfg, 0);
        struct slo_state *st = slost_new(spec);
        /* A record only restores under the spec's identity: try it as is. */
        state_restore(f, spec, st, 1767225600000LL);
        slost_unref(st);
        state_file_free(f);
    }
    buf_free(&err);
    free(buf);
    return 0;
}
