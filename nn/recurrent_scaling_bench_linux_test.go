package nn_test

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/recur-ml/recur/internal/kernel"
	"github.com/recur-ml/recur/nn"
)

// BenchmarkLSTMRowsOneThread times a training step's forward and
// backward (no optimizer) of the standard LSTM configurations on one
// kernel thread, in thread CPU time, at the batch B and at B/2, B/4, ...
// down to 1 sequence: under rule 3 a batch of B on P threads runs P
// groups of B/P sequences side by side, each like a batch of B/P on one
// thread, with the large GEMMs split over the P threads; so ms(B)/ms(B/P)
// here is the speed-up the step loops allow on P cores (BENCHMARKS.md,
// "Scaling to N cores"). Thread CPU time leaves out what a shared
// machine's neighbours take.
func BenchmarkLSTMRowsOneThread(b *testing.B) {
	defer kernel.SetThreads(kernel.Threads())
	for _, c := range []struct{ T, B, I, H, L int }{
		{50, 32, 64, 256, 1}, {100, 64, 128, 512, 1}, {35, 20, 200, 200, 2}, {28, 128, 28, 128, 1},
	} {
		for rows := c.B; rows >= 1; rows /= 2 {
			b.Run(fmt.Sprintf("%s/rows%d", benchName(c.T, c.B, c.I, c.H, c.L), rows), func(b *testing.B) {
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
				kernel.SetThreads(1)
				l, x, _ := setupLSTM(b, c.T, rows, c.I, c.H, c.L)
				tp := &nn.Tape{}
				step := func() {
					tp.Reset()
					y, _ := l.Forward(tp, x, nil, nil)
					tp.Backward(y, nil)
				}
				step()
				start := threadCPU()
				for b.Loop() {
					step()
				}
				b.ReportMetric((threadCPU()-start)/float64(b.N)*1e3, "ms-cpu/step")
			})
		}
	}
}
