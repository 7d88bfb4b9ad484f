package nn

import (
	"strings"
	"testing"

	"github.com/recur-ml/recur/tensor"
)

// TestStatefulMatchesWholeSequence runs a sequence in two chunks, carrying
// the detached final state, and compares with one run over the whole
// sequence; the second chunk's backward must not reach the first chunk.
func TestStatefulMatchesWholeSequence(t *testing.T) {
	const T, B, I = 6, 3, 2
	for _, kind := range []cellKind{kindLSTM, kindGRU, kindRNNTanh} {
		r, err := newRNNCore(LSTMConfig{InputSize: I, HiddenSize: 4, NumLayers: 2, Bidirectional: false}.opts(kind), tensor.NewRNG(1))
		if err != nil {
			t.Fatal(err)
		}
		x := tensor.New(T, B, I)
		tensor.NewRNG(2).FillUniform(x, -1, 1)
		whole, wst := r.forward(nil, NewVar(x), nil, nil)
		first := NewVar(x.Slice(0, 3).Clone())
		tp := &Tape{}
		o1, st1 := r.forward(tp, first, nil, nil)
		carried := st1.Detach()
		o2, st2 := r.forward(tp, NewVar(x.Slice(3, T).Clone()), nil, carried)
		got := append(append([]float32(nil), o1.Value.Data...), o2.Value.Data...)
		if !same(got, whole.Value.Data) || !same(st2.H.Value.Data, wst.H.Value.Data) {
			t.Errorf("%v: two chunks with a carried state differ from one run", kind)
		}
		// Backward from the second chunk only: the first chunk's input
		// gets nothing, the carried state does.
		tp.Backward(o2, nil)
		if first.Grad != nil && !same(first.Grad.Data, make([]float32, len(first.Grad.Data))) {
			t.Errorf("%v: gradient crossed the detached state into the first chunk", kind)
		}
		if carried.H.Grad == nil {
			t.Errorf("%v: the carried state received no gradient", kind)
		}
	}
}

// TestInferenceAllocsDoNotGrowWithT checks that inference allocates a
// fixed number of times per call (the returned tensors and the plan),
// nothing per step, once the scratch is warm (also under -race).
func TestInferenceAllocsDoNotGrowWithT(t *testing.T) {
	for _, kind := range []cellKind{kindLSTM, kindGRU, kindRNNReLU} {
		r, err := newRNNCore(LSTMConfig{InputSize: 4, HiddenSize: 8, Bidirectional: true}.opts(kind), tensor.NewRNG(1))
		if err != nil {
			t.Fatal(err)
		}
		allocs := func(T, B int) float64 {
			x := NewVar(tensor.New(T, B, 4))
			r.forward(nil, x, nil, nil)
			return testing.AllocsPerRun(20, func() { r.forward(nil, x, nil, nil) })
		}
		// B=1 runs the GEMV path, B>1 the packed GEMM; neither may
		// allocate per step (the kernels keep their scratch and their
		// parallel jobs in persistent storage).
		for _, B := range []int{1, 3} {
			short, long := allocs(3, B), allocs(60, B)
			if long > short {
				t.Errorf("%v B=%d: %v allocations at T=60, %v at T=3: want no growth", kind, B, long, short)
			}
			if short > 32 {
				t.Errorf("%v B=%d: %v allocations per call, want <= 32", kind, B, short)
			}
		}
	}
}

func TestForwardPanicsOnMisuse(t *testing.T) {
	l, err := NewLSTM(LSTMConfig{InputSize: 3, HiddenSize: 4}, tensor.NewRNG(1))
	if err != nil {
		t.Fatal(err)
	}
	x := NewVar(tensor.New(5, 2, 3))
	cases := []struct {
		name    string
		x       *Var
		lengths []int
		h0      *State
		want    string
	}{
		{"input width", NewVar(tensor.New(5, 2, 4)), nil, nil, "input shape"},
		{"input rank", NewVar(tensor.New(5, 3)), nil, nil, "input shape"},
		{"lengths count", x, []int{5}, nil, "lengths"},
		{"length zero", x, []int{5, 0}, nil, "outside [1, 5]"},
		{"length too long", x, []int{6, 1}, nil, "outside [1, 5]"},
		{"h0 shape", x, nil, &State{H: NewVar(tensor.New(1, 3, 4))}, "h0.H"},
		{"c0 shape", x, nil, &State{H: NewVar(tensor.New(1, 2, 4)), C: NewVar(tensor.New(2, 2, 4))}, "h0.C"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			defer func() {
				r := recover()
				msg, _ := r.(string)
				if !strings.HasPrefix(msg, "nn: ") || !strings.Contains(msg, c.want) {
					t.Errorf("panic %v, want an nn: message containing %q", r, c.want)
				}
			}()
			l.Forward(nil, c.x, c.lengths, c.h0)
		})
	}
	if (*State)(nil).Detach() != nil {
		t.Error("nil State.Detach() is not nil")
	}
}

