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

// TestLinearPackedAcrossCalls runs a Linear three times in one recording
// (the packed path from the second call), changes the weights as an
// optimizer would, and runs again: outputs and gradients must match
// single-call recordings, which never pack.
func TestLinearPackedAcrossCalls(t *testing.T) {
	for _, bias := range []bool{true, false} {
		rng := tensor.NewRNG(7)
		l := NewLinear(6, 5, bias, rng)
		xs := []*Var{randVar(rng, 4, 6), randVar(rng, 4, 6), randVar(rng, 1, 6)}
		var tp Tape
		for step := 0; step < 2; step++ {
			// Reference: each call in its own recording.
			var want [][]float32
			var wantDX [][]float32
			ZeroGrad(l.Params())
			for _, x := range xs {
				var one Tape
				x.Grad = nil
				y := l.Forward(&one, x)
				dy := tensor.New(y.Value.Shape...)
				dy.Fill(0.5)
				one.Backward(y, dy)
				want = append(want, append([]float32(nil), y.Value.Data...))
				wantDX = append(wantDX, append([]float32(nil), x.Grad.Data...))
			}
			wantW := append([]float32(nil), l.Weight.Grad.Data...)
			ZeroGrad(l.Params())
			var ys []*Var
			for _, x := range xs {
				x.Grad = nil
				ys = append(ys, l.Forward(&tp, x))
			}
			for i, y := range ys {
				for j, v := range y.Value.Data {
					if v != want[i][j] {
						t.Fatalf("bias %v step %d call %d: y[%d] = %v, want %v", bias, step, i, j, v, want[i][j])
					}
				}
			}
			s := Concat(&tp, 0, ys[0], ys[1], ys[2])
			dy := tensor.New(s.Value.Shape...)
			dy.Fill(0.5)
			tp.Backward(s, dy)
			for i, x := range xs {
				for j, v := range x.Grad.Data {
					if d := v - wantDX[i][j]; d > 1e-6 || d < -1e-6 {
						t.Fatalf("bias %v step %d call %d: dx[%d] = %v, want %v", bias, step, i, j, v, wantDX[i][j])
					}
				}
			}
			for j, v := range l.Weight.Grad.Data {
				if d := v - wantW[j]; d > 1e-5 || d < -1e-5 {
					t.Fatalf("bias %v step %d: dW[%d] = %v, want %v", bias, step, j, v, wantW[j])
				}
			}
			for i := range l.Weight.Value.Data { // an optimizer step
				l.Weight.Value.Data[i] *= -1.5
			}
		}
	}
}
