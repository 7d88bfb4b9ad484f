package kernel

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestSetThreads(t *testing.T) {
	defer SetThreads(0)
	maxp := runtime.GOMAXPROCS(0)
	for _, c := range []struct{ set, want int }{{1, 1}, {0, maxp}, {-3, maxp}, {maxp + 5, maxp}, {maxp, maxp}} {
		SetThreads(c.set)
		if got := Threads(); got != c.want {
			t.Errorf("SetThreads(%d): Threads() = %d, want %d", c.set, got, c.want)
		}
	}
}

// TestParallelRunsEachPartOnce runs jobs back to back (workers awake),
// after a pause (workers parked) and from concurrent callers (the losers
// run alone), counting how often each part ran.
func TestParallelRunsEachPartOnce(t *testing.T) {
	defer SetThreads(0)
	SetThreads(2)
	check := func(parts int) {
		counts := make([]atomic.Int32, parts)
		parallel(parts, func(p int) { counts[p].Add(1) })
		for p := range counts {
			if got := counts[p].Load(); got != 1 {
				t.Fatalf("parts=%d: part %d ran %d times, want 1", parts, p, got)
			}
		}
	}
	// Back to back with changing part counts: a worker still finishing
	// one call must never claim a part of the next.
	for i := 0; i < 3000; i++ {
		check(1 + i%9)
	}
	time.Sleep(2 * teamSpin)
	check(5)
	time.Sleep(2 * teamSpin)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				check(7)
			}
		}()
	}
	wg.Wait()
}

type markTask struct{ hits [5]atomicCounter }

type atomicCounter struct{ n atomic.Int32 }

func (m *markTask) RunPart(p int) { m.hits[p].n.Add(1) }

// TestParallel checks that Parallel runs every part exactly once, with
// the team and without (one thread), and allocates nothing.
func TestParallel(t *testing.T) {
	defer SetThreads(Threads())
	for _, threads := range []int{1, 2} {
		SetThreads(threads)
		for parts := 0; parts <= 5; parts++ {
			var m markTask
			for rep := 0; rep < 100; rep++ {
				Parallel(parts, &m)
			}
			for p := range m.hits {
				want := int32(0)
				if p < parts {
					want = 100
				}
				if got := m.hits[p].n.Load(); got != want {
					t.Errorf("threads %d, parts %d: part %d ran %d times, want %d", threads, parts, p, got, want)
				}
			}
		}
	}
	var m markTask
	if n := testing.AllocsPerRun(100, func() { Parallel(2, &m) }); n != 0 && !raceEnabled {
		t.Errorf("Parallel allocates %v times per call", n)
	}
}

// orderTask checks Lockstep's ordering: every part of step s runs after
// After(s-1), and After(s) after every part of step s.
type orderTask struct {
	t     *testing.T
	ran   [][]atomic.Int32 // [part][step]
	after atomic.Int32     // steps whose After has run
}

func newOrderTask(t *testing.T, parts, steps int) *orderTask {
	o := &orderTask{t: t, ran: make([][]atomic.Int32, parts)}
	for p := range o.ran {
		o.ran[p] = make([]atomic.Int32, steps)
	}
	return o
}

func (o *orderTask) Step(p, s int) {
	if got := o.after.Load(); got != int32(s) {
		o.t.Errorf("part %d of step %d started after %d Afters", p, s, got)
	}
	o.ran[p][s].Add(1)
}

func (o *orderTask) After(s int) {
	for p := range o.ran {
		if n := o.ran[p][s].Load(); n != 1 {
			o.t.Errorf("After(%d): part %d ran %d times", s, p, n)
		}
	}
	o.after.Add(1)
}

// nopTask is a Parallel task that does nothing (it wakes the workers).
type nopTask struct{}

func (nopTask) RunPart(int) {}

// TestLockstep runs Lockstep loops of 1 to 8 parts with 1 to 8 threads
// (GOMAXPROCS 8; more parts than threads make the caller take parts
// over), with the workers awake (a Parallel call just before) and not,
// and checks that every part of every step runs once, in order, without
// allocating.
func TestLockstep(t *testing.T) {
	defer SetThreads(Threads())
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(8))
	const steps = 60
	for threads := 1; threads <= 8; threads++ {
		SetThreads(threads)
		for parts := 1; parts <= 8; parts++ {
			for _, wake := range []bool{true, false} {
				for rep := 0; rep < 3; rep++ {
					o := newOrderTask(t, parts, steps)
					if wake {
						Parallel(threads, nopTask{})
					}
					Lockstep(steps, parts, o)
					if got := o.after.Load(); got != steps {
						t.Fatalf("threads %d parts %d: %d Afters, want %d", threads, parts, got, steps)
					}
				}
			}
		}
	}
	SetThreads(2)
	o := newOrderTask(t, 2, 1)
	allocs := testing.AllocsPerRun(50, func() {
		o.after.Store(0)
		o.ran[0][0].Store(0)
		o.ran[1][0].Store(0)
		Lockstep(1, 2, o)
	})
	if allocs != 0 && !raceEnabled {
		t.Errorf("Lockstep allocates %v times per call", allocs)
	}
	Lockstep(0, 2, o) // no steps: returns at once
}

