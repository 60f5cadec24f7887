// Package chart holds the drawing primitives of the HTML report: a markup
// writer for HTML and inline SVG that escapes everything it is given as
// text, the scales and tick sequences of an axis (linear, log and the
// percentile "nines" axis), the tick label formats, and the frame of a
// chart — its title, legend, grid, axes and plot area — with the marks
// every chart shares (lines, dots, shaded bands, reference lines).
//
// It knows nothing of mqbench's documents: the page assembly in
// internal/htmlreport decides what to plot, in which colours, and draws
// its own marks (bars, capacity steps) through a Frame's markup and
// scales.
//
// Everything written is a pure function of the calls made, so the page's
// golden files pin the output byte for byte: coordinates are rounded to
// one decimal (Num), and nothing depends on time or map order.
package chart
