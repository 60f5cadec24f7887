package scenario

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// MaxShards bounds --shard I/N: each shard holds a marker queue on the
// broker, and the owner polls every other shard's marker at start and end.
const MaxShards = 1000

// Shard is this process's part of a sharded run: N processes (on one
// machine, or the pods of a Kubernetes Indexed Job) together run exactly
// the scenario. Worker i — producer, consumer, RPC client or server —
// runs in shard i mod N, under its global number i, so that everything a
// worker derives from its number (its share of the message count, its
// routing keys, its random draws, its queue, its audit identity) is what
// it would be in one process. Striding rather than blocks gives every
// shard a similar mix of queues and connections.
type Shard struct {
	Index int `json:"index"`
	Count int `json:"count"`
}

// ParseShard reads "I/N" (0 <= I < N).
func ParseShard(v string) (Shard, error) {
	i, n, ok := strings.Cut(v, "/")
	idx, err1 := strconv.Atoi(strings.TrimSpace(i))
	cnt, err2 := strconv.Atoi(strings.TrimSpace(n))
	if !ok || err1 != nil || err2 != nil {
		return Shard{}, fmt.Errorf("want I/N, this shard's index from 0 and the number of shards, e.g. 0/3")
	}
	s := Shard{Index: idx, Count: cnt}
	return s, s.check()
}

func (s Shard) check() error {
	if s.Count < 1 || s.Count > MaxShards {
		return fmt.Errorf("shard count %d: must be 1 to %d", s.Count, MaxShards)
	}
	if s.Index < 0 || s.Index >= s.Count {
		return fmt.Errorf("shard index %d: must be 0 to %d (of %d shards)", s.Index, s.Count-1, s.Count)
	}
	return nil
}

// Owns reports whether worker i of a group runs in this shard. A nil
// shard (an unsharded run) owns every worker.
func (s *Shard) Owns(i int) bool { return s == nil || i%s.Count == s.Index }

// Owner reports whether this shard owns the topology: it declares the
// exchange, queues and bindings before the others subscribe, reads what
// is left and deletes it all after they have gone. Shard 0 is the owner.
func (s *Shard) Owner() bool { return s == nil || s.Index == 0 }

// Sharded reports whether the run is split over more than one process.
func (s *Shard) Sharded() bool { return s != nil && s.Count > 1 }

// Share is how many of count workers run in this shard.
func (s *Shard) Share(count int) int {
	if s == nil {
		return count
	}
	n := count / s.Count
	if s.Index < count%s.Count {
		n++
	}
	return n
}

// String is "I/N".
func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.Index, s.Count) }

// ParseStartAt reads --start-at: an RFC 3339 time (the wall clock at which
// every shard releases its workers).
func ParseStartAt(v string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(v))
	if err != nil {
		return time.Time{}, fmt.Errorf("--start-at %q: want an RFC 3339 time such as 2026-11-26T17:00:00Z", v)
	}
	return t.UTC(), nil
}

// validateShard checks what a sharded run needs: a common start (it also
// names the run: every shard derives the same run identity from it, and
// the broker-side barrier's names), and queues every shard can reach by
// name. Server-named queues get a different name in each shard, and an
// exclusive queue is usable only by the connection that declared it.
func (s *Scenario) validateShard(c *checker) {
	c.check(s.StartAt == nil || (len(s.Matrix) == 0 && s.Repeat <= 1), "start_at", startAtText(s.StartAt),
		"--start-at starts one run; a sweep runs many, one after another")
	if s.Shard == nil {
		return
	}
	if err := s.Shard.check(); err != nil {
		c.check(false, "shard", s.Shard.String(), "%v", err)
		return
	}
	if !s.Shard.Sharded() {
		return
	}
	c.check(s.StartAt != nil, "start_at", startAtText(s.StartAt),
		"a sharded run needs --start-at: the common wall-clock start every shard waits for, which also names the run")
	for i, q := range s.Queues {
		c.check(q.Name != "", fmt.Sprintf("queues[%d].name", i), `""`,
			"a sharded run needs named queues: a server-named queue would get another name in every shard")
		c.check(q.Name == "" || !q.Exclusive, fmt.Sprintf("queues[%d].exclusive", i), true,
			"a sharded run cannot use exclusive queues: only the connection that declared one may use it")
	}
	c.check(len(s.Matrix) == 0 && s.Repeat <= 1, "matrix", "(a sweep)",
		"a sweep cannot be sharded: shard one run at a time")
	c.check(s.Consumers.Messages == 0, "consumers.messages", s.Consumers.Messages,
		"a sharded run cannot stop at a consumed count: the count is one pool every consumer draws from, which shards cannot share exactly; "+
			"use producers.messages (split exactly) or a duration")
	c.check(s.Consumers.ExitWhen == "" || (s.Producers.Messages == 0 && s.RPC.Requests == 0), "consumers.exit_when", s.Consumers.ExitWhen,
		"a sharded run stops by one condition the shards agree on: --exit-when or a message count, not both")
}

func startAtText(t *time.Time) string {
	if t == nil {
		return "(unset)"
	}
	return t.Format(time.RFC3339Nano)
}
