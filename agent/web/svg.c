/* svg.c - inline SVG charts for the status page (svg.h). */
#include "svg.h"
#include "html.h"

#include <math.h>

/* The sparkline's box, in user units; the stylesheet sizes it on screen. */
#define SPARK_W 100.0
#define SPARK_H 24.0
#define SPARK_PAD 2.5
/* The burndown's box: scaled to the width of its card, strokes kept thin
 * by vector-effect, so the unit only sets the proportions. */
#define BURN_W 300.0
#define BURN_H 60.0
#define BURN_PAD 3.0

static double spark_x(size_t i, size_t n)
{
    if (n < 2)
        return SPARK_W / 2;
    return SPARK_PAD + (double)i * (SPARK_W - 2 * SPARK_PAD) / (double)(n - 1);
}

static double spark_y(double v, double peak)
{
    if (!(peak > 0.0))
        return SPARK_H - SPARK_PAD;
    return SPARK_PAD + (1.0 - v / peak) * (SPARK_H - 2 * SPARK_PAD);
}

/* A run of points with values [from, to): a polyline, or a dot when it is
 * a single point (a polyline of one point draws nothing). */
static void spark_run(struct buf *b, const struct svg_spark_point *p, size_t n, size_t from,
                      size_t to, double peak)
{
    if (to - from == 1) {
        buf_addf(b, "<circle class=\"dot\" cx=\"%.1f\" cy=\"%.1f\" r=\"1.5\"/>", spark_x(from, n),
                 spark_y(p[from].seconds, peak));
        return;
    }
    buf_adds(b, "<polyline class=\"line\" points=\"");
    for (size_t i = from; i < to; i++)
        buf_addf(b, "%s%.1f,%.1f", i == from ? "" : " ", spark_x(i, n),
                 spark_y(p[i].seconds, peak));
    buf_adds(b, "\"/>");
}

void svg_sparkline(struct buf *b, const struct svg_spark_point *p, size_t n, const char *label)
{
    double peak = 0.0;
    bool any = false;
    unsigned long long failed = 0;
    for (size_t i = 0; i < n; i++) {
        any |= isfinite(p[i].seconds);
        if (isfinite(p[i].seconds) && p[i].seconds > peak)
            peak = p[i].seconds;
        failed += p[i].failures;
    }
    buf_addf(b, "<svg class=\"spark\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"",
             SPARK_W, SPARK_H);
    html_text(b, label);
    if (any) {
        buf_adds(b, ": peak ");
        html_seconds(b, peak, false);
    } else {
        buf_adds(b, ": no latency");
    }
    buf_addf(b, ", %llu failed %s\">", failed, failed == 1 ? "run" : "runs");
    buf_addf(b, "<line class=\"base\" x1=\"0\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\"/>",
             SPARK_H - 0.5, SPARK_W, SPARK_H - 0.5);
    /* Runs of consecutive slots with a value; a slot without runs breaks
     * the line rather than pretending the latency went to zero. */
    size_t from = 0;
    for (size_t i = 0; i <= n; i++) {
        bool has = i < n && isfinite(p[i].seconds);
        if (has)
            continue;
        if (i > from)
            spark_run(b, p, n, from, i, peak);
        from = i + 1;
    }
    for (size_t i = 0; i < n; i++) {
        if (p[i].failures == 0)
            continue;
        double y = isfinite(p[i].seconds) ? spark_y(p[i].seconds, peak) : SPARK_H - SPARK_PAD;
        buf_addf(b, "<circle class=\"fail-mark\" cx=\"%.1f\" cy=\"%.1f\" r=\"2.2\"/>",
                 spark_x(i, n), y);
    }
    buf_adds(b, "</svg>");
}

/* A point the chart can place: finite, and small enough that the spans
 * between points stay finite too (two values near DBL_MAX of opposite
 * signs would make the scale infinite and every coordinate NaN). The
 * bound is far beyond any time or budget the agent reports. */
#define BURN_MAX_ABS 1e15
static bool burn_usable(const struct svg_burn_point *p)
{
    return fabs(p->t) <= BURN_MAX_ABS && fabs(p->remaining) <= BURN_MAX_ABS;
}

void svg_burndown(struct buf *b, const struct svg_burn_point *p, size_t n)
{
    double lo = 0.0, hi = 1.0, t0 = 0.0, t1 = 0.0, first = NAN, last = NAN;
    size_t used = 0;
    for (size_t i = 0; i < n; i++) {
        if (!burn_usable(&p[i]))
            continue;
        if (used == 0) {
            t0 = p[i].t;
            first = p[i].remaining;
        }
        t1 = p[i].t;
        last = p[i].remaining;
        lo = fmin(lo, p[i].remaining);
        hi = fmax(hi, p[i].remaining);
        used++;
    }
    double span = t1 > t0 ? t1 - t0 : 1.0, range = hi - lo;
    double zero_y = BURN_PAD + (hi - 0.0) / range * (BURN_H - 2 * BURN_PAD);
    buf_addf(b,
             "<svg class=\"burn\" viewBox=\"0 0 %.0f %.0f\" preserveAspectRatio=\"none\" "
             "role=\"img\" aria-label=\"budget remaining over the period",
             BURN_W, BURN_H);
    if (used > 0) {
        buf_adds(b, ": from ");
        html_percent(b, first, 1);
        buf_adds(b, " to ");
        html_percent(b, last, 1);
    } else {
        buf_adds(b, ": no data yet");
    }
    buf_adds(b, "\">");
    buf_addf(b,
             "<line class=\"zero\" x1=\"0\" y1=\"%.1f\" x2=\"%.0f\" y2=\"%.1f\" "
             "vector-effect=\"non-scaling-stroke\"/>",
             zero_y, BURN_W, zero_y);
    if (used > 0) {
        buf_adds(b, "<polyline class=\"line\" vector-effect=\"non-scaling-stroke\" points=\"");
        bool sep = false;
        for (size_t i = 0; i < n; i++) {
            if (!burn_usable(&p[i]))
                continue;
            double x = used == 1 ? BURN_W : (p[i].t - t0) / span * BURN_W;
            double y = BURN_PAD + (hi - p[i].remaining) / range * (BURN_H - 2 * BURN_PAD);
            buf_addf(b, "%s%.1f,%.1f", sep ? " " : "", x, y);
            sep = true;
        }
        /* One point has no length: draw it as a short level stroke. */
        if (used == 1)
            buf_addf(b, " %.1f,%.1f", BURN_W - 4.0,
                     BURN_PAD + (hi - last) / range * (BURN_H - 2 * BURN_PAD));
        buf_adds(b, "\"/>");
    }
    buf_adds(b, "</svg>");
}

void svg_bar(struct buf *b, double fraction, const char *cls)
{
    double f = isfinite(fraction) ? fmin(fmax(fraction, 0.0), 1.0) : 0.0;
    buf_addf(b,
             "<svg class=\"bar\" viewBox=\"0 0 100 6\" preserveAspectRatio=\"none\" "
             "aria-hidden=\"true\"><rect class=\"track\" width=\"100\" height=\"6\"/>"
             "<rect class=\"%s\" width=\"%.1f\" height=\"6\"/></svg>",
             cls, f * 100.0);
}
