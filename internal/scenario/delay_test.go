package scenario

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// TestDelayDraws draws each distribution 200,000 times and compares the
// sample's mean and quantiles with the distribution's. The tolerance, 2%,
// is over three standard errors of the worst of them: the exponential's
// p99, whose standard error at this n is sqrt(q(1-q)/n)/f(x_q) = 2.2% of
// the mean, 0.5% of the p99 itself (the log-normal's at sigma 0.5 is
// smaller). A wrong parameter (a median taken for the mean, sigma² for
// sigma, a rate for a mean) is off by 12% or more.
func TestDelayDraws(t *testing.T) {
	ms := Duration(time.Millisecond)
	for _, d := range []Delay{
		{Distribution: DelayFixed, Mean: 5 * ms},
		{Distribution: DelayUniform, Min: ms, Max: 9 * ms},
		{Distribution: DelayExponential, Mean: 5 * ms},
		{Distribution: DelayLogNormal, Mean: 5 * ms, Sigma: 0.5},
	} {
		t.Run(d.Distribution, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, 2))
			const n = 200_000
			draws := make([]float64, n)
			var sum float64
			for i := range draws {
				draws[i] = float64(d.Draw(rng))
				sum += draws[i]
			}
			slices.Sort(draws)
			near(t, "mean", sum/n, float64(d.Average()))
			for _, q := range []float64{0.5, 0.9, 0.99} {
				near(t, "quantile", draws[int(q*n)], float64(d.Quantile(q)))
			}
		})
	}
}

func near(t *testing.T, what string, got, want float64) {
	t.Helper()
	if math.Abs(got-want) > 0.02*want {
		t.Errorf("%s %v, want %v ±2%%", what, time.Duration(got), time.Duration(want))
	}
}

// TestLogNormalTailIsCapped: a draw never exceeds MaxDuration.
func TestLogNormalTailIsCapped(t *testing.T) {
	d := Delay{Distribution: DelayLogNormal, Mean: Duration(MaxDuration), Sigma: MaxDelaySigma}
	rng := rand.New(rand.NewPCG(3, 4))
	for range 10_000 {
		if v := d.Draw(rng); v < 0 || v > MaxDuration {
			t.Fatalf("draw %v outside 0..%v", v, MaxDuration)
		}
	}
}

// TestServerDelayLogNormal: RPC servers take the log-normal delay too
// (their other distributions check as they always have: min and max are
// still ignored outside uniform).
func TestServerDelayLogNormal(t *testing.T) {
	sc, _, err := Load("testdata/rpc-lognormal.yaml", Default())
	if err != nil {
		t.Fatal(err)
	}
	want := Delay{Distribution: DelayLogNormal, Mean: Duration(3 * time.Millisecond), Sigma: 0.5}
	if sc.RPC.ServerDelay != want {
		t.Fatalf("server_delay %+v, want %+v", sc.RPC.ServerDelay, want)
	}
	ms := Duration(time.Millisecond)
	for _, c := range []struct {
		d     Delay
		field string
	}{
		{want, ""},
		{Delay{Distribution: DelayLogNormal, Mean: 5 * ms}, "rpc.server_delay.sigma"},
		{Delay{Distribution: DelayExponential, Mean: 5 * ms, Sigma: 1}, "rpc.server_delay.sigma"},
		{Delay{Distribution: DelayFixed, Mean: 5 * ms, Min: ms}, ""},
	} {
		sc := Default()
		sc.RPC.Servers, sc.RPC.ServerDelay = 1, c.d
		sc.Normalize()
		expectProblem(t, sc.Validate(), c.field)
	}
}

// expectProblem fails t unless p names field ("" = no problem at all).
func expectProblem(t *testing.T, p Problems, field string) {
	t.Helper()
	if field == "" {
		if p != nil {
			t.Fatalf("rejected: %v", p)
		}
		return
	}
	for _, e := range p {
		if e.Path == field {
			return
		}
	}
	t.Fatalf("problems %v do not name %s", p, field)
}
