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
