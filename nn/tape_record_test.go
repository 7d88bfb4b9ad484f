package nn

import (
	"testing"

	"github.com/recur-ml/recur/tensor"
)

// TestNewRecordLifetime checks the tape's record, Var and int lifetimes: a
// step's records are handed out again, zeroed, only once the next step
// starts after Backward or Reset, and never while the step records.
func TestNewRecordLifetime(t *testing.T) {
	type rec struct {
		a int
		v *Var
	}
	var tp Tape
	r1 := NewRecord[rec](&tp)
	r1.a = 7
	r2 := NewRecord[rec](&tp)
	if r1 == r2 {
		t.Fatal("two records of one step share memory")
	}
	v := tp.Var(tensor.New(2))
	tp.Grad(v).Data[0] = 3
	ids := tp.Ints(3)
	copy(ids, []int{1, 2, 3})
	tp.Backward(tp.Var(tensor.New(1)), nil)
	// Still valid after Backward, until the next step.
	if r1.a != 7 || v.Grad == nil || v.Grad.Data[0] != 3 || ids[2] != 3 {
		t.Fatalf("after Backward: record %+v, grad %v, ids %v: want them kept", *r1, v.Grad, ids)
	}
	r3 := NewRecord[rec](&tp)
	if r3 != r1 && r3 != r2 {
		t.Errorf("next step's record is new: want one of the last step's reused")
	}
	if r3.a != 0 || r3.v != nil {
		t.Errorf("reused record %+v: want zeroed", *r3)
	}
	if v.Value != nil || v.Grad != nil {
		t.Errorf("recycled Var holds value %v, grad %v: want both nil", v.Value, v.Grad)
	}
	w := tp.Var(tensor.New(2))
	if w.Grad != nil {
		t.Errorf("reused Var has a gradient: want nil")
	}
	if got := tp.Ints(3); &got[0] != &ids[0] {
		t.Errorf("Ints of the next step do not reuse the last step's")
	}
	tp.Reset()
	if r := NewRecord[rec](&tp); r.a != 0 {
		t.Errorf("record after Reset %+v: want zeroed", *r)
	}
}

// TestNilTapeRecords checks that without a tape records and Vars are
// fresh and the caller's.
func TestNilTapeRecords(t *testing.T) {
	var tp *Tape
	a, b := NewRecord[int](tp), NewRecord[int](tp)
	if a == b {
		t.Error("nil tape records share memory")
	}
	x := tensor.New(1)
	if v := tp.Var(x); v.Value != x || v.Grad != nil {
		t.Errorf("nil tape Var %+v: want value %p and no gradient", v, x)
	}
	if got := len(tp.Ints(4)); got != 4 {
		t.Errorf("len(Ints(4)) = %d, want 4", got)
	}
}

// TestArenaOpsWriteEveryElement2 is TestArenaOpsWriteEveryElement for the
// ops whose outputs, masks or saved values moved to the tape later: on a
// reused tape whose recycled memory is NaN, values and input gradients
// equal a fresh tape's.
func TestArenaOpsWriteEveryElement2(t *testing.T) {
	rng := tensor.NewRNG(5)
	x := NewVar(tensor.New(4, 2, 3)) // (T, B, F)
	rng.FillUniform(x.Value, -1, 1)
	norm := NewLayerNorm(3, 0)
	rng.FillUniform(norm.Weight.Value, 0.5, 1.5)
	drop := &Dropout{P: 0.3}
	locked := &LockedDropout{P: 0.3}
	run := func(tp *Tape) (y, dx []float32) {
		drop.rng, locked.rng = tensor.NewRNG(9), tensor.NewRNG(10)
		x.Grad = nil
		a := Mul(tp, Scale(tp, 2, x), Add(tp, x, drop.Forward(tp, x)))
		n := norm.Forward(tp, locked.Forward(tp, a))
		p := Concat(tp, 0, LastStep(tp, n, []int{4, 2}), MaxPool(tp, n, nil), MeanPool(tp, n, nil))
		out := Reshape(tp, p, -1)
		dy := tensor.New(out.Value.Shape...)
		for i := range dy.Data {
			dy.Data[i] = float32(i%5) - 2
		}
		tp.Backward(out, dy)
		return append([]float32(nil), out.Value.Data...), append([]float32(nil), x.Grad.Data...)
	}
	wantY, wantG := run(&Tape{})
	var tp Tape
	run(&tp)
	poison(&tp)
	gotY, gotG := run(&tp)
	sameOnReuse(t, "y", gotY, wantY)
	sameOnReuse(t, "x grad", gotG, wantG)
}

// sameOnReuse fails t unless got (from a reused tape) equals want (from a
// fresh one) exactly.
func sameOnReuse(t *testing.T, what string, got, want []float32) {
	t.Helper()
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("%s[%d] = %v on a reused tape, want %v", what, i, got[i], want[i])
		}
	}
}
