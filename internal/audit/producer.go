package audit

import (
	"math"
	"slices"
	"time"
)

// Producer is one producer's side of the audit. Published is written by
// the producer's goroutine, Acked by its confirm tracker's, Received when
// its channel closes, Times by the sampler: each by one goroutine, and
// all read only once they stopped.
type Producer struct {
	Published uint32 // messages 0..Published-1 were sent
	Confirms  bool   // publisher confirms were on
	// Acked are the messages the broker confirmed (basic.ack).
	Acked Ranges
	// Received are the messages the broker certainly took from the
	// socket: those published on a channel whose close the broker
	// answered (channel.close-ok comes after every frame sent before it).
	// A message published on a channel that failed is not in it: whether
	// the broker read it is unknown, unless it confirmed it.
	Received Ranges
	// Times says when how much had been published (for a TTL's evidence).
	Times Checkpoints
}

// NewProducer returns a producer's side; confirms says whether publisher
// confirms are on.
func NewProducer(confirms bool) *Producer {
	return &Producer{Confirms: confirms, Acked: Ranges{Cap: DefaultGapCap}, Received: Ranges{Cap: DefaultGapCap}}
}

// Bytes is the producer side's memory.
func (p *Producer) Bytes() int64 {
	return p.Acked.Bytes() + p.Received.Bytes() + int64(cap(p.Times.Points))*16
}

// Checkpoint is how many messages a producer had published by a time.
type Checkpoint struct {
	At        int64  `json:"at"` // Unix nanoseconds
	Published uint64 `json:"published"`
}

// Checkpoints is a bounded log of checkpoints: when it is full, every
// other one is dropped and only every other later one is kept, so an
// hour's run keeps as many as a minute's, at a coarser step.
type Checkpoints struct {
	Points []Checkpoint `json:"points"`
	stride int
	calls  int
}

// maxCheckpoints bounds Checkpoints.
const maxCheckpoints = 512

// Add logs that published messages had been published at at.
func (c *Checkpoints) Add(at int64, published uint64) {
	c.calls++
	if c.stride > 1 && c.calls%c.stride != 0 {
		return
	}
	if len(c.Points) >= maxCheckpoints {
		kept := c.Points[:0]
		for i, p := range c.Points {
			if i%2 == 1 {
				kept = append(kept, p)
			}
		}
		c.Points = kept
		c.stride = max(c.stride, 1) * 2
	}
	c.Points = append(c.Points, Checkpoint{at, published})
}

// PublishedAfter is how many messages had been published at most until
// just after time at: the count of the first checkpoint after it (all of
// them when there is none). A message beyond it was published after at.
func (c *Checkpoints) PublishedAfter(at int64) uint64 {
	i, _ := slices.BinarySearchFunc(c.Points, at, func(p Checkpoint, t int64) int {
		if p.At <= t {
			return -1
		}
		return 1
	})
	if i == len(c.Points) {
		return math.MaxUint64
	}
	return c.Points[i].Published
}

// Marks is a track's log of when its highest accounted ordinal grew
// (for a queue with a TTL), at most one mark per markEvery.
type Marks struct {
	Checkpoints // At: when; Published: 1 + the highest ordinal accounted by then
	on          bool
	last        int64
}

// markEvery is the resolution of Marks.
const markEvery = int64(5 * time.Millisecond)

func (m *Marks) add(at int64, hi uint64) {
	if at-m.last < markEvery {
		return
	}
	m.last = at
	m.Add(at, hi)
}

// firstBeyond is when an ordinal at or beyond o was first accounted for,
// as far as the marks tell (no earlier than that); MaxInt64 when never.
func (m *Marks) firstBeyond(o uint64) int64 {
	i, _ := slices.BinarySearchFunc(m.Points, o, func(p Checkpoint, o uint64) int {
		if p.Published <= o {
			return -1
		}
		return 1
	})
	if i == len(m.Points) {
		return math.MaxInt64
	}
	return m.Points[i].At
}

func (m *Marks) bytes() int64 { return int64(cap(m.Points)) * 16 }

// PublishedBy is how many messages had certainly been published by time
// at: the count of the last checkpoint at or before it.
func (c *Checkpoints) PublishedBy(at int64) uint64 {
	i, _ := slices.BinarySearchFunc(c.Points, at, func(p Checkpoint, t int64) int {
		if p.At <= t {
			return -1
		}
		return 1
	})
	if i == 0 {
		return 0
	}
	return c.Points[i-1].Published
}
