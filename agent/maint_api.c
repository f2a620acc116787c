/* maint_api.c - ad-hoc maintenance windows: the API's operations, the
 * windows' JSON, and maintenance.json (maint.h, maint_int.h). */
#include "maint_int.h"
#include "gen.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- JSON of a window ---- */

static void add_time(struct buf *b, const char *key, int64_t ms)
{
    buf_addf(b, ",\"%s\":", key);
    if (ms == INT64_MAX) {
        buf_adds(b, "null");
        return;
    }
    char t[40];
    maint_fmt_time(ms, t, sizeof(t));
    buf_add_json_string(b, t);
}

static void add_names(struct buf *b, const char *key, char *const *names, size_t n)
{
    buf_addf(b, ",\"%s\":[", key);
    for (size_t i = 0; i < n; i++) {
        if (i)
            buf_addc(b, ',');
        buf_add_json_string(b, names[i]);
    }
    buf_addc(b, ']');
}

/* start/end: the occurrence running now, else the next one (a one-off
 * window: its own, also once past); next_start: the first start after now. */
static void window_json(const struct window *w, int64_t now, struct buf *b)
{
    int64_t start = INT64_MAX, end = INT64_MAX;
    if (w->active) {
        start = w->cur_start;
        end = w->cur_end;
    } else if (!w->sched.cron) {
        start = w->sched.start_ms;
        end = start + w->sched.duration_ms;
    } else if ((start = maint_sched_next_start(&w->sched, now)) != INT64_MAX) {
        end = start + w->sched.duration_ms;
    }
    buf_adds(b, "{\"name\":");
    buf_add_json_string(b, w->name);
    buf_addf(b, ",\"source\":\"%s\",\"active\":%s", w->adhoc ? "api" : "config",
             w->active ? "true" : "false");
    add_time(b, "start", start);
    add_time(b, "end", end);
    add_time(b, "next_start", maint_sched_next_start(&w->sched, now));
    buf_addf(b, ",\"duration_seconds\":%lld", (long long)(w->sched.duration_ms / 1000));
    if (w->spec && w->spec->cron_expr) {
        buf_adds(b, ",\"cron\":");
        buf_add_json_string(b, w->spec->cron_expr);
        buf_adds(b, ",\"timezone\":");
        buf_add_json_string(b, w->spec->timezone ? w->spec->timezone : "UTC");
    }
    buf_addf(b, ",\"covers\":\"%s\"", w->n_checks ? "checks" : w->n_slos ? "slos" : "all");
    if (w->n_checks)
        add_names(b, "checks", w->checks, w->n_checks);
    if (w->n_slos)
        add_names(b, "slos", w->slos, w->n_slos);
    buf_addf(b, ",\"exclude_from_slos\":%s,\"alertmanager_silence\":%s}",
             w->exclude ? "true" : "false", w->silence ? "true" : "false");
}

void maint_list_json(struct maint *m, struct buf *out)
{
    int64_t now = clock_wall_ms(m->clock);
    pthread_mutex_lock(&m->lock);
    buf_adds(out, "{\"windows\":[");
    for (size_t i = 0; i < m->n_conf + m->n_adhoc; i++) {
        if (i)
            buf_addc(out, ',');
        window_json(i < m->n_conf ? &m->conf[i] : &m->adhoc[i - m->n_conf], now, out);
    }
    buf_adds(out, "]}\n");
    pthread_mutex_unlock(&m->lock);
}

/* Copies of names (borrowed); caller frees each and the array. */
static char **copy_list(char *const *names, size_t n)
{
    char **c = xcalloc(n ? n : 1, sizeof(char *));
    for (size_t i = 0; i < n; i++)
        c[i] = xstrdup(names[i]);
    return c;
}

