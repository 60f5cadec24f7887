package htmlreport

import (
	"strings"

	"github.com/mqbench/mqbench/internal/capacity"
	"github.com/mqbench/mqbench/internal/htmlreport/chart"
	"github.com/mqbench/mqbench/internal/report"
)

// CapacitySweep is a capacity sweep's document and its file name.
type CapacitySweep struct {
	File string
	Doc  *capacity.SweepDoc
}

// writeCapacitySweep writes a capacity sweep's section — one row per
// variant: its capacity, the latency there, what limited it — then each
// variant's search as a capacity section of its own, labelled with the
// file and the variant's parameters.
func writeCapacitySweep(m *chart.Markup, id, file string, d *capacity.SweepDoc) {
	heading(m, id, "Capacity sweep:", d.Name, file)
	m.El("p", itoa(len(d.Variants))+" variants, one capacity search each", "class", "meta")
	header, rows := report.CapacitySweepRows(d)
	table{header: header, lead: len(d.ParamNames), rows: rows}.write(m)
	m.Close("section")
	for i, v := range d.Variants {
		label := file + " · " + strings.ReplaceAll(paramLabel(d.ParamNames, v.Params), "\n", " ")
		writeCapacity(m, id+"-"+itoa(i+1), label, v.Search)
	}
}
