package pace

import (
	"testing"
	"time"
)

const ms = time.Millisecond

func TestDue(t *testing.T) {
	cases := []struct {
		name string
		s    *Schedule
		k    int64
		want time.Duration
		ok   bool
	}{
		{"constant first", Constant(100), 0, 0, true},
		{"constant", Constant(100), 250, 2500 * ms, true},
		{"zero rate", Constant(0), 1, 0, false},
		{"step 1st segment", New([]Segment{{10, 10, time.Second}, {100, 100, time.Second}}), 5, 500 * ms, true},
		{"step boundary", New([]Segment{{10, 10, time.Second}, {100, 100, time.Second}}), 10, time.Second, true},
		{"step 2nd segment", New([]Segment{{10, 10, time.Second}, {100, 100, time.Second}}), 60, 1500 * ms, true},
		{"after the last segment", New([]Segment{{10, 10, time.Second}, {100, 100, time.Second}}), 210, 3 * time.Second, true},
		{"pause then rate", New([]Segment{{0, 0, time.Second}, {10, 10, time.Second}}), 0, time.Second, true},
		// Ramp 0→100 over 2s: n(t) = 25t², so message 25 is due at 1s and 100 at 2s.
		{"ramp middle", New([]Segment{{0, 100, 2 * time.Second}}), 25, time.Second, true},
		{"ramp end", New([]Segment{{0, 100, 2 * time.Second}}), 100, 2 * time.Second, true},
		{"ramp then hold", New([]Segment{{0, 100, 2 * time.Second}}), 150, 2500 * ms, true},
		{"ramp down to zero stops", New([]Segment{{100, 0, 2 * time.Second}}), 100, 0, false},
		{"ramp down", New([]Segment{{100, 0, 2 * time.Second}}), 75, time.Second, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok := c.s.Due(c.k)
			if ok != c.ok || (ok && (got-c.want > time.Microsecond || c.want-got > time.Microsecond)) {
				t.Fatalf("Due(%d) = %v, %v; want %v, %v", c.k, got, ok, c.want, c.ok)
			}
		})
	}
}

// TestNeverAheadNeverBurstsBeyondSchedule: after a stall the pacer releases
// only the messages already due, and none ahead of time.
func TestNeverAheadNeverBurstsBeyondSchedule(t *testing.T) {
	s := Constant(1000) // one per ms
	cases := []struct {
		elapsed time.Duration
		sent    int64
		wait    time.Duration
	}{
		{0, 0, 0},
		{0, 1, ms},
		{500 * time.Microsecond, 1, 500 * time.Microsecond},
		{100 * ms, 50, 0},   // 50 behind after a stall: due now
		{100 * ms, 100, 0},  // message 100 is due exactly now
		{100 * ms, 101, ms}, // caught up: no message before its time
	}
	for _, c := range cases {
		w, stop := s.Wait(c.elapsed, c.sent)
		if stop || w != c.wait {
			t.Errorf("Wait(%v, %d) = %v, %v; want %v", c.elapsed, c.sent, w, stop, c.wait)
		}
	}
	// Every message's due time is non-decreasing and consistent with the rate.
	prev := time.Duration(-1)
	for k := int64(0); k < 5000; k++ {
		d, _ := New([]Segment{{1000, 5000, time.Second}, {5000, 5000, time.Second}}).Due(k)
		if d < prev {
			t.Fatalf("message %d due at %v, before message %d at %v", k, d, k-1, prev)
		}
		prev = d
	}
}

func TestRateAt(t *testing.T) {
	s := New([]Segment{{1000, 1000, 30 * time.Second}, {1000, 5000, 10 * time.Second}})
	for _, c := range []struct {
		t    time.Duration
		want float64
	}{{0, 1000}, {29 * time.Second, 1000}, {35 * time.Second, 3000}, {time.Minute, 5000}} {
		if got := s.RateAt(c.t); got < c.want-0.001 || got > c.want+0.001 {
			t.Errorf("RateAt(%v) = %v, want %v", c.t, got, c.want)
		}
	}
}

func TestMaxRate(t *testing.T) {
	for _, c := range []struct {
		name string
		s    *Schedule
		want float64
	}{
		{"constant", Constant(40), 40},
		{"ramp up, then held", New([]Segment{{10, 500, time.Minute}, {500, 500, 0}}), 500},
		{"burst inside, lower after", New([]Segment{{10, 10, time.Minute}, {900, 900, time.Second}, {20, 20, 0}}), 900},
		{"ramp down to a pause", New([]Segment{{300, 0, time.Minute}, {0, 0, 0}}), 300},
	} {
		if got := c.s.MaxRate(); got != c.want {
			t.Errorf("%s: MaxRate = %v, want %v", c.name, got, c.want)
		}
	}
}

func BenchmarkDue(b *testing.B) {
	s := New([]Segment{{1000, 1000, 30 * time.Second}, {1000, 5000, 30 * time.Second}})
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		s.Due(int64(i % 100000))
	}
}
