package audit

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// fixture is a queue owed all of one producer's 100 messages: 0–59
// consumed, 60–69 swept (left), the rest missing; the producer's
// confirms or clean channel close cover 0–89.
func fixture(confirms bool) (*Account, []*Producer) {
	a := NewAccount("q", NewPattern([]bool{true}), 1, Options{Spill: DefaultSpill, GapCap: DefaultGapCap, DeliveryLimit: true})
	c := a.NewConsumer()
	for s := uint32(0); s < 60; s++ {
		c.Deliver(0, s, false, 0)
	}
	for s := uint32(60); s < 70; s++ {
		a.Record(0, s, Left, 0)
	}
	p := NewProducer(confirms)
	p.Published = 100
	if confirms {
		p.Acked.AddRange(0, 90)
	} else {
		p.Received.AddRange(0, 90)
	}
	return a, []*Producer{p}
}

// TestReconcileEvidence: each bucket gets exactly what the evidence says,
// and nothing is called dropped without evidence.
func TestReconcileEvidence(t *testing.T) {
	cases := []struct {
		name     string
		confirms bool
		ev       Evidence
		prepare  func(a *Account, p *Producer)
		want     Queue
		reason   string
	}{
		{name: "confirms: 20 confirmed missing are lost, 10 unconfirmed", confirms: true,
			want: Queue{Expected: 100, Consumed: 60, Left: 10, Lost: 20, Unconfirmed: 10}},
		{name: "no confirms: received missing are lost, the rest unknown", confirms: false,
			want: Queue{Expected: 100, Consumed: 60, Left: 10, Lost: 20, Unknown: 10}},
		{name: "a delivery limit without requeues explains nothing", confirms: true, ev: Evidence{DeliveryLimit: "x-delivery-limit 5"},
			want: Queue{Expected: 100, Consumed: 60, Left: 10, Lost: 20, Unconfirmed: 10}},
		{name: "requeued under a delivery limit and never seen: dropped", confirms: true, ev: Evidence{DeliveryLimit: "x-delivery-limit 5"},
			prepare: func(a *Account, _ *Producer) {
				c := a.NewConsumer()
				for s := uint32(70); s < 75; s++ {
					c.Refuse(0, s, true, false, 0)
				}
				c.Refuse(0, 95, true, false, 0) // unconfirmed, yet the broker had it
			},
			want:   Queue{Expected: 100, Consumed: 60, Left: 10, Dropped: 6, Lost: 15, Unconfirmed: 9, Redelivered: 0},
			reason: "x-delivery-limit 5 (refused with requeue, never seen again): 6"},
		{name: "refused without requeue: dropped", confirms: true,
			prepare: func(a *Account, _ *Producer) { a.NewConsumer().Refuse(0, 80, false, true, 0) },
			want:    Queue{Expected: 100, Consumed: 60, Left: 10, Dropped: 1, Lost: 19, Unconfirmed: 10, Redelivered: 1},
			reason:  "refused by the consumers without requeue: 1"},
		{name: "TTL: only what waited longer than the TTL", confirms: true,
			ev: Evidence{TTLMillis: 1000, TTLEnd: int64(10 * time.Second)},
			prepare: func(_ *Account, p *Producer) {
				p.Times.Add(int64(8*time.Second), 75) // 0–74 published by 8 s: ≥ 2 s in the queue
				p.Times.Add(int64(9500*time.Millisecond), 100)
			},
			want:   Queue{Expected: 100, Consumed: 60, Left: 10, Dropped: 5, Lost: 15, Unconfirmed: 10},
			reason: "x-message-ttl 1000 (waited longer than the TTL): 5"},
		{name: "length limit reached: the broker's missing are dropped", confirms: true, ev: Evidence{LengthLimit: "x-max-length 50 (the queue was at it)"},
			want:   Queue{Expected: 100, Consumed: 60, Left: 10, Dropped: 20, Unconfirmed: 10},
			reason: "x-max-length 50 (the queue was at it): 20"},
		{name: "depth of a kept queue is left first from the lost", confirms: true, ev: Evidence{Depth: 25},
			want: Queue{Expected: 100, Consumed: 60, Left: 35, Unconfirmed: 5}},
		{name: "dead-lettered read back", confirms: true,
			prepare: func(a *Account, _ *Producer) { a.Record(0, 71, DeadLettered, 0) },
			want:    Queue{Expected: 100, Consumed: 60, Left: 10, Dropped: 1, Lost: 19, Unconfirmed: 10},
			reason:  "dead-lettered (read back from the dead-letter queue): 1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, prods := fixture(tc.confirms)
			if tc.prepare != nil {
				tc.prepare(a, prods[0])
			}
			var cc ConsumerCounts
			if strings.HasPrefix(tc.name, "refused without requeue") {
				cc.Redelivered = 1
			}
			q, _ := a.Reconcile(prods, cc, tc.ev)
			if q.DropReason != tc.reason {
				t.Errorf("drop reason %q, want %q", q.DropReason, tc.reason)
			}
			q.DropReason, q.Name = "", ""
			if q != tc.want {
				t.Fatalf("\n got %+v\nwant %+v", q, tc.want)
			}
			if q.Accounted() != q.Expected {
				t.Fatalf("buckets sum to %d of %d", q.Accounted(), q.Expected)
			}
		})
	}
}

