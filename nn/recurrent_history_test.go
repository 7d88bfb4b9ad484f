package nn

import (
	"runtime"
	"testing"

	"github.com/recur-ml/recur/internal/kernel"
	"github.com/recur-ml/recur/tensor"
)

// inferBytes returns the bytes a nil-tape forward of l on x allocates,
// per call over n calls, the least of three such runs (the process's
// other goroutines, a test's leftovers among them, may allocate during
// one).
func inferBytes(l *LSTM, x *Var, n int) uint64 {
	best := uint64(1 << 63)
	for range 3 {
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		for range n {
			l.Forward(nil, x, nil, nil)
		}
		runtime.ReadMemStats(&m1)
		best = min(best, (m1.TotalAlloc-m0.TotalAlloc)/uint64(n))
	}
	return best
}

// TestBatchOneInferenceAfterTraining checks that what a batch-of-one
// inference does is the same in a fresh state and after a training
// configuration ran in the process: the same execution plan and kernel
// threads, and the same bytes allocated per call, which are its results
// (the output and the final states) and a few headers, nothing sized by
// the earlier configuration (the results plus 2 KiB of headers today).
// After a training phase the Go heap's goal is large, so until its next
// collection every byte a call allocates lands on a page never touched
// before (a page fault per 4 KiB: the latency that depended on history,
// BENCHMARKS.md "Batch-one latency after training"); what recur can keep
// from adding to that is any allocation beyond the results, which this
// pins.
func TestBatchOneInferenceAfterTraining(t *testing.T) {
	manyThreads(t)
	kernel.SetThreads(2)
	const T, I, H = 50, 32, 128
	rng := tensor.NewRNG(3)
	small, err := NewLSTM(LSTMConfig{InputSize: I, HiddenSize: H}, rng)
	if err != nil {
		t.Fatal(err)
	}
	xs := tensor.New(T, 1, I)
	rng.FillNormal(xs, 0, 1)
	x := NewVar(xs)
	small.Forward(nil, x, nil, nil)
	var p seqPlan
	p.reset(kindLSTM, T, 1, nil)
	planFresh := small.core.planExec(nil, &p)
	fresh := inferBytes(small, x, 50)
	results := uint64(4 * (T*H + 2*H)) // output, h_n, c_n
	t.Logf("%d bytes a call; the results are %d", fresh, results)
	if fresh > results+4096 {
		t.Errorf("fresh: %d bytes a call, want at most the results' %d + 4 KiB", fresh, results)
	}

	// A training configuration with row groups on every thread.
	big, err := NewLSTM(LSTMConfig{InputSize: 64, HiddenSize: 192, NumLayers: 2}, rng)
	if err != nil {
		t.Fatal(err)
	}
	xb := tensor.New(30, 48, 64)
	rng.FillNormal(xb, 0, 1)
	tp := &Tape{}
	for range 3 {
		tp.Reset()
		y, _ := big.Forward(tp, tp.Var(xb), nil, nil)
		tp.Backward(y, nil)
	}

	if got := kernel.Threads(); got != 2 {
		t.Errorf("after training: %d kernel threads, want 2", got)
	}
	p.reset(kindLSTM, T, 1, nil)
	if plan := small.core.planExec(nil, &p); plan != planFresh {
		t.Errorf("after training: plan %+v, fresh %+v", plan, planFresh)
	}
	// A few bytes of slack for an allocation elsewhere in the process
	// during the 50 calls; what a call allocates is kilobytes.
	if after := inferBytes(small, x, 50); after > fresh+256 {
		t.Errorf("after training: %d bytes a call, fresh %d", after, fresh)
	}
	runtime.KeepAlive(big)
	runtime.KeepAlive(tp)
}
