package mpi

import (
	"fmt"
	"sync/atomic"
	"time"
)

// Error is a failed MPI call.
type Error struct {
	Op   string // "allreduce", "bcast", ...
	Rank int
	Code int    // the MPI error code
	Msg  string // MPI_Error_string
}

func (e *Error) Error() string {
	return fmt.Sprintf("mpi: rank %d: %s: %s (code %d)", e.Rank, e.Op, e.Msg, e.Code)
}

// maxCount is the largest element count passed to one MPI call (counts
// are C ints); longer buffers go in several calls.
const maxCount = 1 << 30

// watch is the watchdog's view of the collective in progress.
type watch struct {
	since atomic.Int64           // start of the call in progress (UnixNano), 0 when none
	op    atomic.Pointer[string] // its name
	limit time.Duration
	stop  chan struct{}
}

// begin marks the start of a collective.
func (w *watch) begin(op *string) {
	w.op.Store(op)
	w.since.Store(time.Now().UnixNano())
}

// end marks its end.
func (w *watch) end() { w.since.Store(0) }

// run calls onStall once when a collective has waited longer than limit,
// checking ten times per limit, until stop is closed.
func (w *watch) run(onStall func(op string, waited time.Duration)) {
	tick := time.NewTicker(max(w.limit/10, 10*time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-w.stop:
			return
		case now := <-tick.C:
			s := w.since.Load()
			if s == 0 {
				continue
			}
			if waited := now.Sub(time.Unix(0, s)); waited > w.limit {
				onStall(*w.op.Load(), waited)
				return
			}
		}
	}
}

// the names of the collectives, as the watchdog and errors give them.
var (
	opAllreduce = "allreduce"
	opBcast     = "bcast"
	opBarrier   = "barrier"
)
