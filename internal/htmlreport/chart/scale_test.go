package chart

import (
	"math"
	"strings"
	"testing"
)

func near(a, b float64) bool { return math.Abs(a-b) < 1e-6*max(1, math.Abs(b)) }

func labels(ts []Tick) string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.Label
	}
	return strings.Join(out, " ")
}

func TestHTMLNiceStep(t *testing.T) {
	cases := []struct {
		span float64
		n    int
		want float64
	}{
		{10, 5, 2}, {100, 5, 20}, {950, 5, 200}, {1, 4, 0.5}, {12, 8, 2}, {7, 7, 1}, {0, 5, 1}, {30, 3, 10},
	}
	for _, c := range cases {
		if got := niceStep(c.span, c.n); !near(got, c.want) {
			t.Errorf("niceStep(%g, %d) = %g, want %g", c.span, c.n, got, c.want)
		}
	}
}

func TestHTMLLinearTicks(t *testing.T) {
	cases := []struct {
		lo, hi   float64
		n        int
		dlo, dhi float64
		want     string
	}{
		{0, 950, 5, 0, 1000, "0 200 400 600 800 1k"},
		{0, 12, 8, 0, 12, "0s 2s 4s 6s 8s 10s 12s"},
		{0, 23400, 5, 0, 25000, "0 5k 10k 15k 20k 25k"},
		{0, 0.3, 3, 0, 0.3, "0 0.1 0.2 0.3"},
		{0, 0, 5, 0, 1, "0 0.2 0.4 0.6 0.8 1"}, // no data still has an axis
		{5, 5, 5, 5, 10, "5 6 7 8 9 10"},       // a flat line gets a range
	}
	for _, c := range cases {
		format := RateLabel
		if c.want[len(c.want)-1] == 's' {
			format = SecondsLabel
		}
		dlo, dhi, ts := LinearTicks(c.lo, c.hi, c.n, format)
		if !near(dlo, c.dlo) || !near(dhi, c.dhi) || labels(ts) != c.want {
			t.Errorf("LinearTicks(%g, %g) = [%g, %g] %q, want [%g, %g] %q", c.lo, c.hi, dlo, dhi, labels(ts), c.dlo, c.dhi, c.want)
		}
	}
}

func TestHTMLLogTicks(t *testing.T) {
	cases := []struct {
		lo, hi   float64
		dlo, dhi float64
		want     string
	}{
		// within three decades every 1-2-5 value is labelled
		{800, 1200, 500, 2000, "500µs 1ms 2ms"},
		{300, 48000, 200, 50000, "200µs 500µs 1ms 2ms 5ms 10ms 20ms 50ms"},
		// beyond, only the decades
		{3, 4_000_000, 2, 5_000_000, "10µs 100µs 1ms 10ms 100ms 1s"},
		// zero (a 0µs minimum) is taken as the histograms' 1µs
		{0, 90, 1, 100, "1µs 2µs 5µs 10µs 20µs 50µs 100µs"},
		// one value on the sequence gets room above it
		{1000, 1000, 1000, 2000, "1ms 2ms"},
	}
	for _, c := range cases {
		dlo, dhi, ts := LogTicks(c.lo, c.hi, MicrosLabel)
		if !near(dlo, c.dlo) || !near(dhi, c.dhi) || labels(ts) != c.want {
			t.Errorf("LogTicks(%g, %g) = [%g, %g] %q, want [%g, %g] %q", c.lo, c.hi, dlo, dhi, labels(ts), c.dlo, c.dhi, c.want)
		}
	}
}

func TestHTMLScale(t *testing.T) {
	lin := Scale{Lo: 0, Hi: 100, R0: 50, R1: 850}
	log := Scale{Lo: 10, Hi: 10000, R0: 300, R1: 0, Log: true}
	cases := []struct {
		name      string
		got, want float64
	}{
		{"linear low end", lin.At(0), 50}, {"linear high end", lin.At(100), 850}, {"linear middle", lin.At(25), 250},
		{"log low end", log.At(10), 300}, {"log one decade up", log.At(100), 200}, {"log top", log.At(10000), 0},
		{"log clamps zero to the bottom", log.At(0), 300},
		{"empty domain is the middle", Scale{Lo: 5, Hi: 5, R0: 0, R1: 100}.At(5), 50},
	}
	for _, c := range cases {
		if !near(c.got, c.want) {
			t.Errorf("%s: %g, want %g", c.name, c.got, c.want)
		}
	}
}

// TestHTMLNinesAxis: each nine is one unit of x, and labels say which.
func TestHTMLNinesAxis(t *testing.T) {
	cases := []struct {
		q, x  float64
		label string
	}{
		{0, 0, "0%"}, {0.9, 1, "90%"}, {0.99, 2, "99%"}, {0.999, 3, "99.9%"}, {0.9999, 4, "99.99%"},
		{0.99999, 5, "99.999%"}, {0.999999, 6, "99.9999%"},
	}
	for _, c := range cases {
		if got := NinesX(c.q); !near(got, c.x) {
			t.Errorf("NinesX(%g) = %g, want %g", c.q, got, c.x)
		}
		if got := NinesPercentile(c.x); !near(got, c.q*100) {
			t.Errorf("NinesPercentile(%g) = %g, want %g", c.x, got, c.q*100)
		}
		if got := ninesLabel(int(c.x)); got != c.label {
			t.Errorf("ninesLabel(%g) = %q, want %q", c.x, got, c.label)
		}
	}
	if got := NinesX(0.5); !near(got, math.Log10(2)) {
		t.Errorf("the median sits at log10(2), got %g", got)
	}
	if got := labels(NinesTicks(3)); got != "0% 90% 99% 99.9%" {
		t.Errorf("NinesTicks(3) = %q", got)
	}
}

func TestHTMLTickFormats(t *testing.T) {
	cases := []struct{ got, want string }{
		{MicrosLabel(1), "1µs"}, {MicrosLabel(500), "500µs"}, {MicrosLabel(1000), "1ms"}, {MicrosLabel(2500), "2.5ms"},
		{MicrosLabel(123456), "123ms"}, {MicrosLabel(1e6), "1s"}, {MicrosLabel(6.4e6), "6.4s"}, {MicrosLabel(3.6e9), "3600s"},
		{RateLabel(0), "0"}, {RateLabel(950), "950"}, {RateLabel(1000), "1k"}, {RateLabel(12500), "12.5k"},
		{RateLabel(1.5e6), "1.5M"}, {RateLabel(2e9), "2G"}, {SecondsLabel(0), "0s"}, {SecondsLabel(2.5), "2.5s"},
		{SecondsLabel(1200), "1200s"}, {TrimmedSig3(0.1 + 0.2), "0.3"}, {TrimmedSig3(12.345), "12.3"},
		{Num(1.26), "1.3"}, {Num(1.24), "1.2"}, {Num(10.0), "10"}, {Num(-0.01), "0"}, {Num(299.96), "300"},
	}
	for i, c := range cases {
		if c.got != c.want {
			t.Errorf("case %d: %q, want %q", i, c.got, c.want)
		}
	}
}
