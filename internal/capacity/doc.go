// Package capacity finds the highest rate a setup sustains within its
// objectives: it runs steps of a scenario at target rates, judges each
// against the objectives and the always-enforced checks, brackets and
// bisects, and confirms the answer.
package capacity

import (
	"time"

	"github.com/mqbench/mqbench/internal/result"
	"github.com/mqbench/mqbench/internal/scenario"
)

// Schema identifies the capacity document.
const Schema = "mqbench.capacity/v1"

// Doc is a whole capacity search: the objectives, every step with its
// full result, and the answer.
type Doc struct {
	Schema     string            `json:"schema"`
	Tool       result.Tool       `json:"tool"`
	Scenario   scenario.Scenario `json:"scenario"` // the base scenario (password masked); steps set its rate
	SLO        []Objective       `json:"slo"`
	Steps      []Step            `json:"steps"`
	Capacity   Answer            `json:"capacity"`
	StopReason string            `json:"stop_reason"` // completed, budget, interrupted, error
	StartedAt  time.Time         `json:"started_at"`
	EndedAt    time.Time         `json:"ended_at"`
}

// Objective is one --slo PATH<=VALUE: a catalogue figure and its bound.
type Objective struct {
	Path string  `json:"path"`
	Max  float64 `json:"max"`
}

// Step is one run at a target rate.
type Step struct {
	Phase      string  `json:"phase"`       // probe, bracket, bisect or confirm
	TargetRate float64 `json:"target_rate"` // total messages (or RPC requests) per second
	Pass       bool    `json:"pass"`
	// Failed is what failed: objective paths, or a check (backlog,
	// consumed, samples, rate, errors, client, run).
	Failed  []string `json:"failed"`
	Reasons []string `json:"reasons,omitempty"` // why each failed, with the figure
	// Notes say what the verdict could not check, and why (e.g. consumed
	// against published when the routing does not say what is owed).
	Notes []string `json:"notes,omitempty"`
	// BacklogSlope is the fitted growth of the backlog (ready, delivered
	// and unprocessed, stream lag) through the step, messages per second.
	BacklogSlope float64        `json:"backlog_slope"`
	Result       *result.Result `json:"result"`
}

// Answer is what the search found (answer.go defines it precisely).
type Answer struct {
	// RatePerS is the highest rate below every failed one that passed
	// twice, else the highest that passed once (0: none passed).
	RatePerS float64 `json:"rate_per_s"`
	// LimitedBy says what bounded it: an objective's path, a check
	// (backlog, consumed, samples, rate, errors, run), "client" when
	// mqbench itself was the bottleneck, or "max-rate" when the search
	// hit its ceiling.
	LimitedBy string `json:"limited_by"`
	// FirstFailingRate is the lowest rate a judged step failed at (null:
	// none failed), and FailedObjectives what failed there.
	FirstFailingRate *float64 `json:"first_failing_rate"`
	FailedObjectives []string `json:"failed_objectives"`
	// Confirmed says the rate passed twice; false, it passed once (or
	// none did). Basis says so in words, and why a rate that passed once
	// was not confirmed; documents written before it have none.
	Confirmed bool   `json:"confirmed"`
	Basis     string `json:"basis,omitempty"`
}

// SweepSchema identifies a capacity sweep: one search per variant.
const SweepSchema = "mqbench.capacity-sweep/v1"

// SweepDoc is the capacity of every variant of a matrix.
type SweepDoc struct {
	Schema     string         `json:"schema"`
	Tool       result.Tool    `json:"tool"`
	Name       string         `json:"name"`
	ParamNames []string       `json:"param_names"`
	Variants   []SweepVariant `json:"variants"`
}

// SweepVariant is one variant's search.
type SweepVariant struct {
	Params map[string]string `json:"params"`
	Search *Doc              `json:"search"`
}
