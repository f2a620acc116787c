/* state.c - SLO state file: encode, decode, atomic write, restore. */
#include "state.h"
#include "log.h"
#include "names.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

static const char magic[8] = {'O', 'U', 'T', 'P', 'O', 'S', 'T', 'S'};

struct saved_level {
    int64_t bucket_ms;
    uint32_t count;
    int64_t *idx;
    struct sliw_bucket *b;
};

struct saved_slo {
    char *name;
    uint64_t identity;
    uint64_t events_total, bad_total;
    uint8_t n_levels;
    struct saved_level lv[SLIW_LEVELS];
    struct slo_rate rates[SLO_MAX_RATES];
    uint16_t n_rates;
    int64_t keep_ms;    /* how long it is kept once its SLO is gone */
    int64_t retired_ms; /* when its SLO left the configuration; 0: configured */
};

struct state_file {
    struct saved_slo *recs;
    size_t n;
    struct names *by_name; /* record index by SLO name, for restore */
};

/* ---- encoding ---- */

static void put_le(struct buf *b, uint64_t v, int bytes)
{
    unsigned char tmp[8];
    for (int i = 0; i < bytes; i++)
        tmp[i] = (unsigned char)(v >> (8 * i));
    buf_add(b, tmp, (size_t)bytes);
}

static void record_free(struct saved_slo *r)
{
    free(r->name);
    for (int l = 0; l < SLIW_LEVELS; l++) {
        free(r->lv[l].idx);
        free(r->lv[l].b);
    }
    memset(r, 0, sizeof(*r));
}

/* A record of the live state st (a copy of its windows) named name. */
static void record_of(struct saved_slo *r, const char *name, struct slo_state *st)
{
    memset(r, 0, sizeof(*r));
    struct sliw *w = slost_copy(st, &r->events_total, &r->bad_total);
    r->name = xstrdup(name);
    r->identity = slost_identity(st);
    r->n_levels = SLIW_LEVELS;
    for (int l = 0; l < SLIW_LEVELS; l++) {
        struct sliw_level_view v;
        sliw_level(w, l, &v);
        struct saved_level *sl = &r->lv[l];
        sl->bucket_ms = v.bucket_ms;
        int64_t lo = v.head == INT64_MIN ? 0 : v.head - (int64_t)v.n + 1;
        int64_t hi = v.head == INT64_MIN ? -1 : v.head;
        sl->idx = xcalloc(v.n ? v.n : 1, sizeof(int64_t));
        sl->b = xcalloc(v.n ? v.n : 1, sizeof(struct sliw_bucket));
        /* Oldest first, so a restore only ever moves the head forward. */
        for (int64_t k = lo; k <= hi; k++) {
            const struct sliw_bucket *bk = &v.buckets[sliw_slot(k, v.n)];
            if (!bk->events && !bk->bad)
                continue;
            sl->idx[sl->count] = k;
            sl->b[sl->count++] = *bk;
        }
        /* A kept record may stay for months: only its used buckets. */
        if (sl->count < v.n) {
            sl->idx = xrealloc(sl->idx, (sl->count ? sl->count : 1) * sizeof(int64_t));
            sl->b = xrealloc(sl->b, (sl->count ? sl->count : 1) * sizeof(struct sliw_bucket));
        }
    }
    free(w);
    r->n_rates = (uint16_t)slost_rates(st, r->rates, SLO_MAX_RATES);
    int64_t span = slost_span_ms(st);
    r->keep_ms = span > 0 && span < STATE_MAX_KEEP_MS ? span : STATE_MAX_KEEP_MS;
    r->retired_ms = 0;
}

