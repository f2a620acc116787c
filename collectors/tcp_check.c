/*
 * tcp_check.c - runs of the `tcp` check type, a state machine on the probe
 * loop: resolve (resolve.c), a non-blocking connect, an OpenSSL handshake
 * driven by the socket's readiness, then the query_response steps (read
 * lines until one matches, send a line, upgrade to TLS), every wait a
 * watch on the socket, the whole run bounded by a timer at the job's
 * deadline. blackbox_exporter's tcp prober is the model for what a step
 * does; its words are kept where /probe shows them.
 */
#include "tcp_check.h"
#include "tls_facts.h"
#include "castore.h"
#include "detail.h"
#include "resolve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum tcp_state { ST_RESOLVE, ST_CONNECT, ST_HANDSHAKE, ST_STEPS };

struct tcp_run {
    struct probe_loop *loop;
    struct probe_job *job;
    const struct check_spec *check;
    const struct tcp_spec *s;
    enum tcp_state state;
    int64_t t0, t_phase; /* run start; start of the current phase */
    double phases[CHECK_PHASE_COUNT];
    struct resolve_req *rr;
    struct probe_timer *deadline;
    int fd;
    struct probe_watch *w;
    char peer[INET6_ADDRSTRLEN + 8]; /* "127.0.0.1:7", "[::1]:7" for details */
    SSL_CTX *ctx;
    SSL *ssl;
    /* The steps: which one, and how far into it. */
    size_t step;
    bool matched, sent, upgraded;
    /* Bytes read and not yet taken as lines (at most one line's cap). */
    char *in;
    size_t in_len;
    uint64_t read_total;
    unsigned lines; /* lines read by the current expect */
    bool eof;
    /* The line the current step's expect matched and its groups. */
    char *line;
    size_t line_len;
    size_t *ov;
    size_t n_ov;
    /* The line being sent. */
    struct buf out;
    size_t out_off;
    /* What the result tells. */
    struct tcp_tail tail;
    double cert_expiry;
};

static const enum check_reason tcp_reasons[] = {
    CHECK_REASON_TIMEOUT, CHECK_REASON_DNS,    CHECK_REASON_CONNECT,
    CHECK_REASON_TLS,     CHECK_REASON_EXPECT, CHECK_REASON_OTHER,
};

/* PCRE2's limits of the http type (HTTP_REGEX_*), on a context made once. */
static pcre2_match_context *g_mctx;
static pthread_once_t g_mctx_once = PTHREAD_ONCE_INIT;

static void mctx_init(void)
{
    g_mctx = pcre2_match_context_create(NULL);
    if (!g_mctx)
        return;
    (void)pcre2_set_match_limit(g_mctx, HTTP_REGEX_MATCH_LIMIT);
    (void)pcre2_set_depth_limit(g_mctx, HTTP_REGEX_DEPTH_LIMIT);
    (void)pcre2_set_heap_limit(g_mctx, HTTP_REGEX_HEAP_LIMIT_KIB);
}

static enum op_rc tcp_global_init(void)
{
    if (OPENSSL_init_ssl(0, NULL) != 1)
        return OP_ERR_SYSTEM;
    return resolve_global_init();
}

static void tcp_global_fini(void)
{
    resolve_global_fini();
}

/* ---- the end of a run ---- */

static double since(const struct tcp_run *r, int64_t t)
{
    double d = (double)(probe_now_ns(r->loop) - t) / 1e9;
    return d > 0 ? d : 0;
}

static void release(struct tcp_run *r)
{
    resolve_cancel(r->loop, r->rr);
    r->rr = NULL;
    probe_timer_cancel(r->loop, r->deadline);
    probe_unwatch(r->loop, r->w);
    if (r->ssl)
        SSL_free(r->ssl);
    if (r->ctx)
        SSL_CTX_free(r->ctx);
    if (r->fd >= 0)
        close(r->fd);
    free(r->in);
    free(r->line);
    free(r->ov);
    buf_free(&r->out);
    free(r);
}

