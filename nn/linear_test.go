package nn

import (
	"fmt"
	"math"
	"testing"

	"github.com/recur-ml/recur/tensor"
)

func TestLinearValuesAndInit(t *testing.T) {
	l := NewLinear(2, 3, true, tensor.NewRNG(1))
	if got := fmt.Sprintf("%v %v %s %s", l.Weight.Value.Shape, l.Bias.Value.Shape, l.Weight.Name, l.Bias.Name); got != "[3 2] [3] weight bias" {
		t.Errorf("params: got %s", got)
	}
	k := 1 / math.Sqrt(2)
	for _, p := range l.Params() {
		for _, v := range p.Value.Data {
			if math.Abs(float64(v)) > k {
				t.Errorf("%s init %v outside ±%v", p.Name, v, k)
			}
		}
	}
	copy(l.Weight.Value.Data, []float32{1, 2, 3, 4, 5, 6})
	copy(l.Bias.Value.Data, []float32{0.5, 0, -1})
	y := l.Forward(nil, NewVar(tensor.FromSlice([]float32{1, -1, 2, 0}, 2, 2))).Value
	want := []float32{-0.5, -1, -2, 2.5, 6, 9}
	if fmt.Sprint(y.Shape, y.Data) != fmt.Sprint([]int{2, 3}, want) {
		t.Errorf("Forward: got %v %v want [2 3] %v", y.Shape, y.Data, want)
	}
	if n := len(NewLinear(2, 3, false, tensor.NewRNG(1)).Params()); n != 1 {
		t.Errorf("no-bias Linear has %d params, want 1", n)
	}
}

func TestLinearGradients(t *testing.T) {
	rng := tensor.NewRNG(3)
	for _, bias := range []bool{true, false} {
		l := NewLinear(3, 4, bias, rng)
		for _, shape := range [][]int{{2, 3}, {3, 2, 3}} {
			x := randVar(rng, shape...)
			wrt := []*Var{x}
			for _, p := range l.Params() {
				wrt = append(wrt, &p.Var)
			}
			fdCheck(t, fmt.Sprintf("linear bias=%v %v", bias, shape), wrt, func(tp *Tape) *Var { return l.Forward(tp, x) })
		}
	}
}

func TestLinearFrozenAndPanics(t *testing.T) {
	rng := tensor.NewRNG(4)
	l := NewLinear(3, 2, true, rng)
	Freeze(l.Params(), true, "*")
	x := randVar(rng, 2, 3)
	tp := &Tape{}
	tp.Backward(l.Forward(tp, x), nil)
	if l.Weight.Grad.Sum() != 0 || l.Bias.Grad.Sum() != 0 {
		t.Error("frozen Linear accumulated a gradient")
	}
	if x.Grad == nil || x.Grad.Sum() == 0 {
		t.Error("frozen Linear gave its input no gradient")
	}
	defer func() {
		if recover() == nil {
			t.Error("Linear with input width 4 for In=3: no panic")
		}
	}()
	l.Forward(nil, randVar(rng, 2, 4))
}