// TestReconcileRoutingAndStrangers: a queue owed every third message of
// two producers; deliveries it is not owed are unexpected, a producer id
// out of range is foreign, and each producer's expected count follows
// the rotation.
func TestReconcileRoutingAndStrangers(t *testing.T) {
	a := NewAccount("q", NewPattern([]bool{true, false, false}), 2, Options{Spill: DefaultSpill})
	c := a.NewConsumer()
	prods := []*Producer{NewProducer(true), NewProducer(true)}
	for id, p := range prods {
		p.Published = 30
		p.Acked.AddRange(0, 30)
		for s := uint32(0); s < 30; s++ {
			c.Deliver(id, s, false, 0) // every message, owed here or not
		}
	}
	c.Deliver(5, 0, false, 0)
	q, _ := a.Reconcile(prods, c.ConsumerCounts, Evidence{})
	if q.Expected != 20 || q.Consumed != 20 || q.Unexpected != 41 || q.Lost != 0 {
		t.Fatalf("%+v", q)
	}
}

// TestStateRoundTripAndMerge: reconciling from the state written to JSON
// and read back gives what the live account gives; and two shards, each
// with part of the deliveries (interleaved, as competing consumers in two
// processes get them, with some delivered in both), merge to exactly what
// one account with all the deliveries reconciles to.
func TestStateRoundTripAndMerge(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	pattern := NewPattern([]bool{true, false, true})
	opts := Options{Spill: DefaultSpill, GapCap: DefaultGapCap}
	one := NewAccount("q", pattern, 3, opts)
	shards := []*Account{NewAccount("q", pattern, 3, Options{}), NewAccount("q", pattern, 3, Options{})}
	c1, cs := one.NewConsumer(), []*Consumer{shards[0].NewConsumer(), shards[1].NewConsumer()}
	prods := make([]*Producer, 3)
	for id := range prods {
		prods[id] = NewProducer(true)
		prods[id].Published = 5000
		prods[id].Acked.AddRange(0, 4900)
		for s := uint32(0); s < 5000; s++ {
			if !pattern.Routed(id, uint64(s)) || rng.IntN(100) == 0 {
				continue // not owed, or never arrives
			}
			k := rng.IntN(2)
			c1.Deliver(id, s, false, 0)
			cs[k].Deliver(id, s, false, 0)
			if rng.IntN(200) == 0 { // delivered again, to the other shard
				c1.Deliver(id, s, true, 0)
				cs[1-k].Deliver(id, s, true, 0)
			}
		}
	}
	want, _ := one.Reconcile(prods, c1.ConsumerCounts, Evidence{})
	var states []*State
	for i, a := range shards {
		st := &State{Version: StateVersion, Producers: 3, Keys: 3,
			Queues: []QueueState{{Index: 0, Name: "q", Routes: pattern.Routes(),
				Groups: []GroupState{{Name: "q", Tracks: a.State(), Consumers: cs[i].ConsumerCounts}}}}}
		if i == 0 {
			for id, p := range prods {
				st.Publishers = append(st.Publishers, ProducerState{ID: id, Published: p.Published, Confirms: true, Acked: p.Acked})
			}
		}
		data, err := json.Marshal(st)
		if err != nil {
			t.Fatal(err)
		}
		var back State
		if err := json.Unmarshal(data, &back); err != nil {
			t.Fatal(err)
		}
		states = append(states, &back)
	}
	merged, err := Merge(states)
	if err != nil {
		t.Fatal(err)
	}
	got, note, err := merged.Reconcile()
	if err != nil || len(got) != 1 || note != "" {
		t.Fatalf("reconcile: %v %d %q", err, len(got), note)
	}
	if got[0] != want {
		t.Fatalf("merged shards\n%+v\none process\n%+v", got[0], want)
	}
	if want.Duplicates == 0 || want.Lost == 0 {
		t.Fatalf("the fixture must have duplicates and losses: %+v", want)
	}
}

// TestHostileStatesAreRefused: a state read from a file that does not
// hold together is an error, never a panic or a huge allocation.
func TestHostileStatesAreRefused(t *testing.T) {
	base := `{"version":2,"producers":1,"keys":1,"publishers":[{"id":0,"published":10,"confirms":true,"acked":"AAo=","received":""}],` +
		`"queues":[{"index":0,"name":"q","routes":[true],"groups":[{"name":"q","tracks":[%s],"consumers":{}}]}]}`
	tracks := map[string]string{
		"gap past base":      `{"producer":0,"base":2,"gaps":"AAU=","window":"","hi":2}`,
		"window below base":  `{"producer":0,"base":5,"window":"AAI=","gaps":"","hi":6}`,
		"producer too big":   `{"producer":7,"base":0,"window":"","gaps":"","hi":0}`,
		"base beyond hi":     `{"producer":0,"base":9,"window":"","gaps":"","hi":1}`,
		"hi beyond 2^32":     `{"producer":0,"base":0,"window":"","gaps":"","hi":99999999999}`,
		"window bad base64":  `{"producer":0,"base":0,"window":"!!","gaps":"","hi":0}`,
		"track twice":        `{"producer":0,"base":0,"window":"","gaps":"","hi":0},{"producer":0,"base":0,"window":"","gaps":"","hi":0}`,
		"old version layout": ``,
	}
	for name, tr := range tracks {
		doc := strings.Replace(base, "%s", tr, 1)
		if name == "old version layout" {
			doc = strings.Replace(doc, `"version":2`, `"version":0`, 1)
		}
		var st State
		if err := json.Unmarshal([]byte(doc), &st); err != nil {
			continue // refused while reading: fine
		}
		if _, _, err := st.Reconcile(); err == nil {
			t.Errorf("%s: reconciled without error", name)
		}
	}
}
