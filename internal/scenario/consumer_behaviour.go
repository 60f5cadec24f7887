package scenario

import "time"

import "fmt"

// How consumers consume beyond their acknowledgements: when they start,
// how fast they may go, how long each message takes them, and whether
// they crash.
//
//   - start_delay holds each consumer's subscription (not its processing)
//     until that long after the start signal: what is published meanwhile
//     waits ready in the queues, where the broker, other consumers and the
//     backlog figures see it — not pushed into a client that sits on it.
//   - rate caps each consumer's deliveries per second: it takes the next
//     delivery from the client library no earlier than it is due. The
//     prefetch still applies: the broker pushes up to prefetch deliveries
//     ahead, which wait, unacknowledged, in the client.
//   - delay with delay_distribution is each message's processing time,
//     drawn per message from the distributions RPC servers have.
//   - crash_every makes each consumer crash after every that many
//     deliveries: it processes the last one and, instead of acknowledging
//     it, closes its channel with everything it holds unacknowledged, then
//     subscribes again; the broker redelivers what it held.

// ProcessingDelay is the consumers' processing time as a distribution.
func (k Consumers) ProcessingDelay() Delay {
	d := Delay{Distribution: k.DelayDistribution, Mean: k.Delay, Min: k.DelayMin, Max: k.DelayMax, Sigma: k.DelaySigma}
	if d.Distribution == "" {
		d.Distribution = DelayFixed
	}
	return d
}

var consumerDelayPaths = delayPaths{
	distribution: "consumers.delay_distribution", mean: "consumers.delay", span: "consumers.delay_min",
	sigma: "consumers.delay_sigma", strict: true, min: "consumers.delay_min", max: "consumers.delay_max",
}

// DefaultExitIdle is consumers.exit_idle's default: how long nothing may
// arrive before --exit-when idle ends the run.
const DefaultExitIdle = 2 * time.Second

func (s *Scenario) validateConsumerBehaviour(c *checker) {
	k := s.Consumers
	c.delay(k.ProcessingDelay(), consumerDelayPaths)
	c.duration("consumers.start_delay", k.StartDelay, 0)
	c.check(s.Duration == 0 || k.StartDelay < s.Duration, "consumers.start_delay", k.StartDelay,
		"must be shorter than the run's duration %v: the consumers would never subscribe", s.Duration)
	idle := k.ExitIdle.D()
	if idle == 0 {
		idle = DefaultExitIdle
	}
	c.check(k.ExitWhen != ExitIdle || k.StartDelay.D() < idle, "consumers.start_delay", k.StartDelay,
		"must be shorter than exit_idle (%v): the run would end idle before the consumers subscribe", idle)
	c.rate("consumers.rate", k.Rate)
	c.check(k.CrashEvery >= 0, "consumers.crash_every", k.CrashEvery, "must be 0 (never) or more deliveries between crashes")
	if k.CrashEvery <= 0 {
		return
	}
	c.check(k.Ack == AckManual || k.Ack == AckMultiple, "consumers.crash_every", k.CrashEvery,
		"needs ack manual or multiple: a crash closes the channel with deliveries unacknowledged (ack is %s)", k.Ack)
	c.check(!k.Polling, "consumers.crash_every", k.CrashEvery, "polling consumers have no subscription to crash")
	least := int64(2)
	if k.Ack == AckMultiple {
		least = int64(k.MultiAckEvery) + 1
	}
	c.check(k.CrashEvery >= least, "consumers.crash_every", k.CrashEvery,
		"must be at least %d: a crash puts back every delivery not yet acknowledged, and with fewer between crashes none ever is (the consumer would make no progress)", least)
	for i, q := range s.Queues {
		p := fmt.Sprintf("queues[%d]", i)
		c.check(q.Type != QueueStream, p+".type", q.Type, "crashing consumers need a queue that redelivers: a stream consumer resumes at its offset")
		c.check(!q.AutoDelete, p+".auto_delete", q.AutoDelete, "crashing consumers would delete an auto-delete queue when the last of them crashes")
	}
}
