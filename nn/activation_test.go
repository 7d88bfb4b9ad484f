package nn

import (
	"fmt"
	"math"
	"testing"

	"github.com/recur-ml/recur/tensor"
)

// TestActivationBackwardMatchesScalar checks the backward of Tanh,
// Sigmoid, ReLU and Softmax, which run the vector kernels, against scalar
// references at odd lengths, accumulating onto a gradient that is already
// there: Tanh, Sigmoid and ReLU exactly (each operation rounded to float32,
// as the kernels promise), Softmax to float32 rounding (its row sums are
// accumulated in float64 in an order that depends on the implementation).
func TestActivationBackwardMatchesScalar(t *testing.T) {
	rng := tensor.NewRNG(5)
	type ref func(dx, dy, x, y []float32)
	for _, tc := range []struct {
		name string
		f    func(tp *Tape, x *Var) *Var
		ref  ref
	}{
		{"tanh", Tanh, func(dx, dy, _, y []float32) {
			for i, v := range y {
				dx[i] += float32(dy[i] * float32(1-float32(v*v)))
			}
		}},
		{"sigmoid", Sigmoid, func(dx, dy, _, y []float32) {
			for i, v := range y {
				dx[i] += float32(float32(dy[i]*v) * float32(1-v))
			}
		}},
		{"relu", ReLU, func(dx, dy, x, _ []float32) {
			for i, v := range x {
				if v > 0 {
					dx[i] += dy[i]
				}
			}
		}},
	} {
		for _, n := range []int{1, 7, 8, 33, 100, 1023} {
			x := NewVar(tensor.New(n))
			rng.FillNormal(x.Value, 0, 2)
			x.Value.Data[0] = 0 // ReLU's gradient at 0 is 0
			dx0, dy := tensor.New(n), tensor.New(n)
			rng.FillNormal(dx0, 0, 1)
			rng.FillNormal(dy, 0, 1)
			x.Grad = dx0.Clone()
			tp := &Tape{}
			y := tc.f(tp, x)
			want := dx0.Clone()
			tc.ref(want.Data, dy.Data, x.Value.Data, y.Value.Data)
			tp.Backward(y, dy)
			for i := range want.Data {
				if x.Grad.Data[i] != want.Data[i] {
					t.Fatalf("%s n=%d: dx[%d] = %v, scalar %v", tc.name, n, i, x.Grad.Data[i], want.Data[i])
				}
			}
		}
	}
	for _, shape := range [][2]int{{1, 1}, {3, 7}, {2, 33}, {5, 100}} {
		t.Run(fmt.Sprintf("softmax_%dx%d", shape[0], shape[1]), func(t *testing.T) {
			rows, w := shape[0], shape[1]
			x := NewVar(tensor.New(rows, w))
			rng.FillNormal(x.Value, 0, 2)
			dx0, dy := tensor.New(rows, w), tensor.New(rows, w)
			rng.FillNormal(dx0, 0, 1)
			rng.FillNormal(dy, 0, 1)
			x.Grad = dx0.Clone()
			tp := &Tape{}
			y := Softmax(tp, x)
			p := y.Value.Data
			tp.Backward(y, dy)
			for r := 0; r < rows; r++ {
				var s float64
				for j := 0; j < w; j++ {
					s += float64(p[r*w+j]) * float64(dy.Data[r*w+j])
				}
				for j := 0; j < w; j++ {
					i := r*w + j
					want := float64(dx0.Data[i]) + float64(p[i])*(float64(dy.Data[i])-s)
					if d := math.Abs(float64(x.Grad.Data[i]) - want); d > 1e-6+1e-6*math.Abs(want) {
						t.Fatalf("dx[%d,%d] = %v, scalar %v", r, j, x.Grad.Data[i], want)
					}
				}
			}
		})
	}
}