/* Copies made under the lock: ad-hoc windows come and go with it. */
size_t maint_active_list(struct maint *m, struct maint_active **out)
{
    pthread_mutex_lock(&m->lock);
    size_t n = 0, total = m->n_conf + m->n_adhoc;
    for (size_t i = 0; i < total; i++)
        n += (i < m->n_conf ? &m->conf[i] : &m->adhoc[i - m->n_conf])->active;
    struct maint_active *list = n ? xcalloc(n, sizeof(*list)) : NULL;
    for (size_t i = 0, k = 0; i < total && k < n; i++) {
        const struct window *w = i < m->n_conf ? &m->conf[i] : &m->adhoc[i - m->n_conf];
        if (!w->active)
            continue;
        list[k++] = (struct maint_active){.name = xstrdup(w->name),
                                          .start_ms = w->cur_start,
                                          .end_ms = w->cur_end,
                                          .checks = copy_list(w->checks, w->n_checks),
                                          .n_checks = w->n_checks,
                                          .slos = copy_list(w->slos, w->n_slos),
                                          .n_slos = w->n_slos,
                                          .all = !w->n_checks && !w->n_slos};
    }
    pthread_mutex_unlock(&m->lock);
    *out = list;
    return n;
}

/* Frees list and everything it holds; NULL is fine. */
void maint_active_free(struct maint_active *list, size_t n)
{
    for (size_t i = 0; list && i < n; i++) {
        for (size_t k = 0; k < list[i].n_checks; k++)
            free(list[i].checks[k]);
        for (size_t k = 0; k < list[i].n_slos; k++)
            free(list[i].slos[k]);
        free(list[i].checks);
        free(list[i].slos);
        free(list[i].name);
    }
    free(list);
}

/* ---- the API ---- */

/* The request's names: known in cfg, none twice. NULL, or why not (in why). */
static bool names_ok(const struct cfg *cfg, const char *const *names, size_t n, bool slos,
                     struct buf *why)
{
    for (size_t i = 0; i < n; i++) {
        if ((slos ? cfg_find_slo(cfg, names[i]) : cfg_find_check(cfg, names[i])) < 0) {
            buf_addf(why, "no %s named ", slos ? "SLO" : "check");
            buf_add_json_string(why, names[i]);
            return false;
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(names[i], names[j]) == 0) {
                buf_adds(why, "listed twice: ");
                buf_add_json_string(why, names[i]);
                return false;
            }
    }
    return true;
}

static char **copy_names(const char *const *names, size_t n)
{
    char **out = xcalloc(n + 1, sizeof(char *));
    for (size_t i = 0; i < n; i++)
        out[i] = xstrdup(names[i]);
    return out;
}

/* Why r cannot start now (why filled), as the status class: OP_ERR_INVALID
 * for the request itself, OP_ERR_STATE for a name in use, OP_ERR_LIMIT. */
static enum op_rc refuse(struct maint *m, const struct maint_request *r, struct buf *why)
{
    const struct cfg *cfg = gen_cfg(m->gen);
    if (!r->name || !cfg_name_ok(r->name)) {
        buf_addf(why, "name must be 1 to %d bytes without control characters", CFG_MAX_NAME_BYTES);
        return OP_ERR_INVALID;
    }
    if (r->duration_ms <= 0 || r->duration_ms > CFG_MAX_MAINT_DURATION_MS) {
        buf_adds(why, "duration must be above 0 and at most 31d");
        return OP_ERR_INVALID;
    }
    if (r->n_checks && r->n_slos) {
        buf_adds(why, "use either checks or slos, not both (leave out both to cover everything)");
        return OP_ERR_INVALID;
    }
    if (!names_ok(cfg, r->checks, r->n_checks, false, why) ||
        !names_ok(cfg, r->slos, r->n_slos, true, why))
        return OP_ERR_INVALID;
    if (r->alertmanager_silence && cfg_alerting(cfg)->n_alertmanagers == 0) {
        buf_adds(why, "alertmanager_silence needs alerting.alertmanagers in the configuration");
        return OP_ERR_INVALID;
    }
    bool adhoc;
    const struct window *w = maint_find_locked(m, r->name, &adhoc);
    if (w && !adhoc) {
        buf_adds(why, "a configured window has that name");
        return OP_ERR_STATE;
    }
    if (w) {
        char end[40];
        maint_fmt_time(w->sched.start_ms + w->sched.duration_ms, end, sizeof(end));
        buf_addf(why, "an ad-hoc window of that name runs until %s (DELETE it first)", end);
        return OP_ERR_STATE;
    }
    if (m->n_adhoc >= MAINT_MAX_ADHOC) {
        buf_addf(why, "at most %d ad-hoc windows at a time", MAINT_MAX_ADHOC);
        return OP_ERR_LIMIT;
    }
    return OP_OK;
}

