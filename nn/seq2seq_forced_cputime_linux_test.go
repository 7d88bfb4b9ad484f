package nn

import (
	"runtime"
	"sort"
	"testing"
	"time"

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
	for _, path := range []string{"steps", "forced"} {
		b.Run(path, func(b *testing.B) {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			defer kernel.SetThreads(kernel.Threads())
			kernel.SetThreads(1)
			step := benchForcedStep(b, path == "forced")
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

// BenchmarkSeq2SeqForcedAlternate times the same forward and backward as
// BenchmarkSeq2SeqForcedCPU in wall-clock time on every kernel thread,
// alternating one step of each path, and reports each path's fastest and
// median step (ms): alternation lets both see the same neighbours on a
// shared machine, so their ratio means something where separate runs'
// times do not.
func BenchmarkSeq2SeqForcedAlternate(b *testing.B) {
	steps, forced := benchForcedStep(b, false), benchForcedStep(b, true)
	steps()
	forced()
	var ts, tf []float64
	var cs, cf float64
	for i := 0; i < b.N; i++ {
		c0, t0 := processCPU(), time.Now()
		steps()
		c1, t1 := processCPU(), time.Now()
		forced()
		c2 := processCPU()
		ts, tf = append(ts, t1.Sub(t0).Seconds()*1e3), append(tf, time.Since(t1).Seconds()*1e3)
		cs, cf = cs+c1-c0, cf+c2-c1
	}
	sort.Float64s(ts)
	sort.Float64s(tf)
	b.ReportMetric(ts[0], "ms-steps-min")
	b.ReportMetric(tf[0], "ms-forced-min")
	b.ReportMetric(ts[len(ts)/2], "ms-steps-med")
	b.ReportMetric(tf[len(tf)/2], "ms-forced-med")
	// The process's CPU time, both threads and the spinning of a waiting
	// one included: what each path costs the machine.
	b.ReportMetric(cs/float64(b.N)*1e3, "ms-cpu-steps")
	b.ReportMetric(cf/float64(b.N)*1e3, "ms-cpu-forced")
}

// processCPU is the process's CPU time (user and system) in seconds.
func processCPU() float64 {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return float64(ru.Utime.Sec+ru.Stime.Sec) + float64(ru.Utime.Usec+ru.Stime.Usec)*1e-6
}

// benchForcedStep returns one teacher-forced forward and backward of recur
// bench's seq2seq configuration (Ts20 Tt20 B64 E256 H256 V1000, general
// attention), by forcedDecode or by the step-by-step path.
func benchForcedStep(b *testing.B, forced bool) func() {
	const Ts, Tt, B, E, H, V = 20, 20, 64, 256, 256, 1000
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
	tp := new(Tape)
	return func() {
		var logits *Var
		if forced {
			logits, _ = m.Forward(tp, batch, 1, nil)
		} else {
			enc := m.Encode(tp, batch.Src, Ts, B, nil)
			logits, _ = m.forwardSteps(tp, enc, batch, 1, nil)
		}
		tp.Backward(logits, dy)
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
