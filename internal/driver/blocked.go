package driver

import (
	"sync"
	"sync/atomic"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/mqbench/mqbench/internal/report"
)

// blockLog records when the broker blocks and unblocks connections
// (connection.blocked is how RabbitMQ's memory and disk alarms stop
// publishers).
type blockLog struct {
	mu      sync.Mutex
	entries []report.Blocked
	open    map[string]int // connection name → its open entry
	now     atomic.Int64   // connections blocked right now
}

func newBlockLog() *blockLog { return &blockLog{open: map[string]int{}} }

// watch follows one connection's blocked/unblocked notifications until it
// closes.
func (b *blockLog) watch(c *conn) {
	ch := c.cur.Load().NotifyBlocked(make(chan amqp.Blocking, 4))
	go func() {
		for ev := range ch {
			b.record(c.name, ev, time.Now().UTC())
		}
	}()
}

func (b *blockLog) record(name string, ev amqp.Blocking, at time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	i, isOpen := b.open[name]
	switch {
	case ev.Active && !isOpen:
		b.open[name] = len(b.entries)
		b.entries = append(b.entries, report.Blocked{Connection: name, Reason: ev.Reason, Start: at})
		b.now.Add(1)
	case !ev.Active && isOpen:
		b.entries[i].End = &at
		delete(b.open, name)
		b.now.Add(-1)
	}
}

// snapshot returns every interval so far (open ones have no end).
func (b *blockLog) snapshot() []report.Blocked {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]report.Blocked{}, b.entries...)
}
