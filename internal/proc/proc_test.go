package proc

import (
	"testing"
	"time"
)

// TestCostGrows: burning CPU shows in CPUTime, and the peak resident
// memory covers a buffer the test touches (read from the OS, independent
// of the Go runtime's own accounting).
func TestCostGrows(t *testing.T) {
	before := CPUTime()
	deadline := time.Now().Add(50 * time.Millisecond)
	x := 0
	for time.Now().Before(deadline) {
		x++
	}
	buf := make([]byte, 64<<20)
	for i := range buf {
		if i%4096 == 0 {
			buf[i] = byte(x)
		}
	}
	cpu, rss := Cost()
	if cpu-before < 20*time.Millisecond {
		t.Errorf("CPU grew %v over 50ms of work", cpu-before)
	}
	if rss < 64<<20 {
		t.Errorf("peak RSS %d bytes, below the 64 MiB buffer touched", rss)
	}
	_ = buf[len(buf)-1]
}
