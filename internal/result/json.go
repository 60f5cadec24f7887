package result

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// WriteJSON writes r (a result or any other document) as indented JSON.
func WriteJSON(w io.Writer, r any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// SaveJSON writes r (a result or any other document) to path atomically: a
// temporary file in the same directory is renamed over path, so readers
// never see half a result. Missing directories are created.
func SaveJSON(path string, r any) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, ".mqbench-*.json.tmp")
	if err != nil {
		return fmt.Errorf("write result: %w", err)
	}
	defer os.Remove(f.Name()) // no-op after a successful rename
	if err := WriteJSON(f, r); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Chmod(0o644); err != nil { // CreateTemp makes it private
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// Load reads a result written by SaveJSON or WriteJSON.
func Load(path string) (*Result, error) {
	var r Result
	if err := LoadDoc(path, Schema, &r, func() string { return r.Schema }); err != nil {
		return nil, err
	}
	return &r, nil
}

// LoadDoc reads the JSON document at path into v and checks that its
// schema (read by schemaOf after decoding) is want. Errors name the file.
func LoadDoc(path, want string, v any, schemaOf func() string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if got := schemaOf(); got != want {
		return fmt.Errorf("%s: schema %q, want %q", path, got, want)
	}
	return nil
}
