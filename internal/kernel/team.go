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
// starts late simply finds fewer parts left. The caller takes them from
// the front and the workers from the back, so that in a loop of like calls
// each thread keeps meeting the same operands in its own core's cache.
// What a part computes never depends on who runs it, so results do not
// depend on the team size.
//
// A parallel call allocates nothing: the team has one job record, reused
// by every call (team.mu serializes them), and the work is a teamTask that
// the caller keeps in the team's own storage (team.tasks) while it holds
// team.mu. Each call gets a new generation number; a worker joins the
// generation it was handed and claims parts with a compare-and-swap on
// (generation, next part), so a worker that wakes up after its call is over
// finds a different generation and claims nothing.

// teamSpin is how long an idle worker polls for the next job before
// parking. A training step has single-threaded stretches of a few hundred
// microseconds between its parallel parts (the loss, the optimizer, the
// packing of a layer's weights); at 50 µs the worker parked in each and
// the next parallel call started on one core while it woke (a T50 B32
// H256 LSTM's input projection took 0.78 ms instead of 0.63, its step
// loops started 0.2-0.3 ms late). Polling yields the P, so a program with
// other goroutines to run loses nothing to it.
const teamSpin = 500 * time.Microsecond

// teamTask is the work of a parallel call: runPart(p) for every part p.
type teamTask interface{ runPart(part int) }

// funcTask adapts a function to teamTask (tests; it allocates).
type funcTask func(part int)

func (f funcTask) runPart(part int) { f(part) }

type teamJob struct {
	// task is set before the generation is published and read only by a
	// thread that has claimed a part of that generation.
	task teamTask
	// state is generation<<32 | back<<16 | front, in one word so that a
	// thread still looking at the previous generation can never claim a
	// part of the next one. Parts front <= p < back are unclaimed: the
	// caller claims from the front, the workers from the back, so that
	// from one call to the next each thread tends to get the same parts
	// (and finds their operands still in its core's cache: a recurrent
	// layer's time steps run the same product against the same weights).
	state atomic.Uint64
	done  atomic.Int64 // parts finished
}

// maxParts bounds the parts of one call (they share state's 16-bit fields).
const maxParts = 1<<16 - 1

// work claims and runs parts of generation gen until none is left, from
// the back when fromBack is set (a worker), else from the front (the
// caller).
func (j *teamJob) work(gen uint64, fromBack bool) {
	for {
		s := j.state.Load()
		front, back := s&0xffff, s>>16&0xffff
		if s>>32 != gen || front >= back {
			return
		}
		next, part := s+1, front
		if fromBack {
			next, part = s-1<<16, back-1
		}
		if !j.state.CompareAndSwap(s, next) {
			continue
		}
		j.task.runPart(int(part))
		j.done.Add(1)
	}
}

type teamWorker struct {
	gen    atomic.Uint64 // generation to join, 0 when none
	parked atomic.Bool
	// running is set while the goroutine runs (working or spinning): a
	// worker that has been sent a wake-up is no longer parked but takes
	// 100-150 µs to run, and a call handed to it meanwhile waits for it.
	running atomic.Bool
	wake    chan struct{} // buffered 1
	// rounds counts the times the worker went round its loop (after a job
	// or a wake-up): tests see through it that a Wake got through.
	rounds atomic.Uint64
}