static void encode_record(struct buf *out, const struct saved_slo *r)
{
    size_t nlen = strlen(r->name);
    put_le(out, nlen, 2);
    buf_add(out, r->name, nlen);
    put_le(out, r->identity, 8);
    put_le(out, r->events_total, 8);
    put_le(out, r->bad_total, 8);
    put_le(out, SLIW_LEVELS, 1);
    for (int l = 0; l < SLIW_LEVELS; l++) {
        const struct saved_level *sl = &r->lv[l];
        put_le(out, (uint64_t)sl->bucket_ms, 8);
        put_le(out, sl->count, 4);
        for (uint32_t k = 0; k < sl->count; k++) {
            put_le(out, (uint64_t)sl->idx[k], 8);
            put_le(out, sl->b[k].events, 4);
            put_le(out, sl->b[k].bad, 4);
        }
    }
    put_le(out, r->n_rates, 2);
    for (size_t k = 0; k < r->n_rates; k++) {
        uint64_t bits;
        memcpy(&bits, &r->rates[k].per_ms, sizeof(bits));
        put_le(out, (uint64_t)r->rates[k].from_ms, 8);
        put_le(out, bits, 8);
    }
    put_le(out, (uint64_t)r->keep_ms, 8);
    put_le(out, (uint64_t)r->retired_ms, 8);
}

static const char *name_at(const void *owner, size_t i)
{
    return ((const char *const *)owner)[i];
}

void state_encode_kept(const char *const *names, struct slo_state *const *states, size_t n,
                       const struct state_file *kept, struct buf *out)
{
    /* A kept record never stands next to a live SLO of its name. */
    struct names *live = names_new(name_at, names);
    for (size_t i = 0; i < n; i++)
        (void)names_add(live, i);
    size_t n_kept = 0;
    for (size_t i = 0; kept && i < kept->n; i++)
        n_kept += names_find(live, kept->recs[i].name) < 0;
    buf_add(out, magic, sizeof(magic));
    put_le(out, STATE_VERSION, 4);
    put_le(out, n + n_kept, 4);
    for (size_t i = 0; i < n; i++) {
        struct saved_slo r;
        record_of(&r, names[i], states[i]);
        encode_record(out, &r);
        record_free(&r);
    }
    for (size_t i = 0; kept && i < kept->n; i++)
        if (names_find(live, kept->recs[i].name) < 0)
            encode_record(out, &kept->recs[i]);
    names_free(live);
    uint32_t crc = (uint32_t)crc32(0L, (const Bytef *)out->data, (uInt)out->len);
    put_le(out, crc, 4);
}

void state_encode(const char *const *names, struct slo_state *const *states, size_t n,
                  struct buf *out)
{
    state_encode_kept(names, states, n, NULL, out);
}

/* ---- decoding ---- */

struct cursor {
    const unsigned char *p, *end;
    bool bad;
};

static uint64_t get_le(struct cursor *c, int bytes)
{
    if (c->bad || c->end - c->p < bytes) {
        c->bad = true;
        return 0;
    }
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v |= (uint64_t)c->p[i] << (8 * i);
    c->p += bytes;
    return v;
}

/* The schedule's rates of one record: few, increasing in time, finite and
 * plausible; anything else marks the file bad. */
static void decode_rates(struct cursor *c, struct saved_slo *r)
{
    r->n_rates = (uint16_t)get_le(c, 2);
    if (c->bad || r->n_rates > SLO_MAX_RATES) {
        c->bad = true;
        return;
    }
    for (uint16_t k = 0; k < r->n_rates && !c->bad; k++) {
        int64_t from = (int64_t)get_le(c, 8);
        uint64_t bits = get_le(c, 8);
        double per_ms;
        memcpy(&per_ms, &bits, sizeof(per_ms));
        if (!(per_ms >= 0 && per_ms <= STATE_MAX_RATE_PER_MS) || from > STATE_MAX_TIME_MS ||
            from < -STATE_MAX_TIME_MS || (k && from <= r->rates[k - 1].from_ms))
            c->bad = true;
        r->rates[k] = (struct slo_rate){from, per_ms};
    }
}

void state_file_free(struct state_file *f)
{
    if (!f)
        return;
    for (size_t i = 0; i < f->n; i++)
        record_free(&f->recs[i]);
    free(f->recs);
    names_free(f->by_name);
    free(f);
}

static const char *saved_name(const void *owner, size_t i)
{
    return ((const struct state_file *)owner)->recs[i].name;
}

