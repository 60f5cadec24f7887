// Package pace computes when each message of a paced worker is due. A
// schedule is a list of segments — a constant rate, or a linear ramp from
// one rate to another — each lasting a while; after the last segment its
// final rate holds. Due is a pure function of the message index, so the
// pacer never sends a message before its time and never bunches messages
// up beyond what the schedule itself says (a worker that fell behind sends
// the messages already due, each timed from when it was due).
package pace

import (
	"math"
	"time"
)

// Segment is one stretch of a schedule: the rate goes linearly from From to
// To messages per second over For (From == To: a constant rate; 0: a pause).
type Segment struct {
	From, To float64
	For      time.Duration
}

// Schedule is a sequence of segments, precomputed for fast lookups.
type Schedule struct {
	segs  []Segment
	start []float64 // start time of each segment, seconds
	count []float64 // messages due before each segment starts
	tail  float64   // rate after the last segment
}

// Constant returns the schedule of a fixed rate (messages per second).
func Constant(rate float64) *Schedule {
	return New([]Segment{{From: rate, To: rate, For: 0}})
}

// New builds a schedule. A final segment with For == 0 only sets the rate
// that holds afterwards.
func New(segs []Segment) *Schedule {
	s := &Schedule{}
	var t, n float64
	for _, g := range segs {
		s.tail = g.To
		if g.For <= 0 {
			continue
		}
		s.segs = append(s.segs, g)
		s.start = append(s.start, t)
		s.count = append(s.count, n)
		d := g.For.Seconds()
		n += (g.From + g.To) / 2 * d
		t += d
	}
	s.start = append(s.start, t)
	s.count = append(s.count, n)
	return s
}

// Due returns when message k (0-based) is due, as an offset from the
// schedule's start, or false when it never is (the schedule ends at rate 0
// before reaching it). Message k is due when the schedule's cumulative
// count of messages reaches k: message 0 at the start.
func (s *Schedule) Due(k int64) (time.Duration, bool) {
	target := float64(k)
	for i, g := range s.segs {
		if target >= s.count[i+1] {
			continue
		}
		// Within segment i: n(τ) = From·τ + (To−From)/(2·D)·τ², solve n(τ) = target − count[i].
		rem := target - s.count[i]
		d := g.For.Seconds()
		a := (g.To - g.From) / (2 * d)
		var tau float64
		if math.Abs(a) < 1e-12 {
			tau = rem / g.From
		} else {
			tau = (-g.From + math.Sqrt(g.From*g.From+4*a*rem)) / (2 * a)
		}
		return seconds(s.start[i] + tau), true
	}
	if s.tail <= 0 {
		return 0, false
	}
	last := len(s.start) - 1
	return seconds(s.start[last] + (target-s.count[last])/s.tail), true
}

// RateAt returns the scheduled rate at offset t.
func (s *Schedule) RateAt(t time.Duration) float64 {
	x := t.Seconds()
	for i, g := range s.segs {
		if x < s.start[i+1] {
			return g.From + (g.To-g.From)*(x-s.start[i])/g.For.Seconds()
		}
	}
	return s.tail
}

// MaxRate returns the highest rate the schedule ever asks for.
func (s *Schedule) MaxRate() float64 {
	r := s.tail
	for _, g := range s.segs {
		r = max(r, g.From, g.To)
	}
	return r
}

func seconds(x float64) time.Duration { return time.Duration(x * float64(time.Second)) }

// Wait returns how long a worker that has sent k messages should wait,
// elapsed after the schedule's start, before sending the next; stop is true
// when the schedule has no further message.
func (s *Schedule) Wait(elapsed time.Duration, k int64) (wait time.Duration, stop bool) {
	due, ok := s.Due(k)
	if !ok {
		return 0, true
	}
	if due <= elapsed {
		return 0, false
	}
	return due - elapsed, false
}
