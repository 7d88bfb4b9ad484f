package serve

import (
	"sync/atomic"
	"time"
)

// workers runs functions on goroutines it keeps: a computation needs a
// deep stack (the kernels' frames), and a goroutine started for each
// batch or prediction grows its stack from the start size, copying it
// at every doubling, each time; one kept between computations has it
// already (the garbage collector may shrink an idle goroutine's stack,
// but at most once per cycle, not once per request). A goroutine idle
// for the idle time ends, so a Server that is no longer used, or a model
// swapped out, leaves none behind for long.
type workers struct {
	idle  chan func() // a send succeeds when a kept goroutine waits
	after time.Duration
	live  atomic.Int64 // goroutines kept or running
}

// workerIdle is how long a kept goroutine waits for work before it ends.
const workerIdle = 10 * time.Second

func newWorkers(after time.Duration) *workers {
	return &workers{idle: make(chan func()), after: after}
}

// do runs f on a waiting goroutine, or on a new one when none waits.
func (w *workers) do(f func()) {
	select {
	case w.idle <- f:
	default:
		w.live.Add(1)
		go w.loop(f)
	}
}

// loop runs f and then whatever do hands it, until it has waited
// w.after for work.
func (w *workers) loop(f func()) {
	defer w.live.Add(-1)
	t := time.NewTimer(w.after)
	defer t.Stop()
	for {
		f()
		t.Reset(w.after)
		select {
		case f = <-w.idle:
		case <-t.C:
			return
		}
	}
}