size_t state_record_count(const struct state_file *f)
{
    return f->n;
}

static const int64_t level_ms[SLIW_LEVELS] = {SLIW_L0_MS, SLIW_L1_MS, SLIW_L2_MS};
static const uint32_t level_max[SLIW_LEVELS] = {SLIW_L0_N, SLIW_L1_N, SLIW_L2_MAX_N};

enum op_rc state_decode(const void *data, size_t len, struct state_file **out, struct buf *errors)
{
    const unsigned char *d = data;
    if (len < sizeof(magic) + 12 || memcmp(d, magic, sizeof(magic)) != 0) {
        buf_adds(errors, "not an outpost state file");
        return OP_ERR_INVALID;
    }
    uint32_t want = (uint32_t)crc32(0L, d, (uInt)(len - 4));
    struct cursor tail = {d + len - 4, d + len, false};
    if ((uint32_t)get_le(&tail, 4) != want) {
        buf_adds(errors, "checksum mismatch (truncated or damaged)");
        return OP_ERR_INVALID;
    }
    struct cursor c = {d + sizeof(magic), d + len - 4, false};
    uint32_t version = (uint32_t)get_le(&c, 4);
    if (version < STATE_VERSION_OLDEST || version > STATE_VERSION) {
        buf_addf(errors, "unsupported version %u (this build reads %u to %u)", version,
                 STATE_VERSION_OLDEST, STATE_VERSION);
        return OP_ERR_INVALID;
    }
    uint32_t n = (uint32_t)get_le(&c, 4);
    if (n > CFG_MAX_SLOS) {
        buf_adds(errors, "too many records");
        return OP_ERR_INVALID;
    }
    struct state_file *f = xcalloc(1, sizeof(*f));
    f->recs = xcalloc(n ? n : 1, sizeof(*f->recs));
    for (uint32_t i = 0; i < n && !c.bad; i++) {
        struct saved_slo *r = &f->recs[f->n++];
        uint16_t nlen = (uint16_t)get_le(&c, 2);
        if (c.bad || nlen == 0 || nlen > CFG_MAX_NAME_BYTES || c.end - c.p < nlen) {
            c.bad = true;
            break;
        }
        r->name = xstrndup((const char *)c.p, nlen);
        c.p += nlen;
        r->identity = get_le(&c, 8);
        r->events_total = get_le(&c, 8);
        r->bad_total = get_le(&c, 8);
        r->n_levels = (uint8_t)get_le(&c, 1);
        if (r->n_levels != SLIW_LEVELS) {
            c.bad = true;
            break;
        }
        for (int l = 0; l < SLIW_LEVELS && !c.bad; l++) {
            struct saved_level *sl = &r->lv[l];
            sl->bucket_ms = (int64_t)get_le(&c, 8);
            sl->count = (uint32_t)get_le(&c, 4);
            if (c.bad || sl->bucket_ms != level_ms[l] || sl->count > level_max[l] ||
                (size_t)(c.end - c.p) < (size_t)sl->count * 16) {
                c.bad = true;
                break;
            }
            sl->idx = xcalloc(sl->count ? sl->count : 1, sizeof(int64_t));
            sl->b = xcalloc(sl->count ? sl->count : 1, sizeof(struct sliw_bucket));
            for (uint32_t k = 0; k < sl->count && !c.bad; k++) {
                sl->idx[k] = (int64_t)get_le(&c, 8);
                sl->b[k].events = (uint32_t)get_le(&c, 4);
                sl->b[k].bad = (uint32_t)get_le(&c, 4);
                /* Indexes must be times a clock can show, increasing, and
                 * within one ring's span: anything else would make a
                 * restore loop for ages or overflow. */
                if (sl->b[k].bad > sl->b[k].events || sl->idx[k] < 0 ||
                    sl->idx[k] > STATE_MAX_TIME_MS / sl->bucket_ms ||
                    (k && sl->idx[k] <= sl->idx[k - 1]) ||
                    sl->idx[k] - sl->idx[0] >= (int64_t)level_max[l])
                    c.bad = true;
            }
        }
        if (version >= 2 && !c.bad)
            decode_rates(&c, r);
        /* Before version 3 no file said how long a record is worth
         * keeping: the longest any SLO keeps its windows. */
        r->keep_ms = STATE_MAX_KEEP_MS;
        r->retired_ms = 0;
        if (version >= 3 && !c.bad) {
            r->keep_ms = (int64_t)get_le(&c, 8);
            r->retired_ms = (int64_t)get_le(&c, 8);
            if (r->keep_ms <= 0 || r->keep_ms > STATE_MAX_KEEP_MS || r->retired_ms < 0 ||
                r->retired_ms > STATE_MAX_TIME_MS)
                c.bad = true;
        }
    }
    if (c.bad || c.p != c.end) {
        buf_adds(errors, "malformed record");
        state_file_free(f);
        return OP_ERR_INVALID;
    }
    /* Restore looks each configured SLO up by name: O(1) each. A name
     * saved twice (a crafted file) resolves to its first record. */
    f->by_name = names_new(saved_name, f);
    for (size_t i = 0; i < f->n; i++)
        (void)names_add(f->by_name, i);
    *out = f;
    return OP_OK;
}

