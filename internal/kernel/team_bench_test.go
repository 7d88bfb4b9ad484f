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
