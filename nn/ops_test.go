package nn

import (
	"fmt"
	"math"
	"testing"

	"github.com/recur-ml/recur/tensor"
)

// fdCheck compares the tape gradients of loss = Σ f(tp)·R (R fixed random)
// with respect to every Var in wrt against central differences.
func fdCheck(t *testing.T, name string, wrt []*Var, f func(tp *Tape) *Var) {
	t.Helper()
	rng := tensor.NewRNG(99)
	var R *tensor.Tensor
	loss := func() float64 {
		y := f(nil)
		if R == nil {
			R = tensor.New(y.Value.Shape...)
			rng.FillUniform(R, -1, 1)
		}
		var s float64
		for i, v := range y.Value.Data {
			s += float64(v) * float64(R.Data[i])
		}
		return s
	}
	loss()
	for _, v := range wrt {
		if v.Grad != nil {
			v.Grad.Zero()
		}
	}
	tp := &Tape{}
	y := f(tp)
	tp.Backward(y, R)
	const eps = 1e-2
	for k, v := range wrt {
		g := v.G()
		for i := range v.Value.Data {
			old := v.Value.Data[i]
			v.Value.Data[i] = old + eps
			lp := loss()
			v.Value.Data[i] = old - eps
			lm := loss()
			v.Value.Data[i] = old
			want := (lp - lm) / (2 * eps)
			if d := math.Abs(float64(g.Data[i]) - want); d > 2e-3+2e-2*math.Abs(want) {
				t.Errorf("%s: d/dvar%d[%d]: got %.6g want %.6g", name, k, i, g.Data[i], want)
				return
			}
		}
	}
}

// randVar returns a Var of the given shape with values from U(−1, 1).
func randVar(rng *tensor.RNG, shape ...int) *Var {
	x := tensor.New(shape...)
	rng.FillUniform(x, -1, 1)
	return NewVar(x)
}

func TestOpsGradients(t *testing.T) {
	rng := tensor.NewRNG(1)
	a, b, c := randVar(rng, 2, 3, 4), randVar(rng, 2, 3, 2), randVar(rng, 2, 3, 4)
	cases := []struct {
		name string
		wrt  []*Var
		f    func(tp *Tape) *Var
	}{
		{"concat-last", []*Var{a, b}, func(tp *Tape) *Var { return Concat(tp, -1, a, b) }},
		{"concat-0", []*Var{a, c}, func(tp *Tape) *Var { return Concat(tp, 0, a, c) }},
		{"concat-1", []*Var{a, c}, func(tp *Tape) *Var { return Concat(tp, 1, a, c) }},
		{"split", []*Var{a}, func(tp *Tape) *Var {
			p := Split(tp, -1, a, 1, 3)
			return Concat(tp, -1, Scale(tp, 2, p[1]), p[0])
		}},
		{"slicelast", []*Var{a}, func(tp *Tape) *Var { return SliceLast(tp, a, 1, 3) }},
		{"select", []*Var{a}, func(tp *Tape) *Var { return Select(tp, a, 1) }},
		{"swaptb", []*Var{a}, func(tp *Tape) *Var { return SwapTB(tp, a) }},
		{"stack", []*Var{a, c}, func(tp *Tape) *Var { return Stack(tp, a, c, a) }},
		{"add", []*Var{a, c}, func(tp *Tape) *Var { return Add(tp, a, c, a) }},
		{"mul", []*Var{a, c}, func(tp *Tape) *Var { return Mul(tp, a, c) }},
		{"reshape", []*Var{a}, func(tp *Tape) *Var { return Tanh(tp, Reshape(tp, a, 6, -1)) }},
		{"tanh", []*Var{a}, func(tp *Tape) *Var { return Tanh(tp, a) }},
		{"sigmoid", []*Var{a}, func(tp *Tape) *Var { return Sigmoid(tp, a) }},
		{"relu", []*Var{a}, func(tp *Tape) *Var { return ReLU(tp, a) }},
		{"gelu", []*Var{a}, func(tp *Tape) *Var { return GELU(tp, a) }},
		{"softmax", []*Var{a}, func(tp *Tape) *Var { return Softmax(tp, a) }},
	}
	for _, tc := range cases {
		fdCheck(t, tc.name, tc.wrt, tc.f)
	}
}

