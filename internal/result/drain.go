package result

// How a drain ended (Drain.Ended).
const (
	DrainEmpty   = "empty"   // the consumed queues emptied and nothing arrived for a quiet period
	DrainTimeout = "timeout" // drain_timeout ran out with messages still queued or arriving
	DrainNone    = "none"    // nothing to drain: no consumers
	DrainSkipped = "skipped" // the run failed: nothing was drained
)

// Drain is the drain after the load: the consumers go on until the
// queues are empty (and nothing arrived for a quiet period) or
// drain_timeout runs out.
type Drain struct {
	// Seconds runs from the load's end to the end of the drain;
	// ConsumingS to the last message consumed (0 when none was consumed
	// after the load's end).
	Seconds    float64 `json:"s"`
	ConsumingS float64 `json:"consuming_s"`
	// Consumed counts the messages consumed after the load's end.
	Consumed int64 `json:"consumed"`
	// Ended is how it ended: empty, timeout, none (no consumers) or
	// skipped (the run failed).
	Ended string `json:"ended"`
	// BacklogStart and BacklogEnd are the backlog when the load stopped
	// and when the drain ended (null when it could not be read).
	BacklogStart *int64 `json:"backlog_start"`
	BacklogEnd   *int64 `json:"backlog_end"`
}

// Backlog is what waits to be consumed at one moment, over the run's
// queues. Its parts are disjoint.
type Backlog struct {
	// Ready is the queues' ready messages (passive queue.declare).
	Ready int64 `json:"ready"`
	// Delivered is what the broker delivered to mqbench's consumers that
	// they have not processed yet: unacknowledged at the broker with
	// manual acks; with automatic acks already gone from the broker, and
	// held by the client alone (counted from the frames it received).
	Delivered int64 `json:"delivered"`
	// StreamLag is, for streams, the messages routed to them that their
	// readers have not read yet, summed over the readers.
	StreamLag int64 `json:"stream_lag"`
}

// Total is the whole backlog.
func (b Backlog) Total() int64 { return b.Ready + b.Delivered + b.StreamLag }