enum op_rc maint_start(struct maint *m, const struct maint_request *r, struct buf *out,
                       struct buf *why)
{
    int64_t now = clock_wall_ms(m->clock);
    pthread_mutex_lock(&m->lock);
    int64_t before = m->next_change;
    enum op_rc rc = m->gen ? refuse(m, r, why) : OP_ERR_STATE;
    if (rc != OP_OK) {
        pthread_mutex_unlock(&m->lock);
        return rc;
    }
    m->adhoc = xrealloc(m->adhoc, (m->n_adhoc + 1) * sizeof(*m->adhoc));
    struct window *w = &m->adhoc[m->n_adhoc++];
    *w = (struct window){
        .name = xstrdup(r->name),
        .adhoc = true,
        .sched = {.start_ms = now, .duration_ms = r->duration_ms},
        .checks = copy_names(r->checks, r->n_checks),
        .n_checks = r->n_checks,
        .slos = copy_names(r->slos, r->n_slos),
        .n_slos = r->n_slos,
        .exclude = r->exclude_from_slos,
        .silence = r->alertmanager_silence,
    };
    maint_save_locked(m);
    int64_t after = maint_evaluate_locked(m, now);
    bool adhoc;
    window_json(maint_find_locked(m, r->name, &adhoc), now, out);
    pthread_mutex_unlock(&m->lock);
    if (after < before && m->wake)
        m->wake(m->wake_arg);
    return OP_OK;
}

enum op_rc maint_end(struct maint *m, const char *name, struct buf *out, struct buf *why)
{
    int64_t now = clock_wall_ms(m->clock);
    pthread_mutex_lock(&m->lock);
    bool adhoc;
    struct window *w = maint_find_locked(m, name, &adhoc);
    enum op_rc rc = OP_OK;
    if (!w) {
        buf_adds(why, "no maintenance window of that name");
        rc = OP_ERR_NOT_FOUND;
    } else if (!adhoc) {
        buf_adds(why, "the window is configured: edit the configuration to change it");
        rc = OP_ERR_STATE;
    } else {
        /* Shown as it ends: inactive, its end now. */
        struct window shown = *w;
        shown.active = false;
        if (w->active)
            shown.sched.duration_ms = now > w->sched.start_ms ? now - w->sched.start_ms : 0;
        window_json(&shown, now, out);
        maint_drop_adhoc_locked(m, (size_t)(w - m->adhoc), now);
    }
    pthread_mutex_unlock(&m->lock);
    return rc;
}

/* ---- maintenance.json ---- */

/* 9999-12-31T23:59:59Z: no saved start is later. */
#define MAINT_MAX_TIME_MS 253402300799000LL

static void path_of(const struct maint *m, const char *suffix, struct buf *b)
{
    buf_addf(b, "%s/%s%s", m->dir, MAINT_FILE_NAME, suffix);
}

static enum op_rc write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return OP_ERR_IO;
        p += w;
        n -= (size_t)w;
    }
    return OP_OK;
}

/* data into <dir>/maintenance.json: a temporary file written and synced,
 * renamed over the old one, the directory synced. */