// TestISA checks the instruction-set name against the dispatch flags.
func TestISA(t *testing.T) {
	a2, a512 := useAVX2, useAVX512
	defer func() { useAVX2, useAVX512 = a2, a512 }()
	for _, c := range []struct {
		avx2, avx512 bool
		want         string
	}{{true, true, "AVX-512"}, {true, false, "AVX2/FMA"}, {false, true, "pure Go"}, {false, false, "pure Go"}} {
		useAVX2, useAVX512 = c.avx2, c.avx512
		if got := ISA(); got != c.want {
			t.Errorf("avx2=%v avx512=%v: ISA() = %q, want %q", c.avx2, c.avx512, got, c.want)
		}
	}
}

// claimOrder records the order in which parts run and, on the first part
// the front claimer runs, lets a back claimer take what is left.
type claimOrder struct {
	j     *teamJob
	gen   uint64
	order []int
	nest  bool
}

func (o *claimOrder) runPart(p int) {
	o.order = append(o.order, p)
	if o.nest {
		o.nest = false
		o.j.work(o.gen, true)
	}
}

// TestTeamJobClaimsFromBothEnds checks the claim order of a call's parts:
// the caller from the front, workers from the back, each part once, and
// nothing after the two ends meet.
func TestTeamJobClaimsFromBothEnds(t *testing.T) {
	for _, c := range []struct {
		parts    int
		fromBack bool
		nest     bool
		want     []int
	}{
		{4, false, false, []int{0, 1, 2, 3}},
		{4, true, false, []int{3, 2, 1, 0}},
		// A worker arriving while the caller runs part 0 takes the rest
		// from the back; the caller then finds nothing left.
		{5, false, true, []int{0, 4, 3, 2, 1}},
		{1, false, true, []int{0}},
	} {
		var j teamJob
		const gen = 7
		o := &claimOrder{j: &j, gen: gen, nest: c.nest}
		j.task = o
		j.state.Store(gen<<32 | uint64(c.parts)<<16)
		j.work(gen, c.fromBack)
		if fmt.Sprint(o.order) != fmt.Sprint(c.want) {
			t.Errorf("parts %d fromBack %v nest %v: ran %v, want %v", c.parts, c.fromBack, c.nest, o.order, c.want)
		}
		if got := j.done.Load(); got != int64(c.parts) {
			t.Errorf("parts %d: done = %d, want %d", c.parts, got, c.parts)
		}
		// Another generation claims nothing.
		o.order = nil
		j.state.Store(gen<<32 | uint64(c.parts)<<16)
		j.work(gen+1, false)
		if len(o.order) != 0 {
			t.Errorf("parts %d: generation %d ran %v of generation %d", c.parts, gen+1, o.order, gen)
		}
	}
}

// TestWake parks the workers, wakes them and checks that they come up
// awake with nothing to do, that a call then runs each part once, and that
// a worker woken for nothing parks again.
func TestWake(t *testing.T) {
	defer SetThreads(0)
	SetThreads(1)
	Wake() // one thread: nothing to wake, no panic
	if runtime.GOMAXPROCS(0) < 2 {
		return // the rest needs a worker; TestTeamJobClaimsFromBothEnds covers the claims
	}
	SetThreads(2)
	parallel(2, func(int) {}) // start the worker
	w := team.workers[0]
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(time.Second); !cond(); {
			if time.Now().After(deadline) {
				t.Fatalf("the worker did not %s within a second", what)
			}
			time.Sleep(10 * time.Microsecond)
		}
	}
	parkedNow := func() bool { return w.parked.Load() && !w.running.Load() }
	for i := 0; i < 3; i++ {
		waitFor("park after its last call", parkedNow)
		r0 := w.rounds.Load()
		Wake()
		// It goes round its loop once it runs (it may have spun and
		// parked again by the time this looks, on a loaded machine).
		waitFor("run after Wake", func() bool { return w.rounds.Load() > r0 && w.gen.Load() == 0 })
		waitFor("park again with nothing to do", parkedNow)
		counts := make([]atomic.Int32, 6)
		parallel(6, func(p int) { counts[p].Add(1) })
		for p := range counts {
			if got := counts[p].Load(); got != 1 {
				t.Fatalf("after Wake: part %d ran %d times, want 1", p, got)
			}
		}
	}
}
