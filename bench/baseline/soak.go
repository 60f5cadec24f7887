package main

import (
	"encoding/csv"
	"fmt"
	"os"
	"strconv"
)

// printSoakRow prints a bench-soak.sh row: args are NAME CURVE.csv
// RESULT.json HELD, HELD being what the broker's queues held at the end
// (rabbitmqctl), the outside count the audit's left must equal.
func printSoakRow(args []string) error {
	if len(args) != 4 {
		return fmt.Errorf("want NAME CURVE.csv RESULT.json HELD")
	}
	rows, err := readCurve(args[1])
	if err != nil {
		return err
	}
	held, err := strconv.ParseInt(args[3], 10, 64)
	if err != nil {
		return fmt.Errorf("HELD %q: %v", args[3], err)
	}
	var r struct {
		MeasuredS float64 `json:"measured_s"`
		Totals    struct {
			Published int64 `json:"published"`
		} `json:"totals"`
		Audit *struct {
			Total struct {
				Expected, Consumed, Left, Dropped, Lost, Unconfirmed, Unknown int64
			} `json:"total"`
		} `json:"audit"`
	}
	if err := readJSON(args[2], &r); err != nil {
		return err
	}
	rss2, rssRise := riseAfter(rows, 120, 1)
	heap2, heapRise := riseAfter(rows, 120, 2)
	verdict := "no audit"
	if a := r.Audit; a != nil {
		t := a.Total
		sum := t.Consumed + t.Left + t.Dropped + t.Lost + t.Unconfirmed + t.Unknown
		verdict = fmt.Sprintf("%d + %d = %d of %d, left %d vs broker %d (%s), lost %d", t.Consumed, t.Left, sum, t.Expected, t.Left, held,
			map[bool]string{true: "equal", false: "DIFFER"}[t.Left == held], t.Lost)
	}
	fmt.Printf("| %s | %.1f | %.1f | %.1f | %.1f | %.1f | %d | %s |\n", args[0], r.MeasuredS/60, rss2/(1<<20), rssRise/1e6,
		heap2/(1<<20), heapRise/1e6, r.Totals.Published, verdict)
	return nil
}

// readCurve reads a soak curve: t_s, rss_bytes, heap_bytes per line.
func readCurve(path string) ([][3]float64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	var out [][3]float64
	for _, rec := range recs[min(1, len(recs)):] { // the header first
		var row [3]float64
		for i := range row {
			if i < len(rec) && rec[i] != "" {
				row[i], _ = strconv.ParseFloat(rec[i], 64)
			}
		}
		out = append(out, row)
	}
	return out, nil
}

// riseAfter is column col's value at the first sample at or after atS
// seconds, and how far the largest later sample rose above it.
func riseAfter(rows [][3]float64, atS float64, col int) (base, rise float64) {
	seen := false
	for _, r := range rows {
		if r[0] < atS || r[col] == 0 {
			continue
		}
		if !seen {
			base, seen = r[col], true
			continue
		}
		rise = max(rise, r[col]-base)
	}
	return base, rise
}
