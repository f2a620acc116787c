/* libFuzzer target: what maintenance windows read from outside. The first
 * byte picks the input:
 *   0  the body of POST /api/v1/maintenance (any authenticated client), as
 *      httpd_maint.c parses it: a request it accepts has a name and a
 *      duration not below 0 (maint_start refuses 0); one it refuses says
 *      why;
 *   1  <storage.path>/maintenance.json (the disk), as a start reads it: the
 *      windows it keeps are at most MAINT_MAX_ADHOC, each named by the
 *      config's rule, with distinct names and a duration within 31d; the
 *      silences kept are well formed. */
#include "clock.h"
#include "maint_int.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The API's cap on the body (HTTPD_MAX_GATE_BODY in httpd_gates.c). */
#define MAINT_MAX_BODY (64u << 10)

/* File-local; reachable in OUTPOST_TESTING builds (STATIC). */
const char *maint_parse_request(json_t *root, struct maint_request *r, struct buf *why);
bool maint_parse_saved(struct maint *m, const char *data, size_t len, const char **why);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void request(const char *text, size_t len)
{
    if (len == 0 || len > MAINT_MAX_BODY)
        return; /* answered before parsing */
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return;
    struct maint_request r;
    struct buf why;
    buf_init(&why, 1024);
    const char *bad = maint_parse_request(root, &r, &why);
    if (bad ? !*bad : !r.name || r.duration_ms < 0)
        abort();
    for (size_t i = 0; !bad && i < r.n_checks; i++)
        if (!r.checks[i])
            abort();
    free((void *)r.checks);
    free((void *)r.slos);
    buf_free(&why);
    json_decref(root);
}

static void saved(const char *text, size_t len)
{
    struct maint_options o = {.clock = clock_system(), .storage_path = "/nonexistent/outpost"};
    struct maint *m = maint_new(&o);
    const char *why = NULL;
    bool ok = maint_parse_saved(m, text, len, &why);
    if (!ok && (m->n_adhoc || !why || !*why))
        abort();
    if (m->n_adhoc > MAINT_MAX_ADHOC)
        abort();
    for (size_t i = 0; i < m->n_adhoc; i++) {
        const struct window *w = &m->adhoc[i];
        if (!cfg_name_ok(w->name) || w->sched.duration_ms <= 0 ||
            w->sched.duration_ms > CFG_MAX_MAINT_DURATION_MS || w->sched.cron)
            abort();
        for (size_t j = 0; j < i; j++)
            if (strcmp(m->adhoc[j].name, w->name) == 0)
                abort();
    }
    if (m->n_prev > MAINT_MAX_SAVED_SILENCES || (!ok && m->n_prev))
        abort();
    for (size_t i = 0; i < m->n_prev; i++) {
        const struct prev_silence *p = &m->prev[i];
        if (!cfg_name_ok(p->window) || (p->kind != 0 && p->kind != 1) || !*p->value ||
            p->end_ms <= p->start_ms)
            abort();
    }
    maint_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    if (data[0] == 0)
        request((const char *)data + 1, size - 1);
    else if (data[0] == 1)
        saved((const char *)data + 1, size - 1);
    return 0;
}
