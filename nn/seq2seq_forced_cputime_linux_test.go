package nn

import (
	"runtime"
	"testing"

	"github.com/recur-ml/recur/internal/kernel"
	"github.com/recur-ml/recur/tensor"
	"golang.org/x/sys/unix"
)

// BenchmarkSeq2SeqForcedCPU times one teacher-forced forward and backward
// of recur bench's seq2seq configuration (Ts20 Tt20 B64 E256 H256 V1000,
// general attention) by the step-by-step path ("steps") and by
// forcedDecode ("forced"), in thread CPU time (ms-cpu/step) on one locked
// thread with one kernel thread: on a shared machine it leaves out the
// time the neighbours took, where wall-clock medians cannot compare the
// two. Run the two alternately (-count) and compare like with like.
func BenchmarkSeq2SeqForcedCPU(b *testing.B) {
	const Ts, Tt, B, E, H, V = 20, 20, 64, 256, 256, 1000
	for _, path := range []string{"steps", "forced"} {
		b.Run(path, func(b *testing.B) {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			defer kernel.SetThreads(kernel.Threads())
			kernel.SetThreads(1)
			m, err := NewSeq2Seq(Seq2SeqConfig{SrcVocab: V, TgtVocab: V, HiddenSize: H, EmbedSize: E}, tensor.NewRNG(1))
			if err != nil {
				b.Fatal(err)
			}
			rng := tensor.NewRNG(2)
			ids := func(n int) []int {
				s := make([]int, n)
				for i := range s {
					s[i] = rng.IntN(V)
				}
				return s
			}
			batch := Seq2SeqBatch{Src: ids(Ts * B), TgtIn: ids(Tt * B), Ts: Ts, Tt: Tt, B: B}
			dy := tensor.New(Tt, B, V)
			rng.FillUniform(dy, -1e-3, 1e-3)
			var tp Tape
			step := func() {
				var logits *Var
				if path == "forced" {
					logits, _ = m.Forward(&tp, batch, 1, nil)
				} else {
					enc := m.Encode(&tp, batch.Src, Ts, B, nil)
					logits, _ = m.forwardSteps(&tp, enc, batch, 1, nil)
				}
				tp.Backward(logits, dy)
			}
			step()
			b.ResetTimer()
			start := threadCPU()
			for i := 0; i < b.N; i++ {
				step()
			}
			b.ReportMetric((threadCPU()-start)/float64(b.N)*1e3, "ms-cpu/step")
		})
	}
}

// threadCPU is the calling thread's CPU time in seconds.
func threadCPU() float64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts); err != nil {
		panic(err)
	}
	return float64(ts.Sec) + float64(ts.Nsec)*1e-9
}
