/*
 * curlfloor.c - the floor for outpost's CPU per probe: the cheapest way
 * libcurl does fresh-connection GETs, with nothing else in the process.
 *
 *     curlfloor URL [REQUESTS [IN_FLIGHT]]     (defaults 20000 and 8)
 *
 * REQUESTS GETs of URL over the multi interface, IN_FLIGHT at a time, each
 * on a new connection closed after it (CURLOPT_FRESH_CONNECT and
 * CURLOPT_FORBID_REUSE, outpost's default). The easy handles are made once
 * and re-added after each transfer, so no handle is set up per request: the
 * floor is libcurl's own work plus the kernel's, not this program's. The
 * loop is curl_multi_perform + curl_multi_poll, the plainest multi loop.
 * Prints "cpu_us_per_request N" from getrusage (user + system, the whole
 * process, start-up included) and exits 1 if any request failed.
 */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

/* The body is not kept: the floor reads it and drops it. */
static size_t discard(char *data, size_t size, size_t nmemb, void *arg)
{
    (void)data;
    (void)arg;
    return size * nmemb;
}

static long arg_long(const char *s, long dflt)
{
    if (!s)
        return dflt;
    char *end;
    long v = strtol(s, &end, 10);
    return *end == '\0' && v > 0 ? v : -1;
}

int main(int argc, char **argv)
{
    long total = arg_long(argc > 2 ? argv[2] : NULL, 20000);
    long width = arg_long(argc > 3 ? argv[3] : NULL, 8);
    if (argc < 2 || total < 0 || width < 0 || width > 1024) {
        fprintf(stderr, "usage: curlfloor URL [REQUESTS [IN_FLIGHT]]\n");
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURLM *multi = curl_multi_init();
    long started = 0, done = 0, failed = 0;
    for (long i = 0; i < width && started < total; i++, started++) {
        CURL *e = curl_easy_init();
        curl_easy_setopt(e, CURLOPT_URL, argv[1]);
        curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
        curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
        curl_multi_add_handle(multi, e);
    }
    while (done < total) {
        int running, left;
        curl_multi_perform(multi, &running);
        CURLMsg *m;
        while ((m = curl_multi_info_read(multi, &left))) {
            if (m->msg != CURLMSG_DONE)
                continue;
            CURL *e = m->easy_handle;
            long code = 0;
            curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
            failed += m->data.result != CURLE_OK || code != 200;
            done++;
            curl_multi_remove_handle(multi, e);
            if (started < total) {
                started++;
                curl_multi_add_handle(multi, e); /* the same handle, a new connection */
            } else {
                curl_easy_cleanup(e);
            }
        }
        if (done < total)
            curl_multi_poll(multi, NULL, 0, 1000, NULL);
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double us = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e6 +
                (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
    printf("requests %ld failed %ld cpu_us_per_request %.1f\n", total, failed, us / (double)total);
    curl_multi_cleanup(multi);
    curl_global_cleanup();
    return failed ? 1 : 0;
}
