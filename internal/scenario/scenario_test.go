package scenario

import (
	"strings"
	"testing"
	"time"
)

func TestLoadGoodFile(t *testing.T) {
	sc, _, err := Load("testdata/good.yaml", Default())
	if err != nil {
		t.Fatal(err)
	}
	sc.Normalize()
	if p := sc.Validate(); p != nil {
		t.Fatalf("valid file rejected: %v", p)
	}
	if sc.Duration.D() != 30*time.Second || sc.Warmup.D() != 5*time.Second {
		t.Errorf("duration %v warmup %v", sc.Duration, sc.Warmup)
	}
	if sc.Producers.Count != 4 || sc.Producers.Rate != 100.5 || len(sc.Producers.RoutingKeys) != 2 {
		t.Errorf("producers %+v", sc.Producers)
	}
	if sc.Producers.Size != 32 || sc.Interval.D() != time.Second { // room for the whole stamp: audit on
		t.Errorf("defaults lost: size %d interval %v", sc.Producers.Size, sc.Interval)
	}
	if got := sc.QueueNames(); strings.Join(got, ",") != "q-1,q-2,q-3" {
		t.Errorf("queue names %v", got)
	}
	if v := Table(sc.Queues[0].Arguments)["x-max-length"]; v != int64(1000) {
		t.Errorf("x-max-length = %#v, want int64 1000", v)
	}
}

