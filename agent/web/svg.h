/*
 * svg.h - the status page's small charts as inline SVG: a sparkline of a
 * check's recent latency with its failures marked, a burndown of an SLO's
 * error budget over its period, and a budget bar.
 *
 * Inline, because the page loads nothing else (it must work air-gapped and
 * its Content-Security-Policy allows no source), and without style
 * attributes, which that policy would refuse: shapes carry classes that
 * the page's one stylesheet colours. Every chart has a text equivalent
 * written beside it by the page or in its aria-label, so none of them is
 * the only way to read a value.
 */
#ifndef OUTPOST_SVG_H
#define OUTPOST_SVG_H

#include "buf.h"

#include <stdbool.h>
#include <stddef.h>

/* One slot of a sparkline: its mean latency (NaN: no run in the slot, a
 * gap in the line) and how many of its runs failed. */
struct svg_spark_point {
    double seconds;
    unsigned failures;
};

/* A sparkline of n points (borrowed), oldest first, evenly spaced: the
 * latency as a line scaled to its own maximum, broken where a slot had no
 * run, and a mark on each slot with a failure. label (borrowed, plain text)
 * begins the chart's aria-label, which goes on with the peak and the number
 * of failed runs. n == 0 draws an empty chart. */
void svg_sparkline(struct buf *b, const struct svg_spark_point *p, size_t n, const char *label);

/* One point of a burndown: unix seconds and the budget remaining then (a
 * fraction, may be below zero; points with a NaN or a magnitude over 1e15
 * are skipped). */
struct svg_burn_point {
    double t;
    double remaining;
};

/* A burndown line of n points (borrowed), oldest first, spread over their
 * time span, on a scale from min(0, lowest) to max(1, highest), with the
 * zero line drawn dashed: where the line crosses it the budget ran out. */
void svg_burndown(struct buf *b, const struct svg_burn_point *p, size_t n);

/* A horizontal bar filled to fraction (clamped to 0..1; NaN: empty),
 * in class cls (static, e.g. "fill-ok"). Hidden from assistive technology:
 * the value is always written as text beside it. */
void svg_bar(struct buf *b, double fraction, const char *cls);

#endif