/* The phase that is going on ends now (the steps' time is processing). */
static void close_phase(struct tcp_run *r)
{
    static const enum check_phase of[] = {CHECK_PHASE_RESOLVE, CHECK_PHASE_CONNECT, CHECK_PHASE_TLS,
                                          CHECK_PHASE_PROCESSING};
    r->phases[of[r->state]] += since(r, r->t_phase);
    r->t_phase = probe_now_ns(r->loop);
}

/* Report (reason CHECK_REASON_NONE: success) and free the run. */
static void done(struct tcp_run *r, enum check_reason reason, const char *detail)
{
    close_phase(r);
    struct check_result res;
    memset(&res, 0, sizeof(res));
    res.success = reason == CHECK_REASON_NONE;
    res.reason = reason;
    res.duration = since(r, r->t0);
    memcpy(res.phases, r->phases, sizeof(res.phases));
    res.cert_expiry = r->cert_expiry;
    res.type = &tcp_check_type;
    res.tail = &r->tail;
    if (!res.success) {
        struct detail d;
        detail_init(&d, res.detail, sizeof(res.detail));
        detail_add(&d, detail);
    }
    probe_done(r->loop, r->job, &res);
    release(r);
}

/* "connection refused" from strerror's "Connection refused". */
static void add_errno(struct detail *d, int err)
{
    char e[128];
    snprintf(e, sizeof(e), "%s", strerror(err));
    if (e[0] >= 'A' && e[0] <= 'Z' && !(e[1] >= 'A' && e[1] <= 'Z'))
        e[0] = (char)(e[0] - 'A' + 'a');
    detail_add(d, e);
}

static void fail_errno(struct tcp_run *r, enum check_reason reason, const char *what, int err)
{
    char buf[CHECK_DETAIL_MAX];
    struct detail d;
    detail_init(&d, buf, sizeof(buf));
    detail_addf(&d, "%s %s: ", what, r->peer);
    add_errno(&d, err);
    done(r, reason, buf);
}

/* The current step's expect, for details: "expect /re/". */
static void add_expect(struct detail *d, const struct tcp_run *r)
{
    detail_addf(d, "expect /");
    detail_add(d, r->s->steps[r->step].expect.pattern);
    detail_add(d, "/");
}

static void fail_expect(struct tcp_run *r, const char *why)
{
    char buf[CHECK_DETAIL_MAX];
    struct detail d;
    detail_init(&d, buf, sizeof(buf));
    add_expect(&d, r);
    detail_addf(&d, ": %s after %u line%s", why, r->lines, r->lines == 1 ? "" : "s");
    done(r, CHECK_REASON_EXPECT, buf);
}

static void on_deadline(struct probe_loop *loop, void *arg)
{
    (void)loop;
    struct tcp_run *r = arg;
    r->deadline = NULL;
    char buf[CHECK_DETAIL_MAX];
    struct detail d;
    detail_init(&d, buf, sizeof(buf));
    switch (r->state) {
    case ST_RESOLVE:
        detail_add(&d, "timeout resolving ");
        detail_add(&d, r->s->host);
        break;
    case ST_CONNECT:
        detail_addf(&d, "timeout connecting to %s", r->peer);
        break;
    case ST_HANDSHAKE:
        detail_add(&d, "timeout in the TLS handshake");
        break;
    case ST_STEPS:
        if (r->s->steps[r->step].has_expect && !r->matched) {
            /* Waiting for a line that never came is the expectation's
             * failure, not the run's. */
            fail_expect(r, "no match before the timeout");
            return;
        }
        detail_addf(&d, "timeout sending in step %zu", r->step + 1);
        break;
    }
    done(r, CHECK_REASON_TIMEOUT, buf);
}

/* ---- TLS ---- */

static int tcp_ssl_idx = -1;
static pthread_once_t tcp_ssl_idx_once = PTHREAD_ONCE_INIT;

