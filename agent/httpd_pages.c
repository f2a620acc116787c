/* httpd_pages.c - the metrics page and the checks listing as shared pages,
 * and the server's own metric families (httpd_int.h). */
#include "httpd_int.h"
#include "log.h"
#include "runtime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* The bytes libmicrohttpd copies out of a page per write: each response
 * owns a buffer this large for as long as its client is connected, so it
 * is what a client that stops reading costs once its page is withdrawn.
 * 64 KiB: a 24 MB page goes out in a tenth less time than with 16 KiB
 * (fewer callbacks and sends), as fast as with 256 KiB, and stays below
 * glibc's mmap threshold. */
#define HTTPD_PAGE_BLOCK (64u << 10)

/* zlib's level for gzip pages, chosen by measurement on a 10,000-check
 * page of 23 MB (docs/benchmarks.md): levels 1 to 3 take the same time
 * (about 60 ms on the development machine) and level 3 gives the smallest
 * of them (1.36 MB); level 6, the default before, takes twice as long for
 * 1.20 MB. The repetitive text leaves the slower levels little to find. */
#define HTTPD_GZIP_LEVEL 3

/* gzip-compress in (caller frees *out). */
static enum op_rc gzip_buf(const char *in, size_t len, char **out, size_t *out_len)
{
    z_stream z = {0};
    if (deflateInit2(&z, HTTPD_GZIP_LEVEL, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return OP_ERR_SYSTEM;
    size_t cap = deflateBound(&z, (uLong)len);
    char *dst = xmalloc(cap);
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)len;
    z.next_out = (Bytef *)dst;
    z.avail_out = (uInt)cap;
    int zrc = deflate(&z, Z_FINISH);
    size_t n = z.total_out;
    deflateEnd(&z);
    if (zrc != Z_STREAM_END) {
        free(dst);
        return OP_ERR_SYSTEM;
    }
    *out = dst;
    *out_len = n;
    return OP_OK;
}

static void log_too_large(const char *what, unsigned cap_bytes)
{
    char cap[24];
    snprintf(cap, sizeof(cap), "%u", cap_bytes);
    log_error("page exceeds its size cap", "page", what, "cap_bytes", cap);
}

enum op_rc httpd_render_page(void *arg, unsigned variant, struct buf *out)
{
    struct httpd *h = arg;
    if (variant == HTTPD_PAGE_CHECKS) {
        buf_init(out, RT_MAX_CHECKS_JSON_BYTES);
        enum op_rc rc = rt_checks_json(h->rt, NULL, out);
        if (rc == OP_OK)
            rc = buf_addc(out, '\n');
        if (rc != OP_OK)
            log_too_large("checks", RT_MAX_CHECKS_JSON_BYTES);
        return rc;
    }
    enum expo_format fmt =
        variant == HTTPD_PAGE_OPENMETRICS || variant == HTTPD_PAGE_OPENMETRICS_GZIP
            ? EXPO_OPENMETRICS
            : EXPO_TEXT;
    bool gz = variant == HTTPD_PAGE_TEXT_GZIP || variant == HTTPD_PAGE_OPENMETRICS_GZIP;
    struct buf plain;
    buf_init(&plain, RT_MAX_SCRAPE_BYTES);
    /* The last page's size and an eighth: a page grows little between two
     * scrapes, and its memory is then made in one go, not by doubling. */
    size_t last = atomic_load(&h->last_plain_len[fmt == EXPO_OPENMETRICS]);
    buf_prealloc(&plain, last + last / 8);
    if (rt_render(h->rt, fmt, &plain) != OP_OK) {
        buf_free(&plain);
        buf_init(out, 0);
        log_too_large("metrics", RT_MAX_SCRAPE_BYTES);
        return OP_ERR_LIMIT;
    }
    atomic_store(&h->last_plain_len[fmt == EXPO_OPENMETRICS], plain.len);
    if (!gz) {
        *out = plain;
        return OP_OK;
    }
    /* The compressed page is all that is kept: the plain text goes as soon
     * as it is compressed. */
    char *z;
    size_t zlen;
    enum op_rc rc = gzip_buf(buf_str(&plain), plain.len, &z, &zlen);
    buf_free(&plain);
    buf_init(out, RT_MAX_SCRAPE_BYTES);
    if (rc != OP_OK)
        return rc;
    rc = buf_add(out, z, zlen);
    free(z);
    return rc;
}

/* ---- page responses ---- */

/* A response's hold on a page and on its connection's entry, so that a
 * withdrawn page can close the connection at once (pages.h). */
struct page_resp {
    struct page_reader *r;
    struct ct_conn *conn; /* referenced; may be NULL */
};

static void on_cut(void *arg)
{
    if (arg)
        ct_cut(arg);
}

static ssize_t read_page(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct page_resp *pr = cls;
    ssize_t n = pages_read(pr->r, pos, buf, max);
    /* Cut: end the response with an error, so the connection closes (the
     * client sees a short body, never a complete-looking wrong one). */
    if (n < 0)
        return MHD_CONTENT_READER_END_WITH_ERROR;
    if (n == 0)
        return MHD_CONTENT_READER_END_OF_STREAM;
    return n;
}

static void free_page_resp(void *cls)
{
    struct page_resp *pr = cls;
    pages_close(pr->r);
    if (pr->conn)
        ct_unref(pr->conn);
    free(pr);
}

/* Answer with page variant v. Returns false (nothing queued) when the page
 * could not be made; the caller answers with an error. */
static bool send_page(struct req *q, enum httpd_page v, const char *ctype, bool gzip,
                      enum MHD_Result *ret)
{
    struct page_reader *r;
    if (pages_open(q->h->pages, v, on_cut, q->conn, &r) != OP_OK)
        return false;
    struct page_resp *pr = xcalloc(1, sizeof(*pr));
    pr->r = r;
    pr->conn = q->conn;
    if (pr->conn)
        ct_ref(pr->conn);
    struct MHD_Response *resp = MHD_create_response_from_callback(pages_size(r), HTTPD_PAGE_BLOCK,
                                                                  read_page, pr, free_page_resp);
    if (!resp) {
        free_page_resp(pr);
        *ret = MHD_NO;
        return true;
    }
    MHD_add_response_header(resp, "Content-Type", ctype);
    if (gzip)
        MHD_add_response_header(resp, "Content-Encoding", "gzip");
    MHD_add_response_header(resp, "Vary", "Accept-Encoding, Accept");
    *ret = httpd_respond(q, MHD_HTTP_OK, resp);
    return true;
}

/* --web.max-requests counts requests being prepared (rendered, or waiting
 * for a render they share); not those whose answer is being sent, whose
 * memory --web.max-response-memory caps instead. Returns false when over. */
static bool enter(struct httpd *h)
{
    unsigned active = atomic_fetch_add(&h->active_scrapes, 1) + 1;
    return !h->max_requests || active <= h->max_requests;
}

static void leave(struct httpd *h)
{
    atomic_fetch_sub(&h->active_scrapes, 1);
}

enum MHD_Result httpd_serve_metrics(struct req *q)
{
    struct httpd *h = q->h;
    enum MHD_Result ret;
    if (!enter(h)) {
        ret = httpd_send_text(q, MHD_HTTP_SERVICE_UNAVAILABLE,
                              "too many parallel scrapes (see --web.max-requests)\n");
        goto out;
    }
    const char *accept = MHD_lookup_connection_value(q->c, MHD_HEADER_KIND, "Accept");
    const char *ae = MHD_lookup_connection_value(q->c, MHD_HEADER_KIND, "Accept-Encoding");
    bool om = expo_negotiate(accept) == EXPO_OPENMETRICS, gz = expo_accepts_gzip(ae);
    enum httpd_page v = om ? (gz ? HTTPD_PAGE_OPENMETRICS_GZIP : HTTPD_PAGE_OPENMETRICS)
                           : (gz ? HTTPD_PAGE_TEXT_GZIP : HTTPD_PAGE_TEXT);
    if (!send_page(q, v, om ? EXPO_CT_OPENMETRICS : EXPO_CT_TEXT, gz, &ret))
        ret = httpd_send_text(q, MHD_HTTP_INTERNAL_SERVER_ERROR, "metrics page too large\n");
out:
    leave(h);
    return ret;
}

enum MHD_Result httpd_serve_checks(struct req *q, const char *name)
{
    struct httpd *h = q->h;
    if (!name) {
        /* The listing costs about what a scrape does: a shared page,
         * counted against --web.max-requests. */
        enum MHD_Result ret;
        if (!enter(h))
            ret =
                httpd_send_json_error(q, MHD_HTTP_SERVICE_UNAVAILABLE,
                                      "too many parallel requests (see --web.max-requests)", NULL);
        else if (!send_page(q, HTTPD_PAGE_CHECKS, "application/json", false, &ret))
            ret = httpd_send_json_error(q, MHD_HTTP_INTERNAL_SERVER_ERROR,
                                        "answer larger than its cap", NULL);
        leave(h);
        return ret;
    }
    struct buf b;
    buf_init(&b, RT_MAX_CHECKS_JSON_BYTES);
    enum op_rc rc = rt_checks_json(h->rt, name, &b);
    if (rc == OP_OK)
        rc = buf_addc(&b, '\n');
    if (rc != OP_OK) {
        buf_free(&b);
        return rc == OP_ERR_NOT_FOUND
                   ? httpd_send_json_error(q, MHD_HTTP_NOT_FOUND, "no check of that name", name)
                   : httpd_send_json_error(q, MHD_HTTP_INTERNAL_SERVER_ERROR,
                                           "answer larger than its cap", NULL);
    }
    size_t len = b.len;
    return httpd_send_owned(q, MHD_HTTP_OK, buf_take(&b), len, "application/json", false);
}

/* ---- the server's own families ---- */

static void counter(struct expo *e, const char *name, const char *label, const char *value,
                    uint64_t v)
{
    struct label l = {label, value};
    expo_sample_u64(e, name, "", &l, 1, NULL, v);
}

void httpd_render_families(struct expo *e, void *arg)
{
    struct httpd *h = arg;
    /* A family appears once any request was counted; each (handler, code)
     * series once it happened. */
    expo_family(e, "outpost_http_requests_total", EXPO_COUNTER,
                "HTTP requests answered, by handler and status code.");
    for (int r = 0; r < ROUTE_COUNT; r++) {
        for (int s = 0; s < HTTPD_STATUS_SLOTS; s++) {
            uint64_t v = atomic_load(&h->requests[r][s]);
            if (!v)
                continue;
            char code[8];
            snprintf(code, sizeof(code), "%d", s + HTTPD_STATUS_MIN);
            struct label l[] = {{"handler", httpd_route_names[r]}, {"code", code}};
            expo_sample_u64(e, "outpost_http_requests_total", "", l, 2, NULL, v);
        }
    }

    struct ct_stats cs;
    ct_stats(h->ct, &cs);
    expo_family(e, "outpost_http_connections", EXPO_GAUGE,
                "HTTP connections open, including those being closed.");
    expo_sample(e, "outpost_http_connections", "", NULL, 0, NULL, cs.open);
    const char *refused = "outpost_http_connections_refused_total";
    expo_family(e, refused, EXPO_COUNTER,
                "HTTP connections closed on arrival: the limit was reached and no connection "
                "under it was waiting for a request.");
    counter(e, refused, "limit", "max_connections", cs.refused_max);
    counter(e, refused, "limit", "max_connections_per_ip", cs.refused_per_addr);
    const char *closed = "outpost_http_connections_closed_total";
    expo_family(e, closed, EXPO_COUNTER,
                "HTTP connections closed by the server's defences, by reason.");
    counter(e, closed, "reason", "read_timeout", cs.closed_read_timeout);
    counter(e, closed, "reason", "evicted", cs.closed_evicted);
    counter(e, closed, "reason", "response_memory", cs.closed_cut);

    struct pages_stats ps;
    pages_stats(h->pages, &ps);
    expo_family(e, "outpost_http_response_held_bytes", EXPO_GAUGE,
                "Bytes of shared pages (metrics, checks listing) held for clients and reuse.");
    expo_sample(e, "outpost_http_response_held_bytes", "", NULL, 0, NULL, (double)ps.held_bytes);
    expo_family(e, "outpost_http_response_memory_limit_bytes", EXPO_GAUGE,
                "The cap on outpost_http_response_held_bytes now (--web.max-response-memory).");
    expo_sample(e, "outpost_http_response_memory_limit_bytes", "", NULL, 0, NULL,
                (double)ps.limit_bytes);
    static const char *const page_labels[HTTPD_PAGE_COUNT][3] = {
        {"metrics", "text", "identity"}, {"metrics", "openmetrics", "identity"},
        {"metrics", "text", "gzip"},     {"metrics", "openmetrics", "gzip"},
        {"api", "json", "identity"},
    };
    expo_family(
        e, "outpost_http_page_renders_total", EXPO_COUNTER,
        "Shared pages rendered; the requests that arrive during a render share the next one.");
    for (int v = 0; v < HTTPD_PAGE_COUNT; v++) {
        struct label l[] = {{"handler", page_labels[v][0]},
                            {"format", page_labels[v][1]},
                            {"encoding", page_labels[v][2]}};
        expo_sample_u64(e, "outpost_http_page_renders_total", "", l, 3, NULL, ps.renders[v]);
    }
    httpd_history_families(e, h);
}
