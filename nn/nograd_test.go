package nn

import (
	"testing"

	"github.com/recur-ml/recur/tensor"
)

// TestConstantInputSkipsItsGradient trains layers on an input given as a
// Constant and as a plain Var: the parameters' gradients are the same bit
// for bit, and the Constant gets no gradient.
func TestConstantInputSkipsItsGradient(t *testing.T) {
	const T, B, I = 6, 9, 5
	type layer interface {
		Params() []*Param
	}
	cases := []struct {
		name  string
		make  func(rng *tensor.RNG) (layer, func(tp *Tape, x *Var) *Var)
		shape []int
	}{
		{"lstm-varlen-bi-l2", func(rng *tensor.RNG) (layer, func(*Tape, *Var) *Var) {
			l, _ := NewLSTM(LSTMConfig{InputSize: I, HiddenSize: 16, NumLayers: 2, Bidirectional: true, InputDropout: 0.2}, rng)
			return l, func(tp *Tape, x *Var) *Var {
				y, _ := l.Forward(tp, x, []int{6, 1, 3, 6, 2, 5, 4, 6, 1}, nil)
				return y
			}
		}, []int{T, B, I}},
		{"gru", func(rng *tensor.RNG) (layer, func(*Tape, *Var) *Var) {
			l, _ := NewGRU(GRUConfig{InputSize: I, HiddenSize: 12}, rng)
			return l, func(tp *Tape, x *Var) *Var {
				y, _ := l.Forward(tp, x, nil, nil)
				return y
			}
		}, []int{T, B, I}},
		{"linear", func(rng *tensor.RNG) (layer, func(*Tape, *Var) *Var) {
			l := NewLinear(I, 7, true, rng)
			return l, func(tp *Tape, x *Var) *Var { return l.Forward(tp, x) }
		}, []int{T * B, I}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			x := tensor.New(c.shape...)
			tensor.NewRNG(3).FillNormal(x, 0, 1)
			run := func(in *Var) [][]float32 {
				l, f := c.make(tensor.NewRNG(7))
				tp := &Tape{}
				y := f(tp, in)
				tp.Backward(y, nil)
				out := [][]float32{append([]float32(nil), y.Value.Data...)}
				for _, p := range l.Params() {
					out = append(out, append([]float32(nil), p.Grad.Data...))
				}
				return out
			}
			plain := NewVar(x)
			want := run(plain)
			if plain.Grad == nil {
				t.Fatal("a plain input got no gradient")
			}
			cst := Constant(x)
			got := run(cst)
			if cst.Grad != nil {
				t.Error("a Constant input got a gradient")
			}
			for k := range want {
				for i := range want[k] {
					if got[k][i] != want[k][i] {
						t.Fatalf("result %d [%d]: %v with a Constant input, %v with a plain one", k, i, got[k][i], want[k][i])
					}
				}
			}
		})
	}
}
