package nn

import (
	"math"

	"testing"

	"github.com/recur-ml/recur/tensor"
)

func TestTapeArenaReusesAfterBackward(t *testing.T) {
	var tp Tape
	a := tp.Buffer(3, 4)
	b := tp.Buffer(12)
	if &a.Data[0] == &b.Data[0] {
		t.Fatal("two live buffers share memory")
	}
	a.Data[5] = 7
	y := NewVar(tensor.New(1))
	tp.Backward(y, nil)
	c := tp.Zeros(2, 6)
	if got, want := c.Shape, []int{2, 6}; len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("shape %v, want %v", got, want)
	}
	if &c.Data[0] != &a.Data[0] && &c.Data[0] != &b.Data[0] {
		t.Error("buffer not reused after Backward")
	}
	for i, v := range c.Data {
		if v != 0 {
			t.Fatalf("Zeros[%d] = %v, want 0", i, v)
		}
	}
	d := tp.Buffer(4, 3)
	if &d.Data[0] == &c.Data[0] {
		t.Error("a live buffer was handed out twice")
	}
	tp.Reset()
	if e := tp.Buffer(5); len(e.Data) != 5 {
		t.Errorf("len %d, want 5", len(e.Data))
	}
}

func TestTapeGrad(t *testing.T) {
	var tp Tape
	v := NewVar(tensor.New(2, 3))
	g := tp.Grad(v)
	if g != v.Grad || len(g.Data) != 6 {
		t.Fatalf("Grad did not set v.Grad of 6 elements")
	}
	if tp.Grad(v) != g {
		t.Error("second Grad replaced the gradient")
	}
	var nilTape *Tape
	w := NewVar(tensor.New(4))
	if got := nilTape.Grad(w); len(got.Data) != 4 {
		t.Errorf("nil tape Grad len %d, want 4", len(got.Data))
	}
}

func TestLinearSteadyStateReusesBuffers(t *testing.T) {
	rng := tensor.NewRNG(1)
	l := NewLinear(8, 16, true, rng)
	x := NewVar(tensor.New(5, 8))
	rng.FillUniform(x.Value, -1, 1)
	var tp Tape
	step := func() *Var {
		x.Grad = nil
		y := l.Forward(&tp, x)
		dy := tensor.New(y.Value.Shape...)
		dy.Fill(1)
		tp.Backward(y, dy)
		return y
	}
	first := step()
	want := append([]float32(nil), first.Value.Data...)
	wantG := append([]float32(nil), x.Grad.Data...)
	second := step()
	if &first.Value.Data[0] != &second.Value.Data[0] {
		t.Error("Linear output not reused across steps")
	}
	for i := range want {
		if second.Value.Data[i] != want[i] || x.Grad.Data[i%len(x.Grad.Data)] != wantG[i%len(wantG)] {
			t.Fatalf("step 2 differs at %d: got %v want %v", i, second.Value.Data[i], want[i])
		}
	}
}

// A Var that outlives the step (a fixed input) must not keep a recycled
// gradient buffer: the next step would add into memory handed to another
// op.
func TestTapeGradDetachedWhenRecycled(t *testing.T) {
	var tp Tape
	x := NewVar(tensor.New(3))
	g := tp.Grad(x)
	g.Data[0] = 5
	tp.Backward(NewVar(tensor.New(1)), nil)
	if x.Grad == nil || x.Grad.Data[0] != 5 {
		t.Fatal("gradient not readable after Backward")
	}
	b := tp.Buffer(3)
	if x.Grad != nil {
		t.Fatalf("x.Grad still set after its buffer was handed out again (same memory: %v)", &b.Data[0] == &g.Data[0])
	}
	if g2 := tp.Grad(x); &g2.Data[0] == &b.Data[0] || g2.Data[0] != 0 {
		t.Errorf("fresh gradient shares a live buffer or is not zero")
	}
}

// poison fills every recycled buffer of tp with NaN, so an op that takes a
// Buffer and leaves an element unwritten shows it.
func poison(tp *Tape) {
	tp.arena.settle()
	for _, l := range tp.arena.free {
		for _, b := range l {
			b.t.Fill(float32(math.NaN()))
		}
	}
}

// TestArenaOpsWriteEveryElement runs ops that take unzeroed buffers on a
// reused tape whose recycled memory is NaN and checks values and input
// gradients against a fresh tape.
func TestArenaOpsWriteEveryElement(t *testing.T) {
	rng := tensor.NewRNG(3)
	emb := NewEmbedding(7, 4, -1, rng)
	lin := NewLinear(8, 5, true, rng)
	drop := &Dropout{P: 0.5, rng: tensor.NewRNG(9)}
	ids := []int{1, 6, 0, 3, 3, 2}
	run := func(tp *Tape) (y, dx []float32) {
		drop.rng = tensor.NewRNG(9)
		e := emb.Forward(tp, ids, 3, 2) // (3, 2, 4)
		a := Concat(tp, -1, Tanh(tp, e), Sigmoid(tp, e))
		s := SwapTB(tp, drop.Forward(tp, Softmax(tp, a)))
		st := Stack(tp, Slice(tp, 0, s, 0, 1), Slice(tp, 0, s, 1, 2))
		out := lin.Forward(tp, st)
		dy := tensor.New(out.Value.Shape...)
		for i := range dy.Data {
			dy.Data[i] = float32(i%5) - 2
		}
		ZeroGrad(emb.Params())
		tp.Backward(out, dy)
		return append([]float32(nil), out.Value.Data...), append([]float32(nil), emb.Weight.Grad.Data...)
	}
	wantY, wantG := run(&Tape{})
	var tp Tape
	run(&tp)
	poison(&tp)
	gotY, gotG := run(&tp)
	sameOnReuse(t, "y", gotY, wantY)
	sameOnReuse(t, "embedding grad", gotG, wantG)
}

// A buffer the last step did not use is dropped, not kept forever.
func TestTapeArenaDropsUnusedSizes(t *testing.T) {
	var tp Tape
	tp.Buffer(10)
	tp.Reset()
	tp.Buffer(20) // step 2 uses another size; the 10 is free, untaken
	tp.Reset()
	tp.Buffer(30)
	held := 0
	for _, l := range tp.arena.free {
		held += len(l)
	}
	if held != 1 { // the 20 of the step before; the 10 is let go
		t.Errorf("arena holds %d free buffers, want 1", held)
	}
}
