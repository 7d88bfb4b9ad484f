package nn

import (
	"fmt"
	"math"
	"testing"

	"github.com/recur-ml/recur/tensor"
)

func ones(shape ...int) *Var {
	t := tensor.New(shape...)
	t.Fill(1)
	return NewVar(t)
}

func TestDropoutOffOutsideTraining(t *testing.T) {
	x := ones(4, 5)
	for _, tp := range []*Tape{nil, {Eval: true}} {
		if y := NewDropout(0.5, tensor.NewRNG(1)).Forward(tp, x); y != x {
			t.Errorf("Dropout with tape %v changed its input", tp)
		}
		if y := NewLockedDropout(0.5, tensor.NewRNG(1)).Forward(tp, ones(2, 3, 4)); y.Value.Sum() != 24 {
			t.Errorf("LockedDropout with tape %v changed its input", tp)
		}
		e := NewEmbedding(3, 2, -1, tensor.NewRNG(1))
		y := NewEmbeddingDropout(0.5, tensor.NewRNG(1)).Forward(tp, e, []int{0, 1, 2})
		if fmt.Sprint(y.Value.Data) != fmt.Sprint(e.Weight.Value.Data) {
			t.Errorf("EmbeddingDropout with tape %v changed the lookup", tp)
		}
	}
}

func TestDropoutScalingAndGradient(t *testing.T) {
	const p = 0.25
	x := ones(200, 50)
	tp := &Tape{}
	y := NewDropout(p, tensor.NewRNG(7)).Forward(tp, x)
	zeros := 0
	for _, v := range y.Value.Data {
		switch v {
		case 0:
			zeros++
		case 1 / (1 - p):
		default:
			t.Fatalf("dropout value %v, want 0 or %v", v, 1/(1-p))
		}
	}
	if frac := float64(zeros) / 10000; math.Abs(frac-p) > 0.02 {
		t.Errorf("dropped fraction %v, want about %v", frac, p)
	}
	if m := y.Value.Sum() / 10000; math.Abs(m-1) > 0.03 {
		t.Errorf("mean after dropout %v, want about 1", m)
	}
	tp.Backward(y, nil)
	for i, g := range x.Grad.Data {
		if g != y.Value.Data[i] {
			t.Fatalf("gradient[%d] = %v, want the mask value %v", i, g, y.Value.Data[i])
		}
	}
}

func TestDropoutDeterministicBySeed(t *testing.T) {
	run := func(seed uint64) string {
		tp := &Tape{}
		a := NewDropout(0.5, tensor.NewRNG(seed)).Forward(tp, ones(3, 7))
		b := NewLockedDropout(0.5, tensor.NewRNG(seed)).Forward(tp, ones(2, 3, 7))
		return fmt.Sprint(a.Value.Data, b.Value.Data)
	}
	if run(3) != run(3) {
		t.Error("same seed, different masks")
	}
	if run(3) == run(4) {
		t.Error("different seeds, same masks")
	}
}

func TestLockedDropoutSharesMaskOverTime(t *testing.T) {
	y := NewLockedDropout(0.5, tensor.NewRNG(2)).Forward(&Tape{}, ones(5, 3, 4)).Value
	for tt := 1; tt < 5; tt++ {
		if fmt.Sprint(y.Row(tt).Data) != fmt.Sprint(y.Row(0).Data) {
			t.Fatalf("step %d mask %v differs from step 0 %v", tt, y.Row(tt).Data, y.Row(0).Data)
		}
	}
	x := randVar(tensor.NewRNG(3), 3, 2, 4)
	fdCheck(t, "locked", []*Var{x}, func(tp *Tape) *Var {
		if tp == nil {
			tp = &Tape{} // a training tape, never run, for the loss evaluations
		}
		return NewLockedDropout(0.5, tensor.NewRNG(9)).Forward(tp, x) // same mask every call
	})
}

func TestEmbeddingDropoutDropsWholeWords(t *testing.T) {
	e := NewEmbedding(6, 3, -1, tensor.NewRNG(1))
	ids := []int{0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4, 5}
	tp := &Tape{}
	y := NewEmbeddingDropout(0.5, tensor.NewRNG(5)).Forward(tp, e, ids, 2, 6)
	dropped := 0
	for i, id := range ids[:6] {
		a, b := y.Value.Data[i*3:i*3+3], y.Value.Data[(i+6)*3:(i+6)*3+3]
		if fmt.Sprint(a) != fmt.Sprint(b) {
			t.Errorf("word %d embeds to %v and %v in one pass", id, a, b)
		}
		w := e.Weight.Value.Data[id*3 : id*3+3]
		switch {
		case a[0] == 0 && a[1] == 0 && a[2] == 0:
			dropped++
		case a[0] == 2*w[0] && a[1] == 2*w[1] && a[2] == 2*w[2]:
		default:
			t.Errorf("word %d: got %v, want 0 or 2×%v", id, a, w)
		}
	}
	if dropped == 0 || dropped == 6 {
		t.Errorf("%d of 6 words dropped at p=0.5 (seed 5)", dropped)
	}
	tp.Backward(y, nil)
	for id := 0; id < 6; id++ {
		if g, v := e.Weight.Grad.Data[id*3], y.Value.Data[id*3]; (g == 0) != (v == 0) {
			t.Errorf("word %d: gradient %v for output %v", id, g, v)
		}
	}
}

func TestDropoutBadProbability(t *testing.T) {
	for _, p := range []float64{-0.1, 1, math.NaN()} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("NewDropout(%v): no panic", p)
				}
			}()
			NewDropout(p, tensor.NewRNG(1))
		}()
	}
}
