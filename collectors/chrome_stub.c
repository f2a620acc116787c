/*
 * chrome_stub.c - TEMPORARY stand-in for the browser engine (chrome.c)
 * until it is merged, so the browser type links and its unit tests (which
 * use a fake engine) run. Removed by the merge that brings chrome.c.
 */
#include "chrome.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum op_rc chrome_start(struct probe_loop *loop, const struct chrome_opts *o,
                        void (*done)(void *arg, const struct chrome_facts *f), void *arg,
                        struct chrome **out)
{
    (void)loop;
    (void)o;
    (void)done;
    (void)arg;
    *out = NULL;
    return OP_ERR_SYSTEM;
}

void chrome_cancel(struct probe_loop *loop, struct chrome *c)
{
    (void)loop;
    (void)c;
}

char *chrome_find_executable(const char *configured)
{
    const char *p = configured ? configured : "/usr/lib/chromium/chromium";
    return p[0] == '/' && access(p, X_OK) == 0 ? xstrdup(p) : NULL;
}
