package htmlreport

import (
	"fmt"

	"github.com/mqbench/mqbench/internal/htmlreport/chart"
	"github.com/mqbench/mqbench/internal/metrics"
	"github.com/mqbench/mqbench/internal/result"
)

// namedRun is a run in an overlay, with the name its legend entries carry
// (its file, or "baseline: file").
type namedRun struct {
	name string
	file string
	r    *result.Result
}

// overlayThroughput draws several runs' throughput on one time axis (each
// from its own start), one colour per run: its main rate solid (consumed,
// else RPC replies, else published) and, when that is not the publish
// rate, published/s dashed.
func overlayThroughput(m *chart.Markup, title string, runs []namedRun) {
	var ss []series
	for i, nr := range runs {
		rs := rateSeries(nr.r)
		if len(rs) == 0 {
			continue
		}
		main, ok := pickSeries(rs, "consumed/s")
		if !ok {
			main, ok = pickSeries(rs, "rpc replies/s")
		}
		if !ok {
			main = rs[0]
		}
		pub, hasPub := pickSeries(rs, "published/s")
		if hasPub && main.label != pub.label {
			pub.color, pub.dash, pub.label = runColor(i), "6 4", nr.name+" · "+pub.label
			ss = append(ss, pub)
		}
		main.color, main.dash, main.label = runColor(i), "", nr.name+" · "+main.label
		ss = append(ss, main)
	}
	if !drawable(ss, false) {
		return
	}
	timeChart(m, chart.Spec{Kind: "throughput", Title: title}, ss, nil, false, "messages per second", chart.RateLabel)
}

// pickSeries finds the series with the given label.
func pickSeries(ss []series, label string) (series, bool) {
	for _, s := range ss {
		if s.label == label {
			return s, true
		}
	}
	return series{}, false
}

// overlaySpectra draws one spectrum chart per latency kind that any of
// the runs has, each run a line in its own colour.
func overlaySpectra(m *chart.Markup, runs []namedRun) error {
	for _, k := range metrics.Kinds() {
		var lines []spectrumLine
		for i, nr := range runs {
			s := nr.r.Latency[k]
			if s == nil {
				continue
			}
			pts, err := spectrumOf(s)
			if err != nil {
				return fmt.Errorf("%s: latency.%s.hdr: %w", nr.file, k, err)
			}
			if len(pts) > 0 {
				lines = append(lines, spectrumLine{label: nr.name, color: runColor(i), pts: pts})
			}
		}
		if len(lines) > 0 {
			spectrumChart(m, "Percentile spectrum: "+k.Info().Label, lines)
		}
	}
	return nil
}

// writeOverlay sets every result of the report on the same axes: their
// throughput over time and their latency spectra.
func writeOverlay(m *chart.Markup, results []Result) error {
	heading(m, "overlay", "Every run overlaid", "", "")
	m.El("p", "Each run in its own colour; time is counted from each run's own start.", "class", "meta")
	runs := make([]namedRun, len(results))
	for i, r := range results {
		runs[i] = namedRun{name: r.File, file: r.File, r: r.Doc}
	}
	m.Open("div", "class", "charts")
	overlayThroughput(m, "Throughput per interval, every run", runs)
	err := overlaySpectra(m, runs)
	m.Close("div")
	m.Close("section")
	return err
}
