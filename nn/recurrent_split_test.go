package nn

import (
	"fmt"
	"sync"
	"testing"

	"github.com/recur-ml/recur/internal/kernel"
	"github.com/recur-ml/recur/tensor"
)

// TestLSTMSplitB1Exact checks that a batch-of-one LSTM at inference gives
// bit-identical outputs and final states whether its step loop runs on
// one thread or is split over two (runUnits) with 2 to 8 kernel threads,
// for hidden sizes that put the split point and the vector tails in
// different places, both directions, two layers, a length shorter than T
// and given initial states.
func TestLSTMSplitB1Exact(t *testing.T) {
	manyThreads(t)
	for _, tc := range []struct {
		H, L   int
		bi     bool
		length int // 0: full
		h0     bool
	}{
		{256, 1, false, 0, false},
		{256, 2, true, 0, true},
		{264, 1, false, 7, true},
		{300, 1, true, 5, false},
		{256, 2, false, 17, false}, // a last projection row block of one row
		{400, 1, true, 7, true},    // up to 4 parts: units 96 | 112 | 96 | 96
		{512, 2, false, 0, false},  // up to 8 parts
	} {
		t.Run(fmt.Sprintf("H%d_L%d_bi%v_len%d", tc.H, tc.L, tc.bi, tc.length), func(t *testing.T) {
			const T, I = 19, 5
			rng := tensor.NewRNG(11)
			l, err := NewLSTM(LSTMConfig{InputSize: I, HiddenSize: tc.H, NumLayers: tc.L, Bidirectional: tc.bi}, rng)
			if err != nil {
				t.Fatal(err)
			}
			if !l.core.canSplitB1(1, false) && kernel.Threads() > 1 {
				t.Fatalf("H=%d: split path not taken", tc.H)
			}
			x := tensor.New(T, 1, I)
			rng.FillNormal(x, 0, 1)
			var lengths []int
			if tc.length > 0 {
				lengths = []int{tc.length}
			}
			var h0 *State
			D := 1
			if tc.bi {
				D = 2
			}
			if tc.h0 {
				h := tensor.New(tc.L*D, 1, tc.H)
				c := tensor.New(tc.L*D, 1, tc.H)
				rng.FillNormal(h, 0, 0.5)
				rng.FillNormal(c, 0, 0.5)
				h0 = &State{H: NewVar(h), C: NewVar(c)}
			}
			run := func(threads int) (*Var, *State) {
				kernel.SetThreads(threads)
				return l.Forward(nil, NewVar(x), lengths, h0)
			}
			y1, s1 := run(1)
			for th := 2; th <= maxTestThreads; th++ {
				y2, s2 := run(th)
				if want := min(th, 4*tc.H*tc.H/(splitMinWeights/2)); unitParts(tc.H, tc.H) != want {
					t.Fatalf("%d threads: %d parts, want %d", th, unitParts(tc.H, tc.H), want)
				}
				same := func(what string, a, b []float32) {
					t.Helper()
					for i := range a {
						if a[i] != b[i] {
							t.Fatalf("%s[%d]: %d threads %v, 1 thread %v", what, i, th, b[i], a[i])
						}
					}
				}
				same("output", y1.Value.Data, y2.Value.Data)
				same("h", s1.H.Value.Data, s2.H.Value.Data)
				same("c", s1.C.Value.Data, s2.C.Value.Data)
			}
		})
	}
}

// TestLSTMBatchOneShortLength trains a batch of one whose length is shorter
// than the padded T: the steps past its end must be skipped (they once
// reached the GEMV with no rows), and outputs and gradients must equal
// those of the same sequence given unpadded.
func TestLSTMBatchOneShortLength(t *testing.T) {
	const T, L, I, H = 9, 5, 3, 8
	rng := tensor.NewRNG(5)
	l, err := NewLSTM(LSTMConfig{InputSize: I, HiddenSize: H, Bidirectional: true}, rng)
	if err != nil {
		t.Fatal(err)
	}
	xp := tensor.New(T, 1, I)
	rng.FillNormal(xp, 0, 1)
	xs := tensor.FromSlice(append([]float32(nil), xp.Data[:L*I]...), L, 1, I)
	run := func(x *tensor.Tensor, lengths []int) (y []float32, grads [][]float32, dx []float32) {
		ZeroGrad(l.Params())
		tp := &Tape{}
		xv := NewVar(x)
		out, _ := l.Forward(tp, xv, lengths, nil)
		tp.Backward(out, nil)
		for _, p := range l.Params() {
			grads = append(grads, append([]float32(nil), p.Grad.Data...))
		}
		return out.Value.Data[:L*2*H], grads, xv.Grad.Data[:L*I]
	}
	y1, g1, dx1 := run(xp, []int{L})
	y2, g2, dx2 := run(xs, nil)
	close := func(what string, a, b []float32) {
		t.Helper()
		for i := range a {
			if d := a[i] - b[i]; d > 1e-5 || d < -1e-5 {
				t.Fatalf("%s[%d]: padded %v, unpadded %v", what, i, a[i], b[i])
			}
		}
	}
	close("output", y1, y2)
	close("dx", dx1, dx2)
	for i := range g1 {
		close(l.Params()[i].Name, g1[i], g2[i])
	}
}

