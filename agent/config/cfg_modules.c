/*
 * cfg_modules.c - blackbox_exporter modules (stub: the interface first).
 */
#include "modules.h"
#include "cfg_int.h"

#include <stdlib.h>

size_t cfg_module_count(const struct cfg *c)
{
    (void)c;
    return 0;
}

const struct bb_module *cfg_module(const struct cfg *c, size_t i)
{
    (void)c;
    (void)i;
    return NULL;
}

const struct bb_module *cfg_find_module(const struct cfg *c, const char *name)
{
    (void)c;
    (void)name;
    return NULL;
}

const char *bb_module_name(const struct bb_module *m)
{
    (void)m;
    return "";
}

const char *bb_module_prober(const struct bb_module *m)
{
    (void)m;
    return "http";
}

int64_t bb_module_timeout_ms(const struct bb_module *m)
{
    (void)m;
    return 0;
}

bool bb_module_target_allowed(const struct bb_module *m, const char *target)
{
    (void)m;
    (void)target;
    return true;
}

enum op_rc bb_module_check(const struct bb_module *m, const char *name, const char *target,
                           int64_t timeout_ms, struct check_spec **out, struct buf *err)
{
    (void)m;
    (void)name;
    (void)target;
    (void)timeout_ms;
    *out = NULL;
    buf_adds(err, "modules are not implemented yet");
    return OP_ERR_INVALID;
}

void cfg_check_spec_free(struct check_spec *c)
{
    if (!c)
        return;
    cfg_check_free(c);
    free(c);
}

void bb_module_describe(const struct bb_module *m, struct buf *out)
{
    (void)m;
    (void)out;
}
