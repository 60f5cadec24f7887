package audit

// PutBack records a delivery the consumer put back unprocessed: it
// received producer id's message seq but never handled it, and the broker
// requeues it (a consumer that crashed holding it). Nothing is booked as
// consumed and the consumer's order of arrival is left alone — it never
// looked at the message; a redelivered flag is counted, as the broker
// counted it when it sent the delivery; and on a queue with a delivery
// limit the requeue is remembered, as a refusal with requeue is, so a
// message the limit drops is dropped, not lost.
func (c *Consumer) PutBack(id int, seq uint32, redelivered bool) {
	if redelivered {
		c.Redelivered++
	}
	a := c.acct
	if !a.opts.DeliveryLimit || id < 0 || id >= len(a.tracks) || !a.Pattern.Routed(id, uint64(seq)) {
		return
	}
	a.track(id).requeue(a.Pattern.Ordinal(id, uint64(seq)))
}
