package capacity

import (
	"fmt"
	"math"

	"github.com/mqbench/mqbench/internal/kind"
	"github.com/mqbench/mqbench/internal/result"
)

// ConsumedShortfall is how fast, as a share of what is owed to them per
// second, the consumers (or RPC servers) may fall behind over a step,
// beyond the error tolerance (nacked and returned messages reach no
// consumer), and at least BacklogFloor msg/s.
//
// Why this measure and 2%: consumers that keep up consume what reaches
// them, so the running difference between what was owed to them and what
// they consumed (the backlog as the client counts it, in flight included)
// stays level, while consumers g msg/s short make it climb at g msg/s. A
// line is fitted through it, as through the backlog samples, so a hiccup
// at one end of the window (the pipeline 50 ms slower at its end than at
// its start, common on a shared machine) does not fail a step as a
// comparison of the two totals would. 2% is as strict as the rate check
// is with the producers and twice as loose as the backlog slope (1%):
// this check counts by the client's clock, and is there for when the
// backlog figure is blind or unknown; the backlog is the finer one.
const ConsumedShortfall = 0.02

// consumedShort compares what the serving side processed over the
// measured intervals with what the load offered it (each unit times the
// servings it owes, load.Owed): consumed against published, replies
// against requests (replies are counted as they arrive). It returns why
// the step failed ("" when it did not), or a note when the routing does
// not say what each unit owes, and the check was not made.
func consumedShort(r *result.Result, load *kind.Load, tolerance float64) (short, note string) {
	per, why := load.Owed(r)
	if why != "" {
		return "", "consumed not checked against published: " + why
	}
	var sent, got, secs float64
	var xs, ys []float64
	for _, iv := range r.Intervals {
		if !measured(iv) {
			continue
		}
		secs += iv.Seconds
		if s, g, ok := load.Served(iv); ok {
			sent += s * per
			got += g
		}
		xs, ys = append(xs, iv.TS), append(ys, sent-got)
	}
	if secs == 0 {
		return "", ""
	}
	behind := fitSlope(xs, ys)
	limit := math.Max((ConsumedShortfall+tolerance)*sent/secs, BacklogFloor)
	if behind <= limit {
		return "", ""
	}
	return fmt.Sprintf("fell behind %.1f/s, limit %.1f/s ("+load.Shortfall+")", behind, limit, got, sent), ""
}
