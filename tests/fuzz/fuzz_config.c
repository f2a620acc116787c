/* libFuzzer target: the YAML config loader must never crash, hang or leak on
 * any input. Build with -DOUTPOST_FUZZ=ON (clang). */
#include "buf.h"
#include "config.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct buf errors;
    buf_init(&errors, 1u << 20);
    struct cfg *cfg = NULL;
    if (cfg_load_string((const char *)data, size, "fuzz.yml", &cfg, &errors) == OP_OK)
        cfg_free(cfg);
    buf_free(&errors);
    return 0;
}
