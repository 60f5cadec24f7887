package audit

import (
	"cmp"
	"encoding/json"
	"fmt"
	"math/bits"
	"slices"
	"strings"
)

// StateVersion is the layout of State. Version 1 (earlier mqbench
// releases) kept a bitset per consumer and producer; it is refused with a
// message saying so, since the shards of one run are made by one mqbench.
const StateVersion = 2

// State is an audit before reconciliation: everything Reconcile reads.
// One process builds it from its workers; the shards of a sharded run
// each write theirs into their result, and merging the shards' states
// (Merge) and reconciling gives exactly the audit one process running
// the whole scenario would have made — no figure is summed from partial
// accounts, which could not tell a message consumed in another shard from
// a lost one.
type State struct {
	Version int `json:"version"`
	// Producers is the number of producers in the whole run; producer ids
	// are global, 0..Producers-1.
	Producers int `json:"producers"`
	// Publishers are the producers this state holds (by id).
	Publishers []ProducerState `json:"publishers"`
	// Keys is the period of the producers' rotation (see Pattern): the
	// routing keys, times the slots of the headers drawn per message when
	// a headers exchange routes on them; a queue's Routes say which
	// positions of it route there.
	Keys   int          `json:"keys"`
	Queues []QueueState `json:"queues"`
	// Note and Incomplete carry what made the audit partial (a consumer
	// that did not stop in time, stream offsets that owe an unknown part).
	Note       string `json:"note,omitempty"`
	Incomplete bool   `json:"incomplete,omitempty"`
}

// ProducerState is one producer's side.
type ProducerState struct {
	ID        int          `json:"id"`
	Published uint32       `json:"published"`
	Confirms  bool         `json:"confirms"`
	Acked     Ranges       `json:"acked"`
	Received  Ranges       `json:"received"`
	Times     []Checkpoint `json:"times,omitempty"`
	// AckedCounted and ReceivedCounted are their counted stretches
	// (positions given up to stay bounded).
	AckedCounted    []Counted `json:"acked_counted,omitempty"`
	ReceivedCounted []Counted `json:"received_counted,omitempty"`
}

// QueueState is one audited queue: where messages were routed, and every
// account of it (a queue's competing consumers together, or each reader
// of a stream).
type QueueState struct {
	Index  int          `json:"index"`
	Name   string       `json:"name"`
	Routes []bool       `json:"routes"` // by position in the rotation (a routing key index without drawn headers)
	Groups []GroupState `json:"groups"`
}

// GroupState is one account: its tracks, its consumers' own counts and,
// from the process that read the queue at the end, the evidence of what
// the broker did to it.
type GroupState struct {
	Name      string         `json:"name"`
	Tracks    []TrackState   `json:"tracks"`
	Consumers ConsumerCounts `json:"consumers"`
	End       *Evidence      `json:"end,omitempty"`
}

// TrackState is a Track in a document: the ordinals below Base are
// accounted for but for Gaps (and the counted ones); Window holds the
// accounted ordinals from its base up, as bits.
type TrackState struct {
	Producer     int       `json:"producer"`
	Base         uint64    `json:"base"`
	Window       Bits      `json:"window"`
	Gaps         Ranges    `json:"gaps"`
	GapsCounted  []Counted `json:"gaps_counted,omitempty"`
	Consumed     uint64    `json:"consumed"`
	Refused      uint64    `json:"refused"`
	Left         uint64    `json:"left"`
	DeadLettered uint64    `json:"dead_lettered"`
	Duplicates   uint64    `json:"duplicates"`
	Hi           uint64    `json:"hi"`
	Requeued     Ranges    `json:"requeued"`
	// Marks says when the track's highest ordinal grew (TTL queues).
	Marks []Checkpoint `json:"marks,omitempty"`
	// Ambiguous counts gap fills that could not be told from duplicates.
	Ambiguous uint64 `json:"ambiguous,omitempty"`
}

// State returns the account's tracks as a document (read it only once
// every consumer of the account stopped).
func (a *Account) State() []TrackState {
	var out []TrackState
	for id := range a.tracks {
		if t := a.tracks[id].Load(); t != nil {
			t.mu.Lock() // a consumer that did not stop in time may still record
			out = append(out, t.state(id))
			t.mu.Unlock()
		}
	}
	return out
}

func (t *Track) state(id int) TrackState {
	s := TrackState{Producer: id, Base: t.base, Consumed: t.counts[Consumed], Refused: t.counts[Refused],
		Left: t.counts[Left], DeadLettered: t.counts[DeadLettered], Duplicates: t.dups, Hi: t.hi,
		GapsCounted: slices.Clone(t.gaps.Counted()), Ambiguous: t.gaps.Ambiguous, Marks: slices.Clone(t.marks.Points)}
	s.Gaps.rs = slices.Clone(t.gaps.rs)
	s.Requeued.rs = slices.Clone(t.requeued.rs)
	if t.n > 0 {
		s.Window = Bits{Base: t.wbase, Words: make([]uint64, t.n)}
		for i := range s.Window.Words {
			s.Window.Words[i] = t.word(i)
		}
	}
	return s
}

