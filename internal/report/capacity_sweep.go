package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"strings"

	"github.com/mqbench/mqbench/internal/capacity"
)

// CapacitySweepRows are a capacity sweep's variants, one row each: its
// parameters, its capacity ("(once)" when it passed once, not confirmed),
// the latency there, what limited it, the first failing rate and the
// number of steps. The text, markdown and HTML forms show these cells.
func CapacitySweepRows(d *capacity.SweepDoc) (header []string, rows [][]string) {
	header = append(append([]string(nil), d.ParamNames...), "capacity/s", "p99 there", "limited by", "first failing/s", "steps")
	for _, v := range d.Variants {
		row := make([]string, 0, len(header))
		for _, p := range d.ParamNames {
			row = append(row, v.Params[p])
		}
		a := v.Search.Capacity
		p99, first := "-", "-"
		kind := v.Search.LatencyKind()
		if r := v.Search.Best(); r != nil && r.Latency[kind] != nil {
			p99 = Micros(r.Latency[kind].P99Us)
		}
		if a.FirstFailingRate != nil {
			first = Rate(*a.FirstFailingRate)
		}
		row = append(row, capacityCell(a), p99, a.LimitedBy, first, fmt.Sprint(len(v.Search.Steps)))
		rows = append(rows, row)
	}
	return header, rows
}

// WriteCapacitySweep prints the sweep's name and one row per variant
// (CapacitySweepRows): what mqbench capacity prints after a sweep.
func WriteCapacitySweep(w io.Writer, d *capacity.SweepDoc) error {
	fmt.Fprintf(w, "capacity sweep %q: %d variants\n", d.Name, len(d.Variants))
	header, rows := CapacitySweepRows(d)
	return WriteBox(w, header, rows)
}

// WriteCapacitySweepMarkdown prints the variants (CapacitySweepRows) as
// a markdown table.
func WriteCapacitySweepMarkdown(w io.Writer, d *capacity.SweepDoc) error {
	header, rows := CapacitySweepRows(d)
	fmt.Fprintf(w, "capacity sweep %q: %d variants\n\n", d.Name, len(d.Variants))
	Markdown(w, header, len(d.ParamNames), rows)
	return nil
}

// WriteCapacitySweepCSV prints one row per variant with raw numbers: its
// parameters, the capacity and whether it passed twice, what limited it,
// the first failing rate and what failed there, the latency kind judged
// and its p99 at the capacity (µs), and the number of steps. Empty where
// there is none.
func WriteCapacitySweepCSV(w io.Writer, d *capacity.SweepDoc) error {
	cw := csv.NewWriter(w)
	header := append(append([]string(nil), d.ParamNames...), "capacity_per_s", "confirmed", "limited_by",
		"first_failing_rate", "failed_objectives", "latency", "p99_us", "steps")
	if err := cw.Write(header); err != nil {
		return err
	}
	for _, v := range d.Variants {
		row := make([]string, 0, len(header))
		for _, p := range d.ParamNames {
			row = append(row, v.Params[p])
		}
		a := v.Search.Capacity
		first, p99 := "", ""
		if a.FirstFailingRate != nil {
			first = num(*a.FirstFailingRate)
		}
		kind := v.Search.LatencyKind()
		if r := v.Search.Best(); r != nil && r.Latency[kind] != nil {
			p99 = fmt.Sprint(r.Latency[kind].P99Us)
		}
		row = append(row, num(a.RatePerS), fmt.Sprint(a.Confirmed), a.LimitedBy, first,
			strings.Join(a.FailedObjectives, " "), kind.String(), p99, fmt.Sprint(len(v.Search.Steps)))
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
