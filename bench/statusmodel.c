/*
 * statusmodel.c - how long the status model (agent/status.h) takes to build
 * and to write as JSON, for a configuration of many checks and SLOs, with
 * no HTTP in the way.
 *
 *     statusmodel [CHECKS [SLOS [ROUNDS]]]      (defaults 10000, 1000, 20)
 *
 * CHECKS http checks in groups of 100, one in ten failing, SLOS SLOs of ten
 * checks each, one canary; every check gets 20 results spread over the
 * last 10 minutes (so every trend slot is full) through the generation's
 * sinks, as the probe loop delivers them. Then ROUNDS models are built for
 * each query below and the median build and dump times printed (CPU time
 * of the thread, which on an idle machine is its wall time), with the
 * heap the model's tree takes (mallinfo2) and the JSON's size.
 */
#include "clock.h"
#include "gen.h"
#include "status.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static long arg_long(const char *s, long dflt)
{
    if (!s)
        return dflt;
    char *end;
    long v = strtol(s, &end, 10);
    return *end == '\0' && v >= 0 ? v : -1;
}

/* CPU time of this thread: the model is built on one thread, and on a
 * busy machine its CPU time says more than the wall time around it. */
static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static struct gen *make_gen(long checks, long slos, const struct clock *clk)
{
    struct buf y, err;
    buf_init(&y, 64u << 20);
    buf_init(&err, 1u << 20);
    buf_adds(&y, "global: {interval: 30s, timeout: 5s}\nchecks:\n");
    for (long i = 0; i < checks; i++)
        buf_addf(&y, "  - {name: check-%05ld, group: group-%03ld, url: 'http://127.0.0.1:1/%ld'}\n",
                 i, i / 100, i);
    buf_adds(&y, "slos:\n");
    for (long s = 0; s < slos; s++) {
        buf_addf(&y, "  - {name: slo-%04ld, objective: 99.9, period: 30d, sli: {checks: [", s);
        for (long k = 0; k < 10; k++)
            buf_addf(&y, "%scheck-%05ld", k ? ", " : "", (s * 10 + k) % checks);
        buf_adds(&y, "]}}\n");
    }
    buf_adds(&y, "canaries:\n  - name: web\n    baseline_check: check-00000\n"
                 "    canary: {url: 'http://127.0.0.1:1/new'}\n");
    struct cfg *c = NULL;
    if (y.failed || cfg_load_string(y.data, y.len, "statusmodel.yml", &c, &err) != OP_OK) {
        fprintf(stderr, "config: %s\n", buf_str_or(&err, "too large"));
        exit(1);
    }
    buf_free(&y);
    buf_free(&err);
    return gen_new(c, NULL, NULL, clk);
}

static void feed(const struct gen *g, int64_t now_ms)
{
    struct check_result r;
    for (size_t i = 0; i < gen_check_count(g); i++) {
        const struct sink *s;
        size_t n = gen_sinks(g, i, &s);
        for (int k = 0; k < 20; k++) {
            memset(&r, 0, sizeof(r));
            r.success = i % 10 != 0;
            r.reason = r.success ? CHECK_REASON_NONE : CHECK_REASON_HTTP_STATUS;
            r.status = r.success ? 200 : 500;
            r.duration = 0.004 * (double)(1 + (i + (size_t)k) % 50);
            for (size_t x = 0; x < CHECK_GAUGE_MAX; x++)
                r.gauges[x] = 0.0 / 0.0;
            if (!r.success)
                snprintf(r.detail, sizeof(r.detail), "status 500 not in [200-299]");
            int64_t t = now_ms - 600000 + 30000 * k + (int64_t)(i % 29000);
            for (size_t j = 0; j < n; j++)
                s[j].deliver(&s[j], &r, t);
        }
    }
}

static void run(const struct status_source *src, const char *what, struct status_query q,
                long rounds)
{
    double *build = calloc((size_t)rounds, sizeof(double));
    double *dump = calloc((size_t)rounds, sizeof(double));
    size_t bytes = 0, listed = 0, heap = 0;
    for (long i = 0; i < rounds; i++) {
        json_t *doc;
        char *why;
        struct mallinfo2 m0 = mallinfo2();
        double t0 = now_s();
        if (status_build(src, &q, &doc, &why) != OP_OK) {
            fprintf(stderr, "%s: %s\n", what, why);
            exit(1);
        }
        double t1 = now_s();
        struct mallinfo2 m1 = mallinfo2();
        heap = m1.uordblks + m1.hblkhd - m0.uordblks - m0.hblkhd;
        struct buf b;
        buf_init(&b, STATUS_MAX_JSON_BYTES);
        if (status_dump(doc, &b) != OP_OK)
            exit(1);
        double t2 = now_s();
        bytes = b.len;
        listed = json_array_size(json_object_get(doc, "checks"));
        buf_free(&b);
        json_decref(doc);
        build[i] = t1 - t0;
        dump[i] = t2 - t1;
    }
    qsort(build, (size_t)rounds, sizeof(double), cmp_double);
    qsort(dump, (size_t)rounds, sizeof(double), cmp_double);
    printf(
        "%-26s checks listed %5zu  build %7.2f ms  dump %7.2f ms  tree %6.1f MB  json %6.1f MB\n",
        what, listed, build[rounds / 2] * 1e3, dump[rounds / 2] * 1e3, (double)heap / 1e6,
        (double)bytes / 1e6);
    free(build);
    free(dump);
}

int main(int argc, char **argv)
{
    long checks = arg_long(argc > 1 ? argv[1] : NULL, 10000);
    long slos = arg_long(argc > 2 ? argv[2] : NULL, 1000);
    long rounds = arg_long(argc > 3 ? argv[3] : NULL, 20);
    if (checks < 10 || slos < 0 || rounds < 1) {
        fprintf(stderr, "usage: statusmodel [CHECKS>=10 [SLOS [ROUNDS]]]\n");
        return 2;
    }
    int64_t now_ms = (int64_t)time(NULL) * 1000;
    struct clock *clk = clock_fake_new(1000000000, now_ms);
    struct gen *g = make_gen(checks, slos, clk);
    feed(g, now_ms);
    struct status_source src = {.gen = g, .now_ms = now_ms};
    printf("%ld checks, %ld SLOs, median of %ld rounds\n", checks, slos, rounds);
    run(&src, "default (page 1 of 500)", (struct status_query){NULL, NULL, 1, 500}, rounds);
    run(&src, "per_page=1000", (struct status_query){NULL, NULL, 1, 1000}, rounds);
    run(&src, "state=down (1000 of them)", (struct status_query){NULL, "down", 1, 1000}, rounds);
    char group[32];
    snprintf(group, sizeof(group), "group-%03ld", checks / 200);
    run(&src, "one group of 100", (struct status_query){group, NULL, 1, 500}, rounds);
    run(&src, "last page of 500", (struct status_query){NULL, NULL, 20, 500}, rounds);
    gen_unref(g);
    clock_fake_free(clk);
    return 0;
}
