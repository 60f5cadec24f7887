// Package stamp writes and reads the timestamp that mqbench carries in every
// message body.
//
// The layout is the one RabbitMQ PerfTest and omq share, so each tool can
// measure the others' messages:
//
//	bytes 0–3   sequence number, uint32 big-endian
//	bytes 4–11  send time, int64 big-endian nanoseconds since the Unix epoch
//
// mqbench adds, in bodies that have room:
//
//	bytes 12–19 the time the message was due on the producer's schedule
//	            (Unix ns), which is what coordinated-omission-correct
//	            latency is measured from; zero when unpaced
//	bytes 20–23 the producer's number + 1 (uint32), for the delivery audit
//	            (with the per-producer sequence number in bytes 0–3)
//	bytes 24–31 the run's identity (a random non-zero uint64), so that a
//	            consumer tells this run's messages from earlier runs' still
//	            in a reused queue, or another tool's
//
// The rest of the body is padding (zeros) up to the configured size.
//
// Other tools' clocks: omq stamps milliseconds since the epoch when it runs
// without consumers, and PerfTest does with --use-millis. A send time below
// MillisLimit is read as milliseconds, as omq does.
package stamp

import (
	"encoding/binary"
	"errors"
	"time"
)

// MinSize is the smallest body that can carry the stamp.
const MinSize = 12

// ScheduledSize is the smallest body that can also carry the scheduled time.
const ScheduledSize = 20

// AuditSize is the smallest body that also carries the producer's number
// and the run's identity: the delivery audit's stamp.
const AuditSize = 32

// MillisLimit is the send time below which a stamp is read as milliseconds
// since the epoch rather than nanoseconds (the year 2100 in milliseconds;
// in nanoseconds, 1970 plus 68 minutes), as omq reads them.
const MillisLimit = 4_102_441_200_000

// WriteRun stamps the producer's number and the run's identity into a body
// of at least AuditSize bytes (the number stored +1, so that zero padding
// means "no producer").
func WriteRun(body []byte, producer int, run uint64) {
	_ = body[AuditSize-1]
	binary.BigEndian.PutUint32(body[20:24], uint32(producer+1))
	binary.BigEndian.PutUint64(body[24:32], run)
}

// Run returns the producer number and run identity stamped by WriteRun;
// false when the body carries none.
func Run(body []byte) (producer int, run uint64, ok bool) {
	if len(body) < AuditSize {
		return 0, 0, false
	}
	v := binary.BigEndian.Uint32(body[20:24])
	run = binary.BigEndian.Uint64(body[24:32])
	return int(v) - 1, run, v != 0 && run != 0
}

// ErrShort is returned by Read for a body shorter than MinSize.
var ErrShort = errors.New("body shorter than the 12-byte stamp")

// Write stamps body with seq and the send time sentNanos. It does not
// allocate; body must be at least MinSize bytes long.
func Write(body []byte, seq uint32, sentNanos int64) {
	_ = body[MinSize-1] // one bounds check for the whole stamp
	binary.BigEndian.PutUint32(body[0:4], seq)
	binary.BigEndian.PutUint64(body[4:12], uint64(sentNanos))
}

// Read returns the sequence number and send time (Unix nanoseconds) carried
// in body.
func Read(body []byte) (seq uint32, sentNanos int64, err error) {
	if len(body) < MinSize {
		return 0, 0, ErrShort
	}
	return binary.BigEndian.Uint32(body[0:4]), int64(binary.BigEndian.Uint64(body[4:12])), nil
}

// Sent reads the send time as Unix nanoseconds, converting a millisecond
// stamp (below MillisLimit); millis says it was one, and so only good to
// the millisecond.
func Sent(body []byte) (seq uint32, sentNanos int64, millis bool, err error) {
	seq, ts, err := Read(body)
	if err == nil && ts > 0 && ts < MillisLimit {
		return seq, ts * int64(time.Millisecond), true, nil
	}
	return seq, ts, false, err
}

// WriteScheduled stamps body like Write and adds the scheduled send time
// dueNanos; body must be at least ScheduledSize bytes long.
func WriteScheduled(body []byte, seq uint32, sentNanos, dueNanos int64) {
	_ = body[ScheduledSize-1]
	Write(body, seq, sentNanos)
	binary.BigEndian.PutUint64(body[12:20], uint64(dueNanos))
}

// Scheduled returns the scheduled send time carried in body, if it carries
// a plausible one: no later than the send time and at most an hour before
// it. Zero padding (an unpaced producer, or another tool's message) or
// foreign bytes at 12–19 yield false.
func Scheduled(body []byte, sentNanos int64) (int64, bool) {
	if len(body) < ScheduledSize {
		return 0, false
	}
	due := int64(binary.BigEndian.Uint64(body[12:20]))
	if due <= 0 || due > sentNanos || sentNanos-due > int64(time.Hour) {
		return 0, false
	}
	return due, true
}

// Clock gives wall-clock Unix nanoseconds that advance with the monotonic
// clock. Reading the wall clock once and adding monotonic elapsed time keeps
// latencies measured inside one process immune to NTP steps, while the
// values stay comparable with other processes' wall clocks (as PerfTest and
// omq need when they read our stamps).
type Clock struct {
	base     time.Time
	baseUnix int64
}

// NewClock returns a Clock anchored at the current wall-clock time.
func NewClock() *Clock {
	now := time.Now()
	return &Clock{base: now, baseUnix: now.UnixNano()}
}

// Now returns the current time in Unix nanoseconds. It does not allocate.
func (c *Clock) Now() int64 {
	return c.baseUnix + int64(time.Since(c.base))
}
