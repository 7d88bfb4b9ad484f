package nn_test

import (
	"runtime"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/recur-ml/recur/nn"
	"github.com/recur-ml/recur/tensor"
)

// threadFaults is the calling thread's minor page faults so far.
func threadFaults() int64 {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_THREAD, &ru); err != nil {
		panic(err)
	}
	return ru.Minflt
}

// BenchmarkLSTMInferAfterTrain times batch-one inference (T50 B1 I32
// H128, the case) in thread CPU time with the minor page faults
// per call, fresh and after a training configuration (T100 B64 I128 H512,
// forward and backward) ran in the process: "trained-live" keeps the
// trained layer and its tape (a process that trains, then serves),
// "tape-gc" collects once after dropping the tape (the end of model's
// Fit), "trained-gc" after dropping both. Run it alone, with a
// fixed count below one heap cycle of the live training state, e.g.
// -bench LSTMInferAfterTrain -benchtime 2000x: the fresh case must run
// before any training in the process.
func BenchmarkLSTMInferAfterTrain(b *testing.B) {
	const T, B, I, H = 50, 1, 32, 128
	l, x, _ := setupLSTM(b, T, B, I, H, 1)
	var big *nn.LSTM
	var tp *nn.Tape
	train := func() {
		rng := tensor.NewRNG(7)
		var err error
		big, err = nn.NewLSTM(nn.LSTMConfig{InputSize: 128, HiddenSize: 512}, rng)
		if err != nil {
			b.Fatal(err)
		}
		xb := tensor.New(100, 64, 128)
		rng.FillUniform(xb, -1, 1)
		tp = &nn.Tape{}
		for range 3 {
			tp.Reset()
			y, _ := big.Forward(tp, nn.Constant(xb), nil, nil)
			tp.Backward(y, nil)
		}
		tp.Reset()
	}
	for _, c := range []struct {
		name   string
		before func()
	}{
		{"fresh", func() {}},
		{"trained-live", train},
		{"tape-gc", func() { tp = nil; runtime.GC() }}, // what model's Fit does
		{"trained-gc", func() { big, tp = nil, nil; runtime.GC() }},
	} {
		b.Run(c.name, func(b *testing.B) {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			c.before()
			l.Forward(nil, x, nil, nil)
			f0, start := threadFaults(), threadCPU()
			for b.Loop() {
				l.Forward(nil, x, nil, nil)
			}
			n := float64(b.N)
			b.ReportMetric((threadCPU()-start)/n*1e6, "µs-cpu/seq")
			b.ReportMetric(float64(threadFaults()-f0)/n, "faults/seq")
		})
	}
	runtime.KeepAlive(big)
	runtime.KeepAlive(tp)
}
