package scenario

import "math"

// Churn describes the workers that open and close connections and
// channels, and declare, bind and delete queues, at a steady rate: the
// load that many short-lived clients put on a broker, apart from the
// messages they carry. A rate of 0 churns nothing of that kind.
type Churn struct {
	// ConnectionRate is connections opened (and closed again) per second.
	ConnectionRate float64 `yaml:"connection_rate" json:"connection_rate,omitempty"`
	// ChannelRate is channels opened and closed per second, on a
	// long-lived connection of the churn's own.
	ChannelRate float64 `yaml:"channel_rate" json:"channel_rate,omitempty"`
	// QueueRate is queues declared, bound (to amq.direct) and deleted per
	// second, on a long-lived connection of the churn's own.
	QueueRate float64 `yaml:"queue_rate" json:"queue_rate,omitempty"`
	// Concurrency is how many operations of each kind may be under way at
	// once (goroutines per kind): for connection churn, the most churned
	// connections open at once. An operation that finds them all busy
	// starts late and is timed from when it was due.
	Concurrency int `yaml:"concurrency" json:"concurrency,omitempty"`
	// Messages is published on, and fetched back through, each churned
	// connection, channel and queue before it is closed (0: none).
	Messages int `yaml:"messages" json:"messages,omitempty"`
}

// The bounds of the churn section.
const (
	// MaxChurnRate bounds each churn rate: beyond a few thousand
	// connections per second a single client machine runs out of
	// ephemeral ports (each closed connection holds one in TIME_WAIT).
	MaxChurnRate = 10_000.0
	// MaxChurnConcurrency bounds the operations of one kind under way at
	// once: every churned connection is a file descriptor on the broker
	// (a default node has about a thousand).
	MaxChurnConcurrency = 50
	// MaxChurnMessages bounds the messages carried per churned object:
	// churn measures opening and closing, not throughput.
	MaxChurnMessages = 1_000
	// DefaultChurnConcurrency is Concurrency when a rate is set and it is
	// not.
	DefaultChurnConcurrency = 8
)

// Enabled reports whether anything churns.
func (c Churn) Enabled() bool { return c.ConnectionRate > 0 || c.ChannelRate > 0 || c.QueueRate > 0 }

// Kinds is how many kinds of churn run (connections, channels, queues).
func (c Churn) Kinds() int {
	n := 0
	for _, r := range []float64{c.ConnectionRate, c.ChannelRate, c.QueueRate} {
		if r > 0 {
			n++
		}
	}
	return n
}

// normalize sets the concurrency when some rate is set and it is not.
func (c *Churn) normalize() {
	if c.Enabled() && c.Concurrency == 0 {
		c.Concurrency = DefaultChurnConcurrency
	}
}

func (s *Scenario) validateChurn(c *checker) {
	k := s.Churn
	for _, r := range []struct {
		path string
		v    float64
	}{{"churn.connection_rate", k.ConnectionRate}, {"churn.channel_rate", k.ChannelRate}, {"churn.queue_rate", k.QueueRate}} {
		ok := !math.IsNaN(r.v) && (r.v == 0 || (r.v >= MinRate && r.v <= MaxChurnRate))
		c.check(ok, r.path, r.v, "must be 0 (none) or %g to %g per second", MinRate, MaxChurnRate)
	}
	if !k.Enabled() {
		c.check(k.Concurrency == 0, "churn.concurrency", k.Concurrency, "no churn rate is set: give one (churn.connection_rate, channel_rate, queue_rate; --connection-churn, --channel-churn, --queue-churn)")
		c.check(k.Messages == 0, "churn.messages", k.Messages, "no churn rate is set: give one (churn.connection_rate, channel_rate, queue_rate; --connection-churn, --channel-churn, --queue-churn)")
		return
	}
	c.inRange("churn.concurrency", int64(k.Concurrency), 1, MaxChurnConcurrency,
		"operations of each kind at once; each churned connection is a file descriptor on the broker")
	c.inRange("churn.messages", int64(k.Messages), 0, MaxChurnMessages, "messages per churned connection, channel or queue")
}
