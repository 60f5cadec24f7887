// Package proc reads what the running process costs: its CPU time and its
// peak resident memory, on Linux, macOS and Windows.
package proc

import "time"

// Cost returns the process's user+system CPU time so far and its peak
// resident memory in bytes (0 where the system does not say).
func Cost() (cpu time.Duration, maxRSS int64) { return CPUTime(), peakRSS() }
