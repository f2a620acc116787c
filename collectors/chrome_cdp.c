/*
 * chrome_cdp.c - the DevTools protocol's framing over the browser's pipe
 * (--remote-debugging-pipe): each message one JSON object followed by a
 * NUL byte, both ways. Commands carry an id the response repeats; the rest
 * are events. Reading and writing are a watch on the probe loop; a command
 * the socket cannot take yet waits in a capped queue for EPOLLOUT.
 *
 * A message from the browser is gathered up to its NUL in a buffer capped
 * at CHROME_MSG_MAX; one longer than that, or one that is not a JSON
 * object, ends the run as a `browser` failure - never a crash, never a
 * message cut short and parsed anyway.
 */
#include "chrome_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

/* Reads per wake-up: a browser that never stops talking yields the loop
 * to everything else between batches (the watch is level-triggered). */
#define CDP_READS_PER_WAKE 16
#define CDP_CHUNK 65536

static void set_out(struct chrome *c, bool want)
{
    struct cdp *p = &c->cdp;
    if (p->want_out == want || !p->w)
        return;
    p->want_out = want;
    if (probe_watch_events(c->loop, p->w, EPOLLIN | (want ? EPOLLOUT : 0)) != OP_OK)
        chrome_end_run(c, CHROME_BROWSER, "cannot watch the DevTools pipe: %s", strerror(errno));
}

/* Write what is queued; the rest waits for EPOLLOUT. */
static void flush(struct chrome *c)
{
    struct cdp *p = &c->cdp;
    while (p->fd >= 0 && p->out_off < p->out.len) {
        ssize_t n = send(p->fd, p->out.data + p->out_off, p->out.len - p->out_off,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            set_out(c, true);
            return;
        }
        if (n < 0) {
            chrome_on_eof(c);
            return;
        }
        p->out_off += (size_t)n;
    }
    buf_reset(&p->out);
    p->out_off = 0;
    set_out(c, false);
}

/* One whole message (p->in), handed on and forgotten. False when the run
 * ended on it. */
static bool take_message(struct chrome *c)
{
    struct cdp *p = &c->cdp;
    json_error_t err;
    json_t *m = p->in.len ? json_loadb(p->in.data, p->in.len, 0, &err) : NULL;
    buf_reset(&p->in);
    if (!json_is_object(m)) {
        json_decref(m);
        chrome_end_run(c, CHROME_BROWSER, "the browser sent a DevTools message that is not JSON");
        return false;
    }
    chrome_on_message(c, m);
    json_decref(m);
    return c->phase != PH_ENDING;
}

static void read_some(struct chrome *c)
{
    struct cdp *p = &c->cdp;
    char chunk[CDP_CHUNK];
    for (int round = 0; round < CDP_READS_PER_WAKE && p->fd >= 0; round++) {
        ssize_t n = recv(p->fd, chunk, sizeof(chunk), MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (n <= 0) {
            chrome_on_eof(c);
            return;
        }
        size_t off = 0, len = (size_t)n;
        while (off < len) {
            const char *nul = memchr(chunk + off, '\0', len - off);
            size_t piece = nul ? (size_t)(nul - (chunk + off)) : len - off;
            /* The cap is on one message, whatever else the read held. */
            if (p->in.len + piece > CHROME_MSG_MAX ||
                buf_add(&p->in, chunk + off, piece) != OP_OK) {
                chrome_end_run(c, CHROME_BROWSER,
                               "the browser sent a DevTools message over %zu bytes",
                               CHROME_MSG_MAX);
                return;
            }
            off += piece;
            if (!nul)
                break;
            off++;
            if (!take_message(c))
                return;
        }
    }
}

static void on_ready(struct probe_loop *loop, int fd, uint32_t events, void *arg)
{
    (void)loop;
    (void)fd;
    struct chrome *c = arg;
    if (events & EPOLLOUT)
        flush(c);
    if (c->phase != PH_ENDING && c->cdp.fd >= 0 && (events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
        read_some(c);
}

enum op_rc cdp_open(struct chrome *c, int fd)
{
    struct cdp *p = &c->cdp;
    p->fd = fd;
    buf_init(&p->in, CHROME_MSG_MAX);
    buf_init(&p->out, CHROME_OUT_MAX);
    p->next_id = 1;
    p->w = probe_watch_fd(c->loop, fd, EPOLLIN, on_ready, c);
    return p->w ? OP_OK : OP_ERR_SYSTEM;
}

void cdp_close(struct chrome *c)
{
    struct cdp *p = &c->cdp;
    probe_unwatch(c->loop, p->w);
    p->w = NULL;
    if (p->fd >= 0)
        close(p->fd);
    p->fd = -1;
    buf_free(&p->in);
    buf_free(&p->out);
    p->out_off = 0;
    p->n_pending = 0;
}

uint32_t cdp_send(struct chrome *c, const char *method, json_t *params, bool session,
                  enum cdp_req req)
{
    struct cdp *p = &c->cdp;
    if (c->phase == PH_ENDING || p->fd < 0) {
        json_decref(params);
        return 0;
    }
    if (p->n_pending == CHROME_PENDING_MAX) {
        json_decref(params);
        chrome_end_run(c, CHROME_BROWSER, "more than %d DevTools commands unanswered",
                       CHROME_PENDING_MAX);
        return 0;
    }
    uint32_t id = p->next_id++;
    json_t *m = json_object();
    (void)json_object_set_new(m, "id", json_integer(id));
    (void)json_object_set_new(m, "method", json_string(method));
    if (session && c->session_id)
        (void)json_object_set_new(m, "sessionId", json_string(c->session_id));
    (void)json_object_set_new(m, "params", params ? params : json_object());
    char *s = json_dumps(m, JSON_COMPACT);
    json_decref(m);
    /* Text that is not UTF-8 makes no JSON string: refused before here
     * (chrome_start), so only memory can fail this. */
    if (!s) {
        chrome_end_run(c, CHROME_BROWSER, "cannot encode DevTools command %s", method);
        return 0;
    }
    enum op_rc rc = buf_add(&p->out, s, strlen(s) + 1); /* the NUL frames it */
    free(s);
    if (rc != OP_OK) {
        chrome_end_run(c, CHROME_BROWSER, "DevTools commands over %zu bytes queued",
                       CHROME_OUT_MAX);
        return 0;
    }
    p->pending[p->n_pending++] = (struct cdp_pending){id, req, method};
    flush(c);
    return c->phase == PH_ENDING ? 0 : id;
}

enum cdp_req cdp_take_pending(struct chrome *c, uint32_t id, const char **method)
{
    struct cdp *p = &c->cdp;
    for (size_t i = 0; i < p->n_pending; i++) {
        if (p->pending[i].id != id)
            continue;
        enum cdp_req r = p->pending[i].req;
        *method = p->pending[i].method;
        p->pending[i] = p->pending[--p->n_pending];
        return r;
    }
    *method = NULL;
    return REQ_NONE;
}
