package nn

import (
	"fmt"
	"testing"

	"github.com/recur-ml/recur/tensor"
)

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