static void ssl_idx_init(void)
{
    tcp_ssl_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

/* Every certificate OpenSSL checks, also when the chain does not verify:
 * the presented chain's expiry is what the metric shows for a self-signed
 * or expired certificate too. The verdict is OpenSSL's. */
static int verify_cb(int ok, X509_STORE_CTX *sc)
{
    SSL *ssl = X509_STORE_CTX_get_ex_data(sc, SSL_get_ex_data_X509_STORE_CTX_idx());
    struct tcp_run *r = ssl ? SSL_get_ex_data(ssl, tcp_ssl_idx) : NULL;
    X509 *cert = X509_STORE_CTX_get_current_cert(sc);
    if (r && cert)
        tls_note_expiry(&r->cert_expiry, cert);
    return ok;
}

/* Set up r->ssl on the socket with the check's TLS settings; false after
 * reporting. Files (client certificate, key) are read here: small local
 * files, as libcurl reads them for the http type. */
static bool tls_setup(struct tcp_run *r)
{
    const struct tls_spec *t = &r->s->tls_cfg;
    char why[160] = "";
    pthread_once(&tcp_ssl_idx_once, ssl_idx_init);
    r->ctx = SSL_CTX_new(TLS_client_method());
    if (!r->ctx || tcp_ssl_idx < 0) {
        done(r, CHECK_REASON_TLS, "tls: cannot set up OpenSSL");
        return false;
    }
    if (!t->insecure_skip_verify) {
        X509_STORE *st = t->ca ? castore_x509(t->ca, why, sizeof(why)) : NULL;
        if (!st) {
            char buf[CHECK_DETAIL_MAX];
            snprintf(buf, sizeof(buf), "tls: no CA certificates: %s", why[0] ? why : "none");
            done(r, CHECK_REASON_TLS, buf);
            return false;
        }
        SSL_CTX_set1_cert_store(r->ctx, st);
    }
    SSL_CTX_set_verify(r->ctx, t->insecure_skip_verify ? SSL_VERIFY_NONE : SSL_VERIFY_PEER,
                       verify_cb);
    if (t->cert_file && (SSL_CTX_use_certificate_chain_file(r->ctx, t->cert_file) != 1 ||
                         SSL_CTX_use_PrivateKey_file(r->ctx, t->key_file, SSL_FILETYPE_PEM) != 1)) {
        ERR_clear_error();
        done(r, CHECK_REASON_TLS, "tls: cannot load the client certificate or key");
        return false;
    }
    r->ssl = SSL_new(r->ctx);
    if (!r->ssl || SSL_set_fd(r->ssl, r->fd) != 1) {
        done(r, CHECK_REASON_TLS, "tls: cannot set up OpenSSL");
        return false;
    }
    SSL_set_ex_data(r->ssl, tcp_ssl_idx, r);
    /* The name verified and sent as SNI: server_name, else the target's
     * host. An IP address is checked against the certificate's IP
     * addresses and never sent as SNI (RFC 6066). */
    const char *name = t->server_name ? t->server_name : r->s->host;
    unsigned char tmp[sizeof(struct in6_addr)];
    bool is_ip = inet_pton(AF_INET, name, tmp) == 1 || inet_pton(AF_INET6, name, tmp) == 1;
    if (!t->insecure_skip_verify) {
        int ok = is_ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(r->ssl), name)
                       : SSL_set1_host(r->ssl, name);
        if (ok != 1) {
            done(r, CHECK_REASON_TLS, "tls: cannot set the name to verify");
            return false;
        }
    }
    if (!is_ip)
        (void)SSL_set_tlsext_host_name(r->ssl, name);
    SSL_set_connect_state(r->ssl);
    return true;
}

