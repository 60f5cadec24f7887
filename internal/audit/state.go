package audit

import (
	"cmp"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// State is an audit before reconciliation: every bit Reconcile reads.
// One process builds it from its workers; the shards of a sharded run
// each write theirs into their result, and merging the shards' states
// (Merge) and reconciling gives exactly the audit one process running
// the whole scenario would have made — no figure is summed from partial
// accounts, which could not tell a message consumed in another shard from
// a lost one.
type State struct {
	// Producers is the number of producers in the whole run; producer ids
	// are global, 0..Producers-1.
	Producers int `json:"producers"`
	// Publishers are the producers this state holds (by id).
	Publishers []ProducerState `json:"publishers"`
	// Keys is the number of routing keys the producers cycle through; a
	// queue's Routes say which key indexes route to it.
	Keys   int          `json:"keys"`
	Queues []QueueState `json:"queues"`
	// Note and Incomplete carry what made the audit partial (a consumer
	// that did not stop in time, stream offsets that owe an unknown part).
	Note       string `json:"note,omitempty"`
	Incomplete bool   `json:"incomplete,omitempty"`
}

// ProducerState is one producer's side.
type ProducerState struct {
	ID        int    `json:"id"`
	Published uint32 `json:"published"`
	Confirms  bool   `json:"confirms"`
	Acked     Bitset `json:"acked"`
}

// QueueState is one audited queue: where messages were routed, and every
// account of it (a queue's competing consumers together, or each reader
// of a stream).
type QueueState struct {
	Index  int          `json:"index"`
	Name   string       `json:"name"`
	Routes []bool       `json:"routes"` // by routing key index
	Groups []GroupState `json:"groups"`
}

// GroupState is one account: its consumers' views and, from the process
// that read the queue at the end, what was left in it.
type GroupState struct {
	Name      string          `json:"name"`
	Consumers []ConsumerState `json:"consumers"`
	End       *EndState       `json:"end,omitempty"`
}

// EndState is an End in a document.
type EndState struct {
	Swept      *ConsumerState `json:"swept,omitempty"`
	Depth      int64          `json:"depth"`
	DropReason string         `json:"drop_reason,omitempty"`
}

// ConsumerState is a Consumer in a document.
type ConsumerState struct {
	Duplicates  int64       `json:"duplicates"`
	Redelivered int64       `json:"redelivered"`
	OutOfOrder  int64       `json:"out_of_order"`
	Foreign     int64       `json:"foreign"`
	Seen        []SeenState `json:"seen"`
}

// SeenState is what a consumer received from one producer.
type SeenState struct {
	Producer int    `json:"producer"`
	Set      Bitset `json:"set"`
	Refused  Bitset `json:"refused"`
	Last     int64  `json:"last"`
}

// State returns the consumer's view (sharing its bitsets: read it only
// once the consumer has stopped).
func (c *Consumer) State() ConsumerState {
	s := ConsumerState{Duplicates: c.Duplicates, Redelivered: c.Redelivered, OutOfOrder: c.OutOfOrder, Foreign: c.Foreign}
	add := func(id int, v *seen) {
		if v.last >= 0 || v.refused.Count() > 0 {
			s.Seen = append(s.Seen, SeenState{Producer: id, Set: v.set, Refused: v.refused, Last: v.last})
		}
	}
	for id := range c.dense {
		add(id, &c.dense[id])
	}
	ids := make([]int, 0, len(c.sparse))
	for id := range c.sparse {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		add(id, c.sparse[id])
	}
	return s
}

// consumer rebuilds a Consumer of producers producers from its state; a
// producer id out of range is an error (the state is not of this run).
func (s ConsumerState) consumer(producers int) (*Consumer, error) {
	c := NewConsumer(producers)
	c.Duplicates, c.Redelivered, c.OutOfOrder, c.Foreign = s.Duplicates, s.Redelivered, s.OutOfOrder, s.Foreign
	for _, v := range s.Seen {
		if v.Producer < 0 || v.Producer >= producers {
			return nil, fmt.Errorf("audit state: producer %d of %d", v.Producer, producers)
		}
		dst := c.get(v.Producer)
		dst.set, dst.refused, dst.last = v.Set, v.Refused, v.Last
	}
	return c, nil
}

// Reconcile accounts for every queue of the state, as Reconcile does for
// one, in the state's queue order; keyIndex says which routing key (by
// index) producer id used for message seq.
func (st *State) Reconcile(keyIndex func(id int, seq uint32) int) ([]Queue, error) {
	if st.Producers < 1 || st.Producers > maxProducers || st.Keys < 1 || st.Keys > maxKeys {
		return nil, fmt.Errorf("audit state: %d producers and %d routing keys: want 1 to %d and 1 to %d", st.Producers, st.Keys, maxProducers, maxKeys)
	}
	prods := make([]*Producer, st.Producers)
	for i := range st.Publishers {
		p := &st.Publishers[i]
		if p.ID < 0 || p.ID >= st.Producers || prods[p.ID] != nil {
			return nil, fmt.Errorf("audit state: producer %d (of %d) is out of range or twice", p.ID, st.Producers)
		}
		if p.Acked.CountFrom(p.Published) > 0 {
			return nil, fmt.Errorf("audit state: producer %d has confirms of messages beyond the %d it published", p.ID, p.Published)
		}
		prods[p.ID] = &Producer{Published: p.Published, Acked: p.Acked, Confirms: p.Confirms}
	}
	var out []Queue
	for _, q := range st.Queues {
		if len(q.Routes) != st.Keys {
			return nil, fmt.Errorf("audit state: queue %s routes %d keys, not %d", q.Name, len(q.Routes), st.Keys)
		}
		routes := q.Routes
		routed := func(id int, seq uint32) bool { return routes[keyIndex(id, seq)] }
		for _, g := range q.Groups {
			cs := make([]*Consumer, 0, len(g.Consumers))
			for _, s := range g.Consumers {
				c, err := s.consumer(st.Producers)
				if err != nil {
					return nil, err
				}
				cs = append(cs, c)
			}
			var end End
			if g.End != nil {
				end.Depth, end.DropReason = g.End.Depth, g.End.DropReason
				if g.End.Swept != nil {
					var err error
					if end.Swept, err = g.End.Swept.consumer(st.Producers); err != nil {
						return nil, err
					}
				}
			}
			out = append(out, Reconcile(g.Name, prods, routed, cs, end))
		}
	}
	return out, nil
}

// ConsumedFromOthers reports whether any consumer of the state received
// messages of a producer that own says is not this process's (in a
// sharded run: of another shard).
func (st *State) ConsumedFromOthers(own func(producer int) bool) bool {
	for _, q := range st.Queues {
		for _, g := range q.Groups {
			for _, c := range g.Consumers {
				for _, s := range c.Seen {
					if !own(s.Producer) {
						return true
					}
				}
			}
		}
	}
	return false
}

// Bounds of a state read from a file: a run has at most this many
// producers (scenario.MaxWorkers) and routing keys.
const (
	maxProducers = 100_000
	maxKeys      = 1 << 20
)

// Merge combines the states of a sharded run's shards into the state of
// the whole run: the producers of all (each id once), and per queue every
// shard's consumers in the same accounts, with the end the owner read.
func Merge(states []*State) (*State, error) {
	if len(states) == 0 {
		return nil, fmt.Errorf("audit: no state to merge")
	}
	out := &State{Producers: states[0].Producers, Keys: states[0].Keys}
	queues := map[int]*QueueState{}
	for si, st := range states {
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
			out.Note = joinReasons(out.Note, st.Note)
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
		dst.Consumers = append(dst.Consumers, g.Consumers...)
		if g.End != nil {
			if dst.End != nil {
				return fmt.Errorf("audit: two shards read what was left in %s: only the owner does", g.Name)
			}
			dst.End = g.End
		}
	}
	return nil
}

// MarshalJSON writes the set compactly: base64 of the lengths of its
// alternating runs of absent and present members (unsigned varints,
// starting with absent ones). A run's messages are mostly consecutive,
// so a million-message set is a few bytes.
func (b Bitset) MarshalJSON() ([]byte, error) {
	var buf []byte
	var run uint64
	cur := false
	for _, w := range b.words {
		if (w == 0 && !cur) || (w == ^uint64(0) && cur) { // a whole word continues the run
			run += 64
			continue
		}
		for i := 0; i < 64; i++ {
			if has := w&(1<<i) != 0; has != cur {
				buf = binary.AppendUvarint(buf, run)
				run, cur = 0, has
			}
			run++
		}
	}
	if cur { // trailing absent members are implied
		buf = binary.AppendUvarint(buf, run)
	}
	return json.Marshal(base64.StdEncoding.EncodeToString(buf))
}

// UnmarshalJSON reads what MarshalJSON wrote.
func (b *Bitset) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("bitset: %w", err)
	}
	buf, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return fmt.Errorf("bitset: %w", err)
	}
	*b = Bitset{}
	var pos uint64
	present := false
	for off := 0; off < len(buf); {
		run, n := binary.Uvarint(buf[off:])
		if n <= 0 || run > 1<<32 || pos+run > 1<<32 {
			return fmt.Errorf("bitset: bad run at byte %d", off)
		}
		off += n
		if present {
			b.setRange(uint32(pos), pos+run)
		}
		pos += run
		present = !present
	}
	return nil
}

// setRange adds members from..to-1, a word at a time.
func (b *Bitset) setRange(from uint32, to uint64) {
	if to == uint64(from) {
		return
	}
	b.Set(uint32(to - 1)) // grows once
	for i := uint64(from); i < to; {
		if i%64 == 0 && to-i >= 64 {
			b.words[i/64] = ^uint64(0)
			i += 64
			continue
		}
		b.words[i/64] |= 1 << (i % 64)
		i++
	}
}