// track rebuilds the track (never spilling: nothing records any more).
func (s TrackState) track() (*Track, error) {
	end := s.Window.Base + 64*uint64(len(s.Window.Words))
	switch {
	case s.Hi > maxMember || s.Base > s.Hi:
		return nil, fmt.Errorf("audit state: producer %d's track spans %d to %d", s.Producer, s.Base, s.Hi)
	case len(s.Window.Words) > 0 && (s.Window.Base%64 != 0 || s.Window.Base > s.Base || end > maxMember+64 || s.Base >= end):
		return nil, fmt.Errorf("audit state: producer %d's window (%d words from %d) does not hold its base %d", s.Producer, len(s.Window.Words), s.Window.Base, s.Base)
	}
	if g := s.Gaps.All(); len(g) > 0 && g[len(g)-1].To > s.Base {
		return nil, fmt.Errorf("audit state: producer %d's gaps reach past its base %d", s.Producer, s.Base)
	}
	t := newTrack(0, 0)
	t.base, t.gaps, t.dups, t.hi, t.requeued = s.Base, s.Gaps, s.Duplicates, s.Hi, s.Requeued
	t.gaps.Ambiguous = s.Ambiguous
	if err := t.gaps.setCounted(s.GapsCounted); err != nil {
		return nil, fmt.Errorf("audit state: producer %d's gaps: %w", s.Producer, err)
	}
	t.counts = [numClasses]uint64{Consumed: s.Consumed, Refused: s.Refused, Left: s.Left, DeadLettered: s.DeadLettered}
	t.marks.Points = s.Marks
	if n := len(s.Window.Words); n > 0 {
		t.grow(n)
		copy(t.ring, s.Window.Words)
		t.wbase, t.n = s.Window.Base, n
		t.top = t.wbase + 64*uint64(n-1) + uint64(64-bits.LeadingZeros64(t.ring[n-1]))
		if t.ring[n-1] == 0 {
			t.top = t.base
		}
		t.top = max(t.top, t.base)
	}
	return t, nil
}