static void tls_failed(struct tcp_run *r, int ssl_err)
{
    char buf[CHECK_DETAIL_MAX];
    struct detail d;
    detail_init(&d, buf, sizeof(buf));
    detail_add(&d, "tls: ");
    unsigned long e = ERR_peek_error();
    long v = SSL_get_verify_result(r->ssl);
    if (e) {
        const char *reason = ERR_reason_error_string(e);
        detail_add(&d, reason ? reason : "handshake failed");
        if (ERR_GET_REASON(e) == SSL_R_CERTIFICATE_VERIFY_FAILED && v != X509_V_OK) {
            detail_add(&d, ": ");
            detail_add(&d, X509_verify_cert_error_string(v));
        }
    } else if (ssl_err == SSL_ERROR_SYSCALL && errno) {
        add_errno(&d, errno);
    } else {
        detail_add(&d, "connection closed during the handshake");
    }
    ERR_clear_error();
    done(r, CHECK_REASON_TLS, buf);
}

static void steps_go(struct tcp_run *r);

static void watch(struct tcp_run *r, uint32_t ev)
{
    if (probe_watch_events(r->loop, r->w, ev) != OP_OK)
        fail_errno(r, CHECK_REASON_OTHER, "watch", errno);
}

static void handshake(struct tcp_run *r)
{
    ERR_clear_error();
    int rc = SSL_do_handshake(r->ssl);
    if (rc == 1) {
        close_phase(r);
        r->tail.tls = true;
        r->tail.tls_version = tls_version_label(SSL_version(r->ssl));
        STACK_OF(X509) *chain = SSL_get_peer_cert_chain(r->ssl);
        for (int i = 0; chain && i < sk_X509_num(chain); i++)
            tls_note_expiry(&r->cert_expiry, sk_X509_value(chain, i));
        if (!r->s->tls_cfg.insecure_skip_verify) {
            STACK_OF(X509) *vc = SSL_get0_verified_chain(r->ssl);
            double last = 0;
            for (int i = 0; vc && i < sk_X509_num(vc); i++)
                tls_note_expiry(&last, sk_X509_value(vc, i));
            r->tail.last_chain_expiry = last;
        }
        r->state = ST_STEPS;
        steps_go(r);
        return;
    }
    int err = SSL_get_error(r->ssl, rc);
    if (err == SSL_ERROR_WANT_READ)
        watch(r, EPOLLIN);
    else if (err == SSL_ERROR_WANT_WRITE)
        watch(r, EPOLLOUT);
    else
        tls_failed(r, err);
}

/* ---- reading lines ---- */

/* Read what is there into r->in. 1: got bytes, 0: would block, -1: failed
 * (reported). EOF sets r->eof. */
static int fill(struct tcp_run *r)
{
    /* Room for the longest line with its "\r\n"; a full buffer without
     * one is too long a line (expect_line). */
    size_t room = TCP_MAX_LINE + 2 - r->in_len;
    ssize_t n;
    if (r->ssl) {
        ERR_clear_error();
        int k = SSL_read(r->ssl, r->in + r->in_len, (int)room);
        if (k <= 0) {
            int err = SSL_get_error(r->ssl, k);
            if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
                watch(r, err == SSL_ERROR_WANT_READ ? EPOLLIN : EPOLLOUT);
                return 0;
            }
            /* A close_notify or a close without one: the end either way
             * (blackbox_exporter treats both as EOF). */
            ERR_clear_error();
            r->eof = true;
            return 1;
        }
        n = k;
    } else {
        n = read(r->fd, r->in + r->in_len, room);
        if (n < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
                watch(r, EPOLLIN);
                return 0;
            }
            if (errno == ECONNRESET) {
                r->eof = true;
                return 1;
            }
            fail_errno(r, CHECK_REASON_OTHER, "read from", errno);
            return -1;
        }
        if (n == 0) {
            r->eof = true;
            return 1;
        }
    }
    r->read_total += (uint64_t)n;
    if (r->read_total > TCP_MAX_READ) {
        char buf[CHECK_DETAIL_MAX];
        struct detail d;
        detail_init(&d, buf, sizeof(buf));
        add_expect(&d, r);
        detail_addf(&d, ": more than %u bytes read", TCP_MAX_READ);
        done(r, CHECK_REASON_OTHER, buf);
        return -1;
    }
    r->in_len += (size_t)n;
    return 1;
}

