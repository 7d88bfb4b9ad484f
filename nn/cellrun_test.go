package nn

import (
	"math"
	"testing"

	"github.com/recur-ml/recur/tensor"
)

// TestCellRunMatchesCell runs a three-step loop whose inputs depend on the
// previous step (as a decoder's do) through LSTMCell.Forward and through
// a CellRun, and compares outputs (exactly) and the gradients of every
// parameter and input (to float32 rounding), over several recordings of
// one tape, one of them reset without a backward.
func TestCellRunMatchesCell(t *testing.T) {
	const B, I, H, steps = 3, 5, 4, 3
	cell := NewLSTMCell(I, H, true, tensor.NewRNG(7))
	run := NewCellRun(cell)
	mix := NewLinear(H, I, false, tensor.NewRNG(8))
	x0 := tensor.New(B, I)
	tensor.NewRNG(9).FillNormal(x0, 0, 1)
	loop := func(tp *Tape, step func(tp *Tape, x, h, c *Var) (*Var, *Var)) (out []float32, grads [][]float32, dx0 []float32) {
		ZeroGrad(cell.Params())
		ZeroGrad(mix.Params())
		xv := NewVar(x0.Clone())
		x := xv
		var h, c *Var // nil: zero initial state on the first step
		var hs []*Var
		for s := 0; s < steps; s++ {
			h, c = step(tp, x, h, c)
			hs = append(hs, h)
			x = Tanh(tp, mix.Forward(tp, h))
		}
		y := Stack(tp, hs...)
		out = append([]float32(nil), y.Value.Data...)
		tp.Backward(y, nil)
		for _, p := range append(cell.Params(), mix.Params()...) {
			grads = append(grads, append([]float32(nil), p.Grad.Data...))
		}
		return out, grads, append([]float32(nil), xv.Grad.Data...)
	}
	tp := &Tape{}
	wantOut, wantGrads, wantDx := loop(tp, cell.Forward)
	for rep := 0; rep < 3; rep++ {
		if rep == 1 {
			// A recording dropped without a backward: the next one starts clean.
			run.Step(tp, NewVar(x0), nil, nil)
			tp.Reset()
		}
		out, grads, dx := loop(tp, run.Step)
		for i := range wantOut {
			if out[i] != wantOut[i] {
				t.Fatalf("rep %d: output[%d] = %v, want %v", rep, i, out[i], wantOut[i])
			}
		}
		near := func(what string, got, want []float32) {
			t.Helper()
			for i := range want {
				if d := math.Abs(float64(got[i] - want[i])); d > 1e-6+1e-5*math.Abs(float64(want[i])) {
					t.Fatalf("rep %d: %s[%d] = %v, want %v", rep, what, i, got[i], want[i])
				}
			}
		}
		for i, p := range append(cell.Params(), mix.Params()...) {
			near(p.Name, grads[i], wantGrads[i])
		}
		near("dx0", dx, wantDx)
	}
}
