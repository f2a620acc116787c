/* libFuzzer target: a gRPC health reply (input from any server a check
 * calls): the frame and HealthCheckResponse decoder, grpc-status and
 * grpc-message, and the judgement over all of them. */
#include "check.h"
#include "grpc_check.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int serving = -1;
    const char *why = NULL;
    (void)grpc_health_response(data, size, &serving, &why);
    int st;
    (void)grpc_status_parse((const char *)data, size < 16 ? size : 16, &st);
    char msg[GRPC_MAX_STATUS_MESSAGE];
    (void)grpc_percent_decode((const char *)data, size, msg, sizeof(msg));
    /* The judgement as a run makes it, the first byte choosing the status. */
    struct grpc_reply r = {
        .http_version = 2,
        .http_status = 200,
        .grpc_status = size ? (int)(data[0] % 3) - 1 : -1,
        .grpc_message = msg,
        .body = data,
        .body_len = size,
    };
    char detail[CHECK_DETAIL_MAX];
    (void)grpc_judge(&r, &serving, detail, sizeof(detail));
    return 0;
}
