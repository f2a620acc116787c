/*
 * castore.c - CA files loaded once into shared, refcounted X509_STOREs
 * (castore.h has the why). A process-wide table, keyed by the file's path
 * and identity, holds every store some configuration uses.
 */
#include "castore.h"
#include "buf.h"
#include "cfg_yaml.h"

#include <curl/curl.h>
#include <errno.h>
#include <limits.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* What makes two stores the same: a file is read again when any of this
 * changes (an editor's rename changes the inode, an in-place write the
 * time or size). */
struct castore_key {
    const char *path;
    dev_t dev;
    ino_t ino;
    int64_t mtime_ns;
    int64_t size;
    bool system; /* the lazily read default store */
};

struct castore {
    struct castore_key key; /* key.path points at path */
    char *path;
    uint64_t hash;
    unsigned refs;        /* under g_lock */
    struct castore *next; /* in its bucket, under g_lock */
    pthread_mutex_t mu;   /* the lazy load of the system store */
    X509_STORE *x509;     /* NULL until loaded (system store) */
    bool tried;           /* the system store's load was tried */
    char err[160];        /* why that load failed */
};

#define CASTORE_BUCKETS 256

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static struct castore *g_buckets[CASTORE_BUCKETS];
static atomic_ulong g_loads;

/* libcurl's built-in CA bundle and directory ("" when it has none). */
static char g_cainfo[PATH_MAX], g_capath[PATH_MAX];
static pthread_once_t g_defaults_once = PTHREAD_ONCE_INIT;

/* A message into why (cap bytes), cut to fit: a long path still leaves a
 * useful start. */