/* ---- files ---- */

static void path_join(struct buf *b, const char *dir, const char *name)
{
    buf_reset(b);
    buf_addf(b, "%s/%s", dir, name);
}

enum op_rc state_read(const char *dir, struct state_file **out, struct buf *errors)
{
    struct buf path, data, why;
    buf_init(&path, 8192);
    buf_init(&data, STATE_MAX_FILE_BYTES);
    buf_init(&why, 4096);
    path_join(&path, dir, STATE_FILE_NAME);
    enum op_rc rc = OP_OK;
    /* O_NONBLOCK: a FIFO there would block the start for ever. */
    int fd = open(buf_str(&path), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    struct stat st;
    if (fd >= 0 && (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))) {
        /* Not ours to move or replace: whatever it is stays where it is,
         * and every snapshot fails until someone puts it away. */
        close(fd);
        buf_addf(errors,
                 "%s: not a regular file; left in place, SLO state is not saved until it is "
                 "removed",
                 buf_str(&path));
        rc = OP_ERR_INVALID;
        goto out;
    }
    if (fd < 0) {
        if (errno == ENOENT) {
            rc = OP_ERR_NOT_FOUND;
            goto out;
        }
        buf_addf(&why, "cannot open: %s", strerror(errno));
        rc = OP_ERR_INVALID;
    } else {
        char chunk[65536];
        ssize_t got;
        while ((got = read(fd, chunk, sizeof(chunk))) > 0) {
            if (buf_add(&data, chunk, (size_t)got) != OP_OK) {
                buf_addf(&why, "larger than %u bytes", STATE_MAX_FILE_BYTES);
                rc = OP_ERR_INVALID;
                break;
            }
        }
        if (got < 0 && rc == OP_OK) {
            buf_addf(&why, "cannot read: %s", strerror(errno));
            rc = OP_ERR_INVALID;
        }
        close(fd);
        if (rc == OP_OK)
            rc = state_decode(buf_str(&data), data.len, out, &why);
    }
    if (rc == OP_ERR_INVALID) {
        /* Keep the evidence, start fresh. */
        struct buf aside;
        buf_init(&aside, 8192);
        buf_addf(&aside, "%s.corrupt-%lld", buf_str(&path), (long long)time(NULL));
        /* Never overwrite earlier evidence from the same second. */
        for (int k = 1; k < 1000 && access(buf_str(&aside), F_OK) == 0; k++) {
            buf_reset(&aside);
            buf_addf(&aside, "%s.corrupt-%lld-%d", buf_str(&path), (long long)time(NULL), k);
        }
        if (rename(buf_str(&path), buf_str(&aside)) == 0)
            buf_addf(errors, "%s: %s; moved aside to %s", buf_str(&path), buf_str(&why),
                     buf_str(&aside));
        else
            buf_addf(errors, "%s: %s; could not move it aside: %s", buf_str(&path), buf_str(&why),
                     strerror(errno));
        buf_free(&aside);
    }
out:
    buf_free(&path);
    buf_free(&data);
    buf_free(&why);
    return rc;
}

