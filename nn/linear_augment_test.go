package nn

import (
	"math"
	"testing"

	"github.com/recur-ml/recur/tensor"
)

// TestLinearLargeOutputFoldsBias checks the path that folds the bias into
// the product (rows × Out ≥ linearAugmentMin) against a float64 reference,
// twice on a reused tape.
func TestLinearLargeOutputFoldsBias(t *testing.T) {
	const n, in, out = 260, 12, 4100
	if n*out < linearAugmentMin {
		t.Fatalf("size %d does not reach the folded path (%d)", n*out, linearAugmentMin)
	}
	rng := tensor.NewRNG(5)
	l := NewLinear(in, out, true, rng)
	x := randVar(rng, n, in)
	var tp Tape
	for step := 0; step < 2; step++ {
		y := l.Forward(&tp, x)
		for r := 0; r < n; r += 37 {
			for o := 0; o < out; o += 101 {
				want := float64(l.Bias.Value.Data[o])
				for k := 0; k < in; k++ {
					want += float64(x.Value.Data[r*in+k]) * float64(l.Weight.Value.Data[o*in+k])
				}
				if got := float64(y.Value.Data[r*out+o]); math.Abs(got-want) > 1e-5*(1+math.Abs(want)) {
					t.Fatalf("step %d: y[%d,%d] = %v, want %v", step, r, o, got, want)
				}
			}
		}
		tp.Reset()
	}
}