func TestConcatSplitValues(t *testing.T) {
	a := NewVar(tensor.FromSlice([]float32{1, 2, 3, 4}, 2, 2))
	b := NewVar(tensor.FromSlice([]float32{5, 6}, 2, 1))
	got := Concat(nil, -1, a, b).Value
	want := []float32{1, 2, 5, 3, 4, 6}
	if fmt.Sprint(got.Shape, got.Data) != fmt.Sprint([]int{2, 3}, want) {
		t.Errorf("Concat: got %v %v want [2 3] %v", got.Shape, got.Data, want)
	}
	if sw := SwapTB(nil, NewVar(got)).Value; fmt.Sprint(sw.Shape, sw.Data) != "[3 2] [1 3 2 4 5 6]" {
		t.Errorf("SwapTB: got %v %v want [3 2] [1 3 2 4 5 6]", sw.Shape, sw.Data)
	}
	parts := Split(nil, 1, NewVar(got), 2, 1)
	if fmt.Sprint(parts[0].Value.Data, parts[1].Value.Data) != fmt.Sprint(a.Value.Data, b.Value.Data) {
		t.Errorf("Split: got %v %v", parts[0].Value.Data, parts[1].Value.Data)
	}
}

func TestActivationValues(t *testing.T) {
	x := NewVar(tensor.FromSlice([]float32{-1, 0, 2}, 3))
	for _, tc := range []struct {
		name string
		want []float64
	}{
		{"tanh", []float64{math.Tanh(-1), 0, math.Tanh(2)}},
		{"sigmoid", []float64{1 / (1 + math.E), 0.5, 1 / (1 + math.Exp(-2))}},
		{"relu", []float64{0, 0, 2}},
		{"gelu", []float64{-0.15865525393145707, 0, 1.9544997361036416}},
		{"identity", []float64{-1, 0, 2}},
	} {
		f, err := Activation(tc.name)
		if err != nil {
			t.Fatal(err)
		}
		got := f(nil, x).Value.Data
		for i := range got {
			if math.Abs(float64(got[i])-tc.want[i]) > 1e-6 {
				t.Errorf("%s(%v): got %v want %v", tc.name, x.Value.Data, got, tc.want)
				break
			}
		}
	}
	if _, err := Activation("swish"); err == nil {
		t.Error("Activation(swish): got nil error")
	}
}

func TestOpsPanicOnBadShapes(t *testing.T) {
	rng := tensor.NewRNG(1)
	for name, f := range map[string]func(){
		"concat":  func() { Concat(nil, -1, randVar(rng, 2, 3), randVar(rng, 3, 3)) },
		"split":   func() { Split(nil, -1, randVar(rng, 2, 3), 1, 1) },
		"slice":   func() { SliceLast(nil, randVar(rng, 2, 3), 2, 4) },
		"axis":    func() { Slice(nil, 2, randVar(rng, 2, 3), 0, 1) },
		"stack":   func() { Stack(nil, randVar(rng, 2), randVar(rng, 3)) },
		"add":     func() { Add(nil, randVar(rng, 2), randVar(rng, 3)) },
		"lengths": func() { LastStep(nil, randVar(rng, 3, 2, 1), []int{4, 1}) },
		"zerolen": func() { MeanPool(nil, randVar(rng, 3, 2, 1), []int{0, 1}) },
	} {
		func() {
			defer func() {
				if r := recover(); r == nil {
					t.Errorf("%s: no panic", name)
				} else if s, _ := r.(string); len(s) < 4 || s[:4] != "nn: " {
					t.Errorf("%s: panic %v, want an nn: message", name, r)
				}
			}()
			f()
		}()
	}
}