func (w *teamWorker) loop() {
	for {
		w.running.Store(true)
		w.rounds.Add(1)
		if g := w.gen.Swap(0); g != 0 {
			team.job.work(g, true)
			continue
		}
		start := time.Now()
		for w.gen.Load() == 0 && time.Since(start) < teamSpin {
			runtime.Gosched()
		}
		if w.gen.Load() != 0 {
			continue
		}
		w.running.Store(false)
		w.parked.Store(true)
		if w.gen.Load() != 0 {
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

func (w *teamWorker) submit(gen uint64) {
	w.gen.Store(gen)
	if w.parked.CompareAndSwap(true, false) {
		w.wake <- struct{}{}
	}
}

var team struct {
	mu      sync.Mutex // held while a parallel call uses the workers
	size    atomic.Int32
	grow    sync.Mutex // guards workers
	workers []*teamWorker
	list    atomic.Pointer[[]*teamWorker] // workers as of the last SetThreads
	job     teamJob
	gen     uint64 // last generation (team.mu)
	tasks   teamTasks
}

// teamTasks is the storage for the task of the parallel call in progress
// (guarded by team.mu): a task kept there rather than on the caller's stack
// costs no allocation when the workers are handed a pointer to it.
type teamTasks struct {
	gemm   gemmPar
	gemv   gemvPar
	user   userTask
	step   lockstep
	adam   adamTask
	pack   packTask
	sqDiff sqDiffTask
}

// Task is work split into parts for Parallel: RunPart(p) for each part p.
// What a part computes must not depend on which thread runs it.
type Task interface{ RunPart(part int) }

// userTask adapts a Task to the team.
type userTask struct{ t Task }

func (u *userTask) runPart(p int) { u.t.RunPart(p) }

// Parallel runs task.RunPart(p) for p = 0..parts-1, each exactly once, and
// returns when all are done. The parts run on the worker team, the caller
// working too; when the team has one thread or another call holds it, the
// caller runs every part itself, in order. A part may call the kernels
// (they then run on the calling thread alone). Parallel allocates nothing
// when task is a pointer.
//
// It is meant for fine-grained lockstep loops such as a batch-of-one
// recurrent layer split over two cores, one call per time step: a worker
// stays awake (spinning) for a while after each call, so back-to-back calls
// cost a fraction of a microsecond each; the first call after an idle
// spell waits for nobody (the caller runs the parts the sleeping worker has
// not claimed).
func Parallel(parts int, task Task) {
	if parts <= 1 || !lockTeam() {
		for p := 0; p < parts; p++ {
			task.RunPart(p)
		}
		return
	}
	u := &team.tasks.user
	u.t = task
	runLocked(parts, u)
	u.t = nil
	unlockTeam()
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
	ws := team.workers
	team.list.Store(&ws)
	team.size.Store(int32(n))
	team.grow.Unlock()
}

// AllowThreads raises GOMAXPROCS to at least n, so that SetThreads(n)
// gives the team n threads even on fewer cores (what tests of results
// that must not depend on the thread count need: correctness, not speed),
// and returns a function that puts GOMAXPROCS and the thread count back.
func AllowThreads(n int) (restore func()) {
	oldThreads := Threads()
	oldProcs := runtime.GOMAXPROCS(max(n, runtime.GOMAXPROCS(0)))
	return func() {
		runtime.GOMAXPROCS(oldProcs)
		SetThreads(oldThreads)
	}
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

// activeWorkers returns the workers a call of the current team size uses,
// at most limit of them. It reads a snapshot of the worker list (SetThreads
// publishes one after growing it), so the small products of a step loop,
// which ask teamAwake at every step from both cores at once, take no lock.
func activeWorkers(limit int) []*teamWorker {
	p := team.list.Load()
	if p == nil {
		return nil
	}
	ws := *p
	return ws[:min(int(team.size.Load())-1, limit, len(ws))]
}

// teamAwake reports whether every worker is awake (spinning after a
// recent call, or running one): a parallel call then costs a fraction of
// a microsecond to hand off instead of a wake-up of 100-150 µs, so much
// smaller products pay for a split. A worker woken (by a call or Wake)
// but not yet running does not count.
func teamAwake() bool { return workersAwake(maxParts) }

// workersAwake is teamAwake for the first n workers of the team, those a
// call of n+1 parts hands its parts to.
func workersAwake(n int) bool {
	ws := activeWorkers(n)
	if len(ws) == 0 {
		return false
	}
	for _, w := range ws {
		if !w.running.Load() {
			return false
		}
	}
	return true
}

// wakeGen is the generation Wake hands a parked worker: never a real
// one (those are below 1<<32), so the worker finds nothing to claim, then
// spins for teamSpin waiting for the next call as after any job.
const wakeGen = 1 << 32

// Wake starts the team's parked workers without waiting for them, so that
// the small products of a loop about to begin (the time steps of a
// recurrent layer's backward, which follows a pause for the loss) split
// (see teamAwake) once the workers run, 100-150 µs later, instead of
// running on the caller until a product large enough to wake a worker
// itself comes, and then waiting for it. A worker woken for nothing parks
// again after teamSpin. Wake does nothing while another
// call holds the team (its workers are awake then) or with one thread.
func Wake() {
	if Threads() <= 1 || !team.mu.TryLock() {
		return
	}
	ws := activeWorkers(maxParts)
	for _, w := range ws {
		// Not running: parked, about to park, or woken and not yet
		// scheduled; submit handles each (a second token is never sent).
		if !w.running.Load() {
			w.submit(wakeGen)
		}
	}
	team.mu.Unlock()
}

// lockTeam takes the team for one parallel call, reporting false when it
// has one thread or another call holds it (the caller then runs its work
// alone). On true the caller owns team.tasks until unlockTeam.
func lockTeam() bool {
	return Threads() > 1 && team.mu.TryLock()
}

func unlockTeam() { team.mu.Unlock() }

// runLocked runs task.runPart(0..parts-1), each part exactly once, on the
// team, which the caller holds (lockTeam).
func runLocked(parts int, task teamTask) {
	if parts <= 1 {
		if parts == 1 {
			task.runPart(0)
		}
		return
	}
	if parts > maxParts {
		panic("kernel: too many parts in a parallel call")
	}
	j := &team.job
	team.gen++
	if team.gen >= 1<<32 {
		team.gen = 1
	}
	gen := team.gen
	j.task = task
	j.done.Store(0)
	j.state.Store(gen<<32 | uint64(parts)<<16)
	ws := activeWorkers(parts - 1)
	for _, w := range ws {
		w.submit(gen)
	}
	j.work(gen, false)
	for j.done.Load() < int64(parts) {
		runtime.Gosched()
	}
	j.task = nil
}

// parallel runs fn(0..parts-1), each part exactly once, on the team; when
// the team is busy or has one thread, the caller runs every part itself.
// It allocates (fn escapes): kernels use lockTeam and runLocked with a task
// in team.tasks instead.
func parallel(parts int, fn func(part int)) {
	if parts <= 1 || !lockTeam() {
		for p := 0; p < parts; p++ {
			fn(p)
		}
		return
	}
	defer unlockTeam()
	runLocked(parts, funcTask(fn))
}

// StepTask is a loop of several parts run in lockstep by Lockstep.
type StepTask interface {
	// Step runs part p of step s. The parts of a step run at the same
	// time, normally each on its own thread, part p > 0 always on the
	// same one; what they compute must not depend on the thread.
	Step(p, s int)
	// After runs on the calling thread once every part of step s is
	// done, before step s+1 starts.
	After(s int)
}

// MaxLockstepParts bounds the parts of a Lockstep loop.
const MaxLockstepParts = 64

// Lockstep runs task over steps in parts parts (1 <= parts <=
// MaxLockstepParts): for s = 0..steps-1, Step(p, s) for every part p side
// by side, then After(s). Part 0 runs on the caller; each other part on
// one worker of the team for the whole loop (so the data it touches stays
// in its core's cache), which waits for each step by spinning, not through
// the scheduler: a step's hand-off is a cache-line transfer from the
// caller to each worker and one back. The caller runs a part itself, in
// order after its own, when no worker took it (the team has fewer threads
// than parts, or shrank). When the parts' workers (the team's first
// parts-1) are not awake at the start (parked after an idle spell: waking
// one costs far more than a step; BENCHMARKS.md has the figure), when the
// team has one thread, or when another
// call holds it, the caller runs every step itself. Lockstep allocates
// nothing when task is a pointer.
func Lockstep(steps, parts int, task StepTask) {
	if steps <= 0 {
		return
	}
	if parts < 1 || parts > MaxLockstepParts {
		panic("kernel: Lockstep parts out of range")
	}
	if parts == 1 || !workersAwake(parts-1) || !lockTeam() {
		for s := 0; s < steps; s++ {
			for p := 0; p < parts; p++ {
				task.Step(p, s)
			}
			task.After(s)
		}
		return
	}
	l := &team.tasks.step
	l.task, l.steps, l.parts = task, steps, parts
	l.pub.n.Store(0)
	for p := range parts {
		l.done[p].n.Store(0)
		l.joined[p].Store(false)
		l.solo[p] = false
	}
	runLocked(parts, l)
	l.task = nil
	unlockTeam()
}

// paddedCounter is a counter alone on its cache line (on each side of it),
// so that the threads' flags do not share a line.
type paddedCounter struct {
	_ [64]byte
	n atomic.Int64
	_ [56]byte
}

// lockstep is Lockstep's shared state: pub (written by the caller only)
// is the number of steps published, done[p] (written by part p's thread
// only) the number whose part p is finished; pub = -1 ends the loop.
// joined[p] is set by the worker that runs part p when it starts; solo[p]
// (the caller's) marks a part the caller took over.
type lockstep struct {
	task   StepTask
	steps  int
	parts  int
	pub    paddedCounter
	done   [MaxLockstepParts]paddedCounter
	joined [MaxLockstepParts]atomic.Bool
	solo   [MaxLockstepParts]bool
}

// runPart is the caller's loop (part 0) or a worker's (part p > 0).
func (l *lockstep) runPart(p int) {
	if p > 0 {
		l.follow(p)
		return
	}
	for s := 0; s < l.steps; s++ {
		l.pub.n.Store(int64(s + 1))
		l.task.Step(0, s)
		for q := 1; q < l.parts; q++ {
			for !l.solo[q] && l.done[q].n.Load() <= int64(s) {
				if !l.joined[q].Load() {
					l.takeOver()
				}
			}
			if l.solo[q] {
				l.task.Step(q, s)
			}
		}
		l.task.After(s)
	}
	l.pub.n.Store(-1)
}

// takeOver claims for the caller a part no worker has claimed, if there
// is one (the last such, as workers claim from the back), and marks it
// solo: no worker came for it (the team has fewer threads than parts, or
// shrank under us), so the caller runs it from now on. A part left
// unclaimed has run no step, and the caller gets past step 0 only once
// every part has run it, so a part is only ever taken over at step 0;
// it is at or after the part the caller waits for, whose turn in the
// caller's loop runs it.
func (l *lockstep) takeOver() {
	j := &team.job
	st := j.state.Load()
	front, back := st&0xffff, st>>16&0xffff
	if st>>32 != team.gen || front >= back || !j.state.CompareAndSwap(st, st-1<<16) {
		return
	}
	j.done.Add(1)
	l.solo[back-1] = true
}

// follow is part p's loop on a worker: its step of each step as it is
// published.
func (l *lockstep) follow(p int) {
	l.joined[p].Store(true)
	for s := 0; ; s++ {
		var pub int64
		for {
			if pub = l.pub.n.Load(); pub < 0 || pub > int64(s) {
				break
			}
		}
		if pub < 0 {
			return
		}
		l.task.Step(p, s)
		l.done[p].n.Store(int64(s + 1))
	}
}
