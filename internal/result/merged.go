package result

import "time"

// Merged says how a result was merged from the shards of a sharded run
// (mqbench merge): the common window its rates are over, and each shard's
// own figures, so an uneven split or a slow load generator shows.
type Merged struct {
	Shards int    `json:"shards"`
	RunID  string `json:"run_id"`
	// WindowStart and WindowEnd bound the common measured window: from
	// the last shard's start of measurement to the first shard's end. The
	// merged rates are the shards' counts within it (from their interval
	// counts) over its length; totals and latencies cover every shard's
	// whole run.
	WindowStart time.Time `json:"window_start"`
	WindowEnd   time.Time `json:"window_end"`
	// StartSkewS is the spread of the shards' actual starts.
	StartSkewS float64 `json:"start_skew_s"`
	// CrossShardLatency is true when messages were consumed in another
	// shard than the one that published them: their end-to-end latency
	// spans two processes (on Kubernetes, two hosts) and includes the
	// offset between their clocks.
	CrossShardLatency bool           `json:"cross_shard_latency"`
	PerShard          []ShardFigures `json:"per_shard"`
	// Spread is, per figure, the lowest and highest shard.
	Spread []Spread `json:"spread"`
}

// ShardFigures are one shard's own headline figures.
type ShardFigures struct {
	Index          int       `json:"index"`
	File           string    `json:"file"`
	StartedAt      time.Time `json:"started_at"`
	LateS          float64   `json:"late_s"`
	MeasuredS      float64   `json:"measured_s"`
	StopReason     string    `json:"stop_reason"`
	Error          string    `json:"error,omitempty"`
	Published      int64     `json:"published"`
	Consumed       *int64    `json:"consumed"`
	PublishedPerS  float64   `json:"published_per_s"`
	ConsumedPerS   *float64  `json:"consumed_per_s"`
	RPCRepliesPerS *float64  `json:"rpc_replies_per_s"`
	E2EP99Us       *int64    `json:"e2e_p99_us"`
	RPCP99Us       *int64    `json:"rpc_p99_us"`
	CPUCores       float64   `json:"cpu_cores"`
}

// Spread is one figure's range over the shards.
type Spread struct {
	Figure   string  `json:"figure"`
	Min      float64 `json:"min"`
	MinShard int     `json:"min_shard"`
	Max      float64 `json:"max"`
	MaxShard int     `json:"max_shard"`
}
