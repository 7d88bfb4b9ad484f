package kernel

import "testing"

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
// copies all of h (half of it written by the other thread last step) and
// writes its half of the next h.
type exchangeTask struct {
	h   [2][]float32
	loc [2][]float32
}

func (e *exchangeTask) Step(p, s int) {
	hin, hout := e.h[s&1], e.h[(s+1)&1]
	copy(e.loc[p], hin)
	for i := p * 64; i < p*64+64; i++ {
		hout[i] = e.loc[p][i] + 1
	}
}

func (e *exchangeTask) After(int) {}

// BenchmarkLockstepExchange is the fixed cost of one step of a split
// batch-of-one layer (H = 128): the hand-off and h crossing the cores.
func BenchmarkLockstepExchange(b *testing.B) {
	defer SetThreads(Threads())
	for _, th := range []int{1, 2} {
		b.Run(map[int]string{1: "threads1", 2: "threads2"}[th], func(b *testing.B) {
			SetThreads(th)
			e := &exchangeTask{}
			for p := range 2 {
				e.h[p] = make([]float32, 128)
				e.loc[p] = make([]float32, 128)
			}
			var wake countTask
			for b.Loop() {
				Parallel(2, &wake)
				Lockstep(50, e)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/50, "ns/step")
		})
	}
}