bool state_restore(const struct state_file *f, const struct slo_spec *spec, struct slo_state *st,
                   int64_t now_ms)
{
    long i = names_find(f->by_name, spec->name);
    if (i < 0)
        return false;
    const struct saved_slo *r = &f->recs[i];
    if (r->identity != spec->identity) {
        log_info("SLI definition changed since the saved state, the SLO starts fresh", "slo",
                 spec->name);
        return false;
    }
    slost_restore_totals(st, r->events_total, r->bad_total);
    slost_restore_rates(st, r->rates, r->n_rates);
    for (int l = 0; l < SLIW_LEVELS; l++) {
        /* Buckets from the future (the clock was ahead when they were
         * written) would move the ring's head past now and make it drop
         * every new event until real time caught up: leave them out. */
        int64_t newest = (now_ms - 1) / r->lv[l].bucket_ms + 1;
        for (uint32_t k = 0; k < r->lv[l].count; k++)
            if (r->lv[l].idx[k] <= newest)
                slost_restore_bucket(st, l, r->lv[l].idx[k], r->lv[l].b[k]);
    }
    return true;
}

static enum op_rc write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return OP_ERR_IO;
        }
        p += w;
        n -= (size_t)w;
    }
    return OP_OK;
}

/* state_write with the encoding's cap as a parameter: the agent passes
 * STATE_MAX_FILE_BYTES, the size state_read accepts, and tests a small one
 * (reaching the real cap takes hundreds of MiB of SLO windows). */
STATIC enum op_rc state_write_capped(const char *dir, const char *const *names,
                                     struct slo_state *const *states, size_t n, size_t max,
                                     struct buf *errors) WUR;

enum op_rc state_write_data(const char *dir, const struct buf *data, struct buf *errors)
{
    struct buf path, tmp;
    buf_init(&path, 8192);
    buf_init(&tmp, 8192);
    path_join(&path, dir, STATE_FILE_NAME);
    path_join(&tmp, dir, STATE_FILE_NAME ".tmp");
    enum op_rc rc = OP_ERR_LIMIT;
    if (path.failed || tmp.failed) {
        buf_addf(errors, "storage path longer than %zu bytes", path.max);
        goto out;
    }
    /* Checked before the temp file exists: a snapshot the next start could
     * not read back must not replace one it can. */
    if (data->failed) {
        buf_addf(errors,
                 "%s: the encoded state is larger than %zu bytes; the previous file is kept",
                 buf_str(&path), data->max);
        goto out;
    }
    rc = OP_ERR_IO;
    /* The rename would replace whatever is there: only ever a file. */
    struct stat st;
    if (stat(buf_str(&path), &st) == 0 && !S_ISREG(st.st_mode)) {
        buf_addf(errors, "%s: not a regular file; not replacing it", buf_str(&path));
        goto out;
    }
    int err;
    const char *step = "create";
    /* O_NONBLOCK: a FIFO in the temp file's place fails here (no reader)
     * instead of blocking the snapshot for ever. */
    int fd = open(buf_str(&tmp), O_WRONLY | O_CREAT | O_TRUNC | O_NONBLOCK | O_CLOEXEC, 0640);
    if (fd < 0)
        goto fail;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd); /* someone else's: neither written nor removed */
        buf_addf(errors, "%s: not a regular file; not replacing it", buf_str(&tmp));
        goto out;
    }
    step = "write";
    if (write_all(fd, data->data, data->len) != OP_OK)
        goto fail_close;
    step = "fsync";
    if (fsync(fd) != 0)
        goto fail_close;
    step = "close";
    if (close(fd) != 0) {
        fd = -1;
        goto fail_unlink;
    }
    fd = -1;
    step = "rename";
    if (rename(buf_str(&tmp), buf_str(&path)) != 0)
        goto fail_unlink;
    /* The rename is durable only once the directory is. */
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    rc = OP_OK;
    goto out;