// TestPipelinedLayersExact checks that a stacked batch-of-one layer at
// inference gives bit-identical outputs and states whether its layers run
// one after the other (one thread) or as a pipeline over 2 to 8 threads
// (forwardPipelined: min(L, threads) of them, claiming layers in order),
// for LSTM and GRU, 2 to 5 layers, with chunk remainders of one row, a
// length shorter than T, given states and a projection of several
// k-blocks (H = 300).
func TestPipelinedLayersExact(t *testing.T) {
	manyThreads(t)
	for _, tc := range []struct {
		gru       bool
		H, L, T   int
		length, I int
		h0        bool
	}{
		{false, 128, 2, 19, 0, 5, false},
		{false, 128, 3, 17, 0, 1, true},
		{false, 64, 2, 9, 4, 3, false},
		{true, 128, 2, 25, 0, 5, true},
		{false, 300, 2, 10, 0, 2, false},
		{false, 64, 4, 21, 0, 3, true}, // more layers than some thread counts
		{true, 48, 5, 13, 9, 2, false},
	} {
		t.Run(fmt.Sprintf("gru%v_H%d_L%d_T%d_len%d", tc.gru, tc.H, tc.L, tc.T, tc.length), func(t *testing.T) {
			rng := tensor.NewRNG(21)
			var l Recurrent
			var err error
			if tc.gru {
				l, err = NewGRU(GRUConfig{InputSize: tc.I, HiddenSize: tc.H, NumLayers: tc.L}, rng)
			} else {
				l, err = NewLSTM(LSTMConfig{InputSize: tc.I, HiddenSize: tc.H, NumLayers: tc.L}, rng)
			}
			if err != nil {
				t.Fatal(err)
			}
			x := tensor.New(tc.T, 1, tc.I)
			rng.FillNormal(x, 0, 1)
			var lengths []int
			if tc.length > 0 {
				lengths = []int{tc.length}
			}
			var h0 *State
			if tc.h0 {
				h := tensor.New(tc.L, 1, tc.H)
				rng.FillNormal(h, 0, 0.5)
				h0 = &State{H: NewVar(h)}
				if !tc.gru {
					c := tensor.New(tc.L, 1, tc.H)
					rng.FillNormal(c, 0, 0.5)
					h0.C = NewVar(c)
				}
			}
			run := func(threads int) (*Var, *State) {
				kernel.SetThreads(threads)
				return l.Forward(nil, NewVar(x), lengths, h0)
			}
			y1, s1 := run(1)
			for rep := 0; rep < 2*maxTestThreads; rep++ {
				y2, s2 := run(2 + rep%(maxTestThreads-1))
				for i := range y1.Value.Data {
					if y1.Value.Data[i] != y2.Value.Data[i] {
						t.Fatalf("output[%d]: pipelined %v, sequential %v", i, y2.Value.Data[i], y1.Value.Data[i])
					}
				}
				for i := range s1.H.Value.Data {
					if s1.H.Value.Data[i] != s2.H.Value.Data[i] {
						t.Fatalf("h[%d]: pipelined %v, sequential %v", i, s2.H.Value.Data[i], s1.H.Value.Data[i])
					}
				}
				if s1.C != nil {
					for i := range s1.C.Value.Data {
						if s1.C.Value.Data[i] != s2.C.Value.Data[i] {
							t.Fatalf("c[%d]: pipelined %v, sequential %v", i, s2.C.Value.Data[i], s1.C.Value.Data[i])
						}
					}
				}
			}
		})
	}
}

// TestPipelinedLayersSeeNewWeights checks that a pipelined stack uses the
// weights of the call, not those of an earlier call: a training run
// validates (inference, pipelined) between optimizer steps, and the
// layers above the first project their input through a packed copy of
// W_ih kept in the layer's arena.
func TestPipelinedLayersSeeNewWeights(t *testing.T) {
	manyThreads(t)
	rng := tensor.NewRNG(5)
	l, err := NewLSTM(LSTMConfig{InputSize: 3, HiddenSize: 32, NumLayers: 3}, rng)
	if err != nil {
		t.Fatal(err)
	}
	x := tensor.New(20, 1, 3)
	rng.FillNormal(x, 0, 1)
	run := func(threads int) []float32 {
		kernel.SetThreads(threads)
		y, _ := l.Forward(nil, NewVar(x), nil, nil)
		return y.Value.Data
	}
	run(2)
	for _, p := range l.Params() {
		for i := range p.Value.Data {
			p.Value.Data[i] = 1.5*p.Value.Data[i] + 0.01
		}
	}
	piped, seq := run(2), run(1)
	for i := range seq {
		if piped[i] != seq[i] {
			t.Fatalf("output[%d] after the weights changed: pipelined %v, sequential %v", i, piped[i], seq[i])
		}
	}
}