/* Match re against one line; stores the line and its groups on a match.
 * 1 matched, 0 not, -1 failed (reported: a PCRE2 limit). */
static int match_line(struct tcp_run *r, const char *line, size_t len)
{
    const struct regex *re = &r->s->steps[r->step].expect;
    pthread_once(&g_mctx_once, mctx_init);
    pcre2_match_data *md = g_mctx ? pcre2_match_data_create_from_pattern(re->code, NULL) : NULL;
    if (!md) {
        done(r, CHECK_REASON_OTHER, "out of memory matching a line");
        return -1;
    }
    int rc = pcre2_match(re->code, (PCRE2_SPTR)line, len, 0, 0, md, g_mctx);
    if (rc < 0 && rc != PCRE2_ERROR_NOMATCH) {
        pcre2_match_data_free(md);
        fail_expect(r, "the match hit a PCRE2 limit");
        return -1;
    }
    if (rc >= 0) {
        uint32_t pairs = pcre2_get_ovector_count(md);
        PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
        free(r->ov);
        r->ov = xcalloc(2 * (size_t)pairs, sizeof(size_t));
        for (uint32_t i = 0; i < 2 * pairs; i++)
            r->ov[i] = ov[i] == PCRE2_UNSET ? SIZE_MAX : ov[i];
        r->n_ov = pairs;
        free(r->line);
        r->line = xstrndup(line, len);
        r->line_len = len;
    }
    pcre2_match_data_free(md);
    return rc >= 0;
}

static void line_too_long(struct tcp_run *r)
{
    char buf[CHECK_DETAIL_MAX];
    struct detail d;
    detail_init(&d, buf, sizeof(buf));
    add_expect(&d, r);
    detail_addf(&d, ": a line longer than %u bytes", TCP_MAX_LINE);
    done(r, CHECK_REASON_OTHER, buf);
}

/* Lines until one matches the step's expect. true: matched; false: waiting
 * or reported. A line ends at "\n" (a "\r" before it is dropped, as Go's
 * bufio.ScanLines does), or at the end of the connection. */
static bool expect_line(struct tcp_run *r)
{
    for (;;) {
        char *nl = memchr(r->in, '\n', r->in_len);
        size_t take = nl ? (size_t)(nl - r->in) + 1 : 0;
        if (!nl && r->eof && r->in_len)
            take = r->in_len; /* the last line, without its end */
        if (take) {
            size_t len = nl ? take - 1 : take;
            if (len && r->in[len - 1] == '\r')
                len--;
            if (len > TCP_MAX_LINE) {
                line_too_long(r);
                return false;
            }
            r->lines++;
            int m = match_line(r, r->in, len);
            memmove(r->in, r->in + take, r->in_len - take);
            r->in_len -= take;
            if (m < 0)
                return false;
            if (m)
                return true;
            continue;
        }
        if (r->in_len > TCP_MAX_LINE + 1) {
            line_too_long(r); /* no room left, and no end of line in it */
            return false;
        }
        if (r->eof) {
            r->tail.failed_due_to_regex = true;
            fail_expect(r, "connection closed");
            return false;
        }
        int f = fill(r);
        if (f <= 0)
            return false;
    }
}

/* ---- sending ---- */

/* Write what is left of r->out. true: all sent; false: waiting or
 * reported. */
