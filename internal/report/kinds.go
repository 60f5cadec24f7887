package report

import (
	"fmt"
	"io"
	"sort"
	"strconv"

	"github.com/mqbench/mqbench/internal/catalog"
	"github.com/mqbench/mqbench/internal/result"
)

// writeKinds prints the figures each kind of worker reports of its own
// (result.Kinds), a kind at a time: its counts beside their rates per
// second (a rate without a count of its name, such as the broker's, on a
// row of its own), then one latency row per timed operation. Names are as
// in the catalogue: kinds.<kind>.counts.<name>, .rates.<name>,
// .latency.<name>.<stat>.
func writeKinds(w io.Writer, r *result.Result) error {
	for _, name := range sortedNames(r.Kinds) {
		k := r.Kinds[name]
		if k == nil {
			continue
		}
		var rows [][]string
		for _, c := range sortedNames(k.Counts) {
			rate, ok := k.Rates[c]
			rows = append(rows, []string{c, Count(k.Counts[c]), kindRate(rate, ok)})
		}
		for _, c := range sortedNames(k.Rates) {
			if _, counted := k.Counts[c]; !counted {
				rows = append(rows, []string{c, "", kindRate(k.Rates[c], true)})
			}
		}
		fmt.Fprintln(w)
		if err := WriteBox(w, []string{name, "total", "per second"}, rows); err != nil {
			return err
		}
		if len(k.Latency) == 0 {
			continue
		}
		fmt.Fprintln(w)
		lt := newTable(w, append([]string{name + " latency"}, catalog.LatencyStatLabels()...))
		for _, op := range sortedNames(k.Latency) {
			row := []string{op}
			for i, v := range catalog.LatencyRow(k.Latency[op]) {
				row = append(row, Value(catalog.LatencyUnit(i), v))
			}
			if err := lt.Append(row); err != nil {
				return err
			}
		}
		if err := lt.Render(); err != nil {
			return err
		}
	}
	return nil
}

// kindRate formats a kind's rate: two decimals, as kinds' rates are often
// a few per second.
func kindRate(v float64, ok bool) string {
	if !ok {
		return ""
	}
	return strconv.FormatFloat(v, 'f', 2, 64)
}

func sortedNames[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
