//go:build !linux

package engine

import "time"

// onThreadCPU runs fn and returns its wall time (thread CPU time is only
// read on Linux).
func onThreadCPU(fn func()) time.Duration {
	t0 := time.Now()
	fn()
	return time.Since(t0)
}
