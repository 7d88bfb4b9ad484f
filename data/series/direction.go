package series

import (
	"fmt"
	"math"

	"github.com/recur-ml/recur/tensor"
)

// Direction scores whether forecasts move the right way from the last
// known value: among the steps where the actual value moved, the share
// where the forecast moved the same way (a forecast equal to the last
// value is a miss), with the 95% Wilson score interval of that share. A
// random walk's forecast has no direction; coin flips score 50% and an
// edge is real only when the interval excludes 50%.
type Direction struct {
	Hits, N          int
	Accuracy, Lo, Hi float64
}

func (d Direction) String() string {
	return fmt.Sprintf("direction right on %.1f%% of %d steps (95%% CI %.1f-%.1f%%)", 100*d.Accuracy, d.N, 100*d.Lo, 100*d.Hi)
}

// ScoreDirection compares pred and actual against last, the last known
// value for every step (the persistence forecast), all (N, H, K).
func ScoreDirection(pred, actual, last *tensor.Tensor) Direction {
	if !tensor.SameShape(pred, actual) || !tensor.SameShape(pred, last) {
		panic(fmt.Sprintf("series: ScoreDirection of shapes %v, %v, %v", pred.Shape, actual.Shape, last.Shape))
	}
	var d Direction
	for i, a := range actual.Data {
		move := a - last.Data[i]
		if move == 0 {
			continue
		}
		d.N++
		if call := pred.Data[i] - last.Data[i]; call > 0 && move > 0 || call < 0 && move < 0 {
			d.Hits++
		}
	}
	if d.N == 0 {
		return Direction{Accuracy: math.NaN(), Lo: math.NaN(), Hi: math.NaN()}
	}
	d.Accuracy = float64(d.Hits) / float64(d.N)
	d.Lo, d.Hi = wilson(d.Hits, d.N, 1.959964)
	return d
}

// wilson is the Wilson score interval of k successes in n trials at z.
func wilson(k, n int, z float64) (lo, hi float64) {
	p, nf := float64(k)/float64(n), float64(n)
	c := p + z*z/(2*nf)
	w := z * math.Sqrt(p*(1-p)/nf+z*z/(4*nf*nf))
	den := 1 + z*z/nf
	return (c - w) / den, (c + w) / den
}
