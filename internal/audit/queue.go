package audit

// Queue is the reconciled account of one queue (or one stream reader).
// Every message routed to it is exactly one of consumed, left, dropped,
// lost, unconfirmed or unknown:
// Expected = Consumed + Left + Dropped + Lost + Unconfirmed + Unknown.
type Queue struct {
	Name string `json:"name"`
	// Expected is how many messages the producers routed to this queue.
	Expected int64 `json:"expected"`
	// Consumed counts distinct expected messages delivered.
	Consumed int64 `json:"consumed"`
	// Left: not consumed, and still in the queue when the run ended
	// (found there by reading what was left, or from its final depth).
	Left int64 `json:"left"`
	// Dropped: not consumed, not in the queue, and something the broker
	// did explains it — the consumers refused it without requeue, it was
	// read back from a dead-letter queue, it was refused with requeue on a
	// queue with a delivery limit and never seen again, it waited longer
	// than the queue's message TTL, the queue was at its length limit, or
	// the queue expired. DropReason says which, with counts.
	Dropped    int64  `json:"dropped"`
	DropReason string `json:"drop_reason,omitempty"`
	// Lost: the broker took it — confirmed it, or (confirms off) received
	// it on a channel it closed cleanly — and none of the above: the
	// broker had it and did not deliver it, and nothing explains why.
	Lost int64 `json:"lost"`
	// Unconfirmed (confirms on only): never confirmed — nacked, or in
	// flight when a connection or the run ended — not consumed, not left:
	// the broker promised nothing.
	Unconfirmed int64 `json:"unconfirmed"`
	// Unknown (confirms off only): published on a channel that failed
	// before it closed cleanly (or whose close the broker had not answered
	// when the queues were read), and never seen again: whether the
	// broker ever read it from the socket cannot be known.
	Unknown     int64 `json:"unknown"`
	Duplicates  int64 `json:"duplicates"`
	Redelivered int64 `json:"redelivered"`
	OutOfOrder  int64 `json:"out_of_order"`
	// Unexpected counts deliveries of messages this queue should not have
	// received (routing disagrees) or that carry an unknown producer.
	Unexpected int64 `json:"unexpected"`
}

// Accounted is the sum of the buckets every expected message is in
// exactly one of.
func (q Queue) Accounted() int64 {
	return q.Consumed + q.Left + q.Dropped + q.Lost + q.Unconfirmed + q.Unknown
}

// Add sums o into q (for totals over queues).
func (q *Queue) Add(o Queue) {
	q.Expected += o.Expected
	q.Consumed += o.Consumed
	q.Left += o.Left
	q.Dropped += o.Dropped
	q.Lost += o.Lost
	q.Unconfirmed += o.Unconfirmed
	q.Unknown += o.Unknown
	q.Duplicates += o.Duplicates
	q.Redelivered += o.Redelivered
	q.OutOfOrder += o.OutOfOrder
	q.Unexpected += o.Unexpected
	if q.DropReason == "" {
		q.DropReason = o.DropReason
	} else if o.DropReason != "" && o.DropReason != q.DropReason {
		q.DropReason = "several (see the queues)"
	}
}

// Balanced reports whether the buckets add up to what was expected and
// nothing unexpected arrived. Reconcile puts every expected message in
// exactly one bucket, so this holds by construction unless the state was
// incomplete or foreign messages came: it checks the bookkeeping, not the
// broker — the broker is checked against counts from outside mqbench (see
// the differential tests of the driver package).
func (q Queue) Balanced() bool { return q.Accounted() == q.Expected && q.Unexpected == 0 }
