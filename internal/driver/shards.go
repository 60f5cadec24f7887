package driver

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strings"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/mqbench/mqbench/internal/amqpconn"
	"github.com/mqbench/mqbench/internal/result"
	"github.com/mqbench/mqbench/internal/scenario"
)

// A sharded run coordinates through the broker itself, so no extra
// service is needed: each shard holds an exclusive queue, its marker, on
// its admin connection from the moment it is ready until it has finished.
// The owner (shard 0) declares its marker only after the whole topology
// is declared and bound; the others wait for it before they look the
// queues up and subscribe, then declare their own. Every shard releases
// its workers at --start-at once all N markers exist — so every consumer
// of every shard is subscribed before any producer publishes. At the end
// the owner waits for the other markers to vanish (the broker deletes an
// exclusive queue when its connection closes, even one a crashed process
// left) before it reads what is left in the queues and deletes them.
//
// A passive queue.declare of another connection's exclusive queue fails
// with 405 RESOURCE_LOCKED, of a missing one with 404 NOT_FOUND: the
// marker's presence is read without touching it.

// markerPoll is how often a shard looks for the other shards' markers.
const markerPoll = 100 * time.Millisecond

// shardStartWait bounds how long after --start-at a shard waits for the
// others to be ready before it gives up on the run.
const shardStartWait = 60 * time.Second

// shardRunID is the run's identity for a sharded run, the same in every
// shard: derived from what every shard is given alike — the start time,
// the shard count and the scenario's name — so a rerun (another start
// time) is another run, and its leftovers count as foreign.
func shardRunID(sc *scenario.Scenario) uint64 {
	h := sha256.Sum256([]byte(fmt.Sprintf("mqbench shard run\x00%s\x00%d\x00%s",
		sc.StartAt.UTC().Format(time.RFC3339Nano), sc.Shard.Count, sc.Name)))
	if v := binary.BigEndian.Uint64(h[:8]); v != 0 {
		return v
	}
	return 1
}

// markerName is shard i's marker queue.
func markerName(runID uint64, i int) string {
	return fmt.Sprintf("mqbench-shard-%016x-%d", runID, i)
}

// holdMarker declares this shard's marker on the admin connection.
func (w *workload) holdMarker() error {
	name := markerName(w.runID, w.sc.Shard.Index)
	w.topo.mu.Lock() // a reconnect re-declares it
	defer w.topo.mu.Unlock()
	if err := declareMarker(w.topo.admin, name); err != nil {
		return fmt.Errorf("shard %s: declare its marker queue %s: %w", w.sc.Shard, name, err)
	}
	w.topo.marker = name
	return nil
}

// declareMarker declares a marker: exclusive to c, so the broker deletes
// it when c closes, however the process ends.
func declareMarker(c *amqpconn.Conn, name string) error {
	return c.Control(func(ch *amqp.Channel) error {
		_, err := ch.QueueDeclare(name, false, true, true, false, nil)
		return err
	})
}

// markerPresent reports whether shard i's marker exists.
func (w *workload) markerPresent(i int) (bool, error) { return w.queuePresent(markerName(w.runID, i)) }

// queuePresent reports whether a marker queue exists (it is another
// connection's exclusive queue, or this one's).
func (w *workload) queuePresent(name string) (bool, error) {
	err := w.topo.admin.Control(func(ch *amqp.Channel) error {
		_, err := ch.QueueDeclarePassive(name, false, true, true, false, nil)
		return err
	})
	switch {
	case err == nil, amqpconn.IsCode(err, amqp.ResourceLocked):
		return true, nil
	case amqpconn.IsCode(err, amqp.NotFound):
		return false, nil
	}
	return false, err
}

// awaitMarkers waits until the markers of shards want are all present
// (present true) or all gone, or until deadline; it returns the shards
// still not as wanted.
func (w *workload) awaitMarkers(ctx context.Context, want []int, present bool, deadline time.Time) ([]int, error) {
	t := time.NewTicker(markerPoll)
	defer t.Stop()
	for {
		var pending []int
		for _, i := range want {
			ok, err := w.markerPresent(i)
			if err != nil {
				return nil, fmt.Errorf("shard %s: look for shard %d's marker: %w", w.sc.Shard, i, err)
			}
			if ok != present {
				pending = append(pending, i)
			}
		}
		if len(pending) == 0 || time.Now().After(deadline) {
			return pending, nil
		}
		want = pending
		select {
		case <-ctx.Done():
			return pending, fmt.Errorf("shard %s: interrupted while waiting for shards %s: %w", w.sc.Shard, joinInts(pending), ctx.Err())
		case <-t.C:
		}
	}
}

