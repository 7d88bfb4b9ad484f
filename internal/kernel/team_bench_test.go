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
