package main

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
)

// printComparison prints, per variant, client CPU seconds per million
// messages and throughput for the loop and mqbench, with mqbench's ratios —
// and, when a third side is given, for mqbench without coalesced writes
// (--no-coalesce). Each argument is
// NAME=LOOP1.json+LOOP2.json…,MQ1.json+…[,NOCOALESCE1.json+…]; with several
// runs per side the medians are compared (a 2-core machine shared with the
// broker varies by several percent from run to run). A message counts once
// whether published or consumed in the window ((published + consumed) /
// 2), so a run whose consumer lags its publisher is not flattered;
// throughput is consumed messages per second.
//
// The ratios are of the medians; the last two columns are the medians of
// each round's own ratios (mqbench against the loop run just before it),
// which a broker whose speed drifts between rounds disturbs less.
func printComparison(args []string) error {
	fmt.Println("| variant | runs | loop CPU s/M msgs | mqbench CPU s/M msgs | CPU ratio | loop consumed/s | mqbench consumed/s | throughput ratio | --no-coalesce CPU ratio | --no-coalesce throughput ratio | per-round CPU ratio | per-round throughput ratio |")
	fmt.Println("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, a := range args {
		name, files, ok := strings.Cut(a, "=")
		sides := strings.Split(files, ",")
		if !ok || len(sides) < 2 || len(sides) > 3 {
			return fmt.Errorf("want NAME=LOOP.json[+…],MQBENCH.json[+…][,NOCOALESCE.json[+…]], got %q", a)
		}
		var cpu, rate [3]float64
		var n int
		for i, side := range sides {
			c, r, k, err := medians(strings.Split(side, "+"))
			if err != nil {
				return err
			}
			cpu[i], rate[i] = c, r
			if i == 0 {
				n = k
			}
		}
		noCPU, noRate := "-", "-"
		if len(sides) == 3 {
			noCPU, noRate = fmt.Sprintf("%.3f", cpu[2]/cpu[0]), fmt.Sprintf("%.3f", rate[2]/rate[0])
		}
		pc, pr, err := pairedRatios(strings.Split(sides[0], "+"), strings.Split(sides[1], "+"))
		if err != nil {
			return err
		}
		fmt.Printf("| %s | %d | %.2f | %.2f | %.3f | %.0f | %.0f | %.3f | %s | %s | %.3f | %.3f |\n",
			name, n, cpu[0], cpu[1], cpu[1]/cpu[0], rate[0], rate[1], rate[1]/rate[0], noCPU, noRate, pc, pr)
	}
	return nil
}

// pairedRatios is the median over rounds of mqbench's CPU per message and
// throughput against the loop's in the same round (files in round order).
func pairedRatios(loops, mqs []string) (cpu, rate float64, err error) {
	if len(loops) != len(mqs) {
		return 0, 0, fmt.Errorf("%d loop runs and %d mqbench runs: not paired", len(loops), len(mqs))
	}
	var cpus, rates []float64
	for i := range loops {
		var l, m figures
		if err := readJSON(loops[i], &l); err != nil {
			return 0, 0, err
		}
		if err := readJSON(mqs[i], &m); err != nil {
			return 0, 0, err
		}
		cpus = append(cpus, m.cpuPerMillion()/l.cpuPerMillion())
		rates = append(rates, m.Rates.ConsumedPerS/l.Rates.ConsumedPerS)
	}
	return median(cpus), median(rates), nil
}

// printLatency compares the end-to-end latency of mqbench runs with and
// without coalesced writes: NAME=ON1.json+…,OFF1.json+…; medians of each
// side's p50 and p99.
func printLatency(args []string) error {
	fmt.Println("| variant | runs | e2e p50 coalesced µs | e2e p50 --no-coalesce µs | p50 difference µs | e2e p99 coalesced µs | e2e p99 --no-coalesce µs |")
	fmt.Println("|---|---:|---:|---:|---:|---:|---:|")
	for _, a := range args {
		name, files, ok := strings.Cut(a, "=")
		on, off, ok2 := strings.Cut(files, ",")
		if !ok || !ok2 {
			return fmt.Errorf("want NAME=ON.json[+…],OFF.json[+…], got %q", a)
		}
		p50on, p99on, n, err := latencyMedians(strings.Split(on, "+"))
		if err != nil {
			return err
		}
		p50off, p99off, _, err := latencyMedians(strings.Split(off, "+"))
		if err != nil {
			return err
		}
		fmt.Printf("| %s | %d | %.0f | %.0f | %+.0f | %.0f | %.0f |\n", name, n, p50on, p50off, p50on-p50off, p99on, p99off)
	}
	return nil
}

// latencyMedians reads mqbench results and returns the medians of their
// end-to-end p50 and p99.
func latencyMedians(files []string) (p50, p99 float64, n int, err error) {
	var a, b []float64
	for _, f := range files {
		var r struct {
			Latency struct {
				EndToEnd *struct {
					P50 float64 `json:"p50_us"`
					P99 float64 `json:"p99_us"`
				} `json:"end_to_end"`
			} `json:"latency"`
		}
		if err := readJSON(f, &r); err != nil {
			return 0, 0, 0, err
		}
		if r.Latency.EndToEnd == nil {
			return 0, 0, 0, fmt.Errorf("%s: no end-to-end latency", f)
		}
		a, b = append(a, r.Latency.EndToEnd.P50), append(b, r.Latency.EndToEnd.P99)
	}
	return median(a), median(b), len(files), nil
}

// medians reads runs and returns the median CPU per million messages and
// the median consumed rate.
func medians(files []string) (cpu, rate float64, n int, err error) {
	var cpus, rates []float64
	for _, f := range files {
		var fig figures
		if err := readJSON(f, &fig); err != nil {
			return 0, 0, 0, err
		}
		cpus = append(cpus, fig.cpuPerMillion())
		rates = append(rates, fig.Rates.ConsumedPerS)
	}
	return median(cpus), median(rates), len(files), nil
}

func median(v []float64) float64 {
	sort.Float64s(v)
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// cpuPerMillion is client CPU seconds per million messages moved in the
// measured window.
func (f *figures) cpuPerMillion() float64 {
	moved := (f.Rates.PublishedPerS + f.Rates.ConsumedPerS) / 2 * f.MeasuredS
	return f.Client.CPUS / moved * 1e6
}

func readJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
