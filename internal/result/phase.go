package result

// How a phase ended (Phase.Ended): the condition or time that ended it
// (StopDuration, StopQueuesEmpty, StopIdle, StopMessageCount), or
// PhaseStopped when the run stopped during it (stop_reason says why).
const PhaseStopped = "stopped"

// Phase is one phase of a phased run as it happened. Its counts are the
// events within it (a confirm or a delivery in the phase it arrived in),
// its latencies those of the messages received in it, and its backlog is
// read afresh at its start and end and every BacklogWatchS in between.
type Phase struct {
	Name string `json:"name"`
	// StartS and EndS are seconds since the start signal; Seconds is its
	// length (rates are over it).
	StartS  float64     `json:"start_s"`
	EndS    float64     `json:"end_s"`
	Seconds float64     `json:"s"`
	Ended   string      `json:"ended"`
	Totals  PhaseTotals `json:"totals"`
	Rates   PhaseRates  `json:"rates"`
	// Latency is every latency kind's summary, with its histogram, over
	// what was received (confirmed, answered) in the phase; null where
	// none was.
	Latency Latency `json:"latency"`
	// BacklogStart and BacklogEnd are the backlog when the phase began
	// and ended, BacklogPeak the largest it read in between (null: could
	// not be read).
	BacklogStart *int64 `json:"backlog_start"`
	BacklogEnd   *int64 `json:"backlog_end"`
	BacklogPeak  *int64 `json:"backlog_peak"`
	// DrainS is when, after the phase's start, the backlog first read 0,
	// for a phase that began with one (null: it began with none, or never
	// emptied in the phase); it is read every BacklogWatchS, so DrainS is
	// late by at most that and the read's round trip.
	DrainS        *float64 `json:"drain_s"`
	BacklogWatchS float64  `json:"backlog_watch_s"`
	// RecoveryS is, for a phase with recovery_of, when after its start
	// the end-to-end p99 of an interval first came within
	// RecoveryWithin percent of the reference phase's (RecoveryTargetUs);
	// null when it never did, or without recovery_of. Its resolution is
	// the run's interval.
	RecoveryS        *float64 `json:"recovery_s"`
	RecoveryOf       string   `json:"recovery_of,omitempty"`
	RecoveryTargetUs *int64   `json:"recovery_target_us,omitempty"`
}

// PhaseTotals are the events within a phase.
type PhaseTotals struct {
	Published int64 `json:"published"`
	Confirmed int64 `json:"confirmed"`
	Consumed  int64 `json:"consumed"`
	Returned  int64 `json:"returned"`
	Nacked    int64 `json:"nacked"`
}

// PhaseRates are a phase's events per second of it.
type PhaseRates struct {
	PublishedPerS float64 `json:"published_per_s"`
	ConfirmedPerS float64 `json:"confirmed_per_s"`
	ConsumedPerS  float64 `json:"consumed_per_s"`
}
