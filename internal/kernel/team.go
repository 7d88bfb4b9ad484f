package kernel

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// The worker team: persistent goroutines that run the parts of a parallel
// kernel call. A woken goroutine takes 100-150 µs to start on an idle core
// here, so a worker spins (yielding its P) for teamSpin after each job
// before it parks; back-to-back calls (an LSTM's time steps) find it awake.
//
// Parts are handed out dynamically: the caller works too, and a worker that
// starts late simply finds fewer parts left. What a part computes never
// depends on who runs it, so results do not depend on the team size.

// teamSpin is how long an idle worker polls for the next job before parking.
const teamSpin = 50 * time.Microsecond

type teamJob struct {
	fn    func(part int)
	parts int64
	next  atomic.Int64 // next part to hand out
	done  atomic.Int64 // parts finished
}

// work runs parts until none is left.
func (j *teamJob) work() {
	for {
		p := j.next.Add(1) - 1
		if p >= j.parts {
			return
		}
		j.fn(int(p))
		j.done.Add(1)
	}
}

type teamWorker struct {
	job    atomic.Pointer[teamJob]
	parked atomic.Bool
	wake   chan struct{} // buffered 1
}

func (w *teamWorker) loop() {
	for {
		if j := w.job.Swap(nil); j != nil {
			j.work()
			continue
		}
		start := time.Now()
		for w.job.Load() == nil && time.Since(start) < teamSpin {
			runtime.Gosched()
		}
		if w.job.Load() != nil {
			continue
		}
		w.parked.Store(true)
		if w.job.Load() != nil {
			// A job arrived while parking: whoever clears parked first
			// decides whether a wake-up token is on its way.
			if !w.parked.CompareAndSwap(true, false) {
				<-w.wake
			}
			continue
		}
		<-w.wake
	}
}

func (w *teamWorker) submit(j *teamJob) {
	w.job.Store(j)
	if w.parked.CompareAndSwap(true, false) {
		w.wake <- struct{}{}
	}
}

var team struct {
	mu      sync.Mutex // held while a parallel call uses the workers
	size    atomic.Int32
	grow    sync.Mutex // guards workers
	workers []*teamWorker
}

// SetThreads sets the number of threads (the caller plus n-1 workers) that
// large kernel calls may use. n <= 0 means runtime.GOMAXPROCS(0); n is
// capped at GOMAXPROCS so the team never has more busy threads than the Go
// scheduler runs at once. Results do not depend on n.
func SetThreads(n int) {
	maxp := runtime.GOMAXPROCS(0)
	if n <= 0 || n > maxp {
		n = maxp
	}
	team.grow.Lock()
	for len(team.workers) < n-1 {
		w := &teamWorker{wake: make(chan struct{}, 1)}
		team.workers = append(team.workers, w)
		go w.loop()
	}
	team.size.Store(int32(n))
	team.grow.Unlock()
}

// Threads returns the number of threads large kernel calls use (see
// SetThreads); it is runtime.GOMAXPROCS(0) until SetThreads is called.
func Threads() int {
	if n := team.size.Load(); n > 0 {
		return int(n)
	}
	SetThreads(0)
	return int(team.size.Load())
}

// parallel runs fn(0..parts-1), each part exactly once, on the team. When
// the team is busy (a concurrent call) or has one thread, the caller runs
// every part itself.
func parallel(parts int, fn func(part int)) {
	size := Threads()
	if parts <= 1 || size <= 1 || !team.mu.TryLock() {
		for p := 0; p < parts; p++ {
			fn(p)
		}
		return
	}
	defer team.mu.Unlock()
	j := &teamJob{fn: fn, parts: int64(parts)}
	team.grow.Lock()
	ws := team.workers[:min(size-1, parts-1, len(team.workers))]
	team.grow.Unlock()
	for _, w := range ws {
		w.submit(j)
	}
	j.work()
	for j.done.Load() < j.parts {
		runtime.Gosched()
	}
}
