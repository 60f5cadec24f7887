package scenario

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad: no scenario file, however malformed, makes the parser or the
// validator panic or hang. Seeds: every shipped scenario and test file.
func FuzzLoad(f *testing.F) {
	for _, pattern := range []string{"../../bench/scenarios/*.yaml", "testdata/*.yaml"} {
		files, _ := filepath.Glob(pattern)
		for _, file := range files {
			if data, err := os.ReadFile(file); err == nil {
				f.Add(data)
			}
		}
	}
	f.Add([]byte("producers: {count: -1}\nqueues: [{name: '%d%d', count: 3}]\n"))
	f.Add([]byte("matrix: {prefetch: [1, x]}\nrpc: {server_delay: {distribution: uniform, min: 5s, max: 1s}}\n"))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(dir, "s.yaml")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Skip()
		}
		sc, src, err := Load(path, Default())
		if err != nil {
			if err.Error() == "" {
				t.Fatal("an empty error message")
			}
			return
		}
		sc.Normalize()
		if p := sc.Validate(); p != nil {
			_ = p.Explain(src, nil)
		}
		_ = sc.QueueNames()
		_ = sc.Matrix.Points()
	})
}
