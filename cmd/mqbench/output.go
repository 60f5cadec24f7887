package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/mqbench/mqbench/internal/htmlreport"
)

// writeOutput writes what render produces to stdout (path "" or "-") or
// to the file at path. A file is written to a temporary file beside it and
// renamed over it, so a failed render never leaves half a report, nor
// replaces a good one.
func writeOutput(path string, stdout io.Writer, render func(io.Writer) error) error {
	if path == "" || path == "-" {
		return render(stdout)
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("--out %s: %w", path, err)
	}
	f, err := os.CreateTemp(dir, ".mqbench-report-*.tmp")
	if err != nil {
		return fmt.Errorf("--out %s: %w", path, err)
	}
	defer os.Remove(f.Name()) // no-op after a successful rename
	bw := bufio.NewWriter(f)
	if err := render(bw); err != nil {
		f.Close()
		return fmt.Errorf("--out %s: %w", path, err)
	}
	for _, step := range []func() error{bw.Flush, func() error { return f.Chmod(0o644) }, f.Close} {
		if err := step(); err != nil {
			f.Close()
			return fmt.Errorf("--out %s: %w", path, err)
		}
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("--out %s: %w", path, err)
	}
	return nil
}

// writeHTML renders every loaded document on one HTML page.
func writeHTML(w io.Writer, docs []loaded) error {
	var in htmlreport.Input
	for _, l := range docs {
		switch {
		case l.result != nil:
			in.Results = append(in.Results, htmlreport.Result{File: l.file, Doc: l.result})
		case l.sweep != nil:
			in.Sweeps = append(in.Sweeps, htmlreport.Sweep{File: l.file, Doc: l.sweep})
		case l.capacity != nil:
			in.Capacities = append(in.Capacities, htmlreport.Capacity{File: l.file, Doc: l.capacity})
		}
	}
	return htmlreport.Write(w, in)
}

// document is a loaded result or sweep as one side of an HTML comparison.
func (l loaded) document() htmlreport.Document {
	return htmlreport.Document{File: l.file, Result: l.result, Sweep: l.sweep}
}
