// Package merge combines the results of a sharded run's shards into the
// result of the whole run, exactly where exactness is possible: totals
// are summed, latency histograms merged (HdrHistogram, not averaged
// percentiles), the delivery audit reconciled from every shard's bitsets;
// rates are counted over the window all shards measured together, and
// intervals aligned by wall-clock time. The merged result is an ordinary
// mqbench.result/v1 document that report, compare and the HTML report
// read like any other, with a merged section saying how it was made.
package merge

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/mqbench/mqbench/internal/audit"
	"github.com/mqbench/mqbench/internal/result"
	"github.com/mqbench/mqbench/internal/scenario"
)

// Input is one shard's result and the file it came from (for messages).
type Input struct {
	File   string
	Result *result.Result
}

// Merge merges the results of every shard of one sharded run, in any
// order. It refuses results that are not shards, shards of different runs
// or scenarios, a shard twice and a missing shard, naming the file.
func Merge(in []Input) (*result.Result, error) {
	shards, err := check(in)
	if err != nil {
		return nil, err
	}
	first := shards[0].Result
	out := &result.Result{
		Schema: result.Schema, Tool: first.Tool, Scenario: first.Scenario, Broker: first.Broker,
		Intervals: []result.Interval{}, Connections: []result.Connection{}, Warnings: []string{},
	}
	out.Scenario.Shard, out.Scenario.Out = nil, ""
	m := &result.Merged{Shards: len(shards), RunID: first.Shard.RunID}
	out.Merged = m
	window(out, m, shards)
	sumTotals(out, shards)
	if err := latencies(out, shards); err != nil {
		return nil, err
	}
	rates(out, m, shards)
	out.Client = client(shards)
	for _, s := range shards {
		out.Connections = append(out.Connections, s.Result.Connections...)
	}
	out.Queues = queues(shards)
	out.Faults = faults(shards)
	out.Intervals, err = intervals(shards, first.Scenario.Interval.D())
	if err != nil {
		return nil, err
	}
	if out.Audit, err = mergeAudit(shards); err != nil {
		return nil, err
	}
	if out.Kinds, err = kinds(shards); err != nil {
		return nil, err
	}
	out.Broker.Management = brokerPeaks(shards)
	stopReason(out, shards)
	perShard(m, shards)
	out.Warnings = warnings(out, m, shards)
	return out, nil
}

// check orders the inputs by shard index and verifies they are the
// shards of one run.
func check(in []Input) ([]Input, error) {
	if len(in) == 0 {
		return nil, fmt.Errorf("merge: no result to merge")
	}
	var n int
	var runID string
	var scenario0 []byte
	byIndex := map[int]Input{}
	for k, s := range in {
		r := s.Result
		if r.Merged != nil {
			return nil, fmt.Errorf("%s: already a merged result; merge the shards' own results", s.File)
		}
		if r.Shard == nil {
			return nil, fmt.Errorf("%s: not a shard's result (run it with --shard I/N or --shards N)", s.File)
		}
		if c := r.Shard.Count; c < 1 || c > scenario.MaxShards || r.Shard.Index < 0 || r.Shard.Index >= c {
			return nil, fmt.Errorf("%s: shard %d of %d is not a shard (want 0 <= index < count <= %d)", s.File, r.Shard.Index, c, scenario.MaxShards)
		}
		js, _ := json.Marshal(comparable(r.Scenario))
		if k == 0 {
			n, runID, scenario0 = r.Shard.Count, r.Shard.RunID, js
		}
		switch {
		case r.Shard.Count != n:
			return nil, fmt.Errorf("%s: shard %d of %d, but %s is of %d shards: not the same run", s.File, r.Shard.Index, r.Shard.Count, in[0].File, n)
		case r.Shard.RunID != runID:
			return nil, fmt.Errorf("%s: run %s, but %s is of run %s (another --start-at or scenario name)", s.File, r.Shard.RunID, in[0].File, runID)
		case string(js) != string(scenario0):
			return nil, fmt.Errorf("%s: its scenario differs from %s's (%s): the shards must run one scenario", s.File, in[0].File, firstDifference(scenario0, js))
		}
		if prev, dup := byIndex[r.Shard.Index]; dup {
			return nil, fmt.Errorf("%s: shard %d again (also %s)", s.File, r.Shard.Index, prev.File)
		}
		byIndex[r.Shard.Index] = s
	}
	out := make([]Input, 0, n)
	var missing []string
	for i := 0; i < n; i++ {
		s, ok := byIndex[i]
		if !ok {
			missing = append(missing, fmt.Sprint(i))
			continue
		}
		out = append(out, s)
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("merge: shards %s of %d are missing: the merge of a partial run would not be the scenario", strings.Join(missing, ", "), n)
	}
	return out, nil
}