func TestOutputSizeAndZeroState(t *testing.T) {
	l, _ := NewLSTM(LSTMConfig{InputSize: 3, HiddenSize: 5, ProjSize: 2, NumLayers: 2, Bidirectional: true}, tensor.NewRNG(1))
	g, _ := NewGRU(GRUConfig{InputSize: 3, HiddenSize: 5}, tensor.NewRNG(1))
	r, _ := NewRNN(RNNConfig{InputSize: 3, HiddenSize: 4, Bidirectional: true}, tensor.NewRNG(1))
	for _, c := range []struct {
		name       string
		l          Recurrent
		size       int
		state      *State
		hs, cs     []int
		wantOutDim int
	}{
		{"lstm", l, l.OutputSize(), l.ZeroState(3), []int{4, 3, 2}, []int{4, 3, 5}, 4},
		{"gru", g, g.OutputSize(), g.ZeroState(3), []int{1, 3, 5}, nil, 5},
		{"rnn", r, r.OutputSize(), r.ZeroState(3), []int{2, 3, 4}, nil, 8},
	} {
		if c.size != c.wantOutDim {
			t.Errorf("%s: OutputSize() = %d, want %d", c.name, c.size, c.wantOutDim)
		}
		if !shapeIs(c.state.H.Value, c.hs...) || (c.cs == nil) != (c.state.C == nil) || c.cs != nil && !shapeIs(c.state.C.Value, c.cs...) {
			t.Errorf("%s: ZeroState(3) shapes wrong", c.name)
		}
		out, _ := c.l.Forward(nil, NewVar(tensor.New(2, 3, 3)), nil, c.state)
		if out.Value.Shape[2] != c.size {
			t.Errorf("%s: output last dim %d, OutputSize %d", c.name, out.Value.Shape[2], c.size)
		}
	}
}

// TestTrainingAllocsDoNotGrowWithT checks that a training pass (forward
// with a tape, backward) allocates a fixed number of times however long
// the sequence: the activations come from the layer's reused arenas, the
// per-step products from the kernels' cached scratch, at batch 1 (GEMV)
// and above (packed GEMM), with every regularizer that adds per-step work.
func TestTrainingAllocsDoNotGrowWithT(t *testing.T) {
	for _, kind := range []cellKind{kindLSTM, kindGRU, kindRNNTanh} {
		cfg := LSTMConfig{InputSize: 4, HiddenSize: 8, NumLayers: 2, Bidirectional: true}
		r, err := newRNNCore(cfg.opts(kind), tensor.NewRNG(1))
		if err != nil {
			t.Fatal(err)
		}
		allocs := func(T, B int) float64 {
			x := NewVar(tensor.New(T, B, 4))
			pass := func() {
				tp := &Tape{}
				out, _ := r.forward(tp, x, nil, nil)
				tp.Backward(out, tensor.New(out.Value.Shape...))
			}
			pass()
			return testing.AllocsPerRun(10, pass)
		}
		for _, B := range []int{1, 3} {
			if short, long := allocs(3, B), allocs(60, B); long > short {
				t.Errorf("%v B=%d: %v allocations per training pass at T=60, %v at T=3: want no growth", kind, B, long, short)
			}
		}
	}
}

// TestStateDetachInto checks that DetachInto copies into matching tensors
// (no new memory), drops gradients, and falls back to Detach otherwise.
func TestStateDetachInto(t *testing.T) {
	mk := func(v float32, dims ...int) *Var {
		x := tensor.New(dims...)
		for i := range x.Data {
			x.Data[i] = v
		}
		return NewVar(x)
	}
	src := &State{H: mk(1, 2, 1, 3), C: mk(2, 2, 1, 3)}
	dst := &State{H: mk(0, 2, 1, 3), C: mk(0, 2, 1, 3)}
	dst.H.Grad = tensor.New(2, 1, 3)
	h, c := dst.H.Value, dst.C.Value
	got := src.DetachInto(dst)
	if got != dst || got.H.Value != h || got.C.Value != c {
		t.Fatal("DetachInto did not reuse dst's tensors")
	}
	if got.H.Value.Data[0] != 1 || got.C.Value.Data[5] != 2 || got.H.Grad != nil {
		t.Errorf("got h %v c %v grad %v, want 1s, 2s, no gradient", got.H.Value.Data, got.C.Value.Data, got.H.Grad)
	}
	src.H.Value.Data[0] = 9
	if got.H.Value.Data[0] != 1 {
		t.Error("DetachInto shares memory with the source")
	}
	other := &State{H: mk(0, 1, 1, 3)} // wrong shape, no C
	got = src.DetachInto(other)
	if got.H.Value == other.H.Value && got.H.Value.Shape[0] != 2 {
		t.Error("mismatched shape reused")
	}
	if got.C == nil || got.C.Value.Data[0] != 2 || got.H.Value.Data[0] != 9 {
		t.Errorf("fallback copy: h %v, c %v", got.H.Value.Data, got.C)
	}
	if (*State)(nil).DetachInto(dst) != nil {
		t.Error("nil state detached into non-nil")
	}
}
