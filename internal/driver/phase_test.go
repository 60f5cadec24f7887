package driver

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mqbench/mqbench/internal/pace"
)

// phasedProducer is a producer following plans, without a channel.
func phasedProducer(shared *atomic.Pointer[producerPlan]) *producer {
	p := hotProducer(0)
	p.ph = &producerFollow{shared: shared, took: -1}
	return p
}

// TestPhasedProducerHotPathDoesNotAllocate: following the phase's plan
// (an atomic load, a share of the phase's count) and computing the due
// time cost no allocation per message.
func TestPhasedProducerHotPathDoesNotAllocate(t *testing.T) {
	var shared atomic.Pointer[producerPlan]
	plan := &producerPlan{schedule: pace.Constant(1e6), at: 1, rebase: true, quota: &atomic.Int64{}, reached: func() {}, next: make(chan struct{})}
	plan.quota.Store(1 << 40)
	shared.Store(plan)
	p := phasedProducer(&shared)
	var base int64
	var s sleeper
	i := int64(0)
	step := func() {
		if !p.follow(i, &base, &s, nil) {
			t.Fatal("follow refused a message within the count")
		}
		if _, ok := p.due(i-p.ph.fromIndex(), base); !ok || !p.ph.proceed(i) {
			t.Fatal("no due time, or no share of the count")
		}
		i++
	}
	if n := testing.AllocsPerRun(10000, step); n != 0 {
		t.Fatalf("%.2f allocations per message", n)
	}
}

// TestFollowRebasesPausesAndCounts: a new pace starts at the phase's
// start and counts from the message then due, and a due time computed
// under the plan before does not proceed; a plan that goes on keeps the
// schedule; a phase's count is shared exactly, reached said once; a
// paused producer waits for the next plan; a stopped one leaves.
func TestFollowRebasesPausesAndCounts(t *testing.T) {
	var shared atomic.Pointer[producerPlan]
	slow := pace.Constant(10)
	shared.Store(&producerPlan{schedule: slow, at: 1000, rebase: true, next: make(chan struct{})})
	p := phasedProducer(&shared)
	var base int64
	var s sleeper
	if !p.follow(0, &base, &s, nil) || base != 1000 || p.schedule != slow || p.ph.fromIndex() != 0 {
		t.Fatalf("first plan: base %d from %d", base, p.ph.fromIndex())
	}
	old := shared.Load()
	fast := pace.Constant(1000)
	shared.Store(&producerPlan{schedule: fast, at: 5000, rebase: true, next: make(chan struct{})})
	close(old.next)
	if p.ph.proceed(7) || !p.follow(7, &base, &s, nil) || base != 5000 || p.schedule != fast || p.ph.fromIndex() != 7 {
		t.Fatalf("new pace: base %d from %d", base, p.ph.fromIndex())
	}
	if due, _ := p.due(7-p.ph.fromIndex(), base); due != 5000 {
		t.Errorf("message 7 is due at %d, want the phase's start 5000", due)
	}
	shared.Store(&producerPlan{schedule: pace.Constant(1), at: 9000, next: make(chan struct{})}) // goes on: no rebase
	if !p.follow(8, &base, &s, nil) || base != 5000 || p.schedule != fast || p.ph.fromIndex() != 7 {
		t.Errorf("a plan without a new pace changed it: base %d from %d", base, p.ph.fromIndex())
	}

	// A count of 1000 over 4 producers: exactly 1000 messages, reached once.
	var reached atomic.Int32
	counted := &producerPlan{at: 1, rebase: true, quota: &atomic.Int64{}, reached: func() { reached.Add(1) }, next: make(chan struct{})}
	counted.quota.Store(1000)
	shared.Store(counted)
	var sent atomic.Int64
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for range 4 {
		q := phasedProducer(&shared)
		wg.Add(1)
		go func() {
			defer wg.Done()
			var b int64
			var sl sleeper
			for i := int64(0); q.follow(i, &b, &sl, stop); {
				if !q.ph.proceed(i) {
					continue // the count is spent: follow waits for the next phase
				}
				if !q.ph.proceed(i) { // a retry of message i takes no second share
					t.Error("a retry was refused")
				}
				sent.Add(1)
				i++
			}
		}()
	}
	time.Sleep(100 * time.Millisecond) // every producer now waits: the count is spent
	if n := sent.Load(); n != 1000 || reached.Load() != 1 {
		t.Errorf("sent %d, reached said %d times; want 1000, once", n, reached.Load())
	}
	stopped := &producerPlan{stopped: true, next: make(chan struct{})}
	shared.Store(stopped)
	close(counted.next)
	wg.Wait() // each left at the stop

	// A slow paced producer takes its share when its message is sent, not
	// while it waits for its due time: the count is reached by a message
	// being sent.
	slowCount := &producerPlan{schedule: pace.Constant(0.5), at: 1, rebase: true, quota: &atomic.Int64{}, reached: func() {}, next: make(chan struct{})}
	slowCount.quota.Store(1)
	shared.Store(slowCount)
	sp := phasedProducer(&shared)
	var sb int64
	var ss sleeper
	if !sp.follow(0, &sb, &ss, nil) || slowCount.quota.Load() != 1 {
		t.Errorf("the share was taken before the message's time: %d left", slowCount.quota.Load())
	}
	if !sp.ph.proceed(0) || slowCount.quota.Load() != 0 {
		t.Errorf("sending took no share: %d left", slowCount.quota.Load())
	}

	paused := &producerPlan{paused: true, next: make(chan struct{})}
	shared.Store(paused)
	r := phasedProducer(&shared)
	got := make(chan bool)
	go func() {
		var b int64
		var sl sleeper
		got <- r.follow(0, &b, &sl, nil)
	}()
	select {
	case <-got:
		t.Fatal("a paused producer went on")
	case <-time.After(50 * time.Millisecond):
	}
	shared.Store(&producerPlan{rebase: true, at: 1, next: make(chan struct{})})
	close(paused.next)
	if !<-got {
		t.Error("the resumed producer did not go on")
	}
}
