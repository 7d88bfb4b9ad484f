package nn

import (
	"math"
	"testing"

	"github.com/recur-ml/recur/tensor"
)

func TestLayerNormValues(t *testing.T) {
	l := NewLayerNorm(4, 0)
	y := l.Forward(nil, NewVar(tensor.FromSlice([]float32{1, 2, 3, 4, -2, 0, 0, 2}, 2, 4))).Value
	// Row 1: mean 2.5, var 1.25.
	want := []float64{-1.5, -0.5, 0.5, 1.5, -2, 0, 0, 2}
	sd := []float64{math.Sqrt(1.25 + 1e-5), math.Sqrt(2 + 1e-5)}
	for i, w := range want {
		if g := float64(y.Data[i]); math.Abs(g-w/sd[i/4]) > 1e-6 {
			t.Errorf("y[%d] = %v, want %v", i, g, w/sd[i/4])
		}
	}
}

func TestLayerNormGradients(t *testing.T) {
	rng := tensor.NewRNG(8)
	l := NewLayerNorm(5, 1e-5)
	rng.FillUniform(l.Weight.Value, 0.5, 1.5)
	rng.FillUniform(l.Bias.Value, -1, 1)
	x := randVar(rng, 2, 3, 5)
	fdCheck(t, "layernorm", []*Var{x, &l.Weight.Var, &l.Bias.Var}, func(tp *Tape) *Var { return l.Forward(tp, x) })
}
