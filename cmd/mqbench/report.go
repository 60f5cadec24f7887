package main

import (
	"fmt"
	"io"

	"github.com/mqbench/mqbench/internal/report"
)

// reportCmd prints the summary table of saved results.
func reportCmd(args []string, stdout io.Writer) (int, error) {
	if len(args) == 0 {
		return exitUsage, usagef("report needs at least one result file")
	}
	for i, f := range args {
		r, err := report.LoadJSON(f)
		if err != nil {
			return exitUsage, usagef("%v", err)
		}
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		if err := report.WriteTable(stdout, r); err != nil {
			return exitFailed, err
		}
	}
	return exitOK, nil
}
