package htmlreport

// The palette is Okabe and Ito's, distinguishable with the common colour
// vision deficiencies and in greyscale print by lightness; every chart
// takes its colours from here so one figure has one colour throughout.
const (
	blue       = "#0072B2"
	vermillion = "#D55E00"
	green      = "#009E73"
	purple     = "#CC79A7"
	orange     = "#E69F00"
	sky        = "#56B4E9"
	grey       = "#666666"
	black      = "#222222"
)

// runColors colour runs (files) in overlays, in the order they are given.
var runColors = [...]string{blue, vermillion, green, purple, orange, sky, grey, black}

// runColor is the colour of the i-th run of an overlay.
func runColor(i int) string { return runColors[i%len(runColors)] }

// Pass and fail marks (capacity steps).
const (
	passColor = green
	failColor = vermillion
)

// css is the whole stylesheet: system fonts only (nothing to fetch), and a
// print layout that keeps charts and tables whole and opens nothing
// interactive.
const css = `
:root { --fg: #1d1d1f; --muted: #5f6368; --line: #d9dce1; --soft: #f5f6f8; --warn: #fff4e0; --bad: #fde8e1; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--fg); background: #fff;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
header, main { max-width: 1180px; margin: 0 auto; padding: 0 24px; }
header { padding-top: 20px; border-bottom: 1px solid var(--line); }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 36px 0 6px; padding-top: 10px; border-top: 2px solid var(--fg); }
h3 { font-size: 15px; margin: 22px 0 6px; }
.file { font: 12px ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; color: var(--muted); font-weight: normal; margin-left: 8px; }
.meta, .sub { color: var(--muted); margin: 2px 0 8px; }
nav ul { margin: 8px 0 14px; padding-left: 20px; }
.kpis { display: flex; flex-wrap: wrap; gap: 8px; margin: 10px 0; }
.kpi { border: 1px solid var(--line); border-radius: 6px; padding: 6px 12px; min-width: 120px; background: var(--soft); }
.kpi b { display: block; font-size: 17px; }
.kpi span { color: var(--muted); font-size: 12px; }
.notes { margin: 8px 0; padding: 8px 12px; border-radius: 6px; background: var(--warn); }
.notes.bad { background: var(--bad); }
.notes li { margin: 2px 0; }
.charts { display: grid; grid-template-columns: 1fr; gap: 8px; margin: 8px 0; }
svg.chart { width: 100%; max-width: 880px; height: auto; display: block; }
svg.chart text { font-size: 11px; fill: #333; font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; }
svg.chart text.title { font-size: 14px; font-weight: 600; fill: var(--fg); }
svg.chart text.legend { font-size: 12px; }
svg.chart text.axis-title { font-size: 12px; fill: var(--muted); }
svg.chart text.ref-label { font-size: 11px; font-weight: 600; }
svg.chart .grid { stroke: #eceef1; stroke-width: 1; }
svg.chart .axis { stroke: #8a8f98; stroke-width: 1; }
svg.chart .warmup { fill: #eceef1; }
svg.chart .trouble { fill: #fbd9cc; }
svg.chart .phase-a { fill: #e8eef8; }
svg.chart .phase-b { fill: #f6f0e4; }
svg.chart .band-label { font-size: 10px; fill: var(--muted); }
svg.chart .mark:hover { opacity: .8; }
table { border-collapse: collapse; margin: 6px 0 10px; font-variant-numeric: tabular-nums; }
th, td { border-bottom: 1px solid var(--line); padding: 3px 10px; text-align: right; vertical-align: top; }
td.r { white-space: nowrap; }
td .spread { color: var(--muted); font-size: 12px; }
th { background: var(--soft); font-weight: 600; }
th.l, td.l { text-align: left; }
td.pass { color: #00704f; font-weight: 600; }
td.fail { color: #a33a00; font-weight: 600; }
tr.total td { font-weight: 600; border-top: 2px solid var(--line); }
.scroll { overflow-x: auto; }
details { margin: 6px 0 10px; }
summary { cursor: pointer; color: var(--muted); }
pre { background: var(--soft); padding: 10px; border-radius: 6px; overflow-x: auto; font-size: 12px; }
footer { max-width: 1180px; margin: 30px auto; padding: 0 24px; color: var(--muted); font-size: 12px; }
@media print {
  header, main, footer { max-width: none; padding: 0; }
  svg.chart, table, .kpis { break-inside: avoid; }
  details > summary { display: none; }
  svg.chart .mark:hover { opacity: 1; }
}
`

// selfCheck counts the charts and those that drew something: an svg.chart
// with a non-zero box holding at least one data mark (class "mark": a
// line, bar, point or reference line, never an axis or grid line) whose
// box is not empty. A browser test reads the counts from the body's
// data-charts-expected and data-charts-drawn after load. It logs nothing:
// any console output from the page is a failure in that test.
const selfCheck = `
document.addEventListener("DOMContentLoaded", function () {
  var charts = document.querySelectorAll("svg.chart"), drawn = 0;
  charts.forEach(function (svg) {
    var box = svg.getBoundingClientRect();
    if (!(box.width > 0 && box.height > 0)) { return; }
    var marks = svg.querySelectorAll("path.mark, rect.mark, circle.mark, line.mark");
    for (var i = 0; i < marks.length; i++) {
      var b = marks[i].getBBox();
      if (b.width > 0 || b.height > 0) { drawn++; svg.setAttribute("data-drawn", "true"); return; }
    }
  });
  document.body.dataset.chartsExpected = String(charts.length);
  document.body.dataset.chartsDrawn = String(drawn);
});
`