__attribute__((format(printf, 3, 4))) static void whyf(char *why, size_t cap, const char *fmt, ...)
{
    if (!cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    (void)vsnprintf(why, cap, fmt, ap);
    va_end(ap);
}

static void copy_why(char *why, size_t cap, const char *text)
{
    whyf(why, cap, "%s", text);
}

/* Ask libcurl where its defaults are. curl_global_init is refcounted, so
 * the pair leaves libcurl as it found it; this runs once, normally when the
 * agent's first configuration loads, before any thread uses libcurl (and
 * libcurl's global init is thread-safe since 7.84 should it run later). */
static void defaults_init(void)
{
    if (curl_global_init(CURL_GLOBAL_ALL) != CURLE_OK)
        return;
    CURL *e = curl_easy_init();
    char *cainfo = NULL, *capath = NULL;
    if (e) {
        (void)curl_easy_getinfo(e, CURLINFO_CAINFO, &cainfo);
        (void)curl_easy_getinfo(e, CURLINFO_CAPATH, &capath);
        if (cainfo && strlen(cainfo) < sizeof(g_cainfo))
            memcpy(g_cainfo, cainfo, strlen(cainfo) + 1);
        if (capath && strlen(capath) < sizeof(g_capath))
            memcpy(g_capath, capath, strlen(capath) + 1);
        curl_easy_cleanup(e);
    }
    curl_global_cleanup();
}

static uint64_t key_hash(const struct castore_key *k)
{
    uint64_t h = hash_mem(k->path, strlen(k->path) + 1);
    h = hash_mem_from(h, &k->dev, sizeof(k->dev));
    h = hash_mem_from(h, &k->ino, sizeof(k->ino));
    h = hash_mem_from(h, &k->mtime_ns, sizeof(k->mtime_ns));
    h = hash_mem_from(h, &k->size, sizeof(k->size));
    return hash_mem_from(h, &k->system, sizeof(k->system));
}

static bool key_equal(const struct castore_key *a, const struct castore_key *b)
{
    return a->dev == b->dev && a->ino == b->ino && a->mtime_ns == b->mtime_ns &&
           a->size == b->size && a->system == b->system && strcmp(a->path, b->path) == 0;
}

static void key_from_stat(struct castore_key *k, const struct stat *st)
{
    k->dev = st->st_dev;
    k->ino = st->st_ino;
    k->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
    k->size = (int64_t)st->st_size;
}

/* The held store with key k, one more reference taken; NULL if none. Call
 * with g_lock held. */
static struct castore *find_locked(const struct castore_key *k, uint64_t h)
{
    for (struct castore *s = g_buckets[h % CASTORE_BUCKETS]; s; s = s->next)
        if (s->hash == h && key_equal(&s->key, k)) {
            s->refs++;
            return s;
        }
    return NULL;
}

/* A store made outside the lock joins the table, unless another thread
 * added the same meanwhile: then that one is returned and s is freed. */
static struct castore *insert(struct castore *s)
{
    pthread_mutex_lock(&g_lock);
    struct castore *have = find_locked(&s->key, s->hash);
    if (!have) {
        size_t b = s->hash % CASTORE_BUCKETS;
        s->refs = 1;
        s->next = g_buckets[b];
        g_buckets[b] = s;
    }
    pthread_mutex_unlock(&g_lock);
    if (have) {
        X509_STORE_free(s->x509);
        pthread_mutex_destroy(&s->mu);
        free(s->path);
        free(s);
        return have;
    }
    return s;
}

static struct castore *store_new(const struct castore_key *k)
{
    struct castore *s = xcalloc(1, sizeof(*s));
    s->path = xstrdup(k->path);
    s->key = *k;
    s->key.path = s->path;
    s->hash = key_hash(&s->key);
    pthread_mutex_init(&s->mu, NULL);
    return s;
}

/* OpenSSL's reason for the last error; the queue is emptied by the
 * caller, so the probe thread's next TLS call never sees it. */
static void openssl_why(char *why, size_t cap, const char *fallback)
{
    unsigned long e = ERR_peek_last_error();
    const char *r = e ? ERR_reason_error_string(e) : NULL;
    copy_why(why, cap, r ? r : fallback);
}

/* What libcurl adds to the certificates of every store it verifies with.
 * False with why. */
static bool store_finish(X509_STORE *st, char *why, size_t cap)
{
    X509_STORE_set_flags(st, X509_V_FLAG_TRUSTED_FIRST | X509_V_FLAG_PARTIAL_CHAIN);
    /* libcurl also names its CA directory to OpenSSL (X509_STORE_load_path):
     * certificates there are read when a lookup needs them, not now. */
    if (g_capath[0]) {
        X509_LOOKUP *lk = X509_STORE_add_lookup(st, X509_LOOKUP_hash_dir());
        if (!lk || !X509_LOOKUP_add_dir(lk, g_capath, X509_FILETYPE_PEM)) {
            openssl_why(why, cap, "cannot use the CA directory");
            return false;
        }
    }
    return true;
}

/* An X509_STORE of the PEM certificates and CRLs in data (len bytes), as
 * X509_STORE_load_file would make it, finished like libcurl's. Caller
 * frees; NULL with why. */
static X509_STORE *parse_pem(const char *data, size_t len, char *why, size_t cap)
{
    atomic_fetch_add(&g_loads, 1);
    X509_STORE *st = X509_STORE_new();
    BIO *bio = len <= INT_MAX ? BIO_new_mem_buf(data, (int)len) : NULL;
    STACK_OF(X509_INFO) *infos = NULL;
    int n = 0;
    if (!st || !bio) {
        copy_why(why, cap, "out of memory");
        goto fail;
    }
    infos = PEM_X509_INFO_read_bio(bio, NULL, NULL, NULL);
    if (!infos) {
        openssl_why(why, cap, "not PEM");
        goto fail;
    }
    for (int i = 0; i < sk_X509_INFO_num(infos); i++) {
        X509_INFO *info = sk_X509_INFO_value(infos, i);
        if ((info->x509 && !X509_STORE_add_cert(st, info->x509)) ||
            (info->crl && !X509_STORE_add_crl(st, info->crl))) {
            openssl_why(why, cap, "cannot add a certificate");
            goto fail;
        }
        n += (info->x509 != NULL) + (info->crl != NULL);
    }
    if (n == 0) {
        copy_why(why, cap, "no certificate in it");
        goto fail;
    }
    if (!store_finish(st, why, cap))
        goto fail;
    sk_X509_INFO_pop_free(infos, X509_INFO_free);
    BIO_free(bio);
    ERR_clear_error();
    return st;
fail:
    sk_X509_INFO_pop_free(infos, X509_INFO_free);
    BIO_free(bio);
    X509_STORE_free(st);
    ERR_clear_error();
    return NULL;
}

/* Open path without blocking and check it is a regular file; its identity
 * into k. Caller closes. */
static FILE *open_file(const char *path, struct castore_key *k, char *why, size_t cap)
{
    const char *w = NULL;
    FILE *f = cfg_open_regular(path, &w);
    struct stat st;
    if (!f) {
        copy_why(why, cap, w);
        return NULL;
    }
    if (fstat(fileno(f), &st) != 0) {
        copy_why(why, cap, strerror(errno));
        fclose(f);
        return NULL;
    }
    key_from_stat(k, &st);
    return f;
}

/* The whole of f, parsed. NULL with why. */
static X509_STORE *load_file(FILE *f, char *why, size_t cap)
{
    struct buf b;
    buf_init(&b, CASTORE_MAX_FILE_BYTES);
    char chunk[16384];
    size_t got;
    while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0)
        if (buf_add(&b, chunk, got) != OP_OK)
            break;
    X509_STORE *st = NULL;
    if (b.failed)
        whyf(why, cap, "larger than %u bytes", CASTORE_MAX_FILE_BYTES);
    else if (ferror(f))
        copy_why(why, cap, "read error");
    else
        st = parse_pem(buf_str(&b), b.len, why, cap);
    buf_free(&b);
    return st;
}

