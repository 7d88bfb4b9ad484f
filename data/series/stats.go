package series

import (
	"encoding/json"
	"math"
	"slices"
)

// observed returns the non-missing values of v (a new slice).
func observed(v []float64) []float64 {
	out := make([]float64, 0, len(v))
	for _, x := range v {
		if !isMissing(x) {
			out = append(out, x)
		}
	}
	return out
}

// meanStd returns the mean and population standard deviation of v
// (two-pass, float64).
func meanStd(v []float64) (mean, std float64) {
	if len(v) == 0 {
		return math.NaN(), math.NaN()
	}
	for _, x := range v {
		mean += x
	}
	mean /= float64(len(v))
	var ss float64
	for _, x := range v {
		ss += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(ss / float64(len(v)))
}

// quantile returns the q-quantile of sorted values with linear
// interpolation between order statistics (Hyndman & Fan type 7, the
// default of R, NumPy and pandas).
func quantile(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return math.NaN()
	}
	h := q * float64(len(sorted)-1)
	lo := math.Floor(h)
	i := int(lo)
	if i+1 >= len(sorted) {
		return sorted[len(sorted)-1]
	}
	return sorted[i] + (h-lo)*(sorted[i+1]-sorted[i])
}

// quartiles returns the 25th, 50th and 75th percentiles of v.
func quartiles(v []float64) (q1, med, q3 float64) {
	s := slices.Clone(v)
	slices.Sort(s)
	return quantile(s, 0.25), quantile(s, 0.5), quantile(s, 0.75)
}

// jsonNum is a float64 that marshals NaN and ±Inf as null, which JSON
// cannot hold.
type jsonNum float64

func (v jsonNum) MarshalJSON() ([]byte, error) {
	if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
		return []byte("null"), nil
	}
	return json.Marshal(float64(v))
}
