/* libFuzzer target: Accept header negotiation (input from any HTTP client). */
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
    enum expo_format f = expo_negotiate(s);
    if (f != EXPO_TEXT && f != EXPO_OPENMETRICS)
        abort();
    free(s);
    return 0;
}
