package main

import (
	"errors"
	"io"
	"runtime"
	"strings"
	"testing"
)

// TestBoundsOnEveryInput: each input that used to crash, flood or
// silently misbehave is refused before anything runs, with the flag, the
// value and the range (docs/BAD-INPUT.md lists them).
func TestBoundsOnEveryInput(t *testing.T) {
	cases := []usageCase{
		{[]string{"--confirm", "1000000000"}, []string{"--confirm = 1000000000", "0 to 1000000"}},
		{[]string{"--producers", "100", "--confirm", "100000"}, []string{"--confirm = 100000", "unconfirmed publishes at most"}},
		{[]string{"--size", "2000000000"}, []string{"--size = 2000000000", "at most 134217728"}},
		{[]string{"--producers", "100", "--size", "100000000"}, []string{"body buffers"}},
		{[]string{"--rate", "1e-10"}, []string{"--rate = 1e-10", "0.001 to 1e+07"}},
		{[]string{"--rate", "inf"}, []string{"--rate = +Inf"}},
		{[]string{"--rate", "NaN"}, []string{"--rate = NaN"}},
		{[]string{"--total-rate", "-5"}, []string{"--total-rate = -5"}},
		{[]string{"--rpc-clients", "1", "--rpc-rate", "1e-10"}, []string{"--rpc-rate = 1e-10"}},
		{[]string{"--rpc-clients", "1", "--rpc-rate", "1e12"}, []string{"--rpc-rate = 1e+12"}},
		{[]string{"--rpc-servers", "1", "--rpc-server-concurrency", "70000"}, []string{"--rpc-server-concurrency = 70000", "1 to 65535"}},
		{[]string{"--queues", "5000000", "--queue", "q"}, []string{"--queues = 5000000", "1 to 50000"}},
		{[]string{"--duration", "1e10"}, []string{"1e10", "not a duration we can hold"}},
		{[]string{"--duration", "NaN"}, []string{"NaN", "not a duration we can hold"}},
		{[]string{"--duration", "9000h"}, []string{"--duration = 9000h0m0s", "at most 8784h0m0s"}},
		{[]string{"--consumers", "0", "--cmessages", "10"}, []string{"--cmessages = 10", "no consumers"}},
		{[]string{"--producers", "0", "--pmessages", "10"}, []string{"--pmessages = 10", "no producers"}},
		{[]string{"--rpc-servers", "1", "--rpc-requests", "10"}, []string{"--rpc-requests = 10", "no RPC clients"}},
		{[]string{"--producers", "200000"}, []string{"--producers = 200000", "0 to 100000"}},
		{[]string{"--prefetch", "70000"}, []string{"--prefetch = 70000", "0 (unlimited) to 65535"}},
		{[]string{"--repeat", "5000"}, []string{"--repeat = 5000"}},
		{[]string{"--sweep", "prefetch=1,2,3,4,5,6,7,8,9,10", "--sweep", "confirm=1,2,3,4,5,6,7,8,9,10", "--sweep", "size=32,33,34,35,36,37,38,39,40,41",
			"--sweep", "producers=1,2,3,4,5,6,7,8,9,10,11"}, []string{"11000 combinations", "at most 10000"}},
		{[]string{"--interval", "1ms"}, []string{"--interval = 1ms", "positive, 10ms to"}},
		{[]string{"--message-id", "{uuid}"}, []string{"--message-id = {uuid}", "unknown placeholder {uuid}"}},
		{[]string{"--expiration", "1.5ms"}, []string{"--expiration = 1.5ms", "whole milliseconds"}},
		{[]string{"--body", "nowhere-" + "such-body"}, []string{"--body = nowhere-such-body", "cannot read it"}},
		{[]string{"--body-compression-ratio", "1000"}, []string{"--body-compression-ratio = 1000", "1 (incompressible) to 100"}},
	}
	for i := range cases {
		cases[i].args = append([]string{"run"}, cases[i].args...)
	}
	expectUsageErrors(t, cases)
}

// FuzzRunArgs feeds arbitrary argument vectors to mqbench run's flag and
// scenario layer (everything before connecting): it never panics, never
// allocates more than a bound, and either resolves a valid scenario or
// returns a usage error.
func FuzzRunArgs(f *testing.F) {
	for _, seed := range []string{
		"--rate\x00100\x00--confirm\x0050",
		"--size\x002000000000",
		"--sweep\x00prefetch=1,10\x00--sweep\x00url=amqp://u:p@h/",
		"--queues\x005000000\x00--queue\x00q-%d",
		"--duration\x00NaN",
		"-x\x003\x00-y\x002\x00--prefetch\x0070000",
		"testdata/base.yaml\x00--rate\x001e-10",
		"--rpc-clients\x001\x00--rpc-rate\x00inf",
		"--tls-ca\x00/nonexistent\x00--url\x00amqps://h/",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		args := strings.Split(in, "\x00")
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		fl := newFlagSet()
		fl.fs.SetOutput(io.Discard)
		file, err := fl.parse(args)
		if err == nil {
			_, err = resolve(file, fl)
		}
		runtime.ReadMemStats(&after)
		if grew := after.TotalAlloc - before.TotalAlloc; grew > 64<<20 {
			t.Fatalf("%q allocated %d MiB", args, grew>>20)
		}
		if err != nil {
			var ue *usageError
			if !errors.As(err, &ue) {
				t.Fatalf("%q: %v is not a usage error", args, err)
			}
		}
	})
}
