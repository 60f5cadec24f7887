package scenario

import (
	"fmt"
	"math"
	"time"
)

// The range of every numeric input, each derived from the protocol, the
// broker, or the memory mqbench would need. docs/BAD-INPUT.md lists them.
const (
	// MaxWorkers bounds producers + consumers + RPC clients + RPC servers:
	// about 15 KB of client memory each (docs/PERFORMANCE.md), 1.5 GB at
	// the bound. More belong on more machines (sharded runs).
	MaxWorkers = 100_000
	// MaxQueues bounds the queues one run declares: each is declared,
	// bound and sampled every interval.
	MaxQueues = 50_000
	// MaxUint16 is the largest value of AMQP's 16-bit fields: a prefetch
	// count, and the slot an RPC correlation id carries.
	MaxUint16 = 65535
	// MaxConfirmWindow is the most unconfirmed publishes per producer, and
	// MaxConfirmSlots over all producers: each slot costs about 130 bytes
	// (mqbench's ring, the notification buffer, the client library's
	// pending confirmation), so 650 MB at the bound.
	MaxConfirmWindow = 1_000_000
	MaxConfirmSlots  = 5_000_000
	// MaxMessageSize is RabbitMQ 3.x's default largest message
	// (max_message_size 128 MiB; 4.x defaults to 16 MiB and refuses more).
	MaxMessageSize = 128 << 20
	// MaxBodyMemory bounds producers × largest body: every producer owns
	// a body buffer of the largest size.
	MaxBodyMemory = 4 << 30
	// MinRate and MaxRate bound a paced worker's rate (messages or
	// requests per second; 0 is unpaced). Below the minimum — one message
	// every 1,000 s — nothing happens in any practical run; above the
	// maximum no channel keeps up.
	MinRate = 0.001
	MaxRate = 10_000_000.0
	// MaxDuration bounds every duration (a year and a day).
	MaxDuration = 366 * 24 * time.Hour
	// MaxMessagesPerWorker bounds message and request counts per worker:
	// sequence numbers are 32-bit per producer.
	MaxMessagesPerWorker = math.MaxUint32
	// MaxScheduleSteps, MaxSizeEntries and MaxSizeWeight bound the lists a
	// scenario can hold (each is walked per message or per step).
	MaxScheduleSteps = 10_000
	MaxSizeEntries   = 1_000
	MaxSizeWeight    = 1_000_000
	// MaxTableEntries bounds headers and queue or binding arguments.
	MaxTableEntries = 1_000
	// MaxRepeat and MaxVariants bound a sweep: runs per variant, and the
	// matrix's combinations.
	MaxRepeat   = 1_000
	MaxVariants = 10_000
	// MaxFileSize bounds a scenario file: the largest real one is a few
	// kilobytes; reading one is never allowed to exhaust memory.
	MaxFileSize = 1 << 20
)

// inRange checks lo <= v <= hi and says why the range is what it is.
func (c *checker) inRange(path string, v, lo, hi int64, why string) {
	c.check(v >= lo && v <= hi, path, v, "must be %d to %d (%s)", lo, hi, why)
}

// rate checks a rate: 0 (unpaced) or MinRate to MaxRate, finite.
func (c *checker) rate(path string, r float64) {
	ok := !math.IsNaN(r) && (r == 0 || (r >= MinRate && r <= MaxRate))
	c.check(ok, path, r, "must be 0 (unpaced) or %g to %g per second", MinRate, MaxRate)
}

// duration checks 0 (or min) to MaxDuration.
func (c *checker) duration(path string, d Duration, min time.Duration) {
	if min > 0 {
		c.check(d.D() >= min && d.D() <= MaxDuration, path, d, "must be positive, %v to %v", min, MaxDuration)
		return
	}
	c.check(d.D() >= 0 && d.D() <= MaxDuration, path, d, "must not be negative, and at most %v", MaxDuration)
}

// table checks a headers or arguments table: its size and its values.
func (c *checker) table(path string, m map[string]any) {
	c.check(len(m) <= MaxTableEntries, path, fmt.Sprintf("%d entries", len(m)), "at most %d entries", MaxTableEntries)
	for k, v := range m {
		_, err := tableValue(v)
		c.check(err == nil, path+"."+k, v, "%v", err)
	}
}
