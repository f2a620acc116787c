/* httpd_slogates.c - the SLO gates: Flagger's webhook and Argo's web
 * metric asking an SLO whether a deploy may go on (httpd_int.h, slogate.h). */
#include "httpd_int.h"
#include "runtime.h"

#include <stdlib.h>
#include <string.h>

/* Flagger's hook types that ask "may the rollout go on", and the rollback
 * hook that asks "roll back now?". */
static const char *const slo_hooks[] = {"rollout",     "confirm-rollout", "confirm-promotion",
                                        "pre-rollout", "rollback",        NULL};
#define SLO_HOOKS_USAGE                                                                            \
    "hook must be rollout, confirm-rollout, confirm-promotion, pre-rollout or rollback\n"

static enum MHD_Result no_such_slo(struct req *q)
{
    return httpd_send_text(q, MHD_HTTP_NOT_FOUND, "no SLO of that name\n");
}

enum MHD_Result httpd_serve_flagger_slo(struct req *q, const char *name)
{
    const char *hook, *checksum;
    enum MHD_Result r;
    json_t *root = httpd_flagger_request(q, slo_hooks, SLO_HOOKS_USAGE, &hook, &checksum, &r);
    if (!root)
        return r;
    /* An SLO has no revision: the checksum is validated, nothing more. */
    json_decref(root);
    struct slo_gate *g = xmalloc(sizeof(*g));
    if (rt_slo_gate(q->h->rt, name, g) != OP_OK) {
        free(g);
        return no_such_slo(q);
    }
    /* Flagger counts <= 202 as success; for a rollback hook success means
     * "roll back now": only while the page alert fires. */
    bool rollback = strcmp(hook, "rollback") == 0;
    bool ok = rollback ? g->page : g->pass;
    struct buf m;
    buf_init(&m, 2 * SLOGATE_REASON_BYTES);
    buf_addf(&m, "%s\n", rollback ? g->rollback : g->reason);
    free(g);
    r = httpd_send_text(q, ok ? MHD_HTTP_OK : MHD_HTTP_PRECONDITION_FAILED, buf_str(&m));
    buf_free(&m);
    return r;
}

enum MHD_Result httpd_serve_argo_slo(struct req *q, const char *name)
{
    const char *hook = MHD_lookup_connection_value(q->c, MHD_GET_ARGUMENT_KIND, "hook");
    size_t i = 0;
    while (hook && slo_hooks[i] && strcmp(slo_hooks[i], hook) != 0)
        i++;
    if (hook && !slo_hooks[i])
        return httpd_send_text(q, MHD_HTTP_BAD_REQUEST, SLO_HOOKS_USAGE);
    struct slo_gate *g = xmalloc(sizeof(*g));
    if (rt_slo_gate(q->h->rt, name, g) != OP_OK) {
        free(g);
        return no_such_slo(q);
    }
    /* Always 200 for a known SLO: Argo's web metric reads the verdict. */
    struct buf b;
    buf_init(&b, 1u << 16);
    slogate_json(g, name, hook && strcmp(hook, "rollback") == 0, &b);
    buf_addc(&b, '\n');
    free(g);
    if (b.failed) {
        buf_free(&b);
        return httpd_send_text(q, MHD_HTTP_INTERNAL_SERVER_ERROR, "verdict too large\n");
    }
    size_t len = b.len;
    return httpd_send_owned(q, MHD_HTTP_OK, buf_take(&b), len, "application/json", false);
}
