package scenario

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestChurnValidation: the churn section's defaults, and each bad value
// named by its field.
func TestChurnValidation(t *testing.T) {
	cases := []struct {
		name  string
		churn Churn
		field string // "" = valid
	}{
		{"none", Churn{}, ""},
		{"connections", Churn{ConnectionRate: 50}, ""},
		{"all three with messages", Churn{ConnectionRate: 5, ChannelRate: 10, QueueRate: 2, Concurrency: 50, Messages: 3}, ""},
		{"slowest rate", Churn{QueueRate: MinRate}, ""},
		{"negative connection rate", Churn{ConnectionRate: -1}, "churn.connection_rate"},
		{"NaN channel rate", Churn{ChannelRate: math.NaN()}, "churn.channel_rate"},
		{"queue rate too high", Churn{QueueRate: MaxChurnRate + 1}, "churn.queue_rate"},
		{"rate below the minimum", Churn{ConnectionRate: MinRate / 2}, "churn.connection_rate"},
		{"more connections at once than the bound", Churn{ConnectionRate: 50, Concurrency: MaxChurnConcurrency + 1}, "churn.concurrency"},
		{"negative concurrency", Churn{ConnectionRate: 50, Concurrency: -1}, "churn.concurrency"},
		{"concurrency without a rate", Churn{Concurrency: 4}, "churn.concurrency"},
		{"messages without a rate", Churn{Messages: 4}, "churn.messages"},
		{"too many messages", Churn{ChannelRate: 1, Messages: MaxChurnMessages + 1}, "churn.messages"},
		{"negative messages", Churn{ChannelRate: 1, Messages: -1}, "churn.messages"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sc := Default()
			sc.Churn = c.churn
			sc.Normalize()
			p := sc.Validate()
			if c.field == "" {
				if p != nil {
					t.Fatalf("rejected: %v", p)
				}
				if sc.Churn.Enabled() && sc.Churn.Concurrency == 0 {
					t.Errorf("concurrency left 0 with a rate: %+v", sc.Churn)
				}
				return
			}
			for _, e := range p {
				if e.Path == c.field {
					return
				}
			}
			t.Fatalf("problems %v do not name %s", p, c.field)
		})
	}
}

// TestChurnDefaults: a rate alone gets the default concurrency; no rate
// leaves the section empty, so results without churn do not carry it.
func TestChurnDefaults(t *testing.T) {
	sc := Default()
	sc.Churn.QueueRate = 3
	sc.Normalize()
	if sc.Churn.Concurrency != DefaultChurnConcurrency || sc.Churn.Kinds() != 1 {
		t.Errorf("churn %+v: want concurrency %d, one kind", sc.Churn, DefaultChurnConcurrency)
	}
	sc = Default()
	sc.Normalize()
	if sc.Churn != (Churn{}) {
		t.Errorf("no churn asked, got %+v", sc.Churn)
	}
}

// TestChurnFromFile: the section reads from YAML, and a bad value is
// reported at its line.
func TestChurnFromFile(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	_ = os.WriteFile(good, []byte("churn:\n  connection_rate: 50\n  channel_rate: 20\n  queue_rate: 5\n  concurrency: 10\n  messages: 2\n"), 0o644)
	sc, _, err := Load(good, Default())
	if err != nil {
		t.Fatal(err)
	}
	sc.Normalize()
	if p := sc.Validate(); p != nil {
		t.Fatal(p)
	}
	if want := (Churn{ConnectionRate: 50, ChannelRate: 20, QueueRate: 5, Concurrency: 10, Messages: 2}); sc.Churn != want {
		t.Errorf("churn %+v, want %+v", sc.Churn, want)
	}
	bad := filepath.Join(dir, "bad.yaml")
	_ = os.WriteFile(bad, []byte("duration: 10s\nchurn:\n  connection_rate: 50\n  concurrency: 500\n"), 0o644)
	sc, src, err := Load(bad, Default())
	if err != nil {
		t.Fatal(err)
	}
	sc.Normalize()
	msg := sc.Validate().Explain(src, nil)
	if !strings.Contains(msg, "bad.yaml:4: churn.concurrency = 500") {
		t.Errorf("error %q does not name the line and field", msg)
	}
}
