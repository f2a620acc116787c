/*
 * target_html.c - HTML pages for the browser engine's tests and the demo:
 * a page whose text a script adds late, a static one, one with an image
 * that holds the load event back (briefly, or for a minute), an HTTP error
 * with a body, and one that logs console errors and throws.
 *
 * A slow image waits on its own connection's thread (the target runs a
 * thread per connection). The wait watches the socket: when the browser
 * goes away (killed at a check's deadline), or the target stops and shuts
 * the socket, the wait ends at once, so no thread sits out a minute for a
 * client that is gone.
 */
#include "target_html.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define IMG_DELAY_MAX_MS 60000

static const char PAGE_OK[] =
    "<!doctype html><html><head><meta charset=\"utf-8\"><title>outpost test page</title>"
    "</head><body><h1>outpost test page</h1><div id=\"app\"></div><script>"
    "setTimeout(function () { var p = document.createElement('p'); p.className = 'ready';"
    " p.textContent = 'Welcome'; document.getElementById('app').appendChild(p); }, 300);"
    "</script></body></html>\n";

static const char PAGE_STATIC[] =
    "<!doctype html><html><head><meta charset=\"utf-8\"><title>static</title></head>"
    "<body><p>Hello from outpost</p></body></html>\n";

static const char PAGE_ERROR[] =
    "<!doctype html><html><head><meta charset=\"utf-8\"><title>error</title></head>"
    "<body><h1>Internal Server Error</h1><p>something broke</p></body></html>\n";

static const char PAGE_CONSOLE[] =
    "<!doctype html><html><head><meta charset=\"utf-8\"><title>console errors</title></head>"
    "<body><p>console errors</p><script>console.error('first error');"
    " console.error('second error'); console.log('not an error');"
    " throw new Error('uncaught');</script></body></html>\n";

/* Replaced by /html/ok before its load event. */
static const char PAGE_JS_REDIRECT[] =
    "<!doctype html><html><head><meta charset=\"utf-8\"><title>moving</title>"
    "<script>location.replace('/html/ok');</script></head><body><p>moving</p>"
    "<img src=\"/html/img/1000\" alt=\"\"></body></html>\n";

/* 1x1, transparent. */
static const unsigned char PNG[] = {
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48,
    0x44, 0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00,
    0x00, 0x1f, 0x15, 0xc4, 0x89, 0x00, 0x00, 0x00, 0x0b, 0x49, 0x44, 0x41, 0x54, 0x78,
    0x9c, 0x63, 0x60, 0x00, 0x02, 0x00, 0x00, 0x05, 0x00, 0x01, 0x7a, 0x5e, 0xab, 0x3f,
    0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82};

static enum MHD_Result send_body(struct MHD_Connection *conn, unsigned int status,
                                 const char *ctype, const void *body, size_t len)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_PERSISTENT);
    if (resp == NULL)
        return MHD_NO;
    enum MHD_Result ok = MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    if (ok == MHD_YES)
        ok = MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    if (ok == MHD_YES)
        ok = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return ok;
}

static enum MHD_Result send_html(struct MHD_Connection *conn, unsigned int status, const char *s)
{
    return send_body(conn, status, "text/html; charset=utf-8", s, strlen(s));
}

/* MS as a whole number of milliseconds in 0..IMG_DELAY_MAX_MS. */
static bool parse_ms(const char *s, long *out)
{
    char *end;
    if (*s < '0' || *s > '9')
        return false;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || *end != '\0' || v > IMG_DELAY_MAX_MS)
        return false;
    *out = v;
    return true;
}

static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait ms, or until the client closes the connection (or the target shuts
 * it while stopping); false in the second case. */
static bool wait_for_client(struct MHD_Connection *conn, long ms)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    int fd = ci ? ci->connect_fd : -1;
    long long until = mono_ms() + ms;
    for (;;) {
        long long left = until - mono_ms();
        if (left <= 0)
            return true;
        int slice = left > 250 ? 250 : (int)left;
        if (fd < 0) {
            struct timespec ts = {slice / 1000, (long)(slice % 1000) * 1000000L};
            nanosleep(&ts, NULL);
            continue;
        }
        struct pollfd p = {.fd = fd, .events = POLLIN | POLLRDHUP};
        int n = poll(&p, 1, slice);
        if (n <= 0)
            continue;
        if (p.revents & (POLLHUP | POLLERR | POLLRDHUP | POLLNVAL))
            return false;
        char c;
        ssize_t k = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
        if (k == 0 || (k < 0 && errno != EAGAIN && errno != EINTR))
            return false;
        /* Bytes of a next request (a client does not send one while it
         * waits on this): not a close; sleep the slice out. */
        struct timespec ts = {slice / 1000, (long)(slice % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
}

static enum MHD_Result send_image_page(struct MHD_Connection *conn, long ms)
{
    char page[512];
    snprintf(page, sizeof(page),
             "<!doctype html><html><head><meta charset=\"utf-8\"><title>slow image</title></head>"
             "<body><p>An image that takes %ld ms</p><img src=\"/html/img/%ld\" width=\"1\""
             " height=\"1\" alt=\"\"></body></html>\n",
             ms, ms);
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(page), page, MHD_RESPMEM_MUST_COPY);
    if (resp == NULL)
        return MHD_NO;
    enum MHD_Result ok =
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/html; charset=utf-8");
    if (ok == MHD_YES)
        ok = MHD_queue_response(conn, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    return ok;
}

enum MHD_Result target_html_route(struct MHD_Connection *conn, const char *url)
{
    const char *p = url + strlen("/html/");
    long ms;
    if (strcmp(p, "ok") == 0)
        return send_html(conn, MHD_HTTP_OK, PAGE_OK);
    if (strcmp(p, "static") == 0)
        return send_html(conn, MHD_HTTP_OK, PAGE_STATIC);
    if (strcmp(p, "error") == 0)
        return send_html(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, PAGE_ERROR);
    if (strcmp(p, "console-error") == 0)
        return send_html(conn, MHD_HTTP_OK, PAGE_CONSOLE);
    if (strcmp(p, "js-redirect") == 0)
        return send_html(conn, MHD_HTTP_OK, PAGE_JS_REDIRECT);
    if (strcmp(p, "never") == 0)
        return send_image_page(conn, IMG_DELAY_MAX_MS);
    if (strncmp(p, "slow-image/", 11) == 0) {
        if (!parse_ms(p + 11, &ms))
            return send_body(conn, MHD_HTTP_BAD_REQUEST, "text/plain", "bad duration\n", 13);
        return send_image_page(conn, ms);
    }
    if (strncmp(p, "img/", 4) == 0) {
        if (!parse_ms(p + 4, &ms))
            return send_body(conn, MHD_HTTP_BAD_REQUEST, "text/plain", "bad duration\n", 13);
        /* A client gone gets the answer too: it fails quietly to send,
         * where refusing would log an error. */
        (void)wait_for_client(conn, ms);
        return send_body(conn, MHD_HTTP_OK, "image/png", PNG, sizeof(PNG));
    }
    return send_body(conn, MHD_HTTP_NOT_FOUND, "text/plain", "not found\n", 10);
}
