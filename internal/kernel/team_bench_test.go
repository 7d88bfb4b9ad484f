package kernel

import (
	"fmt"
	"runtime"
	"testing"
)

// BenchmarkTeamHandoff measures one parallel call of two empty parts with
// the worker awake: the fixed cost a split kernel has to recover.
func BenchmarkTeamHandoff(b *testing.B) {
	defer SetThreads(Threads())
	SetThreads(2)
	var sink [2]int
	fn := func(p int) { sink[p]++ }
	for b.Loop() {
		parallel(2, fn)
	}
}

type countTask [2]int

func (c *countTask) RunPart(p int) { c[p]++ }

// BenchmarkParallel is BenchmarkTeamHandoff through the exported Parallel
// with a pointer task (no allocation): the per-step cost of a lockstep
// loop such as the split batch-of-one LSTM.
func BenchmarkParallel(b *testing.B) {
	defer SetThreads(Threads())
	SetThreads(2)
	var t countTask
	b.ReportAllocs()
	for b.Loop() {
		Parallel(2, &t)
	}
}

// exchangeTask is a lockstep loop that only hands h across: each part
// copies all of h (written by the other parts last step) and writes its
// share of the next h.
type exchangeTask struct {
	h     [2][]float32
	loc   [][]float32
	parts int
}

func (e *exchangeTask) Step(p, s int) {
	hin, hout := e.h[s&1], e.h[(s+1)&1]
	copy(e.loc[p], hin)
	w := len(hin) / e.parts
	for i := p * w; i < (p+1)*w; i++ {
		hout[i] = e.loc[p][i] + 1
	}
}

func (e *exchangeTask) After(int) {}

// BenchmarkLockstepExchange is the fixed cost of one step of a split
// batch-of-one layer (H = 128) in P parts on P threads: the hand-off and
// h crossing the cores. Only as many threads as the machine has cores
// give a meaningful time; more are oversubscribed.
func BenchmarkLockstepExchange(b *testing.B) {
	defer SetThreads(Threads())
	for _, th := range []int{1, 2, 4, 8} {
		b.Run(fmt.Sprintf("threads%d", th), func(b *testing.B) {
			if th > runtime.GOMAXPROCS(0) {
				b.Skipf("GOMAXPROCS %d < %d threads", runtime.GOMAXPROCS(0), th)
			}
			SetThreads(th)
			parts := max(th, 2)
			e := &exchangeTask{parts: parts, loc: make([][]float32, parts)}
			for p := range 2 {
				e.h[p] = make([]float32, 128)
			}
			for p := range e.loc {
				e.loc[p] = make([]float32, 128)
			}
			for b.Loop() {
				Parallel(th, nopTask{})
				Lockstep(50, parts, e)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/50, "ns/step")
		})
	}
}
