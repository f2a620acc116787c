/* libFuzzer target: the YAML config loader must never crash, hang or leak on
 * any input. Build with -DOUTPOST_FUZZ=ON (clang). */
#include "buf.h"
#include "config.h"
#include "modules.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct buf errors;
    buf_init(&errors, 1u << 20);
    struct cfg *cfg = NULL;
    if (cfg_load_string((const char *)data, size, "fuzz.yml", &cfg, &errors) == OP_OK) {
        /* Each module as /probe uses it: its description, its allowed
         * targets and a check for targets of every kind. */
        static const char *const targets[] = {"127.0.0.1", "127.0.0.1:80", "http://127.0.0.1/x",
                                              "[::1]:53",  "${env:HOME}",  "a b"};
        for (size_t i = 0; i < cfg_module_count(cfg); i++) {
            const struct bb_module *m = cfg_module(cfg, i);
            struct buf out;
            buf_init(&out, 1u << 20);
            bb_module_describe(m, &out);
            for (size_t t = 0; t < sizeof(targets) / sizeof(targets[0]); t++) {
                struct check_spec *cs = NULL;
                (void)bb_module_target_allowed(m, targets[t]);
                if (bb_module_check(m, "fuzz", targets[t], 1000, &cs, &out) == OP_OK)
                    cfg_check_spec_free(cs);
            }
            buf_free(&out);
        }
        cfg_free(cfg);
    }
    buf_free(&errors);
    return 0;
}
