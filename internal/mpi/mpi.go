//go:build mpi

package mpi

/*
#cgo pkg-config: mpi
#include <mpi.h>

static int recur_init(int *provided) {
	int flag = 0;
	MPI_Initialized(&flag);
	if (flag) {
		MPI_Query_thread(provided);
	} else {
		int rc = MPI_Init_thread(NULL, NULL, MPI_THREAD_SERIALIZED, provided);
		if (rc != MPI_SUCCESS) return rc;
	}
	return MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
}
static int recur_rank(int *r) { return MPI_Comm_rank(MPI_COMM_WORLD, r); }
static int recur_size(int *s) { return MPI_Comm_size(MPI_COMM_WORLD, s); }
static int recur_allreduce_f32(float *buf, int n) {
	return MPI_Allreduce(MPI_IN_PLACE, buf, n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
}
static int recur_allreduce_f64(double *buf, int n) {
	return MPI_Allreduce(MPI_IN_PLACE, buf, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
}
static int recur_bcast(char *buf, int n, int root) { return MPI_Bcast(buf, n, MPI_BYTE, root, MPI_COMM_WORLD); }
static int recur_barrier(void) { return MPI_Barrier(MPI_COMM_WORLD); }
static void recur_abort(int code) { MPI_Abort(MPI_COMM_WORLD, code); }
static int recur_finalize(void) { return MPI_Finalize(); }
static int recur_thread_serialized(void) { return MPI_THREAD_SERIALIZED; }
static void recur_error_string(int code, char *buf, int *n) {
	if (MPI_Error_string(code, buf, n) != MPI_SUCCESS) *n = 0;
}
*/
import "C"

import (
	"fmt"
	"sync"
	"time"
	"unsafe"
)

// Enabled reports whether this build calls the MPI library (tag mpi).
const Enabled = true

// World is the job's world communicator. Its methods may be called from
// any goroutine; they take turns.
type World struct {
	mu         sync.Mutex
	rank, size int
	watch      watch
	done       bool
}

// Init joins the MPI job (MPI_Init_thread with MPI_THREAD_SERIALIZED;
// errors are returned rather than fatal). A process not started by mpirun
// is a job of one (MPI's singleton start).
func Init() (*World, error) {
	var provided C.int
	if rc := C.recur_init(&provided); rc != 0 {
		return nil, mpiErr("init", -1, rc)
	}
	if provided < C.recur_thread_serialized() {
		return nil, fmt.Errorf("mpi: the MPI library offers thread level %d, recur needs MPI_THREAD_SERIALIZED", int(provided))
	}
	var r, s C.int
	if rc := C.recur_rank(&r); rc != 0 {
		return nil, mpiErr("rank", -1, rc)
	}
	if rc := C.recur_size(&s); rc != 0 {
		return nil, mpiErr("size", int(r), rc)
	}
	return &World{rank: int(r), size: int(s)}, nil
}

func mpiErr(op string, rank int, rc C.int) error {
	var buf [512]C.char
	var n C.int
	C.recur_error_string(rc, &buf[0], &n)
	return &Error{Op: op, Rank: rank, Code: int(rc), Msg: C.GoStringN(&buf[0], n)}
}

// Rank returns this process's rank, 0 <= Rank < Size.
func (w *World) Rank() int { return w.rank }

// Size returns the number of processes in the job.
func (w *World) Size() int { return w.size }

// call runs one collective under the lock and the watchdog's eye.
func (w *World) call(op *string, f func() C.int) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return fmt.Errorf("mpi: %s after Finalize", *op)
	}
	w.watch.begin(op)
	rc := f()
	w.watch.end()
	if rc != 0 {
		return mpiErr(*op, w.rank, rc)
	}
	return nil
}

// AllreduceF32 replaces buf on every rank by the element-wise sum of
// every rank's buf (MPI_Allreduce, MPI_SUM, in place). Every rank passes
// the same length.
func (w *World) AllreduceF32(buf []float32) error {
	return w.chunks(&opAllreduce, len(buf), func(off, n int) C.int { return C.recur_allreduce_f32((*C.float)(&buf[off]), C.int(n)) })
}

// AllreduceF64 is AllreduceF32 for float64.
func (w *World) AllreduceF64(buf []float64) error {
	return w.chunks(&opAllreduce, len(buf), func(off, n int) C.int { return C.recur_allreduce_f64((*C.double)(&buf[off]), C.int(n)) })
}

// Bcast copies root's buf into every other rank's buf (MPI_Bcast of
// bytes). Every rank passes the same length.
func (w *World) Bcast(buf []byte, root int) error {
	return w.chunks(&opBcast, len(buf), func(off, n int) C.int {
		return C.recur_bcast((*C.char)(unsafe.Pointer(&buf[off])), C.int(n), C.int(root))
	})
}

// chunks runs f over [0, n) in calls of at most maxCount elements. The
// buffers are passed as typed pointers: cgo checks only their elements,
// which hold no pointers, even when a buffer is a field of a struct that
// does.
func (w *World) chunks(op *string, n int, f func(off, n int) C.int) error {
	for off := 0; off < n; off += maxCount {
		k := min(n-off, maxCount)
		if err := w.call(op, func() C.int { return f(off, k) }); err != nil {
			return err
		}
	}
	return nil
}

// Barrier returns once every rank has called it.
func (w *World) Barrier() error {
	return w.call(&opBarrier, func() C.int { return C.recur_barrier() })
}

// Abort ends every process of the job with exit status code
// (MPI_Abort). It does not return. It may be called while another
// goroutine waits in a collective.
func (w *World) Abort(code int) {
	C.recur_abort(C.int(code))
	select {} // MPI_Abort does not return; if it did, wait to be killed
}

// Watchdog calls onStall (from its own goroutine) when one collective has
// waited longer than limit for the other ranks, which happens when a rank
// died or hangs; a nil onStall aborts the job with status 1. A collective
// waits for the slowest rank, so limit must exceed the longest work one
// rank does alone between two of them (a checkpoint write, say).
func (w *World) Watchdog(limit time.Duration, onStall func(op string, waited time.Duration)) {
	if onStall == nil {
		onStall = func(string, time.Duration) { w.Abort(1) }
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.watch.stop != nil {
		close(w.watch.stop)
	}
	w.watch.limit, w.watch.stop = limit, make(chan struct{})
	go w.watch.run(onStall)
}

// Finalize leaves the job (MPI_Finalize) and stops the watchdog. Every
// rank calls it once, last.
func (w *World) Finalize() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.done {
		return nil
	}
	w.done = true
	if w.watch.stop != nil {
		close(w.watch.stop)
		w.watch.stop = nil
	}
	if rc := C.recur_finalize(); rc != 0 {
		return mpiErr("finalize", w.rank, rc)
	}
	return nil
}