// UnmarshalJSON reads a state; one of another version (an earlier
// mqbench's, whose layout differs) is kept as its version alone, so that
// the result holding it still loads and only reconciling or merging it is
// refused, saying why.
func (st *State) UnmarshalJSON(b []byte) error {
	var v struct {
		Version int `json:"version"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("audit state: %w", err)
	}
	if v.Version != StateVersion {
		*st = State{Version: v.Version}
		return nil
	}
	type plain State
	return json.Unmarshal(b, (*plain)(st))
}

// producers rebuilds the producers' sides by id.
func (st *State) producers() ([]*Producer, error) {
	prods := make([]*Producer, st.Producers)
	for i := range st.Publishers {
		p := &st.Publishers[i]
		if p.ID < 0 || p.ID >= st.Producers || prods[p.ID] != nil {
			return nil, fmt.Errorf("audit state: producer %d (of %d) is out of range or twice", p.ID, st.Producers)
		}
		for _, r := range []*Ranges{&p.Acked, &p.Received} {
			if all := r.All(); len(all) > 0 && all[len(all)-1].To > uint64(p.Published) {
				return nil, fmt.Errorf("audit state: producer %d has messages beyond the %d it published", p.ID, p.Published)
			}
		}
		pr := &Producer{Published: p.Published, Confirms: p.Confirms, Acked: p.Acked, Received: p.Received,
			Times: Checkpoints{Points: p.Times}}
		if err := pr.Acked.setCounted(p.AckedCounted); err != nil {
			return nil, fmt.Errorf("audit state: producer %d's confirms: %w", p.ID, err)
		}
		if err := pr.Received.setCounted(p.ReceivedCounted); err != nil {
			return nil, fmt.Errorf("audit state: producer %d's received: %w", p.ID, err)
		}
		prods[p.ID] = pr
	}
	return prods, nil
}

// Reconcile accounts for every account of the state, in the state's
// queue order; note says when a figure is approximate.
func (st *State) Reconcile() (out []Queue, note string, err error) {
	if err := st.check(); err != nil {
		return nil, "", err
	}
	prods, err := st.producers()
	if err != nil {
		return nil, "", err
	}
	var approx uint64
	for _, q := range st.Queues {
		if len(q.Routes) != st.Keys {
			return nil, "", fmt.Errorf("audit state: queue %s routes %d keys, not %d", q.Name, len(q.Routes), st.Keys)
		}
		pattern := NewPattern(q.Routes)
		for _, g := range q.Groups {
			acct := NewAccount(g.Name, pattern, st.Producers, Options{})
			for _, ts := range g.Tracks {
				if ts.Producer < 0 || ts.Producer >= st.Producers || acct.tracks[ts.Producer].Load() != nil {
					return nil, "", fmt.Errorf("audit state: %s has producer %d's track out of range or twice", g.Name, ts.Producer)
				}
				t, err := ts.track()
				if err != nil {
					return nil, "", err
				}
				acct.tracks[ts.Producer].Store(t)
			}
			var ev Evidence
			if g.End != nil {
				ev = *g.End
			}
			q, n := acct.Reconcile(prods, g.Consumers, ev)
			out, approx = append(out, q), approx+n
		}
	}
	if approx > 0 {
		note = fmt.Sprintf("approximate: %d messages were classified by count, their positions given up to keep the audit's memory bounded "+
			"(more than %d separate gaps in one producer's messages to one queue, or holes in its confirms); lost is the least the counts allow", approx, DefaultGapCap)
	}
	return out, note, nil
}

// Bounds of a state read from a file: a run has at most this many
// producers (scenario.MaxWorkers) and routing keys.
const (
	maxProducers = 100_000
	maxKeys      = 1 << 20
)

func (st *State) check() error {
	if st.Version != StateVersion {
		return fmt.Errorf("audit state version %d: this mqbench reads version %d (merge shards made by the same mqbench)", st.Version, StateVersion)
	}
	if st.Producers < 1 || st.Producers > maxProducers || st.Keys < 1 || st.Keys > maxKeys {
		return fmt.Errorf("audit state: %d producers and %d routing keys: want 1 to %d and 1 to %d", st.Producers, st.Keys, maxProducers, maxKeys)
	}
	return nil
}

// ConsumedFromOthers reports whether any account of the state received
// messages of a producer that own says is not this process's (in a
// sharded run: of another shard).
func (st *State) ConsumedFromOthers(own func(producer int) bool) bool {
	for _, q := range st.Queues {
		for _, g := range q.Groups {
			for _, t := range g.Tracks {
				if !own(t.Producer) {
					return true
				}
			}
		}
	}
	return false
}

// Merge combines the states of a sharded run's shards into the state of
// the whole run: the producers of all (each id once), and per account the
// union of every shard's tracks, with the end the owner read.
func Merge(states []*State) (*State, error) {
	if len(states) == 0 {
		return nil, fmt.Errorf("audit: no state to merge")
	}
	out := &State{Version: StateVersion, Producers: states[0].Producers, Keys: states[0].Keys}
	queues := map[int]*QueueState{}
	for si, st := range states {
		if err := st.check(); err != nil {
			return nil, fmt.Errorf("state %d: %w", si, err)
		}
		if st.Producers != out.Producers || st.Keys != out.Keys {
			return nil, fmt.Errorf("audit: state %d has %d producers and %d keys, state 0 %d and %d: not the same run",
				si, st.Producers, st.Keys, out.Producers, out.Keys)
		}
		out.Publishers = append(out.Publishers, st.Publishers...)
		out.Incomplete = out.Incomplete || st.Incomplete
		switch { // each shard's reason, once
		case out.Note == "":
			out.Note = st.Note
		case st.Note != "" && !strings.Contains(out.Note, st.Note):
			out.Note = out.Note + "; " + st.Note
		}
		for _, q := range st.Queues {
			if err := mergeQueue(queues, q); err != nil {
				return nil, err
			}
		}
	}
	for _, q := range queues {
		out.Queues = append(out.Queues, *q)
	}
	slices.SortFunc(out.Queues, func(a, b QueueState) int { return cmp.Compare(a.Index, b.Index) })
	return out, nil
}

func mergeQueue(queues map[int]*QueueState, q QueueState) error {
	m, ok := queues[q.Index]
	if !ok {
		m = &QueueState{Index: q.Index, Name: q.Name, Routes: q.Routes}
		queues[q.Index] = m
	}
	if m.Name != q.Name || !slices.Equal(m.Routes, q.Routes) {
		return fmt.Errorf("audit: queue %d is %s in one shard and %s in another, or routed differently: not the same run", q.Index, m.Name, q.Name)
	}
	for _, g := range q.Groups {
		i, found := slices.BinarySearchFunc(m.Groups, g.Name, func(e GroupState, name string) int { return strings.Compare(e.Name, name) })
		if !found {
			m.Groups = slices.Insert(m.Groups, i, GroupState{Name: g.Name})
		}
		dst := &m.Groups[i]
		dst.Consumers.Add(g.Consumers)
		if g.End != nil {
			if dst.End != nil {
				return fmt.Errorf("audit: two shards read what was left in %s: only the owner does", g.Name)
			}
			dst.End = g.End
		}
		for _, t := range g.Tracks {
			if err := mergeTrack(dst, t); err != nil {
				return err
			}
		}
	}
	return nil
}
