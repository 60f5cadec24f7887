//go:build linux

// Command peakrss runs a command and prints its peak resident memory in
// bytes, as the kernel kept it (ru_maxrss of the reaped child), after the
// command's own output:
//
//	peakrss COMMAND [ARG...]
//
// Why a process of its own: Go starts a child with vfork, sharing the
// parent's memory until the exec, and Linux carries that shared memory's
// high-water mark into the child's ru_maxrss. A test that generated large
// inputs would therefore read its own peak as the child's. Started from
// this small process instead, the child's figure is its own (at most this
// process's few MiB too high, never too low).
package main

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: peakrss COMMAND [ARG...]")
		os.Exit(2)
	}
	cmd := exec.Command(os.Args[1], os.Args[2:]...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Fprintf(os.Stderr, "peakrss: %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
	fmt.Printf("peak_rss_bytes %d\n", cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss<<10) // KiB on Linux
}
