// Package htmlreport renders saved mqbench documents — results
// (mqbench.result/v1), sweeps (mqbench.sweep/v1), capacity searches
// (mqbench.capacity/v1) and a baseline/candidate comparison — as one
// self-contained HTML page: charts, the tables of the text report, and the
// full resolved scenario.
//
// Charts are SVG generated here, in Go, on the server side; the page loads
// nothing and runs no chart library. Why:
//
//   - the output is a pure function of the documents, so golden files pin it
//     byte for byte and a review sees exactly what changed;
//   - there is nothing to vendor, update or audit (no JavaScript bundle, no
//     CDN, no fonts): the file works offline, from a CI artefact, years later;
//   - inline SVG renders in every browser, prints as vectors, and a run's
//     report stays tens of kilobytes;
//   - hover details are SVG <title> elements, which browsers show as native
//     tooltips without any script.
//
// The only script is a small self-check: on DOMContentLoaded it counts the
// charts (svg.chart) and those that actually drew a mark, and writes both
// counts into the body's data attributes, where a headless browser test
// reads them.
//
// The drawing primitives — the markup writer, scales and ticks, a chart's
// frame — are package chart; this package decides what each page and
// chart shows.
//
// Every string that comes from a document (scenario, queue and file names,
// warnings, errors) is HTML-escaped by the markup writer (chart.Markup);
// tag and attribute names only ever come from constants of this package
// and of package chart. URLs in documents are already masked by the tool
// that wrote them.
package htmlreport