// comparable is what every shard of one run has in common: its own output
// file and shard aside, and where it reached the broker (shards in other
// places may use other addresses of one cluster, or none for the
// management API).
func comparable(sc scenario.Scenario) scenario.Scenario {
	sc.Shard, sc.Out = nil, ""
	sc.URL, sc.URLs, sc.ManagementURL, sc.ConnectionAllocation = "", nil, "", ""
	return sc
}

// firstDifference names the first top-level scenario field two encodings
// disagree on.
func firstDifference(a, b []byte) string {
	var ma, mb map[string]json.RawMessage
	_ = json.Unmarshal(a, &ma)
	_ = json.Unmarshal(b, &mb)
	keys := make([]string, 0, len(ma))
	for k := range ma {
		keys = append(keys, k)
	}
	for k := range mb {
		if _, ok := ma[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		if string(ma[k]) != string(mb[k]) {
			return "field " + k
		}
	}
	return "no field"
}

// measuredWindow is a shard's measured window in wall-clock time.
func measuredWindow(r *result.Result) (time.Time, time.Time) {
	start := r.StartedAt.Add(r.Scenario.Warmup.D())
	return start, start.Add(time.Duration(r.MeasuredS * float64(time.Second)))
}

// window sets the merged run's span and its common measured window.
func window(out *result.Result, m *result.Merged, shards []Input) {
	var firstStart, lastStart time.Time
	for k, s := range shards {
		r := s.Result
		ws, we := measuredWindow(r)
		if k == 0 || r.StartedAt.Before(out.StartedAt) {
			out.StartedAt = r.StartedAt
		}
		if k == 0 || r.EndedAt.After(out.EndedAt) {
			out.EndedAt = r.EndedAt
		}
		if k == 0 || ws.After(m.WindowStart) {
			m.WindowStart = ws
		}
		if k == 0 || we.Before(m.WindowEnd) {
			m.WindowEnd = we
		}
		if k == 0 || r.StartedAt.Before(firstStart) {
			firstStart = r.StartedAt
		}
		if k == 0 || r.StartedAt.After(lastStart) {
			lastStart = r.StartedAt
		}
		if r.Start != nil && (out.Start == nil || r.Start.LateS > out.Start.LateS) {
			st := *r.Start
			out.Start = &st
		}
	}
	m.StartSkewS = result.Round3(lastStart.Sub(firstStart).Seconds())
	if m.WindowEnd.Before(m.WindowStart) {
		m.WindowEnd = m.WindowStart // no overlap: warnings says so
	}
	out.MeasuredS = result.Round3(m.WindowEnd.Sub(m.WindowStart).Seconds())
}

// mergeAudit merges the shards' audit states and reconciles the whole
// run; nil when the shards carry none (an unaudited run).
func mergeAudit(shards []Input) (*result.Audit, error) {
	var states []*audit.State
	var memory int64
	for _, s := range shards {
		a := s.Result.Audit
		if a == nil || a.State == nil {
			continue
		}
		states = append(states, a.State)
		memory += a.MemoryBytes
	}
	if len(states) == 0 {
		return nil, nil
	}
	if len(states) != len(shards) {
		return nil, fmt.Errorf("merge: %d of %d shards carry an audit state: the audit cannot be merged", len(states), len(shards))
	}
	st, err := audit.Merge(states)
	if err != nil {
		return nil, err
	}
	if want := shards[0].Result.Scenario.Producers.Count; st.Producers != want {
		return nil, fmt.Errorf("merge: the audit states are of %d producers, the scenario has %d", st.Producers, want)
	}
	return result.ReconcileAudit(st, memory)
}

// crossShard reports whether any consumer received messages of a producer
// of another shard. Without an audit (small bodies), whether both sides
// ran in several shards stands in.
func crossShard(shards []Input) bool {
	n := len(shards)
	audited := true
	for _, s := range shards {
		a := s.Result.Audit
		if a == nil || a.State == nil {
			audited = false
			break
		}
		sh := scenario.Shard{Index: s.Result.Shard.Index, Count: n}
		if a.State.ConsumedFromOthers(sh.Owns) {
			return true
		}
	}
	if audited {
		return false
	}
	sc := shards[0].Result.Scenario
	return n > 1 && sc.Producers.Count > 0 && sc.Consumers.Count > 0 && (sc.Producers.Count > 1 || sc.Consumers.Count > 1)
}
