/* libFuzzer target: the /proc parsers behind process_* (/proc/self/stat and
 * btime in /proc/stat) and the strict decimal parser they share. Results
 * must be in range or an error, never a crash. */
#include "common.h"
#include "process.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    struct process_stats st;
    (void)process_parse_stat(s, 100, 4096, 1e9, &st);
    double boot = -1;
    if (process_parse_btime(s, &boot) == OP_OK && !(boot >= 1 && boot <= PROCESS_MAX_BTIME))
        abort();
    uint64_t v;
    if (parse_u64(s, size, 65536, &v) == OP_OK && v > 65536)
        abort();
    free(s);
    return 0;
}