// TestPaddingZeroOnReusedTape runs a full-length forward and then one with
// lengths on the same tape (whose output buffer comes back holding the
// first step's values) and checks that the padded positions of the second
// output are zero, time-major and batch-first: one small batch (one group
// of sequences), and batches of 9 (two groups when there are two threads)
// through a bidirectional stack and a GRU, whose step loops zero the rows
// of their own ended sequences (fwdLoop.pad), a sequence of length 1 and
// the full length among them.
func TestPaddingZeroOnReusedTape(t *testing.T) {
	const T, I, H = 6, 2, 4
	for _, c := range []struct {
		name    string
		lengths []int
		make    func(rng *tensor.RNG, bf bool) (Recurrent, error)
	}{
		{"lstm", []int{6, 2, 4}, func(rng *tensor.RNG, bf bool) (Recurrent, error) {
			return NewLSTM(LSTMConfig{InputSize: I, HiddenSize: H, BatchFirst: bf}, rng)
		}},
		{"lstm-bi-2layers", []int{6, 2, 4, 1, 5, 3, 6, 2, 1}, func(rng *tensor.RNG, bf bool) (Recurrent, error) {
			return NewLSTM(LSTMConfig{InputSize: I, HiddenSize: H, NumLayers: 2, Bidirectional: true, BatchFirst: bf}, rng)
		}},
		{"gru", []int{1, 3, 6, 2, 5, 4, 4, 1, 2}, func(rng *tensor.RNG, bf bool) (Recurrent, error) {
			return NewGRU(GRUConfig{InputSize: I, HiddenSize: H, BatchFirst: bf}, rng)
		}},
	} {
		for _, bf := range []bool{false, true} {
			B := len(c.lengths)
			rng := tensor.NewRNG(4)
			l, err := c.make(rng, bf)
			if err != nil {
				t.Fatal(err)
			}
			x := tensor.New(T, B, I)
			if bf {
				x = tensor.New(B, T, I)
			}
			rng.FillNormal(x, 0, 1)
			tp := &Tape{}
			for _, lengths := range [][]int{nil, c.lengths} {
				out, _ := l.Forward(tp, NewVar(x), lengths, nil)
				if lengths == nil {
					dy := tensor.New(out.Value.Shape...)
					for i := range dy.Data {
						dy.Data[i] = 1 // so that every recycled buffer is nonzero
					}
					tp.Backward(out, dy)
					continue
				}
				w := out.Value.Shape[2]
				for b, n := range lengths {
					for tt := 0; tt < T; tt++ {
						row := (tt*B + b) * w
						if bf {
							row = (b*T + tt) * w
						}
						for j := 0; j < w; j++ {
							v := out.Value.Data[row+j]
							if tt >= n && v != 0 {
								t.Fatalf("%s batchFirst=%v: padded output (t=%d, b=%d, %d) = %v, want 0", c.name, bf, tt, b, j, v)
							}
							if tt < n && v == 0 {
								t.Fatalf("%s batchFirst=%v: valid output (t=%d, b=%d, %d) = 0", c.name, bf, tt, b, j)
							}
						}
					}
				}
			}
		}
	}
}

// TestBatchOneConcurrent runs the two-core batch-of-one paths (the split
// layer and the pipelined stack) from several goroutines at once: only one
// call can hold the worker team, the others run alone, and every result
// must equal the sequential one (run with -race too).
func TestBatchOneConcurrent(t *testing.T) {
	rng := tensor.NewRNG(8)
	split, err := NewLSTM(LSTMConfig{InputSize: 3, HiddenSize: 256}, rng)
	if err != nil {
		t.Fatal(err)
	}
	stack, err := NewLSTM(LSTMConfig{InputSize: 3, HiddenSize: 64, NumLayers: 3}, rng)
	if err != nil {
		t.Fatal(err)
	}
	x := tensor.New(12, 1, 3)
	rng.FillNormal(x, 0, 1)
	for _, l := range []*LSTM{split, stack} {
		want, _ := l.Forward(nil, NewVar(x), nil, nil)
		errs := make(chan string, 8)
		var wg sync.WaitGroup
		for g := 0; g < 4; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for rep := 0; rep < 10; rep++ {
					got, _ := l.Forward(nil, NewVar(x), nil, nil)
					for i := range want.Value.Data {
						if got.Value.Data[i] != want.Value.Data[i] {
							errs <- fmt.Sprintf("output[%d] = %v, want %v", i, got.Value.Data[i], want.Value.Data[i])
							return
						}
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for e := range errs {
			t.Error(e)
		}
	}
}