fail_close:
    err = errno;
    close(fd);
    errno = err;
fail_unlink:
    err = errno;
    unlink(buf_str(&tmp));
    errno = err;
fail:
    buf_addf(errors, "%s: cannot %s: %s", buf_str(&tmp), step, strerror(errno));
out:
    buf_free(&path);
    buf_free(&tmp);
    return rc;
}

STATIC enum op_rc state_write_capped(const char *dir, const char *const *names,
                                     struct slo_state *const *states, size_t n, size_t max,
                                     struct buf *errors)
{
    struct buf data;
    buf_init(&data, max);
    state_encode(names, states, n, &data);
    enum op_rc rc = state_write_data(dir, &data, errors);
    buf_free(&data);
    return rc;
}

enum op_rc state_write(const char *dir, const char *const *names, struct slo_state *const *states,
                       size_t n, struct buf *errors)
{
    return state_write_capped(dir, names, states, n, STATE_MAX_FILE_BYTES, errors);
}

/* ---- records of SLOs no longer configured ---- */

struct state_file *state_file_new(void)
{
    struct state_file *f = xcalloc(1, sizeof(*f));
    f->by_name = names_new(saved_name, f);
    return f;
}

bool state_has(const struct state_file *f, const char *name)
{
    return names_find(f->by_name, name) >= 0;
}

void state_retire(struct state_file *f, const char *name, struct slo_state *st, int64_t now_ms)
{
    struct saved_slo r;
    record_of(&r, name, st);
    r.retired_ms = now_ms;
    long i = names_find(f->by_name, name);
    if (i >= 0) {
        record_free(&f->recs[i]);
        f->recs[i] = r;
        return;
    }
    f->recs = xrealloc(f->recs, (f->n + 1) * sizeof(*f->recs));
    f->recs[f->n++] = r;
    (void)names_add(f->by_name, f->n - 1);
}

/* Most recently retired first. */
static int newer_first(const void *a, const void *b)
{
    int64_t x = ((const struct saved_slo *)a)->retired_ms;
    int64_t y = ((const struct saved_slo *)b)->retired_ms;
    return (x < y) - (x > y);
}

size_t state_forget(struct state_file *f, const struct cfg *cfg, int64_t now_ms)
{
    size_t kept = 0, dropped = 0;
    for (size_t i = 0; i < f->n; i++) {
        struct saved_slo *r = &f->recs[i];
        if (cfg && cfg_find_slo(cfg, r->name) >= 0) {
            record_free(r); /* its SLO is configured: the live state is the truth */
            continue;
        }
        /* Saved while configured, gone since: its time starts now. */
        if (r->retired_ms == 0)
            r->retired_ms = now_ms;
        if (now_ms - r->retired_ms >= r->keep_ms) {
            log_info("state of a removed SLO dropped: its windows have passed", "slo", r->name);
            record_free(r);
            dropped++;
            continue;
        }
        f->recs[kept++] = *r;
    }
    f->n = kept;
    /* The file holds at most CFG_MAX_SLOS records, what state_decode reads
     * back (and what STATE_MAX_FILE_BYTES was sized for): the live SLOs
     * come first, then the records that left last. */
    size_t live = cfg ? cfg_slo_count(cfg) : 0;
    size_t room = live < CFG_MAX_SLOS ? CFG_MAX_SLOS - live : 0;
    if (f->n > room) {
        qsort(f->recs, f->n, sizeof(*f->recs), newer_first);
        char n[32];
        snprintf(n, sizeof(n), "%zu", f->n - room);
        log_warn("state of removed SLOs dropped: more SLOs than the state file holds", "slos", n);
        for (size_t i = room; i < f->n; i++)
            record_free(&f->recs[i]);
        dropped += f->n - room;
        f->n = room;
    }
    names_clear(f->by_name);
    for (size_t i = 0; i < f->n; i++)
        (void)names_add(f->by_name, i);
    return dropped;
}
