package driver

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/mqbench/mqbench/internal/audit"
	"github.com/mqbench/mqbench/internal/scenario"
	"github.com/mqbench/mqbench/internal/stamp"
)

// sweepTimeout bounds reading what is left in the queues at the end; what
// it does not read is counted from the queue's depth instead.
const sweepTimeout = 30 * time.Second

// sweepQuiet is how long the sweep waits for another message once the
// queue reports none ready.
const sweepQuiet = 200 * time.Millisecond

// queueEnds finds, for every audited queue, what the run left in it: a
// queue mqbench declared and is about to delete is read to the end (so
// each message left is known exactly); a queue that stays (an existing
// one, or --keep) is only counted, from its depth. It runs after the
// consumers stopped and before the topology is deleted.
func (w *workload) queueEnds(ctx context.Context) map[*queue]audit.End {
	out := map[*queue]audit.End{}
	if !w.sc.Producers.Audited() || !w.sc.Shard.Owner() { // in a sharded run, the owner reads what is left
		return out
	}
	ctx, cancel := context.WithTimeout(ctx, sweepTimeout)
	defer cancel()
	for _, q := range w.topo.queues {
		if !w.audited(q) || q.spec.Type == scenario.QueueStream {
			continue
		}
		end := audit.End{DropReason: dropReason(q.spec, w.brokerMajor)}
		if q.created && !w.sc.Keep {
			end.Swept = w.sweep(ctx, q)
		}
		if n, err := q.depth(); err == nil {
			end.Depth = n
		}
		out[q] = end
	}
	return out
}

// sweep reads every message left in q with automatic acks (the queue is
// about to be deleted) and returns this run's, by producer and sequence.
func (w *workload) sweep(ctx context.Context, q *queue) *audit.Consumer {
	seen := audit.NewConsumer(w.sc.Producers.Count)
	h, err := q.owner.Open("sweep of "+q.currentName(), nil)
	if err != nil {
		return nil
	}
	defer func() { _ = h.Ch().Close() }()
	deliveries, err := h.Ch().Consume(q.currentName(), "mqbench-sweep", true, false, false, false, nil)
	if err != nil {
		return nil
	}
	quiet := time.NewTimer(sweepQuiet)
	defer quiet.Stop()
	for {
		select {
		case d, ok := <-deliveries:
			if !ok {
				return seen
			}
			if id, run, ok := stamp.Run(d.Body); ok && run == w.runID {
				seq, _, _ := stamp.Read(d.Body)
				seen.Deliver(id, seq, true, d.Redelivered)
			}
			quiet.Reset(sweepQuiet)
		case <-quiet.C:
			if n, err := q.depth(); err != nil || n == 0 {
				return seen
			}
			quiet.Reset(sweepQuiet)
		case <-ctx.Done():
			return seen // cut short: the depth counts the rest
		}
	}
}

// dropMeaning says what a queue argument under which the broker removes
// messages by itself means; false for any other argument.
func dropMeaning(arg string) (string, bool) {
	switch arg {
	case "x-max-length":
		return "a length limit", true
	case "x-max-length-bytes":
		return "a size limit", true
	case "x-message-ttl":
		return "a message TTL", true
	case "x-expires":
		return "a queue expiry", true
	case "x-dead-letter-exchange":
		return "dead-lettering", true
	case "x-delivery-limit":
		return "a delivery limit", true
	}
	return "", false
}

// dropReason says which of the queue's arguments let the broker drop
// messages ("x-max-length 1000 (a length limit)"), or "". From RabbitMQ 4
// every quorum queue has a delivery limit (20 unless set): a message
// redelivered that often is dropped or dead-lettered.
func dropReason(q scenario.Queue, brokerMajor int) string {
	var parts []string
	for k, v := range q.Arguments {
		if what, ok := dropMeaning(k); ok {
			parts = append(parts, fmt.Sprintf("%s %v (%s)", k, v, what))
		}
	}
	if _, set := q.Arguments["x-delivery-limit"]; q.Type == scenario.QueueQuorum && brokerMajor >= 4 && !set {
		parts = append(parts, "a quorum queue's delivery limit (20 by default from RabbitMQ 4)")
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}
