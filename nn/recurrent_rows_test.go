package nn

import (
	"slices"
	"testing"

	"github.com/recur-ml/recur/internal/kernel"
	"github.com/recur-ml/recur/tensor"
)

// maxTestThreads is the most kernel threads the thread-count tests try:
// GOMAXPROCS is raised to it, so that on a two-core machine the team
// really has that many threads (oversubscribed: correctness, not speed).
const maxTestThreads = 8

// manyThreads raises GOMAXPROCS to maxTestThreads for the test and puts
// it and the kernel's thread count back afterwards.
func manyThreads(t *testing.T) {
	t.Cleanup(kernel.AllowThreads(maxTestThreads))
}

// TestRowSplitExact checks that running a batch's step loops as groups on
// 2 to 8 threads (rowGroups: up to 8 groups) gives bit-identical outputs,
// final states and gradients (every parameter, the input, the initial
// states) to one group on one thread: every cell kind, LSTMP, two layers,
// both directions, variable lengths (down to 1, and none reaching T),
// batch-first, given initial states, and the training regularizers
// (recurrent dropout, weight drop, zoneout, dropout between layers, input
// dropout).
func TestRowSplitExact(t *testing.T) {
	manyThreads(t)
	type mk func(rng *tensor.RNG) (Recurrent, error)
	lstm := func(c LSTMConfig) mk {
		return func(rng *tensor.RNG) (Recurrent, error) { return NewLSTM(c, rng) }
	}
	gru := func(c GRUConfig) mk {
		return func(rng *tensor.RNG) (Recurrent, error) { return NewGRU(c, rng) }
	}
	rnn := func(c RNNConfig) mk {
		return func(rng *tensor.RNG) (Recurrent, error) { return NewRNN(c, rng) }
	}
	const I = 7
	for _, tc := range []struct {
		name    string
		make    mk
		B, H, L int
		D       int
		h0, bf  bool
		lengths []int
		C       int // an LSTM's cell size, for its c0
	}{
		{"lstm", lstm(LSTMConfig{InputSize: I, HiddenSize: 64}), 8, 64, 1, 1, false, false, nil, 64},
		{"lstm-varlen-bi-l2-h0", lstm(LSTMConfig{InputSize: I, HiddenSize: 48, NumLayers: 2, Bidirectional: true, Dropout: 0.2}),
			9, 48, 2, 2, true, false, []int{11, 1, 4, 11, 7, 2, 9, 11, 3}, 48},
		{"lstmp-varlen-bi", lstm(LSTMConfig{InputSize: I, HiddenSize: 40, ProjSize: 24, Bidirectional: true}),
			10, 24, 1, 2, true, false, []int{5, 11, 1, 1, 8, 3, 11, 6, 2, 10}, 40},
		{"lstm-regularized", lstm(LSTMConfig{InputSize: I, HiddenSize: 32, InputDropout: 0.1, RecurrentDropout: 0.3, WeightDrop: 0.2}),
			12, 32, 1, 1, false, false, []int{11, 3, 9, 1, 11, 6, 4, 8, 2, 10, 5, 7}, 32},
		{"lstm-zoneout-bf", lstm(LSTMConfig{InputSize: I, HiddenSize: 32, Zoneout: 0.2, BatchFirst: true}),
			8, 32, 1, 1, false, true, []int{10, 3, 9, 1, 10, 6, 4, 8}, 32}, // none reaches T
		{"gru-varlen-bi", gru(GRUConfig{InputSize: I, HiddenSize: 40, Bidirectional: true, RecurrentDropout: 0.2}),
			12, 40, 1, 2, true, false, []int{2, 11, 9, 1, 5, 11, 3, 8, 7, 6, 4, 10}, 0},
		{"rnn-tanh", rnn(RNNConfig{InputSize: I, HiddenSize: 33}), 16, 33, 1, 1, false, false, nil, 0},
		{"rnn-relu-varlen", rnn(RNNConfig{InputSize: I, HiddenSize: 20, Nonlinearity: "relu", NumLayers: 2}),
			8, 20, 2, 1, true, false, []int{1, 2, 3, 4, 5, 6, 7, 11}, 0},
		// 33 sequences: up to 8 groups of at least 4.
		{"lstm-b33-l2", lstm(LSTMConfig{InputSize: I, HiddenSize: 40, NumLayers: 2}), 33, 40, 2, 1, true, false, nil, 40},
		{"lstm-b33-varlen-bi-l2", lstm(LSTMConfig{InputSize: I, HiddenSize: 24, NumLayers: 2, Bidirectional: true}),
			33, 24, 2, 2, false, false, varLengths(33, 11), 24},
		{"gru-b33-varlen-bi-l2", gru(GRUConfig{InputSize: I, HiddenSize: 36, NumLayers: 2, Bidirectional: true}),
			33, 36, 2, 2, true, false, varLengths(33, 11), 0},
		{"gru-b33-l2", gru(GRUConfig{InputSize: I, HiddenSize: 17, NumLayers: 2}), 33, 17, 2, 1, false, false, nil, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const T = 11
			rng := tensor.NewRNG(23)
			shape := []int{T, tc.B, I}
			if tc.bf {
				shape = []int{tc.B, T, I}
			}
			x := tensor.New(shape...)
			rng.FillNormal(x, 0, 1)
			var h0t, c0t *tensor.Tensor
			if tc.h0 {
				h0t = tensor.New(tc.L*tc.D, tc.B, tc.H)
				rng.FillNormal(h0t, 0, 0.5)
				if tc.C > 0 {
					c0t = tensor.New(tc.L*tc.D, tc.B, tc.C)
					rng.FillNormal(c0t, 0, 0.5)
				}
			}
			run := func(threads int, train bool) [][]float32 {
				kernel.SetThreads(threads)
				l, err := tc.make(tensor.NewRNG(29)) // same weights and dropout draws each run
				if err != nil {
					t.Fatal(err)
				}
				var tp *Tape
				if train {
					tp = &Tape{}
				}
				xv := NewVar(x)
				var h0 *State
				if tc.h0 {
					h0 = &State{H: NewVar(h0t)}
					if c0t != nil {
						h0.C = NewVar(c0t)
					}
				}
				y, st := l.Forward(tp, xv, tc.lengths, h0)
				out := [][]float32{y.Value.Data, st.H.Value.Data}
				if st.C != nil {
					out = append(out, st.C.Value.Data)
				}
				if train {
					tp.Backward(y, nil)
					for _, p := range l.Params() {
						out = append(out, p.Grad.Data)
					}
					out = append(out, xv.Grad.Data)
					if h0 != nil {
						out = append(out, h0.H.Grad.Data)
						if h0.C != nil {
							out = append(out, h0.C.Grad.Data)
						}
					}
				}
				for i, v := range out {
					out[i] = append([]float32(nil), v...)
				}
				return out
			}
			for _, train := range []bool{false, true} {
				a := run(1, train)
				for th := 2; th <= maxTestThreads; th++ {
					b := run(th, train)
					if len(a) != len(b) {
						t.Fatalf("train=%v: %d results, want %d", train, len(b), len(a))
					}
					for k := range a {
						for i := range a[k] {
							if a[k][i] != b[k][i] {
								t.Fatalf("train=%v: result %d [%d]: %d threads %v, 1 thread %v", train, k, i, th, b[k][i], a[k][i])
							}
						}
					}
				}
			}
		})
	}
}

