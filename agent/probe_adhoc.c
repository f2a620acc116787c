/* probe_adhoc.c - runs of a check outside the schedule, asked for by
 * another thread (blackbox's /probe), each reported once to its caller. */
#include "log.h"
#include "probe_int.h"

#include <stdlib.h>

/* A run asked for: queued under the loop's lock until the loop starts it,
 * then owned by its job. */
struct probe_adhoc {
    const struct check_spec *spec; /* borrowed from the caller */
    void (*report)(void *arg, const struct check_result *res);
    void *arg;
    bool reported;
    struct probe_adhoc *next;
};

enum op_rc probe_loop_run_adhoc(struct probe_loop *pl, const struct check_spec *c, unsigned max,
                                void (*report)(void *arg, const struct check_result *res),
                                void *arg)
{
    /* Reserve a place first, so parallel callers never exceed max. */
    unsigned n = atomic_load(&pl->adhoc_in_flight);
    do {
        if (n >= max)
            return OP_ERR_LIMIT;
    } while (!atomic_compare_exchange_weak(&pl->adhoc_in_flight, &n, n + 1));
    struct probe_adhoc *a = xcalloc(1, sizeof(*a));
    a->spec = c;
    a->report = report;
    a->arg = arg;
    pthread_mutex_lock(&pl->lock);
    if (!pl->accepting) {
        pthread_mutex_unlock(&pl->lock);
        free(a);
        atomic_fetch_sub(&pl->adhoc_in_flight, 1);
        return OP_ERR_STATE;
    }
    a->next = pl->adhoc_pending;
    pl->adhoc_pending = a;
    pthread_mutex_unlock(&pl->lock);
    probe_loop_wake(pl);
    return OP_OK;
}

unsigned probe_loop_adhoc_in_flight(const struct probe_loop *pl)
{
    return atomic_load(&((struct probe_loop *)pl)->adhoc_in_flight);
}

/* The caller hears once; after that neither its spec nor its arg is used. */
static void finish(struct probe_loop *pl, struct probe_adhoc *a, const struct check_result *res)
{
    if (a->reported)
        return;
    a->reported = true;
    a->report(a->arg, res);
    atomic_fetch_sub(&pl->adhoc_in_flight, 1);
}

static struct probe_adhoc *take_pending(struct probe_loop *pl)
{
    pthread_mutex_lock(&pl->lock);
    struct probe_adhoc *list = pl->adhoc_pending;
    pl->adhoc_pending = NULL;
    pthread_mutex_unlock(&pl->lock);
    return list;
}

void probe_adhoc_start_pending(struct probe_loop *pl)
{
    for (struct probe_adhoc *a = take_pending(pl), *next; a; a = next) {
        next = a->next;
        struct probe_job *j = xcalloc(1, sizeof(*j));
        j->type = check_type_of(a->spec->type);
        j->spec = a->spec;
        j->adhoc = a;
        j->started_ns = probe_now_ns(pl);
        j->stall0_ns = pl->stall_ns;
        enum op_rc rc = j->type->start(pl, a->spec, j, &j->run);
        if (rc != OP_OK) {
            log_error("cannot start a probe", "check", a->spec->name, "err", op_strerror(rc));
            finish(pl, a, NULL);
            free(a);
            free(j);
            continue;
        }
        /* On the loop's list so that stopping cancels it; it has no slot,
         * so the scheduled checks never see it. */
        j->next = pl->jobs;
        if (j->next)
            j->next->prev = j;
        pl->jobs = j;
    }
}

void probe_adhoc_drop_pending(struct probe_loop *pl)
{
    for (struct probe_adhoc *a = take_pending(pl), *next; a; a = next) {
        next = a->next;
        finish(pl, a, NULL);
        free(a);
    }
}

void probe_adhoc_report(struct probe_loop *pl, struct probe_job *job,
                        const struct check_result *res)
{
    finish(pl, job->adhoc, res);
}

void probe_adhoc_end(struct probe_loop *pl, struct probe_job *job)
{
    /* A job ends reported; should one ever end otherwise, its caller must
     * still hear (as cancelled) rather than wait for ever. */
    finish(pl, job->adhoc, NULL);
    free(job->adhoc);
}
