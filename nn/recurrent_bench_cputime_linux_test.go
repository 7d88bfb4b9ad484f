package nn_test

import (
	"runtime"
	"testing"

	"golang.org/x/sys/unix"
)

// threadCPU is the calling thread's CPU time in seconds.
func threadCPU() float64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		panic(err)
	}
	return float64(ts.Sec) + float64(ts.Nsec)*1e-9
}

// BenchmarkLSTMInferCPU is BenchmarkLSTMInfer in thread CPU time
// (µs-cpu/seq) on one locked thread: batch-1 inference runs on the calling
// thread alone, so on a shared machine this leaves out the time the
// neighbours took and compares kernels where wall-clock medians cannot.
func BenchmarkLSTMInferCPU(b *testing.B) {
	const T, B, I, H = 50, 1, 32, 128
	for _, L := range []int{1, 2} {
		b.Run(benchName(T, B, I, H, L), func(b *testing.B) {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			l, x, _ := setupLSTM(b, T, B, I, H, L)
			l.Forward(nil, x, nil, nil)
			b.ResetTimer()
			start := threadCPU()
			for i := 0; i < b.N; i++ {
				l.Forward(nil, x, nil, nil)
			}
			b.ReportMetric((threadCPU()-start)/float64(b.N)*1e6, "µs-cpu/seq")
		})
	}
}
