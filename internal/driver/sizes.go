package driver

import (
	"math/rand/v2"
	"sort"

	"github.com/mqbench/mqbench/internal/scenario"
)

// sizeDraw draws body sizes from a distribution without allocating.
type sizeDraw struct {
	min, span int   // uniform: min + [0, span)
	cum       []int // weighted: cumulative weights
	sizes     []int
}

func newSizeDraw(d *scenario.SizeDistribution) *sizeDraw {
	if d == nil {
		return nil
	}
	if d.Type == scenario.SizeUniform {
		return &sizeDraw{min: d.Min, span: d.Max - d.Min + 1}
	}
	s := &sizeDraw{}
	total := 0
	for _, w := range d.Sizes {
		total += w.Weight
		s.cum = append(s.cum, total)
		s.sizes = append(s.sizes, w.Size)
	}
	return s
}

func (s *sizeDraw) draw(rng *rand.Rand) int {
	if s.cum == nil {
		return s.min + rng.IntN(s.span)
	}
	x := rng.IntN(s.cum[len(s.cum)-1])
	return s.sizes[sort.SearchInts(s.cum, x+1)]
}