static enum op_rc write_atomic(const struct maint *m, const struct buf *data, const char **step)
{
    struct buf path, tmp;
    buf_init(&path, 8192);
    buf_init(&tmp, 8192);
    path_of(m, "", &path);
    path_of(m, ".tmp", &tmp);
    enum op_rc rc = OP_ERR_IO;
    *step = "path too long";
    if (path.failed || tmp.failed || data->failed)
        goto out;
    *step = "create";
    int fd = open(buf_str(&tmp), O_WRONLY | O_CREAT | O_TRUNC | O_NONBLOCK | O_CLOEXEC, 0640);
    if (fd < 0)
        goto out;
    *step = "write";
    bool ok = write_all(fd, data->data, data->len) == OP_OK;
    if (ok)
        *step = "fsync";
    ok = ok && fsync(fd) == 0;
    if (close(fd) != 0 && ok) {
        *step = "close";
        ok = false;
    }
    if (ok)
        *step = "rename";
    if (!ok || rename(buf_str(&tmp), buf_str(&path)) != 0) {
        unlink(buf_str(&tmp));
        goto out;
    }
    int dfd = open(m->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    rc = OP_OK;
out:
    buf_free(&path);
    buf_free(&tmp);
    return rc;
}

/* ,"silences":[...]: the silences kept for the active windows now, each
 * {window, label, value, start_ms, end_ms} (a restart retires those it no
 * longer wants). Left out, with an error logged, when they do not fit in
 * the file beside the windows: the windows matter more. */
static void add_silences(struct maint *m, struct buf *data)
{
    if (!m->silences || data->failed || data->len + 64 > MAINT_MAX_FILE_BYTES)
        return;
    struct buf sil;
    buf_init(&sil, MAINT_MAX_FILE_BYTES - data->len - 8);
    buf_adds(&sil, ",\"silences\":[");
    size_t n = 0;
    for (size_t i = 0; i < m->n_conf + m->n_adhoc; i++) {
        const struct window *w = i < m->n_conf ? &m->conf[i] : &m->adhoc[i - m->n_conf];
        if (!w->active || !w->silence)
            continue;
        struct buf re[2];
        for (int kind = 0; kind < 2; kind++)
            buf_init(&re[kind], MAINT_MAX_MATCHER_BYTES);
        maint_silence_values(m, w, re);
        for (int kind = 0; kind < 2; kind++) {
            if (!re[kind].len || re[kind].failed)
                continue;
            buf_adds(&sil, n++ ? ",\n{\"window\":" : "\n{\"window\":");
            buf_add_json_string(&sil, w->name);
            buf_addf(&sil, ",\"label\":\"%s\",\"value\":", maint_kind_label[kind]);
            buf_add_json_string(&sil, buf_str(&re[kind]));
            buf_addf(&sil, ",\"start_ms\":%lld,\"end_ms\":%lld}", (long long)w->cur_start,
                     (long long)w->cur_end);
        }
        for (int kind = 0; kind < 2; kind++)
            buf_free(&re[kind]);
    }
    buf_adds(&sil, "\n]");
    if (sil.failed)
        log_error("the silences of the maintenance windows do not fit in their file; a restart "
                  "with another configuration would not expire those it no longer wants",
                  "dir", m->dir);
    else
        buf_add(data, sil.data, sil.len);
    buf_free(&sil);
}

void maint_save_locked(struct maint *m)
{
    struct buf data;
    buf_init(&data, MAINT_MAX_FILE_BYTES);
    buf_adds(&data, "{\"version\":1,\"windows\":[");
    for (size_t i = 0; i < m->n_adhoc; i++) {
        const struct window *w = &m->adhoc[i];
        buf_adds(&data, i ? ",\n{\"name\":" : "\n{\"name\":");
        buf_add_json_string(&data, w->name);
        buf_addf(&data, ",\"start_ms\":%lld,\"duration_ms\":%lld", (long long)w->sched.start_ms,
                 (long long)w->sched.duration_ms);
        add_names(&data, "checks", w->checks, w->n_checks);
        add_names(&data, "slos", w->slos, w->n_slos);
        buf_addf(&data, ",\"exclude_from_slos\":%s,\"alertmanager_silence\":%s}",
                 w->exclude ? "true" : "false", w->silence ? "true" : "false");
    }
    buf_adds(&data, "\n]");
    add_silences(m, &data);
    buf_adds(&data, "}\n");
    m->save_needed = false;
    const char *step;
    errno = 0;
    if (write_atomic(m, &data, &step) != OP_OK)
        log_error("cannot save the ad-hoc maintenance windows; they run on but a restart would "
                  "forget them",
                  "dir", m->dir, "step", step, "err", errno ? strerror(errno) : "too large");
    buf_free(&data);
}

/* The names of a saved window's list (a JSON array of strings). */
static bool load_names(json_t *arr, char ***out, size_t *n)
{
    if (!json_is_array(arr) || json_array_size(arr) > CFG_MAX_CHECKS)
        return false;
    *n = json_array_size(arr);
    *out = xcalloc(*n + 1, sizeof(char *));
    for (size_t i = 0; i < *n; i++) {
        const char *s = json_string_value(json_array_get(arr, i));
        if (!s)
            return false;
        (*out)[i] = xstrdup(s);
    }
    return true;
}

/* One saved window into w; false when it is malformed. */
static bool load_window(json_t *o, struct window *w)
{
    *w = (struct window){.adhoc = true};
    const char *name = json_string_value(json_object_get(o, "name"));
    json_t *start = json_object_get(o, "start_ms"), *dur = json_object_get(o, "duration_ms");
    json_t *ex = json_object_get(o, "exclude_from_slos"),
           *si = json_object_get(o, "alertmanager_silence");
    if (!name || !cfg_name_ok(name) || !json_is_integer(start) || !json_is_integer(dur) ||
        !json_is_boolean(ex) || !json_is_boolean(si))
        return false;
    w->name = xstrdup(name);
    w->sched.start_ms = json_integer_value(start);
    w->sched.duration_ms = json_integer_value(dur);
    w->exclude = json_is_true(ex);
    w->silence = json_is_true(si);
    /* Times the arithmetic on them (start + duration) can never overflow. */
    return w->sched.start_ms >= 0 && w->sched.start_ms <= MAINT_MAX_TIME_MS &&
           w->sched.duration_ms > 0 && w->sched.duration_ms <= CFG_MAX_MAINT_DURATION_MS &&
           load_names(json_object_get(o, "checks"), &w->checks, &w->n_checks) &&
           load_names(json_object_get(o, "slos"), &w->slos, &w->n_slos);
}

/* One saved silence into p; false when it is malformed. */
static bool load_silence(json_t *o, struct prev_silence *p)
{
    *p = (struct prev_silence){0};
    const char *window = json_string_value(json_object_get(o, "window"));
    const char *label = json_string_value(json_object_get(o, "label"));
    const char *value = json_string_value(json_object_get(o, "value"));
    json_t *start = json_object_get(o, "start_ms"), *end = json_object_get(o, "end_ms");
    if (!window || !cfg_name_ok(window) || !label || !value || !*value ||
        strlen(value) > MAINT_MAX_MATCHER_BYTES || !json_is_integer(start) || !json_is_integer(end))
        return false;
    p->kind = strcmp(label, "check") == 0 ? 0 : strcmp(label, "slo") == 0 ? 1 : -1;
    p->start_ms = json_integer_value(start);
    p->end_ms = json_integer_value(end);
    if (p->kind < 0 || p->start_ms < 0 || p->start_ms > MAINT_MAX_TIME_MS ||
        p->end_ms <= p->start_ms || p->end_ms - p->start_ms > CFG_MAX_MAINT_DURATION_MS)
        return false;
    p->window = xstrdup(window);
    p->value = xstrdup(value);
    return true;
}

/* The optional "silences" of the file (absent before outpost kept them). */
static bool load_silences(struct maint *m, json_t *arr)
{
    if (!arr)
        return true;
    if (!json_is_array(arr) || json_array_size(arr) > MAINT_MAX_SAVED_SILENCES)
        return false;
    m->prev = xcalloc(json_array_size(arr) + 1, sizeof(*m->prev));
    for (size_t i = 0; i < json_array_size(arr); i++) {
        if (!load_silence(json_array_get(arr, i), &m->prev[m->n_prev]))
            return false;
        m->n_prev++;
    }
    return true;
}

/* The windows saved in data (len bytes) into m (which has none yet): true,
 * or false with none kept and *why (static) saying what is wrong. STATIC:
 * tests/fuzz reaches it. */
STATIC bool maint_parse_saved(struct maint *m, const char *data, size_t len, const char **why);

STATIC bool maint_parse_saved(struct maint *m, const char *data, size_t len, const char **why)
{
    json_error_t jerr;
    json_t *root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
    json_t *arr = json_object_get(root, "windows");
    *why = "not the JSON outpost writes";
    if (!json_is_array(arr) || json_integer_value(json_object_get(root, "version")) != 1 ||
        json_array_size(arr) > MAINT_MAX_ADHOC)
        goto bad;
    m->adhoc = xcalloc(json_array_size(arr) + 1, sizeof(*m->adhoc));
    for (size_t i = 0; i < json_array_size(arr); i++) {
        struct window *w = &m->adhoc[m->n_adhoc];
        bool ok = load_window(json_array_get(arr, i), w);
        bool adhoc;
        if (ok && maint_find_locked(m, w->name, &adhoc))
            ok = false; /* a name twice */
        if (!ok) {
            maint_window_free(w);
            goto bad;
        }
        m->n_adhoc++;
    }
    if (!load_silences(m, json_object_get(root, "silences")))
        goto bad;
    json_decref(root);
    return true;
bad:
    json_decref(root);
    maint_prev_free(m);
    for (size_t i = 0; i < m->n_adhoc; i++)
        maint_window_free(&m->adhoc[i]);
    free(m->adhoc);
    m->adhoc = NULL;
    m->n_adhoc = 0;
    return false;
}

void maint_load(struct maint *m)
{
    struct buf path, data;
    buf_init(&path, 8192);
    buf_init(&data, MAINT_MAX_FILE_BYTES);
    path_of(m, "", &path);
    struct stat st;
    const char *why = "unreadable or larger than 8 MiB";
    if (path.failed || stat(buf_str(&path), &st) != 0)
        goto out; /* none: no ad-hoc window was running */
    if (!S_ISREG(st.st_mode)) {
        log_error("the ad-hoc maintenance windows file is not a regular file; ignored", "path",
                  buf_str(&path));
        goto out;
    }
    if (buf_read_file(&data, buf_str(&path)) != OP_OK ||
        !maint_parse_saved(m, data.data ? data.data : "", data.len, &why)) {
        struct buf aside;
        buf_init(&aside, 8192);
        path_of(m, ".bad", &aside);
        bool moved = !aside.failed && rename(buf_str(&path), buf_str(&aside)) == 0;
        log_error("the ad-hoc maintenance windows file is unusable; starting without them", "path",
                  buf_str(&path), "err", why, "moved_to",
                  moved ? buf_str(&aside) : "(left in place)");
        buf_free(&aside);
    } else if (m->n_adhoc) {
        char n[32];
        snprintf(n, sizeof(n), "%zu", m->n_adhoc);
        log_info("ad-hoc maintenance windows restored", "path", buf_str(&path), "windows", n);
    }
out:
    buf_free(&path);
    buf_free(&data);
}