struct castore *castore_get_file(const char *path, char *why, size_t cap)
{
    pthread_once(&g_defaults_once, defaults_init);
    struct castore_key k = {.path = path};
    FILE *f = open_file(path, &k, why, cap);
    if (!f)
        return NULL;
    uint64_t h = key_hash(&k);
    pthread_mutex_lock(&g_lock);
    struct castore *s = find_locked(&k, h);
    pthread_mutex_unlock(&g_lock);
    if (s) {
        fclose(f);
        return s;
    }
    /* Parsed outside the lock: a large bundle takes milliseconds, and other
     * threads may be releasing stores meanwhile. */
    X509_STORE *x509 = load_file(f, why, cap);
    fclose(f);
    if (!x509)
        return NULL;
    s = store_new(&k);
    s->x509 = x509;
    s->tried = true;
    return insert(s);
}

struct castore *castore_get_system(void)
{
    pthread_once(&g_defaults_once, defaults_init);
    /* Only the identity now; a bundle that cannot be opened is keyed as
     * missing and reported when a probe needs it. */
    struct castore_key k = {.path = g_cainfo, .system = true};
    char why[8];
    FILE *f = g_cainfo[0] ? open_file(g_cainfo, &k, why, sizeof(why)) : NULL;
    if (f)
        fclose(f);
    uint64_t h = key_hash(&k);
    pthread_mutex_lock(&g_lock);
    struct castore *s = find_locked(&k, h);
    pthread_mutex_unlock(&g_lock);
    return s ? s : insert(store_new(&k));
}

/* The system store's certificates: libcurl's bundle, or when it has none
 * its directory alone (as libcurl would verify). NULL with why. */
static X509_STORE *load_system(char *why, size_t cap)
{
    char w[128];
    if (!g_cainfo[0]) {
        X509_STORE *st = g_capath[0] ? X509_STORE_new() : NULL;
        if (st && store_finish(st, w, sizeof(w)))
            return st;
        X509_STORE_free(st);
        ERR_clear_error();
        copy_why(why, cap, "libcurl has no default CA certificates");
        return NULL;
    }
    struct castore_key k = {.path = g_cainfo};
    FILE *f = open_file(g_cainfo, &k, w, sizeof(w));
    if (!f) {
        whyf(why, cap, "cannot read the system CA bundle %s: %s", g_cainfo, w);
        return NULL;
    }
    X509_STORE *st = load_file(f, w, sizeof(w));
    fclose(f);
    if (!st)
        whyf(why, cap, "cannot load the system CA bundle %s: %s", g_cainfo, w);
    return st;
}

X509_STORE *castore_x509(struct castore *s, char *why, size_t cap)
{
    pthread_mutex_lock(&s->mu);
    if (!s->tried) {
        s->tried = true;
        s->x509 = load_system(s->err, sizeof(s->err));
    }
    X509_STORE *x509 = s->x509;
    if (!x509)
        copy_why(why, cap, s->err);
    pthread_mutex_unlock(&s->mu);
    return x509;
}

void castore_put(struct castore *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&g_lock);
    bool last = --s->refs == 0;
    if (last) {
        struct castore **pp = &g_buckets[s->hash % CASTORE_BUCKETS];
        while (*pp != s)
            pp = &(*pp)->next;
        *pp = s->next;
    }
    pthread_mutex_unlock(&g_lock);
    if (!last)
        return;
    X509_STORE_free(s->x509);
    pthread_mutex_destroy(&s->mu);
    free(s->path);
    free(s);
}

unsigned long castore_loads(void)
{
    return atomic_load(&g_loads);
}
