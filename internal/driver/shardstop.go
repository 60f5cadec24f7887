package driver

import (
	"fmt"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/mqbench/mqbench/internal/engine"
	"github.com/mqbench/mqbench/internal/result"
	"github.com/mqbench/mqbench/internal/scenario"
)

// A run that stops by itself — at its message count, or when its queues
// are empty or idle (--exit-when) — stops when the whole run has got
// there, not when one shard has: one process's consumers keep consuming
// until the last producer has published its share. In a sharded run the
// shards that can tell (the leaders: those with limited workers for a
// message count, those with consumers for --exit-when) each hold a "load"
// marker queue while their part is not done, and delete it when it is.
// Every shard stops, for the scenario's reason, once no leader's load
// marker is left — a leader that dies loses its marker too, so the others
// are never left waiting for it.

// stopPoll is how often a shard of a self-stopping run looks at the
// leaders' load markers, and stopGone how long they must all have been
// gone before it believes it (a leader's connection that is re-established
// re-declares its marker).
const (
	stopPoll = 100 * time.Millisecond
	stopGone = time.Second
)

// shardStopReason is the stop reason the shards coordinate, and whether
// shard i is a leader for it; "" when the run stops by duration or signal
// only.
func shardStopReason(sc *scenario.Scenario, i int) (reason string, leader bool) {
	sh := scenario.Shard{Index: i, Count: sc.Shard.Count}
	switch {
	case sc.Consumers.ExitWhen == scenario.ExitEmpty:
		return result.StopQueuesEmpty, sh.Share(sc.Consumers.Count) > 0
	case sc.Consumers.ExitWhen == scenario.ExitIdle:
		return result.StopIdle, sh.Share(sc.Consumers.Count) > 0
	case sc.Producers.Messages > 0 || sc.RPC.Requests > 0:
		return result.StopMessageCount, (sc.Producers.Messages > 0 && sh.Share(sc.Producers.Count) > 0) ||
			(sc.RPC.Requests > 0 && sh.Share(sc.RPC.Clients) > 0)
	}
	return "", false
}

// loadMarkerName is shard i's load marker.
func loadMarkerName(runID uint64, i int) string { return markerName(runID, i) + "-load" }

// prepareShardStop sets up the coordinated stop: a leader declares its
// load marker before the start barrier, so that every shard finds it.
func (w *workload) prepareShardStop() error {
	reason, leader := shardStopReason(w.sc, w.sc.Shard.Index)
	w.shardStop = reason
	if reason == "" || !leader {
		return nil
	}
	name := loadMarkerName(w.runID, w.sc.Shard.Index)
	w.topo.mu.Lock()
	defer w.topo.mu.Unlock()
	if err := declareMarker(w.topo.admin, name); err != nil {
		return fmt.Errorf("shard %s: declare its load marker %s: %w", w.sc.Shard, name, err)
	}
	w.topo.loadMarker = name
	return nil
}

// stopLocally is emit for a stop that may have to wait for the other
// shards: a leader's part is done, so it gives its load marker up;
// watchShardStop stops the run when every leader's is gone.
func (w *workload) stopLocally(reason string) {
	if reason != w.shardStop || w.shardStop == "" {
		w.emit(reason)
		return
	}
	w.topo.mu.Lock()
	name := w.topo.loadMarker
	w.topo.loadMarker = "" // a reconnect does not bring it back
	w.topo.mu.Unlock()
	if name == "" {
		return
	}
	err := w.topo.admin.Control(func(ch *amqp.Channel) error {
		_, err := ch.QueueDelete(name, false, false, false)
		return err
	})
	if err != nil {
		w.fail(fmt.Errorf("shard %s: give up its load marker %s: %w", w.sc.Shard, name, err))
	}
}

// watchShardStop stops the run once no leader holds its load marker.
func (w *workload) watchShardStop() {
	var leaders []int
	for i := 0; i < w.sc.Shard.Count; i++ {
		if _, leader := shardStopReason(w.sc, i); leader {
			leaders = append(leaders, i)
		}
	}
	t := time.NewTicker(stopPoll)
	defer t.Stop()
	var goneSince time.Time
	for {
		select {
		case <-w.ctx.Done():
			return
		case <-t.C:
		}
		present := false
		for _, i := range leaders {
			ok, err := w.loadPresent(i)
			if err != nil {
				w.fail(err)
				return
			}
			if present = ok; ok {
				break
			}
		}
		switch {
		case present:
			goneSince = time.Time{}
		case goneSince.IsZero():
			goneSince = time.Now()
		case time.Since(goneSince) >= stopGone:
			// The load ended when the markers went, not a second later.
			select {
			case w.events <- engine.Event{Reason: w.shardStop, At: goneSince.UnixNano()}:
			default:
			}
			return
		}
	}
}

// loadPresent reports whether shard i's load marker exists.
func (w *workload) loadPresent(i int) (bool, error) {
	ok, err := w.queuePresent(loadMarkerName(w.runID, i))
	if err != nil {
		return false, fmt.Errorf("shard %s: look for shard %d's load marker: %w", w.sc.Shard, i, err)
	}
	return ok, nil
}
