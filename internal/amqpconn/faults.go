package amqpconn

import (
	"sync"
	"sync/atomic"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/mqbench/mqbench/internal/result"
)

// Faults records what went wrong with a dialer's connections: when the
// broker blocked them (connection.blocked is how RabbitMQ's memory and
// disk alarms stop publishers), when they were lost and re-established,
// and how many workers wait for one right now.
type Faults struct {
	mu         sync.Mutex
	blocked    []result.Blocked
	open       map[string]int // connection name → its open blocked entry
	outages    []result.Outage
	reconnects int

	blockedNow   atomic.Int64 // connections blocked right now
	disconnected atomic.Int64 // workers waiting for a lost connection right now
}

func newFaults() *Faults { return &Faults{open: map[string]int{}} }

// Blocked returns how many connections the broker blocks right now.
func (f *Faults) Blocked() int { return int(f.blockedNow.Load()) }

// Disconnected returns how many workers wait for a lost connection.
func (f *Faults) Disconnected() int { return int(f.disconnected.Load()) }

func (f *Faults) recordBlock(name string, ev amqp.Blocking, at time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	i, isOpen := f.open[name]
	switch {
	case ev.Active && !isOpen:
		f.open[name] = len(f.blocked)
		f.blocked = append(f.blocked, result.Blocked{Connection: name, Reason: ev.Reason, Start: at})
		f.blockedNow.Add(1)
	case !ev.Active && isOpen:
		f.blocked[i].End = &at
		delete(f.open, name)
		f.blockedNow.Add(-1)
	}
}

// endBlock ends the connection's open block, if any: it died while
// blocked, and nobody is blocked on a dead connection.
func (f *Faults) endBlock(name string, at time.Time) {
	f.recordBlock(name, amqp.Blocking{Active: false}, at)
}

func (f *Faults) recordOutage(name string, start, end time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reconnects++
	f.outages = append(f.outages, result.Outage{Start: start, End: &end, What: "connection " + name + " lost and re-established"})
}

// Snapshot returns everything recorded so far; blocks still open have no
// end.
func (f *Faults) Snapshot() result.Faults {
	f.mu.Lock()
	defer f.mu.Unlock()
	return result.Faults{
		Reconnects: f.reconnects,
		Outages:    append([]result.Outage{}, f.outages...),
		Blocked:    append([]result.Blocked{}, f.blocked...),
	}
}
