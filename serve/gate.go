package serve

import (
	"context"
	"sync"
)

// gate counts the batches computing and lets a batch start by its kind
// (see batch.go, "Slots"): one that can still take requests only while
// fewer than open batches compute, one the batcher has closed while
// fewer than all do.
type gate struct {
	open, all int
	mu        sync.Mutex
	busy      int
	wake      chan struct{} // closed (and replaced) when busy falls
}

func newGate(concurrency int) *gate {
	return &gate{open: max(1, concurrency/2), all: concurrency, wake: make(chan struct{})}
}

// enter waits until the batch may compute, until ctx ends; closed is
// closed once the batch takes no more requests. It reports whether the
// batch entered; one that did calls leave when done.
func (g *gate) enter(ctx context.Context, closed <-chan struct{}) bool {
	for {
		ok, wake := g.try(closed)
		if ok {
			return true
		}
		select {
		case <-wake:
		case <-closed:
		case <-ctx.Done():
			return false
		}
	}
}

// try enters the batch if it may compute now; if not, wake is closed
// when it should try again.
func (g *gate) try(closed <-chan struct{}) (ok bool, wake <-chan struct{}) {
	g.mu.Lock()
	defer g.mu.Unlock()
	limit := g.open
	select {
	case <-closed:
		limit = g.all
	default:
	}
	if g.busy < limit {
		g.busy++
		return true, nil
	}
	return false, g.wake
}

// leave ends a batch's computation and wakes the waiting batches.
func (g *gate) leave() {
	g.mu.Lock()
	g.busy--
	close(g.wake)
	g.wake = make(chan struct{})
	g.mu.Unlock()
}