static bool flush(struct tcp_run *r)
{
    while (r->out_off < r->out.len) {
        size_t left = r->out.len - r->out_off;
        ssize_t n;
        if (r->ssl) {
            ERR_clear_error();
            int k = SSL_write(r->ssl, r->out.data + r->out_off, (int)left);
            if (k <= 0) {
                int err = SSL_get_error(r->ssl, k);
                if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
                    watch(r, err == SSL_ERROR_WANT_READ ? EPOLLIN : EPOLLOUT);
                    return false;
                }
                ERR_clear_error();
                fail_errno(r, CHECK_REASON_OTHER, "write to", errno ? errno : EPIPE);
                return false;
            }
            n = k;
        } else {
            n = send(r->fd, r->out.data + r->out_off, left, MSG_NOSIGNAL);
            if (n < 0) {
                if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
                    watch(r, EPOLLOUT);
                    return false;
                }
                fail_errno(r, CHECK_REASON_OTHER, "write to", errno);
                return false;
            }
        }
        r->out_off += (size_t)n;
    }
    return true;
}

/* ---- the steps ---- */

static void steps_go(struct tcp_run *r)
{
    const struct tcp_spec *s = r->s;
    while (r->step < s->n_steps) {
        const struct tcp_step *st = &s->steps[r->step];
        if (st->has_expect && !r->matched) {
            if (!expect_line(r))
                return;
            r->matched = true;
            r->tail.failed_due_to_regex = false;
        }
        if (st->send && !r->sent) {
            if (r->out_off == 0 && r->out.len == 0) {
                if (st->has_expect)
                    tcp_expand(st->send, st->expect.code, r->line, r->ov, r->n_ov, &r->out);
                else
                    (void)buf_adds(&r->out, st->send);
                (void)buf_addc(&r->out, '\n');
                if (r->out.failed) {
                    char buf[CHECK_DETAIL_MAX];
                    snprintf(buf, sizeof(buf), "send in step %zu: longer than %u bytes",
                             r->step + 1, TCP_MAX_SEND);
                    done(r, CHECK_REASON_OTHER, buf);
                    return;
                }
            }
            if (!flush(r))
                return;
            r->sent = true;
        }
        if (st->starttls && !r->upgraded) {
            r->upgraded = true;
            /* Bytes that came in plain text after the line the upgrade
             * waited for are not part of the TLS session: dropped, never
             * read as if TLS had protected them (STARTTLS injection). */
            r->in_len = 0;
            close_phase(r);
            r->state = ST_HANDSHAKE;
            if (!tls_setup(r))
                return;
            /* Back here (ST_STEPS) when the handshake is done; this step
             * has nothing left. */
            r->step++;
            r->matched = r->sent = false;
            buf_reset(&r->out);
            r->out_off = 0;
            r->lines = 0;
            handshake(r);
            return;
        }
        r->step++;
        r->matched = r->sent = false;
        buf_reset(&r->out);
        r->out_off = 0;
        r->lines = 0;
    }
    done(r, CHECK_REASON_NONE, "");
}

/* ---- connecting ---- */

