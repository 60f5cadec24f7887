package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
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
