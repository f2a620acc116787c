/* libFuzzer target: Accept-Encoding (input from any HTTP client). */
#include "expo.h"

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
    (void)expo_accepts_gzip(s);
    free(s);
    return 0;
}
