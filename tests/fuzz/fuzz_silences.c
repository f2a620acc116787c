/* libFuzzer target: what an Alertmanager answers the silences thread. The
 * first byte picks the answer: 0 the list (GET /api/v2/silences), then a
 * reuse lookup against a fixed want; 1 a create (POST /api/v2/silences);
 * 2 a time as Alertmanager writes it. Whatever it sends is read or
 * refused with a reason, and what is read holds the promises the thread
 * relies on (an ID safe in a URL path, 1 to SILENCES_MATCHERS_MAX
 * matchers, times that are numbers). */
#include "silences_int.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void list(const char *text, size_t len)
{
    struct buf err;
    buf_init(&err, 4096);
    struct sil_cand *c = (struct sil_cand *)1;
    size_t n = 1;
    if (sil_parse_list(text, len, &c, &n, &err) != OP_OK) {
        if (c || n || err.len == 0)
            abort();
        buf_free(&err);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (!sil_id_ok(c[i].id) || !c[i].comment || c[i].n < 1 || c[i].n > SILENCES_MATCHERS_MAX ||
            !isfinite(c[i].starts) || !isfinite(c[i].ends))
            abort();
        for (size_t k = 0; k < c[i].n; k++)
            if (!c[i].m[k].name || !c[i].m[k].value)
                abort();
    }
    struct sil_matcher m[] = {{"instance", "db-1:9100", false, true},
                              {"alertname", ".*", true, true}};
    struct sil_want w = {.comment = "outpost maintenance window db from 1796107168",
                         .m = m,
                         .n = 2,
                         .starts = 1796107168,
                         .ends = 1796110768};
    bool same = false;
    struct sil_cand *got = sil_match(&w, c, n, &same);
    if (got && (got < c || got >= c + n || strcmp(got->comment, w.comment) != 0))
        abort();
    sil_list_free(c, n);
    buf_free(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    if (data[0] == 0) {
        list(text, len);
    } else if (data[0] == 1) {
        struct buf err;
        buf_init(&err, 4096);
        char *id = (char *)1;
        if (sil_parse_created(text, len, &id, &err) == OP_OK) {
            if (!sil_id_ok(id))
                abort();
            free(id);
        } else if (id || err.len == 0) {
            abort();
        }
        buf_free(&err);
    } else {
        char *s = malloc(len + 1); /* a NUL-terminated copy: JSON strings are */
        memcpy(s, text, len);
        s[len] = '\0';
        double t = NAN;
        if (sil_parse_time(s, &t) && !isfinite(t))
            abort();
        free(s);
    }
    return 0;
}