// startDeadline is the latest time a shard waits for the others at the
// start.
func (w *workload) startDeadline() time.Time {
	return w.sc.StartAt.Add(w.startWait())
}

// startWait is how long after --start-at a shard waits for the others.
func (w *workload) startWait() time.Duration {
	if w.shardWait > 0 {
		return w.shardWait
	}
	return shardStartWait + w.sc.ConnectTimeout.D()
}

// awaitOwner waits, in a shard that does not own the topology, until the
// owner has declared all of it.
func (w *workload) awaitOwner(ctx context.Context) error {
	missing, err := w.awaitMarkers(ctx, []int{0}, true, w.startDeadline())
	if err != nil {
		return err
	}
	if len(missing) > 0 {
		return fmt.Errorf("shard %s: shard 0, which declares the topology, was not ready by %s (--start-at + %v)",
			w.sc.Shard, w.startDeadline().Format(time.RFC3339), w.startWait())
	}
	return nil
}

// awaitShards declares this shard's marker (once its consumers are
// subscribed) and waits until every shard's marker exists.
func (w *workload) awaitShards(ctx context.Context) error {
	if err := w.holdMarker(); err != nil {
		return err
	}
	var all []int
	for i := 0; i < w.sc.Shard.Count; i++ {
		if i != w.sc.Shard.Index {
			all = append(all, i)
		}
	}
	missing, err := w.awaitMarkers(ctx, all, true, w.startDeadline())
	if err != nil {
		return err
	}
	if len(missing) > 0 {
		return fmt.Errorf("shard %s: shards %s were not ready by %s (--start-at + %v): they did not start, or cannot reach this broker",
			w.sc.Shard, joinInts(missing), w.startDeadline().Format(time.RFC3339), w.startWait())
	}
	return nil
}

// stillThere checks, at the start, that every shard that was ready still
// is: one interrupted while waiting for the start time has left (and the
// owner, leaving, deletes the topology).
func (w *workload) stillThere() error {
	for i := 0; i < w.sc.Shard.Count; i++ {
		ok, err := w.markerPresent(i)
		if err != nil {
			return fmt.Errorf("shard %s: look for shard %d's marker at the start: %w", w.sc.Shard, i, err)
		}
		if !ok {
			return fmt.Errorf("shard %s: shard %d left before the start (interrupted, or its connection was lost): the run cannot be the scenario", w.sc.Shard, i)
		}
	}
	return nil
}

// awaitOthersGone waits, in the owner, until every other shard has
// finished (its marker is gone), so that no consumer of theirs still
// reads when the owner sweeps and deletes the queues. It returns a warning
// when some had not finished by ctx's end.
func (w *workload) awaitOthersGone(ctx context.Context) string {
	var others []int
	for i := 1; i < w.sc.Shard.Count; i++ {
		others = append(others, i)
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(time.Minute)
	}
	still, err := w.awaitMarkers(ctx, others, false, deadline)
	switch {
	case err != nil && len(still) == 0:
		return fmt.Sprintf("the owner could not tell whether the other shards had finished (%v) before it read what was left and deleted the topology", err)
	case len(still) > 0:
		return fmt.Sprintf("shards %s were still running when the owner read what was left in the queues and deleted them: "+
			"their consumers may have taken messages the audit counts as left", joinInts(still))
	}
	return ""
}

// othersGoneWait bounds the owner's wait for the other shards at the
// end: they stop together, but each drains for up to the drain timeout.
func (w *workload) othersGoneWait() time.Duration {
	return w.sc.DrainTimeout.D() + stopGraceShards
}

// stopGraceShards is how much longer than the drain timeout the owner
// waits for another shard to stop, clean up and close.
const stopGraceShards = 15 * time.Second

// crossShardWarning says what end-to-end latency means when the producer
// and the consumer of a message ran in different shards.
const crossShardWarning = "end-to-end latency spans shards: this shard consumed messages other shards published, " +
	"so on separate hosts those figures include the offset between their clocks (keep them NTP-synchronised)"

// crossShard reports whether this shard's consumers received messages of
// producers of other shards (from the audit's view; without an audit,
// whether any other shard publishes while this one consumes).
func (w *workload) crossShard(a *result.Audit) bool {
	sh := w.sc.Shard
	if !sh.Sharded() || len(w.consumers) == 0 {
		return false
	}
	if a == nil || a.State == nil {
		return w.sc.Producers.Count > sh.Share(w.sc.Producers.Count)
	}
	return a.State.ConsumedFromOthers(sh.Owns)
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = fmt.Sprint(n)
	}
	return strings.Join(s, ", ")
}

// waitStart sleeps until the run's --start-at (at once when it has
// passed).
func waitStart(ctx context.Context, at time.Time) error {
	if d := time.Until(at); d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}
