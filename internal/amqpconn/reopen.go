package amqpconn

import "fmt"

// Reopen closes the worker's channel on purpose and opens a new one on the
// same connection, running setup on it: a consumer that simulates a crash.
// It is not a fault — no outage, no reconnect, nothing in Faults — and,
// the connection being the same, its generation and delivery count go on.
// The broker puts back whatever the closed channel held unacknowledged.
// An error means the new channel could not be opened: after Cancel (the
// run ended), or because the connection is being lost (call Recover).
// Only the worker's own goroutine calls it.
func (h *Channel) Reopen() error {
	if ch := h.Ch(); ch != nil {
		_ = ch.Close() // fails only on a channel already closed: open says what is wrong
	}
	return h.open()
}

// Resetup runs setup again on the current channel, unless Cancel was
// called: for a worker whose setup depends on its own state (a
// subscription it held back until now). Cancel and Resetup are
// serialized, so a subscription made here is never missed by Cancel. Only
// the worker's own goroutine calls it.
func (h *Channel) Resetup() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.cancelled {
		return fmt.Errorf("%s: %w: the run ended", h.who, ErrLost)
	}
	if h.setup == nil {
		return nil
	}
	return h.setup(h.Ch())
}
