// Command mqbench load-tests and benchmarks RabbitMQ over AMQP 0-9-1.
//
//	mqbench run [SCENARIO.yaml] [flags]          run a benchmark (or a sweep)
//	mqbench report [--format F] [--out FILE] FILE...   re-render saved results, sweeps and capacity searches
//	mqbench capacity [SCENARIO.yaml] [flags] --slo PATH<=VALUE...  the highest sustainable rate
//	mqbench compare BASE CANDIDATE [--max-regression METRIC=PCT]... [--format F] [--out FILE]
//	mqbench merge SHARD.json... [--out FILE]     merge the shards of a sharded run
//	mqbench version                              print the version
//
// Exit codes: 0 success, 1 the run failed, 2 usage or scenario error, 3 a
// regression gate was crossed (compare), 4 a gate could not be checked
// (compare: its figure is missing from a side), 130/143 interrupted by
// SIGINT/SIGTERM (the result is still written).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailed  = 1
	exitUsage   = 2
	exitSIGINT  = 130
	exitSIGTERM = 143
)

// usageError is a mistake in the command line or scenario (exit 2). It
// wraps the error that says what, so its type survives (flag.ErrHelp is
// not a mistake: -h exits 0).
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }

// Unwrap returns the error that says what is wrong.
func (e *usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Errorf(format, args...)}
}

// asUsage marks err as a usage error (nil stays nil).
func asUsage(err error) error {
	if err == nil {
		return nil
	}
	return &usageError{err}
}

func main() {
	os.Exit(mainCode(os.Args[1:], os.Stdout, os.Stderr))
}

func mainCode(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, topUsage)
		return exitUsage
	}
	var code int
	var err error
	switch args[0] {
	case "run":
		code, err = runCmd(args[1:], stdout, stderr)
	case "report":
		code, err = reportCmd(args[1:], stdout, stderr)
	case "compare":
		code, err = compareCmd(args[1:], stdout, stderr)
	case "capacity":
		code, err = capacityCmd(args[1:], stdout, stderr)
	case "merge":
		code, err = mergeCmd(args[1:], stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, "mqbench", version())
		return exitOK
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, topUsage)
		return exitOK
	default:
		err = usagef("unknown command %q", args[0])
	}
	if errors.Is(err, flag.ErrHelp) {
		return exitOK // the flag package printed the usage
	}
	if err != nil {
		fmt.Fprintln(stderr, "mqbench:", err)
		var ue *usageError
		if errors.As(err, &ue) {
			if code == 0 {
				code = exitUsage
			}
		} else if code == 0 {
			code = exitFailed
		}
	}
	return code
}

const topUsage = `mqbench: load-test and benchmark RabbitMQ (AMQP 0-9-1)

usage:
  mqbench run [SCENARIO.yaml] [flags]        run a benchmark or a sweep (mqbench run -help lists the flags)
  mqbench report [--format F] [--out FILE] FILE...
                                             re-render saved results, sweeps or capacity searches:
                                             table, json, csv, markdown, or html (one offline page with charts)
  mqbench capacity [SCENARIO.yaml] [run flags] --slo PATH<=VALUE...
                                             the highest rate the setup sustains within its objectives
  mqbench compare BASE.json CANDIDATE.json [--max-regression METRIC=PCT]... [--format table|markdown|html] [--out FILE]
                                             side by side with deltas; exit 3 when a gate is crossed,
                                             4 when a gated figure is missing from a side
  mqbench merge SHARD.json... [--out MERGED.json]
                                             merge the results of a sharded run's shards (run --shard I/N)
  mqbench version                            print the version
`

// version is the module version when installed with go install, else "dev".
func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}
