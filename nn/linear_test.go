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

func TestEmbedding(t *testing.T) {
	rng := tensor.NewRNG(5)
	e := NewEmbedding(5, 3, 0, rng)
	for j := 0; j < 3; j++ {
		if e.Weight.Value.Data[j] != 0 {
			t.Fatalf("padding row not zero: %v", e.Weight.Value.Data[:3])
		}
	}
	ids := []int{1, 0, 4, 1, 2, 0}
	y := e.Forward(nil, ids, 3, 2)
	if fmt.Sprint(y.Value.Shape) != "[3 2 3]" {
		t.Fatalf("shape: got %v want [3 2 3]", y.Value.Shape)
	}
	for i, id := range ids {
		if fmt.Sprint(y.Value.Data[i*3:i*3+3]) != fmt.Sprint(e.Weight.Value.Data[id*3:id*3+3]) {
			t.Errorf("row %d: got %v want row %d of the table", i, y.Value.Data[i*3:i*3+3], id)
		}
	}
	// Finite differences over ids without the padding index (whose
	// gradient is zero on purpose).
	plain := []int{1, 3, 4, 1, 2, 2}
	fdCheck(t, "embedding", []*Var{&e.Weight.Var}, func(tp *Tape) *Var { return e.Forward(tp, plain, 3, 2) })
	// The padding row never receives gradient, and so never moves.
	e.Weight.Grad.Zero()
	tp := &Tape{}
	tp.Backward(e.Forward(tp, ids), nil)
	for j := 0; j < 3; j++ {
		if g := e.Weight.Grad.Data[j]; g != 0 {
			t.Errorf("padding gradient[%d] = %v, want 0", j, g)
		}
		if g := e.Weight.Grad.Data[3+j]; g != 2 {
			t.Errorf("id 1 used twice: gradient %v, want 2", g)
		}
	}
}

func TestEmbeddingLoadAndErrors(t *testing.T) {
	e := NewEmbedding(2, 2, -1, tensor.NewRNG(6))
	if err := e.Load(tensor.New(3, 2)); err == nil {
		t.Error("Load of a (3, 2) table into (2, 2): got nil error")
	}
	v := tensor.FromSlice([]float32{1, 2, 3, 4}, 2, 2)
	if err := e.Load(v); err != nil {
		t.Fatal(err)
	}
	if got := e.Forward(nil, []int{1}).Value.Data; fmt.Sprint(got) != "[3 4]" {
		t.Errorf("after Load: got %v want [3 4]", got)
	}
	Freeze(e.Params(), true, "weight")
	tp := &Tape{}
	tp.Backward(e.Forward(tp, []int{1}), nil)
	if e.Weight.Grad.Sum() != 0 {
		t.Error("frozen embedding accumulated a gradient")
	}
	defer func() {
		r := recover()
		if s, _ := r.(string); s != "nn: Embedding: id 2 at position 1 outside [0, 2)" {
			t.Errorf("out-of-range id: panic %v", r)
		}
	}()
	e.Forward(nil, []int{0, 2})
}