static void on_socket(struct probe_loop *loop, int fd, uint32_t events, void *arg)
{
    (void)loop;
    (void)fd;
    (void)events;
    struct tcp_run *r = arg;
    switch (r->state) {
    case ST_CONNECT: {
        int err = 0;
        socklen_t len = sizeof(err);
        if (getsockopt(r->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
            err = errno;
        if (err == EINPROGRESS || err == EALREADY)
            return;
        if (err) {
            fail_errno(r, CHECK_REASON_CONNECT, "connect", err);
            return;
        }
        close_phase(r);
        if (r->s->tls) {
            r->state = ST_HANDSHAKE;
            if (tls_setup(r))
                handshake(r);
            return;
        }
        r->state = ST_STEPS;
        steps_go(r);
        return;
    }
    case ST_HANDSHAKE:
        handshake(r);
        return;
    case ST_STEPS:
        steps_go(r);
        return;
    case ST_RESOLVE:
        return;
    }
}

static void on_resolved(struct probe_loop *loop, enum op_rc rc, const struct sockaddr *addr,
                        socklen_t len, double seconds, const char *detail, void *arg)
{
    (void)loop;
    (void)seconds;
    struct tcp_run *r = arg;
    r->rr = NULL; /* freed by the resolver after this returns */
    if (rc != OP_OK) {
        char buf[CHECK_DETAIL_MAX];
        struct detail d;
        detail_init(&d, buf, sizeof(buf));
        detail_add(&d, "resolve ");
        detail_add(&d, r->s->host);
        detail_add(&d, ": ");
        detail_add(&d, detail);
        /* The run's deadline reached inside the lookup is the run's
         * timeout (same instant as on_deadline; whichever fires first). */
        bool dl = rc == OP_ERR_LIMIT && probe_now_ns(r->loop) >= probe_job_deadline_ns(r->job);
        done(r, dl ? CHECK_REASON_TIMEOUT : CHECK_REASON_DNS, buf);
        return;
    }
    close_phase(r);
    r->state = ST_CONNECT;
    struct sockaddr_storage sa;
    memset(&sa, 0, sizeof(sa));
    memcpy(&sa, addr, len);
    char ip[INET6_ADDRSTRLEN] = "?";
    if (sa.ss_family == AF_INET) {
        struct sockaddr_in *a = (struct sockaddr_in *)&sa;
        a->sin_port = htons((uint16_t)r->s->port);
        inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
        snprintf(r->peer, sizeof(r->peer), "%s:%d", ip, r->s->port);
        r->tail.ip_protocol = 4;
    } else {
        struct sockaddr_in6 *a = (struct sockaddr_in6 *)&sa;
        a->sin6_port = htons((uint16_t)r->s->port);
        inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof(ip));
        snprintf(r->peer, sizeof(r->peer), "[%s]:%d", ip, r->s->port);
        r->tail.ip_protocol = 6;
    }
    r->fd = socket(sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (r->fd < 0) {
        fail_errno(r, CHECK_REASON_OTHER, "socket for", errno);
        return;
    }
    if (connect(r->fd, (struct sockaddr *)&sa, len) != 0 && errno != EINPROGRESS) {
        fail_errno(r, CHECK_REASON_CONNECT, "connect", errno);
        return;
    }
    /* Connected or not, writability says so. */
    r->w = probe_watch_fd(r->loop, r->fd, EPOLLOUT, on_socket, r);
    if (!r->w)
        fail_errno(r, CHECK_REASON_OTHER, "watch", errno);
}

/* ---- the type ---- */

static enum op_rc tcp_start(struct probe_loop *loop, const struct check_spec *c,
                            struct probe_job *job, void **run)
{
    const struct tcp_spec *s = tcp_spec_of(c);
    struct tcp_run *r = xcalloc(1, sizeof(*r));
    r->loop = loop;
    r->job = job;
    r->check = c;
    r->s = s;
    r->fd = -1;
    r->state = ST_RESOLVE;
    r->t0 = r->t_phase = probe_now_ns(loop);
    r->tail.tls_version = "";
    r->in = xmalloc(TCP_MAX_LINE + 2);
    buf_init(&r->out, TCP_MAX_SEND + 1);
    snprintf(r->peer, sizeof(r->peer), "%s:%d", s->host, s->port);
    int64_t dl = probe_job_deadline_ns(job);
    r->deadline = probe_timer_at(loop, dl, on_deadline, r);
    if (resolve_start(loop, s->host, (enum ip_proto)s->ip_protocol, s->ip_protocol_fallback, dl,
                      on_resolved, r, &r->rr) != OP_OK) {
        r->rr = NULL;
        release(r);
        return OP_ERR_SYSTEM;
    }
    *run = r;
    return OP_OK;
}

static void tcp_cancel(struct probe_loop *loop, void *run)
{
    (void)loop;
    release(run);
}

const struct check_type tcp_check_type = {
    .schema = &tcp_schema,
    .reasons = tcp_reasons,
    .n_reasons = ARRAY_SIZE(tcp_reasons),
    .status_name = NULL,
    .global_init = tcp_global_init,
    .global_fini = tcp_global_fini,
    .start = tcp_start,
    .cancel = tcp_cancel,
};
