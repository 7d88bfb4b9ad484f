package series

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"

	"github.com/recur-ml/recur/tensor"
)

// Intervals scores quantile forecasts: how often the actual values fall
// inside the interval between the outermost levels, and below each level.
type Intervals struct {
	// Levels are the quantile levels, increasing.
	Levels []float64 `json:"levels"`
	// Nominal is the interval's intended coverage (the outermost levels'
	// span, 0.8 for 0.1 .. 0.9); Coverage the share of actual values
	// inside it, bounds included.
	Nominal  float64 `json:"nominal"`
	Coverage float64 `json:"coverage"`
	// Below[q] is the share of actual values under level q's forecast:
	// calibrated quantiles have Below[q] near Levels[q].
	Below []float64 `json:"below"`
	// Width is the interval's mean width in the data's units.
	Width float64 `json:"width"`
	// MSIS is the mean scaled interval score (Gneiting and Raftery's
	// interval score as the M4 competition scaled it): the width plus
	// 2/α times how far each actual value lies outside, over the
	// target's naive-forecast scale, α = 1 - Nominal. NaN without scales.
	MSIS float64 `json:"msis"`
}

// MarshalJSON writes an undefined MSIS (NaN) as null.
func (iv Intervals) MarshalJSON() ([]byte, error) {
	type plain Intervals
	return json.Marshal(struct {
		plain
		MSIS jsonNum `json:"msis"`
	}{plain(iv), jsonNum(iv.MSIS)})
}

func (iv Intervals) String() string {
	return fmt.Sprintf("%.0f%% interval: coverage %.1f%%  width %.4g  MSIS %.4g", 100*iv.Nominal, 100*iv.Coverage, iv.Width, iv.MSIS)
}

// ScoreIntervals scores quantile forecasts q[i] of level levels[i], each
// (N, H, K) like actual; scale[k] is target k's naive-forecast scale (nil
// leaves MSIS NaN).
func ScoreIntervals(levels []float64, q []*tensor.Tensor, actual *tensor.Tensor, scale []float64) (Intervals, error) {
	if len(levels) < 2 || len(q) != len(levels) {
		return Intervals{}, fmt.Errorf("series: intervals need two or more levels with a forecast each, got %d levels and %d forecasts", len(levels), len(q))
	}
	for _, t := range q {
		if !slices.Equal(t.Shape, actual.Shape) {
			return Intervals{}, fmt.Errorf("series: quantile forecast of shape %v for actual values of shape %v", t.Shape, actual.Shape)
		}
	}
	lo, hi := q[0], q[len(q)-1]
	alpha := 1 - (levels[len(levels)-1] - levels[0])
	iv := Intervals{Levels: levels, Nominal: 1 - alpha, Below: make([]float64, len(levels)), MSIS: math.NaN()}
	K := actual.Shape[len(actual.Shape)-1]
	var inside, width, score float64
	for i, a32 := range actual.Data {
		a, l, h := float64(a32), float64(lo.Data[i]), float64(hi.Data[i])
		if a >= l && a <= h {
			inside++
		}
		for j, t := range q {
			if a < float64(t.Data[i]) {
				iv.Below[j]++
			}
		}
		width += h - l
		s := h - l + 2/alpha*(max(l-a, 0)+max(a-h, 0))
		if scale != nil {
			score += s / scale[i%K]
		}
	}
	n := float64(len(actual.Data))
	iv.Coverage, iv.Width = inside/n, width/n
	for j := range iv.Below {
		iv.Below[j] /= n
	}
	if scale != nil {
		iv.MSIS = score / n
	}
	return iv, nil
}