// TestLoadErrorsNameFileLineAndField checks that every bad file gets a
// message naming where and what.
func TestLoadErrorsNameFileLineAndField(t *testing.T) {
	cases := []struct {
		file string
		want []string
	}{
		{"testdata/unknown-field.yaml", []string{"testdata/unknown-field.yaml:4", "producers.rat", "unknown field", "docs/reference/scenario.md"}},
		{"testdata/wrong-type.yaml", []string{"testdata/wrong-type.yaml:4", "producers.rate", "fast"}},
		{"testdata/malformed.yaml", []string{"testdata/malformed.yaml"}},
		{"testdata/bad-duration.yaml", []string{"testdata/bad-duration.yaml:2", "duration", "soon"}},
		{"testdata/missing.yaml", []string{"testdata/missing.yaml", "no such file"}},
	}
	for _, c := range cases {
		t.Run(c.file, func(t *testing.T) {
			_, _, err := Load(c.file, Default())
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestValidationErrorNamesLine(t *testing.T) {
	sc, src, err := Load("testdata/multi-ack.yaml", Default())
	if err != nil {
		t.Fatal(err)
	}
	sc.Normalize()
	p := sc.Validate()
	if p == nil {
		t.Fatal("multi_ack_every above prefetch accepted")
	}
	msg := p.Explain(src, nil)
	for _, w := range []string{"testdata/multi-ack.yaml:5", "consumers.multi_ack_every", "100", "prefetch (10)"} {
		if !strings.Contains(msg, w) {
			t.Errorf("%q does not mention %q", msg, w)
		}
	}
	if msg := p.Explain(src, map[string]string{"consumers.multi_ack_every": "multi-ack-every"}); !strings.HasPrefix(msg, "--multi-ack-every = 100") {
		t.Errorf("a flag-set value should be blamed on the flag: %q", msg)
	}
}

func TestValidate(t *testing.T) {
	cases := []struct {
		name  string
		edit  func(*Scenario)
		field string // "" = valid
	}{
		{"default", func(*Scenario) {}, ""},
		{"body too small", func(s *Scenario) { s.Producers.Size = 11 }, "producers.size"},
		{"negative rate", func(s *Scenario) { s.Producers.Rate = -1 }, "producers.rate"},
		{"bad ack", func(s *Scenario) { s.Consumers.Ack = "sometimes" }, "consumers.ack"},
		{"multiple without interval", func(s *Scenario) { s.Consumers.Ack = AckMultiple }, "consumers.multi_ack_every"},
		{"multiple above prefetch", func(s *Scenario) {
			s.Consumers.Ack, s.Consumers.MultiAckEvery, s.Consumers.Prefetch = AckMultiple, 20, 10
		}, "consumers.multi_ack_every"},
		{"multiple with unlimited prefetch", func(s *Scenario) { s.Consumers.Ack, s.Consumers.MultiAckEvery = AckMultiple, 20 }, ""},
		{"multi ack with manual", func(s *Scenario) { s.Consumers.MultiAckEvery = 5 }, "consumers.multi_ack_every"},
		{"prefetch too big", func(s *Scenario) { s.Consumers.Prefetch = 70000 }, "consumers.prefetch"},
		{"bad exchange type", func(s *Scenario) { s.Exchange = Exchange{Name: "x", Type: "fan"} }, "exchange.type"},
		{"default exchange as fanout", func(s *Scenario) { s.Exchange.Type = "fanout" }, "exchange.type"},
		{"bad queue type", func(s *Scenario) { s.Queues[0].Type = "lazy" }, "queues[0].type"},
		{"server-named quorum", func(s *Scenario) { s.Queues[0].Type = QueueQuorum }, "queues[0].name"},
		{"exclusive quorum", func(s *Scenario) { s.Queues[0] = Queue{Name: "q", Type: QueueQuorum, Exclusive: true} }, "queues[0].exclusive"},
		{"stream with auto ack", func(s *Scenario) {
			s.Queues[0] = Queue{Name: "s", Type: QueueStream}
			s.Consumers.Ack, s.Consumers.Prefetch = AckAuto, 10
		}, "consumers.ack"},
		{"stream without prefetch", func(s *Scenario) { s.Queues[0] = Queue{Name: "s", Type: QueueStream} }, "consumers.prefetch"},
		{"warmup not shorter than duration", func(s *Scenario) { s.Duration, s.Warmup = Duration(time.Second), Duration(time.Second) }, "warmup"},
		{"bad url", func(s *Scenario) { s.URL = "http://localhost" }, "url"},
		{"too many channels", func(s *Scenario) { s.Producers.Count, s.Producers.Connections = 3000, 1 }, "producers.connections"},
		{"exclusive queue over two connections", func(s *Scenario) {
			s.Consumers.Count = 2
			s.Queues[0].Exclusive = true
		}, "consumers.connections"},
		{"exclusive queue on one connection", func(s *Scenario) {
			s.Consumers.Count, s.Consumers.Connections = 2, 1
			s.Queues[0].Exclusive = true
		}, ""},
		{"duplicate queue names", func(s *Scenario) { s.Queues = []Queue{{Name: "a"}, {Name: "a"}} }, "queues[1].name"},
		{"bad header value", func(s *Scenario) { s.Producers.Headers = map[string]any{"k": []any{1}} }, "producers.headers.k"},
		{"bindings on the default exchange", func(s *Scenario) { s.Queues[0].Bindings = []Binding{{Key: "k"}} }, "queues.bindings"},
		{"paced body too small", func(s *Scenario) { s.Producers.Rate, s.Producers.Size = 10, 16 }, "producers.size"},
		{"paced default size", func(s *Scenario) { s.Producers.Rate = 10 }, ""},
		{"rate and total rate", func(s *Scenario) { s.Producers.Rate, s.Producers.TotalRate = 10, 100 }, "producers.total_rate"},
		{"schedule and rate", func(s *Scenario) {
			r := 5.0
			s.Producers.Rate, s.Producers.Schedule = 10, []RateStep{{Rate: &r, For: Duration(time.Second)}}
		}, "producers.schedule"},
		{"schedule step without a shape", func(s *Scenario) {
			s.Producers.Schedule = []RateStep{{For: Duration(time.Second)}}
		}, "producers.schedule[0]"},
		{"ramp without an end", func(s *Scenario) {
			r := 5.0
			s.Producers.Schedule = []RateStep{{From: &r, For: Duration(time.Second)}}
		}, "producers.schedule[0]"},
		{"step without duration before the last", func(s *Scenario) {
			r := 5.0
			s.Producers.Schedule = []RateStep{{Rate: &r}, {Rate: &r, For: Duration(time.Second)}}
		}, "producers.schedule[0].for"},
		{"uniform sizes", func(s *Scenario) {
			s.Producers.SizeDistribution = &SizeDistribution{Type: SizeUniform, Min: 12, Max: 4096}
		}, ""},
		{"uniform min above max", func(s *Scenario) {
			s.Producers.SizeDistribution = &SizeDistribution{Type: SizeUniform, Min: 100, Max: 12}
		}, "producers.size_distribution"},
		{"weighted size too small", func(s *Scenario) {
			s.Producers.SizeDistribution = &SizeDistribution{Type: SizeWeighted, Sizes: []WeightSize{{Size: 8, Weight: 1}, {Size: 100, Weight: 2}}}
		}, "producers.size_distribution"},
		{"unknown size distribution", func(s *Scenario) { s.Producers.SizeDistribution = &SizeDistribution{Type: "pareto"} }, "producers.size_distribution.type"},
		{"rpc valid", func(s *Scenario) { s.RPC.Clients, s.RPC.Servers = 2, 1 }, ""},
		{"rpc concurrency 0", func(s *Scenario) { s.RPC.Clients, s.RPC.Concurrency = 1, 0 }, "rpc.concurrency"},
		{"rpc timeout 0", func(s *Scenario) { s.RPC.Clients, s.RPC.Timeout = 1, 0 }, "rpc.timeout"},
		{"rpc bad reply mode", func(s *Scenario) { s.RPC.Clients, s.RPC.ReplyMode = 1, "queue" }, "rpc.reply_mode"},
		{"rpc direct with manual reply acks", func(s *Scenario) {
			s.RPC.Clients, s.RPC.ReplyMode, s.RPC.ReplyAck = 1, ReplyDirect, AckManual
		}, "rpc.reply_mode"},
		{"rpc direct with reply prefetch", func(s *Scenario) {
			s.RPC.Clients, s.RPC.ReplyMode, s.RPC.ReplyPrefetch = 1, ReplyDirect, 10
		}, "rpc.reply_mode"},
		{"rpc server concurrency 0", func(s *Scenario) { s.RPC.Servers, s.RPC.ServerConcurrency = 1, 0 }, "rpc.server_concurrency"},
		{"rpc missing body file", func(s *Scenario) { s.RPC.Clients, s.RPC.Body = 1, "testdata/no-such-body" }, "rpc.body"},
		{"rpc uniform min above max", func(s *Scenario) {
			s.RPC.Servers, s.RPC.ServerDelay = 1, Delay{Distribution: DelayUniform, Min: 5, Max: 1}
		}, "rpc.server_delay"},
		{"rpc unknown distribution", func(s *Scenario) {
			s.RPC.Servers, s.RPC.ServerDelay = 1, Delay{Distribution: "pareto"}
		}, "rpc.server_delay.distribution"},
		{"rpc concurrency over the correlation id's slot bits", func(s *Scenario) { s.RPC.Clients, s.RPC.Concurrency = 1, 70000 }, "rpc.concurrency"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sc := Default()
			c.edit(&sc)
			sc.Normalize()
			p := sc.Validate()
			if c.field == "" {
				if p != nil {
					t.Fatalf("rejected: %v", p)
				}
				return
			}
			found := false
			for _, e := range p {
				found = found || e.Path == c.field
			}
			if !found {
				t.Fatalf("problems %v do not name %s", p, c.field)
			}
		})
	}
}

func TestLoadRPCDelayForms(t *testing.T) {
	sc, _, err := Load("testdata/rpc.yaml", Default())
	if err != nil {
		t.Fatal(err)
	}
	if d := sc.RPC.ServerDelay; d.Distribution != DelayExponential || d.Mean.D() != 3*time.Millisecond {
		t.Errorf("server_delay %+v", d)
	}
	sc, _, err = Load("testdata/rpc-fixed.yaml", Default())
	if err != nil {
		t.Fatal(err)
	}
	if d := sc.RPC.ServerDelay; d.Distribution != DelayFixed || d.Mean.D() != 7*time.Millisecond {
		t.Errorf("server_delay %+v", d)
	}
	if sc.RPC.Timeout.D() != 5*time.Second || sc.RPC.ReplyMode != ReplyExclusive {
		t.Errorf("RPC defaults lost: %+v", sc.RPC)
	}
}

func TestNormalizeMakesQuorumDurable(t *testing.T) {
	sc := Default()
	sc.Queues = []Queue{{Name: "q", Type: QueueQuorum}}
	sc.Normalize()
	if !sc.Queues[0].Durable || sc.Queues[0].Count != 1 {
		t.Fatalf("queue %+v", sc.Queues[0])
	}
}

func TestQueueNames(t *testing.T) {
	cases := []struct {
		q    Queue
		want string
	}{
		{Queue{Name: "q"}, "q"},
		{Queue{Name: "q", Count: 2}, "q-1,q-2"},
		{Queue{Name: "perf-%d-x", Count: 3}, "perf-1-x,perf-2-x,perf-3-x"},
		{Queue{Count: 2}, ","},
	}
	for _, c := range cases {
		if got := strings.Join(c.q.Names(), ","); got != c.want {
			t.Errorf("%+v.Names() = %q, want %q", c.q, got, c.want)
		}
	}
}

func TestParseDuration(t *testing.T) {
	cases := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"30s", 30 * time.Second, true},
		{"1m30s", 90 * time.Second, true},
		{"250ms", 250 * time.Millisecond, true},
		{"10", 10 * time.Second, true},
		{"0.5", 500 * time.Millisecond, true},
		{"soon", 0, false},
	}
	for _, c := range cases {
		d, err := ParseDuration(c.in)
		if (err == nil) != c.ok || (c.ok && d.D() != c.want) {
			t.Errorf("ParseDuration(%q) = %v, %v", c.in, d, err)
		}
	}
}

func TestConnectionOf(t *testing.T) {
	cases := []struct{ i, count, conns, want int }{
		{0, 4, 0, 0}, {3, 4, 0, 3}, {3, 4, 2, 1}, {2, 4, 2, 0}, {5, 100, 10, 5}, {15, 100, 10, 5}, {1, 2, 5, 1},
	}
	for _, c := range cases {
		if got := ConnectionOf(c.i, c.count, c.conns); got != c.want {
			t.Errorf("ConnectionOf(%d, %d, %d) = %d, want %d", c.i, c.count, c.conns, got, c.want)
		}
	}
	if ConnectionCount(100, 10) != 10 || ConnectionCount(3, 0) != 3 || ConnectionCount(2, 5) != 2 {
		t.Error("ConnectionCount")
	}
}

func TestMaskURL(t *testing.T) {
	cases := map[string]string{
		"amqp://guest:secret@localhost:5672/": "amqp://guest:xxxxx@localhost:5672/",
		"amqp://localhost/vh":                 "amqp://localhost/vh",
		"amqp://u:p%zz@host/":                 "(unparseable URL)",
	}
	for in, want := range cases {
		if got := MaskURL(in); got != want {
			t.Errorf("MaskURL(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLoadShape(t *testing.T) {
	sc, _, err := Load("testdata/shape.yaml", Default())
	if err != nil {
		t.Fatal(err)
	}
	sc.Normalize()
	if p := sc.Validate(); p != nil {
		t.Fatal(p)
	}
	p := sc.Producers
	if !p.Paced() || p.MaxSize() != 4096 || p.StartJitter.D() != 500*time.Millisecond {
		t.Fatalf("producers %+v", p)
	}
	s := p.PaceSchedule()
	if r := s.RateAt(45 * time.Second); r < 2999 || r > 3001 {
		t.Fatalf("rate at 45s = %v, want 3000 (halfway up the ramp)", r)
	}
	total := Producers{Count: 4, TotalRate: 1000}
	if total.PerProducerRate() != 250 {
		t.Fatal("total rate is not spread over the producers")
	}
}