// varLengths returns B lengths in [1, T] from a fixed seed, T among them.
func varLengths(B, T int) []int {
	rng := tensor.NewRNG(uint64(B*100 + T))
	l := make([]int, B)
	for i := range l {
		l[i] = 1 + rng.IntN(T)
	}
	l[B/2] = T
	return l
}

// TestRowGroups checks how rowGroups and balancedGroups divide a batch:
// one group per thread while each keeps rowGroupMinRows sequences, equal
// sequence steps per group as far as whole sequences allow, never an
// empty group, and one group for small batches, one thread, or when asked
// for one.
func TestRowGroups(t *testing.T) {
	manyThreads(t)
	for _, c := range []struct {
		threads, T, B int
		lengths       []int
		whole         bool
		want          []int // the group bounds
	}{
		{2, 10, 8, nil, false, []int{0, 4, 8}},
		{2, 10, 9, nil, false, []int{0, 5, 9}},
		{2, 10, 7, nil, false, []int{0, 7}},                                 // too small a batch
		{2, 10, 8, nil, true, []int{0, 8}},                                  // one group asked for
		{1, 10, 16, nil, false, []int{0, 16}},                               // one thread
		{2, 10, 8, []int{10, 10, 10, 1, 1, 1, 1, 1}, false, []int{0, 2, 8}}, // 35 steps: 20 | 15
		{2, 10, 8, []int{10, 1, 1, 1, 1, 1, 1, 1}, false, []int{0, 1, 8}},   // the longest alone
		{4, 10, 16, nil, false, []int{0, 4, 8, 12, 16}},
		{8, 10, 16, nil, false, []int{0, 4, 8, 12, 16}}, // 4 rows a group at least
		{8, 10, 64, nil, false, []int{0, 8, 16, 24, 32, 40, 48, 56, 64}},
		{3, 10, 13, nil, false, []int{0, 5, 9, 13}},
		// 48 steps: the first boundary where 16 are reached (20), the
		// second where 32 are (40): 20 | 20 | 8.
		{3, 10, 12, []int{10, 10, 10, 10, 1, 1, 1, 1, 1, 1, 1, 1}, false, []int{0, 2, 4, 12}},
		// 133 steps: 40 | 30 | 30 | 33.
		{4, 10, 16, []int{10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 1, 1, 1}, false, []int{0, 4, 7, 10, 16}},
		// 25 steps: the longest alone, then 3 | 6 | 6.
		{4, 10, 16, []int{10, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, false, []int{0, 1, 4, 10, 16}},
	} {
		kernel.SetThreads(c.threads)
		var p seqPlan
		p.reset(kindLSTM, c.T, c.B, c.lengths)
		var g stepGroups
		n := g.split(&p, rowGroups(&p, c.whole))
		if got := g.bounds[:n+1]; !slices.Equal(got, c.want) {
			t.Errorf("%d threads T%d B%d lengths %v whole %v: groups %v, want %v", c.threads, c.T, c.B, c.lengths, c.whole, got, c.want)
		}
	}
	// Random batches: bounds increasing, and each group's steps within one
	// sequence of the balanced share.
	rng := tensor.NewRNG(5)
	for range 200 {
		T, B := 1+rng.IntN(30), 1+rng.IntN(70)
		var p seqPlan
		p.reset(kindLSTM, T, B, varLengths(B, T))
		G := 1 + rng.IntN(min(B, maxRowGroups))
		var g stepGroups
		g.split(&p, G)
		lens := make([]int, B)
		for tt := 0; tt < T; tt++ {
			for j := 0; j < p.n[tt]; j++ {
				lens[j]++
			}
		}
		for k := 0; k < G; k++ {
			lo, hi := g.bounds[k], g.bounds[k+1]
			if hi <= lo {
				t.Fatalf("T%d B%d G%d: bounds %v: group %d empty", T, B, G, g.bounds[:G+1], k)
			}
		}
		// Boundary k is where the running sum first reaches k/G of N,
		// unless it is held back by the groups before or after it.
		sum := 0
		for k, j := 1, 0; k < G; k++ {
			for ; j < g.bounds[k]; j++ {
				sum += lens[j]
			}
			target := (k*p.N + G - 1) / G
			b := g.bounds[k]
			free := b > g.bounds[k-1]+1 && b < B-(G-k)
			if free && (sum < target || sum-lens[b-1] >= target) {
				t.Fatalf("T%d B%d G%d: bound %d at %d: %d steps before it, target %d", T, B, G, k, b, sum, target)
			}
		}
	}
}

// TestCopyRowsSplit checks gather, scatter and scatter-add between a
// padded tensor and the packed layout, large enough to split over two
// threads (copyParMin), time-major and batch-first, element by element
// against the (step, sequence) each packed row stands for.
func TestCopyRowsSplit(t *testing.T) {
	manyThreads(t)
	const T, B, w = 50, 32, 64
	rng := tensor.NewRNG(9)
	lengths := make([]int, B)
	for i := range lengths {
		lengths[i] = 1 + rng.IntN(T)
	}
	var p seqPlan
	p.reset(kindLSTM, T, B, lengths)
	if p.N*w < copyParMin {
		t.Fatalf("%d floats: below copyParMin", p.N*w)
	}
	for threads := 1; threads <= maxTestThreads; threads++ {
		kernel.SetThreads(threads)
		for _, bf := range []bool{false, true} {
			at := func(tt, b int) int { // first element of (tt, b) in the padded tensor
				if bf {
					return (b*T + tt) * w
				}
				return (tt*B + b) * w
			}
			x := tensor.New(T, B, w)
			rng.FillUniform(x, -1, 1)
			packed := make([]float32, p.N*w)
			p.gather(packed, x.Data, w, bf)
			back := make([]float32, T*B*w)
			p.scatter(back, packed, w, bf, false)
			sum := append([]float32(nil), x.Data...)
			p.scatter(sum, packed, w, bf, true)
			for tt := 0; tt < T; tt++ {
				for j := 0; j < B; j++ {
					b := p.perm[j]
					o := at(tt, b)
					for i := 0; i < w; i++ {
						valid := tt < lengths[b]
						var wantBack, wantSum float32 = 0, x.Data[o+i]
						if valid {
							if got, want := packed[(p.off[tt]+j)*w+i], x.Data[o+i]; got != want {
								t.Fatalf("threads %d bf %v: gather (t=%d, b=%d, %d) = %v, want %v", threads, bf, tt, b, i, got, want)
							}
							wantBack, wantSum = x.Data[o+i], 2*x.Data[o+i]
						}
						if back[o+i] != wantBack || sum[o+i] != wantSum {
							t.Fatalf("threads %d bf %v: (t=%d, b=%d, %d) scatter %v add %v, want %v and %v", threads, bf, tt, b, i, back[o+i], sum[o+i], wantBack, wantSum)
						}
					}
				}
			}
		}
	}
}
