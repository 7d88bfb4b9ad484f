package nn

import (
	"fmt"
	"testing"

	"github.com/recur-ml/recur/tensor"
)

func TestPoolValues(t *testing.T) {
	// T=3, B=2, F=1: sequence 0 = 1, 5, 2; sequence 1 = 4, -1, 9 (length 2).
	x := NewVar(tensor.FromSlice([]float32{1, 4, 5, -1, 2, 9}, 3, 2, 1))
	lengths := []int{3, 2}
	for _, tc := range []struct {
		name string
		f    func(*Tape, *Var, []int) *Var
		want []float32
	}{
		{"last", LastStep, []float32{2, -1}},
		{"mean", MeanPool, []float32{8.0 / 3, 1.5}},
		{"max", MaxPool, []float32{5, 4}},
	} {
		got := tc.f(nil, x, lengths).Value
		if fmt.Sprint(got.Shape) != "[2 1]" || fmt.Sprint(got.Data) != fmt.Sprint(tc.want) {
			t.Errorf("%s: got %v %v want [2 1] %v", tc.name, got.Shape, got.Data, tc.want)
		}
	}
	if got := LastStep(nil, x, nil).Value.Data; fmt.Sprint(got) != "[2 9]" {
		t.Errorf("LastStep without lengths: got %v want [2 9]", got)
	}
}

func TestPoolGradients(t *testing.T) {
	rng := tensor.NewRNG(2)
	x := randVar(rng, 4, 3, 2)
	lengths := []int{4, 1, 2}
	for _, tc := range []struct {
		name string
		f    func(*Tape, *Var, []int) *Var
	}{{"last", LastStep}, {"mean", MeanPool}, {"max", MaxPool}} {
		fdCheck(t, tc.name, []*Var{x}, func(tp *Tape) *Var { return tc.f(tp, x, lengths) })
		// Padded steps receive no gradient.
		x.Grad = nil
		tp := &Tape{}
		tp.Backward(tc.f(tp, x, lengths), nil)
		for tt := 0; tt < 4; tt++ {
			for b := 0; b < 3; b++ {
				for j := 0; j < 2; j++ {
					if g := x.Grad.Data[(tt*3+b)*2+j]; tt >= lengths[b] && g != 0 {
						t.Errorf("%s: gradient %v at padded step t=%d b=%d", tc.name, g, tt, b)
					}
				}
			}
		}
	}
}

func TestAttentionPool(t *testing.T) {
	rng := tensor.NewRNG(4)
	p := NewAttentionPool(2, 3, rng)
	x := randVar(rng, 4, 3, 2)
	lengths := []int{4, 1, 2}
	pooled, w := p.Forward(nil, x, lengths)
	if fmt.Sprint(pooled.Value.Shape, w.Value.Shape) != "[3 2] [3 4]" {
		t.Fatalf("shapes %v %v, want [3 2] [3 4]", pooled.Value.Shape, w.Value.Shape)
	}
	for b, l := range lengths {
		var s float32
		for tt := 0; tt < 4; tt++ {
			v := w.Value.Data[b*4+tt]
			if tt >= l && v != 0 {
				t.Errorf("sequence %d: weight %v at padded step %d", b, v, tt)
			}
			s += v
		}
		if s < 0.99999 || s > 1.00001 {
			t.Errorf("sequence %d: weights sum to %v", b, s)
		}
	}
	// A sequence of length 1 pools to its only step.
	if got, want := pooled.Value.Row(1).Data, x.Value.Data[1*2:2*2]; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("length-1 sequence pooled to %v, want %v", got, want)
	}
	if names := fmt.Sprint(p.Params()[0].Name, p.Params()[1].Name, p.Params()[2].Name); names != "proj.weightproj.biasv" {
		t.Errorf("names %s", names)
	}
}
